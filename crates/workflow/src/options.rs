//! How a signing request wants its signature made: the hosted service's `optionalParameters`.
//!
//! On the wire they are an array of one-property objects, e.g.
//! `[{"signaturePadding":"PSS"},{"saltLength":32},{"signatureEncoding":"RAW"}]`. signet
//! supports:
//!
//! - `signaturePadding`: `PKCS_v1_5` (default) or `PSS` (RSASSA-PSS, MGF1 with the digest's
//!   hash). Applies to RSA keys; ECDSA keys ignore it, as on the hosted service. `NONE` is
//!   refused.
//! - `saltLength`: only the length of the digest (32, 48 or 64), as a number or the string
//!   `"hash"`, and only with `PSS`.
//! - `signatureEncoding`: `DER` (default) or `RAW` (fixed-size `r||s`) for ECDSA. An RSA
//!   signature has one form (the big-endian integer as long as the modulus), which both
//!   names denote, so RSA keys accept either and sign the same way.
//! - `signatureFormat`: `PKCS1` only (the default: a bare signature; `CMS` is refused).
//! - `hashAlgorithm`: the same as the request's top-level `hashAlgorithm` (an alias; when both
//!   are given they must agree).
//!
//! Anything else is refused with its name. The parsed [`SigningOptions`] keep only what was
//! given (so the stored request shows what the requester asked for); the effective values
//! come from [`SigningOptions::padding`] and [`SigningOptions::encoding`].

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::digest::HashAlgorithm;
use crate::wire::wire_enum;
use crate::{Error, Result};

wire_enum! {
    /// `signaturePadding`: how an RSA signature pads the digest. `NONE` is not supported.
    SignaturePadding, "signature padding", unsupported: ["NONE"],
    {
        /// RSASSA-PKCS1-v1_5 (the default).
        Pkcs1v15 = "PKCS_v1_5",
        /// RSASSA-PSS, MGF1 with the digest's hash, salt as long as the digest.
        Pss = "PSS",
    }
}

wire_enum! {
    /// `signatureEncoding`: how an ECDSA signature is written. `RAW_LE` is not supported.
    SignatureEncoding, "signature encoding", unsupported: ["RAW_LE"],
    {
        /// ASN.1 DER `Ecdsa-Sig-Value` (the default; what cosign writes).
        Der = "DER",
        /// Fixed-size big-endian `r||s` (IEEE P1363; what JWS ES256 and COSE use).
        Raw = "RAW",
    }
}

wire_enum! {
    /// `signatureFormat`: a bare signature. `CMS` is not supported.
    SignatureFormat, "signature format", unsupported: ["CMS"],
    {
        /// The signature itself (the default).
        Pkcs1 = "PKCS1",
    }
}

/// `saltLength`: the PSS salt length, as bytes or `"hash"` (the digest's length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaltLength {
    /// `"hash"`: as long as the digest.
    Hash,
    /// A number of bytes.
    Bytes(u32),
}

impl SaltLength {
    /// The length in bytes for digests of `hash`.
    pub fn bytes_for(self, hash: HashAlgorithm) -> usize {
        match self {
            SaltLength::Hash => hash.digest_len(),
            SaltLength::Bytes(n) => usize::try_from(n).unwrap_or(usize::MAX),
        }
    }

    /// The wire value: the number, or `"hash"`.
    pub fn to_json(self) -> Value {
        match self {
            SaltLength::Hash => Value::from("hash"),
            SaltLength::Bytes(n) => Value::from(n),
        }
    }

    /// Parses a JSON number, a string of digits, or `"hash"`.
    pub fn from_json(value: &Value) -> std::result::Result<SaltLength, String> {
        let bad = || format!("{value} is not a salt length (a number of bytes, or \"hash\")");
        match value {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(SaltLength::Bytes)
                .ok_or_else(bad),
            Value::String(s) if s == "hash" => Ok(SaltLength::Hash),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse::<u32>().map(SaltLength::Bytes).map_err(|_| bad())
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for SaltLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaltLength::Hash => f.write_str("hash"),
            SaltLength::Bytes(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for SaltLength {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            SaltLength::Hash => s.serialize_str("hash"),
            SaltLength::Bytes(n) => s.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for SaltLength {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct SaltVisitor;
        impl Visitor<'_> for SaltVisitor {
            type Value = SaltLength;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a salt length (a number of bytes, or \"hash\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<SaltLength, E> {
                SaltLength::from_json(&Value::from(v)).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<SaltLength, E> {
                SaltLength::from_json(&Value::from(v)).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<SaltLength, E> {
                SaltLength::from_json(&Value::from(v)).map_err(E::custom)
            }
        }
        d.deserialize_any(SaltVisitor)
    }
}

/// The parameter names signet reads, in the order [`SigningOptions::to_parameters`] writes them.
pub const SUPPORTED: [&str; 5] = [
    "hashAlgorithm",
    "signaturePadding",
    "saltLength",
    "signatureEncoding",
    "signatureFormat",
];

/// Parameters of the hosted service that signet knows and does not implement (CMS output).
const NOT_IMPLEMENTED: [&str; 8] = [
    "cmsCertificates",
    "cmsSignedAttributes",
    "cmsExtraAttributes",
    "cmsSignerIdentifier",
    "cmsEmbedCertificates",
    "cmsContentType",
    "cmsContent",
    "cmsPreset",
];

/// The optional parameters a request was submitted with (each `None` when not given).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningOptions {
    /// `hashAlgorithm` (an alias of the request's top-level field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<HashAlgorithm>,
    /// `signaturePadding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_padding: Option<SignaturePadding>,
    /// `saltLength`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt_length: Option<SaltLength>,
    /// `signatureEncoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_encoding: Option<SignatureEncoding>,
    /// `signatureFormat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_format: Option<SignatureFormat>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedOptionalParameters {
        reason: reason.into(),
    }
}

fn unsupported(parameter: &str, reason: impl Into<String>) -> Error {
    Error::UnsupportedOptionalParameter {
        parameter: parameter.chars().take(64).collect(),
        reason: reason.into(),
    }
}

impl SigningOptions {
    /// Parses the wire array (`[{"signaturePadding":"PSS"}, …]`). Each element must be an
    /// object with exactly one property; a name may appear once; unknown names and
    /// unsupported values are refused naming them.
    pub fn parse(value: &Value) -> Result<SigningOptions> {
        let items = value.as_array().ok_or_else(|| {
            malformed(
                "must be an array of one-property objects, e.g. [{\"signaturePadding\":\"PSS\"}]",
            )
        })?;
        let mut options = SigningOptions::default();
        for (i, item) in items.iter().enumerate() {
            let object = item
                .as_object()
                .ok_or_else(|| malformed(format!("[{i}] is not an object")))?;
            let mut properties = object.iter();
            let (Some((name, value)), None) = (properties.next(), properties.next()) else {
                return Err(malformed(format!(
                    "[{i}] must have exactly one property, not {}",
                    object.len()
                )));
            };
            options.set(name, value)?;
        }
        Ok(options)
    }

    fn set(&mut self, name: &str, value: &Value) -> Result<()> {
        fn once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<()> {
            if slot.is_some() {
                return Err(unsupported(name, "given more than once"));
            }
            *slot = Some(value);
            Ok(())
        }
        let text = |value: &Value| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| unsupported(name, format!("{value} is not a string")))
        };
        match name {
            "hashAlgorithm" => {
                let hash = HashAlgorithm::parse(&text(value)?).map_err(|m| unsupported(name, m))?;
                once(&mut self.hash_algorithm, name, hash)
            }
            "signaturePadding" => {
                let padding =
                    SignaturePadding::parse(&text(value)?).map_err(|m| unsupported(name, m))?;
                once(&mut self.signature_padding, name, padding)
            }
            "saltLength" => {
                let salt = SaltLength::from_json(value).map_err(|m| unsupported(name, m))?;
                once(&mut self.salt_length, name, salt)
            }
            "signatureEncoding" => {
                let encoding =
                    SignatureEncoding::parse(&text(value)?).map_err(|m| unsupported(name, m))?;
                once(&mut self.signature_encoding, name, encoding)
            }
            "signatureFormat" => {
                let format =
                    SignatureFormat::parse(&text(value)?).map_err(|m| unsupported(name, m))?;
                once(&mut self.signature_format, name, format)
            }
            other if NOT_IMPLEMENTED.contains(&other) => Err(unsupported(
                other,
                format!(
                    "is not supported (CMS output is not implemented; supported: {})",
                    SUPPORTED.join(", ")
                ),
            )),
            other => Err(Error::UnknownOptionalParameter {
                parameter: other.chars().take(64).collect(),
            }),
        }
    }

    /// True when no parameter was given.
    pub fn is_empty(&self) -> bool {
        *self == SigningOptions::default()
    }

    /// The padding RSA keys sign with (`PKCS_v1_5` unless `PSS` was asked for).
    pub fn padding(&self) -> SignaturePadding {
        self.signature_padding.unwrap_or(SignaturePadding::Pkcs1v15)
    }

    /// The encoding of ECDSA signatures (`DER` unless `RAW` was asked for).
    pub fn encoding(&self) -> SignatureEncoding {
        self.signature_encoding.unwrap_or(SignatureEncoding::Der)
    }

    /// The request's hash algorithm from its top-level `hashAlgorithm` and this alias: either,
    /// or both when they agree.
    pub fn hash_algorithm_with(
        &self,
        top_level: Option<HashAlgorithm>,
    ) -> Result<Option<HashAlgorithm>> {
        match (top_level, self.hash_algorithm) {
            (Some(top), Some(alias)) if top != alias => Err(unsupported(
                "hashAlgorithm",
                format!("{alias} disagrees with the request's hashAlgorithm {top}"),
            )),
            (top, alias) => Ok(top.or(alias)),
        }
    }

    /// Checks the parameters against the request's hash: the salt length must be the
    /// digest's length, and only goes with `PSS`.
    pub fn check(&self, hash: HashAlgorithm) -> Result<()> {
        if let Some(alias) = self.hash_algorithm
            && alias != hash
        {
            return Err(unsupported(
                "hashAlgorithm",
                format!("{alias} disagrees with the request's hashAlgorithm {hash}"),
            ));
        }
        if let Some(salt) = self.salt_length {
            if self.padding() != SignaturePadding::Pss {
                return Err(unsupported(
                    "saltLength",
                    "applies to signaturePadding PSS only",
                ));
            }
            if salt.bytes_for(hash) != hash.digest_len() {
                return Err(unsupported(
                    "saltLength",
                    format!(
                        "{salt} is not supported: PSS salts here are as long as the digest ({} bytes for {hash}); give {} or \"hash\"",
                        hash.digest_len(),
                        hash.digest_len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The wire array of what was given, in a stable order (the `storedOptionalParameters`
    /// of the hosted service's answer).
    pub fn to_parameters(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut push = |name: &str, value: Value| {
            let mut object = serde_json::Map::new();
            object.insert(name.to_owned(), value);
            out.push(Value::Object(object));
        };
        if let Some(h) = self.hash_algorithm {
            push("hashAlgorithm", Value::from(h.as_str()));
        }
        if let Some(p) = self.signature_padding {
            push("signaturePadding", Value::from(p.as_str()));
        }
        if let Some(s) = self.salt_length {
            push("saltLength", s.to_json());
        }
        if let Some(e) = self.signature_encoding {
            push("signatureEncoding", Value::from(e.as_str()));
        }
        if let Some(f) = self.signature_format {
            push("signatureFormat", Value::from(f.as_str()));
        }
        out
    }
}
