//! `policy-runner`: a kwctl substitute that evaluates a Kubewarden waPC policy module.
//!
//! ```text
//! policy-runner run   -r REQUEST.json [-s SETTINGS.yml | --settings-json JSON] POLICY.wasm
//! policy-runner bench -r REQUEST.json [...] [--iterations N] POLICY.wasm [--baseline OTHER.wasm]
//! policy-runner cases [--evaluate POLICY.wasm] CASES.yaml
//! policy-runner cases check CASES.yaml NAME --exit-code N --stdout FILE --stderr FILE
//! policy-runner cases bats CASES.yaml
//! ```
//!
//! The flags shared with `kwctl run` have kwctl's names and meaning (`crates/kwctl/src/cli.rs`
//! in kubewarden/kubewarden-controller).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use policy_runner::bench::{BenchOptions, BenchReport, bench_modules};
use policy_runner::cases::{self, Printed};
use policy_runner::context_aware::context_aware_resources_from_metadata_file;
use policy_runner::{
    AdmissionRequest, CompilationCache, ContextAwareAccess, InstanceMode, Policy, RunnerError,
    RunnerOptions, Session, Settings, settings_from_value,
};
use serde_json::Value;

const USAGE: &str = "\
policy-runner run   [OPTIONS] --request-path FILE POLICY.wasm
       policy-runner bench [OPTIONS] --request-path FILE POLICY.wasm [--baseline OTHER.wasm]
       policy-runner cases CASES.yaml
       policy-runner cases --evaluate POLICY.wasm [--metadata-path metadata.yml] CASES.yaml
       policy-runner cases check CASES.yaml NAME --exit-code N --stdout FILE --stderr FILE
       policy-runner cases bats CASES.yaml";

const AFTER_HELP: &str = "\
Output (run): one JSON line on stdout, exactly like kwctl run; exit 0 for accepted and
rejected requests, 1 when the settings are invalid or the module/request cannot be used,
2 on usage errors.";

/// Evaluate a Kubewarden waPC policy module like kwctl run / policy-server.
#[derive(Parser, Debug)]
#[command(name = "policy-runner", version, override_usage = USAGE, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate one request, print kwctl run's line
    Run(RunArgs),
    /// Time evaluations on a warm and on fresh instances (optionally against a baseline module)
    Bench(BenchArgs),
    /// The e2e case table: as JSON lines, evaluated, checked, or as a bats suite
    Cases(CasesArgs),
}

/// Flags of `run` and `bench`; the first ones are kwctl run's.
#[derive(Args, Debug)]
struct EngineArgs {
    /// File containing the Kubernetes admission request object in JSON format (a bare
    /// AdmissionRequest or an AdmissionReview; '-' reads stdin)
    #[arg(short = 'r', long, value_name = "PATH")]
    request_path: String,

    /// File containing the settings for this policy (JSON or YAML)
    #[arg(
        short = 's',
        long,
        value_name = "PATH",
        conflicts_with = "settings_json"
    )]
    settings_path: Option<PathBuf>,

    /// JSON string containing the settings for this policy
    #[arg(long, value_name = "VALUE")]
    settings_json: Option<String>,

    /// Grant access to the Kubernetes resources defined inside of the policy's
    /// `contextAwareResources` section. Warning: review the list of resources carefully to
    /// avoid abuses. Disabled by default
    #[arg(long)]
    allow_context_aware: bool,

    /// During policy and host capabilities exchanges the host replays back the answers found
    /// inside of the provided file (a session recorded by kwctl run
    /// --record-host-capabilities-interactions; policy-runner replays its Kubernetes
    /// exchanges)
    #[arg(long, value_name = "FILE")]
    replay_host_capabilities_interactions: Option<PathBuf>,

    /// Turn off usage of wasmtime cache
    #[arg(long)]
    disable_wasmtime_cache: bool,

    /// wasmtime compilation cache directory: later runs load the compiled module instead of
    /// compiling it again [run default: wasmtime's, ~/.cache/wasmtime, like kwctl; bench
    /// default: no cache, compile times are real]
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Deadline of every guest call, policy-server's by default; 0 disables it (kwctl run has
    /// none)
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_timeout)]
    execution_timeout: Timeout,

    /// Cap on the guest's linear memory; 0 keeps wasmtime's defaults (4 GiB reservation)
    /// [run default: 1024; bench default: 0, policy-server's engine, whose guest code needs no
    /// bounds checks]
    #[arg(long, value_name = "MIB", value_parser = parse_memory_mib)]
    max_memory_mib: Option<u64>,

    /// Don't print the policy's log records (stderr)
    #[arg(long)]
    no_policy_logs: bool,

    /// Policy module (a local .wasm file)
    #[arg(value_name = "POLICY.wasm")]
    policy: PathBuf,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    engine: EngineArgs,

    /// Evaluate on a fresh instance (policy-server) instead of the instance that validated the
    /// settings (kwctl run)
    #[arg(long)]
    fresh_instance: bool,

    /// Print a readable verdict instead of kwctl's JSON line
    #[arg(long)]
    human: bool,
}

#[derive(Args, Debug)]
struct BenchArgs {
    #[command(flatten)]
    engine: EngineArgs,

    /// Timed evaluations per mode
    #[arg(long, value_name = "N", default_value_t = BenchOptions::default().iterations,
          value_parser = parse_iterations)]
    iterations: usize,

    /// Untimed evaluations per mode first
    #[arg(long, value_name = "N", default_value_t = BenchOptions::default().warmup)]
    warmup: usize,

    /// Also bench this module (e.g. noop_policy.wasm) and print ratios
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Print the results as JSON
    #[arg(long)]
    json: bool,

    /// Name the guest's compiled functions for `perf record` (writes /tmp/perf-<pid>.map;
    /// a module keeping its name section shows the policy's own function names)
    #[arg(long)]
    perf_map: bool,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct CasesArgs {
    #[command(subcommand)]
    action: Option<CasesAction>,

    /// Add the module's outcome to each line: {"response": <the run line>} or
    /// {"settingsRefused": MESSAGE} (request and session paths are relative to the current
    /// directory)
    #[arg(long, value_name = "POLICY.wasm")]
    evaluate: Option<PathBuf>,

    /// With --evaluate: the contextAwareResources that cases with a `session` may read come
    /// from this metadata file (the one the module will be annotated with) instead of the
    /// module's own metadata
    #[arg(long, value_name = "PATH", requires = "evaluate")]
    metadata_path: Option<PathBuf>,

    /// The case table (a YAML list); without --evaluate, each element is printed as one JSON
    /// line
    #[arg(value_name = "CASES.yaml", required = true)]
    table: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum CasesAction {
    /// Compare what an engine printed for a case with what the case states; exit 1 and print
    /// the differences when they disagree
    Check(CheckArgs),
    /// Print a bats file with one test per case
    Bats {
        /// The case table
        #[arg(value_name = "CASES.yaml")]
        table: PathBuf,
    },
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The case table
    #[arg(value_name = "CASES.yaml")]
    table: PathBuf,
    /// The case's name
    #[arg(value_name = "NAME")]
    name: String,
    /// The engine's exit code
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    exit_code: i32,
    /// File holding the engine's stdout ('-': stdin)
    #[arg(long, value_name = "FILE")]
    stdout: String,
    /// File holding the engine's stderr
    #[arg(long, value_name = "FILE")]
    stderr: PathBuf,
}

/// `--execution-timeout`: `None` disables the deadline.
#[derive(Debug, Clone, Copy)]
struct Timeout(Option<Duration>);

fn parse_timeout(text: &str) -> Result<Timeout, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("invalid --execution-timeout `{text}` (seconds expected)"))?;
    let duration = Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("invalid --execution-timeout `{text}`"))?;
    Ok(Timeout((!duration.is_zero()).then_some(duration)))
}

fn parse_memory_mib(text: &str) -> Result<u64, String> {
    let mib: u64 = text
        .parse()
        .map_err(|_| format!("invalid --max-memory-mib `{text}` (MiB expected)"))?;
    if mib > 4096 {
        return Err("--max-memory-mib cannot exceed 4096 (32-bit memories)".into());
    }
    Ok(mib)
}

fn parse_iterations(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("--iterations must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid --iterations `{text}`")),
    }
}

fn read_request(path: &str) -> Result<(AdmissionRequest, usize), RunnerError> {
    let text = read_text(path)?;
    Ok((AdmissionRequest::from_json_str(&text)?, text.len()))
}

/// A file's text; `-` is stdin.
fn read_text(path: &str) -> Result<String, RunnerError> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| RunnerError::Io {
                path: "stdin".into(),
                message: e.to_string(),
            })?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| RunnerError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

fn read_settings(args: &EngineArgs) -> Result<Settings, RunnerError> {
    let value = if let Some(json) = &args.settings_json {
        serde_json::from_str::<Value>(json)
            .map_err(|e| RunnerError::Settings(format!("cannot parse --settings-json: {e}")))?
    } else if let Some(path) = &args.settings_path {
        let text = std::fs::read_to_string(path).map_err(|e| RunnerError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // YAML is a superset of JSON: one parser for both.
        serde_yaml::from_str::<Value>(&text)
            .map_err(|e| RunnerError::Settings(format!("cannot parse {}: {e}", path.display())))?
    } else {
        Value::Null
    };
    settings_from_value(&value)
}

/// What a command uses for the flags it is not given.
struct Defaults {
    /// The cache used when neither `--cache-dir` nor `--disable-wasmtime-cache` is given.
    cache: CompilationCache,
    /// The memory cap used without `--max-memory-mib`, in bytes (`None`: wasmtime's defaults).
    max_memory_bytes: Option<u64>,
}

impl Defaults {
    /// `run`: kwctl's cache, a 1 GiB cap on the guest.
    fn run() -> Self {
        Defaults {
            cache: CompilationCache::DefaultDirectory,
            max_memory_bytes: Some(policy_runner::DEFAULT_MAX_MEMORY_BYTES),
        }
    }

    /// `bench`: policy-server's engine as it is configured (wasmtime's default 4 GiB memory
    /// reservation, so the compiled guest needs no bounds checks; with a 1 GiB cap every load
    /// and store is checked, ~10% of the policy's warm time, BENCHMARKS.md), and no cache, so
    /// that compile times are real.
    fn bench() -> Self {
        Defaults {
            cache: CompilationCache::Off,
            max_memory_bytes: None,
        }
    }
}

/// The engine configuration the flags describe, `defaults` for the flags not given.
fn options(args: &EngineArgs, defaults: Defaults) -> Result<RunnerOptions, RunnerError> {
    let replay_session = match &args.replay_host_capabilities_interactions {
        Some(path) => Some(Arc::new(
            Session::from_file(path).map_err(RunnerError::Session)?,
        )),
        None => None,
    };
    if args.allow_context_aware && replay_session.is_none() {
        eprintln!(
            "warning: policy-runner cannot reach a cluster: without \
             --replay-host-capabilities-interactions, every Kubernetes call the policy is \
             allowed to make fails"
        );
    }
    Ok(RunnerOptions {
        execution_timeout: args.execution_timeout.0,
        max_memory_bytes: match args.max_memory_mib {
            Some(0) => None,
            Some(mib) => Some(mib << 20),
            None => defaults.max_memory_bytes,
        },
        print_policy_logs: !args.no_policy_logs,
        capture_policy_logs: false,
        compilation_cache: match (&args.cache_dir, args.disable_wasmtime_cache) {
            (_, true) => CompilationCache::Off,
            (Some(dir), false) => CompilationCache::Directory(dir.clone()),
            (None, false) => defaults.cache,
        },
        context_aware: if args.allow_context_aware {
            ContextAwareAccess::PolicyMetadata
        } else {
            ContextAwareAccess::NoAccess
        },
        replay_session,
        perf_map: false,
    })
}

/// Loads a module and insists its settings are valid (kwctl refuses to run otherwise).
fn load_with_settings(
    path: &Path,
    settings: &Settings,
    options: &RunnerOptions,
) -> Result<Policy, String> {
    let mut policy = Policy::load(path, options).map_err(|e| e.to_string())?;
    let outcome = policy.validate_settings_object(settings);
    if !outcome.valid {
        return Err(cases::settings_refused_message(outcome.message.as_deref()));
    }
    Ok(policy)
}

/// kwctl warns when a session is not replayed to its end.
fn warn_about_unreplayed(policy: &Policy, args: &EngineArgs) {
    if let (Some(left), Some(path)) = (
        policy.unreplayed_exchanges(),
        &args.replay_host_capabilities_interactions,
    ) && left > 0
    {
        eprintln!(
            "warning: {left} recorded exchange(s) of {} have not been replayed",
            path.display()
        );
    }
}

fn run(args: &RunArgs) -> Result<(), String> {
    let engine = &args.engine;
    let (request, _) = read_request(&engine.request_path).map_err(|e| e.to_string())?;
    let settings = read_settings(engine).map_err(|e| e.to_string())?;
    let options = options(engine, Defaults::run()).map_err(|e| e.to_string())?;
    let mut policy = load_with_settings(&engine.policy, &settings, &options)?;
    let mode = if args.fresh_instance {
        InstanceMode::Fresh
    } else {
        InstanceMode::Warm
    };
    let response = policy.evaluate_request(&request, &settings, mode);
    warn_about_unreplayed(&policy, engine);
    if args.human {
        write_stdout(&response.to_human());
    } else {
        write_stdout(&format!("{}\n", response.to_json_line()));
    }
    Ok(())
}

fn bench(args: &BenchArgs) -> Result<(), String> {
    let engine = &args.engine;
    let (request, request_bytes) = read_request(&engine.request_path).map_err(|e| e.to_string())?;
    let settings = read_settings(engine).map_err(|e| e.to_string())?;
    let options = RunnerOptions {
        perf_map: args.perf_map,
        ..options(engine, Defaults::bench()).map_err(|e| e.to_string())?
    };
    let bench_options = BenchOptions {
        iterations: args.iterations,
        warmup: args.warmup,
    };
    let mut policy = load_with_settings(&engine.policy, &settings, &options)?;
    let policy_name = engine.policy.display().to_string();
    let mut baseline = match &args.baseline {
        Some(path) => Some((
            load_with_settings(path, &settings, &options)
                .map_err(|e| format!("baseline {}: {e}", path.display()))?,
            path.display().to_string(),
        )),
        None => None,
    };
    let (report, baseline) = bench_modules(
        (&mut policy, &policy_name),
        baseline.as_mut().map(|(b, name)| (b, name.as_str())),
        &request,
        &settings,
        &bench_options,
    );
    let report = BenchReport::new(request_bytes, &bench_options, report, baseline);
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_stdout(&format!("{json}\n"));
    } else {
        write_stdout(&report.to_text());
    }
    Ok(())
}

/// `cases`: a YAML list (the e2e case table) as JSON lines, for shell tools
/// such as jq; with `evaluate`, each line also carries the module's outcome.
fn cases_as_json_lines(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        RunnerError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
        .to_string()
    })?;
    let value: Value =
        serde_yaml::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    let Value::Array(items) = value else {
        return Err(format!("{}: expected a YAML list", path.display()));
    };
    let mut out = String::new();
    for item in items {
        out.push_str(&item.to_string());
        out.push('\n');
    }
    write_stdout(&out);
    Ok(())
}

/// `cases --evaluate`: the case table (read and checked by `cases::load`),
/// each case with what the module answered.
fn evaluated_cases(
    path: &Path,
    policy_path: &Path,
    metadata_path: Option<&Path>,
) -> Result<(), String> {
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let context_aware = match metadata_path {
        Some(metadata) => {
            ContextAwareAccess::AllowList(context_aware_resources_from_metadata_file(metadata)?)
        }
        None => ContextAwareAccess::PolicyMetadata,
    };
    let mut policy = Policy::load(policy_path, &options).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for case in cases::load(path)? {
        let outcome = cases::evaluate(
            &mut policy,
            &case,
            Path::new("."),
            InstanceMode::Warm,
            &context_aware,
        )?;
        let mut line = serde_json::to_value(&case).map_err(|e| e.to_string())?;
        line["outcome"] = outcome.to_json();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    write_stdout(&out);
    Ok(())
}

/// `cases check`: Ok(true) when the engine's output agrees with the case; otherwise the
/// differences and the output are printed.
fn check_case(args: &CheckArgs) -> Result<bool, String> {
    let table = cases::load(&args.table)?;
    let case =
        cases::find(&table, &args.name).map_err(|e| format!("{e} in {}", args.table.display()))?;
    let printed = Printed {
        exit_code: args.exit_code,
        stdout: read_text(&args.stdout).map_err(|e| e.to_string())?,
        stderr: read_text(&args.stderr.display().to_string()).map_err(|e| e.to_string())?,
    };
    let problems = case.check_printed(&printed);
    if problems.is_empty() {
        return Ok(true);
    }
    let mut out = format!("case {}:\n", case.name);
    for problem in &problems {
        out.push_str(&format!("  {problem}\n"));
    }
    out.push_str(&format!("  exit code: {}\n", printed.exit_code));
    for (label, text) in [("stdout", &printed.stdout), ("stderr", &printed.stderr)] {
        out.push_str(&format!("  {label}:\n"));
        for line in text.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    write_stdout(&out);
    Ok(false)
}

fn cases(args: &CasesArgs) -> Result<ExitCode, String> {
    match &args.action {
        Some(CasesAction::Check(check)) => Ok(if check_case(check)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Some(CasesAction::Bats { table }) => {
            write_stdout(&cases::bats_suite(table, &cases::load(table)?)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let table = args.table.as_deref().expect("clap requires the table");
            match &args.evaluate {
                Some(policy) => evaluated_cases(table, policy, args.metadata_path.as_deref())?,
                None => cases_as_json_lines(table)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// clap's error, with the runner's `Error: ` prefix; usage errors exit 2.
fn usage_error(error: clap::Error) -> ExitCode {
    let rendered = error.render().to_string();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            write_stdout(&rendered);
            ExitCode::SUCCESS
        }
        _ => {
            let message = rendered.strip_prefix("error: ").unwrap_or(&rendered);
            eprint!("Error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Writes to stdout. A closed pipe (`policy-runner … | head`) ends the program
/// quietly, as Unix tools do, instead of the panic `print!` gives.
fn write_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("Error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    // Without arguments: the help, as `--help` prints it.
    if std::env::args_os().len() <= 1 {
        write_stdout(&Cli::command().render_help().to_string());
        return ExitCode::SUCCESS;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let result = match &cli.command {
        Command::Run(args) => run(args).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench(args).map(|()| ExitCode::SUCCESS),
        Command::Cases(args) => cases(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("Error: {e}");
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_policy_servers_deadline_and_a_one_gib_memory_cap() {
        let cli = Cli::try_parse_from(["policy-runner", "run", "-r", "r.json", "p.wasm"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let options = options(&args.engine, Defaults::run()).unwrap();
        assert_eq!(
            options.execution_timeout,
            Some(policy_runner::DEFAULT_EXECUTION_TIMEOUT)
        );
        assert_eq!(
            options.max_memory_bytes,
            Some(policy_runner::DEFAULT_MAX_MEMORY_BYTES)
        );
        assert_eq!(
            options.compilation_cache,
            CompilationCache::DefaultDirectory
        );
        assert_eq!(options.context_aware, ContextAwareAccess::NoAccess);
    }

    fn bench_options(flags: &[&str]) -> RunnerOptions {
        let argv = ["policy-runner", "bench", "-r", "r.json", "p.wasm"];
        let cli = Cli::try_parse_from(argv.iter().chain(flags)).unwrap();
        let Command::Bench(args) = cli.command else {
            panic!("not bench")
        };
        options(&args.engine, Defaults::bench()).unwrap()
    }

    #[test]
    fn bench_defaults_to_policy_servers_engine_without_a_memory_cap() {
        let options = bench_options(&[]);
        assert_eq!(options.max_memory_bytes, None);
        assert_eq!(options.compilation_cache, CompilationCache::Off);
        assert_eq!(
            options.execution_timeout,
            Some(policy_runner::DEFAULT_EXECUTION_TIMEOUT)
        );
        assert_eq!(
            bench_options(&["--max-memory-mib", "1024"]).max_memory_bytes,
            Some(1 << 30)
        );
        assert_eq!(
            bench_options(&["--max-memory-mib", "0"]).max_memory_bytes,
            None
        );
    }
}
