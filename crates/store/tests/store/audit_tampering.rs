//! Tampering with the audit table directly in SQL is detected, on both
//! backends; and the group-commit writer batches concurrent events into
//! one chain.

use std::sync::Arc;

use warrant_policy::Timestamp;
use warrant_store::audit::{
    verify_chain, verify_store, AuditFilter, AuditWriter, NewAuditEvent, GENESIS_HASH,
};
use warrant_store::{PgStore, SqliteStore, Store};

fn event(n: i64) -> NewAuditEvent {
    NewAuditEvent {
        at: Timestamp(1_790_000_000 + n),
        actor: "op_alice".into(),
        action: "grant.approved".into(),
        agent_id: Some("agt_1".into()),
        resource: None,
        detail: serde_json::json!({"n": n}),
    }
}

async fn first_break(store: &dyn Store) -> Option<i64> {
    verify_store(store).await.unwrap().err().map(|broken| broken.seq)
}

async fn five_events(store: &dyn Store) {
    store.append_audit(&(1..=5).map(event).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(first_break(store).await, None);
}

macro_rules! tampering {
    ($pool:ty, $store:ty, $migrations:literal, $edit:ident, $delete:ident, $delete_last:ident) => {
        #[sqlx::test(migrations = $migrations)]
        async fn $edit(pool: $pool) {
            let store = <$store>::from_pool(pool.clone());
            five_events(&store).await;
            sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(first_break(&store).await, Some(3));
        }

        #[sqlx::test(migrations = $migrations)]
        async fn $delete(pool: $pool) {
            let store = <$store>::from_pool(pool.clone());
            five_events(&store).await;
            sqlx::query("DELETE FROM audit_events WHERE seq = 2").execute(&pool).await.unwrap();
            assert_eq!(first_break(&store).await, Some(2));
        }

        #[sqlx::test(migrations = $migrations)]
        async fn $delete_last(pool: $pool) {
            let store = <$store>::from_pool(pool.clone());
            five_events(&store).await;
            sqlx::query("DELETE FROM audit_events WHERE seq = 5").execute(&pool).await.unwrap();
            assert_eq!(first_break(&store).await, Some(5));
        }
    };
}

tampering!(
    sqlx::PgPool,
    PgStore,
    "../../migrations/postgres",
    postgres_an_edited_event_is_detected,
    postgres_a_deleted_event_is_detected,
    postgres_a_deleted_last_event_is_detected
);
tampering!(
    sqlx::SqlitePool,
    SqliteStore,
    "../../migrations/sqlite",
    sqlite_an_edited_event_is_detected,
    sqlite_a_deleted_event_is_detected,
    sqlite_a_deleted_last_event_is_detected
);

#[sqlx::test(migrations = "../../migrations/postgres")]
async fn the_writer_commits_concurrent_events_into_one_chain(pool: sqlx::PgPool) {
    let store: Arc<dyn Store> = Arc::new(PgStore::from_pool(pool));
    let writer = AuditWriter::spawn(store.clone());
    let records = (0..200).map(|n| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.record(event(n)).await })
    });
    for record in futures_util::future::join_all(records).await {
        record.unwrap().unwrap();
    }
    let events = store.list_audit(&AuditFilter { limit: 1_000, ..AuditFilter::default() }).await.unwrap();
    assert_eq!(events.len(), 200);
    assert_eq!(verify_chain(&events, 0, GENESIS_HASH).unwrap().0, 200);
}
