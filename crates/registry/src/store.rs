//! What the CLI works with: [`ImageRef`], the parsed image argument (a registry reference or an
//! `oci:` layout), and [`Store`], one repository of a registry or one layout directory behind
//! the same small async interface (manifests, blobs, tags and OCI 1.1 referrers).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use signet_oci::{Descriptor, Digest, Reference};

use crate::client::{FetchedManifest, ManifestHead, RegistryClient, Repo};
use crate::layout::{KIND_ANNOTATION, KIND_ATTS, KIND_SIGS, OciLayout};
use crate::{Error, referrers};

/// Transports other tools (skopeo, podman) accept that signet does not.
const UNSUPPORTED_TRANSPORTS: &[&str] = &[
    "dir",
    "docker-archive",
    "docker-daemon",
    "oci-archive",
    "containers-storage",
    "ostree",
    "sif",
    "tarball",
    "atomic",
];

/// A parsed image argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// An image in a registry.
    Registry(Reference),
    /// An image in an OCI layout directory.
    Layout {
        /// The directory.
        path: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name`), if given.
        tag: Option<String>,
        /// The manifest digest, if given.
        digest: Option<Digest>,
    },
}

impl ImageRef {
    /// Parses the CLI's image argument: `oci:PATH`, `oci:PATH:TAG` or `oci:PATH@sha256:…` for a
    /// layout (the last `:` separates a tag only if what follows is a valid tag); an optional
    /// `docker://` prefix; other skopeo transports (`dir:`, `docker-archive:`, …) are refused
    /// with [`Error::UnknownTransport`]; anything else is a registry reference (`host:5000/repo`
    /// included).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidImage {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = s.strip_prefix("oci:") {
            if let Some((path, d)) = rest.rsplit_once('@')
                && let Ok(digest) = d.parse::<Digest>()
            {
                if path.is_empty() {
                    return Err(invalid("the layout path is empty"));
                }
                return Ok(ImageRef::Layout {
                    path: PathBuf::from(path),
                    tag: None,
                    digest: Some(digest),
                });
            }
            let (path, tag) = match rest.rsplit_once(':') {
                Some((p, t)) if is_tag(t) => (p, Some(t.to_string())),
                _ => (rest, None),
            };
            if path.is_empty() {
                return Err(invalid("the layout path is empty"));
            }
            return Ok(ImageRef::Layout {
                path: PathBuf::from(path),
                tag,
                digest: None,
            });
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            return Ok(ImageRef::Registry(rest.parse()?));
        }
        if let Some((transport, _)) = s.split_once(':')
            && UNSUPPORTED_TRANSPORTS.contains(&transport)
        {
            return Err(Error::UnknownTransport {
                transport: transport.to_string(),
                input: s.to_string(),
            });
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(Error::UnknownTransport {
                transport: scheme.to_string(),
                input: s.to_string(),
            });
        }
        Ok(ImageRef::Registry(s.parse()?))
    }

    /// Whether this names a layout directory.
    pub fn is_layout(&self) -> bool {
        matches!(self, ImageRef::Layout { .. })
    }

    /// The tag or digest to look up: the digest if given, else the tag; for a layout without
    /// either, the empty string (meaning "the only image in the layout").
    pub fn identifier(&self) -> String {
        match self {
            ImageRef::Registry(r) => r.identifier(),
            ImageRef::Layout {
                digest: Some(d), ..
            } => d.to_string(),
            ImageRef::Layout { tag: Some(t), .. } => t.clone(),
            ImageRef::Layout { .. } => String::new(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Registry(r) => write!(f, "{r}"),
            ImageRef::Layout { path, tag, digest } => {
                write!(f, "oci:{}", path.display())?;
                if let Some(d) = digest {
                    write!(f, "@{d}")
                } else if let Some(t) = tag {
                    write!(f, ":{t}")
                } else {
                    Ok(())
                }
            }
        }
    }
}

fn is_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !t.starts_with(['.', '-'])
}

/// One repository of a registry, or one layout directory.
#[derive(Debug, Clone)]
pub enum Store {
    /// A registry repository.
    Registry {
        /// The client.
        client: RegistryClient,
        /// The repository.
        repo: Repo,
    },
    /// An OCI layout directory.
    Layout(OciLayout),
}

impl Store {
    /// Where this store is, for messages: `registry/repo` or `oci:PATH`.
    pub fn describe(&self) -> String {
        match self {
            Store::Registry { repo, .. } => repo.to_string(),
            Store::Layout(l) => format!("oci:{}", l.path().display()),
        }
    }

    /// A manifest by tag or digest (`""` in a layout: its only image); `None` if absent.
    pub async fn get_manifest(&self, reference: &str) -> Result<Option<FetchedManifest>, Error> {
        match self {
            Store::Registry { client, repo } => client.get_manifest(repo, reference).await,
            Store::Layout(l) => {
                let (l, reference) = (l.clone(), reference.to_string());
                blocking(move || {
                    let digest = match reference.parse::<Digest>() {
                        Ok(d) => d,
                        Err(_) => {
                            let tag = (!reference.is_empty()).then_some(reference.as_str());
                            match l.resolve(tag)? {
                                Some(desc) => desc.digest,
                                None => return Ok(None),
                            }
                        }
                    };
                    l.get_manifest(&digest)
                })
                .await
            }
        }
    }

    /// Digest, media type and size of a manifest by tag or digest; `None` if absent.
    pub async fn head_manifest(&self, reference: &str) -> Result<Option<ManifestHead>, Error> {
        match self {
            Store::Registry { client, repo } => client.head_manifest(repo, reference).await,
            Store::Layout(_) => Ok(self.get_manifest(reference).await?.map(|m| ManifestHead {
                size: m.bytes.len() as u64,
                digest: m.digest,
                media_type: m.media_type,
            })),
        }
    }

    /// A blob, at most `max_bytes`, digest-checked.
    pub async fn get_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, Error> {
        match self {
            Store::Registry { client, repo } => client.get_blob(repo, digest, max_bytes).await,
            Store::Layout(l) => {
                let (l, digest) = (l.clone(), digest.clone());
                blocking(move || l.get_blob(&digest, max_bytes)).await
            }
        }
    }

    /// Whether a blob exists.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool, Error> {
        match self {
            Store::Registry { client, repo } => client.blob_exists(repo, digest).await,
            Store::Layout(l) => Ok(l.blob_exists(digest)),
        }
    }

    /// Stores a blob (skipped if present); returns its digest.
    pub async fn put_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        match self {
            Store::Registry { client, repo } => client.put_blob(repo, bytes).await,
            Store::Layout(l) => {
                let (l, bytes) = (l.clone(), bytes.to_vec());
                blocking(move || l.put_blob(&bytes)).await
            }
        }
    }

    /// Stores a manifest under a tag or its digest; returns its digest. In a layout, a
    /// `sha256-<hex>.sig` (`.att`) tag also gets `kind: dev.cosignproject.cosign/sigs` (`atts`).
    pub async fn put_manifest(
        &self,
        tag_or_digest: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        match self {
            Store::Registry { client, repo } => {
                client
                    .put_manifest(repo, tag_or_digest, bytes, media_type)
                    .await
            }
            Store::Layout(l) => {
                let by_digest = tag_or_digest.parse::<Digest>().ok();
                if let Some(d) = &by_digest
                    && !d.matches(bytes)
                {
                    return Err(Error::DigestMismatch {
                        expected: d.clone(),
                        found: Digest::sha256(bytes),
                    });
                }
                let tag = by_digest.is_none().then(|| tag_or_digest.to_string());
                let mut annotations = BTreeMap::new();
                if let Some(t) = &tag
                    && t.starts_with("sha256-")
                {
                    if t.ends_with(".sig") {
                        annotations.insert(KIND_ANNOTATION.to_string(), KIND_SIGS.to_string());
                    } else if t.ends_with(".att") {
                        annotations.insert(KIND_ANNOTATION.to_string(), KIND_ATTS.to_string());
                    }
                }
                let (l, bytes, media_type) = (l.clone(), bytes.to_vec(), media_type.to_string());
                blocking(move || l.put_manifest(&bytes, &media_type, tag.as_deref(), &annotations))
                    .await
            }
        }
    }

    /// Removes a tag; `false` if it did not exist. In a registry this resolves the tag and
    /// deletes the manifest by digest (which removes every tag pointing at it);
    /// [`Error::Unsupported`] if the registry refuses deletion.
    pub async fn delete_tag(&self, tag: &str) -> Result<bool, Error> {
        match self {
            Store::Registry { client, repo } => match client.head_manifest(repo, tag).await? {
                None => Ok(false),
                Some(head) => client.delete_manifest(repo, &head.digest).await,
            },
            Store::Layout(l) => {
                let (l, tag) = (l.clone(), tag.to_string());
                blocking(move || l.delete_tag(&tag)).await
            }
        }
    }

    /// The referrers of `subject` (manifests naming it as their `subject`), of
    /// `artifact_type` if given, as index descriptors (media type, digest, size, artifact
    /// type, annotations). A registry is asked through the OCI 1.1 referrers API, falling back
    /// to the referrers tag `sha256-<hex>` when it has none (no tag: no referrers); a layout
    /// lists them from `index.json`.
    pub async fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        match self {
            Store::Registry { client, repo } => {
                match client.referrers(repo, subject, artifact_type).await? {
                    Some(index) => Ok(index.manifests),
                    None => referrers::from_tag(client, repo, subject, artifact_type).await,
                }
            }
            Store::Layout(l) => {
                let (l, subject) = (l.clone(), subject.clone());
                let artifact_type = artifact_type.map(str::to_string);
                blocking(move || l.referrers(&subject, artifact_type.as_deref())).await
            }
        }
    }

    /// Stores a referrer manifest (it names a `subject`; its blobs are pushed by the caller)
    /// and makes it findable by [`referrers`](Self::referrers); returns its digest. In a
    /// registry: `PUT` by digest; unless the registry answered with `OCI-Subject` (its
    /// referrers API indexed it), the manifest is also added to the referrers tag index,
    /// safely against concurrent writers and never removing entries. Pushing again is
    /// harmless. In a layout: an untagged `index.json` entry.
    pub async fn push_referrer(&self, manifest: &[u8], media_type: &str) -> Result<Digest, Error> {
        match self {
            Store::Registry { client, repo } => {
                referrers::push(client, repo, manifest, media_type).await
            }
            Store::Layout(l) => {
                let (l, bytes, media_type) = (l.clone(), manifest.to_vec(), media_type.to_string());
                blocking(move || l.push_referrer(&bytes, &media_type)).await
            }
        }
    }

    /// All tags.
    pub async fn list_tags(&self) -> Result<Vec<String>, Error> {
        match self {
            Store::Registry { client, repo } => client.list_tags(repo).await,
            Store::Layout(l) => {
                let l = l.clone();
                blocking(move || l.list_tags()).await
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io {
            action: "background file task failed for",
            path: PathBuf::from("OCI layout"),
            source: std::io::Error::other(e.to_string()),
        })?
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

    #[rstest]
    #[case("oci:/tmp/lay", "/tmp/lay", None, None)]
    #[case("oci:/tmp/lay:v1", "/tmp/lay", Some("v1"), None)]
    #[case("oci:rel/dir:sha256-abc.sig", "rel/dir", Some("sha256-abc.sig"), None)]
    #[case("oci:/a:b/c", "/a:b/c", None, None)]
    #[case("oci:/a:b/c:t", "/a:b/c", Some("t"), None)]
    #[case("oci:C:/x", "C:/x", None, None)]
    #[case(concat!("oci:/tmp/lay@", "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"), "/tmp/lay", None, Some(D))]
    fn layouts(
        #[case] input: &str,
        #[case] path: &str,
        #[case] tag: Option<&str>,
        #[case] digest: Option<&str>,
    ) {
        let r = ImageRef::parse(input).unwrap();
        assert_eq!(
            r,
            ImageRef::Layout {
                path: PathBuf::from(path),
                tag: tag.map(str::to_string),
                digest: digest.map(|d| d.parse().unwrap()),
            }
        );
        assert!(r.is_layout());
        assert_eq!(r.to_string(), input);
    }

    #[rstest]
    #[case("ubuntu", "index.docker.io/library/ubuntu:latest")]
    #[case("docker://ubuntu:22.04", "index.docker.io/library/ubuntu:22.04")]
    #[case("localhost:5000/repo", "localhost:5000/repo:latest")]
    #[case("host:5000/repo:tag", "host:5000/repo:tag")]
    #[case(
        "127.0.0.1:5000/a/b@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec",
        "127.0.0.1:5000/a/b@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"
    )]
    #[case("docker.io/library/dir:tag", "index.docker.io/library/dir:tag")]
    #[case("docker://dir:tag", "index.docker.io/library/dir:tag")]
    fn registries(#[case] input: &str, #[case] want: &str) {
        match ImageRef::parse(input).unwrap() {
            ImageRef::Registry(r) => assert_eq!(r.to_string(), want),
            other => panic!("{other:?}"),
        }
    }

    #[rstest]
    #[case("dir:/tmp/x", "dir")]
    #[case("docker-archive:img.tar", "docker-archive")]
    #[case("oci-archive:img.tar:tag", "oci-archive")]
    #[case("containers-storage:localhost/x", "containers-storage")]
    #[case("docker-daemon:x:latest", "docker-daemon")]
    #[case("https://ghcr.io/x", "https")]
    fn unknown_transports(#[case] input: &str, #[case] transport: &str) {
        match ImageRef::parse(input).unwrap_err() {
            Error::UnknownTransport { transport: t, .. } => assert_eq!(t, transport),
            e => panic!("{e}"),
        }
    }

    #[rstest]
    #[case("oci:")]
    #[case("oci::tag")]
    #[case("UPPER/case")]
    #[case("")]
    fn invalid(#[case] input: &str) {
        assert!(ImageRef::parse(input).is_err(), "{input}");
    }
}
