//! Timing shared by the read-modify-write updates of tags that several clients may write at
//! once (cosign's `.sig` images, the referrers tag index): the distribution API has no
//! compare-and-swap, so writers re-check after a settle period and spread their retries.

use std::time::Duration;

/// Up to 50 ms per round (more for later rounds, none for the first), so that writers that
/// collided do not retry together. Not a cryptographic source.
pub fn jitter(attempt: u32) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(u64::from(nanos % 50) * u64::from(attempt.min(4) + 1))
}

/// How long to wait after a write before checking that it survived: three times the writer's
/// own read-to-write time (which bounds a concurrent writer's window), at least 40 ms, plus
/// jitter.
pub fn settle(window: Duration, attempt: u32) -> Duration {
    (window * 3).max(Duration::from_millis(40)) + jitter(attempt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_is_bounded_below_and_grows_with_the_window() {
        assert_eq!(jitter(0), Duration::ZERO);
        assert!(jitter(3) < Duration::from_millis(250));
        assert!(settle(Duration::ZERO, 0) >= Duration::from_millis(40));
        assert_eq!(
            settle(Duration::from_millis(100), 0),
            Duration::from_millis(300)
        );
    }
}
