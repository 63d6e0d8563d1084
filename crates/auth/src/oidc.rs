//! OIDC bearer tokens: configuration, JWKS parsing and verification.
//!
//! Every JWK is pinned to exactly one algorithm (its `alg`, or the one its
//! key type implies); a token must name that algorithm. Symmetric keys,
//! `none` and HS* are never used. This module does no network I/O: the
//! server obtains the JWKS bytes and swaps new key sets in with
//! [`OidcVerifier::set_jwks`].

use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Principal;
use crate::error::{Error, untrusted};
use crate::jwt::{self, ClaimRules, UnverifiedToken, algorithm_name};

/// base64url that tolerates (but does not require) padding, as found in JWKS documents.
const JWK_BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

fn default_groups_claim() -> String {
    "groups".to_owned()
}
fn default_user_claim() -> String {
    "sub".to_owned()
}
fn default_org_claim() -> String {
    "org".to_owned()
}

/// Which OIDC tokens to accept and where their identity lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Expected `iss`, compared exactly.
    pub issuer: String,
    /// Audience that `aud` must be or contain.
    pub audience: String,
    /// Claim holding the user's groups (array of strings; absent means none).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Claim holding the user name (string).
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// Claim holding the organisation (string).
    #[serde(default = "default_org_claim")]
    pub org_claim: String,
}

impl OidcConfig {
    /// A configuration with the default claim names (`sub`, `org`, `groups`).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> OidcConfig {
        OidcConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            groups_claim: default_groups_claim(),
            user_claim: default_user_claim(),
            org_claim: default_org_claim(),
        }
    }
}

/// One usable verification key, pinned to one algorithm.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// A parsed JSON Web Key Set, reduced to the keys that can verify tokens.
pub struct Jwks {
    keys: Vec<Key>,
    /// Keys that were set aside, by `kid`, with the reason.
    skipped: Vec<(String, String)>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap_or("-"), algorithm_name(k.alg)))
            .collect();
        f.debug_struct("Jwks")
            .field("keys", &keys)
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`).
    ///
    /// Keys that cannot verify signatures here (`use` other than `sig`,
    /// symmetric keys, unsupported curves or algorithms, RSA below 2048 bits,
    /// malformed members) are set aside. It is an error if no usable key
    /// remains or two usable keys share a `kid`.
    pub fn from_json(bytes: &[u8]) -> Result<Jwks, Error> {
        let invalid = |reason: &str| Error::InvalidJwks {
            reason: reason.to_owned(),
        };
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|_| invalid("the document is not JSON"))?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(invalid("the document has no \"keys\" array"));
        };
        let mut keys: Vec<Key> = Vec::new();
        let mut skipped = Vec::new();
        for entry in entries {
            let Value::Object(jwk) = entry else {
                return Err(invalid("a key set entry is not a JSON object"));
            };
            let kid = match jwk.get("kid") {
                None | Some(Value::Null) => None,
                Some(Value::String(kid)) => Some(kid.clone()),
                Some(_) => return Err(invalid("a key's kid is not a string")),
            };
            match parse_jwk(jwk) {
                Ok(Some((alg, key))) => {
                    if let Some(kid) = &kid
                        && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
                    {
                        return Err(Error::InvalidJwks {
                            reason: format!("two signing keys share the key id {}", untrusted(kid)),
                        });
                    }
                    keys.push(Key { kid, alg, key });
                }
                Ok(None) => {}
                Err(reason) => skipped.push((kid.unwrap_or_default(), reason)),
            }
        }
        if keys.is_empty() {
            return Err(invalid("the key set holds no usable signing key"));
        }
        Ok(Jwks { keys, skipped })
    }

    /// Number of usable signing keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if there is no usable signing key (never the case after `from_json`).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn select(&self, kid: Option<&str>) -> Result<&Key, Error> {
        match kid {
            Some(kid) => {
                if let Some(key) = self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                    return Ok(key);
                }
                if let Some((_, reason)) = self.skipped.iter().find(|(k, _)| k == kid) {
                    return Err(Error::KeyNotUsable {
                        kid: untrusted(kid),
                        reason: reason.clone(),
                    });
                }
                Err(Error::UnknownKey {
                    kid: untrusted(kid),
                })
            }
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                keys => Err(Error::MissingKeyId { keys: keys.len() }),
            },
        }
    }
}

fn member<'j>(jwk: &'j Map<String, Value>, name: &str) -> Result<Option<&'j str>, String> {
    match jwk.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("its {name} is not a string")),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let text = member(jwk, name)?.ok_or_else(|| format!("it has no {name}"))?;
    JWK_BASE64
        .decode(text)
        .map_err(|_| format!("its {name} is not base64url"))
}

/// Turns one JWK into a pinned verification key.
///
/// `Ok(None)`: not a signature key at all (silently ignored);
/// `Err(reason)`: a signature key this service cannot use.
fn parse_jwk(jwk: &Map<String, Value>) -> Result<Option<(Algorithm, DecodingKey)>, String> {
    if member(jwk, "use")?.is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if let Some(ops) = jwk.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")))
    {
        return Ok(None);
    }
    let declared = member(jwk, "alg")?;
    let kty = member(jwk, "kty")?.ok_or("it has no kty")?;
    let pin = |implied: Algorithm, allowed: &[Algorithm]| -> Result<Algorithm, String> {
        match declared {
            None => Ok(implied),
            Some(name) => allowed
                .iter()
                .copied()
                .find(|a| algorithm_name(*a) == name)
                .ok_or_else(|| {
                    format!(
                        "its alg {} is not accepted for a {kty} key",
                        untrusted(name)
                    )
                }),
        }
    };
    match kty {
        "RSA" => {
            let alg = pin(
                Algorithm::RS256,
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
            )?;
            let n = bytes_member(jwk, "n")?;
            let e = bytes_member(jwk, "e")?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("its RSA modulus is shorter than 2048 bits".to_owned());
            }
            if e.iter().all(|b| *b == 0) {
                return Err("its RSA exponent is zero".to_owned());
            }
            Ok(Some((alg, DecodingKey::from_rsa_raw_components(&n, &e))))
        }
        "EC" => {
            let (implied, len) = match member(jwk, "crv")? {
                Some("P-256") => (Algorithm::ES256, 32),
                Some("P-384") => (Algorithm::ES384, 48),
                Some(other) => {
                    return Err(format!("its curve {} is not supported", untrusted(other)));
                }
                None => return Err("it has no crv".to_owned()),
            };
            let alg = pin(implied, &[implied])?;
            let x = bytes_member(jwk, "x")?;
            let y = bytes_member(jwk, "y")?;
            if x.len() != len || y.len() != len {
                return Err("its x or y has the wrong length for its curve".to_owned());
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Ok(Some((alg, DecodingKey::from_ec_der(&point))))
        }
        "OKP" => {
            match member(jwk, "crv")? {
                Some("Ed25519") => {}
                Some(other) => {
                    return Err(format!("its curve {} is not supported", untrusted(other)));
                }
                None => return Err("it has no crv".to_owned()),
            }
            let alg = pin(Algorithm::EdDSA, &[Algorithm::EdDSA])?;
            let x = bytes_member(jwk, "x")?;
            if x.len() != 32 {
                return Err("its x is not a 32-byte Ed25519 public key".to_owned());
            }
            Ok(Some((alg, DecodingKey::from_ed_der(&x))))
        }
        "oct" => Err("symmetric (oct) keys are never accepted".to_owned()),
        other => Err(format!(
            "its key type {} is not supported",
            untrusted(other)
        )),
    }
}

/// Validates OIDC tokens against a configuration and a swappable key set.
///
/// Share it in an `Arc`: [`OidcVerifier::set_jwks`] takes `&self`.
pub struct OidcVerifier {
    config: OidcConfig,
    jwks: RwLock<Arc<Jwks>>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("config", &self.config)
            .field("jwks", &*self.current_jwks())
            .finish()
    }
}

impl OidcVerifier {
    /// A verifier for `config` using `jwks`.
    pub fn new(config: OidcConfig, jwks: Jwks) -> OidcVerifier {
        OidcVerifier {
            config,
            jwks: RwLock::new(Arc::new(jwks)),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Replaces the key set (e.g. after a refresh prompted by an unknown `kid`).
    pub fn set_jwks(&self, jwks: Jwks) {
        *self.jwks.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(jwks);
    }

    fn current_jwks(&self) -> Arc<Jwks> {
        Arc::clone(&self.jwks.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Validates an OIDC bearer token for `org` at `now`.
    pub fn authenticate(
        &self,
        token: &str,
        org: &str,
        now: SystemTime,
    ) -> Result<Principal, Error> {
        let token = jwt::parse(token)?;
        self.authenticate_parsed(&token, org, now)
    }

    pub(crate) fn authenticate_parsed(
        &self,
        token: &UnverifiedToken<'_>,
        org: &str,
        now: SystemTime,
    ) -> Result<Principal, Error> {
        let jwks = self.current_jwks();
        let key = jwks.select(token.kid.as_deref())?;
        token.verify_signature(&key.key, key.alg)?;
        let rules = ClaimRules {
            issuer: &self.config.issuer,
            audience: &self.config.audience,
            user_claim: &self.config.user_claim,
            org_claim: &self.config.org_claim,
            groups_claim: &self.config.groups_claim,
        };
        jwt::validate_claims(&token.claims, &rules, org, now)
    }
}
