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
use std::fmt;

use serde::Deserialize;

use crate::cluster::{Cluster, GetResource};
use crate::document::ResolvedBinary;
use crate::json::{Field, Found};
use crate::message::quote;
use crate::object_shape;
use crate::version::{ComparisonError, ExtensionVersion, Operand, shown};

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
    /// Any other failure, and answers the policy cannot read: why.
    Unreadable(String),
}

/// Reads the schema version of `source` (a Backup in `namespace`, or a
/// cluster-scoped PersistentVolume) through `cluster`.
pub fn read_source_schema(
    cluster: &dyn Cluster,
    source: RestoreSource,
    namespace: Option<&str>,
) -> SourceSchema {
    let Some(request) = source.request(namespace) else {
        return SourceSchema::Unreadable(
            "the admission request names no namespace to look the backup up in".to_owned(),
        );
    };
    match cluster.get_resource(&request) {
        Err(error) if error.is_not_found(&request) => SourceSchema::NotFound,
        Err(error) => SourceSchema::Unreadable(error.shown()),
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
    expected_kind: &str,
) -> Result<T, String> {
    let parsed = match serde_json::from_slice::<Field<T>>(answer) {
        Ok(Field::Present(parsed)) => parsed,
        Ok(Field::Absent) => return Err("the host answered null".to_owned()),
        Ok(Field::Mistyped(found)) => {
            return Err(format!(
                "the host answered {}, not an object",
                found.describe()
            ));
        }
        Err(e) => return Err(format!("the host's answer is not valid JSON: {e}")),
    };
    match kind_of(&parsed).text() {
        Ok(None) => {}
        Ok(Some(kind)) if kind == expected_kind => {}
        Ok(Some(kind)) => {
            return Err(format!(
                "the host answered a {} object, not a {expected_kind}",
                quote(kind)
            ));
        }
        Err(found) => return Err(mistyped("kind", found, "a string")),
    }
    Ok(parsed)
}

fn mistyped(path: &str, found: &Found, expected: &str) -> String {
    format!("{path} must be {expected}, not {}", found.describe())
}

fn recorded(field: &Field<Cow<str>>, path: &str) -> SourceSchema {
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

/// What the restore check found; `None` from [`judge`] means compatible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreFinding<'a> {
    /// Denied: the binary is older than the source's schema.
    Blocked {
        source: RestoreSource<'a>,
        binary: ExtensionVersion,
        schema: ExtensionVersion,
    },
    SourceNotFound {
        source: RestoreSource<'a>,
    },
    SourceUnreadable {
        source: RestoreSource<'a>,
        reason: String,
    },
    NoRecordedSchema {
        source: RestoreSource<'a>,
    },
    TargetVersionUnknown {
        source: RestoreSource<'a>,
        schema: String,
    },
    NotComparable {
        source: RestoreSource<'a>,
        binary: &'a str,
        schema: String,
        error: ComparisonError,
    },
}

impl RestoreFinding<'_> {
    /// A denial (`field.Forbidden` on [`SourceKind::field_path`]); every other
    /// finding is a warning.
    pub fn is_denial(&self) -> bool {
        matches!(self, RestoreFinding::Blocked { .. })
    }

    pub fn source(&self) -> RestoreSource<'_> {
        match self {
            RestoreFinding::Blocked { source, .. }
            | RestoreFinding::SourceNotFound { source }
            | RestoreFinding::SourceUnreadable { source, .. }
            | RestoreFinding::NoRecordedSchema { source }
            | RestoreFinding::TargetVersionUnknown { source, .. }
            | RestoreFinding::NotComparable { source, .. } => *source,
        }
    }
}

/// Upstream's `compareBinaryToSchema`, in its order: the source's schema
/// first, then the binary, then the comparison.
pub fn judge<'a>(
    source: RestoreSource<'a>,
    schema: SourceSchema,
    binary: ResolvedBinary<'a>,
) -> Option<RestoreFinding<'a>> {
    let schema = match schema {
        SourceSchema::Recorded(schema) => schema,
        SourceSchema::NotRecorded => return Some(RestoreFinding::NoRecordedSchema { source }),
        SourceSchema::NotFound => return Some(RestoreFinding::SourceNotFound { source }),
        SourceSchema::Unreadable(reason) => {
            return Some(RestoreFinding::SourceUnreadable { source, reason });
        }
    };
    let binary = match binary {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(_) => {
            return Some(RestoreFinding::TargetVersionUnknown { source, schema });
        }
    };
    let schema_operand = Operand {
        text: &schema,
        origin: source.kind.schema_origin(),
    };
    let binary_operand = Operand::from(binary);
    let versions = binary_operand
        .parse()
        .and_then(|binary| Ok((binary, schema_operand.parse()?)));
    match versions {
        Err(error) => Some(RestoreFinding::NotComparable {
            source,
            binary: binary.text,
            error,
            schema,
        }),
        Ok((binary, schema)) if binary < schema => Some(RestoreFinding::Blocked {
            source,
            binary,
            schema,
        }),
        Ok(_) => None,
    }
}

/// The restore check on one object: read the source, then [`judge`].
pub fn check<'a>(
    cluster: &dyn Cluster,
    source: RestoreSource<'a>,
    namespace: Option<&str>,
    binary: ResolvedBinary<'a>,
) -> Option<RestoreFinding<'a>> {
    judge(
        source,
        read_source_schema(cluster, source, namespace),
        binary,
    )
}

/// Upstream's texts: the denial's detail (after `<field>: Forbidden: `) and
/// the warnings.
impl fmt::Display for RestoreFinding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.source().kind.noun();
        let name = quote(self.source().name);
        match self {
            RestoreFinding::Blocked { binary, schema, .. } => write!(
                f,
                "restore blocked: the target DocumentDB version {binary} is older than the {noun}'s schema version \
                 {schema}. Restoring onto an older DocumentDB version runs it against a newer, irreversible schema \
                 and may cause data corruption. Set spec.documentDBVersion (or spec.image.documentDB) to {schema} \
                 or newer."
            ),
            RestoreFinding::SourceNotFound { .. } => write!(
                f,
                "{noun} {name} not found: schema-version compatibility cannot be verified"
            ),
            RestoreFinding::SourceUnreadable { reason, .. } => write!(
                f,
                "failed to read {noun} {name}: schema-version compatibility cannot be verified: {reason}"
            ),
            RestoreFinding::NoRecordedSchema { .. } => write!(
                f,
                "{noun} {name} has no recorded schema version: schema-version compatibility cannot be verified; \
                 ensure the target DocumentDB version (spec.documentDBVersion or spec.image.documentDB) is >= the \
                 source's schema version to avoid data corruption"
            ),
            RestoreFinding::TargetVersionUnknown { schema, .. } => write!(
                f,
                "cannot determine the target DocumentDB version for restore from {noun} {name} (set \
                 spec.documentDBVersion or spec.image.documentDB): compatibility with the {noun}'s schema version \
                 {} cannot be verified",
                shown(schema)
            ),
            RestoreFinding::NotComparable {
                binary,
                schema,
                error,
                ..
            } => write!(
                f,
                "cannot compare the target DocumentDB version {} with the {noun}'s schema version {}: {error}; \
                 compatibility not verified",
                shown(binary),
                shown(schema)
            ),
        }
    }
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
