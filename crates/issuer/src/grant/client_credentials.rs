//! The client-credentials grant (RFC 6749 §4.4) for agents and operators.
//!
//! An agent gets a token for one resource it holds approved, unexpired
//! grants on; an operator gets an admin token (`urn:warrant:admin`) whose
//! scopes are its roles. The decision itself is `warrant_policy::decide_token`.

use warrant_policy::{
    decide_token, AgentStatus, Audience, ClientKind, GrantStatus, HeldGrant, OAuthError, OAuthErrorCode,
    ADMIN_AUDIENCE,
};

use warrant_store::denylist::{Inactive, TokenFacts};

use crate::client_auth::{internal, AuthenticatedClient};
use crate::mint::{mint, TokenResponse};

use crate::request::ClientCredentialsParams;
use crate::TokenService;

/// A token issued, with what the audit trail records of it.
pub struct Issued {
    pub response: TokenResponse,
    pub audience: String,
    pub jti: String,
}

/// Runs the grant for an authenticated client.
pub(crate) async fn run(
    service: &TokenService,
    client: &AuthenticatedClient,
    params: ClientCredentialsParams,
) -> Result<Issued, OAuthError> {
    let now = service.clock.now();
    let is_admin = |aud: &Audience| aud.as_str() == ADMIN_AUDIENCE;
    let held = match client.kind {
        ClientKind::Resource => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "a resource server's credentials are for introspection, not for tokens",
            ))
        }
        ClientKind::Operator => {
            if params.resource.as_ref().is_some_and(|r| !is_admin(r)) {
                return Err(OAuthError::invalid_target(format!(
                    "operators get tokens for {ADMIN_AUDIENCE} only"
                )));
            }
            let operator =
                service.store.cached_operator(client.client_id.as_str()).await.map_err(|e| internal(&e))?;
            let operator =
                operator.ok_or_else(|| OAuthError::invalid_client("the operator no longer exists"))?;
            let audience = Audience::parse(ADMIN_AUDIENCE).map_err(|e| internal(&e))?;
            vec![HeldGrant {
                audience,
                scopes: operator.roles.to_scopes(),
                expires_at: None,
                max_token_ttl: None,
            }]
        }
        ClientKind::Agent => {
            let agent =
                service.store.cached_agent(client.client_id.as_str()).await.map_err(|e| internal(&e))?;
            let agent = agent.ok_or_else(|| OAuthError::invalid_client("the agent no longer exists"))?;
            if agent.status != AgentStatus::Active {
                tracing::info!(client_id = %client.client_id, status = %agent.status, "token refused");
                return Err(OAuthError::invalid_client(format!("the agent is {}", agent.status)));
            }
            if let Some(resource) = &params.resource {
                if is_admin(resource) {
                    return Err(OAuthError::invalid_target(format!("{ADMIN_AUDIENCE} is for operators")));
                }
                let known = service.store.cached_resource(resource).await.map_err(|e| internal(&e))?;
                if known.is_none() {
                    return Err(OAuthError::invalid_target("the resource is unknown"));
                }
            }
            let grants = service.store.cached_grants(&agent.id).await.map_err(|e| internal(&e))?;
            grants
                .iter()
                .filter(|g| g.status == GrantStatus::Approved)
                .map(|g| HeldGrant {
                    audience: g.audience.clone(),
                    scopes: g.scopes.clone(),
                    expires_at: Some(g.expires_at),
                    max_token_ttl: g.max_token_ttl,
                })
                .collect()
        }
    };
    let decision =
        decide_token(params.resource.as_ref(), params.scope.as_ref(), &held, now, service.default_ttl)?;
    if client.kind == ClientKind::Agent {
        // The agent and its grants were read as of `now`; a kill or a grant
        // revocation at or after `now` (already in the denylist, maybe not
        // yet in what was read) would make this token dead on arrival.
        let facts = TokenFacts {
            jti: "",
            agent_id: client.client_id.as_str(),
            audience: decision.audience.as_str(),
            issued_at: now,
        };
        match service.denylist.check(&facts).await.map_err(|e| internal(&e))? {
            None => {}
            Some(Inactive::Killed) => return Err(OAuthError::invalid_client("the agent is killed")),
            Some(Inactive::GrantRevoked | Inactive::Revoked) => {
                return Err(OAuthError::invalid_target("the grant on this resource was just revoked"))
            }
        }
    }
    let (response, jti) = mint(
        &service.key.active(),
        &service.issuer,
        client.client_id.as_str(),
        &client.client_id,
        &decision,
    )?;
    // Debug, not info: every issuance is in the audit trail already, and a
    // log line per token is a write per token on the hot path.
    tracing::debug!(
        client_id = %client.client_id,
        method = client.method,
        aud = %decision.audience,
        scope = %decision.scopes,
        expires_in = response.expires_in,
        "token issued"
    );
    Ok(Issued { response, audience: decision.audience.to_string(), jti })
}
