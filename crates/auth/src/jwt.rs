//! Compact-JWS parsing and the claim checks shared by both token sources.
//!
//! Parsing only decodes; nothing here trusts the token. The verifiers call
//! [`verify_signature`] with the key and algorithm they selected, then
//! [`validate_claims`] with their own rules.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::Principal;
use crate::error::{Error, untrusted};

/// Tolerance applied to `exp` and `nbf` for clock skew.
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(60);

/// Longest bearer token accepted, in bytes.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A token split into its parts, header and claims decoded, nothing verified.
pub(crate) struct UnverifiedToken<'a> {
    /// `alg` from the header (already known not to be `none`/HS*).
    pub(crate) alg: Algorithm,
    /// `kid` from the header, if any.
    pub(crate) kid: Option<String>,
    /// The decoded claims object.
    pub(crate) claims: Map<String, Value>,
    signing_input: &'a str,
    signature: &'a str,
}

impl std::fmt::Debug for UnverifiedToken<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnverifiedToken")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn decode_segment(segment: &str, what: &'static str) -> Result<Map<String, Value>, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Error::Malformed { reason: what })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::Malformed { reason: what }),
    }
}

/// Splits and decodes a compact JWS, refusing `none`, HS* and unknown algorithms.
pub(crate) fn parse(token: &str) -> Result<UnverifiedToken<'_>, Error> {
    if token.is_empty() {
        return Err(Error::Malformed {
            reason: "the token is empty",
        });
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::Malformed {
            reason: "the token is longer than 16 KiB",
        });
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed {
            reason: "expected three dot-separated parts (header.payload.signature)",
        });
    };
    let header_map = decode_segment(header, "the header is not base64url-encoded JSON object")?;

    let alg_name = match header_map.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        _ => {
            return Err(Error::Malformed {
                reason: "the header has no alg string",
            });
        }
    };
    let alg = accepted_algorithm(alg_name)?;
    let kid = match header_map.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => {
            return Err(Error::Malformed {
                reason: "the header's kid is not a string",
            });
        }
    };
    if header_map.contains_key("crit") {
        return Err(Error::Malformed {
            reason: "critical header extensions (crit) are not supported",
        });
    }
    let claims = decode_segment(payload, "the payload is not base64url-encoded JSON object")?;
    if signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err() {
        return Err(Error::Malformed {
            reason: "the signature is not base64url-encoded",
        });
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    Ok(UnverifiedToken {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// Maps a header `alg` to an asymmetric algorithm, refusing everything else.
fn accepted_algorithm(name: &str) -> Result<Algorithm, Error> {
    let alg = match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => {
            return Err(Error::AlgorithmNotAccepted {
                alg: untrusted(other),
            });
        }
    };
    Ok(alg)
}

/// Name of an algorithm as it appears in JOSE headers.
pub(crate) fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

impl UnverifiedToken<'_> {
    /// The `iss` claim, if it is a string.
    pub(crate) fn issuer(&self) -> Result<&str, Error> {
        match self.claims.get("iss") {
            Some(Value::String(iss)) => Ok(iss),
            None | Some(Value::Null) => Err(Error::MissingClaim {
                claim: "iss".to_owned(),
            }),
            Some(_) => Err(Error::InvalidClaim {
                claim: "iss".to_owned(),
                expected: "a string",
            }),
        }
    }

    /// Checks the signature with `key`, which is pinned to `pinned`.
    pub(crate) fn verify_signature(
        &self,
        key: &DecodingKey,
        pinned: Algorithm,
    ) -> Result<(), Error> {
        if self.alg != pinned {
            return Err(Error::AlgorithmMismatch {
                alg: algorithm_name(self.alg).to_owned(),
                expected: algorithm_name(pinned).to_owned(),
            });
        }
        match jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key,
            pinned,
        ) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(Error::BadSignature),
        }
    }
}

/// What a verifier expects of a token's claims.
pub(crate) struct ClaimRules<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) user_claim: &'a str,
    pub(crate) org_claim: &'a str,
    pub(crate) groups_claim: &'a str,
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds(now: SystemTime) -> Result<u64, Error> {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::InvalidClock)
}

fn numeric_date(claims: &Map<String, Value>, claim: &str) -> Result<Option<u64>, Error> {
    let invalid = || Error::InvalidClaim {
        claim: claim.to_owned(),
        expected: "a non-negative number of seconds since 1970",
    };
    match claims.get(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                Ok(Some(v))
            } else {
                match n.as_f64() {
                    // Truncation is intended: fractional seconds are dropped.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Some(f) if (0.0..1.0e18).contains(&f) => Ok(Some(f as u64)),
                    _ => Err(invalid()),
                }
            }
        }
        Some(_) => Err(invalid()),
    }
}

fn string_claim<'c>(claims: &'c Map<String, Value>, claim: &str) -> Result<&'c str, Error> {
    match claims.get(claim) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(Error::MissingClaim {
            claim: untrusted(claim),
        }),
        Some(_) => Err(Error::InvalidClaim {
            claim: untrusted(claim),
            expected: "a non-empty string",
        }),
    }
}

/// Checks issuer, audience, lifetime and organisation; extracts the principal.
///
/// Call only after the signature has been verified.
pub(crate) fn validate_claims(
    claims: &Map<String, Value>,
    rules: &ClaimRules<'_>,
    org: &str,
    now: SystemTime,
) -> Result<Principal, Error> {
    let iss = string_claim(claims, "iss")?;
    if iss != rules.issuer {
        return Err(Error::UntrustedIssuer {
            issuer: untrusted(iss),
        });
    }

    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == rules.audience,
        Some(Value::Array(auds)) => auds
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a == rules.audience)),
        None | Some(Value::Null) => {
            return Err(Error::MissingClaim {
                claim: "aud".to_owned(),
            });
        }
        Some(_) => {
            return Err(Error::InvalidClaim {
                claim: "aud".to_owned(),
                expected: "a string or an array of strings",
            });
        }
    };
    if !audience_ok {
        return Err(Error::WrongAudience {
            expected: rules.audience.to_owned(),
        });
    }

    let now = unix_seconds(now)?;
    let leeway = CLOCK_LEEWAY.as_secs();
    let Some(exp) = numeric_date(claims, "exp")? else {
        return Err(Error::MissingClaim {
            claim: "exp".to_owned(),
        });
    };
    if now >= exp.saturating_add(leeway) {
        return Err(Error::Expired { expired_at: exp });
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(Error::NotYetValid { not_before: nbf });
    }

    let token_org = string_claim(claims, rules.org_claim)?;
    if token_org != org {
        return Err(Error::WrongOrganisation {
            token_org: untrusted(token_org),
            requested_org: untrusted(org),
        });
    }
    let user = string_claim(claims, rules.user_claim)?;

    let invalid_groups = || Error::InvalidClaim {
        claim: untrusted(rules.groups_claim),
        expected: "an array of strings",
    };
    let groups = match claims.get(rules.groups_claim) {
        None | Some(Value::Null) => BTreeSet::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_owned).ok_or_else(invalid_groups))
            .collect::<Result<BTreeSet<_>, _>>()?,
        Some(_) => return Err(invalid_groups()),
    };

    Ok(Principal {
        org: token_org.to_owned(),
        user: user.to_owned(),
        groups,
        expires_at: UNIX_EPOCH.checked_add(Duration::from_secs(exp)),
    })
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (`2025-01-31T12:00:00Z`).
pub(crate) fn format_unix_time(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (H. Hinnant), valid for all u64 day counts we can meet.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::format_unix_time;

    #[test]
    fn formats_unix_time() {
        assert_eq!(format_unix_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix_time(1_735_689_599), "2024-12-31T23:59:59Z");
    }
}
