//! COSE envelope: sign → verify round trips for every key type, the byte layout of the
//! headers, strict parsing, tampering, and the format-agnostic envelope view.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use coset::cbor::value::Value;
use coset::{
    CborSerializable as _, ContentType, CoseSign1, Header, Label, ProtectedHeader,
    RegisteredLabelWithPrivate, TaggedCborSerializable as _, iana,
};
use signet_crypto::KeyType;
use signet_notation::envelope::{self, EnvelopeType, SignedEnvelope as _};
use signet_notation::jws::{JwsAlgorithm, JwsSigner, SignOptions, SigningScheme};
use signet_notation::payload::Payload;
use signet_notation::{Error, cose};
use signet_oci::Descriptor;

fn target() -> Descriptor {
    Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"{\"a\":1}")
}

fn payload() -> Vec<u8> {
    Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap()
}

fn sign(kt: KeyType, expiry: bool) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (key, chain) = common::chain(kt);
    let payload = payload();
    let env = cose::sign(
        &SignOptions {
            payload: &payload,
            cert_chain: &chain,
            signing_time: common::now(),
            expiry: expiry.then(|| common::now() + Duration::from_secs(3600)),
            signing_agent: "signet/0.1.0",
        },
        &key,
    )
    .unwrap();
    (env, chain)
}

const ALL: [(KeyType, JwsAlgorithm, i64); 6] = [
    (KeyType::Rsa2048, JwsAlgorithm::Ps256, -37),
    (KeyType::Rsa3072, JwsAlgorithm::Ps384, -38),
    (KeyType::Rsa4096, JwsAlgorithm::Ps512, -39),
    (KeyType::P256, JwsAlgorithm::Es256, -7),
    (KeyType::P384, JwsAlgorithm::Es384, -35),
    (KeyType::P521, JwsAlgorithm::Es512, -36),
];

#[test]
fn round_trip_every_key_type() {
    for (kt, alg, id) in ALL {
        assert_eq!(alg.cose_id(), id);
        assert_eq!(JwsAlgorithm::from_cose_id(id).unwrap(), alg);
        let (env, chain) = sign(kt, true);
        let v = cose::verify(&env).unwrap().envelope;
        assert_eq!(v.alg, alg);
        assert_eq!(v.signing_scheme, SigningScheme::X509);
        assert_eq!(v.signing_time, common::now());
        assert_eq!(v.expiry, Some(common::now() + Duration::from_secs(3600)));
        assert_eq!(v.signing_agent.as_deref(), Some("signet/0.1.0"));
        assert_eq!(v.timestamp_signature, None);
        assert_eq!(
            v.cert_chain
                .iter()
                .map(|c| c.der().to_vec())
                .collect::<Vec<_>>(),
            chain
        );
        assert_eq!(v.payload, payload());
        Payload::from_json(&v.payload)
            .unwrap()
            .check_target(&target(), &BTreeMap::new())
            .unwrap();
        let raw = match alg {
            JwsAlgorithm::Es256 => Some(64),
            JwsAlgorithm::Es384 => Some(96),
            JwsAlgorithm::Es512 => Some(132),
            _ => None,
        };
        if let Some(n) = raw {
            assert_eq!(v.signature.len(), n, "{alg:?} raw r||s");
        }
    }
    assert!(JwsAlgorithm::from_cose_id(-8).is_err());
    assert!(JwsAlgorithm::from_cose_id(-257).is_err());
}

fn text(s: &str) -> Label {
    Label::Text(s.to_owned())
}

#[test]
fn envelope_layout_matches_the_spec() {
    let (env, chain) = sign(KeyType::P384, true);
    // COSE_Sign1_Tagged: tag 18 (0xd2), then a four-element array.
    assert_eq!(&env[..2], &[0xd2, 0x84]);
    let msg = CoseSign1::from_tagged_slice(&env).unwrap();
    let raw = msg.protected.original_data.clone().unwrap();
    let p: Value = coset::cbor::de::from_reader(raw.as_slice()).unwrap();
    let Value::Map(entries) = p else {
        panic!("protected header is not a map")
    };
    let t = |secs: u64| Value::Tag(1, Box::new(Value::from(secs)));
    let expected = vec![
        (Value::from(1), Value::from(-35)),
        (
            Value::from(2),
            Value::Array(vec![
                Value::from("io.cncf.notary.signingScheme"),
                Value::from("io.cncf.notary.expiry"),
            ]),
        ),
        (
            Value::from(3),
            Value::from("application/vnd.cncf.notary.payload.v1+json"),
        ),
        // Canonical (go-cose SortCanonical) order: shorter encoded keys first.
        (Value::from("io.cncf.notary.expiry"), t(1_760_003_600)),
        (Value::from("io.cncf.notary.signingTime"), t(1_760_000_000)),
        (
            Value::from("io.cncf.notary.signingScheme"),
            Value::from("notary.x509"),
        ),
    ];
    assert_eq!(entries, expected);
    let u = &msg.unprotected;
    assert!(u.alg.is_none() && u.crit.is_empty() && u.content_type.is_none());
    assert_eq!(
        u.rest,
        vec![
            (
                Label::Int(33),
                Value::Array(chain.iter().map(|d| Value::Bytes(d.clone())).collect())
            ),
            (
                text("io.cncf.notary.signingAgent"),
                Value::from("signet/0.1.0")
            ),
        ]
    );
    assert_eq!(msg.payload.as_deref(), Some(payload().as_slice()));

    // Without expiry, crit lists only the signing scheme.
    let (env, _) = sign(KeyType::P256, false);
    let msg = CoseSign1::from_tagged_slice(&env).unwrap();
    assert_eq!(
        msg.protected.header.crit,
        vec![RegisteredLabelWithPrivate::Text(
            "io.cncf.notary.signingScheme".to_owned()
        )]
    );
    assert!(
        !msg.protected
            .header
            .rest
            .iter()
            .any(|(l, _)| *l == text("io.cncf.notary.expiry"))
    );
}

/// Signs with `kt`, then lets `edit` change the message (protected header re-encoded and
/// re-signed, so only the rule under test fails).
fn resign(kt: KeyType, edit: impl Fn(&mut Header, &mut Header)) -> Vec<u8> {
    let (key, chain) = common::chain(kt);
    let payload = payload();
    let env = cose::sign(
        &SignOptions {
            payload: &payload,
            cert_chain: &chain,
            signing_time: common::now(),
            expiry: None,
            signing_agent: "",
        },
        &key,
    )
    .unwrap();
    let mut msg = CoseSign1::from_tagged_slice(&env).unwrap();
    let mut protected = msg.protected.header.clone();
    edit(&mut protected, &mut msg.unprotected);
    msg.protected = ProtectedHeader {
        original_data: None,
        header: protected,
    };
    let tbs = msg.tbs_data(&[]);
    let alg = JwsAlgorithm::for_key_type(kt).unwrap();
    msg.signature = JwsSigner::sign(&key, alg, &tbs).unwrap();
    msg.to_tagged_vec().unwrap()
}

fn set(h: &mut Header, label: Label, value: Value) {
    h.rest.retain(|(l, _)| *l != label);
    h.rest.push((label, value));
}

fn crit(names: &[&str]) -> Vec<RegisteredLabelWithPrivate<iana::HeaderParameter>> {
    names
        .iter()
        .map(|n| RegisteredLabelWithPrivate::Text((*n).to_owned()))
        .collect()
}

#[test]
fn protected_header_rules() {
    let kt = KeyType::P256;
    let t = |secs: u64| Value::Tag(1, Box::new(Value::from(secs)));
    // Control: a re-signed, unchanged header verifies.
    cose::verify(&resign(kt, |_, _| {})).unwrap();

    let cases: Vec<(
        &str,
        Box<dyn Fn(&mut Header, &mut Header)>,
        fn(&Error) -> bool,
    )> = vec![
        (
            "unknown critical text header",
            Box::new(|p, _| {
                set(p, text("com.example.x"), Value::from(1));
                p.crit = crit(&["io.cncf.notary.signingScheme", "com.example.x"]);
            }),
            |e| matches!(e, Error::UnsupportedCriticalHeader { header } if header == "com.example.x"),
        ),
        (
            "critical integer label",
            Box::new(|p, _| {
                p.crit.push(RegisteredLabelWithPrivate::Assigned(
                    iana::HeaderParameter::X5Chain,
                ));
            }),
            |e| matches!(e, Error::UnsupportedCriticalHeader { header } if header == "33"),
        ),
        (
            "critical header absent",
            Box::new(|p, _| {
                p.crit = crit(&["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]);
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "crit listed twice",
            Box::new(|p, _| {
                p.crit = crit(&[
                    "io.cncf.notary.signingScheme",
                    "io.cncf.notary.signingScheme",
                ]);
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "expiry not critical",
            Box::new(|p, _| set(p, text("io.cncf.notary.expiry"), t(1_760_003_600))),
            |e| matches!(e, Error::InvalidHeader { header, .. } if header == "crit (2)"),
        ),
        (
            "signing scheme not critical",
            Box::new(|p, _| {
                set(p, text("io.cncf.notary.expiry"), t(1_760_003_600));
                p.crit = crit(&["io.cncf.notary.expiry"]);
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        ("no crit", Box::new(|p, _| p.crit.clear()), |e| {
            matches!(e, Error::MissingHeader { header: "crit (2)" })
        }),
        (
            "alg of another key type",
            Box::new(|p, _| {
                p.alg = Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES384));
            }),
            |e| matches!(e, Error::AlgorithmMismatch { .. }),
        ),
        (
            "alg not allowed",
            Box::new(|p, _| {
                p.alg = Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA));
            }),
            |e| matches!(e, Error::UnsupportedAlgorithm { alg } if alg == "-8"),
        ),
        ("no alg", Box::new(|p, _| p.alg = None), |e| {
            matches!(e, Error::MissingHeader { header: "alg (1)" })
        }),
        (
            "alg in the unprotected header",
            Box::new(|p, u| u.alg = p.alg.take()),
            |e| matches!(e, Error::InvalidEnvelope { .. }),
        ),
        (
            "wrong content type",
            Box::new(|p, _| p.content_type = Some(ContentType::Text("application/json".into()))),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "no content type",
            Box::new(|p, _| p.content_type = None),
            |e| matches!(e, Error::MissingHeader { .. }),
        ),
        (
            "signing time not tag 1",
            Box::new(|p, _| {
                set(
                    p,
                    text("io.cncf.notary.signingTime"),
                    Value::from(1_760_000_000u64),
                );
            }),
            |e| matches!(e, Error::InvalidHeader { header, .. } if header == "io.cncf.notary.signingTime"),
        ),
        (
            "signing time as tag 0 text",
            Box::new(|p, _| {
                set(
                    p,
                    text("io.cncf.notary.signingTime"),
                    Value::Tag(0, Box::new(Value::from("2025-10-09T08:53:20Z"))),
                );
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "no signing time",
            Box::new(|p, _| {
                p.rest
                    .retain(|(l, _)| *l != text("io.cncf.notary.signingTime"))
            }),
            |e| {
                matches!(
                    e,
                    Error::MissingHeader {
                        header: "io.cncf.notary.signingTime"
                    }
                )
            },
        ),
        (
            "unknown signing scheme",
            Box::new(|p, _| set(p, text("io.cncf.notary.signingScheme"), Value::from("x"))),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "no signing scheme",
            Box::new(|p, _| {
                p.rest
                    .retain(|(l, _)| *l != text("io.cncf.notary.signingScheme"));
                p.crit = crit(&["io.cncf.notary.expiry"]);
                set(p, text("io.cncf.notary.expiry"), t(1));
            }),
            |e| matches!(e, Error::MissingHeader { .. }),
        ),
        (
            "signing authority without authentic signing time",
            Box::new(|p, _| {
                set(
                    p,
                    text("io.cncf.notary.signingScheme"),
                    Value::from("notary.x509.signingAuthority"),
                );
            }),
            |e| {
                matches!(
                    e,
                    Error::MissingHeader {
                        header: "io.cncf.notary.authenticSigningTime"
                    }
                )
            },
        ),
        (
            "authentic signing time not critical",
            Box::new(|p, _| {
                set(
                    p,
                    text("io.cncf.notary.signingScheme"),
                    Value::from("notary.x509.signingAuthority"),
                );
                set(p, text("io.cncf.notary.authenticSigningTime"), t(5));
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "no x5chain",
            Box::new(|_, u| u.rest.retain(|(l, _)| *l != Label::Int(33))),
            |e| {
                matches!(
                    e,
                    Error::MissingHeader {
                        header: "x5chain (33)"
                    }
                )
            },
        ),
        (
            "x5chain in both buckets",
            Box::new(|p, u| {
                let chain = u.rest.iter().find(|(l, _)| *l == Label::Int(33)).unwrap();
                p.rest.push(chain.clone());
            }),
            |e| matches!(e, Error::InvalidEnvelope { .. }),
        ),
        (
            "x5chain entry not a byte string",
            Box::new(|_, u| set(u, Label::Int(33), Value::Array(vec![Value::from("x")]))),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "empty x5chain",
            Box::new(|_, u| set(u, Label::Int(33), Value::Array(vec![]))),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "signing agent not text",
            Box::new(|_, u| set(u, text("io.cncf.notary.signingAgent"), Value::from(1))),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
        (
            "timestamp signature not bytes",
            Box::new(|_, u| {
                set(
                    u,
                    text("io.cncf.notary.timestampSignature"),
                    Value::from("x"),
                );
            }),
            |e| matches!(e, Error::InvalidHeader { .. }),
        ),
    ];
    for (name, edit, expected) in cases {
        let err = cose::verify(&resign(kt, edit)).unwrap_err();
        assert!(expected(&err), "{name}: {err:?}");
    }

    // Accepted variants: signing-authority scheme, timestamp token and vendor headers,
    // x5chain in the protected header, fractional tag 1 time.
    let env = resign(kt, |p, u| {
        set(
            p,
            text("io.cncf.notary.signingScheme"),
            Value::from("notary.x509.signingAuthority"),
        );
        p.rest
            .retain(|(l, _)| *l != text("io.cncf.notary.signingTime"));
        set(p, text("io.cncf.notary.authenticSigningTime"), t(1_000));
        p.crit = crit(&[
            "io.cncf.notary.signingScheme",
            "io.cncf.notary.authenticSigningTime",
        ]);
        set(p, text("com.example.extra"), Value::from(1));
        set(
            u,
            text("io.cncf.notary.timestampSignature"),
            Value::Bytes(vec![1, 2, 3]),
        );
        set(u, text("com.vendor.header"), Value::from("v"));
    });
    let v = cose::verify(&env).unwrap().envelope;
    assert_eq!(v.signing_scheme, SigningScheme::X509SigningAuthority);
    assert_eq!(
        v.signing_time,
        std::time::UNIX_EPOCH + Duration::from_secs(1_000)
    );
    assert_eq!(v.timestamp_signature.as_deref(), Some(&[1u8, 2, 3][..]));

    let env = resign(kt, |p, u| {
        let pos = u
            .rest
            .iter()
            .position(|(l, _)| *l == Label::Int(33))
            .unwrap();
        p.rest.push(u.rest.remove(pos));
        set(
            p,
            text("io.cncf.notary.signingTime"),
            Value::Tag(1, Box::new(Value::Float(1.5))),
        );
    });
    let v = cose::verify(&env).unwrap().envelope;
    assert_eq!(v.cert_chain.len(), 3);
    assert_eq!(
        v.signing_time,
        std::time::UNIX_EPOCH + Duration::from_millis(1_500)
    );
}

#[test]
fn structure_rules() {
    let (env, _) = sign(KeyType::P256, false);
    let msg = CoseSign1::from_tagged_slice(&env).unwrap();

    // Untagged COSE_Sign1, or another tag.
    let untagged = msg.clone().to_vec().unwrap();
    assert!(matches!(
        cose::Envelope::parse(&untagged),
        Err(Error::Cbor { .. })
    ));
    let mut other_tag = env.clone();
    other_tag[0] = 0xd1; // tag 17 (COSE_Mac0)
    assert!(matches!(
        cose::Envelope::parse(&other_tag),
        Err(Error::Cbor { .. })
    ));
    // Trailing bytes, truncation, garbage.
    let mut trailing = env.clone();
    trailing.push(0);
    assert!(cose::Envelope::parse(&trailing).is_err());
    assert!(cose::Envelope::parse(&env[..env.len() - 1]).is_err());
    assert!(cose::Envelope::parse(b"{}").is_err());
    // Detached payload.
    let mut detached = msg.clone();
    detached.payload = None;
    assert!(matches!(
        cose::Envelope::parse(&detached.to_tagged_vec().unwrap()),
        Err(Error::InvalidEnvelope { .. })
    ));
    // Empty signature.
    let mut unsigned = msg.clone();
    unsigned.signature = Vec::new();
    assert!(matches!(
        cose::Envelope::parse(&unsigned.to_tagged_vec().unwrap()),
        Err(Error::InvalidEnvelope { .. })
    ));
    // A JWS is not a COSE envelope and vice versa.
    assert!(signet_notation::jws::Envelope::parse(&env).is_err());
}

#[test]
fn tampering_is_refused() {
    let (env, chain) = sign(KeyType::Rsa2048, false);
    let msg = CoseSign1::from_tagged_slice(&env).unwrap();

    let mut t = msg.clone();
    let other = Payload::new(&Descriptor::for_bytes("x/y", b"z"), &BTreeMap::new()).unwrap();
    t.payload = Some(other.to_json().unwrap());
    assert!(matches!(
        cose::verify(&t.to_tagged_vec().unwrap()),
        Err(Error::BadSignature { .. })
    ));

    let mut t = msg.clone();
    t.signature[10] ^= 1;
    assert!(matches!(
        cose::verify(&t.to_tagged_vec().unwrap()),
        Err(Error::BadSignature { .. })
    ));

    // A protected header byte changed (signing time 1760000000 → 1760000001).
    let mut t = msg.clone();
    let mut raw = t.protected.original_data.clone().unwrap();
    let needle = 1_760_000_000u32.to_be_bytes();
    let pos = raw.windows(4).position(|w| w == needle).unwrap();
    raw[pos + 3] ^= 1;
    t.protected = ProtectedHeader::from_cbor_bstr(Value::Bytes(raw)).unwrap();
    assert!(matches!(
        cose::verify(&t.to_tagged_vec().unwrap()),
        Err(Error::BadSignature { .. })
    ));

    // Swapping in another leaf of the same type: signature no longer matches.
    let (_, other_chain) = common::chain(KeyType::Rsa2048);
    let mut t = msg.clone();
    set(
        &mut t.unprotected,
        Label::Int(33),
        Value::Array(
            [&other_chain[0], &chain[1], &chain[2]]
                .iter()
                .map(|d| Value::Bytes((*d).clone()))
                .collect(),
        ),
    );
    assert!(matches!(
        cose::verify(&t.to_tagged_vec().unwrap()),
        Err(Error::BadSignature { .. })
    ));
    // Leaf of another type: alg mismatch.
    let (_, ec_chain) = common::chain(KeyType::P256);
    let mut t = msg.clone();
    set(
        &mut t.unprotected,
        Label::Int(33),
        Value::Array(ec_chain.iter().map(|d| Value::Bytes(d.clone())).collect()),
    );
    assert!(matches!(
        cose::verify(&t.to_tagged_vec().unwrap()),
        Err(Error::AlgorithmMismatch { .. })
    ));
}

#[test]
fn signer_and_chain_are_checked_when_signing() {
    let (_, chain) = common::chain(KeyType::P256);
    let wrong = signet_crypto::PrivateKey::generate(KeyType::P256).unwrap();
    let opts = SignOptions {
        payload: b"{}",
        cert_chain: &chain,
        signing_time: common::now(),
        expiry: None,
        signing_agent: "",
    };
    assert!(matches!(
        cose::sign(&opts, &wrong),
        Err(Error::SigningFailed { .. })
    ));
    let rsa = signet_crypto::PrivateKey::generate(KeyType::Rsa2048).unwrap();
    assert!(matches!(
        cose::sign(&opts, &rsa),
        Err(Error::AlgorithmMismatch { .. })
    ));
    let opts = SignOptions {
        cert_chain: &chain[..2],
        ..opts
    };
    assert!(matches!(
        cose::sign(&opts, &wrong),
        Err(Error::CertificateRule { .. })
    ));
}

#[test]
fn both_formats_through_the_agnostic_view() {
    let (key, chain) = common::chain(KeyType::P384);
    let payload = payload();
    let opts = SignOptions {
        payload: &payload,
        cert_chain: &chain,
        signing_time: common::now(),
        expiry: Some(common::now() + Duration::from_secs(60)),
        signing_agent: "signet/test",
    };
    let mut seen = Vec::new();
    for kind in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let bytes = envelope::sign(kind, &opts, &key).unwrap();
        let media_type = kind.media_type();
        assert_eq!(EnvelopeType::from_media_type(media_type).unwrap(), kind);
        let parsed = envelope::Envelope::parse_media_type(media_type, &bytes).unwrap();
        let v = parsed.verify().unwrap().envelope;
        assert_eq!(v.envelope_type(), kind);
        assert_eq!(v.payload(), payload.as_slice());
        assert_eq!(v.alg(), JwsAlgorithm::Es384);
        assert_eq!(v.signing_scheme(), SigningScheme::X509);
        assert_eq!(v.signing_time(), common::now());
        assert_eq!(v.expiry(), Some(common::now() + Duration::from_secs(60)));
        assert_eq!(v.signing_agent(), Some("signet/test"));
        assert_eq!(v.timestamp_signature(), None);
        assert_eq!(v.cert_chain().len(), 3);
        assert_eq!(v.signature().len(), 96);
        // The wrong parser refuses each format.
        let other = if kind == EnvelopeType::Jws {
            EnvelopeType::Cose
        } else {
            EnvelopeType::Jws
        };
        assert!(envelope::verify(other, &bytes).is_err());
        seen.push(v.cert_chain()[0].der().to_vec());
    }
    assert_eq!(seen[0], seen[1]);
    assert!(matches!(
        EnvelopeType::from_media_type("application/json"),
        Err(Error::UnknownEnvelopeType { .. })
    ));
    assert!(envelope::Envelope::parse_media_type("text/plain", b"").is_err());
}
