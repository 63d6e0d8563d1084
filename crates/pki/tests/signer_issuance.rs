//! Issuance through the `Signer` trait with keys that are not `PrivateKey`s (as HSM keys are
//! not), checked by signet's own chain validation and by openssl; and a CSR made through the
//! trait, signed by openssl acting as an external CA, whose returned chain
//! `check_chain_for_key` accepts or refuses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use rstest::rstest;
use signet_crypto::{KeyType, PrivateKey, PublicKey, SignatureAlgorithm, Signer};
use signet_pki::cert::Certificate;
use signet_pki::chain::{ChainUploadError, check_chain_for_key, verify_code_signing};
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    self, CaIssuer, CsrRequest, IntermediateRequest, LeafRequest, RootRequest,
};
use signet_pki::profile::CertProfile;

const PROFILE: &str = r#"{"name":"oci-signing","certificateType":"ENDENTITY","validityDays":365,"keyUsage":["digitalSignature"],"extendedKeyUsage":["codeSigning"],"subject":{"C":"FI","O":"Acme"},"email":"ci@acme.example","oidcIssuer":"https://acme.example"}"#;

/// A key reachable only through `Signer`, like an HSM key: it delegates to a software key it
/// keeps to itself.
struct HsmKey {
    inner: PrivateKey,
}

impl HsmKey {
    fn generate(kt: KeyType) -> Self {
        HsmKey {
            inner: PrivateKey::generate(kt).unwrap(),
        }
    }
}

impl Signer for HsmKey {
    fn public_key(&self) -> PublicKey {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_crypto::Error> {
        self.inner.sign(message)
    }
}

fn dn(s: &str) -> DistinguishedName {
    DistinguishedName::parse(s).unwrap()
}

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[rstest]
#[case(KeyType::P256, "1.2.840.10045.4.3.2")]
#[case(KeyType::P384, "1.2.840.10045.4.3.3")]
#[case(KeyType::Rsa2048, "1.2.840.113549.1.1.11")]
fn root_intermediate_leaf_with_signers(#[case] kt: KeyType, #[case] sig_oid: &str) {
    let now = SystemTime::now();
    let root_key = HsmKey::generate(kt);
    let root =
        issue::issue_root(&RootRequest::new(dn("/O=Acme/CN=HSM Root")), &root_key, now).unwrap();
    let inter_key = HsmKey::generate(kt);
    let root_ca = CaIssuer::new(&root.der, &root_key).unwrap();
    let inter = issue::issue_intermediate(
        &IntermediateRequest::new(dn("/O=Acme/CN=HSM Intermediate")),
        &inter_key.public_key(),
        &root_ca,
        now,
    )
    .unwrap();
    let inter_ca = CaIssuer::new(&inter.der, &inter_key).unwrap();
    let leaf_key = HsmKey::generate(kt);
    let profile = CertProfile::parse(PROFILE.as_bytes()).unwrap();
    let req = LeafRequest::from_profile(&profile, "release pipeline").unwrap();
    let leaf = issue::issue_leaf(&req, &leaf_key.public_key(), &inter_ca, now).unwrap();

    let (root_c, inter_c, leaf_c) = (cert(&root.der), cert(&inter.der), cert(&leaf.der));
    assert_eq!(leaf_c.subject(), "CN=release pipeline,O=Acme,C=FI");
    assert_eq!(
        leaf_c.oidc_issuer().unwrap().as_deref(),
        Some("https://acme.example")
    );
    assert_eq!(
        leaf_c.subject_alt_names().unwrap().emails,
        ["ci@acme.example"]
    );
    for c in [&root_c, &inter_c, &leaf_c] {
        let der = c.der();
        let parsed = x509_parser::parse_x509_certificate(der).unwrap().1;
        assert_eq!(parsed.signature_algorithm.algorithm.to_id_string(), sig_oid);
    }
    // signet's own validation, as a verifier would run it.
    let verified = verify_code_signing(
        &leaf_c,
        std::slice::from_ref(&inter_c),
        std::slice::from_ref(&root_c),
        now,
    )
    .unwrap();
    assert_eq!(verified.path.len(), 3);
    // The uploaded-chain check accepts it for the leaf key only.
    let chain = [leaf_c.clone(), inter_c.clone(), root_c.clone()];
    check_chain_for_key(&chain, &leaf_key.public_key(), now).unwrap();
    assert!(check_chain_for_key(&chain, &inter_key.public_key(), now).is_err());

    // openssl agrees.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), &root.pem).unwrap();
    std::fs::write(dir.path().join("inter.pem"), &inter.pem).unwrap();
    std::fs::write(dir.path().join("leaf.pem"), &leaf.pem).unwrap();
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "inter.pem",
            "leaf.pem",
        ],
    );
    assert!(out.contains("leaf.pem: OK"), "{out}");
}

/// The external CA: an openssl root and intermediate in `dir`.
fn external_ca(dir: &Path, root_cn: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let root_subj = format!("/O=External/CN={root_cn}");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "60",
        "-subj",
        &root_subj,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &args);
    let mut args = vec!["req", "-new"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "int.key",
        "-out",
        "int.csr",
        "-subj",
        "/O=External/CN=External Issuing CA",
    ]);
    openssl(dir, &args);
    std::fs::write(
        dir.join("int.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "30",
            "-extfile",
            "int.ext",
            "-out",
            "int.pem",
        ],
    );
}

fn read_cert(dir: &Path, name: &str) -> Certificate {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    Certificate::parse_pem_bundle(&text).unwrap().remove(0)
}

#[rstest]
#[case(KeyType::P256)]
#[case(KeyType::P384)]
#[case(KeyType::Rsa2048)]
fn csr_signed_by_an_external_ca(#[case] kt: KeyType) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    external_ca(dir, "External Root");

    // The service's key makes its CSR through the Signer path, from the profile.
    let key = HsmKey::generate(kt);
    let profile = CertProfile::parse(PROFILE.as_bytes()).unwrap();
    let req = CsrRequest::from_profile(&profile, "hsm signer").unwrap();
    let csr = issue::create_csr(&key, &req).unwrap();
    let info = issue::parse_csr(&csr).unwrap();
    assert_eq!(info.public_key, key.public_key());
    std::fs::write(dir.join("leaf.csr"), &csr).unwrap();
    openssl(dir, &["req", "-in", "leaf.csr", "-noout", "-verify"]);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-set_serial",
            "3",
            "-days",
            "45",
            "-copy_extensions",
            "copy",
            "-out",
            "leaf.pem",
        ],
    );
    let (leaf, int, root) = (
        read_cert(dir, "leaf.pem"),
        read_cert(dir, "int.pem"),
        read_cert(dir, "ca.pem"),
    );
    // A time when all three are valid, whatever the clock openssl read.
    let now = [&leaf, &int, &root]
        .iter()
        .map(|c| c.not_before())
        .max()
        .unwrap()
        + Duration::from_secs(1);
    let chain = vec![leaf.clone(), int.clone(), root.clone()];

    // The returned chain is accepted for this key, with or without the root...
    check_chain_for_key(&chain, &key.public_key(), now).unwrap();
    check_chain_for_key(&chain[..2], &key.public_key(), now).unwrap();
    // ... and it is a valid code-signing chain for verifiers (the CSR's extensions copied).
    verify_code_signing(
        &leaf,
        std::slice::from_ref(&int),
        std::slice::from_ref(&root),
        now,
    )
    .unwrap();
    assert_eq!(leaf.subject(), "CN=hsm signer,O=Acme,C=FI");
    assert_eq!(
        leaf.oidc_issuer().unwrap().as_deref(),
        Some("https://acme.example")
    );

    // A chain for another key.
    let other = HsmKey::generate(kt);
    let err = check_chain_for_key(&chain, &other.public_key(), now).unwrap_err();
    assert!(matches!(err, ChainUploadError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("certifies another key"), "{err}");

    // A chain that does not link: the issuing CA left out...
    let err =
        check_chain_for_key(&[leaf.clone(), root.clone()], &key.public_key(), now).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate 1 (CN=hsm signer,O=Acme,C=FI) is not issued by certificate 2 \
         (CN=External Root,O=External): it names CN=External Issuing CA,O=External as its issuer"
    );
    // ... or a look-alike CA with the same names but other keys.
    let other_dir = tempfile::tempdir().unwrap();
    external_ca(other_dir.path(), "External Root");
    let fake_int = read_cert(other_dir.path(), "int.pem");
    let at = now.max(fake_int.not_before() + Duration::from_secs(1));
    let err = check_chain_for_key(
        &[leaf.clone(), fake_int, root.clone()],
        &key.public_key(),
        at,
    )
    .unwrap_err();
    assert!(
        matches!(err, ChainUploadError::NotIssuedBy { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("does not verify"), "{err}");
    // ... or in the wrong order.
    let err = check_chain_for_key(
        &[leaf.clone(), root.clone(), int.clone()],
        &key.public_key(),
        now,
    )
    .unwrap_err();
    assert!(matches!(err, ChainUploadError::NotIssuedBy { .. }), "{err}");

    // Expired: checked past the issuing CA's notAfter (30 days; the leaf has 45, as openssl
    // does not bound it by its issuer), then past the leaf's.
    let late = int.not_after() + Duration::from_secs(60);
    let err = check_chain_for_key(&chain, &key.public_key(), late).unwrap_err();
    assert!(
        matches!(err, ChainUploadError::Expired { index: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("certificate 2 (CN=External Issuing CA,O=External) expired on "),
        "{err}"
    );
    let later = leaf.not_after() + Duration::from_secs(60);
    let err = check_chain_for_key(&chain, &key.public_key(), later).unwrap_err();
    assert!(
        matches!(err, ChainUploadError::Expired { index: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("certificate 1 (CN=hsm signer,O=Acme,C=FI) expired on "),
        "{err}"
    );
    // Not yet valid.
    let early = leaf.not_before() - Duration::from_secs(3600);
    let err = check_chain_for_key(&chain, &key.public_key(), early).unwrap_err();
    assert!(matches!(err, ChainUploadError::NotYetValid { .. }), "{err}");
}

/// Seconds since the epoch, as `openssl verify -attime` takes them.
fn unix(t: SystemTime) -> String {
    t.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

/// `openssl verify` of `leaf.pem` against `root.pem` (trusted) and `inter.pem` at `at`:
/// whether it passed, and what it printed.
fn verify_at(dir: &Path, at: SystemTime) -> (bool, String) {
    let out = Command::new("openssl")
        .args([
            "verify",
            "-attime",
            &unix(at),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "inter.pem",
            "leaf.pem",
        ])
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// signet backdates what it issues by `NOT_BEFORE_BACKDATE`, roots included, and clamps to
/// the issuer's `notBefore` (an openssl CA's starts at the moment openssl made it); openssl
/// reads the same validity and accepts the chain exactly from the leaf's `notBefore` (where
/// cosign checks it) and not a second earlier.
#[test]
fn issued_certificates_are_backdated_and_openssl_agrees() {
    let backdate = issue::NOT_BEFORE_BACKDATE;
    let profile = CertProfile::parse(PROFILE.as_bytes()).unwrap();
    let req = LeafRequest::from_profile(&profile, "backdated").unwrap();
    let leaf_key = HsmKey::generate(KeyType::P256);

    // All signet: every notBefore is the issuance time minus the backdate.
    let now = SystemTime::now();
    let root_key = HsmKey::generate(KeyType::P256);
    let root = issue::issue_root(
        &RootRequest::new(dn("/O=Acme/CN=Backdated Root")),
        &root_key,
        now,
    )
    .unwrap();
    let inter_key = HsmKey::generate(KeyType::P256);
    let root_ca = CaIssuer::new(&root.der, &root_key).unwrap();
    let inter = issue::issue_intermediate(
        &IntermediateRequest::new(dn("/O=Acme/CN=Backdated Intermediate")),
        &inter_key.public_key(),
        &root_ca,
        now,
    )
    .unwrap();
    let inter_ca = CaIssuer::new(&inter.der, &inter_key).unwrap();
    let leaf = issue::issue_leaf(&req, &leaf_key.public_key(), &inter_ca, now).unwrap();
    let whole = |t: SystemTime| {
        std::time::UNIX_EPOCH
            + Duration::from_secs(t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
    };
    let start = whole(now) - backdate;
    for c in [&root, &inter, &leaf] {
        assert_eq!(cert(&c.der).not_before(), start);
    }
    assert_eq!(
        cert(&leaf.der).not_after(),
        whole(now) + Duration::from_secs(365 * 86_400)
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("root.pem"), &root.pem).unwrap();
    std::fs::write(d.join("inter.pem"), &inter.pem).unwrap();
    std::fs::write(d.join("leaf.pem"), &leaf.pem).unwrap();
    let (ok, out) = verify_at(d, start);
    assert!(ok, "{out}");
    let (ok, out) = verify_at(d, start - Duration::from_secs(1));
    assert!(!ok && out.contains("not yet valid"), "{out}");

    // Under an openssl CA (not backdated): a leaf issued a minute after it is clamped to its
    // notBefore; one issued ten minutes after it is backdated by the full amount.
    external_ca(d, "External Root");
    let int = read_cert(d, "int.pem");
    let int_key =
        PrivateKey::from_unencrypted_pem(&std::fs::read_to_string(d.join("int.key")).unwrap())
            .unwrap();
    let ext_ca = CaIssuer::new(int.der(), &int_key).unwrap();
    let soon = int.not_before() + Duration::from_secs(60);
    let clamped = issue::issue_leaf(&req, &leaf_key.public_key(), &ext_ca, soon).unwrap();
    assert_eq!(cert(&clamped.der).not_before(), int.not_before());
    let later = int.not_before() + Duration::from_secs(600);
    let backdated = issue::issue_leaf(&req, &leaf_key.public_key(), &ext_ca, later).unwrap();
    assert_eq!(cert(&backdated.der).not_before(), later - backdate);
    // A second before the openssl CA's notBefore it is not valid yet: refused.
    let err = issue::issue_leaf(
        &req,
        &leaf_key.public_key(),
        &ext_ca,
        int.not_before() - Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(err.to_string().contains("valid only from"), "{err}");

    std::fs::copy(d.join("ca.pem"), d.join("root.pem")).unwrap();
    std::fs::copy(d.join("int.pem"), d.join("inter.pem")).unwrap();
    std::fs::write(d.join("leaf.pem"), &clamped.pem).unwrap();
    let (ok, out) = verify_at(d, int.not_before());
    assert!(ok, "{out}");
    let (ok, out) = verify_at(d, int.not_before() - Duration::from_secs(1));
    assert!(!ok && out.contains("not yet valid"), "{out}");
}
