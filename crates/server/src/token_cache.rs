//! A cache of successful bearer-token validations, so that a client sending the same token
//! many times a second does not cost a signature verification per call.
//!
//! The rules, all failing closed:
//!
//! - only successful validations are cached, keyed by a SHA-256 of the token *and* the
//!   organisation it was validated for (the raw token is never kept), so a token of one
//!   organisation presented for another is always validated (and refused) again;
//! - an entry is used only while `now` is before the token's `exp` (without the clock leeway
//!   validation allows) and for at most [`MAX_AGE`] after it was validated, so key-set and
//!   configuration changes take effect within that time; a token without `exp` is not cached,
//!   and an entry is not used at a `now` earlier than its validation (the clock went back);
//! - [`TokenCache::clear`] (after the OIDC key set is fetched again) drops everything, and a
//!   validation that started before the clear is not stored after it;
//! - at most [`MAX_ENTRIES`] entries: inserting into a full cache drops the unusable entries
//!   and, if it is still full, everything;
//! - a poisoned lock means no cache: every call validates.
//!
//! The functions take `now` rather than reading a clock, so callers pass the same time the
//! validation uses (and tests drive it).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use signet_auth::Principal;

/// The longest time an entry is used after its validation.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The most entries the cache holds.
pub const MAX_ENTRIES: usize = 10_000;

/// The cache key: SHA-256 over the token's length, the token and the organisation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// The key of `token` presented for `org`.
    pub fn new(token: &str, org: &str) -> TokenKey {
        let mut ctx = digest::Context::new(&digest::SHA256);
        // The length prefix keeps (token, org) pairs from colliding by concatenation.
        ctx.update(&(token.len() as u64).to_be_bytes());
        ctx.update(token.as_bytes());
        ctx.update(org.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(ctx.finish().as_ref());
        TokenKey(key)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// What [`TokenCache::generation`] returns and [`TokenCache::insert`] checks: a validation
/// that began before a [`TokenCache::clear`] is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

struct Entry {
    principal: Principal,
    validated_at: SystemTime,
    /// The earlier of the token's `exp` and `validated_at + MAX_AGE`.
    usable_until: SystemTime,
}

impl Entry {
    fn usable_at(&self, now: SystemTime) -> bool {
        self.validated_at <= now && now < self.usable_until
    }
}

/// Validated tokens → their principals (see the module documentation).
pub struct TokenCache {
    entries: RwLock<HashMap<TokenKey, Entry>>,
    /// Incremented by every clear; written only while `entries` is write-locked.
    generation: AtomicU64,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new()
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> TokenCache {
        TokenCache {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The principal of a validation of `key` still usable at `now`.
    pub fn get(&self, key: &TokenKey, now: SystemTime) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        entries
            .get(key)
            .filter(|e| e.usable_at(now))
            .map(|e| e.principal.clone())
    }

    /// Read before validating; pass to [`TokenCache::insert`].
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    /// Stores a successful validation of `key` made at `validated_at`, unless the cache was
    /// cleared since `generation` was read, the token has no `exp`, or the entry would be
    /// unusable already.
    pub fn insert(
        &self,
        key: TokenKey,
        principal: Principal,
        validated_at: SystemTime,
        generation: Generation,
    ) {
        let Some(expires_at) = principal.expires_at else {
            return;
        };
        let Some(max_age_end) = validated_at.checked_add(MAX_AGE) else {
            return;
        };
        let usable_until = expires_at.min(max_age_end);
        if usable_until <= validated_at {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if self.generation.load(Ordering::SeqCst) != generation.0 {
            return;
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, e| e.usable_at(validated_at));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                principal,
                validated_at,
                usable_until,
            },
        );
    }

    /// Drops every entry, and keeps validations that began earlier from being stored.
    pub fn clear(&self) {
        let entries = self.entries.write();
        // Even when poisoned: no entry is used then anyway.
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = entries {
            entries.clear();
        }
    }

    /// The number of entries (usable or not); 0 when the lock is poisoned.
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;
    use std::time::UNIX_EPOCH;

    use super::*;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn principal(org: &str, expires_at: Option<SystemTime>) -> Principal {
        Principal {
            org: org.to_owned(),
            user: "alice".to_owned(),
            groups: BTreeSet::from(["devs".to_owned()]),
            expires_at,
        }
    }

    /// A cache holding `token` for `org`, validated at t(0) and expiring at t(600).
    fn cache_with(token: &str, org: &str) -> TokenCache {
        let cache = TokenCache::new();
        let generation = cache.generation();
        cache.insert(
            TokenKey::new(token, org),
            principal(org, Some(t(600))),
            t(0),
            generation,
        );
        cache
    }

    #[test]
    fn hit_returns_the_principal() {
        let cache = cache_with("tok", "acme");
        assert_eq!(
            cache.get(&TokenKey::new("tok", "acme"), t(10)),
            Some(principal("acme", Some(t(600))))
        );
        assert_eq!(
            cache.get(&TokenKey::new("tok", "acme"), t(0)).unwrap().user,
            "alice"
        );
    }

    #[test]
    fn other_org_or_token_misses() {
        let cache = cache_with("tok", "acme");
        assert_eq!(cache.get(&TokenKey::new("tok", "other"), t(10)), None);
        assert_eq!(cache.get(&TokenKey::new("tok2", "acme"), t(10)), None);
        // No ambiguity from concatenation.
        assert_ne!(TokenKey::new("ab", "c"), TokenKey::new("a", "bc"));
        assert!(cache.get(&TokenKey::new("tok", "acme"), t(10)).is_some());
    }

    #[test]
    fn entry_misses_from_the_tokens_exp() {
        let cache = TokenCache::new();
        let key = TokenKey::new("tok", "acme");
        // Validated at t(0), expires at t(30): within MAX_AGE, exp decides.
        cache.insert(
            key,
            principal("acme", Some(t(30))),
            t(0),
            cache.generation(),
        );
        assert!(cache.get(&key, t(29)).is_some());
        assert_eq!(cache.get(&key, t(30)), None);
        assert_eq!(cache.get(&key, t(31)), None);
    }

    #[test]
    fn entry_misses_after_max_age() {
        let cache = cache_with("tok", "acme");
        let key = TokenKey::new("tok", "acme");
        assert!(cache.get(&key, t(59)).is_some());
        assert_eq!(cache.get(&key, t(60)), None);
        assert_eq!(cache.get(&key, t(61)), None);
        // Nor before its validation (the clock went back).
        let later = TokenCache::new();
        later.insert(
            key,
            principal("acme", Some(t(600))),
            t(100),
            later.generation(),
        );
        assert!(later.get(&key, t(100)).is_some());
        assert_eq!(later.get(&key, t(99)), None);
    }

    #[test]
    fn tokens_without_exp_or_already_expired_are_not_cached() {
        let cache = TokenCache::new();
        let key = TokenKey::new("tok", "acme");
        cache.insert(key, principal("acme", None), t(0), cache.generation());
        assert!(cache.is_empty());
        assert_eq!(cache.get(&key, t(1)), None);
        // Still valid within the validation's clock leeway, but past exp: not cached.
        cache.insert(key, principal("acme", Some(t(0))), t(5), cache.generation());
        assert!(cache.is_empty());
        assert_eq!(cache.get(&key, t(5)), None);
    }

    #[test]
    fn clear_drops_entries_and_refuses_earlier_validations() {
        let cache = cache_with("tok", "acme");
        let key = TokenKey::new("tok", "acme");
        assert_eq!(cache.len(), 1);
        let before = cache.generation();
        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(cache.get(&key, t(10)), None);
        // A validation that began before the clear is not stored...
        cache.insert(key, principal("acme", Some(t(600))), t(10), before);
        assert_eq!(cache.get(&key, t(10)), None);
        // ...one that began after it is.
        cache.insert(
            key,
            principal("acme", Some(t(600))),
            t(10),
            cache.generation(),
        );
        assert!(cache.get(&key, t(10)).is_some());
    }

    #[test]
    fn size_is_bounded() {
        let cache = TokenCache::new();
        let generation = cache.generation();
        let fill = |at: u64, prefix: &str| {
            for i in 0..MAX_ENTRIES {
                cache.insert(
                    TokenKey::new(&format!("{prefix}{i}"), "acme"),
                    principal("acme", Some(t(600))),
                    t(at),
                    generation,
                );
            }
        };
        fill(0, "a");
        assert_eq!(cache.len(), MAX_ENTRIES);
        // Re-inserting a present key in a full cache keeps everything.
        cache.insert(
            TokenKey::new("a0", "acme"),
            principal("acme", Some(t(600))),
            t(1),
            generation,
        );
        assert_eq!(cache.len(), MAX_ENTRIES);

        // Full of usable entries: the insert clears, then stores the new entry.
        let new = TokenKey::new("new", "acme");
        cache.insert(new, principal("acme", Some(t(600))), t(1), generation);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&new, t(1)).is_some());
        assert_eq!(cache.get(&TokenKey::new("a1", "acme"), t(1)), None);

        // Full with some unusable entries: only those are dropped.
        cache.clear();
        let generation = cache.generation();
        for i in 0..MAX_ENTRIES {
            let validated_at = if i < 10 { t(0) } else { t(100) };
            cache.insert(
                TokenKey::new(&format!("b{i}"), "acme"),
                principal("acme", Some(t(600))),
                validated_at,
                generation,
            );
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        let late = TokenKey::new("late", "acme");
        cache.insert(late, principal("acme", Some(t(600))), t(120), generation);
        assert_eq!(cache.len(), MAX_ENTRIES - 10 + 1);
        assert!(cache.get(&late, t(120)).is_some());
        assert!(cache.get(&TokenKey::new("b10", "acme"), t(120)).is_some());
        assert_eq!(cache.get(&TokenKey::new("b0", "acme"), t(0)), None);
    }

    #[test]
    fn poisoned_lock_means_no_cache() {
        let cache = cache_with("tok", "acme");
        let key = TokenKey::new("tok", "acme");
        assert!(cache.get(&key, t(10)).is_some());
        let poison = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = cache.entries.write().unwrap();
            panic!("poison the lock");
        }));
        assert!(poison.is_err());
        assert_eq!(cache.get(&key, t(10)), None);
        cache.insert(
            key,
            principal("acme", Some(t(600))),
            t(10),
            cache.generation(),
        );
        assert_eq!(cache.get(&key, t(10)), None);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
