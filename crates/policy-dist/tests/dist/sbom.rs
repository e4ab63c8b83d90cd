//! The SBOM: what `make sbom` writes lists the policy's runtime dependencies
//! with the versions of Cargo.lock, and nothing from the dev-dependencies or
//! the tools of the workspace.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::common::{TempDir, repo_file};

/// `name → [versions]` from Cargo.lock.
fn locked() -> BTreeMap<String, Vec<String>> {
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_file("Cargo.lock")).unwrap()).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in lock["package"].as_array().unwrap() {
        out.entry(package["name"].as_str().unwrap().to_owned())
            .or_default()
            .push(package["version"].as_str().unwrap().to_owned());
    }
    out
}

#[test]
fn sbom_lists_the_runtime_dependencies_from_the_lock_file() {
    let work = TempDir::new("sbom");
    let output_path = work.path("policy-sbom.spdx.json");
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .arg("sbom")
        .arg("--manifest-path")
        .arg(repo_file("Cargo.toml"))
        .args(["--created-at", "@0", "-o"])
        .arg(&output_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sbom: Value = serde_json::from_slice(&std::fs::read(&output_path).unwrap()).unwrap();
    let packages = sbom["packages"].as_array().unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{}: {} packages\n", output_path.display(), packages.len())
    );

    assert_eq!(sbom["spdxVersion"], "SPDX-2.3");
    assert_eq!(sbom["dataLicense"], "CC0-1.0");
    assert_eq!(sbom["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(sbom["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    assert_eq!(
        sbom["creationInfo"]["creators"][0],
        format!("Tool: policy-dist-{}", env!("CARGO_PKG_VERSION"))
    );
    let root = &packages[0];
    assert_eq!(root["name"], "documentdb-upgrade-safety");
    let cargo_toml: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_file("Cargo.toml")).unwrap()).unwrap();
    assert_eq!(
        root["versionInfo"],
        cargo_toml["package"]["version"].as_str().unwrap()
    );
    assert_eq!(sbom["documentDescribes"][0], root["SPDXID"]);
    let relationships = sbom["relationships"].as_array().unwrap();
    assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");

    let locked = locked();
    let by_name: BTreeMap<&str, &Value> = packages
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p))
        .collect();
    for name in ["kubewarden-policy-sdk", "serde_json", "semver", "serde"] {
        let package = by_name
            .get(name)
            .unwrap_or_else(|| panic!("{name} is missing from the SBOM"));
        let version = package["versionInfo"].as_str().unwrap();
        assert!(
            locked[name].iter().any(|v| v == version),
            "{name} {version} is not the version in Cargo.lock ({:?})",
            locked[name]
        );
        assert_eq!(
            package["externalRefs"][0]["referenceLocator"],
            format!("pkg:cargo/{name}@{version}")
        );
        assert_eq!(package["checksums"][0]["algorithm"], "SHA256");
        assert_eq!(
            package["checksums"][0]["checksumValue"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
        // The root depends on it directly.
        assert!(
            relationships
                .iter()
                .any(|r| r["spdxElementId"] == root["SPDXID"]
                    && r["relationshipType"] == "DEPENDS_ON"
                    && r["relatedSpdxElement"] == package["SPDXID"])
        );
    }
    // Every package is one Cargo.lock has, at that version.
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let version = package["versionInfo"].as_str().unwrap();
        assert!(
            locked
                .get(name)
                .is_some_and(|v| v.iter().any(|v| v == version)),
            "{name} {version} is not in Cargo.lock"
        );
    }
    // Dev-dependencies, the tools and the other workspace members stay out.
    for absent in [
        "rstest",
        "proptest",
        "criterion",
        "test-support",
        "wasmtime",
        "wapc",
        "clap",
        "sigstore",
        "oci-client",
        "policy-dist",
        "policy-runner",
        "upgrade-checker",
        "tokio",
    ] {
        assert!(!by_name.contains_key(absent), "{absent} is in the SBOM");
    }
}

#[test]
fn an_unknown_package_is_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .arg("sbom")
        .arg("--manifest-path")
        .arg(repo_file("Cargo.toml"))
        .args(["-p", "no-such-crate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "Error: no workspace package named no-such-crate\n"
    );
}
