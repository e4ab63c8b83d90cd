//! Arbitrary bytes into the module's entry logic: `validate` (through
//! `validate_payload` and the waPC function itself) and `validate_settings`
//! (through `Settings::from_json` and the waPC function). No panic, never a
//! guest error, bounded messages, deterministic (see `src/checks.rs`).

#![no_main]

#[path = "../src/checks.rs"]
#[allow(dead_code)] // each target uses part of the shared checks
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::run_payload(data));
