//! `POST /admin/v1/agents` (roles `requester`, `admin`), `GET
//! /admin/v1/agents` (the inventory, filtered) and `GET
//! /admin/v1/agents/{id}` (the agent with its grants and credentials).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{
    ActsOnBehalfOf, Agent, AgentStatus, ClientId, ClientKind, Credential, CredentialMethod, Platform,
};
use warrant_store::AgentFilter;

use super::extract::{AdminJson, Authorized, ManageAgents, Read, Respond};
use super::{audit, secret_credential, text};
use crate::error::AdminError;
use crate::state::AppState;

/// Most tags an agent may carry.
const MAX_TAGS: usize = 32;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    name: String,
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
    acts_on_behalf_of: ActsOnBehalfOf,
    #[serde(default)]
    tags: Vec<String>,
    /// The agent's public JWK Set, for `private_key_jwt`.
    jwks: Option<Value>,
}

fn nobody() -> ActsOnBehalfOf {
    ActsOnBehalfOf::Nobody
}

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
    let (secret, credential) = match &body.jwks {
        Some(jwks) => {
            let jwks = warrant_issuer::validate_client_jwks(jwks).map_err(AdminError::InvalidRequest)?;
            let credential = Credential {
                id: warrant_issuer::new_id("cred"),
                client_id: client_id.clone(),
                client_kind: ClientKind::Agent,
                method: CredentialMethod::PrivateKeyJwt,
                secret_hash: None,
                jwks: Some(jwks),
                created_at: now,
            };
            (None, credential)
        }
        None => {
            let (secret, credential) = secret_credential(&state, &client_id, ClientKind::Agent)?;
            (Some(secret), credential)
        }
    };
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    platform: Option<Platform>,
    status: Option<AgentStatus>,
    owner: Option<String>,
    vendor: Option<String>,
    tag: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AdminError> {
    let Query(query) = query.map_err(|e| AdminError::InvalidRequest(e.body_text()))?;
    let filter = AgentFilter {
        platform: query.platform,
        status: query.status,
        owner: query.owner,
        vendor: query.vendor,
        tag: query.tag,
    };
    let agents = state.tokens.store.list_agents(&filter).await?;
    Ok(Json(json!({ "agents": agents })))
}

pub async fn show(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let agent = store.get_agent(&id).await?.ok_or_else(|| AdminError::NotFound(format!("no agent {id}")))?;
    let now = state.tokens.clock.now();
    let grants: Vec<Value> =
        store.grants_for_agent(&id).await?.into_iter().map(|g| super::grants::shown(g, now)).collect();
    let credentials = store.credentials_for_client(&agent.client_id).await?;
    let mut shown = shown_agent(&agent, &credentials);
    shown["grants"] = json!(grants);
    shown["kills"] = json!(store.kills_for_agent(&id).await?);
    shown["credentials"] = credentials
        .iter()
        .map(|c| json!({"id": c.id, "method": c.method, "created_at": c.created_at}))
        .collect();
    Ok(Json(shown))
}

/// `POST /admin/v1/agents/{id}/suspend`: no token is issued to the agent
/// until it is resumed (reversible; not a kill).
pub async fn suspend(
    State(state): State<AppState>,
    caller: Authorized<Respond>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    set_status(&state, &id, AgentStatus::Active, AgentStatus::Suspended, &caller.operator_id).await
}

/// `POST /admin/v1/agents/{id}/resume`: lifts a suspension.
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
    let agent = store.get_agent(id).await?.ok_or_else(|| AdminError::NotFound(format!("no agent {id}")))?;
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
