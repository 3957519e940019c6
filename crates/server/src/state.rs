//! What every handler reaches through `State<AppState>`: no globals.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
    /// Resource servers' audiences by client id, read once from the store.
    pub audiences: Arc<ResourceAudiences>,
    /// Starting, ready or draining (`/readyz`).
    pub lifecycle: Arc<Lifecycle>,
    /// What `/metrics` exposes; the token service and the audit writer
    /// record through it too.
    pub metrics: Arc<Metrics>,
}

/// The audience of each resource server that has introspected, by client
/// id. A resource is never changed or removed once registered, so an entry
/// never goes stale; a future edit or removal of resources must clear it.
#[derive(Debug, Default)]
pub struct ResourceAudiences(RwLock<HashMap<String, String>>);

impl ResourceAudiences {
    pub fn get(&self, client_id: &str) -> Option<String> {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(client_id).cloned()
    }

    pub fn insert(&self, client_id: &str, audience: &str) {
        let mut map = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.insert(client_id.to_owned(), audience.to_owned());
    }
}

/// The governance limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Governance {
    /// Longest a grant may be requested for, in seconds.
    pub grant_max_lifetime: i64,
    /// Most live credentials an agent may hold.
    pub max_credentials: i64,
}
