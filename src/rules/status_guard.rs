//! The status guard (UPDATE of the `dbs/status` subresource): the rollback
//! rule trusts `oldObject.status.schemaVersion` as the schema installed in the
//! database, so anyone allowed to update `dbs/status` could lower it and then
//! roll the image back past the real schema. Lowering or clearing it is denied
//! unless the user is one of the `statusWriters` (the operator); raising it,
//! and every other status change, is never touched.

use crate::findings::{Findings, Violation};
use crate::model::version::ExtensionVersion;

/// One `dbs/status` UPDATE, as far as the guard reads it ("" and absent are
/// both `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusUpdate<'a> {
    /// `request.userInfo.username`.
    pub user: Option<&'a str>,
    /// `oldObject.status.schemaVersion`.
    pub stored: Option<&'a str>,
    /// `object.status.schemaVersion`.
    pub requested: Option<&'a str>,
}

/// Lowering, clearing, or a change that may lower (one side not a version)
/// is a violation unless the user is one of `writers`; everything else
/// passes untouched.
pub fn guard<'a>(update: StatusUpdate<'a>, writers: &[String], findings: &mut Findings<'a>) {
    let user = update.user.unwrap_or_default();
    let Some(stored) = update.stored else {
        return;
    };
    if update.requested == Some(stored) || writers.iter().any(|writer| writer == user) {
        return;
    }
    let Some(requested) = update.requested else {
        return findings
            .violations
            .push(Violation::InstalledSchemaCleared { user, from: stored });
    };
    match (
        ExtensionVersion::parse(stored),
        ExtensionVersion::parse(requested),
    ) {
        (Ok(from), Ok(to)) if to < from => findings
            .violations
            .push(Violation::InstalledSchemaLowered { user, from, to }),
        (Ok(_), Ok(_)) => {}
        _ => findings
            .violations
            .push(Violation::InstalledSchemaUnverifiable {
                user,
                from: stored,
                to: requested,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DEFAULT_STATUS_WRITER;
    use rstest::rstest;

    fn writers() -> Vec<String> {
        vec![DEFAULT_STATUS_WRITER.to_owned()]
    }

    fn update<'a>(
        user: &'a str,
        stored: Option<&'a str>,
        requested: Option<&'a str>,
    ) -> StatusUpdate<'a> {
        StatusUpdate {
            user: Some(user),
            stored,
            requested,
        }
    }

    /// The field errors the guard found, rendered.
    fn detail(update: StatusUpdate, writers: &[String]) -> Option<String> {
        let mut findings = Findings::default();
        guard(update, writers, &mut findings);
        assert!(findings.advice.is_empty());
        let errors: Vec<String> = findings
            .field_errors()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(errors.len() <= 1, "{errors:?}");
        errors.into_iter().next()
    }

    const WHY_TEXT: &str = "the image rollback rule trusts status.schemaVersion as the schema installed in the \
         database, so a lower value would let the binary roll back past the installed schema, which ALTER EXTENSION \
         cannot downgrade (only the users in the policy setting statusWriters may do this)";

    #[rstest]
    #[case::lowered_by_a_user(
        update("alice", Some("0.112.0"), Some("0.110.0")),
        Some(format!("status.schemaVersion: Forbidden: user \"alice\" may not lower the installed schema version from 0.112.0 to 0.110.0: {WHY_TEXT}"))
    )]
    #[case::lowered_by_the_operator(
        update(DEFAULT_STATUS_WRITER, Some("0.112.0"), Some("0.110.0")),
        None
    )]
    #[case::raised_by_a_user(update("alice", Some("0.110.0"), Some("0.112.0")), None)]
    #[case::set_for_the_first_time(update("alice", None, Some("0.112.0")), None)]
    #[case::unchanged(update("alice", Some("0.112.0"), Some("0.112.0")), None)]
    #[case::unrelated_status_change(update("alice", Some("0.112.0"), Some("0.112.0")), None)]
    #[case::nothing_installed(update("alice", None, None), None)]
    #[case::cleared(
        update("alice", Some("0.112.0"), None),
        Some(format!("status.schemaVersion: Forbidden: user \"alice\" may not clear the installed schema version 0.112.0: {WHY_TEXT}"))
    )]
    #[case::cleared_by_the_operator(update(DEFAULT_STATUS_WRITER, Some("0.112.0"), None), None)]
    #[case::numeric_not_lexicographic(
        update("alice", Some("0.100.0"), Some("0.99.0")),
        Some(format!("status.schemaVersion: Forbidden: user \"alice\" may not lower the installed schema version from 0.100.0 to 0.99.0: {WHY_TEXT}"))
    )]
    #[case::replaced_by_garbage(
        update("alice", Some("0.112.0"), Some("latest")),
        Some(format!("status.schemaVersion: Forbidden: user \"alice\" may not change the installed schema version 0.112.0 to \"latest\": not both are versions X.Y.Z, so the change may lower it; {WHY_TEXT}"))
    )]
    #[case::stored_garbage(
        update("alice", Some("0.112"), Some("0.110.0")),
        Some(format!("status.schemaVersion: Forbidden: user \"alice\" may not change the installed schema version \"0.112\" to 0.110.0: not both are versions X.Y.Z, so the change may lower it; {WHY_TEXT}"))
    )]
    #[case::other_service_account(
        update("system:serviceaccount:default:documentdb-operator", Some("0.112.0"), Some("0.110.0")),
        Some(format!("status.schemaVersion: Forbidden: user \"system:serviceaccount:default:documentdb-operator\" may not lower the installed schema version from 0.112.0 to 0.110.0: {WHY_TEXT}"))
    )]
    fn guards_the_installed_schema(#[case] update: StatusUpdate, #[case] expected: Option<String>) {
        assert_eq!(detail(update, &writers()), expected);
    }

    #[test]
    fn no_username_is_nobody() {
        let anonymous = StatusUpdate {
            user: None,
            stored: Some("0.112.0"),
            requested: Some("0.110.0"),
        };
        assert_eq!(
            detail(anonymous, &writers()),
            Some(format!(
                "status.schemaVersion: Forbidden: user \"\" may not lower the installed schema version from 0.112.0 to 0.110.0: {WHY_TEXT}"
            ))
        );
    }

    #[rstest]
    #[case::custom_writer_allowed(&["system:serviceaccount:ops:documentdb-operator"], "system:serviceaccount:ops:documentdb-operator", true)]
    #[case::default_no_longer_listed(&["system:serviceaccount:ops:documentdb-operator"], DEFAULT_STATUS_WRITER, false)]
    #[case::nobody(&[], DEFAULT_STATUS_WRITER, false)]
    #[case::exact_match_only(&["alice"], "Alice", false)]
    fn writers_come_from_the_setting(
        #[case] writers: &[&str],
        #[case] user: &str,
        #[case] allowed: bool,
    ) {
        let writers: Vec<String> = writers.iter().map(|w| w.to_string()).collect();
        let lowered = update(user, Some("0.112.0"), Some("0.110.0"));
        assert_eq!(detail(lowered, &writers).is_none(), allowed);
    }

    #[test]
    fn hostile_values_are_quoted_and_cut() {
        let user = format!("eve\n{}", "x".repeat(1000));
        let garbage = "9".repeat(1000);
        let message = detail(update(&user, Some("0.112.0"), Some(&garbage)), &writers()).unwrap();
        assert!(message.contains("user \"eve\\nxxx"), "{message}");
        assert!(message.len() < 700, "{} bytes", message.len());
    }
}
