//! A DocumentDB object as the rules see it: every field read, typed, with the
//! two API shapes merged and "absent / null / empty" collapsed into `None`.

use crate::field_error::FieldError;
use crate::json::{Field, Found};
use crate::model::image::{ImageReference, UnversionedImage};
use crate::model::resources::{ContainerResources, PodResources};
use crate::model::restore::RestoreSource;
use crate::model::version::Operand;
use crate::wire::ObjectDoc;

/// `spec.schemaVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesiredSchema<'a> {
    /// Empty: two-phase upgrades, the schema moves only when set explicitly.
    TwoPhase,
    /// `auto`: the schema follows the binary.
    Auto,
    /// Anything else; whether it is a valid `X.Y.Z` is Rule A's format check.
    Explicit(&'a str),
}

/// Which field the extension image came from (messages name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageField {
    /// `spec.image.documentDB` (released shape).
    Nested,
    /// `spec.documentDBImage` (older flat shape).
    Flat,
}

impl ImageField {
    pub fn path(self) -> &'static str {
        match self {
            ImageField::Nested => "spec.image.documentDB",
            ImageField::Flat => "spec.documentDBImage",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionImage<'a> {
    pub reference: &'a str,
    pub field: ImageField,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDb<'a> {
    /// `metadata.name`.
    pub name: Option<&'a str>,
    /// `metadata.resourceVersion`: `Some` only on an object the API server has
    /// stored (an UPDATE's `oldObject`, an audit replay), never on a real CREATE.
    pub resource_version: Option<&'a str>,
    pub schema_version: DesiredSchema<'a>,
    /// `spec.documentDBVersion`, as written.
    pub documentdb_version: Option<&'a str>,
    /// The effective extension image: the nested field wins over the flat one.
    pub image: Option<ExtensionImage<'a>>,
    /// `spec.clusterReplication` is a non-empty object.
    pub cluster_replication: bool,
    /// `status.schemaVersion`: the schema installed in the database.
    pub installed_schema: Option<&'a str>,
    /// `spec.resource.{memory,cpu,gateway,database,otel}` as written (`""`
    /// when unset) and `spec.monitoring.enabled`.
    pub resources: PodResources<'a>,
    /// `spec.resource.storage.pvcSize` as written (`""` when unset).
    pub pvc_size: &'a str,
    /// `spec.bootstrap`; `None` when absent or null.
    pub bootstrap: Option<Bootstrap<'a>>,
    // --- context-aware checks ---
    /// `spec.bootstrap.recovery`: the Backup or PersistentVolume restored from.
    pub restore_source: Option<RestoreSource<'a>>,
    // --- end context-aware checks ---
}

/// `spec.bootstrap` as the operator's Go types hold it, so that `==` is
/// upstream's `reflect.DeepEqual`: what Go's decoder drops (unknown keys,
/// `null`) is not here, `recovery` and `persistentVolume` are pointers
/// (`None` ≠ `{}`), `backup` is a struct value (`{}` = absent = `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bootstrap<'a> {
    pub recovery: Option<Recovery<'a>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovery<'a> {
    /// `backup.name`; `""` when absent.
    pub backup: &'a str,
    /// `persistentVolume.name`, when `persistentVolume` is an object.
    pub persistent_volume: Option<&'a str>,
}

/// Where a binary version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOrigin {
    ImageTag(ImageField),
    DocumentDbVersion,
    DefaultSetting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinaryVersion<'a> {
    /// As written; parsed only when compared.
    pub text: &'a str,
    pub origin: BinaryOrigin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedBinary<'a> {
    Known(BinaryVersion<'a>),
    /// No version anywhere; when an image is set, why its tag gave none.
    Unknown(Option<UnversionedImage<'a>>),
}

impl<'a> DocumentDb<'a> {
    /// Reads `doc`, reporting every mistyped field; `prefix` is prepended to
    /// paths (`""` for the new object, `"oldObject."` for the stored one).
    pub fn read(doc: &'a ObjectDoc<'a>, prefix: &'static str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut report = |path: &str, found: &Found, expected: &str| {
            errors.push(FieldError::mistyped(
                format!("{prefix}{path}"),
                found,
                expected,
            ));
        };
        let string = "a string";

        let (mut name, mut resource_version) = (None, None);
        match doc.object(ObjectDoc::NAME, 1) {
            Field::Present(()) => {
                match doc.text(ObjectDoc::NAME) {
                    Ok(value) => name = value,
                    Err(found) => report("metadata.name", &found, string),
                }
                match doc.text(ObjectDoc::RESOURCE_VERSION) {
                    Ok(value) => resource_version = value,
                    Err(found) => report("metadata.resourceVersion", &found, string),
                }
            }
            Field::Mistyped(found) => report("metadata", &found, "an object"),
            Field::Absent => {}
        }

        let mut document = DocumentDb {
            name,
            resource_version,
            schema_version: DesiredSchema::TwoPhase,
            documentdb_version: None,
            image: None,
            cluster_replication: false,
            installed_schema: None,
            resources: PodResources::default(),
            pvc_size: "",
            bootstrap: None,
            restore_source: None,
        };

        match doc.object(ObjectDoc::SCHEMA_VERSION, 1) {
            Field::Present(()) => {
                match doc.text(ObjectDoc::SCHEMA_VERSION) {
                    Ok(None) => {}
                    Ok(Some("auto")) => document.schema_version = DesiredSchema::Auto,
                    Ok(Some(explicit)) => {
                        document.schema_version = DesiredSchema::Explicit(explicit)
                    }
                    Err(found) => report(
                        "spec.schemaVersion",
                        &found,
                        "a string (\"\", \"auto\" or X.Y.Z)",
                    ),
                }
                match doc.text(ObjectDoc::DOCUMENTDB_VERSION) {
                    Ok(version) => document.documentdb_version = version,
                    Err(found) => report("spec.documentDBVersion", &found, string),
                }
                let nested = match doc.object(ObjectDoc::IMAGE, 2) {
                    Field::Present(()) => match doc.text(ObjectDoc::IMAGE) {
                        Ok(reference) => reference,
                        Err(found) => {
                            report("spec.image.documentDB", &found, string);
                            None
                        }
                    },
                    Field::Mistyped(found) => {
                        report("spec.image", &found, "an object");
                        None
                    }
                    Field::Absent => None,
                };
                let flat = match doc.text(ObjectDoc::FLAT_IMAGE) {
                    Ok(reference) => reference,
                    Err(found) => {
                        report("spec.documentDBImage", &found, string);
                        None
                    }
                };
                document.image = match (nested, flat) {
                    (Some(reference), _) => Some(ExtensionImage {
                        reference,
                        field: ImageField::Nested,
                    }),
                    (None, Some(reference)) => Some(ExtensionImage {
                        reference,
                        field: ImageField::Flat,
                    }),
                    (None, None) => None,
                };
                match doc.non_empty(ObjectDoc::CLUSTER_REPLICATION) {
                    Field::Present(non_empty) => document.cluster_replication = non_empty.0,
                    Field::Mistyped(found) => {
                        report("spec.clusterReplication", &found, "an object")
                    }
                    Field::Absent => {}
                }
                match doc.object(ObjectDoc::MEMORY, 2) {
                    Field::Present(()) => {
                        (document.resources, document.pvc_size) = read_resource(doc, &mut report)
                    }
                    Field::Mistyped(found) => report("spec.resource", &found, "an object"),
                    Field::Absent => {}
                }
                match doc.object(ObjectDoc::MONITORING, 2) {
                    Field::Present(()) => match doc.scalar(ObjectDoc::MONITORING).boolean() {
                        Ok(enabled) => document.resources.monitoring = enabled.unwrap_or(false),
                        Err(found) => report("spec.monitoring.enabled", &found, "a boolean"),
                    },
                    Field::Mistyped(found) => report("spec.monitoring", &found, "an object"),
                    Field::Absent => {}
                }
                match doc.object(ObjectDoc::BACKUP, 2) {
                    Field::Present(()) => {
                        document.bootstrap = Some(read_bootstrap(doc, &mut report))
                    }
                    Field::Mistyped(found) => report("spec.bootstrap", &found, "an object"),
                    Field::Absent => {}
                }
                // --- context-aware checks ---
                document.restore_source = document.bootstrap.and_then(|bootstrap| {
                    let recovery = bootstrap.recovery?;
                    let backup = Some(recovery.backup).filter(|name| !name.is_empty());
                    let volume = recovery.persistent_volume.filter(|name| !name.is_empty());
                    RestoreSource::of(backup, volume)
                });
                // --- end context-aware checks ---
            }
            Field::Mistyped(found) => report("spec", &found, "an object"),
            // An absent or null spec is an empty spec.
            Field::Absent => {}
        }

        match doc.object(ObjectDoc::STATUS, 1) {
            Field::Present(()) => match doc.text(ObjectDoc::STATUS) {
                Ok(installed) => document.installed_schema = installed,
                Err(found) => report("status.schemaVersion", &found, string),
            },
            Field::Mistyped(found) => report("status", &found, "an object"),
            Field::Absent => {}
        }

        if errors.is_empty() {
            Ok(document)
        } else {
            Err(errors)
        }
    }

    /// The extension binary this object asks for: the image tag's `X.Y.Z`, else
    /// `spec.documentDBVersion` as written, else — only when the object sets
    /// neither a version nor an image, which is when the operator falls back to
    /// its own default — `default_version`, the `defaultDocumentDBVersion`
    /// setting.
    pub fn resolve_binary_version(&self, default_version: Option<&'a str>) -> ResolvedBinary<'a> {
        let mut unversioned_image = None;
        if let Some(image) = self.image {
            match ImageReference::parse(image.reference).tag_version() {
                Ok(text) => {
                    let origin = BinaryOrigin::ImageTag(image.field);
                    return ResolvedBinary::Known(BinaryVersion { text, origin });
                }
                Err(why) => unversioned_image = Some(why),
            }
        }
        if let Some(text) = self.documentdb_version {
            let origin = BinaryOrigin::DocumentDbVersion;
            return ResolvedBinary::Known(BinaryVersion { text, origin });
        }
        if self.image.is_none()
            && let Some(text) = default_version
        {
            let origin = BinaryOrigin::DefaultSetting;
            return ResolvedBinary::Known(BinaryVersion { text, origin });
        }
        ResolvedBinary::Unknown(unversioned_image)
    }

    /// The fields a version change is made of.
    pub fn binary_inputs(&self) -> (Option<&'a str>, Option<&'a str>) {
        (
            self.documentdb_version,
            self.image.map(|image| image.reference),
        )
    }
}

/// What the message says a quantity field must be.
const MEMORY_QUANTITY: &str = "a quantity string such as \"4Gi\"";
const CPU_QUANTITY: &str = "a quantity string such as \"500m\"";

/// A string field as written, `""` when absent, null or mistyped (reported).
fn text_or_empty<'a>(
    doc: &'a ObjectDoc<'a>,
    i: usize,
    path: &str,
    expected: &str,
    report: &mut impl FnMut(&str, &Found, &str),
) -> &'a str {
    match doc.text(i) {
        Ok(text) => text.unwrap_or(""),
        Err(found) => {
            report(path, &found, expected);
            ""
        }
    }
}

/// `spec.resource`.
fn read_resource<'a>(
    doc: &'a ObjectDoc<'a>,
    report: &mut impl FnMut(&str, &Found, &str),
) -> (PodResources<'a>, &'a str) {
    let envelope = ContainerResources {
        memory: text_or_empty(
            doc,
            ObjectDoc::MEMORY,
            "spec.resource.memory",
            MEMORY_QUANTITY,
            report,
        ),
        cpu: text_or_empty(
            doc,
            ObjectDoc::CPU,
            "spec.resource.cpu",
            CPU_QUANTITY,
            report,
        ),
    };
    // `i`: the container's `memory` path; its `cpu` is the next one.
    let mut container = |i: usize, name: &str| match doc.object(i, 3) {
        Field::Present(()) => ContainerResources {
            memory: text_or_empty(
                doc,
                i,
                &format!("spec.resource.{name}.memory"),
                MEMORY_QUANTITY,
                report,
            ),
            cpu: text_or_empty(
                doc,
                i + 1,
                &format!("spec.resource.{name}.cpu"),
                CPU_QUANTITY,
                report,
            ),
        },
        Field::Mistyped(found) => {
            report(&format!("spec.resource.{name}"), &found, "an object");
            ContainerResources::default()
        }
        Field::Absent => ContainerResources::default(),
    };
    let pod = PodResources {
        envelope,
        gateway: container(ObjectDoc::GATEWAY, "gateway"),
        database: container(ObjectDoc::DATABASE, "database"),
        otel: container(ObjectDoc::OTEL, "otel"),
        monitoring: false,
    };
    let pvc_size = match doc.object(ObjectDoc::PVC_SIZE, 3) {
        Field::Present(()) => text_or_empty(
            doc,
            ObjectDoc::PVC_SIZE,
            "spec.resource.storage.pvcSize",
            "a quantity string such as \"10Gi\"",
            report,
        ),
        Field::Mistyped(found) => {
            report("spec.resource.storage", &found, "an object");
            ""
        }
        Field::Absent => "",
    };
    (pod, pvc_size)
}

/// `spec.bootstrap`.
fn read_bootstrap<'a>(
    doc: &'a ObjectDoc<'a>,
    report: &mut impl FnMut(&str, &Found, &str),
) -> Bootstrap<'a> {
    match doc.object(ObjectDoc::BACKUP, 3) {
        Field::Present(()) => {}
        Field::Mistyped(found) => {
            report("spec.bootstrap.recovery", &found, "an object");
            return Bootstrap::default();
        }
        Field::Absent => return Bootstrap::default(),
    }
    let mut name = |i: usize, path: &str| match doc.object(i, 4) {
        Field::Present(()) => Some(text_or_empty(
            doc,
            i,
            &format!("{path}.name"),
            "a string",
            report,
        )),
        Field::Mistyped(found) => {
            report(path, &found, "an object");
            None
        }
        Field::Absent => None,
    };
    Bootstrap {
        recovery: Some(Recovery {
            backup: name(ObjectDoc::BACKUP, "spec.bootstrap.recovery.backup").unwrap_or(""),
            persistent_volume: name(
                ObjectDoc::PERSISTENT_VOLUME,
                "spec.bootstrap.recovery.persistentVolume",
            ),
        }),
    }
}

impl BinaryOrigin {
    /// Where the version came from, as messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            BinaryOrigin::ImageTag(ImageField::Nested) => "the tag of spec.image.documentDB",
            BinaryOrigin::ImageTag(ImageField::Flat) => "the tag of spec.documentDBImage",
            BinaryOrigin::DocumentDbVersion => "spec.documentDBVersion",
            BinaryOrigin::DefaultSetting => "the defaultDocumentDBVersion setting",
        }
    }
}

impl<'a> From<BinaryVersion<'a>> for Operand<'a> {
    fn from(binary: BinaryVersion<'a>) -> Self {
        Operand {
            text: binary.text,
            origin: binary.origin.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn read(json: &str) -> Result<DocumentDb<'static>, Vec<String>> {
        let json: &'static str = Box::leak(json.to_owned().into_boxed_str());
        let doc: &'static ObjectDoc =
            Box::leak(Box::new(ObjectDoc::from_json(json.as_bytes()).unwrap()));
        DocumentDb::read(doc, "").map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    #[rstest]
    #[case::no_spec("{}")]
    #[case::null_spec(r#"{"spec":null}"#)]
    #[case::empty_spec(r#"{"spec":{}}"#)]
    #[case::empty_strings(r#"{"spec":{"schemaVersion":"","documentDBVersion":"","image":{"documentDB":""},"documentDBImage":""}}"#)]
    #[case::nulls(r#"{"spec":{"schemaVersion":null,"documentDBVersion":null,"image":null,"documentDBImage":null},"status":null}"#)]
    fn absent_null_and_empty_mean_unset(#[case] json: &str) {
        let db = read(json).unwrap();
        assert_eq!(db.schema_version, DesiredSchema::TwoPhase);
        assert_eq!(
            (db.documentdb_version, db.image, db.installed_schema),
            (None, None, None)
        );
    }

    #[rstest]
    #[case::nested_only(r#"{"image":{"documentDB":"n:0.1.0"}}"#, Some(("n:0.1.0", ImageField::Nested)))]
    #[case::flat_only(r#"{"documentDBImage":"f:0.2.0"}"#, Some(("f:0.2.0", ImageField::Flat)))]
    #[case::nested_wins(r#"{"image":{"documentDB":"n:0.1.0"},"documentDBImage":"f:0.2.0"}"#, Some(("n:0.1.0", ImageField::Nested)))]
    #[case::empty_nested_falls_back(r#"{"image":{"documentDB":""},"documentDBImage":"f:0.2.0"}"#, Some(("f:0.2.0", ImageField::Flat)))]
    #[case::gateway_only(r#"{"image":{"gateway":"g:0.1.0"}}"#, None)]
    fn merges_both_api_shapes(#[case] spec: &str, #[case] expected: Option<(&str, ImageField)>) {
        let db = read(&format!(r#"{{"spec":{spec}}}"#)).unwrap();
        assert_eq!(db.image.map(|i| (i.reference, i.field)), expected);
    }

    #[test]
    fn reports_every_mistyped_field_with_its_path() {
        let errors = read(
            r#"{"metadata":{"name":7},"spec":{"schemaVersion":5,"documentDBVersion":true,"image":"x","documentDBImage":[],"clusterReplication":"yes"},"status":{"schemaVersion":{}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "metadata.name: Invalid value: \"number\": must be a string, not a number",
                "spec.schemaVersion: Invalid value: \"number\": must be a string (\"\", \"auto\" or X.Y.Z), not a number",
                "spec.documentDBVersion: Invalid value: true: must be a string, not a boolean",
                "spec.image: Invalid value: \"x\": must be an object, not a string",
                "spec.documentDBImage: Invalid value: \"array\": must be a string, not an array",
                "spec.clusterReplication: Invalid value: \"yes\": must be an object, not a string",
                "status.schemaVersion: Invalid value: \"object\": must be a string, not an object",
            ]
        );
    }

    #[rstest]
    #[case::spec_array(
        r#"{"spec":[]}"#,
        "spec: Invalid value: \"array\": must be an object, not an array"
    )]
    #[case::status_string(
        r#"{"status":"ok"}"#,
        "status: Invalid value: \"ok\": must be an object, not a string"
    )]
    #[case::metadata_number(
        r#"{"metadata":1}"#,
        "metadata: Invalid value: \"number\": must be an object, not a number"
    )]
    fn reports_mistyped_sections(#[case] json: &str, #[case] expected: &str) {
        assert_eq!(read(json).unwrap_err(), [expected]);
    }

    #[test]
    fn reads_the_resource_envelope_storage_and_monitoring() {
        let db = read(
            r#"{"spec":{"resource":{"memory":"8Gi","cpu":"4","storage":{"pvcSize":"10Gi","storageClass":"fast"},
                "gateway":{"memory":"1Gi"},"database":{"cpu":"3"},"otel":{"memory":"256Mi","cpu":"100m"}},
                "monitoring":{"enabled":true,"exporter":{"prometheus":{"port":9090}}}}}"#,
        )
        .unwrap();
        let container = |memory, cpu| ContainerResources { memory, cpu };
        assert_eq!(
            db.resources,
            PodResources {
                envelope: container("8Gi", "4"),
                gateway: container("1Gi", ""),
                database: container("", "3"),
                otel: container("256Mi", "100m"),
                monitoring: true,
            }
        );
        assert_eq!(db.pvc_size, "10Gi");
    }

    #[rstest]
    #[case::absent("{}")]
    #[case::nulls(
        r#"{"resource":{"memory":null,"storage":null,"gateway":null},"monitoring":null}"#
    )]
    #[case::monitoring_without_enabled(r#"{"monitoring":{}}"#)]
    fn unset_resources_are_empty(#[case] spec: &str) {
        let db = read(&format!(r#"{{"spec":{spec}}}"#)).unwrap();
        assert_eq!((db.resources, db.pvc_size), (PodResources::default(), ""));
    }

    #[test]
    fn reports_mistyped_resource_fields_with_their_paths() {
        let errors = read(
            r#"{"spec":{"resource":{"memory":8,"cpu":true,"storage":{"pvcSize":10},"gateway":"1Gi",
                "database":{"memory":[],"cpu":2},"otel":{"cpu":{}}},"monitoring":{"enabled":"true"},
                "bootstrap":{"recovery":{"backup":"b","persistentVolume":{"name":1}}}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "spec.resource.memory: Invalid value: \"number\": must be a quantity string such as \"4Gi\", not a number",
                "spec.resource.cpu: Invalid value: true: must be a quantity string such as \"500m\", not a boolean",
                "spec.resource.gateway: Invalid value: \"1Gi\": must be an object, not a string",
                "spec.resource.database.memory: Invalid value: \"array\": must be a quantity string such as \"4Gi\", not an array",
                "spec.resource.database.cpu: Invalid value: \"number\": must be a quantity string such as \"500m\", not a number",
                "spec.resource.otel.cpu: Invalid value: \"object\": must be a quantity string such as \"500m\", not an object",
                "spec.resource.storage.pvcSize: Invalid value: \"number\": must be a quantity string such as \"10Gi\", not a number",
                "spec.monitoring.enabled: Invalid value: \"true\": must be a boolean, not a string",
                "spec.bootstrap.recovery.backup: Invalid value: \"b\": must be an object, not a string",
                "spec.bootstrap.recovery.persistentVolume.name: Invalid value: \"number\": must be a string, not a number",
            ]
        );
    }

    #[rstest]
    #[case::resource(
        "resource",
        "[]",
        "spec.resource: Invalid value: \"array\": must be an object, not an array"
    )]
    #[case::storage(
        "resource",
        r#"{"storage":"10Gi"}"#,
        "spec.resource.storage: Invalid value: \"10Gi\": must be an object, not a string"
    )]
    #[case::monitoring(
        "monitoring",
        "true",
        "spec.monitoring: Invalid value: true: must be an object, not a boolean"
    )]
    #[case::bootstrap(
        "bootstrap",
        r#""restore""#,
        "spec.bootstrap: Invalid value: \"restore\": must be an object, not a string"
    )]
    #[case::recovery(
        "bootstrap",
        r#"{"recovery":1}"#,
        "spec.bootstrap.recovery: Invalid value: \"number\": must be an object, not a number"
    )]
    fn reports_mistyped_resource_sections(
        #[case] key: &str,
        #[case] value: &str,
        #[case] expected: &str,
    ) {
        assert_eq!(
            read(&format!(r#"{{"spec":{{"{key}":{value}}}}}"#)).unwrap_err(),
            [expected]
        );
    }

    fn bootstrap(json: &str) -> Option<Bootstrap<'static>> {
        read(&format!(r#"{{"spec":{{"bootstrap":{json}}}}}"#))
            .unwrap()
            .bootstrap
    }

    fn recovery(
        backup: &'static str,
        persistent_volume: Option<&'static str>,
    ) -> Option<Bootstrap<'static>> {
        Some(Bootstrap {
            recovery: Some(Recovery {
                backup,
                persistent_volume,
            }),
        })
    }

    // What Go's decoder leaves of spec.bootstrap, which reflect.DeepEqual compares.
    #[rstest]
    #[case::null("null", None)]
    #[case::empty("{}", Some(Bootstrap::default()))]
    #[case::null_recovery(r#"{"recovery":null}"#, Some(Bootstrap::default()))]
    #[case::empty_recovery(r#"{"recovery":{}}"#, recovery("", None))]
    #[case::empty_backup_is_no_backup(r#"{"recovery":{"backup":{}}}"#, recovery("", None))]
    #[case::null_backup(r#"{"recovery":{"backup":null}}"#, recovery("", None))]
    #[case::backup(
        r#"{"recovery":{"backup":{"name":"my-backup"}}}"#,
        recovery("my-backup", None)
    )]
    #[case::unknown_keys_dropped(
        r#"{"source":"x","recovery":{"backup":{"name":"my-backup","kind":"Backup"},"targetTime":"now"}}"#,
        recovery("my-backup", None)
    )]
    #[case::empty_volume_is_a_volume(
        r#"{"recovery":{"persistentVolume":{}}}"#,
        recovery("", Some(""))
    )]
    #[case::null_volume(r#"{"recovery":{"persistentVolume":null}}"#, recovery("", None))]
    #[case::volume(
        r#"{"recovery":{"persistentVolume":{"name":"pv-1"}}}"#,
        recovery("", Some("pv-1"))
    )]
    #[case::escaped_name(
        r#"{"recovery":{"backup":{"name":"my\u002dbackup"}}}"#,
        recovery("my-backup", None)
    )]
    fn reads_bootstrap_as_go_decodes_it(
        #[case] json: &str,
        #[case] expected: Option<Bootstrap<'static>>,
    ) {
        assert_eq!(bootstrap(json), expected);
    }

    fn known(text: &str, origin: BinaryOrigin) -> ResolvedBinary<'_> {
        ResolvedBinary::Known(BinaryVersion { text, origin })
    }

    // Ported from upstream's "resolveBinaryVersion helper" specs, plus the
    // policy's additions (flat shape, default setting, tag+digest).
    #[rstest]
    #[case::prefers_image_tag_over_version(
        r#"{"documentDBVersion":"0.110.0","image":{"documentDB":"ghcr.io/documentdb/documentdb:0.112.0"}}"#,
        None, known("0.112.0", BinaryOrigin::ImageTag(ImageField::Nested))
    )]
    #[case::falls_back_to_version_without_image(
        r#"{"documentDBVersion":"0.110.0"}"#,
        None,
        known("0.110.0", BinaryOrigin::DocumentDbVersion)
    )]
    #[case::unknown_without_image_or_version("{}", None, ResolvedBinary::Unknown(None))]
    #[case::tag_with_architecture_suffix(
        r#"{"image":{"documentDB":"ghcr.io/documentdb/documentdb:0.112.0-amd64"}}"#,
        None,
        known("0.112.0", BinaryOrigin::ImageTag(ImageField::Nested))
    )]
    #[case::digest_only_falls_back_to_version(
        r#"{"documentDBVersion":"0.112.0","image":{"documentDB":"ghcr.io/documentdb/documentdb@sha256:abc123"}}"#,
        None, known("0.112.0", BinaryOrigin::DocumentDbVersion)
    )]
    #[case::digest_only_without_version(
        r#"{"image":{"documentDB":"ghcr.io/documentdb/documentdb@sha256:abc123"}}"#,
        None,
        ResolvedBinary::Unknown(Some(UnversionedImage::DigestOnly))
    )]
    #[case::port_in_registry(
        r#"{"image":{"documentDB":"localhost:5000/documentdb:0.112.0"}}"#,
        None,
        known("0.112.0", BinaryOrigin::ImageTag(ImageField::Nested))
    )]
    #[case::flat_shape_tag(
        r#"{"documentDBImage":"ghcr.io/documentdb/documentdb:0.111.0"}"#,
        None,
        known("0.111.0", BinaryOrigin::ImageTag(ImageField::Flat))
    )]
    #[case::tag_and_digest_uses_tag(
        r#"{"documentDBVersion":"0.100.0","image":{"documentDB":"repo:0.110.0@sha256:abc"}}"#,
        None,
        known("0.110.0", BinaryOrigin::ImageTag(ImageField::Nested))
    )]
    #[case::version_as_written(
        r#"{"documentDBVersion":"v1.0.0"}"#,
        None,
        known("v1.0.0", BinaryOrigin::DocumentDbVersion)
    )]
    #[case::default_when_nothing_set(
        "{}",
        Some("0.113.0"),
        known("0.113.0", BinaryOrigin::DefaultSetting)
    )]
    #[case::version_beats_default(
        r#"{"documentDBVersion":"0.110.0"}"#,
        Some("0.113.0"),
        known("0.110.0", BinaryOrigin::DocumentDbVersion)
    )]
    #[case::default_not_used_for_unversioned_image(
        r#"{"image":{"documentDB":"repo:latest"}}"#,
        Some("0.113.0"),
        ResolvedBinary::Unknown(Some(UnversionedImage::TagWithoutVersion("latest")))
    )]
    fn resolves_the_binary_version(
        #[case] spec: &str,
        #[case] default: Option<&'static str>,
        #[case] expected: ResolvedBinary<'static>,
    ) {
        let db = read(&format!(r#"{{"spec":{spec}}}"#)).unwrap();
        assert_eq!(db.resolve_binary_version(default), expected);
    }
}
