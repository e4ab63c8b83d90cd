//! Signing and verification against a real registry (Debian's
//! `docker-registry`, as the OCI round trip): push → generate-key-pair → sign
//! → verify, and every way verification must fail, through the command line
//! the Makefile runs. The signature is then read back with oci-client alone,
//! where cosign looks for it.

use std::path::Path;
use std::process::{Command, Output};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use policy_dist::annotate::annotate;
use policy_dist::registry::sha256_digest;
use policy_dist::signing::{SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, verify_blob};
use serde_json::Value;

use crate::common::local_registry::LocalRegistry;
use crate::common::{TempDir, policy_wasm, read_text};

const REPOSITORY: &str = "signed/documentdb-upgrade-safety";
const PASSWORD: &str = "correct horse";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(args)
        .current_dir(dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("REGISTRY_USERNAME")
        .env_remove("REGISTRY_PASSWORD")
        .output()
        .expect("policy-dist runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "policy-dist {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// stderr of a command that must fail, without the `Error: ` prefix.
fn fails(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        !output.status.success(),
        "policy-dist {args:?} succeeded:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    stderr
        .strip_prefix("Error: ")
        .unwrap_or(&stderr)
        .trim_end()
        .to_owned()
}

fn module(usage: &str) -> Vec<u8> {
    annotate(
        policy_wasm(),
        &read_text("policy-metadata/metadata.yml"),
        Some(usage),
    )
    .unwrap()
    .module
}

/// `push -o json`, as `make push`: the immutable reference.
fn push(dir: &Path, module: &[u8], uri: &str) -> String {
    let path = dir.join("annotated-policy.wasm");
    std::fs::write(&path, module).unwrap();
    let stdout = ok(
        dir,
        &[
            "push",
            "--sources-path",
            "sources.yml",
            "-o",
            "json",
            path.to_str().unwrap(),
            uri,
        ],
    );
    let pushed: Value = serde_json::from_str(stdout.trim()).unwrap();
    pushed["immutable_ref"].as_str().unwrap().to_owned()
}

fn oci_client() -> (Client, tokio::runtime::Runtime) {
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (client, runtime)
}

#[test]
fn sign_and_verify_against_a_registry() {
    let registry = LocalRegistry::start();
    let host = registry.host();
    let work = TempDir::new("signing");
    let dir = work.0.as_path();
    std::fs::write(
        dir.join("sources.yml"),
        format!("insecure_sources: [\"{host}\"]\n"),
    )
    .unwrap();
    let uri = format!("registry://{host}/{REPOSITORY}:v1");
    let original = module("# Usage\n");
    let immutable_ref = push(dir, &original, &uri);
    let digest = immutable_ref.split_once('@').unwrap().1.to_owned();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let signature_ref = format!("{host}/{REPOSITORY}:sha256-{hex}.sig");
    let src = ["--sources-path", "sources.yml"];

    // ---- keys, as `cosign generate-key-pair`
    assert_eq!(
        ok(dir, &["generate-key-pair"]),
        "Private key written to cosign.key\nPublic key written to cosign.pub\n"
    );
    let private = std::fs::read_to_string(dir.join("cosign.key")).unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let public = std::fs::read_to_string(dir.join("cosign.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(
        fails(dir, &["generate-key-pair"]),
        "cosign.key already exists: remove it or choose another --output-key-prefix"
    );
    ok(dir, &["generate-key-pair", "--output-key-prefix", "other"]);

    // ---- not signed yet
    assert_eq!(
        fails(dir, &["verify", src[0], src[1], "-k", "cosign.pub", &uri]),
        format!("no signature found at {signature_ref} ({uri} resolves to {digest})")
    );

    // ---- a wrong password is named
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(["sign", src[0], src[1], "--key", "cosign.key", &uri])
        .current_dir(dir)
        .env("COSIGN_PASSWORD", "wrong")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "Error: cosign.key: cannot decrypt the private key (wrong COSIGN_PASSWORD?): "
        ),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(["sign", src[0], src[1], "--key", "cosign.key", &uri])
        .current_dir(dir)
        .env_remove("COSIGN_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "Error: COSIGN_PASSWORD is not set: the private key is encrypted with it \
         (export COSIGN_PASSWORD= for an empty password)\n"
    );

    // ---- sign by tag: the digest is what gets signed
    assert_eq!(
        ok(
            dir,
            &[
                "sign",
                src[0],
                src[1],
                "--key",
                "cosign.key",
                "-a",
                "env=prod",
                &uri
            ]
        ),
        format!(
            "Signed {immutable_ref}: signature pushed to {signature_ref} (1 signature(s) there)\n"
        )
    );

    // ---- verify: a key, a key with annotations, a config file
    let verified =
        format!("Policy successfully verified: {immutable_ref} (signatures at {signature_ref})\n");
    assert_eq!(
        ok(dir, &["verify", src[0], src[1], "-k", "cosign.pub", &uri]),
        format!("{verified}  satisfied allOf[0]: pubKey (owner cosign.pub)\n")
    );
    ok(
        dir,
        &[
            "verify",
            src[0],
            src[1],
            "-k",
            "cosign.pub",
            "-a",
            "env=prod",
            &uri,
        ],
    );
    assert_eq!(
        fails(
            dir,
            &[
                "verify",
                src[0],
                src[1],
                "-k",
                "cosign.pub",
                "-a",
                "env=dev",
                &uri
            ]
        ),
        format!(
            "verification of {immutable_ref} failed: allOf not satisfied:\n  allOf[0]: pubKey \
             (owner cosign.pub): signed by this key, but no such signature carries the \
             annotations env=dev"
        )
    );
    let indent = |pem: &str| {
        pem.lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    };
    let other_public = std::fs::read_to_string(dir.join("other.pub")).unwrap();
    std::fs::write(
        dir.join("verification-config.yml"),
        format!(
            "apiVersion: v1\nallOf:\n  - kind: pubKey\n    owner: release\n    key: |\n{}    annotations:\n      env: prod\n\
             anyOf:\n  minimumMatches: 1\n  signatures:\n  - kind: pubKey\n    owner: other\n    key: |\n{}  - kind: pubKey\n    key: |\n{}",
            indent(&public),
            indent(&other_public),
            indent(&public)
        ),
    )
    .unwrap();
    let config_args = [
        "verify",
        src[0],
        src[1],
        "--verification-config-path",
        "verification-config.yml",
        &uri,
    ];
    assert_eq!(
        ok(dir, &config_args),
        format!(
            "{verified}  satisfied allOf[0]: pubKey (owner release)\n  satisfied anyOf.signatures[1]: pubKey\n"
        )
    );

    // ---- another key's requirement
    assert_eq!(
        fails(dir, &["verify", src[0], src[1], "-k", "other.pub", &uri]),
        format!(
            "verification of {immutable_ref} failed: allOf not satisfied:\n  allOf[0]: pubKey \
             (owner other.pub): no signature by this key: the 1 signature(s) at {signature_ref} \
             are by another key"
        )
    );

    // ---- a second signature is added next to the first
    assert_eq!(
        ok(dir, &["sign", src[0], src[1], "--key", "other.key", &uri]),
        format!(
            "Signed {immutable_ref}: signature pushed to {signature_ref} (2 signature(s) there)\n"
        )
    );
    ok(
        dir,
        &[
            "verify",
            src[0],
            src[1],
            "-k",
            "other.pub",
            "-k",
            "cosign.pub",
            &uri,
        ],
    );

    // ---- a third signature, and the verification config of docs/verify.md
    // (the Makefile's `sign` / `verify` targets run these same commands; they
    // are exercised through make by e2e/release.bats, not from cargo test)
    let stdout = ok(dir, &["sign", src[0], src[1], "--key", "cosign.key", &uri]);
    assert_eq!(
        stdout,
        format!(
            "Signed {immutable_ref}: signature pushed to {signature_ref} (3 signature(s) there)\n"
        )
    );
    let stdout = ok(dir, &config_args);
    assert!(stdout.contains(&verified), "{stdout}");
    let stdout = ok(dir, &["verify", src[0], src[1], "-k", "other.pub", &uri]);
    assert!(
        stdout.contains("  satisfied allOf[0]: pubKey (owner "),
        "{stdout}"
    );

    // ---- where cosign looks: read with oci-client, no policy-dist code
    let (client, runtime) = oci_client();
    let auth = RegistryAuth::Anonymous;
    let sig_reference: Reference = signature_ref.parse().unwrap();
    let tags = runtime
        .block_on(client.list_tags(&sig_reference, &auth, None, None))
        .unwrap();
    assert!(tags.tags.contains(&format!("sha256-{hex}.sig")), "{tags:?}");
    let (raw, _) = runtime
        .block_on(client.pull_manifest_raw(&sig_reference, &auth, &[OCI_IMAGE_MEDIA_TYPE]))
        .unwrap();
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["mediaType"], OCI_IMAGE_MEDIA_TYPE);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    let keys = [public.as_str(), other_public.as_str(), public.as_str()];
    for (layer, key) in layers.iter().zip(keys) {
        assert_eq!(layer["mediaType"], SIMPLE_SIGNING_MEDIA_TYPE);
        assert_eq!(
            SIMPLE_SIGNING_MEDIA_TYPE,
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        assert_eq!(SIGNATURE_ANNOTATION, "dev.cosignproject.cosign/signature");
        let signature = layer["annotations"][SIGNATURE_ANNOTATION].as_str().unwrap();
        let descriptor: oci_client::manifest::OciDescriptor =
            serde_json::from_value(layer.clone()).unwrap();
        let mut payload = Vec::new();
        runtime
            .block_on(client.pull_blob(&sig_reference, &descriptor, &mut payload))
            .unwrap();
        assert_eq!(sha256_digest(&payload), layer["digest"]);
        let simple_signing: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            simple_signing["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(
            simple_signing["critical"]["type"],
            "cosign container image signature"
        );
        assert_eq!(
            simple_signing["critical"]["identity"]["docker-reference"],
            format!("{host}/{REPOSITORY}")
        );
        // The annotation is the signature of exactly these payload bytes.
        verify_blob(key.as_bytes(), signature, &payload)
            .unwrap_or_else(|e| panic!("{e}: {layer} {manifest}"));
    }
    let first: Value = {
        let descriptor: oci_client::manifest::OciDescriptor =
            serde_json::from_value(layers[0].clone()).unwrap();
        let mut payload = Vec::new();
        runtime
            .block_on(client.pull_blob(&sig_reference, &descriptor, &mut payload))
            .unwrap();
        serde_json::from_slice(&payload).unwrap()
    };
    assert_eq!(first["optional"]["env"], "prod");

    // ---- keyless requirements are refused, not skipped
    std::fs::write(
        dir.join("keyless.yml"),
        "apiVersion: v1\nallOf:\n  - kind: githubAction\n    owner: kubewarden\n",
    )
    .unwrap();
    assert_eq!(
        fails(
            dir,
            &[
                "verify",
                src[0],
                src[1],
                "--verification-config-path",
                "keyless.yml",
                &uri
            ]
        ),
        "keyless signatures are not supported offline: checking them needs Sigstore's Fulcio \
         certificates and Rekor transparency log, and policy-dist verifies public keys only. \
         Use `kwctl verify --verification-config-path <file> <uri>` for these requirements:\n  \
         allOf[0]: githubAction (owner kubewarden)"
    );

    // ---- the module replaced under the same tag
    let tampered = module("# Usage, changed after signing\n");
    let tampered_ref = push(dir, &tampered, &uri);
    let tampered_digest = tampered_ref.split_once('@').unwrap().1.to_owned();
    assert_ne!(tampered_digest, digest);
    let tampered_sig = format!(
        "{host}/{REPOSITORY}:sha256-{}.sig",
        tampered_digest.strip_prefix("sha256:").unwrap()
    );
    assert_eq!(
        fails(dir, &["verify", src[0], src[1], "-k", "cosign.pub", &uri]),
        format!("no signature found at {tampered_sig} ({uri} resolves to {tampered_digest})")
    );
    // The signed digest itself still verifies.
    ok(
        dir,
        &[
            "verify",
            src[0],
            src[1],
            "-k",
            "cosign.pub",
            &format!("registry://{immutable_ref}"),
        ],
    );
    // An attacker copies the old signature under the new digest's tag: the
    // payload names the old digest.
    let old_signature = runtime
        .block_on(client.pull(&sig_reference, &auth, vec![SIMPLE_SIGNING_MEDIA_TYPE]))
        .unwrap();
    let copied: Vec<ImageLayer> = old_signature.layers.clone();
    let config = Config::oci_v1(b"{}".to_vec(), None);
    let mut copy_manifest = OciImageManifest::build(&copied, &config, None);
    copy_manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
    let tampered_sig_reference: Reference = tampered_sig.parse().unwrap();
    runtime
        .block_on(client.push(
            &tampered_sig_reference,
            &copied,
            config,
            &auth,
            Some(copy_manifest),
        ))
        .unwrap();
    assert_eq!(
        fails(dir, &["verify", src[0], src[1], "-k", "cosign.pub", &uri]),
        format!(
            "digest mismatch: the signature at {tampered_sig} signs {digest}, but {uri} \
             resolves to {tampered_digest} (the module was replaced after it was signed)"
        )
    );

    // A payload for the right digest but without a signature annotation:
    // sigstore trusts no layer there.
    let unsigned = ImageLayer::new(
        serde_json::to_vec(&serde_json::json!({
            "critical": {
                "identity": {"docker-reference": format!("{host}/{REPOSITORY}")},
                "image": {"docker-manifest-digest": tampered_digest},
                "type": "cosign container image signature",
            },
            "optional": null,
        }))
        .unwrap(),
        SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        None,
    );
    let config = Config::oci_v1(b"{}".to_vec(), None);
    let unsigned_layers = [unsigned];
    let mut unsigned_manifest = OciImageManifest::build(&unsigned_layers, &config, None);
    unsigned_manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
    runtime
        .block_on(client.push(
            &tampered_sig_reference,
            &unsigned_layers,
            config,
            &auth,
            Some(unsigned_manifest),
        ))
        .unwrap();
    assert_eq!(
        fails(dir, &["verify", src[0], src[1], "-k", "cosign.pub", &uri]),
        format!(
            "no signature found at {tampered_sig}: the image there has no valid \
             {SIMPLE_SIGNING_MEDIA_TYPE} layer"
        )
    );

    drop(registry);
}

#[test]
fn blobs_sign_and_verify_as_cosign_sign_blob() {
    let work = TempDir::new("blob");
    let dir = work.0.as_path();
    ok(dir, &["generate-key-pair"]);
    std::fs::write(dir.join("sbom.json"), b"{\"spdxVersion\":\"SPDX-2.3\"}\n").unwrap();
    assert_eq!(
        ok(
            dir,
            &[
                "sign-blob",
                "--key",
                "cosign.key",
                "--output-signature",
                "sbom.json.sig",
                "sbom.json"
            ]
        ),
        "Signature of sbom.json written to sbom.json.sig\n"
    );
    assert_eq!(
        ok(
            dir,
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                "sbom.json.sig",
                "sbom.json"
            ]
        ),
        "Verified OK: sbom.json signed by cosign.pub\n"
    );
    std::fs::write(dir.join("sbom.json"), b"{}\n").unwrap();
    assert_eq!(
        fails(
            dir,
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--signature",
                "sbom.json.sig",
                "sbom.json"
            ]
        ),
        "sbom.json (sbom.json.sig): the signature does not match the blob and this public key"
    );
}
