//! The token endpoint and what it needs: client authentication
//! (`client_secret_basic`, `client_secret_post`, `private_key_jwt` with
//! replay protection), the client-credentials grant, RFC 9068 JWT minting
//! with josekit, the signing key and the secret-hashing pepper.
//!
//! HTTP is left to the server: [`TokenService::token`] takes the
//! `Authorization` header and the form body and answers a
//! [`TokenResponse`] or an [`OAuthError`].

mod assertion;
mod client_auth;
mod error;
pub mod grant;
mod keys;
mod mint;
mod request;
mod secret;

use std::sync::Arc;

use warrant_policy::{Clock, OAuthError};
use warrant_store::Store;

pub use assertion::validate_client_jwks;
pub use client_auth::AuthenticatedClient;
pub use error::KeyError;
pub use keys::{load_or_create_pepper, SigningKey};
pub use mint::TokenResponse;
pub use request::{BodyCredentials, ClientForm, GrantRequest, TokenRequest};
pub use secret::{new_id, SecretHasher, SecretString};

/// Assertion algorithms accepted for `private_key_jwt` (never `none`, never HMAC).
pub const ASSERTION_ALGORITHMS: &[&str] =
    &["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];

/// Everything the token endpoint needs, shared by all requests.
pub struct TokenService {
    pub store: Arc<dyn Store>,
    pub key: Arc<SigningKey>,
    pub hasher: Arc<SecretHasher>,
    pub clock: Arc<dyn Clock>,
    /// The `iss` of every token.
    pub issuer: String,
    /// Lifetime of a token when no grant asks for less, in seconds.
    pub default_ttl: i64,
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
    /// authenticates the client, and runs the grant.
    pub async fn token(&self, authorization: Option<&str>, form: &[u8]) -> Result<TokenResponse, OAuthError> {
        let request = TokenRequest::parse(form)?;
        let client = self.authenticate(authorization, &request.credentials).await?;
        match request.grant {
            GrantRequest::ClientCredentials(params) => {
                grant::client_credentials::run(self, &client, params).await
            }
        }
    }
}
