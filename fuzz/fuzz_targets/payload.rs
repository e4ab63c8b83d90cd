//! Arbitrary bytes into the module's entry logic: `validate` (through
//! `validate_payload` and the waPC function itself) and `validate_settings`
//! (through `Settings::from_json` and the waPC function). No panic, never a
//! guest error, bounded messages, deterministic (see `fuzz_checks::checks`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::checks::run_payload(data));
