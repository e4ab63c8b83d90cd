//! The facts repeated across Cargo.toml, policy-metadata/, artifacthub/ and
//! the install docs agree with each other and with the module.

const INSTALL_DOCS: &str = "README.md";

use std::collections::BTreeSet;

use chrono::DateTime;
use documentdb_upgrade_safety::model::{GROUP, KIND, OPERATIONS, RESOURCE};
use documentdb_upgrade_safety::settings::{
    ALLOW_AUTO_SCHEMA_VERSION, DEFAULT_DOCUMENTDB_VERSION, IMAGE_VOLUME_CHECK,
    REJECT_UNKNOWN_BINARY_VERSION, SIDECAR_KEYS, SIDECAR_RESOURCES, STATUS_WRITERS, Settings,
};
use policy_dist::artifacthub::{self, ArtifactHubPkg};
use policy_dist::consistency::{Selection, rule_disagreements, version_disagreements};
use policy_dist::manifest::{self, ManifestType};
use policy_dist::metadata::{self, ExecutionMode, Metadata, Operation};
use serde_json::Value as Json;
use serde_yaml::Value;

use crate::common::{read_text, repo_file, yaml_blocks};

const METADATA: &str = "policy-metadata/metadata.yml";
const QUESTIONS: &str = "policy-metadata/questions-ui.yml";
const PKG: &str = "artifacthub/artifacthub-pkg.yml";

fn metadata() -> Metadata {
    Metadata::from_yaml(&read_text(METADATA)).expect("metadata.yml parses as Kubewarden metadata")
}

/// The package `make artifacthub` writes for a release (`kwctl scaffold
/// artifacthub`, or policy-dist's stand-in), as file content.
pub fn generated_pkg_text() -> String {
    let created_at = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc();
    ArtifactHubPkg::from_metadata(&metadata(), created_at, Some(&read_text(QUESTIONS)))
        .expect("the metadata scaffolds")
        .to_file_content()
        .expect("the package serialises")
}

fn generated_pkg() -> ArtifactHubPkg {
    serde_yaml::from_str(&generated_pkg_text()).expect("the generated package parses")
}

fn cargo_version() -> String {
    let manifest: toml::Table = read_text("Cargo.toml").parse().expect("Cargo.toml parses");
    manifest["package"]["version"]
        .as_str()
        .expect("[package] version is a string")
        .to_owned()
}

/// What the module says it validates; the metadata selects the `preview`
/// version the operator serves (the module reads any version of the group).
const SELECTION: Selection = Selection {
    group: GROUP,
    resource: RESOURCE,
    operations: &OPERATIONS,
    api_versions: &["preview"],
};

// ------------------------------------------------------------------ rules

#[test]
fn metadata_rules_select_what_the_module_validates() {
    let m = metadata();
    assert_eq!(rule_disagreements(&m, &SELECTION), Vec::<String>::new());
    assert!(!m.mutating);
    let rule = &m.rules[0];
    assert!(
        !rule.resources.iter().any(|r| r.contains('/')),
        "no subresource (dbs/status is the operator's own status writes): {:?}",
        rule.resources
    );
    assert_eq!(m.annotation(metadata::ARTIFACTHUB_RESOURCES), Some(KIND));
}

#[test]
fn rule_check_catches_every_kind_of_drift() {
    let drifted = |change: fn(&mut Metadata)| {
        let mut m = metadata();
        change(&mut m);
        let problems = rule_disagreements(&m, &SELECTION);
        assert!(!problems.is_empty(), "drift not detected");
        problems.join("\n")
    };
    assert!(drifted(|m| m.rules[0].resources.push("dbs/status".into())).contains("no subresource"));
    assert!(drifted(|m| m.rules[0].operations.push(Operation::Delete)).contains("operations"));
    assert!(drifted(|m| m.rules[0].operations = vec![Operation::Update]).contains("operations"));
    assert!(drifted(|m| m.rules[0].api_groups = vec!["*".into()]).contains("apiGroups"));
    assert!(drifted(|m| m.rules[0].api_versions = vec!["v1".into()]).contains("apiVersions"));
    assert!(drifted(|m| m.mutating = true).contains("mutating"));
    assert!(drifted(|m| m.rules.push(m.rules[0].clone())).contains("exactly one"));
}

#[test]
fn metadata_is_complete_for_kwctl_and_artifact_hub() {
    let text = read_text(METADATA);
    let m = metadata();
    m.validate().expect("kwctl's checks pass");
    assert_eq!(Metadata::unknown_keys(&text), Vec::<String>::new());
    assert_eq!(m.execution_mode, ExecutionMode::KubewardenWapc);
    // contextAwareResources: metadata_declares_what_the_module_reads_from_the_cluster.
    assert!(
        m.background_audit,
        "the CREATE replay of audits is meaningful: see metadata.yml"
    );
    assert!(
        m.protocol_version.is_none(),
        "protocolVersion is filled by annotate, not written by hand"
    );
    for key in [
        metadata::TITLE,
        metadata::VERSION,
        metadata::DESCRIPTION,
        metadata::AUTHOR,
        metadata::URL,
        metadata::SOURCE,
        metadata::LICENSE,
        metadata::SEVERITY,
        metadata::CATEGORY,
        metadata::OCI_URL,
        metadata::ARTIFACTHUB_DISPLAY_NAME,
        metadata::ARTIFACTHUB_RESOURCES,
        metadata::ARTIFACTHUB_KEYWORDS,
    ] {
        let value = m
            .annotation(key)
            .unwrap_or_else(|| panic!("annotation {key} missing"));
        assert!(
            !value.trim().is_empty() && !value.contains('\n'),
            "{key}: {value:?}"
        );
    }
    for key in [metadata::USAGE, metadata::KWCTL_VERSION] {
        assert!(m.annotation(key).is_none(), "{key} is set by annotate");
    }
    let oci_url = m.annotation(metadata::OCI_URL).unwrap();
    assert!(
        !oci_url.contains("://") && !oci_url.rsplit('/').next().unwrap().contains(':'),
        "ociUrl is a repository without scheme or tag: {oci_url}"
    );
    assert_eq!(m.annotation(metadata::LICENSE), Some("Apache-2.0"));
}

// ------------------------------------------------------------------ versions

#[test]
fn one_version_everywhere() {
    let cargo = cargo_version();
    let m = metadata();
    let pkg = generated_pkg();
    assert_eq!(
        version_disagreements(&cargo, &m, &pkg),
        Vec::<String>::new()
    );
    assert_eq!(m.version().unwrap().to_string(), cargo);
    assert_eq!(
        pkg.containers_images.as_ref().unwrap()[0].image,
        format!("{}:v{cargo}", m.annotation(metadata::OCI_URL).unwrap())
    );
}

#[test]
fn version_check_fails_when_any_place_disagrees() {
    let cargo = cargo_version();
    let bumped = "9.9.9";
    let m = metadata();
    let pkg = generated_pkg();

    assert!(
        !version_disagreements(bumped, &m, &pkg).is_empty(),
        "Cargo.toml bumped alone"
    );

    let mut m2 = m.clone();
    m2.annotations
        .as_mut()
        .unwrap()
        .insert(metadata::VERSION.into(), bumped.into());
    let problems = version_disagreements(&cargo, &m2, &pkg);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("metadata.yml"));

    let mut p2 = pkg.clone();
    p2.version = bumped.into();
    assert!(version_disagreements(&cargo, &m, &p2)[0].contains("artifacthub-pkg.yml version"));

    let mut p3 = pkg.clone();
    let image = &mut p3.containers_images.as_mut().unwrap()[0].image;
    *image = image.replace(&format!(":v{cargo}"), &format!(":v{bumped}"));
    assert!(version_disagreements(&cargo, &m, &p3)[0].contains("containersImages"));

    let mut p4 = pkg;
    p4.install = Some(
        p4.install
            .unwrap()
            .replace(&format!(":v{cargo}"), ":latest"),
    );
    assert!(version_disagreements(&cargo, &m, &p4)[0].contains("install"));
}

// ------------------------------------------------------------------ artifact hub

/// The package is generated for each release tag and published on the
/// `artifacthub` branch (docs/releasing.md), never kept on main, where it
/// would name a version before it exists.
#[test]
fn the_artifacthub_package_is_not_kept_on_main() {
    assert!(
        read_text(".gitignore")
            .lines()
            .any(|line| line == format!("/{PKG}")),
        ".gitignore does not ignore {PKG}"
    );
    let tracked = std::process::Command::new("git")
        .args(["ls-files", "--", PKG])
        .current_dir(repo_file("."))
        .output()
        .expect("git runs");
    assert_eq!(
        String::from_utf8_lossy(&tracked.stdout),
        "",
        "{PKG} is committed"
    );
}

#[test]
fn artifacthub_package_has_every_field_artifact_hub_reads() {
    let text = generated_pkg_text();
    assert!(text.starts_with("# Kubewarden Artifacthub Package config"));
    let value: Value = serde_yaml::from_str(&text).unwrap();
    for key in [
        "version",
        "name",
        "displayName",
        "createdAt",
        "description",
        "license",
        "homeURL",
        "containersImages",
        "keywords",
        "links",
        "install",
        "maintainers",
        "provider",
        "recommendations",
        "annotations",
    ] {
        assert!(value.get(key).is_some(), "{key} missing");
    }
    let annotations = &value["annotations"];
    assert_eq!(annotations[artifacthub::MUTATION], Value::from("false"));
    assert_eq!(annotations[artifacthub::RESOURCES], Value::from(KIND));
    let context_aware: Vec<metadata::ContextAwareResource> = serde_yaml::from_str(
        annotations[artifacthub::CONTEXT_AWARE_RESOURCES]
            .as_str()
            .expect("the contextAwareResources annotation"),
    )
    .unwrap();
    assert_eq!(
        context_aware.into_iter().collect::<BTreeSet<_>>(),
        metadata().context_aware_resources
    );
    let rules: Vec<metadata::Rule> =
        serde_yaml::from_str(annotations[artifacthub::RULES].as_str().unwrap()).unwrap();
    assert_eq!(rules, metadata().rules);
    assert_eq!(
        annotations[artifacthub::QUESTIONS_UI].as_str().unwrap(),
        read_text(QUESTIONS)
    );
}

#[test]
fn artifacthub_readme_is_the_repository_readme() {
    let link = repo_file("artifacthub/README.md");
    let target = std::fs::read_link(&link).expect("artifacthub/README.md is a symlink");
    assert_eq!(target, std::path::Path::new("../README.md"));
    if repo_file("README.md").is_file() {
        assert_eq!(
            std::fs::read(&link).unwrap(),
            std::fs::read(repo_file("README.md")).unwrap()
        );
    }
}

#[test]
fn artifacthub_repo_file_names_the_owners() {
    let value: Value =
        serde_yaml::from_str(&read_text("artifacthub/artifacthub-repo.yml")).unwrap();
    let owners = value["owners"].as_sequence().expect("owners");
    let maintainers =
        artifacthub::parse_maintainers(metadata().annotation(metadata::AUTHOR).unwrap()).unwrap();
    assert_eq!(owners.len(), maintainers.len());
    for (owner, maintainer) in owners.iter().zip(&maintainers) {
        assert_eq!(owner["email"], Value::from(maintainer.email.as_str()));
    }
}

// ------------------------------------------------------------------ context-aware

/// `contextAwareResources` lists exactly what the module asks the host for,
/// and `hostCapabilities` the operations it calls: kwctl and policy-server
/// refuse anything else, and `kwctl annotate` warns on a mismatch.
#[test]
fn metadata_declares_what_the_module_reads_from_the_cluster() {
    use documentdb_upgrade_safety::cluster::HOST_CAPABILITIES;
    use documentdb_upgrade_safety::model::nodes::{NODE_API_VERSION, NODE_KIND};
    use documentdb_upgrade_safety::model::restore::{
        BACKUP_API_VERSION, BACKUP_KIND, PERSISTENT_VOLUME_API_VERSION, PERSISTENT_VOLUME_KIND,
    };
    let m = metadata();
    let resource = |api_version: &str, kind: &str| metadata::ContextAwareResource {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
    };
    assert_eq!(
        m.context_aware_resources,
        BTreeSet::from([
            resource(BACKUP_API_VERSION, BACKUP_KIND),
            resource(PERSISTENT_VOLUME_API_VERSION, PERSISTENT_VOLUME_KIND),
            resource(NODE_API_VERSION, NODE_KIND),
        ])
    );
    assert_eq!(
        m.host_capabilities,
        Some(HOST_CAPABILITIES.iter().map(|c| c.to_string()).collect())
    );
}

// ------------------------------------------------------------------ settings form

#[test]
fn questions_ui_asks_for_exactly_the_policy_settings() {
    let value: Value = serde_yaml::from_str(&read_text(QUESTIONS)).unwrap();
    let questions = value["questions"].as_sequence().expect("a questions list");
    let variables: BTreeSet<String> = questions
        .iter()
        .map(|q| q["variable"].as_str().unwrap().to_owned())
        .collect();
    // sidecarResources is asked key by key: Rancher's dotted variables nest.
    let sidecar_variables = SIDECAR_KEYS.map(|key| format!("{SIDECAR_RESOURCES}.{key}"));
    let expected: BTreeSet<String> = [
        REJECT_UNKNOWN_BINARY_VERSION,
        ALLOW_AUTO_SCHEMA_VERSION,
        DEFAULT_DOCUMENTDB_VERSION,
        IMAGE_VOLUME_CHECK,
        STATUS_WRITERS,
    ]
    .map(str::to_owned)
    .into_iter()
    .chain(sidecar_variables)
    .collect();
    assert_eq!(variables, expected);
    let mut defaults = serde_json::Map::new();
    for q in questions {
        for key in ["label", "description", "group", "type"] {
            assert!(
                q[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} of {q:?}"
            );
        }
        assert_eq!(
            q["required"],
            Value::Bool(false),
            "every setting has a default"
        );
        // Rancher's question types: `enum` offers `options`, `array[` a list
        // of strings (Kubewarden's policies write it so).
        let expected_type = match q["variable"].as_str() {
            Some(DEFAULT_DOCUMENTDB_VERSION) => "string",
            Some(sidecar) if sidecar.starts_with("sidecarResources.") => "string",
            Some(IMAGE_VOLUME_CHECK) => "enum",
            Some(STATUS_WRITERS) => "array[",
            _ => "boolean",
        };
        assert_eq!(q["type"], Value::from(expected_type));
        if expected_type == "enum" {
            let options: Vec<&str> = q["options"]
                .as_sequence()
                .expect("enum options")
                .iter()
                .map(|o| o.as_str().expect("string options"))
                .collect();
            for option in &options {
                let json = serde_json::json!({ IMAGE_VOLUME_CHECK: option });
                let accepted = Settings::from_json(json.to_string().as_bytes());
                assert!(accepted.is_ok(), "option {option}: {accepted:?}");
            }
            assert_eq!(options, ["warn", "deny", "off"]);
        }
        let default = serde_json::to_value(&q["default"]).unwrap();
        match q["variable"].as_str().unwrap().split_once('.') {
            Some((block, key)) => {
                let block = defaults
                    .entry(block.to_owned())
                    .or_insert_with(|| Json::Object(serde_json::Map::new()));
                block[key] = default;
            }
            None => {
                defaults.insert(q["variable"].as_str().unwrap().to_owned(), default);
            }
        }
    }
    // What the UI submits untouched is the policy's default configuration.
    let submitted = serde_json::to_vec(&Json::Object(defaults)).unwrap();
    assert_eq!(Settings::from_json(&submitted), Ok(Settings::default()));
}

// ------------------------------------------------------------------ install docs

/// Every ```yaml block of a Markdown text that holds a ClusterAdmissionPolicy.
fn policy_blocks(markdown: &str) -> Vec<Value> {
    yaml_blocks(markdown)
        .into_iter()
        .filter(|v| v["kind"].as_str() == Some("ClusterAdmissionPolicy"))
        .collect()
}

#[test]
fn documented_cluster_admission_policy_matches_the_metadata() {
    let m = metadata();
    let version = cargo_version();
    let docs = [(INSTALL_DOCS, read_text(INSTALL_DOCS))];
    let mut checked = 0;
    for (name, text) in docs {
        for documented in policy_blocks(&text) {
            let module = documented["spec"]["module"].as_str().expect("spec.module");
            let scaffolded = manifest::scaffold(
                &m,
                ManifestType::ClusterAdmissionPolicy,
                module,
                serde_yaml::Mapping::new(),
                None,
            )
            .unwrap();
            // A release's reference, or a pushed build pinned by digest.
            let release = format!(
                "registry://{}:v{version}",
                m.annotation(metadata::OCI_URL).unwrap()
            );
            assert!(
                module == release
                    || (module.starts_with("registry://") && module.contains("@sha256:")),
                "{name}: spec.module {module} is neither {release} nor pinned by digest"
            );
            assert_eq!(
                documented["metadata"], scaffolded["metadata"],
                "{name}: metadata"
            );
            for key in ["module", "rules", "mutating"] {
                assert_eq!(
                    documented["spec"][key], scaffolded["spec"][key],
                    "{name}: spec.{key}"
                );
            }
            let audit = documented["spec"]
                .get("backgroundAudit")
                .cloned()
                .unwrap_or(Value::Bool(true));
            assert_eq!(
                audit,
                Value::Bool(m.background_audit),
                "{name}: spec.backgroundAudit"
            );
            let settings = serde_json::to_vec(&documented["spec"]["settings"]).unwrap();
            Settings::from_json(&settings).unwrap_or_else(|e| panic!("{name}: settings: {e}"));
            assert!(
                ["protect", "monitor"]
                    .contains(&documented["spec"]["mode"].as_str().unwrap_or("protect")),
                "{name}: spec.mode"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 1,
        "no ClusterAdmissionPolicy found in {INSTALL_DOCS}"
    );
}

#[test]
fn install_docs_name_the_published_artifact() {
    let oci_url = metadata().annotation(metadata::OCI_URL).unwrap().to_owned();
    let registry = oci_url.split('/').next().unwrap().to_owned();
    // `:v<version>` is how the docs say what each release publishes.
    let current = [
        format!("{oci_url}:v{}", cargo_version()),
        format!("{oci_url}@sha256:"),
        format!("{oci_url}:v<version>"),
    ];
    let text = read_text(INSTALL_DOCS);
    let mut seen = 0;
    for (at, _) in text.match_indices(&format!("{registry}/")) {
        let reference: String = text[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !"`'\")".contains(*c))
            .collect();
        assert!(
            reference == oci_url || current.iter().any(|c| reference.starts_with(c.as_str())),
            "{INSTALL_DOCS} mentions {reference}, not {oci_url}:v<Cargo.toml version>"
        );
        seen += 1;
    }
    assert!(seen >= 2, "the install docs name the artifact");
}
