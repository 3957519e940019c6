//! The access report of one agent (GET /admin/v1/agents/{id}): what it is
//! connected to, what data it can reach, who approved and when it expires,
//! its credentials, its kills, and its last token.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::denylist::unix_of;
use crate::helpers::{assert_oauth_error, spawn_app, str_field, BOOTSTRAP_ADMIN_ID};

#[tokio::test]
async fn the_access_report_answers_the_three_questions_about_one_agent() {
    let app = spawn_app().await;
    let scopes = [("charges", "payment"), ("contacts", "pii"), ("catalog", "public")];
    let resource = app.create_classified_resource("Payments hub", "payments", &scopes).await;
    let requester = app.create_operator(&["requester"]).await;
    let first = app.create_operator(&["approver"]).await;
    let second = app.create_operator(&["approver"]).await;
    let agent = app.create_agent(&requester.token, None).await;
    let secret = agent.secret.clone().expect("a secret");

    let report = app.agent_report(&agent.id).await;
    assert!(report["last_token"].is_null(), "no token yet: {report}");
    assert_eq!(report["kills"], json!([]));
    let credentials = report["credentials"].as_array().expect("credentials");
    assert_eq!(credentials.len(), 1, "{report}");
    assert_eq!(credentials[0]["method"], "client_secret");
    assert!(credentials[0]["retired_at"].is_null(), "{report}");
    assert!(credentials[0]["id"].is_string() && credentials[0]["created_at"].is_string(), "{report}");

    let requested_at = app.now();
    let mut body = app.grant_body(&resource.audience, &["charges", "contacts"], 30 * 86_400, Some(600));
    body["justification"] = json!("refunds for customers who call");
    let payment_grant = app.requested_grant(&requester, &agent.id, &body).await;
    app.clock.advance(60);
    let first_at = app.now();
    app.approve_ok(&first, &payment_grant).await;
    app.clock.advance(60);
    let approved_at = app.now();
    app.approve_ok(&second, &payment_grant).await;
    let body = app.grant_body(&resource.audience, &["catalog"], 7 * 86_400, None);
    let public_grant = app.requested_grant(&requester, &agent.id, &body).await;
    app.approve_ok(&first, &public_grant).await;

    let report = app.agent_report(&agent.id).await;
    let grants = report["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 2, "{report}");
    let grant = grants.iter().find(|g| g["id"] == payment_grant.as_str()).expect("the payment grant");
    assert_eq!(grant["resource"], resource.audience.as_str());
    assert_eq!(grant["resource_id"], resource.id.as_str());
    assert_eq!(grant["resource_name"], "Payments hub");
    assert_eq!(grant["resource_kind"], "payments");
    assert_eq!(grant["scopes"], json!(["charges", "contacts"]));
    assert_eq!(
        grant["scope_classes"],
        json!([{"name": "charges", "data_class": "payment"}, {"name": "contacts", "data_class": "pii"}])
    );
    assert_eq!(grant["status"], "approved");
    assert_eq!(grant["requested_by"], requester.id.as_str());
    assert_eq!(unix_of(grant, "requested_at"), requested_at);
    assert_eq!(grant["justification"], "refunds for customers who call");
    assert_eq!(grant["approvals_required"], 2);
    let approvals = grant["approvals"].as_array().expect("approvals");
    let approvals: Vec<(String, i64)> =
        approvals.iter().map(|a| (str_field(a, "by"), unix_of(a, "at"))).collect();
    assert_eq!(approvals, [(first.id.clone(), first_at), (second.id.clone(), approved_at)]);
    assert_eq!(grant["approved_by"], second.id.as_str());
    assert_eq!(unix_of(grant, "approved_at"), approved_at);
    assert_eq!(unix_of(grant, "expires_at"), requested_at + 30 * 86_400);
    assert_eq!(grant["max_token_ttl"], 600);
    for field in ["denied_by", "denied_at", "revoked_by", "revoked_at"] {
        assert!(grant.get(field).is_some_and(Value::is_null), "{field} is null in {grant}");
    }
    let public = grants.iter().find(|g| g["id"] == public_grant.as_str()).expect("the public grant");
    assert_eq!(public["approvals_required"], 1);
    assert_eq!(public["scope_classes"], json!([{"name": "catalog", "data_class": "public"}]));
    assert_eq!(public["approved_by"], first.id.as_str());

    // The last token: its time and audience; a refused request changes nothing.
    app.clock.advance(30);
    let token_at = app.now();
    app.token_for(&agent.client_id, &secret, &resource.audience).await;
    app.clock.advance(30);
    let refused =
        app.token_with_basic(&agent.client_id, &secret, &[("resource", "https://nowhere.example.com")]).await;
    assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_target").await;
    let report = app.agent_report(&agent.id).await;
    let last = &report["last_token"];
    assert_eq!(unix_of(last, "at"), token_at, "{report}");
    assert_eq!(last["resource"], resource.audience.as_str());

    // A kill is in the report, with who and why; the last token stays.
    app.kill_ok(&agent.id, "card data in a prompt").await;
    let killed_at = app.now();
    let report = app.agent_report(&agent.id).await;
    assert_eq!(report["status"], "killed");
    let kills = report["kills"].as_array().expect("kills");
    assert_eq!(kills.len(), 1, "{report}");
    assert_eq!(unix_of(&kills[0], "killed_at"), killed_at);
    assert_eq!(kills[0]["killed_by"], BOOTSTRAP_ADMIN_ID);
    assert_eq!(kills[0]["reason"], "card data in a prompt");
    assert_eq!(unix_of(&report["last_token"], "at"), token_at);
    // The grants still say what a restore would give back.
    let statuses: Vec<&str> =
        report["grants"].as_array().expect("grants").iter().filter_map(|g| g["status"].as_str()).collect();
    assert_eq!(statuses, ["approved", "approved"]);
}

#[tokio::test]
async fn a_denied_and_a_revoked_grant_show_who_decided_and_when() {
    let app = spawn_app().await;
    let resource = app.create_classified_resource("CRM", "crm", &[("contacts", "pii")]).await;
    let requester = app.create_operator(&["requester"]).await;
    let approver = app.create_operator(&["approver"]).await;
    let responder = app.create_operator(&["responder"]).await;
    let agent = app.create_agent(&requester.token, None).await;
    let body = app.grant_body(&resource.audience, &["contacts"], 86_400, None);
    let denied = app.requested_grant(&requester, &agent.id, &body).await;
    let revoked = app.requested_grant(&requester, &agent.id, &body).await;
    app.clock.advance(5);
    assert_eq!(app.deny(&approver.token, &denied).await.status(), StatusCode::OK);
    let denied_at = app.now();
    app.approve_ok(&approver, &revoked).await;
    app.clock.advance(5);
    assert_eq!(app.revoke(&responder.token, &revoked).await.status(), StatusCode::OK);
    let report = app.agent_report(&agent.id).await;
    let find = |id: &str| -> Value {
        report["grants"]
            .as_array()
            .expect("grants")
            .iter()
            .find(|g| g["id"] == id)
            .expect("the grant")
            .clone()
    };
    let d = find(&denied);
    assert_eq!((d["status"].as_str(), d["denied_by"].as_str()), (Some("denied"), Some(approver.id.as_str())));
    assert_eq!(unix_of(&d, "denied_at"), denied_at);
    assert_eq!(d["approvals"], json!([]));
    let r = find(&revoked);
    assert_eq!(
        (r["status"].as_str(), r["revoked_by"].as_str()),
        (Some("revoked"), Some(responder.id.as_str()))
    );
    assert_eq!(unix_of(&r, "revoked_at"), app.now());
    assert_eq!(r["approved_by"], approver.id.as_str());
}
