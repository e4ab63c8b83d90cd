//! From the guest's `ValidationResponse` to the `AdmissionResponse` line `kwctl run` prints.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Message policy-server puts in the response when the epoch deadline interrupts a policy.
pub const TIMEOUT_MESSAGE: &str =
    "Policy execution interrupted because it exceeded the allowed execution time";

/// Message used when a policy returns a `mutated_object` that differs from the request's
/// object: policy-runner evaluates every policy as a non-mutating one.
pub const MUTATION_NOT_ALLOWED_MESSAGE: &str = "Request rejected: the policy attempted to mutate \
     the request, but it is not allowed to mutate (policy-runner evaluates policies as \
     non-mutating)";

/// Message the engine uses when a policy mutates a request that has no `object` (DELETE).
pub const MUTATION_OF_NULL_OBJECT_MESSAGE: &str = "Incoming object is null, which happens only \
     with DELETE operations, but the policy is attempting a mutation. This is not allowed";

/// What the guest's `validate` answers: the SDK's own type (snake_case keys; `accepted` is
/// the only required key; unknown keys are ignored).
pub use kubewarden_policy_sdk::response::ValidationResponse;

/// `status` of an [`AdmissionResponse`]; each key is present only when set.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// The admission response `kwctl run` prints: keys `uid, allowed, [status], auditAnnotations,
/// warnings` in this order; `status` only when a message or a code is set;
/// `auditAnnotations` and `warnings` always present (`null` when unset).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusResponse>,
    #[serde(default)]
    pub audit_annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

impl AdmissionResponse {
    /// `AdmissionResponse::from_policy_validation_response` followed by the protect-mode
    /// handler of a non-mutating policy.
    pub fn from_validation_response(
        uid: &str,
        request_object: Option<&Value>,
        response: ValidationResponse,
    ) -> Self {
        if let Some(mutated) = &response.mutated_object {
            match request_object {
                None => {
                    return Self::reject_internal_server_error(
                        uid,
                        MUTATION_OF_NULL_OBJECT_MESSAGE,
                    );
                }
                // An empty JSON patch: no mutation at all.
                Some(original) if original == mutated => {}
                Some(_) => {
                    return AdmissionResponse {
                        uid: uid.to_owned(),
                        allowed: false,
                        status: Some(StatusResponse {
                            message: Some(MUTATION_NOT_ALLOWED_MESSAGE.to_owned()),
                            code: Some(500),
                        }),
                        audit_annotations: sorted(response.audit_annotations),
                        warnings: response.warnings,
                    };
                }
            }
        }
        let status = if response.message.is_some() || response.code.is_some() {
            Some(StatusResponse {
                message: response.message,
                code: response.code,
            })
        } else {
            None
        };
        AdmissionResponse {
            uid: uid.to_owned(),
            allowed: response.accepted,
            status,
            audit_annotations: sorted(response.audit_annotations),
            warnings: response.warnings,
        }
    }

    /// Parses the guest's raw reply; a reply that is not a `ValidationResponse` is a 500.
    pub fn from_guest_reply(uid: &str, request_object: Option<&Value>, reply: &[u8]) -> Self {
        match serde_json::from_slice::<ValidationResponse>(reply) {
            Ok(resp) => Self::from_validation_response(uid, request_object, resp),
            Err(e) => Self::reject_internal_server_error(
                uid,
                &format!("cannot deserialize policy validation response: {e}"),
            ),
        }
    }

    /// A rejection with a message and a code.
    pub fn reject(uid: &str, message: &str, code: u16) -> Self {
        AdmissionResponse {
            uid: uid.to_owned(),
            allowed: false,
            status: Some(StatusResponse {
                message: Some(message.to_owned()),
                code: Some(code),
            }),
            audit_annotations: None,
            warnings: None,
        }
    }

    /// `{"allowed":false,"status":{"message":"internal server error: <message>","code":500}}`
    pub fn reject_internal_server_error(uid: &str, message: &str) -> Self {
        Self::reject(uid, &format!("internal server error: {message}"), 500)
    }

    /// The epoch deadline interrupted the policy (policy-server's answer).
    pub fn reject_timeout(uid: &str) -> Self {
        Self::reject(uid, TIMEOUT_MESSAGE, 500)
    }

    /// The single JSON line `kwctl run` prints.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("serialising an AdmissionResponse cannot fail")
    }

    /// A readable multi-line verdict (for humans, not for parsing).
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        let verdict = if self.allowed { "ALLOWED" } else { "DENIED" };
        out.push_str(verdict);
        if let Some(code) = self.status.as_ref().and_then(|s| s.code) {
            out.push_str(&format!(" (code {code})"));
        }
        out.push('\n');
        out.push_str(&format!("  uid:      {}\n", self.uid));
        if let Some(message) = self.status.as_ref().and_then(|s| s.message.as_deref()) {
            out.push_str(&format!("  message:  {message}\n"));
        }
        for warning in self.warnings.iter().flatten() {
            out.push_str(&format!("  warning:  {warning}\n"));
        }
        for (key, value) in self.audit_annotations.iter().flatten() {
            out.push_str(&format!("  audit:    {key}={value}\n"));
        }
        out
    }
}

/// The SDK keeps audit annotations in a `HashMap`; the printed line lists them sorted by key,
/// so that it is the same on every run.
fn sorted(annotations: Option<HashMap<String, String>>) -> Option<BTreeMap<String, String>> {
    annotations.map(|map| map.into_iter().collect())
}
