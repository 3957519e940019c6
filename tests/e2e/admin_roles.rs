//! The role matrix: every role against every admin route of the contract,
//! allowed (2xx) or refused with 403 `forbidden`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    agent_body, assert_admin_error, created, resource_body, spawn_app, str_field, unique_audience, Operator,
    TestApp, ADMIN_AUDIENCE,
};

const ROLES: [&str; 5] = ["viewer", "requester", "approver", "responder", "admin"];

/// The routes and the roles allowed on each.
const MATRIX: [(&str, &[&str]); 19] = [
    ("GET /agents", &ROLES),
    ("GET /agents/{agent}", &ROLES),
    ("GET /resources", &ROLES),
    ("GET /operators", &["admin"]),
    ("POST /operators", &["admin"]),
    ("POST /resources", &["admin"]),
    ("POST /agents", &["requester", "admin"]),
    ("POST /agents/{agent}/grants", &["requester", "admin"]),
    ("POST /grants/{pending}/approve", &["approver", "admin"]),
    ("POST /grants/{pending2}/deny", &["approver", "admin"]),
    ("POST /grants/{approved}/revoke", &["approver", "responder", "admin"]),
    ("POST /agents/{agent}/suspend", &["responder", "admin"]),
    ("POST /agents/{agent}/resume", &["responder", "admin"]),
    ("GET /report", &ROLES),
    ("GET /inventory.csv", &ROLES),
    ("GET /resources/{resource}/access", &ROLES),
    ("GET /agents/{agent}/credentials", &ROLES),
    ("POST /agents/{agent}/credentials", &["requester", "admin"]),
    ("DELETE /agents/{agent}/credentials/{credential}", &["requester", "admin"]),
];

/// Objects a role's requests act on, built by the bootstrap admin.
struct Fixtures {
    audience: String,
    resource: String,
    /// A second credential of `agent`, which may be retired.
    credential: String,
    agent: String,
    pending: String,
    pending2: String,
    approved: String,
}

async fn fixtures(app: &TestApp, approver: &Operator) -> Fixtures {
    let resource = app.create_resource(&["read"]).await;
    let agent = app.create_agent(&app.admin_token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let grant = created(app.request_grant(&app.admin_token, &agent.id, &body).await).await;
        ids.push(str_field(&grant, "id"));
    }
    let [pending, pending2, approved]: [String; 3] = ids.try_into().expect("three grants");
    assert_eq!(app.approve(&approver.token, &approved).await.status(), StatusCode::OK);
    let credential = created(app.add_credential(&app.admin_token, &agent.id, None).await).await;
    Fixtures {
        audience: resource.audience,
        resource: resource.id,
        credential: str_field(&credential, "id"),
        agent: agent.id,
        pending,
        pending2,
        approved,
    }
}

async fn call(app: &TestApp, route: &str, token: &str, f: &Fixtures) -> reqwest::Response {
    let path = route
        .split_once(' ')
        .map(|(_, path)| path)
        .expect("METHOD PATH")
        .replace("{agent}", &f.agent)
        .replace("{pending}", &f.pending)
        .replace("{pending2}", &f.pending2)
        .replace("{approved}", &f.approved)
        .replace("{resource}", &f.resource)
        .replace("{credential}", &f.credential);
    if route.starts_with("GET ") {
        return app.admin_get(&path, token).await;
    }
    if route.starts_with("DELETE ") {
        return app.admin_delete(&path, token).await;
    }
    let body = match route {
        "POST /operators" => json!({"name": "o", "email": "o@example.com", "roles": ["viewer"]}),
        "POST /resources" => resource_body(&unique_audience(), &["read"]),
        "POST /agents" => agent_body(None),
        "POST /agents/{agent}/grants" => app.grant_body(&f.audience, &["read"], 86_400, None),
        _ => json!({}),
    };
    app.admin_post(&path, token, &body).await
}

#[tokio::test]
async fn each_role_may_use_exactly_the_routes_its_permissions_allow() {
    let app = spawn_app().await;
    let fixture_approver = app.create_operator(&["approver"]).await;
    let mut wrong = Vec::new();
    for role in ROLES {
        let operator = app.create_operator(&[role]).await;
        let f = fixtures(&app, &fixture_approver).await;
        for (route, allowed) in MATRIX {
            let response = call(&app, route, &operator.token, &f).await;
            let status = response.status();
            let expected = if allowed.contains(&role) {
                let acts_on_existing = route.starts_with("POST /grants")
                    || route.ends_with("/suspend")
                    || route.ends_with("/resume");
                if route.starts_with("POST /") && !acts_on_existing {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                }
            } else {
                StatusCode::FORBIDDEN
            };
            if status != expected {
                let body = response.text().await.unwrap_or_default();
                wrong.push(format!("{role} {route}: expected {expected}, got {status} {body}"));
            } else if status == StatusCode::FORBIDDEN {
                let body: serde_json::Value = response.json().await.expect("a JSON error");
                if body["error"] != "forbidden" {
                    wrong.push(format!("{role} {route}: 403 with {body}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "role matrix mismatches:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn an_operator_holding_several_roles_has_the_union_of_their_permissions() {
    let app = spawn_app().await;
    let operator = app.create_operator(&["requester", "responder"]).await;
    let resource = app.create_resource(&["read"]).await;
    let approver = app.create_operator(&["approver"]).await;
    let agent = app.create_agent(&operator.token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let grant_id = app.grant_and_approve(&operator, &approver, &agent.id, &body).await;
    assert_eq!(app.revoke(&operator.token, &grant_id).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_narrowed_to_some_roles_carries_only_their_permissions() {
    let app = spawn_app().await;
    let operator = app.create_operator(&["requester", "approver"]).await;
    let narrowed = app
        .operator_token(
            &operator.client_id,
            &operator.secret,
            &[("resource", ADMIN_AUDIENCE), ("scope", "requester")],
        )
        .await;
    let resource = app.create_resource(&["read"]).await;
    let agent = app.create_agent(&app.admin_token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let grant = created(app.request_grant(&app.admin_token, &agent.id, &body).await).await;
    let grant_id = str_field(&grant, "id");
    let response = app.approve(&narrowed, &grant_id).await;
    assert_admin_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    // With its full token, the same operator may approve.
    assert_eq!(app.approve(&operator.token, &grant_id).await.status(), StatusCode::OK);
}
