//! Compact JWE (RFC 7516) for handing secrets to a client that registered a public key.
//!
//! The recipient's key decides the key management algorithm (RFC 7518):
//!
//! * RSA (2048/3072/4096): `RSA-OAEP`, i.e. RSAES-OAEP with SHA-1 and MGF1-SHA-1;
//! * EC P-256/P-384/P-521: `ECDH-ES+A256KW`, an ephemeral key on the recipient's curve
//!   (published as the `epk` JWK in the protected header), the Concat KDF of RFC 7518
//!   §4.6.2 with SHA-256, then AES-256 key wrap (RFC 3394) of the content key.
//!
//! Content is always encrypted with `A256GCM`: a random 256-bit content encryption key
//! (CEK), a random 96-bit IV, the ASCII of the base64url protected header as AAD and a
//! 128-bit tag. Ed25519 keys cannot encrypt and are refused with
//! [`Error::UnsupportedJweKey`].
//!
//! Decryption is strict and fails closed: exactly five parts of unpadded base64url, a
//! protected header that is a JSON object with the `alg` that fits the key and
//! `enc` = `A256GCM`, no `crit` (signet understands no extension) and no `zip`; an `epk` on
//! the key's curve whose point is valid; the tag must verify. Every refusal is
//! [`Error::InvalidJwe`] with a [`JweRejection`] saying why, in one line that never contains
//! key material. A header member that appears twice counts with its last value, which
//! RFC 7515 §4 allows (and what Python's and Go's JSON decoders do too).
//!
//! A failed RSA-OAEP decryption is not reported as such: as RFC 7516 §11.5 advises, a random
//! CEK takes the place of the missing one, so that the failure surfaces as the same
//! [`JweRejection::DecryptionFailed`] as a wrong tag and gives no padding oracle.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{
    self, ECDH_P256, ECDH_P384, ECDH_P521, EphemeralPrivateKey, UnparsedPublicKey,
};
use aws_lc_rs::digest;
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap as _};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{Error, KeyType, PrivateKey, PublicKey};

/// The `alg` for RSA recipients: RSAES-OAEP with SHA-1 and MGF1-SHA-1 (RFC 7518 §4.3).
pub const ALG_RSA_OAEP: &str = "RSA-OAEP";
/// The `alg` for EC recipients: ECDH-ES with AES-256 key wrap (RFC 7518 §4.6).
pub const ALG_ECDH_ES_A256KW: &str = "ECDH-ES+A256KW";
/// The only `enc`: AES-256 in GCM mode (RFC 7518 §5.3).
pub const ENC_A256GCM: &str = "A256GCM";
/// The `cty` that [`EncryptOptions::with_json_content_type`] adds.
pub const CTY_JSON: &str = "application/json";

/// Length of the content encryption key (A256GCM) and of the key wrap key (A256KW).
const KEY_LEN: usize = 32;
/// GCM IV length (96 bits).
const IV_LEN: usize = 12;
/// GCM tag length (128 bits).
const TAG_LEN: usize = 16;
/// AES key wrap adds one 64-bit block to the wrapped key.
const WRAPPED_KEY_LEN: usize = KEY_LEN + 8;

/// The five parts of a compact JWE, to name the one that is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwePart {
    /// Part 1: the base64url protected header.
    ProtectedHeader,
    /// Part 2: the encrypted (RSA-OAEP) or wrapped (A256KW) content encryption key.
    EncryptedKey,
    /// Part 3: the initialization vector.
    Iv,
    /// Part 4: the ciphertext.
    Ciphertext,
    /// Part 5: the authentication tag.
    Tag,
}

impl fmt::Display for JwePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwePart::ProtectedHeader => "protected header",
            JwePart::EncryptedKey => "encrypted key",
            JwePart::Iv => "initialization vector",
            JwePart::Ciphertext => "ciphertext",
            JwePart::Tag => "authentication tag",
        })
    }
}

/// Why a compact JWE was refused (the `reason` of [`Error::InvalidJwe`]). Strings taken from
/// the JWE are shortened and escaped so that every message stays on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JweRejection {
    /// Not five dot-separated parts.
    #[error("a compact JWE has 5 dot-separated parts, found {found}")]
    PartCount {
        /// The number of parts found.
        found: usize,
    },

    /// A part is not unpadded, canonical base64url.
    #[error("the {part} is not unpadded base64url")]
    Base64 {
        /// The offending part.
        part: JwePart,
    },

    /// A part has the wrong length for the algorithm.
    #[error("the {part} is {found} bytes long, {expected} expected")]
    Length {
        /// The offending part.
        part: JwePart,
        /// Its length in bytes.
        found: usize,
        /// The length the algorithm needs.
        expected: usize,
    },

    /// The protected header is not a JSON object.
    #[error("the protected header is not a JSON object")]
    HeaderNotJson,

    /// A header member the algorithm needs is missing.
    #[error("the protected header has no \"{name}\"")]
    MissingHeaderMember {
        /// The member's name.
        name: &'static str,
    },

    /// A header member has the wrong JSON type or encoding.
    #[error("the protected header member \"{name}\" is not valid")]
    InvalidHeaderMember {
        /// The member's name.
        name: &'static str,
    },

    /// The `alg` is not the one the key calls for.
    #[error("alg \"{found}\" does not fit the {key_type} key ({expected} needed)")]
    AlgorithmMismatch {
        /// The `alg` found (shortened, escaped).
        found: String,
        /// The `alg` the key calls for.
        expected: &'static str,
        /// The decryption key's type.
        key_type: KeyType,
    },

    /// The `enc` is not `A256GCM`.
    #[error("enc \"{found}\" is not supported (A256GCM needed)")]
    UnsupportedEncryption {
        /// The `enc` found (shortened, escaped).
        found: String,
    },

    /// The header has a `crit` member: it names extensions signet does not implement.
    #[error("the protected header has \"crit\"; no critical extension is supported")]
    CriticalHeader,

    /// The header asks for compression (`zip`), which signet does not do.
    #[error("compressed JWE (\"zip\") is not supported")]
    Compressed,

    /// The `epk` is not a valid EC public JWK.
    #[error("invalid epk: {reason}")]
    InvalidEpk {
        /// What is wrong.
        reason: &'static str,
    },

    /// The `epk` is on another curve than the decryption key.
    #[error("epk curve \"{found}\" does not match the key's curve {expected}")]
    EpkCurveMismatch {
        /// The `crv` found (shortened, escaped).
        found: String,
        /// The decryption key's curve.
        expected: &'static str,
    },

    /// The tag did not verify or the content key could not be recovered: a wrong key or an
    /// altered JWE (the two cannot be told apart, on purpose).
    #[error("decryption failed (wrong key, or the JWE was altered)")]
    DecryptionFailed,
}

/// Options of [`encrypt_compact_with`]; the default is what [`encrypt_compact`] does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptOptions {
    /// Add `"cty":"application/json"` to the protected header.
    pub json_content_type: bool,
    /// Agreement PartyUInfo (`apu`, ECDH-ES only); empty in the KDF when `None`.
    pub apu: Option<Vec<u8>>,
    /// Agreement PartyVInfo (`apv`, ECDH-ES only); empty in the KDF when `None`.
    pub apv: Option<Vec<u8>>,
}

impl EncryptOptions {
    /// Adds `"cty":"application/json"` to the protected header.
    #[must_use]
    pub fn with_json_content_type(mut self) -> Self {
        self.json_content_type = true;
        self
    }

    /// Sets the ECDH-ES `apu` and `apv` (written to the header, fed to the Concat KDF).
    /// Encryption to an RSA key refuses them.
    #[must_use]
    pub fn with_party_info(mut self, apu: Option<Vec<u8>>, apv: Option<Vec<u8>>) -> Self {
        self.apu = apu;
        self.apv = apv;
        self
    }
}

/// The three curves ECDH-ES works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Length in bytes of one coordinate (the JWK `x` and `y`).
    fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            Curve::P256 => &ECDH_P256,
            Curve::P384 => &ECDH_P384,
            Curve::P521 => &ECDH_P521,
        }
    }
}

/// The key management a key calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyManagement {
    RsaOaep,
    EcdhEs(Curve),
}

impl KeyManagement {
    fn for_key_type(key_type: KeyType) -> Result<Self, Error> {
        match key_type {
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => Ok(KeyManagement::RsaOaep),
            KeyType::P256 => Ok(KeyManagement::EcdhEs(Curve::P256)),
            KeyType::P384 => Ok(KeyManagement::EcdhEs(Curve::P384)),
            KeyType::P521 => Ok(KeyManagement::EcdhEs(Curve::P521)),
            KeyType::Ed25519 => Err(Error::UnsupportedJweKey { key_type }),
        }
    }

    fn alg(self) -> &'static str {
        match self {
            KeyManagement::RsaOaep => ALG_RSA_OAEP,
            KeyManagement::EcdhEs(_) => ALG_ECDH_ES_A256KW,
        }
    }
}

/// The `alg` a JWE to `recipient` uses: `"RSA-OAEP"` for RSA keys, `"ECDH-ES+A256KW"` for
/// P-256/P-384/P-521 keys; other keys (Ed25519) are refused.
pub fn algorithm_for(recipient: &PublicKey) -> Result<&'static str, Error> {
    KeyManagement::for_key_type(recipient.key_type()).map(KeyManagement::alg)
}

/// Encrypts `plaintext` to `recipient` as a compact JWE with the key's algorithm (see
/// [`algorithm_for`]) and `A256GCM`. The protected header is
/// `{"alg":…,"enc":"A256GCM"}`, plus the `epk` for ECDH-ES.
pub fn encrypt_compact(recipient: &PublicKey, plaintext: &[u8]) -> Result<String, Error> {
    encrypt_compact_with(recipient, plaintext, &EncryptOptions::default())
}

/// [`encrypt_compact`] with options: a JSON `cty`, ECDH-ES `apu`/`apv`.
pub fn encrypt_compact_with(
    recipient: &PublicKey,
    plaintext: &[u8],
    options: &EncryptOptions,
) -> Result<String, Error> {
    let management = KeyManagement::for_key_type(recipient.key_type())?;
    let rng = SystemRandom::new();
    let mut cek = Zeroizing::new([0u8; KEY_LEN]);
    rng.fill(cek.as_mut()).map_err(|_| Error::Random)?;

    let mut header = format!(r#"{{"alg":"{}","enc":"{ENC_A256GCM}""#, management.alg());
    if options.json_content_type {
        header.push_str(&format!(r#","cty":"{CTY_JSON}""#));
    }
    let encrypted_key = match management {
        KeyManagement::RsaOaep => {
            if options.apu.is_some() || options.apv.is_some() {
                return Err(encryption_failed(
                    "apu and apv are only defined for ECDH-ES, not for an RSA key",
                ));
            }
            rsa_oaep_encrypt(recipient, cek.as_ref())?
        }
        KeyManagement::EcdhEs(curve) => {
            let apu = options.apu.as_deref().unwrap_or_default();
            let apv = options.apv.as_deref().unwrap_or_default();
            for (name, value) in [("apu", &options.apu), ("apv", &options.apv)] {
                if let Some(value) = value {
                    header.push_str(&format!(r#","{name}":"{}""#, b64(value)));
                }
            }
            let (epk, wrapped) = ecdh_es_wrap(recipient, curve, apu, apv, &cek, &rng)?;
            header.push_str(&format!(r#","epk":{epk}"#));
            wrapped
        }
    };
    header.push('}');
    let header_b64 = b64(header.as_bytes());

    let mut iv = [0u8; IV_LEN];
    rng.fill(&mut iv).map_err(|_| Error::Random)?;
    let key = gcm_key(&cek).map_err(|_| encryption_failed("the AES-256-GCM key is refused"))?;
    let mut ciphertext = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| encryption_failed("AES-256-GCM encryption failed"))?;
    Ok(format!(
        "{header_b64}.{}.{}.{}.{}",
        b64(&encrypted_key),
        b64(&iv),
        b64(&ciphertext),
        b64(tag.as_ref())
    ))
}

/// Decrypts a compact JWE made for `key` (see the module documentation for what is
/// refused) and returns the plaintext.
pub fn decrypt_compact(key: &PrivateKey, compact: &str) -> Result<Vec<u8>, Error> {
    let management = KeyManagement::for_key_type(key.key_type())?;
    let found = compact.split('.').count();
    let [header_b64, encrypted_key, iv, ciphertext, tag] =
        <[&str; 5]>::try_from(compact.split('.').collect::<Vec<_>>())
            .map_err(|_| invalid(JweRejection::PartCount { found }))?;

    let header = parse_header(&unb64(header_b64, JwePart::ProtectedHeader)?)?;
    let encrypted_key = Zeroizing::new(unb64(encrypted_key, JwePart::EncryptedKey)?);
    let iv = unb64(iv, JwePart::Iv)?;
    let mut ciphertext = unb64(ciphertext, JwePart::Ciphertext)?;
    let tag = unb64(tag, JwePart::Tag)?;

    if header.contains_key("crit") {
        return Err(invalid(JweRejection::CriticalHeader));
    }
    if header.contains_key("zip") {
        return Err(invalid(JweRejection::Compressed));
    }
    let alg = header_str(&header, "alg")?;
    if alg != management.alg() {
        return Err(invalid(JweRejection::AlgorithmMismatch {
            found: shorten(alg),
            expected: management.alg(),
            key_type: key.key_type(),
        }));
    }
    let enc = header_str(&header, "enc")?;
    if enc != ENC_A256GCM {
        return Err(invalid(JweRejection::UnsupportedEncryption {
            found: shorten(enc),
        }));
    }
    let iv: [u8; IV_LEN] = iv.as_slice().try_into().map_err(|_| {
        invalid(JweRejection::Length {
            part: JwePart::Iv,
            found: iv.len(),
            expected: IV_LEN,
        })
    })?;
    if tag.len() != TAG_LEN {
        return Err(invalid(JweRejection::Length {
            part: JwePart::Tag,
            found: tag.len(),
            expected: TAG_LEN,
        }));
    }

    let cek = match management {
        KeyManagement::RsaOaep => rsa_oaep_decrypt(key, &encrypted_key)?,
        KeyManagement::EcdhEs(curve) => ecdh_es_unwrap(key, curve, &header, &encrypted_key)?,
    };

    let gcm = gcm_key(&cek).map_err(|_| invalid(JweRejection::DecryptionFailed))?;
    ciphertext.extend_from_slice(&tag);
    let plaintext_len = gcm
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| invalid(JweRejection::DecryptionFailed))?
        .len();
    ciphertext.truncate(plaintext_len);
    Ok(ciphertext)
}

fn invalid(reason: JweRejection) -> Error {
    Error::InvalidJwe { reason }
}

fn encryption_failed(reason: &'static str) -> Error {
    Error::JweEncryptionFailed { reason }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url: no padding, no whitespace, no stray trailing bits.
fn unb64(text: &str, part: JwePart) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| invalid(JweRejection::Base64 { part }))
}

/// At most 40 characters of an untrusted string, escaped to printable ASCII.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push_str("...");
    }
    out
}

fn gcm_key(cek: &[u8; KEY_LEN]) -> Result<LessSafeKey, Unspecified> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek)?))
}

fn parse_header(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid(JweRejection::HeaderNotJson)),
    }
}

/// A required string member of the header.
fn header_str<'h>(header: &'h Map<String, Value>, name: &'static str) -> Result<&'h str, Error> {
    match header.get(name) {
        None => Err(invalid(JweRejection::MissingHeaderMember { name })),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(JweRejection::InvalidHeaderMember { name })),
    }
}

/// An optional base64url member (`apu`, `apv`), empty when absent.
fn header_b64_bytes(header: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, Error> {
    match header.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| invalid(JweRejection::InvalidHeaderMember { name })),
        Some(_) => Err(invalid(JweRejection::InvalidHeaderMember { name })),
    }
}

fn rsa_oaep_encrypt(recipient: &PublicKey, cek: &[u8]) -> Result<Vec<u8>, Error> {
    let key = PublicEncryptingKey::from_der(recipient.to_spki_der())
        .map_err(|_| encryption_failed("the RSA public key is refused for encryption"))?;
    let key = OaepPublicEncryptingKey::new(key)
        .map_err(|_| encryption_failed("the RSA public key is refused for RSA-OAEP"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, cek, &mut out, None)
        .map_err(|_| encryption_failed("RSA-OAEP encryption failed"))?
        .len();
    out.truncate(len);
    Ok(out)
}

fn rsa_oaep_decrypt(
    key: &PrivateKey,
    encrypted_key: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let private =
        PrivateDecryptingKey::from_pkcs8(&key.to_pkcs8_der()).map_err(|_| Error::MalformedKey {
            what: "RSA private key",
            reason: "refused by the crypto engine for decryption".to_owned(),
        })?;
    let private = OaepPrivateDecryptingKey::new(private).map_err(|_| Error::MalformedKey {
        what: "RSA private key",
        reason: "refused by the crypto engine for RSA-OAEP".to_owned(),
    })?;
    if encrypted_key.len() != private.key_size_bytes() {
        return Err(invalid(JweRejection::Length {
            part: JwePart::EncryptedKey,
            found: encrypted_key.len(),
            expected: private.key_size_bytes(),
        }));
    }
    // RFC 7516 §11.5: on failure carry on with a random CEK, so that the tag check fails
    // the same way as for any other alteration.
    let mut cek = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(cek.as_mut())
        .map_err(|_| Error::Random)?;
    let mut out = Zeroizing::new(vec![0u8; private.min_output_size()]);
    if let Ok(decrypted) = private.decrypt(&OAEP_SHA1_MGF1SHA1, encrypted_key, &mut out, None)
        && decrypted.len() == KEY_LEN
    {
        cek.copy_from_slice(decrypted);
    }
    Ok(cek)
}

/// Makes the ephemeral key, derives the key wrap key and wraps `cek`; returns the `epk` JWK
/// (JSON) and the wrapped key.
fn ecdh_es_wrap(
    recipient: &PublicKey,
    curve: Curve,
    apu: &[u8],
    apv: &[u8],
    cek: &[u8; KEY_LEN],
    rng: &SystemRandom,
) -> Result<(String, Vec<u8>), Error> {
    let ephemeral = EphemeralPrivateKey::generate(curve.agreement(), rng)
        .map_err(|_| encryption_failed("generating the ephemeral EC key failed"))?;
    let public = ephemeral
        .compute_public_key()
        .map_err(|_| encryption_failed("computing the ephemeral public key failed"))?;
    let point = public.as_ref();
    let len = curve.coordinate_len();
    if point.len() != 1 + 2 * len || point[0] != 0x04 {
        return Err(encryption_failed(
            "the ephemeral public key is not an uncompressed point",
        ));
    }
    let (x, y) = point[1..].split_at(len);
    let epk = format!(
        r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
        curve.name(),
        b64(x),
        b64(y)
    );
    let kek = agreement::agree_ephemeral(
        ephemeral,
        UnparsedPublicKey::new(curve.agreement(), recipient.to_spki_der()),
        encryption_failed("ECDH with the recipient's key failed"),
        |z| {
            concat_kdf(z, ALG_ECDH_ES_A256KW, apu, apv, KEY_LEN)
                .map_err(|_| encryption_failed("the Concat KDF input is too long"))
        },
    )?;
    let kek = AesKek::new(&AES_256, &kek)
        .map_err(|_| encryption_failed("the AES-256 key wrap key is refused"))?;
    let mut wrapped = vec![0u8; WRAPPED_KEY_LEN];
    let wrapped_len = kek
        .wrap(cek, &mut wrapped)
        .map_err(|_| encryption_failed("AES-256 key wrap failed"))?
        .len();
    wrapped.truncate(wrapped_len);
    Ok((epk, wrapped))
}

/// Checks the `epk`, agrees on the key wrap key and unwraps the CEK.
fn ecdh_es_unwrap(
    key: &PrivateKey,
    curve: Curve,
    header: &Map<String, Value>,
    wrapped: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let point = epk_point(header, curve)?;
    let apu = header_b64_bytes(header, "apu")?;
    let apv = header_b64_bytes(header, "apv")?;
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(invalid(JweRejection::Length {
            part: JwePart::EncryptedKey,
            found: wrapped.len(),
            expected: WRAPPED_KEY_LEN,
        }));
    }
    let private =
        agreement::PrivateKey::from_private_key_der(curve.agreement(), &key.to_pkcs8_der())
            .map_err(|_| Error::MalformedKey {
                what: "EC private key",
                reason: "refused by the crypto engine for ECDH".to_owned(),
            })?;
    let kek = agreement::agree(
        &private,
        UnparsedPublicKey::new(curve.agreement(), &point),
        invalid(JweRejection::InvalidEpk {
            reason: "the point is not on the curve",
        }),
        |z| {
            concat_kdf(z, ALG_ECDH_ES_A256KW, &apu, &apv, KEY_LEN)
                .map_err(|_| invalid(JweRejection::InvalidHeaderMember { name: "apu or apv" }))
        },
    )?;
    let kek = AesKek::new(&AES_256, &kek).map_err(|_| invalid(JweRejection::DecryptionFailed))?;
    let mut cek = Zeroizing::new([0u8; KEY_LEN]);
    let unwrapped_len = kek
        .unwrap(wrapped, cek.as_mut())
        .map_err(|_| invalid(JweRejection::DecryptionFailed))?
        .len();
    if unwrapped_len != KEY_LEN {
        return Err(invalid(JweRejection::DecryptionFailed));
    }
    Ok(cek)
}

/// The `epk` of the header as an uncompressed SEC1 point of `curve`. The point itself is
/// validated by the engine during the agreement.
fn epk_point(header: &Map<String, Value>, curve: Curve) -> Result<Vec<u8>, Error> {
    let epk_error = |reason| invalid(JweRejection::InvalidEpk { reason });
    let epk = match header.get("epk") {
        None => return Err(invalid(JweRejection::MissingHeaderMember { name: "epk" })),
        Some(Value::Object(epk)) => epk,
        Some(_) => return Err(epk_error("not a JSON object")),
    };
    let member = |name: &'static str| match epk.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(epk_error("a member is not a string")),
        None => Err(epk_error("kty, crv, x or y is missing")),
    };
    if member("kty")? != "EC" {
        return Err(epk_error("kty is not \"EC\""));
    }
    if epk.contains_key("d") {
        return Err(epk_error("it holds a private key (\"d\")"));
    }
    let crv = member("crv")?;
    if crv != curve.name() {
        return Err(invalid(JweRejection::EpkCurveMismatch {
            found: shorten(crv),
            expected: curve.name(),
        }));
    }
    let mut point = Vec::with_capacity(1 + 2 * curve.coordinate_len());
    point.push(0x04);
    for name in ["x", "y"] {
        let coordinate = URL_SAFE_NO_PAD
            .decode(member(name)?)
            .map_err(|_| epk_error("x or y is not unpadded base64url"))?;
        if coordinate.len() != curve.coordinate_len() {
            return Err(epk_error("x or y does not have the curve's length"));
        }
        point.extend_from_slice(&coordinate);
    }
    Ok(point)
}

/// The Concat KDF of NIST SP 800-56A as profiled by RFC 7518 §4.6.2, with SHA-256:
/// `key_len` bytes from `SHA-256(counter || Z || OtherInfo)` rounds, where OtherInfo is
/// `AlgorithmID || PartyUInfo || PartyVInfo` (each a 32-bit big-endian length and the bytes)
/// followed by `SuppPubInfo` (the key length in bits, 32-bit big-endian).
fn concat_kdf(
    z: &[u8],
    algorithm_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, Unspecified> {
    let be32 = |n: usize| {
        u32::try_from(n)
            .map(u32::to_be_bytes)
            .map_err(|_| Unspecified)
    };
    let key_bits = be32(key_len.checked_mul(8).ok_or(Unspecified)?)?;
    let mut out = Zeroizing::new(Vec::with_capacity(key_len + digest::SHA256_OUTPUT_LEN));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        for field in [algorithm_id.as_bytes(), apu, apv] {
            ctx.update(&be32(field.len())?);
            ctx.update(field);
        }
        ctx.update(&key_bits);
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.checked_add(1).ok_or(Unspecified)?;
    }
    out.truncate(key_len);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;
    use std::sync::OnceLock;

    /// One key per type, generated on first use and shared by the tests of a process (RSA
    /// generation is slow).
    fn key(key_type: KeyType) -> &'static PrivateKey {
        static KEYS: [OnceLock<PrivateKey>; KeyType::ALL.len()] =
            [const { OnceLock::new() }; KeyType::ALL.len()];
        let index = KeyType::ALL.iter().position(|t| *t == key_type).unwrap();
        KEYS[index].get_or_init(|| PrivateKey::generate(key_type).unwrap())
    }

    fn parts(compact: &str) -> Vec<String> {
        compact.split('.').map(str::to_owned).collect()
    }

    fn header_of(compact: &str) -> Value {
        serde_json::from_slice(&unb64(&parts(compact)[0], JwePart::ProtectedHeader).unwrap())
            .unwrap()
    }

    /// The JWE with part `index` decoded, changed by `f` and encoded again.
    fn with_part(compact: &str, index: usize, f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut parts = parts(compact);
        let mut bytes = URL_SAFE_NO_PAD.decode(&parts[index]).unwrap();
        f(&mut bytes);
        parts[index] = b64(&bytes);
        parts.join(".")
    }

    /// The JWE with its protected header replaced by `header` (JSON).
    fn with_header(compact: &str, header: &Value) -> String {
        with_part(compact, 0, |bytes| {
            *bytes = serde_json::to_vec(header).unwrap();
        })
    }

    fn rejection(result: Result<Vec<u8>, Error>) -> JweRejection {
        match result {
            Err(Error::InvalidJwe { reason }) => reason,
            other => panic!("expected an invalid JWE, got {other:?}"),
        }
    }

    const ENCRYPTING: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::P256,
        KeyType::P384,
        KeyType::P521,
    ];

    #[rstest]
    #[case(KeyType::Rsa2048, ALG_RSA_OAEP)]
    #[case(KeyType::Rsa3072, ALG_RSA_OAEP)]
    #[case(KeyType::Rsa4096, ALG_RSA_OAEP)]
    #[case(KeyType::P256, ALG_ECDH_ES_A256KW)]
    #[case(KeyType::P384, ALG_ECDH_ES_A256KW)]
    #[case(KeyType::P521, ALG_ECDH_ES_A256KW)]
    fn round_trip(#[case] key_type: KeyType, #[case] alg: &str) {
        let key = key(key_type);
        let public = key.public_key();
        assert_eq!(algorithm_for(&public), Ok(alg));
        for plaintext in [&b""[..], b"x", br#"{"secret":"s3cr3t"}"#, &[0xa5; 5000]] {
            let jwe = encrypt_compact(&public, plaintext).unwrap();
            assert_eq!(parts(&jwe).len(), 5);
            assert_eq!(decrypt_compact(key, &jwe).unwrap(), plaintext);
        }
        let jwe = encrypt_compact(&public, b"secret").unwrap();
        let header = header_of(&jwe);
        let object = header.as_object().unwrap();
        assert_eq!(header["alg"], alg);
        assert_eq!(header["enc"], "A256GCM");
        let expected_len = match key_type {
            KeyType::Rsa2048 => 256,
            KeyType::Rsa3072 => 384,
            KeyType::Rsa4096 => 512,
            _ => 40,
        };
        let p = parts(&jwe);
        assert_eq!(URL_SAFE_NO_PAD.decode(&p[1]).unwrap().len(), expected_len);
        assert_eq!(URL_SAFE_NO_PAD.decode(&p[2]).unwrap().len(), 12);
        assert_eq!(URL_SAFE_NO_PAD.decode(&p[3]).unwrap().len(), 6);
        assert_eq!(URL_SAFE_NO_PAD.decode(&p[4]).unwrap().len(), 16);
        if key_type.is_rsa() {
            assert_eq!(object.len(), 2);
            assert_eq!(
                URL_SAFE_NO_PAD.decode(&p[0]).unwrap(),
                br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#
            );
        } else {
            assert_eq!(object.len(), 3);
            let epk = header["epk"].as_object().unwrap();
            assert_eq!(epk.len(), 4);
            assert_eq!(epk["kty"], "EC");
            let curve = match key_type {
                KeyType::P256 => Curve::P256,
                KeyType::P384 => Curve::P384,
                _ => Curve::P521,
            };
            assert_eq!(epk["crv"], curve.name());
            for c in ["x", "y"] {
                let bytes = URL_SAFE_NO_PAD.decode(epk[c].as_str().unwrap()).unwrap();
                assert_eq!(bytes.len(), curve.coordinate_len());
            }
        }
        // Fresh CEK, IV (and ephemeral key) every time.
        let again = encrypt_compact(&public, b"secret").unwrap();
        let (p, q) = (parts(&jwe), parts(&again));
        assert_ne!(p[1], q[1]);
        assert_ne!(p[2], q[2]);
    }

    #[test]
    fn ed25519_is_refused() {
        let key = key(KeyType::Ed25519);
        let err = algorithm_for(&key.public_key()).unwrap_err();
        assert_eq!(
            err,
            Error::UnsupportedJweKey {
                key_type: KeyType::Ed25519
            }
        );
        assert_eq!(
            err.to_string(),
            "ed25519 keys cannot be JWE recipients (RSA keys use RSA-OAEP, P-256/P-384/P-521 keys ECDH-ES+A256KW)"
        );
        assert_eq!(encrypt_compact(&key.public_key(), b"x").unwrap_err(), err);
        let jwe = encrypt_compact(&self::key(KeyType::P256).public_key(), b"x").unwrap();
        assert_eq!(decrypt_compact(key, &jwe).unwrap_err(), err);
    }

    #[test]
    fn options() {
        let key = key(KeyType::P256);
        let options = EncryptOptions::default()
            .with_json_content_type()
            .with_party_info(Some(b"Alice".to_vec()), Some(b"Bob".to_vec()));
        let jwe = encrypt_compact_with(&key.public_key(), b"{}", &options).unwrap();
        let header = header_of(&jwe);
        assert_eq!(header["cty"], "application/json");
        assert_eq!(header["apu"], "QWxpY2U");
        assert_eq!(header["apv"], "Qm9i");
        assert_eq!(decrypt_compact(key, &jwe).unwrap(), b"{}");

        // apu/apv enter the KDF: changing one breaks the unwrap.
        let mut other = header.clone();
        other["apv"] = "Qm9j".into();
        assert_eq!(
            rejection(decrypt_compact(key, &with_header(&jwe, &other))),
            JweRejection::DecryptionFailed
        );
        other["apv"] = "Qm9i=".into();
        assert_eq!(
            rejection(decrypt_compact(key, &with_header(&jwe, &other))),
            JweRejection::InvalidHeaderMember { name: "apv" }
        );

        let rsa = self::key(KeyType::Rsa2048);
        let jwe = encrypt_compact_with(
            &rsa.public_key(),
            b"{}",
            &EncryptOptions::default().with_json_content_type(),
        )
        .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&parts(&jwe)[0]).unwrap(),
            br#"{"alg":"RSA-OAEP","enc":"A256GCM","cty":"application/json"}"#
        );
        assert_eq!(decrypt_compact(rsa, &jwe).unwrap(), b"{}");
        assert!(matches!(
            encrypt_compact_with(&rsa.public_key(), b"{}", &options),
            Err(Error::JweEncryptionFailed { .. })
        ));
    }

    #[rstest]
    fn tampering_is_refused(
        #[values(KeyType::Rsa2048, KeyType::P256, KeyType::P521)] key_type: KeyType,
        #[values(1, 2, 3, 4)] index: usize,
        #[values(0, 7)] bit: u8,
    ) {
        let key = key(key_type);
        let jwe = encrypt_compact(&key.public_key(), b"product secret").unwrap();
        let altered = with_part(&jwe, index, |bytes| bytes[0] ^= 1 << bit);
        assert_eq!(
            rejection(decrypt_compact(key, &altered)),
            JweRejection::DecryptionFailed
        );
        let altered = with_part(&jwe, index, |bytes| {
            let last = bytes.len() - 1;
            bytes[last] ^= 1 << bit;
        });
        assert_eq!(
            rejection(decrypt_compact(key, &altered)),
            JweRejection::DecryptionFailed
        );
    }

    #[rstest]
    fn tampered_header_is_refused(#[values(KeyType::Rsa2048, KeyType::P384)] key_type: KeyType) {
        let key = key(key_type);
        let jwe = encrypt_compact(&key.public_key(), b"product secret").unwrap();
        // Same meaning, other bytes: the AAD no longer matches.
        let altered = with_part(&jwe, 0, |bytes| bytes.insert(1, b' '));
        assert_eq!(
            rejection(decrypt_compact(key, &altered)),
            JweRejection::DecryptionFailed
        );
        let mut header = header_of(&jwe);
        header["kid"] = "added".into();
        assert_eq!(
            rejection(decrypt_compact(key, &with_header(&jwe, &header))),
            JweRejection::DecryptionFailed
        );
    }

    #[test]
    fn tampered_epk_is_refused() {
        let key = key(KeyType::P256);
        let jwe = encrypt_compact(&key.public_key(), b"product secret").unwrap();
        let header = header_of(&jwe);
        let try_epk = |f: &dyn Fn(&mut Value)| {
            let mut h = header.clone();
            f(&mut h["epk"]);
            rejection(decrypt_compact(key, &with_header(&jwe, &h)))
        };
        // Another valid point: the agreement gives another key.
        let other = encrypt_compact(&key.public_key(), b"").unwrap();
        let other_epk = header_of(&other)["epk"].clone();
        assert_eq!(
            try_epk(&|e| *e = other_epk.clone()),
            JweRejection::DecryptionFailed
        );
        // Off the curve.
        let y = URL_SAFE_NO_PAD
            .decode(header["epk"]["y"].as_str().unwrap())
            .unwrap();
        let mut bad_y = y.clone();
        bad_y[31] ^= 1;
        assert_eq!(
            try_epk(&|e| e["y"] = b64(&bad_y).into()),
            JweRejection::InvalidEpk {
                reason: "the point is not on the curve"
            }
        );
        // Coordinates of the wrong length, even with a leading zero added or removed.
        let mut long_y = vec![0u8];
        long_y.extend_from_slice(&y);
        assert!(matches!(
            try_epk(&|e| e["y"] = b64(&long_y).into()),
            JweRejection::InvalidEpk { .. }
        ));
        assert!(matches!(
            try_epk(&|e| e["y"] = b64(&y[1..]).into()),
            JweRejection::InvalidEpk { .. }
        ));
        assert!(matches!(
            try_epk(&|e| e["kty"] = "OKP".into()),
            JweRejection::InvalidEpk { .. }
        ));
        assert!(matches!(
            try_epk(&|e| e["d"] = "AAAA".into()),
            JweRejection::InvalidEpk { .. }
        ));
        assert!(matches!(
            try_epk(&|e| *e = "string".into()),
            JweRejection::InvalidEpk { .. }
        ));
        assert!(matches!(
            try_epk(&|e| {
                e.as_object_mut().unwrap().remove("x");
            }),
            JweRejection::InvalidEpk { .. }
        ));
        assert_eq!(
            try_epk(&|e| e["crv"] = "P-384".into()),
            JweRejection::EpkCurveMismatch {
                found: "P-384".to_owned(),
                expected: "P-256"
            }
        );
        assert_eq!(
            try_epk(&|e| *e = Value::Null).to_string(),
            "invalid epk: not a JSON object"
        );
        let mut h = header.clone();
        h.as_object_mut().unwrap().remove("epk");
        assert_eq!(
            rejection(decrypt_compact(key, &with_header(&jwe, &h))),
            JweRejection::MissingHeaderMember { name: "epk" }
        );
    }

    #[test]
    fn wrong_key_is_refused() {
        for key_type in ENCRYPTING {
            let jwe = encrypt_compact(&key(key_type).public_key(), b"secret").unwrap();
            let other = PrivateKey::generate(key_type).unwrap();
            assert_eq!(
                rejection(decrypt_compact(&other, &jwe)),
                JweRejection::DecryptionFailed,
                "{key_type}"
            );
        }
        // A key of another kind or curve.
        let jwe = encrypt_compact(&key(KeyType::P256).public_key(), b"secret").unwrap();
        assert_eq!(
            rejection(decrypt_compact(key(KeyType::P384), &jwe)),
            JweRejection::EpkCurveMismatch {
                found: "P-256".to_owned(),
                expected: "P-384"
            }
        );
        let err = decrypt_compact(key(KeyType::Rsa2048), &jwe).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JWE: alg \"ECDH-ES+A256KW\" does not fit the rsa2048 key (RSA-OAEP needed)"
        );
        let jwe = encrypt_compact(&key(KeyType::Rsa2048).public_key(), b"secret").unwrap();
        assert_eq!(
            rejection(decrypt_compact(key(KeyType::Rsa3072), &jwe)),
            JweRejection::Length {
                part: JwePart::EncryptedKey,
                found: 256,
                expected: 384
            }
        );
        assert!(matches!(
            rejection(decrypt_compact(key(KeyType::P256), &jwe)),
            JweRejection::AlgorithmMismatch { .. }
        ));
    }

    #[rstest]
    fn header_checks(#[values(KeyType::Rsa2048, KeyType::P256)] key_type: KeyType) {
        let key = key(key_type);
        let jwe = encrypt_compact(&key.public_key(), b"secret").unwrap();
        let header = header_of(&jwe);
        let with = |name: &str, value: Value| {
            let mut h = header.clone();
            h[name] = value;
            rejection(decrypt_compact(key, &with_header(&jwe, &h)))
        };
        assert_eq!(
            with("crit", serde_json::json!(["exp"])),
            JweRejection::CriticalHeader
        );
        assert_eq!(
            with("crit", serde_json::json!([])),
            JweRejection::CriticalHeader
        );
        assert_eq!(with("zip", "DEF".into()), JweRejection::Compressed);
        assert_eq!(
            with("enc", "A128GCM".into()),
            JweRejection::UnsupportedEncryption {
                found: "A128GCM".to_owned()
            }
        );
        assert_eq!(
            with("enc", 1.into()),
            JweRejection::InvalidHeaderMember { name: "enc" }
        );
        assert_eq!(
            with("alg", Value::Null),
            JweRejection::InvalidHeaderMember { name: "alg" }
        );
        for alg in ["dir", "RSA1_5", "RSA-OAEP-256", "ECDH-ES", "none"] {
            assert!(matches!(
                with("alg", alg.into()),
                JweRejection::AlgorithmMismatch { .. }
            ));
        }
        // Untrusted strings are shortened and escaped to one line.
        let long = format!("line\nbreak\u{1b}{}", "x".repeat(100));
        let JweRejection::AlgorithmMismatch { found, .. } = with("alg", long.into()) else {
            panic!("expected an alg mismatch");
        };
        assert_eq!(found, format!("line\\nbreak\\u{{1b}}{}...", "x".repeat(29)));
        for name in ["alg", "enc"] {
            let mut h = header.clone();
            h.as_object_mut().unwrap().remove(name);
            assert!(matches!(
                rejection(decrypt_compact(key, &with_header(&jwe, &h))),
                JweRejection::MissingHeaderMember { .. }
            ));
        }
        for not_object in [&b"[]"[..], b"\"alg\"", b"null", b"", b"{", b"\xff{}"] {
            let altered = with_part(&jwe, 0, |bytes| *bytes = not_object.to_vec());
            assert_eq!(
                rejection(decrypt_compact(key, &altered)),
                JweRejection::HeaderNotJson
            );
        }
    }

    #[test]
    fn structure_checks() {
        let key = key(KeyType::P256);
        let jwe = encrypt_compact(&key.public_key(), b"secret").unwrap();
        let p = parts(&jwe);
        for n in [1, 2, 4] {
            assert_eq!(
                rejection(decrypt_compact(key, &p[..n].join("."))),
                JweRejection::PartCount { found: n }
            );
        }
        assert_eq!(
            rejection(decrypt_compact(key, &format!("{jwe}."))),
            JweRejection::PartCount { found: 6 }
        );
        assert_eq!(
            rejection(decrypt_compact(key, &format!("{jwe}\n"))),
            JweRejection::Base64 { part: JwePart::Tag }
        );
        let padded = format!("{}=.{}.{}.{}.{}", p[0], p[1], p[2], p[3], p[4]);
        assert!(matches!(
            rejection(decrypt_compact(key, &padded)),
            JweRejection::Base64 { .. } | JweRejection::HeaderNotJson
        ));
        let standard_alphabet = jwe.replace('-', "+").replace('_', "/");
        if standard_alphabet != jwe {
            assert!(matches!(
                rejection(decrypt_compact(key, &standard_alphabet)),
                JweRejection::Base64 { .. }
            ));
        }
        for (index, part, expected) in [
            (1, JwePart::EncryptedKey, 40),
            (2, JwePart::Iv, 12),
            (4, JwePart::Tag, 16),
        ] {
            let altered = with_part(&jwe, index, |bytes| {
                bytes.pop();
            });
            assert_eq!(
                rejection(decrypt_compact(key, &altered)),
                JweRejection::Length {
                    part,
                    found: expected - 1,
                    expected
                }
            );
        }
        let empty_key = format!("{}..{}.{}.{}", p[0], p[2], p[3], p[4]);
        assert!(matches!(
            rejection(decrypt_compact(key, &empty_key)),
            JweRejection::Length {
                part: JwePart::EncryptedKey,
                found: 0,
                ..
            }
        ));
    }

    #[test]
    fn messages_are_one_line() {
        let rejections = [
            JweRejection::PartCount { found: 3 },
            JweRejection::Base64 {
                part: JwePart::Ciphertext,
            },
            JweRejection::DecryptionFailed,
            JweRejection::CriticalHeader,
        ];
        for reason in rejections {
            let message = Error::InvalidJwe { reason }.to_string();
            assert!(message.starts_with("invalid JWE: "));
            assert!(!message.contains('\n'));
        }
        assert_eq!(
            Error::InvalidJwe {
                reason: JweRejection::PartCount { found: 3 }
            }
            .to_string(),
            "invalid JWE: a compact JWE has 5 dot-separated parts, found 3"
        );
    }

    /// RFC 7518 Appendix C: ECDH-ES between the example keys of Alice (ephemeral) and Bob,
    /// AlgorithmID "A128GCM", apu "Alice", apv "Bob", 128-bit output.
    #[test]
    fn concat_kdf_rfc7518_appendix_c() {
        let unb = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
        let alice_d = unb("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo");
        let mut bob_point = vec![0x04];
        bob_point.extend(unb("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ"));
        bob_point.extend(unb("e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck"));
        let alice = agreement::PrivateKey::from_private_key(&ECDH_P256, &alice_d).unwrap();
        let derived = agreement::agree(
            &alice,
            UnparsedPublicKey::new(&ECDH_P256, &bob_point),
            Unspecified,
            |z| concat_kdf(z, "A128GCM", b"Alice", b"Bob", 16),
        )
        .unwrap();
        assert_eq!(b64(&derived), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn concat_kdf_lengths() {
        let z = [7u8; 32];
        let long = concat_kdf(&z, "x", b"", b"", 80).unwrap();
        assert_eq!(long.len(), 80);
        let short = concat_kdf(&z, "x", b"", b"", 32).unwrap();
        assert_eq!(short.len(), 32);
        // The key length is part of the input, so a shorter key is not a prefix.
        assert_ne!(&long[..32], &short[..]);
    }

    fn any_compact() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9_.=+/-]{0,120}",
            "\\PC{0,80}",
            "([A-Za-z0-9_-]{0,60}\\.){4}[A-Za-z0-9_-]{0,60}",
            "(eyJ[A-Za-z0-9_-]{0,40}\\.){4}[A-Za-z0-9_-]{0,30}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn malformed_input_never_panics(compact in any_compact()) {
            for key_type in [KeyType::Rsa2048, KeyType::P256, KeyType::Ed25519] {
                prop_assert!(decrypt_compact(key(key_type), &compact).is_err());
            }
        }

        #[test]
        fn mutated_jwe_is_refused(
            key_index in 0usize..2,
            position in any::<proptest::sample::Index>(),
            replacement in "[A-Za-z0-9_.=-]",
        ) {
            let key = key([KeyType::Rsa2048, KeyType::P256][key_index]);
            static JWES: OnceLock<Vec<String>> = OnceLock::new();
            let jwes = JWES.get_or_init(|| {
                [KeyType::Rsa2048, KeyType::P256]
                    .iter()
                    .map(|t| encrypt_compact(&self::key(*t).public_key(), b"secret").unwrap())
                    .collect()
            });
            let jwe = &jwes[key_index];
            let at = position.index(jwe.len());
            let mut mutated = jwe.clone();
            mutated.replace_range(at..=at, &replacement);
            let result = decrypt_compact(key, &mutated);
            if mutated == *jwe {
                prop_assert_eq!(result.unwrap(), b"secret".to_vec());
            } else {
                // Strict base64url: another string never decodes to the same bytes.
                prop_assert!(result.is_err());
            }
        }
    }
}
