//! End-to-end tests of policy-runner: hand-written waPC guests exercising every failure mode,
//! the exact output format, request normalisation, Kubernetes host capabilities replayed from
//! kwctl sessions, the CLI, and the real SDK path (noop-policy, `NOOP_POLICY_WASM`).

mod cli;
mod context_aware;
mod guest;
mod library;
mod sdk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use policy_runner::{Policy, RunnerOptions};
use serde_json::{Value, json};

use guest::Guest;

/// Options for in-process tests: logs captured, not printed; a short deadline so that a
/// runaway guest costs little.
pub fn test_options() -> RunnerOptions {
    RunnerOptions {
        execution_timeout: Some(Duration::from_secs(1)),
        print_policy_logs: false,
        capture_policy_logs: true,
        ..RunnerOptions::default()
    }
}

pub fn load(guest: &Guest) -> Policy {
    Policy::load(guest.wasm(), &test_options()).expect("test guest must load")
}

/// A bare AdmissionRequest with an unknown top-level key and some nulls.
pub fn bare_request() -> Value {
    json!({
        "uid": "abc-123",
        "kind": {"group": "documentdb.io", "version": "v1", "kind": "DocumentDB"},
        "resource": {"group": "documentdb.io", "version": "v1", "resource": "documentdbs"},
        "subResource": null,
        "requestKind": {"group": "documentdb.io", "version": "v1", "kind": "DocumentDB"},
        "name": "db",
        "namespace": "default",
        "operation": "CREATE",
        "userInfo": {"username": "alice", "groups": ["system:authenticated"], "uid": null},
        "object": {"apiVersion": "documentdb.io/v1", "kind": "DocumentDB",
                   "metadata": {"name": "db"}, "spec": {"image": "ghcr.io/x/documentdb:1.4.2"}},
        "oldObject": null,
        "dryRun": false,
        "someUnknownKey": {"dropped": true}
    })
}

/// The same request wrapped in an AdmissionReview.
pub fn review_request() -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": bare_request()
    })
}

/// A scratch directory unique to one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("policy-runner-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
