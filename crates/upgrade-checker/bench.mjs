#!/usr/bin/env node
// How long the checker takes, in Node (V8, the engine Chromium runs the page
// with). `make bench-web`; numbers only, no target (BENCHMARKS.md keeps them).
//
// 1. One check() of a typical pasted pair, and of the 2 MiB objects of
//    e2e/fixtures/bench/ (the page's entry point, in process).
// 2. The command a pipeline runs, as a whole process (Node start, engine
//    load, reading, checking, the report): a directory of 1,000 DocumentDB
//    manifests (one file each) with their 1,000 current objects in one List,
//    against `--version` (Node start and engine load only) measured in the
//    same run.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEngine } from './engine.mjs';

const engine = await loadEngine();
const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const large = JSON.parse(read('../../e2e/fixtures/bench/large-object.json'));
const request = large.request ?? large;

const inputs = [
  ['typical: kubectl get YAML + two-document manifest', read('examples/cluster-at-0.112.0.yaml'), read('examples/roll-back-binary-to-0.110.0.yaml'), 2000],
  ['large: 2 MiB current and desired objects (JSON)', JSON.stringify(request.oldObject), JSON.stringify(request.object), 50],
];
const wasmBytes = readFileSync(new URL('pkg/upgrade_checker_bg.wasm', import.meta.url)).length;
console.log(`crates/upgrade-checker/pkg module: ${wasmBytes} bytes`);
for (const [name, current, desired, runs] of inputs) {
  const outcome = engine.check(current, desired, '').outcome;
  for (let i = 0; i < Math.min(runs, 50); i++) engine.check(current, desired, '');
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) engine.check(current, desired, '');
  const micros = Number(process.hrtime.bigint() - start) / runs / 1e3;
  console.log(`${name}: ${micros.toFixed(1)} µs per check (mean of ${runs}; outcome ${outcome})`);
}

// ------------------------------------------------------------ the command
const MANIFESTS = 1000;

/** `count` clusters in `dir`/manifests (one file each, every tenth a rollback) and their current List. */
function writeFleet(dir, count = MANIFESTS) {
  mkdirSync(join(dir, 'manifests'));
  const items = [];
  for (let i = 0; i < count; i++) {
    const name = `cluster-${String(i).padStart(4, '0')}`;
    const desired = i % 10 === 0 ? '0.110.0' : '0.112.0';
    writeFileSync(
      join(dir, 'manifests', `${name}.yaml`),
      `apiVersion: documentdb.io/preview\nkind: DocumentDB\nmetadata:\n  name: ${name}\n  namespace: fleet\nspec:\n` +
        `  nodeCount: 1\n  instancesPerNode: 1\n  documentDBVersion: "${desired}"\n  resource:\n    storage:\n      pvcSize: 10Gi\n`,
    );
    items.push(
      `- apiVersion: documentdb.io/preview\n  kind: DocumentDB\n  metadata:\n    name: ${name}\n    namespace: fleet\n    resourceVersion: "${1000 + i}"\n` +
        `  spec:\n    nodeCount: 1\n    instancesPerNode: 1\n    documentDBVersion: "0.112.0"\n    resource:\n      storage:\n        pvcSize: 10Gi\n` +
        `  status:\n    schemaVersion: 0.112.0\n`,
    );
  }
  writeFileSync(join(dir, 'current.yaml'), `apiVersion: v1\nitems:\n${items.join('')}kind: List\nmetadata:\n  resourceVersion: ""\n`);
}

function timeCommand(args, cwd, runs) {
  const times = [];
  let last;
  for (let i = 0; i < runs + 1; i++) {
    const start = process.hrtime.bigint();
    last = spawnSync(process.execPath, [fileURLToPath(new URL('check.mjs', import.meta.url)), ...args], { cwd, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1), last };
}

const dir = mkdtempSync(join(tmpdir(), 'checker-bench-'));
try {
  writeFleet(dir);
  const runs = 5;
  const baseline = timeCommand(['--version'], dir, runs);
  const fleet = timeCommand(['--current', 'current.yaml', 'manifests'], dir, runs);
  const summary = fleet.last.stdout.trim().split('\n').at(-1);
  console.log(`documentdb-upgrade-check --version (Node start, engine load): median ${baseline.median.toFixed(0)} ms (min ${baseline.min.toFixed(0)}, max ${baseline.max.toFixed(0)}; ${runs} runs)`);
  console.log(
    `documentdb-upgrade-check --current current.yaml manifests/ (${MANIFESTS} files, ${MANIFESTS} current objects): ` +
      `median ${fleet.median.toFixed(0)} ms (min ${fleet.min.toFixed(0)}, max ${fleet.max.toFixed(0)}; ${runs} runs) = ` +
      `${(fleet.median / baseline.median).toFixed(1)}× --version, ${((fleet.median - baseline.median) / MANIFESTS).toFixed(2)} ms per manifest beyond it; exit ${fleet.last.status}: ${summary}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
