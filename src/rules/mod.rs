//! The rules layer: the admission rules, as lists of small functions with one
//! signature, the shape of the upstream webhook's `validate`,
//! `validateChanges` and its create-only checks: adding a rule is adding one
//! function to a list. Pure functions over the model, the settings and the
//! facts the cluster layer reads.

use crate::cluster::Cluster;
use crate::findings::{Advice, Findings, SCHEMA_VERSION, Violation};
use crate::model::document::{
    BinaryVersion, DesiredSchema, DocumentDb, ImageField, ResolvedBinary,
};
use crate::model::quantity::Quantity;
use crate::model::resources::envelope_problems;
use crate::model::version::{ExtensionVersion, Operand, has_canonical_syntax};
use crate::settings::Settings;

pub mod image_volume;
pub mod restore;
pub mod status_guard;
pub mod upgrade;

/// One admission decision's inputs.
#[derive(Debug, Clone, Copy)]
pub struct Review<'a> {
    pub new: &'a DocumentDb<'a>,
    /// The stored object; `Some` exactly on UPDATE.
    pub old: Option<&'a DocumentDb<'a>>,
    pub settings: &'a Settings,
    // --- context-aware checks ---
    /// What the CREATE rules may ask the cluster.
    pub cluster: &'a dyn Cluster,
    /// `request.namespace`: where a restore's Backup is looked up.
    pub namespace: Option<&'a str>,
    // --- end context-aware checks ---
}

pub type Rule = for<'a> fn(&Review<'a>, &mut Findings<'a>);

/// A rule list: the rules in order, as `pub const $list: &[Rule]` (the
/// list the docs name), and `fn $run`, which calls them in that order; one
/// list of names makes both, so they cannot drift apart. `$run` calls each rule
/// directly, not through the list's function pointers: on a fresh instance
/// wasmtime fills its function table lazily, so each pointer's first call
/// looks the function up (~0.7 µs for the nine rules of an UPDATE;
/// BENCHMARKS.md, "One page of stack").
macro_rules! rule_list {
    ($(#[$doc:meta])* $list:ident, $run:ident: [$($rule:ident),* $(,)?]) => {
        $(#[$doc])*
        pub const $list: &[Rule] = &[$($rule),*];

        #[doc = concat!("Runs [`", stringify!($list), "`] in order.")]
        fn $run<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
            $($rule(review, findings);)*
        }
    };
}

rule_list!(
    /// Rules on the object itself, on CREATE and UPDATE.
    SPEC_RULES, spec_rules: [
        schema_not_above_binary,
        auto_schema_allowed,
        auto_schema_on_replicated_cluster,
        resource_envelope_leaves_room,
    ]
);

rule_list!(
    /// Rules on what an UPDATE changes, against the stored object.
    CHANGE_RULES, change_rules: [
        no_binary_below_installed_schema,
        two_phase_upgrade_pending,
        schema_downgrade_is_noop,
        bootstrap_is_fixed,
        storage_only_grows,
    ]
);

rule_list!(
    /// Rules on a new object that read the cluster (CREATE only): upstream's
    /// ImageVolume preflight, then its restore check, in the order upstream
    /// calls the API server.
    CREATE_RULES, create_rules: [image_volume_ready, restore_schema_compatible]
);

rule_list!(
    /// Rules on a stored object the background audit replays (a CREATE carrying
    /// `metadata.resourceVersion`): what admission can never see. The creation
    /// checks do not run on a replay: a cluster created long ago is not judged
    /// against today's Nodes or whatever Backup now carries its source's name.
    AUDIT_RULES, audit_rules: [binary_not_below_own_schema]
);

/// Runs every rule; violations come in list order (Rule A before Rule B), as
/// the upstream webhook aggregates its errors.
pub fn evaluate<'a>(review: &Review<'a>) -> Findings<'a> {
    let mut findings = Findings::default();
    spec_rules(review, &mut findings);
    match review.old {
        Some(_) => change_rules(review, &mut findings),
        None => create_rules(review, &mut findings),
    }
    findings
}

/// The background audit's verdict on a stored object: the spec rules, whose
/// failures are what the audit reports, then [`AUDIT_RULES`]. Asks the
/// cluster nothing.
pub fn audit<'a>(review: &Review<'a>) -> Findings<'a> {
    let mut findings = Findings::default();
    spec_rules(review, &mut findings);
    audit_rules(review, &mut findings);
    findings
}

impl<'a> Review<'a> {
    fn binary(&self) -> ResolvedBinary<'a> {
        self.new
            .resolve_binary_version(self.settings.default_documentdb_version.as_deref())
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

/// Rule A: an explicit schemaVersion must not exceed the binary version.
pub fn schema_not_above_binary<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    let DesiredSchema::Explicit(schema) = review.new.schema_version else {
        return;
    };
    if review.spec_rule_inputs_unchanged() {
        return;
    }
    if !has_canonical_syntax(schema) {
        findings.violations.push(Violation::SchemaFormat { schema });
        return;
    }
    let binary = match review.binary() {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(unversioned) => {
            let image_field = review
                .new
                .image
                .map_or(ImageField::Nested, |image| image.field);
            findings.violations.push(Violation::SchemaWithoutBinary {
                schema,
                image_field,
                unversioned,
            });
            return;
        }
    };
    let schema_operand = Operand {
        text: schema,
        origin: SCHEMA_VERSION,
    };
    match (schema_operand.parse(), Operand::from(binary).parse()) {
        (Ok(schema), Ok(binary)) if schema > binary => findings
            .violations
            .push(Violation::SchemaAboveBinary { schema, binary }),
        (Ok(_), Ok(_)) => {}
        (Err(error), _) | (_, Err(error)) => findings
            .violations
            .push(Violation::SchemaNotComparable { schema, error }),
    }
}

/// Setting `allowAutoSchemaVersion: false` forbids `schemaVersion: auto`,
/// ratcheted like Rule A so objects already on `auto` stay updatable.
pub fn auto_schema_allowed<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    if review.settings.allow_auto_schema_version
        || review.new.schema_version != DesiredSchema::Auto
        || review.spec_rule_inputs_unchanged()
    {
        return;
    }
    findings.violations.push(Violation::AutoSchemaForbidden);
}

pub fn auto_schema_on_replicated_cluster<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    if review.new.schema_version == DesiredSchema::Auto && review.new.cluster_replication {
        findings.advice.push(Advice::AutoOnReplicatedCluster);
    }
}

/// Rule B: the binary must never go below the installed schema; there is no
/// downgrade path for `ALTER EXTENSION`.
pub fn no_binary_below_installed_schema<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
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
            if review.settings.reject_unknown_binary_version {
                findings.violations.push(Violation::UnknownBinaryRejected {
                    unversioned,
                    installed,
                });
            } else {
                findings
                    .advice
                    .push(Advice::RollbackCheckSkipped { unversioned });
            }
            return;
        }
    };
    let installed_operand = Operand {
        text: installed,
        origin: "oldObject.status.schemaVersion",
    };
    match (Operand::from(binary).parse(), installed_operand.parse()) {
        (Ok(binary), Ok(installed)) if binary < installed => findings
            .violations
            .push(Violation::RollbackBelowInstalledSchema { binary, installed }),
        (Ok(_), Ok(_)) => {}
        (Err(error), _) | (_, Err(error)) => findings
            .violations
            .push(Violation::RollbackNotComparable { error }),
    }
}

/// A binary upgrade with schemaVersion empty leaves the schema behind, by
/// design (two-phase); say so on every such change.
pub fn two_phase_upgrade_pending<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    if review.new.schema_version != DesiredSchema::TwoPhase || !review.binary_changed() {
        return;
    }
    let (Some(installed), Some(binary)) =
        (review.installed_schema_version(), review.binary_version())
    else {
        return;
    };
    if binary > installed {
        findings
            .advice
            .push(Advice::TwoPhasePending { binary, installed });
    }
}

/// Setting schemaVersion below the installed schema does nothing.
pub fn schema_downgrade_is_noop<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
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
        findings
            .advice
            .push(Advice::SchemaDowngradeIsNoop { schema, installed });
    }
}

/// The pod memory and cpu envelopes leave room for PostgreSQL after the
/// gateway and OTel reservations, and are set unless both the gateway and the
/// database size the dimension (upstream's `ValidateResources`, memory then
/// cpu). Ratchet: an UPDATE that leaves `spec.resource.{memory,cpu}`, the
/// three containers and `spec.monitoring.enabled` as stored is not re-checked
/// (upstream re-checks every update, so an object stored before the rule could
/// not even have its finalizer removed).
pub fn resource_envelope_leaves_room<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    if review
        .old
        .is_some_and(|old| old.resources == review.new.resources)
    {
        return;
    }
    let reservations = review.settings.sidecar_resources.reservations();
    findings.violations.extend(
        envelope_problems(&review.new.resources, &reservations).map(Violation::ResourceEnvelope),
    );
}

/// `spec.bootstrap` only applies when the cluster is created: it may be
/// removed, not set to anything else than what is stored (upstream's
/// `validateImmutableFields`, `reflect.DeepEqual` equality).
pub fn bootstrap_is_fixed<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    let (Some(after), Some(old)) = (review.new.bootstrap, review.old) else {
        return;
    };
    if old.bootstrap != Some(after) {
        findings.violations.push(Violation::BootstrapChanged {
            before: old.bootstrap,
            after,
        });
    }
}

/// A volume can grow, not shrink (upstream's `validateStorageResize`): only a
/// change of `pvcSize` as written is looked at, both sides parsed as
/// Kubernetes quantities and compared exactly (`10Gi` → `10240Mi` is no change
/// in size).
pub fn storage_only_grows<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    let Some(old) = review.old else {
        return;
    };
    let (before, after) = (old.pvc_size, review.new.pvc_size);
    if before == after {
        return;
    }
    let stored = Quantity::parse(before);
    let requested = Quantity::parse(after);
    if let Err(error) = stored {
        findings.violations.push(Violation::StoredPvcSizeInvalid {
            size: before,
            error,
        });
    }
    if let Err(error) = requested {
        findings
            .violations
            .push(Violation::PvcSizeInvalid { size: after, error });
    }
    if let (Ok(stored), Ok(requested)) = (stored, requested)
        && requested < stored
    {
        findings
            .violations
            .push(Violation::StorageShrink { before, after });
    }
}

/// Audit: a stored object whose binary is below its own installed schema
/// (`status.schemaVersion`) — the state Rule B exists to prevent, reached
/// before the policy was installed or through `dbs/status`. An unknown binary
/// or an installed schema that does not parse is no finding: nothing is known
/// to be wrong.
pub fn binary_not_below_own_schema<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    let ResolvedBinary::Known(binary) = review.binary() else {
        return;
    };
    let Some(installed) = review.new.installed_schema else {
        return;
    };
    let (Ok(version), Ok(installed)) = (
        Operand::from(binary).parse(),
        ExtensionVersion::parse(installed),
    ) else {
        return;
    };
    if version < installed {
        findings.violations.push(Violation::BinaryBelowOwnSchema {
            binary: version,
            origin: binary.origin,
            installed,
        });
    }
}

// --- context-aware checks ---

/// Upstream's ImageVolume preflight, from the Nodes' versions (setting
/// `imageVolumeCheck`).
pub fn image_volume_ready<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    image_volume::check(review.cluster, review.settings.image_volume_check, findings);
}

/// Upstream's restore check: the binary must not be older than the schema the
/// restore source (Backup or PersistentVolume) recorded.
pub fn restore_schema_compatible<'a>(review: &Review<'a>, findings: &mut Findings<'a>) {
    let Some(source) = review.new.restore_source else {
        return;
    };
    restore::check(
        review.cluster,
        source,
        review.namespace,
        review.binary(),
        findings,
    );
}

// --- end context-aware checks ---
