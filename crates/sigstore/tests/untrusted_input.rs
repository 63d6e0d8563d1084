//! Untrusted-input robustness: payloads, signature images and annotation values from a
//! registry may be anything; parsing and verification must reject, never panic.

use std::collections::BTreeMap;

use proptest::prelude::*;
use signet_crypto::{KeyType, PrivateKey};
use signet_oci::{Descriptor, Digest, media_types};
use signet_sigstore::verify::Candidate;
use signet_sigstore::{
    Payload, SignatureImage, VerifyOptions, annotations, gobase64, verify_signatures,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn payloads(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Payload::parse(&bytes);
    }

    #[test]
    fn json_shaped_payloads(s in r#"\{"(critical|Critical|optional)":(\{"(identity|image|type)":(\{"[a-z-]{0,24}":("[a-z0-9:]{0,20}"|\d|null|\[\])\}|"x"|null|1)\}|null|"s"|\[\])\}"#) {
        let _ = Payload::parse(s.as_bytes());
    }

    #[test]
    fn base64(s in "\\PC{0,100}") {
        let _ = gobase64::decode(&s);
    }

    #[test]
    fn signature_images(m in proptest::collection::vec(any::<u8>(), 0..200), c in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SignatureImage::from_parts(&m, &c);
    }

    #[test]
    fn candidates(payload in proptest::collection::vec(any::<u8>(), 0..200), sig in "\\PC{0,120}") {
        let key = PrivateKey::generate(KeyType::P256).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut layer = Descriptor::for_bytes(media_types::COSIGN_SIMPLE_SIGNING, &payload);
        layer.annotations.insert(annotations::SIGNATURE.to_string(), sig);
        let options = VerifyOptions {
            expected_digest: Digest::sha256(b"x"),
            annotations: BTreeMap::new(),
            check_claims: true,
            ignore_tlog: true,
            rekor_keys: Vec::new(),
        };
        let result = verify_signatures(&[Candidate { layer, payload: Ok(payload) }], signet_sigstore::verify::Verifier::Key(&key.public_key()), &options, 0);
        prop_assert!(result.is_err());
    }
}
