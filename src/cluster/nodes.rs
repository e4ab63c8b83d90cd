//! Listing the Nodes (`kubernetes/list_resources_all`): the request, and the
//! answer read item by item into a [`NodeSurvey`], so that a list of thousands
//! of Nodes is never held. No judgement: `rules::image_volume` decides.

use crate::cluster::{Cluster, ListAllResources, Unreadable};
use crate::json::{EachItem, Items, PathTable, Root, Walk, Walked, path_table, walk_json};
use crate::model::nodes::{NODE_API_VERSION, NODE_KIND, NODE_PATHS, NodeSurvey, classify};

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

/// [`NODE_PATHS`] and their trie.
const NODE_TABLE: PathTable = path_table!(NODE_PATHS);

/// Reads the host's answer to [`LIST_NODES`], classifying each Node as it
/// is parsed.
pub fn survey_nodes(answer: &[u8]) -> Result<NodeSurvey, Unreadable> {
    let mut survey = NodeSurvey::default();
    let mut each = |node: &Walked| classify(&mut survey, node);
    let items = EachItem {
        key: "items",
        table: &NODE_TABLE,
        each: &mut each,
    };
    let walk = Walk {
        items: Some(items),
        ..Walk::default()
    };
    let walked = walk_json(answer, &PathTable::EMPTY, walk)
        .map_err(|e| Unreadable::NotJson(e.to_string()))?;
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

/// What listing the Nodes gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeList {
    Surveyed(NodeSurvey),
    /// The policy may not list Nodes (no context-aware permission, no cluster).
    NotGranted,
    /// The Nodes could not be listed or read.
    Unreadable(Unreadable),
}

/// Lists the Nodes through `cluster`, classifying each as it is read.
pub fn list_nodes(cluster: &dyn Cluster) -> NodeList {
    match cluster.list_resources_all(&LIST_NODES) {
        Err(error) if error.is_not_granted() => NodeList::NotGranted,
        Err(error) => NodeList::Unreadable(Unreadable::Host(error)),
        Ok(answer) => match survey_nodes(&answer) {
            Ok(survey) => NodeList::Surveyed(survey),
            Err(why) => NodeList::Unreadable(why),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_path_tables_are_the_tries_of_their_paths() {
        crate::json::assert_is_the_trie_of_its_paths(&super::NODE_TABLE);
    }
}
