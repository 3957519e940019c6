//! Minting of JWT access tokens (RFC 9068 §2): `typ: at+jwt`, ES256, `kid`,
//! and the claims `iss`, `sub`, `aud`, `client_id`, `scope`, `jti`, `iat`,
//! `exp`; and the token response (RFC 6749 §5.1).

use serde::Serialize;
use warrant_policy::{ClientId, OAuthError, TokenDecision};

use crate::client_auth::internal;
use crate::SigningKey;

/// The successful answer of the token endpoint (RFC 6749 §5.1).
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    scope: &'a str,
    jti: &'a str,
    iat: i64,
    exp: i64,
}

/// Signs an access token of `issuer` for `subject` as decided, and wraps
/// it in the response; also returns the token's `jti`.
pub fn mint(
    key: &SigningKey,
    issuer: &str,
    subject: &str,
    client_id: &ClientId,
    decision: &TokenDecision,
) -> Result<(TokenResponse, String), OAuthError> {
    let jti = uuid::Uuid::new_v4().to_string();
    let scope = decision.scopes.to_string();
    let claims = Claims {
        iss: issuer,
        sub: subject,
        aud: decision.audience.as_str(),
        client_id: client_id.as_str(),
        scope: &scope,
        jti: &jti,
        iat: decision.issued_at.unix(),
        exp: decision.expires_at.unix(),
    };
    let claims = serde_json::to_vec(&claims).map_err(|e| internal(&e))?;
    let access_token = key.sign_jwt(&claims).map_err(|e| internal(&e))?;
    let response = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: decision.issued_at.seconds_until(decision.expires_at),
        scope,
    };
    Ok((response, jti))
}
