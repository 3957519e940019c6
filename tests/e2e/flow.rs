//! The whole story: register a resource and an agent, request a grant, have a
//! second operator approve it, and get tokens with each client authentication
//! method. `walk_the_full_flow` is shared with the PostgreSQL walkthrough.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{created, json_with_status, spawn_app, str_field, TestApp};
use crate::jwt::{assertion_claims, lifetime, scopes, verify_access_token, AgentKey};

/// Checks a successful token answer and verifies its token; returns the claims.
async fn check_token_answer(app: &TestApp, response: reqwest::Response, audience: &str) -> Value {
    assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert_eq!(response.headers().get("pragma").and_then(|v| v.to_str().ok()), Some("no-cache"));
    let body = json_with_status(response, StatusCode::OK).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    let claims = verify_access_token(app, &str_field(&body, "access_token"), audience).await;
    assert_eq!(claims["scope"], body["scope"], "the answer's scope is the token's");
    claims
}

/// Runs the full flow against `app`, asserting every step.
pub async fn walk_the_full_flow(app: &TestApp) {
    let resource = app.create_resource(&["tickets:read", "tickets:write", "tickets:delete"]).await;
    let requester = app.create_operator(&["requester"]).await;
    let approver = app.create_operator(&["approver"]).await;

    // An agent with a secret.
    let body = crate::helpers::agent_body(None);
    let agent = created(app.admin_post("/agents", &requester.token, &body).await).await;
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(agent["created_by"], requester.id.as_str());
    let agent_id = str_field(&agent, "id");
    let client_id = str_field(&agent, "client_id");
    let secret = str_field(&agent, "client_secret");

    // Before any grant: nothing to get a token for.
    let early = app.token_with_basic(&client_id, &secret, &[("resource", &resource.audience)]).await;
    crate::helpers::assert_oauth_error(early, StatusCode::BAD_REQUEST, "invalid_target").await;

    // Request, then approve by a second operator.
    let grant_body = app.grant_body(&resource.audience, &["tickets:read", "tickets:write"], 86_400, None);
    let grant = created(app.request_grant(&requester.token, &agent_id, &grant_body).await).await;
    assert_eq!(grant["status"], "requested");
    assert_eq!(grant["requested_by"], requester.id.as_str());
    assert_eq!(grant["agent_id"], agent_id.as_str());
    assert!(grant["approved_by"].is_null());
    let grant_id = str_field(&grant, "id");
    let approved = json_with_status(app.approve(&approver.token, &grant_id).await, StatusCode::OK).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], approver.id.as_str());
    assert!(approved["approved_at"].is_string());

    // client_secret_basic, one scope.
    let response = app
        .token_with_basic(&client_id, &secret, &[("resource", &resource.audience), ("scope", "tickets:read")])
        .await;
    let basic = check_token_answer(app, response, &resource.audience).await;
    assert_eq!(basic["sub"], agent_id.as_str());
    assert_eq!(basic["client_id"], client_id.as_str());
    assert_eq!(basic["scope"], "tickets:read");
    assert_eq!(lifetime(&basic), 300);

    // client_secret_post, both approved scopes.
    let response = app
        .token_with_post(
            &client_id,
            &secret,
            &[("resource", &resource.audience), ("scope", "tickets:read tickets:write")],
        )
        .await;
    let post = check_token_answer(app, response, &resource.audience).await;
    assert_eq!(post["sub"], agent_id.as_str());
    assert_eq!(scopes(&post), ["tickets:read", "tickets:write"]);
    assert_ne!(post["jti"], basic["jti"], "every token has its own jti");

    // private_key_jwt: an agent registered with a JWKS, no secret.
    let key = AgentKey::generate();
    let body = crate::helpers::agent_body(Some(key.jwks()));
    let jwt_agent = created(app.admin_post("/agents", &requester.token, &body).await).await;
    assert_eq!(jwt_agent["token_endpoint_auth_method"], "private_key_jwt");
    assert!(jwt_agent["client_secret"].is_null(), "no secret with a jwks");
    let jwt_agent_id = str_field(&jwt_agent, "id");
    let jwt_client_id = str_field(&jwt_agent, "client_id");
    let grant_body = app.grant_body(&resource.audience, &["tickets:read"], 86_400, None);
    app.grant_and_approve(&requester, &approver, &jwt_agent_id, &grant_body).await;
    let assertion = key.sign(assertion_claims(app, &jwt_client_id));
    let response = app
        .token_with_assertion(&assertion, &[("resource", &resource.audience), ("scope", "tickets:read")])
        .await;
    let jwt = check_token_answer(app, response, &resource.audience).await;
    assert_eq!(jwt["sub"], jwt_agent_id.as_str());
    assert_eq!(jwt["client_id"], jwt_client_id.as_str());
    assert_eq!(jwt["scope"], "tickets:read");
    assert_eq!(lifetime(&jwt), 300);
}

#[tokio::test]
async fn an_approved_agent_gets_tokens_with_each_client_authentication_method() {
    let app = spawn_app().await;
    walk_the_full_flow(&app).await;
}

#[tokio::test]
async fn an_assertion_may_name_its_client_id_in_the_body() {
    let app = spawn_app().await;
    let key = AgentKey::generate();
    let granted =
        app.setup_agent_with_grant(crate::helpers::Setup { key: Some(&key), ..Default::default() }).await;
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let response = app
        .token_with_assertion(
            &assertion,
            &[("client_id", &granted.agent.client_id), ("resource", &granted.resource.audience)],
        )
        .await;
    let claims = check_token_answer(&app, response, &granted.resource.audience).await;
    assert_eq!(claims["client_id"], granted.agent.client_id.as_str());
}

#[tokio::test]
async fn an_operator_gets_an_admin_token_whose_scopes_are_its_roles() {
    let app = spawn_app().await;
    let operator = app.create_operator(&["requester", "approver"]).await;
    let response = app
        .token_with_basic(&operator.client_id, &operator.secret, &[("resource", "urn:warrant:admin")])
        .await;
    let claims = check_token_answer(&app, response, "urn:warrant:admin").await;
    assert_eq!(claims["sub"], operator.id.as_str());
    assert_eq!(scopes(&claims), ["approver", "requester"]);

    // The resource may be omitted, and the scope narrowed to some roles.
    let response =
        app.token_with_post(&operator.client_id, &operator.secret, &[("scope", "requester")]).await;
    let claims = check_token_answer(&app, response, "urn:warrant:admin").await;
    assert_eq!(claims["scope"], "requester");
}

#[tokio::test]
async fn a_secret_with_reserved_characters_works_with_basic_auth() {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded inside the Basic header.
    let secret = "a:b+c/d%e=f g&h~i?j#k@l";
    let app = crate::helpers::spawn_app_with(&[("WARRANT_BOOTSTRAP_ADMIN_SECRET", secret)]).await;
    let claims = verify_access_token(&app, &app.admin_token, "urn:warrant:admin").await;
    assert_eq!(claims["sub"], "bootstrap-admin");
    let response = app.token_with_post("bootstrap-admin", secret, &[]).await;
    check_token_answer(&app, response, "urn:warrant:admin").await;
}
