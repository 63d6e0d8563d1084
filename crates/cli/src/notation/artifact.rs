//! notation's artifact commands on OCI signatures: `sign`, `ls`, `inspect` and `verify`, on a
//! registry image or an OCI layout (`--oci-layout PATH[:TAG|@DIGEST]`, or `oci:PATH…`).
//!
//! Signatures are stored as notation stores them (spec 1.1): an OCI 1.1 image manifest with
//! `artifactType: application/vnd.cncf.notary.signature`, the empty config, one envelope layer
//! and the signed manifest as `subject`, pushed as a referrer (the registry's referrers API, else
//! the `sha256-<hex>` referrers tag index; `index.json` in a layout). Listing accepts the legacy
//! shape too (config media type `application/vnd.cncf.notary.signature`).
//!
//! Verification follows the Notary Project order (spec 1.8): trust policy by repository
//! (`--scope` for layouts), `skip` accepts; then per signature, until one verifies: integrity,
//! authenticity, expiry, authentic timestamp, revocation (see [`super::trust`] for the offline
//! revocation rule), then the `-m` user metadata. Enforced failures reject the signature;
//! logged ones are printed as warnings when a signature verifies.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use signet_crypto::PrivateKey;
use signet_notation::envelope::{self, Envelope, EnvelopeType, SignedEnvelope};
use signet_notation::jws::{SignOptions, SigningScheme};
use signet_notation::manifest::{self, ARTIFACT_TYPE};
use signet_notation::payload::{PAYLOAD_MEDIA_TYPE, Payload};
use signet_notation::{Algorithm, rfc3339};
use signet_notation_policy::{TrustPolicyDocument, Validation};
use signet_oci::{Descriptor, media_types};
use signet_pki::cert::Certificate;
use signet_registry::{ImageRef, Store};

use super::dirs::{LEGACY_TRUST_POLICY, NotationDirs, OCI_TRUST_POLICY};
use super::keys::SigningKeys;
use super::{table, trust};
use crate::cli::RegistryArgs;
use crate::image::{Session, Target};

/// notation-go's limit on a signature manifest.
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// notation-go's limit on a signature envelope blob.
const MAX_BLOB_BYTES: u64 = 32 * 1024 * 1024;
/// notation's default `--max-signatures`.
const MAX_SIGNATURES: usize = 100;
/// The signing agent written into envelopes.
const SIGNING_AGENT: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));

/// Where the artifact is and how to reach it (common to the four commands).
pub struct ArtifactArgs<'a> {
    /// The IMAGE argument.
    pub reference: &'a str,
    /// `--oci-layout`.
    pub oci_layout: bool,
    /// Registry TLS/HTTP choices.
    pub registry: &'a RegistryArgs,
}

/// An artifact resolved to its manifest descriptor.
struct Resolved {
    target: Target,
    descriptor: Descriptor,
    /// `registry/repo@digest` or `path@digest`, as notation prints it.
    display: String,
}

/// Runs a future on the process's (multi-thread) runtime from synchronous code.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// Parses `-m k=v` pairs as notation does.
pub fn parse_metadata(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("could not parse flag user-metadata: key-value pair requires \"=\" as separator");
        };
        if map.insert(k.to_owned(), v.to_owned()).is_some() {
            bail!("could not parse flag user-metadata: duplicated key {k:?}");
        }
    }
    Ok(map)
}

async fn resolve(args: &ArtifactArgs<'_>, verb: &str, tag_tail: &str) -> Result<Resolved> {
    let input = if args.oci_layout && !args.reference.starts_with("oci:") {
        format!("oci:{}", args.reference)
    } else {
        args.reference.to_owned()
    };
    let session = Session::new(args.registry)?;
    let target = session.open(&input)?;
    if matches!(
        &target.image,
        ImageRef::Layout {
            tag: None,
            digest: None,
            ..
        }
    ) {
        bail!(
            "{}: an OCI layout reference needs a tag or digest (PATH:TAG or PATH@DIGEST)",
            args.reference
        );
    }
    let id = target.image.identifier();
    let head = target
        .store
        .head_manifest(&id)
        .await
        .with_context(|| format!("failed to resolve {}", args.reference))?
        .ok_or_else(|| anyhow!("{}: not found", args.reference))?;
    let repo = match &target.image {
        ImageRef::Registry(r) => r.repository_name(),
        ImageRef::Layout { path, .. } => path.display().to_string(),
    };
    let display = format!("{repo}@{}", head.digest);
    if target.is_tag() {
        eprintln!(
            "Warning: Always {verb} the artifact using digest(@sha256:...) rather than a tag(:{id}) {tag_tail}"
        );
    }
    let size = i64::try_from(head.size).map_err(|_| anyhow!("manifest size out of range"))?;
    let descriptor = Descriptor {
        media_type: head.media_type,
        size,
        digest: head.digest,
        data: None,
        urls: None,
        annotations: BTreeMap::new(),
        platform: None,
        artifact_type: None,
    };
    Ok(Resolved {
        target,
        descriptor,
        display,
    })
}

/// `notation sign` options.
pub struct SignRequest<'a> {
    /// The key name (default key when `None`).
    pub key: Option<&'a str>,
    /// The envelope format.
    pub envelope_type: EnvelopeType,
    /// The optional expiry duration.
    pub expiry: Option<Duration>,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
}

fn load_signing_key(dirs: &NotationDirs, name: Option<&str>) -> Result<(PrivateKey, Vec<Vec<u8>>)> {
    let keys = SigningKeys::load(dirs)?;
    let name = match name {
        Some(n) => n.to_owned(),
        None => keys.default.clone().ok_or_else(|| {
            anyhow!(
                "default signing key not set. Please set default signing key or specify a key name"
            )
        })?,
    };
    let suite = keys
        .keys
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| anyhow!("signing key {name} not found"))?;
    if !suite.plugin_name.is_empty() {
        bail!(
            "signing key {name} uses plugin {}: signing with plugin keys is not supported yet",
            suite.plugin_name
        );
    }
    if suite.key_path.is_empty() || suite.cert_path.is_empty() {
        bail!("signing key {name} has no keyPath or certPath");
    }
    let key_pem = std::fs::read_to_string(&suite.key_path)
        .map_err(|e| anyhow!("cannot read key {}: {e}", suite.key_path))?;
    let key = PrivateKey::from_unencrypted_pem(&key_pem)
        .map_err(|e| anyhow!("key {} is not a usable private key: {e}", suite.key_path))?;
    let chain_pem = std::fs::read_to_string(&suite.cert_path)
        .map_err(|e| anyhow!("cannot read certificate chain {}: {e}", suite.cert_path))?;
    let chain = Certificate::parse_pem_bundle(&chain_pem).map_err(|e| {
        anyhow!(
            "certificate chain {} is not PEM certificates: {e}",
            suite.cert_path
        )
    })?;
    Ok((key, chain.iter().map(|c| c.der().to_vec()).collect()))
}

/// `notation sign`.
pub async fn sign(
    dirs: &NotationDirs,
    args: &ArtifactArgs<'_>,
    request: SignRequest<'_>,
) -> Result<()> {
    let (key, chain) = load_signing_key(dirs, request.key)?;
    let resolved = resolve(
        args,
        "sign",
        "because tags are mutable and a tag reference can point to a different artifact than the one signed.",
    )
    .await?;
    let payload = Payload::new(&resolved.descriptor, &request.metadata)?.to_json()?;
    let now = SystemTime::now();
    let signing_time = rfc3339::parse(&rfc3339::format(now)?)?;
    let expiry = request
        .expiry
        .filter(|d| !d.is_zero())
        .map(|d| signing_time + d);
    let options = SignOptions {
        payload: &payload,
        cert_chain: &chain,
        signing_time,
        expiry,
        signing_agent: SIGNING_AGENT,
    };
    let envelope_bytes =
        envelope::sign(request.envelope_type, &options, &key).context("failed to sign")?;
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.created".to_owned(),
        rfc3339::format(signing_time)?,
    );
    let sig_manifest = manifest::signature_manifest(
        &resolved.descriptor,
        request.envelope_type,
        &envelope_bytes,
        &chain,
        &annotations,
    )?;
    let manifest_bytes = manifest::to_json(&sig_manifest);
    let store = &resolved.target.store;
    store
        .put_blob(&envelope_bytes)
        .await
        .context("failed to push the signature envelope")?;
    store
        .put_blob(b"{}")
        .await
        .context("failed to push the signature manifest config")?;
    store
        .push_referrer(&manifest_bytes, media_types::OCI_MANIFEST)
        .await
        .context("failed to push the signature manifest")?;
    println!("Successfully signed {}", resolved.display);
    Ok(())
}

/// The signature manifests of an artifact (OCI 1.1 and legacy shape), at most
/// [`MAX_SIGNATURES`].
async fn signature_descriptors(store: &Store, subject: &Descriptor) -> Result<Vec<Descriptor>> {
    let all = store
        .referrers(&subject.digest, None)
        .await
        .context("failed to list the signatures")?;
    let mut out: Vec<Descriptor> = all
        .into_iter()
        .filter(|d| d.artifact_type.as_deref() == Some(ARTIFACT_TYPE))
        .collect();
    if out.len() > MAX_SIGNATURES {
        eprintln!(
            "Warning: only the first {MAX_SIGNATURES} of {} signatures are examined",
            out.len()
        );
        out.truncate(MAX_SIGNATURES);
    }
    Ok(out)
}

/// `notation ls`.
pub async fn list(args: &ArtifactArgs<'_>) -> Result<()> {
    let resolved = resolve(
        args,
        "list",
        "because tags are mutable and a tag reference can point to a different artifact than the one listed.",
    )
    .await?;
    let sigs = signature_descriptors(&resolved.target.store, &resolved.descriptor).await?;
    if sigs.is_empty() {
        println!("{} has no associated signature", resolved.display);
        return Ok(());
    }
    let mut out = format!("{}\n└── {ARTIFACT_TYPE}\n", resolved.display);
    for (i, sig) in sigs.iter().enumerate() {
        let branch = if i + 1 == sigs.len() {
            "└──"
        } else {
            "├──"
        };
        out.push_str(&format!("    {branch} {}\n", sig.digest));
    }
    print!("{out}");
    Ok(())
}

/// One fetched signature: its manifest and envelope bytes.
struct Fetched {
    parsed: manifest::SignatureManifest,
    envelope: Vec<u8>,
}

async fn fetch_signature(store: &Store, sig: &Descriptor) -> Result<Fetched> {
    let m = store
        .get_manifest(&sig.digest.to_string())
        .await?
        .ok_or_else(|| anyhow!("signature manifest {} not found", sig.digest))?;
    if m.bytes.len() > MAX_MANIFEST_BYTES {
        bail!("signature manifest {} is larger than 4 MiB", sig.digest);
    }
    let parsed = manifest::parse_signature_manifest(&m.bytes)?;
    let envelope = store
        .get_blob(&parsed.envelope.digest, MAX_BLOB_BYTES)
        .await
        .with_context(|| {
            format!(
                "failed to fetch signature envelope {}",
                parsed.envelope.digest
            )
        })?;
    Ok(Fetched { parsed, envelope })
}

fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg.name() {
        "PS256" => "RSASSA-PSS-SHA-256",
        "PS384" => "RSASSA-PSS-SHA-384",
        "PS512" => "RSASSA-PSS-SHA-512",
        "ES256" => "ECDSA-SHA-256",
        "ES384" => "ECDSA-SHA-384",
        _ => "ECDSA-SHA-512",
    }
}

fn fingerprint(cert: &Certificate) -> String {
    manifest::thumbprints(&[cert.der().to_vec()])
        .pop()
        .unwrap_or_default()
}

/// One signature as `inspect -o json` describes it.
fn inspect_json(digest: &str, env: &Envelope) -> Result<Value> {
    let payload = Payload::from_json(env.payload())?;
    let mut signed = serde_json::Map::new();
    signed.insert("contentType".into(), json!(PAYLOAD_MEDIA_TYPE));
    signed.insert("signingScheme".into(), json!(env.signing_scheme().as_str()));
    signed.insert(
        "signingTime".into(),
        json!(rfc3339::format(env.signing_time())?),
    );
    if let Some(expiry) = env.expiry() {
        signed.insert("expiry".into(), json!(rfc3339::format(expiry)?));
    }
    let mut unsigned = serde_json::Map::new();
    if let Some(agent) = env.signing_agent() {
        unsigned.insert("signingAgent".into(), json!(agent));
    }
    let certificates: Vec<Value> = env
        .cert_chain()
        .iter()
        .map(|c| {
            Ok(json!({
                "SHA256Fingerprint": fingerprint(c),
                "issuedTo": c.subject(),
                "issuedBy": c.issuer(),
                "expiry": rfc3339::format(c.not_after())?,
            }))
        })
        .collect::<Result<_>>()?;
    let t = &payload.target_artifact;
    let mut sig = serde_json::Map::new();
    sig.insert("digest".into(), json!(digest));
    sig.insert(
        "signatureAlgorithm".into(),
        json!(algorithm_name(env.alg())),
    );
    sig.insert("signedAttributes".into(), Value::Object(signed));
    if !t.annotations.is_empty() {
        sig.insert("userDefinedAttributes".into(), json!(t.annotations));
    }
    sig.insert("unsignedAttributes".into(), Value::Object(unsigned));
    sig.insert("certificates".into(), Value::Array(certificates));
    sig.insert(
        "signedArtifact".into(),
        json!({"mediaType": t.media_type, "digest": t.digest.to_string(), "size": t.size}),
    );
    Ok(Value::Object(sig))
}

/// Renders one `inspect` subtree: `lines` are (depth, text) pairs in pre-order.
fn render_tree(prefix: &str, items: &[(usize, String)]) -> String {
    let mut out = String::new();
    for (i, (depth, text)) in items.iter().enumerate() {
        let mut line = String::from(prefix);
        for d in 0..*depth {
            // Is there a later sibling at depth `d` (before the parent chain ends)?
            let more = items[i + 1..]
                .iter()
                .take_while(|(dd, _)| *dd >= d)
                .any(|(dd, _)| *dd == d);
            line.push_str(if more { "│   " } else { "    " });
        }
        let last = !items[i + 1..]
            .iter()
            .take_while(|(dd, _)| *dd >= *depth)
            .any(|(dd, _)| dd == depth);
        line.push_str(if last { "└── " } else { "├── " });
        line.push_str(text);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn inspect_items(digest: &str, env: &Envelope) -> Result<Vec<(usize, String)>> {
    let payload = Payload::from_json(env.payload())?;
    let mut items = vec![
        (0, digest.to_owned()),
        (
            1,
            format!("signature algorithm: {}", algorithm_name(env.alg())),
        ),
        (1, "signed attributes".to_owned()),
        (2, format!("content type: {PAYLOAD_MEDIA_TYPE}")),
        (
            2,
            format!("signing scheme: {}", env.signing_scheme().as_str()),
        ),
        (
            2,
            format!("signing time: {}", trust::ansic(env.signing_time())),
        ),
    ];
    if let Some(expiry) = env.expiry() {
        items.push((2, format!("expiry: {}", trust::ansic(expiry))));
    }
    let t = &payload.target_artifact;
    if !t.annotations.is_empty() {
        items.push((1, "user defined attributes".to_owned()));
        for (k, v) in &t.annotations {
            items.push((2, format!("{k}: {v}")));
        }
    }
    items.push((1, "unsigned attributes".to_owned()));
    if let Some(agent) = env.signing_agent() {
        items.push((2, format!("signing agent: {agent}")));
    }
    items.push((1, "certificates".to_owned()));
    for c in env.cert_chain() {
        items.push((2, format!("SHA256 fingerprint: {}", fingerprint(c))));
        items.push((3, format!("issued to: {}", c.subject())));
        items.push((3, format!("issued by: {}", c.issuer())));
        items.push((3, format!("expiry: {}", trust::ansic(c.not_after()))));
    }
    items.push((1, "signed artifact".to_owned()));
    items.push((2, format!("media type: {}", t.media_type)));
    items.push((2, format!("digest: {}", t.digest)));
    items.push((2, format!("size: {}", t.size)));
    Ok(items)
}

/// `notation inspect` (`json`: `--output json`).
pub async fn inspect(args: &ArtifactArgs<'_>, json_output: bool) -> Result<()> {
    let resolved = resolve(
        args,
        "inspect",
        "because tags are mutable and a tag reference can point to a different artifact than the one inspected.",
    )
    .await?;
    let store = &resolved.target.store;
    let sigs = signature_descriptors(store, &resolved.descriptor).await?;
    let mut items = Vec::new();
    let mut json_sigs = Vec::new();
    for sig in &sigs {
        let digest = sig.digest.to_string();
        let parsed = fetch_signature(store, sig)
            .await
            .and_then(|f| Ok(Envelope::parse(f.parsed.envelope_type, &f.envelope)?));
        match parsed {
            Ok(env) => {
                json_sigs.push(inspect_json(&digest, &env)?);
                items.extend(inspect_items(&digest, &env)?);
            }
            Err(e) => {
                eprintln!(
                    "Warning: skipping signature {digest} because of error: {}",
                    crate::exit::render(&e)
                );
            }
        }
    }
    if json_output {
        let doc = json!({
            "mediaType": resolved.descriptor.media_type,
            "signatures": json_sigs,
        });
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to stdout")?;
        return Ok(());
    }
    if sigs.is_empty() {
        println!("{} has no associated signature", resolved.display);
        return Ok(());
    }
    let mut out = format!(
        "Inspecting all signatures for signed artifact\n{}\n└── {ARTIFACT_TYPE}\n",
        resolved.display
    );
    out.push_str(&render_tree("    ", &items));
    print!("{out}");
    Ok(())
}

/// `notation verify` options.
pub struct VerifyRequest<'a> {
    /// `--scope`: the repository the trust policy is selected by (required for layouts).
    pub scope: Option<&'a str>,
    /// `-m`: metadata the payload must carry.
    pub metadata: BTreeMap<String, String>,
}

fn load_policy(dirs: &NotationDirs) -> Result<TrustPolicyDocument> {
    let path = dirs.file(OCI_TRUST_POLICY);
    let json = match std::fs::read(&path) {
        Ok(json) => json,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let legacy = dirs.file(LEGACY_TRUST_POLICY);
            match std::fs::read(&legacy) {
                Ok(json) => {
                    eprintln!(
                        "Warning: old trust policy `trustpolicy.json` is deprecated; please update the trust policy configuration via `notation policy import`."
                    );
                    json
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                    "trust policy is not present. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"
                ),
                Err(e) => bail!("cannot read {}: {e}", legacy.display()),
            }
        }
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    TrustPolicyDocument::from_json(&json).context("invalid OCI trust policy configuration")
}

/// What verifying one signature gave.
enum SignatureResult {
    /// Verified; logged failures and the payload's user metadata.
    Verified {
        logged: Vec<signet_notation_policy::Failure>,
        metadata: BTreeMap<String, String>,
    },
    /// Rejected, with the reason.
    Rejected(String),
}

fn record(
    outcome: &mut signet_notation_policy::Outcome,
    validation: Validation,
    check: impl FnOnce() -> Result<()>,
) -> Result<bool> {
    if !outcome.should_run(validation) {
        return Ok(true);
    }
    let result = check().map_err(|e| crate::exit::render(&e));
    let flow = outcome.record(validation, result)?;
    Ok(flow == signet_notation_policy::Flow::Continue)
}

/// Verifies one fetched signature against the policy.
fn verify_one(
    policy: &signet_notation_policy::TrustPolicy,
    roots: &Result<Vec<Certificate>, String>,
    fetched: &Fetched,
    target: &Descriptor,
    required: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<SignatureResult> {
    let mut outcome = signet_notation_policy::Outcome::new(policy);
    // Integrity: the envelope parses and its signature verifies with the leaf key, the
    // manifest thumbprints match its chain, and the payload describes the target.
    let mut verified: Option<(Envelope, Payload)> = None;
    let go_on = record(&mut outcome, Validation::Integrity, || {
        if fetched.parsed.subject.digest != target.digest {
            bail!("the signature manifest's subject is not the artifact being verified");
        }
        let env = envelope::verify(fetched.parsed.envelope_type, &fetched.envelope)?.envelope;
        let ders: Vec<Vec<u8>> = env.cert_chain().iter().map(|c| c.der().to_vec()).collect();
        fetched.parsed.check_thumbprints(&ders)?;
        let payload = Payload::from_json(env.payload())?;
        payload.check_target(target, &BTreeMap::new())?;
        verified = Some((env, payload));
        Ok(())
    })?;
    let Some((env, payload)) = verified.filter(|_| go_on) else {
        return finish(outcome, None, required);
    };
    let chain = env.cert_chain();
    let mut go_on = record(&mut outcome, Validation::Authenticity, || {
        signet_notation::certs::check_signing_chain(chain)?;
        let roots = roots.as_ref().map_err(|e| anyhow!("{e}"))?;
        trust::check_chain_to_roots(chain, roots)?;
        let leaf = chain
            .first()
            .ok_or_else(|| anyhow!("the signature's certificate chain is empty"))?;
        let subject = trust::subject_attributes(leaf)?;
        if !policy.trusts_subject(&subject) {
            bail!(
                "signing certificate from the digital signature does not match the X.509 trusted identities {:?} defined in the trust policy {:?}",
                policy
                    .trusted_identities()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                policy.name()
            );
        }
        Ok(())
    })?;
    if go_on {
        go_on = record(&mut outcome, Validation::Expiry, || match env.expiry() {
            Some(expiry) if now > expiry => bail!(
                "digital signature has expired on {:?}",
                trust::ansic(expiry)
            ),
            _ => Ok(()),
        })?;
    }
    if go_on {
        go_on = record(&mut outcome, Validation::AuthenticTimestamp, || {
            let at = match env.signing_scheme() {
                SigningScheme::X509 => now,
                SigningScheme::X509SigningAuthority => env.signing_time(),
            };
            trust::check_validity_at(chain, at)
        })?;
    }
    if go_on {
        record(&mut outcome, Validation::Revocation, || {
            trust::check_revocation_offline(chain)
        })?;
    }
    finish(outcome, Some(&payload), required)
}

fn finish(
    outcome: signet_notation_policy::Outcome,
    payload: Option<&Payload>,
    required: &BTreeMap<String, String>,
) -> Result<SignatureResult> {
    let verdict = outcome.finish()?;
    if let Some(failure) = verdict.failure {
        return Ok(SignatureResult::Rejected(format!(
            "{} validation failed: {}",
            failure.validation, failure.reason
        )));
    }
    let Some(payload) = payload else {
        return Ok(SignatureResult::Rejected(
            "integrity validation failed".into(),
        ));
    };
    // User metadata (step 9).
    if let Err(e) = payload.check_target(&payload.target_artifact, required) {
        return Ok(SignatureResult::Rejected(format!(
            "unable to find specified metadata in the signature: {e}"
        )));
    }
    Ok(SignatureResult::Verified {
        logged: verdict.logged,
        metadata: payload.target_artifact.annotations.clone(),
    })
}

/// `notation verify`.
pub async fn verify(
    dirs: &NotationDirs,
    args: &ArtifactArgs<'_>,
    request: VerifyRequest<'_>,
) -> Result<()> {
    let policies = load_policy(dirs)?;
    let is_layout = args.oci_layout || args.reference.starts_with("oci:");
    if is_layout && request.scope.is_none() {
        bail!(
            "--scope is required when verifying an OCI layout: it names the repository whose trust policy applies"
        );
    }
    let resolved = resolve(
        args,
        "verify",
        "because resolved digest may not point to the same signed artifact, as tags are mutable.",
    )
    .await?;
    let repository = match (request.scope, &resolved.target.image) {
        (Some(scope), _) => scope.to_owned(),
        (None, ImageRef::Registry(r)) => r.repository_name(),
        (None, ImageRef::Layout { .. }) => {
            bail!("--scope is required when verifying an OCI layout")
        }
    };
    let policy = policies
        .select(&repository)
        .with_context(|| format!("no applicable trust policy for {repository}"))?;
    if policy.level() == signet_notation_policy::Level::Skip {
        println!(
            "Trust policy is configured to skip signature verification for {}",
            resolved.display
        );
        return Ok(());
    }
    let store = &resolved.target.store;
    let sigs = signature_descriptors(store, &resolved.descriptor).await?;
    if sigs.is_empty() {
        bail!(
            "no signature is associated with {:?}, make sure the artifact was signed successfully",
            resolved.display
        );
    }
    let roots =
        trust::ca_roots(&dirs.x509_store_root(), policy).map_err(|e| crate::exit::render(&e));
    let now = SystemTime::now();
    let mut reasons = Vec::new();
    for sig in &sigs {
        let result = match fetch_signature(store, sig).await {
            Ok(fetched) => verify_one(
                policy,
                &roots,
                &fetched,
                &resolved.descriptor,
                &request.metadata,
                now,
            )?,
            Err(e) => SignatureResult::Rejected(format!(
                "integrity validation failed: {}",
                crate::exit::render(&e)
            )),
        };
        match result {
            SignatureResult::Verified { logged, metadata } => {
                for failure in logged {
                    eprintln!(
                        "Warning: {} was set to \"log\" and failed with error: {}",
                        failure.validation, failure.reason
                    );
                }
                println!("Successfully verified signature for {}", resolved.display);
                if !metadata.is_empty() {
                    println!("\nThe artifact was signed with the following user metadata.\n");
                    let mut rows = vec![vec!["KEY".to_owned(), "VALUE".to_owned()]];
                    rows.extend(metadata.into_iter().map(|(k, v)| vec![k, v]));
                    print!("{}", table::render(&rows));
                }
                return Ok(());
            }
            SignatureResult::Rejected(reason) => reasons.push(format!("{}: {reason}", sig.digest)),
        }
    }
    bail!(
        "signature verification failed for all the signatures associated with {}: {}",
        resolved.display,
        reasons.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs() {
        let m = parse_metadata(&["a=b".into(), "c=d=e".into()]).unwrap();
        assert_eq!(m["c"], "d=e");
        assert!(parse_metadata(&["x".into()]).is_err());
        assert!(parse_metadata(&["a=1".into(), "a=2".into()]).is_err());
    }

    #[test]
    fn tree_branches() {
        let items = vec![
            (0, "a".to_owned()),
            (1, "b".to_owned()),
            (1, "c".to_owned()),
            (2, "d".to_owned()),
            (0, "e".to_owned()),
            (1, "f".to_owned()),
        ];
        assert_eq!(
            render_tree("", &items),
            "├── a\n│   ├── b\n│   └── c\n│       └── d\n└── e\n    └── f\n"
        );
    }
}
