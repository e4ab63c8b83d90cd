//! Kubewarden policy: safe DocumentDB extension upgrades.
//!
//! This file (the entry layer) only registers the waPC entry points and
//! dispatches; the rules live in [`rules`], the request handling in
//! [`admission`]. The entry points and the SDK come with the default
//! `kubewarden` feature; without it the crate is the bare rule engine that
//! `crates/upgrade-checker/` compiles with wasm-bindgen.
//!
//! # Public face
//!
//! What the other crates of the workspace use, and nothing they do not:
//!
//! - [`admission`]: [`admission::validate_payload`] / [`admission::evaluate_payload`]
//!   (payload bytes → [`admission::Verdict`], and the [`admission::Evaluation`]
//!   the upgrade checker shows), the codes, and what the policy selects
//!   ([`model::GROUP`], [`model::KIND`], [`model::RESOURCE`], [`model::OPERATIONS`]);
//! - [`findings`]: [`findings::Violation`], [`findings::Advice`], what each
//!   means ([`findings::Violation::meaning`]) and the message catalogue;
//! - [`rules`]: the rule lists, [`rules::evaluate`] on a [`rules::Review`], and
//!   [`rules::upgrade`], where a change sits in the two-phase upgrade;
//! - [`model`]: the parsed values the findings carry (versions, image
//!   references, quantities, resource envelopes, restore sources, Node facts)
//!   and the object as the rules see it ([`model::document::DocumentDb`]);
//! - [`settings`]: [`settings::Settings`] and its keys;
//! - [`cluster`]: the [`cluster::Cluster`] trait a host implements (requests,
//!   [`cluster::HostError`]) and [`cluster::NoCluster`];
//! - [`wire`]: [`wire::ObjectDoc::from_json`], one object read as the policy
//!   reads it (property tests);
//! - [`text`]: [`text::quote`], the bound every quoted value keeps;
//! - [`json::type_name`], for a `serde_json::Value` (the checker's input);
//! - [`validate`], [`validate_settings`]: the waPC functions, natively.
//!
//! The readers' internals ([`json`]'s walk, the wire's paths) are public only
//! as far as the layers above need them. Former module paths
//! (`validation`, `document`, `image`, `quantity`, `resources`, `version`,
//! `upgrade`, `message`, and the resource names of `restore` and
//! `image_volume`) are re-exported below for the crates that use them.

// The layers, lowest first: each file imports only from the layers above it
// in this list (tests/layers.rs checks it; CONTRIBUTING.md, "Layers").
pub mod admission;
pub mod cluster;
pub mod field_error;
pub mod findings;
pub mod json;
pub mod model;
#[cfg(feature = "kubewarden")]
mod response;
pub mod rules;
pub mod settings;
pub mod text;
pub mod wire;

// Former paths of public items, kept for the crates that use them.
pub use admission as validation;
pub use model::nodes as image_volume;
pub use model::{document, image, quantity, resources, restore, version};
pub use rules::upgrade;
pub use text as message;

/// The policy's version (Cargo.toml, the single source): shown by builds of
/// the rules outside the module, such as `crates/upgrade-checker/`.
pub const POLICY_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(feature = "kubewarden")]
pub use entry_points::{validate, validate_settings};

#[cfg(feature = "kubewarden")]
mod entry_points {
    use kubewarden_policy_sdk::protocol_version_guest;
    use kubewarden_policy_sdk::settings::SettingsValidationResponse;
    use kubewarden_policy_sdk::wapc_guest as guest;

    use guest::prelude::*;

    use crate::admission::{self, Verdict};
    use crate::response::ValidationResponse;
    use crate::settings::Settings;

    #[unsafe(no_mangle)]
    pub extern "C" fn wapc_init() {
        register_function("validate", validate);
        register_function("validate_settings", validate_settings);
        register_function("protocol_version", protocol_version_guest);
    }

    /// Where the module's writable statics begin: a page of their own,
    /// 4 KiB-aligned, the first object of the data section. Nothing but the
    /// order LLVM emits the statics in puts it first; policy-runner's
    /// `cases` test checks the module as linked and after wasm-opt.
    ///
    /// A fresh instance pays each 4 KiB page of linear memory it writes as a
    /// page fault, ~2 µs. What it writes first are the statics the SDK's
    /// registry and the allocator set up, then the heap, which starts right
    /// after them. Aligned, those statics and the request's first ~3.5 KB of
    /// heap share one page, whatever the size of the read-only data before
    /// them; unaligned, they fell wherever that size put them, and straddled
    /// a page or left the heap one page more to touch: 5 faults per fresh
    /// instance instead of 6 or 7 (BENCHMARKS.md, "One page of stack").
    /// The anchor's own page is never touched when wasmtime maps the module's
    /// data as a copy-on-write image (its default, and policy-server's): it
    /// costs address space only. An engine that copies the data segments in
    /// at instantiation writes that page too.
    #[cfg(target_arch = "wasm32")]
    #[repr(C, align(4096))]
    struct PageAnchor(std::sync::atomic::AtomicU8);

    /// Not zero, so that it is data, not bss: bss follows the data.
    #[cfg(target_arch = "wasm32")]
    #[used]
    static DATA_PAGE_ANCHOR: PageAnchor = PageAnchor(std::sync::atomic::AtomicU8::new(1));

    /// Never returns `Err` for a bad request: the engine would turn it into an
    /// HTTP 500 "internal server error" that, under `failurePolicy: Fail`, blocks
    /// the write with a message nobody can act on.
    pub fn validate(payload: &[u8]) -> CallResult {
        let verdict = admission::validate_payload(payload, &crate::cluster::WapcHost);
        if let Verdict::NotApplicable(reason) = &verdict {
            log_debug(reason);
        }
        Ok(serde_json::to_vec(&ValidationResponse::from(verdict))?)
    }

    /// Answers `{"valid": false, "message": …}` for every settings problem, never a
    /// guest error.
    pub fn validate_settings(payload: &[u8]) -> CallResult {
        let response = match Settings::from_json(payload) {
            Ok(_) => SettingsValidationResponse {
                valid: true,
                message: None,
            },
            Err(errors) => SettingsValidationResponse {
                valid: false,
                message: Some(errors.to_string()),
            },
        };
        Ok(serde_json::to_vec(&response)?)
    }

    /// A debug record for the engine's log, in the shape the SDK's slog drain
    /// sends (`{"level", "message"}` to `kubewarden/tracing/log`). Written out here
    /// because the drain brings in slog for this one line, and only on the path of
    /// requests the policy does not validate.
    fn log_debug(message: &str) {
        #[cfg(target_arch = "wasm32")]
        {
            #[derive(serde::Serialize)]
            struct Record<'a> {
                level: &'static str,
                message: &'a str,
            }
            if let Ok(record) = serde_json::to_vec(&Record {
                level: "debug",
                message,
            }) {
                // A failed log call must not change the verdict.
                let _ = guest::host_call("kubewarden", "tracing", "log", &record);
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = message;
    }
}
