//! The cosign signature format, without I/O: the simple-signing payload (`cosign generate`),
//! the `.sig` signature image (manifest, config, layers, annotations) and the verification
//! engine that decides, signature by signature, what cosign's key-based `verify` decides.
//!
//! Fetching and storing are the caller's job (`signet-registry`); this crate takes bytes and
//! returns bytes or verdicts, so the CLI, the service and tests all share one implementation.

pub mod annotations;
mod error;
pub mod gobase64;
pub mod payload;
pub mod rekor;
pub mod sigimage;
pub mod verify;

pub use error::Error;
pub use payload::{Payload, generate_payload};
pub use sigimage::{SignatureImage, SignatureLayer};
pub use verify::{
    CertificatePolicy, Rejection, RejectionReason, Verified, Verifier, VerifyOptions,
    verify_signatures,
};
