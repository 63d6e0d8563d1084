//! The simple-signing payload ("atomic container signature"), written and parsed exactly as
//! containers/image does (`signature/simple.go`).
//!
//! Writing: Go's `json.Marshal` of maps, so keys are sorted at every level, strings use Go's
//! HTML-safe escapes, and `optional` holds `creator` and `timestamp` only when set (an empty
//! `optional` is written as `{}`).
//!
//! Parsing ([`UntrustedSignature::parse_strict`]) follows `strictUnmarshalJSON` and
//! `internal.ParanoidUnmarshalJSONObject`: exactly `critical` and `optional` at the top, exactly
//! `type`/`image`/`identity` in `critical`, exactly `docker-manifest-digest` in `image` and
//! `docker-reference` in `identity`; unknown keys in `optional` are ignored; duplicate keys are
//! rejected in every object parsed this way. As in Go, a JSON `null` where a string or number is
//! expected leaves the zero value (`""`, `0`), `timestamp` is read as a float64 and must be
//! integral, and invalid UTF-8 inside strings becomes U+FFFD. The checks run in
//! containers/image's order, so the first error reported is the one skopeo reports (when two
//! mandatory keys are missing, Go's map order is random; here it is the order of the spec).
//!
//! Only parse a payload whose OpenPGP signature has already verified.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use signet_oci::gojson::GoFormatter;

use crate::Error;

/// The `critical.type` of a simple signature.
pub const SIGNATURE_TYPE: &str = "atomic container signature";

/// The contents of a simple-signing payload. "Untrusted" as in containers/image: nothing here
/// means anything until the signature over the payload bytes verified with a trusted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntrustedSignature {
    /// `critical.image.docker-manifest-digest`, a go-digest string (`sha256:<hex>`).
    pub docker_manifest_digest: String,
    /// `critical.identity.docker-reference`, e.g. `example.org/app:v1`.
    pub docker_reference: String,
    /// `optional.creator` (containers/image writes `atomic <version>`).
    pub creator: Option<String>,
    /// `optional.timestamp`, seconds since 1970.
    pub timestamp: Option<i64>,
}

impl UntrustedSignature {
    /// A payload for `digest` and `reference` with `creator` and `timestamp` set, as
    /// containers/image's `newUntrustedSignature` makes it (the time is an argument here).
    pub fn new(
        docker_manifest_digest: impl Into<String>,
        docker_reference: impl Into<String>,
        creator: impl Into<String>,
        timestamp: i64,
    ) -> Self {
        UntrustedSignature {
            docker_manifest_digest: docker_manifest_digest.into(),
            docker_reference: docker_reference.into(),
            creator: Some(creator.into()),
            timestamp: Some(timestamp),
        }
    }

    /// The payload bytes exactly as containers/image writes them. Fails, as containers/image
    /// does, when the digest or the reference is empty.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        if self.docker_manifest_digest.is_empty() || self.docker_reference.is_empty() {
            return Err(Error::PayloadEmptyField);
        }
        #[derive(Serialize)]
        struct Out<'a> {
            critical: Critical<'a>,
            optional: Optional<'a>,
        }
        #[derive(Serialize)]
        struct Critical<'a> {
            identity: Identity<'a>,
            image: Image<'a>,
            #[serde(rename = "type")]
            typ: &'a str,
        }
        #[derive(Serialize)]
        struct Identity<'a> {
            #[serde(rename = "docker-reference")]
            docker_reference: &'a str,
        }
        #[derive(Serialize)]
        struct Image<'a> {
            #[serde(rename = "docker-manifest-digest")]
            docker_manifest_digest: &'a str,
        }
        #[derive(Serialize)]
        struct Optional<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            creator: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            timestamp: Option<i64>,
        }
        let out = Out {
            critical: Critical {
                identity: Identity {
                    docker_reference: &self.docker_reference,
                },
                image: Image {
                    docker_manifest_digest: &self.docker_manifest_digest,
                },
                typ: SIGNATURE_TYPE,
            },
            optional: Optional {
                creator: self.creator.as_deref(),
                timestamp: self.timestamp,
            },
        };
        let mut buf = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, GoFormatter);
        out.serialize(&mut ser).map_err(|e| Error::PayloadJson {
            reason: e.to_string(),
        })?;
        Ok(buf)
    }

    /// Parses payload bytes with containers/image's strictness (see the module docs).
    pub fn parse_strict(bytes: &[u8]) -> Result<Self, Error> {
        // Go's decoder turns invalid UTF-8 in strings into U+FFFD; outside strings such bytes
        // are syntax errors either way.
        let text: Cow<'_, str> = String::from_utf8_lossy(bytes);
        // json.Unmarshal checks the whole document before decoding anything.
        serde_json::from_str::<IgnoredAny>(&text).map_err(json_error)?;

        let top = object_entries(&text)?;
        let [critical, optional] = exact_fields(&top, ["critical", "optional"])?;

        let mut creator = None;
        let mut timestamp = None;
        for (key, value) in object_entries(optional.get())? {
            match key.as_str() {
                "creator" => creator = Some(go_string(value, "optional.creator")?),
                "timestamp" => {
                    let f = go_float(value, "optional.timestamp")?;
                    // Go: int64(f) must convert back to f; int64 covers [-2^63, 2^63).
                    let integral = f.fract() == 0.0
                        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f);
                    if !integral {
                        return Err(Error::PayloadTimestampNotInteger);
                    }
                    timestamp = Some(f as i64);
                }
                _ => {
                    // Decoded into `any` by Go: any valid JSON, but numbers must fit a float64.
                    serde_json::from_str::<serde_json::Value>(value.get()).map_err(json_error)?;
                }
            }
        }

        let critical = object_entries(critical.get())?;
        let [typ, image, identity] = exact_fields(&critical, ["type", "image", "identity"])?;
        let typ = go_string(typ, "critical.type")?;
        if typ != SIGNATURE_TYPE {
            return Err(Error::PayloadUnrecognizedType {
                signature_type: typ,
            });
        }

        let image = object_entries(image.get())?;
        let [digest] = exact_fields(&image, ["docker-manifest-digest"])?;
        let digest = go_string(digest, "critical.image.docker-manifest-digest")?;
        if let Err(reason) = validate_digest(&digest) {
            return Err(Error::PayloadInvalidDigest {
                value: digest,
                reason,
            });
        }

        let identity = object_entries(identity.get())?;
        let [reference] = exact_fields(&identity, ["docker-reference"])?;
        let reference = go_string(reference, "critical.identity.docker-reference")?;

        Ok(UntrustedSignature {
            docker_manifest_digest: digest,
            docker_reference: reference,
            creator,
            timestamp,
        })
    }
}

/// go-digest's `Digest.Validate` for the algorithms containers/image registers (sha256,
/// sha384, sha512), with go-digest's error texts.
fn validate_digest(s: &str) -> Result<(), &'static str> {
    const INVALID_FORMAT: &str = "invalid checksum digest format";
    let Some(i) = s.find(':') else {
        return Err(INVALID_FORMAT);
    };
    if i == 0 || i + 1 == s.len() {
        return Err(INVALID_FORMAT);
    }
    let (algorithm, encoded) = (&s[..i], &s[i + 1..]);
    let size = match algorithm {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => {
            return Err(if digest_regexp_matches(s) {
                "unsupported digest algorithm"
            } else {
                INVALID_FORMAT
            });
        }
    };
    if encoded.len() != size * 2 {
        return Err("invalid checksum digest length");
    }
    if !encoded
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(INVALID_FORMAT);
    }
    Ok(())
}

/// go-digest's `DigestRegexpAnchored`: `^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`.
fn digest_regexp_matches(s: &str) -> bool {
    let Some((algorithm, encoded)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        && algorithm.split(['.', '+', '_', '-']).all(component_ok)
}

fn json_error(e: serde_json::Error) -> Error {
    Error::PayloadJson {
        reason: e.to_string(),
    }
}

/// The entries of a JSON object in document order, duplicates kept (the caller rejects them).
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &'de RawValue = map.next_value()?;
                    out.push((key, value));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `ParanoidUnmarshalJSONObject`'s first steps: the value must be an object; no key twice.
fn object_entries(raw: &str) -> Result<Vec<(String, &RawValue)>, Error> {
    let trimmed = raw.trim_start_matches([' ', '\t', '\n', '\r']);
    if !trimmed.starts_with('{') {
        return Err(Error::PayloadObjectExpected {
            got: go_token(trimmed),
        });
    }
    let Entries(entries) = serde_json::from_str(raw).map_err(json_error)?;
    for (i, (key, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(k, _)| k == key) {
            return Err(Error::PayloadDuplicateKey { key: key.clone() });
        }
    }
    Ok(entries)
}

/// `ParanoidUnmarshalJSONObjectExactFields`: keys are checked in document order (duplicate
/// first, then unknown), then the missing ones.
fn exact_fields<'a, const N: usize>(
    entries: &[(String, &'a RawValue)],
    names: [&'static str; N],
) -> Result<[&'a RawValue; N], Error> {
    let mut found: [Option<&'a RawValue>; N] = [None; N];
    for (key, value) in entries {
        match names.iter().position(|n| n == key) {
            Some(i) => found[i] = Some(value),
            None => return Err(Error::PayloadUnknownKey { key: key.clone() }),
        }
    }
    let mut out = Vec::with_capacity(N);
    for (name, value) in names.iter().zip(found) {
        match value {
            Some(v) => out.push(v),
            None => {
                return Err(Error::PayloadMissingKey {
                    key: (*name).to_string(),
                });
            }
        }
    }
    out.try_into()
        .map_err(|_| Error::PayloadMissingKey { key: String::new() })
}

/// How Go's `%s` renders the first token of a non-object value, for
/// `JSON object expected, got "%s"`.
fn go_token(raw: &str) -> String {
    match raw.as_bytes().first() {
        Some(b'[') => "[".to_string(),
        Some(b'"') => serde_json::from_str::<String>(raw).unwrap_or_default(),
        Some(b'n') => "%!s(<nil>)".to_string(),
        Some(b't') => "%!s(bool=true)".to_string(),
        Some(b'f') => "%!s(bool=false)".to_string(),
        _ => format!("%!s(float64={})", raw.trim_end()),
    }
}

fn json_kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "string",
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b't' | b'f') => "bool",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// Go's decoding of a value into a `string`: strings, or `null` (leaves "").
fn go_string(raw: &RawValue, field: &'static str) -> Result<String, Error> {
    match json_kind(raw) {
        "string" => serde_json::from_str(raw.get()).map_err(json_error),
        "null" => Ok(String::new()),
        got => Err(Error::PayloadFieldType {
            field,
            got,
            expected: "string",
        }),
    }
}

/// Go's decoding of a value into a `float64`: numbers, or `null` (leaves 0).
fn go_float(raw: &RawValue, field: &'static str) -> Result<f64, Error> {
    match json_kind(raw) {
        "number" => serde_json::from_str::<f64>(raw.get()).map_err(json_error),
        "null" => Ok(0.0),
        got => Err(Error::PayloadFieldType {
            field,
            got,
            expected: "float64",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn writes_containers_image_bytes() {
        let sig =
            UntrustedSignature::new(DIGEST, "example.org/app:v1", "atomic 5.23.1", 1_700_000_000);
        let json = sig.to_json().unwrap();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"example.org/app:v1"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"atomic container signature"}},"optional":{{"creator":"atomic 5.23.1","timestamp":1700000000}}}}"#
            )
        );
        assert_eq!(UntrustedSignature::parse_strict(&json).unwrap(), sig);
    }

    #[test]
    fn empty_optional_and_html_escapes() {
        let sig = UntrustedSignature {
            docker_manifest_digest: DIGEST.into(),
            docker_reference: "a<b>&c".into(),
            creator: None,
            timestamp: None,
        };
        let json = String::from_utf8(sig.to_json().unwrap()).unwrap();
        assert!(
            json.contains(r#""docker-reference":"a\u003cb\u003e\u0026c""#),
            "{json}"
        );
        assert!(json.ends_with(r#""optional":{}}"#), "{json}");
        assert!(matches!(
            UntrustedSignature {
                docker_reference: String::new(),
                ..sig
            }
            .to_json(),
            Err(Error::PayloadEmptyField)
        ));
    }

    #[test]
    fn go_digest_rules() {
        assert_eq!(validate_digest(DIGEST), Ok(()));
        assert_eq!(
            validate_digest("sha256:abc"),
            Err("invalid checksum digest length")
        );
        assert_eq!(
            validate_digest("md5:abc"),
            Err("unsupported digest algorithm")
        );
        assert_eq!(
            validate_digest("MD5:abc"),
            Err("invalid checksum digest format")
        );
        assert_eq!(
            validate_digest("sha256"),
            Err("invalid checksum digest format")
        );
        assert_eq!(
            validate_digest(&DIGEST.to_uppercase().replace("SHA", "sha")),
            Err("invalid checksum digest format")
        );
    }
}
