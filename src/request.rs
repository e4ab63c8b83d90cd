//! The wire model: the `validate` payload the engine sends, reduced to the
//! fields the policy reads. Everything else (managedFields, annotations, the
//! rest of the spec) is skipped while parsing, never materialised.

use std::borrow::Cow;

use serde::Deserialize;

use crate::json::{Field, NonEmpty};
use crate::object_shape;
use crate::settings::{ParsedSettings, Settings};

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
    #[serde(borrow, default)]
    pub resource: Field<ResourceDoc<'a>>,
    #[serde(default)]
    pub monitoring: Field<MonitoringDoc>,
    #[serde(borrow, default)]
    pub bootstrap: Field<BootstrapDoc<'a>>,
}

/// `spec.resource`: the pod envelope, the three containers and the storage.
#[derive(Debug, Default, Deserialize)]
pub struct ResourceDoc<'a> {
    #[serde(borrow, default)]
    pub memory: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub cpu: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub storage: Field<StorageDoc<'a>>,
    #[serde(borrow, default)]
    pub gateway: Field<ContainerDoc<'a>>,
    #[serde(borrow, default)]
    pub database: Field<ContainerDoc<'a>>,
    #[serde(borrow, default)]
    pub otel: Field<ContainerDoc<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StorageDoc<'a> {
    #[serde(borrow, default, rename = "pvcSize")]
    pub pvc_size: Field<Cow<'a, str>>,
}

/// `spec.resource.{gateway,database,otel}`.
#[derive(Debug, Default, Deserialize)]
pub struct ContainerDoc<'a> {
    #[serde(borrow, default)]
    pub memory: Field<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub cpu: Field<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MonitoringDoc {
    #[serde(default)]
    pub enabled: Field<bool>,
}

/// `spec.bootstrap`, every field of the operator's Go type (read whole: the
/// rule compares it as a value).
#[derive(Debug, Default, Deserialize)]
pub struct BootstrapDoc<'a> {
    #[serde(borrow, default)]
    pub recovery: Field<RecoveryDoc<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RecoveryDoc<'a> {
    #[serde(borrow, default)]
    pub backup: Field<NameDoc<'a>>,
    #[serde(borrow, default, rename = "persistentVolume")]
    pub persistent_volume: Field<NameDoc<'a>>,
}

/// An object whose one field is `name` (a backup or volume reference).
#[derive(Debug, Default, Deserialize)]
pub struct NameDoc<'a> {
    #[serde(borrow, default)]
    pub name: Field<Cow<'a, str>>,
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
    ResourceDoc,
    StorageDoc,
    ContainerDoc,
    BootstrapDoc,
    RecoveryDoc,
    NameDoc,
);

impl<'de> crate::json::Shape<'de> for MonitoringDoc {
    fn from_map<A: serde::de::MapAccess<'de>>(map: &mut A) -> Result<Option<Self>, A::Error> {
        Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}
