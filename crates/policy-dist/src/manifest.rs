//! `scaffold manifest`: the ClusterAdmissionPolicy / AdmissionPolicy that
//! `kwctl scaffold manifest -t <type> registry://…` prints (kubewarden-controller
//! `crates/kwctl/src/scaffold/{manifest,kubewarden_crds}.rs`): name from
//! `io.kubewarden.policy.title`, severity and category annotations, rules and
//! `mutating` from the metadata, `backgroundAudit` only when false, settings
//! as given. kwctl reads the metadata from the pulled module; here it comes
//! from `metadata.yml` or an annotated module.

use anyhow::{Result, bail};
use serde_yaml::{Mapping, Value};

use crate::metadata::{self, Metadata};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestType {
    ClusterAdmissionPolicy,
    AdmissionPolicy,
}

impl std::str::FromStr for ManifestType {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ClusterAdmissionPolicy" => Ok(ManifestType::ClusterAdmissionPolicy),
            "AdmissionPolicy" => Ok(ManifestType::AdmissionPolicy),
            other => {
                bail!("unknown manifest type {other:?} (ClusterAdmissionPolicy or AdmissionPolicy)")
            }
        }
    }
}

impl ManifestType {
    fn kind(self) -> &'static str {
        match self {
            ManifestType::ClusterAdmissionPolicy => "ClusterAdmissionPolicy",
            ManifestType::AdmissionPolicy => "AdmissionPolicy",
        }
    }
}

/// The Kubernetes resource, as a YAML value (keys in kwctl's order).
pub fn scaffold(
    metadata: &Metadata,
    kind: ManifestType,
    module_uri: &str,
    settings: Mapping,
    title: Option<&str>,
) -> Result<Value> {
    metadata.validate()?;
    let title = title.or_else(|| metadata.annotation(metadata::TITLE));
    if let Some(title) = title
        && !is_rfc1123_name(title)
    {
        bail!(
            "Invalid title '{title}'. Must conform to RFC 1123: use lowercase alphanumeric chars, '-' or '.', and start/end with an alphanumeric character."
        );
    }

    let mut object_meta = Mapping::new();
    let mut annotations = Mapping::new();
    for key in [metadata::CATEGORY, metadata::SEVERITY] {
        if let Some(value) = metadata.annotation(key) {
            annotations.insert(key.into(), value.into());
        }
    }
    if !annotations.is_empty() {
        object_meta.insert("annotations".into(), Value::Mapping(annotations));
    }
    if let Some(title) = title {
        object_meta.insert("name".into(), title.into());
    }

    let mut spec = Mapping::new();
    spec.insert("module".into(), module_uri.into());
    spec.insert("settings".into(), Value::Mapping(settings));
    spec.insert("rules".into(), serde_yaml::to_value(&metadata.rules)?);
    spec.insert("mutating".into(), metadata.mutating.into());
    if !metadata.background_audit {
        spec.insert("backgroundAudit".into(), false.into());
    }
    // kwctl leaves contextAwareResources empty unless --allow-context-aware;
    // this policy declares none.

    let mut resource = Mapping::new();
    resource.insert("apiVersion".into(), "policies.kubewarden.io/v1".into());
    resource.insert("kind".into(), kind.kind().into());
    resource.insert("metadata".into(), Value::Mapping(object_meta));
    resource.insert("spec".into(), Value::Mapping(spec));
    Ok(Value::Mapping(resource))
}

fn is_rfc1123_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = r#"
rules:
- apiGroups: ["documentdb.io"]
  apiVersions: ["preview"]
  resources: ["dbs"]
  operations: ["CREATE", "UPDATE"]
mutating: false
backgroundAudit: true
annotations:
  io.kubewarden.policy.title: documentdb-upgrade-safety
  io.kubewarden.policy.severity: medium
  io.kubewarden.policy.category: Resource validation
"#;

    #[test]
    fn cluster_admission_policy_as_kwctl_prints_it() {
        let m = Metadata::from_yaml(METADATA).unwrap();
        let v = scaffold(
            &m,
            ManifestType::ClusterAdmissionPolicy,
            "registry://ghcr.io/o/p:v0.1.0",
            Mapping::new(),
            None,
        )
        .unwrap();
        assert_eq!(
            serde_yaml::to_string(&v).unwrap(),
            "apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata:
  annotations:
    io.kubewarden.policy.category: Resource validation
    io.kubewarden.policy.severity: medium
  name: documentdb-upgrade-safety
spec:
  module: registry://ghcr.io/o/p:v0.1.0
  settings: {}
  rules:
  - apiGroups:
    - documentdb.io
    apiVersions:
    - preview
    resources:
    - dbs
    operations:
    - CREATE
    - UPDATE
  mutating: false
"
        );
    }

    #[test]
    fn background_audit_false_is_written_and_titles_are_checked() {
        let mut m = Metadata::from_yaml(METADATA).unwrap();
        m.background_audit = false;
        let v = scaffold(
            &m,
            ManifestType::AdmissionPolicy,
            "x",
            Mapping::new(),
            Some("ok-name"),
        )
        .unwrap();
        assert_eq!(v["spec"]["backgroundAudit"], Value::Bool(false));
        assert_eq!(v["metadata"]["name"], Value::from("ok-name"));
        assert!(
            scaffold(
                &m,
                ManifestType::AdmissionPolicy,
                "x",
                Mapping::new(),
                Some("Bad_Name")
            )
            .is_err()
        );
    }
}
