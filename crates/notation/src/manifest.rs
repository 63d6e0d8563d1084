//! The Notary Project signature manifest: an OCI image manifest whose single layer is the
//! envelope and whose `subject` is the signed manifest. Written in the OCI 1.1 shape
//! (`artifactType` + empty config); read in that shape and the legacy one (config media
//! type `application/vnd.cncf.notary.signature`).
//!
//! [`to_json`] writes a manifest byte for byte as notation (oras-go, OCI image-spec Go
//! structs) does: manifest fields `schemaVersion, mediaType, artifactType, config, layers,
//! subject, annotations`; descriptor fields `mediaType, digest, size, urls, annotations,
//! data, platform, artifactType`; Go's HTML-safe string escapes.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use signet_oci::{Descriptor, Digest, Manifest, Platform, gojson, media_types};

use crate::{Error, Result};

/// The artifact type (and legacy config media type) of a Notary signature.
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// The required thumbprint annotation.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";
pub use crate::cose::COSE_MEDIA_TYPE;
/// Digest of the two-byte empty JSON config `{}`.
pub const EMPTY_CONFIG_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// Which envelope format the layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeType {
    /// JWS, `application/jose+json`.
    Jws,
    /// COSE_Sign1_Tagged, `application/cose`.
    Cose,
}

impl EnvelopeType {
    /// The layer media type.
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeType::Jws => crate::jws::JWS_MEDIA_TYPE,
            EnvelopeType::Cose => COSE_MEDIA_TYPE,
        }
    }

    /// The envelope format a layer media type names.
    pub fn from_media_type(media_type: &str) -> Result<Self> {
        match media_type {
            crate::jws::JWS_MEDIA_TYPE => Ok(EnvelopeType::Jws),
            COSE_MEDIA_TYPE => Ok(EnvelopeType::Cose),
            other => Err(Error::UnknownEnvelopeType {
                media_type: other.to_owned(),
            }),
        }
    }
}

/// Lowercase hex SHA-256 of each DER certificate, in order — as notation-go writes the
/// thumbprint annotation (`hex.EncodeToString`); readers compare case-insensitively.
pub fn thumbprints(chain_der: &[Vec<u8>]) -> Vec<String> {
    chain_der
        .iter()
        .map(|der| {
            Sha256::digest(der)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect()
}

/// An OCI descriptor serialised in the image-spec Go struct order (`mediaType, digest,
/// size, urls, annotations, data, platform, artifactType`), empty optionals omitted.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OciDescriptor<'a> {
    media_type: &'a str,
    digest: &'a Digest,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    urls: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a Platform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
}

impl<'a> From<&'a Descriptor> for OciDescriptor<'a> {
    fn from(d: &'a Descriptor) -> Self {
        OciDescriptor {
            media_type: &d.media_type,
            digest: &d.digest,
            size: d.size,
            urls: d.urls.as_ref().filter(|u| !u.is_empty()),
            annotations: &d.annotations,
            data: d.data.as_deref().filter(|s| !s.is_empty()),
            platform: d.platform.as_ref(),
            artifact_type: d.artifact_type.as_deref().filter(|s| !s.is_empty()),
        }
    }
}

/// An image manifest in the image-spec Go struct order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OciManifest<'a> {
    schema_version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    config: OciDescriptor<'a>,
    layers: Vec<OciDescriptor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<OciDescriptor<'a>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The bytes notation (oras-go `PackManifest`, image-spec Go structs, `json.Marshal`)
/// writes for `manifest`: compact, image-spec field order, map keys sorted, Go's
/// HTML-safe escapes. Parsing stays lenient ([`parse_signature_manifest`] accepts any order).
pub fn to_json(manifest: &Manifest) -> Vec<u8> {
    gojson::to_vec(&OciManifest {
        schema_version: manifest.schema_version,
        media_type: manifest.media_type.as_deref().filter(|s| !s.is_empty()),
        artifact_type: manifest.artifact_type.as_deref().filter(|s| !s.is_empty()),
        config: OciDescriptor::from(&manifest.config),
        layers: manifest.layers.iter().map(OciDescriptor::from).collect(),
        subject: manifest.subject.as_ref().map(OciDescriptor::from),
        annotations: &manifest.annotations,
    })
}

/// Builds the OCI 1.1 signature manifest for `envelope` signing `subject`, with the chain
/// thumbprint annotation plus `extra_annotations`. notation also writes
/// `org.opencontainers.image.created` (the signing time, RFC 3339); pass it in
/// `extra_annotations`. The config is the OCI empty descriptor exactly as oras-go writes it
/// (`data: "e30="`). Serialise the result with [`to_json`] for notation's byte layout.
pub fn signature_manifest(
    subject: &Descriptor,
    envelope_type: EnvelopeType,
    envelope: &[u8],
    chain_der: &[Vec<u8>],
    extra_annotations: &BTreeMap<String, String>,
) -> Result<Manifest> {
    let config = Descriptor {
        data: Some("e30=".to_owned()),
        ..Descriptor::for_bytes(media_types::OCI_EMPTY, b"{}")
    };
    let thumbs = serde_json::to_string(&thumbprints(chain_der)).map_err(|e| Error::Json {
        what: "thumbprint annotation",
        reason: e.to_string(),
    })?;
    let mut annotations = extra_annotations.clone();
    annotations.insert(THUMBPRINT_ANNOTATION.to_owned(), thumbs);
    Ok(Manifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        config,
        layers: vec![Descriptor::for_bytes(envelope_type.media_type(), envelope)],
        annotations,
        subject: Some(Descriptor {
            media_type: subject.media_type.clone(),
            size: subject.size,
            digest: subject.digest.clone(),
            data: None,
            urls: None,
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }),
        artifact_type: Some(ARTIFACT_TYPE.to_owned()),
    })
}

/// What a verifier needs from a signature manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifest {
    /// The envelope format.
    pub envelope_type: EnvelopeType,
    /// The envelope blob's descriptor.
    pub envelope: Descriptor,
    /// The signed manifest.
    pub subject: Descriptor,
    /// The chain thumbprints from the annotation (uppercase hex, leaf first).
    pub thumbprints: Vec<String>,
    /// True for the legacy (OCI 1.0 compatible) shape.
    pub legacy: bool,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidManifest {
        reason: reason.into(),
    }
}

/// Reads a signature manifest in either accepted shape.
pub fn parse_signature_manifest(bytes: &[u8]) -> Result<SignatureManifest> {
    let m = Manifest::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    if m.schema_version != 2 {
        return Err(bad(format!("schemaVersion {} is not 2", m.schema_version)));
    }
    if let Some(mt) = &m.media_type
        && mt != media_types::OCI_MANIFEST
    {
        return Err(bad(format!(
            "mediaType {mt:?} is not an OCI image manifest"
        )));
    }
    let legacy = match m.artifact_type.as_deref() {
        Some(ARTIFACT_TYPE) => {
            let empty: Digest = EMPTY_CONFIG_DIGEST
                .parse()
                .map_err(|_| bad("empty config digest"))?;
            if m.config.media_type != media_types::OCI_EMPTY
                || m.config.digest != empty
                || m.config.size != 2
            {
                return Err(bad("config is not the OCI empty descriptor"));
            }
            false
        }
        Some(other) => {
            return Err(bad(format!(
                "artifactType {other:?} is not {ARTIFACT_TYPE}"
            )));
        }
        None if m.config.media_type == ARTIFACT_TYPE => true,
        None => {
            return Err(bad(
                "neither artifactType nor config mediaType says Notary signature",
            ));
        }
    };
    let [layer] = m.layers.as_slice() else {
        return Err(bad(format!(
            "{} layers, expected exactly one",
            m.layers.len()
        )));
    };
    let envelope_type = match layer.media_type.as_str() {
        crate::jws::JWS_MEDIA_TYPE => EnvelopeType::Jws,
        COSE_MEDIA_TYPE => EnvelopeType::Cose,
        other => return Err(bad(format!("unknown envelope media type {other:?}"))),
    };
    let subject = m.subject.clone().ok_or_else(|| bad("no subject"))?;
    let thumbs = m
        .annotations
        .get(THUMBPRINT_ANNOTATION)
        .ok_or_else(|| bad(format!("missing {THUMBPRINT_ANNOTATION} annotation")))?;
    let thumbprints: Vec<String> =
        serde_json::from_str(thumbs).map_err(|e| bad(format!("{THUMBPRINT_ANNOTATION}: {e}")))?;
    Ok(SignatureManifest {
        envelope_type,
        envelope: layer.clone(),
        subject,
        thumbprints,
        legacy,
    })
}

impl SignatureManifest {
    /// Checks the annotation against the envelope's chain (hex compared case-insensitively).
    pub fn check_thumbprints(&self, chain_der: &[Vec<u8>]) -> Result<()> {
        let envelope = thumbprints(chain_der);
        let same = envelope.len() == self.thumbprints.len()
            && envelope
                .iter()
                .zip(&self.thumbprints)
                .all(|(a, b)| a.eq_ignore_ascii_case(b));
        if same {
            Ok(())
        } else {
            Err(Error::ThumbprintMismatch {
                manifest: self.thumbprints.clone(),
                envelope,
            })
        }
    }
}
