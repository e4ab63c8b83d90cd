//! The committed fixtures under `e2e/fixtures/` are exactly what the builder
//! writes: a scenario changed in `src/fixtures.rs` without regenerating, or a
//! fixture edited by hand, fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use test_support::{fixtures, sessions};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures")
}

const REGENERATE: &str = "cargo run -p test-support --bin generate-fixtures";

#[test]
fn committed_fixtures_are_what_the_builder_writes() {
    let root = fixtures_root();
    let mut stale = Vec::new();
    for file in fixtures::all() {
        let path = root.join(&file.path);
        match std::fs::read(&path) {
            Ok(committed) if committed == file.bytes => {}
            Ok(_) => stale.push(format!("{} differs", file.path)),
            Err(e) => stale.push(format!("{}: {e}", file.path)),
        }
    }
    assert!(stale.is_empty(), "run `{REGENERATE}`: {stale:#?}");
}

#[test]
fn the_fixture_folders_hold_no_file_the_builder_does_not_write() {
    let root = fixtures_root();
    let written: BTreeSet<String> = fixtures::all().into_iter().map(|f| f.path).collect();
    let mut extra = Vec::new();
    for folder in fixtures::FOLDERS {
        for entry in std::fs::read_dir(root.join(folder)).expect("the folder exists") {
            let name = entry.expect("readable folder").file_name();
            let path = format!("{folder}/{}", name.to_string_lossy());
            if !written.contains(&path) {
                extra.push(path);
            }
        }
    }
    assert!(extra.is_empty(), "not written by `{REGENERATE}`: {extra:?}");
}

/// Each fixture is a bare AdmissionRequest (or, under admission-review/, one
/// wrapped in an AdmissionReview) named after its object, as the API server
/// names it.
#[test]
fn fixtures_are_admission_requests_named_after_their_object() {
    for file in fixtures::all() {
        let value: Value = serde_json::from_slice(&file.bytes).expect("fixtures are JSON");
        let request = if file.path.starts_with("admission-review/") {
            assert_eq!(value["kind"], "AdmissionReview", "{}", file.path);
            &value["request"]
        } else {
            &value
        };
        // The audit scanner's requests carry the object's own uid.
        let uid = if file.path.starts_with("audit/") {
            &request["object"]["metadata"]["uid"]
        } else {
            &Value::from(test_support::REQUEST_UID)
        };
        assert_eq!(&request["uid"], uid, "{}", file.path);
        assert!(request["operation"].is_string(), "{}", file.path);
        // (malformed/create-without-object carries neither.)
        if let Some(object) = [&request["object"], &request["oldObject"]]
            .into_iter()
            .find(|object| object.is_object())
        {
            assert_eq!(request["name"], object["metadata"]["name"], "{}", file.path);
        }
    }
}

#[test]
fn the_large_benchmark_request_carries_a_mebibyte_per_object() {
    let large = fixtures::large_object();
    for key in ["object", "oldObject"] {
        let size = serde_json::to_vec(&large[key]).unwrap().len();
        assert!(
            (1 << 20..(1 << 20) + 4096).contains(&size),
            "{key}: {size} bytes"
        );
    }
}

#[test]
fn committed_sessions_are_what_the_builder_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/sessions");
    let mut stale = Vec::new();
    for file in sessions::all() {
        match std::fs::read(root.join(&file.path)) {
            Ok(committed) if committed == file.bytes => {}
            Ok(_) => stale.push(format!("{} differs", file.path)),
            Err(e) => stale.push(format!("{}: {e}", file.path)),
        }
    }
    assert!(stale.is_empty(), "run `{REGENERATE}`: {stale:#?}");
}

/// Each session is a list of exchanges whose requests carry kwctl's tags and
/// whose successful payloads are JSON.
#[test]
fn sessions_are_kwctl_sessions() {
    for file in sessions::all() {
        let text = String::from_utf8(file.bytes).unwrap();
        let exchanges = text.matches("- type: Exchange\n").count();
        assert!(exchanges >= 1, "{}", file.path);
        let tags = text.matches("    !KubernetesListResourceAll\n").count()
            + text.matches("    !KubernetesGetResource\n").count();
        assert_eq!(tags, exchanges, "{}", file.path);
        for line in text.lines() {
            if let Some(payload) = line.strip_prefix("    payload: ") {
                let payload: String = serde_json::from_str(payload).expect("a JSON string");
                let _: Value = serde_json::from_str(&payload).expect("a JSON payload");
            }
        }
    }
}
