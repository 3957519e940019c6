//! The cached store: what the token endpoint reads is served from memory,
//! and a change made through any instance's `CachedStore` is seen at once
//! (this instance) or as fast as a kill (the others, through Redis).
//! "Behind its back" writes go to the database directly, to tell a cached
//! answer from a fresh one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use warrant_policy::{AgentStatus, ClientKind, GrantAction, Timestamp};
use warrant_store::denylist::{Denylist, MemoryDenylist, RedisDenylist};
use warrant_store::{CachedStore, PgStore, SqliteStore, Store, StoreError};

use crate::cases::{grant, secret_credential, seed_agent_and_resource};

const T0: Timestamp = Timestamp(1_790_000_000);

fn embedded(pool: sqlx::SqlitePool) -> (Arc<dyn Store>, CachedStore) {
    let inner: Arc<dyn Store> = Arc::new(SqliteStore::from_pool(pool));
    let cached = CachedStore::new(inner.clone(), Arc::new(MemoryDenylist::default()));
    (inner, cached)
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

#[sqlx::test(migrations = "../../migrations/sqlite")]
async fn reads_are_served_from_memory_until_a_change_is_made_through_the_store(pool: sqlx::SqlitePool) {
    let (inner, cached) = embedded(pool);
    let (agent, resource) = seed_agent_and_resource(&cached).await;
    let g = grant("grt_1", &agent.id, &resource);
    cached.insert_grant(&g).await.unwrap();

    assert_eq!(cached.cached_credentials(&agent.client_id).await.unwrap().len(), 1);
    assert_eq!(cached.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Active);
    assert_eq!(cached.cached_grants(&agent.id).await.unwrap().len(), 1);
    assert!(cached.cached_resource(&resource.audience).await.unwrap().is_some());
    let by_id = cached.cached_resource_by_id(&resource.id).await.unwrap().unwrap();
    assert_eq!(by_id.audience, resource.audience);
    assert!(cached.cached_resource_by_id("res_unknown").await.unwrap().is_none());

    // Behind its back: the cached copies still answer.
    inner.add_credential(&secret_credential(&agent.id, ClientKind::Agent), 5).await.unwrap();
    inner.set_agent_status(&agent.id, AgentStatus::Active, AgentStatus::Suspended).await.unwrap();
    assert_eq!(cached.cached_credentials(&agent.client_id).await.unwrap().len(), 1, "served from memory");
    assert_eq!(cached.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Active);

    // Through the cached store: every copy of that client is dropped.
    assert!(cached.set_agent_status(&agent.id, AgentStatus::Suspended, AgentStatus::Active).await.unwrap());
    assert_eq!(cached.cached_credentials(&agent.client_id).await.unwrap().len(), 2);
    let approved = g.apply(GrantAction::Approve, "bob", T0).unwrap();
    assert!(cached.update_grant(&approved, &g).await.unwrap());
    let grants = cached.cached_grants(&agent.id).await.unwrap();
    assert_eq!(grants[0].status, approved.status);
}

#[sqlx::test(migrations = "../../migrations/sqlite")]
async fn a_client_just_changed_is_not_cached_during_the_quarantine(pool: sqlx::SqlitePool) {
    let (inner, cached) = embedded(pool);
    let (agent, _) = seed_agent_and_resource(&cached).await;
    assert!(cached.set_agent_status(&agent.id, AgentStatus::Active, AgentStatus::Suspended).await.unwrap());
    assert_eq!(cached.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Suspended);
    // A write that committed after the notice (another instance's, whose
    // second notice is lost) is still seen: the read above was not kept.
    inner.set_agent_status(&agent.id, AgentStatus::Suspended, AgentStatus::Active).await.unwrap();
    assert_eq!(cached.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Active);
}

#[sqlx::test(migrations = "../../migrations/sqlite")]
async fn unknown_clients_are_not_cached(pool: sqlx::SqlitePool) {
    let (inner, cached) = embedded(pool);
    let (agent, _) = crate::cases::seed_agent_and_resource(&*inner).await;
    let missing = warrant_policy::ClientId::parse("agt_2").unwrap();
    assert!(cached.cached_credentials(&missing).await.unwrap().is_empty());
    assert!(cached.cached_agent("agt_2").await.unwrap().is_none());
    let mut other = crate::cases::agent("agt_2", agent.platform, "x@example.com");
    other.status = AgentStatus::Active;
    inner.insert_agent(&other, &secret_credential("agt_2", ClientKind::Agent)).await.unwrap();
    assert_eq!(cached.cached_credentials(&missing).await.unwrap().len(), 1);
    assert!(cached.cached_agent("agt_2").await.unwrap().is_some());
}

#[sqlx::test(migrations = "../../migrations/sqlite")]
async fn without_the_change_channel_nothing_is_cached_and_nothing_is_written(pool: sqlx::SqlitePool) {
    let inner: Arc<dyn Store> = Arc::new(SqliteStore::from_pool(pool));
    // Nothing listens on port 1: the channel is down from the start.
    let denylist = Arc::new(RedisDenylist::connect("redis://127.0.0.1:1", "unreachable:", None).unwrap());
    let cached = CachedStore::new(inner.clone(), denylist);
    let (agent, _) = seed_agent_and_resource(&*inner).await;

    assert_eq!(cached.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Active);
    inner.set_agent_status(&agent.id, AgentStatus::Active, AgentStatus::Suspended).await.unwrap();
    assert_eq!(
        cached.cached_agent(&agent.id).await.unwrap().unwrap().status,
        AgentStatus::Suspended,
        "not following the channel: every read goes to the database"
    );

    let refused = cached.set_agent_status(&agent.id, AgentStatus::Suspended, AgentStatus::Active).await;
    assert!(matches!(refused, Err(StoreError::Propagation(_))), "{refused:?}");
    assert_eq!(
        inner.get_agent(&agent.id).await.unwrap().unwrap().status,
        AgentStatus::Suspended,
        "a change that cannot be announced is not written"
    );
}

#[sqlx::test(migrations = "../../migrations/postgres")]
async fn a_change_on_one_instance_reaches_another_instances_copy(pool: sqlx::PgPool) {
    let inner: Arc<dyn Store> = Arc::new(PgStore::from_pool(pool));
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let mut instances = Vec::new();
    for _ in 0..2 {
        let denylist = Arc::new(RedisDenylist::connect(&redis_url(), &prefix, None).unwrap());
        instances.push((denylist.clone(), CachedStore::new(inner.clone(), denylist)));
    }
    // Mark the (empty) denylist loaded so that followers without a database trust it.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET").arg(format!("{prefix}loaded")).arg(1).query_async(&mut conn).await.unwrap();
    let start = Instant::now();
    while instances.iter().any(|(d, _)| d.change_epoch().is_none()) {
        assert!(start.elapsed() < Duration::from_secs(5), "never followed Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (agent, _) = seed_agent_and_resource(&*inner).await;
    let (_, reader) = &instances[0];
    let (_, writer) = &instances[1];
    assert_eq!(reader.cached_agent(&agent.id).await.unwrap().unwrap().status, AgentStatus::Active);
    assert_eq!(reader.cached_credentials(&agent.client_id).await.unwrap().len(), 1);
    inner.add_credential(&secret_credential(&agent.id, ClientKind::Agent), 5).await.unwrap();
    assert_eq!(reader.cached_credentials(&agent.client_id).await.unwrap().len(), 1, "served from memory");

    writer.kill_agents(std::slice::from_ref(&agent.id), T0, "op_r", "test").await.unwrap();
    let start = Instant::now();
    loop {
        let status = reader.cached_agent(&agent.id).await.unwrap().unwrap().status;
        if status == AgentStatus::Killed {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(2), "the other instance still sees {status}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _: () = redis::cmd("DEL").arg(format!("{prefix}loaded")).query_async(&mut conn).await.unwrap();
}
