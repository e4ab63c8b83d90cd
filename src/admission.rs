//! The admission layer: from the `validate` payload to a [`Verdict`] — route
//! the request (main resource, `status` subresource), gather the findings,
//! produce the verdict. A pure function of the payload and the [`Cluster`] it
//! may ask (no SDK, no waPC: the entry point passes the real host), so the
//! same code serves the waPC module, native tests and benchmarks.

use crate::cluster::Cluster;
use crate::field_error::FieldError;
use crate::findings::{Findings, invalid_object_message};
use crate::json::Field;
use crate::model::document::DocumentDb;
use crate::rules::status_guard::{self, StatusUpdate};
use crate::rules::{self, Review};
use crate::settings::{ParsedSettings, SETTINGS_SHAPE, Settings};
use crate::text::quote;
use crate::wire::{AdmissionRequest, ObjectDoc, ValidationPayload};

/// What this module validates (the model's names, here for the callers of
/// this layer).
pub use crate::model::{GROUP, KIND, OPERATIONS, RESOURCE};

/// Code of a denial, as the Kubernetes `StatusError` of `NewInvalid`.
pub const CODE_INVALID: u16 = 422;
/// Code of a payload that is not JSON at all.
pub const CODE_BAD_REQUEST: u16 = 400;
/// Code when the policy's own settings are broken (an operator problem).
pub const CODE_MISCONFIGURED: u16 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not a DocumentDB CREATE or UPDATE of the main resource: not ours.
    NotApplicable(String),
    Accepted {
        warnings: Vec<String>,
    },
    Rejected {
        message: String,
        code: u16,
        warnings: Vec<String>,
    },
}

impl Verdict {
    pub fn is_accepted(&self) -> bool {
        !matches!(self, Verdict::Rejected { .. })
    }

    fn rejected(message: String, code: u16) -> Self {
        Verdict::Rejected {
            message,
            code,
            warnings: Vec::new(),
        }
    }

    fn invalid_request(detail: &str) -> Self {
        Verdict::rejected(
            format!("the admission request is invalid: {detail}"),
            CODE_INVALID,
        )
    }

    fn invalid_request_field(error: FieldError) -> Self {
        Verdict::invalid_request(&error.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Create,
    Update,
    /// UPDATE of the `status` subresource: only the status guard runs.
    UpdateStatus,
}

/// The subresource the status guard checks (`dbs/status`).
pub const STATUS_SUBRESOURCE: &str = "status";

pub fn validate_payload(payload: &[u8], cluster: &dyn Cluster) -> Verdict {
    evaluate_payload(payload, cluster, |_| ()).0
}

/// [`validate_payload`], letting `inspect` see the [`Evaluation`] when the
/// rules ran (see [`evaluate_request`]).
pub fn evaluate_payload<R>(
    payload: &[u8],
    cluster: &dyn Cluster,
    inspect: impl FnOnce(&Evaluation<'_>) -> R,
) -> (Verdict, Option<R>) {
    let payload = match ValidationPayload::from_json(payload, &SETTINGS_SHAPE) {
        Ok(Field::Present(payload)) => payload,
        Ok(Field::Absent) => {
            return (
                Verdict::invalid_request("the validation payload is null"),
                None,
            );
        }
        Ok(Field::Mistyped(found)) => {
            let found = found.type_name();
            let detail = format!("the validation payload must be a JSON object, not {found}");
            return (Verdict::invalid_request(&detail), None);
        }
        // Also covers nesting deeper than serde_json's recursion limit (128).
        Err(e) => {
            let message = format!("the admission request is not valid JSON: {e}");
            return (Verdict::rejected(message, CODE_BAD_REQUEST), None);
        }
    };
    let settings = match ParsedSettings::read(payload.settings.as_ref()).0 {
        Ok(settings) => settings,
        Err(errors) => {
            let message = format!(
                "the policy settings are invalid, fix the policy's configuration: {errors}"
            );
            return (Verdict::rejected(message, CODE_MISCONFIGURED), None);
        }
    };
    match &payload.request {
        Field::Present(()) => evaluate_request(&payload.fields, &settings, cluster, inspect),
        Field::Absent => (
            Verdict::invalid_request_field(FieldError::required("request", "missing".to_owned())),
            None,
        ),
        Field::Mistyped(found) => (
            Verdict::invalid_request_field(FieldError::mistyped("request", found, "an object")),
            None,
        ),
    }
}

pub fn validate_request<'a>(
    request: &'a AdmissionRequest<'a>,
    settings: &Settings,
    cluster: &dyn Cluster,
) -> Verdict {
    evaluate_request(request, settings, cluster, |_| ()).0
}

/// A request the rules reviewed: the objects as read, and what the rules found.
#[derive(Debug)]
pub struct Evaluation<'a> {
    /// `metadata.name`, else `request.name`.
    pub name: Option<&'a str>,
    pub review: Review<'a>,
    pub findings: Findings<'a>,
}

impl Evaluation<'_> {
    pub fn verdict(&self) -> Verdict {
        verdict(self.name, &self.findings)
    }
}

/// The one place findings become the answer.
fn verdict(name: Option<&str>, findings: &Findings) -> Verdict {
    let warnings = findings.warnings();
    if findings.is_allowed() {
        Verdict::Accepted { warnings }
    } else {
        Verdict::Rejected {
            message: invalid_object_message(name, &findings.field_errors()),
            code: CODE_INVALID,
            warnings,
        }
    }
}

/// Validates `request`; when the rules ran, `inspect` also sees what they were
/// given and what they found (the upgrade checker shows it). `Some` exactly then.
pub fn evaluate_request<'a, R>(
    request: &'a AdmissionRequest<'a>,
    settings: &Settings,
    cluster: &dyn Cluster,
    inspect: impl FnOnce(&Evaluation<'_>) -> R,
) -> (Verdict, Option<R>) {
    let operation = match applicable_operation(request) {
        Ok(Some(Operation::UpdateStatus)) => return (guard_status(request, settings), None),
        Ok(Some(operation)) => operation,
        Ok(None) => return (Verdict::NotApplicable(describe(request)), None),
        Err(error) => return (Verdict::invalid_request_field(error), None),
    };

    let mut errors = Vec::new();
    let mut present = |field: &'static str, doc: &'a ObjectDoc<'a>| -> Option<&'a ObjectDoc<'a>> {
        match &doc.shape {
            Field::Present(()) => Some(doc),
            Field::Absent => {
                let detail = format!("the admission request carries no {field}");
                errors.push(FieldError::required(field, detail));
                None
            }
            Field::Mistyped(found) => {
                errors.push(FieldError::mistyped(field, found, "an object"));
                None
            }
        }
    };
    let new_doc = present("object", &request.object);
    let old_doc = match operation {
        Operation::Update => present("oldObject", &request.old_object),
        Operation::Create | Operation::UpdateStatus => None,
    };

    let new = new_doc.map(|doc| DocumentDb::read(doc, ""));
    let old = old_doc.map(|doc| DocumentDb::read(doc, "oldObject."));
    // The name heads every message, even when the object has other problems.
    let name = new_doc
        .and_then(|doc| doc.text(ObjectDoc::NAME).ok().flatten())
        .or_else(|| request.name.text().ok().flatten());
    let (new, old) = match (new, old) {
        (Some(Ok(new)), Some(Ok(old))) => (new, Some(old)),
        (Some(Ok(new)), None) if errors.is_empty() => (new, None),
        (new, old) => {
            for result in [new, old].into_iter().flatten() {
                if let Err(mut field_errors) = result {
                    errors.append(&mut field_errors);
                }
            }
            let message = invalid_object_message(name, &errors);
            return (Verdict::rejected(message, CODE_INVALID), None);
        }
    };

    let review = Review {
        new: &new,
        old: old.as_ref(),
        settings,
        cluster,
        namespace: request.namespace.text().ok().flatten(),
    };
    // The background audit replays each stored object as a CREATE (Kubewarden's
    // audit scanner: the object as listed, no oldObject, `resource` = the Kind);
    // only a stored object carries a resourceVersion, a real creation never does.
    let replay = operation == Operation::Create && new.resource_version.is_some();
    let findings = if replay {
        rules::audit(&review)
    } else {
        rules::evaluate(&review)
    };
    let evaluation = Evaluation {
        name,
        review,
        findings,
    };
    (evaluation.verdict(), Some(inspect(&evaluation)))
}

/// `Ok(None)`: not a request this policy validates.
fn applicable_operation(request: &AdmissionRequest) -> Result<Option<Operation>, FieldError> {
    let kind = match &request.kind.shape {
        Field::Present(()) => &request.kind,
        Field::Absent => return Err(FieldError::required("request.kind", "missing".to_owned())),
        Field::Mistyped(found) => {
            return Err(FieldError::mistyped("request.kind", found, "an object"));
        }
    };
    let group = kind
        .group
        .text()
        .map_err(|found| FieldError::mistyped("request.kind.group", found, "a string"))?;
    let kind = kind
        .kind
        .text()
        .map_err(|found| FieldError::mistyped("request.kind.kind", found, "a string"))?;
    if group.unwrap_or_default() != GROUP || kind != Some(KIND) {
        return Ok(None);
    }
    let sub_resource = request
        .sub_resource
        .text()
        .map_err(|found| FieldError::mistyped("request.subResource", found, "a string"))?;
    let main_resource = match sub_resource {
        None => true,
        // `dbs/status` UPDATEs reach the policy only through a second
        // ClusterAdmissionPolicy that selects them: the status guard.
        Some(STATUS_SUBRESOURCE) => false,
        Some(_) => return Ok(None),
    };
    match request.operation.text() {
        Ok(Some("CREATE")) if main_resource => Ok(Some(Operation::Create)),
        Ok(Some("UPDATE")) if main_resource => Ok(Some(Operation::Update)),
        Ok(Some("UPDATE")) => Ok(Some(Operation::UpdateStatus)),
        Ok(Some(_)) => Ok(None),
        Ok(None) => Err(FieldError::required(
            "request.operation",
            "missing".to_owned(),
        )),
        Err(found) => Err(FieldError::mistyped("request.operation", found, "a string")),
    }
}

// --- context-aware checks: the status guard ---

/// A `dbs/status` UPDATE: only whether `status.schemaVersion` goes down, and
/// who asks ([`status_guard`]). Nothing else of the objects is read, so a
/// status write never fails on a spec the other rules would question.
fn guard_status(request: &AdmissionRequest, settings: &Settings) -> Verdict {
    let mut errors = Vec::new();
    let mut schema = |field: &'static str, doc: &ObjectDoc<'_>| -> Option<String> {
        match &doc.shape {
            Field::Present(()) => {}
            Field::Absent => {
                let detail = format!("the admission request carries no {field}");
                errors.push(FieldError::required(field, detail));
                return None;
            }
            Field::Mistyped(found) => {
                errors.push(FieldError::mistyped(field, found, "an object"));
                return None;
            }
        };
        let path = |tail: &str| {
            if field == "object" {
                tail.to_owned()
            } else {
                format!("{field}.{tail}")
            }
        };
        match doc.object(ObjectDoc::STATUS, 1) {
            Field::Present(()) => match doc.text(ObjectDoc::STATUS) {
                Ok(schema) => schema.map(str::to_owned),
                Err(found) => {
                    errors.push(FieldError::mistyped(
                        path("status.schemaVersion"),
                        &found,
                        "a string",
                    ));
                    None
                }
            },
            Field::Mistyped(found) => {
                errors.push(FieldError::mistyped(path("status"), &found, "an object"));
                None
            }
            Field::Absent => None,
        }
    };
    let requested = schema("object", &request.object);
    let stored = schema("oldObject", &request.old_object);
    let name = (request.object.text(ObjectDoc::NAME).ok().flatten())
        .or_else(|| request.name.text().ok().flatten());
    if !errors.is_empty() {
        return Verdict::rejected(invalid_object_message(name, &errors), CODE_INVALID);
    }
    let user = request.username.text().ok().flatten();
    let update = StatusUpdate {
        user,
        stored: stored.as_deref(),
        requested: requested.as_deref(),
    };
    let mut findings = Findings::default();
    status_guard::guard(update, &settings.status_writers, &mut findings);
    verdict(name, &findings)
}

// --- end context-aware checks ---

/// For the debug log of a request the policy lets through untouched.
fn describe(request: &AdmissionRequest) -> String {
    let text = |field: &Field<std::borrow::Cow<str>>| {
        quote(field.text().ok().flatten().unwrap_or_default())
    };
    let kind = &request.kind;
    let (group, kind) = match &kind.shape {
        Field::Present(()) => (text(&kind.group), text(&kind.kind)),
        _ => (String::new(), String::new()),
    };
    format!(
        "not validated: kind {group}/{kind}, subResource {}, operation {}",
        text(&request.sub_resource),
        text(&request.operation)
    )
}

#[cfg(test)]
mod tests;
