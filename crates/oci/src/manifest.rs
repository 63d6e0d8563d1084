//! Manifests, indexes, descriptors and image configs, with the field order and `omitempty`
//! behaviour of go-containerregistry's `v1` types, so that a manifest signet writes is
//! byte-identical to the one cosign writes for the same content. Parsing is lenient (unknown
//! fields are ignored) as ggcr's is; re-serialising drops what ggcr would drop.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Digest, Error, gojson};

/// A content descriptor (ggcr `v1.Descriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the referenced content.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its digest.
    pub digest: Digest,
    /// Embedded data (base64 in JSON); kept as the raw string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Alternative download locations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of an index entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor for `bytes` of `media_type`.
    pub fn for_bytes(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            size: bytes.len() as i64,
            digest: Digest::sha256(bytes),
            data: None,
            urls: None,
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// A platform (ggcr `v1.Platform`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// CPU features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

/// An image manifest (ggcr `v1.Manifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: i64,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub layers: Vec<Descriptor>,
    /// Manifest annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// The artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Manifest {
    /// Parses manifest JSON.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::InvalidJson {
            what: "manifest",
            source,
        })
    }

    /// The bytes ggcr would write for this manifest.
    pub fn to_go_json(&self) -> Vec<u8> {
        gojson::to_vec(self)
    }
}

/// An image index or Docker manifest list (ggcr `v1.IndexManifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: i64,
    /// The index's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The child manifests.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub manifests: Vec<Descriptor>,
    /// Index annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
}

impl ImageIndex {
    /// Parses index JSON.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::InvalidJson {
            what: "image index",
            source,
        })
    }

    /// The bytes ggcr would write for this index.
    pub fn to_go_json(&self) -> Vec<u8> {
        gojson::to_vec(self)
    }
}

/// One history entry of an image config (ggcr `v1.History`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Creation time (Go's zero time when unset, as ggcr always writes it).
    #[serde(default = "zero_time")]
    pub created: String,
    /// Command that created the layer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// Comment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// Whether the entry has no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl Default for History {
    fn default() -> Self {
        History {
            author: String::new(),
            created: zero_time(),
            created_by: String::new(),
            comment: String::new(),
            empty_layer: false,
        }
    }
}

/// Go's zero `time.Time` as `encoding/json` writes it.
pub(crate) fn zero_time() -> String {
    "0001-01-01T00:00:00Z".to_string()
}

/// The root filesystem section of an image config. Missing fields are empty, as Go's decoder
/// leaves them (sigstore-rs writes a bare `{}` config for its signature images).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RootFs {
    /// `layers` in every image ggcr makes.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The uncompressed digests of the layers.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub diff_ids: Vec<Digest>,
}

/// An image config (ggcr `v1.ConfigFile`), the fields in ggcr's order. The container `config`
/// section is kept as free-form JSON (signature images always have `{}` there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Container id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    /// Creation time.
    #[serde(default = "zero_time")]
    pub created: String,
    /// Docker version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub docker_version: String,
    /// History, one entry per layer (plus empty layers).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub history: Vec<History>,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// The layers' diff ids.
    #[serde(default)]
    pub rootfs: RootFs,
    /// The container configuration.
    #[serde(default = "empty_object", serialize_with = "go_value")]
    pub config: serde_json::Value,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    /// OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn go_value<S: serde::Serializer>(v: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
    let raw = gojson::value_to_vec(v);
    // `value_to_vec` writes valid JSON; re-reading it as a RawValue keeps those exact bytes.
    let raw = String::from_utf8(raw).map_err(serde::ser::Error::custom)?;
    let raw = serde_json::value::RawValue::from_string(raw).map_err(serde::ser::Error::custom)?;
    raw.serialize(s)
}

impl ConfigFile {
    /// The config of an image with no layers, as ggcr's `empty.Image` has it.
    pub fn empty() -> Self {
        ConfigFile {
            architecture: String::new(),
            author: String::new(),
            container: String::new(),
            created: zero_time(),
            docker_version: String::new(),
            history: Vec::new(),
            os: String::new(),
            rootfs: RootFs {
                kind: "layers".to_string(),
                diff_ids: Vec::new(),
            },
            config: empty_object(),
            os_version: String::new(),
            variant: String::new(),
            os_features: Vec::new(),
        }
    }

    /// Parses config JSON.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|source| Error::InvalidJson {
            what: "image config",
            source,
        })
    }

    /// The bytes ggcr would write for this config.
    pub fn to_go_json(&self) -> Vec<u8> {
        gojson::to_vec(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of shared/specs/cosign-format.md §2.2 (derived from ggcr's rules).
    const CONFIG: &str = r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:3af4414d20c9e1cb76ccc72aae8b242166dabe6af531a4a790db8e2f0e5ee7c9"]},"config":{}}"#;
    const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:6be03ee91610ddcd1b1c5b664bb2ef319a85b4ca9ebee1d64d87729c5fd83a91"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":248,"digest":"sha256:3af4414d20c9e1cb76ccc72aae8b242166dabe6af531a4a790db8e2f0e5ee7c9","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8="}}]}"#;

    #[test]
    fn config_round_trips_byte_exact() {
        let c = ConfigFile::from_slice(CONFIG.as_bytes()).unwrap();
        assert_eq!(c.to_go_json(), CONFIG.as_bytes());
        assert_eq!(CONFIG.len(), 233);
        assert_eq!(
            Digest::sha256(CONFIG.as_bytes()).to_string(),
            "sha256:6be03ee91610ddcd1b1c5b664bb2ef319a85b4ca9ebee1d64d87729c5fd83a91"
        );
    }

    #[test]
    fn manifest_round_trips_byte_exact() {
        let m = Manifest::from_slice(MANIFEST.as_bytes()).unwrap();
        assert_eq!(m.to_go_json(), MANIFEST.as_bytes());
        assert_eq!(
            Digest::sha256(MANIFEST.as_bytes()).to_string(),
            "sha256:c7f8955840dfbe0cf5d487fdee28a0be765cc55dfd7e072179cc765c6ce24165"
        );
    }

    #[test]
    fn empty_config_is_ggcr_empty_image() {
        assert_eq!(
            String::from_utf8(ConfigFile::empty().to_go_json()).unwrap(),
            r#"{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#
        );
    }

    #[test]
    fn index_with_platforms() {
        let raw = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"sha256:6be03ee91610ddcd1b1c5b664bb2ef319a85b4ca9ebee1d64d87729c5fd83a91","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
        let i = ImageIndex::from_slice(raw.as_bytes()).unwrap();
        assert_eq!(i.to_go_json(), raw.as_bytes());
    }

    #[test]
    fn bare_object_config_parses_as_go_would() {
        // sigstore-rs writes `{}` as the config of its signature images.
        let c = ConfigFile::from_slice(b"{}").unwrap();
        assert_eq!(
            String::from_utf8(c.to_go_json()).unwrap(),
            r#"{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"","diff_ids":[]},"config":{}}"#
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Manifest::from_slice(b"{\"schemaVersion\":2").is_err());
        assert!(Manifest::from_slice(b"[]").is_err());
    }
}
