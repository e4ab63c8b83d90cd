//! Kubewarden policy: safe DocumentDB extension upgrades.
//!
//! This file (the entry layer) only registers the waPC entry points and
//! dispatches; the rules live in [`rules`], the request handling in
//! [`admission`]. The entry points
//! and the SDK come with the default `kubewarden` feature; without it the
//! crate is the bare rule engine that `crates/upgrade-checker/` compiles with wasm-bindgen.

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
pub use model::{document, image, quantity, resources, version};
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
