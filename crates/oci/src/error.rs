//! The error type of `signet-oci`: every way a reference, digest or manifest can be malformed.

/// Errors from parsing references, digests and manifests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference does not follow the `[registry/]repository[:tag][@digest]` grammar.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A digest is not `sha256:` followed by 64 lower-case hex digits (or another supported algorithm).
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest {
        /// The digest as given.
        digest: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A manifest, index or config is not valid JSON of the expected shape.
    #[error("invalid {what}: {source}")]
    InvalidJson {
        /// What was being parsed ("manifest", "image index", "image config").
        what: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}
