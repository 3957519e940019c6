//! `GET /healthz` (the process answers) and `GET /readyz` (the store and
//! the denylist answer, and the server is neither starting nor draining).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::lifecycle::Phase;
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
    let phase = state.lifecycle.phase();
    if phase == Phase::Draining {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": phase.as_str()})));
    }
    let (store, denylist) = tokio::join!(state.tokens.store.ping(), state.denylist.ping());
    if let Err(error) = &store {
        tracing::warn!(%error, "not ready: the store does not answer");
    }
    if let Err(error) = &denylist {
        tracing::warn!(%error, "not ready: the denylist does not answer");
    }
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let ready = store.is_ok() && denylist.is_ok();
    if ready {
        state.lifecycle.ready();
    }
    let status = match (ready, phase) {
        (true, _) => "ready",
        (false, Phase::Starting) => "starting",
        (false, _) => "unavailable",
    };
    let body = json!({
        "status": status,
        "store": word(store.is_ok()),
        "denylist": word(denylist.is_ok()),
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// What the server answers while it is still being built: alive, not
/// ready, and nothing else yet.
pub fn starting_router() -> axum::Router {
    let unavailable = || async {
        let body = json!({"error": "temporarily_unavailable", "error_description": "the server is starting"});
        (StatusCode::SERVICE_UNAVAILABLE, [(axum::http::header::RETRY_AFTER, "1")], Json(body))
    };
    axum::Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route(
            "/readyz",
            axum::routing::get(|| async {
                (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": Phase::Starting.as_str()})))
            }),
        )
        .fallback(unavailable)
}
