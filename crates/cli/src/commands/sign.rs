//! `sign`: resolve each image to a digest, sign the simple-signing payload with the key, and
//! append the signature to the image's `.sig` signature image, as `cosign sign --key` does
//! with `--tlog-upload=false`.

use std::io::Write;

use anyhow::{Context, Result, bail};
use signet_oci::{Digest, ImageIndex, media_types};
use signet_pki::cert::Certificate;
use signet_pki::chain::verify_code_signing;
use signet_sigstore::{SignatureLayer, annotations, payload};
use std::time::SystemTime;

use crate::cli::SignArgs;
use crate::commands::sigwrite;
use crate::image::{Session, Target};
use crate::keyref;

/// Runs `sign`.
pub async fn run(args: SignArgs) -> Result<()> {
    if args.new_bundle_format {
        bail!(
            "--new-bundle-format is not supported yet: signet stores signatures as .sig images (cosign's legacy format, verified by every cosign version); pass --new-bundle-format=false"
        );
    }
    if args.use_signing_config {
        bail!(
            "--use-signing-config needs a Fulcio/Rekor signing config, which signet does not use; pass --use-signing-config=false"
        );
    }
    if !args.upload && args.output_signature.is_none() && args.output_payload.is_none() {
        eprintln!(
            "WARNING: --upload=false without --output-signature or --output-payload: the signature is discarded"
        );
    }
    let ann = annotations::parse_flags(&args.annotations)?;
    let Some(key_ref) = args.key.clone() else {
        return super::policy::sign_openpgp(&args).await;
    };
    let key = keyref::load_private(&key_ref)?;
    if args.tlog_upload {
        // signet has no transparency log: signing always behaves as --tlog-upload=false.
        eprintln!(
            "Note: no transparency log is configured; signing without one (as --tlog-upload=false). Verify with --insecure-ignore-tlog."
        );
    }

    let session = Session::new(&args.registry)?;
    let public = key.public_key();
    let cert_annotations = certificate_annotations(&args, &public)?;

    let mut signatures = Vec::new();
    let mut payloads = Vec::new();
    for input in &args.images {
        let target = session.open(input)?;
        if target.is_tag() {
            eprintln!("{}", tag_warning(input));
        }
        let resolved = target.resolve(args.recursive).await?;
        let mut digests = vec![resolved.digest.clone()];
        if args.recursive
            && resolved
                .media_type
                .as_deref()
                .is_some_and(media_types::is_index)
        {
            digests.extend(children(&target, &resolved.digest).await?);
        }
        for digest in digests {
            let identity = args
                .sign_container_identity
                .clone()
                .unwrap_or_else(|| target.docker_reference());
            let bytes = payload::generate_payload_for(&identity, &digest, &ann);
            let signature = key.sign(&bytes).context("signing the payload")?;
            let mut layer = SignatureLayer::new(bytes.clone(), &signature);
            for (k, v) in &cert_annotations {
                layer = layer.annotate(k, v.clone());
            }
            if args.upload {
                eprintln!("Pushing signature to: {}", target.sig_repo_name);
                let dedup = |sig: &[u8]| public.verify(&bytes, sig).is_ok();
                sigwrite::append(&target.sig_store, &digest, &layer, Some(&dedup)).await?;
            }
            signatures.push(signet_sigstore::gobase64::encode(&signature));
            payloads.push(bytes);
        }
    }
    if let Some(path) = &args.output_signature {
        std::fs::write(path, signatures.join("\n")).with_context(|| format!("writing {path}"))?;
    }
    if let Some(path) = &args.output_payload {
        let mut f = std::fs::File::create(path).with_context(|| format!("creating {path}"))?;
        for (i, p) in payloads.iter().enumerate() {
            if i > 0 {
                f.write_all(b"\n")?;
            }
            f.write_all(p)?;
        }
    }
    Ok(())
}

/// The certificate and chain annotations for `--certificate` / `--certificate-chain`, after
/// checking that the certificate holds the signing key and that the chain validates it for
/// code signing now (cosign checks the same before signing). The certificate is stored as PEM
/// re-encoded (as `cosign sign` does), the chain as the file's bytes (cosign v1/v2).
fn certificate_annotations(
    args: &SignArgs,
    public: &signet_crypto::PublicKey,
) -> Result<Vec<(&'static str, String)>> {
    let Some(cert_path) = &args.certificate else {
        if args.certificate_chain.is_some() {
            bail!("--certificate-chain needs --certificate");
        }
        return Ok(Vec::new());
    };
    let bytes =
        std::fs::read(cert_path).with_context(|| format!("reading certificate {cert_path}"))?;
    let cert = Certificate::parse_any(&bytes)
        .with_context(|| format!("reading certificate {cert_path}"))?;
    if cert.public_key()? != *public {
        bail!(
            "the certificate {cert_path} ({}) does not hold the public key of --key {}: refusing to sign",
            cert.subject(),
            args.key.as_deref().unwrap_or_default()
        );
    }
    let chain_text = match &args.certificate_chain {
        None => String::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading certificate chain {path}"))?;
            let mut chain = Certificate::parse_pem_bundle(&text)
                .with_context(|| format!("reading certificate chain {path}"))?;
            let root = chain.pop().context("empty certificate chain")?;
            verify_code_signing(&cert, &chain, &[root], SystemTime::now()).with_context(|| {
                format!("the certificate chain {path} (issuer first, root last) does not validate {cert_path} for code signing")
            })?;
            text
        }
    };
    Ok(vec![
        (annotations::CERTIFICATE, cert.to_pem()),
        (annotations::CHAIN, chain_text),
    ])
}

async fn children(target: &Target, index_digest: &Digest) -> Result<Vec<Digest>> {
    let fetched = target
        .store
        .get_manifest(&index_digest.to_string())
        .await?
        .context("the image index disappeared while signing")?;
    let index = ImageIndex::from_slice(&fetched.bytes)?;
    Ok(index.manifests.into_iter().map(|d| d.digest).collect())
}

fn tag_warning(input: &str) -> String {
    format!(
        "WARNING: Image reference {input} uses a tag, not a digest, to identify the image to sign.\n    This can lead you to sign a different image than the intended one. Please use a\n    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n    images by tag will be removed in a future release.\n"
    )
}
