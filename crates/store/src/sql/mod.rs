//! The SQL behind [`Store`], written once in the dialect PostgreSQL and
//! SQLite share (`$n` parameters, `ON CONFLICT`, integer seconds, text ids)
//! and implemented for each backend's native sqlx pool by `sql_store!`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use warrant_policy::{
    Agent, AgentStatus, Audience, ClientId, Credential, Grant, Operator, Resource, Timestamp,
};

use crate::audit::{chain_hash, AuditEvent, AuditFilter, LastUse, NewAuditEvent};
use crate::rows::{AgentRow, AuditRow, CredentialRow, GrantRow, KillRow, OperatorRow, ResourceRow, ScopeRow};
use crate::{AgentFilter, DenylistSnapshot, KillRecord, Store, StoreError};

// The macros that implement the trait; expanded below, where the names they
// use are in scope.
#[macro_use]
mod store_impl;

/// The row counts of multi-row statements: a batch is cut greedily into
/// chunks of these sizes, so that each statement is one of a few shapes
/// that every connection prepares once and caches (any count would make
/// up to 64 shapes per connection, each a large prepared program).
/// At most 9 parameters a row: far under both backends' limits.
const ROWS_PER_STATEMENT: [usize; 4] = [64, 16, 4, 1];

/// `items` cut into chunks of the [`ROWS_PER_STATEMENT`] sizes, largest first.
fn statement_chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = ROWS_PER_STATEMENT.into_iter().find(|size| *size <= items.len())?;
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

/// `($1, …, $width), ($width+1, …), …`: `rows` tuples of numbered parameters.
fn values_list(rows: usize, width: usize) -> String {
    let tuple = |row: usize| {
        let params: Vec<String> = (1..=width).map(|col| format!("${}", row * width + col)).collect();
        format!("({})", params.join(", "))
    };
    (0..rows).map(tuple).collect::<Vec<_>>().join(", ")
}

/// Escapes `\\`, `%` and `_` for a LIKE pattern with `ESCAPE '\\'`.
fn escape_like(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// A kill record's id: the agent and the kill time, so that killing an
/// agent twice within one second records one kill.
fn kill_record_id(agent_id: &str, at: Timestamp) -> String {
    format!("kill_{agent_id}_{}", at.unix())
}

const GRANT_SELECT: &str = "SELECT g.id, g.agent_id, g.resource_id, r.audience, g.scopes, g.justification, \
     g.status, g.requested_by, g.requested_at, g.approved_by, g.approved_at, g.denied_by, g.denied_at, \
     g.revoked_by, g.revoked_at, g.expires_at, g.max_token_ttl, g.approvals, g.approvals_required, g.last_used_at \
     FROM grants g JOIN resources r ON r.id = g.resource_id";
const RESOURCE_SELECT: &str = "SELECT id, name, kind, audience, created_by, created_at FROM resources";
const SCOPE_SELECT: &str = "SELECT resource_id, name, description, data_class FROM resource_scopes";
const AGENT_SELECT: &str =
    "SELECT id, name, platform, vendor, owner, purpose, environment, acts_on_behalf_of, \
     tags, status, created_by, created_at, last_token_at, last_token_resource FROM agents";
const CREDENTIAL_SELECT: &str = "SELECT id, client_id, client_kind, method, secret_hash, jwks, created_at, \
     last_used_at, retired_at FROM credentials";
const OPERATOR_SELECT: &str = "SELECT id, name, email, roles, created_by, created_at FROM operators";
const INSERT_CREDENTIAL: &str = "INSERT INTO credentials \
     (id, client_id, client_kind, method, secret_hash, jwks, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

/// The PostgreSQL store (production).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` and runs the PostgreSQL migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("../../migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Wraps a pool whose database is already migrated (tests).
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }
}

/// A commit checkpoints the WAL itself only past this many pages (40 MiB);
/// [`checkpoint`] keeps it far below.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;
/// How often [`checkpoint`] copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed WAL pages into the database file (a passive checkpoint:
/// it never blocks a reader or the writer), so that the audit writer's
/// commits only append to the WAL. Ends when the pool is closed.
async fn checkpoint(pool: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        every.tick().await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::warn!(%error, "WAL checkpoint failed");
        }
    }
}

/// The SQLite store (the embedded default).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, in WAL mode,
    /// and runs the SQLite migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(StoreError::DataDir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Commits leave checkpoints to a background task, unless it
            // falls far behind.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        // A local file does not drop connections: no ping before each use.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
        tokio::spawn(checkpoint(pool.clone()));
        Ok(SqliteStore { pool })
    }

    /// Wraps a pool whose database is already migrated (tests).
    pub fn from_pool(pool: SqlitePool) -> SqliteStore {
        SqliteStore { pool }
    }
}

sql_store!(PgStore);
sql_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_few_statement_shapes() {
        let sizes = |n: usize| statement_chunks(&vec![0; n]).map(<[i32]>::len).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(25), [16, 4, 4, 1]);
        assert_eq!(sizes(150), [64, 64, 16, 4, 1, 1]);
        assert_eq!(sizes(512).iter().sum::<usize>(), 512);
    }

    #[test]
    fn a_values_list_numbers_its_parameters_row_by_row() {
        assert_eq!(values_list(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_list(1, 1), "($1)");
    }
}
