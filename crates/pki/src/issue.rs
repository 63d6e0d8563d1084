//! Certificate and CSR issuance: self-signed roots, intermediate CAs, code-signing leaves (the
//! certificates cosign accepts with `--certificate`/`--certificate-chain`), CSRs for an
//! external CA, and leaves issued from a CSR.
//!
//! Pure: the clock reading comes in as `now`, keys as [`PrivateKey`]/[`PublicKey`], and
//! certificates as DER/PEM bytes; only the serial numbers come from the system's crypto RNG.
//! rcgen (on aws-lc-rs) encodes and signs.
//!
//! Profiles, as `openssl x509 -text` shows them:
//! * CA (root and intermediate): `basicConstraints` critical `CA:TRUE` (with `pathlen` when
//!   constrained), `keyUsage` critical `Certificate Sign, CRL Sign`, SKI and AKI.
//! * Leaf: `basicConstraints` critical `CA:FALSE`, `keyUsage` critical `Digital Signature`,
//!   `extendedKeyUsage` `Code Signing`, the SAN (`email:`/`URI:`), SKI, AKI, and the OIDC
//!   issuer in both Fulcio extensions (non-critical): 1.3.6.1.4.1.57264.1.1 holding the raw
//!   URL bytes (what cosign's legacy verification reads) and 1.3.6.1.4.1.57264.1.8 holding a
//!   DER UTF8String of the URL.
//!
//! Decisions:
//! * Serial numbers: 16 random bytes, positive, always 16 bytes long when encoded.
//! * Validity starts at `now` (whole seconds; never before the issuer's `notBefore`, because
//!   cosign checks the chain at the leaf's `notBefore`). The issuer's validity bounds the
//!   child: a `notAfter` past the issuer's is **clamped** to the issuer's (with a warning in
//!   [`IssuedCert::warnings`] when the validity was asked for explicitly, silently for the
//!   defaults); an issuer that is expired or not yet valid at `now` is refused.
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
//!   `keyCertSign`, no SHA-1 signatures (see [`check_notation_ca`]). The leaf profile already
//!   satisfies the leaf rules (critical KU digitalSignature only; EKU codeSigning only).

use std::collections::HashSet;
use std::time::SystemTime;

use der::Encode;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SanType, SerialNumber, SignatureAlgorithm,
};
use signet_crypto::{KeyType, PrivateKey, PublicKey};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509CertificationRequest};
use x509_parser::x509::X509Name;

use crate::dn::{DistinguishedName, StringKind};

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

/// A code-signing leaf. For [`issue_leaf`] `subject` and `oidc_issuer` are required and at
/// least one email or URI; for [`issue_leaf_from_csr`] missing fields come from the CSR.
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
        }
    }
}

/// What goes into a CSR made by [`create_csr`].
#[derive(Debug, Clone)]
pub struct CsrRequest {
    /// Subject name.
    pub subject: DistinguishedName,
    /// Email SANs.
    pub emails: Vec<String>,
    /// URI SANs.
    pub uris: Vec<String>,
    /// The OIDC issuer (both Fulcio extensions).
    pub oidc_issuer: String,
}

/// A leaf issued from a CSR, with the key it certifies.
#[derive(Debug, Clone)]
pub struct IssuedLeaf {
    /// The certificate.
    pub cert: IssuedCert,
    /// The CSR's public key (now certified).
    pub public_key: PublicKey,
}

/// A CA certificate and its private key, checked to belong together and to be a CA.
pub struct CaIssuer<'a> {
    cert_der: Vec<u8>,
    key: &'a PrivateKey,
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
    /// Checks `cert_der` (a CA certificate) against `key` (its private key).
    pub fn new(cert_der: &[u8], key: &'a PrivateKey) -> Result<Self, IssueError> {
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

    fn rcgen_issuer(&self) -> Result<Issuer<'static, KeyPair>, IssueError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = self.rcgen_subject.clone();
        params.key_identifier_method = match &self.ski {
            Some(ski) => KeyIdMethod::PreSpecified(ski.clone()),
            None => KeyIdMethod::Sha256,
        };
        Ok(Issuer::new(params, rcgen_key(self.key)?))
    }

    /// The validity window of a child asked to live `days` (else `default_days`) from `now`,
    /// bounded by this CA; only an explicit `days` that gets clamped is warned about.
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

/// Issues a self-signed root CA for `key`.
pub fn issue_root(
    req: &RootRequest,
    key: &PrivateKey,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    let days = req.validity_days.unwrap_or(DEFAULT_ROOT_DAYS);
    let (not_before, not_after) = validity(to_offset(now)?, days)?;
    let mut params = ca_params(&req.subject, req.path_len)?;
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params.self_signed(&rcgen_key(key)?)?;
    Ok(issued(cert.der().to_vec(), Vec::new()))
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
    let oidc_issuer = req.oidc_issuer.as_deref().ok_or_else(|| {
        IssueError::InvalidRequest("a leaf needs an OIDC issuer (--oidc-issuer)".to_owned())
    })?;
    let subject = rcgen_dn(subject)?;
    leaf(
        subject,
        &req.emails,
        &req.uris,
        oidc_issuer,
        req.validity_days,
        req.profile,
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
    use der::Decode;
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
    let oidc_issuer = req
        .oidc_issuer
        .as_deref()
        .or(csr.oidc_issuer.as_deref())
        .ok_or_else(|| {
            IssueError::InvalidRequest(
                "no OIDC issuer: the CSR has no 1.3.6.1.4.1.57264.1.1/.1.8 extension and none \
                 was given (--oidc-issuer)"
                    .to_owned(),
            )
        })?;
    let mut cert = leaf(
        subject,
        &emails,
        &uris,
        oidc_issuer,
        req.validity_days,
        req.profile,
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

/// Makes a PEM CSR signed by `key`, asking for the leaf profile: the subject, the SANs, both
/// Fulcio issuer extensions, keyUsage digitalSignature, EKU codeSigning and `CA:FALSE` (so an
/// openssl CA with `-copy_extensions copy` produces the seed's certificate).
pub fn create_csr(key: &PrivateKey, req: &CsrRequest) -> Result<String, IssueError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen_dn(&req.subject)?;
    params.subject_alt_names = sans(&req.emails, &req.uris)?;
    params.custom_extensions = fulcio_extensions(&req.oidc_issuer)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.is_ca = IsCa::ExplicitNoCa;
    let csr = params.serialize_request(&rcgen_key(key)?)?;
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

#[allow(clippy::too_many_arguments)]
fn leaf(
    subject: rcgen::DistinguishedName,
    emails: &[String],
    uris: &[String],
    oidc_issuer: &str,
    validity_days: Option<u32>,
    profile: Profile,
    subject_key: &PublicKey,
    ca: &CaIssuer<'_>,
    now: SystemTime,
) -> Result<IssuedCert, IssueError> {
    if emails.is_empty() && uris.is_empty() {
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
        ca.child_validity(now, validity_days, DEFAULT_LEAF_DAYS, &mut warnings)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.subject_alt_names = sans(emails, uris)?;
    params.custom_extensions = fulcio_extensions(oidc_issuer)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
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
    let cert = params.signed_by(&public, &issuer)?;
    let der = cert.der().to_vec();
    // The issuer name must be the issuer's subject byte for byte, or chains break.
    let parsed = parse_cert(&der)?;
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
        let valid = e.is_ascii()
            && !e.chars().any(|c| c.is_control() || c.is_whitespace())
            && e.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
        if !valid {
            return Err(IssueError::InvalidRequest(format!(
                "invalid email address {e:?} (expected local@domain, ASCII)"
            )));
        }
        out.push(SanType::Rfc822Name(e.as_str().try_into()?));
    }
    for u in uris {
        let valid = u.is_ascii()
            && !u.chars().any(|c| c.is_control() || c.is_whitespace())
            && u.split_once(':').is_some_and(|(scheme, rest)| {
                !rest.is_empty()
                    && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
        if !valid {
            return Err(IssueError::InvalidRequest(format!(
                "invalid URI {u:?} (expected scheme:rest, ASCII, no spaces)"
            )));
        }
        out.push(SanType::URI(u.as_str().try_into()?));
    }
    Ok(out)
}

fn fulcio_extensions(oidc_issuer: &str) -> Result<Vec<CustomExtension>, IssueError> {
    if oidc_issuer.is_empty() || oidc_issuer.chars().any(char::is_control) {
        return Err(IssueError::InvalidRequest(format!(
            "invalid OIDC issuer {oidc_issuer:?}"
        )));
    }
    let utf8 = der::asn1::Utf8StringRef::new(oidc_issuer)
        .and_then(|s| s.to_der())
        .map_err(|e| IssueError::InvalidRequest(format!("invalid OIDC issuer: {e}")))?;
    Ok(vec![
        CustomExtension::from_oid_content(OID_FULCIO_ISSUER_V1, oidc_issuer.as_bytes().to_vec()),
        CustomExtension::from_oid_content(OID_FULCIO_ISSUER_V2, utf8),
    ])
}

fn rcgen_key(key: &PrivateKey) -> Result<KeyPair, IssueError> {
    let alg: &'static SignatureAlgorithm = match key.key_type() {
        KeyType::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyType::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyType::P521 => &rcgen::PKCS_ECDSA_P521_SHA512,
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        KeyType::Ed25519 => &rcgen::PKCS_ED25519,
    };
    let pkcs8 = key.to_pkcs8_der();
    KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        alg,
    )
    .map_err(|e| IssueError::UnsupportedKey(format!("{} key: {e}", key.key_type())))
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

fn validity(
    now: OffsetDateTime,
    days: u32,
) -> Result<(OffsetDateTime, OffsetDateTime), IssueError> {
    if days == 0 || days > MAX_VALIDITY_DAYS {
        return Err(IssueError::InvalidRequest(format!(
            "the validity must be between 1 and {MAX_VALIDITY_DAYS} days, not {days}"
        )));
    }
    let not_after = now
        .checked_add(time::Duration::days(i64::from(days)))
        .ok_or_else(|| IssueError::InvalidRequest("the validity is out of range".to_owned()))?;
    Ok((now, not_after))
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
            &root_key,
            now(),
        )
        .unwrap();
        let inter_key = PrivateKey::generate(kt).unwrap();
        let mut req = IntermediateRequest::new(dn("/C=ES/O=IT/CN=Intermediate"));
        req.path_len = None;
        let ca = CaIssuer::new(&root.der, &root_key).unwrap();
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
        // 3650 days from now.
        let nb = root.validity().not_before.timestamp();
        let na = root.validity().not_after.timestamp();
        assert_eq!(nb, 1_700_000_000);
        assert_eq!(na - nb, 3650 * 86400);

        let inter = cert(&p.inter.der);
        let bc = inter.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        assert_eq!(inter.issuer().as_raw(), root.subject().as_raw());
        assert_eq!(
            inter.validity().not_after.timestamp() - inter.validity().not_before.timestamp(),
            1825 * 86400
        );
        // x509-parser cannot verify ECDSA with SHA-512 (P-521); openssl does in the CLI tests.
        if kt != KeyType::P521 {
            inter.verify_signature(Some(root.public_key())).unwrap();
            root.verify_signature(None).unwrap();
        }

        let leaf_key = PrivateKey::generate(kt).unwrap();
        let ca = CaIssuer::new(&p.inter.der, &p.inter_key).unwrap();
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
        let earlier = now() - Duration::from_secs(60);
        let err = issue_leaf(&leaf_req(), &key.public_key(), &ca, earlier).unwrap_err();
        assert!(err.to_string().contains("valid only from"), "{err}");
        // Zero days is refused.
        req.validity_days = Some(0);
        assert!(issue_leaf(&req, &key.public_key(), &ca, now()).is_err());
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
                oidc_issuer: ISSUER.into(),
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
                oidc_issuer: ISSUER.into(),
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
        let ca = CaIssuer::new(&e.inter.der, &e.inter_key).unwrap();
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
}
