//! The GitHub workflows cannot run here: their structure is checked instead.
//! The release runs on v* tags, in order: version check against the repo's
//! own files, tests, a --locked build, annotate, push, keyless cosign
//! signature, SBOM with its cosign bundle, Artifact Hub package, GitHub
//! release; CI runs the README's test command; every action is pinned.

use std::process::Command;

use serde_yaml::Value;

use crate::common::{read_text, repo_file};

fn workflow(name: &str) -> Value {
    serde_yaml::from_str(&read_text(&format!(".github/workflows/{name}")))
        .unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

fn steps<'a>(workflow: &'a Value, job: &str) -> &'a Vec<Value> {
    workflow["jobs"][job]["steps"]
        .as_sequence()
        .unwrap_or_else(|| panic!("job {job} has no steps"))
}

/// The index of the first step whose `run` contains `needle` (or whose `uses` starts with it).
fn position(steps: &[Value], needle: &str) -> usize {
    steps
        .iter()
        .position(|s| {
            s["run"].as_str().is_some_and(|r| r.contains(needle))
                || s["uses"].as_str().is_some_and(|u| u.starts_with(needle))
        })
        .unwrap_or_else(|| panic!("no step runs or uses {needle:?}"))
}

fn cargo_version() -> String {
    let manifest: toml::Table = read_text("Cargo.toml").parse().unwrap();
    manifest["package"]["version"].as_str().unwrap().to_owned()
}

fn pinned(uses: &str) -> bool {
    let Some((action, version)) = uses.split_once('@') else {
        return false;
    };
    let semver = version.strip_prefix('v').is_some_and(|v| {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let commit = version.len() == 40 && version.bytes().all(|b| b.is_ascii_hexdigit());
    action.contains('/') && (semver || commit)
}

#[test]
fn release_runs_on_version_tags_and_does_every_step_in_order() {
    let release = workflow("release.yml");
    assert_eq!(
        release["on"]["push"]["tags"],
        serde_yaml::from_str::<Value>("[\"v*\"]").unwrap()
    );
    let job = &release["jobs"]["release"];
    assert_eq!(
        job["permissions"]["id-token"], "write",
        "keyless signing needs the OIDC token"
    );
    assert_eq!(
        job["permissions"]["contents"], "write",
        "the GitHub release"
    );
    assert_eq!(
        job["permissions"]["packages"], "write",
        "the push to ghcr.io"
    );
    let steps = steps(&release, "release");
    let order = [
        "check-version",
        "make test",
        "--locked annotated-policy.wasm",
        "make --no-print-directory -s push",
        "sigstore/cosign-installer@",
        "cosign sign --yes",
        "make sbom",
        "cosign sign-blob --yes --bundle policy-sbom.spdx.json.bundle policy-sbom.spdx.json",
        "make artifacthub",
        "gh release create",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(steps, n)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "steps out of order: {order:?} at {positions:?}"
    );
    let release_step = steps[position(steps, "gh release create")]["run"]
        .as_str()
        .unwrap();
    for asset in [
        "annotated-policy.wasm",
        "policy-sbom.spdx.json",
        "policy-sbom.spdx.json.bundle",
        "artifacthub/artifacthub-pkg.yml",
    ] {
        assert!(
            release_step.contains(asset),
            "{asset} is not attached to the release"
        );
    }
    // The keyless signature is checked against this workflow's identity.
    let sign = steps[position(steps, "cosign sign --yes")]["run"]
        .as_str()
        .unwrap();
    assert!(sign.contains("--certificate-oidc-issuer https://token.actions.githubusercontent.com"));
    assert!(sign.contains(".github/workflows/release.yml@$GITHUB_REF"));
    // (make sbom and its bundle share a step.) The Makefile targets the workflow calls exist.
    let makefile = read_text("Makefile");
    for target in [
        "test:",
        "annotated-policy.wasm:",
        "push:",
        "sbom:",
        "artifacthub:",
    ] {
        assert!(
            makefile.lines().any(|l| l.starts_with(target)),
            "Makefile has no {target} target"
        );
    }
}

#[test]
fn release_checks_the_version_in_the_repository_files() {
    let release = workflow("release.yml");
    let steps = steps(&release, "release");
    let check = steps[position(steps, "check-version")]["run"]
        .as_str()
        .unwrap();
    assert!(check.contains("--tag \"$GITHUB_REF_NAME\""), "{check}");
    let mut args: Vec<String> = Vec::new();
    for (flag, file) in [
        ("--manifest-path", "Cargo.toml"),
        ("--metadata-path", "policy-metadata/metadata.yml"),
        ("--artifacthub-path", "artifacthub/artifacthub-pkg.yml"),
    ] {
        assert!(
            check.contains(&format!("{flag} {file}")),
            "{check} does not read {file}"
        );
        assert!(repo_file(file).is_file(), "{file} does not exist");
        args.push(flag.to_owned());
        args.push(repo_file(file).display().to_string());
    }
    // The same command, on the files the workflow names: the tag of this version passes…
    let version = cargo_version();
    let run = |tag: &str| {
        Command::new(env!("CARGO_BIN_EXE_policy-dist"))
            .args(["check-version", "--tag", tag])
            .args(&args)
            .output()
            .unwrap()
    };
    let output = run(&format!("v{version}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "v{version}: tag v{version}, {}, {} and {} agree\n",
            args[1], args[3], args[5]
        )
    );
    // …any other tag fails, naming both versions.
    let output = run("v99.0.0");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "Error: the version disagrees:\n  the tag is v99.0.0, Cargo.toml says {version} (tag v{version})\n"
        )
    );
}

#[test]
fn ci_runs_the_readme_test_command() {
    let ci = workflow("ci.yml");
    assert!(ci["on"]["push"].is_mapping());
    assert!(ci["on"].as_mapping().unwrap().contains_key("pull_request"));
    let steps = steps(&ci, "test");
    assert_eq!(steps[position(steps, "make test")]["run"], "make test");
    assert!(read_text("README.md").contains("make test"));
}

#[test]
fn every_action_is_pinned() {
    for name in ["ci.yml", "release.yml"] {
        let workflow = workflow(name);
        let mut count = 0;
        for (_, job) in workflow["jobs"].as_mapping().unwrap() {
            for step in job["steps"].as_sequence().unwrap() {
                if let Some(uses) = step["uses"].as_str() {
                    count += 1;
                    assert!(
                        pinned(uses),
                        "{name}: {uses} is not pinned to vX.Y.Z or a commit"
                    );
                }
            }
        }
        assert!(count > 0, "{name} uses no action");
    }
    assert!(pinned("actions/checkout@v4.2.2"));
    assert!(pinned(
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    ));
    assert!(!pinned("actions/checkout@v4"));
    assert!(!pinned("actions/checkout@main"));
}
