//! What a signing request asks to sign.
//!
//! Either a base64 digest with its hash algorithm (the reference client's `-p DIGEST -H
//! SHA256`; its length is checked against the algorithm), or the full cosign payload (`cosign
//! generate` output), from which the digest is computed here and the image identity
//! (`critical.identity.docker-reference`) is read and checked against the operation's
//! `allowedRepositories`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::product::{ProductOperation, repository_matches};
use crate::wire::wire_enum;
use crate::{Error, Result};

wire_enum! {
    /// The hash algorithm of a digest (`-H`). `NONE` (ML-DSA) is not supported.
    HashAlgorithm, "hash algorithm", unsupported: ["NONE"],
    {
        /// SHA-256 (32 bytes).
        Sha256 = "SHA256",
        /// SHA-384 (48 bytes).
        Sha384 = "SHA384",
        /// SHA-512 (64 bytes).
        Sha512 = "SHA512",
    }
}

impl HashAlgorithm {
    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The digest of `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Parses the name, as the [`Error::InvalidHashAlgorithm`] error.
    pub fn parse_name(value: &str) -> Result<HashAlgorithm> {
        HashAlgorithm::parse(value).map_err(|message| Error::InvalidHashAlgorithm { message })
    }
}

/// What the requester submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestInput {
    /// A base64 digest and its algorithm.
    Digest {
        /// Standard base64 (with padding) of the digest bytes.
        digest: String,
        /// The algorithm that produced it.
        algorithm: HashAlgorithm,
    },
    /// A cosign simple-signing payload; its digest is computed with `algorithm`.
    CosignPayload {
        /// The exact payload bytes that will be attached next to the signature.
        payload: Vec<u8>,
        /// The algorithm to digest it with.
        algorithm: HashAlgorithm,
    },
}

/// The image a cosign payload names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageIdentity {
    /// `critical.identity.docker-reference` as written.
    pub docker_reference: String,
    /// The repository: the reference without tag or digest.
    pub repository: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
}

/// A validated signing input: what the key will sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningInput {
    /// The hash algorithm.
    pub algorithm: HashAlgorithm,
    /// Standard base64 of the digest bytes (length checked).
    pub digest: String,
    /// The image, when a cosign payload was submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageIdentity>,
}

impl SigningInput {
    /// The digest bytes.
    pub fn digest_bytes(&self) -> Result<Vec<u8>> {
        decode_digest(&self.digest, self.algorithm)
    }
}

fn decode_digest(digest: &str, algorithm: HashAlgorithm) -> Result<Vec<u8>> {
    if digest.is_empty() {
        return Err(Error::DigestNotBase64 {
            detail: "it is empty".to_owned(),
        });
    }
    let bytes = STANDARD
        .decode(digest)
        .map_err(|e| Error::DigestNotBase64 {
            detail: e.to_string(),
        })?;
    if bytes.len() != algorithm.digest_len() {
        return Err(Error::InvalidDigestSize {
            algorithm,
            expected: algorithm.digest_len(),
            actual: bytes.len(),
        });
    }
    Ok(bytes)
}

/// The simple-signing payload type cosign writes.
pub const COSIGN_PAYLOAD_TYPE: &str = "cosign container image signature";

/// Validates the input for `op`: the digest's encoding and length, or the payload's
/// structure and image identity against `allowedRepositories`. An operation with
/// `allowedRepositories` refuses bare digests: they name no image.
pub fn validate_input(input: &DigestInput, op: &ProductOperation) -> Result<SigningInput> {
    match input {
        DigestInput::Digest { digest, algorithm } => {
            if op.allowed_repositories.is_some() {
                return Err(Error::ImageIdentityRequired {
                    operation: op.name.clone(),
                });
            }
            decode_digest(digest, *algorithm)?;
            Ok(SigningInput {
                algorithm: *algorithm,
                digest: digest.clone(),
                image: None,
            })
        }
        DigestInput::CosignPayload { payload, algorithm } => {
            let image = parse_cosign_payload(payload)?;
            if let Some(allowed) = &op.allowed_repositories
                && !allowed
                    .iter()
                    .any(|prefix| repository_matches(prefix, &image.repository))
            {
                return Err(Error::RepositoryNotAllowed {
                    repository: image.repository,
                    operation: op.name.clone(),
                    allowed: allowed.clone(),
                });
            }
            Ok(SigningInput {
                algorithm: *algorithm,
                digest: STANDARD.encode(algorithm.hash(payload)),
                image: Some(image),
            })
        }
    }
}

fn payload_error(reason: impl Into<String>) -> Error {
    Error::InvalidPayload {
        reason: reason.into(),
    }
}

/// Reads the image identity out of a cosign simple-signing payload, checking the fields a
/// verifier relies on: `critical.type`, `critical.identity.docker-reference` and
/// `critical.image.docker-manifest-digest` (`sha256:` or `sha512:` and lowercase hex).
pub fn parse_cosign_payload(payload: &[u8]) -> Result<ImageIdentity> {
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| payload_error(e.to_string()))?;
    let critical = value
        .get("critical")
        .and_then(|c| c.as_object())
        .ok_or_else(|| payload_error("critical: missing or not an object"))?;
    let kind = critical
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| payload_error("critical.type: missing or not a string"))?;
    if kind != COSIGN_PAYLOAD_TYPE {
        return Err(payload_error(format!(
            "critical.type: \"{kind}\" is not \"{COSIGN_PAYLOAD_TYPE}\""
        )));
    }
    let reference = critical
        .get("identity")
        .and_then(|i| i.get("docker-reference"))
        .and_then(|r| r.as_str())
        .ok_or_else(|| {
            payload_error("critical.identity.docker-reference: missing or not a string")
        })?;
    if reference.is_empty() || reference.chars().any(char::is_whitespace) {
        return Err(payload_error(format!(
            "critical.identity.docker-reference: \"{reference}\" is not a reference"
        )));
    }
    let manifest_digest = critical
        .get("image")
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(|d| d.as_str())
        .ok_or_else(|| {
            payload_error("critical.image.docker-manifest-digest: missing or not a string")
        })?;
    let digest_ok = match manifest_digest.split_once(':') {
        Some(("sha256", hex)) => is_lower_hex(hex, 64),
        Some(("sha512", hex)) => is_lower_hex(hex, 128),
        _ => false,
    };
    if !digest_ok {
        return Err(payload_error(format!(
            "critical.image.docker-manifest-digest: \"{manifest_digest}\" is not a digest"
        )));
    }
    Ok(ImageIdentity {
        docker_reference: reference.to_owned(),
        repository: repository_of(reference).to_owned(),
        manifest_digest: manifest_digest.to_owned(),
    })
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The repository part of a reference: without `@digest` and without a `:tag` in the last
/// path component (a registry port stays).
pub fn repository_of(reference: &str) -> &str {
    let without_digest = reference.split_once('@').map_or(reference, |(r, _)| r);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].find(':') {
        Some(colon) => &without_digest[..last_slash + colon],
        None => without_digest,
    }
}
