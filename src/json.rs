//! Lenient, typed reading of the few JSON fields the rules need.
//!
//! The admission payload can be megabytes (annotations, managedFields) while the
//! rules read a handful of fields. Deserializing into typed structs skips the rest
//! without building a `serde_json::Value`. But a plain typed parse fails the whole
//! request on the first wrong type, with a message that names no field. A
//! [`Field`] never fails on a wrong type: it records what it found, so the caller,
//! which knows the field's path, can report every mistyped field at once.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::text::quote;

/// One field of a JSON object, read without failing on a wrong type.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Absent or `null`.
    #[default]
    Absent,
    Present(T),
    /// Present with a JSON type the rules cannot use.
    Mistyped(Found),
}

/// What a mistyped field held, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Bool(bool),
    /// Not rendered: formatting floats would add ~20 KB to the module for a
    /// case the API server's schema validation already prevents.
    Number,
    /// Already cut by [`quote`](crate::text::quote).
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
/// (crates/upgrade-checker reading documents). The rules themselves read typed
/// fields and report a [`Found`].
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

/// The JSON shape a [`Field`] accepts. Each method returns `None` (the default)
/// for shapes the type does not accept, making the field [`Field::Mistyped`].
pub trait Shape<'de>: Sized {
    fn from_str(_value: Cow<'de, str>) -> Option<Self> {
        None
    }
    fn from_bool(_value: bool) -> Option<Self> {
        None
    }
    /// Integers arrive converted, exactly up to 2^53.
    fn from_number(_value: f64) -> Option<Self> {
        None
    }
    /// Only object shapes read the map; the others leave it to be skipped.
    fn from_map<A: MapAccess<'de>>(_map: &mut A) -> Result<Option<Self>, A::Error> {
        Ok(None)
    }
}

impl<'de: 'a, 'a> Shape<'de> for Cow<'a, str> {
    fn from_str(value: Cow<'de, str>) -> Option<Self> {
        Some(value)
    }
}

impl<'de> Shape<'de> for bool {
    fn from_bool(value: bool) -> Option<Self> {
        Some(value)
    }
}

/// A JSON string, boolean or number, for fields that accept more than one of
/// them (the settings) or whose type is checked by the reader. One type for
/// all of them: each type a [`Field`] reads costs the module ~1.4 KB.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Bool(bool),
    Str(Cow<'a, str>),
    Number(f64),
}

impl<'de: 'a, 'a> Shape<'de> for Scalar<'a> {
    fn from_str(value: Cow<'de, str>) -> Option<Self> {
        Some(Scalar::Str(value))
    }
    fn from_bool(value: bool) -> Option<Self> {
        Some(Scalar::Bool(value))
    }
    fn from_number(value: f64) -> Option<Self> {
        Some(Scalar::Number(value))
    }
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

/// Implements [`Shape`] for structs read from a JSON object (their fields are
/// [`Field`]s, unknown keys skipped).
#[macro_export]
macro_rules! object_shape {
    ($($ty:ident),+ $(,)?) => {$(
        impl<'de: 'a, 'a> $crate::json::Shape<'de> for $ty<'a> {
            fn from_map<A: serde::de::MapAccess<'de>>(map: &mut A) -> Result<Option<Self>, A::Error> {
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
            }
        }
    )+};
}

/// An object whose content the rules ignore, only whether it has any key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonEmpty(pub bool);

impl<'de> Shape<'de> for NonEmpty {
    fn from_map<A: MapAccess<'de>>(map: &mut A) -> Result<Option<Self>, A::Error> {
        let mut keys = 0usize;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            keys += 1;
        }
        Ok(Some(NonEmpty(keys > 0)))
    }
}

impl<'de, T: Shape<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<T> FieldVisitor<T> {
    fn present_or(value: Option<T>, found: impl FnOnce() -> Found) -> Field<T> {
        match value {
            Some(value) => Field::Present(value),
            None => Field::Mistyped(found()),
        }
    }
}

impl<'de, T: Shape<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Absent)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Absent)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Self::present_or(T::from_bool(v), || Found::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Self::present_or(T::from_number(v as f64), || Found::Number))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Self::present_or(T::from_number(v as f64), || Found::Number))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Self::present_or(T::from_number(v), || Found::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Self::present_or(T::from_str(Cow::Borrowed(v)), || {
            Found::String(quote(v))
        }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        // Strings with escapes cannot be borrowed from the input.
        let found = || Found::String(quote(v));
        Ok(Self::present_or(
            T::from_str(Cow::Owned(v.to_owned())),
            found,
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Mistyped(Found::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match T::from_map(&mut map)? {
            Some(value) => Ok(Field::Present(value)),
            None => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Mistyped(Found::Object))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[derive(serde::Deserialize, Debug)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        s: Field<Cow<'a, str>>,
        #[serde(default)]
        b: Field<bool>,
        #[serde(default)]
        m: Field<NonEmpty>,
    }

    fn probe(json: &str) -> Probe<'_> {
        serde_json::from_str(json).expect("probe parses")
    }

    #[rstest]
    #[case::absent("{}", Field::Absent)]
    #[case::null(r#"{"s":null}"#, Field::Absent)]
    #[case::string(r#"{"s":"0.112.0"}"#, Field::Present(Cow::Borrowed("0.112.0")))]
    #[case::escaped(r#"{"s":"a\"b"}"#, Field::Present(Cow::Owned("a\"b".to_owned())))]
    #[case::integer(r#"{"s":5}"#, Field::Mistyped(Found::Number))]
    #[case::float(r#"{"s":0.112}"#, Field::Mistyped(Found::Number))]
    #[case::negative(r#"{"s":-1}"#, Field::Mistyped(Found::Number))]
    #[case::boolean(r#"{"s":true}"#, Field::Mistyped(Found::Bool(true)))]
    #[case::array(r#"{"s":[1,[2]]}"#, Field::Mistyped(Found::Array))]
    #[case::object(r#"{"s":{"a":{"b":1}}}"#, Field::Mistyped(Found::Object))]
    fn string_fields(#[case] json: &str, #[case] expected: Field<Cow<'static, str>>) {
        assert_eq!(probe(json).s, expected);
    }

    #[rstest]
    #[case::absent("{}", Field::Absent)]
    #[case::bool(r#"{"b":false}"#, Field::Present(false))]
    #[case::string(r#"{"b":"true"}"#, Field::Mistyped(Found::String("\"true\"".into())))]
    fn bool_fields(#[case] json: &str, #[case] expected: Field<bool>) {
        assert_eq!(probe(json).b, expected);
    }

    #[rstest]
    #[case::empty(r#"{"m":{}}"#, Field::Present(NonEmpty(false)))]
    #[case::non_empty(
        r#"{"m":{"primary":"a","clusterList":[{"name":"a"}]}}"#,
        Field::Present(NonEmpty(true))
    )]
    #[case::string(r#"{"m":"x"}"#, Field::Mistyped(Found::String("\"x\"".into())))]
    fn non_empty_objects(#[case] json: &str, #[case] expected: Field<NonEmpty>) {
        assert_eq!(probe(json).m, expected);
    }

    #[test]
    fn unknown_keys_after_a_mistyped_field_are_still_skipped() {
        let p = probe(r#"{"s":[{"deep":[1,2,{"x":null}]}],"other":{"k":"v"},"b":true}"#);
        assert_eq!(p.s, Field::Mistyped(Found::Array));
        assert_eq!(p.b, Field::Present(true));
    }

    #[test]
    fn text_treats_empty_as_unset() {
        assert_eq!(probe(r#"{"s":""}"#).s.text(), Ok(None));
        assert_eq!(probe(r#"{"s":"auto"}"#).s.text(), Ok(Some("auto")));
        assert!(probe(r#"{"s":1}"#).s.text().is_err());
    }
}
