//! What the rules find, as typed values: a [`Violation`] denies the request,
//! an [`Advice`] becomes a Kubernetes admission warning and never changes the
//! verdict. Each variant carries the parsed values it is about, so the views
//! (the policy's messages, the upgrade checker's timeline) match on facts
//! instead of working the rules out again.
//!
//! This file is the one place their texts are written. They are stable: the
//! operator's runbooks and scripts match on them, and tests pin every one.

use std::fmt;

use crate::cluster::Unreadable;
use crate::field_error::FieldError;
use crate::model::document::{BinaryOrigin, Bootstrap, ImageField};
use crate::model::image::UnversionedImage;
use crate::model::nodes::{MAX_SHOWN_CHARS, NodeClass, NodeFact, NodeNote, NodeSurvey};
use crate::model::quantity::{self, QuantityError};
use crate::model::resources::{Dimension, EnvelopeProblem};
use crate::model::restore::RestoreSource;
use crate::model::version::{ComparisonError, ExtensionVersion, shown};
use crate::model::{GROUP, KIND};
use crate::text::{bounded, quote, shown_path};

pub mod catalogue;

pub const SCHEMA_VERSION: &str = "spec.schemaVersion";
const SPEC: &str = "spec";
/// The field the status guard protects.
pub const STATUS_SCHEMA_VERSION: &str = "status.schemaVersion";
const DOCUMENTDB_VERSION: &str = "spec.documentDBVersion";

/// A reason to deny the request, in the order the rules ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation<'a> {
    /// `spec.schemaVersion` is neither `""`, `auto` nor a canonical `X.Y.Z`.
    SchemaFormat { schema: &'a str },
    /// An explicit schema with no binary version to check it against.
    SchemaWithoutBinary {
        schema: &'a str,
        /// The image field the object uses (or would use), for the message.
        image_field: ImageField,
        /// When an image is set: why its tag gives no version.
        unversioned: Option<UnversionedImage<'a>>,
    },
    /// Rule A could not compare: a version does not parse.
    SchemaNotComparable {
        schema: &'a str,
        error: ComparisonError,
    },
    /// Rule A: the schema asked for is above the binary.
    SchemaAboveBinary {
        schema: ExtensionVersion,
        binary: ExtensionVersion,
    },
    /// `schemaVersion: auto` under `allowAutoSchemaVersion: false`.
    AutoSchemaForbidden,
    /// Rule B under `rejectUnknownBinaryVersion`: a version change whose binary
    /// cannot be determined.
    UnknownBinaryRejected {
        unversioned: Option<UnversionedImage<'a>>,
        /// `oldObject.status.schemaVersion` as stored.
        installed: &'a str,
    },
    /// Rule B could not compare: a version does not parse.
    RollbackNotComparable { error: ComparisonError },
    /// Rule B: the binary goes below the installed schema.
    RollbackBelowInstalledSchema {
        binary: ExtensionVersion,
        installed: ExtensionVersion,
    },
    /// The pod resource envelope leaves no room for PostgreSQL, or is missing
    /// (upstream's `ValidateResources`).
    ResourceEnvelope(EnvelopeProblem<'a>),
    /// `spec.bootstrap` set to something other than what is stored.
    BootstrapChanged {
        before: Option<Bootstrap<'a>>,
        after: Bootstrap<'a>,
    },
    /// The stored `pvcSize` is not a quantity, so a change cannot be compared.
    StoredPvcSizeInvalid { size: &'a str, error: QuantityError },
    /// The new `pvcSize` is not a quantity.
    PvcSizeInvalid { size: &'a str, error: QuantityError },
    /// The new `pvcSize` is smaller than the stored one.
    StorageShrink { before: &'a str, after: &'a str },
    /// Audit: a stored object whose binary is below its own installed schema
    /// (rolled back before the policy guarded it, or through `dbs/status`).
    BinaryBelowOwnSchema {
        binary: ExtensionVersion,
        origin: BinaryOrigin,
        installed: ExtensionVersion,
    },
    // --- context-aware checks ---
    /// Restore (CREATE): the binary is older than the schema the restore
    /// source recorded.
    RestoreBlocked {
        source: RestoreSource<'a>,
        binary: ExtensionVersion,
        schema: ExtensionVersion,
    },
    /// ImageVolume (CREATE, `imageVolumeCheck: deny`): nodes that cannot
    /// mount image volumes.
    ImageVolumeUnavailable { nodes: NodeSurvey },
    /// Status guard (`dbs/status` UPDATE by a user not in `statusWriters`):
    /// the installed schema lowered.
    InstalledSchemaLowered {
        user: &'a str,
        from: ExtensionVersion,
        to: ExtensionVersion,
    },
    /// … cleared.
    InstalledSchemaCleared { user: &'a str, from: &'a str },
    /// … changed where one side is not a version, so it may be lowered.
    InstalledSchemaUnverifiable {
        user: &'a str,
        from: &'a str,
        to: &'a str,
    },
    // --- end context-aware checks ---
}

/// Guidance that never changes the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advice<'a> {
    /// `schemaVersion: auto` on a multi-region cluster.
    AutoOnReplicatedCluster,
    /// Rule B was skipped: the binary version is unknown.
    RollbackCheckSkipped {
        unversioned: Option<UnversionedImage<'a>>,
    },
    /// Phase 1 of a two-phase upgrade: the binary moved, the schema did not.
    TwoPhasePending {
        binary: ExtensionVersion,
        installed: ExtensionVersion,
    },
    /// A schema below the installed one is a no-op.
    SchemaDowngradeIsNoop {
        schema: ExtensionVersion,
        installed: ExtensionVersion,
    },
    // --- context-aware checks ---
    /// Restore: the source does not exist.
    RestoreSourceNotFound {
        source: RestoreSource<'a>,
    },
    /// Restore: the source could not be read (host failure, no permission,
    /// an answer the policy cannot read).
    RestoreSourceUnreadable {
        source: RestoreSource<'a>,
        reason: Unreadable,
    },
    /// Restore: the source records no schema version.
    RestoreSourceWithoutSchema {
        source: RestoreSource<'a>,
    },
    /// Restore: the binary version is unknown.
    RestoreTargetUnknown {
        source: RestoreSource<'a>,
        /// As recorded.
        schema: String,
    },
    /// Restore: a version does not parse.
    RestoreNotComparable {
        source: RestoreSource<'a>,
        binary: &'a str,
        schema: String,
        error: ComparisonError,
    },
    /// ImageVolume (`warn`): nodes that cannot mount image volumes.
    ImageVolumeNotReady {
        nodes: NodeSurvey,
    },
    /// ImageVolume: nothing blocks, but some nodes depend on what Nodes do
    /// not show (the feature gate, an unknown runtime, unreadable versions).
    ImageVolumeUndetermined {
        nodes: NodeSurvey,
    },
    ImageVolumeNoNodes,
    ImageVolumeUnreadable {
        reason: Unreadable,
    },
    // --- end context-aware checks ---
}

/// Everything the rules found about one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings<'a> {
    pub violations: Vec<Violation<'a>>,
    pub advice: Vec<Advice<'a>>,
}

impl Findings<'_> {
    pub fn is_allowed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The violations as apimachinery field errors, in rule order.
    pub fn field_errors(&self) -> Vec<FieldError> {
        self.violations.iter().map(Violation::field_error).collect()
    }

    /// The advice as admission warnings, in rule order.
    pub fn warnings(&self) -> Vec<String> {
        self.advice.iter().map(ToString::to_string).collect()
    }
}

/// The message of apimachinery's `NewInvalid`, as the upstream webhook returns it:
/// `DocumentDB.documentdb.io "<name>" is invalid: <error>` or `…: [<e1>, <e2>]`,
/// identical errors once (apimachinery's `ToAggregate`).
pub fn invalid_object_message(name: Option<&str>, errors: &[FieldError]) -> String {
    let mut rendered: Vec<String> = Vec::with_capacity(errors.len());
    for error in errors {
        let text = error.to_string();
        if !rendered.contains(&text) {
            rendered.push(text);
        }
    }
    let name = quote(name.unwrap_or_default());
    match rendered.as_slice() {
        [single] => format!("{KIND}.{GROUP} {name} is invalid: {single}"),
        several => format!("{KIND}.{GROUP} {name} is invalid: [{}]", several.join(", ")),
    }
}

/// Why no binary version could be found, for messages.
struct UnknownBinary<'a>(Option<UnversionedImage<'a>>);

impl fmt::Display for UnknownBinary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(why) => write!(f, "{why}"),
            None => f.write_str("neither spec.documentDBVersion nor an image is set"),
        }
    }
}

const PVC_SIZE: &str = "spec.resource.storage.pvcSize";

impl Dimension {
    /// `spec.resource.<dimension>`: the pod envelope.
    fn envelope_path(self) -> &'static str {
        match self {
            Dimension::Memory => "spec.resource.memory",
            Dimension::Cpu => "spec.resource.cpu",
        }
    }

    fn database_path(self) -> &'static str {
        match self {
            Dimension::Memory => "spec.resource.database.memory",
            Dimension::Cpu => "spec.resource.database.cpu",
        }
    }
}

/// Upstream's `ValidateResources` errors, word for word; quantities as written
/// (quoted when they are not short plain text).
fn envelope_error(problem: &EnvelopeProblem) -> FieldError {
    match *problem {
        EnvelopeProblem::EnvelopeRequired { dimension } => {
            let noun = dimension.name();
            FieldError::required(
                dimension.envelope_path(),
                format!(
                    "pod {noun} envelope is required unless {noun} is set on both spec.resource.gateway and \
                     spec.resource.database"
                ),
            )
        }
        EnvelopeProblem::NoRoomForPostgres {
            dimension,
            envelope,
            reserved,
        } => {
            let noun = dimension.name();
            FieldError::invalid(
                dimension.envelope_path(),
                envelope,
                format!(
                    "gateway and OTel {noun} reservations ({}) leave no {noun} for PostgreSQL within the pod \
                     {noun} envelope ({})",
                    dimension.format_amount(reserved),
                    quantity::shown(envelope)
                ),
            )
        }
        EnvelopeProblem::ExceedsEnvelope {
            dimension,
            envelope,
            database,
            total,
        } => {
            let noun = dimension.name();
            FieldError::invalid(
                dimension.database_path(),
                database,
                format!(
                    "sum of gateway + OTel + database {noun} ({}) exceeds the pod {noun} envelope ({})",
                    dimension.format_amount(total),
                    quantity::shown(envelope)
                ),
            )
        }
    }
}

const SCHEMA_FORMAT: &str = "schemaVersion must be \"\", \"auto\" or a version X.Y.Z of three non-negative integers \
     without leading zeros, sign, \"v\" prefix or suffix (e.g. \"0.112.0\"); the operator would retry an invalid \
     ALTER EXTENSION forever";

impl Violation<'_> {
    /// The field error the API server's format gives this violation.
    pub fn field_error(&self) -> FieldError {
        match self {
            Violation::SchemaFormat { schema } => {
                FieldError::invalid(SCHEMA_VERSION, schema, SCHEMA_FORMAT.to_owned())
            }
            Violation::SchemaWithoutBinary {
                schema,
                image_field,
                unversioned,
            } => {
                let mut detail = format!(
                    "cannot set an explicit schemaVersion without also setting spec.documentDBVersion or {}; the \
                     policy needs a binary version to validate against",
                    image_field.path()
                );
                if let Some(why) = unversioned {
                    detail.push_str(&format!("; {why}"));
                }
                FieldError::invalid(SCHEMA_VERSION, schema, detail)
            }
            Violation::SchemaNotComparable { schema, error } => FieldError::invalid(
                SCHEMA_VERSION,
                schema,
                format!("cannot validate schemaVersion: version comparison failed: {error}"),
            ),
            Violation::SchemaAboveBinary { schema, binary } => FieldError::invalid(
                SCHEMA_VERSION,
                &schema.to_string(),
                format!(
                    "schemaVersion {schema} exceeds the binary version {binary}; schema version must be <= binary \
                     version"
                ),
            ),
            Violation::AutoSchemaForbidden => FieldError::forbidden(
                SCHEMA_VERSION,
                "this policy forbids automatic schema upgrades (schemaVersion \"auto\", setting \
                 allowAutoSchemaVersion: false); set an explicit schemaVersion X.Y.Z, at most the binary version, \
                 to upgrade the schema"
                    .to_owned(),
            ),
            Violation::UnknownBinaryRejected {
                unversioned,
                installed,
            } => FieldError::forbidden(
                SPEC,
                format!(
                    "the binary version is unknown ({}); the setting rejectUnknownBinaryVersion requires one to \
                     check the change against installed schema version {}",
                    UnknownBinary(*unversioned),
                    shown(installed)
                ),
            ),
            Violation::RollbackNotComparable { error } => FieldError::forbidden(
                SPEC,
                format!("cannot validate image rollback: version comparison failed: {error}"),
            ),
            Violation::RollbackBelowInstalledSchema { binary, installed } => FieldError::forbidden(
                SPEC,
                format!(
                    "image rollback blocked: requested version {binary} is older than installed schema version \
                     {installed}. ALTER EXTENSION has no downgrade path — running an older binary with a newer \
                     schema may cause data corruption. To recover, restore from backup or update to a version >= \
                     {installed}."
                ),
            ),
            Violation::ResourceEnvelope(problem) => envelope_error(problem),
            Violation::BootstrapChanged { .. } => FieldError::forbidden(
                "spec.bootstrap",
                "bootstrap configuration cannot be changed after cluster creation".to_owned(),
            ),
            Violation::StoredPvcSizeInvalid { size, error } => FieldError::invalid(
                PVC_SIZE,
                size,
                format!("existing pvcSize is not a valid resource quantity: {error}"),
            ),
            Violation::PvcSizeInvalid { size, error } => FieldError::invalid(
                PVC_SIZE,
                size,
                format!("pvcSize must be a valid resource quantity: {error}"),
            ),
            Violation::StorageShrink { before, after } => FieldError::forbidden(
                PVC_SIZE,
                format!(
                    "storage size can only be increased; attempted shrink from {} to {}",
                    quantity::shown(before),
                    quantity::shown(after)
                ),
            ),
            Violation::BinaryBelowOwnSchema {
                binary,
                origin,
                installed,
            } => {
                let (field, fix) = match origin {
                    BinaryOrigin::ImageTag(image) => {
                        (image.path(), format!("{} to an image of", image.path()))
                    }
                    BinaryOrigin::DocumentDbVersion => {
                        (DOCUMENTDB_VERSION, format!("{DOCUMENTDB_VERSION} to"))
                    }
                    BinaryOrigin::DefaultSetting => (
                        SPEC,
                        format!("{DOCUMENTDB_VERSION} (the operator's default is older) to"),
                    ),
                };
                FieldError::forbidden(
                    field,
                    format!(
                        "binary below the installed schema: the binary {binary} (from {}) is older than the \
                         schema version {installed} installed in this cluster's database (status.schemaVersion). \
                         ALTER EXTENSION has no downgrade path — running an older binary with a newer schema may \
                         cause data corruption. Set {fix} {installed} or later; the schema cannot go down.",
                        origin.describe()
                    ),
                )
            }
            // --- context-aware checks ---
            Violation::RestoreBlocked {
                source,
                binary,
                schema,
            } => FieldError::forbidden(
                source.kind.field_path(),
                format!(
                    "restore blocked: the target DocumentDB version {binary} is older than the {}'s schema version \
                     {schema}. Restoring onto an older DocumentDB version runs it against a newer, irreversible \
                     schema and may cause data corruption. Set spec.documentDBVersion (or spec.image.documentDB) to \
                     {schema} or newer.",
                    source.kind.noun()
                ),
            ),
            Violation::ImageVolumeUnavailable { nodes } => FieldError::forbidden(
                SPEC,
                format!(
                    "{IMAGE_VOLUME_NOT_ENABLED} ({}). {IMAGE_VOLUME_HOW_TO}",
                    Nodes(nodes, NodeClass::blocks)
                ),
            ),
            Violation::InstalledSchemaLowered { user, from, to } => FieldError::forbidden(
                STATUS_SCHEMA_VERSION,
                format!(
                    "user {} may not lower the installed schema version from {from} to {to}: {STATUS_GUARD_WHY}",
                    quote(user)
                ),
            ),
            Violation::InstalledSchemaCleared { user, from } => FieldError::forbidden(
                STATUS_SCHEMA_VERSION,
                format!(
                    "user {} may not clear the installed schema version {}: {STATUS_GUARD_WHY}",
                    quote(user),
                    shown(from)
                ),
            ),
            Violation::InstalledSchemaUnverifiable { user, from, to } => FieldError::forbidden(
                STATUS_SCHEMA_VERSION,
                format!(
                    "user {} may not change the installed schema version {} to {}: not both are versions X.Y.Z, \
                     so the change may lower it; {STATUS_GUARD_WHY}",
                    quote(user),
                    shown(from),
                    shown(to)
                ),
            ),
            // --- end context-aware checks ---
        }
    }
}

impl fmt::Display for Advice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Advice::AutoOnReplicatedCluster => f.write_str(
                "schemaVersion \"auto\" is meant for single-region clusters; with spec.clusterReplication set, pin \
                 a schemaVersion",
            ),
            Advice::RollbackCheckSkipped { unversioned } => write!(
                f,
                "rollback check skipped: the binary version is unknown ({})",
                UnknownBinary(*unversioned)
            ),
            // Every typical upgrade's advice: put together without
            // `core::fmt`'s argument machinery (ExtensionVersion::push_to).
            Advice::TwoPhasePending { binary, installed } => {
                let mut text = String::with_capacity(128);
                text.push_str("two-phase upgrade: the binary moves to ");
                binary.push_to(&mut text);
                text.push_str(" but the schema stays at ");
                installed.push_to(&mut text);
                text.push_str(" until spec.schemaVersion is set");
                f.write_str(&text)
            }
            Advice::SchemaDowngradeIsNoop { schema, installed } => write!(
                f,
                "spec.schemaVersion {schema} is below the installed schema {installed}: no-op, a schema cannot be \
                 downgraded"
            ),
            // --- context-aware checks ---
            Advice::RestoreSourceNotFound { source } => write!(
                f,
                "{} {} not found: schema-version compatibility cannot be verified",
                source.kind.noun(),
                quote(source.name)
            ),
            Advice::RestoreSourceUnreadable { source, reason } => write!(
                f,
                "failed to read {} {}: schema-version compatibility cannot be verified: {}",
                source.kind.noun(),
                quote(source.name),
                Why(reason, source.kind.noun())
            ),
            Advice::RestoreSourceWithoutSchema { source } => write!(
                f,
                "{} {} has no recorded schema version: schema-version compatibility cannot be verified; ensure \
                 the target DocumentDB version (spec.documentDBVersion or spec.image.documentDB) is >= the \
                 source's schema version to avoid data corruption",
                source.kind.noun(),
                quote(source.name)
            ),
            Advice::RestoreTargetUnknown { source, schema } => write!(
                f,
                "cannot determine the target DocumentDB version for restore from {noun} {} (set \
                 spec.documentDBVersion or spec.image.documentDB): compatibility with the {noun}'s schema \
                 version {} cannot be verified",
                quote(source.name),
                shown(schema),
                noun = source.kind.noun()
            ),
            Advice::RestoreNotComparable {
                source,
                binary,
                schema,
                error,
            } => write!(
                f,
                "cannot compare the target DocumentDB version {} with the {}'s schema version {}: {error}; \
                 compatibility not verified",
                shown(binary),
                source.kind.noun(),
                shown(schema)
            ),
            Advice::ImageVolumeNotReady { nodes } => write!(
                f,
                "ImageVolume check: {IMAGE_VOLUME_NOT_ENABLED} ({}). {IMAGE_VOLUME_HOW_TO}",
                Nodes(nodes, NodeClass::blocks)
            ),
            Advice::ImageVolumeUndetermined { nodes } => write!(
                f,
                "ImageVolume check: cannot confirm that this cluster supports the Kubernetes ImageVolume \
                 feature, which the DocumentDB operator requires to mount the DocumentDB extension into \
                 PostgreSQL pods ({}); if it is off, the DocumentDB pods will not start. {IMAGE_VOLUME_HOW_TO}",
                Nodes(nodes, NodeClass::leaves_open)
            ),
            Advice::ImageVolumeNoNodes => {
                f.write_str("ImageVolume check skipped: the cluster lists no Nodes")
            }
            Advice::ImageVolumeUnreadable { reason } => write!(
                f,
                "ImageVolume check skipped: cannot list the cluster's Nodes: {}",
                Why(reason, "Node list")
            ),
            // --- end context-aware checks ---
        }
    }
}

// --- context-aware checks ---

/// Upstream's explanation of ImageVolume (its preflight's error, e569542),
/// split around the nodes that decided the verdict. Upstream adds that its
/// probe "cannot verify" the runtime; the policy reads it from the Nodes.
const IMAGE_VOLUME_NOT_ENABLED: &str = "the Kubernetes ImageVolume feature is not enabled on this cluster, but it is \
     required by the DocumentDB operator to mount the DocumentDB extension into PostgreSQL pods";
const IMAGE_VOLUME_HOW_TO: &str = "ImageVolume is GA (on by default) in Kubernetes 1.35+. On Kubernetes 1.33/1.34 \
     you may enable the ImageVolume feature gate on both the kube-apiserver and every kubelet; the container \
     runtime must also support it (containerd >= 2.1 or CRI-O >= 1.33). See \
     https://kubernetes.io/docs/concepts/storage/volumes/#image";

const STATUS_GUARD_WHY: &str = "the image rollback rule trusts status.schemaVersion as the schema installed in the \
     database, so a lower value would let the binary roll back past the installed schema, which ALTER EXTENSION \
     cannot downgrade (only the users in the policy setting statusWriters may do this)";

/// A value from the cluster, escaped and cut like a quoted one, unquoted.
fn reported(text: &str) -> String {
    bounded(text, MAX_SHOWN_CHARS)
}

/// The groups of the selected classes, for a message:
/// `kubelet older than 1.33 on 2 of 5 nodes: a (kubelet v1.32.4), b (kubelet v1.31.0); …`.
struct Nodes<'s>(&'s NodeSurvey, fn(NodeClass) -> bool);

impl fmt::Display for Nodes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Nodes(survey, select) = self;
        let mut first = true;
        for class in NodeClass::ALL.into_iter().filter(|class| select(*class)) {
            let group = survey.group(class);
            if group.count == 0 {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            let class = match class {
                NodeClass::Capable => "image volumes",
                NodeClass::KubeletTooOld => "kubelet older than 1.33",
                NodeClass::RuntimeWithoutImageVolumes => {
                    "a container runtime without image volumes (containerd < 2.1, CRI-O < 1.33)"
                }
                NodeClass::FeatureGateRequired => {
                    "kubelet 1.33 or 1.34, where the ImageVolume feature gate must be on (Nodes do not show it)"
                }
                NodeClass::RuntimeUnrecognized => "a container runtime the policy cannot judge",
                NodeClass::VersionsUnreadable => "versions the policy cannot read",
            };
            let nodes = if survey.total == 1 { "node" } else { "nodes" };
            write!(
                f,
                "{class} on {} of {} {nodes}: ",
                group.count, survey.total
            )?;
            for (i, note) in group.named.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}", Note(note))?;
            }
            let more = group.count - group.named.len();
            if more > 0 {
                write!(f, " and {more} more")?;
            }
        }
        Ok(())
    }
}

/// `name (what decided it)`.
struct Note<'n>(&'n NodeNote);

impl fmt::Display for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let note = self.0;
        match (&note.name, &note.fact) {
            (_, NodeFact::NullItem) => return f.write_str("(null) (a null item)"),
            (Some(name), _) => f.write_str(&reported(name))?,
            (None, _) => f.write_str("(unnamed)")?,
        }
        match &note.fact {
            NodeFact::Kubelet(kubelet) => write!(f, " (kubelet {})", reported(kubelet)),
            NodeFact::Runtime(runtime) => write!(f, " ({})", reported(runtime)),
            NodeFact::KubeletAndRuntime { kubelet, runtime } => {
                write!(f, " (kubelet {}, {})", reported(kubelet), reported(runtime))
            }
            NodeFact::Missing(path) => write!(f, " (no {})", shown_path(path, path.len())),
            NodeFact::Mistyped { path, depth, found } => {
                write!(f, " ({} is {found})", shown_path(path, *depth))
            }
            NodeFact::ItemMistyped(type_name) => write!(f, " (an item that is {type_name})"),
            NodeFact::NullItem => Ok(()),
        }
    }
}

/// Why an answer from the cluster could not be used; `what` names the
/// object asked for.
struct Why<'u>(&'u Unreadable, &'static str);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Why(reason, what) = self;
        match reason {
            Unreadable::Host(error) => f.write_str(&error.shown()),
            Unreadable::NoNamespace => {
                write!(
                    f,
                    "the admission request names no namespace to look the {what} up in"
                )
            }
            Unreadable::NotJson(error) => write!(f, "the host's answer is not valid JSON: {error}"),
            Unreadable::NotAnObject {
                found: None,
                expected,
            } => {
                write!(f, "the host answered null, not {expected}")
            }
            Unreadable::NotAnObject {
                found: Some(found),
                expected,
            } => write!(f, "the host answered {}, not {expected}", found.describe()),
            Unreadable::WrongKind { found, expected } => write!(
                f,
                "the host answered a {} object, not a {expected}",
                quote(found)
            ),
            Unreadable::Mistyped {
                path,
                depth,
                found,
                expected,
            } => write!(
                f,
                "{} must be {expected}, not {}",
                shown_path(path, *depth),
                found.describe()
            ),
            Unreadable::NoItems => f.write_str("the Node list has no items"),
        }
    }
}

// --- end context-aware checks ---

/// What a check that finds at most one thing found, rendered as the policy
/// shows it (a denial as its field error `<field>: Forbidden: <detail>`, advice
/// as its warning): the restore and ImageVolume checks' tests.
#[cfg(test)]
pub(crate) fn rendered(findings: &Findings) -> Option<String> {
    let mut all: Vec<String> = findings
        .field_errors()
        .iter()
        .map(ToString::to_string)
        .collect();
    all.extend(findings.warnings());
    assert!(all.len() <= 1, "{all:?}");
    all.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_errors_are_listed_once() {
        let error = || FieldError::forbidden("spec", "no".to_owned());
        let other = FieldError::required("spec.x", "missing".to_owned());
        assert_eq!(
            invalid_object_message(Some("db"), &[error(), other, error()]),
            "DocumentDB.documentdb.io \"db\" is invalid: [spec: Forbidden: no, spec.x: Required value: missing]"
        );
        assert_eq!(
            invalid_object_message(None, &[error(), error()]),
            "DocumentDB.documentdb.io \"\" is invalid: spec: Forbidden: no"
        );
    }
}
