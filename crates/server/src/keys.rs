//! The service's use of the key backend: generating an operation's key and signing a
//! request's digest, off the async threads (PKCS#11 calls block).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signet_keys::{HashAlgorithm, KeyId, KeyType, SignaturePadding};

use crate::app::App;
use crate::error::{ApiError, ApiResult};

/// An operation's key: the backend's handle and the key type.
pub type OperationKey = (KeyId, KeyType);

/// Refuses a hash the key type does not sign with (before anyone approves the request).
pub fn check_hash(key: KeyType, hash: HashAlgorithm) -> ApiResult<()> {
    if key.hashes().contains(&hash) {
        return Ok(());
    }
    let allowed: Vec<&str> = key.hashes().iter().map(|h| h.as_str()).collect();
    Err(ApiError::bad_request(format!(
        "hashAlgorithm: {} keys sign {} digests, not {}",
        key.as_str(),
        allowed.join(" or "),
        hash.as_str()
    )))
}

/// Generates a key; returns its handle and the base64 DER SubjectPublicKeyInfo.
pub async fn generate(app: &App, label: String, key_type: KeyType) -> ApiResult<(KeyId, String)> {
    let backend = app.keys.clone();
    let result = tokio::task::spawn_blocking(move || {
        let id = backend.generate(&label, key_type)?;
        let public = backend.public_key(&id)?;
        Ok::<_, signet_keys::Error>((id, STANDARD.encode(public.to_spki_der())))
    })
    .await
    .map_err(|e| ApiError::internal("key generation", &e))?;
    Ok(result?)
}

/// How a signature is made: the RSA padding, and whether an ECDSA signature is returned as
/// fixed-size `r||s` instead of DER. Each applies to its key family only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignStyle {
    /// RSA padding (ECDSA keys ignore it).
    pub padding: SignaturePadding,
    /// ECDSA `r||s` (RSA signatures have one form).
    pub raw: bool,
}

impl SignStyle {
    /// The style a request's optional parameters ask for.
    pub fn of(options: &signet_workflow::options::SigningOptions) -> SignStyle {
        SignStyle {
            padding: options.padding().into(),
            raw: options.encoding() == signet_workflow::options::SignatureEncoding::Raw,
        }
    }
}

/// Signs `digest` with the key `id` (of type `key_type`) in `style`.
///
/// PKCS#11 calls block. RSA signatures (milliseconds of CPU) run on the blocking pool, at
/// most `signing_slots` at once; ECDSA signatures (tens of microseconds) run in place on the
/// worker (`block_in_place`), which spares two thread hand-offs per request.
pub async fn sign(
    app: &App,
    id: KeyId,
    key_type: KeyType,
    digest: Vec<u8>,
    hash: HashAlgorithm,
    style: SignStyle,
) -> Result<Vec<u8>, String> {
    let backend = app.keys.clone();
    let padding = style.padding;
    let result = if key_type.is_rsa() {
        let Ok(_slot) = app.signing_slots.acquire().await else {
            return Err("the service is shutting down".to_owned());
        };
        tokio::task::spawn_blocking(move || backend.sign_digest_with(&id, &digest, hash, padding))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "signing task failed");
                "the signing task failed".to_owned()
            })?
    } else if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(|| backend.sign_digest_with(&id, &digest, hash, padding))
    } else {
        // A single-threaded runtime (tests) cannot hand its other tasks away.
        backend.sign_digest_with(&id, &digest, hash, padding)
    };
    let result = match result {
        Ok(der) if style.raw && !key_type.is_rsa() => signet_keys::ecdsa_der_to_raw(&der, key_type),
        other => other,
    };
    result.map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        e.to_string()
    })
}
