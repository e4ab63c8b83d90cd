// The e2e case table with the Kubewarden module's own answers, shared by the
// table tests (cases.test.mjs) and the browser test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RUNNER = join(REPO, 'target/debug/policy-runner');

// Cases that are not a change between two documents, and why; the table test
// fails if this list (with the dbs/status writes, see isStatusWrite) and the
// table disagree.
export const NOT_TWO_DOCUMENTS = new Map([
  ['other-delete', 'a DELETE has no desired object'],
  ['malformed-create-without-object', 'a request without its object'],
  ['malformed-update-without-old-object', 'an UPDATE request without its oldObject'],
]);

export function moduleCases() {
  for (const file of [RUNNER, join(REPO, 'policy.wasm')]) {
    assert.ok(existsSync(file), `${file} is missing: run \`make web-tests\` (it builds the module and the runner)`);
  }
  const lines = execFileSync(RUNNER, ['cases', '--evaluate', 'policy.wasm', 'e2e/cases.yaml'], {
    cwd: REPO,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return lines.trim().split('\n').map((line) => JSON.parse(line));
}

// The module is evaluated here without context-aware access (no --metadata-path:
// cases with a session get none, as under kwctl without the metadata), which is
// the web build's situation: it has no cluster either (NoCluster). Where the
// module says why it could not read the cluster (Kubewarden's refusal), the
// web build gives its own reason, NO_CLUSTER; every other byte must agree. The
// verdicts with the cluster's answers are the e2e suite's (make e2e-tests).
const NOT_GRANTED = /Policy has not been granted access to Kubernetes \S+ resources\. The violation has been reported\./g;
export const NO_CLUSTER =
  'no cluster to ask: this build of the policy cannot read the cluster (the policy deployed in the cluster checks this at admission)';

/** The module's answer in the engine's terms, as the web build (no cluster) must give it. */
export function moduleDecision(outcome) {
  if (outcome.settingsRefused !== undefined) return { settingsRefused: outcome.settingsRefused };
  const response = outcome.response;
  return {
    allowed: response.allowed,
    code: response.status?.code ?? null,
    message: response.status?.message ?? null,
    warnings: (response.warnings ?? []).map((warning) => warning.replace(NOT_GRANTED, NO_CLUSTER)),
  };
}

export const decisionOf = ({ allowed, code, message, warnings }) => ({ allowed, code, message, warnings });

export function requestOf(testCase) {
  const document = JSON.parse(readFileSync(join(REPO, testCase.request), 'utf8'));
  return document.kind === 'AdmissionReview' ? document.request : document;
}

/** A dbs/status write: the operator writes status, no manifest does. */
export const isStatusWrite = (request) => request.subResource === 'status';

/** `[current, desired]` when the request is an apply of one document over another. */
export function asDocuments(request) {
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (request.subResource || !['CREATE', 'UPDATE'].includes(request.operation)) return null;
  if (!isObject(request.object)) return null;
  if (request.operation === 'UPDATE') return isObject(request.oldObject) ? [request.oldObject, request.object] : null;
  return [null, request.object];
}

/** What check() reports must be what the module answered. */
export function assertSameAsModule(report, expected, name) {
  if (expected.settingsRefused !== undefined) {
    assert.equal(report.outcome, 'settings-refused', name);
    assert.equal(report.message, `the policy settings are invalid: ${expected.settingsRefused}`, name);
  } else {
    assert.deepEqual(decisionOf(report), expected, name);
  }
}


const isBlock = (value) =>
  value !== null && typeof value === 'object' && Object.keys(value).length > 0;

/**
 * `value` as block-style YAML, the way users paste objects: every key and
 * string double-quoted (JSON's escapes are valid in YAML's double-quoted
 * scalars), so that the YAML path gets exactly the JSON data.
 */
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const inline = (item) => (Array.isArray(item) ? '[]' : item !== null && typeof item === 'object' ? '{}' : JSON.stringify(item));
  if (Array.isArray(value) && value.length > 0) {
    return value
      .map((item) => (isBlock(item) ? `${pad}-\n${toYaml(item, indent + 2)}` : `${pad}- ${inline(item)}`))
      .join('\n');
  }
  if (isBlock(value)) {
    return Object.entries(value)
      .map(([key, item]) =>
        isBlock(item) ? `${pad}${JSON.stringify(key)}:\n${toYaml(item, indent + 2)}` : `${pad}${JSON.stringify(key)}: ${inline(item)}`,
      )
      .join('\n');
  }
  return pad + inline(value);
}
