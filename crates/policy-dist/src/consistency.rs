//! Checks that the places that repeat a fact agree: one version everywhere,
//! and metadata rules that select what the module validates.

use std::collections::BTreeSet;

use crate::artifacthub::ArtifactHubPkg;
use crate::metadata::{Metadata, Operation, VERSION};

/// Every place the version appears, compared with `Cargo.toml`'s
/// `[package] version`. Empty when they agree.
pub fn version_disagreements(
    cargo_version: &str,
    metadata: &Metadata,
    pkg: &ArtifactHubPkg,
) -> Vec<String> {
    let mut out = metadata_version_disagreements(cargo_version, metadata);
    out.extend(package_version_disagreements(cargo_version, pkg));
    out
}

/// The metadata's version annotation against Cargo.toml's version.
pub fn metadata_version_disagreements(cargo_version: &str, metadata: &Metadata) -> Vec<String> {
    match metadata.annotation(VERSION) {
        Some(v) if v == cargo_version => Vec::new(),
        Some(v) => vec![format!(
            "metadata.yml {VERSION} is {v}, Cargo.toml says {cargo_version}"
        )],
        None => vec![format!("metadata.yml has no {VERSION}")],
    }
}

/// A generated Artifact Hub package against Cargo.toml's version: its
/// version, image tag, install instructions and release link.
pub fn package_version_disagreements(cargo_version: &str, pkg: &ArtifactHubPkg) -> Vec<String> {
    let mut out = Vec::new();
    let tag = format!(":v{cargo_version}");
    if pkg.version != cargo_version {
        out.push(format!(
            "artifacthub-pkg.yml version is {}, Cargo.toml says {cargo_version}",
            pkg.version
        ));
    }
    match &pkg.containers_images {
        Some(images) if !images.is_empty() => {
            for image in images {
                if !image.image.ends_with(&tag) {
                    out.push(format!(
                        "artifacthub-pkg.yml containersImages {} is not tagged {tag}",
                        image.image
                    ));
                }
            }
        }
        _ => out.push("artifacthub-pkg.yml has no containersImages".to_owned()),
    }
    if let Some(install) = &pkg.install
        && !install.contains(&format!("{tag}\n"))
    {
        out.push(format!(
            "artifacthub-pkg.yml install instructions do not pull {tag}"
        ));
    }
    for link in pkg.links.iter().flatten().filter(|l| l.name == "policy") {
        if !link.url.contains(&format!("/v{cargo_version}/")) {
            out.push(format!(
                "artifacthub-pkg.yml policy link {} is not the v{cargo_version} release",
                link.url
            ));
        }
    }
    out
}

/// What the module validates, as the module states it.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub group: &'a str,
    pub resource: &'a str,
    pub operations: &'a [&'a str],
    /// API versions the metadata must select (the module itself reads any).
    pub api_versions: &'a [&'a str],
}

/// Differences between the metadata's rules and the module's selection.
/// Exactly one rule, main resource only (no `dbs/status`: the status writes
/// of the operator must never reach the policy), not mutating. Empty when
/// they agree.
pub fn rule_disagreements(metadata: &Metadata, expected: &Selection) -> Vec<String> {
    let mut out = Vec::new();
    if metadata.mutating {
        out.push("metadata.yml says mutating: true; the policy never mutates".to_owned());
    }
    let [rule] = metadata.rules.as_slice() else {
        out.push(format!(
            "metadata.yml has {} rules, expected exactly one",
            metadata.rules.len()
        ));
        return out;
    };
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    if set(&rule.api_groups) != want(&[expected.group]) {
        out.push(format!(
            "apiGroups {:?}, the module validates {:?}",
            rule.api_groups, expected.group
        ));
    }
    if set(&rule.api_versions) != want(expected.api_versions) {
        out.push(format!(
            "apiVersions {:?}, expected {:?}",
            rule.api_versions, expected.api_versions
        ));
    }
    if set(&rule.resources) != want(&[expected.resource]) {
        out.push(format!(
            "resources {:?}, the module validates {:?} only (no subresource)",
            rule.resources, expected.resource
        ));
    }
    let ops: BTreeSet<String> = rule
        .operations
        .iter()
        .map(|o| Operation::as_str(*o).to_owned())
        .collect();
    if ops != want(expected.operations) {
        out.push(format!(
            "operations {ops:?}, the module validates {:?}",
            expected.operations
        ));
    }
    out
}
