//! Cryptography for signet: keys, signing and verification compatible with cosign.
//!
//! The crate is pure: bytes and strings in, bytes and strings out (no files, network,
//! environment or clock). aws-lc-rs is the signing and verifying engine; ed25519-dalek is
//! used only for Ed25519ph, which aws-lc-rs does not expose.
//!
//! * [`PublicKey`]: SPKI / PKCS#1 parsing, Go-style PEM output, lenient verification.
//! * [`PrivateKey`]: generation, PKCS#8 import/export, `cosign import-key-pair` PEM import,
//!   signing via the [`Signer`] trait.
//! * [`cosign_key`]: the encrypted `cosign.key` file format (scrypt + NaCl secretbox).

mod algorithm;
pub mod cosign_key;
mod error;
pub mod jwe;
mod oids;
mod pem_util;
mod private;
mod public;
mod x509sig;

pub use algorithm::{KeyType, SignatureAlgorithm};
pub use error::Error;
pub use jwe::{JwePart, JweRejection};
pub use pem_util::pem_encode;
pub use private::{PrivateKey, Signer};
pub use public::PublicKey;
pub use x509sig::CertSignatureAlgorithm;
