// A pull request's manifests end to end (tests/fixtures/pull-request/): a
// folder with several documents per file, a List, objects that are not
// DocumentDB, a comment-only file and a text file; the current objects as
// `kubectl get documentdb -A -o yaml` prints them; the policy manifest; the
// cluster's Backups and Nodes as files. Every scenario runs twice: through the
// repository's entry (node crates/upgrade-checker/check.mjs) and through the
// command installed from the packed tarball, so what users download is what
// is tested.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPacked, run } from './installed.mjs';

const FIXTURES = fileURLToPath(new URL('fixtures/pull-request/', import.meta.url));
const CHECK = fileURLToPath(new URL('../check.mjs', import.meta.url));

const ROLLBACK =
  'DocumentDB.documentdb.io "payments" is invalid: spec: Forbidden: image rollback blocked: requested version 0.110.0 is older than installed schema version 0.112.0. ' +
  'ALTER EXTENSION has no downgrade path — running an older binary with a newer schema may cause data corruption. ' +
  'To recover, restore from backup or update to a version >= 0.112.0.';
const PHASE_1 = 'two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set';

/** The first line of each block and the summary line: what a reviewer scans. */
const headlines = (stdout) => stdout.split('\n').filter((line) => line !== '' && !line.startsWith('  '));

/** `helm template` output: every template's documents after a `# Source:` comment. */
function helmTemplate() {
  const files = ['manifests/clusters/prod.yaml', 'manifests/staging/list.yaml', 'manifests/staging/disabled.yaml'];
  return files
    .map((file) => `---\n# Source: documentdb-fleet/templates/${file.split('/').at(-1)}\n${readFileSync(join(FIXTURES, file), 'utf8')}`)
    .join('');
}

const entries = [
  ['the repository entry (node check.mjs)', async () => (args, options) => run(process.execPath, [CHECK, ...args], options)],
  [
    'the command installed from the packed tarball',
    async () => {
      const { bin } = await installPacked();
      return (args, options) => run(bin, args, options);
    },
  ],
];

for (const [entry, load] of entries) {
  describe(entry, () => {
    let check;
    before(async () => {
      check = await load();
    });
    const inFixtures = (args, options = {}) => check(args, { cwd: FIXTURES, ...options });

    test('a folder with the current objects: one block per DocumentDB, the summary, exit 1 for the denial', () => {
      const result = inFixtures(['--current', 'current.yaml', 'manifests']);
      assert.equal(result.status, 1, result.stderr);
      assert.deepEqual(headlines(result.stdout), [
        'ALLOWED UPDATE "prod"/"orders" at manifests/clusters/prod.yaml:3',
        'DENIED (422) UPDATE "prod"/"payments" at manifests/clusters/prod.yaml:25',
        'ALLOWED CREATE "staging"/"analytics" at manifests/staging/list.yaml:4',
        '3 checked: 2 allowed, 1 denied, 2 skipped',
      ]);
      const blocks = result.stdout.split('\n\n');
      assert.match(blocks[0], new RegExp(`\n  warning: ${PHASE_1}\n  current object: current.yaml:4\n`));
      assert.match(blocks[1], /\n {2}current object: current\.yaml:21\n/);
      assert.ok(blocks[1].includes(`\n  message: ${ROLLBACK}\n`), blocks[1]);
      assert.match(blocks[2], /\n {2}versions: binary 0\.112\.0 \(from spec\.documentDBVersion\), installed schema none \(new cluster\)\n/);
      assert.equal(result.stderr, '');
    });

    test('--json: one report per object and the summary', () => {
      const result = inFixtures(['--json', '--current', 'current.yaml', 'manifests']);
      assert.equal(result.status, 1, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.deepEqual(
        report.objects.map((o) => [o.file, o.line, `${o.namespace}/${o.name}`, o.operation, o.outcome, o.current?.line ?? null]),
        [
          ['manifests/clusters/prod.yaml', 3, 'prod/orders', 'UPDATE', 'allowed', 4],
          ['manifests/clusters/prod.yaml', 25, 'prod/payments', 'UPDATE', 'denied', 21],
          ['manifests/staging/list.yaml', 4, 'staging/analytics', 'CREATE', 'allowed', null],
        ],
      );
      assert.equal(report.objects[1].message, ROLLBACK);
      assert.deepEqual(report.objects[0].warnings, [PHASE_1]);
      assert.equal(report.summaryLine, '3 checked: 2 allowed, 1 denied, 2 skipped');
      assert.equal(report.exitCode, 1);
      assert.deepEqual(report.errors, []);
    });

    test('`helm template … | documentdb-upgrade-check --current current.yaml -`: the same verdicts, at the lines of the stream', () => {
      const result = inFixtures(['--current', 'current.yaml', '-'], { input: helmTemplate() });
      assert.equal(result.status, 1, result.stderr);
      assert.deepEqual(headlines(result.stdout), [
        'ALLOWED UPDATE "prod"/"orders" at -:5',
        'DENIED (422) UPDATE "prod"/"payments" at -:27',
        'ALLOWED CREATE "staging"/"analytics" at -:44',
        '3 checked: 2 allowed, 1 denied, 2 skipped',
      ]);
    });

    test('without cluster access: the target branch as --current (a folder with a comment-only file); the notes say what is not known', () => {
      const result = inFixtures(['--json', '--current', 'base', 'manifests']);
      assert.equal(result.status, 0, result.stdout);
      const report = JSON.parse(result.stdout);
      assert.deepEqual(report.errors, []);
      assert.deepEqual(
        report.objects.map((o) => [`${o.namespace}/${o.name}`, o.operation, o.outcome, o.current?.file ?? null, o.installedSchemaVersion]),
        [
          ['prod/orders', 'UPDATE', 'allowed', 'base/clusters/prod.yaml', null],
          ['prod/payments', 'UPDATE', 'allowed', 'base/clusters/prod.yaml', null],
          ['staging/analytics', 'CREATE', 'allowed', null, null],
        ],
      );
      const note =
        'the current object has no status.schemaVersion, so the rollback rule had nothing to check against: ' +
        'use the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml`, not the manifest file';
      assert.deepEqual(report.objects[1].notes, [note]);
      assert.equal(
        report.objects[1].timeline.nextStep,
        'check again with the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml` as the current object: ' +
          'without the installed schema, neither the rollback rule nor the next step can be worked out',
      );
    });

    test('--policy: the settings of the ClusterAdmissionPolicy take part (allowAutoSchemaVersion: false)', () => {
      const result = inFixtures(['--json', '--policy', 'policy.yaml', '--current', 'current.yaml', 'manifests']);
      assert.equal(result.status, 1, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.deepEqual(report.settings, { source: 'policy.yaml:3', valid: true, message: null });
      assert.deepEqual(
        report.objects.map((o) => o.outcome),
        ['allowed', 'denied', 'denied'],
      );
      assert.match(report.objects[2].message, /^DocumentDB\.documentdb\.io "analytics" is invalid: spec\.schemaVersion: /);
      assert.match(report.objects[2].message, /auto/);
      assert.equal(report.summaryLine, '3 checked: 1 allowed, 2 denied, 2 skipped');
      // Without the policy the same object is allowed: the settings made the difference.
      const defaults = JSON.parse(inFixtures(['--json', '--current', 'current.yaml', 'manifests']).stdout);
      assert.equal(defaults.objects[2].outcome, 'allowed');
    });

    test('--cluster: a restore from a Backup with a newer schema is denied, from an older one allowed', () => {
      const blocked = inFixtures(['--cluster', 'cluster', 'restore/from-nightly.yaml']);
      assert.equal(blocked.status, 1, blocked.stderr);
      assert.deepEqual(headlines(blocked.stdout), [
        'DENIED (422) CREATE "prod"/"payments-restored" at restore/from-nightly.yaml:2',
        '1 checked: 0 allowed, 1 denied, 0 skipped',
      ]);
      assert.ok(
        blocked.stdout.includes(
          '  message: DocumentDB.documentdb.io "payments-restored" is invalid: spec.bootstrap.recovery.backup: Forbidden: restore blocked: ' +
            "the target DocumentDB version 0.110.0 is older than the backup's schema version 0.112.0.",
        ),
        blocked.stdout,
      );
      const allowed = inFixtures(['--cluster', 'cluster/backups.yaml', '--cluster', 'cluster/nodes.yaml', 'restore/from-before-upgrade.yaml']);
      assert.equal(allowed.status, 0, allowed.stdout);
      assert.deepEqual(headlines(allowed.stdout), [
        'ALLOWED CREATE "prod"/"payments-restored" at restore/from-before-upgrade.yaml:2',
        '1 checked: 1 allowed, 0 denied, 0 skipped',
      ]);
      assert.doesNotMatch(allowed.stdout, /warning|note/);
      // Without --cluster: what the policy gives with no cluster to ask, as before.
      const unverified = inFixtures(['restore/from-nightly.yaml']);
      assert.equal(unverified.status, 0);
      assert.ok(
        unverified.stdout.includes(
          '  warning: failed to read backup "nightly": schema-version compatibility cannot be verified: no cluster to ask',
        ),
        unverified.stdout,
      );
    });

    test('on GitHub Actions: each denial and warning is an annotation at the file and line of its object', () => {
      const result = check(['--current', join(FIXTURES, 'current.yaml'), join(FIXTURES, 'manifests')], {
        env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: FIXTURES },
      });
      assert.equal(result.status, 1, result.stderr);
      const annotations = result.stdout.split('\n').filter((line) => line.startsWith('::'));
      assert.deepEqual(annotations, [
        `::warning file=manifests/clusters/prod.yaml,line=3,title=DocumentDB upgrade check%3A UPDATE prod/orders::${PHASE_1}`,
        `::error file=manifests/clusters/prod.yaml,line=25,title=DocumentDB upgrade check%3A UPDATE prod/payments::${ROLLBACK}`,
      ]);
    });
  });
}
