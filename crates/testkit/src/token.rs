//! An in-process Bearer token server for distribution's `auth: token` mode.
//!
//! It serves `GET /token?service=…&scope=…` (the Docker token protocol) and
//! `POST /token` (the OAuth2 forms: `grant_type=password`, and `grant_type=refresh_token`
//! with a configured identity token), checks HTTP basic credentials, and answers `{"token": …, "access_token": …, "expires_in": …, "issued_at": …}`
//! with an ES256 JWT whose `x5c` header carries a self-signed certificate; the
//! registry trusts that certificate through its `rootcertbundle`.

use std::io::Write as _;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::http::{self, Request};

/// What a [`TokenServer`] issues and to whom.
#[derive(Debug, Clone)]
pub struct TokenServerConfig {
    /// The `service` (JWT `aud`) the registry expects.
    pub service: String,
    /// The JWT `iss` the registry expects.
    pub issuer: String,
    /// Basic credentials the token endpoint requires; `None` issues tokens to anyone.
    pub credentials: Option<(String, String)>,
    /// Actions granted to requests without credentials when `credentials` is set
    /// (for example `["pull"]`); empty means anonymous requests get 401.
    pub anonymous_actions: Vec<String>,
    /// Lifetime of issued tokens (`expires_in`).
    pub lifetime: Duration,
    /// An identity token (OAuth2 refresh token) accepted by `POST` with
    /// `grant_type=refresh_token` (and a `client_id`); any other refresh token is refused with
    /// `400 invalid_grant`. When set, anonymous requests are treated as when `credentials` is.
    pub identity_token: Option<String>,
}

impl Default for TokenServerConfig {
    fn default() -> Self {
        TokenServerConfig {
            service: "signet-test-registry".into(),
            issuer: "signet-testkit".into(),
            credentials: None,
            anonymous_actions: Vec::new(),
            lifetime: Duration::from_secs(300),
            identity_token: None,
        }
    }
}

/// The JWT `sub` of tokens issued for the configured identity token.
pub const IDENTITY_TOKEN_SUBJECT: &str = "identity-token-user";

struct Shared {
    config: TokenServerConfig,
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    requests: AtomicUsize,
    log: Mutex<Vec<String>>,
    forms: Mutex<Vec<Vec<(String, String)>>>,
}

/// A running token server on a loopback port. Stops on drop.
pub struct TokenServer {
    addr: SocketAddr,
    cert_pem: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    /// Generates a fresh P-256 key and self-signed certificate and starts serving
    /// on a free loopback port.
    pub fn start(config: TokenServerConfig) -> TokenServer {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .expect("testkit: generating the token signing key");
        let mut params = rcgen::CertificateParams::new(vec!["signet-testkit-token".to_string()])
            .expect("testkit: token certificate parameters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "signet-testkit token signer");
        let cert = params
            .self_signed(&key)
            .expect("testkit: self-signing the token certificate");
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der())
                .expect("testkit: loading the token signing key into aws-lc-rs");
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("testkit: binding the token server port");
        let addr = listener
            .local_addr()
            .expect("testkit: token server address");
        let shared = Arc::new(Shared {
            config,
            key: signer,
            cert_der: cert.der().to_vec(),
            requests: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
            forms: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name(format!("testkit-token-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared, stop))
                .expect("testkit: spawning the token server thread")
        };
        TokenServer {
            addr,
            cert_pem: cert.pem(),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The token endpoint, `http://127.0.0.1:PORT/token` (the challenge's `realm`).
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The service name (JWT audience).
    pub fn service(&self) -> &str {
        &self.shared.config.service
    }

    /// The issuer name.
    pub fn issuer(&self) -> &str {
        &self.shared.config.issuer
    }

    /// PEM of the certificate the registry must trust (its `rootcertbundle`).
    pub fn root_cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// How many HTTP requests reached the token endpoint (including rejected ones).
    pub fn token_requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Request targets (method, path and query) seen so far, in order.
    pub fn request_log(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .expect("testkit: token log lock")
            .clone()
    }

    /// The form fields of every `POST /token` so far, in order, with the values of `password`
    /// and `refresh_token` replaced by `<redacted>`.
    pub fn form_log(&self) -> Vec<Vec<(String, String)>> {
        self.shared
            .forms
            .lock()
            .expect("testkit: token form log lock")
            .clone()
    }

    /// Mints a token directly (not counted), for `subject` with the given scopes
    /// (`"repository:NAME:pull,push"`).
    pub fn issue_token(&self, subject: &str, scopes: &[&str]) -> String {
        let access: Vec<Value> = scopes.iter().filter_map(|s| parse_scope(s, None)).collect();
        mint(&self.shared, subject, access)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else { continue };
        let shared = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("testkit-token-conn".into())
            .spawn(move || handle(stream, &shared));
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(req) = http::read_request(&mut stream) else {
        return;
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    shared
        .log
        .lock()
        .expect("testkit: token log lock")
        .push(format!("{} {}", req.method, req.target));
    let (status, reason, body) = respond(&req, shared);
    let mut headers = vec![("Content-Type", "application/json")];
    if status == 401 {
        headers.push(("WWW-Authenticate", "Basic realm=\"signet-testkit token\""));
    }
    let _ = http::write_response(&mut stream, status, reason, &headers, body.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn error(status: u16, reason: &'static str, msg: &str) -> (u16, &'static str, String) {
    (
        status,
        reason,
        json!({"errors": [{"code": "DENIED", "message": msg}]}).to_string(),
    )
}

/// An OAuth2 error response (RFC 6749 section 5.2).
fn oauth_error(code: &str, description: &str) -> (u16, &'static str, String) {
    (
        400,
        "Bad Request",
        json!({"error": code, "error_description": description}).to_string(),
    )
}

fn respond(req: &Request, shared: &Shared) -> (u16, &'static str, String) {
    if req.path() != "/token" {
        return error(404, "Not Found", "no such endpoint");
    }
    let params = match req.method.as_str() {
        "GET" => req.query(),
        "POST" => {
            let form = http::parse_form(&String::from_utf8_lossy(&req.body));
            let redacted = form
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "password" | "refresh_token" => (k.clone(), "<redacted>".to_string()),
                    _ => (k.clone(), v.clone()),
                })
                .collect();
            shared
                .forms
                .lock()
                .expect("testkit: token form log lock")
                .push(redacted);
            let mut p = req.query();
            p.extend(form);
            p
        }
        _ => return error(405, "Method Not Allowed", "use GET or POST"),
    };
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let config = &shared.config;
    if req.method == "POST" {
        match get("grant_type").as_deref() {
            None | Some("password") => {}
            Some("refresh_token") => {
                if get("client_id").is_none_or(|c| c.is_empty()) {
                    return oauth_error("invalid_request", "client_id is required");
                }
                return match (&config.identity_token, get("refresh_token")) {
                    (Some(expected), Some(got)) if *expected == got => {
                        issue(shared, &params, IDENTITY_TOKEN_SUBJECT, None)
                    }
                    _ => oauth_error("invalid_grant", "invalid refresh token"),
                };
            }
            Some(_) => return oauth_error("unsupported_grant_type", "unsupported grant_type"),
        }
    }
    // Credentials: basic header, or username/password form fields (POST).
    let mut presented: Option<(String, String)> = req
        .header("authorization")
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|raw| {
            let s = String::from_utf8(raw).ok()?;
            let (u, p) = s.split_once(':')?;
            Some((u.to_string(), p.to_string()))
        });
    if presented.is_none()
        && req.method == "POST"
        && let (Some(u), Some(p)) = (get("username"), get("password"))
    {
        presented = Some((u, p));
    }
    let required = config.credentials.is_some() || config.identity_token.is_some();
    let (subject, allowed): (String, Option<&[String]>) = match (&config.credentials, &presented) {
        (Some(expected), Some(got)) if expected == got => (got.0.clone(), None),
        (_, Some(_)) if required => return error(401, "Unauthorized", "invalid credentials"),
        (_, Some(got)) => (got.0.clone(), None),
        (_, None) if required && config.anonymous_actions.is_empty() => {
            return error(401, "Unauthorized", "credentials required");
        }
        (_, None) if required => (String::new(), Some(config.anonymous_actions.as_slice())),
        (_, None) => (String::new(), None),
    };
    issue(shared, &params, &subject, allowed)
}

/// Answers with a token for `subject` carrying the requested scopes (restricted to `allowed`).
fn issue(
    shared: &Shared,
    params: &[(String, String)],
    subject: &str,
    allowed: Option<&[String]>,
) -> (u16, &'static str, String) {
    let config = &shared.config;
    let access: Vec<Value> = params
        .iter()
        .filter(|(n, _)| n == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter_map(|s| parse_scope(&s, allowed))
        .collect();
    let token = mint(shared, subject, access);
    let now = SystemTime::now();
    let body = json!({
        "token": token,
        "access_token": token,
        "expires_in": config.lifetime.as_secs(),
        "issued_at": rfc3339(now),
    });
    (200, "OK", body.to_string())
}

/// `type:name:actions` → JSON access entry (name may contain `:` e.g. a port).
fn parse_scope(scope: &str, allowed: Option<&[String]>) -> Option<Value> {
    let (ty, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .filter(|a| allowed.is_none_or(|al| al.iter().any(|x| x == a)))
        .collect();
    Some(json!({"type": ty, "name": name, "actions": actions}))
}

fn mint(shared: &Shared, subject: &str, access: Vec<Value>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("testkit: clock before 1970")
        .as_secs();
    let header = json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [STANDARD.encode(&shared.cert_der)],
    });
    let claims = json!({
        "iss": shared.config.issuer,
        "sub": subject,
        "aud": shared.config.service,
        "exp": now + shared.config.lifetime.as_secs(),
        "nbf": now.saturating_sub(60),
        "iat": now,
        "jti": format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = shared
        .key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("testkit: signing a token");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Formats a time as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_251_199)),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn scope_parsing() {
        let v = parse_scope("repository:a/b:pull,push", None).unwrap();
        assert_eq!(
            v,
            json!({"type":"repository","name":"a/b","actions":["pull","push"]})
        );
        let only_pull = ["pull".to_string()];
        let v = parse_scope("repository:a:pull,push", Some(&only_pull)).unwrap();
        assert_eq!(v["actions"], json!(["pull"]));
        assert!(parse_scope("bogus", None).is_none());
    }
}
