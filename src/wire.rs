//! The wire layer: the `validate` payload the engine sends (operation, kind,
//! subresource, userInfo, object, oldObject), reduced to the fields the policy
//! reads. One walk ([`crate::json`]) reads all of them; everything else
//! (managedFields, annotations, the rest of the spec) is skipped while
//! parsing, never materialised.

use std::borrow::Cow;

use crate::json::{
    Field, Found, Nested, NonEmpty, Path, PathTable, Picked, Root, Scalar, Tree, TreeShape, Walk,
    Walked, path_table, same_str, walk_json,
};

/// `{"request": <AdmissionRequest>, "settings": <settings object>}`. The
/// settings are read whole and left to the settings layer.
#[derive(Debug)]
pub struct ValidationPayload<'a> {
    /// What `request` is: absent, an object or of another type.
    pub request: Field<()>,
    /// Its fields (all absent unless `request` is an object).
    pub fields: AdmissionRequest<'a>,
    /// `None` when absent.
    pub settings: Option<Tree<'a>>,
}

/// The AdmissionRequest as the engine re-serialises it (camelCase).
#[derive(Debug, Default)]
pub struct AdmissionRequest<'a> {
    pub kind: GroupVersionKind<'a>,
    pub sub_resource: Field<Cow<'a, str>>,
    pub operation: Field<Cow<'a, str>>,
    pub name: Field<Cow<'a, str>>,
    pub object: ObjectDoc<'a>,
    pub old_object: ObjectDoc<'a>,
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
    /// What `kind` is: absent, an object or of another type.
    pub shape: Field<()>,
    pub group: Field<Cow<'a, str>>,
    pub kind: Field<Cow<'a, str>>,
}

/// A DocumentDB object (`object` or `oldObject`), as far as the rules read
/// it: what the walk found at each of its paths, read through the
/// accessors (the model's `DocumentDb::read` knows which path is which).
#[derive(Debug, Default)]
pub struct ObjectDoc<'a> {
    /// What the object is: absent, an object or of another type.
    pub shape: Field<()>,
    picked: Vec<Picked<'a>>,
    /// The keys above the object in the walked document.
    depth: usize,
}

impl<'a> ObjectDoc<'a> {
    pub const NAME: usize = NAME;
    pub const RESOURCE_VERSION: usize = RESOURCE_VERSION;
    pub const SCHEMA_VERSION: usize = SCHEMA_VERSION;
    pub const DOCUMENTDB_VERSION: usize = DOCUMENTDB_VERSION;
    pub const IMAGE: usize = IMAGE;
    pub const FLAT_IMAGE: usize = FLAT_IMAGE;
    pub const CLUSTER_REPLICATION: usize = CLUSTER_REPLICATION;
    pub const MEMORY: usize = MEMORY;
    pub const CPU: usize = CPU;
    /// `…memory`; `…cpu` is the next path.
    pub const GATEWAY: usize = GATEWAY;
    pub const DATABASE: usize = DATABASE;
    pub const OTEL: usize = OTEL;
    pub const PVC_SIZE: usize = PVC_SIZE;
    pub const MONITORING: usize = MONITORING;
    pub const BACKUP: usize = BACKUP;
    pub const PERSISTENT_VOLUME: usize = PERSISTENT_VOLUME;
    pub const STATUS: usize = STATUS;

    /// The string at path `i`: `Ok(None)` when absent, `null` or `""` (or
    /// below a value that is not an object: that one is the field to report).
    pub fn text(&self, i: usize) -> Result<Option<&str>, Found> {
        match &self.picked[i] {
            Picked::Absent { .. } | Picked::Mistyped { .. } => Ok(None),
            Picked::Str(text) => Ok(Some(text.as_ref()).filter(|t| !t.is_empty())),
            other => Err(other.found()),
        }
    }

    /// The object `depth` keys down on path `i` (1: `metadata`, `spec`, …).
    pub fn object(&self, i: usize, depth: usize) -> Field<()> {
        // The path's length, from the payload's copy of it (less its
        // `request.object`), so the object's own path table is not in the module.
        let len = PAYLOAD_PATHS[OBJECT + i].len() - 2;
        let above = self.depth;
        self.picked[i].object_at(above + depth, above + len)
    }

    /// The string, boolean or number at path `i`.
    pub fn scalar(&self, i: usize) -> Field<Scalar<'_>> {
        self.picked[i].scalar_field()
    }

    /// The object at path `i`, of which only "has keys" matters.
    pub fn non_empty(&self, i: usize) -> Field<NonEmpty> {
        self.picked[i].non_empty_field()
    }
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
const OBJECT_TABLE: PathTable = path_table!(&OBJECT_PATHS);
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
const PAYLOAD_TABLE: PathTable = path_table!(&PAYLOAD_PATHS);
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
                && same_str(path[depth - 1], "spec")
                && (same_str(key, "resource")
                    || same_str(key, "monitoring")
                    || same_str(key, "bootstrap"))
            {
                inside = true;
            } else if inside {
                let mut object = false;
                let mut k = 0;
                while k < NODE_KEYS.objects.len() {
                    object = object || same_str(key, NODE_KEYS.objects[k]);
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
            if depth > 0 && same_str(path[depth - 1], "userInfo") {
                break;
            }
            unique[depth] |= 1 << i;
            if same_str(key, "resource")
                || same_str(key, "monitoring")
                || same_str(key, "bootstrap")
            {
                break;
            }
            depth += 1;
        }
        i += 1;
    }
    unique
}

impl<'a> ValidationPayload<'a> {
    /// Reads the payload in one pass: `Absent` for `null`, `Mistyped` for
    /// another JSON type than an object; an error only for what is not JSON
    /// (or repeats a field of a fixed object shape, as serde's structs do).
    /// `settings`: what the settings layer reads of `settings`.
    pub fn from_json(
        json: &'a [u8],
        settings: &'static TreeShape,
    ) -> Result<Field<ValidationPayload<'a>>, crate::json::Error> {
        let walk = Walk {
            capture: Some(("settings", settings)),
            unique: &PAYLOAD_UNIQUE,
            nested: &PAYLOAD_NODE_DOCS,
            nested_keys: NODE_KEYS,
            ..Walk::default()
        };
        let Walked {
            root,
            picked: mut p,
            captured,
            ..
        } = walk_json(json, &PAYLOAD_TABLE, walk)?;
        match root {
            Root::Null => return Ok(Field::Absent),
            Root::Other(found) => return Ok(Field::Mistyped(found)),
            Root::Object => {}
        }
        let at =
            |p: &[Picked], i: usize, depth: usize| p[i].object_at(depth, PAYLOAD_PATHS[i].len());
        let (request, kind) = (at(&p, KIND_GROUP, 1), at(&p, KIND_GROUP, 2));
        let (object, old_object) = (at(&p, OBJECT + NAME, 2), at(&p, OLD_OBJECT + NAME, 2));
        let old = ObjectDoc {
            shape: old_object,
            picked: p.split_off(OLD_OBJECT),
            depth: 2,
        };
        let new = ObjectDoc {
            shape: object,
            picked: p.split_off(OBJECT),
            depth: 2,
        };
        let fields = AdmissionRequest {
            kind: GroupVersionKind {
                shape: kind,
                group: p[KIND_GROUP].string_field(),
                kind: p[KIND_KIND].string_field(),
            },
            sub_resource: p[SUB_RESOURCE].string_field(),
            operation: p[OPERATION].string_field(),
            name: p[REQUEST_NAME].string_field(),
            object: new,
            old_object: old,
            namespace: p[NAMESPACE].string_field(),
            username: p[USERNAME].string_field(),
        };
        Ok(Field::Present(ValidationPayload {
            request,
            fields,
            settings: captured,
        }))
    }
}

impl<'a> ObjectDoc<'a> {
    /// Reads one object on its own (what is not an object reads as an
    /// empty one).
    pub fn from_json(json: &'a [u8]) -> Result<ObjectDoc<'a>, crate::json::Error> {
        let walk = Walk {
            unique: &OBJECT_UNIQUE,
            nested: &OBJECT_NODE_DOCS,
            nested_keys: NODE_KEYS,
            ..Walk::default()
        };
        let walked = walk_json(json, &OBJECT_TABLE, walk)?;
        let shape = match walked.root {
            Root::Null => Field::Absent,
            Root::Object => Field::Present(()),
            Root::Other(found) => Field::Mistyped(found),
        };
        Ok(ObjectDoc {
            shape,
            picked: walked.picked,
            depth: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_tables_are_the_tries_of_their_paths() {
        crate::json::assert_is_the_trie_of_its_paths(&PAYLOAD_TABLE);
        crate::json::assert_is_the_trie_of_its_paths(&OBJECT_TABLE);
    }

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
        assert_eq!(doc.object(ObjectDoc::GATEWAY, 3), Field::Present(()));
        assert_eq!(doc.text(ObjectDoc::GATEWAY), Ok(Some("1Gi")));
    }
}
