//! Private keys (generation, PKCS#8 / PKCS#1 / SEC1 import, PKCS#8 export) and the
//! [`Signer`] trait that software, HSM and remote signers implement.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use der::Decode;
use der::asn1::OctetStringRef;
use ed25519_dalek::Digest as _;
use zeroize::Zeroizing;

use crate::public::{curve_key_type, rsa_bits_key_type};
use crate::{Error, KeyType, PublicKey, SignatureAlgorithm, oids, pem_util};

/// Something that can sign messages: a software key today, an HSM or remote signer later.
pub trait Signer: Send + Sync {
    /// The public key matching the signing key.
    fn public_key(&self) -> PublicKey;
    /// The algorithm [`Signer::sign`] uses.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `message` (the message itself: hashing happens inside, as the algorithm says).
    /// ECDSA signatures are ASN.1 DER.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// A software private key held by aws-lc-rs. The PKCS#8 DER copy is zeroized on drop and
/// never printed by `Debug`.
pub struct PrivateKey {
    inner: Inner,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519 {
        pure: Ed25519KeyPair,
        /// aws-lc-rs has no safe Ed25519ph API; dalek signs the prehash variant.
        ph: Box<ed25519_dalek::SigningKey>,
    },
}

fn ecdsa_signing_alg(key_type: KeyType) -> &'static EcdsaSigningAlgorithm {
    match key_type {
        KeyType::P384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeyType::P521 => &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
        _ => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

/// Refuses RSA private keys (PKCS#1 DER) whose modulus is not 2048/3072/4096 bits, before
/// the engine rejects small ones with a less helpful message.
fn check_rsa_private_size(pkcs1_der: &[u8]) -> Result<(), Error> {
    let key = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(pkcs1_der)
        .map_err(|e| malformed("RSA private key")(e.to_string()))?;
    rsa_bits_key_type(crate::public::uint_bits(key.modulus.as_bytes())).map(|_| ())
}

/// aws-lc-rs `KeyRejected` reasons are CamelCase ("TooSmall"); make them lower-case words.
fn rejected(e: &aws_lc_rs::error::KeyRejected) -> String {
    let mut out = String::new();
    for c in e.to_string().chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    format!("rejected by the crypto engine ({out})")
}

fn malformed(what: &'static str) -> impl Fn(String) -> Error {
    move |reason| Error::MalformedKey { what, reason }
}

impl PrivateKey {
    /// Generates a new key of type `key_type` with the system random number generator.
    pub fn generate(key_type: KeyType) -> Result<Self, Error> {
        let failed = |_| Error::KeyGenerationFailed { key_type };
        let pkcs8: Zeroizing<Vec<u8>> = match key_type {
            KeyType::P256 | KeyType::P384 | KeyType::P521 => Zeroizing::new(
                EcdsaKeyPair::generate(ecdsa_signing_alg(key_type))
                    .and_then(|kp| kp.to_pkcs8v1())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec(),
            ),
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                let size = match key_type {
                    KeyType::Rsa2048 => KeySize::Rsa2048,
                    KeyType::Rsa3072 => KeySize::Rsa3072,
                    _ => KeySize::Rsa4096,
                };
                let kp = RsaKeyPair::generate(size).map_err(failed)?;
                Zeroizing::new(kp.as_der().map_err(failed)?.as_ref().to_vec())
            }
            KeyType::Ed25519 => Zeroizing::new(
                Ed25519KeyPair::generate()
                    .and_then(|kp| kp.to_pkcs8v1())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec(),
            ),
        };
        let key = Self::from_pkcs8_der(&pkcs8)?;
        if key.key_type() != key_type {
            return Err(Error::KeyGenerationFailed { key_type });
        }
        Ok(key)
    }

    /// Parses an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2): RSA 2048/3072/4096,
    /// ECDSA P-256/P-384/P-521 or Ed25519.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "PKCS#8 private key";
        let info =
            pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| malformed(WHAT)(e.to_string()))?;
        let oid = info.algorithm.oid;
        if oid == oids::RSA_ENCRYPTION {
            check_rsa_private_size(info.private_key.as_bytes())?;
            let kp = RsaKeyPair::from_pkcs8(der).map_err(|e| malformed(WHAT)(rejected(&e)))?;
            Self::from_rsa(kp)
        } else if oid == oids::EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| malformed(WHAT)("EC key without a named curve".to_owned()))?;
            let key_type = curve_key_type(&curve)?;
            let alg = ecdsa_signing_alg(key_type);
            let kp = EcdsaKeyPair::from_pkcs8(alg, der)
                .or_else(|_| EcdsaKeyPair::from_private_key_der(alg, der))
                .map_err(|e| malformed(WHAT)(rejected(&e)))?;
            Self::from_ecdsa(kp)
        } else if oid == oids::ED25519 {
            let seed = <&OctetStringRef>::from_der(info.private_key.as_bytes())
                .map_err(|e| malformed(WHAT)(e.to_string()))?;
            let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
                seed.as_bytes()
                    .try_into()
                    .map_err(|_| malformed(WHAT)("Ed25519 seed is not 32 bytes".to_owned()))?,
            );
            Self::from_ed25519_seed(&seed, info.public_key.and_then(|k| k.as_bytes()))
        } else {
            Err(Error::UnsupportedKeyAlgorithm {
                algorithm: oids::describe(&oid),
            })
        }
    }

    /// Parses an unencrypted PKCS#1 `RSAPrivateKey` (PEM type `RSA PRIVATE KEY`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        check_rsa_private_size(der)?;
        let kp = RsaKeyPair::from_der(der)
            .map_err(|e| malformed("RSA private key (PKCS#1)")(rejected(&e)))?;
        Self::from_rsa(kp)
    }

    /// Parses a SEC1 / RFC 5915 `ECPrivateKey` (PEM type `EC PRIVATE KEY`); it must name its
    /// curve (P-256, P-384 or P-521).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "EC private key (SEC1)";
        let key = sec1::EcPrivateKey::from_der(der).map_err(|e| malformed(WHAT)(e.to_string()))?;
        let curve = key
            .parameters
            .and_then(|p| p.named_curve())
            .ok_or_else(|| malformed(WHAT)("the key does not name its curve".to_owned()))?;
        let alg = ecdsa_signing_alg(curve_key_type(&curve)?);
        let kp = EcdsaKeyPair::from_private_key_der(alg, der)
            .map_err(|e| malformed(WHAT)(rejected(&e)))?;
        Self::from_ecdsa(kp)
    }

    /// What `cosign import-key-pair` accepts: the first PEM block of an unencrypted
    /// `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8: RSA,
    /// P-256/384/521, Ed25519). `EC PARAMETERS` blocks before the key (as
    /// `openssl ecparam -genkey` writes) are skipped. Encrypted keys are refused.
    pub fn from_unencrypted_pem(pem: &str) -> Result<Self, Error> {
        let blocks = pem_util::parse_blocks(pem)?;
        let block = blocks
            .iter()
            .find(|b| b.tag() != "EC PARAMETERS")
            .ok_or_else(|| Error::InvalidPem {
                reason: "only EC PARAMETERS found, no private key".to_owned(),
            })?;
        let tag = block.tag();
        // Legacy OpenSSL encryption ("Proc-Type: 4,ENCRYPTED" + "DEK-Info" headers).
        if block
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"))
            || tag.starts_with("ENCRYPTED ")
        {
            return Err(Error::EncryptedPrivateKey {
                found: tag.to_owned(),
            });
        }
        let der = Zeroizing::new(block.contents().to_vec());
        match tag {
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            other => Err(Error::UnexpectedPemType {
                expected: "an unencrypted private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)",
                found: other.to_owned(),
            }),
        }
    }

    fn from_rsa(kp: RsaKeyPair) -> Result<Self, Error> {
        const WHAT: &str = "RSA private key";
        let spki = kp
            .public_key()
            .as_der()
            .map_err(|e| malformed(WHAT)(e.to_string()))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let pkcs8 = Zeroizing::new(
            kp.as_der()
                .map_err(|e| malformed(WHAT)(e.to_string()))?
                .as_ref()
                .to_vec(),
        );
        Ok(PrivateKey {
            inner: Inner::Rsa(kp),
            pkcs8,
            public,
        })
    }

    fn from_ecdsa(kp: EcdsaKeyPair) -> Result<Self, Error> {
        const WHAT: &str = "EC private key";
        let spki = kp
            .public_key()
            .as_der()
            .map_err(|e| malformed(WHAT)(e.to_string()))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let pkcs8 = Zeroizing::new(
            kp.to_pkcs8v1()
                .map_err(|e| malformed(WHAT)(e.to_string()))?
                .as_ref()
                .to_vec(),
        );
        Ok(PrivateKey {
            inner: Inner::Ecdsa(kp),
            pkcs8,
            public,
        })
    }

    fn from_ed25519_seed(seed: &[u8; 32], embedded_public: Option<&[u8]>) -> Result<Self, Error> {
        const WHAT: &str = "Ed25519 private key";
        let pure =
            Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| malformed(WHAT)(rejected(&e)))?;
        let ph = Box::new(ed25519_dalek::SigningKey::from_bytes(seed));
        let derived = pure.public_key().as_ref();
        if derived != ph.verifying_key().as_bytes() {
            return Err(malformed(WHAT)("inconsistent Ed25519 engines".to_owned()));
        }
        if embedded_public.is_some_and(|p| p != derived) {
            return Err(malformed(WHAT)(
                "the embedded public key does not match the private key".to_owned(),
            ));
        }
        let spki = pure
            .public_key()
            .as_der()
            .map_err(|e| malformed(WHAT)(e.to_string()))?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let pkcs8 = Zeroizing::new(
            pure.to_pkcs8v1()
                .map_err(|e| malformed(WHAT)(e.to_string()))?
                .as_ref()
                .to_vec(),
        );
        Ok(PrivateKey {
            inner: Inner::Ed25519 { pure, ph },
            pkcs8,
            public,
        })
    }

    /// The key as PKCS#8 v1 DER (what cosign encrypts into its key file).
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.public.key_type()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The algorithm [`Signer::sign`] uses: what current cosign writes for this key type
    /// (see [`KeyType::default_algorithm`]).
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.key_type().default_algorithm()
    }

    /// Signs `message` with the default algorithm of the key type.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.sign_with(self.algorithm(), message)
    }

    /// Signs `message` with `algorithm`, which must suit the key (e.g. pure
    /// [`SignatureAlgorithm::Ed25519`], or ECDSA P-384 over SHA-256 as cosign ≤ v2.5 did).
    pub fn sign_with(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let key_type = self.key_type();
        if !algorithm.is_compatible_with(key_type) {
            return Err(Error::AlgorithmMismatch {
                algorithm,
                key_type,
            });
        }
        let failed = || Error::SigningFailed { algorithm };
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Ecdsa(kp) => {
                if algorithm == key_type.default_algorithm() {
                    return Ok(kp
                        .sign(&rng, message)
                        .map_err(|_| failed())?
                        .as_ref()
                        .to_vec());
                }
                // ECDSA over SHA-256 on P-384/P-521. The key pair is bound to SHA-384/512, so
                // hand it the SHA-256 digest left-padded with zeros to that length: ECDSA turns
                // the digest into the integer of its leftmost bits (at most the order's bit
                // length, 384 / 521 ≥ the padded length), and leading zeros do not change that
                // integer, so the signature is exactly ECDSA over SHA-256(message).
                let key_digest = match key_type {
                    KeyType::P384 => &aws_lc_rs::digest::SHA384,
                    _ => &aws_lc_rs::digest::SHA512,
                };
                let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
                let mut padded = vec![0u8; key_digest.output_len()];
                let offset = padded.len().saturating_sub(sha256.as_ref().len());
                padded[offset..].copy_from_slice(sha256.as_ref());
                let digest = aws_lc_rs::digest::Digest::import_less_safe(&padded, key_digest)
                    .map_err(|_| failed())?;
                Ok(kp
                    .sign_digest(&digest)
                    .map_err(|_| failed())?
                    .as_ref()
                    .to_vec())
            }
            Inner::Rsa(kp) => {
                let padding: &'static dyn sig::RsaEncoding = match algorithm {
                    SignatureAlgorithm::RsaPssSha256 => &sig::RSA_PSS_SHA256,
                    _ => &sig::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0u8; kp.public_modulus_len()];
                kp.sign(padding, &rng, message, &mut out)
                    .map_err(|_| failed())?;
                Ok(out)
            }
            Inner::Ed25519 { pure, ph } => match algorithm {
                SignatureAlgorithm::Ed25519 => Ok(pure.sign(message).as_ref().to_vec()),
                _ => {
                    let prehash = sha2::Sha512::new().chain_update(message);
                    let signature = ph.sign_prehashed(prehash, None).map_err(|_| failed())?;
                    Ok(signature.to_bytes().to_vec())
                }
            },
        }
    }
}

impl Signer for PrivateKey {
    fn public_key(&self) -> PublicKey {
        PrivateKey::public_key(self)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        PrivateKey::algorithm(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        PrivateKey::sign(self, message)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type())
            .field("public_key", &self.public)
            .field("private", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::sync::OnceLock;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn traits() {
        assert_send_sync::<PrivateKey>();
        assert_send_sync::<PublicKey>();
        let _: &dyn Signer = &PrivateKey::generate(KeyType::P256).unwrap();
    }

    /// One generated key per type for the whole test binary (RSA-4096 keygen is slow).
    fn key(kt: KeyType) -> &'static PrivateKey {
        static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            std::thread::scope(|s| {
                let handles: Vec<_> = KeyType::ALL
                    .iter()
                    .map(|kt| s.spawn(move || PrivateKey::generate(*kt).unwrap()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            })
        });
        &keys[KeyType::ALL.iter().position(|k| *k == kt).unwrap()]
    }

    #[rstest]
    fn sign_and_verify_every_algorithm(
        #[values(
            KeyType::P256,
            KeyType::P384,
            KeyType::P521,
            KeyType::Rsa2048,
            KeyType::Rsa3072,
            KeyType::Rsa4096,
            KeyType::Ed25519
        )]
        kt: KeyType,
    ) {
        let key = key(kt);
        assert_eq!(key.key_type(), kt);
        let public = key.public_key();
        assert_eq!(public.key_type(), kt);
        let msg = b"a simple signing payload";
        let sig = Signer::sign(key, msg).unwrap();
        assert_eq!(public.verify(msg, &sig), Ok(kt.default_algorithm()));
        assert_eq!(Signer::algorithm(key), kt.default_algorithm());
        for alg in kt.algorithms() {
            let sig = key.sign_with(*alg, msg).unwrap();
            assert_eq!(public.verify(msg, &sig), Ok(*alg), "{alg}");
            public.verify_with(*alg, msg, &sig).unwrap();
            assert_eq!(
                public.verify(b"another message", &sig),
                Err(Error::InvalidSignature { key_type: kt })
            );
        }
        // Another key of the same type does not verify it.
        let other = PrivateKey::generate(if kt.is_rsa() { KeyType::Rsa2048 } else { kt })
            .unwrap()
            .public_key();
        if other.key_type() == kt {
            assert!(other.verify(msg, &sig).is_err());
        }
        // Incompatible algorithms are refused.
        let foreign = if kt == KeyType::Ed25519 {
            SignatureAlgorithm::EcdsaP256Sha256
        } else {
            SignatureAlgorithm::Ed25519
        };
        assert_eq!(
            key.sign_with(foreign, msg),
            Err(Error::AlgorithmMismatch {
                algorithm: foreign,
                key_type: kt
            })
        );
        // PKCS#8 round trip keeps the key.
        let again = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
        assert_eq!(again.public_key(), public);
        assert_eq!(*again.to_pkcs8_der(), *key.to_pkcs8_der());
    }

    #[rstest]
    #[case(KeyType::P256, 32)]
    #[case(KeyType::P384, 48)]
    #[case(KeyType::P521, 66)]
    fn ecdsa_p1363_verifies(#[case] kt: KeyType, #[case] width: usize) {
        let key = key(kt);
        for alg in kt.algorithms() {
            let der = key.sign_with(*alg, b"msg").unwrap();
            let p1363 = crate::public::tests::der_to_p1363(&der, width);
            assert_eq!(key.public_key().verify(b"msg", &p1363), Ok(*alg));
        }
    }

    #[test]
    fn p384_sha256_matches_the_engine_verifier() {
        // Our zero-padded-digest trick must produce a plain ECDSA P-384/SHA-256 signature.
        let key = key(KeyType::P384);
        let sig = key
            .sign_with(SignatureAlgorithm::EcdsaP384Sha256, b"payload")
            .unwrap();
        let raw = &key.public.to_spki_der()[key.public.to_spki_der().len() - 97..];
        aws_lc_rs::signature::UnparsedPublicKey::new(&sig::ECDSA_P384_SHA256_ASN1, raw)
            .verify(b"payload", &sig)
            .unwrap();
        assert!(
            aws_lc_rs::signature::UnparsedPublicKey::new(&sig::ECDSA_P384_SHA384_ASN1, raw)
                .verify(b"payload", &sig)
                .is_err()
        );
    }

    #[test]
    fn ed25519ph_rfc8032_vector() {
        // RFC 8032 section 7.3, Ed25519ph, message "abc".
        let seed = hex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let mut pkcs8 = hex("302e020100300506032b657004220420");
        pkcs8.extend_from_slice(&seed);
        let key = PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        assert_eq!(key.key_type(), KeyType::Ed25519);
        let expected = hex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        assert_eq!(key.sign(b"abc").unwrap(), expected);
        assert_eq!(
            key.public_key().verify(b"abc", &expected),
            Ok(SignatureAlgorithm::Ed25519ph)
        );
        let pure = key.sign_with(SignatureAlgorithm::Ed25519, b"abc").unwrap();
        assert_ne!(pure, expected);
        assert_eq!(
            key.public_key().verify(b"abc", &pure),
            Ok(SignatureAlgorithm::Ed25519)
        );
        assert!(
            key.public_key()
                .verify_with(SignatureAlgorithm::Ed25519, b"abc", &expected)
                .is_err()
        );
        assert_eq!(
            &key.public_key().to_spki_der()[12..],
            hex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf").as_slice()
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let key = key(KeyType::Ed25519);
        let debug = format!("{key:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let pkcs8 = key.to_pkcs8_der();
        let secret_b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&pkcs8[pkcs8.len() - 32..])
        };
        assert!(!debug.contains(&secret_b64));
    }

    #[test]
    fn garbage_and_unsupported_pkcs8_are_refused() {
        assert!(matches!(
            PrivateKey::from_pkcs8_der(b"not der"),
            Err(Error::MalformedKey { .. })
        ));
        // X25519 PKCS#8 (RFC 8410 example).
        let x25519 = hex(
            "302e020100300506032b656e04220420d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842",
        );
        let err = PrivateKey::from_pkcs8_der(&x25519).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported key algorithm X25519 (OID 1.3.101.110) (RSA, ECDSA or Ed25519 needed)"
        );
        let err =
            PrivateKey::from_unencrypted_pem(&crate::pem_encode("CERTIFICATE", b"x")).unwrap_err();
        assert!(matches!(err, Error::UnexpectedPemType { .. }), "{err}");
        let err =
            PrivateKey::from_unencrypted_pem(&crate::pem_encode("ENCRYPTED PRIVATE KEY", b"x"))
                .unwrap_err();
        assert_eq!(
            err,
            Error::EncryptedPrivateKey {
                found: "ENCRYPTED PRIVATE KEY".to_owned()
            }
        );
    }

    #[test]
    fn pem_import_tolerates_crlf_and_surrounding_text() {
        let key = key(KeyType::P256);
        let pem = crate::pem_encode("PRIVATE KEY", &key.to_pkcs8_der());
        let messy = format!("some comment\r\n{}trailer\n", pem.replace('\n', "\r\n"));
        let back = PrivateKey::from_unencrypted_pem(&messy).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let err =
            PrivateKey::from_unencrypted_pem(&crate::pem_encode("EC PARAMETERS", b"\x06\x00"))
                .unwrap_err();
        assert!(matches!(err, Error::InvalidPem { .. }), "{err}");
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
