//! docs/messages.md is generated from the findings (`src/findings/catalogue.rs`):
//! this test fails when the file differs from what the findings write, and
//! `WRITE_MESSAGES=1 cargo test -p documentdb-upgrade-safety --test messages`
//! rewrites it.

use std::collections::BTreeSet;
use std::path::Path;

use documentdb_upgrade_safety::findings::catalogue::{self, example_advice, example_violations};

#[test]
fn docs_messages_md_is_generated_from_the_findings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/messages.md");
    let generated = catalogue::markdown();
    if std::env::var_os("WRITE_MESSAGES").is_some() {
        std::fs::write(&path, &generated).expect("docs/messages.md is writable");
    }
    let committed = std::fs::read_to_string(&path).expect("docs/messages.md exists");
    assert!(
        committed == generated,
        "docs/messages.md is stale: run `WRITE_MESSAGES=1 cargo test -p documentdb-upgrade-safety --test messages` and commit it"
    );
}

/// The variants of `pub enum <name>` in src/findings.rs, read from the source.
fn variants(name: &str) -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/findings.rs"))
            .unwrap();
    let start = source
        .find(&format!("pub enum {name}<'a> {{"))
        .expect("the enum is in src/findings.rs");
    let body = &source[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .skip(1)
        .filter_map(|line| {
            let ident = line.strip_prefix("    ")?;
            let first = ident.chars().next()?;
            if !first.is_ascii_uppercase() {
                return None;
            }
            let end = ident
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(ident.len());
            Some(ident[..end].to_owned())
        })
        .collect()
}

/// Every variant has an example in the catalogue (and so a line in
/// docs/messages.md), and `described()` names it as the enum does.
#[test]
fn every_finding_has_an_example() {
    let violations: BTreeSet<String> = example_violations()
        .iter()
        .map(|v| v.described().0.to_owned())
        .collect();
    let advice: BTreeSet<String> = example_advice()
        .iter()
        .map(|a| a.described().0.to_owned())
        .collect();
    assert_eq!(violations, variants("Violation"));
    assert_eq!(advice, variants("Advice"));
}

#[test]
fn a_stale_catalogue_is_noticed() {
    let generated = catalogue::markdown();
    let edited = generated.replacen("image rollback blocked", "image rollback refused", 1);
    assert_ne!(generated, edited, "the catalogue shows the rollback denial");
}
