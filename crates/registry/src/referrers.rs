//! OCI 1.1 referrers: the artifacts (signatures, SBOMs, …) whose manifests name another
//! manifest as their `subject`.
//!
//! * Registries with the referrers API (`GET /v2/<name>/referrers/<digest>`) index a manifest
//!   with a `subject` when it is pushed, and answer the `PUT` with an `OCI-Subject` header.
//! * Registries without it (CNCF distribution, Docker Hub, GHCR) get the distribution spec's
//!   fallback: an OCI image index tagged `<alg>-<hex>` (the *referrers tag*) that clients
//!   read-modify-write. The distribution API has no compare-and-swap for tags, so a write can
//!   overwrite a concurrent writer's: after each write we wait a settle period (longer than
//!   our own read-to-write time), read the tag again and re-add our entry if it vanished;
//!   right before writing, a `HEAD` checks that nothing was written since our read. Every
//!   writer does the same, so none ends before seeing its own entry survive the window in
//!   which another could drop it. Entries are only ever added, never removed.
//! * A registry's answer to the referrers API counts as "API unavailable" (→ use the tag) for
//!   404 with any error code, 400, 405, 406 and a 200 that is not an OCI image index: the
//!   tolerant union of go-containerregistry's and oras-go's rules.
//! * OCI layouts list referrers from `index.json`; entries this crate adds carry
//!   `artifactType`, the manifest's annotations and [`SUBJECT_ANNOTATION`], so listing needs
//!   no manifest reads (entries written by other tools are read to find their subject).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;
use signet_oci::{Descriptor, Digest, ImageIndex, media_types};

use crate::Error;
use crate::client::{RegistryClient, Repo};
use crate::contention::{jitter, settle};

/// Annotation on the `index.json` entries of an OCI layout that records which manifest a
/// referrer refers to, so that listing referrers needs no manifest reads. Not part of the
/// descriptors [`Store::referrers`](crate::Store::referrers) returns.
pub const SUBJECT_ANNOTATION: &str = "dev.signet.referrer.subject";

/// How many read-modify-write rounds of the referrers tag before giving up.
const MAX_ATTEMPTS: u32 = 12;
/// How many times a referrer `PUT` refused for a blob being re-uploaded is tried.
const MAX_BLOB_ATTEMPTS: u32 = 5;

/// The referrers tag of `subject` (distribution spec "referrers tag schema"):
/// `<alg truncated to 32 characters>-<encoded truncated to 64 characters>`, characters not
/// allowed in a tag replaced by `-`. `sha256:abc…` → `sha256-abc…`.
pub fn referrers_tag(subject: &Digest) -> String {
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .take(max)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "{}-{}",
        clean(subject.algorithm(), 32),
        clean(subject.hex(), 64)
    )
}

/// Whether a referrers API answer with this (non-2xx) status means "the registry has no
/// referrers API": 404 (whatever the error code), 400, 405 and 406.
pub(crate) fn api_unavailable_status(status: u16) -> bool {
    matches!(status, 400 | 404 | 405 | 406)
}

/// A 200 referrers answer as an OCI image index; `None` if it is not one (wrong content type
/// and no OCI index `mediaType` in the body, or not an index document at all).
pub(crate) fn parse_api_page(content_type: &str, body: &[u8]) -> Option<ImageIndex> {
    let declared = media_types::of_manifest_bytes(body);
    let is_index_type = content_type == media_types::OCI_INDEX
        || ((content_type.is_empty() || content_type == "application/json")
            && declared == media_types::OCI_INDEX);
    if !is_index_type || !(declared.is_empty() || declared == media_types::OCI_INDEX) {
        return None;
    }
    let index = ImageIndex::from_slice(body).ok()?;
    (index.schema_version == 2).then_some(index)
}

/// Keeps the descriptors of `artifact_type` (all with `None`).
pub(crate) fn filter(descriptors: &mut Vec<Descriptor>, artifact_type: Option<&str>) {
    if let Some(at) = artifact_type {
        descriptors.retain(|d| d.artifact_type.as_deref() == Some(at));
    }
}

/// What a referrer manifest says about itself.
#[derive(Debug, Clone)]
pub(crate) struct Referrer {
    /// The manifest it refers to.
    pub subject: Digest,
    /// Its entry in a referrers index: media type, digest, size, artifact type, annotations.
    pub descriptor: Descriptor,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestParts {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<ConfigPart>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigPart {
    #[serde(default)]
    media_type: Option<String>,
}

/// Reads subject, artifact type and annotations of a manifest; `Ok(None)` if it names no
/// subject, an error if it is not a manifest at all. The artifact type is the manifest's
/// `artifactType`, else its config's media type (as the distribution spec asks of referrers
/// API answers). `media_type` is the one the manifest is stored with (empty: its own
/// `mediaType` field).
pub(crate) fn describe(bytes: &[u8], media_type: &str) -> Result<Option<Referrer>, String> {
    let parts: ManifestParts =
        serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))?;
    let Some(subject) = parts.subject else {
        return Ok(None);
    };
    let media_type = if media_type.is_empty() {
        parts.media_type.unwrap_or_default()
    } else {
        media_type.to_string()
    };
    if media_type.is_empty() {
        return Err("the manifest has no media type".to_string());
    }
    let artifact_type = parts
        .artifact_type
        .filter(|a| !a.is_empty())
        .or_else(|| parts.config.and_then(|c| c.media_type))
        .filter(|a| !a.is_empty());
    let mut descriptor = Descriptor::for_bytes(&media_type, bytes);
    descriptor.artifact_type = artifact_type;
    descriptor.annotations = parts.annotations.unwrap_or_default();
    Ok(Some(Referrer {
        subject: subject.digest,
        descriptor,
    }))
}

/// [`describe`] for a manifest about to be pushed: it must name a subject.
pub(crate) fn describe_for_push(bytes: &[u8], media_type: &str) -> Result<Referrer, Error> {
    let invalid = |reason: String| Error::InvalidReferrer { reason };
    describe(bytes, media_type)
        .map_err(invalid)?
        .ok_or_else(|| invalid("the manifest has no subject".to_string()))
}

fn empty_index() -> ImageIndex {
    ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_string()),
        manifests: Vec::new(),
        annotations: BTreeMap::new(),
        subject: None,
    }
}

/// The referrers tag index of `subject` and the digest of its manifest (`None`: no tag).
async fn read_tag_index(
    client: &RegistryClient,
    repo: &Repo,
    tag: &str,
) -> Result<(ImageIndex, Option<Digest>), Error> {
    let Some(m) = client.get_manifest(repo, tag).await? else {
        return Ok((empty_index(), None));
    };
    let index = ImageIndex::from_slice(&m.bytes).map_err(|e| Error::ReferrersIndex {
        location: format!("{repo}:{tag}"),
        reason: format!("the referrers tag does not hold an image index: {e}"),
    })?;
    Ok((index, Some(m.digest)))
}

/// Referrers from the referrers tag (no tag: none).
pub(crate) async fn from_tag(
    client: &RegistryClient,
    repo: &Repo,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Vec<Descriptor>, Error> {
    let (index, _) = read_tag_index(client, repo, &referrers_tag(subject)).await?;
    let mut found = index.manifests;
    filter(&mut found, artifact_type);
    Ok(found)
}

/// Pushes a referrer manifest by digest, and adds it to the referrers tag unless the registry
/// said (with `OCI-Subject`) that its referrers API indexed it.
pub(crate) async fn push(
    client: &RegistryClient,
    repo: &Repo,
    manifest: &[u8],
    media_type: &str,
) -> Result<Digest, Error> {
    push_inner(client, repo, manifest, media_type, false).await
}

/// Pushes a referrer manifest by digest and always adds it to the referrers tag index, even
/// when the registry's referrers API indexed it (`OCI-Subject`): notation's
/// `sign --force-referrers-tag`, for readers that only know the tag schema. Same guards
/// against concurrent writers as [`Store::push_referrer`](crate::Store::push_referrer).
pub async fn push_forcing_tag(
    client: &RegistryClient,
    repo: &Repo,
    manifest: &[u8],
    media_type: &str,
) -> Result<Digest, Error> {
    push_inner(client, repo, manifest, media_type, true).await
}

async fn push_inner(
    client: &RegistryClient,
    repo: &Repo,
    manifest: &[u8],
    media_type: &str,
    force_tag: bool,
) -> Result<Digest, Error> {
    let referrer = describe_for_push(manifest, media_type)?;
    let digest = referrer.descriptor.digest.clone();
    let mut attempt = 0;
    let put = loop {
        match client
            .put_manifest_detailed(repo, &digest.to_string(), manifest, media_type)
            .await
        {
            Err(e) if e.is_blob_in_flux() && attempt + 1 < MAX_BLOB_ATTEMPTS => {
                attempt += 1;
                tracing::debug!(
                    attempt,
                    "a blob of the referrer is being re-uploaded; retrying"
                );
                tokio::time::sleep(jitter(attempt) + Duration::from_millis(20)).await;
            }
            other => break other?,
        }
    };
    if put.oci_subject.is_some() && !force_tag {
        return Ok(digest);
    }
    add_to_tag(client, repo, &referrer).await?;
    Ok(digest)
}

/// Read-modify-write of the referrers tag index that survives concurrent writers.
async fn add_to_tag(
    client: &RegistryClient,
    repo: &Repo,
    referrer: &Referrer,
) -> Result<(), Error> {
    let tag = referrers_tag(&referrer.subject);
    let entry = &referrer.descriptor;
    let present = |index: &ImageIndex| index.manifests.iter().any(|d| d.digest == entry.digest);
    for attempt in 0..MAX_ATTEMPTS {
        let started = Instant::now();
        let (mut index, version) = read_tag_index(client, repo, &tag).await?;
        if present(&index) {
            return Ok(());
        }
        index.manifests.push(entry.clone());
        if index.media_type.is_none() {
            index.media_type = Some(media_types::OCI_INDEX.to_string());
        }
        // The last moment to notice a write that landed since our read: then start over
        // instead of dropping its entries.
        let current = client.head_manifest(repo, &tag).await?.map(|h| h.digest);
        if current != version {
            tracing::debug!(tag, attempt, "referrers tag changed since read; retrying");
            tokio::time::sleep(jitter(attempt + 1)).await;
            continue;
        }
        client
            .put_manifest(repo, &tag, &index.to_go_json(), media_types::OCI_INDEX)
            .await?;
        tokio::time::sleep(settle(started.elapsed(), attempt)).await;
        let (after, _) = read_tag_index(client, repo, &tag).await?;
        if present(&after) {
            return Ok(());
        }
        tracing::debug!(
            tag,
            attempt,
            "a concurrent writer replaced the referrers index; retrying"
        );
    }
    Err(Error::ReferrersIndex {
        location: format!("{repo}:{tag}"),
        reason: format!(
            "could not add {}: concurrent writers kept replacing the referrers index ({MAX_ATTEMPTS} attempts)",
            entry.digest
        ),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn tag_schema() {
        let d = Digest::sha256(b"x");
        assert_eq!(referrers_tag(&d), format!("sha256-{}", d.hex()));
    }

    #[rstest]
    #[case(404, true)]
    #[case(400, true)]
    #[case(405, true)]
    #[case(406, true)]
    #[case(401, false)]
    #[case(403, false)]
    #[case(500, false)]
    #[case(502, false)]
    #[case(429, false)]
    fn unavailable_statuses(#[case] status: u16, #[case] unavailable: bool) {
        assert_eq!(api_unavailable_status(status), unavailable);
    }

    const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    const BARE: &str = r#"{"schemaVersion":2,"manifests":[]}"#;

    #[rstest]
    #[case(media_types::OCI_INDEX, INDEX, true)]
    #[case(media_types::OCI_INDEX, BARE, true)]
    #[case("application/json", INDEX, true)]
    #[case("", INDEX, true)]
    #[case("application/json", BARE, false)]
    #[case("text/html", "<html>not found</html>", false)]
    #[case(media_types::OCI_INDEX, "<html>", false)]
    #[case(media_types::DOCKER_MANIFEST_LIST, INDEX, false)]
    #[case(
        media_types::OCI_INDEX,
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
        false
    )]
    #[case(media_types::OCI_INDEX, r#"{"schemaVersion":1,"manifests":[]}"#, false)]
    fn api_pages(#[case] content_type: &str, #[case] body: &str, #[case] is_index: bool) {
        assert_eq!(
            parse_api_page(content_type, body.as_bytes()).is_some(),
            is_index
        );
    }

    fn sig(artifact_type: Option<&str>, config_type: &str) -> Vec<u8> {
        let at = artifact_type
            .map(|a| format!(r#""artifactType":"{a}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{}",{at}"config":{{"mediaType":"{config_type}","size":2,"digest":"{}"}},"layers":[],"subject":{{"mediaType":"{}","size":3,"digest":"{}"}},"annotations":{{"k":"v"}}}}"#,
            media_types::OCI_MANIFEST,
            Digest::sha256(b"{}"),
            media_types::OCI_MANIFEST,
            Digest::sha256(b"img"),
        )
        .into_bytes()
    }

    #[test]
    fn describes_referrers() {
        let bytes = sig(
            Some("application/vnd.cncf.notary.signature"),
            media_types::OCI_EMPTY,
        );
        let r = describe(&bytes, "").unwrap().unwrap();
        assert_eq!(r.subject, Digest::sha256(b"img"));
        assert_eq!(r.descriptor.media_type, media_types::OCI_MANIFEST);
        assert_eq!(r.descriptor.digest, Digest::sha256(&bytes));
        assert_eq!(r.descriptor.size, bytes.len() as i64);
        assert_eq!(
            r.descriptor.artifact_type.as_deref(),
            Some("application/vnd.cncf.notary.signature")
        );
        assert_eq!(
            r.descriptor.annotations.get("k").map(String::as_str),
            Some("v")
        );
        // Legacy notation shape: no artifactType, the config media type stands in.
        let legacy = sig(None, "application/vnd.cncf.notary.signature");
        let r = describe(&legacy, media_types::OCI_MANIFEST)
            .unwrap()
            .unwrap();
        assert_eq!(
            r.descriptor.artifact_type.as_deref(),
            Some("application/vnd.cncf.notary.signature")
        );
        // No subject; not JSON.
        let plain = br#"{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}"#;
        assert!(
            describe(plain, media_types::OCI_MANIFEST)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            describe_for_push(plain, media_types::OCI_MANIFEST),
            Err(Error::InvalidReferrer { .. })
        ));
        assert!(matches!(
            describe_for_push(b"nope", media_types::OCI_MANIFEST),
            Err(Error::InvalidReferrer { .. })
        ));
    }

    #[test]
    fn filters_by_artifact_type() {
        let mut a = Descriptor::for_bytes(media_types::OCI_MANIFEST, b"a");
        a.artifact_type = Some("x".into());
        let b = Descriptor::for_bytes(media_types::OCI_MANIFEST, b"b");
        let mut all = vec![a.clone(), b];
        filter(&mut all, None);
        assert_eq!(all.len(), 2);
        filter(&mut all, Some("x"));
        assert_eq!(all, vec![a]);
    }
}
