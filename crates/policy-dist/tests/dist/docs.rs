//! The documentation holds together: every relative link (and `#anchor`) in
//! every Markdown file of the repository resolves, and the README stays what
//! Kubewarden users are shown — `kwctl annotate -u README.md` embeds it in the
//! module and Artifact Hub reads it through `artifacthub/README.md`, where
//! relative links do not resolve: so at most 250 lines, absolute links only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use rstest::rstest;

use crate::common::repo_root;

const README: &str = "README.md";
const README_MAX_LINES: usize = 250;

/// Repository paths a link may name before they exist: for a branch whose
/// documents link to a file another branch adds. Space- or comma-separated;
/// unset on main and in CI.
const PENDING_FILES_VAR: &str = "DOCS_PENDING_FILES";

/// Directories that are build output, dependencies or local state, not
/// documentation (see .gitignore).
const SKIPPED_DIRS: &[&str] = &[
    "target",
    "crates/upgrade-checker/pkg",
    "fuzz/target",
    "fuzz/corpus",
    "fuzz/artifacts",
];

/// The repository as the link check sees it.
#[derive(Default)]
struct Repository {
    /// Markdown texts by repository-relative path (`/`-separated). Symlinks
    /// are not read: `artifacthub/README.md` is the README itself.
    markdown: BTreeMap<String, String>,
    /// Every file and directory (symlinks included), repository-relative.
    paths: BTreeSet<String>,
}

impl Repository {
    fn read(root: &Path) -> Repository {
        let mut repository = Repository::default();
        repository.walk(root, "");
        repository
    }

    fn walk(&mut self, root: &Path, relative: &str) {
        let dir = root.join(relative);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name().into_string().expect("UTF-8 file names");
            let path = if relative.is_empty() {
                name.clone()
            } else {
                format!("{relative}/{name}")
            };
            let kind = entry.file_type().expect("a file type");
            // node_modules wherever npm put one (crates/upgrade-checker/ after `make web-tests`).
            if name == ".git" || name == "node_modules" || SKIPPED_DIRS.contains(&path.as_str()) {
                continue;
            }
            self.paths.insert(path.clone());
            if kind.is_dir() {
                self.walk(root, &path);
            } else if kind.is_file() && name.ends_with(".md") {
                let text = std::fs::read_to_string(root.join(&path))
                    .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
                self.markdown.insert(path, text);
            }
        }
    }

    fn with_files(files: &[(&str, &str)]) -> Repository {
        let mut repository = Repository::default();
        for (path, text) in files {
            let mut parent = Path::new(path).parent();
            while let Some(dir) = parent.filter(|dir| !dir.as_os_str().is_empty()) {
                repository.paths.insert(dir.to_str().unwrap().to_owned());
                parent = dir.parent();
            }
            repository.paths.insert((*path).to_owned());
            if path.ends_with(".md") {
                repository
                    .markdown
                    .insert((*path).to_owned(), (*text).to_owned());
            }
        }
        repository
    }

    /// `file:line: link: problem` for every relative link that does not
    /// resolve, in every Markdown file. `pending` paths count as existing.
    fn broken_links(&self, pending: &BTreeSet<String>) -> Vec<String> {
        let mut problems = Vec::new();
        for (file, text) in &self.markdown {
            for link in links(text) {
                if is_absolute(&link.target) {
                    continue;
                }
                if let Err(problem) = self.check(file, &link.target, pending) {
                    problems.push(format!("{file}:{}: {}: {problem}", link.line, link.target));
                }
            }
        }
        problems
    }

    fn check(&self, from: &str, target: &str, pending: &BTreeSet<String>) -> Result<(), String> {
        let (path, fragment) = match target.split_once('#') {
            Some((path, fragment)) => (path, Some(percent_decoded(fragment))),
            None => (target, None),
        };
        let path = path.split('?').next().unwrap_or_default();
        let resolved = if path.is_empty() {
            from.to_owned()
        } else {
            resolve(from, &percent_decoded(path))?
        };
        if pending.contains(&resolved) {
            return Ok(());
        }
        if !self.paths.contains(&resolved) {
            return Err(format!("{resolved} does not exist"));
        }
        let Some(fragment) = fragment else {
            return Ok(());
        };
        match self.markdown.get(&resolved) {
            Some(text) if heading_anchors(text).contains(&fragment) => Ok(()),
            Some(_) => Err(format!("{resolved} has no heading with anchor #{fragment}")),
            // GitHub's line anchors on source files: #L10, #L10-L20.
            None if is_line_anchor(&fragment) => Ok(()),
            None => Err(format!(
                "#{fragment} on {resolved}, which is not a Markdown file"
            )),
        }
    }
}

struct Link {
    target: String,
    line: usize,
}

/// The links and images of a Markdown text, as GitHub renders it: code spans
/// and code blocks hold none; reference-style links are resolved.
fn links(text: &str) -> Vec<Link> {
    Parser::new_ext(text, gfm())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            // An e-mail autolink's destination has no `mailto:`.
            Event::Start(Tag::Link {
                link_type: LinkType::Email,
                ..
            }) => None,
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => Some(Link {
                target: dest_url.into_string(),
                line: text[..range.start].matches('\n').count() + 1,
            }),
            _ => None,
        })
        .collect()
}

fn gfm() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// A URL with a scheme (`https:`, `mailto:`) or a network path (`//host`).
fn is_absolute(target: &str) -> bool {
    if target.starts_with("//") {
        return true;
    }
    let Some((scheme, _)) = target.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
}

/// `target` seen from the file `from`, both repository-relative; a leading
/// `/` is the repository root, as on GitHub.
fn resolve(from: &str, target: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        from.split('/').collect::<Vec<_>>()[..from.matches('/').count()].to_vec()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| "leaves the repository".to_owned())?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn is_line_anchor(fragment: &str) -> bool {
    fragment.split('-').all(|part| {
        part.strip_prefix('L')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

/// The anchors GitHub gives the headings of a Markdown text: the heading's
/// text lower-cased, punctuation dropped, spaces turned into hyphens; a
/// repeated anchor gets `-1`, `-2`, ….
fn heading_anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(text, gfm()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(part) | Event::Code(part) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&part);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let slug = slug(&heading.take().unwrap_or_default());
                let count = seen.entry(slug.clone()).or_default();
                anchors.insert(match *count {
                    0 => slug,
                    n => format!("{slug}-{n}"),
                });
                *count += 1;
            }
            _ => {}
        }
    }
    anchors
}

fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn pending_files() -> BTreeSet<String> {
    std::env::var(PENDING_FILES_VAR)
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|path| !path.is_empty())
        .map(str::to_owned)
        .collect()
}

// ------------------------------------------------------------------ the repository

#[test]
fn every_relative_link_in_every_markdown_file_resolves() {
    let repository = Repository::read(&repo_root());
    for expected in [README, "CONTRIBUTING.md", "docs/operations.md"] {
        assert!(
            repository.markdown.contains_key(expected),
            "{expected} not found: the walk missed the documentation"
        );
    }
    let problems = repository.broken_links(&pending_files());
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn readme_links_only_to_absolute_urls() {
    let text = crate::common::read_text(README);
    let relative: Vec<String> = links(&text)
        .into_iter()
        .filter(|link| !is_absolute(&link.target))
        .map(|link| format!("{README}:{}: {}", link.line, link.target))
        .collect();
    assert!(
        relative.is_empty(),
        "the README is embedded in the module and shown on Artifact Hub, where relative links \
         do not resolve: link to https://github.com/documentdb-policies/documentdb-upgrade-safety/blob/main/… \
         instead:\n{}",
        relative.join("\n")
    );
}

#[test]
fn readme_fits_what_kwctl_inspect_and_artifact_hub_show() {
    let lines = crate::common::read_text(README).lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "{README} has {lines} lines, at most {README_MAX_LINES}: move operations detail to docs/, \
         development to CONTRIBUTING.md"
    );
}

// ------------------------------------------------------------------ the checker itself

#[rstest]
#[case::sibling("docs/a.md", "b.md", Ok("docs/b.md"))]
#[case::dot("docs/a.md", "./b.md", Ok("docs/b.md"))]
#[case::parent("docs/a.md", "../README.md", Ok("README.md"))]
#[case::root_file("README.md", "docs/a.md", Ok("docs/a.md"))]
#[case::repository_root("crates/x/README.md", "/e2e/cases.yaml", Ok("e2e/cases.yaml"))]
#[case::directory("README.md", "e2e/fixtures/", Ok("e2e/fixtures"))]
#[case::outside("docs/a.md", "../../etc/passwd", Err("leaves the repository"))]
fn resolves_like_github(
    #[case] from: &str,
    #[case] target: &str,
    #[case] expected: Result<&str, &str>,
) {
    assert_eq!(
        resolve(from, target),
        expected.map(str::to_owned).map_err(str::to_owned)
    );
}

#[rstest]
#[case::words("Background audit", "background-audit")]
#[case::apostrophe("The operator's default version", "the-operators-default-version")]
#[case::arrow("Monitor → protect", "monitor--protect")]
#[case::question(
    "Why not Gatekeeper, Kyverno or a plain ValidatingAdmissionPolicy?",
    "why-not-gatekeeper-kyverno-or-a-plain-validatingadmissionpolicy"
)]
#[case::code_and_colon("In a pipeline: node check.mjs", "in-a-pipeline-node-checkmjs")]
#[case::underscore_hyphen("x_y-z", "x_y-z")]
fn slugs_like_github(#[case] heading: &str, #[case] expected: &str) {
    assert_eq!(slug(heading), expected);
}

#[rstest]
#[case::absolute_https("https://example.com/a.md", true)]
#[case::mailto("mailto:someone@example.com", true)]
#[case::network_path("//example.com/a", true)]
#[case::relative("docs/a.md", false)]
#[case::anchor("#install", false)]
#[case::colon_in_path("docs/a:b.md", false)]
fn tells_absolute_from_relative(#[case] target: &str, #[case] absolute: bool) {
    assert_eq!(is_absolute(target), absolute);
}

fn repository_with_doc(doc: &str) -> Repository {
    Repository::with_files(&[
        ("README.md", "# Title\n\n## Install\n\n## Install\n"),
        ("docs/doc.md", doc),
        ("e2e/cases.yaml", ""),
        ("src/lib.rs", ""),
    ])
}

#[rstest]
#[case::file("[x](../README.md)")]
#[case::anchor("[x](../README.md#install)")]
#[case::repeated_heading("[x](../README.md#install-1)")]
#[case::own_heading("# Own heading\n\n[x](#own-heading)")]
#[case::source_file("[x](../src/lib.rs)")]
#[case::line_anchor("[x](../src/lib.rs#L10-L20)")]
#[case::directory("[x](../e2e)")]
#[case::reference_style("[x][r]\n\n[r]: ../e2e/cases.yaml")]
#[case::percent_encoded("[x](../e2e/cases%2Eyaml)")]
#[case::absolute("[x](https://example.com/missing.md)")]
#[case::autolinks("<https://example.com/a> <someone@example.com>")]
#[case::in_fenced_code("```\n[x](missing.md)\n```")]
#[case::in_code_span("`[x](missing.md)`")]
#[case::pending("[x](releasing.md)")]
fn accepts_links_that_resolve(#[case] doc: &str) {
    let pending = BTreeSet::from(["docs/releasing.md".to_owned()]);
    assert_eq!(
        repository_with_doc(doc).broken_links(&pending),
        Vec::<String>::new()
    );
}

#[rstest]
#[case::missing_file(
    "[x](missing.md)",
    "docs/doc.md:1: missing.md: docs/missing.md does not exist"
)]
#[case::missing_anchor(
    "\n[x](../README.md#usage)",
    "docs/doc.md:2: ../README.md#usage: README.md has no heading with anchor #usage"
)]
#[case::third_heading_of_two(
    "[x](../README.md#install-2)",
    "docs/doc.md:1: ../README.md#install-2: README.md has no heading with anchor #install-2"
)]
#[case::missing_own_anchor(
    "[x](#nowhere)",
    "docs/doc.md:1: #nowhere: docs/doc.md has no heading with anchor #nowhere"
)]
#[case::anchor_on_source(
    "[x](../src/lib.rs#validate)",
    "docs/doc.md:1: ../src/lib.rs#validate: #validate on src/lib.rs, which is not a Markdown file"
)]
#[case::image(
    "![x](diagram.png)",
    "docs/doc.md:1: diagram.png: docs/diagram.png does not exist"
)]
#[case::reference_style(
    "[x][r]\n\n[r]: gone.md",
    "docs/doc.md:1: gone.md: docs/gone.md does not exist"
)]
#[case::outside(
    "[x](../../other/README.md)",
    "docs/doc.md:1: ../../other/README.md: leaves the repository"
)]
#[case::after_a_code_block(
    "```\n[x](missing.md)\n```\n[y](also-missing.md)",
    "docs/doc.md:4: also-missing.md: docs/also-missing.md does not exist"
)]
fn reports_links_that_do_not_resolve(#[case] doc: &str, #[case] expected: &str) {
    assert_eq!(
        repository_with_doc(doc).broken_links(&BTreeSet::new()),
        vec![expected.to_owned()]
    );
}

#[test]
fn reads_the_repository_without_build_output_or_symlinked_copies() {
    let repository = Repository::read(&repo_root());
    assert!(
        !repository
            .markdown
            .keys()
            .any(|path| path.starts_with("target/")
                || path.contains("node_modules/")
                || path.starts_with(".git/")),
        "{:?}",
        repository.markdown.keys().collect::<Vec<_>>()
    );
    assert!(
        !repository.markdown.contains_key("artifacthub/README.md"),
        "the symlink to the README is not read a second time"
    );
    assert!(repository.paths.contains("artifacthub/README.md"));
}
