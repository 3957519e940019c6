//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3; OpenID
//! Connect Core §9): a JWT signed with a key from the client's registered
//! JWK Set, with `iss` = `sub` = client_id, our token endpoint or issuer in
//! `aud`, an `exp` at most an hour ahead, and a `jti` used once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{EdDSA, JwsVerifier, ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;
use warrant_policy::{ClientId, CredentialMethod, OAuthError, Timestamp};
use warrant_store::Store;

use crate::client_auth::{internal, AuthenticatedClient};
use crate::{TokenService, ASSERTION_ALGORITHMS};

/// The furthest ahead an assertion's `exp` may be (authlib's default lifetime).
pub const MAX_ASSERTION_LIFETIME: i64 = 3_600;
/// Allowance for clocks that disagree, in seconds.
pub const CLOCK_SKEW: i64 = 60;

fn refuse(reason: &'static str) -> OAuthError {
    tracing::info!(reason, "client assertion refused");
    OAuthError::invalid_client(format!("the client assertion is invalid: {reason}"))
}

/// Verifies a client assertion and records its `jti`.
pub(crate) async fn authenticate(
    service: &TokenService,
    client_id_param: Option<&ClientId>,
    assertion: &str,
) -> Result<AuthenticatedClient, OAuthError> {
    let header = jwt::decode_header(assertion).map_err(|_| refuse("not a signed JWT"))?;
    let alg = header.claim("alg").and_then(Value::as_str).unwrap_or("none");
    if !ASSERTION_ALGORITHMS.contains(&alg) {
        return Err(refuse("the algorithm is not accepted"));
    }
    let kid = header.claim("kid").and_then(Value::as_str);

    // Which client: read from the claims before the signature is checked,
    // then trusted only once a key registered for that client verifies it.
    let claimed = unverified_claims(assertion).ok_or_else(|| refuse("the claims are not a JSON object"))?;
    let issuer = claimed.get("iss").and_then(Value::as_str).ok_or_else(|| refuse("iss is missing"))?;
    let client_id = ClientId::parse(issuer).map_err(|_| refuse("iss is not a client id"))?;
    if client_id_param.is_some_and(|id| *id != client_id) {
        return Err(refuse("client_id differs from iss"));
    }

    let credentials = service.store.cached_credentials(&client_id).await.map_err(|e| internal(&e))?;
    let verified = credentials
        .iter()
        .filter(|c| c.method == CredentialMethod::PrivateKeyJwt)
        .filter_map(|c| c.jwks.as_deref().and_then(|j| JwkSet::from_bytes(j).ok()).map(|set| (c, set)))
        .find_map(|(credential, set)| {
            set.keys()
                .into_iter()
                .filter(|key| kid.is_none() || key.key_id() == kid)
                .find_map(|key| {
                    verifier_for(alg, key).and_then(|v| jwt::decode_with_verifier(assertion, &*v).ok())
                })
                .map(|(payload, _)| (payload, credential.client_kind, credential.id.clone()))
        });
    let Some((payload, kind, credential_id)) = verified else {
        tracing::info!(client_id = %client_id, "client assertion signature not verified");
        return Err(refuse("the signature does not verify with a key registered for this client"));
    };

    let now = service.clock.now();
    let expires_at = check_claims(service, &payload, &client_id, now)?;
    let jti = payload.claim("jti").and_then(Value::as_str).filter(|j| !j.is_empty());
    let jti = jti.ok_or_else(|| refuse("jti is missing"))?;
    let fresh = service
        .store
        .record_assertion_jti(&client_id, jti, expires_at, now)
        .await
        .map_err(|e| internal(&e))?;
    if !fresh {
        return Err(refuse("this assertion was already used (jti replay)"));
    }
    Ok(AuthenticatedClient { client_id, kind, method: "private_key_jwt", credential_id })
}

/// Checks `iss`, `sub`, `aud`, `exp`, `iat` and `nbf`; returns `exp`.
fn check_claims(
    service: &TokenService,
    payload: &JwtPayload,
    client_id: &ClientId,
    now: Timestamp,
) -> Result<Timestamp, OAuthError> {
    let text = |name: &str| payload.claim(name).and_then(Value::as_str);
    let number = |name: &str| payload.claim(name).and_then(Value::as_i64).map(Timestamp);
    if text("iss") != Some(client_id.as_str()) || text("sub") != Some(client_id.as_str()) {
        return Err(refuse("iss and sub must both be the client_id"));
    }
    let accepted = [service.token_endpoint(), service.issuer.clone()];
    let audience_ok = match payload.claim("aud") {
        Some(Value::String(aud)) => accepted.contains(aud),
        Some(Value::Array(auds)) => {
            auds.iter().filter_map(Value::as_str).any(|a| accepted.iter().any(|x| x == a))
        }
        _ => false,
    };
    if !audience_ok {
        return Err(refuse("aud must be the token endpoint or the issuer"));
    }
    let exp = number("exp").ok_or_else(|| refuse("exp is missing"))?;
    if exp.plus(CLOCK_SKEW) <= now {
        return Err(refuse("the assertion has expired"));
    }
    if now.seconds_until(exp) > MAX_ASSERTION_LIFETIME + CLOCK_SKEW {
        return Err(refuse("exp is more than 60 minutes ahead"));
    }
    if number("iat").is_some_and(|iat| iat > now.plus(CLOCK_SKEW)) {
        return Err(refuse("iat is in the future"));
    }
    if number("nbf").is_some_and(|nbf| nbf > now.plus(CLOCK_SKEW)) {
        return Err(refuse("the assertion is not valid yet (nbf)"));
    }
    Ok(exp)
}

/// The `iss` an assertion claims, unchecked (for the audit of a refusal).
pub(crate) fn claimed_issuer(assertion: &str) -> Option<String> {
    unverified_claims(assertion)?.get("iss")?.as_str().map(str::to_owned)
}

/// The claims of a compact JWS, without checking anything.
fn unverified_claims(compact: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = compact.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A verifier for `alg` from a registered public key, if the key fits it.
fn verifier_for(alg: &str, key: &Jwk) -> Option<Box<dyn JwsVerifier>> {
    fn boxed<V: JwsVerifier + 'static>(v: Result<V, josekit::JoseError>) -> Option<Box<dyn JwsVerifier>> {
        v.ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>)
    }
    match alg {
        "ES256" => boxed(ES256.verifier_from_jwk(key)),
        "ES384" => boxed(ES384.verifier_from_jwk(key)),
        "ES512" => boxed(ES512.verifier_from_jwk(key)),
        "RS256" => boxed(RS256.verifier_from_jwk(key)),
        "RS384" => boxed(RS384.verifier_from_jwk(key)),
        "RS512" => boxed(RS512.verifier_from_jwk(key)),
        "PS256" => boxed(PS256.verifier_from_jwk(key)),
        "PS384" => boxed(PS384.verifier_from_jwk(key)),
        "PS512" => boxed(PS512.verifier_from_jwk(key)),
        "EdDSA" => boxed(EdDSA.verifier_from_jwk(key)),
        _ => None,
    }
}

/// Checks a client's JWK Set at registration: public keys only, each usable
/// with one of the accepted algorithms.
pub fn validate_client_jwks(jwks: &Value) -> Result<String, String> {
    let text = jwks.to_string();
    let set = JwkSet::from_bytes(text.as_bytes()).map_err(|e| format!("jwks is not a JWK Set: {e}"))?;
    if set.keys().is_empty() {
        return Err("jwks holds no key".into());
    }
    for key in set.keys() {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|p| key.parameter(p).is_some()) {
            return Err("jwks must hold public keys only (a private or symmetric key was sent)".into());
        }
        if !ASSERTION_ALGORITHMS.iter().any(|alg| verifier_for(alg, key).is_some()) {
            return Err(format!(
                "jwks key of type {} is not usable for an accepted algorithm",
                key.key_type()
            ));
        }
    }
    Ok(text)
}
