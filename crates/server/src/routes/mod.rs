//! The HTTP surface: a file per endpoint; this module only assembles them.

pub mod admin;
mod discovery;
mod form;
pub(crate) mod health;
mod introspect;
mod metrics;
pub mod openapi;
mod revoke;
mod token;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/oauth2/token", post(token::token).layer(DefaultBodyLimit::max(form::FORM_BODY_LIMIT)))
        .route(
            "/oauth2/introspect",
            post(introspect::introspect).layer(DefaultBodyLimit::max(form::FORM_BODY_LIMIT)),
        )
        .route("/oauth2/revoke", post(revoke::revoke).layer(DefaultBodyLimit::max(form::FORM_BODY_LIMIT)))
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/.well-known/oauth-authorization-server", get(discovery::metadata))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::serve))
        .route("/openapi.json", get(openapi::serve))
        .nest("/admin/v1", admin::router())
        .with_state(state)
}

/// The route templates of [`router`] as axum's `MatchedPath` names them:
/// the paths of the OpenAPI document, which a test keeps equal to the
/// router's routes (`openapi::document::tests`).
pub fn templates() -> Vec<String> {
    crate::openapi::document().paths.paths.into_keys().collect()
}
