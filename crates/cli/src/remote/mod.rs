//! The reference client of `signet server`'s HTTP API (`docs/service-api.md`): the bearer
//! token and where it comes from, the HTTP client with the service's error shape, state names,
//! table rendering and waiting for a signing request to finish; the request bodies and checks
//! of the PKI (profiles, CAs, product certificates), client registrations and secrets
//! distribution, and signing a digest through the approval flow ([`digest`], for the
//! notation commands and plugin). `signet remote …` and `signet sign --remote …` are built on
//! it.

pub mod client;
pub mod clients;
pub mod digest;
pub mod error;
pub mod pki;
pub mod secrets;
pub mod state;
pub mod table;
pub mod token;
pub mod wait;

pub use client::Client;
pub use token::Secret;

/// Parses a duration as `30m`, `2s`, `1h30m`, `1d` or plain seconds (`90`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration (use e.g. 30s, 10m, 1h)".into());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("invalid duration {s:?} (use e.g. 30s, 10m, 1h)")),
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("invalid duration {s:?} (use e.g. 30s, 10m, 1h)"))?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {s:?} is too long"))?;
    }
    if !number.is_empty() {
        return Err(format!(
            "invalid duration {s:?}: a number needs a unit (s, m, h or d)"
        ));
    }
    Ok(std::time::Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("1h30").is_err());
        assert!(parse_duration("m").is_err());
    }
}
