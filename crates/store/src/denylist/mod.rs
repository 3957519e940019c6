//! The denylist: what makes a well-signed, unexpired token inactive before
//! its time (DESIGN.md "Kill switch"). Per agent, its last kill time; per
//! token, a revoked `jti` until the token expires; per agent and audience,
//! the last grant revocation. A token issued at or before one of those
//! times is dead.
//!
//! Two implementations behind [`Denylist`]: [`MemoryDenylist`] for the
//! embedded single instance, and [`RedisDenylist`] for production, where
//! every instance follows a pub/sub channel into an in-memory copy and fails
//! closed while it cannot. The database stays the source of truth; the
//! callers write it after the denylist.
//!
//! The same channel carries change notices ([`Denylist::announce_changes`]):
//! the id of a client whose stored agent, credentials or grants changed, so
//! that every instance drops its cached copy (`crate::CachedStore`).

mod cache;
mod memory;
mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use warrant_policy::Timestamp;

pub use self::memory::MemoryDenylist;
pub use self::redis::{RedisDenylist, Refill};

/// What the denylist needs to know of a verified token.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts<'a> {
    pub jti: &'a str,
    /// The `sub` of the token.
    pub agent_id: &'a str,
    /// The `aud` of the token.
    pub audience: &'a str,
    /// The `iat` of the token.
    pub issued_at: Timestamp,
}

/// Why the denylist holds a token inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    /// Its `jti` was revoked (RFC 7009).
    Revoked,
    /// Its agent was killed at or after it was issued.
    Killed,
    /// A grant of its agent on its audience was revoked at or after it was issued.
    GrantRevoked,
}

impl Inactive {
    pub fn as_str(self) -> &'static str {
        match self {
            Inactive::Revoked => "revoked",
            Inactive::Killed => "killed",
            Inactive::GrantRevoked => "grant_revoked",
        }
    }
}

/// What a denylist holds in memory and whether it trusts it, read for
/// monitoring (the `/metrics` gauges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DenylistStats {
    /// Whether checks are answered from the in-memory copy: the Redis
    /// subscription is up and the copy loaded (always, in process).
    pub following: bool,
    /// Agents with a kill time.
    pub kills: usize,
    /// Revoked token ids (expired ones are pruned now and then, not at once).
    pub tokens: usize,
    /// Agent and audience pairs with a grant revocation time.
    pub grants: usize,
}

/// The denylist cannot answer; callers fail closed (503, never active).
#[derive(Debug, thiserror::Error)]
pub enum DenylistError {
    #[error("the denylist (Redis) cannot be reached")]
    Redis(#[from] ::redis::RedisError),
    #[error("the denylist (Redis) did not answer in time")]
    Timeout,
    #[error("the denylist (Redis) is empty and not yet refilled from the database")]
    NotLoaded,
    #[error("the denylist could not be refilled from the database")]
    Refill(#[from] crate::StoreError),
}

/// Called with the id of each client whose stored data changed, announced
/// by this instance or another.
pub type ChangeListener = Arc<dyn Fn(&str) + Send + Sync>;

/// The registered [`ChangeListener`]s of one denylist.
#[derive(Default)]
pub(crate) struct Listeners(std::sync::RwLock<Vec<ChangeListener>>);

impl Listeners {
    fn add(&self, listener: ChangeListener) {
        self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()).push(listener);
    }

    fn notify(&self, client_id: &str) {
        for listener in self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            listener(client_id);
        }
    }
}

/// The denylist as every part of Warrant sees it.
#[async_trait]
pub trait Denylist: Send + Sync + 'static {
    /// Whether the token is denied; `Err` when that cannot be known.
    async fn check(&self, token: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError>;
    /// Kills agents as of `at`: their tokens issued at or before it are dead.
    async fn kill(&self, agent_ids: &[String], at: Timestamp) -> Result<(), DenylistError>;
    /// Revokes one token until it expires.
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), DenylistError>;
    /// Kills an agent's tokens for one audience issued at or before `at`.
    async fn revoke_grant(&self, agent_id: &str, audience: &str, at: Timestamp) -> Result<(), DenylistError>;
    /// Ready: reachable and, where it keeps a copy, loaded.
    async fn ping(&self) -> Result<(), DenylistError>;
    /// Tells every instance that these clients' stored data changed: this
    /// instance's listeners are called before it returns, the others' when
    /// the notice reaches them (as fast as a kill does).
    async fn announce_changes(&self, client_ids: &[String]) -> Result<(), DenylistError>;
    /// Calls `listener` for every change notice from now on.
    fn watch_changes(&self, listener: ChangeListener);
    /// While every change notice reaches this instance, a number that
    /// changes whenever some may have been missed (a new subscription);
    /// `None` while notices may be missed.
    fn change_epoch(&self) -> Option<u64>;
    /// What the in-memory copy holds, and whether it is followed; nothing
    /// (the default) for a denylist that keeps no copy.
    fn stats(&self) -> DenylistStats {
        DenylistStats::default()
    }
}
