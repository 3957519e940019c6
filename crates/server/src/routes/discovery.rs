//! `GET /.well-known/jwks.json` (RFC 7517 §5) and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §2).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use warrant_issuer::ASSERTION_ALGORITHMS;

use crate::openapi::schema;
use crate::state::AppState;

/// The public signing keys: the active key, the next one (published before
/// it signs) and retired ones until every token they signed has expired.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "discovery",
    operation_id = "jwks",
    summary = "The public signing keys (RFC 7517)",
    responses((status = 200, description = "The JWK Set that verifies Warrant's tokens.", body = schema::JwkSet)),
)]
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    let keys = state.tokens.key.published(state.tokens.clock.now());
    let keys: Vec<&serde_json::Map<String, Value>> = keys.iter().map(AsRef::as_ref).collect();
    Json(json!({ "keys": keys }))
}

/// The authorization-server metadata.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "discovery",
    operation_id = "metadata",
    summary = "Authorization-server metadata (RFC 8414)",
    responses((status = 200, description = "The metadata.", body = schema::AuthorizationServerMetadata)),
)]
pub async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let issuer = &state.tokens.issuer;
    Json(json!({
        "issuer": issuer,
        "token_endpoint": state.tokens.token_endpoint(),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "resource_indicators_supported": true,
    }))
}
