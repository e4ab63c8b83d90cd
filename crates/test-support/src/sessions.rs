//! The kwctl host-capabilities sessions of the context-aware e2e cases
//! (`e2e/sessions/*.yml`): what `kwctl run --record-host-capabilities-interactions`
//! writes, and what `kwctl run --allow-context-aware
//! --replay-host-capabilities-interactions FILE` (and `policy-runner run`, likewise)
//! answers the policy's `kubernetes/*` calls from, in order. Written by
//! `cargo run -p test-support --bin generate-fixtures` with the fixtures;
//! `crates/test-support/tests/fixtures.rs` fails when a committed file differs.
//!
//! Each exchange holds the request exactly as the policy sends it (kwctl refuses
//! a replayed call whose request differs in any field, field masks included) and
//! the answer policy-evaluator gives: the object with its body pruned to the
//! field masks (the host keeps `apiVersion`, `kind` and `metadata` whole), or the
//! error text it records. The objects are the ones the operator and the kubelet
//! write: a Backup created by a ScheduledBackup and completed by the Backup
//! controller (`status.schemaVersion` since upstream PR #440), a PersistentVolume
//! labelled and annotated by the PV controller, Nodes as an AKS kubelet registers
//! them. A CREATE makes the policy list the Nodes first (the ImageVolume check),
//! then read the restore source.

use serde_json::{Value, json};

use crate::fixtures::{MISSING_BACKUP, NIGHTLY_BACKUP, RETAINED_PV};

/// One file under `e2e/sessions/`: its name there and its bytes.
pub struct Session {
    pub path: String,
    pub bytes: Vec<u8>,
}

const NODE_MASKS: &[&str] = &[
    "metadata.name",
    "status.nodeInfo.containerRuntimeVersion",
    "status.nodeInfo.kubeletVersion",
];
const BACKUP_MASKS: &[&str] = &["status.schemaVersion"];
const PV_MASKS: &[&str] = &["metadata.annotations"];

fn masks(masks: &[&str]) -> String {
    masks.iter().map(|mask| format!("- {mask}\n")).collect()
}

/// `kubernetes/list_resources_all` of the Nodes, as kwctl records it.
fn list_nodes() -> String {
    format!(
        "!KubernetesListResourceAll\napi_version: v1\nkind: Node\nlabel_selector: null\nfield_selector: null\n\
         field_masks:\n{}",
        masks(NODE_MASKS)
    )
}

/// `kubernetes/get_resource`, as kwctl records it.
fn get_resource(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    field_masks: &[&str],
) -> String {
    format!(
        "!KubernetesGetResource\napi_version: {api_version}\nkind: {kind}\nname: {name}\nnamespace: {}\n\
         disable_cache: false\nfield_masks:\n{}",
        namespace.unwrap_or("null"),
        masks(field_masks)
    )
}

fn get_backup(name: &str, namespace: &str) -> String {
    get_resource(
        "documentdb.io/preview",
        "Backup",
        name,
        Some(namespace),
        BACKUP_MASKS,
    )
}

fn get_pv(name: &str) -> String {
    get_resource("v1", "PersistentVolume", name, None, PV_MASKS)
}

/// A Node as the host keeps it with the field masks: metadata whole (the
/// reflector drops managedFields and the last-applied annotation), the status
/// pruned to the two versions.
pub fn node(index: usize, kubelet: &str, runtime: &str) -> Value {
    let pool = if index == 0 { "system" } else { "user" };
    let name = format!("aks-{pool}pool-31415926-vmss00000{index}");
    let zone = format!("eastus2-{}", index % 3 + 1);
    json!({
        "metadata": {
            "name": name,
            "uid": format!("4b1c2d3e-5f60-4718-9a2b-3c4d5e6f708{index}"),
            "resourceVersion": format!("91827{index}"),
            "creationTimestamp": "2026-10-14T07:31:05Z",
            "labels": {
                "agentpool": format!("{pool}pool"),
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "beta.kubernetes.io/os": "linux",
                "failure-domain.beta.kubernetes.io/region": "eastus2",
                "failure-domain.beta.kubernetes.io/zone": zone,
                "kubernetes.azure.com/agentpool": format!("{pool}pool"),
                "kubernetes.azure.com/cluster": "MC_documentdb_aks-documentdb_eastus2",
                "kubernetes.azure.com/mode": pool,
                "kubernetes.azure.com/os-sku": "AzureLinux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "topology.kubernetes.io/region": "eastus2",
                "topology.kubernetes.io/zone": zone,
            },
            "annotations": {
                "csi.volume.kubernetes.io/nodeid": json!({"disk.csi.azure.com": name}).to_string(),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "status": {"nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": kubelet}},
    })
}

/// policy-evaluator's answer to a list: `{apiVersion, kind: <Kind>List, metadata, items}`.
pub fn node_list(nodes: impl IntoIterator<Item = Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": nodes.into_iter().collect::<Vec<_>>()})
}

/// Every kubelet on 1.35 with containerd 2.1: ready.
fn ready_nodes() -> Value {
    node_list((0..3).map(|i| node(i, "v1.35.1", "containerd://2.1.4")))
}

/// The Backup a `nightly-backup` ScheduledBackup created, the body pruned to
/// `status.schemaVersion` (absent on backups taken before upstream PR #440).
pub fn backup(name: &str, namespace: &str, schema: Option<&str>) -> Value {
    let mut backup = json!({
        "apiVersion": "documentdb.io/preview",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "0b6f1c4e-1f7a-4c55-9d1e-5d0e3c6f2a10",
            "resourceVersion": "731204",
            "generation": 1,
            "creationTimestamp": "2026-11-01T02:00:00Z",
            "labels": {"scheduledbackup": "nightly-backup"},
            "ownerReferences": [{
                "apiVersion": "documentdb.io/preview",
                "kind": "ScheduledBackup",
                "name": "nightly-backup",
                "uid": "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4",
                "controller": true,
                "blockOwnerDeletion": true,
            }],
            "managedFields": [
                {
                    "apiVersion": "documentdb.io/preview",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:labels": {".": {}, "f:scheduledbackup": {}}, "f:ownerReferences": {}},
                        "f:spec": {".": {}, "f:cluster": {".": {}, "f:name": {}}, "f:retentionDays": {}},
                    },
                    "manager": "documentdb-operator",
                    "operation": "Update",
                    "time": "2026-11-01T02:00:00Z",
                },
                {
                    "apiVersion": "documentdb.io/preview",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {
                        ".": {}, "f:expiredAt": {}, "f:phase": {}, "f:schemaVersion": {},
                        "f:startedAt": {}, "f:stoppedAt": {},
                    }},
                    "manager": "documentdb-operator",
                    "operation": "Update",
                    "subresource": "status",
                    "time": "2026-11-01T02:03:41Z",
                },
            ],
        },
    });
    if let Some(schema) = schema {
        backup["status"] = json!({"schemaVersion": schema});
    }
    backup
}

/// A retained PV of a deleted cluster as the PV controller left it; the mask on
/// `metadata.annotations` drops the spec and status.
fn persistent_volume(name: &str, schema: Option<&str>) -> Value {
    let mut annotations = json!({
        "pv.kubernetes.io/provisioned-by": "disk.csi.azure.com",
        "volume.kubernetes.io/provisioner-deletion-secret-name": "",
        "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
    });
    if let Some(schema) = schema {
        annotations["documentdb.io/schema-version"] = json!(schema);
    }
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "uid": "2a3b4c5d-6e7f-4081-92a3-b4c5d6e7f809",
            "resourceVersion": "688120",
            "creationTimestamp": "2026-10-20T11:02:17Z",
            "labels": {"documentdb.io/cluster": "documentdb-cluster", "documentdb.io/namespace": "documentdb-test-ns"},
            "annotations": annotations,
            "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
        },
    })
}

/// One recorded call and its answer.
enum Exchange {
    Success(String, Value),
    Error(String, String),
}

/// What policy-evaluator answers for a missing object (kwctl records the
/// error's text).
fn not_found(api_version_kind: &str, name: &str, namespace: Option<&str>) -> String {
    let namespace = match namespace {
        Some(namespace) => format!("Some(\"{namespace}\")"),
        None => "None".to_owned(),
    };
    format!("Cannot find {api_version_kind} named '{name}' inside of namespace '{namespace}'")
}

/// The policy server's service account may not list Nodes (kube's error text).
const NODES_FORBIDDEN: &str = "ApiError: nodes is forbidden: User \
     \"system:serviceaccount:kubewarden:policy-server-default\" cannot list resource \"nodes\" in API group \"\" at \
     the cluster scope: Forbidden (ErrorResponse { status: \"Failure\", message: \"nodes is forbidden: User \
     \\\"system:serviceaccount:kubewarden:policy-server-default\\\" cannot list resource \\\"nodes\\\" in API group \
     \\\"\\\" at the cluster scope\", reason: \"Forbidden\", code: 403 })";

/// `(file name without .yml, what it holds, its exchanges in order)`.
fn scenarios() -> Vec<(&'static str, String, Vec<Exchange>)> {
    let ready = || Exchange::Success(list_nodes(), ready_nodes());
    let backup_at = |namespace: &str, schema: Option<&str>| {
        Exchange::Success(
            get_backup(NIGHTLY_BACKUP, namespace),
            backup(NIGHTLY_BACKUP, namespace, schema),
        )
    };
    let mut sessions = vec![
        (
            "imagevolume-ready",
            "Nodes all on kubelet 1.35 with containerd 2.1: ready.".to_owned(),
            vec![ready()],
        ),
        (
            "imagevolume-not-ready",
            "A user pool still on kubelet 1.32 and containerd 1.7.".to_owned(),
            vec![Exchange::Success(
                list_nodes(),
                node_list(
                    [node(0, "v1.35.1", "containerd://2.1.4")]
                        .into_iter()
                        .chain((1..3).map(|i| node(i, "v1.32.7", "containerd://1.7.27-1"))),
                ),
            )],
        ),
        (
            "imagevolume-feature-gate",
            "Every kubelet on 1.34: the ImageVolume feature gate decides.".to_owned(),
            vec![Exchange::Success(
                list_nodes(),
                node_list((0..3).map(|i| node(i, "v1.34.5", "containerd://2.1.4"))),
            )],
        ),
        (
            "imagevolume-nodes-forbidden",
            "The policy server's service account may not list Nodes (no RBAC).".to_owned(),
            vec![Exchange::Error(list_nodes(), NODES_FORBIDDEN.to_owned())],
        ),
    ];
    for (name, namespace) in [
        (
            "restore-backup-schema-0.112.0-documentdb-test-ns",
            "documentdb-test-ns",
        ),
        (
            "restore-backup-schema-0.112.0-documentdb-test",
            "documentdb-test",
        ),
    ] {
        sessions.push((
            name,
            format!(
                "Ready Nodes, then the Backup {NIGHTLY_BACKUP} in {namespace}, taken from a cluster on schema \
                 0.112.0."
            ),
            vec![ready(), backup_at(namespace, Some("0.112.0"))],
        ));
    }
    sessions.extend([
        (
            "restore-backup-without-schema",
            format!(
                "Ready Nodes, then the Backup {NIGHTLY_BACKUP}, taken before the operator recorded schema versions."
            ),
            vec![ready(), backup_at("documentdb-test-ns", None)],
        ),
        (
            "restore-backup-missing",
            format!("Ready Nodes; the Backup {MISSING_BACKUP} does not exist."),
            vec![
                ready(),
                Exchange::Error(
                    get_backup(MISSING_BACKUP, "documentdb-test-ns"),
                    not_found(
                        "documentdb.io/preview/Backup",
                        MISSING_BACKUP,
                        Some("documentdb-test-ns"),
                    ),
                ),
            ],
        ),
        (
            "restore-pv-schema-0.112.0",
            format!(
                "Ready Nodes, then the retained PersistentVolume {RETAINED_PV}, stamped with schema 0.112.0."
            ),
            vec![
                ready(),
                Exchange::Success(
                    get_pv(RETAINED_PV),
                    persistent_volume(RETAINED_PV, Some("0.112.0")),
                ),
            ],
        ),
        (
            "restore-pv-without-annotation",
            format!(
                "Ready Nodes, then the retained PersistentVolume {RETAINED_PV}, never stamped with a schema version."
            ),
            vec![
                ready(),
                Exchange::Success(get_pv(RETAINED_PV), persistent_volume(RETAINED_PV, None)),
            ],
        ),
    ]);
    sessions
}

/// A JSON string is a valid YAML double-quoted scalar.
fn yaml_string(text: &str) -> String {
    Value::from(text).to_string()
}

fn render(description: &str, exchanges: &[Exchange]) -> String {
    let mut yaml = format!(
        "# A kwctl host capabilities session (cargo run -p test-support --bin generate-fixtures):\n# {description}\n"
    );
    for exchange in exchanges {
        let (request, response) = match exchange {
            Exchange::Success(request, payload) => (
                request,
                format!(
                    "    type: Success\n    payload: {}\n",
                    yaml_string(&payload.to_string())
                ),
            ),
            Exchange::Error(request, message) => (
                request,
                format!("    type: Error\n    message: {}\n", yaml_string(message)),
            ),
        };
        yaml.push_str("- type: Exchange\n  request: |\n");
        for line in request.lines() {
            yaml.push_str(&format!("    {line}\n"));
        }
        yaml.push_str("  response:\n");
        yaml.push_str(&response);
    }
    yaml
}

/// Every session file this module writes, in a fixed order.
pub fn all() -> Vec<Session> {
    scenarios()
        .into_iter()
        .map(|(name, description, exchanges)| Session {
            path: format!("{name}.yml"),
            bytes: render(&description, &exchanges).into_bytes(),
        })
        .collect()
}
