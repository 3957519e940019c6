//! `GET /healthz` (the process answers) and `GET /readyz` (the store and
//! the denylist answer, and the server is neither starting nor draining).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::lifecycle::Phase;
use crate::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

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
