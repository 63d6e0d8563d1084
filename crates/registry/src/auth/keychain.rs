//! The [`Keychain`]: where registry credentials come from, looked up as go-containerregistry's
//! default keychain does — the docker config (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`) first, then the containers auth file (`$REGISTRY_AUTH_FILE`, else
//! `$XDG_RUNTIME_DIR/containers/auth.json`, else `~/.config/containers/auth.json`).
//!
//! In each file, a `credHelpers` entry for the registry or else a `credsStore` default names a
//! docker credential helper (`docker-credential-<name> get`, server URL on stdin, JSON
//! `{"Username","Secret"}` on stdout); without a helper the `auths` map is read, whose keys may
//! be `host`, `https://host`, `https://host/v1/` (Docker Hub: `https://index.docker.io/v1/`),
//! with `auth` (base64 `user:password`), `username`/`password` or `identitytoken`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::{Error, Secret};

/// The server URL docker uses for Docker Hub credentials.
pub const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// Credentials for one registry.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The user name (may be empty with an identity token).
    pub username: String,
    /// The password (or the secret a helper returned).
    pub password: Secret,
    /// An OAuth2 refresh token (`identitytoken`) to exchange at the token service.
    pub identity_token: Option<Secret>,
    /// Where the credentials came from, for messages: a file path or `credential helper X`.
    pub source: String,
}

/// Where to look for credentials; cheap to clone.
#[derive(Clone, Debug)]
pub struct Keychain {
    kind: Kind,
    helper_path: Option<OsString>,
}

#[derive(Clone, Debug)]
enum Kind {
    Anonymous,
    Static(HashMap<String, Credential>),
    Files(Vec<PathBuf>),
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Keychain {
    /// No credentials at all.
    pub fn anonymous() -> Self {
        Keychain {
            kind: Kind::Anonymous,
            helper_path: None,
        }
    }

    /// Fixed credentials for one registry (tests); add more with [`Keychain::and_static`].
    pub fn with_static(registry: &str, username: &str, password: &str) -> Self {
        Keychain::anonymous().and_static(registry, username, password)
    }

    /// Adds fixed credentials for `registry` (turns a file keychain into a static one).
    pub fn and_static(self, registry: &str, username: &str, password: &str) -> Self {
        self.and_credential(
            registry,
            Credential {
                username: username.to_string(),
                password: Secret::new(password),
                identity_token: None,
                source: "static credentials".to_string(),
            },
        )
    }

    /// A fixed identity token for one registry: an OAuth2 refresh token, what `notation -p`
    /// without `-u` and docker's `identitytoken` carry. It is exchanged for access tokens at the
    /// registry's token service (`grant_type=refresh_token`); a registry that asks for Basic
    /// authentication cannot use it. Add more with [`Keychain::and_identity_token`].
    pub fn with_identity_token(registry: &str, token: impl Into<Secret>) -> Self {
        Keychain::anonymous().and_identity_token(registry, token)
    }

    /// Adds a fixed identity token for `registry` (turns a file keychain into a static one).
    pub fn and_identity_token(self, registry: &str, token: impl Into<Secret>) -> Self {
        self.and_credential(
            registry,
            Credential {
                username: String::new(),
                password: Secret::new(""),
                identity_token: Some(token.into()),
                source: "static credentials".to_string(),
            },
        )
    }

    fn and_credential(mut self, registry: &str, cred: Credential) -> Self {
        let mut map = match self.kind {
            Kind::Static(map) => map,
            _ => HashMap::new(),
        };
        map.insert(normalize_host(registry), cred);
        self.kind = Kind::Static(map);
        self
    }

    /// The real keychain: the files named by `DOCKER_CONFIG`, `HOME`, `REGISTRY_AUTH_FILE` and
    /// `XDG_RUNTIME_DIR`, read when credentials are needed (missing files are skipped).
    pub fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME");
        let docker = var("DOCKER_CONFIG")
            .map(|d| d.join("config.json"))
            .or_else(|| home.as_ref().map(|h| h.join(".docker/config.json")));
        let containers = var("REGISTRY_AUTH_FILE")
            .or_else(|| var("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")))
            .or_else(|| {
                home.as_ref()
                    .map(|h| h.join(".config/containers/auth.json"))
            });
        Keychain::from_files(docker.into_iter().chain(containers))
    }

    /// A keychain reading these files, in order (docker config.json or containers auth.json
    /// format); the first that has credentials for a registry wins. Missing files are skipped.
    pub fn from_files(files: impl IntoIterator<Item = PathBuf>) -> Self {
        Keychain {
            kind: Kind::Files(files.into_iter().collect()),
            helper_path: None,
        }
    }

    /// Uses `path` (a `PATH`-style list) instead of `$PATH` to find `docker-credential-*`.
    pub fn with_helper_path(mut self, path: impl Into<OsString>) -> Self {
        self.helper_path = Some(path.into());
        self
    }

    /// Where this keychain looks, for messages (`docker config /x/config.json, ...`).
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Anonymous => "anonymous access only".to_string(),
            Kind::Static(_) => "the static credentials given".to_string(),
            Kind::Files(files) if files.is_empty() => "no credential files".to_string(),
            Kind::Files(files) => files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The credentials for `registry` (`host[:port]`), or `None` for anonymous access. May run a
    /// credential helper: blocking; call it from a blocking context.
    pub fn resolve(&self, registry: &str) -> Result<Option<Credential>, Error> {
        match &self.kind {
            Kind::Anonymous => Ok(None),
            Kind::Static(map) => Ok(map.get(&normalize_host(registry)).cloned()),
            Kind::Files(files) => {
                for file in files {
                    let text = match std::fs::read(file) {
                        Ok(t) => t,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => {
                            return Err(Error::AuthFile {
                                path: file.clone(),
                                reason: e.to_string(),
                            });
                        }
                    };
                    if let Some(c) = self.resolve_in(file, &text, registry)? {
                        return Ok(Some(c));
                    }
                }
                Ok(None)
            }
        }
    }

    fn resolve_in(
        &self,
        path: &Path,
        text: &[u8],
        registry: &str,
    ) -> Result<Option<Credential>, Error> {
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let config: ConfigFile = serde_json::from_slice(text).map_err(|e| Error::AuthFile {
            path: path.to_path_buf(),
            reason: format!("invalid JSON: {e}"),
        })?;
        let host = normalize_host(registry);
        let helper = config
            .cred_helpers
            .iter()
            .find(|(k, _)| normalize_host(k) == host)
            .map(|(_, v)| v.clone())
            .or(config.creds_store.clone())
            .filter(|h| !h.is_empty());
        if let Some(helper) = helper {
            return self.run_helper(&helper, registry);
        }
        // An exact key match wins over a host-name match.
        let server = server_url(registry);
        let entry = config
            .auths
            .get(&server)
            .or_else(|| config.auths.get(registry))
            .map(|e| (server.as_str(), e))
            .or_else(|| {
                let mut keys: Vec<&String> = config
                    .auths
                    .keys()
                    .filter(|k| normalize_host(k) == host)
                    .collect();
                keys.sort();
                keys.first()
                    .and_then(|k| config.auths.get(*k).map(|e| (k.as_str(), e)))
            });
        match entry {
            Some((key, e)) => decode_entry(path, key, e),
            None => Ok(None),
        }
    }

    fn run_helper(&self, helper: &str, registry: &str) -> Result<Option<Credential>, Error> {
        let fail = |reason: String| Error::CredentialHelper {
            helper: helper.to_string(),
            registry: registry.to_string(),
            reason,
        };
        let program = format!("docker-credential-{helper}");
        let exe = find_in_path(&program, self.helper_path.as_deref())
            .ok_or_else(|| fail(format!("{program} was not found on PATH")))?;
        let mut child = Command::new(&exe)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", exe.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading stdin gives EPIPE here: not fatal by itself.
            let _ = stdin.write_all(server_url(registry).as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| fail(format!("cannot run {}: {e}", exe.display())))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stdout.contains("credentials not found") || stderr.contains("credentials not found")
            {
                return Ok(None);
            }
            let first = stdout
                .lines()
                .chain(stderr.lines())
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let first: String = first.chars().take(200).collect();
            return Err(fail(format!("{}: {first}", out.status)));
        }
        let parsed: HelperOutput = serde_json::from_str(stdout.trim())
            .map_err(|e| fail(format!("invalid JSON on stdout: {e}")))?;
        let source = format!("credential helper {program}");
        if parsed.username == "<token>" {
            return Ok(Some(Credential {
                username: String::new(),
                password: Secret::new(""),
                identity_token: Some(Secret::new(parsed.secret)),
                source,
            }));
        }
        Ok(Some(Credential {
            username: parsed.username,
            password: Secret::new(parsed.secret),
            identity_token: None,
            source,
        }))
    }
}

fn decode_entry(path: &Path, key: &str, e: &AuthEntry) -> Result<Option<Credential>, Error> {
    let bad = |reason: String| Error::AuthFile {
        path: path.to_path_buf(),
        reason: format!("entry {key:?}: {reason}"),
    };
    let source = path.display().to_string();
    let identity_token = e
        .identitytoken
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    let (mut username, mut password) = (
        e.username.clone().unwrap_or_default(),
        e.password.clone().unwrap_or_default(),
    );
    if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("\"auth\" is not valid base64".to_string()))?;
        let decoded =
            String::from_utf8(decoded).map_err(|_| bad("\"auth\" is not UTF-8".to_string()))?;
        let (u, p) = decoded
            .split_once(':')
            .ok_or_else(|| bad("\"auth\" is not base64 of user:password".to_string()))?;
        username = u.to_string();
        password = p.to_string();
    }
    if username.is_empty() && password.is_empty() && identity_token.is_none() {
        return Ok(None);
    }
    Ok(Some(Credential {
        username,
        password: Secret::new(password),
        identity_token,
        source,
    }))
}

/// The server URL docker uses as the key for `registry`: Docker Hub's is
/// `https://index.docker.io/v1/`, every other registry's is its `host[:port]`.
pub fn server_url(registry: &str) -> String {
    if normalize_host(registry) == "index.docker.io" {
        DOCKER_HUB_SERVER.to_string()
    } else {
        registry.to_string()
    }
}

/// `https://host/v1/` → `host`; Docker Hub's aliases → `index.docker.io`.
fn normalize_host(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => "index.docker.io".to_string(),
        _ => host,
    }
}

fn find_in_path(program: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let env_path;
    let path = match path {
        Some(p) => p,
        None => {
            env_path = std::env::var_os("PATH")?;
            env_path.as_os_str()
        }
    };
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[rstest]
    #[case("ghcr.io", "ghcr.io")]
    #[case("https://ghcr.io", "ghcr.io")]
    #[case("https://ghcr.io/v1/", "ghcr.io")]
    #[case("http://localhost:5000", "localhost:5000")]
    #[case("https://index.docker.io/v1/", "index.docker.io")]
    #[case("https://index.docker.io/v1/", "docker.io")]
    #[case("docker.io", "index.docker.io")]
    #[case("registry-1.docker.io", "index.docker.io")]
    fn auth_key_forms(#[case] key: &str, #[case] registry: &str) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            r#"{{"auths":{{"{key}":{{"auth":"{}"}}}}}}"#,
            b64("alice:s3cr:et")
        );
        let p = write(dir.path(), "config.json", &cfg);
        let c = Keychain::from_files([p.clone()])
            .resolve(registry)
            .unwrap()
            .expect("credentials");
        assert_eq!(c.username, "alice");
        assert_eq!(c.password.expose(), "s3cr:et");
        assert_eq!(c.source, p.display().to_string());
        // Another registry gets nothing.
        assert!(
            Keychain::from_files([p])
                .resolve("quay.io")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn username_password_and_identity_token() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "auth.json",
            r#"{"auths":{"a.example":{"username":"u","password":"p"},
                         "b.example":{"identitytoken":"refresh-me"},
                         "c.example":{}}}"#,
        );
        let k = Keychain::from_files([p]);
        let a = k.resolve("a.example").unwrap().unwrap();
        assert_eq!((a.username.as_str(), a.password.expose()), ("u", "p"));
        let b = k.resolve("b.example").unwrap().unwrap();
        assert_eq!(b.identity_token.unwrap().expose(), "refresh-me");
        assert!(k.resolve("c.example").unwrap().is_none());
    }

    #[test]
    fn order_missing_files_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(
            dir.path(),
            "one.json",
            r#"{"auths":{"x.example":{"auth":""}}}"#,
        );
        let second = write(
            dir.path(),
            "two.json",
            &format!(
                r#"{{"auths":{{"x.example":{{"auth":"{}"}}}}}}"#,
                b64("bob:pw")
            ),
        );
        let k = Keychain::from_files([dir.path().join("missing.json"), first, second]);
        assert_eq!(k.resolve("x.example").unwrap().unwrap().username, "bob");

        let bad = write(dir.path(), "bad.json", "{not json");
        let e = Keychain::from_files([bad])
            .resolve("x.example")
            .unwrap_err();
        assert!(e.to_string().contains("invalid JSON"), "{e}");

        let bad64 = write(
            dir.path(),
            "bad64.json",
            r#"{"auths":{"x.example":{"auth":"%%%"}}}"#,
        );
        let e = Keychain::from_files([bad64])
            .resolve("x.example")
            .unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        assert!(!e.to_string().contains("%%%"));
    }

    #[test]
    fn missing_helper_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "c.json", r#"{"credsStore":"nonexistent-xyz"}"#);
        let e = Keychain::from_files([p])
            .with_helper_path(dir.path())
            .resolve("x.example")
            .unwrap_err();
        assert!(
            e.to_string().contains("docker-credential-nonexistent-xyz"),
            "{e}"
        );
    }

    #[test]
    fn static_and_anonymous() {
        let k = Keychain::with_static("https://Localhost:5000", "u", "p");
        assert_eq!(k.resolve("localhost:5000").unwrap().unwrap().username, "u");
        assert!(k.resolve("localhost:5001").unwrap().is_none());
        assert!(Keychain::anonymous().resolve("x").unwrap().is_none());
        assert_eq!(server_url("docker.io"), DOCKER_HUB_SERVER);
        assert_eq!(server_url("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn static_identity_token() {
        let k = Keychain::with_identity_token("https://Reg.Example:5000", "refresh-1").and_static(
            "other.example",
            "u",
            "p",
        );
        let c = k.resolve("reg.example:5000").unwrap().unwrap();
        assert!(c.username.is_empty() && c.password.is_empty());
        assert_eq!(c.identity_token.as_ref().unwrap().expose(), "refresh-1");
        assert!(!format!("{c:?}").contains("refresh-1"));
        let o = k.resolve("other.example").unwrap().unwrap();
        assert!(o.identity_token.is_none());
        assert!(k.resolve("third.example").unwrap().is_none());
    }
}
