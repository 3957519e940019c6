//! What every handler reaches through `State<AppState>`: no globals.

use std::sync::Arc;

use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::TokenService;
use warrant_store::denylist::Denylist;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The token endpoint, and through it the store, key, hasher, clock and issuer.
    pub tokens: Arc<TokenService>,
    /// Verifies access tokens (admin bearer tokens, introspection, revocation).
    pub verifier: Arc<AccessTokenVerifier>,
    /// Kills, revoked tokens and revoked grants: written first, checked on
    /// every introspection.
    pub denylist: Arc<dyn Denylist>,
}
