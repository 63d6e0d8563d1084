//! The Notary Project COSE envelope (`application/cose`): a `COSE_Sign1_Tagged` (CBOR tag
//! 18) message. The protected header carries `alg` (label 1), `crit` (label 2), the content
//! type (label 3) and the text-keyed Notary headers (`io.cncf.notary.signingScheme`,
//! `io.cncf.notary.signingTime` / `io.cncf.notary.authenticSigningTime` and
//! `io.cncf.notary.expiry` as CBOR tag 1 epoch times); the unprotected header carries
//! `x5chain` (label 33, DER leaf first, root included), `io.cncf.notary.signingAgent` and
//! `io.cncf.notary.timestampSignature`. The signature covers the RFC 9052 `Sig_structure`
//! `["Signature1", protected, h'', payload]`; ECDSA signatures are raw `r||s`.
//!
//! Signing takes the same [`JwsSigner`] and [`SignOptions`] as the JWS envelope; map keys
//! are written in the canonical CBOR order go-cose (notation-core-go) uses. Parsing is
//! strict; verification checks the signature with the leaf certificate's key.

use std::time::SystemTime;

use coset::cbor::value::Value;
use coset::iana::EnumI64 as _;
use coset::{
    CborSerializable as _, ContentType, CoseSign1, Header, Label, ProtectedHeader,
    RegisteredLabelWithPrivate, TaggedCborSerializable as _, iana,
};
use signet_pki::cert::Certificate;

use crate::jws::{
    HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_AGENT, HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME, HEADER_TIMESTAMP_SIGNATURE, JwsAlgorithm, JwsSigner, SignOptions,
    SigningScheme, leaf_key, verify_signature,
};
use crate::payload::PAYLOAD_MEDIA_TYPE;
use crate::{Error, Result, certs, jws, rfc3339};

/// The envelope media type (signature manifest layer).
pub const COSE_MEDIA_TYPE: &str = "application/cose";
/// The CBOR tag of `COSE_Sign1_Tagged`.
pub const COSE_SIGN1_TAG: u64 = 18;
/// The COSE header label of `x5chain` (RFC 9360).
pub const LABEL_X5CHAIN: i64 = 33;
/// The CBOR tag of an epoch-based date/time (RFC 8949 section 3.4.2).
const TAG_EPOCH_TIME: u64 = 1;

const NAME_ALG: &str = "alg (1)";
const NAME_CRIT: &str = "crit (2)";
const NAME_CONTENT_TYPE: &str = "content type (3)";
const NAME_X5CHAIN: &str = "x5chain (33)";

fn cbor_error(what: &'static str) -> impl Fn(coset::CoseError) -> Error {
    move |e| Error::Cbor {
        what,
        reason: e.to_string(),
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidEnvelope {
        reason: format!("COSE: {}", reason.into()),
    }
}

fn bad_header(header: &str, reason: impl Into<String>) -> Error {
    Error::InvalidHeader {
        header: header.to_owned(),
        reason: reason.into(),
    }
}

/// A CBOR tag 1 epoch date/time with whole seconds, as notation-core-go writes it.
fn epoch_time(t: SystemTime) -> Result<Value> {
    let secs = rfc3339::unix_seconds(t)?;
    Ok(Value::Tag(TAG_EPOCH_TIME, Box::new(Value::from(secs))))
}

/// Reads a CBOR tag 1 epoch date/time (integer or, tolerated, finite float seconds).
fn parse_epoch_time(header: &str, value: &Value) -> Result<SystemTime> {
    let Value::Tag(TAG_EPOCH_TIME, inner) = value else {
        return Err(bad_header(header, "not a CBOR tag 1 epoch date/time"));
    };
    match inner.as_ref() {
        Value::Integer(i) => {
            let secs = i64::try_from(*i).map_err(|_| Error::InvalidTime {
                value: format!("{:?}", i128::from(*i)),
                reason: "out of range".to_owned(),
            })?;
            Ok(rfc3339::from_unix_seconds(secs))
        }
        Value::Float(f) if f.is_finite() => {
            let whole = f.floor();
            let out_of_range = || Error::InvalidTime {
                value: f.to_string(),
                reason: "out of range".to_owned(),
            };
            if !(-9.2e18..=9.2e18).contains(&whole) {
                return Err(out_of_range());
            }
            // In range per the check above, so the cast is exact for whole seconds.
            #[allow(clippy::cast_possible_truncation)]
            let secs = whole as i64;
            let nanos = ((f - whole) * 1e9).round().clamp(0.0, 999_999_999.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let nanos = std::time::Duration::from_nanos(nanos as u64);
            Ok(rfc3339::from_unix_seconds(secs) + nanos)
        }
        _ => Err(bad_header(header, "the tag 1 content is not a number")),
    }
}

/// Sorts map entries in canonical CBOR order (RFC 7049 section 3.9: shorter encoded key
/// first, then bytewise), as go-cose's encoder (`SortCanonical`) does.
fn sort_canonical(entries: &mut [(Label, Value)]) -> Result<()> {
    let mut keyed = Vec::with_capacity(entries.len());
    for (label, _) in entries.iter() {
        keyed.push(label.clone().to_vec().map_err(cbor_error("header label"))?);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        keyed[a]
            .len()
            .cmp(&keyed[b].len())
            .then_with(|| keyed[a].cmp(&keyed[b]))
    });
    let sorted: Vec<(Label, Value)> = order.iter().map(|&i| entries[i].clone()).collect();
    entries.clone_from_slice(&sorted);
    Ok(())
}

fn text_label(name: &str) -> RegisteredLabelWithPrivate<iana::HeaderParameter> {
    RegisteredLabelWithPrivate::Text(name.to_owned())
}

/// Creates a Notary Project COSE envelope (`notary.x509`). `alg` follows the leaf
/// certificate's key; the chain must satisfy [`certs::check_signing_chain`]; the signature
/// is checked against the leaf key before the envelope is returned.
pub fn sign(options: &SignOptions<'_>, signer: &dyn JwsSigner) -> Result<Vec<u8>> {
    let alg = jws::signing_algorithm(options, signer)?;
    let cose_alg =
        iana::Algorithm::from_i64(alg.cose_id()).ok_or_else(|| Error::SigningFailed {
            alg: alg.name().to_owned(),
            reason: "no COSE algorithm".to_owned(),
        })?;

    let mut crit = vec![text_label(HEADER_SIGNING_SCHEME)];
    let mut rest = vec![
        (
            Label::Text(HEADER_SIGNING_SCHEME.to_owned()),
            Value::Text(SigningScheme::X509.as_str().to_owned()),
        ),
        (
            Label::Text(HEADER_SIGNING_TIME.to_owned()),
            epoch_time(options.signing_time)?,
        ),
    ];
    if let Some(expiry) = options.expiry {
        crit.push(text_label(HEADER_EXPIRY));
        rest.push((Label::Text(HEADER_EXPIRY.to_owned()), epoch_time(expiry)?));
    }
    sort_canonical(&mut rest)?;
    let header = Header {
        alg: Some(RegisteredLabelWithPrivate::Assigned(cose_alg)),
        crit,
        content_type: Some(ContentType::Text(PAYLOAD_MEDIA_TYPE.to_owned())),
        rest,
        ..Header::default()
    };
    let protected_bytes = header
        .clone()
        .to_vec()
        .map_err(cbor_error("protected header"))?;

    let mut message = CoseSign1 {
        protected: ProtectedHeader {
            original_data: Some(protected_bytes),
            header,
        },
        unprotected: Header::default(),
        payload: Some(options.payload.to_vec()),
        signature: Vec::new(),
    };
    // The unprotected header (the chain) is not signed: a plugin or the signing service
    // hands the chain out only with the signature.
    let to_be_signed = message.tbs_data(&[]);
    let signature = signer.sign(alg, &to_be_signed)?;
    let cert_chain = jws::signed_chain(options, signer, alg, &to_be_signed, &signature)?;
    let mut unprotected = vec![(
        Label::Int(LABEL_X5CHAIN),
        Value::Array(cert_chain.into_iter().map(Value::Bytes).collect()),
    )];
    if !options.signing_agent.is_empty() {
        unprotected.push((
            Label::Text(HEADER_SIGNING_AGENT.to_owned()),
            Value::Text(options.signing_agent.to_owned()),
        ));
    }
    sort_canonical(&mut unprotected)?;
    message.unprotected = Header {
        rest: unprotected,
        ..Header::default()
    };
    message.signature = signature;
    message
        .to_tagged_vec()
        .map_err(cbor_error("COSE_Sign1_Tagged"))
}

/// Adds an RFC 3161 timestamp token (DER) to a `notary.x509` envelope's unprotected header
/// as `io.cncf.notary.timestampSignature` (bstr), keeping the header map in canonical order.
/// The protected header bytes, payload and signature are kept as they are; the token is not
/// verified here (see [`crate::envelope::timestamp_envelope`]). Refuses an envelope that
/// already has one.
pub fn attach_timestamp(bytes: &[u8], token: &[u8]) -> Result<Vec<u8>> {
    let envelope = Envelope::parse(bytes)?;
    if envelope.timestamp_signature.is_some() {
        return Err(Error::AlreadyTimestamped);
    }
    if envelope.signing_scheme != SigningScheme::X509 {
        return Err(Error::TimestampNotApplicable {
            scheme: envelope.signing_scheme.as_str(),
        });
    }
    let mut message =
        CoseSign1::from_tagged_slice(bytes).map_err(cbor_error("COSE_Sign1_Tagged"))?;
    message.unprotected.rest.push((
        Label::Text(HEADER_TIMESTAMP_SIGNATURE.to_owned()),
        Value::Bytes(token.to_vec()),
    ));
    sort_canonical(&mut message.unprotected.rest)?;
    message
        .to_tagged_vec()
        .map_err(cbor_error("COSE_Sign1_Tagged"))
}

/// A parsed, not yet verified, COSE envelope. The public fields mean the same as in
/// [`crate::jws::Envelope`].
#[derive(Debug, Clone)]
pub struct Envelope {
    to_be_signed: Vec<u8>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The algorithm (COSE `alg`, mapped to its JWS name).
    pub alg: JwsAlgorithm,
    /// The signing scheme.
    pub signing_scheme: SigningScheme,
    /// `io.cncf.notary.signingTime` (or `authenticSigningTime` for the signing-authority scheme).
    pub signing_time: SystemTime,
    /// `io.cncf.notary.expiry`.
    pub expiry: Option<SystemTime>,
    /// The certificate chain from `x5chain`, leaf first.
    pub cert_chain: Vec<Certificate>,
    /// `io.cncf.notary.signingAgent`, if present.
    pub signing_agent: Option<String>,
    /// `io.cncf.notary.timestampSignature` (not verified), if present.
    pub timestamp_signature: Option<Vec<u8>>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// A verified COSE envelope: the signature checks with the leaf certificate's key. Trust
/// in the chain (trust store, policy, validity, revocation) is still the caller's job.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The envelope.
    pub envelope: Envelope,
}

fn find<'a>(entries: &'a [(Label, Value)], label: &Label) -> Option<&'a Value> {
    entries.iter().find(|(l, _)| l == label).map(|(_, v)| v)
}

fn find_text<'a>(entries: &'a [(Label, Value)], name: &str) -> Option<&'a Value> {
    entries.iter().find_map(|(l, v)| match l {
        Label::Text(t) if t == name => Some(v),
        _ => None,
    })
}

impl Envelope {
    /// Parses a `COSE_Sign1_Tagged` envelope strictly: tag 18, an embedded payload, the
    /// Notary protected headers and `crit` rules, `x5chain` (unprotected, or protected as
    /// RFC 9360 allows, not both).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let message =
            CoseSign1::from_tagged_slice(bytes).map_err(cbor_error("COSE_Sign1_Tagged"))?;
        let payload = message
            .payload
            .clone()
            .ok_or_else(|| invalid("the payload is detached (nil)"))?;
        if message.signature.is_empty() {
            return Err(invalid("the signature is empty"));
        }
        let p = &message.protected.header;
        let u = &message.unprotected;
        if u.alg.is_some() || !u.crit.is_empty() || u.content_type.is_some() {
            return Err(invalid(
                "alg, crit and content type must be in the protected header",
            ));
        }
        if let Some((label, _)) = u.rest.iter().find(|(l, _)| find(&p.rest, l).is_some()) {
            return Err(invalid(format!(
                "header {label:?} is in both the protected and unprotected buckets"
            )));
        }

        let alg = match &p.alg {
            None => return Err(Error::MissingHeader { header: NAME_ALG }),
            Some(RegisteredLabelWithPrivate::Assigned(a)) => {
                JwsAlgorithm::from_cose_id(a.to_i64())?
            }
            Some(RegisteredLabelWithPrivate::PrivateUse(i)) => JwsAlgorithm::from_cose_id(*i)?,
            Some(RegisteredLabelWithPrivate::Text(t)) => {
                return Err(Error::UnsupportedAlgorithm { alg: t.clone() });
            }
        };
        match &p.content_type {
            None => {
                return Err(Error::MissingHeader {
                    header: NAME_CONTENT_TYPE,
                });
            }
            Some(ContentType::Text(t)) if t == PAYLOAD_MEDIA_TYPE => {}
            Some(other) => {
                return Err(bad_header(
                    NAME_CONTENT_TYPE,
                    format!("{other:?} is not {PAYLOAD_MEDIA_TYPE}"),
                ));
            }
        }
        let (signing_scheme, signing_time, expiry) = parse_protected(p)?;
        let (cert_chain, signing_agent, timestamp_signature) = parse_unprotected(p, u)?;
        let to_be_signed = message.tbs_data(&[]);
        Ok(Envelope {
            to_be_signed,
            payload,
            alg,
            signing_scheme,
            signing_time,
            expiry,
            cert_chain,
            signing_agent,
            timestamp_signature,
            signature: message.signature,
        })
    }

    /// Verifies the signature with the leaf certificate's key (whose type must match `alg`).
    pub fn verify(self) -> Result<Verified> {
        let key = leaf_key(&self.cert_chain)?;
        verify_signature(&key, self.alg, &self.to_be_signed, &self.signature)?;
        Ok(Verified { envelope: self })
    }
}

/// Parses and verifies an envelope (see [`Envelope::parse`] and [`Envelope::verify`]).
pub fn verify(bytes: &[u8]) -> Result<Verified> {
    Envelope::parse(bytes)?.verify()
}

fn parse_protected(p: &Header) -> Result<(SigningScheme, SystemTime, Option<SystemTime>)> {
    let scheme = match find_text(&p.rest, HEADER_SIGNING_SCHEME) {
        None => {
            return Err(Error::MissingHeader {
                header: HEADER_SIGNING_SCHEME,
            });
        }
        Some(Value::Text(s)) => match s.as_str() {
            "notary.x509" => SigningScheme::X509,
            "notary.x509.signingAuthority" => SigningScheme::X509SigningAuthority,
            other => {
                return Err(bad_header(
                    HEADER_SIGNING_SCHEME,
                    format!("unknown signing scheme {other:?}"),
                ));
            }
        },
        Some(_) => return Err(bad_header(HEADER_SIGNING_SCHEME, "not a text string")),
    };
    let time = |name: &'static str| -> Result<Option<SystemTime>> {
        find_text(&p.rest, name)
            .map(|v| parse_epoch_time(name, v))
            .transpose()
    };
    let signing_time_header = match scheme {
        SigningScheme::X509 => HEADER_SIGNING_TIME,
        SigningScheme::X509SigningAuthority => HEADER_AUTHENTIC_SIGNING_TIME,
    };
    let signing_time = time(signing_time_header)?.ok_or(Error::MissingHeader {
        header: signing_time_header,
    })?;
    // Validate the other time header too when present.
    time(HEADER_SIGNING_TIME)?;
    time(HEADER_AUTHENTIC_SIGNING_TIME)?;
    let expiry = time(HEADER_EXPIRY)?;

    if p.crit.is_empty() {
        return Err(Error::MissingHeader { header: NAME_CRIT });
    }
    let understood = [
        HEADER_SIGNING_SCHEME,
        HEADER_EXPIRY,
        HEADER_AUTHENTIC_SIGNING_TIME,
    ];
    let mut seen: Vec<&str> = Vec::new();
    for label in &p.crit {
        let name = match label {
            RegisteredLabelWithPrivate::Text(t) => t.as_str(),
            RegisteredLabelWithPrivate::Assigned(a) => {
                return Err(Error::UnsupportedCriticalHeader {
                    header: a.to_i64().to_string(),
                });
            }
            RegisteredLabelWithPrivate::PrivateUse(i) => {
                return Err(Error::UnsupportedCriticalHeader {
                    header: i.to_string(),
                });
            }
        };
        if seen.contains(&name) {
            return Err(bad_header(NAME_CRIT, format!("{name:?} listed twice")));
        }
        seen.push(name);
        if !understood.contains(&name) {
            return Err(Error::UnsupportedCriticalHeader {
                header: name.to_owned(),
            });
        }
        if find_text(&p.rest, name).is_none() {
            return Err(bad_header(
                NAME_CRIT,
                format!("lists {name:?}, which is absent"),
            ));
        }
    }
    let must_be_critical = [
        Some(HEADER_SIGNING_SCHEME),
        expiry.map(|_| HEADER_EXPIRY),
        find_text(&p.rest, HEADER_AUTHENTIC_SIGNING_TIME).map(|_| HEADER_AUTHENTIC_SIGNING_TIME),
    ];
    for name in must_be_critical.into_iter().flatten() {
        if !seen.contains(&name) {
            return Err(bad_header(NAME_CRIT, format!("must list {name}")));
        }
    }
    Ok((scheme, signing_time, expiry))
}

type UnprotectedFields = (Vec<Certificate>, Option<String>, Option<Vec<u8>>);

fn parse_unprotected(p: &Header, u: &Header) -> Result<UnprotectedFields> {
    let x5chain_label = Label::Int(LABEL_X5CHAIN);
    let x5chain = find(&u.rest, &x5chain_label)
        .or_else(|| find(&p.rest, &x5chain_label))
        .ok_or(Error::MissingHeader {
            header: NAME_X5CHAIN,
        })?;
    let ders = match x5chain {
        // RFC 9360: a single certificate may be a bare bstr.
        Value::Bytes(der) => vec![der.clone()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::Bytes(der) => Ok(der.clone()),
                _ => Err(bad_header(NAME_X5CHAIN, "entries must be byte strings")),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => {
            return Err(bad_header(
                NAME_X5CHAIN,
                "must be a byte string or a non-empty array of byte strings",
            ));
        }
    };
    let chain = certs::parse_chain(&ders)?;
    let signing_agent = match find_text(&u.rest, HEADER_SIGNING_AGENT) {
        None => None,
        Some(Value::Text(s)) => Some(s.clone()),
        Some(_) => return Err(bad_header(HEADER_SIGNING_AGENT, "not a text string")),
    };
    let timestamp = match find_text(&u.rest, HEADER_TIMESTAMP_SIGNATURE) {
        None => None,
        Some(Value::Bytes(b)) => Some(b.clone()),
        Some(_) => return Err(bad_header(HEADER_TIMESTAMP_SIGNATURE, "not a byte string")),
    };
    // Other unprotected headers (plugin vendor headers) are ignored.
    Ok((chain, signing_agent, timestamp))
}
