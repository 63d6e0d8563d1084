//! notation's own configuration directory, read and written the way notation (v1/v2,
//! `notaryproject/notation` with `notation-go`) does, so `signet notation …` and `notation …`
//! share one setup.
//!
//! * [`config`], notation's `config.json`: insecure registries, default signature format,
//!   credential store.
//! * [`dirs`], where `{NOTATION_CONFIG}` is and the paths inside it.
//! * [`fsio`], writing files `0600` in directories `0700`, as notation does.
//! * [`keys`], `signingkeys.json`.
//! * [`truststore`], `truststore/x509/{ca,signingAuthority,tsa}/<store>/<file>`.
//! * [`table`], Go `text/tabwriter` output (padding 3), as notation's `ls` commands print.
//! * [`trust`], trust-store roots (`ca:` and `tsa:`), the chain-to-root, validity and offline
//!   revocation checks.
//! * [`tsa`], the RFC 3161 timestamp authority client of `sign --timestamp-url`.
//! * [`artifact`], `sign`, `ls`, `inspect` and `verify` on registry images and OCI layouts.

pub mod artifact;
pub mod config;
pub mod dirs;
pub mod fsio;
pub mod keys;
pub mod table;
pub mod trust;
pub mod truststore;
pub mod tsa;
