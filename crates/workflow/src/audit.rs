//! The audit log as a SHA-256 hash chain.
//!
//! Each entry's `hash` is SHA-256 over the domain tag `signet-audit-v1\n` followed by the
//! canonical JSON of `{action, actor, at, details, prev_hash, seq, subject}`: object keys
//! sorted at every depth, no whitespace, strings escaped as serde_json does. `prev_hash` is
//! the previous entry's hash (64 zeros for the first entry, whose `seq` is 0). Changing,
//! removing or reordering entries breaks the chain at the first affected entry; truncating
//! the tail is only detectable against a stored head hash ([`head`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{ChainBreak, Error, Result, Timestamp};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"signet-audit-v1\n";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the chain, from 0.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who (user id, or `system`).
    pub actor: String,
    /// What (`request.create`, `request.approve`, `product.approve`, …).
    pub action: String,
    /// On what (request or product id).
    pub subject: String,
    /// Anything else.
    pub details: Value,
    /// Hex SHA-256 of the previous entry.
    pub prev_hash: String,
    /// Hex SHA-256 of this entry.
    pub hash: String,
}

/// Appends an entry after `prev` (None: the first entry).
pub fn append(
    prev: Option<&AuditEntry>,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    details: Value,
) -> AuditEntry {
    let canonical_details = canonical(&details);
    append_canonical(
        prev,
        at,
        actor,
        action,
        subject,
        details,
        &canonical_details,
    )
}

/// [`append`] for a caller that has the canonical JSON of `details` already ([`canonical`],
/// e.g. because it stores that text): the details are not serialized again for the hash.
pub fn append_canonical(
    prev: Option<&AuditEntry>,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    details: Value,
    canonical_details: &str,
) -> AuditEntry {
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq.saturating_add(1), p.hash.clone()),
        None => (0, GENESIS_HASH.to_owned()),
    };
    let mut entry = AuditEntry {
        seq,
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details,
        prev_hash,
        hash: String::new(),
    };
    entry.hash = hash_with(&entry, canonical_details.as_bytes());
    entry
}

/// The canonical JSON of `details`: the text the entry's hash covers for them.
pub fn canonical(details: &Value) -> String {
    let mut out = Vec::with_capacity(128);
    write_canonical(details, &mut out);
    // Only valid UTF-8 is ever written (serde_json's output and ASCII punctuation).
    String::from_utf8(out).unwrap_or_default()
}

/// The hash `entry` should carry (its own `hash` field is ignored).
pub fn compute_hash(entry: &AuditEntry) -> String {
    hash_with(entry, canonical(&entry.details).as_bytes())
}

/// The hash of `entry` with `details` as the canonical JSON of its details.
fn hash_with(entry: &AuditEntry, details: &[u8]) -> String {
    // The object's keys written in their sorted order (action < actor < at < details <
    // prev_hash < seq < subject), without building a map of copies first.
    let mut canonical = Vec::with_capacity(192 + details.len());
    canonical.extend_from_slice(b"{\"action\":");
    write_str(&entry.action, &mut canonical);
    canonical.extend_from_slice(b",\"actor\":");
    write_str(&entry.actor, &mut canonical);
    canonical.extend_from_slice(b",\"at\":");
    canonical.extend_from_slice(entry.at.unix_seconds().to_string().as_bytes());
    canonical.extend_from_slice(b",\"details\":");
    canonical.extend_from_slice(details);
    canonical.extend_from_slice(b",\"prev_hash\":");
    write_str(&entry.prev_hash, &mut canonical);
    canonical.extend_from_slice(b",\"seq\":");
    canonical.extend_from_slice(entry.seq.to_string().as_bytes());
    canonical.extend_from_slice(b",\"subject\":");
    write_str(&entry.subject, &mut canonical);
    canonical.push(b'}');
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// Canonical JSON: sorted keys at every depth (independent of serde_json's map order),
/// no whitespace.
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

/// A JSON string as serde_json escapes it.
fn write_str(s: &str, out: &mut Vec<u8>) {
    // Writing a str into a Vec cannot fail; an impossible failure writes nothing, which
    // still hashes deterministically.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serializing a scalar Value cannot fail; an impossible failure writes nothing, which
    // still hashes deterministically.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Checks the whole chain from its first entry and reports the first broken entry.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<()> {
    let mut prev: Option<&AuditEntry> = None;
    for (expected, entry) in (0u64..).zip(entries) {
        let broken = |reason| Error::ChainBroken {
            seq: expected,
            reason,
        };
        if entry.seq != expected {
            return Err(broken(ChainBreak::SequenceGap {
                expected,
                found: entry.seq,
            }));
        }
        let expected_prev = prev.map_or(GENESIS_HASH, |p| p.hash.as_str());
        if entry.prev_hash != expected_prev {
            return Err(broken(ChainBreak::PrevHashMismatch));
        }
        if entry.hash != compute_hash(entry) {
            return Err(broken(ChainBreak::HashMismatch));
        }
        if let Some(p) = prev
            && entry.at < p.at
        {
            return Err(broken(ChainBreak::TimeWentBackwards {
                at: entry.at,
                previous: p.at,
            }));
        }
        prev = Some(entry);
    }
    Ok(())
}

/// The hash of the last entry (the genesis hash for an empty chain): store it elsewhere to
/// detect truncation.
pub fn head(entries: &[AuditEntry]) -> &str {
    entries.last().map_or(GENESIS_HASH, |e| e.hash.as_str())
}
