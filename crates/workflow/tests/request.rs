//! The signing-request state machine: every transition and authorization rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rstest::rstest;
use signet_workflow::digest::{DigestInput, HashAlgorithm};
use signet_workflow::product::{ApprovalRule, KeyType, OperationType, ProductOperation, Token};
use signet_workflow::request::{
    self, Action, Actor, Approval, DecisionKind, ErrorStatus, NewRequest, RequestConfig,
    SigningOutcome, SigningRequest,
};
use signet_workflow::{Error, State, Timestamp};

const T0: Timestamp = Timestamp(1_700_000_000);
const TTL: Duration = Duration::from_secs(3600);

fn op(required: u32) -> ProductOperation {
    ProductOperation {
        id: None,
        name: "oci".into(),
        description: "d".into(),
        operation_type: OperationType::DigestSigning,
        token: Some(Token {
            name: "k".into(),
            description: "k".into(),
            key_type: KeyType::EcdsaP256,
            extractable: false,
            key_override_id: None,
            public_key: None,
        }),
        approval_rule: ApprovalRule {
            name: "r".into(),
            description: "r".into(),
            allowed_groups: vec!["writers".into()],
            approval_groups: vec!["approvers".into()],
            blanket_groups: vec!["blanket".into()],
        },
        ca_use_case: None,
        profile_id: None,
        allowed_repositories: None,
        required_approvals: required,
    }
}

fn actor(name: &str) -> Actor {
    match name {
        "requester" => Actor::new("requester", ["writers"]),
        "blanket-requester" => Actor::new("blanket-requester", ["writers", "blanket"]),
        "blanket-only" => Actor::new("blanket-only", ["blanket"]),
        "approver-only" => Actor::new("approver-only", ["approvers"]),
        "writer-approver" => Actor::new("writer-approver", ["writers", "approvers"]),
        "outsider" => Actor::new("outsider", ["elsewhere"]),
        a if a.starts_with('a') => Actor::new(a, ["approvers"]),
        other => Actor::new(other, Vec::<String>::new()),
    }
}

fn digest() -> DigestInput {
    DigestInput::Digest {
        digest: STANDARD.encode([7u8; 32]),
        algorithm: HashAlgorithm::Sha256,
    }
}

fn new_request() -> NewRequest {
    NewRequest {
        id: "r1".into(),
        name: "OCI signing request".into(),
        description: "Container image signing".into(),
        product_id: "p1".into(),
        input: digest(),
        options: Default::default(),
    }
}

fn config() -> RequestConfig {
    RequestConfig { approval_ttl: TTL }
}

fn created(by: &str, required: u32) -> SigningRequest {
    request::create(new_request(), &actor(by), &op(required), &config(), T0).unwrap()
}

fn at(secs: i64) -> Timestamp {
    Timestamp(T0.0 + secs)
}

#[rstest]
#[case::requester("requester", Ok(State::ApprovalRequired))]
#[case::requester_who_approves("writer-approver", Ok(State::ApprovalRequired))]
#[case::blanket_requester("blanket-requester", Ok(State::Approved))]
#[case::blanket_alone_grants_nothing("blanket-only", Err("NotAllowed"))]
#[case::approver_alone_cannot_request("approver-only", Err("NotAllowed"))]
#[case::outsider("outsider", Err("NotAllowed"))]
fn create_authorization(#[case] who: &str, #[case] expected: Result<State, &str>) {
    let result = request::create(new_request(), &actor(who), &op(1), &config(), T0);
    match (result, expected) {
        (Ok(r), Ok(state)) => {
            assert_eq!(r.state, state);
            assert_eq!(r.requester, who);
            assert_eq!(r.auto_approved, state == State::Approved);
            assert_eq!(r.expires_at, at(3600));
            assert_eq!(r.operation, "oci");
        }
        (Err(e), Err(kind)) => {
            assert!(format!("{e:?}").starts_with(kind), "{e:?}");
            assert!(e.to_string().contains(who), "{e}");
        }
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn create_validates_the_digest() {
    let mut new = new_request();
    new.input = DigestInput::Digest {
        digest: STANDARD.encode([1u8; 20]),
        algorithm: HashAlgorithm::Sha256,
    };
    let err = request::create(new, &actor("requester"), &op(1), &config(), T0).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidDigestSize {
            expected: 32,
            actual: 20,
            ..
        }
    ));
}

#[rstest]
#[case::approver_approves("a1", DecisionKind::Approve, "ok", Ok(State::Approved))]
#[case::approver_rejects("a1", DecisionKind::Reject, "wrong image", Ok(State::Rejected))]
#[case::reject_needs_reason("a1", DecisionKind::Reject, " ", Err("ReasonRequired"))]
#[case::approve_without_reason("a1", DecisionKind::Approve, "", Ok(State::Approved))]
#[case::requester_cannot_approve("requester", DecisionKind::Approve, "", Err("NotAnApprover"))]
#[case::outsider("outsider", DecisionKind::Approve, "", Err("NotAnApprover"))]
#[case::blanket_member_is_no_approver(
    "blanket-only",
    DecisionKind::Approve,
    "",
    Err("NotAnApprover")
)]
#[case::writer_is_no_approver("blanket-requester", DecisionKind::Reject, "x", Err("NotAnApprover"))]
fn decide_authorization(
    #[case] who: &str,
    #[case] decision: DecisionKind,
    #[case] reason: &str,
    #[case] expected: Result<State, &str>,
) {
    let r = created("requester", 1);
    let result = request::decide(&r, &actor(who), &op(1), decision, reason, at(10));
    match (result, expected) {
        (Ok(next), Ok(state)) => {
            assert_eq!(next.state, state);
            assert_eq!(next.decisions.len(), 1);
            assert_eq!(next.decisions[0].approver, who);
            assert_eq!(next.updated_at, at(10));
        }
        (Err(e), Err(kind)) => assert!(format!("{e:?}").starts_with(kind), "{e:?}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn requester_who_is_an_approver_never_approves_their_own_request() {
    let r = created("writer-approver", 1);
    let err = request::approve(&r, &actor("writer-approver"), &op(1), "", at(1)).unwrap_err();
    assert!(matches!(err, Error::SelfApproval { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "user writer-approver created request r1 and cannot approve it"
    );
    // Withdrawing (rejecting) one's own request is allowed.
    let next = request::reject(&r, &actor("writer-approver"), &op(1), "withdrawn", at(1)).unwrap();
    assert_eq!(next.state, State::Rejected);
}

#[rstest]
#[case::one_of_one(1, &["a1"], State::Approved)]
#[case::one_of_two(2, &["a1"], State::ApprovalRequired)]
#[case::two_of_two(2, &["a1", "a2"], State::Approved)]
#[case::two_of_three(3, &["a1", "a2"], State::ApprovalRequired)]
#[case::three_of_three(3, &["a1", "a2", "a3"], State::Approved)]
fn required_distinct_approvals(
    #[case] required: u32,
    #[case] approvers: &[&str],
    #[case] expected: State,
) {
    let mut r = created("requester", required);
    for (i, a) in approvers.iter().enumerate() {
        r = request::approve(&r, &actor(a), &op(required), "", at(i as i64 + 1)).unwrap();
    }
    assert_eq!(r.state, expected);
    assert_eq!(r.approvers().len(), approvers.len());
}

#[test]
fn the_same_person_cannot_approve_twice() {
    let r = created("requester", 2);
    let r = request::approve(&r, &actor("a1"), &op(2), "", at(1)).unwrap();
    let err = request::approve(&r, &actor("a1"), &op(2), "", at(2)).unwrap_err();
    assert!(matches!(err, Error::AlreadyDecided { .. }), "{err:?}");
    let err = request::reject(&r, &actor("a1"), &op(2), "changed my mind", at(2)).unwrap_err();
    assert!(matches!(err, Error::AlreadyDecided { .. }), "{err:?}");
}

#[test]
fn one_rejection_rejects_even_after_approvals() {
    let r = created("requester", 2);
    let r = request::approve(&r, &actor("a1"), &op(2), "", at(1)).unwrap();
    let r = request::reject(&r, &actor("a2"), &op(2), "unknown image", at(2)).unwrap();
    assert_eq!(r.state, State::Rejected);
}

#[rstest]
#[case::approve_after_reject(DecisionKind::Approve)]
#[case::reject_after_reject(DecisionKind::Reject)]
fn no_decision_after_rejection(#[case] decision: DecisionKind) {
    let r = created("requester", 1);
    let r = request::reject(&r, &actor("a1"), &op(1), "no", at(1)).unwrap();
    let err = request::decide(&r, &actor("a2"), &op(1), decision, "x", at(2)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidTransition {
                state: State::Rejected,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn no_decision_after_approval() {
    let r = created("requester", 1);
    let r = request::approve(&r, &actor("a1"), &op(1), "", at(1)).unwrap();
    let err = request::approve(&r, &actor("a2"), &op(1), "", at(2)).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            action: Action::Approve,
            state: State::Approved,
            ..
        }
    ));
}

#[test]
fn raising_required_approvals_applies_to_pending_requests() {
    let r = created("requester", 1);
    let r = request::approve(&r, &actor("a1"), &op(2), "", at(1)).unwrap();
    assert_eq!(r.state, State::ApprovalRequired);
    // Lowering it later does not lower what the request was created with.
    let r = created("requester", 2);
    let r = request::approve(&r, &actor("a1"), &op(1), "", at(1)).unwrap();
    assert_eq!(r.state, State::ApprovalRequired);
}

#[test]
fn full_lifecycle_signs_once() {
    let r = created("requester", 1);
    let r = request::approve(&r, &actor("a1"), &op(1), "", at(1)).unwrap();
    let r = request::start_signing(&r, &op(1), at(2)).unwrap();
    assert_eq!(r.state, State::InProcess);
    // Sign twice: the second start is refused.
    let err = request::start_signing(&r, &op(1), at(3)).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            action: Action::StartSigning,
            state: State::InProcess,
            ..
        }
    ));
    let r = request::finish_signing(&r, SigningOutcome::Signed(vec![1, 2, 3]), at(3)).unwrap();
    assert_eq!(r.state, State::Ready);
    assert_eq!(r.signature.as_deref(), Some("AQID"));
    assert!(request::start_signing(&r, &op(1), at(4)).is_err());
    assert!(request::finish_signing(&r, SigningOutcome::Signed(vec![1]), at(4)).is_err());
}

#[test]
fn blanket_requests_sign_without_approvers() {
    let r = created("blanket-requester", 3);
    let r = request::start_signing(&r, &op(3), at(1)).unwrap();
    assert_eq!(r.state, State::InProcess);
}

#[rstest]
#[case::created_pending(State::ApprovalRequired)]
#[case::rejected(State::Rejected)]
fn cannot_start_unless_approved(#[case] state: State) {
    let mut r = created("requester", 1);
    if state == State::Rejected {
        r = request::reject(&r, &actor("a1"), &op(1), "no", at(1)).unwrap();
    }
    let err = request::start_signing(&r, &op(1), at(2)).unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
}

#[test]
fn a_forged_approved_state_is_not_signed() {
    let mut r = created("requester", 2);
    r.state = State::Approved;
    let err = request::start_signing(&r, &op(2), at(1)).unwrap_err();
    assert_eq!(
        err,
        Error::InsufficientApprovals {
            request: "r1".into(),
            have: 0,
            need: 2
        }
    );
}

#[test]
fn signing_failure_fails_the_request() {
    let r = created("blanket-requester", 1);
    let r = request::start_signing(&r, &op(1), at(1)).unwrap();
    let r = request::finish_signing(&r, SigningOutcome::Failed("hsm down".into()), at(2)).unwrap();
    assert_eq!(r.state, State::Failed);
    assert_eq!(r.error_status, Some(ErrorStatus::SigningFailed));
    assert_eq!(r.error_detail.as_deref(), Some("hsm down"));
}

#[test]
fn empty_signatures_are_refused() {
    let r = created("blanket-requester", 1);
    let r = request::start_signing(&r, &op(1), at(1)).unwrap();
    assert!(matches!(
        request::finish_signing(&r, SigningOutcome::Signed(Vec::new()), at(2)),
        Err(Error::EmptySignature { .. })
    ));
}

#[test]
fn finish_needs_in_process() {
    let r = created("blanket-requester", 1);
    let err = request::finish_signing(&r, SigningOutcome::Signed(vec![1]), at(1)).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            action: Action::FinishSigning,
            ..
        }
    ));
}

#[rstest]
#[case::before_deadline(3599, Err("NotExpired"))]
#[case::at_deadline(3600, Ok(()))]
#[case::after_deadline(9999, Ok(()))]
fn expiry(#[case] secs: i64, #[case] expected: Result<(), &str>) {
    let r = created("requester", 1);
    match (request::expire(&r, at(secs)), expected) {
        (Ok(next), Ok(())) => {
            assert_eq!(next.state, State::Failed);
            assert_eq!(next.error_status, Some(ErrorStatus::Expired));
        }
        (Err(e), Err(kind)) => assert!(format!("{e:?}").starts_with(kind), "{e:?}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn expired_requests_cannot_be_decided() {
    let r = created("requester", 1);
    let err = request::approve(&r, &actor("a1"), &op(1), "", at(3600)).unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
}

#[test]
fn approved_requests_do_not_expire() {
    let r = created("blanket-requester", 1);
    assert!(matches!(
        request::expire(&r, at(99_999)),
        Err(Error::InvalidTransition {
            action: Action::Expire,
            state: State::Approved,
            ..
        })
    ));
}

#[test]
fn the_operation_must_match() {
    let r = created("requester", 1);
    let mut other = op(1);
    other.name = "other".into();
    let err = request::approve(&r, &actor("a1"), &other, "", at(1)).unwrap_err();
    assert!(matches!(err, Error::OperationMismatch { .. }));
}

#[test]
fn request_serializes_state_as_number() {
    let r = created("requester", 1);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["state"], 2);
    let back: SigningRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[rstest]
#[case(1, State::Created)]
#[case(2, State::ApprovalRequired)]
#[case(4, State::Approved)]
#[case(8, State::InProcess)]
#[case(16, State::Ready)]
#[case(32, State::Rejected)]
#[case(64, State::Failed)]
fn state_wire_values(#[case] value: u32, #[case] state: State) {
    assert_eq!(state.value(), value);
    assert_eq!(serde_json::to_string(&state).unwrap(), value.to_string());
    assert_eq!(
        serde_json::from_str::<State>(&value.to_string()).unwrap(),
        state
    );
    let name = format!("\"{}\"", state.name());
    assert_eq!(serde_json::from_str::<State>(&name).unwrap(), state);
}

#[test]
fn unknown_states_are_refused() {
    assert!(serde_json::from_str::<State>("3").is_err());
    assert!(serde_json::from_str::<State>("\"Done\"").is_err());
}

#[rstest]
#[case(
    r#"{"requestId":"r1","decision":"APPROVE"}"#,
    DecisionKind::Approve,
    ""
)]
#[case(
    r#"{"requestID":"r1","decision":"APPROVED"}"#,
    DecisionKind::Approve,
    ""
)]
#[case(
    r#"{"requestId":"r1","decision":"REJECT","reason":"bad"}"#,
    DecisionKind::Reject,
    "bad"
)]
fn approval_bodies(#[case] json: &str, #[case] decision: DecisionKind, #[case] reason: &str) {
    let a = Approval::parse(json.as_bytes()).unwrap();
    assert_eq!(a.request_id, "r1");
    assert_eq!(a.decision, decision);
    assert_eq!(a.reason, reason);
}

#[rstest]
#[case(r#"{"requestId":"r1","decision":"MAYBE"}"#)]
#[case(r#"{"requestId":"r1","decision":"APPROVE","extra":1}"#)]
#[case(r#"{"decision":"APPROVE"}"#)]
fn bad_approval_bodies(#[case] json: &str) {
    assert!(matches!(
        Approval::parse(json.as_bytes()),
        Err(Error::MalformedJson {
            what: "approval",
            ..
        })
    ));
}

#[test]
fn options_are_checked_at_creation_and_kept_with_the_request() {
    use signet_workflow::options::{SignaturePadding, SigningOptions};
    let pss = SigningOptions::parse(&serde_json::json!([
        {"signaturePadding": "PSS"}, {"saltLength": 32}
    ]))
    .unwrap();
    let mut new = new_request();
    new.options = pss;
    let r = request::create(new, &actor("requester"), &op(1), &config(), T0).unwrap();
    assert_eq!(r.options.padding(), SignaturePadding::Pss);
    // Through approval and signing, the options stay as requested.
    let approved = request::approve(&r, &actor("a1"), &op(1), "", T0).unwrap();
    let started = request::start_signing(&approved, &op(1), T0).unwrap();
    assert_eq!(started.options, pss);
    let v = serde_json::to_value(&started).unwrap();
    assert_eq!(
        v["options"],
        serde_json::json!({"signaturePadding": "PSS", "saltLength": 32})
    );

    // A salt length that is not the digest's length is refused before anything is stored.
    let mut new = new_request();
    new.options = SigningOptions::parse(&serde_json::json!([
        {"signaturePadding": "PSS"}, {"saltLength": 64}
    ]))
    .unwrap();
    let err = request::create(new, &actor("requester"), &op(1), &config(), T0).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedOptionalParameter { parameter, .. } if parameter == "saltLength"),
        "{err}"
    );

    // A request stored before options existed (no "options" field) loads with the defaults,
    // and one without options is stored without the field.
    let plain = created("requester", 1);
    let mut v = serde_json::to_value(&plain).unwrap();
    assert!(v.get("options").is_none(), "{v}");
    v.as_object_mut().unwrap().remove("options");
    let back: SigningRequest = serde_json::from_value(v).unwrap();
    assert!(back.options.is_empty());
    assert_eq!(back.options.padding(), SignaturePadding::Pkcs1v15);
}
