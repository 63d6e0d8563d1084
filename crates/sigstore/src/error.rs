//! The error type of `signet-sigstore`.

use signet_oci::Digest;

use crate::verify::Rejection;

/// Errors from building or verifying cosign signatures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `-a key=value` annotation without `=`.
    #[error("unable to parse annotation: {0}")]
    InvalidAnnotation(String),
    /// A signature image's manifest or config is malformed.
    #[error("invalid signature image: {0}")]
    InvalidSignatureImage(#[from] signet_oci::Error),
    /// The signature image already has as many layers as cosign allows.
    #[error("signature image has {count} layers; at most {max} are allowed")]
    TooManyLayers {
        /// Layers present.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The image has no signature layers at all.
    #[error("no signatures found{}", foreign_note(*.foreign_layers))]
    NoSignatures {
        /// Layers in the `.sig` manifest that were not cosign signatures (skipped).
        foreign_layers: usize,
    },
    /// Signatures exist, but none passed every check.
    #[error("no matching signatures: {}", join_rejections(.rejections))]
    NoMatchingSignatures {
        /// Every candidate with the reason it was rejected.
        rejections: Vec<Rejection>,
        /// Layers in the `.sig` manifest that were not cosign signatures (skipped).
        foreign_layers: usize,
    },
    /// A signature references a digest other than the image's.
    #[error("payload is for digest {found}, expected {expected}")]
    DigestMismatch {
        /// The image's digest.
        expected: Digest,
        /// What the payload claims.
        found: String,
    },
}

fn foreign_note(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(" ({n} non-signature layers skipped)"),
    }
}

fn join_rejections(r: &[Rejection]) -> String {
    r.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n ")
}
