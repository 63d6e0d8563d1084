//! `attach signature`: attach a signature made elsewhere (an HSM, a signing service) with its
//! payload, as `cosign attach signature` does — stored verbatim, without de-duplication.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result, bail};
use signet_sigstore::{SignatureLayer, annotations, gobase64, payload};

use crate::cli::RegistryArgs;
use crate::commands::sigwrite;
use crate::image::Session;

/// Arguments of `attach signature`.
pub struct AttachSignature {
    pub payload: Option<String>,
    pub signature: String,
    pub certificate: Option<String>,
    pub certificate_chain: Option<String>,
    pub registry: RegistryArgs,
    pub image: String,
}

fn read_signature(path: &str) -> Result<String> {
    let bytes = if path == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("reading the signature from standard input")?;
        b
    } else {
        std::fs::read(path).with_context(|| format!("reading signature {path}"))?
    };
    if bytes.is_empty() {
        bail!("empty signature");
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => bail!(
            "signature {path} is binary, not base64 text: encode it first (e.g. `base64 -w0 {path} > {path}.b64`)"
        ),
    };
    if gobase64::decode(&text).is_err() {
        bail!(
            "signature {path} is not valid base64: cosign stores base64 text (e.g. `base64 -w0 sig.der > sig.b64`)"
        );
    }
    Ok(text)
}

fn read_pem(path: &str, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} {path}"))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        bail!("{what} {path} contains no PEM certificate");
    }
    Ok(text)
}

/// Runs `attach signature`.
pub async fn signature(args: AttachSignature) -> Result<()> {
    let signature = read_signature(&args.signature)?;
    let session = Session::new(&args.registry)?;
    let target = session.open(&args.image)?;
    let resolved = target.resolve(false).await?;
    let payload = match &args.payload {
        Some(path) => std::fs::read(path).with_context(|| format!("reading payload {path}"))?,
        None => {
            eprintln!(
                "WARNING: using obsolete implied signature payload data (with digest {}); specify it explicitly with --payload instead",
                resolved.digest
            );
            payload::generate_payload_for(
                &target.docker_reference(),
                &resolved.digest,
                &BTreeMap::new(),
            )
        }
    };
    let mut layer = SignatureLayer::with_signature_text(payload, signature);
    if let Some(path) = &args.certificate {
        layer = layer.annotate(annotations::CERTIFICATE, read_pem(path, "certificate")?);
    }
    if let Some(path) = &args.certificate_chain {
        layer = layer.annotate(annotations::CHAIN, read_pem(path, "certificate chain")?);
    }
    sigwrite::append(&target.sig_store, &resolved.digest, &layer, None).await?;
    Ok(())
}
