//! Arbitrary and near-valid input never panics the parsers (a stable stand-in for fuzzing).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use std::time::SystemTime;

use proptest::prelude::*;
use signet_simple::{Keyring, SecretKey, UntrustedSignature, sign, verify};

/// A gpg-made key, its keyring, one signet signature and the binary public key export.
fn fixture() -> &'static (Keyring, Vec<u8>, Vec<u8>) {
    static F: OnceLock<(Keyring, Vec<u8>, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("g");
        std::fs::create_dir(&home).unwrap();
        let gpg = |args: &[&str]| {
            let out = std::process::Command::new("gpg")
                .env("GNUPGHOME", &home)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        gpg(&[
            "--quick-gen-key",
            "Fuzz <f@example.org>",
            "ed25519",
            "sign",
            "never",
        ]);
        let armored = String::from_utf8(gpg(&["--export-secret-keys", "--armor"])).unwrap();
        let key = SecretKey::from_armored(&armored, None).unwrap();
        let payload = UntrustedSignature::new(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "example.org/app:v1",
            "atomic test",
            1,
        )
        .to_json()
        .unwrap();
        let sig = sign(&payload, &key, SystemTime::now()).unwrap();
        let public = gpg(&["--export"]);
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", &home)
            .args(["--kill", "all"])
            .output();
        (Keyring::from_bytes(&public).unwrap(), sig, public)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_strict_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = UntrustedSignature::parse_strict(&bytes);
    }

    #[test]
    fn parse_strict_near_valid(pos in 0usize..400, byte in any::<u8>()) {
        let mut json = UntrustedSignature::new(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "example.org/app:v1", "atomic test", 1_700_000_000,
        ).to_json().unwrap();
        let i = pos % json.len();
        json[i] = byte;
        let _ = UntrustedSignature::parse_strict(&json);
    }

    #[test]
    fn verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let (keyring, _, _) = fixture();
        let _ = verify(&bytes, keyring, SystemTime::now());
    }

    #[test]
    fn verify_near_valid(pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let (keyring, sig, _) = fixture();
        let mut bad = sig.clone();
        let i = pos % bad.len();
        bad[i] = byte;
        let _ = verify(&bad, keyring, SystemTime::now());
        let _ = verify(&sig[..cut % sig.len()], keyring, SystemTime::now());
    }

    #[test]
    fn keyring_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024), pos in any::<usize>(), byte in any::<u8>()) {
        let _ = Keyring::from_bytes(&bytes);
        let (_, _, public) = fixture();
        let mut bad = public.clone();
        let i = pos % bad.len();
        bad[i] = byte;
        let _ = Keyring::from_bytes(&bad);
    }

    #[test]
    fn secret_key_never_panics(text in "\\PC{0,300}") {
        let _ = SecretKey::from_armored(&text, None);
        let _ = SecretKey::from_armored(&format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{text}\n-----END PGP PRIVATE KEY BLOCK-----\n"), Some(b"x"));
    }
}
