//! DocumentDB extension versions (`X.Y.Z`).
//!
//! The operator turns `X.Y.Z` into the extension's `X.Y-Z` and runs
//! `ALTER EXTENSION documentdb UPDATE TO 'X.Y-Z'`. Only the canonical form is
//! accepted: three runs of ASCII digits without sign, whitespace, `v` prefix,
//! leading zeros or suffix, each fitting in u64. Upstream's `strconv.Atoi`
//! accepted `+1`, `007` and wrapped nothing but silently dropped overflowing tags;
//! here every such value is an error that the rules report.

use std::fmt;

use crate::text::quote;

/// A parsed, canonical extension version. Ordering is numeric, component by
/// component (`0.100.0 > 0.99.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtensionVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

/// Why a string is not an [`ExtensionVersion`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionError {
    /// Not of the form `X.Y.Z` (the reason comes from the `semver` parser).
    Malformed(String),
    /// Well-formed, but a component does not fit in u64.
    OutOfRange,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionError::Malformed(reason) => f.write_str(reason),
            VersionError::OutOfRange => f.write_str("a component does not fit in 64 bits"),
        }
    }
}

impl ExtensionVersion {
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        match semver::Version::parse(text) {
            Ok(v) if v.pre.is_empty() && v.build.is_empty() => Ok(ExtensionVersion {
                major: v.major,
                minor: v.minor,
                patch: v.patch,
            }),
            Ok(v) if !v.pre.is_empty() => Err(VersionError::Malformed(format!(
                "pre-release suffix \"-{}\" is not allowed",
                quote(v.pre.as_str()).trim_matches('"')
            ))),
            Ok(_) => Err(VersionError::Malformed(
                "build metadata suffix \"+…\" is not allowed".to_owned(),
            )),
            // semver reports overflow like any syntax error; a string that has
            // the canonical syntax can only have failed on the number's range.
            Err(_) if has_canonical_syntax(text) => Err(VersionError::OutOfRange),
            Err(e) => Err(VersionError::Malformed(e.to_string())),
        }
    }
}

/// A version for a message: canonical when it parses, else quoted and cut, so
/// no stored value reaches a message raw.
pub fn shown(text: &str) -> String {
    match ExtensionVersion::parse(text) {
        Ok(version) => version.to_string(),
        Err(_) => quote(text),
    }
}

impl ExtensionVersion {
    /// Appends `X.Y.Z` to `out`, without `core::fmt`: every typical upgrade's
    /// warning shows two versions, and `core::fmt`'s integer formatting and
    /// indirect calls cost a fresh instance more than the digits do
    /// (BENCHMARKS.md, "One page of stack").
    pub fn push_to(&self, out: &mut String) {
        let mut text = [0u8; VERSION_TEXT];
        out.push_str(self.text(&mut text));
    }

    /// `X.Y.Z`, written in `buffer`.
    fn text<'b>(&self, buffer: &'b mut [u8; VERSION_TEXT]) -> &'b str {
        let mut at = buffer.len();
        for (i, mut part) in [self.patch, self.minor, self.major].into_iter().enumerate() {
            if i > 0 {
                at -= 1;
                buffer[at] = b'.';
            }
            loop {
                at -= 1;
                buffer[at] = b'0' + (part % 10) as u8;
                part /= 10;
                if part == 0 {
                    break;
                }
            }
        }
        // Only ASCII digits and dots were written.
        std::str::from_utf8(&buffer[at..]).unwrap_or_default()
    }
}

/// The longest `X.Y.Z`: three `u64`s of 20 digits and two dots.
const VERSION_TEXT: usize = 62;

impl fmt::Display for ExtensionVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(&mut [0; VERSION_TEXT]))
    }
}

/// `X.Y.Z`: three dot-separated runs of ASCII digits, no leading zeros (`0` is
/// fine). This is the format check of `spec.schemaVersion`; the range of the
/// numbers is checked by [`ExtensionVersion::parse`].
pub fn has_canonical_syntax(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        let canonical_number = !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && !(part.len() > 1 && part.starts_with('0'));
        if !canonical_number {
            return false;
        }
    }
    parts == 3
}

/// The leading `X.Y.Z` (runs of ASCII digits) of an image tag, with any suffix
/// dropped: `0.112.0-amd64` → `0.112.0`, `0.112.0.1` → `0.112.0`. The result is
/// not necessarily canonical (`00.1.2`, huge numbers); parsing reports that.
pub fn leading_version(tag: &str) -> Option<&str> {
    let bytes = tag.as_bytes();
    let mut end = 0;
    for component in 0..3 {
        if component > 0 {
            if bytes.get(end) != Some(&b'.') {
                return None;
            }
            end += 1;
        }
        let digits = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        end += digits;
    }
    Some(&tag[..end])
}

/// A version taking part in a comparison, with where it came from so that a
/// parse failure says which field to fix.
#[derive(Debug, Clone, Copy)]
pub struct Operand<'a> {
    pub text: &'a str,
    pub origin: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparisonError {
    quoted: String,
    origin: &'static str,
    error: VersionError,
}

impl fmt::Display for ComparisonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid version {} in {}: {}",
            self.quoted, self.origin, self.error
        )
    }
}

impl Operand<'_> {
    pub fn parse(&self) -> Result<ExtensionVersion, ComparisonError> {
        ExtensionVersion::parse(self.text).map_err(|error| ComparisonError {
            quoted: quote(self.text),
            origin: self.origin,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::zeros(v(0, 0, 0), "0.0.0")]
    #[case::one_digit_each(v(1, 2, 3), "1.2.3")]
    #[case::carries(v(10, 109, 1000), "10.109.1000")]
    #[case::largest(
        v(u64::MAX, 0, u64::MAX),
        "18446744073709551615.0.18446744073709551615"
    )]
    fn a_version_is_shown_with_its_digits(#[case] version: ExtensionVersion, #[case] text: &str) {
        assert_eq!(version.to_string(), text);
        let mut pushed = String::from("at ");
        version.push_to(&mut pushed);
        assert_eq!(pushed, format!("at {text}"));
    }

    fn v(major: u64, minor: u64, patch: u64) -> ExtensionVersion {
        ExtensionVersion {
            major,
            minor,
            patch,
        }
    }

    #[rstest]
    #[case::plain("0.112.0", v(0, 112, 0))]
    #[case::zeros("0.0.0", v(0, 0, 0))]
    #[case::large("1.2.3", v(1, 2, 3))]
    #[case::u64_max("18446744073709551615.0.0", v(u64::MAX, 0, 0))]
    fn parses_canonical_versions(#[case] text: &str, #[case] expected: ExtensionVersion) {
        assert_eq!(ExtensionVersion::parse(text), Ok(expected));
        assert_eq!(expected.to_string(), text);
    }

    #[rstest]
    #[case::leading_zero_minor("0.0112.0")]
    #[case::leading_zero_major("00.1.0")]
    #[case::v_prefix("v1.0.0")]
    #[case::plus_sign("+1.0.0")]
    #[case::minus_sign("-1.0.0")]
    #[case::two_parts("0.112")]
    #[case::four_parts("0.112.0.1")]
    #[case::leading_space(" 0.112.0")]
    #[case::trailing_space("0.112.0 ")]
    #[case::word("invalid")]
    #[case::empty("")]
    #[case::prerelease("0.113.0-rc1")]
    #[case::build("0.113.0+build5")]
    #[case::extension_format("0.110-0")]
    #[case::unicode_digit("٠.1.0")]
    fn rejects_malformed_versions(#[case] text: &str) {
        assert!(
            matches!(
                ExtensionVersion::parse(text),
                Err(VersionError::Malformed(_))
            ),
            "{text:?} -> {:?}",
            ExtensionVersion::parse(text)
        );
        assert!(!has_canonical_syntax(text) || text.contains(['-', '+']));
    }

    #[rstest]
    #[case::major("18446744073709551616.0.0")]
    #[case::minor("0.99999999999999999999.0")]
    #[case::patch("0.0.99999999999999999999999999999")]
    fn overflow_is_out_of_range_not_a_wrap(#[case] text: &str) {
        assert!(has_canonical_syntax(text));
        assert_eq!(ExtensionVersion::parse(text), Err(VersionError::OutOfRange));
    }

    #[rstest]
    #[case::numeric_not_lexicographic("0.100.0", "0.99.0")]
    #[case::patch("0.112.1", "0.112.0")]
    #[case::major_dominates("1.0.0", "0.999.999")]
    fn orders_numerically(#[case] greater: &str, #[case] lesser: &str) {
        let (g, l) = (
            ExtensionVersion::parse(greater).unwrap(),
            ExtensionVersion::parse(lesser).unwrap(),
        );
        assert!(g > l);
    }

    #[rstest]
    #[case::clean("0.112.0", Some("0.112.0"))]
    #[case::arch_suffix("0.112.0-amd64", Some("0.112.0"))]
    #[case::rc_suffix("0.113.0-rc1", Some("0.113.0"))]
    #[case::fourth_component("0.112.0.1", Some("0.112.0"))]
    #[case::letters_after("0.112.0abc", Some("0.112.0"))]
    #[case::leading_zeros_kept("0.0112.0", Some("0.0112.0"))]
    #[case::huge("99999999999999999999.0.0", Some("99999999999999999999.0.0"))]
    #[case::latest("latest", None)]
    #[case::empty("", None)]
    #[case::non_numeric_major("abc.112.0", None)]
    #[case::non_numeric_minor("0.abc.0", None)]
    #[case::non_numeric_patch("0.112.abc", None)]
    #[case::two_components("0.112", None)]
    #[case::v_prefix("v0.112.0", None)]
    #[case::trailing_dot("0.112.", None)]
    fn extracts_the_leading_version_of_a_tag(#[case] tag: &str, #[case] expected: Option<&str>) {
        assert_eq!(leading_version(tag), expected);
    }

    #[test]
    fn comparison_errors_name_the_value_and_its_origin() {
        let schema = Operand {
            text: "0.112.0",
            origin: "spec.schemaVersion",
        };
        let binary = Operand {
            text: "invalid",
            origin: "spec.documentDBVersion",
        };
        assert!(schema.parse().is_ok());
        let error = binary.parse().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid version \"invalid\" in spec.documentDBVersion: unexpected character 'i' while parsing major version number"
        );
    }
}
