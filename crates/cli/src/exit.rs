//! Exit codes, in one place, as cosign defines them (`cmd/cosign/errors/exit_codes.go`):
//! 0 success, 10 no signatures found, 11 image (tag) not found, 12 no matching signature,
//! 1 everything else.
//!
//! The signing-service client (`signet remote …`, `signet sign --remote …`) adds:
//!
//! | code | meaning |
//! |---|---|
//! | 20 | the service could not be reached (connection refused, DNS, TLS, timeout) or answered 5xx: try again later |
//! | 21 | not authenticated: no token given, or the service answered 401 (missing, expired, wrong organisation) |
//! | 22 | forbidden (403): the token's user lacks the group the action needs |
//! | 23 | not found (404): no such product, operation or request (or not visible to the user) |
//! | 24 | conflict (409): the object is in the wrong state for this (e.g. deciding a decided request) or the name is taken |
//! | 25 | a signing request is still pending: not Ready when its signature was asked for, or `--wait-timeout` / `--remote-timeout` ran out (resume with `--request ID`) |
//! | 26 | a signing request ended Rejected or Failed |
//!
//! Other 4xx answers (400 invalid input, 413, 415) exit 1, like any other error.

use signet_sigstore::Error as SigError;

use crate::remote::error::{ApiError, MissingToken, RequestFinished, RequestPending, Unreachable};

/// The image (or tag) does not exist.
#[derive(Debug, thiserror::Error)]
#[error("image tag not found: {0}")]
pub struct ImageNotFound(pub String);

/// A policy rejected an image (exit 12, as no matching signature).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyRejected(pub String);

/// Exit code for no signatures at all.
pub const NO_SIGNATURES: u8 = 10;
/// Exit code for a missing image or tag.
pub const IMAGE_NOT_FOUND: u8 = 11;
/// Exit code for signatures of which none verified.
pub const NO_MATCHING_SIGNATURE: u8 = 12;

/// Service unreachable or failing (5xx).
pub const SERVICE_UNAVAILABLE: u8 = 20;
/// No token, or 401.
pub const UNAUTHENTICATED: u8 = 21;
/// 403.
pub const FORBIDDEN: u8 = 22;
/// 404.
pub const NOT_FOUND: u8 = 23;
/// 409.
pub const CONFLICT: u8 = 24;
/// A signing request is not Ready yet (or waiting for it timed out).
pub const REQUEST_PENDING: u8 = 25;
/// A signing request was rejected or failed.
pub const REQUEST_REJECTED: u8 = 26;

fn api_code(status: u16) -> u8 {
    match status {
        401 => UNAUTHENTICATED,
        403 => FORBIDDEN,
        404 => NOT_FOUND,
        409 => CONFLICT,
        500..=599 => SERVICE_UNAVAILABLE,
        _ => 1,
    }
}

/// Maps an error to its exit code by looking at every cause in the chain.
pub fn code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(a) = cause.downcast_ref::<ApiError>() {
            return api_code(a.status);
        }
        if cause.downcast_ref::<Unreachable>().is_some() {
            return SERVICE_UNAVAILABLE;
        }
        if cause.downcast_ref::<MissingToken>().is_some() {
            return UNAUTHENTICATED;
        }
        if cause.downcast_ref::<RequestPending>().is_some() {
            return REQUEST_PENDING;
        }
        if cause.downcast_ref::<RequestFinished>().is_some() {
            return REQUEST_REJECTED;
        }
        if let Some(s) = cause.downcast_ref::<SigError>() {
            match s {
                SigError::NoMatchingSignatures { .. } => return NO_MATCHING_SIGNATURE,
                SigError::NoSignatures { .. } => return NO_SIGNATURES,
                _ => {}
            }
        }
        if cause.downcast_ref::<PolicyRejected>().is_some() {
            return NO_MATCHING_SIGNATURE;
        }
        if cause.downcast_ref::<ImageNotFound>().is_some() {
            return IMAGE_NOT_FOUND;
        }
    }
    1
}

/// One message with its causes, `: `-joined, as cosign prints wrapped Go errors.
pub fn render(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for (i, cause) in e.chain().enumerate() {
        let text = cause.to_string();
        if i > 0 {
            if out.contains(&text) {
                continue;
            }
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_codes() {
        let api = |status| {
            code(&anyhow::Error::new(ApiError {
                status,
                detail: "x".into(),
            }))
        };
        assert_eq!(api(401), UNAUTHENTICATED);
        assert_eq!(api(403), FORBIDDEN);
        assert_eq!(api(404), NOT_FOUND);
        assert_eq!(api(409), CONFLICT);
        assert_eq!(api(503), SERVICE_UNAVAILABLE);
        assert_eq!(api(400), 1);
        let wrapped = anyhow::Error::new(RequestPending("p".into())).context("waiting");
        assert_eq!(code(&wrapped), REQUEST_PENDING);
        assert_eq!(code(&anyhow::Error::new(MissingToken)), UNAUTHENTICATED);
        assert_eq!(
            code(&anyhow::Error::new(RequestFinished("r".into()))),
            REQUEST_REJECTED
        );
    }
}
