//! `verify --key`: fetch the `.sig` signature image of each image's digest and its payload
//! blobs, hand them to `signet_sigstore::verify_signatures`, and print what cosign prints.
//! Requests for an anonymous registry: tag HEAD (none for a digest reference), the `.sig`
//! manifest, one GET per signature payload (fetched concurrently).

use std::io::Write;

use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use futures::future::join_all;
use signet_crypto::PublicKey;
use signet_oci::Manifest;
use signet_pki::cert::Certificate;
use signet_pki::identity::{IdentityPolicy, Matcher};
use signet_sigstore::verify::Verified;
use signet_sigstore::verify::{Candidate, is_signature_layer};
use signet_sigstore::{CertificatePolicy, Verifier};
use signet_sigstore::{VerifyOptions, annotations, verify_signatures};

use crate::cli::{OutputFormat, VerifyArgs};
use crate::commands::sigwrite::MAX_PAYLOAD_BYTES;
use crate::image::Session;
use crate::keyref;

/// The verifier the flags ask for: `--key`, or certificates chained to the given roots with
/// the expected identity (cosign's checks and error texts for missing flags).
enum Trust {
    Key(PublicKey),
    Certificates(Box<CertificatePolicy>),
}

impl Trust {
    fn verifier(&self) -> Verifier<'_> {
        match self {
            Trust::Key(k) => Verifier::Key(k),
            Trust::Certificates(p) => Verifier::Certificate(p),
        }
    }
}

fn read_bundle(path: &str, what: &str) -> Result<Vec<Certificate>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} {path}"))?;
    Certificate::parse_pem_bundle(&text).with_context(|| format!("reading {what} {path}"))
}

fn trust(args: &VerifyArgs) -> Result<Trust> {
    let identity_given =
        args.certificate_identity.is_some() || args.certificate_identity_regexp.is_some();
    if let Some(key) = &args.key {
        if identity_given {
            bail!("--key and --certificate-identity(-regexp) cannot be used together");
        }
        return Ok(Trust::Key(keyref::load_public(key)?));
    }
    let subject = match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
    ) {
        (Some(s), _) => Matcher::Exact(s.clone()),
        (None, Some(r)) => Matcher::regex(r)?,
        (None, None) => bail!(
            "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"
        ),
    };
    let issuer = match (
        &args.certificate_oidc_issuer,
        &args.certificate_oidc_issuer_regexp,
    ) {
        (Some(s), _) => Matcher::Exact(s.clone()),
        (None, Some(r)) => Matcher::regex(r)?,
        (None, None) => bail!(
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
        ),
    };
    let (roots, mut intermediates) = match (&args.certificate_chain, &args.ca_roots) {
        (Some(path), _) => {
            let mut chain = read_bundle(path, "certificate chain")?;
            let root = chain.pop().context("empty certificate chain")?;
            (vec![root], chain)
        }
        (None, Some(path)) => (read_bundle(path, "CA roots")?, Vec::new()),
        (None, None) => bail!(
            "no trusted root: pass --certificate-chain (intermediates, then the root) or --ca-roots (signet uses no Fulcio or TUF root)"
        ),
    };
    if let Some(path) = &args.ca_intermediates {
        intermediates.extend(read_bundle(path, "CA intermediates")?);
    }
    let leaf = match &args.certificate {
        None => None,
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading certificate {path}"))?;
            Some(
                Certificate::parse_any(&bytes)
                    .with_context(|| format!("reading certificate {path}"))?,
            )
        }
    };
    Ok(Trust::Certificates(Box::new(CertificatePolicy {
        roots,
        intermediates,
        leaf,
        identity: IdentityPolicy { subject, issuer },
        ignore_sct: args.insecure_ignore_sct,
        at: SystemTime::now(),
    })))
}

/// The payload JSON cosign prints for a verified signature: certificate details are added
/// to `optional` when the signature carries a certificate.
fn output_payload(v: &Verified) -> Vec<u8> {
    let mut payload = v.payload.clone();
    if let Some(cert) = &v.certificate {
        let optional = payload.optional.get_or_insert_with(Default::default);
        optional.insert("Subject".into(), cert.subject.clone().into());
        if let Some(issuer) = cert.issuer.as_ref().filter(|i| !i.is_empty()) {
            optional.insert("Issuer".into(), issuer.clone().into());
            optional.insert("1.3.6.1.4.1.57264.1.1".into(), issuer.clone().into());
        }
    }
    payload.to_go_json()
}

/// Runs `verify`.
pub async fn run(args: VerifyArgs) -> Result<()> {
    if let Some(policy) = &args.policy {
        return super::policy::verify(&args, policy).await;
    }
    let trust = trust(&args)?;
    let ann = annotations::parse_flags(&args.annotations)?;
    let ignore_tlog = args.insecure_ignore_tlog || args.private_infrastructure;
    if ignore_tlog {
        eprintln!(
            "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature."
        );
    }
    let rekor_keys = match &args.rekor_public_key {
        None => Vec::new(),
        Some(path) => vec![keyref::load_public(path).context("loading the Rekor public key")?],
    };
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
            rekor_keys: rekor_keys.clone(),
        };
        let verified = verify_signatures(&candidates, trust.verifier(), &options, foreign.len())?;

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
        if verified.iter().any(|v| v.tlog_entry.is_some()) {
            writeln!(
                err,
                "  - Existence of the claims in the transparency log was verified offline"
            )?;
        }
        match trust {
            Trust::Key(_) => writeln!(
                err,
                "  - The signatures were verified against the specified public key"
            )?,
            Trust::Certificates(_) => writeln!(
                err,
                "  - The code-signing certificate was verified using trusted certificate authority certificates"
            )?,
        }
        drop(err);

        let mut out = std::io::stdout().lock();
        match args.output {
            OutputFormat::Json => {
                let mut bytes = b"\n[".to_vec();
                for (i, v) in verified.iter().enumerate() {
                    if i > 0 {
                        bytes.push(b',');
                    }
                    bytes.extend(output_payload(v));
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
