//! `--cluster` gives what the policy gives in the cluster: every e2e case that
//! replays a recorded kwctl session (e2e/cases.yaml, e2e/sessions/) is checked
//! twice, natively —
//!
//! - by the policy, its host calls answered from the session, as kwctl's
//!   `--replay-host-capabilities-interactions` answers them;
//! - by the checker's `Batch`, with the objects the session's answers carry
//!   written out as `--cluster` files (a Backup the session says is missing is
//!   simply not in them);
//!
//! and both must decide alike, byte for byte. The e2e suite proves the first
//! is what `policy.wasm` answers under kwctl.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use documentdb_upgrade_safety::admission::{Verdict, validate_payload};
use documentdb_upgrade_safety::cluster::{Cluster, GetResource, HostError, ListAllResources};
use serde_json::{Value, json};
use upgrade_checker::batch::Batch;
use upgrade_checker::check::Decision;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One recorded host call: the request as the guest serialises it, the answer.
#[derive(Debug)]
struct Exchange {
    operation: &'static str,
    request: Value,
    answer: Result<Vec<u8>, String>,
}

/// A kwctl session file: each exchange is `request: "!Tag\n<YAML>"`, `response:
/// {type: Success, payload} | {type: Error, message}`.
fn read_session(path: &Path) -> Vec<Exchange> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let exchanges: Vec<serde_yaml::Value> = serde_yaml::from_str(&text).expect("a session");
    exchanges
        .into_iter()
        .map(|exchange| {
            let request = exchange["request"].as_str().expect("request text");
            let (tag, body) = request.split_once('\n').expect("a tag line");
            let operation = match tag {
                "!KubernetesGetResource" => "get",
                "!KubernetesListResourceAll" => "list",
                other => panic!(
                    "{}: a host call this test does not know: {other}",
                    path.display()
                ),
            };
            let request: Value = serde_yaml::from_str(body).expect("request YAML");
            let response = &exchange["response"];
            let answer = match response["type"].as_str() {
                Some("Success") => Ok(response["payload"]
                    .as_str()
                    .expect("payload")
                    .as_bytes()
                    .to_vec()),
                Some("Error") => Err(response["message"].as_str().expect("message").to_owned()),
                other => panic!("response type {other:?}"),
            };
            Exchange {
                operation,
                request,
                answer,
            }
        })
        .collect()
}

/// Answers as kwctl's replay does: the next recorded exchange must be this call.
#[derive(Debug)]
struct Replay {
    exchanges: RefCell<std::collections::VecDeque<Exchange>>,
}

impl Replay {
    fn answer(&self, operation: &'static str, request: Value) -> Result<Vec<u8>, HostError> {
        let next = self.exchanges.borrow_mut().pop_front();
        match next {
            Some(next) if next.operation == operation && next.request == request => {
                next.answer.map_err(HostError)
            }
            other => Err(HostError(format!(
                "the session does not expect {operation} {request} (next: {:?})",
                other.map(|e| e.request)
            ))),
        }
    }
}

impl Cluster for Replay {
    fn get_resource(&self, request: &GetResource) -> Result<Vec<u8>, HostError> {
        self.answer("get", serde_json::to_value(request).unwrap())
    }
    fn list_resources_all(&self, request: &ListAllResources) -> Result<Vec<u8>, HostError> {
        self.answer("list", serde_json::to_value(request).unwrap())
    }
}

/// The objects a session's answers carry, as `kubectl get … -o yaml` would
/// print them (a list's items get their type back); `Err` when an answer is
/// not expressible as files (a refusal, not a missing object).
fn objects_of(exchanges: &[Exchange]) -> Result<Vec<Value>, String> {
    let mut objects = Vec::new();
    for exchange in exchanges {
        match &exchange.answer {
            Ok(payload) => {
                let value: Value = serde_json::from_slice(payload).expect("JSON payload");
                if exchange.operation == "list" {
                    for mut item in value["items"].as_array().cloned().unwrap_or_default() {
                        item["apiVersion"] = exchange.request["api_version"].clone();
                        item["kind"] = exchange.request["kind"].clone();
                        objects.push(item);
                    }
                } else {
                    // A read with field masks answers only the fields asked
                    // for; an export has the object's type and name.
                    let mut object = value;
                    for (field, key) in [("apiVersion", "api_version"), ("kind", "kind")] {
                        if object.get(field).is_none() {
                            object[field] = exchange.request[key].clone();
                        }
                    }
                    if object.get("metadata").is_none() {
                        object["metadata"] = json!({
                            "name": exchange.request["name"],
                            "namespace": exchange.request["namespace"],
                        });
                    }
                    objects.push(object);
                }
            }
            // Missing from the export the user saved, which holds other
            // objects of its kind (an export holding none of that kind gets
            // the checker's own "add the output of kubectl get …" warning).
            Err(message) if message.starts_with("Cannot find ") => objects.push(json!({
                "apiVersion": exchange.request["api_version"],
                "kind": exchange.request["kind"],
                "metadata": {"name": "another-one", "namespace": exchange.request["namespace"]},
            })),
            Err(message) => return Err(message.clone()),
        }
    }
    Ok(objects)
}

fn decision(verdict: Verdict) -> Value {
    let d = Decision::from(verdict);
    json!({"allowed": d.allowed, "code": d.code, "message": d.message, "warnings": d.warnings})
}

#[test]
fn every_session_case_decides_alike_with_the_session_s_objects_as_cluster_files() {
    let root = repo();
    let cases: Vec<Value> =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("e2e/cases.yaml")).unwrap())
            .unwrap();
    let mut compared = Vec::new();
    let mut not_files = Vec::new();
    for case in cases.iter().filter(|c| c.get("session").is_some()) {
        let name = case["name"].as_str().unwrap();
        let exchanges = read_session(&root.join(case["session"].as_str().unwrap()));
        let document: Value = serde_json::from_slice(
            &std::fs::read(root.join(case["request"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let request = if document["kind"] == "AdmissionReview" {
            document["request"].clone()
        } else {
            document
        };
        let settings = case.get("settings").cloned().unwrap_or_else(|| json!({}));

        let objects = match objects_of(&exchanges) {
            Ok(objects) => objects,
            Err(refusal) => {
                not_files.push((name.to_owned(), refusal));
                continue;
            }
        };
        let replay = Replay {
            exchanges: RefCell::new(exchanges.into()),
        };
        let payload =
            serde_json::to_vec(&json!({"request": request, "settings": settings})).unwrap();
        let policy = decision(validate_payload(&payload, &replay));

        let mut batch = Batch::new("");
        batch.add_settings("settings.json", &settings.to_string());
        batch.add_cluster(
            "cluster.json",
            &json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string(),
        );
        if request["operation"] == "UPDATE" {
            batch.add_current("current.json", &request["oldObject"].to_string());
        }
        batch.add_desired("desired.json", &request["object"].to_string());
        let report = batch.run();
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        assert_eq!(report.objects.len(), 1, "{name}: {report:?}");
        let d = &report.objects[0].report.decision;
        let checker = json!({"allowed": d.allowed, "code": d.code, "message": d.message, "warnings": d.warnings});
        assert_eq!(
            checker, policy,
            "{name}: the checker with --cluster files and the policy with the session differ"
        );
        compared.push(name.to_owned());
    }
    // The refusals a file cannot say: only the forbidden Node list.
    assert_eq!(
        not_files
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["imagevolume-nodes-forbidden"],
        "{not_files:?}"
    );
    eprintln!("{} cases compared: {compared:?}", compared.len());
    assert!(compared.len() >= 15, "{compared:?}");
}
