//! Lookaside storage of simple signatures (containers-registries.d(5)): signature `N` of an
//! image lives at `BASE/<repository path>@<algo>=<hex>/signature-N`, N = 1, 2, … until the
//! first missing one (at most 128). Reading works over `file://`, `http://` and `https://`;
//! writing (the staging location) over `file://` only, as containers/image does.
//!
//! Stored signature blobs are raw OpenPGP messages, or `"\x00simple-signing\n"` + OpenPGP, or
//! `"\x00sigstore-json\n"` + JSON for cosign signatures ([`StoredSignature::parse`]); the
//! same encoding is used by skopeo's `dir:` format.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use signet_oci::{Digest, Reference};

use crate::Error;

/// containers/image reads at most this many signatures of one image.
pub const MAX_SIGNATURES: usize = 128;
const MAX_SIGNATURE_BYTES: u64 = 4 * 1024 * 1024;

/// A signature as stored in lookaside or a `dir:` image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredSignature {
    /// An OpenPGP simple-signing message.
    SimpleSigning(Vec<u8>),
    /// A cosign signature (media type, payload, annotations).
    Sigstore {
        /// The layer media type.
        mime_type: String,
        /// The payload bytes.
        payload: Vec<u8>,
        /// The layer annotations.
        annotations: BTreeMap<String, String>,
    },
}

impl StoredSignature {
    /// Decodes a stored blob (containers/image `internal/signature`).
    pub fn parse(blob: &[u8]) -> Result<Self, String> {
        if let Some(rest) = blob.strip_prefix(b"\x00simple-signing\n") {
            return Ok(StoredSignature::SimpleSigning(rest.to_vec()));
        }
        if let Some(rest) = blob.strip_prefix(b"\x00sigstore-json\n") {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Json {
                mime_type: String,
                payload: String,
                #[serde(default)]
                annotations: BTreeMap<String, String>,
            }
            let j: Json = serde_json::from_slice(rest)
                .map_err(|e| format!("invalid sigstore-json signature: {e}"))?;
            let payload = base64::engine::general_purpose::STANDARD
                .decode(&j.payload)
                .map_err(|e| format!("invalid sigstore-json payload: {e}"))?;
            return Ok(StoredSignature::Sigstore {
                mime_type: j.mime_type,
                payload,
                annotations: j.annotations,
            });
        }
        if let Some(rest) = blob.strip_prefix(b"\x00")
            && let Some(end) = rest.iter().position(|b| *b == b'\n')
        {
            return Err(format!(
                "unrecognized signature format {:?}",
                String::from_utf8_lossy(&rest[..end])
            ));
        }
        match blob.first() {
            Some(0xA0..=0xA3 | 0xC8 | 0x90..=0x92 | 0x3D | 0xC4 | 0x88..=0x8B | 0xC2) => {
                Ok(StoredSignature::SimpleSigning(blob.to_vec()))
            }
            _ => Err("unrecognized signature format (not an OpenPGP message)".to_string()),
        }
    }
}

/// The location of signature `n` (1-based) of `image@digest` under `base`.
pub fn signature_location(base: &str, image: &Reference, digest: &Digest, n: usize) -> String {
    format!(
        "{}/{}@{}={}/signature-{n}",
        base.trim_end_matches('/'),
        image.repository(),
        digest.algorithm(),
        digest.hex()
    )
}

fn file_path(location: &str) -> Option<PathBuf> {
    location.strip_prefix("file://").map(PathBuf::from)
}

fn lookaside_error(location: &str, reason: impl Into<String>) -> Error {
    Error::Lookaside {
        location: location.to_string(),
        reason: reason.into(),
    }
}

/// Reads every signature of `image@digest` from the lookaside `base`.
pub async fn read_signatures(
    http: &reqwest::Client,
    base: &str,
    image: &Reference,
    digest: &Digest,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    for n in 1..=MAX_SIGNATURES {
        let location = signature_location(base, image, digest, n);
        let blob = if let Some(path) = file_path(&location) {
            match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(lookaside_error(&location, e.to_string())),
            }
        } else if location.starts_with("http://") || location.starts_with("https://") {
            let resp = http
                .get(&location)
                .send()
                .await
                .map_err(|e| lookaside_error(&location, e.to_string()))?;
            if resp.status() == reqwest::StatusCode::NOT_FOUND {
                break;
            }
            if !resp.status().is_success() {
                return Err(lookaside_error(
                    &location,
                    format!("HTTP status {}", resp.status()),
                ));
            }
            if resp
                .content_length()
                .is_some_and(|l| l > MAX_SIGNATURE_BYTES)
            {
                return Err(lookaside_error(&location, "signature larger than 4 MiB"));
            }
            resp.bytes()
                .await
                .map_err(|e| lookaside_error(&location, e.to_string()))?
                .to_vec()
        } else {
            return Err(lookaside_error(
                base,
                "unsupported lookaside URL scheme (file://, http:// or https://)",
            ));
        };
        out.push(blob);
    }
    Ok(out)
}

/// Stores `signature` as the next free `signature-N` of `image@digest` under the `file://`
/// staging location `base`; returns its path.
pub fn write_signature(
    base: &str,
    image: &Reference,
    digest: &Digest,
    signature: &[u8],
) -> Result<PathBuf, Error> {
    if file_path(base).is_none() {
        return Err(lookaside_error(
            base,
            "signatures can only be written to file:// locations",
        ));
    }
    for n in 1..=MAX_SIGNATURES {
        let location = signature_location(base, image, digest, n);
        let Some(path) = file_path(&location) else {
            break;
        };
        if path.exists() {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| lookaside_error(&location, e.to_string()))?;
        }
        // create_new: a concurrent writer that took this N makes us try the next one.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(signature)
                    .map_err(|e| lookaside_error(&location, e.to_string()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(lookaside_error(&location, e.to_string())),
        }
    }
    Err(lookaside_error(
        base,
        format!("already {MAX_SIGNATURES} signatures stored"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_follow_registries_d() {
        let r: Reference = "busybox:latest".parse().unwrap();
        let d = Digest::sha256(b"m");
        assert_eq!(
            signature_location("file:///var/lib/containers/sigstore/", &r, &d, 1),
            format!(
                "file:///var/lib/containers/sigstore/library/busybox@sha256={}/signature-1",
                d.hex()
            )
        );
    }

    #[test]
    fn stored_formats() {
        assert_eq!(
            StoredSignature::parse(b"\x00simple-signing\nPGP").unwrap(),
            StoredSignature::SimpleSigning(b"PGP".to_vec())
        );
        assert!(matches!(
            StoredSignature::parse(&[0xA3, 1, 2]),
            Ok(StoredSignature::SimpleSigning(_))
        ));
        let json = br#"{"mimeType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":"e30=","annotations":{"a":"b"}}"#;
        let mut blob = b"\x00sigstore-json\n".to_vec();
        blob.extend_from_slice(json);
        match StoredSignature::parse(&blob).unwrap() {
            StoredSignature::Sigstore {
                payload,
                annotations,
                ..
            } => {
                assert_eq!(payload, b"{}");
                assert_eq!(annotations["a"], "b");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            StoredSignature::parse(b"\x00weird\nx")
                .unwrap_err()
                .contains("unrecognized signature format \"weird\"")
        );
        assert!(StoredSignature::parse(b"hello").is_err());
    }

    #[test]
    fn write_then_read_files() {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("file://{}", dir.path().display());
        let r: Reference = "registry.example/team/app:v1".parse().unwrap();
        let d = Digest::sha256(b"m");
        let p1 = write_signature(&base, &r, &d, b"one").unwrap();
        let p2 = write_signature(&base, &r, &d, b"two").unwrap();
        assert!(p1.ends_with("signature-1") && p2.ends_with("signature-2"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = rt
            .block_on(read_signatures(&reqwest::Client::new(), &base, &r, &d))
            .unwrap();
        assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
        assert!(write_signature("https://example.org/x", &r, &d, b"x").is_err());
    }
}
