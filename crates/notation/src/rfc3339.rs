//! RFC 3339 date-times as the Notary Project headers use them: written in UTC with whole
//! seconds (`2022-04-06T07:01:20Z`); read with `Z` or a numeric offset, fractional seconds
//! truncated (Go's `time.RFC3339` writes local offsets).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::{Error, Result};

fn invalid(value: &str, reason: &str) -> Error {
    Error::InvalidTime {
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Whole seconds since the Unix epoch (negative before it), sub-second part dropped.
pub(crate) fn unix_seconds(t: SystemTime) -> Result<i64> {
    let out_of_range = || invalid(&format!("{t:?}"), "out of range");
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).map_err(|_| out_of_range()),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).map_err(|_| out_of_range())?;
            // Round towards the past so that truncation never moves a time forward.
            Ok(if d.subsec_nanos() > 0 {
                -secs - 1
            } else {
                -secs
            })
        }
    }
}

/// The time at `secs` seconds from the Unix epoch.
pub(crate) fn from_unix_seconds(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Formats `t` (truncated to whole seconds) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(t: SystemTime) -> Result<String> {
    let secs = unix_seconds(t)?;
    let dt = OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| invalid(&format!("{t:?}"), &e.to_string()))?;
    if !(0..=9999).contains(&dt.year()) {
        return Err(invalid(&format!("{t:?}"), "year outside 0000-9999"));
    }
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    ))
}

fn digits(s: &str, value: &str) -> Result<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(value, "expected digits"));
    }
    s.parse().map_err(|_| invalid(value, "expected digits"))
}

/// Parses an RFC 3339 date-time (`T` separator, `Z`/`z` or `±HH:MM`, optional fraction).
pub fn parse(value: &str) -> Result<SystemTime> {
    let b = value.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
        || !value.is_ascii()
    {
        return Err(invalid(value, "expected YYYY-MM-DDTHH:MM:SS and a zone"));
    }
    let year =
        i32::try_from(digits(&value[0..4], value)?).map_err(|_| invalid(value, "bad year"))?;
    let month = u8::try_from(digits(&value[5..7], value)?)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| invalid(value, "bad month"))?;
    let day = u8::try_from(digits(&value[8..10], value)?).map_err(|_| invalid(value, "bad day"))?;
    let hour =
        u8::try_from(digits(&value[11..13], value)?).map_err(|_| invalid(value, "bad hour"))?;
    let minute =
        u8::try_from(digits(&value[14..16], value)?).map_err(|_| invalid(value, "bad minute"))?;
    let second =
        u8::try_from(digits(&value[17..19], value)?).map_err(|_| invalid(value, "bad second"))?;
    let mut rest = &value[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(invalid(value, "empty fraction"));
        }
        rest = &frac[n..];
    }
    let offset_secs: i32 = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || !matches!(ob[0], b'+' | b'-') || ob[3] != b':' {
                return Err(invalid(value, "bad zone offset"));
            }
            let h = digits(&rest[1..3], value)?;
            let m = digits(&rest[4..6], value)?;
            if h > 23 || m > 59 {
                return Err(invalid(value, "bad zone offset"));
            }
            let s = i32::try_from(h * 3600 + m * 60).map_err(|_| invalid(value, "bad offset"))?;
            if ob[0] == b'-' { -s } else { s }
        }
    };
    let date =
        Date::from_calendar_date(year, month, day).map_err(|e| invalid(value, &e.to_string()))?;
    let tod = Time::from_hms(hour, minute, second).map_err(|e| invalid(value, &e.to_string()))?;
    let offset =
        UtcOffset::from_whole_seconds(offset_secs).map_err(|e| invalid(value, &e.to_string()))?;
    let dt = PrimitiveDateTime::new(date, tod).assume_offset(offset);
    Ok(from_unix_seconds(dt.unix_timestamp()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        let t = from_unix_seconds(1_649_228_480);
        assert_eq!(format(t).unwrap(), "2022-04-06T07:01:20Z");
        assert_eq!(parse("2022-04-06T07:01:20Z").unwrap(), t);
        assert_eq!(parse("2022-04-06T09:01:20+02:00").unwrap(), t);
        assert_eq!(parse("2022-04-06T06:31:20.999-00:30").unwrap(), t);
        // Sub-second parts are dropped when writing.
        assert_eq!(
            format(t + Duration::from_millis(900)).unwrap(),
            "2022-04-06T07:01:20Z"
        );
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(format(before).unwrap(), "1969-12-31T23:59:58Z");
        assert_eq!(
            parse("1969-12-31T23:59:58Z").unwrap(),
            from_unix_seconds(-2)
        );
    }

    #[test]
    fn parse_refuses_malformed() {
        for bad in [
            "",
            "2022-04-06",
            "2022-04-06 07:01:20Z",
            "2022-04-06T07:01:20",
            "2022-13-06T07:01:20Z",
            "2022-02-30T07:01:20Z",
            "2022-04-06T24:01:20Z",
            "2022-04-06T07:01:20.Z",
            "2022-04-06T07:01:20+0200",
            "2022-04-06T07:01:20+25:00",
            "+022-04-06T07:01:20Z",
            "2022-04-06T07:01:20ZZ",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
