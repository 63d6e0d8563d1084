//! Strict parsing of signature payloads, as containers/image: the simple-signing "atomic
//! container signature" (`signature/simple.go`) and the sigstore payload
//! (`signature/internal/sigstore_payload.go`). Exact key sets, duplicate keys rejected,
//! `optional` keys other than `creator`/`timestamp` ignored, `timestamp` must be integral.

use crate::json::{FieldError, Json, exact_fields, go_float, go_string, paranoid_object};
use crate::reference::{GoDigest, parse_digest};

/// `critical.type` of simple-signing payloads.
pub const SIMPLE_SIGNING_TYPE: &str = "atomic container signature";
/// `critical.type` of sigstore payloads.
pub const SIGSTORE_TYPE: &str = "cosign container image signature";

/// The claims of a payload that passed the strict parse (still untrusted until the digest and
/// identity checks ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedPayload {
    /// `critical.image.docker-manifest-digest`.
    pub docker_manifest_digest: GoDigest,
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `optional.creator`.
    pub creator: Option<String>,
    /// `optional.timestamp` (seconds).
    pub timestamp: Option<i64>,
}

/// Parses a simple-signing payload (`optional` must be an object).
pub fn parse_simple_signing_payload(bytes: &[u8]) -> Result<UntrustedPayload, String> {
    parse(bytes, SIMPLE_SIGNING_TYPE, false)
}

/// Parses a sigstore payload (`optional: null` accepted, as cosign writes it).
pub fn parse_sigstore_payload(bytes: &[u8]) -> Result<UntrustedPayload, String> {
    parse(bytes, SIGSTORE_TYPE, true)
}

fn parse(
    bytes: &[u8],
    expected_type: &str,
    optional_may_be_null: bool,
) -> Result<UntrustedPayload, String> {
    let json = Json::parse(bytes)?;
    let [critical, optional] = exact_fields(&json, ["critical", "optional"])?;

    let mut creator = None;
    let mut timestamp = None;
    if !(optional_may_be_null && *optional == Json::Null) {
        paranoid_object(optional, |key, value| {
            match key {
                "creator" => creator = Some(go_string(value)?),
                "timestamp" => timestamp = Some(go_float(value)?),
                _ => {} // ignored, any value
            }
            Ok::<(), FieldError>(())
        })?;
    }
    let timestamp = match timestamp {
        None => None,
        Some(f) => {
            let i = f as i64;
            if i as f64 != f {
                return Err("Field optional.timestamp is not an integer".into());
            }
            Some(i)
        }
    };

    let [t, image, identity] = exact_fields(critical, ["type", "image", "identity"])?;
    let t = go_string(t)?;
    if t != expected_type {
        return Err(format!("Unrecognized signature type {t}"));
    }
    let [digest] = exact_fields(image, ["docker-manifest-digest"])?;
    let digest = go_string(digest)?;
    let docker_manifest_digest = parse_digest(&digest)
        .map_err(|e| format!("invalid docker-manifest-digest value {digest:?}: {e}"))?;
    let [reference] = exact_fields(identity, ["docker-reference"])?;
    let docker_reference = go_string(reference)?;
    Ok(UntrustedPayload {
        docker_manifest_digest,
        docker_reference,
        creator,
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn simple(critical_extra: &str, optional: &str) -> String {
        format!(
            r#"{{"critical":{{"type":"atomic container signature","image":{{"docker-manifest-digest":"{D}"}},"identity":{{"docker-reference":"example.com/a:v1"}}{critical_extra}}},"optional":{optional}}}"#
        )
    }

    #[test]
    fn parses_simple() {
        let p = parse_simple_signing_payload(
            simple(
                "",
                r#"{"creator":"atomic 5.23.1","timestamp":1700000000,"x":{"y":1,"y":2}}"#,
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(p.docker_reference, "example.com/a:v1");
        assert_eq!(p.docker_manifest_digest.to_string(), D);
        assert_eq!(p.creator.as_deref(), Some("atomic 5.23.1"));
        assert_eq!(p.timestamp, Some(1_700_000_000));
    }

    #[test]
    fn sigstore_accepts_null_optional_simple_does_not() {
        let s = simple("", "null").replace(SIMPLE_SIGNING_TYPE, SIGSTORE_TYPE);
        assert!(parse_sigstore_payload(s.as_bytes()).is_ok());
        assert_eq!(
            parse_simple_signing_payload(simple("", "null").as_bytes()).unwrap_err(),
            "JSON object expected, got <nil>"
        );
    }

    #[rstest]
    #[case(simple(r#","extra":1"#, "{}"), r#"Unknown key "extra""#)]
    #[case(
        simple("", r#"{"timestamp":1.5}"#),
        "Field optional.timestamp is not an integer"
    )]
    #[case(
        simple("", r#"{"creator":1}"#),
        "json: cannot unmarshal number into Go value of type string"
    )]
    #[case(
        simple("", r#"{"creator":"a","creator":"b"}"#),
        r#"Duplicate key "creator""#
    )]
    #[case(r#"{"critical":{}}"#.to_string(), r#"Key "optional" missing in a JSON object"#)]
    #[case(simple("", "{}").replace("atomic container signature", "other"), "Unrecognized signature type other")]
    #[case(simple("", "{}").replace(D, "sha256:abc"), r#"invalid docker-manifest-digest value "sha256:abc": invalid checksum digest length"#)]
    #[case(simple("", "{}").replace(r#""identity":{"docker-reference":"example.com/a:v1"}"#, r#""identity":{}"#), r#"Key "docker-reference" missing in a JSON object"#)]
    #[case(format!(r#"{{"critical":{{}},"optional":{{}},"critical":{{}}}}"#), r#"Duplicate key "critical""#)]
    fn rejects(#[case] payload: String, #[case] err: &str) {
        assert_eq!(
            parse_simple_signing_payload(payload.as_bytes()).unwrap_err(),
            err
        );
    }
}
