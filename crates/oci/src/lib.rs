//! OCI data model for signet: image references as the Docker/ggcr world parses them, content
//! digests, descriptors, manifests, indexes and image configs, serialised byte-for-byte as Go's
//! `encoding/json` writes them (which is what cosign and go-containerregistry put in registries).
//!
//! This crate is pure: it owns no I/O, no clock and no network. Registries and layout
//! directories live in `signet-registry`.

mod digest;
mod error;
pub mod gojson;
mod manifest;
pub mod media_types;
mod reference;

pub use digest::Digest;
pub use error::Error;
pub use manifest::{ConfigFile, Descriptor, History, ImageIndex, Manifest, Platform, RootFs};
pub use reference::{DEFAULT_REGISTRY, Reference, is_loopback_host};
