//! `POST /admin/v1/operators` and `GET /admin/v1/operators` (role `admin`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warrant_policy::{ClientId, ClientKind, Operator, Roles};

use super::extract::{AdminJson, Administer, Authorized};
use super::{audit, secret_credential, text};
use crate::error::AdminError;
use crate::openapi::responses::{AdminAccess, AdminJsonBody};
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

/// An operator to register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    name: String,
    email: String,
    #[schema(value_type = Vec<schema::Role>, min_items = 1)]
    roles: Roles,
}

#[utoipa::path(
    post,
    path = "/operators",
    tag = "operators",
    operation_id = "createOperator",
    summary = "Register an operator",
    security(("adminToken" = ["admin"])),
    request_body = NewOperator,
    responses(
        (status = 201, description = "The operator, with its client secret shown this once.", body = schema::OperatorCreated),
        AdminJsonBody,
        AdminAccess,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Authorized<Administer>,
    AdminJson(body): AdminJson<NewOperator>,
) -> Result<(StatusCode, Json<Value>), AdminError> {
    let email = text("email", &body.email, true)?;
    if !email.contains('@') {
        return Err(AdminError::InvalidRequest("email must be an e-mail address".into()));
    }
    let id = warrant_issuer::new_id("op");
    let client_id = ClientId::parse(&id)?;
    let (secret, credential) = secret_credential(&state, &client_id, ClientKind::Operator)?;
    let operator = Operator {
        id,
        client_id,
        name: text("name", &body.name, true)?,
        email,
        roles: body.roles,
        created_by: caller.operator_id,
        created_at: state.tokens.clock.now(),
    };
    state.tokens.store.insert_operator(&operator, &credential).await?;
    tracing::info!(operator_id = %operator.id, roles = %operator.roles, "operator registered");
    let detail = json!({"operator_id": operator.id, "roles": operator.roles});
    audit(&state, &operator.created_by, "operator.registered", None, None, detail).await?;
    let mut shown = json!(operator);
    shown["client_secret"] = json!(secret.expose());
    Ok((StatusCode::CREATED, Json(shown)))
}

#[utoipa::path(
    get,
    path = "/operators",
    tag = "operators",
    operation_id = "listOperators",
    summary = "List the operators",
    security(("adminToken" = ["admin"])),
    responses(
        (status = 200, description = "Every operator.", body = schema::OperatorList),
        AdminAccess,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<Administer>,
) -> Result<Json<Value>, AdminError> {
    let operators = state.tokens.store.list_operators().await?;
    Ok(Json(json!({ "operators": operators })))
}
