//! An agent that is not `active` gets no token: suspended (reversible, by the
//! admin API) or killed (by the kill switch).

use reqwest::StatusCode;

use crate::helpers::{assert_admin_error, assert_oauth_error, spawn_app, Setup};

#[tokio::test]
async fn a_suspended_agent_cannot_get_a_token_until_it_is_resumed() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let responder = app.create_operator(&["responder"]).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    assert_eq!(app.token_with_basic(id, secret, &[]).await.status(), StatusCode::OK);

    let path = format!("/agents/{}/suspend", granted.agent.id);
    let suspended = app.admin_post(&path, &responder.token, &serde_json::json!({})).await;
    assert_eq!(suspended.status(), StatusCode::OK);
    assert_eq!(suspended.json::<serde_json::Value>().await.unwrap()["status"], "suspended");
    assert_oauth_error(
        app.token_with_basic(id, secret, &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;

    let path = format!("/agents/{}/resume", granted.agent.id);
    let resumed = app.admin_post(&path, &responder.token, &serde_json::json!({})).await;
    assert_eq!(resumed.json::<serde_json::Value>().await.unwrap()["status"], "active");
    assert_eq!(app.token_with_basic(id, secret, &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_killed_agent_cannot_get_a_token_nor_be_resumed() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let path = format!("/agents/{}/kill", granted.agent.id);
    let killed = app.admin_post(&path, &app.admin_token, &serde_json::json!({"reason": "test"})).await;
    assert_eq!(killed.status(), StatusCode::OK);

    let response = app.token_with_basic(&granted.agent.client_id, granted.secret(), &[]).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    for action in ["resume", "suspend"] {
        let path = format!("/agents/{}/{action}", granted.agent.id);
        let response = app.admin_post(&path, &app.admin_token, &serde_json::json!({})).await;
        assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    }
}

#[tokio::test]
async fn suspending_an_unknown_agent_is_not_found() {
    let app = spawn_app().await;
    let response =
        app.admin_post("/agents/agt_missing/suspend", &app.admin_token, &serde_json::json!({})).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn no_token_is_issued_in_the_second_of_a_kill_even_after_a_restore() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let body = serde_json::json!({"reason": "test"});
    let killed = app.admin_post(&format!("/agents/{}/kill", granted.agent.id), &app.admin_token, &body).await;
    assert_eq!(killed.status(), StatusCode::OK);
    let restored =
        app.admin_post(&format!("/agents/{}/restore", granted.agent.id), &app.admin_token, &body).await;
    assert_eq!(restored.status(), StatusCode::OK);
    // A token issued now would be dead on arrival (issued at the kill's second).
    assert_oauth_error(
        app.token_with_basic(id, secret, &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    app.clock.advance(1);
    assert_eq!(app.token_with_basic(id, secret, &[]).await.status(), StatusCode::OK);
}
