//! The restore check against a scripted host. Upstream's Ginkgo specs
//! ("restore schema compatibility validation", PR #440 head 0eac89b,
//! operator/src/internal/webhook/documentdb_webhook_test.go) are the
//! `upstream_*` cases; the host failures are this policy's.

use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::cluster::fake::{Exchange, Scripted};
use crate::findings::{Findings, rendered};
use crate::model::document::DocumentDb;
use crate::model::restore::*;
use crate::settings::Settings;
use crate::wire::ObjectDoc;

const NAMESPACE: &str = "default";

/// The object's binary as the policy resolves it, from a `spec` and the
/// `defaultDocumentDBVersion` setting.
fn binary(spec: Value, default: Option<&str>) -> ResolvedBinary<'static> {
    let json: &'static str = Box::leak(json!({ "spec": spec }).to_string().into_boxed_str());
    let doc: &'static ObjectDoc =
        Box::leak(Box::new(ObjectDoc::from_json(json.as_bytes()).unwrap()));
    let db: &'static DocumentDb = Box::leak(Box::new(DocumentDb::read(doc, "").unwrap()));
    let settings: &'static Settings = Box::leak(Box::new(Settings {
        default_documentdb_version: default.map(str::to_owned),
        ..Settings::default()
    }));
    db.resolve_binary_version(settings.default_documentdb_version.as_deref())
}

fn version(v: &str) -> Value {
    json!({ "documentDBVersion": v })
}

fn no_version() -> Value {
    json!({})
}

fn image(reference: &str) -> Value {
    json!({ "image": { "documentDB": reference } })
}

fn backup_request(name: &str) -> Value {
    json!({
        "api_version": "documentdb.io/preview",
        "kind": "Backup",
        "name": name,
        "namespace": NAMESPACE,
        "disable_cache": false,
        "field_masks": ["status.schemaVersion"],
    })
}

fn pv_request(name: &str) -> Value {
    json!({
        "api_version": "v1",
        "kind": "PersistentVolume",
        "name": name,
        "namespace": null,
        "disable_cache": false,
        "field_masks": ["metadata.annotations"],
    })
}

/// A Backup as the host returns it with the field mask: metadata whole,
/// the body pruned to `status.schemaVersion`.
fn backup_with_schema(name: &str, schema: &str) -> Vec<u8> {
    let mut backup = json!({
        "apiVersion": "documentdb.io/preview",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": "0b6f1c4e-1f7a-4c55-9d1e-5d0e3c6f2a10"},
    });
    if !schema.is_empty() {
        backup["status"] = json!({ "schemaVersion": schema });
    }
    backup.to_string().into_bytes()
}

fn pv_with_schema(name: &str, schema: &str) -> Vec<u8> {
    let mut annotations = json!({"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"});
    if !schema.is_empty() {
        annotations[SCHEMA_VERSION_ANNOTATION] = json!(schema);
    }
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": annotations},
    })
    .to_string()
    .into_bytes()
}

fn not_found(api_version_kind: &str, name: &str, namespace: &str) -> String {
    format!(
        "Callback evaluation failure: Cannot find {api_version_kind} named '{name}' inside of namespace '{namespace}'"
    )
}

fn backup_not_found(name: &str) -> String {
    not_found(
        "documentdb.io/preview/Backup",
        name,
        &format!("Some(\"{NAMESPACE}\")"),
    )
}

fn pv_not_found(name: &str) -> String {
    not_found("v1/PersistentVolume", name, "None")
}

const BACKUP_BK: RestoreSource = RestoreSource {
    kind: SourceKind::Backup,
    name: "bk",
};
const PV_1: RestoreSource = RestoreSource {
    kind: SourceKind::PersistentVolume,
    name: "pv-1",
};

fn run(
    source: RestoreSource<'static>,
    binary: ResolvedBinary<'static>,
    exchange: Exchange,
) -> Option<String> {
    let host = Scripted::new([exchange]);
    let mut findings = Findings::default();
    check(&host, source, Some(NAMESPACE), binary, &mut findings);
    host.assert_done();
    rendered(&findings)
}

fn blocked(noun: &str, field: &str, binary: &str, schema: &str) -> String {
    format!(
        "{field}: Forbidden: restore blocked: the target DocumentDB version {binary} is older than the {noun}'s schema \
         version {schema}. Restoring onto an older DocumentDB version runs it against a newer, irreversible schema \
         and may cause data corruption. Set spec.documentDBVersion (or spec.image.documentDB) to {schema} or newer."
    )
}

fn backup_blocked(binary: &str, schema: &str) -> String {
    blocked("backup", "spec.bootstrap.recovery.backup", binary, schema)
}

fn pv_blocked(binary: &str, schema: &str) -> String {
    blocked(
        "PersistentVolume",
        "spec.bootstrap.recovery.persistentVolume",
        binary,
        schema,
    )
}

fn no_recorded(noun_and_name: &str) -> String {
    format!(
        "{noun_and_name} has no recorded schema version: schema-version compatibility cannot be verified; ensure the \
         target DocumentDB version (spec.documentDBVersion or spec.image.documentDB) is >= the source's schema \
         version to avoid data corruption"
    )
}

#[rstest]
#[case::upstream_allows_equal_versions(
    version("0.112.0"),
    None,
    Ok(backup_with_schema("bk", "0.112.0")),
    None
)]
#[case::upstream_allows_newer_binary(
    version("0.112.0"),
    None,
    Ok(backup_with_schema("bk", "0.110.0")),
    None
)]
#[case::upstream_rejects_older_binary(
    version("0.110.0"),
    None,
    Ok(backup_with_schema("bk", "0.112.0")),
    Some(backup_blocked("0.110.0", "0.112.0"))
)]
#[case::upstream_warns_without_recorded_schema(
    version("0.110.0"),
    None,
    Ok(backup_with_schema("bk", "")),
    Some(no_recorded("backup \"bk\""))
)]
#[case::upstream_blocks_default_binary_older_than_schema(
    no_version(),
    Some("0.113.0"),
    Ok(backup_with_schema("bk", "999.0.0")),
    Some(backup_blocked("0.113.0", "999.0.0"))
)]
#[case::upstream_allows_default_binary_at_least_schema(
    no_version(),
    Some("0.113.0"),
    Ok(backup_with_schema("bk", "0.110.0")),
    None
)]
#[case::upstream_warns_on_digest_only_image(
    image("ghcr.io/documentdb/documentdb@sha256:abc123"), Some("0.113.0"), Ok(backup_with_schema("bk", "0.112.0")),
    Some("cannot determine the target DocumentDB version for restore from backup \"bk\" (set spec.documentDBVersion \
          or spec.image.documentDB): compatibility with the backup's schema version 0.112.0 cannot be verified".to_owned())
)]
#[case::unknown_without_default_setting(
    no_version(), None, Ok(backup_with_schema("bk", "0.112.0")),
    Some("cannot determine the target DocumentDB version for restore from backup \"bk\" (set spec.documentDBVersion \
          or spec.image.documentDB): compatibility with the backup's schema version 0.112.0 cannot be verified".to_owned())
)]
#[case::image_tag_is_the_binary(
    image("ghcr.io/documentdb/documentdb:0.110.0"),
    None,
    Ok(backup_with_schema("bk", "0.112.0")),
    Some(backup_blocked("0.110.0", "0.112.0"))
)]
#[case::numeric_not_lexicographic(
    version("0.99.0"),
    None,
    Ok(backup_with_schema("bk", "0.100.0")),
    Some(backup_blocked("0.99.0", "0.100.0"))
)]
#[case::schema_not_a_version(
    version("0.112.0"), None, Ok(backup_with_schema("bk", "latest")),
    Some("cannot compare the target DocumentDB version 0.112.0 with the backup's schema version \"latest\": invalid \
          version \"latest\" in the backup's status.schemaVersion: unexpected character 'l' while parsing major \
          version number; compatibility not verified".to_owned())
)]
#[case::binary_not_a_version(
    version("v0.110.0"), None, Ok(backup_with_schema("bk", "0.112.0")),
    Some("cannot compare the target DocumentDB version \"v0.110.0\" with the backup's schema version 0.112.0: \
          invalid version \"v0.110.0\" in spec.documentDBVersion: unexpected character 'v' while parsing major \
          version number; compatibility not verified".to_owned())
)]
fn backup_restores(
    #[case] spec: Value,
    #[case] default: Option<&str>,
    #[case] answer: Result<Vec<u8>, &str>,
    #[case] expected: Option<String>,
) {
    let exchange = Exchange {
        operation: crate::cluster::GET_RESOURCE,
        request: backup_request("bk"),
        answer: answer.map_err(|e| crate::cluster::HostError(e.to_owned())),
    };
    assert_eq!(run(BACKUP_BK, binary(spec, default), exchange), expected);
}

#[test]
fn upstream_warns_when_backup_is_missing() {
    let exchange = Exchange::get(backup_request("missing"), Err(&backup_not_found("missing")));
    let source = RestoreSource {
        kind: SourceKind::Backup,
        name: "missing",
    };
    assert_eq!(
        run(source, binary(version("0.110.0"), None), exchange).as_deref(),
        Some("backup \"missing\" not found: schema-version compatibility cannot be verified")
    );
}

#[rstest]
#[case::upstream_allows_equal_annotation(
    version("0.112.0"),
    Ok(pv_with_schema("pv-1", "0.112.0")),
    None
)]
#[case::upstream_allows_newer_binary(
    version("0.112.0"),
    Ok(pv_with_schema("pv-1", "0.110.0")),
    None
)]
#[case::upstream_rejects_older_binary(
    version("0.110.0"),
    Ok(pv_with_schema("pv-1", "0.112.0")),
    Some(pv_blocked("0.110.0", "0.112.0"))
)]
#[case::upstream_warns_without_annotation(
    no_version(),
    Ok(pv_with_schema("pv-1", "")),
    Some(no_recorded("PersistentVolume \"pv-1\""))
)]
#[case::upstream_missing_pv_with_explicit_version(
    version("0.112.0"), Err(pv_not_found("pv-1")),
    Some("PersistentVolume \"pv-1\" not found: schema-version compatibility cannot be verified".to_owned())
)]
#[case::upstream_missing_pv_without_version(
    no_version(), Err(pv_not_found("pv-1")),
    Some("PersistentVolume \"pv-1\" not found: schema-version compatibility cannot be verified".to_owned())
)]
#[case::upstream_missing_pv_with_image_only(
    image("ghcr.io/documentdb/documentdb:0.112.0"), Err(pv_not_found("pv-1")),
    Some("PersistentVolume \"pv-1\" not found: schema-version compatibility cannot be verified".to_owned())
)]
#[case::pv_without_any_annotation(
    version("0.112.0"),
    Ok(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"}}).to_string().into_bytes()),
    Some(no_recorded("PersistentVolume \"pv-1\""))
)]
#[case::empty_annotation(
    version("0.112.0"),
    Ok(pv_with_schema("pv-1", "")),
    Some(no_recorded("PersistentVolume \"pv-1\""))
)]
#[case::unparseable_annotation(
    version("0.112.0"), Ok(pv_with_schema("pv-1", "0.112")),
    Some("cannot compare the target DocumentDB version 0.112.0 with the PersistentVolume's schema version \"0.112\": \
          invalid version \"0.112\" in the PersistentVolume's documentdb.io/schema-version annotation: unexpected \
          end of input while parsing minor version number; compatibility not verified".to_owned())
)]
fn persistent_volume_restores(
    #[case] spec: Value,
    #[case] answer: Result<Vec<u8>, String>,
    #[case] expected: Option<String>,
) {
    let exchange = Exchange {
        operation: crate::cluster::GET_RESOURCE,
        request: pv_request("pv-1"),
        answer: answer.map_err(crate::cluster::HostError),
    };
    assert_eq!(run(PV_1, binary(spec, None), exchange), expected);
}

fn unreadable(reason: &str) -> String {
    format!(
        "failed to read backup \"bk\": schema-version compatibility cannot be verified: {reason}"
    )
}

const PERMISSION_DENIED: &str = "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup \
                                 resources. The violation has been reported.";

/// policy-evaluator's answer when the policy server's service account may
/// not read Backups (kube's Debug rendering of the API error).
const NO_RBAC: &str = "Callback evaluation failure: Api(ErrorResponse { status: \"Failure\", message: \"backups.documentdb.io \\\"bk\\\" is forbidden: User \\\"system:serviceaccount:kubewarden:policy-server-default\\\" cannot get resource \\\"backups\\\" in API group \\\"documentdb.io\\\" in the namespace \\\"default\\\"\", reason: \"Forbidden\", code: 403 })";

/// Every failure of the host, and every answer the policy cannot read, is a
/// warning naming what was wrong: never a denial, never a failed request.
#[rstest]
#[case::no_context_aware_permission(Err(PERMISSION_DENIED), unreadable(PERMISSION_DENIED))]
#[case::no_rbac_cut_short(Err(NO_RBAC), unreadable(&format!("{}…", &NO_RBAC[..crate::cluster::MAX_HOST_ERROR_CHARS])))]
#[case::timeout(
    Err("Callback evaluation failure: HyperError(hyper::Error(Connect, Elapsed(())))"),
    unreadable("Callback evaluation failure: HyperError(hyper::Error(Connect, Elapsed(())))")
)]
#[case::no_capability(
    Err(
        "Policy has not been granted access to the 'kubernetes/get_resource' host capability. The violation has been reported."
    ),
    unreadable(
        "Policy has not been granted access to the 'kubernetes/get_resource' host capability. The violation has been reported."
    )
)]
#[case::replay_without_exchange(
    Err("Callback evaluation failure: the list of recorded responses is empty"),
    unreadable("Callback evaluation failure: the list of recorded responses is empty")
)]
#[case::not_json(Ok(b"<html>502</html>".as_slice()), unreadable("the host's answer is not valid JSON: expected value at line 1 column 1"))]
#[case::truncated(Ok(b"{\"status\":{\"schemaVersion\":\"0.1".as_slice()), unreadable("the host's answer is not valid JSON: EOF while parsing a string at line 1 column 31"))]
#[case::null(Ok(b"null".as_slice()), unreadable("the host answered null, not an object"))]
#[case::array(Ok(b"[1,2]".as_slice()), unreadable("the host answered an array, not an object"))]
#[case::string(Ok(b"\"ok\"".as_slice()), unreadable("the host answered a string (\"ok\"), not an object"))]
#[case::other_kind(Ok(br#"{"kind":"Pod","status":{"schemaVersion":"0.1.0"}}"#.as_slice()), unreadable("the host answered a \"Pod\" object, not a Backup"))]
#[case::kind_number(Ok(br#"{"kind":7}"#.as_slice()), unreadable("kind must be a string, not a number"))]
#[case::status_string(Ok(br#"{"kind":"Backup","status":"done"}"#.as_slice()), unreadable("status must be an object, not a string (\"done\")"))]
#[case::schema_number(Ok(br#"{"kind":"Backup","status":{"schemaVersion":112}}"#.as_slice()), unreadable("status.schemaVersion must be a string, not a number"))]
#[case::schema_object(Ok(br#"{"kind":"Backup","status":{"schemaVersion":{"v":1}}}"#.as_slice()), unreadable("status.schemaVersion must be a string, not an object"))]
fn host_failures_are_warnings(#[case] answer: Result<&[u8], &str>, #[case] expected: String) {
    let exchange = Exchange::get(backup_request("bk"), answer);
    assert_eq!(
        run(BACKUP_BK, binary(version("0.110.0"), None), exchange),
        Some(expected)
    );
}

#[rstest]
#[case::annotations_list(
    br#"{"kind":"PersistentVolume","metadata":{"annotations":["documentdb.io/schema-version"]}}"#,
    "metadata.annotations must be an object, not an array"
)]
#[case::annotation_bool(
    br#"{"kind":"PersistentVolume","metadata":{"annotations":{"documentdb.io/schema-version":true}}}"#,
    "metadata.annotations[\"documentdb.io/schema-version\"] must be a string, not a boolean (true)"
)]
#[case::metadata_string(
    br#"{"kind":"PersistentVolume","metadata":"pv-1"}"#,
    "metadata must be an object, not a string (\"pv-1\")"
)]
#[case::a_backup_instead(
    br#"{"kind":"Backup","status":{"schemaVersion":"0.1.0"}}"#,
    "the host answered a \"Backup\" object, not a PersistentVolume"
)]
fn malformed_persistent_volumes_are_unreadable(#[case] answer: &[u8], #[case] reason: &str) {
    let exchange = Exchange::get(pv_request("pv-1"), Ok(answer));
    assert_eq!(
        run(PV_1, binary(version("0.110.0"), None), exchange),
        Some(format!(
            "failed to read PersistentVolume \"pv-1\": schema-version compatibility cannot be verified: {reason}"
        ))
    );
}

#[test]
fn unknown_fields_and_escapes_in_the_answer_are_fine() {
    // A JSON escape in the value cannot be borrowed: read all the same.
    let answer = r#"{"apiVersion":"documentdb.io/preview","kind":"Backup",
        "metadata":{"name":"bk","labels":{"a":"b"},"managedFields":[{"manager":"x"}]},
        "spec":{"cluster":{"name":"src"}},
        "status":{"phase":"completed","schemaVersion":"0.\u003112.0","extra":[1,{"x":null}]}}"#;
    let exchange = Exchange::get(backup_request("bk"), Ok(answer.as_bytes()));
    assert_eq!(
        run(BACKUP_BK, binary(version("0.110.0"), None), exchange),
        Some(backup_blocked("0.110.0", "0.112.0"))
    );
}

#[test]
fn hostile_values_are_bounded_in_messages() {
    let schema = format!("9{}", "9".repeat(10_000));
    let exchange = Exchange::get(
        backup_request("bk"),
        Ok(backup_with_schema("bk", &schema).as_slice()),
    );
    let message = run(BACKUP_BK, binary(version("0.110.0"), None), exchange).unwrap();
    assert!(message.len() < 600, "{} bytes: {message}", message.len());
    assert!(message.starts_with("cannot compare the target DocumentDB version 0.110.0"));

    let error = format!("boom\n{}", "e".repeat(100_000));
    let exchange = Exchange::get(backup_request("bk"), Err(&error));
    let message = run(BACKUP_BK, binary(version("0.110.0"), None), exchange).unwrap();
    assert!(message.contains("boom\\neee"), "{message}");
    assert!(message.len() < 400, "{} bytes", message.len());
}

#[test]
fn a_backup_needs_a_namespace_and_no_call_is_made() {
    let host = Scripted::new([]);
    let mut findings = Findings::default();
    check(
        &host,
        BACKUP_BK,
        None,
        binary(version("0.110.0"), None),
        &mut findings,
    );
    assert_eq!(
        rendered(&findings).as_deref(),
        Some(
            "failed to read backup \"bk\": schema-version compatibility cannot be verified: the admission request \
             names no namespace to look the backup up in"
        )
    );
    assert_eq!(*host.calls.borrow(), 0);
}

#[rstest]
#[case::upstream_no_bootstrap(None, None, None)]
#[case::backup(Some("bk"), None, Some(BACKUP_BK))]
#[case::pv(None, Some("pv-1"), Some(PV_1))]
#[case::backup_wins(Some("bk"), Some("pv-1"), Some(BACKUP_BK))]
fn picks_the_source_as_upstream(
    #[case] backup: Option<&'static str>,
    #[case] pv: Option<&'static str>,
    #[case] expected: Option<RestoreSource<'static>>,
) {
    assert_eq!(RestoreSource::of(backup, pv), expected);
}
