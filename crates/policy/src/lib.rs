//! signet-policy: containers-policy.json(5) as containers/image implements it — a strict,
//! fail-closed parser, the scope lookup, `signedIdentity` matching and the evaluation of
//! `insecureAcceptAnything`, `reject`, `signedBy` (simple signing) and `sigstoreSigned`.
//!
//! The crate is pure: no files, network, environment or clock. The shell reads the policy,
//! resolves the key/CA paths and URIs each matched requirement names
//! ([`Requirement::resources`]), fetches manifest and signatures, and supplies the cryptography
//! through [`SignatureVerifiers`]; this crate then checks the payloads (strictly), the manifest
//! digest and the signed identity, and returns a [`Decision`] with every reason.
//!
//! # Differences from containers/image (commit df7e80d, v5.36+)
//!
//! - Evaluation does not stop at the first rejecting requirement: every requirement is
//!   evaluated so the [`Decision`] lists every reason; [`Decision::error`] gives the single error
//!   containers/image would print (the first rejecting requirement's).
//! - Resources (`keyPath`, `caPath`, …) are resolved per requirement before any signature is
//!   examined: an unfetchable one rejects the requirement (`reading <uri>: <error>`) even when
//!   the image has no signatures (containers/image loads keys per signature and would report
//!   `A signature was required, but no signature exists`).
//! - `docker-manifest-digest` is checked by hashing the manifest with the claimed digest's own
//!   algorithm (sha256/384/512); containers/image compares with sha256 only (so sha384/512
//!   claims never match there), and hashes schema1 JWS manifests without their signatures —
//!   here they are hashed as fetched.
//! - For `sigstoreSigned`, the presence of the `dev.cosignproject.cosign/signature` annotation
//!   is checked before the verifier runs (containers/image parses the trust root first; only
//!   the error text differs when both are broken).
//! - JSON: invalid UTF-8 and lone `\u` surrogates are errors (Go substitutes U+FFFD); syntax
//!   error texts are serde_json's. Type errors use Go's `json: cannot unmarshal …` wording.
//! - `containers-storage:` scope validation checks only the `[driver@graphroot]` prefix.
//! - Docker references follow containers/image's `docker/reference` (`docker.io`, not
//!   go-containerregistry's `index.docker.io`), which is why this crate does not use
//!   `signet_oci::Reference`; images given with both a tag and a digest are refused, as the
//!   docker transport does.

mod eval;
mod identity;
mod json;
mod model;
mod parse;
pub mod payload;
mod reference;
mod scope;

pub use eval::{
    Decision, EvaluationInput, Reason, RequirementVerdict, ResolvedSigstoreTrust,
    ResolvedTrustRoot, SIGSTORE_SIGNATURE_ANNOTATION, SIGSTORE_SIGNATURE_MIME_TYPE, Signature,
    SignatureVerdict, SignatureVerifiers, evaluate,
};
pub use model::{
    CertSource, Fulcio, KeySource, KeyType, Pki, Policy, Requirement, ResourceRef, SignedBy,
    SignedIdentity, SigstoreSigned, SigstoreTrust,
};
pub use reference::{DockerReference, GoDigest, parse_digest};
pub use scope::{ImageName, ScopeMatch, Transport};

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy is not valid (containers/image's `InvalidPolicyFormatError` / JSON errors;
    /// the text is containers/image's where it has one).
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
}

impl Policy {
    /// Parses a containers-policy.json strictly: unknown, duplicate or mistyped fields, empty
    /// requirement lists, invalid scopes of known transports and every requirement/identity
    /// rule of containers/image are errors.
    pub fn parse(bytes: &[u8]) -> Result<Policy, Error> {
        parse::parse_policy(bytes)
    }
}
