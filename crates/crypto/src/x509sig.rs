//! Signature algorithms that sign X.509 certificates and CSRs (RFC 5758, RFC 8410,
//! RFC 4055), and verifying such a signature with a [`PublicKey`]. These are separate from
//! [`crate::SignatureAlgorithm`], which names how signet signs payloads: a certificate may be
//! signed with any hash the issuing CA chose (a P-256 CA signing with SHA-384, an RSA CA with
//! SHA-512).

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};

use crate::{Error, KeyType, PublicKey};

/// A certificate signature algorithm, as named by its `AlgorithmIdentifier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertSignatureAlgorithm {
    /// sha256WithRSAEncryption.
    RsaPkcs1Sha256,
    /// sha384WithRSAEncryption.
    RsaPkcs1Sha384,
    /// sha512WithRSAEncryption.
    RsaPkcs1Sha512,
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA384.
    EcdsaSha384,
    /// ecdsa-with-SHA512.
    EcdsaSha512,
    /// Ed25519.
    Ed25519,
}

impl CertSignatureAlgorithm {
    /// The algorithm for a dotted OID, or an error naming it (SHA-1 and RSA-PSS are not
    /// accepted: SHA-1 is broken, and PSS certificates are not issued by the PKIs signet serves).
    pub fn from_oid(oid: &str) -> Result<Self, Error> {
        Ok(match oid {
            "1.2.840.113549.1.1.11" => Self::RsaPkcs1Sha256,
            "1.2.840.113549.1.1.12" => Self::RsaPkcs1Sha384,
            "1.2.840.113549.1.1.13" => Self::RsaPkcs1Sha512,
            "1.2.840.10045.4.3.2" => Self::EcdsaSha256,
            "1.2.840.10045.4.3.3" => Self::EcdsaSha384,
            "1.2.840.10045.4.3.4" => Self::EcdsaSha512,
            "1.3.101.112" => Self::Ed25519,
            other => {
                return Err(Error::UnsupportedCertificateAlgorithm {
                    oid: other.to_string(),
                });
            }
        })
    }

    fn engine(self, key_type: KeyType) -> Option<&'static dyn VerificationAlgorithm> {
        use CertSignatureAlgorithm as A;
        use KeyType as K;
        Some(match (self, key_type) {
            (A::RsaPkcs1Sha256, K::Rsa2048 | K::Rsa3072 | K::Rsa4096) => {
                &sig::RSA_PKCS1_2048_8192_SHA256
            }
            (A::RsaPkcs1Sha384, K::Rsa2048 | K::Rsa3072 | K::Rsa4096) => {
                &sig::RSA_PKCS1_2048_8192_SHA384
            }
            (A::RsaPkcs1Sha512, K::Rsa2048 | K::Rsa3072 | K::Rsa4096) => {
                &sig::RSA_PKCS1_2048_8192_SHA512
            }
            (A::EcdsaSha256, K::P256) => &sig::ECDSA_P256_SHA256_ASN1,
            (A::EcdsaSha384, K::P256) => &sig::ECDSA_P256_SHA384_ASN1,
            (A::EcdsaSha512, K::P256) => &sig::ECDSA_P256_SHA512_ASN1,
            (A::EcdsaSha256, K::P384) => &sig::ECDSA_P384_SHA256_ASN1,
            (A::EcdsaSha384, K::P384) => &sig::ECDSA_P384_SHA384_ASN1,
            (A::EcdsaSha512, K::P384) => &sig::ECDSA_P384_SHA512_ASN1,
            (A::EcdsaSha256, K::P521) => &sig::ECDSA_P521_SHA256_ASN1,
            (A::EcdsaSha384, K::P521) => &sig::ECDSA_P521_SHA384_ASN1,
            (A::EcdsaSha512, K::P521) => &sig::ECDSA_P521_SHA512_ASN1,
            (A::Ed25519, K::Ed25519) => &sig::ED25519,
            _ => return None,
        })
    }
}

impl PublicKey {
    /// Verifies the signature an issuer made over a certificate's (or CSR's) to-be-signed bytes.
    pub fn verify_certificate_signature(
        &self,
        algorithm: CertSignatureAlgorithm,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let key_type = self.key_type();
        let engine = algorithm
            .engine(key_type)
            .ok_or(Error::InvalidSignature { key_type })?;
        UnparsedPublicKey::new(engine, self.raw_key())
            .verify(tbs, signature)
            .map_err(|_| Error::InvalidSignature { key_type })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PrivateKey, SignatureAlgorithm};

    #[test]
    fn verifies_what_the_matching_key_signs() {
        for (kt, alg, cert_alg) in [
            (
                KeyType::P256,
                SignatureAlgorithm::EcdsaP256Sha256,
                CertSignatureAlgorithm::EcdsaSha256,
            ),
            (
                KeyType::P384,
                SignatureAlgorithm::EcdsaP384Sha384,
                CertSignatureAlgorithm::EcdsaSha384,
            ),
            (
                KeyType::Rsa2048,
                SignatureAlgorithm::RsaPkcs1Sha256,
                CertSignatureAlgorithm::RsaPkcs1Sha256,
            ),
            (
                KeyType::Ed25519,
                SignatureAlgorithm::Ed25519,
                CertSignatureAlgorithm::Ed25519,
            ),
        ] {
            let key = PrivateKey::generate(kt).unwrap();
            let sig = key.sign_with(alg, b"tbs").unwrap();
            let public = key.public_key();
            public
                .verify_certificate_signature(cert_alg, b"tbs", &sig)
                .unwrap();
            assert!(
                public
                    .verify_certificate_signature(cert_alg, b"other", &sig)
                    .is_err()
            );
        }
    }

    #[test]
    fn algorithm_and_key_must_agree() {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let sig = key.sign(b"tbs").unwrap();
        assert!(
            key.public_key()
                .verify_certificate_signature(CertSignatureAlgorithm::RsaPkcs1Sha256, b"tbs", &sig)
                .is_err()
        );
        assert!(CertSignatureAlgorithm::from_oid("1.2.840.113549.1.1.5").is_err());
    }
}
