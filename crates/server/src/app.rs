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
use crate::token_cache::{TokenCache, TokenKey};

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
    /// Successful token validations, reused for at most a minute and never past the token's
    /// `exp`; cleared when the OIDC key set is fetched again.
    pub token_cache: TokenCache,
    /// Operation id → its key. The mapping never changes once stored (a new key means a new
    /// operation id), so caching it is safe with any number of replicas.
    pub key_cache:
        std::sync::RwLock<std::collections::HashMap<(String, String), crate::keys::OperationKey>>,
    /// (org, product id) → the product decoded, with its record's version; used only while
    /// the store's record is still at that version (`routes::products::product_for_signing`).
    pub product_cache: crate::routes::products::ProductCache,
    /// The threads that make signatures (PKCS#11 calls block).
    pub signers: crate::keys::SigningPool,
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
    /// again (at most every 30 s), clears the [`TokenCache`] and retries once, so the identity
    /// provider can rotate keys. A token validated for `org` in the last minute (and not
    /// expired) is taken from the cache without verifying its signature again.
    pub async fn authenticate(
        &self,
        token: &str,
        org: &str,
    ) -> Result<signet_auth::Principal, signet_auth::Error> {
        let key = TokenKey::new(token, org);
        if let Some(principal) = self
            .token_cache
            .get(&key, self.clock.now())
            .filter(|p| p.org == org)
        {
            return Ok(principal);
        }
        match self.validate(token, org, key) {
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
                        Ok(jwks) => {
                            verifier.set_jwks(jwks);
                            // After the swap: validations against the old keys that finish
                            // later are not stored (see `TokenCache::insert`).
                            self.token_cache.clear();
                        }
                        Err(fetch) => {
                            tracing::warn!(error = %fetch, "refreshing the OIDC key set failed");
                            return Err(e);
                        }
                    }
                }
                self.validate(token, org, key)
            }
            other => other,
        }
    }

    /// Validates a token now and caches the principal if it is valid.
    fn validate(
        &self,
        token: &str,
        org: &str,
        key: TokenKey,
    ) -> Result<signet_auth::Principal, signet_auth::Error> {
        let generation = self.token_cache.generation();
        let now = self.clock.now();
        let principal = self.auth.authenticate(token, org, now)?;
        self.token_cache
            .insert(key, principal.clone(), now, generation);
        Ok(principal)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Mutex;
    use std::time::UNIX_EPOCH;

    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{Value, json};

    use super::*;
    use crate::cli::RunArgs;

    const ISSUER: &str = "https://idp.example.test";
    const AUDIENCE: &str = "signet-api";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn jwk(key: &Ed25519KeyPair, kid: &str) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(key.public_key().as_ref())})
    }

    fn token(key: &Ed25519KeyPair, kid: &str, org: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "ada", "org": org,
            "groups": ["admins"], "iat": now, "nbf": now, "exp": now + 600});
        let input = format!(
            "{}.{}",
            b64(json!({"alg": "EdDSA", "kid": kid}).to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.as_ref()))
    }

    /// Serves `keys` as a JWKS on loopback; the keys can be replaced.
    async fn idp(keys: Arc<Mutex<Vec<Value>>>) -> String {
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let keys = keys.clone();
                async move { axum::Json(json!({"keys": keys.lock().unwrap().clone()})) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn authenticate_caches_per_org_and_jwks_refresh_clears() {
        let k1 = Ed25519KeyPair::generate().unwrap();
        let k2 = Ed25519KeyPair::generate().unwrap();
        let keys = Arc::new(Mutex::new(vec![jwk(&k1, "k1")]));
        let jwks_url = idp(keys.clone()).await;
        let data = tempfile::tempdir().unwrap();
        let env = [
            ("SIGNET_OIDC_ISSUER", ISSUER),
            ("SIGNET_OIDC_AUDIENCE", AUDIENCE),
            ("SIGNET_OIDC_JWKS_URL", jwks_url.as_str()),
        ];
        let args = RunArgs {
            config: None,
            data_dir: Some(data.path().to_path_buf()),
            listen: None,
        };
        let config = Config::load(&args, |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap();
        let app = crate::serve::build(config).await.unwrap();

        // A valid token is validated and cached for its organisation.
        let t1 = token(&k1, "k1", "acme");
        let principal = app.authenticate(&t1, "acme").await.unwrap();
        assert_eq!(principal.user, "ada");
        assert!(principal.expires_at.is_some());
        assert_eq!(app.token_cache.len(), 1);
        assert_eq!(app.authenticate(&t1, "acme").await.unwrap(), principal);

        // On another organisation's path it fails exactly as without the cache, and the
        // failure is not cached.
        let err = app.authenticate(&t1, "globex").await.unwrap_err();
        let direct = app
            .auth
            .authenticate(&t1, "globex", app.clock.now())
            .unwrap_err();
        assert!(
            matches!(err, signet_auth::Error::WrongOrganisation { .. }),
            "{err}"
        );
        assert_eq!(err.to_string(), direct.to_string());
        assert_eq!(app.token_cache.len(), 1);

        // A cached entry is used without validating (a planted entry for a non-token shows
        // it), only for its organisation, and only if the principal is for that organisation.
        let now = app.clock.now();
        let planted = signet_auth::Principal {
            org: "acme".to_owned(),
            user: "planted".to_owned(),
            groups: BTreeSet::new(),
            expires_at: Some(now + Duration::from_secs(600)),
        };
        let generation = app.token_cache.generation();
        app.token_cache.insert(
            TokenKey::new("not-a-jwt", "acme"),
            planted.clone(),
            now,
            generation,
        );
        app.token_cache.insert(
            TokenKey::new("not-a-jwt", "globex"),
            planted.clone(),
            now,
            generation,
        );
        assert_eq!(
            app.authenticate("not-a-jwt", "acme").await.unwrap().user,
            "planted"
        );
        let err = app.authenticate("not-a-jwt", "globex").await.unwrap_err();
        assert!(matches!(err, signet_auth::Error::Malformed { .. }), "{err}");

        // A token signed with a new key makes the service fetch the key set again, which
        // clears the cache.
        keys.lock().unwrap().push(jwk(&k2, "k2"));
        let t2 = token(&k2, "k2", "acme");
        assert_eq!(app.authenticate(&t2, "acme").await.unwrap().user, "ada");
        let err = app.authenticate("not-a-jwt", "acme").await.unwrap_err();
        assert!(matches!(err, signet_auth::Error::Malformed { .. }), "{err}");
        assert_eq!(app.token_cache.len(), 1);
        assert_eq!(app.authenticate(&t1, "acme").await.unwrap(), principal);
        assert_eq!(app.token_cache.len(), 2);
    }
}
