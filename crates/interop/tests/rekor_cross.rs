//! Rekor bundles (`dev.sigstore.cosign/bundle`) made by signet's `rekor::make_bundle`, checked by
//! sigstore-rs, an independent implementation, offline (a test Rekor key, no log):
//!
//! * sigstore-rs's `cosign::bundle::Bundle` (cosign's Go type) parses the annotation and
//!   re-serialises it to the same bytes;
//! * its `SignedArtifactBundle::new_verified` (public; `Bundle::new_verified` is crate-private)
//!   verifies the SET with the test log key: our canonical JSON (hand-written) and sigstore-rs's
//!   (`serde_json_canonicalizer`) agree, and tampered bundles are refused;
//! * over a real loopback registry, sigstore-rs's `trusted_signature_layers` with the test key
//!   as Rekor key (`ManualTrustRoot { rekor_keys }`) accepts a signature layer carrying our
//!   bundle (and reports its integrated time), and drops the layer when the bundle is tampered.
//!
//! sigstore-rs checks only the SET of legacy bundles, not that the entry body names this
//! payload, signature and key; those checks are covered by signet's unit tests and known
//! answers in `crates/sigstore/src/rekor.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::{Fixture, fixture};
use signet_crypto::{KeyType, PrivateKey};
use signet_sigstore::gobase64;
use signet_sigstore::rekor::{self, RekorBundle};
use signet_testkit::Pusher;
use sigstore::cosign::bundle::{Bundle, Payload, SignedArtifactBundle};
use sigstore::cosign::bundle_content::BundleContent;
use sigstore::cosign::verification_constraint::{PublicKeyVerifier, VerificationConstraint};
use sigstore::cosign::{ClientBuilder, CosignCapabilities};
use sigstore::crypto::{CosignVerificationKey, SigningScheme};
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};
use sigstore::trust::ManualTrustRoot;

const SIG_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
const SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

const TIME: i64 = 1_700_000_123;
const INDEX: i64 = 42_424_242;

/// A test log, a signer, a signed payload and the bundle signet makes for them.
struct Signed {
    log: PrivateKey,
    signer: PrivateKey,
    payload: Vec<u8>,
    signature_b64: String,
    annotation: String,
}

fn signed(payload: Vec<u8>) -> Signed {
    let log = PrivateKey::generate(KeyType::P256).unwrap();
    let signer = PrivateKey::generate(KeyType::P256).unwrap();
    let signature_b64 = gobase64::encode(&signer.sign(&payload).unwrap());
    let annotation = rekor::make_bundle(
        &log,
        &payload,
        &signature_b64,
        &signer.public_key().to_pem(),
        TIME,
        INDEX,
    )
    .unwrap();
    Signed {
        log,
        signer,
        payload,
        signature_b64,
        annotation,
    }
}

/// sigstore-rs's Rekor key map: logID → key (what `ManualTrustRoot` becomes).
fn sigstore_rekor_keys(log: &PrivateKey) -> BTreeMap<String, CosignVerificationKey> {
    let public = log.public_key();
    let key = CosignVerificationKey::from_pem(
        public.to_pem().as_bytes(),
        &SigningScheme::ECDSA_P256_SHA256_ASN1,
    )
    .unwrap();
    BTreeMap::from([(rekor::log_id(&public), key)])
}

/// sigstore-rs's offline SET check (`cosign sign-blob --bundle` file shape around our bundle).
fn sigstore_verifies_set(
    annotation: &str,
    s: &Signed,
    keys: &BTreeMap<String, CosignVerificationKey>,
) -> Result<(), String> {
    let raw = format!(
        r#"{{"base64Signature":"{}","cert":"{}","rekorBundle":{annotation}}}"#,
        s.signature_b64,
        gobase64::encode(s.signer.public_key().to_pem().as_bytes()),
    );
    SignedArtifactBundle::new_verified(&raw, keys)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn sigstore_rs_reads_and_rewrites_the_same_bytes() {
    let s = signed(b"{\"any\":\"payload\"}".to_vec());
    let bundle: Bundle = serde_json::from_str(&s.annotation).unwrap();
    let ours = RekorBundle::parse(&s.annotation).unwrap();
    assert_eq!(
        bundle.signed_entry_timestamp,
        gobase64::encode(&ours.signed_entry_timestamp)
    );
    assert_eq!(bundle.payload.body, ours.body);
    assert_eq!(bundle.payload.integrated_time, TIME);
    assert_eq!(bundle.payload.log_index, INDEX);
    assert_eq!(bundle.payload.log_id, rekor::log_id(&s.log.public_key()));
    // sigstore-rs mirrors cosign's Go struct, so its serialisation is cosign's json.Marshal.
    assert_eq!(serde_json::to_string(&bundle).unwrap(), s.annotation);
}

#[test]
fn sigstore_rs_verifies_our_set() {
    let s = signed(b"payload bytes".to_vec());
    let keys = sigstore_rekor_keys(&s.log);
    sigstore_verifies_set(&s.annotation, &s, &keys).expect("sigstore-rs accepts our SET");
    // And signet accepts it too, with the full body checks.
    rekor::verify_bundle(
        &s.annotation,
        &[s.log.public_key()],
        &s.payload,
        &s.signature_b64,
        &s.signer.public_key().to_pem(),
    )
    .unwrap();

    // Tampered: a signed field changed under the old SET.
    let mut b = RekorBundle::parse(&s.annotation).unwrap();
    b.integrated_time += 1;
    let err = sigstore_verifies_set(&b.to_annotation(), &s, &keys).unwrap_err();
    assert!(!err.is_empty());
    // Tampered: the SET itself.
    let mut b = RekorBundle::parse(&s.annotation).unwrap();
    b.signed_entry_timestamp[10] ^= 0x40;
    assert!(sigstore_verifies_set(&b.to_annotation(), &s, &keys).is_err());
    // Another log's key under the same logID.
    let other = PrivateKey::generate(KeyType::P256).unwrap();
    let mut wrong = sigstore_rekor_keys(&other);
    let (_, key) = wrong.pop_first().unwrap();
    let wrong = BTreeMap::from([(rekor::log_id(&s.log.public_key()), key)]);
    assert!(sigstore_verifies_set(&s.annotation, &s, &wrong).is_err());
    // A trusted key, but not registered under the bundle's logID: sigstore-rs (like cosign)
    // looks keys up by logID only.
    let (_, key) = sigstore_rekor_keys(&s.log).pop_first().unwrap();
    let elsewhere = BTreeMap::from([("00".repeat(32), key)]);
    let err = sigstore_verifies_set(&s.annotation, &s, &elsewhere).unwrap_err();
    assert!(err.to_lowercase().contains("rekor"), "{err}");
}

#[test]
fn canonical_payloads_agree_with_serde_json_canonicalizer() {
    let body = gobase64::encode(br#"{"apiVersion":"0.0.1"}"#);
    let log_id = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
    let values = [
        (0, 0),
        (TIME, INDEX),
        (-1, 1),
        (1 << 53, (1 << 53) + 1),
        (i64::MAX, i64::MIN),
        (123_456_789_012_345_678, 9_007_199_254_740_993),
    ];
    for (integrated_time, log_index) in values {
        let ours = RekorBundle {
            signed_entry_timestamp: vec![],
            body: body.clone(),
            integrated_time,
            log_index,
            log_id: log_id.to_string(),
        };
        let theirs = Payload {
            body: body.clone(),
            integrated_time,
            log_index,
            log_id: log_id.to_string(),
        };
        assert_eq!(
            ours.canonical_payload(),
            serde_json_canonicalizer::to_string(&theirs).unwrap(),
            "integratedTime {integrated_time}, logIndex {log_index}"
        );
    }
    // Strings needing escapes (not in real bundles, but the canonical forms must agree).
    let odd = "a\"b\\c\u{1}\u{1f}\n\t\r\u{8}\u{c}/<>&é\u{7f}\u{2028}😀";
    let ours = RekorBundle {
        signed_entry_timestamp: vec![],
        body: odd.into(),
        integrated_time: 1,
        log_index: 2,
        log_id: odd.into(),
    };
    let theirs = Payload {
        body: odd.into(),
        integrated_time: 1,
        log_index: 2,
        log_id: odd.into(),
    };
    assert_eq!(
        ours.canonical_payload(),
        serde_json_canonicalizer::to_string(&theirs).unwrap()
    );
}

/// `REPO` of `127.0.0.1:PORT/REPO:TAG`.
fn repo_of(fx: &Fixture) -> String {
    let (_, rest) = fx.tag_ref.split_once('/').unwrap();
    rest.rsplit_once(':').unwrap().0.to_string()
}

/// Stores `payload` as the only layer of the image's `sha256-<hex>.sig` with the given
/// annotations (through signet-testkit's client).
fn push_signature(fx: &Fixture, payload: &[u8], annotations: serde_json::Value) {
    let repo = repo_of(fx);
    let pusher = Pusher::new(&fx.registry.addr());
    let payload_digest = pusher.push_blob(&repo, payload);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [payload_digest]},
        "config": {},
    }))
    .unwrap();
    let config_digest = pusher.push_blob(&repo, &config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest,
        },
        "layers": [{
            "mediaType": SIMPLESIGNING,
            "size": payload.len(),
            "digest": payload_digest,
            "annotations": annotations,
        }],
    });
    pusher.push_manifest(
        &repo,
        &format!("{}.sig", fx.image.digest.replace(':', "-")),
        OCI_MANIFEST,
        &serde_json::to_vec(&manifest).unwrap(),
    );
}

/// sigstore-rs's trusted signature layers of the fixture's image, with `log` as the only
/// Rekor key (logID → DER SPKI, as a TUF trusted root gives it).
async fn sigstore_layers(fx: &Fixture, log: &PrivateKey) -> Vec<sigstore::cosign::SignatureLayer> {
    let public = log.public_key();
    let mut trust_root = ManualTrustRoot::default();
    trust_root
        .rekor_keys
        .insert(rekor::log_id(&public), public.to_spki_der().to_vec());
    let registry = fx.registry.addr().to_string();
    let mut client = ClientBuilder::default()
        .with_oci_client_config(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![registry]),
            ..Default::default()
        })
        .with_trust_repository(&trust_root)
        .unwrap()
        .build()
        .unwrap();
    let reference: OciReference = fx.digest_ref.parse().unwrap();
    client
        .trusted_signature_layers(&Auth::Anonymous, &reference)
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn sigstore_rs_accepts_a_signature_layer_with_our_bundle() {
    let fx = fixture("rekor/bundle", "v1");
    let digest: signet_oci::Digest = fx.image.digest.parse().unwrap();
    let docker_reference = format!("{}/{}", fx.registry.addr(), repo_of(&fx));
    let payload = signet_sigstore::payload::generate_payload_for(
        &docker_reference,
        &digest,
        &BTreeMap::new(),
    );
    let s = signed(payload);

    push_signature(
        &fx,
        &s.payload,
        serde_json::json!({ SIG_ANNOTATION: s.signature_b64, BUNDLE_ANNOTATION: s.annotation }),
    );
    let layers = sigstore_layers(&fx, &s.log).await;
    assert_eq!(layers.len(), 1, "sigstore-rs keeps the layer: {layers:?}");
    let layer = &layers[0];
    match &layer.bundle {
        Some(BundleContent::RekorBundle(b)) => {
            assert_eq!(b.payload.integrated_time, TIME);
            assert_eq!(b.payload.log_index, INDEX);
        }
        other => panic!("sigstore-rs did not keep a verified Rekor bundle: {other:?}"),
    }
    assert_eq!(layer.bundle.as_ref().unwrap().integrated_time(), TIME);
    let verifier = PublicKeyVerifier::try_from(s.signer.public_key().to_pem().as_bytes()).unwrap();
    assert!(
        verifier.verify(layer).unwrap(),
        "payload signature verifies"
    );

    // A tampered bundle makes sigstore-rs drop the layer.
    let mut b = RekorBundle::parse(&s.annotation).unwrap();
    b.log_index += 1;
    push_signature(
        &fx,
        &s.payload,
        serde_json::json!({ SIG_ANNOTATION: s.signature_b64, BUNDLE_ANNOTATION: b.to_annotation() }),
    );
    assert!(sigstore_layers(&fx, &s.log).await.is_empty());

    // So does a bundle signed by another log.
    let rogue = PrivateKey::generate(KeyType::P256).unwrap();
    let mut b = RekorBundle::parse(&s.annotation).unwrap();
    b.signed_entry_timestamp = rogue.sign(b.canonical_payload().as_bytes()).unwrap();
    push_signature(
        &fx,
        &s.payload,
        serde_json::json!({ SIG_ANNOTATION: s.signature_b64, BUNDLE_ANNOTATION: b.to_annotation() }),
    );
    assert!(sigstore_layers(&fx, &s.log).await.is_empty());
}
