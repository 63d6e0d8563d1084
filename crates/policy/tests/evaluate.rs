//! Evaluation with a fake `SignatureVerifiers` (the real cryptography is tested in the crypto,
//! sigstore and simple-signing crates): requirement AND, signature OR, payload, digest and
//! identity checks, unfetchable resources, and the reason texts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use sha2::Digest as _;
use signet_policy::{
    Decision, EvaluationInput, ImageName, Policy, ResolvedSigstoreTrust, ResolvedTrustRoot,
    ResourceRef, SIGSTORE_SIGNATURE_ANNOTATION, SIGSTORE_SIGNATURE_MIME_TYPE, Signature,
    SignatureVerifiers, Transport,
};

const MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

fn manifest_digest() -> String {
    let hex: String = sha2::Sha256::digest(MANIFEST)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

const OTHER_DIGEST: &str =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The fake: an OpenPGP "signature" is `PGP|<key>|<payload>` and verifies iff `<key>` is one of
/// the keyring blobs; a sigstore signature annotation `sig-by:<key>` verifies iff `<key>` is one
/// of the public keys (or, for certificate roots, the CA bundle).
struct Fake;

impl SignatureVerifiers for Fake {
    fn verify_openpgp(
        &self,
        signature: &[u8],
        keys: &[Vec<u8>],
    ) -> Result<(String, Vec<u8>), String> {
        let s = std::str::from_utf8(signature).map_err(|_| "not signed".to_string())?;
        let mut parts = s.splitn(3, '|');
        let (Some("PGP"), Some(key), Some(payload)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err("not signed".into());
        };
        if keys.iter().any(|k| k == key.as_bytes()) {
            Ok((format!("FPR-{key}"), payload.as_bytes().to_vec()))
        } else {
            Err(format!("Key not found for key ID {key} in signature"))
        }
    }

    fn verify_sigstore(
        &self,
        _payload: &[u8],
        annotations: &BTreeMap<String, String>,
        trust: &ResolvedSigstoreTrust,
    ) -> Result<(), String> {
        let sig = &annotations[SIGSTORE_SIGNATURE_ANNOTATION];
        let key = sig.strip_prefix("sig-by:").unwrap_or("");
        let ok = match &trust.root {
            ResolvedTrustRoot::PublicKeys(keys) => keys.iter().any(|k| k == key.as_bytes()),
            ResolvedTrustRoot::Fulcio {
                ca_certificates_pem,
                ..
            } => ca_certificates_pem == key.as_bytes(),
            ResolvedTrustRoot::Pki { ca_roots_pem, .. } => ca_roots_pem == key.as_bytes(),
        };
        if ok {
            Ok(())
        } else {
            Err("cryptographic signature verification failed: invalid signature when validating ASN.1 encoded signature".into())
        }
    }
}

fn simple_payload(digest: &str, reference: &str) -> String {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"atomic container signature"}},"optional":{{"creator":"atomic 5.23.1","timestamp":1700000000}}}}"#
    )
}

fn cosign_payload(digest: &str, reference: &str) -> String {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{reference}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
}

fn pgp(key: &str, payload: &str) -> Signature {
    Signature::SimpleSigning(format!("PGP|{key}|{payload}").into_bytes())
}

fn cosign(key: &str, payload: &str) -> Signature {
    Signature::Sigstore {
        mime_type: SIGSTORE_SIGNATURE_MIME_TYPE.into(),
        payload: payload.as_bytes().to_vec(),
        annotations: BTreeMap::from([(
            SIGSTORE_SIGNATURE_ANNOTATION.to_string(),
            format!("sig-by:{key}"),
        )]),
    }
}

fn input(
    image: &str,
    signatures: Vec<Signature>,
    resources: &[(&str, Result<&str, &str>)],
) -> EvaluationInput {
    EvaluationInput {
        transport: Transport::Docker,
        image: ImageName::docker(image).unwrap(),
        manifest: MANIFEST.to_vec(),
        signatures,
        resources: resources
            .iter()
            .map(|(k, v)| {
                (
                    ResourceRef((*k).to_string()),
                    v.map(|s| s.as_bytes().to_vec()).map_err(str::to_string),
                )
            })
            .collect(),
        now_unix: 1_700_000_000,
    }
}

fn eval(policy: &str, input: &EvaluationInput) -> Decision {
    let p = Policy::parse(policy.as_bytes()).unwrap();
    let d = p.evaluate(input, &Fake);
    // Every decision serialises and renders.
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(json["accepted"], d.accepted);
    let text = d.to_string();
    for r in &d.reasons {
        assert!(
            text.contains(r.message.split(" (").next().unwrap()),
            "{text} lacks {}",
            r.message
        );
    }
    d
}

fn docker_policy(reqs: &str) -> String {
    format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"quay.io/team":[{reqs}]}}}}}}"#
    )
}

const SIGNED_BY: &str = r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/etc/keys/team.gpg"}"#;
const SIGSTORE: &str = r#"{"type":"sigstoreSigned","keyPath":"kbs:///default/sig-public-key/test","signedIdentity":{"type":"matchRepository"}}"#;
const RES_GPG: (&str, Result<&str, &str>) = ("/etc/keys/team.gpg", Ok("teamkey"));
const RES_COSIGN: (&str, Result<&str, &str>) =
    ("kbs:///default/sig-public-key/test", Ok("cosignkey"));

#[test]
fn insecure_accept_anything() {
    let d = eval(
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        &input("busybox", vec![], &[]),
    );
    assert!(d.accepted);
    assert_eq!(d.scope, "default");
    assert_eq!(d.image, "docker://busybox:latest");
    assert!(d.reasons.is_empty());
    assert_eq!(d.error(), None);
}

#[test]
fn reject() {
    let d = eval(
        r#"{"default":[{"type":"reject"}]}"#,
        &input("busybox", vec![], &[]),
    );
    assert!(!d.accepted);
    assert_eq!(
        d.error(),
        Some("Running image docker://busybox:latest is rejected by policy.")
    );
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].requirement_type, "reject");
    let d = eval(
        r#"{"default":[{"type":"reject"}]}"#,
        &input("127.0.0.1:5055/lab/hello:v1", vec![], &[]),
    );
    assert_eq!(
        d.error(),
        Some("Running image docker://127.0.0.1:5055/lab/hello:v1 is rejected by policy.")
    );
}

#[test]
fn signed_by_accepts_a_good_signature() {
    let image = "quay.io/team/app:v1";
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), image));
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(image, vec![sig], &[RES_GPG]),
    );
    assert!(d.accepted, "{d}");
    assert_eq!(d.scope, r#"transports.docker["quay.io/team"]"#);
    let s = &d.requirements[0].signatures[0];
    assert!(s.accepted);
    assert_eq!(s.signer.as_deref(), Some("FPR-teamkey"));
    assert_eq!(s.identity.as_deref(), Some(image));
}

#[test]
fn one_accepted_signature_suffices() {
    let image = "quay.io/team/app:v1";
    let sigs = vec![
        pgp("strangerkey", &simple_payload(&manifest_digest(), image)),
        Signature::SimpleSigning(b"garbage".to_vec()),
        pgp("teamkey", &simple_payload(&manifest_digest(), image)),
        pgp("teamkey", &simple_payload(OTHER_DIGEST, image)), // never examined
    ];
    let d = eval(&docker_policy(SIGNED_BY), &input(image, sigs, &[RES_GPG]));
    assert!(d.accepted, "{d}");
    let sigs = &d.requirements[0].signatures;
    assert_eq!(sigs.len(), 3);
    assert_eq!(
        sigs[0].reason.as_deref(),
        Some("Key not found for key ID strangerkey in signature")
    );
    assert_eq!(sigs[1].reason.as_deref(), Some("not signed"));
    assert!(sigs[2].accepted);
    assert!(d.reasons.is_empty());
}

#[test]
fn all_requirements_must_hold() {
    let image = "quay.io/team/app:v1";
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), image));
    let policy = docker_policy(&format!("{SIGNED_BY},{SIGSTORE}"));
    let d = eval(
        &policy,
        &input(image, vec![sig.clone()], &[RES_GPG, RES_COSIGN]),
    );
    assert!(!d.accepted);
    assert!(d.requirements[0].accepted);
    assert!(!d.requirements[1].accepted);
    assert_eq!(
        d.error(),
        Some(
            "A signature was required, but no signature exists (1 non-sigstore signatures, 0 sigstore non-signature attachments)"
        )
    );
    // With both kinds of signature, both requirements hold.
    let cos = cosign(
        "cosignkey",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let d = eval(
        &policy,
        &input(image, vec![sig, cos], &[RES_GPG, RES_COSIGN]),
    );
    assert!(d.accepted, "{d}");
    // insecureAcceptAnything does not rescue a failing requirement.
    let d = eval(
        &docker_policy(&format!(
            r#"{{"type":"insecureAcceptAnything"}},{SIGSTORE}"#
        )),
        &input(image, vec![], &[RES_COSIGN]),
    );
    assert!(!d.accepted);
    assert_eq!(
        d.error(),
        Some("A signature was required, but no signature exists")
    );
    // reject plus anything rejects, and every reason is reported (evaluation does not stop).
    let d = eval(
        &docker_policy(&format!(r#"{{"type":"reject"}},{SIGSTORE}"#)),
        &input(image, vec![], &[RES_COSIGN]),
    );
    assert_eq!(d.reasons.len(), 2);
    assert_eq!(
        d.error(),
        Some("Running image docker://quay.io/team/app:v1 is rejected by policy.")
    );
}

#[test]
fn no_signatures() {
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input("quay.io/team/app:v1", vec![], &[RES_GPG]),
    );
    assert_eq!(
        d.error(),
        Some("A signature was required, but no signature exists")
    );
    // signedBy ignores sigstore layers entirely.
    let cos = cosign(
        "cosignkey",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input("quay.io/team/app:v1", vec![cos], &[RES_GPG]),
    );
    assert_eq!(
        d.error(),
        Some("A signature was required, but no signature exists")
    );
}

#[test]
fn digest_mismatch() {
    let image = "quay.io/team/app:v1";
    let sig = pgp("teamkey", &simple_payload(OTHER_DIGEST, image));
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(image, vec![sig], &[RES_GPG]),
    );
    assert!(!d.accepted);
    assert_eq!(
        d.error(),
        Some(format!("Signature for digest {OTHER_DIGEST} does not match").as_str())
    );
    assert_eq!(d.reasons[0].signature, Some(0));

    let cos = cosign(
        "cosignkey",
        &cosign_payload(OTHER_DIGEST, "quay.io/team/app"),
    );
    let d = eval(
        &docker_policy(SIGSTORE),
        &input(image, vec![cos], &[RES_COSIGN]),
    );
    assert_eq!(
        d.error(),
        Some(format!("Signature for digest {OTHER_DIGEST} does not match").as_str())
    );
}

#[test]
fn digest_is_checked_before_identity() {
    let sig = pgp(
        "teamkey",
        &simple_payload(OTHER_DIGEST, "quay.io/other/x:v1"),
    );
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input("quay.io/team/app:v1", vec![sig], &[RES_GPG]),
    );
    assert!(d.error().unwrap().starts_with("Signature for digest"));
}

#[test]
fn identity_mismatch() {
    let sig = pgp(
        "teamkey",
        &simple_payload(&manifest_digest(), "quay.io/team/app:v2"),
    );
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input("quay.io/team/app:v1", vec![sig], &[RES_GPG]),
    );
    assert!(!d.accepted);
    assert_eq!(
        d.error(),
        Some(r#"Signature for identity "quay.io/team/app:v2" is not accepted"#)
    );
    let s = &d.requirements[0].signatures[0];
    assert!(
        s.detail.as_deref().unwrap().contains("pulled by tag"),
        "{s:?}"
    );

    // cosign writes only the repository: the default matchRepoDigestOrExact rejects it …
    let sigstore_default =
        r#"{"type":"sigstoreSigned","keyPath":"kbs:///default/sig-public-key/test"}"#;
    let cos = cosign(
        "cosignkey",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let d = eval(
        &docker_policy(sigstore_default),
        &input("quay.io/team/app:v1", vec![cos.clone()], &[RES_COSIGN]),
    );
    assert_eq!(
        d.error(),
        Some(r#"Signature for identity "quay.io/team/app" is not accepted"#)
    );
    // … and matchRepository accepts it, for tags and digests alike.
    let d = eval(
        &docker_policy(SIGSTORE),
        &input("quay.io/team/app:v1", vec![cos.clone()], &[RES_COSIGN]),
    );
    assert!(d.accepted, "{d}");
    let by_digest = format!("quay.io/team/app@{}", manifest_digest());
    let d = eval(
        &docker_policy(SIGSTORE),
        &input(&by_digest, vec![cos], &[RES_COSIGN]),
    );
    assert!(d.accepted, "{d}");
}

#[test]
fn digest_reference_must_match_manifest() {
    let image = format!("quay.io/team/app@{OTHER_DIGEST}");
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), &image));
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(&image, vec![sig], &[RES_GPG]),
    );
    assert_eq!(
        d.error(),
        Some(format!("Manifest does not match provided manifest digest {OTHER_DIGEST}").as_str())
    );
}

#[test]
fn several_rejections_are_summarised() {
    let image = "quay.io/team/app:v1";
    let sigs = vec![
        pgp("teamkey", &simple_payload(OTHER_DIGEST, image)),
        pgp(
            "teamkey",
            &simple_payload(&manifest_digest(), "quay.io/team/app:v2"),
        ),
    ];
    let d = eval(&docker_policy(SIGNED_BY), &input(image, sigs, &[RES_GPG]));
    assert_eq!(
        d.error(),
        Some(format!("None of the signatures were accepted, reasons: Signature for digest {OTHER_DIGEST} does not match; Signature for identity \"quay.io/team/app:v2\" is not accepted").as_str())
    );
    assert_eq!(d.reasons.len(), 2);
    assert_eq!(d.reasons[1].signature, Some(1));
}

#[test]
fn payload_strictness() {
    let image = "quay.io/team/app:v1";
    // A sigstore-typed payload in a simple signature.
    let sig = pgp("teamkey", &cosign_payload(&manifest_digest(), image));
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(image, vec![sig], &[RES_GPG]),
    );
    assert_eq!(d.error(), Some("JSON object expected, got <nil>"));
    let payload = simple_payload(&manifest_digest(), image)
        .replace(r#""optional":{"#, r#""optional":{"creator":"x","#);
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(image, vec![pgp("teamkey", &payload)], &[RES_GPG]),
    );
    assert_eq!(d.error(), Some(r#"Duplicate key "creator""#));
    // A simple-signing payload in a cosign layer.
    let cos = cosign(
        "cosignkey",
        &simple_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let d = eval(
        &docker_policy(SIGSTORE),
        &input(image, vec![cos], &[RES_COSIGN]),
    );
    assert_eq!(
        d.error(),
        Some("Unrecognized signature type atomic container signature")
    );
}

#[test]
fn unfetchable_resources_reject_the_requirement() {
    let image = "quay.io/team/app:v1";
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), image));
    let d = eval(
        &docker_policy(SIGNED_BY),
        &input(
            image,
            vec![sig.clone()],
            &[(
                "/etc/keys/team.gpg",
                Err("open /etc/keys/team.gpg: no such file or directory"),
            )],
        ),
    );
    assert!(!d.accepted);
    assert_eq!(
        d.error(),
        Some("reading /etc/keys/team.gpg: open /etc/keys/team.gpg: no such file or directory")
    );
    let d = eval(&docker_policy(SIGSTORE), &input(image, vec![], &[]));
    assert_eq!(
        d.error(),
        Some("reading kbs:///default/sig-public-key/test: not fetched")
    );
    assert_eq!(d.reasons[0].signature, None);

    let p = Policy::parse(docker_policy(&format!("{SIGNED_BY},{SIGSTORE}")).as_bytes()).unwrap();
    let i = input(image, vec![], &[]);
    assert_eq!(
        p.resources_for(&i.transport, &i.image),
        vec![
            ResourceRef("/etc/keys/team.gpg".into()),
            ResourceRef("kbs:///default/sig-public-key/test".into())
        ]
    );
}

#[test]
fn sigstore_attachments_and_annotations() {
    let image = "quay.io/team/app:v1";
    let attestation = Signature::Sigstore {
        mime_type: "application/vnd.dsse.envelope.v1+json".into(),
        payload: b"{}".to_vec(),
        annotations: BTreeMap::new(),
    };
    let d = eval(
        &docker_policy(SIGSTORE),
        &input(image, vec![attestation.clone()], &[RES_COSIGN]),
    );
    assert_eq!(
        d.error(),
        Some(
            "A signature was required, but no signature exists (0 non-sigstore signatures, 1 sigstore non-signature attachments)"
        )
    );
    let unannotated = Signature::Sigstore {
        mime_type: SIGSTORE_SIGNATURE_MIME_TYPE.into(),
        payload: cosign_payload(&manifest_digest(), "quay.io/team/app").into_bytes(),
        annotations: BTreeMap::new(),
    };
    let wrong_key = cosign(
        "otherkey",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let d = eval(
        &docker_policy(SIGSTORE),
        &input(
            image,
            vec![attestation, unannotated, wrong_key],
            &[RES_COSIGN],
        ),
    );
    assert_eq!(
        d.error(),
        Some(
            "None of the signatures were accepted, reasons: missing dev.cosignproject.cosign/signature annotation; cryptographic signature verification failed: invalid signature when validating ASN.1 encoded signature"
        )
    );
    // Indices refer to the input list.
    assert_eq!(
        d.requirements[0]
            .signatures
            .iter()
            .map(|s| s.index)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn sigstore_key_lists_and_trust_roots() {
    let image = "quay.io/team/app:v1";
    let cos = cosign(
        "k2",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let keydatas = r#"{"type":"sigstoreSigned","keyDatas":["azE=","azI="],"signedIdentity":{"type":"matchRepository"}}"#;
    assert!(
        eval(
            &docker_policy(keydatas),
            &input(image, vec![cos.clone()], &[])
        )
        .accepted
    );
    let keypaths = r#"{"type":"sigstoreSigned","keyPaths":["/k1","/k2"],"signedIdentity":{"type":"matchRepository"}}"#;
    assert!(
        eval(
            &docker_policy(keypaths),
            &input(
                image,
                vec![cos.clone()],
                &[("/k1", Ok("k1")), ("/k2", Ok("k2"))]
            )
        )
        .accepted
    );
    // One unfetchable key among several rejects (containers/image fails on any unloadable key).
    let d = eval(
        &docker_policy(keypaths),
        &input(image, vec![cos.clone()], &[("/k2", Ok("k2"))]),
    );
    assert_eq!(d.error(), Some("reading /k1: not fetched"));

    let pki = r#"{"type":"sigstoreSigned","pki":{"caRootsPath":"/roots.pem","caIntermediatesData":"aW50","subjectEmail":"team@example.com"},"signedIdentity":{"type":"matchRepository"}}"#;
    assert!(
        eval(
            &docker_policy(pki),
            &input(image, vec![cos.clone()], &[("/roots.pem", Ok("k2"))])
        )
        .accepted
    );
    let fulcio = r#"{"type":"sigstoreSigned","fulcio":{"caData":"azI=","oidcIssuer":"https://i","subjectEmail":"a@b"},"rekorPublicKeyPath":"/rekor.pub","signedIdentity":{"type":"matchRepository"}}"#;
    let d = eval(
        &docker_policy(fulcio),
        &input(image, vec![cos.clone()], &[]),
    );
    assert_eq!(d.error(), Some("reading /rekor.pub: not fetched"));
    assert!(
        eval(
            &docker_policy(fulcio),
            &input(image, vec![cos], &[("/rekor.pub", Ok("r"))])
        )
        .accepted
    );
}

/// The verifier sees exactly the resolved material.
#[test]
fn verifier_receives_resolved_trust() {
    struct Check;
    impl SignatureVerifiers for Check {
        fn verify_openpgp(&self, _: &[u8], keys: &[Vec<u8>]) -> Result<(String, Vec<u8>), String> {
            assert_eq!(keys, &[b"a".to_vec(), b"b".to_vec()]);
            Err("checked".into())
        }
        fn verify_sigstore(
            &self,
            payload: &[u8],
            _: &BTreeMap<String, String>,
            trust: &ResolvedSigstoreTrust,
        ) -> Result<(), String> {
            assert_eq!(payload, b"P");
            assert_eq!(trust.now_unix, 1_700_000_000);
            assert_eq!(trust.rekor_public_keys, None);
            assert_eq!(
                trust.root,
                ResolvedTrustRoot::Pki {
                    ca_roots_pem: b"roots".to_vec(),
                    ca_intermediates_pem: Some(b"int".to_vec()),
                    subject_email: None,
                    subject_hostname: Some("example.com".into()),
                }
            );
            Err("checked".into())
        }
    }
    let policy = docker_policy(
        r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":["/a","/b"]},{"type":"sigstoreSigned","pki":{"caRootsPath":"/r","caIntermediatesData":"aW50","subjectHostname":"example.com"}}"#,
    );
    let p = Policy::parse(policy.as_bytes()).unwrap();
    let mut i = input(
        "quay.io/team/x:1",
        vec![Signature::SimpleSigning(b"S".to_vec()), cosign("k", "P")],
        &[("/a", Ok("a")), ("/b", Ok("b")), ("/r", Ok("roots"))],
    );
    i.signatures[1] = Signature::Sigstore {
        mime_type: SIGSTORE_SIGNATURE_MIME_TYPE.into(),
        payload: b"P".to_vec(),
        annotations: BTreeMap::from([(SIGSTORE_SIGNATURE_ANNOTATION.to_string(), "x".to_string())]),
    };
    let d = p.evaluate(&i, &Check);
    assert_eq!(
        d.reasons
            .iter()
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>(),
        vec!["checked", "checked"]
    );
}

#[test]
fn unimplemented_key_types_and_base_layer() {
    let image = "quay.io/team/app:v1";
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), image));
    let x509 = r#"{"type":"signedBy","keyType":"X509Certificates","keyPath":"/etc/keys/team.gpg"}"#;
    let d = eval(&docker_policy(x509), &input(image, vec![sig], &[RES_GPG]));
    assert_eq!(
        d.error(),
        Some(r#"Unimplemented "keyType" value "X509Certificates""#)
    );
    let empty = r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":[]}"#;
    let sig = pgp("teamkey", &simple_payload(&manifest_digest(), image));
    let d = eval(&docker_policy(empty), &input(image, vec![sig], &[]));
    assert_eq!(d.error(), Some("No public keys imported"));
    let base = r#"{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchRepository"}}"#;
    let d = eval(&docker_policy(base), &input(image, vec![], &[]));
    assert_eq!(d.error(), Some("signedBaseLayer not implemented yet!"));
}

#[test]
fn path_images_and_exact_reference() {
    let policy = r#"{"default":[{"type":"reject"}],"transports":{"oci":{"/srv/layouts":[{"type":"sigstoreSigned","keyData":"azE=","signedIdentity":{"type":"exactRepository","dockerRepository":"quay.io/team/app"}}]}}}"#;
    let cos = cosign(
        "k1",
        &cosign_payload(&manifest_digest(), "quay.io/team/app"),
    );
    let mut i = input("busybox", vec![cos], &[]);
    i.transport = Transport::Oci;
    i.image = ImageName::Path("/srv/layouts/app".into());
    let d = eval(policy, &i);
    assert!(d.accepted, "{d}");
    assert_eq!(d.scope, r#"transports.oci["/srv/layouts"]"#);
    assert_eq!(d.image, "oci:/srv/layouts/app");
    // matchRepository has nothing to compare with for a path image.
    let d = eval(
        &policy.replace(
            r#"{"type":"exactRepository","dockerRepository":"quay.io/team/app"}"#,
            r#"{"type":"matchRepository"}"#,
        ),
        &i,
    );
    assert_eq!(
        d.error(),
        Some(r#"Signature for identity "quay.io/team/app" is not accepted"#)
    );
}

#[test]
fn decision_output_forms() {
    let image = "quay.io/team/app:v1";
    let sigs = vec![
        pgp("teamkey", &simple_payload(OTHER_DIGEST, image)),
        pgp(
            "teamkey",
            &simple_payload(&manifest_digest(), "quay.io/team/app:v2"),
        ),
    ];
    let d = eval(
        &docker_policy(&format!(
            r#"{SIGNED_BY},{{"type":"insecureAcceptAnything"}}"#
        )),
        &input(image, sigs, &[RES_GPG]),
    );
    let text = d.to_string();
    assert!(text.starts_with(r#"docker://quay.io/team/app:v1: rejected (policy scope transports.docker["quay.io/team"])"#), "{text}");
    assert!(
        text.contains("requirement 1 (signedBy): rejected: None of the signatures were accepted"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "signature 1: rejected: Signature for digest {OTHER_DIGEST} does not match"
        )),
        "{text}"
    );
    assert!(text.contains("signature 2: rejected: Signature for identity \"quay.io/team/app:v2\" is not accepted ("), "{text}");
    assert!(
        text.contains("requirement 2 (insecureAcceptAnything): accepted"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(json["accepted"], false);
    assert_eq!(json["scope"], r#"transports.docker["quay.io/team"]"#);
    assert_eq!(json["requirements"][0]["type"], "signedBy");
    assert_eq!(
        json["requirements"][0]["signatures"][1]["identity"],
        "quay.io/team/app:v2"
    );
    assert_eq!(json["reasons"].as_array().unwrap().len(), 2);
    assert_eq!(json["reasons"][0]["requirementType"], "signedBy");
}
