//! The errors of the service client that carry an exit code (see [`crate::exit`]): the
//! service's problem JSON, an unreachable service, a missing token, and signing requests that
//! are not (yet) Ready.

/// The service answered with an error status; `detail` is the problem JSON's `detail` (or its
/// `title`, or the start of the body).
#[derive(Debug, thiserror::Error)]
#[error("{detail} (HTTP {status})")]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// What the service said.
    pub detail: String,
}

/// The service could not be reached (connection refused, DNS, TLS, timeout).
#[derive(Debug, thiserror::Error)]
#[error("cannot reach the signing service at {url}: {reason}")]
pub struct Unreachable {
    /// The URL requested.
    pub url: String,
    /// The innermost cause.
    pub reason: String,
}

/// No token was given.
#[derive(Debug, thiserror::Error)]
#[error(
    "no token: pass -t TOKEN (or -t @FILE, or -t @- to read it from standard input) or set SIGNET_TOKEN"
)]
pub struct MissingToken;

/// A signing request is still waiting (not Ready yet) when its result was needed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestPending(pub String);

/// A signing request ended Rejected or Failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestFinished(pub String);
