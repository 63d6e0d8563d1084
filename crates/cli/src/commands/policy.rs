//! containers-policy.json mode: `verify --policy` and `sign --openpgp-key`.
//!
//! The shell part of policy evaluation: read the policy (a path, `file://` or `kbs://`), the
//! registries.d configuration, the image's manifest and signatures from its transport
//! (registry: lookaside simple signatures, plus `.sig` attachments where registries.d enables
//! them; `oci:` layouts: `.sig` attachments; skopeo `dir:`: `signature-N` files), fetch every
//! resource the matching requirements name, then let `signet_policy` decide with
//! [`crate::verifiers::Verifiers`] doing the cryptography. Exit 0 accepted, 12 rejected,
//! 1 anything else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use signet_oci::{Digest, Manifest};
use signet_policy::{EvaluationInput, ImageName, Policy, ResourceRef, Signature, Transport};
use signet_registry::lookaside::{self, StoredSignature};
use signet_registry::{DirImage, ImageRef, RegistriesD, ResourceFetcher, Store};

use crate::cli::{OutputFormat, SignArgs, VerifyArgs};
use crate::exit::PolicyRejected;
use crate::image::Session;
use crate::verifiers::Verifiers;

const MAX_ATTACHMENT_BYTES: u64 = 4 * 1024 * 1024;

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// containers/image's choice: the user's file if it exists, else the system one.
fn default_policy() -> Result<PathBuf> {
    if let Some(user) = home().map(|h| h.join(".config/containers/policy.json"))
        && user.exists()
    {
        return Ok(user);
    }
    let system = PathBuf::from("/etc/containers/policy.json");
    if system.exists() {
        return Ok(system);
    }
    bail!(
        "no policy found: neither ~/.config/containers/policy.json nor /etc/containers/policy.json exists (pass --policy FILE)"
    )
}

fn registries_dirs(given: &[String]) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.iter().map(PathBuf::from).collect();
    }
    if let Some(user) = home().map(|h| h.join(".config/containers/registries.d"))
        && user.is_dir()
    {
        return vec![user];
    }
    vec![PathBuf::from("/etc/containers/registries.d")]
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The lookaside location used when registries.d names none (containers/image's default).
fn default_lookaside() -> String {
    if running_as_root() {
        return "file:///var/lib/containers/sigstore".to_string();
    }
    match home() {
        Some(h) => format!("file://{}/.local/share/containers/sigstore", h.display()),
        None => "file:///var/lib/containers/sigstore".to_string(),
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Gathered {
    transport: Transport,
    image: ImageName,
    manifest: Vec<u8>,
    signatures: Vec<Signature>,
}

/// The `.sig` attachment layers of `digest` in `store`, as containers/image reads them.
async fn attachments(store: &Store, digest: &Digest) -> Result<Vec<Signature>> {
    let Some(m) = store.get_manifest(&digest.tag_with_suffix("sig")).await? else {
        return Ok(Vec::new());
    };
    let manifest =
        Manifest::from_slice(&m.bytes).context("the sigstore attachment manifest is malformed")?;
    let mut out = Vec::new();
    for layer in manifest.layers {
        let payload = store
            .get_blob(&layer.digest, MAX_ATTACHMENT_BYTES)
            .await
            .with_context(|| format!("fetching sigstore attachment {}", layer.digest))?;
        out.push(Signature::Sigstore {
            mime_type: layer.media_type,
            payload,
            annotations: layer.annotations,
        });
    }
    Ok(out)
}

fn decode_stored(blobs: Vec<Vec<u8>>) -> Vec<Signature> {
    blobs
        .into_iter()
        .filter_map(|b| match StoredSignature::parse(&b) {
            Ok(StoredSignature::SimpleSigning(s)) => Some(Signature::SimpleSigning(s)),
            Ok(StoredSignature::Sigstore {
                mime_type,
                payload,
                annotations,
            }) => Some(Signature::Sigstore {
                mime_type,
                payload,
                annotations,
            }),
            // An unreadable stored signature is not a signature; the policy then rejects if
            // nothing else is accepted.
            Err(_) => None,
        })
        .collect()
}

async fn gather(
    session: &Session,
    http: &reqwest::Client,
    registries: &RegistriesD,
    input: &str,
) -> Result<Gathered> {
    if let Some(path) = input.strip_prefix("dir:") {
        let dir = DirImage::open(path)?;
        let (manifest, _) = dir.manifest()?;
        let resolved = std::fs::canonicalize(path).with_context(|| format!("resolving {path}"))?;
        return Ok(Gathered {
            transport: Transport::Dir,
            image: ImageName::Path(resolved.display().to_string()),
            manifest,
            signatures: decode_stored(dir.signatures()?),
        });
    }
    let target = session.open(input)?;
    // One GET by tag or digest gives both the manifest bytes and the digest.
    let fetched = target
        .store
        .get_manifest(&target.image.identifier())
        .await?
        .with_context(|| format!("image not found: {input}"))?;
    match &target.image {
        ImageRef::Registry(reference) => {
            let stripped = input.strip_prefix("docker://").unwrap_or(input);
            let image = ImageName::docker(stripped)
                .map_err(|e| anyhow::anyhow!("invalid image {input:?}: {e}"))?;
            let storage = registries.lookup(reference);
            let base = storage
                .config
                .read_location()
                .map(str::to_string)
                .unwrap_or_else(default_lookaside);
            let mut signatures = decode_stored(
                lookaside::read_signatures(http, &base, reference, &fetched.digest).await?,
            );
            if storage.config.use_sigstore_attachments == Some(true) {
                signatures.extend(attachments(&target.sig_store, &fetched.digest).await?);
            }
            Ok(Gathered {
                transport: Transport::Docker,
                image,
                manifest: fetched.bytes,
                signatures,
            })
        }
        ImageRef::Layout { path, tag, .. } => {
            let dir = std::fs::canonicalize(path)
                .with_context(|| format!("resolving {}", path.display()))?;
            let dir = dir.display().to_string();
            let namespaces = ImageName::Path(dir.clone()).policy_namespaces(&Transport::Oci);
            let identity = match tag {
                Some(t) => format!("{dir}:{t}"),
                None => dir.clone(),
            };
            Ok(Gathered {
                transport: Transport::Oci,
                image: ImageName::Custom {
                    display: format!("oci:{identity}"),
                    identity,
                    namespaces,
                    docker_reference: None,
                },
                manifest: fetched.bytes,
                signatures: attachments(&target.sig_store, &fetched.digest).await?,
            })
        }
    }
}

/// `verify --policy`.
pub async fn verify(args: &VerifyArgs, policy_arg: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let fetcher = ResourceFetcher::new(http.clone(), args.kbs_url.clone());
    let policy_uri = if policy_arg == "default" {
        default_policy()?.display().to_string()
    } else {
        policy_arg.to_string()
    };
    let bytes = fetcher.fetch(&policy_uri).await?;
    let policy = Policy::parse(&bytes).with_context(|| format!("policy {policy_uri}"))?;
    let registries = RegistriesD::load(&registries_dirs(&args.registries_d))?;
    let session = Session::new(&args.registry)?;
    let now = SystemTime::now();
    let verifiers = Verifiers { now };
    let mut rejected = Vec::new();
    let mut json = Vec::new();
    // Keys, CA bundles and other resources are fetched once per run, however many images
    // the policy evaluates (one connection pool, one cache).
    let mut cache: BTreeMap<ResourceRef, Result<Vec<u8>, String>> = BTreeMap::new();
    // Images are fetched concurrently (bounded), evaluated in order.
    let gathered: Vec<Result<Gathered>> = futures::stream::iter(&args.images)
        .map(|input| gather(&session, &http, &registries, input))
        .buffered(16)
        .collect()
        .await;
    for (input, g) in args.images.iter().zip(gathered) {
        let g = g?;
        let mut resources = BTreeMap::new();
        for r in policy.resources_for(&g.transport, &g.image) {
            if !cache.contains_key(&r) {
                let fetched = fetcher.fetch(&r.0).await.map_err(|e| e.to_string());
                cache.insert(r.clone(), fetched);
            }
            if let Some(v) = cache.get(&r) {
                resources.insert(r, v.clone());
            }
        }
        let evaluation = EvaluationInput {
            transport: g.transport,
            image: g.image,
            manifest: g.manifest,
            signatures: g.signatures,
            resources,
            now_unix: unix(now),
        };
        let decision = policy.evaluate(&evaluation, &verifiers);
        match args.output {
            OutputFormat::Json => json.push(decision.to_json()),
            OutputFormat::Text => println!("{decision}"),
        }
        if !decision.accepted {
            rejected.push(format!(
                "{input}: {}",
                decision.error().unwrap_or("rejected by policy")
            ));
        }
    }
    if args.output == OutputFormat::Json {
        println!("[{}]", json.join(","));
    }
    if !rejected.is_empty() {
        return Err(PolicyRejected(format!(
            "rejected by policy {policy_uri}: {}",
            rejected.join("; ")
        ))
        .into());
    }
    Ok(())
}

fn read_passphrase(path: &str) -> Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading passphrase file {path}"))?;
    Ok(text.lines().next().unwrap_or_default().as_bytes().to_vec())
}

/// `sign --openpgp-key`: an atomic container signature for each image reference as given
/// (tag included, as skopeo's default identity), stored as the next `signature-N` in the
/// lookaside-staging location registries.d names for the registry.
pub async fn sign_openpgp(args: &SignArgs) -> Result<()> {
    let key_path = args
        .openpgp_key
        .as_deref()
        .context("--key or --openpgp-key is required")?;
    let armored = std::fs::read_to_string(key_path)
        .with_context(|| format!("reading OpenPGP key {key_path}"))?;
    let passphrase = args
        .passphrase_file
        .as_deref()
        .map(read_passphrase)
        .transpose()?;
    let key = signet_simple::SecretKey::from_armored(&armored, passphrase.as_deref())
        .with_context(|| format!("loading OpenPGP key {key_path}"))?;
    let registries = RegistriesD::load(&registries_dirs(&args.registries_d))?;
    let session = Session::new(&args.registry)?;
    for input in &args.images {
        let target = session.open(input)?;
        let ImageRef::Registry(reference) = &target.image else {
            bail!(
                "OpenPGP simple signatures are stored in lookaside storage for registry images; {input} is not one"
            );
        };
        let digest = target.resolve(false).await?.digest;
        let stripped = input.strip_prefix("docker://").unwrap_or(input);
        let identity = ImageName::docker(stripped)
            .map_err(|e| anyhow::anyhow!("invalid image {input:?}: {e}"))?
            .docker_reference()
            .map(ToString::to_string)
            .context("the image has no docker reference")?;
        let now = SystemTime::now();
        let payload = signet_simple::UntrustedSignature::new(
            digest.to_string(),
            identity,
            format!("signet {}", env!("CARGO_PKG_VERSION")),
            unix(now),
        )
        .to_json()?;
        let signature = signet_simple::sign(&payload, &key, now)?;
        let storage = registries.lookup(reference);
        let base = storage
            .config
            .write_location()
            .map(str::to_string)
            .unwrap_or_else(default_lookaside);
        let path = lookaside::write_signature(&base, reference, &digest, &signature)?;
        eprintln!(
            "Signature by {} written to {}",
            key.fingerprint(),
            display(&path)
        );
    }
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
