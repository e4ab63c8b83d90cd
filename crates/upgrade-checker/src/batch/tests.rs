use serde_json::{Value, json};
use test_support::{DocumentDbObject, documentdb_image, sessions};

use super::*;

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).expect("a JSON value is YAML")
}

/// A DocumentDB at `binary` (image tag), optionally with an installed schema
/// (as `kubectl get` prints a stored object).
fn db(name: &str, namespace: Option<&str>, binary: &str, installed: Option<&str>) -> Value {
    let mut db = DocumentDbObject::lightrag()
        .named(name, namespace.unwrap_or("x"))
        .image(&documentdb_image(binary));
    if let Some(installed) = installed {
        db = db.stored(2).installed(installed);
    }
    let mut value = db.build();
    if namespace.is_none() {
        value["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
    }
    value
}

fn restore_from(backup: &str, binary: &str) -> Value {
    let mut value = db("restored", Some("prod"), binary, None);
    value["spec"]["bootstrap"] = json!({"recovery": {"backup": {"name": backup}}});
    value
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";

fn outcomes(report: &BatchReport) -> Vec<(String, &'static str, Outcome)> {
    report
        .objects
        .iter()
        .map(|o| {
            (
                format!("{}/{}", o.namespace, o.report.name.as_deref().unwrap_or("")),
                o.report.operation.unwrap_or("-"),
                o.report.decision.outcome,
            )
        })
        .collect()
}

fn key(
    namespace: &str,
    name: &str,
    operation: &'static str,
    outcome: Outcome,
) -> (String, &'static str, Outcome) {
    (format!("{namespace}/{name}"), operation, outcome)
}

#[test]
fn desired_objects_pair_with_current_ones_by_namespace_and_name() {
    let mut batch = Batch::new("");
    let current = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        [
            db("a", Some("prod"), "0.112.0", Some("0.112.0")),
            db("b", Some("default"), "0.110.0", Some("0.110.0"))
        ]
        .iter()
        .map(|v| format!("- {}", yaml(v).trim_end().replace('\n', "\n  ")))
        .collect::<Vec<_>>()
        .join("\n")
    );
    batch.add_current("current.yaml", &current);
    let desired = format!(
        "{}---\n{CONFIG_MAP}---\n{}---\n{}",
        yaml(&db("a", Some("prod"), "0.110.0", None)),
        yaml(&db("b", None, "0.112.0", None)),
        yaml(&db("c", Some("prod"), "0.112.0", None)),
    );
    batch.add_desired("desired.yaml", &desired);
    let report = batch.run();
    assert_eq!(
        outcomes(&report),
        [
            key("prod", "a", "UPDATE", Outcome::Denied),
            key("default", "b", "UPDATE", Outcome::Allowed),
            key("prod", "c", "CREATE", Outcome::Allowed),
        ]
    );
    assert_eq!(
        report.objects[0].current,
        Some(Location {
            file: "current.yaml".to_owned(),
            line: 4
        })
    );
    assert_eq!(
        report.objects[1].line,
        report.objects[0].line
            + yaml(&db("a", Some("prod"), "0.110.0", None))
                .lines()
                .count()
            + 6
    );
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(
        report.skipped[0].reason,
        "\"v1\" \"ConfigMap\" is not a documentdb.io DocumentDB"
    );
    assert_eq!(
        report.summary_line,
        "3 checked: 2 allowed, 1 denied, 1 skipped"
    );
    assert_eq!(report.exit_code, 1);
}

#[test]
fn the_namespace_option_places_objects_that_name_none() {
    let mut batch = Batch::new("prod");
    batch.add_current(
        "c.yaml",
        &yaml(&db("a", Some("prod"), "0.112.0", Some("0.112.0"))),
    );
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert_eq!(
        outcomes(&report),
        [key("prod", "a", "UPDATE", Outcome::Denied)]
    );
    assert_eq!(report.exit_code, 1);
}

#[test]
fn a_create_next_to_a_current_object_in_another_namespace_gets_a_note() {
    let mut batch = Batch::new("");
    batch.add_current(
        "c.yaml",
        &yaml(&db("a", Some("prod"), "0.112.0", Some("0.112.0"))),
    );
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert_eq!(
        outcomes(&report),
        [key("default", "a", "CREATE", Outcome::Allowed)]
    );
    assert_eq!(
        report.objects[0].report.notes,
        [
            "checked as a CREATE: no current object \"default\"/\"a\", but there is one in namespace \"prod\"; if that is where this manifest is applied, give --namespace prod (or set metadata.namespace)"
        ]
    );
}

#[test]
fn nothing_checked_is_exit_2_and_skipped_objects_are_counted() {
    let mut batch = Batch::new("");
    batch.add_desired("values.yaml", "replicas: 3\nimage: {tag: x}\n");
    batch.add_desired("cm.yaml", CONFIG_MAP);
    batch.add_desired("comments.yaml", "# nothing\n");
    let report = batch.run();
    assert_eq!(
        report.summary_line,
        "0 checked: 0 allowed, 0 denied, 2 skipped"
    );
    assert_eq!(
        report.skipped[0].reason,
        "not a Kubernetes object: no apiVersion and kind"
    );
    assert_eq!(report.exit_code, 2);
}

#[test]
fn unusable_input_is_exit_2_even_with_a_denial() {
    let mut batch = Batch::new("");
    batch.add_current(
        "c.yaml",
        &yaml(&db("a", Some("prod"), "0.112.0", Some("0.112.0"))),
    );
    batch.add_desired("d.yaml", &yaml(&db("a", Some("prod"), "0.110.0", None)));
    batch.add_desired("broken.yaml", "kind: DocumentDB\nspec: [unclosed\n");
    batch.add_error("gone.yaml", "cannot read: ENOENT");
    let report = batch.run();
    assert_eq!(report.summary.denied, 1);
    assert_eq!(
        report.errors,
        [
            InputProblem {
                file: "broken.yaml".to_owned(),
                line: Some(3),
                message: "not valid YAML: did not find expected ',' or ']' at line 3 column 1, while parsing a flow sequence at line 2 column 7".to_owned()
            },
            InputProblem {
                file: "gone.yaml".to_owned(),
                line: None,
                message: "cannot read: ENOENT".to_owned()
            }
        ]
    );
    assert_eq!(
        report.summary_line,
        "1 checked: 0 allowed, 1 denied, 0 skipped; 2 input errors"
    );
    assert_eq!(report.exit_code, 2);
}

/// Desired or current: a DocumentDB dropped from `--current` would have its
/// desired object checked as new, without the rollback rule.
#[rstest::rstest]
#[case::desired(
    Batch::add_desired,
    "d.yaml",
    "kind: 5",
    "kind must be a string, not a number"
)]
#[case::current(
    Batch::add_current,
    "c.yaml",
    "kind: [DocumentDB]",
    "kind must be a string, not an array"
)]
fn a_mistyped_kind_is_an_input_error_at_its_document(
    #[case] add: fn(&mut Batch, &str, &str),
    #[case] file: &str,
    #[case] kind: &str,
    #[case] message: &str,
) {
    let mut batch = Batch::new("");
    add(
        &mut batch,
        file,
        &format!("{CONFIG_MAP}---\n{kind}\nspec: {{}}\n"),
    );
    batch.add_desired("a.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert_eq!(
        report.errors,
        [InputProblem {
            file: file.to_owned(),
            line: Some(6),
            message: message.to_owned()
        }]
    );
    assert_eq!(report.exit_code, 2);
}

#[test]
fn current_objects_without_a_name_repeat_nothing() {
    let mut batch = Batch::new("");
    let nameless = "kind: DocumentDB\nspec: {}\n";
    batch.add_current("c.yaml", &format!("{nameless}---\n{nameless}"));
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.exit_code, 0);
}

#[test]
fn what_is_not_an_object_in_the_cluster_files_is_an_input_error_at_its_line() {
    let mut batch = Batch::new("");
    batch.add_cluster(
        "cluster.yaml",
        &format!("{CONFIG_MAP}---\njust text\n---\nmetadata: {{name: x}}\n"),
    );
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    let problem = |line| {
        InputProblem {
        file: "cluster.yaml".to_owned(),
        line: Some(line),
        message: "not a Kubernetes object (a mapping with apiVersion and kind): --cluster reads exported objects".to_owned(),
    }
    };
    assert_eq!(report.errors, [problem(6), problem(8)]);
    assert_eq!(report.exit_code, 2);
}

#[test]
fn a_survey_counts_what_a_run_checks_and_refuses() {
    let inputs = [
        yaml(&db("a", Some("prod"), "0.110.0", None)),
        yaml(&db("a", Some("prod"), "0.112.0", None)),
        yaml(&db("b", Some("prod"), "0.110.0", None)),
        CONFIG_MAP.to_owned(),
        "kind: DocumentDB\nspec: [unclosed\n".to_owned(),
    ];
    let mut batch = Batch::new("");
    for (i, text) in inputs.iter().enumerate() {
        batch.add_desired(&format!("{i}.yaml"), text);
    }
    let survey = batch.survey();
    let report = batch.run();
    assert_eq!(
        survey,
        Survey {
            document_dbs: report.objects.len(),
            errors: report.errors.len()
        }
    );
    assert_eq!((survey.document_dbs, survey.errors), (2, 2));
}

#[test]
fn settings_in_two_documents_are_an_input_error_at_the_second() {
    let mut batch = Batch::new("");
    batch.add_settings(
        "s.yaml",
        "rollbackPolicy: deny\n---\nrollbackPolicy: warn\n",
    );
    let report = batch.run();
    assert_eq!(
        report.errors,
        [InputProblem {
            file: "s.yaml".to_owned(),
            line: Some(3),
            message: "the settings must be one document, not 2".to_owned()
        }]
    );
}

#[test]
fn an_empty_current_input_is_refused_an_empty_list_is_not() {
    let mut batch = Batch::new("");
    batch.add_current("-", "");
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert_eq!(
        report.errors[0].message,
        "holds no object: give the output of `kubectl get documentdb -A -o yaml` (an empty List when there are none)"
    );
    assert_eq!(report.exit_code, 2);

    for empty_list in [
        "apiVersion: v1\nitems: []\nkind: List\n",
        "apiVersion: v1\nitems: null\nkind: List\n",
        "[]",
        r#"{"apiVersion": "v1", "items": [], "kind": "List"}"#,
    ] {
        let mut batch = Batch::new("");
        batch.add_current("c.yaml", empty_list);
        batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
        let report = batch.run();
        assert!(
            report.errors.is_empty(),
            "{empty_list}: {:?}",
            report.errors
        );
        assert_eq!(report.exit_code, 0);
    }

    // A word in a comment is not a List.
    let mut batch = Batch::new("");
    batch.add_current("c.yaml", "# items: none yet\n");
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
    let report = batch.run();
    assert_eq!(
        report.errors[0].message,
        "holds no object: give the output of `kubectl get documentdb -A -o yaml` (an empty List when there are none)"
    );
    assert_eq!(report.exit_code, 2);
}

#[test]
fn an_empty_cluster_input_is_refused_an_empty_list_is_not() {
    let run = |text: &str| {
        let mut batch = Batch::new("");
        batch.add_cluster("cluster.yaml", text);
        batch.add_desired("d.yaml", &yaml(&db("a", None, "0.110.0", None)));
        batch.run()
    };
    for nothing in ["", "# items: exported later\n"] {
        let report = run(nothing);
        assert_eq!(
            report.errors,
            [InputProblem {
                file: "cluster.yaml".to_owned(),
                line: None,
                message: "holds no object: give exported objects, e.g. the output of `kubectl get backups.documentdb.io -A -o yaml`".to_owned()
            }],
            "{nothing:?}"
        );
        assert_eq!(report.exit_code, 2);
    }
    let report = run("apiVersion: v1\nitems: []\nkind: List\n");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

/// The target branch's manifests as `--current`: a comment-only file among
/// them is no error (it is when named: an empty `kubectl get` output).
#[test]
fn a_comment_only_file_found_in_a_current_directory_is_not_an_error() {
    let mut batch = Batch::new("");
    batch.add_current_in_directory("base/disabled.yaml", "# removed\n");
    batch.add_current_in_directory("base/a.yaml", &yaml(&db("a", None, "0.110.0", None)));
    batch.add_desired("d.yaml", &yaml(&db("a", None, "0.112.0", None)));
    let report = batch.run();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.objects[0].report.operation, Some("UPDATE"));
    assert_eq!(report.exit_code, 0);

    let mut named = Batch::new("");
    named.add_current("base/disabled.yaml", "# removed\n");
    named.add_desired("d.yaml", &yaml(&db("a", None, "0.112.0", None)));
    assert_eq!(named.run().exit_code, 2);
}

#[test]
fn an_object_given_twice_is_an_input_error() {
    let mut batch = Batch::new("");
    let object = yaml(&db("a", None, "0.110.0", None));
    batch.add_desired("one.yaml", &object);
    batch.add_desired("two.yaml", &object);
    batch.add_current("c.yaml", &format!("{object}---\n{object}"));
    let report = batch.run();
    let messages: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the current object \"default\"/\"a\" is given twice (also c.yaml:1)",
            "\"default\"/\"a\" is given twice (also one.yaml:1): each object is checked once",
        ]
    );
    assert_eq!(report.summary.checked, 1);
}

const POLICY: &str = "apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata:
  name: documentdb-upgrade-safety
spec:
  module: registry://example/documentdb-upgrade-safety:v0.1.0
  settings:
    rejectUnknownBinaryVersion: true
  rules:
  - apiGroups: [documentdb.io]
    apiVersions: [preview]
    resources: [dbs]
    operations: [CREATE, UPDATE]
";

const STATUS_POLICY: &str = "apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata:
  name: documentdb-status-guard
spec:
  module: registry://example/documentdb-upgrade-safety:v0.1.0
  settings:
    statusWriters: [someone]
  rules:
  - apiGroups: [documentdb.io]
    apiVersions: [preview]
    resources: [dbs/status]
    operations: [UPDATE]
";

/// An update to an image without a version: the settings decide.
fn unknown_binary(batch: &mut Batch) {
    batch.add_current(
        "c.yaml",
        &yaml(&db("a", Some("prod"), "0.110.0", Some("0.110.0"))),
    );
    batch.add_desired("d.yaml", &yaml(&db("a", Some("prod"), "latest", None)));
}

#[test]
fn the_policy_manifest_gives_the_settings() {
    let mut batch = Batch::new("");
    unknown_binary(&mut batch);
    let report = batch.run();
    assert_eq!(report.exit_code, 0, "{:?}", report.objects);

    for text in [POLICY.to_owned(), format!("{STATUS_POLICY}---\n{POLICY}")] {
        let mut batch = Batch::new("");
        batch.add_policy("policy.yaml", &text);
        unknown_binary(&mut batch);
        let report = batch.run();
        assert_eq!(report.objects[0].report.decision.outcome, Outcome::Denied);
        assert!(report.settings.valid);
        assert!(
            report
                .settings
                .source
                .as_deref()
                .unwrap()
                .starts_with("policy.yaml:")
        );
    }
}

#[test]
fn a_policy_file_must_name_one_policy_for_dbs() {
    let mut batch = Batch::new("");
    batch.add_policy("p.yaml", CONFIG_MAP);
    batch.add_policy("q.yaml", &format!("{POLICY}---\n{POLICY}"));
    let report = batch.run();
    let messages: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "holds no ClusterAdmissionPolicy or AdmissionPolicy (policies.kubewarden.io): give the policy manifest you apply, or its settings with --settings",
            "holds 2 policies (\"documentdb-upgrade-safety\", \"documentdb-upgrade-safety\") and not exactly one whose rules select documentdb.io dbs: give a file with that one",
        ]
    );
}

#[test]
fn refused_settings_check_nothing() {
    let mut batch = Batch::new("");
    batch.add_settings("s.yaml", "bogus: true\n");
    unknown_binary(&mut batch);
    let report = batch.run();
    assert!(!report.settings.valid);
    assert!(
        report
            .settings
            .message
            .as_deref()
            .unwrap()
            .starts_with("the policy settings are invalid: unknown setting \"bogus\"")
    );
    assert!(report.objects.is_empty());
    assert_eq!(report.exit_code, 2);
}

fn restore_report(cluster: &[Value], binary: &str) -> BatchReport {
    let mut batch = Batch::new("");
    if !cluster.is_empty() {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": cluster});
        batch.add_cluster("cluster.json", &list.to_string());
    }
    batch.add_desired("restore.yaml", &yaml(&restore_from("nightly", binary)));
    batch.run()
}

fn ready_node() -> Value {
    let mut node = sessions::node(0, "v1.35.1", "containerd://2.1.4");
    node["apiVersion"] = json!("v1");
    node["kind"] = json!("Node");
    node
}

#[test]
fn a_restore_is_checked_against_the_backup_in_the_cluster_files() {
    let backup = sessions::backup("nightly", "prod", Some("0.112.0"));
    let blocked = restore_report(&[backup.clone(), ready_node()], "0.110.0");
    let object = &blocked.objects[0].report;
    assert_eq!(object.decision.outcome, Outcome::Denied, "{object:?}");
    let message = object.decision.message.as_deref().unwrap();
    assert!(
        message.contains("spec.bootstrap.recovery.backup"),
        "{message}"
    );
    assert!(message.contains("0.112.0"), "{message}");
    assert!(object.notes.is_empty(), "{:?}", object.notes);
    assert_eq!(blocked.exit_code, 1);

    let allowed = restore_report(&[backup, ready_node()], "0.112.0");
    let object = &allowed.objects[0].report;
    assert_eq!(object.decision.outcome, Outcome::Allowed);
    assert_eq!(object.decision.warnings, Vec::<String>::new());
    assert_eq!(allowed.exit_code, 0);
}

#[test]
fn without_cluster_files_a_restore_is_not_verified_as_today() {
    let report = restore_report(&[], "0.110.0");
    let object = &report.objects[0].report;
    assert_eq!(object.decision.outcome, Outcome::Allowed);
    assert_eq!(
        object.decision.warnings,
        [
            "failed to read backup \"nightly\": schema-version compatibility cannot be verified: no cluster to ask: this build of the policy cannot read the cluster (the policy deployed in the cluster checks this at admission)"
        ]
    );
}

#[test]
fn cluster_files_without_the_kinds_asked_for_say_so() {
    let pv = json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"}});
    let report = restore_report(&[pv], "0.110.0");
    let object = &report.objects[0].report;
    assert_eq!(object.decision.outcome, Outcome::Allowed);
    assert_eq!(
        object.decision.warnings,
        [
            "failed to read backup \"nightly\": schema-version compatibility cannot be verified: the --cluster files hold no documentdb.io Backup: add the output of `kubectl get backups.documentdb.io -A -o yaml`"
        ]
    );
    assert_eq!(
        object.notes,
        [
            "the --cluster files hold no Node: the check that reads them was not made against the cluster",
            "the --cluster files hold no documentdb.io Backup: the check that reads them was not made against the cluster",
        ]
    );
}

#[test]
fn old_nodes_in_the_cluster_files_give_the_imagevolume_verdict() {
    let mut old = sessions::node(1, "v1.32.4", "containerd://1.7.27");
    old["apiVersion"] = json!("v1");
    old["kind"] = json!("Node");
    let mut batch = Batch::new("");
    batch.add_settings("s.yaml", "imageVolumeCheck: deny\n");
    batch.add_cluster(
        "nodes.json",
        &json!({"kind": "List", "apiVersion": "v1", "items": [ready_node(), old]}).to_string(),
    );
    batch.add_desired("d.yaml", &yaml(&db("new", Some("prod"), "0.112.0", None)));
    let report = batch.run();
    let object = &report.objects[0].report;
    assert_eq!(object.decision.outcome, Outcome::Denied, "{object:?}");
    assert!(
        object
            .decision
            .message
            .as_deref()
            .unwrap()
            .contains("ImageVolume"),
        "{object:?}"
    );
}

#[test]
fn the_report_is_json_with_the_documented_keys() {
    let mut batch = Batch::new("");
    batch.add_desired(
        "d.yaml",
        &format!("{}---\n{CONFIG_MAP}", yaml(&db("a", None, "0.112.0", None))),
    );
    let json: Value = serde_json::from_str(&batch.run().to_json()).unwrap();
    let keys = |value: &Value| {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let sorted = |names: &[&str]| {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(
        keys(&json),
        sorted(&[
            "policyVersion",
            "settings",
            "objects",
            "skipped",
            "errors",
            "summary",
            "summaryLine",
            "exitCode"
        ])
    );
    assert_eq!(
        keys(&json["objects"][0]),
        sorted(&[
            "file",
            "line",
            "namespace",
            "outcome",
            "allowed",
            "code",
            "message",
            "warnings",
            "notes",
            "operation",
            "name",
            "binaryVersion",
            "installedSchemaVersion",
            "timeline",
            "current"
        ])
    );
    assert_eq!(
        json["skipped"][0],
        json!({"file": "d.yaml", "line": 20, "apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "reason": "\"v1\" \"ConfigMap\" is not a documentdb.io DocumentDB"})
    );
    assert_eq!(
        json["summary"],
        json!({"checked": 1, "allowed": 1, "denied": 0, "skipped": 1, "errors": 0})
    );
}

#[test]
fn an_oversized_input_is_refused_before_parsing() {
    let mut batch = Batch::new("");
    batch.add_desired("big.yaml", &"#".repeat(MAX_TEXT_BYTES + 1));
    let report = batch.run();
    assert_eq!(
        report.errors[0].message,
        "33554433 bytes: this checker reads at most 32 MiB per input"
    );
}
