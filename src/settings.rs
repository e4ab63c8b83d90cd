//! The policy's settings and their validation.
//!
//! Settings are read by hand rather than with `#[serde(deny_unknown_fields)]`
//! because serde stops at the first problem and, through the SDK's generic
//! `validate_settings`, turns it into a guest error that echoes the payload.
//! Here every problem is collected and named, and the answer is always a
//! `{"valid": false, "message": …}` that policy-server can show.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::image_volume::ImageVolumeCheck;
use crate::json::{Field, Found, Shape};
use crate::message::quote;
use crate::status_guard::DEFAULT_STATUS_WRITER;
use crate::version::{ExtensionVersion, VersionError};

pub const REJECT_UNKNOWN_BINARY_VERSION: &str = "rejectUnknownBinaryVersion";
pub const ALLOW_AUTO_SCHEMA_VERSION: &str = "allowAutoSchemaVersion";
pub const DEFAULT_DOCUMENTDB_VERSION: &str = "defaultDocumentDBVersion";
// --- context-aware checks (issue 12) ---
pub const IMAGE_VOLUME_CHECK: &str = "imageVolumeCheck";
pub const STATUS_WRITERS: &str = "statusWriters";
// --- end context-aware checks ---
const KNOWN_KEYS: [&str; 5] = [
    REJECT_UNKNOWN_BINARY_VERSION,
    ALLOW_AUTO_SCHEMA_VERSION,
    DEFAULT_DOCUMENTDB_VERSION,
    IMAGE_VOLUME_CHECK,
    STATUS_WRITERS,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Deny, instead of warn, a version change whose binary cannot be determined
    /// on an object with an installed schema (Rule B).
    pub reject_unknown_binary_version: bool,
    /// When false, `spec.schemaVersion: auto` is denied.
    pub allow_auto_schema_version: bool,
    /// The operator's default DocumentDB version (its Helm value
    /// `documentDbVersion`): the binary of an object that sets neither
    /// `documentDBVersion` nor an image. Canonical `X.Y.Z`, checked at load.
    pub default_documentdb_version: Option<String>,
    // --- context-aware checks (issue 12) ---
    /// The ImageVolume readiness check on CREATE: warn (default), deny, off.
    pub image_volume_check: ImageVolumeCheck,
    /// Users allowed to lower or clear `status.schemaVersion` through
    /// `dbs/status` (default: the operator chart's service account).
    pub status_writers: Vec<String>,
    // --- end context-aware checks ---
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reject_unknown_binary_version: false,
            allow_auto_schema_version: true,
            default_documentdb_version: None,
            image_volume_check: ImageVolumeCheck::default(),
            status_writers: vec![DEFAULT_STATUS_WRITER.to_owned()],
        }
    }
}

/// Every problem found in a settings document, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsErrors(pub Vec<String>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

/// The outcome of reading a settings document; deserializing it never fails on
/// content, only on invalid JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSettings(pub Result<Settings, SettingsErrors>);

impl Settings {
    pub fn from_json(json: &[u8]) -> Result<Settings, SettingsErrors> {
        match serde_json::from_slice::<ParsedSettings>(json) {
            Ok(ParsedSettings(result)) => result,
            Err(e) => Err(SettingsErrors(vec![format!(
                "the settings are not valid JSON: {e}"
            )])),
        }
    }
}

impl<'de> Deserialize<'de> for ParsedSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SettingsVisitor)
    }
}

/// A setting's raw value: only booleans and strings are meaningful.
enum Scalar<'a> {
    Bool(bool),
    Str(Cow<'a, str>),
}

impl<'de> Shape<'de> for Scalar<'de> {
    fn from_str(value: Cow<'de, str>) -> Option<Self> {
        Some(Scalar::Str(value))
    }
    fn from_bool(value: bool) -> Option<Self> {
        Some(Scalar::Bool(value))
    }
}

struct SettingsVisitor;

impl SettingsVisitor {
    fn not_an_object<E: de::Error>(found: &str) -> Result<ParsedSettings, E> {
        Ok(ParsedSettings(Err(SettingsErrors(vec![format!(
            "the settings must be a JSON object, not {found}"
        )]))))
    }
}

impl<'de> Visitor<'de> for SettingsVisitor {
    type Value = ParsedSettings;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a settings object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ParsedSettings(Ok(Settings::default())))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Self::not_an_object("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Self::not_an_object("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Self::not_an_object("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Self::not_an_object("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Self::not_an_object("a string")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Self::not_an_object("an array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut settings = Settings::default();
        let mut errors = Problems::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                REJECT_UNKNOWN_BINARY_VERSION => {
                    let value = map.next_value::<Field<Scalar>>()?;
                    match read_bool(REJECT_UNKNOWN_BINARY_VERSION, value) {
                        Ok(value) => {
                            settings.reject_unknown_binary_version = value.unwrap_or(false)
                        }
                        Err(e) => errors.push(e),
                    }
                }
                ALLOW_AUTO_SCHEMA_VERSION => {
                    let value = map.next_value::<Field<Scalar>>()?;
                    match read_bool(ALLOW_AUTO_SCHEMA_VERSION, value) {
                        Ok(value) => settings.allow_auto_schema_version = value.unwrap_or(true),
                        Err(e) => errors.push(e),
                    }
                }
                DEFAULT_DOCUMENTDB_VERSION => {
                    let value = map.next_value::<Field<Scalar>>()?;
                    match read_version(DEFAULT_DOCUMENTDB_VERSION, value) {
                        Ok(value) => settings.default_documentdb_version = value,
                        Err(e) => errors.push(e),
                    }
                }
                // --- context-aware checks (issue 12) ---
                IMAGE_VOLUME_CHECK => {
                    let value = map.next_value::<Field<Scalar>>()?;
                    match read_image_volume_check(value) {
                        Ok(value) => settings.image_volume_check = value.unwrap_or_default(),
                        Err(e) => errors.push(e),
                    }
                }
                STATUS_WRITERS => match map.next_value::<UserList>()?.0 {
                    Ok(Some(users)) => settings.status_writers = users,
                    Ok(None) => {}
                    Err(problems) => problems.into_iter().for_each(|e| errors.push(e)),
                },
                // --- end context-aware checks ---
                unknown => {
                    map.next_value::<IgnoredAny>()?;
                    errors.push(unknown_key(unknown));
                }
            }
        }
        Ok(ParsedSettings(errors.into_result(settings)))
    }
}

/// Most problems one answer lists: a document repeating a bad key a million
/// times must not become a message a million times longer than the key.
const MAX_PROBLEMS: usize = 10;

/// The problems found so far, each distinct one once, at most [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    listed: Vec<String>,
    omitted: usize,
}

impl Problems {
    fn push(&mut self, problem: String) {
        if self.listed.contains(&problem) {
            return;
        }
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(problem);
        } else {
            self.omitted += 1;
        }
    }

    fn into_result(mut self, settings: Settings) -> Result<Settings, SettingsErrors> {
        if self.listed.is_empty() {
            return Ok(settings);
        }
        if self.omitted > 0 {
            self.listed
                .push(format!("and {} more problems", self.omitted));
        }
        Err(SettingsErrors(self.listed))
    }
}

/// `""` and `null` mean unset.
fn read_bool(key: &str, value: Field<Scalar>) -> Result<Option<bool>, String> {
    let wrong = |found: Found| {
        format!(
            "{key} must be a boolean (true or false), not {}",
            found.describe()
        )
    };
    match value {
        Field::Absent => Ok(None),
        Field::Present(Scalar::Bool(b)) => Ok(Some(b)),
        Field::Present(Scalar::Str(s)) if s.is_empty() => Ok(None),
        Field::Present(Scalar::Str(s)) => Err(wrong(Found::String(quote(&s)))),
        Field::Mistyped(found) => Err(wrong(found)),
    }
}

fn read_version(key: &str, value: Field<Scalar>) -> Result<Option<String>, String> {
    let expected = "a version X.Y.Z such as \"0.112.0\"";
    match value {
        Field::Absent => Ok(None),
        Field::Present(Scalar::Str(s)) if s.is_empty() => Ok(None),
        Field::Present(Scalar::Str(s)) => match ExtensionVersion::parse(&s) {
            Ok(_) => Ok(Some(s.into_owned())),
            Err(VersionError::OutOfRange) => Err(format!(
                "{key} {} is out of range: each component of {expected} must fit in 64 bits",
                quote(&s)
            )),
            Err(VersionError::Malformed(why)) => {
                Err(format!("{key} {} is not {expected}: {why}", quote(&s)))
            }
        },
        Field::Present(Scalar::Bool(b)) => {
            Err(format!("{key} must be {expected}, not a boolean ({b})"))
        }
        Field::Mistyped(found) => Err(format!(
            "{key} must be {expected}, not {}",
            found.describe()
        )),
    }
}

fn unknown_key(key: &str) -> String {
    let known = KNOWN_KEYS.join(", ");
    match KNOWN_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        Some(intended) => format!(
            "unknown setting {}: did you mean {intended}? (known settings: {known})",
            quote(key)
        ),
        None => format!("unknown setting {} (known settings: {known})", quote(key)),
    }
}

// --- context-aware checks (issue 12) ---

/// `imageVolumeCheck`: `""` and `null` mean the default (`warn`).
fn read_image_volume_check(value: Field<Scalar>) -> Result<Option<ImageVolumeCheck>, String> {
    let expected = format!("{IMAGE_VOLUME_CHECK} must be one of \"warn\", \"deny\" or \"off\"");
    match value {
        Field::Absent => Ok(None),
        Field::Present(Scalar::Str(s)) if s.is_empty() => Ok(None),
        Field::Present(Scalar::Str(s)) => ImageVolumeCheck::parse(&s)
            .map(Some)
            .ok_or_else(|| format!("{expected}, not {}", quote(&s))),
        // YAML 1.1, which Kubernetes manifests are read with, turns an
        // unquoted off (and no, on, yes) into a boolean.
        Field::Present(Scalar::Bool(b)) => Err(format!(
            "{expected}, not a boolean ({b}); in YAML, quote the value: an unquoted off is read as false"
        )),
        Field::Mistyped(found) => Err(format!("{expected}, not {}", found.describe())),
    }
}

/// Most entries of a user list a settings answer names (each a problem).
const MAX_USERS: usize = 1_000;

/// `statusWriters`: a list of non-empty user names; `null` means the default,
/// `[]` nobody. `Err` holds every problem, each naming its index.
struct UserList(Result<Option<Vec<String>>, Vec<String>>);

impl<'de> Deserialize<'de> for UserList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UserListVisitor)
    }
}

struct UserListVisitor;

impl UserListVisitor {
    fn not_a_list<E>(found: Found) -> Result<UserList, E> {
        Ok(UserList(Err(vec![format!(
            "{STATUS_WRITERS} must be a list of user names such as [{}], not {}",
            quote(DEFAULT_STATUS_WRITER),
            found.describe()
        )])))
    }
}

impl<'de> Visitor<'de> for UserListVisitor {
    type Value = UserList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of user names")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(UserList(Ok(None)))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Self::not_a_list(Found::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Self::not_a_list(Found::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Self::not_a_list(Found::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Self::not_a_list(Found::Number)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::not_a_list(Found::String(quote(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Self::not_a_list(Found::Object)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut users = Vec::new();
        let mut problems = Vec::new();
        let mut index = 0usize;
        while let Some(user) = seq.next_element::<Field<Scalar>>()? {
            let problem = |found: String| {
                format!("{STATUS_WRITERS}[{index}] must be a non-empty user name, not {found}")
            };
            match user {
                Field::Present(Scalar::Str(name)) if !name.is_empty() => {
                    if users.len() < MAX_USERS {
                        users.push(name.into_owned());
                    }
                }
                Field::Present(Scalar::Str(_)) => {
                    problems.push(problem("an empty string".to_owned()))
                }
                Field::Present(Scalar::Bool(b)) => {
                    problems.push(problem(Found::Bool(b).describe()))
                }
                Field::Absent => problems.push(problem("null".to_owned())),
                Field::Mistyped(found) => problems.push(problem(found.describe())),
            }
            index += 1;
        }
        if index > MAX_USERS {
            problems.push(format!(
                "{STATUS_WRITERS} lists {index} users, more than the {MAX_USERS} this policy accepts"
            ));
        }
        Ok(UserList(if problems.is_empty() {
            Ok(Some(users))
        } else {
            Err(problems)
        }))
    }
}

// --- end context-aware checks ---

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn parse(json: &str) -> Result<Settings, SettingsErrors> {
        Settings::from_json(json.as_bytes())
    }

    fn with(reject: bool, allow_auto: bool, default: Option<&str>) -> Settings {
        Settings {
            reject_unknown_binary_version: reject,
            allow_auto_schema_version: allow_auto,
            default_documentdb_version: default.map(str::to_owned),
            ..Settings::default()
        }
    }

    #[rstest]
    #[case::empty_object("{}", with(false, true, None))]
    #[case::null("null", with(false, true, None))]
    #[case::all_set(
        r#"{"rejectUnknownBinaryVersion":true,"allowAutoSchemaVersion":false,"defaultDocumentDBVersion":"0.113.0"}"#,
        with(true, false, Some("0.113.0"))
    )]
    #[case::empty_strings_are_unset(
        r#"{"rejectUnknownBinaryVersion":"","allowAutoSchemaVersion":"","defaultDocumentDBVersion":""}"#,
        with(false, true, None)
    )]
    #[case::nulls_are_unset(
        r#"{"rejectUnknownBinaryVersion":null,"allowAutoSchemaVersion":null,"defaultDocumentDBVersion":null}"#,
        with(false, true, None)
    )]
    fn accepts_valid_settings(#[case] json: &str, #[case] expected: Settings) {
        assert_eq!(parse(json), Ok(expected));
    }

    #[rstest]
    #[case::string_bool(
        r#"{"rejectUnknownBinaryVersion":"true"}"#,
        &["rejectUnknownBinaryVersion must be a boolean (true or false), not a string (\"true\")"]
    )]
    #[case::number_bool(
        r#"{"allowAutoSchemaVersion":0}"#,
        &["allowAutoSchemaVersion must be a boolean (true or false), not a number"]
    )]
    #[case::version_number(
        r#"{"defaultDocumentDBVersion":0.112}"#,
        &["defaultDocumentDBVersion must be a version X.Y.Z such as \"0.112.0\", not a number"]
    )]
    #[case::version_v_prefix(
        r#"{"defaultDocumentDBVersion":"v0.112.0"}"#,
        &["defaultDocumentDBVersion \"v0.112.0\" is not a version X.Y.Z such as \"0.112.0\": unexpected character 'v' while parsing major version number"]
    )]
    #[case::version_overflow(
        r#"{"defaultDocumentDBVersion":"99999999999999999999.0.0"}"#,
        &["defaultDocumentDBVersion \"99999999999999999999.0.0\" is out of range: each component of a version X.Y.Z such as \"0.112.0\" must fit in 64 bits"]
    )]
    #[case::camel_case_trap(
        r#"{"defaultDocumentDbVersion":"0.112.0"}"#,
        &["unknown setting \"defaultDocumentDbVersion\": did you mean defaultDocumentDBVersion? (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, imageVolumeCheck, statusWriters)"]
    )]
    #[case::unknown_key(
        r#"{"bogus":1}"#,
        &["unknown setting \"bogus\" (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, imageVolumeCheck, statusWriters)"]
    )]
    #[case::all_problems_at_once(
        r#"{"bogus":[],"rejectUnknownBinaryVersion":{},"defaultDocumentDBVersion":true}"#,
        &[
            "unknown setting \"bogus\" (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, imageVolumeCheck, statusWriters)",
            "rejectUnknownBinaryVersion must be a boolean (true or false), not an object",
            "defaultDocumentDBVersion must be a version X.Y.Z such as \"0.112.0\", not a boolean (true)",
        ]
    )]
    #[case::array("[]", &["the settings must be a JSON object, not an array"])]
    #[case::string(r#""x""#, &["the settings must be a JSON object, not a string"])]
    fn reports_every_problem(#[case] json: &str, #[case] expected: &[&str]) {
        let expected = SettingsErrors(expected.iter().map(|s| s.to_string()).collect());
        assert_eq!(parse(json), Err(expected));
    }

    #[test]
    fn invalid_json_is_a_settings_error_not_a_panic() {
        let errors = parse("{\"rejectUnknownBinaryVersion\":").unwrap_err();
        assert!(
            errors
                .to_string()
                .starts_with("the settings are not valid JSON: "),
            "{errors}"
        );
    }

    #[test]
    fn repeated_problems_are_reported_once() {
        let json = format!("{{{}\"x\":1}}", "\"a\":1,".repeat(100_000));
        let errors = parse(&json).unwrap_err();
        assert_eq!(errors.0.len(), 2, "{errors}");
    }

    #[test]
    fn problems_are_capped() {
        let keys: Vec<String> = (0..50).map(|i| format!("\"k{i}\":1")).collect();
        let errors = parse(&format!("{{{}}}", keys.join(","))).unwrap_err();
        assert_eq!(errors.0.len(), MAX_PROBLEMS + 1);
        assert_eq!(errors.0.last().unwrap(), "and 40 more problems");
    }

    #[test]
    fn a_huge_unknown_key_is_quoted_short() {
        let json = format!("{{\"{}\":1}}", "k".repeat(1 << 20));
        assert!(parse(&json).unwrap_err().to_string().len() < 300);
    }

    // --- context-aware checks (issue 12) ---

    fn context(check: ImageVolumeCheck, writers: &[&str]) -> Settings {
        Settings {
            image_volume_check: check,
            status_writers: writers.iter().map(|w| w.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[rstest]
    #[case::defaults("{}", context(ImageVolumeCheck::Warn, &[DEFAULT_STATUS_WRITER]))]
    #[case::deny(r#"{"imageVolumeCheck":"deny"}"#, context(ImageVolumeCheck::Deny, &[DEFAULT_STATUS_WRITER]))]
    #[case::off(r#"{"imageVolumeCheck":"off"}"#, context(ImageVolumeCheck::Off, &[DEFAULT_STATUS_WRITER]))]
    #[case::warn(r#"{"imageVolumeCheck":"warn"}"#, context(ImageVolumeCheck::Warn, &[DEFAULT_STATUS_WRITER]))]
    #[case::empty_check_is_default(r#"{"imageVolumeCheck":""}"#, context(ImageVolumeCheck::Warn, &[DEFAULT_STATUS_WRITER]))]
    #[case::null_check_is_default(r#"{"imageVolumeCheck":null}"#, context(ImageVolumeCheck::Warn, &[DEFAULT_STATUS_WRITER]))]
    #[case::other_writers(
        r#"{"statusWriters":["system:serviceaccount:ops:documentdb-operator","admin@example.com"]}"#,
        context(ImageVolumeCheck::Warn, &["system:serviceaccount:ops:documentdb-operator", "admin@example.com"])
    )]
    #[case::nobody(r#"{"statusWriters":[]}"#, context(ImageVolumeCheck::Warn, &[]))]
    #[case::null_writers_is_default(r#"{"statusWriters":null}"#, context(ImageVolumeCheck::Warn, &[DEFAULT_STATUS_WRITER]))]
    fn accepts_context_aware_settings(#[case] json: &str, #[case] expected: Settings) {
        assert_eq!(parse(json), Ok(expected));
    }

    #[rstest]
    #[case::unknown_mode(
        r#"{"imageVolumeCheck":"block"}"#,
        &["imageVolumeCheck must be one of \"warn\", \"deny\" or \"off\", not \"block\""]
    )]
    #[case::case_matters(
        r#"{"imageVolumeCheck":"Deny"}"#,
        &["imageVolumeCheck must be one of \"warn\", \"deny\" or \"off\", not \"Deny\""]
    )]
    #[case::yaml_off_became_false(
        r#"{"imageVolumeCheck":false}"#,
        &["imageVolumeCheck must be one of \"warn\", \"deny\" or \"off\", not a boolean (false); in YAML, quote the value: an unquoted off is read as false"]
    )]
    #[case::mode_number(
        r#"{"imageVolumeCheck":1}"#,
        &["imageVolumeCheck must be one of \"warn\", \"deny\" or \"off\", not a number"]
    )]
    #[case::writers_string(
        r#"{"statusWriters":"system:serviceaccount:documentdb-operator:documentdb-operator"}"#,
        &["statusWriters must be a list of user names such as [\"system:serviceaccount:documentdb-operator:documentdb-operator\"], not a string (\"system:serviceaccount:documentdb-operator:documentdb-operator\")"]
    )]
    #[case::writers_object(
        r#"{"statusWriters":{"name":"x"}}"#,
        &["statusWriters must be a list of user names such as [\"system:serviceaccount:documentdb-operator:documentdb-operator\"], not an object"]
    )]
    #[case::every_bad_entry_named(
        r#"{"statusWriters":["ok","",7,null,true,["x"]]}"#,
        &[
            "statusWriters[1] must be a non-empty user name, not an empty string",
            "statusWriters[2] must be a non-empty user name, not a number",
            "statusWriters[3] must be a non-empty user name, not null",
            "statusWriters[4] must be a non-empty user name, not a boolean (true)",
            "statusWriters[5] must be a non-empty user name, not an array",
        ]
    )]
    #[case::with_the_other_settings(
        r#"{"imageVolumeCheck":"x","rejectUnknownBinaryVersion":"yes","statusWriters":[1]}"#,
        &[
            "imageVolumeCheck must be one of \"warn\", \"deny\" or \"off\", not \"x\"",
            "rejectUnknownBinaryVersion must be a boolean (true or false), not a string (\"yes\")",
            "statusWriters[0] must be a non-empty user name, not a number",
        ]
    )]
    #[case::camel_case_trap(
        r#"{"imageVolumecheck":"deny"}"#,
        &["unknown setting \"imageVolumecheck\": did you mean imageVolumeCheck? (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, imageVolumeCheck, statusWriters)"]
    )]
    fn reports_context_aware_problems(#[case] json: &str, #[case] expected: &[&str]) {
        let expected = SettingsErrors(expected.iter().map(|s| s.to_string()).collect());
        assert_eq!(parse(json), Err(expected));
    }

    #[test]
    fn a_huge_writer_list_is_refused() {
        let users: Vec<String> = (0..=MAX_USERS).map(|i| format!("\"u{i}\"")).collect();
        let json = format!("{{\"statusWriters\":[{}]}}", users.join(","));
        assert_eq!(
            parse(&json),
            Err(SettingsErrors(vec![format!(
                "statusWriters lists {} users, more than the {MAX_USERS} this policy accepts",
                MAX_USERS + 1
            )]))
        );
    }

    // --- end context-aware checks ---
}
