//! The text layer: quoting, escaping and bounding user-supplied text for a
//! message, with one escaper for every value a message shows (request values,
//! the cluster's answers, host errors, JSON paths). Imports nothing of the crate.

/// Longest user-supplied value quoted in a message: a hostile 1 MB tag must not
/// become a 1 MB rejection message.
pub const MAX_QUOTED_CHARS: usize = 64;

/// The one escaper: `text` cut to `max` characters (then `…`), control
/// characters escaped as `\n`, `\t`, `\r` or `\u{..}` so a value cannot
/// break a log line, and, when `quoted`, wrapped in `"` with quotes and
/// backslashes escaped so it cannot forge the end of the quote.
/// (Hand-written rather than `{:?}`: Debug formatting brings Unicode
/// printability tables into the module.)
fn escape(text: &str, max: usize, quoted: bool) -> String {
    let (shown, cut) = match text.char_indices().nth(max) {
        None => (text, false),
        Some((end, _)) => (&text[..end], true),
    };
    let mut out = String::with_capacity(shown.len() + 5);
    if quoted {
        out.push('"');
    }
    for c in shown.chars() {
        match c {
            '"' if quoted => out.push_str("\\\""),
            '\\' if quoted => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                out.push_str("\\u{");
                let code = c as u32;
                let digits = if code > 0xff { 4 } else { 2 };
                for shift in (0..digits).rev() {
                    let nibble = (code >> (shift * 4)) & 0xf;
                    out.push(char::from_digit(nibble, 16).unwrap_or('0'));
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    if cut {
        out.push('…');
    }
    if quoted {
        out.push('"');
    }
    out
}

/// Quote `value` for a message, cut to [`MAX_QUOTED_CHARS`] characters with `…`.
pub fn quote(value: &str) -> String {
    escape(value, MAX_QUOTED_CHARS, true)
}

/// `text` safe for a one-line message, unquoted: control characters escaped
/// (so a hostile answer cannot break a log line), at most `max` characters,
/// then `…`.
pub fn bounded(text: &str, max: usize) -> String {
    escape(text, max, false)
}

/// The first `depth` keys of `path`, for a message: `status.schemaVersion`,
/// `metadata.annotations["documentdb.io/schema-version"]` (keys that are not
/// plain words in brackets).
pub fn shown_path(path: &[&str], depth: usize) -> String {
    let mut shown = String::new();
    for key in &path[..depth.min(path.len())] {
        if key.contains(['.', '/']) {
            shown.push_str(&format!("[{}]", quote(key)));
        } else {
            if !shown.is_empty() {
                shown.push('.');
            }
            shown.push_str(key);
        }
    }
    shown
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

    #[rstest]
    #[case::short("timed out", "timed out")]
    #[case::controls("a\nb\u{1b}[31m", "a\\nb\\u{1b}[31m")]
    #[case::quotes_kept("a\"b\\", "a\"b\\")]
    #[case::cut(&"x".repeat(300), &format!("{}…", "x".repeat(240)))]
    fn bounded_text_is_escaped_and_cut(#[case] text: &str, #[case] expected: &str) {
        assert_eq!(bounded(text, 240), expected);
    }

    #[rstest]
    #[case(&["status", "schemaVersion"], 2, "status.schemaVersion")]
    #[case(&["status", "schemaVersion"], 1, "status")]
    #[case(&["metadata", "annotations", "documentdb.io/schema-version"], 3, "metadata.annotations[\"documentdb.io/schema-version\"]")]
    #[case(&["kind"], 0, "")]
    fn paths_are_shown_like_kubectl(
        #[case] path: &[&str],
        #[case] depth: usize,
        #[case] expected: &str,
    ) {
        assert_eq!(shown_path(path, depth), expected);
    }
}
