//! The bulk kill switch (POST /admin/v1/kill): every agent matching all the
//! given selectors (platform, vendor, tag) and no other; and the inventory's
//! vendor and tag filters.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::denylist::{reach, reached, unix_of};
use crate::helpers::{
    assert_admin_error, assert_oauth_error, json_with_status, spawn_app, Agent, Resource, TestApp,
};

/// Four agents on one resource, each with a token.
struct Fleet {
    resource: Resource,
    agents: Vec<(Agent, String)>,
}

/// platform, vendor, tags of the fleet, by index.
const MEMBERS: [(&str, &str, &[&str]); 4] = [
    ("sap", "SAP", &["finance", "eu"]),
    ("sap", "Acme", &["support"]),
    ("ccaas", "Acme", &["finance"]),
    ("internal", "Contoso", &["hr"]),
];

async fn fleet(app: &TestApp) -> Fleet {
    let resource = app.create_resource(&["read"]).await;
    let approver = app.create_operator(&["approver"]).await;
    let mut agents = Vec::new();
    for (platform, vendor, tags) in MEMBERS {
        let fields = [("platform", json!(platform)), ("vendor", json!(vendor)), ("tags", json!(tags))];
        let agent = app.agent_with(&fields, &resource, &["read"], &approver).await;
        let secret = agent.secret.as_deref().expect("a secret");
        let token = app.token_for(&agent.client_id, secret, &resource.audience).await;
        agents.push((agent, token));
    }
    Fleet { resource, agents }
}

/// Bulk-kills with `body` and checks that exactly the agents at `expected`
/// were killed: named in the answer, their tokens inactive and refused new
/// ones, while every other agent keeps both.
async fn kill_exactly(app: &TestApp, fleet: &Fleet, body: Value, expected: &[usize]) {
    let responder = app.create_operator(&["responder"]).await;
    let answer = json_with_status(app.bulk_kill(&responder.token, &body).await, StatusCode::OK).await;
    assert_eq!(unix_of(&answer, "killed_at"), app.now());
    assert_eq!(answer["reason"], body["reason"]);
    let entries = answer["agents"].as_array().unwrap_or_else(|| panic!("agents in {answer}"));
    let mut named: Vec<&str> = entries.iter().filter_map(|entry| entry["agent_id"].as_str()).collect();
    named.sort_unstable();
    let mut wanted: Vec<&str> = expected.iter().map(|&i| fleet.agents[i].0.id.as_str()).collect();
    wanted.sort_unstable();
    assert_eq!(named, wanted, "the agents killed by {body}: {answer}");
    for entry in entries {
        assert_eq!(reached(&entry["resources"]), [reach(&fleet.resource.audience, &["read"])], "{entry}");
    }

    for (index, (agent, token)) in fleet.agents.iter().enumerate() {
        let secret = agent.secret.as_deref().expect("a secret");
        let response = app.token_with_basic(&agent.client_id, secret, &[]).await;
        if expected.contains(&index) {
            app.assert_inactive(&fleet.resource, token).await;
            assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
            assert_eq!(app.agent_report(&agent.id).await["status"], "killed");
        } else {
            app.assert_active(&fleet.resource, token).await;
            assert_eq!(response.status(), StatusCode::OK, "agent {index} still gets tokens");
            assert_eq!(app.agent_report(&agent.id).await["status"], "active");
        }
    }
}

#[tokio::test]
async fn a_bulk_kill_by_platform_kills_exactly_the_matching_agents() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    kill_exactly(&app, &fleet, json!({"platform": "sap", "reason": "SAP connector breach"}), &[0, 1]).await;
}

#[tokio::test]
async fn a_bulk_kill_by_vendor_kills_exactly_the_matching_agents() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    kill_exactly(&app, &fleet, json!({"vendor": "Acme", "reason": "vendor compromised"}), &[1, 2]).await;
}

#[tokio::test]
async fn a_bulk_kill_by_tag_kills_exactly_the_matching_agents() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    kill_exactly(&app, &fleet, json!({"tag": "finance", "reason": "finance freeze"}), &[0, 2]).await;
}

#[tokio::test]
async fn a_bulk_kill_matches_every_given_selector() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    let body = json!({"platform": "sap", "tag": "finance", "reason": "narrow"});
    kill_exactly(&app, &fleet, body, &[0]).await;
}

#[tokio::test]
async fn a_bulk_kill_that_matches_nothing_kills_nothing() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    let body = json!({"vendor": "Acme", "platform": "internal", "reason": "nobody"});
    kill_exactly(&app, &fleet, body, &[]).await;
}

#[tokio::test]
async fn a_bulk_kill_without_a_selector_is_invalid_request() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    // No selector at all; and, for good measure, a selector without a reason.
    for body in [json!({"reason": "everyone"}), json!({}), json!({"platform": "sap"})] {
        let response = app.bulk_kill(&app.admin_token, &body).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    for (agent, token) in &fleet.agents {
        app.assert_active(&fleet.resource, token).await;
        assert_eq!(app.agent_report(&agent.id).await["status"], "active");
    }
}

#[tokio::test]
async fn the_inventory_filters_by_vendor_and_tag() {
    let app = spawn_app().await;
    let fleet = fleet(&app).await;
    for (query, expected) in
        [("vendor=Acme", vec![1, 2]), ("tag=finance", vec![0, 2]), ("vendor=Acme&tag=finance", vec![2])]
    {
        let listed = app.admin_get(&format!("/agents?{query}"), &app.admin_token).await;
        let listed = json_with_status(listed, StatusCode::OK).await;
        let mut ids: Vec<&str> =
            listed["agents"].as_array().expect("agents").iter().filter_map(|a| a["id"].as_str()).collect();
        ids.sort_unstable();
        let mut wanted: Vec<&str> = expected.iter().map(|&i| fleet.agents[i].0.id.as_str()).collect();
        wanted.sort_unstable();
        assert_eq!(ids, wanted, "GET /agents?{query}");
    }
}
