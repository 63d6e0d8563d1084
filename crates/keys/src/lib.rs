//! Key backends for the signet signing service: keys that are generated and used in place and
//! never leave their store.
//!
//! Two implementations of [`KeyBackend`]:
//!
//! * [`SoftwareBackend`]: a directory of keys, each PKCS#8 encrypted at rest with AES-256-GCM
//!   under a key-encryption key file (32 random bytes, mode 0600);
//! * [`Pkcs11Backend`]: a PKCS#11 token (an HSM, or SoftHSM2 in tests) through `cryptoki`;
//!   keys are created sensitive and non-extractable.
//!
//! Both sign as cosign does: ECDSA (ASN.1 DER) over SHA-256 / SHA-384 / SHA-512 for P-256 /
//! P-384 / P-521, RSA PKCS#1 v1.5 over SHA-256. Digests computed elsewhere are signed with
//! [`KeyBackend::sign_digest_with`], where RSA keys also take SHA-384 and SHA-512 and either
//! padding ([`SignaturePadding`]: PKCS#1 v1.5, or RSASSA-PSS with MGF1 over the digest's hash
//! and a salt as long as the digest, as Notary Project signatures need).
//! [`ecdsa_der_to_raw`] turns an ECDSA signature into the fixed-size `r||s` form.
//! [`BackendSigner`] plugs a stored key into the [`signet_crypto::Signer`] seam.
//!
//! Outside the service, [`Pkcs11Key`] opens one key pair on a PKCS#11 token by a PKCS#11 URI
//! ([`uri::Pkcs11Uri`], RFC 7512), as `cosign sign --key pkcs11:…` does, and signs with it
//! (cosign's way through [`signet_crypto::Signer`], or any digest, hash and padding for
//! Notary Project signatures). Errors and `Debug` output never carry key material or PINs.

mod der;
mod error;
mod pin;
pub mod pkcs11;
mod pkcs11_key;
mod signer;
pub mod software;
mod types;
pub mod uri;

pub use der::ecdsa_der_to_raw;
pub use error::Error;
pub use pin::Pin;
pub use pkcs11::{KeyProtection, Pkcs11Backend, Pkcs11Config};
pub use pkcs11_key::{Pkcs11Key, TokenSummary, list_key_uris, list_tokens};
pub use signer::BackendSigner;
pub use software::SoftwareBackend;
pub use types::{HashAlgorithm, KeyId, KeyType, SignaturePadding};

/// A store of signing keys that never hands out private key material.
pub trait KeyBackend: Send + Sync {
    /// Generates a new key of `key_type` labelled `label` (a name for humans; not unique) and
    /// returns its opaque handle. The private key is non-extractable.
    fn generate(&self, label: &str, key_type: KeyType) -> Result<KeyId, Error>;

    /// The public key of the key `id`.
    fn public_key(&self, id: &KeyId) -> Result<signet_crypto::PublicKey, Error>;

    /// Signs `message` with cosign's algorithm for the key type: ECDSA (DER) over SHA-256 /
    /// SHA-384 / SHA-512 for P-256 / P-384 / P-521, RSA PKCS#1 v1.5 over SHA-256.
    fn sign(&self, id: &KeyId, message: &[u8]) -> Result<Vec<u8>, Error>;

    /// Signs a digest computed elsewhere with `hash`, RSA keys with PKCS#1 v1.5 padding (see
    /// [`KeyBackend::sign_digest_with`]).
    fn sign_digest(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
    ) -> Result<Vec<u8>, Error> {
        self.sign_digest_with(id, digest, hash, SignaturePadding::Pkcs1v15)
    }

    /// Signs a digest computed elsewhere with `hash`. The digest length must match `hash`, and
    /// `hash` must be one the key type signs with (see [`KeyType::hashes`]). RSA keys pad as
    /// `padding` says (PSS: MGF1 with `hash`, salt length = digest length); ECDSA keys ignore
    /// it and return DER.
    fn sign_digest_with(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error>;

    /// Checks that the store answers (for readiness probes).
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

impl<T: KeyBackend + ?Sized> KeyBackend for &T {
    fn generate(&self, label: &str, key_type: KeyType) -> Result<KeyId, Error> {
        (**self).generate(label, key_type)
    }
    fn public_key(&self, id: &KeyId) -> Result<signet_crypto::PublicKey, Error> {
        (**self).public_key(id)
    }
    fn sign(&self, id: &KeyId, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign(id, message)
    }
    fn sign_digest_with(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        (**self).sign_digest_with(id, digest, hash, padding)
    }
    fn check(&self) -> Result<(), Error> {
        (**self).check()
    }
}

impl<T: KeyBackend + ?Sized> KeyBackend for std::sync::Arc<T> {
    fn generate(&self, label: &str, key_type: KeyType) -> Result<KeyId, Error> {
        (**self).generate(label, key_type)
    }
    fn public_key(&self, id: &KeyId) -> Result<signet_crypto::PublicKey, Error> {
        (**self).public_key(id)
    }
    fn sign(&self, id: &KeyId, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign(id, message)
    }
    fn sign_digest_with(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        (**self).sign_digest_with(id, digest, hash, padding)
    }
    fn check(&self) -> Result<(), Error> {
        (**self).check()
    }
}
