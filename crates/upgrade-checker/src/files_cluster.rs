//! The cluster as files: the objects a user exported (`kubectl get
//! backups.documentdb.io -A -o yaml`, `kubectl get persistentvolumes -o
//! yaml`, `kubectl get nodes -o yaml`) answer the policy's host calls the way
//! policy-server answers them from the API server, so that the restore and
//! ImageVolume checks give in a pipeline what they give at admission.
//!
//! What policy-server answers (policy-evaluator's Kubernetes callback handler):
//! - `get_resource`: the object, its body pruned to the field masks
//!   (`apiVersion`, `kind` and `metadata` are always kept whole); a missing
//!   object is the error `Cannot find <apiVersion>/<kind> named '<name>'
//!   inside of namespace '<Some("ns") | None>'`.
//! - `list_resources_all`: `{apiVersion, kind: <Kind>List, metadata, items}`,
//!   each item pruned the same way (the reflector's items carry no type).
//!
//! A kind of which the files hold no object at all was not exported: rather
//! than answer "not found" or an empty list (which would be the cluster's
//! answer only if the export had been made), the call fails and says so; for
//! the Node list it fails as if there were no cluster, which keeps the
//! ImageVolume check silent, as without `--cluster`.

use std::cell::RefCell;
use std::fmt;

use serde_json::{Map, Value, json};

use documentdb_upgrade_safety::cluster::{
    Cluster, GetResource, HostError, ListAllResources, NoCluster,
};

/// One exported object, with its group and kind split out for lookups.
#[derive(Debug, Clone)]
struct Stored {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: Option<String>,
    object: Value,
}

/// The `--cluster` objects. `default_namespace` is the namespace of exported
/// namespaced objects that name none.
#[derive(Default)]
pub struct FilesCluster {
    objects: Vec<Stored>,
    default_namespace: String,
    /// Kinds the policy asked for and the files do not hold, since the last
    /// [`FilesCluster::take_missing`].
    missing: RefCell<Vec<String>>,
}

impl fmt::Debug for FilesCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesCluster")
            .field("objects", &self.objects.len())
            .finish()
    }
}

/// `group` of an `apiVersion` (`documentdb.io/preview` → `documentdb.io`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version
        .split_once('/')
        .map_or("", |(group, _version)| group)
}

/// The command that exports a kind, for messages.
fn export_command(group: &str, kind: &str) -> String {
    match (group, kind) {
        ("documentdb.io", "Backup") => "kubectl get backups.documentdb.io -A -o yaml".to_owned(),
        ("", "PersistentVolume") => "kubectl get persistentvolumes -o yaml".to_owned(),
        ("", "Node") => "kubectl get nodes -o yaml".to_owned(),
        (group, kind) => format!("kubectl get {}.{group} -A -o yaml", kind.to_lowercase()),
    }
}

/// How a kind is shown in messages: `documentdb.io Backup`, `Node`.
pub fn kind_label(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{group} {kind}")
    }
}

impl FilesCluster {
    pub fn new(default_namespace: &str) -> Self {
        FilesCluster {
            default_namespace: default_namespace.to_owned(),
            ..FilesCluster::default()
        }
    }

    /// Keeps `object` when it is a Kubernetes object (a mapping with string
    /// `apiVersion` and `kind`); returns whether it was kept.
    pub fn add(&mut self, object: Value) -> bool {
        let text =
            |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(api_version), Some(kind)) = (text(&object, "apiVersion"), text(&object, "kind"))
        else {
            return false;
        };
        let metadata = object.get("metadata").cloned().unwrap_or(Value::Null);
        self.objects.push(Stored {
            group: group_of(&api_version).to_owned(),
            kind,
            namespace: text(&metadata, "namespace"),
            name: text(&metadata, "name"),
            object,
        });
        true
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// How many objects of a kind the files hold.
    pub fn count(&self, group: &str, kind: &str) -> usize {
        self.of_kind(group, kind).count()
    }

    /// The kinds asked for and missing since the last call, each once, as
    /// `(group, kind)` labels with the command that exports them.
    pub fn take_missing(&self) -> Vec<String> {
        std::mem::take(&mut *self.missing.borrow_mut())
    }

    fn of_kind<'a>(&'a self, group: &'a str, kind: &'a str) -> impl Iterator<Item = &'a Stored> {
        self.objects
            .iter()
            .filter(move |stored| stored.group == group && stored.kind == kind)
    }

    /// Records that the files hold no `group`/`kind`; the message for the host error.
    fn missing(&self, group: &str, kind: &str) -> String {
        let label = kind_label(group, kind);
        let mut missing = self.missing.borrow_mut();
        if !missing.contains(&label) {
            missing.push(label.clone());
        }
        format!(
            "the --cluster files hold no {label}: add the output of `{}`",
            export_command(group, kind)
        )
    }
}

/// `object` as the host returns it under `masks`: `apiVersion`, `kind` and
/// `metadata` whole (when `keep_type`; list items carry no type), and of
/// the rest only the masked paths. A path through a value that is not a
/// mapping keeps that value, so that the policy sees (and reports) its type.
pub fn masked(object: &Value, masks: Option<&[&str]>, keep_type: bool) -> Value {
    let Some(masks) = masks else {
        let mut whole = object.clone();
        if !keep_type && let Value::Object(map) = &mut whole {
            map.remove("apiVersion");
            map.remove("kind");
        }
        return whole;
    };
    let Value::Object(source) = object else {
        return object.clone();
    };
    let mut kept = Map::new();
    let keys: &[&str] = if keep_type {
        &["apiVersion", "kind", "metadata"]
    } else {
        &["metadata"]
    };
    for key in keys {
        if let Some(value) = source.get(*key) {
            kept.insert((*key).to_owned(), value.clone());
        }
    }
    for mask in masks {
        let path: Vec<&str> = mask.split('.').collect();
        copy_path(source, &mut kept, &path);
    }
    Value::Object(kept)
}

fn copy_path(source: &Map<String, Value>, target: &mut Map<String, Value>, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(value) = source.get(*first) else {
        return;
    };
    match (value, rest.is_empty()) {
        (Value::Object(inner), false) => {
            let slot = target
                .entry((*first).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(slot) = slot {
                copy_path(inner, slot, rest);
            }
        }
        (value, _) => {
            target.insert((*first).to_owned(), value.clone());
        }
    }
}

/// policy-evaluator's text for a missing object.
pub fn not_found(request: &GetResource) -> String {
    let namespace = match request.namespace {
        Some(namespace) => format!("Some({namespace:?})"),
        None => "None".to_owned(),
    };
    format!(
        "Cannot find {}/{} named '{}' inside of namespace '{namespace}'",
        request.api_version, request.kind, request.name
    )
}

impl Cluster for FilesCluster {
    fn get_resource(&self, request: &GetResource) -> Result<Vec<u8>, HostError> {
        let group = group_of(request.api_version);
        if self.count(group, request.kind) == 0 {
            return Err(HostError(self.missing(group, request.kind)));
        }
        let found = self.of_kind(group, request.kind).find(|stored| {
            stored.name.as_deref() == Some(request.name)
                && match request.namespace {
                    // Cluster-scoped: the policy names no namespace.
                    None => true,
                    Some(namespace) => {
                        stored
                            .namespace
                            .as_deref()
                            .unwrap_or(&self.default_namespace)
                            == namespace
                    }
                }
        });
        let Some(found) = found else {
            return Err(HostError(not_found(request)));
        };
        let mut answer = masked(&found.object, request.field_masks, true);
        // The API server answers in the version asked for.
        if let Value::Object(map) = &mut answer {
            map.insert("apiVersion".to_owned(), json!(request.api_version));
        }
        serde_json::to_vec(&answer).map_err(|e| HostError(e.to_string()))
    }

    fn list_resources_all(&self, request: &ListAllResources) -> Result<Vec<u8>, HostError> {
        let group = group_of(request.api_version);
        if self.count(group, request.kind) == 0 {
            self.missing(group, request.kind);
            return Err(HostError(NoCluster::MESSAGE.to_owned()));
        }
        let items: Vec<Value> = self
            .of_kind(group, request.kind)
            .map(|stored| masked(&stored.object, request.field_masks, false))
            .collect();
        let list = json!({
            "apiVersion": request.api_version,
            "kind": format!("{}List", request.kind),
            "metadata": {},
            "items": items,
        });
        serde_json::to_vec(&list).map_err(|e| HostError(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
