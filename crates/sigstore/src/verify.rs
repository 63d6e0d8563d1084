//! The verification engine for cosign signatures, in cosign's order of checks for the legacy
//! `.sig` path (`pkg/cosign/verify.go`): transparency log (unless ignored); the verifier — the
//! given public key, or the signature's certificate validated to a trusted root with the
//! expected identity (and SCT, unless ignored); the cryptographic signature over the payload
//! bytes; then the claims (the payload names the image's digest; every `-a` annotation
//! matches). A failed verification is data: every rejected candidate comes back with its reason.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use signet_crypto::{PublicKey, SignatureAlgorithm};
use signet_oci::{Descriptor, Digest, media_types};
use signet_pki::cert::Certificate;
use signet_pki::chain::verify_code_signing;
use signet_pki::identity::{CertIdentity, IdentityPolicy, check_identity, identity_of};

use crate::payload::{Payload, PayloadError};
use crate::{Error, annotations, gobase64};

/// What to check besides the signature itself.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The digest the signatures must be for.
    pub expected_digest: Digest,
    /// `-a key=value` pairs that must appear (as strings) in the payload's `optional`.
    pub annotations: BTreeMap<String, String>,
    /// `--check-claims` (cosign's default: true).
    pub check_claims: bool,
    /// `--insecure-ignore-tlog`: accept signatures without a transparency-log entry.
    pub ignore_tlog: bool,
    /// Rekor public keys that may vouch (offline, by their signed entry timestamp) for a
    /// signature's `dev.sigstore.cosign/bundle` (cosign's `SIGSTORE_REKOR_PUBLIC_KEY`).
    pub rekor_keys: Vec<PublicKey>,
}

/// One signature layer of the `.sig` image with its payload blob, or why the blob could not
/// be fetched.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The layer descriptor (annotations carry the signature).
    pub layer: Descriptor,
    /// The payload bytes.
    pub payload: Result<Vec<u8>, String>,
}

/// Who must have signed: a public key, or a certificate from a trusted CA with an identity.
#[derive(Debug, Clone, Copy)]
pub enum Verifier<'a> {
    /// `--key`: the signature must verify with this key; certificates are ignored.
    Key(&'a PublicKey),
    /// Certificate mode (own PKI): see [`CertificatePolicy`].
    Certificate(&'a CertificatePolicy),
}

/// What a signature's certificate must satisfy.
#[derive(Debug, Clone)]
pub struct CertificatePolicy {
    /// Trusted roots (`--certificate-chain`'s last certificate, or `--ca-roots`).
    pub roots: Vec<Certificate>,
    /// Intermediates given by the verifier (`--certificate-chain`'s others, `--ca-intermediates`).
    /// The signature's chain annotation adds its own; only `roots` are trusted.
    pub intermediates: Vec<Certificate>,
    /// `--certificate`: use this leaf instead of the signature's certificate annotation.
    pub leaf: Option<Certificate>,
    /// The expected identity and OIDC issuer.
    pub identity: IdentityPolicy,
    /// `--insecure-ignore-sct`: accept certificates without a verified SCT.
    pub ignore_sct: bool,
    /// The verification time.
    pub at: SystemTime,
}

/// A signature that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The layer's digest.
    pub layer_digest: Digest,
    /// The parsed payload.
    pub payload: Payload,
    /// The payload bytes as stored.
    pub raw_payload: Vec<u8>,
    /// The algorithm the signature verified under.
    pub algorithm: SignatureAlgorithm,
    /// The identity of the signature's certificate, if it carries one (reported as cosign
    /// does, also in key mode where the certificate is not checked).
    pub certificate: Option<CertIdentity>,
    /// The transparency-log entry whose promise was verified offline, if any.
    pub tlog_entry: Option<crate::rekor::VerifiedEntry>,
}

/// Why a candidate signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionReason {
    /// The payload blob could not be fetched.
    PayloadUnavailable(String),
    /// The layer has no `dev.cosignproject.cosign/signature` annotation.
    MissingSignature,
    /// The signature annotation is not base64.
    InvalidBase64,
    /// No transparency-log entry, and the log was not ignored.
    NoTlogEntry,
    /// A transparency-log bundle is present, but no Rekor key is configured to check it.
    TlogBundleUnverifiable,
    /// The transparency-log bundle does not vouch for this signature.
    BadTlogBundle(String),
    /// The signature does not verify with the key.
    BadSignature,
    /// Certificate mode, but the signature carries no certificate.
    NoCertificate,
    /// The certificate (or the chain annotation) could not be parsed.
    InvalidCertificate(String),
    /// The certificate does not chain to a trusted root, or breaks a usage rule.
    UntrustedCertificate(String),
    /// The certificate's identity or issuer is not the expected one.
    IdentityMismatch(String),
    /// No verified SCT, and SCTs were not ignored.
    NoSct,
    /// The payload is not a simple-signing payload.
    InvalidPayload(PayloadError),
    /// The payload names another digest.
    DigestMismatch {
        /// The image's digest.
        expected: Digest,
        /// What the payload says.
        found: String,
    },
    /// An expected annotation is missing or different.
    AnnotationMismatch {
        /// The key.
        key: String,
        /// The expected value.
        expected: String,
    },
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PayloadUnavailable(e) => write!(f, "payload could not be fetched: {e}"),
            Self::MissingSignature => {
                write!(f, "layer has no {} annotation", annotations::SIGNATURE)
            }
            Self::InvalidBase64 => write!(f, "signature annotation is not valid base64"),
            Self::NoTlogEntry => write!(
                f,
                "signature has no transparency-log bundle (no transparency log is used here: pass --insecure-ignore-tlog to verify without one)"
            ),
            Self::TlogBundleUnverifiable => write!(
                f,
                "signature has a transparency-log bundle but no Rekor public key is configured to check it (pass --rekor-public-key, or --insecure-ignore-tlog to skip it)"
            ),
            Self::BadSignature => {
                write!(f, "invalid signature when validating with the public key")
            }
            Self::BadTlogBundle(e) => write!(f, "transparency-log bundle rejected: {e}"),
            Self::NoCertificate => write!(f, "no certificate found on signature"),
            Self::InvalidCertificate(e) => write!(f, "{e}"),
            Self::UntrustedCertificate(e) => write!(f, "certificate verification failed: {e}"),
            Self::IdentityMismatch(e) => write!(f, "{e}"),
            Self::NoSct => write!(
                f,
                "certificate does not include required embedded SCT and no detached SCT was set (no certificate transparency log is used here: pass --insecure-ignore-sct)"
            ),
            Self::InvalidPayload(e) => write!(f, "{e}"),
            Self::DigestMismatch { found, .. } => {
                write!(f, "invalid or missing digest in claim: {found}")
            }
            Self::AnnotationMismatch { key, expected } => {
                write!(f, "missing or incorrect annotation: {key}={expected}")
            }
        }
    }
}

/// A rejected candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Position of the layer in the `.sig` manifest.
    pub layer_index: usize,
    /// The layer's digest.
    pub layer_digest: Digest,
    /// Why it was rejected.
    pub reason: RejectionReason,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signature {} (layer {}): {}",
            self.layer_index, self.layer_digest, self.reason
        )
    }
}

/// Whether a layer is a cosign signature (others — foreign layers — are skipped and counted).
pub fn is_signature_layer(layer: &Descriptor) -> bool {
    layer.media_type == media_types::COSIGN_SIMPLE_SIGNING
}

/// Verifies every candidate with `verifier`; returns the accepted ones, or every rejection.
/// `foreign_layers` is how many non-signature layers the caller skipped.
pub fn verify_signatures(
    candidates: &[Candidate],
    verifier: Verifier<'_>,
    options: &VerifyOptions,
    foreign_layers: usize,
) -> Result<Vec<Verified>, Error> {
    if candidates.is_empty() {
        return Err(Error::NoSignatures { foreign_layers });
    }
    let mut verified = Vec::new();
    let mut rejections = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        match verify_one(candidate, verifier, options) {
            Ok(v) => verified.push(v),
            Err(reason) => rejections.push(Rejection {
                layer_index: index,
                layer_digest: candidate.layer.digest.clone(),
                reason,
            }),
        }
    }
    if verified.is_empty() {
        return Err(Error::NoMatchingSignatures {
            rejections,
            foreign_layers,
        });
    }
    Ok(verified)
}

/// The signature's certificate annotation, parsed, if present.
fn annotated_certificate(layer: &Descriptor) -> Result<Option<Certificate>, RejectionReason> {
    match layer.annotations.get(annotations::CERTIFICATE) {
        None => Ok(None),
        Some(pem) if pem.trim().is_empty() => Ok(None),
        Some(pem) => Certificate::parse_any(pem.as_bytes())
            .map(Some)
            .map_err(|e| {
                RejectionReason::InvalidCertificate(format!("certificate annotation: {e}"))
            }),
    }
}

/// The certificate the signature must be checked with, validated against `policy`.
fn certificate_key(
    layer: &Descriptor,
    policy: &CertificatePolicy,
    at: SystemTime,
) -> Result<(PublicKey, CertIdentity), RejectionReason> {
    let leaf = match &policy.leaf {
        Some(leaf) => leaf.clone(),
        None => annotated_certificate(layer)?.ok_or(RejectionReason::NoCertificate)?,
    };
    let mut intermediates = policy.intermediates.clone();
    if let Some(chain) = layer.annotations.get(annotations::CHAIN)
        && !chain.trim().is_empty()
    {
        let annotated = Certificate::parse_pem_bundle(chain)
            .map_err(|e| RejectionReason::InvalidCertificate(format!("chain annotation: {e}")))?;
        intermediates.extend(annotated.into_iter().filter(|c| !c.is_self_issued()));
    }
    verify_code_signing(&leaf, &intermediates, &policy.roots, at)
        .map_err(|e| RejectionReason::UntrustedCertificate(e.to_string()))?;
    let identity = check_identity(&leaf, &policy.identity)
        .map_err(|e| RejectionReason::IdentityMismatch(e.to_string()))?;
    if !policy.ignore_sct {
        return Err(RejectionReason::NoSct);
    }
    let key = leaf
        .public_key()
        .map_err(|e| RejectionReason::InvalidCertificate(e.to_string()))?;
    Ok((key, identity))
}

fn unix_time(secs: i64) -> SystemTime {
    let d = std::time::Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + d
    } else {
        SystemTime::UNIX_EPOCH - d
    }
}

fn verify_one(
    candidate: &Candidate,
    verifier: Verifier<'_>,
    options: &VerifyOptions,
) -> Result<Verified, RejectionReason> {
    let layer = &candidate.layer;
    let payload = candidate
        .payload
        .as_ref()
        .map_err(|e| RejectionReason::PayloadUnavailable(e.clone()))?;

    // b. transparency log: the bundle's signed entry timestamp, checked offline against the
    // configured Rekor keys, must name this signature, payload and signer (the certificate
    // annotation, else the verification key).
    let mut tlog_entry = None;
    if !options.ignore_tlog {
        let bundle = layer
            .annotations
            .get(annotations::BUNDLE)
            .ok_or(RejectionReason::NoTlogEntry)?;
        if options.rekor_keys.is_empty() {
            return Err(RejectionReason::TlogBundleUnverifiable);
        }
        let signature_text = layer
            .annotations
            .get(annotations::SIGNATURE)
            .ok_or(RejectionReason::MissingSignature)?;
        let signer_pem = match (layer.annotations.get(annotations::CERTIFICATE), verifier) {
            (Some(cert), _) if !cert.trim().is_empty() => cert.clone(),
            (_, Verifier::Key(key)) => key.to_pem(),
            (_, Verifier::Certificate(_)) => return Err(RejectionReason::NoCertificate),
        };
        let entry = crate::rekor::verify_bundle(
            bundle,
            &options.rekor_keys,
            payload,
            signature_text,
            &signer_pem,
        )
        .map_err(|e| RejectionReason::BadTlogBundle(e.to_string()))?;
        tlog_entry = Some(entry);
    }

    // c. the verifier: the key, or the certificate validated to a trusted root
    let (key, certificate) = match verifier {
        Verifier::Key(key) => (
            key.clone(),
            annotated_certificate(layer)
                .ok()
                .flatten()
                .and_then(|c| identity_of(&c).ok()),
        ),
        Verifier::Certificate(policy) => {
            // With a verified log entry the certificate must have been valid when the log
            // integrated the signature (cosign's rule); otherwise now.
            let at = match &tlog_entry {
                Some(e) => unix_time(e.integrated_time),
                None => policy.at,
            };
            let (key, identity) = certificate_key(layer, policy, at)?;
            (key, Some(identity))
        }
    };

    // d. the signature over the exact payload bytes
    let signature_text = layer
        .annotations
        .get(annotations::SIGNATURE)
        .ok_or(RejectionReason::MissingSignature)?;
    let signature = gobase64::decode(signature_text).map_err(|_| RejectionReason::InvalidBase64)?;
    let algorithm = key
        .verify(payload, &signature)
        .map_err(|_| RejectionReason::BadSignature)?;

    // e. claims
    let parsed = Payload::parse(payload).map_err(RejectionReason::InvalidPayload)?;
    if options.check_claims {
        if parsed.docker_manifest_digest != options.expected_digest.to_string() {
            return Err(RejectionReason::DigestMismatch {
                expected: options.expected_digest.clone(),
                found: parsed.docker_manifest_digest,
            });
        }
        for (k, v) in &options.annotations {
            if parsed.optional_string(k) != Some(v.as_str()) {
                return Err(RejectionReason::AnnotationMismatch {
                    key: k.clone(),
                    expected: v.clone(),
                });
            }
        }
    }
    Ok(Verified {
        layer_digest: layer.digest.clone(),
        payload: parsed,
        raw_payload: payload.clone(),
        algorithm,
        certificate,
        tlog_entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SignatureLayer, generate_payload};
    use signet_crypto::{KeyType, PrivateKey};
    use signet_oci::Reference;

    fn setup() -> (PrivateKey, Digest, Vec<u8>) {
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let digest = Digest::sha256(b"an image manifest");
        let r: Reference = "127.0.0.1:5000/app:v1".parse().unwrap();
        let mut ann = BTreeMap::new();
        ann.insert("env".to_string(), "prod".to_string());
        (key, digest.clone(), generate_payload(&r, &digest, &ann))
    }

    fn options(digest: &Digest) -> VerifyOptions {
        VerifyOptions {
            expected_digest: digest.clone(),
            annotations: BTreeMap::new(),
            check_claims: true,
            ignore_tlog: true,
            rekor_keys: Vec::new(),
        }
    }

    fn candidate(layer: SignatureLayer) -> Candidate {
        Candidate {
            payload: Ok(layer.payload.clone()),
            layer: layer.descriptor(),
        }
    }

    #[test]
    fn accepts_a_good_signature_and_lists_every_bad_one() {
        let (key, digest, payload) = setup();
        let other = PrivateKey::generate(KeyType::P256).unwrap();
        let good = SignatureLayer::new(payload.clone(), &key.sign(&payload).unwrap());
        let bad = SignatureLayer::new(payload.clone(), &other.sign(&payload).unwrap());
        let ok = verify_signatures(
            &[candidate(bad.clone()), candidate(good)],
            Verifier::Key(&key.public_key()),
            &options(&digest),
            0,
        )
        .unwrap();
        assert_eq!(ok.len(), 1);
        let err = verify_signatures(
            &[candidate(bad)],
            Verifier::Key(&key.public_key()),
            &options(&digest),
            0,
        )
        .unwrap_err();
        match err {
            Error::NoMatchingSignatures { rejections, .. } => {
                assert_eq!(rejections.len(), 1);
                assert_eq!(rejections[0].reason, RejectionReason::BadSignature);
            }
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn claims_are_checked_after_the_signature() {
        let (key, digest, payload) = setup();
        let layer = SignatureLayer::new(payload.clone(), &key.sign(&payload).unwrap());
        let mut o = options(&Digest::sha256(b"another image"));
        let err = verify_signatures(
            &[candidate(layer.clone())],
            Verifier::Key(&key.public_key()),
            &o,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("invalid or missing digest in claim"), "{err}");
        o = options(&digest);
        o.annotations.insert("env".into(), "dev".into());
        let err = verify_signatures(
            &[candidate(layer.clone())],
            Verifier::Key(&key.public_key()),
            &o,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("missing or incorrect annotation: env=dev"),
            "{err}"
        );
        o.annotations.insert("env".into(), "prod".into());
        assert!(
            verify_signatures(&[candidate(layer)], Verifier::Key(&key.public_key()), &o, 0).is_ok()
        );
    }

    #[test]
    fn tlog_required_unless_ignored() {
        let (key, digest, payload) = setup();
        let layer = SignatureLayer::new(payload.clone(), &key.sign(&payload).unwrap());
        let mut o = options(&digest);
        o.ignore_tlog = false;
        let err = verify_signatures(&[candidate(layer)], Verifier::Key(&key.public_key()), &o, 0)
            .unwrap_err();
        assert!(err.to_string().contains("--insecure-ignore-tlog"));
    }

    #[test]
    fn signature_text_with_newline_and_broken_base64() {
        let (key, digest, payload) = setup();
        let sig = gobase64::encode(&key.sign(&payload).unwrap());
        let with_nl = SignatureLayer::with_signature_text(payload.clone(), format!("{sig}\n"));
        assert!(
            verify_signatures(
                &[candidate(with_nl)],
                Verifier::Key(&key.public_key()),
                &options(&digest),
                0
            )
            .is_ok()
        );
        let broken = SignatureLayer::with_signature_text(payload, "%%%".into());
        let err = verify_signatures(
            &[candidate(broken)],
            Verifier::Key(&key.public_key()),
            &options(&digest),
            2,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::NoMatchingSignatures { rejections, foreign_layers: 2 }
            if rejections[0].reason == RejectionReason::InvalidBase64)
        );
    }

    #[test]
    fn no_candidates_is_no_signatures() {
        let (key, digest, _) = setup();
        let err = verify_signatures(&[], Verifier::Key(&key.public_key()), &options(&digest), 3)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no signatures found (3 non-signature layers skipped)"
        );
    }
}
