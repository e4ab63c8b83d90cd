//! Properties of the decision, checked with proptest against
//! an independent model: requests are generated from a small structural model
//! (versions as u64 triples, images built from registry/port/path/tag/suffix/
//! digest parts, settings), rendered to JSON the way the API server sends them,
//! and the model — not the policy's own helpers — says what the binary version
//! is and whether a rule input changed.
//!
//! 256 cases per property by default; `PROPTEST_CASES=10000 cargo test
//! --release -p documentdb-upgrade-safety --test properties` for a deeper run.
//! A failure is shrunk and its seed saved to `tests/properties.proptest-regressions`
//! (commit that file: proptest replays it first on every run).
//!
//! Each property says which bug it exists to catch. `antecedents_are_not_vacuous`
//! checks that the generators actually reach the cases the implications are about.

use documentdb_upgrade_safety::admission::{Verdict, validate_payload};
use documentdb_upgrade_safety::cluster::NoCluster;
use documentdb_upgrade_safety::model::document::DocumentDb;
use documentdb_upgrade_safety::model::version::{ExtensionVersion, VersionError};
use documentdb_upgrade_safety::rules::{Review, evaluate};
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::wire::ObjectDoc;
use documentdb_upgrade_safety::{validate, validate_settings};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use test_support::{DocumentDbObject, admission_request, validation_payload};

// --- The model ---------------------------------------------------------------

type Triple = (u64, u64, u64);

fn render(v: Triple) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

fn ext(v: Triple) -> ExtensionVersion {
    ExtensionVersion {
        major: v.0,
        minor: v.1,
        patch: v.2,
    }
}

/// How an unset string field is written: all three mean "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unset {
    Absent,
    Null,
    Empty,
}

/// `spec.documentDBVersion` when set.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VersionText {
    Canonical(Triple),
    /// Never parses as an ExtensionVersion.
    Garbage(&'static str),
}

impl VersionText {
    fn text(&self) -> String {
        match self {
            VersionText::Canonical(v) => render(*v),
            VersionText::Garbage(s) => (*s).to_owned(),
        }
    }
}

const GARBAGE_VERSIONS: &[&str] = &[
    "latest",
    "v0.112.0",
    "0.112",
    "0.0112.0",
    "99999999999999999999.0.0",
    "0.112.0-rc1",
    " 0.112.0",
    "invalid",
    "1.2.3.4",
    "+1.0.0",
];

/// `spec.schemaVersion`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Schema {
    TwoPhase,
    Auto,
    Canonical(Triple),
    /// Not "", "auto" or canonical X.Y.Z: Rule A's format error.
    Garbage(&'static str),
}

const GARBAGE_SCHEMAS: &[&str] = &[
    "AUTO",
    "0.112",
    "v1.0.0",
    "0.0112.0",
    "0.112.0-rc1",
    "0.112.0 ",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tag {
    /// `X.Y.Z` + a suffix that does not start with a digit: the binary is X.Y.Z.
    Versioned(Triple, &'static str),
    /// Starts with X.Y.Z digit runs that are not canonical: a known, unparseable binary.
    Unparseable(&'static str),
    /// No leading X.Y.Z: no binary from the image.
    NoVersion(&'static str),
}

const TAG_SUFFIXES: &[&str] = &[
    "",
    "-amd64",
    "-rc1",
    ".1",
    "_build7",
    "-0.2.0-test-12345",
    "abc",
];
const UNPARSEABLE_TAGS: &[&str] = &[
    "0.0112.0",
    "00.1.2-amd64",
    "99999999999999999999.0.0",
    "1.18446744073709551616.0",
];
const NO_VERSION_TAGS: &[&str] = &["latest", "stable", "v0.112.0", "", "main-0.112.0", "0.112"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Image {
    registry: Option<(&'static str, Option<u16>)>,
    path: Vec<&'static str>,
    tag: Option<Tag>,
    digest: Option<&'static str>,
}

const DIGESTS: &[&str] = &[
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "sha512:feed",
];

impl Image {
    fn reference(&self) -> String {
        let mut s = String::new();
        if let Some((host, port)) = self.registry {
            s.push_str(host);
            if let Some(port) = port {
                s.push_str(&format!(":{port}"));
            }
            s.push('/');
        }
        s.push_str(&self.path.join("/"));
        match &self.tag {
            Some(Tag::Versioned(v, suffix)) => s.push_str(&format!(":{}{suffix}", render(*v))),
            Some(Tag::Unparseable(tag) | Tag::NoVersion(tag)) => s.push_str(&format!(":{tag}")),
            None => {}
        }
        if let Some(digest) = self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    schema: Schema,
    version: Option<VersionText>,
    /// `spec.image.documentDB`.
    nested: Option<Image>,
    /// `spec.documentDBImage`.
    flat: Option<Image>,
    unset: Unset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SettingsModel {
    reject_unknown: bool,
    allow_auto: bool,
    default: Option<Triple>,
}

impl SettingsModel {
    fn json(&self) -> Value {
        let mut s = json!({
            "rejectUnknownBinaryVersion": self.reject_unknown,
            "allowAutoSchemaVersion": self.allow_auto,
        });
        if let Some(default) = self.default {
            s["defaultDocumentDBVersion"] = json!(render(default));
        }
        s
    }

    fn settings(&self) -> Settings {
        Settings {
            reject_unknown_binary_version: self.reject_unknown,
            allow_auto_schema_version: self.allow_auto,
            default_documentdb_version: self.default.map(render),
            ..Settings::default()
        }
    }
}

/// The binary version, as the model understands the resolution rules: the
/// effective image's tag X.Y.Z, else documentDBVersion, else (nothing set at
/// all) the default setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binary {
    Parsed(Triple),
    Unparseable,
    Unknown,
}

impl Spec {
    fn effective_image(&self) -> Option<&Image> {
        self.nested.as_ref().or(self.flat.as_ref())
    }

    fn binary(&self, settings: &SettingsModel) -> Binary {
        let image = self.effective_image();
        match image.and_then(|image| image.tag.as_ref()) {
            Some(Tag::Versioned(v, _)) => return Binary::Parsed(*v),
            Some(Tag::Unparseable(_)) => return Binary::Unparseable,
            Some(Tag::NoVersion(_)) | None => {}
        }
        match &self.version {
            Some(VersionText::Canonical(v)) => Binary::Parsed(*v),
            Some(VersionText::Garbage(_)) => Binary::Unparseable,
            None => match (image, settings.default) {
                (None, Some(default)) => Binary::Parsed(default),
                _ => Binary::Unknown,
            },
        }
    }

    /// What a version change is made of, normalised (unset is unset however written).
    fn binary_inputs(&self) -> (Option<String>, Option<String>) {
        (
            self.version.as_ref().map(VersionText::text),
            self.effective_image().map(Image::reference),
        )
    }

    /// The inputs the ratchet compares.
    fn spec_rule_inputs(&self) -> (&Schema, (Option<String>, Option<String>)) {
        (&self.schema, self.binary_inputs())
    }

    /// The object as the API server stores it (the builder's LightRAG
    /// manifest), with the model's rule inputs written in.
    fn json(&self, installed: Option<&str>) -> Value {
        let unset = match self.unset {
            Unset::Absent => None,
            Unset::Null => Some(Value::Null),
            Unset::Empty => Some(json!("")),
        };
        let text = |text: Option<String>| text.map(Value::from).or_else(|| unset.clone());
        let schema = match &self.schema {
            Schema::TwoPhase => unset.clone(),
            Schema::Auto => Some(json!("auto")),
            Schema::Canonical(v) => Some(json!(render(*v))),
            Schema::Garbage(s) => Some(json!(s)),
        };
        let mut object = DocumentDbObject::lightrag()
            .named("prop-db", "default")
            .build();
        let spec = object["spec"]
            .as_object_mut()
            .expect("the manifest has a spec");
        let image = spec["image"].as_object_mut().expect("and an image");
        match text(self.nested.as_ref().map(Image::reference)) {
            Some(nested) => image.insert("documentDB".to_owned(), nested),
            None => image.remove("documentDB"),
        };
        for (key, value) in [
            ("schemaVersion", schema),
            (
                "documentDBVersion",
                text(self.version.as_ref().map(VersionText::text)),
            ),
            (
                "documentDBImage",
                text(self.flat.as_ref().map(Image::reference)),
            ),
        ] {
            match value {
                Some(value) => spec.insert(key.to_owned(), value),
                None => spec.remove(key),
            };
        }
        let mut db = DocumentDbObject::from(object).stored(1);
        if let Some(installed) = installed {
            db = db.installed(installed);
        }
        db.build()
    }
}

fn request(operation: &str, object: Value, old_object: Option<Value>) -> Value {
    admission_request(operation, Some(object), old_object)
}

fn payload(request: &Value, settings: &SettingsModel) -> Vec<u8> {
    validation_payload(request, &settings.json())
}

/// The rule errors of a review, rendered, through the library's own reading of
/// the JSON (`None` for CREATE).
fn rule_errors(new: &Value, old: Option<&Value>, settings: &Settings) -> Vec<String> {
    let new_text = new.to_string();
    let old_text = old.map(Value::to_string);
    let new_doc = ObjectDoc::from_json(new_text.as_bytes()).unwrap();
    let old_doc: Option<ObjectDoc> = old_text
        .as_deref()
        .map(|text| ObjectDoc::from_json(text.as_bytes()).unwrap());
    let new = DocumentDb::read(&new_doc, "").expect("the model writes well-typed objects");
    let old = old_doc
        .as_ref()
        .map(|doc| DocumentDb::read(doc, "oldObject.").expect("well-typed"));
    let review = Review {
        new: &new,
        old: old.as_ref(),
        settings,
        cluster: &NoCluster,
        namespace: Some("default"),
    };
    evaluate(&review)
        .field_errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[track_caller]
fn rejected_message(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Rejected {
            message, code: 422, ..
        } => message,
        other => panic!("expected a 422 denial, got {other:?}"),
    }
}

// --- Strategies ----------------------------------------------------------------

/// Small values (so that versions often share a major or minor and compare on
/// the next component), the upstream range, and the u64 edges.
fn component() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..4u64,
        2 => 108..116u64,
        1 => any::<u64>(),
        1 => Just(u64::MAX),
        1 => Just(u64::MAX - 1),
    ]
}

fn triple() -> impl Strategy<Value = Triple> {
    (component(), component(), component())
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(items)
}

fn version_text() -> impl Strategy<Value = VersionText> {
    prop_oneof![
        4 => triple().prop_map(VersionText::Canonical),
        1 => pick(GARBAGE_VERSIONS).prop_map(VersionText::Garbage),
    ]
}

fn schema() -> impl Strategy<Value = Schema> {
    prop_oneof![
        2 => Just(Schema::TwoPhase),
        1 => Just(Schema::Auto),
        4 => triple().prop_map(Schema::Canonical),
        1 => pick(GARBAGE_SCHEMAS).prop_map(Schema::Garbage),
    ]
}

fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        5 => (triple(), pick(TAG_SUFFIXES)).prop_map(|(v, s)| Tag::Versioned(v, s)),
        1 => pick(UNPARSEABLE_TAGS).prop_map(Tag::Unparseable),
        1 => pick(NO_VERSION_TAGS).prop_map(Tag::NoVersion),
    ]
}

fn image() -> BoxedStrategy<Image> {
    let registry = proptest::option::of((
        pick(&["ghcr.io", "localhost", "registry.example.com", "10.0.0.1"]),
        proptest::option::of(prop_oneof![Just(5000u16), Just(443), any::<u16>()]),
    ));
    let path = proptest::collection::vec(
        pick(&[
            "documentdb",
            "documentdb-kubernetes-operator",
            "a.b_c-d",
            "x",
        ]),
        1..4,
    );
    (
        registry,
        path,
        proptest::option::weighted(0.9, tag()),
        proptest::option::weighted(0.2, pick(DIGESTS)),
    )
        .prop_map(|(registry, path, tag, digest)| Image {
            registry,
            path,
            tag,
            digest,
        })
        .boxed()
}

fn unset() -> impl Strategy<Value = Unset> {
    prop_oneof![Just(Unset::Absent), Just(Unset::Null), Just(Unset::Empty)]
}

fn spec() -> BoxedStrategy<Spec> {
    (
        schema(),
        proptest::option::of(version_text()),
        proptest::option::weighted(0.6, image()),
        proptest::option::weighted(0.2, image()),
        unset(),
    )
        .prop_map(|(schema, version, nested, flat, unset)| Spec {
            schema,
            version,
            nested,
            flat,
            unset,
        })
        .boxed()
}

/// `old` with one rule input replaced (possibly by an equal value), or the
/// same inputs written differently: the edits an UPDATE makes.
fn edit(old: Spec) -> BoxedStrategy<Spec> {
    let o = old.clone();
    prop_oneof![
        schema().prop_map({
            let o = o.clone();
            move |schema| Spec {
                schema,
                ..o.clone()
            }
        }),
        proptest::option::of(version_text()).prop_map({
            let o = o.clone();
            move |version| Spec {
                version,
                ..o.clone()
            }
        }),
        proptest::option::weighted(0.7, image()).prop_map({
            let o = o.clone();
            move |nested| Spec {
                nested,
                ..o.clone()
            }
        }),
        proptest::option::weighted(0.5, image()).prop_map({
            let o = o.clone();
            move |flat| Spec { flat, ..o.clone() }
        }),
        unset().prop_map(move |unset| Spec { unset, ..o.clone() }),
    ]
    .boxed()
}

/// An UPDATE's old and new specs: independent, or the old one edited.
fn old_and_new() -> BoxedStrategy<(Spec, Spec)> {
    spec()
        .prop_flat_map(|old| {
            let new = prop_oneof![spec(), edit(old.clone())];
            (Just(old), new)
        })
        .boxed()
}

fn settings_model() -> impl Strategy<Value = SettingsModel> {
    (
        any::<bool>(),
        prop_oneof![3 => Just(true), 1 => Just(false)],
        proptest::option::of(triple()),
    )
        .prop_map(|(reject_unknown, allow_auto, default)| SettingsModel {
            reject_unknown,
            allow_auto,
            default,
        })
}

/// What `oldObject.status.schemaVersion` holds.
fn installed_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        5 => triple().prop_map(|v| Some(render(v))),
        1 => pick(GARBAGE_VERSIONS).prop_map(|s| Some(s.to_owned())),
    ]
}

#[derive(Debug)]
enum ModelError {
    Malformed,
    OutOfRange,
}

/// What `X.Y.Z` means, from the definition rather than the policy's code.
fn model_parse(text: &str) -> Result<Triple, ModelError> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 {
        return Err(ModelError::Malformed);
    }
    let mut numbers = [0u64; 3];
    let mut out_of_range = false;
    for (number, part) in numbers.iter_mut().zip(&parts) {
        let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits || (part.len() > 1 && part.starts_with('0')) {
            return Err(ModelError::Malformed);
        }
        // No leading zero: more than 20 digits is above u64::MAX (20 digits).
        match (part.len() <= 20).then(|| part.parse::<u128>().unwrap()) {
            Some(value) if value <= u128::from(u64::MAX) => *number = value as u64,
            _ => out_of_range = true,
        }
    }
    if out_of_range {
        return Err(ModelError::OutOfRange);
    }
    Ok((numbers[0], numbers[1], numbers[2]))
}

/// Anything that looks roughly like a version: digits (with leading zeros,
/// beyond u64), dots, signs, spaces, letters, non-ASCII digits.
fn version_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,22}\\.[0-9]{1,22}\\.[0-9]{1,22}",
        "[0-9.]{0,12}",
        "[0-9a-z.+ v٠-]{0,14}",
    ]
}

// --- Properties ----------------------------------------------------------------

proptest! {
    /// Version order is numeric, component by component, and total: parsing
    /// the canonical rendering of two triples compares like the triples.
    /// Catches: comparing the strings ("0.100.0" < "0.99.0"), truncating a
    /// component (u32, i64), swapping components, a partial order on overflow.
    #[test]
    fn version_order_is_numeric(a in triple(), b in triple()) {
        let (va, vb) = (ExtensionVersion::parse(&render(a)), ExtensionVersion::parse(&render(b)));
        prop_assert_eq!(&va, &Ok(ext(a)));
        prop_assert_eq!(&vb, &Ok(ext(b)));
        let (va, vb) = (va.unwrap(), vb.unwrap());
        prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
        prop_assert_eq!(vb.cmp(&va), a.cmp(&b).reverse());
        prop_assert_eq!(va == vb, render(a) == render(b));
        prop_assert_eq!(va.to_string(), render(a));
    }

    /// A string parses exactly when it is three dot-separated runs of ASCII
    /// digits without leading zeros, each at most u64::MAX, and then to those
    /// numbers; a canonical string beyond u64 is OutOfRange, never wrapped.
    /// (The model is written here, independently of `has_canonical_syntax`.)
    /// Catches: accepting "007.1.2" (two spellings of one version would slip
    /// past the ratchet's string comparison), wrapping 2^64 to 0, accepting
    /// signs, spaces, "v" or non-ASCII digits, misreporting overflow as syntax.
    #[test]
    fn parse_accepts_exactly_the_canonical_spellings(text in version_like()) {
        let parsed = ExtensionVersion::parse(&text);
        match model_parse(&text) {
            Ok(v) => {
                prop_assert_eq!(&parsed, &Ok(ext(v)));
                prop_assert_eq!(parsed.unwrap().to_string(), text);
            }
            Err(ModelError::OutOfRange) => prop_assert_eq!(parsed, Err(VersionError::OutOfRange)),
            Err(ModelError::Malformed) => {
                prop_assert!(matches!(parsed, Err(VersionError::Malformed(_))), "{:?} -> {:?}", text, parsed);
            }
        }
    }

    /// Two digit-run versions (leading zeros, values beyond u64) compare like
    /// their numeric values whenever both parse. Catches lexicographic or
    /// length-first comparison on the wide inputs the generator above rarely pairs.
    #[test]
    fn parsed_versions_compare_like_their_numbers(
        a in "[0-9]{1,21}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        b in "[0-9]{1,21}\\.[0-9]{1,3}\\.[0-9]{1,3}",
    ) {
        let wide = |s: &str| -> (u128, u128, u128) {
            let n: Vec<u128> = s.split('.').map(|p| p.parse().unwrap()).collect();
            (n[0], n[1], n[2])
        };
        if let (Ok(va), Ok(vb)) = (ExtensionVersion::parse(&a), ExtensionVersion::parse(&b)) {
            prop_assert_eq!(va.cmp(&vb), wide(&a).cmp(&wide(&b)));
        }
    }

    /// Rule B: an UPDATE that changes documentDBVersion or the effective image,
    /// on an object with a parseable installed schema S, is denied whenever the
    /// new binary resolves to a parseable version below S — whatever the
    /// settings, schemaVersion, image shape (registry port, suffix, digest,
    /// nested vs flat) or how unset fields are written.
    /// Catches: comparing the wrong operands or in the wrong direction, taking
    /// the port or the digest for the tag, the flat field winning over the
    /// nested one, the default setting overriding an explicit version, a
    /// "changed" check that misses an image-only change.
    #[test]
    fn rule_b_never_admits_a_binary_below_the_installed_schema(
        (old, new) in old_and_new(),
        installed in triple(),
        settings in settings_model(),
    ) {
        let changed = old.binary_inputs() != new.binary_inputs();
        let old_json = old.json(Some(&render(installed)));
        let verdict = validate_payload(&payload(
            &request("UPDATE", new.json(None), Some(old_json)),
            &settings,
        ),
            &NoCluster,
        );
        if let (true, Binary::Parsed(binary)) = (changed, new.binary(&settings))
            && binary < installed
        {
            let message = rejected_message(&verdict);
            let expected = format!(
                "image rollback blocked: requested version {} is older than installed schema version {}",
                render(binary),
                render(installed)
            );
            prop_assert!(message.contains(&expected), "{:?} lacks {:?}", message, expected);
        }
    }

    /// Rule A: a canonical schemaVersion above a resolvable binary is denied on
    /// CREATE, and on every UPDATE that changes schemaVersion,
    /// documentDBVersion or the effective image.
    /// Catches: `>=` for `>`, comparing against the old object's binary, the
    /// ratchet skipping a changed object, using documentDBVersion when the
    /// image tag names another version, the default setting applying when an
    /// image is set.
    #[test]
    fn rule_a_never_admits_a_schema_above_the_binary(
        (old, new) in old_and_new(),
        schema in triple(),
        create in any::<bool>(),
        installed in installed_text(),
        settings in settings_model(),
    ) {
        let new = Spec { schema: Schema::Canonical(schema), ..new };
        let request = if create {
            request("CREATE", new.json(None), None)
        } else {
            request("UPDATE", new.json(None), Some(old.json(installed.as_deref())))
        };
        let verdict = validate_payload(&payload(&request, &settings), &NoCluster);
        let checked = create || old.spec_rule_inputs() != new.spec_rule_inputs();
        if let (true, Binary::Parsed(binary)) = (checked, new.binary(&settings))
            && schema > binary
        {
            let message = rejected_message(&verdict);
            let expected = format!(
                "schemaVersion {} exceeds the binary version {}",
                render(schema),
                render(binary)
            );
            prop_assert!(message.contains(&expected), "{:?} lacks {:?}", message, expected);
        }
    }

    /// The ratchet only spares UPDATEs that leave schemaVersion,
    /// documentDBVersion and the effective image as stored: an UPDATE that
    /// changes any of them gets at least every error a CREATE of the new object
    /// gets (and is then denied). One that changes none gets no spec-rule error.
    /// Catches: a ratchet comparing only some inputs (e.g. the schema but not
    /// the image, or the nested image but not the flat one), comparing the raw
    /// JSON (`null` vs `""`) instead of the normalised values, or ratcheting
    /// the change rules (Rule B) too.
    #[test]
    fn ratchet_never_admits_a_change_into_a_violation(
        (old, new) in old_and_new(),
        installed in installed_text(),
        settings in settings_model(),
    ) {
        let old_json = old.json(installed.as_deref());
        let new_json = new.json(None);
        let rust_settings = settings.settings();
        let as_create = rule_errors(&new_json, None, &rust_settings);
        let as_update = rule_errors(&new_json, Some(&old_json), &rust_settings);
        let verdict = validate_payload(&payload(
            &request("UPDATE", new_json.clone(), Some(old_json.clone())),
            &settings,
        ),
            &NoCluster,
        );
        if old.spec_rule_inputs() != new.spec_rule_inputs() {
            for error in &as_create {
                prop_assert!(as_update.contains(error), "UPDATE lacks {:?}: {:?}", error, as_update);
            }
            if !as_create.is_empty() {
                let _ = rejected_message(&verdict);
            }
        } else {
            // Unchanged inputs: the spec rules are ratcheted and the change
            // rules only act on a binary change, so the UPDATE passes.
            let spec_errors: Vec<&String> = as_update
                .iter()
                .filter(|e| e.starts_with("spec.schemaVersion"))
                .collect();
            prop_assert!(spec_errors.is_empty(), "{:?}", spec_errors);
            prop_assert!(verdict.is_accepted(), "{:?}", verdict);
        }
    }

    /// Evaluation is a function of the request's content: the same bytes give
    /// the same verdict and the same response bytes every time, and neither
    /// whitespace nor fields the rules do not read (managedFields, labels,
    /// unknown spec keys, a huge annotation) change the verdict.
    /// Catches: global state between calls (caches, counters, a reused buffer),
    /// iteration-order dependence (HashMap) in messages, a parser that stops at
    /// the first N bytes or reads an unrelated key with the same name deeper in
    /// the object.
    #[test]
    fn evaluation_is_deterministic(
        (old, new) in old_and_new(),
        installed in installed_text(),
        settings in settings_model(),
        operation in pick(&["CREATE", "UPDATE", "DELETE"]),
        noise in any::<bool>(),
    ) {
        let old_json = old.json(installed.as_deref());
        let mut new_json = new.json(None);
        let request = request(operation, new_json.clone(), Some(old_json));
        let bytes = payload(&request, &settings);
        let first = validate_payload(&bytes, &NoCluster);
        prop_assert_eq!(&validate_payload(&bytes, &NoCluster), &first);
        let response = validate(&bytes).expect("validate never returns a guest error");
        prop_assert_eq!(validate(&bytes).unwrap(), response.clone());
        let response: Value = serde_json::from_slice(&response).unwrap();
        prop_assert_eq!(response["accepted"].as_bool(), Some(first.is_accepted()));

        let pretty = serde_json::to_vec_pretty(&json!({"request": &request, "settings": settings.json()})).unwrap();
        prop_assert_eq!(&validate_payload(&pretty, &NoCluster), &first);

        if noise {
            new_json["metadata"]["labels"] = json!({"schemaVersion": "999.0.0", "app": "db"});
            new_json["metadata"]["annotations"]["documentDBVersion"] = json!("0.0.1");
            new_json["metadata"]["annotations"]["huge"] = json!("9".repeat(100_000));
            new_json["metadata"]["managedFields"] = json!([{"manager": "x", "fieldsV1": {"f:spec": {"f:schemaVersion": {}}}}]);
            new_json["spec"]["unknownKey"] = json!({"schemaVersion": "999.0.0", "image": {"documentDB": "x:0.0.1"}});
            new_json["spec"]["status"] = json!({"schemaVersion": "999.0.0"});
            let mut noisy = request.clone();
            noisy["object"] = new_json;
            noisy["extra"] = json!([1, 2, {"object": null}]);
            prop_assert_eq!(&validate_payload(&payload(&noisy, &settings), &NoCluster), &first);
        }
    }

    /// validate_settings answers every settings document with a response, never
    /// a guest error, and that response agrees with Settings::from_json.
    /// Catches: a settings path that propagates a serde error as Err (which
    /// policy-server reports as a crashed policy).
    #[test]
    fn settings_validation_never_errs(
        settings in settings_model(),
        extra in proptest::option::of(("[a-zA-Z]{1,20}", prop_oneof![
            Just(json!(true)), Just(json!("0.112.0")), Just(json!(1)), Just(json!(null)), Just(json!([]))
        ])),
    ) {
        let mut doc = settings.json();
        if let Some((key, value)) = extra {
            doc[key] = value;
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        let response = validate_settings(&bytes).expect("never a guest error");
        let response: Value = serde_json::from_slice(&response).unwrap();
        prop_assert_eq!(response["valid"].as_bool(), Some(Settings::from_json(&bytes).is_ok()));
    }
}

/// The properties above are implications; this checks that their generators
/// reach the antecedents often enough for 256 cases to mean something (a
/// generator change that, say, never produced a binary below the installed
/// schema would otherwise leave `rule_b_*` passing vacuously).
#[test]
fn antecedents_are_not_vacuous() {
    let mut runner = TestRunner::deterministic();
    let strategy = (old_and_new(), triple(), triple(), settings_model());
    let samples = 2000;
    let (mut rule_b, mut rule_a_update, mut changed) = (0, 0, 0);
    for _ in 0..samples {
        let ((old, new), installed, schema, settings) =
            strategy.new_tree(&mut runner).unwrap().current();
        let binary_changed = old.binary_inputs() != new.binary_inputs();
        if let (true, Binary::Parsed(b)) = (binary_changed, new.binary(&settings)) {
            rule_b += usize::from(b < installed);
        }
        let new = Spec {
            schema: Schema::Canonical(schema),
            ..new
        };
        let inputs_changed = old.spec_rule_inputs() != new.spec_rule_inputs();
        if let (true, Binary::Parsed(b)) = (inputs_changed, new.binary(&settings)) {
            rule_a_update += usize::from(schema > b);
        }
        changed += usize::from(old.spec_rule_inputs() != new.spec_rule_inputs());
    }
    let at_least = samples / 10;
    assert!(
        rule_b >= at_least,
        "Rule B antecedent in {rule_b}/{samples}"
    );
    assert!(
        rule_a_update >= at_least,
        "Rule A antecedent in {rule_a_update}/{samples}"
    );
    assert!(changed >= at_least, "changed inputs in {changed}/{samples}");
    // The ratchet property's "unchanged" branch, reached through `edit`.
    let mut unchanged = 0;
    for _ in 0..samples {
        let (old, new) = old_and_new().new_tree(&mut runner).unwrap().current();
        unchanged += usize::from(old.spec_rule_inputs() == new.spec_rule_inputs());
    }
    assert!(
        unchanged >= samples / 20,
        "unchanged inputs in {unchanged}/{samples}"
    );
}

/// The model and the policy agree on which binary a spec resolves to, on
/// hand-picked shapes (guards the model itself: a wrong model would make the
/// properties above test the wrong thing).
#[test]
fn the_model_resolves_binaries_like_the_policy() {
    let settings = SettingsModel {
        reject_unknown: false,
        allow_auto: true,
        default: Some((0, 113, 0)),
    };
    let img = |registry, tag: Option<Tag>, digest| Image {
        registry,
        path: vec!["documentdb", "documentdb"],
        tag,
        digest,
    };
    let cases = [
        (
            img(Some(("localhost", Some(5000))), None, None),
            Some(VersionText::Canonical((0, 110, 0))),
            Binary::Parsed((0, 110, 0)),
        ),
        (
            img(
                Some(("localhost", Some(5000))),
                Some(Tag::Versioned((0, 112, 0), "-amd64")),
                Some(DIGESTS[0]),
            ),
            Some(VersionText::Canonical((0, 110, 0))),
            Binary::Parsed((0, 112, 0)),
        ),
        (
            img(None, Some(Tag::NoVersion("latest")), None),
            None,
            Binary::Unknown,
        ),
        (
            img(None, Some(Tag::Unparseable("0.0112.0")), None),
            Some(VersionText::Canonical((0, 110, 0))),
            Binary::Unparseable,
        ),
    ];
    for (image, version, expected) in cases {
        let spec = Spec {
            schema: Schema::TwoPhase,
            version,
            nested: Some(image),
            flat: None,
            unset: Unset::Absent,
        };
        assert_eq!(spec.binary(&settings), expected, "{spec:?}");
        let object = spec.json(None);
        let text = object.to_string();
        let doc = ObjectDoc::from_json(text.as_bytes()).unwrap();
        let db = DocumentDb::read(&doc, "").unwrap();
        let rust_settings = settings.settings();
        let resolved =
            db.resolve_binary_version(rust_settings.default_documentdb_version.as_deref());
        use documentdb_upgrade_safety::model::document::ResolvedBinary;
        let actual = match resolved {
            ResolvedBinary::Known(b) => match ExtensionVersion::parse(b.text) {
                Ok(v) => Binary::Parsed((v.major, v.minor, v.patch)),
                Err(_) => Binary::Unparseable,
            },
            ResolvedBinary::Unknown(_) => Binary::Unknown,
        };
        assert_eq!(actual, expected, "{spec:?}");
    }
    // No image, no version: the default setting.
    let bare = Spec {
        schema: Schema::Auto,
        version: None,
        nested: None,
        flat: None,
        unset: Unset::Empty,
    };
    assert_eq!(bare.binary(&settings), Binary::Parsed((0, 113, 0)));
}
