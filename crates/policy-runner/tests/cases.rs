//! Every case of e2e/cases.yaml through the real module (`POLICY_WASM`, built by
//! `make policy.wasm`), evaluated the way the engines do: settings validated first, then
//! `validate` on one warm instance (kwctl run), and again on a fresh instance per request
//! (policy-server). Each outcome is judged from the line `policy-runner run` prints for it,
//! by the checker the bats suite calls (`policy-runner cases check`).

use std::path::{Path, PathBuf};

use policy_runner::cases::{self, Case, Outcome};
use policy_runner::context_aware::context_aware_resources_from_metadata_file;
use policy_runner::{ContextAwareAccess, InstanceMode, Policy, RunnerOptions};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/policy-runner/ is inside the repository")
}

fn policy_wasm() -> PathBuf {
    cases::module_from_env("POLICY_WASM", "policy.wasm").unwrap_or_else(|e| panic!("{e}"))
}

fn load_cases() -> Vec<Case> {
    cases::load(&repo().join("e2e/cases.yaml")).unwrap()
}

/// What `--allow-context-aware` grants once `make annotated-policy.wasm` has embedded
/// policy-metadata/metadata.yml: `POLICY_WASM` is the module before annotation.
fn context_aware() -> ContextAwareAccess {
    ContextAwareAccess::AllowList(
        context_aware_resources_from_metadata_file(&repo().join("policy-metadata/metadata.yml"))
            .unwrap(),
    )
}

#[test]
fn every_case_through_the_wasm_module() {
    let cases = load_cases();
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut policy = Policy::load(policy_wasm(), &options).expect("the module loads");
    let context_aware = context_aware();
    let mut failures = Vec::new();
    for mode in [InstanceMode::Warm, InstanceMode::Fresh] {
        for case in &cases {
            let outcome = cases::evaluate(&mut policy, case, repo(), mode, &context_aware)
                .unwrap_or_else(|e| panic!("{e}"));
            let problems = case.check_printed(&outcome.printed());
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
        cases.iter().any(|case| case.session.is_some()),
        "no case replays a host capabilities session"
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
    assert!(
        !case
            .check_printed(&Outcome::Response(accepted).printed())
            .is_empty()
    );
    assert!(
        !case
            .check_printed(&Outcome::SettingsRefused("nope".into()).printed())
            .is_empty()
    );
}

#[test]
fn every_fixture_and_session_is_used_by_a_case() {
    let cases = load_cases();
    let used: Vec<&PathBuf> = cases
        .iter()
        .flat_map(|c| std::iter::once(&c.request).chain(c.session.as_ref()))
        .collect();
    let mut unused = Vec::new();
    let mut stack = vec![repo().join("e2e/fixtures"), repo().join("e2e/sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(repo()).unwrap().to_path_buf();
            if path.is_dir() {
                // Benchmark inputs are measured, not judged.
                if !relative.ends_with("bench") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "json" || e == "yml")
                && !used.contains(&&relative)
            {
                unused.push(relative);
            }
        }
    }
    assert!(unused.is_empty(), "fixtures no case evaluates: {unused:?}");
}

/// The active data segments of a module, by address: (address, bytes).
fn data_segments(module: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut segments = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let wasmparser::Payload::DataSection(reader) = payload.unwrap() else {
            continue;
        };
        for data in reader {
            let data = data.unwrap();
            let wasmparser::DataKind::Active { offset_expr, .. } = data.kind else {
                continue;
            };
            let mut operators = offset_expr.get_operators_reader();
            let wasmparser::Operator::I32Const { value } = operators.read().unwrap() else {
                panic!("a data segment at an address that is not a constant");
            };
            segments.push((value as u32, data.data.to_vec()));
        }
    }
    segments.sort();
    segments
}

/// `DATA_PAGE_ANCHOR` (src/lib.rs) is the first writable static, on a 4 KiB page of its
/// own, so the statics after it and the first allocations share the next page: a fresh
/// instance faults one page fewer than when they fell where the read-only data's size
/// put them (BENCHMARKS.md, "One page of stack"). Nothing makes the linker put it first
/// but the order LLVM emits the statics in, so both modules are checked: as linked, the
/// data segment (`.data`, after `.rodata`) begins with the anchor's page; after
/// wasm-opt, which splits segments at runs of zeros, the anchor is alone on its page and
/// the initialised statics after it fit in the next one (zero-initialised ones, which no
/// segment holds, are not seen).
#[test]
fn the_writable_statics_start_on_a_page_of_their_own() {
    const PAGE: u32 = 4096;
    let linked = cases::module_from_env("POLICY_LINKED_WASM", "policy.wasm")
        .unwrap_or_else(|e| panic!("{e}"));
    let linked = data_segments(&std::fs::read(linked).unwrap());
    let (address, data) = linked.last().expect("the module has data");
    assert_eq!(
        address % PAGE,
        0,
        "`.data` at {address:#x}, not on a page boundary"
    );
    assert!(
        data.len() > PAGE as usize
            && data[0] == 1
            && data[1..PAGE as usize].iter().all(|b| *b == 0),
        "`.data` at {address:#x} does not begin with the anchor's page: a writable static \
         comes before it"
    );
    let segments = data_segments(&std::fs::read(policy_wasm()).unwrap());
    let anchor = segments
        .iter()
        .position(|(address, bytes)| address % PAGE == 0 && bytes.as_slice() == [1])
        .expect("the data page anchor: a one-byte segment [1] on a page boundary");
    let page = segments[anchor].0 + PAGE;
    let after = &segments[anchor + 1..];
    assert!(!after.is_empty(), "no writable statics after the anchor");
    for (address, bytes) in after {
        let end = *address as usize + bytes.len();
        assert!(
            *address >= page && end <= (page + PAGE) as usize,
            "a writable static at {address:#x}..{end:#x}, outside the page after the \
             anchor ({page:#x}..{:#x})",
            page + PAGE
        );
    }
}
