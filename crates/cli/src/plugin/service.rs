//! The plugin's answers, from a signet signing service.
//!
//! The key id is `PRODUCT/OPERATION`: a product (id or name) and one of its DetachedSignature
//! operations, which sign with the key of the product's code-signing certificate and hand out
//! that certificate and its chain (notation puts them in the envelope). Plugin configuration
//! (`--plugin-config k=v` at `notation key add` or `notation sign`):
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `url` | the API URL, `http(s)://host[:port]/{org}/api/v1` | `$SIGNET_API` |
//! | `token_file` | a file holding the bearer token | `$SIGNET_TOKEN` (the token itself) |
//! | `timeout` | how long `generate-signature` waits for approval (`30s`, `10m`, `1h`) | `30m` |
//! | `skip_tls_verify` | `true` accepts any TLS certificate | `false` |
//!
//! `generate-signature` hashes the payload as asked, sends the digest as a signing request
//! (RSASSA-PSS with the hash length as salt for RSA keys, raw `r||s` for ECDSA), waits while
//! the operation's approval rules run, checks the signature with the certificate's key and
//! answers with the certificate chain, leaf first. Error codes: `ACCESS_DENIED` for 401/403
//! and rejected requests, `VALIDATION_ERROR` for a bad request or an unknown product or
//! operation, `TIMEOUT` when approval takes longer than `timeout` (the error's metadata names
//! the request id), `THROTTLED` for 429, `ERROR` otherwise.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use signet_notation::jws::{self, JwsAlgorithm};
use signet_pki::cert::Certificate;

use super::proto::{
    self, DescribeKeyRequest, DescribeKeyResponse, ErrorCode, ErrorResponse,
    GenerateSignatureRequest, GenerateSignatureResponse,
};
use crate::remote::client::{Client, Options, enc};
use signet_keys::SignaturePadding;

use crate::remote::digest::{self, DigestRequest, Encoding};
use crate::remote::error::ApiError;
use crate::remote::token::{Secret, TOKEN_ENV};

/// How long `generate-signature` waits for approval unless `timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The service and the operation behind a key id.
pub struct Target {
    client: Client,
    product: String,
    operation: String,
    timeout: Duration,
}

impl Target {
    /// The DetachedSignature operation `operation` of `product` at the service `client`
    /// talks to; `timeout` bounds the wait for approval.
    pub fn new(client: Client, product: &str, operation: &str, timeout: Duration) -> Target {
        Target {
            client,
            product: product.to_owned(),
            operation: operation.to_owned(),
            timeout,
        }
    }

    /// `PRODUCT/OPERATION`.
    pub fn key_id(&self) -> String {
        format!("{}/{}", self.product, self.operation)
    }
}

fn config_error(message: String) -> ErrorResponse {
    ErrorResponse::validation(message)
}

fn target(key_id: &str, config: &BTreeMap<String, String>) -> Result<Target, ErrorResponse> {
    if key_id.is_empty() {
        return Err(ErrorResponse::validation("keyId is required"));
    }
    let Some((product, operation)) = key_id
        .split_once('/')
        .filter(|(p, o)| !p.trim().is_empty() && !o.trim().is_empty())
    else {
        return Err(ErrorResponse::validation(format!(
            "keyId {key_id:?} is not PRODUCT/OPERATION"
        )));
    };
    for key in config.keys() {
        if !matches!(
            key.as_str(),
            "url" | "token_file" | "timeout" | "skip_tls_verify"
        ) {
            return Err(config_error(format!(
                "unknown plugin config {key:?} (known: url, token_file, timeout, skip_tls_verify)"
            )));
        }
    }
    let url = match config.get("url") {
        Some(u) => u.clone(),
        None => std::env::var(crate::commands::remote::API_ENV).map_err(|_| {
            config_error(
                "no service URL: set --plugin-config url=https://HOST/ORG/api/v1 (or SIGNET_API)"
                    .to_owned(),
            )
        })?,
    };
    let token = match config.get("token_file") {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| config_error(format!("token_file {path}: {e}")))?
            .trim()
            .to_owned(),
        None => std::env::var(TOKEN_ENV).map_err(|_| {
            config_error(format!(
                "no token: set --plugin-config token_file=FILE (or {TOKEN_ENV})"
            ))
        })?,
    };
    if token.is_empty() {
        return Err(config_error("the token is empty".to_owned()));
    }
    let timeout = match config.get("timeout") {
        Some(t) => {
            crate::remote::parse_duration(t).map_err(|e| config_error(format!("timeout: {e}")))?
        }
        None => DEFAULT_TIMEOUT,
    };
    let skip_tls_verify = match config.get("skip_tls_verify").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(config_error(format!(
                "skip_tls_verify: {other:?} is not true or false"
            )));
        }
    };
    let client = Client::new(
        &url,
        &token.parse::<Secret>().unwrap_or_else(|e| match e {}),
        Options {
            skip_tls_verify,
            debug: false,
        },
    )
    .map_err(|e| config_error(format!("{e:#}")))?;
    Ok(Target {
        client,
        product: product.trim().to_owned(),
        operation: operation.trim().to_owned(),
        timeout,
    })
}

/// Maps a client error to the protocol's codes.
fn service_error(context: &str, e: anyhow::Error) -> ErrorResponse {
    let code = match e.downcast_ref::<ApiError>().map(|a| a.status) {
        Some(401 | 403) => ErrorCode::AccessDenied,
        Some(400 | 404 | 409) => ErrorCode::ValidationError,
        Some(429) => ErrorCode::Throttled,
        Some(408 | 504) => ErrorCode::Timeout,
        _ => ErrorCode::Error,
    };
    ErrorResponse::new(code, format!("{context}: {e:#}"))
}

/// The algorithm of the certificate key a DetachedSignature operation signs with.
pub async fn key_spec(t: &Target) -> Result<JwsAlgorithm, ErrorResponse> {
    let product = t
        .client
        .get(&format!("/products/{}", enc(&t.product)))
        .await
        .map_err(|e| service_error(&format!("reading product {:?}", t.product), e))?;
    let op = product
        .get("productOperations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|o| {
            o.get("id").and_then(Value::as_str) == Some(t.operation.as_str())
                || o.get("name").and_then(Value::as_str) == Some(t.operation.as_str())
        })
        .ok_or_else(|| {
            ErrorResponse::validation(format!(
                "product {:?} has no operation {:?}",
                t.product, t.operation
            ))
        })?;
    let op_type = op
        .get("operationType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if op_type != "DetachedSignature" {
        return Err(ErrorResponse::validation(format!(
            "operation {:?} is a {op_type} operation: notation needs a certificate with the signature, so use a DetachedSignature operation",
            t.operation
        )));
    }
    // The service signs with the product's first ENDENTITY CodeSigning certificate.
    let key_type = product
        .get("caInfo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|ca| {
            ca.get("certificateType").and_then(Value::as_str) == Some("ENDENTITY")
                && ca.get("useCase").and_then(Value::as_str) == Some("CodeSigning")
        })
        .and_then(|ca| ca.get("keyType").and_then(Value::as_str))
        .ok_or_else(|| {
            ErrorResponse::validation(format!(
                "product {:?} has no ENDENTITY CodeSigning certificate",
                t.product
            ))
        })?;
    key_type
        .parse::<signet_keys::KeyType>()
        .ok()
        .and_then(|k| JwsAlgorithm::for_key_type(k.crypto_key_type()).ok())
        .ok_or_else(|| {
            ErrorResponse::validation(format!(
                "the certificate's key type {key_type} has no Notary Project signing algorithm"
            ))
        })
}

/// `describe-key`.
pub async fn describe_key(r: &DescribeKeyRequest) -> Result<DescribeKeyResponse, ErrorResponse> {
    let t = target(&r.key_id, &r.plugin_config)?;
    let alg = key_spec(&t).await?;
    Ok(DescribeKeyResponse {
        key_id: r.key_id.clone(),
        key_spec: proto::key_spec(alg).to_owned(),
    })
}

/// A description for approvers: the artifact a JWS payload names, when it is one.
fn describe_payload(payload: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let artifact = std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.split_once('.'))
        .and_then(|(_, body)| URL_SAFE_NO_PAD.decode(body).ok())
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
        .and_then(|v| {
            let target = v.get("targetArtifact")?;
            Some(format!(
                "{} ({})",
                target.get("digest")?.as_str()?,
                target.get("mediaType")?.as_str()?
            ))
        });
    match artifact {
        Some(a) => format!("Notary Project signature of {a}, requested through notation"),
        None => "Notary Project signature, requested through notation".to_owned(),
    }
}

/// `generate-signature`.
pub async fn generate_signature(
    r: &GenerateSignatureRequest,
) -> Result<GenerateSignatureResponse, ErrorResponse> {
    let t = target(&r.key_id, &r.plugin_config)?;
    let alg = proto::alg_of_key_spec(&r.key_spec).ok_or_else(|| {
        ErrorResponse::validation(format!(
            "keySpec {:?} is not one of RSA-2048, RSA-3072, RSA-4096, EC-256, EC-384, EC-521",
            r.key_spec
        ))
    })?;
    if r.hash_algorithm != proto::hash_name(alg) {
        return Err(ErrorResponse::validation(format!(
            "hashAlgorithm {:?} does not go with keySpec {} (expected {})",
            r.hash_algorithm,
            r.key_spec,
            proto::hash_name(alg)
        )));
    }
    let payload = proto::decode_field("payload", &r.payload)?;
    let actual = key_spec(&t).await?;
    if actual != alg {
        return Err(ErrorResponse::validation(format!(
            "keySpec {} does not match the key of {} ({})",
            r.key_spec,
            r.key_id,
            proto::key_spec(actual)
        )));
    }
    let (signature, chain) = sign_payload(&t, alg, &payload).await?;
    Ok(GenerateSignatureResponse {
        key_id: r.key_id.clone(),
        signature: proto::encode(&signature),
        signing_algorithm: proto::signing_algorithm(alg).to_owned(),
        certificate_chain: chain.iter().map(|c| proto::encode(c)).collect(),
    })
}

/// Has the service sign `payload` (hashed here with `alg`'s hash) and returns the envelope
/// signature (RSASSA-PSS bytes or ECDSA `r||s`), checked with the certificate's key by
/// [`digest::sign_digest`], and the certificate chain (DER, leaf first).
pub async fn sign_payload(
    t: &Target,
    alg: JwsAlgorithm,
    payload: &[u8],
) -> Result<(Vec<u8>, Vec<Vec<u8>>), ErrorResponse> {
    let hash = proto::hash_of(alg);
    let ecdsa = alg.ecdsa_raw_len().is_some();
    let request = DigestRequest {
        product: t.product.clone(),
        operation: t.operation.clone(),
        digest: hash.digest(payload),
        hash,
        padding: if ecdsa {
            SignaturePadding::Pkcs1v15
        } else {
            SignaturePadding::Pss
        },
        encoding: if ecdsa { Encoding::Raw } else { Encoding::Der },
        name: format!("notation {}", t.key_id()),
        description: describe_payload(payload),
    };
    let signed = digest::sign_digest(&t.client, &request, t.timeout, false)
        .await
        .map_err(|e| match e.downcast_ref::<digest::TimedOut>() {
            Some(timed_out) => ErrorResponse::new(ErrorCode::Timeout, format!("{e:#}"))
                .with("requestId", timed_out.request_id.clone()),
            None => match e.downcast_ref::<digest::NotSigned>() {
                Some(not) => ErrorResponse::new(ErrorCode::AccessDenied, format!("{e:#}"))
                    .with("requestId", not.request_id.clone()),
                None => service_error("signing through the service", e),
            },
        })?;
    let bad = |message: String| ErrorResponse::new(ErrorCode::Error, message);
    let mut chain = Vec::new();
    for pem in signed.certificate_pem.iter().chain(&signed.chain_pem) {
        chain.extend(Certificate::parse_pem_bundle(pem).map_err(|e| {
            bad(format!(
                "the service's certificate chain does not parse: {e}"
            ))
        })?);
    }
    if chain.is_empty() {
        return Err(bad(format!(
            "request {} came back without a certificate: is {} a DetachedSignature operation?",
            signed.request_id,
            t.key_id()
        )));
    }
    // remote::digest checked the signature over the digest with the certificate's key (with
    // the padding and encoding the request was stored with); the envelope checks it again.
    if !signed.verified {
        return Err(bad(format!(
            "the signature of request {} could not be checked with its certificate",
            signed.request_id
        )));
    }
    let mut signature = signed.signature;
    if let Some(raw_len) = alg.ecdsa_raw_len()
        && signature.len() != raw_len
    {
        // A DER signature (a service that ignores signatureEncoding): convert it.
        signature = jws::ecdsa_der_to_raw(&signature, raw_len / 2).ok_or_else(|| {
            bad("the service's ECDSA signature is neither r||s nor DER".to_owned())
        })?;
    }
    Ok((signature, chain.iter().map(|c| c.der().to_vec()).collect()))
}

/// A [`jws::JwsSigner`] over the service, for `signet notation sign --remote`: each signature
/// is a signing request (waiting through approval); the chain is learnt with it.
pub struct ServiceSigner {
    target: Target,
    alg: JwsAlgorithm,
    runtime: tokio::runtime::Handle,
    chain: std::sync::Mutex<Option<Vec<Vec<u8>>>>,
}

impl ServiceSigner {
    /// Asks the service for the operation's key type; must run inside a Tokio runtime.
    pub async fn open(target: Target) -> anyhow::Result<ServiceSigner> {
        let alg = key_spec(&target)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.error_message))?;
        Ok(ServiceSigner {
            target,
            alg,
            runtime: tokio::runtime::Handle::current(),
            chain: std::sync::Mutex::new(None),
        })
    }

    /// The algorithm of the operation's key.
    pub fn alg(&self) -> JwsAlgorithm {
        self.alg
    }

    /// The certificate chain (DER, leaf first) the last signature came with.
    pub fn chain(&self) -> Option<Vec<Vec<u8>>> {
        self.chain.lock().ok().and_then(|c| c.clone())
    }
}

impl jws::JwsSigner for ServiceSigner {
    fn algorithm(&self) -> Option<JwsAlgorithm> {
        Some(self.alg)
    }

    fn certificate_chain(&self) -> Option<Vec<Vec<u8>>> {
        self.chain()
    }

    fn sign(&self, alg: JwsAlgorithm, input: &[u8]) -> signet_notation::Result<Vec<u8>> {
        let failed = |reason: String| signet_notation::Error::SigningFailed {
            alg: alg.name().to_owned(),
            reason,
        };
        if alg != self.alg {
            return Err(failed(format!(
                "the operation's key signs {}",
                self.alg.name()
            )));
        }
        let (signature, chain) = super::blocking(|| {
            self.runtime
                .block_on(sign_payload(&self.target, alg, input))
        })
        .map_err(|e| {
            let id = e
                .error_metadata
                .get("requestId")
                .map(|id| format!(" (request {id})"))
                .unwrap_or_default();
            failed(format!("{}{id}", e.error_message))
        })?;
        if let Ok(mut slot) = self.chain.lock() {
            *slot = Some(chain);
        }
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_and_config() {
        let mut config = BTreeMap::new();
        config.insert(
            "url".to_owned(),
            "http://127.0.0.1:1/acme/api/v1".to_owned(),
        );
        let dir = std::env::temp_dir().join(format!("signet-plugin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "t0ken\n").unwrap();
        config.insert("token_file".to_owned(), token.display().to_string());
        let t = target("prod/op", &config).unwrap();
        assert_eq!((t.product.as_str(), t.operation.as_str()), ("prod", "op"));
        assert_eq!(t.timeout, DEFAULT_TIMEOUT);
        for bad in ["", "prod", "/op", "prod/", " / "] {
            let e = target(bad, &config).err().unwrap();
            assert_eq!(e.error_code, ErrorCode::ValidationError, "{bad}");
        }
        let mut c = config.clone();
        c.insert("colour".to_owned(), "blue".to_owned());
        assert!(
            target("p/o", &c)
                .err()
                .unwrap()
                .error_message
                .contains("colour")
        );
        let mut c = config.clone();
        c.insert("timeout".to_owned(), "soon".to_owned());
        assert!(
            target("p/o", &c)
                .err()
                .unwrap()
                .error_message
                .contains("timeout")
        );
        let mut c = config.clone();
        c.insert(
            "token_file".to_owned(),
            dir.join("missing").display().to_string(),
        );
        assert!(
            target("p/o", &c)
                .err()
                .unwrap()
                .error_message
                .contains("token_file")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn approvers_see_the_artifact() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = URL_SAFE_NO_PAD.encode(
            br#"{"targetArtifact":{"digest":"sha256:ab","mediaType":"application/vnd.oci.image.manifest.v1+json","size":1}}"#,
        );
        let d = describe_payload(format!("eyJ.{body}").as_bytes());
        assert!(
            d.contains("sha256:ab (application/vnd.oci.image.manifest.v1+json)"),
            "{d}"
        );
        assert!(describe_payload(b"\xa1cose").starts_with("Notary Project signature"));
    }
}
