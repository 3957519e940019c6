//! The admin API, `/admin/v1`: operators authenticate with a bearer admin
//! token (client credentials for `urn:warrant:admin`; its scopes are their
//! roles), and every route names the permission it needs in its signature.

mod agents;
mod audit;
mod credentials;
mod extract;
mod grants;
mod inventory;
mod kill;
pub mod openapi;
mod operators;
mod report;
mod resources;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use warrant_store::Store;

/// Largest admin request body accepted.
pub const ADMIN_BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/operators", post(operators::create).get(operators::list))
        .route("/resources", post(resources::create).get(resources::list))
        .route("/agents", post(agents::create).get(inventory::list))
        .route("/inventory.csv", get(inventory::csv))
        .route("/report", get(report::report))
        .route("/resources/{id}/access", get(report::access))
        .route("/agents/{id}/credentials", post(credentials::create).get(credentials::list))
        .route("/agents/{id}/credentials/{credential}", axum::routing::delete(credentials::retire))
        .route("/agents/{id}", get(agents::show))
        .route("/agents/{id}/suspend", post(agents::suspend))
        .route("/agents/{id}/resume", post(agents::resume))
        .route("/agents/{id}/kill", post(kill::kill))
        .route("/agents/{id}/restore", post(kill::restore))
        .route("/kill", post(kill::kill_matching))
        .route("/audit", get(audit::list))
        .route("/agents/{id}/grants", post(grants::request))
        .route("/grants/{id}/approve", post(grants::approve))
        .route("/grants/{id}/deny", post(grants::deny))
        .route("/grants/{id}/revoke", post(grants::revoke))
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
}

/// Longest free-text field accepted (names, purposes, justifications).
const MAX_TEXT: usize = 2_000;

/// A free-text field: trimmed, at most `MAX_TEXT` characters, and not empty
/// when `required`.
fn text(field: &str, value: &str, required: bool) -> Result<String, crate::error::AdminError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(crate::error::AdminError::InvalidRequest(format!("{field} is required")));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(crate::error::AdminError::InvalidRequest(format!(
            "{field} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(value.to_owned())
}

/// A fresh client secret and the credential that stores its hash.
fn secret_credential(
    state: &AppState,
    client_id: &warrant_policy::ClientId,
    kind: warrant_policy::ClientKind,
) -> Result<(warrant_issuer::SecretString, warrant_policy::Credential), crate::error::AdminError> {
    let (secret, hash) =
        state.tokens.hasher.generate().map_err(|e| crate::error::AdminError::Internal(Box::new(e)))?;
    let credential = warrant_policy::Credential {
        id: warrant_issuer::new_id("cred"),
        client_id: client_id.clone(),
        client_kind: kind,
        method: warrant_policy::CredentialMethod::ClientSecret,
        secret_hash: Some(hash),
        jwks: None,
        created_at: state.tokens.clock.now(),
        last_used_at: None,
        retired_at: None,
    };
    Ok((secret, credential))
}

/// Appends an admin action to the audit trail and waits for its commit.
async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    agent_id: Option<&str>,
    resource: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), crate::error::AdminError> {
    let event = warrant_store::audit::NewAuditEvent {
        at: state.tokens.clock.now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        agent_id: agent_id.map(str::to_owned),
        resource: resource.map(str::to_owned),
        detail,
    };
    state.tokens.audit.record(event).await.map_err(|e| crate::error::AdminError::Internal(Box::new(e)))
}

/// The agent `id`, or 404.
async fn agent_or_404(state: &AppState, id: &str) -> Result<warrant_policy::Agent, crate::error::AdminError> {
    state
        .tokens
        .store
        .get_agent(id)
        .await?
        .ok_or_else(|| crate::error::AdminError::NotFound(format!("no agent {id}")))
}
