//! skopeo's `dir:` image format: a directory with `manifest.json`, the blobs named by their
//! hex digest, a `version` file, and the image's signatures as `signature-1`, `signature-2`, …
//! (each encoded as [`StoredSignature`](crate::lookaside::StoredSignature) expects).

use std::path::{Path, PathBuf};

use signet_oci::Digest;

use crate::Error;
use crate::lookaside::MAX_SIGNATURES;

/// A `dir:` image.
#[derive(Debug, Clone)]
pub struct DirImage {
    path: PathBuf,
}

fn dir_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::DirImage {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl DirImage {
    /// Opens a `dir:` image (it must have `manifest.json`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        if !path.join("manifest.json").is_file() {
            return Err(dir_error(&path, "not a dir: image (no manifest.json)"));
        }
        Ok(DirImage { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest bytes and their sha256 digest.
    pub fn manifest(&self) -> Result<(Vec<u8>, Digest), Error> {
        let p = self.path.join("manifest.json");
        let bytes = std::fs::read(&p).map_err(|e| dir_error(&p, e.to_string()))?;
        let digest = Digest::sha256(&bytes);
        Ok((bytes, digest))
    }

    /// The stored signature blobs, `signature-1` onwards until the first missing one.
    pub fn signatures(&self) -> Result<Vec<Vec<u8>>, Error> {
        let mut out = Vec::new();
        for n in 1..=MAX_SIGNATURES {
            let p = self.path.join(format!("signature-{n}"));
            match std::fs::read(&p) {
                Ok(b) => out.push(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(dir_error(&p, e.to_string())),
            }
        }
        Ok(out)
    }
}
