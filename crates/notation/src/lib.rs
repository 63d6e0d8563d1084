//! Notary Project signatures (pure): the payload, the JWS and COSE envelopes, the signature
//! manifest, the certificate rules of the Notary Project specification, and RFC 3161
//! timestamp countersignatures.
//!
//! No I/O: times are arguments, bytes in and out.

pub mod certs;
pub mod cose;
pub mod envelope;
mod error;
pub mod jws;
pub mod manifest;
pub mod payload;
pub mod rfc3339;
pub mod timestamp;

pub use error::{Error, Result};
/// The Notary Project signature algorithms (JWS names, COSE numbers via
/// [`jws::JwsAlgorithm::cose_id`]).
pub use jws::JwsAlgorithm as Algorithm;
/// The signer both envelope formats use.
pub use jws::JwsSigner as EnvelopeSigner;
