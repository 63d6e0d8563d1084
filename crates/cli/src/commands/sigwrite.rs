//! Appending a layer to an image's `sha256-<hex>.sig` signature image without losing
//! concurrent writers' layers.
//!
//! The distribution API has no compare-and-swap for tags, so a read-modify-write can be
//! overwritten by a writer that read before us. After each write we wait a settle period
//! (longer than our own read-to-write time, which bounds a concurrent writer's window), read
//! the tag again and re-append if our layer is gone. Every writer does the same, so each one
//! ends only after seeing its own layer survive the window in which another could drop it.
//! Right before the write, a HEAD of the tag checks that nothing was written since our read
//! (otherwise the attempt starts over), so a writer slowed down between its read and its
//! write does not drop layers that others wrote and already confirmed.
//! Concurrent signers of one image upload the same payload blob; a manifest write that the
//! registry refuses because that blob is momentarily unknown starts the attempt over.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use signet_oci::Digest;
use signet_registry::Store;
use signet_registry::contention::{jitter, settle};
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
    Ok(read_versioned(store, tag).await?.0)
}

/// The current signature image and the digest of its manifest (`None`: no tag yet).
async fn read_versioned(store: &Store, tag: &str) -> Result<(SignatureImage, Option<Digest>)> {
    let Some(manifest) = store
        .get_manifest(tag)
        .await
        .with_context(|| format!("reading signature manifest {tag}"))?
    else {
        return Ok((SignatureImage::empty(docker_media_types()), None));
    };
    let parsed = signet_oci::Manifest::from_slice(&manifest.bytes)?;
    let config = store
        .get_blob(&parsed.config.digest, MAX_CONFIG_BYTES)
        .await
        .context("reading signature image config")?;
    let image = SignatureImage::from_parts(&manifest.bytes, &config)?;
    Ok((image, Some(manifest.digest)))
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
    // Content-addressed and the same in every attempt: uploaded once, before the
    // read-modify-write, to keep the window in which a concurrent writer can interleave short.
    store
        .put_blob(&layer.payload)
        .await
        .context("uploading the payload")?;
    for attempt in 0..MAX_ATTEMPTS {
        let started = Instant::now();
        let (mut image, version) = read_versioned(store, &tag).await?;
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
            .put_blob(&image.config_bytes())
            .await
            .context("uploading the signature image config")?;
        // The last moment to notice a write that landed since our read (the config upload
        // may have been slow, or retried): then start over instead of dropping its layers.
        let current = store
            .head_manifest(&tag)
            .await
            .with_context(|| format!("checking signature manifest {tag}"))?
            .map(|h| h.digest);
        if current != version {
            tracing_note(attempt);
            continue;
        }
        match store
            .put_manifest(&tag, &image.manifest_bytes(), image.media_type())
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_blob_in_flux() && attempt + 1 < MAX_ATTEMPTS => {
                // Another signer is uploading the same payload blob (same image, same
                // payload bytes) and the registry briefly does not know it: start over.
                tracing_note(attempt);
                tokio::time::sleep(jitter(attempt + 1)).await;
                continue;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("writing signature manifest {tag}"));
            }
        }
        let window = started.elapsed();
        tokio::time::sleep(settle(window, attempt)).await;
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

fn tracing_note(attempt: u32) {
    if std::env::var_os("SIGNET_DEBUG").is_some() {
        eprintln!(
            "a concurrent writer replaced the signature layer or its payload blob; retrying (attempt {})",
            attempt + 2
        );
    }
}
