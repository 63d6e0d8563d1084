//! Random image fixtures: OCI image configs, single-file tar layers, manifests,
//! and OCI image layout directories.

use std::path::Path;
use std::time::SystemTime;

use serde_json::{Value, json};

/// OCI image manifest media type.
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config media type.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed OCI tar layer media type (what the random layers are).
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// A single-platform image pushed by [`crate::push_random_image`] / [`crate::Pusher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// Manifest digest, `"sha256:<hex>"`.
    pub digest: String,
    /// The exact manifest bytes pushed.
    pub manifest: Vec<u8>,
    /// The manifest media type (OCI image manifest).
    pub media_type: String,
    /// Config blob digest.
    pub config_digest: String,
    /// Layer blob digests.
    pub layer_digests: Vec<String>,
    /// Repository name.
    pub repo: String,
    /// Registry address, `"127.0.0.1:PORT"`.
    pub registry: String,
}

impl PushedImage {
    /// `"127.0.0.1:PORT/repo@sha256:…"`.
    pub fn reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repo, self.digest)
    }
}

/// An image index pushed by [`crate::push_random_index`] / [`crate::Pusher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedIndex {
    /// Index digest, `"sha256:<hex>"`.
    pub digest: String,
    /// The exact index bytes pushed.
    pub manifest: Vec<u8>,
    /// The index media type (OCI image index).
    pub media_type: String,
    /// Child manifest digests, in index order.
    pub children: Vec<String>,
    /// Repository name.
    pub repo: String,
    /// Registry address, `"127.0.0.1:PORT"`.
    pub registry: String,
}

impl PushedIndex {
    /// `"127.0.0.1:PORT/repo@sha256:…"`.
    pub fn reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repo, self.digest)
    }
}

/// The blobs and manifest of one random image, not yet stored anywhere.
#[derive(Debug, Clone)]
pub struct ImageParts {
    /// Config blob bytes.
    pub config: Vec<u8>,
    /// Config digest.
    pub config_digest: String,
    /// Layer blobs (uncompressed tar).
    pub layers: Vec<Vec<u8>>,
    /// Layer digests.
    pub layer_digests: Vec<String>,
    /// OCI image manifest bytes referencing the above.
    pub manifest: Vec<u8>,
}

/// `"sha256:<hex>"` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d.as_ref() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn random_bytes(n: usize) -> Vec<u8> {
    std::iter::repeat_with(|| fastrand::u8(..))
        .take(n)
        .collect()
}

fn random_hex(n_bytes: usize) -> String {
    random_bytes(n_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `i`-th distinct platform object (`{"architecture", "os"[, "variant"]}`).
pub(crate) fn platform(i: usize) -> Value {
    const KNOWN: &[(&str, Option<&str>)] = &[
        ("amd64", None),
        ("arm64", Some("v8")),
        ("arm", Some("v7")),
        ("ppc64le", None),
        ("s390x", None),
        ("386", None),
        ("riscv64", None),
        ("arm", Some("v6")),
    ];
    match KNOWN.get(i) {
        Some((arch, Some(variant))) => {
            json!({"architecture": arch, "os": "linux", "variant": variant})
        }
        Some((arch, None)) => json!({"architecture": arch, "os": "linux"}),
        None => json!({"architecture": format!("testarch{i}"), "os": "linux"}),
    }
}

/// A ustar archive holding one regular file.
fn tar_one_file(name: &str, data: &[u8]) -> Vec<u8> {
    fn octal(field: &mut [u8], value: u64) {
        let s = format!("{value:0width$o}", width = field.len() - 1);
        field[..s.len()].copy_from_slice(s.as_bytes());
        field[s.len()] = 0;
    }
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], data.len() as u64);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(512), 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Builds a random image: a one-file uncompressed tar layer, a config whose
/// platform is `platform` (default linux/amd64) and an OCI image manifest.
/// Every call yields distinct digests.
pub fn random_image_parts(platform: Option<&Value>) -> ImageParts {
    let nonce = random_hex(16);
    let layer = tar_one_file(
        &format!("signet-testkit-{nonce}"),
        &random_bytes(64 + fastrand::usize(..192)),
    );
    let layer_digest = sha256_digest(&layer);
    let default_platform = json!({"architecture": "amd64", "os": "linux"});
    let platform = platform.unwrap_or(&default_platform);
    let created = crate::token::rfc3339(SystemTime::now());
    let mut config = json!({
        "created": created,
        "architecture": platform["architecture"],
        "os": platform["os"],
        "config": {
            "Labels": {"dev.signet.testkit.nonce": nonce},
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": created, "created_by": "signet-testkit random layer"}],
    });
    if let Some(v) = platform.get("variant") {
        config["variant"] = v.clone();
    }
    let config = serde_json::to_vec(&config).expect("testkit: serialising a config");
    let config_digest = sha256_digest(&config);
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_IMAGE_MANIFEST,
        "config": {
            "mediaType": OCI_IMAGE_CONFIG,
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": OCI_LAYER_TAR,
            "digest": layer_digest,
            "size": layer.len(),
        }],
    }))
    .expect("testkit: serialising a manifest");
    ImageParts {
        config,
        config_digest,
        layers: vec![layer],
        layer_digests: vec![layer_digest],
        manifest,
    }
}

fn write_blob(dir: &Path, data: &[u8]) -> String {
    let digest = sha256_digest(data);
    let hex = digest.trim_start_matches("sha256:");
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs)
        .unwrap_or_else(|e| panic!("testkit: creating {}: {e}", blobs.display()));
    let path = blobs.join(hex);
    std::fs::write(&path, data)
        .unwrap_or_else(|e| panic!("testkit: writing {}: {e}", path.display()));
    digest
}

/// Writes a random image into the OCI image layout at `dir` (created if
/// missing) and tags it `tag` in `index.json` (annotation
/// `org.opencontainers.image.ref.name`). An existing layout is extended; an
/// existing entry with the same tag is replaced. Returns the manifest digest.
pub fn write_random_oci_layout(dir: &Path, tag: &str) -> String {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| panic!("testkit: creating {}: {e}", dir.display()));
    std::fs::write(
        dir.join("oci-layout"),
        br#"{"imageLayoutVersion": "1.0.0"}"#,
    )
    .expect("testkit: writing oci-layout");
    let parts = random_image_parts(None);
    write_blob(dir, &parts.config);
    for l in &parts.layers {
        write_blob(dir, l);
    }
    let digest = write_blob(dir, &parts.manifest);

    let index_path = dir.join("index.json");
    let mut index: Value = match std::fs::read(&index_path) {
        Ok(b) => serde_json::from_slice(&b)
            .unwrap_or_else(|e| panic!("testkit: {} is not JSON: {e}", index_path.display())),
        Err(_) => json!({"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX, "manifests": []}),
    };
    let manifests = index["manifests"]
        .as_array_mut()
        .expect("testkit: index.json without a manifests array");
    manifests.retain(|m| m["annotations"]["org.opencontainers.image.ref.name"] != tag);
    manifests.push(json!({
        "mediaType": OCI_IMAGE_MANIFEST,
        "digest": digest,
        "size": parts.manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(
        &index_path,
        serde_json::to_vec_pretty(&index).expect("testkit: serialising index.json"),
    )
    .expect("testkit: writing index.json");
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_layout_is_sane() {
        let t = tar_one_file("a.txt", b"hello");
        assert_eq!(t.len(), 512 + 512 + 1024);
        assert_eq!(&t[512..517], b"hello");
        assert_eq!(&t[124..136], b"00000000005\0");
    }

    #[test]
    fn digests_are_unique_and_well_formed() {
        let a = random_image_parts(None);
        let b = random_image_parts(None);
        assert_ne!(sha256_digest(&a.manifest), sha256_digest(&b.manifest));
        assert_eq!(a.config_digest.len(), 71);
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
