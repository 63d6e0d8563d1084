//! The signing-request state machine.
//!
//! ```text
//! create ──▶ ApprovalRequired ──approve × requiredApprovals──▶ Approved ──start──▶ InProcess
//!   │              │  └──reject──▶ Rejected                       ▲               │   │
//!   │              └──expire──▶ Failed                            │    finish ok ─┘   └─ finish err
//!   └──(requester in blanketGroups)───────────────────────────────┘        ▼               ▼
//!                                                                        Ready           Failed
//! ```
//!
//! Every transition is a pure function: it takes the request, the actor and the operation
//! (with its approval rule) and `now`, and returns the next request or a typed [`Error`].
//! The rules:
//!
//! - only members of `allowedGroups` create requests; a requester who is also in
//!   `blanketGroups` is approved at once (blanket membership alone grants nothing);
//! - only members of `approvalGroups` decide; the requester never approves their own request
//!   (they may reject it, which only withdraws it); each approver decides once;
//! - a request is Approved after `requiredApprovals` distinct approvers; one rejection rejects;
//! - a rejection needs a reason;
//! - undecided requests expire at `created_at + approval_ttl`: they can no longer be decided,
//!   and [`expire`] moves them to Failed;
//! - signing starts exactly once (Approved → InProcess, re-checking the approvals) and
//!   finishes once (InProcess → Ready with the signature, or Failed).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::digest::{DigestInput, SigningInput, validate_input};
use crate::options::SigningOptions;
use crate::product::ProductOperation;
use crate::{Error, Result, State, Timestamp};

/// Who is acting: the user id and the groups the identity provider reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id (`oid:<uuid>`, `sub:<id>`, `appid:<uuid>`).
    pub user: String,
    /// Group ids.
    pub groups: BTreeSet<String>,
}

impl Actor {
    /// An actor with these groups.
    pub fn new<G: Into<String>>(
        user: impl Into<String>,
        groups: impl IntoIterator<Item = G>,
    ) -> Self {
        Actor {
            user: user.into(),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the actor is in any of `groups` (access is always a union).
    pub fn in_any(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.groups.contains(g))
    }
}

/// A transition, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
    /// Start signing.
    StartSigning,
    /// Finish signing.
    FinishSigning,
    /// Expire.
    Expire,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Approve => "be approved",
            Action::Reject => "be rejected",
            Action::StartSigning => "start signing",
            Action::FinishSigning => "finish signing",
            Action::Expire => "expire",
        })
    }
}

/// An approver's decision (`APPROVE` / `REJECT`; `APPROVED` / `REJECTED` are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DecisionKind {
    /// Approve.
    #[serde(rename = "APPROVE", alias = "APPROVED")]
    Approve,
    /// Reject.
    #[serde(rename = "REJECT", alias = "REJECTED")]
    Reject,
}

/// The approval body: `{"requestId", "decision", "reason"}` (`requestID` accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approval {
    /// The request decided.
    #[serde(alias = "requestID")]
    pub request_id: String,
    /// The decision.
    pub decision: DecisionKind,
    /// Why (required to reject).
    #[serde(default)]
    pub reason: String,
}

impl Approval {
    /// Parses an approval body strictly.
    pub fn parse(json: &[u8]) -> Result<Approval> {
        serde_json::from_slice(json).map_err(|e| Error::MalformedJson {
            what: "approval",
            message: e.to_string(),
        })
    }
}

/// A decision recorded on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordedDecision {
    /// Who decided.
    pub approver: String,
    /// What.
    pub decision: DecisionKind,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorStatus {
    /// Not decided before its deadline.
    Expired,
    /// The signer reported an error.
    SigningFailed,
}

/// Configuration of request handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestConfig {
    /// How long an unapproved request waits before it expires.
    pub approval_ttl: Duration,
}

impl Default for RequestConfig {
    /// Seven days.
    fn default() -> Self {
        RequestConfig {
            approval_ttl: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// What a requester submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// The id the shell assigned.
    pub id: String,
    /// Name (`-N`).
    pub name: String,
    /// Description (`-D`).
    pub description: String,
    /// The product id.
    pub product_id: String,
    /// What to sign.
    pub input: DigestInput,
    /// How to sign it (`optionalParameters`).
    pub options: SigningOptions,
}

/// A signing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningRequest {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Product id.
    pub product_id: String,
    /// Operation name.
    pub operation: String,
    /// Who asked.
    pub requester: String,
    /// The validated digest (and image).
    pub input: SigningInput,
    /// How to sign it, as requested (`optionalParameters`; absent in records stored before
    /// they existed, which means the defaults).
    #[serde(default, skip_serializing_if = "SigningOptions::is_empty")]
    pub options: SigningOptions,
    /// Current state.
    pub state: State,
    /// Created.
    pub created_at: Timestamp,
    /// Last transition.
    pub updated_at: Timestamp,
    /// Undecided after this, the request expires.
    pub expires_at: Timestamp,
    /// Distinct approvers needed (the operation's value at creation; a later, higher value
    /// applies too).
    pub required_approvals: u32,
    /// Approved at creation because the requester is in blanketGroups.
    pub auto_approved: bool,
    /// Decisions in order.
    pub decisions: Vec<RecordedDecision>,
    /// Base64 signature once Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_status: Option<ErrorStatus>,
    /// Failure detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<String>,
}

impl SigningRequest {
    /// The distinct users who approved (never the requester).
    pub fn approvers(&self) -> BTreeSet<&str> {
        self.decisions
            .iter()
            .filter(|d| d.decision == DecisionKind::Approve && d.approver != self.requester)
            .map(|d| d.approver.as_str())
            .collect()
    }

    fn needed(&self, op: Option<&ProductOperation>) -> u32 {
        op.map_or(self.required_approvals, |op| {
            self.required_approvals.max(op.required_approvals)
        })
    }

    /// Whether the approvals suffice for signing: auto-approved, or enough distinct
    /// approvers and no rejection.
    pub fn is_sufficiently_approved(&self, op: &ProductOperation) -> bool {
        let rejected = self
            .decisions
            .iter()
            .any(|d| d.decision == DecisionKind::Reject);
        !rejected && (self.auto_approved || count(&self.approvers()) >= self.needed(Some(op)))
    }

    fn check_operation(&self, op: &ProductOperation) -> Result<()> {
        if op.name != self.operation {
            return Err(Error::OperationMismatch {
                request: self.id.clone(),
                expected: self.operation.clone(),
                actual: op.name.clone(),
            });
        }
        Ok(())
    }

    fn invalid(&self, action: Action) -> Error {
        Error::InvalidTransition {
            subject: format!("request {}", self.id),
            action,
            state: self.state,
        }
    }
}

fn count(set: &BTreeSet<&str>) -> u32 {
    u32::try_from(set.len()).unwrap_or(u32::MAX)
}

/// Creates a request for `op` (see the module rules): validates the input, checks that the
/// actor is in `allowedGroups`, and auto-approves a blanket-group requester.
pub fn create(
    new: NewRequest,
    actor: &Actor,
    op: &ProductOperation,
    config: &RequestConfig,
    now: Timestamp,
) -> Result<SigningRequest> {
    let rule = &op.approval_rule;
    if !actor.in_any(&rule.allowed_groups) {
        return Err(Error::NotAllowed {
            user: actor.user.clone(),
            operation: op.name.clone(),
        });
    }
    let input = validate_input(&new.input, op)?;
    new.options.check(input.algorithm)?;
    let auto_approved = actor.in_any(&rule.blanket_groups);
    Ok(SigningRequest {
        id: new.id,
        name: new.name,
        description: new.description,
        product_id: new.product_id,
        operation: op.name.clone(),
        requester: actor.user.clone(),
        input,
        options: new.options,
        state: if auto_approved {
            State::Approved
        } else {
            State::ApprovalRequired
        },
        created_at: now,
        updated_at: now,
        expires_at: now.saturating_add(config.approval_ttl),
        required_approvals: op.required_approvals,
        auto_approved,
        decisions: Vec::new(),
        signature: None,
        error_status: None,
        error_detail: None,
    })
}

/// Records an approver's decision. Approved once the required distinct approvals are in;
/// Rejected by any rejection.
pub fn decide(
    request: &SigningRequest,
    actor: &Actor,
    op: &ProductOperation,
    decision: DecisionKind,
    reason: &str,
    now: Timestamp,
) -> Result<SigningRequest> {
    let action = match decision {
        DecisionKind::Approve => Action::Approve,
        DecisionKind::Reject => Action::Reject,
    };
    request.check_operation(op)?;
    if request.state != State::ApprovalRequired {
        return Err(request.invalid(action));
    }
    if now >= request.expires_at {
        return Err(Error::Expired {
            request: request.id.clone(),
            expires_at: request.expires_at,
        });
    }
    if !actor.in_any(&op.approval_rule.approval_groups) {
        return Err(Error::NotAnApprover {
            user: actor.user.clone(),
            operation: op.name.clone(),
        });
    }
    if decision == DecisionKind::Approve && actor.user == request.requester {
        return Err(Error::SelfApproval {
            user: actor.user.clone(),
            subject: format!("request {}", request.id),
        });
    }
    if request.decisions.iter().any(|d| d.approver == actor.user) {
        return Err(Error::AlreadyDecided {
            user: actor.user.clone(),
            subject: format!("request {}", request.id),
        });
    }
    if decision == DecisionKind::Reject && reason.trim().is_empty() {
        return Err(Error::ReasonRequired {
            subject: format!("request {}", request.id),
        });
    }
    let mut next = request.clone();
    next.decisions.push(RecordedDecision {
        approver: actor.user.clone(),
        decision,
        reason: reason.to_owned(),
        at: now,
    });
    next.updated_at = now;
    next.state = match decision {
        DecisionKind::Reject => State::Rejected,
        DecisionKind::Approve if count(&next.approvers()) >= next.needed(Some(op)) => {
            State::Approved
        }
        DecisionKind::Approve => State::ApprovalRequired,
    };
    Ok(next)
}

/// Approves (see [`decide`]).
pub fn approve(
    request: &SigningRequest,
    actor: &Actor,
    op: &ProductOperation,
    reason: &str,
    now: Timestamp,
) -> Result<SigningRequest> {
    decide(request, actor, op, DecisionKind::Approve, reason, now)
}

/// Rejects (see [`decide`]); the reason must not be blank.
pub fn reject(
    request: &SigningRequest,
    actor: &Actor,
    op: &ProductOperation,
    reason: &str,
    now: Timestamp,
) -> Result<SigningRequest> {
    decide(request, actor, op, DecisionKind::Reject, reason, now)
}

/// Approved → InProcess, once. The approvals are checked again, so a request record that
/// claims Approved without them is never signed.
pub fn start_signing(
    request: &SigningRequest,
    op: &ProductOperation,
    now: Timestamp,
) -> Result<SigningRequest> {
    request.check_operation(op)?;
    if request.state != State::Approved {
        return Err(request.invalid(Action::StartSigning));
    }
    if !request.is_sufficiently_approved(op) {
        return Err(Error::InsufficientApprovals {
            request: request.id.clone(),
            have: count(&request.approvers()),
            need: request.needed(Some(op)),
        });
    }
    let mut next = request.clone();
    next.state = State::InProcess;
    next.updated_at = now;
    Ok(next)
}

/// How signing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningOutcome {
    /// The signature bytes.
    Signed(Vec<u8>),
    /// The signer's error.
    Failed(String),
}

/// InProcess → Ready (with the signature, base64) or Failed.
pub fn finish_signing(
    request: &SigningRequest,
    outcome: SigningOutcome,
    now: Timestamp,
) -> Result<SigningRequest> {
    if request.state != State::InProcess {
        return Err(request.invalid(Action::FinishSigning));
    }
    let mut next = request.clone();
    next.updated_at = now;
    match outcome {
        SigningOutcome::Signed(signature) => {
            if signature.is_empty() {
                return Err(Error::EmptySignature {
                    request: request.id.clone(),
                });
            }
            next.state = State::Ready;
            next.signature = Some(STANDARD.encode(signature));
        }
        SigningOutcome::Failed(detail) => {
            next.state = State::Failed;
            next.error_status = Some(ErrorStatus::SigningFailed);
            next.error_detail = Some(detail);
        }
    }
    Ok(next)
}

/// An undecided request past its deadline → Failed (`errorStatus: expired`).
pub fn expire(request: &SigningRequest, now: Timestamp) -> Result<SigningRequest> {
    if !matches!(request.state, State::Created | State::ApprovalRequired) {
        return Err(request.invalid(Action::Expire));
    }
    if now < request.expires_at {
        return Err(Error::NotExpired {
            request: request.id.clone(),
            expires_at: request.expires_at,
        });
    }
    let mut next = request.clone();
    next.state = State::Failed;
    next.updated_at = now;
    next.error_status = Some(ErrorStatus::Expired);
    next.error_detail = Some(format!("not approved by {}", request.expires_at));
    Ok(next)
}
