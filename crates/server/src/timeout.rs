//! The request deadline (`WARRANT_REQUEST_TIMEOUT`): a request not
//! answered in time gets 503 `temporarily_unavailable` with `Retry-After`.
//!
//! The token and introspection endpoints, whose work leaves nothing
//! half-written when stopped, are simply stopped. Every other request runs
//! in a task of its own that completes even after the deadline's answer:
//! a kill or a revocation that took long (writing the denylist, then the
//! database, then the audit trail) is never cut between two of its writes.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::no_store;

/// Paths whose handlers may be stopped at any await.
const CANCEL_SAFE: [&str; 2] = ["/oauth2/token", "/oauth2/introspect"];

pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let answered = if CANCEL_SAFE.contains(&path.as_str()) {
        tokio::time::timeout(limit, next.run(request)).await.ok()
    } else {
        let work = tokio::spawn(next.run(request));
        match tokio::time::timeout(limit, work).await {
            Ok(Ok(response)) => Some(response),
            Ok(Err(error)) => {
                tracing::error!(%error, path, "the request's task failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            Err(_) => None,
        }
    };
    answered.unwrap_or_else(|| {
        tracing::warn!(path, timeout = ?limit, "request timed out");
        let body = json!({
            "error": "temporarily_unavailable",
            "error_description": format!("the request took longer than {} s", limit.as_secs()),
        });
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, no_store(), Json(body)).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        response
    })
}
