//! An agent's credentials: `POST /admin/v1/agents/{id}/credentials` (rotate:
//! a new secret or JWK Set, the old ones keep working until retired),
//! `GET` (list, never a secret) and `DELETE .../credentials/{cred}` (retire).
//! Roles `requester` and `admin` change them; every role may list them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_issuer::SecretString;
use warrant_policy::{ClientId, ClientKind, Credential, CredentialMethod};

use super::extract::{AdminJson, Authorized, ManageAgents, Read};
use super::{agent_or_404, audit, secret_credential};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminConflict, AdminJsonBody, AdminNotFound};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// A credential as the API shows it: never its secret or hash.
pub fn shown(credential: &Credential) -> Value {
    json!({
        "id": credential.id,
        "method": credential.method,
        "created_at": credential.created_at,
        "last_used_at": credential.last_used_at,
        "retired_at": credential.retired_at,
    })
}

/// A new agent credential: a JWK Set for `private_key_jwt` when given, a
/// fresh secret (returned once) otherwise.
pub fn new_credential(
    state: &AppState,
    client_id: &ClientId,
    jwks: Option<&Value>,
) -> Result<(Option<SecretString>, Credential), AdminError> {
    match jwks {
        Some(jwks) => {
            let jwks = warrant_issuer::validate_client_jwks(jwks).map_err(AdminError::InvalidRequest)?;
            let credential = Credential {
                id: warrant_issuer::new_id("cred"),
                client_id: client_id.clone(),
                client_kind: ClientKind::Agent,
                method: CredentialMethod::PrivateKeyJwt,
                secret_hash: None,
                jwks: Some(jwks),
                created_at: state.tokens.clock.now(),
                last_used_at: None,
                retired_at: None,
            };
            Ok((None, credential))
        }
        None => {
            let (secret, credential) = secret_credential(state, client_id, ClientKind::Agent)?;
            Ok((Some(secret), credential))
        }
    }
}

/// A credential to add: `{}` for a new client secret.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// A public JWK Set, for `private_key_jwt`.
    #[schema(value_type = Option<Object>)]
    jwks: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/agents/{id}/credentials",
    tag = "credentials",
    operation_id = "addCredential",
    summary = "Add (rotate) an agent credential",
    description = "A new client secret, or with `jwks` a JWK Set for `private_key_jwt`. The old credentials keep working until retired; an agent holds at most `WARRANT_MAX_CREDENTIALS` live ones.",
    security(("adminToken" = ["requester", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    request_body = NewCredential,
    responses(
        (status = 201, description = "The credential; `client_secret` only when no `jwks` was given.", body = schema::CredentialCreated),
        AdminJsonBody,
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<ManageAgents>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<NewCredential>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let store = &state.tokens.store;
    let agent = agent_or_404(&state, &id).await?;
    let (secret, credential) = new_credential(&state, &agent.client_id, body.jwks.as_ref())?;
    if !store.add_credential(&credential, state.governance.max_credentials).await? {
        return Err(AdminError::Conflict(format!(
            "the agent already holds {} live credentials; retire one first",
            state.governance.max_credentials
        )));
    }
    let detail = json!({"credential_id": credential.id, "method": credential.method});
    audit(&state, &caller.operator_id, "credential.created", Some(&id), None, detail).await?;
    let mut answer = shown(&credential);
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret.expose());
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

#[utoipa::path(
    get,
    path = "/agents/{id}/credentials",
    tag = "credentials",
    operation_id = "listCredentials",
    summary = "List an agent's credentials",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    params(("id" = String, Path, description = "The agent's id.")),
    responses(
        (status = 200, description = "Every credential, retired ones included; never a secret.", body = schema::CredentialList),
        AdminNotFound,
        AdminAccess,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let agent = agent_or_404(&state, &id).await?;
    let credentials = store.all_credentials_for_client(&agent.client_id).await?;
    Ok(Json(json!({"credentials": credentials.iter().map(shown).collect::<Vec<_>>()})))
}

#[utoipa::path(
    delete,
    path = "/agents/{id}/credentials/{credential}",
    tag = "credentials",
    operation_id = "retireCredential",
    summary = "Retire an agent credential",
    description = "The credential stops authenticating. The agent's last live credential cannot be retired.",
    security(("adminToken" = ["requester", "admin"])),
    params(("id" = String, Path, description = "The agent's id."), ("credential" = String, Path, description = "The credential's id.")),
    responses(
        (status = 200, description = "The retired credential.", body = schema::Credential),
        AdminNotFound,
        AdminConflict,
        AdminAccess,
    ),
)]
pub async fn retire(
    State(state): State<AppState>,
    caller: Authorized<ManageAgents>,
    Path((id, credential_id)): Path<(String, String)>,
) -> Result<Json<Value>, AdminError> {
    let store = &state.tokens.store;
    let agent = agent_or_404(&state, &id).await?;
    let credentials = store.all_credentials_for_client(&agent.client_id).await?;
    let credential = credentials
        .iter()
        .find(|c| c.id == credential_id)
        .ok_or_else(|| AdminError::NotFound(format!("no credential {credential_id} for agent {id}")))?;
    if credential.retired_at.is_some() {
        return Err(AdminError::Conflict("the credential is already retired".into()));
    }
    let now = state.tokens.clock.now();
    if !store.retire_credential(&agent.client_id, &credential_id, now).await? {
        return Err(AdminError::Conflict(
            "this is the agent's last live credential; add another first, or suspend the agent".into(),
        ));
    }
    audit(
        &state,
        &caller.operator_id,
        "credential.retired",
        Some(&id),
        None,
        json!({"credential_id": credential_id}),
    )
    .await?;
    Ok(Json(shown(&Credential { retired_at: Some(now), ..credential.clone() })))
}
