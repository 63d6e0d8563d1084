//! `verify --key`: fetch the `.sig` signature image of each image's digest and its payload
//! blobs, hand them to `signet_sigstore::verify_signatures`, and print what cosign prints.
//! Requests for an anonymous registry: tag HEAD (none for a digest reference), the `.sig`
//! manifest, one GET per signature payload (fetched concurrently).

use std::io::Write;

use anyhow::{Context, Result};
use futures::future::join_all;
use signet_oci::Manifest;
use signet_sigstore::verify::{Candidate, is_signature_layer};
use signet_sigstore::{VerifyOptions, annotations, verify_signatures};

use crate::cli::{OutputFormat, VerifyArgs};
use crate::commands::sigwrite::MAX_PAYLOAD_BYTES;
use crate::image::Session;
use crate::keyref;

/// Runs `verify`.
pub async fn run(args: VerifyArgs) -> Result<()> {
    let key = keyref::load_public(&args.key)?;
    let ann = annotations::parse_flags(&args.annotations)?;
    let ignore_tlog = args.insecure_ignore_tlog || args.private_infrastructure;
    if ignore_tlog {
        eprintln!(
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature."
        );
    }
    let session = Session::new(&args.registry)?;
    for input in &args.images {
        let target = session.open(input)?;
        let resolved = target.resolve(false).await?;
        let tag = resolved.digest.tag_with_suffix("sig");
        let manifest = target
            .sig_store
            .get_manifest(&tag)
            .await
            .with_context(|| format!("fetching signatures of {input}"))?;
        let layers = match manifest {
            Some(m) => {
                Manifest::from_slice(&m.bytes)
                    .context("the signature manifest is malformed")?
                    .layers
            }
            None => Vec::new(),
        };
        let (sig_layers, foreign): (Vec<_>, Vec<_>) =
            layers.into_iter().partition(is_signature_layer);
        let store = &target.sig_store;
        let candidates: Vec<Candidate> = join_all(sig_layers.into_iter().map(|layer| async move {
            let payload = store
                .get_blob(&layer.digest, MAX_PAYLOAD_BYTES)
                .await
                .map_err(|e| e.to_string());
            Candidate { layer, payload }
        }))
        .await;
        let options = VerifyOptions {
            expected_digest: resolved.digest.clone(),
            annotations: ann.clone(),
            check_claims: args.check_claims,
            ignore_tlog,
        };
        let verified = verify_signatures(&candidates, &key, &options, foreign.len())?;

        let mut err = std::io::stderr().lock();
        writeln!(err)?;
        writeln!(err, "Verification for {} --", target.display_name())?;
        writeln!(
            err,
            "The following checks were performed on each of these signatures:"
        )?;
        if args.check_claims {
            if !ann.is_empty() {
                writeln!(err, "  - The specified annotations were verified.")?;
            }
            writeln!(err, "  - The cosign claims were validated")?;
        }
        writeln!(
            err,
            "  - The signatures were verified against the specified public key"
        )?;
        drop(err);

        let mut out = std::io::stdout().lock();
        match args.output {
            OutputFormat::Json => {
                let mut bytes = b"\n[".to_vec();
                for (i, v) in verified.iter().enumerate() {
                    if i > 0 {
                        bytes.push(b',');
                    }
                    bytes.extend(v.payload.to_go_json());
                }
                bytes.extend(b"]\n");
                out.write_all(&bytes)?;
            }
            OutputFormat::Text => {
                for v in &verified {
                    out.write_all(&v.raw_payload)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        out.flush()?;
    }
    Ok(())
}
