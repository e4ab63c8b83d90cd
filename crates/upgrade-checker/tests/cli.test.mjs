// The CLI as a pipeline uses it: manifests in, one block per DocumentDB and a
// summary out; exit 0 every checked object allowed, 1 one denied, 2 nothing
// checked or unusable input. The e2e folder is in e2e.test.mjs, bad input in
// bad-input.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const CHECK = join(WEB, 'check.mjs');
const example = (name) => join(WEB, 'examples', name);

export function checkCli(args, { input, env, cwd } = {}) {
  return spawnSync(process.execPath, [CHECK, ...args], {
    encoding: 'utf8',
    input,
    cwd,
    env: { ...process.env, GITHUB_ACTIONS: '', GITHUB_WORKSPACE: '', ...env },
  });
}

test('phase 1 of the upgrade: allowed, with the warning and the next step', () => {
  const run = checkCli(['--current', example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml')]);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines[0], `ALLOWED UPDATE "documentdb-ns"/"documentdb-cluster" at ${example('upgrade-binary-to-0.112.0.yaml')}:7`);
  assert.equal(
    lines[1],
    '  warning: two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set',
  );
  assert.equal(lines[2], `  current object: ${example('cluster-at-0.110.0.yaml')}:2`);
  assert.equal(lines[3], '  versions: binary 0.112.0 (from the tag of spec.image.documentDB), installed schema 0.110.0');
  assert.ok(lines.includes('  this change: phase 1 of 2: binary 0.110.0 → 0.112.0; the schema stays at 0.110.0'), run.stdout);
  assert.ok(lines.some((l) => l.startsWith('  next safe step: once the pods run 0.112.0 and are healthy')), run.stdout);
  assert.equal(lines.at(-1), '1 checked: 1 allowed, 0 denied, 1 skipped');
});

test('a rollback below the installed schema: exit 1, the message and the way out', () => {
  const run = checkCli(['--current', example('cluster-at-0.112.0.yaml'), example('roll-back-binary-to-0.110.0.yaml')]);
  assert.equal(run.status, 1);
  assert.match(run.stdout, /^DENIED \(422\) UPDATE "documentdb-ns"\/"documentdb-cluster" at /);
  assert.match(run.stdout, /\n {2}message: DocumentDB\.documentdb\.io "documentdb-cluster" is invalid: /);
  assert.match(run.stdout, /image rollback blocked: requested version 0\.110\.0 is older than installed schema version 0\.112\.0/);
  assert.match(run.stdout, /\n {2}next safe step: keep the binary at 0\.112\.0 or later/);
  assert.match(run.stdout, /\n\n1 checked: 0 allowed, 1 denied, 1 skipped\n$/);
});

test("the current objects from stdin ('-'), as `kubectl get documentdb -A -o yaml | documentdb-upgrade-check --current - …`", () => {
  const current = readFileSync(example('cluster-at-0.112.0.yaml'), 'utf8');
  const run = checkCli(['--current', '-', example('roll-back-binary-to-0.110.0.yaml')], { input: current });
  assert.equal(run.status, 1, run.stderr);
  const json = checkCli(['--json', '--current', '-', example('roll-back-binary-to-0.110.0.yaml')], { input: current });
  const report = JSON.parse(json.stdout);
  assert.equal(report.objects[0].installedSchemaVersion, '0.112.0');
  assert.deepEqual(report.objects[0].current, { file: '-', line: 2 });
  assert.equal(report.exitCode, 1);
});

test('a new cluster: only the desired manifest, a CREATE', () => {
  const run = checkCli(['--json', example('upgrade-binary-to-0.112.0.yaml')]);
  assert.equal(run.status, 0);
  const report = JSON.parse(run.stdout);
  assert.equal(report.objects[0].operation, 'CREATE');
  assert.equal(report.objects[0].timeline.stage, 'new-cluster');
  assert.deepEqual(report.summary, { checked: 1, allowed: 1, denied: 0, skipped: 1, errors: 0 });
});

test('settings from a file take part', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-settings-'));
  try {
    const settings = join(dir, 'settings.yaml');
    writeFileSync(settings, 'rejectUnknownBinaryVersion: true\n');
    const latest = join(dir, 'latest.yaml');
    const manifest = readFileSync(example('upgrade-binary-to-0.112.0.yaml'), 'utf8').replace(
      'documentdb:0.112.0',
      'documentdb:latest',
    );
    writeFileSync(latest, manifest);
    const without = checkCli(['--current', example('cluster-at-0.110.0.yaml'), latest]);
    assert.equal(without.status, 0, without.stdout);
    assert.match(without.stdout, /warning: rollback check skipped: the binary version is unknown/);
    const strict = checkCli(['--settings', settings, '--current', example('cluster-at-0.110.0.yaml'), latest]);
    assert.equal(strict.status, 1, strict.stdout);
    assert.match(strict.stdout, /the setting rejectUnknownBinaryVersion requires one/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on GitHub Actions each denial and warning is an annotation at the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-annotations-'));
  try {
    mkdirSync(join(dir, 'clusters'));
    copyFileSync(example('roll-back-binary-to-0.110.0.yaml'), join(dir, 'clusters', 'prod.yaml'));
    const denied = checkCli(['--current', example('cluster-at-0.112.0.yaml'), 'clusters/prod.yaml'], {
      cwd: dir,
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir },
    });
    assert.equal(denied.status, 1);
    assert.match(
      denied.stdout,
      /\n::error file=clusters\/prod\.yaml,line=7,title=DocumentDB upgrade check%3A UPDATE documentdb-ns\/documentdb-cluster::DocumentDB\.documentdb\.io "documentdb-cluster" is invalid: /,
    );
    // An absolute path inside the workspace is made relative, as GitHub needs it.
    const absolute = checkCli(['--current', example('cluster-at-0.112.0.yaml'), join(dir, 'clusters', 'prod.yaml')], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir },
    });
    assert.match(absolute.stdout, /\n::error file=clusters\/prod\.yaml,line=7,/);
    const warned = checkCli(['--current', example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml')], {
      env: { GITHUB_ACTIONS: 'true' },
    });
    assert.match(warned.stdout, /\n::warning file=[^,]*upgrade-binary-to-0\.112\.0\.yaml,line=7,title=DocumentDB upgrade check%3A UPDATE documentdb-ns\/documentdb-cluster::two-phase upgrade: /);
    assert.doesNotMatch(warned.stdout, /::error/);
    // Outside GitHub Actions: no workflow commands.
    const plain = checkCli(['--current', example('cluster-at-0.112.0.yaml'), join(dir, 'clusters', 'prod.yaml')]);
    assert.doesNotMatch(plain.stdout, /^::/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('names and file names cannot forge GitHub workflow commands', () => {
  const forged = '\n::error title=forged::all good\n::stop-commands::x';
  const manifest = readFileSync(example('roll-back-binary-to-0.110.0.yaml'), 'utf8').replace(
    'name: documentdb-cluster',
    `name: ${JSON.stringify(`documentdb-cluster${forged}`)}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'check-forge-'));
  try {
    const file = join(dir, `::error::x${forged.replaceAll('\n', '\r\n')}.yaml`);
    writeFileSync(file, manifest);
    for (const args of [['-'], [dir]]) {
      const run = checkCli(['--namespace', 'documentdb-ns', ...args], { input: manifest, env: { GITHUB_ACTIONS: 'true' } });
      // As a CREATE its schemaVersion above the binary is denied: an error annotation.
      assert.equal(run.status, 1, run.stdout);
      const commands = run.stdout.split(/\r?\n|\r/).filter((line) => line.startsWith('::'));
      assert.ok(commands.length > 0);
      for (const line of commands) assert.match(line, /^::(error|warning) (file=[^,]*,line=\d+,)?title=DocumentDB upgrade check%3A /, line);
      assert.ok(!run.stdout.split(/\r?\n|\r/).some((line) => /^::(error title=forged|stop-commands)/.test(line)), run.stdout);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 with the usage; --help exits 0; --version prints the policy version', () => {
  for (const args of [
    [],
    ['--frobnicate', 'x'],
    ['--settings'],
    ['-', '-'],
    ['--current', '-', '-'],
    ['--settings', '-', '-'],
    ['--settings', '', 'x'],
    ['--settings=', 'x'],
    ['--policy', 'p.yaml', '--settings', 's.yaml', 'x'],
    ['--namespace', 'a', '--namespace', 'b', 'x'],
    ['--json'],
  ]) {
    const run = checkCli(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}`);
    assert.match(run.stderr, /^error: .*\n\nusage: documentdb-upgrade-check \[--current PATH\]\.\.\./s, args.join(' '));
  }
  const help = checkCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: documentdb-upgrade-check \[--current PATH\]\.\.\. \[--policy FILE \| --settings FILE\] \[--cluster PATH\]\.\.\.\n {32}\[--namespace NS\] \[--json\] PATH\.\.\./);
  const cargo = readFileSync(new URL('../../../Cargo.toml', import.meta.url), 'utf8');
  const version = cargo.match(/^version = "(.*)"$/m)[1];
  const printed = checkCli(['--version']);
  assert.equal(printed.status, 0);
  assert.equal(printed.stdout, `${version}\n`);
});

test('-- ends the options: a file named like an option is a manifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-dashes-'));
  try {
    copyFileSync(example('upgrade-binary-to-0.112.0.yaml'), join(dir, '--json'));
    const run = checkCli(['--', '--json'], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^ALLOWED CREATE "documentdb-ns"\/"documentdb-cluster" at --json:7\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without the built engine it says to run make web', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-unbuilt-'));
  try {
    for (const file of ['check.mjs', 'engine.mjs', 'inputs.mjs', 'report.mjs']) copyFileSync(join(WEB, file), join(dir, file));
    const run = spawnSync(process.execPath, [join(dir, 'check.mjs'), example('upgrade-binary-to-0.112.0.yaml')], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /upgrade_checker_bg\.wasm is missing: build it with `make web`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
