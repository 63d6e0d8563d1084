//! `generate-key-pair`, `import-key-pair` and `public-key` through the real binary, checked
//! against openssl as the peer and against a key file cosign itself wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use common::{Env, PASSWORD, sh};

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[test]
fn generate_key_pair_writes_cosign_files() {
    let env = Env::new();
    let out = env.run(&["generate-key-pair"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Private key written to cosign.key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Public key written to cosign.pub"),
        "{stderr}"
    );

    let key = std::fs::read_to_string(env.path("cosign.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(key.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(key.lines().all(|l| l.len() <= 64));
    let inner = String::from_utf8(pem_body(&key)).unwrap();
    assert!(
        inner.starts_with(r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":""#),
        "{inner}"
    );
    assert!(inner.contains(r#""cipher":{"name":"nacl/secretbox","nonce":""#));
    let mode = std::fs::metadata(env.path("cosign.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // openssl (a real peer) reads the public key as P-256
    let text = sh(
        env.dir.path(),
        "openssl pkey -pubin -in cosign.pub -noout -text",
    );
    assert!(String::from_utf8_lossy(&text).contains("prime256v1"));

    // public-key of the private key prints the same PEM
    assert_eq!(
        env.ok(&["public-key", "--key", "cosign.key"]),
        std::fs::read_to_string(env.path("cosign.pub")).unwrap()
    );
}

#[test]
fn never_overwrites_without_force() {
    let env = Env::new();
    env.keypair("k");
    let before = std::fs::read(env.path("k.key")).unwrap();
    let err = env.fails(&["generate-key-pair", "--output-key-prefix", "k"], 1);
    assert!(err.contains("k.key already exists; pass --force"), "{err}");
    assert_eq!(std::fs::read(env.path("k.key")).unwrap(), before);
    env.ok(&["generate-key-pair", "--output-key-prefix", "k", "--force"]);
    assert_ne!(std::fs::read(env.path("k.key")).unwrap(), before);
}

#[rstest::rstest]
#[case("p384", "secp384r1")]
#[case("rsa2048", "2048 bit")]
#[case("ed25519", "ED25519")]
fn other_key_types(#[case] kt: &str, #[case] openssl_says: &str) {
    let env = Env::new();
    env.ok(&[
        "generate-key-pair",
        "--key-type",
        kt,
        "--output-key-prefix",
        "k",
    ]);
    let text = sh(env.dir.path(), "openssl pkey -pubin -in k.pub -noout -text");
    assert!(String::from_utf8_lossy(&text).contains(openssl_says));
    assert_eq!(
        env.ok(&["public-key", "--key", "k.key"]),
        std::fs::read_to_string(env.path("k.pub")).unwrap()
    );
}

#[test]
fn wrong_password_corrupt_and_missing_keys_are_one_line_errors() {
    let env = Env::new();
    env.keypair("k");
    let err = env
        .signet()
        .env("COSIGN_PASSWORD", "wrong")
        .args(["public-key", "--key", "k.key"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("password"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    env.write("corrupt.key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    let e = env.fails(&["public-key", "--key", "corrupt.key"], 1);
    assert!(e.contains("corrupt.key"), "{e}");
    env.write("garbage.key", "not a key at all");
    env.fails(&["public-key", "--key", "garbage.key"], 1);
    let e = env.fails(&["public-key", "--key", "missing.key"], 1);
    assert!(e.contains("missing.key"), "{e}");
    let e = env.fails(&["public-key", "--key", "awskms://alias/x"], 1);
    assert!(e.contains("unsupported key reference"), "{e}");
}

#[test]
fn password_from_stdin_keeps_the_newline_like_cosign() {
    let env = Env::new();
    let out = env
        .signet()
        .env_remove("COSIGN_PASSWORD")
        .args(["generate-key-pair", "--output-key-prefix", "s"])
        .write_stdin("piped\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = env
        .signet()
        .env("COSIGN_PASSWORD", "piped\n")
        .args(["public-key", "--key", "s.key"])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let bad = env
        .signet()
        .env("COSIGN_PASSWORD", "piped")
        .args(["public-key", "--key", "s.key"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    // SIGNET_PASSWORD works too
    let ok = env
        .signet()
        .env_remove("COSIGN_PASSWORD")
        .env("SIGNET_PASSWORD", "piped\n")
        .args(["public-key", "--key", "s.key"])
        .output()
        .unwrap();
    assert!(ok.status.success());
}

#[test]
fn reads_a_key_file_cosign_wrote() {
    // A key generated by cosign with an empty password (sigstore-rs test data, also in
    // shared/specs/cosign-fixtures/empty.key).
    let env = Env::new();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crypto/tests/data/cosign_empty_password.key"
    );
    let out = env
        .signet()
        .env("COSIGN_PASSWORD", "")
        .args(["public-key", "--key", fixture])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let pubfile = env.write("fixture.pub", &pem);
    let text = sh(
        env.dir.path(),
        &format!("openssl pkey -pubin -in {pubfile} -noout -text"),
    );
    assert!(String::from_utf8_lossy(&text).contains("prime256v1"));
}

#[rstest::rstest]
#[case::pkcs1_rsa("openssl genrsa -traditional -out src.pem 2048 2>/dev/null")]
#[case::sec1_ec_with_params("openssl ecparam -name prime256v1 -genkey -out src.pem")]
#[case::sec1_p384("openssl ecparam -name secp384r1 -genkey -noout -out src.pem")]
#[case::pkcs8_rsa("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out src.pem")]
#[case::pkcs8_ec("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out src.pem")]
#[case::pkcs8_ed25519("openssl genpkey -algorithm ed25519 -out src.pem")]
fn import_key_pair_from_openssl(#[case] make: &str) {
    let env = Env::new();
    sh(env.dir.path(), make);
    let out = env.run(&[
        "import-key-pair",
        "--key",
        "src.pem",
        "--output-key-prefix",
        "imp",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = sh(env.dir.path(), "openssl pkey -in src.pem -pubout");
    assert_eq!(std::fs::read(env.path("imp.pub")).unwrap(), expected);
    assert_eq!(
        env.ok(&["public-key", "--key", "imp.key"]).as_bytes(),
        expected
    );
    let _ = PASSWORD;
}

#[test]
fn import_refuses_weak_and_encrypted_keys() {
    let env = Env::new();
    sh(
        env.dir.path(),
        "openssl genrsa -traditional -out weak.pem 1024 2>/dev/null",
    );
    let e = env.fails(&["import-key-pair", "--key", "weak.pem"], 1);
    assert!(e.contains("1024"), "{e}");
    sh(
        env.dir.path(),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 -pass pass:x -out enc.pem",
    );
    env.fails(&["import-key-pair", "--key", "enc.pem"], 1);
}

/// Runs `signet ARGS` on a pseudo-terminal (util-linux `script`), typing `lines`.
fn on_a_terminal(env: &Env, args: &str, lines: &[&str]) -> std::process::Output {
    use std::io::Write;
    let bin = assert_cmd::cargo::cargo_bin("signet");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .current_dir(env.dir.path())
        .env_remove("COSIGN_PASSWORD")
        .env_remove("SIGNET_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        // Each prompt turns echo off before reading; give it time to appear.
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn password_prompt_on_a_terminal() {
    let env = Env::new();
    let out = on_a_terminal(
        &env,
        "generate-key-pair --output-key-prefix t",
        &["typed", "typed"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Enter password for private key: "), "{text}");
    assert!(
        text.contains("Enter password for private key again: "),
        "{text}"
    );
    // the typed password decrypts the key
    let ok = env
        .signet()
        .env("COSIGN_PASSWORD", "typed")
        .args(["public-key", "--key", "t.key"])
        .output()
        .unwrap();
    assert!(ok.status.success());
    // two different answers
    let out = on_a_terminal(&env, "generate-key-pair --output-key-prefix u", &["a", "b"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("passwords do not match"));
    assert!(!env.path("u.key").exists());
}
