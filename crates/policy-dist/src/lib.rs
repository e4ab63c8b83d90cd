//! `policy-dist`: ships the policy the Kubewarden way where kwctl is not
//! installed, and gives the tests the same operations.
//!
//! | kwctl | here |
//! |---|---|
//! | `kwctl annotate -m metadata.yml -u README.md -o annotated.wasm policy.wasm` | [`annotate`] |
//! | `kwctl scaffold artifacthub -m metadata.yml -q questions-ui.yml -o artifacthub-pkg.yml` | [`artifacthub`] |
//! | `kwctl scaffold manifest -t ClusterAdmissionPolicy registry://…` | [`manifest`] |
//! | `kwctl push annotated.wasm registry://…`, `kwctl pull registry://…` | [`registry`] |
//! | `cosign generate-key-pair`, `cosign sign --key`, `kwctl verify`, `cosign sign-blob` | [`signing`] |
//! | an SPDX SBOM of the module's crates (`make sbom`) | [`sbom`] |
//!
//! Each module documents where it follows kwctl's source and where it
//! differs. [`consistency`] holds the checks that keep the version and the
//! rules the same everywhere.

pub mod annotate;
pub mod artifacthub;
pub mod consistency;
pub mod manifest;
pub mod metadata;
pub mod registry;
pub mod sbom;
pub mod signing;
pub mod wasm;
