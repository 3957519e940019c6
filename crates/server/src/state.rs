//! What every handler reaches through `State<AppState>`: no globals.

use std::sync::Arc;

use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::TokenService;
use warrant_store::denylist::Denylist;

use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;

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
    pub governance: Governance,
    /// Starting, ready or draining (`/readyz`).
    pub lifecycle: Arc<Lifecycle>,
    /// What `/metrics` exposes; the token service and the audit writer
    /// record through it too.
    pub metrics: Arc<Metrics>,
}

/// The governance limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Governance {
    /// Longest a grant may be requested for, in seconds.
    pub grant_max_lifetime: i64,
    /// Most live credentials an agent may hold.
    pub max_credentials: i64,
}
