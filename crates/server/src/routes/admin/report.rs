//! Governance views: `GET /admin/v1/report` (counts by platform, status and
//! data class; agents with no owner; grants expiring within 14 days or
//! unused for 30) and `GET /admin/v1/resources/{id}/access` (every agent
//! that can reach a system, with which scopes and data classes). Every role
//! may read them.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{AgentStatus, DataClass, Grant, GrantStatus, Platform, Resource, Timestamp};
use warrant_store::AgentFilter;

use super::extract::{Authorized, Read};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminNotFound, AdminQuery};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

const DAY: i64 = 86_400;
/// Grants expiring within this many seconds are "expiring soon".
const EXPIRING_SOON: i64 = 14 * DAY;
/// Grants not used for this long (and approved at least this long ago) are "unused".
const UNUSED_FOR: i64 = 30 * DAY;

/// The data class of `scope` in `resource`'s catalogue.
fn class_of(resource: &Resource, scope: &str) -> Option<DataClass> {
    resource.scopes.iter().find(|d| d.name.as_str() == scope).map(|d| d.data_class)
}

#[utoipa::path(
    get,
    path = "/report",
    tag = "reports",
    operation_id = "getReport",
    summary = "The governance report",
    description = "Agent counts by platform and status; per data class, the agents that can reach it; agents without an owner; approved grants expiring within 14 days or unused for 30.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    responses(
        (status = 200, description = "The report.", body = schema::Report),
        AdminAccess,
    ),
)]
pub async fn report(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let now = state.tokens.clock.now();
    let agents = store.list_agents(&AgentFilter::default()).await?;
    let resources: BTreeMap<String, Resource> =
        store.list_resources().await?.into_iter().map(|r| (r.id.clone(), r)).collect();

    let mut by_platform: BTreeMap<&str, usize> = Platform::ALL.iter().map(|p| (p.as_str(), 0)).collect();
    let mut by_status: BTreeMap<&str, usize> = AgentStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut holders: BTreeMap<&str, BTreeSet<String>> =
        DataClass::ALL.iter().map(|c| (c.as_str(), BTreeSet::new())).collect();
    let mut without_owner = Vec::new();
    let mut expiring = Vec::new();
    let mut unused = Vec::new();
    for agent in &agents {
        *by_platform.entry(agent.platform.as_str()).or_default() += 1;
        *by_status.entry(agent.status.as_str()).or_default() += 1;
        if agent.owner.is_empty() {
            without_owner.push(json!({"agent_id": agent.id, "name": agent.name}));
        }
        for grant in store.grants_for_agent(&agent.id).await? {
            if grant.status_at(now) != GrantStatus::Approved {
                continue;
            }
            if let Some(resource) = resources.get(&grant.resource_id) {
                for scope in grant.scopes.iter() {
                    if let Some(class) = class_of(resource, scope.as_str()) {
                        holders.entry(class.as_str()).or_default().insert(agent.id.clone());
                    }
                }
            }
            if now.seconds_until(grant.expires_at) <= EXPIRING_SOON {
                expiring.push(json!({"grant_id": grant.id, "agent_id": agent.id, "resource": grant.audience,
                    "expires_at": grant.expires_at}));
            }
            if is_unused(&grant, now) {
                unused.push(json!({"grant_id": grant.id, "agent_id": agent.id, "resource": grant.audience,
                    "approved_at": grant.approved_at}));
            }
        }
    }
    let data_classes: BTreeMap<&str, usize> =
        holders.into_iter().map(|(class, agents)| (class, agents.len())).collect();
    Ok(Json(json!({
        "agents": {"total": agents.len(), "by_platform": by_platform, "by_status": by_status},
        "data_classes": data_classes,
        "agents_without_owner": without_owner,
        "grants_expiring_soon": expiring,
        "grants_unused": unused,
    })))
}

/// Approved at least [`UNUSED_FOR`] ago and no token drawn on it since then.
fn is_unused(grant: &Grant, now: Timestamp) -> bool {
    let cutoff = now.plus(-UNUSED_FOR);
    grant.approved_at.is_some_and(|at| at <= cutoff) && grant.last_used_at.is_none_or(|at| at <= cutoff)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    /// Only scopes reaching this class of data.
    #[param(value_type = Option<schema::DataClass>)]
    data_class: Option<DataClass>,
}

#[utoipa::path(
    get,
    path = "/resources/{id}/access",
    tag = "resources",
    operation_id = "getResourceAccess",
    summary = "Who can reach a resource",
    description = "Every agent holding an approved, unexpired grant on the resource, with its scopes and their data classes.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(("id" = String, Path, description = "The resource's id."), AccessQuery),
    responses(
        (status = 200, description = "The resource and the agents that can reach it.", body = schema::ResourceAccess),
        AdminQuery,
        AdminNotFound,
        AdminAccess,
    ),
)]
pub async fn access(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    Path(id): Path<String>,
    query: Result<Query<AccessQuery>, QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::InvalidRequest(e.body_text()))?;
    let store = &state.tokens.store;
    let now = state.tokens.clock.now();
    let resource =
        store.get_resource(&id).await?.ok_or_else(|| AdminError::NotFound(format!("no resource {id}")))?;
    let filter =
        AgentFilter { resource: Some(resource.audience.to_string()), at: now, ..AgentFilter::default() };
    let mut agents = Vec::new();
    for agent in store.list_agents(&filter).await? {
        let mut scopes: BTreeMap<String, Option<DataClass>> = BTreeMap::new();
        let mut earliest: Option<Timestamp> = None;
        for grant in store.grants_for_agent(&agent.id).await? {
            if grant.resource_id != resource.id || grant.status_at(now) != GrantStatus::Approved {
                continue;
            }
            let mut contributes = false;
            for scope in grant.scopes.iter() {
                let class = class_of(&resource, scope.as_str());
                if query.data_class.is_none_or(|wanted| class == Some(wanted)) {
                    scopes.insert(scope.to_string(), class);
                    contributes = true;
                }
            }
            if contributes {
                earliest = Some(earliest.map_or(grant.expires_at, |e| e.min(grant.expires_at)));
            }
        }
        if scopes.is_empty() {
            continue;
        }
        let scopes: Vec<Value> =
            scopes.into_iter().map(|(name, class)| json!({"name": name, "data_class": class})).collect();
        agents.push(json!({
            "agent_id": agent.id, "name": agent.name, "platform": agent.platform, "status": agent.status,
            "owner": agent.owner, "scopes": scopes, "expires_at": earliest,
        }));
    }
    Ok(Json(json!({
        "resource": {"id": resource.id, "name": resource.name, "kind": resource.kind, "audience": resource.audience},
        "agents": agents,
    })))
}
