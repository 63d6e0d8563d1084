//! Shared helpers for the integration tests: small images and clients.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use signet_oci::{Digest, media_types};
use signet_registry::{ClientOptions, Keychain, RegistryClient, Repo};

/// A tiny image: config, one layer, manifest.
pub struct Image {
    pub config: Vec<u8>,
    pub layer: Vec<u8>,
    pub manifest: Vec<u8>,
}

impl Image {
    pub fn new(seed: &str) -> Image {
        let layer = format!("layer {seed}").into_bytes();
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
            Digest::sha256(&layer)
        )
        .into_bytes();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":{},"digest":"{}"}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":{},"digest":"{}"}}]}}"#,
            media_types::OCI_MANIFEST,
            media_types::OCI_CONFIG,
            config.len(),
            Digest::sha256(&config),
            layer.len(),
            Digest::sha256(&layer),
        )
        .into_bytes();
        Image {
            config,
            layer,
            manifest,
        }
    }

    pub fn digest(&self) -> Digest {
        Digest::sha256(&self.manifest)
    }

    /// Pushes blobs and the manifest under `tag`.
    pub async fn push(&self, client: &RegistryClient, repo: &Repo, tag: &str) -> Digest {
        client.put_blob(repo, &self.config).await.unwrap();
        client.put_blob(repo, &self.layer).await.unwrap();
        client
            .put_manifest(repo, tag, &self.manifest, media_types::OCI_MANIFEST)
            .await
            .unwrap()
    }
}

pub fn anonymous_client() -> RegistryClient {
    RegistryClient::new(ClientOptions::default(), Keychain::anonymous()).unwrap()
}

pub fn client_with(keychain: Keychain) -> RegistryClient {
    RegistryClient::new(ClientOptions::default(), keychain).unwrap()
}
