//! The fuzz targets' seeds and crash reproducers as ordinary (stable) tests:
//! every file under `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`
//! goes through exactly what the target does with it, the same invariants
//! (`fuzz_checks::checks`: no panic, `validate`/`validate_settings` never a
//! guest error, bounded messages, deterministic verdicts, parser invariants).
//!
//! To add a crash found by `fuzz/run.sh`: minimise it
//! (`cargo +nightly fuzz tmin <target> fuzz/artifacts/<target>/crash-…`) and
//! copy the result to `fuzz/regressions/<target>/<what-it-is>`. While the bug
//! is open, keep it in `fuzz/regressions/open/<target>/` instead: replayed only
//! by the ignored `open_crashes` test (`-- --include-ignored`), and not fed to
//! the fuzzers by `fuzz/run.sh`; `git mv` it one level up with the fix.
//!
//! A `structured` input is a recipe decoded by `fuzz_checks::structured`: a
//! change to that model changes what old inputs decode to. That is why each
//! structured crash is also kept rendered, as a `payload` input.

use std::path::{Path, PathBuf};

use fuzz_checks::{checks, structured};

/// `fuzz/` of the repository.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of one target: seeds, then regressions; sorted, so failures are
/// reproducible.
fn inputs(target: &str) -> Vec<PathBuf> {
    files_under(&["seeds", "regressions"], target)
}

fn files_under(kinds: &[&str], target: &str) -> Vec<PathBuf> {
    let fuzz = fuzz_dir();
    let mut files = Vec::new();
    for kind in kinds {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .map(|entry| entry.expect("readable directory").path())
            .filter(|path| {
                path.is_file()
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// Runs `run` on every input; reports every failing file, not just the first.
fn replay(target: &str, minimum: usize, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= minimum,
        "fuzz/seeds/{target}/ should hold at least {minimum} seeds, found {}",
        files.len()
    );
    let failures = replay_files(&files, run);
    assert!(failures.is_empty(), "failing inputs: {failures:#?}");
}

/// The inputs on which `run` panics.
fn replay_files(files: &[PathBuf], run: fn(&[u8])) -> Vec<String> {
    files
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).expect("readable seed");
            std::panic::catch_unwind(|| run(&data))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect()
}

#[test]
fn payload_seeds_and_regressions() {
    replay("payload", 10, checks::run_payload);
}

#[test]
fn structured_seeds_and_regressions() {
    replay("structured", 1, structured::run_structured);
}

#[test]
fn parsing_seeds_and_regressions() {
    replay("parsing", 5, checks::run_parsing);
}

/// Crash reproducers of open bugs (`fuzz/regressions/open/<target>/`): they
/// fail until the bug is fixed.
#[test]
#[ignore = "open bugs: see tests/regressions.rs"]
fn open_crashes() {
    let run = |target| -> fn(&[u8]) {
        match target {
            "payload" => checks::run_payload,
            "structured" => structured::run_structured,
            _ => checks::run_parsing,
        }
    };
    let failures: Vec<String> = ["payload", "structured", "parsing"]
        .into_iter()
        .flat_map(|target| replay_files(&files_under(&["regressions/open"], target), run(target)))
        .collect();
    assert!(failures.is_empty(), "failing inputs: {failures:#?}");
}

/// The payload seeds are realistic requests, not just bytes: each one gets
/// the verdict its e2e/fixtures fixture is about (guards against seeds rotting
/// into "invalid JSON" after a format change, which would still "pass").
#[test]
fn payload_seeds_are_meaningful() {
    use documentdb_upgrade_safety::admission::{Verdict, validate_payload};
    use documentdb_upgrade_safety::cluster::NoCluster;
    let verdict = |name: &str| {
        let path = fuzz_dir().join("seeds/payload").join(name);
        validate_payload(&std::fs::read(&path).expect("seed exists"), &NoCluster)
    };
    let denied = |v: &Verdict, needle: &str| matches!(v, Verdict::Rejected { message, code: 422, .. } if message.contains(needle));
    assert!(verdict("walkthrough-01-create.json").is_accepted());
    assert!(verdict("walkthrough-02-upgrade-binary.json").is_accepted());
    assert!(denied(
        &verdict("walkthrough-04-rollback.json"),
        "image rollback blocked"
    ));
    assert!(denied(
        &verdict("walkthrough-05-schema-ahead.json"),
        "exceeds the binary version"
    ));
    // schemaVersion 0.113.0, no version or image, default 0.113.0: accepted.
    assert!(verdict("create-default-version.json").is_accepted());
    assert!(denied(
        &verdict("update-latest-tag-reject-unknown.json"),
        "rejectUnknownBinaryVersion"
    ));
    assert!(matches!(
        verdict("other-pod.json"),
        Verdict::NotApplicable(_)
    ));
}
