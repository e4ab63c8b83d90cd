//! The admission rules, as two lists of small functions with one signature,
//! the shape of the upstream webhook's `validate` and `validateChanges`:
//! adding a rule is adding one function to a list.

use std::cmp::Ordering;

use crate::document::{
    BinaryVersion, DesiredSchema, DocumentDb, ImageField, Operand, ResolvedBinary, compare_versions,
};
use crate::field_error::FieldError;
use crate::image::UnversionedImage;
use crate::settings::Settings;
use crate::version::{ExtensionVersion, has_canonical_syntax, shown};

/// One admission decision's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Review<'a> {
    pub new: &'a DocumentDb<'a>,
    /// The stored object; `Some` exactly on UPDATE.
    pub old: Option<&'a DocumentDb<'a>>,
    pub settings: &'a Settings,
}

/// What the rules found: errors deny the request, warnings never change it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
}

pub type Rule = fn(&Review, &mut Findings);

/// Rules on the object itself, on CREATE and UPDATE.
pub const SPEC_RULES: &[Rule] = &[
    schema_not_above_binary,
    auto_schema_allowed,
    auto_schema_on_replicated_cluster,
];

/// Rules on what an UPDATE changes, against the stored object.
pub const CHANGE_RULES: &[Rule] = &[
    no_binary_below_installed_schema,
    two_phase_upgrade_pending,
    schema_downgrade_is_noop,
];

/// Runs every rule; errors come in list order (Rule A before Rule B), as the
/// upstream webhook aggregates them.
pub fn evaluate(review: &Review) -> Findings {
    let mut findings = Findings::default();
    for rule in SPEC_RULES {
        rule(review, &mut findings);
    }
    if review.old.is_some() {
        for rule in CHANGE_RULES {
            rule(review, &mut findings);
        }
    }
    findings
}

const SCHEMA_VERSION: &str = "spec.schemaVersion";
const SCHEMA_FORMAT: &str = "schemaVersion must be \"\", \"auto\" or a version X.Y.Z of three non-negative integers \
     without leading zeros, sign, \"v\" prefix or suffix (e.g. \"0.112.0\"); the operator would retry an invalid \
     ALTER EXTENSION forever";

impl<'a> Review<'a> {
    fn binary(&self) -> ResolvedBinary<'a> {
        self.new.resolve_binary_version(self.settings)
    }

    /// Ratchet: an UPDATE that leaves schemaVersion, documentDBVersion and the
    /// image as stored is not re-checked against the spec rules. Upstream
    /// re-checks every update, so an object stored before the rules existed
    /// blocks even the operator's finalizer updates and can hang in Terminating.
    fn spec_rule_inputs_unchanged(&self) -> bool {
        self.old.is_some_and(|old| {
            old.schema_version == self.new.schema_version
                && old.binary_inputs() == self.new.binary_inputs()
        })
    }

    /// The UPDATE changes `documentDBVersion` or the effective image.
    fn binary_changed(&self) -> bool {
        self.old
            .is_some_and(|old| old.binary_inputs() != self.new.binary_inputs())
    }

    /// `oldObject.status.schemaVersion`, when parseable (warnings only use a
    /// parseable one; Rule B reports an unparseable one).
    fn installed_schema_version(&self) -> Option<ExtensionVersion> {
        let installed = self.old?.installed_schema?;
        ExtensionVersion::parse(installed).ok()
    }

    /// The new object's binary version, when known and parseable.
    fn binary_version(&self) -> Option<ExtensionVersion> {
        match self.binary() {
            ResolvedBinary::Known(binary) => Operand::from(binary).parse().ok(),
            ResolvedBinary::Unknown(_) => None,
        }
    }
}

fn installed_schema_operand(text: &str) -> Operand<'_> {
    Operand {
        text,
        origin: "oldObject.status.schemaVersion",
    }
}

/// Why no binary version could be found.
fn unknown_binary_reason(unversioned: Option<UnversionedImage>) -> String {
    match unversioned {
        Some(why) => why.to_string(),
        None => "neither spec.documentDBVersion nor an image is set".to_owned(),
    }
}

/// Rule A: an explicit schemaVersion must not exceed the binary version.
pub fn schema_not_above_binary(review: &Review, findings: &mut Findings) {
    let DesiredSchema::Explicit(schema) = review.new.schema_version else {
        return;
    };
    if review.spec_rule_inputs_unchanged() {
        return;
    }
    if !has_canonical_syntax(schema) {
        findings.errors.push(FieldError::invalid(
            SCHEMA_VERSION,
            schema,
            SCHEMA_FORMAT.to_owned(),
        ));
        return;
    }
    let binary = match review.binary() {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(unversioned) => {
            let image_field = review
                .new
                .image
                .map_or(ImageField::Nested, |image| image.field)
                .path();
            let mut detail = format!(
                "cannot set an explicit schemaVersion without also setting spec.documentDBVersion or \
                 {image_field}; the policy needs a binary version to validate against"
            );
            if let Some(why) = unversioned {
                detail.push_str(&format!("; {why}"));
            }
            findings
                .errors
                .push(FieldError::invalid(SCHEMA_VERSION, schema, detail));
            return;
        }
    };
    let schema_operand = Operand {
        text: schema,
        origin: SCHEMA_VERSION,
    };
    match compare_versions(schema_operand, binary.into()) {
        Err(e) => findings.errors.push(FieldError::invalid(
            SCHEMA_VERSION,
            schema,
            format!("cannot validate schemaVersion: version comparison failed: {e}"),
        )),
        Ok(Ordering::Greater) => findings.errors.push(FieldError::invalid(
            SCHEMA_VERSION,
            schema,
            format!(
                "schemaVersion {schema} exceeds the binary version {}; schema version must be <= binary version",
                binary.text
            ),
        )),
        Ok(_) => {}
    }
}

/// Setting `allowAutoSchemaVersion: false` forbids `schemaVersion: auto`,
/// ratcheted like Rule A so objects already on `auto` stay updatable.
pub fn auto_schema_allowed(review: &Review, findings: &mut Findings) {
    if review.settings.allow_auto_schema_version
        || review.new.schema_version != DesiredSchema::Auto
        || review.spec_rule_inputs_unchanged()
    {
        return;
    }
    findings.errors.push(FieldError::forbidden(
        SCHEMA_VERSION,
        "this policy forbids automatic schema upgrades (schemaVersion \"auto\", setting allowAutoSchemaVersion: \
         false); set an explicit schemaVersion X.Y.Z, at most the binary version, to upgrade the schema"
            .to_owned(),
    ));
}

pub fn auto_schema_on_replicated_cluster(review: &Review, findings: &mut Findings) {
    if review.new.schema_version == DesiredSchema::Auto && review.new.cluster_replication {
        findings.warnings.push(
            "schemaVersion \"auto\" is meant for single-region clusters; with spec.clusterReplication set, \
             pin a schemaVersion"
                .to_owned(),
        );
    }
}

/// Rule B: the binary must never go below the installed schema; there is no
/// downgrade path for `ALTER EXTENSION`.
pub fn no_binary_below_installed_schema(review: &Review, findings: &mut Findings) {
    let Some(installed) = review.old.and_then(|old| old.installed_schema) else {
        return;
    };
    // Upstream's reason, kept: on an unrelated patch the image tag may not be
    // the extension version (CI tags like "0.2.0-test-12345").
    if !review.binary_changed() {
        return;
    }
    let binary: BinaryVersion = match review.binary() {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(unversioned) => {
            let reason = unknown_binary_reason(unversioned);
            if review.settings.reject_unknown_binary_version {
                findings.errors.push(FieldError::forbidden(
                    "spec",
                    format!(
                        "the binary version is unknown ({reason}); the setting rejectUnknownBinaryVersion requires \
                         one to check the change against installed schema version {}",
                        shown(installed)
                    ),
                ));
            } else {
                findings.warnings.push(format!(
                    "rollback check skipped: the binary version is unknown ({reason})"
                ));
            }
            return;
        }
    };
    match compare_versions(binary.into(), installed_schema_operand(installed)) {
        Err(e) => findings.errors.push(FieldError::forbidden(
            "spec",
            format!("cannot validate image rollback: version comparison failed: {e}"),
        )),
        Ok(Ordering::Less) => findings.errors.push(FieldError::forbidden(
            "spec",
            format!(
                "image rollback blocked: requested version {b} is older than installed schema version {installed}. \
                 ALTER EXTENSION has no downgrade path — running an older binary with a newer schema may cause \
                 data corruption. To recover, restore from backup or update to a version >= {installed}.",
                b = binary.text
            ),
        )),
        Ok(_) => {}
    }
}

/// A binary upgrade with schemaVersion empty leaves the schema behind, by
/// design (two-phase); say so on every such change.
pub fn two_phase_upgrade_pending(review: &Review, findings: &mut Findings) {
    if review.new.schema_version != DesiredSchema::TwoPhase || !review.binary_changed() {
        return;
    }
    let (Some(installed), Some(binary)) =
        (review.installed_schema_version(), review.binary_version())
    else {
        return;
    };
    if binary > installed {
        findings.warnings.push(format!(
            "two-phase upgrade: the binary moves to {binary} but the schema stays at {installed} until \
             spec.schemaVersion is set"
        ));
    }
}

/// Setting schemaVersion below the installed schema does nothing.
pub fn schema_downgrade_is_noop(review: &Review, findings: &mut Findings) {
    let (DesiredSchema::Explicit(schema), Some(old)) = (review.new.schema_version, review.old)
    else {
        return;
    };
    if old.schema_version == review.new.schema_version {
        return;
    }
    let (Ok(schema), Some(installed)) = (
        ExtensionVersion::parse(schema),
        review.installed_schema_version(),
    ) else {
        return;
    };
    if schema < installed {
        findings.warnings.push(format!(
            "spec.schemaVersion {schema} is below the installed schema {installed}: no-op, a schema cannot be \
             downgraded"
        ));
    }
}
