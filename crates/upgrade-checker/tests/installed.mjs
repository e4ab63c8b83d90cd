// The checker as users get it: the tarball `make checker-package` packs (the
// release attaches the same), installed with npm into an empty directory.
// Shared by the tests that run the installed command.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, PACKAGE_NAME } from '../pack.mjs';

const made = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system's temporary one, removed when the test file's process ends. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

let installed;

/**
 * Packs the checker and installs the tarball into a fresh directory, offline
 * (the package has no dependencies: nothing is fetched). Once per test file.
 * Resolves to `{ tarball, prefix, bin }`.
 */
export async function installPacked() {
  installed ??= (async () => {
    const tarball = await pack(tempDir('checker-tarball-'));
    const prefix = tempDir('checker-installed-');
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, tarball], {
      encoding: 'utf8',
    });
    return { tarball, prefix, bin: join(prefix, 'node_modules', '.bin', PACKAGE_NAME) };
  })();
  return installed;
}

/** Runs an executable the way a pipeline would, outside GitHub Actions unless `env` says so. */
export function run(command, args, { input, env, cwd } = {}) {
  return spawnSync(command, args, {
    encoding: 'utf8',
    input,
    cwd,
    env: { ...process.env, GITHUB_ACTIONS: '', GITHUB_WORKSPACE: '', GITHUB_STEP_SUMMARY: '', ...env },
  });
}
