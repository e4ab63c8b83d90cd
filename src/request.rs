//! The wire model: the `validate` payload the engine sends, reduced to the
//! fields the policy reads. Everything else (managedFields, annotations, the
//! rest of the spec) is skipped while parsing, never materialised.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};

use crate::json::{Field, NonEmpty, Scalar, Shape};
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
    // --- context-aware checks ---
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
    /// Set only on objects the API server has stored: the background audit
    /// replays them as CREATEs, a real creation never carries one.
    #[serde(borrow, default, rename = "resourceVersion")]
    pub resource_version: Field<Cow<'a, str>>,
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
    pub resource: Field<Box<NodeDoc<'a>>>,
    #[serde(borrow, default)]
    pub monitoring: Field<Box<NodeDoc<'a>>>,
    #[serde(borrow, default)]
    pub bootstrap: Field<Box<NodeDoc<'a>>>,
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

/// Any object under `spec.resource`, `spec.monitoring` and `spec.bootstrap`
/// (the resource envelope, storage, containers, monitoring, recovery and its
/// references), as one type with every key the rules read in any of them:
/// each distinct object type costs the module ~3 KB of parser code. Which
/// keys are meaningful where is `DocumentDb::read`'s business.
#[derive(Debug, Default)]
pub struct NodeDoc<'a> {
    pub memory: Field<Cow<'a, str>>,
    pub cpu: Field<Cow<'a, str>>,
    pub pvc_size: Field<Cow<'a, str>>,
    pub name: Field<Cow<'a, str>>,
    pub enabled: Field<Scalar<'a>>,
    pub storage: Field<Box<NodeDoc<'a>>>,
    pub gateway: Field<Box<NodeDoc<'a>>>,
    pub database: Field<Box<NodeDoc<'a>>>,
    pub otel: Field<Box<NodeDoc<'a>>>,
    pub recovery: Field<Box<NodeDoc<'a>>>,
    pub backup: Field<Box<NodeDoc<'a>>>,
    pub persistent_volume: Field<Box<NodeDoc<'a>>>,
}

/// Read by hand rather than derived (a derive costs a deserializer per type);
/// unknown keys are skipped and a repeated key keeps its last value, as in
/// Go's decoder.
impl<'de: 'a, 'a> Shape<'de> for Box<NodeDoc<'a>> {
    fn from_map<A: MapAccess<'de>>(map: &mut A) -> Result<Option<Self>, A::Error> {
        let mut node = Box::<NodeDoc>::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "memory" => node.memory = map.next_value()?,
                "cpu" => node.cpu = map.next_value()?,
                "pvcSize" => node.pvc_size = map.next_value()?,
                "name" => node.name = map.next_value()?,
                "enabled" => node.enabled = map.next_value()?,
                "storage" => node.storage = map.next_value()?,
                "gateway" => node.gateway = map.next_value()?,
                "database" => node.database = map.next_value()?,
                "otel" => node.otel = map.next_value()?,
                "recovery" => node.recovery = map.next_value()?,
                "backup" => node.backup = map.next_value()?,
                "persistentVolume" => node.persistent_volume = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(node))
    }
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

// --- context-aware checks ---

/// `userInfo`, walked for `username` ([`crate::walk`]: no struct per level).
#[derive(Debug, Default)]
pub struct UserInfoDoc<'a>(pub Walked<'a>);

pub const USER_INFO_PATHS: &[Path] = &[&["username"]];

impl<'de: 'a, 'a> Deserialize<'de> for UserInfoDoc<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        walk(deserializer, USER_INFO_PATHS).map(UserInfoDoc)
    }
}

// --- end context-aware checks ---
