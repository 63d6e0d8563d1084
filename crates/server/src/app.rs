//! The shared state of the service and the per-call [`Caller`]: who is calling, for which
//! organisation. Nothing here is kept between calls except the configuration and the
//! connections: every replica serves any call from what the store holds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use signet_auth::Authenticator;
use signet_keys::KeyBackend;
use signet_store::Store;
use signet_workflow::Timestamp;
use signet_workflow::product_approval::OrgGroups;
use signet_workflow::request::{Actor, RequestConfig};

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// The time source (a seam for tests).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Everything a handler needs.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Products, requests, audit.
    pub store: Store,
    /// Where the keys are.
    pub keys: Arc<dyn KeyBackend>,
    /// Token validation.
    pub auth: Authenticator,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Counters for /metrics.
    pub metrics: Metrics,
    /// How long requests wait for approval.
    pub request_expiry: Duration,
    /// How long a request may stay InProcess before the sweeper fails it.
    pub signing_timeout: Duration,
    /// When the OIDC key set was last fetched again for an unknown key id (a cache guard, not
    /// state another replica needs).
    pub jwks_refreshed: tokio::sync::Mutex<Option<std::time::Instant>>,
    /// Operation id → its key. The mapping never changes once stored (a new key means a new
    /// operation id), so caching it is safe with any number of replicas.
    pub key_cache:
        std::sync::RwLock<std::collections::HashMap<(String, String), crate::keys::OperationKey>>,
    /// Bounds the signatures in flight to what the key backend serves in parallel (one
    /// session per signature; more would only open and close sessions).
    pub signing_slots: tokio::sync::Semaphore,
}

/// The least time between two fetches of the key set for unknown key ids.
const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// The state handlers share.
pub type Shared = Arc<App>;

impl App {
    /// Now, as the workflow counts time.
    pub fn now(&self) -> Timestamp {
        Timestamp::from(self.clock.now())
    }

    /// The request workflow's configuration.
    pub fn request_config(&self) -> RequestConfig {
        RequestConfig {
            approval_ttl: self.request_expiry,
        }
    }

    /// Validates a token; on a key id the OIDC key set does not have, fetches the key set
    /// again (at most every 30 s) and retries once, so the identity provider can rotate keys.
    pub async fn authenticate(
        &self,
        token: &str,
        org: &str,
    ) -> Result<signet_auth::Principal, signet_auth::Error> {
        match self.auth.authenticate(token, org, self.clock.now()) {
            Err(e) if e.is_unknown_key() => {
                let (Some(section), Some(verifier)) = (&self.config.oidc, self.auth.oidc()) else {
                    return Err(e);
                };
                if section.jwks_url.is_none() {
                    return Err(e);
                }
                {
                    let mut last = self.jwks_refreshed.lock().await;
                    if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH_INTERVAL) {
                        return Err(e);
                    }
                    *last = Some(std::time::Instant::now());
                    match crate::serve::load_jwks(section).await {
                        Ok(jwks) => verifier.set_jwks(jwks),
                        Err(fetch) => {
                            tracing::warn!(error = %fetch, "refreshing the OIDC key set failed");
                            return Err(e);
                        }
                    }
                }
                self.auth.authenticate(token, org, self.clock.now())
            }
            other => other,
        }
    }

    /// The organisation's product groups.
    pub fn org_groups(&self) -> OrgGroups {
        OrgGroups {
            product_writer_groups: vec![self.config.admin_group.clone()],
            product_approval_groups: vec![self.config.product_approval_group.clone()],
            ca_approval_groups: vec![self.config.product_approval_group.clone()],
        }
    }
}

/// The authenticated caller of an organisation's API.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The organisation in the path (and in the token).
    pub org: String,
    /// The user and their groups.
    pub actor: Actor,
}

impl Caller {
    /// Whether the caller is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.actor.groups.contains(group)
    }

    /// The caller's groups.
    pub fn groups(&self) -> Vec<String> {
        self.actor.groups.iter().cloned().collect()
    }

    /// Whether the caller is in any group of `groups`.
    pub fn in_any<'a>(&self, groups: impl IntoIterator<Item = &'a String>) -> bool {
        groups.into_iter().any(|g| self.actor.groups.contains(g))
    }
}

/// Checks the `{org}` path segment: 1–64 of `A-Z a-z 0-9 . _ -`, starting alphanumeric.
pub fn valid_org(org: &str) -> bool {
    let mut chars = org.chars();
    org.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, app)
            .await
            .map_err(|_| ApiError::not_found("no such path"))?;
        let org = params
            .iter()
            .find(|(k, _)| *k == "org")
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| ApiError::not_found("no such path"))?;
        if !valid_org(&org) {
            return Err(ApiError::not_found(format!(
                "no organisation {:?}: names are 1-64 letters, digits, '.', '_' or '-'",
                org.chars().take(70).collect::<String>()
            )));
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be \"Bearer <token>\"")
            })?;
        let principal = app
            .authenticate(token, &org)
            .await
            .map_err(|e| ApiError::unauthorized(e.to_string()))?;
        let groups: BTreeSet<String> = principal.groups.into_iter().collect();
        Ok(Caller {
            org,
            actor: Actor {
                user: principal.user,
                groups,
            },
        })
    }
}
