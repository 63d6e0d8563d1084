//! The crate's single error type.

use crate::certs::CertRule;
use crate::timestamp::{FailureInfo, PkiStatus};

/// Everything that can go wrong building, parsing or verifying a Notary Project signature.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// JSON that should be a Notary object is not.
    #[error("invalid {what} JSON: {reason}")]
    Json {
        /// What was being read or written.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A structural rule of the JWS or COSE envelope is broken.
    #[error("invalid signature envelope: {reason}")]
    InvalidEnvelope {
        /// What is wrong.
        reason: String,
    },
    /// CBOR that should be a COSE object does not decode or encode.
    #[error("invalid {what} CBOR: {reason}")]
    Cbor {
        /// What was being read or written.
        what: &'static str,
        /// The decoder's or encoder's message.
        reason: String,
    },
    /// A layer media type names no envelope format this crate knows.
    #[error("unknown signature envelope media type {media_type:?}")]
    UnknownEnvelopeType {
        /// The media type.
        media_type: String,
    },
    /// A base64 field does not decode.
    #[error("invalid base64 in {field}: {reason}")]
    Base64 {
        /// The field.
        field: String,
        /// The decoder's message.
        reason: String,
    },
    /// A required header is missing.
    #[error("missing {header} header")]
    MissingHeader {
        /// The header name.
        header: &'static str,
    },
    /// A header has a value of the wrong type or an unsupported value.
    #[error("invalid {header} header: {reason}")]
    InvalidHeader {
        /// The header name.
        header: String,
        /// What is wrong.
        reason: String,
    },
    /// `crit` names a header this implementation does not understand.
    #[error("unsupported critical header {header:?}")]
    UnsupportedCriticalHeader {
        /// The header name.
        header: String,
    },
    /// The `alg` value (JWS name or COSE number) is not one the Notary Project allows.
    #[error(
        "unsupported signature algorithm {alg:?} (allowed: PS256/-37, PS384/-38, PS512/-39, ES256/-7, ES384/-35, ES512/-36)"
    )]
    UnsupportedAlgorithm {
        /// The value found.
        alg: String,
    },
    /// A key type has no Notary Project signature algorithm.
    #[error("unsupported key type {key_type} (allowed: RSA 2048/3072/4096, EC P-256/P-384/P-521)")]
    UnsupportedKey {
        /// The key type.
        key_type: signet_crypto::KeyType,
    },
    /// `alg` does not match the leaf certificate's key.
    #[error(
        "algorithm {alg} does not match the signing certificate's {key_type} key (expected {expected})"
    )]
    AlgorithmMismatch {
        /// The algorithm in the envelope or asked for.
        alg: String,
        /// The leaf key type.
        key_type: signet_crypto::KeyType,
        /// The algorithm that key requires.
        expected: String,
    },
    /// The envelope signature does not verify with the leaf certificate's key.
    #[error("the envelope signature does not verify with the signing certificate's key ({alg})")]
    BadSignature {
        /// The algorithm.
        alg: String,
    },
    /// The signer failed or produced something unusable.
    #[error("signing with {alg} failed: {reason}")]
    SigningFailed {
        /// The algorithm.
        alg: String,
        /// Why.
        reason: String,
    },
    /// A time cannot be represented or parsed.
    #[error("invalid time {value:?}: {reason}")]
    InvalidTime {
        /// The text or description of the value.
        value: String,
        /// Why.
        reason: String,
    },
    /// The certificate chain is empty.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// A certificate does not parse or its key is unusable.
    #[error("certificate {index} ({subject}): {reason}")]
    Certificate {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Its subject, or `?` when it does not parse.
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// A certificate breaks a Notary Project certificate requirement.
    #[error("certificate {index} ({subject}) breaks the Notary Project rule: {rule}")]
    CertificateRule {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Its subject.
        subject: String,
        /// The rule broken.
        rule: CertRule,
    },
    /// The payload's target does not match the artifact being verified.
    #[error("payload {field} {found:?} does not match the artifact's {expected:?}")]
    PayloadMismatch {
        /// `mediaType`, `digest` or `size`.
        field: &'static str,
        /// What the artifact has.
        expected: String,
        /// What the payload says.
        found: String,
    },
    /// Required user metadata is missing or different in the payload.
    #[error("payload metadata {key:?} is {found:?}, expected {expected:?}")]
    MetadataMismatch {
        /// The annotation key.
        key: String,
        /// The required value.
        expected: String,
        /// The payload's value, if any.
        found: Option<String>,
    },
    /// User metadata uses the reserved `io.cncf.notary` prefix.
    #[error("metadata key {key:?} uses the reserved io.cncf.notary prefix")]
    ReservedMetadataKey {
        /// The key.
        key: String,
    },
    /// A signature manifest does not have the Notary Project shape.
    #[error("invalid Notary signature manifest: {reason}")]
    InvalidManifest {
        /// What is wrong.
        reason: String,
    },
    /// The timestamp authority could not be reached or answered with an error (reported by
    /// the caller's [`crate::timestamp::Timestamper`]).
    #[error("timestamping failed: {reason}")]
    Timestamping {
        /// Why.
        reason: String,
    },
    /// The timestamp authority refused the request (PKIStatus other than granted).
    #[error(
        "the timestamp authority refused the request: status {} ({status}){}",
        status.code(),
        Error::failure_text(failure_info, status_text)
    )]
    TimestampRejected {
        /// The PKIStatus.
        status: PkiStatus,
        /// The PKIFailureInfo bits that are set.
        failure_info: Vec<FailureInfo>,
        /// The statusString texts.
        status_text: Vec<String>,
    },
    /// A timestamp request cannot be built.
    #[error("invalid timestamp request: {reason}")]
    InvalidTimestampRequest {
        /// Why.
        reason: String,
    },
    /// A TimeStampResp does not parse or does not answer the request that was sent.
    #[error("invalid timestamp response: {reason}")]
    InvalidTimestampResponse {
        /// Why.
        reason: String,
    },
    /// A TimeStampToken does not parse or breaks the RFC 3161 structure.
    #[error("invalid timestamp token: {reason}")]
    InvalidTimestampToken {
        /// Why.
        reason: String,
    },
    /// The token's messageImprint is not the hash of the signature it should timestamp.
    #[error("the timestamp token's messageImprint is not the {hash} hash of the signature")]
    TimestampImprintMismatch {
        /// The imprint's hash algorithm.
        hash: &'static str,
    },
    /// The token's CMS signature, signed attributes or signing-certificate binding do not verify.
    #[error("the timestamp token's signature does not verify: {reason}")]
    TimestampSignature {
        /// Why.
        reason: String,
    },
    /// The TSA certificate does not chain to a trusted TSA root at the time that matters.
    #[error("the timestamp authority is not trusted: {reason}")]
    UntrustedTimestampAuthority {
        /// Why.
        reason: String,
    },
    /// A certificate of the TSA chain breaks a Notary Project timestamping certificate rule.
    #[error("timestamping certificate {index} ({subject}) breaks the Notary Project rule: {rule}")]
    TsaCertificateRule {
        /// Position in the TSA chain (0 = the TSA's signing certificate).
        index: usize,
        /// Its subject.
        subject: String,
        /// The rule broken.
        rule: CertRule,
    },
    /// A certificate given as a trusted TSA root is not a self-signed root.
    #[error("TSA root certificate {subject} is not a root certificate: {reason}")]
    InvalidTsaRoot {
        /// Its subject.
        subject: String,
        /// Why.
        reason: String,
    },
    /// The envelope already carries a timestamp countersignature.
    #[error("the signature envelope already has a timestamp countersignature")]
    AlreadyTimestamped,
    /// Only `notary.x509` signatures are timestamped.
    #[error("only notary.x509 signatures take a timestamp countersignature, not {scheme}")]
    TimestampNotApplicable {
        /// The envelope's signing scheme.
        scheme: &'static str,
    },
    /// The manifest thumbprints do not match the envelope's certificate chain.
    #[error("manifest thumbprints {manifest:?} do not match the envelope chain {envelope:?}")]
    ThumbprintMismatch {
        /// Thumbprints in the manifest annotation.
        manifest: Vec<String>,
        /// Thumbprints of the envelope chain.
        envelope: Vec<String>,
    },
}

impl Error {
    /// Formats the failure information of a refused timestamp request.
    fn failure_text(failure_info: &[FailureInfo], status_text: &[String]) -> String {
        let mut out = String::new();
        if !failure_info.is_empty() {
            let infos: Vec<String> = failure_info.iter().map(ToString::to_string).collect();
            out.push_str(&format!("; failure info: {}", infos.join(", ")));
        }
        if !status_text.is_empty() {
            out.push_str(&format!("; status text: {:?}", status_text.join(" ")));
        }
        out
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
