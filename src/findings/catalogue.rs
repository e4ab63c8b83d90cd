//! Every finding, what it means and one example of its text: the source of
//! docs/messages.md (`tests/messages.rs` fails when the file is stale) and of
//! the upgrade checker's explanations ([`Violation::meaning`]). Not on the
//! request path: nothing here reaches the wasm module.

use crate::cluster::nodes::survey_nodes;
use crate::cluster::{HostError, Unreadable};
use crate::findings::{Advice, Violation};
use crate::model::document::{BinaryOrigin, Bootstrap, ImageField};
use crate::model::image::UnversionedImage;
use crate::model::quantity::{self, Quantity};
use crate::model::resources::{Dimension, EnvelopeProblem};
use crate::model::restore::{RestoreSource, SourceKind};
use crate::model::version::{ExtensionVersion, Operand};

/// What a violation means for an upgrade, and the way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meaning {
    /// What is wrong, in a few words.
    pub problem: String,
    /// The way out, when the finding has one of its own.
    pub next_step: Option<String>,
    /// The way out is moot when the schema asked for is already installed
    /// (the database has it: only the old binary back is needed).
    pub moot_when_schema_installed: bool,
}

impl Meaning {
    fn new(problem: String, next_step: String) -> Self {
        Meaning {
            problem,
            next_step: Some(next_step),
            moot_when_schema_installed: false,
        }
    }
}

/// One line of the catalogue: the finding's name, when it is given, and the
/// text of an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub when: &'static str,
    pub example: String,
}

impl Violation<'_> {
    /// The variant's name and when the rules report it. Matches every variant
    /// without a wildcard: a new violation does not compile until it is
    /// described, and `tests/messages.rs` fails until it has an example.
    pub fn described(&self) -> (&'static str, &'static str) {
        match self {
            Violation::SchemaFormat { .. } => (
                "SchemaFormat",
                "`spec.schemaVersion` is neither empty, `auto` nor `X.Y.Z`",
            ),
            Violation::SchemaWithoutBinary { .. } => (
                "SchemaWithoutBinary",
                "an explicit `spec.schemaVersion` and no binary version (none set, or an image tag without `X.Y.Z`)",
            ),
            Violation::SchemaNotComparable { .. } => (
                "SchemaNotComparable",
                "Rule A cannot compare: a version does not parse",
            ),
            Violation::SchemaAboveBinary { .. } => (
                "SchemaAboveBinary",
                "Rule A: `spec.schemaVersion` above the binary version",
            ),
            Violation::AutoSchemaForbidden => (
                "AutoSchemaForbidden",
                "`schemaVersion: auto` under the setting `allowAutoSchemaVersion: false`",
            ),
            Violation::UnknownBinaryRejected { .. } => (
                "UnknownBinaryRejected",
                "Rule B cannot determine the binary, setting `rejectUnknownBinaryVersion: true`",
            ),
            Violation::RollbackNotComparable { .. } => (
                "RollbackNotComparable",
                "Rule B cannot compare: a version does not parse",
            ),
            Violation::RollbackBelowInstalledSchema { .. } => (
                "RollbackBelowInstalledSchema",
                "Rule B: an UPDATE moves the binary below the installed schema",
            ),
            Violation::ResourceEnvelope(EnvelopeProblem::EnvelopeRequired { .. }) => (
                "ResourceEnvelope",
                "no pod envelope, and the gateway and the database do not both set the dimension (`memory` or `cpu`)",
            ),
            Violation::ResourceEnvelope(EnvelopeProblem::NoRoomForPostgres { .. }) => (
                "ResourceEnvelope",
                "the gateway and OTel reservations fill the pod envelope",
            ),
            Violation::ResourceEnvelope(EnvelopeProblem::ExceedsEnvelope { .. }) => (
                "ResourceEnvelope",
                "gateway, OTel and database exceed the pod envelope",
            ),
            Violation::BootstrapChanged { .. } => (
                "BootstrapChanged",
                "`spec.bootstrap` changed or added on UPDATE",
            ),
            Violation::StoredPvcSizeInvalid { .. } => (
                "StoredPvcSizeInvalid",
                "the stored `pvcSize` is not a quantity, on a change of it",
            ),
            Violation::PvcSizeInvalid { .. } => {
                ("PvcSizeInvalid", "the new `pvcSize` is not a quantity")
            }
            Violation::StorageShrink { .. } => ("StorageShrink", "a smaller `pvcSize`"),
            Violation::BinaryBelowOwnSchema { .. } => (
                "BinaryBelowOwnSchema",
                "background audit: a stored object whose binary is below its own `status.schemaVersion`",
            ),
            Violation::RestoreBlocked { .. } => (
                "RestoreBlocked",
                "CREATE restoring a Backup or PersistentVolume whose recorded schema is above the binary",
            ),
            Violation::ImageVolumeUnavailable { .. } => (
                "ImageVolumeUnavailable",
                "CREATE, setting `imageVolumeCheck: deny`, Nodes that cannot mount image volumes",
            ),
            Violation::InstalledSchemaLowered { .. } => (
                "InstalledSchemaLowered",
                "`dbs/status` UPDATE lowering `status.schemaVersion`, by a user not in `statusWriters`",
            ),
            Violation::InstalledSchemaCleared { .. } => (
                "InstalledSchemaCleared",
                "`dbs/status` UPDATE clearing `status.schemaVersion`, by a user not in `statusWriters`",
            ),
            Violation::InstalledSchemaUnverifiable { .. } => (
                "InstalledSchemaUnverifiable",
                "`dbs/status` UPDATE changing `status.schemaVersion` where one side is not `X.Y.Z`, by a user not in `statusWriters`",
            ),
        }
    }

    /// What this violation means for the upgrade and its way out, for the
    /// upgrade checker's timeline; `None` where the message itself names the
    /// field and the fix.
    pub fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            Violation::RollbackBelowInstalledSchema { binary, installed } => Meaning::new(
                format!("binary {binary} is below the installed schema {installed}"),
                format!(
                    "keep the binary at {installed} or later: the schema cannot be downgraded, and running \
                     {binary} again needs a backup taken before the schema update"
                ),
            ),
            Violation::BinaryBelowOwnSchema {
                binary, installed, ..
            } => Meaning::new(
                format!("the stored binary {binary} is already below its installed schema {installed}"),
                format!("raise the binary to {installed} or later now: the schema cannot be downgraded"),
            ),
            Violation::SchemaAboveBinary { schema, binary } => Meaning {
                problem: format!("schema {schema} is ahead of binary {binary}"),
                next_step: Some(format!(
                    "upgrade the binary to {schema} or later first and let the pods become healthy (phase 1), \
                     then set spec.schemaVersion: \"{schema}\" (phase 2)"
                )),
                moot_when_schema_installed: true,
            },
            Violation::StorageShrink { before, after } => {
                let (before, after) = (quantity::shown(before), quantity::shown(after));
                Meaning::new(
                    format!("storage would shrink from {before} to {after}"),
                    format!(
                        "keep spec.resource.storage.pvcSize at {before} or more: a volume can grow, never shrink; \
                         to get a smaller one, restore a backup into a new cluster"
                    ),
                )
            }
            Violation::BootstrapChanged { before, .. } => Meaning::new(
                if before.is_some() {
                    "spec.bootstrap differs from the stored one"
                } else {
                    "spec.bootstrap is added to a running cluster"
                }
                .to_owned(),
                "leave spec.bootstrap as stored, or remove it: it only takes effect when a cluster is created; \
                 to restore a backup, create a new cluster with it"
                    .to_owned(),
            ),
            Violation::ResourceEnvelope(problem) => envelope(problem),
            Violation::RestoreBlocked {
                source,
                binary,
                schema,
            } => Meaning::new(
                format!(
                    "binary {binary} is older than the schema {schema} the {} recorded",
                    source.kind.noun()
                ),
                format!(
                    "set spec.documentDBVersion (or the image tag) to {schema} or later before restoring: the \
                     restored database keeps its schema"
                ),
            ),
            Violation::ImageVolumeUnavailable { .. } => Meaning::new(
                "the cluster's nodes cannot mount the extension image".to_owned(),
                "enable the ImageVolume feature (Kubernetes 1.35 or later, or the ImageVolume feature gate on \
                 1.33/1.34, with containerd 2.1 or CRI-O 1.33 or later) before creating the cluster"
                    .to_owned(),
            ),
            // The message names the field and the fix; the dbs/status guard
            // is not a change the checker builds.
            Violation::InstalledSchemaLowered { .. }
            | Violation::InstalledSchemaCleared { .. }
            | Violation::InstalledSchemaUnverifiable { .. }
            | Violation::SchemaFormat { .. }
            | Violation::SchemaWithoutBinary { .. }
            | Violation::SchemaNotComparable { .. }
            | Violation::AutoSchemaForbidden
            | Violation::UnknownBinaryRejected { .. }
            | Violation::RollbackNotComparable { .. }
            | Violation::StoredPvcSizeInvalid { .. }
            | Violation::PvcSizeInvalid { .. } => return None,
        })
    }
}

/// The problem and the way out of an envelope violation.
fn envelope(problem: &EnvelopeProblem) -> Meaning {
    match *problem {
        EnvelopeProblem::EnvelopeRequired { dimension } => {
            let noun = dimension.name();
            Meaning::new(
                format!(
                    "no pod {noun} envelope, and {noun} is not set on both the gateway and the database"
                ),
                format!(
                    "set spec.resource.{noun}, or {noun} on both spec.resource.gateway and spec.resource.database"
                ),
            )
        }
        EnvelopeProblem::NoRoomForPostgres {
            dimension,
            envelope,
            reserved,
        } => {
            let noun = dimension.name();
            let reserved = dimension.format_amount(reserved);
            Meaning::new(
                format!(
                    "the gateway and OTel reserve {reserved} of the {} pod {noun} envelope, leaving nothing for \
                     PostgreSQL",
                    quantity::shown(envelope)
                ),
                format!(
                    "raise spec.resource.{noun} above {reserved}, or give the gateway (and OTel) less {noun}"
                ),
            )
        }
        EnvelopeProblem::ExceedsEnvelope {
            dimension,
            envelope,
            total,
            ..
        } => {
            let noun = dimension.name();
            let total = dimension.format_amount(total);
            Meaning::new(
                format!(
                    "gateway, OTel and database {noun} add up to {total}, more than the {} pod {noun} envelope",
                    quantity::shown(envelope)
                ),
                format!(
                    "raise spec.resource.{noun} to {total} or more, or lower spec.resource.database.{noun}"
                ),
            )
        }
    }
}

impl Advice<'_> {
    /// The variant's name and when the rules give it. Matches every variant
    /// without a wildcard, as [`Violation::described`].
    pub fn described(&self) -> (&'static str, &'static str) {
        match self {
            Advice::AutoOnReplicatedCluster => (
                "AutoOnReplicatedCluster",
                "`schemaVersion: auto` with a non-empty `spec.clusterReplication`",
            ),
            Advice::RollbackCheckSkipped { .. } => (
                "RollbackCheckSkipped",
                "Rule B cannot determine the binary (setting `rejectUnknownBinaryVersion: false`)",
            ),
            Advice::TwoPhasePending { .. } => (
                "TwoPhasePending",
                "an UPDATE moves the binary above the installed schema while `schemaVersion` is empty (every such change)",
            ),
            Advice::SchemaDowngradeIsNoop { .. } => (
                "SchemaDowngradeIsNoop",
                "an UPDATE sets `schemaVersion` below the installed schema",
            ),
            Advice::RestoreSourceNotFound { .. } => (
                "RestoreSourceNotFound",
                "CREATE restoring a Backup or PersistentVolume that does not exist",
            ),
            Advice::RestoreSourceUnreadable { .. } => (
                "RestoreSourceUnreadable",
                "CREATE restoring a source the policy cannot read (host error, no permission, an answer it cannot read)",
            ),
            Advice::RestoreSourceWithoutSchema { .. } => (
                "RestoreSourceWithoutSchema",
                "CREATE restoring a source that records no schema version",
            ),
            Advice::RestoreTargetUnknown { .. } => (
                "RestoreTargetUnknown",
                "CREATE restoring a source, the binary version unknown",
            ),
            Advice::RestoreNotComparable { .. } => (
                "RestoreNotComparable",
                "CREATE restoring a source, a version does not parse",
            ),
            Advice::ImageVolumeNotReady { .. } => (
                "ImageVolumeNotReady",
                "CREATE, setting `imageVolumeCheck: warn` (the default), Nodes that cannot mount image volumes",
            ),
            Advice::ImageVolumeUndetermined { .. } => (
                "ImageVolumeUndetermined",
                "CREATE, nothing blocks but some Nodes depend on what Nodes do not show",
            ),
            Advice::ImageVolumeNoNodes => {
                ("ImageVolumeNoNodes", "CREATE, the cluster lists no Nodes")
            }
            Advice::ImageVolumeUnreadable { .. } => (
                "ImageVolumeUnreadable",
                "CREATE, the Nodes cannot be listed or read (other than no permission)",
            ),
        }
    }
}

/// Violations the catalogue shows, at least one of each variant.
pub fn example_violations() -> Vec<Violation<'static>> {
    let v = |text| ExtensionVersion::parse(text).expect("an example version");
    let comparison = Operand {
        text: "0.112",
        origin: "spec.documentDBVersion",
    }
    .parse()
    .expect_err("an example of a version that does not parse");
    let quantity = Quantity::parse("10 Gi").expect_err("an example of a bad quantity");
    let backup = RestoreSource {
        kind: SourceKind::Backup,
        name: "nightly",
    };
    vec![
        Violation::SchemaFormat { schema: "0.112" },
        Violation::SchemaWithoutBinary {
            schema: "0.112.0",
            image_field: ImageField::Nested,
            unversioned: Some(UnversionedImage::TagWithoutVersion("latest")),
        },
        Violation::SchemaNotComparable {
            schema: "0.112.0",
            error: comparison.clone(),
        },
        Violation::SchemaAboveBinary {
            schema: v("0.112.0"),
            binary: v("0.110.0"),
        },
        Violation::AutoSchemaForbidden,
        Violation::UnknownBinaryRejected {
            unversioned: None,
            installed: "0.110.0",
        },
        Violation::RollbackNotComparable { error: comparison },
        Violation::RollbackBelowInstalledSchema {
            binary: v("0.110.0"),
            installed: v("0.112.0"),
        },
        Violation::ResourceEnvelope(EnvelopeProblem::EnvelopeRequired {
            dimension: Dimension::Memory,
        }),
        Violation::ResourceEnvelope(EnvelopeProblem::NoRoomForPostgres {
            dimension: Dimension::Memory,
            envelope: "1Gi",
            reserved: 1 << 30,
        }),
        Violation::ResourceEnvelope(EnvelopeProblem::ExceedsEnvelope {
            dimension: Dimension::Cpu,
            envelope: "2",
            database: "2",
            total: 2500,
        }),
        Violation::BootstrapChanged {
            before: None,
            after: Bootstrap::default(),
        },
        Violation::StoredPvcSizeInvalid {
            size: "10 Gi",
            error: quantity,
        },
        Violation::PvcSizeInvalid {
            size: "10 Gi",
            error: quantity,
        },
        Violation::StorageShrink {
            before: "20Gi",
            after: "10Gi",
        },
        Violation::BinaryBelowOwnSchema {
            binary: v("0.110.0"),
            origin: BinaryOrigin::DocumentDbVersion,
            installed: v("0.112.0"),
        },
        Violation::RestoreBlocked {
            source: backup,
            binary: v("0.110.0"),
            schema: v("0.112.0"),
        },
        Violation::ImageVolumeUnavailable {
            nodes: example_nodes(),
        },
        Violation::InstalledSchemaLowered {
            user: "alice",
            from: v("0.112.0"),
            to: v("0.110.0"),
        },
        Violation::InstalledSchemaCleared {
            user: "alice",
            from: "0.112.0",
        },
        Violation::InstalledSchemaUnverifiable {
            user: "alice",
            from: "0.112.0",
            to: "latest",
        },
    ]
}

/// Advice the catalogue shows, one of each variant.
pub fn example_advice() -> Vec<Advice<'static>> {
    let v = |text| ExtensionVersion::parse(text).expect("an example version");
    let backup = RestoreSource {
        kind: SourceKind::Backup,
        name: "nightly",
    };
    vec![
        Advice::AutoOnReplicatedCluster,
        Advice::RollbackCheckSkipped {
            unversioned: Some(UnversionedImage::DigestOnly),
        },
        Advice::TwoPhasePending {
            binary: v("0.112.0"),
            installed: v("0.110.0"),
        },
        Advice::SchemaDowngradeIsNoop {
            schema: v("0.110.0"),
            installed: v("0.112.0"),
        },
        Advice::RestoreSourceNotFound { source: backup },
        Advice::RestoreSourceUnreadable {
            source: backup,
            reason: Unreadable::Host(HostError("connection refused".to_owned())),
        },
        Advice::RestoreSourceWithoutSchema { source: backup },
        Advice::RestoreTargetUnknown {
            source: backup,
            schema: "0.112.0".to_owned(),
        },
        Advice::RestoreNotComparable {
            source: backup,
            binary: "0.110",
            schema: "0.112.0".to_owned(),
            error: Operand {
                text: "0.110",
                origin: "spec.documentDBVersion",
            }
            .parse()
            .expect_err("an example of a version that does not parse"),
        },
        Advice::ImageVolumeNotReady {
            nodes: example_nodes(),
        },
        Advice::ImageVolumeUndetermined {
            nodes: survey_nodes(
                br#"{"items":[{"metadata":{"name":"node-a"},"status":{"nodeInfo":{"kubeletVersion":"v1.34.1","containerRuntimeVersion":"containerd://2.1.4"}}}]}"#,
            )
            .expect("an example Node list"),
        },
        Advice::ImageVolumeNoNodes,
        Advice::ImageVolumeUnreadable {
            reason: Unreadable::NoItems,
        },
    ]
}

/// Two Nodes, one with a kubelet too old for image volumes.
fn example_nodes() -> crate::model::nodes::NodeSurvey {
    survey_nodes(
        br#"{"items":[
            {"metadata":{"name":"node-a"},"status":{"nodeInfo":{"kubeletVersion":"v1.32.4","containerRuntimeVersion":"containerd://2.1.4"}}},
            {"metadata":{"name":"node-b"},"status":{"nodeInfo":{"kubeletVersion":"v1.35.0","containerRuntimeVersion":"containerd://2.1.4"}}}]}"#,
    )
    .expect("an example Node list")
}

/// The catalogue's entries: denials (as field errors), then warnings.
pub fn entries() -> (Vec<Entry>, Vec<Entry>) {
    let denials = example_violations()
        .iter()
        .map(|violation| {
            let (name, when) = violation.described();
            Entry {
                name,
                when,
                example: violation.field_error().to_string(),
            }
        })
        .collect();
    let warnings = example_advice()
        .iter()
        .map(|advice| {
            let (name, when) = advice.described();
            Entry {
                name,
                when,
                example: advice.to_string(),
            }
        })
        .collect();
    (denials, warnings)
}

/// docs/messages.md, as generated from the findings.
pub fn markdown() -> String {
    let (denials, warnings) = entries();
    let mut out = String::from(HEADER);
    out.push_str("\n## Denials\n\n");
    out.push_str(
        "Each is one error of the message above, in the API server's field error format; the \
         finding is the `Violation` of `src/findings.rs` that writes it.\n\n",
    );
    table(&mut out, "error", &denials);
    out.push_str("\n## Warnings\n\n");
    out.push_str(
        "Kubernetes admission warnings: `kubectl` prints them, they never change the verdict. The \
         finding is the `Advice` of `src/findings.rs` that writes it.\n\n",
    );
    table(&mut out, "warning", &warnings);
    out.push_str(FOOTER);
    out
}

fn table(out: &mut String, column: &str, entries: &[Entry]) {
    out.push_str(&format!(
        "| finding | when | {column}, for example |\n|---|---|---|\n"
    ));
    for entry in entries {
        out.push_str(&format!(
            "| `{}` | {} | `{}` |\n",
            entry.name,
            entry.when,
            entry.example.replace('|', "\\|")
        ));
    }
}

const HEADER: &str = "# Message catalogue

<!-- Generated from src/findings/catalogue.rs: do not edit. `WRITE_MESSAGES=1 cargo test -p
documentdb-upgrade-safety --test messages` rewrites it; the same test fails when it is stale. -->

Every denial and warning the policy gives, with an example of its exact text
(tests pin each one). Denials use the API server's format, code 422, all
violations of a request together in the upstream webhook's order (schema rule,
resources memory then cpu, then on UPDATE rollback, bootstrap, storage; on
CREATE the restore and ImageVolume checks; on a background-audit replay the
drift check): `DocumentDB.documentdb.io \"<name>\" is invalid: <error>`, or
`…: [<error>, <error>]`, identical errors once. Any quoted value longer than 64
characters is cut with `…`. The Rule A, Rule B, resource, bootstrap and storage
errors are the operator webhook's own, word for word, so scripts and runbooks
that match them keep working.
";

const FOOTER: &str = "
## Malformed input

The policy never panics and never returns a waPC error for a bad request (the
engine would turn either into an HTTP 500 \"internal server error\" that blocks
the write under `failurePolicy: Fail` with a message nobody can act on):

| input | answer |
|---|---|
| a field read with the wrong JSON type (`schemaVersion: 112`, `spec: []`, `spec.image: \"…\"`) | 422, every such field named: `spec.image: Invalid value: \"…\": must be an object, not a string` |
| no `object`, or no `oldObject` on UPDATE | 422, `object: Required value: the admission request carries no object` |
| no `request.kind` / `request.operation`, request not an object | 422, `the admission request is invalid: request.kind: Required value: missing` |
| not JSON (or a number beyond f64 in a field read, or a field of a fixed shape repeated) | 400, `the admission request is not valid JSON: <parser error with line and column>` |
| invalid settings in the payload | 500, `the policy settings are invalid, fix the policy's configuration: …` |

Unknown fields, however large or deeply nested (10,000 annotations, 100,000
nested arrays), are skipped without being materialised.

A version that does not parse is named with where it came from:
`spec.schemaVersion`, `spec.documentDBVersion`, `the tag of
spec.image.documentDB`, `the tag of spec.documentDBImage`,
`oldObject.status.schemaVersion`, `the defaultDocumentDBVersion setting`. A
quantity error is Kubernetes' own: `quantities must match the regular
expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`, `unable to parse
quantity's suffix` or `unable to parse numeric part of quantity`.
";
