//! `sign`, `verify`, `generate-key-pair`, `sign-blob`, `verify-blob`: cosign's
//! key-based signatures, made and checked with the `sigstore` crate (the one
//! kwctl's policy-fetcher and policy-server use).
//!
//! Where cosign stores a signature of `<registry>/<repository>@sha256:<hex>`:
//!
//! * the tag `sha256-<hex>.sig` of the same repository;
//! * an OCI image manifest, config `{}`, one layer per signature of media type
//!   `application/vnd.dev.cosign.simplesigning.v1+json` holding the
//!   simple-signing payload (`critical.image.docker-manifest-digest` is the
//!   signed digest, `critical.identity.docker-reference` the repository,
//!   `optional` the `-a key=value` annotations);
//! * the base64 ECDSA signature of the payload in the layer annotation
//!   `dev.cosignproject.cosign/signature`.
//!
//! The payload and the signature come from sigstore (`SignatureLayer`,
//! `AnnotationMarker`, `PrivateKeySigner`). The manifest is written with
//! oci-client here rather than with sigstore's `push_signature`, because that
//! replaces the manifest with the layers it is given and drops the
//! certificate/bundle annotations of layers it re-serialises: a second
//! signature (a maintainer's key next to the release workflow's keyless one)
//! would erase the first. Here the existing layers are kept as they are.
//!
//! `verify` reads policy-server's verification config (the YAML of the
//! PolicyServer's `verificationConfig` ConfigMap, what `kwctl verify
//! --verification-config-path` reads; kubewarden-controller
//! `crates/policy-fetcher/src/verify/config.rs`) and checks its `pubKey`
//! requirements against the layers sigstore trusts. Keyless requirements
//! (`genericIssuer`, `urlIssuer`, `githubAction`) need Sigstore's Fulcio
//! certificates and Rekor log, fetched online: they are refused with an error
//! naming them, never skipped.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use anyhow::{Context, Result, anyhow, bail};
use oci_client::Reference;
use oci_client::client::{Config, ImageData, ImageLayer};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use serde::{Deserialize, Serialize};
use sigstore::cosign::constraint::{AnnotationMarker, PrivateKeySigner};
use sigstore::cosign::payload::simple_signing::SimpleSigning;
use sigstore::cosign::verification_constraint::{
    AnnotationVerifier, PublicKeyVerifier, VerificationConstraint,
};
use sigstore::cosign::{ClientBuilder, Constraint, CosignCapabilities, SignatureLayer};
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::{CosignVerificationKey, SigStoreSigner, Signature, SigningScheme};
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

use crate::registry::{Registry, parse_uri, sha256_digest};

/// The media type of a simple-signing layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature of the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The environment variable cosign reads the private key's password from.
pub const PASSWORD_VARIABLE: &str = "COSIGN_PASSWORD";

/// `sha256:<hex>` → `sha256-<hex>.sig`, the tag cosign looks under.
pub fn signature_tag(digest: &str) -> Result<String> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| anyhow!("not a sha256 digest: {digest}"))?;
    Ok(format!("sha256-{hex}.sig"))
}

/// A key pair as `cosign generate-key-pair` writes it.
pub struct KeyPair {
    /// `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----` (scrypt + secretbox).
    pub private_pem: String,
    /// `-----BEGIN PUBLIC KEY-----` (ECDSA P-256, SubjectPublicKeyInfo).
    pub public_pem: String,
}

/// A new ECDSA P-256 key pair, the private key encrypted with `password`.
pub fn generate_key_pair(password: &[u8]) -> Result<KeyPair> {
    let keys = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .and_then(|signer| signer.to_sigstore_keypair())
        .map_err(|e| anyhow!("cannot generate an ECDSA P-256 key pair: {e}"))?;
    // The pem crate ends lines with CRLF; cosign's files use LF.
    Ok(KeyPair {
        private_pem: keys
            .private_key_to_encrypted_pem(password)
            .map_err(|e| anyhow!("cannot encrypt the private key: {e}"))?
            .replace("\r\n", "\n"),
        public_pem: keys
            .public_key_to_pem()
            .map_err(|e| anyhow!("cannot encode the public key: {e}"))?
            .replace("\r\n", "\n"),
    })
}

/// A signer from a private key PEM (cosign's encrypted format, or a plain
/// PKCS#8 key).
pub fn signer_from_pem(pem: &[u8], password: &[u8]) -> Result<SigStoreSigner> {
    let text = String::from_utf8_lossy(pem);
    let keys = if text.contains("-----BEGIN ENCRYPTED") {
        SigStoreKeyPair::from_encrypted_pem(pem, password).map_err(|e| {
            anyhow!("cannot decrypt the private key (wrong {PASSWORD_VARIABLE}?): {e}")
        })?
    } else {
        SigStoreKeyPair::from_pem(pem).map_err(|e| anyhow!("not a private key PEM: {e}"))?
    };
    keys.to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
        .map_err(|e| anyhow!("the private key is not an ECDSA P-256 key: {e}"))
}

/// The base64 signature of a blob, as `cosign sign-blob --key` prints it.
pub fn sign_blob(signer: &SigStoreSigner, blob: &[u8]) -> Result<String> {
    use base64::Engine as _;
    let signature = signer.sign(blob).map_err(|e| anyhow!("cannot sign: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// Checks a base64 signature of a blob against a public key PEM, as
/// `cosign verify-blob --key --signature` does (without a transparency log).
pub fn verify_blob(public_pem: &[u8], signature_base64: &str, blob: &[u8]) -> Result<()> {
    let key = CosignVerificationKey::try_from_pem(public_pem)
        .map_err(|e| anyhow!("not a public key PEM: {e}"))?;
    key.verify_signature(
        Signature::Base64Encoded(signature_base64.trim().as_bytes()),
        blob,
    )
    .map_err(|_| anyhow!("the signature does not match the blob and this public key"))
}

/// What `sign` pushed.
#[derive(Debug, Clone)]
pub struct Signed {
    /// `<registry>/<repository>@sha256:…`, what was signed.
    pub immutable_ref: String,
    /// `<registry>/<repository>:sha256-….sig`, where the signature is.
    pub signature_ref: String,
    /// How many signatures the tag holds now.
    pub signatures: usize,
}

/// What `verify` accepted.
#[derive(Debug, Clone)]
pub struct Verified {
    pub immutable_ref: String,
    pub signature_ref: String,
    /// One line per satisfied requirement.
    pub satisfied: Vec<String>,
}

// ------------------------------------------------------------------ config

/// policy-server's verification config (`apiVersion: v1`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationConfig {
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_of: Option<Vec<Requirement>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<AnyOf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnyOf {
    #[serde(default = "one")]
    pub minimum_matches: u8,
    pub signatures: Vec<Requirement>,
}

fn one() -> u8 {
    1
}

/// One requirement. The keyless kinds are read so that they can be named;
/// their fields are policy-fetcher's (`subjectEqual` / `subjectUrlPrefix`
/// flattened, hence no `deny_unknown_fields` on them, as upstream notes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Requirement {
    PubKey(PubKey),
    GenericIssuer(Keyless),
    UrlIssuer(Keyless),
    GithubAction(GithubAction),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PubKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Keyless {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_equal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_url_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GithubAction {
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Requirement {
    /// `pubKey (owner alice)`, `githubAction (owner kubewarden, repo x)`, …
    pub fn describe(&self) -> String {
        match self {
            Requirement::PubKey(k) => match &k.owner {
                Some(owner) => format!("pubKey (owner {owner})"),
                None => "pubKey".to_owned(),
            },
            Requirement::GenericIssuer(k) | Requirement::UrlIssuer(k) => {
                let kind = match self {
                    Requirement::GenericIssuer(_) => "genericIssuer",
                    _ => "urlIssuer",
                };
                let issuer = k.issuer.as_deref().or(k.url.as_deref()).unwrap_or("?");
                let subject = k
                    .subject_equal
                    .as_deref()
                    .or(k.subject_url_prefix.as_deref())
                    .unwrap_or("?");
                format!("{kind} (issuer {issuer}, subject {subject})")
            }
            Requirement::GithubAction(g) => match &g.repo {
                Some(repo) => format!("githubAction (owner {}, repo {repo})", g.owner),
                None => format!("githubAction (owner {})", g.owner),
            },
        }
    }
}

impl VerificationConfig {
    pub fn from_yaml(text: &str) -> Result<VerificationConfig> {
        let config: VerificationConfig = serde_yaml::from_str(text)
            .map_err(|e| anyhow!("not a verification config (apiVersion v1, allOf/anyOf): {e}"))?;
        if config.api_version != "v1" {
            bail!(
                "verification config apiVersion {:?}: policy-server reads v1",
                config.api_version
            );
        }
        let any_of_empty = config
            .any_of
            .as_ref()
            .is_none_or(|a| a.signatures.is_empty());
        if config.all_of.as_ref().is_none_or(Vec::is_empty) && any_of_empty {
            bail!("the verification config requires no signature: give allOf or anyOf");
        }
        if let Some(any_of) = &config.any_of
            && usize::from(any_of.minimum_matches) > any_of.signatures.len()
        {
            bail!(
                "anyOf.minimumMatches is {} but anyOf lists {} signature(s): it can never be met",
                any_of.minimum_matches,
                any_of.signatures.len()
            );
        }
        Ok(config)
    }

    /// `kwctl verify -k <key>… -a <k=v>…`: every key required, each with the annotations.
    pub fn from_keys(
        keys: Vec<(String, String)>,
        annotations: BTreeMap<String, String>,
    ) -> VerificationConfig {
        let annotations = (!annotations.is_empty()).then_some(annotations);
        VerificationConfig {
            api_version: "v1".to_owned(),
            all_of: Some(
                keys.into_iter()
                    .map(|(owner, key)| {
                        Requirement::PubKey(PubKey {
                            owner: Some(owner),
                            key,
                            annotations: annotations.clone(),
                        })
                    })
                    .collect(),
            ),
            any_of: None,
        }
    }

    /// Every requirement with its place in the file: `allOf[0]`, `anyOf.signatures[1]`.
    fn located(&self) -> Vec<(String, &Requirement)> {
        let mut out = Vec::new();
        for (i, r) in self.all_of.iter().flatten().enumerate() {
            out.push((format!("allOf[{i}]"), r));
        }
        if let Some(any_of) = &self.any_of {
            for (i, r) in any_of.signatures.iter().enumerate() {
                out.push((format!("anyOf.signatures[{i}]"), r));
            }
        }
        out
    }

    /// The keyless requirements, which cannot be checked offline: an error
    /// naming each of them.
    pub fn refuse_keyless(&self) -> Result<()> {
        let keyless: Vec<String> = self
            .located()
            .into_iter()
            .filter(|(_, r)| !matches!(r, Requirement::PubKey(_)))
            .map(|(place, r)| format!("  {place}: {}", r.describe()))
            .collect();
        if !keyless.is_empty() {
            bail!(
                "keyless signatures are not supported offline: checking them needs Sigstore's \
                 Fulcio certificates and Rekor transparency log, and policy-dist verifies \
                 public keys only. Use `kwctl verify --verification-config-path <file> <uri>` \
                 for these requirements:\n{}",
                keyless.join("\n")
            );
        }
        Ok(())
    }
}

/// Why a `pubKey` requirement is not met by any of `layers`, or `None`.
fn unmet(requirement: &PubKey, layers: &[SignatureLayer], signature_ref: &str) -> Option<String> {
    let verifier = match PublicKeyVerifier::try_from(requirement.key.as_bytes()) {
        Ok(v) => v,
        Err(e) => return Some(format!("its key is not a PEM public key: {e}")),
    };
    let by_key: Vec<&SignatureLayer> = layers
        .iter()
        .filter(|l| verifier.verify(l).unwrap_or(false))
        .collect();
    if by_key.is_empty() {
        return Some(format!(
            "no signature by this key: the {} signature(s) at {signature_ref} are by another key",
            layers.len()
        ));
    }
    if let Some(annotations) = &requirement.annotations {
        let wanted = AnnotationVerifier {
            annotations: annotations.clone(),
        };
        if !by_key.iter().any(|l| wanted.verify(l).unwrap_or(false)) {
            let listed: Vec<String> = annotations
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Some(format!(
                "signed by this key, but no such signature carries the annotations {}",
                listed.join(", ")
            ));
        }
    }
    None
}

// ------------------------------------------------------------------ registry

impl Registry {
    /// The digest `uri` resolves to now.
    pub fn resolve_digest(&self, uri: &str) -> Result<String> {
        Ok(self.manifest_raw(uri)?.1)
    }

    /// The cosign signature image of `digest` in the repository of
    /// `reference`, `None` when the tag does not exist.
    pub fn signature_image(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<Option<ImageData>> {
        let tag = signature_tag(digest)?;
        let repository = Reference::with_tag(
            reference.registry().to_owned(),
            reference.repository().to_owned(),
            tag.clone(),
        );
        let tags = self.with_protocols(&repository, |client| {
            let repository = &repository;
            async move { client.list_tags(repository, &self.auth, None, None).await }
        })?;
        if !tags.tags.contains(&tag) {
            return Ok(None);
        }
        let image = self.with_protocols(&repository, |client| {
            let repository = &repository;
            async move {
                client
                    .pull(repository, &self.auth, vec![SIMPLE_SIGNING_MEDIA_TYPE])
                    .await
            }
        })?;
        Ok(Some(image))
    }

    /// Signs what `uri` resolves to with a cosign private key and stores the
    /// signature where cosign looks for it, next to any signature already there.
    pub fn sign(
        &self,
        uri: &str,
        signer: SigStoreSigner,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Signed> {
        let reference = parse_uri(uri)?;
        let digest = self.resolve_digest(uri)?;
        let repository = format!("{}/{}", reference.registry(), reference.repository());
        let immutable = OciReference::from_str(&format!("{repository}@{digest}"))
            .map_err(|e| anyhow!("{e}"))?;
        let mut layer = SignatureLayer::new_unsigned(&immutable, &digest)
            .map_err(|e| anyhow!("cannot build the simple-signing payload: {e}"))?;
        // cosign's docker-reference is the repository, without tag or digest.
        layer.simple_signing.critical.identity.docker_reference = repository.clone();
        if !annotations.is_empty() {
            let marker = AnnotationMarker::new(
                annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>(),
            );
            marker
                .add_constraint(&mut layer)
                .map_err(|e| anyhow!("cannot add the annotations: {e}"))?;
        }
        PrivateKeySigner::new_with_signer(signer)
            .add_constraint(&mut layer)
            .map_err(|e| anyhow!("cannot sign the payload: {e}"))?;
        let signature = layer
            .signature
            .clone()
            .ok_or_else(|| anyhow!("sigstore produced no signature"))?;

        // The signatures already there, in the manifest's order (oci-client
        // fetches the blobs concurrently) with the manifest's annotations.
        let mut layers: Vec<ImageLayer> = match self.signature_image(&reference, &digest)? {
            Some(existing) => {
                let manifest = existing.manifest.ok_or_else(|| {
                    anyhow!("the registry returned no manifest for the signatures")
                })?;
                manifest
                    .layers
                    .iter()
                    .map(|descriptor| {
                        existing
                            .layers
                            .iter()
                            .find(|l| sha256_digest(&l.data) == descriptor.digest)
                            .map(|l| {
                                ImageLayer::new(
                                    l.data.to_vec(),
                                    descriptor.media_type.clone(),
                                    descriptor.annotations.clone(),
                                )
                            })
                            .ok_or_else(|| {
                                anyhow!("signature layer {} could not be pulled", descriptor.digest)
                            })
                    })
                    .collect::<Result<_>>()?
            }
            None => Vec::new(),
        };
        let new_layer = ImageLayer::new(
            layer.raw_data.clone(),
            SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
            Some(BTreeMap::from([(
                SIGNATURE_ANNOTATION.to_owned(),
                signature,
            )])),
        );
        if !layers
            .iter()
            .any(|l| l.data == new_layer.data && l.annotations == new_layer.annotations)
        {
            layers.push(new_layer);
        }
        let config = Config::oci_v1(b"{}".to_vec(), None);
        let mut manifest = OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
        let tag = signature_tag(&digest)?;
        let target = Reference::with_tag(
            reference.registry().to_owned(),
            reference.repository().to_owned(),
            tag.clone(),
        );
        self.with_protocols(&target, |client| {
            let (target, layers, config, manifest) =
                (&target, &layers, config.clone(), manifest.clone());
            async move {
                client
                    .push(target, layers, config, &self.auth, Some(manifest))
                    .await
            }
        })?;
        Ok(Signed {
            immutable_ref: format!("{repository}@{digest}"),
            signature_ref: format!("{repository}:{tag}"),
            signatures: layers.len(),
        })
    }

    /// Checks what `uri` resolves to against a verification config.
    pub fn verify(&self, uri: &str, config: &VerificationConfig) -> Result<Verified> {
        config.refuse_keyless()?;
        let reference = parse_uri(uri)?;
        let digest = self.resolve_digest(uri)?;
        let repository = format!("{}/{}", reference.registry(), reference.repository());
        let immutable_ref = format!("{repository}@{digest}");
        let signature_ref = format!("{repository}:{}", signature_tag(&digest)?);

        // What is at the tag, read directly: the messages say what is wrong.
        let image = self.signature_image(&reference, &digest)?;
        if let Some(image) = &image {
            let mut signed: Vec<String> = image
                .layers
                .iter()
                .filter(|l| l.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
                .filter_map(|l| serde_json::from_slice::<SimpleSigning>(&l.data).ok())
                .map(|s| s.critical.image.docker_manifest_digest)
                .collect();
            signed.sort();
            signed.dedup();
            if !signed.is_empty() && !signed.contains(&digest) {
                bail!(
                    "digest mismatch: the signature at {signature_ref} signs {}, but {uri} resolves \
                     to {digest} (the module was replaced after it was signed)",
                    signed.join(", ")
                );
            }
        }

        // The layers sigstore trusts (payload digest, layer digest, signature
        // annotation), from the .sig tag and from OCI referrers (cosign's
        // newer bundle format).
        let layers = self.trusted_layers(&reference, &immutable_ref)?;
        if layers.is_empty() {
            match image {
                None => bail!("no signature found at {signature_ref} ({uri} resolves to {digest})"),
                Some(_) => bail!(
                    "no signature found at {signature_ref}: the image there has no valid \
                     {SIMPLE_SIGNING_MEDIA_TYPE} layer"
                ),
            }
        }

        let mut satisfied = Vec::new();
        let mut failures = Vec::new();
        for (place, requirement) in config.located() {
            let Requirement::PubKey(key) = requirement else {
                unreachable!("refuse_keyless left only pubKey requirements")
            };
            match unmet(key, &layers, &signature_ref) {
                None => satisfied.push(format!("{place}: {}", requirement.describe())),
                Some(why) => failures.push((place, requirement.describe(), why)),
            }
        }
        let failed_all_of: Vec<String> = failures
            .iter()
            .filter(|(place, _, _)| place.starts_with("allOf"))
            .map(|(place, what, why)| format!("  {place}: {what}: {why}"))
            .collect();
        if !failed_all_of.is_empty() {
            bail!(
                "verification of {immutable_ref} failed: allOf not satisfied:\n{}",
                failed_all_of.join("\n")
            );
        }
        if let Some(any_of) = &config.any_of {
            let matched = satisfied.iter().filter(|s| s.starts_with("anyOf")).count();
            if matched < usize::from(any_of.minimum_matches) {
                let failed: Vec<String> = failures
                    .iter()
                    .filter(|(place, _, _)| place.starts_with("anyOf"))
                    .map(|(place, what, why)| format!("  {place}: {what}: {why}"))
                    .collect();
                bail!(
                    "verification of {immutable_ref} failed: anyOf needs {} matching signature(s), {matched} matched:\n{}",
                    any_of.minimum_matches,
                    failed.join("\n")
                );
            }
        }
        Ok(Verified {
            immutable_ref,
            signature_ref,
            satisfied,
        })
    }

    /// sigstore's cosign client: the signature layers of `immutable_ref`
    /// whose payload, layer digest and signature annotation are consistent.
    fn trusted_layers(
        &self,
        reference: &Reference,
        immutable_ref: &str,
    ) -> Result<Vec<SignatureLayer>> {
        let registry = reference.resolve_registry().to_owned();
        let protocol = if self.sources.insecure_sources.contains(&registry) {
            ClientProtocol::HttpsExcept(vec![registry])
        } else {
            ClientProtocol::Https
        };
        let auth = match &self.auth {
            RegistryAuth::Basic(user, password) => Auth::Basic(user.clone(), password.clone()),
            _ => Auth::Anonymous,
        };
        let image = OciReference::from_str(immutable_ref).map_err(|e| anyhow!("{e}"))?;
        self.runtime.block_on(async {
            let mut client = ClientBuilder::default()
                .with_oci_client_config(ClientConfig {
                    protocol,
                    ..ClientConfig::default()
                })
                .build()
                .map_err(|e| anyhow!("cannot build the cosign client: {e}"))?;
            client
                .trusted_signature_layers(&auth, &image)
                .await
                .map_err(|e| anyhow!("cannot read the signatures of {immutable_ref}: {e}"))
        })
    }
}

/// The password of a cosign private key: `COSIGN_PASSWORD`, which must be set
/// (possibly empty), as cosign requires when it cannot prompt.
pub fn password_from_env() -> Result<Vec<u8>> {
    std::env::var_os(PASSWORD_VARIABLE)
        .map(|p| p.into_encoded_bytes())
        .with_context(|| {
            format!(
                "{PASSWORD_VARIABLE} is not set: the private key is encrypted with it \
                 (export {PASSWORD_VARIABLE}= for an empty password)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_tags() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            signature_tag(&d).unwrap(),
            format!("sha256-{}.sig", "ab".repeat(32))
        );
        assert_eq!(
            signature_tag("sha512:00").unwrap_err().to_string(),
            "not a sha256 digest: sha512:00"
        );
    }

    #[test]
    fn key_pairs_sign_and_verify_blobs() {
        let keys = generate_key_pair(b"secret").unwrap();
        assert!(
            keys.private_pem
                .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
        );
        assert!(keys.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(!keys.private_pem.contains('\r') && !keys.public_pem.contains('\r'));
        let signer = signer_from_pem(keys.private_pem.as_bytes(), b"secret").unwrap();
        let signature = sign_blob(&signer, b"blob").unwrap();
        verify_blob(keys.public_pem.as_bytes(), &signature, b"blob").unwrap();
        assert_eq!(
            verify_blob(keys.public_pem.as_bytes(), &signature, b"other")
                .unwrap_err()
                .to_string(),
            "the signature does not match the blob and this public key"
        );
        let err = signer_from_pem(keys.private_pem.as_bytes(), b"wrong")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("cannot decrypt the private key (wrong COSIGN_PASSWORD?): "),
            "{err}"
        );
        // An empty password is a password too (cosign accepts it).
        let empty = generate_key_pair(b"").unwrap();
        signer_from_pem(empty.private_pem.as_bytes(), b"").unwrap();
    }

    #[test]
    fn configs_as_policy_server_reads_them() {
        let config = VerificationConfig::from_yaml(
            "apiVersion: v1\nallOf:\n  - kind: pubKey\n    owner: alice\n    key: K\n    annotations:\n      env: prod\n\
             anyOf:\n  minimumMatches: 1\n  signatures:\n  - kind: githubAction\n    owner: kubewarden\n",
        )
        .unwrap();
        assert_eq!(
            config.all_of.as_ref().unwrap()[0],
            Requirement::PubKey(PubKey {
                owner: Some("alice".to_owned()),
                key: "K".to_owned(),
                annotations: Some(BTreeMap::from([("env".to_owned(), "prod".to_owned())])),
            })
        );
        assert_eq!(
            config.refuse_keyless().unwrap_err().to_string(),
            "keyless signatures are not supported offline: checking them needs Sigstore's \
             Fulcio certificates and Rekor transparency log, and policy-dist verifies public \
             keys only. Use `kwctl verify --verification-config-path <file> <uri>` for these \
             requirements:\n  anyOf.signatures[0]: githubAction (owner kubewarden)"
        );
        let generic = VerificationConfig::from_yaml(
            "apiVersion: v1\nallOf:\n  - kind: genericIssuer\n    issuer: https://token.actions.githubusercontent.com\n    subjectUrlPrefix: https://github.com/o/\n",
        )
        .unwrap();
        assert!(generic.refuse_keyless().unwrap_err().to_string().ends_with(
            "  allOf[0]: genericIssuer (issuer https://token.actions.githubusercontent.com, subject https://github.com/o/)"
        ));
        for (yaml, message) in [
            (
                "apiVersion: v2\nallOf: [{kind: pubKey, key: K}]\n",
                "verification config apiVersion \"v2\": policy-server reads v1",
            ),
            (
                "apiVersion: v1\n",
                "the verification config requires no signature: give allOf or anyOf",
            ),
            (
                "apiVersion: v1\nanyOf: {minimumMatches: 2, signatures: [{kind: pubKey, key: K}]}\n",
                "anyOf.minimumMatches is 2 but anyOf lists 1 signature(s): it can never be met",
            ),
        ] {
            assert_eq!(
                VerificationConfig::from_yaml(yaml).unwrap_err().to_string(),
                message
            );
        }
        let err = VerificationConfig::from_yaml(
            "apiVersion: v1\nallOf: [{kind: pubKey, key: K, extra: 1}]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("not a verification config (apiVersion v1, allOf/anyOf): "),
            "{err}"
        );
    }
}

/// Checks a Sigstore ClientTrustConfig the way kwctl reads `--sigstore-trust-config`
/// (`config/verification.rs`): JSON of the protobuf-specs message, with a
/// `trustedRoot`. Same error texts as kwctl's.
pub fn check_trust_config(path: &str, json: &[u8]) -> Result<()> {
    let config: sigstore_protobuf_specs::dev::sigstore::trustroot::v1::ClientTrustConfig =
        serde_json::from_slice(json)
            .map_err(|e| anyhow!("could not parse Sigstore trust config file {path}: {e}"))?;
    if config.trusted_root.is_none() {
        bail!("Sigstore PKI file {path} missing trusted_root field");
    }
    Ok(())
}

#[cfg(test)]
mod trust_config_tests {
    use super::check_trust_config;

    const ROOT: &str = r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [], "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}"#;

    #[test]
    fn a_client_trust_config_with_a_trusted_root_is_accepted() {
        let config = format!(
            r#"{{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json", "trustedRoot": {ROOT}}}"#
        );
        check_trust_config("trust.json", config.as_bytes()).unwrap();
    }

    #[test]
    fn kwctls_errors_name_the_file() {
        let missing =
            r#"{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}"#;
        assert_eq!(
            check_trust_config("trust.json", missing.as_bytes())
                .unwrap_err()
                .to_string(),
            "Sigstore PKI file trust.json missing trusted_root field"
        );
        let error = check_trust_config("trust.json", b"trusted_root: yaml")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("could not parse Sigstore trust config file trust.json: "),
            "{error}"
        );
    }
}
