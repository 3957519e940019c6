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
use tracing::Instrument as _;

use crate::error::no_store;

/// Paths whose handlers may be stopped at any await.
const CANCEL_SAFE: [&str; 2] = ["/oauth2/token", "/oauth2/introspect"];

pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    // Kept for the log line; a URI clone shares its bytes.
    let uri = request.uri().clone();
    let path = uri.path();
    let answered = if CANCEL_SAFE.contains(&path) {
        tokio::time::timeout(limit, next.run(request)).await.ok()
    } else {
        // In the request's span, so that its log lines keep its request id.
        let work = tokio::spawn(next.run(request).in_current_span());
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use axum::body::Body;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt as _;

    use super::*;

    fn app(done: Arc<AtomicBool>) -> Router {
        let slow = move || {
            let done = done.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                done.store(true, Ordering::SeqCst);
                "late"
            }
        };
        Router::new()
            .route("/oauth2/token", post(slow.clone()))
            .route("/admin/v1/agents/x/kill", post(slow))
            .route("/healthz", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(Duration::from_secs(1), deadline))
    }

    async fn call(app: Router, path: &str) -> Response {
        let method = if path == "/healthz" { "GET" } else { "POST" };
        let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_the_deadline_gets_503_with_retry_after() {
        let done = Arc::new(AtomicBool::new(false));
        let response = call(app(done.clone()), "/oauth2/token").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(!done.load(Ordering::SeqCst), "a token request is simply stopped");

        assert_eq!(call(app(done.clone()), "/healthz").await.status(), StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn an_admin_action_over_the_deadline_is_answered_503_and_still_completes() {
        let done = Arc::new(AtomicBool::new(false));
        let response = call(app(done.clone()), "/admin/v1/agents/x/kill").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!done.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(done.load(Ordering::SeqCst), "the kill was not cut between two of its writes");
    }
}
