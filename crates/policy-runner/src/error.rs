use std::fmt;

/// Everything that stops the runner before it can print an admission response.
///
/// Guest failures *during `validate`* are not errors: like the engine, they become a
/// `500` [`AdmissionResponse`](crate::AdmissionResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunnerError {
    /// A file could not be read.
    Io { path: String, message: String },
    /// The module could not be compiled or linked, or it is not a waPC module.
    Module(String),
    /// The module could not be instantiated (`wapc_init` / `_start` trapped or timed out).
    Instantiate(String),
    /// `protocol_version` failed or did not answer `"v1"`.
    ProtocolVersion(String),
    /// The request file is not an AdmissionRequest / AdmissionReview.
    Request(String),
    /// The settings document is not a JSON/YAML object.
    Settings(String),
    /// The host capabilities session file cannot be read or is not a kwctl session.
    Session(String),
    /// Command-line / caller error.
    Usage(String),
}

impl fmt::Display for RunnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunnerError::Io { path, message } => write!(f, "cannot read {path}: {message}"),
            RunnerError::Module(m) => write!(f, "invalid policy module: {m}"),
            RunnerError::Instantiate(m) => write!(f, "cannot instantiate policy module: {m}"),
            RunnerError::ProtocolVersion(m) => write!(f, "Cannot compute ProtocolVersion: {m}"),
            RunnerError::Request(m) => {
                write!(
                    f,
                    "cannot build AdmissionRequest object from given input: {m}"
                )
            }
            RunnerError::Settings(m) => write!(f, "invalid settings document: {m}"),
            RunnerError::Session(m) => {
                write!(f, "cannot replay host capabilities interactions: {m}")
            }
            RunnerError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunnerError {}
