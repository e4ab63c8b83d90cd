//! `scaffold artifacthub`: the `artifacthub-pkg.yml` that `kwctl scaffold
//! artifacthub` writes (kubewarden-controller
//! `crates/policy-evaluator/src/policy_artifacthub.rs` and
//! `crates/kwctl/src/scaffold/artifacthub.rs`): same fields, same order, same
//! derivations from the metadata, same errors. Only `createdAt` differs in
//! where it comes from: kwctl takes "now", here the caller chooses (the
//! committed file is regenerated reproducibly).

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::metadata::{self, Metadata};

/// kwctl's header, verbatim (trailing space included).
pub const HEADER: &str = "# Kubewarden Artifacthub Package config
#
# Use this config to submit the policy to https://artifacthub.io.
#
# This config can be saved to its default location with:
#   kwctl scaffold artifacthub > artifacthub-pkg.yml ";

pub const MUTATION: &str = "kubewarden/mutation";
pub const CONTEXT_AWARE_RESOURCES: &str = "kubewarden/contextAwareResources";
pub const RESOURCES: &str = "kubewarden/resources";
pub const HIDDEN_UI: &str = "kubewarden/hidden-ui";
pub const RULES: &str = "kubewarden/rules";
pub const QUESTIONS_UI: &str = "kubewarden/questions-ui";

pub const KUBEWARDEN_CONTROLLER_URL: &str =
    "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactHubPkg {
    pub version: String,
    pub name: String,
    pub display_name: String,
    pub created_at: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(rename = "homeURL", default, skip_serializing_if = "Option::is_none")]
    pub home_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers_images: Option<Vec<ContainerImage>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainers: Option<Vec<Maintainer>>,
    pub provider: Provider,
    pub recommendations: Vec<Recommendation>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerImage {
    pub name: String,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub url: String,
}

impl ArtifactHubPkg {
    pub fn from_metadata(
        metadata: &Metadata,
        created_at: DateTime<Utc>,
        questions: Option<&str>,
    ) -> Result<ArtifactHubPkg> {
        let annots = metadata
            .annotations
            .as_ref()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                anyhow!(
                    "no annotations in policy metadata. policy metadata must specify annotations"
                )
            })?;
        let version = metadata.version()?;
        if questions.is_some_and(str::is_empty) {
            bail!("questions-ui content cannot be empty");
        }
        let required = |key: &str| {
            annots
                .get(key)
                .cloned()
                .ok_or_else(|| anyhow!("policy metadata must specify \"{key}\" in annotations"))
        };
        let oci_url = format!("{}:v{version}", required(metadata::OCI_URL)?);
        let image = oci_client::Reference::from_str(&oci_url)
            .map_err(|e| anyhow!("annotation \"{}\" is malformed: {e}", metadata::OCI_URL))?
            .to_string();

        Ok(ArtifactHubPkg {
            version: version.to_string(),
            name: required(metadata::TITLE)?,
            display_name: required(metadata::ARTIFACTHUB_DISPLAY_NAME)?,
            created_at: created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            description: required(metadata::DESCRIPTION)?,
            license: annots.get(metadata::LICENSE).cloned(),
            home_url: annots
                .get(metadata::URL)
                .map(|u| parse_url(metadata::URL, u).map(String::from))
                .transpose()?,
            containers_images: Some(vec![ContainerImage {
                name: "policy".to_owned(),
                image: image.clone(),
            }]),
            keywords: annots
                .get(metadata::ARTIFACTHUB_KEYWORDS)
                .map(|csv| parse_keywords(csv))
                .transpose()?,
            links: annots
                .get(metadata::SOURCE)
                .map(|source| {
                    links(
                        source,
                        &version,
                        annots.get(metadata::GITHUB_RELEASE_TAG).map(String::as_str),
                    )
                })
                .transpose()?,
            install: Some(install_instructions(&image)),
            maintainers: annots
                .get(metadata::AUTHOR)
                .map(|a| parse_maintainers(a))
                .transpose()?,
            provider: Provider {
                name: "kubewarden".to_owned(),
            },
            recommendations: vec![Recommendation {
                url: KUBEWARDEN_CONTROLLER_URL.to_owned(),
            }],
            annotations: package_annotations(metadata, annots, questions)?,
        })
    }

    /// The file as kwctl writes it: header comment, then the YAML document.
    pub fn to_file_content(&self) -> Result<String> {
        Ok(format!("{HEADER}\n{}", serde_yaml::to_string(self)?))
    }
}

fn parse_url(annotation: &str, text: &str) -> Result<Url> {
    Url::parse(text).map_err(|e| anyhow!("annotation \"{annotation}\" is malformed: {e}"))
}

fn parse_keywords(csv: &str) -> Result<Vec<String>> {
    let words: Vec<String> = csv
        .split(',')
        .map(|w| w.trim_matches(' ').to_owned())
        .collect();
    if words.iter().any(String::is_empty) {
        bail!(
            "annotation \"{}\" is not a well-formed comma-separated list",
            metadata::ARTIFACTHUB_KEYWORDS
        );
    }
    Ok(words)
}

/// A `policy.wasm` release asset link when the source is on GitHub, then the
/// source itself.
fn links(source: &str, version: &semver::Version, release_tag: Option<&str>) -> Result<Vec<Link>> {
    let source_url = parse_url(metadata::SOURCE, source)?;
    let mut links = Vec::new();
    if source_url.host_str() == Some("github.com") {
        let release = match release_tag {
            Some(tag) => url::form_urlencoded::byte_serialize(tag.as_bytes()).collect(),
            None => format!("v{version}"),
        };
        let asset = parse_url(
            metadata::SOURCE,
            &format!(
                "{}/releases/download/{release}/policy.wasm",
                source_url.as_str()
            ),
        )?;
        links.push(Link {
            name: "policy".to_owned(),
            url: asset.into(),
        });
    }
    links.push(Link {
        name: "source".to_owned(),
        url: source_url.into(),
    });
    Ok(links)
}

/// kwctl's install text, verbatim.
pub fn install_instructions(oci_url: &str) -> String {
    format!(
        r#"The policy can be obtained using [kwctl](https://docs.kubewarden.io/howtos/install-kwctl):
```console
kwctl pull {oci_url}
```
Then, generate the policy manifest and tune it to your liking. For example:
```console
kwctl scaffold manifest -t ClusterAdmissionPolicy registry://{oci_url}
```
"#
    )
}

/// An RFC 5322 address list (`Name <a@b.c>, "Other, Name" <d@e.f>, g@h.i`)
/// into maintainers, each email checked.
pub fn parse_maintainers(list: &str) -> Result<Vec<Maintainer>> {
    let malformed = || {
        anyhow!(
            "annotation \"{}\" is not a well-formed list of `Name <email>` addresses",
            metadata::AUTHOR
        )
    };
    let mut items = Vec::new();
    let (mut current, mut quoted, mut angle) = (String::new(), false, false);
    for c in list.chars() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if quoted || angle {
        return Err(malformed());
    }
    items.push(current);

    let mut maintainers = Vec::new();
    for item in items.iter().map(|i| i.trim()) {
        if item.is_empty() {
            return Err(malformed());
        }
        let (name, email) = match item.find('<') {
            Some(open) => {
                let close = item
                    .rfind('>')
                    .filter(|c| *c > open && *c == item.len() - 1);
                let close = close.ok_or_else(malformed)?;
                let name = item[..open].trim().trim_matches('"').trim();
                (name.to_owned(), item[open + 1..close].trim().to_owned())
            }
            None => (String::new(), item.to_owned()),
        };
        if !is_email(&email) {
            bail!(
                "annotation \"{}\": {email:?} is not a valid email address",
                metadata::AUTHOR
            );
        }
        maintainers.push(Maintainer { name, email });
    }
    Ok(maintainers)
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

fn package_annotations(
    metadata: &Metadata,
    annots: &BTreeMap<String, String>,
    questions: Option<&str>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    out.insert(MUTATION.to_owned(), metadata.mutating.to_string());
    if !metadata.context_aware_resources.is_empty() {
        out.insert(
            CONTEXT_AWARE_RESOURCES.to_owned(),
            serde_yaml::to_string(&metadata.context_aware_resources)?,
        );
    }
    out.insert(RULES.to_owned(), serde_yaml::to_string(&metadata.rules)?);
    if let Some(questions) = questions {
        out.insert(QUESTIONS_UI.to_owned(), questions.to_owned());
    }
    if let Some(hidden) = annots.get(metadata::HIDDEN_UI) {
        let hidden: bool = hidden.parse().map_err(|_| {
            anyhow!(
                "annotation \"{}\" must be \"true\" or \"false\"",
                metadata::HIDDEN_UI
            )
        })?;
        out.insert(HIDDEN_UI.to_owned(), hidden.to_string());
    }
    if let Some(resources) = annots.get(metadata::ARTIFACTHUB_RESOURCES) {
        out.insert(RESOURCES.to_owned(), resources.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(extra: &str) -> Metadata {
        Metadata::from_yaml(&format!(
            r#"
rules:
- apiGroups: ["documentdb.io"]
  apiVersions: ["preview"]
  resources: ["dbs"]
  operations: ["CREATE", "UPDATE"]
mutating: false
annotations:
  io.kubewarden.policy.title: t
  io.kubewarden.policy.version: 1.2.3
  io.kubewarden.policy.description: d
  io.artifacthub.displayName: T
  io.kubewarden.policy.ociUrl: ghcr.io/o/p
{extra}"#
        ))
        .unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn minimal_package() {
        let pkg = ArtifactHubPkg::from_metadata(&metadata(""), at(), None).unwrap();
        assert_eq!(pkg.version, "1.2.3");
        assert_eq!(pkg.created_at, "2023-11-14T22:13:20Z");
        assert_eq!(
            pkg.containers_images.as_ref().unwrap()[0].image,
            "ghcr.io/o/p:v1.2.3"
        );
        assert!(
            pkg.install
                .as_ref()
                .unwrap()
                .contains("kwctl pull ghcr.io/o/p:v1.2.3\n")
        );
        assert!(pkg.links.is_none() && pkg.maintainers.is_none() && pkg.keywords.is_none());
        assert_eq!(
            pkg.annotations.keys().collect::<Vec<_>>(),
            [MUTATION, RULES]
        );
        let text = pkg.to_file_content().unwrap();
        assert!(text.starts_with("# Kubewarden Artifacthub Package config\n"));
        let back: ArtifactHubPkg = serde_yaml::from_str(&text).expect("the file parses back");
        assert_eq!(back, pkg);
    }

    #[test]
    fn github_source_links_the_release_asset() {
        let m = metadata("  io.kubewarden.policy.source: https://github.com/o/p\n");
        let links = ArtifactHubPkg::from_metadata(&m, at(), None)
            .unwrap()
            .links
            .unwrap();
        assert_eq!(
            links,
            [
                Link {
                    name: "policy".into(),
                    url: "https://github.com/o/p/releases/download/v1.2.3/policy.wasm".into()
                },
                Link {
                    name: "source".into(),
                    url: "https://github.com/o/p".into()
                }
            ]
        );
        let m = metadata(
            "  io.kubewarden.policy.source: https://github.com/o/p\n  com.github.release.tag: p/v1.2.3\n",
        );
        let links = ArtifactHubPkg::from_metadata(&m, at(), None)
            .unwrap()
            .links
            .unwrap();
        assert_eq!(
            links[0].url,
            "https://github.com/o/p/releases/download/p%2Fv1.2.3/policy.wasm"
        );
        let m = metadata("  io.kubewarden.policy.source: https://gitlab.com/o/p\n");
        let links = ArtifactHubPkg::from_metadata(&m, at(), None)
            .unwrap()
            .links
            .unwrap();
        assert_eq!(links.len(), 1);
    }

    #[test]
    fn maintainers_are_rfc5322_addresses() {
        assert_eq!(
            parse_maintainers(r#"A B <a@b.io>, "C, D" <c@d.io>,e@f.io"#).unwrap(),
            [
                Maintainer {
                    name: "A B".into(),
                    email: "a@b.io".into()
                },
                Maintainer {
                    name: "C, D".into(),
                    email: "c@d.io".into()
                },
                Maintainer {
                    name: "".into(),
                    email: "e@f.io".into()
                },
            ]
        );
        for bad in [
            "A <not-an-email>",
            "A <a@b.io",
            "a@b.io,,c@d.io",
            "A B",
            "<a@b.io> x",
        ] {
            assert!(parse_maintainers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_what_kwctl_refuses() {
        let err = |m: &Metadata, q: Option<&str>| {
            ArtifactHubPkg::from_metadata(m, at(), q)
                .unwrap_err()
                .to_string()
        };
        let mut m = metadata("");
        assert!(err(&m, Some("")).contains("questions-ui"));
        m.annotations.as_mut().unwrap().remove(metadata::OCI_URL);
        assert!(err(&m, None).contains(metadata::OCI_URL));
        let m = metadata("  io.artifacthub.keywords: a, , b\n");
        assert!(err(&m, None).contains("comma-separated"));
        let m = metadata("  io.kubewarden.hidden-ui: yes\n");
        assert!(err(&m, None).contains("hidden-ui"));
        let m = metadata("  io.kubewarden.policy.url: not a url\n");
        assert!(err(&m, None).contains("malformed"));
        let mut m = metadata("");
        m.annotations = None;
        assert!(err(&m, None).contains("no annotations"));
    }

    #[test]
    fn optional_annotations_are_carried() {
        let m = metadata(
            "  io.kubewarden.hidden-ui: \"true\"\n  io.artifacthub.resources: DocumentDB\n",
        );
        let pkg = ArtifactHubPkg::from_metadata(&m, at(), Some("questions: []\n")).unwrap();
        assert_eq!(pkg.annotations[HIDDEN_UI], "true");
        assert_eq!(pkg.annotations[RESOURCES], "DocumentDB");
        assert_eq!(pkg.annotations[QUESTIONS_UI], "questions: []\n");
        assert_eq!(
            pkg.annotations[RULES],
            "- apiGroups:\n  - documentdb.io\n  apiVersions:\n  - preview\n  resources:\n  - dbs\n  operations:\n  - CREATE\n  - UPDATE\n"
        );
    }
}
