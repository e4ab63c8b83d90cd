//! The host side of waPC host calls, as policy-evaluator answers them: policy logs, and the
//! Kubernetes reads of a context-aware policy (see [`crate::context_aware`]).

use std::collections::BTreeSet;
use std::error::Error;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::context_aware::{
    ContextAwareResource, NO_KUBERNETES_CLIENT, Replay, kubernetes_request,
};

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

/// The `kubernetes/*` side of the host: what the policy may read and where answers come from.
#[derive(Debug, Default)]
pub(crate) struct KubernetesHost {
    pub(crate) allowed: BTreeSet<ContextAwareResource>,
    /// `None`: no session, hence (like a callback handler without a Kubernetes client) every
    /// granted call fails.
    pub(crate) replay: Option<Replay>,
}

impl KubernetesHost {
    fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, BoxError> {
        let request = kubernetes_request(operation, payload, &self.allowed)?;
        let answer = match &mut self.replay {
            Some(replay) => replay.answer(&request),
            None => Err(NO_KUBERNETES_CLIENT.to_owned()),
        };
        // The callback handler's error reaches the guest as `{e:?}` of an anyhow message,
        // which is the message itself.
        answer.map_err(|e| format!("Callback evaluation failure: {e}").into())
    }
}

/// Everything the host callback of one policy needs.
#[derive(Debug, Default)]
pub(crate) struct HostState {
    pub(crate) sink: LogSink,
    pub(crate) kubernetes: Mutex<KubernetesHost>,
}

/// Answers a waPC host call like policy-evaluator does for a policy granted no Kubernetes
/// resource and run without a cluster (kwctl without `--allow-context-aware`): logging is
/// served, everything else is an error returned to the guest (never a crash).
pub fn host_callback(
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, BoxError> {
    dispatch(
        &HostState::default(),
        binding,
        namespace,
        operation,
        payload,
    )
}

/// policy-evaluator's host callback, with the host capabilities `tracing/*` and
/// `kubernetes/*` granted (kwctl `--allowed-host-capabilities 'kubernetes/*'`): `oci`, `net`
/// and `crypto` calls are refused, Kubernetes reads are limited by the context-aware allow
/// list.
fn dispatch(
    state: &HostState,
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
                state.sink.log(payload);
                Ok(Vec::new())
            }
            _ => Err(format!("unknown operation: {operation}").into()),
        },
        "kubernetes" => state
            .kubernetes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .call(operation, payload),
        "oci" | "net" | "crypto" => Err(format!(
            "Policy has not been granted access to the '{namespace}/{operation}' host capability. \
             The violation has been reported."
        )
        .into()),
        _ => Err(format!("unknown namespace: {namespace}").into()),
    }
}

/// The boxed callback handed to `WapcHost::new`.
pub(crate) fn make_callback(state: Arc<HostState>) -> Box<wapc::HostCallback> {
    Box::new(move |_id, binding, namespace, operation, payload| {
        dispatch(&state, binding, namespace, operation, payload)
    })
}
