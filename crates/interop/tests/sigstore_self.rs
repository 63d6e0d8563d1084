//! Self-tests of the sigstore-rs wrapper against a real loopback registry: sigstore-rs signs,
//! sigstore-rs verifies; wrong keys, wrong passwords and unsigned images fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, fixture, payload_digest, sigstore_keys};
use signet_interop::{sigstore_public_key, sigstore_sign, sigstore_verify};

#[tokio::test]
async fn sigstore_signs_and_verifies() {
    let fx = fixture("self/signed", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");

    sigstore_sign(&fx.tag_ref, &keys.private_key_pem, PASSWORD.as_bytes())
        .await
        .expect("sigstore-rs signs");

    for reference in [&fx.tag_ref, &fx.digest_ref] {
        let payloads = sigstore_verify(reference, &keys.public_key_pem)
            .await
            .expect("sigstore-rs verifies its own signature");
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        assert_eq!(payload_digest(&payloads[0]), fx.image.digest);
        let v: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(v["critical"]["type"], "cosign container image signature");
        assert!(v["optional"].is_null());
    }
}

#[tokio::test]
async fn wrong_public_key_fails() {
    let fx = fixture("self/wrongkey", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");
    let other = sigstore_keys(fx.dir.path(), "other");

    sigstore_sign(&fx.tag_ref, &keys.private_key_pem, PASSWORD.as_bytes())
        .await
        .expect("sigstore-rs signs");
    let err = sigstore_verify(&fx.tag_ref, &other.public_key_pem)
        .await
        .expect_err("another key must not verify");
    assert!(err.contains("no matching signatures"), "{err}");
}

#[tokio::test]
async fn unsigned_image_fails() {
    let fx = fixture("self/unsigned", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");
    let err = sigstore_verify(&fx.tag_ref, &keys.public_key_pem)
        .await
        .expect_err("an unsigned image must not verify");
    assert!(err.contains("no signatures found"), "{err}");
}

#[tokio::test]
async fn wrong_password_fails_to_sign() {
    let fx = fixture("self/badpw", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");
    let err = sigstore_sign(&fx.tag_ref, &keys.private_key_pem, b"not the password")
        .await
        .expect_err("wrong password");
    assert!(err.contains("private key"), "{err}");
}

#[test]
fn exported_key_round_trips() {
    let kp = signet_interop::sigstore_generate_key_pair(PASSWORD.as_bytes()).unwrap();
    assert!(
        kp.private_key_pem
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"),
        "{}",
        kp.private_key_pem
    );
    assert!(kp.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let public = sigstore_public_key(&kp.private_key_pem, PASSWORD.as_bytes()).unwrap();
    assert_eq!(public, kp.public_key_pem);
}

#[tokio::test]
async fn sigstore_verify_binary() {
    let fx = fixture("self/bin", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");
    let other = sigstore_keys(fx.dir.path(), "other");
    sigstore_sign(&fx.tag_ref, &keys.private_key_pem, PASSWORD.as_bytes())
        .await
        .unwrap();

    let bin = env!("CARGO_BIN_EXE_sigstore-verify");
    let ok = std::process::Command::new(bin)
        .args(["--key", keys.pub_path.to_str().unwrap(), &fx.tag_ref])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8(ok.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(payload_digest(stdout.trim_end()), fx.image.digest);

    let bad = std::process::Command::new(bin)
        .args(["--key", other.pub_path.to_str().unwrap(), &fx.tag_ref])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
}

/// What sigstore-rs 0.15 actually writes to the registry: a `sha256-<hex>.sig` OCI manifest
/// with one `application/vnd.dev.cosign.simplesigning.v1+json` layer whose blob is the payload
/// and whose `dev.cosignproject.cosign/signature` annotation is the base64 DER signature.
///
/// It also pins the ways sigstore-rs differs from cosign's bytes (all of which a cosign
/// verifier must tolerate): a 2-byte `{}` config instead of cosign's 233-byte config, JSON
/// keys in alphabetical order, `docker-reference` with the tag kept, CRLF PEM files and
/// scrypt N = 32768 in the key file.
#[tokio::test]
async fn sigstore_signature_layout() {
    let fx = fixture("self/layout", "v1");
    let keys = sigstore_keys(fx.dir.path(), "k");
    sigstore_sign(&fx.tag_ref, &keys.private_key_pem, PASSWORD.as_bytes())
        .await
        .unwrap();

    let pusher = fx.registry.pusher();
    let sig_tag = format!("{}.sig", fx.image.digest.replace(':', "-"));
    let (manifest, media_type) = pusher.fetch_manifest("self/layout", &sig_tag);
    assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert!(
        manifest.starts_with(b"{\"config\":"),
        "oci-client writes sorted keys: {}",
        String::from_utf8_lossy(&manifest)
    );
    let config = pusher.fetch_blob("self/layout", m["config"]["digest"].as_str().unwrap());
    assert_eq!(config, b"{}", "sigstore-rs writes an empty config");

    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let annotations = layers[0]["annotations"].as_object().unwrap();
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    let sig = annotations["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap();
    assert!(
        sig.starts_with("ME"),
        "base64 of an ASN.1 DER ECDSA signature: {sig}"
    );

    let blob = pusher.fetch_blob("self/layout", layers[0]["digest"].as_str().unwrap());
    assert_eq!(layers[0]["size"], blob.len());
    let payload = String::from_utf8(blob).unwrap();
    assert_eq!(
        payload,
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{}\"}},\"image\":{{\"docker-manifest-digest\":\"{}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}",
            fx.tag_ref, fx.image.digest
        ),
        "sigstore-rs keeps the tag in docker-reference (cosign writes the bare repository)"
    );
    let payloads = sigstore_verify(&fx.tag_ref, &keys.public_key_pem)
        .await
        .unwrap();
    assert_eq!(payloads, vec![payload]);

    // Key files: CRLF line endings, scrypt N = 2^15.
    assert!(
        keys.public_key_pem.contains("-----\r\n"),
        "{:?}",
        keys.public_key_pem
    );
    assert!(keys.private_key_pem.contains("-----\r\n"));
    assert!(
        keys.private_key_pem
            .contains("eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwi"),
        "base64 of {{\"kdf\":{{\"name\":\"scrypt\",\"params\":{{\"N\":32768,"
    );
}
