//! `signedIdentity` matching (`signature/policy_reference_match.go`).

use crate::model::SignedIdentity;
use crate::reference::DockerReference;
use crate::scope::ImageName;

impl SignedIdentity {
    /// Whether a signature claiming `signature_docker_reference` is acceptable for `image`.
    /// `Err` explains the mismatch (the evaluation reports containers/image's
    /// `Signature for identity %q is not accepted` and keeps this as detail).
    pub fn matches(
        &self,
        image: &ImageName,
        signature_docker_reference: &str,
    ) -> Result<(), String> {
        let sig = || {
            DockerReference::parse_normalized(signature_docker_reference).map_err(|e| {
                format!("the signed identity {signature_docker_reference:?} is not a valid docker reference: {e}")
            })
        };
        let intended = || {
            image.docker_reference().ok_or_else(|| {
                format!(
                    "{} matching needs the image's docker reference, and this image has none",
                    self.type_name()
                )
            })
        };
        match self {
            SignedIdentity::MatchExact => {
                let intended = intended()?;
                let sig = sig()?;
                if intended.is_name_only() || sig.is_name_only() {
                    return Err("matchExact needs a tag or digest on both sides".into());
                }
                if sig.to_string() == intended.to_string() {
                    Ok(())
                } else {
                    Err(format!(
                        "matchExact: the signature names {sig}, the image is {intended}"
                    ))
                }
            }
            SignedIdentity::MatchRepoDigestOrExact => {
                let intended = intended()?;
                let sig = sig()?;
                match_repo_digest_or_exact(intended, &sig)
            }
            SignedIdentity::MatchRepository => {
                let intended = intended()?;
                let sig = sig()?;
                if sig.name() == intended.name() {
                    Ok(())
                } else {
                    Err(format!(
                        "matchRepository: the signature names repository {}, the image is in {}",
                        sig.name(),
                        intended.name()
                    ))
                }
            }
            SignedIdentity::ExactReference { docker_reference } => {
                let wanted = DockerReference::parse_normalized(docker_reference)
                    .map_err(|e| format!("invalid dockerReference {docker_reference:?}: {e}"))?;
                let sig = sig()?;
                if wanted.is_name_only() || sig.is_name_only() {
                    return Err("exactReference needs a tag or digest on both sides".into());
                }
                if sig.to_string() == wanted.to_string() {
                    Ok(())
                } else {
                    Err(format!(
                        "exactReference: the signature names {sig}, the policy requires {wanted}"
                    ))
                }
            }
            SignedIdentity::ExactRepository { docker_repository } => {
                let wanted = DockerReference::parse_normalized(docker_repository)
                    .map_err(|e| format!("invalid dockerRepository {docker_repository:?}: {e}"))?;
                let sig = sig()?;
                if sig.name() == wanted.name() {
                    Ok(())
                } else {
                    Err(format!(
                        "exactRepository: the signature names repository {}, the policy requires {}",
                        sig.name(),
                        wanted.name()
                    ))
                }
            }
            SignedIdentity::RemapIdentity {
                prefix,
                signed_prefix,
            } => {
                let intended = intended()?;
                let sig = sig()?;
                let remapped = remap_reference_prefix(intended, prefix, signed_prefix)?;
                match_repo_digest_or_exact(&remapped, &sig)
                    .map_err(|e| format!("remapIdentity ({intended} as {remapped}): {e}"))
            }
        }
    }
}

/// `matchRepoDigestOrExactReferenceValues`.
fn match_repo_digest_or_exact(
    intended: &DockerReference,
    sig: &DockerReference,
) -> Result<(), String> {
    if sig.is_name_only() {
        return Err(format!("the signature names {sig} without a tag or digest"));
    }
    if intended.tag().is_some() {
        // Includes an image reference with both a tag and a digest.
        if sig.to_string() == intended.to_string() {
            Ok(())
        } else {
            Err(format!(
                "the image is pulled by tag as {intended}, the signature names {sig}"
            ))
        }
    } else if intended.digest().is_some() {
        if sig.name() == intended.name() {
            Ok(())
        } else {
            Err(format!(
                "the image is pulled by digest from {}, the signature names repository {}",
                intended.name(),
                sig.name()
            ))
        }
    } else {
        Err(format!(
            "the image reference {intended} has neither tag nor digest"
        ))
    }
}

/// `prmRemapIdentity.remapReferencePrefix`: if the image name equals `prefix` or lies below
/// `prefix/`, the first occurrence of `prefix` in the full reference string is replaced by
/// `signed_prefix` and re-parsed with `ParseNamed` (must be canonical).
fn remap_reference_prefix(
    r: &DockerReference,
    prefix: &str,
    signed_prefix: &str,
) -> Result<DockerReference, String> {
    let name = r.name();
    let matches = match name.len().cmp(&prefix.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => name == prefix,
        std::cmp::Ordering::Greater => {
            name.starts_with(prefix) && name.as_bytes().get(prefix.len()) == Some(&b'/')
        }
    };
    if !matches {
        return Ok(r.clone());
    }
    let s = r.to_string();
    let rewritten = s.replacen(prefix, signed_prefix, 1);
    DockerReference::parse_named(&rewritten)
        .map_err(|e| format!("error rewriting reference from {s:?} to {rewritten:?}: {e}"))
}
