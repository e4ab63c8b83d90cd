//! DocumentDB-shaped admission payloads built from fuzzer bytes with
//! `arbitrary`: realistic structure, hostile values. Every field the policy
//! reads can be absent, null, mistyped, a canonical or almost-canonical
//! version, an image reference with registry/port/tag/suffix/digest, a huge
//! digit run, a 1 MiB string, arbitrary Unicode, or 200,000 levels of nesting;
//! settings can repeat keys thousands of times. Shared by the `structured`
//! fuzz target and `tests/seeds.rs`, so a crash reproducer replays on stable.
//!
//! The JSON is written by hand, not through `serde_json::Value`: a `Value`
//! cannot hold duplicate keys, and serialising or dropping 200,000 nested
//! levels of it would overflow the stack in the harness, not in the policy.

use arbitrary::{Arbitrary, Unstructured};

/// Deepest nesting generated: far beyond serde_json's recursion limit (128),
/// which only applies to what the policy deserialises, not to skipped values.
pub const MAX_DEPTH: u32 = 200_000;
/// The "1 MB tag".
pub const MEGA: usize = 1 << 20;
/// Characters of big strings, nesting and repeated settings one payload may
/// add, counted while rendering: one 1 MiB value, not hundreds (which would
/// only test the harness's RSS limit and slow every execution down).
pub const BUDGET: usize = MEGA + MEGA / 4;

thread_local! {
    static REMAINING: std::cell::Cell<usize> = const { std::cell::Cell::new(BUDGET) };
}

/// Takes up to `wanted` bytes from the payload's budget; returns what it got.
fn take_budget(wanted: usize) -> usize {
    REMAINING.with(|remaining| {
        let granted = wanted.min(remaining.get());
        remaining.set(remaining.get() - granted);
        granted
    })
}

#[derive(Arbitrary, Debug)]
pub struct Payload {
    pub request: Top<Request>,
    pub settings: SettingsDoc,
    pub extra: Vec<(Text, Leaf)>,
}

/// A top-level section: usually the real thing.
#[derive(Arbitrary, Debug)]
pub enum Top<T> {
    Present(T),
    Present2(T),
    Present3(T),
    Absent,
    Mistyped(Leaf),
}

#[derive(Arbitrary, Debug)]
pub struct Request {
    pub kind: Kind,
    pub operation: Operation,
    pub sub_resource: Option<Leaf>,
    pub name: Option<Leaf>,
    pub object: Option<Top<Object>>,
    pub old_object: Option<Top<Object>>,
    pub extra: Vec<(Text, Leaf)>,
}

#[derive(Arbitrary, Debug)]
pub enum Kind {
    DocumentDb,
    DocumentDb2,
    DocumentDb3,
    Pod,
    Custom { group: Leaf, kind: Leaf },
    Mistyped(Leaf),
    Absent,
}

#[derive(Arbitrary, Debug)]
pub enum Operation {
    Create,
    Update,
    Update2,
    Delete,
    Connect,
    Other(Leaf),
    Absent,
}

#[derive(Arbitrary, Debug)]
pub struct Object {
    pub name: Option<Leaf>,
    pub spec: Option<Top<Spec>>,
    pub status_schema: Option<Leaf>,
    pub status: Option<Leaf>,
    pub bulk: Bulk,
}

#[derive(Arbitrary, Debug)]
pub struct Spec {
    pub schema_version: Option<Leaf>,
    pub documentdb_version: Option<Leaf>,
    pub image: Option<Top<Option<Leaf>>>,
    pub documentdb_image: Option<Leaf>,
    pub cluster_replication: Option<Leaf>,
    pub unknown: Vec<(Text, Leaf)>,
}

/// What makes real objects big: the policy must skip it, fast and flat.
#[derive(Arbitrary, Debug)]
pub struct Bulk {
    pub annotations: u8,
    pub managed_fields: u8,
    pub big_annotation: Option<Len>,
    pub nesting: Option<Nesting>,
}

#[derive(Arbitrary, Debug)]
pub enum SettingsDoc {
    Entries(Vec<Setting>),
    Entries2(Vec<Setting>),
    Absent,
    Mistyped(Leaf),
}

#[derive(Arbitrary, Debug)]
pub struct Setting {
    pub key: SettingKey,
    pub value: Leaf,
    /// The same entry written this many extra times (duplicate keys).
    pub repeat: u16,
}

#[derive(Arbitrary, Debug)]
pub enum SettingKey {
    RejectUnknownBinaryVersion,
    AllowAutoSchemaVersion,
    DefaultDocumentDbVersion,
    Unknown(Text),
}

/// Any JSON value in a position the policy reads; strings are likeliest.
#[derive(Arbitrary, Debug)]
pub enum Leaf {
    Str(Text),
    Str2(Text),
    Str3(Text),
    Str4(Text),
    Number(Number),
    Bool(bool),
    Null,
    Nested(Nesting),
    Object(Vec<(Text, Text)>),
    Array(Vec<Text>),
}

#[derive(Arbitrary, Debug)]
pub enum Text {
    Version(u64, u64, u64),
    SmallVersion(u8, u8, u8, Suffix),
    Image(Image),
    Image2(Image),
    Literal(Literal),
    Digits(Len),
    Repeated(char, Len),
    Unicode(String),
}

#[derive(Arbitrary, Debug)]
pub struct Image {
    pub registry: Option<(Host, Option<u16>)>,
    pub path: Vec<PathPart>,
    pub tag: Option<Tag>,
    pub digest: Option<Digest>,
}

#[derive(Arbitrary, Debug)]
pub enum Host {
    Ghcr,
    Localhost,
    Ip,
    Other(String),
}

#[derive(Arbitrary, Debug)]
pub enum PathPart {
    DocumentDb,
    Operator,
    Other(String),
}

#[derive(Arbitrary, Debug)]
pub enum Tag {
    Version(u64, u64, u64, Suffix),
    Small(u8, u8, u8, Suffix),
    Literal(Literal),
    Digits(Len),
    Repeated(char, Len),
    Unicode(String),
}

#[derive(Arbitrary, Debug)]
pub enum Digest {
    Sha256,
    Sha512,
    Other(String),
}

#[derive(Arbitrary, Debug)]
pub enum Suffix {
    None,
    Arch,
    Rc,
    Fourth,
    Letters,
    Digits(Len),
    Other(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Literal {
    Empty,
    Auto,
    AutoUpper,
    Latest,
    VPrefix,
    LeadingZero,
    TwoParts,
    FourParts,
    Overflow,
    Plus,
    Minus,
    Space,
    Separators,
    NulAndControls,
    QuotesAndBackslashes,
    Rtl,
    ArabicDigits,
    Fullwidth,
}

impl Literal {
    fn text(self) -> &'static str {
        match self {
            Literal::Empty => "",
            Literal::Auto => "auto",
            Literal::AutoUpper => "AUTO",
            Literal::Latest => "latest",
            Literal::VPrefix => "v0.112.0",
            Literal::LeadingZero => "0.0112.0",
            Literal::TwoParts => "0.112",
            Literal::FourParts => "0.112.0.1",
            Literal::Overflow => "18446744073709551616.0.0",
            Literal::Plus => "+0.112.0",
            Literal::Minus => "-0.112.0",
            Literal::Space => " 0.112.0 ",
            Literal::Separators => ":/@:/@..::@@//",
            Literal::NulAndControls => "0.112.0\u{0}\n\r\t\u{1b}[31m\u{7f}\u{85}",
            Literal::QuotesAndBackslashes => "\"},\"schemaVersion\":\"9.9.9\\",
            Literal::Rtl => "\u{202e}0.211.0\u{202c}",
            Literal::ArabicDigits => "٠.١١٢.٠",
            Literal::Fullwidth => "０.１１２.０",
        }
    }
}

/// A length: mostly short, sometimes up to 64 KiB, rarely just over 1 MiB
/// (3 in 256 per value: a megabyte value costs ~10 ms under ASan, and a
/// payload has a dozen values).
#[derive(Debug, Clone, Copy)]
pub enum Len {
    Short(u8),
    Kilo(u16),
    Mega(u8),
}

impl<'a> Arbitrary<'a> for Len {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=2 => Len::Mega(u8::arbitrary(u)?),
            3..=15 => Len::Kilo(u16::arbitrary(u)?),
            _ => Len::Short(u8::arbitrary(u)?),
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(3))
    }
}

impl Len {
    pub fn get(self) -> usize {
        match self {
            Len::Short(n) => usize::from(n),
            Len::Kilo(n) => take_budget(usize::from(n)),
            Len::Mega(n) => match take_budget(MEGA) {
                MEGA => MEGA + usize::from(n),
                _ => usize::from(n),
            },
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum Number {
    U64(u64),
    I64(i64),
    F64(f64),
    /// A digit run as a JSON number, far beyond u64 and f64.
    Huge(Len),
    Exponent(i32),
    NegativeZero,
}

/// Nesting: usually a few levels, 1 time in 8 up to [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy)]
pub struct Nesting {
    pub shape: NestingShape,
    pub depth: u32,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum NestingShape {
    Arrays,
    Objects,
    Mixed,
}

impl<'a> Arbitrary<'a> for Nesting {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let shape = NestingShape::arbitrary(u)?;
        let deep = u8::arbitrary(u)? < 32;
        let depth = if deep {
            u32::arbitrary(u)? % MAX_DEPTH
        } else {
            u32::from(u8::arbitrary(u)?)
        };
        Ok(Nesting { shape, depth })
    }
}

// --- Rendering -------------------------------------------------------------------

/// The `structured` target: the payload through `validate`, its settings
/// document through `validate_settings`.
pub fn run_structured(data: &[u8]) {
    if let Some((payload, settings)) = payload_from_bytes(data) {
        crate::checks::check_payload(&payload);
        crate::checks::check_settings(&settings);
    }
}

/// Builds the payload bytes from fuzzer input (`None` when the input is too short).
pub fn payload_from_bytes(data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let payload = Payload::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    Some(payload.render())
}

impl Payload {
    /// The `validate` payload, and the settings document alone (what
    /// `validate_settings` receives).
    pub fn render(&self) -> (Vec<u8>, Vec<u8>) {
        REMAINING.with(|remaining| remaining.set(BUDGET));
        let mut settings = String::new();
        self.settings.write(&mut settings);
        let mut out = String::from("{");
        let mut first = true;
        match &self.request {
            Top::Present(r) | Top::Present2(r) | Top::Present3(r) => {
                key(&mut out, &mut first, "request");
                r.write(&mut out);
            }
            Top::Absent => {}
            Top::Mistyped(leaf) => {
                key(&mut out, &mut first, "request");
                leaf.write(&mut out);
            }
        }
        if !matches!(self.settings, SettingsDoc::Absent) {
            key(&mut out, &mut first, "settings");
            out.push_str(&settings);
        }
        write_extra(&mut out, &mut first, &self.extra);
        out.push('}');
        if settings.is_empty() {
            settings.push_str("null");
        }
        (out.into_bytes(), settings.into_bytes())
    }
}

fn key(out: &mut String, first: &mut bool, name: &str) {
    if !*first {
        out.push(',');
    }
    *first = false;
    string(out, name);
    out.push(':');
}

fn string(out: &mut String, value: &str) {
    out.push_str(&serde_json::to_string(value).expect("a str serialises"));
}

fn write_extra(out: &mut String, first: &mut bool, extra: &[(Text, Leaf)]) {
    for (name, value) in extra {
        key(out, first, &name.text());
        value.write(out);
    }
}

impl Request {
    fn write(&self, out: &mut String) {
        let mut first = true;
        out.push('{');
        key(out, &mut first, "uid");
        string(out, "705ab4f5-6393-11e8-b7cc-42010a800002");
        let gvk = |out: &mut String, group: &str, kind: &str| {
            out.push_str(&format!(
                r#"{{"group":"{group}","version":"preview","kind":"{kind}"}}"#
            ));
        };
        match &self.kind {
            Kind::DocumentDb | Kind::DocumentDb2 | Kind::DocumentDb3 => {
                key(out, &mut first, "kind");
                gvk(out, "documentdb.io", "DocumentDB");
            }
            Kind::Pod => {
                key(out, &mut first, "kind");
                gvk(out, "", "Pod");
            }
            Kind::Custom { group, kind } => {
                key(out, &mut first, "kind");
                out.push_str("{\"group\":");
                group.write(out);
                out.push_str(",\"kind\":");
                kind.write(out);
                out.push('}');
            }
            Kind::Mistyped(leaf) => {
                key(out, &mut first, "kind");
                leaf.write(out);
            }
            Kind::Absent => {}
        }
        key(out, &mut first, "resource");
        out.push_str(r#"{"group":"documentdb.io","version":"preview","resource":"dbs"}"#);
        let operation = match &self.operation {
            Operation::Create => Some("CREATE"),
            Operation::Update | Operation::Update2 => Some("UPDATE"),
            Operation::Delete => Some("DELETE"),
            Operation::Connect => Some("CONNECT"),
            Operation::Other(leaf) => {
                key(out, &mut first, "operation");
                leaf.write(out);
                None
            }
            Operation::Absent => None,
        };
        if let Some(operation) = operation {
            key(out, &mut first, "operation");
            string(out, operation);
        }
        if let Some(sub) = &self.sub_resource {
            key(out, &mut first, "subResource");
            sub.write(out);
        }
        if let Some(name) = &self.name {
            key(out, &mut first, "name");
            name.write(out);
        }
        key(out, &mut first, "userInfo");
        out.push_str(r#"{"username":"alice","groups":["system:authenticated"]}"#);
        for (field, object) in [("object", &self.object), ("oldObject", &self.old_object)] {
            match object {
                Some(Top::Present(o) | Top::Present2(o) | Top::Present3(o)) => {
                    key(out, &mut first, field);
                    o.write(out);
                }
                Some(Top::Mistyped(leaf)) => {
                    key(out, &mut first, field);
                    leaf.write(out);
                }
                Some(Top::Absent) => {
                    key(out, &mut first, field);
                    out.push_str("null");
                }
                None => {}
            }
        }
        write_extra(out, &mut first, &self.extra);
        out.push('}');
    }
}

impl Object {
    fn write(&self, out: &mut String) {
        let mut first = true;
        out.push('{');
        key(out, &mut first, "apiVersion");
        string(out, "documentdb.io/preview");
        key(out, &mut first, "kind");
        string(out, "DocumentDB");
        key(out, &mut first, "metadata");
        {
            let mut first = true;
            out.push('{');
            if let Some(name) = &self.name {
                key(out, &mut first, "name");
                name.write(out);
            }
            key(out, &mut first, "namespace");
            string(out, "default");
            key(out, &mut first, "annotations");
            out.push('{');
            let mut first_annotation = true;
            key(
                out,
                &mut first_annotation,
                "kubectl.kubernetes.io/last-applied-configuration",
            );
            string(
                out,
                r#"{"apiVersion":"documentdb.io/preview","kind":"DocumentDB"}"#,
            );
            for i in 0..self.bulk.annotations {
                key(out, &mut first_annotation, &format!("example.com/key-{i}"));
                string(out, &"v".repeat(100));
            }
            if let Some(len) = self.bulk.big_annotation {
                key(out, &mut first_annotation, "example.com/big");
                string(out, &"x".repeat(len.get()));
            }
            out.push('}');
            key(out, &mut first, "managedFields");
            out.push('[');
            for i in 0..self.bulk.managed_fields {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    r#"{{"manager":"m-{i}","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":{{"f:spec":{{"f:schemaVersion":{{}},"f:image":{{"f:documentDB":{{}}}}}}}}}}"#
                ));
            }
            out.push(']');
            if let Some(nesting) = self.bulk.nesting {
                key(out, &mut first, "labels");
                nesting.write(out);
            }
            out.push('}');
        }
        match &self.spec {
            Some(Top::Present(s) | Top::Present2(s) | Top::Present3(s)) => {
                key(out, &mut first, "spec");
                s.write(out);
            }
            Some(Top::Mistyped(leaf)) => {
                key(out, &mut first, "spec");
                leaf.write(out);
            }
            Some(Top::Absent) => {
                key(out, &mut first, "spec");
                out.push_str("null");
            }
            None => {}
        }
        match (&self.status, &self.status_schema) {
            (Some(status), _) => {
                key(out, &mut first, "status");
                status.write(out);
            }
            (None, Some(schema)) => {
                key(out, &mut first, "status");
                out.push_str(r#"{"status":"Cluster in healthy state","schemaVersion":"#);
                schema.write(out);
                out.push('}');
            }
            (None, None) => {}
        }
        out.push('}');
    }
}

impl Spec {
    fn write(&self, out: &mut String) {
        let mut first = true;
        out.push('{');
        key(out, &mut first, "nodeCount");
        out.push('1');
        key(out, &mut first, "instancesPerNode");
        out.push('1');
        let fields = [
            ("schemaVersion", &self.schema_version),
            ("documentDBVersion", &self.documentdb_version),
            ("documentDBImage", &self.documentdb_image),
            ("clusterReplication", &self.cluster_replication),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                key(out, &mut first, name);
                value.write(out);
            }
        }
        match &self.image {
            Some(Top::Present(d) | Top::Present2(d) | Top::Present3(d)) => {
                key(out, &mut first, "image");
                out.push_str(
                    r#"{"gateway":"ghcr.io/documentdb/documentdb-kubernetes-operator/gateway:0.110.0""#,
                );
                if let Some(documentdb) = d {
                    out.push_str(",\"documentDB\":");
                    documentdb.write(out);
                }
                out.push('}');
            }
            Some(Top::Mistyped(leaf)) => {
                key(out, &mut first, "image");
                leaf.write(out);
            }
            Some(Top::Absent) => {
                key(out, &mut first, "image");
                out.push_str("null");
            }
            None => {}
        }
        write_extra(out, &mut first, &self.unknown);
        out.push('}');
    }
}

impl SettingsDoc {
    fn write(&self, out: &mut String) {
        match self {
            SettingsDoc::Entries(entries) | SettingsDoc::Entries2(entries) => {
                let mut first = true;
                out.push('{');
                for entry in entries {
                    let name = match &entry.key {
                        SettingKey::RejectUnknownBinaryVersion => {
                            "rejectUnknownBinaryVersion".to_owned()
                        }
                        SettingKey::AllowAutoSchemaVersion => "allowAutoSchemaVersion".to_owned(),
                        SettingKey::DefaultDocumentDbVersion => {
                            "defaultDocumentDBVersion".to_owned()
                        }
                        SettingKey::Unknown(text) => text.text(),
                    };
                    let mut value = String::new();
                    entry.value.write(&mut value);
                    let entry_bytes = name.len() + value.len() + 4;
                    let repeat = usize::from(entry.repeat);
                    let repeat = take_budget(repeat * entry_bytes) / entry_bytes;
                    for _ in 0..=repeat {
                        key(out, &mut first, &name);
                        out.push_str(&value);
                    }
                }
                out.push('}');
            }
            SettingsDoc::Absent => {}
            SettingsDoc::Mistyped(leaf) => leaf.write(out),
        }
    }
}

impl Leaf {
    fn write(&self, out: &mut String) {
        match self {
            Leaf::Str(t) | Leaf::Str2(t) | Leaf::Str3(t) | Leaf::Str4(t) => string(out, &t.text()),
            Leaf::Number(n) => n.write(out),
            Leaf::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Leaf::Null => out.push_str("null"),
            Leaf::Nested(nesting) => nesting.write(out),
            Leaf::Object(entries) => {
                let mut first = true;
                out.push('{');
                for (k, v) in entries {
                    key(out, &mut first, &k.text());
                    string(out, &v.text());
                }
                out.push('}');
            }
            Leaf::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, &item.text());
                }
                out.push(']');
            }
        }
    }
}

impl Number {
    fn write(&self, out: &mut String) {
        match self {
            Number::U64(n) => out.push_str(&n.to_string()),
            Number::I64(n) => out.push_str(&n.to_string()),
            Number::F64(f) if f.is_finite() => out.push_str(&format!("{f:e}")),
            Number::F64(_) => out.push_str("1e999"),
            Number::Huge(len) => {
                out.push('9');
                out.push_str(&"9".repeat(len.get()));
            }
            Number::Exponent(e) => out.push_str(&format!("1e{e}")),
            Number::NegativeZero => out.push_str("-0.0"),
        }
    }
}

impl Nesting {
    fn write(self, out: &mut String) {
        let (open, close) = match self.shape {
            NestingShape::Arrays => ("[", "]"),
            NestingShape::Objects => ("{\"a\":", "}"),
            NestingShape::Mixed => ("[{\"schemaVersion\":", "}]"),
        };
        let level = open.len() + close.len();
        let depth = take_budget((self.depth % MAX_DEPTH) as usize * level) / level;
        out.reserve(depth * (open.len() + close.len()) + 4);
        for _ in 0..depth {
            out.push_str(open);
        }
        out.push_str("\"0.112.0\"");
        for _ in 0..depth {
            out.push_str(close);
        }
    }
}

impl Text {
    pub fn text(&self) -> String {
        match self {
            Text::Version(a, b, c) => format!("{a}.{b}.{c}"),
            Text::SmallVersion(a, b, c, suffix) => format!("{a}.{b}.{c}{}", suffix.text()),
            Text::Image(image) | Text::Image2(image) => image.reference(),
            Text::Literal(literal) => literal.text().to_owned(),
            Text::Digits(len) => "9".repeat(len.get()),
            Text::Repeated(c, len) => std::iter::repeat_n(*c, len.get()).collect(),
            Text::Unicode(s) => s.clone(),
        }
    }
}

impl Suffix {
    fn text(&self) -> String {
        match self {
            Suffix::None => String::new(),
            Suffix::Arch => "-amd64".to_owned(),
            Suffix::Rc => "-rc1".to_owned(),
            Suffix::Fourth => ".1".to_owned(),
            Suffix::Letters => "abc".to_owned(),
            Suffix::Digits(len) => "7".repeat(len.get()),
            Suffix::Other(s) => s.clone(),
        }
    }
}

impl Image {
    pub fn reference(&self) -> String {
        let mut s = String::new();
        if let Some((host, port)) = &self.registry {
            s.push_str(match host {
                Host::Ghcr => "ghcr.io",
                Host::Localhost => "localhost",
                Host::Ip => "10.0.0.1",
                Host::Other(other) => other,
            });
            if let Some(port) = port {
                s.push_str(&format!(":{port}"));
            }
            s.push('/');
        }
        for (i, part) in self.path.iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            s.push_str(match part {
                PathPart::DocumentDb => "documentdb",
                PathPart::Operator => "documentdb-kubernetes-operator",
                PathPart::Other(other) => other,
            });
        }
        if self.path.is_empty() {
            s.push_str("documentdb");
        }
        if let Some(tag) = &self.tag {
            s.push(':');
            match tag {
                Tag::Version(a, b, c, suffix) => {
                    s.push_str(&format!("{a}.{b}.{c}{}", suffix.text()))
                }
                Tag::Small(a, b, c, suffix) => s.push_str(&format!("{a}.{b}.{c}{}", suffix.text())),
                Tag::Literal(literal) => s.push_str(literal.text()),
                Tag::Digits(len) => s.push_str(&"1".repeat(len.get())),
                Tag::Repeated(c, len) => s.extend(std::iter::repeat_n(*c, len.get())),
                Tag::Unicode(u) => s.push_str(u),
            }
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            match digest {
                Digest::Sha256 => s.push_str(
                    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                ),
                Digest::Sha512 => s.push_str("sha512:feed"),
                Digest::Other(other) => s.push_str(other),
            }
        }
        s
    }
}
