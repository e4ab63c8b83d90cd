//! The cluster layer: what the policy may ask the cluster, behind a trait so
//! that the rules stay pure (reads and their failures, no judgement): Kubewarden's `kubernetes/get_resource` and `kubernetes/list_resources_all`
//! host capabilities, answered by policy-server (or kwctl replaying a recorded
//! session) inside the module, by a test double in tests, and by nothing at all
//! where there is no cluster (the web checker).
//!
//! The SDK's `host_capabilities::kubernetes` needs its `cluster-context`
//! feature, which brings k8s-openapi into the module; this crate uses the SDK
//! without default features, so the request payloads are written here, with the
//! field names of the SDK's `GetResourceRequest` / `ListAllResourcesRequest`
//! (what policy-evaluator deserializes, and what kwctl compares a replayed
//! request with).

use std::fmt;

use serde::Serialize;

use crate::json::{Found, Path};
use crate::text::bounded;

pub mod nodes;
pub mod restore;

/// The waPC namespace and operations, and the capability names the metadata
/// declares (`hostCapabilities`).
pub const NAMESPACE: &str = "kubernetes";
pub const GET_RESOURCE: &str = "get_resource";
pub const LIST_RESOURCES_ALL: &str = "list_resources_all";
pub const HOST_CAPABILITIES: [&str; 2] =
    ["kubernetes/get_resource", "kubernetes/list_resources_all"];

/// `kubernetes/get_resource`: one object by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GetResource<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<&'a str>,
    /// `false`: the host's 5-second cache is fine for what the policy reads
    /// (a Backup's recorded schema never changes once set).
    pub disable_cache: bool,
    /// Dotted paths the host keeps (it prunes everything else but the type
    /// and, in policy-evaluator today, `metadata`). Sorted, as the SDK's
    /// `BTreeSet` serialises them.
    pub field_masks: Option<&'a [&'a str]>,
}

/// `kubernetes/list_resources_all`: every object of a kind, cluster-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListAllResources<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub label_selector: Option<&'a str>,
    pub field_selector: Option<&'a str>,
    pub field_masks: Option<&'a [&'a str]>,
}

/// A failed host call: the host's own text (policy-evaluator answers errors
/// as strings only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

/// Longest part of a host error shown in a warning: a Kubernetes API error
/// carries the whole Status object, which says nothing more after this.
pub const MAX_HOST_ERROR_CHARS: usize = 240;

impl HostError {
    /// policy-evaluator's answer for a missing object is an error like any
    /// other; its text is the only way to tell it apart:
    /// `Cannot find <apiVersion>/<kind> named '<name>' inside of namespace '<Some("ns") | None>'`
    /// (`callback_handler/kubernetes/client.rs`), wrapped by the host as
    /// `Callback evaluation failure: …`.
    pub fn is_not_found(&self, request: &GetResource) -> bool {
        let needle = format!(
            "Cannot find {}/{} named '{}'",
            request.api_version, request.kind, request.name
        );
        self.0.contains(&needle)
    }

    /// The policy may not ask at all: Kubewarden refused the call because the
    /// policy was not granted the Kubernetes resource or the host capability
    /// (policy-evaluator's `Policy has not been granted access to …` texts,
    /// `runtimes/callback.rs`), or there is no cluster ([`NoCluster`]). The
    /// ImageVolume check stays silent then; the restore check still warns.
    pub fn is_not_granted(&self) -> bool {
        self.0.starts_with("Policy has not been granted access to") || self.0 == NoCluster::MESSAGE
    }

    /// The error for a message: control characters escaped, cut to
    /// [`MAX_HOST_ERROR_CHARS`] with `…`.
    pub fn shown(&self) -> String {
        bounded(&self.0, MAX_HOST_ERROR_CHARS)
    }
}

/// Why an answer from the cluster cannot be used; a warning renders it
/// (src/findings.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// The call failed (for another reason than a missing object).
    Host(HostError),
    /// A namespaced object, and the admission request names no namespace.
    NoNamespace,
    /// The answer is not JSON: the parser's error.
    NotJson(String),
    /// The answer is JSON of another type (`None`: `null`) than `expected`.
    NotAnObject {
        found: Option<Found>,
        expected: &'static str,
    },
    /// An object of another kind than asked for (as written).
    WrongKind {
        found: String,
        expected: &'static str,
    },
    /// The value at the first `depth` keys of `path` holds another JSON type.
    Mistyped {
        path: Path,
        depth: usize,
        found: Found,
        expected: &'static str,
    },
    /// A list answer without `items`.
    NoItems,
}

/// The host capabilities the rules use. Answers are the host's raw JSON
/// bytes: the callers read only the fields they need, and a malformed answer
/// is their "unreadable", never a failure of the request.
pub trait Cluster: fmt::Debug {
    fn get_resource(&self, request: &GetResource) -> Result<Vec<u8>, HostError>;
    fn list_resources_all(&self, request: &ListAllResources) -> Result<Vec<u8>, HostError>;
}

/// No cluster to ask (the web checker, native builds of the entry points):
/// every call fails with [`NoCluster::MESSAGE`], which the rules turn into
/// "could not check" warnings, as for a policy deployed without the
/// context-aware permission.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCluster;

impl NoCluster {
    pub const MESSAGE: &'static str = "no cluster to ask: this build of the policy cannot read the cluster (the policy deployed in the cluster checks this at admission)";
}

impl Cluster for NoCluster {
    fn get_resource(&self, _: &GetResource) -> Result<Vec<u8>, HostError> {
        Err(HostError(Self::MESSAGE.to_owned()))
    }
    fn list_resources_all(&self, _: &ListAllResources) -> Result<Vec<u8>, HostError> {
        Err(HostError(Self::MESSAGE.to_owned()))
    }
}

/// The real host: waPC `host_call("kubewarden", "kubernetes", …)`. Only the
/// wasm32 module has one; elsewhere (native tests of the entry points) it
/// behaves as [`NoCluster`].
#[cfg(feature = "kubewarden")]
#[derive(Debug, Clone, Copy, Default)]
pub struct WapcHost;

#[cfg(feature = "kubewarden")]
impl WapcHost {
    fn call(operation: &str, request: &impl Serialize) -> Result<Vec<u8>, HostError> {
        let payload = serde_json::to_vec(request)
            .map_err(|e| HostError(format!("cannot encode the {operation} request: {e}")))?;
        Self::host_call(operation, &payload)
    }

    #[cfg(target_arch = "wasm32")]
    fn host_call(operation: &str, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        kubewarden_policy_sdk::wapc_guest::host_call("kubewarden", NAMESPACE, operation, payload)
            .map_err(|e| {
                // wapc-guest wraps the host's text as "Host error: <text>".
                let text = e.to_string();
                let text = text.strip_prefix("Host error: ").unwrap_or(&text);
                HostError(text.to_owned())
            })
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn host_call(_operation: &str, _payload: &[u8]) -> Result<Vec<u8>, HostError> {
        Err(HostError(NoCluster::MESSAGE.to_owned()))
    }
}

#[cfg(feature = "kubewarden")]
impl Cluster for WapcHost {
    fn get_resource(&self, request: &GetResource) -> Result<Vec<u8>, HostError> {
        Self::call(GET_RESOURCE, request)
    }
    fn list_resources_all(&self, request: &ListAllResources) -> Result<Vec<u8>, HostError> {
        Self::call(LIST_RESOURCES_ALL, request)
    }
}

/// A scripted cluster for tests: answers from a list of expected exchanges,
/// in order, and fails (like kwctl's replay) on a request it does not expect.
#[cfg(test)]
pub mod fake {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    /// A request as JSON, the way the host receives it.
    pub fn get_json(request: &GetResource) -> serde_json::Value {
        serde_json::to_value(request).expect("serialisable")
    }

    #[derive(Debug, Clone)]
    pub struct Exchange {
        pub operation: &'static str,
        pub request: serde_json::Value,
        pub answer: Result<Vec<u8>, HostError>,
    }

    impl Exchange {
        pub fn get(request: serde_json::Value, answer: Result<&[u8], &str>) -> Self {
            Exchange {
                operation: GET_RESOURCE,
                request,
                answer: answer
                    .map(<[u8]>::to_vec)
                    .map_err(|e| HostError(e.to_owned())),
            }
        }
        pub fn list(request: serde_json::Value, answer: Result<Vec<u8>, &str>) -> Self {
            Exchange {
                operation: LIST_RESOURCES_ALL,
                request,
                answer: answer.map_err(|e| HostError(e.to_owned())),
            }
        }
    }

    /// Every call is checked against the next expected exchange; calls left
    /// over are checked by [`Scripted::assert_done`].
    #[derive(Debug, Default)]
    pub struct Scripted {
        pub expected: RefCell<VecDeque<Exchange>>,
        pub calls: RefCell<usize>,
    }

    impl Scripted {
        pub fn new(exchanges: impl IntoIterator<Item = Exchange>) -> Self {
            Scripted {
                expected: RefCell::new(exchanges.into_iter().collect()),
                calls: RefCell::new(0),
            }
        }

        pub fn assert_done(&self) {
            let left = self.expected.borrow();
            assert!(left.is_empty(), "exchanges not used: {left:?}");
        }

        fn answer(
            &self,
            operation: &'static str,
            request: serde_json::Value,
        ) -> Result<Vec<u8>, HostError> {
            *self.calls.borrow_mut() += 1;
            let Some(next) = self.expected.borrow_mut().pop_front() else {
                panic!("unexpected {operation} call (no exchange left): {request}");
            };
            assert_eq!(
                (next.operation, &next.request),
                (operation, &request),
                "unexpected request"
            );
            next.answer
        }
    }

    impl Cluster for Scripted {
        fn get_resource(&self, request: &GetResource) -> Result<Vec<u8>, HostError> {
            self.answer(GET_RESOURCE, get_json(request))
        }
        fn list_resources_all(&self, request: &ListAllResources) -> Result<Vec<u8>, HostError> {
            self.answer(
                LIST_RESOURCES_ALL,
                serde_json::to_value(request).expect("serialisable"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    const BACKUP: GetResource = GetResource {
        api_version: "documentdb.io/preview",
        kind: "Backup",
        name: "nightly",
        namespace: Some("prod"),
        disable_cache: false,
        field_masks: Some(&["status.schemaVersion"]),
    };

    #[test]
    fn get_resource_payload_has_the_sdk_field_names() {
        assert_eq!(
            serde_json::to_value(BACKUP).unwrap(),
            json!({
                "api_version": "documentdb.io/preview",
                "kind": "Backup",
                "name": "nightly",
                "namespace": "prod",
                "disable_cache": false,
                "field_masks": ["status.schemaVersion"],
            })
        );
    }

    #[test]
    fn list_payload_has_the_sdk_field_names() {
        let request = ListAllResources {
            api_version: "v1",
            kind: "Node",
            label_selector: None,
            field_selector: None,
            field_masks: None,
        };
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            json!({"api_version": "v1", "kind": "Node", "label_selector": null, "field_selector": null, "field_masks": null})
        );
    }

    #[rstest]
    #[case::policy_server(
        "Callback evaluation failure: Cannot find documentdb.io/preview/Backup named 'nightly' inside of namespace 'Some(\"prod\")'",
        true
    )]
    #[case::kwctl_recorded(
        "Cannot find documentdb.io/preview/Backup named 'nightly' inside of namespace 'Some(\"prod\")'",
        true
    )]
    #[case::another_name(
        "Cannot find documentdb.io/preview/Backup named 'nightly-2' inside of namespace 'Some(\"prod\")'",
        false
    )]
    #[case::another_kind(
        "Cannot find v1/PersistentVolume named 'nightly' inside of namespace 'None'",
        false
    )]
    #[case::forbidden(
        "Policy has not been granted access to Kubernetes documentdb.io/preview/Backup resources. The violation has been reported.",
        false
    )]
    fn tells_not_found_apart(#[case] text: &str, #[case] expected: bool) {
        assert_eq!(HostError(text.to_owned()).is_not_found(&BACKUP), expected);
    }

    #[rstest]
    #[case::short("timed out", "timed out")]
    #[case::controls("a\nb\u{1b}[31m", "a\\nb\\u{1b}[31m")]
    #[case::cut(&"x".repeat(300), &format!("{}…", "x".repeat(MAX_HOST_ERROR_CHARS)))]
    fn host_errors_are_shown_bounded(#[case] text: &str, #[case] expected: &str) {
        assert_eq!(HostError(text.to_owned()).shown(), expected);
    }

    #[rstest]
    #[case::resource_not_allowed(
        "Policy has not been granted access to Kubernetes v1/Node resources. The violation has been reported.",
        true
    )]
    #[case::capability_not_allowed(
        "Policy has not been granted access to the 'kubernetes/list_resources_all' host capability. The violation has been reported.",
        true
    )]
    #[case::no_cluster(NoCluster::MESSAGE, true)]
    #[case::rbac(
        "Callback evaluation failure: Api(ErrorResponse { status: \"Failure\", message: \"nodes is forbidden\", reason: \"Forbidden\", code: 403 })",
        false
    )]
    #[case::not_found(
        "Callback evaluation failure: Cannot find v1/Node named 'x' inside of namespace 'None'",
        false
    )]
    fn tells_a_policy_without_permission_apart(#[case] text: &str, #[case] expected: bool) {
        assert_eq!(HostError(text.to_owned()).is_not_granted(), expected);
    }

    #[test]
    fn no_cluster_fails_every_call() {
        assert_eq!(
            NoCluster.get_resource(&BACKUP),
            Err(HostError(NoCluster::MESSAGE.to_owned()))
        );
    }
}
