//! Notary Project trust policies (pure): the trust policy document, scope selection, trusted
//! identities and the enforcement of verification levels.
//!
//! Everything here follows the Notary Project trust-store-trust-policy specification and
//! notation's validation of it. The crate does no I/O and reads no clock.
//!
//! * [`document`]: parse and validate `trustpolicy.oci.json` (schema 1.0).
//! * [`select`]: pick the policy for a fully qualified repository.
//! * [`identity`]: distinguished names and the partial match of trusted identities.
//! * [`enforcement`]: enforce / log / skip per validation, and the [`Outcome`] of a verification.

pub mod document;
pub mod enforcement;
pub mod error;
pub mod identity;
pub mod select;

pub use document::{
    RegistryScopes, TrustPolicy, TrustPolicyDocument, TrustStoreRef, TrustStoreType,
};
pub use enforcement::{
    Action, Failure, Flow, Level, Outcome, Overrides, SignatureVerification, Validation, Verdict,
    VerifyTimestamp,
};
pub use error::{DnProblem, Error};
pub use identity::{DistinguishedName, TrustedIdentity};
