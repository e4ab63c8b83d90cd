//! What a user pastes: `kubectl get documentdb NAME -o yaml` output, a manifest file
//! with several documents, a `kind: List`, or JSON. Turned into the one
//! object the admission request would carry, or an error that says what to
//! paste instead.

use serde_json::{Map, Value};

use documentdb_upgrade_safety::json::type_name;
use documentdb_upgrade_safety::message::quote;
use documentdb_upgrade_safety::validation::{GROUP, KIND};

use crate::located::read_documents;

/// Input the checker cannot turn into an admission request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

/// Which input a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Current,
    Desired,
    Settings,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Current => "the current object",
            Source::Desired => "the desired manifest",
            Source::Settings => "the settings",
        }
    }
}

/// The most an input may hold. The API server refuses requests over 3 MiB, so
/// a larger manifest cannot be applied anyway; the bound keeps the engine's
/// memory bounded on a page or a CI runner.
pub const MAX_INPUT_BYTES: usize = 8 << 20;

/// Every document in `text`, read as the batch reads a file
/// ([`read_documents`]: YAML documents or JSON values; the items of a
/// `kind: List`, also nested, count as documents, empty documents do not).
pub fn documents(text: &str, source: Source) -> Result<Vec<Value>, InputError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(InputError(format!(
            "{} is {} bytes: the API server accepts at most 3 MiB per request, and this checker reads at most {} MiB",
            source.label(),
            text.len(),
            MAX_INPUT_BYTES >> 20
        )));
    }
    let documents =
        read_documents(text).map_err(|error| InputError(error.problem.about(source.label())))?;
    Ok(documents
        .objects
        .into_iter()
        .map(|document| document.value)
        .collect())
}

/// The `apiVersion` group and `kind` of a document, both as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMeta {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl TypeMeta {
    /// `apiVersion` and `kind` when the document has them; `None` when it has
    /// no `apiVersion` and no kind other than DocumentDB (a pasted fragment),
    /// which the checker treats as a DocumentDB.
    pub fn of(document: &Value, source: Source) -> Result<Option<TypeMeta>, InputError> {
        let Value::Object(object) = document else {
            return Err(InputError(format!(
                "{} must be a Kubernetes object (a mapping with apiVersion, kind, metadata, spec), not {}",
                source.label(),
                type_name(document)
            )));
        };
        Self::of_object(object)
            .map_err(|problem| InputError(format!("{}: {problem}", source.label())))
    }

    /// [`TypeMeta::of`] for an object, the problem not yet attributed to an
    /// input ("kind must be a string, not a number").
    pub fn of_object(object: &Map<String, Value>) -> Result<Option<TypeMeta>, String> {
        let text = |key: &str| match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(format!("{key} must be a string, not {}", type_name(other))),
        };
        let (api_version, kind) = (text("apiVersion")?, text("kind")?);
        if api_version.is_none() && kind.as_deref().is_none_or(|kind| kind == KIND) {
            return Ok(None);
        }
        let api_version = api_version.unwrap_or_default();
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_owned(), version.to_owned()),
            // The core group: "v1".
            None => (String::new(), api_version),
        };
        Ok(Some(TypeMeta {
            group,
            version,
            kind: kind.unwrap_or_default(),
        }))
    }

    pub fn is_documentdb(&self) -> bool {
        self.group == GROUP && self.kind == KIND
    }

    pub fn describe(&self) -> String {
        let api_version = if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        format!("{} {}", quote(&api_version), quote(&self.kind))
    }
}

/// `metadata.namespace` and `metadata.name`, when they are strings.
pub fn object_key(document: &Value) -> (Option<&str>, Option<&str>) {
    let metadata = document.get("metadata");
    let text = |key: &str| metadata.and_then(|m| m.get(key)).and_then(Value::as_str);
    (text("namespace"), text("name"))
}

/// Whether two documents name the same object. A manifest often leaves the
/// namespace to `kubectl apply -n`, so namespaces count only when both are set.
pub fn same_object(left: &Value, right: &Value) -> bool {
    let ((left_namespace, left_name), (right_namespace, right_name)) =
        (object_key(left), object_key(right));
    left_name == right_name
        && match (left_namespace, right_namespace) {
            (Some(left), Some(right)) => left == right,
            _ => true,
        }
}

/// The one document the check is about: the DocumentDB among `documents`, or
/// the only document there is (a Pod pasted by mistake is still checked, and
/// the policy says it does not apply). With several DocumentDBs, the one named
/// like `current` is taken, as a multi-object manifest is applied object by
/// object.
pub fn select(
    documents: Vec<Value>,
    source: Source,
    same_object_as: Option<&Value>,
) -> Result<Value, InputError> {
    let count = documents.len();
    let mut databases = Vec::new();
    let mut others = Vec::new();
    for document in documents {
        match TypeMeta::of(&document, source)? {
            Some(meta) if !meta.is_documentdb() => others.push(document),
            // A fragment without apiVersion and kind is taken for a DocumentDB.
            _ => databases.push(document),
        }
    }
    match (databases.len(), others.len()) {
        (0, 0) => Err(InputError(format!("{} is empty", source.label()))),
        (0, 1) => Ok(others.remove(0)),
        (0, _) => Err(InputError(format!(
            "{} holds {count} documents and none is a {KIND} ({GROUP})",
            source.label()
        ))),
        (1, _) => Ok(databases.remove(0)),
        (_, _) => {
            if let Some(current) = same_object_as
                && let Some(position) = databases.iter().position(|db| same_object(db, current))
            {
                return Ok(databases.swap_remove(position));
            }
            let names: Vec<String> = databases
                .iter()
                .map(|db| quote(object_key(db).1.unwrap_or_default()))
                .collect();
            Err(InputError(format!(
                "{} holds {} {KIND} objects ({}); give one, or a current object with the same name",
                source.label(),
                databases.len(),
                names.join(", ")
            )))
        }
    }
}

/// The settings as the engine passes them to the policy: a JSON object;
/// empty text is `{}`.
pub fn settings(text: &str) -> Result<Value, InputError> {
    let mut documents = documents(text, Source::Settings)?;
    match documents.len() {
        0 => Ok(Value::Object(Map::new())),
        1 => Ok(documents.remove(0)),
        n => Err(InputError(several_settings(n))),
    }
}

/// The settings given as `n` (> 1) documents.
pub fn several_settings(n: usize) -> String {
    format!("the settings must be one document, not {n}")
}
