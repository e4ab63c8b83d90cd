//! Reading a whole file the way `kubectl apply -f` does — several YAML
//! documents, JSON values one after another, `kind: List` (nested too), empty
//! documents and comments — while keeping the line where each object starts,
//! so that a report (and a GitHub annotation) can point at it.
//!
//! YAML documents are split at their `---` / `...` markers (a line starting
//! with one cannot be content: YAML forbids it inside scalars) and parsed one
//! by one, so that each document's first line is known exactly. The items of
//! a List get the line of their `-` (block style) or of their first character
//! (JSON); where that cannot be worked out they share the List's line.

use serde::Deserialize;
use serde_json::Value;

use documentdb_upgrade_safety::json::type_name;

/// A document and the line (1-based) where it starts in its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub value: Value,
    pub line: usize,
}

/// Why a text cannot be read, and the line it is about when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub line: Option<usize>,
    pub problem: Unreadable,
}

impl TextError {
    fn at(line: usize, problem: Unreadable) -> Self {
        TextError {
            line: Some(line),
            problem,
        }
    }
}

/// What makes a text unreadable. Its texts are written here once, in the two
/// forms the checker shows: after a file and line (the batch) and about a
/// named input (the page's text boxes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// serde_json's error.
    Json(String),
    /// serde_yaml's error, its lines those of the whole text.
    Yaml(String),
    /// YAML that JSON cannot hold (a mapping as a key, say).
    NotAnObject(String),
    /// A List whose `items` is of this other type.
    ListItems(&'static str),
}

impl Unreadable {
    /// `not valid JSON: …`, shown after the file and line.
    pub fn message(&self) -> String {
        match self {
            Unreadable::Json(error) => {
                format!("not valid JSON: {error} (JSON exactly as the API server reads it)")
            }
            Unreadable::Yaml(error) => format!("not valid YAML: {error}"),
            Unreadable::NotAnObject(error) => format!(
                "cannot be read as a Kubernetes object: {error} (an unrendered template placeholder such as {{{{NAME}}}}?)"
            ),
            Unreadable::ListItems(type_name) => {
                format!("the items of a List must be an array, not {type_name}")
            }
        }
    }

    /// The same about `subject`: `the desired manifest is not valid JSON: …`.
    pub fn about(&self, subject: &str) -> String {
        let message = self.message();
        match self {
            Unreadable::Json(_) | Unreadable::Yaml(_) => format!("{subject} is {message}"),
            Unreadable::NotAnObject(_) => format!("{subject} {message}"),
            Unreadable::ListItems(_) => format!("{subject}: {message}"),
        }
    }
}

/// What a text holds: its objects, and how many lists held them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    /// Every object, in order, with its line.
    pub objects: Vec<Located>,
    /// The lists read (JSON arrays and `kind: List`, nested ones included),
    /// empty ones too: an empty List is what `kubectl get` of nothing prints,
    /// a text of comments is not an answer at all.
    pub lists: usize,
}

/// Every object in `text`, in order, with its line, and the lists they came
/// in. A text that holds only comments or empty documents gives none.
pub fn read_documents(text: &str) -> Result<Documents, TextError> {
    let trimmed = text.trim_start();
    let mut documents = Documents::default();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        read_json_stream(text, &mut documents)?;
    } else {
        read_yaml_documents(text, &mut documents)?;
    }
    Ok(documents)
}

/// The objects of [`read_documents`].
pub fn located_documents(text: &str) -> Result<Vec<Located>, TextError> {
    read_documents(text).map(|documents| documents.objects)
}

/// Byte offsets of the starts of lines, for offset → line.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }

    /// The 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(index) => index + 1,
            Err(index) => index,
        }
    }
}

/// JSON values one after another (what `jq` prints), each possibly a List.
fn read_json_stream(text: &str, documents: &mut Documents) -> Result<(), TextError> {
    let lines = Lines::of(text);
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut end = 0;
    loop {
        let start = end + text[end..].len() - text[end..].trim_start().len();
        let next = match stream.next() {
            None => return Ok(()),
            Some(next) => next,
        };
        let value =
            next.map_err(|e| TextError::at(e.line().max(1), Unreadable::Json(e.to_string())))?;
        end = stream.byte_offset();
        let item_lines = json_item_offsets(&text[start..end])
            .into_iter()
            .map(|offset| lines.line(start + offset))
            .collect();
        flatten(value, lines.line(start), item_lines, documents)?;
    }
}

/// Where the elements of a JSON array start (relative to `text`): the value
/// itself when it is an array, else the array under its top-level key
/// `items`. Strings are skipped exactly, so brackets inside them do not count.
fn json_item_offsets(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut offsets = Vec::new();
    let mut depth = 0usize;
    // The depth of the array whose elements are wanted, once found.
    let mut target: Option<usize> = match bytes.first() {
        Some(b'[') => Some(1),
        _ => None,
    };
    let mut expect_element = false;
    let mut last_key_was_items = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if expect_element && byte != b']' {
            offsets.push(i);
            expect_element = false;
        }
        match byte {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let key = &text[start + 1..i.min(text.len())];
                // A key of the top-level object: the next token is ':'.
                let rest = text[(i + 1).min(text.len())..].trim_start();
                last_key_was_items = depth == 1 && key == "items" && rest.starts_with(':');
            }
            b'{' | b'[' => {
                if byte == b'[' && depth == 1 && last_key_was_items && target.is_none() {
                    target = Some(2);
                }
                depth += 1;
                if target == Some(depth) && byte == b'[' {
                    expect_element = true;
                }
            }
            b'}' | b']' => {
                if target == Some(depth) && byte == b']' {
                    return offsets;
                }
                depth = depth.saturating_sub(1);
            }
            b',' if target == Some(depth) => expect_element = true,
            _ => {}
        }
        i += 1;
    }
    offsets
}

/// A line that starts or ends a YAML document: `---` or `...` followed by
/// nothing or whitespace.
fn marker(line: &str) -> Option<&'static str> {
    for marker in ["---", "..."] {
        if let Some(rest) = line.strip_prefix(marker)
            && (rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
        {
            return Some(marker);
        }
    }
    None
}

/// Blank, a comment or a directive (`%YAML 1.2`): nothing of a document.
fn is_nothing(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#') || line.starts_with('%')
}

fn read_yaml_documents(text: &str, documents: &mut Documents) -> Result<(), TextError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut start = 0;
    while start < lines.len() {
        // A segment runs to the next `---` (exclusive) or `...` (inclusive).
        let mut end = start + 1;
        let mut next = end;
        if marker(lines[start]) != Some("...") {
            while end < lines.len() {
                match marker(lines[end]) {
                    Some("---") => break,
                    Some(_) => {
                        end += 1;
                        break;
                    }
                    None => end += 1,
                }
            }
            next = end;
        }
        // Every line but the text's last one ended with a newline.
        let terminated = end < lines.len();
        read_yaml_segment(&lines[start..end], start, terminated, documents)?;
        start = next;
    }
    Ok(())
}

/// One YAML document: `segment` are its lines, the first one at index `first`.
fn read_yaml_segment(
    segment: &[&str],
    first: usize,
    terminated: bool,
    documents: &mut Documents,
) -> Result<(), TextError> {
    // The document's line: its first line of content (a `---` with content
    // after it counts).
    let content = segment.iter().position(|line| match marker(line) {
        Some(_) => !is_nothing(&line[3..]),
        None => !is_nothing(line),
    });
    let Some(content) = content else {
        return Ok(());
    };
    let line = first + content + 1;
    let mut text = segment.join("\n");
    if terminated {
        text.push('\n');
    }
    let invalid = |e: serde_yaml::Error| {
        let problem = Unreadable::Yaml(shift_lines(&e.to_string(), first));
        match e.location() {
            Some(location) => TextError::at(first + location.line(), problem),
            None => TextError::at(line, problem),
        }
    };
    let mut value = match serde_yaml::Deserializer::from_str(&text).next() {
        Some(document) => serde_yaml::Value::deserialize(document).map_err(invalid)?,
        None => return Ok(()),
    };
    // Merge keys (`<<: *defaults`), as kubectl's YAML reader applies them.
    value.apply_merge().map_err(invalid)?;
    let value = serde_json::to_value(value)
        .map_err(|e| TextError::at(line, Unreadable::NotAnObject(e.to_string())))?;
    let item_lines = yaml_item_lines(&segment[content..])
        .into_iter()
        .map(|index| line + index)
        .collect();
    flatten(value, line, item_lines, documents)
}

/// `message` with every `at line N` of the parser's moved down by `offset`
/// lines: the parser saw one document, the user sees the whole text.
fn shift_lines(message: &str, offset: usize) -> String {
    const AT_LINE: &str = "at line ";
    let mut shifted = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(position) = rest.find(AT_LINE) {
        let after = position + AT_LINE.len();
        shifted.push_str(&rest[..after]);
        rest = &rest[after..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(number) => shifted.push_str(&(number + offset).to_string()),
            Err(_) => shifted.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    shifted.push_str(rest);
    shifted
}

/// The indexes (in `lines`) of the items of a top-level block `items:`
/// sequence, as `kubectl get -o yaml` writes a List: `- ` at one indentation,
/// up to the next top-level key.
fn yaml_item_lines(lines: &[&str]) -> Vec<usize> {
    let Some(key) = lines.iter().position(|line| {
        line.strip_prefix("items:")
            .is_some_and(|rest| is_nothing(rest) || rest.trim_start().starts_with('#'))
    }) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut indent = None;
    for (index, line) in lines.iter().enumerate().skip(key + 1) {
        if is_nothing(line) {
            continue;
        }
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[spaces..];
        let is_item = rest == "-" || rest.starts_with("- ") || rest.starts_with("-\t");
        if spaces == 0 && !is_item {
            break;
        }
        if is_item && *indent.get_or_insert(spaces) == spaces {
            items.push(index);
        }
    }
    items
}

/// Appends `value`, or the items of a list (a JSON array or a `kind: List`,
/// nested lists flattened as kubectl does). `item_lines` are the lines of the
/// items of `value` when it is a list and they were found.
fn flatten(
    value: Value,
    line: usize,
    item_lines: Vec<usize>,
    documents: &mut Documents,
) -> Result<(), TextError> {
    let items = match value {
        Value::Null => return Ok(()),
        Value::Array(items) => {
            documents.lists += 1;
            items
        }
        Value::Object(mut object) if is_list(&object) => match object.remove("items") {
            Some(Value::Array(items)) => {
                documents.lists += 1;
                items
            }
            Some(Value::Null) | None => {
                documents.lists += 1;
                return Ok(());
            }
            Some(other) => {
                return Err(TextError::at(
                    line,
                    Unreadable::ListItems(type_name(&other)),
                ));
            }
        },
        value => {
            documents.objects.push(Located { value, line });
            return Ok(());
        }
    };
    let lines_known = item_lines.len() == items.len();
    for (index, item) in items.into_iter().enumerate() {
        let item_line = if lines_known { item_lines[index] } else { line };
        flatten(item, item_line, Vec::new(), documents)?;
    }
    Ok(())
}

fn is_list(object: &serde_json::Map<String, Value>) -> bool {
    matches!(object.get("kind"), Some(Value::String(kind)) if kind.ends_with("List"))
        && object.contains_key("items")
}

#[cfg(test)]
mod tests;
