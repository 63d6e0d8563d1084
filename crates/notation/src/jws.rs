//! The Notary Project JWS envelope (`application/jose+json`): flattened JWS JSON
//! serialization with the `notary.x509` protected headers and the `x5c` chain in the
//! unprotected header. Signing takes a [`JwsSigner`] and the DER chain (leaf first, root
//! included); parsing is strict, verification checks the signature with the leaf key.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use signet_crypto::{KeyType, PrivateKey, PublicKey, SignatureAlgorithm};
use signet_pki::cert::Certificate;

use crate::payload::PAYLOAD_MEDIA_TYPE;
use crate::{Error, Result, certs, rfc3339};

/// The envelope media type (signature manifest layer).
pub const JWS_MEDIA_TYPE: &str = "application/jose+json";
/// Protected header: signing scheme (critical).
pub const HEADER_SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// Protected header: signing time (`notary.x509`).
pub const HEADER_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// Protected header: authentic signing time (`notary.x509.signingAuthority`, critical).
pub const HEADER_AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
/// Protected header: expiry (critical when present).
pub const HEADER_EXPIRY: &str = "io.cncf.notary.expiry";
/// Unprotected header: signing agent.
pub const HEADER_SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
/// Unprotected header: RFC 3161 timestamp token over the signature.
pub const HEADER_TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

/// Old notation-core-go spellings of the unprotected headers, accepted when reading.
const LEGACY_SIGNING_AGENT: &str = "io.cncf.notary.SigningAgent";
const LEGACY_TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.TimestampSignature";

/// Headers registered by RFC 7515/7519 that `crit` must not list.
const REGISTERED_HEADERS: [&str; 12] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "b64",
];

/// A JWS signature algorithm the Notary Project allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// RSASSA-PSS SHA-256 (RSA-2048).
    Ps256,
    /// RSASSA-PSS SHA-384 (RSA-3072).
    Ps384,
    /// RSASSA-PSS SHA-512 (RSA-4096).
    Ps512,
    /// ECDSA P-256 SHA-256.
    Es256,
    /// ECDSA P-384 SHA-384.
    Es384,
    /// ECDSA P-521 SHA-512.
    Es512,
}

impl JwsAlgorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlgorithm::Ps256 => "PS256",
            JwsAlgorithm::Ps384 => "PS384",
            JwsAlgorithm::Ps512 => "PS512",
            JwsAlgorithm::Es256 => "ES256",
            JwsAlgorithm::Es384 => "ES384",
            JwsAlgorithm::Es512 => "ES512",
        }
    }

    /// Parses an `alg` value (exact, case-sensitive as JWS requires).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "PS256" => JwsAlgorithm::Ps256,
            "PS384" => JwsAlgorithm::Ps384,
            "PS512" => JwsAlgorithm::Ps512,
            "ES256" => JwsAlgorithm::Es256,
            "ES384" => JwsAlgorithm::Es384,
            "ES512" => JwsAlgorithm::Es512,
            _ => {
                return Err(Error::UnsupportedAlgorithm {
                    alg: name.to_owned(),
                });
            }
        })
    }

    /// The algorithm a key of `key_type` must use.
    pub fn for_key_type(key_type: KeyType) -> Result<Self> {
        Ok(match key_type {
            KeyType::Rsa2048 => JwsAlgorithm::Ps256,
            KeyType::Rsa3072 => JwsAlgorithm::Ps384,
            KeyType::Rsa4096 => JwsAlgorithm::Ps512,
            KeyType::P256 => JwsAlgorithm::Es256,
            KeyType::P384 => JwsAlgorithm::Es384,
            KeyType::P521 => JwsAlgorithm::Es512,
            KeyType::Ed25519 => return Err(Error::UnsupportedKey { key_type }),
        })
    }

    /// The COSE `alg` value (RFC 9053 / RFC 8230): PS256 -37, PS384 -38, PS512 -39,
    /// ES256 -7, ES384 -35, ES512 -36.
    pub fn cose_id(self) -> i64 {
        match self {
            JwsAlgorithm::Ps256 => -37,
            JwsAlgorithm::Ps384 => -38,
            JwsAlgorithm::Ps512 => -39,
            JwsAlgorithm::Es256 => -7,
            JwsAlgorithm::Es384 => -35,
            JwsAlgorithm::Es512 => -36,
        }
    }

    /// Parses a COSE `alg` value (only the six the Notary Project allows).
    pub fn from_cose_id(id: i64) -> Result<Self> {
        Ok(match id {
            -37 => JwsAlgorithm::Ps256,
            -38 => JwsAlgorithm::Ps384,
            -39 => JwsAlgorithm::Ps512,
            -7 => JwsAlgorithm::Es256,
            -35 => JwsAlgorithm::Es384,
            -36 => JwsAlgorithm::Es512,
            _ => {
                return Err(Error::UnsupportedAlgorithm {
                    alg: id.to_string(),
                });
            }
        })
    }

    /// The length of a raw `r||s` ECDSA signature, `None` for RSA.
    pub fn ecdsa_raw_len(self) -> Option<usize> {
        match self {
            JwsAlgorithm::Es256 => Some(64),
            JwsAlgorithm::Es384 => Some(96),
            JwsAlgorithm::Es512 => Some(132),
            _ => None,
        }
    }
}

/// Produces envelope signatures: RSASSA-PSS (salt length = hash length) bytes, or raw ECDSA
/// `r||s` (each half left-padded to the curve size) as both JWS and COSE require. The same
/// signer serves both envelope formats (see [`crate::EnvelopeSigner`]).
pub trait JwsSigner {
    /// Signs `input` (the JWS signing input, or the COSE `Sig_structure` bytes) with `alg`.
    fn sign(&self, alg: JwsAlgorithm, input: &[u8]) -> Result<Vec<u8>>;

    /// The algorithm, for signers that know it without a certificate chain in hand (a
    /// notation plugin's key spec, a signing service's key type); `None` takes it from the
    /// leaf of [`SignOptions::cert_chain`].
    fn algorithm(&self) -> Option<JwsAlgorithm> {
        None
    }

    /// The certificate chain (DER, leaf first) that came with the last signature, for
    /// signers that hand it out only with a signature (plugins, a signing service); `None`
    /// keeps [`SignOptions::cert_chain`]. Either way the chain is checked before use.
    fn certificate_chain(&self) -> Option<Vec<Vec<u8>>> {
        None
    }
}

/// The algorithm of a signature about to be made: the signer's own, else the one the leaf
/// of `cert_chain` (checked against the certificate requirements) needs.
pub(crate) fn signing_algorithm(
    options: &SignOptions<'_>,
    signer: &dyn JwsSigner,
) -> Result<JwsAlgorithm> {
    if let Some(alg) = signer.algorithm() {
        return Ok(alg);
    }
    let chain = certs::parse_chain(options.cert_chain)?;
    certs::check_signing_chain(&chain)?;
    JwsAlgorithm::for_key_type(leaf_key(&chain)?.key_type())
}

/// After signing: the chain for the envelope (the signer's, else the options'), checked
/// against the certificate requirements, and the signature checked with its leaf.
pub(crate) fn signed_chain(
    options: &SignOptions<'_>,
    signer: &dyn JwsSigner,
    alg: JwsAlgorithm,
    input: &[u8],
    signature: &[u8],
) -> Result<Vec<Vec<u8>>> {
    let ders = signer
        .certificate_chain()
        .unwrap_or_else(|| options.cert_chain.to_vec());
    let chain = certs::parse_chain(&ders)?;
    certs::check_signing_chain(&chain)?;
    let leaf = leaf_key(&chain)?;
    verify_signature(&leaf, alg, input, signature).map_err(|_| Error::SigningFailed {
        alg: alg.name().to_owned(),
        reason: "the signature does not verify with the leaf certificate's key".to_owned(),
    })?;
    Ok(ders)
}

impl JwsSigner for PrivateKey {
    fn sign(&self, alg: JwsAlgorithm, input: &[u8]) -> Result<Vec<u8>> {
        let expected = JwsAlgorithm::for_key_type(self.key_type())?;
        if alg != expected {
            return Err(Error::AlgorithmMismatch {
                alg: alg.name().to_owned(),
                key_type: self.key_type(),
                expected: expected.name().to_owned(),
            });
        }
        let failed = |reason: String| Error::SigningFailed {
            alg: alg.name().to_owned(),
            reason,
        };
        let with =
            |a: SignatureAlgorithm| self.sign_with(a, input).map_err(|e| failed(e.to_string()));
        match alg {
            JwsAlgorithm::Ps256 => with(SignatureAlgorithm::RsaPssSha256),
            JwsAlgorithm::Ps384 | JwsAlgorithm::Ps512 => {
                let encoding: &'static dyn aws_lc_rs::signature::RsaEncoding =
                    if alg == JwsAlgorithm::Ps384 {
                        &aws_lc_rs::signature::RSA_PSS_SHA384
                    } else {
                        &aws_lc_rs::signature::RSA_PSS_SHA512
                    };
                let pkcs8 = self.to_pkcs8_der();
                let kp = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| failed(e.to_string()))?;
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(
                    encoding,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    input,
                    &mut out,
                )
                .map_err(|e| failed(e.to_string()))?;
                Ok(out)
            }
            JwsAlgorithm::Es256 | JwsAlgorithm::Es384 | JwsAlgorithm::Es512 => {
                let der = with(self.key_type().default_algorithm())?;
                let len = alg.ecdsa_raw_len().unwrap_or_default() / 2;
                ecdsa_der_to_raw(&der, len).ok_or_else(|| {
                    failed("the signer returned a malformed ECDSA signature".to_owned())
                })
            }
        }
    }
}

/// Converts an ASN.1 DER ECDSA signature to `r||s` with each half `half` bytes long.
pub fn ecdsa_der_to_raw(der: &[u8], half: usize) -> Option<Vec<u8>> {
    fn take_len(b: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, rest) = b.split_first()?;
        match first {
            0..=0x7f => Some((usize::from(first), rest)),
            0x81 => {
                let (&l, rest) = rest.split_first()?;
                (l >= 0x80).then_some((usize::from(l), rest))
            }
            _ => None,
        }
    }
    fn take_int(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let (&tag, rest) = b.split_first()?;
        if tag != 0x02 {
            return None;
        }
        let (len, rest) = take_len(rest)?;
        if len == 0 || rest.len() < len {
            return None;
        }
        let (int, rest) = rest.split_at(len);
        if int[0] & 0x80 != 0 {
            return None;
        }
        let stripped = match int.iter().position(|b| *b != 0) {
            Some(i) => &int[i..],
            None => &int[int.len() - 1..],
        };
        Some((stripped, rest))
    }
    let (&tag, rest) = der.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, body) = take_len(rest)?;
    if body.len() != len {
        return None;
    }
    let (r, rest) = take_int(body)?;
    let (s, rest) = take_int(rest)?;
    if !rest.is_empty() || r.len() > half || s.len() > half {
        return None;
    }
    let mut out = vec![0u8; 2 * half];
    out[half - r.len()..half].copy_from_slice(r);
    out[2 * half - s.len()..].copy_from_slice(s);
    Some(out)
}

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignOptions<'a> {
    /// The payload bytes (normally [`crate::payload::Payload::to_json`]).
    pub payload: &'a [u8],
    /// The certificate chain, DER, leaf first, root included.
    pub cert_chain: &'a [Vec<u8>],
    /// The signing time (written in UTC, whole seconds).
    pub signing_time: SystemTime,
    /// The optional expiry (critical header when present).
    pub expiry: Option<SystemTime>,
    /// The signing agent, e.g. `signet/0.1.0`; omitted when empty.
    pub signing_agent: &'a str,
}

/// The signing scheme of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningScheme {
    /// `notary.x509`: signing time untrusted, trust anchored in CA certificates.
    X509,
    /// `notary.x509.signingAuthority`: authentic signing time from a signing authority.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::X509 => "notary.x509",
            SigningScheme::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }
}

/// Creates a Notary Project JWS envelope (`notary.x509`). `alg` follows the leaf
/// certificate's key; the chain must satisfy [`certs::check_signing_chain`]; the signature
/// is checked against the leaf key before the envelope is returned.
pub fn sign(options: &SignOptions<'_>, signer: &dyn JwsSigner) -> Result<Vec<u8>> {
    let alg = signing_algorithm(options, signer)?;

    let mut protected = Map::new();
    protected.insert("alg".to_owned(), Value::from(alg.name()));
    protected.insert("cty".to_owned(), Value::from(PAYLOAD_MEDIA_TYPE));
    protected.insert(
        HEADER_SIGNING_SCHEME.to_owned(),
        Value::from(SigningScheme::X509.as_str()),
    );
    protected.insert(
        HEADER_SIGNING_TIME.to_owned(),
        Value::from(rfc3339::format(options.signing_time)?),
    );
    let mut crit = vec![Value::from(HEADER_SIGNING_SCHEME)];
    if let Some(expiry) = options.expiry {
        protected.insert(
            HEADER_EXPIRY.to_owned(),
            Value::from(rfc3339::format(expiry)?),
        );
        crit.push(Value::from(HEADER_EXPIRY));
    }
    protected.insert("crit".to_owned(), Value::Array(crit));
    // Field order as notation-core-go writes it.
    let protected_json = ordered_protected_json(&protected)?;

    let protected_b64 = URL_SAFE_NO_PAD.encode(protected_json.as_bytes());
    let payload_b64 = URL_SAFE_NO_PAD.encode(options.payload);
    let input = format!("{protected_b64}.{payload_b64}");
    let signature = signer.sign(alg, input.as_bytes())?;
    let cert_chain = signed_chain(options, signer, alg, input.as_bytes(), &signature)?;

    let x5c: Vec<Value> = cert_chain
        .iter()
        .map(|der| Value::from(STANDARD.encode(der)))
        .collect();
    let mut header = Map::new();
    header.insert("x5c".to_owned(), Value::Array(x5c));
    if !options.signing_agent.is_empty() {
        header.insert(
            HEADER_SIGNING_AGENT.to_owned(),
            Value::from(options.signing_agent),
        );
    }
    serialize(&payload_b64, &protected_b64, header, &signature)
}

/// Writes the flattened JWS JSON in notation-core-go's member order.
fn serialize(
    payload_b64: &str,
    protected_b64: &str,
    header: Map<String, Value>,
    signature: &[u8],
) -> Result<Vec<u8>> {
    let envelope = format!(
        "{{\"payload\":{},\"protected\":{},\"header\":{},\"signature\":{}}}",
        json_string(payload_b64)?,
        json_string(protected_b64)?,
        serde_json::to_string(&Value::Object(header)).map_err(json_error)?,
        json_string(&URL_SAFE_NO_PAD.encode(signature))?,
    );
    Ok(envelope.into_bytes())
}

/// Adds an RFC 3161 timestamp token (DER) to a `notary.x509` envelope's unprotected header
/// as `io.cncf.notary.timestampSignature` (standard base64, as Go's `encoding/json` writes
/// bytes). The signed parts are untouched; the token is not verified here (see
/// [`crate::envelope::timestamp_envelope`]). Refuses an envelope that already has one.
pub fn attach_timestamp(bytes: &[u8], token: &[u8]) -> Result<Vec<u8>> {
    let envelope = Envelope::parse(bytes)?;
    if envelope.timestamp_signature.is_some() {
        return Err(Error::AlreadyTimestamped);
    }
    if envelope.signing_scheme != SigningScheme::X509 {
        return Err(Error::TimestampNotApplicable {
            scheme: envelope.signing_scheme.as_str(),
        });
    }
    let top: Value = serde_json::from_slice(bytes).map_err(json_error)?;
    let Value::Object(mut top) = top else {
        return Err(invalid("not a JSON object"));
    };
    let mut header = match take_member(&mut top, "header", "Header")? {
        Some(Value::Object(h)) => h,
        _ => return Err(invalid("header is not an object")),
    };
    header.insert(
        HEADER_TIMESTAMP_SIGNATURE.to_owned(),
        Value::from(STANDARD.encode(token)),
    );
    serialize(
        &envelope.payload_b64,
        &envelope.protected_b64,
        header,
        &envelope.signature,
    )
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Json {
        what: "JWS envelope",
        reason: e.to_string(),
    }
}

fn json_string(s: &str) -> Result<String> {
    serde_json::to_string(s).map_err(json_error)
}

/// Writes the protected header with keys in notation-core-go's order.
fn ordered_protected_json(map: &Map<String, Value>) -> Result<String> {
    let order = [
        "alg",
        "crit",
        "cty",
        HEADER_SIGNING_SCHEME,
        HEADER_SIGNING_TIME,
        HEADER_EXPIRY,
    ];
    let mut parts = Vec::new();
    for key in order {
        if let Some(v) = map.get(key) {
            parts.push(format!(
                "{}:{}",
                json_string(key)?,
                serde_json::to_string(v).map_err(json_error)?
            ));
        }
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

pub(crate) fn leaf_key(chain: &[Certificate]) -> Result<PublicKey> {
    let leaf = chain.first().ok_or(Error::EmptyChain)?;
    leaf.public_key().map_err(|e| Error::Certificate {
        index: 0,
        subject: leaf.subject(),
        reason: e.to_string(),
    })
}

/// Checks a raw envelope signature (RSASSA-PSS bytes, or ECDSA `r||s`) over `input` with
/// `key`, whose type must be the one `alg` needs.
pub fn verify_signature(
    key: &PublicKey,
    alg: JwsAlgorithm,
    input: &[u8],
    sig: &[u8],
) -> Result<()> {
    let bad = || Error::BadSignature {
        alg: alg.name().to_owned(),
    };
    let expected = JwsAlgorithm::for_key_type(key.key_type())?;
    if alg != expected {
        return Err(Error::AlgorithmMismatch {
            alg: alg.name().to_owned(),
            key_type: key.key_type(),
            expected: expected.name().to_owned(),
        });
    }
    match alg {
        JwsAlgorithm::Ps256 => key
            .verify_with(SignatureAlgorithm::RsaPssSha256, input, sig)
            .map_err(|_| bad()),
        JwsAlgorithm::Ps384 | JwsAlgorithm::Ps512 => {
            let params: &'static aws_lc_rs::signature::RsaParameters = if alg == JwsAlgorithm::Ps384
            {
                &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA384
            } else {
                &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA512
            };
            let spki = <spki::SubjectPublicKeyInfoRef<'_> as spki::der::Decode<'_>>::from_der(
                key.to_spki_der(),
            )
            .map_err(|_| bad())?;
            let pkcs1 = spki.subject_public_key.as_bytes().ok_or_else(bad)?;
            aws_lc_rs::signature::UnparsedPublicKey::new(params, pkcs1)
                .verify(input, sig)
                .map_err(|_| bad())
        }
        JwsAlgorithm::Es256 | JwsAlgorithm::Es384 | JwsAlgorithm::Es512 => {
            // JWS and COSE ECDSA signatures are raw r||s of exactly twice the curve size.
            if Some(sig.len()) != alg.ecdsa_raw_len() {
                return Err(bad());
            }
            key.verify_with(key.key_type().default_algorithm(), input, sig)
                .map_err(|_| bad())
        }
    }
}

/// A parsed, not yet verified, JWS envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    payload_b64: String,
    protected_b64: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The algorithm.
    pub alg: JwsAlgorithm,
    /// The signing scheme.
    pub signing_scheme: SigningScheme,
    /// `io.cncf.notary.signingTime` (or `authenticSigningTime` for the signing-authority scheme).
    pub signing_time: SystemTime,
    /// `io.cncf.notary.expiry`.
    pub expiry: Option<SystemTime>,
    /// The certificate chain from `x5c`, leaf first.
    pub cert_chain: Vec<Certificate>,
    /// `io.cncf.notary.signingAgent`, if present.
    pub signing_agent: Option<String>,
    /// `io.cncf.notary.timestampSignature` (decoded, not verified), if present.
    pub timestamp_signature: Option<Vec<u8>>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// A verified envelope: the signature checks with the leaf certificate's key. Trust in
/// the chain (trust store, policy, validity, revocation) is still the caller's job.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The envelope.
    pub envelope: Envelope,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidEnvelope {
        reason: reason.into(),
    }
}

fn b64url(field: &str, s: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).map_err(|e| Error::Base64 {
        field: field.to_owned(),
        reason: e.to_string(),
    })
}

/// Takes the member named `name` or its legacy spelling from `map`, refusing both at once.
fn take_member(map: &mut Map<String, Value>, name: &str, legacy: &str) -> Result<Option<Value>> {
    let a = map.remove(name);
    let b = map.remove(legacy);
    match (a, b) {
        (Some(_), Some(_)) => Err(invalid(format!("both {name} and {legacy} are present"))),
        (a, b) => Ok(a.or(b)),
    }
}

fn header_string(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::InvalidHeader {
            header: name.to_owned(),
            reason: "not a string".to_owned(),
        }),
    }
}

fn header_time(map: &Map<String, Value>, name: &'static str) -> Result<Option<SystemTime>> {
    header_string(map, name)?
        .map(|s| rfc3339::parse(&s))
        .transpose()
}

impl Envelope {
    /// Parses a flattened JWS JSON envelope strictly: only `payload`, `protected`, `header`
    /// and `signature` (old capitalised `Protected`/`Header`/`Signature` accepted); the
    /// Notary protected headers and `crit` rules; `x5c` in the unprotected header.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let top: Value = serde_json::from_slice(bytes).map_err(json_error)?;
        let Value::Object(mut top) = top else {
            return Err(invalid("not a JSON object"));
        };
        let mut string_member = |name: &str, legacy: &str| -> Result<String> {
            match take_member(&mut top, name, legacy)? {
                Some(Value::String(s)) => Ok(s),
                Some(_) => Err(invalid(format!("{name} is not a string"))),
                None => Err(invalid(format!("{name} is missing"))),
            }
        };
        let payload_b64 = string_member("payload", "Payload")?;
        let protected_b64 = string_member("protected", "Protected")?;
        let signature_b64 = string_member("signature", "Signature")?;
        let header = match take_member(&mut top, "header", "Header")? {
            Some(Value::Object(h)) => h,
            Some(_) => return Err(invalid("header is not an object")),
            None => return Err(invalid("header is missing")),
        };
        if let Some(extra) = top.keys().next() {
            return Err(invalid(format!(
                "unexpected top-level member {extra:?} (only the flattened serialization is allowed)"
            )));
        }
        let payload = b64url("payload", &payload_b64)?;
        let signature = b64url("signature", &signature_b64)?;
        let protected_json = b64url("protected", &protected_b64)?;
        let protected: Map<String, Value> = match serde_json::from_slice(&protected_json) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(invalid("the protected header is not a JSON object")),
            Err(e) => {
                return Err(Error::Json {
                    what: "protected header",
                    reason: e.to_string(),
                });
            }
        };
        let (alg, signing_scheme, signing_time, expiry) = parse_protected(&protected)?;
        let (cert_chain, signing_agent, timestamp_signature) = parse_unprotected(header)?;
        Ok(Envelope {
            payload_b64,
            protected_b64,
            payload,
            alg,
            signing_scheme,
            signing_time,
            expiry,
            cert_chain,
            signing_agent,
            timestamp_signature,
            signature,
        })
    }

    /// Verifies the signature with the leaf certificate's key (whose type must match `alg`).
    pub fn verify(self) -> Result<Verified> {
        let key = leaf_key(&self.cert_chain)?;
        let input = format!("{}.{}", self.protected_b64, self.payload_b64);
        verify_signature(&key, self.alg, input.as_bytes(), &self.signature)?;
        Ok(Verified { envelope: self })
    }
}

/// Parses and verifies an envelope (see [`Envelope::parse`] and [`Envelope::verify`]).
pub fn verify(bytes: &[u8]) -> Result<Verified> {
    Envelope::parse(bytes)?.verify()
}

type ProtectedFields = (JwsAlgorithm, SigningScheme, SystemTime, Option<SystemTime>);

fn parse_protected(p: &Map<String, Value>) -> Result<ProtectedFields> {
    let alg = header_string(p, "alg")?.ok_or(Error::MissingHeader { header: "alg" })?;
    let alg = JwsAlgorithm::from_name(&alg)?;
    let cty = header_string(p, "cty")?.ok_or(Error::MissingHeader { header: "cty" })?;
    if cty != PAYLOAD_MEDIA_TYPE {
        return Err(Error::InvalidHeader {
            header: "cty".to_owned(),
            reason: format!("{cty:?} is not {PAYLOAD_MEDIA_TYPE}"),
        });
    }
    let scheme = header_string(p, HEADER_SIGNING_SCHEME)?.ok_or(Error::MissingHeader {
        header: HEADER_SIGNING_SCHEME,
    })?;
    let scheme = match scheme.as_str() {
        "notary.x509" => SigningScheme::X509,
        "notary.x509.signingAuthority" => SigningScheme::X509SigningAuthority,
        other => {
            return Err(Error::InvalidHeader {
                header: HEADER_SIGNING_SCHEME.to_owned(),
                reason: format!("unknown signing scheme {other:?}"),
            });
        }
    };
    let signing_time_header = match scheme {
        SigningScheme::X509 => HEADER_SIGNING_TIME,
        SigningScheme::X509SigningAuthority => HEADER_AUTHENTIC_SIGNING_TIME,
    };
    let signing_time = header_time(p, signing_time_header)?.ok_or(Error::MissingHeader {
        header: signing_time_header,
    })?;
    // Validate the other time header too when present.
    header_time(p, HEADER_SIGNING_TIME)?;
    header_time(p, HEADER_AUTHENTIC_SIGNING_TIME)?;
    let expiry = header_time(p, HEADER_EXPIRY)?;

    let crit = match p.get("crit") {
        None => return Err(Error::MissingHeader { header: "crit" }),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(Error::InvalidHeader {
                    header: "crit".to_owned(),
                    reason: "entries must be strings".to_owned(),
                }),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(Error::InvalidHeader {
                header: "crit".to_owned(),
                reason: "must be a non-empty array".to_owned(),
            });
        }
    };
    let mut seen = BTreeMap::new();
    for name in &crit {
        if seen.insert(name.as_str(), ()).is_some() {
            return Err(Error::InvalidHeader {
                header: "crit".to_owned(),
                reason: format!("{name:?} listed twice"),
            });
        }
        if REGISTERED_HEADERS.contains(&name.as_str()) {
            return Err(Error::InvalidHeader {
                header: "crit".to_owned(),
                reason: format!("must not list the registered header {name:?}"),
            });
        }
        let understood = [
            HEADER_SIGNING_SCHEME,
            HEADER_EXPIRY,
            HEADER_AUTHENTIC_SIGNING_TIME,
        ];
        if !understood.contains(&name.as_str()) {
            return Err(Error::UnsupportedCriticalHeader {
                header: name.clone(),
            });
        }
        if !p.contains_key(name) {
            return Err(Error::InvalidHeader {
                header: "crit".to_owned(),
                reason: format!("lists {name:?}, which is absent"),
            });
        }
    }
    let must_be_critical = [
        Some(HEADER_SIGNING_SCHEME),
        expiry.map(|_| HEADER_EXPIRY),
        p.contains_key(HEADER_AUTHENTIC_SIGNING_TIME)
            .then_some(HEADER_AUTHENTIC_SIGNING_TIME),
    ];
    for name in must_be_critical.into_iter().flatten() {
        if !seen.contains_key(name) {
            return Err(Error::InvalidHeader {
                header: "crit".to_owned(),
                reason: format!("must list {name}"),
            });
        }
    }
    Ok((alg, scheme, signing_time, expiry))
}

type UnprotectedFields = (Vec<Certificate>, Option<String>, Option<Vec<u8>>);

fn parse_unprotected(mut h: Map<String, Value>) -> Result<UnprotectedFields> {
    let x5c = match h.remove("x5c") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => {
            return Err(Error::InvalidHeader {
                header: "x5c".to_owned(),
                reason: "must be a non-empty array".to_owned(),
            });
        }
        None => return Err(Error::MissingHeader { header: "x5c" }),
    };
    let ders = x5c
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => STANDARD.decode(s).map_err(|e| Error::Base64 {
                field: format!("x5c[{i}]"),
                reason: e.to_string(),
            }),
            _ => Err(Error::InvalidHeader {
                header: "x5c".to_owned(),
                reason: "entries must be strings".to_owned(),
            }),
        })
        .collect::<Result<Vec<_>>>()?;
    let chain = certs::parse_chain(&ders)?;
    let signing_agent = match take_member(&mut h, HEADER_SIGNING_AGENT, LEGACY_SIGNING_AGENT)? {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(Error::InvalidHeader {
                header: HEADER_SIGNING_AGENT.to_owned(),
                reason: "not a string".to_owned(),
            });
        }
    };
    let timestamp = match take_member(
        &mut h,
        HEADER_TIMESTAMP_SIGNATURE,
        LEGACY_TIMESTAMP_SIGNATURE,
    )? {
        None => None,
        Some(Value::String(s)) => Some(STANDARD.decode(&s).map_err(|e| Error::Base64 {
            field: HEADER_TIMESTAMP_SIGNATURE.to_owned(),
            reason: e.to_string(),
        })?),
        Some(_) => {
            return Err(Error::InvalidHeader {
                header: HEADER_TIMESTAMP_SIGNATURE.to_owned(),
                reason: "not a string".to_owned(),
            });
        }
    };
    // Other unprotected headers (plugin vendor headers) are ignored.
    Ok((chain, signing_agent, timestamp))
}
