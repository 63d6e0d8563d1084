//! The Notary Project certificate rules, one test per rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Spec, noncritical, rc_chain};
use rcgen::{ExtendedKeyUsagePurpose as Eku, IsCa, KeyUsagePurpose as Ku};
use signet_crypto::KeyType;
use signet_notation::Error;
use signet_notation::certs::{CertRule, check_signing_chain, parse_chain};

fn check(ders: &[Vec<u8>]) -> Result<(), Error> {
    check_signing_chain(&parse_chain(ders).unwrap())
}

fn rule_of(ders: &[Vec<u8>]) -> (usize, CertRule) {
    match check(ders).unwrap_err() {
        Error::CertificateRule { index, rule, .. } => (index, rule),
        other => panic!("unexpected {other}"),
    }
}

fn ok_chain() -> Vec<Spec> {
    vec![
        Spec::leaf(),
        Spec::ca("inter", Some(0)),
        Spec::ca("root", None),
    ]
}

#[test]
fn signet_pki_notation_chains_pass() {
    for kt in [KeyType::P256, KeyType::Rsa2048] {
        let (_, ders) = common::chain(kt);
        check(&ders).unwrap();
    }
    check(&rc_chain(ok_chain())).unwrap();
}

#[test]
fn empty_chain() {
    assert!(matches!(check_signing_chain(&[]), Err(Error::EmptyChain)));
}

#[test]
fn leaf_key_usage_rules() {
    let mut leaf = Spec::leaf();
    leaf.ku = vec![];
    assert_eq!(
        rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)])),
        (0, CertRule::LeafKeyUsageMissing)
    );

    let mut leaf = Spec::leaf();
    leaf.ku = vec![];
    // keyUsage digitalSignature, not critical.
    leaf.custom = vec![noncritical(&[2, 5, 29, 15], vec![0x03, 0x02, 0x07, 0x80])];
    assert_eq!(
        rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)])),
        (0, CertRule::LeafKeyUsageNotCritical)
    );

    let mut leaf = Spec::leaf();
    leaf.ku = vec![Ku::ContentCommitment];
    assert_eq!(
        rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)])),
        (0, CertRule::LeafNoDigitalSignature)
    );

    for (bit, name) in [
        (Ku::KeyEncipherment, "keyEncipherment"),
        (Ku::DataEncipherment, "dataEncipherment"),
        (Ku::KeyAgreement, "keyAgreement"),
        (Ku::KeyCertSign, "keyCertSign"),
        (Ku::CrlSign, "cRLSign"),
        (Ku::EncipherOnly, "encipherOnly"),
        (Ku::DecipherOnly, "decipherOnly"),
    ] {
        let mut leaf = Spec::leaf();
        leaf.ku = vec![Ku::DigitalSignature, bit];
        if name.ends_with("ipherOnly") {
            leaf.ku.push(Ku::KeyAgreement);
        }
        let (index, rule) = rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)]));
        assert_eq!(index, 0);
        assert!(
            matches!(rule, CertRule::LeafForbiddenKeyUsage { .. }),
            "{name}: {rule}"
        );
    }
    // contentCommitment next to digitalSignature is allowed.
    let mut leaf = Spec::leaf();
    leaf.ku = vec![Ku::DigitalSignature, Ku::ContentCommitment];
    check(&rc_chain(vec![leaf, Spec::ca("root", None)])).unwrap();
}

#[test]
fn leaf_basic_constraints_and_eku_rules() {
    let mut leaf = Spec::leaf();
    leaf.ca = IsCa::ExplicitNoCa;
    check(&rc_chain(vec![leaf, Spec::ca("root", None)])).unwrap();

    let mut leaf = Spec::leaf();
    leaf.ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    assert_eq!(
        rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)])),
        (0, CertRule::LeafIsCa)
    );

    // No EKU at all is fine.
    let mut leaf = Spec::leaf();
    leaf.eku = vec![];
    check(&rc_chain(vec![leaf, Spec::ca("root", None)])).unwrap();

    for (purpose, name) in [
        (Eku::Any, "anyExtendedKeyUsage"),
        (Eku::ServerAuth, "serverAuth"),
        (Eku::ClientAuth, "clientAuth"),
        (Eku::EmailProtection, "emailProtection"),
        (Eku::TimeStamping, "timeStamping"),
    ] {
        let mut leaf = Spec::leaf();
        leaf.eku = vec![Eku::CodeSigning, purpose];
        assert_eq!(
            rule_of(&rc_chain(vec![leaf, Spec::ca("root", None)])),
            (0, CertRule::LeafForbiddenExtendedKeyUsage { purpose: name })
        );
    }
}

#[test]
fn ca_rules() {
    let mut inter = Spec::ca("inter", None);
    inter.ca = IsCa::NoCa;
    inter.custom = vec![];
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), inter, Spec::ca("root", None)])),
        (1, CertRule::CaBasicConstraintsMissing)
    );

    let mut inter = Spec::ca("inter", None);
    inter.ca = IsCa::NoCa;
    inter.custom = vec![noncritical(
        &[2, 5, 29, 19],
        vec![0x30, 0x03, 0x01, 0x01, 0xff],
    )];
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), inter, Spec::ca("root", None)])),
        (1, CertRule::CaBasicConstraintsNotCritical)
    );

    let mut inter = Spec::ca("inter", None);
    inter.ca = IsCa::ExplicitNoCa;
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), inter, Spec::ca("root", None)])),
        (1, CertRule::CaNotCa)
    );

    let mut root = Spec::ca("root", None);
    root.ku = vec![];
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), root])),
        (1, CertRule::CaKeyUsageMissing)
    );

    let mut root = Spec::ca("root", None);
    root.ku = vec![];
    root.custom = vec![noncritical(&[2, 5, 29, 15], vec![0x03, 0x02, 0x02, 0x04])];
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), root])),
        (1, CertRule::CaKeyUsageNotCritical)
    );

    let mut root = Spec::ca("root", None);
    root.ku = vec![Ku::CrlSign];
    assert_eq!(
        rule_of(&rc_chain(vec![Spec::leaf(), root])),
        (1, CertRule::CaNoKeyCertSign)
    );
}

#[test]
fn path_len_is_honoured() {
    // root pathLen 0 with one intermediate under it: refused.
    let specs = vec![
        Spec::leaf(),
        Spec::ca("inter", None),
        Spec::ca("root", Some(0)),
    ];
    assert_eq!(
        rule_of(&rc_chain(specs)),
        (
            2,
            CertRule::PathLenExceeded {
                path_len: 0,
                below: 1
            }
        )
    );
    // root pathLen 1, two intermediates: refused at the root; one intermediate: fine.
    let specs = vec![
        Spec::leaf(),
        Spec::ca("inter1", Some(0)),
        Spec::ca("inter2", None),
        Spec::ca("root", Some(1)),
    ];
    assert_eq!(
        rule_of(&rc_chain(specs)),
        (
            3,
            CertRule::PathLenExceeded {
                path_len: 1,
                below: 2
            }
        )
    );
    // The intermediate right above the leaf with pathLen 0 is fine.
    check(&rc_chain(ok_chain())).unwrap();
}

#[test]
fn chain_order_and_completeness() {
    let ders = rc_chain(ok_chain());
    // Missing root.
    let (i, rule) = rule_of(&ders[..2]);
    assert_eq!((i, rule), (1, CertRule::RootNotSelfSigned));
    // Missing intermediate.
    let (i, rule) = rule_of(&[ders[0].clone(), ders[2].clone()]);
    assert_eq!(i, 0);
    assert!(matches!(rule, CertRule::IssuerNotNext { .. }), "{rule}");
    // Reordered.
    let (i, _) = rule_of(&[ders[0].clone(), ders[2].clone(), ders[1].clone()]);
    assert_eq!(i, 0);
    // An unrelated root appended after the real one.
    let other = rc_chain(vec![Spec::ca("root", None)]);
    let mut extra = ders.clone();
    extra.push(other[0].clone());
    assert_eq!(rule_of(&extra), (2, CertRule::SelfIssuedBeforeEnd));
    // Same names, different keys: signature does not verify.
    let twin = rc_chain(ok_chain());
    let (i, rule) = rule_of(&[ders[0].clone(), twin[1].clone(), twin[2].clone()]);
    assert_eq!((i, rule), (0, CertRule::NotSignedByNext));
}

#[test]
fn root_only_chain_must_satisfy_leaf_rules() {
    // A self-signed CA alone: leaf rules refuse keyCertSign... first it lacks digitalSignature.
    let (i, rule) = rule_of(&rc_chain(vec![Spec::ca("root", None)]));
    assert_eq!(i, 0);
    assert_eq!(rule, CertRule::LeafIsCa);
    // A self-signed code-signing certificate alone passes.
    check(&rc_chain(vec![Spec::leaf()])).unwrap();
}

#[test]
fn key_rules() {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.key_usages = vec![Ku::DigitalSignature];
    let der = p.self_signed(&kp).unwrap().der().to_vec();
    let (i, rule) = rule_of(&[der]);
    assert_eq!(i, 0);
    assert!(matches!(rule, CertRule::UnsupportedKey { .. }), "{rule}");
    assert!(rule.to_string().contains("RSA 2048"), "{rule}");
}

#[test]
fn errors_name_certificate_and_rule() {
    let mut leaf = Spec::leaf();
    leaf.eku = vec![Eku::ServerAuth];
    let err = check(&rc_chain(vec![leaf, Spec::ca("root", None)])).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("certificate 0 (CN=leaf") && text.contains("serverAuth"),
        "{text}"
    );
    assert!(!text.contains('\n'));
}
