//! Digest input validation: base64 digests, cosign payloads, repository restrictions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rstest::rstest;
use sha2::Digest as _;
use signet_workflow::Error;
use signet_workflow::digest::{
    DigestInput, HashAlgorithm, parse_cosign_payload, repository_of, validate_input,
};
use signet_workflow::product::{ApprovalRule, OperationType, ProductOperation};

fn op(allowed: Option<&[&str]>) -> ProductOperation {
    ProductOperation {
        id: None,
        name: "oci".into(),
        description: String::new(),
        operation_type: OperationType::DetachedSignature,
        token: None,
        approval_rule: ApprovalRule {
            name: String::new(),
            description: String::new(),
            allowed_groups: vec!["w".into()],
            approval_groups: vec!["a".into()],
            blanket_groups: vec![],
        },
        ca_use_case: None,
        profile_id: None,
        allowed_repositories: allowed.map(|a| a.iter().map(|s| s.to_string()).collect()),
        required_approvals: 1,
    }
}

fn payload(reference: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"sha256:{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        "ab".repeat(32)
    )
    .into_bytes()
}

#[rstest]
#[case::sha256(HashAlgorithm::Sha256, 32)]
#[case::sha384(HashAlgorithm::Sha384, 48)]
#[case::sha512(HashAlgorithm::Sha512, 64)]
fn digests_of_the_right_length_pass(#[case] algorithm: HashAlgorithm, #[case] len: usize) {
    let digest = STANDARD.encode(vec![9u8; len]);
    let input = DigestInput::Digest {
        digest: digest.clone(),
        algorithm,
    };
    let v = validate_input(&input, &op(None)).unwrap();
    assert_eq!(v.digest, digest);
    assert_eq!(v.digest_bytes().unwrap().len(), len);
    assert!(v.image.is_none());
}

#[rstest]
#[case::short(STANDARD.encode([1u8; 31]), HashAlgorithm::Sha256, "InvalidDigestSize")]
#[case::sha512_given_sha256(STANDARD.encode([1u8; 32]), HashAlgorithm::Sha512, "InvalidDigestSize")]
#[case::not_base64("not base64!".to_string(), HashAlgorithm::Sha256, "DigestNotBase64")]
#[case::hex(hex::encode([1u8; 32]), HashAlgorithm::Sha256, "InvalidDigestSize")]
#[case::empty(String::new(), HashAlgorithm::Sha256, "DigestNotBase64")]
fn bad_digests(#[case] digest: String, #[case] algorithm: HashAlgorithm, #[case] kind: &str) {
    let err = validate_input(&DigestInput::Digest { digest, algorithm }, &op(None)).unwrap_err();
    assert!(format!("{err:?}").starts_with(kind), "{err:?}");
}

#[rstest]
#[case("SHA256", Ok(HashAlgorithm::Sha256))]
#[case("NONE", Err("unsupported hash algorithm \"NONE\""))]
#[case("MD5", Err("unknown hash algorithm \"MD5\""))]
fn hash_algorithm_names(#[case] name: &str, #[case] expected: Result<HashAlgorithm, &str>) {
    match (HashAlgorithm::parse_name(name), expected) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(e), Err(msg)) => assert!(e.to_string().starts_with(msg), "{e}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn cosign_payload_digest_matches_the_seed_pipeline() {
    // DIGEST=$(sha256sum < payload.json | cut -d" " -f1 | xxd -r -p | base64 -w 0)
    let p = payload("registry.example/team/app");
    let expected = STANDARD.encode(sha2::Sha256::digest(&p));
    let input = DigestInput::CosignPayload {
        payload: p,
        algorithm: HashAlgorithm::Sha256,
    };
    let v = validate_input(&input, &op(Some(&["registry.example/team"]))).unwrap();
    assert_eq!(v.digest, expected);
    let image = v.image.unwrap();
    assert_eq!(image.repository, "registry.example/team/app");
    assert_eq!(image.manifest_digest, format!("sha256:{}", "ab".repeat(32)));
}

#[rstest]
#[case::inside("registry.example/team/app", true)]
#[case::tagged("registry.example/team/app:v1", true)]
#[case::sibling_namespace("registry.example/team-b/app", false)]
#[case::other_registry("evil.example/team/app", false)]
fn repository_restrictions(#[case] reference: &str, #[case] allowed: bool) {
    let input = DigestInput::CosignPayload {
        payload: payload(reference),
        algorithm: HashAlgorithm::Sha256,
    };
    match validate_input(
        &input,
        &op(Some(&["registry.example/team", "other.example/x"])),
    ) {
        Ok(_) => assert!(allowed),
        Err(e) => {
            assert!(!allowed, "{e}");
            let Error::RepositoryNotAllowed { repository, .. } = &e else {
                panic!("{e:?}")
            };
            assert_eq!(repository, repository_of(reference));
            assert!(e.to_string().contains(repository_of(reference)), "{e}");
        }
    }
}

#[test]
fn restricted_operations_refuse_bare_digests() {
    let input = DigestInput::Digest {
        digest: STANDARD.encode([0u8; 32]),
        algorithm: HashAlgorithm::Sha256,
    };
    assert!(matches!(
        validate_input(&input, &op(Some(&["registry.example"]))),
        Err(Error::ImageIdentityRequired { .. })
    ));
}

#[rstest]
#[case::not_json(b"nope".to_vec(), "")]
#[case::no_critical(br#"{"optional":{}}"#.to_vec(), "critical")]
#[case::valid(payload("r.example/a"), "OK")]
#[case::bad_digest(
    br#"{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"sha256:xyz"},"type":"cosign container image signature"}}"#.to_vec(),
    "docker-manifest-digest")]
#[case::other_type(
    br#"{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"sha256:xyz"},"type":"atomic container signature"}}"#.to_vec(),
    "critical.type")]
#[case::no_reference(
    br#"{"critical":{"identity":{},"image":{},"type":"cosign container image signature"}}"#.to_vec(),
    "docker-reference")]
fn payload_validation(#[case] payload: Vec<u8>, #[case] mentions: &str) {
    match parse_cosign_payload(&payload) {
        Ok(_) => assert_eq!(mentions, "OK"),
        Err(e) => {
            assert!(matches!(e, Error::InvalidPayload { .. }));
            assert!(e.to_string().contains(mentions), "{e}");
        }
    }
}

#[rstest]
#[case("registry.example/team/app", "registry.example/team/app")]
#[case("registry.example/team/app:v1", "registry.example/team/app")]
#[case("registry.example:5000/app", "registry.example:5000/app")]
#[case("registry.example:5000/app:v1@sha256:00", "registry.example:5000/app")]
#[case("busybox:latest", "busybox")]
fn repositories_of_references(#[case] reference: &str, #[case] repository: &str) {
    assert_eq!(repository_of(reference), repository);
}
