//! End-to-end tests of token issuing and validation with real keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384, RsaEncoding, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use signet_auth::{
    Authenticator, Error, Jwks, KEY_FILE_NAME, LocalIssuer, OidcConfig, OidcVerifier, parse_ttl,
};

const ISSUER: &str = "https://idp.example.com";
const AUDIENCE: &str = "signet-api";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Builds a compact JWS, signing `header.payload` with `sign`.
fn jws(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

fn oidc_claims() -> Value {
    let t = secs(now());
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "org": "acme",
        "groups": ["admins", "devs"], "iat": t, "nbf": t, "exp": t + 600,
    })
}

fn rsa_key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
}

fn rsa_sign(encoding: &'static dyn RsaEncoding, msg: &[u8]) -> Vec<u8> {
    let key = rsa_key();
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(encoding, &SystemRandom::new(), msg, &mut sig)
        .unwrap();
    sig
}

fn rsa_jwk(kid: &str, alg: Option<&str>) -> Value {
    let public = rsa_key().public_key();
    let mut jwk = json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero()),
    });
    if let Some(alg) = alg {
        jwk["alg"] = json!(alg);
    }
    jwk
}

fn jwks(keys: &[Value]) -> Jwks {
    Jwks::from_json(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
}

fn oidc(keys: &[Value]) -> Authenticator {
    let verifier = OidcVerifier::new(OidcConfig::new(ISSUER, AUDIENCE), jwks(keys));
    Authenticator::new(None, Some(verifier))
}

fn rs256_token(kid: &str, claims: &Value) -> String {
    jws(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        claims,
        |m| rsa_sign(&RSA_PKCS1_SHA256, m),
    )
}

fn local(dir: &Path) -> (LocalIssuer, Authenticator) {
    let issuer = LocalIssuer::open_or_create(dir).unwrap();
    let auth = Authenticator::new(Some(&issuer), None);
    (issuer, auth)
}

fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Re-encodes one part of a token after `edit`.
fn edit_part(token: &str, index: usize, edit: impl Fn(Vec<u8>) -> Vec<u8>) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[index] = b64(&edit(URL_SAFE_NO_PAD.decode(&parts[index]).unwrap()));
    parts.join(".")
}

// ---------------------------------------------------------------- local issuer

#[test]
fn local_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let token = issuer
        .issue(
            "acme",
            "alice",
            &groups(&["devs", "admins"]),
            Duration::from_secs(3600),
            now(),
        )
        .unwrap();
    let principal = auth
        .authenticate(&token, "acme", now() + Duration::from_secs(10))
        .unwrap();
    assert_eq!(principal.org, "acme");
    assert_eq!(principal.user, "alice");
    assert_eq!(
        principal.expires_at,
        Some(now() + Duration::from_secs(3600))
    );
    assert_eq!(
        principal.groups,
        BTreeSet::from(["admins".to_owned(), "devs".to_owned()])
    );

    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "signet-local");
    assert_eq!(claims["aud"], "signet");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["org"], "acme");
    assert_eq!(claims["iat"], secs(now()));
    assert_eq!(claims["nbf"], secs(now()));
    assert_eq!(claims["exp"], secs(now()) + 3600);
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    let other = issuer
        .issue("acme", "alice", &[], Duration::from_secs(60), now())
        .unwrap();
    let other_claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(other.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_ne!(claims["jti"], other_claims["jti"]);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
}

#[cfg(unix)]
#[test]
fn local_key_file_is_private_pkcs8_pem() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let issuer = LocalIssuer::open_or_create(&data_dir).unwrap();
    let path = data_dir.join(KEY_FILE_NAME);
    assert_eq!(issuer.key_path(), path);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(&body).unwrap();
    Ed25519KeyPair::from_pkcs8(&der).unwrap();
    // No leftover temporary files.
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 1);
    // Debug shows the path, never the key.
    let debug = format!("{issuer:?}");
    assert!(debug.contains(KEY_FILE_NAME));
    assert!(!debug.contains(&body[..20]));
}

#[test]
fn local_key_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let token = {
        let issuer = LocalIssuer::open_or_create(dir.path()).unwrap();
        issuer
            .issue("acme", "bob", &[], Duration::from_secs(3600), now())
            .unwrap()
    };
    let (_, auth) = local(dir.path());
    let principal = auth.authenticate(&token, "acme", now()).unwrap();
    assert_eq!(principal.user, "bob");
    assert!(principal.groups.is_empty());
}

#[test]
fn concurrent_first_use_creates_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let issuers: Vec<LocalIssuer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| LocalIssuer::open_or_create(&data_dir).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let auth = Authenticator::new(Some(&issuers[0]), None);
    for issuer in &issuers {
        let token = issuer
            .issue("acme", "alice", &[], Duration::from_secs(60), now())
            .unwrap();
        auth.authenticate(&token, "acme", now()).unwrap();
    }
    assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 1);
}

#[test]
fn token_from_another_local_issuer_is_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, auth_a) = local(a.path());
    let (issuer_b, _) = local(b.path());
    let token = issuer_b
        .issue("acme", "eve", &[], Duration::from_secs(60), now())
        .unwrap();
    let err = auth_a.authenticate(&token, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::BadSignature), "{err}");
}

#[cfg(unix)]
#[test]
fn group_readable_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    LocalIssuer::open_or_create(dir.path()).unwrap();
    let path = dir.path().join(KEY_FILE_NAME);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = LocalIssuer::open_or_create(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::KeyFilePermissions { mode: 0o644, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("0644") && message.contains("chmod 600"),
        "{message}"
    );
    assert!(!message.contains("BEGIN"));
}

#[test]
fn garbage_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(KEY_FILE_NAME);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path).unwrap(), b"not a key\n").unwrap();
    let err = LocalIssuer::open_or_create(dir.path()).unwrap_err();
    assert!(matches!(err, Error::KeyFileInvalid { .. }), "{err}");
}

#[test]
fn issue_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, _) = local(dir.path());
    let hour = Duration::from_secs(3600);
    assert!(issuer.issue("", "alice", &[], hour, now()).is_err());
    assert!(issuer.issue("acme", "", &[], hour, now()).is_err());
    assert!(
        issuer
            .issue("acme", "alice", &groups(&[""]), hour, now())
            .is_err()
    );
    assert!(
        issuer
            .issue("acme", "alice", &[], Duration::ZERO, now())
            .is_err()
    );
}

#[test]
fn expired_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let token = issuer
        .issue("acme", "alice", &[], Duration::from_secs(3600), now())
        .unwrap();
    let exp = now() + Duration::from_secs(3600);
    // Within the 60 s leeway: still accepted.
    auth.authenticate(&token, "acme", exp + Duration::from_secs(30))
        .unwrap();
    let err = auth
        .authenticate(&token, "acme", exp + Duration::from_secs(61))
        .unwrap_err();
    assert!(
        matches!(err, Error::Expired { expired_at } if expired_at == secs(exp)),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "token expired at 2023-11-14T23:13:20Z; request a new token"
    );
}

#[test]
fn token_not_yet_valid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let later = now() + Duration::from_secs(3600);
    let token = issuer
        .issue("acme", "alice", &[], Duration::from_secs(7200), later)
        .unwrap();
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::NotYetValid { .. }), "{err}");
    // 30 s of clock skew is tolerated.
    auth.authenticate(&token, "acme", later - Duration::from_secs(30))
        .unwrap();
}

#[test]
fn wrong_organisation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let token = issuer
        .issue("acme", "alice", &[], Duration::from_secs(60), now())
        .unwrap();
    let err = auth.authenticate(&token, "globex", now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token is for organisation acme, not globex"
    );
}

#[test]
fn tampered_payload_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let token = issuer
        .issue("acme", "alice", &[], Duration::from_secs(60), now())
        .unwrap();
    let forged = edit_part(&token, 1, |bytes| {
        let mut claims: Value = serde_json::from_slice(&bytes).unwrap();
        claims["org"] = json!("globex");
        claims["groups"] = json!(["admins"]);
        claims.to_string().into_bytes()
    });
    let err = auth.authenticate(&forged, "globex", now()).unwrap_err();
    assert!(matches!(err, Error::BadSignature), "{err}");
}

#[test]
fn tampered_signature_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, auth) = local(dir.path());
    let token = issuer
        .issue("acme", "alice", &[], Duration::from_secs(60), now())
        .unwrap();
    let forged = edit_part(&token, 2, |mut sig| {
        sig[10] ^= 0x01;
        sig
    });
    let err = auth.authenticate(&forged, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::BadSignature), "{err}");
    let truncated = &token[..token.len() - 4];
    assert!(auth.authenticate(truncated, "acme", now()).is_err());
}

#[test]
fn alg_none_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, auth_local) = local(dir.path());
    let auth_oidc = oidc(&[rsa_jwk("k1", None)]);
    let t = secs(now());
    let local_claims = json!({
        "iss": "signet-local", "aud": "signet", "sub": "mallory", "org": "acme",
        "iat": t, "nbf": t, "exp": t + 600,
    });
    for (auth, claims) in [(&auth_local, &local_claims), (&auth_oidc, &oidc_claims())] {
        for alg in ["none", "None", "NONE"] {
            let header = b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
            let payload = b64(claims.to_string().as_bytes());
            for token in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}.c2ln"),
            ] {
                let err = auth.authenticate(&token, "acme", now()).unwrap_err();
                assert!(
                    matches!(&err, Error::AlgorithmNotAccepted { alg: a } if a == alg),
                    "{err}"
                );
                assert_eq!(
                    err.to_string(),
                    format!("token algorithm {alg} is not accepted")
                );
            }
        }
    }
}

#[test]
fn hmac_with_rsa_public_key_is_refused() {
    let public = rsa_key().public_key();
    let pkcs1_der = public.as_ref().to_vec();
    let spki_der = public.as_der().unwrap().as_ref().to_vec();
    let spki_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(&spki_der)
    );
    // The same RSA key published with and without an explicit alg, and once
    // (wrongly) labelled HS256.
    let auth = oidc(&[
        rsa_jwk("k1", None),
        rsa_jwk("k2", Some("RS256")),
        rsa_jwk("k3", Some("HS256")),
    ]);
    for secret in [pkcs1_der, spki_der, spki_pem.into_bytes()] {
        for (alg, hmac_alg) in [
            ("HS256", hmac::HMAC_SHA256),
            ("HS384", hmac::HMAC_SHA384),
            ("HS512", hmac::HMAC_SHA512),
        ] {
            for kid in ["k1", "k2", "k3"] {
                let token = jws(&json!({"alg": alg, "kid": kid}), &oidc_claims(), |m| {
                    hmac::sign(&hmac::Key::new(hmac_alg, &secret), m)
                        .as_ref()
                        .to_vec()
                });
                let err = auth.authenticate(&token, "acme", now()).unwrap_err();
                assert!(matches!(err, Error::AlgorithmNotAccepted { .. }), "{err}");
                let err = auth
                    .oidc()
                    .unwrap()
                    .authenticate(&token, "acme", now())
                    .unwrap_err();
                assert!(matches!(err, Error::AlgorithmNotAccepted { .. }), "{err}");
            }
        }
    }
    // The HS256-labelled JWK was set aside, and says so.
    let token = rs256_token("k3", &oidc_claims());
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::KeyNotUsable { .. }), "{err}");
    assert!(!err.is_unknown_key());
}

// ---------------------------------------------------------------------- OIDC

#[test]
fn rs256_token_verifies_with_rsa_jwks() {
    let auth = oidc(&[rsa_jwk("rsa-1", None)]);
    let token = rs256_token("rsa-1", &oidc_claims());
    let principal = auth.authenticate(&token, "acme", now()).unwrap();
    assert_eq!(
        principal,
        signet_auth::Principal {
            org: "acme".into(),
            user: "alice".into(),
            groups: BTreeSet::from(["admins".into(), "devs".into()]),
            expires_at: Some(now() + Duration::from_secs(600)),
        }
    );
}

#[test]
fn es256_token_verifies_with_ec_jwks_without_kid() {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = key.public_key().as_ref();
    assert_eq!(point.len(), 65);
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])});
    let auth = oidc(&[jwk]);
    let token = jws(&json!({"alg": "ES256"}), &oidc_claims(), |m| {
        key.sign(&SystemRandom::new(), m).unwrap().as_ref().to_vec()
    });
    assert_eq!(
        auth.authenticate(&token, "acme", now()).unwrap().user,
        "alice"
    );
    // An ES256 key does not verify a token claiming RS256.
    let token = jws(&json!({"alg": "RS256"}), &oidc_claims(), |m| {
        rsa_sign(&RSA_PKCS1_SHA256, m)
    });
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::AlgorithmMismatch { .. }), "{err}");
}

#[test]
fn eddsa_token_verifies_with_okp_jwks() {
    let key = Ed25519KeyPair::generate().unwrap();
    let jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(key.public_key().as_ref())});
    let auth = oidc(&[jwk, rsa_jwk("rsa", None)]);
    let token = jws(&json!({"alg": "EdDSA", "kid": "ed"}), &oidc_claims(), |m| {
        key.sign(m).as_ref().to_vec()
    });
    assert_eq!(
        auth.authenticate(&token, "acme", now()).unwrap().user,
        "alice"
    );
}

#[test]
fn header_alg_must_match_the_keys_alg() {
    let auth = oidc(&[rsa_jwk("k1", Some("RS256"))]);
    let token = jws(&json!({"alg": "RS384", "kid": "k1"}), &oidc_claims(), |m| {
        rsa_sign(&RSA_PKCS1_SHA384, m)
    });
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert!(matches!(err, Error::AlgorithmMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "token algorithm RS384 does not match the algorithm RS256 of its signing key"
    );
    // A key without alg is RS256, so RS384 is refused there too.
    let auth = oidc(&[rsa_jwk("k1", None)]);
    assert!(matches!(
        auth.authenticate(&token, "acme", now()).unwrap_err(),
        Error::AlgorithmMismatch { .. }
    ));
    // And a key pinned to RS384 accepts it.
    let auth = oidc(&[rsa_jwk("k1", Some("RS384"))]);
    auth.authenticate(&token, "acme", now()).unwrap();
}

#[test]
fn wrong_issuer_is_refused() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    let mut claims = oidc_claims();
    claims["iss"] = json!("https://evil.example.com");
    let token = rs256_token("k1", &claims);
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token issuer https://evil.example.com is not trusted"
    );
    // The verifier checks the issuer itself, too.
    let err = auth
        .oidc()
        .unwrap()
        .authenticate(&token, "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedIssuer { .. }), "{err}");
    // A local-issuer token is not trusted when no local issuer is configured.
    claims["iss"] = json!("signet-local");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedIssuer { .. }), "{err}");
    // Missing iss.
    claims.as_object_mut().unwrap().remove("iss");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(
        matches!(err, Error::MissingClaim { ref claim } if claim == "iss"),
        "{err}"
    );
}

#[test]
fn wrong_audience_is_refused() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    for aud in [json!("other-api"), json!(["other-api", "more"]), json!([])] {
        let mut claims = oidc_claims();
        claims["aud"] = aud;
        let err = auth
            .authenticate(&rs256_token("k1", &claims), "acme", now())
            .unwrap_err();
        assert!(matches!(err, Error::WrongAudience { .. }), "{err}");
    }
    let mut claims = oidc_claims();
    claims.as_object_mut().unwrap().remove("aud");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::MissingClaim { .. }), "{err}");
}

#[test]
fn audience_array_containing_ours_is_accepted() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    let mut claims = oidc_claims();
    claims["aud"] = json!(["account", AUDIENCE]);
    auth.authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap();
}

#[test]
fn missing_groups_claim_gives_empty_groups() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    let mut claims = oidc_claims();
    claims.as_object_mut().unwrap().remove("groups");
    let principal = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap();
    assert!(principal.groups.is_empty());
    claims["groups"] = json!("admins");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidClaim { .. }), "{err}");
}

#[test]
fn missing_exp_is_refused() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    let mut claims = oidc_claims();
    claims.as_object_mut().unwrap().remove("exp");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(
        matches!(err, Error::MissingClaim { ref claim } if claim == "exp"),
        "{err}"
    );
    claims["exp"] = json!("tomorrow");
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidClaim { .. }), "{err}");
}

#[test]
fn unknown_kid_is_reported_and_fixed_by_new_jwks() {
    let auth = oidc(&[rsa_jwk("old", None)]);
    let token = rs256_token("rotated", &oidc_claims());
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    assert!(err.is_unknown_key(), "{err}");
    assert_eq!(
        err.to_string(),
        "unknown key id rotated: the identity provider's key set does not contain it"
    );
    auth.oidc()
        .unwrap()
        .set_jwks(jwks(&[rsa_jwk("old", None), rsa_jwk("rotated", None)]));
    auth.authenticate(&token, "acme", now()).unwrap();
}

#[test]
fn token_without_kid_needs_a_single_key() {
    let token = jws(&json!({"alg": "RS256"}), &oidc_claims(), |m| {
        rsa_sign(&RSA_PKCS1_SHA256, m)
    });
    oidc(&[rsa_jwk("k1", None)])
        .authenticate(&token, "acme", now())
        .unwrap();
    let err = oidc(&[rsa_jwk("k1", None), rsa_jwk("k2", None)])
        .authenticate(&token, "acme", now())
        .unwrap_err();
    assert!(matches!(err, Error::MissingKeyId { keys: 2 }), "{err}");
}

#[test]
fn oidc_claim_names_are_configurable() {
    let config = OidcConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        groups_claim: "roles".into(),
        user_claim: "email".into(),
        org_claim: "tenant".into(),
    };
    let auth = Authenticator::new(
        None,
        Some(OidcVerifier::new(config, jwks(&[rsa_jwk("k1", None)]))),
    );
    let t = secs(now());
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "123", "email": "carol@example.com",
        "tenant": "acme", "roles": ["signers"], "exp": t + 60,
    });
    let principal = auth
        .authenticate(&rs256_token("k1", &claims), "acme", now())
        .unwrap();
    assert_eq!(principal.user, "carol@example.com");
    assert_eq!(principal.groups, BTreeSet::from(["signers".to_owned()]));
    let err = auth
        .authenticate(&rs256_token("k1", &claims), "globex", now())
        .unwrap_err();
    assert!(matches!(err, Error::WrongOrganisation { .. }), "{err}");

    let parsed: OidcConfig =
        serde_json::from_str(r#"{"issuer": "https://i", "audience": "a"}"#).unwrap();
    assert_eq!(parsed, OidcConfig::new("https://i", "a"));
    let typo = r#"{"issuer": "https://i", "audience": "a", "group_claim": "roles"}"#;
    assert!(serde_json::from_str::<OidcConfig>(typo).is_err());
}

#[test]
fn jwks_skips_keys_it_cannot_use() {
    let mut enc = rsa_jwk("enc", None);
    enc["use"] = json!("enc");
    let oct = json!({"kty": "oct", "kid": "hmac", "k": b64(b"secret")});
    let small = json!({"kty": "RSA", "kid": "small", "n": b64(&[0xc5; 128]), "e": "AQAB"});
    let set = jwks(&[enc.clone(), oct.clone(), small, rsa_jwk("good", None)]);
    assert_eq!(set.len(), 1);
    let debug = format!("{set:?}");
    assert!(debug.contains("good") && !debug.contains("AQAB"), "{debug}");

    // Only unusable keys: an error.
    let err = Jwks::from_json(json!({"keys": [enc, oct]}).to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, Error::InvalidJwks { .. }), "{err}");
    assert!(Jwks::from_json(b"not json").is_err());
    assert!(Jwks::from_json(b"{\"keys\": 1}").is_err());
    // Duplicate kids are ambiguous.
    let dup = json!({"keys": [rsa_jwk("k", None), rsa_jwk("k", Some("RS512"))]});
    assert!(Jwks::from_json(dup.to_string().as_bytes()).is_err());
}

#[test]
fn errors_never_contain_the_token() {
    let auth = oidc(&[rsa_jwk("k1", None)]);
    let mut claims = oidc_claims();
    claims["exp"] = json!(1);
    let token = rs256_token("k1", &claims);
    let err = auth.authenticate(&token, "acme", now()).unwrap_err();
    for part in token.split('.') {
        assert!(!err.to_string().contains(part));
        assert!(!format!("{err:?}").contains(part));
    }
    for garbage in ["", "abc", "a.b", "a.b.c.d", "!!.??.**"] {
        let err = auth.authenticate(garbage, "acme", now()).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }
}

#[test]
fn ttl_parsing_is_exposed() {
    assert_eq!(parse_ttl("1h30m").unwrap(), Duration::from_secs(5400));
    assert!(parse_ttl("soon").is_err());
}
