//! The production denylist: Redis holds it for every instance, and each
//! instance keeps an in-memory copy fed by a pub/sub channel.
//!
//! Keys (under the configured prefix): `kill:<agent>` = last kill time,
//! `jti:<jti>` = expiry (with a TTL), `grant:<agent>|<audience>` = last
//! grant revocation, and `loaded` = set once the content was filled from
//! the database. Every write is a MULTI of the SET and a PUBLISH of the
//! event on `<prefix>events`; change notices are only published.
//!
//! Fail closed: the copy answers "not denied" only while the subscription
//! is up and was loaded after subscribing. Otherwise a check the copy does
//! not deny reads Redis directly; if Redis does not answer, or answers
//! without `loaded` (it restarted empty), the check is an error and callers
//! answer 503. A denial in the copy always holds: the denylist only grows,
//! so a reload absorbs the old copy, and a Redis that lost writes (a
//! failover to a replica that missed them) cannot take back a kill seen
//! here. On every subscription a Warrant instance (which has the database)
//! writes the database's denylist back to Redis, raising any time Redis
//! lost and publishing it, before it trusts Redis again; a resource server
//! (which has not) waits for Redis to be `loaded`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use warrant_policy::{Clock, Timestamp};

use super::cache::{decide, Cache, Event};
use super::{ChangeListener, Denylist, DenylistError, DenylistStats, Inactive, Listeners, TokenFacts};
use crate::Store;

/// Sets each key to its argument where it holds nothing or a smaller
/// number; answers the (1-based) positions of the keys it set.
static RAISE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "local raised = {} \
         for i, key in ipairs(KEYS) do \
           local held = tonumber(redis.call('GET', key)) \
           if held == nil or held < tonumber(ARGV[i]) then \
             redis.call('SET', key, ARGV[i]) \
             table.insert(raised, i) \
           end \
         end \
         return raised",
    )
});

/// Longest wait for one Redis command before the check fails closed.
const OP_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Wait between two attempts to re-establish the subscription.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(100);

/// What a Warrant instance refills an empty Redis from.
#[derive(Clone)]
pub struct Refill {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

/// The Redis denylist with its followed in-memory copy.
pub struct RedisDenylist {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    manager: tokio::sync::Mutex<Option<ConnectionManager>>,
    cache: RwLock<Cache>,
    /// The subscription is up and the copy was loaded after it started.
    live: AtomicBool,
    /// Counts subscriptions: notices may have been missed between two.
    epoch: AtomicU64,
    listeners: Listeners,
    refill: Option<Refill>,
}

impl RedisDenylist {
    /// Follows the denylist in Redis at `url` under `prefix`. Succeeds even
    /// when Redis is down (checks then fail closed until it answers).
    /// `refill` is given by Warrant instances, which hold the database.
    pub fn connect(url: &str, prefix: &str, refill: Option<Refill>) -> Result<RedisDenylist, DenylistError> {
        let inner = Arc::new(Inner {
            client: redis::Client::open(url)?,
            prefix: prefix.to_owned(),
            manager: tokio::sync::Mutex::new(None),
            cache: RwLock::new(Cache::default()),
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            listeners: Listeners::default(),
            refill,
        });
        tokio::spawn(follow(Arc::downgrade(&inner)));
        Ok(RedisDenylist { inner })
    }

    /// Whether the in-memory copy is currently trusted.
    pub fn is_following(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }
}

impl Inner {
    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    fn channel(&self) -> String {
        self.key("events")
    }

    async fn conn(&self) -> Result<ConnectionManager, DenylistError> {
        let mut slot = self.manager.lock().await;
        if let Some(manager) = slot.as_ref() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(OP_TIMEOUT)
            .set_response_timeout(OP_TIMEOUT)
            .set_number_of_retries(1);
        let manager = timed(ConnectionManager::new_with_config(self.client.clone(), config)).await?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// Writes events to Redis (MULTI: SET and PUBLISH each), then to the copy.
    async fn write(&self, events: Vec<Event>, now: Timestamp) -> Result<(), DenylistError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for event in &events {
            match (self.event_key(event), event) {
                (Some(key), Event::Token { expires_at, .. }) => {
                    let ttl = u64::try_from(now.seconds_until(*expires_at)).unwrap_or(0).max(1);
                    pipe.set_ex(key, expires_at.unix(), ttl).ignore();
                }
                (Some(key), Event::Kill { at, .. } | Event::Grant { at, .. }) => {
                    pipe.set(key, at.unix()).ignore();
                }
                _ => {}
            }
            pipe.publish(self.channel(), event.encode()).ignore();
        }
        let mut conn = self.conn().await?;
        timed(pipe.query_async::<()>(&mut conn)).await?;
        let mut cache = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for event in events {
            self.receive(&mut cache, event, now);
        }
        Ok(())
    }

    /// Applies an event to the copy, or hands a change notice to the listeners.
    fn receive(&self, cache: &mut Cache, event: Event, now: Timestamp) {
        match event {
            Event::Changed { client_id } => self.listeners.notify(&client_id),
            event => cache.apply(event, now),
        }
    }

    /// Reads what Redis holds for one token, without the copy.
    async fn check_direct(&self, token: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError> {
        let mut conn = self.conn().await?;
        let keys = [
            self.key("loaded"),
            self.key(&format!("jti:{}", token.jti)),
            self.key(&format!("kill:{}", token.agent_id)),
            self.key(&format!("grant:{}|{}", token.agent_id, token.audience)),
        ];
        let (loaded, jti, kill, grant): (Option<String>, Option<String>, Option<i64>, Option<i64>) =
            timed(redis::cmd("MGET").arg(&keys).query_async(&mut conn)).await?;
        if loaded.is_none() {
            return Err(DenylistError::NotLoaded);
        }
        Ok(decide(jti.is_some(), kill.map(Timestamp), grant.map(Timestamp), token.issued_at))
    }

    /// Writes back what the database knows, then marks Redis loaded. Run
    /// on every subscription, not only when Redis came back empty: a Redis
    /// that failed over to a replica may have lost the last writes while
    /// keeping `loaded`. Kill and grant-revocation times are only raised
    /// (a newer time, from a kill whose database write is under way, is
    /// kept), and each raised one is published so that followers without
    /// the database (resource servers) hold it too.
    async fn refill(&self, refill: &Refill) -> Result<(), DenylistError> {
        let now = refill.clock.now();
        let snapshot = refill.store.denylist_snapshot(now).await?;
        let times: Vec<Event> = snapshot
            .kills
            .iter()
            .map(|(agent_id, at)| Event::Kill { agent_id: agent_id.clone(), at: *at })
            .chain(snapshot.grants.iter().map(|(agent_id, audience, at)| Event::Grant {
                agent_id: agent_id.clone(),
                audience: audience.clone(),
                at: *at,
            }))
            .collect();
        let mut conn = self.conn().await?;
        let mut raise = RAISE.prepare_invoke();
        for event in &times {
            if let (Some(key), Some(at)) = (self.event_key(event), event.time()) {
                raise.key(key).arg(at.unix());
            }
        }
        let raised: Vec<usize> =
            if times.is_empty() { Vec::new() } else { timed(raise.invoke_async(&mut conn)).await? };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for index in &raised {
            if let Some(event) = index.checked_sub(1).and_then(|i| times.get(i)) {
                pipe.publish(self.channel(), event.encode()).ignore();
            }
        }
        for (jti, expires_at) in &snapshot.tokens {
            let ttl = u64::try_from(now.seconds_until(*expires_at)).unwrap_or(0).max(1);
            pipe.set_ex(self.key(&format!("jti:{jti}")), expires_at.unix(), ttl).ignore();
        }
        pipe.set(self.key("loaded"), 1).ignore();
        timed(pipe.query_async::<()>(&mut conn)).await?;
        tracing::info!(
            kills = snapshot.kills.len(),
            tokens = snapshot.tokens.len(),
            grants = snapshot.grants.len(),
            raised = raised.len(),
            "wrote the database's denylist back to Redis"
        );
        Ok(())
    }

    /// Whether Redis holds a denylist (`loaded`), as opposed to having
    /// come back empty.
    async fn is_loaded(&self) -> Result<bool, DenylistError> {
        let mut conn = self.conn().await?;
        timed(redis::cmd("EXISTS").arg(self.key("loaded")).query_async(&mut conn)).await
    }

    /// The Redis key of a kill, a revoked token or a grant revocation.
    fn event_key(&self, event: &Event) -> Option<String> {
        match event {
            Event::Kill { agent_id, .. } => Some(self.key(&format!("kill:{agent_id}"))),
            Event::Token { jti, .. } => Some(self.key(&format!("jti:{jti}"))),
            Event::Grant { agent_id, audience, .. } => {
                Some(self.key(&format!("grant:{agent_id}|{audience}")))
            }
            Event::Changed { .. } => None,
        }
    }

    /// Reads the whole denylist from Redis into a fresh copy.
    async fn load(&self) -> Result<Cache, DenylistError> {
        let mut conn = self.conn().await?;
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let mut cache = Cache::default();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = timed(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1_000)
                    .query_async(&mut conn),
            )
            .await?;
            if !keys.is_empty() {
                let values: Vec<Option<i64>> =
                    timed(redis::cmd("MGET").arg(&keys).query_async(&mut conn)).await?;
                for (key, value) in keys.iter().zip(values) {
                    let (Some(rest), Some(value)) = (key.strip_prefix(&self.prefix), value) else { continue };
                    let at = Timestamp(value);
                    let event = if let Some(agent_id) = rest.strip_prefix("kill:") {
                        Event::Kill { agent_id: agent_id.to_owned(), at }
                    } else if let Some(jti) = rest.strip_prefix("jti:") {
                        Event::Token { jti: jti.to_owned(), expires_at: at }
                    } else if let Some((agent_id, audience)) =
                        rest.strip_prefix("grant:").and_then(|r| r.split_once('|'))
                    {
                        Event::Grant { agent_id: agent_id.to_owned(), audience: audience.to_owned(), at }
                    } else {
                        continue;
                    };
                    cache.apply(event, Timestamp(0));
                }
            }
            if next == 0 {
                return Ok(cache);
            }
            cursor = next;
        }
    }
}

/// Keeps the copy following Redis for as long as the denylist exists.
async fn follow(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else { return };
        let result = subscribe_and_load(&strong).await;
        strong.live.store(false, Ordering::SeqCst);
        let (client, channel) = (strong.client.clone(), strong.channel());
        drop(strong);
        match result {
            Ok(mut pubsub) => {
                if let Some(inner) = inner.upgrade() {
                    inner.epoch.fetch_add(1, Ordering::SeqCst);
                    inner.live.store(true, Ordering::SeqCst);
                    tracing::info!(channel = %channel, "following the Redis denylist");
                }
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Some(inner) = inner.upgrade() else { return };
                    let Some(event) = message.get_payload::<String>().ok().and_then(|p| Event::decode(&p))
                    else {
                        tracing::warn!("ignored a malformed denylist event");
                        continue;
                    };
                    let now = inner.refill.as_ref().map_or(Timestamp(0), |r| r.clock.now());
                    let mut cache = inner.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                    inner.receive(&mut cache, event, now);
                }
                if let Some(inner) = inner.upgrade() {
                    inner.live.store(false, Ordering::SeqCst);
                }
                tracing::warn!(channel = %channel, "lost the Redis denylist subscription; reading Redis directly");
            }
            Err(error) => tracing::debug!(%error, "cannot follow the Redis denylist yet"),
        }
        drop(client);
        tokio::time::sleep(RESUBSCRIBE_DELAY).await;
    }
}

/// Subscribes, refills Redis if it came back empty, and loads the copy.
/// Returns the subscription once the copy can be trusted.
async fn subscribe_and_load(inner: &Inner) -> Result<redis::aio::PubSub, DenylistError> {
    let mut pubsub = timed(inner.client.get_async_pubsub()).await?;
    timed(pubsub.subscribe(inner.channel())).await?;
    match &inner.refill {
        Some(refill) => match inner.refill(refill).await {
            Ok(()) => {}
            // The database cannot be read: a loaded Redis is followed still
            // (a failover's lost writes come back at the next subscription
            // with the database); an empty one is not.
            Err(DenylistError::Refill(error)) if inner.is_loaded().await? => {
                tracing::warn!(%error, "following Redis without writing the database's denylist back");
            }
            Err(error) => return Err(error),
        },
        None if !inner.is_loaded().await? => return Err(DenylistError::NotLoaded),
        None => {}
    }
    let mut fresh = inner.load().await?;
    let mut cache = inner.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    // What the copy held stays: a Redis that lost writes cannot take back
    // a kill this instance has seen.
    fresh.absorb(std::mem::take(&mut *cache));
    *cache = fresh;
    Ok(pubsub)
}

/// Runs a Redis command with [`OP_TIMEOUT`].
async fn timed<T>(
    command: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, DenylistError> {
    match tokio::time::timeout(OP_TIMEOUT, command).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(DenylistError::Timeout),
    }
}

/// Escapes the glob characters of a SCAN MATCH pattern.
fn escape_glob(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

#[async_trait]
impl Denylist for RedisDenylist {
    async fn check(&self, token: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError> {
        let copied = self.inner.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner()).check(token);
        // A denial in the copy is true whether or not it is followed (the
        // denylist only grows); an answer of "not denied" needs a followed
        // copy, or Redis itself.
        if copied.is_some() || self.inner.live.load(Ordering::SeqCst) {
            return Ok(copied);
        }
        self.inner.check_direct(token).await
    }

    async fn kill(&self, agent_ids: &[String], at: Timestamp) -> Result<(), DenylistError> {
        let events = agent_ids.iter().map(|id| Event::Kill { agent_id: id.clone(), at }).collect();
        self.inner.write(events, at).await
    }

    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), DenylistError> {
        self.inner.write(vec![Event::Token { jti: jti.to_owned(), expires_at }], now).await
    }

    async fn revoke_grant(&self, agent_id: &str, audience: &str, at: Timestamp) -> Result<(), DenylistError> {
        let event = Event::Grant { agent_id: agent_id.to_owned(), audience: audience.to_owned(), at };
        self.inner.write(vec![event], at).await
    }

    async fn ping(&self) -> Result<(), DenylistError> {
        if self.inner.live.load(Ordering::SeqCst) {
            return Ok(());
        }
        if self.inner.is_loaded().await? {
            Ok(())
        } else {
            Err(DenylistError::NotLoaded)
        }
    }

    async fn announce_changes(&self, client_ids: &[String]) -> Result<(), DenylistError> {
        let events = client_ids.iter().map(|id| Event::Changed { client_id: id.clone() }).collect();
        self.inner.write(events, Timestamp(0)).await
    }

    fn watch_changes(&self, listener: ChangeListener) {
        self.inner.listeners.add(listener);
    }

    fn change_epoch(&self) -> Option<u64> {
        // The epoch is read before `live`, and `live` is set after the epoch
        // moves: an epoch read while live belongs to the live subscription.
        let epoch = self.inner.epoch.load(Ordering::SeqCst);
        self.inner.live.load(Ordering::SeqCst).then_some(epoch)
    }

    fn stats(&self) -> DenylistStats {
        let following = self.is_following();
        let (kills, tokens, grants) =
            self.inner.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner()).sizes();
        DenylistStats { following, kills, tokens, grants }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(escape_glob("warrant:"), "warrant:");
    }
}
