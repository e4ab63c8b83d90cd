//! The wire layer: the `validate` payload the engine sends (operation, kind,
//! subresource, userInfo, object, oldObject), reduced to the fields the policy
//! reads. One walk ([`crate::json`]) reads all of them; everything else
//! (managedFields, annotations, the rest of the spec) is skipped while
//! parsing, never materialised.

use std::borrow::Cow;

use crate::json::{
    Field, Nested, NonEmpty, Path, Picked, Root, Scalar, Tree, TreeShape, Walk, Walked, walk_json,
};

/// `{"request": <AdmissionRequest>, "settings": <settings object>}`. The
/// settings are read whole and left to the settings layer.
#[derive(Debug)]
pub struct ValidationPayload<'a> {
    pub request: Field<AdmissionRequest<'a>>,
    /// `None` when absent.
    pub settings: Option<Tree<'a>>,
}

/// The AdmissionRequest as the engine re-serialises it (camelCase).
#[derive(Debug, Default)]
pub struct AdmissionRequest<'a> {
    pub kind: Field<GroupVersionKind<'a>>,
    pub sub_resource: Field<Cow<'a, str>>,
    pub operation: Field<Cow<'a, str>>,
    pub name: Field<Cow<'a, str>>,
    pub object: Field<ObjectDoc<'a>>,
    pub old_object: Field<ObjectDoc<'a>>,
    // --- context-aware checks ---
    /// Where the restore check looks a Backup up.
    pub namespace: Field<Cow<'a, str>>,
    /// `userInfo.username`: who writes, for the status guard's `statusWriters`.
    pub username: Field<Cow<'a, str>>,
    // --- end context-aware checks ---
}

/// Group and kind only: every API version of the kind is validated (the
/// metadata's rules select `preview`).
#[derive(Debug, Default)]
pub struct GroupVersionKind<'a> {
    pub group: Field<Cow<'a, str>>,
    pub kind: Field<Cow<'a, str>>,
}

/// A DocumentDB object (`object` or `oldObject`), as far as the rules read it.
#[derive(Debug, Default)]
pub struct ObjectDoc<'a> {
    pub metadata: Field<MetadataDoc<'a>>,
    pub spec: Field<SpecDoc<'a>>,
    pub status: Field<StatusDoc<'a>>,
}

#[derive(Debug, Default)]
pub struct MetadataDoc<'a> {
    pub name: Field<Cow<'a, str>>,
    /// Set only on objects the API server has stored: the background audit
    /// replays them as CREATEs, a real creation never carries one.
    pub resource_version: Field<Cow<'a, str>>,
}

#[derive(Debug, Default)]
pub struct SpecDoc<'a> {
    pub schema_version: Field<Cow<'a, str>>,
    pub documentdb_version: Field<Cow<'a, str>>,
    /// Released (nested) shape: `spec.image.documentDB`.
    pub image: Field<ImageDoc<'a>>,
    /// Older flat shape: `spec.documentDBImage`.
    pub documentdb_image: Field<Cow<'a, str>>,
    pub cluster_replication: Field<NonEmpty>,
    pub resource: Field<ResourceDoc<'a>>,
    pub monitoring: Field<MonitoringDoc<'a>>,
    pub bootstrap: Field<BootstrapDoc<'a>>,
}

#[derive(Debug, Default)]
pub struct ImageDoc<'a> {
    pub documentdb: Field<Cow<'a, str>>,
}

#[derive(Debug, Default)]
pub struct StatusDoc<'a> {
    pub schema_version: Field<Cow<'a, str>>,
}

/// `spec.resource`: the pod envelope, the containers, the storage.
#[derive(Debug, Default)]
pub struct ResourceDoc<'a> {
    pub memory: Field<Cow<'a, str>>,
    pub cpu: Field<Cow<'a, str>>,
    pub gateway: Field<ContainerDoc<'a>>,
    pub database: Field<ContainerDoc<'a>>,
    pub otel: Field<ContainerDoc<'a>>,
    pub storage: Field<StorageDoc<'a>>,
}

/// `spec.resource.{gateway,database,otel}`.
#[derive(Debug, Default)]
pub struct ContainerDoc<'a> {
    pub memory: Field<Cow<'a, str>>,
    pub cpu: Field<Cow<'a, str>>,
}

/// `spec.resource.storage`.
#[derive(Debug, Default)]
pub struct StorageDoc<'a> {
    pub pvc_size: Field<Cow<'a, str>>,
}

/// `spec.monitoring`.
#[derive(Debug, Default)]
pub struct MonitoringDoc<'a> {
    pub enabled: Field<Scalar<'a>>,
}

/// `spec.bootstrap`.
#[derive(Debug, Default)]
pub struct BootstrapDoc<'a> {
    pub recovery: Field<RecoveryDoc<'a>>,
}

/// `spec.bootstrap.recovery`.
#[derive(Debug, Default)]
pub struct RecoveryDoc<'a> {
    pub backup: Field<ReferenceDoc<'a>>,
    pub persistent_volume: Field<ReferenceDoc<'a>>,
}

/// `spec.bootstrap.recovery.{backup,persistentVolume}`.
#[derive(Debug, Default)]
pub struct ReferenceDoc<'a> {
    pub name: Field<Cow<'a, str>>,
}

/// The paths of one object, relative to it, `$($prefix)*` first.
macro_rules! object_paths {
    ($($prefix:literal),*) => {[
        &[$($prefix,)* "metadata", "name"],
        &[$($prefix,)* "metadata", "resourceVersion"],
        &[$($prefix,)* "spec", "schemaVersion"],
        &[$($prefix,)* "spec", "documentDBVersion"],
        &[$($prefix,)* "spec", "image", "documentDB"],
        &[$($prefix,)* "spec", "documentDBImage"],
        &[$($prefix,)* "spec", "clusterReplication"],
        &[$($prefix,)* "spec", "resource", "memory"],
        &[$($prefix,)* "spec", "resource", "cpu"],
        &[$($prefix,)* "spec", "resource", "gateway", "memory"],
        &[$($prefix,)* "spec", "resource", "gateway", "cpu"],
        &[$($prefix,)* "spec", "resource", "database", "memory"],
        &[$($prefix,)* "spec", "resource", "database", "cpu"],
        &[$($prefix,)* "spec", "resource", "otel", "memory"],
        &[$($prefix,)* "spec", "resource", "otel", "cpu"],
        &[$($prefix,)* "spec", "resource", "storage", "pvcSize"],
        &[$($prefix,)* "spec", "monitoring", "enabled"],
        &[$($prefix,)* "spec", "bootstrap", "recovery", "backup", "name"],
        &[$($prefix,)* "spec", "bootstrap", "recovery", "persistentVolume", "name"],
        &[$($prefix,)* "status", "schemaVersion"],
    ]};
}

/// Paths per object, in [`object_paths`]' order.
const OBJECT_PATH_COUNT: usize = 20;
const NAME: usize = 0;
const RESOURCE_VERSION: usize = 1;
const SCHEMA_VERSION: usize = 2;
const DOCUMENTDB_VERSION: usize = 3;
const IMAGE: usize = 4;
const FLAT_IMAGE: usize = 5;
const CLUSTER_REPLICATION: usize = 6;
const MEMORY: usize = 7;
const CPU: usize = 8;
const GATEWAY: usize = 9;
const DATABASE: usize = 11;
const OTEL: usize = 13;
const PVC_SIZE: usize = 15;
const MONITORING: usize = 16;
const BACKUP: usize = 17;
const PERSISTENT_VOLUME: usize = 18;
const STATUS: usize = 19;

/// An object read on its own (tests and tools).
const OBJECT_PATHS: [Path; OBJECT_PATH_COUNT] = object_paths!();
const OBJECT_UNIQUE: [u64; 8] = unique_keys(&OBJECT_PATHS);
const OBJECT_NODE_DOCS: [u64; 8] = node_docs(&OBJECT_PATHS);

/// The request's own fields, then `object`, then `oldObject`.
const KIND_GROUP: usize = 0;
const KIND_KIND: usize = 1;
const SUB_RESOURCE: usize = 2;
const OPERATION: usize = 3;
const REQUEST_NAME: usize = 4;
const NAMESPACE: usize = 5;
const USERNAME: usize = 6;
const OBJECT: usize = 7;
const OLD_OBJECT: usize = OBJECT + OBJECT_PATH_COUNT;

const PAYLOAD_PATHS: [Path; OLD_OBJECT + OBJECT_PATH_COUNT] = {
    const REQUEST: [Path; OBJECT] = [
        &["request", "kind", "group"],
        &["request", "kind", "kind"],
        &["request", "subResource"],
        &["request", "operation"],
        &["request", "name"],
        &["request", "namespace"],
        &["request", "userInfo", "username"],
    ];
    const NEW: [Path; OBJECT_PATH_COUNT] = object_paths!("request", "object");
    const OLD: [Path; OBJECT_PATH_COUNT] = object_paths!("request", "oldObject");
    let mut all: [Path; OLD_OBJECT + OBJECT_PATH_COUNT] = [&[]; OLD_OBJECT + OBJECT_PATH_COUNT];
    let mut i = 0;
    while i < OBJECT {
        all[i] = REQUEST[i];
        i += 1;
    }
    let mut j = 0;
    while j < OBJECT_PATH_COUNT {
        all[OBJECT + j] = NEW[j];
        all[OLD_OBJECT + j] = OLD[j];
        j += 1;
    }
    all
};
const PAYLOAD_UNIQUE: [u64; 8] = unique_keys(&PAYLOAD_PATHS);
const PAYLOAD_NODE_DOCS: [u64; 8] = node_docs(&PAYLOAD_PATHS);

/// Per depth, the paths whose key there is a field of a fixed object shape
/// (the payload, the request, its kind, the object, its metadata, spec,
/// `spec.image` and status): such a key may appear once, as a struct field.
/// The keys of `userInfo` and of the objects under `spec.resource`,
/// `spec.monitoring` and `spec.bootstrap` may repeat (the last one counts,
/// as in Go's decoder).
/// The keys read at every level of the objects under `spec.resource`,
/// `spec.monitoring` and `spec.bootstrap`, where a path leads or not: a value
/// under one of them is parsed, not only skipped (a number beyond f64, or
/// nesting beyond serde_json's limit of 128, is an error there), as this
/// policy has always read them.
const NODE_KEYS: Nested = Nested {
    objects: &[
        "storage",
        "gateway",
        "database",
        "otel",
        "recovery",
        "backup",
        "persistentVolume",
    ],
    values: &["memory", "cpu", "pvcSize", "name", "enabled"],
};

/// Per depth, the paths whose value one key down is such an object: the
/// objects under `spec.resource`, `spec.monitoring`, `spec.bootstrap` and
/// their [`NODE_KEYS`] objects.
const fn node_docs(paths: &[Path]) -> [u64; 8] {
    let mut nested = [0u64; 8];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i];
        let mut inside = false;
        let mut depth = 0;
        while depth < path.len() {
            let key = path[depth];
            if depth > 0
                && is(path[depth - 1], "spec")
                && (is(key, "resource") || is(key, "monitoring") || is(key, "bootstrap"))
            {
                inside = true;
            } else if inside {
                let mut object = false;
                let mut k = 0;
                while k < NODE_KEYS.objects.len() {
                    object = object || is(key, NODE_KEYS.objects[k]);
                    k += 1;
                }
                inside = object;
            }
            if inside {
                nested[depth] |= 1 << i;
            }
            depth += 1;
        }
        i += 1;
    }
    nested
}

const fn unique_keys(paths: &[Path]) -> [u64; 8] {
    let mut unique = [0u64; 8];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i];
        let mut depth = 0;
        while depth < path.len() {
            let key = path[depth];
            if depth > 0 && is(path[depth - 1], "userInfo") {
                break;
            }
            unique[depth] |= 1 << i;
            if is(key, "resource") || is(key, "monitoring") || is(key, "bootstrap") {
                break;
            }
            depth += 1;
        }
        i += 1;
    }
    unique
}

const fn is(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// One object from its [`object_paths`] picks; `d`: the keys above it.
fn object_doc<'a>(p: &[Picked<'a>], d: usize) -> ObjectDoc<'a> {
    // The object `depth` keys below this one on the path of pick `i`.
    let at = |i: usize, depth: usize| p[i].object_at(d + depth, d + OBJECT_PATHS[i].len());
    let container = |i: usize| {
        at(i, 3).map(|()| ContainerDoc {
            memory: p[i].string_field(),
            cpu: p[i + 1].string_field(),
        })
    };
    let reference = |i: usize| {
        at(i, 4).map(|()| ReferenceDoc {
            name: p[i].string_field(),
        })
    };
    ObjectDoc {
        metadata: at(NAME, 1).map(|()| MetadataDoc {
            name: p[NAME].string_field(),
            resource_version: p[RESOURCE_VERSION].string_field(),
        }),
        spec: at(SCHEMA_VERSION, 1).map(|()| SpecDoc {
            schema_version: p[SCHEMA_VERSION].string_field(),
            documentdb_version: p[DOCUMENTDB_VERSION].string_field(),
            image: at(IMAGE, 2).map(|()| ImageDoc {
                documentdb: p[IMAGE].string_field(),
            }),
            documentdb_image: p[FLAT_IMAGE].string_field(),
            cluster_replication: p[CLUSTER_REPLICATION].non_empty_field(),
            resource: at(MEMORY, 2).map(|()| ResourceDoc {
                memory: p[MEMORY].string_field(),
                cpu: p[CPU].string_field(),
                gateway: container(GATEWAY),
                database: container(DATABASE),
                otel: container(OTEL),
                storage: at(PVC_SIZE, 3).map(|()| StorageDoc {
                    pvc_size: p[PVC_SIZE].string_field(),
                }),
            }),
            monitoring: at(MONITORING, 2).map(|()| MonitoringDoc {
                enabled: p[MONITORING].scalar_field(),
            }),
            bootstrap: at(BACKUP, 2).map(|()| BootstrapDoc {
                recovery: at(BACKUP, 3).map(|()| RecoveryDoc {
                    backup: reference(BACKUP),
                    persistent_volume: reference(PERSISTENT_VOLUME),
                }),
            }),
        }),
        status: at(STATUS, 1).map(|()| StatusDoc {
            schema_version: p[STATUS].string_field(),
        }),
    }
}

impl<'a> ValidationPayload<'a> {
    /// Reads the payload in one pass: `Absent` for `null`, `Mistyped` for
    /// another JSON type than an object; an error only for what is not JSON
    /// (or repeats a field of a fixed object shape, as serde's structs do).
    /// `settings`: what the settings layer reads of `settings`.
    pub fn from_json(
        json: &'a [u8],
        settings: &'static TreeShape,
    ) -> Result<Field<ValidationPayload<'a>>, serde_json::Error> {
        let walk = Walk {
            capture: Some(("settings", settings)),
            unique: &PAYLOAD_UNIQUE,
            nested: &PAYLOAD_NODE_DOCS,
            nested_keys: NODE_KEYS,
            ..Walk::default()
        };
        let Walked {
            root,
            picked: p,
            captured,
            ..
        } = walk_json(json, &PAYLOAD_PATHS, walk)?;
        match root {
            Root::Null => return Ok(Field::Absent),
            Root::Other(found) => return Ok(Field::Mistyped(found)),
            Root::Object => {}
        }
        let at = |i: usize, depth: usize| p[i].object_at(depth, PAYLOAD_PATHS[i].len());
        let request = at(KIND_GROUP, 1).map(|()| AdmissionRequest {
            kind: at(KIND_GROUP, 2).map(|()| GroupVersionKind {
                group: p[KIND_GROUP].string_field(),
                kind: p[KIND_KIND].string_field(),
            }),
            sub_resource: p[SUB_RESOURCE].string_field(),
            operation: p[OPERATION].string_field(),
            name: p[REQUEST_NAME].string_field(),
            object: at(OBJECT + NAME, 2).map(|()| object_doc(&p[OBJECT..OLD_OBJECT], 2)),
            old_object: at(OLD_OBJECT + NAME, 2).map(|()| object_doc(&p[OLD_OBJECT..], 2)),
            namespace: p[NAMESPACE].string_field(),
            username: p[USERNAME].string_field(),
        });
        Ok(Field::Present(ValidationPayload {
            request,
            settings: captured,
        }))
    }
}

impl<'a> ObjectDoc<'a> {
    /// Reads one object on its own (what is not an object reads as an
    /// empty one).
    pub fn from_json(json: &'a [u8]) -> Result<ObjectDoc<'a>, serde_json::Error> {
        let walk = Walk {
            unique: &OBJECT_UNIQUE,
            nested: &OBJECT_NODE_DOCS,
            nested_keys: NODE_KEYS,
            ..Walk::default()
        };
        let walked = walk_json(json, &OBJECT_PATHS, walk)?;
        Ok(object_doc(&walked.picked, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_walk_reads_at_most_64_paths() {
        assert!(PAYLOAD_PATHS.len() <= 64);
        assert_eq!(OBJECT_PATHS[STATUS], &["status", "schemaVersion"]);
        assert_eq!(
            PAYLOAD_PATHS[OLD_OBJECT + PERSISTENT_VOLUME],
            &[
                "request",
                "oldObject",
                "spec",
                "bootstrap",
                "recovery",
                "persistentVolume",
                "name"
            ]
        );
    }

    #[test]
    fn fields_of_fixed_shapes_are_unique_the_others_repeat() {
        let read = |json: &str| {
            ValidationPayload::from_json(json.as_bytes(), &TreeShape::Scalar).map(|_| ())
        };
        let duplicate =
            read(r#"{"request":{"object":{"spec":{"schemaVersion":"1","schemaVersion":"2"}}}}"#);
        assert!(
            duplicate
                .unwrap_err()
                .to_string()
                .starts_with("duplicate field `schemaVersion`")
        );
        assert!(read(r#"{"settings":{},"settings":{}}"#).is_err());
        assert!(read(r#"{"request":{"kind":{},"kind":{}}}"#).is_err());
        assert!(
            read(r#"{"request":{"object":{"spec":{"resource":{"memory":"1","memory":"2"}}}}}"#)
                .is_ok()
        );
        assert!(read(r#"{"request":{"userInfo":{"username":"a","username":"b"}}}"#).is_ok());
        assert!(read(r#"{"request":{"uid":"a","uid":"b"}}"#).is_ok());
    }

    #[test]
    fn a_repeated_key_counts_once_its_last_value() {
        let json = br#"{"spec":{"resource":{"gateway":"x","gateway":{"memory":"1Gi"}}}}"#;
        let doc = ObjectDoc::from_json(json).unwrap();
        let Field::Present(spec) = doc.spec else {
            panic!()
        };
        let Field::Present(resource) = spec.resource else {
            panic!()
        };
        let Field::Present(gateway) = resource.gateway else {
            panic!()
        };
        assert_eq!(gateway.memory, Field::Present(Cow::Borrowed("1Gi")));
    }
}
