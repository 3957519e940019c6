//! A restart on the same data and keys directories keeps the signing key,
//! the registrations and the credentials.

use reqwest::StatusCode;

use crate::helpers::{access_token, json_with_status, Setup};
use crate::jwt::{assertion_claims, verify_access_token, AgentKey};

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn a_restarted_server_keeps_its_signing_key_and_the_agents_secret() {
    let app = crate::helpers::spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let before = kids(&app.jwks().await);
    let secret = granted.secret().to_owned();

    let app = app.restart().await;
    assert_eq!(kids(&app.jwks().await), before, "the same key after a restart");
    let response = app
        .token_with_basic(&granted.agent.client_id, &secret, &[("resource", &granted.resource.audience)])
        .await;
    let token = access_token(response).await;
    let claims = verify_access_token(&app, &token, &granted.resource.audience).await;
    assert_eq!(claims["sub"], granted.agent.id.as_str());

    // The grant and its approval survived too.
    let report = app.admin_get(&format!("/agents/{}", granted.agent.id), &app.admin_token).await;
    let report = json_with_status(report, StatusCode::OK).await;
    assert_eq!(report["grants"][0]["approved_by"], granted.approver.id.as_str());
}

#[tokio::test]
async fn a_restarted_server_still_refuses_a_replayed_assertion() {
    let app = crate::helpers::spawn_app().await;
    let key = AgentKey::generate();
    let granted = app.setup_agent_with_grant(Setup { key: Some(&key), ..Default::default() }).await;
    let params = [("resource", granted.resource.audience.as_str())];
    let assertion = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let first = app.token_with_assertion(&assertion, &params).await;
    assert_eq!(first.status(), StatusCode::OK);

    let app = app.restart().await;
    let replay = app.token_with_assertion(&assertion, &params).await;
    crate::helpers::assert_oauth_error(replay, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // A fresh assertion still works.
    let fresh = key.sign(assertion_claims(&app, &granted.agent.client_id));
    let response = app.token_with_assertion(&fresh, &params).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_server_creates_missing_data_and_keys_directories() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("nested").join("data");
    let keys = dir.path().join("nested").join("keys");
    let app = crate::helpers::spawn_app_with(&[
        ("WARRANT_DATA_DIR", data.to_str().expect("UTF-8")),
        ("WARRANT_KEYS_DIR", keys.to_str().expect("UTF-8")),
    ])
    .await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert!(data.join("warrant.db").exists(), "the SQLite file is under the data directory");
    let files: Vec<_> = std::fs::read_dir(&keys)
        .expect("the keys directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    assert!(!files.is_empty(), "a key file under {}", keys.display());
    for file in files {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is private (0600), mode {mode:o}", file.display());
    }
}
