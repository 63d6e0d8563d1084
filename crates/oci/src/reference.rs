//! Image references, parsed the way go-containerregistry's `name.ParseReference` parses them
//! (which is what cosign uses): `[registry/]repository[:tag][@digest]`, Docker Hub normalisation
//! (`docker.io` → `index.docker.io`, single-component repositories get `library/`), tag `latest`
//! when neither tag nor digest is given.

use std::fmt;
use std::str::FromStr;

use crate::{Digest, Error};

/// The registry a reference without a registry component points at.
pub const DEFAULT_REGISTRY: &str = "index.docker.io";
const DEFAULT_TAG: &str = "latest";
const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";
const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";

/// A parsed image reference: a repository in a registry, plus a tag or a digest.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry host (and port), normalised: `index.docker.io` for Docker Hub.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry, with `library/` added for Docker Hub
    /// official images.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if the reference names one and no digest (`latest` when neither was given).
    pub fn tag(&self) -> Option<&str> {
        match self.digest {
            Some(_) => None,
            None => self.tag.as_deref(),
        }
    }

    /// The digest, if the reference names one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository`, what cosign writes as `docker-reference` (ggcr `Repository.Name()`).
    pub fn repository_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag or digest to ask the registry for.
    pub fn identifier(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            tag: None,
            ..self.clone()
        }
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, Error> {
        check_chars(tag, TAG_CHARS, 1, 128).map_err(|reason| Error::InvalidReference {
            reference: tag.to_string(),
            reason,
        })?;
        Ok(Reference {
            digest: None,
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// A reference for `repository` in `registry` (used for `COSIGN_REPOSITORY`): parses
    /// `[registry/]repository` with the same normalisation and no tag.
    pub fn parse_repository(s: &str) -> Result<(String, String), Error> {
        split_repository(s, s)
    }

    /// Whether the registry is on this machine (localhost, 127.0.0.0/8, ::1): such registries
    /// are spoken to over plain HTTP, as Docker does.
    pub fn is_loopback_registry(&self) -> bool {
        is_loopback_host(&self.registry)
    }
}

/// Whether a `host[:port]` string names this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback_host(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.split(':').next().unwrap_or_default()
    };
    if host == "localhost" || host == "::1" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

fn check_chars(s: &str, allowed: &str, min: usize, max: usize) -> Result<(), &'static str> {
    if s.len() < min || s.len() > max {
        return Err("component has the wrong length");
    }
    if !s.chars().all(|c| allowed.contains(c)) {
        return Err("component has characters outside the allowed set");
    }
    Ok(())
}

fn split_repository(original: &str, name: &str) -> Result<(String, String), Error> {
    let invalid = |reason| Error::InvalidReference {
        reference: original.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("empty repository"));
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => ("", name),
    };
    check_chars(repository, REPOSITORY_CHARS, 1, 255).map_err(|r| match r {
        "component has the wrong length" => invalid("repository must be 1 to 255 characters"),
        _ => invalid("repository may contain only a-z, 0-9, '_', '-', '.' and '/'"),
    })?;
    if repository.split('/').any(str::is_empty) {
        return Err(invalid("repository has an empty path component"));
    }
    let registry = match registry {
        "" | "docker.io" => DEFAULT_REGISTRY.to_string(),
        r => {
            check_registry(r).map_err(invalid)?;
            r.to_string()
        }
    };
    let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_string()
    };
    Ok((registry, repository))
}

fn check_registry(r: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = r.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or("unterminated IPv6 registry address")?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 registry address");
        }
        (h, after.strip_prefix(':'))
    } else {
        match r.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        }
    };
    if host.is_empty() {
        return Err("empty registry host");
    }
    if !host.starts_with('[')
        && !r.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err("invalid registry host");
    }
    if let Some(p) = port
        && (p.is_empty() || p.parse::<u16>().is_err())
    {
        return Err("invalid registry port");
    }
    Ok(())
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidReference {
            reference: s.to_string(),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("empty reference"));
        }
        let (base, digest) = match s.split_once('@') {
            Some((base, d)) => {
                if d.contains('@') {
                    return Err(invalid("a digest must contain exactly one '@' separator"));
                }
                let digest: Digest = d.parse().map_err(|_| invalid("invalid digest"))?;
                if digest.algorithm() != "sha256" {
                    return Err(invalid("only sha256 digests can be referenced"));
                }
                (base, Some(digest))
            }
            None => (s, None),
        };
        // A tag is the part after the last ':' if that part contains no '/'.
        let (name, tag) = match base.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
            _ => (base, None),
        };
        if let Some(tag) = tag {
            check_chars(tag, TAG_CHARS, 1, 128).map_err(|_| {
                invalid("tag must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '-' and '.'")
            })?;
        }
        let (registry, repository) = split_repository(s, name)?;
        let tag = match (&digest, tag) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (_, t) => t.map(str::to_string),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl fmt::Display for Reference {
    /// ggcr's `Name()`: `registry/repository:tag` or `registry/repository@digest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.digest, &self.tag) {
            (Some(d), _) => write!(f, "{}/{}@{}", self.registry, self.repository, d),
            (None, Some(t)) => write!(f, "{}/{}:{}", self.registry, self.repository, t),
            (None, None) => write!(f, "{}/{}", self.registry, self.repository),
        }
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

    #[rstest]
    #[case(
        "ubuntu",
        "index.docker.io/library/ubuntu:latest",
        "index.docker.io/library/ubuntu"
    )]
    #[case(
        "docker.io/foo/bar",
        "index.docker.io/foo/bar:latest",
        "index.docker.io/foo/bar"
    )]
    #[case(
        "docker.io/ubuntu:22.04",
        "index.docker.io/library/ubuntu:22.04",
        "index.docker.io/library/ubuntu"
    )]
    #[case(
        "index.docker.io/namespace/image:v1",
        "index.docker.io/namespace/image:v1",
        "index.docker.io/namespace/image"
    )]
    #[case("ghcr.io/a/b:tag", "ghcr.io/a/b:tag", "ghcr.io/a/b")]
    #[case("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x")]
    #[case("localhost/xy", "localhost/xy:latest", "localhost/xy")]
    #[case(
        "127.0.0.1:5000/a/b/c:1",
        "127.0.0.1:5000/a/b/c:1",
        "127.0.0.1:5000/a/b/c"
    )]
    #[case("[::1]:5000/ns/img", "[::1]:5000/ns/img:latest", "[::1]:5000/ns/img")]
    #[case("foo/bar", "index.docker.io/foo/bar:latest", "index.docker.io/foo/bar")]
    fn parses_tags(#[case] input: &str, #[case] name: &str, #[case] repo: &str) {
        let r: Reference = input.parse().unwrap();
        assert_eq!(r.to_string(), name);
        assert_eq!(r.repository_name(), repo);
    }

    #[test]
    fn digest_reference_drops_tag() {
        let r: Reference = format!("ubuntu:22.04@{D}").parse().unwrap();
        assert_eq!(r.to_string(), format!("index.docker.io/library/ubuntu@{D}"));
        assert_eq!(r.tag(), None);
        assert_eq!(r.identifier(), D);
        assert_eq!(r.repository_name(), "index.docker.io/library/ubuntu");
    }

    #[rstest]
    #[case("")]
    #[case("UPPER/case")]
    #[case("repo:bad tag")]
    #[case("repo@sha256:abc")]
    #[case("repo@@sha256:abc")]
    #[case("ghcr.io/")]
    #[case("ghcr.io//x")]
    #[case("host:99999/x")]
    #[case("repo:")]
    fn rejects(#[case] input: &str) {
        assert!(
            input.parse::<Reference>().is_err(),
            "{input:?} should be rejected"
        );
    }

    #[rstest]
    #[case("localhost:5000/x", true)]
    #[case("127.0.0.1:5000/x", true)]
    #[case("127.1.2.3/x/y", true)]
    #[case("[::1]:5000/x", true)]
    #[case("ghcr.io/x/y", false)]
    #[case("10.0.0.1:5000/x", false)]
    #[case("localhost.evil.com/x", false)]
    fn loopback(#[case] input: &str, #[case] expected: bool) {
        let r: Reference = input.parse().unwrap();
        assert_eq!(r.is_loopback_registry(), expected);
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(repo in "[a-z0-9]{2,10}(/[a-z0-9]{2,10}){0,2}", tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}") {
            let input = format!("registry.example:5000/{repo}:{tag}");
            let r: Reference = input.parse().unwrap();
            let again: Reference = r.to_string().parse().unwrap();
            proptest::prop_assert_eq!(r, again);
        }
    }
}
