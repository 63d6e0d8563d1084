//! The Notary Project plugin protocol (contract version 1.0) as notation speaks it: one
//! command name as the only argument, a JSON request on stdin, a JSON response on stdout and
//! exit 0; on failure exit 1 with an [`ErrorResponse`] on stderr. Only what the
//! `SIGNATURE_GENERATOR.RAW` capability needs is here: `get-plugin-metadata`,
//! `describe-key` and `generate-signature`. Unknown request attributes are ignored, as the
//! specification requires of plugins (minor contract versions may add them).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use signet_notation::jws::JwsAlgorithm;

/// The contract version signet's plugin speaks and the one notation sends.
pub const CONTRACT_VERSION: &str = "1.0";

/// The capability of a plugin that signs payloads given to it (notation builds the envelope).
pub const CAPABILITY_RAW: &str = "SIGNATURE_GENERATOR.RAW";

/// The commands of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `get-plugin-metadata`.
    GetPluginMetadata,
    /// `describe-key`.
    DescribeKey,
    /// `generate-signature`.
    GenerateSignature,
    /// `generate-envelope`.
    GenerateEnvelope,
    /// `verify-signature`.
    VerifySignature,
}

impl Command {
    /// Parses a command name.
    pub fn parse(name: &str) -> Option<Command> {
        Some(match name {
            "get-plugin-metadata" => Command::GetPluginMetadata,
            "describe-key" => Command::DescribeKey,
            "generate-signature" => Command::GenerateSignature,
            "generate-envelope" => Command::GenerateEnvelope,
            "verify-signature" => Command::VerifySignature,
            _ => return None,
        })
    }

    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::GetPluginMetadata => "get-plugin-metadata",
            Command::DescribeKey => "describe-key",
            Command::GenerateSignature => "generate-signature",
            Command::GenerateEnvelope => "generate-envelope",
            Command::VerifySignature => "verify-signature",
        }
    }
}

/// `get-plugin-metadata` request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRequest {
    /// Plugin configuration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plugin_config: BTreeMap<String, String>,
}

/// `get-plugin-metadata` response (every field required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataResponse {
    /// The plugin's name: its directory under `plugins/` and the executable's suffix.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The plugin's version.
    pub version: String,
    /// Where to read about it.
    pub url: String,
    /// Contract versions, one per major version.
    pub supported_contract_versions: Vec<String>,
    /// Capabilities, e.g. [`CAPABILITY_RAW`].
    pub capabilities: Vec<String>,
}

/// `describe-key` request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyRequest {
    /// The contract version.
    #[serde(default)]
    pub contract_version: String,
    /// The key's id (from the key's entry in signingkeys.json).
    #[serde(default)]
    pub key_id: String,
    /// Plugin configuration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plugin_config: BTreeMap<String, String>,
}

/// `describe-key` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyResponse {
    /// The key id of the request.
    pub key_id: String,
    /// `RSA-2048` … `EC-521`.
    pub key_spec: String,
}

/// `generate-signature` request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureRequest {
    /// The contract version.
    #[serde(default)]
    pub contract_version: String,
    /// The key's id.
    #[serde(default)]
    pub key_id: String,
    /// Plugin configuration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plugin_config: BTreeMap<String, String>,
    /// The key spec `describe-key` answered.
    #[serde(default)]
    pub key_spec: String,
    /// `SHA-256`, `SHA-384` or `SHA-512`: the plugin hashes the payload with it.
    #[serde(default)]
    pub hash_algorithm: String,
    /// Standard base64 of the bytes to sign (for JWS the signing input, itself base64url).
    #[serde(default)]
    pub payload: String,
}

/// `generate-signature` response (every field required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureResponse {
    /// The key id of the request.
    pub key_id: String,
    /// Standard base64 of the signature (RSASSA-PSS bytes, or ECDSA `r||s`).
    pub signature: String,
    /// `RSASSA-PSS-SHA-256` … `ECDSA-SHA-512`.
    pub signing_algorithm: String,
    /// Standard base64 of each certificate's DER, leaf first, root last.
    pub certificate_chain: Vec<String>,
}

/// The error codes of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A required field was empty, a value malformed, or the key was not found.
    ValidationError,
    /// The request's contract version is not supported.
    UnsupportedContractVersion,
    /// Authentication or authorization failed for the key.
    AccessDenied,
    /// The operation timed out (notation may retry).
    Timeout,
    /// The operation was throttled (notation may retry).
    Throttled,
    /// Anything else.
    Error,
}

/// The error document a plugin writes on stderr (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{error_message}")]
pub struct ErrorResponse {
    /// The error's category.
    pub error_code: ErrorCode,
    /// What went wrong, for people.
    pub error_message: String,
    /// Extra key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_metadata: BTreeMap<String, String>,
}

impl ErrorResponse {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorResponse {
        ErrorResponse {
            error_code: code,
            error_message: message.into(),
            error_metadata: BTreeMap::new(),
        }
    }

    /// A [`ErrorCode::ValidationError`].
    pub fn validation(message: impl Into<String>) -> ErrorResponse {
        ErrorResponse::new(ErrorCode::ValidationError, message)
    }

    /// Adds one metadata entry.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> ErrorResponse {
        self.error_metadata.insert(key.to_owned(), value.into());
        self
    }
}

/// The key spec names of the protocol for each signature algorithm, and back.
pub fn key_spec(alg: JwsAlgorithm) -> &'static str {
    match alg {
        JwsAlgorithm::Ps256 => "RSA-2048",
        JwsAlgorithm::Ps384 => "RSA-3072",
        JwsAlgorithm::Ps512 => "RSA-4096",
        JwsAlgorithm::Es256 => "EC-256",
        JwsAlgorithm::Es384 => "EC-384",
        JwsAlgorithm::Es512 => "EC-521",
    }
}

/// The algorithm of a key spec (`RSA-2048` … `EC-521`).
pub fn alg_of_key_spec(spec: &str) -> Option<JwsAlgorithm> {
    Some(match spec {
        "RSA-2048" => JwsAlgorithm::Ps256,
        "RSA-3072" => JwsAlgorithm::Ps384,
        "RSA-4096" => JwsAlgorithm::Ps512,
        "EC-256" => JwsAlgorithm::Es256,
        "EC-384" => JwsAlgorithm::Es384,
        "EC-521" => JwsAlgorithm::Es512,
        _ => return None,
    })
}

/// The protocol's hash algorithm name for a signature algorithm.
pub fn hash_name(alg: JwsAlgorithm) -> &'static str {
    match alg {
        JwsAlgorithm::Ps256 | JwsAlgorithm::Es256 => "SHA-256",
        JwsAlgorithm::Ps384 | JwsAlgorithm::Es384 => "SHA-384",
        JwsAlgorithm::Ps512 | JwsAlgorithm::Es512 => "SHA-512",
    }
}

/// The hash a signature algorithm signs with.
pub fn hash_of(alg: JwsAlgorithm) -> signet_keys::HashAlgorithm {
    use signet_keys::HashAlgorithm as H;
    match alg {
        JwsAlgorithm::Ps256 | JwsAlgorithm::Es256 => H::Sha256,
        JwsAlgorithm::Ps384 | JwsAlgorithm::Es384 => H::Sha384,
        JwsAlgorithm::Ps512 | JwsAlgorithm::Es512 => H::Sha512,
    }
}

/// The protocol's signing algorithm name for a signature algorithm.
pub fn signing_algorithm(alg: JwsAlgorithm) -> &'static str {
    match alg {
        JwsAlgorithm::Ps256 => "RSASSA-PSS-SHA-256",
        JwsAlgorithm::Ps384 => "RSASSA-PSS-SHA-384",
        JwsAlgorithm::Ps512 => "RSASSA-PSS-SHA-512",
        JwsAlgorithm::Es256 => "ECDSA-SHA-256",
        JwsAlgorithm::Es384 => "ECDSA-SHA-384",
        JwsAlgorithm::Es512 => "ECDSA-SHA-512",
    }
}

/// The signature algorithm a `signingAlgorithm` names.
pub fn alg_of_signing_algorithm(name: &str) -> Option<JwsAlgorithm> {
    [
        JwsAlgorithm::Ps256,
        JwsAlgorithm::Ps384,
        JwsAlgorithm::Ps512,
        JwsAlgorithm::Es256,
        JwsAlgorithm::Es384,
        JwsAlgorithm::Es512,
    ]
    .into_iter()
    .find(|a| signing_algorithm(*a) == name)
}

/// Decodes a standard-base64 field, naming it in the error.
pub fn decode_field(field: &str, value: &str) -> Result<Vec<u8>, ErrorResponse> {
    if value.is_empty() {
        return Err(ErrorResponse::validation(format!("{field} is required")));
    }
    STANDARD
        .decode(value)
        .map_err(|e| ErrorResponse::validation(format!("{field}: not base64: {e}")))
}

/// Standard base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in [
            JwsAlgorithm::Ps256,
            JwsAlgorithm::Ps384,
            JwsAlgorithm::Ps512,
            JwsAlgorithm::Es256,
            JwsAlgorithm::Es384,
            JwsAlgorithm::Es512,
        ] {
            assert_eq!(alg_of_key_spec(key_spec(alg)), Some(alg));
            assert_eq!(alg_of_signing_algorithm(signing_algorithm(alg)), Some(alg));
        }
        assert_eq!(alg_of_key_spec("RSA_2048"), None);
        assert_eq!(alg_of_signing_algorithm("RSASSA-PKCS1-SHA-256"), None);
    }

    #[test]
    fn error_document_shape() {
        let e = ErrorResponse::new(ErrorCode::AccessDenied, "no").with("requestId", "r1");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"errorCode": "ACCESS_DENIED", "errorMessage": "no", "errorMetadata": {"requestId": "r1"}})
        );
        let plain = serde_json::to_value(ErrorResponse::validation("x")).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"errorCode": "VALIDATION_ERROR", "errorMessage": "x"})
        );
    }

    #[test]
    fn requests_ignore_unknown_attributes() {
        let r: GenerateSignatureRequest = serde_json::from_str(
            r#"{"contractVersion":"1.0","keyId":"k","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":"YQ==","future":1}"#,
        )
        .unwrap();
        assert_eq!(r.key_id, "k");
        assert_eq!(decode_field("payload", &r.payload).unwrap(), b"a");
        assert!(decode_field("payload", "").is_err());
        assert!(decode_field("payload", "!!").is_err());
    }
}
