//! [`Store`]: one API over SQLite (module `sqlite`, rusqlite) or a PostgreSQL pool (sqlx),
//! with the SQL text shared between the backends (SQLite gets the `$N` placeholders as its
//! numbered `?N`) and only the few statements that differ kept per backend.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::OptionalExtension as _;
use serde_json::Value;
use signet_workflow::audit::{self, AuditEntry, GENESIS_HASH};
use signet_workflow::{ChainBreak, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::error::{Error, Result, redact_url, scrub, url_secrets};
use crate::migrate;
use crate::model::{
    AuditEvent, AuditProblem, AuditReport, Backend, Filter, Kind, Page, Record, Write,
};
use crate::sqlite::{Job, Sqlite};

/// Connections of a PostgreSQL pool.
const POSTGRES_POOL_SIZE: u32 = 16;
/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Audit entries read per query by [`Store::verify_audit`].
const VERIFY_BATCH: i64 = 1000;
/// Audit entries per multi-row INSERT.
const AUDIT_INSERT_CHUNK: usize = 64;

/// The record columns every read selects, in [`record_from_row`]'s order.
macro_rules! record_columns {
    () => {
        "org, id, version, state, name, product_id, requester, created_at, updated_at, \
         expires_at, readers, approvers, doc"
    };
}

const GET: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND org = $2 AND id = $3"
);
const VERSION: &str = "SELECT version FROM records WHERE kind = $1 AND org = $2 AND id = $3";
const GET_BY_NAME: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND org = $2 AND name = $3 ORDER BY created_at, id LIMIT 1"
);
const EXPIRED: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND state IN (1, 2) AND expires_at <= $2 \
     ORDER BY expires_at, org, id LIMIT $3"
);
const STALLED: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = $1 AND state = $2 AND updated_at <= $3 \
     ORDER BY updated_at, org, id LIMIT $4"
);
pub(crate) const INSERT_RECORD: &str = "INSERT INTO records (kind, org, id, version, state, name, \
     product_id, requester, created_at, updated_at, expires_at, readers, approvers, doc) \
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
pub(crate) const UPDATE_RECORD: &str = "UPDATE records SET version = version + 1, state = $4, name = $5, \
     product_id = $6, requester = $7, updated_at = $9, expires_at = $10, readers = $11, \
     approvers = $12, doc = $13 WHERE kind = $1 AND org = $2 AND id = $3 AND version = $8";
pub(crate) const RECORD_VERSION: &str =
    "SELECT version FROM records WHERE kind = $1 AND org = $2 AND id = $3";
/// Creates the head row if missing and locks it (PostgreSQL: the row lock of the upsert;
/// SQLite: the transaction already holds the write lock) and returns it. `seq = -1` marks
/// an empty chain; the row is always updated before the transaction commits.
pub(crate) const LOCK_HEAD: &str = "INSERT INTO audit_heads (org, seq, hash, at) VALUES ($1, -1, $2, $3) \
     ON CONFLICT (org) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash, at";
const UPDATE_HEAD: &str = "UPDATE audit_heads SET seq = $2, hash = $3, at = $4 WHERE org = $1";
const AUDIT_COLUMNS: &str = "seq, at, actor, action, subject, details, prev_hash, hash";
const READ_AUDIT: &str = "SELECT seq, at, actor, action, subject, details, prev_hash, hash \
     FROM audit_entries WHERE org = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4";
const READ_HEAD: &str = "SELECT seq, hash FROM audit_heads WHERE org = $1";

/// Creates (if missing) and locks `$org`'s chain head in `$tx`; evaluates to
/// `Result<Option<AuditEntry>>` (None: the chain is empty).
macro_rules! lock_head {
    ($errs:expr, $tx:ident, $org:expr) => {
        async {
            let mut prev: Option<AuditEntry> = None;
            let row = sqlx::query(LOCK_HEAD)
                .bind($org)
                .bind(GENESIS_HASH)
                .bind(i64::MIN)
                .fetch_one(&mut *$tx)
                .await
                .map_err(|e| $errs.db("write", e))?;
            let seq: i64 = row.try_get(0).map_err(|e| $errs.db("write", e))?;
            let hash: String = row.try_get(1).map_err(|e| $errs.db("write", e))?;
            let at: i64 = row.try_get(2).map_err(|e| $errs.db("write", e))?;
            if let Ok(seq) = u64::try_from(seq) {
                prev = Some(head_entry(seq, hash, at));
            }
            Ok::<_, Error>(prev)
        }
        .await
    };
}

/// Inserts or updates `$prepared` records in `$tx`; evaluates to `Result<()>`.
macro_rules! write_records {
    ($errs:expr, $tx:ident, $org:expr, $prepared:expr) => {
        async {
            for w in $prepared {
                let r = &w.record;
                let result = sqlx::query(match w.expected_version {
                    None => INSERT_RECORD,
                    Some(_) => UPDATE_RECORD,
                })
                .bind(r.kind.as_str())
                .bind($org)
                .bind(r.id.as_str())
                .bind(i64::from(r.state))
                .bind(r.name.as_str())
                .bind(r.product_id.as_deref())
                .bind(r.requester.as_deref())
                .bind(match w.expected_version {
                    None => r.created_at,
                    Some(v) => v,
                })
                .bind(r.updated_at)
                .bind(r.expires_at)
                .bind(w.readers.as_str())
                .bind(w.approvers.as_str())
                .bind(w.doc.as_str())
                .execute(&mut *$tx)
                .await
                .map_err(|e| $errs.write_err(r, e))?;
                if let Some(expected_version) = w.expected_version {
                    if result.rows_affected() == 0 {
                        let found = sqlx::query(RECORD_VERSION)
                            .bind(r.kind.as_str())
                            .bind($org)
                            .bind(r.id.as_str())
                            .fetch_optional(&mut *$tx)
                            .await
                            .map_err(|e| $errs.db("write", e))?;
                        return Err(match found {
                            None => Error::NotFound {
                                kind: r.kind,
                                org: $org.to_owned(),
                                id: r.id.clone(),
                            },
                            Some(_) => Error::Stale {
                                kind: r.kind,
                                id: r.id.clone(),
                                expected_version,
                            },
                        });
                    }
                }
            }

            Ok::<(), Error>(())
        }
        .await
    };
}

/// Inserts `$entries` (with their serialized `$details`) into `$org`'s chain in `$tx` and
/// moves the head to the last one; evaluates to `Result<()>`.
macro_rules! insert_audit {
    ($errs:expr, $tx:ident, $org:expr, $entries:expr, $details:expr) => {
        async {
            let entries: &[AuditEntry] = $entries;
            for (chunk, chunk_details) in entries
                .chunks(AUDIT_INSERT_CHUNK)
                .zip($details.chunks(AUDIT_INSERT_CHUNK))
            {
                let mut sql = format!("INSERT INTO audit_entries (org, {AUDIT_COLUMNS}) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * 9;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9
                    ));
                }
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for (entry, details) in chunk.iter().zip(chunk_details) {
                    query = query
                        .bind($org)
                        .bind(to_i64(entry.seq))
                        .bind(entry.at.unix_seconds())
                        .bind(entry.actor.as_str())
                        .bind(entry.action.as_str())
                        .bind(entry.subject.as_str())
                        .bind(details.as_str())
                        .bind(entry.prev_hash.as_str())
                        .bind(entry.hash.as_str());
                }
                query
                    .execute(&mut *$tx)
                    .await
                    .map_err(|e| $errs.db("write", e))?;
            }
            if let Some(last) = entries.last() {
                sqlx::query(UPDATE_HEAD)
                    .bind($org)
                    .bind(to_i64(last.seq))
                    .bind(last.hash.as_str())
                    .bind(last.at.unix_seconds())
                    .execute(&mut *$tx)
                    .await
                    .map_err(|e| $errs.db("write", e))?;
            }
            Ok::<(), Error>(())
        }
        .await
    };
}

/// The body of a write transaction (records, audit entries, head) on `$tx`, a
/// PostgreSQL transaction (SQLite: `sqlite::apply`); evaluates to `Result<Vec<AuditEntry>>`.
macro_rules! apply_writes {
    ($errs:expr, $tx:ident, $org:expr, $prepared:expr, $audit:expr, $details:expr) => {
        async {
            // The chain head first: locked until commit.
            let prev = if $audit.is_empty() {
                None
            } else {
                lock_head!($errs, $tx, $org)?
            };
            write_records!($errs, $tx, $org, $prepared)?;
            let entries = chain(prev.as_ref(), $audit, $details);
            insert_audit!($errs, $tx, $org, &entries, $details)?;
            Ok(entries)
        }
        .await
    };
}

/// The entries `audit` appends after `prev`, with `details` the canonical JSON of each
/// event's details (as stored). An event dated before the head is recorded at the head's
/// time.
pub(crate) fn chain(
    prev: Option<&AuditEntry>,
    audit: &[AuditEvent],
    details: &[String],
) -> Vec<AuditEntry> {
    let mut head = prev.map(head_of);
    let mut entries = Vec::with_capacity(audit.len());
    for (event, details) in audit.iter().zip(details) {
        let at = match &head {
            Some(p) if p.at > event.at => p.at,
            _ => event.at,
        };
        let entry = audit::append_canonical(
            head.as_ref(),
            at,
            &event.actor,
            &event.action,
            &event.subject,
            event.details.clone(),
            details,
        );
        head = Some(head_of(&entry));
        entries.push(entry);
    }
    entries
}

/// A write announced with [`Store::announce_write`]; dropping it withdraws the announcement.
#[must_use = "a write announcement is fulfilled by Store::write_announced"]
pub struct WriteAnnouncement(Option<crate::sqlite::Intent>);

impl std::fmt::Debug for WriteAnnouncement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteAnnouncement")
    }
}

/// The signing service's store: records and the per-org audit chain, on SQLite or
/// PostgreSQL. Cheap to clone (the clones share the pool).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Maps driver errors, scrubbing the URL's passwords from every message.
    errs: Errs,
}

enum Pool {
    /// rusqlite: reads in place, writes through one writer thread per process (group
    /// commit); other processes contend through SQLite's write lock (`busy_timeout`).
    Sqlite(Arc<Sqlite>),
    Postgres(PgPool),
}

/// Driver error mapping with the URL's secrets to scrub.
#[derive(Clone)]
struct Errs {
    secrets: Arc<Vec<String>>,
}

impl Errs {
    fn db(&self, operation: &'static str, e: sqlx::Error) -> Error {
        Error::Database {
            operation,
            message: scrub(&e.to_string(), &self.secrets),
        }
    }

    /// Maps a failed record INSERT/UPDATE: unique violations become [`Error::Conflict`].
    fn write_err(&self, record: &Record, e: sqlx::Error) -> Error {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let on_name = db.constraint() == Some("records_product_name")
                || db.message().contains("records.name");
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
        self.db("write", e)
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Column access shared by both backends' row types.
pub(crate) trait RowExt {
    fn text(&self, i: usize) -> Result<String, String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, String>;
    fn int(&self, i: usize) -> Result<i64, String>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String>;
}

impl RowExt for PgRow {
    fn text(&self, i: usize) -> Result<String, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }
    fn int(&self, i: usize) -> Result<i64, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        self.try_get(i).map_err(|e| e.to_string())
    }
}

/// A dynamically bound argument of [`Store::list`].
enum Arg {
    Text(String),
    Int(i64),
}

/// A write with its JSON already serialized (outside the transaction).
pub(crate) struct Prepared {
    pub record: Record,
    pub expected_version: Option<i64>,
    pub readers: String,
    pub approvers: String,
    pub doc: String,
}

pub(crate) fn record_from_row<R: RowExt>(kind: Kind, row: &R) -> Result<Record> {
    let id = row.text(1).unwrap_or_default();
    let corrupt = |message: String| Error::Corrupt {
        what: kind.describe().to_owned(),
        id: id.clone(),
        message,
    };
    let col = |e: String| corrupt(e);
    let state = row.int(3).map_err(col)?;
    let groups = |i: usize| -> Result<Vec<String>> {
        serde_json::from_str(&row.text(i).map_err(col)?)
            .map_err(|e| corrupt(format!("column {i}: {e}")))
    };
    Ok(Record {
        kind,
        org: row.text(0).map_err(col)?,
        id: row.text(1).map_err(col)?,
        version: row.int(2).map_err(col)?,
        state: u32::try_from(state).map_err(|_| corrupt(format!("state {state}")))?,
        name: row.text(4).map_err(col)?,
        product_id: row.opt_text(5).map_err(col)?,
        requester: row.opt_text(6).map_err(col)?,
        created_at: row.int(7).map_err(col)?,
        updated_at: row.int(8).map_err(col)?,
        expires_at: row.opt_int(9).map_err(col)?,
        readers: groups(10)?,
        approvers: groups(11)?,
        doc: serde_json::from_str(&row.text(12).map_err(col)?)
            .map_err(|e| corrupt(format!("doc: {e}")))?,
    })
}

pub(crate) fn audit_from_row<R: RowExt>(org: &str, row: &R) -> Result<AuditEntry> {
    let seq = row.int(0).unwrap_or(-1);
    let corrupt = |message: String| Error::Corrupt {
        what: "audit entry".to_owned(),
        id: format!("{org}/{seq}"),
        message,
    };
    let col = |e: String| corrupt(e);
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| corrupt(format!("seq {seq}")))?,
        at: Timestamp(row.int(1).map_err(col)?),
        actor: row.text(2).map_err(col)?,
        action: row.text(3).map_err(col)?,
        subject: row.text(4).map_err(col)?,
        details: serde_json::from_str(&row.text(5).map_err(col)?)
            .map_err(|e| corrupt(format!("details: {e}")))?,
        prev_hash: row.text(6).map_err(col)?,
        hash: row.text(7).map_err(col)?,
    })
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_json(what: &str, value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::InvalidInput {
        message: format!("{what} cannot be serialized: {e}"),
    })
}

/// What the next entry of a chain needs of `last`: its position, hash and time.
pub(crate) fn head_of(last: &AuditEntry) -> AuditEntry {
    head_entry(last.seq, last.hash.clone(), last.at.unix_seconds())
}

/// A chain entry standing for the stored head (only `seq` and `hash` matter to `append`).
pub(crate) fn head_entry(seq: u64, hash: String, at: i64) -> AuditEntry {
    AuditEntry {
        seq,
        at: Timestamp(at),
        actor: String::new(),
        action: String::new(),
        subject: String::new(),
        details: Value::Null,
        prev_hash: String::new(),
        hash,
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `sqlite:PATH` or `sqlite://PATH` (the file and its parent directories are created if
    /// missing; WAL, `synchronous = FULL`, 10 s busy timeout, foreign keys on, 8
    /// connections) or `postgres://…` / `postgresql://…` (16 connections).
    pub async fn connect(url: &str) -> Result<Store> {
        let secrets = url_secrets(url);
        let unsupported = |reason: String| Error::UnsupportedUrl {
            url: redact_url(url),
            reason: scrub(&reason, &secrets),
        };
        let connect_err = |e: sqlx::Error| Error::Database {
            operation: "connect",
            message: scrub(&format!("{}: {e}", redact_url(url)), &secrets),
        };
        let pool = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.starts_with(':') || path.contains('?') {
                return Err(unsupported(
                    "expected sqlite:PATH (in-memory databases and options are not supported)"
                        .to_owned(),
                ));
            }
            let path = Path::new(path);
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| Error::Database {
                    operation: "connect",
                    message: format!("cannot create {}: {e}", parent.display()),
                })?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            // sqlx creates the file and runs the migrations; rusqlite serves the store.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            let migrated = migrate::sqlite(&pool).await;
            pool.close().await;
            migrated?;
            Pool::Sqlite(Arc::new(Sqlite::open(
                path,
                SQLITE_BUSY_TIMEOUT,
                crate::sqlite::COMMIT_DELAY,
            )?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(url).map_err(|e| unsupported(e.to_string()))?;
            // One plain connection first: the pool's connect retries refused connections
            // until its acquire timeout, this fails at once with the server's reason.
            let probe = <PgConnection as sqlx::Connection>::connect_with(&options)
                .await
                .map_err(connect_err)?;
            let _ = sqlx::Connection::close(probe).await;
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_POOL_SIZE)
                .connect_lazy_with(options);
            migrate::postgres(&pool).await?;
            Pool::Postgres(pool)
        } else {
            return Err(unsupported(
                "expected sqlite:PATH, sqlite://PATH, postgres://… or postgresql://…".to_owned(),
            ));
        };
        Ok(Store {
            inner: Arc::new(Inner {
                pool,
                errs: Errs {
                    secrets: Arc::new(secrets),
                },
            }),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.inner.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pool (waits for connections in use to come back).
    pub async fn close(&self) {
        match &self.inner.pool {
            Pool::Sqlite(db) => db.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    fn db(&self, operation: &'static str, e: sqlx::Error) -> Error {
        self.inner.errs.db(operation, e)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        match &self.inner.pool {
            Pool::Sqlite(db) => db.read("ping", |conn| {
                conn.query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(crate::sqlite::db("ping"))
            }),
            Pool::Postgres(pool) => sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| self.db("ping", e)),
        }
    }

    /// The record `id` of `org`.
    pub async fn get(&self, kind: Kind, org: &str, id: &str) -> Result<Option<Record>> {
        self.one(kind, "get", GET, [kind.as_str(), org, id]).await
    }

    /// The version of a record (None if there is none): a caller that keeps a decoded copy
    /// of the record reads only this to know whether the copy is still current (every
    /// update bumps the version, on every replica's behalf, in the store itself).
    pub async fn version(&self, kind: Kind, org: &str, id: &str) -> Result<Option<i64>> {
        let args = [kind.as_str(), org, id];
        match &self.inner.pool {
            Pool::Sqlite(db) => db.read("version", |conn| {
                conn.prepare_cached(&crate::sqlite::numbered(VERSION))
                    .and_then(|mut stmt| stmt.query_row(args, |row| row.get(0)).optional())
                    .map_err(crate::sqlite::db("version"))
            }),
            Pool::Postgres(pool) => sqlx::query_scalar(VERSION)
                .bind(args[0])
                .bind(args[1])
                .bind(args[2])
                .fetch_optional(pool)
                .await
                .map_err(|e| self.db("version", e)),
        }
    }

    /// The first record a query with three text arguments selects.
    async fn one(
        &self,
        kind: Kind,
        operation: &'static str,
        sql: &'static str,
        args: [&str; 3],
    ) -> Result<Option<Record>> {
        match &self.inner.pool {
            Pool::Sqlite(db) => db.read(operation, |conn| {
                Ok(Sqlite::records(conn, operation, kind, sql, args)?
                    .into_iter()
                    .next())
            }),
            Pool::Postgres(pool) => sqlx::query(sql)
                .bind(args[0])
                .bind(args[1])
                .bind(args[2])
                .fetch_optional(pool)
                .await
                .map_err(|e| self.db(operation, e))?
                .map(|row| record_from_row(kind, &row))
                .transpose(),
        }
    }

    /// The record named `name` in `org` (the oldest if several kinds other than products
    /// share a name).
    pub async fn get_by_name(&self, kind: Kind, org: &str, name: &str) -> Result<Option<Record>> {
        self.one(kind, "get_by_name", GET_BY_NAME, [kind.as_str(), org, name])
            .await
    }

    /// The records of `org` matching `filter`, oldest first (created_at, then id), skipping
    /// `offset` and returning at most `limit`, with the total number matching.
    pub async fn list(
        &self,
        kind: Kind,
        org: &str,
        filter: &Filter,
        offset: u64,
        limit: u64,
    ) -> Result<Page> {
        let mut args = vec![
            Arg::Text(kind.as_str().to_owned()),
            Arg::Text(org.to_owned()),
        ];
        let mut sql_where = String::from("r.kind = $1 AND r.org = $2");
        let push = |args: &mut Vec<Arg>, arg: Arg| {
            args.push(arg);
            format!("${}", args.len())
        };
        if let Some(state) = filter.state {
            let p = push(&mut args, Arg::Int(i64::from(state)));
            sql_where.push_str(&format!(" AND r.state = {p}"));
        }
        for (column, value) in [
            ("name", &filter.name),
            ("product_id", &filter.product_id),
            ("requester", &filter.requester),
        ] {
            if let Some(value) = value {
                let p = push(&mut args, Arg::Text(value.clone()));
                sql_where.push_str(&format!(" AND r.{column} = {p}"));
            }
        }
        // The groups are the record's own JSON arrays: no rows of their own to write with
        // every record (four per signing request made the writer a quarter slower).
        let elements: fn(&str) -> String = match &self.inner.pool {
            Pool::Sqlite(_) => {
                |column: &str| format!("SELECT g.value FROM json_each(r.{column}) g")
            }
            Pool::Postgres(_) => |column: &str| {
                format!("SELECT g.value FROM jsonb_array_elements_text(r.{column}::jsonb) g(value)")
            },
        };
        for (column, groups) in [
            ("readers", &filter.readable_by),
            ("approvers", &filter.decidable_by),
        ] {
            match groups {
                None => {}
                Some(groups) if groups.is_empty() => sql_where.push_str(" AND 1 = 0"),
                Some(groups) => {
                    let placeholders: Vec<String> = groups
                        .iter()
                        .map(|g| push(&mut args, Arg::Text(g.clone())))
                        .collect();
                    sql_where.push_str(&format!(
                        " AND EXISTS ({} WHERE g.value IN ({}))",
                        elements(column),
                        placeholders.join(", ")
                    ));
                }
            }
        }
        let count_sql = format!("SELECT COUNT(*) FROM records r WHERE {sql_where}");
        let n = args.len();
        let page_sql = format!(
            "SELECT {} FROM records r WHERE {sql_where} ORDER BY r.created_at, r.id LIMIT ${} OFFSET ${}",
            record_columns!(),
            n + 1,
            n + 2
        );
        let pool = match &self.inner.pool {
            Pool::Sqlite(db) => {
                return db
                    .scan("list", move |conn| {
                        let values: Vec<rusqlite::types::Value> = args
                            .into_iter()
                            .map(|a| match a {
                                Arg::Text(s) => rusqlite::types::Value::Text(s),
                                Arg::Int(i) => rusqlite::types::Value::Integer(i),
                            })
                            .collect();
                        let err = crate::sqlite::db("list");
                        let total: i64 = conn
                            .prepare_cached(&crate::sqlite::numbered(&count_sql))
                            .and_then(|mut s| {
                                s.query_row(rusqlite::params_from_iter(&values), |r| r.get(0))
                            })
                            .map_err(&err)?;
                        let mut paged = values;
                        paged.push(rusqlite::types::Value::Integer(to_i64(limit)));
                        paged.push(rusqlite::types::Value::Integer(to_i64(offset)));
                        Ok(Page {
                            items: Sqlite::records(
                                conn,
                                "list",
                                kind,
                                &page_sql,
                                rusqlite::params_from_iter(paged),
                            )?,
                            total: u64::try_from(total).unwrap_or(0),
                        })
                    })
                    .await;
            }
            Pool::Postgres(pool) => pool,
        };
        {
            let mut count = sqlx::query(AssertSqlSafe(count_sql));
            let mut page = sqlx::query(AssertSqlSafe(page_sql));
            for arg in &args {
                match arg {
                    Arg::Text(s) => {
                        count = count.bind(s.as_str());
                        page = page.bind(s.as_str());
                    }
                    Arg::Int(i) => {
                        count = count.bind(*i);
                        page = page.bind(*i);
                    }
                }
            }
            let total: i64 = count
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| self.db("list", e))?;
            let rows = page
                .bind(to_i64(limit))
                .bind(to_i64(offset))
                .fetch_all(pool)
                .await
                .map_err(|e| self.db("list", e))?;
            Ok(Page {
                items: rows
                    .iter()
                    .map(|row| record_from_row(kind, row))
                    .collect::<Result<_>>()?,
                total: u64::try_from(total).unwrap_or(0),
            })
        }
    }

    /// Atomically applies every write and appends the audit events to `org`'s hash chain,
    /// returning the new entries. Nothing is written if anything fails: a duplicate id or
    /// product name gives [`Error::Conflict`], an update of a changed record
    /// [`Error::Stale`], of a missing one [`Error::NotFound`].
    ///
    /// Every record must belong to `org`. An event dated before the chain's head is
    /// recorded at the head's time (replicas' clocks and concurrent writers would otherwise
    /// make the chain's time go backwards).
    pub async fn write(
        &self,
        org: &str,
        writes: Vec<Write>,
        audit: Vec<AuditEvent>,
    ) -> Result<Vec<AuditEntry>> {
        self.write_announced(None, org, writes, audit).await
    }

    /// Announces a write that will follow shortly, such as the outcome of a signature being
    /// made: on SQLite, a commit waits a little (5 ms at most) for announced writes, so that
    /// they share its fsync instead of paying one each. Hand it to
    /// [`Store::write_announced`]; dropping it without a write withdraws it. On PostgreSQL
    /// it does nothing.
    pub fn announce_write(&self) -> WriteAnnouncement {
        WriteAnnouncement(match &self.inner.pool {
            Pool::Sqlite(db) => Some(db.announce()),
            Pool::Postgres(_) => None,
        })
    }

    /// [`Store::write`], fulfilling `announced` (from [`Store::announce_write`]).
    pub async fn write_announced(
        &self,
        announced: Option<WriteAnnouncement>,
        org: &str,
        writes: Vec<Write>,
        audit: Vec<AuditEvent>,
    ) -> Result<Vec<AuditEntry>> {
        let prepared = writes
            .into_iter()
            .map(|w| {
                let (record, expected_version) = match w {
                    Write::Insert(record) => (record, None),
                    Write::Update {
                        record,
                        expected_version,
                    } => (record, Some(expected_version)),
                };
                if record.org != org {
                    return Err(Error::InvalidInput {
                        message: format!(
                            "{} {} belongs to org {}, not {org}",
                            record.kind, record.id, record.org
                        ),
                    });
                }
                Ok(Prepared {
                    readers: to_json("readers", &record.readers)?,
                    approvers: to_json("approvers", &record.approvers)?,
                    doc: to_json("doc", &record.doc)?,
                    record,
                    expected_version,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Canonical JSON (sorted keys), serialized once: stored as it is and hashed as it is.
        let details: Vec<String> = audit.iter().map(|e| audit::canonical(&e.details)).collect();
        if prepared.is_empty() && audit.is_empty() {
            return Ok(Vec::new());
        }
        // The chain needs only the canonical text of the details; their values stay here
        // and go into the entries the write returns, so the writer neither copies nor
        // frees them.
        let mut audit = audit;
        let values: Vec<Value> = audit
            .iter_mut()
            .map(|e| std::mem::take(&mut e.details))
            .collect();
        let mut entries = self
            .append(announced, org, prepared, audit, details)
            .await?;
        for (entry, value) in entries.iter_mut().zip(values) {
            entry.details = value;
        }
        Ok(entries)
    }

    /// The writes and audit entries of [`Store::write_announced`], prepared.
    async fn append(
        &self,
        announced: Option<WriteAnnouncement>,
        org: &str,
        prepared: Vec<Prepared>,
        audit: Vec<AuditEvent>,
        details: Vec<String>,
    ) -> Result<Vec<AuditEntry>> {
        match &self.inner.pool {
            Pool::Sqlite(db) => {
                db.write(Job {
                    org: org.to_owned(),
                    prepared,
                    audit,
                    details,
                    intent: announced.and_then(|a| a.0),
                })
                .await
            }
            Pool::Postgres(pool) => {
                let errs = &self.inner.errs;
                let mut tx = pool
                    .begin_with("BEGIN")
                    .await
                    .map_err(|e| errs.db("write", e))?;
                let outcome = apply_writes!(errs, tx, org, &prepared, &audit, &details);
                match outcome {
                    Ok(entries) => {
                        tx.commit().await.map_err(|e| errs.db("commit", e))?;
                        Ok(entries)
                    }
                    Err(e) => {
                        // Best effort: dropping the transaction rolls back too.
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Up to `limit` audit entries of `org` from `from_seq` on, in order.
    pub async fn audit(&self, org: &str, from_seq: u64, limit: u64) -> Result<Vec<AuditEntry>> {
        self.audit_range(org, from_seq, u64::MAX, limit).await
    }

    async fn audit_range(
        &self,
        org: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u64,
    ) -> Result<Vec<AuditEntry>> {
        let (from, to, limit) = (to_i64(from_seq), to_i64(to_seq), to_i64(limit));
        match &self.inner.pool {
            Pool::Sqlite(db) => {
                let org = org.to_owned();
                db.scan("audit", move |conn| {
                    Sqlite::audit_entries(conn, &org, READ_AUDIT, (&org, from, to, limit))
                })
                .await
            }
            Pool::Postgres(pool) => sqlx::query(READ_AUDIT)
                .bind(org)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| self.db("audit", e))?
                .iter()
                .map(|row| audit_from_row(org, row))
                .collect(),
        }
    }

    /// The stored head of `org`'s chain: (seq, hash), None for an empty chain.
    async fn head(&self, org: &str) -> Result<Option<(u64, String)>> {
        let row: Option<(i64, String)> = match &self.inner.pool {
            Pool::Sqlite(db) => db.read("audit head", |conn| {
                conn.prepare_cached(&crate::sqlite::numbered(READ_HEAD))
                    .and_then(|mut s| {
                        s.query_row([org], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .map_err(crate::sqlite::db("audit head"))
            })?,
            Pool::Postgres(pool) => sqlx::query(READ_HEAD)
                .bind(org)
                .fetch_optional(pool)
                .await
                .and_then(|row| {
                    row.map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                        .transpose()
                })
                .map_err(|e| self.db("audit head", e))?,
        };
        Ok(row.and_then(|(seq, hash)| u64::try_from(seq).ok().map(|s| (s, hash))))
    }

    /// The number of entries in `org`'s chain.
    pub async fn audit_len(&self, org: &str) -> Result<u64> {
        Ok(self
            .head(org)
            .await?
            .map_or(0, |(seq, _)| seq.saturating_add(1)))
    }

    /// Every org with an audit chain, sorted.
    pub async fn audit_orgs(&self) -> Result<Vec<String>> {
        const ORGS: &str = "SELECT org FROM audit_heads WHERE seq >= 0 ORDER BY org";
        match &self.inner.pool {
            Pool::Sqlite(db) => {
                db.scan("audit_orgs", |conn| {
                    let err = crate::sqlite::db("audit_orgs");
                    let mut stmt = conn.prepare_cached(ORGS).map_err(&err)?;
                    let orgs = stmt
                        .query_map([], |r| r.get(0))
                        .and_then(Iterator::collect)
                        .map_err(&err)?;
                    Ok(orgs)
                })
                .await
            }
            Pool::Postgres(pool) => sqlx::query(ORGS)
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(|r| r.try_get(0)).collect())
                .map_err(|e| self.db("audit_orgs", e)),
        }
    }

    /// Verifies `org`'s whole chain in batches: every entry as
    /// `signet_workflow::audit::verify_chain` does, and the last one against the stored head
    /// (detecting a truncated tail). Entries appended while it runs are not checked.
    pub async fn verify_audit(&self, org: &str) -> Result<AuditReport> {
        let head = self.head(org).await?;
        let mut report = AuditReport {
            org: org.to_owned(),
            entries: 0,
            head: head
                .as_ref()
                .map_or_else(|| GENESIS_HASH.to_owned(), |(_, h)| h.clone()),
            broken: None,
        };
        let Some((head_seq, head_hash)) = head else {
            let stray = self.audit_range(org, 0, u64::MAX, 1).await?;
            if !stray.is_empty() {
                const COUNT: &str = "SELECT COUNT(*) FROM audit_entries WHERE org = $1";
                let entries: i64 = match &self.inner.pool {
                    Pool::Sqlite(db) => db.read("verify_audit", |conn| {
                        conn.query_row(&crate::sqlite::numbered(COUNT), [org], |r| r.get(0))
                            .map_err(crate::sqlite::db("verify_audit"))
                    })?,
                    Pool::Postgres(pool) => sqlx::query(COUNT)
                        .bind(org)
                        .fetch_one(pool)
                        .await
                        .and_then(|r| r.try_get(0))
                        .map_err(|e| self.db("verify_audit", e))?,
                };
                report.broken = Some(AuditProblem::HeadMissing {
                    entries: u64::try_from(entries).unwrap_or(0),
                });
            }
            return Ok(report);
        };
        report.entries = head_seq.saturating_add(1);
        let mut prev: Option<AuditEntry> = None;
        let mut expected: u64 = 0;
        let broken = |seq, reason| Some(AuditProblem::Broken { seq, reason });
        'batches: while expected <= head_seq {
            let batch = match self
                .audit_range(org, expected, head_seq, VERIFY_BATCH.unsigned_abs())
                .await
            {
                Ok(batch) => batch,
                Err(Error::Corrupt { .. }) => {
                    // An undecodable row (e.g. details no longer JSON) is a changed entry;
                    // find which one.
                    report.broken = self.locate_corrupt(org, expected, head_seq).await?;
                    return Ok(report);
                }
                Err(e) => return Err(e),
            };
            let full = batch.len() == VERIFY_BATCH.unsigned_abs() as usize;
            for entry in batch {
                if entry.seq != expected {
                    report.broken = broken(
                        expected,
                        ChainBreak::SequenceGap {
                            expected,
                            found: entry.seq,
                        },
                    );
                    break 'batches;
                }
                let expected_prev = prev.as_ref().map_or(GENESIS_HASH, |p| p.hash.as_str());
                if entry.prev_hash != expected_prev {
                    report.broken = broken(expected, ChainBreak::PrevHashMismatch);
                    break 'batches;
                }
                if entry.hash != audit::compute_hash(&entry) {
                    report.broken = broken(expected, ChainBreak::HashMismatch);
                    break 'batches;
                }
                if let Some(p) = &prev
                    && entry.at < p.at
                {
                    report.broken = broken(
                        expected,
                        ChainBreak::TimeWentBackwards {
                            at: entry.at,
                            previous: p.at,
                        },
                    );
                    break 'batches;
                }
                expected += 1;
                prev = Some(entry);
            }
            if !full {
                break;
            }
        }
        if report.broken.is_none() {
            if expected <= head_seq {
                report.broken = Some(AuditProblem::Truncated {
                    head_seq,
                    last_seq: expected.checked_sub(1),
                });
            } else if prev.as_ref().map(|p| p.hash.as_str()) != Some(head_hash.as_str()) {
                report.broken = Some(AuditProblem::HeadMismatch { seq: head_seq });
            }
        }
        Ok(report)
    }

    /// Finds the first undecodable entry from `from` on (one at a time: rare path).
    async fn locate_corrupt(
        &self,
        org: &str,
        from: u64,
        head_seq: u64,
    ) -> Result<Option<AuditProblem>> {
        for seq in from..=head_seq {
            match self.audit_range(org, seq, seq, 1).await {
                Ok(_) => {}
                Err(Error::Corrupt { .. }) => {
                    return Ok(Some(AuditProblem::Broken {
                        seq,
                        reason: ChainBreak::HashMismatch,
                    }));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Up to `limit` records of `kind` in any org whose `expires_at <= now` and whose state
    /// is still open (1 Created or 2 ApprovalRequired), soonest expiry first.
    pub async fn expired(&self, kind: Kind, now: i64, limit: u64) -> Result<Vec<Record>> {
        let limit = to_i64(limit);
        match &self.inner.pool {
            Pool::Sqlite(db) => {
                db.scan("expired", move |conn| {
                    Sqlite::records(conn, "expired", kind, EXPIRED, (kind.as_str(), now, limit))
                })
                .await
            }
            Pool::Postgres(pool) => sqlx::query(EXPIRED)
                .bind(kind.as_str())
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| self.db("expired", e))?
                .iter()
                .map(|row| record_from_row(kind, row))
                .collect(),
        }
    }

    /// Up to `limit` records of `kind` in any org that have been in `state` since
    /// `updated_before` or earlier (e.g. requests left InProcess by a replica that stopped
    /// while signing), longest first.
    pub async fn stalled(
        &self,
        kind: Kind,
        state: u32,
        updated_before: i64,
        limit: u64,
    ) -> Result<Vec<Record>> {
        let (state, limit) = (i64::from(state), to_i64(limit));
        match &self.inner.pool {
            Pool::Sqlite(db) => {
                db.scan("stalled", move |conn| {
                    Sqlite::records(
                        conn,
                        "stalled",
                        kind,
                        STALLED,
                        (kind.as_str(), state, updated_before, limit),
                    )
                })
                .await
            }
            Pool::Postgres(pool) => sqlx::query(STALLED)
                .bind(kind.as_str())
                .bind(state)
                .bind(updated_before)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| self.db("stalled", e))?
                .iter()
                .map(|row| record_from_row(kind, row))
                .collect(),
        }
    }
}
