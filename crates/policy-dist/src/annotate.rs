//! `annotate`: what `kwctl annotate -m metadata.yml -u README.md -o out.wasm in.wasm`
//! does (kubewarden-controller `crates/kwctl/src/annotate.rs`):
//!
//! 1. read the metadata (policy-evaluator's `Metadata`);
//! 2. fill `protocolVersion` by calling the module's `protocol_version`
//!    (here through the `policy-runner` engine, the same wapc/wasmtime stack);
//! 3. set `io.kubewarden.kwctl` to the tool's version and
//!    `io.kubewarden.policy.usage` to the usage file;
//! 4. validate, serialise as JSON into the `io.kubewarden.metadata` custom
//!    section.
//!
//! Differences, on purpose: `io.kubewarden.kwctl` says `policy-dist <version>`
//! so nobody mistakes the artifact for one kwctl produced; the module bytes
//! are kept as they are (kwctl re-emits them through walrus) and an existing
//! metadata section is replaced rather than duplicated; the host-capabilities
//! scan (a warning in kwctl) is not done: the policy uses none.

use anyhow::{Context, Result, bail};
use policy_runner::{Policy, RunnerOptions};

use crate::metadata::{self, ExecutionMode, Metadata};
use crate::wasm;

/// What `io.kubewarden.kwctl` is set to.
pub fn tool_version() -> String {
    format!("policy-dist {}", env!("CARGO_PKG_VERSION"))
}

/// The annotated module and the metadata written into it.
#[derive(Debug)]
pub struct Annotated {
    pub module: Vec<u8>,
    pub metadata: Metadata,
    /// Things worth telling the user that do not stop the annotation.
    pub warnings: Vec<String>,
}

pub fn annotate(module: &[u8], metadata_yaml: &str, usage: Option<&str>) -> Result<Annotated> {
    let mut metadata = Metadata::from_yaml(metadata_yaml)?;
    let warnings = Metadata::unknown_keys(metadata_yaml)
        .into_iter()
        .map(|k| format!("metadata key {k:?} is not read by Kubewarden and is ignored"))
        .collect();
    if metadata.execution_mode != ExecutionMode::KubewardenWapc {
        bail!(
            "policy-dist only annotates waPC policies (executionMode: kubewarden-wapc); use kwctl for {:?}",
            metadata.execution_mode
        );
    }
    metadata.protocol_version = Some(protocol_version(module)?);

    let annotations = metadata.annotations.get_or_insert_with(Default::default);
    annotations.insert(metadata::KWCTL_VERSION.to_owned(), tool_version());
    if let Some(usage) = usage {
        annotations.insert(metadata::USAGE.to_owned(), usage.to_owned());
    }
    metadata.validate()?;

    let json = serde_json::to_vec(&metadata)?;
    let module = wasm::replace_custom_section(module, metadata::CUSTOM_SECTION, &json)?;
    Ok(Annotated {
        module,
        metadata,
        warnings,
    })
}

/// Instantiates the module (running `wapc_init`) and asks `protocol_version`,
/// which must answer `"v1"`, the only waPC protocol there is.
pub fn protocol_version(module: &[u8]) -> Result<String> {
    wasm::sections(module).context("Error parsing wasm module")?;
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    Policy::load(module, &options)
        .map_err(|e| anyhow::anyhow!("Cannot compute ProtocolVersion used by the policy: {e}"))?;
    Ok("v1".to_owned())
}

/// The metadata of an annotated module, as policy-evaluator reads it (first
/// `io.kubewarden.metadata` section), or `None` for a bare module.
pub fn read_metadata(module: &[u8]) -> Result<Option<Metadata>> {
    match wasm::custom_section(module, metadata::CUSTOM_SECTION)? {
        None => Ok(None),
        Some(json) => Ok(Some(serde_json::from_slice(json).context(
            "the io.kubewarden.metadata section is not valid metadata JSON",
        )?)),
    }
}
