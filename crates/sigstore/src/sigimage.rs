//! The `.sig` signature image cosign keeps next to a signed digest: an image whose layers are
//! simple-signing payloads, each carrying its signature (and optional certificate material) in
//! layer annotations. Appending follows go-containerregistry's `mutate.Append`: the new layer's
//! digest goes into `rootfs.diff_ids` and an empty history entry is added, so that the manifest
//! and config bytes equal what cosign writes for the same layers.

use std::collections::BTreeMap;

use signet_oci::{ConfigFile, Descriptor, Digest, History, Manifest, media_types};

use crate::{Error, annotations, gobase64};

/// cosign refuses signature images with more layers than this (`maxLayers`).
pub const MAX_LAYERS: usize = 1000;

/// One signature: the payload (the layer blob) and its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The payload bytes, stored as the layer blob.
    pub payload: Vec<u8>,
    /// The layer media type (`application/vnd.dev.cosign.simplesigning.v1+json`).
    pub media_type: String,
    /// Layer annotations, including the base64 signature.
    pub annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// A layer for `payload` signed with raw signature bytes `signature`.
    pub fn new(payload: Vec<u8>, signature: &[u8]) -> Self {
        Self::with_signature_text(payload, gobase64::encode(signature))
    }

    /// A layer whose signature annotation is `signature_b64` verbatim (what
    /// `cosign attach signature` stores: the file's text, newline and all).
    pub fn with_signature_text(payload: Vec<u8>, signature_b64: String) -> Self {
        SignatureLayer {
            payload,
            media_type: media_types::COSIGN_SIMPLE_SIGNING.to_string(),
            annotations: [(annotations::SIGNATURE.to_string(), signature_b64)].into(),
        }
    }

    /// Adds an annotation (certificate, chain, bundle, …).
    pub fn annotate(mut self, key: &str, value: String) -> Self {
        self.annotations.insert(key.to_string(), value);
        self
    }

    /// The layer's descriptor.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::for_bytes(&self.media_type, &self.payload);
        d.annotations = self.annotations.clone();
        d
    }
}

/// A cosign signature image: manifest plus config.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureImage {
    manifest: Manifest,
    config: ConfigFile,
}

impl SignatureImage {
    /// A signature image with no layers, with OCI media types (cosign's default) or Docker ones
    /// (`COSIGN_DOCKER_MEDIA_TYPES`).
    pub fn empty(docker_media_types: bool) -> Self {
        let (manifest_type, config_type) = if docker_media_types {
            (media_types::DOCKER_MANIFEST, media_types::DOCKER_CONFIG)
        } else {
            (media_types::OCI_MANIFEST, media_types::OCI_CONFIG)
        };
        let config = ConfigFile::empty();
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(manifest_type.to_string()),
            config: Descriptor::for_bytes(config_type, &config.to_go_json()),
            layers: Vec::new(),
            annotations: BTreeMap::new(),
            subject: None,
            artifact_type: None,
        };
        SignatureImage { manifest, config }
    }

    /// An existing signature image from its manifest and config bytes.
    pub fn from_parts(manifest: &[u8], config: &[u8]) -> Result<Self, Error> {
        Ok(SignatureImage {
            manifest: Manifest::from_slice(manifest)?,
            config: ConfigFile::from_slice(config)?,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The layers' descriptors.
    pub fn layers(&self) -> &[Descriptor] {
        &self.manifest.layers
    }

    /// Appends a signature layer as `mutate.Append` does.
    pub fn append(&mut self, layer: &SignatureLayer) -> Result<(), Error> {
        if self.manifest.layers.len() >= MAX_LAYERS {
            return Err(Error::TooManyLayers {
                count: self.manifest.layers.len(),
                max: MAX_LAYERS,
            });
        }
        let descriptor = layer.descriptor();
        self.config.rootfs.diff_ids.push(descriptor.digest.clone());
        self.config.history.push(History::default());
        self.manifest.layers.push(descriptor);
        let config_bytes = self.config.to_go_json();
        let config_type = self.manifest.config.media_type.clone();
        self.manifest.config = Descriptor::for_bytes(&config_type, &config_bytes);
        Ok(())
    }

    /// Whether `layer` is already present, as cosign's de-duplication decides for `sign`:
    /// an existing layer with the same payload digest and media type, every new annotation
    /// other than the signature equal, and a signature that `signature_verifies` accepts
    /// for the payload (i.e. made by the same key).
    pub fn has_equivalent(
        &self,
        layer: &SignatureLayer,
        signature_verifies: impl Fn(&[u8]) -> bool,
    ) -> bool {
        let new = layer.descriptor();
        self.manifest.layers.iter().any(|existing| {
            existing.digest == new.digest
                && existing.media_type == new.media_type
                && new
                    .annotations
                    .iter()
                    .filter(|(k, _)| k.as_str() != annotations::SIGNATURE)
                    .all(|(k, v)| existing.annotations.get(k) == Some(v))
                && existing
                    .annotations
                    .get(annotations::SIGNATURE)
                    .and_then(|s| gobase64::decode(s).ok())
                    .is_some_and(|sig| signature_verifies(&sig))
        })
    }

    /// Whether a layer with exactly this descriptor is present (used after a write to check
    /// that a concurrent writer did not drop it).
    pub fn contains_layer(&self, layer: &SignatureLayer) -> bool {
        let d = layer.descriptor();
        self.manifest.layers.contains(&d)
    }

    /// The manifest bytes, as ggcr writes them.
    pub fn manifest_bytes(&self) -> Vec<u8> {
        self.manifest.to_go_json()
    }

    /// The config bytes, as ggcr writes them.
    pub fn config_bytes(&self) -> Vec<u8> {
        self.config.to_go_json()
    }

    /// The manifest's media type.
    pub fn media_type(&self) -> &str {
        self.manifest
            .media_type
            .as_deref()
            .unwrap_or(media_types::OCI_MANIFEST)
    }

    /// The config's digest.
    pub fn config_digest(&self) -> &Digest {
        &self.manifest.config.digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
    const SIG: &str = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
    const CONFIG: &str = r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:3af4414d20c9e1cb76ccc72aae8b242166dabe6af531a4a790db8e2f0e5ee7c9"]},"config":{}}"#;
    const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:6be03ee91610ddcd1b1c5b664bb2ef319a85b4ca9ebee1d64d87729c5fd83a91"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":248,"digest":"sha256:3af4414d20c9e1cb76ccc72aae8b242166dabe6af531a4a790db8e2f0e5ee7c9","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8="}}]}"#;

    #[test]
    fn one_layer_matches_the_worked_example_byte_for_byte() {
        let mut img = SignatureImage::empty(false);
        let layer = SignatureLayer::with_signature_text(PAYLOAD.as_bytes().to_vec(), SIG.into());
        img.append(&layer).unwrap();
        assert_eq!(String::from_utf8(img.config_bytes()).unwrap(), CONFIG);
        assert_eq!(String::from_utf8(img.manifest_bytes()).unwrap(), MANIFEST);
        assert!(img.contains_layer(&layer));
    }

    #[test]
    fn appending_to_an_existing_image_keeps_old_layers() {
        let mut img = SignatureImage::from_parts(MANIFEST.as_bytes(), CONFIG.as_bytes()).unwrap();
        let second = SignatureLayer::new(b"other payload".to_vec(), b"sig");
        img.append(&second).unwrap();
        assert_eq!(img.layers().len(), 2);
        let config = String::from_utf8(img.config_bytes()).unwrap();
        assert!(config.contains(
            r#""history":[{"created":"0001-01-01T00:00:00Z"},{"created":"0001-01-01T00:00:00Z"}]"#
        ));
        assert_eq!(
            img.manifest().config.digest,
            Digest::sha256(config.as_bytes())
        );
        let reparsed =
            SignatureImage::from_parts(&img.manifest_bytes(), &img.config_bytes()).unwrap();
        assert_eq!(reparsed, img);
    }

    #[test]
    fn docker_media_types() {
        let img = SignatureImage::empty(true);
        assert_eq!(img.media_type(), media_types::DOCKER_MANIFEST);
        assert_eq!(img.manifest().config.media_type, media_types::DOCKER_CONFIG);
    }

    #[test]
    fn equivalence_needs_same_annotations_and_a_verifying_signature() {
        let img = SignatureImage::from_parts(MANIFEST.as_bytes(), CONFIG.as_bytes()).unwrap();
        let same = SignatureLayer::new(PAYLOAD.as_bytes().to_vec(), b"new random sig");
        assert!(img.has_equivalent(&same, |_| true));
        assert!(!img.has_equivalent(&same, |_| false));
        let with_cert = same
            .clone()
            .annotate(annotations::CERTIFICATE, "pem".into());
        assert!(!img.has_equivalent(&with_cert, |_| true));
        let other = SignatureLayer::new(b"x".to_vec(), b"s");
        assert!(!img.has_equivalent(&other, |_| true));
    }

    #[test]
    fn layer_limit() {
        let mut img = SignatureImage::empty(false);
        for i in 0..MAX_LAYERS {
            img.append(&SignatureLayer::new(i.to_string().into_bytes(), b"s"))
                .unwrap();
        }
        assert!(matches!(
            img.append(&SignatureLayer::new(b"one more".to_vec(), b"s")),
            Err(Error::TooManyLayers { .. })
        ));
    }
}
