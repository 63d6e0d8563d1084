//! Notary Project signatures with keys held by the signing service: the `notation-signet`
//! plugin driven with the plugin protocol's JSON exactly as notation drives it, `signet
//! notation sign` with that plugin registered as a notation plugin key, and `signet notation
//! sign --remote`. The service runs as a child process on loopback with its internal CA; the
//! signatures are checked with openssl and python's cryptography and verified against the
//! organisation's root with `signet notation verify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::Env;
use common::service::Server;
use serde_json::{Value, json};
use signet_testkit::TestRegistry;

const WRITERS: &str = "notation-writers";
const APPROVERS: &str = "notation-approvers";
const BLANKET: &str = "notation-blanket";

/// The service with an internal CA, a code-signing profile, and DetachedSignature products.
struct World {
    srv: Server,
    env: Env,
    admin: String,
    /// In the writers and blanket groups: signed at once.
    blanket_writer: String,
    /// In the writers group only: each request waits for an approver.
    writer: String,
    approver: String,
    /// In no group the products name.
    outsider: String,
}

impl World {
    fn new() -> World {
        let srv = Server::start();
        let env = Env::new();
        let admin = srv.token("root", &["admins"]);
        let w = World {
            blanket_writer: srv.token("carol", &[WRITERS, BLANKET]),
            writer: srv.token("alice", &[WRITERS]),
            approver: srv.token("bob", &[APPROVERS]),
            outsider: srv.token("mallory", &["elsewhere"]),
            admin,
            srv,
            env,
        };
        w.srv.remote_json(
            &w.env,
            &w.admin,
            &["pki", "ca", "init", "--subject", "/CN=Acme Root CA/O=Acme"],
        );
        w
    }

    fn token_file(&self, name: &str, token: &str) -> String {
        let path = self.env.write(name, token);
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        path
    }

    /// Creates and approves a product with one DetachedSignature operation whose certificate
    /// (key type `key_type`) the internal CA issues; returns the product's name.
    fn product(&self, name: &str, key_type: &str) -> String {
        let profile = self.env.write(
            &format!("{name}-profile.yaml"),
            "name: PROFILE\ncertificateType: ENDENTITY\nvalidityDays: 30\n\
             keyUsage: [digitalSignature]\nextendedKeyUsage: [codeSigning]\n\
             subject: {C: FI, ST: Uusimaa, O: Acme}\nemail: ci@acme.example\noidcIssuer: https://acme.example\n"
                .replace("PROFILE", &format!("{name}-signing")),
        );
        let created = self.srv.remote_json(
            &self.env,
            &self.admin,
            &["pki", "profile", "create", "--file", &profile],
        );
        let profile_id = created["id"].as_str().unwrap().to_owned();
        let product = json!({
            "name": name,
            "description": "notation signing",
            "productType": "Production",
            "enabled": true,
            "caInfo": [{
                "CN": format!("{name} signer"),
                "description": "code signing",
                "useCase": "CodeSigning",
                "keyType": key_type,
                "certificateType": "ENDENTITY",
                "profileID": profile_id,
            }],
            "rndKeys": [],
            "productOperations": [{
                "name": "notation",
                "description": "Notary Project signatures",
                "operationType": "DetachedSignature",
                "approvalRule": {
                    "name": "rule", "description": "rule",
                    "allowedGroups": [WRITERS], "approvalGroups": [APPROVERS],
                    "blanketGroups": [BLANKET],
                },
            }],
        });
        let file = self.env.write(&format!("{name}.json"), product.to_string());
        let p = self.srv.remote_json(
            &self.env,
            &self.admin,
            &["product", "create", "--file", &file],
        );
        let id = p["id"].as_str().unwrap().to_owned();
        let pat = self.srv.token("pat", &["product-approvers"]);
        self.srv
            .remote_json(&self.env, &pat, &["product", "approve", "-I", &id]);
        name.to_owned()
    }

    /// The internal CA's root certificate (PEM), written to `name`.
    fn root(&self, name: &str) -> PathBuf {
        let chain = self.env.p("ca-chain.pem");
        let out = self
            .srv
            .remote(&self.env, &self.admin, &["pki", "ca", "get", "-O", &chain]);
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(&chain).unwrap();
        let last = text
            .rfind("-----BEGIN CERTIFICATE-----")
            .expect("a PEM chain");
        let path = self.env.path(name);
        std::fs::write(&path, &text[last..]).unwrap();
        path
    }

    fn config(&self, token_file: &str) -> Value {
        json!({"url": self.srv.api(), "token_file": token_file})
    }
}

/// Runs the plugin with `command` and `request` on stdin, as notation does.
fn plugin(command: &str, request: &Value) -> Output {
    plugin_raw(command, request.to_string().as_bytes())
}

fn plugin_raw(command: &str, stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notation-signet"))
        .arg(command)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match child.stdin.take().unwrap().write_all(stdin) {
        Ok(()) => {}
        // A plugin refusing its command (e.g. an unknown one) may exit before reading its
        // input; what it answered is checked by the caller.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => panic!("writing the plugin's input: {e}"),
    }
    child.wait_with_output().unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "plugin failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The protocol's error document from a failed run: exit 1, JSON on stderr, nothing else.
fn error_doc(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "stderr is not the error JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(err["errorMessage"].as_str().is_some_and(|m| !m.is_empty()));
    err
}

/// A JWS signing input as notation builds it: base64url(protected) '.' base64url(payload).
fn signing_input(alg: &str) -> Vec<u8> {
    let protected = json!({"alg": alg, "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": "2026-11-22T08:00:00Z"});
    let payload = json!({"targetArtifact": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
        "size": 16724}});
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(protected.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
    .into_bytes()
}

/// Writes the response's chain as PEM files (leaf.pem, chain.pem without the leaf) in `dir`.
fn write_chain(dir: &Path, response: &Value) -> Vec<Vec<u8>> {
    let ders: Vec<Vec<u8>> = response["certificateChain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
        .collect();
    assert!(ders.len() >= 2, "leaf and at least the root: {response}");
    let pem = |der: &[u8]| {
        let b64 = STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    };
    std::fs::write(dir.join("leaf.pem"), pem(&ders[0])).unwrap();
    let rest: String = ders[1..].iter().map(|d| pem(d)).collect();
    std::fs::write(dir.join("chain.pem"), rest).unwrap();
    ders
}

fn sh(dir: &Path, script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn plugin_protocol_signs_through_the_service() {
    let w = World::new();
    let rsa = w.product("notation-rsa", "RSA3072");
    let ec = w.product("notation-ec", "ECDSAP384");
    let root = w.root("root.pem");
    let blanket = w.token_file("blanket.token", &w.blanket_writer);
    let config = w.config(&blanket);

    // get-plugin-metadata: static, named after the executable.
    let meta = ok_json(&plugin("get-plugin-metadata", &json!({})));
    assert_eq!(meta["name"], "signet");
    assert_eq!(meta["supportedContractVersions"], json!(["1.0"]));
    assert_eq!(meta["capabilities"], json!(["SIGNATURE_GENERATOR.RAW"]));
    for field in ["description", "version", "url"] {
        assert!(
            meta[field].as_str().is_some_and(|s| !s.is_empty()),
            "{meta}"
        );
    }

    for (product, spec, alg, hash, signing_alg) in [
        (&rsa, "RSA-3072", "PS384", "SHA-384", "RSASSA-PSS-SHA-384"),
        (&ec, "EC-384", "ES384", "SHA-384", "ECDSA-SHA-384"),
    ] {
        let key_id = format!("{product}/notation");
        let described = ok_json(&plugin(
            "describe-key",
            &json!({"contractVersion": "1.0", "keyId": key_id, "pluginConfig": config}),
        ));
        assert_eq!(described, json!({"keyId": key_id, "keySpec": spec}));

        let input = signing_input(alg);
        let response = ok_json(&plugin(
            "generate-signature",
            &json!({"contractVersion": "1.0", "keyId": key_id, "pluginConfig": config,
                "keySpec": spec, "hashAlgorithm": hash, "payload": STANDARD.encode(&input)}),
        ));
        assert_eq!(response["keyId"], key_id.as_str());
        assert_eq!(response["signingAlgorithm"], signing_alg);
        let dir = w.env.path(product);
        std::fs::create_dir_all(&dir).unwrap();
        write_chain(&dir, &response);
        std::fs::write(dir.join("input"), &input).unwrap();
        let signature = STANDARD
            .decode(response["signature"].as_str().unwrap())
            .unwrap();
        std::fs::write(dir.join("sig"), &signature).unwrap();
        // The chain leads to the organisation's root (openssl's own path building).
        std::fs::copy(&root, dir.join("root.pem")).unwrap();
        sh(
            &dir,
            "openssl verify -purpose any -CAfile root.pem -untrusted chain.pem leaf.pem",
        );
        sh(&dir, "openssl x509 -in leaf.pem -pubkey -noout > pub.pem");
        if spec.starts_with("RSA") {
            // RSASSA-PSS, SHA-384, salt length = hash length (openssl checks it with -2? no:
            // an explicit 48 fails on any other salt length).
            sh(
                &dir,
                "openssl dgst -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 \
                 -verify pub.pem -signature sig input",
            );
        } else {
            // Raw r||s of 2 x 48 bytes, as JWS wants; python's cryptography checks it.
            assert_eq!(signature.len(), 96);
            sh(
                &dir,
                "/usr/bin/python3 -c \"
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
sig = open('sig','rb').read()
r, s = int.from_bytes(sig[:48],'big'), int.from_bytes(sig[48:],'big')
key = serialization.load_pem_public_key(open('pub.pem','rb').read())
key.verify(encode_dss_signature(r, s), open('input','rb').read(), ec.ECDSA(hashes.SHA384()))
\"",
            );
        }
        // A different payload does not verify with that signature.
        std::fs::write(dir.join("input"), b"something else").unwrap();
        let out = Command::new("openssl")
            .args([
                "dgst",
                "-sha384",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "input",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(!out.status.success());
    }

    // Errors as the protocol names them, one JSON document on stderr.
    let rsa_id = format!("{rsa}/notation");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "describe-key",
            json!({"contractVersion": "2.0", "keyId": rsa_id, "pluginConfig": config}),
            "UNSUPPORTED_CONTRACT_VERSION",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": "no-slash", "pluginConfig": config}),
            "VALIDATION_ERROR",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": "no-such-product/notation", "pluginConfig": config}),
            "VALIDATION_ERROR",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": format!("{rsa}/nope"), "pluginConfig": config}),
            "VALIDATION_ERROR",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": rsa_id,
                "pluginConfig": w.config(&w.token_file("outsider.token", &w.outsider))}),
            "ACCESS_DENIED",
        ),
        (
            "generate-signature",
            json!({"contractVersion": "1.0", "keyId": rsa_id, "pluginConfig": config,
                "keySpec": "RSA-3072", "hashAlgorithm": "SHA-256", "payload": "YQ=="}),
            "VALIDATION_ERROR",
        ),
        (
            "generate-signature",
            json!({"contractVersion": "1.0", "keyId": rsa_id, "pluginConfig": config,
                "keySpec": "RSA-2048", "hashAlgorithm": "SHA-256", "payload": "YQ=="}),
            "VALIDATION_ERROR",
        ),
        (
            "generate-signature",
            json!({"contractVersion": "1.0", "keyId": rsa_id, "pluginConfig": config,
                "keySpec": "RSA-3072", "hashAlgorithm": "SHA-384", "payload": "not base64!"}),
            "VALIDATION_ERROR",
        ),
        (
            "generate-envelope",
            json!({"contractVersion": "1.0", "keyId": rsa_id}),
            "VALIDATION_ERROR",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": rsa_id,
                "pluginConfig": {"url": "http://127.0.0.1:1/acme/api/v1", "token_file": blanket}}),
            "ERROR",
        ),
    ];
    for (command, request, code) in cases {
        let err = error_doc(&plugin(command, &request));
        assert_eq!(err["errorCode"], code, "{command} {request}: {err}");
    }
    let err = error_doc(&plugin_raw("describe-key", b"{not json"));
    assert_eq!(err["errorCode"], "VALIDATION_ERROR");
    let err = error_doc(&plugin_raw("no-such-command", b"{}"));
    assert_eq!(err["errorCode"], "VALIDATION_ERROR");
    assert!(
        !w.srv.log().contains(&w.blanket_writer),
        "the token must never be logged"
    );
}

#[test]
fn plugin_waits_for_approval_and_times_out_with_the_request_id() {
    let w = World::new();
    let product = w.product("notation-approval", "ECDSAP256");
    let writer = w.token_file("writer.token", &w.writer);
    let key_id = format!("{product}/notation");
    let input = signing_input("ES256");
    let request = |timeout: &str| {
        let mut config = w.config(&writer);
        config["timeout"] = json!(timeout);
        json!({"contractVersion": "1.0", "keyId": key_id, "pluginConfig": config,
            "keySpec": "EC-256", "hashAlgorithm": "SHA-256", "payload": STANDARD.encode(&input)})
    };

    // Nobody approves: TIMEOUT, naming the request so an operator can find it.
    let err = error_doc(&plugin("generate-signature", &request("2s")));
    assert_eq!(err["errorCode"], "TIMEOUT", "{err}");
    let pending = err["errorMetadata"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(err["errorMessage"].as_str().unwrap().contains(&pending));

    // An approver approves while the plugin waits: the signature comes back.
    let mut child = Command::new(env!("CARGO_BIN_EXE_notation-signet"))
        .arg("generate-signature")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request("60s").to_string().as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let list = w
            .srv
            .remote_json(&w.env, &w.approver, &["imagesigning", "getapprovals"]);
        let found = list
            .as_array()
            .or_else(|| list["items"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .find(|id| *id != pending)
            .map(str::to_owned);
        if let Some(id) = found {
            break id;
        }
        assert!(Instant::now() < deadline, "no request to approve: {list}");
        std::thread::sleep(Duration::from_millis(200));
    };
    w.srv
        .remote_json(&w.env, &w.approver, &["imagesigning", "approve", "-I", &id]);
    let out = child.wait_with_output().unwrap();
    let response = ok_json(&out);
    assert_eq!(response["signingAlgorithm"], "ECDSA-SHA-256");
    assert_eq!(
        STANDARD
            .decode(response["signature"].as_str().unwrap())
            .unwrap()
            .len(),
        64
    );
}

/// Installs the plugin where notation looks for it.
fn install_plugin(home: &Path) {
    let dir = home.join(".config/notation/plugins/signet");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_notation-signet"),
        dir.join("notation-signet"),
    )
    .unwrap();
}

#[test]
fn notation_sign_with_the_plugin_key_and_with_remote_then_verify() {
    let w = World::new();
    let reg = TestRegistry::start();
    let product = w.product("notation-image", "RSA2048");
    let root = w.root("root.pem");
    let token = w.token_file("blanket.token", &w.blanket_writer);
    install_plugin(w.env.dir.path());
    let img = reg.push_random_image("team/app", "v1");
    let reference = img.reference();
    let script = format!(
        r#"
set -e
notation() {{ "$SIGNET" notation "$@"; }}
notation key add build --plugin signet --id {product}/notation \
    --plugin-config url=$API --plugin-config token_file={token}
notation sign --key build "$IMAGE"
notation sign --key build --signature-format cose "$IMAGE"
SIGNET_TOKEN=$(cat {token}) notation sign --remote "$API" --product {product} --operation notation "$IMAGE"
test "$(notation ls "$IMAGE" | grep -c sha256:)" -ge 4
notation cert add --type ca --store acme {root}
cat > policy.json <<JSON
{{"version": "1.0", "trustPolicies": [{{"name": "all", "registryScopes": ["*"],
  "signatureVerification": {{"level": "strict"}}, "trustStores": ["ca:acme"],
  "trustedIdentities": ["x509.subject: C=FI, ST=Uusimaa, O=Acme, CN={product} signer"]}}]}}
JSON
notation policy import policy.json
notation verify "$IMAGE"
echo VERIFIED
"#,
        root = root.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(w.env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.env.dir.path())
        .env("SIGNET", env!("CARGO_BIN_EXE_signet"))
        .env("API", w.srv.api())
        .env("IMAGE", &reference)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {stderr}\nserver: {}",
        w.srv.log()
    );
    assert!(stdout.contains("VERIFIED"), "{stdout}");
    assert_eq!(stdout.matches("Successfully signed").count(), 3, "{stdout}");
    // Every signature was a signing request of the service, signed (state 16) for this
    // product.
    let list = w
        .srv
        .remote_json(&w.env, &w.blanket_writer, &["imagesigning", "getall"]);
    let signed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["productName"] == product.as_str() && r["state"] == 16)
        .count();
    assert_eq!(signed, 3, "{list}");
}
