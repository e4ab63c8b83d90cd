//! Many objects at once: every DocumentDB in the manifests about to be
//! applied, paired by namespace/name with the objects in the cluster (a pair
//! is an UPDATE, a desired object alone a CREATE), each checked by the
//! policy's own code with the settings of the policy and, when given, the
//! cluster's Backups, PersistentVolumes and Nodes as files.
//!
//! The caller (the CLI, the page) reads the files and hands over their text;
//! everything else — parsing, pairing, the verdicts, the summary and the exit
//! status — is decided here.

use serde::Serialize;
use serde_json::{Map, Value, json};

use documentdb_upgrade_safety::cluster::{Cluster, NoCluster};
use documentdb_upgrade_safety::message::quote;
use documentdb_upgrade_safety::validation::{GROUP, KIND};

use crate::check::{self, Outcome, Report};
use crate::files_cluster::{FilesCluster, group_of};
use crate::input::{self, TypeMeta};
use crate::located::{Documents, Located, TextError, read_documents};

/// The most one input may hold. A manifest the API server accepts is at most
/// 3 MiB; an export of thousands of Nodes is larger, but beyond this much
/// text the memory of a page or a small runner is at stake.
pub const MAX_TEXT_BYTES: usize = 32 << 20;

/// The namespace of objects that name none, as kubectl's default.
pub const DEFAULT_NAMESPACE: &str = "default";

const POLICY_GROUP: &str = "policies.kubewarden.io";
const POLICY_KINDS: [&str; 2] = ["ClusterAdmissionPolicy", "AdmissionPolicy"];

/// Where an object starts: the file (`-` for stdin) and the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

/// A problem with the input: the run's exit status is 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// One checked DocumentDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub file: String,
    pub line: usize,
    pub namespace: String,
    #[serde(flatten)]
    pub report: Report,
    /// Where the current object paired with it was read (UPDATE only).
    pub current: Option<Location>,
}

/// How many DocumentDBs a run would check, and how many input errors it
/// would report ([`Batch::survey`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Survey {
    pub document_dbs: usize,
    pub errors: usize,
}

/// An object that is not a DocumentDB: the policy never sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub file: String,
    pub line: usize,
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub reason: String,
}

/// The settings the run used: where they came from, and whether the policy
/// accepts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsReport {
    pub source: Option<String>,
    pub valid: bool,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub checked: usize,
    pub allowed: usize,
    pub denied: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Summary {
    /// `12 checked: 11 allowed, 1 denied, 0 skipped`, and the inputs that
    /// could not be used when there are any.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} checked: {} allowed, {} denied, {} skipped",
            self.checked, self.allowed, self.denied, self.skipped
        );
        if self.errors > 0 {
            let s = if self.errors == 1 { "" } else { "s" };
            line.push_str(&format!("; {} input error{s}", self.errors));
        }
        line
    }

    /// 0 every checked object allowed, 1 at least one denied, 2 nothing
    /// checked or unusable input (which wins: a run that could not read all
    /// it was given has not checked everything).
    pub fn exit_code(&self, settings_valid: bool) -> u8 {
        if !settings_valid || self.errors > 0 || self.checked == 0 {
            2
        } else if self.denied > 0 {
            1
        } else {
            0
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    pub policy_version: &'static str,
    pub settings: SettingsReport,
    pub objects: Vec<ObjectReport>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<InputProblem>,
    pub summary: Summary,
    pub summary_line: String,
    pub exit_code: u8,
}

impl BatchReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"errors":[{{"file":"-","message":"cannot encode the report: {e}"}}],"exitCode":2}}"#)
        })
    }
}

/// A DocumentDB read from the input, not yet checked.
#[derive(Debug, Clone)]
struct Entry {
    location: Location,
    namespace: String,
    name: Option<String>,
    object: Value,
}

/// The inputs of one run, added file by file.
#[derive(Debug)]
pub struct Batch {
    default_namespace: String,
    settings: Value,
    settings_source: Option<String>,
    current: Vec<Entry>,
    desired: Vec<Entry>,
    skipped: Vec<Skipped>,
    errors: Vec<InputProblem>,
    cluster: Option<FilesCluster>,
}

impl Batch {
    /// `namespace`: of objects that name none (empty: `default`).
    pub fn new(namespace: &str) -> Self {
        let namespace = if namespace.is_empty() {
            DEFAULT_NAMESPACE
        } else {
            namespace
        };
        Batch {
            default_namespace: namespace.to_owned(),
            settings: Value::Object(Map::new()),
            settings_source: None,
            current: Vec::new(),
            desired: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
            cluster: None,
        }
    }

    /// A problem the caller found (a file that cannot be read), reported
    /// with the others.
    pub fn add_error(&mut self, file: &str, message: &str) {
        self.problem(file, None, message.to_owned());
    }

    fn problem(&mut self, file: &str, line: Option<usize>, message: String) {
        self.errors.push(InputProblem {
            file: file.to_owned(),
            line,
            message,
        });
    }

    /// The documents of `text`, or `None` after reporting why there are none.
    fn read(&mut self, file: &str, text: &str) -> Option<Documents> {
        if text.len() > MAX_TEXT_BYTES {
            self.problem(
                file,
                None,
                format!(
                    "{} bytes: this checker reads at most {} MiB per input",
                    text.len(),
                    MAX_TEXT_BYTES >> 20
                ),
            );
            return None;
        }
        match read_documents(text) {
            Ok(documents) => Some(documents),
            Err(TextError { line, problem }) => {
                self.problem(file, line, problem.message());
                None
            }
        }
    }

    /// The settings alone (`--settings`), YAML or JSON; empty text: the defaults.
    pub fn add_settings(&mut self, file: &str, text: &str) {
        let Some(Documents {
            objects: mut documents,
            ..
        }) = self.read(file, text)
        else {
            return;
        };
        self.settings_source = Some(file.to_owned());
        match documents.len() {
            0 => self.settings = Value::Object(Map::new()),
            1 => self.settings = documents.remove(0).value,
            n => self.problem(file, Some(documents[1].line), input::several_settings(n)),
        }
    }

    /// A ClusterAdmissionPolicy or AdmissionPolicy manifest (`--policy`): its
    /// `spec.settings`. Of several policies, the one whose rules name `dbs`.
    pub fn add_policy(&mut self, file: &str, text: &str) {
        let Some(Documents {
            objects: documents, ..
        }) = self.read(file, text)
        else {
            return;
        };
        let policies: Vec<Located> = documents
            .into_iter()
            .filter(|document| {
                let text = |key: &str| document.value.get(key).and_then(Value::as_str);
                text("apiVersion").is_some_and(|v| group_of(v) == POLICY_GROUP)
                    && text("kind").is_some_and(|kind| POLICY_KINDS.contains(&kind))
            })
            .collect();
        let chosen = match policies.len() {
            0 => {
                return self.problem(
                    file,
                    None,
                    format!(
                        "holds no ClusterAdmissionPolicy or AdmissionPolicy ({POLICY_GROUP}): give the policy manifest you apply, or its settings with --settings"
                    ),
                );
            }
            1 => &policies[0],
            _ => {
                let mut for_dbs = policies.iter().filter(|p| selects_dbs(&p.value));
                match (for_dbs.next(), for_dbs.next()) {
                    (Some(one), None) => one,
                    _ => {
                        let names: Vec<String> = policies
                            .iter()
                            .map(|p| {
                                quote(p.value["metadata"]["name"].as_str().unwrap_or_default())
                            })
                            .collect();
                        return self.problem(
                            file,
                            None,
                            format!(
                                "holds {} policies ({}) and not exactly one whose rules select {GROUP} dbs: give a file with that one",
                                policies.len(),
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
        };
        self.settings_source = Some(format!("{file}:{}", chosen.line));
        self.settings = match chosen
            .value
            .get("spec")
            .and_then(|spec| spec.get("settings"))
        {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(settings) => settings.clone(),
        };
    }

    /// The objects in the cluster (`--current`): its DocumentDBs; other
    /// kinds are ignored (the same export may serve `--cluster`).
    pub fn add_current(&mut self, file: &str, text: &str) {
        self.add_current_documents(file, text, true);
    }

    /// A file found in a directory given to `--current` (the manifests of
    /// the target branch, say): like [`Batch::add_current`], except that a
    /// file without objects (comments only) is not an error there.
    pub fn add_current_in_directory(&mut self, file: &str, text: &str) {
        self.add_current_documents(file, text, false);
    }

    fn add_current_documents(&mut self, file: &str, text: &str, named: bool) {
        let Some(Documents {
            objects: documents,
            lists,
        }) = self.read(file, text)
        else {
            return;
        };
        if named && documents.is_empty() && lists == 0 {
            // Typically a `kubectl get` that failed in a pipe: checking every
            // object as new would skip the rollback rule.
            return self.problem(
                file,
                None,
                "holds no object: give the output of `kubectl get documentdb -A -o yaml` (an empty List when there are none)".to_owned(),
            );
        }
        for document in documents {
            match classify(&document.value) {
                Kind::DocumentDb => {}
                Kind::Other { .. } => continue,
                // Dropping it would check its desired object as new, without
                // the rollback rule.
                Kind::Unreadable(message) => {
                    self.problem(file, Some(document.line), message);
                    continue;
                }
            }
            let entry = self.entry(file, document);
            if let Some(first) = repeated_in(&entry, &self.current) {
                let message = format!(
                    "the current object {} is given twice (also {}:{})",
                    describe(&entry.namespace, entry.name.as_deref()),
                    first.location.file,
                    first.location.line
                );
                self.problem(file, Some(entry.location.line), message);
                continue;
            }
            self.current.push(entry);
        }
    }

    /// Backups, PersistentVolumes, Nodes (`--cluster`).
    pub fn add_cluster(&mut self, file: &str, text: &str) {
        let Some(Documents {
            objects: documents,
            lists,
        }) = self.read(file, text)
        else {
            return;
        };
        if documents.is_empty() && lists == 0 {
            return self.problem(
                file,
                None,
                "holds no object: give exported objects, e.g. the output of `kubectl get backups.documentdb.io -A -o yaml`".to_owned(),
            );
        }
        let mut cluster = self
            .cluster
            .take()
            .unwrap_or_else(|| FilesCluster::new(&self.default_namespace));
        for document in documents {
            let line = document.line;
            if !cluster.add(document.value) {
                self.problem(
                    file,
                    Some(line),
                    "not a Kubernetes object (a mapping with apiVersion and kind): --cluster reads exported objects".to_owned(),
                );
            }
        }
        self.cluster = Some(cluster);
    }

    /// The manifests about to be applied.
    pub fn add_desired(&mut self, file: &str, text: &str) {
        let Some(Documents {
            objects: documents, ..
        }) = self.read(file, text)
        else {
            return;
        };
        for document in documents {
            match classify(&document.value) {
                Kind::DocumentDb => {
                    let entry = self.entry(file, document);
                    self.desired.push(entry);
                }
                Kind::Other {
                    api_version,
                    kind,
                    reason,
                } => {
                    let name = document.value["metadata"]["name"]
                        .as_str()
                        .map(str::to_owned);
                    self.skipped.push(Skipped {
                        file: file.to_owned(),
                        line: document.line,
                        api_version,
                        kind,
                        name,
                        reason,
                    });
                }
                Kind::Unreadable(message) => self.problem(file, Some(document.line), message),
            }
        }
    }

    fn entry(&self, file: &str, document: Located) -> Entry {
        let (namespace, name) = input::object_key(&document.value);
        let namespace = namespace.unwrap_or(&self.default_namespace).to_owned();
        let name = name.map(str::to_owned);
        let mut object = document.value;
        // The API server sets the namespace of a namespaced object before
        // admission, from the request's path.
        if let Value::Object(map) = &mut object {
            let metadata = map
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(metadata) = metadata
                && !metadata.contains_key("namespace")
            {
                metadata.insert("namespace".to_owned(), json!(namespace));
            }
        }
        Entry {
            location: Location {
                file: file.to_owned(),
                line: document.line,
            },
            namespace,
            name,
            object,
        }
    }

    /// The earlier desired object that the one at `index` repeats (same
    /// namespace and name): the repeat is an input error, not checked.
    fn given_before(&self, index: usize) -> Option<&Entry> {
        repeated_in(&self.desired[index], &self.desired[..index])
    }

    /// What [`Batch::run`] would check and refuse, without checking anything
    /// (valid settings assumed): the page's choice between one check and a
    /// batch.
    pub fn survey(&self) -> Survey {
        let repeats = (0..self.desired.len())
            .filter(|&index| self.given_before(index).is_some())
            .count();
        Survey {
            document_dbs: self.desired.len() - repeats,
            errors: self.errors.len() + repeats,
        }
    }

    /// Checks every desired DocumentDB.
    pub fn run(mut self) -> BatchReport {
        let mut errors = std::mem::take(&mut self.errors);
        // What policy-server does first: a policy whose settings fail
        // validate_settings never sees a request.
        let refused = check::refused_settings(&self.settings);
        let settings = SettingsReport {
            source: self.settings_source.clone(),
            valid: refused.is_none(),
            message: refused,
        };
        let mut objects = Vec::new();
        let mut summary = Summary {
            skipped: self.skipped.len(),
            ..Summary::default()
        };
        if settings.valid {
            let cluster: &dyn Cluster = match &self.cluster {
                Some(cluster) => cluster,
                None => &NoCluster,
            };
            for (index, entry) in self.desired.iter().enumerate() {
                if let Some(first) = self.given_before(index) {
                    errors.push(InputProblem {
                        file: entry.location.file.clone(),
                        line: Some(entry.location.line),
                        message: format!(
                            "{} is given twice (also {}:{}): each object is checked once",
                            describe(&entry.namespace, entry.name.as_deref()),
                            first.location.file,
                            first.location.line
                        ),
                    });
                    continue;
                }
                let current = entry.name.as_ref().and_then(|name| {
                    self.current
                        .iter()
                        .find(|c| c.namespace == entry.namespace && c.name.as_ref() == Some(name))
                });
                let mut report = check::check_documents(
                    current.map(|c| &c.object),
                    &entry.object,
                    &self.settings,
                    cluster,
                );
                if current.is_none() {
                    report.notes.extend(self.elsewhere(entry));
                }
                if let Some(files) = &self.cluster {
                    for missing in files.take_missing() {
                        report.notes.push(format!(
                            "the --cluster files hold no {missing}: the check that reads them was not made against the cluster"
                        ));
                    }
                }
                match report.decision.outcome {
                    Outcome::Allowed => summary.allowed += 1,
                    Outcome::Denied => summary.denied += 1,
                    _ => {}
                }
                objects.push(ObjectReport {
                    file: entry.location.file.clone(),
                    line: entry.location.line,
                    namespace: entry.namespace.clone(),
                    report,
                    current: current.map(|c| c.location.clone()),
                });
            }
        }
        summary.checked = summary.allowed + summary.denied;
        summary.errors = errors.len();
        let exit_code = summary.exit_code(settings.valid);
        BatchReport {
            policy_version: documentdb_upgrade_safety::POLICY_VERSION,
            settings,
            objects,
            skipped: self.skipped,
            errors,
            summary_line: summary.line(),
            summary,
            exit_code,
        }
    }

    /// A note when a current object of the same name is in another
    /// namespace: the desired one probably lacks `--namespace`.
    fn elsewhere(&self, entry: &Entry) -> Option<String> {
        if self.current.is_empty() {
            return None;
        }
        let name = entry.name.as_deref()?;
        let others: Vec<&str> = self
            .current
            .iter()
            .filter(|c| c.name.as_deref() == Some(name))
            .map(|c| c.namespace.as_str())
            .collect();
        let first = others.first()?;
        Some(format!(
            "checked as a CREATE: no current object {}, but there is one in namespace {}; if that is where this manifest is applied, give --namespace {first} (or set metadata.namespace)",
            describe(&entry.namespace, Some(name)),
            quote(first)
        ))
    }
}

/// `"ns"/"name"`, for messages.
pub fn describe(namespace: &str, name: Option<&str>) -> String {
    format!("{}/{}", quote(namespace), quote(name.unwrap_or_default()))
}

/// The object of `others` that `entry` repeats: the same namespace and name.
/// An object without a name pairs with nothing, so it repeats nothing.
fn repeated_in<'e>(entry: &Entry, others: &'e [Entry]) -> Option<&'e Entry> {
    entry.name.as_ref()?;
    others
        .iter()
        .find(|other| other.namespace == entry.namespace && other.name == entry.name)
}

/// Whether a ClusterAdmissionPolicy's rules select the DocumentDB resource
/// itself (`dbs`, not only `dbs/status`).
fn selects_dbs(policy: &Value) -> bool {
    policy["spec"]["rules"].as_array().is_some_and(|rules| {
        rules.iter().any(|rule| {
            rule["resources"]
                .as_array()
                .is_some_and(|resources| resources.iter().any(|r| r == "dbs" || r == "*"))
        })
    })
}

enum Kind {
    DocumentDb,
    Other {
        api_version: Option<String>,
        kind: Option<String>,
        reason: String,
    },
    Unreadable(String),
}

/// Whether a document is checked: a `documentdb.io` DocumentDB, or a
/// fragment of one without `apiVersion` (kind DocumentDB, or none but a
/// `spec`), as users paste them.
fn classify(document: &Value) -> Kind {
    let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_owned);
    let Value::Object(object) = document else {
        return Kind::Other {
            api_version: None,
            kind: None,
            reason: "not a Kubernetes object (a mapping with apiVersion and kind)".to_owned(),
        };
    };
    match TypeMeta::of_object(object) {
        Ok(Some(meta)) if meta.is_documentdb() => Kind::DocumentDb,
        Ok(Some(meta)) => Kind::Other {
            api_version: text("apiVersion"),
            kind: text("kind"),
            reason: format!("{} is not a {GROUP} {KIND}", meta.describe()),
        },
        Ok(None) if object.contains_key("kind") || object.contains_key("spec") => Kind::DocumentDb,
        Ok(None) => Kind::Other {
            api_version: None,
            kind: None,
            reason: "not a Kubernetes object: no apiVersion and kind".to_owned(),
        },
        Err(problem) => Kind::Unreadable(problem),
    }
}

#[cfg(test)]
mod tests;
