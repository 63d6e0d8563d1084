//! [`Pusher`]: a minimal, independent OCI distribution client (blocking `ureq`)
//! for putting fixtures into a registry and reading them back. It handles
//! anonymous access, HTTP basic auth and the Bearer token dance, nothing more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::fixtures::{self, PushedImage, PushedIndex};
use crate::http::{parse_challenge, percent_encode};

/// Accept header covering every manifest type a fixture may fetch.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// User name and password for basic auth (registry or token endpoint).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl Credentials {
    /// New credentials.
    pub fn new(user: &str, password: &str) -> Credentials {
        Credentials {
            user: user.to_string(),
            password: password.to_string(),
        }
    }

    /// The value of an `Authorization: Basic …` header.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.user, self.password))
        )
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// An HTTP response as returned by [`Pusher::request`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// Body (empty for HEAD).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A tiny registry client for fixtures. Every method panics with a clear message
/// on failure (it is test support). Cheap to create; not shared between tests.
#[derive(Debug)]
pub struct Pusher {
    addr: String,
    credentials: Option<Credentials>,
    agent: ureq::Agent,
    /// `Authorization` header values that worked, keyed by repository.
    auth_cache: Mutex<HashMap<String, String>>,
}

impl Pusher {
    /// An anonymous client for the registry at `addr` (`"127.0.0.1:PORT"`).
    pub fn new(addr: &str) -> Pusher {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent("signet-testkit")
            .build()
            .new_agent();
        Pusher {
            addr: addr.to_string(),
            credentials: None,
            agent,
            auth_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Uses these credentials for basic auth or for the token endpoint.
    pub fn with_credentials(mut self, user: &str, password: &str) -> Pusher {
        self.credentials = Some(Credentials::new(user, password));
        self
    }

    /// The registry address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends one request as given, without answering any auth challenge.
    pub fn send_raw(
        &self,
        method: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        self.raw(method, &self.url_for(path_or_url), headers, body, None)
    }

    fn url_for(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("http://{}{}", self.addr, path_or_url)
        }
    }

    /// Sends one request to `path` (`"/v2/…"`) or an absolute URL, answering
    /// basic/Bearer challenges with the credentials (tokens are cached per `repo`).
    pub fn request(
        &self,
        repo: &str,
        method: &str,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let url = self.url_for(path_or_url);
        let cached = self.cache().get(repo).cloned();
        let first = self.raw(method, &url, headers, body, cached.as_deref());
        if first.status != 401 {
            return first;
        }
        let Some(challenge) = first.header("www-authenticate") else {
            return first;
        };
        let Some(auth) = self.answer(challenge) else {
            return first;
        };
        let second = self.raw(method, &url, headers, body, Some(&auth));
        if second.status != 401 {
            self.cache().insert(repo.to_string(), auth);
        }
        second
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.auth_cache
            .lock()
            .expect("testkit: pusher auth cache lock")
    }

    /// Computes an `Authorization` value answering a `WWW-Authenticate` challenge.
    fn answer(&self, challenge: &str) -> Option<String> {
        let (scheme, params) = parse_challenge(challenge);
        match scheme.as_str() {
            "basic" => self.credentials.as_ref().map(Credentials::basic_header),
            "bearer" => {
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                let realm = get("realm")?;
                let mut query = Vec::new();
                if let Some(s) = get("service") {
                    query.push(format!("service={}", percent_encode(s)));
                }
                if let Some(s) = get("scope") {
                    for scope in s.split(' ') {
                        query.push(format!("scope={}", percent_encode(scope)));
                    }
                }
                let url = if query.is_empty() {
                    realm.to_string()
                } else {
                    format!("{realm}?{}", query.join("&"))
                };
                let basic = self.credentials.as_ref().map(Credentials::basic_header);
                let resp = self.raw("GET", &url, &[], &[], basic.as_deref());
                if resp.status != 200 {
                    // Denied: the caller gets the registry's original 401.
                    return None;
                }
                let v: serde_json::Value = serde_json::from_slice(&resp.body)
                    .expect("testkit: token endpoint answered non-JSON");
                let token = v["token"]
                    .as_str()
                    .or_else(|| v["access_token"].as_str())
                    .expect("testkit: token response without token");
                Some(format!("Bearer {token}"))
            }
            _ => None,
        }
    }

    fn raw(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        auth: Option<&str>,
    ) -> HttpResponse {
        let mut b = ureq::http::Request::builder().method(method).uri(url);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        let with_body = matches!(method, "PUT" | "POST" | "PATCH");
        let result = if with_body {
            self.agent
                .run(b.body(body).expect("testkit: building an HTTP request"))
        } else {
            self.agent
                .run(b.body(()).expect("testkit: building an HTTP request"))
        };
        let mut resp = result.unwrap_or_else(|e| panic!("testkit: {method} {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            resp.body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap_or_else(|e| panic!("testkit: reading body of {method} {url}: {e}"))
        };
        HttpResponse {
            status,
            headers,
            body,
        }
    }

    /// Uploads a blob (monolithic: POST then PUT `?digest=`); returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = fixtures::sha256_digest(data);
        let start = self.request(
            repo,
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            &[],
        );
        assert_eq!(
            start.status,
            202,
            "testkit: starting a blob upload to {repo} answered {}: {}",
            start.status,
            String::from_utf8_lossy(&start.body)
        );
        let location = start
            .header("location")
            .expect("testkit: blob upload answered without Location");
        let sep = if location.contains('?') { '&' } else { '?' };
        let put_url = format!("{location}{sep}digest={}", percent_encode(&digest));
        let len = data.len().to_string();
        let put = self.request(
            repo,
            "PUT",
            &put_url,
            &[
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", &len),
            ],
            data,
        );
        assert_eq!(
            put.status,
            201,
            "testkit: completing blob upload {digest} to {repo} answered {}: {}",
            put.status,
            String::from_utf8_lossy(&put.body)
        );
        digest
    }

    /// PUTs a manifest under `reference` (tag or digest); returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let digest = fixtures::sha256_digest(body);
        let resp = self.request(
            repo,
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            body,
        );
        assert_eq!(
            resp.status,
            201,
            "testkit: PUT manifest {repo}:{reference} answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        if let Some(d) = resp.header("docker-content-digest") {
            assert_eq!(
                d, digest,
                "testkit: registry computed another manifest digest"
            );
        }
        digest
    }

    /// GETs a manifest; returns its bytes and `Content-Type`.
    pub fn fetch_manifest(&self, repo: &str, reference: &str) -> (Vec<u8>, String) {
        let resp = self.request(
            repo,
            "GET",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", MANIFEST_ACCEPT)],
            &[],
        );
        assert_eq!(
            resp.status,
            200,
            "testkit: GET manifest {repo}:{reference} answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        let ct = resp.header("content-type").unwrap_or("").to_string();
        (resp.body, ct)
    }

    /// GETs a blob's bytes.
    pub fn fetch_blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let resp = self.request(repo, "GET", &format!("/v2/{repo}/blobs/{digest}"), &[], &[]);
        assert_eq!(
            resp.status, 200,
            "testkit: GET blob {repo}@{digest} answered {}",
            resp.status
        );
        resp.body
    }

    /// Pushes a random single-platform OCI image (config + one layer) as `repo:tag`.
    pub fn push_random_image(&self, repo: &str, tag: &str) -> PushedImage {
        self.push_image_parts(repo, tag, fixtures::random_image_parts(None))
    }

    fn push_image_parts(
        &self,
        repo: &str,
        reference: &str,
        parts: fixtures::ImageParts,
    ) -> PushedImage {
        self.push_blob(repo, &parts.config);
        for layer in &parts.layers {
            self.push_blob(repo, layer);
        }
        let digest = self.push_manifest(
            repo,
            reference,
            fixtures::OCI_IMAGE_MANIFEST,
            &parts.manifest,
        );
        PushedImage {
            digest,
            manifest: parts.manifest,
            media_type: fixtures::OCI_IMAGE_MANIFEST.to_string(),
            config_digest: parts.config_digest,
            layer_digests: parts.layer_digests,
            repo: repo.to_string(),
            registry: self.addr.clone(),
        }
    }

    /// Pushes an OCI image index of `n_children` random images, each with a
    /// distinct platform, as `repo:tag` (children are pushed by digest).
    pub fn push_random_index(&self, repo: &str, tag: &str, n_children: usize) -> PushedIndex {
        let mut children = Vec::with_capacity(n_children);
        let mut descriptors = Vec::with_capacity(n_children);
        for i in 0..n_children {
            let platform = fixtures::platform(i);
            let parts = fixtures::random_image_parts(Some(&platform));
            let digest = fixtures::sha256_digest(&parts.manifest);
            let size = parts.manifest.len();
            self.push_image_parts(repo, &digest, parts);
            descriptors.push(serde_json::json!({
                "mediaType": fixtures::OCI_IMAGE_MANIFEST,
                "digest": digest,
                "size": size,
                "platform": platform,
            }));
            children.push(digest);
        }
        let manifest = serde_json::to_vec_pretty(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": fixtures::OCI_IMAGE_INDEX,
            "manifests": descriptors,
        }))
        .expect("testkit: serialising an index");
        let digest = self.push_manifest(repo, tag, fixtures::OCI_IMAGE_INDEX, &manifest);
        PushedIndex {
            digest,
            manifest,
            media_type: fixtures::OCI_IMAGE_INDEX.to_string(),
            children,
            repo: repo.to_string(),
            registry: self.addr.clone(),
        }
    }
}
