//! The error type of `signet-pki`. Every certificate problem names the certificate (subject
//! and serial) and the check that failed, so that a rejected signature can be explained.

use std::time::SystemTime;

/// Errors from parsing, issuing and validating certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Issuing a certificate or CSR failed (see [`crate::issue::IssueError`]).
    #[error(transparent)]
    Issue(#[from] crate::issue::IssueError),
    /// A certificate profile is invalid (see [`crate::profile::ProfileError`]).
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// An uploaded chain was refused (see [`crate::chain::ChainUploadError`]).
    #[error(transparent)]
    ChainUpload(#[from] crate::chain::ChainUploadError),
    /// Bytes that should be a certificate are not one.
    #[error("invalid certificate: {reason}")]
    InvalidCertificate {
        /// What is wrong.
        reason: String,
    },
    /// A certificate's public key is of a type signet does not support.
    #[error("certificate {subject}: unsupported public key: {reason}")]
    UnsupportedKey {
        /// The certificate's subject.
        subject: String,
        /// Why.
        reason: String,
    },
    /// An extension cannot be decoded.
    #[error("certificate {subject}: malformed {extension} extension: {reason}")]
    InvalidExtension {
        /// The certificate's subject.
        subject: String,
        /// Which extension.
        extension: &'static str,
        /// Why.
        reason: String,
    },
    /// The two Fulcio issuer extensions carry different values.
    #[error(
        "certificate {subject} (serial {serial}): OIDC issuer extensions disagree: 1.3.6.1.4.1.57264.1.1 says {raw:?}, 1.3.6.1.4.1.57264.1.8 says {utf8:?}"
    )]
    IssuerExtensionsDisagree {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The .1.1 value.
        raw: String,
        /// The .1.8 value.
        utf8: String,
    },
    /// A certificate is signed with an algorithm signet does not verify.
    #[error("certificate {subject}: unsupported signature algorithm {oid}")]
    UnsupportedSignature {
        /// The certificate's subject.
        subject: String,
        /// The algorithm OID.
        oid: String,
    },
    /// A certificate's signature does not verify with its presumed issuer's key.
    #[error(
        "certificate {subject} (serial {serial}): signature does not verify with the key of {issuer}"
    )]
    BadCertificateSignature {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The presumed issuer's subject.
        issuer: String,
    },
    /// No trusted root (or given intermediate) issued this certificate.
    #[error(
        "certificate {subject} (serial {serial}): issuer {issuer} is not a trusted root and not among the intermediates"
    )]
    UnknownIssuer {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The issuer named in the certificate.
        issuer: String,
    },
    /// A certificate is not valid at the verification time.
    #[error("certificate {subject} (serial {serial}): {}", validity_text(*.at, *.not_before, *.not_after))]
    OutsideValidity {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The verification time.
        at: SystemTime,
        /// notBefore.
        not_before: SystemTime,
        /// notAfter.
        not_after: SystemTime,
    },
    /// A certificate violates a usage rule.
    #[error("certificate {subject} (serial {serial}): {rule}")]
    Usage {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The rule that failed.
        rule: String,
    },
    /// No chain from the leaf to a trusted root could be built or validated.
    #[error("no trusted certificate chain: {}", join(.attempts))]
    NoValidChain {
        /// Why each candidate path failed.
        attempts: Vec<Error>,
    },
    /// The certificate's identity does not match what was expected.
    #[error(
        "certificate {subject} (serial {serial}): none of the expected identities matched what was in the certificate, got subjects [{}] with issuer {}",
        .subjects.join(", "),
        .issuer.as_deref().unwrap_or("")
    )]
    IdentityMismatch {
        /// The certificate's subject.
        subject: String,
        /// Its serial (hex).
        serial: String,
        /// The SANs found.
        subjects: Vec<String>,
        /// The OIDC issuer found.
        issuer: Option<String>,
    },
    /// A regular expression for an identity or issuer does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

fn join(errors: &[Error]) -> String {
    let mut texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    texts.dedup();
    texts.join("; ")
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_else(|e| -(e.duration().as_secs() as i64));
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn validity_text(at: SystemTime, not_before: SystemTime, not_after: SystemTime) -> String {
    if at < not_before {
        format!(
            "not yet valid: valid from {} (checked at {})",
            rfc3339(not_before),
            rfc3339(at)
        )
    } else {
        format!(
            "expired: valid until {} (checked at {})",
            rfc3339(not_after),
            rfc3339(at)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_300_488)),
            "2026-11-21T22:34:48Z"
        );
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
