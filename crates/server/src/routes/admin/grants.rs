//! Grant requests and decisions: `POST /admin/v1/agents/{id}/grants`
//! (roles `requester`, `admin`), `POST /admin/v1/grants/{id}/approve` and
//! `/deny` (`approver`, `admin`; never one's own request), and `/revoke`
//! (`approver`, `responder`, `admin`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{
    approvals_required, Audience, Grant, GrantAction, GrantStatus, Scope, ScopeSet, Timestamp,
};

use super::extract::{AdminJson, Authorized, DecideGrants, ManageAgents, RevokeGrants};
use super::{agent_or_404, audit, text};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminConflict, AdminJsonBody, AdminNotFound};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// Longest `max_token_ttl` a grant may set, in seconds.
const MAX_TOKEN_TTL: i64 = 86_400;

/// A grant as the API shows it, with its status as of `now`.
pub fn shown(grant: Grant, now: Timestamp) -> Value {
    let status = grant.status_at(now);
    json!(Grant { status, ..grant })
}

/// Scopes requested on one resource for an agent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The resource's audience.
    #[schema(value_type = schema::Audience)]
    resource: Audience,
    #[schema(value_type = Vec<schema::Scope>, min_items = 1)]
    scopes: Vec<Scope>,
    justification: String,
    #[schema(value_type = schema::Timestamp)]
    expires_at: Timestamp,
    /// Upper bound on the lifetime of tokens drawing on the grant, 1 to 86,400 seconds.
    #[schema(minimum = 1, maximum = 86_400)]
    max_token_ttl: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/agents/{id}/grants",
    tag = "grants",
    operation_id = "requestGrant",
    summary = "Request scopes on a resource for an agent",
    description = "The scopes must be in the resource's catalogue; `expires_at` in the future and within `WARRANT_GRANT_MAX_LIFETIME`. A grant reaching `payment` or `credentials` data needs two approvers.",
    security(("adminToken" = ["requester", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    request_body = GrantRequest,
    responses(
        (status = 201, description = "The grant, `requested`.", body = schema::Grant),
        AdminJsonBody,
        AdminNotFound,
        AdminAccess,
    ),
)]
pub async fn request(
    State(state): State<AppState>,
    caller: Authorized<ManageAgents>,
    Path(agent_id): Path<String>,
    AdminJson(body): AdminJson<GrantRequest>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let store = &state.tokens.store;
    let now = state.tokens.clock.now();
    let agent = agent_or_404(&state, &agent_id).await?;
    let resource = store.get_resource_by_audience(&body.resource).await?.ok_or_else(|| {
        AdminError::InvalidRequest(format!("no resource has the audience {}", body.resource))
    })?;
    if body.scopes.is_empty() {
        return Err(AdminError::InvalidRequest("scopes must list at least one scope".into()));
    }
    let scopes: ScopeSet = body.scopes.into_iter().collect();
    let unknown: Vec<&str> =
        scopes.iter().filter(|s| !resource.scopes.iter().any(|d| &d.name == *s)).map(Scope::as_str).collect();
    if !unknown.is_empty() {
        return Err(AdminError::InvalidRequest(format!(
            "not in the catalogue of {}: {}",
            resource.audience,
            unknown.join(" ")
        )));
    }
    if body.expires_at <= now {
        return Err(AdminError::InvalidRequest("expires_at must be in the future".into()));
    }
    let max_lifetime = state.governance.grant_max_lifetime;
    if now.seconds_until(body.expires_at) > max_lifetime {
        return Err(AdminError::InvalidRequest(format!(
            "expires_at is further than the longest grant allowed ({max_lifetime} s, WARRANT_GRANT_MAX_LIFETIME)"
        )));
    }
    let classes =
        scopes.iter().filter_map(|s| resource.scopes.iter().find(|d| &d.name == s).map(|d| d.data_class));
    let approvals_required = approvals_required(classes);
    if body.max_token_ttl.is_some_and(|ttl| !(1..=MAX_TOKEN_TTL).contains(&ttl)) {
        return Err(AdminError::InvalidRequest(format!(
            "max_token_ttl must be 1 to {MAX_TOKEN_TTL} seconds"
        )));
    }
    let grant = Grant {
        id: warrant_issuer::new_id("grt"),
        agent_id: agent.id,
        resource_id: resource.id,
        audience: resource.audience,
        scopes,
        justification: text("justification", &body.justification, true)?,
        status: GrantStatus::Requested,
        requested_by: caller.operator_id,
        requested_at: now,
        approvals: Vec::new(),
        approvals_required,
        approved_by: None,
        approved_at: None,
        denied_by: None,
        denied_at: None,
        revoked_by: None,
        revoked_at: None,
        expires_at: body.expires_at,
        max_token_ttl: body.max_token_ttl,
        last_used_at: None,
    };
    store.insert_grant(&grant).await?;
    tracing::info!(grant_id = %grant.id, agent_id = %grant.agent_id, aud = %grant.audience, "grant requested");
    let detail = json!({"grant_id": grant.id, "scopes": grant.scopes, "justification": grant.justification,
        "expires_at": grant.expires_at, "max_token_ttl": grant.max_token_ttl});
    audit(
        &state,
        &grant.requested_by,
        "grant.requested",
        Some(&grant.agent_id),
        Some(grant.audience.as_str()),
        detail,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(shown(grant, now))))
}

#[utoipa::path(
    post,
    path = "/grants/{id}/approve",
    tag = "grants",
    operation_id = "approveGrant",
    summary = "Approve a grant",
    description = "Records the caller's approval; never the requester's (403). A grant needing two approvals stays `requested` after the first.",
    security(("adminToken" = ["approver", "admin"])),
    params(("id" = String, Path, description = "The grant's id.")),
    responses(
        (status = 200, description = "The grant after the approval.", body = schema::Grant),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Authorized<DecideGrants>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    decide(&state, &id, GrantAction::Approve, &caller.operator_id).await
}

#[utoipa::path(
    post,
    path = "/grants/{id}/deny",
    tag = "grants",
    operation_id = "denyGrant",
    summary = "Deny a grant request",
    description = "Never by the requester (403).",
    security(("adminToken" = ["approver", "admin"])),
    params(("id" = String, Path, description = "The grant's id.")),
    responses(
        (status = 200, description = "The grant, `denied`.", body = schema::Grant),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn deny(
    State(state): State<AppState>,
    caller: Authorized<DecideGrants>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    decide(&state, &id, GrantAction::Deny, &caller.operator_id).await
}

#[utoipa::path(
    post,
    path = "/grants/{id}/revoke",
    tag = "grants",
    operation_id = "revokeGrant",
    summary = "Revoke an approved grant",
    description = "The agent's live tokens for that resource become inactive at once (the denylist is written first).",
    security(("adminToken" = ["approver", "responder", "admin"])),
    params(("id" = String, Path, description = "The grant's id.")),
    responses(
        (status = 200, description = "The grant, `revoked`.", body = schema::Grant),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Authorized<RevokeGrants>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    decide(&state, &id, GrantAction::Revoke, &caller.operator_id).await
}

/// Applies `action` through the policy's state machine and writes it with a
/// compare-and-set on the status read.
async fn decide(
    state: &AppState,
    id: &str,
    action: GrantAction,
    actor: &str,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let now = state.tokens.clock.now();
    let grant = store.get_grant(id).await?.ok_or_else(|| AdminError::NotFound(format!("no grant {id}")))?;
    let next = grant.apply(action, actor, now)?;
    if action == GrantAction::Revoke {
        // The agent's live tokens for this resource die now, not at expiry.
        state
            .denylist
            .revoke_grant(&grant.agent_id, grant.audience.as_str(), now)
            .await
            .map_err(AdminError::Unavailable)?;
    }
    if !store.update_grant(&next, &grant).await? {
        return Err(AdminError::Conflict("the grant changed meanwhile; read it again".into()));
    }
    tracing::info!(grant_id = %id, action = action.as_str(), actor, "grant decided");
    let detail = json!({"grant_id": id, "scopes": next.scopes});
    // The first of two approvals leaves the grant requested.
    let name = match (action, next.status) {
        (GrantAction::Approve, GrantStatus::Requested) => "grant.approval_recorded".to_owned(),
        (_, status) => format!("grant.{status}"),
    };
    audit(state, actor, &name, Some(&next.agent_id), Some(next.audience.as_str()), detail).await?;
    Ok(Json(shown(next, now)))
}
