//! Shared fixtures: Notation-profile chains from signet-pki, and hand-made certificates
//! (rcgen) that break one rule each.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod tsa;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use signet_crypto::{KeyType, PrivateKey};
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    CaIssuer, IntermediateRequest, LeafRequest, Profile, RootRequest, issue_intermediate,
    issue_leaf, issue_root,
};

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_760_000_000)
}

/// leaf (key type `kt`), intermediate, root — DER, leaf first; plus the leaf key.
pub fn chain(kt: KeyType) -> (PrivateKey, Vec<Vec<u8>>) {
    let root_key = PrivateKey::generate(KeyType::P256).unwrap();
    let root = issue_root(
        &RootRequest::new(DistinguishedName::parse("/O=signet/CN=Test Root").unwrap()),
        &root_key,
        now(),
    )
    .unwrap();
    let root_ca = CaIssuer::new(&root.der, &root_key).unwrap();
    let inter_key = PrivateKey::generate(KeyType::P384).unwrap();
    let inter = issue_intermediate(
        &IntermediateRequest::new(
            DistinguishedName::parse("/O=signet/CN=Test Intermediate").unwrap(),
        ),
        &inter_key.public_key(),
        &root_ca,
        now(),
    )
    .unwrap();
    let inter_ca = CaIssuer::new(&inter.der, &inter_key).unwrap();
    let leaf_key = PrivateKey::generate(kt).unwrap();
    let mut req = LeafRequest::new(
        DistinguishedName::parse("/O=signet/CN=Test Signer").unwrap(),
        vec!["signer@example.com".to_owned()],
        vec![],
        "https://issuer.example.com",
    );
    req.profile = Profile::Notation;
    let leaf = issue_leaf(&req, &leaf_key.public_key(), &inter_ca, now()).unwrap();
    (leaf_key, vec![leaf.der, inter.der, root.der])
}

/// A certificate description for rcgen.
pub struct Spec {
    pub cn: &'static str,
    pub ca: IsCa,
    pub ku: Vec<KeyUsagePurpose>,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub custom: Vec<CustomExtension>,
}

impl Spec {
    pub fn leaf() -> Self {
        Spec {
            cn: "leaf",
            ca: IsCa::NoCa,
            ku: vec![KeyUsagePurpose::DigitalSignature],
            eku: vec![ExtendedKeyUsagePurpose::CodeSigning],
            custom: vec![],
        }
    }

    pub fn ca(cn: &'static str, path_len: Option<u8>) -> Self {
        Spec {
            cn,
            ca: IsCa::Ca(match path_len {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            }),
            ku: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            eku: vec![],
            custom: vec![],
        }
    }

    fn params(self) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, self.cn);
        p.is_ca = self.ca;
        p.key_usages = self.ku;
        p.extended_key_usages = self.eku;
        p.custom_extensions = self.custom;
        p
    }
}

/// A non-critical extension with the given DER content.
pub fn noncritical(oid: &[u64], der: Vec<u8>) -> CustomExtension {
    let mut e = CustomExtension::from_oid_content(oid, der);
    e.set_criticality(false);
    e
}

/// Builds a chain from specs (leaf first, root last), each signed by the next; the last
/// is self-signed. All keys P-256.
pub fn rc_chain(specs: Vec<Spec>) -> Vec<Vec<u8>> {
    let mut specs = specs;
    let mut out = Vec::new();
    let root_spec = specs.pop().unwrap();
    let root_key = KeyPair::generate().unwrap();
    let root_params = root_spec.params();
    out.push(root_params.self_signed(&root_key).unwrap().der().to_vec());
    let mut issuer = Issuer::new(root_params, root_key);
    while let Some(spec) = specs.pop() {
        let key = KeyPair::generate().unwrap();
        let params = spec.params();
        out.push(params.signed_by(&key, &issuer).unwrap().der().to_vec());
        issuer = Issuer::new(params, key);
    }
    out.reverse();
    out
}
