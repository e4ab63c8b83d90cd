//! Where a change sits in the two-phase upgrade (installed schema → binary →
//! schema), worked out once from the same reading of the objects the rules
//! use. The upgrade checker's timeline renders it and compares nothing itself,
//! so the policy and its explanation cannot drift apart.

use std::cmp::Ordering;

use crate::model::document::{BinaryOrigin, DesiredSchema, DocumentDb, ResolvedBinary};
use crate::model::version::{ExtensionVersion, shown};
use crate::rules::Review;
use crate::settings::Settings;

/// A version as written and, when it parses, its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    pub text: &'a str,
    pub parsed: Option<ExtensionVersion>,
}

impl<'a> Version<'a> {
    pub fn new(text: &'a str) -> Self {
        Version {
            text,
            parsed: ExtensionVersion::parse(text).ok(),
        }
    }

    /// For a message: canonical when it parses, else quoted and cut.
    pub fn shown(&self) -> String {
        shown(self.text)
    }
}

/// `left` against `right` when both parse.
fn compare(left: Option<&Version>, right: Option<&Version>) -> Option<Ordering> {
    Some(left?.parsed?.cmp(&right?.parsed?))
}

/// What is left to do after a change that moves neither binary nor schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// The installed schema is below the binary: phase 2 is still to do.
    SchemaBehindBinary,
    /// The binary is below the installed schema (an object stored before the
    /// rollback rule existed).
    BinaryBelowSchema,
    Nothing,
}

/// What kind of step the change is, whatever the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    NewCluster {
        /// `schemaVersion: auto`: every later binary upgrade moves the schema too.
        auto: bool,
    },
    /// The desired binary version cannot be determined.
    DesiredBinaryUnknown,
    /// An UPDATE whose current object has no `status.schemaVersion`.
    InstalledSchemaUnknown,
    /// The binary changes but one of the two versions does not parse, so
    /// upgrade and rollback cannot be told apart.
    DirectionUnknown {
        pending: Pending,
    },
    /// Phase 2: the schema moves, the binary does not.
    SchemaUpdate {
        schema_behind_binary: bool,
    },
    /// Binary and schema in one change (`auto`, or both fields at once).
    OneStepUpgrade {
        schema_behind_binary: bool,
    },
    /// Phase 1: the binary moves up, the schema stays.
    BinaryUpgrade,
    /// The binary goes down, the schema stays.
    BinaryRollback,
    NoVersionChange {
        pending: Pending,
    },
}

/// The change, as the operator will carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradePosition<'a> {
    /// `oldObject.status.schemaVersion`.
    pub installed_schema: Option<Version<'a>>,
    /// The stored object's binary, when known.
    pub binary_before: Option<Version<'a>>,
    /// The new object's binary and where it came from, when known.
    pub binary_after: Option<(Version<'a>, BinaryOrigin)>,
    /// The schema installed once the operator has applied the new object.
    pub schema_after: Option<Version<'a>>,
    pub binary_changed: bool,
    /// The schema goes up (`ALTER EXTENSION … UPDATE`).
    pub schema_moves_up: bool,
    /// An explicit `spec.schemaVersion` at or below the installed schema: the
    /// database already has it.
    pub requested_schema_installed: bool,
    pub stage: Stage,
}

fn binary_of<'a>(
    document: &DocumentDb<'a>,
    settings: &'a Settings,
) -> Option<(Version<'a>, BinaryOrigin)> {
    match document.resolve_binary_version(settings.default_documentdb_version.as_deref()) {
        ResolvedBinary::Known(binary) => Some((Version::new(binary.text), binary.origin)),
        ResolvedBinary::Unknown(_) => None,
    }
}

/// The schema the operator leaves installed once it has applied `document`.
fn schema_after<'a>(
    document: &DocumentDb<'a>,
    binary: Option<&Version<'a>>,
    installed: Option<&Version<'a>>,
    creating: bool,
) -> Option<Version<'a>> {
    match document.schema_version {
        // CREATE EXTENSION installs the binary's own version.
        DesiredSchema::TwoPhase if creating => binary.copied(),
        DesiredSchema::TwoPhase => installed.copied(),
        DesiredSchema::Auto => binary.copied(),
        DesiredSchema::Explicit(text) => {
            let requested = Version::new(text);
            // A schema below the installed one is a no-op: there is no downgrade.
            match compare(Some(&requested), installed) {
                Some(Ordering::Less) => installed.copied(),
                _ => Some(requested),
            }
        }
    }
}

fn pending(installed: Option<&Version>, binary: Option<&Version>) -> Pending {
    match compare(installed, binary) {
        Some(Ordering::Less) => Pending::SchemaBehindBinary,
        Some(Ordering::Greater) => Pending::BinaryBelowSchema,
        _ => Pending::Nothing,
    }
}

/// Where the reviewed change sits in the upgrade.
pub fn position<'a>(review: &Review<'a>) -> UpgradePosition<'a> {
    let (new, old, settings) = (review.new, review.old, review.settings);
    let creating = old.is_none();
    let installed = old.and_then(|old| old.installed_schema).map(Version::new);
    let binary_before = old.and_then(|old| binary_of(old, settings)).map(|(v, _)| v);
    let binary_after = binary_of(new, settings);
    let binary = binary_after.as_ref().map(|(v, _)| v);
    let schema_after = schema_after(new, binary, installed.as_ref(), creating);

    let binary_moves = compare(binary, binary_before.as_ref());
    let schema_moves = match (&schema_after, &installed) {
        (Some(_), None) => creating.then_some(Ordering::Greater),
        _ => compare(schema_after.as_ref(), installed.as_ref()),
    };
    let binary_changed = match binary_moves {
        Some(order) => order != Ordering::Equal,
        None => binary_before.map(|v| v.text) != binary.map(|v| v.text),
    };
    let schema_moves_up = schema_moves == Some(Ordering::Greater);
    let requested_schema_installed = match new.schema_version {
        DesiredSchema::Explicit(text) => {
            compare(Some(&Version::new(text)), installed.as_ref()).is_some_and(Ordering::is_le)
        }
        _ => false,
    };

    let stage = if creating {
        Stage::NewCluster {
            auto: new.schema_version == DesiredSchema::Auto,
        }
    } else if binary.is_none() {
        Stage::DesiredBinaryUnknown
    } else if installed.is_none() {
        Stage::InstalledSchemaUnknown
    } else if binary_changed && binary_moves.is_none() {
        Stage::DirectionUnknown {
            pending: pending(installed.as_ref(), binary),
        }
    } else if schema_moves_up {
        let schema_behind_binary = compare(schema_after.as_ref(), binary) == Some(Ordering::Less);
        if binary_changed {
            Stage::OneStepUpgrade {
                schema_behind_binary,
            }
        } else {
            Stage::SchemaUpdate {
                schema_behind_binary,
            }
        }
    } else if binary_moves == Some(Ordering::Greater) {
        Stage::BinaryUpgrade
    } else if binary_moves == Some(Ordering::Less) {
        Stage::BinaryRollback
    } else {
        Stage::NoVersionChange {
            pending: pending(installed.as_ref(), binary),
        }
    };

    UpgradePosition {
        installed_schema: installed,
        binary_before,
        binary_after,
        schema_after,
        binary_changed,
        schema_moves_up,
        requested_schema_installed,
        stage,
    }
}
