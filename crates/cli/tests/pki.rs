//! `signet pki` through the binary, with openssl as the independent peer: hierarchies for each
//! key type verified by `openssl verify`, the extensions as `openssl x509 -text` prints them and
//! as raw DER, chain files, cosign-format key files, CSRs in both directions (signet → openssl
//! `req -verify`, openssl `req` → signet CA), the notation profile and the error cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, sh};
use rstest::rstest;

const OIDC: &str = "https://linuxera.org";

/// openssl output as text.
fn ssl(env: &Env, cmd: &str) -> String {
    String::from_utf8(sh(env.dir.path(), cmd)).unwrap()
}

/// Runs a shell command and returns (success, stdout+stderr).
fn try_sh(env: &Env, cmd: &str) -> (bool, String) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The DER of every PEM block in a text, in order (a small parser: the `pem` crate is not a
/// dev-dependency of this package).
fn pem_ders(text: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            body = Some(String::new());
        } else if line.starts_with("-----END ") {
            let b64 = body.take().expect("END without BEGIN");
            out.push(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line.trim());
        }
    }
    out
}

/// A PEM block.
fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The raw extnValue of the extension `oid_der` (DER of the OID, tag and length included) in
/// a DER certificate: searches for `06 len oid [01 01 ff] 04 len value`.
fn raw_extension(cert: &[u8], oid_der: &[u8]) -> Vec<u8> {
    let pos = cert
        .windows(oid_der.len())
        .position(|w| w == oid_der)
        .expect("extension OID present");
    let mut i = pos + oid_der.len();
    if cert[i] == 0x01 {
        i += 3; // critical BOOLEAN
    }
    assert_eq!(cert[i], 0x04, "OCTET STRING");
    let (len, skip) = match cert[i + 1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (cert[i + 2] as usize, 3),
        other => panic!("unexpected length byte {other:#x}"),
    };
    cert[i + skip..i + skip + len].to_vec()
}

const OID_1_1: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01,
];
const OID_1_8: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08,
];

/// root → intermediate (pathlen 1) → leaf, all with `key_type`.
fn hierarchy(env: &Env, key_type: &str) {
    env.ok(&[
        "pki",
        "root",
        "--subject",
        "/C=ES/ST=Valencia/L=Valencia/O=IT/OU=Security/CN=Linuxera Root Certificate Authority",
        "--out-prefix",
        "root",
        "--key-type",
        key_type,
    ]);
    env.ok(&[
        "pki",
        "intermediate",
        "--ca",
        "root",
        "--subject",
        "/C=ES/L=Valencia/O=IT/OU=Security/CN=Linuxera Intermediate Certificate Authority",
        "--out-prefix",
        "inter",
        "--path-len",
        "1",
        "--key-type",
        key_type,
    ]);
    env.ok(&[
        "pki",
        "leaf",
        "--ca",
        "inter",
        "--subject",
        "/C=ES/L=Valencia/O=IT/OU=Security/CN=Team A Cosign Certificate",
        "--email",
        "team-a@linuxera.org",
        "--uri",
        "https://linuxera.org/team-a",
        "--oidc-issuer",
        OIDC,
        "--out-prefix",
        "leaf",
        "--key-type",
        key_type,
    ]);
}

#[rstest]
#[case("p256", "ecdsa-with-SHA256")]
#[case("p384", "ecdsa-with-SHA384")]
#[case("rsa4096", "sha256WithRSAEncryption")]
#[case("ed25519", "ED25519")]
fn hierarchy_verifies_with_openssl(#[case] key_type: &str, #[case] sig_alg: &str) {
    let env = Env::new();
    hierarchy(&env, key_type);
    let d = env.dir.path();

    let out = ssl(
        &env,
        "openssl verify -CAfile root.pem -untrusted inter.pem leaf.pem",
    );
    assert_eq!(out.trim(), "leaf.pem: OK");
    // With the chain file as the untrusted set, and cosign's purpose check (codeSigning EKU is
    // not an openssl purpose, so check the EKU by text below).
    ssl(
        &env,
        "openssl verify -CAfile root.pem -untrusted leaf-chain.pem leaf.pem",
    );

    let root = ssl(&env, "openssl x509 -in root.pem -text -noout");
    assert!(root.contains(sig_alg), "{root}");
    assert!(root.contains("CA:TRUE"), "{root}");
    assert!(root.contains("Certificate Sign, CRL Sign"), "{root}");
    assert!(root.contains(
        "Subject: C = ES, ST = Valencia, L = Valencia, O = IT, OU = Security, CN = Linuxera Root Certificate Authority"
    ), "{root}");

    let inter = ssl(&env, "openssl x509 -in inter.pem -text -noout");
    assert!(inter.contains("CA:TRUE, pathlen:1"), "{inter}");
    assert!(inter.contains("Certificate Sign, CRL Sign"), "{inter}");
    assert!(
        inter.contains("X509v3 Basic Constraints: critical"),
        "{inter}"
    );
    assert!(inter.contains("X509v3 Key Usage: critical"), "{inter}");
    assert!(inter.contains("X509v3 Authority Key Identifier"), "{inter}");
    assert!(inter.contains("X509v3 Subject Key Identifier"), "{inter}");

    let leaf = ssl(&env, "openssl x509 -in leaf.pem -text -noout");
    for needle in [
        "X509v3 Key Usage: critical",
        "Digital Signature",
        "Code Signing",
        "X509v3 Basic Constraints: critical",
        "CA:FALSE",
        "email:team-a@linuxera.org",
        "URI:https://linuxera.org/team-a",
        "1.3.6.1.4.1.57264.1.1:",
        "1.3.6.1.4.1.57264.1.8:",
        "X509v3 Authority Key Identifier",
        "X509v3 Subject Key Identifier",
    ] {
        assert!(leaf.contains(needle), "{needle} missing:\n{leaf}");
    }
    assert!(!leaf.contains("Certificate Sign"), "{leaf}");
    assert!(!leaf.contains("Key Encipherment"), "{leaf}");
    let ku_line = leaf
        .lines()
        .skip_while(|l| !l.contains("X509v3 Key Usage"))
        .nth(1)
        .unwrap();
    assert_eq!(ku_line.trim(), "Digital Signature");

    // Raw DER of the Fulcio extensions.
    let leaf_der = std::fs::read(d.join("leaf.pem")).unwrap();
    let leaf_der = pem_ders(std::str::from_utf8(&leaf_der).unwrap()).remove(0);
    assert_eq!(raw_extension(&leaf_der, OID_1_1), OIDC.as_bytes());
    let mut utf8 = vec![0x0c, OIDC.len() as u8];
    utf8.extend_from_slice(OIDC.as_bytes());
    assert_eq!(raw_extension(&leaf_der, OID_1_8), utf8);

    // Chain: intermediate then root.
    let chain = pem_ders(&std::fs::read_to_string(d.join("leaf-chain.pem")).unwrap());
    let inter_der = pem_ders(&std::fs::read_to_string(d.join("inter.pem")).unwrap());
    let root_der = pem_ders(&std::fs::read_to_string(d.join("root.pem")).unwrap());
    assert_eq!(chain, [inter_der[0].clone(), root_der[0].clone()]);
    let inter_chain = pem_ders(&std::fs::read_to_string(d.join("inter-chain.pem")).unwrap());
    assert_eq!(inter_chain, root_der);

    // Key files are cosign-format and belong to the certificates.
    for name in ["root", "inter", "leaf"] {
        let key = std::fs::read_to_string(d.join(format!("{name}.key"))).unwrap();
        assert!(
            key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
            "{key}"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(d.join(format!("{name}.key")))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let from_key = env.ok(&["public-key", "--key", &format!("{name}.key")]);
        let from_cert = ssl(&env, &format!("openssl x509 -in {name}.pem -pubkey -noout"));
        assert_eq!(
            normalize_pem(&from_key),
            normalize_pem(&from_cert),
            "{name}"
        );
    }
}

fn normalize_pem(s: &str) -> Vec<u8> {
    pem_ders(s).remove(0)
}

#[test]
fn three_levels_and_path_length() {
    let env = Env::new();
    hierarchy(&env, "p256");
    // inter has pathlen:1, so one more CA fits below it (pathlen:0 by default).
    env.ok(&[
        "pki",
        "intermediate",
        "--ca",
        "inter",
        "--subject",
        "/O=IT/CN=Sub CA",
        "--out-prefix",
        "sub",
    ]);
    let sub = ssl(&env, "openssl x509 -in sub.pem -text -noout");
    assert!(sub.contains("CA:TRUE, pathlen:0"), "{sub}");
    env.ok(&[
        "pki",
        "leaf",
        "--ca",
        "sub",
        "--subject",
        "/CN=Deep",
        "--email",
        "deep@linuxera.org",
        "--oidc-issuer",
        OIDC,
        "--out-prefix",
        "deep",
    ]);
    let d = env.dir.path();
    let chain = pem_ders(&std::fs::read_to_string(d.join("deep-chain.pem")).unwrap());
    let want: Vec<Vec<u8>> = ["sub.pem", "inter.pem", "root.pem"]
        .iter()
        .map(|f| pem_ders(&std::fs::read_to_string(d.join(f)).unwrap()).remove(0))
        .collect();
    assert_eq!(chain, want);
    let out = ssl(
        &env,
        "openssl verify -CAfile root.pem -untrusted deep-chain.pem deep.pem",
    );
    assert_eq!(out.trim(), "deep.pem: OK");

    // Under pathlen:0 no further CA.
    let err = env.fails(
        &[
            "pki",
            "intermediate",
            "--ca",
            "sub",
            "--subject",
            "/CN=Too deep",
            "--out-prefix",
            "toodeep",
        ],
        1,
    );
    assert!(err.contains("path length exhausted"), "{err}");
    assert!(!d.join("toodeep.pem").exists());
    assert!(!d.join("toodeep.key").exists());
    // Asking for as much as the issuer has is refused too.
    let err = env.fails(
        &[
            "pki",
            "intermediate",
            "--ca",
            "inter",
            "--subject",
            "/CN=Wide",
            "--out-prefix",
            "wide",
            "--path-len",
            "1",
        ],
        1,
    );
    assert!(err.contains("at most pathlen:0"), "{err}");
}

#[test]
fn validity_days() {
    let env = Env::new();
    env.ok(&[
        "pki",
        "root",
        "--subject",
        "/CN=Short Root",
        "--out-prefix",
        "root",
        "--validity-days",
        "30",
    ]);
    let out = env.run(&[
        "pki",
        "leaf",
        "--ca",
        "root",
        "--subject",
        "/CN=Leaf",
        "--email",
        "a@linuxera.org",
        "--oidc-issuer",
        OIDC,
        "--out-prefix",
        "leaf",
        "--validity-days",
        "100",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WARNING:"), "{stderr}");
    assert!(stderr.contains("expires with its issuer"), "{stderr}");
    let root_end = ssl(&env, "openssl x509 -in root.pem -enddate -noout");
    let leaf_end = ssl(&env, "openssl x509 -in leaf.pem -enddate -noout");
    assert_eq!(root_end, leaf_end);
    // A leaf directly under a root: the chain is the root alone.
    let out = ssl(&env, "openssl verify -CAfile root.pem leaf.pem");
    assert_eq!(out.trim(), "leaf.pem: OK");
    let chain = std::fs::read_to_string(env.path("leaf-chain.pem")).unwrap();
    assert_eq!(
        chain,
        std::fs::read_to_string(env.path("root.pem")).unwrap()
    );
}

#[test]
fn csr_made_by_signet() {
    let env = Env::new();
    hierarchy(&env, "p256");
    let (key, _) = env.keypair("team-b");
    env.ok(&[
        "pki",
        "csr",
        "--key",
        &key,
        "--subject",
        "/C=ES/O=IT/CN=Team B",
        "--email",
        "team-b@linuxera.org",
        "--oidc-issuer",
        OIDC,
        "--out",
        "team-b.csr",
    ]);
    let (ok, text) = try_sh(&env, "openssl req -verify -in team-b.csr -noout");
    assert!(ok, "{text}");
    assert!(
        text.contains("verify OK") || text.contains("Certificate request self-signature verify OK"),
        "{text}"
    );
    let req = ssl(&env, "openssl req -in team-b.csr -text -noout");
    assert!(req.contains("email:team-b@linuxera.org"), "{req}");
    assert!(req.contains("1.3.6.1.4.1.57264.1.1"), "{req}");
    assert!(req.contains("1.3.6.1.4.1.57264.1.8"), "{req}");

    let out = env.run(&[
        "pki",
        "leaf",
        "--ca",
        "inter",
        "--csr",
        "team-b.csr",
        "--out-prefix",
        "team-b-cert",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No private key written"), "{stderr}");
    assert!(!env.path("team-b-cert.key").exists());
    let out = ssl(
        &env,
        "openssl verify -CAfile root.pem -untrusted team-b-cert-chain.pem team-b-cert.pem",
    );
    assert_eq!(out.trim(), "team-b-cert.pem: OK");
    let cert = ssl(&env, "openssl x509 -in team-b-cert.pem -text -noout");
    assert!(
        cert.contains("Subject: C = ES, O = IT, CN = Team B"),
        "{cert}"
    );
    assert!(cert.contains("email:team-b@linuxera.org"), "{cert}");
    assert!(cert.contains("Code Signing"), "{cert}");
    // The certificate is for the cosign key the CSR was made with.
    let from_key = env.ok(&["public-key", "--key", &key]);
    let from_cert = ssl(&env, "openssl x509 -in team-b-cert.pem -pubkey -noout");
    assert_eq!(normalize_pem(&from_key), normalize_pem(&from_cert));
}

#[test]
fn csr_made_by_openssl_seed_002() {
    let env = Env::new();
    hierarchy(&env, "p256");
    let hex: String = OIDC.bytes().map(|b| format!("{b:02X}")).collect();
    sh(
        env.dir.path(),
        &format!(
            "openssl req -noenc -newkey rsa:4096 -keyout team-a-key.pem \
             -addext 'subjectKeyIdentifier = hash' -addext 'basicConstraints = critical,CA:FALSE' \
             -addext 'keyUsage = critical,digitalSignature' \
             -addext 'subjectAltName = email:team-a@linuxera.org' \
             -addext '1.3.6.1.4.1.57264.1.1 = DER:{hex}' \
             -addext '1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:{OIDC}' \
             -subj '/C=ES/L=Valencia/O=IT/OU=Security/CN=Team A Cosign Certificate' \
             -out team-a.csr 2>/dev/null"
        ),
    );
    env.ok(&[
        "pki",
        "leaf",
        "--ca",
        "inter",
        "--csr",
        "team-a.csr",
        "--out-prefix",
        "team-a",
    ]);
    let out = ssl(
        &env,
        "openssl verify -CAfile root.pem -untrusted team-a-chain.pem team-a.pem",
    );
    assert_eq!(out.trim(), "team-a.pem: OK");
    let cert = ssl(&env, "openssl x509 -in team-a.pem -text -noout");
    assert!(
        cert.contains(
            "Subject: C = ES, L = Valencia, O = IT, OU = Security, CN = Team A Cosign Certificate"
        ),
        "{cert}"
    );
    assert!(cert.contains("email:team-a@linuxera.org"), "{cert}");
    assert!(cert.contains("Public-Key: (4096 bit)"), "{cert}");
    let der = pem_ders(&std::fs::read_to_string(env.path("team-a.pem")).unwrap()).remove(0);
    assert_eq!(raw_extension(&der, OID_1_1), OIDC.as_bytes());
    assert_eq!(raw_extension(&der, OID_1_8)[0], 0x0c);
    // The certificate's key is openssl's key.
    let a = ssl(&env, "openssl pkey -in team-a-key.pem -pubout");
    let b = ssl(&env, "openssl x509 -in team-a.pem -pubkey -noout");
    assert_eq!(normalize_pem(&a), normalize_pem(&b));

    // A CSR whose signature does not verify is refused.
    let mut der = pem_ders(&std::fs::read_to_string(env.path("team-a.csr")).unwrap()).remove(0);
    let pos = der.windows(6).position(|w| w == b"Team A").unwrap();
    der[pos] = b'X';
    env.write("bad.csr", pem_encode("CERTIFICATE REQUEST", &der));
    let err = env.fails(
        &[
            "pki",
            "leaf",
            "--ca",
            "inter",
            "--csr",
            "bad.csr",
            "--out-prefix",
            "bad",
        ],
        1,
    );
    assert!(err.contains("signature does not verify"), "{err}");
}

#[test]
fn notation_profile() {
    let env = Env::new();
    hierarchy(&env, "p256");
    let base = |prefix: &'static str, key_type: &'static str| {
        vec![
            "pki",
            "leaf",
            "--ca",
            "inter",
            "--subject",
            "/CN=Notation",
            "--email",
            "n@linuxera.org",
            "--oidc-issuer",
            OIDC,
            "--profile",
            "notation",
            "--out-prefix",
            prefix,
            "--key-type",
            key_type,
        ]
    };
    env.ok(&base("ok", "rsa2048"));
    let ok = ssl(&env, "openssl x509 -in ok.pem -text -noout");
    assert!(ok.contains("Code Signing"), "{ok}");
    let err = env.fails(&base("ed", "ed25519"), 1);
    assert!(err.contains("notation profile"), "{err}");
    assert!(!env.path("ed.pem").exists());

    // An Ed25519 CA cannot issue notation leaves either.
    let env = Env::new();
    hierarchy(&env, "ed25519");
    let err = env.fails(&base("x", "p256"), 1);
    assert!(err.contains("notation profile"), "{err}");
}

#[test]
fn errors() {
    let env = Env::new();
    hierarchy(&env, "p256");
    let leaf = |ca: &str, subject: &str, prefix: &str| -> Vec<String> {
        [
            "pki",
            "leaf",
            "--ca",
            ca,
            "--subject",
            subject,
            "--email",
            "e@linuxera.org",
            "--oidc-issuer",
            OIDC,
            "--out-prefix",
            prefix,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        env.fails(&refs, 1)
    };

    let err = run(leaf("missing", "/CN=x", "a"));
    assert!(err.contains("missing.pem"), "{err}");
    std::fs::copy(env.path("inter.pem"), env.path("nokey.pem")).unwrap();
    let err = run(leaf("nokey", "/CN=x", "a"));
    assert!(err.contains("nokey.key"), "{err}");
    // A leaf is not a CA.
    let err = run(leaf("leaf", "/CN=x", "a"));
    assert!(err.contains("not a CA"), "{err}");
    // Bad DNs.
    for (dn, needle) in [
        ("CN=x", "must start with '/'"),
        ("/CN=", "empty value"),
        ("/XY=1", "unknown attribute type"),
    ] {
        let err = run(leaf("inter", dn, "a"));
        assert!(err.contains(needle), "{dn}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Wrong password for the CA key.
    let out = env
        .signet()
        .env("COSIGN_PASSWORD", "wrong")
        .args(leaf("inter", "/CN=x", "a"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Error: loading CA key"), "{stderr}");
    assert!(stderr.contains("wrong password"), "{stderr}");
    // The CA key does not match the certificate.
    std::fs::copy(env.path("inter.pem"), env.path("mixed.pem")).unwrap();
    std::fs::copy(env.path("root.key"), env.path("mixed.key")).unwrap();
    let err = run(leaf("mixed", "/CN=x", "a"));
    assert!(err.contains("does not match"), "{err}");
    // Existing outputs are not overwritten without --force.
    let err = run(leaf("inter", "/CN=x", "leaf"));
    assert!(err.contains("already exists"), "{err}");
    let mut forced = leaf("inter", "/CN=again", "leaf");
    forced.push("--force".into());
    let refs: Vec<&str> = forced.iter().map(String::as_str).collect();
    env.ok(&refs);
    // No identity at all: clap refuses (exit 1).
    let out = env.run(&[
        "pki",
        "leaf",
        "--ca",
        "inter",
        "--subject",
        "/CN=x",
        "--oidc-issuer",
        OIDC,
        "--out-prefix",
        "noid",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // Nothing was left behind by the failures.
    for f in ["a.pem", "a.key", "a-chain.pem", "noid.pem"] {
        assert!(!env.path(f).exists(), "{f}");
    }
}
