//! Key references given to `--key`: a file path or `env://VAR`, as cosign accepts them.
//! Schemes that need a service (`pkcs11:`, KMS, `k8s://`, …) are refused with a clear error.

use anyhow::{Context, Result, bail};
use signet_crypto::{PrivateKey, PublicKey, cosign_key};

use crate::password;

/// Reads the text behind a key reference.
pub fn read_text(key_ref: &str) -> Result<String> {
    if let Some(var) = key_ref.strip_prefix("env://") {
        return std::env::var(var)
            .with_context(|| format!("environment variable {var} is not set"));
    }
    if key_ref.starts_with("pkcs11:") {
        bail!("PKCS#11 keys are not supported by this command yet: {key_ref}");
    }
    if let Some((scheme, _)) = key_ref.split_once("://") {
        bail!(
            "unsupported key reference scheme {scheme}:// in {key_ref} (use a key file or env://VAR)"
        );
    }
    let bytes = std::fs::read(key_ref).with_context(|| format!("reading key {key_ref}"))?;
    String::from_utf8(bytes).with_context(|| format!("key {key_ref} is not a PEM text file"))
}

/// Loads an encrypted cosign private key, asking for its password.
pub fn load_private(key_ref: &str) -> Result<PrivateKey> {
    let pem = read_text(key_ref)?;
    let password = password::read(false)?;
    cosign_key::decrypt_private_key(&pem, &password)
        .with_context(|| format!("loading private key {key_ref}"))
}

/// Loads a public key (PEM `PUBLIC KEY` or `RSA PUBLIC KEY`).
pub fn load_public(key_ref: &str) -> Result<PublicKey> {
    let pem = read_text(key_ref)?;
    PublicKey::from_pem(&pem).with_context(|| format!("loading public key {key_ref}"))
}
