//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.tokens.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(error) => {
            tracing::warn!(error = %error, "not ready: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "store": "unreachable"})))
        }
    }
}
