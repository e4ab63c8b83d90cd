//! policy-dist's integration tests, in one test binary: each binary links
//! wasmtime (through policy-runner) and sigstore, ~100 MB and a link step
//! apiece. One module per subject; `cargo test -p policy-dist --test dist
//! <module>::` runs one of them.

mod common;

mod annotate;
mod docs;
mod install_docs;
mod metadata;
mod oci_roundtrip;
mod sbom;
mod signing;
mod workflows;
