//! Untrusted-input robustness: key files, public keys and signatures may be anything a user
//! or a registry hands over; parsing and verification must reject, never panic.

use proptest::prelude::*;
use signet_crypto::cosign_key::{Password, decrypt_private_key};
use signet_crypto::{KeyType, PrivateKey, PublicKey, pem_encode};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn public_keys(der in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = PublicKey::from_spki_der(&der);
        let _ = PublicKey::from_pkcs1_der(&der);
        let _ = PublicKey::from_pem(&pem_encode("PUBLIC KEY", &der));
    }

    #[test]
    fn private_keys(der in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = PrivateKey::from_pkcs8_der(&der);
        let _ = PrivateKey::from_unencrypted_pem(&pem_encode("PRIVATE KEY", &der));
        let _ = PrivateKey::from_unencrypted_pem(&pem_encode("EC PRIVATE KEY", &der));
        let _ = PrivateKey::from_unencrypted_pem(&pem_encode("RSA PRIVATE KEY", &der));
    }

    #[test]
    fn text(s in "\\PC{0,200}") {
        let _ = PublicKey::from_pem(&s);
        let _ = PrivateKey::from_unencrypted_pem(&s);
        let _ = decrypt_private_key(&s, &Password::from(""));
    }

    #[test]
    fn key_file_json(s in r#"\{"kdf":\{"name":"(scrypt|x)","params":\{"N":(1|32768|65536|99999999999),"r":(8|0),"p":(1|0)\},"salt":"[A-Za-z0-9+/=]{0,12}"\},"cipher":\{"name":"nacl/secretbox","nonce":"[A-Za-z0-9+/=]{0,12}"\},"ciphertext":"[A-Za-z0-9+/=]{0,40}"\}"#) {
        let pem = pem_encode("ENCRYPTED SIGSTORE PRIVATE KEY", s.as_bytes());
        prop_assert!(decrypt_private_key(&pem, &Password::from("")).is_err());
    }

    #[test]
    fn signatures(sig in proptest::collection::vec(any::<u8>(), 0..160), msg in proptest::collection::vec(any::<u8>(), 0..64)) {
        for kt in [KeyType::P256, KeyType::Ed25519] {
            let key = PrivateKey::generate(kt).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(key.public_key().verify(&msg, &sig).is_err());
        }
    }
}
