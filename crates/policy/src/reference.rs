//! Docker references as containers/image parses them (`docker/reference`, a fork of
//! distribution's `reference` package): `ParseNormalizedNamed` (short names expanded to
//! `docker.io/library/…`, `index.docker.io` folded into `docker.io`), `ParseNamed` (must already
//! be canonical), `Name()`, `String()`, familiar forms; and go-digest's `Parse`.
//!
//! This is deliberately not `signet_oci::Reference`: that one follows go-containerregistry
//! (`index.docker.io`, a default `latest` tag, sha256-only digests), while policy scopes and
//! signature identities are compared as containers/image's strings (`docker.io/library/busybox`).

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use sha2::Digest as _;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_NAME: &str = "library";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

const ALPHA_NUMERIC: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[._]|__|[-]*)";
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const DIGEST_PAT: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";

fn name_component() -> String {
    format!("{ALPHA_NUMERIC}(?:(?:{SEPARATOR}{ALPHA_NUMERIC})+)?")
}

/// `domain` of distribution's grammar: `host[:port]`.
pub(crate) fn domain_pattern() -> String {
    format!(r"{DOMAIN_COMPONENT}(?:(?:\.{DOMAIN_COMPONENT})+)?(?::[0-9]+)?")
}

/// `NameRegexp`: `[domain/]component[/component…]`.
pub(crate) fn name_pattern() -> String {
    let c = name_component();
    format!("(?:{}/)?{c}(?:(?:/{c})+)?", domain_pattern())
}

#[allow(clippy::expect_used)] // constant patterns, exercised by every test
pub(crate) fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid built-in regular expression")
}

static REFERENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        "^({})(?::({TAG}))?(?:@({DIGEST_PAT}))?$",
        name_pattern()
    ))
});
static ANCHORED_NAME_RE: LazyLock<Regex> = LazyLock::new(|| {
    let c = name_component();
    regex(&format!(
        "^(?:({})/)?({c}(?:(?:/{c})+)?)$",
        domain_pattern()
    ))
});
static ANCHORED_IDENTIFIER_RE: LazyLock<Regex> = LazyLock::new(|| regex("^[a-f0-9]{64}$"));

/// A docker reference: a repository name plus an optional tag and/or digest, as
/// containers/image's `reference.Named` (both a tag and a digest can be present).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DockerReference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl DockerReference {
    /// `reference.ParseNormalizedNamed`: `busybox` → `docker.io/library/busybox`,
    /// `index.docker.io/x/y` → `docker.io/x/y`; no default tag is added.
    pub fn parse_normalized(s: &str) -> Result<DockerReference, String> {
        if ANCHORED_IDENTIFIER_RE.is_match(s) {
            return Err(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            ));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = match remainder.find(':') {
            Some(i) => &remainder[..i],
            None => remainder.as_str(),
        };
        if remote_name.to_lowercase() != remote_name {
            return Err("invalid reference format: repository name must be lowercase".into());
        }
        parse(&format!("{domain}/{remainder}"))
    }

    /// `reference.ParseNamed`: like [`parse_normalized`](Self::parse_normalized) but the input
    /// must already be in canonical (fully expanded) form.
    pub fn parse_named(s: &str) -> Result<DockerReference, String> {
        let r = DockerReference::parse_normalized(s)?;
        if r.to_string() != s {
            return Err("repository name must be canonical".into());
        }
        Ok(r)
    }

    /// `Name()`: `domain/path`, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The registry host (`host[:port]`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`algorithm:hex`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// `reference.IsNameOnly`: neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// `reference.TagNameOnly`: adds `:latest` to a name-only reference.
    pub fn tag_name_only(mut self) -> DockerReference {
        if self.is_name_only() {
            self.tag = Some("latest".into());
        }
        self
    }

    /// `reference.FamiliarString`: `busybox:latest`, `foo/bar@sha256:…`, `ghcr.io/a/b:v1`.
    pub fn familiar_string(&self) -> String {
        let (domain, path) = if self.domain == DEFAULT_DOMAIN {
            let path = match self.path.split_once('/') {
                Some((OFFICIAL_REPO_NAME, rest)) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            };
            (String::new(), path)
        } else {
            (format!("{}/", self.domain), self.path.clone())
        };
        let mut s = format!("{domain}{path}");
        self.write_suffix(&mut s);
        s
    }

    fn write_suffix(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
    }
}

impl fmt::Display for DockerReference {
    /// `String()`: `name[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.write_suffix(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for DockerReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DockerReference({self})")
    }
}

impl std::str::FromStr for DockerReference {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DockerReference::parse_normalized(s)
    }
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, remainder) = match name.find('/') {
        Some(i) if name[..i].contains(['.', ':']) || &name[..i] == "localhost" => {
            (name[..i].to_string(), name[i + 1..].to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    let remainder = if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        format!("{OFFICIAL_REPO_NAME}/{remainder}")
    } else {
        remainder
    };
    (domain, remainder)
}

/// `reference.Parse` (only ever called with a domain-prefixed string here).
fn parse(s: &str) -> Result<DockerReference, String> {
    let Some(caps) = REFERENCE_RE.captures(s) else {
        if s.is_empty() {
            return Err("repository name must have at least one component".into());
        }
        if REFERENCE_RE.is_match(&s.to_lowercase()) {
            return Err("repository name must be lowercase".into());
        }
        return Err("invalid reference format".into());
    };
    let name = caps.get(1).map_or("", |m| m.as_str());
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    let (domain, path) = match ANCHORED_NAME_RE.captures(name) {
        Some(n) => (
            n.get(1).map_or("", |m| m.as_str()).to_string(),
            n.get(2).map_or("", |m| m.as_str()).to_string(),
        ),
        None => (String::new(), name.to_string()),
    };
    let tag = caps
        .get(2)
        .map(|m| m.as_str().to_string())
        .filter(|t| !t.is_empty());
    let digest = match caps.get(3).map(|m| m.as_str()).filter(|d| !d.is_empty()) {
        Some(d) => Some(parse_digest(d)?.to_string()),
        None => None,
    };
    Ok(DockerReference {
        domain,
        path,
        tag,
        digest,
    })
}

/// A validated go-digest value (`sha256`, `sha384` or `sha512` with lower-case hex).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GoDigest {
    algorithm: &'static str,
    hex: String,
}

impl GoDigest {
    /// The algorithm name.
    pub fn algorithm(&self) -> &str {
        self.algorithm
    }

    /// Whether `bytes` hash to this digest with this digest's algorithm.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let computed: Vec<u8> = match self.algorithm {
            "sha256" => sha2::Sha256::digest(bytes).to_vec(),
            "sha384" => sha2::Sha384::digest(bytes).to_vec(),
            _ => sha2::Sha512::digest(bytes).to_vec(),
        };
        let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
        hex == self.hex
    }
}

impl fmt::Display for GoDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl fmt::Debug for GoDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GoDigest({self})")
    }
}

static DIGEST_ANCHORED_RE: LazyLock<Regex> =
    LazyLock::new(|| regex("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"));

/// go-digest's `Parse` (with the algorithms containers/image registers: sha256, sha384, sha512),
/// with its error texts.
pub fn parse_digest(s: &str) -> Result<GoDigest, String> {
    const INVALID_FORMAT: &str = "invalid checksum digest format";
    let Some(i) = s.find(':').filter(|i| *i > 0 && i + 1 != s.len()) else {
        return Err(INVALID_FORMAT.into());
    };
    let (algorithm, encoded) = (&s[..i], &s[i + 1..]);
    let (algorithm, size): (&'static str, usize) = match algorithm {
        "sha256" => ("sha256", 32),
        "sha384" => ("sha384", 48),
        "sha512" => ("sha512", 64),
        _ => {
            if !DIGEST_ANCHORED_RE.is_match(s) {
                return Err(INVALID_FORMAT.into());
            }
            return Err("unsupported digest algorithm".into());
        }
    };
    if encoded.len() != size * 2 {
        return Err("invalid checksum digest length".into());
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(INVALID_FORMAT.into());
    }
    Ok(GoDigest {
        algorithm,
        hex: encoded.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[rstest]
    #[case("busybox", "docker.io/library/busybox", "busybox")]
    #[case("busybox:latest", "docker.io/library/busybox:latest", "busybox:latest")]
    #[case("docker.io/busybox", "docker.io/library/busybox", "busybox")]
    #[case("index.docker.io/foo/bar:v1", "docker.io/foo/bar:v1", "foo/bar:v1")]
    #[case("docker.io/library/a/b", "docker.io/library/a/b", "library/a/b")]
    #[case("foo/bar", "docker.io/foo/bar", "foo/bar")]
    #[case("localhost/foo", "localhost/foo", "localhost/foo")]
    #[case(
        "localhost:5000/foo:v1",
        "localhost:5000/foo:v1",
        "localhost:5000/foo:v1"
    )]
    #[case("Example.COM/foo", "Example.COM/foo", "Example.COM/foo")]
    #[case(
        "127.0.0.1:5055/lab/hello:v1",
        "127.0.0.1:5055/lab/hello:v1",
        "127.0.0.1:5055/lab/hello:v1"
    )]
    #[case(
        "a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )]
    fn normalizes(#[case] input: &str, #[case] string: &str, #[case] familiar: &str) {
        let r = DockerReference::parse_normalized(input).unwrap();
        assert_eq!(r.to_string(), string);
        assert_eq!(r.familiar_string(), familiar);
    }

    #[rstest]
    #[case("", "invalid reference format")]
    #[case("UPPER", "invalid reference format: repository name must be lowercase")]
    #[case(
        "a.b/Upper",
        "invalid reference format: repository name must be lowercase"
    )]
    #[case("busybox:tag:x", "invalid reference format")]
    #[case("busybox@sha256:abc", "invalid reference format")]
    #[case(
        "busybox@sha256:0123456789abcdef0123456789abcdef",
        "invalid checksum digest length"
    )]
    #[case(
        "busybox@md5:0123456789abcdef0123456789abcdef",
        "unsupported digest algorithm"
    )]
    #[case(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "invalid repository name (0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef), cannot specify 64-byte hexadecimal strings"
    )]
    #[case("a.b//c", "invalid reference format")]
    fn rejects(#[case] input: &str, #[case] err: &str) {
        assert_eq!(DockerReference::parse_normalized(input).unwrap_err(), err);
    }

    #[test]
    fn parse_named_requires_canonical() {
        assert!(DockerReference::parse_named("docker.io/library/busybox:1").is_ok());
        assert_eq!(
            DockerReference::parse_named("busybox:1").unwrap_err(),
            "repository name must be canonical"
        );
    }

    #[test]
    fn name_too_long() {
        let long = format!("a.b/{}", "x".repeat(260));
        assert!(
            DockerReference::parse_normalized(&long)
                .unwrap_err()
                .contains("must not be more than 255")
        );
    }

    #[test]
    fn digests() {
        let d = parse_digest(D).unwrap();
        assert_eq!(d.to_string(), D);
        assert_eq!(
            parse_digest("sha256").unwrap_err(),
            "invalid checksum digest format"
        );
        assert_eq!(
            parse_digest("sha256:").unwrap_err(),
            "invalid checksum digest format"
        );
        assert_eq!(
            parse_digest(&D.to_uppercase().replace("SHA256", "sha256")).unwrap_err(),
            "invalid checksum digest format"
        );
        let empty =
            parse_digest("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
                .unwrap();
        assert!(empty.matches(b"{}"));
        assert!(!empty.matches(b"{ }"));
    }
}
