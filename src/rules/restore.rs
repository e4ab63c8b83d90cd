//! The restore check (CREATE): a new DocumentDB that bootstraps from a Backup or
//! a retained PersistentVolume inherits that source's installed extension
//! schema, so its binary must not be older than that schema. Upstream's
//! `validateRestoreSchemaCompatibility` (documentdb-kubernetes-operator PR #440):
//! the Backup controller records the source's schema in the Backup's
//! `status.schemaVersion`, the PV controller stamps the PersistentVolume's
//! annotation `documentdb.io/schema-version`.
//!
//! Only a known binary older than a known schema is denied; everything the
//! policy cannot establish (source missing or unreadable, no recorded schema,
//! binary unknown, versions not comparable) is a warning, never a denial and
//! never a failed request.
//!
//! The judgement only: the source is the model's (`model::restore`), reading
//! it the cluster layer's (`cluster::restore`).

use crate::cluster::Cluster;
use crate::cluster::restore::{SourceSchema, read_source_schema};
use crate::findings::{Advice, Findings, Violation};
use crate::model::document::ResolvedBinary;
use crate::model::restore::RestoreSource;
use crate::model::version::Operand;

/// Upstream's `compareBinaryToSchema`, in its order: the source's schema
/// first, then the binary, then the comparison. Only a known binary older
/// than a known schema is a violation; every other gap is advice.
pub fn judge<'a>(
    source: RestoreSource<'a>,
    schema: SourceSchema,
    binary: ResolvedBinary<'a>,
    findings: &mut Findings<'a>,
) {
    let schema = match schema {
        SourceSchema::Recorded(schema) => schema,
        SourceSchema::NotRecorded => {
            return findings
                .advice
                .push(Advice::RestoreSourceWithoutSchema { source });
        }
        SourceSchema::NotFound => {
            return findings
                .advice
                .push(Advice::RestoreSourceNotFound { source });
        }
        SourceSchema::Unreadable(reason) => {
            return findings
                .advice
                .push(Advice::RestoreSourceUnreadable { source, reason });
        }
    };
    let binary = match binary {
        ResolvedBinary::Known(binary) => binary,
        ResolvedBinary::Unknown(_) => {
            return findings
                .advice
                .push(Advice::RestoreTargetUnknown { source, schema });
        }
    };
    let schema_operand = Operand {
        text: &schema,
        origin: source.kind.schema_origin(),
    };
    let versions = Operand::from(binary)
        .parse()
        .and_then(|binary| Ok((binary, schema_operand.parse()?)));
    match versions {
        Err(error) => findings.advice.push(Advice::RestoreNotComparable {
            source,
            binary: binary.text,
            error,
            schema,
        }),
        Ok((binary, schema)) if binary < schema => {
            findings.violations.push(Violation::RestoreBlocked {
                source,
                binary,
                schema,
            })
        }
        Ok(_) => {}
    }
}

/// The restore check on one object: read the source, then [`judge`].
pub fn check<'a>(
    cluster: &dyn Cluster,
    source: RestoreSource<'a>,
    namespace: Option<&str>,
    binary: ResolvedBinary<'a>,
    findings: &mut Findings<'a>,
) {
    let schema = read_source_schema(cluster, source, namespace);
    judge(source, schema, binary, findings);
}

#[cfg(test)]
mod tests;
