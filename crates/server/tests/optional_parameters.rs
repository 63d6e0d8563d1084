//! `optionalParameters` on `POST /imagesignings`, in process on a real store and key store:
//! RSASSA-PSS over SHA-256/384/512 digests checked with `openssl pkeyutl`, raw `r||s` ECDSA
//! checked with python's `cryptography`, refusals with the parameter's name, the approval
//! flow (stored with the request, shown to approvers, applied when the approval signs),
//! DetachedSignature with an issued RSA certificate, the audit entry, and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Service, seed_product};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    const ALL: [Hash; 3] = [Hash::Sha256, Hash::Sha384, Hash::Sha512];

    fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "SHA256",
            Hash::Sha384 => "SHA384",
            Hash::Sha512 => "SHA512",
        }
    }

    fn openssl(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// The digest of `data`, made by the openssl CLI (independent of the service's crypto).
    fn digest(self, dir: &Path, data: &[u8]) -> Vec<u8> {
        let input = dir.join("data");
        std::fs::write(&input, data).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", &format!("-{}", self.openssl()), "-binary"])
            .arg(&input)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), self.len());
        out.stdout
    }
}

/// `openssl pkeyutl -verify` of `sig` over `digest` with the public key `pem`: PSS with the
/// salt as long as the digest (`rsa_pss_saltlen:-1`; MGF1 defaults to the same hash), or
/// PKCS#1 v1.5. True when openssl verifies it.
fn openssl_verifies(
    dir: &Path,
    pem: &str,
    hash: Hash,
    pss: bool,
    digest: &[u8],
    sig: &[u8],
) -> bool {
    std::fs::write(dir.join("pub.pem"), pem).unwrap();
    std::fs::write(dir.join("sig.bin"), sig).unwrap();
    std::fs::write(dir.join("digest.bin"), digest).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir)
        .args(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem"])
        .args(["-in", "digest.bin", "-sigfile", "sig.bin"])
        .args(["-pkeyopt", &format!("digest:{}", hash.openssl())]);
    if pss {
        cmd.args(["-pkeyopt", "rsa_padding_mode:pss"])
            .args(["-pkeyopt", "rsa_pss_saltlen:-1"]);
    }
    let out = cmd.output().expect("openssl CLI");
    out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully")
}

/// Verifies a raw `r||s` ECDSA signature over a precomputed digest with python's
/// `cryptography` (not aws-lc-rs, which signed it). True when it verifies.
fn python_verifies_raw(pem: &str, hash: Hash, digest: &[u8], raw: &[u8]) -> bool {
    const SCRIPT: &str = r#"
import sys, base64
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
pem, hash_name, digest, raw = sys.argv[1], sys.argv[2], base64.b64decode(sys.argv[3]), base64.b64decode(sys.argv[4])
key = serialization.load_pem_public_key(pem.encode())
width = (key.curve.key_size + 7) // 8
if len(raw) != 2 * width:
    print("wrong length", len(raw), "for", width)
    sys.exit(2)
r, s = int.from_bytes(raw[:width], "big"), int.from_bytes(raw[width:], "big")
algorithm = {"SHA256": hashes.SHA256(), "SHA384": hashes.SHA384(), "SHA512": hashes.SHA512()}[hash_name]
try:
    key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(algorithm)))
except Exception as e:
    print("invalid:", type(e).__name__)
    sys.exit(1)
print("verified")
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT, pem, hash.name()])
        .arg(STANDARD.encode(digest))
        .arg(STANDARD.encode(raw))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() || stdout.contains("invalid") || stdout.contains("wrong length"),
        "python failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.success() && stdout.contains("verified")
}

async fn public_key(svc: &Service, product: &str, op: &str) -> String {
    let (status, pem) = svc
        .requester()
        .get(&format!("/products/{product}/operations/{op}/publickey"))
        .await;
    assert_eq!(status, StatusCode::OK);
    pem.as_str().unwrap().to_owned()
}

fn body(product: &str, op: &str, digest: &[u8], hash: Hash, options: Value) -> Value {
    json!({
        "name": "digest signing",
        "description": "optional parameters",
        "productId": product,
        "idProductOperation": op,
        "digest": STANDARD.encode(digest),
        "hashAlgorithm": hash.name(),
        "optionalParameters": options,
    })
}

fn signature(v: &Value) -> Vec<u8> {
    STANDARD
        .decode(v["signature"].as_str().expect("a signature"))
        .unwrap()
}

/// Every audit entry with `action`.
async fn audit_entries(svc: &Service, action: &str) -> Vec<Value> {
    let admin = svc.admin();
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let (status, body) = admin.get(&format!("/audittrails?page={page}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        out.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == action)
                .cloned(),
        );
        if body["next"] == "" {
            return out;
        }
        page += 1;
    }
}

async fn chain_ok(svc: &Service) {
    let (status, body) = svc.admin().get("/audittrails/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true, "{body}");
}

#[tokio::test]
async fn pss_over_sha256_384_512_verifies_with_openssl() {
    let svc = Service::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (product, op) = svc.approved_product("pss", "RSA2048").await;
    let pem = public_key(&svc, &product, &op).await;
    let fast = svc.fast_requester();
    for hash in Hash::ALL {
        let data = format!("payload for {}", hash.name());
        let digest = hash.digest(dir.path(), data.as_bytes());
        for salt in [json!(hash.len()), json!("hash")] {
            let options = json!([{"signaturePadding": "PSS"}, {"saltLength": salt}]);
            let (status, req) = fast
                .post(
                    "/imagesignings",
                    &body(&product, &op, &digest, hash, options.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{req}");
            assert_eq!(req["state"], 16, "{req}");
            // The answer shows what was stored.
            assert_eq!(req["storedOptionalParameters"], options, "{req}");
            let sig = signature(&req);
            assert_eq!(sig.len(), 256);
            assert!(
                openssl_verifies(dir.path(), &pem, hash, true, &digest, &sig),
                "{hash:?}: PSS signature does not verify"
            );
            assert!(
                !openssl_verifies(dir.path(), &pem, hash, false, &digest, &sig),
                "{hash:?}: a PSS signature passed as PKCS#1 v1.5"
            );
            let other = hash.digest(dir.path(), b"something else");
            assert!(!openssl_verifies(
                dir.path(),
                &pem,
                hash,
                true,
                &other,
                &sig
            ));
        }
        // Without optionalParameters: PKCS#1 v1.5, now over SHA-384 and SHA-512 too.
        let (status, req) = fast
            .post(
                "/imagesignings",
                &body(&product, &op, &digest, hash, json!([])),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{req}");
        assert!(req.get("storedOptionalParameters").is_none(), "{req}");
        let sig = signature(&req);
        assert!(
            openssl_verifies(dir.path(), &pem, hash, false, &digest, &sig),
            "{hash:?}"
        );
        assert!(
            !openssl_verifies(dir.path(), &pem, hash, true, &digest, &sig),
            "{hash:?}"
        );
    }

    // hashAlgorithm inside optionalParameters stands for the top-level field.
    let digest = Hash::Sha384.digest(dir.path(), b"alias");
    let mut alias = body(
        &product,
        &op,
        &digest,
        Hash::Sha384,
        json!([{"hashAlgorithm": "SHA384"}, {"signaturePadding": "PSS"}]),
    );
    alias.as_object_mut().unwrap().remove("hashAlgorithm");
    let (status, req) = fast.post("/imagesignings", &alias).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["hashAlgorithm"], "SHA384");
    assert!(openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha384,
        true,
        &digest,
        &signature(&req)
    ));

    // GET shows the stored parameters only when asked to.
    let id = req["id"].as_str().unwrap();
    let (_, got) = fast.get(&format!("/imagesignings/{id}")).await;
    assert!(got.get("storedOptionalParameters").is_none(), "{got}");
    let (status, got) = fast
        .get(&format!(
            "/imagesignings/{id}?includeOptionalParameters=true"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        got["storedOptionalParameters"],
        json!([{"hashAlgorithm": "SHA384"}, {"signaturePadding": "PSS"}])
    );
    let (_, got) = fast
        .get(&format!(
            "/imagesignings/{id}?includeOptionalParameters=false"
        ))
        .await;
    assert!(got.get("storedOptionalParameters").is_none(), "{got}");
    let (status, got) = fast
        .get(&format!(
            "/imagesignings/{id}?includeOptionalParameters=maybe"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
    let (status, got) = fast.get(&format!("/imagesignings/{id}?colour=red")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
    assert!(got["detail"].as_str().unwrap().contains("colour"), "{got}");

    // The key use records the padding applied.
    let uses = audit_entries(&svc, "key.use").await;
    assert_eq!(uses.len(), 3 * 3 + 1);
    let pss_uses = uses
        .iter()
        .filter(|e| e["details"]["signaturePadding"] == "PSS")
        .count();
    let pkcs1_uses = uses
        .iter()
        .filter(|e| e["details"]["signaturePadding"] == "PKCS_v1_5")
        .count();
    assert_eq!((pss_uses, pkcs1_uses), (7, 3), "{uses:?}");
    assert!(
        uses.iter()
            .all(|e| e["details"]["signatureEncoding"].is_null())
    );
    chain_ok(&svc).await;
}

#[tokio::test]
async fn raw_ecdsa_signatures_verify_and_pss_is_ignored_on_ec_keys() {
    let svc = Service::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fast = svc.fast_requester();
    for (name, key_type, hash, width) in [
        ("p256", "ECDSAP256", Hash::Sha256, 32),
        ("p384", "ECDSAP384", Hash::Sha384, 48),
        ("p521", "ECDSAP521", Hash::Sha512, 66),
    ] {
        let (product, op) = svc.approved_product(name, key_type).await;
        let pem = public_key(&svc, &product, &op).await;
        let digest = hash.digest(dir.path(), name.as_bytes());
        let (status, req) = fast
            .post(
                "/imagesignings",
                &body(
                    &product,
                    &op,
                    &digest,
                    hash,
                    json!([{"signatureEncoding": "RAW"}]),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{req}");
        let raw = signature(&req);
        assert_eq!(raw.len(), 2 * width, "{key_type}: r||s");
        assert!(python_verifies_raw(&pem, hash, &digest, &raw), "{key_type}");
        let other = hash.digest(dir.path(), b"other");
        assert!(!python_verifies_raw(&pem, hash, &other, &raw), "{key_type}");

        // DER stays the default, and PSS (an RSA padding) does not change an ECDSA signature.
        for options in [
            json!([]),
            json!([{"signaturePadding": "PSS"}, {"saltLength": "hash"}]),
        ] {
            let (status, req) = fast
                .post(
                    "/imagesignings",
                    &body(&product, &op, &digest, hash, options),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{req}");
            let der = signature(&req);
            assert_eq!(der[0], 0x30, "{key_type}: DER");
            let key = signet_crypto::PublicKey::from_pem(&pem).unwrap();
            let alg = key.key_type().default_algorithm();
            key.verify_with(alg, name.as_bytes(), &der).unwrap();
        }
    }
    // RSA signatures have one form: RAW and DER both give the PKCS#1 signature.
    let (product, op) = svc.approved_product("rsa", "RSA2048").await;
    let pem = public_key(&svc, &product, &op).await;
    let digest = Hash::Sha256.digest(dir.path(), b"rsa raw");
    let (status, req) = fast
        .post(
            "/imagesignings",
            &body(
                &product,
                &op,
                &digest,
                Hash::Sha256,
                json!([{"signatureEncoding": "RAW"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert!(openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha256,
        false,
        &digest,
        &signature(&req)
    ));

    let uses = audit_entries(&svc, "key.use").await;
    let raw_uses = uses
        .iter()
        .filter(|e| e["details"]["signatureEncoding"] == "RAW")
        .count();
    assert_eq!(raw_uses, 3, "{uses:?}");
    chain_ok(&svc).await;
}

#[tokio::test]
async fn bad_optional_parameters_are_refused_naming_them() {
    let svc = Service::start().await;
    let (product, op) = svc.approved_product("pss", "RSA2048").await;
    let w = svc.requester();
    let digest = [7u8; 32];
    for (options, want) in [
        (
            json!([{"signaturePadding": "NONE"}]),
            "unsupported signature padding \"NONE\"",
        ),
        (
            json!([{"signaturePadding": "pss"}]),
            "unknown signature padding \"pss\"",
        ),
        (
            json!([{"signaturePadding": "PSS"}, {"saltLength": 20}]),
            "saltLength: 20 is not supported",
        ),
        (
            json!([{"signaturePadding": "PSS"}, {"saltLength": "max"}]),
            "saltLength: \"max\" is not a salt length",
        ),
        (
            json!([{"saltLength": 32}]),
            "saltLength: applies to signaturePadding PSS only",
        ),
        (
            json!([{"signatureEncoding": "RAW_LE"}]),
            "unsupported signature encoding \"RAW_LE\"",
        ),
        (
            json!([{"signatureFormat": "CMS"}]),
            "unsupported signature format \"CMS\"",
        ),
        (json!([{"cmsCertificates": "MIIB"}]), "cmsCertificates"),
        (json!([{"colour": "red"}]), "unknown parameter \"colour\""),
        (json!({"signaturePadding": "PSS"}), "must be an array"),
        (
            json!([{"signaturePadding": "PSS", "saltLength": 32}]),
            "[0] must have exactly one property",
        ),
        (
            json!([{"hashAlgorithm": "SHA512"}]),
            "SHA512 disagrees with the request's hashAlgorithm SHA256",
        ),
        (json!([{"hashAlgorithm": "MD5"}]), "hashAlgorithm"),
    ] {
        let (status, answer) = w
            .post(
                "/imagesignings",
                &body(&product, &op, &digest, Hash::Sha256, options.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{options}: {answer}");
        let detail = answer["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("optionalParameters: ") && detail.contains(want),
            "{options}: {detail}"
        );
    }
    // A PSS salt for SHA-256 on a SHA-512 digest.
    let (status, answer) = w
        .post(
            "/imagesignings",
            &body(
                &product,
                &op,
                &[1u8; 64],
                Hash::Sha512,
                json!([{"signaturePadding": "PSS"}, {"saltLength": 32}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("give 64 or \"hash\""),
        "{answer}"
    );
    // Outsiders learn nothing about their parameters: authorization comes first.
    let (status, answer) = svc
        .outsider()
        .post(
            "/imagesignings",
            &body(
                &product,
                &op,
                &digest,
                Hash::Sha256,
                json!([{"colour": "red"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // Nothing was stored.
    let (_, list) = w.get("/imagesignings").await;
    assert_eq!(list["count"], 0, "{list}");

    // The OpenAPI document names the new field and query parameter.
    let (status, doc) = svc.anonymous().get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let text = doc.to_string();
    assert!(
        text.contains("\"optionalParameters\""),
        "request body field"
    );
    assert!(
        text.contains("\"storedOptionalParameters\""),
        "answer field"
    );
    let get = &doc["paths"]["/{org}/api/v1/imagesignings/{id}"]["get"]["parameters"];
    assert!(
        get.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "includeOptionalParameters" && p["in"] == "query"),
        "{get}"
    );
}

#[tokio::test]
async fn approval_flow_signs_with_pss_once_approved() {
    let svc = Service::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (product, op) = svc.approved_product("pss", "RSA3072").await;
    let pem = public_key(&svc, &product, &op).await;
    let digest = Hash::Sha384.digest(dir.path(), b"needs approval");
    let options = json!([{"signaturePadding": "PSS"}, {"saltLength": "hash"}]);
    let (status, req) = svc
        .requester()
        .post(
            "/imagesignings",
            &body(&product, &op, &digest, Hash::Sha384, options.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 2);
    assert!(req.get("signature").is_none());
    let id = req["id"].as_str().unwrap();

    // Approvers see the parameters, in the list and in the single view.
    let approver = svc.approver();
    let (status, pending) = approver.get("/imagesignings/approvals").await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["items"][0]["id"], id);
    assert_eq!(pending["items"][0]["storedOptionalParameters"], options);
    let (status, one) = approver
        .get(&format!("/imagesignings/approvals/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["storedOptionalParameters"], options);

    // A restart in between: the parameters come back from the store.
    let svc = svc.restart().await;
    let (status, _) = svc.approver().decide(id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = svc
        .requester()
        .get(&format!(
            "/imagesignings/{id}?includeOptionalParameters=true"
        ))
        .await;
    assert_eq!(got["state"], 16, "{got}");
    assert_eq!(got["storedOptionalParameters"], options);
    let sig = signature(&got);
    assert_eq!(sig.len(), 384);
    assert!(openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha384,
        true,
        &digest,
        &sig
    ));
    assert!(!openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha384,
        false,
        &digest,
        &sig
    ));

    let uses = audit_entries(&svc, "key.use").await;
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0]["subject"], id);
    assert_eq!(uses[0]["details"]["signaturePadding"], "PSS");
    assert_eq!(uses[0]["details"]["hashAlgorithm"], "SHA384");
    let created = audit_entries(&svc, "request.create").await;
    assert_eq!(created[0]["details"]["optionalParameters"], options);
    chain_ok(&svc).await;
}

#[tokio::test]
async fn detached_signature_with_pss_returns_certificate_and_chain() {
    let svc = Service::start().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = r#"{"name":"oci-signing","certificateType":"ENDENTITY","validityDays":365,"keyUsage":["digitalSignature"],"extendedKeyUsage":["codeSigning"],"subject":{"C":"FI","O":"Acme"},"email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;
    let (status, created) = svc
        .admin()
        .post(
            "/cas/profiles",
            &json!({"profileName": "oci-signing", "profileType": "END", "profileYAML": STANDARD.encode(profile)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let profile_id = created["id"].as_str().unwrap();
    let (status, body_ca) = svc
        .admin()
        .post(
            "/cas/internal",
            &json!({"subject": "CN=Acme Root CA,O=Acme,C=FI"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body_ca}");
    let mut product = seed_product("detached", "RSA2048");
    product["caInfo"] = json!([{
        "CN": "Notary signing certificate",
        "description": "End-Entity certificate",
        "externalRoot": false,
        "useCase": "CodeSigning",
        "keyType": "RSA2048",
        "certificateType": "ENDENTITY",
        "profileID": profile_id
    }]);
    product["productOperations"][0]["operationType"] = json!("DetachedSignature");
    product["productOperations"][0]
        .as_object_mut()
        .unwrap()
        .remove("token");
    let (product, op) = svc.approved_product_json(product).await;

    let digest = Hash::Sha256.digest(dir.path(), b"a notation payload");
    let (status, req) = svc
        .fast_requester()
        .post(
            "/imagesignings",
            &body(
                &product,
                &op,
                &digest,
                Hash::Sha256,
                json!([{"signaturePadding": "PSS"}]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    assert_eq!(req["state"], 16, "{req}");
    let cert = req["certificate"].as_str().unwrap();
    let chain = req["chain"].as_str().unwrap();
    assert_eq!(chain.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    // The certificate's public key, by openssl, verifies the PSS signature.
    std::fs::write(dir.path().join("leaf.pem"), cert).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-in", "leaf.pem", "-noout", "-pubkey"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let pem = String::from_utf8(out.stdout).unwrap();
    let sig = signature(&req);
    assert!(openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha256,
        true,
        &digest,
        &sig
    ));
    assert!(!openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha256,
        false,
        &digest,
        &sig
    ));
    // And the leaf chains to the organisation's root (openssl verify with the chain).
    std::fs::write(dir.path().join("chain.pem"), chain).unwrap();
    let root = chain
        .rsplit_once("-----BEGIN CERTIFICATE-----")
        .map(|(_, r)| format!("-----BEGIN CERTIFICATE-----{r}"))
        .unwrap();
    std::fs::write(dir.path().join("root.pem"), root).unwrap();
    let out = Command::new("openssl")
        .args([
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
            "leaf.pem",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn postgres_keeps_optional_parameters() {
    let pg = signet_testkit::postgres::TestPostgres::shared();
    let svc = Service::start_with(Some(pg.fresh_database()), &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (product, op) = svc.approved_product("pss", "RSA2048").await;
    let pem = public_key(&svc, &product, &op).await;
    let digest = Hash::Sha512.digest(dir.path(), b"on postgres");
    let options = json!([{"signaturePadding": "PSS"}, {"saltLength": 64}]);
    let (status, req) = svc
        .requester()
        .post(
            "/imagesignings",
            &body(&product, &op, &digest, Hash::Sha512, options.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{req}");
    let id = req["id"].as_str().unwrap().to_owned();
    let svc = svc.restart().await;
    let (status, _) = svc.approver().decide(&id, "APPROVE", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = svc
        .requester()
        .get(&format!(
            "/imagesignings/{id}?includeOptionalParameters=true"
        ))
        .await;
    assert_eq!(got["state"], 16, "{got}");
    assert_eq!(got["storedOptionalParameters"], options);
    assert!(openssl_verifies(
        dir.path(),
        &pem,
        Hash::Sha512,
        true,
        &digest,
        &signature(&got)
    ));
    chain_ok(&svc).await;
}
