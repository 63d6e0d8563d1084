//! Key references given to `--key`, as cosign accepts them: a file path, `env://VAR`, or a
//! PKCS#11 URI (`pkcs11:token=…;object=…?module-path=…&pin-value=…`, RFC 7512) naming a key
//! on a token. Schemes that need a service (KMS, `k8s://`, …) are refused with a clear error.
//!
//! PKCS#11 keys are opened with [`signet_keys::Pkcs11Key`], taking what the URI leaves out
//! from cosign's variables (`COSIGN_PKCS11_MODULE_PATH`, `COSIGN_PKCS11_PIN`,
//! `COSIGN_PKCS11_IGNORE_CERTIFICATE`); a token that needs a PIN nobody gave asks for it on
//! the terminal, as cosign does. A URI is never echoed with its `pin-value`: messages use
//! [`display`].

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use signet_crypto::{PrivateKey, PublicKey, cosign_key};
use signet_keys::Pkcs11Key;
use signet_keys::uri::{Fallbacks, Pkcs11Uri};

use crate::password;

/// Whether a key reference is a PKCS#11 URI.
pub fn is_pkcs11(key_ref: &str) -> bool {
    key_ref
        .get(..signet_keys::uri::SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(signet_keys::uri::SCHEME))
}

/// A key reference fit for messages: PKCS#11 URIs without their PIN.
pub fn display(key_ref: &str) -> String {
    if !is_pkcs11(key_ref) {
        return key_ref.to_string();
    }
    match Pkcs11Uri::parse(key_ref) {
        Ok(uri) => uri.to_string(),
        Err(_) => "the pkcs11: URI".to_string(),
    }
}

/// Reads the text behind a key reference.
pub fn read_text(key_ref: &str) -> Result<String> {
    if let Some(var) = key_ref.strip_prefix("env://") {
        return std::env::var(var)
            .with_context(|| format!("environment variable {var} is not set"));
    }
    if is_pkcs11(key_ref) {
        bail!(
            "PKCS#11 keys are not supported by this command: {}",
            display(key_ref)
        );
    }
    if let Some((scheme, _)) = key_ref.split_once("://") {
        bail!(
            "unsupported key reference scheme {scheme}:// in {key_ref} (use a key file, env://VAR or a pkcs11: URI)"
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

/// Loads a public key (PEM `PUBLIC KEY` or `RSA PUBLIC KEY`), or the public key of the key
/// pair a PKCS#11 URI names.
pub fn load_public(key_ref: &str) -> Result<PublicKey> {
    if is_pkcs11(key_ref) {
        return Ok(open_pkcs11(key_ref)?.public_key());
    }
    let pem = read_text(key_ref)?;
    PublicKey::from_pem(&pem).with_context(|| format!("loading public key {key_ref}"))
}

/// A key that signs: a cosign key file (or `env://`) or a key on a PKCS#11 token.
pub enum SigningKey {
    /// A decrypted cosign private key.
    File(PrivateKey),
    /// A key pair on a PKCS#11 token (the private key stays there).
    Pkcs11(Box<Pkcs11Key>),
}

impl SigningKey {
    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::File(k) => k.public_key(),
            SigningKey::Pkcs11(k) => k.public_key(),
        }
    }

    /// Signs `message` as cosign does with this kind of key: the key type's default
    /// algorithm for files; SHA-256 with ECDSA (DER) or RSA PKCS#1 v1.5 on a token.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            SigningKey::File(k) => Ok(k.sign(message)?),
            SigningKey::Pkcs11(k) => Ok(k.sign_message(
                message,
                signet_keys::HashAlgorithm::Sha256,
                signet_keys::SignaturePadding::Pkcs1v15,
                false,
            )?),
        }
    }

    /// The DER certificate stored next to a PKCS#11 key, if any.
    pub fn token_certificate(&self) -> Option<&[u8]> {
        match self {
            SigningKey::File(_) => None,
            SigningKey::Pkcs11(k) => k.certificate_der(),
        }
    }
}

/// Loads the key `--key` names for signing: a PKCS#11 URI opens the key on its token, anything
/// else is an encrypted cosign key (asking for its password).
pub fn load_signing(key_ref: &str) -> Result<SigningKey> {
    if is_pkcs11(key_ref) {
        return Ok(SigningKey::Pkcs11(Box::new(open_pkcs11(key_ref)?)));
    }
    Ok(SigningKey::File(load_private(key_ref)?))
}

/// Opens the key a PKCS#11 URI names, with cosign's environment variables as fallbacks and
/// a PIN prompt on a terminal when the token needs one and none was given.
pub fn open_pkcs11(key_ref: &str) -> Result<Pkcs11Key> {
    let uri = Pkcs11Uri::parse(key_ref)?;
    let mut fallbacks = Fallbacks::from_cosign_env();
    let shown = uri.to_string();
    match Pkcs11Key::open(&uri, &fallbacks) {
        Err(signet_keys::Error::PinRequired { token }) if std::io::stdin().is_terminal() => {
            let pin = rpassword::prompt_password(format!(
                "Enter PIN for key '{}' in PKCS11 token {token}: ",
                uri.object().unwrap_or_default()
            ))
            .context("reading the PIN from the terminal")?;
            fallbacks.pin = Some(signet_keys::Pin::new(pin));
            Pkcs11Key::open(&uri, &fallbacks)
                .with_context(|| format!("opening PKCS#11 key {shown}"))
        }
        other => other.with_context(|| format!("opening PKCS#11 key {shown}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pkcs11_references_are_shown_without_their_pin() {
        assert!(is_pkcs11("pkcs11:token=t;object=k"));
        assert!(is_pkcs11("PKCS11:token=t"));
        assert!(!is_pkcs11("pkcs1"));
        assert!(!is_pkcs11("cosign.key"));
        let shown = display("pkcs11:token=t;object=k?module-path=/m.so&pin-value=s3cr3t-91");
        assert_eq!(shown, "pkcs11:token=t;object=k?module-path=/m.so");
        assert_eq!(
            display("pkcs11:token=t b?pin-value=s3cr3t-91"),
            "the pkcs11: URI"
        );
        assert_eq!(display("cosign.key"), "cosign.key");
        let e = read_text("pkcs11:token=t;object=k?pin-value=s3cr3t-91").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
