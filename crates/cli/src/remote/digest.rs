//! Signing a digest through the service, for client code that needs a bare signature over a
//! hash it computed itself (Notary Project signatures, the notation plugin,
//! `signet remote imagesigning add … --wait`).
//!
//! [`sign_digest`] posts a DigestSigning request with the hosted service's
//! `optionalParameters` (`signaturePadding`, `signatureEncoding`), waits through the
//! operation's approval rules ([`super::wait`]), downloads the signature, and checks it over
//! the digest with the certificate's key (DetachedSignature operations) or the operation's
//! public key, with the padding and encoding the request was stored with. [`resume`] does the
//! same for a request made earlier. A wait that runs out is [`TimedOut`] (the request stays
//! open: resume it by its id); a request that ends Rejected or Failed is [`NotSigned`] with
//! the service's reason.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Value, json};

use signet_keys::{HashAlgorithm, SignaturePadding};

use super::client::{Client, enc};
use super::state;
use super::wait::{self, Outcome, Progress};

/// Parses a hash name as the service writes it: `SHA256`, `SHA384` or `SHA512` (any case).
pub fn parse_hash(name: &str) -> Option<HashAlgorithm> {
    HashAlgorithm::ALL
        .into_iter()
        .find(|h| h.as_str().eq_ignore_ascii_case(name))
}

/// Parses a padding name as the service writes it: `PKCS_v1_5` or `PSS` (any case).
pub fn parse_padding(name: &str) -> Option<SignaturePadding> {
    [SignaturePadding::Pkcs1v15, SignaturePadding::Pss]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(name))
}

/// How an ECDSA signature is written (RSA signatures have one form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// ASN.1 DER (the service's default; what cosign stores).
    #[default]
    Der,
    /// Fixed-size big-endian `r||s` (what JWS and COSE carry).
    Raw,
}

impl Encoding {
    /// The service's name: `DER` or `RAW`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Der => "DER",
            Encoding::Raw => "RAW",
        }
    }

    /// Parses `DER` or `RAW` (any case).
    pub fn parse(name: &str) -> Option<Encoding> {
        [Encoding::Der, Encoding::Raw]
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(name))
    }
}

/// A digest to have signed.
#[derive(Debug, Clone)]
pub struct DigestRequest {
    /// The product (id or name).
    pub product: String,
    /// The operation (id or name): DigestSigning, or DetachedSignature to sign with the
    /// product's certificate and get it back with its chain.
    pub operation: String,
    /// The digest bytes (as long as `hash` says).
    pub digest: Vec<u8>,
    /// The hash that made them.
    pub hash: HashAlgorithm,
    /// RSA padding.
    pub padding: SignaturePadding,
    /// ECDSA encoding.
    pub encoding: Encoding,
    /// The request's name, for approvers.
    pub name: String,
    /// The request's description, for approvers.
    pub description: String,
}

impl DigestRequest {
    /// The `POST /imagesignings` body. `optionalParameters` names what differs from the
    /// service's defaults (so a plain request looks as it always did).
    pub fn body(&self) -> Value {
        let padding = (self.padding != SignaturePadding::default()).then_some(self.padding);
        let encoding = (self.encoding != Encoding::default()).then_some(self.encoding);
        digest_body(
            &BodyParts {
                name: &self.name,
                description: &self.description,
                product: &self.product,
                operation: &self.operation,
                hash: self.hash,
            },
            &base64_std(&self.digest),
            optional_parameters(padding, None, encoding),
        )
    }

    fn check(&self) -> Result<()> {
        if self.digest.len() != self.hash.output_len() {
            bail!(
                "the digest is {} bytes but {} digests are {}",
                self.digest.len(),
                self.hash.as_str(),
                self.hash.output_len()
            );
        }
        Ok(())
    }
}

/// A PSS salt length as `--salt-length` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaltLength {
    /// `hash`: as long as the digest.
    Hash,
    /// A number of bytes.
    Bytes(u32),
}

impl SaltLength {
    /// Parses `hash` or a number of bytes.
    pub fn parse(s: &str) -> Result<SaltLength, String> {
        if s.eq_ignore_ascii_case("hash") {
            return Ok(SaltLength::Hash);
        }
        s.parse::<u32>()
            .map(SaltLength::Bytes)
            .map_err(|_| format!("{s:?} is not a salt length (a number of bytes, or hash)"))
    }

    fn to_json(self) -> Value {
        match self {
            SaltLength::Hash => Value::from("hash"),
            SaltLength::Bytes(n) => Value::from(n),
        }
    }
}

/// The `optionalParameters` array for what is given (`None` when nothing is), in the order
/// signing-tool's flags list them.
pub fn optional_parameters(
    padding: Option<SignaturePadding>,
    salt_length: Option<SaltLength>,
    encoding: Option<Encoding>,
) -> Option<Value> {
    let mut out = Vec::new();
    if let Some(p) = padding {
        out.push(json!({"signaturePadding": p.as_str()}));
    }
    if let Some(s) = salt_length {
        out.push(json!({"saltLength": s.to_json()}));
    }
    if let Some(e) = encoding {
        out.push(json!({"signatureEncoding": e.as_str()}));
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// The fields of a digest request body besides the digest and the parameters.
pub(crate) struct BodyParts<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub product: &'a str,
    pub operation: &'a str,
    pub hash: HashAlgorithm,
}

/// The `POST /imagesignings` body of a digest (standard base64).
pub(crate) fn digest_body(
    parts: &BodyParts<'_>,
    digest_b64: &str,
    options: Option<Value>,
) -> Value {
    let mut body = json!({
        "name": parts.name,
        "description": parts.description,
        "productId": parts.product,
        "idProductOperation": parts.operation,
        "hashAlgorithm": parts.hash.as_str(),
        "digest": digest_b64,
    });
    if let Some(options) = options {
        body["optionalParameters"] = options;
    }
    body
}

fn base64_std(bytes: &[u8]) -> String {
    signet_sigstore::gobase64::encode(bytes)
}

/// A signed digest.
#[derive(Debug, Clone)]
pub struct SignedDigest {
    /// The signing request's id.
    pub request_id: String,
    /// The signature: RSA (PKCS#1 v1.5 or PSS as asked), or ECDSA (DER or `r||s` as asked).
    pub signature: Vec<u8>,
    /// DetachedSignature operations: the signing certificate (PEM).
    pub certificate_pem: Option<String>,
    /// DetachedSignature operations: the rest of the chain (PEM, one certificate each,
    /// intermediates first, root last).
    pub chain_pem: Vec<String>,
    /// The digest the service signed (checked against the request's for [`sign_digest`]).
    pub digest: Vec<u8>,
    /// Its hash.
    pub hash: HashAlgorithm,
    /// Whether the signature was checked with the certificate's or the operation's public key
    /// (false only when the caller may not read the operation's key).
    pub verified: bool,
    /// The service's last answer about the request (an ImageSigning, with
    /// `storedOptionalParameters`).
    pub request: Value,
}

/// The wait for approval ran out; the request stays open and can be resumed by its id.
#[derive(Debug, thiserror::Error)]
#[error(
    "signing request {request_id} is still {state} after {waited}: it stays open; once approved, resume it by its id"
)]
pub struct TimedOut {
    /// The request's id.
    pub request_id: String,
    /// Its state's name (e.g. `ApprovalRequired`).
    pub state: String,
    /// How long was waited, e.g. `30s`.
    pub waited: String,
}

/// The request ended Rejected or Failed; `reason` is the service's (the rejecting approver's
/// reason, or `errorStatus: errorDetail`).
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct NotSigned {
    /// The request's id.
    pub request_id: String,
    /// Why, in one sentence naming the request.
    pub reason: String,
}

/// Submits `req`, waits at most `timeout` for approval (a spinner or status lines on stderr
/// when `progress`), downloads the signature and checks it. Errors: [`TimedOut`],
/// [`NotSigned`], the service's own ([`super::error::ApiError`]), or a signature that does
/// not verify.
pub async fn sign_digest(
    client: &Client,
    req: &DigestRequest,
    timeout: Duration,
    progress: bool,
) -> Result<SignedDigest> {
    req.check()?;
    submit_and_wait(client, &req.body(), timeout, progress).await
}

/// Waits at most `timeout` for the earlier request `request_id`, then as [`sign_digest`].
pub async fn resume(
    client: &Client,
    request_id: &str,
    timeout: Duration,
    progress: bool,
) -> Result<SignedDigest> {
    finish(client, request_id, None, None, timeout, progress).await
}

/// Posts a digest request `body` (see [`digest_body`]) and continues as [`sign_digest`].
async fn submit_and_wait(
    client: &Client,
    body: &Value,
    timeout: Duration,
    progress: bool,
) -> Result<SignedDigest> {
    let expected = body
        .get("digest")
        .and_then(Value::as_str)
        .map(|d| signet_sigstore::gobase64::decode(d).context("the request's digest"))
        .transpose()?;
    let answer = client
        .post("/imagesignings", body)
        .await?
        .context("the service answered the signing request with no body")?;
    let Some(id) = answer.get("id").and_then(Value::as_str).map(str::to_owned) else {
        bail!("the service's answer to the signing request has no id");
    };
    if progress {
        eprintln!(
            "Signing request {id} created ({})",
            answer.get("state").map(state::name_of).unwrap_or_default()
        );
    }
    finish(client, &id, Some(answer), expected, timeout, progress).await
}

/// Waits for request `id` (`first`: an answer in hand), then fetches and checks the signature.
async fn finish(
    client: &Client,
    id: &str,
    first: Option<Value>,
    expected_digest: Option<Vec<u8>>,
    timeout: Duration,
    progress: bool,
) -> Result<SignedDigest> {
    let deadline = Instant::now() + timeout;
    let mut shown = if progress {
        Progress::new()
    } else {
        Progress::hidden()
    };
    let outcome = wait::until_done(client, id, first, deadline, &mut shown).await;
    shown.finish();
    match outcome? {
        Outcome::Ready(_) => {}
        Outcome::Finished(v) => bail!(NotSigned {
            request_id: id.to_owned(),
            reason: wait::failure_reason(&v),
        }),
        Outcome::TimedOut(v) => bail!(TimedOut {
            request_id: id.to_owned(),
            state: v.get("state").map(state::name_of).unwrap_or_default(),
            waited: humanize(timeout),
        }),
    }
    // Once more, with the parameters the request was stored with.
    let v = client
        .get(&format!(
            "/imagesignings/{}?includeOptionalParameters=true",
            enc(id)
        ))
        .await?;
    let hash = v
        .get("hashAlgorithm")
        .and_then(Value::as_str)
        .and_then(parse_hash)
        .with_context(|| format!("signing request {id} names no known hashAlgorithm"))?;
    let digest = v
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| signet_sigstore::gobase64::decode(d).ok())
        .with_context(|| format!("signing request {id} carries no base64 digest"))?;
    if let Some(want) = &expected_digest
        && *want != digest
    {
        bail!("the service signed another digest than requested in request {id}");
    }
    let (padding, encoding) = stored_style(&v);
    let signature = signature_of(client, &v).await?;
    let certificate_pem = text(&v, "certificate");
    let chain_pem = match text(&v, "chain") {
        Some(chain) => signet_pki::cert::Certificate::parse_pem_bundle(&chain)
            .with_context(|| format!("the certificate chain of signing request {id}"))?
            .iter()
            .map(|c| c.to_pem())
            .collect(),
        None => Vec::new(),
    };
    let key = match &certificate_pem {
        Some(pem) => Some(
            signet_pki::cert::Certificate::parse_any(pem.as_bytes())
                .and_then(|c| c.public_key())
                .with_context(|| format!("the certificate of signing request {id}"))?,
        ),
        None => operation_key(client, &v, "the signature is not checked").await,
    };
    if let Some(key) = &key {
        check_signature(key, hash, padding, encoding, &digest, &signature).with_context(|| {
            format!(
                "the signature of request {id} does not verify with {}",
                if certificate_pem.is_some() {
                    "its certificate's public key"
                } else {
                    "the operation's public key"
                }
            )
        })?;
    }
    Ok(SignedDigest {
        request_id: id.to_owned(),
        signature,
        certificate_pem,
        chain_pem,
        digest,
        hash,
        verified: key.is_some(),
        request: v,
    })
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The padding and encoding in a request's `storedOptionalParameters` (defaults otherwise).
fn stored_style(v: &Value) -> (SignaturePadding, Encoding) {
    let mut padding = SignaturePadding::default();
    let mut encoding = Encoding::default();
    for p in v
        .get("storedOptionalParameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(found) = p
            .get("signaturePadding")
            .and_then(Value::as_str)
            .and_then(parse_padding)
        {
            padding = found;
        }
        if let Some(found) = p
            .get("signatureEncoding")
            .and_then(Value::as_str)
            .and_then(Encoding::parse)
        {
            encoding = found;
        }
    }
    (padding, encoding)
}

/// The signature of a Ready request as raw bytes: the `signature` field, or
/// `GET /imagesignings/{id}/signature`.
pub async fn signature_of(client: &Client, v: &Value) -> Result<Vec<u8>> {
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    if let Some(b64) = v.get("signature").and_then(Value::as_str)
        && !b64.is_empty()
    {
        return signet_sigstore::gobase64::decode(b64)
            .with_context(|| format!("the signature of request {id} is not valid base64"));
    }
    client
        .get_bytes(
            &format!("/imagesignings/{}/signature", enc(id)),
            "application/octet-stream",
        )
        .await
}

/// The public key of the request's operation; `None` (with a warning ending in `consequence`,
/// e.g. "the signature is not checked") when the caller may not read it.
pub async fn operation_key(
    client: &Client,
    v: &Value,
    consequence: &str,
) -> Option<signet_crypto::PublicKey> {
    let product = v.get("idProduct").and_then(Value::as_str)?;
    let op = v.get("idProductOperation").and_then(Value::as_str)?;
    let path = format!(
        "/products/{}/operations/{}/publickey",
        enc(product),
        enc(op)
    );
    let key = client
        .get_bytes(&path, "application/x-pem-file")
        .await
        .and_then(|pem| {
            let text = String::from_utf8(pem).context("the public key is not PEM text")?;
            Ok(signet_crypto::PublicKey::from_pem(&text)?)
        });
    match key {
        Ok(k) => Some(k),
        Err(e) => {
            eprintln!(
                "WARNING: cannot read the operation's public key ({}); {consequence}",
                crate::exit::render(&e)
            );
            None
        }
    }
}

/// Checks `signature` over the precomputed `digest` with `key`, for the padding (RSA) or
/// encoding (ECDSA) it was made with.
pub fn check_signature(
    key: &signet_crypto::PublicKey,
    hash: HashAlgorithm,
    padding: SignaturePadding,
    encoding: Encoding,
    digest: &[u8],
    signature: &[u8],
) -> Result<()> {
    use signet_crypto::KeyType as K;
    let alg: &'static dyn VerificationAlgorithm = match (key.key_type(), hash) {
        (K::Rsa2048 | K::Rsa3072 | K::Rsa4096, _) => match (padding, hash) {
            (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
            (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
            (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
            (SignaturePadding::Pss, HashAlgorithm::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
            (SignaturePadding::Pss, HashAlgorithm::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
            (SignaturePadding::Pss, HashAlgorithm::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
        },
        (K::P256, HashAlgorithm::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (K::P384, HashAlgorithm::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (K::P384, HashAlgorithm::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        (K::P521, HashAlgorithm::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (K::P521, HashAlgorithm::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
        (other, _) => bail!(
            "a {other:?} key does not sign {} digests here",
            hash.as_str()
        ),
    };
    let width = match key.key_type() {
        K::P256 => Some(32),
        K::P384 => Some(48),
        K::P521 => Some(66),
        _ => None,
    };
    let der;
    let signature = match (width, encoding) {
        (Some(width), Encoding::Raw) => {
            der = raw_to_der(signature, width)
                .with_context(|| format!("an r||s signature of this key is {} bytes", 2 * width))?;
            der.as_slice()
        }
        _ => signature,
    };
    let digest = aws_lc_rs::digest::Digest::import_less_safe(digest, hash.aws_lc())
        .map_err(|_| anyhow::anyhow!("the digest is not a {} digest", hash.as_str()))?;
    UnparsedPublicKey::new(alg, key.to_spki_der())
        .verify_digest(&digest, signature)
        .map_err(|_| anyhow::anyhow!("invalid signature"))
}

/// A fixed-size `r||s` ECDSA signature (`width` bytes each) as ASN.1 DER; `None` when the
/// length is not `2 * width`.
fn raw_to_der(raw: &[u8], width: usize) -> Option<Vec<u8>> {
    if raw.len() != 2 * width {
        return None;
    }
    let integer = |half: &[u8]| {
        let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend(trimmed);
        let mut out = vec![0x02, u8::try_from(content.len()).unwrap_or(u8::MAX)];
        out.extend(content);
        out
    };
    let (r, s) = raw.split_at(width);
    let mut body = integer(r);
    body.extend(integer(s));
    let mut out = vec![0x30];
    let len = u8::try_from(body.len()).ok()?;
    if len >= 0x80 {
        out.push(0x81);
    }
    out.push(len);
    out.extend(body);
    Some(out)
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_only_what_differs_from_the_defaults() {
        let mut req = DigestRequest {
            product: "p".into(),
            operation: "o".into(),
            digest: vec![7; 48],
            hash: HashAlgorithm::Sha384,
            padding: SignaturePadding::Pkcs1v15,
            encoding: Encoding::Der,
            name: "n".into(),
            description: "d".into(),
        };
        let b = req.body();
        assert_eq!(b["hashAlgorithm"], "SHA384");
        assert_eq!(b["digest"], base64_std(&[7; 48]));
        assert_eq!(b["productId"], "p");
        assert_eq!(b["idProductOperation"], "o");
        assert!(b.get("optionalParameters").is_none(), "{b}");
        req.padding = SignaturePadding::Pss;
        req.encoding = Encoding::Raw;
        assert_eq!(
            req.body()["optionalParameters"],
            json!([{"signaturePadding": "PSS"}, {"signatureEncoding": "RAW"}])
        );
        req.digest.pop();
        let e = req.check().unwrap_err().to_string();
        assert!(e.contains("47 bytes but SHA384 digests are 48"), "{e}");
        assert_eq!(
            optional_parameters(None, Some(SaltLength::Hash), None),
            Some(json!([{"saltLength": "hash"}]))
        );
        assert_eq!(optional_parameters(None, None, None), None);
    }

    #[test]
    fn names_parse() {
        assert_eq!(parse_hash("sha512"), Some(HashAlgorithm::Sha512));
        assert_eq!(parse_hash("MD5"), None);
        assert_eq!(parse_padding("pss"), Some(SignaturePadding::Pss));
        assert_eq!(parse_padding("PKCS_v1_5"), Some(SignaturePadding::Pkcs1v15));
        assert_eq!(Encoding::parse("raw"), Some(Encoding::Raw));
        assert_eq!(SaltLength::parse("hash"), Ok(SaltLength::Hash));
        assert_eq!(SaltLength::parse("32"), Ok(SaltLength::Bytes(32)));
        assert!(SaltLength::parse("-1").is_err());
        let v = json!({"storedOptionalParameters": [{"signaturePadding": "PSS"}, {"saltLength": 32}, {"signatureEncoding": "RAW"}]});
        assert_eq!(stored_style(&v), (SignaturePadding::Pss, Encoding::Raw));
        assert_eq!(
            stored_style(&json!({})),
            (SignaturePadding::Pkcs1v15, Encoding::Der)
        );
    }

    #[test]
    fn signatures_are_checked_over_the_digest() {
        use signet_crypto::{KeyType, PrivateKey};
        // An ECDSA signature made here over the message verifies over its digest, in DER and
        // as r||s, and not with the wrong encoding or another digest.
        let key = PrivateKey::generate(KeyType::P256).unwrap();
        let message = b"payload";
        let der = key.sign(message).unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
        let public = key.public_key();
        let p = SignaturePadding::Pkcs1v15;
        check_signature(
            &public,
            HashAlgorithm::Sha256,
            p,
            Encoding::Der,
            digest.as_ref(),
            &der,
        )
        .unwrap();
        let other = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"other");
        assert!(
            check_signature(
                &public,
                HashAlgorithm::Sha256,
                p,
                Encoding::Der,
                other.as_ref(),
                &der
            )
            .is_err()
        );
        assert!(
            check_signature(
                &public,
                HashAlgorithm::Sha256,
                p,
                Encoding::Raw,
                digest.as_ref(),
                &der
            )
            .is_err()
        );
        assert!(
            check_signature(
                &public,
                HashAlgorithm::Sha512,
                p,
                Encoding::Der,
                &[0; 64],
                &der
            )
            .is_err()
        );
        // The same signature as r||s (from DER, here by hand).
        let raw = der_to_raw(&der, 32);
        check_signature(
            &public,
            HashAlgorithm::Sha256,
            p,
            Encoding::Raw,
            digest.as_ref(),
            &raw,
        )
        .unwrap();
        assert!(
            check_signature(
                &public,
                HashAlgorithm::Sha256,
                p,
                Encoding::Der,
                digest.as_ref(),
                &raw
            )
            .is_err()
        );
        assert!(
            check_signature(
                &public,
                HashAlgorithm::Sha256,
                p,
                Encoding::Raw,
                digest.as_ref(),
                &raw[1..]
            )
            .is_err()
        );
        // P-521: 66-byte halves, DER with a long-form length.
        let key = PrivateKey::generate(KeyType::P521).unwrap();
        let der = key.sign(message).unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, message);
        let raw = der_to_raw(&der, 66);
        check_signature(
            &key.public_key(),
            HashAlgorithm::Sha512,
            p,
            Encoding::Raw,
            digest.as_ref(),
            &raw,
        )
        .unwrap();
        assert_eq!(raw_to_der(&raw, 66).unwrap(), der);
    }

    /// DER `SEQUENCE { r, s }` to `r||s` (test helper, independent of `raw_to_der`).
    fn der_to_raw(der: &[u8], width: usize) -> Vec<u8> {
        let mut rest = if der[1] == 0x81 { &der[3..] } else { &der[2..] };
        let mut out = Vec::new();
        for _ in 0..2 {
            assert_eq!(rest[0], 0x02);
            let len = usize::from(rest[1]);
            let value = &rest[2..2 + len];
            let value = &value[value.len().saturating_sub(width)..];
            out.extend(std::iter::repeat_n(0u8, width - value.len()));
            out.extend_from_slice(value);
            rest = &rest[2 + len..];
        }
        out
    }
}
