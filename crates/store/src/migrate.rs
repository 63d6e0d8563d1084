//! Schema migrations, embedded in the binary (`migrations/sqlite/*.sql`,
//! `migrations/postgres/*.sql`) and recorded in `signet_schema_migrations`.
//!
//! sqlx's `migrate!` needs the `macros` feature, so the store runs its own small migrator:
//! every pending migration is applied in one transaction that first takes a cross-process
//! lock (SQLite: `BEGIN IMMEDIATE`, the database write lock; PostgreSQL:
//! `pg_advisory_xact_lock`), so several processes starting at once apply each migration
//! exactly once.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{PgPool, Row, SqlitePool};

use crate::error::{Error, Result, one_line};

/// (version, description, SQL).
type Migration = (i64, &'static str, &'static str);

const SQLITE: &[Migration] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "groups in records",
        include_str!("../migrations/sqlite/0002_groups_in_records.sql"),
    ),
];

const POSTGRES: &[Migration] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "groups in records",
        include_str!("../migrations/postgres/0002_groups_in_records.sql"),
    ),
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS signet_schema_migrations (\
     version BIGINT NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Arbitrary constant key of the PostgreSQL advisory lock ("signet" + 1).
const PG_LOCK_KEY: i64 = 0x7369_676e_6574_0001;

fn fail(e: sqlx::Error) -> Error {
    Error::Migration {
        message: one_line(&e.to_string()),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn check_known(current: i64, known: &[Migration]) -> Result<()> {
    let newest = known.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(Error::Migration {
            message: format!(
                "the database schema is version {current}, newer than this build's {newest}"
            ),
        });
    }
    Ok(())
}

macro_rules! run_migrations {
    ($tx:ident, $known:expr) => {{
        sqlx::query(CREATE_TABLE)
            .execute(&mut *$tx)
            .await
            .map_err(fail)?;
        let current: i64 =
            sqlx::query("SELECT COALESCE(MAX(version), 0) FROM signet_schema_migrations")
                .fetch_one(&mut *$tx)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(fail)?;
        check_known(current, $known)?;
        for (version, description, sql) in $known.iter().filter(|m| m.0 > current) {
            sqlx::raw_sql(*sql)
                .execute(&mut *$tx)
                .await
                .map_err(|e| Error::Migration {
                    message: format!("migration {version} ({description}): {}", one_line(&e.to_string())),
                })?;
            sqlx::query(
                "INSERT INTO signet_schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(*version)
            .bind(*description)
            .bind(now())
            .execute(&mut *$tx)
            .await
            .map_err(fail)?;
        }
        $tx.commit().await.map_err(fail)
    }};
}

/// Brings a SQLite database up to date.
pub(crate) async fn sqlite(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
    run_migrations!(tx, SQLITE)
}

/// Brings a PostgreSQL database up to date.
pub(crate) async fn postgres(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(fail)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    run_migrations!(tx, POSTGRES)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by the first schema comes up to the newest, its records kept.
    #[tokio::test]
    async fn a_version_1_sqlite_database_is_brought_up_to_date() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v1.db").display());
        let pool = SqlitePool::connect(&url).await.expect("open");
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        let first: Result<()> = async { run_migrations!(tx, &SQLITE[..1]) }.await;
        first.expect("version 1");
        sqlx::raw_sql(
            "INSERT INTO records VALUES ('signing_request', 'acme', 'r1', 1, 2, 'n', NULL, NULL, \
             1, 1, NULL, '[\"devs\"]', '[]', '{}'); \
             INSERT INTO record_groups VALUES ('acme', 'signing_request', 'r1', 'reader', 'devs');",
        )
        .execute(&pool)
        .await
        .expect("a version 1 record");
        sqlite(&pool).await.expect("migrate");
        let version: i64 = sqlx::query("SELECT MAX(version) FROM signet_schema_migrations")
            .fetch_one(&pool)
            .await
            .and_then(|row| row.try_get(0))
            .expect("version");
        assert_eq!(version, SQLITE.last().map_or(0, |m| m.0));
        let groups: i64 = sqlx::query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'record_groups'",
        )
        .fetch_one(&pool)
        .await
        .and_then(|row| row.try_get(0))
        .expect("tables");
        assert_eq!(groups, 0);
        let readers: String = sqlx::query("SELECT readers FROM records WHERE id = 'r1'")
            .fetch_one(&pool)
            .await
            .and_then(|row| row.try_get(0))
            .expect("the record");
        assert_eq!(readers, r#"["devs"]"#);
    }
}
