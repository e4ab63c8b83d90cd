//! ImageVolume readiness (CREATE): the operator mounts the DocumentDB extension
//! into the PostgreSQL pods with a Kubernetes image volume, so a cluster
//! without the ImageVolume feature creates the DocumentDB and its pods never
//! start. Upstream's webhook (since e569542, #437) refuses the CREATE after
//! probing with two server-side dry-run Pod creates; a policy cannot create
//! anything, so this stands in for the probe by reading what every kubelet
//! reports about itself: `status.nodeInfo.kubeletVersion` and
//! `status.nodeInfo.containerRuntimeVersion` of every Node.
//!
//! - a kubelet below 1.33 has no ImageVolume at all (alpha in 1.31/1.32, off
//!   unless a gate nobody sets in production);
//! - a runtime known not to implement image volumes (containerd < 2.1,
//!   CRI-O < 1.33) cannot mount one;
//! - kubelets at 1.33/1.34 have it as beta, off by default: the feature gate,
//!   on the kube-apiserver and the kubelet, decides, and Nodes do not show it;
//! - 1.35+ has it on by default; kubelets are never newer than the
//!   kube-apiserver, so every kubelet at 1.35+ means the API server is too.

use crate::cluster::{Cluster, ListAllResources, Unreadable};
use crate::findings::{Advice, Findings, Violation};
use crate::walk::{EachItem, Items, Path, Picked, Root, Walked, walk_json};

pub const NODE_API_VERSION: &str = "v1";
pub const NODE_KIND: &str = "Node";
/// Sorted, as the SDK's `BTreeSet` serialises them (kwctl compares replayed
/// requests with this exact set). policy-evaluator keeps `metadata` whole
/// anyway; the name is listed so that a host that prunes it too keeps it.
pub const NODE_FIELD_MASKS: &[&str] = &[
    "metadata.name",
    "status.nodeInfo.containerRuntimeVersion",
    "status.nodeInfo.kubeletVersion",
];

/// The host call that lists the Nodes.
pub const LIST_NODES: ListAllResources<'static> = ListAllResources {
    api_version: NODE_API_VERSION,
    kind: NODE_KIND,
    label_selector: None,
    field_selector: None,
    field_masks: Some(NODE_FIELD_MASKS),
};

/// The `imageVolumeCheck` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageVolumeCheck {
    /// A warning naming the nodes and versions that decided it.
    #[default]
    Warn,
    /// A cluster judged not ready is denied (unknown stays a warning).
    Deny,
    /// No host call at all.
    Off,
}

impl ImageVolumeCheck {
    pub const VALUES: [(&'static str, ImageVolumeCheck); 3] = [
        ("warn", ImageVolumeCheck::Warn),
        ("deny", ImageVolumeCheck::Deny),
        ("off", ImageVolumeCheck::Off),
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::VALUES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, value)| *value)
    }
}

/// What one Node says about image volumes. The order is the order of the
/// groups in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeClass {
    /// Kubelet 1.35+ and a runtime that implements image volumes.
    Capable,
    /// Kubelet below 1.33.
    KubeletTooOld,
    /// containerd < 2.1, CRI-O < 1.33.
    RuntimeWithoutImageVolumes,
    /// Kubelet 1.33/1.34: depends on the feature gate, which Nodes do not show.
    FeatureGateRequired,
    /// A runtime other than containerd and CRI-O, or its version unreadable.
    RuntimeUnrecognized,
    /// No readable kubelet version (or a malformed Node).
    VersionsUnreadable,
}

impl NodeClass {
    /// In the order messages list the groups.
    pub const ALL: [NodeClass; 6] = [
        NodeClass::Capable,
        NodeClass::KubeletTooOld,
        NodeClass::RuntimeWithoutImageVolumes,
        NodeClass::FeatureGateRequired,
        NodeClass::RuntimeUnrecognized,
        NodeClass::VersionsUnreadable,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Nodes of this class make the cluster not ready.
    pub fn blocks(self) -> bool {
        matches!(
            self,
            NodeClass::KubeletTooOld | NodeClass::RuntimeWithoutImageVolumes
        )
    }

    /// Nodes of this class leave the verdict open.
    pub fn leaves_open(self) -> bool {
        matches!(
            self,
            NodeClass::FeatureGateRequired
                | NodeClass::RuntimeUnrecognized
                | NodeClass::VersionsUnreadable
        )
    }
}

/// Nodes named per group in a message; the rest are counted. With 5,000
/// nodes the message stays a few hundred characters.
pub const MAX_NODES_NAMED: usize = 3;
/// Longest node name or version a message shows (cut with `…`).
pub const MAX_SHOWN_CHARS: usize = 64;

/// What decided a node's class, as the Node reports it. Values are kept
/// to one character more than a message shows, so the message can say it cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFact {
    Kubelet(String),
    Runtime(String),
    KubeletAndRuntime {
        kubelet: String,
        runtime: String,
    },
    /// A field the survey reads is absent: its path.
    Missing(Path),
    /// The value at the first `depth` keys of `path` holds another JSON type.
    Mistyped {
        path: Path,
        depth: usize,
        found: &'static str,
    },
    NullItem,
    /// An item of the list that is not an object: its JSON type.
    ItemMistyped(&'static str),
}

/// One node named in a message; `name` is `None` when the Node has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNote {
    pub name: Option<String>,
    pub fact: NodeFact,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeGroup {
    pub count: usize,
    /// The first [`MAX_NODES_NAMED`] nodes.
    pub named: Vec<NodeNote>,
}

/// Every Node, counted by class; built while the host's list is parsed, so
/// a list of thousands of Nodes is never held in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSurvey {
    pub total: usize,
    groups: [NodeGroup; 6],
}

/// `text` cut to one character more than a message shows.
fn kept(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS + 1) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

impl NodeSurvey {
    pub fn group(&self, class: NodeClass) -> &NodeGroup {
        &self.groups[class.index()]
    }

    fn add(&mut self, class: NodeClass, name: Option<&str>, fact: NodeFact) {
        self.total += 1;
        let group = &mut self.groups[class.index()];
        group.count += 1;
        if group.named.len() < MAX_NODES_NAMED {
            group.named.push(NodeNote {
                name: name.map(kept),
                fact,
            });
        }
    }
}

/// `vMAJOR.MINOR…` (kubelets report `v1.34.1`, `v1.35.0+k3s1`,
/// `v1.33.5-eks-113cf36`): major and minor.
fn major_minor(version: &str) -> Option<(u64, u64)> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let mut parts = version.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor.bytes().take_while(u8::is_ascii_digit).count();
    let minor = minor[..digits].parse().ok()?;
    Some((major, minor))
}

/// Whether a runtime (`containerd://2.1.4`, `cri-o://1.33.2`,
/// `docker://28.0.1`) implements image volumes: `Some(false)` when known not
/// to, `None` when the policy cannot tell.
fn runtime_supports_image_volumes(runtime: &str) -> Option<bool> {
    let (name, version) = runtime.split_once("://")?;
    let minimum = match name {
        "containerd" => (2, 1),
        "cri-o" => (1, 33),
        _ => return None,
    };
    Some(major_minor(version)? >= minimum)
}

/// What the survey reads of each Node.
const NAME: usize = 0;
const KUBELET: usize = 1;
const RUNTIME: usize = 2;
const NODE_PATHS: &[Path] = &[
    &["metadata", "name"],
    &["status", "nodeInfo", "kubeletVersion"],
    &["status", "nodeInfo", "containerRuntimeVersion"],
];

fn classify(survey: &mut NodeSurvey, node: &Walked) {
    use NodeClass::*;
    match &node.root {
        Root::Null => return survey.add(VersionsUnreadable, None, NodeFact::NullItem),
        Root::Other(found) => {
            let fact = NodeFact::ItemMistyped(found.type_name());
            return survey.add(VersionsUnreadable, None, fact);
        }
        Root::Object => {}
    }
    let name = node.picked[NAME].text();
    // What is wrong with a field, when it is not a string.
    let problem = |field: usize| match &node.picked[field] {
        Picked::Text(_) => None,
        Picked::Absent => Some(NodeFact::Missing(NODE_PATHS[field])),
        Picked::Mistyped { depth, found } => Some(NodeFact::Mistyped {
            path: NODE_PATHS[field],
            depth: *depth,
            found: found.type_name(),
        }),
    };
    let Some(kubelet) = node.picked[KUBELET].text() else {
        let fact = problem(KUBELET).unwrap_or(NodeFact::Missing(NODE_PATHS[KUBELET]));
        return survey.add(VersionsUnreadable, name, fact);
    };
    let Some(kubelet_version) = major_minor(kubelet) else {
        return survey.add(VersionsUnreadable, name, NodeFact::Kubelet(kept(kubelet)));
    };
    if kubelet_version < (1, 33) {
        return survey.add(KubeletTooOld, name, NodeFact::Kubelet(kept(kubelet)));
    }
    let Some(runtime) = node.picked[RUNTIME].text() else {
        let fact = problem(RUNTIME).unwrap_or(NodeFact::Missing(NODE_PATHS[RUNTIME]));
        return survey.add(RuntimeUnrecognized, name, fact);
    };
    match runtime_supports_image_volumes(runtime) {
        Some(false) => survey.add(
            RuntimeWithoutImageVolumes,
            name,
            NodeFact::Runtime(kept(runtime)),
        ),
        None => survey.add(RuntimeUnrecognized, name, NodeFact::Runtime(kept(runtime))),
        Some(true) if kubelet_version < (1, 35) => {
            survey.add(FeatureGateRequired, name, NodeFact::Kubelet(kept(kubelet)))
        }
        Some(true) => survey.add(
            Capable,
            name,
            NodeFact::KubeletAndRuntime {
                kubelet: kept(kubelet),
                runtime: kept(runtime),
            },
        ),
    }
}

/// Reads the host's answer to [`LIST_NODES`], classifying each Node as it
/// is parsed.
pub fn survey_nodes(answer: &[u8]) -> Result<NodeSurvey, Unreadable> {
    let mut survey = NodeSurvey::default();
    let mut each = |node: &Walked| classify(&mut survey, node);
    let items = EachItem {
        key: "items",
        paths: NODE_PATHS,
        each: &mut each,
    };
    let walked =
        walk_json(answer, &[], Some(items)).map_err(|e| Unreadable::NotJson(e.to_string()))?;
    let not_a_list = |found| Unreadable::NotAnObject {
        found,
        expected: "a Node list",
    };
    match walked.root {
        Root::Null => return Err(not_a_list(None)),
        Root::Other(found) => return Err(not_a_list(Some(found))),
        Root::Object => {}
    }
    match walked.items {
        Items::Walked => Ok(survey),
        Items::Missing => Err(Unreadable::NoItems),
        Items::Other(found) => Err(Unreadable::Mistyped {
            path: &["items"],
            depth: 1,
            found,
            expected: "an array",
        }),
    }
}

/// The verdict on the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Some node cannot mount image volumes.
    NotReady(NodeSurvey),
    /// Nothing blocks, but some node depends on what Nodes do not show.
    Undetermined(NodeSurvey),
    NoNodes,
    /// The policy may not list Nodes (no context-aware permission, no cluster).
    NotGranted,
    /// The Nodes could not be listed or read.
    Unreadable(Unreadable),
}

pub fn judge(survey: NodeSurvey) -> Readiness {
    let any = |select: fn(NodeClass) -> bool| {
        NodeClass::ALL
            .into_iter()
            .any(|class| select(class) && survey.group(class).count > 0)
    };
    if any(NodeClass::blocks) {
        Readiness::NotReady(survey)
    } else if survey.total == 0 {
        Readiness::NoNodes
    } else if any(NodeClass::leaves_open) {
        Readiness::Undetermined(survey)
    } else {
        Readiness::Ready
    }
}

/// Lists the Nodes through `cluster` and judges them.
pub fn readiness(cluster: &dyn Cluster) -> Readiness {
    match cluster.list_resources_all(&LIST_NODES) {
        Err(error) if error.is_not_granted() => Readiness::NotGranted,
        Err(error) => Readiness::Unreadable(Unreadable::Host(error)),
        Ok(answer) => match survey_nodes(&answer) {
            Ok(survey) => judge(survey),
            Err(why) => Readiness::Unreadable(why),
        },
    }
}

/// The check as the setting asks: `off` makes no host call. A policy deployed
/// without the permission to list Nodes (no `contextAwareResources`) has not
/// opted in: no finding, rather than a warning on every creation. Any other
/// failure (missing RBAC, timeouts, garbage) is advice; only `deny` and a
/// node known not to mount image volumes make a violation.
pub fn check<'a>(cluster: &dyn Cluster, mode: ImageVolumeCheck, findings: &mut Findings<'a>) {
    if mode == ImageVolumeCheck::Off {
        return;
    }
    match readiness(cluster) {
        Readiness::Ready | Readiness::NotGranted => {}
        Readiness::NotReady(nodes) if mode == ImageVolumeCheck::Deny => findings
            .violations
            .push(Violation::ImageVolumeUnavailable { nodes }),
        Readiness::NotReady(nodes) => findings.advice.push(Advice::ImageVolumeNotReady { nodes }),
        Readiness::Undetermined(nodes) => findings
            .advice
            .push(Advice::ImageVolumeUndetermined { nodes }),
        Readiness::NoNodes => findings.advice.push(Advice::ImageVolumeNoNodes),
        Readiness::Unreadable(reason) => findings
            .advice
            .push(Advice::ImageVolumeUnreadable { reason }),
    }
}

#[cfg(test)]
mod tests;
