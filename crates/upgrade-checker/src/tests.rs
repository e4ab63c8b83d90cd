//! The checker's own logic: reading what users paste, and the timeline. The
//! verdicts themselves are the module's; crates/upgrade-checker/tests/cases.test.mjs compares
//! them with policy.wasm on the whole e2e table.

use rstest::rstest;
use serde_json::Value;
use test_support::{DocumentDbObject, documentdb_image};

use crate::check::{Outcome, Report, check};
use crate::input::{Source, documents, select};
use crate::timeline::Stage;

/// A DocumentDB as `kubectl get documentdb -o yaml` prints it (with `installed`) or
/// as a manifest (without): the LightRAG playground cluster, binary from the
/// image tag, optional schemaVersion.
fn db(binary: &str, schema: Option<&str>, installed: Option<&str>) -> String {
    let mut db = DocumentDbObject::lightrag().image(&documentdb_image(binary));
    if let Some(schema) = schema {
        db = db.schema(schema);
    }
    if let Some(installed) = installed {
        db = db.stored(2).installed(installed);
    }
    serde_yaml::to_string(&db.build()).expect("a JSON value is YAML")
}

fn stage(report: &Report) -> Option<Stage> {
    report.timeline.as_ref().map(|timeline| timeline.stage)
}

fn next_step(report: &Report) -> &str {
    report
        .timeline
        .as_ref()
        .map_or("", |timeline| timeline.next_step.as_str())
}

#[rstest]
#[case::new_cluster("", &db("0.112.0", None, None), Outcome::Allowed, Stage::NewCluster,
    "to upgrade later, raise the binary first (phase 1), then spec.schemaVersion (phase 2)")]
#[case::stored_object_below_its_own_schema("", &db("0.110.0", None, Some("0.112.0")), Outcome::Denied, Stage::Blocked,
    "raise the binary to 0.112.0 or later now: the schema cannot be downgraded")]
#[case::phase_1_binary(&db("0.110.0", None, Some("0.110.0")), &db("0.112.0", None, None),
    Outcome::Allowed, Stage::BinaryUpgrade,
    "once the pods run 0.112.0 and are healthy, set spec.schemaVersion: \"0.112.0\" (phase 2); until then the binary can still go back as far as 0.110.0")]
#[case::phase_2_schema(&db("0.112.0", None, Some("0.110.0")), &db("0.112.0", Some("0.112.0"), None),
    Outcome::Allowed, Stage::SchemaUpdate,
    "upgrade complete; from now on the binary must stay at 0.112.0 or later")]
#[case::schema_part_way(&db("0.113.0", None, Some("0.110.0")), &db("0.113.0", Some("0.112.0"), None),
    Outcome::Allowed, Stage::SchemaUpdate,
    "the schema is still behind the binary: set spec.schemaVersion: \"0.113.0\" to catch up; from now on the binary must stay at 0.112.0 or later")]
#[case::auto_moves_both(&db("0.110.0", Some("auto"), Some("0.110.0")), &db("0.112.0", Some("auto"), None),
    Outcome::Allowed, Stage::OneStepUpgrade,
    "upgrade complete; from now on the binary must stay at 0.112.0 or later")]
#[case::one_step_leaving_the_schema_behind(&db("0.110.0", None, Some("0.110.0")), &db("0.113.0", Some("0.112.0"), None),
    Outcome::Allowed, Stage::OneStepUpgrade,
    "the schema is still behind the binary: set spec.schemaVersion: \"0.113.0\" to catch up; from now on the binary must stay at 0.112.0 or later")]
#[case::rollback_that_also_moves_the_schema(&db("0.112.0", None, Some("0.110.0")), &db("0.111.0", Some("0.111.0"), None),
    Outcome::Allowed, Stage::OneStepUpgrade,
    "upgrade complete; from now on the binary must stay at 0.111.0 or later")]
#[case::manifest_as_current_object(&db("0.110.0", None, None), &db("0.112.0", Some("0.112.0"), None),
    Outcome::Allowed, Stage::InstalledSchemaUnknown,
    "check again with the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml` as the current object: without the installed schema, neither the rollback rule nor the next step can be worked out")]
#[case::manifest_as_current_object_rollback(&db("0.112.0", Some("0.112.0"), None), &db("0.110.0", None, None),
    Outcome::Allowed, Stage::InstalledSchemaUnknown,
    "check again with the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml` as the current object: without the installed schema, neither the rollback rule nor the next step can be worked out")]
#[case::from_latest_to_a_version(&db("latest", None, Some("0.110.0")), &db("0.112.0", None, None),
    Outcome::Allowed, Stage::VersionUnknown,
    "the schema (0.110.0) is behind the binary (0.112.0): set spec.schemaVersion: \"0.112.0\" to finish the upgrade")]
#[case::stored_binary_already_below_the_schema(&db("0.110.0", None, Some("0.112.0")), &db("0.110.0", None, None),
    Outcome::Allowed, Stage::NoVersionChange,
    "the binary 0.110.0 is below the installed schema 0.112.0: raise the binary to 0.112.0 or later")]
#[case::rollback_before_phase_2(&db("0.112.0", None, Some("0.110.0")), &db("0.110.0", None, None),
    Outcome::Allowed, Stage::BinaryRollback,
    "the schema stays at 0.110.0; do not set spec.schemaVersion above 0.110.0")]
#[case::unrelated_patch_with_phase_2_pending(&db("0.112.0", None, Some("0.110.0")), &db("0.112.0", None, None),
    Outcome::Allowed, Stage::NoVersionChange,
    "the schema (0.110.0) is behind the binary (0.112.0): set spec.schemaVersion: \"0.112.0\" to finish the upgrade")]
#[case::unrelated_patch_nothing_pending(&db("0.112.0", Some("0.112.0"), Some("0.112.0")),
    &db("0.112.0", Some("0.112.0"), None), Outcome::Allowed, Stage::NoVersionChange, "nothing pending")]
#[case::latest_tag(&db("0.112.0", None, Some("0.112.0")), &db("latest", None, None),
    Outcome::Allowed, Stage::VersionUnknown,
    "pin the image to an X.Y.Z tag or set spec.documentDBVersion, so that the rollback rule can check the change")]
#[case::rollback_after_phase_2(&db("0.112.0", Some("0.112.0"), Some("0.112.0")), &db("0.110.0", None, None),
    Outcome::Denied, Stage::Blocked,
    "keep the binary at 0.112.0 or later: the schema cannot be downgraded, and running 0.110.0 again needs a backup taken before the schema update")]
#[case::schema_ahead_of_binary(&db("0.112.0", None, Some("0.112.0")), &db("0.112.0", Some("0.113.0"), None),
    Outcome::Denied, Stage::Blocked,
    "upgrade the binary to 0.113.0 or later first and let the pods become healthy (phase 1), then set spec.schemaVersion: \"0.113.0\" (phase 2)")]
fn timeline_stage_and_next_step(
    #[case] current: &str,
    #[case] desired: &str,
    #[case] outcome: Outcome,
    #[case] expected_stage: Stage,
    #[case] expected_next: &str,
) {
    let report = check(current, desired, "");
    assert_eq!(report.decision.outcome, outcome, "{report:?}");
    assert_eq!(stage(&report), Some(expected_stage), "{report:?}");
    assert_eq!(next_step(&report), expected_next);
}

#[test]
fn phase_1_reports_versions_and_which_step_moves() {
    let report = check(
        &db("0.110.0", None, Some("0.110.0")),
        &db("0.112.0", None, None),
        "",
    );
    let binary = report.binary_version.as_ref().expect("a binary version");
    assert_eq!(
        (binary.version.as_str(), binary.source),
        ("0.112.0", "the tag of spec.image.documentDB")
    );
    assert_eq!(report.installed_schema_version.as_deref(), Some("0.110.0"));
    assert_eq!(report.operation, Some("UPDATE"));
    let steps: Vec<(&str, Option<&str>, Option<&str>, bool)> = report
        .timeline
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .map(|s| (s.name, s.from.as_deref(), s.to.as_deref(), s.changed))
        .collect();
    assert_eq!(
        steps,
        [
            ("installed schema", Some("0.110.0"), Some("0.110.0"), false),
            ("binary", Some("0.110.0"), Some("0.112.0"), true),
            ("schema", Some("0.110.0"), Some("0.110.0"), false),
        ]
    );
}

#[test]
fn kubectl_output_and_a_multi_document_manifest() {
    let current = include_str!("../examples/cluster-at-0.112.0.yaml");
    let desired = include_str!("../examples/roll-back-binary-to-0.110.0.yaml");
    let report = check(current, desired, "");
    assert_eq!(report.decision.outcome, Outcome::Denied);
    assert_eq!(report.decision.code, Some(422));
    assert!(
        report.decision.message.as_deref().unwrap_or_default().contains(
            "image rollback blocked: requested version 0.110.0 is older than installed schema version 0.112.0"
        ),
        "{report:?}"
    );
    assert_eq!(report.name.as_deref(), Some("documentdb-cluster"));
    assert!(report.notes.is_empty(), "{:?}", report.notes);
}

#[rstest]
#[case::yaml_documents("a: 1\n---\n---\nb: 2\n", 2)]
#[case::kubectl_list(
    "apiVersion: v1\nkind: List\nitems:\n- kind: DocumentDB\n- kind: Pod\n",
    2
)]
#[case::json_object(r#"{"kind": "DocumentDB"}"#, 1)]
#[case::json_array(r#"[{"kind": "DocumentDB"}, {"kind": "Pod"}]"#, 2)]
// JSON values one after another, as `jq` prints them: read as the batch reads a file.
#[case::json_stream("{\"kind\": \"DocumentDB\"}\n{\"kind\": \"Pod\"}\n", 2)]
#[case::empty("", 0)]
#[case::comment_only("# nothing here\n", 0)]
fn documents_in_what_users_paste(#[case] text: &str, #[case] count: usize) {
    assert_eq!(documents(text, Source::Desired).unwrap().len(), count);
}

#[rstest]
#[case::invalid_yaml("spec: [unclosed", "the desired manifest is not valid YAML: ")]
#[case::invalid_json("{\"spec\": ", "the desired manifest is not valid JSON: ")]
#[case::template_placeholders(
    "metadata:\n  name: {{NAME}}\n",
    "the desired manifest cannot be read as a Kubernetes object: key must be a string (an unrendered template placeholder such as {{NAME}}?)"
)]
#[case::scalar("just some text", "the desired manifest must be a Kubernetes object")]
#[case::kind_not_a_string(
    "kind: 7\nspec: {}\n",
    "the desired manifest: kind must be a string, not a number"
)]
#[case::list_items_not_an_array(
    "kind: List\nitems: 3\n",
    "the items of a List must be an array, not a number"
)]
#[case::no_documentdb(
    "kind: Namespace\n---\nkind: Secret\n",
    "holds 2 documents and none is a DocumentDB"
)]
#[case::two_documentdbs(
    "kind: DocumentDB\napiVersion: documentdb.io/preview\nmetadata: {name: a}\n---\nkind: DocumentDB\napiVersion: documentdb.io/preview\nmetadata: {name: b}\n",
    "holds 2 DocumentDB objects (\"a\", \"b\"); give one, or a current object with the same name"
)]
#[case::yaml_alias_bomb(
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
    "the desired manifest is not valid YAML: "
)]
fn input_errors_say_what_to_fix(#[case] desired: &str, #[case] expected: &str) {
    let report = check("", desired, "");
    assert_eq!(report.decision.outcome, Outcome::InputError, "{report:?}");
    assert!(!report.decision.allowed);
    let message = report.decision.message.unwrap_or_default();
    assert!(message.contains(expected), "{message}");
}

#[test]
fn of_several_documentdbs_the_one_named_like_the_current_object_is_checked() {
    let desired = format!(
        "{}---\n{}",
        db("0.110.0", None, None).replace("documentdb-cluster", "other-cluster"),
        db("0.110.0", None, None)
    );
    let current = db("0.112.0", Some("0.112.0"), Some("0.112.0"));
    let current_value = documents(&current, Source::Current).unwrap().remove(0);
    let chosen = select(
        documents(&desired, Source::Desired).unwrap(),
        Source::Desired,
        Some(&current_value),
    )
    .unwrap();
    assert_eq!(chosen["metadata"]["name"], "documentdb-cluster");
    assert_eq!(
        check(&current, &desired, "").decision.outcome,
        Outcome::Denied
    );
}

#[rstest]
#[case::yaml("allowAutoSchemaVersion: false\n", Outcome::Denied)]
#[case::json(r#"{"allowAutoSchemaVersion": false}"#, Outcome::Denied)]
#[case::defaults("", Outcome::Allowed)]
#[case::null_document("~\n", Outcome::Allowed)]
#[case::refused("allowAutoSchemaVersion: nope\n", Outcome::SettingsRefused)]
#[case::unknown_key("defaultDocumentDbVersion: 0.112.0\n", Outcome::SettingsRefused)]
#[case::two_documents("a: 1\n---\nb: 2\n", Outcome::InputError)]
fn settings_as_yaml_or_json(#[case] settings: &str, #[case] outcome: Outcome) {
    let report = check("", &db("0.112.0", Some("auto"), None), settings);
    assert_eq!(report.decision.outcome, outcome, "{report:?}");
}

#[test]
fn refused_settings_carry_the_policys_message() {
    let report = check(
        "",
        &db("0.112.0", None, None),
        "defaultDocumentDbVersion: 0.112.0",
    );
    assert_eq!(
        report.decision.message.as_deref(),
        Some(
            "the policy settings are invalid: unknown setting \"defaultDocumentDbVersion\": did you mean defaultDocumentDBVersion? \
             (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)"
        )
    );
}

#[test]
fn a_yaml_float_where_a_version_string_belongs_is_the_policys_type_error() {
    // `schemaVersion: 0.112` is a YAML number, exactly what the API server
    // would receive from this manifest.
    let desired = db("0.112.0", None, None) + "  documentDBVersion: 0.112\n";
    let report = check("", &desired, "");
    assert_eq!(report.decision.outcome, Outcome::Denied);
    let message = report.decision.message.unwrap_or_default();
    assert!(
        message.contains("spec.documentDBVersion: Invalid value: \"number\": must be a string"),
        "{message}"
    );
    assert!(report.timeline.is_none());
}

#[test]
fn a_manifest_instead_of_the_cluster_object_gets_a_note() {
    let report = check(&db("0.112.0", None, None), &db("0.110.0", None, None), "");
    assert_eq!(report.decision.outcome, Outcome::Allowed);
    assert!(
        report
            .notes
            .iter()
            .any(|note| note.contains("has no status.schemaVersion")),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_fragment_without_kind_is_checked_as_a_documentdb() {
    let report = check(
        "",
        "spec:\n  documentDBVersion: 0.110.0\n  schemaVersion: 0.112.0\n",
        "",
    );
    assert_eq!(report.decision.outcome, Outcome::Denied);
    assert!(
        report.notes[0]
            .contains("has no apiVersion: checked as a documentdb.io/preview DocumentDB"),
        "{:?}",
        report.notes
    );
}

#[test]
fn another_kind_is_not_applicable_and_has_no_timeline() {
    let report = check("", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", "");
    assert_eq!(report.decision.outcome, Outcome::NotApplicable);
    assert!(report.decision.allowed);
    assert!(report.timeline.is_none());
    assert!(report.notes[0].contains("\"v1\" \"Pod\" is not a documentdb.io DocumentDB"));
}

#[test]
fn renaming_between_current_and_desired_is_pointed_out() {
    let desired = db("0.112.0", None, None).replace("documentdb-cluster", "renamed");
    let report = check(&db("0.112.0", None, Some("0.112.0")), &desired, "");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("the API server treats them as two objects")),
        "{:?}",
        report.notes
    );
}

#[test]
fn the_report_is_json_with_the_documented_keys() {
    let report = check("", &db("0.112.0", None, None), "");
    let value: Value = serde_json::from_str(&report.to_json()).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "allowed",
            "binaryVersion",
            "code",
            "installedSchemaVersion",
            "message",
            "name",
            "notes",
            "operation",
            "outcome",
            "timeline",
            "warnings"
        ]
    );
    assert_eq!(value["timeline"]["stage"], "new-cluster");
    assert_eq!(value["outcome"], "allowed");
}

#[test]
fn the_raw_entry_points_answer_like_the_module() {
    let payload = r#"{"request": {"kind": {"group": "documentdb.io", "kind": "DocumentDB"}, "operation": "CREATE",
        "object": {"spec": {"documentDBVersion": "0.110.0", "schemaVersion": "0.112.0"}}}, "settings": {}}"#;
    let decision: Value = serde_json::from_str(&crate::validate_admission(payload)).unwrap();
    assert_eq!(decision["allowed"], false);
    assert_eq!(decision["code"], 422);
    assert_eq!(
        serde_json::from_str::<Value>(&crate::validate_admission("not json")).unwrap()["code"],
        400
    );
    let settings: Value = serde_json::from_str(&crate::validate_settings("{\"x\": 1}")).unwrap();
    assert_eq!(settings["valid"], false);
    assert_eq!(
        crate::policy_version(),
        documentdb_upgrade_safety::POLICY_VERSION
    );
}

/// The timeline takes the decision from the rules: the same change flips
/// between an allowed one-step upgrade and a blocked one when only a setting
/// changes what the rule `auto_schema_allowed` decides. Nothing in this crate
/// knows that setting.
#[rstest]
#[case::auto_allowed("", Outcome::Allowed, Stage::OneStepUpgrade)]
#[case::auto_forbidden("allowAutoSchemaVersion: false\n", Outcome::Denied, Stage::Blocked)]
fn a_rule_decision_changes_the_timeline(
    #[case] settings: &str,
    #[case] outcome: Outcome,
    #[case] expected_stage: Stage,
) {
    let report = check(
        &db("0.110.0", None, Some("0.110.0")),
        &db("0.112.0", Some("auto"), None),
        settings,
    );
    assert_eq!(report.decision.outcome, outcome, "{report:?}");
    assert_eq!(stage(&report), Some(expected_stage), "{report:?}");
}

/// The blocked explanation is read off the typed violations, not worked out
/// from the versions: a position that is an allowed rollback on its own is
/// explained by whatever violation the rules report.
#[test]
fn the_blocked_explanation_comes_from_the_violations() {
    use documentdb_upgrade_safety::document::BinaryOrigin;
    use documentdb_upgrade_safety::findings::{Findings, Violation};
    use documentdb_upgrade_safety::upgrade::{Stage as Position, UpgradePosition, Version};
    use documentdb_upgrade_safety::version::ExtensionVersion;

    let v = |text| ExtensionVersion::parse(text).unwrap();
    let position = UpgradePosition {
        installed_schema: Some(Version::new("0.110.0")),
        binary_before: Some(Version::new("0.112.0")),
        binary_after: Some((Version::new("0.111.0"), BinaryOrigin::DocumentDbVersion)),
        schema_after: Some(Version::new("0.110.0")),
        binary_changed: true,
        schema_moves_up: false,
        requested_schema_installed: false,
        stage: Position::BinaryRollback,
    };
    let allowed = crate::timeline::timeline(&position, &Findings::default());
    assert_eq!(allowed.stage, Stage::BinaryRollback);

    let findings = Findings {
        violations: vec![Violation::RollbackBelowInstalledSchema {
            binary: v("0.111.0"),
            installed: v("0.113.0"),
        }],
        advice: Vec::new(),
    };
    let blocked = crate::timeline::timeline(&position, &findings);
    assert_eq!(blocked.stage, Stage::Blocked);
    assert_eq!(
        blocked.summary,
        "blocked: binary 0.111.0 is below the installed schema 0.113.0"
    );
    assert_eq!(
        blocked.next_step,
        "keep the binary at 0.113.0 or later: the schema cannot be downgraded, and running 0.111.0 again needs a \
         backup taken before the schema update"
    );

    let other = Findings {
        violations: vec![Violation::AutoSchemaForbidden],
        advice: Vec::new(),
    };
    let blocked = crate::timeline::timeline(&position, &other);
    assert_eq!(
        (blocked.summary.as_str(), blocked.next_step.as_str()),
        (
            "blocked: the policy denies this object",
            "fix the fields the message names, then check again"
        )
    );
}

/// `db(…)` with more lines under `spec:` (two-space indented YAML).
/// The object with `lines` (YAML of `spec` fields, indented as under `spec:`)
/// merged into its `spec`: maps merge, other values replace, so that a test
/// can set `resource.memory` on a manifest that already has `resource.storage`.
fn with_spec_lines(yaml: &str, lines: &str) -> String {
    fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
        match (into, from) {
            (serde_json::Value::Object(into), serde_json::Value::Object(from)) => {
                for (key, value) in from {
                    merge(into.entry(key).or_insert(serde_json::Value::Null), value);
                }
            }
            (into, from) => *into = from,
        }
    }
    let mut object: serde_json::Value = serde_yaml::from_str(yaml).expect("a YAML object");
    let fields: serde_json::Value = serde_yaml::from_str(lines).expect("YAML spec fields");
    if !fields.is_null() {
        merge(&mut object["spec"], fields);
    }
    serde_yaml::to_string(&object).expect("a JSON value is YAML")
}

fn summary(report: &Report) -> &str {
    report
        .timeline
        .as_ref()
        .map_or("", |timeline| timeline.summary.as_str())
}

/// The webhook rules' denials are explained from their typed violations, like
/// the version rules'.
#[rstest]
#[case::storage_shrink(
    "  resource:\n    storage:\n      pvcSize: 20Gi\n",
    "  resource:\n    storage:\n      pvcSize: 10Gi\n",
    "",
    "blocked: storage would shrink from 20Gi to 10Gi",
    "keep spec.resource.storage.pvcSize at 20Gi or more: a volume can grow, never shrink; to get a smaller one, \
     restore a backup into a new cluster"
)]
#[case::bootstrap_added(
    "",
    "  bootstrap:\n    recovery:\n      backup:\n        name: nightly\n",
    "",
    "blocked: spec.bootstrap is added to a running cluster",
    "leave spec.bootstrap as stored, or remove it: it only takes effect when a cluster is created; to restore a \
     backup, create a new cluster with it"
)]
#[case::bootstrap_changed(
    "  bootstrap:\n    recovery:\n      backup:\n        name: nightly\n",
    "  bootstrap:\n    recovery:\n      backup:\n        name: weekly\n",
    "",
    "blocked: spec.bootstrap differs from the stored one",
    "leave spec.bootstrap as stored, or remove it: it only takes effect when a cluster is created; to restore a \
     backup, create a new cluster with it"
)]
#[case::database_over_the_envelope(
    "",
    "  resource:\n    memory: 4Gi\n    database:\n      memory: 8Gi\n",
    "",
    "blocked: gateway, OTel and database memory add up to 8960Mi, more than the 4Gi pod memory envelope",
    "raise spec.resource.memory to 8960Mi or more, or lower spec.resource.database.memory"
)]
#[case::no_room_for_postgres(
    "",
    "  monitoring:\n    enabled: true\n  resource:\n    memory: 100Mi\n",
    "",
    "blocked: the gateway and OTel reserve 150272Ki of the 100Mi pod memory envelope, leaving nothing for PostgreSQL",
    "raise spec.resource.memory above 150272Ki, or give the gateway (and OTel) less memory"
)]
#[case::envelope_required(
    "",
    "  resource:\n    database:\n      cpu: \"2\"\n",
    "",
    "blocked: no pod cpu envelope, and cpu is not set on both the gateway and the database",
    "set spec.resource.cpu, or cpu on both spec.resource.gateway and spec.resource.database"
)]
#[case::gateway_cpu_limit_setting(
    "",
    "  resource:\n    cpu: \"2\"\n",
    "sidecarResources:\n  gatewayCpuLimit: \"2\"\n",
    "blocked: the gateway and OTel reserve 2000m of the 2 pod cpu envelope, leaving nothing for PostgreSQL",
    "raise spec.resource.cpu above 2000m, or give the gateway (and OTel) less cpu"
)]
fn webhook_rule_denials_are_explained(
    #[case] current_spec: &str,
    #[case] desired_spec: &str,
    #[case] settings: &str,
    #[case] expected_summary: &str,
    #[case] expected_next: &str,
) {
    let current = with_spec_lines(&db("0.112.0", None, Some("0.112.0")), current_spec);
    let desired = with_spec_lines(&db("0.112.0", None, None), desired_spec);
    let report = check(&current, &desired, settings);
    assert_eq!(report.decision.outcome, Outcome::Denied, "{report:?}");
    assert_eq!(stage(&report), Some(Stage::Blocked));
    assert_eq!(summary(&report), expected_summary);
    assert_eq!(next_step(&report), expected_next);
}

/// A storage shrink together with a rollback: both problems, both ways out,
/// in the order of the policy's message.
#[test]
fn several_webhook_violations_are_explained_together() {
    let current = with_spec_lines(
        &db("0.112.0", Some("0.112.0"), Some("0.112.0")),
        "  resource:\n    storage:\n      pvcSize: 20Gi\n",
    );
    let desired = with_spec_lines(
        &db("0.110.0", None, None),
        "  resource:\n    storage:\n      pvcSize: 10Gi\n",
    );
    let report = check(&current, &desired, "");
    assert_eq!(
        summary(&report),
        "blocked: binary 0.110.0 is below the installed schema 0.112.0, and storage would shrink from 20Gi to 10Gi"
    );
    assert!(
        next_step(&report).starts_with("keep the binary at 0.112.0 or later")
            && next_step(&report).ends_with("restore a backup into a new cluster"),
        "{report:?}"
    );
}

/// Sidecar settings reach the checker's verdict through the policy's own
/// evaluation: the same object flips between allowed and blocked.
#[rstest]
#[case::chart_defaults("", Outcome::Allowed)]
#[case::gateway_takes_everything(
    "sidecarResources:\n  gatewayMemoryFraction: 1\n  gatewayMemoryCap: \"0\"\n",
    Outcome::Denied
)]
fn sidecar_settings_change_the_verdict(#[case] settings: &str, #[case] outcome: Outcome) {
    let desired = with_spec_lines(&db("0.112.0", None, None), "  resource:\n    memory: 4Gi\n");
    let report = check("", &desired, settings);
    assert_eq!(report.decision.outcome, outcome, "{report:?}");
}

#[test]
fn bad_sidecar_settings_are_refused_like_the_engine_does() {
    let desired = db("0.112.0", None, None);
    let report = check(
        "",
        &desired,
        "sidecarResources:\n  gatewayMemoryFraction: 2\n",
    );
    assert_eq!(report.decision.outcome, Outcome::SettingsRefused);
    assert_eq!(
        report.decision.message.as_deref(),
        Some(
            "the policy settings are invalid: sidecarResources.gatewayMemoryFraction is out of range: it must be a \
             decimal number from 0 to 1 such as \"0.1875\""
        )
    );
}

#[test]
fn settings_in_two_documents_are_an_input_error() {
    let report = check(
        "",
        "kind: DocumentDB\n",
        "rollbackPolicy: deny\n---\nrollbackPolicy: warn\n",
    );
    assert_eq!(report.decision.outcome, Outcome::InputError);
    assert_eq!(
        report.decision.message.as_deref(),
        Some("the settings must be one document, not 2")
    );
}
