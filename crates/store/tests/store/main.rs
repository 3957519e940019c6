//! The store conformance suite: every test runs against PostgreSQL (a fresh
//! database per test, from `DATABASE_URL`) and SQLite, through the `Store`
//! trait only, and once more through the `CachedStore` over SQLite. An
//! unreachable PostgreSQL fails the run; it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit_tampering;
mod cached;
mod cases;
mod redis_denylist;

/// Declares each case twice: once per backend.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[sqlx::test(migrations = "../../migrations/postgres")]
                async fn $case(pool: sqlx::PgPool) {
                    super::cases::$case(&warrant_store::PgStore::from_pool(pool)).await;
                }
            )+
        }
        mod sqlite {
            $(
                #[sqlx::test(migrations = "../../migrations/sqlite")]
                async fn $case(pool: sqlx::SqlitePool) {
                    super::cases::$case(&warrant_store::SqliteStore::from_pool(pool)).await;
                }
            )+
        }
        /// The cached store passes every `Store` call through.
        mod cached_sqlite {
            $(
                #[sqlx::test(migrations = "../../migrations/sqlite")]
                async fn $case(pool: sqlx::SqlitePool) {
                    let inner = std::sync::Arc::new(warrant_store::SqliteStore::from_pool(pool));
                    let denylist = std::sync::Arc::new(warrant_store::denylist::MemoryDenylist::default());
                    super::cases::$case(&warrant_store::CachedStore::new(inner, denylist)).await;
                }
            )+
        }
    };
}

conformance!(
    the_database_answers_a_ping,
    an_operator_round_trips_with_its_credential,
    a_taken_operator_id_is_a_conflict_and_writes_nothing,
    a_resource_keeps_its_scope_catalogue_in_order,
    a_taken_audience_is_a_conflict_and_writes_nothing,
    an_agent_round_trips_and_filters_apply,
    an_agent_status_change_is_a_compare_and_set,
    a_grant_round_trips_with_its_audience,
    a_grant_update_is_a_compare_and_set,
    retired_or_foreign_credentials_are_not_returned,
    an_assertion_jti_is_accepted_once_until_it_expires,
    vendor_and_tag_filters_match_exactly,
    a_kill_is_recorded_and_a_restore_closes_it,
    the_denylist_snapshot_holds_kills_live_revocations_and_revoked_grants,
    a_resource_is_found_by_its_id,
    the_audit_chain_is_appended_in_order_and_verifies,
    concurrent_audit_writers_keep_one_contiguous_chain,
    audit_filters_and_the_cursor_apply,
    two_first_approvals_cannot_both_be_recorded,
    credentials_are_added_up_to_a_limit_and_the_last_one_cannot_be_retired,
    a_token_issued_event_records_last_use_in_the_same_commit,
    agents_page_in_creation_order_and_filter_by_resource_reached,
);
