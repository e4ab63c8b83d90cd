//! The AdmissionRequest the API server sends for `dbs`, built the same way by
//! every Rust test that needs one: src/validation_tests.rs, tests/properties.rs
//! and crates/policy-dist/tests include this file with `#[path]`. (Not a test target itself:
//! cargo only discovers files directly under tests/.)

use serde_json::{Value, json};

/// `request.name`: messages fall back to it when the object has no name.
pub const REQUEST_NAME: &str = "test-db";

/// A bare AdmissionRequest for `documentdb.io/preview` `dbs`, with `object`
/// and `oldObject` set only when given (a missing one is a test case too).
pub fn admission_request(
    operation: &str,
    object: Option<Value>,
    old_object: Option<Value>,
) -> Value {
    let mut request = json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "resource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "requestKind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "requestResource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "name": REQUEST_NAME,
        "namespace": "default",
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "dryRun": false,
    });
    if let Some(object) = object {
        request["object"] = object;
    }
    if let Some(old_object) = old_object {
        request["oldObject"] = old_object;
    }
    request
}
