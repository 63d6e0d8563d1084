//! The policy model: containers-policy.json(5) as data. Key and CA file references stay strings
//! (paths or URIs such as `kbs:///default/key/tag` or `file:///…`); the shell fetches them.

use std::collections::BTreeMap;

use serde::Serialize;

/// A parsed containers-policy.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// The requirements of images no transport scope matches (never empty).
    pub default: Vec<Requirement>,
    /// transport name → scope → requirements (each list non-empty).
    pub transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

/// One policy requirement. An image must satisfy every requirement of the matched scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Requirement {
    /// `insecureAcceptAnything`: allows any image.
    #[serde(rename = "insecureAcceptAnything")]
    InsecureAcceptAnything,
    /// `reject`: rejects every image.
    #[serde(rename = "reject")]
    Reject,
    /// `signedBy`: a simple-signing (OpenPGP) signature by one of the keys.
    #[serde(rename = "signedBy")]
    SignedBy(SignedBy),
    /// `signedBaseLayer`: parses, but (as in containers/image) always rejects.
    #[serde(rename = "signedBaseLayer")]
    SignedBaseLayer {
        /// `baseLayerIdentity`.
        #[serde(rename = "baseLayerIdentity")]
        base_layer_identity: SignedIdentity,
    },
    /// `sigstoreSigned`: a cosign/sigstore signature accepted by the trust material.
    #[serde(rename = "sigstoreSigned")]
    SigstoreSigned(SigstoreSigned),
}

impl Requirement {
    /// The JSON `type` of this requirement.
    pub fn type_name(&self) -> &'static str {
        match self {
            Requirement::InsecureAcceptAnything => "insecureAcceptAnything",
            Requirement::Reject => "reject",
            Requirement::SignedBy(_) => "signedBy",
            Requirement::SignedBaseLayer { .. } => "signedBaseLayer",
            Requirement::SigstoreSigned(_) => "sigstoreSigned",
        }
    }

    /// Every path or URI this requirement needs fetched before it can be evaluated, in policy
    /// order (inline `…Data` values need nothing).
    pub fn resources(&self) -> Vec<ResourceRef> {
        let mut out = Vec::new();
        match self {
            Requirement::SignedBy(s) => s.keys.push_resources(&mut out),
            Requirement::SigstoreSigned(s) => {
                match &s.trust {
                    SigstoreTrust::PublicKeys(k) => k.push_resources(&mut out),
                    SigstoreTrust::Fulcio(f) => f.ca.push_resources(&mut out),
                    SigstoreTrust::Pki(p) => {
                        p.ca_roots.push_resources(&mut out);
                        if let Some(i) = &p.ca_intermediates {
                            i.push_resources(&mut out);
                        }
                    }
                }
                if let Some(r) = &s.rekor_public_keys {
                    r.push_resources(&mut out);
                }
            }
            _ => {}
        }
        out.dedup();
        out
    }
}

/// A path or URI in the policy that the shell must fetch (`keyPath`, `keyPaths[i]`,
/// `rekorPublicKeyPath(s)`, `fulcio.caPath`, `pki.caRootsPath`, `pki.caIntermediatesPath`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ResourceRef(pub String);

impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `keyType` of `signedBy`. Only `GPGKeys` is implemented (as in containers/image); the others
/// parse and reject at evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyType {
    /// `GPGKeys`.
    #[serde(rename = "GPGKeys")]
    GpgKeys,
    /// `signedByGPGKeys`.
    #[serde(rename = "signedByGPGKeys")]
    SignedByGpgKeys,
    /// `X509Certificates`.
    #[serde(rename = "X509Certificates")]
    X509Certificates,
    /// `signedByX509CAs`.
    #[serde(rename = "signedByX509CAs")]
    SignedByX509Cas,
}

impl KeyType {
    /// The JSON spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyType::GpgKeys => "GPGKeys",
            KeyType::SignedByGpgKeys => "signedByGPGKeys",
            KeyType::X509Certificates => "X509Certificates",
            KeyType::SignedByX509Cas => "signedByX509CAs",
        }
    }
}

/// Where keys come from: `keyPath`, `keyPaths`, `keyData` (base64 in JSON, decoded here) or
/// `keyDatas` (sigstoreSigned only). The same shape serves the `rekorPublicKey…` fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum KeySource {
    /// One path or URI.
    #[serde(rename = "path")]
    Path(String),
    /// Several paths or URIs.
    #[serde(rename = "paths")]
    Paths(Vec<String>),
    /// Inline key bytes.
    #[serde(rename = "data")]
    Data(Vec<u8>),
    /// Several inline keys.
    #[serde(rename = "datas")]
    Datas(Vec<Vec<u8>>),
}

impl KeySource {
    fn push_resources(&self, out: &mut Vec<ResourceRef>) {
        match self {
            KeySource::Path(p) => out.push(ResourceRef(p.clone())),
            KeySource::Paths(ps) => out.extend(ps.iter().cloned().map(ResourceRef)),
            KeySource::Data(_) | KeySource::Datas(_) => {}
        }
    }
}

/// A certificate bundle: a path/URI (`…Path`) or inline PEM (`…Data`, base64 in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CertSource {
    /// A path or URI.
    #[serde(rename = "path")]
    Path(String),
    /// Inline PEM bytes.
    #[serde(rename = "data")]
    Data(Vec<u8>),
}

impl CertSource {
    fn push_resources(&self, out: &mut Vec<ResourceRef>) {
        if let CertSource::Path(p) = self {
            out.push(ResourceRef(p.clone()));
        }
    }
}

/// `signedBy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedBy {
    /// `keyType`.
    #[serde(rename = "keyType")]
    pub key_type: KeyType,
    /// `keyPath` / `keyPaths` / `keyData` (never `Datas`).
    pub keys: KeySource,
    /// `signedIdentity` (default `matchRepoDigestOrExact`).
    #[serde(rename = "signedIdentity")]
    pub signed_identity: SignedIdentity,
}

/// `sigstoreSigned`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SigstoreSigned {
    /// Exactly one of keys / `fulcio` / `pki`.
    pub trust: SigstoreTrust,
    /// `rekorPublicKeyPath(s)` / `rekorPublicKeyData(s)`: required with Fulcio, forbidden with PKI.
    #[serde(rename = "rekorPublicKeys")]
    pub rekor_public_keys: Option<KeySource>,
    /// `signedIdentity` (default `matchRepoDigestOrExact`).
    #[serde(rename = "signedIdentity")]
    pub signed_identity: SignedIdentity,
}

/// The trust root of a `sigstoreSigned` requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SigstoreTrust {
    /// `keyPath` / `keyPaths` / `keyData` / `keyDatas`: PEM public keys.
    #[serde(rename = "publicKeys")]
    PublicKeys(KeySource),
    /// `fulcio`.
    #[serde(rename = "fulcio")]
    Fulcio(Fulcio),
    /// `pki`.
    #[serde(rename = "pki")]
    Pki(Pki),
}

/// `fulcio`: certificates issued by a Fulcio CA (with a Rekor SET).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fulcio {
    /// `caPath` / `caData`.
    pub ca: CertSource,
    /// `oidcIssuer`.
    #[serde(rename = "oidcIssuer")]
    pub oidc_issuer: String,
    /// `subjectEmail`.
    #[serde(rename = "subjectEmail")]
    pub subject_email: String,
}

/// `pki`: certificates from an own CA ("bring your own PKI").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pki {
    /// `caRootsPath` / `caRootsData`.
    #[serde(rename = "caRoots")]
    pub ca_roots: CertSource,
    /// `caIntermediatesPath` / `caIntermediatesData`.
    #[serde(rename = "caIntermediates")]
    pub ca_intermediates: Option<CertSource>,
    /// `subjectEmail` (at least one of email and hostname).
    #[serde(rename = "subjectEmail")]
    pub subject_email: Option<String>,
    /// `subjectHostname`.
    #[serde(rename = "subjectHostname")]
    pub subject_hostname: Option<String>,
}

/// `signedIdentity`: which identity a signature must claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum SignedIdentity {
    /// `matchExact`.
    #[serde(rename = "matchExact")]
    MatchExact,
    /// `matchRepoDigestOrExact` (the default).
    #[serde(rename = "matchRepoDigestOrExact")]
    MatchRepoDigestOrExact,
    /// `matchRepository`.
    #[serde(rename = "matchRepository")]
    MatchRepository,
    /// `exactReference`.
    #[serde(rename = "exactReference")]
    ExactReference {
        /// `dockerReference` (has a tag or digest).
        #[serde(rename = "dockerReference")]
        docker_reference: String,
    },
    /// `exactRepository`.
    #[serde(rename = "exactRepository")]
    ExactRepository {
        /// `dockerRepository`.
        #[serde(rename = "dockerRepository")]
        docker_repository: String,
    },
    /// `remapIdentity`.
    #[serde(rename = "remapIdentity")]
    RemapIdentity {
        /// `prefix`.
        prefix: String,
        /// `signedPrefix`.
        #[serde(rename = "signedPrefix")]
        signed_prefix: String,
    },
}

impl SignedIdentity {
    /// The JSON `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            SignedIdentity::MatchExact => "matchExact",
            SignedIdentity::MatchRepoDigestOrExact => "matchRepoDigestOrExact",
            SignedIdentity::MatchRepository => "matchRepository",
            SignedIdentity::ExactReference { .. } => "exactReference",
            SignedIdentity::ExactRepository { .. } => "exactRepository",
            SignedIdentity::RemapIdentity { .. } => "remapIdentity",
        }
    }
}
