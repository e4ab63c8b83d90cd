//! The string parsers on arbitrary text: `ImageReference::parse` and
//! `tag_version`, `leading_version`, `ExtensionVersion::parse`,
//! `has_canonical_syntax`, `json::quote`. The input is also split at the first
//! NUL into two strings, each checked and compared as versions; an input that
//! starts with 0xFF is the rest repeated to 1 MiB (see `fuzz_checks::checks`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::checks::run_parsing(data));
