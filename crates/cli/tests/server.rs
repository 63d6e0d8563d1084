//! `signet server` as a process: the PKCS#11 backend on a SoftHSM2 token made for the test,
//! a TOML config with SIGNET_* overrides, SIGKILL and restart, `server audit verify` on an
//! intact and a tampered log, `server token` input errors, graceful shutdown, and no PIN
//! or token in the logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::service::Server;
use serde_json::{Value, json};

const PIN: &str = "pin-83c1d2e4f5";

fn signet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signet"))
}

/// A blocking HTTP call with curl (present wherever the tests run: scripts/install-deps).
fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Vec<u8>), String> {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if let Some(b) = body {
        cmd.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            &b.to_string(),
        ]);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let mut bytes = out.stdout;
    let pos = bytes.iter().rposition(|b| *b == b'\n').ok_or("no status")?;
    let code: u16 = String::from_utf8_lossy(&bytes[pos + 1..])
        .trim()
        .parse()
        .map_err(|_| "no status".to_owned())?;
    bytes.truncate(pos);
    if code == 0 {
        return Err("connection failed".to_owned());
    }
    Ok((code, bytes))
}

fn json_call(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let (code, bytes) = call(method, url, Some(token), body).unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn token(data: &Path, user: &str, groups: &str) -> String {
    let out = signet()
        .args(["server", "token", "--data-dir"])
        .arg(data)
        .args(["--org", "acme", "--user", user, "--groups", groups])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn product(name: &str, key_type: &str) -> Value {
    json!({"name": name, "description": "d", "productType": "Production", "enabled": true,
        "caInfo": [], "rndKeys": [], "productOperations": [{
            "name": "sign", "description": "d", "operationType": "DigestSigning",
            "token": {"name": "k", "description": "d", "keyType": key_type},
            "approvalRule": {"name": "r", "description": "d", "allowedGroups": ["writers"],
                "approvalGroups": ["approvers"], "blanketGroups": ["fast"]}}]})
}

/// Creates and approves a product; returns (id, operation id).
fn approved(server: &Server, data: &Path, name: &str, key_type: &str) -> (String, String) {
    let admin = token(data, "ada", "admins");
    let (code, created) = json_call(
        "POST",
        &format!("{}/products", server.api()),
        &admin,
        Some(&product(name, key_type)),
    );
    assert_eq!(code, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let op = created["productOperations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pat = token(data, "pat", "product-approvers");
    let (code, _) = json_call(
        "POST",
        &format!("{}/products/approvals", server.api()),
        &pat,
        Some(&json!({"requestId": id, "decision": "APPROVE"})),
    );
    assert_eq!(code, 204);
    (id, op)
}

fn digest(data: &[u8]) -> String {
    STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

fn sign_request(server: &Server, tok: &str, product: &str, op: &str, data: &[u8]) -> (u16, Value) {
    json_call(
        "POST",
        &format!("{}/imagesignings", server.api()),
        tok,
        Some(&json!({
        "name": "n", "description": "d", "productId": product, "idProductOperation": op,
        "digest": digest(data), "hashAlgorithm": "SHA256"})),
    )
}

/// Verifies with openssl, the independent peer.
fn openssl_verify(dir: &Path, pem: &[u8], data: &[u8], signature_b64: &str) {
    std::fs::write(dir.join("pub.pem"), pem).unwrap();
    std::fs::write(dir.join("signed"), data).unwrap();
    std::fs::write(dir.join("sig"), STANDARD.decode(signature_b64).unwrap()).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("pub.pem"))
        .arg("-signature")
        .arg(dir.join("sig"))
        .arg(dir.join("signed"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pkcs11_backend_from_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = signet_testkit::softhsm::Token::init(dir.path(), "signet-test", PIN).conf;
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let config = dir.path().join("signet.toml");
    std::fs::write(
        &config,
        format!(
            "admin_group = \"admins\"\nlog_format = \"json\"\n[pkcs11]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken_label = \"wrong-label\"\npin_file = \"{}\"\n",
            pin_file.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let conf_s = conf.to_str().unwrap();
    // SIGNET_PKCS11_TOKEN_LABEL overrides the file's label.
    let server = Server::start_in(
        &data,
        &[
            ("SIGNET_CONFIG", config.to_str().unwrap()),
            ("SOFTHSM2_CONF", conf_s),
            ("SIGNET_PKCS11_TOKEN_LABEL", "signet-test"),
        ],
    );
    for key_type in ["ECDSAP256", "RSA2048"] {
        let (pid, op) = approved(&server, &data, &format!("hsm-{key_type}"), key_type);
        let fay = token(&data, "fay", "writers,fast");
        let (code, req) = sign_request(&server, &fay, &pid, &op, b"hsm payload");
        assert_eq!(code, 202, "{req}");
        assert_eq!(req["state"], 16);
        let (code, pem) = call(
            "GET",
            &format!("{}/products/{pid}/operations/{op}/publickey", server.api()),
            Some(&fay),
            None,
        )
        .unwrap();
        assert_eq!(code, 200);
        openssl_verify(
            dir.path(),
            &pem,
            b"hsm payload",
            req["signature"].as_str().unwrap(),
        );
    }
    // The keys are on the token (listed by the token's own tool), not in the data dir.
    let objects = walk(&dir.path().join("tokens"));
    assert!(
        objects
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "object"))
            .count()
            >= 4,
        "{objects:?}"
    );
    assert!(
        !data.join("keystore").join("keys").exists()
            || std::fs::read_dir(data.join("keystore/keys"))
                .unwrap()
                .next()
                .is_none()
    );
    let log = server.log();
    assert!(!log.contains(PIN), "PIN in the log");
    assert!(
        !log.contains(&token(&data, "fay", "writers,fast")[..40]),
        "token in the log"
    );
    // A wrong PIN is a clear start-up error naming the token, not the PIN.
    let out = signet()
        .args(["server", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .env("SIGNET_CONFIG", &config)
        .env("SOFTHSM2_CONF", &conf)
        .env("SIGNET_PKCS11_TOKEN_LABEL", "signet-test")
        .env("SIGNET_PKCS11_PIN", "0000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("signet-test") && !err.contains("0000"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn sigkill_keeps_acknowledged_requests_and_audit_verify_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_in(&data, &[]);
    let (pid, op) = approved(&server, &data, "oci", "ECDSAP256");
    let (wes, fay) = (
        token(&data, "wes", "writers"),
        token(&data, "fay", "writers,fast"),
    );
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let tok = if i % 2 == 0 { &wes } else { &fay };
        let (code, req) = sign_request(&server, tok, &pid, &op, format!("{i}").as_bytes());
        assert_eq!(code, 202);
        acknowledged.push(req);
    }
    server.kill(); // SIGKILL: no shutdown path runs.
    let server = Server::start_in(&data, &[]);
    for req in &acknowledged {
        let (code, got) = json_call(
            "GET",
            &format!(
                "{}/imagesignings/{}",
                server.api(),
                req["id"].as_str().unwrap()
            ),
            &wes,
            None,
        );
        assert_eq!(code, 200);
        assert_eq!(got["state"], req["state"]);
        assert_eq!(got.get("signature"), req.get("signature"));
    }
    drop(server);
    let out = signet()
        .args(["server", "audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("acme: ok"), "{stdout}");
    // Rewrite history: change who created a request.
    let db = data.join("signet.db");
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 5;")
        .output()
        .expect("sqlite3 (package sqlite3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = signet()
        .args(["server", "audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("acme: BROKEN") && stdout.contains("entry 5"),
        "{stdout}"
    );
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(&dir.path().join("data"), &[]);
    let status = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.try_wait() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.log();
    assert!(log.contains("shutting down"), "{log}");
    for line in log.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(v["level"].is_string());
    }
}

#[test]
fn bad_invocations_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["server", "token", "--org", "bad org", "--user", "u"],
            vec![],
            "--org",
        ),
        (
            vec![
                "server", "token", "--org", "acme", "--user", "u", "--ttl", "forever",
            ],
            vec![],
            "--ttl",
        ),
        (
            vec!["server", "token", "--org", "acme", "--user", " "],
            vec![],
            "--user",
        ),
        (vec!["server", "--listen", "nowhere"], vec![], "listen"),
        (
            vec!["server"],
            vec![("SIGNET_DATABASE_URL", "mysql://x")],
            "mysql",
        ),
        (
            vec!["server"],
            vec![("SIGNET_REQUEST_EXPIRY", "soon")],
            "request_expiry",
        ),
        (
            vec!["server"],
            vec![("SIGNET_LOG_FORMAT", "xml")],
            "log_format",
        ),
        (
            vec!["server"],
            vec![("SIGNET_DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db")],
            "***",
        ),
        (
            vec!["server"],
            vec![("TOKIO_WORKER_THREADS", "many")],
            "TOKIO_WORKER_THREADS",
        ),
        (
            vec!["server"],
            vec![("TOKIO_WORKER_THREADS", "0")],
            "TOKIO_WORKER_THREADS",
        ),
    ];
    for (args, envs, needle) in cases {
        let mut cmd = signet();
        cmd.args(&args).arg("--data-dir").arg(&data);
        for (k, v) in &envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} {envs:?}: {err}");
        assert!(
            err.starts_with("Error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nadmin_gruop = \"x\"\n").unwrap();
    let out = signet()
        .args(["server", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("admin_gruop") && err.trim_end().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn an_unwritable_audit_log_fails_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data, &[]);
    let (pid, op) = approved(&server, &data, "oci", "ECDSAP256");
    let fay = token(&data, "fay", "writers,fast");
    let sqlite = |sql: &str| {
        let out = Command::new("sqlite3")
            .arg(data.join("signet.db"))
            .arg(sql)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // The audit log refuses new entries (as a full or failing disk would).
    sqlite(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;",
    );
    let (code, body) = sign_request(&server, &fay, &pid, &op, b"unaudited");
    assert_eq!(code, 500, "{body}");
    assert!(body.get("signature").is_none());
    assert!(
        !body["detail"]
            .as_str()
            .unwrap()
            .contains("audit log unavailable"),
        "internal detail leaked: {body}"
    );
    let (_, list) = json_call(
        "GET",
        &format!("{}/imagesignings", server.api()),
        &fay,
        None,
    );
    assert_eq!(list["count"], 0, "nothing was stored: {list}");
    sqlite("DROP TRIGGER no_audit;");
    let (code, body) = sign_request(&server, &fay, &pid, &op, b"audited");
    assert_eq!(code, 202, "{body}");
    assert_eq!(body["state"], 16);
}

#[test]
fn two_server_processes_share_one_postgres() {
    let pg = signet_testkit::postgres::TestPostgres::shared();
    let url = pg.fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [("SIGNET_DATABASE_URL", url.as_str())];
    let a = Server::start_in(&data, &env);
    let b = Server::start_in(&data, &env);
    let (pid, op) = approved(&a, &data, "oci", "ECDSAP256");
    let (wes, rae) = (
        token(&data, "wes", "writers"),
        token(&data, "rae", "approvers"),
    );
    let (code, req) = sign_request(&b, &wes, &pid, &op, b"replicated");
    assert_eq!(code, 202, "{req}");
    let id = req["id"].as_str().unwrap();
    let (code, _) = json_call(
        "POST",
        &format!("{}/imagesignings/approvals", a.api()),
        &rae,
        Some(&json!({"requestId": id, "decision": "APPROVE"})),
    );
    assert_eq!(code, 204);
    let (_, got) = json_call(
        "GET",
        &format!("{}/imagesignings/{id}", b.api()),
        &wes,
        None,
    );
    assert_eq!(got["state"], 16, "{got}");
    let (code, pem) = call(
        "GET",
        &format!("{}/products/{pid}/operations/{op}/publickey", b.api()),
        Some(&wes),
        None,
    )
    .unwrap();
    assert_eq!(code, 200);
    openssl_verify(
        dir.path(),
        &pem,
        b"replicated",
        got["signature"].as_str().unwrap(),
    );
    let out = signet()
        .args(["server", "audit", "verify", "--data-dir"])
        .arg(&data)
        .env("SIGNET_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The service's PKI on SoftHSM2: the internal CA's root and intermediate keys and a
/// product's end-entity key are made on the token, the certificates they sign verify with
/// openssl, DetachedSignature signatures verify with the certificate's key, and an external
/// root's CSR is signed on the token too.
#[test]
fn pki_keys_live_on_the_pkcs11_token() {
    let dir = tempfile::tempdir().unwrap();
    let conf = signet_testkit::softhsm::Token::init(dir.path(), "signet-pki", PIN).conf;
    let data = dir.path().join("data");
    let server = Server::start_in(
        &data,
        &[
            ("SOFTHSM2_CONF", conf.to_str().unwrap()),
            ("SIGNET_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            ("SIGNET_PKCS11_TOKEN_LABEL", "signet-pki"),
            ("SIGNET_PKCS11_PIN", PIN),
        ],
    );
    let objects = || {
        walk(&dir.path().join("tokens"))
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "object"))
            .count()
    };
    let before = objects();
    let admin = token(&data, "ada", "admins");
    let profile = r#"{"name":"oci-signing","certificateType":"ENDENTITY","validityDays":365,"keyUsage":["digitalSignature"],"extendedKeyUsage":["codeSigning"],"subject":{"C":"FI","O":"Acme"},"email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;
    let (code, created) = json_call(
        "POST",
        &format!("{}/cas/profiles", server.api()),
        &admin,
        Some(
            &json!({"profileName": "oci-signing", "profileType": "END", "profileYAML": STANDARD.encode(profile)}),
        ),
    );
    assert_eq!(code, 201, "{created}");
    let profile_id = created["id"].as_str().unwrap().to_owned();
    let (code, body) = json_call(
        "POST",
        &format!("{}/cas/internal", server.api()),
        &admin,
        Some(&json!({"subject": "/CN=HSM Root CA/O=Acme"})),
    );
    assert_eq!(code, 201, "{body}");
    let product = |name: &str, external: bool| {
        json!({"name": name, "description": "d", "productType": "Production", "enabled": true,
            "caInfo": [{"CN": format!("{name} signer"), "description": "d", "externalRoot": external,
                "useCase": "CodeSigning", "keyType": "RSA2048", "certificateType": "ENDENTITY", "profileID": profile_id}],
            "rndKeys": [],
            "productOperations": [{"name": "detached", "description": "d", "operationType": "DetachedSignature",
                "approvalRule": {"name": "r", "description": "d", "allowedGroups": ["writers"],
                    "approvalGroups": ["approvers"], "blanketGroups": ["fast"]}}]})
    };
    let pat = token(&data, "pat", "product-approvers");
    let mut ids = Vec::new();
    for (name, external) in [("internal", false), ("external", true)] {
        let (code, created) = json_call(
            "POST",
            &format!("{}/products", server.api()),
            &admin,
            Some(&product(name, external)),
        );
        assert_eq!(code, 202, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let (code, _) = json_call(
            "POST",
            &format!("{}/products/approvals", server.api()),
            &pat,
            Some(&json!({"requestId": id, "decision": "APPROVE"})),
        );
        assert_eq!(code, 204);
        ids.push((id, created));
    }
    // Root, intermediate and two end-entity keys: private and public objects on the token.
    assert!(objects() >= before + 8, "{} -> {}", before, objects());

    // The issued chain verifies with openssl; the signature with the certificate's key.
    let fay = token(&data, "fay", "writers,fast");
    let (pid, created) = &ids[0];
    let op = created["productOperations"][0]["id"].as_str().unwrap();
    let (code, req) = sign_request(&server, &fay, pid, op, b"hsm detached");
    assert_eq!(code, 202, "{req}");
    assert_eq!(req["state"], 16, "{req}");
    let d = dir.path();
    std::fs::write(d.join("leaf.pem"), req["certificate"].as_str().unwrap()).unwrap();
    let chain = req["chain"].as_str().unwrap();
    let split = chain.find("-----END CERTIFICATE-----").unwrap() + 26;
    std::fs::write(d.join("intermediate.pem"), &chain[..split]).unwrap();
    std::fs::write(d.join("root.pem"), &chain[split..]).unwrap();
    let verify = Command::new("openssl")
        .current_dir(d)
        .args([
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "leaf.pem",
        ])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let pubkey = Command::new("openssl")
        .current_dir(d)
        .args(["x509", "-in", "leaf.pem", "-pubkey", "-noout"])
        .output()
        .unwrap();
    openssl_verify(
        d,
        &pubkey.stdout,
        b"hsm detached",
        req["signature"].as_str().unwrap(),
    );

    // The external root's CSR was signed on the token: openssl checks its self-signature.
    let (_, external) = &ids[1];
    let cert_id = external["caInfo"][0]["id"].as_str().unwrap();
    let (code, entry) = json_call(
        "GET",
        &format!("{}/cas/cas/{cert_id}", server.api()),
        &admin,
        None,
    );
    assert_eq!(code, 200, "{entry}");
    let csr = STANDARD.decode(entry["csr"].as_str().unwrap()).unwrap();
    std::fs::write(d.join("service.csr"), csr).unwrap();
    let checked = Command::new("openssl")
        .current_dir(d)
        .args(["req", "-in", "service.csr", "-noout", "-verify", "-text"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{text}");
    assert!(text.contains("external signer"), "{text}");
    assert!(text.contains("ci@acme.example"), "{text}");
    assert!(!server.log().contains(PIN), "PIN in the log");
}
