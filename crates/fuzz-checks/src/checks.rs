//! The invariants every fuzz input must satisfy, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, nightly) and by the stable replay of seeds and
//! crash reproducers (`tests/seeds.rs`). A violated invariant panics: libFuzzer
//! records the input as a crash.

use documentdb_upgrade_safety::admission::{
    CODE_BAD_REQUEST, CODE_INVALID, CODE_MISCONFIGURED, Verdict, validate_payload,
};
use documentdb_upgrade_safety::cluster::NoCluster;
use documentdb_upgrade_safety::model::image::ImageReference;
use documentdb_upgrade_safety::model::version::{
    ExtensionVersion, VersionError, has_canonical_syntax, leading_version,
};
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::text::{MAX_QUOTED_CHARS, quote};
use documentdb_upgrade_safety::{validate, validate_settings};
use kubewarden_policy_sdk::response::ValidationResponse;
use serde_json::Value;

/// Longest acceptable denial, log reason or settings error, whatever the
/// input size: user values are quoted and cut to 64 characters, so a message
/// only grows with the number of problems, which is bounded by the fields the
/// policy reads. 64 KiB is far above any legitimate message (< 2 KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Kubernetes asks for warnings of at most 120 characters "if possible"; the
/// bound here only catches an unquoted user value (a 1 MB tag) in a warning.
pub const MAX_WARNING_BYTES: usize = 1024;
pub const MAX_WARNINGS: usize = 8;
/// Longest output of `quote`: 64 characters escaped as `\u{xxxx}` (8 bytes
/// each), two quotes and `…` (3 bytes).
pub const MAX_QUOTED_BYTES: usize = MAX_QUOTED_CHARS * 8 + 2 + 3;

/// The `payload` target: raw bytes as the `validate` payload and as settings.
pub fn run_payload(data: &[u8]) {
    check_payload(data);
    check_settings(data);
}

/// The `parsing` target: the input as text (an input starting with 0xFF is the
/// rest repeated to 1 MiB), and split at the first NUL into two versions.
pub fn run_parsing(data: &[u8]) {
    let text = match data {
        [0xff, rest @ ..] if !rest.is_empty() => {
            String::from_utf8_lossy(&rest.repeat((1 << 20) / rest.len() + 1)).into_owned()
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    check_text(&text);
    if let Some((a, b)) = text.split_once('\0') {
        check_text(a);
        check_text(b);
        check_order(a, b);
    }
}

/// `validate` logic on raw bytes: a verdict with bounded text, and a `validate`
/// that answers (never a guest error) with exactly that verdict's response —
/// a second, independent evaluation, so also the determinism check.
pub fn check_payload(data: &[u8]) -> Verdict {
    let verdict = validate_payload(data, &NoCluster);
    check_verdict(&verdict);
    let response = validate(data).expect("validate returned a guest error");
    let expected = serde_json::to_vec(&ValidationResponse::from(verdict.clone())).unwrap();
    if response != expected {
        panic!(
            "evaluation is not deterministic: validate answered {:.300}, validate_payload gave {:.300}",
            String::from_utf8_lossy(&response),
            String::from_utf8_lossy(&expected)
        );
    }
    verdict
}

pub fn check_verdict(verdict: &Verdict) {
    match verdict {
        Verdict::NotApplicable(reason) => {
            check_no_raw_controls(reason);
            assert!(
                reason.len() <= MAX_MESSAGE_BYTES,
                "reason of {} bytes",
                reason.len()
            );
        }
        Verdict::Accepted { warnings } => check_warnings(warnings),
        Verdict::Rejected {
            message,
            code,
            warnings,
        } => {
            assert!(
                [CODE_BAD_REQUEST, CODE_INVALID, CODE_MISCONFIGURED].contains(code),
                "code {code}"
            );
            assert!(
                message.len() <= MAX_MESSAGE_BYTES,
                "denial message of {} bytes: {}…",
                message.len(),
                prefix(message, 300)
            );
            check_no_raw_controls(message);
            check_warnings(warnings);
        }
    }
}

fn check_warnings(warnings: &[String]) {
    assert!(
        warnings.len() <= MAX_WARNINGS,
        "{} warnings",
        warnings.len()
    );
    for warning in warnings {
        assert!(
            warning.len() <= MAX_WARNING_BYTES,
            "warning of {} bytes: {}…",
            warning.len(),
            prefix(warning, 300)
        );
        check_no_raw_controls(warning);
    }
}

/// User values reach messages only through `quote`, which escapes control
/// characters: a raw newline would let a value forge log lines or message
/// structure.
fn check_no_raw_controls(text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "raw control character in {:?}…",
        prefix(text, 300)
    );
}

/// `validate_settings` logic on raw bytes: an answer, never a guest error,
/// agreeing with `Settings::from_json`, with a bounded message.
pub fn check_settings(data: &[u8]) {
    let parsed = Settings::from_json(data);
    if let Err(errors) = &parsed {
        let message = errors.to_string();
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "settings error of {} bytes ({} problems): {}…",
            message.len(),
            errors.0.len(),
            prefix(&message, 300)
        );
    }
    let response = validate_settings(data).expect("validate_settings returned a guest error");
    let response: Value = serde_json::from_slice(&response).expect("the response is JSON");
    assert_eq!(
        response["valid"].as_bool(),
        Some(parsed.is_ok()),
        "{response}"
    );
}

/// Image-reference, version and quoting invariants on one string.
pub fn check_text(text: &str) {
    // ImageReference: the three parts are the reference, split, in order.
    let image = ImageReference::parse(text);
    let mut rebuilt = image.name.to_owned();
    if let Some(tag) = image.tag {
        assert!(!tag.contains(['/', '@', ':']), "tag {tag:?}");
        rebuilt.push(':');
        rebuilt.push_str(tag);
    }
    if let Some(digest) = image.digest {
        rebuilt.push('@');
        rebuilt.push_str(digest);
    }
    assert_eq!(rebuilt, text, "{image:?}");
    assert!(!image.name.contains('@'), "{image:?}");
    match image.tag_version() {
        Ok(version) => {
            let tag = image.tag.expect("a version comes from a tag");
            assert!(
                tag.starts_with(version),
                "{version:?} not a prefix of {tag:?}"
            );
            assert_eq!(leading_version(tag), Some(version));
        }
        Err(why) => {
            let why = why.to_string();
            assert!(why.len() <= MAX_QUOTED_BYTES + 100, "{why}");
        }
    }

    // leading_version: a prefix made of three ASCII digit runs.
    if let Some(version) = leading_version(text) {
        assert!(text.starts_with(version));
        let parts: Vec<&str> = version.split('.').collect();
        assert_eq!(parts.len(), 3, "{version:?}");
        assert!(
            parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{version:?}"
        );
    }

    // ExtensionVersion: only the canonical spelling parses, and round-trips.
    match ExtensionVersion::parse(text) {
        Ok(version) => {
            assert_eq!(version.to_string(), text);
            assert!(has_canonical_syntax(text));
            assert_eq!(leading_version(text), Some(text));
        }
        Err(VersionError::OutOfRange) => assert!(has_canonical_syntax(text), "{text:?}"),
        Err(VersionError::Malformed(why)) => {
            assert!(!has_canonical_syntax(text), "{text:?}");
            assert!(why.len() <= MAX_QUOTED_BYTES + 200, "{why}");
        }
    }

    check_quote(text);
}

/// `quote`: bounded, starts and ends with a quote, no raw control character
/// or unescaped quote inside, and short plain text is kept as is.
pub fn check_quote(text: &str) {
    let quoted = quote(text);
    assert!(quoted.len() <= MAX_QUOTED_BYTES, "{} bytes", quoted.len());
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .expect("quoted");
    assert!(!inner.chars().any(char::is_control), "{quoted:?}");
    let mut escaped = false;
    for c in inner.chars() {
        assert!(escaped || c != '"', "unescaped quote in {quoted:?}");
        escaped = !escaped && c == '\\';
    }
    assert!(!escaped, "dangling backslash in {quoted:?}");
    let plain = text.chars().count() <= MAX_QUOTED_CHARS
        && !text
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control());
    if plain {
        assert_eq!(inner, text);
    }
}

/// Two strings that both parse compare like their numbers.
pub fn check_order(a: &str, b: &str) {
    if let (Ok(va), Ok(vb)) = (ExtensionVersion::parse(a), ExtensionVersion::parse(b)) {
        let numbers = |s: &str| -> Vec<u128> { s.split('.').map(|p| p.parse().unwrap()).collect() };
        assert_eq!(va.cmp(&vb), numbers(a).cmp(&numbers(b)), "{a} vs {b}");
    }
}

fn prefix(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
