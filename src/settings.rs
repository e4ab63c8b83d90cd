//! The settings layer: the policy's settings, read, then validated, every
//! problem reported at once.
//!
//! Settings are read by hand rather than with `#[serde(deny_unknown_fields)]`
//! because serde stops at the first problem and, through the SDK's generic
//! `validate_settings`, turns it into a guest error that echoes the payload.
//! Here every problem is collected and named, and the answer is always a
//! `{"valid": false, "message": …}` that policy-server can show.

use std::borrow::Cow;
use std::fmt;

use crate::json::{Field, Found, Scalar, Tree, TreeShape};
use crate::model::quantity::Quantity;
use crate::model::resources::{SidecarReservations, cpu_millis, memory_bytes};
use crate::model::version::{ExtensionVersion, VersionError};
use crate::text::quote;

/// The operator chart's service account (`operator/documentdb-helm-chart`:
/// `serviceAccount.name: documentdb-operator` in `namespace: documentdb-operator`):
/// the default `statusWriters`.
pub const DEFAULT_STATUS_WRITER: &str =
    "system:serviceaccount:documentdb-operator:documentdb-operator";

/// The `imageVolumeCheck` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageVolumeCheck {
    /// A warning naming the nodes and versions that decided it.
    #[default]
    Warn,
    /// A cluster judged not ready is denied (unknown stays a warning).
    Deny,
    /// No host call at all.
    Off,
}

impl ImageVolumeCheck {
    pub const VALUES: [(&'static str, ImageVolumeCheck); 3] = [
        ("warn", ImageVolumeCheck::Warn),
        ("deny", ImageVolumeCheck::Deny),
        ("off", ImageVolumeCheck::Off),
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::VALUES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, value)| *value)
    }
}

pub const REJECT_UNKNOWN_BINARY_VERSION: &str = "rejectUnknownBinaryVersion";
pub const ALLOW_AUTO_SCHEMA_VERSION: &str = "allowAutoSchemaVersion";
pub const DEFAULT_DOCUMENTDB_VERSION: &str = "defaultDocumentDBVersion";
pub const SIDECAR_RESOURCES: &str = "sidecarResources";
// --- context-aware checks ---
pub const IMAGE_VOLUME_CHECK: &str = "imageVolumeCheck";
pub const STATUS_WRITERS: &str = "statusWriters";
// --- end context-aware checks ---
const KNOWN_KEYS: [&str; 6] = [
    REJECT_UNKNOWN_BINARY_VERSION,
    ALLOW_AUTO_SCHEMA_VERSION,
    DEFAULT_DOCUMENTDB_VERSION,
    SIDECAR_RESOURCES,
    IMAGE_VOLUME_CHECK,
    STATUS_WRITERS,
];

/// The keys of `sidecarResources`, the operator chart's `operator.sidecarResources`.
pub const GATEWAY_MEMORY_FRACTION: &str = "gatewayMemoryFraction";
pub const GATEWAY_MEMORY_CAP: &str = "gatewayMemoryCap";
pub const GATEWAY_CPU_LIMIT: &str = "gatewayCpuLimit";
pub const OTEL_MEMORY_REQUEST: &str = "otelMemoryRequest";
pub const OTEL_MEMORY_LIMIT: &str = "otelMemoryLimit";
pub const OTEL_CPU_REQUEST: &str = "otelCpuRequest";
pub const OTEL_CPU_LIMIT: &str = "otelCpuLimit";
/// The keys of `sidecarResources`, in the chart's order.
pub const SIDECAR_KEYS: [&str; 7] = [
    GATEWAY_MEMORY_FRACTION,
    GATEWAY_MEMORY_CAP,
    GATEWAY_CPU_LIMIT,
    OTEL_MEMORY_REQUEST,
    OTEL_MEMORY_LIMIT,
    OTEL_CPU_REQUEST,
    OTEL_CPU_LIMIT,
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
    /// The operator's sidecar sizing, for the resource envelope rule.
    pub sidecar_resources: SidecarResources,
    // --- context-aware checks ---
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
            sidecar_resources: SidecarResources::default(),
            image_volume_check: ImageVolumeCheck::default(),
            status_writers: vec![DEFAULT_STATUS_WRITER.to_owned()],
        }
    }
}

/// The operator chart's `operator.sidecarResources`, as configured: every
/// quantity is valid and not negative, the fraction is within 0..=1.
#[derive(Debug, Clone, PartialEq)]
pub struct SidecarResources {
    pub gateway_memory_fraction: f64,
    /// `"0"`: no cap.
    pub gateway_memory_cap: Cow<'static, str>,
    pub gateway_cpu_limit: Option<Cow<'static, str>>,
    /// Accepted because the chart has it; the rule does not use it.
    pub otel_memory_request: Cow<'static, str>,
    pub otel_memory_limit: Cow<'static, str>,
    pub otel_cpu_request: Cow<'static, str>,
    /// Accepted because the chart has it; the rule does not use it.
    pub otel_cpu_limit: Cow<'static, str>,
}

// The fraction is checked to lie within 0..=1 at load: never NaN.
impl Eq for SidecarResources {}

impl Default for SidecarResources {
    /// The chart's values.
    fn default() -> Self {
        SidecarResources {
            gateway_memory_fraction: 0.1875,
            gateway_memory_cap: Cow::Borrowed("32Gi"),
            gateway_cpu_limit: None,
            otel_memory_request: Cow::Borrowed("48Mi"),
            otel_memory_limit: Cow::Borrowed("128Mi"),
            otel_cpu_request: Cow::Borrowed("50m"),
            otel_cpu_limit: Cow::Borrowed("200m"),
        }
    }
}

impl SidecarResources {
    /// What the envelope rule reserves, computed as the operator does from its
    /// environment (`DefaultSplitConfig`).
    pub fn reservations(&self) -> SidecarReservations {
        SidecarReservations {
            gateway_memory_fraction: self.gateway_memory_fraction,
            // parseQuantityOr: a cap of 0 (or less) is no cap.
            gateway_memory_cap: memory_bytes(&self.gateway_memory_cap).max(0),
            gateway_cpu_limit: self.gateway_cpu_limit.as_deref().map_or(0, cpu_millis),
            otel_memory_limit: memory_bytes(&self.otel_memory_limit),
            otel_cpu_request: cpu_millis(&self.otel_cpu_request),
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

/// Absent settings are the defaults.
impl Default for ParsedSettings {
    fn default() -> Self {
        ParsedSettings(Ok(Settings::default()))
    }
}

/// What the settings reader reads: the known keys in their shapes. Other
/// keys are kept (and reported as unknown), their values skipped unparsed.
pub const SETTINGS_SHAPE: TreeShape = TreeShape::Object(&[
    (REJECT_UNKNOWN_BINARY_VERSION, TreeShape::Scalar),
    (ALLOW_AUTO_SCHEMA_VERSION, TreeShape::Scalar),
    (DEFAULT_DOCUMENTDB_VERSION, TreeShape::Scalar),
    (
        SIDECAR_RESOURCES,
        TreeShape::Object(&[
            (GATEWAY_MEMORY_FRACTION, TreeShape::Scalar),
            (GATEWAY_MEMORY_CAP, TreeShape::Scalar),
            (GATEWAY_CPU_LIMIT, TreeShape::Scalar),
            (OTEL_MEMORY_REQUEST, TreeShape::Scalar),
            (OTEL_MEMORY_LIMIT, TreeShape::Scalar),
            (OTEL_CPU_REQUEST, TreeShape::Scalar),
            (OTEL_CPU_LIMIT, TreeShape::Scalar),
        ]),
    ),
    (IMAGE_VOLUME_CHECK, TreeShape::Scalar),
    (STATUS_WRITERS, TreeShape::List(&TreeShape::Scalar)),
]);

impl Settings {
    pub fn from_json(json: &[u8]) -> Result<Settings, SettingsErrors> {
        match Tree::from_json(json, &SETTINGS_SHAPE) {
            Ok(tree) => ParsedSettings::read(Some(&tree)).0,
            Err(e) => Err(SettingsErrors(vec![format!(
                "the settings are not valid JSON: {e}"
            )])),
        }
    }
}

impl ParsedSettings {
    /// The settings read in [`SETTINGS_SHAPE`]; `None` (absent) and `null`
    /// are the defaults.
    pub fn read(tree: Option<&Tree>) -> ParsedSettings {
        let not_an_object = |found: &str| {
            ParsedSettings(Err(SettingsErrors(vec![format!(
                "the settings must be a JSON object, not {found}"
            )])))
        };
        let entries = match tree {
            None | Some(Tree::Null | Tree::Unread) => {
                return ParsedSettings(Ok(Settings::default()));
            }
            Some(Tree::Object(entries)) => entries,
            Some(Tree::Bool(_)) => return not_an_object("a boolean"),
            Some(Tree::Number(_)) => return not_an_object("a number"),
            Some(Tree::Str(_)) => return not_an_object("a string"),
            Some(Tree::Array(_)) => return not_an_object("an array"),
            Some(Tree::Skipped(found)) => return not_an_object(found.type_name()),
        };
        let mut settings = Settings::default();
        let mut errors = Problems::default();
        for (key, value) in entries {
            match key.as_ref() {
                REJECT_UNKNOWN_BINARY_VERSION => {
                    match read_bool(REJECT_UNKNOWN_BINARY_VERSION, value.scalar_field()) {
                        Ok(value) => {
                            settings.reject_unknown_binary_version = value.unwrap_or(false)
                        }
                        Err(e) => errors.push(e),
                    }
                }
                ALLOW_AUTO_SCHEMA_VERSION => {
                    match read_bool(ALLOW_AUTO_SCHEMA_VERSION, value.scalar_field()) {
                        Ok(value) => settings.allow_auto_schema_version = value.unwrap_or(true),
                        Err(e) => errors.push(e),
                    }
                }
                DEFAULT_DOCUMENTDB_VERSION => {
                    match read_version(DEFAULT_DOCUMENTDB_VERSION, value.scalar_field()) {
                        Ok(value) => settings.default_documentdb_version = value,
                        Err(e) => errors.push(e),
                    }
                }
                SIDECAR_RESOURCES => match value {
                    Tree::Null => {}
                    Tree::Object(entries) => {
                        let block = SidecarBlock::read(entries);
                        settings.sidecar_resources = block.resources;
                        for problem in block.problems {
                            errors.push(problem);
                        }
                    }
                    other => errors.push(format!(
                        "{SIDECAR_RESOURCES} must be an object (the operator chart's sidecarResources values), not {}",
                        found(other.scalar_field()).describe()
                    )),
                },
                // --- context-aware checks ---
                IMAGE_VOLUME_CHECK => match read_image_volume_check(value.scalar_field()) {
                    Ok(value) => settings.image_volume_check = value.unwrap_or_default(),
                    Err(e) => errors.push(e),
                },
                STATUS_WRITERS => match UserList::read(value).0 {
                    Ok(Some(users)) => settings.status_writers = users,
                    Ok(None) => {}
                    Err(problems) => problems.into_iter().for_each(|e| errors.push(e)),
                },
                // --- end context-aware checks ---
                unknown => errors.push(unknown_key("", unknown, &KNOWN_KEYS)),
            }
        }
        ParsedSettings(errors.into_result(settings))
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
#[inline(never)]
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
        Field::Present(Scalar::Number(_)) => Err(wrong(Found::Number)),
        Field::Mistyped(found) => Err(wrong(found)),
    }
}

#[inline(never)]
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
        Field::Present(Scalar::Number(_)) => Err(format!("{key} must be {expected}, not a number")),
        Field::Mistyped(found) => Err(format!(
            "{key} must be {expected}, not {}",
            found.describe()
        )),
    }
}

/// `prefix` names the block the key is in (`"sidecarResources."`), `known` its keys.
fn unknown_key(prefix: &str, key: &str, known: &[&str]) -> String {
    let block = prefix
        .strip_suffix('.')
        .map_or(String::new(), |b| format!("{b} "));
    let mut list = String::new();
    for (i, k) in known.iter().enumerate() {
        if i > 0 {
            list.push_str(", ");
        }
        list.push_str(k);
    }
    let quoted = quote(&format!("{prefix}{key}"));
    match known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        Some(intended) => format!(
            "unknown setting {quoted}: did you mean {intended}? (known {block}settings: {list})"
        ),
        None => format!("unknown setting {quoted} (known {block}settings: {list})"),
    }
}
/// The `sidecarResources` object, with its problems; read by hand like the
/// settings object so every problem is named.
struct SidecarBlock {
    resources: SidecarResources,
    problems: Vec<String>,
}

impl SidecarBlock {
    fn read(entries: &[(Cow<'_, str>, Tree<'_>)]) -> SidecarBlock {
        let mut resources = SidecarResources::default();
        let mut problems = Vec::new();
        for (key, value) in entries {
            let slot = match key.as_ref() {
                GATEWAY_MEMORY_FRACTION => {
                    match read_fraction(value.scalar_field()) {
                        Ok(Some(fraction)) => resources.gateway_memory_fraction = fraction,
                        Ok(None) => {}
                        Err(problem) => problems.push(problem),
                    }
                    continue;
                }
                GATEWAY_MEMORY_CAP => &mut resources.gateway_memory_cap,
                GATEWAY_CPU_LIMIT => {
                    match read_quantity(GATEWAY_CPU_LIMIT, "2", value.scalar_field()) {
                        Ok(Some(limit)) => resources.gateway_cpu_limit = Some(Cow::Owned(limit)),
                        Ok(None) => {}
                        Err(problem) => problems.push(problem),
                    }
                    continue;
                }
                OTEL_MEMORY_REQUEST => &mut resources.otel_memory_request,
                OTEL_MEMORY_LIMIT => &mut resources.otel_memory_limit,
                OTEL_CPU_REQUEST => &mut resources.otel_cpu_request,
                OTEL_CPU_LIMIT => &mut resources.otel_cpu_limit,
                unknown => {
                    problems.push(unknown_key("sidecarResources.", unknown, &SIDECAR_KEYS));
                    continue;
                }
            };
            // The key's default is its example.
            let example = slot.clone();
            match read_quantity(key.as_ref(), &example, value.scalar_field()) {
                Ok(Some(quantity)) => *slot = Cow::Owned(quantity),
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        SidecarBlock {
            resources,
            problems,
        }
    }
}

const FRACTION_EXPECTED: &str = "a decimal number from 0 to 1 such as \"0.1875\"";

/// `sidecarResources.<key> [<quoted value>] <detail>`.
fn sidecar_problem(key: &str, value: Option<&str>, detail: &str) -> String {
    let mut problem = format!("{SIDECAR_RESOURCES}.{key} ");
    if let Some(value) = value {
        problem.push_str(&quote(value));
        problem.push(' ');
    }
    problem.push_str(detail);
    problem
}

/// What a value of the wrong type was, for "must be …, not <found>".
#[inline(never)]
fn found(value: Field<Scalar>) -> Found {
    match value {
        Field::Present(Scalar::Str(s)) => Found::String(quote(&s)),
        Field::Present(Scalar::Bool(b)) => Found::Bool(b),
        Field::Present(Scalar::Number(_)) | Field::Absent => Found::Number,
        Field::Mistyped(found) => found,
    }
}

/// `""` and `null` mean the chart's default.
#[inline(never)]
fn read_fraction(value: Field<Scalar>) -> Result<Option<f64>, String> {
    let key = GATEWAY_MEMORY_FRACTION;
    let out_of_range = format!("is out of range: it must be {FRACTION_EXPECTED}");
    let fraction = match &value {
        Field::Absent => return Ok(None),
        Field::Present(Scalar::Str(text)) if text.is_empty() => return Ok(None),
        Field::Present(Scalar::Str(text)) => match parse_decimal(text) {
            Some(fraction) => fraction,
            None => {
                let detail = format!("is not {FRACTION_EXPECTED}");
                return Err(sidecar_problem(key, Some(text), &detail));
            }
        },
        // Numbers are not printed: formatting floats costs the module ~18 KB.
        Field::Present(Scalar::Number(fraction)) => {
            if (0.0..=1.0).contains(fraction) {
                return Ok(Some(*fraction));
            }
            return Err(sidecar_problem(key, None, &out_of_range));
        }
        _ => {
            let detail = format!(
                "must be {FRACTION_EXPECTED}, not {}",
                found(value).describe()
            );
            return Err(sidecar_problem(key, None, &detail));
        }
    };
    if (0.0..=1.0).contains(&fraction) {
        Ok(Some(fraction))
    } else {
        let text = match &value {
            Field::Present(Scalar::Str(text)) => text.as_ref(),
            _ => "",
        };
        Err(sidecar_problem(key, Some(text), &out_of_range))
    }
}

/// A decimal number as Go's `strconv.ParseFloat` reads one (sign, digits with
/// an optional point, optional exponent; not Go's `inf`, `NaN` or hex forms).
/// Rewritten as a JSON number and read by the JSON reader, which the module
/// already has (the standard library's parser would add ~17 KB): exact for up
/// to 15 significant digits, a fraction's usual form.
fn parse_decimal(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if integer.len() + fraction.len() == 0 || !digits(integer) || !digits(fraction) {
        return None;
    }
    let mut json = String::with_capacity(text.len() + 3);
    if negative {
        json.push('-');
    }
    let integer = integer.trim_start_matches('0');
    json.push_str(if integer.is_empty() { "0" } else { integer });
    if !fraction.is_empty() {
        json.push('.');
        json.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if unsigned.is_empty() || !digits(unsigned) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    // Through the JSON reader's `Tree`, not `str::parse::<f64>` (~17 KB).
    match Tree::from_json(json.as_bytes(), &TreeShape::Scalar) {
        Ok(Tree::Number(number)) => Some(number),
        _ => None,
    }
}

/// A quantity setting: `""` and `null` mean the default; negative is refused.
fn read_quantity(key: &str, example: &str, value: Field<Scalar>) -> Result<Option<String>, String> {
    let text = match value {
        Field::Absent => return Ok(None),
        Field::Present(Scalar::Str(text)) => text,
        other => {
            let detail = format!(
                "must be a quantity string such as \"{example}\", not {}",
                found(other).describe()
            );
            return Err(sidecar_problem(key, None, &detail));
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    match Quantity::parse(&text) {
        Ok(quantity) if quantity.is_negative() => Err(sidecar_problem(
            key,
            Some(&text),
            "is negative; a sidecar resource must be zero or more",
        )),
        Ok(_) => Ok(Some(text.into_owned())),
        Err(e) => {
            let detail = format!("is not a valid quantity: {e}");
            Err(sidecar_problem(key, Some(&text), &detail))
        }
    }
}

// --- context-aware checks ---

/// `imageVolumeCheck`: `""` and `null` mean the default (`warn`).
#[inline(never)]
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
        Field::Present(Scalar::Number(_)) => Err(format!("{expected}, not a number")),
        Field::Mistyped(found) => Err(format!("{expected}, not {}", found.describe())),
    }
}

/// Most entries of a user list a settings answer names (each a problem).
const MAX_USERS: usize = 1_000;

/// `statusWriters`: a list of non-empty user names; `null` means the default,
/// `[]` nobody. `Err` holds every problem, each naming its index.
struct UserList(Result<Option<Vec<String>>, Vec<String>>);

impl UserList {
    fn not_a_list(found: Found) -> UserList {
        UserList(Err(vec![format!(
            "{STATUS_WRITERS} must be a list of user names such as [{}], not {}",
            quote(DEFAULT_STATUS_WRITER),
            found.describe()
        )]))
    }

    fn read(value: &Tree) -> UserList {
        let items = match value {
            Tree::Null | Tree::Unread => return UserList(Ok(None)),
            Tree::Array(items) => items,
            other => return Self::not_a_list(found(other.scalar_field())),
        };
        let mut users = Vec::new();
        let mut problems = Vec::new();
        let mut index = 0usize;
        for user in items.iter().map(Tree::scalar_field) {
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
                Field::Present(Scalar::Number(_)) => {
                    problems.push(problem(Found::Number.describe()))
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
        UserList(if problems.is_empty() {
            Ok(Some(users))
        } else {
            Err(problems)
        })
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
            sidecar_resources: SidecarResources::default(),
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
        &["unknown setting \"defaultDocumentDbVersion\": did you mean defaultDocumentDBVersion? (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)"]
    )]
    #[case::unknown_key(
        r#"{"bogus":1}"#,
        &["unknown setting \"bogus\" (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)"]
    )]
    #[case::all_problems_at_once(
        r#"{"bogus":[],"rejectUnknownBinaryVersion":{},"defaultDocumentDBVersion":true}"#,
        &[
            "unknown setting \"bogus\" (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)",
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

    fn sidecar(json: &str) -> Result<SidecarResources, SettingsErrors> {
        parse(&format!(r#"{{"sidecarResources":{json}}}"#)).map(|s| s.sidecar_resources)
    }

    fn sidecar_with(change: impl FnOnce(&mut SidecarResources)) -> SidecarResources {
        let mut resources = SidecarResources::default();
        change(&mut resources);
        resources
    }

    #[rstest]
    #[case::empty("{}", SidecarResources::default())]
    #[case::null("null", SidecarResources::default())]
    #[case::the_chart_block(
        r#"{"gatewayMemoryFraction":"0.1875","gatewayMemoryCap":"32Gi","gatewayCpuLimit":"","otelMemoryRequest":"48Mi","otelMemoryLimit":"128Mi","otelCpuRequest":"50m","otelCpuLimit":"200m"}"#,
        SidecarResources::default()
    )]
    #[case::nulls_and_empty_strings_are_defaults(
        r#"{"gatewayMemoryFraction":null,"gatewayMemoryCap":"","gatewayCpuLimit":null,"otelMemoryLimit":""}"#,
        SidecarResources::default()
    )]
    #[case::fraction_string("{\"gatewayMemoryFraction\":\"0.25\"}", sidecar_with(|r| r.gateway_memory_fraction = 0.25))]
    #[case::fraction_number("{\"gatewayMemoryFraction\":0.25}", sidecar_with(|r| r.gateway_memory_fraction = 0.25))]
    #[case::fraction_zero("{\"gatewayMemoryFraction\":0}", sidecar_with(|r| r.gateway_memory_fraction = 0.0))]
    #[case::fraction_one("{\"gatewayMemoryFraction\":\"1\"}", sidecar_with(|r| r.gateway_memory_fraction = 1.0))]
    #[case::fraction_go_syntax("{\"gatewayMemoryFraction\":\".5\"}", sidecar_with(|r| r.gateway_memory_fraction = 0.5))]
    #[case::fraction_exponent("{\"gatewayMemoryFraction\":\"+25e-2\"}", sidecar_with(|r| r.gateway_memory_fraction = 0.25))]
    #[case::fraction_leading_zeros("{\"gatewayMemoryFraction\":\"00.5\"}", sidecar_with(|r| r.gateway_memory_fraction = 0.5))]
    #[case::fraction_trailing_point("{\"gatewayMemoryFraction\":\"1.\"}", sidecar_with(|r| r.gateway_memory_fraction = 1.0))]
    #[case::fraction_negative_zero("{\"gatewayMemoryFraction\":\"-0\"}", sidecar_with(|r| r.gateway_memory_fraction = -0.0))]
    #[case::cap_zero("{\"gatewayMemoryCap\":\"0\"}", sidecar_with(|r| r.gateway_memory_cap = "0".into()))]
    #[case::cpu_limit("{\"gatewayCpuLimit\":\"2\"}", sidecar_with(|r| r.gateway_cpu_limit = Some("2".into())))]
    #[case::otel(
        r#"{"otelMemoryRequest":"64Mi","otelMemoryLimit":"256Mi","otelCpuRequest":"0.1","otelCpuLimit":"1"}"#,
        sidecar_with(|r| {
            r.otel_memory_request = "64Mi".into();
            r.otel_memory_limit = "256Mi".into();
            r.otel_cpu_request = "0.1".into();
            r.otel_cpu_limit = "1".into();
        })
    )]
    fn accepts_sidecar_resources(#[case] json: &str, #[case] expected: SidecarResources) {
        assert_eq!(sidecar(json), Ok(expected));
    }

    const FRACTION_RANGE: &str = "sidecarResources.gatewayMemoryFraction \"1.5\" is out of range: it must be a decimal number from 0 to 1 such as \"0.1875\"";

    #[rstest]
    #[case::not_an_object(
        r#""big""#,
        &["sidecarResources must be an object (the operator chart's sidecarResources values), not a string (\"big\")"]
    )]
    #[case::an_array("[]", &["sidecarResources must be an object (the operator chart's sidecarResources values), not an array"])]
    #[case::unknown_key(
        r#"{"gatewayMemory":"1Gi"}"#,
        &["unknown setting \"sidecarResources.gatewayMemory\" (known sidecarResources settings: gatewayMemoryFraction, gatewayMemoryCap, gatewayCpuLimit, otelMemoryRequest, otelMemoryLimit, otelCpuRequest, otelCpuLimit)"]
    )]
    #[case::case_trap(
        r#"{"gatewayCPULimit":"2"}"#,
        &["unknown setting \"sidecarResources.gatewayCPULimit\": did you mean gatewayCpuLimit? (known sidecarResources settings: gatewayMemoryFraction, gatewayMemoryCap, gatewayCpuLimit, otelMemoryRequest, otelMemoryLimit, otelCpuRequest, otelCpuLimit)"]
    )]
    #[case::fraction_above_one(r#"{"gatewayMemoryFraction":"1.5"}"#, &[FRACTION_RANGE])]
    #[case::fraction_negative_number(
        r#"{"gatewayMemoryFraction":-0.1}"#,
        &["sidecarResources.gatewayMemoryFraction is out of range: it must be a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_word(
        r#"{"gatewayMemoryFraction":"lots"}"#,
        &["sidecarResources.gatewayMemoryFraction \"lots\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_nan(
        r#"{"gatewayMemoryFraction":"NaN"}"#,
        &["sidecarResources.gatewayMemoryFraction \"NaN\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_percent(
        r#"{"gatewayMemoryFraction":"18.75%"}"#,
        &["sidecarResources.gatewayMemoryFraction \"18.75%\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_two_points(
        r#"{"gatewayMemoryFraction":"0.1.2"}"#,
        &["sidecarResources.gatewayMemoryFraction \"0.1.2\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_bare_exponent(
        r#"{"gatewayMemoryFraction":"1e"}"#,
        &["sidecarResources.gatewayMemoryFraction \"1e\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_hex(
        r#"{"gatewayMemoryFraction":"0x1p-2"}"#,
        &["sidecarResources.gatewayMemoryFraction \"0x1p-2\" is not a decimal number from 0 to 1 such as \"0.1875\""]
    )]
    #[case::fraction_bool(
        r#"{"gatewayMemoryFraction":true}"#,
        &["sidecarResources.gatewayMemoryFraction must be a decimal number from 0 to 1 such as \"0.1875\", not a boolean (true)"]
    )]
    #[case::quantity_number(
        r#"{"gatewayMemoryCap":0}"#,
        &["sidecarResources.gatewayMemoryCap must be a quantity string such as \"32Gi\", not a number"]
    )]
    #[case::quantity_object(
        r#"{"gatewayCpuLimit":{}}"#,
        &["sidecarResources.gatewayCpuLimit must be a quantity string such as \"2\", not an object"]
    )]
    #[case::bad_suffix(
        r#"{"otelMemoryLimit":"128mi"}"#,
        &["sidecarResources.otelMemoryLimit \"128mi\" is not a valid quantity: unable to parse quantity's suffix"]
    )]
    #[case::exponent_and_suffix(
        r#"{"gatewayMemoryCap":"1E3Mi"}"#,
        &["sidecarResources.gatewayMemoryCap \"1E3Mi\" is not a valid quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]
    )]
    #[case::negative(
        r#"{"otelCpuRequest":"-50m"}"#,
        &["sidecarResources.otelCpuRequest \"-50m\" is negative; a sidecar resource must be zero or more"]
    )]
    #[case::all_problems_at_once(
        r#"{"gatewayMemoryFraction":"1.5","bogus":1,"otelCpuLimit":"fast","otelMemoryRequest":true}"#,
        &[
            FRACTION_RANGE,
            "unknown setting \"sidecarResources.bogus\" (known sidecarResources settings: gatewayMemoryFraction, gatewayMemoryCap, gatewayCpuLimit, otelMemoryRequest, otelMemoryLimit, otelCpuRequest, otelCpuLimit)",
            "sidecarResources.otelCpuLimit \"fast\" is not a valid quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            "sidecarResources.otelMemoryRequest must be a quantity string such as \"48Mi\", not a boolean (true)",
        ]
    )]
    fn refuses_bad_sidecar_resources(#[case] json: &str, #[case] expected: &[&str]) {
        let expected = SettingsErrors(expected.iter().map(|s| s.to_string()).collect());
        assert_eq!(sidecar(json), Err(expected));
    }

    #[test]
    fn sidecar_problems_join_the_other_settings_problems() {
        let errors =
            parse(r#"{"allowAutoSchemaVersion":0,"sidecarResources":{"gatewayMemoryCap":"x"}}"#)
                .unwrap_err();
        assert_eq!(
            errors.to_string(),
            "allowAutoSchemaVersion must be a boolean (true or false), not a number; \
             sidecarResources.gatewayMemoryCap \"x\" is not a valid quantity: quantities must match the regular \
             expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
    }

    #[test]
    fn chart_defaults_reserve_what_the_operator_reserves() {
        assert_eq!(
            SidecarResources::default().reservations(),
            SidecarReservations::default()
        );
    }

    #[rstest]
    #[case::no_cap(r#"{"gatewayMemoryCap":"0"}"#, SidecarReservations { gateway_memory_cap: 0, ..SidecarReservations::default() })]
    #[case::cpu_limit(r#"{"gatewayCpuLimit":"1500m"}"#, SidecarReservations { gateway_cpu_limit: 1500, ..SidecarReservations::default() })]
    #[case::cpu_limit_zero(r#"{"gatewayCpuLimit":"0"}"#, SidecarReservations::default())]
    #[case::otel(
        r#"{"otelMemoryLimit":"1Gi","otelCpuRequest":"0.25","gatewayMemoryFraction":0.5,"gatewayMemoryCap":"1G"}"#,
        SidecarReservations {
            gateway_memory_fraction: 0.5,
            gateway_memory_cap: 1_000_000_000,
            gateway_cpu_limit: 0,
            otel_memory_limit: 1 << 30,
            otel_cpu_request: 250,
        }
    )]
    fn settings_become_reservations(#[case] json: &str, #[case] expected: SidecarReservations) {
        assert_eq!(sidecar(json).unwrap().reservations(), expected);
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

    // --- context-aware checks ---

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
        &["unknown setting \"imageVolumecheck\": did you mean imageVolumeCheck? (known settings: rejectUnknownBinaryVersion, allowAutoSchemaVersion, defaultDocumentDBVersion, sidecarResources, imageVolumeCheck, statusWriters)"]
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
