//! Where a change sits in the two-phase upgrade (installed schema → binary →
//! schema), and the next safe step. Presentation only: the verdict comes from
//! the policy's rules; this reads the same documents to explain it.

use std::cmp::Ordering;

use serde::Serialize;

use documentdb_upgrade_safety::document::{DesiredSchema, DocumentDb, ResolvedBinary};
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::version::{ExtensionVersion, shown};

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

/// A version as written and, when it parses, as a number to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    text: String,
    parsed: Option<ExtensionVersion>,
}

impl Shown {
    fn new(text: &str) -> Self {
        Shown {
            text: shown(text),
            parsed: ExtensionVersion::parse(text).ok(),
        }
    }
}

/// `left` against `right` when both parse.
fn compare(left: Option<&Shown>, right: Option<&Shown>) -> Option<Ordering> {
    Some(left?.parsed?.cmp(&right?.parsed?))
}

fn binary_of(document: &DocumentDb, settings: &Settings) -> Option<Shown> {
    match document.resolve_binary_version(settings) {
        ResolvedBinary::Known(binary) => Some(Shown::new(binary.text)),
        ResolvedBinary::Unknown(_) => None,
    }
}

/// The schema the operator leaves installed once it has applied `document`.
fn schema_after(
    document: &DocumentDb,
    binary: Option<&Shown>,
    installed: Option<&Shown>,
    creating: bool,
) -> Option<Shown> {
    match document.schema_version {
        // CREATE EXTENSION installs the binary's own version.
        DesiredSchema::TwoPhase if creating => binary.cloned(),
        DesiredSchema::TwoPhase => installed.cloned(),
        DesiredSchema::Auto => binary.cloned(),
        DesiredSchema::Explicit(text) => {
            let requested = Shown::new(text);
            // A schema below the installed one is a no-op: there is no downgrade.
            match compare(Some(&requested), installed) {
                Some(Ordering::Less) => installed.cloned(),
                _ => Some(requested),
            }
        }
    }
}

fn text(version: Option<&Shown>) -> &str {
    version.map_or("unknown", |version| version.text.as_str())
}

pub fn timeline(
    old: Option<&DocumentDb>,
    new: &DocumentDb,
    settings: &Settings,
    allowed: bool,
) -> Timeline {
    let creating = old.is_none();
    let installed = old.and_then(|old| old.installed_schema).map(Shown::new);
    let binary_before = old.and_then(|old| binary_of(old, settings));
    let binary_after = binary_of(new, settings);
    let schema_after = schema_after(new, binary_after.as_ref(), installed.as_ref(), creating);

    let binary_moves = compare(binary_after.as_ref(), binary_before.as_ref());
    let schema_moves = match (&schema_after, &installed) {
        (Some(_), None) => creating.then_some(Ordering::Greater),
        _ => compare(schema_after.as_ref(), installed.as_ref()),
    };
    let binary_changed = match binary_moves {
        Some(order) => order != Ordering::Equal,
        None => binary_before != binary_after,
    };
    let steps = vec![
        Step {
            name: "installed schema",
            from: installed.as_ref().map(|v| v.text.clone()),
            to: installed.as_ref().map(|v| v.text.clone()),
            changed: false,
        },
        Step {
            name: "binary",
            from: binary_before.as_ref().map(|v| v.text.clone()),
            to: binary_after.as_ref().map(|v| v.text.clone()),
            changed: binary_changed,
        },
        Step {
            name: "schema",
            from: installed.as_ref().map(|v| v.text.clone()),
            to: schema_after.as_ref().map(|v| v.text.clone()),
            changed: schema_moves == Some(Ordering::Greater),
        },
    ];

    let installed_text = text(installed.as_ref());
    let (b0, b1) = (text(binary_before.as_ref()), text(binary_after.as_ref()));
    let after = text(schema_after.as_ref());
    let (stage, summary, next_step) = if !allowed {
        blocked(new, binary_after.as_ref(), installed.as_ref())
    } else if creating {
        let next = match new.schema_version {
            DesiredSchema::Auto => "schemaVersion \"auto\": every later binary upgrade also updates the \
                                    schema, and the binary can never go back below it"
                .to_owned(),
            _ => "to upgrade later, raise the binary first (phase 1), then spec.schemaVersion (phase 2)"
                .to_owned(),
        };
        (
            Stage::NewCluster,
            format!("new cluster: binary {b1}, schema installed at {after}"),
            next,
        )
    } else if binary_after.is_none() {
        (
            Stage::VersionUnknown,
            "the desired binary version cannot be determined".to_owned(),
            "pin the image to an X.Y.Z tag or set spec.documentDBVersion, so that the rollback rule can check the change"
                .to_owned(),
        )
    } else if installed.is_none() {
        let binary = if binary_changed {
            format!("binary {b0} → {b1}")
        } else {
            format!("binary {b1} unchanged")
        };
        (
            Stage::InstalledSchemaUnknown,
            format!(
                "{binary}; the installed schema is unknown (the current object has no status.schemaVersion)"
            ),
            "check again with the output of `kubectl get db NAME -o yaml` as the current object: without the \
             installed schema, neither the rollback rule nor the next step can be worked out"
                .to_owned(),
        )
    } else if binary_changed && binary_moves.is_none() {
        (
            Stage::VersionUnknown,
            format!(
                "binary {b0} → {b1}: one of the two versions cannot be read, so whether this is an upgrade or a \
                 rollback cannot be told"
            ),
            pending(installed.as_ref(), binary_after.as_ref()),
        )
    } else if schema_moves == Some(Ordering::Greater) {
        let summary = if binary_changed {
            format!("binary {b0} → {b1} and schema {installed_text} → {after} in one change")
        } else {
            format!(
                "phase 2 of 2: schema {installed_text} → {after} (ALTER EXTENSION, no way back)"
            )
        };
        let stage = if binary_changed {
            Stage::OneStepUpgrade
        } else {
            Stage::SchemaUpdate
        };
        let next = match compare(schema_after.as_ref(), binary_after.as_ref()) {
            Some(Ordering::Less) => format!(
                "the schema is still behind the binary: set spec.schemaVersion: \"{b1}\" to catch up; from now on \
                 the binary must stay at {after} or later"
            ),
            _ => format!("upgrade complete; from now on the binary must stay at {after} or later"),
        };
        (stage, summary, next)
    } else if binary_moves == Some(Ordering::Greater) {
        (
            Stage::BinaryUpgrade,
            format!("phase 1 of 2: binary {b0} → {b1}; the schema stays at {installed_text}"),
            format!(
                "once the pods run {b1} and are healthy, set spec.schemaVersion: \"{b1}\" (phase 2); until then the \
                 binary can still go back as far as {installed_text}"
            ),
        )
    } else if binary_moves == Some(Ordering::Less) {
        (
            Stage::BinaryRollback,
            format!(
                "binary rollback {b0} → {b1}, allowed: the installed schema {installed_text} is not above it"
            ),
            format!(
                "the schema stays at {installed_text}; do not set spec.schemaVersion above {b1}"
            ),
        )
    } else {
        (
            Stage::NoVersionChange,
            "no version change".to_owned(),
            pending(installed.as_ref(), binary_after.as_ref()),
        )
    };
    Timeline {
        steps,
        stage,
        summary,
        next_step,
    }
}

/// What is left to do when this change moves neither binary nor schema.
fn pending(installed: Option<&Shown>, binary: Option<&Shown>) -> String {
    let (installed_text, binary_text) = (text(installed), text(binary));
    match compare(installed, binary) {
        Some(Ordering::Less) => format!(
            "the schema ({installed_text}) is behind the binary ({binary_text}): set spec.schemaVersion: \
             \"{binary_text}\" to finish the upgrade"
        ),
        Some(Ordering::Greater) => format!(
            "the binary {binary_text} is below the installed schema {installed_text}: raise the binary to \
             {installed_text} or later"
        ),
        _ => "nothing pending".to_owned(),
    }
}

/// What is wrong and the way out, for the two rules that deny version changes.
fn blocked(
    new: &DocumentDb,
    binary: Option<&Shown>,
    installed: Option<&Shown>,
) -> (Stage, String, String) {
    let mut problems = Vec::new();
    let mut steps = Vec::new();
    if let (Some(installed), Some(Ordering::Less)) = (installed, compare(binary, installed)) {
        problems.push(format!(
            "binary {} is below the installed schema {}",
            text(binary),
            installed.text
        ));
        steps.push(format!(
            "keep the binary at {} or later: the schema cannot be downgraded, and running {} again needs a \
             backup taken before the schema update",
            installed.text,
            text(binary)
        ));
    }
    if let DesiredSchema::Explicit(schema) = new.schema_version {
        let schema = Shown::new(schema);
        let ahead_of_binary = compare(Some(&schema), binary) == Some(Ordering::Greater);
        // A schema the database already has needs no new binary, only the old one back.
        let already_installed = compare(Some(&schema), installed).is_some_and(Ordering::is_le);
        if ahead_of_binary {
            problems.push(format!(
                "schema {} is ahead of binary {}",
                schema.text,
                text(binary)
            ));
            if !already_installed {
                steps.push(format!(
                    "upgrade the binary to {s} or later first and let the pods become healthy (phase 1), then set \
                     spec.schemaVersion: \"{s}\" (phase 2)",
                    s = schema.text
                ));
            }
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
