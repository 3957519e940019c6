//! The harness for the issue-3 surface: `TestApp` methods for introspection
//! (RFC 7662), revocation (RFC 7009) and the kill switch, and assertions on
//! their answers.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    access_token, agent_body, basic_header, created, form, json_with_status, str_field, Agent, Granted,
    Operator, Resource, TestApp, FORM,
};

impl TestApp {
    /// POST /oauth2/introspect with exactly these form pairs.
    pub async fn introspect_form(&self, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.oauth_form("/oauth2/introspect", pairs, basic).await
    }

    /// POST /oauth2/introspect by a client authenticated with client_secret_basic.
    pub async fn introspect(&self, client_id: &str, secret: &str, token: &str) -> Response {
        self.introspect_form(&[("token", token)], Some((client_id, secret))).await
    }

    /// Introspects `token` as `resource`; asserts 200 with `Cache-Control:
    /// no-store` and returns the JSON answer.
    pub async fn introspection(&self, resource: &Resource, token: &str) -> Value {
        let response = self.introspect(&resource.client_id, &resource.secret, token).await;
        introspection_answer(response).await
    }

    /// Asserts that `resource` sees `token` as active; returns the answer.
    pub async fn assert_active(&self, resource: &Resource, token: &str) -> Value {
        let answer = self.introspection(resource, token).await;
        assert_eq!(answer["active"], true, "expected an active token at {}, got {answer}", self.addr);
        answer
    }

    /// Asserts that `resource` sees `token` as inactive: `{"active":false}` and nothing else.
    pub async fn assert_inactive(&self, resource: &Resource, token: &str) {
        let answer = self.introspection(resource, token).await;
        assert_eq!(answer, json!({"active": false}), "expected an inactive token at {}", self.addr);
    }

    /// POST /oauth2/revoke with exactly these form pairs.
    pub async fn revoke_form(&self, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        self.oauth_form("/oauth2/revoke", pairs, basic).await
    }

    /// POST /oauth2/revoke by a client authenticated with client_secret_basic.
    /// (`revoke` is the admin API's grant revocation.)
    pub async fn revoke_token(&self, client_id: &str, secret: &str, token: &str) -> Response {
        self.revoke_form(&[("token", token)], Some((client_id, secret))).await
    }

    async fn oauth_form(&self, path: &str, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        let mut request =
            self.client.post(self.url(path)).header(reqwest::header::CONTENT_TYPE, FORM).body(form(pairs));
        if let Some((id, secret)) = basic {
            request = request.header(reqwest::header::AUTHORIZATION, basic_header(id, secret));
        }
        request.send().await.unwrap_or_else(|e| panic!("{path} answers: {e}"))
    }

    /// POST /admin/v1/agents/{id}/kill.
    pub async fn kill(&self, token: &str, agent_id: &str, reason: &str) -> Response {
        self.admin_post(&format!("/agents/{agent_id}/kill"), token, &json!({ "reason": reason })).await
    }

    /// POST /admin/v1/agents/{id}/restore.
    pub async fn restore(&self, token: &str, agent_id: &str, reason: &str) -> Response {
        self.admin_post(&format!("/agents/{agent_id}/restore"), token, &json!({ "reason": reason })).await
    }

    /// POST /admin/v1/kill with a selector body.
    pub async fn bulk_kill(&self, token: &str, body: &Value) -> Response {
        self.admin_post("/kill", token, body).await
    }

    /// Kills an agent as the bootstrap admin, asserting 200; returns the answer.
    pub async fn kill_ok(&self, agent_id: &str, reason: &str) -> Value {
        json_with_status(self.kill(&self.admin_token, agent_id, reason).await, StatusCode::OK).await
    }

    /// GET /admin/v1/agents/{id} as the bootstrap admin, asserting 200.
    pub async fn agent_report(&self, agent_id: &str) -> Value {
        let response = self.admin_get(&format!("/agents/{agent_id}"), &self.admin_token).await;
        json_with_status(response, StatusCode::OK).await
    }

    /// A fresh access token of a secret-holding agent for `audience`.
    pub async fn token_for(&self, client_id: &str, secret: &str, audience: &str) -> String {
        access_token(self.token_with_basic(client_id, secret, &[("resource", audience)]).await).await
    }

    /// A fresh access token of `granted`'s agent for its resource.
    pub async fn granted_token(&self, granted: &Granted) -> String {
        self.token_for(&granted.agent.client_id, granted.secret(), &granted.resource.audience).await
    }

    /// Registers an agent with these inventory fields (as the bootstrap admin)
    /// and grants it `scopes` on `resource` (requested by the admin, approved by `approver`).
    pub async fn agent_with(
        &self,
        fields: &[(&str, Value)],
        resource: &Resource,
        scopes: &[&str],
        approver: &Operator,
    ) -> Agent {
        let mut body = agent_body(None);
        for (name, value) in fields {
            body[*name] = value.clone();
        }
        let created = created(self.admin_post("/agents", &self.admin_token, &body).await).await;
        let agent = Agent {
            id: str_field(&created, "id"),
            client_id: str_field(&created, "client_id"),
            secret: created["client_secret"].as_str().map(str::to_owned),
        };
        let grant = self.grant_body(&resource.audience, scopes, 86_400, None);
        let grant = created_grant(self, &agent.id, &grant).await;
        let approved = self.approve(&approver.token, &grant).await;
        assert_eq!(approved.status(), StatusCode::OK, "approving {grant}");
        agent
    }
}

async fn created_grant(app: &TestApp, agent_id: &str, body: &Value) -> String {
    let grant = created(app.request_grant(&app.admin_token, agent_id, body).await).await;
    str_field(&grant, "id")
}

/// Asserts a 200 introspection answer with `Cache-Control: no-store`; returns its JSON.
pub async fn introspection_answer(response: Response) -> Value {
    let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer = json_with_status(response, StatusCode::OK).await;
    assert!(
        cache.as_deref().is_some_and(|v| v.contains("no-store")),
        "Cache-Control: no-store on an introspection answer, got {cache:?}"
    );
    answer
}

/// Unix seconds of an RFC 3339 UTC timestamp field.
pub fn unix_of(value: &Value, field: &str) -> i64 {
    let text = value[field].as_str().unwrap_or_else(|| panic!("{field} is a string in {value}"));
    assert!(text.ends_with('Z'), "{field} is RFC 3339 UTC: {text}");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{field} is RFC 3339: {text}: {e}"))
        .unix_timestamp()
}

/// `resources` of a kill answer as sorted `(audience, sorted scopes)` pairs.
pub fn reached(resources: &Value) -> Vec<(String, Vec<String>)> {
    let mut reached: Vec<(String, Vec<String>)> = resources
        .as_array()
        .unwrap_or_else(|| panic!("resources is an array: {resources}"))
        .iter()
        .map(|entry| {
            let mut scopes: Vec<String> = entry["scopes"]
                .as_array()
                .unwrap_or_else(|| panic!("scopes is an array: {entry}"))
                .iter()
                .map(|scope| scope.as_str().expect("a scope name").to_owned())
                .collect();
            scopes.sort();
            (str_field(entry, "audience"), scopes)
        })
        .collect();
    reached.sort();
    reached
}

/// A (audience, scopes) pair as `reached` returns it.
pub fn reach(audience: &str, scopes: &[&str]) -> (String, Vec<String>) {
    (audience.to_owned(), scopes.iter().map(|s| (*s).to_owned()).collect())
}
