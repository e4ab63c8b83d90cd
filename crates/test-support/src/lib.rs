//! The test inputs of the whole repository, built one way: DocumentDB objects
//! ([`DocumentDbObject`]) and the AdmissionRequests that carry them
//! ([`admission_request`]). Used by the policy's unit and property tests, the
//! fuzz regression tests, the policy-dist and upgrade-checker tests, and by
//! [`fixtures`], which writes the committed AdmissionRequests under
//! `e2e/fixtures/` (`cargo run -p test-support --bin generate-fixtures`), and
//! by [`sessions`], which writes the kwctl sessions under `e2e/sessions/` the
//! context-aware cases replay.
//!
//! Everything here is a `serde_json::Value` or bytes: this crate does not depend
//! on the policy crate, so that the policy crate can dev-depend on it.

use serde_json::{Map, Value, json};

pub mod fixtures;
pub mod sessions;

/// `request.uid` of every request built here.
pub const REQUEST_UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";
/// `request.name` when neither object has a `metadata.name`: messages fall
/// back to it.
pub const REQUEST_NAME: &str = "test-db";
/// `request.namespace` when neither object has a `metadata.namespace`.
pub const REQUEST_NAMESPACE: &str = "default";

/// The operator's image repository (the playground manifests' images).
pub const IMAGE_REPOSITORY: &str = "ghcr.io/documentdb/documentdb-kubernetes-operator";

/// The operator's DocumentDB image at `tag`.
pub fn documentdb_image(tag: &str) -> String {
    format!("{IMAGE_REPOSITORY}/documentdb:{tag}")
}

/// A `documentdb.io/preview` DocumentDB object, started from one of the
/// operator's playground manifests (MIT-licensed upstream) and changed the way
/// a user or the API server changes it. `Value::from` (or [`DocumentDbObject::build`])
/// gives the JSON; edit that directly for shapes no client would send.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentDbObject(Value);

impl DocumentDbObject {
    /// `lightrag_documentdb.yaml`: the released shape, the binary given by the
    /// nested image (`spec.image.documentDB`, tag 0.110.0), no
    /// `documentDBVersion` or `schemaVersion`.
    pub fn lightrag() -> DocumentDbObject {
        DocumentDbObject(json!({
            "apiVersion": "documentdb.io/preview",
            "kind": "DocumentDB",
            "metadata": {"name": "documentdb-cluster", "namespace": "documentdb-test"},
            "spec": {
                "nodeCount": 1,
                "instancesPerNode": 1,
                "image": {
                    "documentDB": documentdb_image("0.110.0"),
                    "gateway": format!("{IMAGE_REPOSITORY}/gateway:0.110.0"),
                },
                "documentDbCredentialSecret": "docdb-credentials",
                "resource": {"storage": {"pvcSize": "10Gi"}},
                "exposeViaService": {"serviceType": "ClusterIP"},
                "plugins": {"sidecarInjectorName": "cnpg-i-sidecar-injector.documentdb.io"},
            },
        }))
    }

    /// `operator-upgrade-guide_test-documentdb-versioned.yaml`: the binary
    /// given by `spec.documentDBVersion` (0.110.0; the manifest's "v1.0.0" is
    /// not a canonical version), no image.
    pub fn versioned() -> DocumentDbObject {
        DocumentDbObject(json!({
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
        }))
    }

    /// `multi-cloud-deployment_documentdb-cluster.yaml` with its template
    /// placeholders filled: a replicated cluster at `documentDBVersion` 0.112.0.
    pub fn multi_cloud() -> DocumentDbObject {
        DocumentDbObject(json!({
            "apiVersion": "documentdb.io/preview",
            "kind": "DocumentDB",
            "metadata": {"name": "documentdb-preview", "namespace": "documentdb-preview-ns"},
            "spec": {
                "nodeCount": 1,
                "instancesPerNode": 1,
                "documentDBVersion": "0.112.0",
                "resource": {"storage": {"pvcSize": "10Gi"}},
                "clusterReplication": {
                    "disableTLS": true,
                    "highAvailability": true,
                    "primary": "member-eastus2",
                    "crossCloudNetworkingStrategy": "Istio",
                    "clusterList": [{"name": "member-eastus2"}, {"name": "member-westus3"}],
                },
                "exposeViaService": {"serviceType": "LoadBalancer"},
                "logLevel": "info",
            },
        }))
    }

    /// `metadata.name` and `metadata.namespace`.
    pub fn named(mut self, name: &str, namespace: &str) -> DocumentDbObject {
        self.0["metadata"]["name"] = json!(name);
        self.0["metadata"]["namespace"] = json!(namespace);
        self
    }

    /// `spec.documentDBVersion`.
    pub fn version(self, version: &str) -> DocumentDbObject {
        self.spec("documentDBVersion", version)
    }

    /// `spec.schemaVersion`.
    pub fn schema(self, schema: &str) -> DocumentDbObject {
        self.spec("schemaVersion", schema)
    }

    /// `spec.image.documentDB` (the gateway image, if any, is kept).
    pub fn image(mut self, reference: &str) -> DocumentDbObject {
        let spec = self.spec_mut();
        if !spec.get("image").is_some_and(Value::is_object) {
            spec.insert("image".to_owned(), json!({}));
        }
        spec["image"]["documentDB"] = json!(reference);
        self
    }

    /// `spec.documentDBImage`, the flat (older) image field.
    pub fn flat_image(self, reference: &str) -> DocumentDbObject {
        self.spec("documentDBImage", reference)
    }

    /// Any `spec` field.
    pub fn spec(mut self, key: &str, value: impl Into<Value>) -> DocumentDbObject {
        self.spec_mut().insert(key.to_owned(), value.into());
        self
    }

    /// Removes a `spec` field.
    pub fn without(mut self, key: &str) -> DocumentDbObject {
        self.spec_mut().remove(key);
        self
    }

    /// The status the operator writes once the cluster runs: `schema` is the
    /// installed schema version (`status.schemaVersion`) the rollback rule
    /// compares against.
    pub fn installed(mut self, schema: &str) -> DocumentDbObject {
        let spec = &self.0["spec"];
        let image = [
            spec["image"]["documentDB"].as_str(),
            spec["documentDBImage"].as_str(),
        ]
        .into_iter()
        .flatten()
        .find(|image| !image.is_empty())
        .unwrap_or_default()
        .to_owned();
        let primary = format!(
            "{}-1",
            self.0["metadata"]["name"].as_str().unwrap_or_default()
        );
        self.0["status"] = json!({
            "status": "Cluster in healthy state",
            "schemaVersion": schema,
            "documentDBImage": image,
            "connectionString": "mongodb://docdbadmin@documentdb-service-documentdb-cluster:10260/",
            "localPrimary": primary,
            "targetPrimary": primary,
        });
        self
    }

    /// The object as the API server stores it after `kubectl apply` (what
    /// arrives as `oldObject`): uid, resourceVersion, `generation`, the
    /// operator's finalizer, the last-applied annotation and managedFields.
    pub fn stored(mut self, generation: u64) -> DocumentDbObject {
        let mut applied = self.0.clone();
        if let Some(applied) = applied.as_object_mut() {
            applied.remove("status");
        }
        let last_applied = format!("{applied}\n");
        let spec_fields: Map<String, Value> = self.0["spec"]
            .as_object()
            .map(|spec| {
                spec.keys()
                    .map(|key| (format!("f:{key}"), json!({})))
                    .collect()
            })
            .unwrap_or_default();
        let metadata = &mut self.0["metadata"];
        for (key, value) in [
            ("uid", json!("3f0c9a4e-6a2b-4f59-9d3e-0c1b7e5d2a11")),
            ("resourceVersion", json!("48213")),
            ("generation", json!(generation)),
            ("creationTimestamp", json!("2026-11-02T09:14:07Z")),
            ("finalizers", json!(["documentdb.io/finalizer"])),
            (
                "annotations",
                json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied}),
            ),
            (
                "managedFields",
                json!([
                    {
                        "apiVersion": "documentdb.io/preview",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:metadata": {"f:annotations": {
                                ".": {},
                                "f:kubectl.kubernetes.io/last-applied-configuration": {},
                            }},
                            "f:spec": spec_fields,
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
                ]),
            ),
        ] {
            metadata[key] = value;
        }
        self
    }

    /// What a client submits to change a stored object: `kubectl apply` keeps
    /// the metadata and sends no status.
    pub fn submitted(mut self) -> DocumentDbObject {
        if let Some(object) = self.0.as_object_mut() {
            object.remove("status");
        }
        self
    }

    /// The JSON object.
    pub fn build(self) -> Value {
        self.0
    }

    fn spec_mut(&mut self) -> &mut Map<String, Value> {
        if !self.0["spec"].is_object() {
            self.0["spec"] = json!({});
        }
        self.0["spec"]
            .as_object_mut()
            .expect("spec was just made an object")
    }
}

impl From<DocumentDbObject> for Value {
    fn from(db: DocumentDbObject) -> Value {
        db.0
    }
}

/// Any JSON, to change with the builder's methods.
impl From<Value> for DocumentDbObject {
    fn from(object: Value) -> DocumentDbObject {
        DocumentDbObject(object)
    }
}

/// A bare AdmissionRequest for `documentdb.io/preview` `dbs` (the input of
/// `kwctl run --request-path`), as the API server sends it for a `kubectl`
/// change: `name` and `namespace` from the object (else the old object, else
/// [`REQUEST_NAME`] and [`REQUEST_NAMESPACE`]); `object` and `oldObject` set
/// only when given (a missing one is a test case too).
pub fn admission_request(
    operation: &str,
    object: Option<Value>,
    old_object: Option<Value>,
) -> Value {
    let metadata = |field: &str| {
        [&object, &old_object]
            .into_iter()
            .flatten()
            .find_map(|object| object["metadata"][field].as_str().map(str::to_owned))
    };
    let name = metadata("name").unwrap_or_else(|| REQUEST_NAME.to_owned());
    let namespace = metadata("namespace").unwrap_or_else(|| REQUEST_NAMESPACE.to_owned());
    let options = match operation {
        "CREATE" | "UPDATE" => json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": if operation == "CREATE" { "CreateOptions" } else { "UpdateOptions" },
            "fieldManager": "kubectl-client-side-apply",
            "fieldValidation": "Strict",
        }),
        "DELETE" => json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
        }),
        _ => Value::Null,
    };
    let mut request = json!({
        "uid": REQUEST_UID,
        "kind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "resource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "requestKind": {"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"},
        "requestResource": {"group": "documentdb.io", "version": "preview", "resource": "dbs"},
        "name": name,
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "platform-admin", "groups": ["platform-team", "system:authenticated"]},
        "dryRun": false,
    });
    if !options.is_null() {
        request["options"] = options;
    }
    if let Some(mut object) = object {
        if operation == "CREATE"
            && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            // Storage assigns the resourceVersion after admission: a CREATE
            // that carries one is the background audit's replay (audit_request).
            metadata.remove("resourceVersion");
        }
        request["object"] = object;
    }
    if let Some(old_object) = old_object {
        request["oldObject"] = old_object;
    }
    request
}

/// The request Kubewarden's audit scanner sends for a stored object
/// (`internal/audit-scanner/scanner/admission_request.go`): always `CREATE`,
/// `uid` = the object's uid, `resource.resource` = the **Kind** (not the
/// plural), empty `userInfo`, no `oldObject`, no options, and the object as
/// listed — resourceVersion, uid, generation and status included.
pub fn audit_request(object: Value) -> Value {
    let gvk = json!({"group": "documentdb.io", "version": "preview", "kind": "DocumentDB"});
    let metadata = &object["metadata"];
    json!({
        "uid": metadata["uid"],
        "kind": gvk,
        "resource": {"group": "documentdb.io", "version": "preview", "resource": "DocumentDB"},
        "requestKind": gvk,
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "operation": "CREATE",
        "userInfo": {},
        "object": object,
        "oldObject": null,
        "options": null,
    })
}

/// The payload of the policy's `validate` call: `{"request": …, "settings": …}`.
pub fn validation_payload(request: &Value, settings: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"request": request, "settings": settings}))
        .expect("a Value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_named_after_its_object() {
        let object = DocumentDbObject::versioned().build();
        let request = admission_request("CREATE", Some(object.clone()), None);
        assert_eq!(request["name"], "test-versioned-cluster");
        assert_eq!(request["namespace"], "documentdb-test-ns");
        assert_eq!(request["object"], object);
        assert!(request.get("oldObject").is_none());
        assert_eq!(request["options"]["kind"], "CreateOptions");
    }

    #[test]
    fn a_request_without_named_objects_gets_the_default_name() {
        let request = admission_request("CREATE", Some(json!("not an object")), None);
        assert_eq!(request["name"], REQUEST_NAME);
        assert_eq!(request["namespace"], REQUEST_NAMESPACE);
        let delete = admission_request("DELETE", None, Some(DocumentDbObject::lightrag().build()));
        assert_eq!(delete["name"], "documentdb-cluster");
        assert_eq!(delete["options"]["kind"], "DeleteOptions");
        assert!(delete.get("object").is_none());
    }

    #[test]
    fn stored_records_the_applied_object_without_its_status() {
        let stored = DocumentDbObject::versioned()
            .installed("0.110.0")
            .stored(2)
            .build();
        let applied: Value = serde_json::from_str(
            stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(applied, DocumentDbObject::versioned().build());
        assert_eq!(stored["metadata"]["generation"], 2);
        assert_eq!(stored["status"]["schemaVersion"], "0.110.0");
        assert_eq!(
            stored["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:documentDBVersion"],
            json!({})
        );
    }

    #[test]
    fn installed_reports_the_effective_image() {
        let nested = DocumentDbObject::lightrag().installed("0.110.0").build();
        assert_eq!(
            nested["status"]["documentDBImage"],
            documentdb_image("0.110.0")
        );
        let flat = DocumentDbObject::versioned()
            .flat_image("x:1.2.3")
            .installed("1.2.3")
            .build();
        assert_eq!(flat["status"]["documentDBImage"], "x:1.2.3");
        assert_eq!(flat["status"]["localPrimary"], "test-versioned-cluster-1");
    }

    #[test]
    fn spec_edits_replace_add_and_remove_fields() {
        let db = DocumentDbObject::lightrag()
            .image("registry:5000/documentdb:0.112.0")
            .schema("0.112.0")
            .without("plugins")
            .spec("nodeCount", 3)
            .submitted()
            .build();
        assert_eq!(
            db["spec"]["image"]["documentDB"],
            "registry:5000/documentdb:0.112.0"
        );
        assert!(
            db["spec"]["image"]["gateway"].is_string(),
            "the gateway is kept"
        );
        assert_eq!(db["spec"]["schemaVersion"], "0.112.0");
        assert_eq!(db["spec"]["nodeCount"], 3);
        assert!(db["spec"].get("plugins").is_none());
        assert!(db.get("status").is_none());
        let image_on_a_string = DocumentDbObject::versioned()
            .spec("image", "x")
            .image("y")
            .build();
        assert_eq!(
            image_on_a_string["spec"]["image"],
            json!({"documentDB": "y"})
        );
    }

    #[test]
    fn the_payload_wraps_request_and_settings() {
        let payload = validation_payload(&json!({"uid": "u"}), &json!({"a": 1}));
        let value: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            value,
            json!({"request": {"uid": "u"}, "settings": {"a": 1}})
        );
    }
}
