//! The OpenSSL-made hierarchies of `signet_testkit::openssl_pki`, judged by openssl itself.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use signet_testkit::openssl_pki::{
    BadChain, Hierarchy, KeyAlg, LeafVariant, OID_ISSUER_V1, OID_ISSUER_V2, openssl,
};
use signet_testkit::tempdir;

/// openssl's verdict on `cert` with `h`'s root trusted and its intermediate untrusted.
fn verify(h: &Hierarchy, cert: &Path) -> Result<String, String> {
    h.openssl_verify(&h.root, &h.intermediate, cert, &[])
}

fn assert_verifies(h: &Hierarchy, cert: &Path) {
    let r = verify(h, cert);
    assert!(
        r.as_ref().is_ok_and(|s| s.contains(": OK")),
        "{}: {r:?}",
        cert.display()
    );
}

fn assert_rejected(r: Result<String, String>, needle: &str) {
    match r {
        Ok(s) => panic!("openssl accepted what it should reject: {s}"),
        Err(s) => assert!(s.contains(needle), "expected {needle:?} in {s}"),
    }
}

/// The DER encoding of `cert`'s subject and issuer names: `-subject_hash_old` is the MD5 of
/// the name's DER bytes as they are (not canonicalised, unlike `-subject_hash`).
fn name_hashes(dir: &Path, cert: &Path) -> String {
    let out = openssl(
        dir,
        &[
            "x509",
            "-noout",
            "-subject_hash_old",
            "-issuer_hash_old",
            "-subject",
            "-issuer",
            "-in",
            cert.to_str().unwrap(),
        ],
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pubkey(dir: &Path, cert: &Path) -> String {
    let out = openssl(
        dir,
        &["x509", "-noout", "-pubkey", "-in", cert.to_str().unwrap()],
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check_seed_hierarchy(alg: KeyAlg) {
    let tmp = tempdir().unwrap();
    let h = Hierarchy::seed002(tmp.path(), alg);
    for p in [
        &h.root,
        &h.root_key,
        &h.intermediate,
        &h.intermediate_key,
        &h.leaf,
        &h.leaf_key,
        &h.bundle,
    ] {
        assert!(p.is_file(), "{} missing", p.display());
    }
    assert_eq!(h.email, "team-a@linuxera.org");
    assert_eq!(h.issuer, "https://linuxera.org");

    // The intermediate verifies against the root alone, the leaf through the intermediate,
    // and the bundle is intermediate + root.
    let out = openssl(
        &h.dir,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "leaf.pem",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "leaf.pem: OK");
    assert_verifies(&h, &h.intermediate);
    let bundle = Hierarchy::read(&h.bundle);
    assert_eq!(
        bundle,
        Hierarchy::read(&h.intermediate) + &Hierarchy::read(&h.root)
    );
    assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(Hierarchy::read(&h.leaf_key).starts_with("-----BEGIN PRIVATE KEY-----"));

    let root = h.x509_text(&h.root);
    assert!(root.contains("Subject: C = ES, L = Valencia, O = IT, OU = Security, CN = Linuxera Root Certificate Authority"), "{root}");
    assert!(root.contains("CA:TRUE"), "{root}");

    let int = h.x509_text(&h.intermediate);
    assert!(
        int.contains("CN = Linuxera Intermediate Certificate Authority"),
        "{int}"
    );
    assert!(int.contains("CA:TRUE, pathlen:2"), "{int}");
    assert!(int.contains("Certificate Sign"), "{int}");

    let leaf = h.x509_text(&h.leaf);
    for needle in [
        "Subject: C = ES, L = Valencia, O = IT, OU = Security, CN = Team A Cosign Certificate",
        "Issuer: C = ES, L = Valencia, O = IT, OU = Security, CN = Linuxera Intermediate Certificate Authority",
        "X509v3 Basic Constraints: critical",
        "CA:FALSE",
        "X509v3 Key Usage: critical",
        "Digital Signature",
        "email:team-a@linuxera.org",
        &format!("{OID_ISSUER_V1}: \n                https://linuxera.org"),
        // OpenSSL prints the unknown extension's DER bytes: UTF8String tag 0x0c, length 20.
        &format!("{OID_ISSUER_V2}: \n                ..https://linuxera.org"),
    ] {
        assert!(leaf.contains(needle), "{needle:?} not in\n{leaf}");
    }
    assert!(!leaf.contains("Extended Key Usage"), "{leaf}");
    match alg {
        KeyAlg::Rsa4096 => assert!(leaf.contains("Public-Key: (4096 bit)"), "{leaf}"),
        KeyAlg::EcP256 => assert!(leaf.contains("NIST CURVE: P-256"), "{leaf}"),
    }

    // The exact DER of the two issuer extensions.
    let der = openssl(&h.dir, &["x509", "-in", "leaf.pem", "-outform", "DER"]).stdout;
    let raw = b"https://linuxera.org";
    // OID 1.3.6.1.4.1.57264.1.1, then OCTET STRING { raw bytes }.
    let oid11 = [
        &[
            0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01,
        ][..],
        &[0x04, 20],
        raw,
    ]
    .concat();
    // OID 1.3.6.1.4.1.57264.1.8, then OCTET STRING { UTF8String raw }.
    let oid18 = [
        &[
            0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08,
        ][..],
        &[0x04, 22, 0x0c, 20],
        raw,
    ]
    .concat();
    assert!(der.windows(oid11.len()).any(|w| w == oid11), "OID .1.1 DER");
    assert!(der.windows(oid18.len()).any(|w| w == oid18), "OID .1.8 DER");
}

#[test]
fn seed002_rsa4096_is_the_seeds_hierarchy() {
    check_seed_hierarchy(KeyAlg::Rsa4096);
}

#[test]
fn seed002_ec_p256_is_the_seeds_hierarchy() {
    check_seed_hierarchy(KeyAlg::EcP256);
}

#[test]
fn leaf_variants_have_their_extensions_and_openssl_judges_dates() {
    let tmp = tempdir().unwrap();
    let h = Hierarchy::seed002(tmp.path(), KeyAlg::EcP256);
    for v in LeafVariant::ALL {
        let (cert, key) = h.leaf_variant(v);
        assert!(key.is_file(), "{v:?}: key");
        let text = h.x509_text(&cert);
        let has = |s: &str| text.contains(s);
        let ctx = format!("{v:?}:\n{text}");
        assert!(
            has(
                "Subject: C = ES, L = Valencia, O = IT, OU = Security, CN = Team A Cosign Certificate"
            ),
            "{ctx}"
        );
        assert!(
            has(
                "Issuer: C = ES, L = Valencia, O = IT, OU = Security, CN = Linuxera Intermediate Certificate Authority"
            ),
            "{ctx}"
        );
        match v {
            LeafVariant::Expired => {
                assert!(has("Not Before: Jan  1 00:00:00 2020 GMT"), "{ctx}");
                assert!(has("Not After : Jan  1 00:00:00 2021 GMT"), "{ctx}");
                assert_rejected(verify(&h, &cert), "certificate has expired");
                // Time is its only defect.
                assert!(
                    h.openssl_verify(&h.root, &h.intermediate, &cert, &["-no_check_time"])
                        .is_ok()
                );
            }
            LeafVariant::NotYetValid => {
                assert!(has("Not Before: Jan  1 00:00:00 2090 GMT"), "{ctx}");
                assert_rejected(verify(&h, &cert), "certificate is not yet valid");
                assert!(
                    h.openssl_verify(&h.root, &h.intermediate, &cert, &["-no_check_time"])
                        .is_ok()
                );
            }
            _ => assert_verifies(&h, &cert),
        }
        // Extensions copied through `openssl ca` too.
        assert!(has("X509v3 Subject Alternative Name"), "{ctx}");
        let eku = match v {
            LeafVariant::NoEku => None,
            LeafVariant::ServerAuthOnly => Some("TLS Web Server Authentication"),
            _ => Some("Code Signing"),
        };
        match eku {
            Some(e) => {
                assert!(has("X509v3 Extended Key Usage"), "{ctx}");
                assert!(has(e), "{ctx}");
            }
            None => assert!(!has("X509v3 Extended Key Usage"), "{ctx}"),
        }
        if v == LeafVariant::ServerAuthOnly {
            assert!(!has("Code Signing"), "{ctx}");
        }
        let (o11, o18) = match v {
            LeafVariant::OnlyIssuerOid11 => (Some("https://linuxera.org"), None),
            LeafVariant::OnlyIssuerOid18 => (None, Some("https://linuxera.org")),
            LeafVariant::IssuerOidsDisagree => {
                (Some("https://a.example"), Some("https://b.example"))
            }
            _ => (Some("https://linuxera.org"), Some("https://linuxera.org")),
        };
        match o11 {
            Some(i) => assert!(
                has(&format!("{OID_ISSUER_V1}: \n                {i}")),
                "{ctx}"
            ),
            None => assert!(!has(OID_ISSUER_V1), "{ctx}"),
        }
        match o18 {
            Some(i) => assert!(
                has(&format!("{OID_ISSUER_V2}: \n                ..{i}")),
                "{ctx}"
            ),
            None => assert!(!has(OID_ISSUER_V2), "{ctx}"),
        }
        if v == LeafVariant::UriSan {
            assert!(has("URI:https://ci.example/workflow"), "{ctx}");
            assert!(!has("email:"), "{ctx}");
        } else {
            assert!(has("email:team-a@linuxera.org"), "{ctx}");
        }
        if v == LeafVariant::NoDigitalSignatureKu {
            assert!(has("Key Encipherment"), "{ctx}");
            assert!(!has("Digital Signature"), "{ctx}");
        } else {
            assert!(has("Digital Signature"), "{ctx}");
        }
        if v == LeafVariant::IsCa {
            assert!(has("CA:TRUE"), "{ctx}");
        } else {
            assert!(has("CA:FALSE"), "{ctx}");
        }
    }
}

#[test]
fn impostor_has_identical_names_but_is_rejected_by_the_genuine_root() {
    let tmp = tempdir().unwrap();
    let h = Hierarchy::seed002(&tmp.path().join("genuine"), KeyAlg::EcP256);
    let imp = Hierarchy::impostor(&tmp.path().join("impostor"), &h);

    for (a, b) in [
        (&h.root, &imp.root),
        (&h.intermediate, &imp.intermediate),
        (&h.leaf, &imp.leaf),
    ] {
        assert_eq!(name_hashes(&h.dir, a), name_hashes(&h.dir, b));
        assert_ne!(pubkey(&h.dir, a), pubkey(&h.dir, b));
    }
    assert_eq!(imp.email, h.email);
    assert_eq!(imp.issuer, h.issuer);

    // Each is fine in its own hierarchy…
    assert_verifies(&h, &h.leaf);
    assert_verifies(&imp, &imp.leaf);
    // …but the impostor leaf, with either intermediate, fails against the genuine root.
    assert_rejected(
        h.openssl_verify(&h.root, &imp.intermediate, &imp.leaf, &[]),
        "verification failed",
    );
    assert_rejected(
        h.openssl_verify(&h.root, &h.intermediate, &imp.leaf, &[]),
        "verification failed",
    );
    // And the genuine leaf fails against the impostor root.
    assert_rejected(
        h.openssl_verify(&imp.root, &h.intermediate, &h.leaf, &[]),
        "verification failed",
    );
}

#[test]
fn bad_chains_are_rejected_by_openssl() {
    let tmp = tempdir().unwrap();
    let h = Hierarchy::seed002(tmp.path(), KeyAlg::EcP256);

    let no_ca = h.bad_chain(BadChain::IntermediateWithoutCaBit);
    assert_eq!(no_ca.intermediates.len(), 1);
    let text = h.x509_text(&no_ca.intermediates[0]);
    assert!(text.contains("CA:FALSE"), "{text}");
    assert_rejected(
        h.openssl_verify(&h.root, &no_ca.untrusted, &no_ca.leaf, &[]),
        "invalid CA certificate",
    );

    let pathlen = h.bad_chain(BadChain::PathLenExceeded);
    assert_eq!(pathlen.intermediates.len(), 2);
    let text = h.x509_text(&pathlen.intermediates[1]);
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    // The second intermediate as an end entity is fine (pathlen:0 allows no CA *between*)…
    assert!(
        h.openssl_verify(&h.root, &pathlen.untrusted, &pathlen.intermediates[0], &[])
            .is_ok()
    );
    // …the leaf below it is not.
    assert_rejected(
        h.openssl_verify(&h.root, &pathlen.untrusted, &pathlen.leaf, &[]),
        "path length constraint exceeded",
    );
    let bundle = Hierarchy::read(&pathlen.bundle);
    assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 3);
}
