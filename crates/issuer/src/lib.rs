//! The token endpoint and what it needs: client authentication
//! (`client_secret_basic`, `client_secret_post`, `private_key_jwt` with
//! replay protection), the client-credentials grant, RFC 9068 JWT minting
//! with josekit, the signing keys (and their rotation, `keyring`), the
//! secret-hashing pepper, and the per-client rate limit of the token endpoint.
//!
//! HTTP is left to the server: [`TokenService::token`] takes the
//! `Authorization` header and the form body and answers a
//! [`TokenResponse`] or an [`OAuthError`].

mod assertion;
mod client_auth;
mod error;
pub mod grant;
mod keyring;
mod keys;
mod mint;
mod rate_limit;
mod request;
mod secret;

use std::sync::Arc;

use serde_json::json;
use warrant_policy::{ClientKind, Clock, OAuthError};
use warrant_store::audit::{AuditWriter, NewAuditEvent};
use warrant_store::denylist::Denylist;
use warrant_store::CachedStore;

pub use assertion::validate_client_jwks;
pub use client_auth::AuthenticatedClient;
pub use error::KeyError;
pub use keyring::{list_keys, prune_expired, rotate, KeyRing, KeyStatus, RetiredKey, Rotation, SigningKeys};
pub use keys::{load_or_create_pepper, SigningKey};
pub use mint::{mint, TokenResponse};
pub use rate_limit::{Limited, RateLimit};
pub use request::{BodyCredentials, ClientForm, GrantRequest, TokenRequest};
pub use secret::{new_id, SecretHasher, SecretString};

/// Assertion algorithms accepted for `private_key_jwt` (never `none`, never HMAC).
pub const ASSERTION_ALGORITHMS: &[&str] =
    &["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];

/// How far a token request got in telling who it is, for the audit trail.
enum Who {
    Nobody,
    Claimed(Option<String>),
    Authenticated(AuthenticatedClient),
    /// Authenticated, over its rate limit, and already audited this second.
    Throttled(AuthenticatedClient),
}

/// Told of every answer of [`TokenService::token`], for metrics. Called on
/// the request's task: it must be cheap and must not block.
pub trait TokenObserver: Send + Sync {
    /// A token was issued to `client`.
    fn issued(&self, client: &AuthenticatedClient);
    /// The request was refused with `error`.
    fn refused(&self, error: &OAuthError);
}

/// Everything the token endpoint needs, shared by all requests.
pub struct TokenService {
    /// Agents, credentials and grants served from memory; every other
    /// read and write passes through to the database.
    pub store: Arc<CachedStore>,
    /// The active key signs; the set is reloaded on rotation.
    pub key: Arc<SigningKeys>,
    pub hasher: Arc<SecretHasher>,
    pub clock: Arc<dyn Clock>,
    /// The `iss` of every token.
    pub issuer: String,
    /// Lifetime of a token when no grant asks for less, in seconds.
    pub default_ttl: i64,
    /// Every issuance and refusal is audited; the answer waits for the
    /// group commit that carries its event.
    pub audit: AuditWriter,
    /// Consulted before a token is signed, so that a kill or a grant
    /// revocation that lands while the request is read refuses it.
    pub denylist: Arc<dyn Denylist>,
    /// Per authenticated client, checked before the grant runs.
    pub rate_limit: RateLimit,
    /// Told of each answer (issued or refused, and how).
    pub observer: Arc<dyn TokenObserver>,
}

impl TokenService {
    /// The token endpoint's URL, an accepted client-assertion audience.
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.issuer)
    }

    /// Authenticates the client of a request to any OAuth endpoint (token,
    /// introspection, revocation) from its `Authorization` header and the
    /// credentials in its form (RFC 6749 §2.3).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        credentials: &BodyCredentials,
    ) -> Result<AuthenticatedClient, OAuthError> {
        client_auth::authenticate(self, authorization, credentials).await
    }

    /// Handles one token request (RFC 6749 §4.4.2): parses the form,
    /// authenticates the client, runs the grant, and audits the outcome
    /// (`token.issued` or `token.refused`) before answering.
    pub async fn token(&self, authorization: Option<&str>, form: &[u8]) -> Result<TokenResponse, OAuthError> {
        let mut who = Who::Nobody;
        let outcome = self.issue(authorization, form, &mut who).await;
        if let Who::Throttled(_) = who {
            if let Err(error) = &outcome {
                self.observer.refused(error);
            }
            return outcome.map(|(_, issued)| issued.response);
        }
        let now = self.clock.now();
        let event = match &outcome {
            Ok((client, issued)) => NewAuditEvent {
                at: now,
                actor: client.client_id.to_string(),
                action: "token.issued".into(),
                agent_id: (client.kind == ClientKind::Agent).then(|| client.client_id.to_string()),
                resource: Some(issued.audience.clone()),
                detail: json!({
                    "jti": issued.jti,
                    "scope": issued.response.scope,
                    "expires_in": issued.response.expires_in,
                    "method": client.method,
                    "credential_id": client.credential_id,
                }),
            },
            Err(error) => {
                let (actor, agent_id, claimed) = match who {
                    Who::Authenticated(client) | Who::Throttled(client) => {
                        let agent_id =
                            (client.kind == ClientKind::Agent).then(|| client.client_id.to_string());
                        (client.client_id.to_string(), agent_id, None)
                    }
                    Who::Claimed(claimed) => ("unauthenticated".to_owned(), None, claimed),
                    Who::Nobody => ("unauthenticated".to_owned(), None, None),
                };
                NewAuditEvent {
                    at: now,
                    actor,
                    action: "token.refused".into(),
                    agent_id,
                    resource: None,
                    detail: json!({"error": error.code.as_str(), "reason": error.description, "claimed_client_id": claimed}),
                }
            }
        };
        if let Err(error) = self.audit.record(event).await {
            let error = client_auth::internal(&error);
            self.observer.refused(&error);
            return Err(error);
        }
        match &outcome {
            Ok((client, _)) => self.observer.issued(client),
            Err(error) => self.observer.refused(error),
        }
        outcome.map(|(_, issued)| issued.response)
    }

    async fn issue(
        &self,
        authorization: Option<&str>,
        form: &[u8],
        who: &mut Who,
    ) -> Result<(AuthenticatedClient, grant::client_credentials::Issued), OAuthError> {
        let request = TokenRequest::parse(form)?;
        *who = Who::Claimed(client_auth::claimed_client_id(authorization, &request.credentials));
        let client = self.authenticate(authorization, &request.credentials).await?;
        *who = Who::Authenticated(client.clone());
        if let Err(limited) = self.rate_limit.check(client.client_id.as_str()) {
            tracing::info!(client_id = %client.client_id, "token refused: over the rate limit");
            if !limited.audit {
                *who = Who::Throttled(client);
            }
            return Err(OAuthError::rate_limited(limited.retry_after_secs()));
        }
        let issued = match request.grant {
            GrantRequest::ClientCredentials(params) => {
                grant::client_credentials::run(self, &client, params).await?
            }
        };
        Ok((client, issued))
    }
}
