//! Loading a policy module once and evaluating it on warm or fresh waPC instances.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wapc::WapcHost;
use wasmtime_provider::wasmtime::{
    Cache, CacheConfig, Config, Engine, ExternType, Module, ProfilingStrategy,
};
use wasmtime_provider::{EpochDeadlines, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

use crate::context_aware::{
    ContextAwareAccess, ContextAwareResource, Replay, Session, context_aware_resources_of_module,
};
use crate::host::{HostState, KubernetesHost, LogRecord, LogSink, make_callback};
use crate::request::{AdmissionRequest, Settings, settings_from_value, validate_payload};
use crate::response::AdmissionResponse;
use crate::{Result, RunnerError};

/// policy-server's default evaluation timeout.
pub const DEFAULT_EXECUTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Default cap on a guest's linear memory: 1 GiB (a policy must handle ~10 MB requests; a
/// runaway allocation fails long before it can exhaust the machine).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Text wasmtime-provider puts in the guest error when the epoch deadline interrupts a call.
const DEADLINE_MARKER: &str = "execution deadline exceeded";

/// How the engine is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerOptions {
    /// Wall-clock budget of every guest entry (`wapc_init`, and each waPC operation), enforced
    /// with wasmtime epoch interruption. `None`: unbounded (what `kwctl run` does).
    pub execution_timeout: Option<Duration>,
    /// Maximum size of the guest's linear memory in bytes (a wasmtime memory reservation that
    /// may not move). `None`: wasmtime's defaults (4 GiB reservation, no cap below the 32-bit
    /// limit), i.e. exactly policy-server's engine configuration.
    pub max_memory_bytes: Option<u64>,
    /// Print `tracing/log` host calls of the policy to stderr.
    pub print_policy_logs: bool,
    /// Keep `tracing/log` host calls in memory (see [`Policy::take_logs`]).
    pub capture_policy_logs: bool,
    /// wasmtime's on-disk compilation cache (kwctl and policy-server enable it by default):
    /// a module compiled once is loaded from disk by later processes.
    pub compilation_cache: CompilationCache,
    /// The Kubernetes resources the policy may read (`--allow-context-aware`:
    /// [`ContextAwareAccess::PolicyMetadata`]).
    pub context_aware: ContextAwareAccess,
    /// The recorded session that answers the policy's Kubernetes calls
    /// (`--replay-host-capabilities-interactions`). Without one, granted calls fail as they
    /// do for a host without a Kubernetes client.
    pub replay_session: Option<Arc<Session>>,
    /// Name the guest's compiled functions for `perf record` (wasmtime's perf map,
    /// `/tmp/perf-<pid>.map`): a profile of the policy's own code, by the names of a module
    /// built with its name section (BENCHMARKS.md, "On an idle machine").
    pub perf_map: bool,
}

/// Where compiled modules are cached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CompilationCache {
    /// Compile every time: [`ModuleInfo::compile_time`] is the real Cranelift time.
    #[default]
    Off,
    /// wasmtime's default directory (`$XDG_CACHE_HOME/wasmtime`, `~/.cache/wasmtime`),
    /// the one kwctl uses.
    DefaultDirectory,
    /// This directory.
    Directory(PathBuf),
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            execution_timeout: Some(DEFAULT_EXECUTION_TIMEOUT),
            max_memory_bytes: Some(DEFAULT_MAX_MEMORY_BYTES),
            print_policy_logs: true,
            capture_policy_logs: false,
            compilation_cache: CompilationCache::Off,
            context_aware: ContextAwareAccess::NoAccess,
            replay_session: None,
            perf_map: false,
        }
    }
}

/// Where the module comes from. `Bytes` may also hold WebAssembly text (WAT).
#[derive(Debug, Clone)]
pub enum PolicySource {
    File(PathBuf),
    Bytes(Vec<u8>),
}

impl From<&Path> for PolicySource {
    fn from(p: &Path) -> Self {
        PolicySource::File(p.to_path_buf())
    }
}
impl From<PathBuf> for PolicySource {
    fn from(p: PathBuf) -> Self {
        PolicySource::File(p)
    }
}
impl From<&PathBuf> for PolicySource {
    fn from(p: &PathBuf) -> Self {
        PolicySource::File(p.clone())
    }
}
impl From<Vec<u8>> for PolicySource {
    fn from(b: Vec<u8>) -> Self {
        PolicySource::Bytes(b)
    }
}
impl From<&[u8]> for PolicySource {
    fn from(b: &[u8]) -> Self {
        PolicySource::Bytes(b.to_vec())
    }
}

/// Which instance evaluates a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceMode {
    /// One instance reused across calls (`kwctl run`, `kwctl bench`).
    Warm,
    /// A new instance per call, rehydrated from the pre-compiled module, then `wapc_init`
    /// (policy-server).
    Fresh,
}

/// What `validate_settings` answered (decoded as the SDK's `SettingsValidationResponse`),
/// as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsOutcome {
    pub valid: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// Facts about the loaded module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Size of the module file in bytes.
    pub size_bytes: usize,
    /// Cranelift compilation of the module (`wasmtime::Module::new`; a cache lookup when
    /// [`RunnerOptions::compilation_cache`] is on and the module was compiled before).
    pub compile_time: Duration,
    /// Everything `Policy::load` did: compile, link, first instance, `protocol_version`.
    pub load_time: Duration,
}

/// A compiled policy module plus (lazily) one warm waPC instance.
pub struct Policy {
    // Field order is drop order: instances go before the engine's ticker.
    warm: Option<WapcHost>,
    pre: WasmtimeEngineProviderPre,
    deadlines: Option<EpochDeadlines>,
    host: Arc<HostState>,
    /// The `contextAwareResources` of the module's metadata (empty: not annotated), or why
    /// they cannot be read; used by [`ContextAwareAccess::PolicyMetadata`].
    metadata_resources: std::result::Result<BTreeSet<ContextAwareResource>, String>,
    session: Option<Arc<Session>>,
    /// The last guest call was `validate_settings`, which started the session: the next
    /// evaluation continues it (kwctl validates the settings, then evaluates, on one session).
    session_started_by_settings: bool,
    info: ModuleInfo,
    _ticker: Option<EpochTicker>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("info", &self.info)
            .field("deadlines", &self.deadlines)
            .field("warm", &self.warm.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a guest call did not produce a reply.
#[derive(Debug)]
enum CallError {
    Wapc(wapc::errors::Error),
    HostPanic(String),
}

impl CallError {
    fn is_timeout(&self) -> bool {
        matches!(self, CallError::Wapc(e) if e.to_string().contains(DEADLINE_MARKER))
    }
    /// `Display`, as the engine formats it into "internal server error: …".
    fn text(&self) -> String {
        match self {
            CallError::Wapc(e) => e.to_string(),
            CallError::HostPanic(m) => format!("the host panicked while serving the guest: {m}"),
        }
    }
    /// `Debug`, as the engine formats it into the settings validation message.
    fn debug_text(&self) -> String {
        match self {
            CallError::Wapc(e) => format!("{e:?}"),
            CallError::HostPanic(m) => format!("HostPanic({m:?})"),
        }
    }
}

/// Runs `f`, turning a panic (e.g. wasmtime-provider slicing guest memory with a bogus
/// pointer) into an error instead of a crash.
fn guarded<T>(
    f: impl FnOnce() -> std::result::Result<T, wapc::errors::Error>,
) -> std::result::Result<T, CallError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CallError::Wapc(e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(CallError::HostPanic(msg))
        }
    }
}

impl Policy {
    /// Reads and compiles the module once, checks that it is a waPC module, instantiates it
    /// (running `wapc_init`) and checks that `protocol_version` answers `"v1"`.
    pub fn load(source: impl Into<PolicySource>, options: &RunnerOptions) -> Result<Policy> {
        let started = Instant::now();
        let bytes = match source.into() {
            PolicySource::File(path) => std::fs::read(&path).map_err(|e| RunnerError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?,
            PolicySource::Bytes(bytes) => bytes,
        };
        let timeout = options.execution_timeout.filter(|t| !t.is_zero());
        let engine = build_engine(
            timeout.is_some(),
            options.max_memory_bytes,
            &options.compilation_cache,
            options.perf_map,
        )?;

        let compile_started = Instant::now();
        let module =
            Module::new(&engine, &bytes).map_err(|e| RunnerError::Module(format!("{e:?}")))?;
        let compile_time = compile_started.elapsed();
        check_exports(&module)?;

        let pre = WasmtimeEngineProviderBuilder::new()
            .engine(engine.clone())
            .module(module)
            .build_pre()
            .map_err(|e| RunnerError::Module(e.to_string()))?;

        let (deadlines, ticker) = match timeout {
            Some(timeout) => {
                let (tick, ticks) = epoch_plan(timeout);
                let deadlines = EpochDeadlines {
                    wapc_init: ticks,
                    wapc_func: ticks,
                };
                (Some(deadlines), Some(EpochTicker::start(&engine, tick)))
            }
            None => (None, None),
        };

        let host = Arc::new(HostState {
            sink: LogSink {
                print: options.print_policy_logs,
                capture: options.capture_policy_logs,
                records: Mutex::new(Vec::new()),
            },
            kubernetes: Mutex::new(KubernetesHost::default()),
        });
        let mut policy = Policy {
            warm: None,
            pre,
            deadlines,
            host,
            metadata_resources: context_aware_resources_of_module(&bytes),
            session: None,
            session_started_by_settings: false,
            info: ModuleInfo {
                size_bytes: bytes.len(),
                compile_time,
                load_time: Duration::ZERO,
            },
            _ticker: ticker,
        };
        policy.set_context_aware(&options.context_aware)?;
        policy.set_replay_session(options.replay_session.clone());
        let host = policy.instantiate().map_err(|e| {
            if e.is_timeout() {
                RunnerError::Instantiate(format!(
                    "module initialisation exceeded the allowed execution time ({})",
                    e.text()
                ))
            } else {
                RunnerError::Instantiate(e.text())
            }
        })?;
        policy.warm = Some(host);
        policy.check_protocol_version()?;
        policy.info.load_time = started.elapsed();
        Ok(policy)
    }

    /// Size and timings of the module.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Which Kubernetes resources the policy may read from now on. Err:
    /// [`ContextAwareAccess::PolicyMetadata`] and the module's metadata section is unreadable.
    pub fn set_context_aware(&mut self, access: &ContextAwareAccess) -> Result<()> {
        let allowed = match access {
            ContextAwareAccess::NoAccess => BTreeSet::new(),
            ContextAwareAccess::AllowList(allowed) => allowed.clone(),
            ContextAwareAccess::PolicyMetadata => self
                .metadata_resources
                .clone()
                .map_err(|e| RunnerError::Module(format!("policy metadata: {e}")))?,
        };
        self.kubernetes().allowed = allowed;
        Ok(())
    }

    /// The session that answers the policy's Kubernetes calls from now on (`None`: every
    /// granted call fails, as on a host without a Kubernetes client).
    ///
    /// Every evaluation replays it from its first exchange, as a `kwctl run` of its own
    /// would: [`Policy::validate_settings`] starts it, and the evaluation that follows
    /// continues it; any other evaluation starts it again.
    pub fn set_replay_session(&mut self, session: Option<Arc<Session>>) {
        self.kubernetes().replay = session.as_ref().map(Replay::start);
        self.session = session;
        self.session_started_by_settings = false;
    }

    /// How many exchanges of the session the last evaluation left unused (kwctl warns about
    /// them when it exits); `None` without a session.
    pub fn unreplayed_exchanges(&self) -> Option<usize> {
        self.host
            .kubernetes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replay
            .as_ref()
            .map(Replay::remaining)
    }

    fn kubernetes(&self) -> std::sync::MutexGuard<'_, KubernetesHost> {
        self.host
            .kubernetes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn restart_session(&mut self) {
        let replay = self.session.as_ref().map(Replay::start);
        self.kubernetes().replay = replay;
    }

    /// Calls `protocol_version` on the warm instance; Ok only for `"v1"`.
    pub fn check_protocol_version(&mut self) -> Result<()> {
        let reply = self
            .call("protocol_version", &[], InstanceMode::Warm)
            .map_err(|e| RunnerError::ProtocolVersion(e.text()))?;
        match serde_json::from_slice::<String>(&reply) {
            Ok(v) if v == "v1" => Ok(()),
            Ok(v) => Err(RunnerError::ProtocolVersion(format!(
                "unsupported protocol version {v:?} (expected \"v1\")"
            ))),
            Err(e) => Err(RunnerError::ProtocolVersion(format!(
                "invalid reply {:?}: {e}",
                String::from_utf8_lossy(&reply)
            ))),
        }
    }

    /// Calls `validate_settings` on the warm instance (what kwctl does before `validate`).
    /// `settings` must be an object or `null` (sent as `{}`). A failing guest call or an
    /// unparsable answer is `valid: false`, with the engine's messages.
    pub fn validate_settings(&mut self, settings: &Value) -> Result<SettingsOutcome> {
        let settings = settings_from_value(settings)?;
        Ok(self.validate_settings_object(&settings))
    }

    /// [`Policy::validate_settings`] for an already-normalised settings object.
    pub fn validate_settings_object(&mut self, settings: &Settings) -> SettingsOutcome {
        let payload = serde_json::to_vec(settings).expect("serialising a JSON map cannot fail");
        self.restart_session();
        self.session_started_by_settings = true;
        match self.call("validate_settings", &payload, InstanceMode::Warm) {
            Ok(reply) => match serde_json::from_slice::<SettingsValidationResponse>(&reply) {
                Ok(response) => SettingsOutcome {
                    valid: response.valid,
                    message: response.message,
                },
                Err(e) => SettingsOutcome {
                    valid: false,
                    message: Some(format!("error: {e}")),
                },
            },
            Err(e) => SettingsOutcome {
                valid: false,
                message: Some(format!(
                    "Error invoking settings validation callback: {}",
                    e.debug_text()
                )),
            },
        }
    }

    /// Evaluates a request file's content (bare AdmissionRequest or AdmissionReview) on the
    /// warm instance, like `kwctl run`. `Err` only for unusable input; guest failures are
    /// 500 responses.
    pub fn evaluate(&mut self, request: &Value, settings: &Value) -> Result<AdmissionResponse> {
        self.evaluate_with_mode(request, settings, InstanceMode::Warm)
    }

    /// Like [`Policy::evaluate`], on a fresh instance (policy-server).
    pub fn evaluate_fresh(
        &mut self,
        request: &Value,
        settings: &Value,
    ) -> Result<AdmissionResponse> {
        self.evaluate_with_mode(request, settings, InstanceMode::Fresh)
    }

    /// [`Policy::evaluate`] with an explicit instance mode.
    pub fn evaluate_with_mode(
        &mut self,
        request: &Value,
        settings: &Value,
        mode: InstanceMode,
    ) -> Result<AdmissionResponse> {
        let request = AdmissionRequest::from_input(request)?;
        let settings = settings_from_value(settings)?;
        Ok(self.evaluate_request(&request, &settings, mode))
    }

    /// Sends `{"request", "settings"}` to `validate` and maps the outcome exactly like the
    /// engine: reply → admission response; interrupted by the deadline → 500 timeout
    /// rejection (and the warm instance is rebuilt); any other failure → 500
    /// "internal server error: …".
    pub fn evaluate_request(
        &mut self,
        request: &AdmissionRequest,
        settings: &Settings,
        mode: InstanceMode,
    ) -> AdmissionResponse {
        let payload = validate_payload(request, settings);
        if !std::mem::take(&mut self.session_started_by_settings) {
            self.restart_session();
        }
        match self.call("validate", &payload, mode) {
            Ok(reply) => {
                AdmissionResponse::from_guest_reply(&request.uid, request.object.as_ref(), &reply)
            }
            Err(e) if e.is_timeout() => AdmissionResponse::reject_timeout(&request.uid),
            Err(e) => AdmissionResponse::reject_internal_server_error(&request.uid, &e.text()),
        }
    }

    /// Calls any waPC operation and returns the raw reply, or the error text the engine
    /// would report.
    pub fn call_raw(
        &mut self,
        operation: &str,
        payload: &[u8],
        mode: InstanceMode,
    ) -> std::result::Result<Vec<u8>, String> {
        self.call(operation, payload, mode).map_err(|e| e.text())
    }

    /// Log records captured so far (only with `capture_policy_logs`).
    pub fn take_logs(&self) -> Vec<LogRecord> {
        std::mem::take(
            &mut *self
                .host
                .sink
                .records
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// A new waPC instance: rehydrate from the pre-compiled module, instantiate, `wapc_init`.
    fn instantiate(&self) -> std::result::Result<WapcHost, CallError> {
        guarded(|| {
            let provider = self.pre.rehydrate(self.deadlines)?;
            WapcHost::new(Box::new(provider), Some(make_callback(self.host.clone())))
        })
    }

    fn call(
        &mut self,
        operation: &str,
        payload: &[u8],
        mode: InstanceMode,
    ) -> std::result::Result<Vec<u8>, CallError> {
        match mode {
            InstanceMode::Fresh => {
                let host = self.instantiate()?;
                guarded(|| host.call(operation, payload))
            }
            InstanceMode::Warm => {
                if self.warm.is_none() {
                    self.warm = Some(self.instantiate()?);
                }
                let host = self.warm.as_ref().expect("warm instance was just created");
                let result = guarded(|| host.call(operation, payload));
                if let Err(e) = &result {
                    // Like the engine after an interrupt, don't trust the store any more:
                    // the next call gets a new instance.
                    if e.is_timeout() || matches!(e, CallError::HostPanic(_)) {
                        self.warm = None;
                    }
                }
                result
            }
        }
    }
}

fn build_engine(
    epoch_interruption: bool,
    max_memory_bytes: Option<u64>,
    cache: &CompilationCache,
    perf_map: bool,
) -> Result<Engine> {
    let mut config = Config::new();
    // What policy-evaluator configures.
    config.wasm_function_references(true);
    config.epoch_interruption(epoch_interruption);
    if perf_map {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    if let Some(max) = max_memory_bytes {
        // A linear memory lives in one reservation of `max` bytes that may not move, so
        // `memory.grow` beyond it fails (returns -1) instead of allocating more.
        config.memory_reservation(max);
        config.memory_may_move(false);
        config.memory_reservation_for_growth(0);
    }
    let cache_config = match cache {
        CompilationCache::Off => None,
        CompilationCache::DefaultDirectory => Some(CacheConfig::new()),
        CompilationCache::Directory(dir) => {
            let mut cache_config = CacheConfig::new();
            cache_config.with_directory(dir);
            Some(cache_config)
        }
    };
    if let Some(cache_config) = cache_config {
        // Like kwctl: an unusable cache is a warning, not an error.
        match Cache::new(cache_config) {
            Ok(cache) => {
                config.cache(Some(cache));
            }
            Err(e) => eprintln!("warning: wasmtime compilation cache disabled: {e:?}"),
        }
    }
    Engine::new(&config)
        .map_err(|e| RunnerError::Module(format!("cannot configure wasmtime: {e:?}")))
}

fn check_exports(module: &Module) -> Result<()> {
    let exports_func = |name: &str| matches!(module.get_export(name), Some(ExternType::Func(_)));
    if !exports_func("__guest_call") {
        return Err(RunnerError::Module(
            "the module does not export the function `__guest_call`: not a waPC module".into(),
        ));
    }
    if !exports_func("wapc_init") && !exports_func("_start") {
        return Err(RunnerError::Module(
            "the module exports neither `wapc_init` nor `_start`: not a waPC module".into(),
        ));
    }
    Ok(())
}

/// Tick length and deadline in ticks so that a call is interrupted after at least `timeout`
/// and at most about `timeout + 2 ticks` (ticks of 1–10 ms).
fn epoch_plan(timeout: Duration) -> (Duration, u64) {
    let tick = (timeout / 20).clamp(Duration::from_millis(1), Duration::from_millis(10));
    let ticks = timeout.as_nanos().div_ceil(tick.as_nanos()) as u64 + 1;
    (tick, ticks)
}

/// Background thread that increments the engine's epoch every tick; stops when dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: &Engine, tick: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let stop_flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !stop_flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("cannot spawn the epoch ticker thread");
        EpochTicker {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_plan_never_interrupts_early() {
        for ms in [1u64, 5, 50, 200, 2000, 10_000] {
            let timeout = Duration::from_millis(ms);
            let (tick, ticks) = epoch_plan(timeout);
            // The first tick may come right after the deadline is set.
            assert!(tick * (ticks as u32 - 1) >= timeout, "{ms} ms");
            assert!(tick * (ticks as u32) <= timeout + 2 * tick.max(Duration::from_millis(1)));
        }
    }
}
