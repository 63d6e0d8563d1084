//! `signet server`: the signing service.
//!
//! Products with operations whose keys live in a key backend (PKCS#11 or the software store)
//! and never leave it; signing requests approved by the groups each operation names; a
//! hash-chained audit log of every state change and key use. The workflow's rules are in the
//! pure `signet-workflow` crate; this crate is the shell around it: HTTP ([`routes`]), who
//! is calling ([`app::Caller`]), the store and the key backend.
//!
//! - [`config`]: TOML file and `SIGNET_*` overrides.
//! - [`serve`]: startup, the expiry sweeper, graceful shutdown.
//! - [`routes`]: the API under `/{org}/api/v1` (see `docs/service-api.md`).
//! - [`pki`]: the internal CA, products' certificates (issued or via CSR), uploaded chains.
//! - [`error`]: the one problem-document error shape.
//! - [`token_cache`]: successful token validations, reused for at most a minute.

pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod keys;
pub mod metrics;
pub mod pki;
pub mod routes;
pub mod serve;
pub mod token_cache;
pub mod views;
