//! Certificate profiles: signet's documented schema for what a PKI issues, read from YAML or
//! JSON (JSON documents are read as JSON, anything else as YAML).
//!
//! ```yaml
//! name: oci-signing              # required
//! certificateType: ENDENTITY     # ROOT | INTERMEDIATE (or SUBCA) | ENDENTITY (the default)
//! validityDays: 365              # 1..=36500; absent = the issuer's default
//! keyUsage: [digitalSignature]   # absent = digitalSignature (leaves)
//! extendedKeyUsage: [codeSigning]  # absent = codeSigning (leaves)
//! subject: {C: FI, O: Acme}      # attribute short names (C, ST, L, O, OU, CN, ...)
//! email: ci@acme.example         # a string or a list
//! uri: https://acme.example/ci   # a string or a list
//! oidcIssuer: https://acme.example
//! pathLen: 0                     # ROOT and INTERMEDIATE only
//! notation: false                # true = also enforce the Notary Project rules
//! ```
//!
//! Field names are case-sensitive and unknown fields are refused; the values of
//! `certificateType`, `keyUsage` and `extendedKeyUsage` are matched without regard to case
//! (`nonRepudiation` is accepted for `contentCommitment`). A `null` value is the same as an
//! absent field. Every error names the field (`validityDays: must be between 1 and 36500`).
//!
//! The subject's attributes are put in the usual order (C, ST, L, O, OU, CN, emailAddress,
//! serialNumber, DC, UID) whatever their order in the document, and the common name normally
//! comes from the request ([`CertProfile::subject_with_cn`]); a `CN` in the profile wins.
//!
//! Rules beyond the syntax:
//! * ENDENTITY: no `keyCertSign`, no `pathLen`. A code-signing profile (`extendedKeyUsage`
//!   absent or containing `codeSigning`) needs `digitalSignature` (when `keyUsage` is given),
//!   at least one `email` or `uri`, and an `oidcIssuer`, so that cosign's identity checks
//!   (`--certificate-identity`, `--certificate-oidc-issuer`) can match the certificate.
//! * ROOT and INTERMEDIATE: `keyUsage` (if given) includes `keyCertSign`; `extendedKeyUsage`,
//!   `email`, `uri` and `oidcIssuer` are for ENDENTITY profiles only.
//! * `notation: true` on an ENDENTITY profile: `digitalSignature` and `codeSigning` are
//!   required, `cRLSign` and the extended key usages serverAuth, emailProtection, timeStamping
//!   and ocspSigning are refused (the Notary Project's leaf rules); issuance then also checks
//!   the key types and the CA certificates ([`crate::issue::Profile::Notation`]).
//! * Lists may not be empty (leave the field out for the default) or repeat a value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dn::{AttributeType, DistinguishedName};
use crate::issue::{
    CsrRequest, LeafRequest, MAX_VALIDITY_DAYS, Profile, check_email, check_oidc_issuer, check_uri,
};

/// The fields of a profile document, in the order [`CertProfile::to_json`] writes them.
const FIELDS: [&str; 11] = [
    "name",
    "certificateType",
    "validityDays",
    "keyUsage",
    "extendedKeyUsage",
    "subject",
    "email",
    "uri",
    "oidcIssuer",
    "pathLen",
    "notation",
];

/// Errors from reading or using a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The document is not valid YAML or JSON, or not a mapping.
    #[error("invalid profile document: {reason}")]
    Syntax {
        /// What the parser said.
        reason: String,
    },
    /// A field is missing, unknown or has an invalid value.
    #[error("{field}: {reason}")]
    Field {
        /// The field's name as written in the document (`validityDays`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The common name given with the profile cannot be used.
    #[error("invalid common name {value:?}: {reason}")]
    CommonName {
        /// The common name.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> ProfileError {
    ProfileError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

/// What kind of certificate a profile issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CertificateType {
    /// A self-signed root CA (`ROOT`).
    Root,
    /// An intermediate CA (`INTERMEDIATE`; the hosted service's `SUBCA` means the same).
    Intermediate,
    /// An end-entity (leaf) certificate (`ENDENTITY`).
    #[default]
    EndEntity,
}

impl CertificateType {
    /// The name written in profiles: `ROOT`, `INTERMEDIATE` or `ENDENTITY`.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateType::Root => "ROOT",
            CertificateType::Intermediate => "INTERMEDIATE",
            CertificateType::EndEntity => "ENDENTITY",
        }
    }

    /// Whether certificates of this type are CAs.
    pub fn is_ca(self) -> bool {
        self != CertificateType::EndEntity
    }
}

impl fmt::Display for CertificateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CertificateType {
    type Err = String;

    /// `ROOT`, `INTERMEDIATE`, `SUBCA` or `ENDENTITY`, in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        [
            ("ROOT", CertificateType::Root),
            ("INTERMEDIATE", CertificateType::Intermediate),
            ("SUBCA", CertificateType::Intermediate),
            ("ENDENTITY", CertificateType::EndEntity),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, t)| t)
        .ok_or_else(|| format!("unknown type {s:?} (use ROOT, INTERMEDIATE or ENDENTITY)"))
    }
}

/// A keyUsage bit (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// `digitalSignature`.
    DigitalSignature,
    /// `contentCommitment` (formerly `nonRepudiation`).
    ContentCommitment,
    /// `keyEncipherment`.
    KeyEncipherment,
    /// `dataEncipherment`.
    DataEncipherment,
    /// `keyAgreement`.
    KeyAgreement,
    /// `keyCertSign`.
    KeyCertSign,
    /// `cRLSign`.
    CrlSign,
}

impl KeyUsage {
    /// Every key usage, in the order of the bits.
    pub const ALL: [KeyUsage; 7] = [
        KeyUsage::DigitalSignature,
        KeyUsage::ContentCommitment,
        KeyUsage::KeyEncipherment,
        KeyUsage::DataEncipherment,
        KeyUsage::KeyAgreement,
        KeyUsage::KeyCertSign,
        KeyUsage::CrlSign,
    ];

    /// The RFC 5280 name (`digitalSignature`, …, `cRLSign`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::DigitalSignature => "digitalSignature",
            KeyUsage::ContentCommitment => "contentCommitment",
            KeyUsage::KeyEncipherment => "keyEncipherment",
            KeyUsage::DataEncipherment => "dataEncipherment",
            KeyUsage::KeyAgreement => "keyAgreement",
            KeyUsage::KeyCertSign => "keyCertSign",
            KeyUsage::CrlSign => "cRLSign",
        }
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyUsage {
    type Err = String;

    /// The RFC 5280 name in any case, or `nonRepudiation`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("nonRepudiation") {
            return Ok(KeyUsage::ContentCommitment);
        }
        KeyUsage::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown key usage {s:?} (use {})",
                    KeyUsage::ALL.map(KeyUsage::as_str).join(", ")
                )
            })
    }
}

/// An extendedKeyUsage purpose (RFC 5280 §4.2.1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedKeyUsage {
    /// `codeSigning` (1.3.6.1.5.5.7.3.3).
    CodeSigning,
    /// `serverAuth` (1.3.6.1.5.5.7.3.1).
    ServerAuth,
    /// `clientAuth` (1.3.6.1.5.5.7.3.2).
    ClientAuth,
    /// `emailProtection` (1.3.6.1.5.5.7.3.4).
    EmailProtection,
    /// `timeStamping` (1.3.6.1.5.5.7.3.8).
    TimeStamping,
    /// `ocspSigning` (1.3.6.1.5.5.7.3.9).
    OcspSigning,
}

impl ExtendedKeyUsage {
    /// Every purpose signet issues.
    pub const ALL: [ExtendedKeyUsage; 6] = [
        ExtendedKeyUsage::CodeSigning,
        ExtendedKeyUsage::ServerAuth,
        ExtendedKeyUsage::ClientAuth,
        ExtendedKeyUsage::EmailProtection,
        ExtendedKeyUsage::TimeStamping,
        ExtendedKeyUsage::OcspSigning,
    ];

    /// The name written in profiles (`codeSigning`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ExtendedKeyUsage::CodeSigning => "codeSigning",
            ExtendedKeyUsage::ServerAuth => "serverAuth",
            ExtendedKeyUsage::ClientAuth => "clientAuth",
            ExtendedKeyUsage::EmailProtection => "emailProtection",
            ExtendedKeyUsage::TimeStamping => "timeStamping",
            ExtendedKeyUsage::OcspSigning => "ocspSigning",
        }
    }
}

impl fmt::Display for ExtendedKeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExtendedKeyUsage {
    type Err = String;

    /// The name in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        ExtendedKeyUsage::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown extended key usage {s:?} (use {})",
                    ExtendedKeyUsage::ALL
                        .map(ExtendedKeyUsage::as_str)
                        .join(", ")
                )
            })
    }
}

/// A leaf usage rule that failed (see [`check_leaf_usages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageProblem {
    /// `keyUsage` or `extendedKeyUsage`.
    pub(crate) field: &'static str,
    /// What is wrong.
    pub(crate) reason: String,
    /// Whether only the Notary Project rules refuse it.
    pub(crate) notation: bool,
}

/// The rules every leaf's usages follow, shared by profiles and issuance: non-empty lists
/// without repetitions, no keyCertSign, digitalSignature for code signing, and with
/// `notation` the Notary Project's leaf rules.
pub(crate) fn check_leaf_usages(
    key_usages: &[KeyUsage],
    extended_key_usages: &[ExtendedKeyUsage],
    notation: bool,
) -> Result<(), UsageProblem> {
    let problem = |field: &'static str, reason: String, notation: bool| UsageProblem {
        field,
        reason,
        notation,
    };
    check_list("keyUsage", key_usages).map_err(|reason| problem("keyUsage", reason, false))?;
    check_list("extendedKeyUsage", extended_key_usages)
        .map_err(|reason| problem("extendedKeyUsage", reason, false))?;
    if key_usages.contains(&KeyUsage::KeyCertSign) {
        return Err(problem(
            "keyUsage",
            "keyCertSign is for CA certificates, not end-entity ones".to_owned(),
            false,
        ));
    }
    let code_signing = extended_key_usages.contains(&ExtendedKeyUsage::CodeSigning);
    if code_signing && !key_usages.contains(&KeyUsage::DigitalSignature) {
        return Err(problem(
            "keyUsage",
            "a code-signing certificate needs digitalSignature (verifiers refuse it otherwise)"
                .to_owned(),
            false,
        ));
    }
    if notation {
        if !key_usages.contains(&KeyUsage::DigitalSignature) {
            return Err(problem(
                "keyUsage",
                "the Notary Project requires digitalSignature".to_owned(),
                true,
            ));
        }
        if key_usages.contains(&KeyUsage::CrlSign) {
            return Err(problem(
                "keyUsage",
                "the Notary Project does not allow cRLSign in a signing certificate".to_owned(),
                true,
            ));
        }
        if !code_signing {
            return Err(problem(
                "extendedKeyUsage",
                "the Notary Project requires codeSigning".to_owned(),
                true,
            ));
        }
        if let Some(bad) = extended_key_usages.iter().find(|u| {
            matches!(
                u,
                ExtendedKeyUsage::ServerAuth
                    | ExtendedKeyUsage::EmailProtection
                    | ExtendedKeyUsage::TimeStamping
                    | ExtendedKeyUsage::OcspSigning
            )
        }) {
            return Err(problem(
                "extendedKeyUsage",
                format!("the Notary Project does not allow {bad} in a signing certificate"),
                true,
            ));
        }
    }
    Ok(())
}

fn check_list<T: PartialEq + fmt::Display>(field: &str, items: &[T]) -> Result<(), String> {
    if items.is_empty() {
        return Err(format!(
            "must not be empty (leave {field} out for the default)"
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(format!("{item} is listed more than once"));
        }
    }
    Ok(())
}

/// A certificate profile (see the module documentation for the schema and rules).
///
/// [`CertProfile::parse`] (and `Deserialize`) check everything; a profile built or changed in
/// code is checked again by [`CertProfile::validate`] before it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertProfile {
    /// `name`.
    pub name: String,
    /// `certificateType`.
    pub certificate_type: CertificateType,
    /// `validityDays`; `None` = the issuer's default for the certificate type.
    pub validity_days: Option<u32>,
    /// `keyUsage`; `None` = the default.
    pub key_usage: Option<Vec<KeyUsage>>,
    /// `extendedKeyUsage`; `None` = the default.
    pub extended_key_usage: Option<Vec<ExtendedKeyUsage>>,
    /// `subject`, in the usual attribute order.
    pub subject: DistinguishedName,
    /// `email`.
    pub email: Vec<String>,
    /// `uri`.
    pub uri: Vec<String>,
    /// `oidcIssuer`.
    pub oidc_issuer: Option<String>,
    /// `pathLen`.
    pub path_len: Option<u8>,
    /// `notation`.
    pub notation: bool,
}

impl CertProfile {
    /// Reads a profile from a YAML or JSON document and checks it.
    pub fn parse(bytes: &[u8]) -> Result<CertProfile, ProfileError> {
        let syntax = |reason: String| ProfileError::Syntax { reason };
        let text =
            std::str::from_utf8(bytes).map_err(|e| syntax(format!("not UTF-8 text ({e})")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| syntax(format!("JSON: {e}")))?
        } else {
            serde_norway::from_str(text).map_err(|e| syntax(format!("YAML: {e}")))?
        };
        CertProfile::from_value(&value)
    }

    /// Reads a profile from a JSON value (as [`CertProfile::to_json`] writes it) and checks it.
    pub fn from_value(value: &Value) -> Result<CertProfile, ProfileError> {
        let Value::Object(map) = value else {
            return Err(ProfileError::Syntax {
                reason: format!(
                    "a profile is a mapping of fields (name, certificateType, ...), not {}",
                    kind(value)
                ),
            });
        };
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(field_error(
                unknown.as_str(),
                format!("unknown field (the fields are {})", FIELDS.join(", ")),
            ));
        }
        let get = |name: &str| map.get(name).filter(|v| !v.is_null());
        let name = match get("name") {
            Some(v) => string("name", v)?,
            None => return Err(field_error("name", "required")),
        };
        let certificate_type = match get("certificateType") {
            Some(v) => string("certificateType", v)?
                .parse()
                .map_err(|e: String| field_error("certificateType", e))?,
            None => CertificateType::default(),
        };
        let validity_days = get("validityDays")
            .map(|v| {
                integer("validityDays", v, 1, u64::from(MAX_VALIDITY_DAYS)).and_then(|n| {
                    u32::try_from(n)
                        .map_err(|_| range_error("validityDays", 1, u64::from(MAX_VALIDITY_DAYS)))
                })
            })
            .transpose()?;
        let key_usage = get("keyUsage")
            .map(|v| parsed_list::<KeyUsage>("keyUsage", v))
            .transpose()?;
        let extended_key_usage = get("extendedKeyUsage")
            .map(|v| parsed_list::<ExtendedKeyUsage>("extendedKeyUsage", v))
            .transpose()?;
        let subject = match get("subject") {
            Some(v) => subject(v)?,
            None => DistinguishedName::new(),
        };
        let email = get("email")
            .map(|v| strings("email", v))
            .transpose()?
            .unwrap_or_default();
        let uri = get("uri")
            .map(|v| strings("uri", v))
            .transpose()?
            .unwrap_or_default();
        let oidc_issuer = get("oidcIssuer")
            .map(|v| string("oidcIssuer", v))
            .transpose()?;
        let path_len = get("pathLen")
            .map(|v| {
                integer("pathLen", v, 0, u64::from(u8::MAX))
                    .and_then(|n| u8::try_from(n).map_err(|_| range_error("pathLen", 0, 255)))
            })
            .transpose()?;
        let notation = match get("notation") {
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(field_error(
                    "notation",
                    format!("must be true or false, not {}", kind(other)),
                ));
            }
            None => false,
        };
        let profile = CertProfile {
            name,
            certificate_type,
            validity_days,
            key_usage,
            extended_key_usage,
            subject,
            email,
            uri,
            oidc_issuer,
            path_len,
            notation,
        };
        profile.validate()?;
        Ok(profile)
    }

    /// Checks the values and the rules between fields (see the module documentation).
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name.trim().is_empty() {
            return Err(field_error("name", "must not be empty"));
        }
        if self.name.chars().any(char::is_control) {
            return Err(field_error("name", "must not contain control characters"));
        }
        if let Some(days) = self.validity_days
            && !(1..=MAX_VALIDITY_DAYS).contains(&days)
        {
            return Err(range_error("validityDays", 1, u64::from(MAX_VALIDITY_DAYS)));
        }
        for e in &self.email {
            check_email(e).map_err(|reason| field_error("email", reason))?;
        }
        for u in &self.uri {
            check_uri(u).map_err(|reason| field_error("uri", reason))?;
        }
        if let Some(issuer) = &self.oidc_issuer {
            check_oidc_issuer(issuer).map_err(|reason| field_error("oidcIssuer", reason))?;
        }
        let kind = self.certificate_type;
        if kind.is_ca() {
            let leaf_only = |field: &str| {
                field_error(
                    field,
                    format!("only for ENDENTITY profiles, not {}", kind.as_str()),
                )
            };
            if self.extended_key_usage.is_some() {
                return Err(leaf_only("extendedKeyUsage"));
            }
            if !self.email.is_empty() {
                return Err(leaf_only("email"));
            }
            if !self.uri.is_empty() {
                return Err(leaf_only("uri"));
            }
            if self.oidc_issuer.is_some() {
                return Err(leaf_only("oidcIssuer"));
            }
            if let Some(usages) = &self.key_usage {
                check_list("keyUsage", usages).map_err(|reason| field_error("keyUsage", reason))?;
                if !usages.contains(&KeyUsage::KeyCertSign) {
                    return Err(field_error(
                        "keyUsage",
                        format!("a {} profile needs keyCertSign", kind.as_str()),
                    ));
                }
            }
            return Ok(());
        }
        if self.path_len.is_some() {
            return Err(field_error(
                "pathLen",
                "only for ROOT and INTERMEDIATE profiles",
            ));
        }
        check_leaf_usages(
            self.key_usage
                .as_deref()
                .unwrap_or(&[KeyUsage::DigitalSignature]),
            self.extended_key_usage
                .as_deref()
                .unwrap_or(&[ExtendedKeyUsage::CodeSigning]),
            self.notation,
        )
        .map_err(|p| field_error(p.field, p.reason))?;
        if self.is_code_signing() {
            if self.email.is_empty() && self.uri.is_empty() {
                return Err(field_error(
                    "email",
                    "a code-signing profile needs at least one email or uri (the identity \
                     cosign checks with --certificate-identity)",
                ));
            }
            if self.oidc_issuer.is_none() {
                return Err(field_error(
                    "oidcIssuer",
                    "required for a code-signing profile (cosign checks it with \
                     --certificate-oidc-issuer)",
                ));
            }
        }
        Ok(())
    }

    /// Whether this is an ENDENTITY profile for code signing (`extendedKeyUsage` absent or
    /// containing `codeSigning`).
    pub fn is_code_signing(&self) -> bool {
        self.certificate_type == CertificateType::EndEntity
            && self
                .extended_key_usage
                .as_ref()
                .is_none_or(|u| u.contains(&ExtendedKeyUsage::CodeSigning))
    }

    /// The hosted service's envelope value for the certificate type: `END`, `SUB` or `ROOT`.
    pub fn profile_type(&self) -> &'static str {
        match self.certificate_type {
            CertificateType::EndEntity => "END",
            CertificateType::Intermediate => "SUB",
            CertificateType::Root => "ROOT",
        }
    }

    /// The hosted service's numeric certificate type: END 1, SUB 2, ROOT 3.
    pub fn profile_type_value(&self) -> u32 {
        match self.certificate_type {
            CertificateType::EndEntity => 1,
            CertificateType::Intermediate => 2,
            CertificateType::Root => 3,
        }
    }

    /// The profile as a JSON object with the document's field names. Absent fields are left
    /// out (and `notation` when false); a single email or URI is written as a string, several
    /// as a list; `SUBCA` is written as `INTERMEDIATE`. Parsing the result gives this profile.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), Value::String(self.name.clone()));
        out.insert(
            "certificateType".into(),
            Value::String(self.certificate_type.as_str().to_owned()),
        );
        if let Some(days) = self.validity_days {
            out.insert("validityDays".into(), Value::from(days));
        }
        if let Some(usages) = &self.key_usage {
            out.insert("keyUsage".into(), names(usages));
        }
        if let Some(usages) = &self.extended_key_usage {
            out.insert("extendedKeyUsage".into(), names(usages));
        }
        if !self.subject.is_empty() {
            let subject: Map<String, Value> = self
                .subject
                .entries()
                .iter()
                .map(|(ty, value)| (ty.short_name().to_owned(), Value::String(value.clone())))
                .collect();
            out.insert("subject".into(), Value::Object(subject));
        }
        for (field, values) in [("email", &self.email), ("uri", &self.uri)] {
            match values.as_slice() {
                [] => {}
                [one] => {
                    out.insert(field.into(), Value::String(one.clone()));
                }
                many => {
                    out.insert(
                        field.into(),
                        many.iter().cloned().map(Value::String).collect(),
                    );
                }
            }
        }
        if let Some(issuer) = &self.oidc_issuer {
            out.insert("oidcIssuer".into(), Value::String(issuer.clone()));
        }
        if let Some(n) = self.path_len {
            out.insert("pathLen".into(), Value::from(n));
        }
        if self.notation {
            out.insert("notation".into(), Value::Bool(true));
        }
        Value::Object(out)
    }

    /// The subject for a certificate issued with this profile: the profile's subject plus
    /// `CN = cn`, unless the profile's subject has a CN, which then wins.
    pub fn subject_with_cn(&self, cn: &str) -> Result<DistinguishedName, ProfileError> {
        if self.subject.common_name().is_some() {
            return Ok(self.subject.clone());
        }
        let mut out = DistinguishedName::new();
        for ty in AttributeType::ALL {
            if ty == AttributeType::CommonName {
                out.push(ty, cn)
                    .map_err(|reason| ProfileError::CommonName {
                        value: cn.to_owned(),
                        reason,
                    })?;
            }
            for (t, value) in self.subject.entries() {
                if *t == ty {
                    out.push(ty, value)
                        .map_err(|reason| field_error("subject", reason))?;
                }
            }
        }
        Ok(out)
    }

    /// The profile's [`Profile`] rules for issuance.
    pub fn issue_profile(&self) -> Profile {
        if self.notation {
            Profile::Notation
        } else {
            Profile::Cosign
        }
    }

    fn require_end_entity(&self, what: &str) -> Result<(), ProfileError> {
        if self.certificate_type == CertificateType::EndEntity {
            Ok(())
        } else {
            Err(field_error(
                "certificateType",
                format!(
                    "{what} needs an ENDENTITY profile, not {}",
                    self.certificate_type.as_str()
                ),
            ))
        }
    }
}

impl LeafRequest {
    /// The leaf `profile` describes for the common name `cn` (see
    /// [`CertProfile::subject_with_cn`]); the profile is checked first and must be an
    /// ENDENTITY one.
    pub fn from_profile(profile: &CertProfile, cn: &str) -> Result<LeafRequest, ProfileError> {
        profile.validate()?;
        profile.require_end_entity("a leaf certificate")?;
        Ok(LeafRequest {
            subject: Some(profile.subject_with_cn(cn)?),
            emails: profile.email.clone(),
            uris: profile.uri.clone(),
            oidc_issuer: profile.oidc_issuer.clone(),
            validity_days: profile.validity_days,
            profile: profile.issue_profile(),
            key_usages: profile.key_usage.clone(),
            extended_key_usages: profile.extended_key_usage.clone(),
        })
    }
}

impl CsrRequest {
    /// A CSR asking for what `profile` describes, for the common name `cn` (see
    /// [`CertProfile::subject_with_cn`]); the profile is checked first and must be an
    /// ENDENTITY one.
    pub fn from_profile(profile: &CertProfile, cn: &str) -> Result<CsrRequest, ProfileError> {
        profile.validate()?;
        profile.require_end_entity("a certificate signing request")?;
        Ok(CsrRequest {
            subject: profile.subject_with_cn(cn)?,
            emails: profile.email.clone(),
            uris: profile.uri.clone(),
            oidc_issuer: profile.oidc_issuer.clone(),
            key_usages: profile.key_usage.clone(),
            extended_key_usages: profile.extended_key_usage.clone(),
        })
    }
}

impl Serialize for CertProfile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CertProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CertProfile::from_value(&value).map_err(serde::de::Error::custom)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn range_error(field: &str, min: u64, max: u64) -> ProfileError {
    field_error(field, format!("must be between {min} and {max}"))
}

fn string(field: &str, value: &Value) -> Result<String, ProfileError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(field_error(
            field,
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

fn integer(field: &str, value: &Value, min: u64, max: u64) -> Result<u64, ProfileError> {
    let Value::Number(n) = value else {
        return Err(field_error(
            field,
            format!("must be a whole number, not {}", kind(value)),
        ));
    };
    match (n.as_u64(), n.as_i64()) {
        (Some(n), _) if (min..=max).contains(&n) => Ok(n),
        (Some(_), _) | (None, Some(_)) => Err(range_error(field, min, max)),
        (None, None) => Err(field_error(
            field,
            format!("must be a whole number, not {n}"),
        )),
    }
}

/// A string or a list of strings.
fn strings(field: &str, value: &Value) -> Result<Vec<String>, ProfileError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(field_error(
                    field,
                    format!(
                        "must be a string or a list of strings, not a list with {}",
                        kind(other)
                    ),
                )),
            })
            .collect(),
        other => Err(field_error(
            field,
            format!("must be a string or a list of strings, not {}", kind(other)),
        )),
    }
}

/// A list of names, each parsed, without repetitions and not empty.
fn parsed_list<T>(field: &str, value: &Value) -> Result<Vec<T>, ProfileError>
where
    T: FromStr<Err = String> + PartialEq + fmt::Display,
{
    let Value::Array(items) = value else {
        return Err(field_error(
            field,
            format!("must be a list, not {}", kind(value)),
        ));
    };
    let parsed = items
        .iter()
        .map(|item| match item {
            Value::String(s) => s.parse::<T>().map_err(|e| field_error(field, e)),
            other => Err(field_error(
                field,
                format!("must be a list of names, not a list with {}", kind(other)),
            )),
        })
        .collect::<Result<Vec<T>, _>>()?;
    check_list(field, &parsed).map_err(|reason| field_error(field, reason))?;
    Ok(parsed)
}

fn names<T: fmt::Display>(items: &[T]) -> Value {
    items.iter().map(|u| Value::String(u.to_string())).collect()
}

/// The `subject` mapping, in the usual attribute order.
fn subject(value: &Value) -> Result<DistinguishedName, ProfileError> {
    let Value::Object(map) = value else {
        return Err(field_error(
            "subject",
            format!(
                "must be a mapping of attributes (C, ST, L, O, OU, CN, ...) to values, not {}",
                kind(value)
            ),
        ));
    };
    let mut attributes: Vec<(AttributeType, String)> = Vec::new();
    for (name, value) in map {
        let ty: AttributeType = name
            .parse()
            .map_err(|e: String| field_error("subject", e))?;
        if attributes.iter().any(|(t, _)| *t == ty) {
            return Err(field_error(
                "subject",
                format!("{ty} is given more than once"),
            ));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.is_u64() => n.to_string(),
            other => {
                return Err(field_error(
                    "subject",
                    format!("{ty} must be a string, not {}", kind(other)),
                ));
            }
        };
        attributes.push((ty, text));
    }
    let mut dn = DistinguishedName::new();
    for ty in AttributeType::ALL {
        if let Some((_, value)) = attributes.iter().find(|(t, _)| *t == ty) {
            dn.push(ty, value)
                .map_err(|reason| field_error("subject", reason))?;
        }
    }
    Ok(dn)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rstest::rstest;

    use super::*;

    const EXAMPLE: &str = r#"{"name":"oci-signing","certificateType":"ENDENTITY","validityDays":365,"keyUsage":["digitalSignature"],"extendedKeyUsage":["codeSigning"],"subject":{"C":"FI","O":"Acme"},"email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;

    #[test]
    fn parses_the_documented_example() {
        let p = CertProfile::parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(p.name, "oci-signing");
        assert_eq!(p.certificate_type, CertificateType::EndEntity);
        assert_eq!(p.validity_days, Some(365));
        assert_eq!(p.key_usage, Some(vec![KeyUsage::DigitalSignature]));
        assert_eq!(
            p.extended_key_usage,
            Some(vec![ExtendedKeyUsage::CodeSigning])
        );
        assert_eq!(p.subject.to_subj(), "/C=FI/O=Acme");
        assert_eq!(p.email, ["ci@acme.example"]);
        assert!(p.uri.is_empty());
        assert_eq!(p.oidc_issuer.as_deref(), Some("https://acme.example"));
        assert!(!p.notation);
        assert_eq!(p.profile_type(), "END");
        assert_eq!(p.profile_type_value(), 1);
        // to_json writes what was parsed.
        let expected: Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(p.to_json(), expected);
        // Serialize / Deserialize go through the same schema.
        let text = serde_json::to_string(&p).unwrap();
        let back: CertProfile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
        let yaml = serde_norway::to_string(&p).unwrap();
        assert_eq!(CertProfile::parse(yaml.as_bytes()).unwrap(), p);
        let via_serde: CertProfile = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(via_serde, p);
    }

    #[test]
    fn parses_yaml() {
        let yaml = "
name: release
certificateType: subca   # the hosted service's name
validityDays: 1825
pathLen: 0
subject:
  O: Acme
  C: FI
  OU: Release
keyUsage: [keyCertSign, crlsign]
";
        let p = CertProfile::parse(yaml.as_bytes()).unwrap();
        assert_eq!(p.certificate_type, CertificateType::Intermediate);
        assert_eq!(p.profile_type(), "SUB");
        assert_eq!(p.profile_type_value(), 2);
        assert_eq!(p.path_len, Some(0));
        // The usual order, whatever the document's.
        assert_eq!(p.subject.to_subj(), "/C=FI/O=Acme/OU=Release");
        assert_eq!(
            p.key_usage,
            Some(vec![KeyUsage::KeyCertSign, KeyUsage::CrlSign])
        );
        let json = p.to_json();
        assert_eq!(json["certificateType"], "INTERMEDIATE");
        assert_eq!(
            json["keyUsage"],
            serde_json::json!(["keyCertSign", "cRLSign"])
        );
        assert_eq!(CertProfile::from_value(&json).unwrap(), p);

        let root = CertProfile::parse(b"name: root\ncertificateType: ROOT\n").unwrap();
        assert_eq!(
            (root.profile_type(), root.profile_type_value()),
            ("ROOT", 3)
        );
    }

    #[test]
    fn lists_and_aliases() {
        let yaml = "
name: multi
email: [a@example.com, b@example.com]
uri: https://ci.example/job
oidcIssuer: https://issuer.example
keyUsage: [digitalSignature, nonRepudiation]
notation: true
";
        let p = CertProfile::parse(yaml.as_bytes()).unwrap();
        assert_eq!(
            p.certificate_type,
            CertificateType::EndEntity,
            "the default"
        );
        assert_eq!(p.email, ["a@example.com", "b@example.com"]);
        assert_eq!(p.uri, ["https://ci.example/job"]);
        assert_eq!(
            p.key_usage,
            Some(vec![
                KeyUsage::DigitalSignature,
                KeyUsage::ContentCommitment
            ])
        );
        assert!(p.notation);
        assert_eq!(p.issue_profile(), Profile::Notation);
        let json = p.to_json();
        assert_eq!(
            json["email"],
            serde_json::json!(["a@example.com", "b@example.com"])
        );
        assert_eq!(json["uri"], "https://ci.example/job");
        assert_eq!(json["keyUsage"][1], "contentCommitment");
        assert_eq!(json["notation"], true);
        assert_eq!(CertProfile::from_value(&json).unwrap(), p);
    }

    #[rstest]
    #[case("", "invalid profile document")]
    #[case("[1, 2]", "not a list")]
    #[case("name: [unclosed", "YAML")]
    #[case(r#"{"name": "x",}"#, "JSON")]
    #[case("certificateType: ROOT", "name: required")]
    #[case("name: ''\ncertificateType: ROOT", "name: must not be empty")]
    #[case("name: x\ncertificateType: ROOT\nfoo: 1", "foo: unknown field")]
    #[case(
        "name: x\ncertificateType: ROOT\nValidityDays: 1",
        "ValidityDays: unknown field"
    )]
    #[case(
        "name: x\ncertificateType: LEAF",
        "certificateType: unknown type \"LEAF\""
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nvalidityDays: 0",
        "validityDays: must be between 1 and 36500"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nvalidityDays: 36501",
        "validityDays: must be between 1 and 36500"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nvalidityDays: -5",
        "validityDays: must be between 1 and 36500"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nvalidityDays: 1.5",
        "validityDays: must be a whole number"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nvalidityDays: '365'",
        "validityDays: must be a whole number, not a string"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\npathLen: 256",
        "pathLen: must be between 0 and 255"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nkeyUsage: [bogus]",
        "keyUsage: unknown key usage \"bogus\""
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nkeyUsage: keyCertSign",
        "keyUsage: must be a list"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nkeyUsage: []",
        "keyUsage: must not be empty"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nkeyUsage: [cRLSign]",
        "keyUsage: a ROOT profile needs keyCertSign"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nkeyUsage: [keyCertSign, keyCertSign]",
        "keyUsage: keyCertSign is listed more than once"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nemail: a@b.c",
        "email: only for ENDENTITY profiles, not ROOT"
    )]
    #[case(
        "name: x\ncertificateType: INTERMEDIATE\nextendedKeyUsage: [codeSigning]",
        "extendedKeyUsage: only for ENDENTITY profiles"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nsubject: {XX: 1}",
        "subject: unknown attribute type \"XX\""
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nsubject: {C: Finland}",
        "subject: C is 7 characters long"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nsubject: {CN: a, cn: b}",
        "subject: CN is given more than once"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nsubject: CN=x",
        "subject: must be a mapping"
    )]
    #[case(
        "name: x\ncertificateType: ROOT\nnotation: yes",
        "notation: must be true or false"
    )]
    #[case(
        "name: x\nemail: a@b.c\noidcIssuer: https://i\npathLen: 0",
        "pathLen: only for ROOT and INTERMEDIATE"
    )]
    #[case(
        "name: x\noidcIssuer: https://i",
        "email: a code-signing profile needs at least one email or uri"
    )]
    #[case(
        "name: x\nemail: a@b.c",
        "oidcIssuer: required for a code-signing profile"
    )]
    #[case(
        "name: x\nemail: not-an-email\noidcIssuer: https://i",
        "email: invalid email address"
    )]
    #[case("name: x\nuri: 'no scheme'\noidcIssuer: https://i", "uri: invalid URI")]
    #[case(
        "name: x\nemail: [a@b.c, 3]\noidcIssuer: https://i",
        "email: must be a string or a list of strings"
    )]
    #[case(
        "name: x\nemail: a@b.c\noidcIssuer: ''",
        "oidcIssuer: invalid OIDC issuer"
    )]
    #[case(
        "name: x\nemail: a@b.c\noidcIssuer: https://i\nkeyUsage: [digitalSignature, keyCertSign]",
        "keyUsage: keyCertSign is for CA certificates"
    )]
    #[case(
        "name: x\nemail: a@b.c\noidcIssuer: https://i\nkeyUsage: [keyEncipherment]",
        "keyUsage: a code-signing certificate needs digitalSignature"
    )]
    #[case(
        "name: x\nemail: a@b.c\noidcIssuer: https://i\nextendedKeyUsage: [codeSigning, serverAuth]\nnotation: true",
        "extendedKeyUsage: the Notary Project does not allow serverAuth"
    )]
    #[case(
        "name: x\nextendedKeyUsage: [clientAuth]\nnotation: true",
        "extendedKeyUsage: the Notary Project requires codeSigning"
    )]
    fn refuses(#[case] doc: &str, #[case] expected: &str) {
        let err = CertProfile::parse(doc.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(expected), "{doc:?}: {err}");
    }

    #[test]
    fn non_code_signing_leaves_need_no_identity() {
        let p = CertProfile::parse(
            b"name: tls\nextendedKeyUsage: [clientAuth]\nkeyUsage: [keyAgreement]",
        )
        .unwrap();
        assert!(!p.is_code_signing());
        let req = LeafRequest::from_profile(&p, "client").unwrap();
        assert_eq!(req.oidc_issuer, None);
        assert_eq!(req.key_usages, Some(vec![KeyUsage::KeyAgreement]));
    }

    #[test]
    fn subject_with_cn() {
        let p = CertProfile::parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(
            p.subject_with_cn("build 42").unwrap().to_subj(),
            "/C=FI/O=Acme/CN=build 42"
        );
        let err = p.subject_with_cn("").unwrap_err();
        assert!(matches!(err, ProfileError::CommonName { .. }), "{err}");
        let mut with_cn = p.clone();
        with_cn.subject = DistinguishedName::parse("/C=FI/O=Acme/OU=CI/CN=Fixed").unwrap();
        assert_eq!(
            with_cn.subject_with_cn("ignored").unwrap().to_subj(),
            "/C=FI/O=Acme/OU=CI/CN=Fixed"
        );
        let mut bare = p;
        bare.subject = DistinguishedName::new();
        assert_eq!(bare.subject_with_cn("x").unwrap().to_subj(), "/CN=x");
    }

    #[test]
    fn requests_from_a_profile() {
        let p = CertProfile::parse(EXAMPLE.as_bytes()).unwrap();
        let leaf = LeafRequest::from_profile(&p, "ci").unwrap();
        assert_eq!(
            leaf.subject
                .as_ref()
                .map(DistinguishedName::to_subj)
                .as_deref(),
            Some("/C=FI/O=Acme/CN=ci")
        );
        assert_eq!(leaf.emails, ["ci@acme.example"]);
        assert_eq!(leaf.oidc_issuer.as_deref(), Some("https://acme.example"));
        assert_eq!(leaf.validity_days, Some(365));
        assert_eq!(leaf.profile, Profile::Cosign);
        assert_eq!(leaf.key_usages, Some(vec![KeyUsage::DigitalSignature]));
        let csr = CsrRequest::from_profile(&p, "ci").unwrap();
        assert_eq!(csr.subject.to_subj(), "/C=FI/O=Acme/CN=ci");
        assert_eq!(
            csr.extended_key_usages,
            Some(vec![ExtendedKeyUsage::CodeSigning])
        );

        let root = CertProfile::parse(b"name: r\ncertificateType: ROOT").unwrap();
        let err = LeafRequest::from_profile(&root, "x").unwrap_err();
        assert!(
            err.to_string()
                .contains("certificateType: a leaf certificate needs an ENDENTITY profile"),
            "{err}"
        );
        assert!(CsrRequest::from_profile(&root, "x").is_err());

        // A profile changed in code is checked again.
        let mut bad = p;
        bad.validity_days = Some(0);
        let err = LeafRequest::from_profile(&bad, "x").unwrap_err();
        assert_eq!(err.to_string(), "validityDays: must be between 1 and 36500");
    }
}
