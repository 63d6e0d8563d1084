//! JWS envelope: sign → verify round trips for every key type, strict parsing, tampering.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use signet_crypto::{KeyType, PrivateKey};
use signet_notation::jws::{self, JwsAlgorithm, JwsSigner, SignOptions, SigningScheme};
use signet_notation::manifest::{self, EnvelopeType};
use signet_notation::payload::Payload;
use signet_notation::{Error, rfc3339};
use signet_oci::Descriptor;

fn target() -> Descriptor {
    Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"{\"a\":1}")
}

fn sign(kt: KeyType, expiry: bool) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (key, chain) = common::chain(kt);
    let payload = Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap();
    let env = jws::sign(
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

#[test]
fn round_trip_every_key_type() {
    for (kt, alg) in [
        (KeyType::Rsa2048, JwsAlgorithm::Ps256),
        (KeyType::Rsa3072, JwsAlgorithm::Ps384),
        (KeyType::Rsa4096, JwsAlgorithm::Ps512),
        (KeyType::P256, JwsAlgorithm::Es256),
        (KeyType::P384, JwsAlgorithm::Es384),
        (KeyType::P521, JwsAlgorithm::Es512),
    ] {
        let (env, chain) = sign(kt, true);
        let v = jws::verify(&env).unwrap().envelope;
        assert_eq!(v.alg, alg);
        assert_eq!(v.signing_scheme, SigningScheme::X509);
        assert_eq!(v.signing_time, common::now());
        assert_eq!(v.expiry, Some(common::now() + Duration::from_secs(3600)));
        assert_eq!(v.signing_agent.as_deref(), Some("signet/0.1.0"));
        assert_eq!(
            v.cert_chain
                .iter()
                .map(|c| c.der().to_vec())
                .collect::<Vec<_>>(),
            chain
        );
        let p = Payload::from_json(&v.payload).unwrap();
        p.check_target(&target(), &BTreeMap::new()).unwrap();
        if let Some(n) = match alg {
            JwsAlgorithm::Es256 => Some(64),
            JwsAlgorithm::Es384 => Some(96),
            JwsAlgorithm::Es512 => Some(132),
            _ => None,
        } {
            assert_eq!(v.signature.len(), n, "{alg:?} raw r||s");
        }
    }
}

fn parts(
    env: &[u8],
) -> (
    serde_json::Map<String, Value>,
    serde_json::Map<String, Value>,
) {
    let top: Value = serde_json::from_slice(env).unwrap();
    let top = top.as_object().unwrap().clone();
    let protected: Value =
        serde_json::from_slice(&B64.decode(top["protected"].as_str().unwrap()).unwrap()).unwrap();
    (top, protected.as_object().unwrap().clone())
}

#[test]
fn envelope_layout_matches_the_spec() {
    let (env, chain) = sign(KeyType::P384, true);
    let (top, protected) = parts(&env);
    assert_eq!(
        top.keys().collect::<Vec<_>>(),
        ["header", "payload", "protected", "signature"]
    );
    assert_eq!(
        Value::Object(protected),
        json!({
            "alg": "ES384",
            "cty": "application/vnd.cncf.notary.payload.v1+json",
            "io.cncf.notary.signingScheme": "notary.x509",
            "io.cncf.notary.signingTime": rfc3339::format(common::now()).unwrap(),
            "io.cncf.notary.expiry": rfc3339::format(common::now() + Duration::from_secs(3600)).unwrap(),
            "crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"],
        })
    );
    let x5c: Vec<String> = chain
        .iter()
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .collect();
    assert_eq!(
        top["header"],
        json!({"x5c": x5c, "io.cncf.notary.signingAgent": "signet/0.1.0"})
    );
    // Without expiry, crit lists only the signing scheme.
    let (env, _) = sign(KeyType::P256, false);
    let (_, protected) = parts(&env);
    assert_eq!(protected["crit"], json!(["io.cncf.notary.signingScheme"]));
    assert!(!protected.contains_key("io.cncf.notary.expiry"));
}

/// Re-signs an envelope after `edit` changes its protected header (so only the rule
/// under test fails).
fn resign(kt: KeyType, edit: impl Fn(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let (key, chain) = common::chain(kt);
    let payload = Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap();
    let env = jws::sign(
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
    let (mut top, mut protected) = parts(&env);
    edit(&mut protected);
    let p64 = B64.encode(serde_json::to_vec(&protected).unwrap());
    let input = format!("{p64}.{}", top["payload"].as_str().unwrap());
    let alg = JwsAlgorithm::for_key_type(kt).unwrap();
    let sig = JwsSigner::sign(&key, alg, input.as_bytes()).unwrap();
    top.insert("protected".into(), Value::from(p64));
    top.insert("signature".into(), Value::from(B64.encode(sig)));
    serde_json::to_vec(&top).unwrap()
}

#[test]
fn protected_header_rules() {
    let kt = KeyType::P256;
    // Control: a re-signed, unchanged header verifies.
    jws::verify(&resign(kt, |_| {})).unwrap();
    let cases: Vec<(&str, Box<dyn Fn(&mut serde_json::Map<String, Value>)>)> = vec![
        (
            "alg none",
            Box::new(|p| {
                p.insert("alg".into(), json!("none"));
            }),
        ),
        (
            "alg HS256",
            Box::new(|p| {
                p.insert("alg".into(), json!("HS256"));
            }),
        ),
        (
            "alg mismatch",
            Box::new(|p| {
                p.insert("alg".into(), json!("ES384"));
            }),
        ),
        (
            "no cty",
            Box::new(|p| {
                p.remove("cty");
            }),
        ),
        (
            "bad cty",
            Box::new(|p| {
                p.insert("cty".into(), json!("application/json"));
            }),
        ),
        (
            "no scheme",
            Box::new(|p| {
                p.remove("io.cncf.notary.signingScheme");
            }),
        ),
        (
            "bad scheme",
            Box::new(|p| {
                p.insert("io.cncf.notary.signingScheme".into(), json!("x"));
            }),
        ),
        (
            "no time",
            Box::new(|p| {
                p.remove("io.cncf.notary.signingTime");
            }),
        ),
        (
            "bad time",
            Box::new(|p| {
                p.insert("io.cncf.notary.signingTime".into(), json!("yesterday"));
            }),
        ),
        (
            "no crit",
            Box::new(|p| {
                p.remove("crit");
            }),
        ),
        (
            "crit without scheme",
            Box::new(|p| {
                p.insert("crit".into(), json!([]));
            }),
        ),
        (
            "unknown crit",
            Box::new(|p| {
                p.insert("x.y".into(), json!(1));
                p.insert(
                    "crit".into(),
                    json!(["io.cncf.notary.signingScheme", "x.y"]),
                );
            }),
        ),
        (
            "plugin crit",
            Box::new(|p| {
                p.insert("io.cncf.notary.verificationPlugin".into(), json!("p"));
                p.insert(
                    "crit".into(),
                    json!([
                        "io.cncf.notary.signingScheme",
                        "io.cncf.notary.verificationPlugin"
                    ]),
                );
            }),
        ),
        (
            "crit lists absent",
            Box::new(|p| {
                p.insert(
                    "crit".into(),
                    json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]),
                );
            }),
        ),
        (
            "crit registered",
            Box::new(|p| {
                p.insert(
                    "crit".into(),
                    json!(["io.cncf.notary.signingScheme", "alg"]),
                );
            }),
        ),
        (
            "expiry not critical",
            Box::new(|p| {
                p.insert(
                    "io.cncf.notary.expiry".into(),
                    json!("2030-01-01T00:00:00Z"),
                );
            }),
        ),
        (
            "authority without authentic time",
            Box::new(|p| {
                p.insert(
                    "io.cncf.notary.signingScheme".into(),
                    json!("notary.x509.signingAuthority"),
                );
            }),
        ),
    ];
    for (name, edit) in cases {
        let err = jws::verify(&resign(kt, edit)).unwrap_err();
        assert!(!err.to_string().is_empty(), "{name}");
        eprintln!("{name}: {err}");
    }
    // Unknown non-critical protected headers are ignored; signingAuthority with an
    // authentic signing time is understood.
    jws::verify(&resign(kt, |p| {
        p.insert("x.extra".into(), json!(1));
    }))
    .unwrap();
    let v = jws::verify(&resign(kt, |p| {
        p.insert(
            "io.cncf.notary.signingScheme".into(),
            json!("notary.x509.signingAuthority"),
        );
        p.insert(
            "io.cncf.notary.authenticSigningTime".into(),
            json!("2030-01-01T00:00:00Z"),
        );
        p.insert(
            "crit".into(),
            json!([
                "io.cncf.notary.signingScheme",
                "io.cncf.notary.authenticSigningTime"
            ]),
        );
    }))
    .unwrap();
    assert_eq!(
        v.envelope.signing_scheme,
        SigningScheme::X509SigningAuthority
    );
    assert_eq!(
        v.envelope.signing_time,
        rfc3339::parse("2030-01-01T00:00:00Z").unwrap()
    );
}

#[test]
fn structure_rules_and_legacy_spellings() {
    let (env, _) = sign(KeyType::P256, false);
    let (top, _) = parts(&env);
    let edit = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut t = top.clone();
        f(&mut t);
        serde_json::to_vec(&t).unwrap()
    };
    // Extra top-level members, general serialization, missing members.
    assert!(
        jws::verify(&edit(&|t| {
            t.insert("signatures".into(), json!([]));
        }))
        .is_err()
    );
    assert!(
        jws::verify(&edit(&|t| {
            t.remove("header");
        }))
        .is_err()
    );
    assert!(
        jws::verify(&edit(&|t| {
            t.remove("signature");
        }))
        .is_err()
    );
    assert!(
        jws::verify(&edit(&|t| {
            t.insert("header".into(), json!({}));
        }))
        .is_err()
    );
    assert!(
        jws::verify(&edit(&|t| {
            t.insert("header".into(), json!({"x5c": []}));
        }))
        .is_err()
    );
    assert!(
        jws::verify(&edit(&|t| {
            t.insert("payload".into(), json!("***"));
        }))
        .is_err()
    );
    assert!(jws::verify(b"[]").is_err());
    // Old capitalised spellings are accepted.
    let legacy = edit(&|t| {
        let h = t.remove("header").unwrap();
        let mut h = h.as_object().unwrap().clone();
        h.remove("io.cncf.notary.signingAgent");
        h.insert(
            "io.cncf.notary.SigningAgent".into(),
            json!("notation/1.0.0"),
        );
        h.insert("io.cncf.notary.TimestampSignature".into(), json!("AAEC"));
        h.insert("com.venafi.notation.plugin.x5u".into(), json!("https://x"));
        t.insert("Header".into(), Value::Object(h));
        let s = t.remove("signature").unwrap();
        t.insert("Signature".into(), s);
        let p = t.remove("protected").unwrap();
        t.insert("Protected".into(), p);
    });
    let v = jws::verify(&legacy).unwrap().envelope;
    assert_eq!(v.signing_agent.as_deref(), Some("notation/1.0.0"));
    assert_eq!(v.timestamp_signature, Some(vec![0, 1, 2]));
    // Both spellings at once are refused.
    let both = edit(&|t| {
        let h = t["header"].clone();
        t.insert("Header".into(), h);
    });
    assert!(matches!(
        jws::verify(&both),
        Err(Error::InvalidEnvelope { .. })
    ));
}

#[test]
fn tampering_is_refused() {
    let (env, chain) = sign(KeyType::Rsa2048, false);
    let (top, _) = parts(&env);
    let mut t = top.clone();
    let other = Payload::new(&Descriptor::for_bytes("x/y", b"z"), &BTreeMap::new()).unwrap();
    t.insert(
        "payload".into(),
        json!(B64.encode(other.to_json().unwrap())),
    );
    assert!(matches!(
        jws::verify(&serde_json::to_vec(&t).unwrap()),
        Err(Error::BadSignature { .. })
    ));
    let mut t = top.clone();
    let mut sig = B64.decode(t["signature"].as_str().unwrap()).unwrap();
    sig[10] ^= 1;
    t.insert("signature".into(), json!(B64.encode(sig)));
    assert!(matches!(
        jws::verify(&serde_json::to_vec(&t).unwrap()),
        Err(Error::BadSignature { .. })
    ));
    // Swapping in another leaf of the same type: signature no longer matches.
    let (_, other_chain) = common::chain(KeyType::Rsa2048);
    let mut t = top.clone();
    let x5c: Vec<String> = [&other_chain[0], &chain[1], &chain[2]]
        .iter()
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .collect();
    t.insert("header".into(), json!({"x5c": x5c}));
    assert!(matches!(
        jws::verify(&serde_json::to_vec(&t).unwrap()),
        Err(Error::BadSignature { .. })
    ));
    // Leaf of another type: alg mismatch.
    let (_, ec_chain) = common::chain(KeyType::P256);
    let x5c: Vec<String> = ec_chain
        .iter()
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .collect();
    let mut t = top.clone();
    t.insert("header".into(), json!({"x5c": x5c}));
    assert!(matches!(
        jws::verify(&serde_json::to_vec(&t).unwrap()),
        Err(Error::AlgorithmMismatch { .. })
    ));
}

#[test]
fn signer_and_chain_are_checked_when_signing() {
    let (_, chain) = common::chain(KeyType::P256);
    let wrong = PrivateKey::generate(KeyType::P256).unwrap();
    let opts = SignOptions {
        payload: b"{}",
        cert_chain: &chain,
        signing_time: common::now(),
        expiry: None,
        signing_agent: "",
    };
    assert!(matches!(
        jws::sign(&opts, &wrong),
        Err(Error::SigningFailed { .. })
    ));
    let rsa = PrivateKey::generate(KeyType::Rsa2048).unwrap();
    assert!(matches!(
        jws::sign(&opts, &rsa),
        Err(Error::AlgorithmMismatch { .. })
    ));
    let short = &chain[..2];
    let opts = SignOptions {
        cert_chain: short,
        ..opts
    };
    assert!(matches!(
        jws::sign(&opts, &wrong),
        Err(Error::CertificateRule { .. })
    ));
    assert!(JwsAlgorithm::for_key_type(KeyType::Ed25519).is_err());
}

#[test]
fn ecdsa_der_to_raw_pads_and_refuses_garbage() {
    // SEQUENCE { INTEGER 1, INTEGER 0x80 (needs a leading zero) }
    let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
    assert_eq!(jws::ecdsa_der_to_raw(&der, 2).unwrap(), vec![0, 1, 0, 0x80]);
    assert!(jws::ecdsa_der_to_raw(&der, 0).is_none());
    assert!(jws::ecdsa_der_to_raw(&der[..8], 2).is_none());
    assert!(jws::ecdsa_der_to_raw(&[0x31, 0x00], 2).is_none());
}

#[test]
fn signature_manifest_round_trip_and_legacy() {
    let (env, chain) = sign(KeyType::P256, false);
    let m =
        manifest::signature_manifest(&target(), EnvelopeType::Jws, &env, &chain, &BTreeMap::new())
            .unwrap();
    let bytes = manifest::to_json(&m);
    // Byte for byte as notation (oras-go PackManifest, image-spec Go structs) writes it.
    let thumbs_json = serde_json::to_string(&manifest::thumbprints(&chain)).unwrap();
    let expected = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""artifactType":"application/vnd.cncf.notary.signature","#,
            r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2,"data":"e30="}},"#,
            r#""layers":[{{"mediaType":"application/jose+json","digest":"{layer}","size":{size}}}],"#,
            r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":7}},"#,
            r#""annotations":{{"io.cncf.notary.x509chain.thumbprint#S256":{thumbs}}}}}"#
        ),
        empty = manifest::EMPTY_CONFIG_DIGEST,
        layer = signet_oci::Digest::sha256(&env),
        size = env.len(),
        subject = target().digest,
        thumbs = serde_json::to_string(&thumbs_json).unwrap(),
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["artifactType"], "application/vnd.cncf.notary.signature");
    assert_eq!(v["config"]["digest"], manifest::EMPTY_CONFIG_DIGEST);
    assert_eq!(v["config"]["size"], 2);
    assert_eq!(v["layers"][0]["mediaType"], "application/jose+json");
    let thumbs = v["annotations"][manifest::THUMBPRINT_ANNOTATION]
        .as_str()
        .unwrap();
    let thumbs: Vec<String> = serde_json::from_str(thumbs).unwrap();
    assert_eq!(thumbs.len(), 3);
    assert!(thumbs.iter().all(|t| {
        t.len() == 64
            && t.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    }));
    let parsed = manifest::parse_signature_manifest(&bytes).unwrap();
    assert!(!parsed.legacy);
    assert_eq!(parsed.envelope_type, EnvelopeType::Jws);
    assert!(parsed.envelope.digest.matches(&env));
    assert_eq!(parsed.subject.digest, target().digest);
    parsed.check_thumbprints(&chain).unwrap();
    // Uppercase thumbprints (the spec's example) are accepted too.
    let mut upper = parsed.clone();
    upper.thumbprints = upper.thumbprints.iter().map(|t| t.to_uppercase()).collect();
    upper.check_thumbprints(&chain).unwrap();
    // The ggcr-ordered bytes parse as well (reading is order-agnostic).
    let parsed_go = manifest::parse_signature_manifest(&m.to_go_json()).unwrap();
    assert_eq!(parsed_go, parsed);
    assert!(matches!(
        parsed.check_thumbprints(&chain[..2]),
        Err(Error::ThumbprintMismatch { .. })
    ));

    // Legacy shape.
    let mut legacy = v.clone();
    let o = legacy.as_object_mut().unwrap();
    o.remove("artifactType");
    o["config"] = json!({"mediaType": "application/vnd.cncf.notary.signature", "size": 2,
        "digest": manifest::EMPTY_CONFIG_DIGEST});
    let parsed = manifest::parse_signature_manifest(&serde_json::to_vec(&legacy).unwrap()).unwrap();
    assert!(parsed.legacy);
    // Refusals: two layers, unknown layer type, no subject, no annotation, wrong artifactType.
    for edit in [
        json!({"layers": [v["layers"][0], v["layers"][0]]}),
        json!({"layers": [{"mediaType": "text/plain", "size": 1, "digest": manifest::EMPTY_CONFIG_DIGEST}]}),
        json!({"subject": null}),
        json!({"annotations": {}}),
        json!({"artifactType": "application/x"}),
        json!({"config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": manifest::EMPTY_CONFIG_DIGEST}}),
    ] {
        let mut bad = v.clone();
        for (k, val) in edit.as_object().unwrap() {
            bad[k] = val.clone();
        }
        assert!(
            manifest::parse_signature_manifest(&serde_json::to_vec(&bad).unwrap()).is_err(),
            "{edit}"
        );
    }
}
