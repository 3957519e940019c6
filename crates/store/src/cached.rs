//! What the token endpoint reads on every request (a client's live
//! credentials, the agent, its grants, an operator, a resource) served from
//! memory, kept current by change notices.
//!
//! [`CachedStore`] wraps the real store. As a [`Store`] it passes every read
//! through (the admin API sees last-use times the audit writer keeps
//! writing) and announces every write that changes what a token decision
//! reads, through the denylist's channel ([`Denylist::announce_changes`]):
//! once before the write and once after it commits. Every instance drops
//! its copy of that client when a notice arrives; this instance before the
//! write returns, the others as fast as a kill reaches them.
//!
//! Never stale past a change:
//! - a copy is only used while every notice reaches this instance
//!   ([`Denylist::change_epoch`]); otherwise every read goes to the
//!   database, and copies made before a new subscription are dropped;
//! - a read that raced a notice is not kept: a value is kept only when no
//!   notice for that client arrived during the read, or in the
//!   [`QUARANTINE`] before it (the notice sent before a write opens that
//!   window on every instance, so a read of the not-yet-committed past
//!   is not kept even if the notice after the commit were lost);
//! - as a last resort, every copy is read again after [`MAX_AGE`].
//!
//! Resources are cached by audience and by id for good: they are never
//! edited or removed. Absent clients and resources are never cached, so unknown ids
//! cannot fill memory.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use warrant_policy::{
    Agent, AgentStatus, Audience, ClientId, Credential, Grant, Operator, Resource, Timestamp,
};

use crate::audit::{AuditEvent, AuditFilter, LastUse, NewAuditEvent};
use crate::denylist::Denylist;
use crate::{AgentFilter, DenylistSnapshot, KillRecord, Store, StoreError};

/// After a change notice for a client, its data is not cached for this long.
pub const QUARANTINE: Duration = Duration::from_secs(2);
/// A cached value is read again after this long, whatever the notices say.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// The copy is emptied when it holds this many clients.
const MAX_CLIENTS: usize = 100_000;

/// A value and when its read began.
struct Fresh<T> {
    value: T,
    read_at: Instant,
}

/// What is cached of one client.
#[derive(Default)]
struct Slot {
    credentials: Option<Fresh<Arc<[Credential]>>>,
    agent: Option<Fresh<Arc<Agent>>>,
    grants: Option<Fresh<Arc<[Grant]>>>,
    operator: Option<Fresh<Arc<Operator>>>,
}

#[derive(Default)]
struct Copy {
    /// The change epoch the slots belong to.
    epoch: Option<u64>,
    clients: HashMap<String, Slot>,
    /// When each client was last named by a change notice (pruned after
    /// the quarantine).
    noticed: HashMap<String, Instant>,
}

impl Copy {
    fn notice(&mut self, client_id: &str, now: Instant) {
        self.clients.remove(client_id);
        if self.noticed.len() >= 1_024 {
            self.noticed.retain(|_, at| now.duration_since(*at) < QUARANTINE);
        }
        self.noticed.insert(client_id.to_owned(), now);
    }
}

/// The store with the token endpoint's reads served from memory.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    denylist: Arc<dyn Denylist>,
    copy: Arc<RwLock<Copy>>,
    resources_by_audience: RwLock<HashMap<String, Arc<Resource>>>,
    resources_by_id: RwLock<HashMap<String, Arc<Resource>>>,
}

impl CachedStore {
    /// Wraps `inner`; change notices travel through `denylist`.
    pub fn new(inner: Arc<dyn Store>, denylist: Arc<dyn Denylist>) -> CachedStore {
        let copy = Arc::new(RwLock::new(Copy::default()));
        let listener = copy.clone();
        denylist.watch_changes(Arc::new(move |client_id| {
            write(&listener).notice(client_id, Instant::now());
        }));
        CachedStore {
            inner,
            denylist,
            copy,
            resources_by_audience: RwLock::default(),
            resources_by_id: RwLock::default(),
        }
    }

    /// The store underneath, for writers that change nothing cached (the
    /// audit writer).
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    /// A client's live credentials; an empty list is never cached.
    pub async fn cached_credentials(&self, client_id: &ClientId) -> Result<Arc<[Credential]>, StoreError> {
        self.read_through(
            client_id.as_str(),
            |slot| &slot.credentials,
            |slot| &mut slot.credentials,
            async { Ok(Some(Arc::from(self.inner.credentials_for_client(client_id).await?))) },
            |credentials: &Arc<[Credential]>| !credentials.is_empty(),
        )
        .await
        .map(Option::unwrap_or_default)
    }

    pub async fn cached_agent(&self, id: &str) -> Result<Option<Arc<Agent>>, StoreError> {
        self.read_through(
            id,
            |slot| &slot.agent,
            |slot| &mut slot.agent,
            async { Ok(self.inner.get_agent(id).await?.map(Arc::new)) },
            |_| true,
        )
        .await
    }

    /// Every grant of an agent, whatever its status.
    pub async fn cached_grants(&self, agent_id: &str) -> Result<Arc<[Grant]>, StoreError> {
        self.read_through(
            agent_id,
            |slot| &slot.grants,
            |slot| &mut slot.grants,
            async { Ok(Some(Arc::from(self.inner.grants_for_agent(agent_id).await?))) },
            |_| true,
        )
        .await
        .map(Option::unwrap_or_default)
    }

    pub async fn cached_operator(&self, id: &str) -> Result<Option<Arc<Operator>>, StoreError> {
        self.read_through(
            id,
            |slot| &slot.operator,
            |slot| &mut slot.operator,
            async { Ok(self.inner.get_operator(id).await?.map(Arc::new)) },
            |_| true,
        )
        .await
    }

    /// A resource by its audience (resources never change once registered).
    pub async fn cached_resource(&self, audience: &Audience) -> Result<Option<Arc<Resource>>, StoreError> {
        let load = self.inner.get_resource_by_audience(audience);
        resource_through(&self.resources_by_audience, audience.as_str(), load).await
    }

    /// A resource by its id, which is its resource server's client id.
    pub async fn cached_resource_by_id(&self, id: &str) -> Result<Option<Arc<Resource>>, StoreError> {
        resource_through(&self.resources_by_id, id, self.inner.get_resource(id)).await
    }

    /// Answers from the copy when it holds a current value for `client_id`,
    /// else runs `load` and keeps its answer when nothing changed meanwhile.
    async fn read_through<T: Clone>(
        &self,
        client_id: &str,
        get: fn(&Slot) -> &Option<Fresh<T>>,
        get_mut: fn(&mut Slot) -> &mut Option<Fresh<T>>,
        load: impl Future<Output = Result<Option<T>, StoreError>>,
        keep: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, StoreError> {
        let Some(epoch) = self.denylist.change_epoch() else {
            return load.await;
        };
        let started = Instant::now();
        {
            let copy = read(&self.copy);
            if copy.epoch == Some(epoch) {
                let fresh = copy.clients.get(client_id).and_then(|slot| get(slot).as_ref());
                if let Some(fresh) = fresh.filter(|f| started.duration_since(f.read_at) < MAX_AGE) {
                    return Ok(Some(fresh.value.clone()));
                }
            }
        }
        let value = load.await?;
        let Some(value) = value else { return Ok(None) };
        if keep(&value) && self.denylist.change_epoch() == Some(epoch) {
            let mut copy = write(&self.copy);
            if copy.epoch != Some(epoch) {
                copy.clients.clear();
                copy.epoch = Some(epoch);
            }
            let quiet = copy.noticed.get(client_id).is_none_or(|at| *at + QUARANTINE < started);
            if quiet {
                if copy.clients.len() >= MAX_CLIENTS {
                    copy.clients.clear();
                }
                let slot = copy.clients.entry(client_id.to_owned()).or_default();
                *get_mut(slot) = Some(Fresh { value: value.clone(), read_at: started });
            }
        }
        Ok(Some(value))
    }

    /// Runs a write that changes what is cached of `client_ids`, with a
    /// change notice before it (nothing is written if that fails) and one
    /// after it.
    async fn announced<T>(
        &self,
        client_ids: &[String],
        write: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.announce(client_ids).await?;
        let written = write.await;
        let announced = self.announce(client_ids).await;
        let value = written?;
        announced?;
        Ok(value)
    }

    async fn announce(&self, client_ids: &[String]) -> Result<(), StoreError> {
        self.denylist.announce_changes(client_ids).await.map_err(|e| StoreError::Propagation(Box::new(e)))
    }
}

/// Answers from `cache` when it holds `key`, else runs `load` and keeps a
/// resource it finds (resources are never edited or removed).
async fn resource_through(
    cache: &RwLock<HashMap<String, Arc<Resource>>>,
    key: &str,
    load: impl Future<Output = Result<Option<Resource>, StoreError>>,
) -> Result<Option<Arc<Resource>>, StoreError> {
    if let Some(resource) = read(cache).get(key).cloned() {
        return Ok(Some(resource));
    }
    let Some(resource) = load.await?.map(Arc::new) else { return Ok(None) };
    let mut resources = write(cache);
    if resources.len() >= MAX_CLIENTS {
        resources.clear();
    }
    resources.insert(key.to_owned(), resource.clone());
    Ok(Some(resource))
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Store for CachedStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn count_operators(&self) -> Result<i64, StoreError> {
        self.inner.count_operators().await
    }

    async fn insert_operator(&self, operator: &Operator, credential: &Credential) -> Result<(), StoreError> {
        self.inner.insert_operator(operator, credential).await
    }

    async fn list_operators(&self) -> Result<Vec<Operator>, StoreError> {
        self.inner.list_operators().await
    }

    async fn get_operator(&self, id: &str) -> Result<Option<Operator>, StoreError> {
        self.inner.get_operator(id).await
    }

    async fn insert_resource(&self, resource: &Resource, credential: &Credential) -> Result<(), StoreError> {
        self.inner.insert_resource(resource, credential).await
    }

    async fn list_resources(&self) -> Result<Vec<Resource>, StoreError> {
        self.inner.list_resources().await
    }

    async fn get_resource_by_audience(&self, audience: &Audience) -> Result<Option<Resource>, StoreError> {
        self.inner.get_resource_by_audience(audience).await
    }

    async fn get_resource(&self, id: &str) -> Result<Option<Resource>, StoreError> {
        self.inner.get_resource(id).await
    }

    async fn insert_agent(&self, agent: &Agent, credential: &Credential) -> Result<(), StoreError> {
        self.inner.insert_agent(agent, credential).await
    }

    async fn list_agents(&self, filter: &AgentFilter) -> Result<Vec<Agent>, StoreError> {
        self.inner.list_agents(filter).await
    }

    async fn get_agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
        self.inner.get_agent(id).await
    }

    async fn kill_agents(
        &self,
        ids: &[String],
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.announced(ids, self.inner.kill_agents(ids, at, by, reason)).await
    }

    async fn restore_agent(
        &self,
        id: &str,
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.announced(&[id.to_owned()], self.inner.restore_agent(id, at, by, reason)).await
    }

    async fn kills_for_agent(&self, id: &str) -> Result<Vec<KillRecord>, StoreError> {
        self.inner.kills_for_agent(id).await
    }

    async fn insert_revoked_token(
        &self,
        jti: &str,
        agent_id: &str,
        expires_at: Timestamp,
        revoked_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.inner.insert_revoked_token(jti, agent_id, expires_at, revoked_at).await
    }

    async fn append_audit_with(
        &self,
        events: &[NewAuditEvent],
        last_use: &LastUse<'_>,
    ) -> Result<(), StoreError> {
        self.inner.append_audit_with(events, last_use).await
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.list_audit(filter).await
    }

    async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        self.inner.audit_head().await
    }

    async fn denylist_snapshot(&self, now: Timestamp) -> Result<DenylistSnapshot, StoreError> {
        self.inner.denylist_snapshot(now).await
    }

    async fn set_agent_status(
        &self,
        id: &str,
        from: AgentStatus,
        to: AgentStatus,
    ) -> Result<bool, StoreError> {
        self.announced(&[id.to_owned()], self.inner.set_agent_status(id, from, to)).await
    }

    /// A new grant is only requested: no token decision reads it until an
    /// approval, which is announced.
    async fn insert_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        self.inner.insert_grant(grant).await
    }

    async fn get_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        self.inner.get_grant(id).await
    }

    async fn grants_for_agent(&self, agent_id: &str) -> Result<Vec<Grant>, StoreError> {
        self.inner.grants_for_agent(agent_id).await
    }

    async fn update_grant(&self, grant: &Grant, previous: &Grant) -> Result<bool, StoreError> {
        self.announced(std::slice::from_ref(&grant.agent_id), self.inner.update_grant(grant, previous)).await
    }

    async fn credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError> {
        self.inner.credentials_for_client(client_id).await
    }

    async fn all_credentials_for_client(&self, client_id: &ClientId) -> Result<Vec<Credential>, StoreError> {
        self.inner.all_credentials_for_client(client_id).await
    }

    async fn add_credential(&self, credential: &Credential, max_live: i64) -> Result<bool, StoreError> {
        let client = [credential.client_id.to_string()];
        self.announced(&client, self.inner.add_credential(credential, max_live)).await
    }

    async fn retire_credential(
        &self,
        client_id: &ClientId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.announced(&[client_id.to_string()], self.inner.retire_credential(client_id, id, at)).await
    }

    async fn record_assertion_jti(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.record_assertion_jti(client_id, jti, expires_at, now).await
    }
}
