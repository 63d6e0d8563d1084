//! Request and product states: integers on the wire (Created 1 … Failed 64), names for people.

/// The named states, in wire order.
pub const STATES: &[(u64, &str)] = &[
    (1, "Created"),
    (2, "ApprovalRequired"),
    (4, "Approved"),
    (8, "InProcess"),
    (16, "Ready"),
    (32, "Rejected"),
    (64, "Failed"),
    (128, "Active"),
    (256, "NotActive"),
];

/// Ready.
pub const READY: u64 = 16;
/// Rejected.
pub const REJECTED: u64 = 32;
/// Failed.
pub const FAILED: u64 = 64;
/// NotActive: a revoked client.
pub const NOT_ACTIVE: u64 = 256;

/// The name of a state number (`State 512` for numbers without one).
pub fn name(n: u64) -> String {
    STATES
        .iter()
        .find(|(v, _)| *v == n)
        .map(|(_, s)| (*s).to_string())
        .unwrap_or_else(|| format!("State {n}"))
}

/// The name of a JSON state value (a number, or already a string).
pub fn name_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => n.as_u64().map(name).unwrap_or_else(|| n.to_string()),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Parses a `--state` filter: a name (any case) or a number.
pub fn parse(s: &str) -> Result<u64, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    STATES
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(s))
        .map(|(v, _)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = STATES.iter().map(|(_, n)| *n).collect();
            format!(
                "unknown state {s:?} (one of {}, or a number)",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(name(16), "Ready");
        assert_eq!(name(2), "ApprovalRequired");
        assert_eq!(name(512), "State 512");
        assert_eq!(parse("ready"), Ok(16));
        assert_eq!(parse("ApprovalRequired"), Ok(2));
        assert_eq!(parse("32"), Ok(32));
        assert!(parse("done").is_err());
        assert_eq!(name_of(&serde_json::json!(64)), "Failed");
    }
}
