//! The crate's single error type.
//!
//! Every message is lower-case, names the offending value where there is one and fits on
//! one line, so that a command-line front end can print it as is.

use crate::jwe::JweRejection;
use crate::{KeyType, SignatureAlgorithm};

/// Everything that can go wrong in `signet-crypto`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Decrypting a cosign key file failed: the password is wrong (or the file is corrupt;
    /// the two cannot be told apart).
    #[error("wrong password or corrupt key file (decryption failed)")]
    WrongPassword,

    /// The scrypt parameters of a key file are not one of the accepted sets
    /// (cosign refuses anything else to avoid denial of service).
    #[error("unsupported scrypt parameters N={n} r={r} p={p}")]
    UnsupportedScryptParams {
        /// The scrypt cost `N` (not its logarithm).
        n: u64,
        /// The block size `r`.
        r: u64,
        /// The parallelism `p`.
        p: u64,
    },

    /// The key derivation function named in a key file is not `scrypt`.
    #[error("unsupported key derivation function \"{name}\" in key file (scrypt needed)")]
    UnsupportedKdf {
        /// The name found in the file.
        name: String,
    },

    /// The cipher named in a key file is not `nacl/secretbox`.
    #[error("unsupported cipher \"{name}\" in key file (nacl/secretbox needed)")]
    UnsupportedCipher {
        /// The name found in the file.
        name: String,
    },

    /// The encrypted key file is structurally broken (JSON, base64, lengths).
    #[error("invalid encrypted key file: {reason}")]
    InvalidKeyFile {
        /// What is wrong.
        reason: String,
    },

    /// An RSA key whose modulus is not 2048, 3072 or 4096 bits long.
    #[error("unsupported RSA key size {bits} bits (2048, 3072 or 4096 needed)")]
    UnsupportedRsaKeySize {
        /// The modulus length in bits.
        bits: usize,
    },

    /// An elliptic-curve key on a curve other than P-256, P-384 or P-521.
    #[error("unsupported elliptic curve {curve} (P-256, P-384 or P-521 needed)")]
    UnsupportedCurve {
        /// The curve's name, or its OID if the name is not known.
        curve: String,
    },

    /// A key whose algorithm is neither RSA, ECDSA nor Ed25519.
    #[error("unsupported key algorithm {algorithm} (RSA, ECDSA or Ed25519 needed)")]
    UnsupportedKeyAlgorithm {
        /// The algorithm's name, or its OID if the name is not known.
        algorithm: String,
    },

    /// The input holds no PEM block at all, or the PEM armour is broken.
    #[error("invalid PEM: {reason}")]
    InvalidPem {
        /// What is wrong.
        reason: String,
    },

    /// A PEM block of the wrong type (e.g. a certificate where a public key was expected).
    #[error("expected {expected}, found PEM type \"{found}\"")]
    UnexpectedPemType {
        /// What the caller asked for, e.g. "a PEM public key".
        expected: &'static str,
        /// The PEM type (label) found.
        found: String,
    },

    /// A password-protected private key where an unencrypted one is required.
    #[error(
        "the private key is encrypted (PEM type \"{found}\"); decrypt it first, e.g. with `openssl pkey -in KEY -out plain.pem`"
    )]
    EncryptedPrivateKey {
        /// The PEM type (label) found.
        found: String,
    },

    /// A cosign key file whose decrypted content is a SEC1 EC key instead of PKCS#8.
    #[error(
        "the encrypted key file holds a SEC1 \"EC PRIVATE KEY\", not PKCS#8 (cosign cannot read it either)"
    )]
    Sec1InsideKeyFile,

    /// A DER structure (key, public key) could not be parsed or is inconsistent.
    #[error("malformed {what}: {reason}")]
    MalformedKey {
        /// Which structure, e.g. "PKCS#8 private key".
        what: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A string that is not one of the key type names.
    #[error(
        "unknown key type \"{value}\" (expected p256, p384, p521, rsa2048, rsa3072, rsa4096 or ed25519)"
    )]
    UnknownKeyType {
        /// The string given.
        value: String,
    },

    /// A string that is not one of the signature algorithm names.
    #[error("unknown signature algorithm \"{value}\"")]
    UnknownSignatureAlgorithm {
        /// The string given.
        value: String,
    },

    /// A signature algorithm that does not fit the key.
    #[error("signature algorithm {algorithm} cannot be used with a {key_type} key")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// The key's type.
        key_type: KeyType,
    },

    /// The signature does not verify with the public key.
    #[error("invalid signature: it does not verify with the given {key_type} public key")]
    InvalidSignature {
        /// The type of the public key used.
        key_type: KeyType,
    },

    /// The crypto engine failed while signing (should not happen with a valid key).
    #[error("signing with {algorithm} failed")]
    SigningFailed {
        /// The algorithm used.
        algorithm: SignatureAlgorithm,
    },

    /// Key generation failed in the crypto engine.
    #[error("generating a {key_type} key failed")]
    KeyGenerationFailed {
        /// The key type asked for.
        key_type: KeyType,
    },

    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,

    /// A key that cannot receive a JWE: only RSA (RSA-OAEP) and P-256/P-384/P-521
    /// (ECDH-ES+A256KW) keys can.
    #[error(
        "{key_type} keys cannot be JWE recipients (RSA keys use RSA-OAEP, P-256/P-384/P-521 keys ECDH-ES+A256KW)"
    )]
    UnsupportedJweKey {
        /// The key's type.
        key_type: KeyType,
    },

    /// A compact JWE was refused while decrypting.
    #[error("invalid JWE: {reason}")]
    InvalidJwe {
        /// Why.
        reason: JweRejection,
    },

    /// Making a compact JWE failed (crypto engine, or options that do not fit the key).
    #[error("JWE encryption failed: {reason}")]
    JweEncryptionFailed {
        /// What failed.
        reason: &'static str,
    },

    /// A certificate or CSR is signed with an algorithm signet does not verify.
    #[error("unsupported certificate signature algorithm {oid}")]
    UnsupportedCertificateAlgorithm {
        /// The algorithm's OID, dotted.
        oid: String,
    },
}
