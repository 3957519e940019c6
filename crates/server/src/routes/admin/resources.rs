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
use crate::openapi::responses::{AdminAccess, AdminConflict, AdminJsonBody};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// A protected resource to register, with its scope catalogue.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    name: String,
    #[schema(value_type = schema::ResourceKind)]
    kind: ResourceKind,
    #[schema(value_type = schema::Audience)]
    audience: Audience,
    #[schema(value_type = Vec<schema::ScopeDefinition>, min_items = 1)]
    scopes: Vec<ScopeDefinition>,
}

#[utoipa::path(
    post,
    path = "/resources",
    tag = "resources",
    operation_id = "createResource",
    summary = "Register a protected resource",
    description = "Registers a protected system with its scope catalogue; answers with its introspection credentials. The audience must be unique and not `urn:warrant:admin`.",
    security(("adminToken" = ["admin"])),
    request_body = NewResource,
    responses(
        (status = 201, description = "The resource, with its introspection secret shown this once.", body = schema::ResourceCreated),
        AdminJsonBody,
        AdminConflict,
        AdminAccess,
    ),
)]
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

#[utoipa::path(
    get,
    path = "/resources",
    tag = "resources",
    operation_id = "listResources",
    summary = "List the protected resources",
    security(("adminToken" = ["viewer", "requester", "approver", "responder", "admin"])),
    responses(
        (status = 200, description = "Every resource.", body = schema::ResourceList),
        AdminAccess,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Read>,
) -> Result<Json<Value>, AdminError> {
    let resources = state.tokens.store.list_resources().await?;
    Ok(Json(json!({ "resources": resources })))
}
