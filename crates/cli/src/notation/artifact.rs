//! notation's artifact commands on OCI signatures: `sign`, `ls`, `inspect` and `verify`, on a
//! registry image or an OCI layout (`--oci-layout PATH[:TAG|@DIGEST]`, or `oci:PATH…`).
//!
//! Signatures are stored as notation stores them (spec 1.1): an OCI 1.1 image manifest with
//! `artifactType: application/vnd.cncf.notary.signature`, the empty config, one envelope layer
//! and the signed manifest as `subject`, pushed as a referrer (the registry's referrers API, else
//! the `sha256-<hex>` referrers tag index; `index.json` in a layout). `--force-referrers-tag`
//! always writes the tag index as well. Listing accepts the legacy shape too (no
//! `artifactType`, config media type `application/vnd.cncf.notary.signature`), also when an
//! index entry carries no `artifactType` (the manifest is then read to tell).
//!
//! Registry access as notation's: `-u/--username` and `-p/--password` (or `NOTATION_USERNAME`
//! / `NOTATION_PASSWORD`) are the only credentials used when given; otherwise notation's
//! `config.json` credential store when it configures one, else docker's. `--insecure-registry`
//! and `config.json`'s `insecureRegistries` mean plain HTTP.
//!
//! `sign --timestamp-url URL --timestamp-root-cert FILE` adds an RFC 3161 timestamp
//! countersignature over the signature ([`super::tsa`]), verified against the given root
//! before anything is pushed; `inspect` shows it as notation does (`timestamp signature`:
//! genTime ± accuracy and the token's certificates; `unsignedAttributes.timestampSignature` in
//! JSON).
//!
//! Verification follows the Notary Project order (spec 1.8): trust policy by repository
//! (`--scope` for layouts), `skip` accepts; then per signature, at most `--max-signatures`,
//! until one verifies: integrity, authenticity, expiry, authentic timestamp
//! (`signet_notation_policy::verify_authentic_timestamp`: with a `tsa:` store in the policy
//! the timestamp must verify with a TSA chain to one of its roots and lie within the signing
//! chain's validity, so a signature whose certificate has since expired still verifies;
//! without one the chain must be valid now), revocation (see [`super::trust`] for the offline
//! revocation rule), then the `-m` user metadata. Enforced failures reject the signature;
//! logged ones are printed as warnings when a signature verifies. `--output json` prints the
//! result as a JSON document.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use signet_notation::envelope::{self, Envelope, EnvelopeType, SignedEnvelope};
use signet_notation::jws::{JwsSigner, SignOptions};
use signet_notation::manifest::{self, ARTIFACT_TYPE};
use signet_notation::payload::{PAYLOAD_MEDIA_TYPE, Payload};
use signet_notation::timestamp::{Timestamp, TimestampToken};
use signet_notation::{Algorithm, rfc3339};
use signet_notation_policy::{Level, TrustPolicyDocument, Validation};
use signet_oci::{Descriptor, media_types};
use signet_pki::cert::Certificate;
use signet_registry::{
    ClientOptions, ImageRef, Keychain, OciLayout, RegistryClient, Repo, Secret, Store, referrers,
};

use super::config::NotationConfig;
use super::dirs::{LEGACY_TRUST_POLICY, NotationDirs, OCI_TRUST_POLICY};
use super::keys::{self, SigningKeys};
use super::table;
use super::trust::{self, ChainPurpose};
use super::tsa::Tsa;
use crate::cli::RegistryArgs;

/// notation-go's limit on a signature manifest.
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// notation-go's limit on a signature envelope blob.
const MAX_BLOB_BYTES: u64 = 32 * 1024 * 1024;
/// notation's default `--max-signatures`.
pub const DEFAULT_MAX_SIGNATURES: usize = 100;
/// The signing agent written into envelopes.
const SIGNING_AGENT: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));
/// Where notation's messages send users who have no trust policy.
const TRUST_POLICY_LINK: &str = "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy";

/// Registry credentials given on the command line (`-u`, `-p`) or in `NOTATION_USERNAME` /
/// `NOTATION_PASSWORD`.
pub struct Credentials {
    /// The user name; empty when the password is an identity token (notation's `-p` alone).
    pub username: String,
    /// The password, or the identity token when there is no user name.
    pub password: Secret,
}

/// Where the artifact is and how to reach it (common to the four commands).
pub struct ArtifactArgs<'a> {
    /// The reference argument.
    pub reference: &'a str,
    /// `--oci-layout`.
    pub oci_layout: bool,
    /// Registry TLS/HTTP choices (`--insecure-registry` folded into `allow_http_registry`).
    pub registry: &'a RegistryArgs,
    /// `-u/-p` credentials, if given.
    pub credentials: Option<&'a Credentials>,
    /// notation's `config.json`.
    pub config: &'a NotationConfig,
    /// notation's directories.
    pub dirs: &'a NotationDirs,
    /// `--max-signatures`.
    pub max_signatures: usize,
}

/// An artifact resolved to its manifest descriptor.
struct Resolved {
    store: Store,
    image: ImageRef,
    descriptor: Descriptor,
    /// `registry/repo` or the layout path.
    repository: String,
    /// `registry/repo@digest` or `path@digest`, as notation prints it.
    display: String,
}

/// Runs a future on the process's (multi-thread) runtime from synchronous code.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// Parses `{key}={value}` flag pairs as notation's `ParseFlagMap` does: key and value must be
/// non-empty; a repeated key takes the last value.
pub fn parse_flag_map(pairs: &[String], flag: &str) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                map.insert(k.to_owned(), v.to_owned());
            }
            _ => bail!("could not parse flag {flag}: key-value pair requires \"=\" as separator"),
        }
    }
    Ok(map)
}

/// Whether a registry reference names a tag or a digest (oras-go's `Reference` is empty
/// otherwise, and notation refuses it).
fn names_tag_or_digest(reference: &str) -> bool {
    let r = reference.strip_prefix("docker://").unwrap_or(reference);
    r.contains('@') || r.rsplit('/').next().is_some_and(|last| last.contains(':'))
}

/// The store behind the reference, with notation's reference checks.
fn open_store(args: &ArtifactArgs<'_>) -> Result<(ImageRef, Store)> {
    let is_layout = args.oci_layout || args.reference.starts_with("oci:");
    if is_layout {
        let input = if args.reference.starts_with("oci:") {
            args.reference.to_owned()
        } else {
            format!("oci:{}", args.reference)
        };
        let image = ImageRef::parse(&input)?;
        let ImageRef::Layout { path, tag, digest } = &image else {
            bail!("{:?}: not an OCI layout reference", args.reference);
        };
        if tag.is_none() && digest.is_none() {
            bail!(
                "{:?}: invalid reference: missing tag or digest. Expecting <file_path>:<tag> or <file_path>@<digest>",
                args.reference
            );
        }
        let layout = OciLayout::open(path)
            .with_context(|| "failed to resolve user input reference".to_owned())?;
        return Ok((image, Store::Layout(layout)));
    }
    if !names_tag_or_digest(args.reference) {
        bail!(
            "{:?}: invalid reference: no tag or digest. Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>",
            args.reference
        );
    }
    let image = ImageRef::parse(args.reference).map_err(|e| {
        anyhow!(
            "{:?}: {e}. Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>",
            args.reference
        )
    })?;
    let ImageRef::Registry(r) = &image else {
        bail!("{:?}: not a registry reference", args.reference);
    };
    let options = ClientOptions {
        allow_http: args.registry.allow_http_registry || args.config.is_insecure(r.registry()),
        allow_insecure: args.registry.allow_insecure_registry,
        ..ClientOptions::default()
    };
    let keychain = match args.credentials {
        Some(c) if c.username.is_empty() => {
            Keychain::with_identity_token(r.registry(), c.password.clone())
        }
        Some(c) => Keychain::with_static(r.registry(), &c.username, c.password.expose()),
        None => args.config.keychain(args.dirs),
    };
    let client =
        RegistryClient::new(options, keychain).context("setting up the registry client")?;
    let store = Store::Registry {
        client,
        repo: Repo::from(r),
    };
    Ok((image, store))
}

async fn resolve(args: &ArtifactArgs<'_>, verb: &str, tag_tail: &str) -> Result<Resolved> {
    let (image, store) = open_store(args)?;
    let id = image.identifier();
    let head = store
        .head_manifest(&id)
        .await
        .context("failed to get manifest descriptor")?
        .ok_or_else(|| {
            anyhow!(
                "failed to get manifest descriptor: {}: not found",
                args.reference
            )
        })?;
    let (repository, wanted) = match &image {
        ImageRef::Registry(r) => (r.repository_name(), r.digest().cloned()),
        ImageRef::Layout { path, digest, .. } => (path.display().to_string(), digest.clone()),
    };
    match wanted {
        Some(d) if d != head.digest => bail!(
            "user input digest {d} does not match the resolved digest {}",
            head.digest
        ),
        Some(_) => {}
        None => eprintln!(
            "Warning: Always {verb} the artifact using digest(@sha256:...) rather than a tag(:{id}) {tag_tail}"
        ),
    }
    let display = format!("{repository}@{}", head.digest);
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
        store,
        image,
        descriptor,
        repository,
        display,
    })
}

/// The warning tail of `ls`, `inspect` and `verify` for a tag reference.
const MUTABLE_TAG: &str =
    "because resolved digest may not point to the same signed artifact, as tags are mutable.";

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
    /// `--force-referrers-tag`: write the referrers tag index even when the registry's
    /// referrers API indexed the signature.
    pub force_referrers_tag: bool,
    /// `--remote`: sign through the signing service instead of with a named key.
    pub remote: Option<RemoteKey>,
    /// `--timestamp-url` / `--timestamp-root-cert`: add an RFC 3161 timestamp.
    pub timestamp: Option<TimestampArgs>,
}

/// `notation sign --timestamp-url URL --timestamp-root-cert FILE` (both non-empty; the
/// command checks that, with notation's messages).
pub struct TimestampArgs {
    /// The TSA URL.
    pub url: String,
    /// The file holding the TSA's root certificate.
    pub root_cert: String,
}

/// `notation sign --remote API --product P --operation O`.
pub struct RemoteKey {
    /// The API URL.
    pub api: String,
    /// The token argument (else `SIGNET_TOKEN`).
    pub token: Option<crate::remote::Secret>,
    /// The product.
    pub product: String,
    /// The DetachedSignature operation.
    pub operation: String,
    /// How long to wait for approval.
    pub timeout: Duration,
}

/// Where signatures come from: a local key with its chain file, a notation plugin, or the
/// signing service; the last two hand out the chain with each signature.
enum KeySource {
    Local(crate::keyref::SigningKey, Vec<Vec<u8>>),
    Plugin(crate::plugin::client::PluginSigner),
    Service(crate::plugin::service::ServiceSigner),
}

impl KeySource {
    fn signer(&self) -> &dyn JwsSigner {
        match self {
            KeySource::Local(key, _) => key,
            KeySource::Plugin(p) => p,
            KeySource::Service(s) => s,
        }
    }

    /// The chain that went into the envelope (after signing).
    fn chain(&self) -> Result<Vec<Vec<u8>>> {
        match self {
            KeySource::Local(_, chain) => Some(chain.clone()),
            KeySource::Plugin(p) => p.chain(),
            KeySource::Service(s) => s.chain(),
        }
        .ok_or_else(|| anyhow!("the signer returned no certificate chain"))
    }
}

async fn open_remote(remote: &RemoteKey) -> Result<KeySource> {
    let client = crate::commands::remote::connect(
        Some(&remote.api),
        remote.token.as_ref(),
        crate::remote::client::Options::default(),
    )?;
    let target = crate::plugin::service::Target::new(
        client,
        &remote.product,
        &remote.operation,
        remote.timeout,
    );
    Ok(KeySource::Service(
        crate::plugin::service::ServiceSigner::open(target).await?,
    ))
}

fn load_signing_key(dirs: &NotationDirs, name: Option<&str>) -> Result<KeySource> {
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
        let executable = dirs.plugin_executable(&suite.plugin_name);
        let signer = crate::plugin::blocking(|| {
            crate::plugin::client::PluginSigner::open(
                &executable,
                &suite.plugin_name,
                &suite.id,
                &suite.plugin_config,
            )
        })?;
        return Ok(KeySource::Plugin(signer));
    }
    if suite.key_path.is_empty() || suite.cert_path.is_empty() {
        bail!("signing key {name} has no keyPath or certPath");
    }
    let key = keys::read_signing_key(&suite.key_path)?;
    let chain_pem = std::fs::read_to_string(&suite.cert_path)
        .map_err(|e| anyhow!("cannot read certificate chain {}: {e}", suite.cert_path))?;
    let chain = Certificate::parse_pem_bundle(&chain_pem).map_err(|e| {
        anyhow!(
            "certificate chain {} is not PEM certificates: {e}",
            suite.cert_path
        )
    })?;
    let leaf_key = chain
        .first()
        .ok_or_else(|| anyhow!("certificate chain {} is empty", suite.cert_path))?
        .public_key()
        .map_err(|e| {
            anyhow!(
                "leaf certificate of {} has an unusable key: {e}",
                suite.cert_path
            )
        })?;
    if leaf_key.to_spki_der() != key.public_key().to_spki_der() {
        bail!(
            "private key {} does not match the public key of the leaf certificate in {}",
            crate::keyref::display(&suite.key_path),
            suite.cert_path
        );
    }
    Ok(KeySource::Local(
        key,
        chain.iter().map(|c| c.der().to_vec()).collect(),
    ))
}

/// `notation sign`.
pub async fn sign(args: &ArtifactArgs<'_>, request: SignRequest<'_>) -> Result<()> {
    let source = match &request.remote {
        Some(remote) => open_remote(remote).await?,
        None => load_signing_key(args.dirs, request.key)?,
    };
    let local_chain = match &source {
        KeySource::Local(_, chain) => chain.clone(),
        _ => Vec::new(),
    };
    let tsa = request
        .timestamp
        .as_ref()
        .map(|t| Tsa::new(&t.url, &t.root_cert))
        .transpose()?;
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
        cert_chain: &local_chain,
        signing_time,
        expiry,
        signing_agent: SIGNING_AGENT,
    };
    let mut envelope_bytes = envelope::sign(request.envelope_type, &options, source.signer())
        .context("failed to sign")?;
    if let Some(tsa) = &tsa {
        // Only the unprotected header changes: the chain and thumbprints stay as signed.
        envelope_bytes = tsa
            .timestamp(request.envelope_type, &envelope_bytes)
            .await
            .map_err(|e| anyhow!("timestamp: {}", crate::exit::render(&e)))?
            .0;
    }
    let chain = source.chain()?;
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
    let store = &resolved.store;
    store
        .put_blob(&envelope_bytes)
        .await
        .context("failed to push signature to registry with error: the signature envelope")?;
    store
        .put_blob(b"{}")
        .await
        .context("failed to push signature to registry with error: the manifest config")?;
    let pushed = match store {
        Store::Registry { client, repo } if request.force_referrers_tag => {
            referrers::push_forcing_tag(client, repo, &manifest_bytes, media_types::OCI_MANIFEST)
                .await
        }
        _ => {
            store
                .push_referrer(&manifest_bytes, media_types::OCI_MANIFEST)
                .await
        }
    };
    let sig_digest = pushed
        .context("failed to push signature to registry with error: the signature manifest")?;
    println!("Successfully signed {}", resolved.display);
    println!(
        "Pushed the signature to {}@{sig_digest}",
        resolved.repository
    );
    Ok(())
}

/// The signature manifests of an artifact, at most `max`.
struct Listing {
    signatures: Vec<Descriptor>,
    /// More signatures exist than `max`.
    exceeded: bool,
}

/// Whether a manifest is a Notary signature manifest (either shape), for index entries that
/// carry no `artifactType`.
async fn is_signature_manifest(store: &Store, descriptor: &Descriptor) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Parts {
        #[serde(default)]
        artifact_type: Option<String>,
        #[serde(default)]
        config: Option<Config>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Config {
        #[serde(default)]
        media_type: String,
    }
    let Ok(Some(m)) = store.get_manifest(&descriptor.digest.to_string()).await else {
        return false;
    };
    let Ok(parts) = serde_json::from_slice::<Parts>(&m.bytes) else {
        return false;
    };
    match parts.artifact_type.filter(|a| !a.is_empty()) {
        Some(a) => a == ARTIFACT_TYPE,
        None => parts.config.is_some_and(|c| c.media_type == ARTIFACT_TYPE),
    }
}

/// The signature manifests of `subject` (OCI 1.1 and legacy shape), at most `max`.
async fn signature_descriptors(store: &Store, subject: &Descriptor, max: usize) -> Result<Listing> {
    let all = store
        .referrers(&subject.digest, None)
        .await
        .context("failed to list the signatures")?;
    let mut signatures = Vec::new();
    let mut exceeded = false;
    for d in all {
        let is_signature = match d.artifact_type.as_deref() {
            Some(t) if !t.is_empty() => t == ARTIFACT_TYPE,
            _ => is_signature_manifest(store, &d).await,
        };
        if !is_signature {
            continue;
        }
        if signatures.len() >= max {
            exceeded = true;
            break;
        }
        signatures.push(d);
    }
    Ok(Listing {
        signatures,
        exceeded,
    })
}

/// notation's warning when more signatures exist than `--max-signatures`.
fn exceeded_warning(max: usize) -> String {
    format!("Warning: exceeded configured limit of max signatures {max} to examine")
}

/// `notation ls`.
pub async fn list(args: &ArtifactArgs<'_>) -> Result<()> {
    let resolved = resolve(args, "list", MUTABLE_TAG).await?;
    let listing =
        signature_descriptors(&resolved.store, &resolved.descriptor, args.max_signatures).await?;
    if listing.exceeded {
        eprintln!("{}", exceeded_warning(args.max_signatures));
    }
    let sigs = &listing.signatures;
    if sigs.is_empty() {
        println!("{} has no associated signatures", resolved.display);
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
        .to_lowercase()
}

/// A certificate as `inspect -o json` shows it.
#[derive(Serialize)]
struct CertificateJson {
    #[serde(rename = "SHA256Fingerprint")]
    sha256_fingerprint: String,
    #[serde(rename = "issuedTo")]
    issued_to: String,
    #[serde(rename = "issuedBy")]
    issued_by: String,
    expiry: String,
}

/// The signed artifact's descriptor (image-spec field order; no annotations, which are the
/// user defined attributes).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedArtifactJson {
    media_type: String,
    digest: String,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
}

/// One signature as `inspect -o json` shows it: notation's `json.signature`, field order
/// included.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignatureJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    digest: String,
    signature_algorithm: String,
    signature_envelope_type: String,
    signed_attributes: BTreeMap<String, String>,
    user_defined_attributes: Option<BTreeMap<String, String>>,
    unsigned_attributes: BTreeMap<String, serde_json::Value>,
    certificates: Vec<CertificateJson>,
    signed_artifact: SignedArtifactJson,
}

/// A timestamp countersignature as `inspect -o json` shows it (notation's `json.timestamp`):
/// the range genTime ± accuracy and the token's certificates, or why it cannot be read.
#[derive(Serialize)]
struct TimestampJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    timestamp: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    certificates: Vec<CertificateJson>,
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
}

/// The envelope's timestamp countersignature as `inspect` shows it (notation does not verify
/// it there): the token parses and its messageImprint matches the signature; the range
/// genTime ± accuracy and the certificates the token carries. `None` without one.
fn inspected_timestamp(env: &Envelope) -> Option<Result<(Timestamp, Vec<Certificate>), String>> {
    let token = env.timestamp_signature()?;
    Some(
        TimestampToken::parse(token)
            .and_then(|t| {
                let range = t.info().validate(env.signature())?;
                Ok((range, t.certificates().cloned().collect()))
            })
            .map_err(|e| format!("failed to parse timestamp countersignature: {e}")),
    )
}

/// A time as Go's `time.RFC3339Nano` writes a UTC time (fraction without trailing zeros).
fn go_rfc3339_nano(t: SystemTime) -> Result<String> {
    let seconds = rfc3339::format(t)?;
    let nanos = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    if nanos == 0 {
        return Ok(seconds);
    }
    let fraction = format!("{nanos:09}");
    Ok(format!(
        "{}.{}Z",
        seconds.trim_end_matches('Z'),
        fraction.trim_end_matches('0')
    ))
}

fn certificate_json(c: &Certificate) -> Result<CertificateJson> {
    Ok(CertificateJson {
        sha256_fingerprint: fingerprint(c),
        issued_to: c.subject(),
        issued_by: c.issuer(),
        expiry: rfc3339::format(c.not_after())?,
    })
}

/// `inspect -o json`'s document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InspectJson {
    media_type: String,
    signatures: Vec<SignatureJson>,
}

fn inspect_json(
    digest: &str,
    envelope_type: EnvelopeType,
    env: &Envelope,
) -> Result<SignatureJson> {
    let payload = Payload::from_json(env.payload())?;
    let mut signed = BTreeMap::new();
    signed.insert("contentType".into(), PAYLOAD_MEDIA_TYPE.to_owned());
    signed.insert(
        "signingScheme".into(),
        env.signing_scheme().as_str().to_owned(),
    );
    signed.insert("signingTime".into(), rfc3339::format(env.signing_time())?);
    if let Some(expiry) = env.expiry() {
        signed.insert("expiry".into(), rfc3339::format(expiry)?);
    }
    let mut unsigned = BTreeMap::new();
    if let Some(agent) = env.signing_agent() {
        unsigned.insert("signingAgent".into(), serde_json::Value::from(agent));
    }
    if let Some(shown) = inspected_timestamp(env) {
        let doc = match shown {
            Ok((range, certs)) => TimestampJson {
                timestamp: format!(
                    "[{}, {}]",
                    go_rfc3339_nano(range.lower_limit())?,
                    go_rfc3339_nano(range.upper_limit())?
                ),
                certificates: certs.iter().map(certificate_json).collect::<Result<_>>()?,
                error: String::new(),
            },
            Err(error) => TimestampJson {
                timestamp: String::new(),
                certificates: Vec::new(),
                error,
            },
        };
        unsigned.insert("timestampSignature".into(), serde_json::to_value(doc)?);
    }
    let certificates = env
        .cert_chain()
        .iter()
        .map(certificate_json)
        .collect::<Result<_>>()?;
    let t = &payload.target_artifact;
    Ok(SignatureJson {
        digest: digest.to_owned(),
        signature_algorithm: algorithm_name(env.alg()).to_owned(),
        signature_envelope_type: envelope_type.media_type().to_owned(),
        signed_attributes: signed,
        user_defined_attributes: (!t.annotations.is_empty()).then(|| t.annotations.clone()),
        unsigned_attributes: unsigned,
        certificates,
        signed_artifact: SignedArtifactJson {
            media_type: t.media_type.clone(),
            digest: t.digest.to_string(),
            size: t.size,
            artifact_type: t.artifact_type.clone(),
        },
    })
}

/// JSON as Go's `json.Encoder` writes it with `SetIndent("", indent)`: `<`, `>`, `&`,
/// U+2028 and U+2029 escaped (they only occur inside strings), and a final newline.
fn go_json_pretty<T: Serialize>(value: &T, indent: &str) -> Result<String> {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    value.serialize(&mut ser)?;
    let text = String::from_utf8(buf).map_err(|e| anyhow!("JSON output is not UTF-8: {e}"))?;
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    Ok(out)
}

fn write_stdout(text: &str) -> Result<()> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("cannot write to stdout")
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

/// A `certificates` node at `depth` with one subtree per certificate.
fn certificate_items(items: &mut Vec<(usize, String)>, depth: usize, certs: &[Certificate]) {
    items.push((depth, "certificates".to_owned()));
    for c in certs {
        items.push((depth + 1, format!("SHA256 fingerprint: {}", fingerprint(c))));
        items.push((depth + 2, format!("issued to: {}", c.subject())));
        items.push((depth + 2, format!("issued by: {}", c.issuer())));
        items.push((
            depth + 2,
            format!("expiry: {}", trust::ansic(c.not_after())),
        ));
    }
}

fn inspect_items(
    digest: &str,
    envelope_type: EnvelopeType,
    env: &Envelope,
) -> Result<Vec<(usize, String)>> {
    let payload = Payload::from_json(env.payload())?;
    let mut items = vec![
        (0, digest.to_owned()),
        (
            1,
            format!("signature algorithm: {}", algorithm_name(env.alg())),
        ),
        (
            1,
            format!("signature envelope type: {}", envelope_type.media_type()),
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
    items.push((1, "user defined attributes".to_owned()));
    if t.annotations.is_empty() {
        items.push((2, "(empty)".to_owned()));
    }
    for (k, v) in &t.annotations {
        items.push((2, format!("{k}: {v}")));
    }
    items.push((1, "unsigned attributes".to_owned()));
    if let Some(agent) = env.signing_agent() {
        items.push((2, format!("signing agent: {agent}")));
    }
    if let Some(shown) = inspected_timestamp(env) {
        items.push((2, "timestamp signature".to_owned()));
        match shown {
            Ok((range, certs)) => {
                items.push((
                    3,
                    format!(
                        "timestamp: [{}, {}]",
                        trust::ansic(range.lower_limit()),
                        trust::ansic(range.upper_limit())
                    ),
                ));
                certificate_items(&mut items, 3, &certs);
            }
            Err(error) => items.push((3, format!("error: {error}"))),
        }
    }
    certificate_items(&mut items, 1, env.cert_chain());
    items.push((1, "signed artifact".to_owned()));
    items.push((2, format!("media type: {}", t.media_type)));
    items.push((2, format!("digest: {}", t.digest)));
    items.push((2, format!("size: {}", t.size)));
    Ok(items)
}

/// `notation inspect` (`json`: `--output json`).
pub async fn inspect(args: &ArtifactArgs<'_>, json_output: bool) -> Result<()> {
    let resolved = resolve(args, "inspect", MUTABLE_TAG).await?;
    let store = &resolved.store;
    let listing = signature_descriptors(store, &resolved.descriptor, args.max_signatures).await?;
    let mut items = Vec::new();
    let mut json_sigs = Vec::new();
    let mut skipped = false;
    for sig in &listing.signatures {
        let digest = sig.digest.to_string();
        let fetched = match fetch_signature(store, sig).await {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "Warning: unable to fetch signature {digest} due to error: {}",
                    crate::exit::render(&e)
                );
                skipped = true;
                continue;
            }
        };
        let envelope_type = fetched.parsed.envelope_type;
        let shown = Envelope::parse(envelope_type, &fetched.envelope)
            .map_err(anyhow::Error::from)
            .and_then(|env| {
                Ok((
                    inspect_json(&digest, envelope_type, &env)?,
                    inspect_items(&digest, envelope_type, &env)?,
                ))
            });
        match shown {
            Ok((json, tree)) => {
                json_sigs.push(json);
                items.extend(tree);
            }
            Err(e) => {
                eprintln!(
                    "Warning: Skipping signature {digest} because of error: {}",
                    crate::exit::render(&e)
                );
                skipped = true;
            }
        }
    }
    if json_output {
        let doc = InspectJson {
            media_type: resolved.descriptor.media_type.clone(),
            signatures: json_sigs,
        };
        write_stdout(&go_json_pretty(&doc, "  ")?)?;
    } else if items.is_empty() {
        println!("{} has no associated signature", resolved.display);
    } else {
        let mut out = format!(
            "Inspecting all signatures for signed artifact\n{}\n└── {ARTIFACT_TYPE}\n",
            resolved.display
        );
        out.push_str(&render_tree("    ", &items));
        print!("{out}");
    }
    if listing.exceeded {
        eprintln!("{}", exceeded_warning(args.max_signatures));
    }
    if skipped {
        bail!("at least one signature was skipped and not displayed");
    }
    Ok(())
}

/// `notation verify` options.
pub struct VerifyRequest<'a> {
    /// `--scope`: the repository the trust policy is selected by (required for layouts).
    pub scope: Option<&'a str>,
    /// `-m`: metadata the payload must carry.
    pub metadata: BTreeMap<String, String>,
    /// `--output json`.
    pub json: bool,
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
                    "trust policy is not present. To create a trust policy, see: {TRUST_POLICY_LINK}"
                ),
                Err(e) => bail!("cannot read {}: {e}", legacy.display()),
            }
        }
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    TrustPolicyDocument::from_json(&json).context("invalid OCI trust policy configuration")
}

/// One validation that ran, for `verify --output json`.
#[derive(Debug, Clone, Serialize)]
struct CheckResult {
    /// The validation (`integrity`, `authenticity`, …).
    #[serde(rename = "type")]
    validation: &'static str,
    /// What the policy does with its failure (`enforce`, `log`).
    action: &'static str,
    /// `passed` or `failed`.
    result: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The policy's outcome plus every validation that ran.
struct Checks {
    outcome: signet_notation_policy::Outcome,
    results: Vec<CheckResult>,
}

impl Checks {
    /// Runs `check` if the policy wants `validation` now; `Ok(false)` when verification stops.
    fn run(&mut self, validation: Validation, check: impl FnOnce() -> Result<()>) -> Result<bool> {
        if !self.outcome.should_run(validation) {
            return Ok(true);
        }
        let result = check().map_err(|e| crate::exit::render(&e));
        self.results.push(CheckResult {
            validation: validation.as_str(),
            action: self.outcome.action(validation).as_str(),
            result: if result.is_ok() { "passed" } else { "failed" },
            error: result.as_ref().err().cloned(),
        });
        let flow = self.outcome.record(validation, result)?;
        Ok(flow == signet_notation_policy::Flow::Continue)
    }
}

/// What verifying one signature gave.
enum SignatureResult {
    /// Verified.
    Verified {
        /// Failures of logged validations.
        logged: Vec<signet_notation_policy::Failure>,
        /// The payload's user metadata.
        metadata: BTreeMap<String, String>,
        /// Every validation that ran.
        checks: Vec<CheckResult>,
    },
    /// Rejected, with the reason.
    Rejected(String),
}

/// Verifies one fetched signature against the policy.
fn verify_one(
    policy: &signet_notation_policy::TrustPolicy,
    roots: &Result<Vec<Certificate>, String>,
    x509_root: &std::path::Path,
    fetched: &Fetched,
    target: &Descriptor,
    required: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<SignatureResult> {
    let mut checks = Checks {
        outcome: signet_notation_policy::Outcome::new(policy),
        results: Vec::new(),
    };
    // Integrity: the envelope parses and its signature verifies with the leaf key, the
    // manifest thumbprints match its chain, and the payload describes the target.
    let mut verified: Option<(Envelope, Payload)> = None;
    let go_on = checks.run(Validation::Integrity, || {
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
        return finish(checks, None, required);
    };
    let chain = env.cert_chain();
    let mut go_on = checks.run(Validation::Authenticity, || {
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
        go_on = checks.run(Validation::Expiry, || match env.expiry() {
            Some(expiry) if now > expiry => bail!(
                "digital signature has expired on {:?}",
                trust::ansic(expiry)
            ),
            _ => Ok(()),
        })?;
    }
    if go_on {
        go_on = checks.run(Validation::AuthenticTimestamp, || {
            signet_notation_policy::verify_authentic_timestamp(
                policy,
                &env,
                now,
                || trust::tsa_roots(x509_root, policy).map_err(|e| crate::exit::render(&e)),
                |tsa_chain| {
                    trust::check_revocation_offline(tsa_chain, ChainPurpose::Timestamping)
                        .map_err(|e| crate::exit::render(&e))
                },
            )
            .map(|_| ())
            .map_err(anyhow::Error::from)
        })?;
    }
    if go_on {
        checks.run(Validation::Revocation, || {
            trust::check_revocation_offline(chain, ChainPurpose::CodeSigning)
        })?;
    }
    finish(checks, Some(&payload), required)
}

fn finish(
    checks: Checks,
    payload: Option<&Payload>,
    required: &BTreeMap<String, String>,
) -> Result<SignatureResult> {
    let verdict = checks.outcome.finish()?;
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
        checks: checks.results,
    })
}

/// `verify --output json`: the fields of notation's verify JSON output (notation #527:
/// `reference`, `userMetadata`, `result`), then signet's details of the verified signature.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyJson<'a> {
    reference: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    user_metadata: BTreeMap<String, String>,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    verification_level: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    verification_results: Vec<CheckResult>,
}

/// `notation verify`.
pub async fn verify(args: &ArtifactArgs<'_>, request: VerifyRequest<'_>) -> Result<()> {
    let policies = load_policy(args.dirs)?;
    let is_layout = args.oci_layout || args.reference.starts_with("oci:");
    if is_layout && request.scope.is_none() {
        bail!(
            "--scope is required when verifying an OCI layout: it names the repository whose trust policy applies"
        );
    }
    let resolved = resolve(args, "verify", MUTABLE_TAG).await?;
    let repository = match (request.scope, &resolved.image) {
        (Some(scope), _) => scope.to_owned(),
        (None, ImageRef::Registry(r)) => r.repository_name(),
        (None, ImageRef::Layout { .. }) => {
            bail!("--scope is required when verifying an OCI layout")
        }
    };
    let artifact_ref = format!("{repository}@{}", resolved.descriptor.digest);
    let policy = policies.select(&repository).map_err(|e| match e {
        signet_notation_policy::Error::NoApplicablePolicy { .. } => anyhow!(
            "signature verification failed: artifact {artifact_ref:?} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: {TRUST_POLICY_LINK}"
        ),
        other => anyhow!("signature verification failed: {other}"),
    })?;
    if policy.level() == Level::Skip {
        if request.json {
            let doc = VerifyJson {
                reference: &resolved.display,
                user_metadata: BTreeMap::new(),
                result: "SkippedByTrustPolicy",
                signature: None,
                verification_level: Level::Skip.as_str(),
                verification_results: Vec::new(),
            };
            write_stdout(&go_json_pretty(&doc, "    ")?)?;
        } else {
            println!(
                "Trust policy is configured to skip signature verification for {}",
                resolved.display
            );
        }
        return Ok(());
    }
    let store = &resolved.store;
    let listing = signature_descriptors(store, &resolved.descriptor, args.max_signatures).await?;
    if listing.signatures.is_empty() {
        bail!(
            "signature verification failed: no signature is associated with {artifact_ref:?}, make sure the artifact was signed successfully"
        );
    }
    let x509_root = args.dirs.x509_store_root();
    let roots = trust::ca_roots(&x509_root, policy).map_err(|e| crate::exit::render(&e));
    let now = SystemTime::now();
    let mut reasons = Vec::new();
    for sig in &listing.signatures {
        let result = match fetch_signature(store, sig).await {
            Ok(fetched) => verify_one(
                policy,
                &roots,
                &x509_root,
                &fetched,
                &resolved.descriptor,
                &request.metadata,
                now,
            )?,
            Err(e) => SignatureResult::Rejected(format!(
                "unable to retrieve digital signature with digest {:?} associated with {artifact_ref:?} from the Repository, error : {}",
                sig.digest.to_string(),
                crate::exit::render(&e)
            )),
        };
        match result {
            SignatureResult::Verified {
                logged,
                metadata,
                checks,
            } => {
                for failure in logged {
                    eprintln!(
                        "Warning: {} was set to \"log\" and failed with error: {}",
                        failure.validation, failure.reason
                    );
                }
                if request.json {
                    let doc = VerifyJson {
                        reference: &resolved.display,
                        user_metadata: metadata,
                        result: "Success",
                        signature: Some(sig.digest.to_string()),
                        verification_level: policy.level().as_str(),
                        verification_results: checks,
                    };
                    return write_stdout(&go_json_pretty(&doc, "    ")?);
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
    if listing.exceeded {
        reasons.insert(
            0,
            format!(
                "signature evaluation stopped. The configured limit of {} signatures to verify per artifact exceeded",
                args.max_signatures
            ),
        );
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
    fn flag_maps() {
        let m = parse_flag_map(&["a=b".into(), "c=d=e".into()], "user-metadata").unwrap();
        assert_eq!(m["c"], "d=e");
        let err = parse_flag_map(&["x".into()], "user-metadata").unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not parse flag user-metadata: key-value pair requires \"=\" as separator"
        );
        assert!(parse_flag_map(&["=v".into()], "m").is_err());
        assert!(parse_flag_map(&["k=".into()], "m").is_err());
        // A repeated key takes the last value, as notation's ParseFlagMap.
        let m = parse_flag_map(&["a=1".into(), "a=2".into()], "m").unwrap();
        assert_eq!(m["a"], "2");
    }

    #[test]
    fn references_need_a_tag_or_digest() {
        assert!(names_tag_or_digest("localhost:5000/app:v1"));
        assert!(names_tag_or_digest("localhost:5000/app@sha256:abc"));
        assert!(names_tag_or_digest("docker://r.example/a/b:1"));
        assert!(!names_tag_or_digest("localhost:5000/app"));
        assert!(!names_tag_or_digest("r.example/team/app"));
    }

    #[test]
    fn go_style_json() {
        let v = serde_json::json!({"a": "<x> & y", "b": [1]});
        assert_eq!(
            go_json_pretty(&v, "  ").unwrap(),
            "{\n  \"a\": \"\\u003cx\\u003e \\u0026 y\",\n  \"b\": [\n    1\n  ]\n}\n"
        );
    }

    #[test]
    fn go_rfc3339_nano_trims_the_fraction() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_687_557_841);
        assert_eq!(go_rfc3339_nano(t).unwrap(), "2023-06-23T22:04:01Z");
        let half = t + Duration::from_millis(500);
        assert_eq!(go_rfc3339_nano(half).unwrap(), "2023-06-23T22:04:01.5Z");
        let nanos = t + Duration::from_nanos(1_020);
        assert_eq!(
            go_rfc3339_nano(nanos).unwrap(),
            "2023-06-23T22:04:01.00000102Z"
        );
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
