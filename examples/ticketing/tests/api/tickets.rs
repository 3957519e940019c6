//! What the layer lets through and what it refuses, at the ticketing service.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{challenge, json_with_status, spawn, str_field, CRM_AUDIENCE, READ, WRITE};

#[tokio::test]
async fn an_agent_with_both_scopes_opens_and_lists_tickets_in_its_own_name() {
    let env = spawn().await;
    let agent = env.agent_with_grant(&[READ, WRITE]).await;
    let token = env.token(&agent, None).await;

    let opened = json_with_status(env.open_ticket(&token, "Login broken").await, StatusCode::CREATED).await;
    assert_eq!(str_field(&opened, "opened_by"), agent.id);
    assert_eq!(str_field(&opened, "opened_via"), agent.client_id);

    let listed = json_with_status(env.list_tickets(&token).await, StatusCode::OK).await;
    let titles: Vec<&str> =
        listed["tickets"].as_array().into_iter().flatten().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles, ["Login broken"]);

    let id = str_field(&opened, "id");
    let one =
        env.client.get(format!("{}/tickets/{id}", env.tickets)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(json_with_status(one, StatusCode::OK).await, opened);
}

#[tokio::test]
async fn a_token_without_tickets_write_gets_403_on_post_but_may_list() {
    let env = spawn().await;
    let agent = env.agent_with_grant(&[READ, WRITE]).await;
    let token = env.token(&agent, Some(READ)).await;

    let refused = env.open_ticket(&token, "Should not be filed").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let challenge = challenge(&refused);
    assert!(challenge.starts_with(r#"Bearer error="insufficient_scope""#), "{challenge}");
    assert!(challenge.contains(r#"scope="tickets:write""#), "{challenge}");
    let body: Value = json_with_status(refused, StatusCode::FORBIDDEN).await;
    assert_eq!(body["error"], "insufficient_scope");

    let listed = json_with_status(env.list_tickets(&token).await, StatusCode::OK).await;
    assert_eq!(listed["tickets"], Value::Array(vec![]));
}

#[tokio::test]
async fn a_garbage_token_gets_401_invalid_token() {
    let env = spawn().await;
    for token in ["garbage", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"] {
        let response = env.list_tickets(token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
        let challenge = challenge(&response);
        assert!(challenge.starts_with(r#"Bearer error="invalid_token""#), "{token}: {challenge}");
    }
}

#[tokio::test]
async fn a_request_without_a_bearer_token_gets_401_with_a_bare_challenge() {
    let env = spawn().await;
    for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
        let response = env.list_tickets_at(&env.tickets, authorization).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(challenge(&response), "Bearer", "{authorization:?}");
    }
}

#[tokio::test]
async fn a_token_for_another_resource_gets_401_at_the_ticketing_service() {
    let env = spawn().await;
    env.register_resource("CRM", "crm", CRM_AUDIENCE, &["contacts:read"]).await;
    let agent = env.agent_with_grant(&[READ]).await;
    env.approved_grant(&agent, CRM_AUDIENCE, &["contacts:read"]).await;
    let crm_token = env.token_for(&agent, CRM_AUDIENCE, None).await;

    let response = env.list_tickets(&crm_token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = json_with_status(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error_description"], "the token is for another audience");
}

#[tokio::test]
async fn an_operators_admin_token_gets_401_at_the_ticketing_service() {
    let env = spawn().await;
    let response = env.list_tickets(&env.admin_token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_is_open_and_readiness_reports_the_denylist() {
    let env = spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = env.client.get(format!("{}{path}", env.tickets)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}
