//! `notation sign --timestamp-url URL --timestamp-root-cert FILE`: the RFC 3161 timestamp
//! authority client, as notation (`tspclient-go`'s HTTP timestamper, `internal/x509`'s
//! `NewRootCertPool`) does it.
//!
//! * The URL must be `http` or `https` with a host.
//! * The root file (PEM or DER) must hold exactly one certificate, a root: signed by its own
//!   key with a CA's constraints and self-issued ([`super::trust::check_root_ca`]).
//! * The request (`signet_notation::envelope::timestamp_request`: the signature bytes hashed
//!   with the signature algorithm's hash, a random nonce, certReq) is POSTed with
//!   `Content-Type: application/timestamp-query`, 15 s for the whole exchange (notation's
//!   `timestampingTimeout`); the answer must be `200` with `Content-Type:
//!   application/timestamp-reply` and a body under 1 MiB.
//! * The response must answer the request and the token must verify with a TSA chain to the
//!   root (`envelope::attach_timestamp_response`) before the envelope is written.
//!
//! notation also checks the revocation of the TSA chain when signing and fails when it is
//! unknown; signet has no OCSP or CRL client, so that check would refuse every public TSA
//! (they all name OCSP responders): signet prints a warning instead and leaves the check to
//! verification (see [`super::trust`]).

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use signet_notation::envelope::{self, EnvelopeType};
use signet_notation::timestamp::{self, VerifiedTimestamp};
use signet_pki::cert::Certificate;

use super::{trust, truststore};

/// notation's `timestampingTimeout`.
pub const TIMESTAMPING_TIMEOUT: Duration = Duration::from_secs(15);
/// tspclient-go's limit on a TSA response body.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The request media type (RFC 3161 section 3.4).
pub const TIMESTAMP_QUERY: &str = "application/timestamp-query";
/// The response media type (RFC 3161 section 3.4).
pub const TIMESTAMP_REPLY: &str = "application/timestamp-reply";

/// A timestamp authority reached over HTTP, with the root its tokens must chain to.
pub struct Tsa {
    client: reqwest::Client,
    url: String,
    /// The URL as messages show it: a password in it is replaced by `***`.
    shown: String,
    root: Certificate,
}

impl Tsa {
    /// Checks the URL and reads the root as notation does (its error texts).
    pub fn new(url: &str, root_path: &str) -> Result<Self> {
        let shown = signet_store::redact_url(url);
        let bad = |reason: String| {
            anyhow!("cannot get http timestamper for timestamping: endpoint {shown:?}: {reason}")
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(format!(
                "scheme must be http or https, but got {:?}",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad("host cannot be empty".to_owned()));
        }
        let root = read_root_certificate(root_path)?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("signet/", env!("CARGO_PKG_VERSION")))
            .timeout(TIMESTAMPING_TIMEOUT)
            .build()
            .context("cannot get http timestamper for timestamping")?;
        Ok(Tsa {
            client,
            url: url.to_owned(),
            shown,
            root,
        })
    }

    /// POSTs a DER TimeStampReq and returns the DER TimeStampResp (tspclient-go's checks and
    /// messages).
    pub async fn send(&self, request_der: &[u8]) -> Result<Vec<u8>> {
        let url = &self.shown;
        let mut response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, TIMESTAMP_QUERY)
            .body(request_der.to_vec())
            .send()
            .await
            .map_err(|e| anyhow!("POST {url:?}: {}", error_chain(&e.without_url())))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            bail!("POST {url:?}: https response bad status: {status}");
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if content_type != TIMESTAMP_REPLY {
            bail!("POST {url:?}: unexpected response content type: {content_type}");
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| anyhow!("POST {url:?}: {}", error_chain(&e.without_url())))?
        {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_RESPONSE_BYTES {
                bail!(
                    "POST {url:?}: unexpected large http response, max response body size allowed is {} MiB",
                    MAX_RESPONSE_BYTES / 1024 / 1024
                );
            }
        }
        Ok(body)
    }

    /// Timestamps a signed `notary.x509` envelope: asks the TSA for a token over its
    /// signature, checks the response answers the request and verifies the token with a TSA
    /// chain to the root, and returns the envelope with the token in its unprotected header.
    /// The TSA chain's revocation is checked offline and only warned about (see the module
    /// docs).
    pub async fn timestamp(
        &self,
        envelope_type: EnvelopeType,
        bytes: &[u8],
    ) -> Result<(Vec<u8>, VerifiedTimestamp)> {
        let nonce = timestamp::random_nonce()?;
        let request = envelope::timestamp_request(envelope_type, bytes, &nonce)?;
        let response = self.send(request.to_der()).await?;
        let (bytes, verified) = envelope::attach_timestamp_response(
            envelope_type,
            bytes,
            &request,
            &response,
            std::slice::from_ref(&self.root),
            SystemTime::now(),
            None,
        )?;
        if let Err(e) =
            trust::check_revocation_offline(&verified.tsa_chain, trust::ChainPurpose::Timestamping)
        {
            eprintln!(
                "Warning: the revocation of the timestamping certificate chain was not checked: {}",
                crate::exit::render(&e)
            );
        }
        Ok((bytes, verified))
    }
}

/// Reads `--timestamp-root-cert` as notation's `NewRootCertPool`: exactly one certificate
/// (PEM or DER), a root certificate.
pub fn read_root_certificate(path: &str) -> Result<Certificate> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("open {path}: {e}"))?;
    let certs = if bytes.is_empty() {
        Vec::new()
    } else {
        truststore::parse_certificates(&bytes).map_err(|e| anyhow!("{path}: {e}"))?
    };
    const EXPECTING: &str =
        "Expecting single x509 root certificate in PEM or DER format from the file";
    let cert = match <[Certificate; 1]>::try_from(certs) {
        Ok([cert]) => cert,
        Err(certs) if certs.is_empty() => {
            bail!("cannot find any certificate from {path:?}. {EXPECTING}")
        }
        Err(_) => bail!("found more than one certificates from {path:?}. {EXPECTING}"),
    };
    trust::check_self_signed_ca(&cert).map_err(|reason| {
        anyhow!(
            "failed to check root certificate with error: certificate with subject {:?}: {reason}",
            cert.subject()
        )
    })?;
    if !cert.is_self_issued() {
        bail!("certificate from {path:?} is not a root certificate. {EXPECTING}");
    }
    Ok(cert)
}

/// An error with its sources, `: `-joined (reqwest's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Tsa;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        for url in ["ftp://tsa:s3cret@127.0.0.1/", "http://tsa:s3cret@/x"] {
            let err = Tsa::new(url, "/nonexistent").err().expect("refused");
            let text = format!("{err:#}");
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("tsa:***@"), "{text}");
        }
    }
}
