//! Notary Project signatures (pure): the payload, the JWS and COSE envelopes, the signature
//! manifest, and the certificate rules of the Notary Project specification.
//!
//! No I/O: times are arguments, bytes in and out.

pub mod certs;
mod error;
pub mod jws;
pub mod manifest;
pub mod payload;
pub mod rfc3339;

pub use error::{Error, Result};
