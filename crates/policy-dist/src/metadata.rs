//! `policy-metadata/metadata.yml`, read and written in the shape of
//! policy-evaluator's `policy_metadata::Metadata` (kubewarden-controller
//! `crates/policy-evaluator/src/policy_metadata.rs`): camelCase keys, the same
//! defaults, the same field order when serialised into the module's
//! `io.kubewarden.metadata` custom section.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

pub const TITLE: &str = "io.kubewarden.policy.title";
pub const VERSION: &str = "io.kubewarden.policy.version";
pub const DESCRIPTION: &str = "io.kubewarden.policy.description";
pub const AUTHOR: &str = "io.kubewarden.policy.author";
pub const URL: &str = "io.kubewarden.policy.url";
pub const OCI_URL: &str = "io.kubewarden.policy.ociUrl";
pub const SOURCE: &str = "io.kubewarden.policy.source";
pub const LICENSE: &str = "io.kubewarden.policy.license";
pub const USAGE: &str = "io.kubewarden.policy.usage";
pub const SEVERITY: &str = "io.kubewarden.policy.severity";
pub const CATEGORY: &str = "io.kubewarden.policy.category";
pub const GITHUB_RELEASE_TAG: &str = "com.github.release.tag";
pub const ARTIFACTHUB_RESOURCES: &str = "io.artifacthub.resources";
pub const ARTIFACTHUB_DISPLAY_NAME: &str = "io.artifacthub.displayName";
pub const ARTIFACTHUB_KEYWORDS: &str = "io.artifacthub.keywords";
pub const HIDDEN_UI: &str = "io.kubewarden.hidden-ui";
/// Set by the annotating tool: kwctl writes its version here.
pub const KWCTL_VERSION: &str = "io.kubewarden.kwctl";

/// Name of the wasm custom section holding the metadata as JSON.
pub const CUSTOM_SECTION: &str = "io.kubewarden.metadata";

/// Severities the audit scanner copies into PolicyReports.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "CREATE")]
    Create,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "*")]
    All,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
            Operation::All => "*",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    pub api_version: String,
    pub kind: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionMode {
    #[default]
    #[serde(rename = "kubewarden-wapc")]
    KubewardenWapc,
    #[serde(rename = "opa")]
    Opa,
    #[serde(rename = "gatekeeper")]
    OpaGatekeeper,
    #[serde(rename = "wasi")]
    Wasi,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    #[default]
    #[serde(rename = "kubernetes")]
    Kubernetes,
    #[serde(rename = "raw")]
    Raw,
}

/// Field order is the order policy-evaluator serialises them in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Never written by hand: the annotating tool asks the module.
    #[serde(default)]
    pub protocol_version: Option<String>,
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    pub mutating: bool,
    #[serde(default = "default_true")]
    pub background_audit: bool,
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    #[serde(default)]
    pub policy_type: PolicyType,
    #[serde(default)]
    pub context_aware_resources: BTreeSet<ContextAwareResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_capabilities: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_kubewarden_version: Option<semver::Version>,
}

const fn default_true() -> bool {
    true
}

/// Top-level keys policy-evaluator knows. It ignores anything else silently,
/// which turns a typo (`backgroundaudit`) into a default: we warn instead.
const KNOWN_KEYS: [&str; 10] = [
    "protocolVersion",
    "rules",
    "annotations",
    "mutating",
    "backgroundAudit",
    "executionMode",
    "policyType",
    "contextAwareResources",
    "hostCapabilities",
    "minimumKubewardenVersion",
];

impl Metadata {
    pub fn from_yaml(text: &str) -> Result<Metadata> {
        serde_yaml::from_str(text).map_err(|e| anyhow!("Error unmarshalling metadata {e}"))
    }

    pub fn from_path(path: &Path) -> Result<Metadata> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Error opening metadata file {}", path.display()))?;
        Metadata::from_yaml(&text)
    }

    /// Top-level keys of a metadata document that policy-evaluator ignores.
    pub fn unknown_keys(text: &str) -> Vec<String> {
        let Ok(serde_yaml::Value::Mapping(map)) = serde_yaml::from_str::<serde_yaml::Value>(text)
        else {
            return Vec::new();
        };
        map.keys()
            .filter_map(|k| k.as_str())
            .filter(|k| !KNOWN_KEYS.contains(k))
            .map(str::to_owned)
            .collect()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// `io.kubewarden.policy.version`, parsed.
    pub fn version(&self) -> Result<semver::Version> {
        let text = self
            .annotation(VERSION)
            .ok_or_else(|| anyhow!("missing annotation {VERSION}"))?;
        semver::Version::parse(text)
            .map_err(|e| anyhow!("annotation {VERSION} {text:?} is not a semver version: {e}"))
    }

    /// The checks `kwctl annotate` runs (policy-evaluator's `Validate` derive),
    /// plus a few it leaves to release CI: at least one rule, a semver
    /// version, a known severity.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if self.rules.is_empty() {
            errors.push(
                "rules: at least one rule is required (a policy without rules is never called)"
                    .to_owned(),
            );
        }
        for (i, rule) in self.rules.iter().enumerate() {
            for e in rule.problems() {
                errors.push(format!("rules[{i}]: {e}"));
            }
        }
        if self.execution_mode == ExecutionMode::KubewardenWapc
            && self.protocol_version.as_deref() == Some("Unknown")
        {
            errors.push("Must specify a valid protocol version".to_owned());
        }
        for (i, r) in self.context_aware_resources.iter().enumerate() {
            if r.api_version.is_empty() || r.kind.is_empty() {
                errors.push(format!(
                    "contextAwareResources[{i}]: apiVersion and kind must not be empty"
                ));
            }
        }
        if let Some(annotations) = &self.annotations {
            if annotations.contains_key(VERSION)
                && let Err(e) = self.version()
            {
                errors.push(e.to_string());
            }
            if let Some(severity) = annotations.get(SEVERITY)
                && !SEVERITIES.contains(&severity.as_str())
            {
                errors.push(format!(
                    "annotation {SEVERITY} {severity:?} must be one of {}",
                    SEVERITIES.join(", ")
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            bail!("Metadata is invalid: {}", errors.join("; "))
        }
    }
}

impl Rule {
    /// policy-evaluator's rule validation: every list non-empty, `*` alone,
    /// resource/subresource wildcards as the API server accepts them.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, list) in [
            ("apiGroups", &self.api_groups),
            ("apiVersions", &self.api_versions),
        ] {
            if list.is_empty() {
                problems.push(format!("{name} must not be empty"));
            }
            if list.iter().any(|s| s == "*") && list.len() > 1 {
                problems.push(format!(
                    "{name}: No other elements can be defined when '*' is used"
                ));
            }
        }
        if self.resources.is_empty() {
            problems.push("resources must not be empty".to_owned());
        } else if let Err(e) = validate_resources(&self.resources) {
            problems.push(format!("resources: {e}"));
        }
        if self.operations.is_empty() {
            problems.push("operations must not be empty".to_owned());
        }
        if self.operations.contains(&Operation::All) && self.operations.len() > 1 {
            problems
                .push("operations: No other elements can be defined when '*' is used".to_owned());
        }
        problems
    }
}

/// Transposition of Kubernetes' admissionregistration resource validation, as
/// policy-evaluator does it.
fn validate_resources(data: &[String]) -> Result<(), String> {
    let mut resources_with_wildcard_subresources = BTreeSet::new();
    let mut subresources_with_wildcard_resource = BTreeSet::new();
    let mut has_double_wildcard = false;
    let mut has_single_wildcard = false;
    let mut has_resource_without_subresource = false;
    for resource in data {
        if resource.is_empty() {
            return Err("empty resource is not allowed".to_owned());
        }
        match resource.as_str() {
            "*/*" => has_double_wildcard = true,
            "*" => has_single_wildcard = true,
            _ => {}
        }
        let Some((res, sub)) = resource.split_once('/') else {
            has_resource_without_subresource = resource != "*";
            continue;
        };
        if resources_with_wildcard_subresources.contains(res) {
            return Err(format!(
                "if '{resource}/*' is present, must not specify {res}"
            ));
        }
        if subresources_with_wildcard_resource.contains(sub) {
            return Err(format!(
                "if '*/{sub}' is present, must not specify {resource}"
            ));
        }
        if sub == "*" {
            resources_with_wildcard_subresources.insert(res);
        }
        if res == "*" {
            subresources_with_wildcard_resource.insert(sub);
        }
    }
    if data.len() > 1 && has_double_wildcard {
        return Err("if '*/*' is present, must not specify other resources".to_owned());
    }
    if has_single_wildcard && has_resource_without_subresource {
        return Err(
            "if '*' is present, must not specify other resources without subresources".to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
rules:
- apiGroups: ["documentdb.io"]
  apiVersions: ["preview"]
  resources: ["dbs"]
  operations: ["CREATE", "UPDATE"]
mutating: false
annotations:
  io.kubewarden.policy.version: 0.1.0
"#;

    #[test]
    fn defaults_are_policy_evaluators() {
        let m = Metadata::from_yaml(MINIMAL).unwrap();
        assert!(m.background_audit);
        assert_eq!(m.execution_mode, ExecutionMode::KubewardenWapc);
        assert_eq!(m.policy_type, PolicyType::Kubernetes);
        assert!(m.context_aware_resources.is_empty());
        m.validate().unwrap();
    }

    #[test]
    fn serialises_in_policy_evaluator_order_and_casing() {
        let mut m = Metadata::from_yaml(MINIMAL).unwrap();
        m.protocol_version = Some("v1".to_owned());
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"protocolVersion":"v1","rules":[{"apiGroups":["documentdb.io"],"apiVersions":["preview"],"resources":["dbs"],"operations":["CREATE","UPDATE"]}],"annotations":{"io.kubewarden.policy.version":"0.1.0"},"mutating":false,"backgroundAudit":true,"executionMode":"kubewarden-wapc","policyType":"kubernetes","contextAwareResources":[]}"#
        );
    }

    #[test]
    fn rejects_what_policy_evaluator_rejects() {
        let bad = |yaml: &str| {
            Metadata::from_yaml(yaml)
                .and_then(|m| m.validate())
                .unwrap_err()
                .to_string()
        };
        assert!(bad("rules: []\nmutating: false").contains("at least one rule"));
        assert!(
            bad("rules:\n- {apiGroups: [], apiVersions: [v1], resources: [pods], operations: [CREATE]}\nmutating: false")
                .contains("apiGroups must not be empty")
        );
        assert!(
            bad("rules:\n- {apiGroups: ['*', x], apiVersions: [v1], resources: [pods], operations: [CREATE]}\nmutating: false")
                .contains("'*' is used")
        );
        assert!(
            bad("rules:\n- {apiGroups: [x], apiVersions: [v1], resources: ['*', pods], operations: [CREATE]}\nmutating: false")
                .contains("without subresources")
        );
        assert!(
            bad("rules:\n- {apiGroups: [x], apiVersions: [v1], resources: [pods], operations: ['*', CREATE]}\nmutating: false")
                .contains("'*' is used")
        );
        assert!(
            Metadata::from_yaml("rules:\n- {apiGroups: [x], apiVersions: [v1], resources: [pods], operations: [PATCH]}\nmutating: false")
                .unwrap_err()
                .to_string()
                .contains("unknown variant")
        );
        assert!(
            bad("rules:\n- {apiGroups: [x], apiVersions: [v1], resources: [pods], operations: [CREATE]}\nmutating: false\nannotations: {io.kubewarden.policy.version: v0.1}")
                .contains("not a semver")
        );
        assert!(
            bad("rules:\n- {apiGroups: [x], apiVersions: [v1], resources: [pods], operations: [CREATE]}\nmutating: false\nannotations: {io.kubewarden.policy.severity: urgent}")
                .contains("must be one of")
        );
        // `mutating` is required, as in policy-evaluator.
        assert!(
            Metadata::from_yaml(
                "rules:\n- {apiGroups: [x], apiVersions: [v1], resources: [pods], operations: [CREATE]}"
            )
            .is_err()
        );
    }

    #[test]
    fn subresource_wildcards_follow_the_api_server() {
        let ok =
            |r: &[&str]| validate_resources(&r.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ok(&["*", "a/b", "a/*", "*/b"]).is_ok());
        assert!(ok(&["a/*", "a"]).is_ok());
        assert!(ok(&["a/*", "a/x"]).is_err());
        assert!(ok(&["*/a", "x/a"]).is_err());
        assert!(ok(&["*/*", "a"]).is_err());
        assert!(ok(&[""]).is_err());
    }

    #[test]
    fn unknown_top_level_keys_are_reported() {
        assert_eq!(
            Metadata::unknown_keys(&format!(
                "{MINIMAL}backgroundaudit: false\ncontextAware: false\n"
            )),
            vec!["backgroundaudit".to_owned(), "contextAware".to_owned()]
        );
        assert!(Metadata::unknown_keys(MINIMAL).is_empty());
    }
}
