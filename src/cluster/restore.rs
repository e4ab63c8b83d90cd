//! Reading a restore source's recorded schema (`kubernetes/get_resource`): a
//! Backup's `status.schemaVersion`, a PersistentVolume's
//! `documentdb.io/schema-version` annotation. No judgement: `rules::restore`
//! decides.

use crate::cluster::{Cluster, GetResource, Unreadable};
use crate::json::{Found, Path, PathTable, Root, Walk, path_table, walk_json};
use crate::model::restore::{
    BACKUP_API_VERSION, BACKUP_KIND, PERSISTENT_VOLUME_API_VERSION, PERSISTENT_VOLUME_KIND,
    RestoreSource, SCHEMA_VERSION_ANNOTATION, SourceKind,
};

/// What the host is asked to keep of each source. policy-evaluator prunes the
/// object's body to these paths and always keeps `apiVersion`, `kind` and
/// `metadata`; for the PersistentVolume the mask drops the spec and status.
pub const BACKUP_FIELD_MASKS: &[&str] = &["status.schemaVersion"];
pub const PERSISTENT_VOLUME_FIELD_MASKS: &[&str] = &["metadata.annotations"];

/// The host call that reads `source`; `None` for a Backup without a
/// namespace to look in.
pub fn source_request<'a>(
    source: &RestoreSource<'a>,
    namespace: Option<&'a str>,
) -> Option<GetResource<'a>> {
    Some(match source.kind {
        SourceKind::Backup => GetResource {
            api_version: BACKUP_API_VERSION,
            kind: BACKUP_KIND,
            name: source.name,
            namespace: Some(namespace?),
            disable_cache: false,
            field_masks: Some(BACKUP_FIELD_MASKS),
        },
        SourceKind::PersistentVolume => GetResource {
            api_version: PERSISTENT_VOLUME_API_VERSION,
            kind: PERSISTENT_VOLUME_KIND,
            name: source.name,
            namespace: None,
            disable_cache: false,
            field_masks: Some(PERSISTENT_VOLUME_FIELD_MASKS),
        },
    })
}

/// The source's schema version, as far as the cluster tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSchema {
    /// As recorded (not necessarily a valid version: the comparison says).
    Recorded(String),
    /// The source exists but records none (backups taken before the operator
    /// recorded it, PVs never stamped).
    NotRecorded,
    NotFound,
    /// Any other failure, and answers the policy cannot read.
    Unreadable(Unreadable),
}

/// Reads the schema version of `source` (a Backup in `namespace`, or a
/// cluster-scoped PersistentVolume) through `cluster`.
pub fn read_source_schema(
    cluster: &dyn Cluster,
    source: RestoreSource,
    namespace: Option<&str>,
) -> SourceSchema {
    let Some(request) = source_request(&source, namespace) else {
        return SourceSchema::Unreadable(Unreadable::NoNamespace);
    };
    match cluster.get_resource(&request) {
        Err(error) if error.is_not_found(&request) => SourceSchema::NotFound,
        Err(error) => SourceSchema::Unreadable(Unreadable::Host(error)),
        Ok(answer) => answered_schema(&answer, source.kind),
    }
}

/// What the policy reads of each source: its kind, and the recorded schema.
const BACKUP_PATHS: &[Path] = &[&["kind"], &["status", "schemaVersion"]];
const PERSISTENT_VOLUME_PATHS: &[Path] = &[
    &["kind"],
    &["metadata", "annotations", SCHEMA_VERSION_ANNOTATION],
];
const BACKUP_TABLE: PathTable = path_table!(BACKUP_PATHS);
const PERSISTENT_VOLUME_TABLE: PathTable = path_table!(PERSISTENT_VOLUME_PATHS);

/// A mistyped value at the first `depth` keys of `path`.
fn mistyped(path: Path, depth: usize, found: &Found) -> Unreadable {
    Unreadable::Mistyped {
        path,
        depth,
        found: found.clone(),
        expected: if depth == path.len() {
            "a string"
        } else {
            "an object"
        },
    }
}

/// The host's answer for a source of `kind`: its recorded schema, or why it
/// cannot be read. Wrong types anywhere on the way are named, never a failure.
fn answered_schema(answer: &[u8], kind: SourceKind) -> SourceSchema {
    let (table, expected_kind) = match kind {
        SourceKind::Backup => (&BACKUP_TABLE, BACKUP_KIND),
        SourceKind::PersistentVolume => (&PERSISTENT_VOLUME_TABLE, PERSISTENT_VOLUME_KIND),
    };
    let paths = table.paths;
    let walked = match walk_json(answer, table, Walk::default()) {
        Ok(walked) => walked,
        Err(e) => return SourceSchema::Unreadable(Unreadable::NotJson(e.to_string())),
    };
    let not_an_object = |found: Option<&Found>| {
        SourceSchema::Unreadable(Unreadable::NotAnObject {
            found: found.cloned(),
            expected: "an object",
        })
    };
    match &walked.root {
        Root::Null => return not_an_object(None),
        Root::Other(found) => return not_an_object(Some(found)),
        Root::Object => {}
    }
    match walked.picked[0].string(paths[0].len()) {
        Ok(Some(found)) if found != expected_kind => {
            return SourceSchema::Unreadable(Unreadable::WrongKind {
                found: found.to_string(),
                expected: expected_kind,
            });
        }
        Err((depth, found)) => {
            return SourceSchema::Unreadable(mistyped(paths[0], depth, &found));
        }
        Ok(_) => {}
    }
    match walked.picked[1].string(paths[1].len()) {
        Ok(Some(schema)) => SourceSchema::Recorded(schema.to_string()),
        Ok(None) => SourceSchema::NotRecorded,
        Err((depth, found)) => SourceSchema::Unreadable(mistyped(paths[1], depth, &found)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_path_tables_are_the_tries_of_their_paths() {
        crate::json::assert_is_the_trie_of_its_paths(&super::BACKUP_TABLE);
        crate::json::assert_is_the_trie_of_its_paths(&super::PERSISTENT_VOLUME_TABLE);
    }
}
