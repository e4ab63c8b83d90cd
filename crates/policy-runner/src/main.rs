//! `policy-runner`: a kwctl substitute that evaluates a Kubewarden waPC policy module.
//!
//! ```text
//! policy-runner run   -r REQUEST.json [-s SETTINGS.yml | --settings-json JSON] POLICY.wasm
//! policy-runner bench -r REQUEST.json [...] [--iterations N] POLICY.wasm [--baseline OTHER.wasm]
//! policy-runner cases [--evaluate POLICY.wasm] CASES.yaml
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use policy_runner::bench::{BenchOptions, BenchReport, bench_module};
use policy_runner::{
    AdmissionRequest, CompilationCache, DEFAULT_MAX_MEMORY_BYTES, InstanceMode, Policy,
    RunnerError, RunnerOptions, Settings, settings_from_value,
};
use serde_json::Value;

const USAGE: &str = "\
policy-runner: evaluate a Kubewarden waPC policy module like kwctl run / policy-server

USAGE:
    policy-runner run   [OPTIONS] --request-path FILE POLICY.wasm
    policy-runner bench [OPTIONS] --request-path FILE POLICY.wasm [--baseline OTHER.wasm]
    policy-runner cases CASES.yaml   print each element of a YAML list as one JSON line
    policy-runner cases --evaluate POLICY.wasm CASES.yaml
                                     the same lines, each with the module's outcome added:
                                     {\"response\": <the run line>} or {\"settingsRefused\": MESSAGE}
                                     (request paths are relative to the current directory)

COMMON OPTIONS:
    -r, --request-path FILE        AdmissionRequest or AdmissionReview JSON ('-' reads stdin)
    -s, --settings-path FILE       policy settings, JSON or YAML
        --settings-json JSON       policy settings as a JSON string
        --execution-timeout SECS   deadline of every guest call [default: 2, policy-server's];
                                   0 disables it (kwctl run has none)
        --max-memory-mib MIB       cap on the guest's linear memory [default: 1024];
                                   0 keeps wasmtime's defaults (4 GiB reservation)
        --no-policy-logs           don't print the policy's log records (stderr)
        --cache-dir DIR            wasmtime compilation cache directory: later runs load the
                                   compiled module instead of compiling it again
                                   [run default: wasmtime's, ~/.cache/wasmtime, like kwctl;
                                   bench default: no cache, compile times are real]
        --disable-wasmtime-cache   compile the module every time (run)

RUN OPTIONS:
        --fresh-instance           evaluate on a fresh instance (policy-server) instead of the
                                   instance that validated the settings (kwctl run)
        --human                    print a readable verdict instead of kwctl's JSON line

BENCH OPTIONS:
        --iterations N             timed evaluations per mode [default: 1000]
        --warmup N                 untimed evaluations per mode first [default: 100]
        --baseline FILE            also bench this module (e.g. noop_policy.wasm) and print ratios
        --json                     print the results as JSON

OUTPUT (run):
    one JSON line on stdout, exactly like kwctl run; exit 0 for accepted and rejected requests,
    1 when the settings are invalid or the module/request cannot be used, 2 on usage errors.
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Run,
    Bench,
}

enum Parsed {
    Help,
    Version,
    Cases {
        table: PathBuf,
        evaluate: Option<PathBuf>,
    },
    Args(Box<Args>),
}

#[derive(Debug)]
struct Args {
    command: Command,
    request_path: Option<String>,
    settings_path: Option<PathBuf>,
    settings_json: Option<String>,
    execution_timeout: Option<Duration>,
    max_memory_bytes: Option<u64>,
    cache_dir: Option<PathBuf>,
    disable_cache: bool,
    policy_logs: bool,
    fresh_instance: bool,
    human: bool,
    iterations: usize,
    warmup: usize,
    baseline: Option<PathBuf>,
    json: bool,
    policy: PathBuf,
}

fn parse_args(raw: Vec<String>) -> Result<Parsed, String> {
    let mut iter = raw.into_iter();
    let command = match iter.next().as_deref() {
        None | Some("-h" | "--help" | "help") => return Ok(Parsed::Help),
        Some("-V" | "--version") => return Ok(Parsed::Version),
        Some("run") => Command::Run,
        Some("bench") => Command::Bench,
        Some("cases") => {
            let rest: Vec<String> = iter.collect();
            return match rest.as_slice() {
                [flag] if flag == "-h" || flag == "--help" => Ok(Parsed::Help),
                [file] if !file.starts_with('-') => Ok(Parsed::Cases {
                    table: PathBuf::from(file),
                    evaluate: None,
                }),
                [flag, policy, file] if flag == "--evaluate" && !file.starts_with('-') => {
                    Ok(Parsed::Cases {
                        table: PathBuf::from(file),
                        evaluate: Some(PathBuf::from(policy)),
                    })
                }
                _ => Err("usage: policy-runner cases [--evaluate POLICY.wasm] CASES.yaml".into()),
            };
        }
        Some(other) => {
            return Err(format!(
                "unknown command `{other}` (expected `run` or `bench`)"
            ));
        }
    };
    let mut args = Args {
        command,
        request_path: None,
        settings_path: None,
        settings_json: None,
        execution_timeout: Some(policy_runner::DEFAULT_EXECUTION_TIMEOUT),
        max_memory_bytes: Some(DEFAULT_MAX_MEMORY_BYTES),
        cache_dir: None,
        disable_cache: false,
        policy_logs: true,
        fresh_instance: false,
        human: false,
        iterations: BenchOptions::default().iterations,
        warmup: BenchOptions::default().warmup,
        baseline: None,
        json: false,
        policy: PathBuf::new(),
    };
    let mut positional: Vec<String> = Vec::new();
    let mut only_positional = false;
    while let Some(arg) = iter.next() {
        if only_positional || arg == "-" || !arg.starts_with('-') {
            positional.push(arg);
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next())
                .ok_or_else(|| format!("{name} requires a value"))
        };
        let bench_only = |name: &str| -> Result<(), String> {
            if command == Command::Bench {
                Ok(())
            } else {
                Err(format!("{name} is only valid for `bench`"))
            }
        };
        let run_only = |name: &str| -> Result<(), String> {
            if command == Command::Run {
                Ok(())
            } else {
                Err(format!("{name} is only valid for `run`"))
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-r" | "--request-path" => args.request_path = Some(value(&flag)?),
            "-s" | "--settings-path" => args.settings_path = Some(PathBuf::from(value(&flag)?)),
            "--settings-json" => args.settings_json = Some(value(&flag)?),
            "--execution-timeout" => {
                let v = value(&flag)?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("invalid --execution-timeout `{v}` (seconds expected)"))?;
                let d = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("invalid --execution-timeout `{v}`"))?;
                args.execution_timeout = (!d.is_zero()).then_some(d);
            }
            "--max-memory-mib" => {
                let v = value(&flag)?;
                let mib: u64 = v
                    .parse()
                    .map_err(|_| format!("invalid --max-memory-mib `{v}` (MiB expected)"))?;
                if mib > 4096 {
                    return Err("--max-memory-mib cannot exceed 4096 (32-bit memories)".into());
                }
                args.max_memory_bytes = (mib != 0).then_some(mib << 20);
            }
            "--no-policy-logs" => args.policy_logs = false,
            "--cache-dir" => args.cache_dir = Some(PathBuf::from(value(&flag)?)),
            "--disable-wasmtime-cache" => args.disable_cache = true,
            "--fresh-instance" => {
                run_only(&flag)?;
                args.fresh_instance = true;
            }
            "--human" => {
                run_only(&flag)?;
                args.human = true;
            }
            "--iterations" | "--warmup" => {
                bench_only(&flag)?;
                let v = value(&flag)?;
                let n: usize = v.parse().map_err(|_| format!("invalid {flag} `{v}`"))?;
                if flag == "--iterations" {
                    if n == 0 {
                        return Err("--iterations must be at least 1".into());
                    }
                    args.iterations = n;
                } else {
                    args.warmup = n;
                }
            }
            "--baseline" => {
                bench_only(&flag)?;
                args.baseline = Some(PathBuf::from(value(&flag)?));
            }
            "--json" => {
                bench_only(&flag)?;
                args.json = true;
            }
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if args.request_path.is_none() {
        return Err("--request-path is required".into());
    }
    if args.settings_path.is_some() && args.settings_json.is_some() {
        return Err("--settings-path and --settings-json are mutually exclusive".into());
    }
    match positional.len() {
        0 => return Err("the policy module (POLICY.wasm) is required".into()),
        1 => args.policy = PathBuf::from(positional.remove(0)),
        _ => {
            return Err(format!(
                "unexpected arguments: {}",
                positional[1..].join(" ")
            ));
        }
    }
    Ok(Parsed::Args(Box::new(args)))
}

fn read_request(path: &str) -> Result<(AdmissionRequest, usize), RunnerError> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| RunnerError::Io {
                path: "stdin".into(),
                message: e.to_string(),
            })?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| RunnerError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?
    };
    Ok((AdmissionRequest::from_json_str(&text)?, text.len()))
}

fn read_settings(args: &Args) -> Result<Settings, RunnerError> {
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

fn options(args: &Args) -> RunnerOptions {
    RunnerOptions {
        execution_timeout: args.execution_timeout,
        max_memory_bytes: args.max_memory_bytes,
        print_policy_logs: args.policy_logs,
        capture_policy_logs: false,
        compilation_cache: match (&args.cache_dir, args.disable_cache, args.command) {
            (_, true, _) => CompilationCache::Off,
            (Some(dir), false, _) => CompilationCache::Directory(dir.clone()),
            (None, false, Command::Run) => CompilationCache::DefaultDirectory,
            (None, false, Command::Bench) => CompilationCache::Off,
        },
    }
}

/// Loads a module and insists its settings are valid (kwctl refuses to run otherwise).
fn load_with_settings(
    path: &PathBuf,
    settings: &Settings,
    options: &RunnerOptions,
) -> Result<Policy, String> {
    let mut policy = Policy::load(path, options).map_err(|e| e.to_string())?;
    let outcome = policy.validate_settings_object(settings);
    if !outcome.valid {
        return Err(match outcome.message {
            Some(m) => format!("Provided settings are not valid: {m}"),
            None => "Provided settings are not valid".to_owned(),
        });
    }
    Ok(policy)
}

fn run(args: &Args) -> Result<(), String> {
    let request_path = args.request_path.as_deref().unwrap_or("-");
    let (request, _) = read_request(request_path).map_err(|e| e.to_string())?;
    let settings = read_settings(args).map_err(|e| e.to_string())?;
    let mut policy = load_with_settings(&args.policy, &settings, &options(args))?;
    let mode = if args.fresh_instance {
        InstanceMode::Fresh
    } else {
        InstanceMode::Warm
    };
    let response = policy.evaluate_request(&request, &settings, mode);
    if args.human {
        print!("{}", response.to_human());
    } else {
        println!("{}", response.to_json_line());
    }
    Ok(())
}

fn bench(args: &Args) -> Result<(), String> {
    let request_path = args.request_path.as_deref().unwrap_or("-");
    let (request, request_bytes) = read_request(request_path).map_err(|e| e.to_string())?;
    let settings = read_settings(args).map_err(|e| e.to_string())?;
    let options = options(args);
    let bench_options = BenchOptions {
        iterations: args.iterations,
        warmup: args.warmup,
    };
    let mut policy = load_with_settings(&args.policy, &settings, &options)?;
    let report = bench_module(
        &mut policy,
        &args.policy.display().to_string(),
        &request,
        &settings,
        &bench_options,
    );
    drop(policy);
    let baseline = match &args.baseline {
        Some(path) => {
            let mut baseline = load_with_settings(path, &settings, &options)
                .map_err(|e| format!("baseline {}: {e}", path.display()))?;
            Some(bench_module(
                &mut baseline,
                &path.display().to_string(),
                &request,
                &settings,
                &bench_options,
            ))
        }
        None => None,
    };
    let report = BenchReport::new(request_bytes, &bench_options, report, baseline);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// `cases`: a YAML list (the e2e case table) as JSON lines, for shell tools
/// such as jq; with `evaluate`, each line also carries the module's outcome.
fn cases(path: &PathBuf, evaluate: Option<&PathBuf>) -> Result<(), String> {
    if let Some(policy_path) = evaluate {
        return evaluated_cases(path, policy_path);
    }
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
    print!("{out}");
    Ok(())
}

/// `cases --evaluate`: the case table (read and checked by `cases::load`),
/// each case with what the module answered.
fn evaluated_cases(path: &std::path::Path, policy_path: &std::path::Path) -> Result<(), String> {
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut policy =
        Policy::load(policy_path.to_path_buf(), &options).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for case in policy_runner::cases::load(path)? {
        let outcome = policy_runner::cases::evaluate(
            &mut policy,
            &case,
            std::path::Path::new("."),
            InstanceMode::Warm,
        )?;
        let mut line = serde_json::to_value(&case).map_err(|e| e.to_string())?;
        line["outcome"] = outcome.to_json();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("policy-runner {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Cases { table, evaluate }) => {
            return match cases(&table, evaluate.as_ref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("Error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Ok(Parsed::Args(args)) => args,
        Err(e) => {
            eprintln!("Error: {e}\n\nRun `policy-runner --help` for usage.");
            return ExitCode::from(2);
        }
    };
    let result = match args.command {
        Command::Run => run(&args),
        Command::Bench => bench(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
