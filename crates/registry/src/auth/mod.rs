//! Registry authentication: `WWW-Authenticate` challenges and the [`Keychain`] of credentials
//! (docker config, containers auth.json, docker credential helpers).

pub mod challenge;
pub mod keychain;

pub use challenge::Challenge;
pub use keychain::{Credential, Keychain};
