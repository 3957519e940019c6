//! What every handler reaches through `State<AppState>`: no globals.

use std::sync::Arc;

use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::TokenService;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The token endpoint, and through it the store, key, hasher, clock and issuer.
    pub tokens: Arc<TokenService>,
    /// Verifies admin bearer tokens.
    pub verifier: Arc<AccessTokenVerifier>,
}
