//! The service's PKI end to end, in process: profiles, the internal CA, DetachedSignature
//! signing with an issued certificate, the external-root CSR flow with openssl as the
//! external CA, client registration and encrypted secrets, the authorization matrix of the new
//! endpoints, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Service, signing_body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_pki::cert::Certificate;
use signet_testkit::openssl_pki::{Hierarchy, KeyAlg, openssl};

const PROFILE: &str = r#"{"name":"oci-signing","certificateType":"ENDENTITY","validityDays":365,"keyUsage":["digitalSignature"],"extendedKeyUsage":["codeSigning"],"subject":{"C":"FI","O":"Acme"},"email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;

fn profile_body(name: &str, text: &str) -> Value {
    json!({"profileName": name, "profileType": "END", "profileYAML": STANDARD.encode(text)})
}

async fn create_profile(svc: &Service) -> String {
    let (status, body) = svc
        .admin()
        .post("/cas/profiles", &profile_body("oci-signing", PROFILE))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["profileType"], 1);
    assert_eq!(body["profile"]["oidcIssuer"], "https://acme.example");
    body["id"].as_str().unwrap().to_owned()
}

/// The seed's DetachedSignature product (writers request, approvers approve, `fast` skips).
fn detached_product(name: &str, profile: &str, external: bool) -> Value {
    json!({
        "name": name,
        "description": "Product for OCI container signing with detached signature",
        "productType": "Production",
        "enabled": true,
        "caInfo": [{
            "CN": format!("OCI signing certificate for {name}"),
            "description": "End-Entity certificate for OCI container signing",
            "externalRoot": external,
            "useCase": "CodeSigning",
            "keyType": "ECDSAP256",
            "certificateType": "ENDENTITY",
            "profileID": profile
        }],
        "rndKeys": [],
        "productOperations": [{
            "name": "OCI detached signature",
            "description": "Generate detached signature for OCI containers",
            "operationType": "DetachedSignature",
            "approvalRule": {
                "name": "OCI signing rule",
                "description": "Rule for OCI container signing",
                "allowedGroups": ["writers"],
                "approvalGroups": ["approvers"],
                "blanketGroups": ["fast"]
            }
        }]
    })
}

fn leaf_of(pem: &str) -> Certificate {
    Certificate::parse_pem_bundle(pem).unwrap().remove(0)
}

fn verify_with(cert_pem: &str, data: &[u8], signature_b64: &str) {
    let key = leaf_of(cert_pem).public_key().unwrap();
    key.verify(data, &STANDARD.decode(signature_b64).unwrap())
        .expect("signature verifies with the certificate's key");
}

async fn org_roots(svc: &Service) -> (Vec<Certificate>, Vec<Certificate>) {
    let (status, chain) = svc
        .requester()
        .call_raw(Method::GET, "/cas/internal/chain", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut certs = Certificate::parse_pem_bundle(std::str::from_utf8(&chain).unwrap()).unwrap();
    let root = certs.pop().unwrap();
    (certs, vec![root])
}

#[tokio::test]
async fn internal_ca_issues_and_detached_signatures_verify_to_the_org_root() {
    let svc = Service::start().await;
    let profile = create_profile(&svc).await;
    let (status, _) = svc
        .requester()
        .call_raw(Method::GET, "/cas/internal/chain", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = svc
        .admin()
        .post(
            "/cas/internal",
            &json!({"subject": "CN=Acme Root CA,O=Acme,C=FI"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = svc
        .admin()
        .post("/cas/internal", &json!({"subject": "CN=Other,O=Acme"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (product, op) = svc
        .approved_product_json(detached_product("detached", &profile, false))
        .await;
    let (_, got) = svc.requester().get(&format!("/products/{product}")).await;
    assert_eq!(got["caInfo"][0]["state"], 16, "{got}");
    assert!(got["caInfo"][0]["id"].is_string());

    // Approved at once (blanket) and signed with the certificate's key.
    let data = b"{\"critical\":{}}";
    let (status, req) = svc
        .fast_requester()
        .post("/imagesignings", &signing_body(&product, &op, data))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 16, "{req}");
    let cert = req["certificate"].as_str().unwrap();
    verify_with(cert, data, req["signature"].as_str().unwrap());
    let leaf = leaf_of(cert);
    assert!(
        leaf.subject()
            .contains("OCI signing certificate for detached"),
        "{}",
        leaf.subject()
    );
    let ident = signet_pki::identity::identity_of(&leaf).unwrap();
    assert_eq!(ident.subject, "ci@acme.example");
    assert_eq!(ident.issuer.as_deref(), Some("https://acme.example"));
    let (intermediates, roots) = org_roots(&svc).await;
    let chain = Certificate::parse_pem_bundle(req["chain"].as_str().unwrap()).unwrap();
    assert_eq!(chain.len(), 2, "intermediate and root");
    assert_eq!(chain[1], roots[0]);
    signet_pki::chain::verify_code_signing(&leaf, &intermediates, &roots, SystemTime::now())
        .expect("the leaf chains to the org's root");

    // With approval: the certificate comes with the finished request too.
    let (status, req) = svc
        .requester()
        .post("/imagesignings", &signing_body(&product, &op, b"second"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert!(req.get("certificate").is_none());
    let id = req["id"].as_str().unwrap();
    let (status, _) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    assert_eq!(got["state"], 16);
    verify_with(
        got["certificate"].as_str().unwrap(),
        b"second",
        got["signature"].as_str().unwrap(),
    );

    let (status, body) = svc.admin().get("/audittrails/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true, "{body}");
}

fn to_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

async fn upload(svc: &Service, cert_id: &str, pem: &str) -> (StatusCode, Value) {
    svc.admin()
        .call(
            Method::PATCH,
            &format!("/cas/cas/{cert_id}"),
            Some(to_body(&json!({"chain": STANDARD.encode(pem)}))),
        )
        .await
}

#[tokio::test]
async fn external_root_csr_is_signed_by_openssl_and_the_uploaded_chain_is_checked() {
    let svc = Service::start().await;
    let profile = create_profile(&svc).await;
    let (product, op) = svc
        .approved_product_json(detached_product("external", &profile, true))
        .await;
    let (_, got) = svc.admin().get(&format!("/products/{product}")).await;
    let entry = &got["caInfo"][0];
    assert_eq!(entry["state"], 1, "{got}");
    let cert_id = entry["id"].as_str().unwrap().to_owned();

    // No certificate yet: signing refuses with a message that says what to do.
    let (status, body) = svc
        .fast_requester()
        .post("/imagesignings", &signing_body(&product, &op, b"x"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("certificate upload"),
        "{body}"
    );

    // The CSR, signed by openssl acting as the external CA.
    let (status, ca_info) = svc.admin().get(&format!("/cas/cas/{cert_id}")).await;
    assert_eq!(status, StatusCode::OK, "{ca_info}");
    let csr = STANDARD.decode(ca_info["csr"].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ext = Hierarchy::seed002(&dir.path().join("ext"), KeyAlg::EcP256);
    let d = dir.path().join("ext");
    write(&d, "service.csr", std::str::from_utf8(&csr).unwrap());
    openssl(&d, &["req", "-in", "service.csr", "-noout", "-verify"]);
    openssl(
        &d,
        &[
            "x509",
            "-req",
            "-in",
            "service.csr",
            "-CA",
            "intermediate.pem",
            "-CAkey",
            "intermediate-key.pem",
            "-copy_extensions",
            "copy",
            "-days",
            "365",
            "-out",
            "service.pem",
        ],
    );
    let good = format!(
        "{}{}{}",
        read(&d, "service.pem"),
        read(&d, "intermediate.pem"),
        read(&d, "root.pem")
    );

    // Bad uploads, each refused with a clear message.
    let other_key = format!(
        "{}{}{}",
        read(&d, "leaf.pem"),
        read(&d, "intermediate.pem"),
        read(&d, "root.pem")
    );
    let (status, body) = upload(&svc, &cert_id, &other_key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("key"), "{body}");
    let unlinked = format!("{}{}", read(&d, "service.pem"), read(&d, "root.pem"));
    let (status, body) = upload(&svc, &cert_id, &unlinked).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("issued by"),
        "{body}"
    );
    let (status, body) = upload(&svc, &cert_id, "not a certificate").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = svc
        .admin()
        .call(
            Method::PATCH,
            &format!("/cas/cas/{cert_id}"),
            Some(to_body(&json!({"chain": "%%%"}))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    ext.sign_csr_dated(
        "service.csr",
        "service-expired.pem",
        "20200101000000Z",
        "20210101000000Z",
    );
    let expired = format!(
        "{}{}{}",
        read(&d, "service-expired.pem"),
        read(&d, "intermediate.pem"),
        read(&d, "root.pem")
    );
    let (status, body) = upload(&svc, &cert_id, &expired).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // Only admins upload.
    let (status, _) = svc
        .requester()
        .call(
            Method::PATCH,
            &format!("/cas/cas/{cert_id}"),
            Some(to_body(&json!({"chain": STANDARD.encode(&good)}))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = upload(&svc, &cert_id, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], 16);
    let (_, got) = svc.admin().get(&format!("/products/{product}")).await;
    assert_eq!(got["caInfo"][0]["state"], 16, "{got}");

    let (status, req) = svc
        .fast_requester()
        .post("/imagesignings", &signing_body(&product, &op, b"signed"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 16, "{req}");
    verify_with(
        req["certificate"].as_str().unwrap(),
        b"signed",
        req["signature"].as_str().unwrap(),
    );
    let roots = Certificate::parse_pem_bundle(&read(&d, "root.pem")).unwrap();
    let inter = Certificate::parse_pem_bundle(req["chain"].as_str().unwrap()).unwrap();
    signet_pki::chain::verify_code_signing(
        &leaf_of(req["certificate"].as_str().unwrap()),
        &inter,
        &roots,
        SystemTime::now(),
    )
    .expect("chains to the external root");
}

#[tokio::test]
async fn clients_register_approve_and_receive_encrypted_secrets() {
    let svc = Service::start().await;
    let profile = create_profile(&svc).await;
    let (product, _) = svc
        .approved_product_json(detached_product("secrets", &profile, false))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genrsa", "-out", "client.private", "2048"]);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "client.private",
            "-pubout",
            "-out",
            "client.public",
        ],
    );
    // The hosted client sends base64 with line breaks (Python's base64.encodebytes).
    let encoded = STANDARD.encode(read(d, "client.public"));
    let with_breaks: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let registration = json!({"name": "ci", "description": "CI runner", "idProduct": product,
        "clientType": "ProductionPC", "encryptionPublicKey": with_breaks});

    // Who may register: allowedGroups only, and only for themselves.
    let (status, _) = svc
        .approver()
        .post("/registrations/clients", &registration)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut for_other = registration.clone();
    for_other["clientUser"] = json!("someone-else");
    let (status, body) = svc
        .requester()
        .post("/registrations/clients", &for_other)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().starts_with("clientUser"),
        "{body}"
    );
    let mut bad_key = registration.clone();
    bad_key["encryptionPublicKey"] = json!(STANDARD.encode("garbage"));
    let (status, body) = svc
        .requester()
        .post("/registrations/clients", &bad_key)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, client) = svc
        .requester()
        .post("/registrations/clients", &registration)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{client}");
    assert_eq!(client["state"], 2);
    assert_eq!(client["clientUser"], "wes");
    let client_id = client["id"].as_str().unwrap().to_owned();

    // Pending: nothing.
    let secrets = format!("/distributions/products/{product}/secrets");
    let (status, _) = svc.requester().get(&secrets).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The registrant never approves; an approver does.
    let decision = json!({"requestId": client_id, "decision": "APPROVE"});
    let (status, _) = svc
        .as_user("wes", &["writers", "approvers"])
        .post("/registrations/clients/approvals", &decision)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = svc
        .outsider()
        .post("/registrations/clients/approvals", &decision)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, pending) = svc.approver().get("/registrations/clients/approvals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending["count"], 1, "{pending}");
    let (status, body) = svc
        .approver()
        .post("/registrations/clients/approvals", &decision)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["applied"], true);
    assert_eq!(body["state"], 16);
    let (status, body) = svc
        .approver()
        .post("/registrations/clients/approvals", &decision)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["applied"], false);

    // The secrets: a JWE to the registered key that openssl-made keys open.
    let (status, body) = svc.requester().get(&secrets).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let jwe = body["serializedJWE"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwe.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RSA-OAEP");
    assert_eq!(header["enc"], "A256GCM");
    let key = signet_crypto::PrivateKey::from_unencrypted_pem(&read(d, "client.private")).unwrap();
    let plain: Value =
        serde_json::from_slice(&signet_crypto::jwe::decrypt_compact(&key, jwe).unwrap()).unwrap();
    assert_eq!(plain["id"], product.as_str());
    let entry = &plain["caInfo"][0];
    assert_eq!(entry["cn"], "OCI signing certificate for secrets");
    write(
        d,
        "chain.p7b",
        std::str::from_utf8(
            &STANDARD
                .decode(entry["pkcs7chain"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap(),
    );
    let printed = openssl(
        d,
        &[
            "pkcs7",
            "-in",
            "chain.p7b",
            "-inform",
            "PEM",
            "-print_certs",
        ],
    );
    let printed = String::from_utf8(printed.stdout).unwrap();
    assert_eq!(printed.matches("BEGIN CERTIFICATE").count(), 3, "{printed}");
    assert!(
        printed.contains("OCI signing certificate for secrets"),
        "{printed}"
    );

    // Someone else (even in the same groups) gets nothing.
    let (status, _) = svc.fast_requester().get(&secrets).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A new client of the same user retires the old one; revoking the new one leaves nothing.
    let (status, newer) = svc
        .requester()
        .post("/registrations/clients", &registration)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let newer_id = newer["id"].as_str().unwrap().to_owned();
    let (status, body) = svc
        .approver()
        .post(
            "/registrations/clients/approvals",
            &json!({"requestId": newer_id, "decision": "APPROVE"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["retiredClients"], json!([client_id]));
    let (_, old) = svc
        .requester()
        .get(&format!("/registrations/clients/{client_id}"))
        .await;
    assert_eq!(old["state"], 256);
    let (status, _) = svc.requester().get(&secrets).await;
    assert_eq!(status, StatusCode::OK);
    let (status, revoked) = svc
        .requester()
        .call(
            Method::DELETE,
            &format!("/registrations/clients/{newer_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["state"], 256);
    let (status, _) = svc.requester().get(&secrets).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An EC client gets ECDH-ES+A256KW.
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec.private",
        ],
    );
    openssl(
        d,
        &["ec", "-in", "ec.private", "-pubout", "-out", "ec.public"],
    );
    let mut ec = registration.clone();
    ec["encryptionPublicKey"] = json!(STANDARD.encode(read(d, "ec.public")));
    let (status, ec_client) = svc
        .fast_requester()
        .post("/registrations/clients", &ec)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{ec_client}");
    assert_eq!(ec_client["keyType"], "ECDSAP384");
    let (status, _) = svc
        .approver()
        .post(
            "/registrations/clients/approvals",
            &json!({"requestId": ec_client["id"], "decision": "APPROVE"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = svc.fast_requester().get(&secrets).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let jwe = body["serializedJWE"].as_str().unwrap();
    let key = signet_crypto::PrivateKey::from_unencrypted_pem(&read(d, "ec.private")).unwrap();
    let plain: Value =
        serde_json::from_slice(&signet_crypto::jwe::decrypt_compact(&key, jwe).unwrap()).unwrap();
    assert_eq!(plain["name"], "secrets");

    let (status, body) = svc.admin().get("/audittrails/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true, "{body}");
}

#[tokio::test]
async fn pki_endpoints_authorization_and_bad_input() {
    let svc = Service::start().await;
    let profile = create_profile(&svc).await;
    // Profiles: admins write, admins and product approvers read, nobody else.
    for (who, status) in [
        (svc.requester(), StatusCode::FORBIDDEN),
        (svc.approver(), StatusCode::FORBIDDEN),
        (svc.outsider(), StatusCode::FORBIDDEN),
        (svc.product_approver(), StatusCode::OK),
        (svc.admin(), StatusCode::OK),
    ] {
        let (got, body) = who.get(&format!("/cas/profiles/{profile}")).await;
        assert_eq!(got, status, "{body}");
        let (got, _) = who.get("/cas/profiles").await;
        assert_eq!(got, status);
    }
    for who in [svc.requester(), svc.product_approver(), svc.outsider()] {
        let (got, _) = who.post("/cas/profiles", &profile_body("x", PROFILE)).await;
        assert_eq!(got, StatusCode::FORBIDDEN);
        let (got, _) = who.post("/cas/internal", &json!({"subject": "CN=x"})).await;
        assert_eq!(got, StatusCode::FORBIDDEN);
    }
    let (status, _) = svc.anonymous().get("/cas/profiles").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad profiles name what is wrong.
    for (text, expect) in [
        ("{\"name\":\"x\"}", "email"),
        (
            "{\"name\":\"x\",\"certificateType\":\"LEAF\"}",
            "certificateType",
        ),
        (&PROFILE.replace("365", "0") as &str, "validityDays"),
        (&PROFILE.replace("\"email\"", "\"mail\"") as &str, "mail"),
        ("name: [", "profileYAML"),
    ] {
        let (status, body) = svc
            .admin()
            .post("/cas/profiles", &profile_body("bad", text))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains(expect),
            "{text}: {body}"
        );
    }
    let (status, body) = svc
        .admin()
        .post(
            "/cas/profiles",
            &json!({"profileName": "x", "profileType": "ROOT", "profileYAML": STANDARD.encode(PROFILE)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = svc
        .admin()
        .post("/cas/profiles", &profile_body("oci-signing", PROFILE))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = svc
        .admin()
        .post("/cas/internal", &json!({"subject": "O=no common name"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A product naming an unknown profile, or a CA entry, is refused.
    let (status, body) = svc
        .admin()
        .post(
            "/products",
            &detached_product("p1", "no-such-profile", false),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("profileID"),
        "{body}"
    );
    let mut sub = detached_product("p2", &profile, false);
    sub["caInfo"][0]["certificateType"] = json!("SUBCA");
    let (status, body) = svc.admin().post("/products", &sub).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // CSRs and chains are admin business.
    let (product, _) = svc
        .approved_product_json(detached_product("p3", &profile, true))
        .await;
    let (_, got) = svc.admin().get(&format!("/products/{product}")).await;
    let cert_id = got["caInfo"][0]["id"].as_str().unwrap();
    for who in [svc.requester(), svc.approver(), svc.outsider()] {
        let (status, _) = who.get(&format!("/cas/cas/{cert_id}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = svc.admin().get("/cas/cas/no-such-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = svc
        .admin()
        .call(
            Method::PATCH,
            "/cas/cas/no-such-id",
            Some(to_body(&json!({"chain": STANDARD.encode("x")}))),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = svc
        .admin()
        .call(
            Method::PATCH,
            &format!("/cas/cas/{cert_id}"),
            Some(to_body(&json!({"chain": "eA==", "extra": 1}))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Secrets of a product without a client: 403, not 500.
    let (status, _) = svc
        .outsider()
        .get(&format!("/distributions/products/{product}/secrets"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = svc
        .requester()
        .get("/distributions/products/nope/secrets")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
