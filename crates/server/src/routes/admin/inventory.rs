//! The inventory: `GET /admin/v1/agents` (filtered by platform, vendor,
//! status, owner, tag and resource reached; paged with a cursor) and
//! `GET /admin/v1/inventory.csv` (the same rows for spreadsheets). Every
//! role may read them.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{Agent, AgentStatus, GrantStatus, Platform, Timestamp};
use warrant_store::AgentFilter;

use super::extract::{Authorized, Read};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminQuery};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    #[param(value_type = Option<schema::Platform>)]
    platform: Option<Platform>,
    #[param(value_type = Option<schema::AgentStatus>)]
    status: Option<AgentStatus>,
    owner: Option<String>,
    vendor: Option<String>,
    tag: Option<String>,
    /// An audience: agents holding an approved, unexpired grant on it.
    resource: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

impl InventoryQuery {
    fn filter(self, now: Timestamp) -> Result<(AgentFilter, i64), AdminError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AdminError::InvalidRequest(format!("limit must be 1 to {MAX_LIMIT}")));
        }
        let after = self
            .cursor
            .map(|cursor| {
                let (at, id) = cursor.split_once(':').ok_or(())?;
                Ok::<_, ()>((Timestamp(at.parse().map_err(|_| ())?), id.to_owned()))
            })
            .transpose()
            .map_err(|()| AdminError::InvalidRequest("cursor is not one this API gave".into()))?;
        let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
        let filter = AgentFilter {
            platform: self.platform,
            status: self.status,
            owner: nonempty(self.owner),
            vendor: nonempty(self.vendor),
            tag: nonempty(self.tag),
            resource: nonempty(self.resource),
            at: now,
            after,
            limit: None,
        };
        Ok((filter, limit))
    }
}

#[utoipa::path(
    get,
    path = "/agents",
    tag = "agents",
    operation_id = "listAgents",
    summary = "The agent inventory",
    description = "Agents matching every given filter, oldest first, paged: pass the answer's `next` as `cursor`. Unknown query parameters are refused.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(InventoryQuery),
    responses(
        (status = 200, description = "A page of agents.", body = schema::AgentPage),
        AdminQuery,
        AdminAccess,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    query: Result<Query<InventoryQuery>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::InvalidRequest(e.body_text()))?;
    let (filter, limit) = query.filter(state.tokens.clock.now())?;
    // One more than asked tells whether another page follows.
    let mut agents =
        state.tokens.store.list_agents(&AgentFilter { limit: Some(limit + 1), ..filter }).await?;
    let more = agents.len() as i64 > limit;
    agents.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| agents.last().map(|a| format!("{}:{}", a.created_at.unix(), a.id))).flatten();
    Ok(Json(json!({"agents": agents, "next": next})))
}

const CSV_HEADER: &str = "id,name,platform,vendor,owner,purpose,environment,acts_on_behalf_of,tags,status,\
                          created_by,created_at,last_token_at,last_token_resource,resources";

#[utoipa::path(
    get,
    path = "/inventory.csv",
    tag = "agents",
    operation_id = "inventoryCsv",
    summary = "The agent inventory as CSV",
    description = "The inventory for spreadsheets (RFC 4180, CRLF line ends), one row per agent with the audiences it can reach. The filters are those of `GET /admin/v1/agents`; `limit` is checked but every matching agent is listed. A field starting with `=`, `+`, `-` or `@` is prefixed with `'`.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(InventoryQuery),
    responses(
        (status = 200, description = "The CSV file.", content_type = "text/csv; charset=utf-8", body = String, headers(("Content-Disposition" = String, description = "`attachment; filename=\"warrant-inventory.csv\"`")), example = json!("id,name,platform,vendor,owner,purpose,environment,acts_on_behalf_of,tags,status,created_by,created_at,last_token_at,last_token_resource,resources\r\n")),
        AdminQuery,
        AdminAccess,
    ),
)]
pub async fn csv(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    query: Result<Query<InventoryQuery>, QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::InvalidRequest(e.body_text()))?;
    let now = state.tokens.clock.now();
    let (filter, _) = query.filter(now)?;
    let store = &state.tokens.store;
    let agents = store.list_agents(&filter).await?;
    let mut reach: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for agent in &agents {
        for grant in store.grants_for_agent(&agent.id).await? {
            if grant.status_at(now) == GrantStatus::Approved {
                reach.entry(agent.id.clone()).or_default().insert(grant.audience.to_string());
            }
        }
    }
    let mut body = String::from(CSV_HEADER);
    body.push_str("\r\n");
    for agent in &agents {
        let resources: Vec<&str> =
            reach.get(&agent.id).map(|r| r.iter().map(String::as_str).collect()).unwrap_or_default();
        body.push_str(&csv_row(agent, &resources));
        body.push_str("\r\n");
    }
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"warrant-inventory.csv\""),
    ];
    Ok((headers, body).into_response())
}

fn csv_row(agent: &Agent, resources: &[&str]) -> String {
    let last = agent.last_token.as_ref();
    let fields = [
        agent.id.clone(),
        agent.name.clone(),
        agent.platform.to_string(),
        agent.vendor.clone(),
        agent.owner.clone(),
        agent.purpose.clone(),
        agent.environment.clone(),
        agent.acts_on_behalf_of.to_string(),
        agent.tags.join(";"),
        agent.status.to_string(),
        agent.created_by.clone(),
        agent.created_at.to_rfc3339(),
        last.map(|l| l.at.to_rfc3339()).unwrap_or_default(),
        last.map(|l| l.resource.clone()).unwrap_or_default(),
        resources.join(";"),
    ];
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
}

/// RFC 4180: quote a field holding a comma, quote or line break; double
/// its quotes. A leading `=`, `+`, `-` or `@` is prefixed with `'` so that
/// a spreadsheet does not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
