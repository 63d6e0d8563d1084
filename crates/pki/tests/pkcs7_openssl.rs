//! The certs-only PKCS#7 bundle as openssl reads it: every certificate, in the given order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::SystemTime;

use signet_crypto::{KeyType, PrivateKey};
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    self, CaIssuer, IntermediateRequest, LeafRequest, RootRequest, X509Signer,
};
use signet_pki::pkcs7::{pkcs7_certs_from_der, pkcs7_certs_pem};

fn dn(s: &str) -> DistinguishedName {
    DistinguishedName::parse(s).unwrap()
}

#[test]
fn openssl_prints_every_certificate_in_order() {
    let now = SystemTime::now();
    let root_key = PrivateKey::generate(KeyType::P256).unwrap();
    let root = issue::issue_root(&RootRequest::new(dn("/O=Acme/CN=Root")), &root_key, now).unwrap();
    let inter_key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let ca = CaIssuer::new(&root.der, &root_key).unwrap();
    let inter = issue::issue_intermediate(
        &IntermediateRequest::new(dn("/O=Acme/CN=Intermediate")),
        &inter_key.public_key(),
        &ca,
        now,
    )
    .unwrap();
    let signer = X509Signer::new(&inter_key);
    let ca = CaIssuer::new(&inter.der, &signer).unwrap();
    let leaf_key = PrivateKey::generate(KeyType::Rsa2048).unwrap();
    let leaf = issue::issue_leaf(
        &LeafRequest::new(
            dn("/O=Acme/CN=Leaf"),
            vec!["ci@acme.example".into()],
            vec![],
            "https://acme.example",
        ),
        &leaf_key.public_key(),
        &ca,
        now,
    )
    .unwrap();

    // Leaf first, then the root before the intermediate: the order is kept, not sorted.
    let certs = vec![leaf.der.clone(), root.der.clone(), inter.der.clone()];
    let pem = pkcs7_certs_pem(&certs);
    assert!(pem.starts_with("-----BEGIN PKCS7-----\n"));
    let der = pem::parse(&pem).unwrap().into_contents();
    assert_eq!(pkcs7_certs_from_der(&der).unwrap(), certs);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.p7b");
    std::fs::write(&path, &pem).unwrap();
    let out = Command::new("openssl")
        .args(["pkcs7", "-inform", "PEM", "-print_certs", "-in"])
        .arg(&path)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let subjects: Vec<&str> = text.lines().filter(|l| l.starts_with("subject=")).collect();
    assert_eq!(
        subjects,
        [
            "subject=O = Acme, CN = Leaf",
            "subject=O = Acme, CN = Root",
            "subject=O = Acme, CN = Intermediate"
        ],
        "{text}"
    );
    // The certificates printed are the ones given, byte for byte.
    assert_eq!(issue::pem_certificates(&text).unwrap(), certs);

    // openssl's own DER form parses the same.
    let out = Command::new("openssl")
        .args(["pkcs7", "-inform", "PEM", "-outform", "DER", "-in"])
        .arg(&path)
        .output()
        .expect("openssl runs");
    assert!(out.status.success());
    assert_eq!(pkcs7_certs_from_der(&out.stdout).unwrap(), certs);
}
