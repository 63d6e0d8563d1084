//! signet-store: the signing service's store on SQLite (rusqlite) or PostgreSQL (sqlx), no
//! compile-time checked queries.
//!
//! [`Store`] keeps the workflow values of `signet-workflow` as JSON documents plus the
//! columns the service filters on ([`Record`]), and each org's audit log as a SHA-256 hash
//! chain (`signet_workflow::audit`). One [`Store::write`] applies record inserts/updates and
//! appends audit entries in one transaction: all or nothing.
//!
//! # Several processes on one database
//!
//! Appends to an org's chain are serialized across processes inside the write transaction:
//!
//! - PostgreSQL: the first statement upserts the org's row in `audit_heads`
//!   (`INSERT … ON CONFLICT (org) DO UPDATE … RETURNING`), which locks that row until commit;
//!   a concurrent writer of the same org waits there and then reads the new head. Writers of
//!   other orgs do not wait.
//! - SQLite: the transaction starts with `BEGIN IMMEDIATE`, taking the database write lock
//!   before the head is read; other processes wait (busy timeout 10 s). Within one process
//!   every write goes to one writer thread, which commits all the writes that queued up while
//!   the previous commit ran in one transaction (group commit): concurrent writers share one
//!   fsync; a write announced ahead ([`Store::announce_write`]) is waited for up to 5 ms by
//!   a small batch, so that writes finishing one by one still share commits. A batch is first
//!   tried in one pass, each write with its own cached single-row
//!   statements and each org's head read once; if anything in it fails (a conflict, a stale
//!   version), nothing of that pass is kept and the batch runs again write by write, each in
//!   its own SAVEPOINT, so the failing write is undone alone. Every write is answered only
//!   after the commit that makes it durable. Point reads run in place on the caller's thread
//!   on pooled connections (microseconds from SQLite's page cache), scans on tokio's
//!   blocking pool (module `sqlite`, which says why SQLite is not on sqlx any more).
//!
//! Record updates are optimistic: `UPDATE … WHERE version = expected` — exactly one of
//! several updates from the same version wins, the others get [`Error::Stale`].
//!
//! # Layout
//!
//! - `records(kind, org, id, version, state, name, …, doc)`, primary key (kind, org, id),
//!   product names unique per org (partial unique index), and the record's reader and
//!   approver groups as JSON arrays in `readers` / `approvers`, which
//!   [`Filter::readable_by`] / [`Filter::decidable_by`] match (`json_each`,
//!   `jsonb_array_elements_text`) — no rows of their own to write (schema version 2 dropped
//!   `record_groups`, which held them again at four inserts per signing request);
//! - `audit_entries(org, seq, …, hash)` and `audit_heads(org, seq, hash, at)`.
//!
//! Migrations are embedded (`migrations/{sqlite,postgres}/*.sql`) and applied by
//! [`Store::connect`] under a cross-process lock.
//!
//! # Throughput
//!
//! `cargo run --release -p signet-store --example store_bench` (SQLite, durable:
//! WAL + `synchronous = FULL`; each write inserts one record and appends one
//! audit entry; a signing request is two such writes). Measured on the 2-core development VM
//! (release build, 1000 requests = 2000 writes per phase, all in one org):
//!
//! | backend | 1 task | 16 tasks |
//! |---|---|---|
//! | SQLite, durable (group commit, rusqlite writer thread) | ~4600 writes/s | ~22000–31000 writes/s |
//! | PostgreSQL 15 on loopback (test cluster, fsync off) | ~600 writes/s | ~530 writes/s |
//!
//! (The build before schema version 2, measured alongside: ~4500 and ~20000–22000; earlier
//! measurements of it gave ~3200 and ~17700 — the runs are short and the VM drifts.)
//! SQLite is bound by one fsync per commit; group commit lets concurrent writers share it
//! (before it, 16 tasks managed ~1350 writes/s; with group commit on sqlx's SQLite driver,
//! ~3100). PostgreSQL is bound by the round trips made
//! while the org's head row is locked (appends to one org are serialized by design;
//! different orgs proceed in parallel).

mod error;
mod migrate;
mod model;
mod sqlite;
mod store;

pub use error::{Error, Result, redact_url};
pub use model::{
    AuditEvent, AuditProblem, AuditReport, Backend, Filter, Kind, Page, Record, Write,
};
pub use signet_workflow::audit::AuditEntry;
pub use store::{Store, WriteAnnouncement};
