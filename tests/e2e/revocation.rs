//! Revocation (RFC 7009): an agent revokes its own tokens; the answer tells
//! nothing about tokens it does not recognise; another client's token is
//! refused; revocations and kills outlive a restart of the embedded instance.

use reqwest::StatusCode;

use crate::forge::{claims_of, kid_of, SigningKey};
use crate::helpers::{assert_admin_error, assert_oauth_error, spawn_app, spawn_app_with, Setup, TestApp};

/// Asserts 200 with an empty body (RFC 7009 §2.2).
async fn assert_revoked(response: reqwest::Response) {
    let status = response.status();
    let body = response.text().await.expect("a body");
    assert_eq!(status, StatusCode::OK, "body: {body}");
    assert!(body.is_empty(), "an empty body, got {body:?}");
}

#[tokio::test]
async fn a_token_revoked_by_its_agent_is_inactive_and_its_other_tokens_stay_active() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let revoked = app.granted_token(&granted).await;
    let kept = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &revoked).await;

    assert_revoked(app.revoke_token(&granted.agent.client_id, granted.secret(), &revoked).await).await;
    app.assert_inactive(&granted.resource, &revoked).await;
    app.assert_active(&granted.resource, &kept).await;
    // The agent itself is not affected: it still gets tokens.
    let fresh = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &fresh).await;
}

#[tokio::test]
async fn an_agent_may_revoke_with_client_secret_post_and_any_type_hint() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    let pairs = [
        ("token", token.as_str()),
        ("token_type_hint", "refresh_token"),
        ("client_id", granted.agent.client_id.as_str()),
        ("client_secret", granted.secret()),
    ];
    assert_revoked(app.revoke_form(&pairs, None).await).await;
    app.assert_inactive(&granted.resource, &token).await;
}

#[tokio::test]
async fn revoking_a_token_twice_answers_200_both_times() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    for _ in 0..2 {
        assert_revoked(app.revoke_token(&granted.agent.client_id, granted.secret(), &token).await).await;
    }
    app.assert_inactive(&granted.resource, &token).await;
}

#[tokio::test]
async fn revoking_an_unknown_or_garbage_token_answers_200() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    let stranger = SigningKey::stranger().sign(&kid_of(&token), &claims_of(&token));
    let unsigned = crate::jwt::unsigned(&kid_of(&token), &claims_of(&token));
    for garbage in ["garbage", "a.b.c", stranger.as_str(), unsigned.as_str()] {
        let response = app.revoke_token(&granted.agent.client_id, granted.secret(), garbage).await;
        assert_revoked(response).await;
    }
    // None of these forgeries revoked the genuine token with the same jti.
    app.assert_active(&granted.resource, &token).await;
}

#[tokio::test]
async fn revoking_an_expired_token_answers_200() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    app.clock.advance(301);
    assert_revoked(app.revoke_token(&granted.agent.client_id, granted.secret(), &token).await).await;
    app.assert_inactive(&granted.resource, &token).await;
}

#[tokio::test]
async fn an_agent_cannot_revoke_another_agents_token() {
    let app = spawn_app().await;
    let owner = app.setup_agent_with_grant(Setup::default()).await;
    let intruder = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&owner).await;
    let response = app.revoke_token(&intruder.agent.client_id, intruder.secret(), &token).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
    app.assert_active(&owner.resource, &token).await;
}

#[tokio::test]
async fn revocation_without_valid_client_authentication_is_invalid_client() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    let response = app.revoke_form(&[("token", &token)], None).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app.revoke_token(&granted.agent.client_id, "not-the-secret-at-all", &token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    app.assert_active(&granted.resource, &token).await;
}

/// Two agents on one resource; one token of the first.
async fn two_agents(app: &TestApp) -> (crate::helpers::Granted, crate::helpers::Agent) {
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let second = app.agent_with(&[], &granted.resource, &["read"], &granted.approver).await;
    (granted, second)
}

#[tokio::test]
async fn a_revocation_and_a_kill_outlive_a_restart_of_the_embedded_instance() {
    // A fixed issuer: the default one follows the port, which a restart changes.
    let app = spawn_app_with(&[("WARRANT_ISSUER", "https://warrant.example.com")]).await;
    let (granted, victim) = two_agents(&app).await;
    let victim_secret = victim.secret.clone().expect("a secret");
    let revoked = app.granted_token(&granted).await;
    let kept = app.granted_token(&granted).await;
    let killed = app.token_for(&victim.client_id, &victim_secret, &granted.resource.audience).await;
    assert_revoked(app.revoke_token(&granted.agent.client_id, granted.secret(), &revoked).await).await;
    app.kill_ok(&victim.id, "compromised").await;

    let app = app.restart().await;
    app.assert_inactive(&granted.resource, &revoked).await;
    app.assert_inactive(&granted.resource, &killed).await;
    app.assert_active(&granted.resource, &kept).await;
    let refused = app.token_with_basic(&victim.client_id, &victim_secret, &[]).await;
    assert_oauth_error(refused, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn a_revoked_admin_token_is_refused_by_the_admin_api() {
    let app = spawn_app().await;
    let operator = app.create_operator(&["viewer"]).await;
    assert_eq!(app.admin_get("/agents", &operator.token).await.status(), StatusCode::OK);
    let revoked = app.revoke_token(&operator.client_id, &operator.secret, &operator.token).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = app.admin_get("/agents", &operator.token).await;
    assert_admin_error(refused, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
