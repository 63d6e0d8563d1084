//! The cosign "simple signing" payload: what `cosign generate` prints and what a signature
//! signs. Writing is byte-exact Go `json.Marshal` output (see `signet_oci::gojson`); reading is
//! as lenient as Go's `json.Unmarshal` (object keys match case-insensitively), because cosign
//! accepts such payloads and a stricter reader would reject signatures cosign verifies.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use signet_oci::{Digest, Reference, gojson};

/// The `critical.type` cosign writes.
pub const COSIGN_TYPE: &str = "cosign container image signature";

#[derive(Serialize)]
struct Wire<'a> {
    critical: Critical<'a>,
    optional: Option<&'a Value>,
}

#[derive(Serialize)]
struct Critical<'a> {
    identity: Identity<'a>,
    image: Image<'a>,
    #[serde(rename = "type")]
    kind: &'a str,
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

/// The payload bytes `cosign generate` prints (and `cosign sign` signs) for `image` at `digest`:
/// `docker-reference` is the repository without tag or digest, `optional` is `null` without
/// annotations and an object of strings with them.
pub fn generate_payload(
    image: &Reference,
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    generate_payload_for(&image.repository_name(), digest, annotations)
}

/// The payload for an explicit `docker-reference` (`--sign-container-identity`, or an image
/// in an OCI layout, which has no registry repository).
pub fn generate_payload_for(
    docker_reference: &str,
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let optional = (!annotations.is_empty()).then(|| {
        Value::Object(
            annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    });
    Payload {
        docker_reference: docker_reference.to_string(),
        docker_manifest_digest: digest.to_string(),
        kind: COSIGN_TYPE.to_string(),
        optional: optional.and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        }),
    }
    .to_go_json()
}

/// A parsed simple-signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`, as written (not validated here).
    pub docker_manifest_digest: String,
    /// `critical.type`.
    pub kind: String,
    /// `optional`: `None` for JSON `null` or absent.
    pub optional: Option<Map<String, Value>>,
}

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON.
    #[error("payload is not valid JSON: {0}")]
    NotJson(String),
    /// A field has the wrong JSON type.
    #[error("payload field {field} has the wrong type")]
    WrongType {
        /// Dotted path of the field.
        field: &'static str,
    },
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn object<'a>(
    v: Option<&'a Value>,
    field: &'static str,
) -> Result<Option<&'a Map<String, Value>>, PayloadError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(PayloadError::WrongType { field }),
    }
}

fn string(v: Option<&Value>, field: &'static str) -> Result<String, PayloadError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(PayloadError::WrongType { field }),
    }
}

impl Payload {
    /// Parses payload bytes as Go's `json.Unmarshal` into cosign's struct would: missing
    /// fields are empty, keys match case-insensitively, wrong JSON types are errors.
    pub fn parse(bytes: &[u8]) -> Result<Payload, PayloadError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::NotJson(e.to_string()))?;
        let top = match &v {
            Value::Object(m) => m,
            _ => {
                return Err(PayloadError::WrongType {
                    field: "(top level)",
                });
            }
        };
        let critical = object(get_ci(top, "critical"), "critical")?;
        let field = |section: &'static str, key: &str, name: &'static str| {
            let s = critical
                .map(|c| object(get_ci(c, section), section))
                .transpose()?;
            string(s.flatten().and_then(|m| get_ci(m, key)), name)
        };
        Ok(Payload {
            docker_reference: field(
                "identity",
                "docker-reference",
                "critical.identity.docker-reference",
            )?,
            docker_manifest_digest: field(
                "image",
                "docker-manifest-digest",
                "critical.image.docker-manifest-digest",
            )?,
            kind: string(critical.and_then(|c| get_ci(c, "type")), "critical.type")?,
            optional: object(get_ci(top, "optional"), "optional")?.cloned(),
        })
    }

    /// Go `json.Marshal` of the payload struct, as `cosign verify` prints each verified one.
    pub fn to_go_json(&self) -> Vec<u8> {
        let optional = self.optional.clone().map(Value::Object);
        let optional_bytes = optional.as_ref().map(gojson::value_to_vec);
        let wire = Wire {
            critical: Critical {
                identity: Identity {
                    docker_reference: &self.docker_reference,
                },
                image: Image {
                    docker_manifest_digest: &self.docker_manifest_digest,
                },
                kind: &self.kind,
            },
            optional: None,
        };
        // Write the struct part with Go escaping, then splice `optional` in with its keys
        // sorted (the `Value` may hold them in any order).
        let mut out = gojson::to_vec(&wire);
        if let Some(bytes) = optional_bytes {
            let null = b"null}";
            out.truncate(out.len() - null.len());
            out.extend(bytes);
            out.push(b'}');
        }
        out
    }

    /// The value of an `optional` entry, as a string, if it is one.
    pub fn optional_string(&self, key: &str) -> Option<&str> {
        self.optional.as_ref()?.get(key)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";

    #[test]
    fn matches_cosign_obsolete_test() {
        // The exact string asserted in sigstore/cosign pkg/cosign/obsolete_test.go.
        let r: Reference = "namespace/image:latest".parse().unwrap();
        let got = generate_payload(&r, &D.parse().unwrap(), &BTreeMap::new());
        assert_eq!(
            String::from_utf8(got).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"index.docker.io/namespace/image"},"image":{"docker-manifest-digest":"sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec"},"type":"cosign container image signature"},"optional":null}"#
        );
    }

    #[test]
    fn matches_spec_example_payload() {
        // shared/specs/cosign-fixtures/example_payload.json (from sigstore-rs' test data).
        let expected = r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
        let r: Reference = "registry-testing.svc.lan/busybox:1.0".parse().unwrap();
        let d = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
        let got = generate_payload(&r, &d.parse().unwrap(), &BTreeMap::new());
        assert_eq!(String::from_utf8(got).unwrap(), expected);
        assert_eq!(
            Digest::sha256(expected.as_bytes()).to_string(),
            "sha256:3af4414d20c9e1cb76ccc72aae8b242166dabe6af531a4a790db8e2f0e5ee7c9"
        );
    }

    #[test]
    fn annotations_sorted_and_escaped() {
        let r: Reference = format!("ubuntu@{D}").parse().unwrap();
        let a: BTreeMap<String, String> = [("z", "1"), ("a", "<b>&")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = String::from_utf8(generate_payload(&r, &D.parse().unwrap(), &a)).unwrap();
        assert!(got.starts_with(
            r#"{"critical":{"identity":{"docker-reference":"index.docker.io/library/ubuntu"}"#
        ));
        assert!(
            got.ends_with(r#""optional":{"a":"\u003cb\u003e\u0026","z":"1"}}"#),
            "{got}"
        );
        let parsed = Payload::parse(got.as_bytes()).unwrap();
        assert_eq!(parsed.optional_string("a"), Some("<b>&"));
        assert_eq!(parsed.to_go_json(), got.as_bytes());
    }

    #[test]
    fn parse_is_case_insensitive_like_go() {
        let p = Payload::parse(
            br#"{"Critical":{"Identity":{"Docker-Reference":"x"},"image":{"Docker-manifest-digest":"sha256:ab"},"TYPE":"t"},"optional":{"n":1}}"#,
        )
        .unwrap();
        assert_eq!(p.docker_reference, "x");
        assert_eq!(p.docker_manifest_digest, "sha256:ab");
        assert_eq!(p.kind, "t");
        assert_eq!(
            String::from_utf8(p.to_go_json()).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:ab"},"type":"t"},"optional":{"n":1}}"#
        );
    }

    #[rstest::rstest]
    #[case(b"not json".as_slice())]
    #[case(b"[]".as_slice())]
    #[case(br#"{"critical":{"image":{"docker-manifest-digest":5}}}"#.as_slice())]
    #[case(br#"{"critical":"x"}"#.as_slice())]
    #[case(br#"{"optional":[1]}"#.as_slice())]
    fn parse_rejects(#[case] bytes: &[u8]) {
        assert!(Payload::parse(bytes).is_err());
    }

    proptest::proptest! {
        #[test]
        fn generate_then_parse_round_trips(k in "[a-zA-Z0-9<>&._-]{1,12}", v in "\\PC{0,20}") {
            let r: Reference = "ghcr.io/o/r:t".parse().unwrap();
            let a: BTreeMap<String, String> = [(k.clone(), v.clone())].into();
            let bytes = generate_payload(&r, &D.parse().unwrap(), &a);
            let p = Payload::parse(&bytes).unwrap();
            proptest::prop_assert_eq!(p.optional_string(&k), Some(v.as_str()));
            proptest::prop_assert_eq!(p.to_go_json(), bytes);
        }
    }
}
