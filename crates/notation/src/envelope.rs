//! One view over both envelope formats, so a verifier treats JWS and COSE signatures alike:
//! [`Envelope`] (parsed by [`EnvelopeType`], normally from the signature manifest's layer
//! media type), the [`SignedEnvelope`] accessors, and [`sign`]/[`verify`] dispatching on
//! the format.
//!
//! Timestamping (`notary.x509` only, as notation-core-go): [`sign_timestamped`] signs and
//! then [`timestamp_envelope`] requests an RFC 3161 token over the signature bytes from the
//! caller's [`Timestamper`], verifies it against the caller's TSA roots and attaches it to
//! the unprotected header ([`attach_timestamp`] attaches an already obtained token without
//! checks).

use std::time::SystemTime;

use signet_pki::cert::Certificate;

use crate::jws::{JwsAlgorithm, JwsSigner, SignOptions, SigningScheme};
pub use crate::manifest::EnvelopeType;
pub use crate::timestamp::{TimestampOptions, Timestamper, VerifiedTimestamp};
use crate::{Error, Result, cose, jws, timestamp};

/// What every Notary Project envelope carries, whatever its format.
pub trait SignedEnvelope {
    /// The envelope format.
    fn envelope_type(&self) -> EnvelopeType;
    /// The payload bytes.
    fn payload(&self) -> &[u8];
    /// The signature algorithm.
    fn alg(&self) -> JwsAlgorithm;
    /// The signing scheme.
    fn signing_scheme(&self) -> SigningScheme;
    /// The signing time (authentic signing time for the signing-authority scheme).
    fn signing_time(&self) -> SystemTime;
    /// The expiry, if any.
    fn expiry(&self) -> Option<SystemTime>;
    /// The certificate chain, leaf first.
    fn cert_chain(&self) -> &[Certificate];
    /// The signing agent, if any.
    fn signing_agent(&self) -> Option<&str>;
    /// The RFC 3161 timestamp token over the signature (not verified), if any.
    fn timestamp_signature(&self) -> Option<&[u8]>;
    /// The signature bytes.
    fn signature(&self) -> &[u8];
}

macro_rules! impl_signed_envelope {
    ($ty:ty, $kind:expr) => {
        impl SignedEnvelope for $ty {
            fn envelope_type(&self) -> EnvelopeType {
                $kind
            }
            fn payload(&self) -> &[u8] {
                &self.payload
            }
            fn alg(&self) -> JwsAlgorithm {
                self.alg
            }
            fn signing_scheme(&self) -> SigningScheme {
                self.signing_scheme
            }
            fn signing_time(&self) -> SystemTime {
                self.signing_time
            }
            fn expiry(&self) -> Option<SystemTime> {
                self.expiry
            }
            fn cert_chain(&self) -> &[Certificate] {
                &self.cert_chain
            }
            fn signing_agent(&self) -> Option<&str> {
                self.signing_agent.as_deref()
            }
            fn timestamp_signature(&self) -> Option<&[u8]> {
                self.timestamp_signature.as_deref()
            }
            fn signature(&self) -> &[u8] {
                &self.signature
            }
        }
    };
}

impl_signed_envelope!(jws::Envelope, EnvelopeType::Jws);
impl_signed_envelope!(cose::Envelope, EnvelopeType::Cose);

/// A parsed, not yet verified, envelope of either format.
#[derive(Debug, Clone)]
pub enum Envelope {
    /// A JWS envelope.
    Jws(jws::Envelope),
    /// A COSE envelope.
    Cose(cose::Envelope),
}

impl Envelope {
    /// Parses `bytes` as an envelope of `envelope_type`.
    pub fn parse(envelope_type: EnvelopeType, bytes: &[u8]) -> Result<Self> {
        Ok(match envelope_type {
            EnvelopeType::Jws => Envelope::Jws(jws::Envelope::parse(bytes)?),
            EnvelopeType::Cose => Envelope::Cose(cose::Envelope::parse(bytes)?),
        })
    }

    /// Parses `bytes` as the envelope format named by a layer `media_type`.
    pub fn parse_media_type(media_type: &str, bytes: &[u8]) -> Result<Self> {
        Self::parse(EnvelopeType::from_media_type(media_type)?, bytes)
    }

    /// Verifies the signature with the leaf certificate's key (whose type must match `alg`).
    pub fn verify(self) -> Result<Verified> {
        let envelope = match self {
            Envelope::Jws(e) => Envelope::Jws(e.verify()?.envelope),
            Envelope::Cose(e) => Envelope::Cose(e.verify()?.envelope),
        };
        Ok(Verified { envelope })
    }

    fn inner(&self) -> &dyn SignedEnvelope {
        match self {
            Envelope::Jws(e) => e,
            Envelope::Cose(e) => e,
        }
    }
}

impl SignedEnvelope for Envelope {
    fn envelope_type(&self) -> EnvelopeType {
        self.inner().envelope_type()
    }
    fn payload(&self) -> &[u8] {
        self.inner().payload()
    }
    fn alg(&self) -> JwsAlgorithm {
        self.inner().alg()
    }
    fn signing_scheme(&self) -> SigningScheme {
        self.inner().signing_scheme()
    }
    fn signing_time(&self) -> SystemTime {
        self.inner().signing_time()
    }
    fn expiry(&self) -> Option<SystemTime> {
        self.inner().expiry()
    }
    fn cert_chain(&self) -> &[Certificate] {
        self.inner().cert_chain()
    }
    fn signing_agent(&self) -> Option<&str> {
        self.inner().signing_agent()
    }
    fn timestamp_signature(&self) -> Option<&[u8]> {
        self.inner().timestamp_signature()
    }
    fn signature(&self) -> &[u8] {
        self.inner().signature()
    }
}

/// A verified envelope of either format: the signature checks with the leaf certificate's
/// key. Trust in the chain is still the caller's job.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The envelope.
    pub envelope: Envelope,
}

/// Creates an envelope of `envelope_type` (see [`jws::sign`] and [`cose::sign`]).
pub fn sign(
    envelope_type: EnvelopeType,
    options: &SignOptions<'_>,
    signer: &dyn JwsSigner,
) -> Result<Vec<u8>> {
    match envelope_type {
        EnvelopeType::Jws => jws::sign(options, signer),
        EnvelopeType::Cose => cose::sign(options, signer),
    }
}

/// Parses and verifies an envelope of `envelope_type`.
pub fn verify(envelope_type: EnvelopeType, bytes: &[u8]) -> Result<Verified> {
    Envelope::parse(envelope_type, bytes)?.verify()
}

/// Creates an envelope of `envelope_type` and timestamps its signature (see
/// [`timestamp_envelope`]).
pub fn sign_timestamped(
    envelope_type: EnvelopeType,
    options: &SignOptions<'_>,
    signer: &dyn JwsSigner,
    timestamping: &TimestampOptions<'_>,
) -> Result<Vec<u8>> {
    let bytes = sign(envelope_type, options, signer)?;
    timestamp_envelope(envelope_type, &bytes, timestamping).map(|(bytes, _)| bytes)
}

/// Timestamps a signed `notary.x509` envelope as notation-core-go does: the envelope's
/// signature must verify; the request covers the signature bytes with the hash of its
/// algorithm; the token must answer the request and verify with a TSA chain to one of
/// `timestamping.tsa_roots`, valid at `timestamping.now`, that satisfies the Notary Project
/// timestamping certificate rules. Returns the envelope with the token attached and what the
/// token proves.
pub fn timestamp_envelope(
    envelope_type: EnvelopeType,
    bytes: &[u8],
    timestamping: &TimestampOptions<'_>,
) -> Result<(Vec<u8>, VerifiedTimestamp)> {
    let envelope = verify(envelope_type, bytes)?.envelope;
    if envelope.signing_scheme() != SigningScheme::X509 {
        return Err(Error::TimestampNotApplicable {
            scheme: envelope.signing_scheme().as_str(),
        });
    }
    if envelope.timestamp_signature().is_some() {
        return Err(Error::AlreadyTimestamped);
    }
    let (token, verified) =
        timestamp::timestamp_signature(envelope.signature(), envelope.alg(), timestamping)?;
    Ok((attach_timestamp(envelope_type, bytes, &token)?, verified))
}

/// Step one of timestamping in two steps (for a caller that sends the request itself, e.g.
/// over async HTTP): verifies the signed `notary.x509` envelope, which must not have a
/// timestamp yet, and builds the TimeStampReq for its signature. Send
/// [`timestamp::TimestampRequest::to_der`] to the TSA, then call
/// [`attach_timestamp_response`] with the answer.
pub fn timestamp_request(
    envelope_type: EnvelopeType,
    bytes: &[u8],
    nonce: &[u8],
) -> Result<timestamp::TimestampRequest> {
    let envelope = verify(envelope_type, bytes)?.envelope;
    if envelope.signing_scheme() != SigningScheme::X509 {
        return Err(Error::TimestampNotApplicable {
            scheme: envelope.signing_scheme().as_str(),
        });
    }
    if envelope.timestamp_signature().is_some() {
        return Err(Error::AlreadyTimestamped);
    }
    timestamp::TimestampRequest::for_signature(envelope.signature(), envelope.alg(), nonce)
}

/// Step two: checks the TSA's DER TimeStampResp to `request` (see
/// [`timestamp::accept_response`]: status, messageImprint, nonce, token signature, TSA chain
/// to one of `tsa_roots` valid at `now`, timestamping certificate rules, optional revocation
/// check) and attaches the token to the envelope. Returns the new envelope bytes and what the
/// token proves.
pub fn attach_timestamp_response(
    envelope_type: EnvelopeType,
    bytes: &[u8],
    request: &timestamp::TimestampRequest,
    response_der: &[u8],
    tsa_roots: &[Certificate],
    now: SystemTime,
    check_tsa_revocation: Option<timestamp::RevocationCheck<'_>>,
) -> Result<(Vec<u8>, VerifiedTimestamp)> {
    let envelope = verify(envelope_type, bytes)?.envelope;
    let (token, verified) = timestamp::accept_response(
        request,
        response_der,
        envelope.signature(),
        tsa_roots,
        now,
        check_tsa_revocation,
    )?;
    Ok((attach_timestamp(envelope_type, bytes, &token)?, verified))
}

/// Attaches a timestamp token (DER) to an envelope's unprotected header without verifying it
/// (see [`jws::attach_timestamp`] and [`cose::attach_timestamp`]).
pub fn attach_timestamp(
    envelope_type: EnvelopeType,
    bytes: &[u8],
    token: &[u8],
) -> Result<Vec<u8>> {
    match envelope_type {
        EnvelopeType::Jws => jws::attach_timestamp(bytes, token),
        EnvelopeType::Cose => cose::attach_timestamp(bytes, token),
    }
}

/// Verifies an envelope's timestamp countersignature against `tsa_roots` (see
/// [`timestamp::verify_timestamp`]); `Ok(None)` when it has none.
pub fn verify_envelope_timestamp(
    envelope: &dyn SignedEnvelope,
    tsa_roots: &[Certificate],
) -> Result<Option<VerifiedTimestamp>> {
    envelope
        .timestamp_signature()
        .map(|token| timestamp::verify_timestamp(token, envelope.signature(), tsa_roots))
        .transpose()
}
