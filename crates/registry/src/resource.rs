//! Resources named by URI wherever a policy or key path is accepted: `kbs:///REPO/TYPE/TAG`
//! from a key broker (`GET {KBS_URL}/kbs/v0/resource/REPO/TYPE/TAG`, as Confidential
//! Containers' KBS serves them), `file://` URIs, and plain paths. A resource that cannot be
//! fetched is an error naming the URI, so that whatever needed it fails closed.

use crate::Error;

const MAX_RESOURCE_BYTES: u64 = 16 * 1024 * 1024;

fn resource_error(uri: &str, reason: impl Into<String>) -> Error {
    Error::Resource {
        uri: uri.to_string(),
        reason: reason.into(),
    }
}

/// Where `kbs:///…` resources are fetched from.
#[derive(Debug, Clone, Default)]
pub struct ResourceFetcher {
    http: reqwest::Client,
    kbs_url: Option<String>,
}

impl ResourceFetcher {
    /// A fetcher for the key broker at `kbs_url` (e.g. `http://127.0.0.1:8080`), if any.
    pub fn new(http: reqwest::Client, kbs_url: Option<String>) -> Self {
        ResourceFetcher { http, kbs_url }
    }

    /// Fetches the bytes behind `uri`.
    pub async fn fetch(&self, uri: &str) -> Result<Vec<u8>, Error> {
        if let Some(rest) = uri.strip_prefix("kbs://") {
            // kbs:///repo/type/tag, or kbs://host/repo/type/tag (the host is ignored: the
            // broker is the configured one, as the CoCo attestation agent does).
            let path = match rest.split_once('/') {
                Some((_, p)) => p,
                None => return Err(resource_error(uri, "expected kbs:///REPOSITORY/TYPE/TAG")),
            };
            let parts: Vec<&str> = path.split('/').collect();
            if parts.len() != 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || *p == "." || *p == "..")
            {
                return Err(resource_error(uri, "expected kbs:///REPOSITORY/TYPE/TAG"));
            }
            let base = self.kbs_url.as_deref().ok_or_else(|| {
                resource_error(
                    uri,
                    "no key broker configured: pass --kbs-url or set SIGNET_KBS_URL",
                )
            })?;
            let url = format!("{}/kbs/v0/resource/{path}", base.trim_end_matches('/'));
            let resp = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| resource_error(uri, format!("cannot reach {url}: {e}")))?;
            if !resp.status().is_success() {
                return Err(resource_error(
                    uri,
                    format!("{url} answered {}", resp.status()),
                ));
            }
            if resp
                .content_length()
                .is_some_and(|l| l > MAX_RESOURCE_BYTES)
            {
                return Err(resource_error(uri, "resource larger than 16 MiB"));
            }
            return Ok(resp
                .bytes()
                .await
                .map_err(|e| resource_error(uri, e.to_string()))?
                .to_vec());
        }
        let path = match uri.strip_prefix("file://") {
            Some(p) => p,
            None if uri.contains("://") => {
                return Err(resource_error(
                    uri,
                    "unsupported URI scheme (kbs://, file:// or a path)",
                ));
            }
            None => uri,
        };
        let meta = std::fs::metadata(path).map_err(|e| resource_error(uri, e.to_string()))?;
        if meta.len() > MAX_RESOURCE_BYTES {
            return Err(resource_error(uri, "resource larger than 16 MiB"));
        }
        std::fs::read(path).map_err(|e| resource_error(uri, e.to_string()))
    }
}
