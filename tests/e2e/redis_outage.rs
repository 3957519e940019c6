//! Redis goes away: introspection fails closed (503, never `active: true` on a
//! guess; `active: false` where the instance's copy already denies), readiness says so, a kill is refused rather than half-written; and
//! when Redis comes back empty the instance refills it from the database
//! before trusting it again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_admin_error, json_with_status, Resource, Setup, TestApp};
use crate::redis::{
    count_keys, key_exists, lose_key_and_subscriptions, spawn_app_on_redis_at, unique_prefix, RedisServer,
};

/// Status and JSON body of one introspection.
async fn ask(app: &TestApp, resource: &Resource, token: &str) -> (StatusCode, Value) {
    let response = app.introspect(&resource.client_id, &resource.secret, token).await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    (status, body)
}

/// Asserts the fail-closed answer: 503 `temporarily_unavailable`.
fn assert_unavailable(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{what}: {body}");
    assert!(body["error_description"].is_string(), "{what}: {body}");
}

/// Polls `/readyz` until it answers `status`, within `bound`; returns the body.
async fn readyz_becomes(app: &TestApp, status: StatusCode, bound: Duration) -> Value {
    let started = Instant::now();
    loop {
        let response = app.get("/readyz").await;
        if response.status() == status {
            return response.json().await.expect("a JSON body");
        }
        assert!(started.elapsed() < bound, "/readyz is not {status} after {bound:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_fails_closed_while_redis_is_down_and_recovers_from_the_database() {
    let mut redis = RedisServer::start().await;
    let prefix = unique_prefix();
    let app = spawn_app_on_redis_at(&redis.url(), &prefix, &[]).await;
    let killed = app.setup_agent_with_grant(Setup::default()).await;
    let resource = &killed.resource;
    let untouched = app.agent_with(&[], resource, &["read"], &killed.approver).await;
    let spared = app.agent_with(&[], resource, &["read"], &killed.approver).await;
    let secret = |agent: &crate::helpers::Agent| agent.secret.clone().expect("a secret");
    let killed_token = app.granted_token(&killed).await;
    let untouched_token = app.token_for(&untouched.client_id, &secret(&untouched), &resource.audience).await;
    let spared_token = app.token_for(&spared.client_id, &secret(&spared), &resource.audience).await;
    app.kill_ok(&killed.agent.id, "killed before the outage").await;
    app.assert_inactive(resource, &killed_token).await;
    app.assert_active(resource, &untouched_token).await;

    // Redis dies. Within a few seconds introspection answers 503; at no
    // point does the killed agent's token come back to life.
    redis.kill();
    let started = Instant::now();
    loop {
        let (status, body) = ask(&app, resource, &killed_token).await;
        assert_ne!(body["active"], true, "the killed agent's token during the outage: {status} {body}");
        let (status, body) = ask(&app, resource, &untouched_token).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_unavailable(status, &body, "the untouched token during the outage");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still {status} {body} 5 s into the outage");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready = readyz_becomes(&app, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(5)).await;
    assert_eq!(ready["status"], "unavailable", "{ready}");
    assert_eq!(ready["denylist"], "unreachable", "{ready}");
    assert_eq!(ready["store"], "ok", "{ready}");
    for token in [&untouched_token, &spared_token] {
        let (status, body) = ask(&app, resource, token).await;
        assert_unavailable(status, &body, "a live token during the outage");
    }
    // The instance's copy still knows the kill: that denial holds without Redis.
    let (status, body) = ask(&app, resource, &killed_token).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"active": false})),
        "the killed token during the outage"
    );
    // A kill cannot reach the denylist: it is refused and nothing is written.
    let refused = app.kill(&app.admin_token, &spared.id, "during the outage").await;
    assert_admin_error(refused, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;

    // Redis comes back, empty. Introspection answers again within a bounded
    // wait, and never trusts the empty Redis: the old kill still holds.
    redis.restart().await;
    let started = Instant::now();
    loop {
        let (status, body) = ask(&app, resource, &killed_token).await;
        assert_ne!(
            body["active"], true,
            "the killed agent's token after Redis came back empty: {status} {body}"
        );
        let (status, body) = ask(&app, resource, &untouched_token).await;
        if status == StatusCode::OK {
            assert_eq!(body["active"], true, "the untouched token once Redis is back: {body}");
            break;
        }
        assert_unavailable(status, &body, "the untouched token while Redis restarts");
        assert!(started.elapsed() < Duration::from_secs(30), "still 503 30 s after Redis came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.assert_inactive(resource, &killed_token).await;
    app.assert_active(resource, &untouched_token).await;
    app.assert_active(resource, &spared_token).await;
    assert_eq!(app.agent_report(&spared.id).await["status"], "active", "the refused kill wrote nothing");
    assert!(app.agent_report(&killed.agent.id).await["kills"].as_array().is_some_and(|k| k.len() == 1));
    assert!(count_keys(&redis.url(), &prefix).expect("the private Redis answers") > 0, "Redis was refilled");
    let ready = readyz_becomes(&app, StatusCode::OK, Duration::from_secs(10)).await;
    assert_eq!(ready, json!({"status": "ready", "store": "ok", "denylist": "ok"}));

    // The kill switch works again.
    app.kill_ok(&spared.id, "after the outage").await;
    app.assert_inactive(resource, &spared_token).await;
    let refused = app.token_with_basic(&spared.client_id, &secret(&spared), &[]).await;
    json_with_status(refused, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_that_loses_a_kill_does_not_bring_the_agents_tokens_back() {
    let redis = RedisServer::start().await;
    let prefix = unique_prefix();
    let app = spawn_app_on_redis_at(&redis.url(), &prefix, &[]).await;
    let killed = app.setup_agent_with_grant(Setup::default()).await;
    let resource = &killed.resource;
    let token = app.granted_token(&killed).await;
    app.kill_ok(&killed.agent.id, "killed before the failover").await;
    app.assert_inactive(resource, &token).await;

    // The new primary lacks the kill but still says `loaded`; the
    // instance's subscription drops and comes back. It writes the
    // database's kills back before it trusts Redis again.
    let kill_key = format!("{prefix}kill:{}", killed.agent.id);
    lose_key_and_subscriptions(&redis.url(), &kill_key).expect("the private Redis answers");
    let started = Instant::now();
    while !key_exists(&redis.url(), &kill_key).expect("the private Redis answers") {
        let (status, body) = ask(&app, resource, &token).await;
        assert_ne!(body["active"], true, "the killed agent's token after the failover: {status} {body}");
        assert!(started.elapsed() < Duration::from_secs(10), "the kill was not written back within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    readyz_becomes(&app, StatusCode::OK, Duration::from_secs(10)).await;
    for _ in 0..20 {
        app.assert_inactive(resource, &token).await;
    }
}
