//! Product approval: new products and changes to operations wait for the product-approval
//! group; the submitter never approves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;
use serde_json::json;
use signet_workflow::product::Product;
use signet_workflow::product_approval::{
    ChangeOutcome, ChangeType, OrgGroups, ProductRequest, decide_product, submit_change,
    submit_product,
};
use signet_workflow::request::{Actor, DecisionKind};
use signet_workflow::{Error, State, Timestamp};

const SEED: &str = include_str!("fixtures/seed_digest_signing.json");
const T: Timestamp = Timestamp(1_700_000_000);

fn org() -> OrgGroups {
    OrgGroups {
        product_writer_groups: vec!["pw".into()],
        product_approval_groups: vec!["pa".into()],
        ca_approval_groups: vec!["ca".into()],
    }
}

fn seed() -> Product {
    Product::parse(SEED.as_bytes()).unwrap()
}

fn submitted(by: &Actor) -> ProductRequest {
    submit_product("pr1", seed(), by, &org(), T).unwrap()
}

#[test]
fn a_new_product_waits_and_cannot_sign() {
    let req = submitted(&Actor::new("alice", ["pw"]));
    assert_eq!(req.state, State::ApprovalRequired);
    assert_eq!(req.changes, [ChangeType::NewProduct]);
    assert!(req.approved_product().is_none());
    assert!(matches!(
        req.product.signing_operation("OCI digest signing"),
        Err(Error::ProductNotReady { .. })
    ));
}

#[test]
fn only_writers_submit() {
    let err = submit_product("pr1", seed(), &Actor::new("bob", ["pa"]), &org(), T).unwrap_err();
    assert!(matches!(err, Error::NotAProductWriter { .. }));
}

#[rstest]
#[case::approver_approves(Actor::new("bob", ["pa"]), DecisionKind::Approve, "", Ok(State::Ready))]
#[case::approver_rejects(Actor::new("bob", ["pa"]), DecisionKind::Reject, "no", Ok(State::Rejected))]
#[case::reject_needs_reason(Actor::new("bob", ["pa"]), DecisionKind::Reject, "", Err("ReasonRequired"))]
#[case::creator_never_approves(Actor::new("alice", ["pw", "pa"]), DecisionKind::Approve, "", Err("SelfApproval"))]
#[case::writer_is_no_approver(Actor::new("carol", ["pw"]), DecisionKind::Approve, "", Err("NotAProductApprover"))]
#[case::ca_approver_not_for_production(Actor::new("dave", ["ca"]), DecisionKind::Approve, "", Err("NotAProductApprover"))]
fn product_decisions(
    #[case] who: Actor,
    #[case] decision: DecisionKind,
    #[case] reason: &str,
    #[case] expected: Result<State, &str>,
) {
    let req = submitted(&Actor::new("alice", ["pw", "pa"]));
    match (
        decide_product(&req, &who, &org(), decision, reason, T),
        expected,
    ) {
        (Ok(next), Ok(state)) => {
            assert_eq!(next.state, state);
            if state == State::Ready {
                let p = next.approved_product().unwrap();
                assert!(p.signing_operation("OCI digest signing").is_ok());
            }
        }
        (Err(e), Err(kind)) => assert!(format!("{e:?}").starts_with(kind), "{e:?}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn ca_products_need_ca_approvers() {
    let mut p = seed();
    p.product_type = Some(signet_workflow::product::ProductType::Ca);
    let req = submit_product("pr1", p, &Actor::new("alice", ["pw"]), &org(), T).unwrap();
    assert!(
        decide_product(
            &req,
            &Actor::new("bob", ["pa"]),
            &org(),
            DecisionKind::Approve,
            "",
            T
        )
        .is_err()
    );
    let next = decide_product(
        &req,
        &Actor::new("dave", ["ca"]),
        &org(),
        DecisionKind::Approve,
        "",
        T,
    )
    .unwrap();
    assert_eq!(next.state, State::Ready);
}

#[test]
fn decided_requests_stay_decided() {
    let req = submitted(&Actor::new("alice", ["pw"]));
    let bob = Actor::new("bob", ["pa"]);
    let next = decide_product(&req, &bob, &org(), DecisionKind::Approve, "", T).unwrap();
    let err = decide_product(
        &next,
        &Actor::new("eve", ["pa"]),
        &org(),
        DecisionKind::Reject,
        "x",
        T,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            state: State::Ready,
            ..
        }
    ));
}

fn ready() -> Product {
    let mut p = seed();
    p.state = Some(State::Ready);
    p
}

#[rstest]
#[case::approval_groups(json!(["other"]), "approvalGroups", vec![ChangeType::ModifyOperation])]
#[case::blanket_groups(json!(["$WRITERGROUP"]), "blanketGroups", vec![ChangeType::ModifyOperation])]
#[case::allowed_groups(json!(["x"]), "allowedGroups", vec![ChangeType::ModifyOperation])]
fn rule_changes_wait_for_approval(
    #[case] value: serde_json::Value,
    #[case] field: &str,
    #[case] changes: Vec<ChangeType>,
) {
    let mut v = serde_json::to_value(ready()).unwrap();
    v["productOperations"][0]["approvalRule"][field] = value;
    let proposed: Product = serde_json::from_value(v).unwrap();
    let alice = Actor::new("alice", ["pw", "pa"]);
    let ChangeOutcome::PendingApproval(req) =
        submit_change("c1", &ready(), proposed, &alice, &org(), T).unwrap()
    else {
        panic!("expected a pending change")
    };
    assert_eq!(req.changes, changes);
    assert!(matches!(
        decide_product(&req, &alice, &org(), DecisionKind::Approve, "", T),
        Err(Error::SelfApproval { .. })
    ));
    let next = decide_product(
        &req,
        &Actor::new("bob", ["pa"]),
        &org(),
        DecisionKind::Approve,
        "",
        T,
    )
    .unwrap();
    assert_eq!(next.approved_product().unwrap().state, Some(State::Ready));
}

#[test]
fn adding_and_removing_operations_waits() {
    let current = ready();
    let mut proposed = current.clone();
    let mut op = proposed.product_operations[0].clone();
    op.name = "second".into();
    proposed.product_operations.push(op);
    let alice = Actor::new("alice", ["pw"]);
    let ChangeOutcome::PendingApproval(req) =
        submit_change("c1", &current, proposed.clone(), &alice, &org(), T).unwrap()
    else {
        panic!()
    };
    assert_eq!(req.changes, [ChangeType::AddOperation]);
    let ChangeOutcome::PendingApproval(req) =
        submit_change("c2", &proposed, current.clone(), &alice, &org(), T).unwrap()
    else {
        panic!()
    };
    assert_eq!(req.changes, [ChangeType::ModifyOperation]);
}

#[test]
fn metadata_changes_apply_at_once() {
    let current = ready();
    let mut proposed = current.clone();
    proposed.description = "new words".into();
    proposed.enabled = Some(false);
    let alice = Actor::new("alice", ["pw"]);
    let ChangeOutcome::Applied(p) =
        submit_change("c1", &current, proposed, &alice, &org(), T).unwrap()
    else {
        panic!()
    };
    assert_eq!(p.description, "new words");
    assert_eq!(p.state, Some(State::Ready));
}

#[test]
fn no_op_changes_are_refused() {
    let alice = Actor::new("alice", ["pw"]);
    assert!(matches!(
        submit_change("c1", &ready(), ready(), &alice, &org(), T),
        Err(Error::NoChange { .. })
    ));
}

#[test]
fn invalid_changes_are_refused() {
    let mut proposed = ready();
    proposed.product_operations[0]
        .approval_rule
        .allowed_groups
        .clear();
    let alice = Actor::new("alice", ["pw"]);
    assert!(matches!(
        submit_change("c1", &ready(), proposed, &alice, &org(), T),
        Err(Error::InvalidProduct { .. })
    ));
}
