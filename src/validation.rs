//! From the `validate` payload to a [`Verdict`]: a pure function, no SDK, no
//! host calls, so the same code serves the waPC module, native tests and
//! benchmarks.

use std::fmt::Write;

use crate::document::DocumentDb;
use crate::field_error::FieldError;
use crate::json::{Field, quote};
use crate::request::{AdmissionRequest, ObjectDoc, ValidationPayload};
use crate::rules::{self, Review};
use crate::settings::Settings;

/// What this module validates. `policy-metadata/metadata.yml` must select
/// exactly this (a test checks it).
pub const GROUP: &str = "documentdb.io";
pub const KIND: &str = "DocumentDB";
pub const RESOURCE: &str = "dbs";
pub const OPERATIONS: [&str; 2] = ["CREATE", "UPDATE"];

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
}

pub fn validate_payload(payload: &[u8]) -> Verdict {
    let payload = match serde_json::from_slice::<Field<ValidationPayload>>(payload) {
        Ok(Field::Present(payload)) => payload,
        Ok(Field::Absent) => return Verdict::invalid_request("the validation payload is null"),
        Ok(Field::Mistyped(found)) => {
            let found = found.type_name();
            return Verdict::invalid_request(&format!(
                "the validation payload must be a JSON object, not {found}"
            ));
        }
        // Also covers nesting deeper than serde_json's recursion limit (128).
        Err(e) => {
            return Verdict::rejected(
                format!("the admission request is not valid JSON: {e}"),
                CODE_BAD_REQUEST,
            );
        }
    };
    let settings = match payload.settings.0 {
        Ok(settings) => settings,
        Err(errors) => {
            let message = format!(
                "the policy settings are invalid, fix the policy's configuration: {errors}"
            );
            return Verdict::rejected(message, CODE_MISCONFIGURED);
        }
    };
    match &payload.request {
        Field::Present(request) => validate_request(request, &settings),
        Field::Absent => {
            Verdict::invalid_request_field(FieldError::required("request", "missing".to_owned()))
        }
        Field::Mistyped(found) => {
            Verdict::invalid_request_field(FieldError::mistyped("request", found, "an object"))
        }
    }
}

pub fn validate_request<'a>(request: &'a AdmissionRequest<'a>, settings: &Settings) -> Verdict {
    let operation = match applicable_operation(request) {
        Ok(Some(operation)) => operation,
        Ok(None) => return Verdict::NotApplicable(describe(request)),
        Err(error) => return Verdict::invalid_request_field(error),
    };

    let mut errors = Vec::new();
    let mut present =
        |field: &'static str, doc: &'a Field<ObjectDoc<'a>>| -> Option<&'a ObjectDoc<'a>> {
            match doc {
                Field::Present(doc) => Some(doc),
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
        Operation::Create => None,
    };

    let new = new_doc.map(|doc| DocumentDb::read(doc, ""));
    let old = old_doc.map(|doc| DocumentDb::read(doc, "oldObject."));
    // The name heads every message, even when the object has other problems.
    let name = new_doc
        .and_then(|doc| match &doc.metadata {
            Field::Present(metadata) => metadata.name.text().ok().flatten(),
            _ => None,
        })
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
            return Verdict::rejected(invalid_object_message(name, &errors), CODE_INVALID);
        }
    };

    let review = Review {
        new: &new,
        old: old.as_ref(),
        settings,
    };
    let findings = rules::evaluate(&review);
    if findings.errors.is_empty() {
        Verdict::Accepted {
            warnings: findings.warnings,
        }
    } else {
        Verdict::Rejected {
            message: invalid_object_message(name, &findings.errors),
            code: CODE_INVALID,
            warnings: findings.warnings,
        }
    }
}

/// `Ok(None)`: not a request this policy validates.
fn applicable_operation(request: &AdmissionRequest) -> Result<Option<Operation>, FieldError> {
    let kind = match &request.kind {
        Field::Present(kind) => kind,
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
    if sub_resource.is_some() {
        // `dbs/status` is the operator reporting, not a user asking.
        return Ok(None);
    }
    match request.operation.text() {
        Ok(Some("CREATE")) => Ok(Some(Operation::Create)),
        Ok(Some("UPDATE")) => Ok(Some(Operation::Update)),
        Ok(Some(_)) => Ok(None),
        Ok(None) => Err(FieldError::required(
            "request.operation",
            "missing".to_owned(),
        )),
        Err(found) => Err(FieldError::mistyped("request.operation", found, "a string")),
    }
}

/// For the debug log of a request the policy lets through untouched.
fn describe(request: &AdmissionRequest) -> String {
    let text = |field: &Field<std::borrow::Cow<str>>| {
        quote(field.text().ok().flatten().unwrap_or_default())
    };
    let (group, kind) = match &request.kind {
        Field::Present(kind) => (text(&kind.group), text(&kind.kind)),
        _ => (String::new(), String::new()),
    };
    format!(
        "not validated: kind {group}/{kind}, subResource {}, operation {}",
        text(&request.sub_resource),
        text(&request.operation)
    )
}

/// The message of apimachinery's `NewInvalid`, as the upstream webhook returns it.
pub fn invalid_object_message(name: Option<&str>, errors: &[FieldError]) -> String {
    let mut message = format!(
        "{KIND}.{GROUP} {} is invalid: ",
        quote(name.unwrap_or_default())
    );
    match errors {
        [single] => {
            let _ = write!(message, "{single}");
        }
        several => {
            message.push('[');
            for (i, error) in several.iter().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                let _ = write!(message, "{error}");
            }
            message.push(']');
        }
    }
    message
}

#[cfg(test)]
mod tests;
