//! Property tests: the parsers that see untrusted input never panic.
#![allow(clippy::unwrap_used, missing_docs)]

use proptest::prelude::*;
use signet_policy::payload::{parse_sigstore_payload, parse_simple_signing_payload};
use signet_policy::{DockerReference, ImageName, Policy, SignedIdentity, Transport, parse_digest};

const VALID: &str = r#"{"default":[{"type":"reject"}],"transports":{"docker":{"quay.io/a":[{"type":"sigstoreSigned","keyPath":"/k","rekorPublicKeyData":"aGk=","signedIdentity":{"type":"remapIdentity","prefix":"quay.io","signedPrefix":"mirror.local"}}],"":[{"type":"signedBy","keyType":"GPGKeys","keyPaths":["/a"]}]},"oci":{"/srv":[{"type":"sigstoreSigned","pki":{"caRootsPath":"/r","subjectEmail":"e"}}]}}}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Policy::parse(&bytes);
        let _ = parse_simple_signing_payload(&bytes);
        let _ = parse_sigstore_payload(&bytes);
    }

    #[test]
    fn parse_near_valid(pos in 0usize..VALID.len(), len in 0usize..8, replacement in "[\\[\\]{}\",:a-zA-Z0-9 /\\\\.*@-]{0,6}") {
        let mut s = VALID.to_string();
        let start = pos.min(s.len());
        let end = (start + len).min(s.len());
        if s.is_char_boundary(start) && s.is_char_boundary(end) {
            s.replace_range(start..end, &replacement);
        }
        if let Ok(p) = Policy::parse(s.as_bytes()) {
            // Whatever parses can be looked up and its resources listed.
            for t in ["docker", "oci", "dir"] {
                let transport = Transport::from_name(t);
                let image = ImageName::docker("quay.io/a/b:c").unwrap();
                let (reqs, _) = p.requirements_for(&transport, &image);
                prop_assert!(!reqs.is_empty());
                let _ = p.resources_for(&transport, &image);
            }
        }
    }

    #[test]
    fn deeply_nested_input(depth in 0usize..400) {
        let s = format!("{{\"default\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let _ = Policy::parse(s.as_bytes());
    }

    #[test]
    fn references_and_identities(a in "[a-zA-Z0-9./:@_-]{0,40}", b in "[a-zA-Z0-9./:@_-]{0,40}") {
        let _ = DockerReference::parse_normalized(&a);
        let _ = DockerReference::parse_named(&a);
        let _ = parse_digest(&a);
        if let Ok(image) = ImageName::docker(&a) {
            let _ = image.policy_namespaces(&Transport::Docker);
            for id in [
                SignedIdentity::MatchExact,
                SignedIdentity::MatchRepoDigestOrExact,
                SignedIdentity::MatchRepository,
                SignedIdentity::ExactReference { docker_reference: b.clone() },
                SignedIdentity::ExactRepository { docker_repository: b.clone() },
                SignedIdentity::RemapIdentity { prefix: b.clone(), signed_prefix: "example.com".into() },
                SignedIdentity::RemapIdentity { prefix: image.docker_reference().unwrap().domain().to_string(), signed_prefix: b.clone() },
            ] {
                let _ = id.matches(&image, &b);
            }
        }
        let _ = ImageName::Path(a.clone()).policy_namespaces(&Transport::Oci);
        let _ = ImageName::Path(a).policy_namespaces(&Transport::Dir);
    }

    #[test]
    fn payload_near_valid(pos in 0usize..200, replacement in "[\\[\\]{}\",:a-z0-9 .]{0,4}") {
        let mut s = r#"{"critical":{"identity":{"docker-reference":"quay.io/a/b:v1"},"image":{"docker-manifest-digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},"type":"cosign container image signature"},"optional":{"timestamp":1e3}}"#.to_string();
        let start = pos.min(s.len());
        let end = (start + 3).min(s.len());
        s.replace_range(start..end, &replacement);
        let _ = parse_sigstore_payload(s.as_bytes());
        let _ = parse_simple_signing_payload(s.as_bytes());
    }
}
