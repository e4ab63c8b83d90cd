// node crates/upgrade-checker/check.mjs as a pipeline uses it: files or stdin in, a verdict out,
// exit 0 allowed / 1 denied / 2 unusable input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const CHECK = join(WEB, 'check.mjs');
const example = (name) => join(WEB, 'examples', name);

function checkCli(args, { input, env } = {}) {
  return spawnSync(process.execPath, [CHECK, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, GITHUB_ACTIONS: '', ...env },
  });
}

test('phase 1 of the upgrade: allowed, with the warning and the next step', () => {
  const run = checkCli([example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml')]);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines[0], 'ALLOWED');
  assert.equal(
    lines[1],
    '  warning: two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set',
  );
  assert.ok(lines.includes('this change: phase 1 of 2: binary 0.110.0 → 0.112.0; the schema stays at 0.110.0'), run.stdout);
  assert.ok(lines.some((l) => l.startsWith('next safe step: once the pods run 0.112.0 and are healthy')), run.stdout);
});

test('a rollback below the installed schema: exit 1, the message and the way out', () => {
  const run = checkCli([example('cluster-at-0.112.0.yaml'), example('roll-back-binary-to-0.110.0.yaml')]);
  assert.equal(run.status, 1);
  assert.match(run.stdout, /^DENIED \(422\): DocumentDB\.documentdb\.io "documentdb-cluster" is invalid: /);
  assert.match(run.stdout, /image rollback blocked: requested version 0\.110\.0 is older than installed schema version 0\.112\.0/);
  assert.match(run.stdout, /\nnext safe step: keep the binary at 0\.112\.0 or later/);
});

test("the current object from stdin ('-'), as `kubectl get ... | node crates/upgrade-checker/check.mjs - desired.yaml`", () => {
  const current = readFileSync(example('cluster-at-0.112.0.yaml'), 'utf8');
  const run = checkCli(['-', example('roll-back-binary-to-0.110.0.yaml')], { input: current });
  assert.equal(run.status, 1, run.stderr);
  const json = checkCli(['--json', '-', example('roll-back-binary-to-0.110.0.yaml')], { input: current });
  assert.equal(JSON.parse(json.stdout).installedSchemaVersion, '0.112.0');
});

test('a new cluster: only the desired manifest', () => {
  const run = checkCli(['--json', example('upgrade-binary-to-0.112.0.yaml')]);
  assert.equal(run.status, 0);
  const report = JSON.parse(run.stdout);
  assert.equal(report.operation, 'CREATE');
  assert.equal(report.timeline.stage, 'new-cluster');
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
    const without = checkCli([example('cluster-at-0.110.0.yaml'), latest]);
    assert.equal(without.status, 0, without.stdout);
    assert.match(without.stdout, /warning: rollback check skipped: the binary version is unknown/);
    const strict = checkCli(['--settings', settings, example('cluster-at-0.110.0.yaml'), latest]);
    assert.equal(strict.status, 1, strict.stdout);
    assert.match(strict.stdout, /the setting rejectUnknownBinaryVersion requires one/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on GitHub Actions the verdict is also a workflow annotation', () => {
  const denied = checkCli([example('cluster-at-0.112.0.yaml'), example('roll-back-binary-to-0.110.0.yaml')], {
    env: { GITHUB_ACTIONS: 'true' },
  });
  assert.match(denied.stdout, /\n::error title=DocumentDB upgrade check::DocumentDB\.documentdb\.io "documentdb-cluster" is invalid: /);
  const warned = checkCli([example('cluster-at-0.110.0.yaml'), example('upgrade-binary-to-0.112.0.yaml')], {
    env: { GITHUB_ACTIONS: 'true' },
  });
  assert.match(warned.stdout, /\n::warning title=DocumentDB upgrade check::two-phase upgrade: /);
  assert.doesNotMatch(warned.stdout, /::error/);
});

test('names cannot forge GitHub workflow commands', () => {
  const manifest = readFileSync(example('roll-back-binary-to-0.110.0.yaml'), 'utf8').replace(
    'name: documentdb-cluster',
    'name: "documentdb-cluster\\n::error title=forged::all good\\n::stop-commands::x"',
  );
  const run = checkCli(['-'], { input: manifest, env: { GITHUB_ACTIONS: 'true' } });
  assert.equal(run.status, 1, run.stdout);
  const commands = run.stdout.split('\n').filter((line) => line.startsWith('::'));
  assert.ok(commands.length > 0);
  for (const line of commands) assert.match(line, /^::(error|warning) title=DocumentDB upgrade check::/, line);
});

test('unusable input exits 2 and says why', () => {
  const invalid = checkCli(['-'], { input: 'spec: [unclosed\n' });
  assert.equal(invalid.status, 2);
  assert.match(invalid.stdout, /^INVALID INPUT: the desired manifest is not valid YAML: /);

  const missing = checkCli(['no-such-file.yaml']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: ENOENT: no such file or directory, open 'no-such-file\.yaml'/);

  const emptyStdin = checkCli(['-', example('roll-back-binary-to-0.110.0.yaml')], { input: '' });
  assert.equal(emptyStdin.status, 2, 'an empty current object must not turn the check into a CREATE');
  assert.match(emptyStdin.stderr, /^error: the current object \(stdin\) is empty; leave CURRENT out to check a new cluster/);
  const dir = mkdtempSync(join(tmpdir(), 'check-empty-'));
  try {
    writeFileSync(join(dir, 'current.yaml'), '\n');
    const emptyFile = checkCli([join(dir, 'current.yaml'), example('roll-back-binary-to-0.110.0.yaml')]);
    assert.equal(emptyFile.status, 2);
    assert.match(emptyFile.stderr, /current\.yaml\) is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const notDocumentDb = checkCli(['-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' });
  assert.equal(notDocumentDb.status, 2, 'a pipeline pointed at the wrong file must not pass');
  assert.match(notDocumentDb.stdout, /^NOT CHECKED \(the policy lets it through\)\n  note: "v1" "ConfigMap" is not a documentdb\.io DocumentDB/);

  const badSettings = checkCli(['--settings', '-', example('upgrade-binary-to-0.112.0.yaml')], {
    input: 'bogus: true\n',
  });
  assert.equal(badSettings.status, 2);
  assert.match(badSettings.stdout, /^INVALID SETTINGS: the policy settings are invalid: unknown setting "bogus"/);
});

test('usage errors exit 2 with the usage; --help exits 0', () => {
  for (const args of [[], ['a', 'b', 'c'], ['--frobnicate', 'x'], ['--settings'], ['-', '-'], ['--settings', '-', '-'], ['--settings', '', 'x'], ['--settings=', 'x']]) {
    const run = checkCli(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}`);
    assert.match(run.stderr, /^error: .*\n\nusage: node crates\/upgrade-checker\/check\.mjs/s, args.join(' '));
  }
  const help = checkCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: node crates\/upgrade-checker\/check\.mjs \[--settings FILE\] \[--json\] \[CURRENT\] DESIRED/);
});

test('without the built engine it says to run make web', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-unbuilt-'));
  try {
    for (const file of ['check.mjs', 'engine.mjs']) copyFileSync(join(WEB, file), join(dir, file));
    const run = spawnSync(process.execPath, [join(dir, 'check.mjs'), example('upgrade-binary-to-0.112.0.yaml')], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /upgrade_checker_bg\.wasm is missing: build it with `make web`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
