//! Parsed X.509 certificates with the views signet's checks need: names, serial, validity,
//! basic constraints, key usage, extended key usage, subject alternative names, the Fulcio
//! OIDC-issuer extensions, and the raw pieces for signature verification.

use std::fmt;
use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::asn1::{Ia5String, Utf8StringRef};
use der::{Decode, Encode};
use signet_crypto::{CertSignatureAlgorithm, PublicKey};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
    SubjectAltName,
};

use crate::Error;

/// id-ce-basicConstraints.
pub const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-ce-keyUsage.
pub const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// id-ce-extKeyUsage.
pub const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// id-ce-subjectAltName.
pub const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// id-ce-subjectKeyIdentifier.
pub const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
/// id-ce-authorityKeyIdentifier.
pub const OID_AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
/// id-kp-codeSigning.
pub const OID_EKU_CODE_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// anyExtendedKeyUsage.
pub const OID_EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// Fulcio's OIDC issuer, raw string value (deprecated form, what cosign's legacy path reads).
pub const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer, DER UTF8String value.
pub const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's OtherName SAN (UTF8String) for identities that are no e-mail or URI.
pub const OID_FULCIO_OTHERNAME_SAN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// Extensions whose meaning signet checks; any other extension marked critical makes the
/// certificate unusable (RFC 5280 §4.2).
const HANDLED_CRITICAL: [ObjectIdentifier; 6] = [
    OID_BASIC_CONSTRAINTS,
    OID_KEY_USAGE,
    OID_EXT_KEY_USAGE,
    OID_SUBJECT_ALT_NAME,
    OID_SUBJECT_KEY_ID,
    OID_AUTHORITY_KEY_ID,
];

/// The subject alternative names of a certificate, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    /// dNSName entries.
    pub dns: Vec<String>,
    /// rfc822Name (e-mail) entries.
    pub emails: Vec<String>,
    /// iPAddress entries, as text.
    pub ips: Vec<String>,
    /// uniformResourceIdentifier entries.
    pub uris: Vec<String>,
    /// The Fulcio OtherName identity (1.3.6.1.4.1.57264.1.7), if exactly one is present.
    pub other_name: Option<String>,
}

impl SubjectAltNames {
    /// Every name, in the order cosign lists them (DNS, e-mail, IP, URI, OtherName).
    pub fn all(&self) -> Vec<&str> {
        self.dns
            .iter()
            .chain(&self.emails)
            .chain(&self.ips)
            .chain(&self.uris)
            .map(String::as_str)
            .chain(self.other_name.as_deref())
            .collect()
    }
}

/// A parsed certificate.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    inner: x509_cert::Certificate,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Certificate({}, serial {})",
            self.subject(),
            self.serial_hex()
        )
    }
}

impl Certificate {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let inner =
            x509_cert::Certificate::from_der(der).map_err(|e| Error::InvalidCertificate {
                reason: e.to_string(),
            })?;
        Ok(Certificate {
            der: der.to_vec(),
            inner,
        })
    }

    /// Every `CERTIFICATE` block of a PEM text, in order. Text around the blocks is ignored;
    /// no block at all is an error.
    pub fn parse_pem_bundle(text: &str) -> Result<Vec<Self>, Error> {
        let blocks = pem::parse_many(text).map_err(|e| Error::InvalidCertificate {
            reason: format!("not PEM: {e}"),
        })?;
        let certs: Vec<Self> = blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| Self::from_der(b.contents()))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(Error::InvalidCertificate {
                reason: "no PEM CERTIFICATE block found".to_string(),
            });
        }
        Ok(certs)
    }

    /// A single certificate from PEM, DER, or base64 of PEM (what cosign's `--certificate`
    /// accepts).
    pub fn parse_any(bytes: &[u8]) -> Result<Self, Error> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            if text.contains("-----BEGIN") {
                return first(Self::parse_pem_bundle(text)?);
            }
            use base64::Engine as _;
            let compact: String = text.split_whitespace().collect();
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(compact)
                && let Ok(inner) = std::str::from_utf8(&decoded)
                && inner.contains("-----BEGIN")
            {
                return first(Self::parse_pem_bundle(inner)?);
            }
        }
        Self::from_der(bytes)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM, as Go's `pem.EncodeToMemory` writes it.
    pub fn to_pem(&self) -> String {
        signet_crypto::pem_encode("CERTIFICATE", &self.der)
    }

    /// The subject, RFC 4514 text.
    pub fn subject(&self) -> String {
        self.inner.tbs_certificate().subject().to_string()
    }

    /// The issuer, RFC 4514 text.
    pub fn issuer(&self) -> String {
        self.inner.tbs_certificate().issuer().to_string()
    }

    /// Whether the subject and issuer names are byte-identical (a self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    pub(crate) fn subject_der(&self) -> Vec<u8> {
        self.inner
            .tbs_certificate()
            .subject()
            .to_der()
            .unwrap_or_default()
    }

    pub(crate) fn issuer_der(&self) -> Vec<u8> {
        self.inner
            .tbs_certificate()
            .issuer()
            .to_der()
            .unwrap_or_default()
    }

    /// The serial number as lower-case hex.
    pub fn serial_hex(&self) -> String {
        hex(self.inner.tbs_certificate().serial_number().as_bytes())
    }

    /// notBefore.
    pub fn not_before(&self) -> SystemTime {
        self.inner
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    /// notAfter.
    pub fn not_after(&self) -> SystemTime {
        self.inner
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// The subject public key.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        let spki = self
            .inner
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::InvalidCertificate {
                reason: e.to_string(),
            })?;
        PublicKey::from_spki_der(&spki).map_err(|e| Error::UnsupportedKey {
            subject: self.subject(),
            reason: e.to_string(),
        })
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.inner
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id == oid)
    }

    fn decode_extension<'a, T: Decode<'a>>(
        &'a self,
        oid: ObjectIdentifier,
        name: &'static str,
    ) -> Result<Option<T>, Error> {
        match self.extension(oid) {
            None => Ok(None),
            Some(e) => T::from_der(e.extn_value.as_bytes())
                .map(Some)
                .map_err(|err| Error::InvalidExtension {
                    subject: self.subject(),
                    extension: name,
                    reason: err.to_string(),
                }),
        }
    }

    /// basicConstraints: `(cA, pathLenConstraint)`, `None` when absent.
    pub fn basic_constraints(&self) -> Result<Option<(bool, Option<u8>)>, Error> {
        Ok(self
            .decode_extension::<BasicConstraints>(OID_BASIC_CONSTRAINTS, "basicConstraints")?
            .map(|bc| (bc.ca, bc.path_len_constraint)))
    }

    /// keyUsage, `None` when absent.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, Error> {
        self.decode_extension::<KeyUsage>(OID_KEY_USAGE, "keyUsage")
    }

    /// Whether the certificate names a revocation source: an OCSP responder in its
    /// authorityInfoAccess, or a cRLDistributionPoints extension.
    pub fn names_revocation_source(&self) -> Result<bool, Error> {
        const OID_AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
        const OID_CRL_DP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
        const OID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
        let crl = self
            .decode_extension::<CrlDistributionPoints>(OID_CRL_DP, "cRLDistributionPoints")?
            .is_some_and(|dps| !dps.0.is_empty());
        let ocsp = self
            .decode_extension::<AuthorityInfoAccessSyntax>(OID_AIA, "authorityInfoAccess")?
            .is_some_and(|aia| aia.0.iter().any(|a| a.access_method == OID_AD_OCSP));
        Ok(crl || ocsp)
    }

    /// extKeyUsage purposes, `None` when absent.
    pub fn extended_key_usage(&self) -> Result<Option<Vec<ObjectIdentifier>>, Error> {
        Ok(self
            .decode_extension::<ExtendedKeyUsage>(OID_EXT_KEY_USAGE, "extKeyUsage")?
            .map(|e| e.0))
    }

    /// The subject alternative names.
    pub fn subject_alt_names(&self) -> Result<SubjectAltNames, Error> {
        let mut out = SubjectAltNames::default();
        let Some(san) =
            self.decode_extension::<SubjectAltName>(OID_SUBJECT_ALT_NAME, "subjectAltName")?
        else {
            return Ok(out);
        };
        let mut other_names = Vec::new();
        for name in san.0 {
            match name {
                GeneralName::DnsName(s) => out.dns.push(ia5(&s)),
                GeneralName::Rfc822Name(s) => out.emails.push(ia5(&s)),
                GeneralName::UniformResourceIdentifier(s) => out.uris.push(ia5(&s)),
                GeneralName::IpAddress(octets) => out.ips.push(ip_text(octets.as_bytes())),
                GeneralName::OtherName(o) if o.type_id == OID_FULCIO_OTHERNAME_SAN => {
                    if let Ok(s) = o.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                        other_names.push(s.as_str().to_string());
                    }
                }
                _ => {}
            }
        }
        if other_names.len() == 1 {
            out.other_name = other_names.pop();
        }
        Ok(out)
    }

    /// The OIDC issuer from the Fulcio extensions: `.1.8` (DER UTF8String) and `.1.1` (raw
    /// bytes) are both read; a certificate whose two values disagree is refused.
    pub fn oidc_issuer(&self) -> Result<Option<String>, Error> {
        let v1 =
            match self.extension(OID_FULCIO_ISSUER_V1) {
                None => None,
                Some(e) => Some(String::from_utf8(e.extn_value.as_bytes().to_vec()).map_err(
                    |_| Error::InvalidExtension {
                        subject: self.subject(),
                        extension: "OIDC issuer (1.3.6.1.4.1.57264.1.1)",
                        reason: "not UTF-8".to_string(),
                    },
                )?),
            };
        let v2 = match self.extension(OID_FULCIO_ISSUER_V2) {
            None => None,
            Some(e) => Some(
                Utf8StringRef::from_der(e.extn_value.as_bytes())
                    .map_err(|err| Error::InvalidExtension {
                        subject: self.subject(),
                        extension: "OIDC issuer (1.3.6.1.4.1.57264.1.8)",
                        reason: format!("not a DER UTF8String: {err}"),
                    })?
                    .as_str()
                    .to_string(),
            ),
        };
        match (v1, v2) {
            (Some(a), Some(b)) if a != b => Err(Error::IssuerExtensionsDisagree {
                subject: self.subject(),
                serial: self.serial_hex(),
                raw: a,
                utf8: b,
            }),
            (a, b) => Ok(b.or(a)),
        }
    }

    /// Extensions marked critical that signet does not process.
    pub fn unhandled_critical_extensions(&self) -> Vec<String> {
        self.inner
            .tbs_certificate()
            .extensions()
            .map(|exts| {
                exts.iter()
                    .filter(|e| e.critical && !HANDLED_CRITICAL.contains(&e.extn_id))
                    .map(|e| e.extn_id.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Verifies that `issuer`'s key signed this certificate.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), Error> {
        let oid = self.inner.signature_algorithm().oid.to_string();
        let algorithm =
            CertSignatureAlgorithm::from_oid(&oid).map_err(|_| Error::UnsupportedSignature {
                subject: self.subject(),
                oid: oid.clone(),
            })?;
        let tbs = self
            .inner
            .tbs_certificate()
            .to_der()
            .map_err(|e| Error::InvalidCertificate {
                reason: e.to_string(),
            })?;
        let signature = self.inner.signature().raw_bytes();
        issuer
            .public_key()?
            .verify_certificate_signature(algorithm, &tbs, signature)
            .map_err(|_| Error::BadCertificateSignature {
                subject: self.subject(),
                serial: self.serial_hex(),
                issuer: issuer.subject(),
            })
    }
}

fn first(mut certs: Vec<Certificate>) -> Result<Certificate, Error> {
    if certs.is_empty() {
        return Err(Error::InvalidCertificate {
            reason: "no certificate".to_string(),
        });
    }
    Ok(certs.swap_remove(0))
}

fn ia5(s: &Ia5String) -> String {
    s.to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(bytes),
    }
}
