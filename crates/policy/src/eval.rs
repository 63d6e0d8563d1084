//! Evaluation of a requirement list against an image, its manifest and its signatures
//! (`signature/policy_eval*.go`). Cryptography is delegated to [`SignatureVerifiers`]; the
//! payload, digest and identity checks are done here, in containers/image's order.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::model::{
    CertSource, KeySource, KeyType, Policy, Requirement, ResourceRef, SignedBy, SigstoreSigned,
    SigstoreTrust,
};
use crate::payload::{UntrustedPayload, parse_sigstore_payload, parse_simple_signing_payload};
use crate::reference::parse_digest;
use crate::scope::{ImageName, ScopeMatch, Transport};

/// MIME type of cosign signature layers.
pub const SIGSTORE_SIGNATURE_MIME_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature of a cosign layer.
pub const SIGSTORE_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// One signature of the image, as fetched by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// A simple-signing blob (an OpenPGP signed message), from lookaside storage or the
    /// registry signature extension.
    SimpleSigning(Vec<u8>),
    /// A layer of the cosign `.sig` attachment (any media type: non-signatures are counted
    /// and skipped by `sigstoreSigned`).
    Sigstore {
        /// The layer's `mediaType`.
        mime_type: String,
        /// The layer blob.
        payload: Vec<u8>,
        /// The layer's annotations.
        annotations: BTreeMap<String, String>,
    },
}

/// The trust material of a `sigstoreSigned` requirement with every path/URI resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSigstoreTrust {
    /// The root of trust.
    pub root: ResolvedTrustRoot,
    /// Rekor public keys (PEM), when the policy requires a Rekor SET.
    pub rekor_public_keys: Option<Vec<Vec<u8>>>,
    /// The evaluation time (Unix seconds), for PKI certificate validity (Fulcio certificates
    /// are checked at the SET's integrated time instead).
    pub now_unix: i64,
}

/// Resolved root of trust of a `sigstoreSigned` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedTrustRoot {
    /// Public keys (each a PEM `PUBLIC KEY` file's bytes); any one may verify.
    PublicKeys(Vec<Vec<u8>>),
    /// Fulcio: CA certificates (PEM bytes) + expected OIDC issuer and SAN e-mail.
    Fulcio {
        /// PEM bundle of accepted roots.
        ca_certificates_pem: Vec<u8>,
        /// `oidcIssuer`.
        oidc_issuer: String,
        /// `subjectEmail`.
        subject_email: String,
    },
    /// Own PKI: roots, optional intermediates (PEM bytes), expected e-mail and/or hostname.
    Pki {
        /// PEM bundle of accepted roots.
        ca_roots_pem: Vec<u8>,
        /// PEM bundle of accepted intermediates.
        ca_intermediates_pem: Option<Vec<u8>>,
        /// `subjectEmail`.
        subject_email: Option<String>,
        /// `subjectHostname`.
        subject_hostname: Option<String>,
    },
}

/// The cryptography the shell provides (a test double in this crate's tests).
pub trait SignatureVerifiers {
    /// OpenPGP: verify the signed message `signature` against a keyring made only of `keys`
    /// (each a resolved keyring blob, binary or armored). On success return the signer's
    /// primary-key fingerprint (a subkey signature maps to its primary key) and the signed
    /// literal data. Must fail for unknown keys, bad/expired signatures and unsigned messages;
    /// must fail with `No public keys imported` when `keys` contain no key.
    fn verify_openpgp(
        &self,
        signature: &[u8],
        keys: &[Vec<u8>],
    ) -> Result<(String, Vec<u8>), String>;

    /// sigstore: verify one cosign signature layer: the `dev.cosignproject.cosign/signature`
    /// annotation over the exact `payload` bytes, with the key(s) of `trust` or the certificate
    /// annotation checked against `trust` (chain, identity, Rekor SET where required), with
    /// containers/image's error texts (`missing … annotation`, `cryptographic signature
    /// verification failed: …`, …). Payload claims are NOT checked by the verifier: this crate
    /// parses the payload and checks digest and identity afterwards.
    fn verify_sigstore(
        &self,
        payload: &[u8],
        annotations: &BTreeMap<String, String>,
        trust: &ResolvedSigstoreTrust,
    ) -> Result<(), String>;
}

/// Everything about the image the evaluation needs, gathered by the shell.
#[derive(Debug, Clone)]
pub struct EvaluationInput {
    /// The transport the image came through.
    pub transport: Transport,
    /// The image.
    pub image: ImageName,
    /// The manifest bytes exactly as fetched (digest claims are checked against them).
    pub manifest: Vec<u8>,
    /// All signatures found (simple signing and sigstore attachment layers).
    pub signatures: Vec<Signature>,
    /// Every [`ResourceRef`] of the matched requirements, fetched (or the fetch error).
    /// A resource missing from the map counts as unfetchable.
    pub resources: BTreeMap<ResourceRef, Result<Vec<u8>, String>>,
    /// The evaluation time, Unix seconds.
    pub now_unix: i64,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether every requirement allowed the image.
    pub accepted: bool,
    /// The image, as containers/image names it (`docker://busybox:latest`).
    pub image: String,
    /// The policy scope that supplied the requirements (`transports.docker["docker.io"]`,
    /// `transports.docker[""]`, `default`).
    pub scope: String,
    /// Per requirement, in policy order.
    pub requirements: Vec<RequirementVerdict>,
    /// Every rejection reason (requirement-level and per signature), in order.
    pub reasons: Vec<Reason>,
}

/// The verdict of one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementVerdict {
    /// Position in the requirement list (0-based).
    pub index: usize,
    /// The requirement's `type`.
    #[serde(rename = "type")]
    pub requirement_type: String,
    /// Whether it allowed the image.
    pub accepted: bool,
    /// containers/image's error for this requirement when rejected (the summary over signatures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The signatures this requirement examined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureVerdict>,
}

/// The verdict on one signature under one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureVerdict {
    /// Index into [`EvaluationInput::signatures`].
    pub index: usize,
    /// Whether this signature satisfied the requirement.
    pub accepted: bool,
    /// The OpenPGP signer fingerprint, when the signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The signed identity, when the payload parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Why it was rejected (containers/image's text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Further explanation (e.g. why the identity does not match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One rejection reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The requirement (0-based index).
    pub requirement: usize,
    /// The requirement's `type`.
    #[serde(rename = "requirementType")]
    pub requirement_type: String,
    /// The signature (index into the input's signatures), for per-signature reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<usize>,
    /// The reason text.
    pub message: String,
}

impl Decision {
    /// containers/image's single error for a rejected image: the first rejecting requirement's
    /// error (`IsRunningImageAllowed` stops there).
    pub fn error(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| !r.accepted)
            .and_then(|r| r.error.as_deref())
    }

    /// The JSON form (`--output json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl fmt::Display for Decision {
    /// The human form: the verdict, the scope, every requirement and every signature reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} (policy scope {})",
            self.image,
            if self.accepted {
                "accepted"
            } else {
                "rejected"
            },
            self.scope
        )?;
        for r in &self.requirements {
            match &r.error {
                None if r.accepted => writeln!(
                    f,
                    "  requirement {} ({}): accepted",
                    r.index + 1,
                    r.requirement_type
                )?,
                None => writeln!(
                    f,
                    "  requirement {} ({}): rejected",
                    r.index + 1,
                    r.requirement_type
                )?,
                Some(e) => writeln!(
                    f,
                    "  requirement {} ({}): rejected: {e}",
                    r.index + 1,
                    r.requirement_type
                )?,
            }
            for s in &r.signatures {
                let mut line = format!("    signature {}: ", s.index + 1);
                if s.accepted {
                    line.push_str("accepted");
                    if let Some(signer) = &s.signer {
                        line.push_str(&format!(" (signed by {signer})"));
                    }
                    if let Some(id) = &s.identity {
                        line.push_str(&format!(" for {id}"));
                    }
                } else {
                    line.push_str("rejected: ");
                    line.push_str(s.reason.as_deref().unwrap_or("unknown reason"));
                    if let Some(d) = &s.detail {
                        line.push_str(&format!(" ({d})"));
                    }
                }
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

impl Policy {
    /// Every resource the requirements matching this image need (what the shell must fetch).
    pub fn resources_for(&self, transport: &Transport, image: &ImageName) -> Vec<ResourceRef> {
        let (reqs, _) = self.requirements_for(transport, image);
        let mut out: Vec<ResourceRef> = Vec::new();
        for r in reqs.iter().flat_map(Requirement::resources) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }

    /// Scope lookup and evaluation in one step.
    pub fn evaluate(
        &self,
        input: &EvaluationInput,
        verifiers: &dyn SignatureVerifiers,
    ) -> Decision {
        let (reqs, scope) = self.requirements_for(&input.transport, &input.image);
        evaluate(reqs, &scope, input, verifiers)
    }
}

/// Evaluates `requirements` (the list a scope lookup returned): every requirement must allow
/// the image; within a signature-based requirement one accepted signature suffices. Unlike
/// containers/image, evaluation does not stop at the first rejecting requirement, so the
/// decision lists every reason.
pub fn evaluate(
    requirements: &[Requirement],
    scope: &ScopeMatch,
    input: &EvaluationInput,
    verifiers: &dyn SignatureVerifiers,
) -> Decision {
    let image = input.image.display_name(&input.transport);
    let mut verdicts = Vec::with_capacity(requirements.len());
    if requirements.is_empty() {
        verdicts.push(RequirementVerdict {
            index: 0,
            requirement_type: "(none)".into(),
            accepted: false,
            error: Some("List of verification policy requirements must not be empty".into()),
            signatures: Vec::new(),
        });
    }
    for (index, req) in requirements.iter().enumerate() {
        let mut v = match req {
            Requirement::InsecureAcceptAnything => allowed(),
            Requirement::Reject => {
                rejected(format!("Running image {image} is rejected by policy."))
            }
            Requirement::SignedBaseLayer { .. } => {
                rejected("signedBaseLayer not implemented yet!".into())
            }
            Requirement::SignedBy(s) => eval_signed_by(s, input, verifiers),
            Requirement::SigstoreSigned(s) => eval_sigstore_signed(s, input, verifiers),
        };
        v.index = index;
        v.requirement_type = req.type_name().into();
        verdicts.push(v);
    }
    let mut reasons = Vec::new();
    for v in &verdicts {
        if v.accepted {
            continue;
        }
        let rejected_sigs: Vec<&SignatureVerdict> =
            v.signatures.iter().filter(|s| !s.accepted).collect();
        if rejected_sigs.is_empty()
            && let Some(e) = &v.error
        {
            reasons.push(Reason {
                requirement: v.index,
                requirement_type: v.requirement_type.clone(),
                signature: None,
                message: e.clone(),
            });
        }
        for s in rejected_sigs {
            let mut message = s.reason.clone().unwrap_or_default();
            if let Some(d) = &s.detail {
                message.push_str(&format!(" ({d})"));
            }
            reasons.push(Reason {
                requirement: v.index,
                requirement_type: v.requirement_type.clone(),
                signature: Some(s.index),
                message,
            });
        }
    }
    Decision {
        accepted: !verdicts.is_empty() && verdicts.iter().all(|v| v.accepted),
        image,
        scope: scope.to_string(),
        requirements: verdicts,
        reasons,
    }
}

fn allowed() -> RequirementVerdict {
    RequirementVerdict {
        index: 0,
        requirement_type: String::new(),
        accepted: true,
        error: None,
        signatures: Vec::new(),
    }
}

fn rejected(error: String) -> RequirementVerdict {
    RequirementVerdict {
        index: 0,
        requirement_type: String::new(),
        accepted: false,
        error: Some(error),
        signatures: Vec::new(),
    }
}

fn resource<'a>(input: &'a EvaluationInput, path: &str) -> Result<&'a [u8], String> {
    match input.resources.get(&ResourceRef(path.to_string())) {
        Some(Ok(bytes)) => Ok(bytes),
        Some(Err(e)) => Err(format!("reading {path}: {e}")),
        None => Err(format!("reading {path}: not fetched")),
    }
}

/// `loadBytesFromConfigSources`.
fn resolve_keys(input: &EvaluationInput, keys: &KeySource) -> Result<Vec<Vec<u8>>, String> {
    match keys {
        KeySource::Path(p) => Ok(vec![resource(input, p)?.to_vec()]),
        KeySource::Paths(ps) => ps
            .iter()
            .map(|p| resource(input, p).map(<[u8]>::to_vec))
            .collect(),
        KeySource::Data(d) => Ok(vec![d.clone()]),
        KeySource::Datas(ds) => Ok(ds.clone()),
    }
}

fn resolve_cert(input: &EvaluationInput, c: &CertSource) -> Result<Vec<u8>, String> {
    match c {
        CertSource::Path(p) => resource(input, p).map(<[u8]>::to_vec),
        CertSource::Data(d) => Ok(d.clone()),
    }
}

/// The summary error over per-signature rejections (`isRunningImageAllowed`).
fn summarize(mut v: RequirementVerdict, none_message: String) -> RequirementVerdict {
    if v.signatures.iter().any(|s| s.accepted) {
        v.accepted = true;
        return v;
    }
    let reasons: Vec<String> = v
        .signatures
        .iter()
        .map(|s| s.reason.clone().unwrap_or_default())
        .collect();
    v.accepted = false;
    v.error = Some(match reasons.len() {
        0 => none_message,
        1 => reasons.into_iter().next().unwrap_or_default(),
        _ => format!(
            "None of the signatures were accepted, reasons: {}",
            reasons.join("; ")
        ),
    });
    v
}

const NO_SIGNATURE: &str = "A signature was required, but no signature exists";

fn eval_signed_by(
    req: &SignedBy,
    input: &EvaluationInput,
    verifiers: &dyn SignatureVerifiers,
) -> RequirementVerdict {
    let keys = if req.key_type == KeyType::GpgKeys {
        match resolve_keys(input, &req.keys) {
            Ok(k) => Some(k),
            Err(e) => return rejected(e),
        }
    } else {
        None
    };
    let mut v = allowed();
    for (index, sig) in input.signatures.iter().enumerate() {
        let Signature::SimpleSigning(blob) = sig else {
            continue;
        };
        let mut sv = SignatureVerdict {
            index,
            accepted: false,
            signer: None,
            identity: None,
            reason: None,
            detail: None,
        };
        match &keys {
            None => {
                sv.reason = Some(format!(
                    r#"Unimplemented "keyType" value {:?}"#,
                    req.key_type.as_str()
                ));
            }
            Some(keys) if keys.is_empty() => sv.reason = Some("No public keys imported".into()),
            Some(keys) => match verifiers.verify_openpgp(blob, keys) {
                Err(e) => sv.reason = Some(e),
                Ok((fingerprint, payload)) => {
                    sv.signer = Some(fingerprint);
                    match parse_simple_signing_payload(&payload) {
                        Err(e) => sv.reason = Some(e),
                        Ok(p) => check_claims(&mut sv, &p, &req.signed_identity, input),
                    }
                }
            },
        }
        let accepted = sv.accepted;
        v.signatures.push(sv);
        if accepted {
            break; // One accepted signature is enough.
        }
    }
    summarize(v, NO_SIGNATURE.into())
}

/// Digest, then identity (containers/image's order); sets `accepted` when both hold.
fn check_claims(
    sv: &mut SignatureVerdict,
    p: &UntrustedPayload,
    identity: &crate::model::SignedIdentity,
    input: &EvaluationInput,
) {
    sv.identity = Some(p.docker_reference.clone());
    // UnparsedImage.Manifest: a digest reference must match the manifest it returned.
    if let Some(d) = input.image.docker_reference().and_then(|r| r.digest())
        && let Ok(expected) = parse_digest(d)
        && !expected.matches(&input.manifest)
    {
        sv.reason = Some(format!(
            "Manifest does not match provided manifest digest {expected}"
        ));
        return;
    }
    if !p.docker_manifest_digest.matches(&input.manifest) {
        sv.reason = Some(format!(
            "Signature for digest {} does not match",
            p.docker_manifest_digest
        ));
        return;
    }
    if let Err(detail) = identity.matches(&input.image, &p.docker_reference) {
        sv.reason = Some(format!(
            "Signature for identity {:?} is not accepted",
            p.docker_reference
        ));
        sv.detail = Some(detail);
        return;
    }
    sv.accepted = true;
}

fn resolve_sigstore_trust(
    req: &SigstoreSigned,
    input: &EvaluationInput,
) -> Result<ResolvedSigstoreTrust, String> {
    let root = match &req.trust {
        SigstoreTrust::PublicKeys(k) => ResolvedTrustRoot::PublicKeys(resolve_keys(input, k)?),
        SigstoreTrust::Fulcio(f) => ResolvedTrustRoot::Fulcio {
            ca_certificates_pem: resolve_cert(input, &f.ca)?,
            oidc_issuer: f.oidc_issuer.clone(),
            subject_email: f.subject_email.clone(),
        },
        SigstoreTrust::Pki(p) => ResolvedTrustRoot::Pki {
            ca_roots_pem: resolve_cert(input, &p.ca_roots)?,
            ca_intermediates_pem: match &p.ca_intermediates {
                Some(c) => Some(resolve_cert(input, c)?),
                None => None,
            },
            subject_email: p.subject_email.clone(),
            subject_hostname: p.subject_hostname.clone(),
        },
    };
    let rekor_public_keys = match &req.rekor_public_keys {
        Some(k) => Some(resolve_keys(input, k)?),
        None => None,
    };
    Ok(ResolvedSigstoreTrust {
        root,
        rekor_public_keys,
        now_unix: input.now_unix,
    })
}

fn eval_sigstore_signed(
    req: &SigstoreSigned,
    input: &EvaluationInput,
    verifiers: &dyn SignatureVerifiers,
) -> RequirementVerdict {
    let trust = match resolve_sigstore_trust(req, input) {
        Ok(t) => t,
        Err(e) => return rejected(e),
    };
    let mut v = allowed();
    let (mut non_sigstore, mut non_signature) = (0usize, 0usize);
    for (index, sig) in input.signatures.iter().enumerate() {
        let (mime_type, payload, annotations) = match sig {
            Signature::SimpleSigning(_) => {
                non_sigstore += 1;
                continue;
            }
            Signature::Sigstore {
                mime_type,
                payload,
                annotations,
            } => (mime_type, payload, annotations),
        };
        if mime_type != SIGSTORE_SIGNATURE_MIME_TYPE {
            non_signature += 1;
            continue;
        }
        let mut sv = SignatureVerdict {
            index,
            accepted: false,
            signer: None,
            identity: None,
            reason: None,
            detail: None,
        };
        if !annotations.contains_key(SIGSTORE_SIGNATURE_ANNOTATION) {
            sv.reason = Some(format!(
                "missing {SIGSTORE_SIGNATURE_ANNOTATION} annotation"
            ));
        } else {
            match verifiers.verify_sigstore(payload, annotations, &trust) {
                Err(e) => sv.reason = Some(e),
                Ok(()) => match parse_sigstore_payload(payload) {
                    Err(e) => sv.reason = Some(e),
                    Ok(p) => check_claims(&mut sv, &p, &req.signed_identity, input),
                },
            }
        }
        let accepted = sv.accepted;
        v.signatures.push(sv);
        if accepted {
            break;
        }
    }
    let none = if non_sigstore == 0 && non_signature == 0 {
        NO_SIGNATURE.to_string()
    } else {
        format!(
            "{NO_SIGNATURE} ({non_sigstore} non-sigstore signatures, {non_signature} sigstore non-signature attachments)"
        )
    };
    summarize(v, none)
}
