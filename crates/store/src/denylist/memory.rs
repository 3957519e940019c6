//! The in-process denylist of the embedded single instance, loaded from the
//! database at start.

use std::sync::RwLock;

use async_trait::async_trait;
use warrant_policy::Timestamp;

use super::cache::{Cache, Event};
use super::{ChangeListener, Denylist, DenylistError, DenylistStats, Inactive, Listeners, TokenFacts};
use crate::Store;

/// A denylist held in this process only.
#[derive(Default)]
pub struct MemoryDenylist {
    cache: RwLock<Cache>,
    listeners: Listeners,
}

impl MemoryDenylist {
    /// A denylist holding what the database says at `now`.
    pub async fn load(store: &dyn Store, now: Timestamp) -> Result<MemoryDenylist, DenylistError> {
        let snapshot = store.denylist_snapshot(now).await?;
        Ok(MemoryDenylist {
            cache: RwLock::new(Cache::from_snapshot(snapshot)),
            listeners: Listeners::default(),
        })
    }

    fn apply(&self, events: impl IntoIterator<Item = Event>, now: Timestamp) {
        let mut cache = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for event in events {
            cache.apply(event, now);
        }
    }
}

#[async_trait]
impl Denylist for MemoryDenylist {
    async fn check(&self, token: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError> {
        Ok(self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner()).check(token))
    }

    async fn kill(&self, agent_ids: &[String], at: Timestamp) -> Result<(), DenylistError> {
        self.apply(agent_ids.iter().map(|id| Event::Kill { agent_id: id.clone(), at }), at);
        Ok(())
    }

    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), DenylistError> {
        self.apply([Event::Token { jti: jti.to_owned(), expires_at }], now);
        Ok(())
    }

    async fn revoke_grant(&self, agent_id: &str, audience: &str, at: Timestamp) -> Result<(), DenylistError> {
        self.apply([Event::Grant { agent_id: agent_id.to_owned(), audience: audience.to_owned(), at }], at);
        Ok(())
    }

    async fn ping(&self) -> Result<(), DenylistError> {
        Ok(())
    }

    async fn announce_changes(&self, client_ids: &[String]) -> Result<(), DenylistError> {
        client_ids.iter().for_each(|id| self.listeners.notify(id));
        Ok(())
    }

    fn watch_changes(&self, listener: ChangeListener) {
        self.listeners.add(listener);
    }

    /// One process: no notice is ever missed.
    fn change_epoch(&self) -> Option<u64> {
        Some(0)
    }

    fn stats(&self) -> DenylistStats {
        let (kills, tokens, grants) =
            self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner()).sizes();
        DenylistStats { following: true, kills, tokens, grants }
    }
}
