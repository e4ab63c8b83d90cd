//! Kubernetes host capabilities answered the way `kwctl run --allow-context-aware
//! --replay-host-capabilities-interactions` answers them, against guests that make the calls.

use std::collections::BTreeSet;
use std::sync::Arc;

use policy_runner::context_aware::{Exchange, KubernetesRequest, RecordedResponse};
use policy_runner::{
    AdmissionResponse, ContextAwareAccess, ContextAwareResource, InstanceMode, Policy,
    RunnerOptions, Session, host_callback,
};
use rstest::rstest;
use serde_json::Value;

use crate::guest::{Behaviour, Guest, HostCall};
use crate::{bare_request, test_options};

const GET_BACKUP: &str = r#"{"api_version":"documentdb.io/preview","kind":"Backup","name":"nightly","namespace":"prod","disable_cache":false,"field_masks":["status.schemaVersion"]}"#;
const LIST_NODES: &str = r#"{"api_version":"v1","kind":"Node","label_selector":null,"field_selector":null,"field_masks":["status.nodeInfo.kubeletVersion"]}"#;
const LIST_PODS: &str = r#"{"api_version":"v1","kind":"Pod","namespace":"prod","label_selector":"app=db","field_selector":null,"field_masks":null}"#;
const CAN_I: &str = r#"{"subject_access_review":{"groups":null,"resource_attributes":{"group":"documentdb.io","name":null,"namespace":"prod","resource":"dbs","subresource":"status","verb":"update","version":null},"user":"alice"},"disable_cache":false}"#;

/// A payload the guest replies with verbatim: proof that the recorded payload reached it.
const RECORDED_REPLY: &str =
    r#"{"accepted":false,"message":"schema 0.112.0, read from the session","code":403}"#;
const RECORDED_LINE: &str = r#"{"uid":"abc-123","allowed":false,"status":{"message":"schema 0.112.0, read from the session","code":403},"auditAnnotations":null,"warnings":null}"#;

const NOT_FOUND: &str = r#"Cannot find documentdb.io/preview/Backup named 'nightly' inside of namespace 'Some("prod")'"#;

fn get_backup() -> KubernetesRequest {
    KubernetesRequest::KubernetesGetResource {
        api_version: "documentdb.io/preview".into(),
        kind: "Backup".into(),
        name: "nightly".into(),
        namespace: Some("prod".into()),
        disable_cache: false,
        field_masks: Some(BTreeSet::from(["status.schemaVersion".to_owned()])),
    }
}

fn list_nodes() -> KubernetesRequest {
    KubernetesRequest::KubernetesListResourceAll {
        api_version: "v1".into(),
        kind: "Node".into(),
        label_selector: None,
        field_selector: None,
        field_masks: Some(BTreeSet::from(
            ["status.nodeInfo.kubeletVersion".to_owned()],
        )),
    }
}

fn list_pods() -> KubernetesRequest {
    KubernetesRequest::KubernetesListResourceNamespace {
        api_version: "v1".into(),
        kind: "Pod".into(),
        namespace: "prod".into(),
        label_selector: Some("app=db".into()),
        field_selector: None,
        field_masks: None,
    }
}

fn can_i() -> KubernetesRequest {
    KubernetesRequest::KubernetesCanI {
        request: serde_json::from_value(
            serde_json::from_str::<Value>(CAN_I).unwrap()["subject_access_review"].clone(),
        )
        .unwrap(),
        disable_cache: false,
    }
}

fn answered(request: KubernetesRequest, payload: &str) -> Exchange {
    Exchange {
        request,
        response: RecordedResponse::Success {
            payload: payload.into(),
        },
    }
}

fn failed(request: KubernetesRequest, message: &str) -> Exchange {
    Exchange {
        request,
        response: RecordedResponse::Error {
            message: message.into(),
        },
    }
}

fn allow(resources: &[(&str, &str)]) -> ContextAwareAccess {
    ContextAwareAccess::AllowList(
        resources
            .iter()
            .map(|(api_version, kind)| ContextAwareResource::new(api_version, kind))
            .collect(),
    )
}

pub fn calling(calls: &[(&str, &str)]) -> Guest {
    Guest::validating(Behaviour::HostCalls(
        calls
            .iter()
            .map(|(operation, payload)| HostCall::kubernetes(operation, payload))
            .collect(),
    ))
}

fn load_with(guest: &Guest, access: ContextAwareAccess, session: Option<Session>) -> Policy {
    Policy::load(
        guest.wasm(),
        &RunnerOptions {
            context_aware: access,
            replay_session: session.map(Arc::new),
            ..test_options()
        },
    )
    .expect("test guest must load")
}

fn line(policy: &mut Policy, mode: InstanceMode) -> String {
    policy
        .evaluate_with_mode(&bare_request(), &Value::Null, mode)
        .unwrap()
        .to_json_line()
}

fn host_error(message: &str) -> String {
    AdmissionResponse::reject_internal_server_error(
        "abc-123",
        &format!("Guest call failure: {message}"),
    )
    .to_json_line()
}

#[rstest]
#[case::get_resource_answered_from_the_session(
    &[("get_resource", GET_BACKUP)],
    allow(&[("documentdb.io/preview", "Backup")]),
    Some(vec![answered(get_backup(), RECORDED_REPLY)]),
    RECORDED_LINE.to_owned(),
)]
#[case::both_lists_answered_in_order(
    &[("list_resources_by_namespace", LIST_PODS), ("list_resources_all", LIST_NODES)],
    allow(&[("v1", "Pod"), ("v1", "Node")]),
    Some(vec![
        answered(list_pods(), r#"{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[]}"#),
        answered(list_nodes(), RECORDED_REPLY),
    ]),
    RECORDED_LINE.to_owned(),
)]
#[case::a_recorded_error_is_the_hosts_error(
    &[("get_resource", GET_BACKUP)],
    allow(&[("documentdb.io/preview", "Backup")]),
    Some(vec![failed(get_backup(), NOT_FOUND)]),
    host_error(&format!("Callback evaluation failure: {NOT_FOUND}")),
)]
#[case::a_call_the_session_lacks(
    &[("get_resource", GET_BACKUP), ("list_resources_all", LIST_NODES)],
    allow(&[("documentdb.io/preview", "Backup"), ("v1", "Node")]),
    Some(vec![answered(get_backup(), "{}")]),
    host_error("Callback evaluation failure: the list of recorded responses is empty"),
)]
#[case::calls_in_another_order_than_recorded(
    &[("get_resource", GET_BACKUP), ("list_resources_all", LIST_NODES)],
    allow(&[("documentdb.io/preview", "Backup"), ("v1", "Node")]),
    Some(vec![answered(list_nodes(), "{}"), answered(get_backup(), "{}")]),
    host_error(
        "Callback evaluation failure: Replay error: unexpected request. Was expecting \
         KubernetesListResourceAll { api_version: \"v1\", kind: \"Node\", label_selector: None, \
         field_selector: None, field_masks: Some({\"status.nodeInfo.kubeletVersion\"}) }, got \
         KubernetesGetResource { api_version: \"documentdb.io/preview\", kind: \"Backup\", \
         name: \"nightly\", namespace: Some(\"prod\"), disable_cache: false, field_masks: \
         Some({\"status.schemaVersion\"}) } instead",
    ),
)]
#[case::refused_without_allow_context_aware(
    &[("get_resource", GET_BACKUP)],
    ContextAwareAccess::NoAccess,
    Some(vec![answered(get_backup(), RECORDED_REPLY)]),
    host_error(
        "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup \
         resources. The violation has been reported.",
    ),
)]
#[case::a_kind_the_policy_did_not_declare(
    &[("list_resources_all", LIST_NODES)],
    allow(&[("documentdb.io/preview", "Backup")]),
    Some(vec![answered(list_nodes(), RECORDED_REPLY)]),
    host_error(
        "Policy has not been granted access to Kubernetes v1/Node resources. The violation \
         has been reported.",
    ),
)]
#[case::granted_but_no_session_is_a_host_without_a_client(
    &[("get_resource", GET_BACKUP)],
    allow(&[("documentdb.io/preview", "Backup")]),
    None,
    host_error("Callback evaluation failure: kube::Client was not initialized properly"),
)]
#[case::can_i_is_not_limited_by_the_allow_list(
    &[("can_i", CAN_I)],
    ContextAwareAccess::NoAccess,
    Some(vec![answered(can_i(), RECORDED_REPLY)]),
    RECORDED_LINE.to_owned(),
)]
#[case::a_malformed_payload_gets_the_serde_error(
    &[("get_resource", r#"{"api_version":"v1","kind":"Node","name":"n"}"#)],
    allow(&[("v1", "Node")]),
    None,
    host_error("missing field `disable_cache` at line 1 column 45"),
)]
#[case::an_unknown_kubernetes_operation(
    &[("delete_resource", GET_BACKUP)],
    allow(&[("documentdb.io/preview", "Backup")]),
    None,
    host_error("unknown operation: delete_resource"),
)]
fn kubernetes_calls_are_answered_like_kwctl(
    #[case] calls: &[(&str, &str)],
    #[case] access: ContextAwareAccess,
    #[case] exchanges: Option<Vec<Exchange>>,
    #[case] expected: String,
) {
    let session = exchanges.map(|exchanges| Session { exchanges });
    let mut policy = load_with(&calling(calls), access, session);
    // Every evaluation replays the session from its start, on either instance.
    for mode in [InstanceMode::Warm, InstanceMode::Warm, InstanceMode::Fresh] {
        assert_eq!(line(&mut policy, mode), expected, "{mode:?}");
    }
}

#[test]
fn the_bare_host_callback_grants_no_resource_and_has_no_cluster() {
    assert_eq!(
        host_callback(
            "kubewarden",
            "kubernetes",
            "get_resource",
            GET_BACKUP.as_bytes()
        )
        .unwrap_err()
        .to_string(),
        "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup \
         resources. The violation has been reported."
    );
    assert_eq!(
        host_callback("kubewarden", "kubernetes", "can_i", CAN_I.as_bytes())
            .unwrap_err()
            .to_string(),
        "Callback evaluation failure: kube::Client was not initialized properly"
    );
}

#[test]
fn unused_exchanges_are_counted() {
    let session = Session {
        exchanges: vec![answered(get_backup(), RECORDED_REPLY)],
    };
    let mut refused = load_with(
        &calling(&[("get_resource", GET_BACKUP)]),
        ContextAwareAccess::NoAccess,
        Some(session.clone()),
    );
    line(&mut refused, InstanceMode::Warm);
    assert_eq!(refused.unreplayed_exchanges(), Some(1));
    let mut granted = load_with(
        &calling(&[("get_resource", GET_BACKUP)]),
        allow(&[("documentdb.io/preview", "Backup")]),
        Some(session),
    );
    line(&mut granted, InstanceMode::Warm);
    assert_eq!(granted.unreplayed_exchanges(), Some(0));
    let mut without = load_with(&Guest::default(), ContextAwareAccess::NoAccess, None);
    line(&mut without, InstanceMode::Warm);
    assert_eq!(without.unreplayed_exchanges(), None);
}

#[test]
fn settings_validation_starts_the_session_and_the_next_evaluation_continues_it() {
    let guest = Guest {
        validate_settings: Behaviour::HostCalls(vec![HostCall::kubernetes(
            "get_resource",
            GET_BACKUP,
        )]),
        ..calling(&[("list_resources_all", LIST_NODES)])
    };
    let session = Session {
        exchanges: vec![
            answered(get_backup(), r#"{"valid":true}"#),
            answered(list_nodes(), RECORDED_REPLY),
        ],
    };
    let mut policy = load_with(
        &guest,
        allow(&[("documentdb.io/preview", "Backup"), ("v1", "Node")]),
        Some(session),
    );
    // kwctl run: settings, then the evaluation, on one session.
    assert!(policy.validate_settings(&Value::Null).unwrap().valid);
    assert_eq!(line(&mut policy, InstanceMode::Warm), RECORDED_LINE);
    // Another evaluation is another kwctl run: the session starts again, with the
    // settings' exchange.
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        host_error(
            "Callback evaluation failure: Replay error: unexpected request. Was expecting \
             KubernetesGetResource { api_version: \"documentdb.io/preview\", kind: \"Backup\", \
             name: \"nightly\", namespace: Some(\"prod\"), disable_cache: false, field_masks: \
             Some({\"status.schemaVersion\"}) }, got KubernetesListResourceAll { api_version: \
             \"v1\", kind: \"Node\", label_selector: None, field_selector: None, field_masks: \
             Some({\"status.nodeInfo.kubeletVersion\"}) } instead"
        )
    );
}

#[test]
fn the_session_and_the_access_can_change_between_evaluations() {
    let mut policy = load_with(
        &calling(&[("get_resource", GET_BACKUP)]),
        ContextAwareAccess::NoAccess,
        None,
    );
    policy
        .set_context_aware(&allow(&[("documentdb.io/preview", "Backup")]))
        .unwrap();
    policy.set_replay_session(Some(Arc::new(Session {
        exchanges: vec![answered(get_backup(), RECORDED_REPLY)],
    })));
    assert_eq!(line(&mut policy, InstanceMode::Fresh), RECORDED_LINE);
    policy.set_replay_session(None);
    assert_eq!(
        line(&mut policy, InstanceMode::Fresh),
        host_error("Callback evaluation failure: kube::Client was not initialized properly")
    );
}

const BACKUP_METADATA: &str = r#"{"protocolVersion":"v1","contextAwareResources":[{"apiVersion":"documentdb.io/preview","kind":"Backup"}]}"#;

#[rstest]
#[case::annotated_with_the_resource(Some(BACKUP_METADATA), RECORDED_LINE.to_owned())]
#[case::annotated_without_resources(
    Some(r#"{"protocolVersion":"v1"}"#),
    host_error(
        "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup \
         resources. The violation has been reported.",
    )
)]
#[case::not_annotated(
    None,
    host_error(
        "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup \
         resources. The violation has been reported.",
    )
)]
fn allow_context_aware_grants_what_the_modules_metadata_declares(
    #[case] metadata: Option<&str>,
    #[case] expected: String,
) {
    let guest = Guest {
        metadata: metadata.map(str::to_owned),
        ..calling(&[("get_resource", GET_BACKUP)])
    };
    let session = Session {
        exchanges: vec![answered(get_backup(), RECORDED_REPLY)],
    };
    let mut policy = load_with(&guest, ContextAwareAccess::PolicyMetadata, Some(session));
    assert_eq!(line(&mut policy, InstanceMode::Warm), expected);
}

#[test]
fn unreadable_metadata_fails_loading_only_when_it_is_trusted() {
    let guest = Guest {
        metadata: Some("{not json".into()),
        ..Guest::default()
    };
    let err = Policy::load(
        guest.wasm(),
        &RunnerOptions {
            context_aware: ContextAwareAccess::PolicyMetadata,
            ..test_options()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid policy module: policy metadata: cannot read the `io.kubewarden.metadata` \
         section: key must be a string at line 1 column 2"
    );
    assert!(Policy::load(guest.wasm(), &test_options()).is_ok());
}

#[rstest]
#[case::not_a_list(
    "type: Exchange\n",
    "not a kwctl host capabilities session (a YAML list of {type: Exchange, request, \
     response}): invalid type: map, expected a sequence"
)]
#[case::a_request_that_is_not_text(
    "- type: Exchange\n  request: {api_version: v1}\n  response: {type: Success, payload: x}\n",
    "not a kwctl host capabilities session (a YAML list of {type: Exchange, request, \
     response}): .[0].request: invalid type: map, expected a string at line 2 column 12"
)]
#[case::an_unknown_response_type(
    "- type: Exchange\n  request: '!KubernetesCanI {}'\n  response: {type: Maybe}\n",
    "not a kwctl host capabilities session (a YAML list of {type: Exchange, request, \
     response}): .[0].response.type: unknown variant `Maybe`, expected `Success` or `Error` at line 3 column 20"
)]
#[case::a_request_policy_runner_does_not_replay(
    "- type: Exchange\n  request: |\n    !OciManifestDigest\n    image: busybox\n  response: {type: Success, payload: x}\n",
    "exchange 1: the request is not one policy-runner replays (!KubernetesGetResource, \
     !KubernetesListResourceAll, !KubernetesListResourceNamespace, !KubernetesCanI): unknown \
     variant `OciManifestDigest`, expected one of `KubernetesListResourceNamespace`, \
     `KubernetesListResourceAll`, `KubernetesGetResource`, `KubernetesCanI`"
)]
#[case::a_request_missing_a_field(
    "- type: Exchange\n  request: '!KubernetesGetResource {kind: Node}'\n  response: {type: Success, payload: x}\n\
     - type: Exchange\n  request: '!KubernetesGetResource {api_version: v1, kind: Node, name: n, namespace: null}'\n  response: {type: Success, payload: x}\n",
    "exchange 1: the request is not one policy-runner replays (!KubernetesGetResource, \
     !KubernetesListResourceAll, !KubernetesListResourceNamespace, !KubernetesCanI): missing \
     field `api_version`"
)]
fn a_malformed_session_is_a_clear_error(#[case] yaml: &str, #[case] expected: &str) {
    assert_eq!(Session::from_yaml(yaml).unwrap_err(), expected);
}

#[test]
fn an_empty_session_is_valid_and_answers_nothing() {
    let session = Session::from_yaml("[]").unwrap();
    let mut policy = load_with(
        &calling(&[("get_resource", GET_BACKUP)]),
        allow(&[("documentdb.io/preview", "Backup")]),
        Some(session),
    );
    assert_eq!(
        line(&mut policy, InstanceMode::Warm),
        host_error("Callback evaluation failure: the list of recorded responses is empty")
    );
}
