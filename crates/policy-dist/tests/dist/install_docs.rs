//! What the install and operations docs tell users to run holds against
//! Kubernetes and Kubewarden: resource names kubectl resolves to the DocumentDB
//! operator's kinds, and the permissions policy-server and the audit scanner
//! really need for what the metadata says the policy reads.

use std::collections::BTreeSet;
use std::path::Path;

use policy_dist::metadata::Metadata;
use serde_yaml::Value;

use crate::common::{read_text, repo_root, yaml_blocks};

/// Text files users read or copy commands from (docs, the checker's page and
/// messages, scripts, workflows, code comments).
const TEXT_EXTENSIONS: &[&str] = &[
    "md", "rs", "mjs", "js", "html", "yaml", "yml", "sh", "bash", "bats",
];
const SKIPPED: &[&str] = &[".git", "target", "node_modules", "pkg", "pkg.tmp"];

fn text_files(root: &Path, relative: &str, out: &mut Vec<(String, String)>) {
    let dir = root.join(relative);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let path = if relative.is_empty() {
            name.clone()
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type().unwrap();
        if kind.is_dir() && !SKIPPED.contains(&name.as_str()) {
            text_files(root, &path, out);
        } else if kind.is_file()
            && TEXT_EXTENSIONS.contains(&name.rsplit('.').next().unwrap_or_default())
            && let Ok(text) = std::fs::read_to_string(root.join(&path))
        {
            out.push((path, text));
        }
    }
}

/// `file:line: command` for every kubectl command naming a resource that is
/// not the operator's: `db` is no name the DocumentDB CRD declares (plural
/// `dbs`, singular `documentdb`), and a bare `backup`/`backups` may resolve to
/// another operator's Backup kind (CloudNativePG's, among others).
fn ambiguous_resource_names(files: &[(String, String)]) -> Vec<String> {
    let verbs = [
        "get", "describe", "edit", "patch", "delete", "label", "annotate",
    ];
    let ambiguous = ["db", "dbs/", "backup", "backups"];
    let mut problems = Vec::new();
    for (path, text) in files {
        for (number, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            for window in words.windows(3) {
                let [kubectl, verb, resource] = window else {
                    continue;
                };
                let resource = resource.trim_matches(|c| "`'\"".contains(c));
                let name = resource.split('/').next().unwrap_or_default();
                // `kubectl`, (kubectl, <code>kubectl: the word after any quoting.
                let kubectl = kubectl.rsplit(|c| "`>('\"".contains(c)).next();
                if kubectl == Some("kubectl")
                    && verbs.contains(verb)
                    && (ambiguous.contains(&name) || ambiguous.contains(&resource))
                {
                    problems.push(format!("{path}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    problems
}

#[test]
fn kubectl_commands_name_the_operator_s_resources() {
    let mut files = Vec::new();
    text_files(&repo_root(), "", &mut files);
    assert!(files.iter().any(|(path, _)| path == "docs/operations.md"));
    assert_eq!(ambiguous_resource_names(&files), Vec::<String>::new());
}

#[test]
fn the_resource_name_check_finds_what_kubectl_would_not_resolve() {
    let file = |text: &str| vec![("x.md".to_owned(), text.to_owned())];
    let kubectl = "kubectl";
    for bad in [
        format!("{kubectl} get db orders -n prod -o yaml"),
        format!("`{kubectl} get db`"),
        format!("{kubectl} get backup nightly"),
        format!("{kubectl} describe backups -A"),
        format!("{kubectl} patch db/orders --type=merge"),
        format!("<code>{kubectl} get db NAME</code>"),
    ] {
        assert_eq!(ambiguous_resource_names(&file(&bad)).len(), 1, "{bad}");
    }
    for good in [
        format!("{kubectl} get documentdb orders -n prod -o yaml"),
        format!("{kubectl} get dbs.documentdb.io -A"),
        format!("{kubectl} get backups.documentdb.io -A -o yaml"),
        format!("{kubectl} get dbs -A"),
        "the backup is a db".to_owned(),
    ] {
        assert_eq!(
            ambiguous_resource_names(&file(&good)),
            Vec::<String>::new(),
            "{good}"
        );
    }
}

/// The plural of each kind the metadata lets the policy read.
fn plural(kind: &str) -> String {
    format!("{}s", kind.to_lowercase())
}

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// `verbs` of a `policyServer.permissions` entry: absent means the chart's
/// default, get, list and watch (charts/kubewarden-defaults/values.yaml).
fn verbs(entry: &Value) -> BTreeSet<String> {
    match entry["verbs"].as_sequence() {
        Some(verbs) => verbs
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => ["get", "list", "watch"].map(str::to_owned).into(),
    }
}

/// policy-server answers `kubernetes/list_resources_all` from a reflector,
/// which lists and watches (and waits until it has listed), and
/// `kubernetes/get_resource` with a GET: each resource the metadata names
/// needs get, list and watch, granted the way the kubewarden-defaults chart
/// does it (`policyServer.permissions`), in the operations guide.
#[test]
fn the_operations_guide_grants_policy_server_what_the_policy_reads() {
    let guide = read_text("docs/operations.md");
    let values: Vec<Value> = yaml_blocks(&guide)
        .into_iter()
        .filter(|block| block["policyServer"]["permissions"].is_sequence())
        .collect();
    assert_eq!(
        values.len(),
        1,
        "docs/operations.md shows the kubewarden-defaults values policyServer.permissions once"
    );
    let permissions = values[0]["policyServer"]["permissions"]
        .as_sequence()
        .unwrap();
    let metadata = Metadata::from_yaml(&read_text("policy-metadata/metadata.yml")).unwrap();
    assert!(!metadata.context_aware_resources.is_empty());
    for resource in &metadata.context_aware_resources {
        let (group, plural) = (group(&resource.api_version), plural(&resource.kind));
        let entry = permissions.iter().find(|entry| {
            entry["apiGroup"].as_str() == Some(group)
                && entry["resources"]
                    .as_sequence()
                    .is_some_and(|r| r.iter().any(|r| r.as_str() == Some(plural.as_str())))
        });
        let entry = entry.unwrap_or_else(|| {
            panic!("policyServer.permissions grants nothing on {group}/{plural}")
        });
        let verbs = verbs(entry);
        for needed in ["get", "list", "watch"] {
            assert!(
                verbs.contains(needed),
                "{group}/{plural}: {needed} missing from {verbs:?}"
            );
        }
    }
}

/// The audit scanner reads what it audits through the built-in `view`
/// ClusterRole, which includes a custom resource only through a ClusterRole
/// labelled to aggregate into it.
#[test]
fn the_operations_guide_lets_the_audit_scanner_list_documentdbs() {
    let guide = read_text("docs/operations.md");
    let role = yaml_blocks(&guide)
        .into_iter()
        .find(|block| {
            block["kind"] == "ClusterRole"
                && block["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"]
                    == "true"
        })
        .expect("docs/operations.md shows a ClusterRole aggregated to view");
    let rules = role["rules"].as_sequence().unwrap();
    let rule = rules
        .iter()
        .find(|rule| {
            rule["apiGroups"][0] == "documentdb.io"
                && rule["resources"]
                    .as_sequence()
                    .is_some_and(|r| r.iter().any(|r| r == "dbs"))
        })
        .expect("a rule on documentdb.io dbs");
    let verbs = verbs(rule);
    for needed in ["get", "list", "watch"] {
        assert!(
            verbs.contains(needed),
            "dbs: {needed} missing from {verbs:?}"
        );
    }
}
