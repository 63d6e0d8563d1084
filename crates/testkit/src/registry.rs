//! [`TestRegistry`]: a real CNCF distribution (`docker-registry` 2.8) process on a
//! free loopback port, storing into a fresh temporary directory, optionally
//! protected by htpasswd basic auth or Bearer token auth.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::client::{Credentials, Pusher};
use crate::fixtures::{PushedImage, PushedIndex};
use crate::token::{TokenServer, TokenServerConfig};

/// Environment variable that overrides the registry binary path.
pub const REGISTRY_BIN_ENV: &str = "SIGNET_TEST_REGISTRY_BIN";

/// How long to wait for the registry to answer `GET /v2/`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How many ports to try when the registry fails to bind.
const BIND_ATTEMPTS: usize = 5;

/// The registry binary: `$SIGNET_TEST_REGISTRY_BIN`, else `docker-registry` on `PATH`,
/// else `/usr/bin/docker-registry`; `None` if none exists.
pub fn registry_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(REGISTRY_BIN_ENV) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("docker-registry"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/bin/docker-registry")).filter(|p| p.is_file()))
}

/// Whether a registry binary is available (tests may skip when it is not).
pub fn registry_available() -> bool {
    registry_binary().is_some()
}

/// Which authentication the registry demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Anonymous read/write.
    None,
    /// HTTP basic auth against an htpasswd (bcrypt) file.
    Htpasswd,
    /// Bearer tokens from an in-process [`TokenServer`].
    Token,
}

/// Builder for [`TestRegistry`]; start from [`TestRegistry::builder`].
#[derive(Debug, Clone)]
pub struct TestRegistryBuilder {
    auth: AuthMode,
    credentials: Option<Credentials>,
    anonymous_pull: bool,
    token_lifetime: Duration,
    identity_token: Option<String>,
    tls: bool,
}

impl TestRegistryBuilder {
    /// Serve HTTPS with a fresh self-signed certificate (for `localhost`, `localhost.` and
    /// `127.0.0.1`) instead of plain HTTP. The [`Pusher`] speaks plain HTTP only, so push
    /// fixtures with another client (skopeo) to such a registry.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Require HTTP basic auth with exactly these credentials (htpasswd, bcrypt).
    pub fn htpasswd(mut self, user: &str, password: &str) -> Self {
        self.auth = AuthMode::Htpasswd;
        self.credentials = Some(Credentials::new(user, password));
        self
    }

    /// Require Bearer tokens from an in-process token server. The token endpoint
    /// requires the [`credentials`](Self::credentials) if set; without them it
    /// issues every requested scope to anyone.
    pub fn token_auth(mut self) -> Self {
        self.auth = AuthMode::Token;
        self
    }

    /// Credentials: for the token endpoint in token mode (htpasswd sets its own).
    pub fn credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some(Credentials::new(user, password));
        self
    }

    /// Token mode with credentials: also give anonymous token requests `pull` access.
    pub fn anonymous_pull(mut self) -> Self {
        self.anonymous_pull = true;
        self
    }

    /// Token mode: the token endpoint also accepts this identity token (an OAuth2 refresh
    /// token, as `docker login` stores in `identitytoken`) in a `grant_type=refresh_token`
    /// POST, and refuses any other. Anonymous token requests are then refused (unless
    /// [`anonymous_pull`](Self::anonymous_pull)).
    pub fn identity_token(mut self, token: &str) -> Self {
        self.identity_token = Some(token.to_string());
        self
    }

    /// Token mode: lifetime of issued tokens (default 300 s).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Starts the registry and waits until it answers. Panics (with the registry's
    /// log) if it cannot be started.
    pub fn start(self) -> TestRegistry {
        TestRegistry::start_with(self)
    }
}

/// A running `docker-registry` on `127.0.0.1`. Killed and reaped on drop; its
/// temporary directory is removed.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    port: u16,
    dir: TempDir,
    auth: AuthMode,
    credentials: Option<Credentials>,
    token: Option<TokenServer>,
    tls_cert_pem: Option<String>,
}

impl TestRegistry {
    /// An anonymous registry (shorthand for `TestRegistry::builder().start()`).
    pub fn start() -> TestRegistry {
        TestRegistry::builder().start()
    }

    /// A builder for auth'd variants.
    pub fn builder() -> TestRegistryBuilder {
        TestRegistryBuilder {
            auth: AuthMode::None,
            credentials: None,
            anonymous_pull: false,
            token_lifetime: Duration::from_secs(300),
            identity_token: None,
            tls: false,
        }
    }

    fn start_with(b: TestRegistryBuilder) -> TestRegistry {
        let bin = registry_binary().unwrap_or_else(|| {
            panic!(
                "testkit: no docker-registry binary (install Debian's `docker-registry`, \
                 or set {REGISTRY_BIN_ENV})"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("signet-registry-")
            .tempdir()
            .expect("testkit: creating the registry temp dir");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).expect("testkit: creating registry storage dir");

        let mut auth_yaml = String::new();
        let mut token = None;
        match b.auth {
            AuthMode::None => {}
            AuthMode::Htpasswd => {
                let creds = b
                    .credentials
                    .as_ref()
                    .expect("testkit: htpasswd mode needs credentials");
                let hash = bcrypt::hash_with_result(&creds.password, 4)
                    .expect("testkit: bcrypt hashing")
                    .format_for_version(bcrypt::Version::TwoY);
                let path = dir.path().join("htpasswd");
                std::fs::write(&path, format!("{}:{hash}\n", creds.user))
                    .expect("testkit: writing htpasswd");
                auth_yaml = format!(
                    "auth:\n  htpasswd:\n    realm: signet-testkit\n    path: {}\n",
                    yaml_str(&path)
                );
            }
            AuthMode::Token => {
                let server = TokenServer::start(TokenServerConfig {
                    credentials: b
                        .credentials
                        .as_ref()
                        .map(|c| (c.user.clone(), c.password.clone())),
                    anonymous_actions: if b.anonymous_pull {
                        vec!["pull".to_string()]
                    } else {
                        Vec::new()
                    },
                    lifetime: b.token_lifetime,
                    identity_token: b.identity_token.clone(),
                    ..TokenServerConfig::default()
                });
                let bundle = dir.path().join("token-root.pem");
                std::fs::write(&bundle, server.root_cert_pem())
                    .expect("testkit: writing token root bundle");
                auth_yaml = format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    yaml_str(Path::new(&server.realm())),
                    yaml_str(Path::new(server.service())),
                    yaml_str(Path::new(server.issuer())),
                    yaml_str(&bundle)
                );
                token = Some(server);
            }
        }

        let mut tls_yaml = String::new();
        let mut tls_cert_pem = None;
        if b.tls {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .expect("testkit: generating the TLS key");
            let params = rcgen::CertificateParams::new(vec![
                "localhost".to_string(),
                "localhost.".to_string(),
                "127.0.0.1".to_string(),
            ])
            .expect("testkit: TLS certificate parameters");
            let cert = params
                .self_signed(&key)
                .expect("testkit: self-signing the TLS certificate");
            let cert_path = dir.path().join("tls-cert.pem");
            let key_path = dir.path().join("tls-key.pem");
            std::fs::write(&cert_path, cert.pem()).expect("testkit: writing TLS cert");
            std::fs::write(&key_path, key.serialize_pem()).expect("testkit: writing TLS key");
            tls_yaml = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                yaml_str(&cert_path),
                yaml_str(&key_path)
            );
            tls_cert_pem = Some(cert.pem());
        }

        let config_path = dir.path().join("config.yml");
        let log_path = dir.path().join("registry.log");
        let mut last_log = String::new();
        for _attempt in 0..BIND_ATTEMPTS {
            let port = crate::free_port();
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: signet-testkit-{:016x}\n\
                 {tls_yaml}{auth_yaml}",
                yaml_str(&storage),
                fastrand::u64(..),
            );
            std::fs::write(&config_path, config).expect("testkit: writing registry config");
            let log = File::create(&log_path).expect("testkit: creating registry log");
            let log_err = log.try_clone().expect("testkit: cloning log handle");
            // A tiny sh supervisor: the registry runs in the background; a reader
            // of our stdin pipe kills it when the pipe closes, which happens on
            // drop *and* when this test process dies (even by SIGKILL), so no
            // registry outlives its test. sh exits with the registry's status.
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(SUPERVISOR)
                .arg(&bin)
                .arg(&config_path)
                .stdin(Stdio::piped())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .unwrap_or_else(|e| panic!("testkit: spawning {}: {e}", bin.display()));
            match wait_ready(&mut child, port, b.tls) {
                Ok(()) => {
                    return TestRegistry {
                        child,
                        port,
                        dir,
                        auth: b.auth,
                        credentials: b.credentials,
                        token,
                        tls_cert_pem,
                    };
                }
                Err(why) => {
                    stop_supervised(&mut child);
                    last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    let bind_failure =
                        last_log.contains("address already in use") || last_log.contains("bind:");
                    if !bind_failure {
                        panic!(
                            "testkit: docker-registry on 127.0.0.1:{port} did not become ready: \
                             {why}\n--- registry log ---\n{last_log}"
                        );
                    }
                }
            }
        }
        panic!(
            "testkit: docker-registry could not bind a port in {BIND_ATTEMPTS} attempts\n\
             --- last registry log ---\n{last_log}"
        );
    }

    /// `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `"http://127.0.0.1:PORT"` (no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.tls_cert_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The self-signed certificate (PEM) of a [`tls`](TestRegistryBuilder::tls) registry.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls_cert_pem.as_deref()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry's storage root (`storage.filesystem.rootdirectory`); blobs live
    /// under `docker/registry/v2/blobs/sha256/XX/HEX/data`.
    pub fn root_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The temporary directory holding config, log, auth files and storage.
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The registry's log so far (stdout and stderr, with access log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The authentication mode.
    pub fn auth_mode(&self) -> AuthMode {
        self.auth
    }

    /// The credentials given to the builder, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The token server (token mode only).
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// Requests that reached the token endpoint so far (0 without token auth).
    /// Fixture pushes count too: compare before/after values.
    pub fn token_requests(&self) -> usize {
        self.token.as_ref().map_or(0, TokenServer::token_requests)
    }

    /// A [`Pusher`] for this registry, carrying the builder's credentials.
    pub fn pusher(&self) -> Pusher {
        let p = Pusher::new(&self.addr());
        match &self.credentials {
            Some(c) => p.with_credentials(&c.user, &c.password),
            None => p,
        }
    }

    /// Pushes a random image using the builder's credentials.
    pub fn push_random_image(&self, repo: &str, tag: &str) -> PushedImage {
        self.pusher().push_random_image(repo, tag)
    }

    /// Pushes a random index using the builder's credentials.
    pub fn push_random_index(&self, repo: &str, tag: &str, n_children: usize) -> PushedIndex {
        self.pusher().push_random_index(repo, tag, n_children)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        stop_supervised(&mut self.child);
    }
}

/// `sh -c SUPERVISOR BIN CONFIG`: see the spawn site.
const SUPERVISOR: &str = r#"exec 3<&0 </dev/null
"$0" serve "$1" 3<&- &
pid=$!
(read _unused <&3; kill -9 "$pid" 2>/dev/null) &
exec 3<&-
wait "$pid""#;

/// Closes the supervisor's stdin (so it kills the registry) and reaps it; falls
/// back to killing the supervisor after a few seconds.
fn stop_supervised(child: &mut Child) {
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_str(p: &Path) -> String {
    serde_json::Value::String(p.to_string_lossy().into_owned()).to_string()
}

/// Polls `GET /v2/` until any HTTP status line arrives from our child.
fn wait_ready(child: &mut Child, port: u16, tls: bool) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the registry exited early ({status})"));
        }
        if let Some(code) = probe(port) {
            // Make sure the answer came from our child, not a port squatter.
            if child.try_wait().map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            // An HTTPS server answers a plain-HTTP probe with 400.
            if code == 200 || code == 401 || (tls && code == 400) {
                return Ok(());
            }
            return Err(format!("GET /v2/ answered {code}"));
        }
        if Instant::now() > deadline {
            return Err(format!("no answer within {READY_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn probe(port: u16) -> Option<u16> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(
        format!("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()
}
