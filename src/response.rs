//! The one place a [`Verdict`] becomes the SDK's wire response.

use kubewarden_policy_sdk::response::ValidationResponse;

use crate::admission::Verdict;

impl From<Verdict> for ValidationResponse {
    fn from(verdict: Verdict) -> Self {
        // The SDK has no accept-with-warnings helper: build the response whole.
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
