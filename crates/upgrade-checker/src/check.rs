//! One check: two documents and the settings become the admission request the
//! API server would send, which goes through the policy's own
//! [`validate_payload`] — the verdict is the module's, not a re-implementation.

use serde::Serialize;
use serde_json::{Value, json};

use documentdb_upgrade_safety::cluster::{Cluster, NoCluster};
use documentdb_upgrade_safety::message::quote;
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::upgrade::{self, Version};
use documentdb_upgrade_safety::validation::{
    Evaluation, GROUP, KIND, RESOURCE, Verdict, evaluate_payload,
};

use crate::input::{self, InputError, Source, TypeMeta};
use crate::timeline::{self, Timeline};

/// How a check ended (the page's verdict; the CLI's exit code comes from the
/// batch's [`crate::batch::Summary::exit_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Allowed,
    Denied,
    /// Not a DocumentDB create or update: the policy lets it through unread.
    NotApplicable,
    /// The policy engine would refuse to load the policy with these settings.
    SettingsRefused,
    /// The documents could not be read.
    InputError,
}

/// The module's answer, in the fields the policy engine prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub outcome: Outcome,
    pub allowed: bool,
    pub code: Option<u16>,
    pub message: Option<String>,
    pub warnings: Vec<String>,
}

impl From<Verdict> for Decision {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::NotApplicable(_) => Decision::allowed(Outcome::NotApplicable, Vec::new()),
            Verdict::Accepted { warnings } => Decision::allowed(Outcome::Allowed, warnings),
            Verdict::Rejected {
                message,
                code,
                warnings,
            } => Decision {
                outcome: Outcome::Denied,
                allowed: false,
                code: Some(code),
                message: Some(message),
                warnings,
            },
        }
    }
}

impl Decision {
    fn allowed(outcome: Outcome, warnings: Vec<String>) -> Self {
        Decision {
            outcome,
            allowed: true,
            code: None,
            message: None,
            warnings,
        }
    }

    fn refused(outcome: Outcome, message: String) -> Self {
        Decision {
            outcome,
            allowed: false,
            code: None,
            message: Some(message),
            warnings: Vec::new(),
        }
    }
}

/// A binary version and the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinarySource {
    pub version: String,
    pub source: &'static str,
}

/// Everything a check reports: the module's decision, what it was based on,
/// and where the change sits in the two-phase upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(flatten)]
    pub decision: Decision,
    /// The checker's own remarks on the input (never change the decision).
    pub notes: Vec<String>,
    /// CREATE without a current object, UPDATE with one.
    pub operation: Option<&'static str>,
    pub name: Option<String>,
    /// The binary the desired object asks for, as the rules resolve it.
    pub binary_version: Option<BinarySource>,
    /// `status.schemaVersion` of the current object.
    pub installed_schema_version: Option<String>,
    pub timeline: Option<Timeline>,
}

impl Report {
    fn input_error(outcome: Outcome, message: String) -> Self {
        Report {
            decision: Decision::refused(outcome, message),
            notes: Vec::new(),
            operation: None,
            name: None,
            binary_version: None,
            installed_schema_version: None,
            timeline: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"outcome":"input-error","allowed":false,"message":"cannot encode the report: {e}"}}"#)
        })
    }
}

/// Why the policy's `validate_settings` refuses `settings`, as the checker
/// says it; `None` when it accepts them.
pub(crate) fn refused_settings(settings: &Value) -> Option<String> {
    let bytes = serde_json::to_vec(settings).unwrap_or_default();
    Settings::from_json(&bytes)
        .err()
        .map(|errors| format!("the policy settings are invalid: {errors}"))
}

/// Checks the change from `current` (empty: a new cluster) to `desired`
/// under `settings`; each is YAML or JSON text.
pub fn check(current: &str, desired: &str, settings: &str) -> Report {
    let settings_value = match input::settings(settings) {
        Ok(value) => value,
        Err(InputError(message)) => return Report::input_error(Outcome::InputError, message),
    };
    // What `kwctl run` and policy-server do first: a policy whose settings
    // fail validate_settings never sees a request.
    if let Some(message) = refused_settings(&settings_value) {
        return Report::input_error(Outcome::SettingsRefused, message);
    }
    match read_documents(current, desired) {
        Ok((current, desired)) => {
            check_documents(current.as_ref(), &desired, &settings_value, &NoCluster)
        }
        Err(InputError(message)) => Report::input_error(Outcome::InputError, message),
    }
}

fn read_documents(current: &str, desired: &str) -> Result<(Option<Value>, Value), InputError> {
    let current = if current.trim().is_empty() {
        None
    } else {
        let documents = input::documents(current, Source::Current)?;
        Some(input::select(documents, Source::Current, None)?)
    };
    // select() reports an empty input and checks every document's apiVersion and kind.
    let documents = input::documents(desired, Source::Desired)?;
    let desired = input::select(documents, Source::Desired, current.as_ref())?;
    Ok((current, desired))
}

/// The admission request the API server sends for applying `desired` over
/// `current`, as the policy receives it.
pub fn admission_request(current: Option<&Value>, desired: &Value, meta: &TypeMeta) -> Value {
    let (namespace, name) = input::object_key(desired);
    let resource = if meta.is_documentdb() {
        RESOURCE.to_owned()
    } else {
        // Only the DocumentDB resource name matters to the policy.
        format!("{}s", meta.kind.to_lowercase())
    };
    let mut request = json!({
        "uid": "upgrade-checker",
        "kind": {"group": meta.group, "version": meta.version, "kind": meta.kind},
        "resource": {"group": meta.group, "version": meta.version, "resource": resource},
        "operation": if current.is_some() { "UPDATE" } else { "CREATE" },
        "object": desired,
    });
    if let Some(name) = name {
        request["name"] = json!(name);
    }
    if let Some(namespace) = namespace {
        request["namespace"] = json!(namespace);
    }
    if let Some(current) = current {
        request["oldObject"] = current.clone();
    }
    request
}

/// The report for applying `desired` over `current` (`None`: a CREATE), with
/// `cluster` answering the policy's host calls.
pub(crate) fn check_documents(
    current: Option<&Value>,
    desired: &Value,
    settings_value: &Value,
    cluster: &dyn Cluster,
) -> Report {
    let mut notes = Vec::new();
    let meta = match TypeMeta::of(desired, Source::Desired) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            notes.push(format!(
                "the desired manifest has no apiVersion: checked as a {GROUP}/preview {KIND}"
            ));
            TypeMeta {
                group: GROUP.to_owned(),
                version: "preview".to_owned(),
                kind: KIND.to_owned(),
            }
        }
        Err(InputError(message)) => return Report::input_error(Outcome::InputError, message),
    };
    let request = admission_request(current, desired, &meta);
    let payload = json!({"request": request, "settings": settings_value});
    let payload = serde_json::to_vec(&payload).unwrap_or_default();
    let (verdict, described) = evaluate_payload(&payload, cluster, describe_change);

    let (namespace, name) = input::object_key(desired);
    if let Some(current) = current
        && !input::same_object(current, desired)
    {
        let (current_namespace, current_name) = input::object_key(current);
        notes.push(format!(
            "the current object is {} and the desired one {}: the API server treats them as two objects",
            describe_key(current_namespace, current_name),
            describe_key(namespace, name)
        ));
    }
    if matches!(verdict, Verdict::NotApplicable(_)) {
        notes.push(format!(
            "{} is not a {GROUP} {KIND}: the policy lets it through without reading it",
            meta.describe()
        ));
    }

    let mut report = Report {
        decision: Decision::from(verdict),
        notes,
        operation: Some(if current.is_some() {
            "UPDATE"
        } else {
            "CREATE"
        }),
        name: name.map(str::to_owned),
        binary_version: None,
        installed_schema_version: None,
        timeline: None,
    };
    if let Some(described) = described {
        report.binary_version = described.binary_version;
        report.installed_schema_version = described.installed_schema_version;
        report.notes.extend(described.note);
        report.timeline = Some(described.timeline);
    }
    report
}

fn describe_key(namespace: Option<&str>, name: Option<&str>) -> String {
    let name = quote(name.unwrap_or_default());
    match namespace {
        Some(namespace) => format!("{name} in namespace {}", quote(namespace)),
        None => name,
    }
}

/// What the policy's evaluation says about the change, beyond the verdict.
struct Described {
    binary_version: Option<BinarySource>,
    installed_schema_version: Option<String>,
    note: Option<String>,
    timeline: Timeline,
}

/// Reads the versions and the timeline off the policy's own evaluation; an
/// object the policy found malformed is not evaluated and gets neither.
fn describe_change(evaluation: &Evaluation) -> Described {
    let position = upgrade::position(&evaluation.review);
    let binary_version = position
        .binary_after
        .as_ref()
        .map(|(version, origin)| BinarySource {
            version: version.shown(),
            source: origin.describe(),
        });
    let mut note = None;
    let mut installed_schema_version = None;
    if let Some(old) = evaluation.review.old {
        installed_schema_version = position.installed_schema.as_ref().map(Version::shown);
        if old.installed_schema.is_none() {
            note = Some(
                "the current object has no status.schemaVersion, so the rollback rule had nothing to check against: \
                 use the output of `kubectl get documentdb NAME -n NAMESPACE -o yaml`, not the manifest file"
                    .to_owned(),
            );
        }
    }
    Described {
        binary_version,
        installed_schema_version,
        note,
        timeline: timeline::timeline(&position, &evaluation.findings),
    }
}
