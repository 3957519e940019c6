//! Client authentication with `private_key_jwt` (RFC 7523 §3, RFC 7521 §4.2):
//! every bad assertion is `invalid_client`, 401.

use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::helpers::{access_token, assert_oauth_error, spawn_app, Granted, Setup, TestApp, ASSERTION_TYPE};
use crate::jwt::{assertion_claims, hs256, unsigned, verify_access_token, AgentKey};

/// An app with an agent registered with `key`, holding an approved grant.
async fn app_with_jwt_agent(key: &AgentKey) -> (TestApp, Granted) {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { key: Some(key), ..Default::default() }).await;
    (app, granted)
}

/// Posts `assertion` for the agent's resource and expects `invalid_client`.
async fn assert_refused(app: &TestApp, granted: &Granted, assertion: &str) {
    let response = app.token_with_assertion(assertion, &[("resource", &granted.resource.audience)]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

fn claims_with(app: &TestApp, granted: &Granted, changes: Value) -> Map<String, Value> {
    let mut claims = assertion_claims(app, &granted.agent.client_id);
    if let Value::Object(changes) = changes {
        for (name, value) in changes {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
    }
    claims
}

#[tokio::test]
async fn an_agent_registered_with_a_jwks_gets_no_secret_and_cannot_use_one() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    assert!(granted.agent.secret.is_none());
    let response = app.token_with_basic(&granted.agent.client_id, "guessed-secret-value", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn an_assertion_addressed_to_the_issuer_is_accepted() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"aud": app.issuer}));
    let response =
        app.token_with_assertion(&key.sign(claims), &[("resource", &granted.resource.audience)]).await;
    let token = access_token(response).await;
    verify_access_token(&app, &token, &granted.resource.audience).await;
}

#[tokio::test]
async fn an_unsigned_assertion_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = assertion_claims(&app, &granted.agent.client_id);
    assert_refused(&app, &granted, &unsigned(&key.kid, &claims)).await;
}

#[tokio::test]
async fn an_hs256_assertion_keyed_with_the_agents_public_key_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let pem = key.public_pem();
    let claims = assertion_claims(&app, &granted.agent.client_id);
    assert_refused(&app, &granted, &hs256(&key.kid, &pem, claims)).await;
    let jwk = key.public_jwk().to_string();
    let claims = assertion_claims(&app, &granted.agent.client_id);
    assert_refused(&app, &granted, &hs256(&key.kid, jwk.as_bytes(), claims)).await;
}

#[tokio::test]
async fn an_assertion_for_another_audience_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"aud": "https://other-idp.example.com/token"}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_assertion_whose_issuer_is_not_its_subject_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"sub": "someone-else"}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
    let claims = claims_with(&app, &granted, json!({"iss": "someone-else"}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_expired_assertion_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let now = app.now();
    let claims = claims_with(&app, &granted, json!({"iat": now - 600, "exp": now - 300}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_assertion_that_expired_on_the_servers_clock_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    app.clock.advance(3600);
    assert_refused(&app, &granted, &assertion).await;
}

#[tokio::test]
async fn an_assertion_expiring_more_than_an_hour_ahead_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"exp": app.now() + 7200}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_assertion_issued_in_the_future_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let now = app.now();
    let claims = claims_with(&app, &granted, json!({"iat": now + 1800, "exp": now + 1900}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_assertion_without_exp_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"exp": null}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn an_assertion_without_jti_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = claims_with(&app, &granted, json!({"jti": null}));
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn a_replayed_assertion_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let params = [("resource", granted.resource.audience.as_str())];
    let first = app.token_with_assertion(&assertion, &params).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_refused(&app, &granted, &assertion).await;
}

#[tokio::test]
async fn a_new_assertion_reusing_a_jti_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = assertion_claims(&app, &granted.agent.client_id);
    let params = [("resource", granted.resource.audience.as_str())];
    let first = app.token_with_assertion(&key.sign(claims.clone()), &params).await;
    assert_eq!(first.status(), StatusCode::OK);
    let mut again = claims;
    again.insert("exp".to_owned(), json!(app.now() + 120));
    assert_refused(&app, &granted, &key.sign(again)).await;
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let intruder = AgentKey::generate();
    let claims = assertion_claims(&app, &granted.agent.client_id);
    assert_refused(&app, &granted, &intruder.sign_with_kid(&key.kid, claims)).await;
}

#[tokio::test]
async fn an_assertion_naming_an_unknown_kid_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = assertion_claims(&app, &granted.agent.client_id);
    assert_refused(&app, &granted, &key.sign_with_kid("no-such-kid", claims)).await;
}

#[tokio::test]
async fn an_assertion_for_an_unknown_client_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let claims = assertion_claims(&app, "no-such-client");
    assert_refused(&app, &granted, &key.sign(claims)).await;
}

#[tokio::test]
async fn a_body_client_id_other_than_the_assertion_issuer_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let other = app.create_agent(&granted.requester.token, None).await;
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let response = app
        .token_with_assertion(
            &assertion,
            &[("client_id", &other.client_id), ("resource", &granted.resource.audience)],
        )
        .await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn garbage_in_place_of_an_assertion_is_invalid_client() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    assert_refused(&app, &granted, "not.a.jwt").await;
    assert_refused(&app, &granted, "garbage").await;
}

#[tokio::test]
async fn an_assertion_together_with_a_basic_header_is_invalid_request() {
    let key = AgentKey::generate();
    let (app, granted) = app_with_jwt_agent(&key).await;
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let response = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
            Some((&granted.agent.client_id, "some-secret-value")),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}
