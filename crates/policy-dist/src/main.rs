//! `policy-dist`: the kwctl subcommands this project needs, for machines
//! without kwctl. Run `policy-dist --help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SubsecRound, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use policy_dist::annotate::{annotate, read_metadata};
use policy_dist::artifacthub::ArtifactHubPkg;
use policy_dist::manifest::{self, ManifestType};
use policy_dist::metadata::Metadata;
use policy_dist::registry::{Registry, Sources, parse_uri};
use policy_dist::sbom;
use policy_dist::signing::{self, VerificationConfig};

/// kwctl's annotate / scaffold / push / pull for this policy, where kwctl is absent.
///
/// <uri> is registry://<host>[:<port>]/<repository>(:<tag>|@sha256:<digest>).
/// Registry credentials: REGISTRY_USERNAME / REGISTRY_PASSWORD (anonymous otherwise).
#[derive(Debug, Parser)]
#[command(name = "policy-dist", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add the metadata (and a usage text) to a module, as `kwctl annotate`.
    Annotate(AnnotateArgs),
    /// Generate the Artifact Hub package or a policy manifest, as `kwctl scaffold`.
    #[command(subcommand)]
    Scaffold(Scaffold),
    /// Push an annotated module to a registry, as `kwctl push`.
    Push(PushArgs),
    /// Pull a module from a registry, as `kwctl pull`.
    Pull(PullArgs),
    /// Write cosign.key / cosign.pub (ECDSA P-256), as `cosign generate-key-pair`.
    /// The private key is encrypted with COSIGN_PASSWORD.
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Sign a pushed module with a cosign key, stored as cosign stores it
    /// (the sha256-<digest>.sig tag). Password: COSIGN_PASSWORD.
    Sign(SignArgs),
    /// Check a pushed module against a policy-server verification config
    /// (public keys; keyless requirements need `kwctl verify`).
    Verify(VerifyArgs),
    /// Sign a file with a cosign key (base64 signature, as `cosign sign-blob --key`).
    SignBlob(SignBlobArgs),
    /// Check a file's signature, as `cosign verify-blob --key --signature`.
    VerifyBlob(VerifyBlobArgs),
    /// SPDX JSON SBOM of the policy's runtime dependencies, from Cargo.lock.
    Sbom(SbomArgs),
    /// Check that a release tag, Cargo.toml, the metadata and the Artifact Hub
    /// package name the same version (the release workflow's first step).
    CheckVersion(CheckVersionArgs),
}

#[derive(Debug, Args)]
struct CheckVersionArgs {
    /// The git tag being released (v<version>).
    #[arg(long = "tag", value_name = "TAG")]
    tag: Option<String>,
    /// The policy's Cargo.toml.
    #[arg(
        long = "manifest-path",
        value_name = "PATH",
        default_value = "Cargo.toml"
    )]
    manifest_path: String,
    /// The metadata file.
    #[arg(
        short = 'm',
        long = "metadata-path",
        value_name = "PATH",
        default_value = "policy-metadata/metadata.yml"
    )]
    metadata_path: String,
    /// The Artifact Hub package, once `make artifacthub` has generated it for
    /// the tag (it is not kept on main).
    #[arg(long = "artifacthub-path", value_name = "PATH")]
    artifacthub_path: Option<String>,
}

#[derive(Debug, Args)]
struct GenerateKeyPairArgs {
    /// Writes <PREFIX>.key and <PREFIX>.pub.
    #[arg(
        long = "output-key-prefix",
        value_name = "PREFIX",
        default_value = "cosign"
    )]
    output_key_prefix: String,
}

/// `key=value`, as cosign's and kwctl's `-a`.
fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

#[derive(Debug, Args)]
struct SignArgs {
    #[command(flatten)]
    sources: SourcesArgs,
    /// The cosign private key (cosign.key).
    #[arg(long = "key", value_name = "PATH")]
    key: String,
    /// An annotation of the signature payload (repeatable).
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE", value_parser = key_value)]
    annotations: Vec<(String, String)>,
    /// The module, by tag or digest (signed by digest).
    uri: String,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("requirements").required(true).args(["verification_config_path", "verification_key"]))]
struct VerifyArgs {
    #[command(flatten)]
    sources: SourcesArgs,
    /// A verification config (policy-server's verificationConfig YAML).
    #[arg(long = "verification-config-path", value_name = "PATH", conflicts_with_all = ["verification_key", "verification_annotation"])]
    verification_config_path: Option<String>,
    /// A public key every accepted module must be signed with (repeatable).
    #[arg(short = 'k', long = "verification-key", value_name = "PATH")]
    verification_key: Vec<String>,
    /// An annotation the signatures must carry (with -k; repeatable).
    #[arg(short = 'a', long = "verification-annotation", value_name = "KEY=VALUE", value_parser = key_value)]
    verification_annotation: Vec<(String, String)>,
    /// A Sigstore ClientTrustConfig (JSON), as kwctl's flag: kwctl needs one
    /// offline; key-based verification here needs no trust root, so the file is
    /// only checked the way kwctl reads it.
    #[arg(long = "sigstore-trust-config", value_name = "PATH")]
    sigstore_trust_config: Option<String>,
    /// The module, by tag or digest.
    uri: String,
}

#[derive(Debug, Args)]
struct SignBlobArgs {
    /// The cosign private key (cosign.key).
    #[arg(long = "key", value_name = "PATH")]
    key: String,
    /// Where to write the base64 signature.
    #[arg(long = "output-signature", value_name = "PATH")]
    output_signature: String,
    /// The file to sign.
    blob: String,
}

#[derive(Debug, Args)]
struct VerifyBlobArgs {
    /// The public key (cosign.pub).
    #[arg(long = "key", value_name = "PATH")]
    key: String,
    /// The base64 signature file.
    #[arg(long = "signature", value_name = "PATH")]
    signature: String,
    /// The signed file.
    blob: String,
}

#[derive(Debug, Args)]
struct SbomArgs {
    /// The workspace's Cargo.toml.
    #[arg(
        long = "manifest-path",
        value_name = "PATH",
        default_value = "Cargo.toml"
    )]
    manifest_path: String,
    /// The crate compiled into the module.
    #[arg(
        short = 'p',
        long = "package",
        default_value = "documentdb-upgrade-safety"
    )]
    package: String,
    /// The module's target.
    #[arg(long = "target", default_value = "wasm32-wasip1")]
    target: String,
    /// creationInfo.created: RFC 3339 or @<unix seconds> [default: SOURCE_DATE_EPOCH, else now].
    #[arg(long = "created-at", value_name = "TIME")]
    created_at: Option<String>,
    /// Where to write the SBOM [default: stdout].
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: Option<String>,
}

#[derive(Debug, Args)]
struct AnnotateArgs {
    /// The metadata file (policy-metadata/metadata.yml).
    #[arg(short = 'm', long = "metadata-path", value_name = "PATH")]
    metadata_path: String,
    /// A Markdown usage text (the README).
    #[arg(short = 'u', long = "usage-path", value_name = "PATH")]
    usage_path: Option<String>,
    /// Where to write the annotated module.
    #[arg(short = 'o', long = "output-path", value_name = "PATH")]
    output_path: String,
    /// The module to annotate.
    wasm_path: String,
}

#[derive(Debug, Subcommand)]
enum Scaffold {
    /// The Artifact Hub package (artifacthub-pkg.yml).
    Artifacthub(ArtifacthubArgs),
    /// A ClusterAdmissionPolicy or AdmissionPolicy for the policy.
    Manifest(ManifestArgs),
}

#[derive(Debug, Args)]
struct ArtifacthubArgs {
    /// The metadata file [default: metadata.yml or metadata.yaml].
    #[arg(short = 'm', long = "metadata-path", value_name = "PATH")]
    metadata_path: Option<String>,
    /// The questions file [default: questions-ui.yml and variants].
    #[arg(short = 'q', long = "questions-path", value_name = "PATH")]
    questions_path: Option<String>,
    /// Where to write the package [default: stdout].
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: Option<String>,
    /// createdAt: RFC 3339 or @<unix seconds> [default: SOURCE_DATE_EPOCH, else now].
    #[arg(long = "created-at", value_name = "TIME")]
    created_at: Option<String>,
}

#[derive(Debug, Args)]
struct ManifestArgs {
    /// ClusterAdmissionPolicy or AdmissionPolicy.
    #[arg(short = 't', long = "type", value_name = "KIND")]
    kind: String,
    /// The metadata file.
    #[arg(
        short = 'm',
        long = "metadata-path",
        value_name = "PATH",
        conflicts_with = "policy"
    )]
    metadata_path: Option<String>,
    /// An annotated module to read the metadata from.
    #[arg(long = "policy", value_name = "PATH")]
    policy: Option<String>,
    /// The settings as JSON.
    #[arg(
        long = "settings-json",
        value_name = "JSON",
        conflicts_with = "settings_path"
    )]
    settings_json: Option<String>,
    /// A YAML/JSON settings file.
    #[arg(short = 's', long = "settings-path", value_name = "PATH")]
    settings_path: Option<String>,
    /// metadata.name of the resource.
    #[arg(long = "title", value_name = "NAME")]
    title: Option<String>,
    /// The policy URI.
    uri: String,
}

/// Where the registry is and how to reach it (kwctl's --sources-path).
#[derive(Debug, Args)]
struct SourcesArgs {
    /// A YAML file with `insecure_sources: ["host:port"]`.
    #[arg(long = "sources-path", value_name = "PATH")]
    sources_path: Option<String>,
    /// Treat the registry of <uri> as listed under insecure_sources (HTTPS,
    /// then HTTPS without certificate checks, then plain HTTP).
    #[arg(long = "insecure")]
    insecure: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct PushArgs {
    #[command(flatten)]
    sources: SourcesArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: OutputFormat,
    /// The annotated module.
    wasm_path: String,
    /// The destination URI.
    uri: String,
}

#[derive(Debug, Args)]
struct PullArgs {
    #[command(flatten)]
    sources: SourcesArgs,
    /// Where to write the module.
    #[arg(short = 'o', long = "output-path", value_name = "PATH")]
    output_path: String,
    /// The policy URI.
    uri: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Annotate(args) => cmd_annotate(&args),
        Command::Scaffold(Scaffold::Artifacthub(args)) => cmd_artifacthub(&args),
        Command::Scaffold(Scaffold::Manifest(args)) => cmd_manifest(&args),
        Command::Push(args) => cmd_push(&args),
        Command::Pull(args) => cmd_pull(&args),
        Command::GenerateKeyPair(args) => cmd_generate_key_pair(&args),
        Command::Sign(args) => cmd_sign(&args),
        Command::Verify(args) => cmd_verify(&args),
        Command::SignBlob(args) => cmd_sign_blob(&args),
        Command::VerifyBlob(args) => cmd_verify_blob(&args),
        Command::Sbom(args) => cmd_sbom(&args),
        Command::CheckVersion(args) => cmd_check_version(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
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

fn cmd_annotate(args: &AnnotateArgs) -> Result<()> {
    let metadata_path = &args.metadata_path;
    let metadata_yaml = std::fs::read_to_string(metadata_path)
        .with_context(|| format!("Error opening metadata file {metadata_path}"))?;
    let usage = args
        .usage_path
        .as_ref()
        .map(|u| {
            std::fs::read_to_string(u).with_context(|| format!("Error reading usage file {u}"))
        })
        .transpose()?;
    let annotated = annotate(&read(&args.wasm_path)?, &metadata_yaml, usage.as_deref())?;
    for warning in &annotated.warnings {
        eprintln!("warning: {warning}");
    }
    write_atomically(Path::new(&args.output_path), &annotated.module)
}

fn created_at(value: Option<&str>) -> Result<DateTime<Utc>> {
    let from_epoch = |text: &str| -> Result<DateTime<Utc>> {
        let secs: i64 = text
            .trim()
            .parse()
            .with_context(|| format!("{text:?} is not a number of seconds"))?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| anyhow!("{secs} is out of range"))
    };
    if let Some(value) = value {
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

fn cmd_artifacthub(args: &ArtifacthubArgs) -> Result<()> {
    let metadata_path = args
        .metadata_path
        .clone()
        .or_else(|| first_existing(&["metadata.yml", "metadata.yaml"]))
        .ok_or_else(|| {
            anyhow!("path to metadata file not provided, plus 'metadata.yml' not found")
        })?;
    let questions_path = args.questions_path.clone().or_else(|| {
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
    let content = ArtifactHubPkg::from_metadata(
        &metadata,
        created_at(args.created_at.as_deref())?,
        questions.as_deref(),
    )?
    .to_file_content()?;
    match &args.output {
        Some(output) => write_atomically(Path::new(output), content.as_bytes()),
        None => {
            println!("{content}");
            Ok(())
        }
    }
}

fn cmd_manifest(args: &ManifestArgs) -> Result<()> {
    let kind: ManifestType = args.kind.parse()?;
    let metadata = match (&args.metadata_path, &args.policy) {
        (Some(m), None) => Metadata::from_path(Path::new(m))?,
        (None, Some(wasm)) => read_metadata(&read(wasm)?)?.ok_or_else(|| {
            anyhow!("No Kubewarden metadata found inside of '{wasm}'.\nPolicies can be annotated with the `annotate` command.")
        })?,
        _ => bail!("give exactly one of -m <metadata.yml> or --policy <annotated.wasm>"),
    };
    let settings_text = match (&args.settings_json, &args.settings_path) {
        (Some(json), _) => json.to_owned(),
        (None, Some(path)) => String::from_utf8(read(path)?)?,
        (None, None) => "{}".to_owned(),
    };
    let settings: serde_yaml::Mapping =
        serde_yaml::from_str(&settings_text).context("the settings must be a JSON/YAML object")?;
    let uri = if args.uri.contains("://") {
        args.uri.clone()
    } else {
        format!("registry://{}", args.uri)
    };
    let resource = manifest::scaffold(&metadata, kind, &uri, settings, args.title.as_deref())?;
    print!("{}", serde_yaml::to_string(&resource)?);
    Ok(())
}

fn sources(args: &SourcesArgs, uri: &str) -> Result<Sources> {
    let mut sources = match &args.sources_path {
        Some(path) => Sources::from_path(Path::new(path))?,
        None => Sources::default(),
    };
    if args.insecure {
        sources
            .insecure_sources
            .insert(parse_uri(uri)?.resolve_registry().to_owned());
    }
    Ok(sources)
}

fn cmd_push(args: &PushArgs) -> Result<()> {
    let registry = Registry::new(sources(&args.sources, &args.uri)?)?;
    let immutable_ref = registry.push(&read(&args.wasm_path)?, &args.uri)?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::json!({ "immutable_ref": immutable_ref })),
        OutputFormat::Text => println!("Policy successfully pushed: {immutable_ref}"),
    }
    Ok(())
}

fn cmd_pull(args: &PullArgs) -> Result<()> {
    let registry = Registry::new(sources(&args.sources, &args.uri)?)?;
    let pulled = registry.pull(&args.uri)?;
    write_atomically(Path::new(&args.output_path), &pulled.module)?;
    println!(
        "Successfully pulled policy from {} (manifest {})",
        args.uri, pulled.digest
    );
    Ok(())
}

fn cmd_generate_key_pair(args: &GenerateKeyPairArgs) -> Result<()> {
    let private_path = format!("{}.key", args.output_key_prefix);
    let public_path = format!("{}.pub", args.output_key_prefix);
    for path in [&private_path, &public_path] {
        if Path::new(path).exists() {
            bail!("{path} already exists: remove it or choose another --output-key-prefix");
        }
    }
    let password = signing::password_from_env()?;
    let keys = signing::generate_key_pair(&password)?;
    write_atomically(Path::new(&private_path), keys.private_pem.as_bytes())?;
    println!("Private key written to {private_path}");
    write_atomically(Path::new(&public_path), keys.public_pem.as_bytes())?;
    println!("Public key written to {public_path}");
    Ok(())
}

fn signer(key_path: &str) -> Result<sigstore::crypto::SigStoreSigner> {
    let password = signing::password_from_env()?;
    signing::signer_from_pem(&read(key_path)?, &password).with_context(|| key_path.to_owned())
}

fn cmd_sign(args: &SignArgs) -> Result<()> {
    let signer = signer(&args.key)?;
    let registry = Registry::new(sources(&args.sources, &args.uri)?)?;
    let annotations = args.annotations.iter().cloned().collect();
    let signed = registry.sign(&args.uri, signer, &annotations)?;
    println!(
        "Signed {}: signature pushed to {} ({} signature(s) there)",
        signed.immutable_ref, signed.signature_ref, signed.signatures
    );
    Ok(())
}

fn cmd_verify(args: &VerifyArgs) -> Result<()> {
    if let Some(path) = &args.sigstore_trust_config {
        signing::check_trust_config(path, &read(path)?)?;
    }
    let config = match &args.verification_config_path {
        Some(path) => VerificationConfig::from_yaml(
            &std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?,
        )
        .with_context(|| path.clone())?,
        None => VerificationConfig::from_keys(
            args.verification_key
                .iter()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {path}"))
                        .map(|key| (path.clone(), key))
                })
                .collect::<Result<_>>()?,
            args.verification_annotation.iter().cloned().collect(),
        ),
    };
    let registry = Registry::new(sources(&args.sources, &args.uri)?)?;
    let verified = registry.verify(&args.uri, &config)?;
    println!(
        "Policy successfully verified: {} (signatures at {})",
        verified.immutable_ref, verified.signature_ref
    );
    for line in &verified.satisfied {
        println!("  satisfied {line}");
    }
    Ok(())
}

fn cmd_sign_blob(args: &SignBlobArgs) -> Result<()> {
    let signature = signing::sign_blob(&signer(&args.key)?, &read(&args.blob)?)?;
    write_atomically(Path::new(&args.output_signature), signature.as_bytes())?;
    println!(
        "Signature of {} written to {}",
        args.blob, args.output_signature
    );
    Ok(())
}

fn cmd_verify_blob(args: &VerifyBlobArgs) -> Result<()> {
    let signature = String::from_utf8(read(&args.signature)?)
        .with_context(|| format!("{} is not a base64 signature", args.signature))?;
    signing::verify_blob(&read(&args.key)?, &signature, &read(&args.blob)?)
        .with_context(|| format!("{} ({})", args.blob, args.signature))?;
    println!("Verified OK: {} signed by {}", args.blob, args.key);
    Ok(())
}

fn cmd_sbom(args: &SbomArgs) -> Result<()> {
    let tree = sbom::dependency_tree(Path::new(&args.manifest_path), &args.package, &args.target)?;
    let document = tree.to_spdx(
        created_at(args.created_at.as_deref())?,
        &format!("policy-dist-{}", env!("CARGO_PKG_VERSION")),
    );
    let text = serde_json::to_string_pretty(&document)? + "\n";
    match &args.output {
        Some(output) => {
            write_atomically(Path::new(output), text.as_bytes())?;
            println!("{output}: {} packages", tree.packages.len());
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn cmd_check_version(args: &CheckVersionArgs) -> Result<()> {
    let manifest: toml::Table = String::from_utf8(read(&args.manifest_path)?)?
        .parse()
        .with_context(|| format!("cannot parse {}", args.manifest_path))?;
    let version = manifest
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("{} has no [package] version", args.manifest_path))?
        .to_owned();
    let metadata = Metadata::from_path(Path::new(&args.metadata_path))?;
    let mut problems =
        policy_dist::consistency::metadata_version_disagreements(&version, &metadata);
    if let Some(path) = &args.artifacthub_path {
        let pkg: ArtifactHubPkg =
            serde_yaml::from_slice(&read(path)?).with_context(|| format!("cannot parse {path}"))?;
        problems.extend(policy_dist::consistency::package_version_disagreements(
            &version, &pkg,
        ));
    }
    if let Some(tag) = &args.tag
        && *tag != format!("v{version}")
    {
        problems.insert(
            0,
            format!("the tag is {tag}, Cargo.toml says {version} (tag v{version})"),
        );
    }
    if !problems.is_empty() {
        bail!("the version disagrees:\n  {}", problems.join("\n  "));
    }
    let mut places = vec![args.manifest_path.as_str(), args.metadata_path.as_str()];
    places.extend(args.artifacthub_path.as_deref());
    let last = places.pop().unwrap_or_default();
    println!(
        "v{version}: {}{} and {last} agree",
        args.tag
            .as_ref()
            .map(|t| format!("tag {t}, "))
            .unwrap_or_default(),
        places.join(", "),
    );
    Ok(())
}
