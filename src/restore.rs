//! The restore check (CREATE): a new DocumentDB that bootstraps from a Backup or
//! a retained PersistentVolume inherits that source's installed extension
//! schema, so its binary must not be older than that schema. Upstream's
//! `validateRestoreSchemaCompatibility` (documentdb-kubernetes-operator PR #440):
//! the Backup controller records the source's schema in the Backup's
//! `status.schemaVersion`, the PV controller stamps the PersistentVolume's
//! annotation `documentdb.io/schema-version`.
//!
//! Only a known binary older than a known schema is denied; everything the
//! policy cannot establish (source missing or unreadable, no recorded schema,
//! binary unknown, versions not comparable) is a warning, never a denial and
//! never a failed request.

use crate::cluster::{Cluster, GetResource, Unreadable};
use crate::document::ResolvedBinary;
use crate::findings::{Advice, Findings, Violation};
use crate::json::Found;
use crate::version::Operand;
use crate::walk::{Path, Picked, Root, walk_json};

pub const BACKUP_API_VERSION: &str = "documentdb.io/preview";
pub const BACKUP_KIND: &str = "Backup";
pub const PERSISTENT_VOLUME_API_VERSION: &str = "v1";
pub const PERSISTENT_VOLUME_KIND: &str = "PersistentVolume";
/// The annotation the operator's PV controller stamps (`util.AnnotationSchemaVersion`).
pub const SCHEMA_VERSION_ANNOTATION: &str = "documentdb.io/schema-version";

/// What the host is asked to keep of each source. policy-evaluator prunes the
/// object's body to these paths and always keeps `apiVersion`, `kind` and
/// `metadata`; for the PersistentVolume the mask drops the spec and status.
pub const BACKUP_FIELD_MASKS: &[&str] = &["status.schemaVersion"];
pub const PERSISTENT_VOLUME_FIELD_MASKS: &[&str] = &["metadata.annotations"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Backup,
    PersistentVolume,
}

impl SourceKind {
    /// As upstream prints it: `backup` in lower case, `PersistentVolume` as the kind.
    pub fn noun(self) -> &'static str {
        match self {
            SourceKind::Backup => "backup",
            SourceKind::PersistentVolume => "PersistentVolume",
        }
    }

    /// The field a denial is reported on.
    pub fn field_path(self) -> &'static str {
        match self {
            SourceKind::Backup => "spec.bootstrap.recovery.backup",
            SourceKind::PersistentVolume => "spec.bootstrap.recovery.persistentVolume",
        }
    }

    /// Where the schema version was read, for a comparison error.
    fn schema_origin(self) -> &'static str {
        match self {
            SourceKind::Backup => "the backup's status.schemaVersion",
            SourceKind::PersistentVolume => {
                "the PersistentVolume's documentdb.io/schema-version annotation"
            }
        }
    }
}

/// Where a restore draws its data (and so its schema) from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreSource<'a> {
    pub kind: SourceKind,
    pub name: &'a str,
}

impl<'a> RestoreSource<'a> {
    /// Upstream's `restoreSourceFor`: `spec.bootstrap.recovery.backup.name`
    /// when set, else `spec.bootstrap.recovery.persistentVolume.name`; `None`
    /// (no check) without either. Empty names count as unset.
    pub fn of(backup: Option<&'a str>, persistent_volume: Option<&'a str>) -> Option<Self> {
        match (backup, persistent_volume) {
            (Some(name), _) => Some(RestoreSource {
                kind: SourceKind::Backup,
                name,
            }),
            (None, Some(name)) => Some(RestoreSource {
                kind: SourceKind::PersistentVolume,
                name,
            }),
            (None, None) => None,
        }
    }

    /// The host call that reads this source; `None` for a Backup without a
    /// namespace to look in.
    pub fn request(&self, namespace: Option<&'a str>) -> Option<GetResource<'a>> {
        Some(match self.kind {
            SourceKind::Backup => GetResource {
                api_version: BACKUP_API_VERSION,
                kind: BACKUP_KIND,
                name: self.name,
                namespace: Some(namespace?),
                disable_cache: false,
                field_masks: Some(BACKUP_FIELD_MASKS),
            },
            SourceKind::PersistentVolume => GetResource {
                api_version: PERSISTENT_VOLUME_API_VERSION,
                kind: PERSISTENT_VOLUME_KIND,
                name: self.name,
                namespace: None,
                disable_cache: false,
                field_masks: Some(PERSISTENT_VOLUME_FIELD_MASKS),
            },
        })
    }
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
    let Some(request) = source.request(namespace) else {
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
    let (paths, expected_kind) = match kind {
        SourceKind::Backup => (BACKUP_PATHS, BACKUP_KIND),
        SourceKind::PersistentVolume => (PERSISTENT_VOLUME_PATHS, PERSISTENT_VOLUME_KIND),
    };
    let walked = match walk_json(answer, paths, None) {
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
    match &walked.picked[0] {
        Picked::Text(found) if *found != expected_kind => {
            return SourceSchema::Unreadable(Unreadable::WrongKind {
                found: found.to_string(),
                expected: expected_kind,
            });
        }
        Picked::Mistyped { depth, found } => {
            return SourceSchema::Unreadable(mistyped(paths[0], *depth, found));
        }
        _ => {}
    }
    match &walked.picked[1] {
        Picked::Text(schema) => SourceSchema::Recorded(schema.to_string()),
        Picked::Absent => SourceSchema::NotRecorded,
        Picked::Mistyped { depth, found } => {
            SourceSchema::Unreadable(mistyped(paths[1], *depth, found))
        }
    }
}

/// Upstream's `compareBinaryToSchema`, in its order: the source's schema
/// first, then the binary, then the comparison. Only a known binary older
/// than a known schema is a violation; every other gap is advice.
pub fn judge<'a>(
    source: RestoreSource<'a>,
    schema: SourceSchema,
    binary: ResolvedBinary<'a>,
    findings: &mut Findings<'a>,
) {
    let schema = match schema {
        SourceSchema::Recorded(schema) => schema,
        SourceSchema::NotRecorded => {
            return findings
                .advice
                .push(Advice::RestoreSourceWithoutSchema { source });
        }
        SourceSchema::NotFound => {
            return findings
                .advice
                .push(Advice::RestoreSourceNotFound { source });
        }
        SourceSchema::Unreadable(reason) => {
            return findings
                .advice
                .push(Advice::RestoreSourceUnreadable { source, reason });
        }
    };
    let binary = match binary {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(_) => {
            return findings
                .advice
                .push(Advice::RestoreTargetUnknown { source, schema });
        }
    };
    let schema_operand = Operand {
        text: &schema,
        origin: source.kind.schema_origin(),
    };
    let versions = Operand::from(binary)
        .parse()
        .and_then(|binary| Ok((binary, schema_operand.parse()?)));
    match versions {
        Err(error) => findings.advice.push(Advice::RestoreNotComparable {
            source,
            binary: binary.text,
            error,
            schema,
        }),
        Ok((binary, schema)) if binary < schema => {
            findings.violations.push(Violation::RestoreBlocked {
                source,
                binary,
                schema,
            })
        }
        Ok(_) => {}
    }
}

/// The restore check on one object: read the source, then [`judge`].
pub fn check<'a>(
    cluster: &dyn Cluster,
    source: RestoreSource<'a>,
    namespace: Option<&str>,
    binary: ResolvedBinary<'a>,
    findings: &mut Findings<'a>,
) {
    let schema = read_source_schema(cluster, source, namespace);
    judge(source, schema, binary, findings);
}

#[cfg(test)]
mod tests;
