//! Reads a few strings at fixed paths of a JSON document in one pass, skipping
//! everything else, without failing on a wrong type: every path ends
//! [`Picked::Absent`], [`Picked::Text`] or [`Picked::Mistyped`] with where and
//! what was found.
//!
//! One visitor serves every path set (the paths are data, not types), so the
//! module carries one copy of serde_json's parsing for all of them: the host's
//! answers (a Backup, a PersistentVolume, thousands of Nodes, read item by
//! item) and the request's `spec.bootstrap` and `userInfo`. A derived struct
//! per level would cost a copy per struct (about 25 KB for these).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::json::Found;
use crate::text::quote;

/// A path: the keys from the walked value down to a string.
pub type Path = &'static [&'static str];

/// What a walk found at one path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Picked<'de> {
    /// Absent or `null` at the end or on the way, or `""`.
    #[default]
    Absent,
    Text(Cow<'de, str>),
    /// The value at the first `depth` keys of the path (the walked value
    /// itself when 0) is of another JSON type: an object on the way, a
    /// string at the end.
    Mistyped {
        depth: usize,
        found: Found,
    },
}

impl Picked<'_> {
    pub fn text(&self) -> Option<&str> {
        match self {
            Picked::Text(text) => Some(text),
            _ => None,
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

/// One walk's paths and what was found. The default (a field that was
/// absent) has nothing picked: read `picked` with `get`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked<'de> {
    pub root: Root,
    /// In the order of the paths.
    pub picked: Vec<Picked<'de>>,
    pub items: Items,
}

/// A walk in progress: the paths, the results, and the items hook.
struct State<'h, 'de> {
    paths: &'static [Path],
    walked: Walked<'de>,
    hook: Option<EachItem<'h, 'de>>,
}

/// Each element of the array under the top-level `key` is walked with
/// `paths`, then given to `each`.
pub struct EachItem<'h, 'de> {
    pub key: &'static str,
    pub paths: &'static [Path],
    pub each: &'h mut dyn FnMut(&Walked<'de>),
}

impl<'de> State<'_, 'de> {
    fn new(paths: &'static [Path]) -> Self {
        State {
            paths,
            walked: Walked {
                root: Root::Null,
                picked: vec![Picked::Absent; paths.len()],
                items: Items::Missing,
            },
            hook: None,
        }
    }
}

/// Paths with their bit set in `mask` (at most 64 paths).
fn each_path(mask: u64, count: usize) -> impl Iterator<Item = usize> {
    let mask = if count >= 64 {
        mask
    } else {
        mask & ((1u64 << count) - 1)
    };
    std::iter::successors((mask != 0).then_some(mask), |m| {
        let next = m & (m - 1);
        (next != 0).then_some(next)
    })
    .map(|m| m.trailing_zeros() as usize)
}

/// One value of the document, at `depth` keys below the walked value, with the
/// paths that lead through it.
struct Node<'s, 'h, 'de> {
    state: &'s mut State<'h, 'de>,
    mask: u64,
    depth: usize,
    /// This value is the hooked array.
    items: bool,
}

impl<'de> Node<'_, '_, 'de> {
    /// Every path ending here (which wants a string) or passing through (which
    /// wants an object) found `found` instead; `text` is the value when a string.
    fn found(self, found: Found, text: Option<Cow<'de, str>>) {
        let state = self.state;
        if self.depth == 0 {
            state.walked.root = Root::Other(found.clone());
        }
        if self.items {
            state.walked.items = Items::Other(found.clone());
        }
        for i in each_path(self.mask, state.paths.len()) {
            state.walked.picked[i] = match (&text, state.paths[i].len() == self.depth) {
                (Some(text), true) if text.is_empty() => Picked::Absent,
                (Some(text), true) => Picked::Text(text.clone()),
                _ => Picked::Mistyped {
                    depth: self.depth,
                    found: found.clone(),
                },
            };
        }
    }

    fn string(self, text: Cow<'de, str>) {
        let found = Found::String(quote(&text));
        self.found(found, Some(text));
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
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.found(Found::Bool(v), None);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.found(Found::Number, None);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.found(Found::Number, None);
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.found(Found::Number, None);
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.string(Cow::Borrowed(v));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        // Strings with escapes cannot be borrowed from the input.
        self.string(Cow::Owned(v.to_owned()));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let hooked = self.items && self.state.hook.is_some();
        if !hooked {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.found(Found::Array, None);
            return Ok(());
        }
        let Some(hook) = self.state.hook.as_mut() else {
            return Ok(());
        };
        let mut item = State::new(hook.paths);
        loop {
            item.walked.root = Root::Null;
            item.walked.picked.fill(Picked::Absent);
            let node = Node {
                state: &mut item,
                mask: u64::MAX,
                depth: 0,
                items: false,
            };
            if seq.next_element_seed(node)?.is_none() {
                break;
            }
            (hook.each)(&item.walked);
        }
        self.state.walked.items = Items::Walked;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let paths = self.state.paths;
        let (mut ending, mut passing) = (0u64, 0u64);
        for i in each_path(self.mask, paths.len()) {
            if paths[i].len() == self.depth {
                ending |= 1 << i;
            } else {
                passing |= 1 << i;
            }
        }
        if self.depth == 0 {
            self.state.walked.root = Root::Object;
        }
        if self.items {
            self.state.walked.items = Items::Other(Found::Object);
        }
        for i in each_path(ending, paths.len()) {
            self.state.walked.picked[i] = Picked::Mistyped {
                depth: self.depth,
                found: Found::Object,
            };
        }
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let mask = each_path(passing, paths.len())
                .filter(|i| paths[*i][self.depth] == key)
                .fold(0u64, |mask, i| mask | (1 << i));
            let items =
                self.depth == 0 && self.state.hook.as_ref().is_some_and(|hook| hook.key == key);
            if mask == 0 && !items {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(Node {
                state: &mut *self.state,
                mask,
                depth: self.depth + 1,
                items,
            })?;
        }
        Ok(())
    }
}

/// Walks the value `deserializer` holds for `paths` (at most 64).
pub fn walk<'de, D: Deserializer<'de>>(
    deserializer: D,
    paths: &'static [Path],
) -> Result<Walked<'de>, D::Error> {
    let mut state = State::new(paths);
    let node = Node {
        state: &mut state,
        mask: u64::MAX,
        depth: 0,
        items: false,
    };
    node.deserialize(deserializer)?;
    Ok(state.walked)
}

/// Walks a JSON document for `paths`, and each element of the array under the
/// top-level key `items_key` for `item_paths`, handing each to `each` as soon
/// as it is read: a list of thousands is never held.
pub fn walk_json<'de>(
    json: &'de [u8],
    paths: &'static [Path],
    items: Option<EachItem<'_, 'de>>,
) -> Result<Walked<'de>, serde_json::Error> {
    let mut state = State::new(paths);
    state.hook = items;
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    Node {
        state: &mut state,
        mask: u64::MAX,
        depth: 0,
        items: false,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(state.walked)
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
        let walked = walk_json(json.as_bytes(), PATHS, None).unwrap();
        (walked.root, walked.picked)
    }

    fn text(s: &str) -> Picked<'_> {
        Picked::Text(Cow::Borrowed(s))
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

    #[rstest]
    #[case::empty_object("{}", [Picked::Absent, Picked::Absent, Picked::Absent])]
    #[case::nulls(r#"{"kind":null,"status":null,"metadata":{"annotations":null}}"#, [Picked::Absent, Picked::Absent, Picked::Absent])]
    #[case::empty_string(r#"{"kind":""}"#, [Picked::Absent, Picked::Absent, Picked::Absent])]
    #[case::wrong_end(
        r#"{"kind":7,"status":{"schemaVersion":true}}"#,
        [Picked::Mistyped { depth: 1, found: Found::Number }, Picked::Mistyped { depth: 2, found: Found::Bool(true) }, Picked::Absent]
    )]
    #[case::wrong_way(
        r#"{"status":"done","metadata":{"annotations":[]}}"#,
        [Picked::Absent, Picked::Mistyped { depth: 1, found: Found::String("\"done\"".into()) }, Picked::Mistyped { depth: 2, found: Found::Array }]
    )]
    #[case::object_at_the_end(r#"{"kind":{"a":1}}"#, [Picked::Mistyped { depth: 1, found: Found::Object }, Picked::Absent, Picked::Absent])]
    #[case::escaped(r#"{"kind":"Ba\u0063kup"}"#, [Picked::Text(Cow::Owned("Backup".into())), Picked::Absent, Picked::Absent])]
    fn every_path_ends_somewhere(#[case] json: &str, #[case] expected: [Picked<'static>; 3]) {
        assert_eq!(picked(json).1, expected);
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
        assert!(walk_json(b"{\"kind\":", PATHS, None).is_err());
        assert!(walk_json(b"{} trailing", PATHS, None).is_err());
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
        let walked = walk_json(json.as_bytes(), &[], Some(items)).unwrap();
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
                vec![text("b"), Picked::Absent],
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
                vec![
                    Picked::Absent,
                    Picked::Mistyped {
                        depth: 2,
                        found: Found::Array
                    }
                ],
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
}
