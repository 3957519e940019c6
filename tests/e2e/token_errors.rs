//! The token endpoint's refusals about the request itself and about client
//! authentication (RFC 6749 §5.2): status, `error`, `WWW-Authenticate` on
//! 401 and `Cache-Control: no-store` on every answer.

use reqwest::StatusCode;

use crate::helpers::{assert_oauth_error, basic_header, form, spawn_app, Setup, FORM};

#[tokio::test]
async fn a_wrong_secret_is_invalid_client() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app.token_with_basic(&granted.agent.client_id, "not-the-secret-at-all", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app.token_with_post(&granted.agent.client_id, "not-the-secret-at-all", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn an_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let response = app.token_with_basic("no-such-client", "some-secret-value", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app.token_with_post("no-such-client", "some-secret-value", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn a_request_without_client_authentication_is_invalid_client() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_form(&[("grant_type", "client_credentials"), ("resource", &granted.resource.audience)], None)
        .await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn a_client_id_without_a_secret_is_invalid_client() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_form(&[("grant_type", "client_credentials"), ("client_id", &granted.agent.client_id)], None)
        .await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn two_client_authentication_methods_at_once_are_invalid_request() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let response = app
        .token_form(
            &[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)],
            Some((id, secret)),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_malformed_basic_header_is_invalid_request() {
    let app = spawn_app().await;
    let body = form(&[("grant_type", "client_credentials")]);
    let response = app.post_token_raw(body, Some(FORM), Some("Basic %%%not-base64%%%")).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn an_unsupported_grant_type_is_refused() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    for grant_type in ["authorization_code", "password", "refresh_token", "Client_Credentials"] {
        let response = app
            .token_form(
                &[("grant_type", grant_type), ("resource", &granted.resource.audience)],
                Some((&granted.agent.client_id, granted.secret())),
            )
            .await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    }
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_form(
            &[("resource", &granted.resource.audience)],
            Some((&granted.agent.client_id, granted.secret())),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_invalid_request() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let authorization = basic_header(&granted.agent.client_id, granted.secret());
    let json = serde_json::json!({"grant_type": "client_credentials"}).to_string();
    let response = app.post_token_raw(json, Some("application/json"), Some(&authorization)).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    // A form body without a content type is not a form either.
    let body = form(&[("grant_type", "client_credentials")]);
    let response = app.post_token_raw(body, None, Some(&authorization)).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let creds = Some((granted.agent.client_id.as_str(), granted.secret()));
    for pairs in [
        vec![("grant_type", "client_credentials"), ("scope", "read"), ("scope", "read")],
        vec![("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
    ] {
        let response = app.token_form(&pairs, creds).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_repeated_resource_is_invalid_target() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let audience = granted.resource.audience.as_str();
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", audience), ("resource", audience)],
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn a_body_over_16_kib_is_payload_too_large() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let padding = "a".repeat(17 * 1024);
    let response =
        app.token_with_basic(&granted.agent.client_id, granted.secret(), &[("padding", &padding)]).await;
    assert_oauth_error(response, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
}

#[tokio::test]
async fn a_body_just_under_16_kib_is_accepted() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let padding = "a".repeat(15 * 1024);
    let response =
        app.token_with_basic(&granted.agent.client_id, granted.secret(), &[("padding", &padding)]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn resource_server_credentials_are_unauthorized_client() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let resource = &granted.resource;
    let response = app
        .token_with_basic(&resource.client_id, &resource.secret, &[("resource", &resource.audience)])
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
}

#[tokio::test]
async fn a_resource_server_with_a_wrong_secret_is_invalid_client() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let response = app.token_with_basic(&resource.client_id, "not-the-secret-at-all", &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn an_agent_cannot_ask_for_the_admin_audience() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_with_basic(&granted.agent.client_id, granted.secret(), &[("resource", "urn:warrant:admin")])
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn an_operator_cannot_ask_for_a_resource_audience() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let operator = app.create_operator(&["admin"]).await;
    let response = app
        .token_with_basic(&operator.client_id, &operator.secret, &[("resource", &resource.audience)])
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_target").await;
}

#[tokio::test]
async fn an_operator_cannot_ask_for_a_role_it_does_not_hold() {
    let app = spawn_app().await;
    let operator = app.create_operator(&["viewer"]).await;
    let response = app
        .token_with_basic(
            &operator.client_id,
            &operator.secret,
            &[("resource", "urn:warrant:admin"), ("scope", "admin")],
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn a_wrong_operator_secret_is_invalid_client() {
    let app = spawn_app().await;
    let response = app
        .token_with_basic("bootstrap-admin", "not-the-bootstrap-secret", &[("resource", "urn:warrant:admin")])
        .await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}
