//! The e2e case table (`e2e/cases.yaml`): what each case states, the flags every engine
//! evaluates it with, and the one checker of what an engine printed. `cargo test` (through
//! this library) and the bats suite (`kwctl run` or `policy-runner run`, then
//! `policy-runner cases check`) both judge a case with [`Case::check_printed`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context_aware::{ContextAwareAccess, Session};
use crate::{AdmissionResponse, InstanceMode, Policy};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Letters, digits, `.`, `_` and `-`: it names a bats test.
    pub name: String,
    /// A bare AdmissionRequest or an AdmissionReview, relative to the repository.
    pub request: PathBuf,
    #[serde(default = "empty_object")]
    pub settings: Value,
    /// A kwctl host capabilities session (relative to the repository), replayed with
    /// `--allow-context-aware --replay-host-capabilities-interactions <session>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Substrings that must all appear in `status.message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message: Vec<String>,
    /// One substring per expected warning, in order; `Some([])`: no warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
    /// The engine must refuse the settings with a message containing this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_error: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// What an engine did with a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(AdmissionResponse),
    /// `validate_settings` answered `valid: false` with this message.
    SettingsRefused(String),
}

/// What an engine run printed: its exit code, stdout and stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// How kwctl (and `policy-runner run`) introduce refused settings on stderr.
const SETTINGS_REFUSED: &str = "Provided settings are not valid";

/// The keys kwctl prints on every response line, even when `null`.
const RESPONSE_KEYS: [&str; 4] = ["uid", "allowed", "auditAnnotations", "warnings"];

impl Outcome {
    /// `{"response": <kwctl's JSON line>}` or `{"settingsRefused": message}`:
    /// what `policy-runner cases --evaluate` prints for other engines (crates/upgrade-checker/) to
    /// compare their own answers with.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Response(response) => serde_json::json!({ "response": response }),
            Outcome::SettingsRefused(message) => serde_json::json!({ "settingsRefused": message }),
        }
    }

    /// What `kwctl run` / `policy-runner run` print for this outcome.
    pub fn printed(&self) -> Printed {
        match self {
            Outcome::Response(response) => Printed {
                exit_code: 0,
                stdout: format!("{}\n", response.to_json_line()),
                stderr: String::new(),
            },
            Outcome::SettingsRefused(message) => Printed {
                exit_code: 1,
                stdout: String::new(),
                stderr: format!("Error: {}\n", settings_refused_message(Some(message))),
            },
        }
    }

    /// Reads what an engine printed: exit 0 and one JSON line with kwctl's keys on stdout, or
    /// a non-zero exit after refusing the settings. Err: anything else, described.
    pub fn from_printed(printed: &Printed) -> Result<Outcome, String> {
        if printed.exit_code != 0 {
            return match printed.stderr.find(SETTINGS_REFUSED) {
                Some(at) => {
                    let rest = &printed.stderr[at + SETTINGS_REFUSED.len()..];
                    let message = rest.strip_prefix(": ").unwrap_or(rest).trim_end();
                    Ok(Outcome::SettingsRefused(message.to_owned()))
                }
                None => Err(format!(
                    "the engine exited {} without refusing the settings",
                    printed.exit_code
                )),
            };
        }
        let lines: Vec<&str> = printed
            .stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let [line] = lines.as_slice() else {
            return Err(format!(
                "expected one JSON line on stdout, found {} lines",
                lines.len()
            ));
        };
        let value: Value = serde_json::from_str(line)
            .map_err(|e| format!("stdout is not a JSON admission response: {e}"))?;
        let missing: Vec<&str> = RESPONSE_KEYS
            .into_iter()
            .filter(|key| value.get(key).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the response lacks {} (kwctl prints them even when null)",
                missing.join(", ")
            ));
        }
        AdmissionResponse::deserialize(&value)
            .map(Outcome::Response)
            .map_err(|e| format!("stdout is not an admission response: {e}"))
    }
}

/// kwctl's error text for refused settings (`Error: ` is added by the caller).
pub fn settings_refused_message(message: Option<&str>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!("{SETTINGS_REFUSED}: {m}"),
        _ => SETTINGS_REFUSED.to_owned(),
    }
}

/// What `policy` does with `case`, the way the engines do it: settings
/// validated first, then `validate`. `root` is what request and session paths are
/// relative to; `context_aware` is what `--allow-context-aware` grants to a case that
/// replays a session (cases without one get no access and no session).
pub fn evaluate(
    policy: &mut Policy,
    case: &Case,
    root: &Path,
    mode: InstanceMode,
    context_aware: &ContextAwareAccess,
) -> Result<Outcome, String> {
    let fail = |e: &dyn std::fmt::Display| format!("case {}: {e}", case.name);
    match &case.session {
        Some(session) => {
            let session = Session::from_file(&root.join(session)).map_err(|e| fail(&e))?;
            policy
                .set_context_aware(context_aware)
                .map_err(|e| fail(&e))?;
            policy.set_replay_session(Some(Arc::new(session)));
        }
        None => {
            policy
                .set_context_aware(&ContextAwareAccess::NoAccess)
                .map_err(|e| fail(&e))?;
            policy.set_replay_session(None);
        }
    }
    let settings = policy
        .validate_settings(&case.settings)
        .map_err(|e| fail(&e))?;
    if !settings.valid {
        return Ok(Outcome::SettingsRefused(
            settings.message.unwrap_or_default(),
        ));
    }
    let path = root.join(&case.request);
    let text =
        std::fs::read_to_string(&path).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    let request: Value =
        serde_json::from_str(&text).map_err(|e| fail(&format!("{}: {e}", path.display())))?;
    policy
        .evaluate_with_mode(&request, &case.settings, mode)
        .map(Outcome::Response)
        .map_err(|e| fail(&e))
}

/// Reads the table and refuses what would make a case meaningless or unnamed: a case that
/// states neither a verdict nor a settings error (it could pass by asserting nothing), a
/// name that cannot name a bats test, a name used twice.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let cases: Vec<Case> =
        serde_yaml::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    let mut names = BTreeSet::new();
    for case in &cases {
        let name_ok = !case.name.is_empty()
            && case
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !name_ok {
            return Err(format!(
                "case {:?}: a name is letters, digits, `.`, `_` and `-` (it names a bats test)",
                case.name
            ));
        }
        if !names.insert(case.name.as_str()) {
            return Err(format!("case {}: the name is used twice", case.name));
        }
        if case.allowed.is_some() == case.settings_error.is_some() {
            return Err(format!(
                "case {}: state exactly one of `allowed` and `settings_error`",
                case.name
            ));
        }
    }
    Ok(cases)
}

/// The case named `name`.
pub fn find<'a>(cases: &'a [Case], name: &str) -> Result<&'a Case, String> {
    cases
        .iter()
        .find(|case| case.name == name)
        .ok_or_else(|| format!("no case named {name:?}"))
}

impl Case {
    /// The flags `kwctl run` and `policy-runner run` evaluate the case with (before the
    /// module's path).
    pub fn engine_flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--request-path".to_owned(),
            self.request.display().to_string(),
            "--settings-json".to_owned(),
            self.settings.to_string(),
        ];
        if let Some(session) = &self.session {
            flags.extend([
                "--allow-context-aware".to_owned(),
                "--replay-host-capabilities-interactions".to_owned(),
                session.display().to_string(),
            ]);
        }
        flags
    }

    /// Everything in what an engine printed that contradicts the case; empty when it passes.
    pub fn check_printed(&self, printed: &Printed) -> Vec<String> {
        match Outcome::from_printed(printed) {
            Ok(outcome) => self.problems(&outcome),
            Err(problem) => vec![problem],
        }
    }

    /// Everything in `outcome` that contradicts the case; empty when it passes.
    pub fn problems(&self, outcome: &Outcome) -> Vec<String> {
        let mut problems = Vec::new();
        match (outcome, &self.settings_error) {
            (Outcome::SettingsRefused(message), Some(expected)) => {
                if !message.contains(expected.as_str()) {
                    problems.push(format!(
                        "settings refused with {message:?}, expected it to contain {expected:?}"
                    ));
                }
            }
            (Outcome::SettingsRefused(message), None) => {
                problems.push(format!("settings refused: {message}"));
            }
            (Outcome::Response(response), Some(_)) => {
                problems.push(format!(
                    "settings accepted, response {}",
                    response.to_json_line()
                ));
            }
            (Outcome::Response(response), None) => self.check_response(response, &mut problems),
        }
        problems
    }

    fn check_response(&self, response: &AdmissionResponse, problems: &mut Vec<String>) {
        if Some(response.allowed) != self.allowed {
            problems.push(format!(
                "allowed is {}, expected {:?}",
                response.allowed, self.allowed
            ));
        }
        let status = response.status.clone().unwrap_or_default();
        if self.code.is_some() && status.code != self.code {
            problems.push(format!(
                "code is {:?}, expected {:?}",
                status.code, self.code
            ));
        }
        let message = status.message.unwrap_or_default();
        for expected in &self.message {
            if !message.contains(expected.as_str()) {
                problems.push(format!("message lacks {expected:?}; message: {message:?}"));
            }
        }
        if let Some(expected) = &self.warnings {
            let actual = response.warnings.clone().unwrap_or_default();
            let matches = actual.len() == expected.len()
                && actual
                    .iter()
                    .zip(expected)
                    .all(|(warning, part)| warning.contains(part.as_str()));
            if !matches {
                problems.push(format!("warnings are {actual:?}, expected {expected:?}"));
            }
        }
    }
}

/// The path of a module a test needs, from the environment variable `variable` (an absolute
/// path; `make test` sets it after `make <make_target>` built the module). Err: a message
/// naming the variable and the make target, for a test to fail with.
pub fn module_from_env(variable: &str, make_target: &str) -> Result<PathBuf, String> {
    module_path(variable, std::env::var_os(variable), make_target)
}

fn module_path(
    variable: &str,
    value: Option<std::ffi::OsString>,
    make_target: &str,
) -> Result<PathBuf, String> {
    let Some(value) = value else {
        return Err(format!(
            "{variable} is not set: build the module with `make {make_target}` and set \
             {variable} to its absolute path (`make test` does both)"
        ));
    };
    let path = PathBuf::from(value);
    if !path.is_absolute() {
        return Err(format!(
            "{variable}={} is not an absolute path (cargo runs each test in its crate's \
             directory)",
            path.display()
        ));
    }
    if !path.is_file() {
        return Err(format!(
            "{variable}={} does not exist: build it with `make {make_target}`",
            path.display()
        ));
    }
    Ok(path)
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A bats file with one test per case (bats 1.8 finds tests by reading the file, so they
/// cannot be registered at run time): each runs the engine with the case's
/// [`Case::engine_flags`] and has `policy-runner cases check` judge what it printed.
/// `table` is the case table's path; the helpers (`check_case`, the choice of engine) are in
/// `helpers.bash` beside it.
pub fn bats_suite(table: &Path, cases: &[Case]) -> Result<String, String> {
    let table = std::path::absolute(table)
        .map_err(|e| format!("cannot resolve {}: {e}", table.display()))?;
    let dir = table
        .parent()
        .ok_or_else(|| format!("{} has no directory", table.display()))?;
    let (Some(table_text), Some(dir_text)) = (table.to_str(), dir.to_str()) else {
        return Err(format!("{} is not valid UTF-8", table.display()));
    };
    let mut out = format!(
        "#!/usr/bin/env bats\n\
         # Generated by `policy-runner cases bats {table_text}`: one test per case\n\
         # (`make e2e-tests` regenerates it). Each runs the engine with the case's flags\n\
         # and has `policy-runner cases check` compare what it printed with the case.\n\
         \n\
         E2E_DIR={dir}\n\
         E2E_CASES={table}\n\
         load \"$E2E_DIR/helpers\"\n",
        dir = shell_quote(dir_text),
        table = shell_quote(table_text),
    );
    for case in cases {
        let flags: Vec<String> = case.engine_flags().iter().map(|f| shell_quote(f)).collect();
        out.push_str(&format!(
            "\n@test \"{name}\" {{\n    check_case {quoted} {flags}\n}}\n",
            name = case.name,
            quoted = shell_quote(&case.name),
            flags = flags.join(" "),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusResponse;

    fn case(yaml: &str) -> Case {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn printed(exit_code: i32, stdout: &str, stderr: &str) -> Printed {
        Printed {
            exit_code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn an_outcome_reads_back_from_what_the_engine_prints() {
        let denied = Outcome::Response(AdmissionResponse {
            uid: "u".into(),
            allowed: false,
            status: Some(StatusResponse {
                message: Some("no: \"quoted\"".into()),
                code: Some(422),
            }),
            audit_annotations: None,
            warnings: Some(vec!["w".into()]),
        });
        let refused = Outcome::SettingsRefused("unknown setting \"bogus\"".into());
        for outcome in [denied, refused] {
            assert_eq!(Outcome::from_printed(&outcome.printed()).unwrap(), outcome);
        }
        assert_eq!(
            Outcome::SettingsRefused("bad".into()).printed(),
            printed(1, "", "Error: Provided settings are not valid: bad\n")
        );
    }

    #[test]
    fn kwctl_output_around_the_line_is_tolerated() {
        let outcome = Outcome::from_printed(&printed(
            0,
            "{\"uid\":\"u\",\"allowed\":true,\"auditAnnotations\":null,\"warnings\":null}\n",
            "WARN cannot fetch the Sigstore TUF root\n",
        ))
        .unwrap();
        assert!(matches!(outcome, Outcome::Response(r) if r.allowed));
        let outcome = Outcome::from_printed(&printed(
            1,
            "",
            "INFO policy_log: x\nError: Provided settings are not valid: unknown setting \"bogus\"\n",
        ))
        .unwrap();
        assert_eq!(
            outcome,
            Outcome::SettingsRefused("unknown setting \"bogus\"".into())
        );
    }

    #[test]
    fn what_is_not_an_engine_answer_is_described() {
        for (printed, expected) in [
            (
                printed(2, "", "Error: unexpected argument"),
                "the engine exited 2 without refusing the settings",
            ),
            (
                printed(0, "", ""),
                "expected one JSON line on stdout, found 0 lines",
            ),
            (
                printed(0, "{\"uid\":\"u\",\"allowed\":true}\n{}\n", ""),
                "expected one JSON line on stdout, found 2 lines",
            ),
            (
                printed(0, "{\"uid\":\"u\",\"allowed\":true}\n", ""),
                "the response lacks auditAnnotations, warnings (kwctl prints them even when null)",
            ),
            (
                printed(0, "allowed\n", ""),
                "stdout is not a JSON admission response: expected value at line 1 column 1",
            ),
            (
                printed(
                    0,
                    "{\"uid\":1,\"allowed\":true,\"auditAnnotations\":null,\"warnings\":null}",
                    "",
                ),
                "stdout is not an admission response: invalid type: integer `1`, expected a string",
            ),
        ] {
            assert_eq!(Outcome::from_printed(&printed).unwrap_err(), expected);
        }
    }

    #[test]
    fn check_printed_names_every_difference() {
        let case = case(
            "{name: c, request: r.json, allowed: false, code: 422, message: [a, b], warnings: [w]}",
        );
        let line = "{\"uid\":\"u\",\"allowed\":true,\"status\":{\"message\":\"a\",\"code\":400},\"auditAnnotations\":null,\"warnings\":null}\n";
        assert_eq!(
            case.check_printed(&printed(0, line, "")),
            vec![
                "allowed is true, expected Some(false)",
                "code is Some(400), expected Some(422)",
                "message lacks \"b\"; message: \"a\"",
                "warnings are [], expected [\"w\"]",
            ]
        );
        assert_eq!(
            case.check_printed(&printed(1, "", "Error: Provided settings are not valid: x")),
            vec!["settings refused: x"]
        );
        let refusing = self::case("{name: s, request: r.json, settings_error: bogus}");
        assert_eq!(
            refusing.check_printed(&printed(0, line, "")),
            vec![format!("settings accepted, response {}", line.trim_end())]
        );
        assert!(
            refusing
                .check_printed(&printed(
                    1,
                    "",
                    "Error: Provided settings are not valid: bogus"
                ))
                .is_empty()
        );
    }

    #[test]
    fn engine_flags_carry_the_session_for_context_aware_cases() {
        let plain = case("{name: p, request: e2e/r.json, allowed: true}");
        assert_eq!(
            plain.engine_flags(),
            ["--request-path", "e2e/r.json", "--settings-json", "{}"]
        );
        let aware = case(
            "{name: a, request: e2e/r.json, settings: {x: [1]}, session: e2e/sessions/s.yml, allowed: true}",
        );
        assert_eq!(
            aware.engine_flags(),
            [
                "--request-path",
                "e2e/r.json",
                "--settings-json",
                "{\"x\":[1]}",
                "--allow-context-aware",
                "--replay-host-capabilities-interactions",
                "e2e/sessions/s.yml"
            ]
        );
    }

    #[test]
    fn the_bats_suite_has_one_test_per_case_with_quoted_flags() {
        let cases = vec![
            case("{name: first, request: e2e/a.json, allowed: true}"),
            case(
                "{name: it.s-2, request: e2e/b.json, settings: {n: \"it's\"}, session: e2e/s.yml, settings_error: x}",
            ),
        ];
        let suite = bats_suite(Path::new("/repo/e2e/cases.yaml"), &cases).unwrap();
        assert!(suite.contains(
            "E2E_DIR='/repo/e2e'\nE2E_CASES='/repo/e2e/cases.yaml'\nload \"$E2E_DIR/helpers\"\n"
        ));
        assert!(suite.ends_with(
            "\n@test \"first\" {\n    check_case 'first' '--request-path' 'e2e/a.json' '--settings-json' '{}'\n}\n\
             \n@test \"it.s-2\" {\n    check_case 'it.s-2' '--request-path' 'e2e/b.json' '--settings-json' '{\"n\":\"it'\\''s\"}' \
             '--allow-context-aware' '--replay-host-capabilities-interactions' 'e2e/s.yml'\n}\n"
        ), "{suite}");
    }

    #[test]
    fn a_module_path_from_the_environment_must_be_an_existing_absolute_path() {
        let var = |v: &str| Some(std::ffi::OsString::from(v));
        assert_eq!(
            module_path("POLICY_WASM", None, "policy.wasm").unwrap_err(),
            "POLICY_WASM is not set: build the module with `make policy.wasm` and set \
             POLICY_WASM to its absolute path (`make test` does both)"
        );
        assert_eq!(
            module_path("POLICY_WASM", var("policy.wasm"), "policy.wasm").unwrap_err(),
            "POLICY_WASM=policy.wasm is not an absolute path (cargo runs each test in its \
             crate's directory)"
        );
        assert_eq!(
            module_path(
                "NOOP_POLICY_WASM",
                var("/nonexistent/noop.wasm"),
                "target/noop-policy.wasm"
            )
            .unwrap_err(),
            "NOOP_POLICY_WASM=/nonexistent/noop.wasm does not exist: build it with \
             `make target/noop-policy.wasm`"
        );
        let this_file = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cases.rs");
        assert_eq!(
            module_path("POLICY_WASM", var(this_file), "policy.wasm").unwrap(),
            PathBuf::from(this_file)
        );
    }

    #[test]
    fn the_table_refuses_unnamed_duplicate_and_assertion_free_cases() {
        let dir = std::env::temp_dir().join(format!("policy-runner-cases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let table = dir.join("cases.yaml");
        for (yaml, expected) in [
            (
                "- {name: 'a b', request: r.json, allowed: true}",
                "case \"a b\": a name is letters, digits, `.`, `_` and `-` (it names a bats test)",
            ),
            (
                "- {name: a, request: r.json, allowed: true}\n- {name: a, request: s.json, allowed: false}",
                "case a: the name is used twice",
            ),
            (
                "- {name: a, request: r.json}",
                "case a: state exactly one of `allowed` and `settings_error`",
            ),
        ] {
            std::fs::write(&table, yaml).unwrap();
            assert_eq!(load(&table).unwrap_err(), expected);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
