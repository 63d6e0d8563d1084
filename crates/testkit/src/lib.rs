//! Test support for signet's integration tests.
//!
//! Everything here talks to real peers on the loopback interface only:
//!
//! * [`TestRegistry`] runs a real CNCF distribution (`docker-registry` 2.8) on a free
//!   loopback port in a fresh temporary directory, optionally behind HTTP basic auth
//!   (htpasswd) or Bearer token auth (with an in-process [`TokenServer`]).
//! * [`CountingProxy`] is a TCP proxy that counts the HTTP requests passing through it.
//! * [`Pusher`], [`push_random_image`] and [`push_random_index`] put random images
//!   into a registry with an independent minimal client (not signet's own).
//! * [`write_random_oci_layout`] writes an OCI image layout directory.
//! * [`TestPostgres`] provides a real PostgreSQL server (the run's shared one, or a private
//!   throwaway cluster) and fresh databases on it.
//!
//! Nothing is global: every fixture owns its ports, processes, threads and
//! directories, and releases them on drop, so tests may run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod fixtures;
mod http;
pub mod openssl_pki;
pub mod postgres;
mod proxy;
mod registry;
pub mod softhsm;
mod token;

pub use client::{Credentials, HttpResponse, Pusher};
pub use fixtures::{
    ImageParts, OCI_IMAGE_CONFIG, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, OCI_LAYER_TAR, PushedImage,
    PushedIndex, random_image_parts, sha256_digest, write_random_oci_layout,
};
pub use postgres::{POSTGRES_URL_ENV, TestPostgres, postgres_available, postgres_bin_dir};
pub use proxy::CountingProxy;
pub use registry::{
    AuthMode, REGISTRY_BIN_ENV, TestRegistry, TestRegistryBuilder, registry_available,
    registry_binary,
};
pub use tempfile::{TempDir, tempdir};
pub use token::{IDENTITY_TOKEN_SUBJECT, TokenServer, TokenServerConfig};

/// Pushes a random single-platform OCI image to the anonymous registry at `addr`
/// (`"127.0.0.1:PORT"`) as `repo:tag`. Panics with a clear message on failure.
pub fn push_random_image(addr: &str, repo: &str, tag: &str) -> PushedImage {
    Pusher::new(addr).push_random_image(repo, tag)
}

/// Pushes an OCI image index with `n_children` random child images (each with a
/// distinct platform) to the anonymous registry at `addr` as `repo:tag`.
pub fn push_random_index(addr: &str, repo: &str, tag: &str, n_children: usize) -> PushedIndex {
    Pusher::new(addr).push_random_index(repo, tag, n_children)
}

/// Returns a loopback TCP port that was free a moment ago (bind port 0, read it,
/// release it). Another process may take it before you bind it: retry on failure.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("testkit: cannot bind a loopback port to find a free one")
}
