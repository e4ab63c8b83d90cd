// The whole e2e case table (e2e/cases.yaml) through the wasm-bindgen build,
// against what the Kubewarden module itself answered for each case
// (`policy-runner cases --evaluate policy.wasm`, waPC on wasmtime):
//
//  1. every case's raw request through validateAdmission / validateSettings:
//     the same decision, field for field;
//  2. every case that is a change between two documents through check(), the
//     page's entry point: the same decision;
//  3. the same cases through `node web/check.mjs --json` as files: the same
//     decision and exit code 1 exactly on deny.

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
  moduleCases,
  moduleDecision,
  requestOf,
} from './table.mjs';

const CHECK = join(REPO, 'web/check.mjs');

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

test('every two-document case: check(), the page entry point, decides as the module', () => {
  const notDocuments = [];
  let checked = 0;
  for (const testCase of cases) {
    const documents = asDocuments(requestOf(testCase));
    if (!documents) {
      notDocuments.push(testCase.name);
      continue;
    }
    const [current, desired] = documents;
    const report = engine.check(current ? JSON.stringify(current) : '', JSON.stringify(desired), JSON.stringify(testCase.settings));
    assertSameAsModule(report, moduleDecision(testCase.outcome), testCase.name);
    checked++;
  }
  assert.deepEqual(notDocuments.sort(), [...NOT_TWO_DOCUMENTS.keys()].sort());
  assert.equal(checked + notDocuments.length, cases.length);
});

test('every two-document case: node web/check.mjs decides as the module, exit 1 exactly on deny', () => {
  const dir = mkdtempSync(join(tmpdir(), 'upgrade-check-'));
  try {
    for (const testCase of cases) {
      const documents = asDocuments(requestOf(testCase));
      if (!documents) continue;
      const [current, desired] = documents;
      const args = ['--json', '--settings', join(dir, 'settings.json')];
      writeFileSync(join(dir, 'settings.json'), JSON.stringify(testCase.settings));
      if (current) {
        writeFileSync(join(dir, 'current.json'), JSON.stringify(current));
        args.push(join(dir, 'current.json'));
      }
      writeFileSync(join(dir, 'desired.json'), JSON.stringify(desired));
      args.push(join(dir, 'desired.json'));

      const run = spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8' });
      assert.equal(run.stderr, '', testCase.name);
      const report = JSON.parse(run.stdout);
      const expected = moduleDecision(testCase.outcome);
      assertSameAsModule(report, expected, testCase.name);
      const exit = expected.settingsRefused !== undefined ? 2 : expected.allowed ? 0 : 1;
      assert.equal(run.status, exit, `${testCase.name}: exit status`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
