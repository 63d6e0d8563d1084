//! The Notary Project signature manifest: an OCI image manifest whose single layer is the
//! envelope and whose `subject` is the signed manifest. Written in the OCI 1.1 shape
//! (`artifactType` + empty config); read in that shape and the legacy one (config media
//! type `application/vnd.cncf.notary.signature`).

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use signet_oci::{Descriptor, Digest, Manifest, media_types};

use crate::{Error, Result};

/// The artifact type (and legacy config media type) of a Notary signature.
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// The required thumbprint annotation.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// The COSE envelope media type.
pub const COSE_MEDIA_TYPE: &str = "application/cose";
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
}

/// Uppercase hex SHA-256 of each DER certificate, in order.
pub fn thumbprints(chain_der: &[Vec<u8>]) -> Vec<String> {
    chain_der
        .iter()
        .map(|der| {
            Sha256::digest(der)
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect()
        })
        .collect()
}

/// Builds the OCI 1.1 signature manifest for `envelope` signing `subject`, with the chain
/// thumbprint annotation plus `extra_annotations` (e.g. `org.opencontainers.image.created`).
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
