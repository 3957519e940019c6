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
use crate::openapi::responses::TokenErrors;
use crate::openapi::schema;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/oauth2/token",
    tag = "oauth",
    operation_id = "token",
    summary = "Get an access token (client credentials)",
    description = "RFC 6749 §4.4 with RFC 8707 resource indicators. The client authenticates with HTTP Basic \
                   (`client_secret_basic`), or in the form (`client_secret_post`, or `private_key_jwt` per RFC 7523), \
                   never two at once. Operators get their admin token here with `resource=urn:warrant:admin`. \
                   Form bodies of at most 16 KiB.",
    security(("clientBasic" = []), ()),
    request_body(content = schema::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A JWT access token for one resource.", body = schema::TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        TokenErrors,
    ),
)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match form_body(&headers, body) {
        Ok(body) => body,
        Err(error) => {
            state.tokens.observer.refused(&error.error);
            return error.into_response();
        }
    };
    match state.tokens.token(authorization(&headers), &body).await {
        Ok(response) => (no_store(), Json(response)).into_response(),
        Err(error) => OAuthErrorResponse::from(error).into_response(),
    }
}
