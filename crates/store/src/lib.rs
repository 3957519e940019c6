//! Persistence for Warrant: the inventory (operators, resources, agents,
//! credentials, grants) and the seen client-assertion ids, behind one
//! [`Store`] trait with a PostgreSQL and a SQLite implementation.
//!
//! The backend is chosen once, at start-up ([`open`]); both run the same SQL
//! (written in the dialect the two share) through the native sqlx drivers,
//! and one conformance suite (`tests/store`) runs against both. Migrations
//! live in `migrations/postgres` and `migrations/sqlite` and are embedded.

pub mod audit;
mod cached;
pub mod denylist;
mod error;
mod rows;
mod sql;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use warrant_policy::{
    Agent, AgentStatus, Audience, ClientId, Credential, Grant, Operator, Platform, Resource, Timestamp,
};

pub use cached::CachedStore;
pub use error::StoreError;
pub use sql::{PgStore, SqliteStore};

/// Which agents to list; `None` matches anything, and every given field
/// must match.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    pub platform: Option<Platform>,
    pub status: Option<AgentStatus>,
    pub owner: Option<String>,
    pub vendor: Option<String>,
    /// An agent matches when this is one of its tags.
    pub tag: Option<String>,
    /// An agent matches when it holds a grant on this audience that is
    /// approved and unexpired at `at`.
    pub resource: Option<String>,
    pub at: Timestamp,
    /// Only agents after this `(created_at, id)`: the paging cursor.
    pub after: Option<(Timestamp, String)>,
    pub limit: Option<i64>,
}

/// One kill of an agent and, once lifted, its restore.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KillRecord {
    pub killed_at: Timestamp,
    pub killed_by: String,
    pub reason: String,
    pub restored_at: Option<Timestamp>,
    pub restored_by: Option<String>,
    pub restore_reason: Option<String>,
}

/// Everything the denylist must hold, as the database knows it: the source
/// from which an empty Redis is refilled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenylistSnapshot {
    /// Each killed agent's last kill time.
    pub kills: Vec<(String, Timestamp)>,
    /// Revoked token ids not yet expired, with their expiry.
    pub tokens: Vec<(String, Timestamp)>,
    /// Per agent and audience, the last time a grant was revoked.
    pub grants: Vec<(String, String, Timestamp)>,
}

/// The inventory's storage. Every method is one transaction: a failure
/// leaves nothing half-written.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database does (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    async fn count_operators(&self) -> Result<i64, StoreError>;
    /// Inserts an operator and its credential; `Conflict` if the id is taken.
    async fn insert_operator(&self, operator: &Operator, credential: &Credential) -> Result<(), StoreError>;
    async fn list_operators(&self) -> Result<Vec<Operator>, StoreError>;
    async fn get_operator(&self, id: &str) -> Result<Option<Operator>, StoreError>;

    /// Inserts a resource, its scope catalogue and its introspection
    /// credential; `Conflict` if the audience is taken.
    async fn insert_resource(&self, resource: &Resource, credential: &Credential) -> Result<(), StoreError>;
    async fn list_resources(&self) -> Result<Vec<Resource>, StoreError>;
    async fn get_resource_by_audience(&self, audience: &Audience) -> Result<Option<Resource>, StoreError>;
    async fn get_resource(&self, id: &str) -> Result<Option<Resource>, StoreError>;

    /// Inserts an agent and its first credential.
    async fn insert_agent(&self, agent: &Agent, credential: &Credential) -> Result<(), StoreError>;
    async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>, StoreError>;
    async fn get_agent(&self, id: &str) -> Result<Option<Agent>, StoreError>;
    /// Marks agents killed at `at` (their last kill time) and records the
    /// kill in their history, all in one transaction.
    async fn kill_agents(
        &self,
        ids: &[String],
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Lifts a kill: the agent is active again and its open kill records are
    /// closed. False if the agent is not killed. The kill time stays, so
    /// tokens issued before it stay dead.
    async fn restore_agent(
        &self,
        id: &str,
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<bool, StoreError>;
    /// An agent's kill history, oldest first.
    async fn kills_for_agent(&self, id: &str) -> Result<Vec<KillRecord>, StoreError>;
    /// Records a revoked token id until `expires_at`; recording it twice is a no-op.
    async fn insert_revoked_token(
        &self,
        jti: &str,
        agent_id: &str,
        expires_at: Timestamp,
        revoked_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Appends events to the audit chain in one transaction, under the
    /// chain head's lock; gives each its `seq`, `prev_hash` and `hash`; and
    /// records the last use of agents, grants and credentials that the
    /// `token.issued` events among them tell.
    async fn append_audit(&self, events: &[audit::NewAuditEvent]) -> Result<(), StoreError> {
        self.append_audit_with(events, &audit::LastUse::of(events)).await
    }
    /// [`Store::append_audit`], recording `last_use` (maybe less than the
    /// events tell) in the same transaction.
    async fn append_audit_with(
        &self,
        events: &[audit::NewAuditEvent],
        last_use: &audit::LastUse<'_>,
    ) -> Result<(), StoreError>;
    /// Audit events matching `filter`, in `seq` order.
    async fn list_audit(&self, filter: &audit::AuditFilter) -> Result<Vec<audit::AuditEvent>, StoreError>;
    /// The chain head: the last `seq` and its hash.
    async fn audit_head(&self) -> Result<(i64, String), StoreError>;
    /// What the denylist must hold at `now`.
    async fn denylist_snapshot(&self, now: Timestamp) -> Result<DenylistSnapshot, StoreError>;

    /// Sets an agent's status to `to` only if it is still `from`
    /// (compare-and-set); false if there is no such agent in that state.
    async fn set_agent_status(
        &self,
        id: &str,
        from: AgentStatus,
        to: AgentStatus,
    ) -> Result<bool, StoreError>;

    async fn insert_grant(&self, grant: &Grant) -> Result<(), StoreError>;
    async fn get_grant(&self, id: &str) -> Result<Option<Grant>, StoreError>;
    /// Every grant of an agent, oldest first.
    async fn grants_for_agent(&self, agent_id: &str) -> Result<Vec<Grant>, StoreError>;
    /// Writes a grant's new state only if its stored status and approvals
    /// are still those of `previous` (compare-and-set); false if another
    /// decision got there first.
    async fn update_grant(&self, grant: &Grant, previous: &Grant) -> Result<bool, StoreError>;

    /// A client's live (not retired) credentials.
    async fn credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError>;
    /// A client's credentials, retired ones included.
    async fn all_credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError>;
    /// Adds a credential unless the client already has `max_live` live
    /// ones (false then).
    async fn add_credential(&self, credential: &Credential, max_live: i64) -> Result<bool, StoreError>;
    /// Retires a live credential of the client, unless it is the client's
    /// last live one; false if refused or not found live.
    async fn retire_credential(
        &self,
        client_id: &ClientId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Records a client assertion's `jti` until `expires_at` (RFC 7523 §3
    /// replay protection). False if it was already seen and has not expired.
    /// Forgets expired ids on the way.
    async fn record_assertion_jti(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// Opens the store named by `database_url` (`postgres://…`), or the SQLite
/// file `<data_dir>/warrant.db` when there is none, and runs the migrations.
pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    match database_url {
        Some(url) => Ok(Arc::new(PgStore::connect(url).await?)),
        None => Ok(Arc::new(SqliteStore::open(&data_dir.join("warrant.db")).await?)),
    }
}
