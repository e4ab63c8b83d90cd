//! OCI image references, as far as the binary version needs them.
//!
//! `[registry[:port]/]path[:tag][@algorithm:digest]`. Hand-written rather than
//! `oci_spec::distribution::Reference`: that parser compiles a large regex on
//! first use, which policy-server pays on every admission request because it
//! instantiates the module afresh each time (~48 ms per request measured on a
//! peer policy). Only the tag matters here, and finding it is a few byte scans.

use std::fmt;

use crate::model::version::leading_version;
use crate::text::quote;

/// A borrowed view of an image reference. Parsing never fails: the API server
/// does not validate image strings, and an odd one just has no usable tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageReference<'a> {
    /// Registry and repository path, without tag or digest.
    pub name: &'a str,
    pub tag: Option<&'a str>,
    /// `algorithm:hex` after the `@`, any algorithm (`sha256`, `sha512`, …).
    pub digest: Option<&'a str>,
}

impl<'a> ImageReference<'a> {
    pub fn parse(reference: &'a str) -> Self {
        let (name_and_tag, digest) = match reference.split_once('@') {
            Some((before, digest)) => (before, Some(digest)),
            None => (reference, None),
        };
        // The tag follows the last ':' after the last '/': in
        // `localhost:5000/documentdb` the ':' belongs to the registry's port.
        let path_start = name_and_tag.rfind('/').map_or(0, |slash| slash + 1);
        let (name, tag) = match name_and_tag[path_start..].rfind(':') {
            Some(colon) => {
                let colon = path_start + colon;
                (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
            }
            None => (name_and_tag, None),
        };
        ImageReference { name, tag, digest }
    }

    /// The binary version the tag names, or why it names none.
    pub fn tag_version(&self) -> Result<&'a str, UnversionedImage<'a>> {
        match (self.tag, self.digest) {
            (Some(tag), _) => leading_version(tag).ok_or(UnversionedImage::TagWithoutVersion(tag)),
            (None, Some(_)) => Err(UnversionedImage::DigestOnly),
            (None, None) => Err(UnversionedImage::NoTag),
        }
    }
}

/// Why an image reference gives no binary version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnversionedImage<'a> {
    TagWithoutVersion(&'a str),
    DigestOnly,
    NoTag,
}

impl fmt::Display for UnversionedImage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnversionedImage::TagWithoutVersion(tag) => {
                write!(f, "the image tag {} does not start with X.Y.Z", quote(tag))
            }
            UnversionedImage::DigestOnly => f.write_str("the image is pinned by digest only"),
            UnversionedImage::NoTag => f.write_str("the image reference has no tag"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[rstest]
    #[case::registry_path_tag(
        "ghcr.io/documentdb/documentdb-kubernetes-operator/documentdb:0.110.0",
        "ghcr.io/documentdb/documentdb-kubernetes-operator/documentdb",
        Some("0.110.0"),
        None
    )]
    #[case::port_and_tag(
        "localhost:5000/documentdb:0.112.0",
        "localhost:5000/documentdb",
        Some("0.112.0"),
        None
    )]
    #[case::port_no_tag("localhost:5000/documentdb", "localhost:5000/documentdb", None, None)]
    #[case::bare_name("documentdb", "documentdb", None, None)]
    #[case::bare_name_tag("documentdb:latest", "documentdb", Some("latest"), None)]
    #[case::digest_only(
        "ghcr.io/documentdb/documentdb@sha256:abc123",
        "ghcr.io/documentdb/documentdb",
        None,
        Some("sha256:abc123")
    )]
    #[case::tag_and_digest("repo:0.110.0@sha256:abc", "repo", Some("0.110.0"), Some("sha256:abc"))]
    #[case::sha512("repo@sha512:abc", "repo", None, Some("sha512:abc"))]
    #[case::port_tag_digest(
        "reg:443/a/b:0.1.2@sha256:ff",
        "reg:443/a/b",
        Some("0.1.2"),
        Some("sha256:ff")
    )]
    #[case::empty_tag("repo:", "repo", Some(""), None)]
    fn splits_references(
        #[case] reference: &str,
        #[case] name: &str,
        #[case] tag: Option<&str>,
        #[case] digest: Option<&str>,
    ) {
        assert_eq!(
            ImageReference::parse(reference),
            ImageReference { name, tag, digest }
        );
    }

    #[rstest]
    #[case::clean("ghcr.io/documentdb/documentdb:0.112.0", Ok("0.112.0"))]
    #[case::arch_suffix("ghcr.io/documentdb/documentdb:0.112.0-amd64", Ok("0.112.0"))]
    #[case::port("localhost:5000/documentdb:0.112.0", Ok("0.112.0"))]
    #[case::tag_wins_over_digest(&format!("repo:0.110.0@{DIGEST}"), Ok("0.110.0"))]
    #[case::latest(
        "ghcr.io/documentdb/documentdb:latest",
        Err(UnversionedImage::TagWithoutVersion("latest"))
    )]
    #[case::digest_only(&format!("repo@{DIGEST}"), Err(UnversionedImage::DigestOnly))]
    #[case::sha512_digest_only("repo@sha512:abc", Err(UnversionedImage::DigestOnly))]
    #[case::port_no_tag("localhost:5000/documentdb", Err(UnversionedImage::NoTag))]
    fn finds_the_tag_version(
        #[case] reference: &str,
        #[case] expected: Result<&str, UnversionedImage>,
    ) {
        assert_eq!(ImageReference::parse(reference).tag_version(), expected);
    }

    #[rstest]
    #[case::tag(
        UnversionedImage::TagWithoutVersion("latest"),
        "the image tag \"latest\" does not start with X.Y.Z"
    )]
    #[case::digest(UnversionedImage::DigestOnly, "the image is pinned by digest only")]
    #[case::no_tag(UnversionedImage::NoTag, "the image reference has no tag")]
    fn explains_why_there_is_no_version(#[case] why: UnversionedImage, #[case] text: &str) {
        assert_eq!(why.to_string(), text);
    }

    #[test]
    fn a_megabyte_tag_is_quoted_short() {
        let reference = format!("repo:{}", "x".repeat(1 << 20));
        let why = ImageReference::parse(&reference).tag_version().unwrap_err();
        assert!(why.to_string().len() < 200);
    }
}
