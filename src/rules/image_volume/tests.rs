//! The ImageVolume readiness judgment, from Node lists as policy-evaluator
//! returns them (metadata whole, the body pruned to the two masked fields).

use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::cluster::fake::{Exchange, Scripted};
use crate::cluster::nodes::*;
use crate::cluster::{HostError, LIST_RESOURCES_ALL};
use crate::findings::{Findings, rendered};
use crate::model::nodes::*;

/// A Node as the host returns it with [`NODE_FIELD_MASKS`]: a kubelet's
/// metadata (labels, annotations) and only the two versions of its status.
fn node(name: &str, kubelet: &str, runtime: &str) -> Value {
    json!({
        "metadata": {
            "name": name,
            "uid": "8d0b6d3e-2a4c-4f0e-9b1d-6c2f3e4a5b6c",
            "resourceVersion": "48213",
            "creationTimestamp": "2026-07-01T09:12:44Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/worker": "",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "status": {"nodeInfo": {"kubeletVersion": kubelet, "containerRuntimeVersion": runtime}},
    })
}

fn list(items: Vec<Value>) -> Vec<u8> {
    json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": items})
        .to_string()
        .into_bytes()
}

fn list_request() -> Value {
    json!({
        "api_version": "v1",
        "kind": "Node",
        "label_selector": null,
        "field_selector": null,
        "field_masks": ["metadata.name", "status.nodeInfo.containerRuntimeVersion", "status.nodeInfo.kubeletVersion"],
    })
}

fn run(mode: ImageVolumeCheck, answer: Result<Vec<u8>, &str>) -> Option<String> {
    let host = Scripted::new([Exchange::list(list_request(), answer)]);
    let findings = findings(&host, mode);
    host.assert_done();
    rendered(&findings)
}

fn findings(host: &Scripted, mode: ImageVolumeCheck) -> Findings<'static> {
    let mut findings = Findings::default();
    check(host, mode, &mut findings);
    findings
}

const NOT_ENABLED: &str = "the Kubernetes ImageVolume feature is not enabled on this cluster, but it is required by \
     the DocumentDB operator to mount the DocumentDB extension into PostgreSQL pods";
const HOW: &str = "ImageVolume is GA (on by default) in Kubernetes 1.35+. On Kubernetes 1.33/1.34 you may enable the \
     ImageVolume feature gate on both the kube-apiserver and every kubelet; the container runtime must also support \
     it (containerd >= 2.1 or CRI-O >= 1.33). See https://kubernetes.io/docs/concepts/storage/volumes/#image";

fn not_ready_warning(nodes: &str) -> String {
    format!("ImageVolume check: {NOT_ENABLED} ({nodes}). {HOW}")
}

fn undetermined(nodes: &str) -> String {
    format!(
        "ImageVolume check: cannot confirm that this cluster supports the Kubernetes ImageVolume feature, which the \
         DocumentDB operator requires to mount the DocumentDB extension into PostgreSQL pods ({nodes}); if it is \
         off, the DocumentDB pods will not start. {HOW}"
    )
}

#[rstest]
#[case::all_1_35_containerd(vec![
    node("w1", "v1.35.0", "containerd://2.1.4"),
    node("w2", "v1.35.2", "containerd://2.2.0"),
], None)]
#[case::distribution_suffixes(vec![
    node("k3s", "v1.35.1+k3s1", "containerd://2.1.5-k3s1"),
    node("eks", "v1.36.0-eks-113cf36", "containerd://2.1.3"),
    node("ocp", "v1.35.3", "cri-o://1.35.1-3.rhaos4.22.gitc0ffee.el9"),
], None)]
#[case::crio_1_33_on_1_35(vec![node("w1", "v1.35.0", "cri-o://1.33.0")], None)]
#[case::kubelet_1_32(
    vec![node("w1", "v1.35.0", "containerd://2.1.4"), node("old", "v1.32.4", "containerd://2.1.4")],
    Some(not_ready_warning("kubelet older than 1.33 on 1 of 2 nodes: old (kubelet v1.32.4)"))
)]
#[case::containerd_1_7(
    vec![node("w1", "v1.35.0", "containerd://1.7.27")],
    Some(not_ready_warning("a container runtime without image volumes (containerd < 2.1, CRI-O < 1.33) on 1 of 1 node: w1 (containerd://1.7.27)"))
)]
#[case::containerd_2_0(
    vec![node("w1", "v1.34.1", "containerd://2.0.5")],
    Some(not_ready_warning("a container runtime without image volumes (containerd < 2.1, CRI-O < 1.33) on 1 of 1 node: w1 (containerd://2.0.5)"))
)]
#[case::crio_1_32(
    vec![node("w1", "v1.35.0", "cri-o://1.32.4")],
    Some(not_ready_warning("a container runtime without image volumes (containerd < 2.1, CRI-O < 1.33) on 1 of 1 node: w1 (cri-o://1.32.4)"))
)]
#[case::both_blockers_named_and_gate_nodes_not(
    vec![
        node("a", "v1.31.0", "containerd://1.7.20"),
        node("b", "v1.34.0", "containerd://1.7.27"),
        node("c", "v1.34.0", "containerd://2.1.0"),
    ],
    Some(not_ready_warning(
        "kubelet older than 1.33 on 1 of 3 nodes: a (kubelet v1.31.0); a container runtime without image volumes \
         (containerd < 2.1, CRI-O < 1.33) on 1 of 3 nodes: b (containerd://1.7.27)"
    ))
)]
#[case::kubelet_1_33_gate(
    vec![node("w1", "v1.33.5", "containerd://2.1.4"), node("w2", "v1.35.0", "containerd://2.1.4")],
    Some(undetermined(
        "kubelet 1.33 or 1.34, where the ImageVolume feature gate must be on (Nodes do not show it) on 1 of 2 nodes: \
         w1 (kubelet v1.33.5)"
    ))
)]
#[case::docker_runtime(
    vec![node("w1", "v1.35.0", "docker://28.0.1")],
    Some(undetermined("a container runtime the policy cannot judge on 1 of 1 node: w1 (docker://28.0.1)"))
)]
#[case::runtime_without_version(
    vec![node("w1", "v1.35.0", "containerd://")],
    Some(undetermined("a container runtime the policy cannot judge on 1 of 1 node: w1 (containerd://)"))
)]
#[case::kubelet_unparseable(
    vec![node("w1", "latest", "containerd://2.1.4")],
    Some(undetermined("versions the policy cannot read on 1 of 1 node: w1 (kubelet latest)"))
)]
#[case::no_nodes(vec![], Some("ImageVolume check skipped: the cluster lists no Nodes".to_owned()))]
fn judges_the_nodes(#[case] nodes: Vec<Value>, #[case] expected: Option<String>) {
    assert_eq!(run(ImageVolumeCheck::Warn, Ok(list(nodes))), expected);
}

#[test]
fn deny_refuses_a_cluster_that_is_not_ready() {
    let nodes = vec![node("old", "v1.32.4", "containerd://1.7.27")];
    assert_eq!(
        run(ImageVolumeCheck::Deny, Ok(list(nodes))),
        Some(format!(
            "spec: Forbidden: {NOT_ENABLED} (kubelet older than 1.33 on 1 of 1 node: old (kubelet v1.32.4)). {HOW}"
        ))
    );
}

/// Deny refuses only what is known not to work: the feature gate and every
/// failure to read stay warnings.
#[rstest]
#[case::gate(Ok(list(vec![node("w1", "v1.34.0", "containerd://2.1.4")])))]
#[case::host_error(Err("Callback evaluation failure: timed out"))]
#[case::garbage(Ok(b"not json".to_vec()))]
#[case::no_nodes(Ok(list(vec![])))]
fn deny_never_refuses_what_it_cannot_know(#[case] answer: Result<Vec<u8>, &str>) {
    let host = Scripted::new([Exchange::list(list_request(), answer)]);
    let findings = findings(&host, ImageVolumeCheck::Deny);
    assert!(findings.violations.is_empty(), "{findings:?}");
    assert_eq!(findings.advice.len(), 1, "{findings:?}");
}

#[test]
fn off_makes_no_host_call() {
    let host = Scripted::new([]);
    assert_eq!(findings(&host, ImageVolumeCheck::Off), Findings::default());
    assert_eq!(*host.calls.borrow(), 0);
}

fn skipped(why: &str) -> String {
    format!("ImageVolume check skipped: cannot list the cluster's Nodes: {why}")
}

/// A policy without the permission to list Nodes has not opted in: silent,
/// in both modes.
#[rstest]
#[case::no_context_aware_resource(
    ImageVolumeCheck::Warn,
    "Policy has not been granted access to Kubernetes v1/Node resources. The violation has been reported."
)]
#[case::no_host_capability(
    ImageVolumeCheck::Deny,
    "Policy has not been granted access to the 'kubernetes/list_resources_all' host capability. The violation has been reported."
)]
#[case::no_cluster(ImageVolumeCheck::Deny, crate::cluster::NoCluster::MESSAGE)]
fn without_permission_the_check_is_silent(#[case] mode: ImageVolumeCheck, #[case] error: &str) {
    assert_eq!(run(mode, Err(error)), None);
}

/// policy-evaluator's answer when the policy server's service account may
/// not list Nodes (kube's Debug rendering of the API error).
const NO_RBAC: &str = "Callback evaluation failure: Api(ErrorResponse { status: \"Failure\", message: \"nodes is \
     forbidden: User \\\"system:serviceaccount:kubewarden:policy-server-default\\\" cannot list resource \
     \\\"nodes\\\" in API group \\\"\\\" at the cluster scope\", reason: \"Forbidden\", code: 403 })";

#[rstest]
#[case::no_rbac(Err(NO_RBAC), skipped(&format!("{}…", &NO_RBAC[..crate::cluster::MAX_HOST_ERROR_CHARS])))]
#[case::timeout(
    Err("Callback evaluation failure: operation timed out"),
    skipped("Callback evaluation failure: operation timed out")
)]
#[case::not_json(Ok(b"\x00\x01".to_vec()), skipped("the host's answer is not valid JSON: expected value at line 1 column 1"))]
#[case::array(Ok(b"[]".to_vec()), skipped("the host answered an array, not a Node list"))]
#[case::null(Ok(b"null".to_vec()), skipped("the host answered null, not a Node list"))]
#[case::no_items(Ok(br#"{"kind":"NodeList"}"#.to_vec()), skipped("the Node list has no items"))]
#[case::items_object(Ok(br#"{"items":{"a":1}}"#.to_vec()), skipped("items must be an array, not an object"))]
#[case::items_string(Ok(br#"{"items":"none"}"#.to_vec()), skipped("items must be an array, not a string (\"none\")"))]
#[case::truncated(Ok(br#"{"items":[{"metadata":{"name":"w1"}"#.to_vec()), skipped("the host's answer is not valid JSON: EOF while parsing an object at line 1 column 35"))]
fn unreadable_nodes_are_a_warning(#[case] answer: Result<Vec<u8>, &str>, #[case] expected: String) {
    assert_eq!(run(ImageVolumeCheck::Deny, answer), Some(expected));
}

#[test]
fn go_null_items_is_an_empty_list() {
    assert_eq!(
        run(ImageVolumeCheck::Warn, Ok(br#"{"items":null}"#.to_vec())),
        Some("ImageVolume check skipped: the cluster lists no Nodes".to_owned())
    );
}

#[rstest]
#[case::item_string(json!("w1"), "(unnamed) (an item that is a string)")]
#[case::item_null(json!(null), "(null) (a null item)")]
#[case::no_status(json!({"metadata": {"name": "w1"}}), "w1 (no status.nodeInfo.kubeletVersion)")]
#[case::status_array(json!({"metadata": {"name": "w1"}, "status": []}), "w1 (status is an array)")]
#[case::no_node_info(json!({"metadata": {"name": "w1"}, "status": {}}), "w1 (no status.nodeInfo.kubeletVersion)")]
#[case::node_info_number(json!({"metadata": {"name": "w1"}, "status": {"nodeInfo": 3}}), "w1 (status.nodeInfo is a number)")]
#[case::kubelet_number(json!({"metadata": {"name": "w1"}, "status": {"nodeInfo": {"kubeletVersion": 135}}}), "w1 (status.nodeInfo.kubeletVersion is a number)")]
#[case::no_kubelet(json!({"metadata": {"name": "w1"}, "status": {"nodeInfo": {}}}), "w1 (no status.nodeInfo.kubeletVersion)")]
#[case::name_number(json!({"metadata": {"name": 1}, "status": {"nodeInfo": {}}}), "(unnamed) (no status.nodeInfo.kubeletVersion)")]
fn malformed_nodes_leave_the_verdict_open(#[case] item: Value, #[case] named: &str) {
    assert_eq!(
        run(ImageVolumeCheck::Deny, Ok(list(vec![item]))),
        Some(undetermined(&format!(
            "versions the policy cannot read on 1 of 1 node: {named}"
        )))
    );
}

#[rstest]
#[case::runtime_number(
    json!({"metadata": {"name": "w1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": 2}}}),
    "w1 (status.nodeInfo.containerRuntimeVersion is a number)"
)]
#[case::no_runtime(
    json!({"metadata": {"name": "w1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.35.0"}}}),
    "w1 (no status.nodeInfo.containerRuntimeVersion)"
)]
fn unknown_runtimes_leave_the_verdict_open(#[case] item: Value, #[case] named: &str) {
    assert_eq!(
        run(ImageVolumeCheck::Deny, Ok(list(vec![item]))),
        Some(undetermined(&format!(
            "a container runtime the policy cannot judge on 1 of 1 node: {named}"
        )))
    );
}

/// 5,000 Nodes (a large cluster): the verdict names three per group and
/// counts the rest, so the message stays short.
#[test]
fn five_thousand_nodes() {
    let mut nodes: Vec<Value> = (0..4_990)
        .map(|i| node(&format!("worker-{i:04}"), "v1.35.1", "containerd://2.1.4"))
        .collect();
    nodes.extend((0..7).map(|i| node(&format!("legacy-{i}"), "v1.32.9", "containerd://1.7.27")));
    nodes.extend((0..3).map(|i| node(&format!("gated-{i}"), "v1.34.2", "containerd://2.1.4")));
    let answer = list(nodes);
    assert!(answer.len() > 5_000_000 / 2, "{} bytes", answer.len());

    let survey = survey_nodes(&answer).unwrap();
    assert_eq!(survey.total, 5_000);
    assert_eq!(survey.group(NodeClass::Capable).count, 4_990);
    assert_eq!(survey.group(NodeClass::KubeletTooOld).count, 7);
    assert_eq!(survey.group(NodeClass::FeatureGateRequired).count, 3);

    let message = run(ImageVolumeCheck::Warn, Ok(answer)).unwrap();
    assert_eq!(
        message,
        not_ready_warning(
            "kubelet older than 1.33 on 7 of 5000 nodes: legacy-0 (kubelet v1.32.9), legacy-1 (kubelet v1.32.9), \
             legacy-2 (kubelet v1.32.9) and 4 more"
        )
    );
}

#[test]
fn every_group_is_bounded() {
    let long = "n".repeat(10_000);
    let nodes: Vec<Value> = (0..1_000)
        .flat_map(|i| {
            [
                node(
                    &format!("{long}{i}"),
                    &format!("v1.34.{i}{long}"),
                    "containerd://2.1.4",
                ),
                node(
                    &format!("{long}{i}"),
                    "v1.35.0",
                    &format!("docker://{long}"),
                ),
                node(
                    &format!("{long}{i}"),
                    &format!("x{long}"),
                    "containerd://2.1.4",
                ),
            ]
        })
        .collect();
    let message = run(ImageVolumeCheck::Warn, Ok(list(nodes))).unwrap();
    assert!(message.len() < 2_500, "{} bytes", message.len());
    assert!(message.contains("on 1000 of 3000 nodes"), "{message}");
    assert!(message.contains("and 997 more"), "{message}");
}

#[test]
fn list_request_is_sdk_shaped() {
    assert_eq!(serde_json::to_value(LIST_NODES).unwrap(), list_request());
    let exchange = Exchange::list(list_request(), Err("x"));
    assert_eq!(exchange.operation, LIST_RESOURCES_ALL);
    assert_eq!(exchange.answer, Err(HostError("x".to_owned())));
}

#[rstest]
#[case("warn", Some(ImageVolumeCheck::Warn))]
#[case("deny", Some(ImageVolumeCheck::Deny))]
#[case("off", Some(ImageVolumeCheck::Off))]
#[case("Deny", None)]
#[case("", None)]
fn parses_the_setting(#[case] text: &str, #[case] expected: Option<ImageVolumeCheck>) {
    assert_eq!(ImageVolumeCheck::parse(text), expected);
}
