//! The kill switch (DESIGN.md "Kill switch"): `POST
//! /admin/v1/agents/{id}/kill`, `POST /admin/v1/kill` (every agent matching a
//! selector) and `POST /admin/v1/agents/{id}/restore`; roles `responder`
//! and `admin`.
//!
//! Order of a kill: the denylist first (it takes effect on every instance
//! the moment Redis publishes it), then the database (the source of truth),
//! and only then the answer. If the denylist cannot be written, nothing is.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{Agent, GrantStatus, Platform, ScopeSet, Timestamp};
use warrant_store::AgentFilter;

use super::agents::shown_agent;
use super::extract::{AdminJson, Authorized, Respond};
use super::{agent_or_404, audit, text};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminConflict, AdminJsonBody, AdminNotFound};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// Why: recorded in the kill history and the audit trail.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    reason: String,
}

/// Which agents to kill (all given selectors must match) and why.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[schema(value_type = Option<schema::Platform>)]
    platform: Option<Platform>,
    vendor: Option<String>,
    tag: Option<String>,
    reason: String,
}

#[utoipa::path(
    post,
    path = "/agents/{id}/kill",
    tag = "kill switch",
    operation_id = "killAgent",
    summary = "Kill an agent",
    description = "Every token the agent holds becomes inactive at once, everywhere, and it gets no new one until restored. The denylist is written first, then the database; the answer comes once both hold the kill.",
    security(("adminToken" = ["responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    request_body = Reason,
    responses(
        (status = 200, description = "The kill, with every resource the agent could reach.", body = schema::Killed),
        AdminJsonBody,
        AdminNotFound,
        AdminAccess,
    ),
)]
pub async fn kill(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<Reason>,
) -> Result<Json<Value>, AdminError> {
    let reason = text("reason", &body.reason, true)?;
    let agent = agent_or_404(&state, &id).await?;
    let (killed_at, mut killed) = kill_agents(&state, vec![agent], &reason, &caller.operator_id).await?;
    let resources = killed.pop().map(|(_, resources)| resources).unwrap_or_default();
    Ok(Json(json!({"agent_id": id, "killed_at": killed_at, "reason": reason, "resources": resources})))
}

#[utoipa::path(
    post,
    path = "/kill",
    tag = "kill switch",
    operation_id = "killMatching",
    summary = "Kill every agent matching a selector",
    description = "Kills every agent matching all the given selectors (at least one of `platform`, `vendor`, `tag`).",
    security(("adminToken" = ["responder", "admin"])),
    request_body = Selector,
    responses(
        (status = 200, description = "The agents killed (possibly none) and what each could reach.", body = schema::BulkKilled),
        AdminJsonBody,
        AdminAccess,
    ),
)]
pub async fn kill_matching(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    AdminJson(body): AdminJson<Selector>,
) -> Result<Json<Value>, AdminError> {
    let reason = text("reason", &body.reason, true)?;
    if body.platform.is_none() && body.vendor.is_none() && body.tag.is_none() {
        return Err(AdminError::InvalidRequest("give at least one of platform, vendor or tag".into()));
    }
    let filter =
        AgentFilter { platform: body.platform, vendor: body.vendor, tag: body.tag, ..AgentFilter::default() };
    let agents = state.tokens.store.list_agents(&filter).await?;
    let (killed_at, killed) = kill_agents(&state, agents, &reason, &caller.operator_id).await?;
    let agents: Vec<Value> = killed
        .into_iter()
        .map(|(agent_id, resources)| json!({"agent_id": agent_id, "resources": resources}))
        .collect();
    Ok(Json(json!({"killed_at": killed_at, "reason": reason, "agents": agents})))
}

#[utoipa::path(
    post,
    path = "/agents/{id}/restore",
    tag = "kill switch",
    operation_id = "restoreAgent",
    summary = "Restore a killed agent",
    description = "New tokens work again; tokens issued before the kill stay dead.",
    security(("adminToken" = ["responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    request_body = Reason,
    responses(
        (status = 200, description = "The agent, now active.", body = schema::AgentWithAuthMethod),
        AdminJsonBody,
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn restore(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<Reason>,
) -> Result<Json<Value>, AdminError> {
    let reason = text("reason", &body.reason, true)?;
    let store = &state.tokens.store;
    let agent = agent_or_404(&state, &id).await?;
    let now = state.tokens.clock.now();
    if !store.restore_agent(&id, now, &caller.operator_id, &reason).await? {
        return Err(AdminError::Conflict(format!("the agent is {}, not killed", agent.status)));
    }
    state.metrics.restored();
    tracing::warn!(agent_id = %id, actor = %caller.operator_id, reason = %reason, "agent restored");
    audit(&state, &caller.operator_id, "agent.restored", Some(&id), None, json!({"reason": reason})).await?;
    let credentials = store.credentials_for_client(&agent.client_id).await?;
    let restored = store.get_agent(&id).await?.unwrap_or(agent);
    Ok(Json(shown_agent(&restored, &credentials)))
}

/// Kills `agents` now: denylist, then database. Returns the kill time and,
/// per agent, every resource it could reach (`[{audience, scopes}]`).
async fn kill_agents(
    state: &AppState,
    agents: Vec<Agent>,
    reason: &str,
    actor: &str,
) -> Result<(Timestamp, Vec<(String, Vec<Value>)>), AdminError> {
    let now = state.tokens.clock.now();
    if agents.is_empty() {
        return Ok((now, Vec::new()));
    }
    let ids: Vec<String> = agents.iter().map(|a| a.id.clone()).collect();
    state.denylist.kill(&ids, now).await.map_err(AdminError::Unavailable)?;
    state.tokens.store.kill_agents(&ids, now, actor, reason).await?;
    state.metrics.killed(ids.len());
    let mut killed = Vec::with_capacity(ids.len());
    for id in ids {
        tracing::warn!(agent_id = %id, actor, reason, "agent killed");
        let mut reach: BTreeMap<String, ScopeSet> = BTreeMap::new();
        for grant in state.tokens.store.grants_for_agent(&id).await? {
            if grant.status_at(now) == GrantStatus::Approved {
                reach.entry(grant.audience.to_string()).or_default().extend(&grant.scopes);
            }
        }
        let resources: Vec<Value> = reach
            .into_iter()
            .map(|(audience, scopes)| json!({"audience": audience, "scopes": scopes}))
            .collect();
        let detail = json!({"reason": reason, "killed_at": now, "resources": resources});
        audit(state, actor, "agent.killed", Some(&id), None, detail).await?;
        killed.push((id, resources));
    }
    Ok((now, killed))
}
