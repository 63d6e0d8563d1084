//! The SQLite backend on rusqlite: reads on pooled connections, and one writer thread that
//! commits every write that has queued up in one transaction (group commit).
//!
//! Why not sqlx here (it still serves PostgreSQL and runs the migrations): sqlx's SQLite
//! driver runs every connection on its own thread and hands each statement over through
//! channels, binds `$N` parameters by looking their names up one by one, and has no way to
//! keep a statement per row without re-parsing multi-row SQL. On the signing service's hot
//! path (one product read and one durable write per request) that cost several hundred
//! microseconds of CPU per request, more than everything else the service does. Here a
//! point read runs in place on the caller's thread (microseconds, from SQLite's page
//! cache), scans run on tokio's blocking pool, and the writer thread keeps its prepared
//! statements: a write is a few single-row statements inside its own SAVEPOINT.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use signet_workflow::audit::{AuditEntry, GENESIS_HASH};

use crate::error::{Error, Result};
use crate::model::{AuditEvent, Kind, Record};
use crate::store::{
    Prepared, RowExt, audit_from_row, chain, head_entry, head_of, record_from_row, to_i64,
};

/// Most writes committed together.
const GROUP_COMMIT_MAX: usize = 256;
/// How long the writer holds a commit for announced writes that have not arrived yet
/// ([`Intent`]): a commit costs an fsync, and at a few hundred writes per second (RSA-4096
/// signatures finishing one by one) nearly every write would otherwise pay one alone.
pub(crate) const COMMIT_DELAY: Duration = Duration::from_millis(5);
/// Writes sharing a commit past which the writer no longer waits for announced ones.
const COMMIT_SHARED: usize = 8;
/// Idle read connections kept open.
const IDLE_READERS: usize = 8;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// A write waiting for the writer thread.
pub(crate) struct Job {
    pub org: String,
    pub prepared: Vec<Prepared>,
    pub audit: Vec<AuditEvent>,
    pub details: Vec<String>,
    /// The announcement this write fulfils, if it was announced.
    pub intent: Option<Intent>,
}

/// A write announced before it is ready (a signature is being made whose outcome will be
/// stored). While announced writes are on their way, the writer holds a small batch up to
/// [`COMMIT_DELAY`] so that they share its commit (PostgreSQL's `commit_delay` with
/// `commit_siblings`, driven by announcements instead of open transactions). An intent
/// whose write reaches the writer is settled there; one dropped without a write (the
/// signature failed, the write was refused before it was queued) withdraws itself and wakes
/// the writer, which then stops waiting for it.
pub(crate) struct Intent {
    expected: Arc<AtomicUsize>,
    writer: Sender<Message>,
    settled: bool,
}

impl Intent {
    /// The write has reached the writer thread.
    fn arrive(mut self) {
        self.expected.fetch_sub(1, Ordering::AcqRel);
        self.settled = true;
    }
}

impl Drop for Intent {
    fn drop(&mut self) {
        if !self.settled {
            self.expected.fetch_sub(1, Ordering::AcqRel);
            let _ = self.writer.send(Message::Wake);
        }
    }
}

/// The answer to a write.
type Reply = tokio::sync::oneshot::Sender<Result<Vec<AuditEntry>>>;

/// What the writer thread is asked.
enum Message {
    Write(Job, Reply),
    /// Finish what is queued, then stop and say so.
    Close(tokio::sync::oneshot::Sender<()>),
    /// An announced write was withdrawn: stop waiting for it.
    Wake,
}

/// A SQLite database: a pool of read connections and the writer thread's queue.
pub(crate) struct Sqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Sender<Message>,
    /// Announced writes that have not reached the writer thread.
    expected: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

pub(crate) fn db(operation: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |e| Error::Database {
        operation,
        message: crate::error::one_line(&e.to_string()),
    }
}

/// Opens a connection with the store's settings.
fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// `$N` placeholders (shared with the PostgreSQL SQL) as SQLite's numbered `?N`: SQLite
/// numbers `$N` names in the order they first appear, not by N.
pub(crate) fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

impl RowExt for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String, String> {
        self.get(i).map_err(|e| e.to_string())
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        self.get(i).map_err(|e| e.to_string())
    }
    fn int(&self, i: usize) -> Result<i64, String> {
        self.get(i).map_err(|e| e.to_string())
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        self.get(i).map_err(|e| e.to_string())
    }
}

impl Sqlite {
    /// Opens the (already migrated, WAL) database at `path` and starts the writer thread.
    /// The writer holds a commit up to `commit_delay` for announced writes.
    pub(crate) fn open(
        path: &Path,
        busy_timeout: Duration,
        commit_delay: Duration,
    ) -> Result<Sqlite> {
        let connect = db("connect");
        let writer_conn = open(path, busy_timeout).map_err(&connect)?;
        writer_conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(&connect)?;
        // Savepoints' statement journals in memory, not in temporary files.
        writer_conn
            .pragma_update(None, "temp_store", "MEMORY")
            .map_err(&connect)?;
        let (writer, jobs) = std::sync::mpsc::channel();
        let expected = Arc::new(AtomicUsize::new(0));
        let hold = Hold {
            expected: expected.clone(),
            delay: commit_delay,
        };
        std::thread::Builder::new()
            .name("signet-sqlite-writer".to_owned())
            .spawn(move || write_loop(writer_conn, &jobs, &hold))
            .map_err(|e| Error::Database {
                operation: "connect",
                message: format!("cannot start the SQLite writer thread: {e}"),
            })?;
        Ok(Sqlite {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer,
            expected,
        })
    }

    /// Announces a write (see [`Intent`]).
    pub(crate) fn announce(&self) -> Intent {
        self.expected.fetch_add(1, Ordering::AcqRel);
        Intent {
            expected: self.expected.clone(),
            writer: self.writer.clone(),
            settled: false,
        }
    }

    /// Runs `f` on a read connection, in place (point reads: microseconds).
    pub(crate) fn read<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let idle = self.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, Duration::from_secs(10)).map_err(db(operation))?,
        };
        let out = f(&conn);
        if let Ok(mut readers) = self.readers.lock()
            && readers.len() < IDLE_READERS
        {
            readers.push(conn);
        }
        out
    }

    /// Runs `f` on a read connection on tokio's blocking pool (scans).
    pub(crate) async fn scan<T: Send + 'static>(
        self: &Arc<Self>,
        operation: &'static str,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.read(operation, f))
            .await
            .map_err(|e| Error::Database {
                operation,
                message: format!("the read task failed: {e}"),
            })?
    }

    /// The records a query with `args` selects, decoded as `kind`.
    pub(crate) fn records(
        conn: &Connection,
        operation: &'static str,
        kind: Kind,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Record>> {
        let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(db(operation))?;
        let mut rows = stmt.query(args).map_err(db(operation))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db(operation))? {
            out.push(record_from_row(kind, row)?);
        }
        Ok(out)
    }

    /// Audit entries a query with `args` selects.
    pub(crate) fn audit_entries(
        conn: &Connection,
        org: &str,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<AuditEntry>> {
        let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(db("audit"))?;
        let mut rows = stmt.query(args).map_err(db("audit"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db("audit"))? {
            out.push(audit_from_row(org, row)?);
        }
        Ok(out)
    }

    /// Queues a write for the writer thread and waits until it is committed (durable) or
    /// refused.
    pub(crate) async fn write(&self, job: Job) -> Result<Vec<AuditEntry>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || Error::Database {
            operation: "write",
            message: "the SQLite writer has stopped".to_owned(),
        };
        self.writer
            .send(Message::Write(job, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Lets the writer finish what is queued and stop; drops the idle read connections.
    pub(crate) async fn close(&self) {
        let (done, stopped) = tokio::sync::oneshot::channel();
        if self.writer.send(Message::Close(done)).is_ok() {
            let _ = stopped.await;
        }
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
    }
}

/// When the writer holds a commit for announced writes.
struct Hold {
    /// Announced writes that have not reached the writer.
    expected: Arc<AtomicUsize>,
    /// How long, at most, from the batch's first write.
    delay: Duration,
}

/// The writer thread: takes every write that has queued up (at most [`GROUP_COMMIT_MAX`]),
/// and while announced writes are on their way and fewer than [`COMMIT_SHARED`] are in the
/// batch, waits up to `hold.delay` for more; then applies them in one `BEGIN IMMEDIATE`
/// transaction and commits once, so concurrent requests share one fsync ([`commit_batch`]:
/// one pass, and only if a write fails, again with a SAVEPOINT per write). A write that
/// fails is answered at once; the others after the commit (durable) or with the commit's
/// error. Ends when asked to close or when every sender is gone.
fn write_loop(mut conn: Connection, jobs: &Receiver<Message>, hold: &Hold) {
    let take = |message: Message,
                batch: &mut Vec<(Job, Reply)>,
                close: &mut Option<tokio::sync::oneshot::Sender<()>>| match message {
        Message::Write(mut job, reply) => {
            if let Some(intent) = job.intent.take() {
                intent.arrive();
            }
            batch.push((job, reply));
        }
        Message::Close(done) => *close = Some(done),
        Message::Wake => {}
    };
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::new();
        let mut close = None;
        take(first, &mut batch, &mut close);
        let deadline = Instant::now() + hold.delay;
        while close.is_none() && batch.len() < GROUP_COMMIT_MAX {
            let message = match jobs.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if batch.is_empty()
                        || batch.len() >= COMMIT_SHARED
                        || hold.expected.load(Ordering::Acquire) == 0
                        || left.is_zero()
                    {
                        break;
                    }
                    match jobs.recv_timeout(left) {
                        Ok(message) => message,
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            take(message, &mut batch, &mut close);
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, batch);
        }
        if let Some(done) = close {
            let _ = done.send(());
            return;
        }
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<(Job, Reply)>) {
    // Most batches have no failing write: apply them all in one pass without savepoints
    // (a savepoint copies every page it is about to change first). If anything fails,
    // nothing of that pass is kept and the batch runs again write by write, each in its
    // own savepoint, so only the failing write is refused.
    if batch.len() > 1
        && let Ok(results) = try_batch(conn, &batch)
    {
        for ((_, reply), entries) in batch.into_iter().zip(results) {
            let _ = reply.send(Ok(entries));
        }
        return;
    }
    commit_one_by_one(conn, batch);
}

/// The whole batch in one transaction; any error fails (and rolls back) the whole attempt.
fn try_batch(conn: &mut Connection, batch: &[(Job, Reply)]) -> Result<Vec<Vec<AuditEntry>>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db("write"))?;
    let mut heads: HashMap<&str, Option<AuditEntry>> = HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    for (job, _) in batch {
        let entries = apply(&tx, job, heads.get(job.org.as_str()).cloned())?;
        if let Some(last) = entries.last() {
            heads.insert(job.org.as_str(), Some(head_of(last)));
        }
        results.push(entries);
    }
    tx.commit().map_err(db("commit"))?;
    Ok(results)
}

/// Each write in its own savepoint of one transaction: a failing write is undone alone.
fn commit_one_by_one(conn: &mut Connection, batch: Vec<(Job, Reply)>) {
    let fail_all = |batch: Vec<(Job, Reply)>, e: rusqlite::Error| {
        let message = crate::error::one_line(&e.to_string());
        for (_, reply) in batch {
            let _ = reply.send(Err(Error::Database {
                operation: "write",
                message: message.clone(),
            }));
        }
    };
    // IMMEDIATE: take the write lock before reading any head, so no other process can
    // append in between.
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch, e),
    };
    // Each org's chain head as of the last write that succeeded in this transaction.
    let mut heads: HashMap<String, Option<AuditEntry>> = HashMap::new();
    let mut done = Vec::with_capacity(batch.len());
    for (job, reply) in batch {
        let mut savepoint = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                let _ = reply.send(Err(db("write")(e)));
                continue;
            }
        };
        let known = heads.get(&job.org).cloned();
        match apply(&savepoint, &job, known) {
            Ok(entries) => match savepoint.commit() {
                Ok(()) => {
                    if let Some(last) = entries.last() {
                        heads.insert(job.org.clone(), Some(head_of(last)));
                    }
                    done.push((reply, entries));
                }
                Err(e) => {
                    let _ = reply.send(Err(db("write")(e)));
                }
            },
            Err(err) => {
                savepoint.set_drop_behavior(rusqlite::DropBehavior::Rollback);
                let undone = savepoint.finish().is_ok();
                let _ = reply.send(Err(err));
                if !undone {
                    // The transaction is in an unknown state: commit nothing.
                    drop(tx);
                    for (reply, _) in done {
                        let _ = reply.send(Err(Error::Database {
                            operation: "write",
                            message: "a failed write could not be rolled back; retry".to_owned(),
                        }));
                    }
                    return;
                }
            }
        }
    }
    match tx.commit() {
        Ok(()) => {
            for (reply, entries) in done {
                let _ = reply.send(Ok(entries));
            }
        }
        Err(e) => {
            let message = crate::error::one_line(&e.to_string());
            for (reply, _) in done {
                let _ = reply.send(Err(Error::Database {
                    operation: "commit",
                    message: message.clone(),
                }));
            }
        }
    }
}

/// One write: its records and groups, then its audit entries after `known` (the org's
/// head if this transaction already moved it, else read and locked here).
fn apply(
    conn: &Connection,
    job: &Job,
    known: Option<Option<AuditEntry>>,
) -> Result<Vec<AuditEntry>> {
    let org = job.org.as_str();
    let err = db("write");
    let prev = match (job.audit.is_empty(), known) {
        (true, _) => None,
        (false, Some(head)) => head,
        (false, None) => lock_head(conn, org)?,
    };
    for w in &job.prepared {
        write_record(conn, org, w)?;
    }
    if job.audit.is_empty() {
        return Ok(Vec::new());
    }
    let entries = chain(prev.as_ref(), &job.audit, &job.details);
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO audit_entries (org, seq, at, actor, action, subject, details, \
             prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(&err)?;
    for (entry, details) in entries.iter().zip(&job.details) {
        insert
            .execute(params![
                org,
                to_i64(entry.seq),
                entry.at.unix_seconds(),
                entry.actor,
                entry.action,
                entry.subject,
                details,
                entry.prev_hash,
                entry.hash,
            ])
            .map_err(&err)?;
    }
    if let Some(last) = entries.last() {
        conn.prepare_cached("UPDATE audit_heads SET seq = ?2, hash = ?3, at = ?4 WHERE org = ?1")
            .and_then(|mut s| {
                s.execute(params![
                    org,
                    to_i64(last.seq),
                    last.hash,
                    last.at.unix_seconds()
                ])
            })
            .map_err(&err)?;
    }
    Ok(entries)
}

/// Creates the org's head row if missing (the transaction holds the write lock) and returns
/// the head; None for an empty chain (`seq = -1`).
fn lock_head(conn: &Connection, org: &str) -> Result<Option<AuditEntry>> {
    let (seq, hash, at): (i64, String, i64) = conn
        .prepare_cached(&numbered(crate::store::LOCK_HEAD))
        .and_then(|mut s| {
            s.query_row(params![org, GENESIS_HASH, i64::MIN], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
        })
        .map_err(db("write"))?;
    Ok(u64::try_from(seq).ok().map(|seq| head_entry(seq, hash, at)))
}

/// Inserts or updates one record.
fn write_record(conn: &Connection, org: &str, w: &Prepared) -> Result<()> {
    let r = &w.record;
    let err = db("write");
    let sql = match w.expected_version {
        None => crate::store::INSERT_RECORD,
        Some(_) => crate::store::UPDATE_RECORD,
    };
    let changed = conn
        .prepare_cached(&numbered(sql))
        .and_then(|mut s| {
            s.execute(params![
                r.kind.as_str(),
                org,
                r.id,
                i64::from(r.state),
                r.name,
                r.product_id,
                r.requester,
                w.expected_version.unwrap_or(r.created_at),
                r.updated_at,
                r.expires_at,
                w.readers,
                w.approvers,
                w.doc,
            ])
        })
        .map_err(|e| write_err(r, e))?;
    if let Some(expected_version) = w.expected_version
        && changed == 0
    {
        let found = conn
            .prepare_cached(&numbered(crate::store::RECORD_VERSION))
            .and_then(|mut s| {
                s.query_row(params![r.kind.as_str(), org, r.id], |row| {
                    row.get::<_, i64>(0)
                })
                .optional()
            })
            .map_err(&err)?;
        return Err(match found {
            None => Error::NotFound {
                kind: r.kind,
                org: org.to_owned(),
                id: r.id.clone(),
            },
            Some(_) => Error::Stale {
                kind: r.kind,
                id: r.id.clone(),
                expected_version,
            },
        });
    }
    Ok(())
}

/// Maps a failed record INSERT/UPDATE: unique violations become [`Error::Conflict`].
fn write_err(record: &Record, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e
        && matches!(
            failure.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    {
        let on_name = message
            .as_deref()
            .is_some_and(|m| m.contains("records.name"));
        return Error::Conflict {
            kind: record.kind,
            org: record.org.clone(),
            key: if on_name {
                record.name.clone()
            } else {
                record.id.clone()
            },
        };
    }
    db("write")(e)
}

#[cfg(test)]
mod tests {
    //! The writer's hold for announced writes, with a hold far longer than any test takes:
    //! a batch that waits is seen waiting, and one that must not wait finishes long before
    //! the hold would end.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use signet_workflow::Timestamp;

    const LONG_HOLD: Duration = Duration::from_secs(120);
    /// Far below [`LONG_HOLD`]: a write that is not held finishes within it.
    const PROMPTLY: Duration = Duration::from_secs(20);

    /// A migrated database whose writer holds batches for [`LONG_HOLD`].
    async fn database() -> (tempfile::TempDir, Arc<Sqlite>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = crate::Store::connect(&format!("sqlite:{}", path.display()))
            .await
            .unwrap();
        store.close().await;
        let db = Arc::new(Sqlite::open(&path, Duration::from_secs(10), LONG_HOLD).unwrap());
        (dir, db)
    }

    /// A write of one audit event.
    fn job(subject: &str, intent: Option<Intent>) -> Job {
        let event = AuditEvent {
            at: Timestamp(1_700_000_000),
            actor: "alice".to_owned(),
            action: "test.write".to_owned(),
            subject: subject.to_owned(),
            details: serde_json::json!({ "subject": subject }),
        };
        Job {
            org: "acme".to_owned(),
            prepared: Vec::new(),
            details: vec![signet_workflow::audit::canonical(&event.details)],
            audit: vec![event],
            intent,
        }
    }

    fn spawn_write(db: &Arc<Sqlite>, job: Job) -> tokio::task::JoinHandle<Result<Vec<AuditEntry>>> {
        let db = db.clone();
        tokio::spawn(async move { db.write(job).await })
    }

    /// Queues a write of `subject` while something is announced, gives the writer time to
    /// take it, and checks that it has not answered.
    async fn held_write(
        db: &Arc<Sqlite>,
        subject: &str,
    ) -> tokio::task::JoinHandle<Result<Vec<AuditEntry>>> {
        let write = spawn_write(db, job(subject, None));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!write.is_finished(), "the write was not held");
        write
    }

    async fn finished(write: tokio::task::JoinHandle<Result<Vec<AuditEntry>>>) -> Vec<AuditEntry> {
        tokio::time::timeout(PROMPTLY, write)
            .await
            .expect("the write was held too long")
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn a_commit_waits_for_an_announced_write_and_shares_it() {
        let (_dir, db) = database().await;
        let announced = db.announce();
        let first = held_write(&db, "first").await;
        let second = finished(spawn_write(&db, job("second", Some(announced)))).await;
        let first = finished(first).await;
        // One commit: the held write first, the announced one right after it.
        assert_eq!(first[0].seq + 1, second[0].seq);
        assert_eq!(second[0].prev_hash, first[0].hash);
        assert_eq!(db.expected.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_withdrawn_announcement_releases_the_commit() {
        let (_dir, db) = database().await;
        let announced = db.announce();
        let write = held_write(&db, "held").await;
        drop(announced);
        finished(write).await;
        assert_eq!(db.expected.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn nothing_announced_commits_at_once() {
        let (_dir, db) = database().await;
        let entries = finished(spawn_write(&db, job("alone", None))).await;
        assert_eq!(entries.len(), 1);
    }

    #[tokio::test]
    async fn enough_writes_commit_without_waiting_for_more() {
        let (_dir, db) = database().await;
        // Announced and never written while the others are committed.
        let outstanding = db.announce();
        let first = held_write(&db, "w0").await;
        let rest: Vec<_> = (1..COMMIT_SHARED)
            .map(|i| spawn_write(&db, job(&format!("w{i}"), None)))
            .collect();
        finished(first).await;
        for write in rest {
            finished(write).await;
        }
        assert_eq!(db.expected.load(Ordering::Acquire), 1);
        drop(outstanding);
    }

    #[tokio::test]
    async fn closing_does_not_wait_for_announced_writes() {
        let (_dir, db) = database().await;
        let _outstanding = db.announce();
        let write = held_write(&db, "last").await;
        tokio::time::timeout(PROMPTLY, db.close())
            .await
            .expect("close waited for an announced write");
        finished(write).await;
    }
}
