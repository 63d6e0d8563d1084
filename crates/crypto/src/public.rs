//! Public keys: parsing (SPKI / PKCS#1, DER or PEM), Go-compatible PEM output and
//! signature verification that accepts what real producers write.

use std::fmt;

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::{AnyRef, BitString, UintRef};
use der::{Decode, Encode};
use ed25519_dalek::Digest as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

use crate::pem_util::{self, pem_encode};
use crate::{Error, KeyType, SignatureAlgorithm, oids};

/// A public key: the DER `SubjectPublicKeyInfo` plus its parsed type.
///
/// Only keys cosign accepts are representable: RSA 2048/3072/4096, ECDSA P-256/P-384/P-521
/// (uncompressed points) and Ed25519. Equality compares the SPKI DER.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    der: Vec<u8>,
    key_type: KeyType,
    /// The content of the `subjectPublicKey` BIT STRING: PKCS#1 `RSAPublicKey` DER, an
    /// uncompressed EC point, or the 32 Ed25519 bytes (what aws-lc-rs verifies with).
    raw: Vec<u8>,
}

impl PublicKey {
    /// Parses a PEM public key: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1), the first
    /// PEM block of `pem`. Other PEM types are refused with an error naming the type.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let block = pem_util::parse_first(pem)?;
        match block.tag() {
            "PUBLIC KEY" => Self::from_spki_der(block.contents()),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(block.contents()),
            other => Err(Error::UnexpectedPemType {
                expected: "a PEM public key",
                found: other.to_owned(),
            }),
        }
    }

    /// Parses a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        let malformed = |reason: String| Error::MalformedKey {
            what: "public key (SubjectPublicKeyInfo)",
            reason,
        };
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| malformed(e.to_string()))?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| malformed("the key bit string is not byte aligned".to_owned()))?;
        let alg = &spki.algorithm;
        let key_type = if alg.oid == oids::RSA_ENCRYPTION {
            if alg.parameters.is_some_and(|p| p != AnyRef::NULL) {
                return Err(malformed("RSA key parameters are not NULL".to_owned()));
            }
            rsa_key_type(raw)?
        } else if alg.oid == oids::EC_PUBLIC_KEY {
            let curve = alg
                .parameters_oid()
                .map_err(|_| malformed("EC key without a named curve".to_owned()))?;
            let key_type = curve_key_type(&curve)?;
            let coord = match key_type {
                KeyType::P256 => 32,
                KeyType::P384 => 48,
                _ => 66,
            };
            if raw.len() != 1 + 2 * coord || raw[0] != 0x04 {
                return Err(malformed(
                    "EC point is not an uncompressed point of the curve".to_owned(),
                ));
            }
            key_type
        } else if alg.oid == oids::ED25519 {
            if alg.parameters.is_some() || raw.len() != 32 {
                return Err(malformed("invalid Ed25519 public key".to_owned()));
            }
            KeyType::Ed25519
        } else {
            return Err(Error::UnsupportedKeyAlgorithm {
                algorithm: oids::describe(&alg.oid),
            });
        };
        // Let the engine check the key itself (point on curve, RSA sanity).
        let check_alg: &'static dyn VerificationAlgorithm =
            engine_algorithm(key_type.default_algorithm()).unwrap_or(&sig::ED25519);
        sig::ParsedPublicKey::new(check_alg, raw)
            .map_err(|e| malformed(format!("the key is rejected by the crypto engine ({e})")))?;
        Ok(PublicKey {
            der: der.to_vec(),
            key_type,
            raw: raw.to_vec(),
        })
    }

    /// Parses a PKCS#1 `RSAPublicKey` (DER) and wraps it in a `SubjectPublicKeyInfo`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        rsa_key_type(der)?;
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(AnyRef::NULL.into()),
            },
            subject_public_key: BitString::from_bytes(der).map_err(|e| Error::MalformedKey {
                what: "RSA public key (PKCS#1)",
                reason: e.to_string(),
            })?,
        };
        let spki_der = spki.to_der().map_err(|e| Error::MalformedKey {
            what: "RSA public key (PKCS#1)",
            reason: e.to_string(),
        })?;
        Self::from_spki_der(&spki_der)
    }

    /// The raw key bytes aws-lc-rs verifies with (EC point, PKCS#1 RSA key, Ed25519 bytes).
    pub(crate) fn raw_key(&self) -> &[u8] {
        &self.raw
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> &[u8] {
        &self.der
    }

    /// The key as PEM, exactly as Go's `pem.EncodeToMemory` writes a `PUBLIC KEY` block
    /// (what `cosign.pub` contains).
    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.der)
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// SHA-256 of the SPKI DER (cosign's v3 bundle "key hint" is its standard base64).
    pub fn sha256_fingerprint(&self) -> [u8; 32] {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }

    /// Verifies `signature` over `message`, accepting what real producers write, and returns
    /// the algorithm that matched:
    ///
    /// * ECDSA: ASN.1 DER or IEEE P1363 `r||s`; P-256 with SHA-256; P-384 with SHA-384 or
    ///   SHA-256; P-521 with SHA-512 or SHA-256 (cosign ≤ v2.5 and containers/image hash
    ///   with SHA-256 on every curve);
    /// * RSA: PKCS#1 v1.5 SHA-256, or PSS SHA-256;
    /// * Ed25519: Ed25519ph (what cosign ≥ v2.6 writes) or pure Ed25519.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<SignatureAlgorithm, Error> {
        self.key_type
            .algorithms()
            .iter()
            .copied()
            .find(|alg| self.verify_with(*alg, message, signature).is_ok())
            .ok_or(Error::InvalidSignature {
                key_type: self.key_type,
            })
    }

    /// Verifies `signature` over `message` with exactly `algorithm` (ECDSA signatures may
    /// still be DER or P1363).
    pub fn verify_with(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        if !algorithm.is_compatible_with(self.key_type) {
            return Err(Error::AlgorithmMismatch {
                algorithm,
                key_type: self.key_type,
            });
        }
        let invalid = Error::InvalidSignature {
            key_type: self.key_type,
        };
        let ok = match algorithm {
            SignatureAlgorithm::Ed25519ph => self.verify_ed25519ph(message, signature),
            SignatureAlgorithm::Ed25519 => UnparsedPublicKey::new(&sig::ED25519, &self.raw)
                .verify(message, signature)
                .is_ok(),
            other => match engine_algorithm(other) {
                Some(alg) => {
                    let key = UnparsedPublicKey::new(alg, &self.raw);
                    key.verify(message, signature).is_ok()
                        || (self.key_type.is_ecdsa()
                            && p1363_to_der(signature)
                                .is_some_and(|der_sig| key.verify(message, &der_sig).is_ok()))
                }
                None => false,
            },
        };
        if ok { Ok(()) } else { Err(invalid) }
    }

    fn verify_ed25519ph(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(raw) = <[u8; 32]>::try_from(self.raw.as_slice()) else {
            return false;
        };
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&raw) else {
            return false;
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        let prehash = sha2::Sha512::new().chain_update(message);
        key.verify_prehashed(prehash, None, &signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type)
            .field(
                "spki_der_base64",
                &base64::engine::general_purpose::STANDARD.encode(&self.der),
            )
            .finish()
    }
}

/// The aws-lc-rs verification algorithm (ECDSA: ASN.1 DER form) for a non-Ed25519 algorithm.
pub(crate) fn engine_algorithm(
    algorithm: SignatureAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    use SignatureAlgorithm as A;
    Some(match algorithm {
        A::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
        A::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA384_ASN1,
        A::EcdsaP384Sha256 => &sig::ECDSA_P384_SHA256_ASN1,
        A::EcdsaP521Sha512 => &sig::ECDSA_P521_SHA512_ASN1,
        A::EcdsaP521Sha256 => &sig::ECDSA_P521_SHA256_ASN1,
        A::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        A::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
        A::Ed25519 | A::Ed25519ph => return None,
    })
}

/// Converts an IEEE P1363 ECDSA signature (`r||s`, equal halves) to ASN.1 DER
/// `SEQUENCE { INTEGER r, INTEGER s }`, accepting what sigstore's Go verifier treats as P1363:
/// an even, non-zero length of at most 132 bytes.
pub(crate) fn p1363_to_der(signature: &[u8]) -> Option<Vec<u8>> {
    if signature.is_empty() || !signature.len().is_multiple_of(2) || signature.len() > 132 {
        return None;
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let mut body = Vec::with_capacity(signature.len() + 8);
    for int in [r, s] {
        let stripped: &[u8] = match int.iter().position(|b| *b != 0) {
            Some(i) => &int[i..],
            None => &[0],
        };
        let pad = stripped[0] & 0x80 != 0;
        body.push(0x02);
        // At most 66 + 1 bytes: always a short-form length.
        body.push(u8::try_from(stripped.len() + usize::from(pad)).ok()?);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(stripped);
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    let len = u8::try_from(body.len()).ok()?;
    if len >= 0x80 {
        out.push(0x81);
    }
    out.push(len);
    out.extend_from_slice(&body);
    Some(out)
}

/// The key type of a PKCS#1 `RSAPublicKey`, refusing sizes other than 2048/3072/4096.
fn rsa_key_type(pkcs1_der: &[u8]) -> Result<KeyType, Error> {
    let key = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(pkcs1_der).map_err(|e| {
        Error::MalformedKey {
            what: "RSA public key",
            reason: e.to_string(),
        }
    })?;
    let bits = uint_bits(key.modulus.as_bytes());
    rsa_bits_key_type(bits)
}

pub(crate) fn rsa_bits_key_type(bits: usize) -> Result<KeyType, Error> {
    match bits {
        2048 => Ok(KeyType::Rsa2048),
        3072 => Ok(KeyType::Rsa3072),
        4096 => Ok(KeyType::Rsa4096),
        bits => Err(Error::UnsupportedRsaKeySize { bits }),
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn uint_bits(bytes: &[u8]) -> usize {
    let mut iter = bytes.iter().skip_while(|b| **b == 0);
    match iter.next() {
        Some(first) => (iter.count() * 8) + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// The key type for a named curve, refusing everything but P-256/P-384/P-521.
pub(crate) fn curve_key_type(curve: &der::oid::ObjectIdentifier) -> Result<KeyType, Error> {
    if *curve == oids::P256 {
        Ok(KeyType::P256)
    } else if *curve == oids::P384 {
        Ok(KeyType::P384)
    } else if *curve == oids::P521 {
        Ok(KeyType::P521)
    } else {
        Err(Error::UnsupportedCurve {
            curve: oids::describe(curve),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    /// cosign-format.md section 2.2 (from sigstore-rs `signature_layers.rs`).
    const EXAMPLE_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----
";
    const EXAMPLE_SIG: &str = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
    const EXAMPLE_PAYLOAD: &[u8] = include_bytes!("../tests/data/example_payload.json");

    fn example_sig() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(EXAMPLE_SIG)
            .unwrap()
    }

    #[test]
    fn section_2_2_example_verifies() {
        let key = PublicKey::from_pem(EXAMPLE_PUB).unwrap();
        assert_eq!(key.key_type(), KeyType::P256);
        assert_eq!(EXAMPLE_PAYLOAD.len(), 248);
        assert_eq!(
            key.verify(EXAMPLE_PAYLOAD, &example_sig()),
            Ok(SignatureAlgorithm::EcdsaP256Sha256)
        );
        let mut other = EXAMPLE_PAYLOAD.to_vec();
        other[10] ^= 1;
        assert_eq!(
            key.verify(&other, &example_sig()),
            Err(Error::InvalidSignature {
                key_type: KeyType::P256
            })
        );
    }

    #[test]
    fn example_in_p1363_form_verifies() {
        let key = PublicKey::from_pem(EXAMPLE_PUB).unwrap();
        let p1363 = der_to_p1363(&example_sig(), 32);
        assert_eq!(p1363.len(), 64);
        assert_eq!(
            key.verify(EXAMPLE_PAYLOAD, &p1363),
            Ok(SignatureAlgorithm::EcdsaP256Sha256)
        );
        assert!(key.verify(b"other", &p1363).is_err());
    }

    #[test]
    fn pem_round_trip_is_byte_exact() {
        let key = PublicKey::from_pem(EXAMPLE_PUB).unwrap();
        assert_eq!(key.to_pem(), EXAMPLE_PUB);
        assert_eq!(PublicKey::from_spki_der(key.to_spki_der()).unwrap(), key);
        assert!(format!("{key:?}").contains("P256"));
    }

    #[test]
    fn other_pem_types_are_named() {
        let cert = pem_encode("CERTIFICATE", b"\x30\x00");
        let err = PublicKey::from_pem(&cert).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a PEM public key, found PEM type \"CERTIFICATE\""
        );
        assert!(matches!(
            PublicKey::from_pem("garbage"),
            Err(Error::InvalidPem { .. })
        ));
        assert!(matches!(
            PublicKey::from_spki_der(b"\x30\x03\x02\x01\x00"),
            Err(Error::MalformedKey { .. })
        ));
    }

    #[test]
    fn compressed_and_off_curve_points_are_refused() {
        let key = PublicKey::from_pem(EXAMPLE_PUB).unwrap();
        let mut der = key.to_spki_der().to_vec();
        let last = der.len() - 1;
        der[last] ^= 1; // point no longer on the curve
        assert!(matches!(
            PublicKey::from_spki_der(&der),
            Err(Error::MalformedKey { .. })
        ));
    }

    #[test]
    fn wrong_algorithm_is_a_mismatch() {
        let key = PublicKey::from_pem(EXAMPLE_PUB).unwrap();
        let err = key
            .verify_with(SignatureAlgorithm::Ed25519, b"m", &[0; 64])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "signature algorithm ed25519 cannot be used with a p256 key"
        );
    }

    #[test]
    fn uint_bits_counts() {
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
        assert_eq!(uint_bits(&[1]), 1);
        assert_eq!(uint_bits(&[0, 0x80, 0]), 16);
    }

    /// Test helper: DER ECDSA signature to fixed-width r||s.
    pub(crate) fn der_to_p1363(der: &[u8], width: usize) -> Vec<u8> {
        assert_eq!(der[0], 0x30);
        let mut i = if der[1] == 0x81 { 3 } else { 2 };
        let mut out = Vec::new();
        for _ in 0..2 {
            assert_eq!(der[i], 0x02);
            let len = der[i + 1] as usize;
            let int = &der[i + 2..i + 2 + len];
            let int = &int[int.iter().position(|b| *b != 0).unwrap_or(int.len())..];
            out.extend(std::iter::repeat_n(0, width - int.len()));
            out.extend_from_slice(int);
            i += 2 + len;
        }
        out
    }

    proptest! {
        #[test]
        fn p1363_to_der_round_trips(r in proptest::collection::vec(any::<u8>(), 1..=66usize), s_seed in any::<u64>()) {
            let width = r.len();
            let s: Vec<u8> = (0..width).map(|i| (s_seed.rotate_left(i as u32) & 0xff) as u8).collect();
            let mut sig = r.clone();
            sig.extend_from_slice(&s);
            let der = p1363_to_der(&sig).unwrap();
            prop_assert_eq!(der_to_p1363(&der, width), sig);
        }
    }
}
