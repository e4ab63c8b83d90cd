#!/usr/bin/env node
// Packs the installable checker: an npm tarball `documentdb-upgrade-check-<version>.tgz`
// with the command `documentdb-upgrade-check`, the built rule engine (pkg/, from
// `make web`) inside, and no dependencies, so a pipeline installs it with npm
// alone (no Rust toolchain, no build). `make checker-package`; the release
// attaches the tarball.
//
//   node crates/upgrade-checker/pack.mjs [OUT_DIR]   (default: target/)
//
// The version is the one the engine carries (the policy's Cargo.toml, built in):
// the tarball cannot claim a version its rules are not.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '../..');

export const PACKAGE_NAME = 'documentdb-upgrade-check';
export const REPOSITORY = 'documentdb-policies/documentdb-upgrade-safety';

/** What the package holds, besides package.json: the command and the engine it loads. */
export const PACKAGE_FILES = [
  'check.mjs',
  'engine.mjs',
  'inputs.mjs',
  'report.mjs',
  'pkg/upgrade_checker.js',
  'pkg/upgrade_checker_bg.wasm',
  'README.md',
];

/** The package.json of the installable checker, for `version`. */
export function manifest(version) {
  return {
    name: PACKAGE_NAME,
    version,
    description:
      'Checks DocumentDB manifests (files, directories, helm template output) with the rules of the ' +
      'documentdb-upgrade-safety Kubewarden policy before they reach the cluster',
    type: 'module',
    bin: { [PACKAGE_NAME]: 'check.mjs' },
    files: PACKAGE_FILES,
    engines: { node: '>=18' },
    license: 'Apache-2.0',
    repository: { type: 'git', url: `git+https://github.com/${REPOSITORY}.git`, directory: 'crates/upgrade-checker' },
    homepage: `https://github.com/${REPOSITORY}/blob/main/crates/upgrade-checker/README.md`,
    keywords: ['documentdb', 'kubernetes', 'kubewarden', 'admission', 'upgrade', 'ci'],
  };
}

/** Packs into `outDir`; returns the tarball's path. */
export async function pack(outDir) {
  if (!existsSync(join(HERE, 'pkg/upgrade_checker_bg.wasm'))) {
    throw new Error('crates/upgrade-checker/pkg is missing: build it with `make web`');
  }
  const { loadEngine } = await import('./engine.mjs');
  const { policyVersion } = await loadEngine();
  const staging = mkdtempSync(join(resolve(ROOT, 'target'), 'checker-package-'));
  try {
    mkdirSync(join(staging, 'pkg'));
    for (const file of PACKAGE_FILES) copyFileSync(join(HERE, file), join(staging, file));
    writeFileSync(join(staging, 'package.json'), `${JSON.stringify(manifest(policyVersion), null, 2)}\n`);
    mkdirSync(outDir, { recursive: true });
    const out = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--loglevel=error', '--pack-destination', resolve(outDir), staging],
      { encoding: 'utf8' },
    );
    const [{ filename }] = JSON.parse(out);
    return join(resolve(outDir), filename);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(await pack(process.argv[2] ?? join(ROOT, 'target')));
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  }
}
