#!/usr/bin/env node
// Checks a DocumentDB change before it reaches the cluster, with the rules of
// the Kubewarden policy (the same Rust code, built by `make web`).
//
//   node crates/upgrade-checker/check.mjs [--settings FILE] [--json] [CURRENT] DESIRED
//
// CURRENT is the object in the cluster (`kubectl get documentdb NAME -o yaml`, '-' for
// stdin); leave it out for a new cluster. DESIRED is the manifest to apply.
// Exit status: 0 allowed, 1 denied, 2 nothing checked (unusable input or
// settings, or no DocumentDB in DESIRED).

import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: node crates/upgrade-checker/check.mjs [--settings FILE] [--json] [CURRENT] DESIRED

Checks applying DESIRED over CURRENT with the rules of the documentdb-upgrade-safety
Kubewarden policy, before the change reaches the cluster.

  CURRENT          the object in the cluster: kubectl get documentdb NAME -n NS -o yaml > current.yaml
                   ('-' reads it from stdin); leave it out for a new cluster
  DESIRED          the manifest you are about to apply (YAML or JSON; several documents are fine)
  --settings FILE  the policy settings, as in the ClusterAdmissionPolicy's spec.settings
  --json           print the full report as JSON instead of text

Exit status: 0 allowed, 1 denied, 2 nothing checked: unusable input or settings,
or DESIRED holds no DocumentDB (the report still says what the policy would answer).
On GitHub Actions (GITHUB_ACTIONS=true) the verdict is also printed as ::error / ::warning.`;

function parseArgs(argv) {
  const args = { json: false, settings: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    else if (arg === '--json') args.json = true;
    else if (arg === '--settings') {
      if (i + 1 >= argv.length) throw new Error('--settings needs a file');
      args.settings = argv[++i];
    } else if (arg.startsWith('--settings=')) args.settings = arg.slice('--settings='.length);
    else if (arg.startsWith('-') && arg !== '-') throw new Error(`unknown option ${arg}`);
    else args.files.push(arg);
  }
  if (args.settings === '') throw new Error('--settings needs a file');
  if (args.files.length < 1 || args.files.length > 2) {
    throw new Error('give the desired manifest, and before it the current object for an update');
  }
  const fromStdin = [...args.files, args.settings].filter((f) => f === '-').length;
  if (fromStdin > 1) throw new Error("only one input can be '-' (stdin)");
  return args;
}

async function readInput(path) {
  if (path === '-') {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(path, 'utf8');
}

/** GitHub Actions workflow commands: data must have %, CR and LF escaped. */
function annotation(level, text) {
  const data = text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
  return `::${level} title=DocumentDB upgrade check::${data}`;
}

export function formatReport(report) {
  const lines = [];
  const verdict = {
    allowed: 'ALLOWED',
    denied: `DENIED (${report.code})`,
    'not-applicable': 'NOT CHECKED (the policy lets it through)',
    'settings-refused': 'INVALID SETTINGS',
    'input-error': 'INVALID INPUT',
  }[report.outcome] ?? report.outcome;
  lines.push(report.message ? `${verdict}: ${report.message}` : verdict);
  for (const warning of report.warnings ?? []) lines.push(`  warning: ${warning}`);
  for (const note of report.notes ?? []) lines.push(`  note: ${note}`);
  if (report.operation) {
    const binary = report.binaryVersion
      ? `${report.binaryVersion.version} (from ${report.binaryVersion.source})`
      : 'unknown';
    const installed = report.operation === 'CREATE' ? 'none (new cluster)' : report.installedSchemaVersion ?? 'unknown';
    // JSON-quoted: a name is user input and must not start a line of its own
    // (on GitHub Actions, a line starting with :: is a workflow command).
    const name = report.name == null ? '' : ` ${JSON.stringify(report.name)}`;
    lines.push(`${report.operation}${name}: binary ${binary}, installed schema ${installed}`);
  }
  const timeline = report.timeline;
  if (timeline) {
    const steps = timeline.steps.map((step) => {
      const value = step.changed ? `${step.from ?? 'none'} → ${step.to ?? 'none'}` : step.to ?? 'none';
      return `${step.name} ${value}${step.changed ? ' (this change)' : ''}`;
    });
    lines.push(`timeline: ${steps.join('  ▸  ')}`);
    lines.push(`this change: ${timeline.summary}`);
    lines.push(`next safe step: ${timeline.nextStep}`);
  }
  return lines.join('\n');
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const wasmFile = fileURLToPath(new URL('./pkg/upgrade_checker_bg.wasm', import.meta.url));
  if (!existsSync(wasmFile)) {
    console.error(`error: ${wasmFile} is missing: build it with \`make web\``);
    return 2;
  }
  const { loadEngine, exitCode } = await import('./engine.mjs');
  let current = '';
  let desired;
  let settings = '';
  try {
    const files = args.files;
    if (files.length === 2) {
      current = await readInput(files[0]);
      // An empty CURRENT would silently make this a CREATE and skip the
      // rollback rule: typically `kubectl get` failed in a pipe.
      if (current.trim() === '') {
        const source = files[0] === '-' ? 'stdin' : files[0];
        throw new Error(`the current object (${source}) is empty; leave CURRENT out to check a new cluster`);
      }
    }
    desired = await readInput(files[files.length - 1]);
    if (args.settings !== null) settings = await readInput(args.settings);
  } catch (error) {
    console.error(`error: ${error.message}`);
    return 2;
  }
  let report;
  try {
    const engine = await loadEngine();
    report = engine.check(current, desired, settings);
  } catch (error) {
    // A trap in the engine (it should not happen: inputs are bounded) is not a verdict.
    console.error(`error: the rule engine failed: ${error.message}`);
    return 2;
  }
  console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (process.env.GITHUB_ACTIONS === 'true') {
    if (!report.allowed) console.log(annotation('error', report.message ?? report.outcome));
    for (const warning of report.warnings ?? []) console.log(annotation('warning', warning));
  }
  return exitCode(report);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
