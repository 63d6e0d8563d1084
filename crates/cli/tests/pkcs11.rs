//! `signet sign --key pkcs11:…` against a real registry (docker-registry on loopback) with keys
//! on a real SoftHSM2 token, as `cosign sign --key pkcs11:…` signs: keys made by the openssl
//! CLI and imported with `softhsm2-util --import`, the signature checked by `openssl dgst` and
//! by `signet verify --key pub.pem`; the certificate stored next to a key on the token is
//! attached (and with `--certificate-chain` verifies in certificate mode); bad URIs, wrong
//! PINs and missing keys fail with one line and exit 1, never showing the PIN.
//!
//! The `signet` child gets `SOFTHSM2_CONF` in its environment. Certificates are stored on the
//! token by this test binary re-run as a child with `SOFTHSM2_CONF` set (signet-testkit), as the
//! key crate's SoftHSM2 tests do: the environment of this process is never changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use common::{Env, sh};
use serde_json::Value;
use signet_testkit::TestRegistry;
use signet_testkit::openssl_pki::{EMAIL, Hierarchy, ISSUER, KeyAlg};

const MODULE: &str = signet_testkit::softhsm::MODULE;
const TOKEN: &str = "signet-cli";
const PIN: &str = "pin-3f9a0b7d51";
const CHILD_MARKER: &str = "SIGNET_CLI_PKCS11_CHILD";

/// An environment variable for the `signet` child: (name, value).
type EnvVar<'a> = (&'a str, &'a str);

/// A SoftHSM2 token in the test's directory.
struct Hsm {
    conf: PathBuf,
}

impl Hsm {
    fn new(env: &Env) -> Hsm {
        let token = signet_testkit::softhsm::Token::init(&env.path("hsm"), TOKEN, PIN);
        Hsm { conf: token.conf }
    }

    /// `softhsm2-util --import` of a PKCS#8 PEM key with its public key.
    fn import(&self, key: &Path, label: &str, id_hex: &str) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &self.conf)
            .arg("--import")
            .arg(key)
            .args([
                "--token", TOKEN, "--label", label, "--id", id_hex, "--pin", PIN,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "softhsm2-util --import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stores the PEM certificate `cert` on the token with `id_hex` and `label`, from this
    /// test binary re-run as a child (`test` must call [`store_certificate_child`] first).
    fn store_certificate(&self, test: &str, cert: &Path, id_hex: &str, label: &str) {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env("SOFTHSM2_CONF", &self.conf)
            .env(CHILD_MARKER, "1")
            .env("SIGNET_CLI_PKCS11_CERT", cert)
            .env("SIGNET_CLI_PKCS11_ID", id_hex)
            .env("SIGNET_CLI_PKCS11_LABEL", label)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed") && stdout.contains("stored"),
            "storing the certificate failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `signet` with this token's configuration and `extra` environment variables.
    fn run(&self, env: &Env, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = env.signet();
        cmd.env("SOFTHSM2_CONF", &self.conf);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().unwrap();
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(PIN),
            "the PIN was printed: {}",
            String::from_utf8_lossy(&all)
        );
        out
    }

    /// Runs signet and asserts success; returns stderr.
    fn ok(&self, env: &Env, args: &[&str], extra: &[(&str, &str)]) -> String {
        let out = self.run(env, args, extra);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.success(),
            "signet {args:?} failed ({:?}): {stderr}",
            out.status.code()
        );
        stderr
    }

    /// Runs signet and asserts exit 1 with one `Error:` line and no panic; returns that line.
    fn fails(&self, env: &Env, args: &[&str], extra: &[(&str, &str)]) -> String {
        let out = self.run(env, args, extra);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "signet {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line expected: {stderr}");
        assert!(lines[0].starts_with("Error: "), "{stderr}");
        lines[0].to_string()
    }
}

/// The DER of the first certificate in PEM text.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// In the child: stores the certificate named by the environment (signet-testkit), and says so.
/// Returns true when this process is such a child.
fn store_certificate_child() -> bool {
    if std::env::var_os(CHILD_MARKER).is_none() {
        return false;
    }
    let var = |k: &str| std::env::var(k).unwrap();
    let der = pem_der(&std::fs::read_to_string(var("SIGNET_CLI_PKCS11_CERT")).unwrap());
    let id_hex = var("SIGNET_CLI_PKCS11_ID");
    let id: Vec<u8> = (0..id_hex.len() / 2)
        .map(|i| u8::from_str_radix(&id_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    signet_testkit::softhsm::store_certificate(
        TOKEN,
        PIN,
        &der,
        &id,
        &var("SIGNET_CLI_PKCS11_LABEL"),
    );
    println!("stored");
    true
}

fn uri(key: &str) -> String {
    format!("pkcs11:token={TOKEN};{key}?module-path={MODULE}&pin-value={PIN}")
}

/// `openssl dgst -sha256 -verify pub -signature <base64 -d sig> payload`.
fn openssl_verifies(dir: &Path, public: &str, sig_b64: &str, payload: &str) {
    sh(
        dir,
        &format!(
            "base64 -d {sig_b64} > sig.der && openssl dgst -sha256 -verify {public} -signature sig.der {payload}"
        ),
    );
}

fn sig_manifest(reg: &TestRegistry, repo: &str, digest: &str) -> Value {
    let tag = digest.replace(':', "-") + ".sig";
    let (bytes, _) = reg.pusher().fetch_manifest(repo, &tag);
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn sign_with_token_keys_then_verify_with_their_public_keys() {
    let reg = TestRegistry::start();
    let images: Vec<_> = (1..=3)
        .map(|i| reg.push_random_image("app", &format!("v{i}")))
        .collect();
    let env = Env::new();
    let hsm = Hsm::new(&env);
    let d = env.dir.path();
    sh(
        d,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.p8 && openssl pkey -in ec.p8 -pubout -out ec.pub",
    );
    sh(
        d,
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.p8 && openssl pkey -in rsa.p8 -pubout -out rsa.pub",
    );
    hsm.import(&env.path("ec.p8"), "cosign key", "c05197");
    hsm.import(&env.path("rsa.p8"), "rsa signer", "0a");

    // P-256 by label, module and PIN in the URI (cosign's usual form).
    let ec = uri("object=cosign%20key");
    let stderr = hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &ec,
            "--tlog-upload=false",
            "--output-signature",
            "ec.sig",
            "--output-payload",
            "ec.payload",
            &images[0].reference(),
        ],
        &[],
    );
    assert!(
        stderr.contains("WARNING: no x509 certificate retrieved from the PKCS11 token"),
        "{stderr}"
    );
    assert!(stderr.contains("Pushing signature to:"), "{stderr}");
    openssl_verifies(d, "ec.pub", "ec.sig", "ec.payload");
    env.verify(&env.p("ec.pub"), &images[0].reference());
    // verify --key accepts the URI too (the token's public key).
    hsm.ok(
        &env,
        &[
            "verify",
            "--key",
            &ec,
            "--insecure-ignore-tlog",
            &images[0].reference(),
        ],
        &[],
    );
    // The RSA public key does not verify it.
    env.verify_fails(&env.p("rsa.pub"), &images[0].reference(), 12);

    // RSA by id, with the module and the PIN from cosign's environment variables.
    let rsa = format!("pkcs11:token={TOKEN};id=%0A");
    hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &rsa,
            "--tlog-upload=false",
            "--output-signature",
            "rsa.sig",
            "--output-payload",
            "rsa.payload",
            &images[1].reference(),
        ],
        &[
            ("COSIGN_PKCS11_MODULE_PATH", MODULE),
            ("COSIGN_PKCS11_PIN", PIN),
        ],
    );
    openssl_verifies(d, "rsa.pub", "rsa.sig", "rsa.payload");
    env.verify(&env.p("rsa.pub"), &images[1].reference());
    env.verify_fails(&env.p("ec.pub"), &images[1].reference(), 12);

    // The PIN from a file (pin-source), the key by id and label, through COSIGN_KEY.
    std::fs::write(env.path("pin"), format!("{PIN}\n")).unwrap();
    let by_file = format!(
        "pkcs11:token={TOKEN};object=cosign%20key;id=%c0%51%97?module-path={MODULE}&pin-source=file:{}",
        env.p("pin")
    );
    hsm.ok(
        &env,
        &["sign", "--tlog-upload=false", &images[2].reference()],
        &[("COSIGN_KEY", &by_file)],
    );
    env.verify(&env.p("ec.pub"), &images[2].reference());
    // A second signature by the same key is not appended twice (cosign's de-duplication
    // compares by verification, ECDSA signatures being randomized).
    hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &ec,
            "--tlog-upload=false",
            &images[2].reference(),
        ],
        &[],
    );
    let m = sig_manifest(&reg, "app", &images[2].digest);
    assert_eq!(m["layers"].as_array().unwrap().len(), 1, "{m}");
}

#[test]
fn token_certificate_is_attached_as_cosign_does() {
    if store_certificate_child() {
        return;
    }
    let test = "token_certificate_is_attached_as_cosign_does";
    let reg = TestRegistry::start();
    let images: Vec<_> = (1..=4)
        .map(|i| reg.push_random_image("app", &format!("v{i}")))
        .collect();
    let env = Env::new();
    let hsm = Hsm::new(&env);
    let pki = Hierarchy::seed002(&env.path("pki"), KeyAlg::EcP256);
    let p = |path: &Path| path.display().to_string();
    hsm.import(&pki.leaf_key, "team a", "7ea3");
    hsm.store_certificate(test, &pki.leaf, "7ea3", "team a");

    // The token's certificate and the given chain are attached; certificate mode verifies.
    let team_a = uri("id=%7e%a3");
    let stderr = hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &team_a,
            "--tlog-upload=false",
            "--certificate-chain",
            &p(&pki.bundle),
            &images[0].reference(),
        ],
        &[],
    );
    assert!(!stderr.contains("no x509 certificate"), "{stderr}");
    let m = sig_manifest(&reg, "app", &images[0].digest);
    let ann = &m["layers"][0]["annotations"];
    let leaf_pem = std::fs::read_to_string(&pki.leaf).unwrap();
    assert_eq!(
        pem_der(ann["dev.sigstore.cosign/certificate"].as_str().unwrap()),
        pem_der(&leaf_pem),
        "the token's certificate is attached"
    );
    assert_eq!(
        ann["dev.sigstore.cosign/chain"].as_str().unwrap(),
        std::fs::read_to_string(&pki.bundle).unwrap()
    );
    env.ok(&[
        "verify",
        "--insecure-ignore-tlog",
        "--insecure-ignore-sct",
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
        "--cert-chain",
        &p(&pki.root),
        &images[0].reference(),
    ]);

    // --certificate overrides the token's certificate, with cosign's warning.
    let stderr = hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &team_a,
            "--tlog-upload=false",
            "--certificate",
            &p(&pki.leaf),
            &images[1].reference(),
        ],
        &[],
    );
    assert!(
        stderr.contains("WARNING: overriding x509 certificate retrieved from the PKCS11 token"),
        "{stderr}"
    );

    // COSIGN_PKCS11_IGNORE_CERTIFICATE=1: the bare key, so a chain has nothing to certify.
    let ignore = [("COSIGN_PKCS11_IGNORE_CERTIFICATE", "1")];
    let stderr = hsm.ok(
        &env,
        &[
            "sign",
            "--key",
            &team_a,
            "--tlog-upload=false",
            &images[2].reference(),
        ],
        &ignore,
    );
    assert!(stderr.contains("no x509 certificate retrieved"), "{stderr}");
    let m = sig_manifest(&reg, "app", &images[2].digest);
    assert!(
        m["layers"][0]["annotations"]
            .get("dev.sigstore.cosign/certificate")
            .is_none(),
        "{m}"
    );
    let line = hsm.fails(
        &env,
        &[
            "sign",
            "--key",
            &team_a,
            "--tlog-upload=false",
            "--certificate-chain",
            &p(&pki.bundle),
            &images[2].reference(),
        ],
        &ignore,
    );
    assert!(
        line.contains("--certificate-chain needs --certificate"),
        "{line}"
    );

    // A certificate stored under a key's id that does not hold that key: refused.
    sh(
        env.dir.path(),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.p8",
    );
    hsm.import(&env.path("other.p8"), "other", "0b");
    hsm.store_certificate(test, &pki.leaf, "0b", "other");
    let line = hsm.fails(
        &env,
        &[
            "sign",
            "--key",
            &uri("id=%0b"),
            "--tlog-upload=false",
            &images[3].reference(),
        ],
        &[],
    );
    assert!(
        line.contains("the certificate stored with the PKCS#11 key")
            && line.contains("does not hold the key's public key"),
        "{line}"
    );
}

#[test]
fn bad_references_fail_with_one_line() {
    let env = Env::new();
    let hsm = Hsm::new(&env);
    sh(
        env.dir.path(),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.p8",
    );
    hsm.import(&env.path("ec.p8"), "k", "01");
    // Key loading fails before any registry is contacted.
    let image =
        "127.0.0.1:9/app@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let sign = |key: &str, extra: &[(&str, &str)]| {
        hsm.fails(
            &env,
            &["sign", "--key", key, "--tlog-upload=false", image],
            extra,
        )
    };
    let cases: Vec<(String, &[EnvVar], &str)> = vec![
        (
            format!("pkcs11:token={TOKEN} x;object=k?module-path={MODULE}&pin-value={PIN}"),
            &[],
            "invalid PKCS#11 URI: attribute token: a space must be percent-encoded as %20",
        ),
        (
            format!("pkcs11:token={TOKEN};object=k?module-path={MODULE};pin-value={PIN}"),
            &[],
            "invalid PKCS#11 URI: query attributes are separated by '&', not ';'",
        ),
        (
            format!("pkcs11:token={TOKEN}?module-path={MODULE}&pin-value={PIN}"),
            &[],
            "it names no key: add object=LABEL or id=%XX",
        ),
        (
            format!("pkcs11:token={TOKEN};object=k?module-path={MODULE}&pin-value=0000-wrong"),
            &[],
            "PKCS#11 login to token \"signet-cli\" failed: the PIN was refused",
        ),
        (
            uri("object=nope"),
            &[],
            "no private key object=nope on PKCS#11 token \"signet-cli\"",
        ),
        (
            format!("pkcs11:token=other;object=k?module-path={MODULE}&pin-value={PIN}"),
            &[],
            "no PKCS#11 token matches pkcs11:token=other;object=k?module-path=",
        ),
        (
            format!("pkcs11:token={TOKEN};object=k?pin-value={PIN}"),
            &[],
            "add module-path to the URI or set COSIGN_PKCS11_MODULE_PATH",
        ),
        (
            format!("pkcs11:token={TOKEN};object=k"),
            &[("COSIGN_PKCS11_MODULE_PATH", MODULE)],
            "PKCS#11 token \"signet-cli\" needs a PIN",
        ),
        (
            format!(
                "pkcs11:token={TOKEN};object=k?module-path=/nonexistent/p11.so&pin-value={PIN}"
            ),
            &[],
            "attribute module-path: /nonexistent/p11.so does not exist",
        ),
    ];
    for (key, extra, want) in &cases {
        let line = sign(key, extra);
        assert!(line.contains(want), "{line}\n(wanted: {want})");
        assert!(!line.contains("0000-wrong"), "{line}");
    }
    // The same checks apply to verify --key pkcs11:….
    let line = hsm.fails(
        &env,
        &[
            "verify",
            "--key",
            &cases[3].0,
            "--insecure-ignore-tlog",
            image,
        ],
        &[],
    );
    assert!(line.contains("the PIN was refused"), "{line}");
}

/// `signet public-key --key pkcs11:…` prints the token key's public key, and `signet notation`
/// signs Notary Project signatures with keys on the token (RSASSA-PSS and ECDSA r||s), which
/// verify against an openssl root.
#[test]
fn public_key_and_notation_signatures_with_token_keys() {
    let reg = TestRegistry::start();
    let image = reg.push_random_image("notation/app", "v1");
    let env = Env::new();
    let hsm = Hsm::new(&env);
    let d = env.dir.path();
    sh(
        d,
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa.p8 2>/dev/null \
         && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec.p8 \
         && openssl pkey -in ec.p8 -pubout -out ec.pub \
         && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout root.key \
              -subj '/C=FI/ST=Uusimaa/O=Acme/CN=Token Root' -days 30 \
              -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out root.pem \
         && printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\n' > leaf.ext \
         && for k in rsa ec; do \
              openssl req -new -key $k.p8 -subj \"/C=FI/ST=Uusimaa/O=Acme/CN=$k signer\" -out $k.csr \
              && openssl x509 -req -in $k.csr -CA root.pem -CAkey root.key -days 30 -extfile leaf.ext -out $k.pem 2>/dev/null \
              && cat $k.pem root.pem > $k-chain.pem; done",
    );
    hsm.import(&env.path("rsa.p8"), "notation rsa", "a1");
    hsm.import(&env.path("ec.p8"), "notation ec", "a2");
    let rsa = uri("object=notation%20rsa");
    let ec = uri("object=notation%20ec");
    // signingkeys.json keeps the URI: no PIN in it (the PIN comes from the environment).
    let no_pin = |u: &str| u.replace(&format!("&pin-value={PIN}"), "");
    let err = hsm.fails(
        &env,
        &[
            "notation",
            "key",
            "add",
            "pinned",
            "--key",
            &rsa,
            "--cert",
            "rsa-chain.pem",
        ],
        &[],
    );
    assert!(err.contains("pin-value"), "{err}");
    let (rsa, ec) = (no_pin(&rsa), no_pin(&ec));
    let pin_env = [("COSIGN_PKCS11_PIN", PIN)];

    let out = hsm.run(
        &env,
        &["public-key", "--key", &uri("object=notation%20ec")],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(env.path("ec.pub")).unwrap()
    );

    let notation = |args: &[&str]| {
        let mut all = vec!["notation"];
        all.extend_from_slice(args);
        hsm.ok(&env, &all, &pin_env)
    };
    notation(&[
        "key",
        "add",
        "tok-rsa",
        "--key",
        &rsa,
        "--cert",
        "rsa-chain.pem",
    ]);
    notation(&[
        "key",
        "add",
        "tok-ec",
        "--key",
        &ec,
        "--cert",
        "ec-chain.pem",
    ]);
    // The token's key must be the leaf's key.
    let err = hsm.fails(
        &env,
        &[
            "notation",
            "key",
            "add",
            "mixed",
            "--key",
            &rsa,
            "--cert",
            "ec-chain.pem",
        ],
        &pin_env,
    );
    assert!(err.contains("does not match"), "{err}");
    let reference = image.reference();
    notation(&["sign", "--key", "tok-rsa", &reference]);
    notation(&[
        "sign",
        "--key",
        "tok-ec",
        "--signature-format",
        "cose",
        &reference,
    ]);
    notation(&[
        "cert", "add", "--type", "ca", "--store", "token", "root.pem",
    ]);
    std::fs::write(
        env.path("policy.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
            "signatureVerification":{"level":"strict"},"trustStores":["ca:token"],
            "trustedIdentities":["x509.subject: C=FI, ST=Uusimaa, O=Acme"]}]}"#,
    )
    .unwrap();
    notation(&["policy", "import", "policy.json"]);
    let out = hsm.run(
        &env,
        &["notation", "inspect", "-o", "json", &reference],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let inspected: Value = serde_json::from_slice(&out.stdout).unwrap();
    let algs: Vec<String> = inspected["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signatureAlgorithm"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        algs.contains(&"RSASSA-PSS-SHA-384".to_owned()),
        "{inspected}"
    );
    assert!(algs.contains(&"ECDSA-SHA-384".to_owned()), "{inspected}");
    let listed = notation(&["key", "ls"]);
    assert!(!listed.contains(PIN));
    let out = hsm.run(&env, &["notation", "verify", &reference], &[]);
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).contains("Successfully verified"),
        "{out:?}"
    );
}

/// `signet pkcs11-tool list-tokens` and `list-keys-uris` print what cosign's pkcs11-tool
/// prints; every listed URI opens its key (the PIN from COSIGN_PKCS11_PIN, never in the URI).
#[test]
fn pkcs11_tool_lists_tokens_and_key_uris() {
    let env = Env::new();
    let hsm = Hsm::new(&env);
    let d = env.dir.path();
    sh(
        d,
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out a.p8 \
         && openssl pkey -in a.p8 -pubout -out a.pub \
         && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out b.p8 \
         && openssl pkey -in b.p8 -pubout -out b.pub",
    );
    hsm.import(&env.path("a.p8"), "first key", "0a01");
    hsm.import(&env.path("b.p8"), "second", "0b02");

    let out = hsm.run(
        &env,
        &["pkcs11-tool", "list-tokens", "--module-path", MODULE],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let tokens = String::from_utf8(out.stdout).unwrap();
    assert!(
        tokens.contains(&format!("Listing tokens of PKCS11 module '{MODULE}'")),
        "{tokens}"
    );
    assert!(tokens.contains(&format!("\tLabel: {TOKEN}\n")), "{tokens}");
    let slot = tokens
        .lines()
        .find_map(|l| l.strip_prefix("Token in slot "))
        .expect("a slot")
        .trim()
        .to_owned();

    let pin = [("COSIGN_PKCS11_PIN", PIN)];
    let out = hsm.run(
        &env,
        &[
            "pkcs11-tool",
            "list-keys-uris",
            "--module-path",
            MODULE,
            "--slot-id",
            &slot,
        ],
        &pin,
    );
    assert!(out.status.success(), "{out:?}");
    let keys = String::from_utf8(out.stdout).unwrap();
    assert!(keys.contains("\tLabel: first key\n\tID: 0a01\n"), "{keys}");
    assert!(keys.contains("\tLabel: second\n\tID: 0b02\n"), "{keys}");
    let uris: Vec<&str> = keys
        .lines()
        .filter_map(|l| l.strip_prefix("\tURI: "))
        .collect();
    assert_eq!(uris.len(), 2, "{keys}");
    for uri in uris {
        assert!(!uri.contains("pin"), "{uri}");
        let out = hsm.run(&env, &["public-key", "--key", uri], &pin);
        assert!(out.status.success(), "{uri}: {out:?}");
        let expected = if uri.contains("first") {
            "a.pub"
        } else {
            "b.pub"
        };
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            std::fs::read_to_string(env.path(expected)).unwrap()
        );
    }

    // A relative module path and a missing module fail with one line.
    let err = hsm.fails(
        &env,
        &[
            "pkcs11-tool",
            "list-tokens",
            "--module-path",
            "libsofthsm2.so",
        ],
        &[],
    );
    assert!(err.contains("absolute"), "{err}");
    hsm.fails(
        &env,
        &[
            "pkcs11-tool",
            "list-tokens",
            "--module-path",
            "/nonexistent/module.so",
        ],
        &[],
    );
}
