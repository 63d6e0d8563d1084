//! RFC 3161 timestamps against a real TSA (`openssl ts -reply` with openssl-made
//! certificates): requests signet builds, responses and their status, token verification and
//! each way it fails, and timestamped JWS / COSE envelopes whose tokens `openssl ts -verify`
//! also accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::tsa::{Tsa, TsaOptions};
use signet_crypto::KeyType;
use signet_notation::Error;
use signet_notation::certs::CertRule;
use signet_notation::envelope::{
    self, EnvelopeType, SignedEnvelope, TimestampOptions, Timestamper,
};
use signet_notation::jws::{JwsAlgorithm, SignOptions};
use signet_notation::payload::Payload;
use signet_notation::timestamp::{
    self, FailureInfo, HashAlgorithm, PkiStatus, TimestampRequest, TimestampResponse,
    TimestampToken,
};
use signet_oci::Descriptor;
use signet_pki::cert::Certificate;

/// Stand-in signature bytes (different per call).
fn signature() -> Vec<u8> {
    timestamp::random_nonce().unwrap().repeat(8)
}

fn nonce() -> [u8; 20] {
    timestamp::random_nonce().unwrap()
}

/// A request for `sig` and the TSA's parsed response to it.
fn stamp(tsa: &Tsa, sig: &[u8], alg: JwsAlgorithm) -> (TimestampRequest, TimestampResponse) {
    let request = TimestampRequest::for_signature(sig, alg, &nonce()).unwrap();
    let response = TimestampResponse::parse(&tsa.reply(request.to_der())).unwrap();
    (request, response)
}

fn token(tsa: &Tsa, sig: &[u8]) -> Vec<u8> {
    let (request, response) = stamp(tsa, sig, JwsAlgorithm::Ps256);
    response.validate(&request).unwrap().der().to_vec()
}

#[test]
fn valid_token_verifies_and_yields_gen_time() {
    for key in ["rsa", "ec"] {
        let tsa = Tsa::with(TsaOptions {
            key,
            ..TsaOptions::default()
        });
        let sig = signature();
        let before = SystemTime::now();
        let (request, response) = stamp(&tsa, &sig, JwsAlgorithm::Ps256);
        let after = SystemTime::now();
        assert_eq!(response.status, PkiStatus::Granted);
        let token = response.validate(&request).unwrap();
        assert_eq!(token.info().nonce.as_deref(), Some(request.nonce()));
        assert!(tsa.openssl_verifies(token.der(), &sig), "{key}");

        let verified =
            timestamp::verify_timestamp(token.der(), &sig, std::slice::from_ref(&tsa.root))
                .unwrap();
        // genTime is the TSA's clock in whole seconds, taken between `before` and `after`.
        let gen_time = verified.timestamp.gen_time;
        assert!(
            gen_time + Duration::from_secs(1) >= before && gen_time <= after,
            "{key}"
        );
        assert_eq!(gen_time, token.info().gen_time);
        assert_eq!(verified.timestamp.accuracy, Duration::from_millis(1500));
        assert_eq!(
            verified.timestamp.lower_limit(),
            gen_time - Duration::from_millis(1500)
        );
        assert_eq!(
            verified.tsa_chain,
            vec![tsa.tsa.clone(), tsa.intermediate.clone(), tsa.root.clone()]
        );
    }
}

#[test]
fn the_imprint_hash_follows_the_signature_algorithm() {
    let tsa = Tsa::new();
    for (alg, hash) in [
        (JwsAlgorithm::Ps256, HashAlgorithm::Sha256),
        (JwsAlgorithm::Es256, HashAlgorithm::Sha256),
        (JwsAlgorithm::Es384, HashAlgorithm::Sha384),
        (JwsAlgorithm::Ps512, HashAlgorithm::Sha512),
    ] {
        let sig = signature();
        let (request, response) = stamp(&tsa, &sig, alg);
        assert_eq!(request.hash(), hash);
        let token = response.validate(&request).unwrap();
        assert_eq!(token.info().hash_algorithm(), Some(hash));
        assert_eq!(token.info().hashed_message, hash.digest(&sig));
        timestamp::verify_timestamp(token.der(), &sig, std::slice::from_ref(&tsa.root)).unwrap();
    }
}

#[test]
fn accuracy_absent_is_exact_and_baseline_policy_means_one_second() {
    for (policy, expected) in [
        ("1.2.3.4.1", Duration::ZERO),
        ("0.4.0.2023.1.1", Duration::from_secs(1)),
    ] {
        let tsa = Tsa::with(TsaOptions {
            accuracy: None,
            policy,
            ..TsaOptions::default()
        });
        let sig = signature();
        let v =
            timestamp::verify_timestamp(&token(&tsa, &sig), &sig, std::slice::from_ref(&tsa.root))
                .unwrap();
        assert_eq!(v.timestamp.accuracy, expected, "{policy}");
    }
}

#[test]
fn wrong_message_imprint_is_refused() {
    let tsa = Tsa::new();
    let token = token(&tsa, &signature());
    let err = timestamp::verify_timestamp(&token, &signature(), std::slice::from_ref(&tsa.root))
        .unwrap_err();
    assert!(
        matches!(err, Error::TimestampImprintMismatch { hash: "SHA-256" }),
        "{err}"
    );
}

#[test]
fn token_from_an_untrusted_tsa_root_is_refused() {
    let tsa = Tsa::new();
    // Same root name, different key; and a different root altogether.
    let twin = Tsa::new();
    let other = Tsa::with(TsaOptions {
        root_cn: "Other TSA Root",
        ..TsaOptions::default()
    });
    let sig = signature();
    let token = token(&tsa, &sig);
    for roots in [vec![twin.root.clone()], vec![other.root.clone()]] {
        let err = timestamp::verify_timestamp(&token, &sig, &roots).unwrap_err();
        assert!(
            matches!(err, Error::UntrustedTimestampAuthority { .. }),
            "{err}"
        );
    }
    // Only self-signed roots are accepted as TSA roots.
    let err = timestamp::verify_timestamp(&token, &sig, std::slice::from_ref(&tsa.intermediate))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTsaRoot { .. }), "{err}");
    timestamp::check_tsa_root(&tsa.root).unwrap();
}

#[test]
fn the_tsa_chain_must_be_valid_at_the_time_given() {
    let tsa = Tsa::new();
    let sig = signature();
    let token = TimestampToken::parse(&token(&tsa, &sig)).unwrap();
    let roots = [tsa.root.clone()];
    let gen_time = token.info().gen_time;
    token.verify(&roots, gen_time).unwrap();
    for at in [
        tsa.tsa.not_after() + Duration::from_secs(1),
        tsa.tsa.not_before() - Duration::from_secs(1),
    ] {
        let err = token.verify(&roots, at).unwrap_err();
        assert!(
            matches!(&err, Error::UntrustedTimestampAuthority { reason } if reason.contains("is not valid at")),
            "{err}"
        );
    }
}

#[test]
fn tsa_certificates_must_follow_the_timestamping_rules() {
    let tsa = Tsa::new();
    let sig = signature();
    // The builder's token from a good TSA certificate verifies here and with openssl.
    let (good, good_key) = tsa.issue_tsa_cert("good", "rsa", "v3_tsa");
    let token = tsa.python_token(&sig, &good, &good_key);
    assert!(tsa.openssl_verifies(&token, &sig));
    timestamp::verify_timestamp(&token, &sig, std::slice::from_ref(&tsa.root)).unwrap();

    for (section, expected) in [
        ("v3_noeku", CertRule::TsaExtendedKeyUsage),
        ("v3_eku_extra", CertRule::TsaExtendedKeyUsage),
        (
            "v3_eku_noncritical",
            CertRule::TsaExtendedKeyUsageNotCritical,
        ),
    ] {
        let (cert, key) = tsa.issue_tsa_cert(section, "rsa", section);
        let token = tsa.python_token(&sig, &cert, &key);
        let err =
            timestamp::verify_timestamp(&token, &sig, std::slice::from_ref(&tsa.root)).unwrap_err();
        match err {
            Error::TsaCertificateRule { index, rule, .. } => {
                assert_eq!((index, rule), (0, expected), "{section}");
            }
            other => panic!("{section}: {other}"),
        }
    }
}

#[test]
fn the_ess_signing_certificate_v2_attribute_is_required() {
    let tsa = Tsa::new();
    let sig = signature();
    let (cert, key) = tsa.issue_tsa_cert("noess", "rsa", "v3_tsa");
    let token = tsa.python_token_with(&sig, &cert, &key, false);
    let err =
        timestamp::verify_timestamp(&token, &sig, std::slice::from_ref(&tsa.root)).unwrap_err();
    assert!(
        matches!(&err, Error::TimestampSignature { reason } if reason.contains("signing-certificate-v2")),
        "{err}"
    );
}

#[test]
fn tampered_tokens_are_refused() {
    let tsa = Tsa::new();
    let sig = signature();
    let good = token(&tsa, &sig);
    let roots = [tsa.root.clone()];

    // A different nonce in the TSTInfo: the message-digest attribute no longer matches.
    let mut t = good.clone();
    let nonce = TimestampToken::parse(&good)
        .unwrap()
        .info()
        .nonce
        .clone()
        .unwrap();
    let at = t
        .windows(nonce.len())
        .position(|w| w == nonce.as_slice())
        .unwrap()
        + nonce.len()
        - 1;
    t[at] ^= 0x01;
    let err = timestamp::verify_timestamp(&t, &sig, &roots).unwrap_err();
    assert!(
        matches!(&err, Error::TimestampSignature { reason } if reason.contains("message-digest")),
        "{err}"
    );

    // A flipped bit in the signature (the last field of the token).
    let mut t = good.clone();
    let last = t.len() - 1;
    t[last] ^= 0x01;
    let err = timestamp::verify_timestamp(&t, &sig, &roots).unwrap_err();
    assert!(
        matches!(&err, Error::TimestampSignature { reason } if reason.contains("does not verify")),
        "{err}"
    );

    // Truncated and garbage.
    for bad in [&good[..good.len() - 10], b"not a token".as_slice()] {
        let err = timestamp::verify_timestamp(bad, &sig, &roots).unwrap_err();
        assert!(matches!(err, Error::InvalidTimestampToken { .. }), "{err}");
    }
}

#[test]
fn a_rejection_status_is_reported_with_its_failure_info() {
    let tsa = Tsa::with(TsaOptions {
        digests: "sha256",
        ..TsaOptions::default()
    });
    let sig = signature();
    let (_, response) = stamp(&tsa, &sig, JwsAlgorithm::Es384);
    assert_eq!(response.status, PkiStatus::Rejection);
    assert_eq!(response.failure_info, vec![FailureInfo::BadAlg]);
    let err = response.token_der().unwrap_err();
    assert!(matches!(err, Error::TimestampRejected { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("status 2 (rejected)") && text.contains("badAlg"),
        "{text}"
    );

    // The signing flow reports the same.
    let roots = [tsa.root.clone()];
    let n = nonce();
    let options = TimestampOptions {
        timestamper: &tsa,
        tsa_roots: &roots,
        nonce: &n,
        now: SystemTime::now(),
        check_tsa_revocation: None,
    };
    let err = timestamp::timestamp_signature(&sig, JwsAlgorithm::Es384, &options).unwrap_err();
    assert!(matches!(err, Error::TimestampRejected { .. }), "{err}");
}

#[test]
fn a_response_must_answer_the_request() {
    let tsa = Tsa::new();
    let sig = signature();
    let (_, response) = stamp(&tsa, &sig, JwsAlgorithm::Ps256);
    // Same content, another nonce.
    let other_nonce = TimestampRequest::for_signature(&sig, JwsAlgorithm::Ps256, &nonce()).unwrap();
    let err = response.validate(&other_nonce).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidTimestampResponse { reason } if reason.contains("nonce")),
        "{err}"
    );
    // Other content.
    let other_content =
        TimestampRequest::for_signature(&signature(), JwsAlgorithm::Ps256, &nonce()).unwrap();
    let err = response.validate(&other_content).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidTimestampResponse { reason } if reason.contains("messageImprint")),
        "{err}"
    );
    // Not a response at all.
    assert!(matches!(
        TimestampResponse::parse(b"\x30\x03\x02\x01\x00junk"),
        Err(Error::InvalidTimestampResponse { .. })
    ));
}

/// Prints the hex of the COSE unprotected `io.cncf.notary.timestampSignature` bstr.
const PY_CBOR: &str = r#"
import sys, cbor2
msg = cbor2.loads(open(sys.argv[1], 'rb').read())
assert msg.tag == 18, msg.tag
print(bytes(msg.value[1]['io.cncf.notary.timestampSignature']).hex())
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn target() -> Descriptor {
    Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"{\"a\":1}")
}

fn sign_options<'a>(payload: &'a [u8], chain: &'a [Vec<u8>]) -> SignOptions<'a> {
    SignOptions {
        payload,
        cert_chain: chain,
        signing_time: SystemTime::now(),
        expiry: None,
        signing_agent: "signet/test",
    }
}

#[test]
fn timestamped_envelopes_round_trip() {
    let tsa = Tsa::new();
    let roots = [tsa.root.clone()];
    let payload = Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap();
    for (envelope_type, kt) in [
        (EnvelopeType::Jws, KeyType::Rsa3072),
        (EnvelopeType::Cose, KeyType::P256),
    ] {
        let (key, chain) = common::chain(kt);
        let n = nonce();
        let options = TimestampOptions {
            timestamper: &tsa,
            tsa_roots: &roots,
            nonce: &n,
            now: SystemTime::now(),
            check_tsa_revocation: None,
        };
        let bytes = envelope::sign_timestamped(
            envelope_type,
            &sign_options(&payload, &chain),
            &key,
            &options,
        )
        .unwrap();
        let env = envelope::verify(envelope_type, &bytes).unwrap().envelope;
        let token = env.timestamp_signature().unwrap().to_vec();
        assert!(
            tsa.openssl_verifies(&token, env.signature()),
            "{envelope_type:?}"
        );
        let verified = envelope::verify_envelope_timestamp(&env, &roots)
            .unwrap()
            .unwrap();
        assert_eq!(verified.tsa_chain[0], tsa.tsa);
        let expected_hash = HashAlgorithm::for_signature(env.alg());
        let info = TimestampToken::parse(&token).unwrap().info().clone();
        assert_eq!(info.hash_algorithm(), Some(expected_hash));

        if envelope_type == EnvelopeType::Cose {
            // An independent CBOR decoder finds the token as a bstr in the unprotected map.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("env.cose");
            std::fs::write(&path, &bytes).unwrap();
            let out = common::tsa::run(
                dir.path(),
                "/usr/bin/python3",
                &["-c", PY_CBOR, path.to_str().unwrap()],
            );
            assert_eq!(String::from_utf8(out).unwrap().trim(), hex(&token));
        }
        if envelope_type == EnvelopeType::Jws {
            // Standard base64 in the unprotected header, as notation-core-go writes it.
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let b64 = json["header"]["io.cncf.notary.timestampSignature"]
                .as_str()
                .unwrap();
            assert_eq!(STANDARD.decode(b64).unwrap(), token);
        }

        // Once is enough.
        let err = envelope::timestamp_envelope(envelope_type, &bytes, &options).unwrap_err();
        assert!(matches!(err, Error::AlreadyTimestamped), "{err}");
        let err = envelope::attach_timestamp(envelope_type, &bytes, &token).unwrap_err();
        assert!(matches!(err, Error::AlreadyTimestamped), "{err}");

        // Without a token the envelope is the plain signed one.
        let plain = envelope::sign(envelope_type, &sign_options(&payload, &chain), &key).unwrap();
        let plain_env = envelope::verify(envelope_type, &plain).unwrap().envelope;
        assert!(plain_env.timestamp_signature().is_none());
        assert!(
            envelope::verify_envelope_timestamp(&plain_env, &roots)
                .unwrap()
                .is_none()
        );
        // A token for another signature attaches (unchecked) but does not verify.
        let stray = envelope::attach_timestamp(envelope_type, &plain, &token).unwrap();
        let stray_env = envelope::verify(envelope_type, &stray).unwrap().envelope;
        let err = envelope::verify_envelope_timestamp(&stray_env, &roots).unwrap_err();
        assert!(
            matches!(err, Error::TimestampImprintMismatch { .. }),
            "{err}"
        );
    }
}

struct Failing;

impl Timestamper for Failing {
    fn timestamp(&self, _: &[u8]) -> Result<Vec<u8>, String> {
        Err("POST http://tsa.invalid: connection refused".to_owned())
    }
}

struct Garbage;

impl Timestamper for Garbage {
    fn timestamp(&self, _: &[u8]) -> Result<Vec<u8>, String> {
        Ok(b"<html>".to_vec())
    }
}

#[test]
fn signing_refuses_what_it_cannot_trust() {
    let tsa = Tsa::new();
    let other = Tsa::with(TsaOptions {
        root_cn: "Other TSA Root",
        ..TsaOptions::default()
    });
    let payload = Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap();
    let (key, chain) = common::chain(KeyType::P256);
    let n = nonce();
    let good_roots = [tsa.root.clone()];
    let wrong_roots = [other.root.clone()];
    let not_a_root = [tsa.intermediate.clone()];
    let revoked = |_: &[Certificate]| -> Result<(), String> { Err("revoked".to_owned()) };
    let base = TimestampOptions {
        timestamper: &tsa,
        tsa_roots: &good_roots,
        nonce: &n,
        now: SystemTime::now(),
        check_tsa_revocation: None,
    };
    let cases: Vec<(TimestampOptions<'_>, fn(&Error) -> bool)> = vec![
        (
            TimestampOptions {
                tsa_roots: &wrong_roots,
                ..base
            },
            |e| matches!(e, Error::UntrustedTimestampAuthority { .. }),
        ),
        (
            TimestampOptions {
                tsa_roots: &not_a_root,
                ..base
            },
            |e| matches!(e, Error::InvalidTsaRoot { .. }),
        ),
        (
            TimestampOptions {
                tsa_roots: &[],
                ..base
            },
            |e| matches!(e, Error::UntrustedTimestampAuthority { .. }),
        ),
        (
            TimestampOptions {
                now: SystemTime::now() + Duration::from_secs(400 * 86_400),
                ..base
            },
            |e| matches!(e, Error::UntrustedTimestampAuthority { reason } if reason.contains("is not valid at")),
        ),
        (
            TimestampOptions {
                check_tsa_revocation: Some(&revoked),
                ..base
            },
            |e| matches!(e, Error::UntrustedTimestampAuthority { reason } if reason.contains("revoked")),
        ),
        (
            TimestampOptions {
                timestamper: &Failing,
                ..base
            },
            |e| matches!(e, Error::Timestamping { reason } if reason.contains("connection refused")),
        ),
        (
            TimestampOptions {
                timestamper: &Garbage,
                ..base
            },
            |e| matches!(e, Error::InvalidTimestampResponse { .. }),
        ),
        (TimestampOptions { nonce: &[], ..base }, |e| {
            matches!(e, Error::InvalidTimestampRequest { .. })
        }),
    ];
    for (i, (options, expected)) in cases.iter().enumerate() {
        let err = envelope::sign_timestamped(
            EnvelopeType::Jws,
            &sign_options(&payload, &chain),
            &key,
            options,
        )
        .unwrap_err();
        assert!(expected(&err), "case {i}: {err}");
    }
    // The revocation hook sees the verified TSA chain.
    let seen = std::cell::RefCell::new(Vec::new());
    let record = |chain: &[Certificate]| -> Result<(), String> {
        seen.borrow_mut().extend_from_slice(chain);
        Ok(())
    };
    let options = TimestampOptions {
        check_tsa_revocation: Some(&record),
        ..base
    };
    envelope::sign_timestamped(
        EnvelopeType::Cose,
        &sign_options(&payload, &chain),
        &key,
        &options,
    )
    .unwrap();
    assert_eq!(
        *seen.borrow(),
        vec![tsa.tsa.clone(), tsa.intermediate.clone(), tsa.root.clone()]
    );
}

#[test]
fn two_step_timestamping_for_callers_that_send_the_request_themselves() {
    let tsa = Tsa::new();
    let roots = [tsa.root.clone()];
    let payload = Payload::new(&target(), &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap();
    let (key, chain) = common::chain(KeyType::P384);
    for envelope_type in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let signed = envelope::sign(envelope_type, &sign_options(&payload, &chain), &key).unwrap();
        let request = envelope::timestamp_request(envelope_type, &signed, &nonce()).unwrap();
        assert_eq!(request.hash(), HashAlgorithm::Sha384);
        let response = tsa.reply(request.to_der());
        let (bytes, verified) = envelope::attach_timestamp_response(
            envelope_type,
            &signed,
            &request,
            &response,
            &roots,
            SystemTime::now(),
            None,
        )
        .unwrap();
        let env = envelope::verify(envelope_type, &bytes).unwrap().envelope;
        let again = envelope::verify_envelope_timestamp(&env, &roots)
            .unwrap()
            .unwrap();
        assert_eq!(again.timestamp, verified.timestamp);
        assert!(tsa.openssl_verifies(env.timestamp_signature().unwrap(), env.signature()));

        // A response to another request (another envelope's signature) is refused.
        let other = envelope::sign(envelope_type, &sign_options(&payload, &chain), &key).unwrap();
        let other_request = envelope::timestamp_request(envelope_type, &other, &nonce()).unwrap();
        let err = envelope::attach_timestamp_response(
            envelope_type,
            &signed,
            &other_request,
            &response,
            &roots,
            SystemTime::now(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::InvalidTimestampResponse { .. }),
            "{err}"
        );
        let err = envelope::timestamp_request(envelope_type, &bytes, &nonce()).unwrap_err();
        assert!(matches!(err, Error::AlreadyTimestamped), "{err}");
    }
}
