//! The OpenAPI document against the running server: `/openapi.json` serves
//! the generated document, every documented operation reaches a handler,
//! and real answers (statuses, content types and bodies) match what the
//! document says, field for field.

use std::collections::BTreeSet;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    agent_body, basic_header, form, resource_body, spawn_app, str_field, unique_audience, TestApp,
    ADMIN_AUDIENCE, FORM,
};
use crate::jwt::AgentKey;

/// The document the code generates, as `warrant openapi` prints it.
fn generated() -> Value {
    let text = warrant_server::openapi::to_pretty_json().expect("the document serializes");
    serde_json::from_str(&text).expect("the document is JSON")
}

#[tokio::test]
async fn the_served_openapi_json_is_the_generated_document() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let served: Value = response.json().await.expect("JSON");
    assert_eq!(served["openapi"], "3.1.0");
    assert!(served == generated(), "the served document differs from the generated one");
}

/// Each documented `(method, path)`.
fn operations(doc: &Value) -> Vec<(Method, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("an HTTP method");
            operations.push((method, path.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn every_documented_operation_reaches_its_handler() {
    let app = spawn_app().await;
    for (method, path) in operations(&generated()) {
        let concrete = path.replace("{id}", "x").replace("{credential}", "y");
        let response = app.client.request(method.clone(), app.url(&concrete)).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        let what = format!("{method} {path}: {status} {body}");
        if path.starts_with("/admin/v1/") {
            // The caller is checked first: an unauthenticated call is 401 from the admin API.
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert!(body.contains("\"unauthorized\""), "{what}");
        } else if method == Method::POST {
            // An OAuth endpoint: no form is an RFC 6749 error.
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
            assert!(body.contains("\"invalid_request\""), "{what}");
        } else {
            assert_eq!(status, StatusCode::OK, "{what}");
        }
    }
}

/// The document, and the answers checked against it so far.
struct Spec {
    doc: Value,
    /// `(METHOD, path template, status)` of every answer checked.
    seen: BTreeSet<(String, String, u16)>,
}

impl Spec {
    /// The schema or response a local `$ref` points to.
    fn deref<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local $ref");
                self.deref(
                    self.doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} is not in the document")),
                )
            }
            None => value,
        }
    }

    /// Checks `response` against the operation `method path` (a path
    /// template of the document): its status is documented, and its body
    /// has the documented content type and schema. Returns the body.
    async fn check(&mut self, method: &str, path: &str, response: Response) -> Value {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().trim().to_owned());
        let text = response.text().await.unwrap();
        let shown: String = text.chars().take(600).collect();
        let what = format!("{method} {path} answered {status} {shown}");
        let operation = &self.doc["paths"][path][method.to_lowercase()];
        assert!(operation.is_object(), "{what}: no such documented operation");
        let documented = operation["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{what}: status not documented"));
        let documented = self.deref(documented);
        let body = match documented.get("content").and_then(Value::as_object) {
            None => {
                assert!(text.is_empty(), "{what}: documented without a body");
                Value::Null
            }
            Some(content) => {
                let content_type = content_type.unwrap_or_else(|| panic!("{what}: no Content-Type"));
                let media = content
                    .iter()
                    .find(|(documented, _)| documented.split(';').next().unwrap().trim() == content_type)
                    .map(|(_, media)| media)
                    .unwrap_or_else(|| panic!("{what}: Content-Type {content_type} not documented"));
                if content_type == "application/json" {
                    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
                    let mut errors = Vec::new();
                    self.validate(&media["schema"], &body, "$", true, &mut errors);
                    assert!(errors.is_empty(), "{what}\ndoes not match the document:\n{}", errors.join("\n"));
                    body
                } else {
                    Value::String(text)
                }
            }
        };
        self.seen.insert((method.to_owned(), path.to_owned(), status));
        body
    }

    /// The property names an object matching `schema` may have, or `None`
    /// when it may have any.
    fn known_properties(&self, schema: &Value) -> Option<BTreeSet<String>> {
        let schema = self.deref(schema);
        if schema.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false)) {
            return None;
        }
        let mut known: BTreeSet<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.keys().cloned())
            .collect();
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            known.extend(self.known_properties(part)?);
        }
        if schema.get("properties").is_none() && schema.get("allOf").is_none() {
            return None;
        }
        Some(known)
    }

    /// Appends to `errors` every way `value` (at `at`) fails `schema`.
    /// When `strict`, an object may hold no property its schema does not
    /// name (the parts of an `allOf` are not strict: each names only some).
    fn validate(&self, schema: &Value, value: &Value, at: &str, strict: bool, errors: &mut Vec<String>) {
        let schema = self.deref(schema);
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.validate(part, value, at, false, errors);
        }
        if let Some(choices) = schema.get("oneOf").and_then(Value::as_array) {
            let passing = choices
                .iter()
                .filter(|choice| {
                    let mut choice_errors = Vec::new();
                    self.validate(choice, value, at, true, &mut choice_errors);
                    choice_errors.is_empty()
                })
                .count();
            if passing != 1 {
                errors.push(format!("{at}: {value} matches {passing} of the oneOf choices"));
            }
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let matches = types.iter().any(|t| match *t {
                "null" => value.is_null(),
                "boolean" => value.is_boolean(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "string" => value.is_string(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                _ => false,
            });
            if !matches {
                errors.push(format!("{at}: {value} is not {types:?}"));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                errors.push(format!("{at}: {value} is not one of {allowed:?}"));
            }
        }
        if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64) {
            if value.as_f64().is_some_and(|v| v < minimum) {
                errors.push(format!("{at}: {value} is below {minimum}"));
            }
        }
        if let Some(object) = value.as_object() {
            for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !object.contains_key(name) {
                    errors.push(format!("{at}.{name}: required, missing"));
                }
            }
            for (name, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten()
            {
                if let Some(field) = object.get(name) {
                    self.validate(property, field, &format!("{at}.{name}"), true, errors);
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|extra| extra.is_object()) {
                for (name, field) in object {
                    self.validate(extra, field, &format!("{at}.{name}"), true, errors);
                }
            }
            if strict {
                if let Some(known) = self.known_properties(schema) {
                    for key in object.keys().filter(|key| !known.contains(*key)) {
                        errors.push(format!("{at}.{key}: not in the document"));
                    }
                }
            }
        }
        if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.validate(schema, item, &format!("{at}[{i}]"), true, errors);
            }
        }
    }
}

/// A request to the running server.
struct Call<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

impl Call<'_> {
    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }
}

/// Sends `method path` (`path` concrete, `template` as documented) and
/// checks the answer against the document.
async fn checked(
    spec: &mut Spec,
    call: &Call<'_>,
    method: &str,
    template: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let response = call.send(method.clone(), path, body.as_ref()).await;
    spec.check(method.as_str(), template, response).await
}

async fn oauth(app: &TestApp, path: &str, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
    let mut request = app.client.post(app.url(path)).header(CONTENT_TYPE, FORM).body(form(pairs));
    if let Some((id, secret)) = basic {
        request = request.header(reqwest::header::AUTHORIZATION, basic_header(id, secret));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    let app = spawn_app().await;
    let mut spec = Spec { doc: generated(), seen: BTreeSet::new() };
    let admin = Call { app: &app, token: Some(&app.admin_token) };
    let anonymous = Call { app: &app, token: None };
    let s = &mut spec;

    // Discovery and health.
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        checked(s, &anonymous, "GET", path, path, None).await;
    }
    checked(s, &anonymous, "GET", "/openapi.json", "/openapi.json", None).await;

    // Operators.
    let approver = checked(
        s,
        &admin,
        "POST",
        "/admin/v1/operators",
        "/admin/v1/operators",
        Some(json!({"name": "Abe", "email": "abe@example.com", "roles": ["approver"]})),
    )
    .await;
    checked(s, &admin, "GET", "/admin/v1/operators", "/admin/v1/operators", None).await;
    let approver_token = app
        .operator_token(
            &str_field(&approver, "client_id"),
            &str_field(&approver, "client_secret"),
            &[("resource", ADMIN_AUDIENCE)],
        )
        .await;
    let approving = Call { app: &app, token: Some(&approver_token) };

    // Resources.
    let audience = unique_audience();
    let mut body = resource_body(&audience, &["read", "write"]);
    body["scopes"][1]["data_class"] = json!("pii");
    let resource =
        checked(s, &admin, "POST", "/admin/v1/resources", "/admin/v1/resources", Some(body.clone())).await;
    let resource_id = str_field(&resource, "id");
    checked(s, &admin, "POST", "/admin/v1/resources", "/admin/v1/resources", Some(body)).await; // 409
    checked(s, &admin, "GET", "/admin/v1/resources", "/admin/v1/resources", None).await;

    // Agents: with a secret, with a JWK Set, and refused bodies.
    let agent =
        checked(s, &admin, "POST", "/admin/v1/agents", "/admin/v1/agents", Some(agent_body(None))).await;
    let agent_id = str_field(&agent, "id");
    let secret = str_field(&agent, "client_secret");
    let key = AgentKey::generate();
    let keyed = agent_body(Some(key.jwks()));
    checked(s, &admin, "POST", "/admin/v1/agents", "/admin/v1/agents", Some(keyed)).await;
    checked(s, &admin, "POST", "/admin/v1/agents", "/admin/v1/agents", Some(json!({"name": "x"}))).await; // 400
    let raw = |body: String, content_type: &str| {
        app.client
            .post(app.url("/admin/v1/agents"))
            .bearer_auth(&app.admin_token)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    s.check("POST", "/admin/v1/agents", raw("{}".into(), "text/plain").await.unwrap()).await; // 415
    s.check("POST", "/admin/v1/agents", raw("x".repeat(70_000), "application/json").await.unwrap()).await; // 413
    checked(s, &anonymous, "GET", "/admin/v1/agents", "/admin/v1/agents", None).await; // 401
    checked(s, &approving, "POST", "/admin/v1/agents", "/admin/v1/agents", Some(agent_body(None))).await; // 403

    // Grants: one approved, one denied; the admin may not approve its own request.
    let grant_body = app.grant_body(&audience, &["read", "write"], 86_400, Some(600));
    let grants = format!("/admin/v1/agents/{agent_id}/grants");
    let template = "/admin/v1/agents/{id}/grants";
    let grant = checked(s, &admin, "POST", template, &grants, Some(grant_body.clone())).await;
    let grant_id = str_field(&grant, "id");
    let other = str_field(&checked(s, &admin, "POST", template, &grants, Some(grant_body)).await, "id");
    checked(s, &admin, "POST", template, "/admin/v1/agents/agt_missing/grants", Some(json!({}))).await; // 404 or 400
    let approve = format!("/admin/v1/grants/{grant_id}/approve");
    checked(s, &admin, "POST", "/admin/v1/grants/{id}/approve", &approve, None).await; // 403
    checked(s, &approving, "POST", "/admin/v1/grants/{id}/approve", &approve, None).await;
    checked(s, &approving, "POST", "/admin/v1/grants/{id}/approve", &approve, None).await; // 409
    checked(
        s,
        &approving,
        "POST",
        "/admin/v1/grants/{id}/deny",
        &format!("/admin/v1/grants/{other}/deny"),
        None,
    )
    .await;
    checked(s, &approving, "POST", "/admin/v1/grants/{id}/deny", "/admin/v1/grants/grt_missing/deny", None)
        .await;

    // The OAuth endpoints.
    let pairs = [("grant_type", "client_credentials"), ("resource", audience.as_str())];
    let token = s
        .check(
            "POST",
            "/oauth2/token",
            oauth(&app, "/oauth2/token", &pairs, Some((&agent_id, &secret))).await,
        )
        .await;
    let token = str_field(&token, "access_token");
    let wrong = oauth(&app, "/oauth2/token", &pairs, Some((&agent_id, "wrong"))).await;
    s.check("POST", "/oauth2/token", wrong).await; // 401
    let widened = [("grant_type", "client_credentials"), ("resource", audience.as_str()), ("scope", "admin")];
    s.check(
        "POST",
        "/oauth2/token",
        oauth(&app, "/oauth2/token", &widened, Some((&agent_id, &secret))).await,
    )
    .await;
    let crm = (str_field(&resource, "client_id"), str_field(&resource, "client_secret"));
    let crm = (crm.0.as_str(), crm.1.as_str());
    let active = s
        .check(
            "POST",
            "/oauth2/introspect",
            oauth(&app, "/oauth2/introspect", &[("token", &token)], Some(crm)).await,
        )
        .await;
    assert_eq!(active["active"], true, "{active}");
    s.check("POST", "/oauth2/introspect", oauth(&app, "/oauth2/introspect", &[], Some(crm)).await).await; // 400

    // The agent revokes its token; the resource server may not.
    s.check(
        "POST",
        "/oauth2/revoke",
        oauth(&app, "/oauth2/revoke", &[("token", &token)], Some((&agent_id, &secret))).await,
    )
    .await;
    s.check("POST", "/oauth2/revoke", oauth(&app, "/oauth2/revoke", &[("token", &token)], Some(crm)).await)
        .await; // 400
    s.check("POST", "/oauth2/revoke", oauth(&app, "/oauth2/revoke", &[], None).await).await; // 400 or 401

    // Reading: the access report, the inventory, the report, who can reach the resource, the audit trail.
    let report = format!("/admin/v1/agents/{agent_id}");
    checked(s, &admin, "GET", "/admin/v1/agents/{id}", &report, None).await;
    checked(s, &admin, "GET", "/admin/v1/agents/{id}", "/admin/v1/agents/agt_missing", None).await; // 404
    checked(s, &admin, "GET", "/admin/v1/agents", "/admin/v1/agents?limit=1", None).await;
    checked(s, &admin, "GET", "/admin/v1/agents", "/admin/v1/agents?limit=0", None).await; // 400
    checked(s, &admin, "GET", "/admin/v1/inventory.csv", "/admin/v1/inventory.csv?platform=agentforce", None)
        .await;
    checked(s, &admin, "GET", "/admin/v1/report", "/admin/v1/report", None).await;
    let access = format!("/admin/v1/resources/{resource_id}/access");
    checked(s, &admin, "GET", "/admin/v1/resources/{id}/access", &access, None).await;
    checked(s, &admin, "GET", "/admin/v1/resources/{id}/access", &format!("{access}?data_class=pii"), None)
        .await;
    checked(s, &admin, "GET", "/admin/v1/resources/{id}/access", &format!("{access}?data_class=x"), None)
        .await;
    checked(s, &admin, "GET", "/admin/v1/resources/{id}/access", "/admin/v1/resources/res_x/access", None)
        .await;

    // Credentials.
    let credentials = format!("/admin/v1/agents/{agent_id}/credentials");
    let template = "/admin/v1/agents/{id}/credentials";
    let added = checked(s, &admin, "POST", template, &credentials, Some(json!({}))).await;
    checked(s, &admin, "POST", template, &credentials, Some(json!({"jwks": key.jwks()}))).await;
    checked(s, &admin, "GET", template, &credentials, None).await;
    let retire = format!("{credentials}/{}", str_field(&added, "id"));
    let template = "/admin/v1/agents/{id}/credentials/{credential}";
    checked(s, &admin, "DELETE", template, &retire, None).await;
    checked(s, &admin, "DELETE", template, &retire, None).await; // 409

    // Suspend, resume, kill, restore.
    for action in ["suspend", "resume"] {
        let template = format!("/admin/v1/agents/{{id}}/{action}");
        checked(s, &admin, "POST", &template, &format!("{report}/{action}"), None).await;
    }
    let reason = json!({"reason": "prompt injection"});
    let killed = checked(
        s,
        &admin,
        "POST",
        "/admin/v1/agents/{id}/kill",
        &format!("{report}/kill"),
        Some(reason.clone()),
    )
    .await;
    assert_eq!(killed["resources"][0]["audience"], audience.as_str(), "{killed}");
    checked(s, &admin, "POST", "/admin/v1/agents/{id}/suspend", &format!("{report}/suspend"), None).await; // 409
    let inactive = s
        .check(
            "POST",
            "/oauth2/introspect",
            oauth(&app, "/oauth2/introspect", &[("token", &token)], Some(crm)).await,
        )
        .await;
    assert_eq!(inactive, json!({"active": false}));
    checked(
        s,
        &admin,
        "POST",
        "/admin/v1/agents/{id}/restore",
        &format!("{report}/restore"),
        Some(reason.clone()),
    )
    .await;
    checked(
        s,
        &admin,
        "POST",
        "/admin/v1/agents/{id}/restore",
        &format!("{report}/restore"),
        Some(reason.clone()),
    )
    .await; // 409
    checked(s, &admin, "POST", "/admin/v1/agents/{id}/kill", "/admin/v1/agents/agt_x/kill", Some(reason))
        .await; // 404
    let selector = json!({"platform": "agentforce", "tag": "billing", "reason": "vendor incident"});
    checked(s, &admin, "POST", "/admin/v1/kill", "/admin/v1/kill", Some(selector)).await;
    checked(s, &admin, "POST", "/admin/v1/kill", "/admin/v1/kill", Some(json!({"reason": "no selector"})))
        .await; // 400

    // Revocation of the grant.
    let revoke = format!("/admin/v1/grants/{grant_id}/revoke");
    checked(s, &admin, "POST", "/admin/v1/grants/{id}/revoke", &revoke, None).await;
    checked(s, &admin, "POST", "/admin/v1/grants/{id}/revoke", &revoke, None).await; // 409

    // The audit trail.
    let page = checked(s, &admin, "GET", "/admin/v1/audit", "/admin/v1/audit?limit=2", None).await;
    assert!(page["next"].is_string(), "{page}");
    checked(s, &admin, "GET", "/admin/v1/audit", &format!("/admin/v1/audit?agent_id={agent_id}"), None).await;
    checked(s, &admin, "GET", "/admin/v1/audit", "/admin/v1/audit?since=yesterday", None).await; // 400

    // Every documented operation was answered with a success at least once.
    let succeeded: BTreeSet<(String, String)> = spec
        .seen
        .iter()
        .filter(|(_, _, status)| (200..300).contains(status))
        .map(|(method, path, _)| (method.clone(), path.clone()))
        .collect();
    let missing: Vec<_> = operations(&spec.doc)
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .filter(|operation| !succeeded.contains(operation))
        .collect();
    assert!(missing.is_empty(), "operations this test never saw succeed: {missing:?}");
}
