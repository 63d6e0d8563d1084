//! Measures [`Store::write`] throughput: each signing request is two writes, as in the
//! service (insert + audit entry, then an update + audit entry), first from one task, then
//! from 16 concurrent tasks.
//!
//! ```text
//! cargo run --release -p signet-store --example store_bench [URL] [REQUESTS]
//! ```
//!
//! Without a URL it uses a fresh SQLite file (durable: WAL, `synchronous = FULL`) in a
//! temporary directory (set `TMPDIR` to choose the disk).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use signet_store::{AuditEvent, Kind, Record, Store, Write};
use signet_workflow::Timestamp;

fn request(org: &str, id: &str) -> Record {
    Record {
        kind: Kind::SigningRequest,
        org: org.to_owned(),
        id: id.to_owned(),
        version: 0,
        state: 2,
        name: "sign".to_owned(),
        product_id: Some("product-1".to_owned()),
        requester: Some("alice".to_owned()),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
        expires_at: Some(1_700_086_400),
        readers: vec!["developers".to_owned(), "auditors".to_owned()],
        approvers: vec!["approvers".to_owned()],
        doc: json!({
            "id": id, "product": "product-1", "operation": "sign", "state": 2,
            "digest": {"hashAlgorithm": "SHA256", "digest": "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="},
            "approvals": [], "requester": "alice",
        }),
    }
}

fn event(action: &str, subject: &str) -> AuditEvent {
    AuditEvent {
        at: Timestamp(1_700_000_000),
        actor: "alice".to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details: json!({"operation": "sign"}),
    }
}

/// One signing request's two writes.
async fn one_request(store: &Store, id: &str) {
    let r = request("acme", id);
    store
        .write(
            "acme",
            vec![Write::Insert(r.clone())],
            vec![event("request.create", id)],
        )
        .await
        .unwrap();
    let approved = Record {
        state: 4,
        updated_at: r.updated_at + 1,
        ..r
    };
    store
        .write(
            "acme",
            vec![Write::Update {
                record: approved,
                expected_version: 1,
            }],
            vec![event("request.approve", id)],
        )
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite:{}/bench.db", dir.path().display()));
    let requests: usize = args.next().map_or(1000, |n| n.parse().unwrap());
    let store = Arc::new(Store::connect(&url).await.unwrap());

    let start = Instant::now();
    for i in 0..requests {
        one_request(&store, &format!("single-{i}")).await;
    }
    report("1 task", requests, start);

    let tasks = 16;
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..requests / tasks {
                    one_request(&store, &format!("multi-{t}-{i}")).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    report("16 tasks", requests / tasks * tasks, start);
    let check = store.verify_audit("acme").await.unwrap();
    assert!(check.is_ok(), "{:?}", check.broken);
    println!("audit chain verified: {} entries", check.entries);
}

fn report(what: &str, requests: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    let writes = requests as f64 * 2.0;
    println!(
        "{what:>9}: {requests} requests ({writes} writes) in {secs:.2}s = {:.0} writes/s, {:.0} requests/s",
        writes / secs,
        requests as f64 / secs
    );
}
