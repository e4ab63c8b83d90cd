//! Shared by the test modules of the dist binary: paths, the policy module, fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

pub mod local_registry;
use test_support::DocumentDbObject;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/policy-dist/ lives in the repository")
        .to_path_buf()
}

pub fn repo_file(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

pub fn read_text(relative: &str) -> String {
    let path = repo_file(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The policy module under test: `$POLICY_WASM`, else `<repo>/policy.wasm`
/// (what `make policy.wasm` writes before the tests run), else a release
/// build in its own target directory (no wait on the lock of the running
/// `cargo test`).
pub fn policy_wasm() -> &'static [u8] {
    static MODULE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let module = MODULE.get_or_init(|| {
        let path = match std::env::var_os("POLICY_WASM") {
            Some(path) => PathBuf::from(path),
            None if repo_file("policy.wasm").is_file() => repo_file("policy.wasm"),
            None => build_policy_wasm()?,
        };
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    });
    match module {
        Ok(bytes) => bytes,
        Err(e) => panic!("no policy module to test: {e}"),
    }
}

fn build_policy_wasm() -> Result<PathBuf, String> {
    let target_dir = repo_file("target/dist-wasm");
    eprintln!(
        "policy.wasm not found at the repository root: building it into {}",
        target_dir.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1",
            "-p",
            "documentdb-upgrade-safety",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the policy module failed (see the cargo output above)".to_owned());
    }
    Ok(target_dir.join("wasm32-wasip1/release/documentdb_upgrade_safety.wasm"))
}

/// A unique scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "policy-dist-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cannot create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub use test_support::admission_request;

/// The operator's versioned DocumentDB at `version` as the API server stores
/// it, with `schema` as spec.schemaVersion and `installed` as the installed
/// schema (status.schemaVersion) when given.
pub fn documentdb(version: &str, schema: Option<&str>, installed: Option<&str>) -> Value {
    let mut db = DocumentDbObject::versioned().version(version);
    if let Some(schema) = schema {
        db = db.schema(schema);
    }
    db = db.stored(2);
    if let Some(installed) = installed {
        db = db.installed(installed);
    }
    db.build()
}

/// Requests covering the three outcomes that matter: accept, Rule A on
/// CREATE, Rule B (rollback) on UPDATE. `(name, request, expected allowed)`.
pub fn verdict_fixtures() -> Vec<(&'static str, Value, bool)> {
    vec![
        (
            "create within the binary",
            admission_request(
                "CREATE",
                Some(documentdb("0.112.0", Some("0.112.0"), None)),
                None,
            ),
            true,
        ),
        (
            "create with schemaVersion above the binary",
            admission_request(
                "CREATE",
                Some(documentdb("0.110.0", Some("0.112.0"), None)),
                None,
            ),
            false,
        ),
        (
            "update rolling the binary back below the installed schema",
            admission_request(
                "UPDATE",
                Some(documentdb("0.110.0", None, Some("0.112.0"))),
                Some(documentdb("0.112.0", None, Some("0.112.0"))),
            ),
            false,
        ),
    ]
}

/// Every document of every ```yaml code block of a Markdown text (a block
/// that does not parse is left out).
pub fn yaml_blocks(text: &str) -> Vec<serde_yaml::Value> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```yaml") => current = Some(String::new()),
            Some(block) if line.trim_start().starts_with("```") => {
                for document in serde_yaml::Deserializer::from_str(block) {
                    if let Ok(value) =
                        <serde_yaml::Value as serde::Deserialize>::deserialize(document)
                    {
                        blocks.push(value);
                    }
                }
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}
