//! The Notary Project payload `{"targetArtifact": <OCI descriptor>}`
//! (`application/vnd.cncf.notary.payload.v1+json`): user metadata travels as descriptor
//! annotations, and a verifier checks the descriptor against the artifact being verified.
//!
//! Written byte for byte as notation-go writes it (`json.Marshal` of the image-spec Go
//! descriptor: `mediaType, digest, size, annotations`, Go's HTML-safe escapes); read
//! leniently (any member order).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use signet_oci::{Descriptor, gojson};

use crate::manifest::OciDescriptor;
use crate::{Error, Result};

/// The payload media type, also the JWS `cty` header.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// The annotation-key prefix the Notary Project reserves.
pub const RESERVED_PREFIX: &str = "io.cncf.notary";

/// A Notary Project payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Payload {
    /// The signed artifact's descriptor; user metadata is in its annotations.
    pub target_artifact: Descriptor,
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out<'a> {
            target_artifact: OciDescriptor<'a>,
        }
        Out {
            target_artifact: OciDescriptor::from(&self.target_artifact),
        }
        .serialize(serializer)
    }
}

impl Payload {
    /// A payload for `target` with `metadata` added to its annotations (refusing keys under
    /// the reserved `io.cncf.notary` prefix). Only `mediaType`, `digest`, `size` and
    /// `annotations` of `target` are kept, as notation-go's `SanitizeTargetArtifact` does.
    pub fn new(target: &Descriptor, metadata: &BTreeMap<String, String>) -> Result<Self> {
        if let Some(key) = metadata.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
            return Err(Error::ReservedMetadataKey { key: key.clone() });
        }
        let mut annotations = target.annotations.clone();
        annotations.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Payload {
            target_artifact: Descriptor {
                media_type: target.media_type.clone(),
                size: target.size,
                digest: target.digest.clone(),
                data: None,
                urls: None,
                annotations,
                platform: None,
                artifact_type: None,
            },
        })
    }

    /// The JSON bytes to sign, as notation-go writes them.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let bytes = gojson::to_vec(self);
        if bytes.is_empty() {
            return Err(Error::Json {
                what: "payload",
                reason: "serialisation failed".to_owned(),
            });
        }
        Ok(bytes)
    }

    /// Parses payload JSON (unknown top-level members refused).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let payload: Payload = serde_json::from_slice(bytes).map_err(|e| Error::Json {
            what: "payload",
            reason: e.to_string(),
        })?;
        if payload.target_artifact.media_type.is_empty() {
            return Err(Error::Json {
                what: "payload",
                reason: "targetArtifact.mediaType is empty".to_owned(),
            });
        }
        Ok(payload)
    }

    /// Checks that the payload describes `artifact` (same `mediaType`, `digest` and `size`)
    /// and carries every `required_metadata` entry with the same value.
    pub fn check_target(
        &self,
        artifact: &Descriptor,
        required_metadata: &BTreeMap<String, String>,
    ) -> Result<()> {
        let t = &self.target_artifact;
        if t.media_type != artifact.media_type {
            return Err(Error::PayloadMismatch {
                field: "mediaType",
                expected: artifact.media_type.clone(),
                found: t.media_type.clone(),
            });
        }
        if t.digest != artifact.digest {
            return Err(Error::PayloadMismatch {
                field: "digest",
                expected: artifact.digest.to_string(),
                found: t.digest.to_string(),
            });
        }
        if t.size != artifact.size {
            return Err(Error::PayloadMismatch {
                field: "size",
                expected: artifact.size.to_string(),
                found: t.size.to_string(),
            });
        }
        for (key, expected) in required_metadata {
            let found = t.annotations.get(key);
            if found != Some(expected) {
                return Err(Error::MetadataMismatch {
                    key: key.clone(),
                    expected: expected.clone(),
                    found: found.cloned(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn target() -> Descriptor {
        Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"{}")
    }

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn json_shape() {
        let p = Payload::new(&target(), &meta(&[("k", "v")])).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&p.to_json().unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"targetArtifact": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "size": 2,
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "annotations": {"k": "v"}
            }})
        );
        assert_eq!(Payload::from_json(&p.to_json().unwrap()).unwrap(), p);
    }

    #[test]
    fn bytes_match_notation_go() {
        // image-spec Go descriptor order (mediaType, digest, size, annotations) and Go's
        // HTML-safe escapes, as notation-go's json.Marshal writes the payload.
        let mut t = target();
        t.artifact_type = Some("application/x".to_owned());
        let p = Payload::new(&t, &meta(&[("b", "<&>"), ("a", "1")])).unwrap();
        assert_eq!(
            String::from_utf8(p.to_json().unwrap()).unwrap(),
            concat!(
                r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","#,
                r#""size":2,"annotations":{"a":"1","b":"\u003c\u0026\u003e"}}}"#
            )
        );
        // A descriptor with every field is written in the full image-spec order.
        let full = Payload {
            target_artifact: Descriptor {
                urls: Some(vec!["https://x".to_owned()]),
                data: Some("e30=".to_owned()),
                platform: Some(signet_oci::Platform {
                    architecture: "amd64".to_owned(),
                    os: "linux".to_owned(),
                    ..Default::default()
                }),
                artifact_type: Some("application/x".to_owned()),
                annotations: meta(&[("k", "v")]),
                ..target()
            },
        };
        let json = String::from_utf8(full.to_json().unwrap()).unwrap();
        let keys = [
            "\"mediaType\"",
            "\"digest\"",
            "\"size\"",
            "\"urls\"",
            "\"annotations\"",
            "\"data\"",
            "\"platform\"",
            "\"artifactType\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        // Reading stays lenient about member order.
        let reordered = br#"{"targetArtifact":{"size":2,"annotations":{"k":"v"},"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","mediaType":"application/vnd.oci.image.manifest.v1+json"}}"#;
        assert_eq!(
            Payload::from_json(reordered).unwrap(),
            Payload::new(&target(), &meta(&[("k", "v")])).unwrap()
        );
    }

    #[test]
    fn drops_data_urls_platform_and_refuses_reserved_keys() {
        let mut t = target();
        t.data = Some("e30=".to_owned());
        t.urls = Some(vec!["https://x".to_owned()]);
        let p = Payload::new(&t, &BTreeMap::new()).unwrap();
        assert!(p.target_artifact.data.is_none() && p.target_artifact.urls.is_none());
        let err = Payload::new(&t, &meta(&[("io.cncf.notary.x", "1")])).unwrap_err();
        assert!(matches!(err, Error::ReservedMetadataKey { .. }), "{err}");
    }

    #[test]
    fn check_target_rules() {
        let p = Payload::new(&target(), &meta(&[("env", "prod")])).unwrap();
        p.check_target(&target(), &BTreeMap::new()).unwrap();
        p.check_target(&target(), &meta(&[("env", "prod")]))
            .unwrap();

        let mut other = target();
        other.media_type = "application/vnd.oci.image.index.v1+json".to_owned();
        let err = p.check_target(&other, &BTreeMap::new()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::PayloadMismatch {
                    field: "mediaType",
                    ..
                }
            ),
            "{err}"
        );

        let other = Descriptor::for_bytes(&target().media_type, b"[]");
        let err = p.check_target(&other, &BTreeMap::new()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::PayloadMismatch {
                    field: "digest",
                    ..
                }
            ),
            "{err}"
        );

        let mut other = target();
        other.size = 3;
        let err = p.check_target(&other, &BTreeMap::new()).unwrap_err();
        assert!(
            matches!(err, Error::PayloadMismatch { field: "size", .. }),
            "{err}"
        );

        let err = p
            .check_target(&target(), &meta(&[("env", "dev")]))
            .unwrap_err();
        assert!(
            matches!(err, Error::MetadataMismatch { found: Some(_), .. }),
            "{err}"
        );
        let err = p
            .check_target(&target(), &meta(&[("team", "a")]))
            .unwrap_err();
        assert!(
            matches!(err, Error::MetadataMismatch { found: None, .. }),
            "{err}"
        );
    }

    #[test]
    fn from_json_is_strict() {
        assert!(Payload::from_json(b"{}").is_err());
        assert!(Payload::from_json(b"not json").is_err());
        let extra = br#"{"targetArtifact":{"mediaType":"a","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"x":1}"#;
        assert!(Payload::from_json(extra).is_err());
        let empty_mt = br#"{"targetArtifact":{"mediaType":"","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}"#;
        assert!(Payload::from_json(empty_mt).is_err());
    }
}
