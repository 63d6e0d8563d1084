//! The service with an OIDC identity provider: RS256 tokens checked against a JWKS served
//! over HTTP on loopback, key rotation picked up on an unknown `kid`, confusion and
//! cross-organisation tokens refused, local tokens off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Client, Service, seed_product};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.test";
const AUDIENCE: &str = "signet-api";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwk(key: &RsaKeyPair, kid: &str) -> Value {
    let public = key.public_key();
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero())})
}

fn claims(org: &str, user: &str, groups: &[&str]) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": user, "org": org, "groups": groups,
        "iat": now, "nbf": now, "exp": now + 600})
}

fn rs256(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "RS256", "typ": "JWT", "kid": kid})
            .to_string()
            .as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

/// Serves `keys` as a JWKS at /jwks; the keys can be replaced.
async fn idp(keys: Arc<Mutex<Vec<Value>>>) -> String {
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let keys = keys.clone();
            async move { axum::Json(json!({"keys": keys.lock().unwrap().clone()})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn client(svc: &Service, org: &str, token: String) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: format!("{}/{org}/api/v1", svc.url),
        token: Some(token),
    }
}

#[tokio::test]
async fn oidc_tokens_rotation_and_refusals() {
    let k1 = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let k2 = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let keys = Arc::new(Mutex::new(vec![jwk(&k1, "k1")]));
    let jwks_url = idp(keys.clone()).await;
    let svc = Service::start_with(
        None,
        &[
            ("SIGNET_OIDC_ISSUER", ISSUER),
            ("SIGNET_OIDC_AUDIENCE", AUDIENCE),
            ("SIGNET_OIDC_JWKS_URL", &jwks_url),
            ("SIGNET_LOCAL_TOKENS", "false"),
        ],
    )
    .await;
    let admin = client(
        &svc,
        "acme",
        rs256(&k1, "k1", &claims("acme", "oid:ada", &["admins"])),
    );
    let (status, body) = admin
        .post("/products", &seed_product("oci", "ECDSAP256"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // Local tokens are off.
    let local = client(&svc, "acme", svc.token("acme", "ada", &["admins"]));
    assert_eq!(local.get("/products").await.0, StatusCode::UNAUTHORIZED);
    // A token for another organisation.
    let other = client(
        &svc,
        "acme",
        rs256(&k1, "k1", &claims("globex", "oid:ada", &["admins"])),
    );
    let (status, body) = other.get("/products").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["detail"].as_str().unwrap().contains("globex"),
        "{body}"
    );
    // HS256 keyed with the RSA public key (algorithm confusion).
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": "k1"}).to_string().as_bytes()),
        b64(claims("acme", "oid:eve", &["admins"])
            .to_string()
            .as_bytes())
    );
    let mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, k1.public_key().as_ref()),
        input.as_bytes(),
    );
    let forged = client(&svc, "acme", format!("{input}.{}", b64(mac.as_ref())));
    let (status, body) = forged.get("/products").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The provider rotates to k2: a k2 token makes the service fetch the key set again.
    let rotated = client(
        &svc,
        "acme",
        rs256(&k2, "k2", &claims("acme", "oid:ada", &["admins"])),
    );
    keys.lock().unwrap().push(jwk(&k2, "k2"));
    let (status, body) = rotated.get("/products").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    // Groups come from the token: without admins, no product creation.
    let dev = client(
        &svc,
        "acme",
        rs256(&k2, "k2", &claims("acme", "oid:dev", &["devs"])),
    );
    assert_eq!(
        dev.post("/products", &seed_product("x", "ECDSAP256"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}
