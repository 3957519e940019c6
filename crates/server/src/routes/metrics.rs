//! `GET /metrics`: the Prometheus exposition (OpenMetrics text) of this
//! instance. Unauthenticated, like `/healthz` and `/readyz`: its labels
//! never name a client, an agent or a token, and deployments keep it off
//! the public ingress (deploy/README.md) and scrape each replica directly.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::metrics::CONTENT_TYPE;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "This instance's metrics in the OpenMetrics text format: tokens issued and refused, introspection \
                   answers, kills and restores, the denylist's state and size, audit batches, and HTTP request \
                   durations by route template. Unauthenticated; keep it off the public ingress.",
    responses((status = 200, description = "The exposition, ending in `# EOF`.", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String)),
)]
pub async fn serve(State(state): State<AppState>) -> Response {
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "the metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
