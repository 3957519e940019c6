//! What a token may carry: the resource (RFC 8707) and scopes come only from
//! approved, unexpired grants; the lifetime is capped by the grants.

use reqwest::StatusCode;

use crate::helpers::{access_token, assert_oauth_error, json_with_status, spawn_app, Setup};
use crate::jwt::{lifetime, scopes, verify_access_token};

#[tokio::test]
async fn a_scope_that_was_not_granted_is_invalid_scope() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let audience = granted.resource.audience.as_str();
    // "write" is in the catalogue but not granted; never silently narrowed.
    for scope in ["write", "read write", "delete", "read delete"] {
        let response = app
            .token_with_basic(
                &granted.agent.client_id,
                granted.secret(),
                &[("resource", audience), ("scope", scope)],
            )
            .await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
}

#[tokio::test]
async fn a_malformed_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience), ("scope", "read \"quoted\"")],
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn an_unknown_resource_is_invalid_target() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", "https://nowhere.example.com")],
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn a_resource_the_agent_holds_no_grant_on_is_invalid_target() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let other = app.create_resource(&["read"]).await;
    let response = app
        .token_with_basic(&granted.agent.client_id, granted.secret(), &[("resource", &other.audience)])
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn the_resource_may_be_omitted_when_the_agent_has_grants_on_one_resource() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response =
        app.token_with_basic(&granted.agent.client_id, granted.secret(), &[("scope", "read")]).await;
    let token = access_token(response).await;
    let claims = verify_access_token(&app, &token, &granted.resource.audience).await;
    assert_eq!(claims["scope"], "read");
}

#[tokio::test]
async fn omitting_the_resource_when_grants_span_two_resources_is_invalid_target() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let second = app.create_resource(&["read"]).await;
    let body = app.grant_body(&second.audience, &["read"], 86_400, None);
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    let response =
        app.token_with_basic(&granted.agent.client_id, granted.secret(), &[("scope", "read")]).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
    // Naming either resource works.
    for audience in [&granted.resource.audience, &second.audience] {
        let response =
            app.token_with_basic(&granted.agent.client_id, granted.secret(), &[("resource", audience)]).await;
        let token = access_token(response).await;
        verify_access_token(&app, &token, audience).await;
    }
}

#[tokio::test]
async fn omitting_the_scope_gives_every_approved_scope_of_the_resource() {
    let app = spawn_app().await;
    let granted = app
        .setup_agent_with_grant(Setup {
            scopes: &["read", "write", "delete"],
            granted: &["read"],
            ..Default::default()
        })
        .await;
    let body = app.grant_body(&granted.resource.audience, &["write"], 86_400, None);
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let answer = json_with_status(response, StatusCode::OK).await;
    assert_eq!(scopes(&answer), ["read", "write"]);
    let token = answer["access_token"].as_str().expect("an access token");
    let claims = verify_access_token(&app, token, &granted.resource.audience).await;
    assert_eq!(scopes(&claims), ["read", "write"]);
}

#[tokio::test]
async fn a_requested_but_unapproved_grant_gives_no_token() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let requester = app.create_operator(&["requester"]).await;
    let agent = app.create_agent(&requester.token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let response = app.request_grant(&requester.token, &agent.id, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let secret = agent.secret.expect("a secret");
    let response = app.token_with_basic(&agent.client_id, &secret, &[("resource", &resource.audience)]).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn a_denied_grant_gives_no_token() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let requester = app.create_operator(&["requester"]).await;
    let approver = app.create_operator(&["approver"]).await;
    let agent = app.create_agent(&requester.token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let grant = crate::helpers::created(app.request_grant(&requester.token, &agent.id, &body).await).await;
    let denied = app.deny(&approver.token, grant["id"].as_str().expect("an id")).await;
    let denied = json_with_status(denied, StatusCode::OK).await;
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["denied_by"], approver.id.as_str());
    let secret = agent.secret.expect("a secret");
    let response = app.token_with_basic(&agent.client_id, &secret, &[("resource", &resource.audience)]).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn a_revoked_grant_gives_no_more_tokens() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let params = [("resource", granted.resource.audience.as_str())];
    let before = app.token_with_basic(&granted.agent.client_id, granted.secret(), &params).await;
    assert_eq!(before.status(), StatusCode::OK);
    let revoked = app.revoke(&granted.approver.token, &granted.grant_id).await;
    let revoked = json_with_status(revoked, StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_by"], granted.approver.id.as_str());
    let after = app.token_with_basic(&granted.agent.client_id, granted.secret(), &params).await;
    assert_oauth_error(after, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn an_expired_grant_gives_no_token() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 600, ..Default::default() }).await;
    let params = [("resource", granted.resource.audience.as_str())];
    let before = app.token_with_basic(&granted.agent.client_id, granted.secret(), &params).await;
    assert_eq!(before.status(), StatusCode::OK);
    app.clock.advance(601);
    let after = app.token_with_basic(&granted.agent.client_id, granted.secret(), &params).await;
    assert_oauth_error(after, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn a_scope_from_an_expired_grant_is_invalid_scope_while_another_grant_holds() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 600, ..Default::default() }).await;
    let audience = granted.resource.audience.as_str();
    let body = app.grant_body(audience, &["write"], 86_400, None);
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    app.clock.advance(601);
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let response = app.token_with_basic(id, secret, &[("resource", audience), ("scope", "read")]).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
    // Without a scope: only what is still held.
    let response = app.token_with_basic(id, secret, &[("resource", audience)]).await;
    let claims = verify_access_token(&app, &access_token(response).await, audience).await;
    assert_eq!(claims["scope"], "write");
}

#[tokio::test]
async fn the_token_lifetime_is_capped_by_the_grants_max_token_ttl() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { max_token_ttl: Some(60), ..Default::default() }).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let answer = json_with_status(response, StatusCode::OK).await;
    assert_eq!(answer["expires_in"], 60);
    let token = answer["access_token"].as_str().expect("an access token");
    let claims = verify_access_token(&app, token, &granted.resource.audience).await;
    assert_eq!(lifetime(&claims), 60);
}

#[tokio::test]
async fn a_max_token_ttl_above_the_default_does_not_lengthen_the_token() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { max_token_ttl: Some(3600), ..Default::default() }).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let claims = verify_access_token(&app, &access_token(response).await, &granted.resource.audience).await;
    assert_eq!(lifetime(&claims), 300);
}

#[tokio::test]
async fn the_token_lifetime_is_capped_by_the_grants_expiry() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { expires_in: 3600, ..Default::default() }).await;
    app.clock.advance(3500);
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let answer = json_with_status(response, StatusCode::OK).await;
    assert_eq!(answer["expires_in"], 100);
    let token = answer["access_token"].as_str().expect("an access token");
    let claims = verify_access_token(&app, token, &granted.resource.audience).await;
    assert_eq!(lifetime(&claims), 100);
    assert_eq!(claims["exp"].as_i64(), Some(app.now() + 100));
}

#[tokio::test]
async fn the_token_lifetime_is_capped_by_every_contributing_grant() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { max_token_ttl: Some(200), ..Default::default() }).await;
    let audience = granted.resource.audience.as_str();
    let body = app.grant_body(audience, &["write"], 86_400, Some(90));
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let both = app.token_with_basic(id, secret, &[("resource", audience), ("scope", "read write")]).await;
    let claims = verify_access_token(&app, &access_token(both).await, audience).await;
    assert_eq!(lifetime(&claims), 90);
    // The "write" grant does not contribute to a "read" token.
    let read = app.token_with_basic(id, secret, &[("resource", audience), ("scope", "read")]).await;
    let claims = verify_access_token(&app, &access_token(read).await, audience).await;
    assert_eq!(lifetime(&claims), 200);
}

#[tokio::test]
async fn the_configured_token_ttl_is_the_default_lifetime() {
    let app = crate::helpers::spawn_app_with(&[("WARRANT_TOKEN_TTL", "120")]).await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let answer = json_with_status(response, StatusCode::OK).await;
    assert_eq!(answer["expires_in"], 120);
}
