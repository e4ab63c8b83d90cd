//! What the rules find, as typed values: a [`Violation`] denies the request,
//! an [`Advice`] becomes a Kubernetes admission warning and never changes the
//! verdict. Each variant carries the parsed values it is about, so the views
//! (the policy's messages, the upgrade checker's timeline) match on facts
//! instead of working the rules out again.
//!
//! This file is the one place their texts are written. They are stable: the
//! operator's runbooks and scripts match on them, and tests pin every one.

use std::fmt;

use crate::document::{Bootstrap, ImageField};
use crate::field_error::FieldError;
use crate::image::UnversionedImage;
use crate::quantity::{self, QuantityError};
use crate::resources::{Dimension, EnvelopeProblem};
use crate::version::{ComparisonError, ExtensionVersion, shown};

pub const SCHEMA_VERSION: &str = "spec.schemaVersion";
const SPEC: &str = "spec";

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
            Advice::TwoPhasePending { binary, installed } => write!(
                f,
                "two-phase upgrade: the binary moves to {binary} but the schema stays at {installed} until \
                 spec.schemaVersion is set"
            ),
            Advice::SchemaDowngradeIsNoop { schema, installed } => write!(
                f,
                "spec.schemaVersion {schema} is below the installed schema {installed}: no-op, a schema cannot be \
                 downgraded"
            ),
        }
    }
}
