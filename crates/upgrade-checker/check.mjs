#!/usr/bin/env node
// Checks DocumentDB changes before they reach the cluster, with the rules of
// the Kubewarden policy (the same Rust code, built by `make web`): every
// DocumentDB in the given manifests, paired with the objects in the cluster.
// Installed from the release's package as `documentdb-upgrade-check`; in the
// repository, `node crates/upgrade-checker/check.mjs` with the same arguments.

import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const USAGE = `usage: documentdb-upgrade-check [--current PATH]... [--policy FILE | --settings FILE] [--cluster PATH]...
                                [--namespace NS] [--json] PATH...

Checks every DocumentDB in the manifests you are about to apply with the rules of the
documentdb-upgrade-safety Kubewarden policy, before the change reaches the cluster.

  PATH            the manifests you are about to apply: files, directories (recursively: *.yaml, *.yml, *.json),
                  or '-' for stdin (e.g. \`helm template … | documentdb-upgrade-check -\`)
  --current PATH  the objects in the cluster (\`kubectl get documentdb -A -o yaml\`, a List, files or folders);
                  paired with the desired objects by namespace/name: a pair is an UPDATE, a desired object
                  without a current one a CREATE
  --policy FILE   a ClusterAdmissionPolicy or AdmissionPolicy manifest: its spec.settings are used
  --settings FILE the settings alone (as in the policy's spec.settings)
  --cluster PATH  Backups, PersistentVolumes and Nodes as files (\`kubectl get backups.documentdb.io -A -o yaml\`, …):
                  the restore and ImageVolume checks run against them as the policy does in the cluster
  --namespace NS  the namespace of objects that name none (kubectl's default is "default")
  --json          the report as JSON
  --version       the policy version whose rules this checker carries

exit status: 0 every checked object allowed, 1 at least one denied, 2 nothing checked or unusable input
On GitHub Actions (GITHUB_ACTIONS=true) each denial and warning is also an annotation at its file and line.`;

class UsageError extends Error {}

export function parseArgs(argv) {
  const args = { current: [], cluster: [], paths: [], policy: null, settings: null, namespace: '', json: false };
  const valued = { '--current': 'current', '--cluster': 'cluster', '--policy': 'policy', '--settings': 'settings', '--namespace': 'namespace' };
  let options = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (options && arg === '--') {
      options = false;
      continue;
    }
    if (!options || arg === '-' || !arg.startsWith('-')) {
      args.paths.push(arg);
      continue;
    }
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--version') return { version: true };
    if (arg === '--json') {
      args.json = true;
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = valued[name];
    if (!key) throw new UsageError(`unknown option ${arg}`);
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
      value = argv[++i];
    }
    if (value === '') throw new UsageError(`${name} needs a value`);
    if (Array.isArray(args[key])) args[key].push(value);
    else if (args[key] !== null && args[key] !== '') throw new UsageError(`${name} is given twice`);
    else args[key] = value;
  }
  if (args.policy !== null && args.settings !== null) throw new UsageError('give --policy or --settings, not both');
  if (args.paths.length === 0) throw new UsageError('give the manifests to check (files, directories, or - for stdin)');
  const stdin = [...args.paths, ...args.current, ...args.cluster, args.policy, args.settings].filter((p) => p === '-');
  if (stdin.length > 1) throw new UsageError("only one input can be '-' (stdin)");
  return args;
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
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
  const { loadEngine } = await import('./engine.mjs');
  const { expand, isDirectory, readStdin } = await import('./inputs.mjs');
  const { annotations, formatReport } = await import('./report.mjs');
  let engine;
  try {
    engine = await loadEngine();
  } catch (error) {
    console.error(`error: the rule engine did not load: ${error.message}`);
    return 2;
  }
  if (args.version) {
    console.log(engine.policyVersion);
    return 0;
  }

  let report;
  try {
    const batch = engine.batch(args.namespace);
    const stdin = () => readStdin();
    const counter = { files: 0 };
    const add = async (method, path) => {
      for await (const input of expand(path, { stdin, counter })) {
        if (input.error !== undefined) batch.error(input.file, input.error);
        // A comment-only file is an error when named (an empty `kubectl get`
        // output), not when found among a directory's manifests.
        else if (method === 'current' && input.inDirectory) batch.currentInDirectory(input.file, input.text);
        else batch[method](input.file, input.text);
      }
    };
    for (const [method, path] of [['policy', args.policy], ['settings', args.settings]]) {
      if (path === null) continue;
      if (await isDirectory(path)) batch.error(path, `is a directory: --${method} takes one file`);
      else await add(method, path);
    }
    for (const path of args.cluster) await add('cluster', path);
    for (const path of args.current) await add('current', path);
    for (const path of args.paths) await add('desired', path);
    report = batch.run();
  } catch (error) {
    // A trap in the engine (it should not happen: inputs are bounded) is not a verdict.
    console.error(`error: the rule engine failed: ${error.message}`);
    return 2;
  }
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(formatReport(report));
    if (process.env.GITHUB_ACTIONS === 'true') for (const line of annotations(report)) console.log(line);
  }
  return report.exitCode;
}

const invoked = process.argv[1] && (() => {
  try {
    return realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (invoked) process.exitCode = await main(process.argv.slice(2));

export { main };
