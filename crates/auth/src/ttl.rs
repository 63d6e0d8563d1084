//! Parsing of human token lifetimes such as `90s`, `30m`, `1h`, `7d`, `1h30m`.

use std::time::Duration;

use crate::error::Error;

/// Parses a lifetime made of `<number><unit>` parts, units `d`, `h`, `m`, `s`,
/// each at most once and largest first (`1d12h`, `1h30m`, `90s`).
pub fn parse_ttl(s: &str) -> Result<Duration, Error> {
    let fail = |reason| Error::InvalidTtl {
        input: s.chars().take(40).collect(),
        reason,
    };
    let text = s.trim();
    if text.is_empty() {
        return Err(fail("it is empty; use e.g. 90s, 30m, 1h, 7d or 1h30m"));
    }
    let mut total: u64 = 0;
    let mut last_unit_rank = usize::MAX;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(fail("expected a number before each unit"));
        }
        let (number, tail) = rest.split_at(digits);
        let value: u64 = number
            .parse()
            .map_err(|_| fail("the number is too large"))?;
        let mut chars = tail.chars();
        let (unit_secs, rank) = match chars.next() {
            Some('d') => (86_400, 3),
            Some('h') => (3_600, 2),
            Some('m') => (60, 1),
            Some('s') => (1, 0),
            None => return Err(fail("a number has no unit; use s, m, h or d")),
            Some(_) => return Err(fail("unknown unit; use s, m, h or d")),
        };
        if rank >= last_unit_rank {
            return Err(fail(
                "units must appear once each, largest first (e.g. 1h30m)",
            ));
        }
        last_unit_rank = rank;
        total = value
            .checked_mul(unit_secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| fail("the duration is too large"))?;
        rest = chars.as_str();
    }
    if total == 0 {
        return Err(fail("the duration must be positive"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::parse_ttl;
    use std::time::Duration;

    #[test]
    fn parses_valid_lifetimes() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_ttl("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("1d2h3m4s").unwrap(), Duration::from_secs(93_784));
    }

    #[test]
    fn rejects_invalid_lifetimes() {
        for bad in [
            "",
            "90",
            "h",
            "1x",
            "30m1h",
            "1h1h",
            "0s",
            "1.5h",
            "-1h",
            "99999999999999999999d",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
