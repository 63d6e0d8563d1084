//! containers/image's OpenPGP "simple signing" (the "atomic container signature" format that
//! `skopeo copy --sign-by`, `skopeo standalone-sign` and `podman push --sign-by` write, and that
//! a `signedBy` policy requirement verifies), without I/O: bytes in, bytes or verdicts out, the
//! time always an argument.
//!
//! - [`payload`]: the JSON payload, written byte-exact and parsed with containers/image's
//!   strictness.
//! - [`openpgp`]: secret keys from `gpg --export-secret-keys`, keyrings from `gpg --export`,
//!   signing (an OpenPGP signed message by the primary key) and verification.
//!
//! A `signedBy` check is: [`openpgp::verify`] (which returns the payload only after the
//! signature verified), then [`payload::UntrustedSignature::parse_strict`] on
//! [`openpgp::Verified::payload`], then the digest and identity rules (the policy crate's part).

mod error;
pub mod openpgp;
pub mod payload;

pub use error::Error;
pub use openpgp::{Keyring, SecretKey, Verified, sign, verify};
pub use payload::UntrustedSignature;
