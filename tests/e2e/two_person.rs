//! Two-person approval: a grant reaching `payment` or `credentials` data
//! needs two distinct approvers, neither the requester; other grants need one.

use reqwest::StatusCode;
use serde_json::Value;

use crate::denylist::unix_of;
use crate::helpers::{
    assert_admin_error, assert_oauth_error, json_with_status, spawn_app, str_field, Agent, Operator,
    Resource, TestApp,
};

/// A resource with a scope of each class, an agent, the requester (who may
/// also approve, to show that it still may not approve its own request) and
/// two approvers.
struct Scene {
    resource: Resource,
    agent: Agent,
    requester: Operator,
    first: Operator,
    second: Operator,
}

async fn scene(app: &TestApp) -> Scene {
    let scopes = [
        ("charges", "payment"),
        ("vault", "credentials"),
        ("contacts", "pii"),
        ("notes", "internal"),
        ("catalog", "public"),
    ];
    let resource = app.create_classified_resource("Payments hub", "payments", &scopes).await;
    let requester = app.create_operator(&["requester", "approver"]).await;
    let agent = app.create_agent(&requester.token, None).await;
    let first = app.create_operator(&["approver"]).await;
    let second = app.create_operator(&["approver"]).await;
    Scene { resource, agent, requester, first, second }
}

impl Scene {
    async fn request(&self, app: &TestApp, scopes: &[&str]) -> String {
        let body = app.grant_body(&self.resource.audience, scopes, 86_400, None);
        app.requested_grant(&self.requester, &self.agent.id, &body).await
    }

    async fn token(&self, app: &TestApp) -> reqwest::Response {
        let secret = self.agent.secret.as_deref().expect("a secret");
        app.token_with_basic(&self.agent.client_id, secret, &[("resource", &self.resource.audience)]).await
    }

    /// The grant as the agent's access report shows it.
    async fn shown(&self, app: &TestApp, grant_id: &str) -> Value {
        let report = app.agent_report(&self.agent.id).await;
        let grants = report["grants"].as_array().expect("grants");
        grants
            .iter()
            .find(|g| g["id"] == grant_id)
            .unwrap_or_else(|| panic!("{grant_id} in {report}"))
            .clone()
    }
}

fn approvers(grant: &Value) -> Vec<String> {
    let approvals = grant["approvals"].as_array().unwrap_or_else(|| panic!("approvals in {grant}"));
    approvals.iter().map(|a| str_field(a, "by")).collect()
}

#[tokio::test]
async fn a_payment_grant_needs_two_distinct_approvers_who_did_not_request_it() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let grant_id = s.request(&app, &["charges", "contacts"]).await;

    let requested = s.shown(&app, &grant_id).await;
    assert_eq!(requested["approvals_required"], 2, "{requested}");
    assert_eq!(requested["approvals"], serde_json::json!([]), "{requested}");

    app.clock.advance(10);
    let first = app.approve_ok(&s.first, &grant_id).await;
    assert_eq!(first["status"], "requested", "one approval of two: {first}");
    assert_eq!(first["approvals_required"], 2, "{first}");
    assert_eq!(approvers(&first), [s.first.id.as_str()]);
    assert_eq!(unix_of(&first["approvals"][0], "at"), app.now());
    assert!(first["approved_by"].is_null(), "{first}");
    let shown = s.shown(&app, &grant_id).await;
    assert_eq!((shown["status"].as_str(), approvers(&shown)), (Some("requested"), vec![s.first.id.clone()]));
    assert_oauth_error(s.token(&app).await, StatusCode::BAD_REQUEST, "invalid_target").await;

    // The same approver again, then the requester (who holds the approver role).
    assert_admin_error(app.approve(&s.first.token, &grant_id).await, StatusCode::CONFLICT, "conflict").await;
    assert_admin_error(app.approve(&s.requester.token, &grant_id).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    assert_eq!(s.shown(&app, &grant_id).await["status"], "requested");
    assert_oauth_error(s.token(&app).await, StatusCode::BAD_REQUEST, "invalid_target").await;

    app.clock.advance(10);
    let second = app.approve_ok(&s.second, &grant_id).await;
    assert_eq!(second["status"], "approved", "{second}");
    assert_eq!(second["approved_by"], s.second.id.as_str());
    assert_eq!(unix_of(&second, "approved_at"), app.now());
    assert_eq!(approvers(&second), [s.first.id.as_str(), s.second.id.as_str()]);
    let token = json_with_status(s.token(&app).await, StatusCode::OK).await;
    let mut scopes: Vec<&str> = token["scope"].as_str().expect("scope").split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["charges", "contacts"]);
    // Approved: a third approval finds it in the wrong state.
    let third = app.create_operator(&["approver"]).await;
    assert_admin_error(app.approve(&third.token, &grant_id).await, StatusCode::CONFLICT, "conflict").await;

    // The audit trail tells the first approval from the approval.
    let query = format!("/audit?agent_id={}&limit=1000", s.agent.id);
    let trail = json_with_status(app.admin_get(&query, &app.admin_token).await, StatusCode::OK).await;
    let decisions: Vec<(String, String)> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("grant.approv")))
        .map(|e| (str_field(e, "action"), str_field(e, "actor")))
        .collect();
    assert_eq!(
        decisions,
        [
            ("grant.approval_recorded".to_owned(), s.first.id.clone()),
            ("grant.approved".to_owned(), s.second.id.clone())
        ]
    );
}

#[tokio::test]
async fn a_credentials_grant_needs_two_approvers_too() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let grant_id = s.request(&app, &["vault"]).await;
    assert_eq!(app.approve_ok(&s.second, &grant_id).await["status"], "requested");
    assert_oauth_error(s.token(&app).await, StatusCode::BAD_REQUEST, "invalid_target").await;
    // The bootstrap admin counts as a second, distinct approver.
    let approved = json_with_status(app.approve(&app.admin_token, &grant_id).await, StatusCode::OK).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], crate::helpers::BOOTSTRAP_ADMIN_ID);
    assert_eq!(json_with_status(s.token(&app).await, StatusCode::OK).await["scope"], "vault");
}

#[tokio::test]
async fn a_grant_of_pii_and_internal_scopes_needs_one_approver() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let grant_id = s.request(&app, &["contacts", "notes", "catalog"]).await;
    assert_eq!(s.shown(&app, &grant_id).await["approvals_required"], 1);
    let approved = app.approve_ok(&s.first, &grant_id).await;
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["approved_by"], s.first.id.as_str());
    assert_eq!(approved["approvals_required"], 1);
    assert_eq!(approvers(&approved), [s.first.id.as_str()]);
    assert_eq!(s.token(&app).await.status(), StatusCode::OK);
    // Still not by the requester.
    let other = s.request(&app, &["contacts"]).await;
    assert_admin_error(app.approve(&s.requester.token, &other).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
}

#[tokio::test]
async fn a_two_person_grant_can_be_denied_after_its_first_approval() {
    let app = spawn_app().await;
    let s = scene(&app).await;
    let grant_id = s.request(&app, &["charges"]).await;
    app.approve_ok(&s.first, &grant_id).await;
    let denied = json_with_status(app.deny(&s.second.token, &grant_id).await, StatusCode::OK).await;
    assert_eq!(denied["status"], "denied", "{denied}");
    assert_eq!(denied["denied_by"], s.second.id.as_str());
    assert_admin_error(app.approve(&s.second.token, &grant_id).await, StatusCode::CONFLICT, "conflict").await;
    assert_oauth_error(s.token(&app).await, StatusCode::BAD_REQUEST, "invalid_target").await;
}
