//! Key types (with the signing service's wire names), hash algorithms, RSA signature
//! paddings and key handles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The key types the signing service offers, named as on its API: `RSA2048`, `RSA3072`,
/// `RSA4096`, `ECDSAP256`, `ECDSAP384`, `ECDSAP521`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyType {
    /// RSA with a 2048-bit modulus.
    #[serde(rename = "RSA2048")]
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    #[serde(rename = "RSA3072")]
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    #[serde(rename = "RSA4096")]
    Rsa4096,
    /// ECDSA on NIST P-256.
    #[serde(rename = "ECDSAP256")]
    EcdsaP256,
    /// ECDSA on NIST P-384.
    #[serde(rename = "ECDSAP384")]
    EcdsaP384,
    /// ECDSA on NIST P-521.
    #[serde(rename = "ECDSAP521")]
    EcdsaP521,
}

impl KeyType {
    /// All key types, in a stable order.
    pub const ALL: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
    ];

    /// The wire name, e.g. `ECDSAP256`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "RSA2048",
            KeyType::Rsa3072 => "RSA3072",
            KeyType::Rsa4096 => "RSA4096",
            KeyType::EcdsaP256 => "ECDSAP256",
            KeyType::EcdsaP384 => "ECDSAP384",
            KeyType::EcdsaP521 => "ECDSAP521",
        }
    }

    /// True for the RSA sizes.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    /// The RSA modulus size in bits, or `None` for ECDSA.
    pub fn rsa_bits(self) -> Option<u32> {
        match self {
            KeyType::Rsa2048 => Some(2048),
            KeyType::Rsa3072 => Some(3072),
            KeyType::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// The hash [`crate::KeyBackend::sign`] uses (cosign's choice for the key type).
    pub fn default_hash(self) -> HashAlgorithm {
        match self {
            KeyType::EcdsaP384 => HashAlgorithm::Sha384,
            KeyType::EcdsaP521 => HashAlgorithm::Sha512,
            _ => HashAlgorithm::Sha256,
        }
    }

    /// The hashes [`crate::KeyBackend::sign_digest`] accepts for this key type, the default
    /// first. ECDSA: the curve's own hash, and P-384 and P-521 also over SHA-256 (as cosign
    /// ≤ v2.5 and containers/image sign). RSA: SHA-256, SHA-384 and SHA-512, with either
    /// padding (the hosted service's DigestSigning accepts all three for RSA keys; Notary
    /// Project signatures use PS256/PS384/PS512). `signet_crypto::PublicKey::verify` checks
    /// only the SHA-256 RSA signatures among them; the others verify with openssl or
    /// aws-lc-rs.
    pub fn hashes(self) -> &'static [HashAlgorithm] {
        match self {
            KeyType::EcdsaP256 => &[HashAlgorithm::Sha256],
            KeyType::EcdsaP384 => &[HashAlgorithm::Sha384, HashAlgorithm::Sha256],
            KeyType::EcdsaP521 => &[HashAlgorithm::Sha512, HashAlgorithm::Sha256],
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => &[
                HashAlgorithm::Sha256,
                HashAlgorithm::Sha384,
                HashAlgorithm::Sha512,
            ],
        }
    }

    /// The matching `signet_crypto` key type.
    pub fn crypto_key_type(self) -> signet_crypto::KeyType {
        match self {
            KeyType::Rsa2048 => signet_crypto::KeyType::Rsa2048,
            KeyType::Rsa3072 => signet_crypto::KeyType::Rsa3072,
            KeyType::Rsa4096 => signet_crypto::KeyType::Rsa4096,
            KeyType::EcdsaP256 => signet_crypto::KeyType::P256,
            KeyType::EcdsaP384 => signet_crypto::KeyType::P384,
            KeyType::EcdsaP521 => signet_crypto::KeyType::P521,
        }
    }

    /// The key type of a `signet_crypto` key type, if the service offers it (not Ed25519).
    pub fn from_crypto_key_type(kt: signet_crypto::KeyType) -> Option<Self> {
        KeyType::ALL.into_iter().find(|k| k.crypto_key_type() == kt)
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    /// Parses the wire name (exactly as written, e.g. `ECDSAP256`).
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyType::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::UnknownKeyType {
                value: s.chars().take(32).collect(),
            })
    }
}

/// The key type a product's `keyType` names (the workflow keeps the wire names; this crate
/// the key operations).
impl From<signet_workflow::product::KeyType> for KeyType {
    fn from(wire: signet_workflow::product::KeyType) -> Self {
        use signet_workflow::product::KeyType as Wire;
        match wire {
            Wire::Rsa2048 => KeyType::Rsa2048,
            Wire::Rsa3072 => KeyType::Rsa3072,
            Wire::Rsa4096 => KeyType::Rsa4096,
            Wire::EcdsaP256 => KeyType::EcdsaP256,
            Wire::EcdsaP384 => KeyType::EcdsaP384,
            Wire::EcdsaP521 => KeyType::EcdsaP521,
        }
    }
}

/// The hash a signing request's `hashAlgorithm` names.
impl From<signet_workflow::digest::HashAlgorithm> for HashAlgorithm {
    fn from(wire: signet_workflow::digest::HashAlgorithm) -> Self {
        use signet_workflow::digest::HashAlgorithm as Wire;
        match wire {
            Wire::Sha256 => HashAlgorithm::Sha256,
            Wire::Sha384 => HashAlgorithm::Sha384,
            Wire::Sha512 => HashAlgorithm::Sha512,
        }
    }
}

/// How an RSA signature pads the digest. ECDSA keys ignore it (as the hosted service does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignaturePadding {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2): the `DigestInfo` of the digest. What cosign signs.
    #[default]
    #[serde(rename = "PKCS_v1_5")]
    Pkcs1v15,
    /// RSASSA-PSS (RFC 8017 §8.1) with MGF1 over the digest's own hash and a salt as long as
    /// the digest (32, 48 or 64 bytes): what Notary Project signatures (PS256/PS384/PS512)
    /// require. Randomized: two signatures of one digest differ.
    #[serde(rename = "PSS")]
    Pss,
}

impl SignaturePadding {
    /// The hosted service's name: `PKCS_v1_5` or `PSS`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignaturePadding::Pkcs1v15 => "PKCS_v1_5",
            SignaturePadding::Pss => "PSS",
        }
    }
}

impl fmt::Display for SignaturePadding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The padding a signing request's `signaturePadding` names.
impl From<signet_workflow::options::SignaturePadding> for SignaturePadding {
    fn from(wire: signet_workflow::options::SignaturePadding) -> Self {
        use signet_workflow::options::SignaturePadding as Wire;
        match wire {
            Wire::Pkcs1v15 => SignaturePadding::Pkcs1v15,
            Wire::Pss => SignaturePadding::Pss,
        }
    }
}

/// The hash a digest handed to [`crate::KeyBackend::sign_digest`] was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashAlgorithm {
    /// SHA-256 (32 bytes).
    #[serde(rename = "SHA256")]
    Sha256,
    /// SHA-384 (48 bytes).
    #[serde(rename = "SHA384")]
    Sha384,
    /// SHA-512 (64 bytes).
    #[serde(rename = "SHA512")]
    Sha512,
}

impl HashAlgorithm {
    /// All hash algorithms.
    pub const ALL: [HashAlgorithm; 3] = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// The name: `SHA256`, `SHA384`, `SHA512`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Sha384 => "SHA384",
            HashAlgorithm::Sha512 => "SHA512",
        }
    }

    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The aws-lc-rs digest algorithm.
    pub fn aws_lc(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            HashAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
            HashAlgorithm::Sha384 => &aws_lc_rs::digest::SHA384,
            HashAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }

    /// Hashes `message`.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.aws_lc(), message)
            .as_ref()
            .to_vec()
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HashAlgorithm {
    type Err = Error;

    /// Parses `SHA256`, `SHA384` or `SHA512`.
    fn from_str(s: &str) -> Result<Self, Error> {
        HashAlgorithm::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| Error::UnknownHashAlgorithm {
                value: s.chars().take(32).collect(),
            })
    }
}

/// Checks that `hash` suits `key_type` and that `digest` has its length.
pub(crate) fn check_digest(
    key_type: KeyType,
    digest: &[u8],
    hash: HashAlgorithm,
) -> Result<(), Error> {
    if !key_type.hashes().contains(&hash) {
        return Err(Error::UnsupportedHash { key_type, hash });
    }
    if digest.len() != hash.output_len() {
        return Err(Error::DigestLength {
            hash,
            expected: hash.output_len(),
            actual: digest.len(),
        });
    }
    Ok(())
}

/// The opaque handle of a stored key, as the service records it. Its text is not secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a handle read back from storage (validated when used).
    pub fn new(id: impl Into<String>) -> Self {
        KeyId(id.into())
    }

    /// The handle's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The handle as lower-case hex bytes of `len` bytes, or `None` when it is not one.
    pub(crate) fn hex_bytes(&self, len: usize) -> Option<Vec<u8>> {
        let s = self.0.as_bytes();
        if s.len() != 2 * len {
            return None;
        }
        let nib = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        s.chunks(2)
            .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
            .collect()
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        KeyId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A shortened, printable form for error messages (never more than 64 characters).
    pub(crate) fn for_display(&self) -> String {
        self.0
            .chars()
            .take(64)
            .map(|c| if c.is_ascii_graphic() { c } else { '?' })
            .collect()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn key_type_names_round_trip() {
        for kt in KeyType::ALL {
            assert_eq!(kt.to_string().parse::<KeyType>().unwrap(), kt);
            let json = serde_json::to_string(&kt).unwrap();
            assert_eq!(json, format!("\"{kt}\""));
            assert_eq!(serde_json::from_str::<KeyType>(&json).unwrap(), kt);
            assert_eq!(
                KeyType::from_crypto_key_type(kt.crypto_key_type()),
                Some(kt)
            );
        }
        assert!("ECDSA256".parse::<KeyType>().is_err());
        assert_eq!("RSA4096".parse::<KeyType>().unwrap(), KeyType::Rsa4096);
    }

    #[test]
    fn workflow_wire_names_map_to_the_same_names() {
        use signet_workflow::digest::HashAlgorithm as WireHash;
        use signet_workflow::product::KeyType as WireKey;
        for name in [
            "RSA2048",
            "RSA3072",
            "RSA4096",
            "ECDSAP256",
            "ECDSAP384",
            "ECDSAP521",
        ] {
            let wire = WireKey::parse(name).unwrap();
            assert_eq!(KeyType::from(wire).as_str(), name);
        }
        for name in ["SHA256", "SHA384", "SHA512"] {
            let wire = WireHash::parse(name).unwrap();
            assert_eq!(HashAlgorithm::from(wire).as_str(), name);
        }
    }

    #[test]
    fn hash_names_round_trip() {
        for h in HashAlgorithm::ALL {
            assert_eq!(h.to_string().parse::<HashAlgorithm>().unwrap(), h);
            assert_eq!(h.digest(b"x").len(), h.output_len());
        }
    }

    #[test]
    fn key_id_hex() {
        let id = KeyId::from_bytes(&[0, 0xab, 0xff]);
        assert_eq!(id.as_str(), "00abff");
        assert_eq!(id.hex_bytes(3).unwrap(), vec![0, 0xab, 0xff]);
        assert!(KeyId::new("00ABFF").hex_bytes(3).is_none());
        assert!(KeyId::new("../../x").hex_bytes(3).is_none());
        assert!(KeyId::new("00ab").hex_bytes(3).is_none());
    }
}
