//! Own-PKI signing and verification through the binary, with hierarchies made by the openssl
//! CLI exactly as seed 002 makes them (RSA-4096 and P-256), and the leaves, chains and roots a
//! verifier must refuse — each with the reason naming the certificate and the failed check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Env;
use serde_json::Value;
use signet_testkit::TestRegistry;
use signet_testkit::openssl_pki::{BadChain, Hierarchy, KeyAlg, LeafVariant};

const ISSUER: &str = "https://linuxera.org";
const EMAIL: &str = "team-a@linuxera.org";

struct Setup {
    _reg: TestRegistry,
    env: Env,
    image: String,
    pki: Hierarchy,
}

fn setup(alg: KeyAlg) -> Setup {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let pki = Hierarchy::seed002(&env.path("pki"), alg);
    Setup {
        image: img.reference(),
        _reg: reg,
        env,
        pki,
    }
}

fn p(path: &std::path::Path) -> String {
    path.display().to_string()
}

impl Setup {
    fn import(&self, key: &std::path::Path, prefix: &str) -> String {
        self.env.ok(&[
            "import-key-pair",
            "--key",
            &p(key),
            "--output-key-prefix",
            prefix,
        ]);
        self.env.p(&format!("{prefix}.key"))
    }

    /// Attaches a signature by `key` (PEM, openssl's) with `cert` and `chain` annotations,
    /// without any validation (as `cosign attach signature`), for material sign refuses.
    fn attach(
        &self,
        key: &std::path::Path,
        cert: &std::path::Path,
        chain: Option<&std::path::Path>,
    ) {
        let payload = self.env.ok(&["generate", &self.image]);
        self.env.write("payload.json", &payload);
        common::sh(
            self.env.dir.path(),
            &format!(
                "openssl dgst -sha256 -sign {} -out sig.der payload.json && base64 -w0 sig.der > sig.b64",
                p(key)
            ),
        );
        let mut args = vec![
            "attach".to_string(),
            "signature".into(),
            "--payload".into(),
            "payload.json".into(),
            "--signature".into(),
            "sig.b64".into(),
            "--certificate".into(),
            p(cert),
        ];
        if let Some(chain) = chain {
            args.extend(["--certificate-chain".into(), p(chain)]);
        }
        args.push(self.image.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.env.ok(&args);
    }

    fn verify_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["verify", "--insecure-ignore-tlog", "--insecure-ignore-sct"];
        v.extend_from_slice(extra);
        v.push(&self.image);
        v
    }
}

fn optional(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    v[0]["optional"].clone()
}

#[rstest::rstest]
#[case::ecdsa(KeyAlg::EcP256)]
#[case::rsa4096(KeyAlg::Rsa4096)]
fn seed_002_flow(#[case] alg: KeyAlg) {
    let s = setup(alg);
    let key = s.import(&s.pki.leaf_key, "import-team-a");
    let (cert, bundle, root) = (p(&s.pki.leaf), p(&s.pki.bundle), p(&s.pki.root));
    s.env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--cert",
        &cert,
        "--cert-chain",
        &bundle,
        &s.image,
    ]);

    // exact identity, root only (intermediates come from the chain annotation)
    let out = s
        .env
        .signet()
        .args(s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &root,
        ]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("  - The code-signing certificate was verified using trusted certificate authority certificates"));
    let opt = optional(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(opt["Subject"], EMAIL);
    assert_eq!(opt["Issuer"], ISSUER);
    assert_eq!(opt["1.3.6.1.4.1.57264.1.1"], ISSUER);

    // the seed's regexps, unanchored as cosign's
    s.env.ok(&s.verify_args(&[
        "--certificate-identity-regexp",
        "team-.*@linuxera.org",
        "--certificate-oidc-issuer-regexp",
        "https://linuxer.*.org",
        "--cert-chain",
        &root,
    ]));
    s.env.ok(&s.verify_args(&[
        "--certificate-identity-regexp",
        ".*",
        "--certificate-oidc-issuer-regexp",
        ".*",
        "--cert-chain",
        &bundle,
    ]));
    s.env.ok(&s.verify_args(&[
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
        "--ca-roots",
        &root,
    ]));
    s.env.ok(&s.verify_args(&[
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
        "--ca-roots",
        &root,
        "--ca-intermediates",
        &p(&s.pki.intermediate),
        "--certificate",
        &cert,
    ]));
    // --key mode ignores the certificate but still reports it, as cosign does
    let out = s.env.verify(&s.env.p("import-team-a.pub"), &s.image);
    assert_eq!(optional(&out)["Subject"], EMAIL);

    // wrong identity, wrong issuer: exit 12, naming the certificate
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            "team-b@linuxera.org",
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &root,
        ]),
        12,
    );
    assert!(e.contains("none of the expected identities matched what was in the certificate, got subjects [team-a@linuxera.org] with issuer https://linuxera.org"), "{e}");
    assert!(
        e.contains("CN=Team A Cosign Certificate") && e.contains("serial"),
        "{e}"
    );
    s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            "https://other.example",
            "--cert-chain",
            &root,
        ]),
        12,
    );
}

#[test]
fn flags_are_checked_like_cosign() {
    let s = setup(KeyAlg::EcP256);
    let root = p(&s.pki.root);
    let e = s.env.fails(
        &s.verify_args(&["--certificate-oidc-issuer", ISSUER, "--cert-chain", &root]),
        1,
    );
    assert!(e.contains("--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"), "{e}");
    let e = s.env.fails(
        &s.verify_args(&["--certificate-identity", EMAIL, "--cert-chain", &root]),
        1,
    );
    assert!(
        e.contains("--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required"),
        "{e}"
    );
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
        ]),
        1,
    );
    assert!(e.contains("no trusted root"), "{e}");
    let key = s.import(&s.pki.leaf_key, "k");
    let e = s.env.fails(
        &s.verify_args(&["--key", &key, "--certificate-identity", EMAIL]),
        1,
    );
    assert!(e.contains("cannot be used together"), "{e}");
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &root,
        ]),
        1,
    );
    assert!(e.contains("invalid regular expression"), "{e}");
    // without --insecure-ignore-sct there is no CT log to satisfy: fail closed
    s.env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--cert",
        &p(&s.pki.leaf),
        "--cert-chain",
        &p(&s.pki.bundle),
        &s.image,
    ]);
    let e = s.env.fails(
        &[
            "verify",
            "--insecure-ignore-tlog",
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &root,
            &s.image,
        ],
        12,
    );
    assert!(e.contains("--insecure-ignore-sct"), "{e}");
}

#[test]
fn sign_refuses_a_certificate_for_another_key_or_a_chain_that_does_not_validate() {
    let s = setup(KeyAlg::EcP256);
    let (other, _) = s.env.keypair("other");
    let e = s.env.fails(
        &[
            "sign",
            "--key",
            &other,
            "--tlog-upload=false",
            "--cert",
            &p(&s.pki.leaf),
            &s.image,
        ],
        1,
    );
    assert!(e.contains("does not hold the public key"), "{e}");
    let key = s.import(&s.pki.leaf_key, "k");
    let impostor = Hierarchy::impostor(&s.env.path("impostor"), &s.pki);
    let e = s.env.fails(
        &[
            "sign",
            "--key",
            &key,
            "--tlog-upload=false",
            "--cert",
            &p(&s.pki.leaf),
            "--cert-chain",
            &p(&impostor.bundle),
            &s.image,
        ],
        1,
    );
    assert!(e.contains("does not validate"), "{e}");
    // a certificate without a chain is attached with an empty chain annotation, as cosign does
    s.env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--cert",
        &p(&s.pki.leaf),
        &s.image,
    ]);
}

#[rstest::rstest]
#[case::server_auth_only(LeafVariant::ServerAuthOnly, "extKeyUsage does not allow code signing")]
#[case::expired(LeafVariant::Expired, "expired: valid until 2021-01-01")]
#[case::not_yet_valid(LeafVariant::NotYetValid, "not yet valid")]
#[case::issuer_oids_disagree(LeafVariant::IssuerOidsDisagree, "OIDC issuer extensions disagree")]
#[case::no_digital_signature(
    LeafVariant::NoDigitalSignatureKu,
    "keyUsage does not allow digitalSignature"
)]
#[case::is_ca(LeafVariant::IsCa, "is a CA certificate")]
fn bad_leaves_are_rejected_with_the_reason(#[case] variant: LeafVariant, #[case] reason: &str) {
    let s = setup(KeyAlg::EcP256);
    let (cert, key) = s.pki.leaf_variant(variant);
    s.attach(&key, &cert, Some(&s.pki.bundle));
    let issuer = if variant == LeafVariant::IssuerOidsDisagree {
        ".*"
    } else {
        ISSUER
    };
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer-regexp",
            issuer,
            "--cert-chain",
            &p(&s.pki.root),
        ]),
        12,
    );
    assert!(e.contains(reason), "{variant:?}: {e}");
    assert!(e.contains("serial"), "{e}");
}

#[rstest::rstest]
#[case::code_signing_eku(LeafVariant::CodeSigningEku, EMAIL)]
#[case::no_eku(LeafVariant::NoEku, EMAIL)]
#[case::only_oid_1_1(LeafVariant::OnlyIssuerOid11, EMAIL)]
#[case::only_oid_1_8(LeafVariant::OnlyIssuerOid18, EMAIL)]
#[case::uri_san(LeafVariant::UriSan, signet_testkit::openssl_pki::URI_SAN)]
fn good_leaves_are_accepted(#[case] variant: LeafVariant, #[case] identity: &str) {
    let s = setup(KeyAlg::EcP256);
    let (cert, key) = s.pki.leaf_variant(variant);
    s.attach(&key, &cert, Some(&s.pki.bundle));
    let out = s.env.ok(&s.verify_args(&[
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        ISSUER,
        "--cert-chain",
        &p(&s.pki.root),
    ]));
    assert_eq!(optional(&out)["Issuer"], ISSUER);
}

#[test]
fn impostor_root_and_missing_intermediate_are_rejected() {
    let s = setup(KeyAlg::EcP256);
    let impostor = Hierarchy::impostor(&s.env.path("impostor"), &s.pki);
    // signed by the impostor's leaf, which has byte-identical names
    s.attach(&impostor.leaf_key, &impostor.leaf, Some(&impostor.bundle));
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &p(&s.pki.root),
        ]),
        12,
    );
    assert!(
        e.contains("signature does not verify with the key of"),
        "{e}"
    );

    // genuine leaf, but neither the signature nor the verifier supplies the intermediate
    let t = setup(KeyAlg::EcP256);
    t.attach(&t.pki.leaf_key, &t.pki.leaf, None);
    let e = t.env.fails(
        &t.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &p(&t.pki.root),
        ]),
        12,
    );
    assert!(
        e.contains("is not a trusted root and not among the intermediates"),
        "{e}"
    );
    // supplying it makes it verify
    t.env.ok(&t.verify_args(&[
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
        "--cert-chain",
        &p(&t.pki.bundle),
    ]));
}

#[rstest::rstest]
#[case::intermediate_without_ca_bit(BadChain::IntermediateWithoutCaBit, "is not a CA")]
#[case::path_len_exceeded(BadChain::PathLenExceeded, "path length constraint 0 exceeded")]
fn bad_chains_are_rejected(#[case] kind: BadChain, #[case] reason: &str) {
    let s = setup(KeyAlg::EcP256);
    let chain = s.pki.bad_chain(kind);
    s.attach(&chain.leaf_key, &chain.leaf, Some(&chain.bundle));
    let e = s.env.fails(
        &s.verify_args(&[
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            "--cert-chain",
            &p(&s.pki.root),
        ]),
        12,
    );
    assert!(e.contains(reason), "{kind:?}: {e}");
}
