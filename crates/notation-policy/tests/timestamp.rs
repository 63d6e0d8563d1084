//! The authentic timestamp validation with real timestamps: a TSA made with openssl (`openssl
//! ts -reply`, see the signet-notation test fixture), signing chains issued at test time with
//! signet-pki, envelopes signed and timestamped by signet-notation; then expired signing
//! certificates, `verifyTimestamp`, `tsa:` stores, the signing-authority scheme, and what each
//! level does with a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../notation/tests/common/tsa.rs"]
mod tsa;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use signet_crypto::{KeyType, PrivateKey};
use signet_notation::envelope::{self, Envelope, EnvelopeType, SignedEnvelope, TimestampOptions};
use signet_notation::jws::{JwsAlgorithm, JwsSigner, SignOptions};
use signet_notation::payload::{PAYLOAD_MEDIA_TYPE, Payload};
use signet_notation::rfc3339;
use signet_notation::timestamp;
use signet_notation_policy::{
    AuthenticTime, Error, Flow, Outcome, TrustPolicyDocument, Validation,
    verify_authentic_timestamp,
};
use signet_oci::Descriptor;
use signet_pki::cert::Certificate;
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    CaIssuer, IntermediateRequest, LeafRequest, Profile, RootRequest, issue_intermediate,
    issue_leaf, issue_root,
};
use tsa::{Tsa, TsaOptions};

const DAY: Duration = Duration::from_secs(86_400);

/// A Notation chain (leaf P-256, intermediate, root) issued at `issued`, the leaf valid
/// `leaf_days` days.
fn chain_at(issued: SystemTime, leaf_days: u32) -> (PrivateKey, Vec<Vec<u8>>) {
    let root_key = PrivateKey::generate(KeyType::P256).unwrap();
    let root = issue_root(
        &RootRequest::new(DistinguishedName::parse("/C=US/ST=WA/O=signet/CN=Root").unwrap()),
        &root_key,
        issued,
    )
    .unwrap();
    let root_ca = CaIssuer::new(&root.der, &root_key).unwrap();
    let inter_key = PrivateKey::generate(KeyType::P256).unwrap();
    let inter = issue_intermediate(
        &IntermediateRequest::new(
            DistinguishedName::parse("/C=US/ST=WA/O=signet/CN=Intermediate").unwrap(),
        ),
        &inter_key.public_key(),
        &root_ca,
        issued,
    )
    .unwrap();
    let inter_ca = CaIssuer::new(&inter.der, &inter_key).unwrap();
    let leaf_key = PrivateKey::generate(KeyType::P256).unwrap();
    let mut req = LeafRequest::new(
        DistinguishedName::parse("/C=US/ST=WA/O=signet/CN=Signer").unwrap(),
        vec!["signer@example.com".to_owned()],
        vec![],
        "https://issuer.example.com",
    );
    req.profile = Profile::Notation;
    req.validity_days = Some(leaf_days);
    let leaf = issue_leaf(&req, &leaf_key.public_key(), &inter_ca, issued).unwrap();
    (leaf_key, vec![leaf.der, inter.der, root.der])
}

fn payload() -> Vec<u8> {
    let target = Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"x");
    Payload::new(&target, &BTreeMap::new())
        .unwrap()
        .to_json()
        .unwrap()
}

/// A signed envelope over a chain issued at `issued` (leaf valid `leaf_days`), timestamped by
/// `tsa` when given.
fn envelope(
    envelope_type: EnvelopeType,
    issued: SystemTime,
    leaf_days: u32,
    tsa: Option<&Tsa>,
) -> Envelope {
    let (key, chain) = chain_at(issued, leaf_days);
    let payload = payload();
    let options = SignOptions {
        payload: &payload,
        cert_chain: &chain,
        signing_time: SystemTime::now(),
        expiry: None,
        signing_agent: "",
    };
    let bytes = match tsa {
        None => envelope::sign(envelope_type, &options, &key).unwrap(),
        Some(tsa) => {
            let nonce = timestamp::random_nonce().unwrap();
            let roots = [tsa.root.clone()];
            envelope::sign_timestamped(
                envelope_type,
                &options,
                &key,
                &TimestampOptions {
                    timestamper: tsa,
                    tsa_roots: &roots,
                    nonce: &nonce,
                    now: SystemTime::now(),
                    check_tsa_revocation: None,
                },
            )
            .unwrap()
        }
    };
    envelope::verify(envelope_type, &bytes).unwrap().envelope
}

/// A one-policy document: `level`, optional `override` / `verifyTimestamp` JSON members, and
/// the trust stores.
fn policy(
    level: &str,
    extra: &str,
    stores: &[&str],
) -> signet_notation_policy::TrustPolicyDocument {
    let stores: Vec<String> = stores.iter().map(|s| format!("{s:?}")).collect();
    let json = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["*"],
        "signatureVerification":{{"level":"{level}"{extra}}},
        "trustStores":[{}],"trustedIdentities":["*"]}}]}}"#,
        stores.join(",")
    );
    TrustPolicyDocument::from_json(json.as_bytes()).unwrap()
}

fn roots_of(tsa: &Tsa) -> impl FnOnce() -> Result<Vec<Certificate>, String> + '_ {
    || Ok(vec![tsa.root.clone()])
}

fn no_revocation(_: &[Certificate]) -> Result<(), String> {
    Ok(())
}

fn leaf_not_after(env: &Envelope) -> SystemTime {
    env.cert_chain()[0].not_after()
}

#[test]
fn an_expired_certificate_passes_with_a_timestamp_inside_its_validity() {
    let tsa = Tsa::new();
    let doc = policy("strict", "", &["ca:acme", "tsa:tsa"]);
    let p = doc.select("registry.example/app").unwrap();
    for envelope_type in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let env = envelope(envelope_type, SystemTime::now() - DAY, 10, Some(&tsa));
        let later = leaf_not_after(&env) + 30 * DAY;
        match verify_authentic_timestamp(p, &env, later, roots_of(&tsa), no_revocation).unwrap() {
            AuthenticTime::Timestamp(v) => {
                assert!(v.timestamp.gen_time < leaf_not_after(&env));
                assert_eq!(v.tsa_chain[0], tsa.tsa);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn an_expired_certificate_fails_without_a_timestamp() {
    let tsa = Tsa::new();
    let env = envelope(EnvelopeType::Jws, SystemTime::now() - DAY, 10, None);
    let later = leaf_not_after(&env) + 30 * DAY;
    // With a tsa store: the countersignature is required.
    let doc = policy("strict", "", &["ca:acme", "tsa:tsa"]);
    let p = doc.select("registry.example/app").unwrap();
    let err =
        verify_authentic_timestamp(p, &env, later, roots_of(&tsa), no_revocation).unwrap_err();
    assert_eq!(err, Error::TimestampMissing);
    assert_eq!(
        err.to_string(),
        "no timestamp countersignature was found in the signature envelope"
    );
    // Without one: the chain must be valid at verification time.
    let doc = policy("strict", "", &["ca:acme"]);
    let p = doc.select("registry.example/app").unwrap();
    let loaded = Cell::new(false);
    let err = verify_authentic_timestamp(
        p,
        &env,
        later,
        || {
            loaded.set(true);
            Ok(vec![])
        },
        no_revocation,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::CertificateExpired { subject, .. } if subject.contains("Signer")),
        "{err}"
    );
    assert!(!loaded.get(), "no tsa store, so no TSA roots are loaded");
    // ... and a timestamp does not help when the policy names no tsa store.
    let stamped = envelope(EnvelopeType::Jws, SystemTime::now() - DAY, 10, Some(&tsa));
    let err = verify_authentic_timestamp(
        p,
        &stamped,
        leaf_not_after(&stamped) + DAY,
        roots_of(&tsa),
        no_revocation,
    )
    .unwrap_err();
    assert!(matches!(err, Error::CertificateExpired { .. }), "{err}");
}

#[test]
fn verify_timestamp_always_versus_after_cert_expiry() {
    let tsa = Tsa::new();
    let plain = envelope(EnvelopeType::Cose, SystemTime::now() - DAY, 10, None);
    let stamped = envelope(EnvelopeType::Cose, SystemTime::now() - DAY, 10, Some(&tsa));
    let now = SystemTime::now();
    let expired = leaf_not_after(&plain) + DAY;

    let always = policy(
        "strict",
        r#","verifyTimestamp":"always""#,
        &["ca:a", "tsa:t"],
    );
    let always = always.select("registry.example/app").unwrap();
    let after = policy(
        "strict",
        r#","verifyTimestamp":"afterCertExpiry""#,
        &["ca:a", "tsa:t"],
    );
    let after = after.select("registry.example/app").unwrap();

    // always: the countersignature is required even while the chain is valid.
    let err =
        verify_authentic_timestamp(always, &plain, now, roots_of(&tsa), no_revocation).unwrap_err();
    assert_eq!(err, Error::TimestampMissing);
    assert!(matches!(
        verify_authentic_timestamp(always, &stamped, now, roots_of(&tsa), no_revocation),
        Ok(AuthenticTime::Timestamp(_))
    ));

    // afterCertExpiry: unexpired chain → checked at verification time, the token not read.
    let loaded = Cell::new(false);
    let loader = || {
        loaded.set(true);
        Ok(vec![tsa.root.clone()])
    };
    assert!(matches!(
        verify_authentic_timestamp(after, &plain, now, loader, no_revocation),
        Ok(AuthenticTime::VerificationTime(t)) if t == now
    ));
    assert!(!loaded.get());
    // Expired chain → the countersignature is required and verified.
    let err = verify_authentic_timestamp(after, &plain, expired, roots_of(&tsa), no_revocation)
        .unwrap_err();
    assert_eq!(err, Error::TimestampMissing);
    assert!(matches!(
        verify_authentic_timestamp(
            after,
            &stamped,
            leaf_not_after(&stamped) + DAY,
            roots_of(&tsa),
            no_revocation
        ),
        Ok(AuthenticTime::Timestamp(_))
    ));
}

#[test]
fn the_timestamp_must_fall_inside_the_signing_chain_validity() {
    let tsa = Tsa::new();
    let doc = policy("strict", "", &["ca:a", "tsa:t"]);
    let p = doc.select("registry.example/app").unwrap();
    // Leaf expired ten days before the TSA's genTime.
    let env = envelope(
        EnvelopeType::Jws,
        SystemTime::now() - 20 * DAY,
        10,
        Some(&tsa),
    );
    let err = verify_authentic_timestamp(p, &env, SystemTime::now(), roots_of(&tsa), no_revocation)
        .unwrap_err();
    assert!(
        matches!(&err, Error::TimestampAfterValidity { subject, .. } if subject.contains("Signer")),
        "{err}"
    );
    assert!(
        err.to_string().contains("can be after certificate"),
        "{err}"
    );
    // A chain that starts tomorrow.
    let env = envelope(EnvelopeType::Jws, SystemTime::now() + DAY, 10, Some(&tsa));
    let err = verify_authentic_timestamp(
        p,
        &env,
        SystemTime::now() + 2 * DAY,
        roots_of(&tsa),
        no_revocation,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::TimestampBeforeValidity { .. }),
        "{err}"
    );
}

#[test]
fn the_tsa_store_decides_which_timestamps_are_trusted() {
    let tsa = Tsa::new();
    let other = Tsa::with(TsaOptions {
        root_cn: "Other TSA Root",
        ..TsaOptions::default()
    });
    let doc = policy("strict", "", &["ca:a", "tsa:t"]);
    let p = doc.select("registry.example/app").unwrap();
    let env = envelope(EnvelopeType::Jws, SystemTime::now() - DAY, 10, Some(&tsa));
    let now = SystemTime::now();
    let err =
        verify_authentic_timestamp(p, &env, now, roots_of(&other), no_revocation).unwrap_err();
    assert!(matches!(err, Error::TimestampInvalid { .. }), "{err}");
    // A store that cannot be read, an empty one, and one holding a non-root.
    let err = verify_authentic_timestamp(
        p,
        &env,
        now,
        || Err("the trust store \"tsa:t\" does not exist".to_owned()),
        no_revocation,
    )
    .unwrap_err();
    assert!(matches!(err, Error::TsaTrustStore { .. }), "{err}");
    let err = verify_authentic_timestamp(p, &env, now, || Ok(vec![]), no_revocation).unwrap_err();
    assert!(matches!(err, Error::NoTsaCertificates { .. }), "{err}");
    let inter = tsa.intermediate.clone();
    let err =
        verify_authentic_timestamp(p, &env, now, || Ok(vec![inter]), no_revocation).unwrap_err();
    assert!(
        matches!(&err, Error::TimestampInvalid { reason } if reason.contains("not a root")),
        "{err}"
    );
    // The TSA chain revocation check runs on the verified chain and can fail the step.
    let seen = Cell::new(0);
    verify_authentic_timestamp(p, &env, now, roots_of(&tsa), |chain| {
        seen.set(chain.len());
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.get(), 3);
    let err = verify_authentic_timestamp(p, &env, now, roots_of(&tsa), |_| {
        Err("OCSP: revoked".to_owned())
    })
    .unwrap_err();
    assert!(matches!(err, Error::TsaRevocation { .. }), "{err}");
}

/// A JWS envelope with the `notary.x509.signingAuthority` scheme, built by hand.
fn signing_authority_envelope(
    issued: SystemTime,
    leaf_days: u32,
    authentic: SystemTime,
) -> Envelope {
    let (key, chain) = chain_at(issued, leaf_days);
    let protected = serde_json::json!({
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime"],
        "cty": PAYLOAD_MEDIA_TYPE,
        "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
        "io.cncf.notary.authenticSigningTime": rfc3339::format(authentic).unwrap(),
    });
    let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
    let payload = URL_SAFE_NO_PAD.encode(payload());
    let input = format!("{protected}.{payload}");
    let sig = JwsSigner::sign(&key, JwsAlgorithm::Es256, input.as_bytes()).unwrap();
    let x5c: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
    let env = serde_json::json!({
        "payload": payload,
        "protected": protected,
        "header": {"x5c": x5c},
        "signature": URL_SAFE_NO_PAD.encode(sig),
    });
    envelope::verify(EnvelopeType::Jws, env.to_string().as_bytes())
        .unwrap()
        .envelope
}

#[test]
fn signing_authority_uses_the_authentic_signing_time() {
    let doc = policy("strict", "", &["signingAuthority:sa", "tsa:t"]);
    let p = doc.select("registry.example/app").unwrap();
    let issued = SystemTime::now() - 20 * DAY;
    let inside = signing_authority_envelope(issued, 10, issued + DAY);
    let outside = signing_authority_envelope(issued, 10, issued + 15 * DAY);
    let untouched = || -> Result<Vec<Certificate>, String> {
        panic!("no TSA is involved under notary.x509.signingAuthority")
    };
    // The leaf expired ten days ago; the authentic signing time is what counts.
    assert!(matches!(
        verify_authentic_timestamp(p, &inside, SystemTime::now(), untouched, no_revocation),
        Ok(AuthenticTime::SigningTime(_))
    ));
    let err = verify_authentic_timestamp(p, &outside, SystemTime::now(), untouched, no_revocation)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotValidAtSigningTime { subject, .. } if subject.contains("Signer")),
        "{err}"
    );
}

/// Runs the validations in order with the authentic timestamp result given, the others
/// passing, and returns the verdict.
fn run_levels(
    level: &str,
    extra: &str,
    timestamp: Result<(), String>,
) -> signet_notation_policy::Verdict {
    let doc = policy(level, extra, &["ca:a", "tsa:t"]);
    let p = doc.select("registry.example/app").unwrap();
    let mut outcome = Outcome::new(p);
    for v in Validation::SPEC_ORDER {
        if !outcome.should_run(v) {
            continue;
        }
        let result = if v == Validation::AuthenticTimestamp {
            timestamp.clone()
        } else {
            Ok(())
        };
        if outcome.record(v, result).unwrap() == Flow::Stop {
            break;
        }
    }
    outcome.finish().unwrap()
}

#[test]
fn levels_decide_what_a_failed_timestamp_check_does() {
    let tsa = Tsa::new();
    let env = envelope(EnvelopeType::Jws, SystemTime::now() - DAY, 10, None);
    let doc = policy("strict", "", &["ca:a", "tsa:t"]);
    let p = doc.select("registry.example/app").unwrap();
    let failed = verify_authentic_timestamp(
        p,
        &env,
        leaf_not_after(&env) + DAY,
        roots_of(&tsa),
        no_revocation,
    )
    .map(|_| ())
    .map_err(|e| e.to_string());
    assert!(failed.is_err());

    let enforced = |v: &signet_notation_policy::Verdict| {
        v.failure.as_ref().map(|f| f.validation) == Some(Validation::AuthenticTimestamp)
    };
    let logged = |v: &signet_notation_policy::Verdict| {
        v.is_success()
            && v.logged
                .iter()
                .any(|f| f.validation == Validation::AuthenticTimestamp)
    };
    // strict enforces; permissive and audit log.
    assert!(enforced(&run_levels("strict", "", failed.clone())));
    assert!(logged(&run_levels("permissive", "", failed.clone())));
    assert!(logged(&run_levels("audit", "", failed.clone())));
    // Overrides both ways.
    let to_log = r#","override":{"authenticTimestamp":"log"}"#;
    let to_enforce = r#","override":{"authenticTimestamp":"enforce"}"#;
    assert!(logged(&run_levels("strict", to_log, failed.clone())));
    assert!(enforced(&run_levels(
        "permissive",
        to_enforce,
        failed.clone()
    )));
    assert!(enforced(&run_levels("audit", to_enforce, failed.clone())));
    // The failure is reported with its reason.
    let v = run_levels("strict", "", failed.clone());
    assert_eq!(
        v.failure.unwrap().reason,
        "no timestamp countersignature was found in the signature envelope"
    );
    // A passing check leaves nothing logged.
    assert!(run_levels("strict", "", Ok(())).logged.is_empty());
    // skip: nothing runs.
    let doc = TrustPolicyDocument::from_json(
        br#"{"version":"1.0","trustPolicies":[{"name":"s","registryScopes":["registry.example/app"],
        "signatureVerification":{"level":"skip"}}]}"#,
    )
    .unwrap();
    let outcome = Outcome::new(doc.select("registry.example/app").unwrap());
    assert!(!outcome.should_run(Validation::AuthenticTimestamp));
    // authenticTimestamp cannot be skipped by an override.
    assert!(
        TrustPolicyDocument::from_json(
            br#"{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
            "signatureVerification":{"level":"strict","override":{"authenticTimestamp":"skip"}},
            "trustStores":["ca:a","tsa:t"],"trustedIdentities":["*"]}]}"#
        )
        .is_err()
    );
}
