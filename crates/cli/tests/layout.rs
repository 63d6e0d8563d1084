//! Signing and verifying images in OCI image layout directories (`oci:PATH[:TAG]`), the
//! embedded default: the layout stays valid for skopeo and umoci, cosign-`save`-style layouts
//! are read, and tampering is caught.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, sh};
use serde_json::Value;

const IGNORE_TLOG: &str = "--insecure-ignore-tlog";

fn index(env: &Env) -> Value {
    serde_json::from_slice(&std::fs::read(env.path("img/index.json")).unwrap()).unwrap()
}

#[test]
fn sign_and_verify_a_layout() {
    let env = Env::new();
    let digest = signet_testkit::write_random_oci_layout(&env.path("img"), "v1");
    let (key, pubkey) = env.keypair("k");
    env.ok(&["sign", "--key", &key, "--tlog-upload=false", "oci:img:v1"]);
    let out = env.ok(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"]);
    assert!(out.contains(&digest), "{out}");
    env.verify(&pubkey, &format!("oci:img@{digest}"));

    // stored as cosign's save does (kind annotation) and addressable by the .sig tag
    let idx = index(&env);
    let sig_tag = digest.replace(':', "-") + ".sig";
    let entry = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == sig_tag.as_str())
        .expect("signature entry");
    assert_eq!(
        entry["annotations"]["kind"],
        "dev.cosignproject.cosign/sigs"
    );

    // peers still read the image
    let inspect = sh(env.dir.path(), "skopeo inspect oci:img:v1");
    assert!(String::from_utf8_lossy(&inspect).contains(&digest));
    sh(env.dir.path(), "umoci stat --image img:v1");

    // the wrong key fails, a second signer appends
    let (key2, pubkey2) = env.keypair("k2");
    env.fails(
        &["verify", "--key", &pubkey2, IGNORE_TLOG, "oci:img:v1"],
        12,
    );
    env.ok(&["sign", "--key", &key2, "--tlog-upload=false", "oci:img:v1"]);
    env.ok(&["verify", "--key", &pubkey2, IGNORE_TLOG, "oci:img:v1"]);
    env.ok(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"]);
}

#[test]
fn reads_a_layout_laid_out_like_cosign_save() {
    let env = Env::new();
    let digest = signet_testkit::write_random_oci_layout(&env.path("img"), "v1");
    let (key, pubkey) = env.keypair("k");
    env.ok(&["sign", "--key", &key, "--tlog-upload=false", "oci:img:v1"]);
    // Rewrite index.json as `cosign save` writes it: kind annotations, no ref name on the
    // signature image.
    let mut idx = index(&env);
    for m in idx["manifests"].as_array_mut().unwrap() {
        let ann = m["annotations"].as_object_mut().unwrap();
        if ann
            .get("kind")
            .is_some_and(|k| k == "dev.cosignproject.cosign/sigs")
        {
            ann.remove("org.opencontainers.image.ref.name");
        } else {
            ann.insert("kind".into(), "dev.cosignproject.cosign/image".into());
        }
    }
    std::fs::write(
        env.path("img/index.json"),
        serde_json::to_vec(&idx).unwrap(),
    )
    .unwrap();
    let out = env.ok(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"]);
    assert!(out.contains(&digest));
}

#[test]
fn tampered_payload_blob_is_rejected() {
    let env = Env::new();
    let digest = signet_testkit::write_random_oci_layout(&env.path("img"), "v1");
    let (key, pubkey) = env.keypair("k");
    env.ok(&["sign", "--key", &key, "--tlog-upload=false", "oci:img:v1"]);
    let payload = env.ok(&["generate", "oci:img:v1"]);
    let blob = signet_oci_digest(payload.as_bytes());
    let path = env.path(&format!("img/blobs/sha256/{blob}"));
    let forged = payload.replace(
        &digest,
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    );
    std::fs::write(&path, forged).unwrap();
    let e = env.fails(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"], 12);
    assert!(
        e.contains("payload could not be fetched") || e.contains("digest"),
        "{e}"
    );
}

#[test]
fn layout_errors() {
    let env = Env::new();
    let (_, pubkey) = env.keypair("k");
    let e = env.fails(
        &[
            "verify",
            "--key",
            &pubkey,
            IGNORE_TLOG,
            "oci:does-not-exist:v1",
        ],
        1,
    );
    assert!(e.contains("does-not-exist"), "{e}");
    signet_testkit::write_random_oci_layout(&env.path("img"), "v1");
    let e = env.fails(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v2"], 11);
    assert!(e.contains("image tag not found"), "{e}");
    env.fails(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"], 10);
}

fn signet_oci_digest(bytes: &[u8]) -> String {
    signet_testkit::sha256_digest(bytes)
        .trim_start_matches("sha256:")
        .to_string()
}

#[test]
fn oversized_signature_manifest_is_refused() {
    // Registries refuse manifests over 4 MiB on upload (distribution does), so the client's own
    // limit is exercised with a layout whose `.sig` manifest is 5 MiB.
    let env = Env::new();
    let digest = signet_testkit::write_random_oci_layout(&env.path("img"), "v1");
    let (_, pubkey) = env.keypair("k");
    let pad = "x".repeat(5 * 1024 * 1024);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[],"annotations":{{"pad":"{pad}"}}}}"#
    );
    let blob = signet_oci_digest(manifest.as_bytes());
    std::fs::write(env.path(&format!("img/blobs/sha256/{blob}")), &manifest).unwrap();
    let mut idx = index(&env);
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": manifest.len(),
            "digest": format!("sha256:{blob}"),
            "annotations": {"org.opencontainers.image.ref.name": digest.replace(':', "-") + ".sig"}
        }));
    std::fs::write(
        env.path("img/index.json"),
        serde_json::to_vec(&idx).unwrap(),
    )
    .unwrap();
    let e = env.fails(&["verify", "--key", &pubkey, IGNORE_TLOG, "oci:img:v1"], 1);
    assert!(
        e.contains("too large") || e.contains("exceeds") || e.contains("limit"),
        "{e}"
    );
}
