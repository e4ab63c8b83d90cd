//! The e2e case table (`e2e/cases.yaml`): what each case states and how an
//! engine's answer is checked against it. The bats suite checks the same
//! statements with jq on kwctl's output; keep the two in step.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AdmissionResponse, InstanceMode, Policy};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// A bare AdmissionRequest or an AdmissionReview, relative to the repository.
    pub request: PathBuf,
    #[serde(default = "empty_object")]
    pub settings: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Substrings that must all appear in `status.message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message: Vec<String>,
    /// One substring per expected warning, in order; `Some([])`: no warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
    /// The engine must refuse the settings with a message containing this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// What an engine did with a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(AdmissionResponse),
    /// `validate_settings` answered `valid: false` with this message.
    SettingsRefused(String),
}

impl Outcome {
    /// `{"response": <kwctl's JSON line>}` or `{"settingsRefused": message}`:
    /// what `policy-runner cases --evaluate` prints for other engines (crates/upgrade-checker/) to
    /// compare their own answers with.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Response(response) => serde_json::json!({ "response": response }),
            Outcome::SettingsRefused(message) => serde_json::json!({ "settingsRefused": message }),
        }
    }
}

/// What `policy` does with `case`, the way the engines do it: settings
/// validated first, then `validate`. `root` is what request paths are
/// relative to.
pub fn evaluate(
    policy: &mut Policy,
    case: &Case,
    root: &Path,
    mode: InstanceMode,
) -> Result<Outcome, String> {
    let fail = |e: &dyn std::fmt::Display| format!("case {}: {e}", case.name);
    let settings = policy
        .validate_settings(&case.settings)
        .map_err(|e| fail(&e))?;
    if !settings.valid {
        return Ok(Outcome::SettingsRefused(
            settings.message.unwrap_or_default(),
        ));
    }
    let path = root.join(&case.request);
    let text =
        std::fs::read_to_string(&path).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    let request: Value =
        serde_json::from_str(&text).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    policy
        .evaluate_with_mode(&request, &case.settings, mode)
        .map(Outcome::Response)
        .map_err(|e| fail(&e))
}

/// Reads the table; a case that states neither a verdict nor a settings error
/// is refused, so that no case can pass by asserting nothing.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let cases: Vec<Case> =
        serde_yaml::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    for case in &cases {
        if case.allowed.is_some() == case.settings_error.is_some() {
            return Err(format!(
                "case {}: state exactly one of `allowed` and `settings_error`",
                case.name
            ));
        }
    }
    Ok(cases)
}

impl Case {
    /// Everything in `outcome` that contradicts the case; empty when it passes.
    pub fn problems(&self, outcome: &Outcome) -> Vec<String> {
        let mut problems = Vec::new();
        match (outcome, &self.settings_error) {
            (Outcome::SettingsRefused(message), Some(expected)) => {
                if !message.contains(expected.as_str()) {
                    problems.push(format!(
                        "settings refused with {message:?}, expected it to contain {expected:?}"
                    ));
                }
            }
            (Outcome::SettingsRefused(message), None) => {
                problems.push(format!("settings refused: {message}"));
            }
            (Outcome::Response(response), Some(_)) => {
                problems.push(format!(
                    "settings accepted, response {}",
                    response.to_json_line()
                ));
            }
            (Outcome::Response(response), None) => self.check_response(response, &mut problems),
        }
        problems
    }

    fn check_response(&self, response: &AdmissionResponse, problems: &mut Vec<String>) {
        if Some(response.allowed) != self.allowed {
            problems.push(format!(
                "allowed is {}, expected {:?}",
                response.allowed, self.allowed
            ));
        }
        let status = response.status.clone().unwrap_or_default();
        if self.code.is_some() && status.code != self.code {
            problems.push(format!(
                "code is {:?}, expected {:?}",
                status.code, self.code
            ));
        }
        let message = status.message.unwrap_or_default();
        for expected in &self.message {
            if !message.contains(expected.as_str()) {
                problems.push(format!("message lacks {expected:?}; message: {message:?}"));
            }
        }
        if let Some(expected) = &self.warnings {
            let actual = response.warnings.clone().unwrap_or_default();
            let matches = actual.len() == expected.len()
                && actual
                    .iter()
                    .zip(expected)
                    .all(|(warning, part)| warning.contains(part.as_str()));
            if !matches {
                problems.push(format!("warnings are {actual:?}, expected {expected:?}"));
            }
        }
    }
}
