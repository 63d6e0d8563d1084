//! Interoperability with the real `openssl` binary: keys openssl makes are imported, our
//! signatures verify with `openssl dgst` / `pkeyutl`, openssl's verify with us, and our
//! public-key PEM equals `openssl pkey -pubout`.
//!
//! The tests are skipped (with a message) when no `openssl` binary is on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_crypto::{Error, KeyType, PrivateKey, PublicKey, SignatureAlgorithm, cosign_key};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }
    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not found: skipping interoperability test");
    }
    ok
}

/// Runs openssl with `args` in `dir`; returns (success, stdout+stderr).
fn openssl(dir: &Dir, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir.0.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn openssl_ok(dir: &Dir, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed: {text}");
    text
}

/// The digest flag for `openssl dgst` for an algorithm (None: use pkeyutl, Ed25519).
fn dgst_flags(alg: SignatureAlgorithm) -> Option<Vec<&'static str>> {
    use SignatureAlgorithm as A;
    Some(match alg {
        A::EcdsaP256Sha256 | A::EcdsaP384Sha256 | A::EcdsaP521Sha256 | A::RsaPkcs1Sha256 => {
            vec!["-sha256"]
        }
        A::EcdsaP384Sha384 => vec!["-sha384"],
        A::EcdsaP521Sha512 => vec!["-sha512"],
        A::RsaPssSha256 => vec![
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
        A::Ed25519 | A::Ed25519ph => return None,
    })
}

/// Checks `sig` over `msg` with openssl and `pub.pem` in `dir`.
fn openssl_verifies(dir: &Dir, alg: SignatureAlgorithm, msg: &Path, sig: &[u8]) -> bool {
    let sig_path = dir.write("sig.bin", sig);
    let sig_path = sig_path.to_str().unwrap();
    let msg = msg.to_str().unwrap();
    match dgst_flags(alg) {
        Some(flags) => {
            let mut args = vec!["dgst"];
            args.extend(flags);
            args.extend(["-verify", "pub.pem", "-signature", sig_path, msg]);
            openssl(dir, &args).0
        }
        None => {
            openssl(
                dir,
                &[
                    "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", msg,
                    "-sigfile", sig_path,
                ],
            )
            .0
        }
    }
}

/// Generates a key with `gen_args` (which write `key.pem`), imports it and cross-checks.
fn check_imported(gen_args: &[&str], expected: KeyType) {
    let dir = Dir::new();
    openssl_ok(&dir, gen_args);
    let pem = dir.read("key.pem");
    let key = PrivateKey::from_unencrypted_pem(&pem)
        .unwrap_or_else(|e| panic!("import of {gen_args:?} failed: {e}\n{pem}"));
    assert_eq!(key.key_type(), expected);

    // Public key PEM equals openssl's.
    openssl_ok(
        &dir,
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    let openssl_pub = dir.read("pub.pem");
    assert_eq!(key.public_key().to_pem(), openssl_pub, "{gen_args:?}");
    assert_eq!(PublicKey::from_pem(&openssl_pub).unwrap(), key.public_key());

    // Our PKCS#8 export is readable by openssl and is the same key.
    dir.write("ours.der", &*key.to_pkcs8_der());
    let ours_pub = openssl_ok(
        &dir,
        &["pkey", "-inform", "DER", "-in", "ours.der", "-pubout"],
    );
    assert_eq!(ours_pub, openssl_pub);

    // Every algorithm we sign with verifies with openssl (Ed25519ph: OpenSSL 3.0 has no
    // Ed25519ph, so only our own verifier and the RFC 8032 vector in the unit tests cover it).
    let msg = dir.write("msg.txt", b"{\"critical\":{}}\n");
    for alg in expected.algorithms() {
        let sig = key.sign_with(*alg, b"{\"critical\":{}}\n").unwrap();
        if *alg != SignatureAlgorithm::Ed25519ph {
            assert!(
                openssl_verifies(&dir, *alg, &msg, &sig),
                "{gen_args:?} {alg}"
            );
            let other = dir.write("other.txt", b"something else");
            assert!(!openssl_verifies(&dir, *alg, &other, &sig), "{alg}");
        }
    }

    // A signature made by openssl verifies with us.
    let sig = if expected == KeyType::Ed25519 {
        openssl_ok(
            &dir,
            &[
                "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "msg.txt", "-out",
                "osig.bin",
            ],
        );
        std::fs::read(dir.path("osig.bin")).unwrap()
    } else {
        let mut args = vec!["dgst"];
        args.extend(dgst_flags(expected.default_algorithm()).unwrap());
        args.extend(["-sign", "key.pem", "-out", "osig.bin", "msg.txt"]);
        openssl_ok(&dir, &args);
        std::fs::read(dir.path("osig.bin")).unwrap()
    };
    let expected_alg = if expected == KeyType::Ed25519 {
        SignatureAlgorithm::Ed25519
    } else {
        expected.default_algorithm()
    };
    assert_eq!(
        key.public_key().verify(b"{\"critical\":{}}\n", &sig),
        Ok(expected_alg)
    );
}

#[test]
fn imports_openssl_keys_and_interoperates() {
    if !have_openssl() {
        return;
    }
    let cases: &[(&[&str], KeyType)] = &[
        // PKCS#8 RSA.
        (
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ],
            KeyType::Rsa2048,
        ),
        // PKCS#1 "RSA PRIVATE KEY".
        (
            &["genrsa", "-traditional", "-out", "key.pem", "3072"],
            KeyType::Rsa3072,
        ),
        // SEC1 with an EC PARAMETERS block first.
        (
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-out",
                "key.pem",
            ],
            KeyType::P256,
        ),
        // SEC1 alone.
        (
            &[
                "ecparam",
                "-name",
                "secp384r1",
                "-genkey",
                "-noout",
                "-out",
                "key.pem",
            ],
            KeyType::P384,
        ),
        // PKCS#8 EC.
        (
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
                "-out",
                "key.pem",
            ],
            KeyType::P521,
        ),
        // PKCS#8 Ed25519.
        (
            &["genpkey", "-algorithm", "ed25519", "-out", "key.pem"],
            KeyType::Ed25519,
        ),
    ];
    for (args, kt) in cases {
        check_imported(args, *kt);
    }
}

#[test]
fn imported_key_survives_the_cosign_key_file() {
    if !have_openssl() {
        return;
    }
    let dir = Dir::new();
    openssl_ok(
        &dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "key.pem",
        ],
    );
    let key = PrivateKey::from_unencrypted_pem(&dir.read("key.pem")).unwrap();
    let password = cosign_key::Password::from("pw");
    let file =
        cosign_key::encrypt_private_key_with(&key, &password, cosign_key::ScryptParams::LEGACY)
            .unwrap();
    let back = cosign_key::decrypt_private_key(&file, &password).unwrap();
    assert_eq!(back.public_key(), key.public_key());
}

#[test]
fn refuses_weak_and_exotic_keys() {
    if !have_openssl() {
        return;
    }
    let dir = Dir::new();
    openssl_ok(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
            "-out",
            "rsa1024.pem",
        ],
    );
    let err = PrivateKey::from_unencrypted_pem(&dir.read("rsa1024.pem")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported RSA key size 1024 bits (2048, 3072 or 4096 needed)"
    );
    openssl_ok(
        &dir,
        &[
            "rsa",
            "-in",
            "rsa1024.pem",
            "-pubout",
            "-out",
            "rsa1024.pub",
        ],
    );
    assert_eq!(
        PublicKey::from_pem(&dir.read("rsa1024.pub")).unwrap_err(),
        Error::UnsupportedRsaKeySize { bits: 1024 }
    );

    for (curve, name) in [("secp224r1", "P-224"), ("secp256k1", "secp256k1")] {
        let file = format!("{curve}.pem");
        openssl_ok(
            &dir,
            &[
                "ecparam", "-name", curve, "-genkey", "-noout", "-out", &file,
            ],
        );
        let err = PrivateKey::from_unencrypted_pem(&dir.read(&file)).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedCurve { curve } if curve.starts_with(name)),
            "{err}"
        );
        let pkcs8 = format!("{curve}.p8");
        openssl_ok(
            &dir,
            &["pkcs8", "-topk8", "-nocrypt", "-in", &file, "-out", &pkcs8],
        );
        assert!(matches!(
            PrivateKey::from_unencrypted_pem(&dir.read(&pkcs8)),
            Err(Error::UnsupportedCurve { .. })
        ));
        let public = format!("{curve}.pub");
        openssl_ok(&dir, &["pkey", "-in", &file, "-pubout", "-out", &public]);
        assert!(matches!(
            PublicKey::from_pem(&dir.read(&public)),
            Err(Error::UnsupportedCurve { .. })
        ));
    }
    let err = PrivateKey::from_unencrypted_pem(&dir.read("secp224r1.pem")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported elliptic curve P-224 (OID 1.3.132.0.33) (P-256, P-384 or P-521 needed)"
    );
}

#[test]
fn refuses_encrypted_private_keys() {
    if !have_openssl() {
        return;
    }
    let dir = Dir::new();
    openssl_ok(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes-256-cbc",
            "-pass",
            "pass:secret",
            "-out",
            "enc.pem",
        ],
    );
    assert_eq!(
        PrivateKey::from_unencrypted_pem(&dir.read("enc.pem")).unwrap_err(),
        Error::EncryptedPrivateKey {
            found: "ENCRYPTED PRIVATE KEY".to_owned()
        }
    );
    openssl_ok(
        &dir,
        &[
            "genrsa",
            "-traditional",
            "-aes128",
            "-passout",
            "pass:secret",
            "-out",
            "legacy.pem",
            "2048",
        ],
    );
    let err = PrivateKey::from_unencrypted_pem(&dir.read("legacy.pem")).unwrap_err();
    assert!(matches!(err, Error::EncryptedPrivateKey { .. }), "{err}");
}

#[test]
fn reads_pkcs1_public_keys() {
    if !have_openssl() {
        return;
    }
    let dir = Dir::new();
    openssl_ok(&dir, &["genrsa", "-out", "key.pem", "2048"]);
    openssl_ok(
        &dir,
        &[
            "rsa",
            "-in",
            "key.pem",
            "-RSAPublicKey_out",
            "-out",
            "pkcs1.pub",
        ],
    );
    openssl_ok(
        &dir,
        &["rsa", "-in", "key.pem", "-pubout", "-out", "spki.pub"],
    );
    let pkcs1 = dir.read("pkcs1.pub");
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let from_pkcs1 = PublicKey::from_pem(&pkcs1).unwrap();
    let spki = dir.read("spki.pub");
    assert_eq!(from_pkcs1, PublicKey::from_pem(&spki).unwrap());
    assert_eq!(from_pkcs1.to_pem(), spki);
    assert_eq!(from_pkcs1.key_type(), KeyType::Rsa2048);
}
