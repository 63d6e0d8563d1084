//! The crate's single error type: every refusal names the offending policy (by name, or by
//! position when it has none) and the field, in one line.

use std::time::SystemTime;

use crate::enforcement::Validation;

fn time(t: &SystemTime) -> String {
    signet_notation::rfc3339::format(*t).unwrap_or_else(|_| format!("{t:?}"))
}

/// Why a distinguished name (a trusted identity's `x509.subject` value) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnProblem {
    /// The DN has no RDN at all.
    Empty,
    /// An RDN is empty (two separators in a row, or a leading/trailing separator).
    EmptyRdn,
    /// An RDN has no `=` between attribute type and value.
    MissingEquals,
    /// An attribute type is neither a keyword (`[A-Za-z][A-Za-z0-9-]*`) nor a dotted OID.
    InvalidAttributeType {
        /// The attribute type as written.
        attribute: String,
    },
    /// An attribute value is empty.
    EmptyValue {
        /// The attribute type whose value is empty.
        attribute: String,
    },
    /// A `\` is followed by neither a special character nor two hex digits, or hex escapes do
    /// not form UTF-8.
    InvalidEscape,
    /// A `#`-prefixed (hex BER) value, which notation does not accept.
    HexValue {
        /// The attribute type whose value is hex-encoded.
        attribute: String,
    },
    /// A multi-valued RDN (`a=b+c=d`), which notation does not accept.
    MultiValuedRdn,
    /// The same attribute type appears twice.
    DuplicateAttribute {
        /// The repeated attribute type (normalised short name).
        attribute: String,
    },
    /// A mandatory attribute (`C`, `ST` or `O`) is missing from a trusted identity.
    MissingMandatory {
        /// The missing attribute type.
        attribute: &'static str,
    },
}

impl std::fmt::Display for DnProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("it has no RDN"),
            Self::EmptyRdn => f.write_str("it has an empty RDN"),
            Self::MissingEquals => f.write_str("an RDN has no '='"),
            Self::InvalidAttributeType { attribute } => {
                write!(f, "attribute type {attribute:?} is not a keyword or an OID")
            }
            Self::EmptyValue { attribute } => write!(f, "attribute {attribute} has an empty value"),
            Self::InvalidEscape => f.write_str("it has an invalid '\\' escape"),
            Self::HexValue { attribute } => {
                write!(
                    f,
                    "attribute {attribute} has a '#' hex value, which is not supported"
                )
            }
            Self::MultiValuedRdn => f.write_str("multi-valued RDNs ('+') are not supported"),
            Self::DuplicateAttribute { attribute } => {
                write!(f, "attribute {attribute} appears more than once")
            }
            Self::MissingMandatory { attribute } => write!(
                f,
                "mandatory attribute {attribute} is missing (C, ST and O are required)"
            ),
        }
    }
}

/// Every error of this crate.
///
/// `policy` fields hold the policy's name; a policy without a name is named by its position
/// (`#0`, `#1`, ...) in `trustPolicies`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The document is not JSON, or a field has the wrong JSON type.
    #[error("trust policy document is not valid: {message} (line {line}, column {column})")]
    Json {
        /// serde_json's description.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A top-level field the schema does not define.
    #[error("trust policy document has unknown field {field:?}")]
    UnknownDocumentField {
        /// The field name.
        field: String,
    },
    /// `version` is absent or empty.
    #[error("trust policy document has no version, \"version\" must be \"1.0\"")]
    MissingVersion,
    /// `version` is not `1.0`.
    #[error(
        "trust policy document has unsupported version {version:?}, \"version\" must be \"1.0\""
    )]
    UnsupportedVersion {
        /// The version found.
        version: String,
    },
    /// `trustPolicies` is absent or empty.
    #[error("trust policy document has no trust policy, \"trustPolicies\" must not be empty")]
    NoPolicies,
    /// A policy field the schema does not define (`field` is a path such as
    /// `signatureVerification.foo`).
    #[error("trust policy {policy:?} has unknown field {field:?}")]
    UnknownPolicyField {
        /// The policy.
        policy: String,
        /// Path of the unknown field.
        field: String,
    },
    /// A policy has no (or an empty) `name`.
    #[error("trust policy #{index} has no name, \"name\" is required")]
    MissingName {
        /// Position in `trustPolicies`.
        index: usize,
    },
    /// Two policies share a name.
    #[error(
        "trust policy name {policy:?} is used by more than one policy, \"name\" must be unique"
    )]
    DuplicateName {
        /// The repeated name.
        policy: String,
    },
    /// A required policy field is absent.
    #[error("trust policy {policy:?} has no {field:?}, it is required")]
    MissingField {
        /// The policy.
        policy: String,
        /// Path of the missing field.
        field: &'static str,
    },
    /// `registryScopes` is empty.
    #[error("trust policy {policy:?} has empty \"registryScopes\", at least one scope is required")]
    EmptyRegistryScopes {
        /// The policy.
        policy: String,
    },
    /// `"*"` is used together with other scopes.
    #[error(
        "trust policy {policy:?} combines the global scope \"*\" with other \"registryScopes\""
    )]
    GlobalScopeNotAlone {
        /// The policy.
        policy: String,
    },
    /// A scope other than `"*"` contains a wildcard.
    #[error(
        "trust policy {policy:?} has registry scope {scope:?} with a wildcard, only the single scope \"*\" may use one"
    )]
    WildcardScope {
        /// The policy.
        policy: String,
        /// The scope.
        scope: String,
    },
    /// A scope is not a fully qualified repository (`registry/namespace/repo`, no scheme, tag or
    /// digest).
    #[error(
        "trust policy {policy:?} has invalid registry scope {scope:?}, it must be a fully qualified repository such as registry.example.com/ns/repo without scheme, tag or digest"
    )]
    InvalidScope {
        /// The policy.
        policy: String,
        /// The scope.
        scope: String,
    },
    /// A scope is listed twice in one policy.
    #[error("trust policy {policy:?} lists registry scope {scope:?} more than once")]
    DuplicateScope {
        /// The policy.
        policy: String,
        /// The scope.
        scope: String,
    },
    /// A scope appears in two policies.
    #[error(
        "registry scope {scope:?} is in trust policies {first:?} and {second:?}, a scope may be in one policy only"
    )]
    ScopeInMultiplePolicies {
        /// The scope.
        scope: String,
        /// The first policy using it.
        first: String,
        /// The second policy using it.
        second: String,
    },
    /// Two policies use the global scope.
    #[error(
        "trust policies {first:?} and {second:?} both use the global scope \"*\", only one global policy is allowed"
    )]
    MultipleGlobalPolicies {
        /// The first global policy.
        first: String,
        /// The second global policy.
        second: String,
    },
    /// A `skip` policy uses the global scope.
    #[error(
        "trust policy {policy:?} has level \"skip\" with the global scope \"*\", skip needs fully qualified scopes"
    )]
    GlobalSkip {
        /// The policy.
        policy: String,
    },
    /// `signatureVerification.level` is not one of the four levels.
    #[error(
        "trust policy {policy:?} has invalid signatureVerification.level {level:?}, expected strict, permissive, audit or skip"
    )]
    InvalidLevel {
        /// The policy.
        policy: String,
        /// The level found.
        level: String,
    },
    /// `override` is used with level `skip`.
    #[error(
        "trust policy {policy:?} has signatureVerification.override with level \"skip\", skip cannot be customized"
    )]
    SkipOverridden {
        /// The policy.
        policy: String,
    },
    /// `override` names `integrity`.
    #[error(
        "trust policy {policy:?} overrides \"integrity\" in signatureVerification.override, integrity cannot be overridden"
    )]
    IntegrityOverridden {
        /// The policy.
        policy: String,
    },
    /// `override` names an unknown validation.
    #[error(
        "trust policy {policy:?} has unknown key {key:?} in signatureVerification.override, expected authenticity, authenticTimestamp, expiry or revocation"
    )]
    UnknownOverride {
        /// The policy.
        policy: String,
        /// The key.
        key: String,
    },
    /// `override` maps a validation to an action it does not accept.
    #[error(
        "trust policy {policy:?} has invalid action {action:?} for {key:?} in signatureVerification.override, expected {allowed}"
    )]
    InvalidOverrideAction {
        /// The policy.
        policy: String,
        /// The validation key.
        key: String,
        /// The action found.
        action: String,
        /// What the key accepts.
        allowed: &'static str,
    },
    /// `verifyTimestamp` is neither `always` nor `afterCertExpiry`.
    #[error(
        "trust policy {policy:?} has invalid signatureVerification.verifyTimestamp {value:?}, expected always or afterCertExpiry"
    )]
    InvalidVerifyTimestamp {
        /// The policy.
        policy: String,
        /// The value found.
        value: String,
    },
    /// A `skip` policy configures trust stores or trusted identities.
    #[error(
        "trust policy {policy:?} has level \"skip\" but sets {field:?}, remove it to skip verification"
    )]
    SkipWithTrust {
        /// The policy.
        policy: String,
        /// `trustStores` or `trustedIdentities`.
        field: &'static str,
    },
    /// A non-`skip` policy lacks trust stores or trusted identities.
    #[error(
        "trust policy {policy:?} has no {field:?}, it is required unless the level is \"skip\""
    )]
    MissingTrust {
        /// The policy.
        policy: String,
        /// `trustStores` or `trustedIdentities`.
        field: &'static str,
    },
    /// A `trustStores` entry is not `type:name`.
    #[error(
        "trust policy {policy:?} has malformed trustStores entry {entry:?}, expected <type>:<name>"
    )]
    MalformedTrustStore {
        /// The policy.
        policy: String,
        /// The entry.
        entry: String,
    },
    /// A `trustStores` entry has an unknown type.
    #[error(
        "trust policy {policy:?} has trustStores entry {entry:?} with unsupported type, expected ca, signingAuthority or tsa"
    )]
    UnknownTrustStoreType {
        /// The policy.
        policy: String,
        /// The entry.
        entry: String,
    },
    /// A `trustStores` entry has an invalid store name.
    #[error(
        "trust policy {policy:?} has trustStores entry {entry:?} with invalid name, it must match [a-zA-Z0-9_.-]+"
    )]
    InvalidTrustStoreName {
        /// The policy.
        policy: String,
        /// The entry.
        entry: String,
    },
    /// `"*"` is used together with other trusted identities.
    #[error("trust policy {policy:?} combines the wildcard \"*\" with other trustedIdentities")]
    WildcardIdentityNotAlone {
        /// The policy.
        policy: String,
    },
    /// A trusted identity is empty.
    #[error("trust policy {policy:?} has an empty trustedIdentities entry")]
    EmptyTrustedIdentity {
        /// The policy.
        policy: String,
    },
    /// A trusted identity is not `x509.subject: ...`.
    #[error(
        "trust policy {policy:?} has trustedIdentities entry {identity:?} of unsupported type, expected \"x509.subject: <DN>\" or \"*\""
    )]
    UnsupportedIdentity {
        /// The policy.
        policy: String,
        /// The entry.
        identity: String,
    },
    /// A trusted identity's DN is invalid.
    #[error("trust policy {policy:?} has invalid trustedIdentities entry {identity:?}: {problem}")]
    InvalidTrustedIdentity {
        /// The policy.
        policy: String,
        /// The entry.
        identity: String,
        /// What is wrong with its DN.
        problem: DnProblem,
    },
    /// Two trusted identities overlap (one's attributes are a subset of the other's).
    #[error("trust policy {policy:?} has overlapping trustedIdentities {first:?} and {second:?}")]
    OverlappingIdentities {
        /// The policy.
        policy: String,
        /// The identity contained in the other.
        first: String,
        /// The identity containing the first.
        second: String,
    },
    /// A DN parsed on its own is invalid.
    #[error("distinguished name {dn:?} is invalid: {problem}")]
    InvalidDistinguishedName {
        /// The DN as given.
        dn: String,
        /// What is wrong with it.
        problem: DnProblem,
    },
    /// The repository given to policy selection is not a fully qualified repository.
    #[error(
        "artifact repository {repository:?} is not a fully qualified repository such as registry.example.com/ns/repo (no scheme, tag or digest)"
    )]
    InvalidRepository {
        /// The repository given.
        repository: String,
    },
    /// No policy scope matches the repository and there is no global policy.
    #[error(
        "artifact repository {repository:?} has no applicable trust policy (no scope matches and no global \"*\" policy)"
    )]
    NoApplicablePolicy {
        /// The repository given.
        repository: String,
    },
    /// A validation result was recorded out of the spec order (or twice).
    #[error(
        "trust policy {policy:?}: validation {validation} recorded after {previous}, results must follow the spec order once each"
    )]
    ValidationOutOfOrder {
        /// The policy.
        policy: String,
        /// The validation recorded.
        validation: Validation,
        /// The validation recorded before it.
        previous: Validation,
    },
    /// A validation result was recorded after an enforced failure ended verification.
    #[error(
        "trust policy {policy:?}: validation {validation} recorded after an enforced failure ended verification"
    )]
    ValidationAfterStop {
        /// The policy.
        policy: String,
        /// The validation recorded.
        validation: Validation,
    },
    /// Timestamp verification is required but the envelope has no timestamp countersignature.
    #[error("no timestamp countersignature was found in the signature envelope")]
    TimestampMissing,
    /// The policy's `tsa` trust stores cannot be read.
    #[error("trust policy {policy:?}: cannot load its tsa trust stores: {reason}")]
    TsaTrustStore {
        /// The policy.
        policy: String,
        /// Why.
        reason: String,
    },
    /// The policy's `tsa` trust stores hold no certificate.
    #[error(
        "trust policy {policy:?}: no trusted TSA certificate was found in its tsa trust stores"
    )]
    NoTsaCertificates {
        /// The policy.
        policy: String,
    },
    /// The timestamp countersignature does not verify (token, TSA chain, TSA rules).
    #[error("failed to verify the timestamp countersignature: {reason}")]
    TimestampInvalid {
        /// Why.
        reason: String,
    },
    /// The TSA certificate chain failed the revocation check.
    #[error("the timestamping certificate chain failed the revocation check: {reason}")]
    TsaRevocation {
        /// Why.
        reason: String,
    },
    /// The timestamp range may begin before a signing certificate's validity.
    #[error(
        "timestamp {range} can be before certificate {subject:?} validity period, it will be valid from {}",
        time(not_before)
    )]
    TimestampBeforeValidity {
        /// The certificate's subject.
        subject: String,
        /// The timestamp range.
        range: String,
        /// The certificate's notBefore.
        not_before: SystemTime,
    },
    /// The timestamp range may end after a signing certificate's validity.
    #[error(
        "timestamp {range} can be after certificate {subject:?} validity period, it was expired at {}",
        time(not_after)
    )]
    TimestampAfterValidity {
        /// The certificate's subject.
        subject: String,
        /// The timestamp range.
        range: String,
        /// The certificate's notAfter.
        not_after: SystemTime,
    },
    /// Without timestamp verification: a signing certificate is not valid yet.
    #[error(
        "verification time is before certificate {subject:?} validity period, it will be valid from {}",
        time(not_before)
    )]
    CertificateNotYetValid {
        /// The certificate's subject.
        subject: String,
        /// The certificate's notBefore.
        not_before: SystemTime,
    },
    /// Without timestamp verification: a signing certificate has expired.
    #[error(
        "verification time is after certificate {subject:?} validity period, it was expired at {}",
        time(not_after)
    )]
    CertificateExpired {
        /// The certificate's subject.
        subject: String,
        /// The certificate's notAfter.
        not_after: SystemTime,
    },
    /// `notary.x509.signingAuthority`: a certificate was not valid at the authentic signing time.
    #[error(
        "certificate {subject:?} was not valid when the digital signature was produced at {}",
        time(signing_time)
    )]
    NotValidAtSigningTime {
        /// The certificate's subject.
        subject: String,
        /// The authentic signing time.
        signing_time: SystemTime,
    },
    /// Verification was finished while a required validation had no result.
    #[error(
        "trust policy {policy:?}: validation {validation} has no result, every validation that is not skipped must be recorded"
    )]
    ValidationNotRecorded {
        /// The policy.
        policy: String,
        /// The missing validation.
        validation: Validation,
    },
}
