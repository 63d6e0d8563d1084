//! The crate's error type. Messages are one line and never include key material, PINs or the
//! key-encryption key; key ids and file paths are not secret and are named.

use std::path::PathBuf;

use crate::{HashAlgorithm, KeyType};

/// Everything that can go wrong in a key backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key type name that is not one of the wire names.
    #[error(
        "unknown key type {value:?} (expected RSA2048, RSA3072, RSA4096, ECDSAP256, ECDSAP384 or ECDSAP521)"
    )]
    UnknownKeyType {
        /// The name given (at most 32 characters of it).
        value: String,
    },
    /// A hash name that is not `SHA256`, `SHA384` or `SHA512`.
    #[error("unknown hash algorithm {value:?} (expected SHA256, SHA384 or SHA512)")]
    UnknownHashAlgorithm {
        /// The name given (at most 32 characters of it).
        value: String,
    },
    /// No key with this id in the store (or the id is not one this backend issues).
    #[error("no key with id {id:?} in the {backend} key store")]
    UnknownKey {
        /// The id asked for (shortened).
        id: String,
        /// `software` or `PKCS#11`.
        backend: &'static str,
    },
    /// The digest handed to `sign_digest` does not have the hash's length.
    #[error("digest is {actual} bytes but {hash} digests are {expected} bytes")]
    DigestLength {
        /// The hash named by the caller.
        hash: HashAlgorithm,
        /// Its output length.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The key type does not sign digests of this hash.
    #[error("{key_type} keys do not sign {hash} digests")]
    UnsupportedHash {
        /// The key's type.
        key_type: KeyType,
        /// The hash asked for.
        hash: HashAlgorithm,
    },
    /// A file or directory operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done, e.g. `read key file`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The key-encryption key file is not 32 bytes.
    #[error("key-encryption key file {path} is not 32 bytes")]
    InvalidKek {
        /// The file.
        path: PathBuf,
    },
    /// The key-encryption key file can be read by other users.
    #[error(
        "key-encryption key file {path} has mode {mode:o}; it must not be accessible to group or others (chmod 600)"
    )]
    KekPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A stored key file could not be parsed.
    #[error("key file for {id} is malformed: {reason}")]
    CorruptKeyFile {
        /// The key's id.
        id: String,
        /// What is wrong (never key bytes).
        reason: &'static str,
    },
    /// A stored key did not decrypt: a different key-encryption key or a tampered file.
    #[error(
        "key {id} does not decrypt with this store's key-encryption key (wrong key or tampered file)"
    )]
    Decrypt {
        /// The key's id.
        id: String,
    },
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// A software signing or key operation failed.
    #[error("{operation} failed for a {key_type} key")]
    Crypto {
        /// What failed, e.g. `signing`.
        operation: &'static str,
        /// The key's type.
        key_type: KeyType,
    },
    /// Key generation in signet-crypto failed.
    #[error("key generation failed: {0}")]
    Generate(#[source] signet_crypto::Error),
    /// A public key read back from the store is not a valid key.
    #[error("public key of {id} is not usable: {source}")]
    PublicKey {
        /// The key's id.
        id: String,
        /// Why.
        #[source]
        source: signet_crypto::Error,
    },
    /// The PKCS#11 module could not be loaded or initialised.
    #[error("cannot load PKCS#11 module {module}: {source}")]
    Module {
        /// The module path.
        module: PathBuf,
        /// The underlying error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// No token with this label in any slot.
    #[error("no PKCS#11 token labelled {label:?}")]
    TokenNotFound {
        /// The label asked for.
        label: String,
    },
    /// The token refused the PIN.
    #[error("PKCS#11 login to token {label:?} failed: the PIN was refused")]
    PinRefused {
        /// The token's label.
        label: String,
    },
    /// The token refused the PIN because too many wrong PINs were tried.
    #[error("PKCS#11 login to token {label:?} failed: the PIN is locked")]
    PinLocked {
        /// The token's label.
        label: String,
    },
    /// The token needs a login and no PIN was given.
    #[error(
        "PKCS#11 token {token} needs a PIN: add pin-value or pin-source to the URI, or set COSIGN_PKCS11_PIN"
    )]
    PinRequired {
        /// The token (its label, quoted, or its slot).
        token: String,
    },
    /// A PKCS#11 URI that does not parse (RFC 7512), or that lacks what opening a key needs.
    #[error("invalid PKCS#11 URI: {reason}")]
    InvalidUri {
        /// What is wrong (never a value of the URI).
        reason: String,
    },
    /// One attribute of a PKCS#11 URI is malformed.
    #[error("invalid PKCS#11 URI: attribute {attribute}: {reason}")]
    InvalidUriAttribute {
        /// The attribute's name.
        attribute: String,
        /// What is wrong (never the value itself).
        reason: String,
    },
    /// No token of the module matches the URI's token and slot attributes.
    #[error("no PKCS#11 token matches {uri}")]
    NoMatchingToken {
        /// The URI (without its PIN).
        uri: String,
    },
    /// Several tokens match the URI's token and slot attributes.
    #[error("{count} PKCS#11 tokens match {uri}: add slot-id or serial to pick one")]
    AmbiguousToken {
        /// The URI (without its PIN).
        uri: String,
        /// How many matched.
        count: usize,
    },
    /// No private key on the token matches the URI's object and id.
    #[error("no private key {key} on PKCS#11 token {token}")]
    KeyNotFound {
        /// The key's attributes as in the URI (`object=…;id=…`).
        key: String,
        /// The token (its label, quoted, or its slot).
        token: String,
    },
    /// Several private keys match the URI's object and id.
    #[error("{count} private keys match {key} on PKCS#11 token {token}: add id to pick one")]
    AmbiguousKey {
        /// The key's attributes as in the URI.
        key: String,
        /// The token.
        token: String,
        /// How many matched.
        count: usize,
    },
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed: {source}")]
    Pkcs11 {
        /// The operation, e.g. `sign`.
        operation: &'static str,
        /// The underlying error (return value names only).
        #[source]
        source: cryptoki::error::Error,
    },
    /// A PKCS#11 object has attributes this backend does not expect.
    #[error("PKCS#11 key {id} is not usable: {reason}")]
    UnexpectedObject {
        /// The key's id.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A lock protecting shared state was poisoned by a panic.
    #[error("internal lock poisoned")]
    Poisoned,
}
