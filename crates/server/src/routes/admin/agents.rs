//! `POST /admin/v1/agents` (roles `requester`, `admin`), `GET
//! /admin/v1/agents/{id}` (the access report: the agent, each grant with its
//! resource, scopes and data classes, who requested and approved it, its
//! expiry; credentials; kill history), and suspend / resume.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{
    ActsOnBehalfOf, Agent, AgentStatus, ClientId, Credential, CredentialMethod, Platform, Resource,
};

use super::extract::{AdminJson, Authorized, ManageAgents, Read, Respond};
use super::{agent_or_404, audit, text};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminConflict, AdminJsonBody, AdminNotFound};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// Most tags an agent may carry.
const MAX_TAGS: usize = 32;

/// An agent to register. Free-text fields are trimmed, at most 2,000
/// characters; at most 32 tags.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    name: String,
    #[schema(value_type = schema::Platform)]
    platform: Platform,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    environment: String,
    #[serde(default = "nobody")]
    #[schema(value_type = schema::ActsOnBehalfOf, default = "none")]
    acts_on_behalf_of: ActsOnBehalfOf,
    #[serde(default)]
    tags: Vec<String>,
    /// The agent's public JWK Set, for `private_key_jwt`.
    #[schema(value_type = Option<Object>)]
    jwks: Option<Value>,
}

fn nobody() -> ActsOnBehalfOf {
    ActsOnBehalfOf::Nobody
}

#[utoipa::path(
    post,
    path = "/agents",
    tag = "agents",
    operation_id = "createAgent",
    summary = "Register an agent",
    description = "With a `jwks` the agent authenticates with `private_key_jwt`; without one it is given a client secret, shown once.",
    security(("adminToken" = ["requester", "admin"])),
    request_body = NewAgent,
    responses(
        (status = 201, description = "The agent; `client_secret` only when registered without a `jwks`.", body = schema::AgentCreated),
        AdminJsonBody,
        AdminAccess,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<ManageAgents>,
    AdminJson(body): AdminJson<NewAgent>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    if body.tags.len() > MAX_TAGS {
        return Err(AdminError::InvalidRequest(format!("at most {MAX_TAGS} tags")));
    }
    let tags = body.tags.iter().map(|t| text("tags[]", t, true)).collect::<Result<Vec<_>, _>>()?;
    let id = warrant_issuer::new_id("agt");
    let client_id = ClientId::parse(&id)?;
    let now = state.tokens.clock.now();
    let (secret, credential) = super::credentials::new_credential(&state, &client_id, body.jwks.as_ref())?;
    let agent = Agent {
        id,
        client_id,
        name: text("name", &body.name, true)?,
        platform: body.platform,
        vendor: text("vendor", &body.vendor, false)?,
        owner: text("owner", &body.owner, false)?,
        purpose: text("purpose", &body.purpose, false)?,
        environment: text("environment", &body.environment, false)?,
        acts_on_behalf_of: body.acts_on_behalf_of,
        tags,
        status: AgentStatus::Active,
        created_by: caller.operator_id,
        created_at: now,
        last_token: None,
    };
    state.tokens.store.insert_agent(&agent, &credential).await?;
    tracing::info!(agent_id = %agent.id, platform = %agent.platform, "agent registered");
    let detail = json!({"name": agent.name, "platform": agent.platform, "vendor": agent.vendor, "owner": agent.owner,
        "credential": credential.method});
    audit(&state, &agent.created_by, "agent.registered", Some(&agent.id), None, detail).await?;
    let mut shown = shown_agent(&agent, &[credential]);
    if let Some(secret) = secret {
        shown["client_secret"] = json!(secret.expose());
    }
    Ok((StatusCode::CREATED, Json(shown)))
}

#[utoipa::path(
    get,
    path = "/agents/{id}",
    tag = "agents",
    operation_id = "getAgent",
    summary = "An agent's access report",
    description = "The agent, each grant with its resource, scopes and data classes, who requested and approved it and until when; its credentials (never a secret) and its kill history.",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    responses(
        (status = 200, description = "The access report.", body = schema::AccessReport),
        AdminNotFound,
        AdminAccess,
    ),
)]
pub async fn show(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let agent = agent_or_404(&state, &id).await?;
    let now = state.tokens.clock.now();
    let resources: HashMap<String, Resource> =
        store.list_resources().await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let grants: Vec<Value> = store
        .grants_for_agent(&id)
        .await?
        .into_iter()
        .map(|g| {
            let resource = resources.get(&g.resource_id);
            let mut shown = super::grants::shown(g.clone(), now);
            shown["resource_name"] = json!(resource.map(|r| r.name.as_str()));
            shown["resource_kind"] = json!(resource.map(|r| r.kind));
            shown["scope_classes"] = g
                .scopes
                .iter()
                .map(|scope| {
                    let class = resource
                        .and_then(|r| r.scopes.iter().find(|d| &d.name == scope))
                        .map(|d| d.data_class);
                    json!({"name": scope, "data_class": class})
                })
                .collect();
            shown
        })
        .collect();
    let credentials = store.all_credentials_for_client(&agent.client_id).await?;
    let live: Vec<Credential> = credentials.iter().filter(|c| c.retired_at.is_none()).cloned().collect();
    let mut shown = shown_agent(&agent, &live);
    shown["grants"] = json!(grants);
    shown["kills"] = json!(store.kills_for_agent(&id).await?);
    shown["credentials"] = credentials.iter().map(super::credentials::shown).collect();
    Ok(Json(shown))
}

/// `POST /admin/v1/agents/{id}/suspend`: no token is issued to the agent
/// until it is resumed (reversible; not a kill).
#[utoipa::path(
    post,
    path = "/agents/{id}/suspend",
    tag = "agents",
    operation_id = "suspendAgent",
    summary = "Suspend an agent",
    description = "No token is issued to the agent until it is resumed (reversible; not a kill). Suspending a suspended agent changes nothing; a killed agent is a conflict.",
    security(("adminToken" = ["responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    responses(
        (status = 200, description = "The agent, now suspended.", body = schema::AgentWithAuthMethod),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn suspend(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    set_status(&state, &id, AgentStatus::Active, AgentStatus::Suspended, &caller.operator_id).await
}

/// `POST /admin/v1/agents/{id}/resume`: lifts a suspension.
#[utoipa::path(
    post,
    path = "/agents/{id}/resume",
    tag = "agents",
    operation_id = "resumeAgent",
    summary = "Resume a suspended agent",
    description = "Lifts a suspension. Resuming an active agent changes nothing; a killed agent is a conflict (only a restore lifts a kill).",
    security(("adminToken" = ["responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    responses(
        (status = 200, description = "The agent, now active.", body = schema::AgentWithAuthMethod),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn resume(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    set_status(&state, &id, AgentStatus::Suspended, AgentStatus::Active, &caller.operator_id).await
}

/// Moves an agent from `from` to `to` (asking again for the state it is in
/// is a no-op). Any other state, such as `killed`, is a conflict: only a
/// restore lifts a kill.
async fn set_status(
    state: &AppState,
    id: &str,
    from: AgentStatus,
    to: AgentStatus,
    actor: &str,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let agent = agent_or_404(state, id).await?;
    if agent.status != to {
        if agent.status != from {
            return Err(AdminError::Conflict(format!("the agent is {}, not {from}", agent.status)));
        }
        if !store.set_agent_status(id, from, to).await? {
            return Err(AdminError::Conflict("the agent changed meanwhile; read it again".into()));
        }
    }
    tracing::info!(agent_id = %id, status = %to, actor, "agent status changed");
    let action = if to == AgentStatus::Suspended { "agent.suspended" } else { "agent.resumed" };
    audit(state, actor, action, Some(id), None, json!({"from": from, "to": to})).await?;
    let credentials = store.credentials_for_client(&agent.client_id).await?;
    Ok(Json(shown_agent(&Agent { status: to, ..agent }, &credentials)))
}

/// An agent as the API shows it (never a secret), with the token-endpoint
/// authentication method its credentials call for.
pub(super) fn shown_agent(agent: &Agent, credentials: &[Credential]) -> Value {
    let method = if credentials.iter().any(|c| c.method == CredentialMethod::PrivateKeyJwt) {
        "private_key_jwt"
    } else {
        "client_secret_basic"
    };
    let mut shown = json!(agent);
    shown["token_endpoint_auth_method"] = json!(method);
    shown
}
