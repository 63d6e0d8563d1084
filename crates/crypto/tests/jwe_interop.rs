//! Interoperability of signet's compact JWE with python3 jwcrypto, both ways, on keys that
//! the `openssl` binary makes: signet encrypts and jwcrypto decrypts, jwcrypto encrypts
//! (`RSA-OAEP` / `ECDH-ES+A256KW`, `A256GCM`) and signet decrypts.
//!
//! These tests fail, they do not skip, when `openssl` or python3 with the `jwcrypto` module
//! is missing: `scripts/install-deps` installs both (Debian `openssl`, `python3-jwcrypto`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rstest::rstest;
use serde_json::{Value, json};
use signet_crypto::jwe::{self, EncryptOptions};
use signet_crypto::{KeyType, PrivateKey, PublicKey};

const INSTALL_HINT: &str =
    "run scripts/install-deps as root (it installs openssl and python3-jwcrypto)";

/// The jwcrypto side: `decrypt KEY.pem` reads a compact JWE on stdin and prints
/// `{"header": …, "plaintext": base64}`; `encrypt KEY.pem PROTECTED_JSON` encrypts stdin to
/// the public half of the key and prints the compact JWE.
const PEER: &str = r#"
import base64, json, sys
from jwcrypto import jwe, jwk
from jwcrypto.common import json_encode

mode, pem_path = sys.argv[1], sys.argv[2]
with open(pem_path, "rb") as f:
    key = jwk.JWK.from_pem(f.read())
data = sys.stdin.buffer.read()
if mode == "decrypt":
    token = jwe.JWE()
    token.deserialize(data.decode("ascii"), key=key)
    json.dump({"header": token.jose_header,
               "plaintext": base64.b64encode(token.payload).decode("ascii")}, sys.stdout)
elif mode == "encrypt":
    public = jwk.JWK.from_json(key.export_public())
    token = jwe.JWE(data, protected=json_encode(json.loads(sys.argv[3])))
    token.add_recipient(public)
    sys.stdout.write(token.serialize(compact=True))
else:
    sys.exit("unknown mode " + mode)
"#;

/// The first python3 that can import jwcrypto: the one on PATH, else Debian's (a pyenv or
/// virtualenv python3 on PATH does not see the apt-installed module).
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let candidates = ["python3", "/usr/bin/python3"];
        candidates
            .iter()
            .find(|python| {
                Command::new(python)
                    .args(["-c", "import jwcrypto.jwe, jwcrypto.jwk"])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .map(|python| (*python).to_owned())
            .unwrap_or_else(|| {
                panic!("no python3 with the jwcrypto module (tried {candidates:?}); {INSTALL_HINT}")
            })
    })
}

/// Runs `program args` in `dir` with `stdin`; panics with its output unless it succeeds.
fn run(dir: &Path, program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}; {INSTALL_HINT}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A key made by openssl in a temporary directory.
struct OpensslKey {
    dir: tempfile::TempDir,
    /// `key.pem`, exactly as openssl wrote it.
    private_pem: PathBuf,
    private: PrivateKey,
    /// What `openssl pkey -pubout` says the public key is.
    public: PublicKey,
}

impl OpensslKey {
    /// Runs `openssl COMMAND -out key.pem ARGS…`, checks the PEM label and loads both halves.
    fn new(args: &[&str], label: &str, key_type: KeyType) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // `-out` right after the command: `genrsa` wants the key size last.
        let mut args = args.to_vec();
        args.splice(1..1, ["-out", "key.pem"]);
        run(dir.path(), "openssl", &args, b"");
        let private_pem = dir.path().join("key.pem");
        let pem = std::fs::read_to_string(&private_pem).unwrap();
        let labels: Vec<&str> = pem
            .lines()
            .filter_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
            .collect();
        assert_eq!(labels.last(), Some(&label), "openssl wrote {labels:?}");
        let private = PrivateKey::from_unencrypted_pem(&pem)
            .unwrap_or_else(|e| panic!("signet cannot load openssl's {label}: {e}"));
        assert_eq!(private.key_type(), key_type);
        let public_pem = run(
            dir.path(),
            "openssl",
            &["pkey", "-in", "key.pem", "-pubout"],
            b"",
        );
        let public = PublicKey::from_pem(std::str::from_utf8(&public_pem).unwrap()).unwrap();
        assert_eq!(public, private.public_key());
        OpensslKey {
            dir,
            private_pem,
            private,
            public,
        }
    }

    fn peer(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let script = self.dir.path().join("jwe_peer.py");
        if !script.exists() {
            std::fs::write(&script, PEER).unwrap();
        }
        let mut full = vec![
            script.to_str().unwrap(),
            args[0],
            self.private_pem.to_str().unwrap(),
        ];
        full.extend_from_slice(&args[1..]);
        run(self.dir.path(), python(), &full, stdin)
    }

    /// jwcrypto decrypts `compact`; returns its view of the header and the plaintext.
    fn jwcrypto_decrypt(&self, compact: &str) -> (Value, Vec<u8>) {
        let out: Value = serde_json::from_slice(&self.peer(&["decrypt"], compact.as_bytes()))
            .expect("jwcrypto's output is JSON");
        let plaintext = STANDARD.decode(out["plaintext"].as_str().unwrap()).unwrap();
        (out["header"].clone(), plaintext)
    }

    /// jwcrypto encrypts `plaintext` to the public key with the `protected` header.
    fn jwcrypto_encrypt(&self, protected: &Value, plaintext: &[u8]) -> String {
        let out = self.peer(&["encrypt", &protected.to_string()], plaintext);
        String::from_utf8(out).unwrap()
    }
}

fn protected_header(compact: &str) -> Value {
    let b64 = compact.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap()
}

const SECRET: &[u8] = br#"{"productSecret":"s3cr3t-\u00e9","n":42}"#;

/// Every key openssl makes in the forms it writes them: PKCS#8 `PRIVATE KEY` (OpenSSL 3's
/// `genrsa`), PKCS#1 `RSA PRIVATE KEY` (`genrsa -traditional`) and SEC1 `EC PRIVATE KEY`
/// after `EC PARAMETERS` (`ecparam -genkey`).
#[rstest]
#[case::rsa2048_pkcs8(&["genrsa", "2048"], "PRIVATE KEY", KeyType::Rsa2048)]
#[case::rsa2048_pkcs1(&["genrsa", "-traditional", "2048"], "RSA PRIVATE KEY", KeyType::Rsa2048)]
#[case::rsa3072_pkcs8(&["genrsa", "3072"], "PRIVATE KEY", KeyType::Rsa3072)]
#[case::p256_sec1(&["ecparam", "-name", "prime256v1", "-genkey"], "EC PRIVATE KEY", KeyType::P256)]
#[case::p384_sec1(&["ecparam", "-name", "secp384r1", "-genkey"], "EC PRIVATE KEY", KeyType::P384)]
#[case::p521_sec1(&["ecparam", "-name", "secp521r1", "-genkey"], "EC PRIVATE KEY", KeyType::P521)]
#[case::p256_pkcs8(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "PRIVATE KEY", KeyType::P256)]
fn both_ways(#[case] args: &[&str], #[case] label: &str, #[case] key_type: KeyType) {
    let key = OpensslKey::new(args, label, key_type);
    let alg = jwe::algorithm_for(&key.public).unwrap();
    assert_eq!(
        alg,
        if key_type.is_rsa() {
            "RSA-OAEP"
        } else {
            "ECDH-ES+A256KW"
        }
    );

    // (a) signet encrypts, jwcrypto decrypts. (Not an empty plaintext: jwcrypto 1.1 reports
    // "No recipient matched" for one, as it tests the plaintext's truth value.)
    for plaintext in [SECRET, b"x", &[0u8; 3000]] {
        let compact = jwe::encrypt_compact(&key.public, plaintext).unwrap();
        let (header, decrypted) = key.jwcrypto_decrypt(&compact);
        assert_eq!(decrypted, plaintext);
        assert_eq!(header["alg"], alg);
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header, protected_header(&compact));
    }

    // (b) jwcrypto encrypts, signet decrypts.
    let compact = key.jwcrypto_encrypt(&json!({"alg": alg, "enc": "A256GCM"}), SECRET);
    let header = protected_header(&compact);
    assert_eq!(header["alg"], alg);
    if !key_type.is_rsa() {
        assert_eq!(header["epk"]["kty"], "EC");
    }
    assert_eq!(
        jwe::decrypt_compact(&key.private, &compact).unwrap(),
        SECRET
    );

    // A JWE jwcrypto made with what signet does not do is refused, not misread.
    let other_enc = key.jwcrypto_encrypt(&json!({"alg": alg, "enc": "A128GCM"}), SECRET);
    assert!(matches!(
        jwe::decrypt_compact(&key.private, &other_enc),
        Err(signet_crypto::Error::InvalidJwe {
            reason: signet_crypto::JweRejection::UnsupportedEncryption { .. }
        })
    ));
}

/// `cty` and the ECDH-ES party info (`apu`, `apv`) agree with jwcrypto both ways.
#[test]
fn options_both_ways() {
    let key = OpensslKey::new(
        &["ecparam", "-name", "prime256v1", "-genkey"],
        "EC PRIVATE KEY",
        KeyType::P256,
    );
    let options = EncryptOptions::default()
        .with_json_content_type()
        .with_party_info(Some(b"signet".to_vec()), Some(b"client-42".to_vec()));
    let compact = jwe::encrypt_compact_with(&key.public, SECRET, &options).unwrap();
    let (header, decrypted) = key.jwcrypto_decrypt(&compact);
    assert_eq!(decrypted, SECRET);
    assert_eq!(header["cty"], "application/json");
    assert_eq!(header["apu"], URL_SAFE_NO_PAD.encode("signet"));

    let protected = json!({
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "apu": URL_SAFE_NO_PAD.encode("server"),
        "apv": URL_SAFE_NO_PAD.encode("client"),
        "cty": "application/json",
    });
    let compact = key.jwcrypto_encrypt(&protected, SECRET);
    assert_eq!(
        jwe::decrypt_compact(&key.private, &compact).unwrap(),
        SECRET
    );

    let rsa = OpensslKey::new(&["genrsa", "2048"], "PRIVATE KEY", KeyType::Rsa2048);
    let compact = jwe::encrypt_compact_with(
        &rsa.public,
        SECRET,
        &EncryptOptions::default().with_json_content_type(),
    )
    .unwrap();
    let (header, decrypted) = rsa.jwcrypto_decrypt(&compact);
    assert_eq!(decrypted, SECRET);
    assert_eq!(header["cty"], "application/json");
}

/// What jwcrypto writes for a key signet must refuse: a JWE for another key of the same kind,
/// and RSA-OAEP-256 (SHA-256 OAEP) instead of RSA-OAEP.
#[test]
fn foreign_jwes_are_refused() {
    let ours = OpensslKey::new(&["genrsa", "2048"], "PRIVATE KEY", KeyType::Rsa2048);
    let theirs = OpensslKey::new(&["genrsa", "2048"], "PRIVATE KEY", KeyType::Rsa2048);
    let compact = theirs.jwcrypto_encrypt(&json!({"alg": "RSA-OAEP", "enc": "A256GCM"}), SECRET);
    assert_eq!(
        jwe::decrypt_compact(&ours.private, &compact)
            .unwrap_err()
            .to_string(),
        "invalid JWE: decryption failed (wrong key, or the JWE was altered)"
    );
    let compact = ours.jwcrypto_encrypt(&json!({"alg": "RSA-OAEP-256", "enc": "A256GCM"}), SECRET);
    assert!(
        jwe::decrypt_compact(&ours.private, &compact)
            .unwrap_err()
            .to_string()
            .contains("alg \"RSA-OAEP-256\" does not fit the rsa2048 key (RSA-OAEP needed)")
    );
}
