//! Media types used by OCI, Docker and cosign artifacts.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI layer (gzip).
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI empty descriptor (`{}`).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Docker schema 2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Cosign simple-signing payload layer.
pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// DSSE envelope layer (cosign attestations).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";

/// Every manifest media type a registry may return for an image, for `Accept` headers.
pub const MANIFEST_ACCEPT: &[&str] = &[
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Whether `media_type` names a multi-image index (OCI index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// The `mediaType` field of a manifest or index document, or `""` when it has none (or is not
/// JSON): what a layout or a registry without a `Content-Type` tells about the bytes.
pub fn of_manifest_bytes(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
    }
    serde_json::from_slice::<M>(bytes)
        .ok()
        .and_then(|m| m.media_type)
        .unwrap_or_default()
}
