//! containers/image's strict payload parsing, rejection by rejection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;
use signet_simple::{Error, UntrustedSignature};

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn payload(critical: &str, optional: &str) -> String {
    format!(r#"{{"critical":{critical},"optional":{optional}}}"#)
}

fn critical(identity: &str, image: &str, typ: &str) -> String {
    format!(r#"{{"identity":{identity},"image":{image},"type":{typ}}}"#)
}

fn good_critical() -> String {
    critical(
        r#"{"docker-reference":"example.org/app:v1"}"#,
        &format!(r#"{{"docker-manifest-digest":"{D}"}}"#),
        r#""atomic container signature""#,
    )
}

#[rstest]
#[case::minimal(payload(&good_critical(), "{}"), None, None)]
#[case::creator_timestamp(payload(&good_critical(), r#"{"creator":"atomic 5.23.1","timestamp":1700000000}"#), Some("atomic 5.23.1"), Some(1_700_000_000))]
#[case::unknown_optional_ignored(payload(&good_critical(), r#"{"x":[1,{"y":null}],"timestamp":1.7e9}"#), None, Some(1_700_000_000))]
#[case::key_order_free(format!(r#" {{ "optional" : {{}} , "critical" : {} }} "#, good_critical()), None, None)]
#[case::null_creator_is_empty(payload(&good_critical(), r#"{"creator":null}"#), Some(""), None)]
fn accepts(#[case] json: String, #[case] creator: Option<&str>, #[case] timestamp: Option<i64>) {
    let p = UntrustedSignature::parse_strict(json.as_bytes()).unwrap();
    assert_eq!(p.docker_reference, "example.org/app:v1");
    assert_eq!(p.docker_manifest_digest, D);
    assert_eq!(p.creator.as_deref(), creator);
    assert_eq!(p.timestamp, timestamp);
}

#[rstest]
#[case::not_json("{", "invalid signature payload: ")]
#[case::not_object("[]", r#"JSON object expected, got "[""#)]
#[case::null_optional(payload(&good_critical(), "null"), "JSON object expected, got \"%!s(<nil>)\"")]
#[case::unknown_top(format!(r#"{{"critical":{},"optional":{{}},"extra":1}}"#, good_critical()), r#"Unknown key "extra""#)]
#[case::duplicate_top(format!(r#"{{"critical":{0},"optional":{{}},"critical":{0}}}"#, good_critical()), r#"Duplicate key "critical""#)]
#[case::duplicate_optional(payload(&good_critical(), r#"{"x":1,"x":2}"#), r#"Duplicate key "x""#)]
#[case::duplicate_escaped(payload(&good_critical(), r#"{"creator":"a","\u0063reator":"b"}"#), r#"Duplicate key "creator""#)]
#[case::missing_optional(format!(r#"{{"critical":{}}}"#, good_critical()), r#"Key "optional" missing in a JSON object"#)]
#[case::missing_critical(r#"{"optional":{}}"#, r#"Key "critical" missing in a JSON object"#)]
#[case::missing_type(
    payload(
        r#"{"identity":{"docker-reference":"a:b"},"image":{"docker-manifest-digest":"sha256:00"}}"#,
        "{}"
    ),
    r#"Key "type" missing in a JSON object"#
)]
#[case::missing_reference(payload(&critical("{}", &format!(r#"{{"docker-manifest-digest":"{D}"}}"#), r#""atomic container signature""#), "{}"), r#"Key "docker-reference" missing in a JSON object"#)]
#[case::unknown_critical(payload(&good_critical().replace(r#""type""#, r#""kind":1,"type""#), "{}"), r#"Unknown key "kind""#)]
#[case::unknown_image(payload(&good_critical().replace(r#""docker-manifest-digest""#, r#""size":1,"docker-manifest-digest""#), "{}"), r#"Unknown key "size""#)]
#[case::wrong_type(payload(&good_critical().replace("atomic container signature", "cosign container image signature"), "{}"), "Unrecognized signature type cosign container image signature")]
#[case::type_not_string(payload(&good_critical().replace(r#""atomic container signature""#, "1"), "{}"), "json: cannot unmarshal number into Go value of type string")]
#[case::timestamp_fraction(payload(&good_critical(), r#"{"timestamp":1.5}"#), "Field optional.timestamp is not is not an integer")]
#[case::timestamp_too_big(payload(&good_critical(), r#"{"timestamp":9223372036854775808}"#), "Field optional.timestamp is not is not an integer")]
#[case::timestamp_string(payload(&good_critical(), r#"{"timestamp":"1"}"#), "json: cannot unmarshal string into Go value of type float64")]
#[case::bad_digest_length(payload(&good_critical().replace(D, "sha256:abcd"), "{}"), r#"invalid docker-manifest-digest value "sha256:abcd": invalid checksum digest length"#)]
#[case::bad_digest_algo(payload(&good_critical().replace(D, "md5:abcd"), "{}"), r#"invalid docker-manifest-digest value "md5:abcd": unsupported digest algorithm"#)]
#[case::bad_digest_format(payload(&good_critical().replace(D, "sha256"), "{}"), "invalid checksum digest format")]
#[case::trailing_data(format!("{} {{}}", payload(&good_critical(), "{}")), "invalid signature payload: ")]
fn rejects(#[case] json: String, #[case] message: &str) {
    let err = UntrustedSignature::parse_strict(json.as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("invalid signature payload: "), "{text}");
    assert!(text.contains(message), "{text} does not contain {message}");
    assert!(!text.contains('\n'));
}

#[test]
fn typed_fields() {
    let json = payload(&good_critical(), r#"{"a":1,"a":1}"#);
    assert!(matches!(
        UntrustedSignature::parse_strict(json.as_bytes()),
        Err(Error::PayloadDuplicateKey { key }) if key == "a"
    ));
}
