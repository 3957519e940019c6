//! `POST /oauth2/token` (RFC 6749 §3.2, §4.4, §5): form body only, a size
//! limit, and `Cache-Control: no-store` on every answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::form::{authorization, form_body};
use crate::error::{no_store, OAuthErrorResponse};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match form_body(&headers, body) {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match state.tokens.token(authorization(&headers), &body).await {
        Ok(response) => (no_store(), Json(response)).into_response(),
        Err(error) => OAuthErrorResponse::from(error).into_response(),
    }
}
