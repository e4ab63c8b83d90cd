use documentdb_upgrade_safety::cluster::Cluster;
use documentdb_upgrade_safety::cluster::nodes::LIST_NODES;
use documentdb_upgrade_safety::cluster::restore::source_request;
use documentdb_upgrade_safety::restore::{RestoreSource, SourceKind};
use serde_json::{Value, json};
use test_support::sessions;

use super::*;

fn cluster(objects: &[Value]) -> FilesCluster {
    let mut cluster = FilesCluster::new("default");
    for object in objects {
        assert!(cluster.add(object.clone()));
    }
    cluster
}

fn answer(bytes: Result<Vec<u8>, HostError>) -> Value {
    serde_json::from_slice(&bytes.expect("an answer")).expect("JSON")
}

fn backup_request<'a>(name: &'a str, namespace: &'a str) -> GetResource<'a> {
    let source = RestoreSource {
        kind: SourceKind::Backup,
        name,
    };
    source_request(&source, Some(namespace)).expect("namespaced")
}

#[test]
fn a_backup_is_answered_pruned_to_the_masks_with_type_and_metadata() {
    let mut exported = sessions::backup("nightly", "prod", Some("0.112.0"));
    exported["spec"] = json!({"cluster": {"name": "documentdb-cluster"}});
    exported["status"]["phase"] = json!("completed");
    let cluster = cluster(&[exported.clone()]);
    let got = answer(cluster.get_resource(&backup_request("nightly", "prod")));
    let mut expected = sessions::backup("nightly", "prod", Some("0.112.0"));
    expected["status"] = json!({"schemaVersion": "0.112.0"});
    assert_eq!(got, expected);
    assert!(cluster.take_missing().is_empty());
}

#[test]
fn a_missing_backup_is_policy_evaluators_not_found() {
    let cluster = cluster(&[
        sessions::backup("nightly", "prod", Some("0.112.0")),
        sessions::backup("weekly", "staging", Some("0.112.0")),
    ]);
    for request in [
        backup_request("weekly", "prod"),
        backup_request("monthly", "prod"),
    ] {
        let error = cluster.get_resource(&request).unwrap_err();
        assert!(error.is_not_found(&request), "{error:?}");
        assert_eq!(
            error.0,
            format!(
                "Cannot find documentdb.io/preview/Backup named '{}' inside of namespace 'Some(\"prod\")'",
                request.name
            )
        );
    }
}

#[test]
fn objects_without_a_namespace_are_in_the_default_one() {
    let mut backup = sessions::backup("nightly", "x", Some("0.110.0"));
    backup["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let cluster = cluster(&[backup]);
    assert!(
        cluster
            .get_resource(&backup_request("nightly", "default"))
            .is_ok()
    );
    assert!(
        cluster
            .get_resource(&backup_request("nightly", "prod"))
            .is_err()
    );
}

#[test]
fn persistent_volumes_are_cluster_scoped() {
    let pv = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "pv-1", "annotations": {"documentdb.io/schema-version": "0.112.0"}},
        "spec": {"capacity": {"storage": "10Gi"}},
    });
    let cluster = cluster(&[pv]);
    let source = RestoreSource {
        kind: SourceKind::PersistentVolume,
        name: "pv-1",
    };
    let got = answer(cluster.get_resource(&source_request(&source, Some("prod")).unwrap()));
    assert_eq!(
        got,
        json!({"apiVersion": "v1", "kind": "PersistentVolume",
               "metadata": {"name": "pv-1", "annotations": {"documentdb.io/schema-version": "0.112.0"}}})
    );
}

#[test]
fn a_kind_the_files_do_not_hold_is_named_with_its_export_command() {
    let cluster =
        cluster(&[json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}})]);
    let error = cluster
        .get_resource(&backup_request("nightly", "prod"))
        .unwrap_err();
    assert_eq!(
        error.0,
        "the --cluster files hold no documentdb.io Backup: add the output of `kubectl get backups.documentdb.io -A -o yaml`"
    );
    assert_eq!(cluster.take_missing(), ["documentdb.io Backup"]);
    assert!(cluster.take_missing().is_empty());
}

#[test]
fn nodes_are_listed_like_the_reflector_answers() {
    let mut node = sessions::node(0, "v1.35.1", "containerd://2.1.4");
    node["apiVersion"] = json!("v1");
    node["kind"] = json!("Node");
    node["spec"] = json!({"podCIDR": "10.0.0.0/24"});
    node["status"]["capacity"] = json!({"cpu": "4"});
    let cluster = cluster(&[node]);
    let got = answer(cluster.list_resources_all(&LIST_NODES));
    assert_eq!(
        got,
        sessions::node_list([sessions::node(0, "v1.35.1", "containerd://2.1.4")])
    );
}

#[test]
fn without_nodes_the_list_fails_as_without_a_cluster() {
    let cluster = cluster(&[sessions::backup("nightly", "prod", None)]);
    let error = cluster.list_resources_all(&LIST_NODES).unwrap_err();
    assert!(error.is_not_granted(), "{error:?}");
    assert_eq!(cluster.take_missing(), ["Node"]);
}

#[test]
fn masks_keep_a_mistyped_value_for_the_policy_to_report() {
    let object = json!({"apiVersion": "v1", "kind": "X", "status": "broken", "spec": {"a": 1}});
    assert_eq!(
        masked(&object, Some(&["status.schemaVersion"]), true),
        json!({"apiVersion": "v1", "kind": "X", "status": "broken"})
    );
    assert_eq!(
        masked(&object, None, false),
        json!({"status": "broken", "spec": {"a": 1}})
    );
}

#[test]
fn only_kubernetes_objects_are_kept() {
    let mut cluster = FilesCluster::new("default");
    assert!(!cluster.add(json!({"kind": "Node"})));
    assert!(!cluster.add(json!("text")));
    assert!(cluster.is_empty());
}
