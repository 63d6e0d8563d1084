//! The strict parser: every rule of containers/image's policy_config*.go, with its texts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rstest::rstest;
use signet_policy::{
    CertSource, Error, KeySource, KeyType, Policy, Requirement, ResourceRef, SignedIdentity,
    SigstoreTrust,
};

fn err(json: &str) -> String {
    match Policy::parse(json.as_bytes()) {
        Err(Error::InvalidPolicy(e)) => e,
        Err(e) => panic!("unexpected error {e:?}"),
        Ok(p) => panic!("accepted {json}: {p:?}"),
    }
}

/// A policy whose default is the single requirement `req`.
fn with_default(req: &str) -> String {
    format!(r#"{{"default":[{req}]}}"#)
}

fn default_req(req: &str) -> Requirement {
    let p = Policy::parse(with_default(req).as_bytes()).unwrap_or_else(|e| panic!("{req}: {e}"));
    p.default.into_iter().next().unwrap()
}

// --- seeds ------------------------------------------------------------------------------------

/// Seed 000 (LAAVAT): skopeo verification of cosign signatures with a public key.
const SEED_000: &str = r#"{
    "default": [
        {
            "type": "reject"
        }
    ],
    "transports": {
        "docker": {
            "your-registry.com": [
                {
                    "type": "sigstoreSigned",
                    "keyPath": "/path/to/publickey.pem",
                    "signedIdentity": {
                        "type": "matchRepository"
                    }
                }
            ]
        }
    }
}"#;

/// Seed 001 (Confidential Containers): the KBS security policy, placeholders filled in as the
/// seed describes.
const SEED_001: &str = r#"{
  "default": [
    {
      "type": "reject"
    }
  ],
  "transports": {
    "docker": {
      "ghcr.io/confidential-containers/test-container": [
        {
          "type": "sigstoreSigned",
          "keyPath": "kbs:///default/sig-public-key/test"
        }
      ]
    }
  }
}"#;

/// Seed 001 as written, with its `<…>` placeholders.
const SEED_001_TEMPLATE: &str = r#"{
  "default": [
    {
      "type": "reject"
    }
  ],
  "transports": {
    "<transport>": {
      "<registry>/<image>": [
        {
          "type": "sigstoreSigned",
          "keyPath": "kbs:///default/<type>/<tag>"
        }
      ]
    }
  }
}"#;

/// Debian's /etc/containers/policy.json.
const DEBIAN_DEFAULT: &str = r#"{"default":[{"type":"insecureAcceptAnything"}]}"#;

#[test]
fn seed_000() {
    let p = Policy::parse(SEED_000.as_bytes()).unwrap();
    assert_eq!(p.default, vec![Requirement::Reject]);
    let reqs = &p.transports["docker"]["your-registry.com"];
    let Requirement::SigstoreSigned(s) = &reqs[0] else {
        panic!("{reqs:?}")
    };
    assert_eq!(
        s.trust,
        SigstoreTrust::PublicKeys(KeySource::Path("/path/to/publickey.pem".into()))
    );
    assert_eq!(s.signed_identity, SignedIdentity::MatchRepository);
    assert_eq!(s.rekor_public_keys, None);
    assert_eq!(
        reqs[0].resources(),
        vec![ResourceRef("/path/to/publickey.pem".into())]
    );
}

#[test]
fn seed_001() {
    for json in [SEED_001, SEED_001_TEMPLATE] {
        let p = Policy::parse(json.as_bytes()).unwrap();
        let (_, scopes) = p.transports.iter().next().unwrap();
        let reqs = scopes.values().next().unwrap();
        let Requirement::SigstoreSigned(s) = &reqs[0] else {
            panic!("{reqs:?}")
        };
        // Default identity when absent.
        assert_eq!(s.signed_identity, SignedIdentity::MatchRepoDigestOrExact);
        assert!(reqs[0].resources()[0].0.starts_with("kbs:///default/"));
    }
}

#[test]
fn debian_default() {
    let p = Policy::parse(DEBIAN_DEFAULT.as_bytes()).unwrap();
    assert_eq!(p.default, vec![Requirement::InsecureAcceptAnything]);
    assert!(p.transports.is_empty());
}

// --- top level ------------------------------------------------------------------------------

#[rstest]
#[case("{}", "Default policy is missing")]
#[case(r#"{"transports":{}}"#, "Default policy is missing")]
#[case(
    r#"{"default":[]}"#,
    "List of verification policy requirements must not be empty"
)]
#[case(
    r#"{"default":null}"#,
    "List of verification policy requirements must not be empty"
)]
#[case(
    r#"{"default":{}}"#,
    "json: cannot unmarshal object into Go value of type []json.RawMessage"
)]
#[case(
    r#"{"default":[{"type":"reject"}],"unknown":1}"#,
    r#"Unknown key "unknown""#
)]
#[case(
    r#"{"default":[{"type":"reject"}],"default":[{"type":"reject"}]}"#,
    r#"Duplicate key "default""#
)]
#[case(
    r#"{"default":[{"type":"reject"}],"transports":null}"#,
    "JSON object expected, got <nil>"
)]
#[case(
    r#"{"default":[{"type":"reject"}],"transports":{"docker":null}}"#,
    "JSON object expected, got <nil>"
)]
#[case(
    r#"{"default":[{"type":"reject"}],"transports":{"docker":{"":[]}}}"#,
    "List of verification policy requirements must not be empty"
)]
#[case(r#"{"default":[{"type":"reject"}],"transports":{"docker":{"a":[{"type":"reject"}],"a":[{"type":"reject"}]}}}"#, r#"Duplicate key "a""#)]
#[case(
    r#"{"default":[{"type":"reject"}],"transports":{"docker":{},"docker":{}}}"#,
    r#"Duplicate key "docker""#
)]
#[case("[]", "JSON object expected, got '['")]
#[case(r#""x""#, r#"JSON object expected, got "x""#)]
#[case(
    r#"{"default":[{"type":"nope"}]}"#,
    r#"Unknown policy requirement type "nope""#
)]
#[case(r#"{"default":[{}]}"#, r#"Unknown policy requirement type """#)]
#[case(r#"{"default":[null]}"#, r#"Unknown policy requirement type """#)]
fn top_level_errors(#[case] json: &str, #[case] expected: &str) {
    assert_eq!(err(json), expected);
}

#[rstest]
#[case("")]
#[case("{")]
#[case(r#"{"default":[{"type":"reject"}]} x"#)]
#[case(r#"{"default":[{"type":"reject"}]}{}"#)]
fn syntax_errors(#[case] json: &str) {
    assert!(Policy::parse(json.as_bytes()).is_err());
}

// --- scopes of known transports ---------------------------------------------------------------

#[rstest]
#[case("docker", "anything at all", true)]
#[case("docker", "*.example.com", true)]
#[case("dir", "/etc", true)]
#[case("dir", "relative/path", false)]
#[case("dir", "/", false)]
#[case("dir", "/a/../b", false)]
#[case("dir", "/a/", false)]
#[case("oci", "/srv/layouts", true)]
#[case("oci", "srv", false)]
#[case("oci-archive", "/srv/a.tar", true)]
#[case("sif", "/x//y", false)]
#[case("docker-archive", "/a", false)]
#[case("tarball", "/a", false)]
#[case(
    "docker-daemon",
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    false
)]
#[case("docker-daemon", "docker.io/library/busybox:latest", true)]
#[case("atomic", "registry.example.com/ns/stream:tag", true)]
#[case("atomic", "registry.example.com/too/deep/hierarchy", false)]
#[case("containers-storage", "[overlay@/var/lib/containers/storage]", true)]
#[case("containers-storage", "docker.io/library/busybox", false)]
#[case("some-future-transport", "whatever", true)]
fn scope_validation(#[case] transport: &str, #[case] scope: &str, #[case] ok: bool) {
    let json = format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{"{transport}":{{"{scope}":[{{"type":"insecureAcceptAnything"}}],"":[{{"type":"reject"}}]}}}}}}"#
    );
    match Policy::parse(json.as_bytes()) {
        Ok(_) => assert!(ok, "{transport}:{scope} accepted"),
        Err(Error::InvalidPolicy(e)) => {
            assert!(!ok, "{transport}:{scope} rejected: {e}");
            assert_eq!(e, format!("Unknown key {scope:?}"));
        }
        Err(e) => panic!("{e}"),
    }
}

// --- simple requirements --------------------------------------------------------------------

#[rstest]
#[case(r#"{"type":"insecureAcceptAnything","x":1}"#, r#"Unknown key "x""#)]
#[case(r#"{"type":"reject","type":"reject"}"#, r#"Duplicate key "type""#)]
#[case(r#"{"type":"reject","extra":null}"#, r#"Unknown key "extra""#)]
#[case(
    r#"{"type":5}"#,
    "json: cannot unmarshal number into Go value of type string"
)]
#[case(
    r#"{"type":"signedBaseLayer"}"#,
    r#"Key "baseLayerIdentity" missing in a JSON object"#
)]
fn simple_requirement_errors(#[case] req: &str, #[case] expected: &str) {
    assert_eq!(err(&with_default(req)), expected);
}

#[test]
fn signed_base_layer_parses() {
    let r =
        default_req(r#"{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchRepository"}}"#);
    assert_eq!(
        r,
        Requirement::SignedBaseLayer {
            base_layer_identity: SignedIdentity::MatchRepository
        }
    );
}

// --- signedBy ---------------------------------------------------------------------------------

#[test]
fn signed_by_variants() {
    let r = default_req(r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k.gpg"}"#);
    let Requirement::SignedBy(s) = &r else {
        panic!()
    };
    assert_eq!(s.key_type, KeyType::GpgKeys);
    assert_eq!(s.keys, KeySource::Path("/k.gpg".into()));
    assert_eq!(s.signed_identity, SignedIdentity::MatchRepoDigestOrExact);
    assert_eq!(r.resources(), vec![ResourceRef("/k.gpg".into())]);

    let r = default_req(
        r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":["/a","file:///b"],"signedIdentity":{"type":"matchExact"}}"#,
    );
    let Requirement::SignedBy(s) = &r else {
        panic!()
    };
    assert_eq!(
        s.keys,
        KeySource::Paths(vec!["/a".into(), "file:///b".into()])
    );
    assert_eq!(s.signed_identity, SignedIdentity::MatchExact);
    assert_eq!(r.resources().len(), 2);

    let r = default_req(r#"{"type":"signedBy","keyType":"GPGKeys","keyData":"aGVsbG8="}"#);
    let Requirement::SignedBy(s) = &r else {
        panic!()
    };
    assert_eq!(s.keys, KeySource::Data(b"hello".to_vec()));
    assert!(r.resources().is_empty());

    // Other key types parse (and reject at evaluation).
    for kt in ["signedByGPGKeys", "X509Certificates", "signedByX509CAs"] {
        default_req(&format!(
            r#"{{"type":"signedBy","keyType":"{kt}","keyPath":"/k"}}"#
        ));
    }
    // An empty keyPaths list parses, as in containers/image (no keys at evaluation).
    default_req(r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":[]}"#);
}

#[rstest]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys"}"#,
    "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyData":"aGk="}"#,
    "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyPaths":["/b"]}"#,
    "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":""}"#,
    "exactly one of keyPath, keyPaths and keyData must be specified"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":null}"#,
    "exactly one of keyPath, keyPaths and keyData must be specified"
)]
#[case(r#"{"type":"signedBy","keyPath":"/a"}"#, r#"invalid keyType """#)]
#[case(
    r#"{"type":"signedBy","keyType":"PGP","keyPath":"/a"}"#,
    r#"Unrecognized keyType value "PGP""#
)]
#[case(
    r#"{"type":"signedBy","keyType":null,"keyPath":"/a"}"#,
    r#"Unrecognized keyType value """#
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyPath":"/b"}"#,
    r#"Duplicate key "keyPath""#
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyDatas":["aGk="]}"#,
    r#"Unknown key "keyDatas""#
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":7}"#,
    "json: cannot unmarshal number into Go value of type string"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPaths":"/a"}"#,
    "json: cannot unmarshal string into Go value of type []string"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyData":"not base64!"}"#,
    "illegal base64 data at input byte 3"
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","signedIdentity":{"type":"nope"}}"#,
    r#"Unknown policy reference match type "nope""#
)]
#[case(
    r#"{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","signedIdentity":null}"#,
    r#"Unknown policy reference match type """#
)]
fn signed_by_errors(#[case] req: &str, #[case] expected: &str) {
    assert_eq!(err(&with_default(req)), expected);
}

// --- sigstoreSigned ---------------------------------------------------------------------------

const FULCIO: &str =
    r#""fulcio":{"caPath":"/ca.pem","oidcIssuer":"https://issuer","subjectEmail":"a@b"}"#;
const PKI: &str = r#""pki":{"caRootsPath":"/roots.pem","subjectEmail":"a@b"}"#;

fn sigstore(fields: &str) -> String {
    format!(r#"{{"type":"sigstoreSigned",{fields}}}"#)
}

#[test]
fn sigstore_variants() {
    let cases: Vec<(String, SigstoreTrust)> = vec![
        (
            sigstore(r#""keyPath":"/k.pub""#),
            SigstoreTrust::PublicKeys(KeySource::Path("/k.pub".into())),
        ),
        (
            sigstore(r#""keyPaths":["/a","/b"]"#),
            SigstoreTrust::PublicKeys(KeySource::Paths(vec!["/a".into(), "/b".into()])),
        ),
        (
            sigstore(r#""keyData":"aGk=""#),
            SigstoreTrust::PublicKeys(KeySource::Data(b"hi".to_vec())),
        ),
        (
            sigstore(r#""keyDatas":["aGk=","aG8="]"#),
            SigstoreTrust::PublicKeys(KeySource::Datas(vec![b"hi".to_vec(), b"ho".to_vec()])),
        ),
    ];
    for (json, trust) in cases {
        let Requirement::SigstoreSigned(s) = default_req(&json) else {
            panic!()
        };
        assert_eq!(s.trust, trust, "{json}");
    }

    let r = default_req(&sigstore(&format!(
        r#"{FULCIO},"rekorPublicKeyPath":"/rekor.pub""#
    )));
    let Requirement::SigstoreSigned(s) = &r else {
        panic!()
    };
    let SigstoreTrust::Fulcio(f) = &s.trust else {
        panic!()
    };
    assert_eq!(f.ca, CertSource::Path("/ca.pem".into()));
    assert_eq!(f.oidc_issuer, "https://issuer");
    assert_eq!(f.subject_email, "a@b");
    assert_eq!(
        s.rekor_public_keys,
        Some(KeySource::Path("/rekor.pub".into()))
    );
    assert_eq!(
        r.resources(),
        vec![
            ResourceRef("/ca.pem".into()),
            ResourceRef("/rekor.pub".into())
        ]
    );

    let r = default_req(&sigstore(
        r#""pki":{"caRootsData":"aGk=","caIntermediatesPath":"kbs:///default/ca/int","subjectHostname":"example.com"}"#,
    ));
    let Requirement::SigstoreSigned(s) = &r else {
        panic!()
    };
    let SigstoreTrust::Pki(p) = &s.trust else {
        panic!()
    };
    assert_eq!(p.ca_roots, CertSource::Data(b"hi".to_vec()));
    assert_eq!(
        p.ca_intermediates,
        Some(CertSource::Path("kbs:///default/ca/int".into()))
    );
    assert_eq!(p.subject_email, None);
    assert_eq!(p.subject_hostname.as_deref(), Some("example.com"));
    assert_eq!(
        r.resources(),
        vec![ResourceRef("kbs:///default/ca/int".into())]
    );

    // Rekor is optional with keys, and can be any one of the four forms.
    for rekor in [
        r#""rekorPublicKeyPath":"/r""#,
        r#""rekorPublicKeyPaths":["/r","/s"]"#,
        r#""rekorPublicKeyData":"aGk=""#,
        r#""rekorPublicKeyDatas":["aGk="]"#,
    ] {
        default_req(&sigstore(&format!(r#""keyPath":"/k",{rekor}"#)));
        default_req(&sigstore(&format!(r#"{FULCIO},{rekor}"#)));
    }
}

const EXACTLY_ONE: &str =
    "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified";

#[rstest]
#[case(r#""signedIdentity":{"type":"matchRepository"}"#, EXACTLY_ONE)]
#[case(r#""keyPath":"""#, EXACTLY_ONE)]
#[case(r#""keyPath":"/a","keyData":"aGk=""#, EXACTLY_ONE)]
#[case(r#""keyPaths":["/a"],"keyDatas":["aGk="]"#, EXACTLY_ONE)]
#[case(&format!(r#""keyPath":"/a",{PKI}"#), EXACTLY_ONE)]
#[case(&format!(r#""keyPath":"/a",{FULCIO},"rekorPublicKeyPath":"/r""#), EXACTLY_ONE)]
#[case(&format!(r#"{FULCIO},{PKI},"rekorPublicKeyPath":"/r""#), EXACTLY_ONE)]
#[case(r#""keyPaths":[]"#, r#""keyPaths" contains no entries"#)]
#[case(r#""keyPaths":null"#, r#""keyPaths" contains no entries"#)]
#[case(r#""keyDatas":[]"#, r#""keyDatas" contains no entries"#)]
#[case(
    r#""keyPath":"/a","rekorPublicKeyPaths":[]"#,
    r#""rekorPublickeyPaths" contains no entries"#
)]
#[case(
    r#""keyPath":"/a","rekorPublicKeyDatas":[]"#,
    r#""rekorPublickeyDatas" contains no entries"#
)]
#[case(
    r#""keyPath":"/a","rekorPublicKeyPath":"/r","rekorPublicKeyData":"aGk=""#,
    "at most one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas can be used simultaneously"
)]
#[case(
    FULCIO,
    "At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas must be specified if fulcio is used"
)]
#[case(&format!(r#"{PKI},"rekorPublicKeyPath":"/r""#), "rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas are not supported for pki")]
#[case(
    r#""fulcio":{"oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyPath":"/r""#,
    "At least one of caPath and caData must be specified"
)]
#[case(r#""fulcio":{"caPath":"/c","caData":"aGk=","oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyPath":"/r""#, "caPath and caData cannot be used simultaneously")]
#[case(
    r#""fulcio":{"caPath":"/c","subjectEmail":"e"},"rekorPublicKeyPath":"/r""#,
    "oidcIssuer not specified"
)]
#[case(
    r#""fulcio":{"caPath":"/c","oidcIssuer":"i","subjectEmail":""},"rekorPublicKeyPath":"/r""#,
    "subjectEmail not specified"
)]
#[case(r#""fulcio":{"caPath":"/c","oidcIssuer":"i","subjectEmail":"e","x":1},"rekorPublicKeyPath":"/r""#, r#"Unknown key "x""#)]
#[case(
    r#""pki":{"subjectEmail":"e"}"#,
    "At least one of caRootsPath and caRootsData must be specified"
)]
#[case(
    r#""pki":{"caRootsPath":"/r","caRootsData":"aGk=","subjectEmail":"e"}"#,
    "caRootsPath and caRootsData cannot be used simultaneously"
)]
#[case(r#""pki":{"caRootsPath":"/r","caIntermediatesPath":"/i","caIntermediatesData":"aGk=","subjectEmail":"e"}"#, "caIntermediatesPath and caIntermediatesData cannot be used simultaneously")]
#[case(
    r#""pki":{"caRootsPath":"/r"}"#,
    "At least one of subjectEmail, subjectHostname must be specified"
)]
#[case(
    r#""pki":{"caRootsPath":"/r","subjectEmail":"","subjectHostname":""}"#,
    "At least one of subjectEmail, subjectHostname must be specified"
)]
#[case(
    r#""pki":{"caRootsPath":"/r","subjectEmail":"e","subjectEmail":"f"}"#,
    r#"Duplicate key "subjectEmail""#
)]
#[case(r#""keyPath":"/a","keyType":"GPGKeys""#, r#"Unknown key "keyType""#)]
#[case(r#""keyPath":"/a","keyPath":"/b""#, r#"Duplicate key "keyPath""#)]
#[case(
    r#""keyDatas":["aGk=",3]"#,
    "json: cannot unmarshal number into Go value of type []uint8"
)]
#[case(
    r#""keyPath":"/a","signedIdentity":{"type":"matchRepository","x":1}"#,
    r#"Unknown key "x""#
)]
fn sigstore_errors(#[case] fields: &str, #[case] expected: &str) {
    assert_eq!(err(&with_default(&sigstore(fields))), expected);
}

#[test]
fn sigstore_type_mismatch_is_rejected() {
    // The type of the requirement is determined by the last "type" (Go's lenient first pass);
    // the paranoid pass then rejects the duplicate.
    assert_eq!(
        err(&with_default(
            r#"{"type":"reject","type":"sigstoreSigned","keyPath":"/a"}"#
        )),
        r#"Duplicate key "type""#
    );
}

// --- signedIdentity ---------------------------------------------------------------------------

fn identity(json: &str) -> Result<SignedIdentity, String> {
    let req = format!(r#"{{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{json}}}"#);
    match Policy::parse(with_default(&req).as_bytes()) {
        Ok(p) => match p.default.into_iter().next() {
            Some(Requirement::SigstoreSigned(s)) => Ok(s.signed_identity),
            other => panic!("{other:?}"),
        },
        Err(Error::InvalidPolicy(e)) => Err(e),
        Err(e) => panic!("{e}"),
    }
}

#[rstest]
#[case(r#"{"type":"matchExact"}"#, SignedIdentity::MatchExact)]
#[case(
    r#"{"type":"matchRepoDigestOrExact"}"#,
    SignedIdentity::MatchRepoDigestOrExact
)]
#[case(r#"{"type":"matchRepository"}"#, SignedIdentity::MatchRepository)]
#[case(r#"{"type":"exactReference","dockerReference":"busybox:latest"}"#, SignedIdentity::ExactReference { docker_reference: "busybox:latest".into() })]
#[case(r#"{"type":"exactReference","dockerReference":"quay.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}"#, SignedIdentity::ExactReference { docker_reference: "quay.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into() })]
#[case(r#"{"type":"exactRepository","dockerRepository":"quay.io/a/b"}"#, SignedIdentity::ExactRepository { docker_repository: "quay.io/a/b".into() })]
#[case(r#"{"type":"remapIdentity","prefix":"example.com","signedPrefix":"mirror.example.net:5000/ns"}"#, SignedIdentity::RemapIdentity { prefix: "example.com".into(), signed_prefix: "mirror.example.net:5000/ns".into() })]
#[case(r#"{"type":"remapIdentity","prefix":"docker.io/library/busybox","signedPrefix":"localhost"}"#, SignedIdentity::RemapIdentity { prefix: "docker.io/library/busybox".into(), signed_prefix: "localhost".into() })]
fn identities_parse(#[case] json: &str, #[case] expected: SignedIdentity) {
    assert_eq!(identity(json).unwrap(), expected);
}

#[rstest]
#[case(r#"{"type":"matchExact","x":1}"#, r#"Unknown key "x""#)]
#[case(
    r#"{"type":"matchRepository","type":"matchRepository"}"#,
    r#"Duplicate key "type""#
)]
#[case(
    r#"{"type":"exactReference"}"#,
    r#"Key "dockerReference" missing in a JSON object"#
)]
#[case(
    r#"{"type":"exactReference","dockerReference":"busybox"}"#,
    r#"dockerReference "busybox" contains neither a tag nor digest"#
)]
#[case(r#"{"type":"exactReference","dockerReference":"UPPER:tag"}"#, r#"Invalid format of dockerReference "UPPER:tag": invalid reference format: repository name must be lowercase"#)]
#[case(
    r#"{"type":"exactReference","dockerReference":"a.b/c","extra":1}"#,
    r#"Unknown key "extra""#
)]
#[case(
    r#"{"type":"exactRepository","dockerRepository":"in valid"}"#,
    r#"Invalid format of dockerRepository "in valid": invalid reference format"#
)]
#[case(
    r#"{"type":"exactRepository"}"#,
    r#"Key "dockerRepository" missing in a JSON object"#
)]
#[case(
    r#"{"type":"remapIdentity","prefix":"example.com"}"#,
    r#"Key "signedPrefix" missing in a JSON object"#
)]
#[case(
    r#"{"type":"remapIdentity","prefix":"example.com/UPPER","signedPrefix":"example.com"}"#,
    r#"prefix "example.com/UPPER" is not valid"#
)]
#[case(
    r#"{"type":"remapIdentity","prefix":"example.com","signedPrefix":"example.com/ns:tag"}"#,
    r#"prefix "example.com/ns:tag" is not valid"#
)]
#[case(r#"{"type":"remapIdentity","prefix":"example.com/x@sha256:0123456789abcdef0123456789abcdef","signedPrefix":"a.b"}"#, r#"prefix "example.com/x@sha256:0123456789abcdef0123456789abcdef" is not valid"#)]
#[case(
    r#"{"type":"remapIdentity","prefix":"","signedPrefix":"a.b"}"#,
    r#"prefix "" is not valid"#
)]
#[case(
    r#"{"type":"matchSomething"}"#,
    r#"Unknown policy reference match type "matchSomething""#
)]
#[case(r#"{}"#, r#"Unknown policy reference match type """#)]
#[case(
    r#"[]"#,
    "json: cannot unmarshal array into Go value of type signature.prmCommon"
)]
fn identities_rejected(#[case] json: &str, #[case] expected: &str) {
    assert_eq!(identity(json).unwrap_err(), expected);
}

#[test]
fn many_transports_and_scopes() {
    let json = r#"{
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {
                "": [{"type": "insecureAcceptAnything"}],
                "docker.io/library/busybox:latest": [{"type": "reject"}],
                "*.example.com": [{"type": "reject"}],
                "registry.example.com:5000/ns": [
                    {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"},
                    {"type": "sigstoreSigned", "keyPaths": ["/a.pub", "/b.pub"], "signedIdentity": {"type": "matchRepository"}}
                ]
            },
            "oci": {"/srv/layouts": [{"type": "insecureAcceptAnything"}]},
            "dir": {"": [{"type": "reject"}]},
            "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}
        }
    }"#;
    let p = Policy::parse(json.as_bytes()).unwrap();
    assert_eq!(p.transports.len(), 4);
    assert_eq!(p.transports["docker"].len(), 4);
    assert_eq!(
        p.transports["docker"]["registry.example.com:5000/ns"].len(),
        2
    );
}

#[test]
fn remap_prefix_accepts_short_names_like_containers_image() {
    // validateIdentityRemappingPrefix's FIXME: "busybox" matches the domain grammar.
    assert!(
        identity(r#"{"type":"remapIdentity","prefix":"busybox","signedPrefix":"example.com"}"#)
            .is_ok()
    );
}
