//! The audit trail over HTTP: every decision of a flow is there, in order,
//! with its actor, hash-chained; refusals carry their reason; the API pages
//! and filters; no secret or token is ever recorded.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_admin_error, spawn_app, Setup, TestApp};

async fn audit(app: &TestApp, query: &str) -> Value {
    let response = app.admin_get(&format!("/audit{query}"), &app.admin_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    page["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_decision_of_a_flow_is_audited_in_order_with_its_actor_and_chained() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    app.kill_ok(&granted.agent.id, "prompt injection").await;
    app.assert_inactive(&granted.resource, &token).await;

    // The inactive introspection is queued, not awaited: give it a moment.
    let query = format!("?agent_id={}", granted.agent.id);
    let start = Instant::now();
    let page = loop {
        let page = audit(&app, &query).await;
        if actions(&page).iter().any(|a| a == "introspection.inactive")
            || start.elapsed() > Duration::from_secs(5)
        {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        actions(&page),
        [
            "agent.registered",
            "grant.requested",
            "grant.approved",
            "token.issued",
            "agent.killed",
            "introspection.inactive"
        ]
    );
    let events = page["events"].as_array().unwrap();
    assert_eq!(events[1]["actor"], granted.requester.id.as_str());
    assert_eq!(events[2]["actor"], granted.approver.id.as_str());
    assert_eq!(events[3]["actor"], granted.agent.client_id.as_str());
    assert_eq!(events[3]["resource"], granted.resource.audience.as_str());
    assert_eq!(events[4]["detail"]["reason"], "prompt injection");
    assert_eq!(events[5]["detail"]["reason"], "killed");

    let all = audit(&app, "?limit=1000").await;
    let all = all["events"].as_array().unwrap();
    for pair in all.windows(2) {
        assert_eq!(pair[1]["seq"].as_i64().unwrap(), pair[0]["seq"].as_i64().unwrap() + 1);
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "each event links to the one before");
    }
}

#[tokio::test]
async fn refused_tokens_are_audited_with_their_reason_and_who_asked() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let id = granted.agent.client_id.as_str();
    assert_eq!(
        app.token_with_basic(id, granted.secret(), &[("scope", "write")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.token_with_basic(id, "wrong-secret", &[]).await.status(), StatusCode::UNAUTHORIZED);

    let page = audit(&app, "?action=token.refused").await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{page}");
    assert_eq!((events[0]["actor"].as_str(), events[0]["agent_id"].as_str()), (Some(id), Some(id)));
    assert_eq!(events[0]["detail"]["error"], "invalid_scope");
    assert_eq!(events[1]["actor"], "unauthenticated");
    assert_eq!(events[1]["detail"]["error"], "invalid_client");
    assert_eq!(events[1]["detail"]["claimed_client_id"], id);
}

#[tokio::test]
async fn the_audit_api_pages_with_a_cursor_without_gaps_or_overlaps() {
    let app = spawn_app().await;
    app.setup_agent_with_grant(Setup::default()).await;
    let everything: Vec<i64> = audit(&app, "?limit=1000").await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(everything.len() >= 6, "{everything:?}");
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = audit(&app, &format!("?limit=2{cursor}")).await;
        paged.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()));
        match page["next"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
        assert!(paged.len() <= everything.len(), "paging never ends");
    }
    assert_eq!(paged, everything);
}

#[tokio::test]
async fn a_bad_limit_cursor_or_time_is_invalid_request() {
    let app = spawn_app().await;
    for query in ["?limit=0", "?limit=1001", "?cursor=abc", "?since=yesterday", "?colour=blue"] {
        let response = app.admin_get(&format!("/audit{query}"), &app.admin_token).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn no_secret_or_token_is_ever_recorded() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    app.revoke_token(&granted.agent.client_id, granted.secret(), &token).await;
    let text = audit(&app, "?limit=1000").await.to_string();
    for secret in
        [granted.secret(), &token, &granted.resource.secret, &granted.requester.secret, &app.admin_token]
    {
        assert!(!text.contains(secret), "a secret or token is in the audit trail");
    }
    assert!(text.contains("token.revoked"));
}
