//! Where a change sits in the two-phase upgrade (installed schema → binary →
//! schema), and the next safe step. Presentation only: the verdict, the
//! violations and the upgrade position all come from the policy's own
//! evaluation ([`Findings`], [`UpgradePosition`]); this file compares no
//! versions and matches no rule: each violation says what it means and the
//! way out ([`Violation::meaning`], written next to its message in the policy
//! crate).

use serde::Serialize;

use documentdb_upgrade_safety::findings::{Findings, Violation};
use documentdb_upgrade_safety::upgrade::{Pending, Stage as Position, UpgradePosition, Version};

/// One stage of the upgrade and what this change does to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
    /// This change moves it.
    pub changed: bool,
}

/// What kind of step the change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    NewCluster,
    /// Phase 1: the binary moves, the schema stays.
    BinaryUpgrade,
    /// Phase 2: the schema catches up with the binary.
    SchemaUpdate,
    /// Binary and schema in one change (`auto`, or both fields at once).
    OneStepUpgrade,
    /// The binary goes back, not below the installed schema.
    BinaryRollback,
    NoVersionChange,
    /// The desired binary version, or the current one, cannot be determined.
    VersionUnknown,
    /// An UPDATE whose current object has no `status.schemaVersion`.
    InstalledSchemaUnknown,
    /// The policy denies the change.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// Installed schema, binary, schema: in the order a safe upgrade moves them.
    pub steps: Vec<Step>,
    pub stage: Stage,
    pub summary: String,
    pub next_step: String,
}

fn text(version: Option<&Version>) -> String {
    version.map_or_else(|| "unknown".to_owned(), Version::shown)
}

pub fn timeline(position: &UpgradePosition, findings: &Findings) -> Timeline {
    let installed = position.installed_schema.as_ref();
    let binary_after = position.binary_after.as_ref().map(|(version, _)| version);
    let shown = |version: Option<&Version>| version.map(Version::shown);
    let steps = vec![
        Step {
            name: "installed schema",
            from: shown(installed),
            to: shown(installed),
            changed: false,
        },
        Step {
            name: "binary",
            from: shown(position.binary_before.as_ref()),
            to: shown(binary_after),
            changed: position.binary_changed,
        },
        Step {
            name: "schema",
            from: shown(installed),
            to: shown(position.schema_after.as_ref()),
            changed: position.schema_moves_up,
        },
    ];

    let installed_text = text(installed);
    let (b0, b1) = (text(position.binary_before.as_ref()), text(binary_after));
    let after = text(position.schema_after.as_ref());
    let (stage, summary, next_step) = if !findings.is_allowed() {
        blocked(position, findings)
    } else {
        match position.stage {
            Position::NewCluster { auto } => {
                let next = if auto {
                    "schemaVersion \"auto\": every later binary upgrade also updates the schema, and the binary \
                     can never go back below it"
                        .to_owned()
                } else {
                    "to upgrade later, raise the binary first (phase 1), then spec.schemaVersion (phase 2)"
                        .to_owned()
                };
                (
                    Stage::NewCluster,
                    format!("new cluster: binary {b1}, schema installed at {after}"),
                    next,
                )
            }
            Position::DesiredBinaryUnknown => (
                Stage::VersionUnknown,
                "the desired binary version cannot be determined".to_owned(),
                "pin the image to an X.Y.Z tag or set spec.documentDBVersion, so that the rollback rule can check \
                 the change"
                    .to_owned(),
            ),
            Position::InstalledSchemaUnknown => {
                let binary = if position.binary_changed {
                    format!("binary {b0} → {b1}")
                } else {
                    format!("binary {b1} unchanged")
                };
                (
                    Stage::InstalledSchemaUnknown,
                    format!(
                        "{binary}; the installed schema is unknown (the current object has no \
                         status.schemaVersion)"
                    ),
                    "check again with the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml` as the current object: without \
                     the installed schema, neither the rollback rule nor the next step can be worked out"
                        .to_owned(),
                )
            }
            Position::DirectionUnknown { pending: left } => (
                Stage::VersionUnknown,
                format!(
                    "binary {b0} → {b1}: one of the two versions cannot be read, so whether this is an upgrade or \
                     a rollback cannot be told"
                ),
                pending(left, &installed_text, &b1),
            ),
            Position::SchemaUpdate {
                schema_behind_binary,
            }
            | Position::OneStepUpgrade {
                schema_behind_binary,
            } => {
                let (stage, summary) = if position.binary_changed {
                    (
                        Stage::OneStepUpgrade,
                        format!(
                            "binary {b0} → {b1} and schema {installed_text} → {after} in one change"
                        ),
                    )
                } else {
                    (
                        Stage::SchemaUpdate,
                        format!(
                            "phase 2 of 2: schema {installed_text} → {after} (ALTER EXTENSION, no way back)"
                        ),
                    )
                };
                let next = if schema_behind_binary {
                    format!(
                        "the schema is still behind the binary: set spec.schemaVersion: \"{b1}\" to catch up; from \
                         now on the binary must stay at {after} or later"
                    )
                } else {
                    format!("upgrade complete; from now on the binary must stay at {after} or later")
                };
                (stage, summary, next)
            }
            Position::BinaryUpgrade => (
                Stage::BinaryUpgrade,
                format!("phase 1 of 2: binary {b0} → {b1}; the schema stays at {installed_text}"),
                format!(
                    "once the pods run {b1} and are healthy, set spec.schemaVersion: \"{b1}\" (phase 2); until then \
                     the binary can still go back as far as {installed_text}"
                ),
            ),
            Position::BinaryRollback => (
                Stage::BinaryRollback,
                format!(
                    "binary rollback {b0} → {b1}, allowed: the installed schema {installed_text} is not above it"
                ),
                format!("the schema stays at {installed_text}; do not set spec.schemaVersion above {b1}"),
            ),
            Position::NoVersionChange { pending: left } => (
                Stage::NoVersionChange,
                "no version change".to_owned(),
                pending(left, &installed_text, &b1),
            ),
        }
    };
    Timeline {
        steps,
        stage,
        summary,
        next_step,
    }
}

/// What is left to do when this change moves neither binary nor schema.
fn pending(pending: Pending, installed: &str, binary: &str) -> String {
    match pending {
        Pending::SchemaBehindBinary => format!(
            "the schema ({installed}) is behind the binary ({binary}): set spec.schemaVersion: \"{binary}\" to \
             finish the upgrade"
        ),
        Pending::BinaryBelowSchema => format!(
            "the binary {binary} is below the installed schema {installed}: raise the binary to {installed} or \
             later"
        ),
        Pending::Nothing => "nothing pending".to_owned(),
    }
}

/// What is wrong and the way out, one problem and one step per violation that
/// has a way out of its own: each violation says what it means
/// ([`Violation::meaning`]); this file matches no rule.
fn blocked(position: &UpgradePosition, findings: &Findings) -> (Stage, String, String) {
    let mut problems = Vec::new();
    let mut steps = Vec::new();
    for meaning in findings.violations.iter().filter_map(Violation::meaning) {
        problems.push(meaning.problem);
        // A schema the database already has needs no new binary, only the old one back.
        let moot = meaning.moot_when_schema_installed && position.requested_schema_installed;
        if let Some(step) = meaning.next_step.filter(|_| !moot) {
            steps.push(step);
        }
    }
    if steps.is_empty() {
        steps.push("fix the fields the message names, then check again".to_owned());
    }
    let summary = if problems.is_empty() {
        "blocked: the policy denies this object".to_owned()
    } else {
        format!("blocked: {}", problems.join(", and "))
    };
    (Stage::Blocked, summary, steps.join("; "))
}
