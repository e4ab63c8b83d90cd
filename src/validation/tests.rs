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
    validate_payload(&validation_payload(&request, &settings))
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
#[case::status_subresource(json!({"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"}), "status", "UPDATE")]
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
    validate_payload(payload.as_bytes())
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
     rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion)"
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
