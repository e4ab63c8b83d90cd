//! Field errors in the Kubernetes apimachinery format (`field.Invalid`,
//! `field.Forbidden`, `field.Required`), so messages read like the upstream
//! webhook's and like the API server's own.

use std::borrow::Cow;
use std::fmt;

use crate::json::Found;
use crate::text::quote;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `spec.schemaVersion`, `oldObject.status.schemaVersion`, …
    pub path: Cow<'static, str>,
    pub kind: FieldErrorKind,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// The offending value, already rendered (quoted and cut) for the message.
    Invalid {
        value: String,
    },
    Forbidden,
    Required,
}

impl FieldError {
    pub fn invalid(path: impl Into<Cow<'static, str>>, value: &str, detail: String) -> Self {
        let kind = FieldErrorKind::Invalid {
            value: quote(value),
        };
        FieldError {
            path: path.into(),
            kind,
            detail,
        }
    }

    pub fn forbidden(path: impl Into<Cow<'static, str>>, detail: String) -> Self {
        FieldError {
            path: path.into(),
            kind: FieldErrorKind::Forbidden,
            detail,
        }
    }

    pub fn required(path: impl Into<Cow<'static, str>>, detail: String) -> Self {
        FieldError {
            path: path.into(),
            kind: FieldErrorKind::Required,
            detail,
        }
    }

    /// A field present with a JSON type the policy cannot read.
    pub fn mistyped(path: impl Into<Cow<'static, str>>, found: &Found, expected: &str) -> Self {
        FieldError {
            path: path.into(),
            kind: FieldErrorKind::Invalid {
                value: found.to_string(),
            },
            detail: format!("must be {expected}, not {}", found.type_name()),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FieldErrorKind::Invalid { value } => {
                write!(f, "{}: Invalid value: {value}: {}", self.path, self.detail)
            }
            FieldErrorKind::Forbidden => write!(f, "{}: Forbidden: {}", self.path, self.detail),
            FieldErrorKind::Required => write!(f, "{}: Required value: {}", self.path, self.detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_apimachinery() {
        let invalid = FieldError::invalid("spec.schemaVersion", "0.113.0", "too new".into());
        assert_eq!(
            invalid.to_string(),
            "spec.schemaVersion: Invalid value: \"0.113.0\": too new"
        );
        let forbidden = FieldError::forbidden("spec", "no".into());
        assert_eq!(forbidden.to_string(), "spec: Forbidden: no");
        let required = FieldError::required("object", "missing".into());
        assert_eq!(required.to_string(), "object: Required value: missing");
        let mistyped = FieldError::mistyped("spec.image", &Found::Array, "an object");
        assert_eq!(
            mistyped.to_string(),
            "spec.image: Invalid value: \"array\": must be an object, not an array"
        );
    }
}
