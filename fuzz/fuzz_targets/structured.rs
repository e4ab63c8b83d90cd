//! DocumentDB-shaped AdmissionRequests with hostile values (huge numbers,
//! Unicode, separators, 1 MiB tags, deep nesting, repeated settings keys; see
//! `fuzz_checks::structured`): the payload through `validate`, its settings
//! document through `validate_settings`. No panic, never a guest error, bounded
//! messages, deterministic (see `fuzz_checks::checks`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::structured::run_structured(data));
