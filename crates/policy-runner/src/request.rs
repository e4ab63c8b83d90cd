//! The host-side `AdmissionRequest`, as policy-evaluator defines it: kwctl parses its input
//! into this struct and re-serialises it (camelCase, `None`s skipped) into the `validate`
//! payload, so unknown top-level keys and `null`s never reach the policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Result, RunnerError};

/// The settings object sent to `validate_settings` and inside every `validate` payload.
pub type Settings = Map<String, Value>;

/// `{group, version, kind}`; all three are required (Kubernetes always sends them, with
/// `group: ""` for the core API group).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// `{group, version, resource}`; all three are required.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupVersionResource {
    pub group: String,
    pub version: String,
    pub resource: String,
}

/// `authentication.k8s.io/v1` `UserInfo` (k8s-openapi field order, `None`s skipped).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The normalised admission request (field order = serialisation order = kwctl's).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub resource: GroupVersionResource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub operation: String,
    pub user_info: UserInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

impl AdmissionRequest {
    /// Builds the request from what a user hands to `kwctl run --request-path`: either a bare
    /// AdmissionRequest or a full `AdmissionReview` (then `.request` is used).
    pub fn from_input(input: &Value) -> Result<Self> {
        let request = if input.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
            input
                .get("request")
                .filter(|r| !r.is_null())
                .ok_or_else(|| RunnerError::Request("AdmissionReview has no `request`".into()))?
        } else {
            input
        };
        if !request.is_object() {
            return Err(RunnerError::Request(format!(
                "expected a JSON object, found {}",
                json_type(request)
            )));
        }
        AdmissionRequest::deserialize(request).map_err(|e| RunnerError::Request(e.to_string()))
    }

    /// Parses the text of a request file (JSON).
    pub fn from_json_str(text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| RunnerError::Request(e.to_string()))?;
        Self::from_input(&value)
    }
}

/// Settings as the engine sends them: a JSON object, `{}` when absent or `null`.
pub fn settings_from_value(value: &Value) -> Result<Settings> {
    match value {
        Value::Null => Ok(Settings::new()),
        Value::Object(map) => Ok(map.clone()),
        other => Err(RunnerError::Settings(format!(
            "settings must be an object, found {}",
            json_type(other)
        ))),
    }
}

/// The exact bytes sent to the guest's `validate` operation.
pub fn validate_payload(request: &AdmissionRequest, settings: &Settings) -> Vec<u8> {
    #[derive(Serialize)]
    struct ValidatePayload<'a> {
        request: &'a AdmissionRequest,
        settings: &'a Settings,
    }
    serde_json::to_vec(&ValidatePayload { request, settings })
        .expect("serialising JSON values to a Vec cannot fail")
}

// Not the policy's `json::type_name`: the runner stands in for kwctl and knows
// no policy; the words are the same so that its errors read alike.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
