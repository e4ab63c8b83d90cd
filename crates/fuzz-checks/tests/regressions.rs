//! Policy bugs found by the fuzzing work, as tests of the fixed behaviour.
//! (Crash *inputs* found by the fuzzers live in `fuzz/regressions/<target>/`
//! and are replayed by `tests/seeds.rs`; these are the inline, readable
//! reproductions of the policy bugs behind them.)
//!
//! A test for a bug not fixed yet is marked `#[ignore = "open: …"]` (run it
//! with `cargo test -p fuzz-checks --test regressions -- --include-ignored`);
//! the fix drops the `ignore`.

use documentdb_upgrade_safety::admission::{Verdict, validate_payload};
use documentdb_upgrade_safety::cluster::NoCluster;
use documentdb_upgrade_safety::settings::Settings;
use fuzz_checks::checks;
use serde_json::json;
use test_support::{admission_request, validation_payload};

/// `rejectUnknownBinaryVersion: true`, an UPDATE to an unversioned image, and
/// a stored `status.schemaVersion` of 1 MiB with a newline: the denial must
/// quote (escape and cut) the installed schema like every other user value.
/// Before the fix: a 1,048,830-byte message with the raw value, newline and
/// all (rules.rs, `no_binary_below_installed_schema`, the `Unknown` arm's
/// `{installed}`).
#[test]
fn installed_schema_is_quoted_in_the_unknown_binary_denial() {
    let installed = format!("0.112.0\nforged: log line {}", "x".repeat(1 << 20));
    let old = json!({
        "metadata": {"name": "db"},
        "spec": {"documentDBVersion": "0.112.0"},
        "status": {"schemaVersion": installed},
    });
    let new = json!({
        "metadata": {"name": "db"},
        "spec": {"image": {"documentDB": "ghcr.io/documentdb/documentdb:latest"}},
    });
    let bytes = validation_payload(
        &admission_request("UPDATE", Some(new), Some(old)),
        &json!({"rejectUnknownBinaryVersion": true}),
    );
    let verdict = validate_payload(&bytes, &NoCluster);
    let Verdict::Rejected { message, .. } = &verdict else {
        panic!("expected a denial, got {verdict:?}");
    };
    assert!(
        message.contains("rejectUnknownBinaryVersion"),
        "{message:.300}"
    );
    assert!(!message.contains('\n'), "raw newline in {message:.300}");
    assert!(message.len() < 2048, "{} bytes", message.len());
    checks::check_payload(&bytes);
}

/// A settings document repeating one unknown (or mistyped) key N times gets N
/// errors: the message grows ~19x faster than the input (600 KB of `"a":1,`
/// gives an 11.6 MB message; 2 MiB, ~40 MB), in `validate_settings` and in
/// every `validate` call's 500 answer. The fix: stop collecting after a few
/// problems (e.g. 10, then "and N more"), or report each distinct key once.
#[test]
fn settings_errors_are_bounded() {
    for entry in [r#""a":1"#, r#""allowAutoSchemaVersion":"yes""#] {
        let settings = format!("{{{}}}", vec![entry; 100_000].join(","));
        let errors = Settings::from_json(settings.as_bytes()).unwrap_err();
        let message = errors.to_string();
        assert!(
            message.len() <= checks::MAX_MESSAGE_BYTES,
            "{} bytes of settings error for {} bytes of settings ({entry})",
            message.len(),
            settings.len()
        );
        checks::check_settings(settings.as_bytes());
        let bytes = format!(r#"{{"request":{{}},"settings":{settings}}}"#);
        checks::check_payload(bytes.as_bytes());
    }
}
