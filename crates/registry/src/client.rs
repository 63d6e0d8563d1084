//! [`RegistryClient`]: an OCI distribution API client on reqwest, built for few round trips.
//!
//! * No `/v2/` ping: every request is sent as is; on 401 the `WWW-Authenticate` challenge is
//!   read, credentials or a bearer token obtained, and the request retried once.
//! * What was learnt is kept for the life of the client: the registry's auth scheme (so later
//!   requests authenticate up front), bearer tokens per (registry, scope), and resolved
//!   credentials per registry.
//! * Connections are kept alive and reused (reqwest's pool).
//! * Transient answers (408, 499, 500, 502, 503, 504, 522 — go-containerregistry's default
//!   list, so cosign behaves the same) are retried twice, after about 1 s and 3 s, when the
//!   request can be replayed. Debian's docker-registry, for one, answers 500 to a manifest read
//!   that races a write of the same tag.
//! * Plain HTTP for loopback registries (as Docker does) and for any registry with
//!   [`ClientOptions::allow_http`]; HTTPS otherwise.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LINK, LOCATION,
    WWW_AUTHENTICATE,
};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use signet_oci::{Digest, ImageIndex, Reference, is_loopback_host, media_types};

use crate::auth::{Challenge, Credential, Keychain, challenge};
use crate::referrers;
use crate::{Error, Secret};

/// The default limit on manifest size: 4 MiB, what registries themselves accept.
pub const DEFAULT_MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";
const MAX_TAG_PAGES: usize = 10_000;
const OCI_SUBJECT: &str = "oci-subject";
const OCI_FILTERS_APPLIED: &str = "oci-filters-applied";
const MAX_REFERRERS_PAGES: usize = 1_000;
/// Most bytes of one page of a referrers API answer.
const MAX_REFERRERS_PAGE_BYTES: u64 = 16 * 1024 * 1024;
/// Waits before the second and third attempt of a request that got a transient answer
/// (go-containerregistry's default backoff: 1 s, factor 3, three attempts).
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// Statuses that say "try again": go-containerregistry's default retry list.
fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 499 | 500 | 502 | 503 | 504 | 522)
}

/// Up to a tenth of `base`, so that clients that failed together do not retry together.
fn with_jitter(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 10_000.0)
}

/// How the client talks to registries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `--allow-http-registry`: plain HTTP for every registry (loopback registries always use it).
    pub allow_http: bool,
    /// `--allow-insecure-registry`: HTTPS without certificate verification.
    pub allow_insecure: bool,
    /// Manifests larger than this are refused (default 4 MiB).
    pub max_manifest_bytes: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long to wait for a TCP (and TLS) connection (default 30 s).
    pub connect_timeout: Duration,
    /// How long to wait for any read from the registry (default 120 s).
    pub read_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            allow_http: false,
            allow_insecure: false,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
            user_agent: concat!("signet/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
        }
    }
}

/// A repository in a registry: `registry` is `host[:port]` (`index.docker.io` for Docker Hub),
/// `name` the repository path (`library/ubuntu`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path.
    pub name: String,
}

impl Repo {
    /// A repository from its parts.
    pub fn new(registry: impl Into<String>, name: impl Into<String>) -> Self {
        Repo {
            registry: registry.into(),
            name: name.into(),
        }
    }

    /// Parses `[registry/]repository` with Docker Hub normalisation.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let (registry, name) = Reference::parse_repository(s)?;
        Ok(Repo { registry, name })
    }

    fn describe(&self, reference: &str) -> String {
        if reference.contains(':') {
            format!("{self}@{reference}")
        } else {
            format!("{self}:{reference}")
        }
    }
}

impl From<&Reference> for Repo {
    fn from(r: &Reference) -> Self {
        Repo {
            registry: r.registry().to_string(),
            name: r.repository().to_string(),
        }
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// What the registry answered to a manifest `PUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPut {
    /// The manifest's digest.
    pub digest: Digest,
    /// The `OCI-Subject` header: the registry's referrers API indexed the manifest as a
    /// referrer of this digest (OCI distribution 1.1).
    pub oci_subject: Option<Digest>,
}

/// What a manifest `HEAD` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// The manifest's digest.
    pub digest: Digest,
    /// Its media type (empty if the registry sent none).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A fetched manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// The media type (from `Content-Type`, else the manifest's `mediaType` field).
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
}

/// The access an operation needs, which picks the token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Pull,
    Push,
    Delete,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
            Access::Delete => "pull,push,delete",
        }
    }

    /// Cached scopes' actions good enough for this access.
    fn satisfied_by(self) -> &'static [&'static str] {
        match self {
            Access::Pull => &["pull", "pull,push", "pull,push,delete"],
            Access::Push => &["pull,push", "pull,push,delete"],
            Access::Delete => &["pull,push,delete"],
        }
    }
}

#[derive(Debug, Clone)]
enum Scheme {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

#[derive(Default)]
struct AuthState {
    schemes: HashMap<String, Scheme>,
    tokens: HashMap<(String, String), Secret>,
    credentials: HashMap<String, Option<Credential>>,
    /// Loopback registries probed over HTTPS (`allow_insecure`) that turned out to speak
    /// plain HTTP.
    plain_http: std::collections::HashSet<String>,
}

struct Inner {
    http: reqwest::Client,
    options: ClientOptions,
    keychain: Keychain,
    state: Mutex<AuthState>,
}

/// An OCI distribution client. Cheap to clone (shares connections, tokens and credentials).
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client with these options, taking credentials from `keychain`.
    pub fn new(options: ClientOptions, keychain: Keychain) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tls_danger_accept_invalid_certs(options.allow_insecure)
            .build()
            .map_err(|e| Error::ClientSetup {
                reason: error_chain(&e),
            })?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                http,
                options,
                keychain,
                state: Mutex::new(AuthState::default()),
            }),
        })
    }

    /// The options the client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// `HEAD` a manifest by tag or digest; `None` if it does not exist.
    pub async fn head_manifest(
        &self,
        repo: &Repo,
        reference: &str,
    ) -> Result<Option<ManifestHead>, Error> {
        let url = self.url(repo, &format!("manifests/{reference}"))?;
        let op = format!("HEAD manifest {}", repo.describe(reference));
        let resp = self
            .send(repo, Access::Pull, &op, || {
                self.inner
                    .http
                    .head(url.clone())
                    .header(ACCEPT, manifest_accept())
            })
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            _ => return Err(status_error(repo, &op, resp).await),
        }
        let headers = resp.headers();
        let digest = header_str(headers, DOCKER_CONTENT_DIGEST).and_then(|d| d.parse().ok());
        let size = header_str(headers, CONTENT_LENGTH.as_str()).and_then(|s| s.parse().ok());
        let media_type = media_type_of(headers);
        drop(resp);
        tokio::task::yield_now().await;
        match (digest, size) {
            (Some(digest), Some(size)) => Ok(Some(ManifestHead {
                digest,
                media_type,
                size,
            })),
            // A registry without Docker-Content-Digest on HEAD: fetch the manifest instead.
            _ => Ok(self
                .get_manifest(repo, reference)
                .await?
                .map(|m| ManifestHead {
                    size: m.bytes.len() as u64,
                    digest: m.digest,
                    media_type: m.media_type,
                })),
        }
    }

    /// `GET` a manifest by tag or digest; `None` if it does not exist. Refuses manifests over
    /// [`ClientOptions::max_manifest_bytes`]; checks the bytes against a digest reference.
    pub async fn get_manifest(
        &self,
        repo: &Repo,
        reference: &str,
    ) -> Result<Option<FetchedManifest>, Error> {
        let url = self.url(repo, &format!("manifests/{reference}"))?;
        let described = repo.describe(reference);
        let op = format!("GET manifest {described}");
        let mut resp = self
            .send(repo, Access::Pull, &op, || {
                self.inner
                    .http
                    .get(url.clone())
                    .header(ACCEPT, manifest_accept())
            })
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            _ => return Err(status_error(repo, &op, resp).await),
        }
        let limit = self.inner.options.max_manifest_bytes;
        let too_large = |size| Error::ManifestTooLarge {
            reference: described.clone(),
            size,
            limit,
        };
        if let Some(len) =
            header_str(resp.headers(), CONTENT_LENGTH.as_str()).and_then(|s| s.parse::<u64>().ok())
            && len > limit
        {
            return Err(too_large(len));
        }
        let header_digest: Option<Digest> =
            header_str(resp.headers(), DOCKER_CONTENT_DIGEST).and_then(|d| d.parse().ok());
        let content_type = media_type_of(resp.headers());
        let bytes = read_capped(&mut resp, limit)
            .await
            .map_err(|e| classify(&repo.registry, &e))?
            .map_err(too_large)?;
        let digest = match reference.parse::<Digest>() {
            Ok(expected) => {
                if !expected.matches(&bytes) {
                    return Err(Error::DigestMismatch {
                        found: same_algorithm(&expected, &bytes),
                        expected,
                    });
                }
                expected
            }
            Err(_) => match header_digest {
                Some(d) if d.matches(&bytes) => d,
                _ => Digest::sha256(&bytes),
            },
        };
        let media_type = if content_type.is_empty() {
            signet_oci::media_types::of_manifest_bytes(&bytes)
        } else {
            content_type
        };
        Ok(Some(FetchedManifest {
            bytes,
            media_type,
            digest,
        }))
    }

    /// `PUT` a manifest under a tag or its digest; returns its digest.
    pub async fn put_manifest(
        &self,
        repo: &Repo,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        Ok(self
            .put_manifest_detailed(repo, reference, bytes, media_type)
            .await?
            .digest)
    }

    /// [`put_manifest`](Self::put_manifest), also telling whether the registry answered with
    /// an `OCI-Subject` header (its referrers API indexed the manifest's `subject`).
    pub async fn put_manifest_detailed(
        &self,
        repo: &Repo,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<ManifestPut, Error> {
        let digest = Digest::sha256(bytes);
        if let Ok(expected) = reference.parse::<Digest>()
            && !expected.matches(bytes)
        {
            return Err(Error::DigestMismatch {
                found: same_algorithm(&expected, bytes),
                expected,
            });
        }
        let content_type = header_value(&repo.registry, "Content-Type", media_type)?;
        let url = self.url(repo, &format!("manifests/{reference}"))?;
        let op = format!("PUT manifest {}", repo.describe(reference));
        let resp = self
            .send(repo, Access::Push, &op, || {
                self.inner
                    .http
                    .put(url.clone())
                    .header(CONTENT_TYPE, content_type.clone())
                    .body(bytes.to_vec())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(repo, &op, resp).await);
        }
        if let Some(d) = header_str(resp.headers(), DOCKER_CONTENT_DIGEST)
            && d != digest.to_string()
        {
            tracing::warn!(registry = %repo.registry, sent = %digest, answered = d, "registry reports a different manifest digest");
        }
        let oci_subject = header_str(resp.headers(), OCI_SUBJECT).and_then(|d| d.parse().ok());
        Ok(ManifestPut {
            digest,
            oci_subject,
        })
    }

    /// The OCI 1.1 referrers API: `GET /v2/<name>/referrers/<digest>[?artifactType=…]`, all
    /// pages (`Link` pagination) merged into one OCI image index. With `artifact_type`, the
    /// entries are filtered here too when the registry did not say it filtered them
    /// (`OCI-Filters-Applied`). `None` when the registry has no referrers API: it answered
    /// 404 (any error code), 400, 405, 406, or a 200 that is not an OCI image index. Other
    /// answers are errors.
    pub async fn referrers(
        &self,
        repo: &Repo,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<ImageIndex>, Error> {
        let mut url = self.url(repo, &format!("referrers/{subject}"))?;
        if let Some(at) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", at);
        }
        let op = format!("GET referrers {repo}@{subject}");
        let location = || format!("{repo} (referrers of {subject})");
        let mut merged: Option<ImageIndex> = None;
        for page in 0..MAX_REFERRERS_PAGES {
            let this = url.clone();
            let mut resp = self
                .send(repo, Access::Pull, &op, || {
                    self.inner
                        .http
                        .get(this.clone())
                        .header(ACCEPT, media_types::OCI_INDEX)
                })
                .await?;
            let status = resp.status();
            if !status.is_success() {
                if page == 0 && referrers::api_unavailable_status(status.as_u16()) {
                    tracing::debug!(
                        registry = %repo.registry,
                        status = status.as_u16(),
                        "no referrers API"
                    );
                    return Ok(None);
                }
                return Err(status_error(repo, &op, resp).await);
            }
            let filtered = resp
                .headers()
                .get_all(OCI_FILTERS_APPLIED)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|f| f.trim() == "artifactType");
            let next = header_str(resp.headers(), LINK.as_str()).and_then(next_link);
            let base = resp.url().clone();
            let content_type = media_type_of(resp.headers());
            let body = read_capped(&mut resp, MAX_REFERRERS_PAGE_BYTES)
                .await
                .map_err(|e| classify(&repo.registry, &e))?
                .map_err(|size| Error::ManifestTooLarge {
                    reference: location(),
                    size,
                    limit: MAX_REFERRERS_PAGE_BYTES,
                })?;
            let Some(mut index) = referrers::parse_api_page(&content_type, &body) else {
                if page == 0 && status == StatusCode::OK {
                    tracing::debug!(registry = %repo.registry, content_type, "referrers API answered something else than an OCI image index");
                    return Ok(None);
                }
                return Err(Error::ReferrersIndex {
                    location: location(),
                    reason: format!(
                        "page {} of the answer (status {}, {content_type:?}) is not an OCI image index",
                        page + 1,
                        status.as_u16()
                    ),
                });
            };
            if !filtered {
                referrers::filter(&mut index.manifests, artifact_type);
            }
            match &mut merged {
                None => merged = Some(index),
                Some(m) => m.manifests.extend(index.manifests),
            }
            match next {
                Some(n) => {
                    url = base.join(&n).map_err(|e| Error::InvalidHeader {
                        registry: repo.registry.clone(),
                        header: "Link",
                        reason: format!("{n:?} is not a URL: {e}"),
                    })?;
                }
                None => break,
            }
        }
        Ok(merged)
    }

    /// `DELETE` a manifest by digest; `false` if it did not exist. A registry refusing deletion
    /// (400, 405) gives [`Error::Unsupported`].
    pub async fn delete_manifest(&self, repo: &Repo, digest: &Digest) -> Result<bool, Error> {
        let url = self.url(repo, &format!("manifests/{digest}"))?;
        let op = format!("DELETE manifest {repo}@{digest}");
        let resp = self
            .send(repo, Access::Delete, &op, || {
                self.inner.http.delete(url.clone())
            })
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            s @ (StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED) => {
                Err(Error::Unsupported {
                    registry: repo.registry.clone(),
                    operation: format!("deleting manifests ({op})"),
                    status: s.as_u16(),
                })
            }
            _ => Err(status_error(repo, &op, resp).await),
        }
    }

    /// `GET` a blob (following redirects), at most `max_bytes`, and check its digest.
    pub async fn get_blob(
        &self,
        repo: &Repo,
        digest: &Digest,
        max_bytes: u64,
    ) -> Result<Vec<u8>, Error> {
        let url = self.url(repo, &format!("blobs/{digest}"))?;
        let op = format!("GET blob {repo}@{digest}");
        let mut resp = self
            .send(repo, Access::Pull, &op, || self.inner.http.get(url.clone()))
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => {
                return Err(Error::BlobNotFound {
                    repository: repo.to_string(),
                    digest: digest.clone(),
                });
            }
            s if s.is_success() => {}
            _ => return Err(status_error(repo, &op, resp).await),
        }
        let too_large = |size| Error::BlobTooLarge {
            digest: digest.clone(),
            size,
            limit: max_bytes,
        };
        if let Some(len) = resp.content_length()
            && len > max_bytes
        {
            return Err(too_large(len));
        }
        let bytes = read_capped(&mut resp, max_bytes)
            .await
            .map_err(|e| classify(&repo.registry, &e))?
            .map_err(too_large)?;
        if !digest.matches(&bytes) {
            return Err(Error::DigestMismatch {
                expected: digest.clone(),
                found: same_algorithm(digest, &bytes),
            });
        }
        Ok(bytes)
    }

    /// Whether a blob exists (`HEAD`).
    pub async fn blob_exists(&self, repo: &Repo, digest: &Digest) -> Result<bool, Error> {
        self.blob_exists_with(repo, digest, Access::Pull).await
    }

    async fn blob_exists_with(
        &self,
        repo: &Repo,
        digest: &Digest,
        access: Access,
    ) -> Result<bool, Error> {
        let url = self.url(repo, &format!("blobs/{digest}"))?;
        let op = format!("HEAD blob {repo}@{digest}");
        let resp = self
            .send(repo, access, &op, || self.inner.http.head(url.clone()))
            .await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => Ok(true),
            _ => Err(status_error(repo, &op, resp).await),
        }
    }

    /// Uploads a blob unless it is already there (monolithic `POST` + `PUT`); returns its digest.
    pub async fn put_blob(&self, repo: &Repo, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256(bytes);
        // Ask with push access so the token fetched here serves the upload too.
        if self.blob_exists_with(repo, &digest, Access::Push).await? {
            return Ok(digest);
        }
        let url = self.url(repo, "blobs/uploads/")?;
        let op = format!("POST blob upload {repo}");
        let resp = self
            .send(repo, Access::Push, &op, || {
                self.inner
                    .http
                    .post(url.clone())
                    .header(CONTENT_LENGTH, "0")
            })
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(repo, &op, resp).await);
        }
        let location =
            header_str(resp.headers(), LOCATION.as_str()).ok_or_else(|| Error::InvalidHeader {
                registry: repo.registry.clone(),
                header: "Location",
                reason: format!("missing in the answer to {op}"),
            })?;
        let mut upload = resp
            .url()
            .join(location)
            .map_err(|e| Error::InvalidHeader {
                registry: repo.registry.clone(),
                header: "Location",
                reason: format!("{location:?} is not a URL: {e}"),
            })?;
        upload
            .query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let op = format!("PUT blob {repo}@{digest}");
        let resp = self
            .send(repo, Access::Push, &op, || {
                self.inner
                    .http
                    .put(upload.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(repo, &op, resp).await);
        }
        Ok(digest)
    }

    /// All tags of a repository (following `Link` pagination); empty if it does not exist.
    pub async fn list_tags(&self, repo: &Repo) -> Result<Vec<String>, Error> {
        self.list_tags_paged(repo, None).await
    }

    /// [`list_tags`](Self::list_tags) asking for pages of `page_size` tags (`?n=`); the
    /// registry's default page size with `None`.
    pub async fn list_tags_paged(
        &self,
        repo: &Repo,
        page_size: Option<u32>,
    ) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.url(repo, "tags/list")?;
        if let Some(n) = page_size {
            url.query_pairs_mut().append_pair("n", &n.to_string());
        }
        let op = format!("GET tags {repo}");
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let page = url.clone();
            let resp = self
                .send(repo, Access::Pull, &op, || {
                    self.inner.http.get(page.clone())
                })
                .await?;
            match resp.status() {
                StatusCode::NOT_FOUND => return Ok(tags),
                s if s.is_success() => {}
                _ => return Err(status_error(repo, &op, resp).await),
            }
            let next = header_str(resp.headers(), LINK.as_str()).and_then(next_link);
            let base = resp.url().clone();
            let body = resp
                .bytes()
                .await
                .map_err(|e| classify(&repo.registry, &e))?;
            let list: TagList = serde_json::from_slice(&body).map_err(|e| Error::Http {
                registry: repo.registry.clone(),
                reason: format!("invalid tag list for {repo}: {e}"),
            })?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    url = base.join(&n).map_err(|e| Error::InvalidHeader {
                        registry: repo.registry.clone(),
                        header: "Link",
                        reason: format!("{n:?} is not a URL: {e}"),
                    })?
                }
                None => return Ok(tags),
            }
        }
        Ok(tags)
    }

    // ---- plumbing ----

    fn base_url(&self, registry: &str) -> String {
        let http = self.inner.options.allow_http
            || (is_loopback_host(registry)
                && (!self.inner.options.allow_insecure
                    || self.state().plain_http.contains(registry)));
        format!("{}://{registry}", if http { "http" } else { "https" })
    }

    /// Whether a failed HTTPS request may be retried over plain HTTP: only for a loopback
    /// registry the user said may be insecure (`--allow-insecure-registry`), which is then
    /// probed with HTTPS first, as go-containerregistry and Docker do for local registries.
    fn may_fall_back_to_http(&self, registry: &str, url: &Url) -> bool {
        url.scheme() == "https"
            && self.inner.options.allow_insecure
            && !self.inner.options.allow_http
            && is_loopback_host(registry)
    }

    fn url(&self, repo: &Repo, rest: &str) -> Result<Url, Error> {
        let s = format!("{}/v2/{}/{rest}", self.base_url(&repo.registry), repo.name);
        Url::parse(&s).map_err(|e| Error::Http {
            registry: repo.registry.clone(),
            reason: format!("cannot build a URL for {repo}: {e}"),
        })
    }

    fn state(&self) -> MutexGuard<'_, AuthState> {
        // A panic while holding the lock cannot leave the maps inconsistent: recover.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn credential(&self, registry: &str) -> Result<Option<Credential>, Error> {
        if let Some(c) = self.state().credentials.get(registry) {
            return Ok(c.clone());
        }
        let keychain = self.inner.keychain.clone();
        let reg = registry.to_string();
        let found = tokio::task::spawn_blocking(move || keychain.resolve(&reg))
            .await
            .map_err(|e| Error::CredentialHelper {
                helper: "lookup".to_string(),
                registry: registry.to_string(),
                reason: e.to_string(),
            })??;
        if let Some(c) = &found {
            tracing::debug!(registry, source = %c.source, "using credentials");
        }
        self.state()
            .credentials
            .insert(registry.to_string(), found.clone());
        Ok(found)
    }

    /// The `Authorization` header to send up front, if the registry's scheme is known.
    async fn upfront_auth(
        &self,
        repo: &Repo,
        access: Access,
    ) -> Result<Option<HeaderValue>, Error> {
        let scheme = {
            let state = self.state();
            for actions in access.satisfied_by() {
                let key = (repo.registry.clone(), scope(repo, actions));
                if let Some(t) = state.tokens.get(&key) {
                    return bearer_header(&repo.registry, t).map(Some);
                }
            }
            state.schemes.get(&repo.registry).cloned()
        };
        match scheme {
            None => Ok(None),
            Some(Scheme::Basic) => match self.credential(&repo.registry).await? {
                // An identity token cannot do Basic: the 401 that follows says so.
                Some(c) if !token_only(&c) => basic_header(&repo.registry, &c).map(Some),
                _ => Ok(None),
            },
            Some(Scheme::Bearer { realm, service }) => {
                let token = self
                    .fetch_token(repo, access, &realm, service.as_deref())
                    .await?;
                bearer_header(&repo.registry, &token).map(Some)
            }
        }
    }

    /// Sends a request, authenticating on a 401 and retrying once. A final 401 is
    /// [`Error::Unauthorized`]; every other status is the caller's to handle.
    async fn send(
        &self,
        repo: &Repo,
        access: Access,
        op: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, Error> {
        let upfront = self.upfront_auth(repo, access).await?;
        let had_auth = upfront.is_some();
        let resp = self.execute(repo, op, build(), upfront).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenges: Vec<Challenge> = resp
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(challenge::parse)
            .collect();
        drop(resp);
        {
            let mut state = self.state();
            // Whatever token was sent (possibly for a wider scope) was refused or expired.
            let prefix = scope(repo, "");
            state
                .tokens
                .retain(|(r, s), _| !(r == &repo.registry && s.starts_with(&prefix)));
        }
        let bearer = challenges.iter().find(|c| c.is_bearer());
        let basic = challenges.iter().find(|c| c.is_basic());
        let header = if let Some(b) = bearer {
            let realm = b.param("realm").ok_or_else(|| Error::InvalidHeader {
                registry: repo.registry.clone(),
                header: "WWW-Authenticate",
                reason: "Bearer challenge without realm".to_string(),
            })?;
            let scheme = Scheme::Bearer {
                realm: realm.to_string(),
                service: b.param("service").map(str::to_string),
            };
            self.state()
                .schemes
                .insert(repo.registry.clone(), scheme.clone());
            let token = self
                .fetch_token(repo, access, realm, b.param("service"))
                .await?;
            bearer_header(&repo.registry, &token)?
        } else if basic.is_some() {
            self.state()
                .schemes
                .insert(repo.registry.clone(), Scheme::Basic);
            match self.credential(&repo.registry).await? {
                // oras-go's "missing username or password for basic auth".
                Some(c) if token_only(&c) => {
                    return Err(Error::Unauthorized {
                        registry: repo.registry.clone(),
                        repository: repo.name.clone(),
                        credentials: format!(
                            "the identity token from {} cannot be used: the registry asks for Basic authentication, which needs a username and password",
                            c.source
                        ),
                    });
                }
                Some(c) if !had_auth => basic_header(&repo.registry, &c)?,
                // Credentials were sent and refused, or there are none.
                _ => return Err(self.unauthorized(repo).await),
            }
        } else {
            return Err(Error::InvalidHeader {
                registry: repo.registry.clone(),
                header: "WWW-Authenticate",
                reason: "401 without a Basic or Bearer challenge".to_string(),
            });
        };
        let resp = self.execute(repo, op, build(), Some(header)).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(repo).await);
        }
        Ok(resp)
    }

    async fn execute(
        &self,
        repo: &Repo,
        op: &str,
        req: RequestBuilder,
        auth: Option<HeaderValue>,
    ) -> Result<Response, Error> {
        let req = match auth {
            Some(a) => req.header(AUTHORIZATION, a),
            None => req,
        };
        let mut request = req.build().map_err(|e| classify(&repo.registry, &e))?;
        for delay in RETRY_DELAYS {
            // Streamed bodies cannot be replayed; their first answer is final.
            let Some(again) = request.try_clone() else {
                break;
            };
            let resp = self.execute_once(repo, op, request).await?;
            if !is_transient(resp.status()) {
                return Ok(resp);
            }
            tracing::debug!(
                op,
                status = resp.status().as_u16(),
                "transient answer; retrying"
            );
            drop(resp);
            tokio::time::sleep(with_jitter(delay)).await;
            request = again;
        }
        self.execute_once(repo, op, request).await
    }

    /// One attempt: HTTPS first on a loopback registry, falling back to plain HTTP.
    async fn execute_once(
        &self,
        repo: &Repo,
        op: &str,
        request: reqwest::Request,
    ) -> Result<Response, Error> {
        let retry = request
            .try_clone()
            .filter(|r| self.may_fall_back_to_http(&repo.registry, r.url()));
        let resp = match self.inner.http.execute(request).await {
            Ok(resp) => resp,
            Err(e) => {
                let Some(mut retry) = retry else {
                    return Err(classify(&repo.registry, &e));
                };
                tracing::debug!(op, "HTTPS failed on a loopback registry; trying plain HTTP");
                // Setting a known scheme on an http(s) URL cannot fail.
                let _ = retry.url_mut().set_scheme("http");
                let resp = self
                    .inner
                    .http
                    .execute(retry)
                    .await
                    .map_err(|_| classify(&repo.registry, &e))?;
                self.state().plain_http.insert(repo.registry.clone());
                resp
            }
        };
        tracing::debug!(op, status = resp.status().as_u16(), "registry request");
        Ok(resp)
    }

    async fn unauthorized(&self, repo: &Repo) -> Error {
        let credentials = match self.credential(&repo.registry).await {
            Ok(Some(c)) if token_only(&c) => {
                format!("the identity token from {} was rejected", c.source)
            }
            Ok(Some(c)) => format!(
                "the credentials for user {:?} from {} were rejected",
                c.username, c.source
            ),
            Ok(None) => format!(
                "no credentials found for {} (looked in {}); log in with `docker login {}`",
                repo.registry,
                self.inner.keychain.describe(),
                repo.registry
            ),
            Err(e) => format!("credentials could not be read: {e}"),
        };
        Error::Unauthorized {
            registry: repo.registry.clone(),
            repository: repo.name.clone(),
            credentials,
        }
    }

    async fn fetch_token(
        &self,
        repo: &Repo,
        access: Access,
        realm: &str,
        service: Option<&str>,
    ) -> Result<Secret, Error> {
        let scope = scope(repo, access.actions());
        let key = (repo.registry.clone(), scope.clone());
        if let Some(t) = self.state().tokens.get(&key) {
            return Ok(t.clone());
        }
        let token_err = |reason: String| Error::Token {
            registry: repo.registry.clone(),
            realm: realm.to_string(),
            reason,
        };
        let mut url =
            Url::parse(realm).map_err(|e| token_err(format!("invalid realm URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(token_err("realm is not an http(s) URL".to_string()));
        }
        let cred = self.credential(&repo.registry).await?;
        let host = url.host_str().unwrap_or_default().to_string();
        let host_port = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        if cred.is_some()
            && url.scheme() == "http"
            && !self.inner.options.allow_http
            && !is_loopback_host(&host_port)
            && !is_loopback_host(&host)
        {
            return Err(token_err(
                "refusing to send credentials to a plain-HTTP token service (use --allow-http-registry to allow it)"
                    .to_string(),
            ));
        }
        let refresh_token = cred.as_ref().and_then(|c| c.identity_token.as_ref());
        let req = match refresh_token {
            Some(refresh) => {
                // OAuth2 refresh-token grant, as docker does with an identity token.
                let mut form =
                    Url::parse("http://form.invalid/").map_err(|e| token_err(e.to_string()))?;
                {
                    let mut q = form.query_pairs_mut();
                    q.append_pair("grant_type", "refresh_token");
                    q.append_pair("refresh_token", refresh.expose());
                    q.append_pair("client_id", "signet");
                    q.append_pair("scope", &scope);
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                }
                let body = form.query().unwrap_or_default().to_string();
                self.inner
                    .http
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
            }
            None => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", &scope);
                }
                let req = self.inner.http.get(url.clone());
                match &cred {
                    Some(c) => req.basic_auth(&c.username, Some(c.password.expose())),
                    None => req,
                }
            }
        };
        let resp = req.send().await.map_err(|e| classify(&host_port, &e))?;
        let status = resp.status();
        tracing::debug!(registry = %repo.registry, scope, status = status.as_u16(), "token request");
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(repo).await);
        }
        if !status.is_success() {
            let body = resp.bytes().await.unwrap_or_default();
            let oauth = oauth_error(&body);
            if refresh_token.is_some()
                && status == StatusCode::BAD_REQUEST
                && oauth
                    .as_ref()
                    .is_some_and(|(code, _)| code == "invalid_grant")
            {
                // RFC 6749's answer to an expired, revoked or unknown refresh token.
                return Err(self.unauthorized(repo).await);
            }
            let mut msg = registry_message(&body);
            if msg.is_empty() {
                msg = oauth.map(|(_, m)| m).unwrap_or_default();
            }
            return Err(token_err(format!(
                "status {}{}",
                status.as_u16(),
                if msg.is_empty() {
                    String::new()
                } else {
                    format!(": {msg}")
                }
            )));
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let body = resp.bytes().await.map_err(|e| classify(&host_port, &e))?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| token_err(format!("invalid token response: {e}")))?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| token_err("the response has no token".to_string()))?;
        let token = Secret::new(token);
        self.state().tokens.insert(key, token.clone());
        Ok(token)
    }
}

/// Whether `c` is an identity token alone (no password to send with Basic authentication).
fn token_only(c: &Credential) -> bool {
    c.identity_token.is_some() && c.password.is_empty()
}

/// An OAuth2 error response (RFC 6749 section 5.2): its `error` code and a one-line message
/// (`code: description`, at most 200 characters).
fn oauth_error(body: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    let e: OAuthError = serde_json::from_slice(body).ok()?;
    let text = if e.error_description.is_empty() {
        e.error.clone()
    } else {
        format!("{}: {}", e.error, e.error_description)
    };
    let text = text.chars().filter(|c| !c.is_control()).take(200).collect();
    Some((e.error, text))
}

fn scope(repo: &Repo, actions: &str) -> String {
    format!("repository:{}:{actions}", repo.name)
}

fn manifest_accept() -> String {
    media_types::MANIFEST_ACCEPT.join(", ")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn media_type_of(headers: &HeaderMap) -> String {
    header_str(headers, CONTENT_TYPE.as_str())
        .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_string())
        .unwrap_or_default()
}

fn header_value(registry: &str, header: &'static str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| Error::InvalidHeader {
        registry: registry.to_string(),
        header,
        reason: format!("{value:?} cannot be sent as a header value"),
    })
}

fn bearer_header(registry: &str, token: &Secret) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        Error::InvalidHeader {
            registry: registry.to_string(),
            header: "Authorization",
            reason: "the bearer token contains characters not allowed in a header".to_string(),
        }
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn basic_header(registry: &str, c: &Credential) -> Result<HeaderValue, Error> {
    use base64::Engine as _;
    let raw = format!("{}:{}", c.username, c.password.expose());
    let enc = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut v =
        HeaderValue::from_str(&format!("Basic {enc}")).map_err(|_| Error::InvalidHeader {
            registry: registry.to_string(),
            header: "Authorization",
            reason: "the credentials cannot be sent as a header".to_string(),
        })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The digest of `bytes` with the algorithm of `expected` (sha256 when not sha256-comparable).
fn same_algorithm(expected: &Digest, bytes: &[u8]) -> Digest {
    if expected.algorithm() != "sha256" {
        tracing::debug!(
            algorithm = expected.algorithm(),
            "reporting the sha256 of mismatching content"
        );
    }
    Digest::sha256(bytes)
}

/// Reads a body up to `limit` bytes: `Ok(Err(size))` when it is longer.
async fn read_capped(
    resp: &mut Response,
    limit: u64,
) -> Result<Result<Vec<u8>, u64>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let total = out.len() as u64 + chunk.len() as u64;
        if total > limit {
            return Ok(Err(total));
        }
        out.extend_from_slice(&chunk);
    }
    // Give the connection task a chance to put the connection back in the pool before the
    // next request checks it out (otherwise a second connection may be opened).
    tokio::task::yield_now().await;
    Ok(Ok(out))
}

/// `<url>; rel="next"` → `url`.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

/// The registry's `errors[].message` (and `code`), at most 200 characters.
pub(crate) fn registry_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errs {
        #[serde(default)]
        errors: Vec<E>,
    }
    #[derive(serde::Deserialize)]
    struct E {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let text = match serde_json::from_slice::<Errs>(body) {
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (true, _) => e.message.clone(),
                (false, true) => e.code.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    };
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

async fn status_error(repo: &Repo, op: &str, resp: Response) -> Error {
    let status = resp.status();
    let plain_http = resp.url().scheme() == "http";
    let body = resp.bytes().await.unwrap_or_default();
    let mut message = registry_message(&body);
    if status == StatusCode::BAD_REQUEST && plain_http && message.is_empty() {
        // What an HTTPS server says to a plain-HTTP request (Go answers 400, often with no
        // error JSON, and HEAD carries no body at all).
        message = "the request went over plain HTTP; if this registry serves HTTPS with a \
                   self-signed certificate, pass --allow-insecure-registry"
            .to_string();
    }
    if status == StatusCode::FORBIDDEN {
        return Error::Forbidden {
            registry: repo.registry.clone(),
            repository: repo.name.clone(),
            message,
        };
    }
    Error::UnexpectedStatus {
        registry: repo.registry.clone(),
        operation: op.to_string(),
        status: status.as_u16(),
        message,
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Maps a reqwest error to unreachable / TLS / other.
fn classify(registry: &str, e: &reqwest::Error) -> Error {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let mut io_kind = None;
    let mut last = e.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        last = s.to_string();
        cur = s.source();
    }
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        return Error::Unreachable {
            registry: registry.to_string(),
            reason: "timed out".to_string(),
        };
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("received corrupt message")
    {
        return Error::Tls {
            registry: registry.to_string(),
            reason: last,
        };
    }
    if e.is_connect() {
        let reason = match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
            Some(std::io::ErrorKind::ConnectionReset) => "connection reset".to_string(),
            _ if lower.contains("dns") || lower.contains("lookup") => {
                format!("cannot resolve the host name ({last})")
            }
            _ => last,
        };
        return Error::Unreachable {
            registry: registry.to_string(),
            reason,
        };
    }
    Error::Http {
        registry: registry.to_string(),
        reason: chain,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        r#"</v2/x/tags/list?last=b&n=2>; rel="next""#,
        Some("/v2/x/tags/list?last=b&n=2")
    )]
    #[case(
        r#"<https://r/v2/x/tags/list?n=2&last=b>;rel=next"#,
        Some("https://r/v2/x/tags/list?n=2&last=b")
    )]
    #[case(r#"</a>; rel="prev", </b>; rel="next""#, Some("/b"))]
    #[case(r#"</a>; rel="prev""#, None)]
    #[case("garbage", None)]
    fn link_header(#[case] h: &str, #[case] want: Option<&str>) {
        assert_eq!(next_link(h).as_deref(), want);
    }

    #[test]
    fn registry_error_messages() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}"#;
        assert_eq!(registry_message(body), "MANIFEST_INVALID: manifest invalid");
        assert_eq!(registry_message(b"<html>"), "");
        let long = format!(r#"{{"errors":[{{"message":"{}"}}]}}"#, "x".repeat(500));
        assert_eq!(registry_message(long.as_bytes()).len(), 200);
    }

    #[test]
    fn oauth_error_messages() {
        let (code, msg) =
            oauth_error(br#"{"error":"invalid_grant","error_description":"expired"}"#).unwrap();
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("invalid_grant", "invalid_grant: expired")
        );
        let (code, msg) = oauth_error(br#"{"error":"invalid_request"}"#).unwrap();
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("invalid_request", "invalid_request")
        );
        assert!(oauth_error(br#"{"errors":[]}"#).is_none());
        assert!(oauth_error(b"<html>").is_none());
    }

    #[test]
    fn scheme_choice() {
        let c = RegistryClient::new(ClientOptions::default(), Keychain::anonymous()).unwrap();
        assert_eq!(c.base_url("localhost:5000"), "http://localhost:5000");
        assert_eq!(c.base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(c.base_url("[::1]:5000"), "http://[::1]:5000");
        assert_eq!(c.base_url("ghcr.io"), "https://ghcr.io");
        assert_eq!(c.base_url("index.docker.io"), "https://index.docker.io");
        let c = RegistryClient::new(
            ClientOptions {
                allow_http: true,
                ..Default::default()
            },
            Keychain::anonymous(),
        )
        .unwrap();
        assert_eq!(c.base_url("ghcr.io"), "http://ghcr.io");
    }

    #[test]
    fn repo_from_reference() {
        let r: Reference = "ubuntu:22.04".parse().unwrap();
        let repo = Repo::from(&r);
        assert_eq!(repo, Repo::new("index.docker.io", "library/ubuntu"));
        assert_eq!(repo.to_string(), "index.docker.io/library/ubuntu");
        assert_eq!(repo.describe("v1"), "index.docker.io/library/ubuntu:v1");
        assert_eq!(
            Repo::parse("localhost:5000/a/b").unwrap(),
            Repo::new("localhost:5000", "a/b")
        );
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<RegistryClient>();
    }
}
