//! What every fuzz input must satisfy ([`checks`]) and the structured target's
//! input model ([`structured`]). The cargo-fuzz targets under `fuzz/` (nightly,
//! libFuzzer) call these; this crate's tests replay the committed seeds and
//! crash reproducers (`fuzz/seeds/`, `fuzz/regressions/`) through the same
//! functions on stable, so a crash found once stays fixed.

pub mod checks;
pub mod structured;
