//! A real OCI round trip: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1, the annotated module pushed as a Kubewarden policy
//! artifact by the `policy-dist` command line, pulled back by tag and by
//! digest, checked byte for byte and digest for digest, and evaluated through
//! the e2e runner with the same verdicts as the local module.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
use policy_dist::annotate::{annotate, tool_version};
use policy_dist::metadata::{self, Metadata};
use policy_dist::registry::{OCI_SOURCE_ANNOTATION, Registry, Sources, sha256_digest};
use policy_runner::{Policy, RunnerOptions};
use serde_json::Value;

use common::{TempDir, policy_wasm, read_text, verdict_fixtures};

const REPOSITORY: &str = "documentdb-upgrade-safety";

/// Where the registry binary is: `$DOCKER_REGISTRY_BIN`, Debian's path, PATH.
fn registry_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DOCKER_REGISTRY_BIN") {
        return PathBuf::from(path);
    }
    let candidates = std::iter::once(PathBuf::from("/usr/bin/docker-registry")).chain(
        std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("docker-registry"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    let hint = "the OCI round-trip test needs the CNCF distribution registry: \
                `apt-get install -y docker-registry` (Debian/Ubuntu; the service it may try to start is not needed), \
                or point DOCKER_REGISTRY_BIN at a `registry` binary";
    if std::env::var_os("CI").is_some() {
        panic!("docker-registry not found on this CI runner: .ci/run must install it. {hint}");
    }
    panic!("\n\n*** docker-registry not found: this test does not skip. {hint} ***\n\n");
}

/// Status, headers (lower-case names), body.
type HttpReply = (u16, Vec<(String, String)>, Vec<u8>);

/// A registry process on 127.0.0.1 with its own storage, killed on drop.
struct LocalRegistry {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl LocalRegistry {
    fn start() -> LocalRegistry {
        let binary = registry_binary();
        let mut last_log = String::new();
        // A free port can be taken between probing and binding: try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let dir = TempDir::new("registry");
            let config = dir.path("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                     http:\n  addr: 127.0.0.1:{port}\n",
                    dir.path("data").display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path("registry.log")).unwrap();
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut registry = LocalRegistry { child, port, dir };
            if registry.wait_ready() {
                return registry;
            }
            last_log =
                std::fs::read_to_string(registry.dir.path("registry.log")).unwrap_or_default();
        }
        panic!("docker-registry did not answer on /v2/; its log:\n{last_log}");
    }

    /// Until `GET /v2/` answers 200, the process dies, or 15 s pass.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if self
                .try_get("/v2/", "application/json")
                .is_some_and(|(status, _, _)| status == 200)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// A plain HTTP/1.0 GET: status, headers (lower-case names), body.
    fn get(&self, path: &str, accept: &str) -> HttpReply {
        self.try_get(path, accept)
            .unwrap_or_else(|| panic!("GET {path}: no HTTP reply from the registry"))
    }

    fn try_get(&self, path: &str, accept: &str) -> Option<HttpReply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nAccept: {accept}\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).ok()?;
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&reply[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some((status, headers, reply[split + 4..].to_vec()))
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn policy_dist(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_policy-dist"))
        .args(args)
        .output()
        .expect("policy-dist runs");
    assert!(
        output.status.success(),
        "policy-dist {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn push_pull_by_tag_and_digest_and_evaluate() {
    let registry_process = LocalRegistry::start();
    let host = registry_process.host();
    let work = TempDir::new("oci");

    // The artifact: the module annotated with the project's metadata and a
    // multi-line usage text (which must stay out of the OCI annotations).
    let metadata_yaml = read_text("policy-metadata/metadata.yml");
    let source = Metadata::from_yaml(&metadata_yaml).unwrap();
    let version = source.version().unwrap();
    let annotated = annotate(policy_wasm(), &metadata_yaml, Some("# Usage\n\nline two\n"))
        .unwrap()
        .module;
    let annotated_path = work.path("annotated-policy.wasm");
    std::fs::write(&annotated_path, &annotated).unwrap();
    // The file `kwctl push/pull --sources-path` reads.
    let sources_path = work.path("sources.yml");
    std::fs::write(
        &sources_path,
        format!("insecure_sources:\n  - \"{host}\"\n"),
    )
    .unwrap();
    let sources = sources_path.to_str().unwrap();

    // ---- push, as `kwctl push -o json`
    let tag_uri = format!("registry://{host}/{REPOSITORY}:v{version}");
    let stdout = policy_dist(&[
        "push",
        "--sources-path",
        sources,
        "-o",
        "json",
        annotated_path.to_str().unwrap(),
        &tag_uri,
    ]);
    let pushed: Value = serde_json::from_str(stdout.trim()).expect("push -o json prints JSON");
    let immutable_ref = pushed["immutable_ref"]
        .as_str()
        .expect("immutable_ref")
        .to_owned();
    let (repo_part, digest) = immutable_ref.split_once('@').expect("name@digest");
    assert_eq!(repo_part, format!("{host}/{REPOSITORY}"));
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    let registry = Registry::new(Sources::from_path(&sources_path).unwrap()).unwrap();

    // `--insecure` instead of a sources file; the same content gives the same
    // manifest, hence the same immutable reference under another tag.
    let latest_uri = format!("registry://{host}/{REPOSITORY}:latest");
    let stdout = policy_dist(&[
        "push",
        "--insecure",
        annotated_path.to_str().unwrap(),
        &latest_uri,
    ]);
    assert_eq!(
        stdout.trim(),
        format!("Policy successfully pushed: {immutable_ref}")
    );

    // ---- the manifest, exactly as the registry serves it
    let (raw, served_digest) = registry.manifest_raw(&tag_uri).unwrap();
    assert_eq!(served_digest, digest, "tag resolves to the pushed manifest");
    assert_eq!(
        sha256_digest(&raw),
        digest,
        "digest = sha256 of the manifest bytes"
    );
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    // Like kwctl (same oci-client `OciImageManifest::build`), the manifest
    // carries no `mediaType` field; its type travels as the Content-Type the
    // registry stored and serves, checked here without the OCI client.
    assert!(manifest.get("mediaType").is_none());
    let (status, headers, body) = registry_process.get(
        &format!("/v2/{REPOSITORY}/manifests/{digest}"),
        OCI_IMAGE_MEDIA_TYPE,
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some(OCI_IMAGE_MEDIA_TYPE));
    assert_eq!(header(&headers, "docker-content-digest"), Some(digest));
    assert_eq!(body, raw);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["config"]["digest"], sha256_digest(b"{}"));
    assert_eq!(manifest["config"]["size"], 2);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
    assert_eq!(layers[0]["digest"], sha256_digest(&annotated));
    assert_eq!(layers[0]["size"], annotated.len());
    let annotations = &manifest["annotations"];
    for key in [
        metadata::TITLE,
        metadata::VERSION,
        metadata::OCI_URL,
        metadata::SOURCE,
        metadata::LICENSE,
    ] {
        assert_eq!(annotations[key], source.annotation(key).unwrap(), "{key}");
    }
    assert_eq!(
        annotations[OCI_SOURCE_ANNOTATION],
        source.annotation(metadata::SOURCE).unwrap()
    );
    assert_eq!(annotations[metadata::KWCTL_VERSION], tool_version());
    assert!(
        annotations.get(metadata::USAGE).is_none(),
        "multi-line annotations are dropped"
    );

    // ---- pull by tag, as `kwctl pull` does it
    let by_tag = registry.pull(&tag_uri).unwrap();
    assert_eq!(by_tag.module, annotated);
    assert_eq!(by_tag.digest, digest);
    assert_eq!(by_tag.manifest.layers[0].media_type, WASM_LAYER_MEDIA_TYPE);

    // ---- pull by digest, through the command line
    let digest_uri = format!("registry://{immutable_ref}");
    let pulled_path = work.path("pulled.wasm");
    policy_dist(&[
        "pull",
        "--sources-path",
        sources,
        "-o",
        pulled_path.to_str().unwrap(),
        &digest_uri,
    ]);
    let by_digest = std::fs::read(&pulled_path).unwrap();
    assert_eq!(by_digest, annotated);
    assert_eq!(registry.pull(&digest_uri).unwrap().digest, digest);

    // ---- the pulled module decides like the local one
    let options = RunnerOptions {
        print_policy_logs: false,
        ..RunnerOptions::default()
    };
    let mut local = Policy::load(policy_wasm(), &options).unwrap();
    let mut pulled = Policy::load(by_digest, &options).unwrap();
    for (name, request, allowed) in verdict_fixtures() {
        let expected = local.evaluate(&request, &Value::Null).unwrap();
        let actual = pulled.evaluate(&request, &Value::Null).unwrap();
        assert_eq!(actual, expected, "{name}");
        assert_eq!(actual.allowed, allowed, "{name}: {}", actual.to_json_line());
    }

    // ---- what kwctl refuses, refused here too
    let plain = Registry::new(Sources::default()).unwrap();
    let err = plain.pull(&tag_uri).unwrap_err().to_string();
    assert!(
        err.contains("insecure_sources"),
        "a plain-HTTP registry needs insecure_sources: {err}"
    );
    let err = registry
        .pull(&format!("registry://{host}/{REPOSITORY}:v0.0.0-missing"))
        .unwrap_err();
    assert!(!err.to_string().is_empty());

    drop(registry_process);
}
