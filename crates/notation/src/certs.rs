//! The Notary Project certificate requirements (signature specification, "Certificate
//! Requirements") for the chain carried in a signature envelope: complete and ordered leaf →
//! intermediates → self-signed root, each certificate signed by the next; CA and code-signing
//! leaf extension rules; RSA ≥ 2048 or EC P-256/P-384/P-521 keys; no SHA-1 signatures.
//! Only basicConstraints, keyUsage and extendedKeyUsage are evaluated; other extensions are
//! ignored, as the specification requires. Validity periods are not checked here (that needs
//! the verification time and belongs to the trust-policy step).
//!
//! [`check_timestamping_chain`] applies the rules for a timestamp authority's chain as
//! notation-core-go's `ValidateTimestampingCertChain` does: the leaf has keyUsage with
//! digitalSignature only (criticality not required), extendedKeyUsage critical and exactly
//! id-kp-timeStamping, an allowed key; CAs have basicConstraints cA=true (with
//! pathLenConstraint honoured) and keyUsage with keyCertSign.

use std::fmt;

use signet_crypto::KeyType;
use signet_pki::cert::Certificate;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::{Error, Result};

/// A Notary Project certificate rule, named in [`Error::CertificateRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRule {
    /// An extension the rules evaluate does not decode (or appears twice).
    MalformedExtension {
        /// The decoder's message.
        reason: String,
    },
    /// The public key is not RSA 2048/3072/4096 or EC P-256/P-384/P-521.
    UnsupportedKey {
        /// What the key is.
        reason: String,
    },
    /// The certificate is signed with a SHA-1 based algorithm.
    Sha1Signature {
        /// The signature algorithm OID.
        oid: String,
    },
    /// The leaf has no keyUsage extension.
    LeafKeyUsageMissing,
    /// The leaf's keyUsage is not critical.
    LeafKeyUsageNotCritical,
    /// The leaf's keyUsage lacks digitalSignature.
    LeafNoDigitalSignature,
    /// The leaf's keyUsage has a bit a code-signing certificate must not have.
    LeafForbiddenKeyUsage {
        /// The bit's name.
        usage: &'static str,
    },
    /// The leaf's basicConstraints says cA=true.
    LeafIsCa,
    /// The leaf's extendedKeyUsage has a purpose a code-signing certificate must not have.
    LeafForbiddenExtendedKeyUsage {
        /// The purpose's name.
        purpose: &'static str,
    },
    /// A CA certificate has no basicConstraints extension.
    CaBasicConstraintsMissing,
    /// A CA certificate's basicConstraints is not critical.
    CaBasicConstraintsNotCritical,
    /// A CA certificate's basicConstraints says cA=false.
    CaNotCa,
    /// A CA has more intermediate CAs below it than its pathLenConstraint allows.
    PathLenExceeded {
        /// The constraint.
        path_len: u32,
        /// How many intermediate CAs the chain has below this one.
        below: usize,
    },
    /// A CA certificate has no keyUsage extension.
    CaKeyUsageMissing,
    /// A CA certificate's keyUsage is not critical.
    CaKeyUsageNotCritical,
    /// A CA certificate's keyUsage lacks keyCertSign.
    CaNoKeyCertSign,
    /// The certificate's issuer name is not the next certificate's subject.
    IssuerNotNext {
        /// Its issuer name.
        issuer: String,
        /// The next certificate's subject.
        next_subject: String,
    },
    /// The certificate's signature does not verify with the next certificate's key.
    NotSignedByNext,
    /// The last certificate is not a self-signed root.
    RootNotSelfSigned,
    /// A self-issued certificate appears before the end of the chain.
    SelfIssuedBeforeEnd,
    /// A timestamping leaf's extendedKeyUsage is missing or has a purpose other than
    /// id-kp-timeStamping.
    TsaExtendedKeyUsage,
    /// A timestamping leaf's extendedKeyUsage is not critical.
    TsaExtendedKeyUsageNotCritical,
}

impl fmt::Display for CertRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertRule::MalformedExtension { reason } => write!(f, "malformed extension: {reason}"),
            CertRule::UnsupportedKey { reason } => write!(
                f,
                "key must be RSA 2048/3072/4096 or EC P-256/P-384/P-521: {reason}"
            ),
            CertRule::Sha1Signature { oid } => write!(f, "SHA-1 signature algorithm {oid}"),
            CertRule::LeafKeyUsageMissing => f.write_str("leaf keyUsage must be present"),
            CertRule::LeafKeyUsageNotCritical => f.write_str("leaf keyUsage must be critical"),
            CertRule::LeafNoDigitalSignature => {
                f.write_str("leaf keyUsage must include digitalSignature")
            }
            CertRule::LeafForbiddenKeyUsage { usage } => {
                write!(f, "leaf keyUsage must not include {usage}")
            }
            CertRule::LeafIsCa => f.write_str("leaf basicConstraints must not say cA=true"),
            CertRule::LeafForbiddenExtendedKeyUsage { purpose } => {
                write!(f, "leaf extendedKeyUsage must not include {purpose}")
            }
            CertRule::CaBasicConstraintsMissing => {
                f.write_str("CA basicConstraints must be present")
            }
            CertRule::CaBasicConstraintsNotCritical => {
                f.write_str("CA basicConstraints must be critical")
            }
            CertRule::CaNotCa => f.write_str("CA basicConstraints must say cA=true"),
            CertRule::PathLenExceeded { path_len, below } => write!(
                f,
                "pathLenConstraint {path_len} allows fewer than the {below} intermediate CAs below it"
            ),
            CertRule::CaKeyUsageMissing => f.write_str("CA keyUsage must be present"),
            CertRule::CaKeyUsageNotCritical => f.write_str("CA keyUsage must be critical"),
            CertRule::CaNoKeyCertSign => f.write_str("CA keyUsage must include keyCertSign"),
            CertRule::IssuerNotNext {
                issuer,
                next_subject,
            } => write!(
                f,
                "chain must be ordered: issuer {issuer} is not the next certificate's subject {next_subject}"
            ),
            CertRule::NotSignedByNext => {
                f.write_str("chain must be ordered: not signed by the next certificate")
            }
            CertRule::RootNotSelfSigned => {
                f.write_str("chain must end in a self-signed root certificate")
            }
            CertRule::SelfIssuedBeforeEnd => {
                f.write_str("only the last certificate may be a self-signed root")
            }
            CertRule::TsaExtendedKeyUsage => f.write_str(
                "timestamping leaf extendedKeyUsage must be present and contain only timeStamping",
            ),
            CertRule::TsaExtendedKeyUsageNotCritical => {
                f.write_str("timestamping leaf extendedKeyUsage must be critical")
            }
        }
    }
}

/// SHA-1 based certificate signature algorithms: sha1WithRSAEncryption, ecdsa-with-SHA1,
/// dsa-with-sha1.
const SHA1_SIGNATURE_OIDS: [&str; 3] = [
    "1.2.840.113549.1.1.5",
    "1.2.840.10045.4.1",
    "1.2.840.10040.4.3",
];

/// Parses DER certificates (leaf first), naming the position of one that does not parse.
pub fn parse_chain(ders: &[Vec<u8>]) -> Result<Vec<Certificate>> {
    ders.iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der).map_err(|e| Error::Certificate {
                index,
                subject: "?".to_owned(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Checks `chain` (leaf first, root last, root included) against the Notary Project
/// certificate requirements for a signing chain. A one-certificate chain is a self-signed
/// root that must also satisfy the leaf rules.
pub fn check_signing_chain(chain: &[Certificate]) -> Result<()> {
    check_chain(
        chain,
        |index, subject, rule| Error::CertificateRule {
            index,
            subject,
            rule,
        },
        |index, cert, x509| {
            check_key(cert)?;
            let oid = x509.signature_algorithm.algorithm.to_id_string();
            if SHA1_SIGNATURE_OIDS.contains(&oid.as_str()) {
                return Err(CertRule::Sha1Signature { oid });
            }
            match index {
                0 => check_leaf(x509),
                _ => check_ca(x509, index - 1),
            }
        },
    )
}

/// Checks a timestamp authority's chain (TSA certificate first, self-signed root last) against
/// the Notary Project requirements for timestamping certificates. A one-certificate chain is a
/// self-signed TSA certificate that must also satisfy the leaf rules.
pub fn check_timestamping_chain(chain: &[Certificate]) -> Result<()> {
    check_chain(
        chain,
        |index, subject, rule| Error::TsaCertificateRule {
            index,
            subject,
            rule,
        },
        |index, cert, x509| match index {
            0 => check_tsa_leaf(cert, x509),
            _ => check_tsa_ca(x509, index - 1),
        },
    )
}

/// The chain rules both kinds share (notation-core-go's `validateCertChain`): the last
/// certificate is self-signed, no other is, each is signed by and issued by the next; then
/// `rules` (the leaf's and the CAs' own requirements) for each certificate. `wrap` names the
/// kind in the error.
fn check_chain(
    chain: &[Certificate],
    wrap: impl Fn(usize, String, CertRule) -> Error,
    rules: impl Fn(usize, &Certificate, &X509Certificate<'_>) -> Result<(), CertRule>,
) -> Result<()> {
    if chain.is_empty() {
        return Err(Error::EmptyChain);
    }
    for (index, cert) in chain.iter().enumerate() {
        let fail = |rule: CertRule| wrap(index, cert.subject(), rule);
        let x509 = match X509Certificate::from_der(cert.der()) {
            Ok((_, x)) => x,
            Err(e) => {
                return Err(Error::Certificate {
                    index,
                    subject: cert.subject(),
                    reason: e.to_string(),
                });
            }
        };
        let self_signed = cert.is_self_issued() && cert.verify_signed_by(cert).is_ok();
        match chain.get(index + 1) {
            None if !self_signed => return Err(fail(CertRule::RootNotSelfSigned)),
            None => {}
            Some(_) if self_signed => return Err(fail(CertRule::SelfIssuedBeforeEnd)),
            // The names first: "issued by X, next is Y" says more than a failed signature.
            Some(next) if cert.issuer() != next.subject() => {
                return Err(fail(CertRule::IssuerNotNext {
                    issuer: cert.issuer(),
                    next_subject: next.subject(),
                }));
            }
            Some(next) if cert.verify_signed_by(next).is_err() => {
                return Err(fail(CertRule::NotSignedByNext));
            }
            Some(_) => {}
        }
        rules(index, cert, &x509).map_err(fail)?;
    }
    Ok(())
}

fn check_tsa_leaf(cert: &Certificate, x509: &X509Certificate<'_>) -> Result<(), CertRule> {
    if let Some(bc) = x509.basic_constraints().map_err(malformed)?
        && bc.value.ca
    {
        return Err(CertRule::LeafIsCa);
    }
    let ku = x509
        .key_usage()
        .map_err(malformed)?
        .ok_or(CertRule::LeafKeyUsageMissing)?
        .value;
    if !ku.digital_signature() {
        return Err(CertRule::LeafNoDigitalSignature);
    }
    let forbidden = [
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    if let Some((_, usage)) = forbidden.iter().find(|(set, _)| *set) {
        return Err(CertRule::LeafForbiddenKeyUsage { usage });
    }
    let eku = x509
        .extended_key_usage()
        .map_err(malformed)?
        .ok_or(CertRule::TsaExtendedKeyUsage)?;
    let v = &eku.value;
    let only_time_stamping = v.time_stamping
        && !(v.any
            || v.server_auth
            || v.client_auth
            || v.code_signing
            || v.email_protection
            || v.ocsp_signing)
        && v.other.is_empty();
    if !only_time_stamping {
        return Err(CertRule::TsaExtendedKeyUsage);
    }
    if !eku.critical {
        return Err(CertRule::TsaExtendedKeyUsageNotCritical);
    }
    check_key(cert)
}

fn check_tsa_ca(x509: &X509Certificate<'_>, below: usize) -> Result<(), CertRule> {
    let bc = x509
        .basic_constraints()
        .map_err(malformed)?
        .ok_or(CertRule::CaBasicConstraintsMissing)?;
    if !bc.value.ca {
        return Err(CertRule::CaNotCa);
    }
    if let Some(path_len) = bc.value.path_len_constraint
        && usize::try_from(path_len).is_ok_and(|p| below > p)
    {
        return Err(CertRule::PathLenExceeded { path_len, below });
    }
    let ku = x509
        .key_usage()
        .map_err(malformed)?
        .ok_or(CertRule::CaKeyUsageMissing)?;
    if !ku.value.key_cert_sign() {
        return Err(CertRule::CaNoKeyCertSign);
    }
    Ok(())
}

fn check_key(cert: &Certificate) -> Result<(), CertRule> {
    let key = cert.public_key().map_err(|e| CertRule::UnsupportedKey {
        reason: e.to_string(),
    })?;
    match key.key_type() {
        KeyType::Ed25519 => Err(CertRule::UnsupportedKey {
            reason: "ed25519".to_owned(),
        }),
        _ => Ok(()),
    }
}

fn malformed(e: impl fmt::Display) -> CertRule {
    CertRule::MalformedExtension {
        reason: e.to_string(),
    }
}

fn check_leaf(x509: &X509Certificate<'_>) -> Result<(), CertRule> {
    if let Some(bc) = x509.basic_constraints().map_err(malformed)?
        && bc.value.ca
    {
        return Err(CertRule::LeafIsCa);
    }
    let ku = x509
        .key_usage()
        .map_err(malformed)?
        .ok_or(CertRule::LeafKeyUsageMissing)?;
    if !ku.critical {
        return Err(CertRule::LeafKeyUsageNotCritical);
    }
    let ku = ku.value;
    if !ku.digital_signature() {
        return Err(CertRule::LeafNoDigitalSignature);
    }
    let forbidden = [
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    if let Some((_, usage)) = forbidden.iter().find(|(set, _)| *set) {
        return Err(CertRule::LeafForbiddenKeyUsage { usage });
    }
    if let Some(eku) = x509.extended_key_usage().map_err(malformed)? {
        let eku = eku.value;
        let forbidden = [
            (eku.any, "anyExtendedKeyUsage"),
            (eku.server_auth, "serverAuth"),
            (eku.client_auth, "clientAuth"),
            (eku.email_protection, "emailProtection"),
            (eku.time_stamping, "timeStamping"),
        ];
        if let Some((_, purpose)) = forbidden.iter().find(|(set, _)| *set) {
            return Err(CertRule::LeafForbiddenExtendedKeyUsage { purpose });
        }
    }
    Ok(())
}

fn check_ca(x509: &X509Certificate<'_>, below: usize) -> Result<(), CertRule> {
    let bc = x509
        .basic_constraints()
        .map_err(malformed)?
        .ok_or(CertRule::CaBasicConstraintsMissing)?;
    if !bc.critical {
        return Err(CertRule::CaBasicConstraintsNotCritical);
    }
    if !bc.value.ca {
        return Err(CertRule::CaNotCa);
    }
    if let Some(path_len) = bc.value.path_len_constraint
        && usize::try_from(path_len).is_ok_and(|p| below > p)
    {
        return Err(CertRule::PathLenExceeded { path_len, below });
    }
    let ku = x509
        .key_usage()
        .map_err(malformed)?
        .ok_or(CertRule::CaKeyUsageMissing)?;
    if !ku.critical {
        return Err(CertRule::CaKeyUsageNotCritical);
    }
    if !ku.value.key_cert_sign() {
        return Err(CertRule::CaNoKeyCertSign);
    }
    Ok(())
}
