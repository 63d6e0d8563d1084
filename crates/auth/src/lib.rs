//! Bearer-token authentication for the signing service.
//!
//! Every call to `/{org}/api/v1/...` carries `Authorization: Bearer <JWT>`,
//! and a token is valid for exactly one organisation. Tokens come from one of
//! two sources:
//!
//! * the embedded [`LocalIssuer`]: an Ed25519 key in the data directory that
//!   signs tokens with `iss` = `signet-local`, `aud` = `signet`;
//! * an OIDC identity provider, checked by an [`OidcVerifier`] against an
//!   [`OidcConfig`] and a [`Jwks`] that the server loads and refreshes.
//!
//! The [`Authenticator`] peeks at the unverified `iss` only to choose the
//! verifier; the chosen verifier then checks signature, algorithm, issuer,
//! audience, lifetime (with [`CLOCK_LEEWAY`]) and organisation itself.
//! `none` and HMAC algorithms are refused outright. This crate does no
//! network I/O, and neither errors nor `Debug` output contain tokens or key
//! material.

mod error;
mod jwt;
mod local;
mod oidc;
mod ttl;

use std::collections::BTreeSet;
use std::time::SystemTime;

pub use error::Error;
pub use jwt::CLOCK_LEEWAY;
pub use local::{KEY_FILE_NAME, LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer};
pub use oidc::{Jwks, OidcConfig, OidcVerifier};
pub use ttl::parse_ttl;

use crate::error::untrusted;
use crate::local::LocalVerifier;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The organisation the token is valid for (equal to the requested one).
    pub org: String,
    /// The user name.
    pub user: String,
    /// The user's groups (empty when the token names none).
    pub groups: BTreeSet<String>,
    /// The token's `exp`, without [`CLOCK_LEEWAY`]: the token is certainly no longer valid
    /// from then on. `None` if it cannot be represented as a [`SystemTime`]. Lets callers
    /// cache a validation no longer than the token lives.
    pub expires_at: Option<SystemTime>,
}

/// Validates bearer tokens from the local issuer and/or an OIDC provider.
pub struct Authenticator {
    local: Option<LocalVerifier>,
    oidc: Option<OidcVerifier>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("local", &self.local.is_some())
            .field("oidc", &self.oidc)
            .finish()
    }
}

impl Authenticator {
    /// Accepts tokens of `local` (its public key only is kept) and/or `oidc`.
    pub fn new(local: Option<&LocalIssuer>, oidc: Option<OidcVerifier>) -> Authenticator {
        Authenticator {
            local: local.map(LocalIssuer::verifier),
            oidc,
        }
    }

    /// The OIDC verifier, e.g. to [`OidcVerifier::set_jwks`] after a refresh.
    pub fn oidc(&self) -> Option<&OidcVerifier> {
        self.oidc.as_ref()
    }

    /// Validates the bearer token for `org` at `now`.
    pub fn authenticate(
        &self,
        token: &str,
        org: &str,
        now: SystemTime,
    ) -> Result<Principal, Error> {
        let token = jwt::parse(token)?;
        let issuer = token.issuer()?;
        if let Some(local) = &self.local
            && issuer == LOCAL_ISSUER
        {
            return local.authenticate(&token, org, now);
        }
        if let Some(oidc) = &self.oidc
            && issuer == oidc.config().issuer
        {
            return oidc.authenticate_parsed(&token, org, now);
        }
        Err(Error::UntrustedIssuer {
            issuer: untrusted(issuer),
        })
    }
}
