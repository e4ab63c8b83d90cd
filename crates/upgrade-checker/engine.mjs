// The policy's rule engine (crates/upgrade-checker/src, built by `make web` into crates/upgrade-checker/pkg/) for
// the page and for Node. Thin on purpose: every decision is made in Rust by
// the same code as the Kubewarden module; this file only loads it and turns
// its JSON answers into objects.

import init, * as wasm from './pkg/upgrade_checker.js';

const WASM_FILE = new URL('./pkg/upgrade_checker_bg.wasm', import.meta.url);

let ready;

async function instantiate() {
  if (globalThis.process?.versions?.node) {
    // Node cannot fetch() a file: URL; read the module and compile it here.
    const { readFile } = await import('node:fs/promises');
    wasm.initSync({ module: await readFile(WASM_FILE) });
  } else {
    await init({ module_or_path: WASM_FILE });
  }
}

/**
 * Loads the engine once. Resolves to:
 *   batch(namespace)                  -> a run over many objects: add inputs with
 *                                        .settings / .policy / .current / .currentInDirectory /
 *                                        .cluster / .desired
 *                                        (file name, text) and .error(file, message),
 *                                        then .run() -> the report of every object,
 *                                        or .survey() -> {documentDbs, errors}
 *                                        (what a run would check, unchecked)
 *   check(current, desired, settings) -> report   (YAML or JSON text; '' = none)
 *   validateAdmission(payload)        -> {outcome, allowed, code, message, warnings}
 *   validateSettings(settings)        -> {valid, message?}
 *   policyVersion                     -> the policy version the rules come from
 */
export async function loadEngine() {
  ready ??= instantiate();
  await ready;
  return {
    batch: (namespace = '') => {
      const inputs = new wasm.Batch(namespace ?? '');
      const add = (method) => (file, text) => inputs[method](String(file), String(text ?? ''));
      return {
        settings: add('settings'),
        policy: add('policy'),
        current: add('current'),
        currentInDirectory: add('currentInDirectory'),
        cluster: add('cluster'),
        desired: add('desired'),
        error: add('error'),
        run: () => {
          const report = JSON.parse(inputs.run());
          inputs.free();
          return report;
        },
        survey: () => {
          const survey = JSON.parse(inputs.survey());
          inputs.free();
          return survey;
        },
      };
    },
    check: (current, desired, settings = '') =>
      JSON.parse(wasm.check(current ?? '', desired ?? '', settings ?? '')),
    validateAdmission: (payload) =>
      JSON.parse(wasm.validateAdmission(typeof payload === 'string' ? payload : JSON.stringify(payload))),
    validateSettings: (settings) =>
      JSON.parse(wasm.validateSettings(typeof settings === 'string' ? settings : JSON.stringify(settings))),
    policyVersion: wasm.policyVersion(),
  };
}
