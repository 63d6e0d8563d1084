//! The crate's single error type.
//!
//! Every message is one line that tells a person what went wrong and, where
//! possible, what to do about it. Messages never contain the bearer token or
//! any key material; values taken from an untrusted token (issuer, key id,
//! organisation, algorithm) are shortened and stripped of control characters
//! before they are stored.

use std::path::PathBuf;

use crate::jwt::format_unix_time;

/// Everything that can go wrong while issuing or validating a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bearer token is not a well-formed compact JWS.
    #[error("bearer token is malformed: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The token's `alg` is never accepted (`none`, HS*, or unknown).
    #[error("token algorithm {alg} is not accepted")]
    AlgorithmNotAccepted {
        /// The algorithm named in the token header.
        alg: String,
    },

    /// The token's `alg` is not the one pinned by the selected key.
    #[error("token algorithm {alg} does not match the algorithm {expected} of its signing key")]
    AlgorithmMismatch {
        /// The algorithm named in the token header.
        alg: String,
        /// The algorithm the key is pinned to.
        expected: String,
    },

    /// The token names a key id the current key set does not contain.
    ///
    /// The key set may be stale: see [`Error::is_unknown_key`].
    #[error("unknown key id {kid}: the identity provider's key set does not contain it")]
    UnknownKey {
        /// The key id from the token header.
        kid: String,
    },

    /// The key id exists in the key set but that key cannot verify tokens.
    #[error("key id {kid} is in the key set but is not a usable signing key ({reason})")]
    KeyNotUsable {
        /// The key id from the token header.
        kid: String,
        /// Why the key was set aside when the key set was loaded.
        reason: String,
    },

    /// The token has no `kid` and the key set does not have exactly one key.
    #[error("token has no key id (kid) and the key set holds {keys} signing keys; cannot pick one")]
    MissingKeyId {
        /// Number of usable keys in the key set.
        keys: usize,
    },

    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,

    /// `exp` (plus leeway) has passed.
    #[error("token expired at {}; request a new token", format_unix_time(*expired_at))]
    Expired {
        /// The token's `exp`, in seconds since the Unix epoch.
        expired_at: u64,
    },

    /// `nbf` (minus leeway) is still in the future.
    #[error("token is not valid before {}; check the clocks", format_unix_time(*not_before))]
    NotYetValid {
        /// The token's `nbf`, in seconds since the Unix epoch.
        not_before: u64,
    },

    /// A required claim is absent.
    #[error("token has no {claim} claim")]
    MissingClaim {
        /// The claim's name.
        claim: String,
    },

    /// A claim is present but has the wrong type or shape.
    #[error("token claim {claim} must be {expected}")]
    InvalidClaim {
        /// The claim's name.
        claim: String,
        /// What it should have been.
        expected: &'static str,
    },

    /// The token's `iss` is not one this service trusts.
    #[error("token issuer {issuer} is not trusted")]
    UntrustedIssuer {
        /// The issuer named by the token.
        issuer: String,
    },

    /// The token's `aud` does not name this service.
    #[error("token is not intended for audience {expected}")]
    WrongAudience {
        /// The audience this service expects.
        expected: String,
    },

    /// The token was issued for a different organisation.
    #[error("token is for organisation {token_org}, not {requested_org}")]
    WrongOrganisation {
        /// The organisation the token names.
        token_org: String,
        /// The organisation of the request path.
        requested_org: String,
    },

    /// The JWKS document cannot be used.
    #[error("invalid JWKS: {reason}")]
    InvalidJwks {
        /// What is wrong with it.
        reason: String,
    },

    /// The issuer key file or its directory cannot be read or written.
    #[error("cannot access token issuer key {}: {source}", path.display())]
    KeyFileIo {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The issuer key file is accessible to other users.
    #[error(
        "token issuer key {} has mode {mode:04o}; it must not be accessible to group or others (run: chmod 600 {})",
        path.display(),
        path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The issuer key file does not hold a usable key.
    #[error("token issuer key {} is unusable: {reason}", path.display())]
    KeyFileInvalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A caller-supplied argument is invalid (empty organisation, zero TTL, …).
    #[error("{0}")]
    InvalidArgument(String),

    /// A TTL string could not be parsed.
    #[error("invalid TTL {input:?}: {reason}")]
    InvalidTtl {
        /// The text given (as typed by an operator, never a token).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The time passed in is before the Unix epoch or otherwise unusable.
    #[error("the current time is not representable as a Unix timestamp; check the system clock")]
    InvalidClock,

    /// A cryptographic primitive failed unexpectedly.
    #[error("cryptographic operation failed: {operation}")]
    Crypto {
        /// What was being done.
        operation: &'static str,
    },
}

impl Error {
    /// True when the token names a key id that the OIDC key set lacks.
    ///
    /// The server should then refresh the JWKS (rate-limited) and retry once.
    pub fn is_unknown_key(&self) -> bool {
        matches!(self, Error::UnknownKey { .. })
    }
}

/// Makes a value taken from an untrusted token safe to show: at most 100
/// characters, control characters replaced.
pub(crate) fn untrusted(value: &str) -> String {
    const MAX_CHARS: usize = 100;
    let mut out: String = value
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}
