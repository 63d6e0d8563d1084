//! The crate's one error type. Payload errors carry containers/image's own message text after a
//! lower-case prefix, so callers can show what skopeo would show.

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- payload (containers/image `signature/simple.go`, `internal/json.go`) ----
    /// The payload is not valid JSON at all.
    #[error("invalid signature payload: {reason}")]
    PayloadJson {
        /// The JSON parser's message.
        reason: String,
    },
    /// A value that must be a JSON object is something else.
    #[error("invalid signature payload: JSON object expected, got \"{got}\"")]
    PayloadObjectExpected {
        /// What was found instead (Go's rendering of the token).
        got: String,
    },
    /// An object has a key that is not allowed there.
    #[error("invalid signature payload: Unknown key \"{key}\"")]
    PayloadUnknownKey {
        /// The key.
        key: String,
    },
    /// An object has the same key twice.
    #[error("invalid signature payload: Duplicate key \"{key}\"")]
    PayloadDuplicateKey {
        /// The key.
        key: String,
    },
    /// A mandatory key is missing.
    #[error("invalid signature payload: Key \"{key}\" missing in a JSON object")]
    PayloadMissingKey {
        /// The key.
        key: String,
    },
    /// A field has the wrong JSON type (Go's `UnmarshalTypeError` text).
    #[error(
        "invalid signature payload: json: cannot unmarshal {got} into Go value of type {expected}"
    )]
    PayloadFieldType {
        /// The field (`critical.type`, `optional.timestamp`, …).
        field: &'static str,
        /// The JSON type found (`number`, `string`, …).
        got: &'static str,
        /// The Go type expected (`string` or `float64`).
        expected: &'static str,
    },
    /// `critical.type` is not `atomic container signature`.
    #[error("invalid signature payload: Unrecognized signature type {signature_type}")]
    PayloadUnrecognizedType {
        /// The type found.
        signature_type: String,
    },
    /// `critical.image.docker-manifest-digest` is not a valid digest (go-digest rules).
    #[error("invalid signature payload: invalid docker-manifest-digest value {value:?}: {reason}")]
    PayloadInvalidDigest {
        /// The value found.
        value: String,
        /// go-digest's error text.
        reason: &'static str,
    },
    /// `optional.timestamp` is not an integral number (containers/image's text, typo included).
    #[error("invalid signature payload: Field optional.timestamp is not is not an integer")]
    PayloadTimestampNotInteger,
    /// Writing a payload with an empty digest or reference (containers/image refuses too).
    #[error(
        "cannot write a signature payload with an empty docker-manifest-digest or docker-reference"
    )]
    PayloadEmptyField,

    // ---- keys ----
    /// The secret key text could not be parsed.
    #[error("cannot parse the OpenPGP secret key: {reason}")]
    SecretKeyParse {
        /// rPGP's message.
        reason: String,
    },
    /// The secret key input does not hold exactly one key.
    #[error("expected exactly one OpenPGP secret key, found {count}")]
    SecretKeyCount {
        /// How many were found.
        count: usize,
    },
    /// The secret key is passphrase-protected and no passphrase was given.
    #[error("OpenPGP secret key {fingerprint} is protected by a passphrase, and none was given")]
    PassphraseRequired {
        /// The primary key fingerprint.
        fingerprint: String,
    },
    /// The passphrase does not unlock the secret key.
    #[error("wrong passphrase for OpenPGP secret key {fingerprint}")]
    WrongPassphrase {
        /// The primary key fingerprint.
        fingerprint: String,
    },
    /// The public key data could not be parsed.
    #[error("cannot parse OpenPGP public keys: {reason}")]
    KeyringParse {
        /// rPGP's message.
        reason: String,
    },
    /// No public key was found in the given data (containers/image: `No public keys imported`).
    #[error("no OpenPGP public keys found in the key data")]
    NoPublicKeys,

    // ---- signing ----
    /// The signing time is before 1970 or after 2106 (OpenPGP times are 32-bit seconds).
    #[error("the signing time cannot be represented in OpenPGP (32-bit seconds since 1970)")]
    SigningTimeOutOfRange,
    /// rPGP failed to produce the signature.
    #[error("OpenPGP signing with key {fingerprint} failed: {reason}")]
    Signing {
        /// The signing key fingerprint.
        fingerprint: String,
        /// rPGP's message.
        reason: String,
    },

    // ---- verification ----
    /// The signature blob is not a parseable OpenPGP message.
    #[error("cannot parse the OpenPGP signature: {reason}")]
    SignatureParse {
        /// rPGP's message.
        reason: String,
    },
    /// The message carries data but no signature.
    #[error("the OpenPGP message is not signed")]
    NotSigned,
    /// The message is encrypted; simple signatures never are.
    #[error("the OpenPGP message is encrypted, not signed")]
    Encrypted,
    /// Signed, but not (compressed) one literal data packet under the signature.
    #[error("unexpected OpenPGP message structure: {reason}")]
    UnexpectedStructure {
        /// What was found.
        reason: &'static str,
    },
    /// Not exactly one signature (containers/image: `Unexpected GPG signature count %d`).
    #[error("expected exactly one OpenPGP signature in the message, found {count}")]
    SignatureCount {
        /// How many were found.
        count: usize,
    },
    /// The signed data exceeds [`crate::openpgp::MAX_PAYLOAD_SIZE`].
    #[error("the signed payload is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The signature's issuer is not in the keyring (containers/image: `Key not found for key ID %x in signature`).
    #[error("signature by key ID {key_id} does not match any trusted key")]
    UnknownSigner {
        /// The issuer key ID from the signature (16 upper-case hex digits), or `unknown`.
        key_id: String,
    },
    /// The signature does not verify with the issuer's key.
    #[error("invalid OpenPGP signature by key {fingerprint}: {reason}")]
    BadSignature {
        /// The key tried.
        fingerprint: String,
        /// rPGP's message.
        reason: String,
    },
    /// The signature is not a document signature (type 0x00 binary or 0x01 text).
    #[error("OpenPGP signature type {signature_type} is not a document signature")]
    WrongSignatureType {
        /// The type as rPGP names it.
        signature_type: String,
    },
    /// The signature uses MD5, SHA-1 or RIPEMD-160.
    #[error("OpenPGP signature uses the weak hash algorithm {algorithm}")]
    WeakHash {
        /// The algorithm as rPGP names it.
        algorithm: String,
    },
    /// The signature has no creation time.
    #[error("OpenPGP signature has no creation time")]
    MissingCreationTime,
    /// The signature is older than its key (gpg: time conflict).
    #[error("OpenPGP signature by key {fingerprint} predates the key")]
    SignaturePredatesKey {
        /// The signing key.
        fingerprint: String,
    },
    /// The signature's own expiration time has passed.
    #[error("OpenPGP signature by key {fingerprint} expired at {expired_at} (unix time)")]
    SignatureExpired {
        /// The signing key.
        fingerprint: String,
        /// Expiry, seconds since 1970.
        expired_at: u64,
    },
    /// The key (primary, or the subkey used) has expired.
    #[error("OpenPGP key {fingerprint} expired at {expired_at} (unix time)")]
    KeyExpired {
        /// The expired key.
        fingerprint: String,
        /// Expiry, seconds since 1970.
        expired_at: u64,
    },
    /// The key (primary, or the subkey used) is revoked.
    #[error("OpenPGP key {fingerprint} is revoked")]
    KeyRevoked {
        /// The revoked key.
        fingerprint: String,
    },
    /// The primary key has no valid self-signature (gpg would not import it).
    #[error("OpenPGP key {fingerprint} has no valid self-signature")]
    KeyNotSelfSigned {
        /// The key.
        fingerprint: String,
    },
    /// A subkey signed, but it is not bound as a signing subkey (binding, signing flag, back signature).
    #[error("OpenPGP subkey {fingerprint} is not a valid signing subkey")]
    SubkeyNotForSigning {
        /// The subkey.
        fingerprint: String,
    },
}
