//! A real OCI round trip: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1, the annotated module pushed as a Kubewarden policy
//! artifact by the `policy-dist` command line, pulled back by tag and by
//! digest, checked byte for byte and digest for digest, and evaluated through
//! the e2e runner with the same verdicts as the local module.

use std::process::Command;

use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use policy_dist::annotate::{annotate, tool_version};
use policy_dist::metadata::{self, Metadata};
use policy_dist::registry::{OCI_SOURCE_ANNOTATION, Registry, Sources, sha256_digest};
use policy_runner::{Policy, RunnerOptions};
use serde_json::Value;

use crate::common::local_registry::{LocalRegistry, header};
use crate::common::{TempDir, policy_wasm, read_text, verdict_fixtures};

const REPOSITORY: &str = "documentdb-upgrade-safety";

fn policy_dist(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(args)
        .output()
        .expect("policy-dist runs");
    assert!(
        output.status.success(),
        "policy-dist {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn push_pull_by_tag_and_digest_and_evaluate() {
    let registry_process = LocalRegistry::start();
    let host = registry_process.host();
    let work = TempDir::new("oci");

    // The artifact: the module annotated with the project's metadata and a
    // multi-line usage text (which must stay out of the OCI annotations).
    let metadata_yaml = read_text("policy-metadata/metadata.yml");
    let source = Metadata::from_yaml(&metadata_yaml).unwrap();
    let version = source.version().unwrap();
    let annotated = annotate(policy_wasm(), &metadata_yaml, Some("# Usage\n\nline two\n"))
        .unwrap()
        .module;
    let annotated_path = work.path("annotated-policy.wasm");
    std::fs::write(&annotated_path, &annotated).unwrap();
    // The file `kwctl push/pull --sources-path` reads.
    let sources_path = work.path("sources.yml");
    std::fs::write(
        &sources_path,
        format!("insecure_sources:\n  - \"{host}\"\n"),
    )
    .unwrap();
    let sources = sources_path.to_str().unwrap();

    // ---- push, as `kwctl push -o json`
    let tag_uri = format!("registry://{host}/{REPOSITORY}:v{version}");
    let stdout = policy_dist(&[
        "push",
        "--sources-path",
        sources,
        "-o",
        "json",
        annotated_path.to_str().unwrap(),
        &tag_uri,
    ]);
    let pushed: Value = serde_json::from_str(stdout.trim()).expect("push -o json prints JSON");
    let immutable_ref = pushed["immutable_ref"]
        .as_str()
        .expect("immutable_ref")
        .to_owned();
    let (repo_part, digest) = immutable_ref.split_once('@').expect("name@digest");
    assert_eq!(repo_part, format!("{host}/{REPOSITORY}"));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    let registry = Registry::new(Sources::from_path(&sources_path).unwrap()).unwrap();

    // `--insecure` instead of a sources file; the same content gives the same
    // manifest, hence the same immutable reference under another tag.
    let latest_uri = format!("registry://{host}/{REPOSITORY}:latest");
    let stdout = policy_dist(&[
        "push",
        "--insecure",
        annotated_path.to_str().unwrap(),
        &latest_uri,
    ]);
    assert_eq!(
        stdout.trim(),
        format!("Policy successfully pushed: {immutable_ref}")
    );

    // ---- the manifest, exactly as the registry serves it
    let (raw, served_digest) = registry.manifest_raw(&tag_uri).unwrap();
    assert_eq!(served_digest, digest, "tag resolves to the pushed manifest");
    assert_eq!(
        sha256_digest(&raw),
        digest,
        "digest = sha256 of the manifest bytes"
    );
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    // Like kwctl (same oci-client `OciImageManifest::build`), the manifest
    // carries no `mediaType` field; its type travels as the Content-Type the
    // registry stored and serves, checked here without the OCI client.
    assert!(manifest.get("mediaType").is_none());
    let (status, headers, body) = registry_process.get(
        &format!("/v2/{REPOSITORY}/manifests/{digest}"),
        OCI_IMAGE_MEDIA_TYPE,
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some(OCI_IMAGE_MEDIA_TYPE));
    assert_eq!(header(&headers, "docker-content-digest"), Some(digest));
    assert_eq!(body, raw);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["config"]["digest"], sha256_digest(b"{}"));
    assert_eq!(manifest["config"]["size"], 2);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(layers[0]["digest"], sha256_digest(&annotated));
    assert_eq!(layers[0]["size"], annotated.len());
    let annotations = &manifest["annotations"];
    for key in [
        metadata::TITLE,
        metadata::VERSION,
        metadata::OCI_URL,
        metadata::SOURCE,
        metadata::LICENSE,
    ] {
        assert_eq!(annotations[key], source.annotation(key).unwrap(), "{key}");
    }
    assert_eq!(
        annotations[OCI_SOURCE_ANNOTATION],
        source.annotation(metadata::SOURCE).unwrap()
    );
    assert_eq!(annotations[metadata::KWCTL_VERSION], tool_version());
    assert!(
        annotations.get(metadata::USAGE).is_none(),
        "multi-line annotations are dropped"
    );

    // ---- pull by tag, as `kwctl pull` does it
    let by_tag = registry.pull(&tag_uri).unwrap();
    assert_eq!(by_tag.module, annotated);
    assert_eq!(by_tag.digest, digest);
    assert_eq!(by_tag.manifest.layers[0].media_type, WASM_LAYER_MEDIA_TYPE);

    // ---- pull by digest, through the command line
    let digest_uri = format!("registry://{immutable_ref}");
    let pulled_path = work.path("pulled.wasm");
    policy_dist(&[
        "pull",
        "--sources-path",
        sources,
        "-o",
        pulled_path.to_str().unwrap(),
        &digest_uri,
    ]);
    let by_digest = std::fs::read(&pulled_path).unwrap();
    assert_eq!(by_digest, annotated);
    assert_eq!(registry.pull(&digest_uri).unwrap().digest, digest);

    // ---- the pulled module decides like the local one
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut local = Policy::load(policy_wasm(), &options).unwrap();
    let mut pulled = Policy::load(by_digest, &options).unwrap();
    for (name, request, allowed) in verdict_fixtures() {
        let expected = local.evaluate(&request, &Value::Null).unwrap();
        let actual = pulled.evaluate(&request, &Value::Null).unwrap();
        assert_eq!(actual, expected, "{name}");
        assert_eq!(actual.allowed, allowed, "{name}: {}", actual.to_json_line());
    }

    // ---- what kwctl refuses, refused here too
    let plain = Registry::new(Sources::default()).unwrap();
    let err = plain.pull(&tag_uri).unwrap_err().to_string();
    assert!(
        err.contains("insecure_sources"),
        "a plain-HTTP registry needs insecure_sources: {err}"
    );
    let err = registry
        .pull(&format!("registry://{host}/{REPOSITORY}:v0.0.0-missing"))
        .unwrap_err();
    assert!(!err.to_string().is_empty());

    drop(registry_process);
}
