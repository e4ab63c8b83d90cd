//! `policy-dist`: the kwctl subcommands this project needs, for machines
//! without kwctl. Run `policy-dist help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SubsecRound, Utc};
use policy_dist::annotate::{annotate, read_metadata};
use policy_dist::artifacthub::ArtifactHubPkg;
use policy_dist::manifest::{self, ManifestType};
use policy_dist::metadata::Metadata;
use policy_dist::registry::{Registry, Sources, parse_uri};

const USAGE: &str = "\
policy-dist: kwctl's annotate / scaffold / push / pull for this policy, where kwctl is absent

USAGE:
  policy-dist annotate -m <metadata.yml> [-u <README.md>] -o <annotated.wasm> <policy.wasm>
  policy-dist scaffold artifacthub [-m <metadata.yml>] [-q <questions-ui.yml>] [-o <file>]
                                   [--created-at <RFC3339 | @unix-seconds>]
  policy-dist scaffold manifest -t <ClusterAdmissionPolicy|AdmissionPolicy>
                                (-m <metadata.yml> | --policy <annotated.wasm>)
                                [--settings-json <json> | -s <settings.yml>] [--title <name>] <uri>
  policy-dist push [--sources-path <sources.yml>] [--insecure] [-o text|json] <annotated.wasm> <uri>
  policy-dist pull [--sources-path <sources.yml>] [--insecure] -o <file> <uri>

<uri> is registry://<host>[:<port>]/<repository>(:<tag>|@sha256:<digest>).
createdAt defaults to SOURCE_DATE_EPOCH when set, else now.
--insecure treats the registry of <uri> as listed under insecure_sources
(HTTPS, then HTTPS without certificate checks, then plain HTTP).
Registry credentials: REGISTRY_USERNAME / REGISTRY_PASSWORD (anonymous otherwise).
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("annotate") => cmd_annotate(&Parsed::parse(
            &args[1..],
            &[
                "-m",
                "--metadata-path",
                "-u",
                "--usage-path",
                "-o",
                "--output-path",
            ],
            &[],
        )?),
        Some("scaffold") => match args.get(1).map(String::as_str) {
            Some("artifacthub") => cmd_artifacthub(&Parsed::parse(
                &args[2..],
                &[
                    "-m",
                    "--metadata-path",
                    "-q",
                    "--questions-path",
                    "-o",
                    "--output",
                    "--created-at",
                ],
                &[],
            )?),
            Some("manifest") => cmd_manifest(&Parsed::parse(
                &args[2..],
                &[
                    "-t",
                    "--type",
                    "-m",
                    "--metadata-path",
                    "--policy",
                    "--settings-json",
                    "-s",
                    "--settings-path",
                    "--title",
                ],
                &[],
            )?),
            _ => bail!("scaffold what? (artifacthub or manifest)\n\n{USAGE}"),
        },
        Some("push") => cmd_push(&Parsed::parse(
            &args[1..],
            &["--sources-path", "-o", "--output"],
            &["--insecure"],
        )?),
        Some("pull") => cmd_pull(&Parsed::parse(
            &args[1..],
            &["--sources-path", "-o", "--output-path"],
            &["--insecure"],
        )?),
        Some("help" | "-h" | "--help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some("--version" | "-V") => {
            println!("policy-dist {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// Flags with values, boolean flags, positionals. Short and long spellings of
/// a flag are given together; `get` takes any of them.
struct Parsed {
    values: Vec<(String, String)>,
    switches: Vec<String>,
    positionals: Vec<String>,
}

impl Parsed {
    fn parse(args: &[String], with_value: &[&str], switches: &[&str]) -> Result<Parsed> {
        let mut parsed = Parsed {
            values: Vec::new(),
            switches: Vec::new(),
            positionals: Vec::new(),
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            if with_value.contains(&flag) {
                let value = match inline {
                    Some(v) => v,
                    None => iter
                        .next()
                        .cloned()
                        .ok_or_else(|| anyhow!("{flag} needs a value"))?,
                };
                parsed.values.push((flag.to_owned(), value));
            } else if switches.contains(&flag) && inline.is_none() {
                parsed.switches.push(flag.to_owned());
            } else if flag.starts_with('-') && flag.len() > 1 {
                bail!("unknown option {arg}\n\n{USAGE}");
            } else {
                parsed.positionals.push(arg.clone());
            }
        }
        Ok(parsed)
    }

    fn get(&self, names: &[&str]) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(f, _)| names.contains(&f.as_str()))
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, names: &[&str]) -> Result<&str> {
        self.get(names)
            .ok_or_else(|| anyhow!("missing {}", names.join(" / ")))
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    fn positional(&self, index: usize, what: &str, count: usize) -> Result<&str> {
        if self.positionals.len() != count {
            bail!(
                "expected {count} positional argument(s), got {:?}\n\n{USAGE}",
                self.positionals
            );
        }
        self.positionals
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("missing {what}"))
    }
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {path}"))
}

/// Writes through a temporary file in the same directory: concurrent
/// builds never see a half-written module.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn cmd_annotate(p: &Parsed) -> Result<()> {
    let wasm_path = p.positional(0, "the module to annotate", 1)?;
    let metadata_path = p.require(&["-m", "--metadata-path"])?;
    let output = p.require(&["-o", "--output-path"])?;
    let metadata_yaml = std::fs::read_to_string(metadata_path)
        .with_context(|| format!("Error opening metadata file {metadata_path}"))?;
    let usage = p
        .get(&["-u", "--usage-path"])
        .map(|u| {
            std::fs::read_to_string(u).with_context(|| format!("Error reading usage file {u}"))
        })
        .transpose()?;
    let annotated = annotate(&read(wasm_path)?, &metadata_yaml, usage.as_deref())?;
    for warning in &annotated.warnings {
        eprintln!("warning: {warning}");
    }
    write_atomically(Path::new(output), &annotated.module)
}

fn created_at(p: &Parsed) -> Result<DateTime<Utc>> {
    let from_epoch = |text: &str| -> Result<DateTime<Utc>> {
        let secs: i64 = text
            .trim()
            .parse()
            .with_context(|| format!("{text:?} is not a number of seconds"))?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| anyhow!("{secs} is out of range"))
    };
    if let Some(value) = p.get(&["--created-at"]) {
        return match value.strip_prefix('@') {
            Some(epoch) => from_epoch(epoch),
            None => Ok(DateTime::parse_from_rfc3339(value)
                .with_context(|| format!("--created-at {value:?} is not RFC 3339"))?
                .with_timezone(&Utc)),
        };
    }
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) if !epoch.is_empty() => from_epoch(&epoch).context("SOURCE_DATE_EPOCH"),
        // kwctl writes nanoseconds; whole seconds read better in a committed file.
        _ => Ok(Utc::now().trunc_subsecs(0)),
    }
}

/// kwctl's defaults: `metadata.yml` / `questions-ui.yml` in the current directory.
fn first_existing(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|c| Path::new(c).is_file())
        .map(|c| c.to_string())
}

fn cmd_artifacthub(p: &Parsed) -> Result<()> {
    if !p.positionals.is_empty() {
        bail!("scaffold artifacthub takes no positional argument\n\n{USAGE}");
    }
    let metadata_path = p
        .get(&["-m", "--metadata-path"])
        .map(str::to_owned)
        .or_else(|| first_existing(&["metadata.yml", "metadata.yaml"]))
        .ok_or_else(|| {
            anyhow!("path to metadata file not provided, plus 'metadata.yml' not found")
        })?;
    let questions_path = p
        .get(&["-q", "--questions-path"])
        .map(str::to_owned)
        .or_else(|| {
            first_existing(&[
                "questions-ui.yml",
                "questions-ui.yaml",
                "questions.yml",
                "questions.yaml",
            ])
        });
    let metadata = Metadata::from_path(Path::new(&metadata_path))?;
    let questions = questions_path
        .map(|q| {
            std::fs::read_to_string(&q).with_context(|| format!("Error reading questions file {q}"))
        })
        .transpose()?;
    let content = ArtifactHubPkg::from_metadata(&metadata, created_at(p)?, questions.as_deref())?
        .to_file_content()?;
    match p.get(&["-o", "--output"]) {
        Some(output) => write_atomically(Path::new(output), content.as_bytes()),
        None => {
            println!("{content}");
            Ok(())
        }
    }
}

fn cmd_manifest(p: &Parsed) -> Result<()> {
    let uri = p.positional(0, "the policy URI", 1)?;
    let kind: ManifestType = p.require(&["-t", "--type"])?.parse()?;
    let metadata = match (p.get(&["-m", "--metadata-path"]), p.get(&["--policy"])) {
        (Some(m), None) => Metadata::from_path(Path::new(m))?,
        (None, Some(wasm)) => read_metadata(&read(wasm)?)?.ok_or_else(|| {
            anyhow!("No Kubewarden metadata found inside of '{wasm}'.\nPolicies can be annotated with the `annotate` command.")
        })?,
        _ => bail!("give exactly one of -m <metadata.yml> or --policy <annotated.wasm>"),
    };
    let settings_text = match (
        p.get(&["--settings-json"]),
        p.get(&["-s", "--settings-path"]),
    ) {
        (Some(json), None) => json.to_owned(),
        (None, Some(path)) => String::from_utf8(read(path)?)?,
        (None, None) => "{}".to_owned(),
        _ => bail!("--settings-json and --settings-path are mutually exclusive"),
    };
    let settings: serde_yaml::Mapping =
        serde_yaml::from_str(&settings_text).context("the settings must be a JSON/YAML object")?;
    let uri = if uri.contains("://") {
        uri.to_owned()
    } else {
        format!("registry://{uri}")
    };
    let resource = manifest::scaffold(&metadata, kind, &uri, settings, p.get(&["--title"]))?;
    print!("{}", serde_yaml::to_string(&resource)?);
    Ok(())
}

fn sources(p: &Parsed, uri: &str) -> Result<Sources> {
    let mut sources = match p.get(&["--sources-path"]) {
        Some(path) => Sources::from_path(Path::new(path))?,
        None => Sources::default(),
    };
    if p.switch("--insecure") {
        sources
            .insecure_sources
            .insert(parse_uri(uri)?.resolve_registry().to_owned());
    }
    Ok(sources)
}

fn cmd_push(p: &Parsed) -> Result<()> {
    let wasm = p.positional(0, "the annotated module", 2)?;
    let uri = p.positional(1, "the destination URI", 2)?;
    let registry = Registry::new(sources(p, uri)?)?;
    let immutable_ref = registry.push(&read(wasm)?, uri)?;
    match p.get(&["-o", "--output"]).unwrap_or("text") {
        "json" => println!("{}", serde_json::json!({ "immutable_ref": immutable_ref })),
        "text" => println!("Policy successfully pushed: {immutable_ref}"),
        other => bail!("unknown output format {other:?} (text or json)"),
    }
    Ok(())
}

fn cmd_pull(p: &Parsed) -> Result<()> {
    let uri = p.positional(0, "the policy URI", 1)?;
    let output = p.require(&["-o", "--output-path"])?;
    let registry = Registry::new(sources(p, uri)?)?;
    let pulled = registry.pull(uri)?;
    write_atomically(Path::new(output), &pulled.module)?;
    println!(
        "Successfully pulled policy from {uri} (manifest {})",
        pulled.digest
    );
    Ok(())
}
