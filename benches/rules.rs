//! Native cost of one evaluation, on the same request files the wasm bench
//! (`policy-runner bench`) reads, so `make bench` can print wasm/native ratios.
//!
//! ```text
//! cargo bench -p documentdb-upgrade-safety --bench rules            # all
//! cargo bench -p documentdb-upgrade-safety --bench rules -- typical  # a filter
//! ```
//!
//! Measured, per request (`e2e/fixtures/bench/*.json`, bare AdmissionRequests
//! wrapped once as `{"request": …, "settings": {}}` before timing):
//!
//! - `validate_payload/<request>`: the pure engine, bytes → `Verdict`;
//! - `validate/<request>`: the waPC entry function, bytes → response bytes (adds
//!   the response serialisation: what the guest does per call, minus waPC);
//!
//! the settings-only parse (`settings/*`), bytes → `Settings`; and the
//! context-aware CREATE checks (`context_aware/*`): a new cluster with the
//! ImageVolume check reading 3 or 5,000 Nodes, and a restore reading a Backup,
//! answered by an in-process cluster with the bytes policy-server would hand
//! the guest (the host's own cost, an API server round trip or its cache, is
//! not the policy's and is not measured).
//!
//! Besides criterion's report, a full run writes `<target>/bench-native.json`:
//! criterion's mean (and median) per benchmark, in ns and µs, with the request
//! sizes; a filtered run writes only what it measured.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use criterion::{BenchmarkId, Criterion, Throughput};
use documentdb_upgrade_safety::admission::{Verdict, validate_payload};
use documentdb_upgrade_safety::cluster::{
    Cluster, GetResource, HostError, ListAllResources, NoCluster,
};
use documentdb_upgrade_safety::settings::Settings;
use documentdb_upgrade_safety::{validate, validate_settings};
use serde_json::{Value, json};

/// The bench requests: file stem, and whether the policy accepts it (checked
/// before timing, so a bench never measures an unexpected error path).
const REQUESTS: [&str; 2] = ["typical-update", "large-object"];

/// Settings documents for the settings-only parse.
const SETTINGS: [(&str, &str); 2] = [
    ("empty", "{}"),
    (
        "all-keys",
        r#"{"rejectUnknownBinaryVersion":true,"allowAutoSchemaVersion":false,"defaultDocumentDBVersion":"0.112.0"}"#,
    ),
];

fn request_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("e2e/fixtures/bench")
        .join(format!("{name}.json"))
}

struct BenchRequest {
    name: &'static str,
    /// Size of the request file, as `policy-runner bench` reports it.
    file_bytes: usize,
    /// `{"request": …, "settings": {}}`, compact.
    payload: Vec<u8>,
}

fn load(name: &'static str) -> BenchRequest {
    let path = request_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (`cargo run -p test-support --bin generate-fixtures` writes it)",
            path.display()
        )
    });
    let request: Value = serde_json::from_str(&text).expect("bench request is JSON");
    let payload = serde_json::to_vec(&json!({"request": request, "settings": {}})).unwrap();
    // The two-phase upgrade 0.110.0 -> 0.112.0: accepted with one warning,
    // after every rule ran (Rule A ratcheted, Rule B compared).
    match validate_payload(&payload, &NoCluster) {
        Verdict::Accepted { warnings } if warnings.len() == 1 => {}
        other => panic!("{name}: unexpected verdict {other:?}"),
    }
    BenchRequest {
        name,
        file_bytes: text.len(),
        payload,
    }
}

fn bench_requests(c: &mut Criterion, requests: &[BenchRequest]) {
    for (group_name, entry) in [("validate_payload", false), ("validate", true)] {
        let mut group = c.benchmark_group(group_name);
        for request in requests {
            if request.payload.len() > 100_000 {
                // ~1 ms per evaluation: fewer, longer samples.
                group.sample_size(30);
            }
            group.throughput(Throughput::Bytes(request.payload.len() as u64));
            let payload = request.payload.as_slice();
            if entry {
                group.bench_function(request.name, |b| {
                    b.iter(|| validate(black_box(payload)).expect("validate never errs"))
                });
            } else {
                group.bench_function(request.name, |b| {
                    b.iter(|| validate_payload(black_box(payload), &NoCluster))
                });
            }
        }
        group.finish();
    }
}

fn bench_settings(c: &mut Criterion) {
    let mut group = c.benchmark_group("settings");
    for (name, json) in SETTINGS {
        let json = json.as_bytes();
        assert!(Settings::from_json(json).is_ok(), "{name}");
        group.bench_with_input(BenchmarkId::new("from_json", name), json, |b, json| {
            b.iter(|| Settings::from_json(black_box(json)))
        });
        group.bench_with_input(
            BenchmarkId::new("validate_settings", name),
            json,
            |b, json| b.iter(|| validate_settings(black_box(json)).expect("never errs")),
        );
    }
    group.finish();
}

// --- context-aware CREATE checks -------------------------------------------------

/// A cluster answering from memory: the Node list and the Backup, serialised
/// once, copied per call as the host copies them into the guest.
#[derive(Debug)]
struct InMemoryCluster {
    nodes: Vec<u8>,
    backup: Vec<u8>,
}

impl Cluster for InMemoryCluster {
    fn get_resource(&self, _: &GetResource) -> Result<Vec<u8>, HostError> {
        Ok(self.backup.clone())
    }
    fn list_resources_all(&self, _: &ListAllResources) -> Result<Vec<u8>, HostError> {
        Ok(self.nodes.clone())
    }
}

/// `(name, request fixture, node count)`: every node ready (kubelet 1.35,
/// containerd 2.1), the Backup at schema 0.112.0, so each request is accepted
/// without warnings after every check ran.
const CONTEXT_AWARE: [(&str, &str, usize); 3] = [
    ("create-3-nodes", "create/version-only", 3),
    ("create-5000-nodes", "create/version-only", 5000),
    ("restore-backup-3-nodes", "restore/backup-onto-0.112.0", 3),
];

fn bench_context_aware(c: &mut Criterion) {
    use test_support::fixtures::NIGHTLY_BACKUP;
    use test_support::sessions::{backup, node, node_list};
    let mut group = c.benchmark_group("context_aware");
    for (name, fixture, nodes) in CONTEXT_AWARE {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("e2e/fixtures")
            .join(format!("{fixture}.json"));
        let request: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let namespace = request["namespace"].as_str().unwrap_or_default().to_owned();
        let payload = serde_json::to_vec(&json!({"request": request, "settings": {}})).unwrap();
        let cluster = InMemoryCluster {
            nodes: serde_json::to_vec(&node_list(
                (0..nodes).map(|i| node(i, "v1.35.1", "containerd://2.1.4")),
            ))
            .unwrap(),
            backup: serde_json::to_vec(&backup(NIGHTLY_BACKUP, &namespace, Some("0.112.0")))
                .unwrap(),
        };
        match validate_payload(&payload, &cluster) {
            Verdict::Accepted { warnings } if warnings.is_empty() => {}
            other => panic!("{name}: unexpected verdict {other:?}"),
        }
        if nodes > 100 {
            group.sample_size(30);
        }
        group.bench_function(name, |b| {
            b.iter(|| validate_payload(black_box(&payload), &cluster))
        });
    }
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let requests: Vec<BenchRequest> = REQUESTS.into_iter().map(load).collect();
    let mut c = Criterion::default().configure_from_args();
    bench_requests(&mut c, &requests);
    bench_settings(&mut c);
    bench_context_aware(&mut c);
    c.final_summary();
    write_summary(started, &requests);
}

// --- target/bench-native.json ---------------------------------------------------

/// Where criterion writes its data: the same rule criterion uses.
fn target_directory() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(dir));
    }
    let output = std::process::Command::new(std::env::var_os("CARGO")?)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let metadata: Value = serde_json::from_slice(&output.stdout).ok()?;
    metadata["target_directory"].as_str().map(PathBuf::from)
}

/// Criterion's mean and median of one benchmark, if this run measured it.
fn estimates(criterion_home: &Path, id: &str, since: SystemTime) -> Option<Value> {
    let path = criterion_home.join(id).join("new/estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= since);
    if !fresh {
        return None;
    }
    let estimates: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let ns = |stat: &str| estimates[stat]["point_estimate"].as_f64();
    let (mean, median) = (ns("mean")?, ns("median")?);
    Some(json!({
        "mean_ns": mean,
        "median_ns": median,
        "mean_us": mean / 1e3,
        "median_us": median / 1e3,
    }))
}

fn write_summary(since: SystemTime, requests: &[BenchRequest]) {
    let Some(target) = target_directory() else {
        return;
    };
    let criterion_home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("criterion"));
    let mut measured = 0;
    let mut entry = |id: String| {
        let value = estimates(&criterion_home, &id, since);
        measured += usize::from(value.is_some());
        value.unwrap_or(Value::Null)
    };
    let mut by_request = serde_json::Map::new();
    for request in requests {
        by_request.insert(
            request.name.to_owned(),
            json!({
                "path": format!("e2e/fixtures/bench/{}.json", request.name),
                "request_bytes": request.file_bytes,
                "payload_bytes": request.payload.len(),
                "validate_payload": entry(format!("validate_payload/{}", request.name)),
                "validate": entry(format!("validate/{}", request.name)),
            }),
        );
    }
    let mut settings = serde_json::Map::new();
    for (name, _) in SETTINGS {
        for function in ["from_json", "validate_settings"] {
            let id = format!("{function}/{name}");
            settings.insert(id.clone(), entry(format!("settings/{id}")));
        }
    }
    let mut context_aware = serde_json::Map::new();
    for (name, fixture, nodes) in CONTEXT_AWARE {
        context_aware.insert(
            name.to_owned(),
            json!({
                "request": format!("e2e/fixtures/{fixture}.json"),
                "nodes": nodes,
                "validate_payload": entry(format!("context_aware/{name}")),
            }),
        );
    }
    // `cargo test --benches` runs each benchmark once without measuring.
    if measured == 0 {
        return;
    }
    let summary = json!({
        "build": if cfg!(debug_assertions) { "debug" } else { "optimised" },
        "requests": by_request,
        "settings": settings,
        "context_aware": context_aware,
    });
    let path = target.join("bench-native.json");
    match std::fs::write(
        &path,
        serde_json::to_string_pretty(&summary).unwrap() + "\n",
    ) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
