//! The pieces of notation's signature verification that are not in `signet-notation` or
//! `signet-notation-policy`: trust-store roots, the chain-to-root check, trusted identities on
//! the leaf subject, the local-time validity of the chain, the (offline) revocation check, and
//! the small formats the commands need (Go durations, Go's `time.ANSIC`).
//!
//! **Chain to a trust store** (authenticity): the envelope's chain must end in a certificate
//! byte-identical to one of the certificates of the policy's `ca:` stores, that root must be
//! self-signed, and every certificate must be signed by the next one. Validity periods are
//! not part of this check: they are the *authentic timestamp* validation
//! (`signet_notation_policy::verify_authentic_timestamp`: valid now, at the authentic signing
//! time, or around a verified RFC 3161 timestamp), as in the Notary Project verification
//! steps.
//!
//! **TSA roots** (authentic timestamp): the certificates of the policy's `tsa:` stores, each a
//! root CA certificate (self-signed with a CA's constraints, subject = issuer), as
//! notation-go's trust store requires of `tsa` stores; read only when timestamp verification
//! is triggered, so a missing or bad `tsa` store fails that validation, not the command.
//!
//! **Revocation** is offline: there is no OCSP or CRL client here. As in notation-core-go the
//! last certificate of a chain (the root) is never checked; any other certificate that names
//! no OCSP responder (authorityInfoAccess) and no CRL distribution point cannot be revoked
//! (the "non-revokable" result, which passes); one that names either would be looked up by
//! notation, and here its status is unknown — notation-go's result when the responder or CRL
//! cannot be reached: "signing certificate with subject … revocation status is unknown"
//! (`timestamping certificate …` for a TSA chain). For the signing chain that fails the
//! revocation validation (enforced under `strict`, logged under `permissive` and `audit`,
//! not run under `skip` or `"revocation": "skip"`, and per `"revocation": "enforce"|"log"`);
//! for a TSA chain it fails the authentic timestamp validation (notation-go checks a TSA
//! chain's revocation whatever the `revocation` setting).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow, bail};
use signet_notation_policy::{DistinguishedName, TrustPolicy, TrustStoreType};
use signet_pki::cert::Certificate;

use super::truststore;

/// The certificates of the policy's `ca:` stores (`truststore/x509/ca/NAME/*`). A store that
/// is missing or holds no certificate is an error, as in notation-go.
pub fn ca_roots(x509_root: &Path, policy: &TrustPolicy) -> Result<Vec<Certificate>> {
    let mut roots = Vec::new();
    let names: Vec<&str> = policy.trust_stores_of(TrustStoreType::Ca).collect();
    if names.is_empty() {
        bail!(
            "trust policy {:?} names no \"ca\" trust store",
            policy.name()
        );
    }
    for name in names {
        let listed = truststore::list_store(x509_root, "ca", name)?;
        if listed.is_empty() {
            bail!("the trust store \"ca:{name}\" does not exist or holds no certificate");
        }
        for file in listed {
            let path = truststore::store_dir(x509_root, "ca", name).join(&file.file);
            roots.extend(truststore::read_certificate_file(&path)?);
        }
    }
    Ok(roots)
}

/// The certificates of the policy's `tsa:` stores (`truststore/x509/tsa/NAME/*`), each a
/// root CA certificate ([`check_root_ca`]). A store that is missing or holds no certificate is
/// an error, as in notation-go.
pub fn tsa_roots(x509_root: &Path, policy: &TrustPolicy) -> Result<Vec<Certificate>> {
    let mut roots = Vec::new();
    for name in policy.trust_stores_of(TrustStoreType::Tsa) {
        let listed = truststore::list_store(x509_root, "tsa", name)?;
        if listed.is_empty() {
            bail!("the trust store \"tsa:{name}\" does not exist or holds no certificate");
        }
        for file in listed {
            let path = truststore::store_dir(x509_root, "tsa", name).join(&file.file);
            for cert in truststore::read_certificate_file(&path)? {
                check_root_ca(&cert).map_err(|reason| {
                    anyhow!(
                        "trusted certificate {} in trust store {name} of type tsa is invalid: certificate with subject {:?} is not a root CA certificate: {reason}",
                        file.file,
                        cert.subject()
                    )
                })?;
                roots.push(cert);
            }
        }
    }
    Ok(roots)
}

/// Checks that `cert` is a root CA certificate as notation requires of TSA roots (Go's
/// `cert.CheckSignatureFrom(cert)` and subject = issuer): [`check_self_signed_ca`], and it is
/// self-issued. `Err` carries the reason.
pub fn check_root_ca(cert: &Certificate) -> std::result::Result<(), String> {
    check_self_signed_ca(cert)?;
    if !cert.is_self_issued() {
        return Err(format!(
            "issuer ({}) and subject ({}) are not the same",
            cert.issuer(),
            cert.subject()
        ));
    }
    Ok(())
}

/// Go's `cert.CheckSignatureFrom(cert)`: `cert` may sign certificates (basicConstraints, when
/// present, says cA; keyUsage, when present, has keyCertSign) and is signed by its own key.
/// `Err` carries the reason.
pub fn check_self_signed_ca(cert: &Certificate) -> std::result::Result<(), String> {
    if matches!(cert.basic_constraints(), Ok(Some((false, _)))) {
        return Err("it is not a CA certificate (basicConstraints cA is false)".to_owned());
    }
    match cert.key_usage() {
        Ok(Some(ku)) if !ku.key_cert_sign() => {
            return Err("its keyUsage does not allow keyCertSign".to_owned());
        }
        Err(e) => return Err(e.to_string()),
        _ => {}
    }
    cert.verify_signed_by(cert)
        .map_err(|e| format!("it is not signed by its own key: {e}"))
}

/// Checks that `chain` (leaf first) ends in one of `roots` (byte-identical), that root being
/// self-signed, and that every certificate is signed by the next one.
pub fn check_chain_to_roots(chain: &[Certificate], roots: &[Certificate]) -> Result<()> {
    let Some(last) = chain.last() else {
        bail!("the signature's certificate chain is empty");
    };
    for pair in chain.windows(2) {
        pair[0]
            .verify_signed_by(&pair[1])
            .map_err(|e| anyhow!("the certificate chain is broken: {e}"))?;
    }
    if !roots.iter().any(|r| r.der() == last.der()) {
        bail!(
            "the signature's root certificate ({}) is not in the trust policy's trust stores",
            last.subject()
        );
    }
    last.verify_signed_by(last)
        .map_err(|e| anyhow!("the root certificate is not self-signed: {e}"))
}

/// The leaf subject as (short name, value) pairs, for `trustedIdentities`.
pub fn subject_attributes(cert: &Certificate) -> Result<Vec<(String, String)>> {
    let subject = cert.subject();
    let dn = DistinguishedName::parse(&subject)
        .map_err(|e| anyhow!("cannot read the signing certificate's subject {subject:?}: {e}"))?;
    Ok(dn.attributes().to_vec())
}

/// What a chain given to [`check_revocation_offline`] is for (notation-core-go's
/// `purpose.CodeSigning` / `purpose.Timestamping`), which names its certificates in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainPurpose {
    /// The signing chain of a signature.
    CodeSigning,
    /// The TSA chain of a timestamp countersignature.
    Timestamping,
}

/// The offline revocation check of `chain` (leaf first): passes when no certificate but the
/// root can be revoked (names no OCSP responder and no CRL distribution point); otherwise the
/// status of the first such certificate is unknown, notation-go's failure when OCSP and CRL
/// cannot be reached.
pub fn check_revocation_offline(chain: &[Certificate], purpose: ChainPurpose) -> Result<()> {
    let checked = chain.len().saturating_sub(1);
    for cert in &chain[..checked] {
        if cert.names_revocation_source()? {
            let role = match purpose {
                ChainPurpose::CodeSigning => "signing",
                ChainPurpose::Timestamping => "timestamping",
            };
            bail!(
                "{role} certificate with subject {:?} revocation status is unknown: revocation cannot be checked, the certificate names an OCSP responder or CRL distribution point and signet has no OCSP or CRL client",
                cert.subject()
            );
        }
    }
    Ok(())
}

/// Parses a Go `time.ParseDuration` string (`90s`, `1.5h`, `3h20m`, `0`).
pub fn parse_go_duration(text: &str) -> Result<Duration> {
    let bad = || anyhow!("invalid duration {text:?}");
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        bail!("invalid duration {text:?}: must not be negative");
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut s = rest;
    while !s.is_empty() {
        let number_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| anyhow!("invalid duration {text:?}: missing unit"))?;
        let number: f64 = s[..number_len].parse().map_err(|_| bad())?;
        s = &s[number_len..];
        let unit_len = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = match &s[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => bail!("invalid duration {text:?}: unknown unit {other:?}"),
        };
        s = &s[unit_len..];
        total += number * unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Days since the epoch to (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Go's `time.ANSIC` layout in UTC: `Mon Jan _2 15:04:05 2006`.
pub fn ansic(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX / 2),
    };
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    let month_name = MONTHS[(month as usize).saturating_sub(1) % 12];
    format!(
        "{weekday} {month_name} {day:>2} {:02}:{:02}:{:02} {year}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(
            parse_go_duration("3h20m").unwrap(),
            Duration::from_secs(3 * 3600 + 20 * 60)
        );
        assert_eq!(
            parse_go_duration("1.5h").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_go_duration("10").is_err());
        assert!(parse_go_duration("-1h").is_err());
        assert!(parse_go_duration("1d").is_err());
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn ansic_layout() {
        assert_eq!(ansic(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
        // 2023-06-23T22:04:01Z
        let t = UNIX_EPOCH + Duration::from_secs(1_687_557_841);
        assert_eq!(ansic(t), "Fri Jun 23 22:04:01 2023");
        // 2024-02-29T12:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_709_208_000);
        assert_eq!(ansic(t), "Thu Feb 29 12:00:00 2024");
    }
}
