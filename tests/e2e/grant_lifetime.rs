//! A grant's lifetime: no further ahead than WARRANT_GRANT_MAX_LIFETIME; past
//! its expires_at it shows "expired", gives no token, and the tokens it gave
//! are inactive once past their exp (which never exceeds the grant's expiry).

use reqwest::StatusCode;

use crate::denylist::unix_of;
use crate::helpers::{
    assert_admin_error, assert_oauth_error, created, spawn_app, spawn_app_with, Setup, TestApp,
};
use crate::jwt::{lifetime, verify_access_token};

const NINETY_DAYS: i64 = 90 * 86_400;

/// Asks for a grant expiring `expires_in` seconds ahead on a fresh resource.
async fn ask(app: &TestApp, expires_in: i64) -> reqwest::Response {
    let resource = app.create_resource(&["read"]).await;
    let agent = app.create_agent(&app.admin_token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], expires_in, None);
    app.request_grant(&app.admin_token, &agent.id, &body).await
}

#[tokio::test]
async fn a_grant_may_last_ninety_days_by_default_and_not_a_second_more() {
    let app = spawn_app().await;
    let granted = created(ask(&app, NINETY_DAYS).await).await;
    assert_eq!(unix_of(&granted, "expires_at"), app.now() + NINETY_DAYS);
    let response = ask(&app, NINETY_DAYS + 1).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = ask(&app, 365 * 86_400).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn the_grant_lifetime_limit_follows_its_setting() {
    let app = spawn_app_with(&[("WARRANT_GRANT_MAX_LIFETIME", "3600")]).await;
    created(ask(&app, 3600).await).await;
    created(ask(&app, 60).await).await;
    let response = ask(&app, 3601).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = ask(&app, 86_400).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn an_expired_grant_shows_expired_gives_no_token_and_its_tokens_die_with_it() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 100, ..Default::default() }).await;
    let token = app.granted_token(&granted).await;
    let claims = verify_access_token(&app, &token, &granted.resource.audience).await;
    assert_eq!(lifetime(&claims), 100, "the token ends with the grant, not after the 300 s TTL");
    let grant_status = |report: serde_json::Value| report["grants"][0]["status"].clone();

    app.clock.advance(99);
    app.assert_active(&granted.resource, &token).await;
    assert_eq!(grant_status(app.agent_report(&granted.agent.id).await), "approved");

    app.clock.advance(2);
    assert_eq!(grant_status(app.agent_report(&granted.agent.id).await), "expired");
    app.assert_inactive(&granted.resource, &token).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let audience = granted.resource.audience.as_str();
    let response = app.token_with_basic(id, secret, &[("resource", audience)]).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
    let response = app.token_with_basic(id, secret, &[("resource", audience), ("scope", "read")]).await;
    let error = crate::helpers::json_with_status(response, StatusCode::BAD_REQUEST).await;
    assert!(
        error["error"] == "invalid_target" || error["error"] == "invalid_scope",
        "an expired grant's scope: invalid_target or invalid_scope, got {error}"
    );
}

#[tokio::test]
async fn an_expired_grant_cannot_be_revoked_nor_approved() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 100, ..Default::default() }).await;
    let body = app.grant_body(&granted.resource.audience, &["read"], 100, None);
    let pending = created(app.request_grant(&granted.requester.token, &granted.agent.id, &body).await).await;
    app.clock.advance(101);
    // Only an approved grant can be revoked (contract.md); an expired one is
    // not approved. Nor can a request be approved past its expires_at.
    let revoked = app.revoke(&granted.approver.token, &granted.grant_id).await.status();
    let pending_id = pending["id"].as_str().expect("an id");
    let approved = app.approve(&granted.approver.token, pending_id).await.status();
    assert_eq!(
        (revoked, approved.is_client_error()),
        (StatusCode::CONFLICT, true),
        "revoking an expired grant (expected 409), approving an expired request (expected 4xx, got {approved})"
    );
    let report = app.agent_report(&granted.agent.id).await;
    assert_eq!(report["grants"][0]["status"], "expired", "{report}");
}

#[tokio::test]
async fn a_token_issued_before_expiry_is_inactive_past_its_exp() {
    let mut app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 3600, ..Default::default() }).await;
    let token = app.granted_token(&granted).await;
    let claims = verify_access_token(&app, &token, &granted.resource.audience).await;
    assert_eq!(lifetime(&claims), 300);
    app.clock.advance(299);
    app.assert_active(&granted.resource, &token).await;
    app.clock.advance(2);
    app.assert_inactive(&granted.resource, &token).await;
    // The grant itself still lives: a new token is issued.
    app.granted_token(&granted).await;
    app.clock.advance(3600);
    app.assert_inactive(&granted.resource, &token).await;
    app.renew_admin_token().await;
    let report = app.agent_report(&granted.agent.id).await;
    assert_eq!(report["grants"][0]["status"], "expired", "{report}");
}
