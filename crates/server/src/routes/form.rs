//! What the OAuth endpoints share at the edge: a form body (RFC 6749 §3.2)
//! within the size limit, and the `Authorization` header.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use warrant_issuer::{AuthenticatedClient, ClientForm};
use warrant_policy::OAuthError;

use crate::error::OAuthErrorResponse;
use crate::state::AppState;

/// Largest form body accepted by an OAuth endpoint.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;

/// The body of a form POST, or the OAuth error for a wrong content type or
/// an unreadable or oversized body.
pub fn form_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, OAuthErrorResponse> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded").into());
    }
    body.map_err(|rejection| {
        let status = rejection.status();
        let error = if status == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::invalid_request(format!("the body is larger than {FORM_BODY_LIMIT} bytes"))
        } else {
            OAuthError::invalid_request("the body could not be read")
        };
        OAuthErrorResponse { error, status: Some(status) }
    })
}

/// The `Authorization` header, if it is text.
pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// The form of a request to an OAuth endpoint whose client must
/// authenticate (introspection, revocation), with that client.
pub async fn authenticated_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(AuthenticatedClient, ClientForm), OAuthErrorResponse> {
    let form = ClientForm::parse(&form_body(headers, body)?)?;
    let client = state.tokens.authenticate(authorization(headers), &form.credentials).await?;
    Ok((client, form))
}
