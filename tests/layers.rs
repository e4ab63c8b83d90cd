//! The policy crate's layers (CONTRIBUTING.md, "Layers"): every file under
//! `src/` imports only from files below it in [`LAYERS`], so no file reaches
//! back up and there is no circle. Run by `make lint` and by `cargo test`.
//!
//! Imports are read from the source: every `crate::…` path (in `use` lines,
//! grouped `use crate::{a, b::c}` trees and paths written inline), and
//! `super::…` resolved to the module it names. Comments, string literals and
//! test code (from the first `#[cfg(test)]` of a file, and files named
//! `tests.rs`) are not read: tests may use any layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first, and their modules in the order they may import
/// each other: a module may import from every module listed before it, never
/// from one listed after it.
const LAYERS: &[(&str, &[&str])] = &[
    ("text", &["text"]),
    ("json", &["json"]),
    ("field errors", &["field_error"]),
    ("wire", &["wire"]),
    (
        "model",
        &[
            "model",
            "model::version",
            "model::quantity",
            "model::image",
            "model::resources",
            "model::restore",
            "model::nodes",
            "model::document",
        ],
    ),
    ("settings", &["settings"]),
    (
        "cluster",
        &["cluster", "cluster::restore", "cluster::nodes"],
    ),
    ("findings", &["findings", "findings::catalogue"]),
    (
        "rules",
        &[
            "rules::restore",
            "rules::image_volume",
            "rules::status_guard",
            "rules",
            "rules::upgrade",
        ],
    ),
    ("admission", &["admission"]),
    ("entry", &["response", ""]),
];

/// A module's position in [`LAYERS`]: (layer index, global order).
fn position(module: &str) -> Option<(usize, usize)> {
    let mut order = 0;
    for (layer, (_, modules)) in LAYERS.iter().enumerate() {
        for m in *modules {
            if *m == module {
                return Some((layer, order));
            }
            order += 1;
        }
    }
    None
}

/// The module a file under `src/` is (`""` for lib.rs), or `None` for test files.
fn module_of(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.last()?.strip_suffix(".rs")?.to_owned();
    if file == "tests" {
        return None;
    }
    let mut segments: Vec<String> = parts[..parts.len() - 1].to_vec();
    if file != "mod" && file != "lib" {
        segments.push(file);
    }
    Some(segments.join("::"))
}

/// The code of a file without comments, string and char literals, and
/// without its test code.
fn code(source: &str) -> String {
    let source = match source.find("#[cfg(test)]") {
        Some(at) => &source[..at],
        None => source,
    };
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if let Some(raw) = rest.strip_prefix("r#\"") {
            let end = raw.find("\"#").map_or(rest.len(), |e| e + 5);
            out.push_str("\"\"");
            i += end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if rest.starts_with("'\\") || (rest.len() > 2 && rest.as_bytes()[2] == b'\'') {
            // A char literal ('x', '\n', '\u{..}'); lifetimes ('a) have no closing quote.
            match rest[1..].find('\'') {
                Some(end) if end <= 9 && !rest[1..=end].contains(' ') => {
                    out.push_str("' '");
                    i += end + 2;
                }
                _ => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every path a `crate::` or `super::` prefix starts in `code`, with the line
/// it is on; `super` resolved against `module`.
fn imports(module: &str, code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(module))] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let line = code[..start].matches('\n').count() + 1;
            let mut paths = Vec::new();
            tree(&code[from..], &base, &mut paths);
            found.extend(paths.into_iter().map(|p| (line, p)));
        }
    }
    found
}

fn parent(module: &str) -> String {
    match module.rsplit_once("::") {
        Some((parent, _)) => parent.to_owned(),
        None => String::new(),
    }
}

fn join(base: &str, segment: &str) -> String {
    if base.is_empty() {
        segment.to_owned()
    } else {
        format!("{base}::{segment}")
    }
}

/// Reads a use tree (`a::b`, `a::{b, c::d}`, `{self, a}`) at the start of
/// `text`; pushes every full path. Returns how much of `text` it read.
fn tree(text: &str, base: &str, paths: &mut Vec<String>) -> usize {
    let text_trimmed = text.trim_start();
    let mut i = text.len() - text_trimmed.len();
    if text[i..].starts_with('{') {
        i += 1;
        loop {
            let rest = &text[i..];
            let trimmed = rest.trim_start();
            i += rest.len() - trimmed.len();
            if text[i..].starts_with('}') || i >= text.len() {
                return i + 1;
            }
            i += tree(&text[i..], base, paths);
            let rest = &text[i..];
            let trimmed = rest.trim_start();
            i += rest.len() - trimmed.len();
            if text[i..].starts_with(',') {
                i += 1;
            }
        }
    }
    let ident_len = text[i..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*'))
        .unwrap_or(text.len() - i);
    let ident = &text[i..i + ident_len];
    i += ident_len;
    let full = if ident == "self" || ident == "*" || ident.is_empty() {
        base.to_owned()
    } else {
        join(base, ident)
    };
    if text[i..].starts_with("::") {
        return i + 2 + tree(&text[i + 2..], &full, paths);
    }
    // `a as b`: the alias changes nothing.
    paths.push(full);
    i
}

/// The module of [`LAYERS`] a path points into: its longest listed prefix.
fn target(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split("::").collect();
    for n in (1..=segments.len()).rev() {
        let prefix = segments[..n].join("::");
        for (_, modules) in LAYERS {
            if let Some(m) = modules.iter().find(|m| **m == prefix) {
                return Some(m);
            }
        }
    }
    None
}

/// Every import of `module` (whose code is `source`) that points up or
/// sideways to a later module, as `line: message`.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some((layer, order)) = position(module) else {
        return vec![format!(
            "module `{module}` is in no layer: add it to LAYERS in tests/layers.rs"
        )];
    };
    let mut problems = BTreeSet::new();
    for (line, path) in imports(module, &code(source)) {
        let Some(to) = target(&path) else {
            continue;
        };
        if to == module {
            continue;
        }
        let (to_layer, to_order) = position(to).expect("listed");
        if to_order > order {
            let how = if to_layer == layer {
                "a module listed after it in its own layer"
            } else {
                "a higher layer"
            };
            problems.insert(format!(
                "line {line}: `{module}` ({}) imports `{path}` from {how} (`{to}`, {})",
                LAYERS[layer].0, LAYERS[to_layer].0
            ));
        }
    }
    problems.into_iter().collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_file_imports_only_from_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(module) = module_of(relative) else {
            continue;
        };
        let source = std::fs::read_to_string(file).unwrap();
        checked += 1;
        for problem in violations(&module, &source) {
            problems.push(format!("src/{}: {problem}", relative.display()));
        }
    }
    assert!(checked >= 20, "only {checked} files found under src/");
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_listed_module_exists() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (_, modules) in LAYERS {
        for module in *modules {
            let path = if module.is_empty() {
                src.join("lib.rs")
            } else {
                src.join(module.replace("::", "/"))
            };
            let exists = path.with_extension("rs").is_file() || path.join("mod.rs").is_file();
            assert!(exists, "LAYERS lists `{module}`, which has no file");
        }
    }
}

#[test]
fn an_import_from_a_higher_layer_is_found() {
    assert_eq!(
        violations("model::version", "use crate::findings::Violation;\n"),
        [
            "line 1: `model::version` (model) imports `findings::Violation` from a higher layer (`findings`, findings)"
        ]
    );
}

#[test]
fn grouped_multiline_and_inline_paths_are_found() {
    let source = "use crate::{\n    json::Found,\n    admission::{self, Verdict},\n};\nfn f() { crate::rules::evaluate(); }\n";
    assert_eq!(
        violations("wire", source),
        [
            "line 1: `wire` (wire) imports `admission::Verdict` from a higher layer (`admission`, admission)",
            "line 1: `wire` (wire) imports `admission` from a higher layer (`admission`, admission)",
            "line 5: `wire` (wire) imports `rules::evaluate` from a higher layer (`rules`, rules)",
        ]
    );
}

#[test]
fn super_is_resolved_and_order_within_a_layer_counts() {
    // rules::restore is listed before rules: it may not use the rule lists.
    assert_eq!(
        violations("rules::restore", "use super::Review;\n"),
        [
            "line 1: `rules::restore` (rules) imports `rules::Review` from a module listed after it in its own layer (`rules`, rules)"
        ]
    );
    assert!(violations("rules::upgrade", "use super::Review;\n").is_empty());
}

#[test]
fn downward_imports_comments_strings_and_tests_pass() {
    let source = "//! Uses crate::admission in a comment.\nuse crate::text::quote;\nconst S: &str = \"crate::admission\";\nfn f(c: char) -> bool { c == '\"' }\n#[cfg(test)]\nmod tests { use crate::admission::Verdict; }\n";
    assert!(violations("model::version", source).is_empty());
}

#[test]
fn a_file_in_no_layer_is_reported() {
    assert_eq!(
        violations("helpers", ""),
        ["module `helpers` is in no layer: add it to LAYERS in tests/layers.rs"]
    );
}
