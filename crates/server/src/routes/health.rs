//! `GET /healthz` (the process answers) and `GET /readyz` (the store and
//! the denylist answer).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "healthz",
    summary = "Liveness",
    responses((status = 200, description = "The process answers.", body = schema::Health)),
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "readyz",
    summary = "Readiness",
    responses(
        (status = 200, description = "The store and the denylist answer.", body = schema::Readiness),
        (status = 503, description = "The store or the denylist does not answer; the body names which.", body = schema::Readiness),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (store, denylist) = tokio::join!(state.tokens.store.ping(), state.denylist.ping());
    if let Err(error) = &store {
        tracing::warn!(%error, "not ready: the store does not answer");
    }
    if let Err(error) = &denylist {
        tracing::warn!(%error, "not ready: the denylist does not answer");
    }
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let ready = store.is_ok() && denylist.is_ok();
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "store": word(store.is_ok()),
        "denylist": word(denylist.is_ok()),
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
