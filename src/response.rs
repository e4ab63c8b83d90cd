//! The one place a [`Verdict`] becomes the wire response: the SDK's
//! `ValidationResponse`, field for field, without its
//! `Option<serde_json::Value>` (whose serialiser brings float formatting,
//! ~5 KB, into a module that never sets it). A test checks that both
//! serialise to the same bytes.

use serde::Serialize;

use crate::admission::Verdict;

/// `kubewarden_policy_sdk::response::ValidationResponse` as this policy fills
/// it: no mutation, no audit annotations.
#[derive(Debug, Serialize)]
pub(crate) struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    mutated_object: Option<()>,
    audit_annotations: Option<()>,
    warnings: Option<Vec<String>>,
}

impl From<Verdict> for ValidationResponse {
    fn from(verdict: Verdict) -> Self {
        let (accepted, message, code, warnings) = match verdict {
            Verdict::NotApplicable(_) => (true, None, None, Vec::new()),
            Verdict::Accepted { warnings } => (true, None, None, warnings),
            Verdict::Rejected {
                message,
                code,
                warnings,
            } => (false, Some(message), Some(code), warnings),
        };
        ValidationResponse {
            accepted,
            message,
            code,
            mutated_object: None,
            audit_annotations: None,
            warnings: (!warnings.is_empty()).then_some(warnings),
        }
    }
}

/// The SDK's type, for callers that compare with it (crates/fuzz-checks):
/// the same fields as this module's response.
impl From<Verdict> for kubewarden_policy_sdk::response::ValidationResponse {
    fn from(verdict: Verdict) -> Self {
        let ours = ValidationResponse::from(verdict);
        kubewarden_policy_sdk::response::ValidationResponse {
            accepted: ours.accepted,
            message: ours.message,
            code: ours.code,
            mutated_object: None,
            audit_annotations: None,
            warnings: ours.warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::response::ValidationResponse as Sdk;

    #[test]
    fn serialises_as_the_sdk_response() {
        let verdicts = [
            Verdict::NotApplicable("not ours".to_owned()),
            Verdict::Accepted {
                warnings: Vec::new(),
            },
            Verdict::Accepted {
                warnings: vec!["two-phase \"upgrade\"\n".to_owned()],
            },
            Verdict::Rejected {
                message: "DocumentDB.documentdb.io \"db\" is invalid: spec: Forbidden: é…"
                    .to_owned(),
                code: 422,
                warnings: vec!["a".to_owned(), "b".to_owned()],
            },
        ];
        for verdict in verdicts {
            let ours = serde_json::to_vec(&ValidationResponse::from(verdict.clone())).unwrap();
            let theirs = serde_json::to_vec(&Sdk::from(verdict)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }
}
