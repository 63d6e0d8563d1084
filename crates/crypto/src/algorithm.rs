//! Key types and signature algorithms, with the names used on the command line.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The kinds of keys signet can create, import and verify with (what cosign's
/// `ValidatePubKey` accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ECDSA on NIST P-256 (secp256r1); what `cosign generate-key-pair` makes.
    P256,
    /// ECDSA on NIST P-384 (secp384r1).
    P384,
    /// ECDSA on NIST P-521 (secp521r1).
    P521,
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    /// All key types, in a stable order.
    pub const ALL: [KeyType; 7] = [
        KeyType::P256,
        KeyType::P384,
        KeyType::P521,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::Ed25519,
    ];

    /// The command-line name: `p256`, `p384`, `p521`, `rsa2048`, `rsa3072`, `rsa4096`, `ed25519`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::P256 => "p256",
            KeyType::P384 => "p384",
            KeyType::P521 => "p521",
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::Rsa4096 => "rsa4096",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The algorithm current cosign (v2.6+/v3) signs with for this key type:
    /// P-256 ECDSA SHA-256, P-384 ECDSA SHA-384, P-521 ECDSA SHA-512 (all ASN.1 DER),
    /// RSA PKCS#1 v1.5 SHA-256, Ed25519 → Ed25519ph.
    pub fn default_algorithm(self) -> SignatureAlgorithm {
        match self {
            KeyType::P256 => SignatureAlgorithm::EcdsaP256Sha256,
            KeyType::P384 => SignatureAlgorithm::EcdsaP384Sha384,
            KeyType::P521 => SignatureAlgorithm::EcdsaP521Sha512,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                SignatureAlgorithm::RsaPkcs1Sha256
            }
            KeyType::Ed25519 => SignatureAlgorithm::Ed25519ph,
        }
    }

    /// The algorithms a key of this type can sign or verify with, the default first.
    pub fn algorithms(self) -> &'static [SignatureAlgorithm] {
        use SignatureAlgorithm as A;
        match self {
            KeyType::P256 => &[A::EcdsaP256Sha256],
            KeyType::P384 => &[A::EcdsaP384Sha384, A::EcdsaP384Sha256],
            KeyType::P521 => &[A::EcdsaP521Sha512, A::EcdsaP521Sha256],
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                &[A::RsaPkcs1Sha256, A::RsaPssSha256]
            }
            KeyType::Ed25519 => &[A::Ed25519ph, A::Ed25519],
        }
    }

    /// True for the three RSA sizes.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    /// True for the three ECDSA curves.
    pub fn is_ecdsa(self) -> bool {
        matches!(self, KeyType::P256 | KeyType::P384 | KeyType::P521)
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    /// Parses the command-line name (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyType::ALL
            .into_iter()
            .find(|kt| kt.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownKeyType {
                value: s.to_owned(),
            })
    }
}

/// A signature scheme: key algorithm, hash and padding. ECDSA signatures are always written
/// ASN.1 DER; verification also accepts IEEE P1363 `r||s` for the same algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// ECDSA P-256 over SHA-256.
    EcdsaP256Sha256,
    /// ECDSA P-384 over SHA-384 (cosign ≥ v2.6).
    EcdsaP384Sha384,
    /// ECDSA P-384 over SHA-256 (cosign ≤ v2.5, containers/image).
    EcdsaP384Sha256,
    /// ECDSA P-521 over SHA-512 (cosign ≥ v2.6).
    EcdsaP521Sha512,
    /// ECDSA P-521 over SHA-256 (cosign ≤ v2.5, containers/image).
    EcdsaP521Sha256,
    /// RSA PKCS#1 v1.5 over SHA-256.
    RsaPkcs1Sha256,
    /// RSA-PSS over SHA-256, MGF1-SHA-256, salt length 32 when signing.
    RsaPssSha256,
    /// Pure Ed25519 (RFC 8032).
    Ed25519,
    /// Ed25519ph (RFC 8032 prehash: SHA-512, empty context).
    Ed25519ph,
}

impl SignatureAlgorithm {
    /// All algorithms, in a stable order.
    pub const ALL: [SignatureAlgorithm; 9] = [
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::EcdsaP384Sha384,
        SignatureAlgorithm::EcdsaP384Sha256,
        SignatureAlgorithm::EcdsaP521Sha512,
        SignatureAlgorithm::EcdsaP521Sha256,
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPssSha256,
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::Ed25519ph,
    ];

    /// A short stable name, e.g. `ecdsa-p256-sha256`, `rsa-pkcs1v15-sha256`, `ed25519ph`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlgorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            SignatureAlgorithm::EcdsaP384Sha256 => "ecdsa-p384-sha256",
            SignatureAlgorithm::EcdsaP521Sha512 => "ecdsa-p521-sha512",
            SignatureAlgorithm::EcdsaP521Sha256 => "ecdsa-p521-sha256",
            SignatureAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1v15-sha256",
            SignatureAlgorithm::RsaPssSha256 => "rsa-pss-sha256",
            SignatureAlgorithm::Ed25519 => "ed25519",
            SignatureAlgorithm::Ed25519ph => "ed25519ph",
        }
    }

    /// Whether a key of type `key_type` can sign or verify with this algorithm.
    pub fn is_compatible_with(self, key_type: KeyType) -> bool {
        key_type.algorithms().contains(&self)
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureAlgorithm {
    type Err = Error;

    /// Parses the name printed by `Display` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Error> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownSignatureAlgorithm {
                value: s.to_owned(),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn key_type_names_round_trip() {
        for kt in KeyType::ALL {
            assert_eq!(kt.to_string().parse::<KeyType>(), Ok(kt));
            assert!(kt.default_algorithm().is_compatible_with(kt));
            assert_eq!(kt.algorithms()[0], kt.default_algorithm());
        }
        assert_eq!("P256".parse::<KeyType>(), Ok(KeyType::P256));
        let err = "rsa1024".parse::<KeyType>().unwrap_err();
        assert!(err.to_string().contains("\"rsa1024\""), "{err}");
    }

    #[test]
    fn algorithm_names_round_trip() {
        for a in SignatureAlgorithm::ALL {
            assert_eq!(a.to_string().parse::<SignatureAlgorithm>(), Ok(a));
            assert!(KeyType::ALL.iter().any(|kt| a.is_compatible_with(*kt)));
        }
        assert!("md5".parse::<SignatureAlgorithm>().is_err());
    }
}
