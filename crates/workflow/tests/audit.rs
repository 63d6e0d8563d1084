//! The audit hash chain: appending, verifying, and detecting tampering.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;
use serde_json::json;
use signet_workflow::audit::{AuditEntry, GENESIS_HASH, append, compute_hash, head, verify_chain};
use signet_workflow::{ChainBreak, Error, Timestamp};

fn chain(n: u64) -> Vec<AuditEntry> {
    let mut entries: Vec<AuditEntry> = Vec::new();
    for i in 0..n {
        let e = append(
            entries.last(),
            Timestamp(1_700_000_000 + i as i64),
            &format!("user{i}"),
            "request.approve",
            "r1",
            json!({"i": i, "nested": {"b": 1, "a": [1, "x"]}}),
        );
        entries.push(e);
    }
    entries
}

#[test]
fn an_intact_chain_verifies() {
    let c = chain(5);
    assert_eq!(c[0].seq, 0);
    assert_eq!(c[0].prev_hash, GENESIS_HASH);
    assert_eq!(c[3].prev_hash, c[2].hash);
    assert_eq!(c[4].hash.len(), 64);
    verify_chain(&c).unwrap();
    verify_chain(&[]).unwrap();
    assert_eq!(head(&c), c[4].hash);
}

#[test]
fn hashes_do_not_depend_on_key_order() {
    let a = append(None, Timestamp(1), "u", "x", "s", json!({"a": 1, "b": 2}));
    let b = append(
        None,
        Timestamp(1),
        "u",
        "x",
        "s",
        serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap(),
    );
    assert_eq!(a.hash, b.hash);
}

fn broken(c: &[AuditEntry]) -> (u64, ChainBreak) {
    match verify_chain(c) {
        Err(Error::ChainBroken { seq, reason }) => (seq, reason),
        other => panic!("expected ChainBroken, got {other:?}"),
    }
}

#[rstest]
#[case::actor(|e: &mut AuditEntry| e.actor = "mallory".into())]
#[case::action(|e: &mut AuditEntry| e.action = "request.reject".into())]
#[case::subject(|e: &mut AuditEntry| e.subject = "r2".into())]
#[case::details(|e: &mut AuditEntry| e.details["i"] = json!(99))]
#[case::at(|e: &mut AuditEntry| e.at = Timestamp(1_700_000_003))]
#[case::hash(|e: &mut AuditEntry| e.hash = "00".repeat(32))]
fn changed_fields_are_detected(#[case] tamper: fn(&mut AuditEntry)) {
    let mut c = chain(5);
    tamper(&mut c[2]);
    let (seq, reason) = broken(&c);
    assert_eq!(seq, 2);
    assert_eq!(reason, ChainBreak::HashMismatch);
}

#[test]
fn a_rehashed_change_breaks_the_next_link() {
    let mut c = chain(5);
    c[2].actor = "mallory".into();
    c[2].hash = compute_hash(&c[2]);
    assert_eq!(broken(&c), (3, ChainBreak::PrevHashMismatch));
}

#[test]
fn a_removed_entry_is_detected() {
    let mut c = chain(5);
    c.remove(2);
    assert_eq!(
        broken(&c),
        (
            2,
            ChainBreak::SequenceGap {
                expected: 2,
                found: 3
            }
        )
    );
}

#[test]
fn a_removed_first_entry_is_detected() {
    let mut c = chain(3);
    c.remove(0);
    assert_eq!(
        broken(&c),
        (
            0,
            ChainBreak::SequenceGap {
                expected: 0,
                found: 1
            }
        )
    );
}

#[test]
fn reordered_entries_are_detected() {
    let mut c = chain(5);
    c.swap(1, 3);
    assert_eq!(
        broken(&c),
        (
            1,
            ChainBreak::SequenceGap {
                expected: 1,
                found: 3
            }
        )
    );
}

#[test]
fn renumbered_reorderings_are_detected() {
    let mut c = chain(5);
    c.swap(1, 3);
    c[1].seq = 1;
    c[3].seq = 3;
    assert_eq!(broken(&c).0, 1);
}

#[test]
fn the_error_is_one_line() {
    let mut c = chain(3);
    c[1].details = json!(null);
    let msg = verify_chain(&c).unwrap_err().to_string();
    assert_eq!(
        msg,
        "audit chain broken at entry 1: hash does not match the entry's contents"
    );
}

#[test]
fn time_going_backwards_is_detected() {
    let a = append(None, Timestamp(10), "u", "x", "s", json!(null));
    let b = append(Some(&a), Timestamp(5), "u", "x", "s", json!(null));
    assert!(matches!(
        broken(&[a, b]),
        (1, ChainBreak::TimeWentBackwards { .. })
    ));
}

/// The hash input, written out by hand from the format in the module documentation: a change
/// to how entries are serialized would break every stored chain.
#[test]
fn the_hash_input_is_pinned() {
    use sha2::{Digest as _, Sha256};
    let entry = AuditEntry {
        seq: 7,
        at: signet_workflow::Timestamp(1_700_000_000),
        actor: "ana \"q\"".to_owned(),
        action: "request.create".to_owned(),
        subject: "r-1\n".to_owned(),
        details: serde_json::json!({"z": [1, "é", null], "a": {"y": true, "b": -2.5}}),
        prev_hash: GENESIS_HASH.to_owned(),
        hash: String::new(),
    };
    let canonical = format!(
        "{{\"action\":\"request.create\",\"actor\":\"ana \\\"q\\\"\",\"at\":1700000000,\
         \"details\":{{\"a\":{{\"b\":-2.5,\"y\":true}},\"z\":[1,\"é\",null]}},\
         \"prev_hash\":\"{GENESIS_HASH}\",\"seq\":7,\"subject\":\"r-1\\n\"}}"
    );
    let mut hasher = Sha256::new();
    hasher.update(b"signet-audit-v1\n");
    hasher.update(canonical.as_bytes());
    let expected = hex::encode(hasher.finalize());
    assert_eq!(compute_hash(&entry), expected);
    // The canonical details a store keeps as text, and an entry appended with them, hash
    // the same.
    let details = signet_workflow::audit::canonical(&entry.details);
    assert_eq!(details, r#"{"a":{"b":-2.5,"y":true},"z":[1,"é",null]}"#);
    let prev = AuditEntry {
        seq: 6,
        hash: GENESIS_HASH.to_owned(),
        ..entry.clone()
    };
    let appended = signet_workflow::audit::append_canonical(
        Some(&prev),
        entry.at,
        &entry.actor,
        &entry.action,
        &entry.subject,
        entry.details.clone(),
        &details,
    );
    assert_eq!(appended.hash, expected);
}
