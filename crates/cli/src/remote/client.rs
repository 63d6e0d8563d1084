//! The HTTP client of the service: bearer authentication (the header is marked sensitive and
//! the token is never printed), JSON in and out, and the service's problem JSON turned into
//! [`ApiError`] (`<detail> (HTTP 403)`).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::error::{ApiError, Unreachable};
use super::token::Secret;

/// Most bytes of an error body quoted when it is not problem JSON.
const MAX_QUOTED: usize = 200;

/// A client of one organisation's API (`…/{org}/api/v1`).
pub struct Client {
    base: String,
    http: reqwest::Client,
    auth: HeaderValue,
    debug: bool,
}

/// The options of [`Client::new`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Accept any TLS certificate (`--skipssl`).
    pub skip_tls_verify: bool,
    /// Print each request's method, URL and status on stderr (never headers or the token).
    pub debug: bool,
}

impl Client {
    /// A client of the API at `base` (`http(s)://host[:port]/{org}/api/v1`).
    pub fn new(base: &str, token: &Secret, options: Options) -> Result<Client> {
        let base = base.trim().trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&base).with_context(|| {
            format!(
                "invalid API URL {base:?} (expected e.g. https://signet.example.com/acme/api/v1)"
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("invalid API URL {base:?}: the scheme must be http or https");
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("invalid API URL {base:?}: no query or fragment allowed");
        }
        if options.skip_tls_verify {
            eprintln!(
                "WARNING: --skipssl: the service's TLS certificate is not verified; anyone on the network path can read the token and forge answers"
            );
        }
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                anyhow::anyhow!("the token contains characters not allowed in an HTTP header")
            })?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .tls_danger_accept_invalid_certs(options.skip_tls_verify)
            .build()
            .context("setting up the HTTP client")?;
        Ok(Client {
            base,
            http,
            auth,
            debug: options.debug,
        })
    }

    /// The API URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let url = self.url(path);
        if self.debug {
            eprintln!("debug: {method} {url}");
        }
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, accept);
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(b)?);
        }
        let resp = req.send().await.map_err(|e| unreachable(&url, &e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| unreachable(&url, &e))?;
        if self.debug {
            eprintln!(
                "debug: {method} {url} -> {} ({} bytes)",
                status.as_u16(),
                bytes.len()
            );
        }
        if !status.is_success() {
            return Err(problem(status, &bytes).into());
        }
        Ok((status, bytes.to_vec()))
    }

    /// GET a JSON document.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let (_, bytes) = self
            .send(Method::GET, path, None, "application/json")
            .await?;
        json(&bytes, path)
    }

    /// GET raw bytes (a PEM key, a signature).
    pub async fn get_bytes(&self, path: &str, accept: &str) -> Result<Vec<u8>> {
        Ok(self.send(Method::GET, path, None, accept).await?.1)
    }

    /// POST a JSON body; the JSON answer, or `None` for 204 / an empty body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        let (status, bytes) = self
            .send(Method::POST, path, Some(body), "application/json")
            .await?;
        optional_json(status, &bytes, path)
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> Result<Option<Value>> {
        let (status, bytes) = self
            .send(Method::POST, path, None, "application/json")
            .await?;
        optional_json(status, &bytes, path)
    }

    /// PUT a JSON body; the JSON answer.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        let (status, bytes) = self
            .send(Method::PUT, path, Some(body), "application/json")
            .await?;
        optional_json(status, &bytes, path)
    }

    /// PATCH a JSON body; the JSON answer.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        let (status, bytes) = self
            .send(Method::PATCH, path, Some(body), "application/json")
            .await?;
        optional_json(status, &bytes, path)
    }

    /// DELETE; the JSON answer, or `None` for 204 / an empty body.
    pub async fn delete(&self, path: &str) -> Result<Option<Value>> {
        let (status, bytes) = self
            .send(Method::DELETE, path, None, "application/json")
            .await?;
        optional_json(status, &bytes, path)
    }

    /// Every item of a paginated list (`path` may carry a query): page 1, then each next
    /// page until `pages`. Returns the envelope with all items (`next`/`prev` empty).
    pub async fn get_all(&self, path: &str) -> Result<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut page = 1u64;
        let mut count = Value::Null;
        loop {
            let env = self.get(&format!("{path}{sep}page={page}")).await?;
            let Some(list) = env.get("items").and_then(Value::as_array) else {
                bail!("the service's answer to {path} is not a list envelope (no items)");
            };
            if list.is_empty() {
                break;
            }
            items.extend(list.iter().cloned());
            count = env.get("count").cloned().unwrap_or(Value::Null);
            let pages = env.get("pages").and_then(Value::as_u64).unwrap_or(1);
            let next = env.get("next").and_then(Value::as_str).unwrap_or("");
            // 1000 pages of 10 is far more than any organisation holds; stop a looping server.
            if page >= pages || next.is_empty() || page >= 1000 {
                break;
            }
            page += 1;
        }
        if count.is_null() {
            count = Value::from(items.len());
        }
        Ok(serde_json::json!({
            "count": count,
            "items": items,
            "next": "",
            "prev": "",
            "pages": 1,
        }))
    }
}

/// A percent-encoded path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn json(bytes: &[u8], path: &str) -> Result<Value> {
    serde_json::from_slice(bytes)
        .with_context(|| format!("the service's answer to {path} is not JSON"))
}

fn optional_json(status: StatusCode, bytes: &[u8], path: &str) -> Result<Option<Value>> {
    if status == StatusCode::NO_CONTENT || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    json(bytes, path).map(Some)
}

/// The service's error: problem JSON's `detail`, else its `title`, else the body's start,
/// else the status's reason.
fn problem(status: StatusCode, body: &[u8]) -> ApiError {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        ["detail", "title", "message", "error"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_str).map(str::to_string))
            .filter(|s| !s.trim().is_empty())
    });
    let detail = from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_string()
        } else {
            let mut t: String = text.chars().take(MAX_QUOTED).collect();
            if t.len() < text.len() {
                t.push('…');
            }
            t
        }
    });
    ApiError {
        status: status.as_u16(),
        detail,
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> Unreachable {
    let mut reason = e.to_string();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cause {
        reason = c.to_string();
        cause = c.source();
    }
    if e.is_timeout() {
        reason = format!("timed out ({reason})");
    }
    Unreachable {
        url: url.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_detail() {
        let p = problem(
            StatusCode::FORBIDDEN,
            br#"{"type":"about:blank","title":"Forbidden","status":403,"detail":"user alice is not in any of the operation's allowedGroups"}"#,
        );
        assert_eq!(
            p.to_string(),
            "user alice is not in any of the operation's allowedGroups (HTTP 403)"
        );
        let p = problem(StatusCode::NOT_FOUND, b"");
        assert_eq!(p.to_string(), "Not Found (HTTP 404)");
        let p = problem(StatusCode::BAD_GATEWAY, b"upstream down\n");
        assert_eq!(p.to_string(), "upstream down (HTTP 502)");
    }

    #[test]
    fn encoding() {
        assert_eq!(enc("a b/c"), "a%20b%2Fc");
        assert_eq!(enc("OCI-prod_1.x"), "OCI-prod_1.x");
    }

    #[test]
    fn rejects_bad_urls() {
        let t = Secret::new("t");
        assert!(Client::new("ftp://x/acme/api/v1", &t, Options::default()).is_err());
        assert!(Client::new("not a url", &t, Options::default()).is_err());
        let c = Client::new("http://127.0.0.1:1/acme/api/v1/", &t, Options::default()).unwrap();
        assert_eq!(c.base(), "http://127.0.0.1:1/acme/api/v1");
        assert!(
            Client::new(
                "http://h/a/api/v1",
                &Secret::new("a\nb"),
                Options::default()
            )
            .is_err()
        );
    }
}
