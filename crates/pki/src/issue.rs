//! Certificate and CSR issuance: self-signed roots, intermediate CAs, code-signing leaves (the
//! certificates cosign accepts with `--certificate`/`--certificate-chain`), CSRs for an
//! external CA, and leaves issued from a CSR.
//!
//! Pure: the clock reading comes in as `now`, signing keys as [`Signer`]s (a software
//! [`PrivateKey`] or a key in an HSM), subject keys as [`PublicKey`]s, and certificates as
//! DER/PEM bytes; only the serial numbers come from the system's crypto RNG. rcgen encodes, the
//! [`Signer`] signs (through a small adapter implementing rcgen's `SigningKey`), and every
//! signature made is verified with the signer's public key before the result is returned.
//!
//! Signers: the [`Signer::algorithm`] decides the certificate's signature algorithm. ECDSA
//! P-256/SHA-256, P-384/SHA-384, P-521/SHA-512, RSA PKCS#1 v1.5 SHA-256 and pure Ed25519 are
//! accepted; anything else (ECDSA over a hash that does not match the curve, RSA-PSS,
//! Ed25519ph) is refused with [`IssueError::UnsupportedSignerAlgorithm`]. A software Ed25519
//! [`PrivateKey`] signs Ed25519ph through its own [`Signer`] impl (what cosign uses for
//! blobs), which X.509 does not allow (RFC 8410): wrap software keys in [`X509Signer`], which
//! signs pure Ed25519 for Ed25519 keys and is the key itself otherwise.
//!
//! Profiles, as `openssl x509 -text` shows them:
//! * CA (root and intermediate): `basicConstraints` critical `CA:TRUE` (with `pathlen` when
//!   constrained), `keyUsage` critical `Certificate Sign, CRL Sign`, SKI and AKI.
//! * Leaf: `basicConstraints` critical `CA:FALSE`, `keyUsage` critical `Digital Signature`,
//!   `extendedKeyUsage` `Code Signing`, the SAN (`email:`/`URI:`), SKI, AKI, and the OIDC
//!   issuer in both Fulcio extensions (non-critical): 1.3.6.1.4.1.57264.1.1 holding the raw
//!   URL bytes (what cosign's legacy verification reads) and 1.3.6.1.4.1.57264.1.8 holding a
//!   DER UTF8String of the URL. The key usages and extended key usages can be chosen instead
//!   ([`LeafRequest::key_usages`], [`LeafRequest::extended_key_usages`], e.g. from a
//!   [`CertProfile`](crate::profile::CertProfile)): `keyCertSign` is never allowed, a
//!   code-signing leaf needs `digitalSignature`, and the identity (SAN) and OIDC issuer are
//!   required only when the leaf is for code signing (without an OIDC issuer the Fulcio
//!   extensions are left out).
//!
//! Decisions:
//! * Serial numbers: 16 random bytes, positive, always 16 bytes long when encoded.
//! * Validity: `notBefore` is `now` (whole seconds) **backdated** by [`NOT_BEFORE_BACKDATE`]
//!   (5 minutes), as public CAs do, so that a timestamp taken just after issuance (its range
//!   `genTime ± accuracy` must lie inside the validity for Notary Project verifiers) and
//!   verifiers whose clocks are slightly behind see a valid certificate; it is never before
//!   the issuer's `notBefore` (cosign checks the chain at the leaf's `notBefore`). Roots are
//!   backdated too. `notAfter` is `now` plus the validity days (not backdated). The issuer's
//!   validity bounds the child: a `notAfter` past the issuer's is **clamped** to the issuer's
//!   (with a warning in [`IssuedCert::warnings`] when the validity was asked for explicitly,
//!   silently for the defaults); an issuer that is expired or not yet valid at `now` (the real
//!   issuance time, not the backdated one) is refused.
//! * Path length: an intermediate gets `pathlen:0` unless asked otherwise; under an issuer
//!   with `pathlen:N` it may ask for at most `N-1`, and an issuer with `pathlen:0` cannot issue
//!   CAs at all (refused). Roots are unconstrained unless asked.
//! * The issuer must be a CA (`basicConstraints` `CA:TRUE`), allow `keyCertSign` if it has a
//!   `keyUsage`, and its private key must match its certificate.
//! * From a CSR ([`issue_leaf_from_csr`]): the CSR's self-signature is checked and its public
//!   key certified. Flags win, field by field: the subject, the SANs (any `--email`/`--uri`
//!   replaces all of the CSR's SANs) and the OIDC issuer come from the [`LeafRequest`] when
//!   given there, else from the CSR (its subject, its email and URI SANs, its 57264.1.1 or
//!   .1.8 extension). Everything else the CSR asks for (key usages, `CA:TRUE`, other
//!   extensions) is ignored: the leaf profile is always the CA's.
//! * Names: rcgen encodes one value per attribute type, so a DN repeating an attribute type
//!   (`/DC=org/DC=example`) or a multi-valued RDN is refused with a clear error; after signing
//!   the issuer name is checked to be byte-identical to the issuer certificate's subject.
//! * Profile [`Profile::Notation`] additionally enforces the Notary Project certificate rules:
//!   RSA ≥ 2048 or EC P-256/P-384/P-521 keys (no Ed25519) for the leaf and every CA, CA
//!   certificates with critical `basicConstraints` `CA:TRUE` and critical `keyUsage` with
//!   `keyCertSign`, no SHA-1 signatures (see [`check_notation_ca`]). The default leaf profile
//!   satisfies the leaf rules (critical KU digitalSignature only; EKU codeSigning only); chosen
//!   usages must keep `digitalSignature` and `codeSigning` and may not add `keyCertSign`,
//!   `cRLSign`, or the extended key usages serverAuth, emailProtection, timeStamping and
//!   ocspSigning.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::SystemTime;

use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber, SigningKey,
};
use signet_crypto::{
    CertSignatureAlgorithm, KeyType, PrivateKey, PublicKey, SignatureAlgorithm, Signer,
};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509CertificationRequest};
use x509_parser::x509::X509Name;

use crate::dn::{DistinguishedName, StringKind};
use crate::profile::{ExtendedKeyUsage, KeyUsage};

/// Fulcio's OIDC issuer extension, v1 (raw string bytes): 1.3.6.1.4.1.57264.1.1.
pub const OID_FULCIO_ISSUER_V1: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 1];
/// Fulcio's OIDC issuer extension, v2 (DER UTF8String): 1.3.6.1.4.1.57264.1.8.
pub const OID_FULCIO_ISSUER_V2: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 8];

/// Default validity of a root CA, in days.
pub const DEFAULT_ROOT_DAYS: u32 = 3650;
/// Default validity of an intermediate CA, in days.
pub const DEFAULT_INTERMEDIATE_DAYS: u32 = 1825;
/// Default validity of a leaf, in days.
pub const DEFAULT_LEAF_DAYS: u32 = 365;
/// The longest validity accepted, in days (100 years).
pub const MAX_VALIDITY_DAYS: u32 = 36_500;
/// How far before the issuance time every issued certificate's `notBefore` is set (5
/// minutes; never before the issuer's `notBefore`).
///
/// A Notary Project verifier (signet's and notation-go alike) requires the whole timestamp
/// range `genTime ± accuracy` to lie inside each signing certificate's validity, so a
/// certificate valid only from the second it was issued fails a timestamp taken within the
/// TSA's accuracy (typically ±1 s) of issuance; a verifier whose clock is slightly behind the
/// issuer's also sees it "not yet valid". Public CAs backdate for the same reasons (the CA/B
/// Forum allows up to 48 hours; Let's Encrypt uses one hour). Five minutes is the clock skew
/// commonly tolerated between machines (Kerberos' default) and far above TSA accuracies, while
/// keeping small the window in which a signature or timestamp predating the certificate is
/// accepted.
pub const NOT_BEFORE_BACKDATE: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Errors from issuing certificates and CSRs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A distinguished name could not be parsed.
    #[error("invalid distinguished name {input:?}: {reason}")]
    InvalidDn {
        /// The DN as given.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// A name cannot be encoded (repeated attribute type, multi-valued RDN, odd string type).
    #[error("unsupported distinguished name {name}: {reason}")]
    UnsupportedDn {
        /// The name, as far as it could be printed.
        name: String,
        /// What is not supported.
        reason: String,
    },
    /// A request field is missing or invalid (validity, SAN, OIDC issuer, …).
    #[error("{0}")]
    InvalidRequest(String),
    /// The issuer certificate could not be parsed.
    #[error("cannot parse the issuer certificate: {0}")]
    BadIssuerCertificate(String),
    /// The issuer certificate is not a CA.
    #[error("the issuer certificate ({subject}) is not a CA: {reason}")]
    NotACa {
        /// The issuer's subject.
        subject: String,
        /// Why (no basicConstraints, CA:FALSE, no keyCertSign).
        reason: String,
    },
    /// The issuer's private key does not belong to its certificate.
    #[error("the private key does not match the issuer certificate ({subject})")]
    KeyMismatch {
        /// The issuer's subject.
        subject: String,
    },
    /// The issuer's path length constraint does not allow the requested CA.
    #[error(
        "path length exhausted: the issuer ({subject}) has pathlen:{issuer_path_len}, {reason}"
    )]
    PathLenExhausted {
        /// The issuer's subject.
        subject: String,
        /// The issuer's pathLenConstraint.
        issuer_path_len: u32,
        /// What was refused.
        reason: String,
    },
    /// The issuer is expired or not yet valid at the issuing time.
    #[error("the issuer certificate ({subject}) is not valid now: {reason}")]
    IssuerNotValid {
        /// The issuer's subject.
        subject: String,
        /// Expired or not yet valid, with the dates.
        reason: String,
    },
    /// A certificate signing request is malformed.
    #[error("invalid certificate signing request: {0}")]
    InvalidCsr(String),
    /// The CSR's self-signature does not verify.
    #[error("the certificate signing request's signature does not verify: {0}")]
    CsrSignature(String),
    /// A key cannot be used (type unsupported by the encoder, or unreadable).
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// The signer's algorithm cannot sign certificates or CSRs.
    #[error("the signer's algorithm {algorithm} cannot sign certificates or CSRs: {reason}")]
    UnsupportedSignerAlgorithm {
        /// What [`Signer::algorithm`] said.
        algorithm: SignatureAlgorithm,
        /// Why, and what to use instead.
        reason: String,
    },
    /// The signer failed to sign.
    #[error("the signer failed: {0}")]
    Signing(#[source] signet_crypto::Error),
    /// The signer returned a signature that does not verify with its own public key.
    #[error(
        "the signer's {algorithm} signature over the {what} does not verify with its public key \
         ({key_type}): the signer signs with another key or algorithm than it reports"
    )]
    BadSignerSignature {
        /// What was signed ("certificate", "CSR").
        what: &'static str,
        /// What [`Signer::algorithm`] said.
        algorithm: SignatureAlgorithm,
        /// The type of [`Signer::public_key`].
        key_type: KeyType,
    },
    /// The Notary Project certificate rules are violated (`--profile notation`).
    #[error("the notation profile refuses this: {0}")]
    NotationProfile(String),
    /// rcgen failed to encode or sign.
    #[error("encoding the certificate failed: {0}")]
    Encoding(#[from] rcgen::Error),
}

/// Which rules a leaf must satisfy beyond cosign's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// What cosign needs (the leaf profile above).
    #[default]
    Cosign,
    /// Also the Notary Project certificate requirements.
    Notation,
}

/// A certificate made here.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// DER encoding.
    pub der: Vec<u8>,
    /// PEM encoding (`CERTIFICATE`, LF line endings).
    pub pem: String,
    /// Things the caller should print (e.g. a validity clamped to the issuer's).
    pub warnings: Vec<String>,
}

impl IssuedCert {
    /// The DER encoding (the same as [`IssuedCert::der`]).
    pub fn cert_der(&self) -> &[u8] {
        &self.der
    }
}

/// A self-signed root CA.
#[derive(Debug, Clone)]
pub struct RootRequest {
    /// Subject (and issuer) name.
    pub subject: DistinguishedName,
    /// Validity in days from `now`; `None` = [`DEFAULT_ROOT_DAYS`].
    pub validity_days: Option<u32>,
    /// pathLenConstraint; `None` = unconstrained.
    pub path_len: Option<u8>,
}

impl RootRequest {
    /// A root with the default validity and no path length constraint.
    pub fn new(subject: DistinguishedName) -> Self {
        RootRequest {
            subject,
            validity_days: None,
            path_len: None,
        }
    }
}

/// An intermediate CA.
#[derive(Debug, Clone)]
pub struct IntermediateRequest {
    /// Subject name.
    pub subject: DistinguishedName,
    /// Validity in days from `now`; `None` = [`DEFAULT_INTERMEDIATE_DAYS`]. Clamped to the
    /// issuer's validity (with a warning only when given explicitly).
    pub validity_days: Option<u32>,
    /// pathLenConstraint; `None` = 0 (issues leaves only).
    pub path_len: Option<u8>,
}

impl IntermediateRequest {
    /// An intermediate with the default validity and `pathlen:0`.
    pub fn new(subject: DistinguishedName) -> Self {
        IntermediateRequest {
            subject,
            validity_days: None,
            path_len: None,
        }
    }
}

/// A code-signing leaf. For [`issue_leaf`] `subject` is required, and for a code-signing leaf
/// (the default) `oidc_issuer` and at least one email or URI; for [`issue_leaf_from_csr`]
/// missing fields come from the CSR.
#[derive(Debug, Clone, Default)]
pub struct LeafRequest {
    /// Subject name.
    pub subject: Option<DistinguishedName>,
    /// Email SANs (`email:` in openssl's output).
    pub emails: Vec<String>,
    /// URI SANs.
    pub uris: Vec<String>,
    /// The OIDC issuer URL put in both Fulcio extensions.
    pub oidc_issuer: Option<String>,
    /// Validity in days from `now`; `None` = [`DEFAULT_LEAF_DAYS`]. Clamped to the issuer's
    /// validity (with a warning only when given explicitly).
    pub validity_days: Option<u32>,
    /// Extra rules to enforce.
    pub profile: Profile,
    /// The keyUsage bits (critical); `None` = `digitalSignature` only.
    pub key_usages: Option<Vec<KeyUsage>>,
    /// The extendedKeyUsage purposes; `None` = `codeSigning` only.
    pub extended_key_usages: Option<Vec<ExtendedKeyUsage>>,
}

impl LeafRequest {
    /// A leaf with the default validity and the cosign profile.
    pub fn new(
        subject: DistinguishedName,
        emails: Vec<String>,
        uris: Vec<String>,
        oidc_issuer: impl Into<String>,
    ) -> Self {
        LeafRequest {
            subject: Some(subject),
            emails,
            uris,
            oidc_issuer: Some(oidc_issuer.into()),
            validity_days: None,
            profile: Profile::Cosign,
            key_usages: None,
            extended_key_usages: None,
        }
    }
}

/// What goes into a CSR made by [`create_csr`].
#[derive(Debug, Clone, Default)]
pub struct CsrRequest {
    /// Subject name.
    pub subject: DistinguishedName,
    /// Email SANs.
    pub emails: Vec<String>,
    /// URI SANs.
    pub uris: Vec<String>,
    /// The OIDC issuer (both Fulcio extensions); required when the CSR asks for codeSigning.
    pub oidc_issuer: Option<String>,
    /// The keyUsage bits asked for; `None` = `digitalSignature` only.
    pub key_usages: Option<Vec<KeyUsage>>,
    /// The extendedKeyUsage purposes asked for; `None` = `codeSigning` only.
    pub extended_key_usages: Option<Vec<ExtendedKeyUsage>>,
}

/// A software [`PrivateKey`] as the [`Signer`] certificates need: it signs with the key type's
/// default algorithm, except that Ed25519 keys sign pure Ed25519 (RFC 8410) instead of the
/// Ed25519ph that [`PrivateKey`]'s own [`Signer`] impl uses.
#[derive(Debug, Clone, Copy)]
pub struct X509Signer<'a> {
    key: &'a PrivateKey,
}

impl<'a> X509Signer<'a> {
    /// Wraps `key`.
    pub fn new(key: &'a PrivateKey) -> Self {
        X509Signer { key }
    }
}

impl<'a> From<&'a PrivateKey> for X509Signer<'a> {
    fn from(key: &'a PrivateKey) -> Self {
        X509Signer::new(key)
    }
}

impl Signer for X509Signer<'_> {
    fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key.key_type() {
            KeyType::Ed25519 => SignatureAlgorithm::Ed25519,
            _ => self.key.algorithm(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_crypto::Error> {
        self.key.sign_with(Signer::algorithm(self), message)
    }
}

/// A leaf issued from a CSR, with the key it certifies.
#[derive(Debug, Clone)]
pub struct IssuedLeaf {
    /// The certificate.
    pub cert: IssuedCert,
    /// The CSR's public key (now certified).
    pub public_key: PublicKey,
}

/// A CA certificate and its signing key, checked to belong together and to be a CA.
pub struct CaIssuer<'a> {
    cert_der: Vec<u8>,
    key: &'a dyn Signer,
    subject: String,
    subject_raw: Vec<u8>,
    rcgen_subject: rcgen::DistinguishedName,
    ski: Option<Vec<u8>>,
    path_len: Option<u32>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    self_signed: bool,
}

impl std::fmt::Debug for CaIssuer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaIssuer")
            .field("subject", &self.subject)
            .field("path_len", &self.path_len)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl<'a> CaIssuer<'a> {
    /// Checks `cert_der` (a CA certificate) against `key` (the signer of its private key), and
    /// that the signer's algorithm can sign certificates.
    pub fn new(cert_der: &[u8], key: &'a dyn Signer) -> Result<Self, IssueError> {
        let cert = parse_cert(cert_der)?;
        let subject = cert.subject().to_string();
        let not_ca = |reason: &str| IssueError::NotACa {
            subject: subject.clone(),
            reason: reason.to_owned(),
        };
        let bc = cert
            .basic_constraints()
            .map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?
            .ok_or_else(|| not_ca("it has no basicConstraints extension"))?;
        if !bc.value.ca {
            return Err(not_ca("its basicConstraints say CA:FALSE"));
        }
        if let Some(ku) = cert
            .key_usage()
            .map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?
            && !ku.value.key_cert_sign()
        {
            return Err(not_ca("its keyUsage does not include keyCertSign"));
        }
        if cert.public_key().raw != key.public_key().to_spki_der() {
            return Err(IssueError::KeyMismatch { subject });
        }
        // Refuse a signer that cannot sign certificates now rather than at the first issuance.
        RcgenSigner::new(key)?;
        let ski = cert
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            });
        let rcgen_subject = rcgen_dn_from_x509(cert.subject())?;
        Ok(CaIssuer {
            cert_der: cert_der.to_vec(),
            key,
            subject_raw: cert.subject().as_raw().to_vec(),
            rcgen_subject,
            ski,
            path_len: bc.value.path_len_constraint,
            not_before: asn1_time(&cert.validity().not_before)?,
            not_after: asn1_time(&cert.validity().not_after)?,
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            subject,
        })
    }

    /// The CA certificate (DER).
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA's subject, printed as x509-parser does (`C=ES, O=IT, CN=Name`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The CA's pathLenConstraint, if constrained.
    pub fn path_len(&self) -> Option<u32> {
        self.path_len
    }

    /// Whether the certificate is self-signed (subject = issuer), i.e. a root.
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }

    /// The end of the CA's validity.
    pub fn not_after(&self) -> SystemTime {
        self.not_after.into()
    }

    fn rcgen_issuer(&self) -> Result<Issuer<'static, RcgenSigner<'a>>, IssueError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = self.rcgen_subject.clone();
        params.key_identifier_method = match &self.ski {
            Some(ski) => KeyIdMethod::PreSpecified(ski.clone()),
            None => KeyIdMethod::Sha256,
        };
        Ok(Issuer::new(params, RcgenSigner::new(self.key)?))
    }

    /// The validity window of a child asked to live `days` (else `default_days`) from `now`,
    /// backdated by [`NOT_BEFORE_BACKDATE`] and bounded by this CA (which must be valid at
    /// `now` itself); only an explicit `days` that gets clamped is warned about.
    fn child_validity(
        &self,
        now: SystemTime,
        days: Option<u32>,
        default_days: u32,
        warnings: &mut Vec<String>,
    ) -> Result<(OffsetDateTime, OffsetDateTime), IssueError> {
        let now = to_offset(now)?;
        if now < self.not_before {
            return Err(IssueError::IssuerNotValid {
                subject: self.subject.clone(),
                reason: format!("it is valid only from {}", day(self.not_before)),
            });
        }
        if now >= self.not_after {
            return Err(IssueError::IssuerNotValid {
                subject: self.subject.clone(),
                reason: format!("it expired on {}", day(self.not_after)),
            });
        }
        let explicit = days.is_some();
        let days = days.unwrap_or(default_days);
        let (not_before, mut not_after) = validity(now, days)?;
        if not_after > self.not_after {
            if explicit {
                warnings.push(format!(
                    "the requested validity ({days} days, until {}) ends after the issuer's; the \
                 certificate expires with its issuer on {}",
                    day(not_after),
                    day(self.not_after)
                ));
            }
            not_after = self.not_after;
        }
        Ok((not_before.max(self.not_before), not_after))
    }
}

/// Issues a self-signed root CA for the key of `key`, signed by it.
pub fn issue_root(
    req: &RootRequest,
    key: &dyn Signer,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    let days = req.validity_days.unwrap_or(DEFAULT_ROOT_DAYS);
    let (not_before, not_after) = validity(to_offset(now)?, days)?;
    let mut params = ca_params(&req.subject, req.path_len)?;
    params.not_before = not_before;
    params.not_after = not_after;
    let signer = RcgenSigner::new(key)?;
    let cert = params.self_signed(&signer).map_err(|e| signer.error(e))?;
    let der = cert.der().to_vec();
    let parsed = parse_cert(&der)?;
    check_signature(
        "certificate",
        &parsed.signature_algorithm,
        parsed.tbs_certificate.as_ref(),
        &parsed.signature_value.data,
        key,
    )?;
    Ok(issued(der, Vec::new()))
}

/// Issues an intermediate CA certificate for `subject_key`, signed by `ca`.
pub fn issue_intermediate(
    req: &IntermediateRequest,
    subject_key: &PublicKey,
    ca: &CaIssuer<'_>,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    let path_len = req.path_len.unwrap_or(0);
    if let Some(n) = ca.path_len {
        if n == 0 {
            return Err(IssueError::PathLenExhausted {
                subject: ca.subject.clone(),
                issuer_path_len: n,
                reason: "so it can issue only leaf certificates, not another CA".to_owned(),
            });
        }
        if u32::from(path_len) >= n {
            return Err(IssueError::PathLenExhausted {
                subject: ca.subject.clone(),
                issuer_path_len: n,
                reason: format!(
                    "so a CA under it can have at most pathlen:{} (asked for {path_len})",
                    n - 1
                ),
            });
        }
    }
    let mut warnings = Vec::new();
    let (not_before, not_after) = ca.child_validity(
        now,
        req.validity_days,
        DEFAULT_INTERMEDIATE_DAYS,
        &mut warnings,
    )?;
    let mut params = ca_params(&req.subject, Some(path_len))?;
    params.not_before = not_before;
    params.not_after = not_after;
    params.use_authority_key_identifier_extension = true;
    sign_child(&params, subject_key, ca, warnings)
}

/// Issues a code-signing leaf for `subject_key`, signed by `ca`.
pub fn issue_leaf(
    req: &LeafRequest,
    subject_key: &PublicKey,
    ca: &CaIssuer<'_>,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    let subject = req
        .subject
        .as_ref()
        .ok_or_else(|| IssueError::InvalidRequest("a leaf needs a subject".to_owned()))?;
    if code_signing(req.extended_key_usages.as_deref()) && req.oidc_issuer.is_none() {
        return Err(IssueError::InvalidRequest(
            "a leaf needs an OIDC issuer (--oidc-issuer)".to_owned(),
        ));
    }
    let subject = rcgen_dn(subject)?;
    leaf(
        subject,
        &req.emails,
        &req.uris,
        req.oidc_issuer.as_deref(),
        req,
        subject_key,
        ca,
        now,
    )
}

/// What a CSR carries, after its signature was checked.
#[derive(Debug, Clone)]
pub struct CsrInfo {
    /// The requester's public key.
    pub public_key: PublicKey,
    /// The subject, printed as x509-parser does.
    pub subject: String,
    /// Email SANs requested.
    pub emails: Vec<String>,
    /// URI SANs requested.
    pub uris: Vec<String>,
    /// The OIDC issuer from 57264.1.1 (preferred) or 57264.1.8.
    pub oidc_issuer: Option<String>,
    /// Requested SANs of other kinds, which are not copied (printed as openssl would).
    pub ignored_sans: Vec<String>,
    rcgen_subject: rcgen::DistinguishedName,
}

/// Parses a PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) CSR and checks its
/// self-signature.
pub fn parse_csr(csr_pem: &str) -> Result<CsrInfo, IssueError> {
    let block = pem::parse(csr_pem).map_err(|e| IssueError::InvalidCsr(e.to_string()))?;
    if !matches!(
        block.tag(),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"
    ) {
        return Err(IssueError::InvalidCsr(format!(
            "expected a PEM CERTIFICATE REQUEST, found {}",
            block.tag()
        )));
    }
    let (rest, csr) = X509CertificationRequest::from_der(block.contents())
        .map_err(|e| IssueError::InvalidCsr(e.to_string()))?;
    if !rest.is_empty() {
        return Err(IssueError::InvalidCsr(
            "trailing bytes after the CSR".to_owned(),
        ));
    }
    csr.verify_signature()
        .map_err(|e| IssueError::CsrSignature(e.to_string()))?;
    let info = &csr.certification_request_info;
    let public_key = PublicKey::from_spki_der(info.subject_pki.raw)
        .map_err(|e| IssueError::UnsupportedKey(format!("the CSR's public key: {e}")))?;
    let mut out = CsrInfo {
        public_key,
        subject: info.subject.to_string(),
        emails: Vec::new(),
        uris: Vec::new(),
        oidc_issuer: None,
        ignored_sans: Vec::new(),
        rcgen_subject: rcgen_dn_from_x509(&info.subject)?,
    };
    let mut v1 = None;
    let mut v2 = None;
    for attr in info.iter_attributes() {
        let x509_parser::cri_attributes::ParsedCriAttribute::ExtensionRequest(req) =
            attr.parsed_attribute()
        else {
            continue;
        };
        for ext in &req.extensions {
            let arcs: Option<Vec<u64>> = ext.oid.iter().map(Iterator::collect);
            match arcs.as_deref() {
                Some(OID_FULCIO_ISSUER_V1) => {
                    v1 = Some(String::from_utf8(ext.value.to_vec()).map_err(|_| {
                        IssueError::InvalidCsr(
                            "the 1.3.6.1.4.1.57264.1.1 extension is not UTF-8".to_owned(),
                        )
                    })?);
                }
                Some(OID_FULCIO_ISSUER_V2) => {
                    v2 = Some(utf8_from_der(ext.value)?);
                }
                _ => {}
            }
            if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                for name in &san.general_names {
                    match name {
                        GeneralName::RFC822Name(e) => out.emails.push((*e).to_owned()),
                        GeneralName::URI(u) => out.uris.push((*u).to_owned()),
                        other => out.ignored_sans.push(other.to_string()),
                    }
                }
            }
        }
    }
    if let (Some(a), Some(b)) = (&v1, &v2)
        && a != b
    {
        return Err(IssueError::InvalidCsr(format!(
            "its OIDC issuer extensions disagree (57264.1.1 {a:?}, 57264.1.8 {b:?})"
        )));
    }
    out.oidc_issuer = v1.or(v2);
    Ok(out)
}

/// Reads the DER UTF8String of the .1.8 extension.
fn utf8_from_der(bytes: &[u8]) -> Result<String, IssueError> {
    der::asn1::Utf8StringRef::from_der(bytes)
        .map(|s| s.as_str().to_owned())
        .map_err(|e| {
            IssueError::InvalidCsr(format!(
                "the 1.3.6.1.4.1.57264.1.8 extension is not a DER UTF8String: {e}"
            ))
        })
}

/// Issues a leaf for the key of a CSR (parsed with [`parse_csr`]); fields given in `req`
/// replace the CSR's (see the module documentation).
pub fn issue_leaf_from_csr(
    csr: &CsrInfo,
    req: &LeafRequest,
    ca: &CaIssuer<'_>,
    now: SystemTime,
) -> Result<IssuedLeaf, IssueError> {
    let subject = match &req.subject {
        Some(dn) => rcgen_dn(dn)?,
        None => csr.rcgen_subject.clone(),
    };
    let (emails, uris) = if req.emails.is_empty() && req.uris.is_empty() {
        (csr.emails.clone(), csr.uris.clone())
    } else {
        (req.emails.clone(), req.uris.clone())
    };
    let oidc_issuer = req.oidc_issuer.as_deref().or(csr.oidc_issuer.as_deref());
    if code_signing(req.extended_key_usages.as_deref()) && oidc_issuer.is_none() {
        return Err(IssueError::InvalidRequest(
            "no OIDC issuer: the CSR has no 1.3.6.1.4.1.57264.1.1/.1.8 extension and none was \
             given (--oidc-issuer)"
                .to_owned(),
        ));
    }
    let mut cert = leaf(
        subject,
        &emails,
        &uris,
        oidc_issuer,
        req,
        &csr.public_key,
        ca,
        now,
    )?;
    if !csr.ignored_sans.is_empty() && req.emails.is_empty() && req.uris.is_empty() {
        cert.warnings.push(format!(
            "the CSR's other subject alternative names were not copied: {}",
            csr.ignored_sans.join(", ")
        ));
    }
    Ok(IssuedLeaf {
        cert,
        public_key: csr.public_key.clone(),
    })
}

/// Makes a PEM CSR for the key of `key`, signed by it, asking for the leaf profile: the
/// subject, the SANs, both Fulcio issuer extensions, keyUsage digitalSignature (or
/// [`CsrRequest::key_usages`]), EKU codeSigning (or [`CsrRequest::extended_key_usages`]) and
/// `CA:FALSE` (so an openssl CA with `-copy_extensions copy` produces the seed's certificate).
pub fn create_csr(key: &dyn Signer, req: &CsrRequest) -> Result<String, IssueError> {
    let (key_usages, extended_key_usages) = leaf_usages(
        req.key_usages.as_deref(),
        req.extended_key_usages.as_deref(),
        Profile::Cosign,
    )?;
    let code_signing = extended_key_usages.contains(&ExtendedKeyUsage::CodeSigning);
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen_dn(&req.subject)?;
    params.subject_alt_names = sans(&req.emails, &req.uris)?;
    params.custom_extensions = match (&req.oidc_issuer, code_signing) {
        (Some(issuer), _) => fulcio_extensions(issuer)?,
        (None, false) => Vec::new(),
        (None, true) => {
            return Err(IssueError::InvalidRequest(
                "a code-signing CSR needs an OIDC issuer (--oidc-issuer)".to_owned(),
            ));
        }
    };
    params.key_usages = key_usages.iter().map(|u| rcgen_key_usage(*u)).collect();
    params.extended_key_usages = extended_key_usages
        .iter()
        .map(|u| rcgen_extended_key_usage(*u))
        .collect();
    params.is_ca = IsCa::ExplicitNoCa;
    let signer = RcgenSigner::new(key)?;
    let csr = params
        .serialize_request(&signer)
        .map_err(|e| signer.error(e))?;
    let (_, parsed) = X509CertificationRequest::from_der(csr.der())
        .map_err(|e| IssueError::InvalidCsr(e.to_string()))?;
    check_signature(
        "CSR",
        &parsed.signature_algorithm,
        parsed.certification_request_info.raw,
        &parsed.signature_value.data,
        key,
    )?;
    Ok(csr.pem()?)
}

/// Checks a CA certificate against the Notary Project rules: critical `basicConstraints`
/// with `CA:TRUE`, critical `keyUsage` with `keyCertSign`, an RSA ≥ 2048 or EC
/// P-256/P-384/P-521 key, and no SHA-1 signature.
pub fn check_notation_ca(cert_der: &[u8]) -> Result<(), IssueError> {
    let cert = parse_cert(cert_der)?;
    let subject = cert.subject().to_string();
    let refuse = |what: String| IssueError::NotationProfile(format!("CA {subject}: {what}"));
    match cert
        .basic_constraints()
        .map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?
    {
        Some(bc) if bc.critical && bc.value.ca => {}
        Some(bc) if !bc.value.ca => return Err(refuse("basicConstraints say CA:FALSE".into())),
        Some(_) => return Err(refuse("basicConstraints must be critical".into())),
        None => return Err(refuse("basicConstraints are missing".into())),
    }
    match cert
        .key_usage()
        .map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?
    {
        Some(ku) if ku.critical && ku.value.key_cert_sign() => {}
        Some(ku) if !ku.critical => return Err(refuse("keyUsage must be critical".into())),
        Some(_) => return Err(refuse("keyUsage lacks keyCertSign".into())),
        None => return Err(refuse("keyUsage is missing".into())),
    }
    let key = PublicKey::from_spki_der(cert.public_key().raw)
        .map_err(|e| refuse(format!("unsupported key: {e}")))?;
    check_notation_key(key.key_type()).map_err(refuse)?;
    let sig_alg: Option<Vec<u64>> = cert
        .signature_algorithm
        .algorithm
        .iter()
        .map(Iterator::collect);
    if matches!(
        sig_alg.as_deref(),
        Some([1, 2, 840, 113549, 1, 1, 5] | [1, 3, 14, 3, 2, 29] | [1, 2, 840, 10045, 4, 1])
    ) {
        return Err(refuse("it is signed with SHA-1".into()));
    }
    Ok(())
}

fn check_notation_key(key_type: KeyType) -> Result<(), String> {
    match key_type {
        KeyType::P256
        | KeyType::P384
        | KeyType::P521
        | KeyType::Rsa2048
        | KeyType::Rsa3072
        | KeyType::Rsa4096 => Ok(()),
        other => Err(format!(
            "{other} keys are not allowed (RSA 2048/3072/4096 or EC P-256/P-384/P-521 only)"
        )),
    }
}

/// The DER of every `CERTIFICATE` block in a PEM text, in order (other blocks are skipped).
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, IssueError> {
    let blocks =
        pem::parse_many(text).map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

/// PEM of a DER certificate (LF line endings, 64 columns).
pub fn certificate_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

// ---------------------------------------------------------------------------------------

/// Whether a leaf with these extended key usages (`None` = the default) is for code signing.
fn code_signing(extended_key_usages: Option<&[ExtendedKeyUsage]>) -> bool {
    extended_key_usages.is_none_or(|ekus| ekus.contains(&ExtendedKeyUsage::CodeSigning))
}

/// The leaf's usages (defaults filled in), checked against the leaf rules.
fn leaf_usages<'r>(
    key_usages: Option<&'r [KeyUsage]>,
    extended_key_usages: Option<&'r [ExtendedKeyUsage]>,
    profile: Profile,
) -> Result<(&'r [KeyUsage], &'r [ExtendedKeyUsage]), IssueError> {
    let key_usages = key_usages.unwrap_or(&[KeyUsage::DigitalSignature]);
    let extended_key_usages = extended_key_usages.unwrap_or(&[ExtendedKeyUsage::CodeSigning]);
    crate::profile::check_leaf_usages(
        key_usages,
        extended_key_usages,
        profile == Profile::Notation,
    )
    .map_err(|problem| {
        let text = format!("{}: {}", problem.field, problem.reason);
        if problem.notation {
            IssueError::NotationProfile(text)
        } else {
            IssueError::InvalidRequest(text)
        }
    })?;
    Ok((key_usages, extended_key_usages))
}

fn rcgen_key_usage(usage: KeyUsage) -> KeyUsagePurpose {
    match usage {
        KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
        KeyUsage::ContentCommitment => KeyUsagePurpose::ContentCommitment,
        KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
        KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
        KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
        KeyUsage::KeyCertSign => KeyUsagePurpose::KeyCertSign,
        KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
    }
}

fn rcgen_extended_key_usage(usage: ExtendedKeyUsage) -> ExtendedKeyUsagePurpose {
    match usage {
        ExtendedKeyUsage::CodeSigning => ExtendedKeyUsagePurpose::CodeSigning,
        ExtendedKeyUsage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsage::EmailProtection => ExtendedKeyUsagePurpose::EmailProtection,
        ExtendedKeyUsage::TimeStamping => ExtendedKeyUsagePurpose::TimeStamping,
        ExtendedKeyUsage::OcspSigning => ExtendedKeyUsagePurpose::OcspSigning,
    }
}

#[allow(clippy::too_many_arguments)]
fn leaf(
    subject: rcgen::DistinguishedName,
    emails: &[String],
    uris: &[String],
    oidc_issuer: Option<&str>,
    req: &LeafRequest,
    subject_key: &PublicKey,
    ca: &CaIssuer<'_>,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    let profile = req.profile;
    let (key_usages, extended_key_usages) = leaf_usages(
        req.key_usages.as_deref(),
        req.extended_key_usages.as_deref(),
        profile,
    )?;
    let code_signing = extended_key_usages.contains(&ExtendedKeyUsage::CodeSigning);
    if code_signing && emails.is_empty() && uris.is_empty() {
        return Err(IssueError::InvalidRequest(
            "a leaf needs at least one identity: an email (--email) or a URI (--uri)".to_owned(),
        ));
    }
    if profile == Profile::Notation {
        check_notation_key(subject_key.key_type())
            .map_err(|e| IssueError::NotationProfile(format!("leaf key: {e}")))?;
        check_notation_ca(&ca.cert_der)?;
    }
    let mut warnings = Vec::new();
    let (not_before, not_after) =
        ca.child_validity(now, req.validity_days, DEFAULT_LEAF_DAYS, &mut warnings)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.subject_alt_names = sans(emails, uris)?;
    params.custom_extensions = match oidc_issuer {
        Some(issuer) => fulcio_extensions(issuer)?,
        None => Vec::new(),
    };
    params.key_usages = key_usages.iter().map(|u| rcgen_key_usage(*u)).collect();
    params.extended_key_usages = extended_key_usages
        .iter()
        .map(|u| rcgen_extended_key_usage(*u))
        .collect();
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    params.not_before = not_before;
    params.not_after = not_after;
    sign_child(&params, subject_key, ca, warnings)
}

fn sign_child(
    params: &CertificateParams,
    subject_key: &PublicKey,
    ca: &CaIssuer<'_>,
    warnings: Vec<String>,
) -> Result<IssuedCert, IssueError> {
    let public = rcgen::SubjectPublicKeyInfo::from_der(subject_key.to_spki_der())?;
    let issuer = ca.rcgen_issuer()?;
    let cert = params
        .signed_by(&public, &issuer)
        .map_err(|e| issuer.key().error(e))?;
    let der = cert.der().to_vec();
    let parsed = parse_cert(&der)?;
    check_signature(
        "certificate",
        &parsed.signature_algorithm,
        parsed.tbs_certificate.as_ref(),
        &parsed.signature_value.data,
        ca.key,
    )?;
    // The issuer name must be the issuer's subject byte for byte, or chains break.
    if parsed.issuer().as_raw() != ca.subject_raw.as_slice() {
        return Err(IssueError::UnsupportedDn {
            name: ca.subject.clone(),
            reason: "it cannot be re-encoded byte for byte as the issuer name".to_owned(),
        });
    }
    Ok(issued(der, warnings))
}

fn ca_params(
    subject: &DistinguishedName,
    path_len: Option<u8>,
) -> Result<CertificateParams, IssueError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen_dn(subject)?;
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

fn issued(der: Vec<u8>, warnings: Vec<String>) -> IssuedCert {
    IssuedCert {
        pem: certificate_pem(&der),
        der,
        warnings,
    }
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, IssueError> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| IssueError::BadIssuerCertificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(IssueError::BadIssuerCertificate(
            "trailing bytes after the certificate".to_owned(),
        ));
    }
    Ok(cert)
}

fn sans(emails: &[String], uris: &[String]) -> Result<Vec<SanType>, IssueError> {
    let mut out = Vec::new();
    for e in emails {
        check_email(e).map_err(IssueError::InvalidRequest)?;
        out.push(SanType::Rfc822Name(e.as_str().try_into()?));
    }
    for u in uris {
        check_uri(u).map_err(IssueError::InvalidRequest)?;
        out.push(SanType::URI(u.as_str().try_into()?));
    }
    Ok(out)
}

/// Checks an email SAN: `local@domain`, ASCII, no spaces or control characters.
pub(crate) fn check_email(e: &str) -> Result<(), String> {
    let valid = e.is_ascii()
        && !e.chars().any(|c| c.is_control() || c.is_whitespace())
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid email address {e:?} (expected local@domain, ASCII)"
        ))
    }
}

/// Checks a URI SAN: `scheme:rest`, ASCII, no spaces or control characters.
pub(crate) fn check_uri(u: &str) -> Result<(), String> {
    let valid = u.is_ascii()
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
        && u.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid URI {u:?} (expected scheme:rest, ASCII, no spaces)"
        ))
    }
}

/// Checks an OIDC issuer: non-empty, no control characters.
pub(crate) fn check_oidc_issuer(oidc_issuer: &str) -> Result<(), String> {
    if oidc_issuer.is_empty() || oidc_issuer.chars().any(char::is_control) {
        Err(format!("invalid OIDC issuer {oidc_issuer:?}"))
    } else {
        Ok(())
    }
}

fn fulcio_extensions(oidc_issuer: &str) -> Result<Vec<CustomExtension>, IssueError> {
    check_oidc_issuer(oidc_issuer).map_err(IssueError::InvalidRequest)?;
    let utf8 = der::asn1::Utf8StringRef::new(oidc_issuer)
        .and_then(|s| s.to_der())
        .map_err(|e| IssueError::InvalidRequest(format!("invalid OIDC issuer: {e}")))?;
    Ok(vec![
        CustomExtension::from_oid_content(OID_FULCIO_ISSUER_V1, oidc_issuer.as_bytes().to_vec()),
        CustomExtension::from_oid_content(OID_FULCIO_ISSUER_V2, utf8),
    ])
}

/// A [`Signer`] as rcgen's signing key. rcgen's errors carry no cause, so the signer's own
/// error is kept aside and reported by [`RcgenSigner::error`].
struct RcgenSigner<'a> {
    signer: &'a dyn Signer,
    algorithm: &'static rcgen::SignatureAlgorithm,
    /// The subjectPublicKey BIT STRING contents.
    public_key: Vec<u8>,
    failure: RefCell<Option<signet_crypto::Error>>,
}

impl<'a> RcgenSigner<'a> {
    fn new(signer: &'a dyn Signer) -> Result<Self, IssueError> {
        let algorithm = signer.algorithm();
        let public = signer.public_key();
        let unsupported =
            |reason: String| IssueError::UnsupportedSignerAlgorithm { algorithm, reason };
        let rcgen_algorithm: &'static rcgen::SignatureAlgorithm = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::EcdsaP384Sha384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            SignatureAlgorithm::EcdsaP521Sha512 => &rcgen::PKCS_ECDSA_P521_SHA512,
            SignatureAlgorithm::RsaPkcs1Sha256 => &rcgen::PKCS_RSA_SHA256,
            SignatureAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            SignatureAlgorithm::Ed25519ph => {
                return Err(unsupported(
                    "X.509 allows pure Ed25519 only (RFC 8410); for a software key use \
                     issue::X509Signer"
                        .to_owned(),
                ));
            }
            SignatureAlgorithm::EcdsaP384Sha256
            | SignatureAlgorithm::EcdsaP521Sha256
            | SignatureAlgorithm::RsaPssSha256 => {
                return Err(unsupported(
                    "signet signs certificates with ECDSA P-256/SHA-256, P-384/SHA-384, \
                     P-521/SHA-512, RSA PKCS#1 v1.5 SHA-256 or Ed25519"
                        .to_owned(),
                ));
            }
        };
        if !algorithm.is_compatible_with(public.key_type()) {
            return Err(unsupported(format!(
                "it does not suit the signer's {} key",
                public.key_type()
            )));
        }
        let spki = spki::SubjectPublicKeyInfoRef::from_der(public.to_spki_der())
            .map_err(|e| IssueError::UnsupportedKey(format!("the signer's public key: {e}")))?;
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| {
                IssueError::UnsupportedKey(
                    "the signer's public key is not a whole number of bytes".to_owned(),
                )
            })?
            .to_vec();
        let key = RcgenSigner {
            signer,
            algorithm: rcgen_algorithm,
            public_key,
            failure: RefCell::new(None),
        };
        // rcgen writes the SubjectPublicKeyInfo from the algorithm and the key bits: it must
        // come out as the signer's own.
        if key.subject_public_key_info() != public.to_spki_der() {
            return Err(unsupported(format!(
                "the certificate's key would not encode as the signer's {} key",
                public.key_type()
            )));
        }
        Ok(key)
    }

    /// The error to report for an rcgen failure: the signer's own when signing failed.
    fn error(&self, e: rcgen::Error) -> IssueError {
        match self.failure.borrow_mut().take() {
            Some(cause) => IssueError::Signing(cause),
            None => IssueError::Encoding(e),
        }
    }
}

impl PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public_key
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

impl SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer.sign(msg).map_err(|e| {
            *self.failure.borrow_mut() = Some(e);
            rcgen::Error::RemoteKeyError
        })
    }
}

/// Verifies a signature just made by `signer` (so a signer that signs with another key or
/// hash than it reports is caught here, not by a verifier later).
fn check_signature(
    what: &'static str,
    signature_algorithm: &x509_parser::x509::AlgorithmIdentifier<'_>,
    tbs: &[u8],
    signature: &[u8],
    signer: &dyn Signer,
) -> Result<(), IssueError> {
    let public = signer.public_key();
    let bad = || IssueError::BadSignerSignature {
        what,
        algorithm: signer.algorithm(),
        key_type: public.key_type(),
    };
    let algorithm = CertSignatureAlgorithm::from_oid(&signature_algorithm.algorithm.to_id_string())
        .map_err(|_| bad())?;
    public
        .verify_certificate_signature(algorithm, tbs, signature)
        .map_err(|_| bad())
}

fn rcgen_dn(dn: &DistinguishedName) -> Result<rcgen::DistinguishedName, IssueError> {
    let mut out = rcgen::DistinguishedName::new();
    let mut seen = HashSet::new();
    for (ty, value) in dn.entries() {
        if !seen.insert(*ty) {
            return Err(IssueError::UnsupportedDn {
                name: dn.to_subj(),
                reason: format!("the attribute {ty} appears more than once"),
            });
        }
        let value = match ty.string_kind() {
            StringKind::Printable => DnValue::PrintableString(value.as_str().try_into()?),
            StringKind::Ia5 => DnValue::Ia5String(value.as_str().try_into()?),
            StringKind::Utf8 => DnValue::Utf8String(value.clone()),
        };
        out.push(DnType::from_oid(ty.oid()), value);
    }
    Ok(out)
}

/// Re-encodes an existing name (an issuer's subject or a CSR's) keeping each value's string
/// type, refusing what rcgen cannot represent.
fn rcgen_dn_from_x509(name: &X509Name<'_>) -> Result<rcgen::DistinguishedName, IssueError> {
    let unsupported = |reason: String| IssueError::UnsupportedDn {
        name: name.to_string(),
        reason,
    };
    let mut out = rcgen::DistinguishedName::new();
    let mut seen = HashSet::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(unsupported(
                "multi-valued RDNs are not supported".to_owned(),
            ));
        };
        let arcs: Vec<u64> = attr
            .attr_type()
            .iter()
            .ok_or_else(|| unsupported("an attribute OID is too large".to_owned()))?
            .collect();
        if !seen.insert(arcs.clone()) {
            return Err(unsupported(format!(
                "the attribute {} appears more than once",
                attr.attr_type()
            )));
        }
        let value = attr.attr_value();
        let text = || {
            std::str::from_utf8(value.data)
                .map(str::to_owned)
                .map_err(|_| unsupported("a value is not valid text".to_owned()))
        };
        let value = match value.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?),
            Tag::PrintableString => DnValue::PrintableString(text()?.try_into()?),
            Tag::Ia5String => DnValue::Ia5String(text()?.try_into()?),
            Tag::T61String => DnValue::TeletexString(text()?.try_into()?),
            Tag::BmpString => {
                DnValue::BmpString(rcgen::string::BmpString::from_utf16be(value.data.to_vec())?)
            }
            Tag::UniversalString => DnValue::UniversalString(
                rcgen::string::UniversalString::from_utf32be(value.data.to_vec())?,
            ),
            other => {
                return Err(unsupported(format!(
                    "attribute values of type {other} are not supported"
                )));
            }
        };
        out.push(DnType::from_oid(&arcs), value);
    }
    Ok(out)
}

fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| IssueError::InvalidRequest("the system RNG failed".to_owned()))?;
    // Positive, and exactly 16 bytes when DER-encoded.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn to_offset(now: SystemTime) -> Result<OffsetDateTime, IssueError> {
    let t = OffsetDateTime::from(now);
    t.replace_nanosecond(0)
        .map_err(|e| IssueError::InvalidRequest(format!("invalid time: {e}")))
}

fn asn1_time(t: &x509_parser::time::ASN1Time) -> Result<OffsetDateTime, IssueError> {
    OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| IssueError::BadIssuerCertificate(format!("validity out of range: {e}")))
}

/// The validity window of a certificate issued at `now` for `days`: from `now` backdated by
/// [`NOT_BEFORE_BACKDATE`] to `now + days` (the caller bounds it by the issuer's).
fn validity(
    now: OffsetDateTime,
    days: u32,
) -> Result<(OffsetDateTime, OffsetDateTime), IssueError> {
    if days == 0 || days > MAX_VALIDITY_DAYS {
        return Err(IssueError::InvalidRequest(format!(
            "the validity must be between 1 and {MAX_VALIDITY_DAYS} days, not {days}"
        )));
    }
    let out_of_range = || IssueError::InvalidRequest("the validity is out of range".to_owned());
    let not_after = now
        .checked_add(time::Duration::days(i64::from(days)))
        .ok_or_else(out_of_range)?;
    let backdate = time::Duration::try_from(NOT_BEFORE_BACKDATE).map_err(|_| out_of_range())?;
    let not_before = now.checked_sub(backdate).ok_or_else(out_of_range)?;
    Ok((not_before, not_after))
}

fn day(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use rstest::rstest;
    use x509_parser::prelude::X509Certificate;

    use super::*;

    const ISSUER: &str = "https://linuxera.org";

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse(s).unwrap()
    }

    fn cert(der: &[u8]) -> X509Certificate<'_> {
        X509Certificate::from_der(der).unwrap().1
    }

    fn ext<'a>(c: &'a X509Certificate<'_>, arcs: &[u64]) -> &'a [u8] {
        c.iter_extensions()
            .find(|e| e.oid.iter().map(Iterator::collect::<Vec<u64>>).as_deref() == Some(arcs))
            .map(|e| e.value)
            .expect("extension present")
    }

    struct Pki {
        root_key: PrivateKey,
        root: IssuedCert,
        inter_key: PrivateKey,
        inter: IssuedCert,
    }

    fn pki(kt: KeyType) -> Pki {
        let root_key = PrivateKey::generate(kt).unwrap();
        let root = issue_root(
            &RootRequest::new(dn("/C=ES/O=IT/CN=Root")),
            &X509Signer::new(&root_key),
            now(),
        )
        .unwrap();
        let inter_key = PrivateKey::generate(kt).unwrap();
        let mut req = IntermediateRequest::new(dn("/C=ES/O=IT/CN=Intermediate"));
        req.path_len = None;
        let signer = X509Signer::new(&root_key);
        let ca = CaIssuer::new(&root.der, &signer).unwrap();
        let inter = issue_intermediate(&req, &inter_key.public_key(), &ca, now()).unwrap();
        Pki {
            root_key,
            root,
            inter_key,
            inter,
        }
    }

    fn leaf_req() -> LeafRequest {
        LeafRequest::new(
            dn("/C=ES/O=IT/CN=Team A"),
            vec!["team-a@linuxera.org".into()],
            vec!["https://example.com/team-a".into()],
            ISSUER,
        )
    }

    #[rstest]
    #[case(KeyType::P256)]
    #[case(KeyType::P384)]
    #[case(KeyType::P521)]
    #[case(KeyType::Rsa2048)]
    #[case(KeyType::Ed25519)]
    fn root_intermediate_leaf(#[case] kt: KeyType) {
        let p = pki(kt);
        let root = cert(&p.root.der);
        assert_eq!(root.subject().as_raw(), root.issuer().as_raw());
        let bc = root.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
        let ku = root.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
        assert!(!ku.value.digital_signature());
        // 16-byte positive serial.
        assert_eq!(root.raw_serial().len(), 16);
        assert!(root.raw_serial()[0] < 0x80);
        // From 5 minutes before now (backdated) to 3650 days from now.
        let nb = root.validity().not_before.timestamp();
        let na = root.validity().not_after.timestamp();
        assert_eq!(nb, 1_700_000_000 - 300);
        assert_eq!(na, 1_700_000_000 + 3650 * 86400);

        let inter = cert(&p.inter.der);
        let bc = inter.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        assert_eq!(inter.issuer().as_raw(), root.subject().as_raw());
        // Issued at the root's issuance time: its backdated notBefore is the root's.
        assert_eq!(inter.validity().not_before.timestamp(), nb);
        assert_eq!(
            inter.validity().not_after.timestamp(),
            1_700_000_000 + 1825 * 86400
        );
        // x509-parser cannot verify ECDSA with SHA-512 (P-521); openssl does in the CLI tests.
        if kt != KeyType::P521 {
            inter.verify_signature(Some(root.public_key())).unwrap();
            root.verify_signature(None).unwrap();
        }

        let leaf_key = PrivateKey::generate(kt).unwrap();
        let signer = X509Signer::new(&p.inter_key);
        let ca = CaIssuer::new(&p.inter.der, &signer).unwrap();
        let issued = issue_leaf(&leaf_req(), &leaf_key.public_key(), &ca, now()).unwrap();
        assert!(issued.warnings.is_empty(), "{:?}", issued.warnings);
        let leaf = cert(&issued.der);
        assert_eq!(leaf.public_key().raw, leaf_key.public_key().to_spki_der());
        assert_eq!(leaf.issuer().as_raw(), inter.subject().as_raw());
        let bc = leaf.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && !bc.value.ca);
        let ku = leaf.key_usage().unwrap().unwrap();
        assert!(ku.critical);
        assert_eq!(ku.value.flags, 1, "digitalSignature only");
        let eku = leaf.extended_key_usage().unwrap().unwrap();
        assert!(!eku.critical && eku.value.code_signing);
        assert!(!eku.value.server_auth && !eku.value.client_auth && !eku.value.any);
        assert!(eku.value.other.is_empty());
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            san.value.general_names,
            vec![
                GeneralName::RFC822Name("team-a@linuxera.org"),
                GeneralName::URI("https://example.com/team-a")
            ]
        );
        // Fulcio issuer: .1.1 raw, .1.8 DER UTF8String.
        assert_eq!(ext(&leaf, OID_FULCIO_ISSUER_V1), ISSUER.as_bytes());
        let mut utf8 = vec![0x0c, ISSUER.len() as u8];
        utf8.extend_from_slice(ISSUER.as_bytes());
        assert_eq!(ext(&leaf, OID_FULCIO_ISSUER_V2), utf8.as_slice());
        // AKI = issuer's SKI.
        let ski = |c: &X509Certificate<'_>| {
            c.iter_extensions()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
                    _ => None,
                })
                .unwrap()
        };
        let aki = |c: &X509Certificate<'_>| {
            c.iter_extensions()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::AuthorityKeyIdentifier(k) => {
                        k.key_identifier.as_ref().map(|k| k.0.to_vec())
                    }
                    _ => None,
                })
                .unwrap()
        };
        assert_eq!(aki(&leaf), ski(&inter));
        assert_eq!(aki(&inter), ski(&root));
        assert_eq!(aki(&root), ski(&root));
        assert_ne!(ski(&leaf), ski(&inter));
        // A leaf is not a CA.
        let err = CaIssuer::new(&issued.der, &leaf_key).unwrap_err();
        assert!(matches!(err, IssueError::NotACa { .. }), "{err}");
    }

    #[test]
    fn path_length() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let req = IntermediateRequest::new(dn("/CN=Sub"));
        let err = issue_intermediate(&req, &key.public_key(), &ca, now()).unwrap_err();
        assert!(matches!(err, IssueError::PathLenExhausted { .. }), "{err}");
        assert!(err.to_string().contains("pathlen:0"), "{err}");

        // Under a root with pathlen:1: pathlen 0 is fine, 1 is refused.
        let mut root_req = RootRequest::new(dn("/CN=Root1"));
        root_req.path_len = Some(1);
        let root = issue_root(&root_req, &p.root_key, now()).unwrap();
        let ca = CaIssuer::new(&root.der, &p.root_key).unwrap();
        assert_eq!(ca.path_len(), Some(1));
        let mut req = IntermediateRequest::new(dn("/CN=Sub"));
        req.path_len = Some(1);
        let err = issue_intermediate(&req, &key.public_key(), &ca, now()).unwrap_err();
        assert!(err.to_string().contains("at most pathlen:0"), "{err}");
        req.path_len = Some(0);
        issue_intermediate(&req, &key.public_key(), &ca, now()).unwrap();
    }

    #[test]
    fn key_must_match_the_ca() {
        let p = pki(KeyType::P256);
        let err = CaIssuer::new(&p.inter.der, &p.root_key).unwrap_err();
        assert!(matches!(err, IssueError::KeyMismatch { .. }), "{err}");
    }

    #[test]
    fn validity_is_bounded_by_the_issuer() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let mut req = leaf_req();
        req.validity_days = Some(4000);
        let issued = issue_leaf(&req, &key.public_key(), &ca, now()).unwrap();
        assert_eq!(issued.warnings.len(), 1, "{:?}", issued.warnings);
        assert!(issued.warnings[0].contains("expires with its issuer"));
        let leaf = cert(&issued.der);
        let inter = cert(&p.inter.der);
        assert_eq!(
            leaf.validity().not_after.timestamp(),
            inter.validity().not_after.timestamp()
        );
        // An expired issuer is refused; so is an issuer not yet valid.
        let later = now() + Duration::from_secs(1826 * 86400);
        let err = issue_leaf(&leaf_req(), &key.public_key(), &ca, later).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        let earlier = now() - NOT_BEFORE_BACKDATE - Duration::from_secs(1);
        let err = issue_leaf(&leaf_req(), &key.public_key(), &ca, earlier).unwrap_err();
        assert!(
            err.to_string()
                .contains("valid only from 2023-11-14 22:08:20 UTC"),
            "{err}"
        );
        // Zero days is refused.
        req.validity_days = Some(0);
        assert!(issue_leaf(&req, &key.public_key(), &ca, now()).is_err());
    }

    #[test]
    fn not_before_is_backdated_and_clamped_to_the_issuer() {
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let validity = |der: &[u8]| {
            let c = cert(der);
            (
                c.validity().not_before.timestamp(),
                c.validity().not_after.timestamp(),
            )
        };
        let backdate = NOT_BEFORE_BACKDATE.as_secs() as i64;
        assert_eq!(backdate, 300);
        let t0 = now();
        let root_key = PrivateKey::generate(KeyType::P256).unwrap();
        let mut root_req = RootRequest::new(dn("/CN=Root"));
        root_req.path_len = Some(1);
        let root = issue_root(&root_req, &root_key, t0).unwrap();
        // A root is backdated; its notAfter is not.
        assert_eq!(
            validity(&root.der),
            (secs(t0) - backdate, secs(t0) + 3650 * 86400)
        );
        let root_ca = CaIssuer::new(&root.der, &root_key).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap();

        // At a clock reading inside the root's backdated window (100 s before the root was
        // issued): backdating would start before the root, so it is clamped to the root's
        // notBefore.
        let t1 = t0 - Duration::from_secs(100);
        let req = IntermediateRequest::new(dn("/CN=Early"));
        let early = issue_intermediate(&req, &key.public_key(), &root_ca, t1).unwrap();
        assert_eq!(
            validity(&early.der),
            (secs(t0) - backdate, secs(t1) + 1825 * 86400)
        );
        // A minute after the root: backdated by the full amount, not clamped.
        let t1 = t0 + Duration::from_secs(60);
        let early = issue_intermediate(&req, &key.public_key(), &root_ca, t1).unwrap();
        assert_eq!(
            validity(&early.der),
            (secs(t1) - backdate, secs(t1) + 1825 * 86400)
        );

        // An hour after the root: backdated by the full amount.
        let t2 = t0 + Duration::from_secs(3600);
        let req = IntermediateRequest::new(dn("/CN=Late"));
        let inter_key = PrivateKey::generate(KeyType::P256).unwrap();
        let inter = issue_intermediate(&req, &inter_key.public_key(), &root_ca, t2).unwrap();
        let (inter_nb, _) = validity(&inter.der);
        assert_eq!(inter_nb, secs(t2) - backdate);
        let ca = CaIssuer::new(&inter.der, &inter_key).unwrap();

        // Whether the issuer is valid is decided at the real issuance time, not the backdated
        // one: a second before the intermediate's notBefore is refused, its notBefore is not
        // (and the leaf's notBefore is clamped to it), nor is any time up to the
        // intermediate's own issuance (still clamped), and a leaf issued later is backdated
        // from its own issuance time.
        let before = t2 - NOT_BEFORE_BACKDATE - Duration::from_secs(1);
        let err = issue_leaf(&leaf_req(), &key.public_key(), &ca, before).unwrap_err();
        assert!(matches!(err, IssueError::IssuerNotValid { .. }), "{err}");
        let at = t2 - NOT_BEFORE_BACKDATE;
        let leaf = issue_leaf(&leaf_req(), &key.public_key(), &ca, at).unwrap();
        assert_eq!(validity(&leaf.der), (inter_nb, secs(at) + 365 * 86400));
        let t3 = t2 - Duration::from_secs(100);
        let leaf = issue_leaf(&leaf_req(), &key.public_key(), &ca, t3).unwrap();
        assert_eq!(validity(&leaf.der), (inter_nb, secs(t3) + 365 * 86400));
        let t4 = t2 + Duration::from_secs(1000);
        let leaf = issue_leaf(&leaf_req(), &key.public_key(), &ca, t4).unwrap();
        assert_eq!(
            validity(&leaf.der),
            (secs(t4) - backdate, secs(t4) + 365 * 86400)
        );

        // From a CSR too.
        let csr = create_csr(
            &key,
            &CsrRequest {
                subject: dn("/CN=From CSR"),
                emails: vec!["csr@linuxera.org".into()],
                oidc_issuer: Some(ISSUER.into()),
                ..CsrRequest::default()
            },
        )
        .unwrap();
        let info = parse_csr(&csr).unwrap();
        let issued = issue_leaf_from_csr(&info, &LeafRequest::default(), &ca, t4).unwrap();
        assert_eq!(
            validity(&issued.cert.der),
            (secs(t4) - backdate, secs(t4) + 365 * 86400)
        );
    }

    #[test]
    fn leaf_needs_an_identity_and_valid_sans() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap().public_key();
        let mut req = leaf_req();
        req.emails.clear();
        req.uris.clear();
        let err = issue_leaf(&req, &key, &ca, now()).unwrap_err();
        assert!(err.to_string().contains("at least one identity"), "{err}");
        req.emails = vec!["not-an-email".into()];
        assert!(issue_leaf(&req, &key, &ca, now()).is_err());
        req.emails = vec!["a@b.c".into()];
        req.uris = vec!["no scheme".into()];
        assert!(issue_leaf(&req, &key, &ca, now()).is_err());
        req.uris.clear();
        req.oidc_issuer = None;
        assert!(issue_leaf(&req, &key, &ca, now()).is_err());
        req.oidc_issuer = Some(String::new());
        assert!(issue_leaf(&req, &key, &ca, now()).is_err());
    }

    #[test]
    fn repeated_attributes_are_refused() {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let err = issue_root(
            &RootRequest::new(dn("/DC=org/DC=example/CN=Root")),
            &key,
            now(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("DC appears more than once"),
            "{err}"
        );
    }

    #[test]
    fn long_oidc_issuer_uses_long_form_length() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let url = format!("https://issuer.example/{}", "x".repeat(200));
        let mut req = leaf_req();
        req.oidc_issuer = Some(url.clone());
        let issued = issue_leaf(&req, &key.public_key(), &ca, now()).unwrap();
        let leaf = cert(&issued.der);
        let v2 = ext(&leaf, OID_FULCIO_ISSUER_V2);
        assert_eq!(&v2[..3], &[0x0c, 0x81, url.len() as u8]);
        assert_eq!(&v2[3..], url.as_bytes());
        assert_eq!(ext(&leaf, OID_FULCIO_ISSUER_V1), url.as_bytes());
    }

    #[test]
    fn csr_round_trip() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let key = PrivateKey::generate(KeyType::P384).unwrap();
        let csr = create_csr(
            &key,
            &CsrRequest {
                subject: dn("/C=ES/CN=Team B"),
                emails: vec!["team-b@linuxera.org".into()],
                uris: vec![],
                oidc_issuer: Some(ISSUER.into()),
                ..CsrRequest::default()
            },
        )
        .unwrap();
        assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let info = parse_csr(&csr).unwrap();
        assert_eq!(info.public_key, key.public_key());
        assert_eq!(info.emails, ["team-b@linuxera.org"]);
        assert_eq!(info.oidc_issuer.as_deref(), Some(ISSUER));
        assert_eq!(info.subject, "C=ES, CN=Team B");

        // Nothing overridden: everything from the CSR.
        let req = LeafRequest::default();
        let issued = issue_leaf_from_csr(&info, &req, &ca, now()).unwrap();
        assert_eq!(issued.public_key, key.public_key());
        let leaf = cert(&issued.cert.der);
        assert_eq!(leaf.subject().to_string(), "C=ES, CN=Team B");
        assert_eq!(ext(&leaf, OID_FULCIO_ISSUER_V1), ISSUER.as_bytes());
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            san.value.general_names,
            vec![GeneralName::RFC822Name("team-b@linuxera.org")]
        );

        // Flags win.
        let req = LeafRequest {
            subject: Some(dn("/CN=Override")),
            uris: vec!["spiffe://example/x".into()],
            oidc_issuer: Some("https://other".into()),
            validity_days: Some(10),
            ..LeafRequest::default()
        };
        let issued = issue_leaf_from_csr(&info, &req, &ca, now()).unwrap();
        let leaf = cert(&issued.cert.der);
        assert_eq!(leaf.subject().to_string(), "CN=Override");
        assert_eq!(ext(&leaf, OID_FULCIO_ISSUER_V1), b"https://other");
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            san.value.general_names,
            vec![GeneralName::URI("spiffe://example/x")]
        );
    }

    #[test]
    fn csr_with_a_bad_signature_is_refused() {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let csr = create_csr(
            &key,
            &CsrRequest {
                subject: dn("/CN=x"),
                emails: vec!["a@b.c".into()],
                uris: vec![],
                oidc_issuer: Some(ISSUER.into()),
                ..CsrRequest::default()
            },
        )
        .unwrap();
        let mut der = pem::parse(&csr).unwrap().into_contents();
        // Flip a byte of the subject's CN value ("x").
        let pos = der.iter().position(|b| *b == b'x').unwrap();
        der[pos] = b'y';
        let tampered = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der));
        let err = parse_csr(&tampered).unwrap_err();
        assert!(matches!(err, IssueError::CsrSignature(_)), "{err}");
        assert!(parse_csr("not pem").is_err());
        let cert_pem = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        assert!(
            parse_csr(&cert_pem)
                .unwrap_err()
                .to_string()
                .contains("expected")
        );
    }

    #[test]
    fn notation_profile() {
        let p = pki(KeyType::P256);
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
        let mut req = leaf_req();
        req.profile = Profile::Notation;
        let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let err = issue_leaf(&req, &ed.public_key(), &ca, now()).unwrap_err();
        assert!(matches!(err, IssueError::NotationProfile(_)), "{err}");
        assert!(err.to_string().contains("ed25519"), "{err}");
        let ok = PrivateKey::generate(KeyType::P384).unwrap();
        issue_leaf(&req, &ok.public_key(), &ca, now()).unwrap();
        check_notation_ca(&p.root.der).unwrap();

        // An Ed25519 CA cannot issue notation leaves.
        let e = pki(KeyType::Ed25519);
        let signer = X509Signer::new(&e.inter_key);
        let ca = CaIssuer::new(&e.inter.der, &signer).unwrap();
        let err = issue_leaf(&req, &ok.public_key(), &ca, now()).unwrap_err();
        assert!(err.to_string().contains("CA "), "{err}");
        // The cosign profile accepts both.
        req.profile = Profile::Cosign;
        issue_leaf(&req, &ed.public_key(), &ca, now()).unwrap();
    }

    #[test]
    fn pem_helpers() {
        let p = pki(KeyType::P256);
        let text = format!("{}{}", p.inter.pem, p.root.pem);
        let certs = pem_certificates(&text).unwrap();
        assert_eq!(certs, vec![p.inter.der.clone(), p.root.der.clone()]);
        assert_eq!(certificate_pem(&p.root.der), p.root.pem);
        assert!(p.root.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    }

    /// A signer that is not a `PrivateKey`, misbehaving on request.
    struct TestSigner {
        key: PrivateKey,
        algorithm: SignatureAlgorithm,
        sign_with: Option<PrivateKey>,
        fail: bool,
    }

    impl TestSigner {
        fn new(kt: KeyType) -> Self {
            let key = PrivateKey::generate(kt).unwrap();
            TestSigner {
                algorithm: key.algorithm(),
                key,
                sign_with: None,
                fail: false,
            }
        }
    }

    impl Signer for TestSigner {
        fn public_key(&self) -> PublicKey {
            self.key.public_key()
        }

        fn algorithm(&self) -> SignatureAlgorithm {
            self.algorithm
        }

        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_crypto::Error> {
            if self.fail {
                return Err(signet_crypto::Error::SigningFailed {
                    algorithm: self.algorithm,
                });
            }
            self.sign_with
                .as_ref()
                .unwrap_or(&self.key)
                .sign_with(self.algorithm, message)
        }
    }

    #[test]
    fn signer_algorithms() {
        let root = |s: &dyn Signer| issue_root(&RootRequest::new(dn("/CN=Root")), s, now());
        // PrivateKey's own Signer signs Ed25519ph, which X.509 does not allow.
        let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let err = root(&ed).unwrap_err();
        assert!(
            matches!(
                err,
                IssueError::UnsupportedSignerAlgorithm {
                    algorithm: SignatureAlgorithm::Ed25519ph,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("X509Signer"), "{err}");
        let cert_der = root(&X509Signer::new(&ed)).unwrap().der;
        assert_eq!(
            cert(&cert_der).signature_algorithm.algorithm.to_id_string(),
            "1.3.101.112"
        );
        // CaIssuer refuses such a signer up front.
        let err = CaIssuer::new(&cert_der, &ed).unwrap_err();
        assert!(
            matches!(err, IssueError::UnsupportedSignerAlgorithm { .. }),
            "{err}"
        );
        CaIssuer::new(&cert_der, &X509Signer::new(&ed)).unwrap();
        // ECDSA over a hash that does not match the curve, and RSA-PSS, are refused.
        for (kt, algorithm) in [
            (KeyType::P384, SignatureAlgorithm::EcdsaP384Sha256),
            (KeyType::P521, SignatureAlgorithm::EcdsaP521Sha256),
            (KeyType::Rsa2048, SignatureAlgorithm::RsaPssSha256),
        ] {
            let mut s = TestSigner::new(kt);
            s.algorithm = algorithm;
            let err = root(&s).unwrap_err();
            assert!(
                matches!(err, IssueError::UnsupportedSignerAlgorithm { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(algorithm.as_str()), "{err}");
        }
        // An algorithm for another key type.
        let mut s = TestSigner::new(KeyType::P256);
        s.algorithm = SignatureAlgorithm::EcdsaP384Sha384;
        let err = root(&s).unwrap_err();
        assert!(err.to_string().contains("does not suit"), "{err}");
        // The signer's own error comes through.
        let mut s = TestSigner::new(KeyType::P256);
        s.fail = true;
        let err = root(&s).unwrap_err();
        assert!(matches!(err, IssueError::Signing(_)), "{err}");
        let csr = create_csr(
            &s,
            &CsrRequest {
                subject: dn("/CN=x"),
                emails: vec!["a@b.c".into()],
                oidc_issuer: Some(ISSUER.into()),
                ..CsrRequest::default()
            },
        )
        .unwrap_err();
        assert!(matches!(csr, IssueError::Signing(_)), "{csr}");
        // A signer that signs with another key than it reports is caught.
        let mut s = TestSigner::new(KeyType::P256);
        s.sign_with = Some(PrivateKey::generate(KeyType::P256).unwrap());
        let err = root(&s).unwrap_err();
        assert!(
            matches!(
                err,
                IssueError::BadSignerSignature {
                    what: "certificate",
                    ..
                }
            ),
            "{err}"
        );
        let p = pki(KeyType::P256);
        let mut s = TestSigner::new(KeyType::P256);
        s.key = p.inter_key;
        s.sign_with = Some(p.root_key);
        let ca = CaIssuer::new(&p.inter.der, &s).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap().public_key();
        let err = issue_leaf(&leaf_req(), &key, &ca, now()).unwrap_err();
        assert!(
            matches!(err, IssueError::BadSignerSignature { .. }),
            "{err}"
        );
    }

    #[test]
    fn chosen_usages() {
        let p = pki(KeyType::P256);
        let signer = X509Signer::new(&p.inter_key);
        let ca = CaIssuer::new(&p.inter.der, &signer).unwrap();
        let key = PrivateKey::generate(KeyType::P256).unwrap().public_key();

        let mut req = leaf_req();
        req.key_usages = Some(vec![
            KeyUsage::DigitalSignature,
            KeyUsage::ContentCommitment,
        ]);
        req.extended_key_usages = Some(vec![
            ExtendedKeyUsage::CodeSigning,
            ExtendedKeyUsage::ClientAuth,
        ]);
        let issued = issue_leaf(&req, &key, &ca, now()).unwrap();
        let leaf = cert(&issued.der);
        let ku = leaf.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.digital_signature() && ku.value.non_repudiation());
        assert!(!ku.value.key_cert_sign());
        let eku = leaf.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.code_signing && eku.value.client_auth && !eku.value.server_auth);

        // keyCertSign is refused; code signing needs digitalSignature.
        req.key_usages = Some(vec![KeyUsage::DigitalSignature, KeyUsage::KeyCertSign]);
        let err = issue_leaf(&req, &key, &ca, now()).unwrap_err();
        assert!(err.to_string().contains("keyCertSign is for CA"), "{err}");
        req.key_usages = Some(vec![KeyUsage::KeyEncipherment]);
        let err = issue_leaf(&req, &key, &ca, now()).unwrap_err();
        assert!(err.to_string().contains("needs digitalSignature"), "{err}");
        req.key_usages = Some(vec![]);
        assert!(issue_leaf(&req, &key, &ca, now()).is_err());

        // Notation refuses serverAuth.
        req.key_usages = None;
        req.extended_key_usages = Some(vec![
            ExtendedKeyUsage::CodeSigning,
            ExtendedKeyUsage::ServerAuth,
        ]);
        req.profile = Profile::Notation;
        let err = issue_leaf(&req, &key, &ca, now()).unwrap_err();
        assert!(matches!(err, IssueError::NotationProfile(_)), "{err}");

        // Not for code signing: no identity or OIDC issuer needed, no Fulcio extensions.
        let req = LeafRequest {
            subject: Some(dn("/CN=client")),
            extended_key_usages: Some(vec![ExtendedKeyUsage::ClientAuth]),
            ..LeafRequest::default()
        };
        let issued = issue_leaf(&req, &key, &ca, now()).unwrap();
        let leaf = cert(&issued.der);
        assert!(leaf.subject_alternative_name().unwrap().is_none());
        assert!(
            leaf.iter_extensions()
                .all(|e| e.oid.to_id_string() != "1.3.6.1.4.1.57264.1.1")
        );
        // But a code-signing leaf does.
        let req = LeafRequest {
            subject: Some(dn("/CN=signer")),
            emails: vec!["a@b.c".into()],
            ..LeafRequest::default()
        };
        let err = issue_leaf(&req, &key, &ca, now()).unwrap_err();
        assert!(err.to_string().contains("OIDC issuer"), "{err}");

        // The CSR asks for the chosen usages.
        let csr_key = PrivateKey::generate(KeyType::P256).unwrap();
        let csr = create_csr(
            &csr_key,
            &CsrRequest {
                subject: dn("/CN=client"),
                extended_key_usages: Some(vec![ExtendedKeyUsage::ClientAuth]),
                key_usages: Some(vec![KeyUsage::DigitalSignature, KeyUsage::KeyAgreement]),
                ..CsrRequest::default()
            },
        )
        .unwrap();
        let block = pem::parse(&csr).unwrap();
        let (_, parsed) = X509CertificationRequest::from_der(block.contents()).unwrap();
        let exts = parsed.requested_extensions().unwrap().collect::<Vec<_>>();
        assert!(exts.iter().any(|e| matches!(
            e,
            ParsedExtension::ExtendedKeyUsage(eku) if eku.client_auth && !eku.code_signing
        )));
        assert!(exts.iter().any(|e| matches!(
            e,
            ParsedExtension::KeyUsage(ku) if ku.key_agreement() && ku.digital_signature()
        )));
        let err = create_csr(
            &csr_key,
            &CsrRequest {
                subject: dn("/CN=signer"),
                ..CsrRequest::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("needs an OIDC issuer"), "{err}");
    }
}
