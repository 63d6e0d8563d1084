//! The I/O edge of signet for images: an OCI distribution client ([`RegistryClient`]) written
//! for few round trips (no `/v2/` ping, lazy auth, connection reuse, token cache), credentials
//! looked up like docker and go-containerregistry do ([`Keychain`]), OCI image-layout
//! directories ([`OciLayout`]), OCI 1.1 referrers with the referrers-tag fallback
//! ([`referrers`]), and the [`Store`] / [`ImageRef`] pair the CLI works with.

pub mod auth;
mod client;
pub mod contention;
pub mod dirimage;
mod error;
pub mod layout;
pub mod lookaside;
pub mod referrers;
pub mod registries_d;
pub mod resource;
mod secret;
mod store;

pub use auth::{Challenge, Credential, Keychain};
pub use client::{
    ClientOptions, DEFAULT_MAX_MANIFEST_BYTES, FetchedManifest, ManifestHead, ManifestPut,
    RegistryClient, Repo,
};
pub use dirimage::DirImage;
pub use error::Error;
pub use layout::OciLayout;
pub use registries_d::RegistriesD;
pub use resource::ResourceFetcher;
pub use secret::Secret;
pub use store::{ImageRef, Store};
