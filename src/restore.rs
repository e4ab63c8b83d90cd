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

use std::borrow::Cow;

use serde::Deserialize;

use crate::cluster::{Cluster, GetResource, Unreadable};
use crate::document::ResolvedBinary;
use crate::findings::{Advice, Findings, Violation};
use crate::json::{Field, Found};
use crate::object_shape;
use crate::request::{BootstrapDoc, NamedRefDoc};
use crate::version::Operand;

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

/// `spec.bootstrap.recovery.{backup,persistentVolume}.name` as [`RestoreSource::of`]
/// picks them, every mistyped field passed to `report(path, found, expected)`.
pub fn read_source<'a>(
    bootstrap: &'a Field<BootstrapDoc<'a>>,
    report: &mut impl FnMut(&str, &Found, &str),
) -> Option<RestoreSource<'a>> {
    let recovery = match bootstrap {
        Field::Present(bootstrap) => match &bootstrap.recovery {
            Field::Present(recovery) => recovery,
            Field::Mistyped(found) => {
                report("spec.bootstrap.recovery", found, "an object");
                return None;
            }
            Field::Absent => return None,
        },
        Field::Mistyped(found) => {
            report("spec.bootstrap", found, "an object");
            return None;
        }
        Field::Absent => return None,
    };
    let mut name = |reference: &'a Field<NamedRefDoc<'a>>, path: &str| match reference {
        Field::Present(reference) => match reference.name.text() {
            Ok(name) => name,
            Err(found) => {
                report(&format!("{path}.name"), found, "a string");
                None
            }
        },
        Field::Mistyped(found) => {
            report(path, found, "an object");
            None
        }
        Field::Absent => None,
    };
    let backup = name(&recovery.backup, SourceKind::Backup.field_path());
    let persistent_volume = name(
        &recovery.persistent_volume,
        SourceKind::PersistentVolume.field_path(),
    );
    RestoreSource::of(backup, persistent_volume)
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
        Ok(answer) => match source.kind {
            SourceKind::Backup => backup_schema(&answer),
            SourceKind::PersistentVolume => persistent_volume_schema(&answer),
        },
    }
}

// The host's answers, reduced to the one field read; wrong types are
// recorded (Field), never a parse failure.

#[derive(Debug, Default, Deserialize)]
struct BackupAnswer<'a> {
    #[serde(borrow, default)]
    kind: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Field<BackupStatus<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct BackupStatus<'a> {
    #[serde(borrow, default, rename = "schemaVersion")]
    schema_version: Field<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct PersistentVolumeAnswer<'a> {
    #[serde(borrow, default)]
    kind: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Field<PersistentVolumeMetadata<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct PersistentVolumeMetadata<'a> {
    #[serde(borrow, default)]
    annotations: Field<SchemaAnnotation<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct SchemaAnnotation<'a> {
    #[serde(borrow, default, rename = "documentdb.io/schema-version")]
    schema_version: Field<Cow<'a, str>>,
}

object_shape!(
    BackupAnswer,
    BackupStatus,
    PersistentVolumeAnswer,
    PersistentVolumeMetadata,
    SchemaAnnotation,
);

/// The answer as an object of the expected kind, or why not.
fn parse_answer<'a, T: crate::json::Shape<'a>>(
    answer: &'a [u8],
    kind_of: impl Fn(&T) -> &Field<Cow<'a, str>>,
    expected_kind: &'static str,
) -> Result<T, Unreadable> {
    let parsed = match serde_json::from_slice::<Field<T>>(answer) {
        Ok(Field::Present(parsed)) => parsed,
        Ok(Field::Absent) => {
            return Err(Unreadable::NotAnObject {
                found: None,
                expected: "an object",
            });
        }
        Ok(Field::Mistyped(found)) => {
            return Err(Unreadable::NotAnObject {
                found: Some(found),
                expected: "an object",
            });
        }
        Err(e) => return Err(Unreadable::NotJson(e.to_string())),
    };
    match kind_of(&parsed).text() {
        Ok(None) => {}
        Ok(Some(kind)) if kind == expected_kind => {}
        Ok(Some(kind)) => {
            return Err(Unreadable::WrongKind {
                found: kind.to_owned(),
                expected: expected_kind,
            });
        }
        Err(found) => return Err(mistyped("kind", found, "a string")),
    }
    Ok(parsed)
}

fn mistyped(path: &'static str, found: &Found, expected: &'static str) -> Unreadable {
    Unreadable::Mistyped {
        path,
        found: found.clone(),
        expected,
    }
}

fn recorded(field: &Field<Cow<str>>, path: &'static str) -> SourceSchema {
    match field.text() {
        Ok(Some(schema)) => SourceSchema::Recorded(schema.to_owned()),
        Ok(None) => SourceSchema::NotRecorded,
        Err(found) => SourceSchema::Unreadable(mistyped(path, found, "a string")),
    }
}

fn backup_schema(answer: &[u8]) -> SourceSchema {
    let backup = match parse_answer(answer, |b: &BackupAnswer| &b.kind, BACKUP_KIND) {
        Ok(backup) => backup,
        Err(why) => return SourceSchema::Unreadable(why),
    };
    match &backup.status {
        Field::Present(status) => recorded(&status.schema_version, "status.schemaVersion"),
        Field::Absent => SourceSchema::NotRecorded,
        Field::Mistyped(found) => SourceSchema::Unreadable(mistyped("status", found, "an object")),
    }
}

fn persistent_volume_schema(answer: &[u8]) -> SourceSchema {
    let pv = match parse_answer(
        answer,
        |pv: &PersistentVolumeAnswer| &pv.kind,
        PERSISTENT_VOLUME_KIND,
    ) {
        Ok(pv) => pv,
        Err(why) => return SourceSchema::Unreadable(why),
    };
    let annotations = match &pv.metadata {
        Field::Present(metadata) => &metadata.annotations,
        Field::Absent => return SourceSchema::NotRecorded,
        Field::Mistyped(found) => {
            return SourceSchema::Unreadable(mistyped("metadata", found, "an object"));
        }
    };
    match annotations {
        Field::Present(annotations) => recorded(
            &annotations.schema_version,
            "metadata.annotations[\"documentdb.io/schema-version\"]",
        ),
        Field::Absent => SourceSchema::NotRecorded,
        Field::Mistyped(found) => {
            SourceSchema::Unreadable(mistyped("metadata.annotations", found, "an object"))
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
#[path = "restore_tests.rs"]
mod tests;
