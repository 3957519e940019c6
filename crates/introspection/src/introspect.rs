//! The decision behind RFC 7662 introspection (and every other place that
//! must know whether a token is live): it verifies, then asks the denylist.
//! A token is active only when both say so; a denylist that cannot answer
//! is an error, never a guess.

use warrant_policy::Timestamp;
use warrant_store::denylist::{Denylist, DenylistError, Inactive, TokenFacts};

use crate::{AccessClaims, AccessTokenVerifier, VerifyError};

/// What introspection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    Active(AccessClaims),
    /// Inactive; `agent_id` is the token's `sub` when its signature verified.
    Inactive {
        reason: InactiveReason,
        agent_id: Option<String>,
    },
}

/// Why a token is inactive (logged and counted, never told to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveReason {
    Invalid(VerifyError),
    Denied(Inactive),
}

impl InactiveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            InactiveReason::Invalid(VerifyError::Malformed) => "malformed",
            InactiveReason::Invalid(VerifyError::Algorithm) => "algorithm",
            InactiveReason::Invalid(VerifyError::Type) => "type",
            InactiveReason::Invalid(VerifyError::UnknownKey) => "unknown_kid",
            InactiveReason::Invalid(VerifyError::Signature) => "signature",
            InactiveReason::Invalid(VerifyError::Issuer) => "issuer",
            InactiveReason::Invalid(VerifyError::Audience) => "audience",
            InactiveReason::Invalid(VerifyError::Expired) => "expired",
            InactiveReason::Invalid(VerifyError::IssuedInFuture) => "issued_in_future",
            InactiveReason::Denied(reason) => reason.as_str(),
        }
    }
}

/// Whether `token` is an active token for `audience` at `now`.
pub async fn introspect(
    verifier: &AccessTokenVerifier,
    denylist: &dyn Denylist,
    token: &str,
    audience: &str,
    now: Timestamp,
) -> Result<Introspection, DenylistError> {
    let claims = match verifier.verify(token, audience, now) {
        Ok(claims) => claims,
        Err(error) => {
            return Ok(Introspection::Inactive { reason: InactiveReason::Invalid(error), agent_id: None })
        }
    };
    let facts = TokenFacts {
        jti: &claims.jti,
        agent_id: &claims.sub,
        audience: &claims.aud,
        issued_at: Timestamp(claims.iat),
    };
    Ok(match denylist.check(&facts).await? {
        Some(reason) => {
            Introspection::Inactive { reason: InactiveReason::Denied(reason), agent_id: Some(claims.sub) }
        }
        None => Introspection::Active(claims),
    })
}
