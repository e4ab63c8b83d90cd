//! The real SDK path: noop-policy (kubewarden-policy-sdk, wasm32-wasip1, release profile),
//! built by `make target/noop-policy.wasm`; its path comes from `NOOP_POLICY_WASM`.

use std::path::PathBuf;

use policy_runner::cases::module_from_env;
use policy_runner::{InstanceMode, Policy, RunnerOptions, SettingsOutcome};
use serde_json::{Value, json};

use crate::{bare_request, review_request};

/// The noop-policy module; fails the test with what to build when `NOOP_POLICY_WASM` is
/// unset or names no file.
pub fn noop_wasm() -> PathBuf {
    module_from_env("NOOP_POLICY_WASM", "target/noop-policy.wasm").unwrap_or_else(|e| panic!("{e}"))
}

const ACCEPT_LINE: &str =
    r#"{"uid":"abc-123","allowed":true,"auditAnnotations":null,"warnings":null}"#;

#[test]
fn noop_policy_accepts_on_warm_and_fresh_instances() {
    let wasm = noop_wasm();
    let mut policy = Policy::load(&wasm, &RunnerOptions::default()).unwrap();
    assert!(policy.info().size_bytes > 10_000);
    assert_eq!(
        policy
            .validate_settings(&json!({"anything": [1, 2]}))
            .unwrap(),
        SettingsOutcome {
            valid: true,
            message: None
        }
    );
    for input in [bare_request(), review_request()] {
        for mode in [InstanceMode::Warm, InstanceMode::Fresh, InstanceMode::Warm] {
            let resp = policy
                .evaluate_with_mode(&input, &Value::Null, mode)
                .unwrap();
            assert_eq!(resp.to_json_line(), ACCEPT_LINE);
        }
    }
}

#[test]
fn noop_policy_handles_a_10_mb_request_under_the_default_memory_cap() {
    let wasm = noop_wasm();
    let mut request = bare_request();
    let blob = "x".repeat(1024);
    let annotations: serde_json::Map<String, Value> = (0..10 * 1024)
        .map(|i| (format!("example.com/key-{i}"), json!(blob)))
        .collect();
    request["object"]["metadata"]["annotations"] = Value::Object(annotations);
    assert!(request.to_string().len() > 10_000_000);
    let mut policy = Policy::load(&wasm, &RunnerOptions::default()).unwrap();
    for mode in [InstanceMode::Warm, InstanceMode::Fresh] {
        let resp = policy
            .evaluate_with_mode(&request, &Value::Null, mode)
            .unwrap();
        assert_eq!(resp.to_json_line(), ACCEPT_LINE, "{mode:?}");
    }
}
