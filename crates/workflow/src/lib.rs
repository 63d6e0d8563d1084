//! signet-workflow: the pure core of the signing service's approval workflow.
//!
//! Everything here takes data and returns data: no I/O, no clock (the time is always an
//! argument), no async runtime. The service shell loads and stores these values and calls the
//! transition functions; every refusal comes back as a typed [`Error`].
//!
//! - [`product`]: the product configuration (LAAVAT-compatible JSON, strict parsing with field
//!   paths in every error, semantic validation).
//! - [`digest`]: what a signing request asks to sign: a base64 digest with its hash algorithm,
//!   or a full cosign payload whose digest and image identity are computed and checked here.
//! - [`options`]: how the signature is made (the hosted service's `optionalParameters`:
//!   RSA padding, PSS salt length, ECDSA encoding).
//! - [`request`]: the signing-request state machine (LAAVAT's state values) and its
//!   authorization rules.
//! - [`product_approval`]: approval of new products and of changes to their operations.
//! - [`client`]: client registrations (the keys product secrets are encrypted to).
//! - [`audit`]: the append-only audit log as a SHA-256 hash chain.

pub mod audit;
pub mod client;
pub mod digest;
mod error;
pub mod options;
pub mod product;
pub mod product_approval;
pub mod request;
mod wire;

pub use error::{ChainBreak, Error};
pub use wire::{State, Timestamp};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
