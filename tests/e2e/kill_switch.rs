//! The kill switch for one agent: the answer names everything the agent could
//! reach, the token endpoint refuses it at once, only responders and admins
//! may pull it, a restore is recorded in the agent's history.

use reqwest::StatusCode;
use serde_json::json;

use crate::denylist::{reach, reached, unix_of};
use crate::helpers::{
    assert_admin_error, assert_oauth_error, json_with_status, spawn_app, str_field, Setup, TestApp,
};

#[tokio::test]
async fn a_kill_answers_with_every_resource_the_agent_could_reach() {
    let app = spawn_app().await;
    let setup = Setup { scopes: &["read", "write", "delete"], granted: &["read"], ..Default::default() };
    let granted = app.setup_agent_with_grant(setup).await;
    let (requester, approver, agent) = (&granted.requester, &granted.approver, granted.agent.id.as_str());
    let crm = granted.resource.audience.as_str();
    // A second approved grant on the same resource: one entry, the union of scopes.
    let body = app.grant_body(crm, &["write"], 86_400, None);
    app.grant_and_approve(requester, approver, agent, &body).await;
    let tickets = app.create_resource(&["tickets:read"]).await;
    let body = app.grant_body(&tickets.audience, &["tickets:read"], 86_400, None);
    app.grant_and_approve(requester, approver, agent, &body).await;
    // Neither a pending grant, nor a revoked one, nor an expired one reaches anything.
    let pending = app.create_resource(&["read"]).await;
    let body = app.grant_body(&pending.audience, &["read"], 86_400, None);
    crate::helpers::created(app.request_grant(&requester.token, agent, &body).await).await;
    let revoked = app.create_resource(&["read"]).await;
    let body = app.grant_body(&revoked.audience, &["read"], 86_400, None);
    let grant = app.grant_and_approve(requester, approver, agent, &body).await;
    assert_eq!(app.revoke(&approver.token, &grant).await.status(), StatusCode::OK);
    let expiring = app.create_resource(&["read"]).await;
    let body = app.grant_body(&expiring.audience, &["read"], 60, None);
    app.grant_and_approve(requester, approver, agent, &body).await;
    app.clock.advance(61);

    let responder = app.create_operator(&["responder"]).await;
    let response = app.kill(&responder.token, agent, "prompt injection observed").await;
    let answer = json_with_status(response, StatusCode::OK).await;
    assert_eq!(answer["agent_id"], agent);
    assert_eq!(answer["reason"], "prompt injection observed");
    assert_eq!(unix_of(&answer, "killed_at"), app.now());
    let mut expected = vec![reach(crm, &["read", "write"]), reach(&tickets.audience, &["tickets:read"])];
    expected.sort();
    assert_eq!(reached(&answer["resources"]), expected, "{answer}");
}

#[tokio::test]
async fn a_killed_agent_cannot_get_a_token() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    app.kill_ok(&granted.agent.id, "exfiltration").await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    for params in [vec![], vec![("resource", granted.resource.audience.as_str())]] {
        let response = app.token_with_basic(id, secret, &params).await;
        assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
}

#[tokio::test]
async fn a_restored_agent_gets_tokens_again() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    app.kill_ok(&granted.agent.id, "exfiltration").await;
    app.clock.advance(1);
    let responder = app.create_operator(&["responder"]).await;
    let restored = app.restore(&responder.token, &granted.agent.id, "rotated its secret").await;
    let restored = json_with_status(restored, StatusCode::OK).await;
    assert_eq!(restored["id"], granted.agent.id.as_str());
    assert_eq!(restored["status"], "active");
    let token = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &token).await;
}

#[tokio::test]
async fn only_responders_and_admins_may_kill_and_restore() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let agent = granted.agent.id.as_str();
    for role in ["viewer", "requester", "approver"] {
        let operator = app.create_operator(&[role]).await;
        let response = app.kill(&operator.token, agent, "not mine to pull").await;
        assert_admin_error(response, StatusCode::FORBIDDEN, "forbidden").await;
        let response = app.bulk_kill(&operator.token, &json!({"tag": "billing", "reason": "no"})).await;
        assert_admin_error(response, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.agent_report(agent).await["status"], "active", "{role} killed nothing");
    }
    app.kill_ok(agent, "to test restore").await;
    for role in ["viewer", "requester", "approver"] {
        let operator = app.create_operator(&[role]).await;
        let response = app.restore(&operator.token, agent, "not mine to restore").await;
        assert_admin_error(response, StatusCode::FORBIDDEN, "forbidden").await;
        assert_eq!(app.agent_report(agent).await["status"], "killed", "{role} restored nothing");
    }
    app.clock.advance(1);
    assert_eq!(app.restore(&app.admin_token, agent, "back").await.status(), StatusCode::OK);

    let responder = app.create_operator(&["responder"]).await;
    for token in [responder.token.as_str(), app.admin_token.as_str()] {
        app.clock.advance(1);
        assert_eq!(app.kill(token, agent, "drill").await.status(), StatusCode::OK);
        app.clock.advance(1);
        assert_eq!(app.restore(token, agent, "drill over").await.status(), StatusCode::OK);
    }
    let response = app.bulk_kill(&responder.token, &json!({"tag": "no-such-tag", "reason": "drill"})).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_kill_without_a_reason_is_invalid_request() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let path = format!("/agents/{}/kill", granted.agent.id);
    for body in [json!({}), json!({"reason": ""}), json!({"reason": null}), json!({"reason": 42})] {
        let response = app.admin_post(&path, &app.admin_token, &body).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    assert_eq!(app.agent_report(&granted.agent.id).await["status"], "active");
    assert_eq!(
        app.token_with_basic(&granted.agent.client_id, granted.secret(), &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn killing_an_unknown_agent_is_not_found() {
    let app = spawn_app().await;
    let response = app.kill(&app.admin_token, "agt_missing", "who?").await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn restoring_an_agent_that_is_not_killed_is_a_conflict() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app.restore(&app.admin_token, &granted.agent.id, "nothing to restore").await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    // Nor twice.
    app.kill_ok(&granted.agent.id, "drill").await;
    app.clock.advance(1);
    assert_eq!(app.restore(&app.admin_token, &granted.agent.id, "over").await.status(), StatusCode::OK);
    let response = app.restore(&app.admin_token, &granted.agent.id, "again").await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn killing_a_killed_agent_again_moves_its_kill_time() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let first = app.kill_ok(&granted.agent.id, "first alarm").await;
    app.clock.advance(5);
    let second = app.kill_ok(&granted.agent.id, "second alarm").await;
    assert_eq!(unix_of(&second, "killed_at"), unix_of(&first, "killed_at") + 5);
    assert_eq!(second["reason"], "second alarm");
    assert_eq!(app.agent_report(&granted.agent.id).await["status"], "killed");
}

/// The agent's `kills` history from its access report.
async fn kills(app: &TestApp, agent_id: &str) -> (String, Vec<serde_json::Value>) {
    let report = app.agent_report(agent_id).await;
    let kills = report["kills"].as_array().unwrap_or_else(|| panic!("kills in {report}")).clone();
    (str_field(&report, "status"), kills)
}

#[tokio::test]
async fn the_access_report_shows_a_killed_agent_and_its_kill_history() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let agent = granted.agent.id.as_str();
    let (status, history) = kills(&app, agent).await;
    assert_eq!((status.as_str(), history.len()), ("active", 0));

    let responder = app.create_operator(&["responder"]).await;
    let killed =
        json_with_status(app.kill(&responder.token, agent, "leaked key").await, StatusCode::OK).await;
    let (status, history) = kills(&app, agent).await;
    assert_eq!(status, "killed");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["killed_at"], killed["killed_at"]);
    assert_eq!(history[0]["killed_by"], responder.id.as_str());
    assert_eq!(history[0]["reason"], "leaked key");
    assert!(history[0]["restored_at"].is_null(), "{history:?}");
    // The agent list agrees.
    let listed = app.admin_get("/agents?status=killed", &app.admin_token).await;
    let listed = json_with_status(listed, StatusCode::OK).await;
    let ids: Vec<&str> =
        listed["agents"].as_array().expect("agents").iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids, [agent]);

    app.clock.advance(30);
    assert_eq!(app.restore(&app.admin_token, agent, "key rotated").await.status(), StatusCode::OK);
    let (status, history) = kills(&app, agent).await;
    assert_eq!(status, "active");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(unix_of(&history[0], "restored_at"), app.now());
    assert_eq!(history[0]["restored_by"], crate::helpers::BOOTSTRAP_ADMIN_ID);
    assert_eq!(history[0]["restore_reason"], "key rotated");
    assert_eq!(history[0]["killed_by"], responder.id.as_str());

    app.clock.advance(30);
    app.kill_ok(agent, "again").await;
    let (status, history) = kills(&app, agent).await;
    assert_eq!(status, "killed");
    let reasons: Vec<&str> = history.iter().filter_map(|k| k["reason"].as_str()).collect();
    assert_eq!(reasons, ["leaked key", "again"], "oldest first");
    assert_eq!(history[1]["killed_by"], crate::helpers::BOOTSTRAP_ADMIN_ID);
    assert!(history[1]["restored_at"].is_null(), "{history:?}");
}
