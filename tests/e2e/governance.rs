//! The harness for the issue-4 surface (governance): `TestApp` methods for the
//! inventory and its paging, the report, the access of a resource, the
//! credentials of an agent, and a small RFC 4180 reader for the CSV export.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    created, json_with_status, str_field, Agent, Operator, Resource, TestApp, ADMIN_AUDIENCE,
    BOOTSTRAP_ADMIN_ID,
};

/// Every data class of the contract.
pub const CLASSES: [&str; 5] = ["public", "internal", "pii", "payment", "credentials"];

impl TestApp {
    /// DELETE /admin/v1{path} with a bearer token.
    pub async fn admin_delete(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(&format!("/admin/v1{path}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("the admin API answers")
    }

    /// Gets a fresh token for the bootstrap admin (after the clock moved past
    /// the old one's expiry).
    pub async fn renew_admin_token(&mut self) {
        let secret = self.admin_secret.clone();
        self.admin_token =
            self.operator_token(BOOTSTRAP_ADMIN_ID, &secret, &[("resource", ADMIN_AUDIENCE)]).await;
    }

    /// Gets a fresh token for `operator`.
    pub async fn renew(&self, operator: &mut Operator) {
        operator.token =
            self.operator_token(&operator.client_id, &operator.secret, &[("resource", ADMIN_AUDIENCE)]).await;
    }

    /// Registers a resource whose scopes are `(name, data_class)` pairs.
    pub async fn create_classified_resource(
        &self,
        name: &str,
        kind: &str,
        scopes: &[(&str, &str)],
    ) -> Resource {
        let scopes: Vec<Value> = scopes
            .iter()
            .map(|(scope, class)| json!({"name": scope, "description": format!("{scope} data"), "data_class": class}))
            .collect();
        let audience = crate::helpers::unique_audience();
        let body = json!({"name": name, "kind": kind, "audience": audience, "scopes": scopes});
        let created = created(self.admin_post("/resources", &self.admin_token, &body).await).await;
        Resource {
            id: str_field(&created, "id"),
            audience: str_field(&created, "audience"),
            client_id: str_field(&created, "client_id"),
            secret: str_field(&created, "client_secret"),
        }
    }

    /// Registers an agent from a full body; returns it with its secret.
    pub async fn register_agent(&self, token: &str, body: &Value) -> Agent {
        let created = created(self.admin_post("/agents", token, body).await).await;
        Agent {
            id: str_field(&created, "id"),
            client_id: str_field(&created, "client_id"),
            secret: created["client_secret"].as_str().map(str::to_owned),
        }
    }

    /// Requests a grant as `requester`; returns the grant's id.
    pub async fn requested_grant(&self, requester: &Operator, agent_id: &str, body: &Value) -> String {
        str_field(&created(self.request_grant(&requester.token, agent_id, body).await).await, "id")
    }

    /// Approves a grant, asserting 200; returns the answer.
    pub async fn approve_ok(&self, approver: &Operator, grant_id: &str) -> Value {
        json_with_status(self.approve(&approver.token, grant_id).await, StatusCode::OK).await
    }

    /// POST /admin/v1/agents/{id}/suspend as the bootstrap admin, asserting 200.
    pub async fn suspend_ok(&self, agent_id: &str) {
        let response =
            self.admin_post(&format!("/agents/{agent_id}/suspend"), &self.admin_token, &json!({})).await;
        let answer = json_with_status(response, StatusCode::OK).await;
        assert_eq!(answer["status"], "suspended", "{answer}");
    }

    /// GET /admin/v1/agents{query} as the bootstrap admin, asserting 200.
    pub async fn agents_page(&self, query: &str) -> Value {
        let response = self.admin_get(&format!("/agents{query}"), &self.admin_token).await;
        json_with_status(response, StatusCode::OK).await
    }

    /// The ids of the agents listed by one unpaged request (limit 500).
    pub async fn listed_ids(&self, filters: &str) -> Vec<String> {
        let page = self.agents_page(&format!("?limit=500{filters}")).await;
        assert!(page["next"].is_null(), "one page holds every agent of {filters}: {page}");
        ids(&page["agents"], "id")
    }

    /// The ids of the agents listed page by page, `limit` at a time, following
    /// `next` (at most `bound` pages); asserts no page is over `limit`.
    /// Returns the ids and the number of pages.
    pub async fn paged_ids(&self, filters: &str, limit: usize, bound: usize) -> (Vec<String>, usize) {
        let mut listed = Vec::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let page = self.agents_page(&format!("?limit={limit}{filters}{cursor}")).await;
            pages += 1;
            let agents = ids(&page["agents"], "id");
            assert!(agents.len() <= limit, "a page of {limit} holds {} agents: {page}", agents.len());
            listed.extend(agents);
            match page["next"].as_str() {
                Some(next) => cursor = format!("&cursor={}", encode(next)),
                None => break,
            }
            assert!(pages <= bound, "paging {filters:?} by {limit} goes past {bound} pages");
        }
        (listed, pages)
    }

    /// GET /admin/v1/report as the bootstrap admin, asserting 200.
    pub async fn governance_report(&self) -> Value {
        json_with_status(self.admin_get("/report", &self.admin_token).await, StatusCode::OK).await
    }

    /// GET /admin/v1/resources/{id}/access[?data_class=] as the bootstrap admin, asserting 200.
    pub async fn resource_access(&self, resource_id: &str, data_class: Option<&str>) -> Value {
        let query = data_class.map(|class| format!("?data_class={class}")).unwrap_or_default();
        let response =
            self.admin_get(&format!("/resources/{resource_id}/access{query}"), &self.admin_token).await;
        json_with_status(response, StatusCode::OK).await
    }

    /// GET /admin/v1/inventory.csv{query}: asserts 200 and `text/csv`; returns the text.
    pub async fn inventory_csv(&self, query: &str) -> String {
        let response = self.admin_get(&format!("/inventory.csv{query}"), &self.admin_token).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("a body");
        assert_eq!(status, StatusCode::OK, "body: {text}");
        assert!(content_type.starts_with("text/csv"), "Content-Type text/csv, got {content_type:?}");
        text
    }

    /// GET /admin/v1/agents/{id}/credentials with `token`.
    pub async fn credentials(&self, token: &str, agent_id: &str) -> Response {
        self.admin_get(&format!("/agents/{agent_id}/credentials"), token).await
    }

    /// POST /admin/v1/agents/{id}/credentials, with a JWK Set or for a secret.
    pub async fn add_credential(&self, token: &str, agent_id: &str, jwks: Option<Value>) -> Response {
        let body = jwks.map_or_else(|| json!({}), |jwks| json!({ "jwks": jwks }));
        self.admin_post(&format!("/agents/{agent_id}/credentials"), token, &body).await
    }

    /// DELETE /admin/v1/agents/{id}/credentials/{cred}.
    pub async fn retire_credential(&self, token: &str, agent_id: &str, credential_id: &str) -> Response {
        self.admin_delete(&format!("/agents/{agent_id}/credentials/{credential_id}"), token).await
    }
}

/// `field` of every object in a JSON array.
pub fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|item| str_field(item, field))
        .collect()
}

/// A query-string value, percent-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Unix seconds of an RFC 3339 string.
pub fn unix(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("RFC 3339: {text}: {e}"))
        .unix_timestamp()
}

/// Unix seconds of an RFC 3339 field, or None when the field is null.
pub fn unix_or_null(value: &Value) -> Option<i64> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(unix(text)),
        other => panic!("an RFC 3339 string or null: {other}"),
    }
}

/// Reads RFC 4180 CSV (CRLF or LF line ends, quoted fields with doubled quotes).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    assert!(!quoted, "an unterminated quoted field in the CSV");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
