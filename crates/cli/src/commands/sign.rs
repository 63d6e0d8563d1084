//! `sign`: resolve each image to a digest, sign the simple-signing payload with the key, and
//! append the signature to the image's `.sig` signature image, as `cosign sign --key` does
//! with `--tlog-upload=false`. With `--remote` the signing service signs instead; when it
//! signs with a certificate (DetachedSignature operations), the certificate and its chain
//! are attached as `--certificate` / `--certificate-chain` attach them.
//!
//! `--key` may be a PKCS#11 URI (`pkcs11:…`): the payload is then signed on the token as
//! cosign signs with a PKCS#11 key (SHA-256; ECDSA DER or RSA PKCS#1 v1.5), and a certificate
//! stored next to the key is attached as if given with `--certificate`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use signet_oci::{Digest, ImageIndex, media_types};
use signet_pki::cert::Certificate;
use signet_pki::chain::verify_code_signing;
use signet_sigstore::{SignatureLayer, annotations, payload};
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::cli::SignArgs;
use crate::commands::remote as remote_cmd;
use crate::commands::sigwrite;
use crate::image::{Session, Target};
use crate::keyref;
use crate::remote::client::{Options, enc};
use crate::remote::error::{RequestFinished, RequestPending};
use crate::remote::state;
use crate::remote::wait::{self, Outcome, Progress};

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
    if args.remote.is_some() {
        return run_remote(args, ann).await;
    }
    let Some(key_ref) = args.key.clone() else {
        return super::policy::sign_openpgp(&args).await;
    };
    let key = keyref::load_signing(&key_ref)?;
    if args.tlog_upload {
        // signet has no transparency log: signing always behaves as --tlog-upload=false.
        eprintln!(
            "Note: no transparency log is configured; signing without one (as --tlog-upload=false). Verify with --insecure-ignore-tlog."
        );
    }

    let session = Session::new(&args.registry)?;
    let public = key.public_key();
    let cert_annotations = certificate_annotations(&args, &key, &public)?;

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
    write_outputs(&args, &signatures, &payloads)
}

/// `--output-signature` and `--output-payload`: one line per signature / payload.
fn write_outputs(args: &SignArgs, signatures: &[String], payloads: &[Vec<u8>]) -> Result<()> {
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

/// One image digest being signed through the service.
struct RemoteJob {
    input: String,
    resume_ref: String,
    sig_store: signet_registry::Store,
    sig_repo_name: String,
    digest: Digest,
    payload: Vec<u8>,
    id: String,
    first: Option<Value>,
}

/// `sign --remote`: for each image, the payload `sign` would sign goes to the service as a
/// signing request (or, with `--request`, an existing request is resumed); then each request
/// is waited for until Ready, and its signature is checked against the operation's public key
/// and attached as `attach signature` would.
async fn run_remote(args: SignArgs, ann: BTreeMap<String, String>) -> Result<()> {
    let api = args.remote.clone().unwrap_or_default();
    // COSIGN_KEY in the environment is ignored with --remote; an explicit --key is a mistake.
    if let Some(key) = &args.key
        && std::env::var("COSIGN_KEY").ok().as_deref() != Some(key.as_str())
    {
        bail!("--key and --remote exclude each other: the service holds the signing key");
    }
    if args.request.is_none() && (args.product.is_none() || args.operation.is_none()) {
        bail!("--remote needs --product and --operation (or --request ID to resume a request)");
    }
    if args.request.is_some() && (args.images.len() != 1 || args.recursive) {
        bail!("--request resumes one request: give exactly one IMAGE (without --recursive)");
    }
    let client = remote_cmd::connect(Some(&api), args.token.as_ref(), Options::default())?;
    let session = Session::new(&args.registry)?;
    let deadline = Instant::now() + args.remote_timeout;

    let mut jobs = Vec::new();
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
            let resume_ref = match &target.image {
                signet_registry::ImageRef::Registry(r) => {
                    format!("{}@{digest}", r.repository_name())
                }
                signet_registry::ImageRef::Layout { .. } => input.clone(),
            };
            let (id, payload, first) = match &args.request {
                Some(id) => {
                    let v = client.get(&format!("/imagesignings/{}", enc(id))).await?;
                    let payload = stored_payload(&v, id, &digest, input)?;
                    eprintln!("Resuming signing request {id} for {input}");
                    (id.clone(), payload, Some(v))
                }
                None => {
                    let identity = args
                        .sign_container_identity
                        .clone()
                        .unwrap_or_else(|| target.docker_reference());
                    let payload = payload::generate_payload_for(&identity, &digest, &ann);
                    let body = json!({
                        "name": args.request_name,
                        "description": format!("{identity}@{digest}"),
                        "productId": args.product,
                        "idProductOperation": args.operation,
                        "payload": signet_sigstore::gobase64::encode(&payload),
                        "hashAlgorithm": "SHA256",
                    });
                    let v = client
                        .post("/imagesignings", &body)
                        .await?
                        .context("the service answered the signing request with no body")?;
                    let Some(id) = v.get("id").and_then(Value::as_str).map(str::to_string) else {
                        bail!("the service's answer to the signing request has no id");
                    };
                    eprintln!(
                        "Signing request {id} created for {identity}@{digest} ({})",
                        v.get("state").map(state::name_of).unwrap_or_default()
                    );
                    (id, payload, Some(v))
                }
            };
            jobs.push(RemoteJob {
                input: input.clone(),
                resume_ref,
                sig_store: target.sig_store.clone(),
                sig_repo_name: target.sig_repo_name.clone(),
                digest,
                payload,
                id,
                first,
            });
        }
    }

    let mut signatures = Vec::new();
    let mut payloads = Vec::new();
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    for job in jobs {
        let mut progress = Progress::new();
        let outcome =
            wait::until_done(&client, &job.id, job.first.clone(), deadline, &mut progress).await;
        progress.finish();
        let v = match outcome? {
            Outcome::Ready(v) => v,
            Outcome::Finished(v) => {
                failures.push(wait::failure_reason(&v));
                continue;
            }
            Outcome::TimedOut(v) => {
                pending.push((job, v));
                continue;
            }
        };
        let signature = remote_cmd::signature_bytes(&client, &v).await?;
        // A request signed with a certificate is checked with the certificate's key (its
        // operation has no key of its own); otherwise with the operation's public key.
        let certified = remote_certificate(&v, &job.id)?;
        let (key, key_name) = match &certified {
            Some((public, _)) => (Some(public.clone()), "its certificate's public key"),
            None => (
                crate::remote::digest::operation_key(
                    &client,
                    &v,
                    "attaching the signature without checking it",
                )
                .await,
                "the operation's public key",
            ),
        };
        if let Some(key) = &key {
            key.verify(&job.payload, &signature).with_context(|| {
                format!(
                    "the signature of request {} does not verify with {key_name}: not attaching it",
                    job.id
                )
            })?;
        }
        let b64 = signet_sigstore::gobase64::encode(&signature);
        if args.upload {
            eprintln!("Pushing signature to: {}", job.sig_repo_name);
            let mut layer = SignatureLayer::with_signature_text(job.payload.clone(), b64.clone());
            for (k, val) in certified.iter().flat_map(|(_, ann)| ann) {
                layer = layer.annotate(k, val.clone());
            }
            let payload_bytes = job.payload.clone();
            let dedup = |sig: &[u8]| {
                key.as_ref()
                    .is_some_and(|k| k.verify(&payload_bytes, sig).is_ok())
            };
            sigwrite::append(&job.sig_store, &job.digest, &layer, Some(&dedup)).await?;
        }
        eprintln!("Signing request {} is Ready: {} signed", job.id, job.input);
        signatures.push(b64);
        payloads.push(job.payload);
    }
    write_outputs(&args, &signatures, &payloads)?;
    if pending.is_empty() && failures.is_empty() {
        return Ok(());
    }
    let mut lines = failures.clone();
    for (job, v) in &pending {
        lines.push(format!(
            "timed out after {} waiting for signing request {} ({}); resume with: signet sign --remote {} --request {} {}",
            humanize(args.remote_timeout),
            job.id,
            v.get("state").map(state::name_of).unwrap_or_default(),
            shell_quote(client.base()),
            shell_quote(&job.id),
            shell_quote(&job.resume_ref),
        ));
    }
    let message = lines.join("; ");
    if failures.is_empty() {
        bail!(RequestPending(message));
    }
    bail!(RequestFinished(message))
}

/// The payload stored with a request being resumed, after checking that it names `digest`.
fn stored_payload(v: &Value, id: &str, digest: &Digest, input: &str) -> Result<Vec<u8>> {
    let Some(b64) = v
        .get("payload")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        bail!(
            "signing request {id} was made from a digest, not a payload: signet sign cannot resume it (fetch its signature with `signet remote imagesigning get -I {id} -O sig.b64 --skipBase64` and attach it with `signet attach signature --payload …`)"
        );
    };
    let bytes = signet_sigstore::gobase64::decode(b64)
        .with_context(|| format!("the payload of signing request {id} is not valid base64"))?;
    let parsed = payload::Payload::parse(&bytes)
        .with_context(|| format!("the payload of signing request {id} is not a cosign payload"))?;
    if parsed.docker_manifest_digest != digest.to_string() {
        bail!(
            "signing request {id} is for image digest {}, not {input} ({digest}): refusing to resume it",
            parsed.docker_manifest_digest
        );
    }
    Ok(bytes)
}

/// Annotations to attach with a signature: (key, value).
type Annotations = Vec<(&'static str, String)>;

/// The certificate a Ready request was signed with (`certificate`, PEM) and the rest of its
/// chain (`chain`, PEM, root last), if it carries one: the certificate's public key and the
/// annotations to attach, checked as `--certificate` / `--certificate-chain` are.
fn remote_certificate(
    v: &Value,
    id: &str,
) -> Result<Option<(signet_crypto::PublicKey, Annotations)>> {
    let text = |field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let Some(pem) = text("certificate") else {
        if text("chain").is_some() {
            bail!("signing request {id} carries a certificate chain but no certificate");
        }
        return Ok(None);
    };
    let label = format!("the certificate of signing request {id}");
    let cert =
        Certificate::parse_any(pem.as_bytes()).with_context(|| format!("reading {label}"))?;
    let public = cert
        .public_key()
        .with_context(|| format!("reading the public key of {label}"))?;
    let chain = text("chain").map(|c| (format!("of signing request {id}"), c));
    let annotations = certificate_and_chain(&cert, &label, chain)?;
    Ok(Some((public, annotations)))
}

fn humanize(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The certificate and chain annotations for `--certificate` / `--certificate-chain`, after
/// checking that the certificate holds the signing key and that the chain validates it for
/// code signing now (cosign checks the same before signing). The certificate is stored as PEM
/// re-encoded (as `cosign sign` does), the chain as the file's bytes (cosign v1/v2).
///
/// A PKCS#11 key brings the certificate stored next to it on the token, as cosign's
/// `signerFromKeyRef` does: it must hold the key's public key; `--certificate` overrides it
/// (with a warning); without one cosign warns and signs with the bare key.
fn certificate_annotations(
    args: &SignArgs,
    key: &keyref::SigningKey,
    public: &signet_crypto::PublicKey,
) -> Result<Vec<(&'static str, String)>> {
    let key_name = keyref::display(args.key.as_deref().unwrap_or_default());
    let mut leaf: Option<(Certificate, String)> = None;
    let mut no_token_certificate = false;
    if let keyref::SigningKey::Pkcs11(_) = key {
        match key.token_certificate() {
            None => no_token_certificate = true,
            Some(der) => {
                let name = "the certificate stored with the PKCS#11 key".to_string();
                let cert =
                    Certificate::parse_any(der).with_context(|| format!("reading {name}"))?;
                if cert.public_key()? != *public {
                    bail!(
                        "{name} ({}) does not hold the key's public key (pkcs11 key and certificate do not match): refusing to sign",
                        cert.subject()
                    );
                }
                leaf = Some((cert, name));
            }
        }
    }
    if let Some(cert_path) = &args.certificate {
        let bytes =
            std::fs::read(cert_path).with_context(|| format!("reading certificate {cert_path}"))?;
        let cert = Certificate::parse_any(&bytes)
            .with_context(|| format!("reading certificate {cert_path}"))?;
        if cert.public_key()? != *public {
            bail!(
                "the certificate {cert_path} ({}) does not hold the public key of --key {key_name}: refusing to sign",
                cert.subject(),
            );
        }
        if leaf.is_some() {
            eprintln!("WARNING: overriding x509 certificate retrieved from the PKCS11 token");
        }
        leaf = Some((cert, cert_path.clone()));
    }
    let Some((cert, cert_name)) = leaf else {
        if args.certificate_chain.is_some() {
            bail!(
                "--certificate-chain needs --certificate (or a certificate stored with the PKCS#11 key)"
            );
        }
        if no_token_certificate {
            eprintln!("WARNING: no x509 certificate retrieved from the PKCS11 token");
        }
        return Ok(Vec::new());
    };
    let chain = match &args.certificate_chain {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading certificate chain {path}"))?;
            Some((path.clone(), text))
        }
    };
    certificate_and_chain(&cert, &cert_name, chain)
}

/// The certificate and chain annotations for `cert` (named `cert_name` in errors) and its
/// chain (`(name, PEM text)`, issuer first and root last), after checking that the chain
/// validates the certificate for code signing now. The certificate is stored as PEM
/// re-encoded (as `cosign sign` does), the chain as given (cosign v1/v2), empty without one.
fn certificate_and_chain(
    cert: &Certificate,
    cert_name: &str,
    chain: Option<(String, String)>,
) -> Result<Annotations> {
    let chain_text = match chain {
        None => String::new(),
        Some((name, text)) => {
            let mut chain = Certificate::parse_pem_bundle(&text)
                .with_context(|| format!("reading certificate chain {name}"))?;
            let root = chain.pop().context("empty certificate chain")?;
            verify_code_signing(cert, &chain, &[root], SystemTime::now()).with_context(|| {
                format!("the certificate chain {name} (issuer first, root last) does not validate {cert_name} for code signing")
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

#[cfg(test)]
mod tests {
    use super::*;
    use signet_crypto::{KeyType, PrivateKey};
    use signet_pki::dn::DistinguishedName;
    use signet_pki::issue::{
        self, CaIssuer, IntermediateRequest, LeafRequest, RootRequest, certificate_pem,
    };

    /// A root, an intermediate and a code-signing leaf: (leaf key, leaf PEM, chain PEM).
    fn hierarchy(root_cn: &str) -> (PrivateKey, String, String) {
        let now = SystemTime::now();
        let dn = |s: &str| DistinguishedName::parse(s).unwrap();
        let root_key = PrivateKey::generate(KeyType::P256).unwrap();
        let root = issue::issue_root(
            &RootRequest::new(dn(&format!("/CN={root_cn}"))),
            &root_key,
            now,
        )
        .unwrap();
        let sub_key = PrivateKey::generate(KeyType::P256).unwrap();
        let sub = issue::issue_intermediate(
            &IntermediateRequest::new(dn("/CN=Sub")),
            &sub_key.public_key(),
            &CaIssuer::new(root.cert_der(), &root_key).unwrap(),
            now,
        )
        .unwrap();
        let leaf_key = PrivateKey::generate(KeyType::P256).unwrap();
        let leaf = issue::issue_leaf(
            &LeafRequest::new(
                dn("/CN=Signer"),
                vec!["signer@example.com".into()],
                Vec::new(),
                "https://issuer.example.com",
            ),
            &leaf_key.public_key(),
            &CaIssuer::new(sub.cert_der(), &sub_key).unwrap(),
            now,
        )
        .unwrap();
        let chain = format!(
            "{}{}",
            certificate_pem(sub.cert_der()),
            certificate_pem(root.cert_der())
        );
        (leaf_key, certificate_pem(leaf.cert_der()), chain)
    }

    #[test]
    fn remote_certificates_are_attached_as_sign_certificate_would() {
        let (key, leaf, chain) = hierarchy("Root");
        assert!(
            remote_certificate(&json!({"id": "r1"}), "r1")
                .unwrap()
                .is_none()
        );
        assert!(
            remote_certificate(&json!({"certificate": "", "chain": ""}), "r1")
                .unwrap()
                .is_none()
        );
        let (public, ann) = remote_certificate(&json!({"certificate": leaf, "chain": chain}), "r1")
            .unwrap()
            .unwrap();
        assert!(public == key.public_key());
        let leaf_cert = Certificate::parse_any(leaf.as_bytes()).unwrap();
        assert_eq!(
            ann,
            vec![
                (annotations::CERTIFICATE, leaf_cert.to_pem()),
                (annotations::CHAIN, chain.clone()),
            ]
        );
        // Without a chain: the certificate, and an empty chain annotation (as sign --certificate).
        let (_, ann) = remote_certificate(&json!({"certificate": leaf}), "r1")
            .unwrap()
            .unwrap();
        assert_eq!(ann[1], (annotations::CHAIN, String::new()));
        let e = remote_certificate(&json!({"chain": chain}), "r1").unwrap_err();
        assert!(e.to_string().contains("no certificate"), "{e}");
        let (_, _, other_chain) = hierarchy("Other Root");
        let e = remote_certificate(&json!({"certificate": leaf, "chain": other_chain}), "r1")
            .unwrap_err();
        assert!(
            crate::exit::render(&e).contains(
                "the certificate chain of signing request r1 (issuer first, root last) does not validate the certificate of signing request r1"
            ),
            "{e:#}"
        );
        let e = remote_certificate(&json!({"certificate": "junk"}), "r1").unwrap_err();
        assert!(
            e.to_string()
                .contains("reading the certificate of signing request r1"),
            "{e}"
        );
    }
}
