//! The admin API's contract: bearer authentication, separation of duties, the
//! grant state machine, input validation and the access report.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    access_token, agent_body, assert_admin_error, created, json_with_status, resource_body, spawn_app,
    str_field, unique_audience, Setup,
};
use crate::jwt::AgentKey;

#[tokio::test]
async fn the_admin_api_refuses_a_request_without_a_bearer_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/admin/v1/agents")).send().await.expect("an answer");
    assert_admin_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let response =
        app.admin_post_raw("/agents", None, agent_body(None).to_string(), Some("application/json")).await;
    assert_admin_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn the_admin_api_refuses_a_garbage_bearer_token() {
    let app = spawn_app().await;
    for token in ["garbage", "a.b.c", &format!("{}x", app.admin_token)] {
        let response = app.admin_get("/agents", token).await;
        assert_admin_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn the_admin_api_refuses_an_agents_token_for_another_audience() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app
        .token_with_basic(
            &granted.agent.client_id,
            granted.secret(),
            &[("resource", &granted.resource.audience)],
        )
        .await;
    let agent_token = access_token(response).await;
    let response = app.admin_get("/agents", &agent_token).await;
    assert_admin_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn the_admin_api_refuses_an_expired_admin_token() {
    let app = spawn_app().await;
    let ok = app.admin_get("/agents", &app.admin_token).await;
    assert_eq!(ok.status(), StatusCode::OK);
    app.clock.advance(301);
    let response = app.admin_get("/agents", &app.admin_token).await;
    assert_admin_error(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn an_operator_cannot_approve_or_deny_its_own_request() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let both = app.create_operator(&["requester", "approver"]).await;
    let agent = app.create_agent(&both.token, None).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let grant = created(app.request_grant(&both.token, &agent.id, &body).await).await;
    let grant_id = str_field(&grant, "id");
    assert_admin_error(app.approve(&both.token, &grant_id).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_admin_error(app.deny(&both.token, &grant_id).await, StatusCode::FORBIDDEN, "forbidden").await;
    // Not even the admin role lifts the rule.
    let own = created(app.request_grant(&app.admin_token, &agent.id, &body).await).await;
    let own_id = str_field(&own, "id");
    assert_admin_error(app.approve(&app.admin_token, &own_id).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    // The grants are still waiting for someone else.
    let approver = app.create_operator(&["approver"]).await;
    assert_eq!(app.approve(&approver.token, &grant_id).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn approving_a_grant_twice_is_a_conflict() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let response = app.approve(&granted.approver.token, &granted.grant_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    let response = app.deny(&granted.approver.token, &granted.grant_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn only_an_approved_grant_can_be_revoked() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let body = app.grant_body(&granted.resource.audience, &["write"], 86_400, None);
    let pending = created(app.request_grant(&granted.requester.token, &granted.agent.id, &body).await).await;
    let pending_id = str_field(&pending, "id");
    let response = app.revoke(&granted.approver.token, &pending_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(app.revoke(&granted.approver.token, &granted.grant_id).await.status(), StatusCode::OK);
    let response = app.revoke(&granted.approver.token, &granted.grant_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
    let response = app.approve(&granted.approver.token, &granted.grant_id).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn an_unknown_grant_is_not_found() {
    let app = spawn_app().await;
    for action in ["approve", "deny", "revoke"] {
        let response =
            app.admin_post(&format!("/grants/no-such-grant/{action}"), &app.admin_token, &json!({})).await;
        assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn an_unknown_agent_is_not_found() {
    let app = spawn_app().await;
    let response = app.admin_get("/agents/no-such-agent", &app.admin_token).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
    let resource = app.create_resource(&["read"]).await;
    let body = app.grant_body(&resource.audience, &["read"], 86_400, None);
    let response = app.request_grant(&app.admin_token, "no-such-agent", &body).await;
    assert_admin_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn malformed_json_is_invalid_request() {
    let app = spawn_app().await;
    for path in ["/agents", "/resources", "/operators"] {
        let response = app
            .admin_post_raw(path, Some(&app.admin_token), "{\"name\": ".to_owned(), Some("application/json"))
            .await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_unsupported_media_type() {
    let app = spawn_app().await;
    let body = agent_body(None).to_string();
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let response =
            app.admin_post_raw("/agents", Some(&app.admin_token), body.clone(), content_type).await;
        assert_admin_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_payload_too_large() {
    let app = spawn_app().await;
    let mut body = agent_body(None);
    body["purpose"] = json!("x".repeat(65 * 1024));
    let response = app.admin_post("/agents", &app.admin_token, &body).await;
    assert_admin_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn unknown_enum_values_are_invalid_request() {
    let app = spawn_app().await;
    let token = app.admin_token.as_str();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    for (field, value) in [("platform", "windows95"), ("acts_on_behalf_of", "robot")] {
        let mut body = agent_body(None);
        body[field] = json!(value);
        cases.push(("/agents", body));
    }
    let mut kind = resource_body(&unique_audience(), &["read"]);
    kind["kind"] = json!("mainframe");
    cases.push(("/resources", kind));
    let mut class = resource_body(&unique_audience(), &["read"]);
    class["scopes"][0]["data_class"] = json!("top-secret");
    cases.push(("/resources", class));
    cases.push(("/operators", json!({"name": "n", "email": "n@example.com", "roles": ["god"]})));
    for (path, body) in cases {
        let response = app.admin_post(path, token, &body).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn missing_or_invalid_fields_are_invalid_request() {
    let app = spawn_app().await;
    let token = app.admin_token.as_str();
    let mut no_name = agent_body(None);
    no_name.as_object_mut().expect("an object").remove("name");
    let no_scheme = resource_body("crm.example.com", &["read"]);
    let admin_audience = resource_body("urn:warrant:admin", &["read"]);
    let no_scopes = resource_body(&unique_audience(), &[]);
    let twice = resource_body(&unique_audience(), &["read", "read"]);
    let bad_scope = resource_body(&unique_audience(), &["read \"all\""]);
    let key = AgentKey::generate();
    let mut private = agent_body(None);
    private["jwks"] = json!({"keys": [key_pair_jwk(&key)]});
    let no_roles = json!({"name": "n", "email": "n@example.com", "roles": []});
    for (path, body) in [
        ("/agents", no_name),
        ("/agents", private),
        ("/resources", no_scheme),
        ("/resources", admin_audience),
        ("/resources", no_scopes),
        ("/resources", twice),
        ("/resources", bad_scope),
        ("/operators", no_roles),
    ] {
        let response = app.admin_post(path, token, &body).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// The public JWK with a private part ("d") added: a private key.
fn key_pair_jwk(key: &AgentKey) -> Value {
    let mut jwk = key.public_jwk();
    jwk["d"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    jwk
}

#[tokio::test]
async fn invalid_grant_requests_are_invalid_request() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let agent = app.create_agent(&app.admin_token, None).await;
    let audience = resource.audience.as_str();
    let mut past = app.grant_body(audience, &["read"], 86_400, None);
    past["expires_at"] = json!(app.rfc3339_in(-60));
    let mut not_a_time = app.grant_body(audience, &["read"], 86_400, None);
    not_a_time["expires_at"] = json!("tomorrow");
    for body in [
        app.grant_body("https://nowhere.example.com", &["read"], 86_400, None),
        app.grant_body(audience, &["write"], 86_400, None),
        app.grant_body(audience, &[], 86_400, None),
        app.grant_body(audience, &["read"], 86_400, Some(0)),
        app.grant_body(audience, &["read"], 86_400, Some(86_401)),
        past,
        not_a_time,
    ] {
        let response = app.request_grant(&app.admin_token, &agent.id, &body).await;
        assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_duplicate_audience_is_a_conflict() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let body = resource_body(&resource.audience, &["write"]);
    let response = app.admin_post("/resources", &app.admin_token, &body).await;
    assert_admin_error(response, StatusCode::CONFLICT, "conflict").await;
}

#[tokio::test]
async fn the_access_report_shows_who_requested_and_who_approved_each_grant() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup { max_token_ttl: Some(120), ..Default::default() }).await;
    let response = app.admin_get(&format!("/agents/{}", granted.agent.id), &app.admin_token).await;
    let report = json_with_status(response, StatusCode::OK).await;
    assert_eq!(report["id"], granted.agent.id.as_str());
    assert_eq!(report["client_id"], granted.agent.client_id.as_str());
    assert_eq!(report["status"], "active");
    let grants = report["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 1, "{report}");
    let grant = &grants[0];
    assert_eq!(grant["id"], granted.grant_id.as_str());
    assert_eq!(grant["resource"], granted.resource.audience.as_str());
    assert_eq!(grant["scopes"], json!(["read"]));
    assert_eq!(grant["status"], "approved");
    assert_eq!(grant["requested_by"], granted.requester.id.as_str());
    assert_eq!(grant["approved_by"], granted.approver.id.as_str());
    assert_eq!(grant["justification"], "end-to-end test");
    assert_eq!(grant["max_token_ttl"], 120);
    for field in ["requested_at", "approved_at", "expires_at"] {
        let value = grant[field].as_str().unwrap_or_else(|| panic!("{field} in {grant}"));
        assert!(value.ends_with('Z'), "{field} is RFC 3339 UTC: {value}");
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{field} is RFC 3339: {value}: {e}"));
    }
    let credentials = report["credentials"].as_array().expect("credentials");
    assert_eq!(credentials.len(), 1, "{report}");
    // The contract does not name the method of a secret; it is not a key.
    let method = credentials[0]["method"].as_str().expect("a credential method");
    assert!(method.starts_with("client_secret"), "{report}");
    assert!(credentials[0]["id"].is_string());
    assert!(credentials[0]["created_at"].is_string());
}

#[tokio::test]
async fn the_access_report_shows_a_key_credential_for_a_jwks_agent() {
    let app = spawn_app().await;
    let key = AgentKey::generate();
    let agent = app.create_agent(&app.admin_token, Some(&key)).await;
    let response = app.admin_get(&format!("/agents/{}", agent.id), &app.admin_token).await;
    let report = json_with_status(response, StatusCode::OK).await;
    assert_eq!(report["credentials"][0]["method"], "private_key_jwt", "{report}");
    assert_eq!(report["grants"], json!([]));
    // The agent record is the one POST answered, less the secret.
    assert_eq!(report["token_endpoint_auth_method"], "private_key_jwt", "{report}");
}

#[tokio::test]
async fn secrets_never_appear_in_get_responses() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let secrets = [
        granted.secret().to_owned(),
        granted.resource.secret.clone(),
        granted.requester.secret.clone(),
        granted.approver.secret.clone(),
        app.admin_secret.clone(),
    ];
    let agent_path = format!("/agents/{}", granted.agent.id);
    for path in ["/agents", agent_path.as_str(), "/resources", "/operators"] {
        let response = app.admin_get(path, &app.admin_token).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        let text = response.text().await.expect("a body");
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "GET {path} leaks a secret: {text}");
        }
        let body: Value = serde_json::from_str(&text).expect("a JSON body");
        for key in ["client_secret", "secret", "secret_hash"] {
            assert!(!has_key(&body, key), "GET {path} has a {key} field: {text}");
        }
    }
}

#[tokio::test]
async fn the_inventory_lists_and_filters_agents() {
    let app = spawn_app().await;
    let sap = {
        let mut body = agent_body(None);
        body["platform"] = json!("sap");
        body["owner"] = json!("owner-of-sap@example.com");
        created(app.admin_post("/agents", &app.admin_token, &body).await).await
    };
    let other = app.create_agent(&app.admin_token, None).await;
    let all = json_with_status(app.admin_get("/agents", &app.admin_token).await, StatusCode::OK).await;
    let ids = agent_ids(&all);
    assert!(ids.contains(&sap["id"].as_str().expect("an id").to_owned()));
    assert!(ids.contains(&other.id));
    for query in ["?platform=sap", "?owner=owner-of-sap%40example.com", "?platform=sap&status=active"] {
        let response = app.admin_get(&format!("/agents{query}"), &app.admin_token).await;
        let filtered = json_with_status(response, StatusCode::OK).await;
        assert_eq!(agent_ids(&filtered), [sap["id"].as_str().expect("an id")], "{query}");
    }
    let response = app.admin_get("/agents?platform=windows95", &app.admin_token).await;
    assert_admin_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

/// Whether `key` names a field anywhere in `value`.
fn has_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(name, inner)| name == key || has_key(inner, key)),
        Value::Array(items) => items.iter().any(|item| has_key(item, key)),
        _ => false,
    }
}

fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect();
    items.sort();
    items
}

fn agent_ids(list: &Value) -> Vec<String> {
    list["agents"].as_array().expect("agents").iter().map(|agent| str_field(agent, "id")).collect()
}

#[tokio::test]
async fn registered_resources_and_operators_are_listed() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read", "write"]).await;
    let operator = app.create_operator(&["viewer", "responder"]).await;
    let resources =
        json_with_status(app.admin_get("/resources", &operator.token).await, StatusCode::OK).await;
    let listed = resources["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["id"] == resource.id.as_str())
        .unwrap_or_else(|| panic!("{} listed in {resources}", resource.id));
    assert_eq!(listed["audience"], resource.audience.as_str());
    assert_eq!(listed["client_id"], resource.client_id.as_str());
    assert_eq!(listed["scopes"][1]["data_class"], "internal");
    let operators =
        json_with_status(app.admin_get("/operators", &app.admin_token).await, StatusCode::OK).await;
    let listed = operators["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|o| o["id"] == operator.id.as_str())
        .unwrap_or_else(|| panic!("{} listed in {operators}", operator.id));
    assert_eq!(sorted(&listed["roles"]), ["responder", "viewer"]);
    let bootstrap = operators["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|o| o["id"] == "bootstrap-admin")
        .unwrap_or_else(|| panic!("the bootstrap operator in {operators}"));
    assert_eq!(bootstrap["client_id"], "bootstrap-admin");
    assert_eq!(bootstrap["roles"], json!(["admin"]));
}
