//! The policy's rule engine for the browser and Node, built with wasm-bindgen
//! for `wasm32-unknown-unknown`: the same `validate_payload` as the Kubewarden
//! module, so a pipeline or a web page gets the verdict the cluster would give.
//!
//! The exports take and return text (YAML or JSON in, JSON out) so that the
//! JavaScript side (`crates/upgrade-checker/engine.mjs`) stays a thin wrapper.

use wasm_bindgen::prelude::*;

use documentdb_upgrade_safety::cluster::NoCluster;
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::validation::validate_payload;

pub mod batch;
pub mod check;
pub mod files_cluster;
pub mod input;
pub mod located;
pub mod timeline;

use check::Decision;

/// Checks applying `desired` over `current` (empty text: a new cluster) under
/// `settings` (empty text: the defaults). Each is YAML or JSON. Returns the
/// [`check::Report`] as JSON.
#[wasm_bindgen]
pub fn check(current: &str, desired: &str, settings: &str) -> String {
    check::check(current, desired, settings).to_json()
}

/// A run over many objects: add the inputs file by file (the text, and the
/// name the report gives it: a path, or `-` for stdin), then [`Batch::run`]
/// once. Add `--current` and `--cluster` inputs in any order: objects are
/// paired and checked only by `run`.
#[wasm_bindgen(js_name = Batch)]
pub struct BatchInputs(Option<batch::Batch>);

impl BatchInputs {
    /// Hands an input to the batch, unless the run is over.
    fn add(&mut self, add: impl FnOnce(&mut batch::Batch)) {
        if let Some(inputs) = self.0.as_mut() {
            add(inputs);
        }
    }
}

#[wasm_bindgen(js_class = Batch)]
impl BatchInputs {
    /// `namespace`: of objects that name none (empty: `default`).
    #[wasm_bindgen(constructor)]
    pub fn new(namespace: &str) -> BatchInputs {
        BatchInputs(Some(batch::Batch::new(namespace)))
    }

    /// The policy settings alone.
    pub fn settings(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_settings(file, text));
    }

    /// A ClusterAdmissionPolicy or AdmissionPolicy manifest.
    pub fn policy(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_policy(file, text));
    }

    /// Objects in the cluster (the DocumentDBs are paired with the desired ones).
    pub fn current(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_current(file, text));
    }

    /// A file found in a directory of current objects: may hold none.
    #[wasm_bindgen(js_name = currentInDirectory)]
    pub fn current_in_directory(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_current_in_directory(file, text));
    }

    /// Backups, PersistentVolumes, Nodes.
    pub fn cluster(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_cluster(file, text));
    }

    /// Manifests about to be applied.
    pub fn desired(&mut self, file: &str, text: &str) {
        self.add(|inputs| inputs.add_desired(file, text));
    }

    /// A file the caller could not read.
    pub fn error(&mut self, file: &str, message: &str) {
        self.add(|inputs| inputs.add_error(file, message));
    }

    /// What `run` would check and refuse, without checking: the
    /// [`batch::Survey`] as JSON (`{documentDbs, errors}`).
    pub fn survey(&self) -> String {
        let survey = self
            .0
            .as_ref()
            .map(batch::Batch::survey)
            .unwrap_or_default();
        serde_json::to_string(&survey).unwrap_or_default()
    }

    /// Checks everything added; the [`batch::BatchReport`] as JSON. A second
    /// call reports that the run is over.
    pub fn run(&mut self) -> String {
        match self.0.take() {
            Some(batch) => batch.run().to_json(),
            None => {
                let mut over = batch::Batch::new("");
                over.add_error("-", "this run is over: create a new Batch");
                over.run().to_json()
            }
        }
    }
}

/// The module's `validate` for a raw payload `{"request": …, "settings": …}`,
/// as the policy engine sends it: `{outcome, allowed, code, message, warnings}`.
#[wasm_bindgen(js_name = validateAdmission)]
pub fn validate_admission(payload: &str) -> String {
    let decision = Decision::from(validate_payload(payload.as_bytes(), &NoCluster));
    serde_json::to_string(&decision).unwrap_or_default()
}

/// The module's `validate_settings`: `{"valid": true}` or `{"valid": false, "message": …}`.
#[wasm_bindgen(js_name = validateSettings)]
pub fn validate_settings(settings: &str) -> String {
    let answer = match Settings::from_json(settings.as_bytes()) {
        Ok(_) => serde_json::json!({"valid": true}),
        Err(errors) => serde_json::json!({"valid": false, "message": errors.to_string()}),
    };
    answer.to_string()
}

/// The version of the policy whose rules this build carries.
#[wasm_bindgen(js_name = policyVersion)]
pub fn policy_version() -> String {
    documentdb_upgrade_safety::POLICY_VERSION.to_owned()
}

#[cfg(test)]
mod tests;
