//! What a Node reports about image volumes: its kubelet and container
//! runtime versions, classified as they are read, and counted per class in a
//! [`NodeSurvey`]. The constants that name the resource live here; listing the
//! Nodes is the cluster layer's (`cluster::nodes`), judging the cluster the
//! rule's (`rules::image_volume`).

use crate::json::{Path, Root, Walked};

pub const NODE_API_VERSION: &str = "v1";
pub const NODE_KIND: &str = "Node";

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
pub const NODE_PATHS: &[Path] = &[
    &["metadata", "name"],
    &["status", "nodeInfo", "kubeletVersion"],
    &["status", "nodeInfo", "containerRuntimeVersion"],
];

/// Classifies one Node of the list (as walked for [`NODE_PATHS`]) into `survey`.
pub fn classify(survey: &mut NodeSurvey, node: &Walked) {
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
    let problem = |field: usize| match node.picked[field].string(NODE_PATHS[field].len()) {
        Ok(Some(_)) => None,
        Ok(None) => Some(NodeFact::Missing(NODE_PATHS[field])),
        Err((depth, found)) => Some(NodeFact::Mistyped {
            path: NODE_PATHS[field],
            depth,
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
