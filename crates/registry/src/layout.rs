//! [`OciLayout`]: an OCI image-layout directory (`oci-layout`, `index.json`,
//! `blobs/<alg>/<hex>`), read and written the way skopeo, umoci and `cosign save` expect.
//!
//! Writes are crash- and race-safe: blobs and `index.json` are written to a temporary file and
//! renamed into place, and every read-modify-write of `index.json` happens under an exclusive
//! lock (`File::lock`) on the layout's `oci-layout` file, which is never replaced, so concurrent
//! writers in several threads or processes never lose an entry.
//!
//! Referrers (manifests with a `subject`) are untagged `index.json` entries; see
//! [`OciLayout::push_referrer`] and [`OciLayout::referrers`].
//!
//! Tags are `org.opencontainers.image.ref.name` annotations on `index.json` entries. Signature
//! images are stored one per signed digest, tagged `sha256-<hex>.sig` and annotated
//! `kind: dev.cosignproject.cosign/sigs` as `cosign save` does; reading the tag of a layout
//! written by `cosign save` (no ref names) falls back to its `kind` annotations.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use signet_oci::{Descriptor, Digest, ImageIndex, media_types};

use crate::client::{DEFAULT_MAX_MANIFEST_BYTES, FetchedManifest};
use crate::{Error, referrers};

/// The annotation naming an `index.json` entry (its tag).
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// The annotation `cosign save` uses to say what an entry is.
pub const KIND_ANNOTATION: &str = "kind";
/// `kind` of the signed image in a `cosign save` layout.
pub const KIND_IMAGE: &str = "dev.cosignproject.cosign/image";
/// `kind` of the signed image index in a `cosign save` layout.
pub const KIND_IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
/// `kind` of the signature image.
pub const KIND_SIGS: &str = "dev.cosignproject.cosign/sigs";
/// `kind` of the attestation image.
pub const KIND_ATTS: &str = "dev.cosignproject.cosign/atts";

const OCI_LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
const OCI_LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
    max_manifest_bytes: u64,
}

impl OciLayout {
    /// Opens an existing layout; a clear error if `path` is not one.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let root = path.as_ref().to_path_buf();
        let not = |reason: &str| Error::NotALayout {
            path: root.clone(),
            reason: reason.to_string(),
        };
        if !root.is_dir() {
            return Err(not(if root.exists() {
                "it is not a directory"
            } else {
                "it does not exist"
            }));
        }
        let marker = std::fs::read(root.join(OCI_LAYOUT_FILE))
            .map_err(|_| not("it has no oci-layout file"))?;
        #[derive(serde::Deserialize)]
        struct Marker {
            #[serde(rename = "imageLayoutVersion")]
            version: String,
        }
        let m: Marker = serde_json::from_slice(&marker)
            .map_err(|_| not("its oci-layout file is not {\"imageLayoutVersion\": ...}"))?;
        if !m.version.starts_with("1.") {
            return Err(not("its imageLayoutVersion is not 1.x"));
        }
        if !root.join(INDEX_FILE).is_file() {
            return Err(not("it has no index.json"));
        }
        Ok(OciLayout {
            root,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
        })
    }

    /// Opens a layout, creating an empty one (directory, `oci-layout`, `index.json`,
    /// `blobs/sha256`) if `path` does not hold one. Safe against concurrent creators.
    pub fn create_or_open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let root = path.as_ref().to_path_buf();
        std::fs::create_dir_all(root.join("blobs/sha256")).map_err(|source| Error::Io {
            action: "cannot create",
            path: root.join("blobs/sha256"),
            source,
        })?;
        let marker_path = root.join(OCI_LAYOUT_FILE);
        let mut marker = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&marker_path)
            .map_err(|source| Error::Io {
                action: "cannot open",
                path: marker_path.clone(),
                source,
            })?;
        marker.lock().map_err(|source| Error::Io {
            action: "cannot lock",
            path: marker_path.clone(),
            source,
        })?;
        let mut existing = Vec::new();
        marker
            .read_to_end(&mut existing)
            .map_err(|source| Error::Io {
                action: "cannot read",
                path: marker_path.clone(),
                source,
            })?;
        if existing.is_empty() {
            marker
                .write_all(OCI_LAYOUT_CONTENT)
                .and_then(|()| marker.sync_all())
                .map_err(|source| Error::Io {
                    action: "cannot write",
                    path: marker_path.clone(),
                    source,
                })?;
        }
        let layout = OciLayout {
            root,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
        };
        if !layout.root.join(INDEX_FILE).exists() {
            layout.write_index(&empty_index())?;
        }
        drop(marker);
        OciLayout::open(&layout.root)
    }

    /// Sets the manifest size limit (default 4 MiB).
    pub fn with_max_manifest_bytes(mut self, limit: u64) -> Self {
        self.max_manifest_bytes = limit;
        self
    }

    /// The layout directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The parsed `index.json`.
    pub fn index(&self) -> Result<ImageIndex, Error> {
        let path = self.root.join(INDEX_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            action: "cannot read",
            path: path.clone(),
            source,
        })?;
        ImageIndex::from_slice(&bytes).map_err(|e| Error::LayoutCorrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// The `index.json` entry for `tag`; with no tag, the only image in the layout (an error if
    /// there are several). For a missing `sha256-<hex>.sig` (`.att`) tag, a `cosign save`
    /// layout's single `kind: …/sigs` (`…/atts`) entry if its `kind: …/image` entry is that digest.
    pub fn resolve(&self, tag: Option<&str>) -> Result<Option<Descriptor>, Error> {
        let index = self.index()?;
        let Some(tag) = tag else {
            if index.manifests.len() == 1 {
                return Ok(index.manifests.into_iter().next());
            }
            let candidates: Vec<&Descriptor> = index
                .manifests
                .iter()
                .filter(|d| !d.annotations.contains_key(REF_NAME_ANNOTATION))
                .filter(|d| {
                    !matches!(
                        d.annotations.get(KIND_ANNOTATION).map(String::as_str),
                        Some(KIND_SIGS | KIND_ATTS | "dev.cosignproject.cosign/sboms")
                    )
                })
                .collect();
            return match candidates.as_slice() {
                [one] => Ok(Some((*one).clone())),
                [] if index.manifests.is_empty() => Ok(None),
                _ => Err(Error::InvalidImage {
                    input: format!("oci:{}", self.root.display()),
                    reason: format!(
                        "the layout holds {} entries; name one with oci:PATH:TAG (tags: {})",
                        index.manifests.len(),
                        tag_list(&index).join(", ")
                    ),
                }),
            };
        };
        if let Some(d) = index
            .manifests
            .iter()
            .rev()
            .find(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) == Some(tag))
        {
            return Ok(Some(d.clone()));
        }
        Ok(cosign_save_fallback(&index, tag))
    }

    /// A manifest by digest; `None` if its blob is absent. Checks size and digest.
    pub fn get_manifest(&self, digest: &Digest) -> Result<Option<FetchedManifest>, Error> {
        let path = self.blob_path(digest);
        let limit = self.max_manifest_bytes;
        let bytes = match read_limited(&path, limit)? {
            None => return Ok(None),
            Some(Err(size)) => {
                return Err(Error::ManifestTooLarge {
                    reference: format!("oci:{}@{digest}", self.root.display()),
                    size,
                    limit,
                });
            }
            Some(Ok(b)) => b,
        };
        check_digest(digest, &bytes)?;
        let index_type = self.index().ok().and_then(|i| {
            i.manifests
                .into_iter()
                .find(|d| &d.digest == digest)
                .map(|d| d.media_type)
        });
        let media_type = index_type
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| signet_oci::media_types::of_manifest_bytes(&bytes));
        Ok(Some(FetchedManifest {
            bytes,
            media_type,
            digest: digest.clone(),
        }))
    }

    /// A blob, at most `max_bytes`, digest-checked; [`Error::BlobNotFound`] if absent.
    pub fn get_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, Error> {
        let path = self.blob_path(digest);
        match read_limited(&path, max_bytes)? {
            None => Err(Error::BlobNotFound {
                repository: format!("oci:{}", self.root.display()),
                digest: digest.clone(),
            }),
            Some(Err(size)) => Err(Error::BlobTooLarge {
                digest: digest.clone(),
                size,
                limit: max_bytes,
            }),
            Some(Ok(bytes)) => {
                check_digest(digest, &bytes)?;
                Ok(bytes)
            }
        }
    }

    /// Whether a blob is present.
    pub fn blob_exists(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Stores a blob (temporary file + rename; skipped if present); returns its digest.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::sha256(bytes);
        let path = self.blob_path(&digest);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(digest);
        }
        atomic_write(&path, bytes)?;
        Ok(digest)
    }

    /// Stores a manifest blob and adds it to `index.json`, tagged `tag` if given (replacing the
    /// entry that had that tag), with `annotations` on the entry. Returns the manifest digest.
    pub fn put_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Digest, Error> {
        if let Some(t) = tag {
            check_tag(t)?;
        }
        let digest = self.put_blob(bytes)?;
        let mut desc = Descriptor::for_bytes(media_type, bytes);
        desc.annotations = annotations.clone();
        desc.annotations.remove(REF_NAME_ANNOTATION);
        if let Some(t) = tag {
            desc.annotations
                .insert(REF_NAME_ANNOTATION.to_string(), t.to_string());
        }
        self.update_index(|index| {
            index.manifests.retain(|d| match tag {
                Some(t) => d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) != Some(t),
                None => d.digest != digest || d.annotations.contains_key(REF_NAME_ANNOTATION),
            });
            index.manifests.push(desc);
            true
        })?;
        Ok(digest)
    }

    /// Removes the `index.json` entries tagged `tag` (blobs are left); `false` if there were none.
    pub fn delete_tag(&self, tag: &str) -> Result<bool, Error> {
        let mut removed = false;
        self.update_index(|index| {
            let before = index.manifests.len();
            index.manifests.retain(|d| {
                d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) != Some(tag)
            });
            removed = index.manifests.len() != before;
            removed
        })?;
        Ok(removed)
    }

    /// Stores a referrer manifest (one naming a `subject`; its blobs stored by the caller) and
    /// adds it to `index.json`, untagged, unless an untagged entry for it is there already.
    /// The entry carries the manifest's artifact type and annotations, and
    /// [`SUBJECT_ANNOTATION`](crate::referrers::SUBJECT_ANNOTATION), so that
    /// [`referrers`](Self::referrers) needs no manifest reads. Returns the manifest digest.
    pub fn push_referrer(&self, bytes: &[u8], media_type: &str) -> Result<Digest, Error> {
        let referrer = referrers::describe_for_push(bytes, media_type)?;
        let digest = self.put_blob(bytes)?;
        let mut entry = referrer.descriptor;
        entry.annotations.remove(REF_NAME_ANNOTATION);
        entry.annotations.insert(
            referrers::SUBJECT_ANNOTATION.to_string(),
            referrer.subject.to_string(),
        );
        self.update_index(|index| {
            let present = index
                .manifests
                .iter()
                .any(|d| d.digest == digest && !d.annotations.contains_key(REF_NAME_ANNOTATION));
            if !present {
                index.manifests.push(entry);
            }
            !present
        })?;
        Ok(digest)
    }

    /// The referrers of `subject` in `index.json` (of `artifact_type` if given), in index
    /// order, once each. Entries added by [`push_referrer`](Self::push_referrer) are listed
    /// from `index.json` alone; other manifest entries are read to find their subject.
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        let index = self.index()?;
        let mut found: Vec<Descriptor> = Vec::new();
        for entry in index.manifests {
            if &entry.digest == subject || found.iter().any(|d| d.digest == entry.digest) {
                continue;
            }
            if let Some(recorded) = entry.annotations.get(referrers::SUBJECT_ANNOTATION) {
                if recorded == &subject.to_string() {
                    let mut d = entry.clone();
                    d.annotations.remove(referrers::SUBJECT_ANNOTATION);
                    d.annotations.remove(REF_NAME_ANNOTATION);
                    found.push(d);
                }
                continue;
            }
            if !(entry.media_type.is_empty()
                || entry.media_type == media_types::OCI_MANIFEST
                || entry.media_type == media_types::OCI_INDEX)
            {
                continue;
            }
            let Some(m) = self.get_manifest(&entry.digest)? else {
                continue;
            };
            match referrers::describe(&m.bytes, &entry.media_type) {
                Ok(Some(r)) if &r.subject == subject => found.push(r.descriptor),
                Ok(_) => {}
                Err(reason) => {
                    tracing::debug!(digest = %entry.digest, reason, "skipping an index.json entry that is not a manifest");
                }
            }
        }
        referrers::filter(&mut found, artifact_type);
        Ok(found)
    }

    /// The tags in `index.json`, sorted.
    pub fn list_tags(&self) -> Result<Vec<String>, Error> {
        Ok(tag_list(&self.index()?))
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        // Digest guarantees a known algorithm and lower-case hex: safe as path components.
        self.root
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Read-modify-write of index.json under the layout lock; `f` returns whether to write.
    fn update_index(&self, f: impl FnOnce(&mut ImageIndex) -> bool) -> Result<(), Error> {
        let lock_path = self.root.join(OCI_LAYOUT_FILE);
        let lock = File::open(&lock_path).map_err(|source| Error::Io {
            action: "cannot open",
            path: lock_path.clone(),
            source,
        })?;
        lock.lock().map_err(|source| Error::Io {
            action: "cannot lock",
            path: lock_path,
            source,
        })?;
        let mut index = self.index()?;
        if f(&mut index) {
            self.write_index(&index)?;
        }
        drop(lock);
        Ok(())
    }

    fn write_index(&self, index: &ImageIndex) -> Result<(), Error> {
        atomic_write(&self.root.join(INDEX_FILE), &index.to_go_json())
    }
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

fn tag_list(index: &ImageIndex) -> Vec<String> {
    let mut tags: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME_ANNOTATION).cloned())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

fn cosign_save_fallback(index: &ImageIndex, tag: &str) -> Option<Descriptor> {
    let (kind, rest) = if let Some(r) = tag.strip_suffix(".sig") {
        (KIND_SIGS, r)
    } else if let Some(r) = tag.strip_suffix(".att") {
        (KIND_ATTS, r)
    } else {
        return None;
    };
    let signed: Digest = rest.replacen('-', ":", 1).parse().ok()?;
    let kind_of = |d: &Descriptor| d.annotations.get(KIND_ANNOTATION).cloned();
    let image_matches = index.manifests.iter().any(|d| {
        matches!(kind_of(d).as_deref(), Some(KIND_IMAGE | KIND_IMAGE_INDEX)) && d.digest == signed
    });
    if !image_matches {
        return None;
    }
    let mut sigs = index
        .manifests
        .iter()
        .filter(|d| kind_of(d).as_deref() == Some(kind));
    match (sigs.next(), sigs.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

fn check_tag(tag: &str) -> Result<(), Error> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidImage {
            input: tag.to_string(),
            reason: "a tag must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '-' and '.'"
                .to_string(),
        })
    }
}

fn check_digest(expected: &Digest, bytes: &[u8]) -> Result<(), Error> {
    if expected.matches(bytes) {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            expected: expected.clone(),
            found: Digest::sha256(bytes),
        })
    }
}

/// `None` if absent, `Some(Err(size))` if larger than `limit`.
fn read_limited(path: &Path, limit: u64) -> Result<Option<Result<Vec<u8>, u64>>, Error> {
    let io = |source| Error::Io {
        action: "cannot read",
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() as u64 > limit {
        let size = std::fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(out.len() as u64);
        return Ok(Some(Err(size)));
    }
    Ok(Some(Ok(out)))
}

/// Writes `bytes` to a temporary file next to `path`, syncs it and renames it over `path`.
fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "cannot create",
        path: dir.to_path_buf(),
        source,
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".tmp-{}-{}-{nanos}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Io {
            action: "cannot write",
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn manifest(n: u8) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"{}"}},"layers":[],"annotations":{{"n":"{n}"}}}}"#,
            media_types::OCI_MANIFEST,
            Digest::sha256(b"{}")
        )
        .into_bytes()
    }

    #[test]
    fn open_rejects_non_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let e = OciLayout::open(dir.path().join("nope")).unwrap_err();
        assert!(
            e.to_string()
                .contains("is not an OCI image layout: it does not exist"),
            "{e}"
        );
        let e = OciLayout::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no oci-layout file"), "{e}");
        std::fs::write(dir.path().join("oci-layout"), "{}").unwrap();
        let e = OciLayout::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("imageLayoutVersion"), "{e}");
    }

    #[test]
    fn put_resolve_replace_delete() {
        let dir = tempfile::tempdir().unwrap();
        let l = OciLayout::create_or_open(dir.path()).unwrap();
        assert_eq!(l.resolve(None).unwrap(), None);
        let d1 = l
            .put_manifest(
                &manifest(1),
                media_types::OCI_MANIFEST,
                Some("v1"),
                &BTreeMap::new(),
            )
            .unwrap();
        assert_eq!(l.resolve(None).unwrap().unwrap().digest, d1);
        let d2 = l
            .put_manifest(
                &manifest(2),
                media_types::OCI_MANIFEST,
                Some("v1"),
                &BTreeMap::new(),
            )
            .unwrap();
        assert_eq!(l.resolve(Some("v1")).unwrap().unwrap().digest, d2);
        assert_eq!(l.index().unwrap().manifests.len(), 1);
        let m = l.get_manifest(&d2).unwrap().unwrap();
        assert_eq!(m.bytes, manifest(2));
        assert_eq!(m.media_type, media_types::OCI_MANIFEST);
        assert_eq!(l.list_tags().unwrap(), vec!["v1".to_string()]);
        assert!(l.delete_tag("v1").unwrap());
        assert!(!l.delete_tag("v1").unwrap());
        assert_eq!(l.resolve(Some("v1")).unwrap(), None);
        // Reopening works and the blob is still there.
        let again = OciLayout::create_or_open(dir.path()).unwrap();
        assert!(again.blob_exists(&d1));
    }

    #[test]
    fn tampered_blob_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let l = OciLayout::create_or_open(dir.path()).unwrap();
        let d = l.put_blob(b"hello").unwrap();
        std::fs::write(l.blob_path(&d), b"HELLO").unwrap();
        match l.get_blob(&d, 100).unwrap_err() {
            Error::DigestMismatch { expected, found } => {
                assert_eq!(expected, d);
                assert_eq!(found, Digest::sha256(b"HELLO"));
            }
            e => panic!("{e}"),
        }
        let dm = l
            .put_manifest(
                &manifest(3),
                media_types::OCI_MANIFEST,
                None,
                &BTreeMap::new(),
            )
            .unwrap();
        std::fs::write(l.blob_path(&dm), manifest(4)).unwrap();
        assert!(matches!(
            l.get_manifest(&dm),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            l.get_blob(&Digest::sha256(b"absent"), 10),
            Err(Error::BlobNotFound { .. })
        ));
        let big = l.put_blob(&[0u8; 100]).unwrap();
        assert!(matches!(
            l.get_blob(&big, 99),
            Err(Error::BlobTooLarge { size: 100, .. })
        ));
        let small = l.clone().with_max_manifest_bytes(10);
        assert!(matches!(
            small.get_manifest(&dm),
            Err(Error::ManifestTooLarge { .. })
        ));
    }

    #[test]
    fn cosign_save_layout_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let l = OciLayout::create_or_open(dir.path()).unwrap();
        let kind = |k: &str| BTreeMap::from([(KIND_ANNOTATION.to_string(), k.to_string())]);
        let img = l
            .put_manifest(
                &manifest(1),
                media_types::OCI_MANIFEST,
                None,
                &kind(KIND_IMAGE),
            )
            .unwrap();
        let sig = l
            .put_manifest(
                &manifest(2),
                media_types::OCI_MANIFEST,
                None,
                &kind(KIND_SIGS),
            )
            .unwrap();
        // No tag: the image, not the signature.
        assert_eq!(l.resolve(None).unwrap().unwrap().digest, img);
        let tag = img.tag_with_suffix("sig");
        assert_eq!(l.resolve(Some(&tag)).unwrap().unwrap().digest, sig);
        let other = Digest::sha256(b"x").tag_with_suffix("sig");
        assert_eq!(l.resolve(Some(&other)).unwrap(), None);
        assert_eq!(l.resolve(Some(&img.tag_with_suffix("att"))).unwrap(), None);
        // Our own tagged entry wins.
        let mut ann = kind(KIND_SIGS);
        ann.insert("x".into(), "y".into());
        let ours = l
            .put_manifest(&manifest(3), media_types::OCI_MANIFEST, Some(&tag), &ann)
            .unwrap();
        assert_eq!(l.resolve(Some(&tag)).unwrap().unwrap().digest, ours);
        // Two untagged images: ambiguous.
        l.put_manifest(
            &manifest(4),
            media_types::OCI_MANIFEST,
            None,
            &BTreeMap::new(),
        )
        .unwrap();
        let e = l.resolve(None).unwrap_err();
        assert!(e.to_string().contains("name one with oci:PATH:TAG"), "{e}");
    }

    #[test]
    fn rejects_bad_tags() {
        let dir = tempfile::tempdir().unwrap();
        let l = OciLayout::create_or_open(dir.path()).unwrap();
        for t in ["", "a/b", "a:b", &"x".repeat(129)] {
            assert!(
                l.put_manifest(
                    &manifest(1),
                    media_types::OCI_MANIFEST,
                    Some(t),
                    &BTreeMap::new()
                )
                .is_err(),
                "{t}"
            );
        }
    }
}
