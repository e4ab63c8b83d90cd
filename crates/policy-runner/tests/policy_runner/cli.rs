//! The `policy-runner` binary: output, exit codes, flags.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::guest::{Behaviour, Guest};
use crate::sdk::noop_wasm;
use crate::{bare_request, review_request, scratch_dir};

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn runner(args: &[&str], stdin: Option<&str>) -> Output {
    runner_with_cache_home(
        args,
        stdin,
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
    )
}

/// Runs the binary with `XDG_CACHE_HOME` pointing at `cache_home`, so that the default
/// wasmtime cache of `run` never lands in the real home directory.
fn runner_with_cache_home(args: &[&str], stdin: Option<&str>, cache_home: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-runner"))
        .args(args)
        .env("XDG_CACHE_HOME", cache_home)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start policy-runner");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().expect("terminated by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Writes the guest module and the bare request into `dir`.
fn fixture(dir: &Path, guest: &Guest) -> (String, String) {
    let wasm = dir.join("policy.wasm");
    std::fs::write(&wasm, guest.wasm()).unwrap();
    let request = dir.join("request.json");
    std::fs::write(
        &request,
        serde_json::to_string_pretty(&bare_request()).unwrap(),
    )
    .unwrap();
    (path(&wasm), path(&request))
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

const ACCEPT_LINE: &str =
    "{\"uid\":\"abc-123\",\"allowed\":true,\"auditAnnotations\":null,\"warnings\":null}\n";

#[test]
fn run_prints_one_json_line_and_exits_0_for_accept_and_reject() {
    let dir = scratch_dir("cli-accept-reject");
    let (wasm, request) = fixture(&dir, &Guest::default());
    let out = runner(&["run", "-r", &request, &wasm], None);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, ACCEPT_LINE),
        "{}",
        out.stderr
    );

    let reject = Guest::validating(Behaviour::Reply(
        r#"{"accepted":false,"message":"pod name nginx is not accepted","code":400,"warnings":["demo warning"]}"#.into(),
    ));
    let (wasm, request) = fixture(&dir, &reject);
    let out = runner(&["run", "--request-path", &request, &wasm], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"uid\":\"abc-123\",\"allowed\":false,\"status\":{\"message\":\"pod name nginx is not accepted\",\"code\":400},\"auditAnnotations\":null,\"warnings\":[\"demo warning\"]}\n"
    );
    let out = runner(&["run", "--human", "--request-path", &request, &wasm], None);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "DENIED (code 400)\n  uid:      abc-123\n  message:  pod name nginx is not accepted\n  warning:  demo warning\n"
        )
    );
}

#[test]
fn run_reads_an_admission_review_from_stdin_and_keeps_logs_off_stdout() {
    let dir = scratch_dir("cli-stdin");
    let guest = Guest::validating(Behaviour::HostCall {
        binding: "kubewarden".into(),
        namespace: "tracing".into(),
        operation: "log".into(),
        payload: r#"{"level":"info","message":"starting validation","kind":"DocumentDB"}"#.into(),
        reply: r#"{"accepted":true}"#.into(),
    });
    let (wasm, _) = fixture(&dir, &guest);
    let review = review_request().to_string();
    for mode in [None, Some("--fresh-instance")] {
        let mut args = vec!["run", "-r", "-", wasm.as_str()];
        args.extend(mode);
        let out = runner(&args, Some(&review));
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, ACCEPT_LINE),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(r#"INFO policy_log: starting validation data={"kind":"DocumentDB"}"#),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn settings_come_from_json_or_yaml_and_invalid_settings_exit_1() {
    let dir = scratch_dir("cli-settings");
    let echo = Guest {
        validate_settings: Behaviour::EchoPayloadToLog {
            reply: r#"{"valid":true}"#.into(),
        },
        ..Guest::default()
    };
    let (wasm, request) = fixture(&dir, &echo);
    let yaml = dir.join("settings.yml");
    std::fs::write(&yaml, "names:\n  - a\n  - b\nmax: 3\n").unwrap();
    let json = dir.join("settings.json");
    std::fs::write(&json, r#"{"max": 3, "names": ["a", "b"]}"#).unwrap();
    for args in [
        vec!["run", "-r", &request, "-s", yaml.to_str().unwrap(), &wasm],
        vec![
            "run",
            "-r",
            &request,
            "--settings-path",
            json.to_str().unwrap(),
            &wasm,
        ],
        vec![
            "run",
            "-r",
            &request,
            "--settings-json",
            r#"{"names":["a","b"],"max":3}"#,
            &wasm,
        ],
    ] {
        let out = runner(&args, None);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, ACCEPT_LINE),
            "{}",
            out.stderr
        );
        // The echoed settings are not a log record: the host reports them on stderr.
        assert!(
            out.stderr.contains(r#": {"max":3,"names":["a","b"]}"#),
            "{}",
            out.stderr
        );
    }

    let invalid = Guest {
        validate_settings: Behaviour::Reply(
            r#"{"valid":false,"message":"names must not contain empty strings"}"#.into(),
        ),
        ..Guest::default()
    };
    let (wasm, request) = fixture(&dir, &invalid);
    let out = runner(
        &[
            "run",
            "-r",
            &request,
            "--settings-json",
            r#"{"names":[""]}"#,
            &wasm,
        ],
        None,
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "Error: Provided settings are not valid: names must not contain empty strings\n"
    );
}

#[test]
fn runaway_guests_fail_clearly_and_in_bounded_time() {
    let dir = scratch_dir("cli-runaway");
    // Loop in validate_settings: settings invalid, exit 1.
    let (wasm, request) = fixture(
        &dir,
        &Guest {
            validate_settings: Behaviour::LoopForever,
            ..Guest::default()
        },
    );
    let started = Instant::now();
    let out = runner(
        &["run", "--execution-timeout", "0.3", "-r", &request, &wasm],
        None,
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: Provided settings are not valid: Error invoking settings validation callback: \
         GuestCallFailure(\"guest code interrupted, execution deadline exceeded\")\n"
    );

    // Loop in validate: policy-server's timeout rejection, exit 0.
    let (wasm, request) = fixture(&dir, &Guest::validating(Behaviour::LoopForever));
    let out = runner(
        &["run", "--execution-timeout=0.3", "-r", &request, &wasm],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"uid\":\"abc-123\",\"allowed\":false,\"status\":{\"message\":\"Policy execution interrupted because it exceeded the allowed execution time\",\"code\":500},\"auditAnnotations\":null,\"warnings\":null}\n"
    );

    // Trap in protocol_version: not usable, exit 1.
    let (wasm, request) = fixture(
        &dir,
        &Guest {
            protocol_version: Behaviour::Trap,
            ..Guest::default()
        },
    );
    let out = runner(&["run", "-r", &request, &wasm], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(
            "Error: Cannot compute ProtocolVersion: Guest call failure: error while executing at wasm backtrace:"
        ),
        "{}",
        out.stderr
    );

    // Memory exhaustion in validate: a 500 response.
    let (wasm, request) = fixture(&dir, &Guest::validating(Behaviour::GrowMemoryUntilFailure));
    let out = runner(
        &["run", "--max-memory-mib", "32", "-r", &request, &wasm],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"uid\":\"abc-123\",\"allowed\":false,\"status\":{\"message\":\"internal server error: Guest call failure: memory.grow failed at 0x00000200 pages\",\"code\":500},\"auditAnnotations\":null,\"warnings\":null}\n"
    );
}

#[test]
fn bad_input_and_usage_errors() {
    let dir = scratch_dir("cli-errors");
    let (wasm, _) = fixture(&dir, &Guest::default());
    let no_uid = dir.join("no-uid.json");
    let mut request = bare_request();
    request.as_object_mut().unwrap().remove("uid");
    std::fs::write(&no_uid, request.to_string()).unwrap();
    let out = runner(&["run", "-r", no_uid.to_str().unwrap(), &wasm], None);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: cannot build AdmissionRequest object from given input: missing field `uid`\n"
    );

    let out = runner(&["run", "-r", "/nonexistent.json", &wasm], None);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: cannot read /nonexistent.json: No such file or directory (os error 2)\n"
    );

    for args in [
        vec!["run", &wasm],
        vec!["run", "-r", "x.json"],
        vec!["frobnicate"],
        vec!["run", "-r", "x.json", "--bogus", &wasm],
        vec!["run", "-r", "x.json", "--iterations", "3", &wasm],
        vec![
            "run",
            "-r",
            "x.json",
            "-s",
            "a.yml",
            "--settings-json",
            "{}",
            &wasm,
        ],
        vec!["run", "-r", "x.json", "--execution-timeout", "soon", &wasm],
    ] {
        let out = runner(&args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.starts_with("Error: "), "{}", out.stderr);
    }
    let out = runner(&["--help"], None);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("policy-runner run"));
}

#[test]
fn run_and_bench_with_the_noop_sdk_policy() {
    let noop = path(&noop_wasm());
    let dir = scratch_dir("cli-noop");
    let (guest, request) = fixture(&dir, &Guest::default());
    let out = runner(&["run", "-r", &request, &noop], None);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, ACCEPT_LINE),
        "{}",
        out.stderr
    );

    let out = runner(
        &[
            "bench",
            "-r",
            &request,
            "--iterations",
            "20",
            "--warmup",
            "2",
            "--json",
            &guest,
            "--baseline",
            &noop,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["iterations"], 20);
    assert_eq!(report["policy"]["module"], guest.as_str());
    assert_eq!(report["baseline"]["module"], noop.as_str());
    assert_eq!(report["policy"]["verdict"]["allowed"], true);
    assert_eq!(report["baseline"]["verdicts_agree"], true);
    let guest_size = std::fs::metadata(&guest).unwrap().len() as f64;
    let noop_size = std::fs::metadata(&noop).unwrap().len() as f64;
    assert_eq!(report["policy"]["size_bytes"].as_f64(), Some(guest_size));
    let ratio = report["ratios"]["size"].as_f64().unwrap();
    assert!((ratio - guest_size / noop_size).abs() < 1e-9);
    for module in ["policy", "baseline"] {
        for mode in ["warm", "fresh"] {
            let stats = &report[module][mode];
            assert_eq!(stats["iterations"], 20);
            for key in ["mean_us", "p50_us", "p99_us", "evals_per_sec"] {
                assert!(stats[key].as_f64().unwrap() > 0.0, "{module}.{mode}.{key}");
            }
        }
    }

    let out = runner(
        &[
            "bench",
            "-r",
            &request,
            "--iterations",
            "5",
            "--warmup",
            "0",
            &noop,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "size",
        "compile",
        "warm instance",
        "fresh instance",
        "evals/s",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
}

#[test]
fn bench_perf_map_names_the_guest_functions_for_perf() {
    let dir = scratch_dir("cli-perf-map");
    let (wasm, request) = fixture(&dir, &Guest::default());
    let bench = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "-r",
            &request,
            "--iterations",
            "2",
            "--warmup",
            "0",
        ];
        args.extend_from_slice(extra);
        args.push(&wasm);
        let child = Command::new(env!("CARGO_BIN_EXE_policy-runner"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start policy-runner");
        // wasmtime writes the map of the process that compiled the module.
        let map = std::path::PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&map).ok();
        let _ = std::fs::remove_file(&map);
        text
    };
    let text = bench(&["--perf-map"]).expect("--perf-map wrote no /tmp/perf-<pid>.map");
    // One line per compiled function: start address, size, name (from the name section
    // when the module keeps one, else its index in the module).
    assert!(
        text.lines().any(|line| line.contains("wasm[0]::")),
        "{text}"
    );
    assert_eq!(bench(&[]), None, "a map without --perf-map");
}

fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { files_under(&path) } else { 1 }
        })
        .sum()
}

#[test]
fn run_uses_the_wasmtime_compilation_cache_like_kwctl() {
    let dir = scratch_dir("cli-cache");
    let (wasm, request) = fixture(&dir, &Guest::default());
    let home = dir.join("xdg");
    let out = runner_with_cache_home(
        &["run", "--disable-wasmtime-cache", "-r", &request, &wasm],
        None,
        &home,
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, ACCEPT_LINE),
        "{}",
        out.stderr
    );
    assert_eq!(
        files_under(&home),
        0,
        "--disable-wasmtime-cache wrote a cache"
    );

    let out = runner_with_cache_home(&["run", "-r", &request, &wasm], None, &home);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, ACCEPT_LINE),
        "{}",
        out.stderr
    );
    assert!(
        files_under(&home.join("wasmtime")) > 0,
        "no module cached in the default directory"
    );

    let explicit = dir.join("explicit-cache");
    for _ in 0..2 {
        let out = runner(
            &[
                "run",
                "--cache-dir",
                explicit.to_str().unwrap(),
                "-r",
                &request,
                &wasm,
            ],
            None,
        );
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, ACCEPT_LINE),
            "{}",
            out.stderr
        );
    }
    assert!(
        files_under(&explicit) > 0,
        "no module cached in --cache-dir"
    );
}

#[test]
fn cases_prints_a_yaml_list_as_json_lines() {
    let dir = scratch_dir("cli-cases");
    let table = dir.join("cases.yaml");
    std::fs::write(
        &table,
        "# comment\n- name: one\n  request: a.json\n  allowed: true\n  warnings: []\n- name: two\n  settings: {x: 1}\n  message: [\"a: b\"]\n",
    )
    .unwrap();
    let out = runner(&["cases", table.to_str().unwrap()], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"allowed\":true,\"name\":\"one\",\"request\":\"a.json\",\"warnings\":[]}\n\
         {\"message\":[\"a: b\"],\"name\":\"two\",\"settings\":{\"x\":1}}\n"
    );
    std::fs::write(&table, "name: not a list\n").unwrap();
    let out = runner(&["cases", table.to_str().unwrap()], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.ends_with("expected a YAML list\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_and_version() {
    for args in [vec![], vec!["--help"], vec!["help"]] {
        let out = runner(&args, None);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stdout
                .contains("policy-runner run   [OPTIONS] --request-path FILE POLICY.wasm"),
            "{args:?}: {}",
            out.stdout
        );
    }
    let out = runner(&["run", "--help"], None);
    assert_eq!(out.code, 0);
    for flag in [
        "--request-path <PATH>",
        "--settings-json <VALUE>",
        "--allow-context-aware",
        "--replay-host-capabilities-interactions <FILE>",
        "--fresh-instance",
    ] {
        assert!(out.stdout.contains(flag), "{flag}: {}", out.stdout);
    }
    let out = runner(&["--version"], None);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "policy-runner 0.0.0\n")
    );
}

#[test]
fn usage_errors_name_the_problem() {
    let out = runner(&["run", "-r", "x.json", "--bogus", "p.wasm"], None);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("Error: unexpected argument '--bogus' found\n"),
        "{}",
        out.stderr
    );
    let out = runner(
        &["bench", "-r", "x.json", "--iterations", "0", "p.wasm"],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(
            "Error: invalid value '0' for '--iterations <N>': --iterations must be at least 1\n"
        ),
        "{}",
        out.stderr
    );
    let out = runner(
        &["run", "-r", "x.json", "--max-memory-mib", "5000", "p.wasm"],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(
            "Error: invalid value '5000' for '--max-memory-mib <MIB>': --max-memory-mib cannot \
             exceed 4096 (32-bit memories)\n"
        ),
        "{}",
        out.stderr
    );
}

const BACKUP_METADATA: &str = r#"{"protocolVersion":"v1","contextAwareResources":[{"apiVersion":"documentdb.io/preview","kind":"Backup"}]}"#;
const GET_BACKUP: &str = r#"{"api_version":"documentdb.io/preview","kind":"Backup","name":"nightly","namespace":"prod","disable_cache":false,"field_masks":null}"#;

/// A kwctl session answering GET_BACKUP with a ValidationResponse the guest replies with.
const SESSION: &str = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: documentdb.io/preview
    kind: Backup
    name: nightly
    namespace: prod
    disable_cache: false
    field_masks: null
  response:
    type: Success
    payload: '{"accepted":false,"message":"from the session","code":403}'
"#;
const SESSION_LINE: &str = "{\"uid\":\"abc-123\",\"allowed\":false,\"status\":{\"message\":\"from the session\",\"code\":403},\"auditAnnotations\":null,\"warnings\":null}\n";

fn context_aware_guest() -> Guest {
    Guest {
        metadata: Some(BACKUP_METADATA.into()),
        ..crate::context_aware::calling(&[("get_resource", GET_BACKUP)])
    }
}

#[test]
fn run_replays_a_kwctl_session_with_allow_context_aware() {
    let dir = scratch_dir("cli-replay");
    let (wasm, request) = fixture(&dir, &context_aware_guest());
    let session = dir.join("session.yml");
    std::fs::write(&session, SESSION).unwrap();
    let session = path(&session);
    for mode in [None, Some("--fresh-instance")] {
        let mut args = vec![
            "run",
            "--allow-context-aware",
            "--replay-host-capabilities-interactions",
            &session,
            "-r",
            &request,
            &wasm,
        ];
        args.extend(mode);
        let out = runner(&args, None);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, SESSION_LINE, "")
        );
    }

    // Without the flag the call is refused, and the unused exchange is reported.
    let out = runner(
        &[
            "run",
            "--replay-host-capabilities-interactions",
            &session,
            "-r",
            &request,
            &wasm,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"uid\":\"abc-123\",\"allowed\":false,\"status\":{\"message\":\"internal server error: \
         Guest call failure: Policy has not been granted access to Kubernetes \
         documentdb.io/preview/Backup resources. The violation has been reported.\",\"code\":500},\
         \"auditAnnotations\":null,\"warnings\":null}\n"
    );
    assert_eq!(
        out.stderr,
        format!("warning: 1 recorded exchange(s) of {session} have not been replayed\n")
    );

    // Granted but nothing to replay: the run says why every call will fail.
    let out = runner(
        &["run", "--allow-context-aware", "-r", &request, &wasm],
        None,
    );
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("Callback evaluation failure: kube::Client was not initialized properly"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr,
        "warning: policy-runner cannot reach a cluster: without \
         --replay-host-capabilities-interactions, every Kubernetes call the policy is allowed \
         to make fails\n"
    );
}

#[test]
fn an_unusable_session_file_is_an_error_not_a_panic() {
    let dir = scratch_dir("cli-bad-session");
    let (wasm, request) = fixture(&dir, &context_aware_guest());
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "- type: Exchange\n  request: '!Bogus {}'\n  response: {type: Success, payload: x}\n",
    )
    .unwrap();
    let bad = path(&bad);
    for (session, expected) in [
        (
            bad.as_str(),
            format!(
                "Error: cannot replay host capabilities interactions: {bad}: exchange 1: the \
                 request is not one policy-runner replays (!KubernetesGetResource, \
                 !KubernetesListResourceAll, !KubernetesListResourceNamespace, \
                 !KubernetesCanI): unknown variant `Bogus`, expected one of \
                 `KubernetesListResourceNamespace`, `KubernetesListResourceAll`, \
                 `KubernetesGetResource`, `KubernetesCanI`\n"
            ),
        ),
        (
            "/nonexistent/session.yml",
            "Error: cannot replay host capabilities interactions: cannot read \
             /nonexistent/session.yml: No such file or directory (os error 2)\n"
                .to_owned(),
        ),
    ] {
        let out = runner(
            &[
                "run",
                "--allow-context-aware",
                "--replay-host-capabilities-interactions",
                session,
                "-r",
                &request,
                &wasm,
            ],
            None,
        );
        assert_eq!((out.code, out.stdout.as_str()), (1, ""));
        assert_eq!(out.stderr, expected);
    }
}

/// A case table with a plain case and a context-aware one, next to its request, session and
/// metadata files (paths relative to `dir`).
fn case_table(dir: &Path) -> String {
    std::fs::write(
        dir.join("request.json"),
        serde_json::to_string(&bare_request()).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("session.yml"), SESSION).unwrap();
    std::fs::write(
        dir.join("metadata.yml"),
        "rules: []\ncontextAwareResources:\n  - apiVersion: documentdb.io/preview\n    kind: Backup\n",
    )
    .unwrap();
    let table = dir.join("cases.yaml");
    std::fs::write(
        &table,
        "- name: reads-the-backup\n  request: request.json\n  session: session.yml\n  allowed: false\n  code: 403\n  message: [from the session]\n\
         - name: refused-without-session\n  request: request.json\n  allowed: false\n  code: 500\n  message: [has not been granted access to Kubernetes]\n",
    )
    .unwrap();
    path(&table)
}

/// Runs the binary in `dir` (case paths are relative to the current directory).
fn runner_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_policy-runner"))
        .args(args)
        .current_dir(dir)
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn cases_evaluate_replays_each_cases_session() {
    let dir = scratch_dir("cli-cases-evaluate");
    let table = case_table(&dir);
    let wasm = dir.join("policy.wasm");
    // Not annotated: the grant comes from --metadata-path.
    std::fs::write(
        &wasm,
        crate::context_aware::calling(&[("get_resource", GET_BACKUP)]).wasm(),
    )
    .unwrap();
    let out = runner_in(
        &dir,
        &[
            "cases",
            "--evaluate",
            &path(&wasm),
            "--metadata-path",
            "metadata.yml",
            &table,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let outcomes: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes[0]["response"]["status"]["message"],
        "from the session"
    );
    assert_eq!(
        outcomes[1]["response"]["status"]["message"],
        "internal server error: Guest call failure: Policy has not been granted access to \
         Kubernetes documentdb.io/preview/Backup resources. The violation has been reported."
    );

    // Without --metadata-path the module's own (absent) metadata grants nothing.
    let out = runner_in(&dir, &["cases", "--evaluate", &path(&wasm), &table]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .lines()
            .next()
            .unwrap()
            .contains("has not been granted access to Kubernetes"),
        "{}",
        out.stdout
    );
}

#[test]
fn cases_check_judges_what_an_engine_printed() {
    let dir = scratch_dir("cli-cases-check");
    let table = case_table(&dir);
    let (wasm, _) = fixture(&dir, &context_aware_guest());
    // What `policy-runner run` prints for the context-aware case, with the case's flags.
    let out = runner_in(
        &dir,
        &[
            "run",
            "--request-path",
            "request.json",
            "--settings-json",
            "{}",
            "--allow-context-aware",
            "--replay-host-capabilities-interactions",
            "session.yml",
            &wasm,
        ],
    );
    assert_eq!(out.stdout, SESSION_LINE);
    std::fs::write(dir.join("stdout"), &out.stdout).unwrap();
    std::fs::write(dir.join("stderr"), &out.stderr).unwrap();
    let check = |name: &str, exit_code: &str| {
        runner_in(
            &dir,
            &[
                "cases",
                "check",
                &table,
                name,
                "--exit-code",
                exit_code,
                "--stdout",
                "stdout",
                "--stderr",
                "stderr",
            ],
        )
    };
    let out = check("reads-the-backup", "0");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );

    let out = check("refused-without-session", "0");
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        format!(
            "case refused-without-session:\n  code is Some(403), expected Some(500)\n  \
             message lacks \"has not been granted access to Kubernetes\"; message: \"from the \
             session\"\n  exit code: 0\n  stdout:\n    {}  stderr:\n",
            SESSION_LINE
        )
    );

    let out = check("reads-the-backup", "1");
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with(
            "case reads-the-backup:\n  the engine exited 1 without refusing the settings\n"
        ),
        "{}",
        out.stdout
    );

    let out = check("no-such-case", "0");
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            format!("Error: no case named \"no-such-case\" in {table}\n").as_str()
        )
    );
}

#[test]
fn cases_bats_prints_one_test_per_case() {
    let dir = scratch_dir("cli-cases-bats");
    let table = case_table(&dir);
    let out = runner(&["cases", "bats", &table], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let tests: Vec<&str> = out
        .stdout
        .lines()
        .filter(|line| line.starts_with("@test "))
        .collect();
    assert_eq!(
        tests,
        [
            "@test \"reads-the-backup\" {",
            "@test \"refused-without-session\" {"
        ]
    );
    assert!(out.stdout.contains(
        "    check_case 'reads-the-backup' '--request-path' 'request.json' '--settings-json' '{}' \
         '--allow-context-aware' '--replay-host-capabilities-interactions' 'session.yml'\n"
    ));
}

#[test]
fn a_closed_stdout_ends_the_runner_quietly() {
    // `policy-runner … | head`: the reader is gone before the runner writes.
    // Rust ignores SIGPIPE, so the write fails with EPIPE; print! would panic.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_policy-runner"))
        .arg("--help")
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
