//! Every case of e2e/cases.yaml through the real policy.wasm, evaluated the
//! way the engines do: settings validated first, then `validate` on one warm
//! instance (kwctl run), and again on a fresh instance per request
//! (policy-server).

use std::path::{Path, PathBuf};
use std::process::Command;

use policy_runner::cases::{self, Case, Outcome};
use policy_runner::{InstanceMode, Policy, RunnerOptions};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/policy-runner/ is inside the repository")
}

/// `make policy.wasm` is a no-op when the module is fresh; otherwise it builds
/// it exactly as a release does (cargo + wasm-opt).
fn policy_wasm() -> PathBuf {
    let status = Command::new("make")
        .args(["-s", "policy.wasm"])
        .current_dir(repo())
        .status()
        .expect("make runs");
    assert!(status.success(), "make policy.wasm failed");
    repo().join("policy.wasm")
}

fn load_cases() -> Vec<Case> {
    cases::load(&repo().join("e2e/cases.yaml")).unwrap()
}

fn run_case(policy: &mut Policy, case: &Case, mode: InstanceMode) -> Outcome {
    cases::evaluate(policy, case, repo(), mode).unwrap()
}

#[test]
fn every_case_through_the_wasm_module() {
    let cases = load_cases();
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut policy = Policy::load(policy_wasm(), &options).expect("policy.wasm loads");
    let mut failures = Vec::new();
    for mode in [InstanceMode::Warm, InstanceMode::Fresh] {
        for case in &cases {
            let problems = case.problems(&run_case(&mut policy, case, mode));
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({mode:?}):\n  {}",
                    case.name,
                    problems.join("\n  ")
                ));
            }
        }
    }
    assert!(
        cases.len() > 50,
        "only {} cases: is the table truncated?",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_checker_catches_a_wrong_verdict() {
    let case = load_cases()
        .into_iter()
        .find(|c| c.name == "walkthrough-4-rollback-denied")
        .unwrap();
    let accepted = policy_runner::AdmissionResponse {
        uid: "x".into(),
        allowed: true,
        ..Default::default()
    };
    assert!(!case.problems(&Outcome::Response(accepted)).is_empty());
    assert!(
        !case
            .problems(&Outcome::SettingsRefused("nope".into()))
            .is_empty()
    );
}

#[test]
fn every_fixture_is_used_by_a_case() {
    let used: Vec<PathBuf> = load_cases().into_iter().map(|c| c.request).collect();
    let mut unused = Vec::new();
    let mut stack = vec![repo().join("e2e/fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(repo()).unwrap().to_path_buf();
            if path.is_dir() {
                // Benchmark inputs are measured, not judged.
                if !relative.ends_with("bench") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "json") && !used.contains(&relative) {
                unused.push(relative);
            }
        }
    }
    assert!(unused.is_empty(), "fixtures no case evaluates: {unused:?}");
}
