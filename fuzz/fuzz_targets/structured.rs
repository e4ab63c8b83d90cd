//! DocumentDB-shaped AdmissionRequests with hostile values (huge numbers,
//! Unicode, separators, 1 MiB tags, deep nesting, repeated settings keys; see
//! `src/structured.rs`): the payload through `validate`, its settings document
//! through `validate_settings`. No panic, never a guest error, bounded
//! messages, deterministic (see `src/checks.rs`).

#![no_main]

#[path = "../src/checks.rs"]
#[allow(dead_code)] // each target uses part of the shared checks
mod checks;
#[path = "../src/structured.rs"]
mod structured;

libfuzzer_sys::fuzz_target!(|data: &[u8]| structured::run_structured(data));
