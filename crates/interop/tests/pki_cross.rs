//! "Bring your own PKI" (issue 3) across implementations: OpenSSL-made hierarchies (the
//! "Alternative OpenSSL commands" of seed 002, `signet_testkit::openssl_pki`), signatures
//! carrying `dev.sigstore.cosign/certificate` + `dev.sigstore.cosign/chain`, and verification
//! against a root with an expected identity and OIDC issuer.
//!
//! * sigstore-rs alone: it signs (the layer is stored by signet-testkit's client, because
//!   sigstore-rs cannot write the certificate annotations) and verifies with the certificate
//!   validated against the chain.
//! * signet signs (`import-key-pair` of the openssl leaf key, `sign --cert --cert-chain`);
//!   sigstore-rs and `signet verify --certificate-identity … --cert-chain root.pem` verify.
//!
//! The signet tests need `target/<profile>/signet` with `--cert` support:
//! `cargo build -p signet-cli` first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{Fixture, fixture, payload_digest, read, signet, signet_ok};
use signet_interop::{sigstore_signature_for, sigstore_verify_with_certificate};
use signet_testkit::Pusher;
use signet_testkit::openssl_pki::{BadChain, Hierarchy, KeyAlg, LeafVariant};

const CERT_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
const SIG_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// What cosign prints as `optional` for the seed's Team A certificate (seed 002 sample output).
const SEED_OPTIONAL: &str = r#""optional":{"1.3.6.1.4.1.57264.1.1":"https://linuxera.org","Issuer":"https://linuxera.org","Subject":"team-a@linuxera.org"}"#;

/// `REPO` of `127.0.0.1:PORT/REPO:TAG`.
fn repo_of(fx: &Fixture) -> String {
    let (_, rest) = fx.tag_ref.split_once('/').unwrap();
    rest.rsplit_once(':').unwrap().0.to_string()
}

/// `sha256-<hex>.sig`.
fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// The layers of the image's `.sig` manifest, fetched with signet-testkit's own client.
fn sig_layers(fx: &Fixture) -> Vec<serde_json::Value> {
    let pusher = Pusher::new(&fx.registry.addr());
    let (body, _) = pusher.fetch_manifest(&repo_of(fx), &sig_tag(&fx.image.digest));
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
    manifest["layers"].as_array().unwrap().clone()
}

/// The one layer's certificate and chain annotations.
fn cert_and_chain(fx: &Fixture) -> (String, String) {
    let layers = sig_layers(fx);
    assert_eq!(layers.len(), 1, "{layers:?}");
    let ann = &layers[0]["annotations"];
    let cert = ann[CERT_ANNOTATION]
        .as_str()
        .unwrap_or_else(|| panic!("no {CERT_ANNOTATION} in {ann}"))
        .to_string();
    let chain = ann[CHAIN_ANNOTATION]
        .as_str()
        .unwrap_or_else(|| panic!("no {CHAIN_ANNOTATION} in {ann}"))
        .to_string();
    (cert, chain)
}

/// Signs the fixture's image with sigstore-rs (unencrypted PKCS#8 leaf key) and stores the
/// signature as the only layer of `sha256-<hex>.sig`, with the certificate and chain
/// annotations `cosign sign --cert --cert-chain` writes, through signet-testkit's client.
async fn sigstore_sign_with_cert(fx: &Fixture, leaf_key: &Path, cert: &Path, chain: &Path) {
    let sig = sigstore_signature_for(&fx.tag_ref, &read(leaf_key), None)
        .await
        .expect("sigstore-rs signs with the openssl leaf key");
    assert_eq!(sig.image_digest, fx.image.digest);
    let repo = repo_of(fx);
    let pusher = Pusher::new(&fx.registry.addr());
    let payload_digest = pusher.push_blob(&repo, &sig.payload);
    let config = serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [payload_digest]},
        "config": {},
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = pusher.push_blob(&repo, &config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest,
        },
        "layers": [{
            "mediaType": SIMPLESIGNING,
            "size": sig.payload.len(),
            "digest": payload_digest,
            "annotations": {
                SIG_ANNOTATION: sig.signature,
                CERT_ANNOTATION: read(cert),
                CHAIN_ANNOTATION: read(chain),
            },
        }],
    });
    pusher.push_manifest(
        &repo,
        &sig_tag(&sig.image_digest),
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
}

/// sigstore-rs signs with an OpenSSL-made P-256 leaf (codeSigning EKU) and its chain, and
/// verifies with the certificate from the annotation validated against the genuine chain; the
/// impostor's chain (same names, other keys) is rejected.
#[tokio::test]
async fn sigstore_rs_signs_with_certificate_and_verifies_against_the_chain() {
    let fx = fixture("pki/sigstore-signs", "v1");
    let h = Hierarchy::seed002(&fx.dir.path().join("pki"), KeyAlg::EcP256);
    let imp = Hierarchy::impostor(&fx.dir.path().join("impostor"), &h);
    let (cert, key) = h.leaf_variant(LeafVariant::CodeSigningEku);
    sigstore_sign_with_cert(&fx, &key, &cert, &h.bundle).await;

    let (cert_ann, chain_ann) = cert_and_chain(&fx);
    assert_eq!(cert_ann, read(&cert));
    assert_eq!(chain_ann, read(&h.bundle));

    let payloads = sigstore_verify_with_certificate(&fx.tag_ref, &read(&h.bundle), &cert_ann)
        .await
        .expect("sigstore-rs verifies against the genuine chain");
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    assert_eq!(payload_digest(&payloads[0]), fx.image.digest);

    let err = sigstore_verify_with_certificate(&fx.tag_ref, &read(&imp.bundle), &cert_ann)
        .await
        .expect_err("sigstore-rs must reject the impostor chain");
    assert!(err.contains("certificate rejected"), "{err}");

    // The impostor's leaf (same subject, SAN, issuer OIDs, EKU) does not verify the signature
    // even when its own chain validates it: the key differs.
    let (imp_cert, _) = imp.leaf_variant(LeafVariant::CodeSigningEku);
    let err = sigstore_verify_with_certificate(&fx.tag_ref, &read(&imp.bundle), &read(&imp_cert))
        .await
        .expect_err("the impostor leaf's key did not sign");
    assert!(err.contains("no matching signatures"), "{err}");
}

/// What sigstore-rs 0.15 does and does not accept, pinned so that differences from cosign are
/// visible (the signature is by the `CodeSigningEku` leaf; another certificate that passes the
/// certificate checks then fails on the key, "no matching signatures").
///
/// * Every chain certificate is a trust anchor and no untrusted intermediates are passed, so
///   `root.pem` alone does not validate a leaf issued by an intermediate (cosign: it does, with
///   the chain annotation's intermediates); the intermediate alone does.
/// * A leaf without an extended key usage (the seed's own leaf, which cosign accepts because Go
///   treats a missing EKU as "any") is rejected, as are serverAuth-only, expired, not yet valid
///   and CA leaves.
/// * Not checked: issuer OIDs, SAN kind, keyUsage digitalSignature (Go's x509 does not check
///   keyUsage either), and — since the chain's intermediates are anchors — their CA bit and
///   path length.
#[tokio::test]
async fn sigstore_rs_certificate_rules() {
    let fx = fixture("pki/sigstore-rules", "v1");
    let h = Hierarchy::seed002(&fx.dir.path().join("pki"), KeyAlg::EcP256);
    let (cert, key) = h.leaf_variant(LeafVariant::CodeSigningEku);
    sigstore_sign_with_cert(&fx, &key, &cert, &h.bundle).await;

    let bundle = read(&h.bundle);
    let cert = read(&cert);
    assert!(
        sigstore_verify_with_certificate(&fx.tag_ref, &read(&h.intermediate), &cert)
            .await
            .is_ok(),
        "the issuing intermediate alone is an anchor for sigstore-rs"
    );
    let err = sigstore_verify_with_certificate(&fx.tag_ref, &read(&h.root), &cert)
        .await
        .expect_err("sigstore-rs has no untrusted intermediates: root alone fails");
    assert!(err.contains("UnknownIssuer"), "{err}");

    let rejected = [
        (LeafVariant::NoEku, "code signing extended key usage"),
        (
            LeafVariant::ServerAuthOnly,
            "code signing extended key usage",
        ),
        (LeafVariant::Expired, "CertExpired"),
        (LeafVariant::NotYetValid, "cannot be used before 2090-01-01"),
        (LeafVariant::IsCa, "CaUsedAsEndEntity"),
    ];
    for (variant, reason) in rejected {
        let (other, _) = h.leaf_variant(variant);
        let err = sigstore_verify_with_certificate(&fx.tag_ref, &bundle, &read(&other))
            .await
            .expect_err("sigstore-rs rejects the certificate");
        assert!(
            err.contains("certificate rejected") && err.contains(reason),
            "{variant:?}: {err}"
        );
    }
    let err = sigstore_verify_with_certificate(&fx.tag_ref, &bundle, &read(&h.leaf))
        .await
        .expect_err("sigstore-rs rejects the seed's EKU-less leaf");
    assert!(err.contains("code signing extended key usage"), "{err}");

    for variant in [
        LeafVariant::OnlyIssuerOid11,
        LeafVariant::OnlyIssuerOid18,
        LeafVariant::IssuerOidsDisagree,
        LeafVariant::UriSan,
        LeafVariant::NoDigitalSignatureKu,
    ] {
        let (other, _) = h.leaf_variant(variant);
        let err = sigstore_verify_with_certificate(&fx.tag_ref, &bundle, &read(&other))
            .await
            .expect_err("another key did not sign");
        assert!(
            err.contains("no matching signatures"),
            "{variant:?} passes sigstore-rs's certificate checks: {err}"
        );
    }

    // Because every chain certificate is an anchor, the CA bit and path length of the
    // intermediates are never evaluated: a chain through a non-CA "intermediate" or past a
    // pathlen:0 intermediate passes the certificate checks (cosign/Go rejects both).
    for kind in [
        BadChain::IntermediateWithoutCaBit,
        BadChain::PathLenExceeded,
    ] {
        let chain = h.bad_chain(kind);
        let err =
            sigstore_verify_with_certificate(&fx.tag_ref, &read(&chain.bundle), &read(&chain.leaf))
                .await
                .expect_err("another key did not sign");
        assert!(
            err.contains("no matching signatures"),
            "{kind:?} passes sigstore-rs's certificate checks: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// signet signs with the OpenSSL leaf; sigstore-rs and signet verify.
// ---------------------------------------------------------------------------------------------

/// `signet import-key-pair --key <leaf-key> --output-key-prefix <dir>/<name>` (password
/// `common::PASSWORD` via `COSIGN_PASSWORD`); returns the `.key` path.
fn signet_import(dir: &Path, leaf_key: &Path, name: &str) -> String {
    let prefix = dir.join(name);
    signet_ok(
        dir,
        &[
            "import-key-pair",
            "--key",
            leaf_key.to_str().unwrap(),
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ],
    );
    let key = dir.join(format!("{name}.key"));
    assert!(key.is_file(), "signet did not write {}", key.display());
    key.to_str().unwrap().to_string()
}

/// `signet sign --key K --tlog-upload=false --cert C --cert-chain CHAIN IMAGE`.
fn signet_sign_with_cert(fx: &Fixture, key: &str, cert: &Path, chain: &Path) {
    signet_ok(
        fx.dir.path(),
        &[
            "sign",
            "--key",
            key,
            "--tlog-upload=false",
            "--cert",
            cert.to_str().unwrap(),
            "--cert-chain",
            chain.to_str().unwrap(),
            &fx.tag_ref,
        ],
    );
}

/// `signet verify --certificate-identity ID --certificate-oidc-issuer ISS --insecure-ignore-sct
/// --insecure-ignore-tlog --cert-chain ROOT IMAGE` (the seed's cosign v2 command).
fn signet_verify_identity(
    fx: &Fixture,
    identity: &str,
    issuer: &str,
    root: &Path,
) -> std::process::Output {
    signet(
        fx.dir.path(),
        &[
            "verify",
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--insecure-ignore-sct",
            "--insecure-ignore-tlog",
            "--cert-chain",
            root.to_str().unwrap(),
            &fx.tag_ref,
        ],
    )
}

fn describe(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Accepts `out` as cosign's success for the seed leaf: exit 0 and one verified payload whose
/// `optional` is exactly what cosign prints for it.
fn assert_seed_verified(fx: &Fixture, out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(SEED_OPTIONAL), "{}", describe(out));
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("stdout is JSON");
    let arr = v.as_array().expect("a JSON array");
    assert_eq!(arr.len(), 1, "{stdout}");
    assert_eq!(
        arr[0]["critical"]["image"]["docker-manifest-digest"],
        fx.image.digest.as_str()
    );
    let optional = &arr[0]["optional"];
    assert_eq!(optional["Subject"], "team-a@linuxera.org");
    assert_eq!(optional["Issuer"], "https://linuxera.org");
    assert_eq!(optional["1.3.6.1.4.1.57264.1.1"], "https://linuxera.org");
}

fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
}

/// signet signs with an OpenSSL leaf (codeSigning EKU, so that sigstore-rs accepts it) and its
/// bundle; the annotations are cosign's; sigstore-rs verifies with the genuine chain and
/// rejects the impostor's.
#[tokio::test]
async fn signet_signs_with_certificate_sigstore_verifies() {
    let fx = fixture("pki/signet-signs-sigstore", "v1");
    let dir = fx.dir.path();
    let h = Hierarchy::seed002(&dir.join("pki"), KeyAlg::EcP256);
    let imp = Hierarchy::impostor(&dir.join("impostor"), &h);
    let (cert, leaf_key) = h.leaf_variant(LeafVariant::CodeSigningEku);
    let key = signet_import(dir, &leaf_key, "L");
    signet_sign_with_cert(&fx, &key, &cert, &h.bundle);

    // cosign re-encodes with Go's pem.EncodeToMemory, which gives back openssl's bytes.
    let (cert_ann, chain_ann) = cert_and_chain(&fx);
    assert_eq!(cert_ann, read(&cert));
    assert_eq!(chain_ann, read(&h.bundle));

    let payloads = sigstore_verify_with_certificate(&fx.tag_ref, &read(&h.bundle), &cert_ann)
        .await
        .expect("sigstore-rs verifies signet's certificate signature against the genuine chain");
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    assert_eq!(payload_digest(&payloads[0]), fx.image.digest);

    let err = sigstore_verify_with_certificate(&fx.tag_ref, &read(&imp.bundle), &cert_ann)
        .await
        .expect_err("sigstore-rs rejects the impostor chain");
    assert!(err.contains("certificate rejected"), "{err}");
}

/// The seed's flow end to end with signet on both sides, for the seed's RSA-4096 hierarchy
/// and for P-256: exit 0 and cosign's `optional`; the impostor root (same names) → exit 12.
fn signet_seed_flow(alg: KeyAlg, repo: &str) {
    let fx = fixture(repo, "team-a");
    let dir = fx.dir.path();
    let h = Hierarchy::seed002(&dir.join("pki"), alg);
    let imp = Hierarchy::impostor(&dir.join("impostor"), &h);
    let key = signet_import(dir, &h.leaf_key, "import-team-a");
    signet_sign_with_cert(&fx, &key, &h.leaf, &h.bundle);

    let (cert_ann, chain_ann) = cert_and_chain(&fx);
    assert_eq!(cert_ann, read(&h.leaf));
    assert_eq!(chain_ann, read(&h.bundle));

    let out = signet_verify_identity(&fx, &h.email, &h.issuer, &h.root);
    assert_seed_verified(&fx, &out);

    let out = signet_verify_identity(&fx, &h.email, &h.issuer, &imp.root);
    assert_exit(&out, 12);
}

#[test]
fn signet_seed_flow_rsa4096() {
    signet_seed_flow(KeyAlg::Rsa4096, "pki/seed-rsa");
}

#[test]
fn signet_seed_flow_ec_p256() {
    signet_seed_flow(KeyAlg::EcP256, "pki/seed-ec");
}

/// Identity and issuer are compared as cosign's legacy path does (§5.2c): the issuer is the raw
/// `.1.1` extension only (`.1.8` is ignored), the identity any SAN, exact match.
#[test]
fn signet_verify_identity_and_issuer_rules() {
    let fx = fixture("pki/identity", "v1");
    let dir = fx.dir.path();
    let h = Hierarchy::seed002(&dir.join("pki"), KeyAlg::EcP256);
    let key = signet_import(dir, &h.leaf_key, "L");
    signet_sign_with_cert(&fx, &key, &h.leaf, &h.bundle);

    assert_exit(
        &signet_verify_identity(&fx, "team-b@linuxera.org", &h.issuer, &h.root),
        12,
    );
    assert_exit(
        &signet_verify_identity(&fx, &h.email, "https://other.example", &h.root),
        12,
    );
    // The genuine bundle (intermediate + root) works as --cert-chain too.
    assert_seed_verified(
        &fx,
        &signet_verify_identity(&fx, &h.email, &h.issuer, &h.bundle),
    );

    // .1.1 = a.example, .1.8 = b.example. cosign's legacy path reads .1.1 only and would accept
    // a.example; signet deliberately rejects certificates whose two issuer extensions disagree.
    let fx2 = fixture("pki/identity-disagree", "v1");
    let (cert, leaf_key) = h.leaf_variant(LeafVariant::IssuerOidsDisagree);
    let key = signet_import(fx2.dir.path(), &leaf_key, "L");
    signet_sign_with_cert(&fx2, &key, &cert, &h.bundle);
    for issuer in ["https://a.example", "https://b.example"] {
        let out = signet_verify_identity(&fx2, &h.email, issuer, &h.root);
        assert_exit(&out, 12);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("disagree"),
            "{}",
            describe(&out)
        );
    }
}

/// A certificate with only the `.1.8` issuer extension. cosign's legacy `.sig` path reads the
/// issuer from `.1.1` alone (`CertExtensions.GetIssuer`), sees "" and rejects it — a known
/// pain point (spec §10.3). signet deliberately reads both extensions (issue 3: ".1.8 or .1.1 —
/// read both"), so the certificate verifies with the exact issuer.
#[test]
fn signet_verify_reads_the_issuer_from_oid_1_8_too() {
    let fx = fixture("pki/identity-only18", "v1");
    let dir = fx.dir.path();
    let h = Hierarchy::seed002(&dir.join("pki"), KeyAlg::EcP256);
    let (cert, leaf_key) = h.leaf_variant(LeafVariant::OnlyIssuerOid18);
    let key = signet_import(dir, &leaf_key, "L");
    signet_sign_with_cert(&fx, &key, &cert, &h.bundle);
    let out = signet_verify_identity(&fx, &h.email, &h.issuer, &h.root);
    assert_exit(&out, 0);
}
