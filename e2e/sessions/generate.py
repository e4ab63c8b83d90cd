#!/usr/bin/env python3
"""Writes the kwctl host-capabilities sessions of the context-aware e2e cases
(e2e/sessions/*.yml): what `kwctl run --record-host-capabilities-interactions`
writes, and what `kwctl run --allow-context-aware
--replay-host-capabilities-interactions FILE` (and `policy-runner run`, likewise)
answers the policy's `kubernetes/*` calls from, in order.

Each exchange holds the request exactly as the policy sends it (kwctl refuses a
replayed call whose request differs in any field, field masks included) and the
answer policy-evaluator gives: the object with its body pruned to the field
masks (the host keeps `apiVersion`, `kind` and `metadata` whole), or the error
text it records. The objects are the ones the operator and the kubelet write:
a Backup created by a ScheduledBackup and completed by the Backup controller
(status.schemaVersion since PR #440), a PersistentVolume labelled and annotated
by the PV controller, Nodes as an AKS kubelet registers them.

A CREATE makes the policy list the Nodes first (the ImageVolume check), then
read the restore source:

    python3 e2e/sessions/generate.py
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent

NODE_MASKS = ["metadata.name", "status.nodeInfo.containerRuntimeVersion", "status.nodeInfo.kubeletVersion"]
BACKUP_MASKS = ["status.schemaVersion"]
PV_MASKS = ["metadata.annotations"]

NIGHTLY = "nightly-backup-20261101-020000"
RETAINED_PV = "pvc-7c1e5b9a-3d2f-4e8a-9b6c-1a2b3c4d5e6f"


def list_nodes():
    return (
        "!KubernetesListResourceAll\n"
        "api_version: v1\n"
        "kind: Node\n"
        "label_selector: null\n"
        "field_selector: null\n"
        "field_masks:\n" + "".join(f"- {mask}\n" for mask in NODE_MASKS)
    )


def get_resource(api_version, kind, name, namespace, masks):
    return (
        "!KubernetesGetResource\n"
        f"api_version: {api_version}\n"
        f"kind: {kind}\n"
        f"name: {name}\n"
        f"namespace: {namespace if namespace is not None else 'null'}\n"
        "disable_cache: false\n"
        "field_masks:\n" + "".join(f"- {mask}\n" for mask in masks)
    )


def get_backup(name, namespace):
    return get_resource("documentdb.io/preview", "Backup", name, namespace, BACKUP_MASKS)


def get_pv(name):
    return get_resource("v1", "PersistentVolume", name, None, PV_MASKS)


def node(index, kubelet, runtime, pool="user"):
    """A Node as the host keeps it with the field masks: metadata whole (the
    reflector drops managedFields and the last-applied annotation), status
    pruned to the two versions."""
    name = f"aks-{pool}pool-31415926-vmss00000{index}"
    return {
        "metadata": {
            "name": name,
            "uid": f"4b1c2d3e-5f60-4718-9a2b-3c4d5e6f708{index}",
            "resourceVersion": f"91827{index}",
            "creationTimestamp": "2026-10-14T07:31:05Z",
            "labels": {
                "agentpool": f"{pool}pool",
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "beta.kubernetes.io/os": "linux",
                "failure-domain.beta.kubernetes.io/region": "eastus2",
                "failure-domain.beta.kubernetes.io/zone": f"eastus2-{index % 3 + 1}",
                "kubernetes.azure.com/agentpool": f"{pool}pool",
                "kubernetes.azure.com/cluster": "MC_documentdb_aks-documentdb_eastus2",
                "kubernetes.azure.com/mode": "system" if pool == "system" else "user",
                "kubernetes.azure.com/os-sku": "AzureLinux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
                "topology.kubernetes.io/region": "eastus2",
                "topology.kubernetes.io/zone": f"eastus2-{index % 3 + 1}",
            },
            "annotations": {
                "csi.volume.kubernetes.io/nodeid": json.dumps({"disk.csi.azure.com": name}, separators=(",", ":")),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "status": {"nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": kubelet}},
    }


def node_list(nodes):
    return {"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": nodes}


READY = node_list([node(i, "v1.35.1", "containerd://2.1.4", "system" if i == 0 else "user") for i in range(3)])
# An upgrade half done: the system pool moved to 1.35, a user pool still on 1.32 with containerd 1.7.
NOT_READY = node_list(
    [node(0, "v1.35.1", "containerd://2.1.4", "system")]
    + [node(i, "v1.32.7", "containerd://1.7.27-1", "user") for i in range(1, 3)]
)
# 1.34: ImageVolume is beta and off unless the feature gate is set.
GATED = node_list([node(i, "v1.34.5", "containerd://2.1.4", "system" if i == 0 else "user") for i in range(3)])


def backup(name, namespace, schema):
    """The Backup a ScheduledBackup `nightly-backup` created; the body pruned to
    status.schemaVersion (absent on backups taken before PR #440)."""
    obj = {
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
            "ownerReferences": [
                {
                    "apiVersion": "documentdb.io/preview",
                    "kind": "ScheduledBackup",
                    "name": "nightly-backup",
                    "uid": "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
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
                    "fieldsV1": {
                        "f:status": {
                            ".": {},
                            "f:expiredAt": {},
                            "f:phase": {},
                            "f:schemaVersion": {},
                            "f:startedAt": {},
                            "f:stoppedAt": {},
                        }
                    },
                    "manager": "documentdb-operator",
                    "operation": "Update",
                    "subresource": "status",
                    "time": "2026-11-01T02:03:41Z",
                },
            ],
        },
    }
    if schema:
        obj["status"] = {"schemaVersion": schema}
    return obj


def persistent_volume(name, schema):
    """A retained PV of a deleted cluster, as the PV controller left it; the
    mask on metadata.annotations drops spec and status."""
    annotations = {
        "pv.kubernetes.io/provisioned-by": "disk.csi.azure.com",
        "volume.kubernetes.io/provisioner-deletion-secret-name": "",
        "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
    }
    if schema:
        annotations["documentdb.io/schema-version"] = schema
    return {
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
    }


def success(request, obj):
    return {"request": request, "response": {"type": "Success", "payload": json.dumps(obj, separators=(",", ":"))}}


def error(request, message):
    return {"request": request, "response": {"type": "Error", "message": message}}


def not_found(api_version, kind, name, namespace):
    namespace = f'Some("{namespace}")' if namespace is not None else "None"
    return f"Cannot find {api_version}/{kind} named '{name}' inside of namespace '{namespace}'"


NODES_FORBIDDEN = (
    'ApiError: nodes is forbidden: User "system:serviceaccount:kubewarden:policy-server-default" cannot list '
    'resource "nodes" in API group "" at the cluster scope: Forbidden (ErrorResponse { status: "Failure", message: '
    '"nodes is forbidden: User \\"system:serviceaccount:kubewarden:policy-server-default\\" cannot list resource '
    '\\"nodes\\" in API group \\"\\" at the cluster scope", reason: "Forbidden", code: 403 })'
)


def sessions():
    ready = success(list_nodes(), READY)
    yield "imagevolume-ready", "Nodes all on kubelet 1.35 with containerd 2.1: ready.", [ready]
    yield "imagevolume-not-ready", "A user pool still on kubelet 1.32 and containerd 1.7.", [success(list_nodes(), NOT_READY)]
    yield "imagevolume-feature-gate", "Every kubelet on 1.34: the ImageVolume feature gate decides.", [
        success(list_nodes(), GATED)
    ]
    yield "imagevolume-nodes-forbidden", "The policy server's service account may not list Nodes (no RBAC).", [
        error(list_nodes(), NODES_FORBIDDEN)
    ]
    for namespace in ("documentdb-test-ns", "documentdb-test"):
        yield f"restore-backup-schema-0.112.0-{namespace}", (
            f"Ready Nodes, then the Backup {NIGHTLY} in {namespace}, taken from a cluster on schema 0.112.0."
        ), [ready, success(get_backup(NIGHTLY, namespace), backup(NIGHTLY, namespace, "0.112.0"))]
    yield "restore-backup-without-schema", (
        f"Ready Nodes, then the Backup {NIGHTLY}, taken before the operator recorded schema versions."
    ), [ready, success(get_backup(NIGHTLY, "documentdb-test-ns"), backup(NIGHTLY, "documentdb-test-ns", ""))]
    missing = "nightly-backup-20250101-020000"
    yield "restore-backup-missing", f"Ready Nodes; the Backup {missing} does not exist.", [
        ready,
        error(get_backup(missing, "documentdb-test-ns"), not_found("documentdb.io/preview", "Backup", missing, "documentdb-test-ns")),
    ]
    yield "restore-pv-schema-0.112.0", (
        f"Ready Nodes, then the retained PersistentVolume {RETAINED_PV}, stamped with schema 0.112.0."
    ), [ready, success(get_pv(RETAINED_PV), persistent_volume(RETAINED_PV, "0.112.0"))]
    yield "restore-pv-without-annotation", (
        f"Ready Nodes, then the retained PersistentVolume {RETAINED_PV}, never stamped with a schema version."
    ), [ready, success(get_pv(RETAINED_PV), persistent_volume(RETAINED_PV, ""))]


def render(description, exchanges):
    lines = [
        "# A kwctl host capabilities session (written by e2e/sessions/generate.py):",
        f"# {description}",
    ]
    for exchange in exchanges:
        lines.append("- type: Exchange")
        lines.append("  request: |")
        lines.extend(f"    {line}" for line in exchange["request"].splitlines())
        response = exchange["response"]
        lines.append("  response:")
        lines.append(f"    type: {response['type']}")
        for key in ("payload", "message"):
            if key in response:
                # A JSON string is a valid YAML double-quoted scalar.
                lines.append(f"    {key}: {json.dumps(response[key])}")
    return "\n".join(lines) + "\n"


def main():
    written = 0
    for name, description, exchanges in sessions():
        (HERE / f"{name}.yml").write_text(render(description, exchanges))
        written += 1
    print(f"wrote {written} sessions under {HERE}")


if __name__ == "__main__":
    main()
