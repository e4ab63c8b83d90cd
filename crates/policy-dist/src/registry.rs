//! `push` / `pull`: a Kubewarden policy as an OCI artifact, the way
//! kwctl's policy-fetcher writes and reads it
//! (kubewarden-controller `crates/policy-fetcher/src/registry/mod.rs`,
//! `crates/kwctl/src/push.rs`), with the same client crate (`oci-client`):
//!
//! * an OCI image manifest; config blob `{}` with media type
//!   `application/vnd.wasm.config.v1+json`; one layer
//!   `application/vnd.wasm.content.layer.v1+wasm` holding the annotated module;
//! * manifest annotations = the metadata's single-line annotations (trimmed;
//!   multi-line ones such as `io.kubewarden.policy.usage` dropped), plus
//!   `org.opencontainers.image.source` from `io.kubewarden.policy.source`;
//! * a non-annotated module is refused;
//! * hosts listed under `insecure_sources` of a `--sources-path` file are
//!   tried with HTTPS, then HTTPS without certificate checks, then plain HTTP;
//!   every other host with HTTPS only;
//! * `push` answers the immutable reference `<registry>/<repository>@sha256:…`.
//!
//! Credentials: `REGISTRY_USERNAME` / `REGISTRY_PASSWORD` from the environment
//! (kwctl reads the Docker config file instead), anonymous otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    OCI_IMAGE_MEDIA_TYPE, OciImageManifest, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::annotate::read_metadata;
use crate::metadata;

pub const OCI_SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
const WASM_MAGIC: &[u8] = b"\0asm";

/// The part of kwctl's `--sources-path` file this tool reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Sources {
    /// `host` or `host:port` entries reached without TLS verification / over HTTP.
    pub insecure_sources: BTreeSet<String>,
}

impl Sources {
    pub fn from_path(path: &Path) -> Result<Sources> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read sources file {}", path.display()))?;
        serde_yaml::from_str(&text)
            .with_context(|| format!("cannot parse sources file {}", path.display()))
    }

    pub fn insecure(hosts: impl IntoIterator<Item = impl Into<String>>) -> Sources {
        Sources {
            insecure_sources: hosts.into_iter().map(Into::into).collect(),
        }
    }

    fn is_insecure(&self, registry: &str) -> bool {
        self.insecure_sources.contains(registry)
    }
}

/// `registry://host[:port]/repository[:tag|@digest]` (the scheme may be omitted).
pub fn parse_uri(uri: &str) -> Result<Reference> {
    let image = match uri.split_once("://") {
        Some(("registry", rest)) => rest,
        Some((scheme, _)) => bail!("unsupported scheme {scheme}:// (only registry:// is)"),
        None => uri,
    };
    Reference::from_str(image).map_err(|e| anyhow!("invalid OCI reference {uri:?}: {e}"))
}

/// The OCI manifest annotations `kwctl push` derives from the metadata.
pub fn oci_annotations(annotations: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = annotations
        .iter()
        .filter(|(_, v)| v.lines().count() <= 1)
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    if let Some(source) = out.get(metadata::SOURCE).cloned() {
        out.entry(OCI_SOURCE_ANNOTATION.to_owned())
            .or_insert(source);
    }
    out
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// What a pull brings back.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub module: Vec<u8>,
    /// Digest of the manifest.
    pub digest: String,
    pub manifest: OciImageManifest,
}

pub struct Registry {
    pub(crate) sources: Sources,
    pub(crate) auth: RegistryAuth,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl Registry {
    pub fn new(sources: Sources) -> Result<Registry> {
        // reqwest is built without a default crypto provider (no aws-lc-rs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let auth = match (
            std::env::var("REGISTRY_USERNAME"),
            std::env::var("REGISTRY_PASSWORD"),
        ) {
            (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
            _ => RegistryAuth::Anonymous,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Registry {
            sources,
            auth,
            runtime,
        })
    }

    /// Pushes an annotated module; returns `<registry>/<repository>@sha256:…`.
    pub fn push(&self, module: &[u8], uri: &str) -> Result<String> {
        let reference = parse_uri(uri)?;
        let metadata = read_metadata(module)?.ok_or_else(|| {
            anyhow!("Cannot push a policy that is not annotated. Use `annotate` command")
        })?;
        let annotations = metadata.annotations.as_ref().map(oci_annotations);
        let layers = vec![ImageLayer::new(
            module.to_vec(),
            WASM_LAYER_MEDIA_TYPE.to_owned(),
            None,
        )];
        let config = Config {
            data: b"{}"[..].into(),
            media_type: WASM_CONFIG_MEDIA_TYPE.to_owned(),
            annotations: None,
        };
        let manifest = OciImageManifest::build(&layers, &config, annotations);
        let response = self.with_protocols(&reference, |client| {
            let (reference, layers, config, manifest) =
                (&reference, &layers, config.clone(), manifest.clone());
            async move {
                client
                    .push(reference, layers, config, &self.auth, Some(manifest))
                    .await
            }
        })?;
        immutable_ref(&reference, &response.manifest_url)
    }

    /// Pulls the module of a policy artifact (by tag or by digest), as
    /// `kwctl pull` does: the manifest must list a wasm layer, the layer must
    /// be a wasm module.
    pub fn pull(&self, uri: &str) -> Result<Pulled> {
        let reference = parse_uri(uri)?;
        let image = self.with_protocols(&reference, |client| {
            let reference = &reference;
            async move {
                client
                    .pull(reference, &self.auth, vec![WASM_LAYER_MEDIA_TYPE])
                    .await
            }
        })?;
        let module = image
            .layers
            .into_iter()
            .next()
            .map(|layer| layer.data.to_vec())
            .ok_or_else(|| anyhow!("could not pull policy {uri}: empty layers"))?;
        if !module.starts_with(WASM_MAGIC) {
            bail!("could not pull policy {uri}: the layer is not a WebAssembly module");
        }
        Ok(Pulled {
            module,
            digest: image
                .digest
                .ok_or_else(|| anyhow!("the registry did not report the manifest digest"))?,
            manifest: image
                .manifest
                .ok_or_else(|| anyhow!("the registry returned no image manifest"))?,
        })
    }

    /// The manifest exactly as the registry serves it, and its digest as the
    /// registry reports it.
    pub fn manifest_raw(&self, uri: &str) -> Result<(Vec<u8>, String)> {
        let reference = parse_uri(uri)?;
        let (bytes, digest) = self.with_protocols(&reference, |client| {
            let reference = &reference;
            async move {
                client
                    .pull_manifest_raw(reference, &self.auth, &[OCI_IMAGE_MEDIA_TYPE])
                    .await
            }
        })?;
        Ok((bytes.to_vec(), digest))
    }

    /// kwctl's `try_with_protocols`.
    pub(crate) fn with_protocols<T, F, Fut>(&self, reference: &Reference, operation: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let registry = reference.resolve_registry().to_owned();
        let attempts: &[(ClientProtocol, bool)] = if self.sources.is_insecure(&registry) {
            &[
                (ClientProtocol::Https, false),
                (ClientProtocol::Https, true),
                (ClientProtocol::Http, false),
            ]
        } else {
            &[(ClientProtocol::Https, false)]
        };
        let mut failures = Vec::new();
        for (protocol, accept_invalid_certificates) in attempts {
            let client = Client::new(ClientConfig {
                protocol: protocol.clone(),
                accept_invalid_certificates: *accept_invalid_certificates,
                connect_timeout: Some(Duration::from_secs(10)),
                read_timeout: Some(Duration::from_secs(120)),
                ..ClientConfig::default()
            });
            match self.runtime.block_on(operation(client)) {
                Ok(value) => return Ok(value),
                Err(e) => failures.push(format!(
                    "{}{}: {e}",
                    match protocol {
                        ClientProtocol::Http => "http",
                        _ => "https",
                    },
                    if *accept_invalid_certificates {
                        " (no certificate verification)"
                    } else {
                        ""
                    }
                )),
            }
        }
        bail!(
            "registry {registry}: {}{}",
            failures.join("; "),
            if self.sources.is_insecure(&registry) {
                ""
            } else {
                " (a plain-HTTP registry must be listed under insecure_sources, see --sources-path / --insecure)"
            }
        )
    }
}

/// kwctl's `build_immutable_ref`: the digest at the end of the manifest URL.
fn immutable_ref(reference: &Reference, manifest_url: &str) -> Result<String> {
    let digest = manifest_url
        .rsplit_once('/')
        .map(|(_, d)| d)
        .ok_or_else(|| anyhow!("Cannot extract manifest digest from {manifest_url}"))?;
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| anyhow!("Invalid digest: {digest}"))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("The digest of the returned manifest is not valid: {digest}");
    }
    Ok(format!(
        "{}/{}@{digest}",
        reference.registry(),
        reference.repository()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let r = parse_uri("registry://127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("127.0.0.1:5000", "a/b", Some("v1"))
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse_uri(&format!("127.0.0.1:5000/a@{d}")).unwrap();
        assert_eq!(r.digest(), Some(d.as_str()));
        assert!(parse_uri("https://example.com/x").is_err());
    }

    #[test]
    fn annotations_as_kwctl_push_copies_them() {
        let input: BTreeMap<String, String> = [
            (metadata::SOURCE, "https://github.com/o/p"),
            (metadata::USAGE, "# Title\n\ntext"),
            (metadata::DESCRIPTION, "one line\n"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let out = oci_annotations(&input);
        assert_eq!(out[OCI_SOURCE_ANNOTATION], "https://github.com/o/p");
        assert_eq!(out[metadata::DESCRIPTION], "one line");
        assert!(!out.contains_key(metadata::USAGE));
        let mut input = input;
        input.insert(OCI_SOURCE_ANNOTATION.to_owned(), "kept".to_owned());
        assert_eq!(oci_annotations(&input)[OCI_SOURCE_ANNOTATION], "kept");
    }

    #[test]
    fn immutable_refs() {
        let r = parse_uri("registry://127.0.0.1:5000/a/b:v1").unwrap();
        let d = format!("sha256:{}", "0f".repeat(32));
        assert_eq!(
            immutable_ref(&r, &format!("http://127.0.0.1:5000/v2/a/b/manifests/{d}")).unwrap(),
            format!("127.0.0.1:5000/a/b@{d}")
        );
        assert!(immutable_ref(&r, "http://x/v2/a/b/manifests/v1").is_err());
        assert!(immutable_ref(&r, "http://x/v2/a/b/manifests/sha256:zz").is_err());
    }

    #[test]
    fn sources_file() {
        let s: Sources = serde_yaml::from_str("insecure_sources:\n- 127.0.0.1:5000\n").unwrap();
        assert!(s.is_insecure("127.0.0.1:5000"));
        assert!(!s.is_insecure("ghcr.io"));
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
