//! Notary Project trust policies (pure): the trust policy document, scope selection, trusted
//! identities and the enforcement of verification levels.
//!
//! Everything here follows the Notary Project trust-store-trust-policy specification and
//! notation's validation of it. The crate does no I/O and reads no clock; certificates and
//! envelopes come from `signet-notation` and `signet-pki` (both pure).
//!
//! * [`document`]: parse and validate `trustpolicy.oci.json` (schema 1.0).
//! * [`select`]: pick the policy for a fully qualified repository.
//! * [`identity`]: distinguished names and the partial match of trusted identities.
//! * [`enforcement`]: enforce / log / skip per validation, and the [`Outcome`] of a verification.
//! * [`timestamp`]: the authentic timestamp validation (RFC 3161 countersignatures against
//!   `tsa:` stores, `verifyTimestamp`, signing-authority time).

pub mod document;
pub mod enforcement;
pub mod error;
pub mod identity;
pub mod select;
pub mod timestamp;

pub use document::{
    RegistryScopes, TrustPolicy, TrustPolicyDocument, TrustStoreRef, TrustStoreType,
};
pub use enforcement::{
    Action, Failure, Flow, Level, Outcome, Overrides, SignatureVerification, Validation, Verdict,
    VerifyTimestamp,
};
pub use error::{DnProblem, Error};
pub use identity::{DistinguishedName, TrustedIdentity};
pub use timestamp::{AuthenticTime, verify_authentic_timestamp};
