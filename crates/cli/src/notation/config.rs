//! `{NOTATION_CONFIG}/config.json`, notation-go's `config.Config`, as far as the artifact
//! commands use it:
//!
//! ```json
//! {"insecureRegistries": ["registry.local:5000"], "signatureFormat": "cose",
//!  "credsStore": "pass", "credHelpers": {"host": "helper"}, "auths": {…}}
//! ```
//!
//! * `insecureRegistries`: registries reached over plain HTTP (notation's
//!   `IsRegistryInsecure`, host[:port] compared case-insensitively), like `--insecure-registry`.
//! * `signatureFormat`: the default of `sign --signature-format`.
//! * Credentials: notation's credential store (`internal/auth.NewCredentialsStore`) is this file
//!   when it configures any (`credsStore`, `credHelpers` or `auths`, oras-go's
//!   `IsAuthConfigured`), else docker's configuration.
//!
//! A missing file is an empty configuration; a file that is not JSON is an error, as in
//! notation.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use serde::Deserialize;
use signet_registry::Keychain;

use super::dirs::NotationDirs;

/// The file name inside the configuration directory.
pub const CONFIG_FILE: &str = "config.json";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    insecure_registries: Vec<String>,
    #[serde(default)]
    signature_format: String,
    #[serde(default, rename = "credsStore")]
    creds_store: String,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    auths: BTreeMap<String, serde_json::Value>,
}

/// What the artifact commands read from `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotationConfig {
    /// Registries to reach over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// The default envelope format (`jws` or `cose`), empty when unset.
    pub signature_format: String,
    /// Whether the file configures registry credentials.
    pub has_credentials: bool,
}

impl NotationConfig {
    /// Loads `config.json` (missing: the defaults).
    pub fn load(dirs: &NotationDirs) -> Result<Self> {
        let path = dirs.file(CONFIG_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(anyhow!("cannot read {}: {e}", path.display())),
        };
        Self::from_json(&bytes).map_err(|e| anyhow!("invalid {}: {e}", path.display()))
    }

    /// Parses the file's contents.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let f: File = serde_json::from_slice(bytes)?;
        Ok(NotationConfig {
            insecure_registries: f.insecure_registries,
            signature_format: f.signature_format,
            has_credentials: !f.creds_store.is_empty()
                || !f.cred_helpers.is_empty()
                || !f.auths.is_empty(),
        })
    }

    /// Whether `registry` (host[:port]) is listed in `insecureRegistries`.
    pub fn is_insecure(&self, registry: &str) -> bool {
        self.insecure_registries
            .iter()
            .any(|r| r.eq_ignore_ascii_case(registry))
    }

    /// The keychain for stored credentials: this file when it configures any, else docker's
    /// (and the containers auth file, as the rest of signet reads them).
    pub fn keychain(&self, dirs: &NotationDirs) -> Keychain {
        if self.has_credentials {
            Keychain::from_files([dirs.file(CONFIG_FILE)])
        } else {
            Keychain::from_env()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_notation_config() {
        let c = NotationConfig::from_json(
            br#"{"insecureRegistries":["Reg.Local:5000"],"signatureFormat":"cose"}"#,
        )
        .unwrap();
        assert!(c.is_insecure("reg.local:5000"));
        assert!(!c.is_insecure("reg.local"));
        assert_eq!(c.signature_format, "cose");
        assert!(!c.has_credentials);
        let c = NotationConfig::from_json(br#"{"auths":{"r":{"auth":"eDp5"}}}"#).unwrap();
        assert!(c.has_credentials);
        let c = NotationConfig::from_json(br#"{"credsStore":"pass"}"#).unwrap();
        assert!(c.has_credentials);
        assert!(NotationConfig::from_json(b"nope").is_err());
    }
}
