//! The host side of waPC host calls, as policy-evaluator answers them for a policy that has
//! been granted no host capability.

use std::error::Error;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

type BoxError = Box<dyn Error + Send + Sync>;

/// One `("kubewarden", "tracing", "log")` call made by the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The payload exactly as the guest sent it (lossy UTF-8).
    pub raw: String,
    /// `level`, when the payload is a valid log record.
    pub level: Option<String>,
    /// `message`, when the payload is a valid log record.
    pub message: Option<String>,
}

/// Where policy log records go.
#[derive(Debug, Default)]
pub(crate) struct LogSink {
    pub(crate) print: bool,
    pub(crate) capture: bool,
    pub(crate) records: Mutex<Vec<LogRecord>>,
}

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warning", "error"];

impl LogSink {
    fn log(&self, payload: &[u8]) {
        let raw = String::from_utf8_lossy(payload).into_owned();
        let parsed = parse_log_record(payload);
        if self.print {
            match &parsed {
                Ok((level, message, data)) => {
                    let data = if data.is_empty() {
                        String::new()
                    } else {
                        format!(" data={}", Value::Object(data.clone()))
                    };
                    eprintln!("{:>5} policy_log: {message}{data}", level.to_uppercase());
                }
                Err(e) => {
                    eprintln!("ERROR policy-runner: cannot parse policy log record ({e}): {raw}")
                }
            }
        }
        if self.capture {
            let (level, message) = match parsed {
                Ok((level, message, _)) => (Some(level), Some(message)),
                Err(_) => (None, None),
            };
            self.records
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(LogRecord {
                    raw,
                    level,
                    message,
                });
        }
    }
}

/// `{level, message, ...data}`; `level` is one of trace|debug|info|warning|error
/// (case-insensitive), like the host's `PolicyLogEntry`.
fn parse_log_record(payload: &[u8]) -> Result<(String, String, Map<String, Value>), String> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let Value::Object(mut map) = value else {
        return Err("not a JSON object".into());
    };
    let level = match map.remove("level") {
        Some(Value::String(l)) if LEVELS.contains(&l.to_lowercase().as_str()) => l.to_lowercase(),
        Some(other) => return Err(format!("unknown level {other}")),
        None => return Err("missing field `level`".into()),
    };
    let message = match map.remove("message") {
        Some(Value::String(m)) => m,
        Some(other) => other.to_string(),
        None => return Err("missing field `message`".into()),
    };
    Ok((level, message, map))
}

/// Answers a waPC host call like policy-evaluator does for a policy with no host capability:
/// logging is served, everything else is an error returned to the guest (never a crash).
pub fn host_callback(
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, BoxError> {
    dispatch(None, binding, namespace, operation, payload)
}

fn dispatch(
    sink: Option<&LogSink>,
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, BoxError> {
    if binding != "kubewarden" {
        return Err(format!("unknown binding: {binding}").into());
    }
    match namespace {
        "tracing" => match operation {
            "log" => {
                if let Some(sink) = sink {
                    sink.log(payload);
                }
                Ok(Vec::new())
            }
            _ => Err(format!("unknown operation: {operation}").into()),
        },
        "oci" | "net" | "crypto" | "kubernetes" => Err(format!(
            "Policy has not been granted access to the '{namespace}/{operation}' host capability. \
             The violation has been reported."
        )
        .into()),
        _ => Err(format!("unknown namespace: {namespace}").into()),
    }
}

/// The boxed callback handed to `WapcHost::new`.
pub(crate) fn make_callback(sink: Arc<LogSink>) -> Box<wapc::HostCallback> {
    Box::new(move |_id, binding, namespace, operation, payload| {
        dispatch(Some(&sink), binding, namespace, operation, payload)
    })
}
