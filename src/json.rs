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
//! One visitor serves every path set (the paths are data, not types), so the
//! module carries one copy of serde_json's parsing for all of them; a derived
//! struct per level, or a generic field reader per type, costs a copy per type
//! (about 1.4 KB each; BENCHMARKS.md, "Size"). The only other reader is
//! [`Tree`], for the few small values read whole (the settings).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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

/// Each element of the array under the top-level `key` is walked with
/// `paths`, then given to `each`.
pub struct EachItem<'h, 'de> {
    pub key: &'static str,
    pub paths: &'static [Path],
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
    paths: &'static [Path],
    walked: Walked<'de>,
    /// Paths whose value was found (or blocked): `walked.picked` holds it.
    ended: u64,
    /// Per depth, the paths whose object at that depth is present (in the
    /// last occurrence of each key on the way).
    entered: [u64; DEPTHS],
    /// The keys wanted in each object being read, from the outermost: each
    /// key once, with its paths. Kept here rather than in each object's
    /// stack frame: a frame of 64 slots for the few keys of an object cost
    /// stack pages, which a fresh instance pays for as page faults
    /// (BENCHMARKS.md, "Speeding up the one reader").
    wanted: Vec<(&'static str, u64)>,
    hook: Option<EachItem<'h, 'de>>,
    capture: Option<(&'static str, &'static TreeShape)>,
    unique: &'static [u64],
    nested: &'static [u64],
    nested_keys: Nested,
}

impl<'de> State<'_, 'de> {
    fn new(paths: &'static [Path]) -> Self {
        assert!(paths.len() <= 64, "at most 64 paths per walk");
        // `entered` has one mask per depth: a longer path would lose track of
        // its objects. Checked in the tests' builds, which walk every table.
        debug_assert!(
            paths.iter().all(|path| path.len() <= DEPTHS),
            "at most {DEPTHS} keys per path"
        );
        State {
            paths,
            walked: Walked {
                root: Root::Null,
                picked: std::iter::repeat_with(Picked::default)
                    .take(paths.len())
                    .collect(),
                items: Items::Missing,
                captured: None,
            },
            ended: 0,
            entered: [0; DEPTHS],
            wanted: Vec::with_capacity(32),
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
fn all_paths(count: usize) -> u64 {
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
        let (paths, depth) = (state.paths, self.depth);
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
        let mut item = State::new(hook.paths);
        loop {
            item.walked.root = Root::Null;
            item.restart(u64::MAX, 0);
            let node = Node {
                mask: all_paths(item.paths.len()),
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
        let paths = self.state.paths;
        // The paths that end at this object, and the keys wanted in it, each
        // once with the paths that go on through it (neighbouring paths
        // through the same object share its key's literal).
        let (mut ending, mut passing) = (0u64, 0u64);
        let start = self.state.wanted.len();
        for i in each_path(self.mask) {
            let Some(&want) = paths[i].get(self.depth) else {
                ending |= 1 << i;
                continue;
            };
            passing |= 1 << i;
            let wanted = &mut self.state.wanted;
            let here = wanted.len() > start;
            match wanted.last_mut() {
                Some(last) if here && std::ptr::eq(last.0, want) => last.1 |= 1 << i,
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
            for (want, paths) in &self.state.wanted[start..] {
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
            let nested_object =
                mask & nested != 0 || (self.nested && keys_of.objects.iter().any(|k| *k == key));
            let nested_value = self.nested && keys_of.values.iter().any(|k| *k == key);
            if mask == 0 && !items && !nested_object && !nested_value {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(Node {
                state: &mut *self.state,
                mask,
                depth: self.depth + 1,
                items,
                nested: nested_object,
            })?;
        }
        self.state.wanted.truncate(start);
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

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
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
    paths: &'static [Path],
    walk: Walk<'_, 'de>,
) -> Result<Walked<'de>, serde_json::Error> {
    let mut state = State::new(paths);
    state.hook = walk.items;
    state.capture = walk.capture;
    state.unique = walk.unique;
    state.nested = walk.nested;
    state.nested_keys = walk.nested_keys;
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    Node {
        mask: all_paths(paths.len()),
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
    pub fn from_json(
        json: &'de [u8],
        shape: &'static TreeShape,
    ) -> Result<Tree<'de>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let tree = TreeSeed(shape).deserialize(&mut deserializer)?;
        deserializer.end()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const PATHS: &[Path] = &[
        &["kind"],
        &["status", "schemaVersion"],
        &["metadata", "annotations", "documentdb.io/schema-version"],
    ];

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
        let walk = Walk {
            unique: &[0, 0b10],
            ..Walk::default()
        };
        let error = walk_json(
            br#"{"status":{"schemaVersion":"1","schemaVersion":"2"}}"#,
            PATHS,
            walk,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "duplicate field `schemaVersion` at line 1 column 46"
        );
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

    const ITEM_PATHS: &[Path] = &[&["metadata", "name"], &["status", "v"]];

    fn items(json: &str) -> (Items, Vec<Vec<Picked<'static>>>) {
        let json: &'static str = Box::leak(json.to_owned().into_boxed_str());
        let mut seen = Vec::new();
        let mut each = |item: &Walked<'static>| seen.push(item.picked.clone());
        let items = EachItem {
            key: "items",
            paths: ITEM_PATHS,
            each: &mut each,
        };
        let walk = Walk {
            items: Some(items),
            ..Walk::default()
        };
        let walked = walk_json(json.as_bytes(), &[], walk).unwrap();
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
    }

    impl Doc {
        fn text(&self) -> String {
            match self {
                Doc::Null => "null".to_owned(),
                Doc::Bool(b) => b.to_string(),
                Doc::Number(n) => n.to_string(),
                Doc::Str(s) => format!("{s:?}"),
                Doc::Array => "[1,{\"a\":null}]".to_owned(),
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
    const TANGLED: &[Path] = &[
        &[],
        &["a"],
        &["a", "b"],
        &["a", "b", "c"],
        &["a", "c"],
        &["b", "a", "a"],
        &["b", "a", "b", "c"],
        &["c"],
    ];

    proptest::proptest! {
        /// Every path finds what reading down the last occurrence of each key
        /// finds, whatever the nesting, types and repeated keys on the way.
        #[test]
        fn a_walk_finds_what_the_last_occurrences_hold(doc in doc()) {
            let text = doc.text();
            let walked = walk_json(text.as_bytes(), TANGLED, Walk::default()).unwrap();
            let expected: Vec<Picked<'_>> =
                TANGLED.iter().map(|path| doc.expected(path, 0)).collect();
            proptest::prop_assert_eq!(walked.picked, expected, "{}", text);
        }
    }
}
