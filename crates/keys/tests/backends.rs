//! One test suite run against both key backends: the software store (in-process) and the
//! PKCS#11 backend on a SoftHSM2 token.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module is loaded, and environment variables are
//! process-wide (setting them needs `unsafe` in edition 2024, which the workspace forbids). So
//! `softhsm_backend_suite` is a launcher: it creates a temporary directory with a private
//! `softhsm2.conf` (`directories.tokendir = DIR/tokens`, `objectstore.backend = file`),
//! initialises a token there with `softhsm2-util --init-token --free`, and re-runs this test
//! binary (`std::env::current_exe()`) as a child with `--exact softhsm_backend_suite` and
//! `SOFTHSM2_CONF`, the marker `SIGNET_KEYS_SOFTHSM_CHILD` and the token's label and PIN in
//! the child's environment only. In the child the same test sees the marker and runs the
//! suite. The launcher checks the child passed exactly one test and that the PIN appears
//! nowhere in its output. Nothing outside the temporary directory is touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_crypto::Signer as _;
use signet_keys::{
    BackendSigner, Error, HashAlgorithm, KeyBackend, KeyId, KeyType, Pin, Pkcs11Backend,
    Pkcs11Config, SoftwareBackend,
};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const CHILD_MARKER: &str = "SIGNET_KEYS_SOFTHSM_CHILD";
const TOKEN_LABEL: &str = "signet-keys-test";

/// The shared suite. `extra` runs backend-specific checks on every generated key.
fn run_suite(backend: &dyn KeyBackend, extra: &dyn Fn(&KeyId, KeyType)) {
    let scratch = tempfile::tempdir().unwrap();
    let message = b"{\"critical\":{\"type\":\"cosign container image signature\"}}";
    for kt in KeyType::ALL {
        let id = backend.generate(&format!("suite {kt}"), kt).unwrap();
        let public = backend.public_key(&id).unwrap();
        assert_eq!(public.key_type(), kt.crypto_key_type(), "{kt}");
        let algorithm = kt.crypto_key_type().default_algorithm();

        // sign: verified independently with signet-crypto, exactly cosign's algorithm.
        let sig = backend.sign(&id, message).unwrap();
        public.verify_with(algorithm, message, &sig).unwrap();
        assert!(public.verify(b"another message", &sig).is_err(), "{kt}");
        if !kt.is_rsa() {
            assert_eq!(sig[0], 0x30, "{kt}: ECDSA signatures are DER");
        }

        // and with the openssl CLI.
        openssl_verify(
            scratch.path(),
            &public.to_pem(),
            kt.default_hash(),
            message,
            &sig,
        );

        // sign_digest agrees with sign.
        let hash = kt.default_hash();
        let digest = hash.digest(message);
        let sig2 = backend.sign_digest(&id, &digest, hash).unwrap();
        public.verify_with(algorithm, message, &sig2).unwrap();
        if kt.is_rsa() {
            assert_eq!(sig, sig2, "{kt}: PKCS#1 v1.5 is deterministic");
        }
        // Older cosign / containers/image: P-384 and P-521 over SHA-256.
        if matches!(kt, KeyType::EcdsaP384 | KeyType::EcdsaP521) {
            let d256 = HashAlgorithm::Sha256.digest(message);
            let sig3 = backend
                .sign_digest(&id, &d256, HashAlgorithm::Sha256)
                .unwrap();
            let alg = if kt == KeyType::EcdsaP384 {
                signet_crypto::SignatureAlgorithm::EcdsaP384Sha256
            } else {
                signet_crypto::SignatureAlgorithm::EcdsaP521Sha256
            };
            public.verify_with(alg, message, &sig3).unwrap();
        }

        // Wrong digest length, and a hash the key type does not sign with.
        let err = backend
            .sign_digest(&id, &digest[..digest.len() - 1], hash)
            .unwrap_err();
        assert!(
            matches!(err, Error::DigestLength { expected, actual, .. } if expected == digest.len() && actual == digest.len() - 1),
            "{err}"
        );
        let err = backend
            .sign_digest(&id, &[0u8; 33], HashAlgorithm::Sha256)
            .unwrap_err();
        assert!(matches!(err, Error::DigestLength { .. }), "{err}");
        if kt == KeyType::EcdsaP256 {
            let err = backend
                .sign_digest(&id, &[0u8; 64], HashAlgorithm::Sha512)
                .unwrap_err();
            assert!(matches!(err, Error::UnsupportedHash { .. }), "{err}");
        }

        // RSA: both paddings over SHA-256/384/512; ECDSA: PSS ignored, and the r||s form.
        if kt.is_rsa() {
            rsa_paddings(backend, &id, &public, scratch.path());
        } else {
            ecdsa_padding_ignored_and_raw(backend, &id, kt, &public);
        }

        // The Signer seam.
        let signer = BackendSigner::new(backend, id.clone()).unwrap();
        assert_eq!(signer.public_key(), public);
        assert_eq!(signer.algorithm(), algorithm);
        public
            .verify_with(algorithm, message, &signer.sign(message).unwrap())
            .unwrap();

        extra(&id, kt);
    }

    // Unknown ids: well-formed but absent, and malformed (path-like) ones.
    for bogus in [
        "00112233445566778899aabbccddeeff",
        "../../../../etc/passwd",
        "",
        "ZZ112233445566778899aabbccddeeff",
    ] {
        let id = KeyId::new(bogus);
        let err = backend.sign(&id, message).unwrap_err();
        assert!(matches!(err, Error::UnknownKey { .. }), "{err}");
        assert!(err.to_string().contains("no key with id"), "{err}");
        assert!(matches!(
            backend.public_key(&id).unwrap_err(),
            Error::UnknownKey { .. }
        ));
        assert!(matches!(
            backend
                .sign_digest(&id, &[0u8; 32], HashAlgorithm::Sha256)
                .unwrap_err(),
            Error::UnknownKey { .. }
        ));
    }

    // Concurrent signing from several threads with one key.
    let id = backend.generate("concurrent", KeyType::EcdsaP256).unwrap();
    let public = backend.public_key(&id).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let (id, public) = (&id, &public);
            s.spawn(move || {
                for i in 0..25u8 {
                    let msg = [t, i];
                    let sig = backend.sign(id, &msg).unwrap();
                    public.verify(&msg, &sig).unwrap();
                }
            });
        }
    });
}

/// `openssl pkeyutl -verify` of `sig` over the precomputed `digest`: PKCS#1 v1.5, or PSS with
/// the given salt length (`-1`: the digest's length; MGF1 defaults to the signature's hash).
/// True when openssl says it verifies.
fn openssl_verifies_digest(
    dir: &Path,
    pem: &str,
    hash: HashAlgorithm,
    pss_salt: Option<&str>,
    digest: &[u8],
    sig: &[u8],
) -> bool {
    let (pub_path, sig_path, dgst_path) = (
        dir.join("pub.pem"),
        dir.join("sig.bin"),
        dir.join("digest.bin"),
    );
    std::fs::write(&pub_path, pem).unwrap();
    std::fs::write(&sig_path, sig).unwrap();
    std::fs::write(&dgst_path, digest).unwrap();
    let md = match hash {
        HashAlgorithm::Sha256 => "digest:sha256",
        HashAlgorithm::Sha384 => "digest:sha384",
        HashAlgorithm::Sha512 => "digest:sha512",
    };
    let mut cmd = Command::new("openssl");
    cmd.args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(&pub_path)
        .arg("-in")
        .arg(&dgst_path)
        .arg("-sigfile")
        .arg(&sig_path)
        .args(["-pkeyopt", md]);
    if let Some(salt) = pss_salt {
        cmd.args(["-pkeyopt", "rsa_padding_mode:pss"])
            .args(["-pkeyopt", &format!("rsa_pss_saltlen:{salt}")]);
    }
    let out = cmd.output().expect("openssl CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success() && stdout.contains("Signature Verified Successfully");
    assert!(
        ok || !out.status.success(),
        "openssl exited 0 without verifying: {stdout}"
    );
    ok
}

/// RSA keys sign SHA-256/384/512 digests with PKCS#1 v1.5 and with PSS (MGF1 over the same
/// hash, salt length = digest length), checked with openssl and aws-lc-rs; neither padding's
/// signature passes as the other.
fn rsa_paddings(
    backend: &dyn KeyBackend,
    id: &KeyId,
    public: &signet_crypto::PublicKey,
    dir: &Path,
) {
    use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
    use signet_keys::SignaturePadding;
    let message = b"a Notary Project payload";
    let pem = public.to_pem();
    for hash in HashAlgorithm::ALL {
        let digest = hash.digest(message);
        let (pss_alg, pkcs1_alg): (&sig::RsaParameters, &sig::RsaParameters) = match hash {
            HashAlgorithm::Sha256 => (
                &sig::RSA_PSS_2048_8192_SHA256,
                &sig::RSA_PKCS1_2048_8192_SHA256,
            ),
            HashAlgorithm::Sha384 => (
                &sig::RSA_PSS_2048_8192_SHA384,
                &sig::RSA_PKCS1_2048_8192_SHA384,
            ),
            HashAlgorithm::Sha512 => (
                &sig::RSA_PSS_2048_8192_SHA512,
                &sig::RSA_PKCS1_2048_8192_SHA512,
            ),
        };
        let spki = public.to_spki_der();
        let pss = backend
            .sign_digest_with(id, &digest, hash, SignaturePadding::Pss)
            .unwrap();
        let pkcs1 = backend
            .sign_digest_with(id, &digest, hash, SignaturePadding::Pkcs1v15)
            .unwrap();
        assert_eq!(
            pkcs1,
            backend.sign_digest(id, &digest, hash).unwrap(),
            "{hash}: default padding"
        );

        // openssl: PSS with the salt as long as the digest (-1, and the number itself).
        let salt = hash.output_len().to_string();
        assert!(
            openssl_verifies_digest(dir, &pem, hash, Some("-1"), &digest, &pss),
            "{hash}"
        );
        assert!(
            openssl_verifies_digest(dir, &pem, hash, Some(&salt), &digest, &pss),
            "{hash}"
        );
        assert!(
            !openssl_verifies_digest(dir, &pem, hash, Some("20"), &digest, &pss),
            "{hash}: salt is not 20"
        );
        assert!(
            !openssl_verifies_digest(dir, &pem, hash, None, &digest, &pss),
            "{hash}: PSS as PKCS#1"
        );
        assert!(
            openssl_verifies_digest(dir, &pem, hash, None, &digest, &pkcs1),
            "{hash}"
        );
        assert!(
            !openssl_verifies_digest(dir, &pem, hash, Some("-1"), &digest, &pkcs1),
            "{hash}: PKCS#1 as PSS"
        );
        let other = hash.digest(b"another payload");
        assert!(
            !openssl_verifies_digest(dir, &pem, hash, Some("-1"), &other, &pss),
            "{hash}"
        );

        // aws-lc-rs, over the message.
        UnparsedPublicKey::new(pss_alg, spki)
            .verify(message, &pss)
            .unwrap();
        UnparsedPublicKey::new(pkcs1_alg, spki)
            .verify(message, &pkcs1)
            .unwrap();
        assert!(
            UnparsedPublicKey::new(pss_alg, spki)
                .verify(message, &pkcs1)
                .is_err()
        );
        assert!(
            UnparsedPublicKey::new(pkcs1_alg, spki)
                .verify(message, &pss)
                .is_err()
        );

        // PSS is randomized (a fresh salt each time); PKCS#1 v1.5 is deterministic.
        let pss2 = backend
            .sign_digest_with(id, &digest, hash, SignaturePadding::Pss)
            .unwrap();
        assert_ne!(pss, pss2, "{hash}");
        UnparsedPublicKey::new(pss_alg, spki)
            .verify(message, &pss2)
            .unwrap();
    }
    // signet-crypto's verifier agrees for SHA-256.
    let digest = HashAlgorithm::Sha256.digest(message);
    let pss = backend
        .sign_digest_with(id, &digest, HashAlgorithm::Sha256, SignaturePadding::Pss)
        .unwrap();
    public
        .verify_with(
            signet_crypto::SignatureAlgorithm::RsaPssSha256,
            message,
            &pss,
        )
        .unwrap();
    assert!(
        public
            .verify_with(
                signet_crypto::SignatureAlgorithm::RsaPkcs1Sha256,
                message,
                &pss
            )
            .is_err()
    );
}

/// ECDSA keys ignore the padding (a DER ECDSA signature either way); `ecdsa_der_to_raw`
/// gives the fixed-size r||s that aws-lc-rs's FIXED verifiers accept.
fn ecdsa_padding_ignored_and_raw(
    backend: &dyn KeyBackend,
    id: &KeyId,
    kt: KeyType,
    public: &signet_crypto::PublicKey,
) {
    use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
    use signet_keys::SignaturePadding;
    let message = b"a Notary Project payload";
    let hash = kt.default_hash();
    let digest = hash.digest(message);
    let der = backend
        .sign_digest_with(id, &digest, hash, SignaturePadding::Pss)
        .unwrap();
    assert_eq!(der[0], 0x30, "{kt}: still DER");
    public
        .verify_with(kt.crypto_key_type().default_algorithm(), message, &der)
        .unwrap();
    let raw = signet_keys::ecdsa_der_to_raw(&der, kt).unwrap();
    let (fixed, width): (&sig::EcdsaVerificationAlgorithm, usize) = match kt {
        KeyType::EcdsaP384 => (&sig::ECDSA_P384_SHA384_FIXED, 48),
        KeyType::EcdsaP521 => (&sig::ECDSA_P521_SHA512_FIXED, 66),
        _ => (&sig::ECDSA_P256_SHA256_FIXED, 32),
    };
    assert_eq!(raw.len(), 2 * width, "{kt}");
    let spki = public.to_spki_der();
    let point = &spki[spki.len() - (1 + 2 * width)..];
    UnparsedPublicKey::new(fixed, point)
        .verify(message, &raw)
        .unwrap();
    assert!(
        UnparsedPublicKey::new(fixed, point)
            .verify(b"other", &raw)
            .is_err()
    );
    assert!(
        signet_keys::ecdsa_der_to_raw(&raw, kt).is_err(),
        "{kt}: raw is not DER"
    );
}

/// `openssl dgst -sha* -verify pub.pem -signature sig.der msg`.
fn openssl_verify(dir: &Path, pem: &str, hash: HashAlgorithm, message: &[u8], sig: &[u8]) {
    let (pub_path, sig_path, msg_path) =
        (dir.join("pub.pem"), dir.join("sig.der"), dir.join("msg"));
    std::fs::write(&pub_path, pem).unwrap();
    std::fs::write(&sig_path, sig).unwrap();
    std::fs::write(&msg_path, message).unwrap();
    let flag = match hash {
        HashAlgorithm::Sha256 => "-sha256",
        HashAlgorithm::Sha384 => "-sha384",
        HashAlgorithm::Sha512 => "-sha512",
    };
    let out = Command::new("openssl")
        .arg("dgst")
        .arg(flag)
        .arg("-verify")
        .arg(&pub_path)
        .arg("-signature")
        .arg(&sig_path)
        .arg(&msg_path)
        .output()
        .expect("openssl CLI");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
        "openssl rejected the signature: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And a tampered message is rejected by openssl too.
    std::fs::write(&msg_path, b"tampered").unwrap();
    let out = Command::new("openssl")
        .arg("dgst")
        .arg(flag)
        .arg("-verify")
        .arg(&pub_path)
        .arg("-signature")
        .arg(&sig_path)
        .arg(&msg_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decrypts a software key file with the KEK, independently of the backend's code path
/// (only the documented format), returning the PKCS#8 DER.
fn decrypt_key_file(kek: &[u8], id: &KeyId, file: &Path) -> Vec<u8> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use base64::Engine as _;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let nonce: [u8; 12] = b64
        .decode(json["nonce"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mut ct = b64.decode(json["ciphertext"].as_str().unwrap()).unwrap();
    let mut aad = b"signet-keys software v1\0".to_vec();
    aad.extend_from_slice(id.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(json["key_type"].as_str().unwrap().as_bytes());
    aad.push(0);
    aad.extend_from_slice(json["label"].as_str().unwrap().as_bytes());
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, kek).unwrap());
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut ct)
        .unwrap();
    plain.to_vec()
}

#[test]
fn software_backend_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let backend = SoftwareBackend::open(&store).unwrap();
    let kek_path = store.join("kek");
    assert_eq!(mode(&kek_path), 0o600);
    assert_eq!(mode(&store.join("keys")), 0o700);
    let kek = std::fs::read(&kek_path).unwrap();
    assert_eq!(kek.len(), 32);

    let at_rest = |id: &KeyId, kt: KeyType| {
        let file = store.join("keys").join(format!("{}.json", id.as_str()));
        assert_eq!(mode(&file), 0o600);
        let pkcs8 = decrypt_key_file(&kek, id, &file);
        // The decrypted PKCS#8 is the key the backend signs with.
        let key = signet_crypto::PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        assert_eq!(key.public_key(), backend.public_key(id).unwrap(), "{kt}");
        // No file in the store holds it in clear (raw, base64, or its last 32 bytes).
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&pkcs8)
        };
        for entry in walk(&store) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !contains(&bytes, &pkcs8),
                "{kt}: PKCS#8 in clear in {entry:?}"
            );
            assert!(!contains(&bytes, &pkcs8[pkcs8.len() - 32..]), "{kt}");
            assert!(!contains(&bytes, b64.as_bytes()), "{kt}");
            assert!(!contains(&bytes, &b64.as_bytes()[..40]), "{kt}");
        }
        assert_eq!(backend.label(id).unwrap(), format!("suite {kt}"));
    };
    run_suite(&backend, &at_rest);

    // Keys survive reopening the store.
    let id = backend.generate("persist", KeyType::EcdsaP256).unwrap();
    let public = backend.public_key(&id).unwrap();
    drop(backend);
    let reopened = SoftwareBackend::open(&store).unwrap();
    let sig = reopened.sign(&id, b"m").unwrap();
    public.verify(b"m", &sig).unwrap();
    assert!(!format!("{reopened:?}").contains("kek: "));

    // A tampered key file does not decrypt; the error names the id only.
    let file = store.join("keys").join(format!("{}.json", id.as_str()));
    let original = std::fs::read(&file).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&original).unwrap();
    json["label"] = "relabelled".into();
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = reopened.sign(&id, b"m").unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }), "{err}");
    std::fs::write(&file, &original).unwrap();

    // Another store's KEK cannot open this store's keys.
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("keys")).unwrap();
    std::fs::copy(&file, other.join("keys").join(file.file_name().unwrap())).unwrap();
    let other = SoftwareBackend::open(&other).unwrap();
    let err = other.sign(&id, b"m").unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }), "{err}");

    // A KEK readable by others is refused; a short one too.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&kek_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SoftwareBackend::open(&store).unwrap_err();
        assert!(matches!(err, Error::KekPermissions { .. }), "{err}");
        std::fs::set_permissions(&kek_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let short = dir.path().join("short");
        std::fs::create_dir_all(&short).unwrap();
        std::fs::write(short.join("kek"), [1u8; 16]).unwrap();
        std::fs::set_permissions(short.join("kek"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        let err = SoftwareBackend::open(&short).unwrap_err();
        assert!(matches!(err, Error::InvalidKek { .. }), "{err}");
        // No error message carries KEK bytes (hex) either.
        let hex: String = kek.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!err.to_string().contains(&hex[..16]));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn pin_and_config_debug_are_redacted() {
    let pin = "93ac7-very-secret-pin";
    let config = Pkcs11Config {
        module: PathBuf::from(MODULE),
        token_label: "t".into(),
        pin: Pin::new(pin),
    };
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.pin),
        format!("{}", config.pin),
    ] {
        assert!(!shown.contains(pin), "{shown}");
        assert!(!shown.contains("93ac7"), "{shown}");
    }
    assert!(format!("{config:?}").contains("redacted"));
}

/// The PKCS#11 suite: a launcher in the parent, the suite itself in the child (see the
/// module documentation).
#[test]
fn softhsm_backend_suite() {
    if std::env::var_os(CHILD_MARKER).is_some() {
        softhsm_child();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pin = "pin-5e1f0c9a77";
    let conf = signet_testkit::softhsm::Token::init(dir.path(), TOKEN_LABEL, pin).conf;

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "softhsm_backend_suite",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD_MARKER, "1")
        .env("SIGNET_KEYS_TEST_PIN", pin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- child stdout ---\n{stdout}\n--- child stderr ---\n{stderr}");
    assert!(
        out.status.success(),
        "the SoftHSM2 suite failed in the child"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the suite"
    );
    assert!(
        !stdout.contains(pin) && !stderr.contains(pin),
        "the PIN leaked"
    );
}

fn softhsm_child() {
    let pin = std::env::var("SIGNET_KEYS_TEST_PIN").unwrap();

    // Refusals first, each backend dropped before the next opens.
    let err = Pkcs11Backend::open(Pkcs11Config {
        module: MODULE.into(),
        token_label: TOKEN_LABEL.into(),
        pin: Pin::new("wrong-pin-0000"),
    })
    .unwrap_err();
    assert!(matches!(err, Error::PinRefused { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-pin-0000"), "{err}");
    println!("wrong PIN: {err}");
    let err = Pkcs11Backend::open(Pkcs11Config {
        module: MODULE.into(),
        token_label: "no-such-token".into(),
        pin: Pin::new(pin.clone()),
    })
    .unwrap_err();
    assert!(matches!(err, Error::TokenNotFound { .. }), "{err}");
    assert!(!err.to_string().contains(&pin), "{err}");
    println!("wrong label: {err}");

    let backend = Pkcs11Backend::open(Pkcs11Config {
        module: MODULE.into(),
        token_label: TOKEN_LABEL.into(),
        pin: Pin::new(pin.clone()),
    })
    .unwrap();
    println!("opened {backend:?}");
    let checks = |id: &KeyId, kt: KeyType| {
        let p = backend.key_protection(id).unwrap();
        assert!(p.sensitive, "{kt}: CKA_SENSITIVE");
        assert!(!p.extractable, "{kt}: CKA_EXTRACTABLE");
        assert!(p.always_sensitive, "{kt}: CKA_ALWAYS_SENSITIVE");
        assert!(p.never_extractable, "{kt}: CKA_NEVER_EXTRACTABLE");
        assert!(!p.secret_readable, "{kt}: secret attribute readable");
    };
    run_suite(&backend, &checks);
    println!("SoftHSM2 suite passed");
}
