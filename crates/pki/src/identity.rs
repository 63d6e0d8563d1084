//! The signer's identity in a certificate, and matching it as cosign's `--certificate-identity`
//! / `--certificate-oidc-issuer` (and their `-regexp` forms) do: the identity is matched against
//! every subject alternative name (e-mail, URI, DNS, IP, Fulcio OtherName), the issuer against
//! the Fulcio OIDC-issuer extension (.1.8 or .1.1; see [`Certificate::oidc_issuer`]).
//! Regular expressions use RE2 syntax (the `regex` crate) and are unanchored, as Go's
//! `regexp.MatchString` is.

use regex::Regex;

use crate::Error;
use crate::cert::Certificate;

/// An exact string or an unanchored regular expression.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// Matched (anywhere) by this expression.
    Regex(Regex),
}

impl Matcher {
    /// A regular-expression matcher; the pattern must compile.
    pub fn regex(pattern: &str) -> Result<Self, Error> {
        Regex::new(pattern)
            .map(Matcher::Regex)
            .map_err(|e| Error::InvalidRegex {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Regex(r) => r.is_match(value),
        }
    }
}

/// What a certificate must say about its holder.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    /// Matched against each subject alternative name.
    pub subject: Matcher,
    /// Matched against the OIDC issuer.
    pub issuer: Matcher,
}

/// The identity a certificate carries, as cosign reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// The first subject alternative name (DNS, e-mail, IP, URI, OtherName order), or "".
    pub subject: String,
    /// The OIDC issuer, if the certificate has one.
    pub issuer: Option<String>,
}

/// The identity of `cert`.
pub fn identity_of(cert: &Certificate) -> Result<CertIdentity, Error> {
    let sans = cert.subject_alt_names()?;
    Ok(CertIdentity {
        subject: sans
            .all()
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default(),
        issuer: cert.oidc_issuer()?,
    })
}

/// Checks `cert` against `policy`: the issuer must match, and some SAN must match the subject.
pub fn check_identity(cert: &Certificate, policy: &IdentityPolicy) -> Result<CertIdentity, Error> {
    let sans = cert.subject_alt_names()?;
    let issuer = cert.oidc_issuer()?;
    let issuer_ok = policy.issuer.matches(issuer.as_deref().unwrap_or(""));
    let all = sans.all();
    let subject_ok = all.iter().any(|s| policy.subject.matches(s));
    if issuer_ok && subject_ok {
        return Ok(CertIdentity {
            subject: all.first().map(|s| s.to_string()).unwrap_or_default(),
            issuer,
        });
    }
    Err(Error::IdentityMismatch {
        subject: cert.subject(),
        serial: cert.serial_hex(),
        subjects: all.iter().map(|s| s.to_string()).collect(),
        issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_unanchored_like_go() {
        let m = Matcher::regex("team-.*@linuxera.org").unwrap();
        assert!(m.matches("team-a@linuxera.org"));
        assert!(m.matches("xteam-b@linuxera.org.evil"));
        assert!(!m.matches("ops@linuxera.org"));
        let anchored = Matcher::regex("^team-a@linuxera\\.org$").unwrap();
        assert!(!anchored.matches("xteam-a@linuxera.org"));
        assert!(Matcher::regex("(").is_err());
        assert!(Matcher::Exact("a".into()).matches("a"));
        assert!(!Matcher::Exact("a".into()).matches("ab"));
    }
}
