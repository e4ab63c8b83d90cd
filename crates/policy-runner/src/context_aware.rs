//! The `kubernetes/*` host capabilities, answered the way `kwctl run` answers them:
//! `--allow-context-aware` grants the Kubernetes resources listed in the policy's
//! `contextAwareResources`, and `--replay-host-capabilities-interactions FILE` answers the
//! granted calls from a session recorded by `kwctl run --record-host-capabilities-interactions`.
//!
//! The sources, in `kubewarden/kubewarden-controller`:
//! * `crates/policy-evaluator/src/runtimes/callback.rs`: parse the guest's payload, check the
//!   `{apiVersion, kind}` against the allow list (`get_resource`, `list_resources_*`; `can_i`
//!   is not checked), hand the request to the callback handler, and turn a failed answer into
//!   the host error `Callback evaluation failure: <error>`;
//! * `crates/policy-evaluator/src/callback_requests.rs`: `CallbackRequestType`, whose variants
//!   and field names are the session file's request tags, and whose `Debug` text is quoted in
//!   replay errors ([`KubernetesRequest`] mirrors its Kubernetes variants field for field);
//! * `crates/kwctl/src/callback_handler/proxy.rs`: the session format and the replay: one
//!   queue of exchanges, each call takes the next one, whatever it is; a request that differs
//!   from the recorded one fails (and the exchange is used up); an empty queue fails.
//!
//! The request types are declared here rather than taken from
//! `kubewarden_policy_sdk::host_capabilities::kubernetes`: that module needs the SDK's
//! `cluster-context` feature, i.e. k8s-openapi, for four flat structs. They carry the SDK's
//! names and fields, so a malformed payload gets the same serde error text as under kwctl.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One `{apiVersion, kind}` of the metadata's `contextAwareResources`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    pub api_version: String,
    pub kind: String,
}

impl ContextAwareResource {
    pub fn new(api_version: &str, kind: &str) -> Self {
        ContextAwareResource {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }
    }
}

/// Which Kubernetes resources the policy may read (kwctl's `ContextAwareConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ContextAwareAccess {
    /// None (kwctl without `--allow-context-aware`).
    #[default]
    NoAccess,
    /// The `contextAwareResources` of the module's own metadata (the `io.kubewarden.metadata`
    /// custom section `kwctl annotate` writes): `--allow-context-aware`. A module that is not
    /// annotated gets no access, as under kwctl.
    PolicyMetadata,
    /// These resources (what kwctl grants a policy declared in a ClusterAdmissionPolicy file):
    /// for a module not annotated yet, with the list of the metadata file it will be
    /// annotated with (see [`context_aware_resources_from_metadata_file`]).
    AllowList(BTreeSet<ContextAwareResource>),
}

/// The name of the custom section holding the policy's metadata (JSON), as policy-evaluator
/// reads it.
pub const METADATA_SECTION: &str = "io.kubewarden.metadata";

/// The `contextAwareResources` of the module's `io.kubewarden.metadata` section; empty when
/// the module is not annotated. Err: the module or the section cannot be read.
pub fn context_aware_resources_of_module(
    module: &[u8],
) -> Result<BTreeSet<ContextAwareResource>, String> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| format!("cannot read the module: {e}"))?;
        if let wasmparser::Payload::CustomSection(section) = payload
            && section.name() == METADATA_SECTION
        {
            return resources_of_metadata_json(section.data())
                .map_err(|e| format!("cannot read the `{METADATA_SECTION}` section: {e}"));
        }
    }
    Ok(BTreeSet::new())
}

#[derive(Deserialize)]
struct MetadataResources {
    #[serde(default, rename = "contextAwareResources")]
    context_aware_resources: BTreeSet<ContextAwareResource>,
}

fn resources_of_metadata_json(json: &[u8]) -> Result<BTreeSet<ContextAwareResource>, String> {
    serde_json::from_slice::<MetadataResources>(json)
        .map(|m| m.context_aware_resources)
        .map_err(|e| e.to_string())
}

/// The `contextAwareResources` of a policy metadata file (`metadata.yml`, what `kwctl
/// annotate -m` embeds): the allow list `--allow-context-aware` grants once the module is
/// annotated with it.
pub fn context_aware_resources_from_metadata_file(
    path: &Path,
) -> Result<BTreeSet<ContextAwareResource>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml::from_str::<MetadataResources>(&text)
        .map(|m| m.context_aware_resources)
        .map_err(|e| format!("cannot parse {}: {e}", path.display()))
}

// ---------------------------------------------------------------- what the guest sends

/// `kubernetes/list_resources_by_namespace` payload (the SDK's type).
#[derive(Serialize, Deserialize, Debug)]
pub struct ListResourcesByNamespaceRequest {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub field_masks: Option<BTreeSet<String>>,
}

/// `kubernetes/list_resources_all` payload (the SDK's type).
#[derive(Serialize, Deserialize, Debug)]
pub struct ListAllResourcesRequest {
    pub api_version: String,
    pub kind: String,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub field_masks: Option<BTreeSet<String>>,
}

/// `kubernetes/get_resource` payload (the SDK's type).
#[derive(Serialize, Deserialize, Debug)]
pub struct GetResourceRequest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub disable_cache: bool,
    pub field_masks: Option<BTreeSet<String>>,
}

/// `kubernetes/can_i` payload (the SDK's type).
#[derive(Serialize, Deserialize, Debug)]
pub struct CanIRequest {
    pub subject_access_review: SubjectAccessReview,
    pub disable_cache: bool,
}

/// The SDK's `SubjectAccessReview` (what `can_i` asks about).
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, Default, Hash, Clone)]
pub struct SubjectAccessReview {
    pub groups: Option<Vec<String>>,
    pub resource_attributes: ResourceAttributes,
    pub user: String,
}

/// The SDK's `ResourceAttributes`.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, Default, Hash, Clone)]
pub struct ResourceAttributes {
    pub group: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub resource: String,
    pub subresource: Option<String>,
    pub verb: String,
    pub version: Option<String>,
}

/// The Kubernetes variants of policy-evaluator's `CallbackRequestType`: the request tags of a
/// session file (`!KubernetesGetResource`, …) and, through `Debug`, the text of replay errors.
/// Variant and field names and order are policy-evaluator's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KubernetesRequest {
    KubernetesListResourceNamespace {
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesListResourceAll {
        api_version: String,
        kind: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesCanI {
        request: SubjectAccessReview,
        disable_cache: bool,
    },
}

/// Why policy-evaluator refuses a `get_resource` / `list_resources_*` call outside the allow
/// list.
pub fn resource_not_granted(api_version: &str, kind: &str) -> String {
    format!(
        "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. \
         The violation has been reported."
    )
}

/// What policy-evaluator's callback handler answers when it has no Kubernetes client (kwctl
/// without `--allow-context-aware`; policy-runner whenever no session is replayed).
pub const NO_KUBERNETES_CLIENT: &str = "kube::Client was not initialized properly";

/// Parses a `kubernetes/<operation>` payload and checks it against the allow list, as
/// policy-evaluator's host callback does. `Err` is the host error returned to the guest.
pub fn kubernetes_request(
    operation: &str,
    payload: &[u8],
    allowed: &BTreeSet<ContextAwareResource>,
) -> Result<KubernetesRequest, String> {
    let check = |api_version: &str, kind: &str| {
        if allowed.contains(&ContextAwareResource::new(api_version, kind)) {
            Ok(())
        } else {
            Err(resource_not_granted(api_version, kind))
        }
    };
    let parse_error = |e: serde_json::Error| e.to_string();
    match operation {
        "list_resources_by_namespace" => {
            let r: ListResourcesByNamespaceRequest =
                serde_json::from_slice(payload).map_err(parse_error)?;
            check(&r.api_version, &r.kind)?;
            Ok(KubernetesRequest::KubernetesListResourceNamespace {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                label_selector: r.label_selector,
                field_selector: r.field_selector,
                field_masks: r.field_masks,
            })
        }
        "list_resources_all" => {
            let r: ListAllResourcesRequest =
                serde_json::from_slice(payload).map_err(parse_error)?;
            check(&r.api_version, &r.kind)?;
            Ok(KubernetesRequest::KubernetesListResourceAll {
                api_version: r.api_version,
                kind: r.kind,
                label_selector: r.label_selector,
                field_selector: r.field_selector,
                field_masks: r.field_masks,
            })
        }
        "get_resource" => {
            let r: GetResourceRequest = serde_json::from_slice(payload).map_err(parse_error)?;
            check(&r.api_version, &r.kind)?;
            Ok(KubernetesRequest::KubernetesGetResource {
                api_version: r.api_version,
                kind: r.kind,
                name: r.name,
                namespace: r.namespace,
                disable_cache: r.disable_cache,
                field_masks: r.field_masks,
            })
        }
        // policy-evaluator checks no resource for can_i.
        "can_i" => {
            let r: CanIRequest = serde_json::from_slice(payload).map_err(parse_error)?;
            Ok(KubernetesRequest::KubernetesCanI {
                request: r.subject_access_review,
                disable_cache: r.disable_cache,
            })
        }
        _ => Err(format!("unknown operation: {operation}")),
    }
}

// ---------------------------------------------------------------- the session file

/// A session recorded by `kwctl run --record-host-capabilities-interactions`: the exchanges
/// in the order the policy made its calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub exchanges: Vec<Exchange>,
}

/// One recorded call and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request: KubernetesRequest,
    pub response: RecordedResponse,
}

/// What the host answered: a payload handed to the guest, or a host error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RecordedResponse {
    Success { payload: String },
    Error { message: String },
}

/// kwctl's on-disk exchange: `{type: Exchange, request: <YAML text of the request>, response}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
struct RecordedExchange {
    request: String,
    response: RecordedResponse,
}

impl Session {
    /// Reads a session file. Err: a message naming the file and, when one exchange is at
    /// fault, its position (1-based).
    pub fn from_file(path: &Path) -> Result<Session, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Session::from_yaml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a session file.
    pub fn from_yaml(text: &str) -> Result<Session, String> {
        let recorded: Vec<RecordedExchange> = serde_yaml::from_str(text).map_err(|e| {
            format!(
                "not a kwctl host capabilities session (a YAML list of \
                 {{type: Exchange, request, response}}): {e}"
            )
        })?;
        let exchanges = recorded
            .into_iter()
            .enumerate()
            .map(|(i, exchange)| {
                let request: KubernetesRequest =
                    serde_yaml::from_str(&exchange.request).map_err(|e| {
                        format!(
                            "exchange {}: the request is not one policy-runner replays \
                             (!KubernetesGetResource, !KubernetesListResourceAll, \
                             !KubernetesListResourceNamespace, !KubernetesCanI): {e}",
                            i + 1
                        )
                    })?;
                Ok(Exchange {
                    request,
                    response: exchange.response,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Session { exchanges })
    }

    /// The session in kwctl's file format.
    pub fn to_yaml(&self) -> String {
        let recorded: Vec<RecordedExchange> = self
            .exchanges
            .iter()
            .map(|exchange| RecordedExchange {
                request: serde_yaml::to_string(&exchange.request)
                    .expect("a request serialises to YAML"),
                response: exchange.response.clone(),
            })
            .collect();
        serde_yaml::to_string(&recorded).expect("exchanges serialise to YAML")
    }
}

/// Where a replay of a session stands: the session, shared, and the next
/// exchange. Starting a replay copies nothing, so an evaluation that makes no
/// call costs the same whatever the session holds (`make bench`'s audit rows).
#[derive(Debug, Clone)]
pub(crate) struct Replay {
    session: Arc<Session>,
    next: usize,
}

impl Replay {
    pub(crate) fn start(session: &Arc<Session>) -> Self {
        Replay {
            session: Arc::clone(session),
            next: 0,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.session.exchanges.len().saturating_sub(self.next)
    }

    /// kwctl's `produce_recorded_response`: the next exchange answers, if it recorded this
    /// very request; it is used up either way. Err: the error the callback handler reports.
    pub(crate) fn answer(&mut self, request: &KubernetesRequest) -> Result<Vec<u8>, String> {
        let Some(exchange) = self.session.exchanges.get(self.next) else {
            return Err("the list of recorded responses is empty".to_owned());
        };
        self.next += 1;
        if exchange.request != *request {
            return Err(format!(
                "Replay error: unexpected request. Was expecting {:?}, got {:?} instead",
                exchange.request, request
            ));
        }
        match &exchange.response {
            RecordedResponse::Success { payload } => Ok(payload.clone().into_bytes()),
            RecordedResponse::Error { message } => Err(message.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KWCTL_SESSION: &str = r#"- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: test-policy
    namespace: null
    disable_cache: false
  response:
    type: Error
    message: Cannot find v1/Namespace named 'test-policy' inside of namespace 'None'
- type: Exchange
  request: |
    !KubernetesListResourceAll
    api_version: networking.k8s.io/v1
    kind: Ingress
    label_selector: null
    field_selector: null
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"List","items":[]}'
"#;

    #[test]
    fn reads_kwctl_sessions_with_absent_field_masks() {
        let session = Session::from_yaml(KWCTL_SESSION).unwrap();
        assert_eq!(
            session.exchanges,
            vec![
                Exchange {
                    request: KubernetesRequest::KubernetesGetResource {
                        api_version: "v1".into(),
                        kind: "Namespace".into(),
                        name: "test-policy".into(),
                        namespace: None,
                        disable_cache: false,
                        field_masks: None,
                    },
                    response: RecordedResponse::Error {
                        message: "Cannot find v1/Namespace named 'test-policy' inside of \
                                  namespace 'None'"
                            .into()
                    },
                },
                Exchange {
                    request: KubernetesRequest::KubernetesListResourceAll {
                        api_version: "networking.k8s.io/v1".into(),
                        kind: "Ingress".into(),
                        label_selector: None,
                        field_selector: None,
                        field_masks: None,
                    },
                    response: RecordedResponse::Success {
                        payload: r#"{"apiVersion":"v1","kind":"List","items":[]}"#.into()
                    },
                },
            ]
        );
        // Written back in kwctl's format, it reads the same.
        assert_eq!(Session::from_yaml(&session.to_yaml()).unwrap(), session);
    }

    #[test]
    fn the_mismatch_error_quotes_both_requests_like_policy_evaluators_debug() {
        let session = Session::from_yaml(KWCTL_SESSION).unwrap();
        let mut replay = Replay::start(&Arc::new(session));
        let other = KubernetesRequest::KubernetesGetResource {
            api_version: "documentdb.io/preview".into(),
            kind: "Backup".into(),
            name: "nightly".into(),
            namespace: Some("prod".into()),
            disable_cache: false,
            field_masks: Some(["status.schemaVersion".to_owned()].into()),
        };
        assert_eq!(
            replay.answer(&other).unwrap_err(),
            "Replay error: unexpected request. Was expecting KubernetesGetResource { \
             api_version: \"v1\", kind: \"Namespace\", name: \"test-policy\", namespace: None, \
             disable_cache: false, field_masks: None }, got KubernetesGetResource { \
             api_version: \"documentdb.io/preview\", kind: \"Backup\", name: \"nightly\", \
             namespace: Some(\"prod\"), disable_cache: false, field_masks: \
             Some({\"status.schemaVersion\"}) } instead"
        );
        assert_eq!(replay.remaining(), 1, "a mismatch uses the exchange up");
    }

    #[test]
    fn metadata_section_lists_the_resources() {
        let json = br#"{"protocolVersion":"v1","contextAwareResources":[{"apiVersion":"v1","kind":"Node"},{"apiVersion":"documentdb.io/preview","kind":"Backup"}]}"#;
        assert_eq!(
            resources_of_metadata_json(json).unwrap(),
            BTreeSet::from([
                ContextAwareResource::new("v1", "Node"),
                ContextAwareResource::new("documentdb.io/preview", "Backup"),
            ])
        );
        assert_eq!(
            resources_of_metadata_json(br#"{"protocolVersion":"v1"}"#).unwrap(),
            BTreeSet::new()
        );
        assert!(resources_of_metadata_json(b"{").is_err());
    }
}
