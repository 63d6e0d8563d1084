//! The encrypted cosign private key file (`cosign.key`), as written by
//! `cosign generate-key-pair` / `import-key-pair` and read by `cosign sign --key`.
//!
//! ```text
//! -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
//! base64 of {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"…"},
//!            "cipher":{"name":"nacl/secretbox","nonce":"…"},"ciphertext":"…"}
//! -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
//! ```
//!
//! The secretbox key is `scrypt(password, salt, N, r, p, 32)`; the plaintext is the PKCS#8
//! DER of the private key. Readers accept the legacy label `ENCRYPTED COSIGN PRIVATE KEY`
//! and only the scrypt costs N = 2^15, 2^16 or 2^17 with r = 8, p = 1 (anti-DoS, as cosign).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{Error, PrivateKey, pem_encode, pem_util};

/// The PEM label cosign ≥ v2.1 writes.
pub const PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label cosign ≤ v2.0 wrote; still accepted when reading.
pub const LEGACY_PEM_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// A key-file password. Zeroized on drop; `Debug` prints `Password(<redacted>)`.
/// The empty password is legal.
#[derive(Clone, Default)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    /// A password from raw bytes (used verbatim: no trimming, no normalisation).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Password(Zeroizing::new(bytes.into()))
    }

    /// The empty password.
    pub fn empty() -> Self {
        Password::default()
    }

    /// The password bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for Password {
    fn from(bytes: &[u8]) -> Self {
        Password::new(bytes)
    }
}

impl From<Vec<u8>> for Password {
    fn from(bytes: Vec<u8>) -> Self {
        Password::new(bytes)
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Password::new(s.as_bytes())
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Password::new(s.into_bytes())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// scrypt cost parameters. `N = 2^log_n`. The default is what cosign ≥ v2.2 writes
/// (N = 65536, r = 8, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScryptParams {
    /// log2 of the cost `N`.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl ScryptParams {
    /// N = 65536, r = 8, p = 1: cosign ≥ v2.2 (go-securesystemslib ≥ 0.7).
    pub const COSIGN: ScryptParams = ScryptParams {
        log_n: 16,
        r: 8,
        p: 1,
    };
    /// N = 32768, r = 8, p = 1: cosign ≤ v2.1 (go-tuf `encrypted`).
    pub const LEGACY: ScryptParams = ScryptParams {
        log_n: 15,
        r: 8,
        p: 1,
    };
    /// N = 131072, r = 8, p = 1: the strongest set readers accept.
    pub const STRONG: ScryptParams = ScryptParams {
        log_n: 17,
        r: 8,
        p: 1,
    };

    /// The cost `N` itself.
    pub fn n(&self) -> u64 {
        1u64.checked_shl(u32::from(self.log_n)).unwrap_or(0)
    }

    /// Whether cosign (and signet) read key files with these parameters.
    pub fn is_accepted(&self) -> bool {
        (15..=17).contains(&self.log_n) && self.r == 8 && self.p == 1
    }

    fn unsupported(&self) -> Error {
        Error::UnsupportedScryptParams {
            n: self.n(),
            r: u64::from(self.r),
            p: u64::from(self.p),
        }
    }

    fn derive_key(&self, password: &Password, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
        let params =
            scrypt::Params::new(self.log_n, self.r, self.p).map_err(|_| self.unsupported())?;
        let mut key = Zeroizing::new([0u8; 32]);
        scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut_slice())
            .map_err(|_| self.unsupported())?;
        Ok(key)
    }
}

impl Default for ScryptParams {
    fn default() -> Self {
        ScryptParams::COSIGN
    }
}

/// Encrypts `key` into a cosign key file (PEM `ENCRYPTED SIGSTORE PRIVATE KEY`) with the
/// default scrypt parameters, a random 32-byte salt and a random 24-byte nonce.
pub fn encrypt_private_key(key: &PrivateKey, password: &Password) -> Result<String, Error> {
    encrypt_private_key_with(key, password, ScryptParams::default())
}

/// Like [`encrypt_private_key`] with explicit scrypt parameters, which must be ones readers
/// accept ([`ScryptParams::is_accepted`]).
pub fn encrypt_private_key_with(
    key: &PrivateKey,
    password: &Password,
    params: ScryptParams,
) -> Result<String, Error> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| Error::Random)?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Random)?;
    let json = seal(&key.to_pkcs8_der(), password, params, &salt, &nonce)?;
    Ok(pem_encode(PEM_LABEL, json.as_bytes()))
}

/// Decrypts a cosign key file (labels `ENCRYPTED SIGSTORE PRIVATE KEY` and
/// `ENCRYPTED COSIGN PRIVATE KEY`; the first PEM block is used).
///
/// A wrong password gives [`Error::WrongPassword`]; scrypt parameters other than
/// N ∈ {32768, 65536, 131072}, r = 8, p = 1 give [`Error::UnsupportedScryptParams`];
/// a SEC1 key inside gives [`Error::Sec1InsideKeyFile`].
pub fn decrypt_private_key(pem: &str, password: &Password) -> Result<PrivateKey, Error> {
    let block = pem_util::parse_first(pem)?;
    if block.tag() != PEM_LABEL && block.tag() != LEGACY_PEM_LABEL {
        return Err(Error::UnexpectedPemType {
            expected: "an encrypted cosign private key (ENCRYPTED SIGSTORE PRIVATE KEY)",
            found: block.tag().to_owned(),
        });
    }
    let plaintext = open(block.contents(), password)?;
    PrivateKey::from_pkcs8_der(&plaintext).map_err(|err| {
        let is_pkcs8 = <pkcs8::PrivateKeyInfoRef<'_> as der::Decode>::from_der(&plaintext).is_ok();
        let is_sec1 = <sec1::EcPrivateKey<'_> as der::Decode>::from_der(&plaintext).is_ok();
        if !is_pkcs8 && is_sec1 {
            Error::Sec1InsideKeyFile
        } else {
            err
        }
    })
}

/// Builds the key-file JSON (byte-exact go-securesystemslib field order) around `plaintext`.
fn seal(
    plaintext: &[u8],
    password: &Password,
    params: ScryptParams,
    salt: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<String, Error> {
    if !params.is_accepted() {
        return Err(params.unsupported());
    }
    let key = params.derive_key(password, salt)?;
    let cipher = XSalsa20Poly1305::new(key.as_slice().into());
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .map_err(|_| Error::InvalidKeyFile {
            reason: "encryption failed".to_owned(),
        })?;
    Ok(format!(
        concat!(
            r#"{{"kdf":{{"name":"{kdf}","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"{salt}"}},"#,
            r#""cipher":{{"name":"{cipher}","nonce":"{nonce}"}},"ciphertext":"{ct}"}}"#
        ),
        kdf = KDF_NAME,
        n = params.n(),
        r = params.r,
        p = params.p,
        salt = STANDARD.encode(salt),
        cipher = CIPHER_NAME,
        nonce = STANDARD.encode(nonce),
        ct = STANDARD.encode(ciphertext),
    ))
}

/// Parses the key-file JSON and decrypts its ciphertext.
fn open(json: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, Error> {
    let invalid = |reason: String| Error::InvalidKeyFile { reason };
    let root: Value =
        serde_json::from_slice(json).map_err(|e| invalid(format!("not JSON ({e})")))?;
    let root = as_object(&root, "the top level")?;

    let kdf = as_object(field(root, "kdf")?, "\"kdf\"")?;
    let kdf_name = as_str(field(kdf, "name")?, "\"kdf.name\"")?;
    if kdf_name != KDF_NAME {
        return Err(Error::UnsupportedKdf {
            name: kdf_name.to_owned(),
        });
    }
    let params = as_object(field(kdf, "params")?, "\"kdf.params\"")?;
    let n = as_u64(field(params, "N")?, "\"kdf.params.N\"")?;
    let r = as_u64(field(params, "r")?, "\"kdf.params.r\"")?;
    let p = as_u64(field(params, "p")?, "\"kdf.params.p\"")?;
    let params = match (n, r, p) {
        (32768, 8, 1) => ScryptParams::LEGACY,
        (65536, 8, 1) => ScryptParams::COSIGN,
        (131072, 8, 1) => ScryptParams::STRONG,
        (n, r, p) => return Err(Error::UnsupportedScryptParams { n, r, p }),
    };
    let salt = as_base64(field(kdf, "salt")?, "\"kdf.salt\"")?;

    let cipher = as_object(field(root, "cipher")?, "\"cipher\"")?;
    let cipher_name = as_str(field(cipher, "name")?, "\"cipher.name\"")?;
    if cipher_name != CIPHER_NAME {
        return Err(Error::UnsupportedCipher {
            name: cipher_name.to_owned(),
        });
    }
    let nonce = as_base64(field(cipher, "nonce")?, "\"cipher.nonce\"")?;
    if nonce.len() != NONCE_LEN {
        return Err(invalid(format!(
            "the nonce is {} bytes long (24 needed)",
            nonce.len()
        )));
    }
    let ciphertext = as_base64(field(root, "ciphertext")?, "\"ciphertext\"")?;

    let key = params.derive_key(password, &salt)?;
    let cipher = XSalsa20Poly1305::new(key.as_slice().into());
    cipher
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| Error::WrongPassword)
}

/// Looks `name` up like Go's `encoding/json`: exact key first, then ASCII case-insensitively.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Error> {
    object
        .get(name)
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .ok_or_else(|| Error::InvalidKeyFile {
            reason: format!("field \"{name}\" is missing"),
        })
}

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| Error::InvalidKeyFile {
        reason: format!("{what} is not a JSON object"),
    })
}

fn as_str<'a>(value: &'a Value, what: &str) -> Result<&'a str, Error> {
    value.as_str().ok_or_else(|| Error::InvalidKeyFile {
        reason: format!("{what} is not a string"),
    })
}

fn as_u64(value: &Value, what: &str) -> Result<u64, Error> {
    value.as_u64().ok_or_else(|| Error::InvalidKeyFile {
        reason: format!("{what} is not a non-negative integer"),
    })
}

fn as_base64(value: &Value, what: &str) -> Result<Vec<u8>, Error> {
    let text = as_str(value, what)?;
    // Go's base64 decoder (used by encoding/json for []byte) skips CR and LF.
    let cleaned: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    STANDARD.decode(cleaned).map_err(|e| Error::InvalidKeyFile {
        reason: format!("{what} is not valid base64 ({e})"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::KeyType;

    /// sigstore-rs `cosign_generated_encrypted_empty_private.key` (empty password).
    const FIXTURE: &str = include_str!("../tests/data/cosign_empty_password.key");

    fn fixture_json() -> Vec<u8> {
        pem_util::parse_first(FIXTURE).unwrap().into_contents()
    }

    #[test]
    fn decrypts_the_cosign_fixture() {
        let key = decrypt_private_key(FIXTURE, &Password::empty()).unwrap();
        assert_eq!(key.key_type(), KeyType::P256);
        let sig = key.sign(b"hello").unwrap();
        key.public_key().verify(b"hello", &sig).unwrap();

        // The legacy label is accepted too.
        let legacy = FIXTURE.replace(PEM_LABEL, LEGACY_PEM_LABEL);
        let again = decrypt_private_key(&legacy, &Password::from("")).unwrap();
        assert_eq!(again.public_key(), key.public_key());
    }

    #[test]
    fn wrong_password_is_reported_as_such() {
        let err = decrypt_private_key(FIXTURE, &Password::from("not empty")).unwrap_err();
        assert_eq!(err, Error::WrongPassword);
        assert_eq!(
            err.to_string(),
            "wrong password or corrupt key file (decryption failed)"
        );
    }

    #[test]
    fn reencrypting_the_fixture_reproduces_it_byte_for_byte() {
        let json = fixture_json();
        let root: Value = serde_json::from_slice(&json).unwrap();
        let salt = STANDARD
            .decode(root["kdf"]["salt"].as_str().unwrap())
            .unwrap();
        let nonce: [u8; NONCE_LEN] = STANDARD
            .decode(root["cipher"]["nonce"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let plaintext = open(&json, &Password::empty()).unwrap();
        let resealed = seal(
            &plaintext,
            &Password::empty(),
            ScryptParams::COSIGN,
            &salt,
            &nonce,
        )
        .unwrap();
        assert_eq!(resealed.as_bytes(), json.as_slice());
        assert_eq!(
            pem_encode(PEM_LABEL, resealed.as_bytes()).trim_end(),
            FIXTURE.trim_end()
        );
    }

    #[test]
    fn round_trip_every_key_type() {
        // Legacy N keeps the test fast; the default N is covered once below.
        let password = Password::from("correct horse");
        for kt in KeyType::ALL {
            let key = PrivateKey::generate(kt).unwrap();
            let pem = encrypt_private_key_with(&key, &password, ScryptParams::LEGACY).unwrap();
            assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
            let back = decrypt_private_key(&pem, &password).unwrap();
            assert_eq!(back.key_type(), kt);
            assert_eq!(back.public_key(), key.public_key());
        }
    }

    #[test]
    fn default_encryption_has_the_go_layout() {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let pem = encrypt_private_key(&key, &Password::from("pw")).unwrap();
        let json = String::from_utf8(pem_util::parse_first(&pem).unwrap().into_contents()).unwrap();
        assert!(
            json.starts_with(
                r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#
            ),
            "{json}"
        );
        assert!(json.contains(r#""},"cipher":{"name":"nacl/secretbox","nonce":""#));
        assert!(json.contains(r#""},"ciphertext":""#) && json.ends_with("\"}"));
        let root: Value = serde_json::from_str(&json).unwrap();
        let salt = STANDARD
            .decode(root["kdf"]["salt"].as_str().unwrap())
            .unwrap();
        assert_eq!(salt.len(), 32);
        assert_eq!(
            STANDARD
                .decode(root["cipher"]["nonce"].as_str().unwrap())
                .unwrap()
                .len(),
            24
        );
        // 64-column PEM lines.
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back = decrypt_private_key(&pem, &Password::from("pw")).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(
            decrypt_private_key(&pem, &Password::from("pw\n")).unwrap_err(),
            Error::WrongPassword
        );
    }

    fn with_params(n: u64, r: u64, p: u64) -> Vec<u8> {
        let json = String::from_utf8(fixture_json()).unwrap();
        json.replace(
            r#""N":65536,"r":8,"p":1"#,
            &format!(r#""N":{n},"r":{r},"p":{p}"#),
        )
        .into_bytes()
    }

    #[test]
    fn unsupported_scrypt_parameters_are_refused() {
        for (n, r, p) in [(1024, 8, 1), (65536, 1, 1), (65536, 8, 2), (1 << 20, 8, 1)] {
            let err = open(&with_params(n, r, p), &Password::empty()).unwrap_err();
            assert_eq!(err, Error::UnsupportedScryptParams { n, r, p });
        }
        assert_eq!(
            open(&with_params(1024, 8, 1), &Password::empty())
                .unwrap_err()
                .to_string(),
            "unsupported scrypt parameters N=1024 r=8 p=1"
        );
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let weak = ScryptParams {
            log_n: 10,
            r: 8,
            p: 1,
        };
        assert_eq!(
            encrypt_private_key_with(&key, &Password::empty(), weak).unwrap_err(),
            Error::UnsupportedScryptParams {
                n: 1024,
                r: 8,
                p: 1
            }
        );
    }

    #[test]
    fn wrong_kdf_and_cipher_names_are_refused() {
        let json = String::from_utf8(fixture_json()).unwrap();
        let bad_kdf = json.replace(r#""name":"scrypt""#, r#""name":"pbkdf2""#);
        assert_eq!(
            open(bad_kdf.as_bytes(), &Password::empty()).unwrap_err(),
            Error::UnsupportedKdf {
                name: "pbkdf2".to_owned()
            }
        );
        let bad_cipher = json.replace("nacl/secretbox", "aes-gcm");
        assert_eq!(
            open(bad_cipher.as_bytes(), &Password::empty()).unwrap_err(),
            Error::UnsupportedCipher {
                name: "aes-gcm".to_owned()
            }
        );
        assert!(matches!(
            open(b"{}", &Password::empty()),
            Err(Error::InvalidKeyFile { .. })
        ));
        assert!(matches!(
            open(b"not json", &Password::empty()),
            Err(Error::InvalidKeyFile { .. })
        ));
    }

    #[test]
    fn keys_are_matched_case_insensitively_like_go() {
        let json = String::from_utf8(fixture_json()).unwrap();
        let shouty = json
            .replace("\"kdf\"", "\"KDF\"")
            .replace("\"cipher\"", "\"Cipher\"")
            .replace("\"ciphertext\"", "\"CipherText\"")
            .replace("\"salt\"", "\"Salt\"");
        let plaintext = open(shouty.as_bytes(), &Password::empty()).unwrap();
        assert_eq!(
            PrivateKey::from_pkcs8_der(&plaintext).unwrap().key_type(),
            KeyType::P256
        );
    }

    #[test]
    fn sec1_plaintext_is_refused_clearly() {
        // A SEC1 "EC PRIVATE KEY" sealed where PKCS#8 belongs (cosign fixture `pemcosigneckey`).
        let key = decrypt_private_key(FIXTURE, &Password::empty()).unwrap();
        let pkcs8 = key.to_pkcs8_der();
        let info = <pkcs8::PrivateKeyInfoRef<'_> as der::Decode>::from_der(&pkcs8).unwrap();
        let inner = info.private_key.as_bytes().to_vec(); // ECPrivateKey without curve
        // Add the named-curve parameters so it is a complete SEC1 key.
        let sec1_key = <sec1::EcPrivateKey<'_> as der::Decode>::from_der(&inner).unwrap();
        let full = sec1::EcPrivateKey {
            parameters: Some(sec1::EcParameters::NamedCurve(crate::oids::P256)),
            ..sec1_key
        };
        let sec1_der = der::Encode::to_der(&full).unwrap();
        assert!(PrivateKey::from_sec1_der(&sec1_der).is_ok());
        let json = seal(
            &sec1_der,
            &Password::empty(),
            ScryptParams::LEGACY,
            &[7; 32],
            &[9; 24],
        )
        .unwrap();
        let pem = pem_encode(PEM_LABEL, json.as_bytes());
        assert_eq!(
            decrypt_private_key(&pem, &Password::empty()).unwrap_err(),
            Error::Sec1InsideKeyFile
        );
    }

    #[test]
    fn other_labels_are_refused() {
        let err =
            decrypt_private_key(&pem_encode("PRIVATE KEY", b"x"), &Password::empty()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected an encrypted cosign private key (ENCRYPTED SIGSTORE PRIVATE KEY), found PEM type \"PRIVATE KEY\""
        );
    }

    #[test]
    fn password_is_redacted() {
        let pw = Password::from(String::from("hunter2"));
        assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
        assert_eq!(pw.as_bytes(), b"hunter2");
        assert_eq!(Password::from(&b"x"[..]).as_bytes(), b"x");
        assert_eq!(ScryptParams::default().n(), 65536);
        assert!(ScryptParams::LEGACY.is_accepted() && ScryptParams::STRONG.is_accepted());
    }
}
