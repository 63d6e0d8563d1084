//! The crate's one error type. Every variant carries typed fields and prints one line naming
//! what failed.

use crate::State;
use crate::Timestamp;
use crate::digest::HashAlgorithm;
use crate::product::ProductType;
use crate::request::Action;

/// Everything the workflow refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is not JSON at all (or not the expected JSON value).
    #[error("{what} is not valid JSON: {message}")]
    MalformedJson {
        /// What was being parsed ("product", "approval").
        what: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A product configuration field is missing, unknown or invalid.
    #[error("{path}: {message}")]
    InvalidProduct {
        /// Field path, e.g. `productOperations[0].token.keyType`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The product exists but may not be used for signing.
    #[error("product \"{product}\" cannot sign: {reason}")]
    ProductNotReady {
        /// Product name.
        product: String,
        /// Why (state, disabled).
        reason: String,
    },
    /// The product has no operation of that name.
    #[error("product \"{product}\" has no operation \"{operation}\"")]
    UnknownOperation {
        /// Product name.
        product: String,
        /// Operation name asked for.
        operation: String,
    },
    /// The actor is not in the operation's allowedGroups.
    #[error(
        "user {user} may not request operation \"{operation}\": not a member of its allowedGroups"
    )]
    NotAllowed {
        /// The actor.
        user: String,
        /// Operation name.
        operation: String,
    },
    /// The actor is not in the operation's approvalGroups.
    #[error(
        "user {user} may not decide requests for operation \"{operation}\": not a member of its approvalGroups"
    )]
    NotAnApprover {
        /// The actor.
        user: String,
        /// Operation name.
        operation: String,
    },
    /// The actor created the request or product change and tried to approve it.
    #[error("user {user} created {subject} and cannot approve it")]
    SelfApproval {
        /// The actor.
        user: String,
        /// The request or product-change id.
        subject: String,
    },
    /// The actor has already decided this request.
    #[error("user {user} has already decided {subject}")]
    AlreadyDecided {
        /// The actor.
        user: String,
        /// The request id.
        subject: String,
    },
    /// A rejection came without a reason.
    #[error("rejecting {subject} needs a reason")]
    ReasonRequired {
        /// The request or product-change id.
        subject: String,
    },
    /// The transition is not possible from the current state.
    #[error("{subject} cannot {action}: it is {state}")]
    InvalidTransition {
        /// The request or product-change id.
        subject: String,
        /// What was attempted.
        action: Action,
        /// The current state.
        state: State,
    },
    /// The request was not decided in time.
    #[error("request {request} expired at {expires_at}")]
    Expired {
        /// The request id.
        request: String,
        /// When it expired.
        expires_at: Timestamp,
    },
    /// Expiry was asked for before the deadline.
    #[error("request {request} does not expire before {expires_at}")]
    NotExpired {
        /// The request id.
        request: String,
        /// The deadline.
        expires_at: Timestamp,
    },
    /// The operation passed in is not the one the request targets.
    #[error("request {request} targets operation \"{expected}\", not \"{actual}\"")]
    OperationMismatch {
        /// The request id.
        request: String,
        /// The operation the request names.
        expected: String,
        /// The operation passed in.
        actual: String,
    },
    /// Signing was asked for a request without the approvals it needs.
    #[error("request {request} has {have} of the {need} approvals it needs")]
    InsufficientApprovals {
        /// The request id.
        request: String,
        /// Distinct approvers recorded.
        have: u32,
        /// Distinct approvers needed.
        need: u32,
    },
    /// The signature given to finish a request is empty.
    #[error("request {request} cannot be finished with an empty signature")]
    EmptySignature {
        /// The request id.
        request: String,
    },
    /// The digest is not base64.
    #[error("digest is not base64: {detail}")]
    DigestNotBase64 {
        /// The decoder's message.
        detail: String,
    },
    /// The digest has the wrong length for its hash algorithm.
    #[error("digest is {actual} bytes but {algorithm} digests are {expected}")]
    InvalidDigestSize {
        /// The declared algorithm.
        algorithm: HashAlgorithm,
        /// Its digest length.
        expected: usize,
        /// The decoded length.
        actual: usize,
    },
    /// A hash algorithm name signet does not support.
    #[error("{message}")]
    InvalidHashAlgorithm {
        /// e.g. `unknown hash algorithm "MD5"`.
        message: String,
    },
    /// The cosign payload is not a valid simple-signing payload.
    #[error("cosign payload is invalid: {reason}")]
    InvalidPayload {
        /// What is wrong.
        reason: String,
    },
    /// The payload's image is outside the operation's allowedRepositories.
    #[error("repository {repository} is not allowed for operation \"{operation}\" (allowed: {})", allowed.join(", "))]
    RepositoryNotAllowed {
        /// The repository of the payload's docker-reference.
        repository: String,
        /// Operation name.
        operation: String,
        /// The operation's allowedRepositories.
        allowed: Vec<String>,
    },
    /// A bare digest was submitted to an operation that restricts repositories.
    #[error(
        "operation \"{operation}\" restricts repositories, so it signs only cosign payloads (a bare digest names no image)"
    )]
    ImageIdentityRequired {
        /// Operation name.
        operation: String,
    },
    /// `optionalParameters` is not an array of one-property objects.
    #[error("optionalParameters: {reason}")]
    MalformedOptionalParameters {
        /// What is wrong with its shape.
        reason: String,
    },
    /// An optional parameter signet does not know.
    #[error(
        "optionalParameters: unknown parameter \"{parameter}\" (supported: hashAlgorithm, signaturePadding, saltLength, signatureEncoding, signatureFormat)"
    )]
    UnknownOptionalParameter {
        /// Its name (at most 64 characters).
        parameter: String,
    },
    /// A known optional parameter with a value signet does not support.
    #[error("optionalParameters: {parameter}: {reason}")]
    UnsupportedOptionalParameter {
        /// Its name.
        parameter: String,
        /// Why, naming the value.
        reason: String,
    },
    /// The actor may not create or change products.
    #[error("user {user} may not submit products: not a member of productWriterGroups")]
    NotAProductWriter {
        /// The actor.
        user: String,
    },
    /// The actor may not approve products of this type.
    #[error("user {user} may not decide {product_type} products: not a member of {groups}")]
    NotAProductApprover {
        /// The actor.
        user: String,
        /// The product's type.
        product_type: ProductType,
        /// The group list consulted (`productApprovalGroups` or `caApprovalGroups`).
        groups: &'static str,
    },
    /// A product change request that changes nothing.
    #[error("the change to product \"{product}\" changes nothing")]
    NoChange {
        /// Product name.
        product: String,
    },
    /// The audit chain does not verify.
    #[error("audit chain broken at entry {seq}: {reason}")]
    ChainBroken {
        /// The sequence number of the first bad entry (or where the missing one should be).
        seq: u64,
        /// What is wrong.
        reason: ChainBreak,
    },
}

/// Why an audit chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// The entry's sequence number is not the next one (removed or reordered entries).
    #[error("expected sequence number {expected}, found {found}")]
    SequenceGap {
        /// The sequence number that should come next.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// `prev_hash` is not the previous entry's hash.
    #[error("prev_hash does not match the previous entry's hash")]
    PrevHashMismatch,
    /// The stored hash is not the hash of the entry's contents.
    #[error("hash does not match the entry's contents")]
    HashMismatch,
    /// The entry is dated before its predecessor.
    #[error("time goes backwards ({at} before {previous})")]
    TimeWentBackwards {
        /// This entry's time.
        at: Timestamp,
        /// The previous entry's time.
        previous: Timestamp,
    },
}
