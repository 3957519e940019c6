//! `POST /oauth2/introspect` (RFC 7662): a registered resource server asks
//! whether a token is active for it. Inactive for any failure, with the
//! reason logged and never told; 503 when the denylist cannot answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use warrant_introspection::{introspect as decide, Introspection};
use warrant_policy::{ClientKind, OAuthError};
use warrant_store::audit::NewAuditEvent;

use super::form::authenticated_form;
use crate::error::{denylist_unavailable, no_store, OAuthErrorResponse};
use crate::openapi::responses::IntrospectionErrors;
use crate::openapi::schema;
use crate::state::AppState;

/// An active token's answer (RFC 7662 §2.2), serialized straight from
/// the claims (the hot path of every resource server's call).
#[derive(serde::Serialize)]
struct Active<'a> {
    active: bool,
    scope: &'a str,
    client_id: &'a str,
    sub: &'a str,
    aud: &'a str,
    iss: &'a str,
    exp: i64,
    iat: i64,
    jti: &'a str,
    token_type: &'static str,
}

#[utoipa::path(
    post,
    path = "/oauth2/introspect",
    tag = "oauth",
    operation_id = "introspect",
    summary = "Introspect an access token (RFC 7662)",
    description = "For registered resource servers, authenticating with the credentials `POST /admin/v1/resources` \
                   gave them (or `private_key_jwt`). Any failure, including a token for another audience, answers \
                   `{\"active\": false}`; the reason is logged and audited, never told.",
    security(("clientBasic" = []), ()),
    request_body(content = schema::IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether the token is active for the caller, and its claims if so.", body = schema::IntrospectionResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        IntrospectionErrors,
    ),
)]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthErrorResponse> {
    let (caller, mut form) = authenticated_form(&state, &headers, body).await?;
    if caller.kind != ClientKind::Resource {
        return Err(OAuthError::invalid_client("only a registered resource server may introspect").into());
    }
    let token = form.take_required("token")?;
    let resource =
        state.tokens.store.cached_resource_by_id(caller.client_id.as_str()).await.map_err(|error| {
            tracing::error!(%error, "introspection cannot read the caller's resource");
            OAuthErrorResponse::from(OAuthError::server_error())
        })?;
    let resource =
        resource.ok_or_else(|| OAuthError::invalid_client("the resource server no longer exists"))?;
    let audience = resource.audience.to_string();
    let now = state.tokens.clock.now();
    let answer = decide(&state.verifier, &*state.denylist, &token, &audience, now).await;
    state.metrics.introspected(&answer);
    match answer {
        Ok(Introspection::Active(claims)) => {
            let scope = claims.scope.to_string();
            let active = Active {
                active: true,
                scope: &scope,
                client_id: &claims.client_id,
                sub: &claims.sub,
                aud: &claims.aud,
                iss: &claims.iss,
                exp: claims.exp,
                iat: claims.iat,
                jti: &claims.jti,
                token_type: "Bearer",
            };
            Ok((no_store(), Json(active)).into_response())
        }
        Ok(Introspection::Inactive { reason, agent_id }) => {
            tracing::info!(resource = %audience, reason = reason.as_str(), "introspection answered inactive");
            let event = NewAuditEvent {
                at: now,
                actor: caller.client_id.to_string(),
                action: "introspection.inactive".into(),
                agent_id,
                resource: Some(audience.clone()),
                detail: json!({"reason": reason.as_str()}),
            };
            // Queued, not awaited: an inactive answer must not wait on a commit.
            if let Err(error) = state.tokens.audit.enqueue(event).await {
                tracing::error!(%error, "introspection outcome not audited");
            }
            Ok((no_store(), Json(json!({"active": false}))).into_response())
        }
        Err(error) => Ok(denylist_unavailable(&error)),
    }
}
