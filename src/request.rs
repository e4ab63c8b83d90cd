//! The wire model: the `validate` payload the engine sends, reduced to the
//! fields the policy reads. Everything else (managedFields, annotations, the
//! rest of the spec) is skipped while parsing, never materialised.

use std::borrow::Cow;

use serde::Deserialize;

use crate::json::{Field, NonEmpty};
use crate::object_shape;
use crate::settings::{ParsedSettings, Settings};
use crate::walk::{Path, Walked, walk};

/// `{"request": <AdmissionRequest>, "settings": <settings object>}`.
#[derive(Debug, Deserialize)]
pub struct ValidationPayload<'a> {
    #[serde(borrow, default)]
    pub request: Field<AdmissionRequest<'a>>,
    #[serde(default = "default_settings")]
    pub settings: ParsedSettings,
}

fn default_settings() -> ParsedSettings {
    ParsedSettings(Ok(Settings::default()))
}

/// The AdmissionRequest as the engine re-serialises it (camelCase).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest<'a> {
    #[serde(borrow, default)]
    pub kind: Field<GroupVersionKind<'a>>,
    #[serde(borrow, default)]
    pub sub_resource: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub operation: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub name: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub object: Field<ObjectDoc<'a>>,
    #[serde(borrow, default)]
    pub old_object: Field<ObjectDoc<'a>>,
    // --- context-aware checks (issue 12) ---
    /// Where the restore check looks a Backup up.
    #[serde(borrow, default)]
    pub namespace: Field<Cow<'a, str>>,
    /// Who writes: the status guard's `statusWriters`.
    #[serde(borrow, default)]
    pub user_info: UserInfoDoc<'a>,
    // --- end context-aware checks ---
}

/// Group and kind only: every API version of the kind is validated (the
/// metadata's rules select `preview`).
#[derive(Debug, Default, Deserialize)]
pub struct GroupVersionKind<'a> {
    #[serde(borrow, default)]
    pub group: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub kind: Field<Cow<'a, str>>,
}

/// A DocumentDB object (`object` or `oldObject`), as far as the rules read it.
#[derive(Debug, Default, Deserialize)]
pub struct ObjectDoc<'a> {
    #[serde(borrow, default)]
    pub metadata: Field<MetadataDoc<'a>>,
    #[serde(borrow, default)]
    pub spec: Field<SpecDoc<'a>>,
    #[serde(borrow, default)]
    pub status: Field<StatusDoc<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MetadataDoc<'a> {
    #[serde(borrow, default)]
    pub name: Field<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SpecDoc<'a> {
    #[serde(borrow, default, rename = "schemaVersion")]
    pub schema_version: Field<Cow<'a, str>>,
    #[serde(borrow, default, rename = "documentDBVersion")]
    pub documentdb_version: Field<Cow<'a, str>>,
    /// Released (nested) shape: `spec.image.documentDB`.
    #[serde(borrow, default)]
    pub image: Field<ImageDoc<'a>>,
    /// Older flat shape: `spec.documentDBImage`.
    #[serde(borrow, default, rename = "documentDBImage")]
    pub documentdb_image: Field<Cow<'a, str>>,
    #[serde(default, rename = "clusterReplication")]
    pub cluster_replication: Field<NonEmpty>,
    // --- context-aware checks (issue 12) ---
    /// `spec.bootstrap.recovery.{backup,persistentVolume}.name`: the restore check.
    #[serde(borrow, default)]
    pub bootstrap: BootstrapDoc<'a>,
    // --- end context-aware checks ---
}

#[derive(Debug, Default, Deserialize)]
pub struct ImageDoc<'a> {
    #[serde(borrow, default, rename = "documentDB")]
    pub documentdb: Field<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusDoc<'a> {
    #[serde(borrow, default, rename = "schemaVersion")]
    pub schema_version: Field<Cow<'a, str>>,
}

object_shape!(
    ValidationPayload,
    AdmissionRequest,
    GroupVersionKind,
    ObjectDoc,
    MetadataDoc,
    SpecDoc,
    ImageDoc,
    StatusDoc,
);

// --- context-aware checks (issue 12) ---

/// `userInfo`, walked for `username` ([`crate::walk`]: no struct per level).
#[derive(Debug, Default)]
pub struct UserInfoDoc<'a>(pub Walked<'a>);

pub const USER_INFO_PATHS: &[Path] = &[&["username"]];

/// `spec.bootstrap`, walked for the restore source's name.
#[derive(Debug, Default)]
pub struct BootstrapDoc<'a>(pub Walked<'a>);

/// `recovery.backup.name`, `recovery.persistentVolume.name`.
pub const BOOTSTRAP_PATHS: &[Path] = &[
    &["recovery", "backup", "name"],
    &["recovery", "persistentVolume", "name"],
];

impl<'de: 'a, 'a> Deserialize<'de> for UserInfoDoc<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        walk(deserializer, USER_INFO_PATHS).map(UserInfoDoc)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BootstrapDoc<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        walk(deserializer, BOOTSTRAP_PATHS).map(BootstrapDoc)
    }
}

// --- end context-aware checks ---
