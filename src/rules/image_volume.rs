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
//!
//! The judgement only: the Nodes' facts are the model's (`model::nodes`),
//! listing them the cluster layer's (`cluster::nodes`).

use crate::cluster::nodes::{NodeList, list_nodes};
use crate::cluster::{Cluster, Unreadable};
use crate::findings::{Advice, Findings, Violation};
use crate::model::nodes::{NodeClass, NodeSurvey};
use crate::settings::ImageVolumeCheck;

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
    match list_nodes(cluster) {
        NodeList::Surveyed(survey) => judge(survey),
        NodeList::NotGranted => Readiness::NotGranted,
        NodeList::Unreadable(why) => Readiness::Unreadable(why),
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
