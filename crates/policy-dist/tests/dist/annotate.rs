//! `policy-dist annotate` on the real module: a valid module, one
//! `io.kubewarden.metadata` section that policy-evaluator's reader
//! (wasmparser) parses back into the metadata plus protocolVersion, usage and
//! tool version, and unchanged verdicts.

use std::process::Command;
use std::sync::OnceLock;

use policy_dist::annotate::{annotate, read_metadata, tool_version};
use policy_dist::metadata::{self, Metadata};
use policy_dist::registry::Registry;
use policy_runner::{Policy, RunnerOptions};
use serde_json::{Value, json};
use wasmparser::{Parser, Payload};

use crate::common::{
    TempDir, admission_request, documentdb, policy_wasm, read_text, repo_file, verdict_fixtures,
};

const USAGE: &str = "# DocumentDB upgrade safety\n\nA multi-line usage text.\n";

/// The metadata sections, read the way policy-evaluator's
/// `Metadata::from_contents` reads them.
fn metadata_sections(module: &[u8]) -> Vec<Value> {
    Parser::new(0)
        .parse_all(module)
        .filter_map(|payload| match payload.expect("the module parses") {
            Payload::CustomSection(reader) if reader.name() == metadata::CUSTOM_SECTION => {
                Some(serde_json::from_slice(reader.data()).expect("the section is JSON"))
            }
            _ => None,
        })
        .collect()
}

/// Annotated once per test binary: each annotation instantiates the module.
fn annotated() -> &'static [u8] {
    static MODULE: OnceLock<Vec<u8>> = OnceLock::new();
    MODULE.get_or_init(|| {
        annotate(
            policy_wasm(),
            &read_text("policy-metadata/metadata.yml"),
            Some(USAGE),
        )
        .expect("annotate succeeds")
        .module
    })
}

#[test]
fn annotated_module_is_valid_and_carries_the_metadata() {
    let module = annotated();
    wasmparser::Validator::new()
        .validate_all(module)
        .expect("the annotated module is a valid WebAssembly module");

    let sections = metadata_sections(module);
    assert_eq!(sections.len(), 1);
    let section = &sections[0];
    assert_eq!(section["protocolVersion"], json!("v1"));
    assert_eq!(section["mutating"], json!(false));
    assert_eq!(section["backgroundAudit"], json!(true));
    assert_eq!(section["executionMode"], json!("kubewarden-wapc"));
    assert_eq!(section["policyType"], json!("kubernetes"));
    // The restore check's Backup and PersistentVolume, the ImageVolume check's Nodes.
    assert_eq!(
        section["contextAwareResources"],
        json!([
            {"apiVersion": "documentdb.io/preview", "kind": "Backup"},
            {"apiVersion": "v1", "kind": "Node"},
            {"apiVersion": "v1", "kind": "PersistentVolume"},
        ])
    );
    let annotations = &section["annotations"];
    assert_eq!(annotations[metadata::USAGE], json!(USAGE));
    assert_eq!(annotations[metadata::KWCTL_VERSION], json!(tool_version()));

    // Everything written in metadata.yml is there, unchanged.
    let source = Metadata::from_yaml(&read_text("policy-metadata/metadata.yml")).unwrap();
    let mut back: Metadata = serde_json::from_value(section.clone()).unwrap();
    assert_eq!(back.protocol_version.as_deref(), Some("v1"));
    let extra = back.annotations.as_mut().unwrap();
    extra.remove(metadata::USAGE);
    extra.remove(metadata::KWCTL_VERSION);
    back.protocol_version = None;
    assert_eq!(back, source);
    assert_eq!(
        read_metadata(module).unwrap().as_ref().map(|m| &m.rules),
        Some(&source.rules)
    );
}

#[test]
fn annotating_again_replaces_the_section() {
    let once = annotated();
    let twice = annotate(
        once,
        &read_text("policy-metadata/metadata.yml"),
        Some("other usage"),
    )
    .unwrap()
    .module;
    let sections = metadata_sections(&twice);
    assert_eq!(sections.len(), 1);
    assert_eq!(
        sections[0]["annotations"][metadata::USAGE],
        json!("other usage")
    );
    // The code is untouched: only the metadata section moved.
    assert!(twice.len() < once.len() + 64);
}

#[test]
fn annotated_module_gives_the_same_verdicts() {
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut bare = Policy::load(policy_wasm(), &options).expect("bare module loads");
    let mut annotated = Policy::load(annotated(), &options).expect("annotated module loads");
    for (name, request, allowed) in verdict_fixtures() {
        let a = bare.evaluate(&request, &Value::Null).unwrap();
        let b = annotated.evaluate(&request, &Value::Null).unwrap();
        assert_eq!(a, b, "{name}");
        assert_eq!(a.allowed, allowed, "{name}: {}", a.to_json_line());
    }
}

#[test]
fn refuses_what_kwctl_annotate_refuses() {
    let metadata_yaml = read_text("policy-metadata/metadata.yml");
    // Not a waPC policy: `(module)`.
    let err = annotate(b"\0asm\x01\0\0\0", &metadata_yaml, None).unwrap_err();
    assert!(
        err.to_string().contains("Cannot compute ProtocolVersion"),
        "{err}"
    );
    let err = annotate(b"garbage", &metadata_yaml, None).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a WebAssembly module"),
        "{err:#}"
    );
    let broken = metadata_yaml.replace("operations: [\"CREATE\", \"UPDATE\"]", "operations: []");
    let err = annotate(policy_wasm(), &broken, None).unwrap_err();
    assert!(
        err.to_string().contains("operations must not be empty"),
        "{err}"
    );
    let wrong_mode = metadata_yaml.replace("executionMode: kubewarden-wapc", "executionMode: opa");
    assert!(annotate(policy_wasm(), &wrong_mode, None).is_err());
}

#[test]
fn push_refuses_a_module_that_is_not_annotated() {
    let registry = Registry::new(Default::default()).unwrap();
    let err = registry
        .push(policy_wasm(), "registry://127.0.0.1:1/never-contacted:v0")
        .unwrap_err();
    assert!(err.to_string().contains("not annotated"), "{err}");
}

#[test]
fn command_line_annotate_writes_the_same_module() {
    let dir = TempDir::new("annotate-cli");
    std::fs::write(dir.path("policy.wasm"), policy_wasm()).unwrap();
    std::fs::write(dir.path("README.md"), USAGE).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .arg("annotate")
        .arg("-m")
        .arg(repo_file("policy-metadata/metadata.yml"))
        .arg("-u")
        .arg(dir.path("README.md"))
        .arg("-o")
        .arg(dir.path("annotated-policy.wasm"))
        .arg(dir.path("policy.wasm"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path("annotated-policy.wasm")).unwrap(),
        annotated()
    );

    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(["annotate", "-o", "x.wasm", "policy.wasm"])
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--metadata-path"));
}

/// The metadata's rules and the module's own notion of what it validates
/// agree in behaviour, not only in constants: a request that breaks Rule A is
/// denied exactly when the metadata's rules would send it to the policy.
#[test]
fn module_denies_exactly_what_the_rules_select() {
    let metadata = Metadata::from_yaml(&read_text("policy-metadata/metadata.yml")).unwrap();
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut policy = Policy::load(annotated(), &options).unwrap();
    // schemaVersion 0.112.0 on a 0.110.0 binary; on UPDATE the schema changes,
    // so the spec rules are re-checked.
    let bad = documentdb("0.110.0", Some("0.112.0"), None);
    let stored = documentdb("0.110.0", Some("0.110.0"), None);
    for operation in ["CREATE", "UPDATE", "DELETE", "CONNECT"] {
        for sub_resource in ["", "status"] {
            let mut request = match operation {
                "CREATE" => admission_request(operation, Some(bad.clone()), None),
                "DELETE" => admission_request(operation, None, Some(bad.clone())),
                _ => admission_request(operation, Some(bad.clone()), Some(stored.clone())),
            };
            if !sub_resource.is_empty() {
                request["subResource"] = json!(sub_resource);
                request["requestSubResource"] = json!(sub_resource);
            }
            let resource = if sub_resource.is_empty() {
                "dbs".to_owned()
            } else {
                format!("dbs/{sub_resource}")
            };
            let selected = metadata.rules.iter().any(|rule| {
                rule.operations
                    .iter()
                    .any(|o| o.as_str() == operation || o.as_str() == "*")
                    && rule.resources.contains(&resource)
                    && rule.api_groups.iter().any(|g| g == "documentdb.io")
            });
            let response = policy.evaluate(&request, &Value::Null).unwrap();
            assert_eq!(
                !response.allowed,
                selected,
                "{operation} {resource}: metadata selects it: {selected}, module: {}",
                response.to_json_line()
            );
        }
    }
}
