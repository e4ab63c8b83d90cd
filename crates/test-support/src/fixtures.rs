//! The AdmissionRequest fixtures under `e2e/fixtures/` (bare AdmissionRequests,
//! the input `kwctl run --request-path` and `policy-runner run` take), written
//! from the same builder the Rust tests use. The files are committed so that
//! reviewers see the exact bytes the tests feed the module;
//! `crates/test-support/tests/fixtures.rs` fails when they differ from what this
//! module writes. After changing a scenario:
//!
//! ```text
//! cargo run -p test-support --bin generate-fixtures
//! ```
//!
//! The DocumentDB objects are the operator's playground manifests
//! ([`DocumentDbObject::lightrag`] and friends) completed with what the API server
//! adds when it stores them ([`DocumentDbObject::stored`], [`DocumentDbObject::installed`]).
//! Everything is deterministic: no randomness, no clock.

use serde_json::{Map, Value, json};

use crate::{DocumentDbObject, admission_request, documentdb_image as img};

/// One file under `e2e/fixtures/`: its path there and its bytes.
pub struct Fixture {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Every fixture file this module writes, in a fixed order.
pub fn all() -> Vec<Fixture> {
    let mut files: Vec<Fixture> = scenarios()
        .into_iter()
        .map(|(name, request)| Fixture {
            path: format!("{name}.json"),
            bytes: pretty(&request),
        })
        .collect();
    files.push(Fixture {
        path: "admission-review/rollback.json".to_owned(),
        bytes: pretty(&admission_review()),
    });
    files.push(Fixture {
        path: "bench/typical-update.json".to_owned(),
        bytes: pretty(&typical_update()),
    });
    files.push(Fixture {
        path: "bench/large-object.json".to_owned(),
        bytes: compact(&large_object()),
    });
    files
}

/// The folders under `e2e/fixtures/` that hold only files written here.
pub const FOLDERS: &[&str] = &[
    "walkthrough",
    "create",
    "update",
    "other",
    "malformed",
    "admission-review",
    "bench",
    "restore",
    "status",
    "resources",
    "audit",
];

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("a Value always serialises");
    bytes.push(b'\n');
    bytes
}

fn compact(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).expect("a Value always serialises");
    bytes.push(b'\n');
    bytes
}

/// The request, with `object` (when given) as a client submits it: a new
/// object for CREATE, a change to the stored `old` for UPDATE.
fn request(
    operation: &str,
    object: Option<DocumentDbObject>,
    old: Option<&DocumentDbObject>,
) -> Value {
    admission_request(
        operation,
        object.map(Value::from),
        old.cloned().map(Value::from),
    )
}

fn create(object: DocumentDbObject) -> Value {
    // A new object: the API server's metadata, no status yet.
    request("CREATE", Some(object.stored(1)), None)
}

fn update(new: DocumentDbObject, old: &DocumentDbObject) -> Value {
    request("UPDATE", Some(new.submitted()), Some(old))
}

/// `(name, request)` of every scenario, `name` being the path under
/// `e2e/fixtures/` without `.json`.
pub fn scenarios() -> Vec<(&'static str, Value)> {
    let lightrag = DocumentDbObject::lightrag;
    let versioned = DocumentDbObject::versioned;
    let at_110 = lightrag().stored(1).installed("0.110.0");
    let at_112_pending = lightrag()
        .image(&img("0.112.0"))
        .stored(2)
        .installed("0.110.0");
    let at_112 = lightrag()
        .image(&img("0.112.0"))
        .schema("0.112.0")
        .stored(3)
        .installed("0.112.0");
    let v_at_112 = versioned()
        .version("0.112.0")
        .stored(2)
        .installed("0.112.0");

    let mut all = vec![
        ("walkthrough/01-create-0.110.0", create(lightrag())),
        (
            "walkthrough/02-upgrade-binary-0.112.0",
            update(at_110.clone().image(&img("0.112.0")), &at_110),
        ),
        (
            "walkthrough/03-finalize-schema-0.112.0",
            update(at_112_pending.clone().schema("0.112.0"), &at_112_pending),
        ),
        (
            "walkthrough/04-rollback-image-0.110.0",
            update(at_112.clone().image(&img("0.110.0")), &at_112),
        ),
        (
            "walkthrough/05-schema-0.113.0-ahead-of-binary",
            update(at_112.clone().schema("0.113.0"), &at_112),
        ),
    ];

    // CREATE: the schema must not exceed the binary.
    all.extend([
        ("create/version-only", create(versioned())),
        ("create/auto", create(versioned().schema("auto"))),
        (
            "create/schema-equal-to-version",
            create(versioned().schema("0.110.0")),
        ),
        (
            "create/schema-above-version",
            create(versioned().schema("0.112.0")),
        ),
        (
            "create/schema-above-image-tag",
            create(lightrag().schema("0.115.0")),
        ),
        (
            "create/image-tag-wins-over-version",
            create(lightrag().version("0.120.0").schema("0.112.0")),
        ),
        (
            "create/tag-suffix",
            create(lightrag().image(&img("0.112.0-amd64")).schema("0.112.0")),
        ),
        (
            "create/tag-and-digest",
            create(
                lightrag()
                    .image(&format!("{}@sha256:{}", img("0.110.0"), "a1".repeat(32)))
                    .schema("0.110.0"),
            ),
        ),
        (
            "create/registry-port",
            create(
                lightrag()
                    .image("localhost:5000/documentdb:0.112.0")
                    .schema("0.112.0"),
            ),
        ),
        (
            "create/no-binary",
            create(versioned().schema("0.112.0").without("documentDBVersion")),
        ),
        (
            "create/latest-tag",
            create(lightrag().image(&img("latest")).schema("0.112.0")),
        ),
        (
            "create/digest-only",
            create(
                lightrag()
                    .image(&format!(
                        "{}/documentdb@sha256:{}",
                        crate::IMAGE_REPOSITORY,
                        "b2".repeat(32)
                    ))
                    .schema("0.112.0"),
            ),
        ),
        (
            "create/flat-image-without-tag",
            create(
                versioned()
                    .schema("0.112.0")
                    .without("documentDBVersion")
                    .flat_image("localhost:5000/documentdb"),
            ),
        ),
        (
            "create/flat-image",
            create(
                versioned()
                    .schema("0.111.0")
                    .without("documentDBVersion")
                    .flat_image(&img("0.111.0")),
            ),
        ),
        (
            "create/version-not-comparable",
            create(versioned().version("invalid").schema("0.112.0")),
        ),
        (
            "create/upstream-manifest-v-prefixed-version",
            create(versioned().version("v1.0.0").schema("0.112.0")),
        ),
        (
            "create/schema-leading-zero",
            create(versioned().schema("0.0112.0")),
        ),
        (
            "create/tag-overflow",
            create(
                lightrag()
                    .version("0.200.0")
                    .image(&img("99999999999999999999.0.0"))
                    .schema("0.112.0"),
            ),
        ),
        (
            "create/auto-multi-region",
            create(DocumentDbObject::multi_cloud().schema("auto")),
        ),
        (
            "create/no-version-no-image",
            create(versioned().schema("0.113.0").without("documentDBVersion")),
        ),
    ]);

    // UPDATE: the binary must not go below the installed schema, and friends.
    let flat_at_112 = versioned()
        .without("documentDBVersion")
        .flat_image(&img("0.112.0"))
        .stored(1)
        .installed("0.112.0");
    let pinned = lightrag()
        .version("0.110.0")
        .image(&img("0.112.0"))
        .stored(1)
        .installed("0.112.0");
    // Two-phase object whose schema was finalized earlier (schemaVersion set, then cleared).
    let two_phase_at_112 = lightrag()
        .image(&img("0.112.0"))
        .stored(4)
        .installed("0.112.0");
    let never_upgraded = versioned().version("0.112.0").stored(1);
    // Stored before the policy existed with schemaVersion above its binary:
    // the operator removing its finalizer must not be blocked.
    let legacy = versioned().schema("0.112.0").stored(1).installed("0.110.0");
    let mut finalizer_removed = legacy.clone().submitted().build();
    finalizer_removed["metadata"]["finalizers"] = json!([]);
    finalizer_removed["metadata"]["deletionTimestamp"] = json!("2026-11-20T10:00:00Z");
    let auto_at_112 = versioned()
        .version("0.112.0")
        .schema("auto")
        .stored(1)
        .installed("0.112.0");
    let v_at_112_pinned = versioned()
        .version("0.112.0")
        .schema("0.112.0")
        .stored(1)
        .installed("0.112.0");
    let broken = versioned()
        .version("invalid-old")
        .stored(1)
        .installed("invalid");
    let v_at_114 = versioned()
        .version("0.114.0")
        .stored(1)
        .installed("0.114.0");
    all.extend([
        (
            "update/rollback-version",
            update(v_at_112.clone().version("0.110.0"), &v_at_112),
        ),
        (
            "update/rollback-flat-image",
            update(flat_at_112.clone().flat_image(&img("0.110.0")), &flat_at_112),
        ),
        (
            "update/rollback-tag-and-digest",
            update(
                at_112
                    .clone()
                    .image(&format!("{}@sha512:{}", img("0.110.0"), "c3".repeat(64))),
                &at_112,
            ),
        ),
        (
            "update/latest-with-stale-version",
            update(pinned.clone().image(&img("latest")), &pinned),
        ),
        (
            "update/latest-tag",
            update(two_phase_at_112.clone().image(&img("latest")), &two_phase_at_112),
        ),
        (
            "update/latest-tag-explicit-schema",
            update(at_112.clone().image(&img("latest")), &at_112),
        ),
        (
            "update/rollback-before-any-schema",
            update(never_upgraded.clone().version("0.110.0"), &never_upgraded),
        ),
        (
            "update/unrelated-patch",
            update(
                at_112.clone().spec(
                    "resource",
                    json!({"storage": {"pvcSize": "20Gi", "persistentVolumeReclaimPolicy": "Retain"}}),
                ),
                &at_112,
            ),
        ),
        (
            "update/ratchet-legacy-object",
            admission_request("UPDATE", Some(finalizer_removed), Some(legacy.build())),
        ),
        (
            "update/auto-unrelated-patch",
            update(auto_at_112.clone().spec("nodeCount", 2), &auto_at_112),
        ),
        (
            "update/auto-binary-upgrade",
            update(auto_at_112.clone().version("0.113.0"), &auto_at_112),
        ),
        (
            "update/schema-below-installed",
            update(v_at_112.clone().schema("0.110.0"), &v_at_112),
        ),
        (
            "update/both-rules",
            update(v_at_112_pinned.clone().version("0.110.0"), &v_at_112_pinned),
        ),
        (
            "update/versions-not-comparable",
            update(broken.clone().version("invalid-new"), &broken),
        ),
        (
            "update/drop-version-to-default",
            update(v_at_114.clone().without("documentDBVersion"), &v_at_114),
        ),
    ]);

    // Not validated.
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
    });
    let mut pod_request = admission_request("CREATE", Some(pod), None);
    pod_request["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    pod_request["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
    pod_request["requestKind"] = pod_request["kind"].clone();
    pod_request["requestResource"] = pod_request["resource"].clone();
    let mut status_update = at_112.clone().build();
    status_update["status"]["schemaVersion"] = json!("0.113.0");
    let mut status_request =
        admission_request("UPDATE", Some(status_update), Some(at_112.clone().build()));
    status_request["subResource"] = json!("status");
    status_request["requestSubResource"] = json!("status");
    all.extend([
        ("other/pod", pod_request),
        ("other/status-subresource", status_request),
        ("other/delete", request("DELETE", None, Some(&at_112))),
    ]);

    all.extend(context_aware_scenarios(&at_112));
    all.extend(webhook_rule_scenarios());
    all.extend(audit_scenarios());

    // Malformed: what a broken client or a fuzzer could send.
    let mut create_without_object = request("CREATE", None, Some(&at_110));
    create_without_object["oldObject"] = Value::Null;
    all.extend([
        (
            "malformed/schema-version-number",
            create(versioned().spec("schemaVersion", 112)),
        ),
        (
            "malformed/spec-array",
            admission_request(
                "CREATE",
                Some(json!({
                    "apiVersion": "documentdb.io/preview",
                    "kind": "DocumentDB",
                    "metadata": versioned().build()["metadata"].clone(),
                    "spec": ["nodeCount", 1],
                })),
                None,
            ),
        ),
        (
            "malformed/image-string",
            create(lightrag().spec("image", img("0.112.0"))),
        ),
        ("malformed/create-without-object", create_without_object),
        (
            "malformed/update-without-old-object",
            request(
                "UPDATE",
                Some(at_110.submitted().image(&img("0.112.0"))),
                None,
            ),
        ),
    ]);
    all
}

// --- the operator webhook's resource, bootstrap and storage rules ---------------
// Upstream's own test values (documentdb_webhook_test.go, resource_validation_test.go)
// on the playground manifests.

fn webhook_rule_scenarios() -> Vec<(&'static str, Value)> {
    let versioned = DocumentDbObject::versioned;
    let at_110 = || versioned().stored(1).installed("0.110.0");
    let storage = |size: &str| json!({"storage": {"pvcSize": size}});
    let sized = |size: &str| versioned().spec("resource", storage(size));
    let from_backup = |backup: &str| json!({"recovery": {"backup": {"name": backup}}});
    let restored = || {
        versioned()
            .spec("bootstrap", from_backup("my-backup"))
            .stored(1)
            .installed("0.110.0")
    };
    let envelope = |resource: Value| versioned().spec("resource", resource);
    vec![
        // Resource envelope (CREATE and UPDATE): room left for PostgreSQL.
        (
            "resources/envelope-fits",
            create(envelope(json!({
                "storage": {"pvcSize": "10Gi"},
                "memory": "4Gi",
                "cpu": "2",
            }))),
        ),
        (
            "resources/envelope-too-small",
            create(
                envelope(json!({
                    "storage": {"pvcSize": "10Gi"},
                    "memory": "128Mi",
                    "cpu": "1",
                }))
                .spec("monitoring", json!({"enabled": true})),
            ),
        ),
        (
            "resources/container-without-envelope",
            create(envelope(json!({
                "storage": {"pvcSize": "10Gi"},
                "gateway": {"memory": "1Gi"},
            }))),
        ),
        (
            "resources/database-over-envelope",
            create(envelope(json!({
                "storage": {"pvcSize": "10Gi"},
                "memory": "4Gi",
                "gateway": {"memory": "1Gi"},
                "database": {"memory": "4Gi"},
            }))),
        ),
        // Storage can only grow (UPDATE).
        ("resources/storage-grow", update(sized("20Gi"), &at_110())),
        (
            "resources/storage-shrink",
            update(sized("10Gi"), &sized("20Gi").stored(1).installed("0.110.0")),
        ),
        (
            "resources/storage-same-size-other-unit",
            update(sized("10240Mi"), &at_110()),
        ),
        (
            "resources/storage-not-a-quantity",
            update(sized("abc"), &at_110()),
        ),
        // Bootstrap is fixed after creation (UPDATE).
        (
            "resources/bootstrap-changed",
            update(
                restored().spec("bootstrap", from_backup("different-backup")),
                &restored(),
            ),
        ),
        (
            "resources/bootstrap-added",
            update(at_110().spec("bootstrap", json!({})), &at_110()),
        ),
        (
            "resources/bootstrap-removed",
            update(restored().without("bootstrap"), &restored()),
        ),
    ]
}

// --- context-aware checks: restores and dbs/status ------------------------------
// The Backup, PersistentVolume and Nodes these requests make the policy read are
// the sessions under e2e/sessions/ (crate::sessions).

/// The DocumentDB operator chart's service account.
pub const OPERATOR_SERVICE_ACCOUNT: &str =
    "system:serviceaccount:documentdb-operator:documentdb-operator";

/// A new cluster bootstrapped from a Backup or a retained PersistentVolume,
/// as in the operator's backup-and-restore and restore-deleted-cluster docs.
fn restoring(object: DocumentDbObject, source: &str, name: &str) -> Value {
    create(restored(object, source, name))
}

/// `object` bootstrapped from `source` (`backup` or `persistentVolume`) `name`.
fn restored(object: DocumentDbObject, source: &str, name: &str) -> DocumentDbObject {
    let namespace = object.clone().build()["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    object
        .named("documentdb-restored", &namespace)
        .spec("bootstrap", json!({"recovery": {source: {"name": name}}}))
}

/// The request Kubewarden's audit scanner sends for `object` as stored.
fn audit(object: DocumentDbObject) -> Value {
    crate::audit_request(object.build())
}

/// Stored objects as the background audit replays them. The sessions the e2e
/// table gives them (a newer Backup of the same name, Nodes that cannot mount
/// image volumes) would change a real CREATE's verdict; a replay reads none.
fn audit_scenarios() -> Vec<(&'static str, Value)> {
    let lightrag = DocumentDbObject::lightrag;
    let versioned = DocumentDbObject::versioned;
    vec![
        (
            "audit/healthy-0.112.0",
            audit(
                versioned()
                    .version("0.112.0")
                    .stored(2)
                    .installed("0.112.0"),
            ),
        ),
        (
            "audit/restored-long-ago",
            audit(
                restored(versioned().version("0.110.0"), "backup", NIGHTLY_BACKUP)
                    .stored(4)
                    .installed("0.110.0"),
            ),
        ),
        (
            "audit/schema-above-binary",
            audit(
                versioned()
                    .version("0.110.0")
                    .schema("0.112.0")
                    .stored(3)
                    .installed("0.110.0"),
            ),
        ),
        (
            "audit/binary-below-schema-version-field",
            audit(
                versioned()
                    .version("0.110.0")
                    .stored(5)
                    .installed("0.112.0"),
            ),
        ),
        (
            "audit/binary-below-schema-image-tag",
            audit(
                lightrag()
                    .image(&img("0.110.0"))
                    .stored(5)
                    .installed("0.112.0"),
            ),
        ),
    ]
}

/// A `dbs/status` UPDATE of `stored` by `user` (the operator's service
/// account, or anyone else RBAC lets write status): the whole object with
/// `change` made to its status.
fn status_write(
    stored: &DocumentDbObject,
    user: &str,
    change: impl FnOnce(&mut Map<String, Value>),
) -> Value {
    let old = stored.clone().build();
    let mut new = old.clone();
    if let Some(status) = new["status"].as_object_mut() {
        change(status);
    }
    let mut request = admission_request("UPDATE", Some(new), Some(old));
    request["subResource"] = json!("status");
    request["requestSubResource"] = json!("status");
    match user
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((namespace, _)) => {
            request["options"]["fieldManager"] = json!("documentdb-operator");
            request["userInfo"] = json!({
                "username": user,
                "uid": "6f1d2c3b-4a5e-4f70-8b9c-0d1e2f3a4b5c",
                "groups": [
                    "system:serviceaccounts",
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated",
                ],
            });
        }
        None => {
            request["options"]["fieldManager"] = json!("kubectl-edit");
            request["userInfo"] =
                json!({"username": user, "groups": ["platform-team", "system:authenticated"]});
        }
    }
    request
}

fn set_schema(schema: &'static str) -> impl FnOnce(&mut Map<String, Value>) {
    move |status| {
        status.insert("schemaVersion".to_owned(), json!(schema));
    }
}

/// The Backup a `nightly-backup` ScheduledBackup created (e2e/sessions/).
pub const NIGHTLY_BACKUP: &str = "nightly-backup-20261101-020000";
/// A Backup that does not exist.
pub const MISSING_BACKUP: &str = "nightly-backup-20250101-020000";
/// The PersistentVolume a deleted cluster left behind (reclaim policy Retain).
pub const RETAINED_PV: &str = "pvc-7c1e5b9a-3d2f-4e8a-9b6c-1a2b3c4d5e6f";

fn context_aware_scenarios(at_112: &DocumentDbObject) -> Vec<(&'static str, Value)> {
    let lightrag = DocumentDbObject::lightrag;
    let versioned = DocumentDbObject::versioned;
    let backup = "backup";
    let pv = "persistentVolume";
    vec![
        (
            "restore/backup-onto-0.110.0",
            restoring(versioned().version("0.110.0"), backup, NIGHTLY_BACKUP),
        ),
        (
            "restore/backup-onto-0.112.0",
            restoring(versioned().version("0.112.0"), backup, NIGHTLY_BACKUP),
        ),
        (
            "restore/backup-onto-image-0.113.0",
            restoring(lightrag().image(&img("0.113.0")), backup, NIGHTLY_BACKUP),
        ),
        (
            "restore/backup-onto-default",
            restoring(
                versioned().without("documentDBVersion"),
                backup,
                NIGHTLY_BACKUP,
            ),
        ),
        (
            "restore/backup-onto-digest",
            restoring(
                lightrag().image(&format!(
                    "{}/documentdb@sha256:{}",
                    crate::IMAGE_REPOSITORY,
                    "b2".repeat(32)
                )),
                backup,
                NIGHTLY_BACKUP,
            ),
        ),
        (
            "restore/backup-missing",
            restoring(versioned().version("0.112.0"), backup, MISSING_BACKUP),
        ),
        (
            "restore/pv-onto-0.110.0",
            restoring(versioned().version("0.110.0"), pv, RETAINED_PV),
        ),
        (
            "restore/pv-onto-0.112.0",
            restoring(versioned().version("0.112.0"), pv, RETAINED_PV),
        ),
        // dbs/status: the installed schema, lowered, cleared, raised, or left alone.
        (
            "status/lowered-by-user",
            status_write(at_112, "platform-admin", set_schema("0.110.0")),
        ),
        (
            "status/lowered-by-operator",
            status_write(at_112, OPERATOR_SERVICE_ACCOUNT, set_schema("0.110.0")),
        ),
        (
            "status/cleared-by-user",
            status_write(at_112, "platform-admin", |status| {
                status.remove("schemaVersion");
            }),
        ),
        (
            "status/raised-by-user",
            status_write(at_112, "platform-admin", set_schema("0.113.0")),
        ),
        (
            "status/unrelated-change-by-user",
            status_write(at_112, "platform-admin", |status| {
                status.insert("status".to_owned(), json!("Setting up primary"));
            }),
        ),
        (
            "status/lowered-by-other-operator-install",
            status_write(
                at_112,
                "system:serviceaccount:ops:documentdb-operator",
                set_schema("0.110.0"),
            ),
        ),
    ]
}

// --- end context-aware checks ----------------------------------------------------

/// The walkthrough's rollback wrapped in a full AdmissionReview, as the API
/// server sends it.
fn admission_review() -> Value {
    let rollback = scenarios()
        .into_iter()
        .find(|(name, _)| *name == "walkthrough/04-rollback-image-0.110.0")
        .expect("the walkthrough has a rollback")
        .1;
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": rollback})
}

/// `bench/typical-update.json`, read by both the native criterion bench
/// (benches/rules.rs) and the wasm bench (`policy-runner bench`), so the
/// wasm/native ratio compares the same bytes: the walkthrough's binary upgrade
/// (0.110.0 -> 0.112.0, schema still 0.110.0, two-phase), an UPDATE of a
/// stored object with managedFields and the last-applied annotation.
pub fn typical_update() -> Value {
    let at_110 = DocumentDbObject::lightrag().stored(1).installed("0.110.0");
    update(at_110.clone().image(&img("0.112.0")), &at_110)
}

/// Bulk per object: what makes a DocumentDB object ~1 MiB.
const TARGET_OBJECT_BYTES: usize = 1 << 20;

/// `bench/large-object.json`: the typical update with ~1 MiB of metadata on
/// BOTH object and oldObject (annotations and managedFields, as a controller
/// that stores state in annotations produces; an UPDATE always carries the
/// stored copy too): ~2 MiB of request, written compact.
pub fn large_object() -> Value {
    let mut request = typical_update();
    for key in ["object", "oldObject"] {
        bulk(&mut request[key], TARGET_OBJECT_BYTES);
    }
    request
}

/// Grows `object`'s metadata to about `target` bytes of compact JSON: 3/4 in
/// annotations (config blobs), 1/4 in managedFields (one entry per manager).
fn bulk(object: &mut Value, target: usize) {
    let length = |value: &Value| serde_json::to_vec(value).map_or(0, |bytes| bytes.len());
    // Compact JSON has no whitespace, so each addition to a non-empty map or
    // list grows it by exactly the entry and one comma: no need to serialise
    // the megabyte again after each one.
    let mut size = length(object);
    let metadata = &mut object["metadata"];
    let annotations = metadata["annotations"]
        .as_object_mut()
        .expect("a stored object has annotations");
    let mut shard = 0;
    while size < target * 3 / 4 {
        let key = format!("config.example.com/shard-{shard:05}");
        let blob: Vec<String> = (0..16)
            .map(|part| format!("shard-{shard:05}-{part:02}=enabled"))
            .collect();
        let blob = json!(blob.join(","));
        size += length(&json!(key)) + 1 + length(&blob) + 1;
        annotations.insert(key, blob);
        shard += 1;
    }
    let managed_fields = metadata["managedFields"]
        .as_array_mut()
        .expect("a stored object has managedFields");
    let mut manager = 0;
    while size < target {
        let annotation_fields: serde_json::Map<String, Value> = (0..4)
            .map(|k| {
                (
                    format!("f:config.example.com/shard-{:05}", manager * 4 + k),
                    json!({}),
                )
            })
            .collect();
        let entry = json!({
            "apiVersion": "documentdb.io/preview",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:annotations": annotation_fields,
                    "f:labels": {format!("f:team.example.com/owner-{manager:05}"): {}},
                }
            },
            "manager": format!("config-syncer-{manager:05}"),
            "operation": "Apply",
            "time": "2026-11-02T09:14:07Z",
        });
        size += length(&entry) + 1;
        managed_fields.push(entry);
        manager += 1;
    }
}
