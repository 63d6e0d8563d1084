//! Verification levels, overrides and the action (enforce, log, skip) of each validation, plus
//! [`Outcome`], which folds validation results into a verdict in the spec's order: an enforced
//! failure ends verification, logged failures are kept and verification continues.
//!
//! Level table (Notary Project trust policy specification):
//!
//! | level      | integrity | authenticity | authenticTimestamp | expiry  | revocation |
//! |------------|-----------|--------------|--------------------|---------|------------|
//! | strict     | enforce   | enforce      | enforce            | enforce | enforce    |
//! | permissive | enforce   | enforce      | log                | log     | log        |
//! | audit      | enforce   | log          | log                | log     | log        |
//! | skip       | skip      | skip         | skip               | skip    | skip       |

use crate::document::TrustPolicy;
use crate::error::Error;

/// A predefined verification level (`signatureVerification.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Every validation enforced.
    Strict,
    /// Integrity and authenticity enforced; the others logged.
    Permissive,
    /// Integrity enforced; the others logged.
    Audit,
    /// No signature is fetched or verified.
    Skip,
}

impl Level {
    /// All levels.
    pub const ALL: [Level; 4] = [Level::Strict, Level::Permissive, Level::Audit, Level::Skip];

    /// The name used in the policy document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Permissive => "permissive",
            Self::Audit => "audit",
            Self::Skip => "skip",
        }
    }

    /// Parses a level name (case-sensitive, as notation).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The level's action for a validation, before overrides.
    pub fn action(self, validation: Validation) -> Action {
        use Action::{Enforce, Log, Skip};
        match (self, validation) {
            (Self::Skip, _) => Skip,
            (_, Validation::Integrity) | (Self::Strict, _) => Enforce,
            (Self::Permissive, Validation::Authenticity) => Enforce,
            (Self::Permissive | Self::Audit, _) => Log,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One validation of signature verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Validation {
    /// The artifact and signature are unaltered.
    Integrity,
    /// The signature comes from a trusted identity.
    Authenticity,
    /// The signature expiry (optional signed attribute) has not passed.
    Expiry,
    /// The signature was made while the signing chain was valid.
    AuthenticTimestamp,
    /// The signing identity is not revoked.
    Revocation,
}

impl Validation {
    /// The order in which the spec's verification steps run the validations (integrity,
    /// authenticity, expiry, authentic timestamp, revocation); [`Outcome`] requires it.
    pub const SPEC_ORDER: [Validation; 5] = [
        Validation::Integrity,
        Validation::Authenticity,
        Validation::Expiry,
        Validation::AuthenticTimestamp,
        Validation::Revocation,
    ];

    /// The key used in `signatureVerification.override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integrity => "integrity",
            Self::Authenticity => "authenticity",
            Self::Expiry => "expiry",
            Self::AuthenticTimestamp => "authenticTimestamp",
            Self::Revocation => "revocation",
        }
    }

    /// Parses an override key (case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::SPEC_ORDER.into_iter().find(|v| v.as_str() == name)
    }

    fn position(self) -> usize {
        match self {
            Self::Integrity => 0,
            Self::Authenticity => 1,
            Self::Expiry => 2,
            Self::AuthenticTimestamp => 3,
            Self::Revocation => 4,
        }
    }
}

impl std::fmt::Display for Validation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failure of a validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A failure fails verification and ends it.
    Enforce,
    /// A failure is logged; verification continues.
    Log,
    /// The validation is not performed.
    Skip,
}

impl Action {
    /// The name used in `signatureVerification.override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Log => "log",
            Self::Skip => "skip",
        }
    }

    /// Parses an action name (case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Enforce, Self::Log, Self::Skip]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validated `override` map: only the overridable validations, only allowed actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overrides {
    /// `authenticity`: enforce or log.
    pub authenticity: Option<Action>,
    /// `authenticTimestamp`: enforce or log.
    pub authentic_timestamp: Option<Action>,
    /// `expiry`: enforce or log.
    pub expiry: Option<Action>,
    /// `revocation`: enforce, log or skip.
    pub revocation: Option<Action>,
}

impl Overrides {
    /// The override for a validation, if any (`integrity` never has one).
    pub fn get(&self, validation: Validation) -> Option<Action> {
        match validation {
            Validation::Integrity => None,
            Validation::Authenticity => self.authenticity,
            Validation::Expiry => self.expiry,
            Validation::AuthenticTimestamp => self.authentic_timestamp,
            Validation::Revocation => self.revocation,
        }
    }

    /// True when no validation is overridden.
    pub fn is_empty(&self) -> bool {
        Validation::SPEC_ORDER
            .iter()
            .all(|v| self.get(*v).is_none())
    }
}

/// `signatureVerification.verifyTimestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerifyTimestamp {
    /// Always verify the timestamp countersignature, which must then be present (the
    /// default; only when the policy names a `tsa:` store, see [`crate::timestamp`]).
    #[default]
    Always,
    /// Verify it only when a certificate of the signing chain has expired at verification
    /// time; otherwise the chain must be valid at verification time.
    AfterCertExpiry,
}

impl VerifyTimestamp {
    /// The name used in the policy document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::AfterCertExpiry => "afterCertExpiry",
        }
    }
}

/// A policy's validated `signatureVerification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureVerification {
    pub(crate) level: Level,
    pub(crate) overrides: Overrides,
    pub(crate) verify_timestamp: VerifyTimestamp,
}

impl SignatureVerification {
    /// The base level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The overrides (empty for `skip`).
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// The `verifyTimestamp` option (default `always`).
    pub fn verify_timestamp(&self) -> VerifyTimestamp {
        self.verify_timestamp
    }

    /// The action of a validation: the override if any, else the level's.
    pub fn action(&self, validation: Validation) -> Action {
        self.overrides
            .get(validation)
            .unwrap_or_else(|| self.level.action(validation))
    }
}

/// A validation failure with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The validation that failed.
    pub validation: Validation,
    /// Why it failed.
    pub reason: String,
}

/// Whether to go on after recording a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Run the next validation.
    Continue,
    /// An enforced failure ended verification; run no more validations.
    Stop,
}

/// The result of verifying one signature against a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The policy's level was `skip`: nothing was verified and the artifact is accepted.
    pub skipped: bool,
    /// The enforced failure that failed verification, if any.
    pub failure: Option<Failure>,
    /// Failures of logged validations, in order.
    pub logged: Vec<Failure>,
}

impl Verdict {
    /// True when no enforced validation failed.
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }
}

/// Accumulates validation results for one signature under one policy.
///
/// Record results in [`Validation::SPEC_ORDER`], each at most once, skipping those for which
/// [`Outcome::should_run`] is false; stop at [`Flow::Stop`]; then [`Outcome::finish`].
#[derive(Debug, Clone)]
pub struct Outcome {
    policy: String,
    verification: SignatureVerification,
    last: Option<Validation>,
    recorded: [bool; 5],
    failure: Option<Failure>,
    logged: Vec<Failure>,
}

impl Outcome {
    /// Starts an outcome for a policy.
    pub fn new(policy: &TrustPolicy) -> Self {
        Self::with_verification(policy.name(), *policy.signature_verification())
    }

    /// Starts an outcome from a policy name and its signature verification settings.
    pub fn with_verification(policy: &str, verification: SignatureVerification) -> Self {
        Self {
            policy: policy.to_owned(),
            verification,
            last: None,
            recorded: [false; 5],
            failure: None,
            logged: Vec::new(),
        }
    }

    /// The action of a validation under this outcome's policy.
    pub fn action(&self, validation: Validation) -> Action {
        self.verification.action(validation)
    }

    /// True when the validation must be performed now: verification has not stopped and the
    /// validation is not skipped.
    pub fn should_run(&self, validation: Validation) -> bool {
        self.failure.is_none() && self.action(validation) != Action::Skip
    }

    /// Records a validation's result (`Err(reason)` for a failure). The result of a skipped
    /// validation is ignored. Errors when out of order, repeated, after [`Flow::Stop`], or when an
    /// earlier validation that is not skipped has no result.
    pub fn record(
        &mut self,
        validation: Validation,
        result: Result<(), String>,
    ) -> Result<Flow, Error> {
        if self.failure.is_some() {
            return Err(Error::ValidationAfterStop {
                policy: self.policy.clone(),
                validation,
            });
        }
        if let Some(previous) = self.last
            && validation.position() <= previous.position()
        {
            return Err(Error::ValidationOutOfOrder {
                policy: self.policy.clone(),
                validation,
                previous,
            });
        }
        if let Some(missing) = self.first_missing(validation.position()) {
            return Err(Error::ValidationNotRecorded {
                policy: self.policy.clone(),
                validation: missing,
            });
        }
        self.last = Some(validation);
        self.recorded[validation.position()] = true;
        let Err(reason) = result else {
            return Ok(Flow::Continue);
        };
        let failure = Failure { validation, reason };
        match self.action(validation) {
            Action::Skip => Ok(Flow::Continue),
            Action::Log => {
                self.logged.push(failure);
                Ok(Flow::Continue)
            }
            Action::Enforce => {
                self.failure = Some(failure);
                Ok(Flow::Stop)
            }
        }
    }

    /// The first validation before position `end` that is not skipped and has no result.
    fn first_missing(&self, end: usize) -> Option<Validation> {
        Validation::SPEC_ORDER[..end]
            .iter()
            .copied()
            .find(|v| !self.recorded[v.position()] && self.action(*v) != Action::Skip)
    }

    /// The verdict. Errors when verification did not stop and a validation that is not
    /// skipped has no result.
    pub fn finish(self) -> Result<Verdict, Error> {
        let skipped = self.verification.level == Level::Skip;
        if self.failure.is_none()
            && let Some(missing) = self.first_missing(Validation::SPEC_ORDER.len())
        {
            return Err(Error::ValidationNotRecorded {
                policy: self.policy,
                validation: missing,
            });
        }
        Ok(Verdict {
            skipped,
            failure: self.failure,
            logged: self.logged,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Enforce, Log, Skip};
    use Validation::{AuthenticTimestamp, Authenticity, Expiry, Integrity, Revocation};

    fn sv(level: Level, overrides: Overrides) -> SignatureVerification {
        SignatureVerification {
            level,
            overrides,
            verify_timestamp: VerifyTimestamp::Always,
        }
    }

    fn row(v: &SignatureVerification) -> [Action; 5] {
        [
            Integrity,
            Authenticity,
            AuthenticTimestamp,
            Expiry,
            Revocation,
        ]
        .map(|x| v.action(x))
    }

    #[test]
    fn level_table() {
        let none = Overrides::default();
        assert_eq!(row(&sv(Level::Strict, none)), [Enforce; 5]);
        assert_eq!(
            row(&sv(Level::Permissive, none)),
            [Enforce, Enforce, Log, Log, Log]
        );
        assert_eq!(row(&sv(Level::Audit, none)), [Enforce, Log, Log, Log, Log]);
        assert_eq!(row(&sv(Level::Skip, none)), [Skip; 5]);
    }

    #[test]
    fn every_override_on_every_level() {
        let cases: [(Validation, &[Action]); 4] = [
            (Authenticity, &[Enforce, Log]),
            (AuthenticTimestamp, &[Enforce, Log]),
            (Expiry, &[Enforce, Log]),
            (Revocation, &[Enforce, Log, Skip]),
        ];
        for level in [Level::Strict, Level::Permissive, Level::Audit] {
            for (validation, actions) in cases {
                for action in actions {
                    let mut o = Overrides::default();
                    match validation {
                        Authenticity => o.authenticity = Some(*action),
                        AuthenticTimestamp => o.authentic_timestamp = Some(*action),
                        Expiry => o.expiry = Some(*action),
                        Revocation => o.revocation = Some(*action),
                        Integrity => unreachable!(),
                    }
                    let v = sv(level, o);
                    for other in Validation::SPEC_ORDER {
                        let expected = if other == validation {
                            *action
                        } else {
                            level.action(other)
                        };
                        assert_eq!(v.action(other), expected, "{level} {validation}={action}");
                    }
                    assert_eq!(v.action(Integrity), Enforce);
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::from_name(l.as_str()), Some(l));
        }
        for v in Validation::SPEC_ORDER {
            assert_eq!(Validation::from_name(v.as_str()), Some(v));
        }
        for a in [Enforce, Log, Skip] {
            assert_eq!(Action::from_name(a.as_str()), Some(a));
        }
        assert_eq!(Level::from_name("Strict"), None);
        assert_eq!(Validation::from_name("authentictimestamp"), None);
        assert_eq!(Action::from_name("Enforce"), None);
    }

    fn fail(reason: &str) -> Result<(), String> {
        Err(reason.to_owned())
    }

    #[test]
    fn all_pass_is_success() {
        let mut o = Outcome::with_verification("p", sv(Level::Strict, Overrides::default()));
        for v in Validation::SPEC_ORDER {
            assert!(o.should_run(v));
            assert_eq!(o.record(v, Ok(())).unwrap(), Flow::Continue);
        }
        let verdict = o.finish().unwrap();
        assert!(verdict.is_success());
        assert!(!verdict.skipped);
        assert!(verdict.logged.is_empty());
    }

    #[test]
    fn enforced_failure_stops() {
        let mut o = Outcome::with_verification("p", sv(Level::Permissive, Overrides::default()));
        assert_eq!(o.record(Integrity, Ok(())).unwrap(), Flow::Continue);
        assert_eq!(
            o.record(Authenticity, fail("untrusted")).unwrap(),
            Flow::Stop
        );
        assert!(!o.should_run(Expiry));
        let err = o.clone().record(Expiry, Ok(())).unwrap_err();
        assert_eq!(
            err,
            Error::ValidationAfterStop {
                policy: "p".into(),
                validation: Expiry
            }
        );
        let verdict = o.finish().unwrap();
        assert!(!verdict.is_success());
        assert_eq!(
            verdict.failure,
            Some(Failure {
                validation: Authenticity,
                reason: "untrusted".into()
            })
        );
    }

    #[test]
    fn logged_failures_continue() {
        let mut o = Outcome::with_verification("p", sv(Level::Audit, Overrides::default()));
        o.record(Integrity, Ok(())).unwrap();
        assert_eq!(o.record(Authenticity, fail("a")).unwrap(), Flow::Continue);
        assert_eq!(o.record(Expiry, fail("e")).unwrap(), Flow::Continue);
        o.record(AuthenticTimestamp, Ok(())).unwrap();
        assert_eq!(o.record(Revocation, fail("r")).unwrap(), Flow::Continue);
        let verdict = o.finish().unwrap();
        assert!(verdict.is_success());
        let logged: Vec<_> = verdict.logged.iter().map(|f| f.validation).collect();
        assert_eq!(logged, [Authenticity, Expiry, Revocation]);
    }

    #[test]
    fn logged_then_enforced() {
        let o = Overrides {
            expiry: Some(Log),
            ..Overrides::default()
        };
        let mut out = Outcome::with_verification("p", sv(Level::Strict, o));
        out.record(Integrity, Ok(())).unwrap();
        out.record(Authenticity, Ok(())).unwrap();
        assert_eq!(out.record(Expiry, fail("expired")).unwrap(), Flow::Continue);
        assert_eq!(
            out.record(AuthenticTimestamp, fail("outside validity"))
                .unwrap(),
            Flow::Stop
        );
        let verdict = out.finish().unwrap();
        assert_eq!(verdict.logged.len(), 1);
        assert_eq!(
            verdict.failure.map(|f| f.validation),
            Some(AuthenticTimestamp)
        );
    }

    #[test]
    fn integrity_failure_always_fails() {
        for level in [Level::Strict, Level::Permissive, Level::Audit] {
            let mut o = Outcome::with_verification("p", sv(level, Overrides::default()));
            assert_eq!(o.record(Integrity, fail("bad")).unwrap(), Flow::Stop);
            assert!(!o.finish().unwrap().is_success());
        }
    }

    #[test]
    fn skipped_revocation_need_not_be_recorded() {
        let o = Overrides {
            revocation: Some(Skip),
            ..Overrides::default()
        };
        let mut out = Outcome::with_verification("p", sv(Level::Strict, o));
        assert!(!out.should_run(Revocation));
        for v in [Integrity, Authenticity, Expiry, AuthenticTimestamp] {
            out.record(v, Ok(())).unwrap();
        }
        assert!(out.clone().finish().unwrap().is_success());
        // A result for a skipped validation is ignored.
        assert_eq!(out.record(Revocation, fail("x")).unwrap(), Flow::Continue);
        assert!(out.finish().unwrap().is_success());
    }

    #[test]
    fn skip_level_succeeds_without_results() {
        let out = Outcome::with_verification("p", sv(Level::Skip, Overrides::default()));
        for v in Validation::SPEC_ORDER {
            assert!(!out.should_run(v));
        }
        let verdict = out.finish().unwrap();
        assert!(verdict.skipped && verdict.is_success());
    }

    #[test]
    fn missing_results_are_refused() {
        let mut o = Outcome::with_verification("prod", sv(Level::Audit, Overrides::default()));
        o.record(Integrity, Ok(())).unwrap();
        o.record(Authenticity, Ok(())).unwrap();
        let err = o.finish().unwrap_err();
        assert_eq!(
            err,
            Error::ValidationNotRecorded {
                policy: "prod".into(),
                validation: Expiry
            }
        );
        assert!(err.to_string().contains("\"prod\""));
        let o = Outcome::with_verification("p", sv(Level::Strict, Overrides::default()));
        assert!(matches!(
            o.finish(),
            Err(Error::ValidationNotRecorded {
                validation: Integrity,
                ..
            })
        ));
    }

    #[test]
    fn out_of_order_and_repeats_are_refused() {
        let mut o = Outcome::with_verification("p", sv(Level::Strict, Overrides::default()));
        o.record(Integrity, Ok(())).unwrap();
        o.record(Authenticity, Ok(())).unwrap();
        assert_eq!(
            o.clone().record(Integrity, Ok(())).unwrap_err(),
            Error::ValidationOutOfOrder {
                policy: "p".into(),
                validation: Integrity,
                previous: Authenticity
            }
        );
        assert!(matches!(
            o.record(Authenticity, Ok(())),
            Err(Error::ValidationOutOfOrder { .. })
        ));
        // Skipping over a validation that must run is refused.
        let mut o = Outcome::with_verification("p", sv(Level::Strict, Overrides::default()));
        o.record(Integrity, Ok(())).unwrap();
        assert_eq!(
            o.record(Revocation, Ok(())).unwrap_err(),
            Error::ValidationNotRecorded {
                policy: "p".into(),
                validation: Authenticity
            }
        );
    }
}
