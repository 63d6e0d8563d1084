//! Chain building and validation at a given time, for code-signing certificates.
//!
//! From the leaf, every certificate among the given intermediates and trusted roots whose
//! subject equals the current issuer and whose key verifies the current signature is a
//! candidate parent; paths are searched depth-first until one ends at a trusted root and
//! passes every check. Only the caller's roots are trusted: intermediates (from flags or from
//! a signature's chain annotation) only help to find a path.
//!
//! Checks, as RFC 5280 and Go's `x509.Verify` (which cosign uses) apply them, made stricter
//! where Go is lax: every certificate valid at `at`; no unhandled critical extension; leaf:
//! not a CA, keyUsage (if present) allows digitalSignature, extKeyUsage (if present) allows
//! codeSigning or any; issuers: basicConstraints cA (intermediates must have it; a root that
//! says cA=false is refused), keyUsage (if present) allows keyCertSign, pathLenConstraint
//! counts the non-self-issued intermediates below, and an issuer's extKeyUsage (if present)
//! must allow codeSigning too (Go's EKU nesting).

use std::time::SystemTime;

use crate::Error;
use crate::cert::{Certificate, OID_EKU_ANY, OID_EKU_CODE_SIGNING};

const MAX_DEPTH: usize = 8;

/// A validated path: the leaf first, the trusted root last.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    /// The certificates from leaf to root.
    pub path: Vec<Certificate>,
}

/// Validates `leaf` for code signing at time `at`, building a path through `intermediates`
/// to one of `roots`. On failure the error names the certificate and check that failed; when
/// several paths were possible, every attempt is reported.
pub fn verify_code_signing(
    leaf: &Certificate,
    intermediates: &[Certificate],
    roots: &[Certificate],
    at: SystemTime,
) -> Result<VerifiedChain, Error> {
    check_leaf(leaf, at)?;
    let mut attempts = Vec::new();
    let mut path = vec![leaf.clone()];
    if let Some(found) = search(&mut path, intermediates, roots, at, &mut attempts) {
        return Ok(VerifiedChain { path: found });
    }
    Err(match attempts.len() {
        0 => Error::UnknownIssuer {
            subject: leaf.subject(),
            serial: leaf.serial_hex(),
            issuer: leaf.issuer(),
        },
        1 => attempts.remove(0),
        _ => Error::NoValidChain { attempts },
    })
}

fn search(
    path: &mut Vec<Certificate>,
    intermediates: &[Certificate],
    roots: &[Certificate],
    at: SystemTime,
    attempts: &mut Vec<Error>,
) -> Option<Vec<Certificate>> {
    let current = path.last()?.clone();
    let issuer_name = current.issuer_der();
    let mut found_issuer = false;
    for (candidate, is_root) in roots
        .iter()
        .map(|c| (c, true))
        .chain(intermediates.iter().map(|c| (c, false)))
    {
        if candidate.subject_der() != issuer_name || path.contains(candidate) {
            continue;
        }
        found_issuer = true;
        if let Err(e) = current.verify_signed_by(candidate) {
            attempts.push(e);
            continue;
        }
        path.push(candidate.clone());
        if is_root {
            match check_path(path, at) {
                Ok(()) => return Some(path.clone()),
                Err(e) => attempts.push(e),
            }
        } else if path.len() < MAX_DEPTH
            && let Some(found) = search(path, intermediates, roots, at, attempts)
        {
            return Some(found);
        }
        path.pop();
    }
    if !found_issuer && path.len() > 1 {
        attempts.push(Error::UnknownIssuer {
            subject: current.subject(),
            serial: current.serial_hex(),
            issuer: current.issuer(),
        });
    }
    None
}

fn usage(cert: &Certificate, rule: impl Into<String>) -> Error {
    Error::Usage {
        subject: cert.subject(),
        serial: cert.serial_hex(),
        rule: rule.into(),
    }
}

fn check_common(cert: &Certificate, at: SystemTime) -> Result<(), Error> {
    if at < cert.not_before() || at > cert.not_after() {
        return Err(Error::OutsideValidity {
            subject: cert.subject(),
            serial: cert.serial_hex(),
            at,
            not_before: cert.not_before(),
            not_after: cert.not_after(),
        });
    }
    let unhandled = cert.unhandled_critical_extensions();
    if !unhandled.is_empty() {
        return Err(usage(
            cert,
            format!("unhandled critical extension {}", unhandled.join(", ")),
        ));
    }
    Ok(())
}

fn eku_allows_code_signing(cert: &Certificate) -> Result<Option<Vec<String>>, Error> {
    Ok(match cert.extended_key_usage()? {
        None => None,
        Some(ekus) if ekus.contains(&OID_EKU_CODE_SIGNING) || ekus.contains(&OID_EKU_ANY) => None,
        Some(ekus) => Some(ekus.iter().map(|o| eku_name(&o.to_string())).collect()),
    })
}

fn eku_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.3.1" => "serverAuth".to_string(),
        "1.3.6.1.5.5.7.3.2" => "clientAuth".to_string(),
        "1.3.6.1.5.5.7.3.3" => "codeSigning".to_string(),
        "1.3.6.1.5.5.7.3.4" => "emailProtection".to_string(),
        "1.3.6.1.5.5.7.3.8" => "timeStamping".to_string(),
        other => other.to_string(),
    }
}

fn check_leaf(leaf: &Certificate, at: SystemTime) -> Result<(), Error> {
    check_common(leaf, at)?;
    if let Some((true, _)) = leaf.basic_constraints()? {
        return Err(usage(
            leaf,
            "is a CA certificate (basicConstraints cA=true), not a signing certificate",
        ));
    }
    if let Some(ku) = leaf.key_usage()?
        && !ku.digital_signature()
    {
        return Err(usage(leaf, "keyUsage does not allow digitalSignature"));
    }
    if let Some(found) = eku_allows_code_signing(leaf)? {
        return Err(usage(
            leaf,
            format!(
                "extKeyUsage does not allow code signing (it allows {})",
                found.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Checks the issuers of a complete path (leaf at 0, trusted root last).
fn check_path(path: &[Certificate], at: SystemTime) -> Result<(), Error> {
    let last = path.len() - 1;
    for (k, ca) in path.iter().enumerate().skip(1) {
        check_common(ca, at)?;
        match ca.basic_constraints()? {
            Some((true, Some(max))) => {
                let below = path[1..k].iter().filter(|c| !c.is_self_issued()).count();
                if below > usize::from(max) {
                    return Err(usage(
                        ca,
                        format!(
                            "path length constraint {max} exceeded: {below} intermediate certificates below it"
                        ),
                    ));
                }
            }
            Some((true, None)) => {}
            Some((false, _)) => {
                return Err(usage(
                    ca,
                    "is not a CA (basicConstraints cA=false) but issued a certificate",
                ));
            }
            None if k != last => {
                return Err(usage(
                    ca,
                    "has no basicConstraints, so it may not act as an intermediate CA",
                ));
            }
            None => {}
        }
        if let Some(ku) = ca.key_usage()?
            && !ku.key_cert_sign()
        {
            return Err(usage(
                ca,
                "keyUsage does not allow keyCertSign but it issued a certificate",
            ));
        }
        if let Some(found) = eku_allows_code_signing(ca)? {
            return Err(usage(
                ca,
                format!(
                    "extKeyUsage restricts the certificates it issues to {}, not code signing",
                    found.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
