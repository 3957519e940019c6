//! An agent's credentials: rotation with overlap (the old secret works until
//! retired), retirement takes effect at once, never the last live one, at
//! most WARRANT_MAX_CREDENTIALS live, a key added to a secret agent, never a
//! secret in a GET, every change audited.

use reqwest::StatusCode;
use serde_json::Value;

use crate::denylist::unix_of;
use crate::helpers::{
    assert_admin_error, assert_oauth_error, created, json_with_status, spawn_app, spawn_app_with, str_field,
    Granted, Setup, TestApp,
};
use crate::jwt::{assertion_claims, AgentKey};

async fn token_with_secret(app: &TestApp, granted: &Granted, secret: &str) -> reqwest::Response {
    app.token_with_basic(&granted.agent.client_id, secret, &[("resource", &granted.resource.audience)]).await
}

async fn token_with_key(app: &TestApp, granted: &Granted, key: &AgentKey) -> reqwest::Response {
    let assertion = key.sign(assertion_claims(app, &granted.agent.client_id));
    app.token_with_assertion(&assertion, &[("resource", &granted.resource.audience)]).await
}

/// The agent's credentials as GET .../credentials lists them (as a viewer).
async fn listed(app: &TestApp, token: &str, agent_id: &str) -> (String, Vec<Value>) {
    let response = app.credentials(token, agent_id).await;
    let text = response.text().await.expect("a body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let list = body["credentials"].as_array().unwrap_or_else(|| panic!("credentials in {body}")).clone();
    (text, list)
}

#[tokio::test]
async fn a_rotated_secret_overlaps_until_the_old_one_is_retired() {
    let app = spawn_app_with(&[("WARRANT_MAX_CREDENTIALS", "2")]).await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let (agent, requester) = (granted.agent.id.as_str(), &granted.requester);
    let viewer = app.create_operator(&["viewer"]).await;
    let old_secret = granted.secret().to_owned();
    let (_, before) = listed(&app, &viewer.token, agent).await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["method"], "client_secret");
    assert!(before[0]["retired_at"].is_null(), "{before:?}");
    let old_id = str_field(&before[0], "id");

    app.clock.advance(10);
    let added = created(app.add_credential(&requester.token, agent, None).await).await;
    assert_eq!(added["method"], "client_secret", "{added}");
    assert_eq!(unix_of(&added, "created_at"), app.now());
    let new_id = str_field(&added, "id");
    let new_secret = str_field(&added, "client_secret");
    assert!(new_id != old_id && new_secret != old_secret && new_secret.len() >= 16, "{added}");
    // Both work while they overlap.
    assert_eq!(token_with_secret(&app, &granted, &old_secret).await.status(), StatusCode::OK);
    assert_eq!(token_with_secret(&app, &granted, &new_secret).await.status(), StatusCode::OK);
    // Two live credentials is the limit here.
    let response = app.add_credential(&requester.token, agent, None).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;

    app.clock.advance(10);
    let retired = app.retire_credential(&requester.token, agent, &old_id).await;
    let retired = json_with_status(retired, StatusCode::OK).await;
    assert_eq!(retired["id"], old_id.as_str());
    assert_eq!(retired["method"], "client_secret");
    assert_eq!(unix_of(&retired, "retired_at"), app.now());
    assert!(retired.get("client_secret").is_none(), "{retired}");
    let response = token_with_secret(&app, &granted, &old_secret).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(token_with_secret(&app, &granted, &new_secret).await.status(), StatusCode::OK);

    // Retired twice, unknown credential, unknown agent.
    let response = app.retire_credential(&requester.token, agent, &old_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    let response = app.retire_credential(&requester.token, agent, "cred_missing").await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.retire_credential(&requester.token, "agt_missing", &new_id).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let response = app.add_credential(&requester.token, "agt_missing", None).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;

    // Never the last live credential.
    let response = app.retire_credential(&app.admin_token, agent, &new_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(token_with_secret(&app, &granted, &new_secret).await.status(), StatusCode::OK);
    // With room again, one more is allowed.
    let key = AgentKey::generate();
    let added = created(app.add_credential(&app.admin_token, agent, Some(key.jwks())).await).await;
    assert_eq!(added["method"], "private_key_jwt", "{added}");
    assert!(added.get("client_secret").is_none_or(Value::is_null), "no secret for a key: {added}");
    let response = app.add_credential(&app.admin_token, agent, None).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;

    let (text, after) = listed(&app, &viewer.token, agent).await;
    for secret in [old_secret.as_str(), new_secret.as_str()] {
        assert!(!text.contains(secret), "GET credentials shows a secret: {text}");
    }
    assert!(after.iter().all(|c| c.get("client_secret").is_none()), "no client_secret field: {text}");
    let states: Vec<(String, String, bool)> = after
        .iter()
        .map(|c| (str_field(c, "id"), str_field(c, "method"), c["retired_at"].is_null()))
        .collect();
    let key_id = str_field(&added, "id");
    assert_eq!(
        states,
        [
            (old_id.clone(), "client_secret".to_owned(), false),
            (new_id.clone(), "client_secret".to_owned(), true),
            (key_id, "private_key_jwt".to_owned(), true),
        ],
        "oldest first, the retired one with retired_at: {text}"
    );
    assert_eq!(after[0]["retired_at"], retired["retired_at"]);
    // The access report agrees.
    let report = app.agent_report(agent).await;
    assert_eq!(report["credentials"], Value::Array(after), "{report}");
}

#[tokio::test]
async fn a_key_added_to_a_secret_agent_lets_it_use_private_key_jwt() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let key = AgentKey::generate();
    let response = token_with_key(&app, &granted, &key).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let added =
        created(app.add_credential(&granted.requester.token, &granted.agent.id, Some(key.jwks())).await)
            .await;
    assert_eq!(token_with_key(&app, &granted, &key).await.status(), StatusCode::OK);
    assert_eq!(token_with_secret(&app, &granted, granted.secret()).await.status(), StatusCode::OK);

    let retired =
        app.retire_credential(&granted.requester.token, &granted.agent.id, &str_field(&added, "id")).await;
    assert_eq!(retired.status(), StatusCode::OK);
    let response = token_with_key(&app, &granted, &key).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    assert_eq!(token_with_secret(&app, &granted, granted.secret()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_key_agent_rotates_its_key_with_overlap() {
    let app = spawn_app().await;
    let old = AgentKey::generate();
    let granted = app.setup_agent_with_grant(Setup { key: Some(&old), ..Default::default() }).await;
    let agent = granted.agent.id.as_str();
    let (_, before) = listed(&app, &app.admin_token, agent).await;
    let old_id = str_field(&before[0], "id");
    let new = AgentKey::generate();
    created(app.add_credential(&granted.requester.token, agent, Some(new.jwks())).await).await;
    assert_eq!(token_with_key(&app, &granted, &old).await.status(), StatusCode::OK);
    assert_eq!(token_with_key(&app, &granted, &new).await.status(), StatusCode::OK);
    let retired = app.retire_credential(&granted.requester.token, agent, &old_id).await;
    assert_eq!(retired.status(), StatusCode::OK);
    assert_oauth_error(
        token_with_key(&app, &granted, &old).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_eq!(token_with_key(&app, &granted, &new).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn credential_changes_are_audited_without_their_secrets() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let agent = granted.agent.id.as_str();
    let (_, before) = listed(&app, &app.admin_token, agent).await;
    let old_id = str_field(&before[0], "id");
    let added = created(app.add_credential(&granted.requester.token, agent, None).await).await;
    let key = AgentKey::generate();
    created(app.add_credential(&app.admin_token, agent, Some(key.jwks())).await).await;
    let retired = app.retire_credential(&granted.requester.token, agent, &old_id).await;
    assert_eq!(retired.status(), StatusCode::OK);

    let query = format!("/audit?agent_id={agent}&limit=1000");
    let response = app.admin_get(&query, &app.admin_token).await;
    let trail = response.text().await.expect("a body");
    let trail_json: Value = serde_json::from_str(&trail).expect("JSON");
    let events: Vec<(String, String)> = trail_json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("credential.")))
        .map(|e| (str_field(e, "action"), str_field(e, "actor")))
        .collect();
    let requester = granted.requester.id.clone();
    assert_eq!(
        events,
        [
            ("credential.created".to_owned(), requester.clone()),
            ("credential.created".to_owned(), crate::helpers::BOOTSTRAP_ADMIN_ID.to_owned()),
            ("credential.retired".to_owned(), requester),
        ]
    );
    for secret in [granted.secret().to_owned(), str_field(&added, "client_secret")] {
        assert!(!trail.contains(&secret), "a secret is in the audit trail");
    }
}
