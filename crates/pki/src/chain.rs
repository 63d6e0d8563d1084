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
//!
//! Uploaded chains: [`check_chain_for_key`] checks a chain uploaded for a signing key held
//! elsewhere (an HSM key whose CSR an external CA signed), so that it certifies exactly that
//! key and hangs together before it is stored and handed to verifiers. It takes the chain leaf
//! first, each certificate followed by its issuer, and checks, in this order: the leaf
//! certifies the key; then for each certificate: the leaf is not a CA, every later certificate
//! is a CA (basicConstraints cA=true, and keyCertSign if it has a keyUsage; a self-issued last
//! certificate without basicConstraints is accepted as a legacy v1 root, as path validation
//! does), and it is valid at `now`; then for each certificate: it names the next one as its
//! issuer and that one's key verifies its signature. A self-issued last certificate (a root)
//! must verify its own signature. The chain need not end at a root, and no trust decision is
//! made there: that is [`verify_code_signing`]'s job. Errors ([`ChainUploadError`]) number
//! the certificates from 1 (the leaf) as they appear in the upload.

use std::time::SystemTime;

use signet_crypto::PublicKey;

use crate::Error;
use crate::cert::{Certificate, OID_EKU_ANY, OID_EKU_CODE_SIGNING};
use crate::error::rfc3339;

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

/// Why an uploaded chain is refused. Certificates are numbered from 1 (the leaf).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainUploadError {
    /// No certificate at all.
    #[error(
        "the certificate chain is empty: upload the certificate issued for this key first, then \
         its issuers"
    )]
    Empty,
    /// The first certificate is for another key.
    #[error(
        "certificate 1 ({subject}) certifies another key ({found}), not this signing key \
         ({expected}): the chain must start with the certificate issued for this key"
    )]
    WrongKey {
        /// The first certificate's subject.
        subject: String,
        /// The key it certifies (type and SHA-256 fingerprint).
        found: String,
        /// The signing key (type and SHA-256 fingerprint).
        expected: String,
    },
    /// A certificate cannot be read as needed (unsupported key, malformed extension).
    #[error("certificate {index} ({subject}): {reason}")]
    Unreadable {
        /// Its position, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// The first certificate is a CA certificate.
    #[error(
        "certificate 1 ({subject}) is a CA certificate (basicConstraints cA=true): the chain \
         must start with the end-entity certificate issued for this key"
    )]
    LeafIsCa {
        /// The first certificate's subject.
        subject: String,
    },
    /// A certificate that issues the one before it is not a CA.
    #[error(
        "certificate {index} ({subject}) is not a CA ({reason}), so it cannot have issued \
         certificate {}", .index - 1
    )]
    NotACa {
        /// Its position, from 2.
        index: usize,
        /// Its subject.
        subject: String,
        /// What its extensions say.
        reason: String,
    },
    /// A certificate's validity ended before `now`.
    #[error(
        "certificate {index} ({subject}) expired on {} (checked at {})",
        rfc3339(*.not_after), rfc3339(*.now)
    )]
    Expired {
        /// Its position, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notAfter.
        not_after: SystemTime,
        /// The time checked.
        now: SystemTime,
    },
    /// A certificate's validity starts after `now`.
    #[error(
        "certificate {index} ({subject}) is not valid until {} (checked at {})",
        rfc3339(*.not_before), rfc3339(*.now)
    )]
    NotYetValid {
        /// Its position, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its notBefore.
        not_before: SystemTime,
        /// The time checked.
        now: SystemTime,
    },
    /// A certificate is not issued by the one after it.
    #[error(
        "certificate {index} ({subject}) is not issued by certificate {} ({issuer_subject}): \
         {reason}", .index + 1
    )]
    NotIssuedBy {
        /// Its position, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// The next certificate's subject.
        issuer_subject: String,
        /// Name mismatch or signature failure.
        reason: String,
    },
    /// The last certificate is self-issued but does not verify its own signature.
    #[error(
        "certificate {index} ({subject}) is self-issued but its self-signature does not verify: \
         {reason}"
    )]
    BadSelfSignature {
        /// Its position, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// Why.
        reason: String,
    },
}

fn unreadable(index: usize, cert: &Certificate) -> impl FnOnce(Error) -> ChainUploadError + '_ {
    move |e| ChainUploadError::Unreadable {
        index,
        subject: cert.subject(),
        reason: e.to_string(),
    }
}

fn describe(key: &PublicKey) -> String {
    let hex: String = key
        .sha256_fingerprint()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{} key, SHA-256 {hex}…", key.key_type())
}

/// Checks an uploaded chain (leaf first) for the signing key `key` at time `now` (see the
/// module documentation).
pub fn check_chain_for_key(
    chain: &[Certificate],
    key: &PublicKey,
    now: SystemTime,
) -> Result<(), ChainUploadError> {
    let Some(leaf) = chain.first() else {
        return Err(ChainUploadError::Empty);
    };
    let leaf_key = leaf.public_key().map_err(unreadable(1, leaf))?;
    if leaf_key != *key {
        return Err(ChainUploadError::WrongKey {
            subject: leaf.subject(),
            found: describe(&leaf_key),
            expected: describe(key),
        });
    }
    let last = chain.len() - 1;
    for (i, cert) in chain.iter().enumerate() {
        let index = i + 1;
        let constraints = cert.basic_constraints().map_err(unreadable(index, cert))?;
        if i == 0 {
            if let Some((true, _)) = constraints {
                return Err(ChainUploadError::LeafIsCa {
                    subject: cert.subject(),
                });
            }
        } else {
            let not_a_ca = |reason: &str| ChainUploadError::NotACa {
                index,
                subject: cert.subject(),
                reason: reason.to_owned(),
            };
            match constraints {
                Some((true, _)) => {}
                Some((false, _)) => return Err(not_a_ca("basicConstraints cA=false")),
                None if i == last && cert.is_self_issued() => {}
                None => return Err(not_a_ca("it has no basicConstraints extension")),
            }
            if let Some(ku) = cert.key_usage().map_err(unreadable(index, cert))?
                && !ku.key_cert_sign()
            {
                return Err(not_a_ca("its keyUsage does not allow keyCertSign"));
            }
        }
        if now < cert.not_before() {
            return Err(ChainUploadError::NotYetValid {
                index,
                subject: cert.subject(),
                not_before: cert.not_before(),
                now,
            });
        }
        if now > cert.not_after() {
            return Err(ChainUploadError::Expired {
                index,
                subject: cert.subject(),
                not_after: cert.not_after(),
                now,
            });
        }
    }
    for (i, cert) in chain.iter().enumerate() {
        let index = i + 1;
        if let Some(issuer) = chain.get(i + 1) {
            let not_issued = |reason: String| ChainUploadError::NotIssuedBy {
                index,
                subject: cert.subject(),
                issuer_subject: issuer.subject(),
                reason,
            };
            if cert.issuer_der() != issuer.subject_der() {
                return Err(not_issued(format!(
                    "it names {} as its issuer",
                    cert.issuer()
                )));
            }
            cert.verify_signed_by(issuer)
                .map_err(|e| not_issued(signature_failure(e)))?;
        } else if cert.is_self_issued() {
            cert.verify_signed_by(cert)
                .map_err(|e| ChainUploadError::BadSelfSignature {
                    index,
                    subject: cert.subject(),
                    reason: signature_failure(e),
                })?;
        }
    }
    Ok(())
}

fn signature_failure(e: Error) -> String {
    match e {
        Error::BadCertificateSignature { .. } => {
            "its signature does not verify with that certificate's key".to_owned()
        }
        Error::UnsupportedSignature { oid, .. } => {
            format!("its signature algorithm {oid} is not supported")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use signet_crypto::{KeyType, PrivateKey};

    use super::*;
    use crate::dn::DistinguishedName;
    use crate::issue::{
        CaIssuer, IntermediateRequest, LeafRequest, RootRequest, issue_intermediate, issue_leaf,
        issue_root,
    };

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse(s).unwrap()
    }

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    struct Pki {
        leaf_key: PrivateKey,
        leaf: Certificate,
        inter: Certificate,
        root: Certificate,
    }

    fn pki(root_name: &str) -> Pki {
        let root_key = PrivateKey::generate(KeyType::P256).unwrap();
        let root = issue_root(&RootRequest::new(dn(root_name)), &root_key, now()).unwrap();
        let inter_key = PrivateKey::generate(KeyType::P256).unwrap();
        let ca = CaIssuer::new(&root.der, &root_key).unwrap();
        let inter = issue_intermediate(
            &IntermediateRequest::new(dn("/O=Acme/CN=Intermediate")),
            &inter_key.public_key(),
            &ca,
            now(),
        )
        .unwrap();
        let leaf_key = PrivateKey::generate(KeyType::P256).unwrap();
        let ca = CaIssuer::new(&inter.der, &inter_key).unwrap();
        let leaf = issue_leaf(
            &LeafRequest::new(
                dn("/O=Acme/CN=Signer"),
                vec!["ci@acme.example".into()],
                vec![],
                "https://acme.example",
            ),
            &leaf_key.public_key(),
            &ca,
            now(),
        )
        .unwrap();
        Pki {
            leaf_key,
            leaf: cert(&leaf.der),
            inter: cert(&inter.der),
            root: cert(&root.der),
        }
    }

    #[test]
    fn accepts_a_good_chain_with_or_without_the_root() {
        let p = pki("/O=Acme/CN=Root");
        let key = p.leaf_key.public_key();
        let full = [p.leaf.clone(), p.inter.clone(), p.root.clone()];
        check_chain_for_key(&full, &key, now()).unwrap();
        check_chain_for_key(&full[..2], &key, now()).unwrap();
        check_chain_for_key(&full[..1], &key, now()).unwrap();
    }

    #[test]
    fn refusals() {
        let p = pki("/O=Acme/CN=Root");
        let key = p.leaf_key.public_key();
        let text = |r: Result<(), ChainUploadError>| r.unwrap_err().to_string();

        assert_eq!(
            check_chain_for_key(&[], &key, now()),
            Err(ChainUploadError::Empty)
        );

        let other = PrivateKey::generate(KeyType::P256).unwrap().public_key();
        let err = text(check_chain_for_key(
            std::slice::from_ref(&p.leaf),
            &other,
            now(),
        ));
        assert!(
            err.contains("certificate 1 (CN=Signer,O=Acme) certifies another key"),
            "{err}"
        );

        // Leaf first, please.
        let err = text(check_chain_for_key(
            &[p.inter.clone(), p.root.clone()],
            &key,
            now(),
        ));
        assert!(err.contains("certifies another key"), "{err}");

        // Missing the intermediate: the leaf names another issuer.
        let err = text(check_chain_for_key(
            &[p.leaf.clone(), p.root.clone()],
            &key,
            now(),
        ));
        assert!(
            err.starts_with(
                "certificate 1 (CN=Signer,O=Acme) is not issued by certificate 2 (CN=Root,O=Acme): \
                 it names CN=Intermediate,O=Acme as its issuer"
            ),
            "{err}"
        );

        // Same names, other keys: the signature does not verify.
        let q = pki("/O=Acme/CN=Root");
        let err = text(check_chain_for_key(
            &[p.leaf.clone(), p.inter.clone(), q.root.clone()],
            &key,
            now(),
        ));
        assert!(
            err.contains("certificate 2 (CN=Intermediate,O=Acme) is not issued by certificate 3")
                && err.contains("does not verify"),
            "{err}"
        );

        // The leaf is not a CA, so it cannot issue anything.
        let err = text(check_chain_for_key(
            &[p.leaf.clone(), p.leaf.clone()],
            &key,
            now(),
        ));
        assert!(
            err.contains(
                "certificate 2 (CN=Signer,O=Acme) is not a CA (basicConstraints cA=false)"
            ),
            "{err}"
        );

        // Expiry and not-yet-valid name the certificate and the date.
        let late = p.leaf.not_after() + Duration::from_secs(1);
        let err = text(check_chain_for_key(
            std::slice::from_ref(&p.leaf),
            &key,
            late,
        ));
        assert!(
            err.starts_with("certificate 1 (CN=Signer,O=Acme) expired on 2024-11-13T22:13:20Z"),
            "{err}"
        );
        let early = p.leaf.not_before() - Duration::from_secs(1);
        let err = text(check_chain_for_key(
            std::slice::from_ref(&p.leaf),
            &key,
            early,
        ));
        assert!(
            err.contains("is not valid until 2023-11-14T22:08:20Z"),
            "{err}"
        );

        // A root whose self-signature is broken (last byte of its signature flipped).
        let mut der = p.root.der().to_vec();
        if let Some(b) = der.last_mut() {
            *b ^= 0x01;
        }
        let broken = cert(&der);
        let err = text(check_chain_for_key(
            &[p.leaf.clone(), p.inter.clone(), broken],
            &key,
            now(),
        ));
        assert!(
            err.starts_with(
                "certificate 3 (CN=Root,O=Acme) is self-issued but its self-signature does not verify"
            ),
            "{err}"
        );

        // A CA certificate first.
        let inter_key_chain = [p.inter.clone()];
        let inter_key = p.inter.public_key().unwrap();
        let err = text(check_chain_for_key(&inter_key_chain, &inter_key, now()));
        assert!(err.contains("is a CA certificate"), "{err}");
    }
}
