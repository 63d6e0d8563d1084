//! Exit codes, in one place, as cosign defines them (`cmd/cosign/errors/exit_codes.go`):
//! 0 success, 10 no signatures found, 11 image (tag) not found, 12 no matching signature,
//! 1 everything else.

use signet_sigstore::Error as SigError;

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

/// Maps an error to its exit code by looking at every cause in the chain.
pub fn code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
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
