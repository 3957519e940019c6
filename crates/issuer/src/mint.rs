//! Minting of JWT access tokens (RFC 9068 §2): `typ: at+jwt`, ES256, `kid`,
//! and the claims `iss`, `sub`, `aud`, `client_id`, `scope`, `jti`, `iat`,
//! `exp`; and the token response (RFC 6749 §5.1).

use josekit::jws::JwsHeader;
use josekit::jwt::{self, JwtPayload};
use serde::Serialize;
use serde_json::Value;
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
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id(key.kid());
    let scope = decision.scopes.to_string();
    let mut payload = JwtPayload::new();
    let claims = [
        ("iss", Value::from(issuer)),
        ("sub", Value::from(subject)),
        ("aud", Value::from(decision.audience.as_str())),
        ("client_id", Value::from(client_id.as_str())),
        ("scope", Value::from(scope.as_str())),
        ("jti", Value::from(jti.as_str())),
        ("iat", Value::from(decision.issued_at.unix())),
        ("exp", Value::from(decision.expires_at.unix())),
    ];
    for (name, value) in claims {
        payload.set_claim(name, Some(value)).map_err(|e| internal(&e))?;
    }
    let access_token = jwt::encode_with_signer(&payload, &header, &key.signer).map_err(|e| internal(&e))?;
    let response = TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: decision.issued_at.seconds_until(decision.expires_at),
        scope,
    };
    Ok((response, jti))
}
