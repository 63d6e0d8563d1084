//! The store against real databases: every case runs on SQLite (a file in a temporary
//! directory) and on PostgreSQL (a fresh database on the run's server, see
//! `signet_testkit::postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::str::FromStr;
use std::sync::Arc;

use serde_json::json;
use signet_store::{AuditEvent, AuditProblem, Backend, Error, Filter, Kind, Record, Store, Write};
use signet_testkit::{TempDir, TestPostgres};
use signet_workflow::{ChainBreak, Timestamp};

/// A database to open stores on.
struct Db {
    url: String,
    _dir: Option<TempDir>,
}

impl Db {
    fn sqlite() -> Db {
        let dir = signet_testkit::tempdir().unwrap();
        Db {
            url: format!("sqlite:{}/nested/store.db", dir.path().display()),
            _dir: Some(dir),
        }
    }

    fn postgres() -> Db {
        Db {
            url: TestPostgres::shared().fresh_database(),
            _dir: None,
        }
    }

    async fn open(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }

    /// Runs raw SQL on the database behind the store's back (tampering).
    async fn exec(&self, sql: &'static str) -> u64 {
        if let Some(path) = self.url.strip_prefix("sqlite:") {
            let pool = sqlx::SqlitePool::connect_with(
                sqlx::sqlite::SqliteConnectOptions::new().filename(path),
            )
            .await
            .unwrap();
            let n = sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect_with(
                sqlx::postgres::PgConnectOptions::from_str(&self.url).unwrap(),
            )
            .await
            .unwrap();
            let n = sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
            pool.close().await;
            n
        }
    }
}

/// Generates one test per backend for each case.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::Db::postgres()).await;
                }
            )*
        }
    };
}

cases!(
    insert_get_and_list,
    duplicate_product_name_conflicts,
    stale_and_missing_updates,
    failed_write_changes_nothing,
    audit_chain_in_order,
    tampered_details_detected,
    deleted_middle_entry_detected,
    deleted_tail_detected_as_truncation,
    restart_keeps_everything,
    expired_records,
    stalled_records,
    corrupt_row_is_an_error,
    concurrent_stores_on_one_database,
    concurrent_failures_do_not_touch_other_writes,
    concurrent_inserts_keep_their_groups,
    announced_writes,
);

fn record(kind: Kind, org: &str, id: &str, name: &str, created_at: i64) -> Record {
    Record {
        kind,
        org: org.to_owned(),
        id: id.to_owned(),
        version: 0,
        state: 1,
        name: name.to_owned(),
        product_id: None,
        requester: None,
        created_at,
        updated_at: created_at,
        expires_at: None,
        readers: Vec::new(),
        approvers: Vec::new(),
        doc: json!({"id": id, "name": name, "nested": {"b": [1, 2], "a": null}}),
    }
}

fn event(at: i64, action: &str, subject: &str) -> AuditEvent {
    AuditEvent {
        at: Timestamp(at),
        actor: "alice".to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details: json!({"subject": subject, "n": at}),
    }
}

async fn insert(store: &Store, r: Record) {
    let org = r.org.clone();
    let subject = r.id.clone();
    store
        .write(
            &org,
            vec![Write::Insert(r)],
            vec![event(100, "create", &subject)],
        )
        .await
        .unwrap();
}

fn ids(records: &[Record]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

async fn insert_get_and_list(db: Db) {
    let store = db.open().await;
    store.ping().await.unwrap();
    assert_eq!(
        store.backend(),
        if db.url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    );
    let mut p = record(Kind::Product, "acme", "p1", "widget", 10);
    p.readers = vec!["devs".into(), "ops".into()];
    p.approvers = vec!["leads".into()];
    insert(&store, p.clone()).await;
    let got = store
        .get(Kind::Product, "acme", "p1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Record {
            version: 1,
            ..p.clone()
        }
    );
    assert_eq!(
        store
            .get_by_name(Kind::Product, "acme", "widget")
            .await
            .unwrap(),
        Some(got)
    );
    assert_eq!(store.get(Kind::Product, "other", "p1").await.unwrap(), None);
    assert_eq!(
        store.get(Kind::SigningRequest, "acme", "p1").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .get_by_name(Kind::Product, "acme", "nope")
            .await
            .unwrap(),
        None
    );

    // Ten signing requests with varied columns; created_at not in id order.
    for i in 0..10i64 {
        let mut r = record(
            Kind::SigningRequest,
            "acme",
            &format!("r{i}"),
            &format!("op{}", i % 2),
            1000 - i,
        );
        r.state = if i < 4 { 2 } else { 16 };
        r.product_id = Some(if i % 3 == 0 { "p1" } else { "p2" }.into());
        r.requester = Some(if i < 5 { "bob" } else { "carol" }.into());
        r.readers = vec![format!("team{}", i % 2), "all".into(), "all".into()];
        r.approvers = if i % 5 == 0 {
            vec!["leads".into()]
        } else {
            Vec::new()
        };
        insert(&store, r).await;
    }
    insert(&store, record(Kind::SigningRequest, "other", "x", "op0", 1)).await;

    let list = |filter: Filter, offset, limit| {
        let store = store.clone();
        async move {
            store
                .list(Kind::SigningRequest, "acme", &filter, offset, limit)
                .await
                .unwrap()
        }
    };
    let all = list(Filter::default(), 0, 100).await;
    assert_eq!(all.total, 10);
    assert_eq!(
        ids(&all.items),
        ["r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"]
    );
    let page = list(Filter::default(), 3, 4).await;
    assert_eq!(
        (page.total, ids(&page.items)),
        (10, vec!["r6", "r5", "r4", "r3"])
    );
    let past = list(Filter::default(), 20, 4).await;
    assert_eq!((past.total, past.items.len()), (10, 0));

    let f = list(
        Filter {
            state: Some(2),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!((f.total, ids(&f.items)), (4, vec!["r3", "r2", "r1", "r0"]));
    let f = list(
        Filter {
            name: Some("op1".into()),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r9", "r7", "r5", "r3", "r1"]);
    let f = list(
        Filter {
            product_id: Some("p1".into()),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r9", "r6", "r3", "r0"]);
    let f = list(
        Filter {
            requester: Some("carol".into()),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r9", "r8", "r7", "r6", "r5"]);
    let f = list(
        Filter {
            readable_by: Some(vec!["team1".into(), "nobody".into()]),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r9", "r7", "r5", "r3", "r1"]);
    let f = list(
        Filter {
            readable_by: Some(vec!["all".into()]),
            ..Filter::default()
        },
        0,
        2,
    )
    .await;
    assert_eq!((f.total, ids(&f.items)), (10, vec!["r9", "r8"]));
    let f = list(
        Filter {
            readable_by: Some(Vec::new()),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(f.total, 0);
    let f = list(
        Filter {
            decidable_by: Some(vec!["leads".into()]),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r5", "r0"]);
    let f = list(
        Filter {
            state: Some(2),
            requester: Some("bob".into()),
            product_id: Some("p1".into()),
            readable_by: Some(vec!["team0".into()]),
            decidable_by: Some(vec!["leads".into()]),
            name: Some("op0".into()),
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r0"]);

    // Groups are replaced on update.
    let mut r0 = store
        .get(Kind::SigningRequest, "acme", "r0")
        .await
        .unwrap()
        .unwrap();
    r0.readers = vec!["auditors".into()];
    r0.approvers = Vec::new();
    r0.updated_at = 2000;
    store
        .write(
            "acme",
            vec![Write::Update {
                record: r0.clone(),
                expected_version: 1,
            }],
            Vec::new(),
        )
        .await
        .unwrap();
    let f = list(
        Filter {
            decidable_by: Some(vec!["leads".into()]),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r5"]);
    let f = list(
        Filter {
            readable_by: Some(vec!["auditors".into()]),
            ..Filter::default()
        },
        0,
        100,
    )
    .await;
    assert_eq!(ids(&f.items), ["r0"]);
    let got = store
        .get(Kind::SigningRequest, "acme", "r0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Record {
            version: 2,
            created_at: 1000,
            ..r0
        }
    );
    // A write without audit events leaves the chain alone.
    assert_eq!(store.audit_len("acme").await.unwrap(), 11);
}

async fn duplicate_product_name_conflicts(db: Db) {
    let store = db.open().await;
    insert(&store, record(Kind::Product, "acme", "p1", "widget", 1)).await;
    let err = store
        .write(
            "acme",
            vec![Write::Insert(record(
                Kind::Product,
                "acme",
                "p2",
                "widget",
                2,
            ))],
            vec![event(2, "create", "p2")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Conflict {
            kind: Kind::Product,
            org: "acme".into(),
            key: "widget".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "product \"widget\" already exists in org acme"
    );
    let err = store
        .write(
            "acme",
            vec![Write::Insert(record(
                Kind::Product,
                "acme",
                "p1",
                "other",
                2,
            ))],
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Conflict {
            kind: Kind::Product,
            org: "acme".into(),
            key: "p1".into()
        }
    );
    assert_eq!(store.get(Kind::Product, "acme", "p2").await.unwrap(), None);
    assert_eq!(store.audit_len("acme").await.unwrap(), 1);
    // Renaming onto a taken name conflicts too.
    insert(&store, record(Kind::Product, "acme", "p3", "gadget", 3)).await;
    let renamed = record(Kind::Product, "acme", "p3", "widget", 3);
    let err = store
        .write(
            "acme",
            vec![Write::Update {
                record: renamed,
                expected_version: 1,
            }],
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { ref key, .. } if key == "widget"),
        "{err}"
    );
    // Same name: fine in another org, and for another kind.
    insert(&store, record(Kind::Product, "other", "p1", "widget", 1)).await;
    insert(
        &store,
        record(Kind::SigningRequest, "acme", "s1", "widget", 1),
    )
    .await;
    insert(
        &store,
        record(Kind::SigningRequest, "acme", "s2", "widget", 1),
    )
    .await;
    assert!(store.verify_audit("acme").await.unwrap().is_ok());
}

async fn stale_and_missing_updates(db: Db) {
    let store = db.open().await;
    let r = record(Kind::SigningRequest, "acme", "r1", "op", 1);
    insert(&store, r.clone()).await;
    let update = |v| Write::Update {
        record: Record {
            state: 4,
            ..r.clone()
        },
        expected_version: v,
    };
    store
        .write("acme", vec![update(1)], vec![event(5, "approve", "r1")])
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::SigningRequest, "acme", "r1")
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    let err = store
        .write("acme", vec![update(1)], vec![event(6, "approve", "r1")])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Stale {
            kind: Kind::SigningRequest,
            id: "r1".into(),
            expected_version: 1
        }
    );
    store
        .write("acme", vec![update(2)], Vec::new())
        .await
        .unwrap();
    assert_eq!(
        store
            .get(Kind::SigningRequest, "acme", "r1")
            .await
            .unwrap()
            .unwrap()
            .version,
        3
    );
    // The version alone, as a cache of decoded records reads it.
    assert_eq!(
        store.version(Kind::SigningRequest, "acme", "r1").await,
        Ok(Some(3))
    );
    assert_eq!(store.version(Kind::Product, "acme", "r1").await, Ok(None));
    assert_eq!(
        store.version(Kind::SigningRequest, "other", "r1").await,
        Ok(None)
    );
    assert_eq!(
        store.version(Kind::SigningRequest, "acme", "zz").await,
        Ok(None)
    );
    let missing = Write::Update {
        record: record(Kind::SigningRequest, "acme", "zz", "op", 1),
        expected_version: 1,
    };
    let err = store
        .write("acme", vec![missing], Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(store.audit_len("acme").await.unwrap(), 2);
    // A record of another org is refused.
    let err = store
        .write(
            "other",
            vec![Write::Insert(record(Kind::Product, "acme", "p", "p", 1))],
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
}

async fn failed_write_changes_nothing(db: Db) {
    let store = db.open().await;
    insert(&store, record(Kind::Product, "acme", "p1", "widget", 1)).await;
    let before = store.audit("acme", 0, 100).await.unwrap();
    // The failing write comes last: the earlier ones and the audit events must not land.
    let err = store
        .write(
            "acme",
            vec![
                Write::Insert(record(Kind::SigningRequest, "acme", "r1", "op", 2)),
                Write::Update {
                    record: Record {
                        state: 4,
                        ..record(Kind::Product, "acme", "p1", "widget", 1)
                    },
                    expected_version: 1,
                },
                Write::Insert(record(Kind::Product, "acme", "p2", "widget", 2)),
            ],
            vec![event(3, "a", "x"), event(3, "b", "y")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(
        store.get(Kind::SigningRequest, "acme", "r1").await.unwrap(),
        None
    );
    let p1 = store
        .get(Kind::Product, "acme", "p1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p1.version, p1.state), (1, 1));
    assert_eq!(store.audit("acme", 0, 100).await.unwrap(), before);
    let err = store
        .write(
            "acme",
            vec![
                Write::Insert(record(Kind::SigningRequest, "acme", "r1", "op", 2)),
                Write::Update {
                    record: p1.clone(),
                    expected_version: 7,
                },
            ],
            vec![event(3, "a", "x")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale { .. }), "{err}");
    assert_eq!(
        store.get(Kind::SigningRequest, "acme", "r1").await.unwrap(),
        None
    );
    assert_eq!(store.audit("acme", 0, 100).await.unwrap(), before);
    assert!(store.verify_audit("acme").await.unwrap().is_ok());
    // The store keeps working after failures.
    insert(&store, record(Kind::SigningRequest, "acme", "r1", "op", 2)).await;
    assert_eq!(store.audit_len("acme").await.unwrap(), 2);
}

/// Writes `n` audited records into `org`, one write each.
async fn fill(store: &Store, org: &str, n: i64) {
    for i in 0..n {
        let id = format!("r{i}");
        store
            .write(
                org,
                vec![Write::Insert(record(
                    Kind::SigningRequest,
                    org,
                    &id,
                    "op",
                    i,
                ))],
                vec![event(100 + i, "request.create", &id)],
            )
            .await
            .unwrap();
    }
}

async fn audit_chain_in_order(db: Db) {
    let store = db.open().await;
    assert_eq!(store.audit_len("acme").await.unwrap(), 0);
    assert!(store.audit_orgs().await.unwrap().is_empty());
    let empty = store.verify_audit("acme").await.unwrap();
    assert_eq!((empty.entries, empty.broken), (0, None));
    fill(&store, "acme", 3).await;
    // Several events in one write, one dated before the head (recorded at the head's time).
    let entries = store
        .write(
            "acme",
            Vec::new(),
            vec![
                event(500, "x", "s"),
                event(400, "y", "s"),
                event(600, "z", "s"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(entries[1].at, Timestamp(500));
    fill(&store, "beta", 2).await;
    let all = store.audit("acme", 0, 100).await.unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(&all[3..], &entries[..]);
    signet_workflow::audit::verify_chain(&all).unwrap();
    assert_eq!(all[0].details, json!({"subject": "r0", "n": 100}));
    assert_eq!(store.audit("acme", 2, 2).await.unwrap(), all[2..4].to_vec());
    assert_eq!(store.audit_len("acme").await.unwrap(), 6);
    assert_eq!(store.audit_orgs().await.unwrap(), ["acme", "beta"]);
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!(report.entries, 6);
    assert_eq!(report.head, signet_workflow::audit::head(&all));
    assert_eq!(report.broken, None);
    assert!(store.verify_audit("beta").await.unwrap().is_ok());
}

/// Writes announced before they are made (as the service does while a signature is being
/// made) are stored like any other; withdrawn announcements and one never fulfilled while
/// others write hold nothing up for long.
async fn announced_writes(db: Db) {
    let store = db.open().await;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let announced = store.announce_write();
                tokio::task::yield_now().await;
                if i % 3 == 0 {
                    // The signature failed: nothing to store.
                    drop(announced);
                    return;
                }
                let id = format!("r{i:02}");
                store
                    .write_announced(
                        Some(announced),
                        "acme",
                        vec![Write::Insert(record(
                            Kind::SigningRequest,
                            "acme",
                            &id,
                            "req",
                            100,
                        ))],
                        vec![event(100, "create", &id)],
                    )
                    .await
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let never = store.announce_write();
    insert(
        &store,
        record(Kind::SigningRequest, "acme", "r99", "req", 100),
    )
    .await;
    drop(never);
    let page = store
        .list(Kind::SigningRequest, "acme", &Filter::default(), 0, 100)
        .await
        .unwrap();
    assert_eq!(page.total, 17);
    assert_eq!(store.audit_len("acme").await.unwrap(), 17);
    assert!(store.verify_audit("acme").await.unwrap().is_ok());
}

async fn tampered_details_detected(db: Db) {
    let store = db.open().await;
    fill(&store, "acme", 5).await;
    fill(&store, "beta", 5).await;
    let n = db.exec("UPDATE audit_entries SET details = '{\"subject\":\"forged\"}' WHERE org = 'acme' AND seq = 2").await;
    assert_eq!(n, 1);
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!(
        report.broken,
        Some(AuditProblem::Broken {
            seq: 2,
            reason: ChainBreak::HashMismatch
        })
    );
    assert!(store.verify_audit("beta").await.unwrap().is_ok());
    // Undecodable details are a changed entry too.
    db.exec("UPDATE audit_entries SET details = 'not json' WHERE org = 'beta' AND seq = 3")
        .await;
    let report = store.verify_audit("beta").await.unwrap();
    assert_eq!(
        report.broken,
        Some(AuditProblem::Broken {
            seq: 3,
            reason: ChainBreak::HashMismatch
        })
    );
}

async fn deleted_middle_entry_detected(db: Db) {
    let store = db.open().await;
    fill(&store, "acme", 5).await;
    assert_eq!(
        db.exec("DELETE FROM audit_entries WHERE org = 'acme' AND seq = 2")
            .await,
        1
    );
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!(
        report.broken,
        Some(AuditProblem::Broken {
            seq: 2,
            reason: ChainBreak::SequenceGap {
                expected: 2,
                found: 3
            }
        })
    );
    let chain_error = report.broken.unwrap().as_chain_error().unwrap();
    assert!(matches!(
        chain_error,
        signet_workflow::Error::ChainBroken { seq: 2, .. }
    ));
}

async fn deleted_tail_detected_as_truncation(db: Db) {
    let store = db.open().await;
    fill(&store, "acme", 5).await;
    assert_eq!(
        db.exec("DELETE FROM audit_entries WHERE org = 'acme' AND seq >= 3")
            .await,
        2
    );
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!(
        report.broken,
        Some(AuditProblem::Truncated {
            head_seq: 4,
            last_seq: Some(2)
        })
    );
    assert!(report.broken.unwrap().to_string().contains("truncated"));
    // Rolling the head back too is caught by nothing but an external copy of the head;
    // rewriting the last entry's hash without the head is a head mismatch.
    fill(&store, "beta", 3).await;
    db.exec("UPDATE audit_heads SET hash = 'ff' WHERE org = 'beta'")
        .await;
    assert_eq!(
        store.verify_audit("beta").await.unwrap().broken,
        Some(AuditProblem::HeadMismatch { seq: 2 })
    );
    // Every entry gone but the head: truncated to nothing.
    fill(&store, "gamma", 2).await;
    db.exec("DELETE FROM audit_entries WHERE org = 'gamma'")
        .await;
    assert_eq!(
        store.verify_audit("gamma").await.unwrap().broken,
        Some(AuditProblem::Truncated {
            head_seq: 1,
            last_seq: None
        })
    );
    // Entries without a head.
    fill(&store, "delta", 2).await;
    db.exec("DELETE FROM audit_heads WHERE org = 'delta'").await;
    assert_eq!(
        store.verify_audit("delta").await.unwrap().broken,
        Some(AuditProblem::HeadMissing { entries: 2 })
    );
}

async fn restart_keeps_everything(db: Db) {
    let store = db.open().await;
    fill(&store, "acme", 4).await;
    let mut p = record(Kind::Product, "acme", "p1", "widget", 1);
    p.readers = vec!["devs".into()];
    insert(&store, p.clone()).await;
    let audit = store.audit("acme", 0, 100).await.unwrap();
    store.close().await;
    drop(store);

    let store = db.open().await;
    assert_eq!(
        store.get(Kind::Product, "acme", "p1").await.unwrap(),
        Some(Record { version: 1, ..p })
    );
    assert_eq!(store.audit("acme", 0, 100).await.unwrap(), audit);
    let f = Filter {
        readable_by: Some(vec!["devs".into()]),
        ..Filter::default()
    };
    assert_eq!(
        store
            .list(Kind::Product, "acme", &f, 0, 10)
            .await
            .unwrap()
            .total,
        1
    );
    let entries = store
        .write("acme", Vec::new(), vec![event(1000, "again", "x")])
        .await
        .unwrap();
    assert_eq!(entries[0].seq, 5);
    assert_eq!(entries[0].prev_hash, audit[4].hash);
    assert!(store.verify_audit("acme").await.unwrap().is_ok());
}

async fn expired_records(db: Db) {
    let store = db.open().await;
    for (org, id, state, expires_at) in [
        ("acme", "a", 1, Some(100)),
        ("acme", "b", 2, Some(50)),
        ("acme", "c", 4, Some(10)),
        ("acme", "d", 2, Some(101)),
        ("acme", "e", 2, None),
        ("beta", "f", 2, Some(100)),
        ("beta", "g", 64, Some(1)),
    ] {
        let mut r = record(Kind::SigningRequest, org, id, "op", 1);
        r.state = state;
        r.expires_at = expires_at;
        insert(&store, r).await;
    }
    let mut p = record(Kind::ProductRequest, "acme", "pr", "op", 1);
    p.expires_at = Some(1);
    insert(&store, p).await;
    let expired = store.expired(Kind::SigningRequest, 100, 100).await.unwrap();
    assert_eq!(ids(&expired), ["b", "a", "f"]);
    assert_eq!(expired[2].org, "beta");
    assert_eq!(
        ids(&store.expired(Kind::SigningRequest, 100, 1).await.unwrap()),
        ["b"]
    );
    assert_eq!(
        ids(&store.expired(Kind::ProductRequest, 100, 10).await.unwrap()),
        ["pr"]
    );
    assert!(
        store
            .expired(Kind::SigningRequest, 49, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn stalled_records(db: Db) {
    let store = db.open().await;
    for (org, id, state, updated_at) in [
        ("acme", "a", 8, 100),
        ("acme", "b", 8, 50),
        ("acme", "c", 16, 10),
        ("acme", "d", 8, 101),
        ("beta", "e", 8, 100),
    ] {
        let mut r = record(Kind::SigningRequest, org, id, "op", 1);
        r.state = state;
        r.updated_at = updated_at;
        insert(&store, r).await;
    }
    let stalled = store
        .stalled(Kind::SigningRequest, 8, 100, 10)
        .await
        .unwrap();
    assert_eq!(ids(&stalled), ["b", "a", "e"]);
    assert_eq!(
        ids(&store
            .stalled(Kind::SigningRequest, 8, 100, 1)
            .await
            .unwrap()),
        ["b"]
    );
    assert!(
        store
            .stalled(Kind::SigningRequest, 16, 5, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .stalled(Kind::Product, 8, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn corrupt_row_is_an_error(db: Db) {
    let store = db.open().await;
    insert(&store, record(Kind::Product, "acme", "p1", "widget", 1)).await;
    db.exec("UPDATE records SET doc = '{broken' WHERE id = 'p1'")
        .await;
    let err = store.get(Kind::Product, "acme", "p1").await.unwrap_err();
    assert!(
        matches!(err, Error::Corrupt { ref id, .. } if id == "p1"),
        "{err}"
    );
    assert!(!err.to_string().contains('\n'));
    let err = store
        .list(Kind::Product, "acme", &Filter::default(), 0, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

async fn concurrent_stores_on_one_database(db: Db) {
    // Two stores = two pools, as two replicas would have (they start at the same time: the
    // migrations must serialize).
    let (a, b) = tokio::join!(Store::connect(&db.url), Store::connect(&db.url));
    let stores = [Arc::new(a.unwrap()), Arc::new(b.unwrap())];
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..10 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    let id = format!("s{s}-t{t}-{i}");
                    let org = if i % 2 == 0 { "acme" } else { "beta" };
                    store
                        .write(
                            org,
                            vec![Write::Insert(record(
                                Kind::SigningRequest,
                                org,
                                &id,
                                "op",
                                i,
                            ))],
                            vec![event(1000 + i, "request.create", &id)],
                        )
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for org in ["acme", "beta"] {
        let report = stores[0].verify_audit(org).await.unwrap();
        assert_eq!((report.entries, report.broken), (100, None), "{org}");
        let page = stores[1]
            .list(Kind::SigningRequest, org, &Filter::default(), 0, 1000)
            .await
            .unwrap();
        assert_eq!(page.total, 100);
        let audit = stores[1].audit(org, 0, 1000).await.unwrap();
        let mut subjects: Vec<&str> = audit.iter().map(|e| e.subject.as_str()).collect();
        subjects.sort_unstable();
        let mut recorded = ids(&page.items);
        recorded.sort_unstable();
        assert_eq!(subjects, recorded);
    }

    // Twenty updates from version 1, from both stores at once: exactly one wins.
    let r = record(Kind::SigningRequest, "acme", "contested", "op", 1);
    insert(&stores[0], r.clone()).await;
    let mut tasks = Vec::new();
    for i in 0..20u32 {
        let store = stores[(i % 2) as usize].clone();
        let r = Record {
            state: 4,
            name: format!("winner{i}"),
            ..r.clone()
        };
        tasks.push(tokio::spawn(async move {
            store
                .write(
                    "acme",
                    vec![Write::Update {
                        record: r,
                        expected_version: 1,
                    }],
                    vec![event(2000, "approve", "contested")],
                )
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(Error::Stale { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(wins, 1);
    let got = stores[1]
        .get(Kind::SigningRequest, "acme", "contested")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.version, 2);
    assert!(got.name.starts_with("winner"));
    let report = stores[1].verify_audit("acme").await.unwrap();
    assert_eq!((report.entries, report.broken), (102, None));
}

/// Many writes at once (SQLite commits them in groups): the ones that fail (duplicate
/// names) leave no trace, the others all land with their audit entries.
async fn concurrent_failures_do_not_touch_other_writes(db: Db) {
    let store = Arc::new(db.open().await);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("p{i}");
                let name = format!("name{}", i % 10);
                store
                    .write(
                        "acme",
                        vec![Write::Insert(record(Kind::Product, "acme", &id, &name, i))],
                        vec![
                            event(100, "product.submit", &id),
                            event(100, "key.generate", &id),
                        ],
                    )
                    .await
            })
        })
        .collect();
    let (mut ok, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(entries) => {
                assert_eq!(entries.len(), 2);
                ok += 1;
            }
            Err(Error::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, conflicts), (10, 90));
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!((report.entries, report.broken), (20, None));
    let page = store
        .list(Kind::Product, "acme", &Filter::default(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(page.total, 10);
    let audit = store.audit("acme", 0, 100).await.unwrap();
    for r in &page.items {
        assert_eq!(
            audit.iter().filter(|e| e.subject == r.id).count(),
            2,
            "{}",
            r.id
        );
    }
}

/// Inserts committed together (SQLite writes them with multi-row statements) keep their
/// reader and approver groups for filtered listing.
async fn concurrent_inserts_keep_their_groups(db: Db) {
    let store = Arc::new(db.open().await);
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = format!("r{i}");
                let mut r = record(Kind::SigningRequest, "acme", &id, "op", i);
                r.readers = vec![
                    format!("readers{}", i % 3),
                    "all".to_owned(),
                    "all".to_owned(),
                ];
                r.approvers = vec!["approvers".to_owned(), "all".to_owned()];
                store
                    .write(
                        "acme",
                        vec![Write::Insert(r)],
                        vec![event(100, "request.create", &id)],
                    )
                    .await
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let count = |filter: Filter| {
        let store = store.clone();
        async move {
            store
                .list(Kind::SigningRequest, "acme", &filter, 0, 1000)
                .await
                .unwrap()
                .total
        }
    };
    let readable = |groups: &[&str]| Filter {
        readable_by: Some(groups.iter().map(|g| (*g).to_owned()).collect()),
        ..Filter::default()
    };
    assert_eq!(count(readable(&["readers0"])).await, 20);
    assert_eq!(count(readable(&["readers1", "readers2"])).await, 40);
    assert_eq!(count(readable(&["all"])).await, 60);
    assert_eq!(count(readable(&["approvers"])).await, 0);
    let decidable = Filter {
        decidable_by: Some(vec!["approvers".to_owned()]),
        ..Filter::default()
    };
    assert_eq!(count(decidable).await, 60);
    let got = store
        .get(Kind::SigningRequest, "acme", "r4")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.readers, ["readers1", "all", "all"]);
    assert_eq!(got.version, 1);
    let report = store.verify_audit("acme").await.unwrap();
    assert_eq!((report.entries, report.broken), (60, None));
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_passwords() {
    for url in [
        "mysql://root:hunter2@db/x",
        "sqlite:",
        "sqlite::memory:",
        "",
        "http://a:hunter2@b",
    ] {
        let err = Store::connect(url).await.unwrap_err();
        assert!(matches!(err, Error::UnsupportedUrl { .. }), "{url}: {err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn postgres_errors_never_contain_the_password() {
    let pg = TestPostgres::shared();
    // The password is ignored by trust authentication; the database does not exist.
    let url = pg.database_url("no_such_database").replacen(
        "postgres://postgres@",
        "postgres://postgres:Sup3rSecret%21pw@",
        1,
    ) + "?application_name=Sup3rSecret!pw";
    assert!(url.contains("Sup3rSecret"), "{url}");
    let err = Store::connect(&url).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            Error::Database {
                operation: "connect",
                ..
            }
        ),
        "{message}"
    );
    assert!(!message.contains("Sup3rSecret"), "{message}");
    assert!(message.contains("postgres:***@"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    // A server that is not there.
    let err = Store::connect("postgres://u:Sup3rSecret@127.0.0.1:1/db")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("Sup3rSecret"), "{err}");
    assert!(!format!("{err:?}").contains("Sup3rSecret"), "{err:?}");
}
