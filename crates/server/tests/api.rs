//! The service's API end to end, in process, on a real store and key store: the seed's
//! workflow, the authorization matrix, bad input, concurrency, restart, expiry, product
//! changes, and PostgreSQL with two replicas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Client, ORG, Service, digest_b64, seed_product, signing_body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn verify(public_pem: &str, data: &[u8], signature_b64: &str) {
    let key = signet_crypto::PublicKey::from_pem(public_pem).unwrap();
    let sig = STANDARD.decode(signature_b64).unwrap();
    key.verify(data, &sig).expect("signature verifies");
}

async fn public_key(svc: &Service, product: &str, op: &str) -> String {
    let (status, pem) = svc
        .requester()
        .get(&format!("/products/{product}/operations/{op}/publickey"))
        .await;
    assert_eq!(status, StatusCode::OK);
    pem.as_str().unwrap().to_owned()
}

async fn audit_actions(svc: &Service) -> Vec<(String, String)> {
    let admin = svc.admin();
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let (status, body) = admin.get(&format!("/audittrails?page={page}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for e in body["items"].as_array().unwrap() {
            out.push((
                e["action"].as_str().unwrap().to_owned(),
                e["subject"].as_str().unwrap().to_owned(),
            ));
        }
        if body["next"] == "" {
            return out;
        }
        page += 1;
    }
}

async fn assert_chain_ok(svc: &Service) {
    let (status, body) = svc.admin().get("/audittrails/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true, "{body}");
}

/// The seed's workflow: a product, its approval, a request, its approval, the signature.
async fn seed_workflow(svc: &Service, key_type: &str) {
    let (product, op) = svc.approved_product("oci", key_type).await;
    let pem = public_key(svc, &product, &op).await;
    let payload = b"{\"critical\":{}}";
    let (status, req) = svc
        .requester()
        .request_signature(&product, &op, payload)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 2);
    let id = req["id"].as_str().unwrap();
    assert!(req.get("signature").is_none());
    let (status, _) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["state"], 16, "{got}");
    assert_eq!(got["approvals"][0]["approver"], "rae");
    verify(&pem, payload, got["signature"].as_str().unwrap());
    let (status, raw) = svc
        .requester()
        .call_raw(Method::GET, &format!("/imagesignings/{id}/signature"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(STANDARD.encode(raw), got["signature"].as_str().unwrap());
    let actions: Vec<String> = audit_actions(svc)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "product.submit",
            "key.generate",
            "product.approve",
            "request.create",
            "request.approve",
            "request.start",
            "key.use",
            "request.ready"
        ]
    );
    assert_chain_ok(svc).await;
}

#[tokio::test]
async fn seed_workflow_p256() {
    seed_workflow(&Service::start().await, "ECDSAP256").await;
}

#[tokio::test]
async fn seed_workflow_rsa4096_and_p384() {
    let svc = Service::start().await;
    seed_workflow(&svc, "RSA4096").await;
    let (product, op) = svc.approved_product("p384", "ECDSAP384").await;
    let pem = public_key(&svc, &product, &op).await;
    let data = b"p384 payload";
    let body = json!({"name": "n", "description": "d", "productId": product, "idProductOperation": op,
        "digest": STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, data)), "hashAlgorithm": "SHA384"});
    let (status, req) = svc.fast_requester().post("/imagesignings", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 16);
    verify(&pem, data, req["signature"].as_str().unwrap());
}

#[tokio::test]
async fn blanket_requester_is_signed_at_once_and_names_work() {
    let svc = Service::start().await;
    let (product, op) = svc.approved_product("oci", "ECDSAP256").await;
    // Product and operation by name (extension).
    let (status, req) = svc
        .fast_requester()
        .request_signature("oci", "OCI digest signing", b"x")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 16);
    assert_eq!(req["autoApproved"], true);
    assert_eq!(req["idProduct"], product.as_str());
    assert_eq!(req["idProductOperation"], op.as_str());
    verify(
        &public_key(&svc, &product, &op).await,
        b"x",
        req["signature"].as_str().unwrap(),
    );
    // blanketGroups alone grant nothing.
    let (status, body) = svc
        .blanket_only()
        .request_signature(&product, &op, b"x")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("allowedGroups"),
        "{body}"
    );
}

#[tokio::test]
async fn payload_requests_check_allowed_repositories() {
    let svc = Service::start().await;
    let mut product = seed_product("repos", "ECDSAP256");
    product["productOperations"][0]["allowedRepositories"] = json!(["registry.example/team"]);
    let (pid, op) = svc.approved_product_json(product).await;
    let payload = |repo: &str| {
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{repo}\"}},\"image\":{{\"docker-manifest-digest\":\"sha256:{}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}",
            "a".repeat(64)
        )
    };
    let good = payload("registry.example/team/app");
    let body = json!({"name": "n", "description": "d", "productId": pid, "idProductOperation": op,
        "payload": STANDARD.encode(&good)});
    let (status, req) = svc.fast_requester().post("/imagesignings", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["image"]["repository"], "registry.example/team/app");
    assert_eq!(req["payload"], STANDARD.encode(&good));
    assert_eq!(req["digest"], digest_b64(good.as_bytes()));
    verify(
        &public_key(&svc, &pid, &op).await,
        good.as_bytes(),
        req["signature"].as_str().unwrap(),
    );
    let bad = payload("registry.example/other/app");
    let body = json!({"name": "n", "description": "d", "productId": pid, "idProductOperation": op,
        "payload": STANDARD.encode(&bad)});
    let (status, err) = svc.fast_requester().post("/imagesignings", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("registry.example/other/app"),
        "{err}"
    );
    // A bare digest names no image: refused for an operation with allowedRepositories.
    let (status, _) = svc
        .fast_requester()
        .request_signature(&pid, &op, b"x")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rejection_self_approval_and_required_approvals() {
    let svc = Service::start().await;
    let mut product = seed_product("two", "ECDSAP256");
    product["productOperations"][0]["requiredApprovals"] = json!(2);
    product["productOperations"][0]["approvalRule"]["allowedGroups"] =
        json!(["writers", "approvers"]);
    let (pid, op) = svc.approved_product_json(product).await;
    // An approver who requests cannot approve their own request.
    let (_, req) = svc.approver().request_signature(&pid, &op, b"a").await;
    let id = req["id"].as_str().unwrap();
    let (status, body) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Two distinct approvers are needed.
    let (_, req) = svc.requester().request_signature(&pid, &op, b"b").await;
    let id = req["id"].as_str().unwrap();
    assert_eq!(
        svc.approver().decide(id, "APPROVE", "").await.0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    assert_eq!(got["state"], 2);
    let (status, body) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the same approver twice: {body}"
    );
    assert_eq!(
        svc.second_approver().decide(id, "APPROVE", "").await.0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    assert_eq!(got["state"], 16);
    // Rejection needs a reason and is final.
    let (_, req) = svc.requester().request_signature(&pid, &op, b"c").await;
    let id = req["id"].as_str().unwrap();
    assert_eq!(
        svc.approver().decide(id, "REJECT", " ").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        svc.approver().decide(id, "REJECT", "not ours").await.0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    assert_eq!(got["state"], 32);
    assert_eq!(got["approvals"][0]["reason"], "not ours");
    assert_eq!(
        svc.second_approver().decide(id, "APPROVE", "").await.0,
        StatusCode::CONFLICT
    );
    let (status, _) = svc
        .requester()
        .call_raw(Method::GET, &format!("/imagesignings/{id}/signature"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn products_wait_for_approval_and_changes_too() {
    let svc = Service::start().await;
    let admin = svc.admin();
    let (status, created) = admin
        .post("/products", &seed_product("oci", "ECDSAP256"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(created["state"], 2);
    let id = created["id"].as_str().unwrap().to_owned();
    let op = created["productOperations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(created["productOperations"][0]["token"]["publicKey"].is_string());
    // Not usable before approval.
    let (status, body) = svc.fast_requester().request_signature(&id, &op, b"x").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // The creator never approves, even when in the approving group.
    let both = svc.as_user("ada", &["admins", "product-approvers"]);
    let (status, _) = both
        .post(
            "/products/approvals",
            &json!({"requestId": id, "decision": "APPROVE"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, pending) = svc.product_approver().get("/products/approvals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending["count"], 1);
    assert_eq!(
        svc.product_approver()
            .post(
                "/products/approvals",
                &json!({"requestId": id, "decision": "APPROVE"})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // Name/description/enabled apply at once.
    let mut changed = created.clone();
    changed["description"] = json!("new words");
    let (status, body) = admin.put(&format!("/products/{id}"), &changed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["description"], "new words");
    assert_eq!(body["state"], 16);
    // A rule change waits; the old rule applies meanwhile.
    let mut rule = body.clone();
    rule["productOperations"][0]["approvalRule"]["blanketGroups"] = json!([]);
    let (status, request) = admin.put(&format!("/products/{id}"), &rule).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{request}");
    assert_eq!(request["changes"], json!(["ModifyOperation"]));
    let (_, req) = svc.fast_requester().request_signature(&id, &op, b"x").await;
    assert_eq!(req["state"], 16, "old rule still auto-approves");
    let rid = request["id"].as_str().unwrap();
    let (status, _) = svc
        .product_approver()
        .post(
            "/products/approvals",
            &json!({"requestId": rid, "decision": "REJECT"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a rejection needs a reason"
    );
    assert_eq!(
        svc.product_approver()
            .post(
                "/products/approvals",
                &json!({"requestId": rid, "decision": "APPROVE"})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, req) = svc.fast_requester().request_signature(&id, &op, b"y").await;
    assert_eq!(req["state"], 2, "new rule: approval needed");
    // The key did not change with the rule.
    let (_, now) = svc.requester().get(&format!("/products/{id}")).await;
    assert_eq!(
        now["productOperations"][0]["token"]["publicKey"],
        created["productOperations"][0]["token"]["publicKey"]
    );
    // Disable: signing stops, also for requests approved afterwards.
    let pending_id = req["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .call(Method::POST, &format!("/products/{id}/disable"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    let (status, body) = svc.fast_requester().request_signature(&id, &op, b"z").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
    let (status, _) = svc.approver().decide(&pending_id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, got) = svc
        .requester()
        .get(&format!("/imagesignings/{pending_id}"))
        .await;
    assert!(got.get("signature").is_none());
    assert_chain_ok(&svc).await;
}

/// Every endpoint × every kind of caller.
#[tokio::test]
async fn authorization_matrix() {
    let svc = Service::start().await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let (_, pending_product) = svc
        .admin()
        .post("/products", &seed_product("pending", "ECDSAP256"))
        .await;
    let pending_product = pending_product["id"].as_str().unwrap().to_owned();
    let (throwaway, _) = svc.approved_product("throwaway", "ECDSAP256").await;
    let (_, req) = svc.requester().request_signature(&pid, &op, b"m").await;
    let rid = req["id"].as_str().unwrap().to_owned();
    // The PKI and client endpoints: a profile, a product whose certificate waits for an
    // external CA, and a client registered for it by the requester.
    let profile_text = r#"{"name":"p","certificateType":"ENDENTITY","email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;
    let profile_body = |name: &str| json!({"profileName": name, "profileType": "END", "profileYAML": STANDARD.encode(profile_text)});
    let (_, profile) = svc
        .admin()
        .post("/cas/profiles", &profile_body("first"))
        .await;
    let profile = profile["id"].as_str().unwrap().to_owned();
    let mut detached = seed_product("detached", "ECDSAP256");
    detached["caInfo"] = json!([{"cn": "signer", "description": "d", "externalRoot": true,
        "useCase": "CodeSigning", "keyType": "ECDSAP256", "certificateType": "ENDENTITY", "profileID": profile}]);
    detached["productOperations"][0]["operationType"] = json!("DetachedSignature");
    detached["productOperations"][0]
        .as_object_mut()
        .unwrap()
        .remove("token");
    let (dpid, _) = svc.approved_product_json(detached).await;
    let (_, dp) = svc.admin().get(&format!("/products/{dpid}")).await;
    let cert = dp["caInfo"][0]["id"].as_str().unwrap().to_owned();
    let client_key = signet_crypto::PrivateKey::generate(signet_crypto::KeyType::P256)
        .unwrap()
        .public_key()
        .to_pem();
    let registration = json!({"name": "ci", "idProduct": dpid,
        "encryptionPublicKey": STANDARD.encode(&client_key)});
    let (_, client) = svc
        .requester()
        .post("/registrations/clients", &registration)
        .await;
    let cid = client["id"].as_str().unwrap().to_owned();

    let other_org = Client {
        http: reqwest::Client::new(),
        base: format!("{}/{ORG}/api/v1", svc.url),
        token: Some(svc.token(
            "globex",
            "wes",
            &["writers", "approvers", "admins", "product-approvers"],
        )),
    };
    let roles: Vec<(&str, Client)> = vec![
        ("anonymous", svc.anonymous()),
        ("other-org", other_org),
        ("requester", svc.requester()),
        ("approver", svc.approver()),
        ("blanket", svc.blanket_only()),
        ("outsider", svc.outsider()),
        ("admin", svc.admin()),
        ("product-approver", svc.product_approver()),
    ];
    let product_json = seed_product("oci", "ECDSAP256");
    let mut renamed = product_json.clone();
    renamed["description"] = json!("changed");
    let new_product = seed_product("new", "ECDSAP256");
    // (method, path, body, expected per role in the order above)
    type Row = (Method, String, Option<Value>, [u16; 8]);
    let rows: Vec<Row> = vec![
        (Method::GET, "/health".into(), None, [200; 8]),
        (Method::GET, "/openapi.json".into(), None, [200; 8]),
        (
            Method::GET,
            "/products".into(),
            None,
            [401, 401, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/products".into(),
            Some(new_product),
            [401, 401, 403, 403, 403, 403, 202, 403],
        ),
        (
            Method::GET,
            format!("/products/{pid}"),
            None,
            [401, 401, 200, 200, 200, 403, 200, 200],
        ),
        (
            Method::GET,
            format!("/products/{pid}/operations/{op}/publickey"),
            None,
            [401, 401, 200, 200, 200, 403, 200, 200],
        ),
        (
            Method::PUT,
            format!("/products/{pid}"),
            Some(renamed),
            [401, 401, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::POST,
            format!("/products/{throwaway}/disable"),
            None,
            [401, 401, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/products/approvals".into(),
            None,
            [401, 401, 403, 403, 403, 403, 200, 200],
        ),
        (
            Method::GET,
            format!("/products/approvals/{pending_product}"),
            None,
            [401, 401, 403, 403, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/products/approvals".into(),
            Some(json!({"requestId": pending_product, "decision": "APPROVE"})),
            [401, 401, 403, 403, 403, 403, 403, 204],
        ),
        (
            Method::POST,
            "/imagesignings".into(),
            Some(signing_body(&pid, &op, b"n")),
            [401, 401, 202, 403, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/imagesignings".into(),
            None,
            [401, 401, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/imagesignings/{rid}"),
            None,
            [401, 401, 200, 200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            format!("/imagesignings/{rid}/signature"),
            None,
            [401, 401, 409, 409, 403, 403, 409, 403],
        ),
        (
            Method::GET,
            "/imagesignings/approvals".into(),
            None,
            [401, 401, 403, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/imagesignings/approvals/{rid}"),
            None,
            [401, 401, 403, 200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            "/imagesignings/approvals".into(),
            Some(json!({"requestId": rid, "decision": "APPROVE"})),
            [401, 401, 403, 204, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/cas/profiles".into(),
            None,
            [401, 401, 403, 403, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/cas/profiles".into(),
            Some(profile_body("second")),
            [401, 401, 403, 403, 403, 403, 201, 403],
        ),
        (
            Method::GET,
            format!("/cas/profiles/{profile}"),
            None,
            [401, 401, 403, 403, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/cas/internal".into(),
            Some(json!({"subject": "CN=Acme Root CA,O=Acme"})),
            [401, 401, 403, 403, 403, 403, 201, 403],
        ),
        (
            Method::GET,
            "/cas/internal/chain".into(),
            None,
            [401, 401, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/cas/cas/{cert}"),
            None,
            [401, 401, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::PATCH,
            format!("/cas/cas/{cert}"),
            Some(json!({"chain": STANDARD.encode("not a chain")})),
            [401, 401, 403, 403, 403, 403, 400, 403],
        ),
        (
            Method::POST,
            "/registrations/clients".into(),
            Some(registration.clone()),
            [401, 401, 202, 403, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/registrations/clients".into(),
            None,
            [401, 401, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            format!("/registrations/clients/{cid}"),
            None,
            [401, 401, 200, 200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/registrations/clients/approvals".into(),
            None,
            [401, 401, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/registrations/clients/approvals".into(),
            Some(json!({"requestId": cid, "decision": "APPROVE"})),
            [401, 401, 403, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/distributions/products/{dpid}/secrets"),
            None,
            [401, 401, 200, 403, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            format!("/registrations/clients/{cid}"),
            None,
            [401, 401, 200, 200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/audittrails".into(),
            None,
            [401, 401, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/audittrails/verify".into(),
            None,
            [401, 401, 403, 403, 403, 403, 200, 403],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in rows {
        // Callers expected to fail go first, so a success cannot change what they see.
        let mut order: Vec<usize> = (0..roles.len()).collect();
        order.sort_by_key(|&i| expected[i] < 300);
        for i in order {
            let (name, client) = &roles[i];
            let bytes = body.as_ref().map(|b| serde_json::to_vec(b).unwrap());
            let (status, response) = client.call(method.clone(), &path, bytes).await;
            if status.as_u16() != expected[i] {
                failures.push(format!(
                    "{method} {path} as {name}: {status} (expected {}) {response}",
                    expected[i]
                ));
            }
            if status.is_client_error() {
                assert_eq!(
                    response["status"],
                    status.as_u16(),
                    "problem shape: {response}"
                );
                assert!(!response["detail"].as_str().unwrap_or("").is_empty());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Lists show only what the caller may read.
    let (_, listed) = svc.outsider().get("/products").await;
    assert_eq!(listed["count"], 0);
    let (_, listed) = svc.outsider().get("/imagesignings").await;
    assert_eq!(listed["count"], 0);
    let (_, listed) = svc.requester().get("/imagesignings").await;
    assert_eq!(listed["count"], 2);
}

#[tokio::test]
async fn bad_input_gets_clear_4xx() {
    let svc = Service::start().await;
    let admin = svc.admin();
    let (pid, op) = svc.approved_product("oci", "RSA2048").await;
    let w = svc.requester();
    let expect = |(status, body): (StatusCode, Value), want: u16, needle: &str| {
        assert_eq!(status.as_u16(), want, "{body}");
        assert_eq!(body["type"], "about:blank", "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{needle:?} not in {detail:?}");
        assert!(!detail.contains('\n'));
    };
    expect(
        admin
            .call(Method::POST, "/products", Some(b"{not json".to_vec()))
            .await,
        400,
        "product",
    );
    let mut unknown = seed_product("x", "RSA2048");
    unknown["colour"] = json!("red");
    expect(admin.post("/products", &unknown).await, 400, "colour");
    let mut bad_key = seed_product("x", "RSA2048");
    bad_key["productOperations"][0]["token"]["keyType"] = json!("RSA9999");
    expect(
        admin.post("/products", &bad_key).await,
        400,
        "productOperations[0].token.keyType",
    );
    expect(
        admin
            .post("/products", &seed_product("oci", "RSA2048"))
            .await,
        409,
        "oci",
    );
    expect(
        w.call(Method::POST, "/imagesignings", Some(b"[1,2".to_vec()))
            .await,
        400,
        "imagesigning",
    );
    let mut body = signing_body(&pid, &op, b"x");
    body["digets"] = json!("x");
    expect(w.post("/imagesignings", &body).await, 400, "digets");
    let mut body = signing_body(&pid, &op, b"x");
    body["digest"] = json!(STANDARD.encode([0u8; 31]));
    expect(w.post("/imagesignings", &body).await, 400, "31 bytes");
    let mut body = signing_body(&pid, &op, b"x");
    body["digest"] = json!("not base64!");
    expect(w.post("/imagesignings", &body).await, 400, "base64");
    let mut body = signing_body(&pid, &op, b"x");
    body["hashAlgorithm"] = json!("MD5");
    expect(w.post("/imagesignings", &body).await, 400, "MD5");
    // A hash the key does not sign with (RSA keys sign SHA-256/384/512; P-256 SHA-256 only).
    let (p256, p256_op) = svc.approved_product("p256", "ECDSAP256").await;
    let mut body = signing_body(&p256, &p256_op, b"x");
    body["hashAlgorithm"] = json!("SHA512");
    body["digest"] = json!(STANDARD.encode([1u8; 64]));
    expect(
        w.post("/imagesignings", &body).await,
        400,
        "ECDSAP256 keys sign SHA256 digests, not SHA512",
    );
    let mut body = signing_body(&pid, &op, b"x");
    body["payload"] = json!(STANDARD.encode(b"{}"));
    expect(w.post("/imagesignings", &body).await, 400, "not both");
    expect(
        w.post("/imagesignings", &signing_body("nope", &op, b"x"))
            .await,
        404,
        "nope",
    );
    expect(
        w.post("/imagesignings", &signing_body(&pid, "nope", b"x"))
            .await,
        404,
        "nope",
    );
    let big = vec![b' '; 10 * 1024 * 1024];
    let (status, body) = w.call(Method::POST, "/imagesignings", Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    expect(w.get("/imagesignings?page=0").await, 400, "page");
    expect(w.get("/imagesignings?state=bogus").await, 400, "bogus");
    expect(w.get("/imagesignings?colour=red").await, 400, "colour");
    expect(w.get("/imagesignings/no-such-id").await, 404, "no-such-id");
    expect(
        svc.approver().decide("no-such-id", "APPROVE", "").await,
        404,
        "no-such-id",
    );
    expect(
        svc.approver()
            .post(
                "/imagesignings/approvals",
                &json!({"requestId": "x", "decision": "MAYBE"}),
            )
            .await,
        400,
        "MAYBE",
    );
    expect(w.get("/nowhere").await, 404, "no such path");
    expect(
        w.call(Method::DELETE, "/imagesignings", None).await,
        405,
        "method",
    );
    let (status, body) = svc.anonymous().call(Method::GET, "/../../etc", None).await;
    assert!(status.is_client_error(), "{status} {body}");
    let bad_org = Client {
        base: format!("{}/bad%20org/api/v1", svc.url),
        ..svc.requester()
    };
    expect(bad_org.get("/products").await, 404, "organisation");
    let garbage = Client {
        token: Some("not.a.jwt".to_owned()),
        ..svc.requester()
    };
    expect(garbage.get("/products").await, 401, "");
    // A disabled product signs nothing.
    let (status, _) = admin
        .call(Method::POST, &format!("/products/{pid}/disable"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    expect(w.request_signature(&pid, &op, b"x").await, 409, "disabled");
}

#[tokio::test]
async fn concurrent_requests_and_approvals_sign_once() {
    let svc = Service::start().await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let pem = public_key(&svc, &pid, &op).await;
    // Many auto-approved requests at once.
    let fast = svc.fast_requester();
    let created = futures::future::join_all((0..40).map(|i| {
        let fast = fast.clone();
        let (pid, op) = (pid.clone(), op.clone());
        async move {
            fast.request_signature(&pid, &op, format!("auto {i}").as_bytes())
                .await
        }
    }))
    .await;
    for (i, (status, req)) in created.iter().enumerate() {
        assert_eq!(*status, StatusCode::ACCEPTED, "{req}");
        verify(
            &pem,
            format!("auto {i}").as_bytes(),
            req["signature"].as_str().unwrap(),
        );
    }
    // Requests needing approval, each approved by two approvers racing.
    let mut ids = Vec::new();
    for i in 0..15 {
        let (_, req) = svc
            .requester()
            .request_signature(&pid, &op, format!("m {i}").as_bytes())
            .await;
        ids.push(req["id"].as_str().unwrap().to_owned());
    }
    let (a, b) = (svc.approver(), svc.second_approver());
    let decisions = futures::future::join_all(ids.iter().flat_map(|id| {
        [a.clone(), b.clone()].into_iter().map(move |c| {
            let id = id.clone();
            async move { c.decide(&id, "APPROVE", "").await.0 }
        })
    }))
    .await;
    for pair in decisions.chunks(2) {
        let ok = pair
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count();
        assert_eq!(ok, 1, "exactly one approval lands: {pair:?}");
        assert!(
            pair.iter()
                .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::CONFLICT)
        );
    }
    let mut key_uses: BTreeMap<String, usize> = BTreeMap::new();
    for (action, subject) in audit_actions(&svc).await {
        if action == "key.use" {
            *key_uses.entry(subject).or_default() += 1;
        }
    }
    assert_eq!(key_uses.len(), 55);
    assert!(
        key_uses.values().all(|n| *n == 1),
        "signed once each: {key_uses:?}"
    );
    for (i, id) in ids.iter().enumerate() {
        let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
        assert_eq!(got["state"], 16);
        verify(
            &pem,
            format!("m {i}").as_bytes(),
            got["signature"].as_str().unwrap(),
        );
    }
    let (_, ready) = svc.requester().get("/imagesignings?state=Ready").await;
    assert_eq!(ready["count"], 55);
    assert_eq!(ready["pages"], 6);
    assert!(
        ready["next"]
            .as_str()
            .unwrap()
            .ends_with("state=Ready&page=2"),
        "{ready}"
    );
    assert_chain_ok(&svc).await;
}

#[tokio::test]
async fn restart_keeps_every_acknowledged_request() {
    let svc = Service::start().await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let client = if i % 2 == 0 {
            svc.requester()
        } else {
            svc.fast_requester()
        };
        let (status, req) = client
            .request_signature(&pid, &op, format!("{i}").as_bytes())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        ids.push((
            req["id"].as_str().unwrap().to_owned(),
            req["state"].clone(),
            req.get("signature").cloned(),
        ));
    }
    let svc = svc.restart().await;
    for (id, state, signature) in &ids {
        let (status, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&got["state"], state);
        assert_eq!(got.get("signature").cloned(), *signature);
    }
    // Pending ones can still be approved and signed with the same key after the restart.
    let (id, _, _) = &ids[0];
    assert_eq!(
        svc.approver().decide(id, "APPROVE", "").await.0,
        StatusCode::NO_CONTENT
    );
    let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
    verify(
        &public_key(&svc, &pid, &op).await,
        b"0",
        got["signature"].as_str().unwrap(),
    );
    assert_chain_ok(&svc).await;
}

#[tokio::test]
async fn undecided_requests_expire() {
    let svc = Service::start_with(None, &[("SIGNET_REQUEST_EXPIRY", "1s")]).await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let (_, req) = svc.requester().request_signature(&pid, &op, b"late").await;
    let id = req["id"].as_str().unwrap();
    let mut state = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
        state = got["state"].clone();
        if state == 64 {
            assert_eq!(got["errorStatus"], "expired");
            break;
        }
    }
    assert_eq!(state, 64);
    let (status, body) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        audit_actions(&svc)
            .await
            .iter()
            .any(|(a, s)| a == "request.expire" && s == id)
    );
}

#[tokio::test]
async fn openapi_document_lists_the_paths() {
    let svc = Service::start().await;
    let (status, doc) = svc.anonymous().get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/{org}/api/v1/products",
        "/{org}/api/v1/products/approvals",
        "/{org}/api/v1/imagesignings",
        "/{org}/api/v1/imagesignings/{id}",
        "/{org}/api/v1/imagesignings/approvals",
        "/{org}/api/v1/audittrails",
        "/{org}/api/v1/health",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    let metrics = reqwest::get(format!("{}/metrics", svc.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("signet_http_requests_total"), "{metrics}");
    let ready = reqwest::get(format!("{}/readyz", svc.url)).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn orgs_are_isolated() {
    let svc = Service::start().await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let globex = |user: &str, groups: &[&str]| Client {
        http: reqwest::Client::new(),
        base: format!("{}/globex/api/v1", svc.url),
        token: Some(svc.token("globex", user, groups)),
    };
    let (status, list) = globex("ada", &["admins"]).get("/products").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["count"], 0);
    let (status, _) = globex("ada", &["admins"])
        .get(&format!("/products/{pid}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = globex("wes", &["writers", "fast"])
        .request_signature(&pid, &op, b"x")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same product name in another org is fine.
    let (status, _) = globex("ada", &["admins"])
        .post("/products", &seed_product("oci", "ECDSAP256"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, audit) = globex("ada", &["admins"]).get("/audittrails").await;
    assert_eq!(audit["count"], 2);
}

/// Two replicas on one PostgreSQL database: any call on either.
#[tokio::test]
async fn postgres_two_replicas() {
    let pg = signet_testkit::postgres::TestPostgres::shared();
    let a = Service::start_with(Some(pg.fresh_database()), &[]).await;
    let b = a.replica().await;
    let (pid, op) = a.approved_product("oci", "ECDSAP256").await;
    let pem = public_key(&b, &pid, &op).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let svc = if i % 2 == 0 { &a } else { &b };
        let (status, req) = svc
            .requester()
            .request_signature(&pid, &op, format!("{i}").as_bytes())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{req}");
        ids.push(req["id"].as_str().unwrap().to_owned());
    }
    // Each request approved on both replicas at once: one wins, one signature.
    let decisions = futures::future::join_all(ids.iter().flat_map(|id| {
        [a.approver(), b.second_approver()]
            .into_iter()
            .map(move |c| {
                let id = id.clone();
                async move { c.decide(&id, "APPROVE", "").await.0 }
            })
    }))
    .await;
    for pair in decisions.chunks(2) {
        assert_eq!(
            pair.iter()
                .filter(|s| **s == StatusCode::NO_CONTENT)
                .count(),
            1,
            "{pair:?}"
        );
    }
    for (i, id) in ids.iter().enumerate() {
        let svc = if i % 2 == 0 { &b } else { &a };
        let (_, got) = svc.requester().get(&format!("/imagesignings/{id}")).await;
        verify(
            &pem,
            format!("{i}").as_bytes(),
            got["signature"].as_str().unwrap(),
        );
    }
    let key_uses = audit_actions(&a)
        .await
        .iter()
        .filter(|(x, _)| x == "key.use")
        .count();
    assert_eq!(key_uses, 10);
    assert_chain_ok(&b).await;
    // Both replicas have used the product; disabled on one, the other signs nothing more
    // (no replica keeps using a product its record no longer says).
    let (status, _) = a
        .admin()
        .call(Method::POST, &format!("/products/{pid}/disable"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = b
        .fast_requester()
        .request_signature(&pid, &op, b"after")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
}

#[tokio::test]
async fn postgres_seed_workflow_and_restart() {
    let pg = signet_testkit::postgres::TestPostgres::shared();
    let svc = Service::start_with(Some(pg.fresh_database()), &[]).await;
    seed_workflow(&svc, "ECDSAP256").await;
    let svc = svc.restart().await;
    let (_, list) = svc.requester().get("/imagesignings").await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["state"], 16);
    assert_chain_ok(&svc).await;
}

/// A request left InProcess (its replica stopped while signing) is failed by the sweeper,
/// never signed again on its own.
#[tokio::test]
async fn requests_left_in_process_are_failed() {
    let svc = Service::start_with(None, &[("SIGNET_SIGNING_TIMEOUT", "1s")]).await;
    let (pid, op) = svc.approved_product("oci", "ECDSAP256").await;
    let (_, req) = svc.requester().request_signature(&pid, &op, b"stuck").await;
    let id = req["id"].as_str().unwrap().to_owned();
    // Simulate a replica that took the request and died before storing the signature.
    let store = &svc.app.store;
    let record = store
        .get(signet_store::Kind::SigningRequest, ORG, &id)
        .await
        .unwrap()
        .unwrap();
    let mut stuck = record.clone();
    stuck.state = 8;
    stuck.doc["request"]["state"] = json!(8);
    stuck.updated_at -= 60;
    store
        .write(
            ORG,
            vec![signet_store::Write::Update {
                record: stuck,
                expected_version: record.version,
            }],
            vec![],
        )
        .await
        .unwrap();
    let mut got = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        got = svc.requester().get(&format!("/imagesignings/{id}")).await.1;
        if got["state"] == 64 {
            break;
        }
    }
    assert_eq!(got["state"], 64, "{got}");
    assert!(
        got["errorDetail"].as_str().unwrap().contains("interrupted"),
        "{got}"
    );
    assert!(got.get("signature").is_none());
    assert_eq!(
        svc.approver().decide(&id, "APPROVE", "").await.0,
        StatusCode::CONFLICT
    );
    assert!(
        audit_actions(&svc)
            .await
            .iter()
            .any(|(a, s)| a == "request.failed" && *s == id)
    );
    assert_chain_ok(&svc).await;
}
