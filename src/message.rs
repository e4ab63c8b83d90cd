//! How user-supplied values and field errors are written into messages.

use crate::field_error::FieldError;
use crate::validation::{GROUP, KIND};

/// Longest user-supplied value quoted in a message: a hostile 1 MB tag must not
/// become a 1 MB rejection message.
pub const MAX_QUOTED_CHARS: usize = 64;

/// Quote `value` for a message, cut to [`MAX_QUOTED_CHARS`] characters with `…`.
/// Quotes, backslashes and control characters are escaped so a value cannot
/// forge the end of the quote or break a log line. (Hand-written rather than
/// `{:?}`: Debug formatting brings Unicode printability tables into the module.)
pub fn quote(value: &str) -> String {
    let (shown, cut) = match value.char_indices().nth(MAX_QUOTED_CHARS) {
        None => (value, false),
        Some((end, _)) => (&value[..end], true),
    };
    let mut quoted = String::with_capacity(shown.len() + 5);
    quoted.push('"');
    for c in shown.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => {
                quoted.push_str("\\u{");
                let code = c as u32;
                let digits = if code > 0xff { 4 } else { 2 };
                for shift in (0..digits).rev() {
                    let nibble = (code >> (shift * 4)) & 0xf;
                    quoted.push(char::from_digit(nibble, 16).unwrap_or('0'));
                }
                quoted.push('}');
            }
            c => quoted.push(c),
        }
    }
    if cut {
        quoted.push('…');
    }
    quoted.push('"');
    quoted
}

/// The message of apimachinery's `NewInvalid`, as the upstream webhook returns it:
/// `DocumentDB.documentdb.io "<name>" is invalid: <error>` or `…: [<e1>, <e2>]`,
/// identical errors once (apimachinery's `ToAggregate`).
pub fn invalid_object_message(name: Option<&str>, errors: &[FieldError]) -> String {
    let mut rendered: Vec<String> = Vec::with_capacity(errors.len());
    for error in errors {
        let text = error.to_string();
        if !rendered.contains(&text) {
            rendered.push(text);
        }
    }
    let name = quote(name.unwrap_or_default());
    match rendered.as_slice() {
        [single] => format!("{KIND}.{GROUP} {name} is invalid: {single}"),
        several => format!("{KIND}.{GROUP} {name} is invalid: [{}]", several.join(", ")),
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::short("latest", "\"latest\"")]
    #[case::escapes("a\"b\n\\", r#""a\"b\n\\""#)]
    #[case::control_chars("\u{0}\u{7f}\u{9f}", r#""\u{00}\u{7f}\u{9f}""#)]
    #[case::unicode_kept("é✓", "\"é✓\"")]
    #[case::exactly_64(&"x".repeat(64), &format!("\"{}\"", "x".repeat(64)))]
    #[case::cut_at_64(&"x".repeat(65), &format!("\"{}…\"", "x".repeat(64)))]
    #[case::multibyte_boundary(&"é".repeat(100), &format!("\"{}…\"", "é".repeat(64)))]
    fn quoting_is_bounded(#[case] value: &str, #[case] expected: &str) {
        assert_eq!(quote(value), expected);
    }

    #[test]
    fn quoting_a_megabyte_stays_short() {
        let quoted = quote(&"9".repeat(1 << 20));
        assert!(quoted.chars().count() <= MAX_QUOTED_CHARS + 3, "{quoted}");
    }

    #[test]
    fn identical_errors_are_listed_once() {
        let error = || FieldError::forbidden("spec", "no".to_owned());
        let other = FieldError::required("spec.x", "missing".to_owned());
        assert_eq!(
            invalid_object_message(Some("db"), &[error(), other, error()]),
            "DocumentDB.documentdb.io \"db\" is invalid: [spec: Forbidden: no, spec.x: Required value: missing]"
        );
        assert_eq!(
            invalid_object_message(None, &[error(), error()]),
            "DocumentDB.documentdb.io \"\" is invalid: spec: Forbidden: no"
        );
    }
}
