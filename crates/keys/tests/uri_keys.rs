//! Keys opened by PKCS#11 URI ([`signet_keys::Pkcs11Key`]) on real SoftHSM2 tokens.
//!
//! As in `backends.rs`, `softhsm_uri_keys` is a launcher: it makes a temporary SoftHSM2
//! configuration with three tokens (`uri-main`, and two both labelled `uri-twin`), generates
//! keys and a certificate with the openssl CLI and imports them with `softhsm2-util --import`,
//! then re-runs this test binary as a child with `SOFTHSM2_CONF`, the PIN and the scratch
//! directory in the child's environment only. The child generates more keys on the token
//! (sensitive, non-extractable, through `Pkcs11Backend`), stores the certificate object with
//! cryptoki, and opens keys by URI. The launcher checks that the child ran the test and that
//! the PIN appears nowhere in its output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use signet_crypto::{PublicKey, SignatureAlgorithm, Signer as _};
use signet_keys::uri::{Fallbacks, Pkcs11Uri};
use signet_keys::{
    Error, HashAlgorithm, KeyBackend, KeyType, Pin, Pkcs11Backend, Pkcs11Config, Pkcs11Key,
    SignaturePadding,
};

const MODULE: &str = signet_testkit::softhsm::MODULE;
const CHILD_MARKER: &str = "SIGNET_KEYS_URI_CHILD";
const MAIN: &str = "uri-main";
const TWIN: &str = "uri-twin";
const PIN: &str = "pin-7c1d42e9";
/// The imported P-256 key: its label (with a space and an ampersand) and id.
const EC_LABEL: &str = "release key & co";
const EC_ID: [u8; 3] = [0xa1, 0xb2, 0x00];

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    run(Command::new("openssl").current_dir(dir).args(args))
}

fn import(conf: &Path, dir: &Path, file: &str, label: &str, id_hex: &str, public: bool) {
    let mut cmd = Command::new("softhsm2-util");
    cmd.current_dir(dir)
        .env("SOFTHSM2_CONF", conf)
        .args(["--import", file, "--token", MAIN, "--label", label])
        .args(["--id", id_hex, "--pin", PIN]);
    if !public {
        cmd.arg("--no-public-key");
    }
    run(&mut cmd);
}

#[test]
fn softhsm_uri_keys() {
    if std::env::var_os(CHILD_MARKER).is_some() {
        child();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = signet_testkit::softhsm::Token::init(d, MAIN, PIN).conf;
    signet_testkit::softhsm::Token::init(d, TWIN, PIN);
    signet_testkit::softhsm::Token::init(d, TWIN, PIN);

    // A P-256 key and a self-signed certificate for it, made with openssl and imported.
    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.sec1",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "ec.sec1", "-out", "ec.p8",
        ],
    );
    openssl(d, &["pkey", "-in", "ec.p8", "-pubout", "-out", "ec.pub"]);
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ec.p8",
            "-subj",
            "/CN=uri test signer",
            "-days",
            "2",
            "-outform",
            "DER",
            "-out",
            "ec.crt",
        ],
    );
    import(&conf, d, "ec.p8", EC_LABEL, "a1b200", true);
    // An RSA key and an EC key imported without their public key objects.
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.p8",
        ],
    );
    openssl(d, &["pkey", "-in", "rsa.p8", "-pubout", "-out", "rsa.pub"]);
    import(&conf, d, "rsa.p8", "rsa no pub", "0201", false);
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "ec384.p8",
        ],
    );
    import(&conf, d, "ec384.p8", "ec no pub", "0301", false);
    // Two keys sharing one label.
    import(&conf, d, "rsa.p8", "twice", "0401", true);
    import(&conf, d, "ec384.p8", "twice", "0402", true);
    std::fs::write(d.join("pin.txt"), format!("{PIN}\n")).unwrap();

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "softhsm_uri_keys",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD_MARKER, "1")
        .env("SIGNET_KEYS_URI_DIR", d)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- child stdout ---\n{stdout}\n--- child stderr ---\n{stderr}");
    assert!(out.status.success(), "the URI suite failed in the child");
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the suite"
    );
    assert!(
        !stdout.contains(PIN) && !stderr.contains(PIN),
        "the PIN leaked"
    );
}

/// Stores `der` as an X.509 certificate object with `id` and `label` on the main token.
fn store_certificate(der: &[u8], id: &[u8], label: &str) {
    signet_testkit::softhsm::store_certificate(MAIN, PIN, der, id, label);
}

/// The slot ids of the tokens labelled `label`.
fn slots_of(label: &str) -> Vec<u64> {
    let ctx = Pkcs11::new(MODULE).unwrap();
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    ctx.get_slots_with_token()
        .unwrap()
        .into_iter()
        .filter(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == label)
        .map(|s| s.id())
        .collect()
}

fn pct(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

fn open(uri: &str) -> Result<Pkcs11Key, Error> {
    Pkcs11Key::open(&Pkcs11Uri::parse(uri)?, &Fallbacks::default())
}

fn open_err(uri: &str) -> Error {
    let err = open(uri).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains(PIN), "{text}");
    println!("refused: {text}");
    err
}

/// `openssl dgst` verifies `sig` over `msg`: PKCS#1 v1.5 / ECDSA DER, or PSS with `salt`.
fn openssl_verifies(
    dir: &Path,
    pem: &str,
    hash: HashAlgorithm,
    msg: &[u8],
    sig: &[u8],
    pss_salt: Option<usize>,
) -> bool {
    std::fs::write(dir.join("v.pub"), pem).unwrap();
    std::fs::write(dir.join("v.sig"), sig).unwrap();
    std::fs::write(dir.join("v.msg"), msg).unwrap();
    let flag = match hash {
        HashAlgorithm::Sha256 => "-sha256",
        HashAlgorithm::Sha384 => "-sha384",
        HashAlgorithm::Sha512 => "-sha512",
    };
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir)
        .args(["dgst", flag, "-verify", "v.pub", "-signature", "v.sig"]);
    if let Some(salt) = pss_salt {
        cmd.args(["-sigopt", "rsa_padding_mode:pss"])
            .args(["-sigopt", &format!("rsa_pss_saltlen:{salt}")]);
    }
    let out = cmd.arg("v.msg").output().unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

fn child() {
    let dir = PathBuf::from(std::env::var_os("SIGNET_KEYS_URI_DIR").unwrap());
    let scratch = tempfile::tempdir().unwrap();
    let message = b"{\"critical\":{\"type\":\"cosign container image signature\"}}";
    let module = format!("module-path={MODULE}");
    let ec_pub =
        PublicKey::from_pem(&std::fs::read_to_string(dir.join("ec.pub")).unwrap()).unwrap();
    let cert_der = std::fs::read(dir.join("ec.crt")).unwrap();
    let ec_label = "release%20key%20&%20co";

    // Refusals first, while no session of this process is logged in to the token.
    let err = open_err(&format!(
        "pkcs11:token={MAIN};object={ec_label}?{module}&pin-value=wrong-0000"
    ));
    assert!(matches!(err, Error::PinRefused { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-0000"));
    let err = open_err(&format!("pkcs11:token={MAIN};object={ec_label}?{module}"));
    assert!(matches!(err, Error::PinRequired { .. }), "{err}");
    assert!(err.to_string().contains("COSIGN_PKCS11_PIN"), "{err}");
    let err = open_err(&format!(
        "pkcs11:token=no-such-token;object=k?{module}&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::NoMatchingToken { .. }), "{err}");
    assert!(err.to_string().contains("token=no-such-token"), "{err}");
    let err = open_err(&format!(
        "pkcs11:token={TWIN};object=k?{module}&pin-value={PIN}"
    ));
    assert!(
        matches!(err, Error::AmbiguousToken { count: 2, .. }),
        "{err}"
    );
    let err = open_err(&format!(
        "pkcs11:slot-id=4242424242;object=k?{module}&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::NoMatchingToken { .. }), "{err}");
    let err = open_err(&format!(
        "pkcs11:token={MAIN};object=k?module-path=/nonexistent/lib.so&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::InvalidUriAttribute { .. }), "{err}");
    let err = open_err(&format!("pkcs11:token={MAIN};object=k?pin-value={PIN}"));
    assert!(
        err.to_string().contains("COSIGN_PKCS11_MODULE_PATH"),
        "{err}"
    );
    let err = open_err(&format!("pkcs11:token={MAIN};object=k;type=cert?{module}"));
    assert!(err.to_string().contains("attribute type"), "{err}");
    let err = open_err(&format!(
        "pkcs11:token={MAIN};library-manufacturer=Nobody?{module}&pin-value={PIN};object=k"
    ));
    assert!(err.to_string().contains("separated by '&'"), "{err}");
    let err = open_err(&format!(
        "pkcs11:token={MAIN};library-manufacturer=Nobody;object=k?{module}&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::NoMatchingToken { .. }), "{err}");

    // Keys generated on the token (sensitive, non-extractable), one per type.
    let backend = Pkcs11Backend::open(Pkcs11Config {
        module: MODULE.into(),
        token_label: MAIN.into(),
        pin: Pin::new(PIN),
    })
    .unwrap();
    let generated: Vec<(KeyType, Vec<u8>)> = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa2048,
    ]
    .into_iter()
    .map(|kt| {
        let id = backend.generate(&format!("generated {kt}"), kt).unwrap();
        let raw: Vec<u8> = (0..id.as_str().len() / 2)
            .map(|i| u8::from_str_radix(&id.as_str()[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        (kt, raw)
    })
    .collect();
    let backend_pubs: Vec<PublicKey> = generated
        .iter()
        .map(|(_, raw)| {
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            backend.public_key(&signet_keys::KeyId::new(hex)).unwrap()
        })
        .collect();
    drop(backend);
    store_certificate(&cert_der, &EC_ID, EC_LABEL);

    // The imported P-256 key by label, token and pin-value: cosign's usual URI.
    let key = open(&format!(
        "pkcs11:token={MAIN};object={ec_label}?{module}&pin-value={PIN}"
    ))
    .unwrap();
    println!("opened {key:?}");
    assert!(!format!("{key:?}").contains(PIN));
    assert_eq!(key.key_type(), KeyType::EcdsaP256);
    assert!(
        key.public_key() == ec_pub,
        "the token's public key is openssl's"
    );
    assert_eq!(
        key.certificate_der(),
        Some(&cert_der[..]),
        "certificate found by label"
    );
    assert_eq!(key.token_label(), MAIN);
    assert!(!key.uri().contains(PIN), "{}", key.uri());
    // Signer: cosign's algorithm for a PKCS#11 key (ECDSA DER over SHA-256).
    assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP256Sha256);
    let sig = key.sign(message).unwrap();
    assert_eq!(sig[0], 0x30);
    assert!(openssl_verifies(
        scratch.path(),
        &ec_pub.to_pem(),
        HashAlgorithm::Sha256,
        message,
        &sig,
        None
    ));
    assert!(!openssl_verifies(
        scratch.path(),
        &ec_pub.to_pem(),
        HashAlgorithm::Sha256,
        b"other",
        &sig,
        None
    ));
    drop(key);

    // The same key by id alone, in its slot, with the PIN from a file and the module from
    // the fallbacks (COSIGN_PKCS11_MODULE_PATH); the certificate is found by id.
    let main_slot = slots_of(MAIN)[0];
    let uri = Pkcs11Uri::parse(&format!(
        "pkcs11:slot-id={main_slot};id={}?pin-source=file:{}",
        pct(&EC_ID),
        dir.join("pin.txt").display()
    ))
    .unwrap();
    let fallbacks = Fallbacks {
        module_path: Some(MODULE.into()),
        ..Fallbacks::default()
    };
    let key = Pkcs11Key::open(&uri, &fallbacks).unwrap();
    assert!(key.public_key() == ec_pub);
    assert_eq!(key.slot_id(), main_slot);
    assert_eq!(
        key.certificate_der(),
        Some(&cert_der[..]),
        "certificate found by id"
    );
    drop(key);
    // The PIN from the fallbacks (COSIGN_PKCS11_PIN); COSIGN_PKCS11_IGNORE_CERTIFICATE=1.
    let uri = Pkcs11Uri::parse(&format!(
        "pkcs11:token={MAIN};id={};object={ec_label}?{module}",
        pct(&EC_ID)
    ))
    .unwrap();
    let key = Pkcs11Key::open(
        &uri,
        &Fallbacks {
            pin: Some(Pin::new(PIN)),
            ignore_certificate: true,
            ..Fallbacks::default()
        },
    )
    .unwrap();
    assert!(key.public_key() == ec_pub);
    assert_eq!(key.certificate_der(), None);
    // The URI's pin-value wins over the fallback PIN.
    drop(key);
    let err = Pkcs11Key::open(
        &Pkcs11Uri::parse(&format!(
            "pkcs11:token={MAIN};object={ec_label}?{module}&pin-value=wrong-1111"
        ))
        .unwrap(),
        &Fallbacks {
            pin: Some(Pin::new(PIN)),
            ..Fallbacks::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::PinRefused { .. }), "{err}");

    // All given attributes must match: the right id with another label is not the key.
    let err = open_err(&format!(
        "pkcs11:token={MAIN};id={};object=other?{module}&pin-value={PIN}",
        pct(&EC_ID)
    ));
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("object=other;id=%a1%b2%00"),
        "{err}"
    );
    let err = open_err(&format!(
        "pkcs11:token={MAIN};object=no%20such%20key?{module}&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::KeyNotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no private key object=no%20such%20key on PKCS#11 token \"uri-main\""),
        "{err}"
    );
    let err = open_err(&format!(
        "pkcs11:token={MAIN};object=twice?{module}&pin-value={PIN}"
    ));
    assert!(matches!(err, Error::AmbiguousKey { count: 2, .. }), "{err}");
    // By id, one of the two is picked.
    let key = open(&format!(
        "pkcs11:token={MAIN};object=twice;id=%04%02?{module}&pin-value={PIN}"
    ))
    .unwrap();
    assert_eq!(key.key_type(), KeyType::EcdsaP384);
    assert_eq!(key.certificate_der(), None);
    drop(key);

    // Without public key objects: RSA reads modulus and exponent off the private key; EC
    // cannot, and says so.
    let rsa_pub =
        PublicKey::from_pem(&std::fs::read_to_string(dir.join("rsa.pub")).unwrap()).unwrap();
    let key = open(&format!(
        "pkcs11:token={MAIN};object=rsa%20no%20pub?{module}&pin-value={PIN}"
    ))
    .unwrap();
    assert!(key.public_key() == rsa_pub);
    assert_eq!(key.algorithm(), SignatureAlgorithm::RsaPkcs1Sha256);
    let sig = key.sign(message).unwrap();
    assert!(openssl_verifies(
        scratch.path(),
        &rsa_pub.to_pem(),
        HashAlgorithm::Sha256,
        message,
        &sig,
        None
    ));
    drop(key);
    let err = open_err(&format!(
        "pkcs11:token={MAIN};object=ec%20no%20pub?{module}&pin-value={PIN}"
    ));
    assert!(err.to_string().contains("no public key object"), "{err}");

    // The generated keys by id: non-extractable, and every signing form.
    for ((kt, raw_id), backend_pub) in generated.iter().zip(&backend_pubs) {
        let kt = *kt;
        let key = open(&format!(
            "pkcs11:token={MAIN};id={}?{module}&pin-value={PIN}",
            pct(raw_id)
        ))
        .unwrap();
        assert_eq!(key.key_type(), kt);
        assert!(key.public_key() == *backend_pub, "{kt}");
        let p = key.protection().unwrap();
        assert!(
            p.sensitive && !p.extractable && p.never_extractable && p.always_sensitive,
            "{kt}: {p:?}"
        );
        assert!(!p.secret_readable, "{kt}");
        let public = key.public_key();
        let pem = public.to_pem();

        // cosign's algorithm: SHA-256 for every key type.
        let sig = key.sign(message).unwrap();
        assert!(
            openssl_verifies(
                scratch.path(),
                &pem,
                HashAlgorithm::Sha256,
                message,
                &sig,
                None
            ),
            "{kt}"
        );
        public.verify_with(key.algorithm(), message, &sig).unwrap();

        if kt.is_rsa() {
            // Notary Project PS256/PS384/PS512: PSS, MGF1 of the same hash, salt = digest.
            for hash in HashAlgorithm::ALL {
                let sig = key
                    .sign_message(message, hash, SignaturePadding::Pss, true)
                    .unwrap();
                let salt = hash.output_len();
                assert!(
                    openssl_verifies(scratch.path(), &pem, hash, message, &sig, Some(salt)),
                    "{kt} {hash}"
                );
                assert!(
                    !openssl_verifies(scratch.path(), &pem, hash, message, &sig, None),
                    "{kt} {hash}: not PKCS#1"
                );
                assert!(
                    !openssl_verifies(scratch.path(), &pem, hash, b"tampered", &sig, Some(salt)),
                    "{kt} {hash}"
                );
                let again = key
                    .sign_message(message, hash, SignaturePadding::Pss, false)
                    .unwrap();
                assert_ne!(sig, again, "PSS is randomized");
                let digest = hash.digest(message);
                let pkcs1 = key
                    .sign_digest_with(&digest, hash, SignaturePadding::Pkcs1v15)
                    .unwrap();
                assert!(
                    openssl_verifies(scratch.path(), &pem, hash, message, &pkcs1, None),
                    "{kt} {hash}"
                );
            }
        } else {
            // Notary Project ES256/ES384/ES512: the curve's hash, r||s.
            use aws_lc_rs::signature::{self as s, UnparsedPublicKey};
            let (hash, fixed, width): (_, &s::EcdsaVerificationAlgorithm, usize) = match kt {
                KeyType::EcdsaP256 => (HashAlgorithm::Sha256, &s::ECDSA_P256_SHA256_FIXED, 32),
                KeyType::EcdsaP384 => (HashAlgorithm::Sha384, &s::ECDSA_P384_SHA384_FIXED, 48),
                _ => (HashAlgorithm::Sha512, &s::ECDSA_P521_SHA512_FIXED, 66),
            };
            let raw = key
                .sign_message(message, hash, SignaturePadding::Pss, true)
                .unwrap();
            assert_eq!(raw.len(), 2 * width, "{kt}");
            let spki = public.to_spki_der();
            let point = &spki[spki.len() - (1 + 2 * width)..];
            UnparsedPublicKey::new(fixed, point)
                .verify(message, &raw)
                .unwrap();
            assert!(
                UnparsedPublicKey::new(fixed, point)
                    .verify(b"tampered", &raw)
                    .is_err()
            );
            let der = key
                .sign_message(message, hash, SignaturePadding::Pkcs1v15, false)
                .unwrap();
            assert_eq!(der[0], 0x30);
            assert!(
                openssl_verifies(scratch.path(), &pem, hash, message, &der, None),
                "{kt}"
            );
            // A hash the curve does not sign with, and a digest of the wrong length.
            if kt == KeyType::EcdsaP256 {
                let err = key
                    .sign_message(message, HashAlgorithm::Sha384, SignaturePadding::Pss, true)
                    .unwrap_err();
                assert!(matches!(err, Error::UnsupportedHash { .. }), "{err}");
            }
            let err = key
                .sign_digest_with(&[0u8; 20], hash, SignaturePadding::Pkcs1v15)
                .unwrap_err();
            assert!(matches!(err, Error::DigestLength { .. }), "{err}");
        }
    }

    // Listing, as `cosign pkcs11-tool list-tokens` / `list-keys-uris`: every private key's
    // URI opens that key.
    let tokens = signet_keys::list_tokens(Path::new(MODULE)).unwrap();
    let labels: Vec<&str> = tokens.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(
        labels.iter().filter(|l| **l == TWIN).count(),
        2,
        "{labels:?}"
    );
    let main = tokens.iter().find(|t| t.label == MAIN).unwrap();
    assert_eq!(main.slot_id, main_slot);
    assert_eq!(main.manufacturer, "SoftHSM project");
    assert!(
        signet_keys::list_key_uris(Path::new(MODULE), main_slot, None)
            .unwrap()
            .is_empty(),
        "private keys are private"
    );
    let listed =
        signet_keys::list_key_uris(Path::new(MODULE), main_slot, Some(Pin::new(PIN))).unwrap();
    assert_eq!(listed.len(), 5 + generated.len(), "{listed:?}");
    let with_pin = Fallbacks {
        pin: Some(Pin::new(PIN)),
        ..Fallbacks::default()
    };
    let mut opened = 0;
    for uri in &listed {
        let text = uri.to_string();
        assert!(
            !text.contains(PIN) && text.contains(&format!("slot-id={main_slot}")),
            "{text}"
        );
        let again = Pkcs11Uri::parse(&text).unwrap();
        match Pkcs11Key::open(&again, &with_pin) {
            Ok(key) => {
                opened += 1;
                if uri.object() == Some(EC_LABEL) {
                    assert!(key.public_key() == ec_pub, "{text}");
                    assert_eq!(uri.id(), Some(&EC_ID[..]));
                }
            }
            Err(e) => assert_eq!(uri.object(), Some("ec no pub"), "{text}: {e}"),
        }
    }
    assert_eq!(opened, listed.len() - 1);

    // One key from several threads.
    let key = std::sync::Arc::new(
        open(&format!(
            "pkcs11:token={MAIN};id={}?{module}&pin-value={PIN}",
            pct(&generated[0].1)
        ))
        .unwrap(),
    );
    std::thread::scope(|s| {
        for _ in 0..4 {
            let key = key.clone();
            s.spawn(move || {
                for _ in 0..5 {
                    let sig = key.sign(message).unwrap();
                    key.public_key()
                        .verify_with(SignatureAlgorithm::EcdsaP256Sha256, message, &sig)
                        .unwrap();
                }
            });
        }
    });
    println!("URI suite passed");
}
