//! Property: no sequence of actions signs a request that lacks the required distinct
//! approvals, unless its requester was in blanketGroups.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use signet_workflow::digest::{DigestInput, HashAlgorithm};
use signet_workflow::product::{ApprovalRule, OperationType, ProductOperation};
use signet_workflow::request::{
    self, Actor, DecisionKind, NewRequest, RequestConfig, SigningOutcome, SigningRequest,
};
use signet_workflow::{State, Timestamp};

const USERS: [&str; 5] = ["u0", "u1", "u2", "u3", "u4"];

fn op(required: u32) -> ProductOperation {
    ProductOperation {
        id: None,
        name: "oci".into(),
        description: String::new(),
        operation_type: OperationType::DetachedSignature,
        token: None,
        approval_rule: ApprovalRule {
            name: String::new(),
            description: String::new(),
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

#[derive(Debug, Clone)]
enum Step {
    Decide {
        user: usize,
        approve: bool,
        groups: u8,
    },
    Start,
    Finish(bool),
    Expire,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..USERS.len(), any::<bool>(), any::<u8>())
            .prop_map(|(user, approve, groups)| Step::Decide { user, approve, groups }),
        2 => Just(Step::Start),
        1 => any::<bool>().prop_map(Step::Finish),
        1 => Just(Step::Expire),
        1 => (0u64..2000).prop_map(Step::Wait),
    ]
}

/// Group membership from a bit mask: writers, approvers, blanket.
fn actor(user: usize, mask: u8) -> Actor {
    let mut groups = Vec::new();
    for (bit, g) in ["writers", "approvers", "blanket"].iter().enumerate() {
        if mask & (1 << bit) != 0 {
            groups.push(*g);
        }
    }
    Actor::new(USERS[user], groups)
}

fn valid_approvers(r: &SigningRequest, approver_groups: &[BTreeSet<&'static str>]) -> usize {
    // Count users who approved, are not the requester, and were approvers when they did.
    r.decisions
        .iter()
        .filter(|d| d.decision == DecisionKind::Approve && d.approver != r.requester)
        .filter(|d| {
            let i = USERS.iter().position(|u| *u == d.approver).unwrap();
            approver_groups[i].contains("approvers")
        })
        .map(|d| d.approver.clone())
        .collect::<BTreeSet<_>>()
        .len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn nothing_is_signed_without_the_required_approvals(
        required in 1u32..4,
        requester in 0..USERS.len(),
        requester_mask in any::<u8>(),
        steps in proptest::collection::vec(step(), 0..24),
    ) {
        let op = op(required);
        let requester_actor = actor(requester, requester_mask);
        let new = NewRequest {
            id: "r".into(),
            name: String::new(),
            description: String::new(),
            product_id: "p".into(),
            input: DigestInput::Digest {
                digest: STANDARD.encode([0u8; 32]),
                algorithm: HashAlgorithm::Sha256,
            },
            options: Default::default(),
        };
        let config = RequestConfig { approval_ttl: Duration::from_secs(3600) };
        let mut now = Timestamp(0);
        let Ok(mut r) = request::create(new, &requester_actor, &op, &config, now) else {
            prop_assert!(!requester_actor.groups.contains("writers"));
            return Ok(());
        };
        prop_assert!(requester_actor.groups.contains("writers"));
        let blanket = requester_actor.groups.contains("blanket");
        prop_assert_eq!(r.auto_approved, blanket);
        // The groups each user had when they last decided.
        let mut groups_at_decision: Vec<BTreeSet<&'static str>> = vec![BTreeSet::new(); USERS.len()];
        let mut starts = 0;
        for s in steps {
            now = Timestamp(now.0 + 1);
            let next = match s {
                Step::Decide { user, approve, groups } => {
                    let a = actor(user, groups);
                    let decision = if approve { DecisionKind::Approve } else { DecisionKind::Reject };
                    let result = request::decide(&r, &a, &op, decision, "because", now);
                    if result.is_ok() {
                        groups_at_decision[user] = a.groups.iter().map(|g| match g.as_str() {
                            "writers" => "writers",
                            "approvers" => "approvers",
                            _ => "blanket",
                        }).collect();
                    }
                    result
                }
                Step::Start => {
                    let result = request::start_signing(&r, &op, now);
                    if result.is_ok() {
                        starts += 1;
                    }
                    result
                }
                Step::Finish(ok) => {
                    let outcome = if ok { SigningOutcome::Signed(vec![1]) } else { SigningOutcome::Failed("x".into()) };
                    request::finish_signing(&r, outcome, now)
                }
                Step::Expire => request::expire(&r, now),
                Step::Wait(secs) => {
                    now = Timestamp(now.0 + secs as i64);
                    continue;
                }
            };
            if let Ok(n) = next {
                r = n;
            }
            let rejected = r.decisions.iter().any(|d| d.decision == DecisionKind::Reject);
            if matches!(r.state, State::Approved | State::InProcess | State::Ready) {
                prop_assert!(!rejected);
                prop_assert!(
                    blanket || valid_approvers(&r, &groups_at_decision) >= required as usize,
                    "state {} with {} valid approvals of {}", r.state,
                    valid_approvers(&r, &groups_at_decision), required
                );
            }
            prop_assert!(starts <= 1, "signing started {} times", starts);
        }
    }
}
