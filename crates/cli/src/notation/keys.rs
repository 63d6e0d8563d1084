//! `{NOTATION_CONFIG}/signingkeys.json`, notation-go's `config.SigningKeys`:
//!
//! ```json
//! {
//!     "default": "NAME",
//!     "keys": [
//!         {"name": "NAME", "keyPath": "/abs/key.pem", "certPath": "/abs/chain.pem"},
//!         {"name": "P", "id": "KEY-ID", "pluginName": "PLUGIN", "pluginConfig": {"k": "v"}}
//!     ]
//! }
//! ```
//!
//! `default` is omitted when unset, empty fields are omitted, written with four-space
//! indentation and a final newline (Go's `json.Encoder` with `SetIndent("", "    ")`).
//! Loading applies notation-go's `validateKeys` checks; a missing file is an empty list; a
//! symlink or directory in its place is refused.
//!
//! Local key files ([`read_private_key`]) are what notation accepts, unencrypted PEM (PKCS#8,
//! PKCS#1 or SEC1), and, as a signet extension, cosign's encrypted key files (`ENCRYPTED
//! SIGSTORE PRIVATE KEY`, as `signet generate-key-pair` writes them), opened with the password
//! from `SIGNET_PASSWORD` / `COSIGN_PASSWORD`, a terminal prompt or standard input, as `signet
//! sign --key` does.

use std::collections::BTreeMap;

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use signet_crypto::{PrivateKey, cosign_key};

use super::dirs::{NotationDirs, SIGNING_KEYS};
use super::fsio;

/// One named signing key: a local key pair or a plugin key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySuite {
    /// The key's name.
    pub name: String,
    /// Local key: the PEM private key file.
    pub key_path: String,
    /// Local key: the PEM certificate chain file, leaf first.
    pub cert_path: String,
    /// Plugin key: the key id.
    pub id: String,
    /// Plugin key: the plugin's name.
    pub plugin_name: String,
    /// Plugin key: configuration passed to the plugin.
    pub plugin_config: BTreeMap<String, String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningKeys {
    /// The default key's name.
    pub default: Option<String>,
    /// The keys, in insertion order.
    pub keys: Vec<KeySuite>,
}

impl SigningKeys {
    /// Loads the file, or an empty list when it does not exist.
    pub fn load(dirs: &NotationDirs) -> Result<Self> {
        let path = dirs.file(SIGNING_KEYS);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => bail!("cannot read {}: {e}", path.display()),
        };
        if !meta.file_type().is_file() {
            bail!(
                "{:?} is not a regular file (symlinks are not supported)",
                path.display().to_string()
            );
        }
        let bytes =
            std::fs::read(&path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        let keys = Self::from_json(&bytes).map_err(|e| anyhow!("malformed {SIGNING_KEYS}: {e}"))?;
        keys.validate()?;
        Ok(keys)
    }

    /// Validates and writes the file (`0600`, directory `0700`).
    pub fn save(&self, dirs: &NotationDirs) -> Result<()> {
        self.validate()?;
        fsio::write_private(&dirs.file(SIGNING_KEYS), &self.to_json()?)
    }

    /// Parses the file as Go's `encoding/json` would: unknown fields are ignored, `null`
    /// is an absent value, a wrongly typed field is an error.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: Value = serde_json::from_slice(bytes)?;
        let Value::Object(root) = value else {
            bail!("expected a JSON object");
        };
        let default = opt_string(root.get("default"), "default")?;
        let keys = match root.get("keys") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| KeySuite::from_value(item, i))
                .collect::<Result<_>>()?,
            Some(_) => bail!("\"keys\" must be an array"),
        };
        Ok(SigningKeys { default, keys })
    }

    /// The file's bytes: Go's field order, four-space indentation, final newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = String::from("{\n");
        if let Some(default) = &self.default {
            out.push_str(&format!("    \"default\": {},\n", quote(default)?));
        }
        if self.keys.is_empty() {
            out.push_str("    \"keys\": []\n}\n");
            return Ok(out.into_bytes());
        }
        out.push_str("    \"keys\": [\n");
        for (i, key) in self.keys.iter().enumerate() {
            let mut fields = vec![("name", quote(&key.name)?)];
            for (field, value) in [
                ("keyPath", &key.key_path),
                ("certPath", &key.cert_path),
                ("id", &key.id),
                ("pluginName", &key.plugin_name),
            ] {
                if !value.is_empty() {
                    fields.push((field, quote(value)?));
                }
            }
            if !key.plugin_config.is_empty() {
                let mut map = String::from("{\n");
                let last = key.plugin_config.len() - 1;
                for (j, (k, v)) in key.plugin_config.iter().enumerate() {
                    let comma = if j == last { "" } else { "," };
                    map.push_str(&format!(
                        "                {}: {}{comma}\n",
                        quote(k)?,
                        quote(v)?
                    ));
                }
                map.push_str("            }");
                fields.push(("pluginConfig", map));
            }
            out.push_str("        {\n");
            let last = fields.len() - 1;
            for (j, (field, value)) in fields.iter().enumerate() {
                let comma = if j == last { "" } else { "," };
                out.push_str(&format!("            \"{field}\": {value}{comma}\n"));
            }
            let comma = if i + 1 == self.keys.len() { "" } else { "," };
            out.push_str(&format!("        }}{comma}\n"));
        }
        out.push_str("    ]\n}\n");
        Ok(out.into_bytes())
    }

    /// notation-go's `validateKeys`.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for key in &self.keys {
            if key.name.is_empty() {
                bail!("malformed {SIGNING_KEYS}: key name cannot be empty");
            }
            if !seen.insert(key.name.as_str()) {
                bail!(
                    "malformed {SIGNING_KEYS}: multiple keys with name '{}' found",
                    key.name
                );
            }
        }
        if let Some(default) = &self.default {
            if default.is_empty() {
                bail!("malformed {SIGNING_KEYS}: default key name cannot be empty");
            }
            if !seen.contains(default.as_str()) {
                bail!("malformed {SIGNING_KEYS}: default key '{default}' not found");
            }
        }
        Ok(())
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.name == name)
    }

    /// Adds a key, refusing a name already present.
    pub fn add(&mut self, key: KeySuite, make_default: bool) -> Result<()> {
        if key.name.is_empty() {
            bail!("key name cannot be empty");
        }
        if self.position(&key.name).is_some() {
            bail!("signing key with name {:?} already exists", key.name);
        }
        if make_default {
            self.default = Some(key.name.clone());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Marks `name` as the default key.
    pub fn set_default(&mut self, name: &str) -> Result<()> {
        if name.is_empty() {
            bail!("key name cannot be empty");
        }
        if self.position(name).is_none() {
            bail!("signing key {name} not found");
        }
        self.default = Some(name.to_owned());
        Ok(())
    }

    /// Removes `names` in order, stopping at the first unknown one (as notation-go does, in
    /// which case nothing is saved). Returns the removed names.
    pub fn remove(&mut self, names: &[String]) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for name in names {
            if name.is_empty() {
                bail!("key name cannot be empty");
            }
            let Some(index) = self.position(name) else {
                bail!("signing key {name} not found");
            };
            self.keys.remove(index);
            if self.default.as_deref() == Some(name.as_str()) {
                self.default = None;
            }
            removed.push(name.clone());
        }
        Ok(removed)
    }
}

impl KeySuite {
    fn from_value(value: &Value, index: usize) -> Result<Self> {
        let Value::Object(map) = value else {
            bail!("key #{index} must be an object");
        };
        let field = |name: &str| -> Result<String> {
            Ok(opt_string(map.get(name), name)?.unwrap_or_default())
        };
        let plugin_config = match map.get("pluginConfig") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(anyhow!("\"pluginConfig\" values must be strings")),
                })
                .collect::<Result<_>>()?,
            Some(_) => bail!("\"pluginConfig\" must be an object"),
        };
        Ok(KeySuite {
            name: field("name")?,
            key_path: field("keyPath")?,
            cert_path: field("certPath")?,
            id: field("id")?,
            plugin_name: field("pluginName")?,
            plugin_config,
        })
    }
}

/// Whether a PEM text is a cosign encrypted private key file.
pub fn is_cosign_key(pem: &str) -> bool {
    [cosign_key::PEM_LABEL, cosign_key::LEGACY_PEM_LABEL]
        .iter()
        .any(|label| pem.contains(&format!("-----BEGIN {label}-----")))
}

/// Opens the key of a local key entry: a `pkcs11:` URI (RFC 7512, as `signet sign --key`
/// takes it: the private key stays on the token), else a key file (see
/// [`read_private_key`]).
pub fn read_signing_key(key_path: &str) -> Result<crate::keyref::SigningKey> {
    if key_path.starts_with("pkcs11:") {
        return Ok(crate::keyref::SigningKey::Pkcs11(Box::new(
            crate::keyref::open_pkcs11(key_path)?,
        )));
    }
    Ok(crate::keyref::SigningKey::File(read_private_key(
        Path::new(key_path),
    )?))
}

/// Signs Notary Project envelopes with a key file or a PKCS#11 key: RSASSA-PSS with the
/// algorithm's hash (salt = hash length) or ECDSA `r||s`.
impl signet_notation::jws::JwsSigner for crate::keyref::SigningKey {
    fn sign(
        &self,
        alg: signet_notation::jws::JwsAlgorithm,
        input: &[u8],
    ) -> signet_notation::Result<Vec<u8>> {
        use signet_keys::SignaturePadding;
        use signet_notation::jws::JwsAlgorithm as A;
        let key = match self {
            crate::keyref::SigningKey::File(k) => {
                return signet_notation::jws::JwsSigner::sign(k, alg, input);
            }
            crate::keyref::SigningKey::Pkcs11(k) => k,
        };
        let key_type = key.public_key().key_type();
        let expected = A::for_key_type(key_type)?;
        if alg != expected {
            return Err(signet_notation::Error::AlgorithmMismatch {
                alg: alg.name().to_owned(),
                key_type,
                expected: expected.name().to_owned(),
            });
        }
        let hash = crate::plugin::proto::hash_of(alg);
        key.sign_message(input, hash, SignaturePadding::Pss, true)
            .map_err(|e| signet_notation::Error::SigningFailed {
                alg: alg.name().to_owned(),
                reason: e.to_string(),
            })
    }
}

/// Reads a local signing key: unencrypted PEM, or a cosign encrypted key file (the password
/// is asked for as `signet sign --key` asks for it).
pub fn read_private_key(path: &Path) -> Result<PrivateKey> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("cannot read key {}: {e}", path.display()))?;
    let pem = String::from_utf8(bytes)
        .map_err(|_| anyhow!("key {} is not a PEM private key", path.display()))?;
    if is_cosign_key(&pem) {
        let password = crate::password::read(false)?;
        return cosign_key::decrypt_private_key(&pem, &password)
            .with_context(|| format!("cannot decrypt the cosign key {}", path.display()));
    }
    PrivateKey::from_unencrypted_pem(&pem)
        .map_err(|e| anyhow!("key {} is not a usable private key: {e}", path.display()))
}

fn opt_string(value: Option<&Value>, name: &str) -> Result<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => bail!("{name:?} must be a string"),
    }
}

fn quote(s: &str) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_encoding() {
        let mut k = SigningKeys::default();
        k.add(
            KeySuite {
                name: "a".into(),
                key_path: "/k".into(),
                cert_path: "/c".into(),
                ..KeySuite::default()
            },
            true,
        )
        .unwrap();
        let text = String::from_utf8(k.to_json().unwrap()).unwrap();
        assert_eq!(
            text,
            "{\n    \"default\": \"a\",\n    \"keys\": [\n        {\n            \"name\": \"a\",\n            \"keyPath\": \"/k\",\n            \"certPath\": \"/c\"\n        }\n    ]\n}\n"
        );
        assert_eq!(
            String::from_utf8(SigningKeys::default().to_json().unwrap()).unwrap(),
            "{\n    \"keys\": []\n}\n"
        );
    }
}
