//! Bring-your-own PKI for signet, without I/O: distinguished names, certificate issuance for
//! root, intermediate and code-signing leaf certificates (and CSRs for an external CA), and the
//! other direction — parsing certificates, building and validating a chain to a trusted root at
//! a given time, and matching the signer's identity (SANs, Fulcio issuer OIDs) as cosign does.
//! Issuance signs through [`signet_crypto::Signer`], so CA and leaf keys may live in an HSM.
//! Certificate profiles ([`profile`]) describe what to issue; [`pkcs7`] writes certs-only
//! PKCS#7 bundles; [`chain::check_chain_for_key`] checks a chain an external CA issued for a
//! signing key.
//!
//! Time is always an argument; nothing here reads a clock, a file or the network.

pub mod cert;
pub mod chain;
pub mod dn;
mod error;
pub mod identity;
pub mod issue;
pub mod pkcs7;
pub mod profile;

pub use error::Error;
