//! The Redis denylist against the real Redis (`REDIS_URL`, default
//! 127.0.0.1:6379), each test under its own key prefix. An unreachable
//! Redis fails these tests; they never skip.

use std::sync::Arc;
use std::time::{Duration, Instant};

use warrant_policy::{
    ActsOnBehalfOf, Agent, AgentStatus, ClientId, ClientKind, Clock, Credential, CredentialMethod,
    ManualClock, Platform, SystemClock, Timestamp,
};
use warrant_store::denylist::{Denylist, DenylistError, Inactive, RedisDenylist, Refill, TokenFacts};
use warrant_store::{SqliteStore, Store};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Deletes this test's keys (never anything else).
async fn forget(prefix: &str) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await.unwrap();
    }
}

fn facts(agent_id: &str, iat: Timestamp) -> TokenFacts<'_> {
    TokenFacts { jti: "jti-1", agent_id, audience: "https://crm.example.com", issued_at: iat }
}

/// Waits (at most 5 s) until `denylist` follows Redis.
async fn until_following(denylist: &RedisDenylist) {
    let start = Instant::now();
    while !denylist.is_following() {
        assert!(start.elapsed() < Duration::from_secs(5), "the denylist never followed Redis");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&dir.path().join("warrant.db")).await.unwrap())
}

fn refill(store: &Arc<dyn Store>) -> Option<Refill> {
    Some(Refill { store: store.clone(), clock: Arc::new(SystemClock) })
}

#[tokio::test]
async fn a_kill_written_by_one_instance_is_seen_by_the_others_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let prefix = prefix();
    let instances: Vec<RedisDenylist> =
        (0..3).map(|_| RedisDenylist::connect(&redis_url(), &prefix, refill(&store)).unwrap()).collect();
    for instance in &instances {
        until_following(instance).await;
    }
    let now = SystemClock.now();
    assert_eq!(instances[2].check(&facts("agt_1", now)).await.unwrap(), None);
    instances[0].kill(&["agt_1".to_owned()], now).await.unwrap();
    // The writer sees it before its call returns; the others within the publish.
    assert_eq!(instances[0].check(&facts("agt_1", now)).await.unwrap(), Some(Inactive::Killed));
    for instance in &instances[1..] {
        let start = Instant::now();
        while instance.check(&facts("agt_1", now)).await.unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(2), "the kill never reached a follower");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(instances[1].check(&facts("agt_1", now.plus(1))).await.unwrap(), None, "later tokens live");
    forget(&prefix).await;
}

#[tokio::test]
async fn revoked_tokens_and_grants_reach_followers_and_direct_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let prefix = prefix();
    let writer = RedisDenylist::connect(&redis_url(), &prefix, refill(&store)).unwrap();
    until_following(&writer).await;
    let now = SystemClock.now();
    writer.revoke_token("jti-1", now.plus(300), now).await.unwrap();
    writer.revoke_grant("agt_2", "https://crm.example.com", now).await.unwrap();

    let follower = RedisDenylist::connect(&redis_url(), &prefix, None).unwrap();
    until_following(&follower).await;
    assert_eq!(follower.check(&facts("agt_1", now)).await.unwrap(), Some(Inactive::Revoked));
    let other_jti = TokenFacts { jti: "jti-2", ..facts("agt_2", now) };
    assert_eq!(follower.check(&other_jti).await.unwrap(), Some(Inactive::GrantRevoked));
    let other_audience = TokenFacts { audience: "https://tickets.example.com", ..other_jti };
    assert_eq!(follower.check(&other_audience).await.unwrap(), None);
    forget(&prefix).await;
}

#[tokio::test]
async fn an_empty_redis_is_refilled_from_the_database_before_it_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let clock = ManualClock::new(SystemClock.now());
    let agent = Agent {
        id: "agt_k".into(),
        client_id: ClientId::parse("agt_k").unwrap(),
        name: "k".into(),
        platform: Platform::Sap,
        vendor: "SAP".into(),
        owner: String::new(),
        purpose: String::new(),
        environment: String::new(),
        acts_on_behalf_of: ActsOnBehalfOf::Nobody,
        tags: vec![],
        status: AgentStatus::Active,
        created_by: "t".into(),
        created_at: clock.now(),
        last_token: None,
    };
    let credential = Credential {
        id: "cred_k".into(),
        client_id: agent.client_id.clone(),
        client_kind: ClientKind::Agent,
        method: CredentialMethod::ClientSecret,
        secret_hash: Some(vec![1; 32]),
        jwks: None,
        created_at: clock.now(),
        last_used_at: None,
        retired_at: None,
    };
    store.insert_agent(&agent, &credential).await.unwrap();
    let killed_at = clock.now();
    store.kill_agents(&["agt_k".to_owned()], killed_at, "rob", "test").await.unwrap();

    // A fresh prefix is a Redis that knows nothing: a follower without a
    // database must not trust it.
    let prefix = prefix();
    let blind = RedisDenylist::connect(&redis_url(), &prefix, None).unwrap();
    let err = blind.check(&facts("agt_k", killed_at)).await.unwrap_err();
    assert!(matches!(err, DenylistError::NotLoaded), "{err:?}");
    assert!(blind.ping().await.is_err());

    // A Warrant instance refills it from the database, and then both trust it.
    let warrant = RedisDenylist::connect(&redis_url(), &prefix, refill(&store)).unwrap();
    until_following(&warrant).await;
    assert_eq!(warrant.check(&facts("agt_k", killed_at)).await.unwrap(), Some(Inactive::Killed));
    until_following(&blind).await;
    assert_eq!(blind.check(&facts("agt_k", killed_at)).await.unwrap(), Some(Inactive::Killed));
    blind.ping().await.unwrap();
    forget(&prefix).await;
}

#[tokio::test]
async fn an_unreachable_redis_fails_closed() {
    // Nothing listens on port 1.
    let denylist = RedisDenylist::connect("redis://127.0.0.1:1", &prefix(), None).unwrap();
    let now = SystemClock.now();
    assert!(denylist.check(&facts("agt_1", now)).await.is_err());
    assert!(denylist.ping().await.is_err());
    assert!(denylist.kill(&["agt_1".to_owned()], now).await.is_err());
    assert!(!denylist.is_following());
}
