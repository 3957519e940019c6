//! Three instances of one deployment: one PostgreSQL database, one Redis
//! prefix, one keys directory, one issuer (and, here, one clock). What is
//! done at one instance holds at every instance as soon as it is answered.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{assert_oauth_error, Granted, Resource, Setup, TestApp};
use crate::redis::{shared_redis, spawn_app_on_redis_at, unique_prefix, wait_until_ready};

const ISSUER: &str = "https://warrant.cluster.example.com";

async fn cluster() -> [TestApp; 3] {
    let url = shared_redis();
    let first = spawn_app_on_redis_at(&url, &unique_prefix(), &[("WARRANT_ISSUER", ISSUER)]).await;
    let second = first.spawn_sibling(&[]).await;
    let third = first.spawn_sibling(&[]).await;
    for app in [&second, &third] {
        wait_until_ready(app, Duration::from_secs(15)).await;
        assert_eq!(app.issuer, ISSUER);
        assert_ne!(app.addr, first.addr);
    }
    [first, second, third]
}

/// The three instances' answers about `token`, asked concurrently.
async fn answers(apps: &[TestApp; 3], resource: &Resource, token: &str) -> [serde_json::Value; 3] {
    let (a, b, c) = tokio::join!(
        apps[0].introspection(resource, token),
        apps[1].introspection(resource, token),
        apps[2].introspection(resource, token),
    );
    [a, b, c]
}

async fn assert_active_everywhere(apps: &[TestApp; 3], resource: &Resource, token: &str, when: &str) {
    for (i, answer) in answers(apps, resource, token).await.iter().enumerate() {
        assert_eq!(answer["active"], true, "instance {} {when}: {answer}", i + 1);
    }
}

async fn assert_inactive_everywhere(apps: &[TestApp; 3], resource: &Resource, token: &str, when: &str) {
    for (i, answer) in answers(apps, resource, token).await.iter().enumerate() {
        assert_eq!(answer, &serde_json::json!({"active": false}), "instance {} {when}", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_at_one_instance_is_seen_at_every_instance_as_soon_as_it_is_answered() {
    let apps = cluster().await;
    let granted = apps[0].setup_agent_with_grant(Setup::default()).await;
    let (id, secret, resource) = (&granted.agent.client_id, granted.secret(), &granted.resource);

    // Several rounds: a token from one instance, a kill at the next, a restore at the third.
    let mut old_tokens = Vec::new();
    for round in 0..6 {
        let (issuer, killer, restorer) = (&apps[round % 3], &apps[(round + 1) % 3], &apps[(round + 2) % 3]);
        let token = issuer.token_for(id, secret, &resource.audience).await;
        assert_active_everywhere(&apps, resource, &token, &format!("round {round}, before the kill")).await;

        let killed = killer.kill(&killer.admin_token, &granted.agent.id, &format!("round {round}")).await;
        assert_eq!(killed.status(), StatusCode::OK, "round {round}: the kill");
        assert_inactive_everywhere(&apps, resource, &token, &format!("round {round}, right after the kill"))
            .await;
        for app in &apps {
            let refused = app.token_with_basic(id, secret, &[]).await;
            assert_oauth_error(refused, StatusCode::UNAUTHORIZED, "invalid_client").await;
        }

        apps[0].clock.advance(1);
        let restored = restorer.restore(&restorer.admin_token, &granted.agent.id, "next round").await;
        assert_eq!(restored.status(), StatusCode::OK, "round {round}: the restore");
        old_tokens.push(token);
    }
    for (round, token) in old_tokens.iter().enumerate() {
        assert_inactive_everywhere(&apps, resource, token, &format!("after the restores (round {round})"))
            .await;
    }
    let fresh = apps[2].token_for(id, secret, &resource.audience).await;
    assert_active_everywhere(&apps, resource, &fresh, "after the last restore").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_kill_at_one_instance_is_seen_at_every_instance() {
    let apps = cluster().await;
    let granted = apps[0].setup_agent_with_grant(Setup::default()).await;
    let token = apps[1].granted_token(&granted).await;
    assert_active_everywhere(&apps, &granted.resource, &token, "before the kill").await;
    let body = serde_json::json!({"tag": "billing", "reason": "billing agents misbehave"});
    assert_eq!(apps[2].bulk_kill(&apps[2].admin_token, &body).await.status(), StatusCode::OK);
    assert_inactive_everywhere(&apps, &granted.resource, &token, "after the bulk kill").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_at_one_instance_is_inactive_at_every_instance() {
    let apps = cluster().await;
    let granted = apps[0].setup_agent_with_grant(Setup::default()).await;
    let revoked = apps[0].granted_token(&granted).await;
    let kept = apps[1].granted_token(&granted).await;
    assert_active_everywhere(&apps, &granted.resource, &revoked, "before the revocation").await;

    let response = apps[2].revoke_token(&granted.agent.client_id, granted.secret(), &revoked).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_inactive_everywhere(&apps, &granted.resource, &revoked, "after the revocation").await;
    assert_active_everywhere(&apps, &granted.resource, &kept, "the other token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_at_one_instance_silences_its_tokens_at_every_instance() {
    let apps = cluster().await;
    let granted: Granted = apps[0].setup_agent_with_grant(Setup::default()).await;
    let token = apps[2].granted_token(&granted).await;
    assert_active_everywhere(&apps, &granted.resource, &token, "before the grant's revocation").await;

    let response = apps[1].revoke(&granted.approver.token, &granted.grant_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_inactive_everywhere(&apps, &granted.resource, &token, "after the grant's revocation").await;
}
