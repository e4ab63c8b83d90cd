//! Where a restore draws its data, and so its extension schema, from: a Backup
//! or a retained PersistentVolume named in `spec.bootstrap.recovery`, and the
//! constants that name those resources. Reading them is the cluster layer's
//! (`cluster::restore`), judging them the rule's (`rules::restore`).

pub const BACKUP_API_VERSION: &str = "documentdb.io/preview";
pub const BACKUP_KIND: &str = "Backup";
pub const PERSISTENT_VOLUME_API_VERSION: &str = "v1";
pub const PERSISTENT_VOLUME_KIND: &str = "PersistentVolume";
/// The annotation the operator's PV controller stamps (`util.AnnotationSchemaVersion`).
pub const SCHEMA_VERSION_ANNOTATION: &str = "documentdb.io/schema-version";

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
    pub fn schema_origin(self) -> &'static str {
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
}
