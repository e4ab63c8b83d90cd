#!/usr/bin/env node
// How long one check() takes in Node (V8, the engine Chromium runs the page
// with): a typical pasted pair, and the 2 MiB objects of e2e/fixtures/bench/.
// `make bench-web`; numbers only, no target.

import { readFileSync } from 'node:fs';
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
