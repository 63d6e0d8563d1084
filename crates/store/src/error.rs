//! The crate's one error type. Every variant has typed fields and prints one line; no message
//! ever contains a database password (URLs are redacted to `postgres://user:***@host/db`).

use crate::Kind;

/// Everything the store refuses or fails at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An insert (or a product rename) collides with an existing record.
    #[error("{kind} \"{key}\" already exists in org {org}")]
    Conflict {
        /// The record kind.
        kind: Kind,
        /// The organisation.
        org: String,
        /// The colliding key: the id, or the product name.
        key: String,
    },
    /// An update expected another version: someone else changed the record first.
    #[error("{kind} {id} was changed concurrently (expected version {expected_version})")]
    Stale {
        /// The record kind.
        kind: Kind,
        /// The record id.
        id: String,
        /// The version the update expected.
        expected_version: i64,
    },
    /// An update names a record that does not exist.
    #[error("{kind} {id} not found in org {org}")]
    NotFound {
        /// The record kind.
        kind: Kind,
        /// The organisation.
        org: String,
        /// The record id.
        id: String,
    },
    /// The arguments are inconsistent (e.g. a record of another org in a write).
    #[error("invalid store input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The database failed (connection, I/O, constraint, …).
    #[error("database error during {operation}: {message}")]
    Database {
        /// What the store was doing (`connect`, `write`, `list`, …).
        operation: &'static str,
        /// The driver's message (one line, passwords redacted).
        message: String,
    },
    /// A stored row cannot be decoded.
    #[error("stored {what} {id} is corrupt: {message}")]
    Corrupt {
        /// What kind of row (`product`, `signing request`, `audit entry`, …).
        what: String,
        /// Its id (or `org/seq` for audit entries).
        id: String,
        /// What is wrong with it.
        message: String,
    },
    /// The database URL is not `sqlite:PATH`, `sqlite://PATH`, `postgres://…` or
    /// `postgresql://…`, or cannot be parsed.
    #[error("unsupported database URL {url}: {reason}")]
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The schema is newer than this build knows, or a migration failed.
    #[error("database schema migration failed: {message}")]
    Migration {
        /// What went wrong.
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Makes `message` one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Redacts the password of a database URL: `scheme://user:***@host…`, and any
/// `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

/// The password of a URL as written and percent-decoded (to scrub from driver messages).
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@')
            && let Some((_, password)) = authority[..at].split_once(':')
        {
            secrets.push(password.to_owned());
        }
        if let Some(q) = rest.find('?') {
            for p in rest[q + 1..].split('&') {
                if let Some((k, v)) = p.split_once('=')
                    && k.eq_ignore_ascii_case("password")
                {
                    secrets.push(v.split('#').next().unwrap_or(v).to_owned());
                }
            }
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces every secret in `message` with `***` and makes it one line.
pub(crate) fn scrub(message: &str, secrets: &[String]) -> String {
    let mut message = one_line(message);
    for secret in secrets {
        message = message.replace(secret.as_str(), "***");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url(
                "postgres://alice:s3cr%40t@db.example:5432/signet?sslmode=require&password=x"
            ),
            "postgres://alice:***@db.example:5432/signet?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://alice@db/x"), "postgres://alice@db/x");
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
        let secrets = url_secrets("postgres://alice:s3cr%40t@db/x");
        assert_eq!(
            scrub("bad s3cr@t and s3cr%40t\nhere", &secrets),
            "bad *** and *** here"
        );
    }
}
