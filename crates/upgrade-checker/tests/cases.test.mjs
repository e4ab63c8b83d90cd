// The whole e2e case table (e2e/cases.yaml) through the wasm-bindgen build,
// against what the Kubewarden module itself answered for each case
// (`policy-runner cases --evaluate policy.wasm`, waPC on wasmtime):
//
//  1. every case's raw request through validateAdmission / validateSettings:
//     the same decision, field for field;
//  2. every case that is a change between two documents through check(), the
//     page's entry point, as JSON and as YAML: the same decision;
//  3. the same cases through `node crates/upgrade-checker/check.mjs --json` as YAML files
//     (`--current` for the stored object): the same decision, exit 0 on allow,
//     1 on deny, 2 when nothing is checked (refused settings, not a DocumentDB).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngine } from '../engine.mjs';
import {
  NOT_TWO_DOCUMENTS,
  REPO,
  asDocuments,
  assertSameAsModule,
  decisionOf,
  isStatusWrite,
  moduleCases,
  NO_CLUSTER,
  moduleDecision,
  requestOf,
  toYaml,
} from './table.mjs';

const CHECK = join(REPO, 'crates/upgrade-checker/check.mjs');

const cases = moduleCases();
const engine = await loadEngine();

test('the table is whole and the module answered every case', () => {
  assert.ok(cases.length > 50, `only ${cases.length} cases`);
  for (const testCase of cases) assert.ok(testCase.outcome, `${testCase.name}: no outcome from the module`);
});

test('every case: validateAdmission / validateSettings decide as the module', () => {
  for (const testCase of cases) {
    const expected = moduleDecision(testCase.outcome);
    const settings = engine.validateSettings(testCase.settings);
    if (expected.settingsRefused !== undefined) {
      assert.deepEqual(settings, { valid: false, message: expected.settingsRefused }, testCase.name);
      continue;
    }
    assert.deepEqual(settings, { valid: true }, testCase.name);
    const decision = engine.validateAdmission({ request: requestOf(testCase), settings: testCase.settings });
    assert.deepEqual(decisionOf(decision), expected, testCase.name);
  }
});

test('restores: without a cluster, the web build accepts and says the check is made at admission', () => {
  const restores = cases.filter((testCase) => {
    const request = requestOf(testCase);
    // A stored object (with a resourceVersion) is the audit scanner's replay:
    // no creation checks, so no restore warning to expect.
    return (
      request.operation === 'CREATE' &&
      request.object?.spec?.bootstrap?.recovery &&
      request.object?.metadata?.resourceVersion === undefined
    );
  });
  assert.ok(restores.length >= 8, `only ${restores.length} restore cases`);
  for (const testCase of restores) {
    if (testCase.settings_error !== undefined) continue;
    const decision = engine.validateAdmission({ request: requestOf(testCase), settings: testCase.settings });
    assert.equal(decision.allowed, true, testCase.name);
    assert.ok(
      decision.warnings.some((warning) => warning.endsWith(`schema-version compatibility cannot be verified: ${NO_CLUSTER}`)),
      `${testCase.name}: ${JSON.stringify(decision.warnings)}`,
    );
  }
});

test('YAML written by the tests reads back as the same data', () => {
  for (const testCase of cases) {
    const object = requestOf(testCase).object ?? {};
    const fromYaml = engine.check('', toYaml(object), '');
    assert.notEqual(fromYaml.outcome, 'input-error', `${testCase.name}: ${fromYaml.message}`);
    assert.deepEqual(fromYaml, engine.check('', JSON.stringify(object), ''), testCase.name);
  }
  const sample = { a: [1, { b: 'x: y', c: [] }], 'd e': { f: null, g: true, h: '0.112.0' }, i: {} };
  const yaml = toYaml(sample);
  const report = engine.check('', `${yaml}\nkind: Pod\napiVersion: v1\n`, '');
  assert.equal(report.outcome, 'not-applicable', yaml);
});

test('every two-document case: check(), the page entry point, decides as the module (JSON and YAML)', () => {
  const notDocuments = [];
  let checked = 0;
  for (const testCase of cases) {
    const documents = asDocuments(requestOf(testCase));
    if (!documents) {
      notDocuments.push(testCase.name);
      continue;
    }
    const [current, desired] = documents;
    const expected = moduleDecision(testCase.outcome);
    const fromJson = engine.check(current ? JSON.stringify(current) : '', JSON.stringify(desired), JSON.stringify(testCase.settings));
    assertSameAsModule(fromJson, expected, `${testCase.name} (JSON)`);
    const fromYaml = engine.check(current ? toYaml(current) : '', toYaml(desired), toYaml(testCase.settings));
    assertSameAsModule(fromYaml, expected, `${testCase.name} (YAML)`);
    assert.deepEqual(fromYaml, fromJson, `${testCase.name}: YAML and JSON reports differ`);
    checked++;
  }
  const statusWrites = cases.filter((testCase) => isStatusWrite(requestOf(testCase))).map((testCase) => testCase.name);
  assert.ok(statusWrites.length >= 7, `only ${statusWrites.length} dbs/status cases`);
  assert.deepEqual(notDocuments.sort(), [...NOT_TWO_DOCUMENTS.keys(), ...statusWrites].sort());
  assert.equal(checked + notDocuments.length, cases.length);
});

test('every two-document case: node crates/upgrade-checker/check.mjs on YAML files decides as the module; exit 0 / 1 / 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'upgrade-check-'));
  try {
    for (const testCase of cases) {
      const documents = asDocuments(requestOf(testCase));
      if (!documents) continue;
      const [current, desired] = documents;
      const args = ['--json', '--settings', join(dir, 'settings.yaml')];
      writeFileSync(join(dir, 'settings.yaml'), toYaml(testCase.settings));
      if (current) {
        writeFileSync(join(dir, 'current.yaml'), toYaml(current));
        args.push('--current', join(dir, 'current.yaml'));
      }
      writeFileSync(join(dir, 'desired.yaml'), toYaml(desired));
      args.push(join(dir, 'desired.yaml'));

      const run = spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8' });
      assert.equal(run.stderr, '', testCase.name);
      const report = JSON.parse(run.stdout);
      const expected = moduleDecision(testCase.outcome);
      const isDocumentDb = desired.kind === 'DocumentDB' && (desired.apiVersion ?? 'documentdb.io/').startsWith('documentdb.io/');
      if (expected.settingsRefused !== undefined) {
        // The policy would not load: nothing is checked.
        assert.deepEqual(report.settings, {
          source: join(dir, 'settings.yaml'),
          valid: false,
          message: `the policy settings are invalid: ${expected.settingsRefused}`,
        }, testCase.name);
        assert.deepEqual(report.objects, [], testCase.name);
        assert.equal(run.status, 2, `${testCase.name}: exit status`);
      } else if (!isDocumentDb) {
        // Not a DocumentDB: the module lets it through unread; the checker skips it, and nothing checked is exit 2.
        assert.equal(expected.allowed, true, testCase.name);
        assert.equal(report.objects.length, 0, testCase.name);
        assert.equal(report.summary.skipped, 1, testCase.name);
        assert.equal(run.status, 2, `${testCase.name}: exit status`);
      } else {
        assert.equal(report.objects.length, 1, `${testCase.name}: ${run.stdout}`);
        assertSameAsModule(report.objects[0], expected, testCase.name);
        assert.equal(report.objects[0].operation, current ? 'UPDATE' : 'CREATE', testCase.name);
        assert.equal(run.status, expected.allowed ? 0 : 1, `${testCase.name}: exit status`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
