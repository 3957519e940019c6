//! `POST /admin/v1/resources` (role `admin`) and `GET /admin/v1/resources`:
//! protected systems, their scope catalogue with a data class per scope, and
//! their introspection credentials.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{
    Audience, ClientId, ClientKind, Resource, ResourceKind, ScopeDefinition, ADMIN_AUDIENCE,
};

use super::extract::{AdminJson, Administer, Authorized, Read};
use super::{audit, secret_credential, text};
use crate::error::AdminError;
use crate::state::AppState;
use warrant_store::Store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    name: String,
    kind: ResourceKind,
    audience: Audience,
    scopes: Vec<ScopeDefinition>,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<Administer>,
    AdminJson(body): AdminJson<NewResource>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    if body.audience.as_str() == ADMIN_AUDIENCE {
        return Err(AdminError::InvalidRequest(format!("{ADMIN_AUDIENCE} is reserved for the admin API")));
    }
    if body.scopes.is_empty() {
        return Err(AdminError::InvalidRequest("scopes must list at least one scope".into()));
    }
    let mut seen = HashSet::new();
    let mut scopes = Vec::with_capacity(body.scopes.len());
    for scope in body.scopes {
        if !seen.insert(scope.name.clone()) {
            return Err(AdminError::InvalidRequest(format!("scope {} is listed twice", scope.name)));
        }
        let description = text("scopes[].description", &scope.description, false)?;
        scopes.push(ScopeDefinition { description, ..scope });
    }
    let id = warrant_issuer::new_id("res");
    let client_id = ClientId::parse(&id)?;
    let (secret, credential) = secret_credential(&state, &client_id, ClientKind::Resource)?;
    let resource = Resource {
        id,
        client_id,
        name: text("name", &body.name, true)?,
        kind: body.kind,
        audience: body.audience,
        scopes,
        created_by: caller.operator_id,
        created_at: state.tokens.clock.now(),
    };
    state.tokens.store.insert_resource(&resource, &credential).await?;
    tracing::info!(resource_id = %resource.id, audience = %resource.audience, "resource registered");
    let detail = json!({"resource_id": resource.id, "kind": resource.kind, "scopes": resource.scopes});
    let audience = resource.audience.as_str();
    audit(&state, &resource.created_by, "resource.registered", None, Some(audience), detail).await?;
    let mut shown = json!(resource);
    shown["client_secret"] = json!(secret.expose());
    Ok((StatusCode::CREATED, Json(shown)))
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
) -> Result<Json<Value>, AdminError> {
    let resources = state.tokens.store.list_resources().await?;
    Ok(Json(json!({ "resources": resources })))
}
