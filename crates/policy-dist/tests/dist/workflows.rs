//! The GitHub workflows cannot run here: their structure is checked instead.
//! The release runs on v* tags: version check and tests, the e2e table through
//! kwctl, then a --locked build, annotate, SBOM with its cosign bundle, push,
//! keyless cosign signature, GitHub release with Kubewarden's asset names, and
//! the tag's Artifact Hub package on the `artifacthub` branch; CI runs the
//! README's test command, and the kwctl e2e table on pull requests; every
//! action is pinned.

use std::process::Command;

use serde_yaml::Value;

use crate::common::{TempDir, read_text, repo_file};

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
    // Nothing is published before the tests, the kwctl e2e table included.
    let needs = |job: &str| -> Vec<String> {
        serde_yaml::from_value(release["jobs"][job]["needs"].clone())
            .unwrap_or_else(|_| panic!("job {job} needs nothing"))
    };
    assert_eq!(needs("release"), ["test", "e2e-kwctl"]);
    assert_eq!(needs("artifacthub"), ["release"]);
    let test = steps(&release, "test");
    assert!(position(test, "check-version") < position(test, "make test"));
    let e2e = steps(&release, "e2e-kwctl");
    assert!(
        position(e2e, "kubewarden/github-actions/kwctl-installer@")
            < position(e2e, "make e2e-tests E2E_ENGINE=kwctl")
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
        "--locked policy.wasm annotated-policy.wasm",
        "sigstore/cosign-installer@",
        "make sbom",
        "cosign sign-blob --yes --bundle policy-sbom.spdx.jsonl.bundle.sigstore policy-sbom.spdx.json",
        "make --no-print-directory -s push",
        "cosign sign --yes",
        "make CARGO_GLOBAL_OPTIONS=--locked checker-package",
        "gh release create",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(steps, n)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "steps out of order: {order:?} at {positions:?}"
    );
    // The keyless signature is checked against this workflow's identity.
    let sign = steps[position(steps, "cosign sign --yes")]["run"]
        .as_str()
        .unwrap();
    assert!(sign.contains("--certificate-oidc-issuer https://token.actions.githubusercontent.com"));
    assert!(sign.contains(".github/workflows/release.yml@$GITHUB_REF"));
    // The Makefile targets the workflow calls exist.
    let makefile = read_text("Makefile");
    for target in [
        "test:",
        "policy.wasm:",
        "annotated-policy.wasm:",
        "push:",
        "sbom:",
        "artifacthub:",
        "e2e-tests:",
        "checker-package:",
    ] {
        assert!(
            makefile.lines().any(|l| l.starts_with(target)),
            "Makefile has no {target} target"
        );
    }
}

/// The release's assets: Kubewarden's names, and what the Artifact Hub
/// package links to is among them.
#[test]
fn the_release_uploads_what_the_artifacthub_package_links() {
    let release = workflow("release.yml");
    let steps = steps(&release, "release");
    let upload = steps[position(steps, "gh release create")]["run"]
        .as_str()
        .unwrap();
    let assets: Vec<&str> = upload
        .split_whitespace()
        .skip(4) // gh release create "$GITHUB_REF_NAME"
        .take_while(|word| !word.starts_with("--"))
        .collect();
    assert_eq!(
        assets,
        [
            "policy.wasm",
            "policy-sbom.spdx.json",
            "policy-sbom.spdx.jsonl.bundle.sigstore",
            "\"target/documentdb-upgrade-check-${GITHUB_REF_NAME#v}.tgz\"",
        ]
    );
    // action.yml installs the checker from this asset of the release it is used at.
    let action = read_text("action/run.sh");
    assert!(action.contains("readonly NAME=documentdb-upgrade-check\n"));
    assert!(action.contains("/releases/download/v$version/$NAME-$version.tgz\""));
    let package: Value = serde_yaml::from_str(&crate::metadata::generated_pkg_text()).unwrap();
    let version = cargo_version();
    let download = format!("/releases/download/v{version}/");
    let mut linked = 0;
    for link in package["links"].as_sequence().expect("links") {
        let url = link["url"].as_str().unwrap();
        if let Some((_, asset)) = url.split_once(&download) {
            assert!(
                assets.contains(&asset),
                "{url} links an asset the release does not upload"
            );
            linked += 1;
        }
    }
    assert_eq!(linked, 1, "the package links policy.wasm of its release");
}

#[test]
fn the_artifacthub_job_publishes_the_tag_s_package_on_its_branch() {
    let release = workflow("release.yml");
    assert_eq!(
        release["jobs"]["artifacthub"]["permissions"]["contents"],
        "write"
    );
    let steps = steps(&release, "artifacthub");
    assert!(
        position(steps, "make artifacthub") < position(steps, "scripts/publish-artifacthub.sh")
    );
    let check = steps[position(steps, "check-version")]["run"]
        .as_str()
        .unwrap();
    assert!(check.contains("--artifacthub-path artifacthub/artifacthub-pkg.yml"));
    let publish = steps[position(steps, "scripts/publish-artifacthub.sh")]["run"]
        .as_str()
        .unwrap();
    assert!(publish.contains("git -C ../artifacthub-branch push origin artifacthub"));
}

/// scripts/publish-artifacthub.sh lays out the branch Artifact Hub reads and
/// refuses a package of another version or a rewrite of a published one.
#[test]
fn publish_artifacthub_lays_out_one_folder_per_version() {
    let dir = TempDir::new("artifacthub-branch");
    let version = cargo_version();
    let package = dir.0.join("artifacthub-pkg.yml");
    std::fs::write(&package, crate::metadata::generated_pkg_text()).unwrap();
    let branch = dir.0.join("branch");
    std::fs::create_dir(&branch).unwrap();
    let publish = |version: &str| {
        Command::new("bash")
            .arg(repo_file("scripts/publish-artifacthub.sh"))
            .arg(&package)
            .arg(version)
            .arg(&branch)
            .output()
            .unwrap()
    };
    let output = publish(&version);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(branch.join(&version).join("artifacthub-pkg.yml")).unwrap(),
        crate::metadata::generated_pkg_text()
    );
    assert_eq!(
        std::fs::read(branch.join(&version).join("README.md")).unwrap(),
        std::fs::read(repo_file("README.md")).unwrap()
    );
    assert_eq!(
        std::fs::read(branch.join("artifacthub-repo.yml")).unwrap(),
        std::fs::read(repo_file("artifacthub/artifacthub-repo.yml")).unwrap()
    );
    // Publishing the same again is a no-op; another version's package is refused.
    assert!(publish(&version).status.success());
    let output = publish("9.9.9");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "{} is for version {version}, not 9.9.9: run make artifacthub on the tag\n",
            package.display()
        )
    );
    // A published version is never rewritten.
    std::fs::write(
        branch.join(&version).join("artifacthub-pkg.yml"),
        "version: 0.0.0\n",
    )
    .unwrap();
    let output = publish(&version);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is already published"));
}

#[test]
fn release_checks_the_version_in_the_repository_files() {
    let release = workflow("release.yml");
    let steps = steps(&release, "test");
    let check = steps[position(steps, "check-version")]["run"]
        .as_str()
        .unwrap();
    assert!(check.contains("--tag \"$GITHUB_REF_NAME\""), "{check}");
    let mut args: Vec<String> = Vec::new();
    for (flag, file) in [
        ("--manifest-path", "Cargo.toml"),
        ("--metadata-path", "policy-metadata/metadata.yml"),
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
            "v{version}: tag v{version}, {} and {} agree\n",
            args[1], args[3]
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

/// "policy-runner answers like kwctl" is checked against kwctl on every pull
/// request: the same e2e table, through kwctl installed by Kubewarden's action.
#[test]
fn pull_requests_run_the_e2e_table_through_kwctl() {
    let ci = workflow("ci.yml");
    let job = &ci["jobs"]["e2e-kwctl"];
    assert_eq!(job["if"], "github.event_name == 'pull_request'");
    let steps = steps(&ci, "e2e-kwctl");
    assert!(
        position(steps, "kubewarden/github-actions/kwctl-installer@")
            < position(steps, "make e2e-tests E2E_ENGINE=kwctl")
    );
    // With E2E_ENGINE=kwctl the table refuses to fall back to policy-runner
    // (e2e/release.bats runs that case).
    assert!(read_text("e2e/helpers.bash").contains("E2E_ENGINE=kwctl but kwctl is not on PATH"));
}

/// The repository's GitHub Action runs on GitHub too, on the checker packed
/// from the same commit: once allowed, once denied (the step must fail).
#[test]
fn ci_runs_the_repository_action_on_the_packed_checker() {
    let ci = workflow("ci.yml");
    let steps = steps(&ci, "action");
    let pack = position(steps, "make checker-package");
    let local: Vec<&Value> = steps.iter().filter(|s| s["uses"] == "./").collect();
    assert_eq!(local.len(), 2);
    for step in &local {
        assert_eq!(step["with"]["package"], "${{ steps.package.outputs.path }}");
        assert!(step["with"]["manifests"].as_str().is_some());
    }
    assert!(pack < steps.iter().position(|s| s["uses"] == "./").unwrap());
    assert_eq!(local[1]["continue-on-error"], true);
    let outcome = steps.last().unwrap();
    assert_eq!(outcome["env"]["OUTCOME"], "${{ steps.rollback.outcome }}");
    assert_eq!(outcome["run"], "test \"$OUTCOME\" = failure");
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
                    if uses == "./" {
                        continue; // this repository's action.yml, at the same commit
                    }
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
