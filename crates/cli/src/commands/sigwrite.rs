//! Appending a layer to an image's `sha256-<hex>.sig` signature image without losing
//! concurrent writers' layers.
//!
//! The distribution API has no compare-and-swap for tags, so a read-modify-write can be
//! overwritten by a writer that read before us. After each write we wait a settle period
//! (longer than our own read-to-write time, which bounds a concurrent writer's window), read
//! the tag again and re-append if our layer is gone. Every writer does the same, so each one
//! ends only after seeing its own layer survive the window in which another could drop it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use signet_oci::Digest;
use signet_registry::Store;
use signet_sigstore::{SignatureImage, SignatureLayer};

/// Most payload bytes we fetch for one signature (cosign's `COSIGN_MAX_ATTACHMENT_SIZE` default).
pub const MAX_PAYLOAD_BYTES: u64 = 128 * 1024 * 1024;
/// Most bytes of a signature image config.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;
const MAX_ATTEMPTS: u32 = 12;

/// What happened to the layer.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The layer was added.
    Added,
    /// An equivalent signature was already there (cosign's de-duplication).
    AlreadyPresent,
}

/// Reads the current signature image for `digest` (an empty one if there is none).
pub async fn read_signature_image(store: &Store, tag: &str) -> Result<SignatureImage> {
    let Some(manifest) = store
        .get_manifest(tag)
        .await
        .with_context(|| format!("reading signature manifest {tag}"))?
    else {
        return Ok(SignatureImage::empty(docker_media_types()));
    };
    let parsed = signet_oci::Manifest::from_slice(&manifest.bytes)?;
    let config = store
        .get_blob(&parsed.config.digest, MAX_CONFIG_BYTES)
        .await
        .context("reading signature image config")?;
    Ok(SignatureImage::from_parts(&manifest.bytes, &config)?)
}

fn docker_media_types() -> bool {
    std::env::var("COSIGN_DOCKER_MEDIA_TYPES")
        .ok()
        .and_then(|v| crate::cli::go_bool(&v).ok())
        .unwrap_or(false)
}

/// Decides whether an existing signature (raw bytes) over the same payload was made by the
/// signing key — cosign's de-duplication test.
pub type SameKey<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// Appends `layer` to the signature image of `digest` in `store`. With `dedup`, a layer that
/// is equivalent to an existing one (same payload and annotations, signature by the same key,
/// as `dedup` decides) is not added again.
pub async fn append(
    store: &Store,
    digest: &Digest,
    layer: &SignatureLayer,
    dedup: Option<SameKey<'_>>,
) -> Result<Outcome> {
    let tag = digest.tag_with_suffix("sig");
    for attempt in 0..MAX_ATTEMPTS {
        let started = Instant::now();
        let mut image = read_signature_image(store, &tag).await?;
        if let Some(verifies) = dedup
            && image.has_equivalent(layer, verifies)
        {
            return Ok(Outcome::AlreadyPresent);
        }
        if image.contains_layer(layer) {
            return Ok(Outcome::AlreadyPresent);
        }
        image.append(layer)?;
        store
            .put_blob(&layer.payload)
            .await
            .context("uploading the payload")?;
        store
            .put_blob(&image.config_bytes())
            .await
            .context("uploading the signature image config")?;
        store
            .put_manifest(&tag, &image.manifest_bytes(), image.media_type())
            .await
            .with_context(|| format!("writing signature manifest {tag}"))?;
        let window = started.elapsed();
        let settle = (window * 3).max(Duration::from_millis(40)) + jitter(attempt);
        tokio::time::sleep(settle).await;
        let after = read_signature_image(store, &tag).await?;
        if after.contains_layer(layer) {
            return Ok(Outcome::Added);
        }
        tracing_note(attempt);
    }
    bail!(
        "could not add the signature to {tag}: concurrent writers kept replacing it ({MAX_ATTEMPTS} attempts)"
    )
}

fn jitter(attempt: u32) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    // Spread retries of writers that collided; no need for a cryptographic source.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(u64::from(nanos % 50) * u64::from(attempt.min(4) + 1))
}

fn tracing_note(attempt: u32) {
    if std::env::var_os("SIGNET_DEBUG").is_some() {
        eprintln!(
            "signature layer was overwritten by a concurrent writer; retrying (attempt {})",
            attempt + 2
        );
    }
}
