// The installable checker and the GitHub Action, as users get them: the
// tarball `make checker-package` packs (the release attaches it), installed
// into an empty directory; action.yml's step run the way the runner runs it
// (inputs as INPUT_* environment variables) against that tarball.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPacked, run, tempDir } from './installed.mjs';
import { PACKAGE_FILES, PACKAGE_NAME } from '../pack.mjs';
import { loadEngine } from '../engine.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('fixtures/pull-request/', import.meta.url));
const cargoVersion = () => readFileSync(join(ROOT, 'Cargo.toml'), 'utf8').match(/^version = "([^"]+)"/m)[1];

test('the tarball: the command and its engine, nothing else, named and versioned as Cargo.toml', async () => {
  const { tarball } = await installPacked();
  const version = cargoVersion();
  assert.equal(tarball.split('/').at(-1), `${PACKAGE_NAME}-${version}.tgz`);
  const listed = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(listed, ['package/package.json', ...PACKAGE_FILES.map((f) => `package/${f}`)].sort());
  const manifest = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  assert.equal(manifest.name, PACKAGE_NAME);
  assert.equal(manifest.version, version);
  assert.equal((await loadEngine()).policyVersion, version);
  assert.deepEqual(manifest.bin, { [PACKAGE_NAME]: 'check.mjs' });
  // Nothing to fetch at install time: a pipeline needs npm and the tarball only.
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.scripts, undefined);
});

test('installed into an empty directory, offline: the command runs there and gives the policy verdicts', async () => {
  const { bin, prefix } = await installPacked();
  const version = run(bin, ['--version'], { cwd: prefix });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `${cargoVersion()}\n`);
  const result = run(bin, ['--current', join(FIXTURES, 'current.yaml'), join(FIXTURES, 'manifests')], { cwd: prefix });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /\n3 checked: 2 allowed, 1 denied, 2 skipped\n$/);
});

test('npx --package=<tarball> documentdb-upgrade-check: runs without installing anything first', async () => {
  const { tarball } = await installPacked();
  const cwd = tempDir('checker-npx-');
  const result = run('npx', ['--offline', '--yes', `--package=${tarball}`, PACKAGE_NAME, '--current', join(FIXTURES, 'current.yaml'), join(FIXTURES, 'manifests')], {
    cwd,
    env: { npm_config_cache: join(cwd, '.npm') },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /\n3 checked: 2 allowed, 1 denied, 2 skipped\n$/);
});

// ---------------------------------------------------------------- the action

const ACTION = readFileSync(join(ROOT, 'action.yml'), 'utf8');

/** action.yml's inputs (names and defaults), read from its text. */
function actionInputs() {
  const block = ACTION.split('\ninputs:\n')[1].split('\nruns:\n')[0];
  const inputs = {};
  for (const [, name, body] of block.matchAll(/^ {2}([a-z]+):\n((?: {4}.*\n)+)/gm)) {
    inputs[name] = { required: /^ {4}required: true$/m.test(body), default: body.match(/^ {4}default: '(.*)'$/m)?.[1] };
  }
  return inputs;
}

/** The step's env mapping and run line, read from its text. */
function actionStep() {
  const step = ACTION.split('\n  steps:\n')[1];
  const env = {};
  for (const [, name, context, key] of step.matchAll(/^ {8}([A-Z_]+): \$\{\{ (inputs|github)\.([a-z_]+) \}\}$/gm)) {
    env[name] = [context, key];
  }
  return { env, shell: step.match(/^ {6}shell: (.+)$/m)[1], run: step.match(/^ {6}run: '(.+)'$/m)[1] };
}

/**
 * Runs the action's step as the runner does: `${{ inputs.x }}` substituted
 * (defaults for what the workflow leaves out), `${{ github.action_ref }}` the
 * ref after the @, GITHUB_ACTION_PATH the action's checkout.
 */
function runAction(given, { ref = 'v0.1.0', env = {} } = {}) {
  const inputs = actionInputs();
  for (const name of Object.keys(given)) assert.ok(inputs[name], `action.yml has no input ${name}`);
  const step = actionStep();
  const github = { action_ref: ref, action_repository: 'documentdb-policies/documentdb-upgrade-safety' };
  const stepEnv = {};
  for (const [name, [context, key]] of Object.entries(step.env)) {
    stepEnv[name] = context === 'inputs' ? given[key] ?? inputs[key].default ?? '' : github[key];
  }
  const temp = tempDir('runner-temp-');
  const summary = join(temp, 'step-summary.md');
  writeFileSync(summary, '');
  const result = run(`/bin/${step.shell}`, ['-c', step.run], {
    cwd: FIXTURES,
    env: {
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: FIXTURES,
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: temp,
      npm_config_cache: join(temp, '.npm'),
      ...stepEnv,
      ...env,
    },
  });
  return { ...result, summary: readFileSync(summary, 'utf8'), temp };
}

test('action.yml: a composite action whose step receives every input', () => {
  const inputs = actionInputs();
  assert.deepEqual(Object.keys(inputs), ['manifests', 'current', 'policy', 'settings', 'cluster', 'namespace', 'version', 'package']);
  assert.equal(inputs.manifests.required, true);
  assert.match(ACTION, /\nruns:\n {2}using: composite\n/);
  const step = actionStep();
  assert.equal(step.shell, 'bash');
  assert.deepEqual(
    Object.values(step.env).filter(([context]) => context === 'inputs').map(([, key]) => key).sort(),
    Object.keys(inputs).sort(),
  );
});

test('the action, run as the runner runs it against the packed checker: verdicts, annotations, step summary, exit 1', async () => {
  const { tarball } = await installPacked();
  const result = runAction({ manifests: 'manifests\n', current: 'current.yaml', policy: 'policy.yaml', package: tarball });
  assert.equal(result.status, 1, result.stderr + result.stdout);
  assert.match(result.stdout, /^Installing .*documentdb-upgrade-check-[0-9.]+\.tgz\n/);
  assert.match(result.stdout, /\n3 checked: 1 allowed, 2 denied, 2 skipped\n/);
  const annotations = result.stdout.split('\n').filter((line) => line.startsWith('::'));
  assert.deepEqual(
    annotations.map((line) => line.split('::')[1]),
    [
      'warning file=manifests/clusters/prod.yaml,line=3,title=DocumentDB upgrade check%3A UPDATE prod/orders',
      'error file=manifests/clusters/prod.yaml,line=25,title=DocumentDB upgrade check%3A UPDATE prod/payments',
      'error file=manifests/staging/list.yaml,line=4,title=DocumentDB upgrade check%3A CREATE staging/analytics',
    ],
  );
  assert.match(result.summary, /^### DocumentDB upgrade check\n\n```text\nALLOWED UPDATE "prod"\/"orders" at manifests\/clusters\/prod\.yaml:3\n/);
  assert.match(result.summary, /\n3 checked: 1 allowed, 2 denied, 2 skipped\n```\n$/);
  assert.doesNotMatch(result.summary, /^::/m);
});

test('the action: several paths per input, one per line; the cluster files; exit 0 when every object is allowed', async () => {
  const { tarball } = await installPacked();
  const result = runAction({
    manifests: '  restore/from-before-upgrade.yaml\n\n',
    cluster: 'cluster/backups.yaml\ncluster/nodes.yaml',
    package: tarball,
  });
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /\nALLOWED CREATE "prod"\/"payments-restored" at restore\/from-before-upgrade\.yaml:2\n/);
  assert.match(result.stdout, /\n1 checked: 1 allowed, 0 denied, 0 skipped\n/);
});

test('the action: a ref that is not a release, an empty manifests input, a package that cannot be installed: exit 2 with the way out', async () => {
  const { tarball } = await installPacked();
  const branch = runAction({ manifests: 'manifests' }, { ref: 'main' });
  assert.equal(branch.status, 2);
  assert.equal(
    branch.stdout,
    "::error title=DocumentDB upgrade check::the action is used at 'main', not a release tag: pin it to a release " +
      '(uses: documentdb-policies/documentdb-upgrade-safety@v0.1.0) or set the input version\n',
  );
  const empty = runAction({ manifests: '\n  \n', package: tarball });
  assert.equal(empty.status, 2);
  assert.match(empty.stdout, /\n::error title=DocumentDB upgrade check::the input manifests is empty: give the files or folders to check\n$/);
  // A runner without Node (a self-hosted one): said before anything else is tried.
  const noNode = tempDir('path-without-node-');
  symlinkSync('/bin/bash', join(noNode, 'bash'));
  const withoutNode = runAction({ manifests: 'manifests', package: tarball }, { env: { PATH: noNode } });
  assert.equal(withoutNode.status, 2);
  assert.equal(
    withoutNode.stdout,
    '::error title=DocumentDB upgrade check::node is not installed on this runner: add actions/setup-node before this step\n',
  );
  // The release asset for the tag, from this repository's releases (offline here: npm cannot fetch it).
  const offline = runAction({ manifests: 'manifests' }, { ref: 'v0.1.0', env: { npm_config_offline: 'true' } });
  assert.equal(offline.status, 2);
  const url = 'https://github.com/documentdb-policies/documentdb-upgrade-safety/releases/download/v0.1.0/documentdb-upgrade-check-0.1.0.tgz';
  assert.match(offline.stdout, new RegExp(`^Installing ${url.replaceAll('.', '\\.')}\n`));
  assert.ok(
    offline.stdout.endsWith(
      `::error title=DocumentDB upgrade check::cannot install the checker from ${url}: is the version released, and does the runner reach it?\n`,
    ),
    offline.stdout,
  );
});
