#!/usr/bin/env python3
"""Writes the AdmissionRequest fixtures under test_data/ (bare AdmissionRequests,
the input `kwctl run --request-path` and `policy-runner run` take).

The DocumentDB objects come from the operator's playground manifests
(../shared/documentdb/manifests/, MIT-licensed upstream), completed with what the
API server adds when it stores them (uid, resourceVersion, managedFields, the
last-applied annotation, the operator's finalizer and status). Run it after
changing a scenario; the output is committed so reviewers see the exact bytes
the tests feed the module:

    python3 test_data/generate.py
"""

import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
REPO = "ghcr.io/documentdb/documentdb-kubernetes-operator"

# lightrag_documentdb.yaml: the released (nested image) shape.
LIGHTRAG = {
    "apiVersion": "documentdb.io/preview",
    "kind": "DocumentDB",
    "metadata": {"name": "documentdb-cluster", "namespace": "documentdb-test"},
    "spec": {
        "nodeCount": 1,
        "instancesPerNode": 1,
        "image": {"documentDB": f"{REPO}/documentdb:0.110.0", "gateway": f"{REPO}/gateway:0.110.0"},
        "documentDbCredentialSecret": "docdb-credentials",
        "resource": {"storage": {"pvcSize": "10Gi"}},
        "exposeViaService": {"serviceType": "ClusterIP"},
        "plugins": {"sidecarInjectorName": "cnpg-i-sidecar-injector.documentdb.io"},
    },
}

# operator-upgrade-guide_test-documentdb-versioned.yaml, with the version knob
# made canonical (the manifest's "v1.0.0" is its own fixture below).
VERSIONED = {
    "apiVersion": "documentdb.io/preview",
    "kind": "DocumentDB",
    "metadata": {"name": "test-versioned-cluster", "namespace": "documentdb-test-ns"},
    "spec": {
        "nodeCount": 1,
        "instancesPerNode": 1,
        "documentDBVersion": "0.110.0",
        "resource": {"storage": {"pvcSize": "10Gi"}},
        "exposeViaService": {"serviceType": "LoadBalancer"},
    },
}

# multi-cloud-deployment_documentdb-cluster.yaml, template placeholders filled.
MULTI_CLOUD = {
    "apiVersion": "documentdb.io/preview",
    "kind": "DocumentDB",
    "metadata": {"name": "documentdb-preview", "namespace": "documentdb-preview-ns"},
    "spec": {
        "nodeCount": 1,
        "instancesPerNode": 1,
        "documentDBVersion": "0.112.0",
        "resource": {"storage": {"pvcSize": "10Gi"}},
        "clusterReplication": {
            "disableTLS": True,
            "highAvailability": True,
            "primary": "member-eastus2",
            "crossCloudNetworkingStrategy": "Istio",
            "clusterList": [{"name": "member-eastus2"}, {"name": "member-westus3"}],
        },
        "exposeViaService": {"serviceType": "LoadBalancer"},
        "logLevel": "info",
    },
}


def stored(obj, installed_schema=None, generation=1):
    """The object as the API server stores it (what arrives as oldObject)."""
    obj = copy.deepcopy(obj)
    applied = copy.deepcopy(obj)
    md = obj["metadata"]
    md.update(
        {
            "uid": "3f0c9a4e-6a2b-4f59-9d3e-0c1b7e5d2a11",
            "resourceVersion": "48213",
            "generation": generation,
            "creationTimestamp": "2026-11-02T09:14:07Z",
            "finalizers": ["documentdb.io/finalizer"],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied, separators=(",", ":")) + "\n"
            },
            "managedFields": [
                {
                    "apiVersion": "documentdb.io/preview",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                        "f:spec": {f"f:{k}": {} for k in sorted(obj["spec"])},
                    },
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "time": "2026-11-02T09:14:07Z",
                },
                {
                    "apiVersion": "documentdb.io/preview",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {".": {}, "f:schemaVersion": {}, "f:status": {}}},
                    "manager": "documentdb-operator",
                    "operation": "Update",
                    "subresource": "status",
                    "time": "2026-11-02T09:21:44Z",
                },
            ],
        }
    )
    if installed_schema is not None:
        image = obj["spec"].get("image", {}).get("documentDB") or obj["spec"].get("documentDBImage") or ""
        obj["status"] = {
            "status": "Cluster in healthy state",
            "schemaVersion": installed_schema,
            "documentDBImage": image,
            "connectionString": "mongodb://docdbadmin@documentdb-service-documentdb-cluster:10260/",
            "localPrimary": md["name"] + "-1",
            "targetPrimary": md["name"] + "-1",
        }
    return obj


def changed(obj, *, image=None, version=None, schema=None, flat_image=None, drop=(), **spec):
    """The object as the user submits a change (kubectl apply keeps metadata)."""
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    s = obj["spec"]
    if image is not None:
        s.setdefault("image", {})["documentDB"] = image
    if version is not None:
        s["documentDBVersion"] = version
    if schema is not None:
        s["schemaVersion"] = schema
    if flat_image is not None:
        s["documentDBImage"] = flat_image
    for key in drop:
        s.pop(key, None)
    s.update(spec)
    return obj


def request(operation, obj, old=None, **extra):
    md = (obj or old)["metadata"]
    req = {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "resource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "requestKind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "requestResource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "name": md["name"],
        "namespace": md["namespace"],
        "operation": operation,
        "userInfo": {"username": "platform-admin", "groups": ["platform-team", "system:authenticated"]},
        "dryRun": False,
        "options": {
            "apiVersion": "meta.k8s.io/v1",
            "kind": "CreateOptions" if operation == "CREATE" else "UpdateOptions",
            "fieldManager": "kubectl-client-side-apply",
            "fieldValidation": "Strict",
        },
    }
    if obj is not None:
        req["object"] = obj
    if old is not None:
        req["oldObject"] = old
    req.update(extra)
    return req


def img(version):
    return f"{REPO}/documentdb:{version}"


def fixtures():
    created = lambda o: stored(o)  # noqa: E731  (CREATE: stored fields minus status)
    at_110 = stored(LIGHTRAG, "0.110.0")
    at_112_pending = stored(changed(LIGHTRAG, image=img("0.112.0")), "0.110.0", 2)
    at_112 = stored(changed(LIGHTRAG, image=img("0.112.0"), schema="0.112.0"), "0.112.0", 3)
    v_at_112 = stored(changed(VERSIONED, version="0.112.0"), "0.112.0", 2)

    yield "walkthrough/01-create-0.110.0", request("CREATE", created(LIGHTRAG))
    yield "walkthrough/02-upgrade-binary-0.112.0", request("UPDATE", changed(at_110, image=img("0.112.0")), at_110)
    yield "walkthrough/03-finalize-schema-0.112.0", request("UPDATE", changed(at_112_pending, schema="0.112.0"), at_112_pending)
    yield "walkthrough/04-rollback-image-0.110.0", request("UPDATE", changed(at_112, image=img("0.110.0")), at_112)
    yield "walkthrough/05-schema-0.113.0-ahead-of-binary", request("UPDATE", changed(at_112, schema="0.113.0"), at_112)

    # CREATE: Rule A
    yield "create/version-only", request("CREATE", created(VERSIONED))
    yield "create/auto", request("CREATE", created(changed(VERSIONED, schema="auto")))
    yield "create/schema-equal-to-version", request("CREATE", created(changed(VERSIONED, schema="0.110.0")))
    yield "create/schema-above-version", request("CREATE", created(changed(VERSIONED, schema="0.112.0")))
    yield "create/schema-above-image-tag", request("CREATE", created(changed(LIGHTRAG, schema="0.115.0")))
    yield "create/image-tag-wins-over-version", request("CREATE", created(changed(LIGHTRAG, version="0.120.0", schema="0.112.0")))
    yield "create/tag-suffix", request("CREATE", created(changed(LIGHTRAG, image=img("0.112.0-amd64"), schema="0.112.0")))
    yield "create/tag-and-digest", request(
        "CREATE", created(changed(LIGHTRAG, image=img("0.110.0") + "@sha256:" + "a1" * 32, schema="0.110.0"))
    )
    yield "create/registry-port", request(
        "CREATE", created(changed(LIGHTRAG, image="localhost:5000/documentdb:0.112.0", schema="0.112.0"))
    )
    yield "create/no-binary", request("CREATE", created(changed(VERSIONED, schema="0.112.0", drop=("documentDBVersion",))))
    yield "create/latest-tag", request("CREATE", created(changed(LIGHTRAG, image=img("latest"), schema="0.112.0")))
    yield "create/digest-only", request(
        "CREATE", created(changed(LIGHTRAG, image=f"{REPO}/documentdb@sha256:" + "b2" * 32, schema="0.112.0"))
    )
    flat = changed(VERSIONED, schema="0.112.0", drop=("documentDBVersion",), documentDBImage="localhost:5000/documentdb")
    yield "create/flat-image-without-tag", request("CREATE", created(flat))
    yield "create/flat-image", request(
        "CREATE", created(changed(VERSIONED, schema="0.111.0", drop=("documentDBVersion",), documentDBImage=img("0.111.0")))
    )
    yield "create/version-not-comparable", request("CREATE", created(changed(VERSIONED, version="invalid", schema="0.112.0")))
    yield "create/upstream-manifest-v-prefixed-version", request(
        "CREATE", created(changed(VERSIONED, version="v1.0.0", schema="0.112.0"))
    )
    yield "create/schema-leading-zero", request("CREATE", created(changed(VERSIONED, schema="0.0112.0")))
    yield "create/tag-overflow", request(
        "CREATE", created(changed(LIGHTRAG, version="0.200.0", image=img("99999999999999999999.0.0"), schema="0.112.0"))
    )
    yield "create/auto-multi-region", request("CREATE", created(changed(MULTI_CLOUD, schema="auto")))
    yield "create/no-version-no-image", request(
        "CREATE", created(changed(VERSIONED, schema="0.113.0", drop=("documentDBVersion",)))
    )

    # UPDATE: Rule B and friends
    yield "update/rollback-version", request("UPDATE", changed(v_at_112, version="0.110.0"), v_at_112)
    flat_at_112 = stored(changed(VERSIONED, drop=("documentDBVersion",), documentDBImage=img("0.112.0")), "0.112.0")
    yield "update/rollback-flat-image", request("UPDATE", changed(flat_at_112, flat_image=img("0.110.0")), flat_at_112)
    yield "update/rollback-tag-and-digest", request(
        "UPDATE", changed(at_112, image=img("0.110.0") + "@sha512:" + "c3" * 64), at_112
    )
    pinned = stored(changed(LIGHTRAG, version="0.110.0", image=img("0.112.0")), "0.112.0")
    yield "update/latest-with-stale-version", request("UPDATE", changed(pinned, image=img("latest")), pinned)
    # Two-phase object whose schema was finalized earlier (schemaVersion set, then cleared).
    two_phase_at_112 = stored(changed(LIGHTRAG, image=img("0.112.0")), "0.112.0", 4)
    yield "update/latest-tag", request("UPDATE", changed(two_phase_at_112, image=img("latest")), two_phase_at_112)
    yield "update/latest-tag-explicit-schema", request("UPDATE", changed(at_112, image=img("latest")), at_112)
    never_upgraded = stored(changed(VERSIONED, version="0.112.0"))
    yield "update/rollback-before-any-schema", request("UPDATE", changed(never_upgraded, version="0.110.0"), never_upgraded)
    yield "update/unrelated-patch", request(
        "UPDATE", changed(at_112, resource={"storage": {"pvcSize": "20Gi", "persistentVolumeReclaimPolicy": "Retain"}}), at_112
    )
    # Stored before the policy existed with schemaVersion above its binary:
    # the operator removing its finalizer must not be blocked.
    legacy = stored(changed(VERSIONED, schema="0.112.0"), "0.110.0")
    finalizer_removed = copy.deepcopy(legacy)
    finalizer_removed.pop("status")
    finalizer_removed["metadata"]["finalizers"] = []
    finalizer_removed["metadata"]["deletionTimestamp"] = "2026-11-20T10:00:00Z"
    yield "update/ratchet-legacy-object", request("UPDATE", finalizer_removed, legacy)
    auto_at_112 = stored(changed(VERSIONED, version="0.112.0", schema="auto"), "0.112.0")
    yield "update/auto-unrelated-patch", request("UPDATE", changed(auto_at_112, nodeCount=2), auto_at_112)
    yield "update/auto-binary-upgrade", request("UPDATE", changed(auto_at_112, version="0.113.0"), auto_at_112)
    yield "update/schema-below-installed", request("UPDATE", changed(v_at_112, schema="0.110.0"), v_at_112)
    v_at_112_pinned = stored(changed(VERSIONED, version="0.112.0", schema="0.112.0"), "0.112.0")
    yield "update/both-rules", request("UPDATE", changed(v_at_112_pinned, version="0.110.0"), v_at_112_pinned)
    broken = stored(changed(VERSIONED, version="invalid-old"), "invalid")
    yield "update/versions-not-comparable", request("UPDATE", changed(broken, version="invalid-new"), broken)
    v_at_114 = stored(changed(VERSIONED, version="0.114.0"), "0.114.0")
    yield "update/drop-version-to-default", request("UPDATE", changed(v_at_114, drop=("documentDBVersion",)), v_at_114)

    # Not validated
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nginx", "namespace": "default"},
           "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}
    yield "other/pod", request("CREATE", pod) | {
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
    }
    status_update = copy.deepcopy(at_112)
    status_update["status"]["schemaVersion"] = "0.113.0"
    yield "other/status-subresource", request("UPDATE", status_update, at_112, subResource="status", requestSubResource="status")
    yield "other/delete", request("DELETE", None, at_112) | {
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
    }

    # Malformed: what a broken client or a fuzzer could send.
    bad = changed(VERSIONED)
    bad["spec"]["schemaVersion"] = 112
    yield "malformed/schema-version-number", request("CREATE", created(bad))
    bad = changed(VERSIONED)
    bad["spec"] = ["nodeCount", 1]
    yield "malformed/spec-array", request("CREATE", bad)
    bad = changed(LIGHTRAG)
    bad["spec"]["image"] = img("0.112.0")
    yield "malformed/image-string", request("CREATE", created(bad))
    yield "malformed/create-without-object", request("CREATE", None, at_110) | {"oldObject": None}
    yield "malformed/update-without-old-object", request("UPDATE", changed(at_110, image=img("0.112.0")))


def main():
    written = 0
    for name, req in fixtures():
        path = HERE / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(req, indent=2, ensure_ascii=False) + "\n")
        written += 1
    # The same rollback wrapped in a full AdmissionReview, as the API server sends it.
    rollback = json.loads((HERE / "walkthrough/04-rollback-image-0.110.0.json").read_text())
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": rollback}
    (HERE / "admission-review/rollback.json").parent.mkdir(exist_ok=True)
    (HERE / "admission-review/rollback.json").write_text(json.dumps(review, indent=2) + "\n")
    print(f"wrote {written + 1} fixtures under {HERE}")


if __name__ == "__main__":
    main()
