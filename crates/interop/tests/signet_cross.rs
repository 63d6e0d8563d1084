//! Cross tests between the `signet` binary and sigstore-rs over a real loopback registry:
//! each side verifies what the other signed, reads the other's key files, rejects the
//! wrong keys, and both agree on the exact Simple Signing payload bytes.
//!
//! These need `target/<profile>/signet`: `cargo build -p signet-cli` first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    PASSWORD, fixture, lf, payload_digest, read, signet, signet_keys, signet_ok, sigstore_keys,
};
use signet_interop::{sigstore_public_key, sigstore_sign, sigstore_verify};

/// signet signs with a key from `signet generate-key-pair`; sigstore-rs verifies with the
/// `.pub`, and with the public key it derives itself from signet's encrypted `.key`.
#[tokio::test]
async fn signet_signs_sigstore_verifies() {
    let fx = fixture("cross/signet-signs", "v1");
    let dir = fx.dir.path();
    let (key, public) = signet_keys(dir, "signet");

    signet_ok(
        dir,
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--tlog-upload=false",
            &fx.tag_ref,
        ],
    );

    let payloads = sigstore_verify(&fx.tag_ref, &read(&public))
        .await
        .expect("sigstore-rs verifies signet's signature with signet's .pub");
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    assert_eq!(payload_digest(&payloads[0]), fx.image.digest);

    // sigstore-rs decrypts signet's key file (scrypt + nacl/secretbox, PKCS#8 inside).
    let derived = sigstore_public_key(&read(&key), PASSWORD.as_bytes())
        .expect("sigstore-rs loads signet's encrypted .key");
    assert_eq!(
        lf(&derived),
        read(&public),
        "same public key, same PEM text (modulo CRLF)"
    );
    let again = sigstore_verify(&fx.digest_ref, &derived)
        .await
        .expect("sigstore-rs verifies with the key it loaded from signet's .key");
    assert_eq!(again, payloads);

    // And the wrong password is rejected by sigstore-rs too.
    assert!(sigstore_public_key(&read(&key), b"wrong").is_err());
}

/// The payload sigstore-rs reports for a signet signature is byte-identical to what
/// `signet generate IMAGE@DIGEST` prints.
#[tokio::test]
async fn signet_payload_matches_generate() {
    let fx = fixture("cross/payload", "v1");
    let dir = fx.dir.path();
    let (key, public) = signet_keys(dir, "signet");
    signet_ok(
        dir,
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--tlog-upload=false",
            &fx.tag_ref,
        ],
    );
    let payloads = sigstore_verify(&fx.tag_ref, &read(&public)).await.unwrap();
    assert_eq!(payloads.len(), 1);

    let generated = signet_ok(dir, &["generate", &fx.digest_ref]);
    assert_eq!(
        payloads[0], generated,
        "layer payload vs `signet generate` output"
    );
    // cosign's exact shape: compact JSON, bare repository as docker-reference, optional null.
    let repo = format!("{}/cross/payload", fx.registry.addr());
    assert_eq!(
        generated,
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{repo}\"}},\"image\":{{\"docker-manifest-digest\":\"{}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}",
            fx.image.digest
        )
    );
}

/// sigstore-rs signs with its own cosign-format key; `signet verify --key` accepts, and
/// `signet public-key` derives the same public key from sigstore-rs's key file.
#[tokio::test]
async fn sigstore_signs_signet_verifies() {
    let fx = fixture("cross/sigstore-signs", "v1");
    let dir = fx.dir.path();
    let keys = sigstore_keys(dir, "rs");

    sigstore_sign(&fx.tag_ref, &keys.private_key_pem, PASSWORD.as_bytes())
        .await
        .expect("sigstore-rs signs");

    for reference in [&fx.tag_ref, &fx.digest_ref] {
        let out = signet_ok(
            dir,
            &[
                "verify",
                "--key",
                keys.pub_path.to_str().unwrap(),
                "--insecure-ignore-tlog",
                reference,
            ],
        );
        assert!(out.contains(&fx.image.digest), "verify output: {out}");
    }

    let printed = signet_ok(
        dir,
        &["public-key", "--key", keys.key_path.to_str().unwrap()],
    );
    assert_eq!(
        printed,
        lf(&keys.public_key_pem),
        "signet public-key vs sigstore-rs's public key PEM (modulo CRLF)"
    );
}

/// signet signs with a key file written by sigstore-rs (scrypt N=32768, the pre-v2.2 cosign
/// parameter) and sigstore-rs verifies.
#[tokio::test]
async fn signet_signs_with_sigstore_key() {
    let fx = fixture("cross/rs-key", "v1");
    let dir = fx.dir.path();
    let keys = sigstore_keys(dir, "rs");
    signet_ok(
        dir,
        &[
            "sign",
            "--key",
            keys.key_path.to_str().unwrap(),
            "--tlog-upload=false",
            &fx.tag_ref,
        ],
    );
    let payloads = sigstore_verify(&fx.tag_ref, &keys.public_key_pem)
        .await
        .unwrap();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payload_digest(&payloads[0]), fx.image.digest);
}

/// Wrong keys fail both ways: signet rejects a sigstore-rs signature with another key
/// (exit 12), sigstore-rs rejects a signet signature with another key.
#[tokio::test]
async fn wrong_keys_fail_both_ways() {
    let fx = fixture("cross/wrong", "v1");
    let dir = fx.dir.path();
    let rs = sigstore_keys(dir, "rs");
    let rs_other = sigstore_keys(dir, "rs-other");
    let (_signet_key, signet_pub) = signet_keys(dir, "signet");

    // Unsigned: signet says "no signatures" (10), sigstore-rs errors.
    let out = signet(
        dir,
        &[
            "verify",
            "--key",
            rs.pub_path.to_str().unwrap(),
            "--insecure-ignore-tlog",
            &fx.tag_ref,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    sigstore_sign(&fx.tag_ref, &rs.private_key_pem, PASSWORD.as_bytes())
        .await
        .unwrap();
    for wrong in [rs_other.pub_path.as_path(), signet_pub.as_path()] {
        let out = signet(
            dir,
            &[
                "verify",
                "--key",
                wrong.to_str().unwrap(),
                "--insecure-ignore-tlog",
                &fx.tag_ref,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(12),
            "signet verify with {} must exit 12\nstderr: {}",
            wrong.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty() || String::from_utf8_lossy(&out.stdout).trim().is_empty());
    }

    // A second image signed by signet; sigstore-rs must reject both wrong keys.
    let fx2 = fixture("cross/wrong2", "v1");
    let (signet_key2, _signet_pub2) = signet_keys(fx2.dir.path(), "signet2");
    signet_ok(
        fx2.dir.path(),
        &[
            "sign",
            "--key",
            signet_key2.to_str().unwrap(),
            "--tlog-upload=false",
            &fx2.tag_ref,
        ],
    );
    for wrong in [&rs.public_key_pem, &read(&signet_pub)] {
        let err = sigstore_verify(&fx2.tag_ref, wrong)
            .await
            .expect_err("sigstore-rs must reject a wrong key");
        assert!(err.contains("no matching signatures"), "{err}");
    }
}

/// Mixed `.sig` manifests: sigstore-rs signs first (its manifest has a `{}` config), then
/// signet appends a second signature; both implementations verify both signatures.
#[tokio::test]
async fn signet_appends_to_sigstore_signature() {
    let fx = fixture("cross/append", "v1");
    let dir = fx.dir.path();
    let rs = sigstore_keys(dir, "rs");
    let (signet_key, signet_pub) = signet_keys(dir, "signet");

    sigstore_sign(&fx.tag_ref, &rs.private_key_pem, PASSWORD.as_bytes())
        .await
        .unwrap();
    signet_ok(
        dir,
        &[
            "sign",
            "--key",
            signet_key.to_str().unwrap(),
            "--tlog-upload=false",
            &fx.tag_ref,
        ],
    );

    let by_rs = sigstore_verify(&fx.tag_ref, &rs.public_key_pem)
        .await
        .unwrap();
    let by_signet = sigstore_verify(&fx.tag_ref, &read(&signet_pub))
        .await
        .unwrap();
    assert_eq!(
        by_rs.len(),
        1,
        "sigstore-rs's signature survived signet's append"
    );
    assert_eq!(by_signet.len(), 1);
    for public in [rs.pub_path.as_path(), signet_pub.as_path()] {
        signet_ok(
            dir,
            &[
                "verify",
                "--key",
                public.to_str().unwrap(),
                "--insecure-ignore-tlog",
                &fx.tag_ref,
            ],
        );
    }
}
