//! The json layer: the one reader of JSON documents — the admission payload,
//! the settings, the host's answers.
//!
//! A document can be megabytes (annotations, managedFields, thousands of
//! Nodes) while the policy reads a handful of values. [`walk_json`] reads the
//! values at fixed paths in one pass, skipping everything else without
//! materialising it, and never fails on a wrong type: every path ends in a
//! [`Picked`] saying what was there (absent, a string, a boolean, an object,
//! …, or, on the way, a value of another type and where), so the caller, which
//! knows the path, can report every mistyped field at once.
//!
//! One walk serves every path set (the paths are data, not types); a derived
//! struct per level, or a generic field reader per type, costs a copy of the
//! parser per type (about 1.4 KB each; BENCHMARKS.md, "Size"). [`Tree`] reads
//! the few small values read whole (the settings) with the same reader.
//!
//! The reader is written here, not serde's visitors over serde_json: the same
//! rules, errors and number values as serde_json 1.0.154 (which the policy
//! used before and whose messages it quotes), function by function, checked
//! against it by a property test on generated and edited documents
//! (`the_reader_answers_as_serde_json_did`), with 6% less warm time and
//! without serde_json's parser in the module (BENCHMARKS.md, "The reader
//! written here"). serde_json stays for writing the response.

use std::borrow::Cow;
use std::fmt;

use crate::text::quote;

/// What a mistyped value held, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Bool(bool),
    /// Not rendered: formatting floats would add ~20 KB to the module for a
    /// case the API server's schema validation already prevents.
    Number,
    /// Already cut by [`crate::text::quote`].
    String(String),
    Array,
    Object,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Bool(b) => write!(f, "{b}"),
            Found::Number => f.write_str("\"number\""),
            Found::String(s) => f.write_str(s),
            Found::Array => f.write_str("\"array\""),
            Found::Object => f.write_str("\"object\""),
        }
    }
}

impl Found {
    /// "a string (\"true\")", "a number", …: the type, and the value when short.
    pub fn describe(&self) -> String {
        match self {
            Found::Bool(_) | Found::String(_) => format!("{} ({self})", self.type_name()),
            _ => self.type_name().to_owned(),
        }
    }

    /// The JSON type's name, for "must be a string, not a number".
    pub fn type_name(&self) -> &'static str {
        match self {
            Found::Bool(_) => "a boolean",
            Found::Number => "a number",
            Found::String(_) => "a string",
            Found::Array => "an array",
            Found::Object => "an object",
        }
    }
}

/// The type of a whole JSON value ("null", "a string", "an object", …) in the
/// words [`Found::type_name`] uses, for code that holds a `serde_json::Value`
/// (crates/upgrade-checker reading documents).
pub fn type_name(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One field as read: absent, present with the type the caller wants, or
/// present with another type.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Absent or `null`.
    #[default]
    Absent,
    Present(T),
    /// Present with a JSON type the rules cannot use.
    Mistyped(Found),
}

/// A JSON string, boolean or number, for fields that accept more than one of
/// them (the settings) or whose type is checked by the reader.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Bool(bool),
    Str(Cow<'a, str>),
    Number(f64),
}

impl Field<Scalar<'_>> {
    /// The boolean, or what was found instead.
    pub fn boolean(&self) -> Result<Option<bool>, Found> {
        match self {
            Field::Absent => Ok(None),
            Field::Present(Scalar::Bool(b)) => Ok(Some(*b)),
            Field::Present(Scalar::Str(s)) => Err(Found::String(quote(s))),
            Field::Present(Scalar::Number(_)) => Err(Found::Number),
            Field::Mistyped(found) => Err(found.clone()),
        }
    }
}

/// An object whose content the rules ignore, only whether it has any key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonEmpty(pub bool);

impl<T> Field<T> {
    /// The present value mapped, the rest kept.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Present(value) => Field::Present(f(value)),
            Field::Mistyped(found) => Field::Mistyped(found),
        }
    }
}

impl<'a> Field<Cow<'a, str>> {
    /// The string, with absent, `null` and `""` all meaning "not set".
    pub fn text(&self) -> Result<Option<&str>, &Found> {
        match self {
            Field::Absent => Ok(None),
            Field::Present(s) if s.is_empty() => Ok(None),
            Field::Present(s) => Ok(Some(s)),
            Field::Mistyped(found) => Err(found),
        }
    }
}

/// A path: the keys from the walked value down to the value read.
pub type Path = &'static [&'static str];

/// The paths of a walk (at most 64) and their trie, worked out when the
/// module is compiled ([`path_table!`]): each object the walk can enter is a
/// node with the keys wanted in it, each key once with the paths going on
/// through it. Working the keys out from the paths at every object the walk
/// entered cost ~200 steps per typical request, ~1 µs of the policy's
/// ~17 µs (BENCHMARKS.md, "One page of stack").
///
/// Paths that begin alike are neighbours in the list (the build fails
/// otherwise), so the paths through a key, or ending at an object, are a
/// range of indices: 4 bytes a node and 12 an edge, not two 64-bit masks.
#[derive(Debug)]
pub struct PathTable {
    pub paths: &'static [Path],
    pub(crate) nodes: &'static [KeyNode],
    pub(crate) edges: &'static [KeyEdge],
}

/// An object of a [`PathTable`]: its keys are `edges[first..first + count]`;
/// the paths `ending.0..ending.1` end at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyNode {
    first: u8,
    count: u8,
    ending: (u8, u8),
}

/// A key wanted in an object, the paths `paths.0..paths.1` going on through
/// it, and the node of the object they find there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyEdge {
    key: &'static str,
    paths: (u8, u8),
    child: u8,
}

impl KeyNode {
    const NONE: KeyNode = KeyNode {
        first: 0,
        count: 0,
        ending: (0, 0),
    };
}

/// The node of an object no path enters (a [`Walk::nested`] object's).
const NO_NODE: u8 = u8::MAX;

/// The paths `range.0..range.1`.
const fn paths_in(range: (u8, u8)) -> u64 {
    all_paths(range.1 as usize) & !all_paths(range.0 as usize)
}

/// `set` as a range of paths; the build fails when it is not one.
const fn range_of(set: u64) -> (u8, u8) {
    if set == 0 {
        return (0, 0);
    }
    let range = (set.trailing_zeros() as u8, (64 - set.leading_zeros()) as u8);
    assert!(
        paths_in(range) == set,
        "paths that begin alike, and a path listed twice, must be neighbours in a path table"
    );
    range
}

impl PathTable {
    /// No paths (a walk for its hook only).
    pub const EMPTY: PathTable = path_table!(&[]);

    /// All its paths: what the walked value is entered with.
    fn all(&self) -> u64 {
        all_paths(self.paths.len())
    }

    fn node(&self, node: u8) -> KeyNode {
        self.nodes
            .get(usize::from(node))
            .copied()
            .unwrap_or(KeyNode::NONE)
    }

    fn keys(&self, node: KeyNode) -> &'static [KeyEdge] {
        let first = usize::from(node.first);
        self.edges
            .get(first..first + usize::from(node.count))
            .unwrap_or_default()
    }
}

/// A [`PathTable`] of a constant list of paths, its trie built at compile time.
macro_rules! path_table {
    ($paths:expr) => {{
        const PATHS: &[$crate::json::Path] = $paths;
        const NODES: usize = $crate::json::trie_nodes(PATHS);
        const TRIE: (
            [$crate::json::KeyNode; NODES],
            [$crate::json::KeyEdge; NODES],
        ) = $crate::json::trie(PATHS);
        $crate::json::PathTable {
            paths: PATHS,
            nodes: &TRIE.0,
            edges: &TRIE.1,
        }
    }};
}
pub(crate) use path_table;

/// Whether `a` and `b` start with the same `len` keys.
const fn same_prefix(a: Path, b: Path, len: usize) -> bool {
    if a.len() < len || b.len() < len {
        return false;
    }
    let mut k = 0;
    while k < len {
        if !same_str(a[k], b[k]) {
            return false;
        }
        k += 1;
    }
    true
}

/// `a == b`, in a constant (the path tables are built at compile time).
pub(crate) const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The objects of the trie of `paths`: the walked value and every distinct
/// beginning of a path.
pub(crate) const fn trie_nodes(paths: &[Path]) -> usize {
    assert!(paths.len() <= 64, "at most 64 paths per walk");
    let mut nodes = 1;
    let mut i = 0;
    while i < paths.len() {
        assert!(paths[i].len() <= DEPTHS, "at most DEPTHS (8) keys per path");
        let mut len = 1;
        while len <= paths[i].len() {
            let mut j = 0;
            while j < i && !same_prefix(paths[i], paths[j], len) {
                j += 1;
            }
            if j == i {
                nodes += 1;
            }
            len += 1;
        }
        i += 1;
    }
    nodes
}

/// The trie of `paths` (`N`: [`trie_nodes`]), breadth first from the walked
/// value (node 0): each node's keys in the order of the first path through
/// them. The key leading to node `c` is edge `c - 1`.
pub(crate) const fn trie<const N: usize>(paths: &[Path]) -> ([KeyNode; N], [KeyEdge; N]) {
    assert!(N < NO_NODE as usize, "at most 254 objects in a path table");
    let mut nodes = [KeyNode::NONE; N];
    let mut edges = [KeyEdge {
        key: "",
        paths: (0, 0),
        child: 0,
    }; N];
    let mut sets = [0u64; N];
    let mut ending = [0u64; N];
    let mut depths = [0usize; N];
    sets[0] = all_paths(paths.len());
    let (mut node, mut next) = (0, 1);
    while node < next {
        let (set, depth, first) = (sets[node], depths[node], next);
        let mut i = 0;
        while i < paths.len() {
            if set & (1 << i) != 0 {
                if paths[i].len() == depth {
                    ending[node] |= 1 << i;
                } else {
                    let key = paths[i][depth];
                    let mut child = first;
                    while child < next && !same_str(edges[child - 1].key, key) {
                        child += 1;
                    }
                    if child == next {
                        edges[child - 1].key = key;
                        edges[child - 1].child = child as u8;
                        depths[child] = depth + 1;
                        next += 1;
                    }
                    sets[child] |= 1 << i;
                }
            }
            i += 1;
        }
        nodes[node] = KeyNode {
            first: (first - 1) as u8,
            count: (next - first) as u8,
            ending: range_of(ending[node]),
        };
        let mut child = first;
        while child < next {
            edges[child - 1].paths = range_of(sets[child]);
            child += 1;
        }
        node += 1;
    }
    assert!(next == N, "the trie has trie_nodes(paths) nodes");
    (nodes, edges)
}

/// What a walk found at one path.
#[derive(Debug, Clone, PartialEq)]
pub enum Picked<'de> {
    /// The value at the first `depth` keys of the path is absent or `null`
    /// (every value above it is an object).
    Absent {
        depth: usize,
    },
    Str(Cow<'de, str>),
    Bool(bool),
    Number(f64),
    Array,
    /// An object, skipped; `keys`: it has at least one.
    Object {
        keys: bool,
    },
    /// On the way: the value at the first `depth` keys of the path (the walked
    /// value itself when 0) is not an object.
    Mistyped {
        depth: usize,
        found: Found,
    },
}

impl Default for Picked<'_> {
    fn default() -> Self {
        Picked::Absent { depth: 0 }
    }
}

impl<'de> Picked<'de> {
    /// A non-empty string.
    pub fn text(&self) -> Option<&str> {
        match self {
            Picked::Str(text) if !text.is_empty() => Some(text),
            _ => None,
        }
    }

    /// What the value at the end of the path is, for a message.
    pub fn found(&self) -> Found {
        match self {
            Picked::Str(text) => Found::String(quote(text)),
            Picked::Bool(b) => Found::Bool(*b),
            Picked::Array => Found::Array,
            Picked::Object { .. } => Found::Object,
            Picked::Mistyped { found, .. } => found.clone(),
            Picked::Number(_) | Picked::Absent { .. } => Found::Number,
        }
    }

    /// The string at the end of a path of `len` keys: `Ok(None)` when absent,
    /// `null` or `""`; else where (how many keys down) another type was found.
    pub fn string(&self, len: usize) -> Result<Option<&str>, (usize, Found)> {
        match self {
            Picked::Absent { .. } => Ok(None),
            Picked::Str(text) => Ok(Some(text.as_ref()).filter(|t| !t.is_empty())),
            Picked::Mistyped { depth, found } => Err((*depth, found.clone())),
            other => Err((len, other.found())),
        }
    }

    /// The value as a string field (absent also when a value above it is
    /// not an object: that one is the field to report).
    pub fn string_field(&self) -> Field<Cow<'de, str>> {
        match self {
            Picked::Absent { .. } | Picked::Mistyped { .. } => Field::Absent,
            Picked::Str(text) => Field::Present(text.clone()),
            other => Field::Mistyped(other.found()),
        }
    }

    /// The value as a string, boolean or number field.
    pub fn scalar_field(&self) -> Field<Scalar<'de>> {
        match self {
            Picked::Absent { .. } | Picked::Mistyped { .. } => Field::Absent,
            Picked::Str(text) => Field::Present(Scalar::Str(text.clone())),
            Picked::Bool(b) => Field::Present(Scalar::Bool(*b)),
            Picked::Number(n) => Field::Present(Scalar::Number(*n)),
            other => Field::Mistyped(other.found()),
        }
    }

    /// The value as an object field of which only "has keys" matters.
    pub fn non_empty_field(&self) -> Field<NonEmpty> {
        match self {
            Picked::Absent { .. } | Picked::Mistyped { .. } => Field::Absent,
            Picked::Object { keys } => Field::Present(NonEmpty(*keys)),
            other => Field::Mistyped(other.found()),
        }
    }

    /// The object at the first `depth` keys of this path, as far as this
    /// path tells (every path through the same object tells the same):
    /// present, absent (or `null`, or below a value that is not an object), or
    /// of another type.
    /// `len`: the path's length (`depth` < `len`: the path goes through it).
    pub fn object_at(&self, depth: usize, len: usize) -> Field<()> {
        match self {
            Picked::Absent { depth: at } if *at <= depth => Field::Absent,
            Picked::Mistyped { depth: at, found } if *at == depth => Field::Mistyped(found.clone()),
            Picked::Mistyped { depth: at, .. } if *at < depth => Field::Absent,
            Picked::Absent { .. } | Picked::Mistyped { .. } | Picked::Object { .. } => {
                Field::Present(())
            }
            // A value at the end of a path that goes through `depth`: the
            // object above it is there.
            _ if len > depth => Field::Present(()),
            other => Field::Mistyped(other.found()),
        }
    }
}

/// The walked value itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Root {
    /// Absent (a defaulted field) or `null`.
    #[default]
    Null,
    Object,
    Other(Found),
}

/// The array under a top-level key whose elements are walked one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Items {
    #[default]
    Missing,
    /// `null`, as Go writes an empty list, or an array (walked).
    Walked,
    Other(Found),
}

/// One walk's paths and what was found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Walked<'de> {
    pub root: Root,
    /// In the order of the paths.
    pub picked: Vec<Picked<'de>>,
    pub items: Items,
    /// The value under the top-level key [`Walk::capture`] names, read whole.
    pub captured: Option<Tree<'de>>,
}

/// Each element of the array under the top-level `key` is walked with the
/// paths of `table`, then given to `each`.
pub struct EachItem<'h, 'de> {
    pub key: &'static str,
    pub table: &'static PathTable,
    pub each: &'h mut dyn FnMut(&Walked<'de>),
}

/// What to read of a document besides its paths.
#[derive(Default)]
pub struct Walk<'h, 'de> {
    pub items: Option<EachItem<'h, 'de>>,
    /// A top-level key whose value is read whole as a [`Tree`] of a shape.
    pub capture: Option<(&'static str, &'static TreeShape)>,
    /// Per depth, the paths whose key at that depth may appear only once in
    /// its object (bit i: path i); a repeated one is a `duplicate field`
    /// error, as for a struct field. Other keys: the last occurrence counts.
    pub unique: &'static [u64],
    /// Objects read with the same keys at every level (the wire's
    /// `spec.resource`, `spec.monitoring`, `spec.bootstrap`): per
    /// depth, the paths whose value one key down is such an object. In one,
    /// the keys of [`Nested`] are read (parsed, not only skipped) even where
    /// no path leads, as a struct's known fields are: `objects` as such
    /// objects again, `values` as values.
    pub nested: &'static [u64],
    pub nested_keys: Nested,
}

/// The keys of a [`Walk::nested`] object that are read where no path leads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nested {
    pub objects: &'static [&'static str],
    pub values: &'static [&'static str],
}

/// The deepest object a path can go through: paths have at most this many
/// keys (the wire's longest has 7).
const DEPTHS: usize = 8;

/// A walk in progress: the paths, the results, and the hooks.
///
/// What a path found is kept only where its value ends (or is blocked): an
/// object on the way is marked in `entered`, one bit per path and depth, and
/// the path's [`Picked::Absent`] depth is worked out once, in
/// [`State::finish`]. Writing `Absent` for every path at every object it
/// goes through cost a write and a drop of the previous value each time
/// (~200 per typical request; BENCHMARKS.md, "Speeding up the one reader").
struct State<'h, 'de> {
    table: &'static PathTable,
    walked: Walked<'de>,
    /// Paths whose value was found (or blocked): `walked.picked` holds it.
    ended: u64,
    /// Per depth, the paths whose object at that depth is present (in the
    /// last occurrence of each key on the way).
    entered: [u64; DEPTHS],
    hook: Option<EachItem<'h, 'de>>,
    capture: Option<(&'static str, &'static TreeShape)>,
    unique: &'static [u64],
    nested: &'static [u64],
    nested_keys: Nested,
}

impl<'de> State<'_, 'de> {
    /// `table` holds at most 64 paths of at most [`DEPTHS`] keys: only
    /// [`path_table!`] makes one, and it checks both when the module is built.
    fn new(table: &'static PathTable) -> Self {
        State {
            table,
            walked: Walked {
                root: Root::Null,
                picked: std::iter::repeat_with(Picked::default)
                    .take(table.paths.len())
                    .collect(),
                items: Items::Missing,
                captured: None,
            },
            ended: 0,
            entered: [0; DEPTHS],
            hook: None,
            capture: None,
            unique: &[],
            nested: &[],
            nested_keys: Nested::default(),
        }
    }

    /// The value at depth `depth` of the paths in `mask` starts again (a
    /// value, `null`, or an object that may be a repeated key's): what they
    /// found before, here or below, no longer counts.
    fn restart(&mut self, mask: u64, depth: usize) {
        self.ended &= !mask;
        for entered in self.entered.iter_mut().skip(depth) {
            *entered &= !mask;
        }
    }

    /// What each path found, once the document is read: its value where it
    /// ended, else absent below the deepest object it went through.
    fn finish(&mut self) {
        for (i, picked) in self.walked.picked.iter_mut().enumerate() {
            if self.ended & (1 << i) != 0 {
                continue;
            }
            let depth = self
                .entered
                .iter()
                .rposition(|entered| entered & (1 << i) != 0)
                .map_or(0, |deepest| deepest + 1);
            *picked = Picked::Absent { depth };
        }
    }

    /// The value path `i` found (its end, or what blocked it).
    fn end(&mut self, i: usize, value: Picked<'de>) {
        self.walked.picked[i] = value;
        self.ended |= 1 << i;
    }
}

/// The paths whose bit is set in `mask`.
fn each_path(mask: u64) -> impl Iterator<Item = usize> {
    std::iter::successors((mask != 0).then_some(mask), |m| {
        let next = m & (m - 1);
        (next != 0).then_some(next)
    })
    .map(|m| m.trailing_zeros() as usize)
}

/// All of `count` paths.
const fn all_paths(count: usize) -> u64 {
    if count >= 64 {
        u64::MAX
    } else {
        (1u64 << count) - 1
    }
}

/// One value of the document, at `depth` keys below the walked value, with the
/// paths that lead through it.
struct Node<'s, 'h, 'de> {
    state: &'s mut State<'h, 'de>,
    mask: u64,
    /// This value's object in the [`PathTable`] (when it is an object).
    trie: u8,
    depth: usize,
    /// This value is the hooked array.
    items: bool,
    /// This value is a [`Walk::nested`] object (when it is an object).
    nested: bool,
}

impl<'de> Node<'_, '_, 'de> {
    /// A value other than an object or `null`: it ends the paths of this
    /// depth (`end`) and blocks the others.
    fn found(self, end: Picked<'de>) {
        let state = self.state;
        let (paths, depth) = (state.table.paths, self.depth);
        // What blocks the paths that wanted an object here.
        let mut blocked: Option<Found> = None;
        for i in each_path(self.mask) {
            let value = if paths[i].len() == depth {
                end.clone()
            } else {
                let found = blocked.get_or_insert_with(|| end.found()).clone();
                Picked::Mistyped { depth, found }
            };
            state.end(i, value);
        }
        if depth == 0 || self.items {
            let found = blocked.unwrap_or_else(|| end.found());
            if self.items {
                state.walked.items = Items::Other(found.clone());
            }
            if depth == 0 {
                state.walked.root = Root::Other(found);
            }
        }
    }
}

/// Why a document is not JSON: serde_json's words at serde_json's position
/// (the policy's messages have always quoted them, and two are pinned), so
/// that replacing serde_json's parser by this reader changed no message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: Cow<'static, str>,
    line: usize,
    column: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for Error {}

type Parsed<T> = Result<T, Error>;

const EOF_LIST: &str = "EOF while parsing a list";
const EOF_OBJECT: &str = "EOF while parsing an object";
const EOF_STRING: &str = "EOF while parsing a string";
const EOF_VALUE: &str = "EOF while parsing a value";
const EXPECTED_COLON: &str = "expected `:`";
const EXPECTED_LIST_COMMA: &str = "expected `,` or `]`";
const EXPECTED_OBJECT_COMMA: &str = "expected `,` or `}`";
const EXPECTED_IDENT: &str = "expected ident";
const EXPECTED_VALUE: &str = "expected value";
const INVALID_ESCAPE: &str = "invalid escape";
const INVALID_NUMBER: &str = "invalid number";
const NUMBER_OUT_OF_RANGE: &str = "number out of range";
const INVALID_CODE_POINT: &str = "invalid unicode code point";
const CONTROL_CHARACTER: &str = "control character (\\u0000-\\u001F) found while parsing a string";
const KEY_MUST_BE_A_STRING: &str = "key must be a string";
const LONE_SURROGATE: &str = "lone leading surrogate in hex escape";
const TRAILING_COMMA: &str = "trailing comma";
const TRAILING_CHARACTERS: &str = "trailing characters";
const END_OF_HEX_ESCAPE: &str = "unexpected end of hex escape";
const RECURSION_LIMIT: &str = "recursion limit exceeded";

/// `significand * 10 + digit` would not fit a u64 (serde_json's `overflow!`).
fn overflows(significand: u64, digit: u64) -> bool {
    significand >= u64::MAX / 10 && (significand > u64::MAX / 10 || digit > u64::MAX % 10)
}

/// The powers of ten serde_json scales by, as its own table: each the nearest
/// `f64` to 10^i.
#[rustfmt::skip]
static POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29,
    1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39,
    1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49,
    1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59,
    1e60, 1e61, 1e62, 1e63, 1e64, 1e65, 1e66, 1e67, 1e68, 1e69,
    1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79,
    1e80, 1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89,
    1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96, 1e97, 1e98, 1e99,
    1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109,
    1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119,
    1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139,
    1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159,
    1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169,
    1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179,
    1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189,
    1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199,
    1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219,
    1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229,
    1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239,
    1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249,
    1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269,
    1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299,
    1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

/// serde_json's limit on nested arrays and objects that are parsed (skipped
/// values have none: they are skipped without recursion).
const RECURSION: u8 = 128;

/// The one reader of JSON text: one pass over the bytes, strings borrowed
/// unless they have escapes. Its rules and errors are serde_json's (1.0.154,
/// `SliceRead`, without `float_roundtrip`), function by function: an error
/// "at" the index points after the byte just read (`error`), "ahead" at the
/// byte after it (`peek_error`).
///
/// The small functions called for every key and value are
/// `#[inline(always)]`: at the module's `opt-level = "s"` a call each cost
/// ~2 µs per typical request (BENCHMARKS.md, "The reader written here").
struct Reader<'de> {
    bytes: &'de [u8],
    index: usize,
    remaining_depth: u8,
}

impl<'de> Reader<'de> {
    fn new(bytes: &'de [u8]) -> Self {
        Reader {
            bytes,
            index: 0,
            remaining_depth: RECURSION,
        }
    }

    #[cold]
    #[inline(never)]
    fn error_at(&self, index: usize, message: impl Into<Cow<'static, str>>) -> Error {
        let before = &self.bytes[..index];
        let start_of_line = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        Error {
            message: message.into(),
            line: 1 + before[..start_of_line]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            column: index - start_of_line,
        }
    }

    fn error(&self, message: &'static str) -> Error {
        self.error_at(self.index, message)
    }

    fn peek_error(&self, message: &'static str) -> Error {
        self.error_at((self.index + 1).min(self.bytes.len()), message)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.index).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.index += 1;
        Some(byte)
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline(always)]
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(byte) = self.peek() {
            match byte {
                b' ' | b'\n' | b'\t' | b'\r' => self.index += 1,
                other => return Some(other),
            }
        }
        None
    }

    /// The rest of `null`, `true` or `false`, its first byte read.
    fn ident(&mut self, rest: &[u8]) -> Parsed<()> {
        for expected in rest {
            match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(byte) if byte != *expected => return Err(self.error(EXPECTED_IDENT)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// `null`, `true` or `false`, at a byte that starts one: `None` for null.
    fn literal(&mut self) -> Parsed<Option<bool>> {
        let (rest, value): (&[u8], _) = match self.next() {
            Some(b't') => (b"rue", Some(true)),
            Some(b'f') => (b"alse", Some(false)),
            _ => (b"ull", None),
        };
        self.ident(rest)?;
        Ok(value)
    }

    /// To the next quote, backslash or control character: eight bytes at a
    /// time (wasm has 64-bit integers; serde_json's `usize` is 32 bits there).
    #[inline(always)]
    fn skip_to_escape(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let bytes = self.bytes;
        while let Some(chunk) = bytes.get(self.index..self.index + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
            let found = zero(word ^ (ONES * u64::from(b'"')))
                | zero(word ^ (ONES * u64::from(b'\\')))
                | (word.wrapping_sub(ONES * 0x20) & !word & HIGH);
            if found != 0 {
                self.index += (found.trailing_zeros() / 8) as usize;
                return;
            }
            self.index += 8;
        }
        while let Some(byte) = self.peek() {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return;
            }
            self.index += 1;
        }
    }

    /// A string whose value is not needed, its opening quote read.
    fn ignore_str(&mut self) -> Parsed<()> {
        loop {
            self.skip_to_escape();
            match self.peek() {
                None => return Err(self.error(EOF_STRING)),
                Some(b'"') => {
                    self.index += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.index += 1;
                    match self.next() {
                        None => return Err(self.error(EOF_STRING)),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            self.hex_escape()?;
                        }
                        Some(_) => return Err(self.error(INVALID_ESCAPE)),
                    }
                }
                Some(_) => return Err(self.error(CONTROL_CHARACTER)),
            }
        }
    }

    /// Four hex digits after `\u`.
    fn hex_escape(&mut self) -> Parsed<u16> {
        let Some(digits) = self.bytes.get(self.index..self.index + 4) else {
            self.index = self.bytes.len();
            return Err(self.error(EOF_STRING));
        };
        self.index += 4;
        let mut value = 0u16;
        for digit in digits {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return Err(self.error(INVALID_ESCAPE)),
            };
            value = value << 4 | u16::from(nibble);
        }
        Ok(value)
    }

    /// A string's value, its opening quote read: borrowed from the document
    /// unless it has escapes.
    fn parse_str(&mut self) -> Parsed<Cow<'de, str>> {
        let mut start = self.index;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            self.skip_to_escape();
            match self.peek() {
                None => return Err(self.error(EOF_STRING)),
                Some(b'"') => {
                    let end = self.index;
                    self.index += 1;
                    return match owned {
                        None => {
                            let text = &self.bytes[start..end];
                            std::str::from_utf8(text)
                                .map(Cow::Borrowed)
                                .map_err(|e| self.invalid_utf8(text.len(), e))
                        }
                        Some(mut text) => {
                            text.extend_from_slice(&self.bytes[start..end]);
                            let len = text.len();
                            String::from_utf8(text)
                                .map(Cow::Owned)
                                .map_err(|e| self.invalid_utf8(len, e.utf8_error()))
                        }
                    };
                }
                Some(b'\\') => {
                    let text = owned.get_or_insert_with(Vec::new);
                    text.extend_from_slice(&self.bytes[start..self.index]);
                    self.index += 1;
                    self.escape(text)?;
                    start = self.index;
                }
                Some(_) => {
                    self.index += 1;
                    return Err(self.error(CONTROL_CHARACTER));
                }
            }
        }
    }

    /// A string of `len` bytes that is not UTF-8, its closing quote read: the
    /// error points at the first byte that is not (approximately, after
    /// escapes, as serde_json's).
    #[cold]
    fn invalid_utf8(&self, len: usize, e: std::str::Utf8Error) -> Error {
        let at = self.error(INVALID_CODE_POINT);
        Error {
            column: at.column.saturating_sub(len - e.valid_up_to()),
            ..at
        }
    }

    /// One escape into `text`, its backslash read.
    fn escape(&mut self, text: &mut Vec<u8>) -> Parsed<()> {
        let byte = match self.next() {
            None => return Err(self.error(EOF_STRING)),
            Some(byte) => byte,
        };
        let simple = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(text),
            _ => return Err(self.error(INVALID_ESCAPE)),
        };
        text.push(simple);
        Ok(())
    }

    /// `\uXXXX`, and its trailing surrogate when it is a leading one.
    fn unicode_escape(&mut self, text: &mut Vec<u8>) -> Parsed<()> {
        let first = self.hex_escape()?;
        let code = match first {
            0xDC00..=0xDFFF => return Err(self.error(LONE_SURROGATE)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return Err(self.error(EOF_STRING)),
                        Some(byte) => {
                            self.index += 1;
                            if byte != expected {
                                return Err(self.error(END_OF_HEX_ESCAPE));
                            }
                        }
                    }
                }
                let second = self.hex_escape()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error(LONE_SURROGATE));
                }
                0x1_0000 + ((u32::from(first - 0xD800) << 10) | u32::from(second - 0xDC00))
            }
            other => u32::from(other),
        };
        let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
        text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }

    /// A number whose value is not needed, its `-` read (serde_json's
    /// `ignore_integer`).
    fn ignore_number(&mut self) -> Parsed<()> {
        match self.peek() {
            Some(b'0') => {
                self.index += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_error(INVALID_NUMBER));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => {
                self.index += 1;
                return Err(self.error(INVALID_NUMBER));
            }
            None => return Err(self.error(INVALID_NUMBER)),
        }
        if self.peek() == Some(b'.') {
            self.index += 1;
            let start = self.index;
            self.digits();
            if self.index == start {
                return Err(self.peek_error(INVALID_NUMBER));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.index += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.index += 1;
            }
            match self.peek() {
                Some(b'0'..=b'9') => self.digits(),
                Some(_) => {
                    self.index += 1;
                    return Err(self.error(INVALID_NUMBER));
                }
                None => return Err(self.error(INVALID_NUMBER)),
            }
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.index += 1;
        }
    }

    /// A number's value, its `-` read when `start` (where the number begins)
    /// is one: serde_json's `parse_integer`, `parse_decimal`,
    /// `parse_exponent` and `f64_from_parts` (without `float_roundtrip`),
    /// errors and value alike: the policy has always read numbers so.
    fn parse_number(&mut self, start: usize) -> Parsed<f64> {
        let positive = self.bytes[start] != b'-';
        let mut significand: u64 = match self.next() {
            None => return Err(self.error(EOF_VALUE)),
            Some(b'0') => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.peek_error(INVALID_NUMBER));
                }
                0
            }
            Some(digit @ b'1'..=b'9') => u64::from(digit - b'0'),
            Some(_) => return Err(self.error(INVALID_NUMBER)),
        };
        // Digits beyond what a u64 holds only scale it (`parse_long_integer`).
        let mut exponent: i32 = 0;
        let mut overflowed = false;
        if significand != 0 {
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                self.index += 1;
                let digit = u64::from(digit - b'0');
                if overflowed || overflows(significand, digit) {
                    overflowed = true;
                    exponent += 1;
                } else {
                    significand = significand * 10 + digit;
                }
            }
        }
        let mut fraction = false;
        if self.peek() == Some(b'.') {
            fraction = true;
            self.index += 1;
            let digits = self.index;
            // `parse_decimal`: digits past a u64 are dropped
            // (`parse_decimal_overflow`).
            let mut dropping = false;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                self.index += 1;
                let digit = u64::from(digit - b'0');
                if dropping || overflows(significand, digit) {
                    dropping = true;
                } else {
                    significand = significand * 10 + digit;
                    exponent -= 1;
                }
            }
            if self.index == digits {
                return Err(match self.peek() {
                    Some(_) => self.peek_error(INVALID_NUMBER),
                    None => self.peek_error(EOF_VALUE),
                });
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.index += 1;
            let positive_exponent = match self.peek() {
                Some(b'-') => {
                    self.index += 1;
                    false
                }
                Some(b'+') => {
                    self.index += 1;
                    true
                }
                _ => true,
            };
            let mut value: i32 = match self.next() {
                None => return Err(self.error(EOF_VALUE)),
                Some(digit @ b'0'..=b'9') => i32::from(digit - b'0'),
                Some(_) => return Err(self.error(INVALID_NUMBER)),
            };
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                self.index += 1;
                let digit = i32::from(digit - b'0');
                if value >= i32::MAX / 10 && (value > i32::MAX / 10 || digit > i32::MAX % 10) {
                    // `parse_exponent_overflow`.
                    if significand != 0 && positive_exponent {
                        return Err(self.error(NUMBER_OUT_OF_RANGE));
                    }
                    self.digits();
                    return Ok(if positive { 0.0 } else { -0.0 });
                }
                value = value * 10 + digit;
            }
            exponent = if positive_exponent {
                exponent.saturating_add(value)
            } else {
                exponent.saturating_sub(value)
            };
            fraction = true;
        }
        if !fraction && !overflowed {
            // `ParserNumber::U64` or `I64`, or `-0` as an `f64`.
            let value = significand as f64;
            return Ok(if positive { value } else { -value });
        }
        // `f64_from_parts`.
        let mut value = significand as f64;
        loop {
            match POW10.get(exponent.unsigned_abs() as usize) {
                Some(&power) => {
                    if exponent >= 0 {
                        value *= power;
                        if value.is_infinite() {
                            return Err(self.error(NUMBER_OUT_OF_RANGE));
                        }
                    } else {
                        value /= power;
                    }
                    break;
                }
                None => {
                    if value == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.error(NUMBER_OUT_OF_RANGE));
                    }
                    value /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { value } else { -value })
    }

    /// A value whose content is not needed: without recursion and without a
    /// depth limit, as serde_json's `ignore_value`.
    fn ignore_value(&mut self) -> Parsed<()> {
        let mut open: Vec<u8> = Vec::new();
        let mut enclosing: Option<u8> = None;
        loop {
            let frame = match self.whitespace() {
                None => return Err(self.peek_error(EOF_VALUE)),
                Some(b'n' | b't' | b'f') => {
                    self.literal()?;
                    None
                }
                Some(b'-') => {
                    self.index += 1;
                    self.ignore_number()?;
                    None
                }
                Some(b'0'..=b'9') => {
                    self.ignore_number()?;
                    None
                }
                Some(b'"') => {
                    self.index += 1;
                    self.ignore_str()?;
                    None
                }
                Some(frame @ (b'[' | b'{')) => {
                    open.extend(enclosing.take());
                    self.index += 1;
                    Some(frame)
                }
                Some(_) => return Err(self.peek_error(EXPECTED_VALUE)),
            };
            let (mut accept_comma, mut frame) = match frame {
                Some(frame) => (false, frame),
                None => match enclosing.take().or_else(|| open.pop()) {
                    Some(frame) => (true, frame),
                    None => return Ok(()),
                },
            };
            loop {
                match self.whitespace() {
                    Some(b',') if accept_comma => {
                        self.index += 1;
                        break;
                    }
                    Some(b']') if frame == b'[' => {}
                    Some(b'}') if frame == b'{' => {}
                    Some(_) if accept_comma => {
                        return Err(self.peek_error(if frame == b'[' {
                            EXPECTED_LIST_COMMA
                        } else {
                            EXPECTED_OBJECT_COMMA
                        }));
                    }
                    Some(_) => break,
                    None => {
                        return Err(self.peek_error(if frame == b'[' {
                            EOF_LIST
                        } else {
                            EOF_OBJECT
                        }));
                    }
                }
                self.index += 1;
                frame = match open.pop() {
                    Some(frame) => frame,
                    None => return Ok(()),
                };
                accept_comma = true;
            }
            if frame == b'{' {
                match self.whitespace() {
                    Some(b'"') => self.index += 1,
                    Some(_) => return Err(self.peek_error(KEY_MUST_BE_A_STRING)),
                    None => return Err(self.peek_error(EOF_OBJECT)),
                }
                self.ignore_str()?;
                match self.whitespace() {
                    Some(b':') => self.index += 1,
                    Some(_) => return Err(self.peek_error(EXPECTED_COLON)),
                    None => return Err(self.peek_error(EOF_OBJECT)),
                }
            }
            enclosing = Some(frame);
        }
    }

    /// Whether the object being read has another key (serde_json's
    /// `has_next_key`); its opening quote is left for [`Reader::key`].
    #[inline(always)]
    fn has_next_key(&mut self, first: &mut bool) -> Parsed<bool> {
        let peek = match self.whitespace() {
            None => return Err(self.peek_error(EOF_OBJECT)),
            Some(b'}') => return Ok(false),
            Some(peek) => peek,
        };
        if *first {
            *first = false;
            return if peek == b'"' {
                Ok(true)
            } else {
                Err(self.peek_error(KEY_MUST_BE_A_STRING))
            };
        }
        if peek != b',' {
            return Err(self.peek_error(EXPECTED_OBJECT_COMMA));
        }
        self.index += 1;
        match self.whitespace() {
            Some(b'"') => Ok(true),
            Some(b'}') => Err(self.peek_error(TRAILING_COMMA)),
            Some(_) => Err(self.peek_error(KEY_MUST_BE_A_STRING)),
            None => Err(self.peek_error(EOF_VALUE)),
        }
    }

    #[inline(always)]
    fn key(&mut self) -> Parsed<Cow<'de, str>> {
        self.index += 1;
        self.parse_str()
    }

    /// A key the walk only compares: the document's own bytes when it has no
    /// escapes (checked as UTF-8 only when not ASCII, with
    /// [`Reader::parse_str`]'s error at its position), else `None` with the
    /// reader back at the key, for [`Reader::key`] to decode it. Neither a
    /// `Cow` nor a call to `from_utf8` per key: the walk reads ~75 keys per
    /// typical request (BENCHMARKS.md, "One page of stack").
    #[inline(always)]
    fn raw_key(&mut self) -> Parsed<Option<&'de [u8]>> {
        let quote = self.index;
        self.index += 1;
        self.skip_to_escape();
        if self.peek() != Some(b'"') {
            self.index = quote;
            return Ok(None);
        }
        let bytes = self.bytes;
        let key = &bytes[quote + 1..self.index];
        self.index += 1;
        if !key.is_ascii() {
            std::str::from_utf8(key).map_err(|e| self.invalid_utf8(key.len(), e))?;
        }
        Ok(Some(key))
    }

    /// The colon after a key (serde_json's `parse_object_colon`).
    #[inline(always)]
    fn colon(&mut self) -> Parsed<()> {
        match self.whitespace() {
            Some(b':') => {
                self.index += 1;
                Ok(())
            }
            Some(_) => Err(self.peek_error(EXPECTED_COLON)),
            None => Err(self.peek_error(EOF_OBJECT)),
        }
    }

    /// Whether the array being read has another element (serde_json's
    /// `has_next_element`).
    fn has_next_element(&mut self, first: &mut bool) -> Parsed<bool> {
        let peek = match self.whitespace() {
            None => return Err(self.peek_error(EOF_LIST)),
            Some(b']') => return Ok(false),
            Some(peek) => peek,
        };
        if *first {
            *first = false;
            return Ok(true);
        }
        if peek != b',' {
            return Err(self.peek_error(EXPECTED_LIST_COMMA));
        }
        self.index += 1;
        match self.whitespace() {
            Some(b']') => Err(self.peek_error(TRAILING_COMMA)),
            Some(_) => Ok(true),
            None => Err(self.peek_error(EOF_VALUE)),
        }
    }

    /// Entering an array or object that is parsed (serde_json's
    /// `check_recursion`), at its opening bracket.
    fn enter(&mut self) -> Parsed<()> {
        self.remaining_depth -= 1;
        if self.remaining_depth == 0 {
            return Err(self.peek_error(RECURSION_LIMIT));
        }
        self.index += 1;
        Ok(())
    }

    /// Leaving it: its closing bracket, which `has_next_*` saw.
    fn leave(&mut self) {
        self.remaining_depth += 1;
        self.index += 1;
    }

    /// A key repeated where only one may be (serde's `duplicate_field`), at
    /// the position serde_json gives it: after the key, the whitespace and a
    /// closing brace its closing of the object skipped (`end_map` runs before
    /// the visitor's error gets its position; any other byte stays).
    fn duplicate(&mut self, field: &str) -> Error {
        if self.whitespace() == Some(b'}') {
            self.index += 1;
        }
        self.error_at(self.index, format!("duplicate field `{field}`"))
    }

    /// Nothing but whitespace after the document.
    fn end(&mut self) -> Parsed<()> {
        match self.whitespace() {
            Some(_) => Err(self.peek_error(TRAILING_CHARACTERS)),
            None => Ok(()),
        }
    }

    /// What `deserialize_any` reads first: the value's first byte, or the
    /// error when there is none that starts a value.
    #[inline(always)]
    fn value_start(&mut self) -> Parsed<u8> {
        match self.whitespace() {
            None => Err(self.peek_error(EOF_VALUE)),
            Some(byte @ (b'n' | b't' | b'f' | b'-' | b'0'..=b'9' | b'"' | b'[' | b'{')) => Ok(byte),
            Some(_) => Err(self.peek_error(EXPECTED_VALUE)),
        }
    }

    /// A value that is not an array or object (its first byte from
    /// [`Reader::value_start`]): `None` for `null`.
    fn scalar(&mut self, first: u8) -> Parsed<Option<Scalar<'de>>> {
        let start = self.index;
        Ok(Some(match first {
            b'"' => {
                self.index += 1;
                Scalar::Str(self.parse_str()?)
            }
            b'-' => {
                self.index += 1;
                Scalar::Number(self.parse_number(start)?)
            }
            b'0'..=b'9' => Scalar::Number(self.parse_number(start)?),
            _ => return Ok(self.literal()?.map(Scalar::Bool)),
        }))
    }
}

impl<'de> Reader<'de> {
    /// One value of the walked document (serde_json's `deserialize_any`
    /// with the walk's visitor).
    fn node(&mut self, node: Node<'_, '_, 'de>) -> Parsed<()> {
        match self.value_start()? {
            b'[' => {
                self.enter()?;
                self.walk_seq(node)?;
                self.leave();
                Ok(())
            }
            b'{' => {
                self.enter()?;
                self.walk_map(node)?;
                self.leave();
                Ok(())
            }
            first => {
                let end = match self.scalar(first)? {
                    None => {
                        if node.items {
                            node.state.walked.items = Items::Walked;
                        }
                        node.state.restart(node.mask, node.depth);
                        return Ok(());
                    }
                    Some(Scalar::Bool(b)) => Picked::Bool(b),
                    Some(Scalar::Str(s)) => Picked::Str(s),
                    Some(Scalar::Number(n)) => Picked::Number(n),
                };
                node.found(end);
                Ok(())
            }
        }
    }

    /// Never inlined into [`Reader::node`]: the item walk's [`State`] would
    /// sit in every level's frame of the recursion, and a typical UPDATE's
    /// seven levels then took a second 4 KiB page of stack, which a fresh
    /// instance pays as a page fault (BENCHMARKS.md, "One page of stack").
    #[inline(never)]
    fn walk_seq(&mut self, node: Node<'_, '_, 'de>) -> Parsed<()> {
        let mut first = true;
        let hooked = node.items && node.state.hook.is_some();
        let Some(hook) = node.state.hook.as_mut().filter(|_| hooked) else {
            while self.has_next_element(&mut first)? {
                self.ignore_value()?;
            }
            node.found(Picked::Array);
            return Ok(());
        };
        let mut item = State::new(hook.table);
        while self.has_next_element(&mut first)? {
            item.walked.root = Root::Null;
            item.restart(u64::MAX, 0);
            self.node(Node {
                mask: item.table.all(),
                trie: 0,
                state: &mut item,
                depth: 0,
                items: false,
                nested: false,
            })?;
            item.finish();
            (hook.each)(&item.walked);
        }
        node.state.walked.items = Items::Walked;
        Ok(())
    }

    fn walk_map(&mut self, node: Node<'_, '_, 'de>) -> Parsed<()> {
        let Node {
            state,
            mask,
            trie,
            depth,
            items,
            nested: in_nested,
        } = node;
        let (paths, table) = (state.table.paths, state.table);
        // The paths that end at this object, and the keys wanted in it, each
        // once with the paths that go on through it: the trie's node (`mask`
        // is its paths, or none in an object no path enters).
        let here = table.node(trie);
        let ending = paths_in(here.ending);
        let passing = mask & !ending;
        let wanted = table.keys(here);
        // What this object does not have is absent (a repeated key: the last
        // occurrence counts).
        state.restart(passing, depth);
        if let Some(entered) = state.entered.get_mut(depth) {
            *entered |= passing;
        }
        if depth == 0 {
            state.walked.root = Root::Object;
        }
        if items {
            state.walked.items = Items::Other(Found::Object);
        }
        let unique = state.unique.get(depth).copied().unwrap_or(0);
        let nested = state.nested.get(depth).copied().unwrap_or(0);
        let keys_of = state.nested_keys;
        let (mut seen, mut captured) = (0u64, false);
        let (mut first, mut keys) = (true, false);
        while self.has_next_key(&mut first)? {
            let decoded: Cow<'de, str>;
            let key = match self.raw_key()? {
                Some(key) => key,
                None => {
                    decoded = self.key()?;
                    decoded.as_bytes()
                }
            };
            keys = true;
            let (mut mask, mut child) = (0u64, NO_NODE);
            if let Some(edge) = wanted.iter().find(|edge| edge.key.as_bytes() == key) {
                (mask, child) = (paths_in(edge.paths), edge.child);
            }
            if mask & unique != 0 {
                if seen & mask != 0 {
                    let first_path = each_path(mask).next().unwrap_or(0);
                    return Err(self.duplicate(paths[first_path][depth]));
                }
                seen |= mask;
            }
            if depth == 0
                && let Some((capture, shape)) = state.capture
                && capture.as_bytes() == key
            {
                // Read whole, as a struct field: once.
                if captured {
                    return Err(self.duplicate(capture));
                }
                captured = true;
                self.colon()?;
                state.walked.captured = Some(self.tree(shape)?);
                continue;
            }
            let items =
                depth == 0 && (state.hook.as_ref()).is_some_and(|hook| hook.key.as_bytes() == key);
            let nested_object = mask & nested != 0
                || (in_nested && keys_of.objects.iter().any(|k| k.as_bytes() == key));
            let nested_value = in_nested && keys_of.values.iter().any(|k| k.as_bytes() == key);
            self.colon()?;
            if mask == 0 && !items && !nested_object && !nested_value {
                self.ignore_value()?;
                continue;
            }
            self.node(Node {
                state: &mut *state,
                mask,
                trie: child,
                depth: depth + 1,
                items,
                nested: nested_object,
            })?;
        }
        for i in each_path(ending) {
            state.end(i, Picked::Object { keys });
        }
        Ok(())
    }

    /// A [`Tree`] in `shape` (serde_json's `deserialize_any` with the tree's
    /// visitor).
    fn tree(&mut self, shape: &'static TreeShape) -> Parsed<Tree<'de>> {
        match self.value_start()? {
            b'[' => {
                self.enter()?;
                let mut first = true;
                let tree = if let TreeShape::List(item) = shape {
                    let mut items = Vec::new();
                    while self.has_next_element(&mut first)? {
                        items.push(self.tree(item)?);
                    }
                    Tree::Array(items)
                } else {
                    while self.has_next_element(&mut first)? {
                        self.ignore_value()?;
                    }
                    Tree::Skipped(Found::Array)
                };
                self.leave();
                Ok(tree)
            }
            b'{' => {
                self.enter()?;
                let mut first = true;
                let tree = if let TreeShape::Object(keys) = shape {
                    let mut entries = Vec::new();
                    while self.has_next_key(&mut first)? {
                        let key = self.key()?;
                        self.colon()?;
                        let value = match keys.iter().find(|(name, _)| *name == key) {
                            Some((_, shape)) => self.tree(shape)?,
                            None => {
                                self.ignore_value()?;
                                Tree::Unread
                            }
                        };
                        entries.push((key, value));
                    }
                    Tree::Object(entries)
                } else {
                    while self.has_next_key(&mut first)? {
                        self.key()?;
                        self.colon()?;
                        self.ignore_value()?;
                    }
                    Tree::Skipped(Found::Object)
                };
                self.leave();
                Ok(tree)
            }
            first => Ok(match self.scalar(first)? {
                None => Tree::Null,
                Some(Scalar::Bool(b)) => Tree::Bool(b),
                Some(Scalar::Str(s)) => Tree::Str(s),
                Some(Scalar::Number(n)) => Tree::Number(n),
            }),
        }
    }
}

/// Walks a JSON document for `table`'s paths (at most 64), and what `walk` asks
/// besides: each element of an array under a top-level key, handed to a
/// callback as soon as it is read (a list of thousands is never held), the
/// value of a top-level key read whole.
pub fn walk_json<'de>(
    json: &'de [u8],
    table: &'static PathTable,
    walk: Walk<'_, 'de>,
) -> Result<Walked<'de>, Error> {
    let mut state = State::new(table);
    state.hook = walk.items;
    state.capture = walk.capture;
    state.unique = walk.unique;
    state.nested = walk.nested;
    state.nested_keys = walk.nested_keys;
    let mut reader = Reader::new(json);
    reader.node(Node {
        mask: table.all(),
        trie: 0,
        state: &mut state,
        depth: 0,
        items: false,
        nested: false,
    })?;
    reader.end()?;
    state.finish();
    Ok(state.walked)
}

/// A small JSON value read whole (the settings) in the [`TreeShape`] the
/// caller gives: what the shape does not read is skipped, never parsed or
/// recursed into, as a struct's unknown fields are.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree<'de> {
    Null,
    Bool(bool),
    Number(f64),
    Str(Cow<'de, str>),
    Array(Vec<Tree<'de>>),
    /// In document order, repeated keys included.
    Object(Vec<(Cow<'de, str>, Tree<'de>)>),
    /// An array or object where the shape reads none: skipped.
    Skipped(Found),
    /// The value of a key the shape does not list: skipped.
    Unread,
}

/// What a [`Tree`] reads of a value.
#[derive(Debug)]
pub enum TreeShape {
    /// A string, boolean, number or `null`; an array or object is skipped.
    Scalar,
    /// An object whose listed keys are read in their shape; other keys are
    /// kept, their values skipped ([`Tree::Unread`]).
    Object(&'static [(&'static str, TreeShape)]),
    /// An array of values of one shape.
    List(&'static TreeShape),
}

impl<'de> Tree<'de> {
    /// Reads a whole document in `shape`.
    pub fn from_json(json: &'de [u8], shape: &'static TreeShape) -> Result<Tree<'de>, Error> {
        let mut reader = Reader::new(json);
        let tree = reader.tree(shape)?;
        reader.end()?;
        Ok(tree)
    }

    /// The value as a string, boolean or number field.
    #[inline(never)]
    pub fn scalar_field(&self) -> Field<Scalar<'de>> {
        match self {
            Tree::Null | Tree::Unread => Field::Absent,
            Tree::Bool(b) => Field::Present(Scalar::Bool(*b)),
            Tree::Number(n) => Field::Present(Scalar::Number(*n)),
            Tree::Str(text) => Field::Present(Scalar::Str(text.clone())),
            Tree::Array(_) => Field::Mistyped(Found::Array),
            Tree::Object(_) => Field::Mistyped(Found::Object),
            Tree::Skipped(found) => Field::Mistyped(found.clone()),
        }
    }
}

/// The reader this module had before: serde's visitors over serde_json's own
/// parser. Kept for the tests as the oracle the reader must agree with, on
/// every document, byte for byte in its errors.
#[cfg(test)]
pub(crate) mod serde_oracle {
    use super::*;
    use serde::de::{
        self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
    };

    impl<'de> DeserializeSeed<'de> for Node<'_, '_, 'de> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node<'_, '_, 'de> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            if self.items {
                self.state.walked.items = Items::Walked;
            }
            self.state.restart(self.mask, self.depth);
            Ok(())
        }
        fn visit_none<E: de::Error>(self) -> Result<(), E> {
            self.visit_unit()
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.found(Picked::Bool(v));
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.found(Picked::Number(v as f64));
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.found(Picked::Number(v as f64));
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            self.found(Picked::Number(v));
            Ok(())
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
            self.found(Picked::Str(Cow::Borrowed(v)));
            Ok(())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            // Strings with escapes cannot be borrowed from the input.
            self.found(Picked::Str(Cow::Owned(v.to_owned())));
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let hooked = self.items && self.state.hook.is_some();
            if !hooked {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                self.found(Picked::Array);
                return Ok(());
            }
            let Some(hook) = self.state.hook.as_mut() else {
                return Ok(());
            };
            let mut item = State::new(hook.table);
            loop {
                item.walked.root = Root::Null;
                item.restart(u64::MAX, 0);
                let node = Node {
                    mask: item.table.all(),
                    trie: NO_NODE,
                    state: &mut item,
                    depth: 0,
                    items: false,
                    nested: false,
                };
                if seq.next_element_seed(node)?.is_none() {
                    break;
                }
                item.finish();
                (hook.each)(&item.walked);
            }
            self.state.walked.items = Items::Walked;
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let paths = self.state.table.paths;
            // The paths that end at this object, and the keys wanted in it, each
            // once with the paths that go on through it (neighbouring paths
            // through the same object share its key's literal).
            // Worked out from the paths, not read from the trie: the oracle
            // checks the trie too.
            let (mut ending, mut passing) = (0u64, 0u64);
            let mut wanted: Vec<(&str, u64)> = Vec::new();
            for i in each_path(self.mask) {
                let Some(&want) = paths[i].get(self.depth) else {
                    ending |= 1 << i;
                    continue;
                };
                passing |= 1 << i;
                match wanted.last_mut() {
                    Some(last) if std::ptr::eq(last.0, want) => last.1 |= 1 << i,
                    _ => wanted.push((want, 1 << i)),
                }
            }
            // What this object does not have is absent (a repeated key: the last
            // occurrence counts).
            self.state.restart(passing, self.depth);
            if let Some(entered) = self.state.entered.get_mut(self.depth) {
                *entered |= passing;
            }
            if self.depth == 0 {
                self.state.walked.root = Root::Object;
            }
            if self.items {
                self.state.walked.items = Items::Other(Found::Object);
            }
            let unique = self.state.unique.get(self.depth).copied().unwrap_or(0);
            let nested = self.state.nested.get(self.depth).copied().unwrap_or(0);
            let keys_of = self.state.nested_keys;
            let (mut seen, mut captured) = (0u64, false);
            let mut keys = false;
            while let Some(key) = map.next_key_seed(Key)? {
                keys = true;
                let mut mask = 0u64;
                for (want, paths) in &wanted {
                    if *want == key {
                        mask |= paths;
                    }
                }
                if mask & unique != 0 {
                    if seen & mask != 0 {
                        let first = each_path(mask).next().unwrap_or(0);
                        return Err(de::Error::duplicate_field(paths[first][self.depth]));
                    }
                    seen |= mask;
                }
                if self.depth == 0
                    && let Some((capture, shape)) = self.state.capture
                    && capture == key
                {
                    // Read whole, as a struct field: once.
                    if captured {
                        return Err(de::Error::duplicate_field(capture));
                    }
                    captured = true;
                    self.state.walked.captured = Some(map.next_value_seed(TreeSeed(shape))?);
                    continue;
                }
                let items =
                    self.depth == 0 && self.state.hook.as_ref().is_some_and(|hook| hook.key == key);
                let nested_object = mask & nested != 0
                    || (self.nested && keys_of.objects.iter().any(|k| *k == key));
                let nested_value = self.nested && keys_of.values.iter().any(|k| *k == key);
                if mask == 0 && !items && !nested_object && !nested_value {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                map.next_value_seed(Node {
                    state: &mut *self.state,
                    mask,
                    trie: NO_NODE,
                    depth: self.depth + 1,
                    items,
                    nested: nested_object,
                })?;
            }
            for i in each_path(ending) {
                self.state.end(i, Picked::Object { keys });
            }
            Ok(())
        }
    }

    /// An object's key, borrowed from the document unless it has escapes
    /// (`Cow<str>`'s own `Deserialize` always allocates a `String`).
    struct Key;

    impl<'de> DeserializeSeed<'de> for Key {
        type Value = Cow<'de, str>;

        fn deserialize<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Cow<'de, str>, D::Error> {
            deserializer.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for Key {
        type Value = Cow<'de, str>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
    }

    /// Walks a JSON document for `paths` (at most 64), and what `walk` asks
    /// besides: each element of an array under a top-level key, handed to a
    /// callback as soon as it is read (a list of thousands is never held), the
    /// value of a top-level key read whole.
    pub fn walk_json<'de>(
        json: &'de [u8],
        table: &'static PathTable,
        walk: Walk<'_, 'de>,
    ) -> Result<Walked<'de>, serde_json::Error> {
        let mut state = State::new(table);
        state.hook = walk.items;
        state.capture = walk.capture;
        state.unique = walk.unique;
        state.nested = walk.nested;
        state.nested_keys = walk.nested_keys;
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        Node {
            mask: table.all(),
            trie: NO_NODE,
            state: &mut state,
            depth: 0,
            items: false,
            nested: false,
        }
        .deserialize(&mut deserializer)?;
        deserializer.end()?;
        state.finish();
        Ok(state.walked)
    }

    /// Reads a [`Tree`] in a shape.
    struct TreeSeed(&'static TreeShape);

    impl<'de> DeserializeSeed<'de> for TreeSeed {
        type Value = Tree<'de>;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree<'de>, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for TreeSeed {
        type Value = Tree<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Tree<'de>, E> {
            Ok(Tree::Null)
        }
        fn visit_none<E: de::Error>(self) -> Result<Tree<'de>, E> {
            Ok(Tree::Null)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree<'de>, E> {
            Ok(Tree::Bool(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree<'de>, E> {
            Ok(Tree::Number(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree<'de>, E> {
            Ok(Tree::Number(v as f64))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree<'de>, E> {
            Ok(Tree::Number(v))
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Tree<'de>, E> {
            Ok(Tree::Str(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree<'de>, E> {
            Ok(Tree::Str(Cow::Owned(v.to_owned())))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'de>, A::Error> {
            let TreeShape::List(item) = self.0 else {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Tree::Skipped(Found::Array));
            };
            let mut items = Vec::new();
            while let Some(value) = seq.next_element_seed(TreeSeed(item))? {
                items.push(value);
            }
            Ok(Tree::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'de>, A::Error> {
            let TreeShape::Object(keys) = self.0 else {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Tree::Skipped(Found::Object));
            };
            let mut entries = Vec::new();
            while let Some(key) = map.next_key_seed(Key)? {
                let value = match keys.iter().find(|(name, _)| *name == key) {
                    Some((_, shape)) => map.next_value_seed(TreeSeed(shape))?,
                    None => {
                        map.next_value::<IgnoredAny>()?;
                        Tree::Unread
                    }
                };
                entries.push((key, value));
            }
            Ok(Tree::Object(entries))
        }
    }

    /// [`Tree::from_json`] as it was.
    pub fn tree_from_json<'de>(
        json: &'de [u8],
        shape: &'static TreeShape,
    ) -> Result<Tree<'de>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let tree = TreeSeed(shape).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(tree)
    }
}

/// Checks the trie below `node`, reached by `prefix`, against the paths
/// themselves; returns the nodes it saw. For the tests of every layer that
/// declares a [`PathTable`].
#[cfg(test)]
pub(crate) fn check_trie(table: &PathTable, node: u8, prefix: &[&str]) -> usize {
    let paths = table.paths;
    let begins = |path: &Path| path.len() >= prefix.len() && path[..prefix.len()] == *prefix;
    let here = table.node(node);
    let ending = (0..paths.len())
        .filter(|&i| begins(&paths[i]) && paths[i].len() == prefix.len())
        .fold(0u64, |set, i| set | 1 << i);
    assert_eq!(paths_in(here.ending), ending, "paths ending at {prefix:?}");
    let mut keys: Vec<&str> = Vec::new();
    for path in paths
        .iter()
        .filter(|path| begins(path) && path.len() > prefix.len())
    {
        if !keys.contains(&path[prefix.len()]) {
            keys.push(path[prefix.len()]);
        }
    }
    let edges = table.keys(here);
    assert_eq!(
        edges.iter().map(|edge| edge.key).collect::<Vec<_>>(),
        keys,
        "keys wanted at {prefix:?}"
    );
    let mut seen = 1;
    for edge in edges {
        let below = [prefix, &[edge.key]].concat();
        let through = (0..paths.len())
            .filter(|&i| paths[i].len() >= below.len() && paths[i][..below.len()] == *below)
            .fold(0u64, |set, i| set | 1 << i);
        assert_eq!(paths_in(edge.paths), through, "paths through {below:?}");
        seen += check_trie(table, edge.child, &below);
    }
    seen
}

/// [`check_trie`] over a whole table.
#[cfg(test)]
pub(crate) fn assert_is_the_trie_of_its_paths(table: &PathTable) {
    let nodes = check_trie(table, 0, &[]);
    assert_eq!(nodes, table.nodes.len());
    assert_eq!(nodes, trie_nodes(table.paths));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const PATHS: &PathTable = &path_table!(&[
        &["kind"],
        &["status", "schemaVersion"],
        &["metadata", "annotations", "documentdb.io/schema-version"],
    ]);

    fn picked(json: &str) -> (Root, Vec<Picked<'_>>) {
        let walked = walk_json(json.as_bytes(), PATHS, Walk::default()).unwrap();
        (walked.root, walked.picked)
    }

    fn text(s: &str) -> Picked<'_> {
        Picked::Str(Cow::Borrowed(s))
    }

    #[test]
    fn reads_the_paths_and_skips_the_rest() {
        let (root, found) = picked(
            r#"{"kind":"Backup","spec":{"x":[1,{"y":null}]},"status":{"phase":"completed","schemaVersion":"0.112.0"},
                "metadata":{"name":"n","annotations":{"a":"b","documentdb.io/schema-version":"0.110.0"}}}"#,
        );
        assert_eq!(root, Root::Object);
        assert_eq!(found, [text("Backup"), text("0.112.0"), text("0.110.0")]);
    }

    fn absent(depth: usize) -> Picked<'static> {
        Picked::Absent { depth }
    }

    #[rstest]
    #[case::empty_object("{}", [absent(1), absent(1), absent(1)])]
    #[case::nulls(r#"{"kind":null,"status":null,"metadata":{"annotations":null}}"#, [absent(1), absent(1), absent(2)])]
    #[case::empty_string(r#"{"kind":""}"#, [text(""), absent(1), absent(1)])]
    #[case::wrong_end(
        r#"{"kind":7,"status":{"schemaVersion":true}}"#,
        [Picked::Number(7.0), Picked::Bool(true), absent(1)]
    )]
    #[case::wrong_way(
        r#"{"status":"done","metadata":{"annotations":[]}}"#,
        [absent(1), Picked::Mistyped { depth: 1, found: Found::String("\"done\"".into()) }, Picked::Mistyped { depth: 2, found: Found::Array }]
    )]
    #[case::object_at_the_end(r#"{"kind":{"a":1}}"#, [Picked::Object { keys: true }, absent(1), absent(1)])]
    #[case::escaped(r#"{"kind":"Ba\u0063kup"}"#, [Picked::Str(Cow::Owned("Backup".into())), absent(1), absent(1)])]
    #[case::last_key_counts(r#"{"status":"x","status":{"schemaVersion":"1"},"kind":"a","kind":null}"#, [absent(1), text("1"), absent(1)])]
    fn every_path_ends_somewhere(#[case] json: &str, #[case] expected: [Picked<'static>; 3]) {
        assert_eq!(picked(json).1, expected);
    }

    /// A string path reads as the old walk did: `""` is absent, any other
    /// type is mistyped where it was found.
    #[rstest]
    #[case::absent(absent(1), Ok(None))]
    #[case::empty(text(""), Ok(None))]
    #[case::text(text("v"), Ok(Some("v")))]
    #[case::at_the_end(Picked::Number(1.0), Err((2, Found::Number)))]
    #[case::object_at_the_end(Picked::Object { keys: false }, Err((2, Found::Object)))]
    #[case::on_the_way(Picked::Mistyped { depth: 1, found: Found::Array }, Err((1, Found::Array)))]
    fn strings_at_the_end_of_a_path(
        #[case] picked: Picked<'static>,
        #[case] expected: Result<Option<&str>, (usize, Found)>,
    ) {
        assert_eq!(picked.string(2), expected);
    }

    /// `spec` (depth 1) on the path `spec.image.documentDB` (3 keys).
    #[rstest]
    #[case::spec_absent(absent(1), Field::Absent)]
    #[case::image_absent(absent(2), Field::Present(()))]
    #[case::value_there(text("x"), Field::Present(()))]
    #[case::spec_mistyped(Picked::Mistyped { depth: 1, found: Found::Array }, Field::Mistyped(Found::Array))]
    #[case::image_mistyped(Picked::Mistyped { depth: 2, found: Found::Array }, Field::Present(()))]
    #[case::root_mistyped(Picked::Mistyped { depth: 0, found: Found::Array }, Field::Absent)]
    fn objects_on_the_way(#[case] picked: Picked<'static>, #[case] expected: Field<()>) {
        assert_eq!(picked.object_at(1, 3), expected);
    }

    #[test]
    fn repeated_unique_keys_are_a_json_error() {
        let walk = || Walk {
            unique: &[0, 0b10],
            ..Walk::default()
        };
        let error = walk_json(
            br#"{"status":{"schemaVersion":"1","schemaVersion":"2"}}"#,
            PATHS,
            walk(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "duplicate field `schemaVersion` at line 1 column 46"
        );
        // A closing brace right after the repeated key is eaten first, as
        // serde_json's `end_map` does before the error gets its position.
        let error = walk_json(
            br#"{"status":{"schemaVersion":"1","schemaVersion" }}"#,
            PATHS,
            walk(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "duplicate field `schemaVersion` at line 1 column 48"
        );
        let oracle = serde_oracle::walk_json(
            br#"{"status":{"schemaVersion":"1","schemaVersion" }}"#,
            PATHS,
            walk(),
        );
        assert_eq!(oracle.unwrap_err().to_string(), error.to_string());
    }

    const SHAPE: TreeShape = TreeShape::Object(&[
        ("flag", TreeShape::Scalar),
        ("list", TreeShape::List(&TreeShape::Scalar)),
    ]);

    #[test]
    fn a_tree_reads_its_shape_and_skips_the_rest_unparsed() {
        let tree = Tree::from_json(
            br#"{"flag":[1,{"a":2}],"list":["a",["b"],{"c":1},null],"other":1e999}"#,
            &SHAPE,
        )
        .unwrap();
        let Tree::Object(entries) = tree else {
            panic!("{tree:?}")
        };
        assert_eq!(
            entries,
            [
                (Cow::Borrowed("flag"), Tree::Skipped(Found::Array)),
                (
                    Cow::Borrowed("list"),
                    Tree::Array(vec![
                        Tree::Str(Cow::Borrowed("a")),
                        Tree::Skipped(Found::Array),
                        Tree::Skipped(Found::Object),
                        Tree::Null,
                    ])
                ),
                (Cow::Borrowed("other"), Tree::Unread),
            ]
        );
        // What the shape reads is parsed: a number beyond f64 is an error there.
        assert!(Tree::from_json(br#"{"flag":1e999}"#, &SHAPE).is_err());
    }

    #[rstest]
    #[case::null("null", Root::Null)]
    #[case::array("[1]", Root::Other(Found::Array))]
    #[case::string(r#""x""#, Root::Other(Found::String("\"x\"".into())))]
    fn the_root_is_reported(#[case] json: &str, #[case] expected: Root) {
        assert_eq!(picked(json).0, expected);
    }

    #[test]
    fn garbage_is_a_json_error() {
        assert!(walk_json(b"{\"kind\":", PATHS, Walk::default()).is_err());
        assert!(walk_json(b"{} trailing", PATHS, Walk::default()).is_err());
    }

    const ITEM_PATHS: &PathTable = &path_table!(&[&["metadata", "name"], &["status", "v"]]);

    #[test]
    fn a_path_table_is_the_trie_of_its_paths() {
        for table in [
            PATHS,
            TANGLED,
            ITEM_PATHS,
            &PathTable::EMPTY,
            WIDEST,
            DEEPEST,
        ] {
            assert_is_the_trie_of_its_paths(table);
        }
        assert_eq!(WIDEST.paths.len(), 64);
        assert_eq!(paths_in(WIDEST.keys(WIDEST.node(0))[0].paths), u64::MAX);
    }

    /// 64 paths, the most a walk takes: all through `a`, 21 each to `x`, `y`
    /// and `z`, the last ending at `a`.
    const WIDEST: &PathTable = &path_table!(&{
        let mut paths: [Path; 64] = [&["a"]; 64];
        let mut i = 0;
        while i < 63 {
            paths[i] = match i / 21 {
                0 => &["a", "x"],
                1 => &["a", "y"],
                _ => &["a", "z"],
            };
            i += 1;
        }
        paths
    });

    /// A path of the most keys a walk follows.
    const DEEPEST: &PathTable =
        &path_table!(&[&["a", "b", "c", "d", "e", "f", "g", "h"], &["a", "b", "x"]]);

    #[test]
    #[should_panic(
        expected = "paths that begin alike, and a path listed twice, must be neighbours in a path table"
    )]
    fn paths_that_begin_alike_must_be_neighbours() {
        // `a.x`, `b`, `a.y`: the paths through `a` are not a range.
        range_of(0b101);
    }

    fn items(json: &str) -> (Items, Vec<Vec<Picked<'static>>>) {
        let json: &'static str = Box::leak(json.to_owned().into_boxed_str());
        let mut seen = Vec::new();
        let mut each = |item: &Walked<'static>| seen.push(item.picked.clone());
        let items = EachItem {
            key: "items",
            table: ITEM_PATHS,
            each: &mut each,
        };
        let walk = Walk {
            items: Some(items),
            ..Walk::default()
        };
        let walked = walk_json(json.as_bytes(), &PathTable::EMPTY, walk).unwrap();
        (walked.items, seen)
    }

    #[test]
    fn items_are_walked_one_by_one() {
        let (state, seen) = items(
            r#"{"kind":"NodeList","items":[{"metadata":{"name":"a"},"status":{"v":"1"}},{"metadata":{"name":"b"}},"x",{"status":{"v":[]}}]}"#,
        );
        assert_eq!(state, Items::Walked);
        assert_eq!(
            seen,
            [
                vec![text("a"), text("1")],
                vec![text("b"), absent(1)],
                vec![
                    Picked::Mistyped {
                        depth: 0,
                        found: Found::String("\"x\"".into())
                    },
                    Picked::Mistyped {
                        depth: 0,
                        found: Found::String("\"x\"".into())
                    }
                ],
                vec![absent(1), Picked::Array],
            ]
        );
    }

    #[rstest]
    #[case::missing(r#"{"kind":"NodeList"}"#, Items::Missing)]
    #[case::null(r#"{"items":null}"#, Items::Walked)]
    #[case::object(r#"{"items":{}}"#, Items::Other(Found::Object))]
    #[case::nested_items_are_not_the_list(r#"{"metadata":{"items":[1]}}"#, Items::Missing)]
    fn the_items_array_is_reported(#[case] json: &str, #[case] expected: Items) {
        assert_eq!(items(json).0, expected);
    }

    /// A JSON value as text, with repeated keys (which `serde_json::Value`
    /// cannot hold), for the walk's property test.
    #[derive(Debug, Clone)]
    enum Doc {
        Null,
        Bool(bool),
        Number(u8),
        Str(&'static str),
        Array,
        Object(Vec<(&'static str, Doc)>),
        /// JSON text as it is (the differential test's edge cases).
        Raw(&'static str),
    }

    impl Doc {
        fn text(&self) -> String {
            match self {
                Doc::Null => "null".to_owned(),
                Doc::Bool(b) => b.to_string(),
                Doc::Number(n) => n.to_string(),
                Doc::Str(s) => format!("{s:?}"),
                Doc::Array => "[1,{\"a\":null}]".to_owned(),
                Doc::Raw(text) => (*text).to_owned(),
                Doc::Object(entries) => {
                    let entries: Vec<String> = entries
                        .iter()
                        .map(|(k, v)| format!("{k:?}:{}", v.text()))
                        .collect();
                    format!("{{{}}}", entries.join(","))
                }
            }
        }

        /// What a path finds, read the plain way: down the last occurrence
        /// of each key.
        fn expected(&self, path: &[&str], depth: usize) -> Picked<'static> {
            let end = match self {
                Doc::Null => return Picked::Absent { depth },
                Doc::Bool(b) => Picked::Bool(*b),
                Doc::Number(n) => Picked::Number(f64::from(*n)),
                Doc::Str(s) => Picked::Str(Cow::Borrowed(s)),
                Doc::Array => Picked::Array,
                Doc::Raw(_) => unreachable!("raw leaves are for the differential test"),
                Doc::Object(entries) if depth < path.len() => {
                    return match entries.iter().rev().find(|(k, _)| *k == path[depth]) {
                        Some((_, value)) => value.expected(path, depth + 1),
                        None => Picked::Absent { depth: depth + 1 },
                    };
                }
                Doc::Object(entries) => Picked::Object {
                    keys: !entries.is_empty(),
                },
            };
            if depth == path.len() {
                end
            } else {
                Picked::Mistyped {
                    depth,
                    found: end.found(),
                }
            }
        }
    }

    fn doc() -> impl proptest::strategy::Strategy<Value = Doc> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Doc::Null),
            any::<bool>().prop_map(Doc::Bool),
            any::<u8>().prop_map(Doc::Number),
            prop_oneof![Just("x"), Just(""), Just("a\"b")].prop_map(Doc::Str),
            Just(Doc::Array),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            let key = prop_oneof![Just("a"), Just("b"), Just("c")];
            proptest::collection::vec((key, inner), 0..5).prop_map(Doc::Object)
        })
    }

    /// Paths that share keys and prefixes, end at every depth, and go through
    /// each other's ends.
    const TANGLED: &PathTable = &path_table!(&[
        &[],
        &["a"],
        &["a", "b"],
        &["a", "b", "c"],
        &["a", "c"],
        &["b", "a", "a"],
        &["b", "a", "b", "c"],
        &["c"],
    ]);

    /// Numbers and strings at the edges of what serde_json accepts, and
    /// nesting.
    const RAW: &[&str] = &[
        "0",
        "-0",
        "1.5e3",
        "1E+2",
        "-1e-400",
        "1e400",
        "2e308",
        "123456789012345678901234567890",
        "123456789012345678901234567890.5e-10",
        "0.1000000000000000055511151231257827",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "1e2147483648",
        "0e2147483648",
        "1e-2147483648",
        "-",
        "01",
        "1.",
        "1e",
        "1e+",
        "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\"",
        "\"\\udc00\"",
        "\"\\ud83dx\"",
        "\"\\ud83d\\x\"",
        "\"\\u12\"",
        "\"a\\/b\\n\\t\\\"\"",
        "\"\u{e9}\"",
        "[[[[]]]]",
        "{\"a\":[1,2,{\"b\":\"c\"}]}",
        "[1,]",
        "{\"a\":1,}",
        "tru",
        "nul",
    ];

    /// Numbers whose value or range the two roundings disagree on, read
    /// only where the oracle rounds as the module does.
    const RAW_AS_THE_MODULE_ROUNDS: &[&str] = &["1.7976931348623157e308", "1.7976931348623158e308"];

    fn raw_doc() -> impl proptest::strategy::Strategy<Value = Doc> {
        use proptest::prelude::*;
        let mut raw = RAW.to_vec();
        if !oracle_rounds_exactly() {
            raw.extend_from_slice(RAW_AS_THE_MODULE_ROUNDS);
        }
        let leaf = prop_oneof![
            3 => doc(),
            1 => proptest::sample::select(raw).prop_map(Doc::Raw),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            let key = prop_oneof![Just("a"), Just("b"), Just("c")];
            proptest::collection::vec((key, inner), 0..4).prop_map(Doc::Object)
        })
    }

    /// Bytes an edit puts in: JSON's punctuation, the starts of values, and
    /// bytes JSON forbids or that are not UTF-8.
    const EDIT_BYTES: &[u8] = b"{}[]:,\"\\ -0123456789.eE+tfnulab\x01\n\t\xc3\xa9\xff";

    /// `text` with each edit: (where, what, how: replace, insert, delete,
    /// cut the rest).
    fn edited(text: &str, edits: &[(usize, usize, u8)]) -> Vec<u8> {
        let mut bytes = text.as_bytes().to_vec();
        for &(at, byte, how) in edits {
            let at = at % (bytes.len() + 1);
            let byte = EDIT_BYTES[byte % EDIT_BYTES.len()];
            match how % 4 {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                3 => bytes.truncate(at),
                _ => {}
            }
        }
        bytes
    }

    static SETTINGS_ITEM: TreeShape = TreeShape::Scalar;
    static SETTINGS: TreeShape = TreeShape::Object(&[
        ("a", TreeShape::Scalar),
        ("b", TreeShape::List(&SETTINGS_ITEM)),
    ]);

    /// Everything a walk can be asked, over [`TANGLED`]: `c` read whole as a
    /// tree, `b`'s elements walked one by one, the paths through `a` unique
    /// at the top, and objects under `b.a` read with nested keys.
    fn walk_both(text: &[u8]) -> (String, String) {
        let run = |new: bool| {
            let mut items = Vec::new();
            let mut each = |walked: &Walked<'_>| items.push(format!("{walked:?}"));
            let walk = Walk {
                items: Some(EachItem {
                    key: "b",
                    table: TANGLED,
                    each: &mut each,
                }),
                capture: Some(("c", &SETTINGS)),
                unique: &[0b0001_1110, 0b0000_0100],
                nested: &[0, 0b0110_0000],
                nested_keys: Nested {
                    objects: &["a"],
                    values: &["b"],
                },
            };
            let result = if new {
                walk_json(text, TANGLED, walk).map_err(|e| e.to_string())
            } else {
                serde_oracle::walk_json(text, TANGLED, walk).map_err(|e| e.to_string())
            };
            comparable(format!("{result:?} {items:?}"))
        };
        (run(true), run(false))
    }

    fn tree_both(text: &[u8]) -> (String, String) {
        let new = Tree::from_json(text, &SETTINGS).map_err(|e| e.to_string());
        let old = serde_oracle::tree_from_json(text, &SETTINGS).map_err(|e| e.to_string());
        (
            comparable(format!("{new:?}")),
            comparable(format!("{old:?}")),
        )
    }

    /// Whether serde_json in this test build rounds every number exactly (its
    /// `float_roundtrip` feature, which `cargo test --workspace` turns on:
    /// sigstore's canonicaliser asks for it). The module is built without it,
    /// and the reader reads numbers as the module always has. `make
    /// unit-tests` also runs these tests in the policy crate's own build
    /// (`cargo test -p documentdb-upgrade-safety --lib json::`), where the
    /// oracle rounds as the module does and every number is compared.
    fn oracle_rounds_exactly() -> bool {
        const PROBE: &str = "123456789012345678901234567890e-2";
        serde_json::from_str::<f64>(PROBE).ok() == PROBE.parse::<f64>().ok()
    }

    /// A result as compared: as printed, or, when the oracle rounds exactly,
    /// with each number cut to 12 significant digits (the two roundings
    /// differ in the last bits of numbers beyond 2^53).
    fn comparable(printed: String) -> String {
        if !oracle_rounds_exactly() {
            return printed;
        }
        let mut out = String::new();
        let mut rest = printed.as_str();
        while let Some(at) = rest.find("Number(") {
            let (head, tail) = rest.split_at(at + "Number(".len());
            out.push_str(head);
            let end = tail.find(')').unwrap_or(tail.len());
            match tail[..end].parse::<f64>() {
                Ok(number) => out.push_str(&format!("{number:.11e}")),
                Err(_) => out.push_str(&tail[..end]),
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    /// Every power of ten, both ways, scaling short and long significands.
    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        if oracle_rounds_exactly() {
            eprintln!(
                "numbers_read_as_serde_json_reads_them: not compared in this build (serde_json \
                 rounds exactly here, the module's does not); `make unit-tests` compares them \
                 in the policy crate's own build"
            );
            return;
        }
        for exponent in 0..=400 {
            for number in [
                format!("1e{exponent}"),
                format!("1e-{exponent}"),
                format!("12345.678e{exponent}"),
                format!("-9.87654321e-{exponent}"),
                format!("123456789012345678901234567890e-{exponent}"),
            ] {
                let (new, old) = tree_both(number.as_bytes());
                assert_eq!(new, old, "{number}");
            }
        }
    }

    #[rstest]
    fn nesting_is_limited_as_serde_json_limits_it(
        #[values(1, 2, 126, 127, 128, 129, 200, 2000)] levels: usize,
        #[values(
            "[",
            "{\"a\":",
            "{\"b\":",
            "{\"c\":",
            "{\"b\":{\"a\":",
            "{\"c\":{\"b\":["
        )]
        open: &str,
    ) {
        let close: String = open
            .chars()
            .rev()
            .filter_map(|c| match c {
                '[' => Some(']'),
                '{' => Some('}'),
                _ => None,
            })
            .collect();
        let text = format!("{}1{}", open.repeat(levels), close.repeat(levels));
        let (new, old) = walk_both(text.as_bytes());
        assert_eq!(new, old, "{levels} × {open}");
        let (new, old) = tree_both(text.as_bytes());
        assert_eq!(new, old, "{levels} × {open}");
    }

    proptest::proptest! {
        /// Every path finds what reading down the last occurrence of each key
        /// finds, whatever the nesting, types and repeated keys on the way.
        #[test]
        fn a_walk_finds_what_the_last_occurrences_hold(doc in doc()) {
            let text = doc.text();
            let walked = walk_json(text.as_bytes(), TANGLED, Walk::default()).unwrap();
            let expected: Vec<Picked<'_>> =
                TANGLED.paths.iter().map(|path| doc.expected(path, 0)).collect();
            proptest::prop_assert_eq!(walked.picked, expected, "{}", text);
        }

        /// The reader answers every document, edited or not, as serde_json's
        /// parser under serde's visitors did: the same values, or the same
        /// error at the same line and column.
        #[test]
        fn the_reader_answers_as_serde_json_did(
            doc in raw_doc(),
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 0..3),
        ) {
            let text = edited(&doc.text(), &edits);
            let (new, old) = walk_both(&text);
            proptest::prop_assert_eq!(new, old, "{}", String::from_utf8_lossy(&text));
            let (new, old) = tree_both(&text);
            proptest::prop_assert_eq!(new, old, "{}", String::from_utf8_lossy(&text));
        }
    }
}
