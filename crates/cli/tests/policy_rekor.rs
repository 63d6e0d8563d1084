//! `sigstoreSigned` requirements that need a transparency-log promise, checked offline: public
//! keys with `rekorPublicKeyPath`, and `fulcio` (a CA made by openssl standing in for Fulcio,
//! the certificate checked at the SET's integrated time). The Rekor bundles are made with a test
//! log key (`signet_sigstore::rekor::make_bundle`, itself cross-checked against sigstore-rs in
//! the interop crate) and pushed to a real registry. Also: simple signatures read from an
//! `http://` lookaside served by a small in-test file server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use common::{Env, sh};
use signet_crypto::{KeyType, PrivateKey};
use signet_oci::Reference;
use signet_sigstore::{SignatureImage, SignatureLayer, annotations, gobase64, rekor};
use signet_testkit::TestRegistry;
use signet_testkit::openssl_pki::{Hierarchy, KeyAlg, LeafVariant};

/// A Rekor integration time before any certificate made by the tests is valid.
const LONG_AGO: i64 = 1_600_000_000;

fn soon() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 60
}

struct Fixture {
    reg: TestRegistry,
    env: Env,
    image: String,
    digest: String,
    rekor: PrivateKey,
}

fn fixture() -> Fixture {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let rekor = PrivateKey::generate(KeyType::P256).unwrap();
    env.write("rekor.pub", rekor.public_key().to_pem());
    let other = PrivateKey::generate(KeyType::P256).unwrap();
    env.write("other-rekor.pub", other.public_key().to_pem());
    std::fs::create_dir_all(env.path("regd")).unwrap();
    env.write(
        "regd/a.yaml",
        format!(
            "docker:\n  {}:\n    use-sigstore-attachments: true\n",
            reg.addr()
        ),
    );
    Fixture {
        image: img.reference(),
        digest: img.digest,
        reg,
        env,
        rekor,
    }
}

impl Fixture {
    /// Pushes a `.sig` image with one layer signed by `signer` over the image's payload, with a
    /// Rekor bundle made by `log` over `signer_pem`, plus `extra` annotations.
    fn push_signature(
        &self,
        signer: &PrivateKey,
        signer_pem: &str,
        log: &PrivateKey,
        extra: &[(&str, String)],
    ) {
        self.push_signature_at(soon(), signer, signer_pem, log, extra);
    }

    fn push_signature_at(
        &self,
        time: i64,
        signer: &PrivateKey,
        signer_pem: &str,
        log: &PrivateKey,
        extra: &[(&str, String)],
    ) {
        let reference: Reference = self.image.parse().unwrap();
        let payload = signet_sigstore::payload::generate_payload_for(
            &reference.repository_name(),
            reference.digest().unwrap(),
            &BTreeMap::new(),
        );
        let signature = gobase64::encode(&signer.sign(&payload).unwrap());
        let bundle = rekor::make_bundle(log, &payload, &signature, signer_pem, time, 7).unwrap();
        let mut layer = SignatureLayer::with_signature_text(payload.clone(), signature)
            .annotate(annotations::BUNDLE, bundle);
        for (k, v) in extra {
            layer = layer.annotate(k, v.clone());
        }
        let mut image = SignatureImage::empty(false);
        image.append(&layer).unwrap();
        let p = self.reg.pusher();
        p.push_blob("app", &payload);
        p.push_blob("app", &image.config_bytes());
        p.push_manifest(
            "app",
            &(self.digest.replace(':', "-") + ".sig"),
            image.media_type(),
            &image.manifest_bytes(),
        );
    }

    fn policy(&self, requirement: serde_json::Value) -> String {
        let policy = serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {self.reg.addr(): [requirement]}}
        });
        self.env
            .write("policy.json", serde_json::to_vec(&policy).unwrap())
    }

    fn verify(&self) -> std::process::Output {
        self.env.run(&[
            "verify",
            "--policy",
            &self.env.p("policy.json"),
            "--registries-d",
            &self.env.p("regd"),
            "--output",
            "text",
            &self.image,
        ])
    }
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout)
}

#[test]
fn public_key_with_rekor_set() {
    let f = fixture();
    let signer = PrivateKey::generate(KeyType::P256).unwrap();
    let signer_pem = signer.public_key().to_pem();
    f.env.write("signer.pub", &signer_pem);
    f.push_signature(&signer, &signer_pem, &f.rekor, &[]);
    let requirement = |rekor: &str| {
        serde_json::json!({
            "type": "sigstoreSigned",
            "keyPath": f.env.p("signer.pub"),
            "rekorPublicKeyPath": f.env.p(rekor),
            "signedIdentity": {"type": "matchRepository"}
        })
    };
    f.policy(requirement("rekor.pub"));
    let out = f.verify();
    assert!(out.status.success(), "{}", stderr(&out));
    // a SET from another log is not trusted
    f.policy(requirement("other-rekor.pub"));
    let out = f.verify();
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No public key verified against the RekorSET"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rekor_required_but_bundle_for_another_key() {
    let f = fixture();
    let signer = PrivateKey::generate(KeyType::P256).unwrap();
    let impostor = PrivateKey::generate(KeyType::P256).unwrap();
    f.env.write("signer.pub", signer.public_key().to_pem());
    // The SET vouches for the impostor's key, not for the signer's.
    f.push_signature(&signer, &impostor.public_key().to_pem(), &f.rekor, &[]);
    f.policy(serde_json::json!({
        "type": "sigstoreSigned",
        "keyPath": f.env.p("signer.pub"),
        "rekorPublicKeyPath": f.env.p("rekor.pub"),
        "signedIdentity": {"type": "matchRepository"}
    }));
    let out = f.verify();
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("publicKey in Rekor SET does not match"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fulcio_certificate_checked_at_the_integrated_time() {
    let f = fixture();
    // A CA hierarchy made by openssl plays Fulcio; its leaf carries e-mail and OIDC issuer.
    let pki = Hierarchy::seed002(&f.env.path("fulcio"), KeyAlg::EcP256);
    let (cert, key) = pki.leaf_variant(LeafVariant::CodeSigningEku);
    let signer = PrivateKey::from_unencrypted_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    let chain = std::fs::read_to_string(&pki.bundle).unwrap();
    f.push_signature(
        &signer,
        &cert_pem,
        &f.rekor,
        &[
            (annotations::CERTIFICATE, cert_pem.clone()),
            (annotations::CHAIN, chain),
        ],
    );
    let requirement = |email: &str| {
        serde_json::json!({
            "type": "sigstoreSigned",
            "fulcio": {"caPath": f.env.p("fulcio/root.pem"), "oidcIssuer": "https://linuxera.org", "subjectEmail": email},
            "rekorPublicKeyPath": f.env.p("rekor.pub"),
            "signedIdentity": {"type": "matchRepository"}
        })
    };
    f.policy(requirement("team-a@linuxera.org"));
    let out = f.verify();
    assert!(out.status.success(), "{}", stderr(&out));
    f.policy(requirement("team-b@linuxera.org"));
    let out = f.verify();
    assert_eq!(out.status.code(), Some(12));
    assert!(
        stderr(&out).contains("Required email \"team-b@linuxera.org\" not found"),
        "{}",
        stderr(&out)
    );
    // The log says the signature was made before the certificate existed: rejected.
    f.push_signature_at(
        LONG_AGO,
        &signer,
        &cert_pem,
        &f.rekor,
        &[
            (annotations::CERTIFICATE, cert_pem.clone()),
            (
                annotations::CHAIN,
                std::fs::read_to_string(&pki.bundle).unwrap(),
            ),
        ],
    );
    f.policy(requirement("team-a@linuxera.org"));
    let out = f.verify();
    assert_eq!(out.status.code(), Some(12));
    assert!(stderr(&out).contains("not yet valid"), "{}", stderr(&out));
}

/// Serves files under `root` over HTTP on loopback (GET only; 404 for what is missing).
fn file_server(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let path = path.replace("%40", "@").replace("%3D", "=");
            let file = root.join(path.trim_start_matches('/'));
            let mut stream = stream;
            match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
                _ => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn simple_signatures_from_an_http_lookaside() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let gnupg = env.path("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    let g = format!("GNUPGHOME={}", gnupg.display());
    sh(
        env.dir.path(),
        &format!(
            "chmod 700 {0} && {g} gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'Signet Test <t@example.org>' ed25519 sign never 2>/dev/null && {g} gpg --export > pub.gpg && {g} gpg --export-secret-keys --armor > sec.asc",
            gnupg.display()
        ),
    );
    // signet writes to a file:// staging area, which a web server then publishes.
    std::fs::create_dir_all(env.path("regd-write")).unwrap();
    env.write(
        "regd-write/a.yaml",
        format!(
            "default-docker:\n  lookaside-staging: file://{}\n",
            env.p("published")
        ),
    );
    env.ok(&[
        "sign",
        "--openpgp-key",
        "sec.asc",
        "--registries-d",
        &env.p("regd-write"),
        &img.reference(),
    ]);
    let url = file_server(env.path("published"));
    std::fs::create_dir_all(env.path("regd-read")).unwrap();
    env.write(
        "regd-read/a.yaml",
        format!("default-docker:\n  lookaside: {url}\n"),
    );
    env.write(
        "policy.json",
        format!(
            r#"{{"default":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{}"}}]}}"#,
            env.p("pub.gpg")
        ),
    );
    env.ok(&[
        "verify",
        "--policy",
        "policy.json",
        "--registries-d",
        &env.p("regd-read"),
        &img.reference(),
    ]);
    // An unsigned image: the server answers 404 for signature-1.
    let other = reg.push_random_image("app", "v2");
    let e = env.fails(
        &[
            "verify",
            "--policy",
            "policy.json",
            "--registries-d",
            &env.p("regd-read"),
            &other.reference(),
        ],
        12,
    );
    assert!(e.contains("no signature exists"), "{e}");
    sh(env.dir.path(), &format!("{g} gpgconf --kill all || true"));
}

#[test]
fn key_mode_verify_checks_the_rekor_bundle_offline() {
    let f = fixture();
    let signer = PrivateKey::generate(KeyType::P256).unwrap();
    let signer_pem = signer.public_key().to_pem();
    let pubkey = f.env.write("signer.pub", &signer_pem);
    f.push_signature(&signer, &signer_pem, &f.rekor, &[]);
    let rekor = f.env.p("rekor.pub");
    let out = f.env.run(&[
        "verify",
        "--key",
        &pubkey,
        "--rekor-public-key",
        &rekor,
        &f.image,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("Existence of the claims in the transparency log was verified offline")
    );
    // cosign's environment variable works too
    let out = f
        .env
        .signet()
        .env("SIGSTORE_REKOR_PUBLIC_KEY", &rekor)
        .args(["verify", "--key", &pubkey, &f.image])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // no Rekor key: the bundle cannot be checked, fail closed
    let e = f.env.fails(&["verify", "--key", &pubkey, &f.image], 12);
    assert!(e.contains("no Rekor public key is configured"), "{e}");
    // another log's key: rejected
    let e = f.env.fails(
        &[
            "verify",
            "--key",
            &pubkey,
            "--rekor-public-key",
            &f.env.p("other-rekor.pub"),
            &f.image,
        ],
        12,
    );
    assert!(e.contains("transparency-log bundle rejected"), "{e}");
}
