//! `POST /oauth2/token` (RFC 6749 §3.2, §4.4, §5): form body only, a size
//! limit, and `Cache-Control: no-store` on every answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use warrant_policy::OAuthError;

use crate::error::{no_store, OAuthErrorResponse};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        let error = OAuthError::invalid_request("the body must be application/x-www-form-urlencoded");
        return OAuthErrorResponse::from(error).into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
                OAuthError::invalid_request(format!(
                    "the body is larger than {} bytes",
                    super::TOKEN_BODY_LIMIT
                ))
            } else {
                OAuthError::invalid_request("the body could not be read")
            };
            return OAuthErrorResponse { error, status: Some(status) }.into_response();
        }
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match state.tokens.token(authorization, &body).await {
        Ok(response) => (no_store(), Json(response)).into_response(),
        Err(error) => OAuthErrorResponse::from(error).into_response(),
    }
}
