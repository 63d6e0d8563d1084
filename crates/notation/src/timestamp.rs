//! RFC 3161 timestamp countersignatures for Notary Project signatures (pure): the request for
//! an envelope's signature bytes, the TSA's response, and the verification of the
//! TimeStampToken, following notation-core-go (requests) and tspclient-go (verification).
//!
//! **Request** ([`TimestampRequest`]): version 1, messageImprint = the hash of the signature
//! bytes with the hash of the envelope's algorithm (PS256/ES256 → SHA-256, PS384/ES384 →
//! SHA-384, PS512/ES512 → SHA-512; parameters NULL), the caller's nonce, certReq TRUE, no
//! policy. **Response** ([`TimestampResponse`]): PKIStatus granted (0) or grantedWithMods (1),
//! anything else is [`Error::TimestampRejected`] with the status and failure bits; the token
//! must answer the request (messageImprint, nonce, TSA certificate present).
//!
//! **Token** ([`TimestampToken`]): a CMS ContentInfo of SignedData (version 3) with
//! eContentType id-ct-TSTInfo. [`TimestampToken::verify`] does what tspclient-go's
//! `SignedToken.Verify` and notation-core-go's `ValidateTimestampingCertChain` do:
//!
//! * the signer's certificate is the one the ESS signing-certificate-v2 attribute names
//!   (issuerSerial, else the SignerInfo's issuerAndSerialNumber) and hashes (default SHA-256);
//!   a token without that attribute is refused (the ESS v1 attribute is not accepted,
//!   as upstream);
//! * a path from it through the token's certificates to one of the caller's TSA roots, every
//!   certificate valid at the given time (genTime when verifying a signature, now when
//!   signing), intermediates CAs with pathLenConstraint honoured, no unhandled critical
//!   extension, every extendedKeyUsage on the path allowing timeStamping (Go's nesting);
//! * the SignerInfo signature over the DER signed attributes (RSA PKCS#1 v1.5, RSASSA-PSS,
//!   ECDSA with SHA-256/384/512); contentType = id-ct-TSTInfo, messageDigest = the hash of the
//!   TSTInfo, signingTime (if present) inside every certificate's validity;
//! * the Notary Project timestamping certificate rules on the path
//!   ([`crate::certs::check_timestamping_chain`]): the TSA certificate's extendedKeyUsage is
//!   critical and id-kp-timeStamping only.
//!
//! The time a token proves is a range ([`Timestamp`]): genTime ± accuracy, where a token
//! without accuracy under the baseline policy (0.4.0.2023.1.1) counts as ±1 s and otherwise
//! as exact. genTime may carry fractional seconds; it must be UTC (`Z`).
//!
//! Only DER is accepted (tspclient-go converts BER tokens to DER first; signet does not).
//! Revocation of the TSA chain is the caller's (an optional hook when signing; the
//! trust-policy step in `signet-notation-policy` takes one too).

use std::fmt;
use std::time::{Duration, SystemTime};

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use sha2::Digest as _;
use signet_crypto::{CertSignatureAlgorithm, PublicKey};
use signet_pki::cert::Certificate;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};

use crate::jws::JwsAlgorithm;
use crate::{Error, Result, certs, rfc3339};

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo, the eContentType of a TimeStampToken.
pub const OID_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const OID_EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// The ETSI baseline time-stamp policy (RFC 3628): a token under it without accuracy is
/// accurate to one second.
pub const OID_BASELINE_TIMESTAMP_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");

/// How deep a TSA certificate path may go (leaf and root included).
const MAX_PATH: usize = 8;

// ---------------------------------------------------------------------------------------
// ASN.1 (RFC 3161, RFC 5035)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct MessageImprintAsn1 {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampReqAsn1 {
    version: u8,
    message_imprint: MessageImprintAsn1,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    #[asn1(optional = "true")]
    cert_req: Option<bool>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PkiStatusInfoAsn1 {
    status: i64,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TimeStampRespAsn1 {
    status: PkiStatusInfoAsn1,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct AccuracyAsn1 {
    #[asn1(optional = "true")]
    seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u64>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u64>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TstInfoAsn1 {
    version: i64,
    policy: ObjectIdentifier,
    message_imprint: MessageImprintAsn1,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<AccuracyAsn1>,
    #[asn1(optional = "true")]
    ordering: Option<bool>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    extensions: Option<Vec<x509_cert::ext::Extension>>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerialAsn1 {
    issuer: GeneralNames,
    serial_number: Int,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2Asn1 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerialAsn1>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2Asn1 {
    certs: Vec<EssCertIdV2Asn1>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

// ---------------------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------------------

/// A messageImprint hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The hash notation-core-go timestamps a signature of `alg` with: the hash of the
    /// signature algorithm.
    pub fn for_signature(alg: JwsAlgorithm) -> Self {
        match alg {
            JwsAlgorithm::Ps256 | JwsAlgorithm::Es256 => Self::Sha256,
            JwsAlgorithm::Ps384 | JwsAlgorithm::Es384 => Self::Sha384,
            JwsAlgorithm::Ps512 | JwsAlgorithm::Es512 => Self::Sha512,
        }
    }

    /// The name (`SHA-256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => OID_SHA256,
            Self::Sha384 => OID_SHA384,
            Self::Sha512 => OID_SHA512,
        }
    }

    /// The algorithm an OID names, if it is one of the three.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|h| h.oid() == *oid)
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn algorithm_identifier(hash: HashAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: hash.oid(),
        parameters: Some(Any::null()),
    }
}

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// A DER TimeStampReq for some content (normally an envelope's signature bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRequest {
    der: Vec<u8>,
    hash: HashAlgorithm,
    hashed_message: Vec<u8>,
    nonce: Vec<u8>,
}

impl TimestampRequest {
    /// A request over `content` hashed with `hash`, with `nonce` (big-endian unsigned, 1 to 64
    /// bytes; see [`random_nonce`]) and certReq TRUE.
    pub fn new(content: &[u8], hash: HashAlgorithm, nonce: &[u8]) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidTimestampRequest {
            reason: reason.to_owned(),
        };
        if nonce.is_empty() || nonce.len() > 64 {
            return Err(bad("the nonce must be 1 to 64 bytes"));
        }
        let hashed_message = hash.digest(content);
        let nonce_int = Uint::new(nonce).map_err(|e| bad(&e.to_string()))?;
        let asn1 = TimeStampReqAsn1 {
            version: 1,
            message_imprint: MessageImprintAsn1 {
                hash_algorithm: algorithm_identifier(hash),
                hashed_message: OctetString::new(hashed_message.clone())
                    .map_err(|e| bad(&e.to_string()))?,
            },
            req_policy: None,
            nonce: Some(nonce_int.clone()),
            cert_req: Some(true),
        };
        let der = asn1.to_der().map_err(|e| bad(&e.to_string()))?;
        Ok(TimestampRequest {
            der,
            hash,
            hashed_message,
            nonce: nonce_int.as_bytes().to_vec(),
        })
    }

    /// The request notation-core-go sends for a signature made with `alg`.
    pub fn for_signature(signature: &[u8], alg: JwsAlgorithm, nonce: &[u8]) -> Result<Self> {
        Self::new(signature, HashAlgorithm::for_signature(alg), nonce)
    }

    /// The DER bytes to send (`application/timestamp-query`).
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The messageImprint hash algorithm.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The messageImprint hash.
    pub fn hashed_message(&self) -> &[u8] {
        &self.hashed_message
    }

    /// The nonce (big-endian, leading zeros removed).
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }
}

/// A random 159-bit nonce, as tspclient-go makes (a positive INTEGER below 2^159).
pub fn random_nonce() -> Result<[u8; 20]> {
    let mut out = [0u8; 20];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| Error::InvalidTimestampRequest {
        reason: "the system random number generator failed".to_owned(),
    })?;
    out[0] &= 0x7f;
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// A PKIStatus (RFC 3161 section 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PkiStatus {
    /// 0: granted.
    Granted,
    /// 1: granted with modifications.
    GrantedWithMods,
    /// 2: rejection.
    Rejection,
    /// 3: waiting.
    Waiting,
    /// 4: revocation warning.
    RevocationWarning,
    /// 5: revocation notification.
    RevocationNotification,
    /// Any other value.
    Unknown(i64),
}

impl PkiStatus {
    /// The status for an INTEGER value.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Granted,
            1 => Self::GrantedWithMods,
            2 => Self::Rejection,
            3 => Self::Waiting,
            4 => Self::RevocationWarning,
            5 => Self::RevocationNotification,
            other => Self::Unknown(other),
        }
    }

    /// The INTEGER value.
    pub fn code(self) -> i64 {
        match self {
            Self::Granted => 0,
            Self::GrantedWithMods => 1,
            Self::Rejection => 2,
            Self::Waiting => 3,
            Self::RevocationWarning => 4,
            Self::RevocationNotification => 5,
            Self::Unknown(c) => c,
        }
    }

    /// True for granted and grantedWithMods: the response carries a token.
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Granted | Self::GrantedWithMods)
    }
}

impl fmt::Display for PkiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Granted => f.write_str("granted"),
            Self::GrantedWithMods => f.write_str("granted with modifications"),
            Self::Rejection => f.write_str("rejected"),
            Self::Waiting => f.write_str("waiting"),
            Self::RevocationWarning => f.write_str("revocation warning"),
            Self::RevocationNotification => f.write_str("revocation notification"),
            Self::Unknown(_) => f.write_str("unknown status"),
        }
    }
}

/// A PKIFailureInfo bit (RFC 3161 section 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureInfo {
    /// 0: unrecognized or unsupported algorithm.
    BadAlg,
    /// 2: transaction not permitted or supported.
    BadRequest,
    /// 5: the data submitted has the wrong format.
    BadDataFormat,
    /// 14: the TSA's time source is not available.
    TimeNotAvailable,
    /// 15: the requested policy is not supported.
    UnacceptedPolicy,
    /// 16: the requested extension is not supported.
    UnacceptedExtension,
    /// 17: the additional information requested is not available.
    AddInfoNotAvailable,
    /// 25: system failure.
    SystemFailure,
    /// Another bit.
    Other(u32),
}

impl FailureInfo {
    fn from_bit(bit: u32) -> Self {
        match bit {
            0 => Self::BadAlg,
            2 => Self::BadRequest,
            5 => Self::BadDataFormat,
            14 => Self::TimeNotAvailable,
            15 => Self::UnacceptedPolicy,
            16 => Self::UnacceptedExtension,
            17 => Self::AddInfoNotAvailable,
            25 => Self::SystemFailure,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for FailureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAlg => f.write_str("badAlg (unrecognized or unsupported algorithm)"),
            Self::BadRequest => f.write_str("badRequest (transaction not permitted or supported)"),
            Self::BadDataFormat => f.write_str("badDataFormat (the data has the wrong format)"),
            Self::TimeNotAvailable => {
                f.write_str("timeNotAvailable (the TSA's time source is not available)")
            }
            Self::UnacceptedPolicy => f.write_str("unacceptedPolicy"),
            Self::UnacceptedExtension => f.write_str("unacceptedExtension"),
            Self::AddInfoNotAvailable => f.write_str("addInfoNotAvailable"),
            Self::SystemFailure => f.write_str("systemFailure"),
            Self::Other(bit) => write!(f, "failure bit {bit}"),
        }
    }
}

/// A parsed DER TimeStampResp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampResponse {
    /// The PKIStatus.
    pub status: PkiStatus,
    /// The statusString texts.
    pub status_text: Vec<String>,
    /// The failInfo bits that are set.
    pub failure_info: Vec<FailureInfo>,
    token: Option<Vec<u8>>,
}

impl TimestampResponse {
    /// Parses a DER TimeStampResp (whatever its status).
    pub fn parse(der: &[u8]) -> Result<Self> {
        let asn1 =
            TimeStampRespAsn1::from_der(der).map_err(|e| Error::InvalidTimestampResponse {
                reason: format!("not a DER TimeStampResp: {e}"),
            })?;
        let mut failure_info = Vec::new();
        if let Some(bits) = &asn1.status.fail_info {
            for (i, set) in bits.bits().enumerate() {
                if set {
                    failure_info.push(FailureInfo::from_bit(u32::try_from(i).unwrap_or(u32::MAX)));
                }
            }
        }
        let token = asn1
            .time_stamp_token
            .map(|t| t.to_der())
            .transpose()
            .map_err(|e| Error::InvalidTimestampResponse {
                reason: e.to_string(),
            })?;
        Ok(TimestampResponse {
            status: PkiStatus::from_code(asn1.status.status),
            status_text: asn1.status.status_string.unwrap_or_default(),
            failure_info,
            token,
        })
    }

    /// The token's DER: an error naming the status and failure bits unless the status is
    /// granted or grantedWithMods.
    pub fn token_der(&self) -> Result<&[u8]> {
        if !self.status.is_granted() {
            return Err(Error::TimestampRejected {
                status: self.status,
                failure_info: self.failure_info.clone(),
                status_text: self.status_text.clone(),
            });
        }
        self.token
            .as_deref()
            .ok_or_else(|| Error::InvalidTimestampResponse {
                reason: format!("the status is {} but there is no token", self.status),
            })
    }

    /// Checks that the response answers `request` (tspclient-go's `Response.Validate`):
    /// status granted, a token whose messageImprint and nonce are the request's, and a TSA
    /// certificate in the token (certReq was TRUE). Returns the parsed token.
    pub fn validate(&self, request: &TimestampRequest) -> Result<TimestampToken> {
        let token = TimestampToken::parse(self.token_der()?)?;
        let bad = |reason: String| Error::InvalidTimestampResponse { reason };
        let info = token.info();
        if info.hash_algorithm() != Some(request.hash)
            || info.hashed_message != request.hashed_message
        {
            return Err(bad(
                "the token's messageImprint does not match the request".to_owned()
            ));
        }
        if info.nonce.as_deref() != Some(request.nonce()) {
            return Err(bad(format!(
                "the token's nonce {} does not match the request's {}",
                info.nonce.as_deref().map_or("(none)".to_owned(), hex),
                hex(request.nonce())
            )));
        }
        if !token
            .signer_infos
            .iter()
            .any(|si| token.signing_certificate(si).is_ok())
        {
            return Err(bad(
                "certReq was TRUE but the token holds no TSA signing certificate".to_owned(),
            ));
        }
        Ok(token)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// TSTInfo and the timestamp range
// ---------------------------------------------------------------------------------------

/// The time a token proves: `gen_time ± accuracy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// TSTInfo.genTime.
    pub gen_time: SystemTime,
    /// The accuracy (see the module docs for the baseline-policy rule).
    pub accuracy: Duration,
}

impl Timestamp {
    /// The earliest time the timestamp may mean.
    pub fn lower_limit(&self) -> SystemTime {
        self.gen_time
            .checked_sub(self.accuracy)
            .unwrap_or(self.gen_time)
    }

    /// The latest time the timestamp may mean.
    pub fn upper_limit(&self) -> SystemTime {
        self.gen_time
            .checked_add(self.accuracy)
            .unwrap_or(self.gen_time)
    }

    /// True when the whole range is at or after `t`.
    pub fn bounded_after(&self, t: SystemTime) -> bool {
        self.lower_limit() >= t
    }

    /// True when the whole range is at or before `t`.
    pub fn bounded_before(&self, t: SystemTime) -> bool {
        self.upper_limit() <= t
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = rfc3339::format(self.gen_time).unwrap_or_else(|_| format!("{:?}", self.gen_time));
        write!(f, "{at} ± {:?}", self.accuracy)
    }
}

/// A parsed TSTInfo (version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// The TSA policy OID (dotted).
    pub policy: String,
    /// The messageImprint hash algorithm OID (dotted).
    pub hash_oid: String,
    /// The messageImprint hash.
    pub hashed_message: Vec<u8>,
    /// The serial number (hex of the INTEGER's bytes).
    pub serial_hex: String,
    /// genTime.
    pub gen_time: SystemTime,
    /// The accuracy as written (`None` when absent).
    pub accuracy: Option<Duration>,
    /// ordering.
    pub ordering: bool,
    /// The nonce (big-endian, leading zeros removed), if any.
    pub nonce: Option<Vec<u8>>,
}

impl TstInfo {
    /// Parses DER TSTInfo.
    pub fn parse(der: &[u8]) -> Result<Self> {
        let bad = |reason: String| Error::InvalidTimestampToken { reason };
        let asn1 = TstInfoAsn1::from_der(der).map_err(|e| bad(format!("invalid TSTInfo: {e}")))?;
        if asn1.version != 1 {
            return Err(bad(format!(
                "TSTInfo version must be 1, not {}",
                asn1.version
            )));
        }
        let gen_time = parse_generalized_time(&asn1.gen_time)?;
        let accuracy = match &asn1.accuracy {
            None => None,
            Some(a) => {
                let secs = a.seconds.unwrap_or(0);
                let millis = a.millis.unwrap_or(0);
                let micros = a.micros.unwrap_or(0);
                Some(
                    Duration::from_secs(secs)
                        .checked_add(Duration::from_millis(millis))
                        .and_then(|d| d.checked_add(Duration::from_micros(micros)))
                        .ok_or_else(|| bad("accuracy out of range".to_owned()))?,
                )
            }
        };
        Ok(TstInfo {
            policy: asn1.policy.to_string(),
            hash_oid: asn1.message_imprint.hash_algorithm.oid.to_string(),
            hashed_message: asn1.message_imprint.hashed_message.as_bytes().to_vec(),
            serial_hex: hex(asn1.serial_number.as_bytes()),
            gen_time,
            accuracy,
            ordering: asn1.ordering.unwrap_or(false),
            nonce: asn1.nonce.as_ref().map(unsigned_bytes),
        })
    }

    /// The messageImprint hash algorithm, if it is SHA-256, SHA-384 or SHA-512.
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        self.hash_oid
            .parse::<ObjectIdentifier>()
            .ok()
            .and_then(|oid| HashAlgorithm::from_oid(&oid))
    }

    /// The timestamp range: explicit accuracy if any; none (or zero) under the baseline
    /// policy means one second; otherwise exact.
    pub fn timestamp(&self) -> Timestamp {
        let explicit = self.accuracy.unwrap_or_default();
        let accuracy =
            if explicit.is_zero() && self.policy == OID_BASELINE_TIMESTAMP_POLICY.to_string() {
                Duration::from_secs(1)
            } else {
                explicit
            };
        Timestamp {
            gen_time: self.gen_time,
            accuracy,
        }
    }

    /// Checks that the messageImprint is the hash of `message` (the signature bytes) and
    /// returns the timestamp range.
    pub fn validate(&self, message: &[u8]) -> Result<Timestamp> {
        let hash = self
            .hash_algorithm()
            .ok_or_else(|| Error::InvalidTimestampToken {
                reason: format!(
                    "unsupported messageImprint hash algorithm {}",
                    self.hash_oid
                ),
            })?;
        if hash.digest(message) != self.hashed_message {
            return Err(Error::TimestampImprintMismatch { hash: hash.name() });
        }
        Ok(self.timestamp())
    }
}

/// The magnitude of a (non-negative) INTEGER, leading zeros removed.
fn unsigned_bytes(i: &Int) -> Vec<u8> {
    let b = i.as_bytes();
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b[start..].to_vec()
}

/// `YYYYMMDDHHMMSS[.f]Z`, fractional seconds allowed (RFC 3161 genTime).
fn parse_generalized_time(any: &Any) -> Result<SystemTime> {
    let text = String::from_utf8_lossy(any.value()).into_owned();
    let bad = |reason: &str| Error::InvalidTimestampToken {
        reason: format!("invalid genTime {text:?}: {reason}"),
    };
    if any.tag() != Tag::GeneralizedTime {
        return Err(bad("not a GeneralizedTime"));
    }
    let b = text.as_bytes();
    if b.len() < 15 || !b[..14].iter().all(u8::is_ascii_digit) {
        return Err(bad("expected YYYYMMDDHHMMSS"));
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        b[r].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let mut rest = &b[14..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(bad("empty fraction"));
        }
        for (i, d) in frac[..n].iter().take(9).enumerate() {
            nanos += u32::from(d - b'0') * 10u32.pow(8 - u32::try_from(i).unwrap_or(8));
        }
        rest = &frac[n..];
    }
    if rest != b"Z" {
        return Err(bad("must be UTC (end in Z)"));
    }
    let month = u8::try_from(num(4..6))
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(|| bad("bad month"))?;
    let year = i32::try_from(num(0..4)).map_err(|_| bad("bad year"))?;
    let day = u8::try_from(num(6..8)).map_err(|_| bad("bad day"))?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad("bad date"))?;
    let tod = time::Time::from_hms(
        u8::try_from(num(8..10)).map_err(|_| bad("bad hour"))?,
        u8::try_from(num(10..12)).map_err(|_| bad("bad minute"))?,
        u8::try_from(num(12..14)).map_err(|_| bad("bad second"))?,
    )
    .map_err(|_| bad("bad time of day"))?;
    let secs = time::PrimitiveDateTime::new(date, tod)
        .assume_utc()
        .unix_timestamp();
    Ok(rfc3339::from_unix_seconds(secs) + Duration::from_nanos(u64::from(nanos)))
}

// ---------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------

/// A certificate of the token or a trusted root, with the decoded form for name matching.
#[derive(Clone)]
struct Node {
    cert: Certificate,
    x509: x509_cert::Certificate,
}

impl Node {
    fn from_certificate(cert: &Certificate) -> Result<Self> {
        let x509 = x509_cert::Certificate::from_der(cert.der()).map_err(|e| {
            Error::InvalidTimestampToken {
                reason: format!("certificate {}: {e}", cert.subject()),
            }
        })?;
        Ok(Node {
            cert: cert.clone(),
            x509,
        })
    }

    fn subject_der(&self) -> Vec<u8> {
        self.x509
            .tbs_certificate()
            .subject()
            .to_der()
            .unwrap_or_default()
    }

    fn issuer_der(&self) -> Vec<u8> {
        self.x509
            .tbs_certificate()
            .issuer()
            .to_der()
            .unwrap_or_default()
    }
}

/// A parsed, not yet verified, RFC 3161 TimeStampToken.
#[derive(Clone)]
pub struct TimestampToken {
    der: Vec<u8>,
    content: Vec<u8>,
    info: TstInfo,
    certificates: Vec<Node>,
    signer_infos: Vec<SignerInfo>,
}

impl fmt::Debug for TimestampToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimestampToken")
            .field("info", &self.info)
            .field("certificates", &self.certificates().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TimestampToken {
    /// Parses a DER TimeStampToken: ContentInfo → SignedData (version 3) with eContentType
    /// id-ct-TSTInfo and at least one SignerInfo.
    pub fn parse(der: &[u8]) -> Result<Self> {
        let bad = |reason: String| Error::InvalidTimestampToken { reason };
        let ci = ContentInfo::from_der(der)
            .map_err(|e| bad(format!("not a DER CMS ContentInfo: {e}")))?;
        if ci.content_type != OID_SIGNED_DATA {
            return Err(bad(format!(
                "content type {} is not id-signedData",
                ci.content_type
            )));
        }
        let sd: SignedData = ci
            .content
            .decode_as()
            .map_err(|e| bad(format!("invalid SignedData: {e}")))?;
        if sd.version != CmsVersion::V3 {
            return Err(bad(format!(
                "SignedData version must be 3, not {}",
                sd.version as u8
            )));
        }
        if sd.encap_content_info.econtent_type != OID_TST_INFO {
            return Err(bad(format!(
                "eContentType {} is not id-ct-TSTInfo",
                sd.encap_content_info.econtent_type
            )));
        }
        let econtent = sd
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or_else(|| bad("the TSTInfo content is missing".to_owned()))?;
        let content = econtent
            .decode_as::<OctetString>()
            .map_err(|e| bad(format!("eContent is not an OCTET STRING: {e}")))?
            .as_bytes()
            .to_vec();
        let info = TstInfo::parse(&content)?;
        let mut certificates = Vec::new();
        if let Some(set) = &sd.certificates {
            for choice in set.0.iter() {
                if let CertificateChoices::Certificate(x509) = choice {
                    let cert_der = x509
                        .to_der()
                        .map_err(|e| bad(format!("certificate: {e}")))?;
                    let cert = Certificate::from_der(&cert_der)
                        .map_err(|e| bad(format!("certificate: {e}")))?;
                    certificates.push(Node {
                        cert,
                        x509: x509.clone(),
                    });
                }
            }
        }
        let signer_infos: Vec<SignerInfo> = sd.signer_infos.0.iter().cloned().collect();
        if signer_infos.is_empty() {
            return Err(bad("no SignerInfo".to_owned()));
        }
        Ok(TimestampToken {
            der: der.to_vec(),
            content,
            info,
            certificates,
            signer_infos,
        })
    }

    /// The token's DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The TSTInfo.
    pub fn info(&self) -> &TstInfo {
        &self.info
    }

    /// The certificates the token carries.
    pub fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.certificates.iter().map(|n| &n.cert)
    }

    /// Verifies the token's signature and its TSA's chain to one of `tsa_roots`, the chain
    /// valid at `at` (see the module docs). Returns the TSA chain, TSA certificate first,
    /// root last.
    pub fn verify(&self, tsa_roots: &[Certificate], at: SystemTime) -> Result<Vec<Certificate>> {
        if tsa_roots.is_empty() {
            return Err(Error::UntrustedTimestampAuthority {
                reason: "no trusted TSA root certificate was given".to_owned(),
            });
        }
        let roots = tsa_roots
            .iter()
            .map(Node::from_certificate)
            .collect::<Result<Vec<_>>>()?;
        let mut last = None;
        for si in &self.signer_infos {
            match self.verify_signer(si, &roots, at) {
                Ok(chain) => return Ok(chain),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::InvalidTimestampToken {
            reason: "no SignerInfo".to_owned(),
        }))
    }

    fn verify_signer(
        &self,
        si: &SignerInfo,
        roots: &[Node],
        at: SystemTime,
    ) -> Result<Vec<Certificate>> {
        if si.version != CmsVersion::V1 {
            return Err(Error::TimestampSignature {
                reason: format!(
                    "SignerInfo version must be 1 (issuerAndSerialNumber), not {}",
                    si.version as u8
                ),
            });
        }
        let signer = self.signing_certificate(si)?;
        let chain = build_chain(signer, &self.certificates, roots, at)?;
        verify_signer_signature(si, &signer.cert)?;
        self.verify_signed_attributes(si, &chain)?;
        certs::check_timestamping_chain(&chain)?;
        Ok(chain)
    }

    /// The certificate the ESS signing-certificate-v2 attribute binds (tspclient-go's
    /// `SigningCertificate`).
    fn signing_certificate(&self, si: &SignerInfo) -> Result<&Node> {
        let bad = |reason: String| Error::TimestampSignature { reason };
        let attrs = si
            .signed_attrs
            .as_ref()
            .ok_or_else(|| bad("the SignerInfo has no signed attributes".to_owned()))?;
        let value = attribute(attrs, OID_SIGNING_CERTIFICATE_V2)?.ok_or_else(|| {
            bad("the signed attributes have no ESS signing-certificate-v2 attribute".to_owned())
        })?;
        let scv2: SigningCertificateV2Asn1 = value
            .decode_as()
            .map_err(|e| bad(format!("invalid signing-certificate-v2 attribute: {e}")))?;
        let id = scv2.certs.first().ok_or_else(|| {
            bad("the signing-certificate-v2 attribute names no certificate".to_owned())
        })?;
        let candidate = match &id.issuer_serial {
            Some(is) => {
                let issuer = is
                    .issuer
                    .iter()
                    .find_map(|g| match g {
                        GeneralName::DirectoryName(name) => Some(name),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        bad(
                            "the signing-certificate-v2 issuerSerial has no directory name"
                                .to_owned(),
                        )
                    })?;
                let serial = is.serial_number.to_der().unwrap_or_default();
                self.certificates.iter().find(|n| {
                    let tbs = n.x509.tbs_certificate();
                    tbs.issuer() == issuer
                        && tbs.serial_number().to_der().unwrap_or_default() == serial
                })
            }
            None => match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(isn) => {
                    self.certificates.iter().find(|n| {
                        let tbs = n.x509.tbs_certificate();
                        *tbs.issuer() == isn.issuer && *tbs.serial_number() == isn.serial_number
                    })
                }
                SignerIdentifier::SubjectKeyIdentifier(_) => {
                    return Err(bad(
                        "a SignerInfo identified by subjectKeyIdentifier is not supported"
                            .to_owned(),
                    ));
                }
            },
        };
        let node = candidate.ok_or_else(|| {
            bad("the TSA signing certificate is not in the timestamp token".to_owned())
        })?;
        let hash = match &id.hash_algorithm {
            None => HashAlgorithm::Sha256,
            Some(alg) => HashAlgorithm::from_oid(&alg.oid).ok_or_else(|| {
                bad(format!(
                    "unsupported signing-certificate-v2 hash algorithm {}",
                    alg.oid
                ))
            })?,
        };
        if hash.digest(node.cert.der()) != id.cert_hash.as_bytes() {
            return Err(bad(
                "the TSA certificate's hash does not match the signing-certificate-v2 certHash"
                    .to_owned(),
            ));
        }
        Ok(node)
    }

    fn verify_signed_attributes(&self, si: &SignerInfo, chain: &[Certificate]) -> Result<()> {
        let bad = |reason: String| Error::TimestampSignature { reason };
        let attrs = si
            .signed_attrs
            .as_ref()
            .ok_or_else(|| bad("missing signed attributes".to_owned()))?;
        let content_type: ObjectIdentifier = attribute(attrs, OID_CONTENT_TYPE)?
            .ok_or_else(|| bad("the signed attributes have no content-type".to_owned()))?
            .decode_as()
            .map_err(|e| bad(format!("invalid content-type attribute: {e}")))?;
        if content_type != OID_TST_INFO {
            return Err(bad(format!(
                "the content-type attribute {content_type} is not id-ct-TSTInfo"
            )));
        }
        let digest: OctetString = attribute(attrs, OID_MESSAGE_DIGEST)?
            .ok_or_else(|| bad("the signed attributes have no message-digest".to_owned()))?
            .decode_as()
            .map_err(|e| bad(format!("invalid message-digest attribute: {e}")))?;
        let hash = HashAlgorithm::from_oid(&si.digest_alg.oid).ok_or_else(|| {
            bad(format!(
                "unsupported digest algorithm {}",
                si.digest_alg.oid
            ))
        })?;
        if hash.digest(&self.content) != digest.as_bytes() {
            return Err(bad(
                "the message-digest attribute is not the hash of the TSTInfo".to_owned(),
            ));
        }
        if let Some(value) = attribute(attrs, OID_SIGNING_TIME)? {
            let t: x509_cert::time::Time = value
                .decode_as()
                .map_err(|e| bad(format!("invalid signing-time attribute: {e}")))?;
            let t = t.to_system_time();
            if let Some(cert) = chain
                .iter()
                .find(|c| t < c.not_before() || t > c.not_after())
            {
                return Err(bad(format!(
                    "the signing time {} is outside the validity of {}",
                    rfc3339::format(t).unwrap_or_default(),
                    cert.subject()
                )));
            }
        }
        Ok(())
    }
}

/// The first value of the signed attribute `oid`, if present.
fn attribute(attrs: &Attributes, oid: ObjectIdentifier) -> Result<Option<&Any>> {
    match attrs.iter().find(|a| a.oid == oid) {
        None => Ok(None),
        Some(a) => a
            .values
            .iter()
            .next()
            .map(Some)
            .ok_or_else(|| Error::TimestampSignature {
                reason: format!("the signed attribute {oid} has no value"),
            }),
    }
}

/// Verifies the SignerInfo signature over the DER SET OF signed attributes.
fn verify_signer_signature(si: &SignerInfo, signer: &Certificate) -> Result<()> {
    let bad = |reason: String| Error::TimestampSignature { reason };
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("missing signed attributes".to_owned()))?;
    let signed = attrs
        .to_der()
        .map_err(|e| bad(format!("signed attributes: {e}")))?;
    let key = signer
        .public_key()
        .map_err(|e| bad(format!("the TSA certificate's key: {e}")))?;
    let digest = HashAlgorithm::from_oid(&si.digest_alg.oid);
    let sig_oid = si.signature_algorithm.oid;
    let signature = si.signature.as_bytes();
    let pkcs1 = |h: Option<HashAlgorithm>| match h {
        Some(HashAlgorithm::Sha256) => Some(CertSignatureAlgorithm::RsaPkcs1Sha256),
        Some(HashAlgorithm::Sha384) => Some(CertSignatureAlgorithm::RsaPkcs1Sha384),
        Some(HashAlgorithm::Sha512) => Some(CertSignatureAlgorithm::RsaPkcs1Sha512),
        None => None,
    };
    let algorithm = if sig_oid == OID_RSA_ENCRYPTION {
        pkcs1(digest)
    } else if sig_oid == OID_SHA256_WITH_RSA {
        Some(CertSignatureAlgorithm::RsaPkcs1Sha256)
    } else if sig_oid == OID_SHA384_WITH_RSA {
        Some(CertSignatureAlgorithm::RsaPkcs1Sha384)
    } else if sig_oid == OID_SHA512_WITH_RSA {
        Some(CertSignatureAlgorithm::RsaPkcs1Sha512)
    } else if sig_oid == OID_ECDSA_SHA256 {
        Some(CertSignatureAlgorithm::EcdsaSha256)
    } else if sig_oid == OID_ECDSA_SHA384 {
        Some(CertSignatureAlgorithm::EcdsaSha384)
    } else if sig_oid == OID_ECDSA_SHA512 {
        Some(CertSignatureAlgorithm::EcdsaSha512)
    } else if sig_oid == OID_RSASSA_PSS {
        let hash = digest.ok_or_else(|| {
            bad(format!(
                "unsupported digest algorithm {}",
                si.digest_alg.oid
            ))
        })?;
        return verify_pss(&key, hash, &signed, signature)
            .map_err(|()| bad("the RSASSA-PSS signature does not verify".to_owned()));
    } else {
        None
    };
    let algorithm = algorithm.ok_or_else(|| {
        bad(format!(
            "unsupported signature algorithm {sig_oid} with digest {}",
            si.digest_alg.oid
        ))
    })?;
    key.verify_certificate_signature(algorithm, &signed, signature)
        .map_err(|_| bad("the signature over the signed attributes does not verify".to_owned()))
}

fn verify_pss(
    key: &PublicKey,
    hash: HashAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<(), ()> {
    let params: &'static aws_lc_rs::signature::RsaParameters = match hash {
        HashAlgorithm::Sha256 => &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
        HashAlgorithm::Sha384 => &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA384,
        HashAlgorithm::Sha512 => &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA512,
    };
    let spki = spki::SubjectPublicKeyInfoRef::from_der(key.to_spki_der()).map_err(|_| ())?;
    let pkcs1 = spki.subject_public_key.as_bytes().ok_or(())?;
    aws_lc_rs::signature::UnparsedPublicKey::new(params, pkcs1)
        .verify(message, signature)
        .map_err(|_| ())
}

// ---------------------------------------------------------------------------------------
// TSA chain building (Go's x509.Verify with ExtKeyUsageTimeStamping)
// ---------------------------------------------------------------------------------------

fn untrusted(reason: String) -> Error {
    Error::UntrustedTimestampAuthority { reason }
}

fn build_chain(
    leaf: &Node,
    intermediates: &[Node],
    roots: &[Node],
    at: SystemTime,
) -> Result<Vec<Certificate>> {
    let mut problems = Vec::new();
    if roots.iter().any(|r| r.cert == leaf.cert) {
        let path = vec![leaf.cert.clone()];
        return match check_path(&path, at) {
            Ok(()) => Ok(path),
            Err(e) => Err(untrusted(e)),
        };
    }
    let mut path = vec![leaf];
    if let Some(found) = search(&mut path, intermediates, roots, at, &mut problems) {
        return Ok(found);
    }
    Err(untrusted(match problems.len() {
        0 => format!(
            "the TSA certificate {} (issuer {}) does not chain to a trusted TSA root",
            leaf.cert.subject(),
            leaf.cert.issuer()
        ),
        _ => problems.join("; "),
    }))
}

fn search<'a>(
    path: &mut Vec<&'a Node>,
    intermediates: &'a [Node],
    roots: &'a [Node],
    at: SystemTime,
    problems: &mut Vec<String>,
) -> Option<Vec<Certificate>> {
    let current = *path.last()?;
    let issuer = current.issuer_der();
    let candidates = roots
        .iter()
        .map(|c| (c, true))
        .chain(intermediates.iter().map(|c| (c, false)));
    for (candidate, is_root) in candidates {
        if candidate.subject_der() != issuer || path.iter().any(|p| p.cert == candidate.cert) {
            continue;
        }
        if current.cert.verify_signed_by(&candidate.cert).is_err() {
            if is_root {
                problems.push(format!(
                    "{} is not signed by the trusted TSA root {}",
                    current.cert.subject(),
                    candidate.cert.subject()
                ));
            }
            continue;
        }
        path.push(candidate);
        if is_root {
            let certs: Vec<Certificate> = path.iter().map(|n| n.cert.clone()).collect();
            match check_path(&certs, at) {
                Ok(()) => return Some(certs),
                Err(e) => problems.push(e),
            }
        } else if path.len() < MAX_PATH
            && let Some(found) = search(path, intermediates, roots, at, problems)
        {
            return Some(found);
        }
        path.pop();
    }
    None
}

/// The checks Go's `x509.Verify` makes on a candidate path (leaf first, trusted root last).
fn check_path(path: &[Certificate], at: SystemTime) -> std::result::Result<(), String> {
    let time = |t: SystemTime| rfc3339::format(t).unwrap_or_else(|_| format!("{t:?}"));
    let last = path.len() - 1;
    for (k, cert) in path.iter().enumerate() {
        if at < cert.not_before() || at > cert.not_after() {
            return Err(format!(
                "certificate {} is not valid at {} (valid from {} to {})",
                cert.subject(),
                time(at),
                time(cert.not_before()),
                time(cert.not_after())
            ));
        }
        let unhandled = cert.unhandled_critical_extensions();
        if !unhandled.is_empty() {
            return Err(format!(
                "certificate {} has unhandled critical extensions {}",
                cert.subject(),
                unhandled.join(", ")
            ));
        }
        let ekus = cert
            .extended_key_usage()
            .map_err(|e| format!("certificate {}: {e}", cert.subject()))?;
        if let Some(ekus) = ekus
            && !ekus.is_empty()
            && !ekus
                .iter()
                .any(|o| *o == OID_EKU_TIME_STAMPING || *o == OID_EKU_ANY)
        {
            return Err(format!(
                "certificate {} has an extendedKeyUsage that does not allow timestamping",
                cert.subject()
            ));
        }
        if k > 0 && k < last {
            match cert
                .basic_constraints()
                .map_err(|e| format!("certificate {}: {e}", cert.subject()))?
            {
                Some((true, max)) => {
                    let below = path[1..k].iter().filter(|c| !c.is_self_issued()).count();
                    if let Some(max) = max
                        && below > usize::from(max)
                    {
                        return Err(format!(
                            "certificate {} allows {max} intermediate CAs below it, the path has {below}",
                            cert.subject()
                        ));
                    }
                }
                _ => {
                    return Err(format!(
                        "intermediate certificate {} is not a CA",
                        cert.subject()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks that `cert` is a root certificate (self-issued and self-signed), as notation
/// requires of `--timestamp-root-cert` and of the certificates in `tsa` trust stores.
pub fn check_tsa_root(cert: &Certificate) -> Result<()> {
    let bad = |reason: &str| Error::InvalidTsaRoot {
        subject: cert.subject(),
        reason: reason.to_owned(),
    };
    if !cert.is_self_issued() {
        return Err(bad("its issuer is not its subject"));
    }
    cert.verify_signed_by(cert)
        .map_err(|_| bad("it is not self-signed"))
}

// ---------------------------------------------------------------------------------------
// Verification and signing flows
// ---------------------------------------------------------------------------------------

/// A verified timestamp: the time range it proves and the TSA chain that signed it.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    /// genTime ± accuracy.
    pub timestamp: Timestamp,
    /// The TSA chain, TSA certificate first, trusted root last.
    pub tsa_chain: Vec<Certificate>,
}

/// Verifies a timestamp countersignature as notation-go does at verification time: the
/// token parses, its messageImprint is the hash of `signature`, and it verifies with a TSA
/// chain to one of `tsa_roots` (each a self-signed root) valid at genTime. Revocation of the
/// TSA chain is left to the caller.
pub fn verify_timestamp(
    token_der: &[u8],
    signature: &[u8],
    tsa_roots: &[Certificate],
) -> Result<VerifiedTimestamp> {
    let token = TimestampToken::parse(token_der)?;
    let timestamp = token.info().validate(signature)?;
    for root in tsa_roots {
        check_tsa_root(root)?;
    }
    let tsa_chain = token.verify(tsa_roots, timestamp.gen_time)?;
    Ok(VerifiedTimestamp {
        timestamp,
        tsa_chain,
    })
}

/// Sends a DER TimeStampReq to a timestamp authority and returns its DER TimeStampResp. The
/// CLI implements it over HTTP (POST, `application/timestamp-query` →
/// `application/timestamp-reply`).
pub trait Timestamper {
    /// Returns the response to `request_der`, or a one-line reason.
    fn timestamp(&self, request_der: &[u8]) -> std::result::Result<Vec<u8>, String>;
}

/// A check of the TSA chain's revocation status (`Err` with a one-line reason).
pub type RevocationCheck<'a> = &'a dyn Fn(&[Certificate]) -> std::result::Result<(), String>;

/// How to timestamp a signature when signing.
#[derive(Clone, Copy)]
pub struct TimestampOptions<'a> {
    /// The timestamp authority.
    pub timestamper: &'a dyn Timestamper,
    /// The trusted TSA roots (notation's `--timestamp-root-cert`: one self-signed root).
    pub tsa_roots: &'a [Certificate],
    /// The request nonce (see [`random_nonce`]).
    pub nonce: &'a [u8],
    /// The current time: the TSA chain must be valid then.
    pub now: SystemTime,
    /// An optional revocation check of the TSA chain (notation runs one when signing).
    pub check_tsa_revocation: Option<RevocationCheck<'a>>,
}

impl fmt::Debug for TimestampOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimestampOptions")
            .field("tsa_roots", &self.tsa_roots)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Obtains a timestamp token for `signature` (made with `alg`) as notation-core-go does when
/// signing: builds the request, sends it, checks the response answers it, verifies the token
/// with a TSA chain to one of the roots valid at `now`, the Notary Project timestamping
/// certificate rules, and the optional revocation check. Returns the token's DER (what goes
/// into `io.cncf.notary.timestampSignature`) and what it proves.
pub fn timestamp_signature(
    signature: &[u8],
    alg: JwsAlgorithm,
    options: &TimestampOptions<'_>,
) -> Result<(Vec<u8>, VerifiedTimestamp)> {
    if options.tsa_roots.is_empty() {
        return Err(Error::UntrustedTimestampAuthority {
            reason: "no TSA root certificate was given".to_owned(),
        });
    }
    for root in options.tsa_roots {
        check_tsa_root(root)?;
    }
    let request = TimestampRequest::for_signature(signature, alg, options.nonce)?;
    let response_der = options
        .timestamper
        .timestamp(request.to_der())
        .map_err(|reason| Error::Timestamping { reason })?;
    accept_response(
        &request,
        &response_der,
        signature,
        options.tsa_roots,
        options.now,
        options.check_tsa_revocation,
    )
}

/// The second half of [`timestamp_signature`] for callers that send the request themselves
/// (e.g. asynchronously): checks that `response_der` answers `request` for `signature`,
/// verifies the token with a TSA chain to one of `tsa_roots` (self-signed roots) valid at
/// `now` and the timestamping certificate rules, then runs the optional revocation check.
/// Returns the token's DER and what it proves.
pub fn accept_response(
    request: &TimestampRequest,
    response_der: &[u8],
    signature: &[u8],
    tsa_roots: &[Certificate],
    now: SystemTime,
    check_tsa_revocation: Option<RevocationCheck<'_>>,
) -> Result<(Vec<u8>, VerifiedTimestamp)> {
    if tsa_roots.is_empty() {
        return Err(Error::UntrustedTimestampAuthority {
            reason: "no TSA root certificate was given".to_owned(),
        });
    }
    for root in tsa_roots {
        check_tsa_root(root)?;
    }
    let response = TimestampResponse::parse(response_der)?;
    let token = response.validate(request)?;
    let timestamp = token.info().validate(signature)?;
    let tsa_chain = token.verify(tsa_roots, now)?;
    if let Some(check) = check_tsa_revocation {
        check(&tsa_chain).map_err(|reason| Error::UntrustedTimestampAuthority {
            reason: format!("TSA certificate chain revocation check: {reason}"),
        })?;
    }
    Ok((
        token.der().to_vec(),
        VerifiedTimestamp {
            timestamp,
            tsa_chain,
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn gt(s: &str) -> Result<SystemTime> {
        let any = Any::new(Tag::GeneralizedTime, s.as_bytes()).unwrap();
        parse_generalized_time(&any)
    }

    #[test]
    fn generalized_time_with_and_without_fraction() {
        let whole = gt("20261122073056Z").unwrap();
        assert_eq!(rfc3339::format(whole).unwrap(), "2026-11-22T07:30:56Z");
        let frac = gt("20261122073056.25Z").unwrap();
        assert_eq!(
            frac.duration_since(whole).unwrap(),
            Duration::from_millis(250)
        );
        for bad in [
            "20261122073056",
            "20261122073056+0100",
            "2026112207305Z",
            "20261322073056Z",
            "20261122073056.Z",
        ] {
            assert!(gt(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accuracy_rules() {
        let mut info = TstInfo {
            policy: "1.2.3".into(),
            hash_oid: OID_SHA256.to_string(),
            hashed_message: vec![],
            serial_hex: "01".into(),
            gen_time: SystemTime::UNIX_EPOCH + Duration::from_secs(100),
            accuracy: None,
            ordering: false,
            nonce: None,
        };
        assert_eq!(info.timestamp().accuracy, Duration::ZERO);
        info.policy = OID_BASELINE_TIMESTAMP_POLICY.to_string();
        assert_eq!(info.timestamp().accuracy, Duration::from_secs(1));
        info.accuracy = Some(Duration::from_millis(1500));
        let ts = info.timestamp();
        assert_eq!(ts.accuracy, Duration::from_millis(1500));
        assert!(ts.bounded_after(SystemTime::UNIX_EPOCH + Duration::from_millis(98_500)));
        assert!(!ts.bounded_after(SystemTime::UNIX_EPOCH + Duration::from_millis(98_501)));
        assert!(ts.bounded_before(SystemTime::UNIX_EPOCH + Duration::from_millis(101_500)));
        assert!(!ts.bounded_before(SystemTime::UNIX_EPOCH + Duration::from_millis(101_499)));
    }

    #[test]
    fn request_shape() {
        let req = TimestampRequest::new(b"sig", HashAlgorithm::Sha384, &[0, 0, 0x80, 1]).unwrap();
        assert_eq!(req.nonce(), [0x80, 1]);
        let back = TimeStampReqAsn1::from_der(req.to_der()).unwrap();
        assert_eq!(back.version, 1);
        assert_eq!(back.cert_req, Some(true));
        assert_eq!(back.message_imprint.hash_algorithm.oid, OID_SHA384);
        assert_eq!(
            back.message_imprint.hashed_message.as_bytes(),
            sha2::Sha384::digest(b"sig").as_slice()
        );
        assert!(TimestampRequest::new(b"sig", HashAlgorithm::Sha256, &[]).is_err());
        let n = random_nonce().unwrap();
        assert!(n[0] < 0x80);
    }
}
