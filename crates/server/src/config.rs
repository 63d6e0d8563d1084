//! The service's configuration: one TOML file, every key overridable by a `SIGNET_*`
//! environment variable, and the embedded defaults (SQLite and a software key store in the
//! data directory, the local token issuer).
//!
//! | key | env | default |
//! |---|---|---|
//! | `listen` | `SIGNET_LISTEN` | `127.0.0.1:8080` |
//! | `data_dir` | `SIGNET_DATA_DIR` | `$HOME/.local/share/signet` |
//! | `database_url` | `SIGNET_DATABASE_URL` | `sqlite:<data_dir>/signet.db` |
//! | `admin_group` | `SIGNET_ADMIN_GROUP` | `admins` |
//! | `product_approval_group` | `SIGNET_PRODUCT_APPROVAL_GROUP` | `product-approvers` |
//! | `request_expiry` | `SIGNET_REQUEST_EXPIRY` | `7d` |
//! | `signing_timeout` | `SIGNET_SIGNING_TIMEOUT` | `10m` |
//! | `local_tokens` | `SIGNET_LOCAL_TOKENS` | `true` |
//! | `log_format` | `SIGNET_LOG_FORMAT` | `json` (or `text`) |
//! | `pkcs11.module` | `SIGNET_PKCS11_MODULE` | (software key store) |
//! | `pkcs11.token_label` | `SIGNET_PKCS11_TOKEN_LABEL` | |
//! | `pkcs11.pin_file` | `SIGNET_PKCS11_PIN_FILE` | |
//! | `pkcs11.pin` | `SIGNET_PKCS11_PIN` | (prefer `pin_file`) |
//! | `oidc.issuer` | `SIGNET_OIDC_ISSUER` | (no OIDC) |
//! | `oidc.audience` | `SIGNET_OIDC_AUDIENCE` | |
//! | `oidc.jwks_url` / `oidc.jwks_file` | `SIGNET_OIDC_JWKS_URL` / `SIGNET_OIDC_JWKS_FILE` | |
//! | `oidc.groups_claim` | `SIGNET_OIDC_GROUPS_CLAIM` | `groups` |
//! | `oidc.user_claim` | `SIGNET_OIDC_USER_CLAIM` | `sub` |
//! | `oidc.org_claim` | `SIGNET_OIDC_ORG_CLAIM` | `org` |
//!
//! Command-line flags (`--data-dir`, `--listen`) win over the environment, which wins over
//! the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::RunArgs;

/// Configuration errors: one line naming the key or file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("invalid configuration {path}: {message}")]
    Invalid {
        /// The file (or the environment).
        path: String,
        /// Why (names the key).
        message: String,
    },
    /// A value is unusable.
    #[error("configuration key {key}: {message}")]
    Value {
        /// The key.
        key: &'static str,
        /// Why.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listen address.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Data directory.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite:…` or `postgres://…`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Group whose members manage products.
    #[serde(default = "default_admin_group")]
    pub admin_group: String,
    /// Group whose members approve products and their changes.
    #[serde(default = "default_product_approval_group")]
    pub product_approval_group: String,
    /// How long a request waits for approval (`90s`, `30m`, `12h`, `7d`).
    #[serde(default = "default_request_expiry")]
    pub request_expiry: String,
    /// A request still InProcess this long after its last change (its replica stopped while
    /// signing) is failed; it is never signed again automatically.
    #[serde(default = "default_signing_timeout")]
    pub signing_timeout: String,
    /// Accept tokens of the local issuer.
    #[serde(default = "default_true")]
    pub local_tokens: bool,
    /// `json` or `text`.
    #[serde(default = "default_log_format")]
    pub log_format: String,
    /// The PKCS#11 key backend (absent: the software key store).
    #[serde(default)]
    pub pkcs11: Option<Pkcs11Section>,
    /// An OIDC identity provider.
    #[serde(default)]
    pub oidc: Option<OidcSection>,
}

/// `[pkcs11]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Section {
    /// The module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token label.
    pub token_label: String,
    /// A file holding the user PIN (first line).
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
    /// The PIN itself (prefer `pin_file` or `SIGNET_PKCS11_PIN`).
    #[serde(default)]
    pub pin: Option<String>,
}

impl std::fmt::Debug for Pkcs11Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Section")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin_file", &self.pin_file)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `[oidc]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Where the JWKS is fetched from.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Or read from.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The claim with the user's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// The claim with the user id.
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// The claim with the organisation.
    #[serde(default = "default_org_claim")]
    pub org_claim: String,
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_owned()
}
fn default_admin_group() -> String {
    "admins".to_owned()
}
fn default_product_approval_group() -> String {
    "product-approvers".to_owned()
}
fn default_request_expiry() -> String {
    "7d".to_owned()
}
fn default_signing_timeout() -> String {
    "10m".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_log_format() -> String {
    "json".to_owned()
}
fn default_groups_claim() -> String {
    "groups".to_owned()
}
fn default_user_claim() -> String {
    "sub".to_owned()
}
fn default_org_claim() -> String {
    "org".to_owned()
}

/// Environment variables and the config keys they set (`section.key`).
const ENV_KEYS: &[(&str, &str)] = &[
    ("SIGNET_LISTEN", "listen"),
    ("SIGNET_DATA_DIR", "data_dir"),
    ("SIGNET_DATABASE_URL", "database_url"),
    ("SIGNET_ADMIN_GROUP", "admin_group"),
    ("SIGNET_PRODUCT_APPROVAL_GROUP", "product_approval_group"),
    ("SIGNET_REQUEST_EXPIRY", "request_expiry"),
    ("SIGNET_SIGNING_TIMEOUT", "signing_timeout"),
    ("SIGNET_LOCAL_TOKENS", "local_tokens"),
    ("SIGNET_LOG_FORMAT", "log_format"),
    ("SIGNET_PKCS11_MODULE", "pkcs11.module"),
    ("SIGNET_PKCS11_TOKEN_LABEL", "pkcs11.token_label"),
    ("SIGNET_PKCS11_PIN_FILE", "pkcs11.pin_file"),
    ("SIGNET_PKCS11_PIN", "pkcs11.pin"),
    ("SIGNET_OIDC_ISSUER", "oidc.issuer"),
    ("SIGNET_OIDC_AUDIENCE", "oidc.audience"),
    ("SIGNET_OIDC_JWKS_URL", "oidc.jwks_url"),
    ("SIGNET_OIDC_JWKS_FILE", "oidc.jwks_file"),
    ("SIGNET_OIDC_GROUPS_CLAIM", "oidc.groups_claim"),
    ("SIGNET_OIDC_USER_CLAIM", "oidc.user_claim"),
    ("SIGNET_OIDC_ORG_CLAIM", "oidc.org_claim"),
];

impl Config {
    /// Loads the file named by `args.config` (if any), overlays `SIGNET_*` variables from
    /// `env`, then the flags.
    pub fn load(
        args: &RunArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let (mut table, origin) = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                let table: toml::Table =
                    toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                        path: path.display().to_string(),
                        message: one_line(&e.to_string()),
                    })?;
                (table, path.display().to_string())
            }
            None => (toml::Table::new(), "(defaults)".to_owned()),
        };
        for (var, key) in ENV_KEYS {
            if let Some(value) = env(var) {
                let value = if *key == "local_tokens" {
                    match value.as_str() {
                        "true" | "1" => toml::Value::Boolean(true),
                        "false" | "0" => toml::Value::Boolean(false),
                        _ => {
                            return Err(ConfigError::Value {
                                key: "local_tokens",
                                message: format!("{var} must be true or false"),
                            });
                        }
                    }
                } else {
                    toml::Value::String(value)
                };
                set(&mut table, key, value);
            }
        }
        if let Some(dir) = &args.data_dir {
            set(
                &mut table,
                "data_dir",
                toml::Value::String(dir.display().to_string()),
            );
        }
        if let Some(listen) = &args.listen {
            set(&mut table, "listen", toml::Value::String(listen.clone()));
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: origin,
                    message: one_line(&e.to_string()),
                })?;
        config.request_expiry()?;
        config.signing_timeout()?;
        if let Some(oidc) = &config.oidc
            && oidc.jwks_url.is_none() == oidc.jwks_file.is_none()
        {
            return Err(ConfigError::Value {
                key: "oidc",
                message: "set exactly one of jwks_url and jwks_file".to_owned(),
            });
        }
        if !matches!(config.log_format.as_str(), "json" | "text") {
            return Err(ConfigError::Value {
                key: "log_format",
                message: format!("{:?} is neither json nor text", config.log_format),
            });
        }
        if !config.local_tokens && config.oidc.is_none() {
            return Err(ConfigError::Value {
                key: "local_tokens",
                message: "with local tokens off, configure [oidc] or nobody can sign in".to_owned(),
            });
        }
        Ok(config)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".local/share/signet")
        })
    }

    /// The database URL.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| sqlite_url(&self.data_dir().join("signet.db")))
    }

    /// How long requests wait for approval.
    pub fn request_expiry(&self) -> Result<Duration, ConfigError> {
        signet_auth::parse_ttl(&self.request_expiry).map_err(|e| ConfigError::Value {
            key: "request_expiry",
            message: e.to_string(),
        })
    }
}

impl Config {
    /// How long a request may stay InProcess.
    pub fn signing_timeout(&self) -> Result<Duration, ConfigError> {
        signet_auth::parse_ttl(&self.signing_timeout).map_err(|e| ConfigError::Value {
            key: "signing_timeout",
            message: e.to_string(),
        })
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    match key.split_once('.') {
        Some((section, rest)) => {
            let entry = table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                set(inner, rest, value);
            }
        }
        None => {
            table.insert(key.to_owned(), value);
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let config = file.map(|text| {
            let p = dir.path().join("signet.toml");
            std::fs::write(&p, text).unwrap();
            p
        });
        let args = RunArgs {
            config,
            data_dir: None,
            listen: None,
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(&args, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults() {
        let c = load(None, &[("SIGNET_DATA_DIR", "/tmp/x")]).unwrap();
        assert_eq!(c.admin_group, "admins");
        assert_eq!(c.product_approval_group, "product-approvers");
        assert_eq!(c.database_url(), "sqlite:/tmp/x/signet.db");
        assert_eq!(c.request_expiry().unwrap(), Duration::from_secs(7 * 86400));
        assert!(c.pkcs11.is_none() && c.oidc.is_none());
    }

    #[test]
    fn env_overrides_file() {
        let c = load(
            Some("admin_group = \"ops\"\n[pkcs11]\nmodule = \"/m.so\"\ntoken_label = \"t\"\n"),
            &[
                ("SIGNET_ADMIN_GROUP", "root"),
                ("SIGNET_PKCS11_PIN", "1234"),
                ("SIGNET_DATABASE_URL", "postgres://db/x"),
            ],
        )
        .unwrap();
        assert_eq!(c.admin_group, "root");
        let p = c.pkcs11.as_ref().unwrap();
        assert_eq!(p.pin.as_deref(), Some("1234"));
        assert!(!format!("{p:?}").contains("1234"));
        assert_eq!(c.database_url(), "postgres://db/x");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = load(Some("admin_gruop = \"x\"\n"), &[]).unwrap_err();
        assert!(e.to_string().contains("admin_gruop"), "{e}");
    }

    #[test]
    fn bad_values() {
        assert!(load(None, &[("SIGNET_REQUEST_EXPIRY", "soon")]).is_err());
        assert!(load(None, &[("SIGNET_LOCAL_TOKENS", "maybe")]).is_err());
        assert!(load(None, &[("SIGNET_LOCAL_TOKENS", "false")]).is_err());
        assert!(load(Some("[oidc]\nissuer = \"i\"\naudience = \"a\"\n"), &[]).is_err());
    }
}
