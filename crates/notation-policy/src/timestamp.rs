//! The *authentic timestamp* validation of the Notary Project verification steps, as
//! notation-go's `verifyAuthenticTimestamp` performs it.
//!
//! * `notary.x509.signingAuthority`: the authentic signing time (a signed attribute) must lie
//!   within the validity of every certificate of the signing chain. No TSA is involved.
//! * `notary.x509`: timestamp countersignature verification is triggered when the policy
//!   names a `tsa:` trust store **and** `verifyTimestamp` is `always` (the default) or it is
//!   `afterCertExpiry` and a certificate of the signing chain has expired at the verification
//!   time. Then the countersignature must be present, verify with a TSA chain to a root of
//!   the `tsa` stores valid at genTime ([`signet_notation::timestamp::verify_timestamp`]),
//!   pass the TSA chain revocation check (always, whatever the `revocation` setting), and its
//!   range genTime ± accuracy must lie entirely within the validity of every certificate of
//!   the signing chain — which may have expired since. Otherwise every certificate of the
//!   signing chain must be valid at the verification time.
//!
//! Whether a failure fails verification is the policy's business ([`crate::Outcome`]):
//! `authenticTimestamp` is enforced under `strict`, logged under `permissive` and `audit`,
//! with an `override` of `enforce` or `log`; `skip` runs nothing.

use std::time::SystemTime;

use signet_notation::envelope::SignedEnvelope;
use signet_notation::jws::SigningScheme;
use signet_notation::timestamp::{self, VerifiedTimestamp};
use signet_pki::cert::Certificate;

use crate::document::{TrustPolicy, TrustStoreType};
use crate::enforcement::VerifyTimestamp;
use crate::error::Error;

/// The time the authentic timestamp validation established the signing chain to be valid at.
#[derive(Debug, Clone)]
pub enum AuthenticTime {
    /// `notary.x509` with timestamp verification: the verified countersignature.
    Timestamp(VerifiedTimestamp),
    /// `notary.x509.signingAuthority`: the authentic signing time.
    SigningTime(SystemTime),
    /// `notary.x509` without timestamp verification: the verification time.
    VerificationTime(SystemTime),
}

/// True when the specification's "sufficient and necessary conditions to trigger timestamp
/// countersignature verification" hold (the level is not `skip` is the caller's check,
/// [`crate::Outcome::should_run`]): scheme `notary.x509`, a `tsa:` store in the policy, and
/// `verifyTimestamp` `always`, or `afterCertExpiry` with a certificate of `chain` expired at
/// `now`.
pub fn timestamp_verification_triggered(
    policy: &TrustPolicy,
    scheme: SigningScheme,
    chain: &[Certificate],
    now: SystemTime,
) -> bool {
    if scheme != SigningScheme::X509 || policy.trust_stores_of(TrustStoreType::Tsa).count() == 0 {
        return false;
    }
    match policy.signature_verification().verify_timestamp() {
        VerifyTimestamp::Always => true,
        VerifyTimestamp::AfterCertExpiry => chain.iter().any(|c| now > c.not_after()),
    }
}

/// Runs the authentic timestamp validation for a verified `envelope` under `policy` at
/// `now` (see the module docs).
///
/// `load_tsa_roots` reads the certificates of the policy's `tsa:` stores; it is called only
/// when timestamp verification is triggered (so a missing store fails this validation, as in
/// notation-go), and each certificate must be a self-signed root. `check_tsa_revocation`
/// checks the verified TSA chain (TSA certificate first); it is called only after the token
/// verified.
pub fn verify_authentic_timestamp<L, R>(
    policy: &TrustPolicy,
    envelope: &dyn SignedEnvelope,
    now: SystemTime,
    load_tsa_roots: L,
    check_tsa_revocation: R,
) -> Result<AuthenticTime, Error>
where
    L: FnOnce() -> Result<Vec<Certificate>, String>,
    R: FnOnce(&[Certificate]) -> Result<(), String>,
{
    let chain = envelope.cert_chain();
    if envelope.signing_scheme() == SigningScheme::X509SigningAuthority {
        let signing_time = envelope.signing_time();
        if let Some(cert) = chain
            .iter()
            .find(|c| signing_time < c.not_before() || signing_time > c.not_after())
        {
            return Err(Error::NotValidAtSigningTime {
                subject: cert.subject(),
                signing_time,
            });
        }
        return Ok(AuthenticTime::SigningTime(signing_time));
    }
    if !timestamp_verification_triggered(policy, envelope.signing_scheme(), chain, now) {
        for cert in chain {
            if now < cert.not_before() {
                return Err(Error::CertificateNotYetValid {
                    subject: cert.subject(),
                    not_before: cert.not_before(),
                });
            }
            if now > cert.not_after() {
                return Err(Error::CertificateExpired {
                    subject: cert.subject(),
                    not_after: cert.not_after(),
                });
            }
        }
        return Ok(AuthenticTime::VerificationTime(now));
    }
    let token = envelope
        .timestamp_signature()
        .filter(|t| !t.is_empty())
        .ok_or(Error::TimestampMissing)?;
    let roots = load_tsa_roots().map_err(|reason| Error::TsaTrustStore {
        policy: policy.name().to_owned(),
        reason,
    })?;
    if roots.is_empty() {
        return Err(Error::NoTsaCertificates {
            policy: policy.name().to_owned(),
        });
    }
    let verified =
        timestamp::verify_timestamp(token, envelope.signature(), &roots).map_err(|e| {
            Error::TimestampInvalid {
                reason: e.to_string(),
            }
        })?;
    let range = format!(
        "[{}, {}]",
        format_time(verified.timestamp.lower_limit()),
        format_time(verified.timestamp.upper_limit())
    );
    for cert in chain {
        if !verified.timestamp.bounded_after(cert.not_before()) {
            return Err(Error::TimestampBeforeValidity {
                subject: cert.subject(),
                range,
                not_before: cert.not_before(),
            });
        }
        if !verified.timestamp.bounded_before(cert.not_after()) {
            return Err(Error::TimestampAfterValidity {
                subject: cert.subject(),
                range,
                not_after: cert.not_after(),
            });
        }
    }
    check_tsa_revocation(&verified.tsa_chain).map_err(|reason| Error::TsaRevocation { reason })?;
    Ok(AuthenticTime::Timestamp(verified))
}

fn format_time(t: SystemTime) -> String {
    signet_notation::rfc3339::format(t).unwrap_or_else(|_| format!("{t:?}"))
}
