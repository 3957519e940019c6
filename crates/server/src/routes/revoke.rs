//! `POST /oauth2/revoke` (RFC 7009): a client revokes one of its own access
//! tokens. Its `jti` goes into the denylist (first) and the database until
//! the token expires. An unknown or invalid token answers 200 (§2.2).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use warrant_policy::{OAuthError, OAuthErrorCode, Timestamp};
use warrant_store::audit::NewAuditEvent;

use super::form::authenticated_form;
use crate::error::{denylist_unavailable, no_store, OAuthErrorResponse};
use crate::openapi::responses::RevocationErrors;
use crate::openapi::schema;
use crate::state::AppState;
use warrant_store::Store;

#[utoipa::path(
    post,
    path = "/oauth2/revoke",
    tag = "oauth",
    operation_id = "revoke",
    summary = "Revoke an access token (RFC 7009)",
    description = "A client revokes one of its own access tokens; it is inactive everywhere at once. An unknown, \
                   invalid or expired token also answers 200 (RFC 7009 §2.2).",
    security(("clientBasic" = []), ()),
    request_body(content = schema::RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke. No body.", headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        RevocationErrors,
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthErrorResponse> {
    let (caller, mut form) = authenticated_form(&state, &headers, body).await?;
    let token = form.take_required("token")?;
    let now = state.tokens.clock.now();
    let Ok(claims) = state.verifier.verify_any_audience(&token, now) else {
        return Ok((StatusCode::OK, no_store()).into_response());
    };
    if claims.client_id != caller.client_id.as_str() {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        )
        .into());
    }
    let expires_at = Timestamp(claims.exp);
    if let Err(error) = state.denylist.revoke_token(&claims.jti, expires_at, now).await {
        return Ok(denylist_unavailable(&error));
    }
    state.tokens.store.insert_revoked_token(&claims.jti, &claims.sub, expires_at, now).await.map_err(
        |error| {
            tracing::error!(%error, "revocation could not be stored");
            OAuthErrorResponse::from(OAuthError::server_error())
        },
    )?;
    state.metrics.revoked();
    tracing::info!(client_id = %caller.client_id, "access token revoked");
    let event = NewAuditEvent {
        at: now,
        actor: caller.client_id.to_string(),
        action: "token.revoked".into(),
        agent_id: Some(claims.sub.clone()),
        resource: Some(claims.aud.clone()),
        detail: serde_json::json!({"jti": claims.jti}),
    };
    state.tokens.audit.record(event).await.map_err(|error| {
        tracing::error!(%error, "revocation not audited");
        OAuthErrorResponse::from(OAuthError::server_error())
    })?;
    Ok((StatusCode::OK, no_store()).into_response())
}
