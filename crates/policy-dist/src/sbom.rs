//! `sbom`: an SPDX 2.3 JSON SBOM of what is compiled into the policy module:
//! the root crate and its normal (runtime) dependencies for the wasm target,
//! as Cargo resolves them from `Cargo.lock`.
//!
//! The graph comes from `cargo metadata --locked --filter-platform <target>`
//! (Cargo's own resolver, the lock file untouched), walked from the root along
//! normal dependency edges only: dev-dependencies, build-dependencies and the
//! other workspace members (the tools, the tests) never enter. Checksums are
//! the registry checksums recorded in `Cargo.lock`. A `cargo install`ed SBOM
//! tool would give the same list at the cost of building it, and the ones
//! tried describe the whole workspace or every dependency kind unless told
//! otherwise; this keeps the rule "what ends up in the module" in one
//! place, pinned by `tests/dist/sbom.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    resolve: Option<Resolve>,
}

#[derive(Debug, Deserialize)]
struct Package {
    id: String,
    name: String,
    version: String,
    license: Option<String>,
    source: Option<String>,
    repository: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Debug, Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Debug, Deserialize)]
struct DepKind {
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    checksum: Option<String>,
}

/// A package of the SBOM.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SbomPackage {
    pub name: String,
    pub version: String,
    pub license: Option<String>,
    /// From crates.io (else a path dependency: the root).
    pub from_registry: bool,
    pub checksum: Option<String>,
    pub repository: Option<String>,
}

/// The root's runtime dependency tree: packages (root first) and the
/// `DEPENDS_ON` edges between them, by index.
#[derive(Debug, Clone)]
pub struct DependencyTree {
    pub packages: Vec<SbomPackage>,
    pub edges: BTreeSet<(usize, usize)>,
}

/// Runs `cargo metadata` in the workspace of `manifest_path` and keeps what
/// `package` needs at run time on `target`.
pub fn dependency_tree(
    manifest_path: &Path,
    package: &str,
    target: &str,
) -> Result<DependencyTree> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            target,
        ])
        .arg("--manifest-path")
        .arg(manifest_path)
        .output()
        .with_context(|| format!("cannot run {cargo} metadata"))?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).context("cannot read cargo metadata's output")?;
    let lock_path = manifest_path.with_file_name("Cargo.lock");
    let lock: Lock = toml::from_str(
        &std::fs::read_to_string(&lock_path)
            .with_context(|| format!("cannot read {}", lock_path.display()))?,
    )
    .with_context(|| format!("cannot parse {}", lock_path.display()))?;
    tree_from(metadata, &lock, package)
}

fn tree_from(metadata: Metadata, lock: &Lock, package: &str) -> Result<DependencyTree> {
    let root = metadata
        .packages
        .iter()
        .find(|p| p.name == package && p.source.is_none())
        .ok_or_else(|| anyhow!("no workspace package named {package}"))?
        .id
        .clone();
    let resolve = metadata
        .resolve
        .ok_or_else(|| anyhow!("cargo metadata returned no dependency graph"))?;
    let nodes: BTreeMap<&str, &Node> = resolve.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let by_id: BTreeMap<&str, &Package> = metadata
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();

    // Breadth first from the root, normal edges only.
    let mut order: Vec<String> = vec![root.clone()];
    let mut seen: BTreeSet<String> = BTreeSet::from([root.clone()]);
    let mut id_edges = Vec::new();
    let mut next = 0;
    while next < order.len() {
        let id = order[next].clone();
        next += 1;
        let node = nodes
            .get(id.as_str())
            .ok_or_else(|| anyhow!("{id} is missing from cargo metadata's graph"))?;
        for dep in &node.deps {
            if !dep.dep_kinds.iter().any(|k| k.kind.is_none()) {
                continue;
            }
            id_edges.push((id.clone(), dep.pkg.clone()));
            if seen.insert(dep.pkg.clone()) {
                order.push(dep.pkg.clone());
            }
        }
    }
    let index: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let packages = order
        .iter()
        .map(|id| {
            let p = by_id
                .get(id.as_str())
                .ok_or_else(|| anyhow!("{id} is missing from cargo metadata's packages"))?;
            Ok(SbomPackage {
                name: p.name.clone(),
                version: p.version.clone(),
                license: p.license.clone(),
                from_registry: p
                    .source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("registry+")),
                checksum: lock
                    .package
                    .iter()
                    .find(|l| l.name == p.name && l.version == p.version)
                    .and_then(|l| l.checksum.clone()),
                repository: p.repository.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let edges = id_edges
        .iter()
        .map(|(a, b)| (index[a.as_str()], index[b.as_str()]))
        .collect();
    Ok(DependencyTree { packages, edges })
}

fn spdx_id(p: &SbomPackage) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("SPDXRef-Package-{}-{}", clean(&p.name), clean(&p.version))
}

/// Old-style `MIT/Apache-2.0` as the SPDX expression it means.
fn spdx_license(license: Option<&str>) -> String {
    match license {
        Some(l) if !l.trim().is_empty() => {
            l.split('/').map(str::trim).collect::<Vec<_>>().join(" OR ")
        }
        _ => "NOASSERTION".to_owned(),
    }
}

impl DependencyTree {
    /// The SPDX 2.3 JSON document. `created` makes it reproducible.
    pub fn to_spdx(&self, created: DateTime<Utc>, tool: &str) -> Value {
        let root = &self.packages[0];
        let mut hasher = Sha256::new();
        for p in &self.packages {
            hasher.update(format!("{}@{}\n", p.name, p.version));
        }
        let namespace = format!(
            "https://spdx.org/spdxdocs/{}-{}-{}",
            root.name,
            root.version,
            hex::encode(hasher.finalize())
        );
        let packages: Vec<Value> = self
            .packages
            .iter()
            .map(|p| {
                let mut package = json!({
                    "name": p.name,
                    "SPDXID": spdx_id(p),
                    "versionInfo": p.version,
                    "downloadLocation": if p.from_registry {
                        format!("https://crates.io/api/v1/crates/{}/{}/download", p.name, p.version)
                    } else {
                        p.repository.clone().unwrap_or_else(|| "NOASSERTION".to_owned())
                    },
                    "filesAnalyzed": false,
                    "licenseConcluded": "NOASSERTION",
                    "licenseDeclared": spdx_license(p.license.as_deref()),
                    "copyrightText": "NOASSERTION",
                    "externalRefs": [{
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": format!("pkg:cargo/{}@{}", p.name, p.version),
                    }],
                });
                if let Some(checksum) = &p.checksum {
                    package["checksums"] =
                        json!([{ "algorithm": "SHA256", "checksumValue": checksum }]);
                }
                package
            })
            .collect();
        let mut relationships = vec![json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": spdx_id(root),
        })];
        for (from, to) in &self.edges {
            relationships.push(json!({
                "spdxElementId": spdx_id(&self.packages[*from]),
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": spdx_id(&self.packages[*to]),
            }));
        }
        json!({
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": format!("{}-{}", root.name, root.version),
            "documentNamespace": namespace,
            "creationInfo": {
                "created": created.to_rfc3339_opts(SecondsFormat::Secs, true),
                "creators": [format!("Tool: {tool}")],
            },
            "documentDescribes": [spdx_id(root)],
            "packages": packages,
            "relationships": relationships,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_and_ids() {
        assert_eq!(spdx_license(Some("MIT/Apache-2.0")), "MIT OR Apache-2.0");
        assert_eq!(spdx_license(Some("MIT OR Apache-2.0")), "MIT OR Apache-2.0");
        assert_eq!(spdx_license(None), "NOASSERTION");
        let p = SbomPackage {
            name: "serde_json".to_owned(),
            version: "1.0.0+x".to_owned(),
            license: None,
            from_registry: true,
            checksum: None,
            repository: None,
        };
        assert_eq!(spdx_id(&p), "SPDXRef-Package-serde-json-1.0.0-x");
    }
}
