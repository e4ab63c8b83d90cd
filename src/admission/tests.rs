//! Table tests of the whole decision, over realistic AdmissionRequests built by
//! one helper. Upstream's Ginkgo specs for these rules (internal/webhook/
//! documentdb_webhook_test.go, commit 0a306a8 and later) are ported as cases
//! named `upstream_*`.

use rstest::rstest;
use serde_json::{Value, json};
use test_support::{
    DocumentDbObject, REQUEST_NAME, admission_request as request, validation_payload,
};

use super::*;
use crate::cluster::NoCluster;

/// Like upstream's `newTestDocumentDB(version, schemaVersion, image)`: a
/// DocumentDB as `kubectl apply` stores it (the LightRAG playground manifest,
/// named like the request), `""` meaning "not set".
fn db(version: &str, schema: &str, image: &str) -> Value {
    let mut db = DocumentDbObject::lightrag().named(REQUEST_NAME, "default");
    db = match image {
        "" => db.without("image"),
        image => db.image(image),
    };
    if !version.is_empty() {
        db = db.version(version);
    }
    if !schema.is_empty() {
        db = db.schema(schema);
    }
    db.stored(3).build()
}

/// The stored object, with the schema the operator reports as installed.
fn installed(object: Value, schema: &str) -> Value {
    DocumentDbObject::from(object).installed(schema).build()
}

fn with_spec(mut object: Value, key: &str, value: Value) -> Value {
    object["spec"][key] = value;
    object
}

fn evaluate(request: Value, settings: Value) -> Verdict {
    validate_payload(&validation_payload(&request, &settings), &NoCluster)
}

fn create(object: Value) -> Verdict {
    evaluate(request("CREATE", Some(object), None), json!({}))
}

fn update(old: Value, new: Value) -> Verdict {
    evaluate(request("UPDATE", Some(new), Some(old)), json!({}))
}

fn update_with(old: Value, new: Value, settings: Value) -> Verdict {
    evaluate(request("UPDATE", Some(new), Some(old)), settings)
}

fn accepted() -> Verdict {
    Verdict::Accepted { warnings: vec![] }
}

fn accepted_with(warning: &str) -> Verdict {
    Verdict::Accepted {
        warnings: vec![warning.to_owned()],
    }
}

fn denied(error: &str) -> Verdict {
    Verdict::Rejected {
        message: format!("DocumentDB.documentdb.io \"test-db\" is invalid: {error}"),
        code: 422,
        warnings: vec![],
    }
}

#[track_caller]
fn assert_denied_containing(verdict: &Verdict, needle: &str) {
    match verdict {
        Verdict::Rejected {
            message, code: 422, ..
        } => assert!(message.contains(needle), "{message:?} lacks {needle:?}"),
        other => panic!("expected a 422 denial containing {needle:?}, got {other:?}"),
    }
}

const IMG: &str = "ghcr.io/documentdb/documentdb";

const EXCEEDS_112_OVER_110: &str = "spec.schemaVersion: Invalid value: \"0.112.0\": schemaVersion 0.112.0 exceeds \
     the binary version 0.110.0; schema version must be <= binary version";

const ROLLBACK_110_BELOW_112: &str = "spec: Forbidden: image rollback blocked: requested version 0.110.0 is older \
     than installed schema version 0.112.0. ALTER EXTENSION has no downgrade path — running an older binary with a \
     newer schema may cause data corruption. To recover, restore from backup or update to a version >= 0.112.0.";

// --- Rule A on CREATE (upstream "schema version validation") ----------------

#[rstest]
#[case::upstream_allows_empty_schema_version(db("0.112.0", "", ""))]
#[case::upstream_allows_auto(db("0.112.0", "auto", ""))]
#[case::upstream_allows_schema_equal_to_binary(db("0.112.0", "0.112.0", ""))]
#[case::upstream_allows_schema_below_binary(db("0.112.0", "0.110.0", ""))]
#[case::upstream_allows_schema_equal_to_image_tag(db("", "0.112.0", &format!("{IMG}:0.112.0")))]
#[case::upstream_handler_allows_valid_resource(db("0.112.0", "", ""))]
#[case::numeric_not_lexicographic(db("0.100.0", "0.99.0", ""))]
#[case::tag_suffix_dropped(db("", "0.112.0", &format!("{IMG}:0.112.0-amd64")))]
#[case::tag_with_port(db("", "0.112.0", "localhost:5000/documentdb:0.112.0"))]
#[case::tag_and_digest(db("", "0.110.0", &format!("{IMG}:0.110.0@sha256:0123abcd")))]
#[case::flat_shape_image(with_spec(db("", "0.111.0", ""), "documentDBImage", json!(format!("{IMG}:0.111.0"))))]
#[case::no_spec(json!({"metadata": {"name": "test-db"}}))]
#[case::null_spec(json!({"metadata": {"name": "test-db"}, "spec": null}))]
fn create_accepts(#[case] object: Value) {
    assert_eq!(create(object), accepted());
}

#[rstest]
#[case::upstream_rejects_schema_above_binary(db("0.110.0", "0.112.0", ""), EXCEEDS_112_OVER_110)]
#[case::upstream_handler_rejects_schema_above_binary(
    db("0.110.0", "0.112.0", ""),
    EXCEEDS_112_OVER_110
)]
#[case::upstream_rejects_schema_above_image_tag(
    db("", "0.115.0", &format!("{IMG}:0.112.0")),
    "spec.schemaVersion: Invalid value: \"0.115.0\": schemaVersion 0.115.0 exceeds the binary version 0.112.0; \
     schema version must be <= binary version"
)]
#[case::image_tag_wins_over_version(db("0.120.0", "0.115.0", &format!("{IMG}:0.112.0")),
    "spec.schemaVersion: Invalid value: \"0.115.0\": schemaVersion 0.115.0 exceeds the binary version 0.112.0; \
     schema version must be <= binary version"
)]
#[case::upstream_rejects_without_binary_version(
    db("", "0.112.0", ""),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot set an explicit schemaVersion without also setting \
     spec.documentDBVersion or spec.image.documentDB; the policy needs a binary version to validate against"
)]
#[case::unknown_binary_names_latest_tag(
    db("", "0.112.0", &format!("{IMG}:latest")),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot set an explicit schemaVersion without also setting \
     spec.documentDBVersion or spec.image.documentDB; the policy needs a binary version to validate against; \
     the image tag \"latest\" does not start with X.Y.Z"
)]
#[case::unknown_binary_digest_only(
    db("", "0.112.0", &format!("{IMG}@sha256:abc123")),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot set an explicit schemaVersion without also setting \
     spec.documentDBVersion or spec.image.documentDB; the policy needs a binary version to validate against; \
     the image is pinned by digest only"
)]
#[case::unknown_binary_names_flat_field(
    with_spec(db("", "0.112.0", ""), "documentDBImage", json!("localhost:5000/documentdb")),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot set an explicit schemaVersion without also setting \
     spec.documentDBVersion or spec.documentDBImage; the policy needs a binary version to validate against; \
     the image reference has no tag"
)]
#[case::upstream_rejects_unparseable_binary(
    db("invalid", "0.112.0", ""),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot validate schemaVersion: version comparison failed: \
     invalid version \"invalid\" in spec.documentDBVersion: unexpected character 'i' while parsing major version number"
)]
#[case::v_prefixed_version_is_not_canonical(
    db("v1.0.0", "0.112.0", ""),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot validate schemaVersion: version comparison failed: \
     invalid version \"v1.0.0\" in spec.documentDBVersion: unexpected character 'v' while parsing major version number"
)]
#[case::leading_zero_tag(
    db("", "0.112.0", &format!("{IMG}:0.0112.0")),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot validate schemaVersion: version comparison failed: \
     invalid version \"0.0112.0\" in the tag of spec.image.documentDB: invalid leading zero in minor version number"
)]
#[case::overflowing_tag_is_denied_not_ignored(
    db("0.200.0", "0.112.0", &format!("{IMG}:99999999999999999999.0.0")),
    "spec.schemaVersion: Invalid value: \"0.112.0\": cannot validate schemaVersion: version comparison failed: \
     invalid version \"99999999999999999999.0.0\" in the tag of spec.image.documentDB: a component does not fit in 64 bits"
)]
#[case::overflowing_schema_is_a_comparison_failure(
    db("0.112.0", "99999999999999999999.0.0", ""),
    "spec.schemaVersion: Invalid value: \"99999999999999999999.0.0\": cannot validate schemaVersion: version \
     comparison failed: invalid version \"99999999999999999999.0.0\" in spec.schemaVersion: a component does not fit in 64 bits"
)]
#[case::format_leading_zero(
    db("0.112.0", "0.0112.0", ""),
    "spec.schemaVersion: Invalid value: \"0.0112.0\": schemaVersion must be \"\", \"auto\" or a version X.Y.Z of \
     three non-negative integers without leading zeros, sign, \"v\" prefix or suffix (e.g. \"0.112.0\"); the operator \
     would retry an invalid ALTER EXTENSION forever"
)]
#[case::format_v_prefix(
    db("0.112.0", "v1.0.0", ""),
    "spec.schemaVersion: Invalid value: \"v1.0.0\": schemaVersion must be \"\", \"auto\" or a version X.Y.Z of \
     three non-negative integers without leading zeros, sign, \"v\" prefix or suffix (e.g. \"0.112.0\"); the operator \
     would retry an invalid ALTER EXTENSION forever"
)]
fn create_denies(#[case] object: Value, #[case] error: &str) {
    assert_eq!(create(object), denied(error));
}

#[rstest]
#[case::format_uppercase_auto("AUTO")]
#[case::format_prerelease("0.112.0-rc1")]
#[case::format_two_parts("0.112")]
#[case::format_whitespace(" 0.112.0")]
fn schema_version_format_is_checked_before_the_binary(#[case] schema: &str) {
    // No binary at all: the format error still comes first and alone.
    assert_denied_containing(
        &create(db("", schema, "")),
        "schemaVersion must be \"\", \"auto\" or a version X.Y.Z",
    );
}

#[test]
fn a_megabyte_schema_version_is_quoted_short() {
    let huge = "1".repeat(1 << 20);
    let Verdict::Rejected { message, .. } = create(db("0.112.0", &format!("{huge}.0.0"), ""))
    else {
        panic!("expected a denial");
    };
    assert!(message.len() < 600, "{} bytes", message.len());
    assert!(message.contains(&format!("\"{}…\"", "1".repeat(64))));
}

// --- Rule B on UPDATE (upstream "image rollback validation") ----------------

#[rstest]
#[case::upstream_allows_upgrade_above_installed(
    installed(db("0.110.0", "", ""), "0.110.0"),
    db("0.112.0", "", "")
)]
#[case::upstream_allows_rollback_without_installed_schema(
    db("0.112.0", "", ""),
    db("0.110.0", "", "")
)]
#[case::upstream_allows_same_version(
    installed(db("0.112.0", "auto", ""), "0.112.0"),
    db("0.112.0", "auto", "")
)]
#[case::upstream_skips_unchanged_image_fields(
    installed(db("0.112.0", "", ""), "0.112.0"),
    with_spec(db("0.112.0", "", ""), "resource", json!({"storage": {"pvcSize": "20Gi", "persistentVolumeReclaimPolicy": "Retain"}}))
)]
#[case::upstream_handler_allows_valid_upgrade_stays(
    installed(db("0.112.0", "0.112.0", ""), "0.112.0"),
    db("0.113.0", "0.112.0", "")
)]
#[case::unrelated_patch_with_old_rollback_in_place(
    installed(db("0.110.0", "", ""), "0.112.0"),
    db("0.110.0", "", "")
)]
#[case::equal_to_installed(installed(db("0.112.0", "", ""), "0.112.0"), db("", "", &format!("{IMG}:0.112.0")))]
fn update_accepts(#[case] old: Value, #[case] new: Value) {
    match update(old, new) {
        Verdict::Accepted { .. } => {}
        other => panic!("expected acceptance, got {other:?}"),
    }
}

#[rstest]
#[case::upstream_blocks_rollback_below_installed(
    installed(db("0.112.0", "auto", ""), "0.112.0"),
    db("0.110.0", "auto", "")
)]
#[case::upstream_handler_rejects_rollback(
    installed(db("0.112.0", "auto", ""), "0.112.0"),
    db("0.110.0", "auto", "")
)]
#[case::upstream_blocks_rollback_via_image(
    installed(db("", "", &format!("{IMG}:0.112.0")), "0.112.0"),
    db("", "", &format!("{IMG}:0.110.0"))
)]
#[case::rollback_via_flat_image(
    installed(with_spec(db("", "", ""), "documentDBImage", json!(format!("{IMG}:0.112.0"))), "0.112.0"),
    with_spec(db("", "", ""), "documentDBImage", json!(format!("{IMG}:0.110.0")))
)]
#[case::rollback_via_tag_and_digest(
    installed(db("", "", &format!("{IMG}:0.112.0")), "0.112.0"),
    db("", "", &format!("{IMG}:0.110.0@sha512:feed"))
)]
#[case::kept_weakness_latest_with_stale_lower_version(
    installed(db("0.110.0", "", &format!("{IMG}:0.112.0")), "0.112.0"),
    db("0.110.0", "", &format!("{IMG}:latest"))
)]
fn update_blocks_rollback(#[case] old: Value, #[case] new: Value) {
    assert_eq!(update(old, new), denied(ROLLBACK_110_BELOW_112));
}

#[test]
fn upstream_rejects_unparseable_rollback_versions() {
    let verdict = update(
        installed(db("invalid-old", "", ""), "invalid"),
        db("invalid-new", "", ""),
    );
    assert_eq!(
        verdict,
        denied(
            "spec: Forbidden: cannot validate image rollback: version comparison failed: invalid version \
             \"invalid-new\" in spec.documentDBVersion: unexpected character 'i' while parsing major version number"
        )
    );
}

#[test]
fn unparseable_installed_schema_is_a_comparison_failure() {
    let verdict = update(
        installed(db("0.112.0", "", ""), "0.112"),
        db("0.113.0", "", ""),
    );
    assert_denied_containing(
        &verdict,
        "spec: Forbidden: cannot validate image rollback: version comparison failed: invalid version \"0.112\" in \
         oldObject.status.schemaVersion",
    );
}

const SKIPPED_LATEST: &str = "rollback check skipped: the binary version is unknown (the image tag \"latest\" does not start with X.Y.Z)";

#[rstest]
#[case::upstream_skips_unparseable_tag(
    installed(db("", "", &format!("{IMG}:0.112.0")), "0.112.0"),
    db("", "", &format!("{IMG}:latest")),
    SKIPPED_LATEST
)]
#[case::upstream_skips_unresolvable_binary(
    installed(db("0.112.0", "", ""), "0.112.0"),
    db("", "", ""),
    "rollback check skipped: the binary version is unknown (neither spec.documentDBVersion nor an image is set)"
)]
#[case::digest_only_image(
    installed(db("", "", &format!("{IMG}:0.112.0")), "0.112.0"),
    db("", "", &format!("{IMG}@sha256:abc")),
    "rollback check skipped: the binary version is unknown (the image is pinned by digest only)"
)]
fn unknown_binary_is_accepted_with_a_warning(
    #[case] old: Value,
    #[case] new: Value,
    #[case] warning: &str,
) {
    assert_eq!(update(old, new), accepted_with(warning));
}

#[test]
fn upstream_skips_when_neither_object_has_a_binary() {
    // Nothing changed: Rule B does not even look.
    assert_eq!(
        update(installed(db("", "", ""), "0.112.0"), db("", "", "")),
        accepted()
    );
}

#[test]
fn reject_unknown_binary_version_setting_denies_instead() {
    let verdict = update_with(
        installed(db("", "", &format!("{IMG}:0.112.0")), "0.112.0"),
        db("", "", &format!("{IMG}:latest")),
        json!({"rejectUnknownBinaryVersion": true}),
    );
    assert_eq!(
        verdict,
        denied(
            "spec: Forbidden: the binary version is unknown (the image tag \"latest\" does not start with X.Y.Z); the \
             setting rejectUnknownBinaryVersion requires one to check the change against installed schema version 0.112.0"
        )
    );
}

// --- Both rules, aggregation ------------------------------------------------

#[test]
fn upstream_handler_rejects_schema_above_binary_on_update() {
    let verdict = update(
        installed(db("0.110.0", "", ""), "0.110.0"),
        db("0.110.0", "0.112.0", ""),
    );
    assert_eq!(verdict, denied(EXCEEDS_112_OVER_110));
}

#[test]
fn both_rules_are_reported_together_rule_a_first() {
    let verdict = update(
        installed(db("0.112.0", "0.112.0", ""), "0.112.0"),
        db("0.110.0", "0.112.0", ""),
    );
    assert_eq!(
        verdict,
        denied(&format!(
            "[{EXCEEDS_112_OVER_110}, {ROLLBACK_110_BELOW_112}]"
        ))
    );
}

#[test]
fn name_falls_back_to_the_request_name() {
    let mut object = db("0.110.0", "0.112.0", "");
    object["metadata"].as_object_mut().unwrap().remove("name");
    let mut req = request("CREATE", Some(object), None);
    req["name"] = json!("from-request");
    let Verdict::Rejected { message, .. } = evaluate(req, json!({})) else {
        panic!("expected a denial")
    };
    assert!(
        message.starts_with("DocumentDB.documentdb.io \"from-request\" is invalid: "),
        "{message}"
    );
}

// --- Ratchet -----------------------------------------------------------------

#[rstest]
#[case::stored_schema_above_binary(db("0.110.0", "0.112.0", ""))]
#[case::stored_malformed_schema(db("0.112.0", "0.0112.0", ""))]
#[case::stored_schema_without_binary(db("", "0.112.0", ""))]
fn ratchet_lets_untouched_objects_through(#[case] stored: Value) {
    // E.g. the operator removing its finalizer from an object stored before
    // the policy existed.
    let mut new = stored.clone();
    new["metadata"]["finalizers"] = json!([]);
    assert_eq!(update(stored.clone(), new), accepted());
}

#[rstest]
#[case::schema_changed(db("0.110.0", "0.111.0", ""), db("0.110.0", "0.112.0", ""))]
#[case::version_changed(db("0.111.0", "0.112.0", ""), db("0.110.0", "0.112.0", ""))]
#[case::image_changed(db("", "0.112.0", &format!("{IMG}:0.112.0")), db("", "0.112.0", &format!("{IMG}:0.110.0")))]
fn ratchet_checks_any_change_to_a_rule_input(#[case] old: Value, #[case] new: Value) {
    assert_denied_containing(&update(old, new), "exceeds the binary version");
}

// --- allowAutoSchemaVersion ----------------------------------------------------

const AUTO_FORBIDDEN: &str = "spec.schemaVersion: Forbidden: this policy forbids automatic schema upgrades \
     (schemaVersion \"auto\", setting allowAutoSchemaVersion: false); set an explicit schemaVersion X.Y.Z, at most \
     the binary version, to upgrade the schema";

#[test]
fn auto_denied_on_create_when_disallowed() {
    let verdict = evaluate(
        request("CREATE", Some(db("0.112.0", "auto", "")), None),
        json!({"allowAutoSchemaVersion": false}),
    );
    assert_eq!(verdict, denied(AUTO_FORBIDDEN));
}

#[test]
fn auto_denied_when_switched_to_on_update() {
    let verdict = update_with(
        db("0.112.0", "", ""),
        db("0.112.0", "auto", ""),
        json!({"allowAutoSchemaVersion": false}),
    );
    assert_eq!(verdict, denied(AUTO_FORBIDDEN));
}

#[test]
fn auto_ratcheted_for_objects_already_on_auto() {
    let stored = installed(db("0.112.0", "auto", ""), "0.112.0");
    let mut new = db("0.112.0", "auto", "");
    new["spec"]["nodeCount"] = json!(2);
    assert_eq!(
        update_with(stored, new, json!({"allowAutoSchemaVersion": false})),
        accepted()
    );
}

#[test]
fn auto_on_auto_object_denied_when_the_binary_moves() {
    let verdict = update_with(
        installed(db("0.112.0", "auto", ""), "0.112.0"),
        db("0.113.0", "auto", ""),
        json!({"allowAutoSchemaVersion": false}),
    );
    assert_eq!(verdict, denied(AUTO_FORBIDDEN));
}

#[test]
fn auto_allowed_by_default() {
    assert_eq!(create(db("0.112.0", "auto", "")), accepted());
}

// --- defaultDocumentDBVersion ----------------------------------------------------

#[rstest]
#[case::rule_a_accepts_with_default(None, db("", "0.113.0", ""), json!({"defaultDocumentDBVersion": "0.113.0"}), true)]
#[case::rule_a_denies_above_default(None, db("", "0.114.0", ""), json!({"defaultDocumentDBVersion": "0.113.0"}), false)]
#[case::rule_b_denies_below_installed(
    Some(installed(db("0.114.0", "", ""), "0.114.0")), db("", "", ""), json!({"defaultDocumentDBVersion": "0.113.0"}), false
)]
#[case::rule_b_accepts_default_at_installed(
    Some(installed(db("0.113.0", "", ""), "0.113.0")), db("", "", ""), json!({"defaultDocumentDBVersion": "0.113.0"}), true
)]
fn default_version_serves_objects_without_version_or_image(
    #[case] old: Option<Value>,
    #[case] new: Value,
    #[case] settings: Value,
    #[case] allowed: bool,
) {
    let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
    let verdict = evaluate(request(operation, Some(new), old), settings);
    assert_eq!(verdict.is_accepted(), allowed, "{verdict:?}");
}

// --- Warnings ----------------------------------------------------------------

const TWO_PHASE_112: &str = "two-phase upgrade: the binary moves to 0.112.0 but the schema stays at 0.110.0 until spec.schemaVersion is set";

#[rstest]
#[case::version_bump(installed(db("0.110.0", "", ""), "0.110.0"), db("0.112.0", "", ""))]
#[case::image_bump(installed(db("", "", &format!("{IMG}:0.110.0")), "0.110.0"), db("", "", &format!("{IMG}:0.112.0")))]
#[case::second_bump_still_warns(installed(db("0.111.0", "", ""), "0.110.0"), db("0.112.0", "", ""))]
fn two_phase_warning(#[case] old: Value, #[case] new: Value) {
    assert_eq!(update(old, new), accepted_with(TWO_PHASE_112));
}

#[rstest]
#[case::schema_set(
    installed(db("0.110.0", "", ""), "0.110.0"),
    db("0.112.0", "0.112.0", "")
)]
#[case::auto(
    installed(db("0.110.0", "auto", ""), "0.110.0"),
    db("0.112.0", "auto", "")
)]
#[case::no_version_change(installed(db("0.112.0", "", ""), "0.110.0"), db("0.112.0", "", ""))]
#[case::nothing_installed(db("0.110.0", "", ""), db("0.112.0", "", ""))]
fn no_two_phase_warning(#[case] old: Value, #[case] new: Value) {
    assert_eq!(update(old, new), accepted());
}

const NOOP_110_BELOW_112: &str = "spec.schemaVersion 0.110.0 is below the installed schema 0.112.0: no-op, a schema cannot be downgraded";

#[test]
fn schema_below_installed_is_a_noop_warning() {
    let verdict = update(
        installed(db("0.112.0", "", ""), "0.112.0"),
        db("0.112.0", "0.110.0", ""),
    );
    assert_eq!(verdict, accepted_with(NOOP_110_BELOW_112));
}

#[test]
fn unchanged_schema_below_installed_does_not_warn_again() {
    let stored = installed(db("0.112.0", "0.110.0", ""), "0.112.0");
    assert_eq!(update(stored, db("0.112.0", "0.110.0", "")), accepted());
}

const AUTO_REPLICATED: &str = "schemaVersion \"auto\" is meant for single-region clusters; with spec.clusterReplication set, pin a schemaVersion";

#[rstest]
#[case::create(None, true)]
#[case::update(Some(db("0.112.0", "auto", "")), true)]
fn auto_on_replicated_cluster_warns(#[case] old: Option<Value>, #[case] _unused: bool) {
    let new = with_spec(
        db("0.112.0", "auto", ""),
        "clusterReplication",
        json!({"primary": "member-1", "clusterList": [{"name": "member-1"}]}),
    );
    let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
    assert_eq!(
        evaluate(request(operation, Some(new), old), json!({})),
        accepted_with(AUTO_REPLICATED)
    );
}

#[rstest]
#[case::empty_replication(with_spec(db("0.112.0", "auto", ""), "clusterReplication", json!({})))]
#[case::explicit_schema(with_spec(db("0.112.0", "0.112.0", ""), "clusterReplication", json!({"primary": "a"})))]
fn no_replication_warning(#[case] object: Value) {
    assert_eq!(create(object), accepted());
}

#[test]
fn warnings_are_short() {
    // Kubernetes: "Limit warnings to 120 characters if possible".
    for warning in [
        TWO_PHASE_112,
        AUTO_REPLICATED,
        SKIPPED_LATEST,
        NOOP_110_BELOW_112,
    ] {
        assert!(
            warning.chars().count() <= 120,
            "{} chars: {warning}",
            warning.chars().count()
        );
    }
}

#[test]
fn warnings_accompany_a_denial() {
    let verdict = update(
        installed(db("0.112.0", "", ""), "0.112.0"),
        db("0.112.0", "0.113.0", ""),
    );
    assert_denied_containing(&verdict, "exceeds the binary version");
}

// --- Requests the policy does not validate -----------------------------------

#[rstest]
#[case::other_kind(json!({"group": "", "version": "v1", "kind": "Pod"}), "", "CREATE")]
#[case::other_group(json!({"group": "example.io", "version": "preview", "kind": "DocumentDB"}), "", "CREATE")]
#[case::scale_subresource(json!({"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"}), "scale", "UPDATE")]
#[case::status_of_another_kind(json!({"group": "", "version": "v1", "kind": "Pod"}), "status", "UPDATE")]
#[case::delete(json!({"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"}), "", "DELETE")]
#[case::connect(json!({"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"}), "", "CONNECT")]
fn not_applicable_requests_pass_untouched(
    #[case] kind: Value,
    #[case] sub_resource: &str,
    #[case] operation: &str,
) {
    // Even an object that would violate Rule A.
    let mut req = request(
        operation,
        Some(db("0.110.0", "0.112.0", "")),
        Some(installed(db("0.112.0", "", ""), "0.112.0")),
    );
    req["kind"] = kind;
    if !sub_resource.is_empty() {
        req["subResource"] = json!(sub_resource);
    }
    let verdict = evaluate(req, json!({}));
    assert!(matches!(verdict, Verdict::NotApplicable(_)), "{verdict:?}");
}

// --- Bad input -----------------------------------------------------------------

#[rstest]
#[case::schema_version_number(
    with_spec(db("0.112.0", "", ""), "schemaVersion", json!(0.112)),
    "spec.schemaVersion: Invalid value: \"number\": must be a string (\"\", \"auto\" or X.Y.Z), not a number"
)]
#[case::spec_not_object(
    json!({"metadata": {"name": "test-db"}, "spec": ["a"]}),
    "spec: Invalid value: \"array\": must be an object, not an array"
)]
#[case::image_not_object(
    with_spec(db("0.112.0", "", ""), "image", json!("ghcr.io/documentdb/documentdb:0.112.0")),
    "spec.image: Invalid value: \"ghcr.io/documentdb/documentdb:0.112.0\": must be an object, not a string"
)]
#[case::several_at_once(
    with_spec(with_spec(db("", "", ""), "documentDBVersion", json!(112)), "image", json!({"documentDB": false})),
    "[spec.documentDBVersion: Invalid value: \"number\": must be a string, not a number, spec.image.documentDB: Invalid \
     value: false: must be a string, not a boolean]"
)]
fn mistyped_fields_are_denied_by_name(#[case] object: Value, #[case] error: &str) {
    assert_eq!(create(object), denied(error));
}

#[test]
fn mistyped_old_object_fields_are_named_as_such() {
    let mut old = installed(db("0.112.0", "", ""), "0.112.0");
    old["status"]["schemaVersion"] = json!(112);
    assert_eq!(
        update(old, db("0.113.0", "", "")),
        denied(
            "oldObject.status.schemaVersion: Invalid value: \"number\": must be a string, not a number"
        )
    );
}

#[rstest]
#[case::create_without_object(
    request("CREATE", None, None),
    "object: Required value: the admission request carries no object"
)]
#[case::update_without_old_object(
    request("UPDATE", Some(db("0.112.0", "", "")), None),
    "oldObject: Required value: the admission request carries no oldObject"
)]
#[case::object_is_a_string(
    request("CREATE", Some(json!("test-db")), None),
    "object: Invalid value: \"test-db\": must be an object, not a string"
)]
fn missing_objects_are_denied(#[case] request: Value, #[case] error: &str) {
    assert_eq!(evaluate(request, json!({})), denied(error));
}

fn raw(payload: &str) -> Verdict {
    validate_payload(payload.as_bytes(), &NoCluster)
}

#[rstest]
#[case::empty(
    "",
    400,
    "the admission request is not valid JSON: EOF while parsing a value at line 1 column 0"
)]
#[case::truncated(
    r#"{"request": {"uid": "#,
    400,
    "the admission request is not valid JSON: EOF while parsing a value at line 1 column 20"
)]
#[case::top_level_array(
    "[1, 2]",
    422,
    "the admission request is invalid: the validation payload must be a JSON object, not an array"
)]
#[case::top_level_null(
    "null",
    422,
    "the admission request is invalid: the validation payload is null"
)]
#[case::no_request(
    "{}",
    422,
    "the admission request is invalid: request: Required value: missing"
)]
#[case::request_is_array(
    r#"{"request": []}"#,
    422,
    "the admission request is invalid: request: Invalid value: \"array\": must be an object, not an array"
)]
#[case::no_kind(
    r#"{"request": {"operation": "CREATE"}}"#,
    422,
    "the admission request is invalid: request.kind: Required value: missing"
)]
#[case::kind_mistyped(
    r#"{"request": {"kind": "DocumentDB"}}"#,
    422,
    "the admission request is invalid: request.kind: Invalid value: \"DocumentDB\": must be an object, not a string"
)]
#[case::operation_missing(
    r#"{"request": {"kind": {"group": "documentdb.io", "kind": "DocumentDB"}}}"#,
    422,
    "the admission request is invalid: request.operation: Required value: missing"
)]
#[case::operation_number(
    r#"{"request": {"kind": {"group": "documentdb.io", "kind": "DocumentDB"}, "operation": 1}}"#,
    422,
    "the admission request is invalid: request.operation: Invalid value: \"number\": must be a string, not a number"
)]
#[case::bad_settings(
    r#"{"request": {}, "settings": {"bogus": true}}"#,
    500,
    "the policy settings are invalid, fix the policy's configuration: unknown setting \"bogus\" (known settings: \
     rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)"
)]
fn malformed_payloads_get_a_clear_answer(
    #[case] payload: &str,
    #[case] code: u16,
    #[case] message: &str,
) {
    assert_eq!(
        raw(payload),
        Verdict::Rejected {
            message: message.to_owned(),
            code,
            warnings: vec![]
        }
    );
}

#[rstest]
#[case::in_an_ignored_field("managedFields", EXCEEDS_112_OVER_110)]
#[case::in_a_read_field(
    "clusterReplication",
    // A mistyped field stops the rules: they cannot run on an unreadable object.
    "spec.clusterReplication: Invalid value: \"array\": must be an object, not an array"
)]
fn deep_nesting_costs_no_recursion(#[case] field: &str, #[case] error: &str) {
    // serde_json skips values iteratively, so 100,000 levels cost no stack.
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let object = serde_json::to_string(&db("0.110.0", "0.112.0", "")).unwrap();
    let object = object.replacen("\"spec\":{", &format!("\"spec\":{{\"{field}\":{deep},"), 1);
    let payload = format!(
        r#"{{"request": {{"kind": {{"group": "documentdb.io", "kind": "DocumentDB"}}, "operation": "CREATE", "object": {object}}}}}"#
    );
    assert_eq!(raw(&payload), denied(error));
}

#[test]
fn ten_thousand_annotations_are_skipped() {
    let mut object = db("0.110.0", "0.112.0", "");
    let annotations: serde_json::Map<String, Value> = (0..10_000)
        .map(|i| (format!("example.com/key-{i}"), json!("v".repeat(100))))
        .collect();
    object["metadata"]["annotations"] = Value::Object(annotations);
    assert_eq!(create(object), denied(EXCEEDS_112_OVER_110));
}

// --- Storage can only grow (upstream "validateStorageResize") -----------------

fn with_pvc(mut object: Value, size: Value) -> Value {
    object["spec"]["resource"]["storage"]["pvcSize"] = size;
    object
}

fn resize(before: &str, after: &str) -> Verdict {
    update(
        with_pvc(db("", "", ""), json!(before)),
        with_pvc(db("", "", ""), json!(after)),
    )
}

const GRAMMAR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

fn shrink(before: &str, after: &str) -> String {
    format!(
        "spec.resource.storage.pvcSize: Forbidden: storage size can only be increased; attempted shrink from \
         {before} to {after}"
    )
}

#[rstest]
#[case::upstream_allows_storage_size_increase("10Gi", "20Gi")]
#[case::upstream_allows_same_size("10Gi", "10Gi")]
#[case::same_size_in_other_units("10Gi", "10240Mi")]
#[case::fraction_of_a_gibi("1.5Gi", "1536Mi")]
#[case::exponent_is_decimal_si("1e9", "1G")]
#[case::decimal_above_binary("10Gi", "11G")]
#[case::kilo_to_kibi("1k", "1Ki")]
#[case::explicit_plus("+10Gi", "10Gi")]
fn storage_may_grow_or_stay(#[case] before: &str, #[case] after: &str) {
    assert_eq!(resize(before, after), accepted());
}

#[rstest]
#[case::upstream_rejects_storage_size_decrease("20Gi", "10Gi", &shrink("20Gi", "10Gi"))]
#[case::kibi_to_kilo("1Ki", "1k", &shrink("1Ki", "1k"))]
#[case::binary_to_exponent("1Ti", "1e12", &shrink("1Ti", "1e12"))]
#[case::negative("10Gi", "-10Gi", &shrink("10Gi", "-10Gi"))]
#[case::milli("1", "999m", &shrink("1", "999m"))]
#[case::half_gibi("1Gi", "0.5Gi", &shrink("1Gi", "0.5Gi"))]
#[case::upstream_rejects_invalid_old_pvc_size(
    "not-a-quantity",
    "10Gi",
    &format!("spec.resource.storage.pvcSize: Invalid value: \"not-a-quantity\": existing pvcSize is not a valid \
              resource quantity: {GRAMMAR}")
)]
#[case::upstream_rejects_invalid_new_pvc_size(
    "10Gi",
    "abc",
    &format!("spec.resource.storage.pvcSize: Invalid value: \"abc\": pvcSize must be a valid resource quantity: {GRAMMAR}")
)]
#[case::bad_suffix(
    "10Gi",
    "20mi",
    "spec.resource.storage.pvcSize: Invalid value: \"20mi\": pvcSize must be a valid resource quantity: unable to \
     parse quantity's suffix"
)]
#[case::exponent_with_suffix(
    "10Gi",
    "1E3Mi",
    &format!("spec.resource.storage.pvcSize: Invalid value: \"1E3Mi\": pvcSize must be a valid resource quantity: {GRAMMAR}")
)]
#[case::both_invalid_no_comparison(
    "big",
    ".e-10",
    &format!("[spec.resource.storage.pvcSize: Invalid value: \"big\": existing pvcSize is not a valid resource \
              quantity: {GRAMMAR}, spec.resource.storage.pvcSize: Invalid value: \".e-10\": pvcSize must be a valid \
              resource quantity: unable to parse numeric part of quantity]")
)]
fn storage_shrink_is_denied(#[case] before: &str, #[case] after: &str, #[case] error: &str) {
    assert_eq!(resize(before, after), denied(error));
}

#[test]
fn storage_is_not_checked_on_create() {
    assert_eq!(create(with_pvc(db("", "", ""), json!("abc"))), accepted());
}

#[test]
fn a_long_size_is_quoted_short_in_the_shrink_message() {
    let huge = format!("1{}", "0".repeat(100));
    let verdict = resize(&huge, "1");
    let quoted = format!("\"1{}…\"", "0".repeat(63));
    assert_eq!(verdict, denied(&shrink(&quoted, "1")));
}

#[test]
fn mistyped_pvc_size_is_denied_by_name() {
    let stored = with_pvc(db("", "", ""), json!(10));
    assert_eq!(
        update(stored, db("", "", "")),
        denied(
            "oldObject.spec.resource.storage.pvcSize: Invalid value: \"number\": must be a quantity string such \
             as \"10Gi\", not a number"
        )
    );
}

// --- Bootstrap is fixed after creation (upstream "validateImmutableFields") ----

const BOOTSTRAP_CHANGED: &str =
    "spec.bootstrap: Forbidden: bootstrap configuration cannot be changed after cluster creation";

fn backup(name: &str) -> Option<Value> {
    Some(json!({"recovery": {"backup": {"name": name}}}))
}

fn with_bootstrap(object: Value, bootstrap: Option<Value>) -> Value {
    match bootstrap {
        Some(bootstrap) => with_spec(object, "bootstrap", bootstrap),
        None => object,
    }
}

#[rstest]
#[case::upstream_rejects_bootstrap_config_change(
    backup("my-backup"),
    backup("different-backup"),
    false
)]
#[case::upstream_allows_bootstrap_nil_to_nil(None, None, true)]
#[case::upstream_allows_unchanged_bootstrap(backup("my-backup"), backup("my-backup"), true)]
#[case::upstream_allows_bootstrap_removal(backup("my-backup"), None, true)]
#[case::upstream_rejects_bootstrap_addition(None, backup("my-backup"), false)]
#[case::empty_bootstrap_added(None, Some(json!({})), false)]
#[case::null_is_absent(Some(json!(null)), Some(json!(null)), true)]
#[case::removal_by_null(backup("my-backup"), Some(json!(null)), true)]
#[case::null_to_set(Some(json!(null)), backup("my-backup"), false)]
#[case::empty_backup_is_no_backup(
    Some(json!({"recovery": {}})),
    Some(json!({"recovery": {"backup": {}}})),
    true
)]
#[case::empty_volume_is_a_volume(
    Some(json!({"recovery": {}})),
    Some(json!({"recovery": {"persistentVolume": {}}})),
    false
)]
#[case::null_recovery_is_no_recovery(Some(json!({})), Some(json!({"recovery": null})), true)]
#[case::empty_recovery_is_a_recovery(Some(json!({})), Some(json!({"recovery": {}})), false)]
#[case::unknown_keys_are_dropped(
    backup("my-backup"),
    Some(json!({"recovery": {"backup": {"name": "my-backup", "kind": "Backup"}, "source": "x"}})),
    true
)]
#[case::backup_to_volume(
    backup("my-backup"),
    Some(json!({"recovery": {"persistentVolume": {"name": "pv-1"}}})),
    false
)]
fn bootstrap_is_fixed_after_creation(
    #[case] before: Option<Value>,
    #[case] after: Option<Value>,
    #[case] allowed: bool,
) {
    let verdict = update(
        with_bootstrap(db("", "", ""), before),
        with_bootstrap(db("", "", ""), after),
    );
    let expected = if allowed {
        accepted()
    } else {
        denied(BOOTSTRAP_CHANGED)
    };
    assert_eq!(verdict, expected);
}

#[test]
fn bootstrap_is_free_on_create() {
    // The immutability rule is for updates; on CREATE only the restore check
    // looks at the bootstrap, and without a cluster to ask it can only warn.
    assert_eq!(
        create(with_bootstrap(db("", "", ""), backup("b"))),
        accepted_with(
            "failed to read backup \"b\": schema-version compatibility cannot be verified: no cluster to ask: \
             this build of the policy cannot read the cluster (the policy deployed in the cluster checks this at admission)"
        )
    );
}

// --- The resource envelope (upstream "resource envelope validation") -----------

fn with_resource(mut object: Value, resource: Value) -> Value {
    for (key, value) in resource.as_object().unwrap() {
        object["spec"]["resource"][key] = value.clone();
    }
    object
}

fn monitored(object: Value) -> Value {
    with_spec(object, "monitoring", json!({"enabled": true}))
}

fn sized(resource: Value) -> Value {
    with_resource(db("", "", ""), resource)
}

const MEMORY_REQUIRED: &str = "spec.resource.memory: Required value: pod memory envelope is required unless memory \
     is set on both spec.resource.gateway and spec.resource.database";
const CPU_REQUIRED: &str = "spec.resource.cpu: Required value: pod cpu envelope is required unless cpu is set on \
     both spec.resource.gateway and spec.resource.database";
const DATABASE_OVER_4GI: &str = "spec.resource.database.memory: Invalid value: \"8Gi\": sum of gateway + OTel + \
     database memory (8960Mi) exceeds the pod memory envelope (4Gi)";
const NO_ROOM_IN_100MI: &str = "spec.resource.memory: Invalid value: \"100Mi\": gateway and OTel memory reservations \
     (150272Ki) leave no memory for PostgreSQL within the pod memory envelope (100Mi)";

#[rstest]
#[case::upstream_allows_an_explicit_pod_memory_envelope(sized(json!({"memory": "8Gi"})))]
#[case::upstream_envelope_set_valid(sized(json!({"memory": "16Gi"})))]
#[case::upstream_allows_omitting_the_envelope_when_gateway_and_database_memory_are_both_set(
    sized(json!({"gateway": {"memory": "512Mi"}, "database": {"memory": "4Gi"}}))
)]
#[case::upstream_allows_leaving_a_dimension_entirely_unmanaged(db("", "", ""))]
#[case::upstream_omitted_fully_specified_cpu(
    sized(json!({"gateway": {"cpu": "500m"}, "database": {"cpu": "2"}}))
)]
#[case::monitoring_with_room(monitored(sized(json!({"memory": "1Gi", "cpu": "1"}))))]
#[case::otel_ignored_without_monitoring(sized(json!({"otel": {"memory": "1Gi"}})))]
#[case::zero_is_unset(sized(json!({"memory": "0", "cpu": "0", "gateway": {"memory": "0"}})))]
#[case::exactly_full(sized(json!({"memory": "4Gi", "database": {"memory": "3328Mi"}})))]
fn envelope_accepts(#[case] object: Value) {
    assert_eq!(create(object), accepted());
}

#[rstest]
#[case::upstream_rejects_a_partially_specified_memory_split_with_no_envelope(
    sized(json!({"gateway": {"memory": "512Mi"}})),
    MEMORY_REQUIRED
)]
#[case::upstream_rejects_explicit_database_memory_exceeding_the_envelope(
    sized(json!({"memory": "4Gi", "database": {"memory": "8Gi"}})),
    DATABASE_OVER_4GI
)]
#[case::upstream_reservations_exceed_envelope(monitored(sized(json!({"memory": "100Mi"}))), NO_ROOM_IN_100MI)]
#[case::upstream_rejects_a_partially_specified_cpu_split_with_no_envelope(
    sized(json!({"database": {"cpu": "2"}})),
    CPU_REQUIRED
)]
#[case::memory_then_cpu(
    sized(json!({"memory": "4Gi", "database": {"memory": "8Gi", "cpu": "2"}})),
    &format!("[{DATABASE_OVER_4GI}, {CPU_REQUIRED}]")
)]
#[case::otel_cpu_request_fills_the_envelope(
    monitored(sized(json!({"cpu": "50m"}))),
    "spec.resource.cpu: Invalid value: \"50m\": gateway and OTel cpu reservations (50m) leave no cpu for PostgreSQL \
     within the pod cpu envelope (50m)"
)]
#[case::cpu_database_over(
    sized(json!({"cpu": "1", "database": {"cpu": "1500m"}})),
    "spec.resource.database.cpu: Invalid value: \"1500m\": sum of gateway + OTel + database cpu (1500m) exceeds the \
     pod cpu envelope (1)"
)]
#[case::memory_in_millibytes(
    monitored(sized(json!({"memory": "1000m"}))),
    "spec.resource.memory: Invalid value: \"1000m\": gateway and OTel memory reservations (128Mi) leave no memory \
     for PostgreSQL within the pod memory envelope (1000m)"
)]
#[case::unparseable_envelope_counts_as_zero(
    sized(json!({"memory": "lots"})),
    "spec.resource.memory: Invalid value: \"lots\": gateway and OTel memory reservations (0) leave no memory for \
     PostgreSQL within the pod memory envelope (lots)"
)]
#[case::small_envelope_in_bytes(
    sized(json!({"memory": "1000", "gateway": {"memory": "1k"}})),
    "spec.resource.memory: Invalid value: \"1000\": gateway and OTel memory reservations (1k) leave no memory for \
     PostgreSQL within the pod memory envelope (1000)"
)]
#[case::schema_rule_first(
    with_resource(db("0.110.0", "0.112.0", ""), json!({"gateway": {"memory": "512Mi"}})),
    &format!("[{EXCEEDS_112_OVER_110}, {MEMORY_REQUIRED}]")
)]
fn envelope_denies(#[case] object: Value, #[case] error: &str) {
    assert_eq!(create(object), denied(error));
}

#[rstest]
#[case::gateway_cpu_limit(
    json!({"gatewayCpuLimit": "2"}),
    sized(json!({"cpu": "2"})),
    Some("spec.resource.cpu: Invalid value: \"2\": gateway and OTel cpu reservations (2000m) leave no cpu for \
          PostgreSQL within the pod cpu envelope (2)")
)]
#[case::explicit_gateway_cpu_beats_the_limit(
    json!({"gatewayCpuLimit": "2"}),
    sized(json!({"cpu": "2", "gateway": {"cpu": "500m"}})),
    None
)]
#[case::fraction_one(
    json!({"gatewayMemoryFraction": 1, "gatewayMemoryCap": "0"}),
    sized(json!({"memory": "4Gi"})),
    Some("spec.resource.memory: Invalid value: \"4Gi\": gateway and OTel memory reservations (4Gi) leave no memory \
          for PostgreSQL within the pod memory envelope (4Gi)")
)]
#[case::fraction_zero(
    json!({"gatewayMemoryFraction": "0"}),
    sized(json!({"memory": "4Gi", "database": {"memory": "4Gi"}})),
    None
)]
#[case::cap_zero_is_no_cap(
    json!({"gatewayMemoryCap": "0"}),
    sized(json!({"memory": "256Gi", "database": {"memory": "210Gi"}})),
    Some("spec.resource.database.memory: Invalid value: \"210Gi\": sum of gateway + OTel + database memory (258Gi) \
          exceeds the pod memory envelope (256Gi)")
)]
#[case::default_cap(json!({}), sized(json!({"memory": "256Gi", "database": {"memory": "224Gi"}})), None)]
#[case::otel_limit(
    json!({"otelMemoryLimit": "1Gi"}),
    monitored(sized(json!({"memory": "1Gi"}))),
    Some("spec.resource.memory: Invalid value: \"1Gi\": gateway and OTel memory reservations (1216Mi) leave no \
          memory for PostgreSQL within the pod memory envelope (1Gi)")
)]
#[case::otel_limit_ignored_without_monitoring(
    json!({"otelMemoryLimit": "1Gi"}),
    sized(json!({"memory": "1Gi"})),
    None
)]
fn sidecar_settings_change_the_envelope(
    #[case] sidecar: Value,
    #[case] object: Value,
    #[case] error: Option<&str>,
) {
    let verdict = evaluate(
        request("CREATE", Some(object), None),
        json!({"sidecarResources": sidecar}),
    );
    assert_eq!(verdict, error.map_or_else(accepted, denied));
}

#[rstest]
#[case::finalizer_removed(|object: &mut Value| object["metadata"]["finalizers"] = json!([]))]
#[case::storage_grows(|object: &mut Value| object["spec"]["resource"]["storage"]["pvcSize"] = json!("20Gi"))]
#[case::version_changes(|object: &mut Value| object["spec"]["documentDBVersion"] = json!("0.112.0"))]
fn envelope_ratchet_lets_untouched_objects_through(#[case] change: fn(&mut Value)) {
    // Stored before the rule existed, or under other settings.
    let stored = sized(json!({"gateway": {"memory": "512Mi"}}));
    let mut new = stored.clone();
    change(&mut new);
    assert_eq!(update(stored, new), accepted());
}

#[rstest]
#[case::envelope_changed(json!({"memory": "100Mi"}), json!({"memory": "101Mi"}), false)]
#[case::database_changed(json!({"memory": "100Mi"}), json!({"memory": "100Mi", "database": {"cpu": "1"}}), false)]
#[case::monitoring_turned_on(json!({"memory": "100Mi"}), json!({"memory": "100Mi"}), true)]
fn envelope_ratchet_checks_any_change_to_its_inputs(
    #[case] before: Value,
    #[case] after: Value,
    #[case] monitor_after: bool,
) {
    let stored = monitored(sized(before));
    let mut new = sized(after);
    new = if monitor_after {
        monitored(new)
    } else {
        with_spec(new, "monitoring", json!({"enabled": true, "exporter": {}}))
    };
    let stored = if monitor_after {
        with_spec(stored, "monitoring", json!({"enabled": false}))
    } else {
        stored
    };
    assert_denied_containing(&update(stored, new), "leave no memory for PostgreSQL");
}

#[rstest]
#[case::memory_number(
    sized(json!({"memory": 4})),
    "spec.resource.memory: Invalid value: \"number\": must be a quantity string such as \"4Gi\", not a number"
)]
#[case::cpu_number(
    sized(json!({"gateway": {"cpu": 0.5}})),
    "spec.resource.gateway.cpu: Invalid value: \"number\": must be a quantity string such as \"500m\", not a number"
)]
#[case::monitoring_string(
    with_spec(db("", "", ""), "monitoring", json!({"enabled": "true"})),
    "spec.monitoring.enabled: Invalid value: \"true\": must be a boolean, not a string"
)]
#[case::bootstrap_string(
    with_spec(db("", "", ""), "bootstrap", json!("restore")),
    "spec.bootstrap: Invalid value: \"restore\": must be an object, not a string"
)]
fn mistyped_resource_fields_are_denied_by_name(#[case] object: Value, #[case] error: &str) {
    assert_eq!(create(object), denied(error));
}

#[test]
fn deep_nesting_in_a_read_object_is_a_clear_error() {
    let depth = 1000;
    let mut nested = json!("1Gi");
    for _ in 0..depth {
        nested = json!({"storage": nested});
    }
    let object = sized(json!({"storage": nested}));
    let payload =
        serde_json::to_vec(&json!({"request": request("CREATE", Some(object), None)})).unwrap();
    let Verdict::Rejected { message, code, .. } = raw(std::str::from_utf8(&payload).unwrap())
    else {
        panic!("expected a denial");
    };
    assert_eq!(code, 400, "{message}");
    assert!(message.contains("recursion limit exceeded"), "{message}");
}

// --- All the rules together, in upstream's order -----------------------------

#[test]
fn shrink_and_rollback_in_one_message_rollback_first() {
    let stored = installed(with_pvc(db("0.112.0", "", ""), json!("20Gi")), "0.112.0");
    let new = with_pvc(db("0.110.0", "", ""), json!("10Gi"));
    assert_eq!(
        update(stored, new),
        denied(&format!(
            "[{ROLLBACK_110_BELOW_112}, {}]",
            shrink("20Gi", "10Gi")
        ))
    );
}

#[test]
fn every_rule_at_once_in_upstream_order() {
    // validate(new): schema rule, resources (memory, cpu); then
    // validateChanges: rollback, bootstrap, storage.
    let stored = installed(
        with_pvc(db("0.112.0", "0.112.0", ""), json!("20Gi")),
        "0.112.0",
    );
    let new = with_bootstrap(
        with_resource(
            with_pvc(db("0.110.0", "0.112.0", ""), json!("10Gi")),
            json!({"memory": "4Gi", "database": {"memory": "8Gi", "cpu": "2"}}),
        ),
        backup("b"),
    );
    assert_eq!(
        update(stored, new),
        denied(&format!(
            "[{EXCEEDS_112_OVER_110}, {DATABASE_OVER_4GI}, {CPU_REQUIRED}, {ROLLBACK_110_BELOW_112}, \
             {BOOTSTRAP_CHANGED}, {}]",
            shrink("20Gi", "10Gi")
        ))
    );
}

// --- Context-aware checks ---------------------------------------------

use crate::cluster::fake::{Exchange, Scripted};
use crate::settings::DEFAULT_STATUS_WRITER;

fn evaluate_with(request: Value, settings: Value, cluster: &dyn Cluster) -> Verdict {
    let payload = serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
    validate_payload(&payload, cluster)
}

/// A `dbs/status` UPDATE by `user`: the stored object with `schemaVersion`
/// installed, the new one with `requested` (`None`: cleared).
fn status_update(user: &str, installed_schema: &str, requested: Option<&str>) -> Value {
    let old = installed(db("0.112.0", "", ""), installed_schema);
    let mut new = old.clone();
    match requested {
        Some(schema) => new["status"]["schemaVersion"] = json!(schema),
        None => {
            new["status"]
                .as_object_mut()
                .unwrap()
                .remove("schemaVersion");
        }
    }
    let mut req = request("UPDATE", Some(new), Some(old));
    req["subResource"] = json!("status");
    req["requestSubResource"] = json!("status");
    req["userInfo"] = json!({"username": user, "groups": ["system:authenticated"]});
    req
}

const STATUS_WHY: &str = "the image rollback rule trusts status.schemaVersion as the schema installed in the \
     database, so a lower value would let the binary roll back past the installed schema, which ALTER EXTENSION \
     cannot downgrade (only the users in the policy setting statusWriters may do this)";

#[rstest]
#[case::lowered_by_a_user(
    status_update("alice", "0.112.0", Some("0.110.0")), json!({}),
    denied(&format!("status.schemaVersion: Forbidden: user \"alice\" may not lower the installed schema version from 0.112.0 to 0.110.0: {STATUS_WHY}"))
)]
#[case::lowered_by_the_operator(status_update(DEFAULT_STATUS_WRITER, "0.112.0", Some("0.110.0")), json!({}), accepted())]
#[case::raised_by_a_user(status_update("alice", "0.112.0", Some("0.113.0")), json!({}), accepted())]
#[case::cleared_by_a_user(
    status_update("alice", "0.112.0", None), json!({}),
    denied(&format!("status.schemaVersion: Forbidden: user \"alice\" may not clear the installed schema version 0.112.0: {STATUS_WHY}"))
)]
#[case::unchanged(status_update("alice", "0.112.0", Some("0.112.0")), json!({}), accepted())]
#[case::custom_writer(
    status_update("system:serviceaccount:ops:documentdb-operator", "0.112.0", Some("0.110.0")),
    json!({"statusWriters": ["system:serviceaccount:ops:documentdb-operator"]}),
    accepted()
)]
#[case::default_writer_replaced(
    status_update(DEFAULT_STATUS_WRITER, "0.112.0", Some("0.110.0")),
    json!({"statusWriters": ["system:serviceaccount:ops:documentdb-operator"]}),
    denied(&format!("status.schemaVersion: Forbidden: user \"system:serviceaccount:documentdb-operator:documentdb-operator\" may not lower the installed schema version from 0.112.0 to 0.110.0: {STATUS_WHY}"))
)]
fn status_guard(#[case] request: Value, #[case] settings: Value, #[case] expected: Verdict) {
    let host = Scripted::new([]);
    assert_eq!(evaluate_with(request, settings, &host), expected);
    assert_eq!(
        *host.calls.borrow(),
        0,
        "a status write asks the cluster nothing"
    );
}

#[test]
fn status_guard_does_only_the_guard() {
    // A spec Rule A would deny, and one the policy cannot even read: the
    // status write is judged on status.schemaVersion alone.
    let mut req = status_update("alice", "0.112.0", Some("0.113.0"));
    req["object"]["spec"] = json!({"schemaVersion": "9.9.9", "documentDBVersion": 7});
    assert_eq!(evaluate(req, json!({})), accepted());
    // An unrelated status change.
    let mut req = status_update("alice", "0.112.0", Some("0.112.0"));
    req["object"]["status"]["status"] = json!("Setting up primary");
    assert_eq!(evaluate(req, json!({})), accepted());
}

#[rstest]
#[case::schema_number(
    |req: &mut Value| req["object"]["status"]["schemaVersion"] = json!(110),
    "status.schemaVersion: Invalid value: \"number\": must be a string, not a number"
)]
#[case::old_status_string(
    |req: &mut Value| req["oldObject"]["status"] = json!("healthy"),
    "oldObject.status: Invalid value: \"healthy\": must be an object, not a string"
)]
#[case::no_old_object(
    |req: &mut Value| { req.as_object_mut().unwrap().remove("oldObject"); },
    "oldObject: Required value: the admission request carries no oldObject"
)]
fn malformed_status_updates_are_denied_by_name(
    #[case] break_it: fn(&mut Value),
    #[case] error: &str,
) {
    let mut req = status_update("alice", "0.112.0", Some("0.113.0"));
    break_it(&mut req);
    assert_eq!(evaluate(req, json!({})), denied(error));
}

fn restore_from(mut object: Value, backup: &str) -> Value {
    object["spec"]["bootstrap"] = json!({"recovery": {"backup": {"name": backup}}});
    object
}

fn ready_nodes() -> Exchange {
    let list = json!({"kind": "NodeList", "items": [{"metadata": {"name": "w1"},
        "status": {"nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": "containerd://2.1.4"}}}]});
    Exchange::list(
        serde_json::to_value(crate::cluster::nodes::LIST_NODES).unwrap(),
        Ok(list.to_string().into_bytes()),
    )
}

fn backup_exchange(schema: &str) -> Exchange {
    let request = json!({"api_version": "documentdb.io/preview", "kind": "Backup", "name": "nightly",
        "namespace": "default", "disable_cache": false, "field_masks": ["status.schemaVersion"]});
    let answer = json!({"kind": "Backup", "metadata": {"name": "nightly"}, "status": {"schemaVersion": schema}});
    Exchange::get(request, Ok(answer.to_string().as_bytes()))
}

/// A CREATE lists the Nodes, then reads the restore source; the restore
/// denial joins the other violations in one message.
#[test]
fn create_asks_the_cluster_in_upstream_order_and_aggregates() {
    let host = Scripted::new([ready_nodes(), backup_exchange("0.112.0")]);
    let object = restore_from(db("0.110.0", "0.111.0", ""), "nightly");
    let verdict = evaluate_with(request("CREATE", Some(object), None), json!({}), &host);
    host.assert_done();
    assert_eq!(
        verdict,
        denied(
            "[spec.schemaVersion: Invalid value: \"0.111.0\": schemaVersion 0.111.0 exceeds the binary version \
             0.110.0; schema version must be <= binary version, spec.bootstrap.recovery.backup: Forbidden: restore \
             blocked: the target DocumentDB version 0.110.0 is older than the backup's schema version 0.112.0. \
             Restoring onto an older DocumentDB version runs it against a newer, irreversible schema and may cause \
             data corruption. Set spec.documentDBVersion (or spec.image.documentDB) to 0.112.0 or newer.]"
        )
    );
}

#[test]
fn create_without_restore_only_lists_nodes() {
    let host = Scripted::new([ready_nodes()]);
    let verdict = evaluate_with(
        request("CREATE", Some(db("0.112.0", "", "")), None),
        json!({}),
        &host,
    );
    host.assert_done();
    assert_eq!(verdict, accepted());
}

#[test]
fn image_volume_off_and_restore_read() {
    let host = Scripted::new([backup_exchange("0.110.0")]);
    let object = restore_from(db("0.112.0", "", ""), "nightly");
    let verdict = evaluate_with(
        request("CREATE", Some(object), None),
        json!({"imageVolumeCheck": "off"}),
        &host,
    );
    host.assert_done();
    assert_eq!(verdict, accepted());
}

#[test]
fn updates_ask_the_cluster_nothing() {
    let host = Scripted::new([]);
    let old = restore_from(installed(db("0.112.0", "", ""), "0.112.0"), "nightly");
    let new = restore_from(db("0.113.0", "", ""), "nightly");
    let verdict = evaluate_with(request("UPDATE", Some(new), Some(old)), json!({}), &host);
    assert_eq!(*host.calls.borrow(), 0);
    assert!(verdict.is_accepted(), "{verdict:?}");
}

#[test]
fn without_a_cluster_a_restore_warns_and_nodes_stay_silent() {
    let object = restore_from(db("0.112.0", "", ""), "nightly");
    assert_eq!(
        create(object),
        accepted_with(
            "failed to read backup \"nightly\": schema-version compatibility cannot be verified: no cluster to \
             ask: this build of the policy cannot read the cluster (the policy deployed in the cluster checks \
             this at admission)"
        )
    );
}

#[rstest]
#[case::bootstrap_string(json!("restore"), "spec.bootstrap: Invalid value: \"restore\": must be an object, not a string")]
#[case::recovery_array(json!({"recovery": []}), "spec.bootstrap.recovery: Invalid value: \"array\": must be an object, not an array")]
#[case::backup_string(
    json!({"recovery": {"backup": "nightly"}}),
    "spec.bootstrap.recovery.backup: Invalid value: \"nightly\": must be an object, not a string"
)]
#[case::pv_name_number(
    json!({"recovery": {"persistentVolume": {"name": 1}}}),
    "spec.bootstrap.recovery.persistentVolume.name: Invalid value: \"number\": must be a string, not a number"
)]
fn mistyped_bootstrap_is_denied_by_name(#[case] bootstrap: Value, #[case] error: &str) {
    let host = Scripted::new([]);
    let object = with_spec(db("0.112.0", "", ""), "bootstrap", bootstrap);
    let verdict = evaluate_with(request("CREATE", Some(object), None), json!({}), &host);
    assert_eq!(verdict, denied(error));
    assert_eq!(*host.calls.borrow(), 0);
}

// --- Background audit: stored objects replayed as CREATEs ---------------------

/// As the audit scanner sends a stored object: its resourceVersion, uid,
/// generation and status, the Kind as resource, empty userInfo, no oldObject.
fn audit(object: Value, settings: Value, cluster: &dyn Cluster) -> Verdict {
    evaluate_with(test_support::audit_request(object), settings, cluster)
}

fn old_nodes() -> Exchange {
    let list = json!({"kind": "NodeList", "items": [{"metadata": {"name": "w1"},
        "status": {"nodeInfo": {"kubeletVersion": "v1.30.4", "containerRuntimeVersion": "containerd://1.7.20"}}}]});
    Exchange::list(
        serde_json::to_value(crate::cluster::nodes::LIST_NODES).unwrap(),
        Ok(list.to_string().into_bytes()),
    )
}

const DRIFT_WHY: &str = "ALTER EXTENSION has no downgrade path — running an older binary with a newer schema may \
     cause data corruption.";

#[rstest]
#[case::image_volume_warn(json!({}))]
#[case::image_volume_deny(json!({"imageVolumeCheck": "deny"}))]
fn an_audit_replay_asks_the_cluster_nothing(#[case] settings: Value) {
    // A cluster restored long ago from a Backup that a newer one of the same
    // name has since replaced: no creation check runs, nothing is read.
    let host = Scripted::new([]);
    let object = restore_from(installed(db("0.112.0", "", ""), "0.112.0"), "nightly");
    assert_eq!(audit(object, settings, &host), accepted());
    assert_eq!(
        *host.calls.borrow(),
        0,
        "an audit replay asks the cluster nothing"
    );
}

#[rstest]
#[case::schema_above_binary(
    installed(db("0.110.0", "0.112.0", ""), "0.110.0"), json!({}),
    "spec.schemaVersion: Invalid value: \"0.112.0\": schemaVersion 0.112.0 exceeds the binary version 0.110.0; \
     schema version must be <= binary version"
)]
#[case::auto_forbidden(
    installed(db("0.112.0", "auto", ""), "0.112.0"), json!({"allowAutoSchemaVersion": false}),
    "spec.schemaVersion: Forbidden: this policy forbids automatic schema upgrades (schemaVersion \"auto\", \
     setting allowAutoSchemaVersion: false); set an explicit schemaVersion X.Y.Z, at most the binary version, to \
     upgrade the schema"
)]
fn an_audit_reports_the_spec_rules(
    #[case] object: Value,
    #[case] settings: Value,
    #[case] error: &str,
) {
    let host = Scripted::new([]);
    assert_eq!(audit(object, settings, &host), denied(error));
    assert_eq!(*host.calls.borrow(), 0);
}

#[rstest]
#[case::version_field(
    installed(db("0.110.0", "", ""), "0.112.0"), json!({}),
    "spec.documentDBVersion: Forbidden: binary below the installed schema: the binary 0.110.0 (from \
     spec.documentDBVersion) is older than the schema version 0.112.0 installed in this cluster's database \
     (status.schemaVersion). {WHY} Set spec.documentDBVersion to 0.112.0 or later; the schema cannot go down."
)]
#[case::image_tag(
    installed(db("", "", &test_support::documentdb_image("0.110.0")), "0.112.0"), json!({}),
    "spec.image.documentDB: Forbidden: binary below the installed schema: the binary 0.110.0 (from the tag of \
     spec.image.documentDB) is older than the schema version 0.112.0 installed in this cluster's database \
     (status.schemaVersion). {WHY} Set spec.image.documentDB to an image of 0.112.0 or later; the schema cannot \
     go down."
)]
#[case::default_setting(
    installed(db("", "", ""), "0.112.0"), json!({"defaultDocumentDBVersion": "0.110.0"}),
    "spec: Forbidden: binary below the installed schema: the binary 0.110.0 (from the defaultDocumentDBVersion \
     setting) is older than the schema version 0.112.0 installed in this cluster's database \
     (status.schemaVersion). {WHY} Set spec.documentDBVersion (the operator's default is older) to 0.112.0 or \
     later; the schema cannot go down."
)]
fn an_audit_reports_a_binary_below_its_own_schema(
    #[case] object: Value,
    #[case] settings: Value,
    #[case] error: &str,
) {
    let host = Scripted::new([]);
    let expected = denied(&error.replace("{WHY}", DRIFT_WHY));
    assert_eq!(audit(object, settings, &host), expected);
    assert_eq!(*host.calls.borrow(), 0);
}

#[rstest]
#[case::binary_at_the_schema(installed(db("0.112.0", "", ""), "0.112.0"))]
#[case::binary_ahead_of_the_schema(installed(db("0.113.0", "", ""), "0.112.0"))]
#[case::no_installed_schema(db("0.110.0", "", ""))]
#[case::unparseable_installed_schema(installed(db("0.110.0", "", ""), "latest"))]
#[case::unknown_binary(installed(db("", "", "registry.example/documentdb:latest"), "0.112.0"))]
#[case::no_binary_and_no_default(installed(db("", "", ""), "0.112.0"))]
fn an_audit_finds_no_drift_where_none_is_known(#[case] object: Value) {
    let host = Scripted::new([]);
    assert_eq!(audit(object, json!({}), &host), accepted());
    assert_eq!(*host.calls.borrow(), 0);
}

#[test]
fn a_real_create_is_still_checked_against_the_nodes() {
    let host = Scripted::new([old_nodes()]);
    let verdict = evaluate_with(
        request("CREATE", Some(db("0.112.0", "", "")), None),
        json!({"imageVolumeCheck": "deny"}),
        &host,
    );
    host.assert_done();
    assert_denied_containing(&verdict, "spec: Forbidden: ");
}

#[test]
fn a_mistyped_resource_version_is_denied_by_name() {
    let mut object = db("0.112.0", "", "");
    object["metadata"]["resourceVersion"] = json!(48213);
    assert_eq!(
        audit(object, json!({}), &Scripted::new([])),
        denied(
            "metadata.resourceVersion: Invalid value: \"number\": must be a string, not a number"
        )
    );
}
