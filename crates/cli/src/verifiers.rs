//! The cryptography behind policy evaluation: `signet_policy` decides what must hold and
//! checks payload claims; this module verifies signatures for it — OpenPGP simple signing with
//! `signet_simple`, cosign signatures with keys, Rekor bundles, Fulcio or own-PKI certificates
//! with `signet_crypto`, `signet_sigstore::rekor` and `signet_pki` — using containers/image's
//! error texts.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signet_crypto::PublicKey;
use signet_pki::cert::Certificate;
use signet_pki::chain::verify_code_signing;
use signet_policy::{ResolvedSigstoreTrust, ResolvedTrustRoot, SignatureVerifiers};
use signet_sigstore::{annotations, gobase64, rekor};

/// Verifies signatures for [`signet_policy`] at a fixed time.
pub struct Verifiers {
    /// The evaluation time.
    pub now: SystemTime,
}

fn at_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn parse_keys(pems: &[Vec<u8>]) -> Result<Vec<PublicKey>, String> {
    pems.iter()
        .enumerate()
        .map(|(i, pem)| {
            let text = std::str::from_utf8(pem)
                .map_err(|_| format!("parsing public key {i}: not PEM text"))?;
            PublicKey::from_pem(text).map_err(|e| format!("parsing public key {i}: {e}"))
        })
        .collect()
}

fn pem_bundle(bytes: &[u8], what: &str) -> Result<Vec<Certificate>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{what}: not PEM text"))?;
    Certificate::parse_pem_bundle(text).map_err(|e| format!("{what}: {e}"))
}

/// The certificate annotation and the chain annotation minus its last element (which
/// containers/image, like cosign, assumes to be the root).
fn annotated_certificates(
    annotations_map: &BTreeMap<String, String>,
) -> Result<(Certificate, Vec<Certificate>), String> {
    let pem = annotations_map
        .get(annotations::CERTIFICATE)
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| format!("missing {} annotation", annotations::CERTIFICATE))?;
    let leaf =
        Certificate::parse_any(pem.as_bytes()).map_err(|e| format!("parsing certificate: {e}"))?;
    let mut chain = match annotations_map.get(annotations::CHAIN) {
        Some(c) if !c.trim().is_empty() => pem_bundle(c.as_bytes(), "parsing certificate chain")?,
        _ => Vec::new(),
    };
    chain.pop();
    Ok((leaf, chain))
}

fn hostname_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => pattern == host,
    }
}

impl SignatureVerifiers for Verifiers {
    fn verify_openpgp(
        &self,
        signature: &[u8],
        keys: &[Vec<u8>],
    ) -> Result<(String, Vec<u8>), String> {
        let keyring = signet_simple::Keyring::from_blobs(keys).map_err(|e| e.to_string())?;
        if keyring.is_empty() {
            return Err("No public keys imported".to_string());
        }
        let v = signet_simple::verify(signature, &keyring, self.now).map_err(|e| e.to_string())?;
        Ok((v.signer_fingerprint, v.payload))
    }

    fn verify_sigstore(
        &self,
        payload: &[u8],
        layer_annotations: &BTreeMap<String, String>,
        trust: &ResolvedSigstoreTrust,
    ) -> Result<(), String> {
        let signature_b64 = layer_annotations
            .get(annotations::SIGNATURE)
            .ok_or_else(|| format!("missing {} annotation", annotations::SIGNATURE))?;
        let signature =
            gobase64::decode(signature_b64).map_err(|e| format!("base64 decoding: {e}"))?;
        let rekor_keys = match &trust.rekor_public_keys {
            None => None,
            Some(pems) => Some(parse_keys(pems).map_err(|e| format!("Rekor {e}"))?),
        };
        let bundle = layer_annotations.get(annotations::BUNDLE);
        let check_bundle = |signer_pem: &str| -> Result<Option<i64>, String> {
            match &rekor_keys {
                None => Ok(None),
                Some(keys) => {
                    let bundle = bundle
                        .ok_or_else(|| format!("missing {} annotation", annotations::BUNDLE))?;
                    rekor::verify_bundle(bundle, keys, payload, signature_b64, signer_pem)
                        .map(|e| Some(e.integrated_time))
                        .map_err(|e| e.to_string())
                }
            }
        };
        let key = match &trust.root {
            ResolvedTrustRoot::PublicKeys(pems) => {
                let keys = parse_keys(pems)?;
                let candidates: Vec<&PublicKey> = if rekor_keys.is_some() {
                    // The SET vouches for exactly one key: the first that it names is used.
                    let vouched = keys.iter().find(|k| check_bundle(&k.to_pem()).is_ok());
                    match vouched {
                        Some(k) => vec![k],
                        None => {
                            let reason = keys
                                .first()
                                .map(|k| check_bundle(&k.to_pem()).err().unwrap_or_default())
                                .unwrap_or_default();
                            return Err(format!(
                                "No public key verified against the RekorSET: {reason}"
                            ));
                        }
                    }
                } else {
                    keys.iter().collect()
                };
                let mut errors = Vec::new();
                for k in candidates {
                    match k.verify(payload, &signature) {
                        Ok(_) => return Ok(()),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                return Err(format!(
                    "cryptographic signature verification failed: {}",
                    errors.join(", ")
                ));
            }
            ResolvedTrustRoot::Fulcio {
                ca_certificates_pem,
                oidc_issuer,
                subject_email,
            } => {
                let roots = pem_bundle(ca_certificates_pem, "parsing Fulcio CA certificates")?;
                let (leaf, intermediates) = annotated_certificates(layer_annotations)?;
                let integrated = check_bundle(&leaf.to_pem())?
                    .ok_or("Fulcio certificates need a Rekor public key")?;
                verify_code_signing(&leaf, &intermediates, &roots, at_unix(integrated))
                    .map_err(|e| format!("verifying leaf certificate failed: {e}"))?;
                let issuer = leaf.oidc_issuer().map_err(|e| e.to_string())?;
                if issuer.as_deref() != Some(oidc_issuer.as_str()) {
                    return Err(format!(
                        "Unexpected Fulcio OIDC issuer {:?}",
                        issuer.unwrap_or_default()
                    ));
                }
                let sans = leaf.subject_alt_names().map_err(|e| e.to_string())?;
                if !sans.emails.iter().any(|e| e == subject_email) {
                    return Err(format!(
                        "Required email {subject_email:?} not found (got {:?})",
                        sans.emails
                    ));
                }
                leaf.public_key().map_err(|e| e.to_string())?
            }
            ResolvedTrustRoot::Pki {
                ca_roots_pem,
                ca_intermediates_pem,
                subject_email,
                subject_hostname,
            } => {
                let roots = pem_bundle(ca_roots_pem, "parsing CA roots")?;
                let (leaf, mut intermediates) = annotated_certificates(layer_annotations)?;
                if let Some(pem) = ca_intermediates_pem {
                    intermediates.extend(pem_bundle(pem, "parsing CA intermediates")?);
                }
                verify_code_signing(&leaf, &intermediates, &roots, at_unix(trust.now_unix))
                    .map_err(|e| format!("verifying leaf certificate failed: {e}"))?;
                let sans = leaf.subject_alt_names().map_err(|e| e.to_string())?;
                if let Some(email) = subject_email
                    && !sans.emails.iter().any(|e| e == email)
                {
                    return Err(format!(
                        "Required email {email:?} not found (got {:?})",
                        sans.emails
                    ));
                }
                if let Some(host) = subject_hostname
                    && !sans.dns.iter().any(|d| hostname_matches(d, host))
                {
                    return Err(format!(
                        "Unexpected subject hostname: {host} is not among {:?}",
                        sans.dns
                    ));
                }
                leaf.public_key().map_err(|e| e.to_string())?
            }
        };
        key.verify(payload, &signature)
            .map(|_| ())
            .map_err(|e| format!("cryptographic signature verification failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(hostname_matches("registry.example", "REGISTRY.example"));
        assert!(hostname_matches("*.example", "a.example"));
        assert!(!hostname_matches("*.example", "a.b.example"));
        assert!(!hostname_matches("*.example", "example"));
    }
}
