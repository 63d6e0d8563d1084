//! Offline verification of cosign's Rekor bundle annotation (`dev.sigstore.cosign/bundle`),
//! as containers/image's `sigstoreSigned` requirement with `rekorPublicKeyPath`/`Data` and
//! cosign's `verify` do it (no network, no clock).
//!
//! The annotation is the JSON of cosign's `bundle.RekorBundle`:
//! `{"SignedEntryTimestamp":"<base64 SET>","Payload":{"body":"<base64 entry>","integratedTime":N,
//! "logIndex":N,"logID":"<hex>"}}`. The SET (signed entry timestamp) is an ECDSA signature, with
//! SHA-256 and ASN.1 DER, by the Rekor log's key over the RFC 8785 (JCS) canonical JSON of
//! `Payload`; `logID` is the lowercase hex SHA-256 of the log key's DER SPKI; `body` is the base64
//! of the log's canonical `hashedrekord` v0.0.1 entry, which names the signed payload's
//! SHA-256, the signature and the signer's public key or certificate (base64 of its PEM).
//!
//! [`verify_bundle`] checks, in containers/image's order (`signature/internal/rekor_set.go`
//! `VerifyRekorSET`): the exact key sets of the annotation, the SET against one of the trusted
//! Rekor keys, the entry kind and API version, that the entry's public key is the signer's
//! (DER of the PEM blocks), that its signature is the layer's signature (decoded bytes), that
//! the hash algorithm is SHA-256 and the hash is the payload's. The verified `integratedTime`
//! is the time at which the caller then checks a certificate's validity.
//!
//! Deliberate details, where the two Go implementations differ:
//!
//! * logID: cosign looks the Rekor key up by `logID` and fails when none matches;
//!   containers/image ignores `logID` and tries every key. Here keys whose logID matches are
//!   tried first and then the others, so exactly the bundles containers/image accepts are
//!   accepted (a SET genuinely signed by a trusted log key is accepted whatever `logID` claims).
//! * the signature comparison is on the decoded bytes (containers/image); cosign compares the
//!   base64 strings, which differs only for an annotation holding CR/LF (Go's decoder skips them).
//! * the hash value is compared after hex decoding (containers/image), so upper-case hex passes.
//! * the SET must be ASN.1 DER (as Go's `ecdsa.VerifyASN1`); P-384 and P-521 log keys verify the
//!   SET over SHA-256, as both Go implementations do with any ECDSA key. Non-ECDSA Rekor keys are
//!   refused, as containers/image refuses them in its policy.
//! * `integratedTime`/`logIndex` must be JSON integers (Go's `int64` fields refuse `1.0e9` too).
//!
//! Only `hashedrekord` 0.0.1 entries are accepted (what `cosign sign` has written since v1.x and
//! what containers/image accepts); very old `rekord` or `intoto` bodies are refused with their
//! kind, though [`RekorBundle::verify_set`] still verifies their SET.

use serde::{Deserialize, Serialize};
use signet_crypto::{KeyType, PrivateKey, PublicKey, SignatureAlgorithm};
use signet_oci::Digest;

use crate::gobase64;

/// The Rekor entry kind cosign writes for image signatures.
pub const HASHEDREKORD_KIND: &str = "hashedrekord";
/// The only `hashedrekord` API version there is.
pub const HASHEDREKORD_API_VERSION: &str = "0.0.1";

/// Why a Rekor bundle was refused. Messages are one line; where containers/image has a text for
/// the same failure, it is used verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RekorError {
    /// The annotation is not JSON of exactly `SignedEntryTimestamp` and `Payload` (with exactly
    /// `body`, `integratedTime`, `logIndex`, `logID`), or the SET is not base64.
    #[error("invalid Rekor bundle: {reason}")]
    MalformedBundle {
        /// What is wrong (the JSON parser's message).
        reason: String,
    },
    /// No Rekor key was given to verify with.
    #[error("no Rekor public key to verify the Rekor SET with")]
    NoRekorKeys,
    /// A trusted Rekor key is not an ECDSA key.
    #[error("Rekor public key {index} is not using ECDSA (it is {key_type})")]
    RekorKeyNotEcdsa {
        /// Position of the key in the list given.
        index: usize,
        /// Its type.
        key_type: KeyType,
    },
    /// No trusted Rekor key verifies the SET over the canonical payload.
    #[error("cryptographic signature verification of Rekor SET failed")]
    SetVerificationFailed,
    /// The entry in `Payload.body` is not base64 of a JSON Rekor entry, or lacks a field.
    #[error("invalid Rekor entry in SET: {reason}")]
    MalformedEntry {
        /// What is wrong.
        reason: String,
    },
    /// The entry is not a `hashedrekord`.
    #[error("unexpected Rekor entry kind {kind:?}")]
    UnexpectedKind {
        /// The kind found.
        kind: String,
    },
    /// The `hashedrekord` entry has another API version than 0.0.1.
    #[error("unsupported Rekor hashedrekord APIVersion {api_version:?}")]
    UnsupportedApiVersion {
        /// The version found.
        api_version: String,
    },
    /// The caller's certificate or public key PEM is not a single PEM block.
    #[error("public key or cert to be matched against publicKey in Rekor SET {reason}")]
    InvalidSignerPem {
        /// What is wrong, e.g. `is not in PEM format`.
        reason: String,
    },
    /// The entry's public key or certificate is not the signer's.
    #[error("publicKey in Rekor SET does not match")]
    PublicKeyMismatch,
    /// The layer's signature annotation is not base64.
    #[error("signature to be matched against Rekor SET is not base64: {reason}")]
    InvalidSignatureEncoding {
        /// The decoder's message.
        reason: String,
    },
    /// The entry's signature is not the layer's signature.
    #[error("signature in Rekor SET does not match")]
    SignatureMismatch,
    /// The entry's payload hash is not SHA-256.
    #[error("unexpected \"data.hash.algorithm\" value {algorithm:?} in Rekor SET")]
    UnsupportedHashAlgorithm {
        /// The algorithm found.
        algorithm: String,
    },
    /// The entry's payload hash is not the payload's SHA-256.
    #[error("payload in Rekor SET does not match")]
    PayloadMismatch,
    /// [`make_bundle`] could not sign (the log key is not ECDSA, or the signer failed).
    #[error("cannot make a Rekor SET: {reason}")]
    Signing {
        /// What failed.
        reason: String,
    },
}

/// A parsed (not yet verified) Rekor bundle annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    /// The SET: DER ECDSA signature by the log key (decoded from base64).
    pub signed_entry_timestamp: Vec<u8>,
    /// `Payload.body`: base64 of the canonical Rekor entry, exactly as in the annotation.
    pub body: String,
    /// `Payload.integratedTime`: Unix seconds at which the log integrated the entry.
    pub integrated_time: i64,
    /// `Payload.logIndex`: the entry's global index in the log.
    pub log_index: i64,
    /// `Payload.logID`: hex SHA-256 of the log key's DER SPKI (as claimed; see [`log_id`]).
    pub log_id: String,
}

/// What a verified bundle vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// Unix seconds at which the log integrated the entry (the reference time for certificates).
    pub integrated_time: i64,
    /// The entry's global log index.
    pub log_index: i64,
    /// The `logID` of the bundle.
    pub log_id: String,
}

/// The annotation's JSON, strictly: exactly these keys (containers/image
/// `paranoidUnmarshalJSONObjectExactFields`); serde also refuses duplicate keys, as it does.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RawPayload,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// cosign's Go types, in their field order, for [`RekorBundle::to_annotation`].
#[derive(Serialize)]
struct GoBundle<'a> {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: GoPayload<'a>,
}

#[derive(Serialize)]
struct GoPayload<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
}

impl RekorBundle {
    /// Parses the annotation text strictly, as containers/image does: the object must have
    /// exactly `SignedEntryTimestamp` (base64) and `Payload`, and `Payload` exactly `body`
    /// (string), `integratedTime`, `logIndex` (integers) and `logID` (string).
    pub fn parse(annotation: &str) -> Result<Self, RekorError> {
        let raw: RawBundle =
            serde_json::from_str(annotation).map_err(|e| RekorError::MalformedBundle {
                reason: e.to_string(),
            })?;
        let signed_entry_timestamp =
            gobase64::decode(&raw.signed_entry_timestamp).map_err(|e| {
                RekorError::MalformedBundle {
                    reason: format!("SignedEntryTimestamp is not base64: {e}"),
                }
            })?;
        Ok(RekorBundle {
            signed_entry_timestamp,
            body: raw.payload.body,
            integrated_time: raw.payload.integrated_time,
            log_index: raw.payload.log_index,
            log_id: raw.payload.log_id,
        })
    }

    /// The bytes the SET signs: the RFC 8785 (JCS) canonical JSON of the payload,
    /// `{"body":…,"integratedTime":…,"logID":…,"logIndex":…}`.
    ///
    /// Written by hand rather than with a JCS library: the object is fixed (four keys, two
    /// strings and two integers), so canonical form is short to state exactly — keys sorted by
    /// UTF-16 code units (`logID` < `logIndex` since `D` < `n`), no whitespace, strings with
    /// JCS's minimal escapes ([`jcs_string`]), integers as ECMAScript prints the IEEE double
    /// ([`jcs_integer`]). It keeps the pure crate free of another dependency, and it makes the
    /// interop test meaningful: sigstore-rs canonicalises with `serde_json_canonicalizer`, an
    /// independent implementation.
    pub fn canonical_payload(&self) -> String {
        format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":{},\"logIndex\":{}}}",
            jcs_string(&self.body),
            jcs_integer(self.integrated_time),
            jcs_string(&self.log_id),
            jcs_integer(self.log_index),
        )
    }

    /// The annotation exactly as cosign writes it (Go `json.Marshal` of `bundle.RekorBundle`):
    /// `{"SignedEntryTimestamp":"<base64>","Payload":{"body":…,"integratedTime":…,"logIndex":…,"logID":…}}`.
    pub fn to_annotation(&self) -> String {
        let go = GoBundle {
            signed_entry_timestamp: gobase64::encode(&self.signed_entry_timestamp),
            payload: GoPayload {
                body: &self.body,
                integrated_time: self.integrated_time,
                log_index: self.log_index,
                log_id: &self.log_id,
            },
        };
        String::from_utf8_lossy(&signet_oci::gojson::to_vec(&go)).into_owned()
    }

    /// Verifies the SET with one of `rekor_keys` (ECDSA keys only): keys whose [`log_id`] is the
    /// bundle's `logID` are tried first, then the others. Does not look at the body's content.
    pub fn verify_set(&self, rekor_keys: &[PublicKey]) -> Result<VerifiedEntry, RekorError> {
        if rekor_keys.is_empty() {
            return Err(RekorError::NoRekorKeys);
        }
        let mut keys = Vec::with_capacity(rekor_keys.len());
        for (index, key) in rekor_keys.iter().enumerate() {
            let algorithm = set_algorithm(key.key_type()).ok_or(RekorError::RekorKeyNotEcdsa {
                index,
                key_type: key.key_type(),
            })?;
            keys.push((key, algorithm));
        }
        // Go's ecdsa.VerifyASN1 takes DER only; signet-crypto would also take r||s.
        if !is_der_sequence(&self.signed_entry_timestamp) {
            return Err(RekorError::SetVerificationFailed);
        }
        keys.sort_by_key(|(key, _)| log_id(key) != self.log_id);
        let message = self.canonical_payload();
        let verified = keys.iter().any(|(key, algorithm)| {
            key.verify_with(*algorithm, message.as_bytes(), &self.signed_entry_timestamp)
                .is_ok()
        });
        if !verified {
            return Err(RekorError::SetVerificationFailed);
        }
        Ok(VerifiedEntry {
            integrated_time: self.integrated_time,
            log_index: self.log_index,
            log_id: self.log_id.clone(),
        })
    }
}

/// The `logID` of a Rekor log with this key: lowercase hex SHA-256 of its DER SPKI.
pub fn log_id(rekor_key: &PublicKey) -> String {
    hex::encode(rekor_key.sha256_fingerprint())
}

/// Verifies a cosign Rekor bundle annotation offline.
///
/// Verifies the SET with one of `rekor_keys` (chosen by logID, else all are tried), then the
/// entry body against the signature: `signature_b64` (the layer's signature annotation text),
/// `signer_pem` (the certificate PEM or public-key PEM the signature is checked with) and the
/// `payload` bytes. Returns the entry's integrated time, index and log ID.
///
/// This does not verify the signature over the payload itself; the caller does that with the
/// signer's key, as before.
pub fn verify_bundle(
    annotation: &str,
    rekor_keys: &[PublicKey],
    payload: &[u8],
    signature_b64: &str,
    signer_pem: &str,
) -> Result<VerifiedEntry, RekorError> {
    let bundle = RekorBundle::parse(annotation)?;
    let verified = bundle.verify_set(rekor_keys)?;
    let entry = HashedRekord::decode(&bundle.body)?;

    let in_set =
        single_pem_der(&entry.public_key_pem).map_err(|reason| RekorError::MalformedEntry {
            reason: format!("publicKey in Rekor SET {reason}"),
        })?;
    let signer =
        single_pem_der(signer_pem.as_bytes()).map_err(|reason| RekorError::InvalidSignerPem {
            reason: reason.to_owned(),
        })?;
    if in_set != signer {
        return Err(RekorError::PublicKeyMismatch);
    }

    let signature =
        gobase64::decode(signature_b64).map_err(|e| RekorError::InvalidSignatureEncoding {
            reason: e.to_string(),
        })?;
    if entry.signature != signature {
        return Err(RekorError::SignatureMismatch);
    }

    if entry.hash_algorithm != "sha256" {
        return Err(RekorError::UnsupportedHashAlgorithm {
            algorithm: entry.hash_algorithm,
        });
    }
    let logged = hex::decode(&entry.hash_value).map_err(|e| RekorError::MalformedEntry {
        reason: format!("invalid \"data.hash.value\" field in hashedrekord: {e}"),
    })?;
    let actual = hex::decode(Digest::sha256(payload).hex()).unwrap_or_default();
    if logged != actual {
        return Err(RekorError::PayloadMismatch);
    }
    Ok(verified)
}

/// Makes a Rekor bundle annotation as cosign stores it, signed by `rekor_key` (an ECDSA key;
/// the SET is over SHA-256 whatever the curve): the `hashedrekord` 0.0.1 entry for `payload`,
/// the signature `signature_b64` (decoded and re-encoded, as Rekor stores the bytes) and the
/// signer's PEM (`signer_pem`, stored verbatim), with `logID` from the key.
///
/// For tests and, later, a log; the output is byte-identical to cosign's `json.Marshal` of the
/// bundle for the same entry and SET.
pub fn make_bundle(
    rekor_key: &PrivateKey,
    payload: &[u8],
    signature_b64: &str,
    signer_pem: &str,
    integrated_time: i64,
    log_index: i64,
) -> Result<String, RekorError> {
    let algorithm = set_algorithm(rekor_key.key_type()).ok_or_else(|| RekorError::Signing {
        reason: format!(
            "the log key is not an ECDSA key (it is {})",
            rekor_key.key_type()
        ),
    })?;
    let signature = gobase64::decode(signature_b64).map_err(|e| RekorError::Signing {
        reason: format!("the signature is not base64: {e}"),
    })?;
    let entry = hashedrekord_json(payload, &signature, signer_pem);
    let mut bundle = RekorBundle {
        signed_entry_timestamp: Vec::new(),
        body: gobase64::encode(entry.as_bytes()),
        integrated_time,
        log_index,
        log_id: log_id(&rekor_key.public_key()),
    };
    bundle.signed_entry_timestamp = rekor_key
        .sign_with(algorithm, bundle.canonical_payload().as_bytes())
        .map_err(|e| RekorError::Signing {
            reason: e.to_string(),
        })?;
    Ok(bundle.to_annotation())
}

/// The canonical (JCS) JSON of a `hashedrekord` 0.0.1 entry, as Rekor stores it:
/// `{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256",
/// "value":"<hex>"}},"signature":{"content":"<base64 sig>","publicKey":{"content":"<base64 PEM>"}}}}`.
pub fn hashedrekord_json(payload: &[u8], signature: &[u8], signer_pem: &str) -> String {
    format!(
        "{{\"apiVersion\":{},\"kind\":{},\"spec\":{{\"data\":{{\"hash\":{{\"algorithm\":\"sha256\",\"value\":{}}}}},\"signature\":{{\"content\":{},\"publicKey\":{{\"content\":{}}}}}}}}}",
        jcs_string(HASHEDREKORD_API_VERSION),
        jcs_string(HASHEDREKORD_KIND),
        jcs_string(Digest::sha256(payload).hex()),
        jcs_string(&gobase64::encode(signature)),
        jcs_string(&gobase64::encode(signer_pem.as_bytes())),
    )
}

/// The hash used for the SET with a log key of this type (`None`: not ECDSA).
fn set_algorithm(key_type: KeyType) -> Option<SignatureAlgorithm> {
    match key_type {
        KeyType::P256 => Some(SignatureAlgorithm::EcdsaP256Sha256),
        KeyType::P384 => Some(SignatureAlgorithm::EcdsaP384Sha256),
        KeyType::P521 => Some(SignatureAlgorithm::EcdsaP521Sha256),
        _ => None,
    }
}

/// Whether `sig` is framed as a DER SEQUENCE spanning all of it (short or one-byte long form,
/// enough for ECDSA signatures up to P-521).
fn is_der_sequence(sig: &[u8]) -> bool {
    match sig {
        [0x30, 0x81, len, rest @ ..] => *len >= 0x80 && usize::from(*len) == rest.len(),
        [0x30, len, rest @ ..] => *len < 0x80 && usize::from(*len) == rest.len(),
        _ => false,
    }
}

/// A JSON string in RFC 8785 form: `"` and `\` escaped, U+0008/09/0A/0C/0D as `\b \t \n \f \r`,
/// other controls below U+0020 as `\u00xx` (lowercase hex), everything else literal.
pub fn jcs_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An integer in RFC 8785 form: JCS numbers are IEEE doubles printed as ECMAScript's
/// `Number.prototype.toString` does (Go's canonicaliser parses `int64` values to `float64`).
/// Up to 2^53 that is the integer's decimal form; beyond, the nearest double's shortest
/// round-trip digits padded with zeros (e.g. `i64::MAX` → `9223372036854776000`), which is what
/// Rust's `Display` for `f64` prints for every magnitude below 1e21 (all `i64`s).
pub fn jcs_integer(n: i64) -> String {
    const EXACT: i64 = 1 << 53;
    if (-EXACT..=EXACT).contains(&n) {
        n.to_string()
    } else {
        // The rounding to the nearest double is the point here.
        #[allow(clippy::cast_precision_loss)]
        let d = n as f64;
        format!("{d}")
    }
}

/// The fields of a `hashedrekord` 0.0.1 entry that the checks use.
struct HashedRekord {
    /// Decoded `spec.signature.publicKey.content` (PEM bytes).
    public_key_pem: Vec<u8>,
    /// Decoded `spec.signature.content`.
    signature: Vec<u8>,
    /// `spec.data.hash.algorithm`.
    hash_algorithm: String,
    /// `spec.data.hash.value` (hex).
    hash_value: String,
}

// Lenient inside the entry (unknown keys ignored), as both Go implementations are.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    spec: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSpec {
    signature: Option<RawSignature>,
    data: Option<RawData>,
}

#[derive(Deserialize)]
struct RawSignature {
    content: Option<String>,
    #[serde(rename = "publicKey")]
    public_key: Option<RawContent>,
}

#[derive(Deserialize)]
struct RawContent {
    content: Option<String>,
}

#[derive(Deserialize)]
struct RawData {
    hash: Option<RawHash>,
}

#[derive(Deserialize)]
struct RawHash {
    algorithm: Option<String>,
    value: Option<String>,
}

impl HashedRekord {
    fn decode(body_b64: &str) -> Result<Self, RekorError> {
        let malformed = |reason: String| RekorError::MalformedEntry { reason };
        let missing = |field: &str| malformed(format!("missing {field:?} field in hashedrekord"));
        let body = gobase64::decode(body_b64)
            .map_err(|e| malformed(format!("the body is not base64: {e}")))?;
        let entry: RawEntry = serde_json::from_slice(&body)
            .map_err(|e| malformed(format!("decoding the body of a Rekor SET payload: {e}")))?;
        if entry.kind != HASHEDREKORD_KIND {
            return Err(RekorError::UnexpectedKind { kind: entry.kind });
        }
        if entry.api_version != HASHEDREKORD_API_VERSION {
            return Err(RekorError::UnsupportedApiVersion {
                api_version: entry.api_version,
            });
        }
        let spec: RawSpec = serde_json::from_value(entry.spec.ok_or_else(|| missing("spec"))?)
            .map_err(|e| malformed(format!("decoding the hashedrekord spec: {e}")))?;
        let signature = spec.signature.ok_or_else(|| missing("signature"))?;
        let public_key = signature
            .public_key
            .and_then(|p| p.content)
            .ok_or_else(|| missing("signature.publicKey"))?;
        let public_key_pem = gobase64::decode(&public_key)
            .map_err(|e| malformed(format!("signature.publicKey.content is not base64: {e}")))?;
        let content = signature
            .content
            .ok_or_else(|| missing("signature.content"))?;
        let signature = gobase64::decode(&content)
            .map_err(|e| malformed(format!("signature.content is not base64: {e}")))?;
        let hash = spec
            .data
            .ok_or_else(|| missing("data"))?
            .hash
            .ok_or_else(|| missing("data.hash"))?;
        Ok(HashedRekord {
            public_key_pem,
            signature,
            hash_algorithm: hash
                .algorithm
                .ok_or_else(|| missing("data.hash.algorithm"))?,
            hash_value: hash.value.ok_or_else(|| missing("data.hash.value"))?,
        })
    }
}

/// The DER of the only PEM block in `text` (leading text and trailing whitespace allowed, as
/// Go's `pem.Decode` with containers/image's "no trailing data" rule). Object type and
/// headers are not compared, as containers/image does not.
fn single_pem_der(text: &[u8]) -> Result<Vec<u8>, &'static str> {
    const NOT_PEM: &str = "is not in PEM format";
    const TRAILING: &str = "has trailing data";
    let blocks = pem::parse_many(text).map_err(|_| NOT_PEM)?;
    let mut blocks = blocks.into_iter();
    let first = blocks.next().ok_or(NOT_PEM)?;
    if blocks.next().is_some() {
        return Err(TRAILING);
    }
    // Text after the END line (pem::parse_many skips it silently).
    let end = text
        .windows(9)
        .rposition(|w| w == b"-----END ")
        .ok_or(NOT_PEM)?;
    let after = &text[end + 9..];
    let close = after
        .windows(5)
        .position(|w| w == b"-----")
        .ok_or(NOT_PEM)?;
    if !after[close + 5..].iter().all(u8::is_ascii_whitespace) {
        return Err(TRAILING);
    }
    Ok(first.into_contents())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The public-instance Rekor key (sigstore/sigstore `pkg/tuf/repository/targets/rekor.pub`,
    /// logID c0d23d6a…801d), as in /work/shared/specs/cosign-fixtures/rekor.pub.
    const PUBLIC_REKOR_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr
kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==
-----END PUBLIC KEY-----
";
    const PUBLIC_REKOR_LOG_ID: &str =
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";

    /// Known answer: the example `bundle` of sigstore/cosign `specs/SIGNATURE_SPEC.md` (public
    /// format documentation), copied verbatim from the repository. Its body is an old `rekord`
    /// entry whose payload is not given, so only the SET can be checked against it.
    const SIGNATURE_SPEC_BUNDLE: &str = r#"{
  "SignedEntryTimestamp": "MEUCIQDHiGUesxPpn+qRONLmKlNIVPhl9gBMnwNeIQmRkRmZVQIgRxPpuYQDZR/8lYKcEfiQn5b+7VDoJIC72ZWHO9ZCp1A=",
  "Payload": {
    "body": "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJzcGVjIjp7ImRhdGEiOnsiaGFzaCI6eyJhbGdvcml0aG0iOiJzaGEyNTYiLCJ2YWx1ZSI6ImE0NDkyYjBlYWJkZDIzMTJmMDYzMjkwYWJkNzk3ZDlkNzFhM2FiMjhiZDY1YTJjMTg5YjBkZjBkMzliOGMzYjkifX0sInNpZ25hdHVyZSI6eyJjb250ZW50IjoiTUVRQ0lDTmRYeTNiWHAxRE1PTDZOUGZYMzVnSjI3YnpsZHdTdkNBTnd5ZE9RVWlqQWlCQWg5WlJwQ3AzYlg5eE9UbEhTR2w0cFVGd0ZtUFJJWGZpY09pRTBHM1Vzdz09IiwiZm9ybWF0IjoieDUwOSIsInB1YmxpY0tleSI6eyJjb250ZW50IjoiTFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2sxSlNVTmxla05EUVdkRFowRjNTVUpCWjBsVVZISk9aa013YkZSSmRWSXZWR0UyWm14MWFtdFFOWHBaTDFSQlMwSm5aM0ZvYTJwUFVGRlJSRUY2UVhFS1RWSlZkMFYzV1VSV1VWRkxSWGQ0ZW1GWFpIcGtSemw1V2xNMWExcFlXWGhGVkVGUVFtZE9Wa0pCVFZSRFNFNXdXak5PTUdJelNteE5RalJZUkZSSmVBcE5SRmw1VFdwSmVFMUVaM2RPUm05WVJGUkplRTFFV1hsTmFrbDRUV3BuZDAweGIzZEJSRUphVFVKTlIwSjVjVWRUVFRRNVFXZEZSME5EY1VkVFRUUTVDa0YzUlVoQk1FbEJRazFGV1M4ck4yRktjRmRLVFhjNWVrTmljMDFrT0hOQlRUTmxSbk5OTjBSbFpFZGlXRzlNUjJ4YUwyZHBNR2h5WTBaU1NWVTRiM2NLUzBKeU1ISkVTRE5QVkZaSWJVdFVZMkV2SzIweGQxQjNTVzlZTTFGUVYycG5aMFYwVFVsSlFrdFVRVTlDWjA1V1NGRTRRa0ZtT0VWQ1FVMURRalJCZHdwRmQxbEVWbEl3YkVKQmQzZERaMWxKUzNkWlFrSlJWVWhCZDAxM1JFRlpSRlpTTUZSQlVVZ3ZRa0ZKZDBGRVFXUkNaMDVXU0ZFMFJVWm5VVlZ5WVRoTENuSnJaMjAzVGtsNFRrNXBVMkpZVG00eFdFVkxhRzFyZDBoM1dVUldVakJxUWtKbmQwWnZRVlY1VFZWa1FVVkhZVXBEYTNsVlUxUnlSR0UxU3pkVmIwY0tNQ3QzZDJkWk1FZERRM05IUVZGVlJrSjNSVUpDU1VkQlRVZzBkMlpCV1VsTGQxbENRbEZWU0UxQlMwZGpSMmd3WkVoQk5reDVPWGRqYld3eVdWaFNiQXBaTWtWMFdUSTVkV1JIVm5Wa1F6QXlUVVJPYlZwVVpHeE9lVEIzVFVSQmQweFVTWGxOYW1OMFdXMVpNMDVUTVcxT1Ixa3hXbFJuZDFwRVNUVk9WRkYxQ21NelVuWmpiVVp1V2xNMWJtSXlPVzVpUjFab1kwZHNla3h0VG5aaVV6bHFXVlJOTWxsVVJteFBWRmw1VGtSS2FVOVhXbXBaYWtVd1RtazVhbGxUTldvS1kyNVJkMHBCV1VSV1VqQlNRVkZJTDBKQ2IzZEhTVVZYWTBoS2NHVlhSak5aVjFKdlpESkdRVm95T1haYU1uaHNURzFPZG1KVVFVdENaMmR4YUd0cVR3cFFVVkZFUVhkT2NFRkVRbTFCYWtWQk1UQlVSR015Wm1oUFZrRlVNWFJzZFM4MmMzWnhSbEZ1YkRaWU9YZGhNbXRUU2t0RGJqUkZZbFJFYTNwYVJYb3lDblppUWtwb2FFZ3ZjbWRXUjFKMU5tWkJha1ZCYkhsb05uUmhZelJZVFRaS2IzVlZlRWtyTjFnelFtUTFXVXR5WlRGS1dFOWhia0ZaYW1adldHNTVUSFFLZDNCSVFWb3paVzFhY0VWa00yeHFTVEF3Vm04S0xTMHRMUzFGVGtRZ1EwVlNWRWxHU1VOQlZFVXRMUzB0TFFvPSJ9fX0sImtpbmQiOiJyZWtvcmQifQ==",
    "integratedTime": 1624396085,
    "logIndex": 5179,
    "logID": "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
  }
}"#;

    /// Known answer with a `hashedrekord` body: the `rekorBundle` of the `cosign sign-blob
    /// --bundle` output in sigstore-rs 0.15 `src/cosign/bundle.rs`
    /// (`signedartifactbundle_new_verified_success`, public test data), with the
    /// `base64Signature` and `cert` of the same file. The signed blob itself is not published,
    /// so the check gets as far as the payload hash.
    const SIGN_BLOB_SET: &str = "MEUCIC3c+21v9pk6o4BpB/dRAM9lGnyWLi3Xnc+i8LmnNJmeAiEAiqZJbZHx3Idnw+zXv6yM0ipPw/p16R28YGuCJFQ1u8U=";
    const SIGN_BLOB_BODY: &str = "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJkYXRhIjp7Imhhc2giOnsiYWxnb3JpdGhtIjoic2hhMjU2IiwidmFsdWUiOiI0YmM0NTNiNTNjYjNkOTE0YjQ1ZjRiMjUwMjk0MjM2YWRiYTJjMGUwOWZmNmYwMzc5Mzk0OWU3ZTM5ZmQ0Y2MxIn19LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1FUUNJR3AxWFpQNXphSW1vc3JCaERQQ2RYbjNmOHhJOUZIR0xzR1Z4NlVlUlBDZ0FpQXQ1R3JzZFFoT0tuWmNBM0VXZWN2Z0pTSHpDSWpXaWZGQlFrRDdIZHN5bWc9PSIsInB1YmxpY0tleSI6eyJjb250ZW50IjoiTFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2sxSlNVTnhSRU5EUVdrclowRjNTVUpCWjBsVlZGQlhWR1pQTHpGT1VtRlRSbVJsWTJGQlVTOXdRa1JIU25BNGQwTm5XVWxMYjFwSmVtb3dSVUYzVFhjS1RucEZWazFDVFVkQk1WVkZRMmhOVFdNeWJHNWpNMUoyWTIxVmRWcEhWakpOVWpSM1NFRlpSRlpSVVVSRmVGWjZZVmRrZW1SSE9YbGFVekZ3WW01U2JBcGpiVEZzV2tkc2FHUkhWWGRJYUdOT1RXcEplRTFVU1RGTlJHTjZUbnBGZVZkb1kwNU5ha2w0VFZSSk1VMUVZekJPZWtWNVYycEJRVTFHYTNkRmQxbElDa3R2V2tsNmFqQkRRVkZaU1V0dldrbDZhakJFUVZGalJGRm5RVVZLVVZFMFZ5ODFXRkE1YlRSWllsZFNRbEYwU0VkWGQyNDVkVlZvWVdVek9GVndZMG9LY0VWTk0wUlBjelI2VnpSTlNYSk5abGMwVjFGRU1HWjNjRGhRVlZWU1JGaDJVVE01TkhCdmNXZEhSVzFUYTNKMVRIRlBRMEZWTkhkblowWkxUVUUwUndwQk1WVmtSSGRGUWk5M1VVVkJkMGxJWjBSQlZFSm5UbFpJVTFWRlJFUkJTMEpuWjNKQ1owVkdRbEZqUkVGNlFXUkNaMDVXU0ZFMFJVWm5VVlZ2TTB0dUNtcEtVVm93V0dacFoySkVOV0l3VDFaT1RqQjRjVk52ZDBoM1dVUldVakJxUWtKbmQwWnZRVlV6T1ZCd2VqRlphMFZhWWpWeFRtcHdTMFpYYVhocE5Ga0tXa1E0ZDBwM1dVUldVakJTUVZGSUwwSkNNSGRITkVWYVdrZEdkV0ZYVm5OTWJVcHNaRzFXZFdGWVZucFJSMlIwV1Zkc2MweHRUblppVkVGelFtZHZjZ3BDWjBWRlFWbFBMMDFCUlVKQ1FqVnZaRWhTZDJONmIzWk1NbVJ3WkVkb01WbHBOV3BpTWpCMllrYzVibUZYTkhaaU1rWXhaRWRuZDJkWmMwZERhWE5IQ2tGUlVVSXhibXREUWtGSlJXWlJVamRCU0d0QlpIZEVaRkJVUW5GNGMyTlNUVzFOV2tob2VWcGFlbU5EYjJ0d1pYVk9ORGh5Wml0SWFXNUxRVXg1Ym5VS2FtZEJRVUZaVTNSMVFraDVRVUZCUlVGM1FrbE5SVmxEU1ZGRVRUVlpVMUV2UjB3MlMwazFVamxQWkdOdUwzQlRheXR4VmtRMlluTk1PRE1yUlhBNVVnb3lhRmRVWVhkSmFFRkxNV3BwTVd4YU5UWkVjMloxVEdaWU4ySkNRemx1WWxJelJXeDRZV3hDYUhZeGVsRllUVlUzZEd4M1RVRnZSME5EY1VkVFRUUTVDa0pCVFVSQk1tTkJUVWRSUTAxQ1N6aDBjMmRJWldkMWFDdFphR1ZzTTFCcGFraFJiSGxLTVZFMVN6WTBjREI0Y1VSa2J6ZFhOR1o0Wm05QlV6bDRjbEFLY3pKUVMxRmpaRzlFT1dKWWQyZEpkMWcyZWt4cWVXSmFhMDVJVURWNGRFSndOM1pMTWtaWlpWcDBNRTlYVEZKc1ZXeHNZMVZFVEROVUx6ZEtVV1ozWXdwSFUzRTJkbFpDVG5kS01EQjNPVWhTQ2kwdExTMHRSVTVFSUVORlVsUkpSa2xEUVZSRkxTMHRMUzBLIn19fX0=";
    const SIGN_BLOB_SIGNATURE: &str = "MEQCIGp1XZP5zaImosrBhDPCdXn3f8xI9FHGLsGVx6UeRPCgAiAt5GrsdQhOKnZcA3EWecvgJSHzCIjWifFBQkD7Hdsymg==";
    /// base64 of the signing certificate's PEM (the `cert` field of the same file).
    const SIGN_BLOB_CERT_B64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUNxRENDQWkrZ0F3SUJBZ0lVVFBXVGZPLzFOUmFTRmRlY2FBUS9wQkRHSnA4d0NnWUlLb1pJemowRUF3TXcKTnpFVk1CTUdBMVVFQ2hNTWMybG5jM1J2Y21VdVpHVjJNUjR3SEFZRFZRUURFeFZ6YVdkemRHOXlaUzFwYm5SbApjbTFsWkdsaGRHVXdIaGNOTWpJeE1USTFNRGN6TnpFeVdoY05Nakl4TVRJMU1EYzBOekV5V2pBQU1Ga3dFd1lICktvWkl6ajBDQVFZSUtvWkl6ajBEQVFjRFFnQUVKUVE0Vy81WFA5bTRZYldSQlF0SEdXd245dVVoYWUzOFVwY0oKcEVNM0RPczR6VzRNSXJNZlc0V1FEMGZ3cDhQVVVSRFh2UTM5NHBvcWdHRW1Ta3J1THFPQ0FVNHdnZ0ZLTUE0RwpBMVVkRHdFQi93UUVBd0lIZ0RBVEJnTlZIU1VFRERBS0JnZ3JCZ0VGQlFjREF6QWRCZ05WSFE0RUZnUVVvM0tuCmpKUVowWGZpZ2JENWIwT1ZOTjB4cVNvd0h3WURWUjBqQkJnd0ZvQVUzOVBwejFZa0VaYjVxTmpwS0ZXaXhpNFkKWkQ4d0p3WURWUjBSQVFIL0JCMHdHNEVaWkdGdWFXVnNMbUpsZG1WdWFYVnpRR2R0WVdsc0xtTnZiVEFzQmdvcgpCZ0VFQVlPL01BRUJCQjVvZEhSd2N6b3ZMMmRwZEdoMVlpNWpiMjB2Ykc5bmFXNHZiMkYxZEdnd2dZc0dDaXNHCkFRUUIxbmtDQkFJRWZRUjdBSGtBZHdEZFBUQnF4c2NSTW1NWkhoeVpaemNDb2twZXVONDhyZitIaW5LQUx5bnUKamdBQUFZU3R1Qkh5QUFBRUF3QklNRVlDSVFETTVZU1EvR0w2S0k1UjlPZGNuL3BTaytxVkQ2YnNMODMrRXA5UgoyaFdUYXdJaEFLMWppMWxaNTZEc2Z1TGZYN2JCQzluYlIzRWx4YWxCaHYxelFYTVU3dGx3TUFvR0NDcUdTTTQ5CkJBTURBMmNBTUdRQ01CSzh0c2dIZWd1aCtZaGVsM1BpakhRbHlKMVE1SzY0cDB4cURkbzdXNGZ4Zm9BUzl4clAKczJQS1FjZG9EOWJYd2dJd1g2ekxqeWJaa05IUDV4dEJwN3ZLMkZZZVp0ME9XTFJsVWxsY1VETDNULzdKUWZ3YwpHU3E2dlZCTndKMDB3OUhSCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

    fn public_rekor_key() -> PublicKey {
        PublicKey::from_pem(PUBLIC_REKOR_KEY).unwrap()
    }

    /// A signer, a log, a payload and its signature, and the bundle for them.
    struct Case {
        log: PrivateKey,
        signer: PrivateKey,
        signer_pem: String,
        payload: Vec<u8>,
        signature_b64: String,
        annotation: String,
    }

    const TIME: i64 = 1_631_646_761;
    const INDEX: i64 = 693_591;

    fn case() -> Case {
        let log = PrivateKey::generate(KeyType::P256).unwrap();
        let signer = PrivateKey::generate(KeyType::P256).unwrap();
        let signer_pem = signer.public_key().to_pem();
        let payload = br#"{"critical":{"identity":{"docker-reference":"example.com/app"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#.to_vec();
        let signature_b64 = gobase64::encode(&signer.sign(&payload).unwrap());
        let annotation =
            make_bundle(&log, &payload, &signature_b64, &signer_pem, TIME, INDEX).unwrap();
        Case {
            log,
            signer,
            signer_pem,
            payload,
            signature_b64,
            annotation,
        }
    }

    impl Case {
        fn verify(&self, annotation: &str) -> Result<VerifiedEntry, RekorError> {
            verify_bundle(
                annotation,
                &[self.log.public_key()],
                &self.payload,
                &self.signature_b64,
                &self.signer_pem,
            )
        }

        /// A bundle over another entry body, genuinely signed by the log.
        fn resigned_with_body(&self, body_json: &str) -> String {
            let mut b = RekorBundle::parse(&self.annotation).unwrap();
            b.body = gobase64::encode(body_json.as_bytes());
            resign(&self.log, b)
        }
    }

    fn resign(log: &PrivateKey, mut b: RekorBundle) -> String {
        b.signed_entry_timestamp = log
            .sign_with(
                set_algorithm(log.key_type()).unwrap(),
                b.canonical_payload().as_bytes(),
            )
            .unwrap();
        b.to_annotation()
    }

    #[test]
    fn round_trip() {
        let c = case();
        let v = c.verify(&c.annotation).unwrap();
        assert_eq!(
            v,
            VerifiedEntry {
                integrated_time: TIME,
                log_index: INDEX,
                log_id: log_id(&c.log.public_key()),
            }
        );
        // And the payload signature itself verifies with the key the entry names.
        let sig = gobase64::decode(&c.signature_b64).unwrap();
        c.signer.public_key().verify(&c.payload, &sig).unwrap();
    }

    #[test]
    fn serialisation_is_cosigns() {
        let c = case();
        let b = RekorBundle::parse(&c.annotation).unwrap();
        assert_eq!(b.log_id.len(), 64);
        let expected = format!(
            r#"{{"SignedEntryTimestamp":"{}","Payload":{{"body":"{}","integratedTime":{TIME},"logIndex":{INDEX},"logID":"{}"}}}}"#,
            gobase64::encode(&b.signed_entry_timestamp),
            b.body,
            b.log_id
        );
        assert_eq!(c.annotation, expected);
        assert_eq!(b.to_annotation(), c.annotation);
        assert_eq!(
            b.canonical_payload(),
            format!(
                r#"{{"body":"{}","integratedTime":{TIME},"logID":"{}","logIndex":{INDEX}}}"#,
                b.body, b.log_id
            )
        );
        let body = String::from_utf8(gobase64::decode(&b.body).unwrap()).unwrap();
        assert_eq!(
            body,
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
                Digest::sha256(&c.payload).hex(),
                c.signature_b64,
                gobase64::encode(c.signer_pem.as_bytes())
            )
        );
        // The body is itself canonical: serde_json (sorted maps) re-serialises it unchanged.
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), body);
    }

    #[test]
    fn certificate_signer_round_trip() {
        // The SET binds whatever PEM the signer presents; a certificate works like a key.
        let c = case();
        let cert_pem =
            pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3, 4])).replace("\r\n", "\n");
        let a = make_bundle(&c.log, &c.payload, &c.signature_b64, &cert_pem, TIME, 1).unwrap();
        let keys = [c.log.public_key()];
        verify_bundle(&a, &keys, &c.payload, &c.signature_b64, &cert_pem).unwrap();
        assert_eq!(
            verify_bundle(&a, &keys, &c.payload, &c.signature_b64, &c.signer_pem),
            Err(RekorError::PublicKeyMismatch)
        );
    }

    #[test]
    fn tampered_set_bytes() {
        let c = case();
        let mut b = RekorBundle::parse(&c.annotation).unwrap();
        let last = b.signed_entry_timestamp.len() - 1;
        b.signed_entry_timestamp[last] ^= 1;
        assert_eq!(
            c.verify(&b.to_annotation()),
            Err(RekorError::SetVerificationFailed)
        );
        // r||s instead of DER is refused as Go's VerifyASN1 refuses it.
        let mut b = RekorBundle::parse(&c.annotation).unwrap();
        b.signed_entry_timestamp = vec![7; 64];
        assert_eq!(
            c.verify(&b.to_annotation()),
            Err(RekorError::SetVerificationFailed)
        );
    }

    #[test]
    fn tampered_payload_fields() {
        let c = case();
        for edit in [
            |b: &mut RekorBundle| b.integrated_time += 1,
            |b: &mut RekorBundle| b.log_index -= 1,
            |b: &mut RekorBundle| b.log_id = "00".repeat(32),
            |b: &mut RekorBundle| b.body.insert_str(0, "e30="),
        ] {
            let mut b = RekorBundle::parse(&c.annotation).unwrap();
            edit(&mut b);
            assert_eq!(
                c.verify(&b.to_annotation()),
                Err(RekorError::SetVerificationFailed)
            );
        }
    }

    #[test]
    fn tampered_body_signature() {
        let c = case();
        let other_sig = gobase64::encode(&c.signer.sign(b"something else").unwrap());
        let a = make_bundle(&c.log, &c.payload, &other_sig, &c.signer_pem, TIME, INDEX).unwrap();
        assert_eq!(c.verify(&a), Err(RekorError::SignatureMismatch));
        let err = c.verify(&a).unwrap_err().to_string();
        assert_eq!(err, "signature in Rekor SET does not match");
    }

    #[test]
    fn tampered_body_public_key() {
        let c = case();
        let other = PrivateKey::generate(KeyType::P256)
            .unwrap()
            .public_key()
            .to_pem();
        let a = make_bundle(&c.log, &c.payload, &c.signature_b64, &other, TIME, INDEX).unwrap();
        let err = c.verify(&a).unwrap_err();
        assert_eq!(err, RekorError::PublicKeyMismatch);
        assert_eq!(err.to_string(), "publicKey in Rekor SET does not match");
        // PEM text differences that keep the DER (CRLF, no final newline) do not matter.
        let crlf = c.signer_pem.replace('\n', "\r\n");
        verify_bundle(
            &c.annotation,
            &[c.log.public_key()],
            &c.payload,
            &c.signature_b64,
            &crlf,
        )
        .unwrap();
        let a = make_bundle(
            &c.log,
            &c.payload,
            &c.signature_b64,
            c.signer_pem.trim_end(),
            TIME,
            INDEX,
        )
        .unwrap();
        c.verify(&a).unwrap();
    }

    #[test]
    fn signer_pem_must_be_one_block() {
        let c = case();
        let keys = [c.log.public_key()];
        let verify =
            |pem: &str| verify_bundle(&c.annotation, &keys, &c.payload, &c.signature_b64, pem);
        assert_eq!(
            verify("not pem"),
            Err(RekorError::InvalidSignerPem {
                reason: "is not in PEM format".into()
            })
        );
        let two = format!("{}{}", c.signer_pem, c.signer_pem);
        assert_eq!(
            verify(&two),
            Err(RekorError::InvalidSignerPem {
                reason: "has trailing data".into()
            })
        );
        let junk = format!("{}junk\n", c.signer_pem);
        assert_eq!(
            verify(&junk),
            Err(RekorError::InvalidSignerPem {
                reason: "has trailing data".into()
            })
        );
        verify(&format!("leading text\n{}\n\n", c.signer_pem)).unwrap();
    }

    #[test]
    fn tampered_payload_hash() {
        let c = case();
        let err = verify_bundle(
            &c.annotation,
            &[c.log.public_key()],
            b"another payload",
            &c.signature_b64,
            &c.signer_pem,
        )
        .unwrap_err();
        assert_eq!(err, RekorError::PayloadMismatch);
        assert_eq!(err.to_string(), "payload in Rekor SET does not match");
        // A log entry naming another hash, genuinely signed by the log.
        let a = make_bundle(&c.log, b"x", &c.signature_b64, &c.signer_pem, TIME, INDEX).unwrap();
        assert_eq!(c.verify(&a), Err(RekorError::PayloadMismatch));
    }

    #[test]
    fn hash_algorithm_and_value_rules() {
        let c = case();
        let body = String::from_utf8(
            gobase64::decode(&RekorBundle::parse(&c.annotation).unwrap().body).unwrap(),
        )
        .unwrap();
        let hex = Digest::sha256(&c.payload).hex().to_owned();
        let sha512 = body.replace(r#""algorithm":"sha256""#, r#""algorithm":"sha512""#);
        assert_eq!(
            c.verify(&c.resigned_with_body(&sha512)),
            Err(RekorError::UnsupportedHashAlgorithm {
                algorithm: "sha512".into()
            })
        );
        // Upper-case hex is the same hash (containers/image decodes the hex).
        let upper = body.replace(&hex, &hex.to_uppercase());
        c.verify(&c.resigned_with_body(&upper)).unwrap();
        let bad = body.replace(&hex, "zz");
        assert!(matches!(
            c.verify(&c.resigned_with_body(&bad)),
            Err(RekorError::MalformedEntry { .. })
        ));
    }

    #[test]
    fn entry_kind_and_version() {
        let c = case();
        let body = String::from_utf8(
            gobase64::decode(&RekorBundle::parse(&c.annotation).unwrap().body).unwrap(),
        )
        .unwrap();
        let rekord = body.replace(r#""kind":"hashedrekord""#, r#""kind":"rekord""#);
        let err = c.verify(&c.resigned_with_body(&rekord)).unwrap_err();
        assert_eq!(
            err,
            RekorError::UnexpectedKind {
                kind: "rekord".into()
            }
        );
        assert_eq!(err.to_string(), r#"unexpected Rekor entry kind "rekord""#);
        let v2 = body.replace(r#""apiVersion":"0.0.1""#, r#""apiVersion":"0.0.2""#);
        assert_eq!(
            c.verify(&c.resigned_with_body(&v2)),
            Err(RekorError::UnsupportedApiVersion {
                api_version: "0.0.2".into()
            })
        );
        for broken in [
            "not json",
            r#"{"apiVersion":"0.0.1","kind":"hashedrekord"}"#,
            r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256"}},"signature":{"content":"AA==","publicKey":{"content":"AA=="}}}}"#,
            r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"signature":{"content":"AA=="}}}"#,
        ] {
            assert!(
                matches!(
                    c.verify(&c.resigned_with_body(broken)),
                    Err(RekorError::MalformedEntry { .. })
                ),
                "{broken}"
            );
        }
        // Extra keys inside the entry are tolerated, as in both Go implementations.
        let extra = body.replacen('{', r#"{"extra":1,"#, 1);
        c.verify(&c.resigned_with_body(&extra)).unwrap();
    }

    #[test]
    fn wrong_rekor_key() {
        let c = case();
        let other = PrivateKey::generate(KeyType::P256).unwrap().public_key();
        let err = verify_bundle(
            &c.annotation,
            std::slice::from_ref(&other),
            &c.payload,
            &c.signature_b64,
            &c.signer_pem,
        )
        .unwrap_err();
        assert_eq!(err, RekorError::SetVerificationFailed);
        assert_eq!(
            err.to_string(),
            "cryptographic signature verification of Rekor SET failed"
        );
        // Any one trusted key suffices, in any position.
        let keys = [other, public_rekor_key(), c.log.public_key()];
        verify_bundle(
            &c.annotation,
            &keys,
            &c.payload,
            &c.signature_b64,
            &c.signer_pem,
        )
        .unwrap();
        assert_eq!(
            verify_bundle(
                &c.annotation,
                &[],
                &c.payload,
                &c.signature_b64,
                &c.signer_pem
            ),
            Err(RekorError::NoRekorKeys)
        );
        let ed = PrivateKey::generate(KeyType::Ed25519).unwrap().public_key();
        assert!(matches!(
            verify_bundle(
                &c.annotation,
                &[c.log.public_key(), ed],
                &c.payload,
                &c.signature_b64,
                &c.signer_pem
            ),
            Err(RekorError::RekorKeyNotEcdsa { index: 1, .. })
        ));
    }

    #[test]
    fn log_id_mismatch_handling() {
        let c = case();
        let log_key = c.log.public_key();
        // logID names the log's key.
        let b = RekorBundle::parse(&c.annotation).unwrap();
        assert_eq!(b.log_id, log_id(&log_key));
        // A SET genuinely signed by a trusted log but claiming another logID: accepted (the
        // key is tried after those whose logID matches, as containers/image tries all keys);
        // the claimed logID is reported.
        let mut b = RekorBundle::parse(&c.annotation).unwrap();
        b.log_id = PUBLIC_REKOR_LOG_ID.into();
        let a = resign(&c.log, b);
        let keys = [public_rekor_key(), log_key.clone()];
        let v = verify_bundle(&a, &keys, &c.payload, &c.signature_b64, &c.signer_pem).unwrap();
        assert_eq!(v.log_id, PUBLIC_REKOR_LOG_ID);
        // An untrusted log claiming a trusted log's logID is refused.
        let rogue = PrivateKey::generate(KeyType::P256).unwrap();
        let mut b = RekorBundle::parse(&c.annotation).unwrap();
        b.log_id = log_id(&log_key);
        let a = resign(&rogue, b);
        assert_eq!(
            verify_bundle(&a, &[log_key], &c.payload, &c.signature_b64, &c.signer_pem),
            Err(RekorError::SetVerificationFailed)
        );
    }

    #[test]
    fn p384_log_key_signs_over_sha256() {
        let c = case();
        let log = PrivateKey::generate(KeyType::P384).unwrap();
        let a = make_bundle(
            &log,
            &c.payload,
            &c.signature_b64,
            &c.signer_pem,
            TIME,
            INDEX,
        )
        .unwrap();
        let b = RekorBundle::parse(&a).unwrap();
        log.public_key()
            .verify_with(
                SignatureAlgorithm::EcdsaP384Sha256,
                b.canonical_payload().as_bytes(),
                &b.signed_entry_timestamp,
            )
            .unwrap();
        verify_bundle(
            &a,
            &[log.public_key()],
            &c.payload,
            &c.signature_b64,
            &c.signer_pem,
        )
        .unwrap();
        let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
        assert!(matches!(
            make_bundle(
                &ed,
                &c.payload,
                &c.signature_b64,
                &c.signer_pem,
                TIME,
                INDEX
            ),
            Err(RekorError::Signing { .. })
        ));
    }

    #[test]
    fn strict_key_sets() {
        let c = case();
        let b = RekorBundle::parse(&c.annotation).unwrap();
        let set = gobase64::encode(&b.signed_entry_timestamp);
        let payload = format!(
            r#"{{"body":"{}","integratedTime":{TIME},"logIndex":{INDEX},"logID":"{}"}}"#,
            b.body, b.log_id
        );
        // Key order and whitespace do not matter.
        let reordered = format!(
            "{{ \"Payload\" : {{\"logID\":\"{}\",\"logIndex\":{INDEX},\"integratedTime\":{TIME},\"body\":\"{}\"}},\n\"SignedEntryTimestamp\":\"{set}\"}}",
            b.log_id, b.body
        );
        c.verify(&reordered).unwrap();
        let rejected = [
            // extra top-level key
            format!(r#"{{"SignedEntryTimestamp":"{set}","Payload":{payload},"x":1}}"#),
            // extra payload key
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","Payload":{}}}"#,
                payload.replacen('{', r#"{"x":1,"#, 1)
            ),
            // missing key
            format!(r#"{{"Payload":{payload}}}"#),
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","Payload":{}}}"#,
                payload.replace(&format!(r#","logIndex":{INDEX}"#), "")
            ),
            // case matters
            format!(r#"{{"signedEntryTimestamp":"{set}","Payload":{payload}}}"#),
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","Payload":{}}}"#,
                payload.replace("logID", "logId")
            ),
            // duplicate key
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","SignedEntryTimestamp":"{set}","Payload":{payload}}}"#
            ),
            // wrong types
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","Payload":{}}}"#,
                payload.replace(&TIME.to_string(), &format!("\"{TIME}\""))
            ),
            format!(
                r#"{{"SignedEntryTimestamp":"{set}","Payload":{}}}"#,
                payload.replace(&TIME.to_string(), &format!("{TIME}.0"))
            ),
            // not base64
            format!(r#"{{"SignedEntryTimestamp":"!{set}","Payload":{payload}}}"#),
            // trailing data
            format!(r#"{{"SignedEntryTimestamp":"{set}","Payload":{payload}}} x"#),
        ];
        for bad in rejected {
            assert!(
                matches!(c.verify(&bad), Err(RekorError::MalformedBundle { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn jcs_forms() {
        assert_eq!(
            jcs_string("a\"b\\c\u{1}\u{1f}\n\t\r\u{8}\u{c}/<é\u{7f}\u{2028}"),
            "\"a\\\"b\\\\c\\u0001\\u001f\\n\\t\\r\\b\\f/<é\u{7f}\u{2028}\""
        );
        assert_eq!(jcs_integer(0), "0");
        assert_eq!(jcs_integer(-5), "-5");
        assert_eq!(jcs_integer(1 << 53), "9007199254740992");
        assert_eq!(jcs_integer((1 << 53) + 1), "9007199254740992");
        assert_eq!(jcs_integer(i64::MAX), "9223372036854776000");
        assert_eq!(jcs_integer(i64::MIN), "-9223372036854776000");
        assert_eq!(jcs_integer(123_456_789_012_345_678), "123456789012345680");
    }

    #[test]
    fn known_answer_signature_spec_example() {
        let key = public_rekor_key();
        assert_eq!(log_id(&key), PUBLIC_REKOR_LOG_ID);
        let b = RekorBundle::parse(SIGNATURE_SPEC_BUNDLE).unwrap();
        assert_eq!(b.log_index, 5179);
        let v = b.verify_set(std::slice::from_ref(&key)).unwrap();
        assert_eq!(
            v,
            VerifiedEntry {
                integrated_time: 1_624_396_085,
                log_index: 5179,
                log_id: PUBLIC_REKOR_LOG_ID.into()
            }
        );
        // Any change to the signed fields breaks the SET.
        let mut t = b.clone();
        t.log_index += 1;
        assert_eq!(
            t.verify_set(std::slice::from_ref(&key)),
            Err(RekorError::SetVerificationFailed)
        );
        // The whole check stops at the old `rekord` body (cosign ≤ v1.x).
        assert_eq!(
            verify_bundle(SIGNATURE_SPEC_BUNDLE, &[key], b"", "", ""),
            Err(RekorError::UnexpectedKind {
                kind: "rekord".into()
            })
        );
    }

    #[test]
    fn known_answer_sign_blob_hashedrekord() {
        let key = public_rekor_key();
        let annotation = format!(
            r#"{{"SignedEntryTimestamp":"{SIGN_BLOB_SET}","Payload":{{"body":"{SIGN_BLOB_BODY}","integratedTime":1669361833,"logIndex":7810348,"logID":"{PUBLIC_REKOR_LOG_ID}"}}}}"#
        );
        let cert_pem = String::from_utf8(gobase64::decode(SIGN_BLOB_CERT_B64).unwrap()).unwrap();
        // SET, certificate and signature all match; only the (unpublished) blob is unknown.
        let err = verify_bundle(
            &annotation,
            std::slice::from_ref(&key),
            b"not the blob",
            SIGN_BLOB_SIGNATURE,
            &cert_pem,
        )
        .unwrap_err();
        assert_eq!(err, RekorError::PayloadMismatch);
        assert_eq!(
            verify_bundle(
                &annotation,
                std::slice::from_ref(&key),
                b"not the blob",
                SIGN_BLOB_SIGNATURE,
                PUBLIC_REKOR_KEY
            ),
            Err(RekorError::PublicKeyMismatch)
        );
        let other_sig = SIGN_BLOB_SIGNATURE.replace("MEQCIGp1", "MEQCIGp2");
        assert_eq!(
            verify_bundle(
                &annotation,
                std::slice::from_ref(&key),
                b"not the blob",
                &other_sig,
                &cert_pem
            ),
            Err(RekorError::SignatureMismatch)
        );
        // And the bundle re-serialises to the same bytes (it was written by cosign).
        assert_eq!(
            RekorBundle::parse(&annotation).unwrap().to_annotation(),
            annotation
        );
    }
}
