//! `policy-runner`: evaluates a Kubewarden waPC policy module (`policy.wasm`) the way
//! `kwctl run` and policy-server do, for end-to-end tests and benchmarks where kwctl is not
//! available.
//!
//! It uses the same engine stack as Kubewarden's policy-evaluator (`wapc` 2.1,
//! `wasmtime-provider` 2.19, wasmtime 44) and reproduces its protocol:
//!
//! * `protocol_version` must answer `"v1"`;
//! * `validate_settings` receives the settings object (`{}` when there are none) and answers
//!   `{"valid": bool, "message": string?}`;
//! * `validate` receives `{"request": <AdmissionRequest>, "settings": {...}}`, where the request
//!   is re-serialised through the host's camelCase `AdmissionRequest` (unknown keys and nulls
//!   dropped), and answers a snake_case `ValidationResponse`, which is turned into the
//!   `AdmissionResponse` line `kwctl run` prints.
//!
//! Two instance lifetimes are available ([`InstanceMode`]): one warm instance reused across
//! evaluations (`kwctl run` / `kwctl bench`) and a fresh instance per evaluation rehydrated from
//! the pre-compiled module (policy-server).
//!
//! Host capabilities are answered as `kwctl run` answers them: policy logs (`tracing/log`)
//! always; Kubernetes reads (`kubernetes/get_resource`, `list_resources_all`,
//! `list_resources_by_namespace`, `can_i`) within the granted `contextAwareResources`
//! ([`ContextAwareAccess`], `--allow-context-aware`) and from a session kwctl recorded
//! ([`Session`], `--replay-host-capabilities-interactions`); `oci`, `net` and `crypto` calls
//! are refused.
//!
//! Execution is bounded: wasmtime epoch interruption enforces a wall-clock deadline on every
//! guest call (policy-server's default 2 s) and guest linear memory is capped (1 GiB by default).

pub mod bench;
pub mod cases;
pub mod context_aware;
mod error;
mod host;
mod policy;
mod request;
mod response;

pub use context_aware::{ContextAwareAccess, ContextAwareResource, Session};
pub use error::RunnerError;
pub use host::{LogRecord, host_callback};
pub use policy::{
    CompilationCache, DEFAULT_EXECUTION_TIMEOUT, DEFAULT_MAX_MEMORY_BYTES, InstanceMode,
    ModuleInfo, Policy, PolicySource, RunnerOptions, SettingsOutcome,
};
pub use request::{
    AdmissionRequest, GroupVersionKind, GroupVersionResource, Settings, UserInfo,
    settings_from_value, validate_payload,
};
pub use response::{AdmissionResponse, StatusResponse, TIMEOUT_MESSAGE, ValidationResponse};

/// Convenience alias used throughout the crate.
pub type Result<T, E = RunnerError> = std::result::Result<T, E>;
