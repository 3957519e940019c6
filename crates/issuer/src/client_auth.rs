//! Client authentication at the token endpoint (RFC 6749 §2.3): exactly one
//! of `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
//! Every failure to prove who the client is answers `invalid_client`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use warrant_policy::{ClientId, ClientKind, CredentialMethod, OAuthError};

use crate::request::BodyCredentials;
use crate::{assertion, TokenService};

/// A client whose credentials were checked, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub client_id: ClientId,
    pub kind: ClientKind,
    pub method: &'static str,
    /// The credential that proved it.
    pub credential_id: String,
}

/// Logs an internal failure with its cause and answers `server_error`.
pub(crate) fn internal(error: &(dyn std::error::Error + 'static)) -> OAuthError {
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %error, causes = ?causes, "token endpoint failed");
    OAuthError::server_error()
}

/// Authenticates the client of a token request.
pub(crate) async fn authenticate(
    service: &TokenService,
    authorization: Option<&str>,
    body: &BodyCredentials,
) -> Result<AuthenticatedClient, OAuthError> {
    let basic = authorization.map(parse_basic).transpose()?.flatten();
    let methods = [basic.is_some(), body.client_secret.is_some(), body.client_assertion.is_some()];
    if methods.iter().filter(|m| **m).count() > 1 {
        return Err(OAuthError::invalid_request("use exactly one client authentication method"));
    }
    if let Some((client_id, secret)) = basic {
        if body.client_id.as_ref().is_some_and(|id| *id != client_id) {
            return Err(OAuthError::invalid_request("client_id differs from the Authorization header"));
        }
        return check_secret(service, client_id, &secret, "client_secret_basic").await;
    }
    if let Some(secret) = &body.client_secret {
        let client_id =
            body.client_id.clone().ok_or_else(|| OAuthError::invalid_request("client_id is missing"))?;
        return check_secret(service, client_id, secret, "client_secret_post").await;
    }
    if let Some(jwt) = &body.client_assertion {
        return assertion::authenticate(service, body.client_id.as_ref(), jwt).await;
    }
    Err(OAuthError::invalid_client("client authentication is required"))
}

/// The client id a request claims, before anything is checked: for the
/// audit trail of a refusal, never for a decision.
pub(crate) fn claimed_client_id(authorization: Option<&str>, body: &BodyCredentials) -> Option<String> {
    let from_header = authorization.and_then(|h| parse_basic(h).ok().flatten()).map(|(id, _)| id.to_string());
    from_header
        .or_else(|| body.client_id.as_ref().map(ClientId::to_string))
        .or_else(|| body.client_assertion.as_deref().and_then(assertion::claimed_issuer))
}

/// Parses `Authorization: Basic …` (RFC 6749 §2.3.1: both parts are
/// form-urlencoded before base64). Another scheme is not client
/// authentication and yields `None`.
fn parse_basic(header: &str) -> Result<Option<(ClientId, String)>, OAuthError> {
    let Some((scheme, encoded)) = header.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || OAuthError::invalid_request("the Basic authorization header is malformed");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default()
    };
    let client_id = ClientId::parse(&unescape(id)).map_err(|_| malformed())?;
    Ok(Some((client_id, unescape(secret))))
}

async fn check_secret(
    service: &TokenService,
    client_id: ClientId,
    secret: &str,
    method: &'static str,
) -> Result<AuthenticatedClient, OAuthError> {
    let credentials = service.store.cached_credentials(&client_id).await.map_err(|e| internal(&e))?;
    let matched = credentials
        .iter()
        .filter(|c| c.method == CredentialMethod::ClientSecret)
        .filter_map(|c| c.secret_hash.as_deref().map(|hash| (c, hash)))
        .find(|(_, hash)| service.hasher.verify(secret, hash));
    match matched {
        Some((credential, _)) => Ok(AuthenticatedClient {
            client_id,
            kind: credential.client_kind,
            method,
            credential_id: credential.id.clone(),
        }),
        None => {
            if credentials.is_empty() {
                // Spend the same HMAC an existing client would, so that timing
                // does not tell which client ids exist.
                service.hasher.verify(secret, &[0; 32]);
            }
            tracing::info!(client_id = %client_id, method, "client authentication failed");
            Err(OAuthError::invalid_client("client authentication failed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_policy::OAuthErrorCode;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("agt%3A1:s%2Bcret%25"));
        let (id, secret) = parse_basic(&header).unwrap().unwrap();
        assert_eq!((id.as_str(), secret.as_str()), ("agt:1", "s+cret%"));
    }

    #[test]
    fn another_scheme_is_not_client_authentication_and_garbage_is_malformed() {
        assert_eq!(parse_basic("Bearer abc").unwrap(), None);
        for bad in ["Basic !!!", &format!("Basic {}", STANDARD.encode("no-colon"))] {
            assert_eq!(parse_basic(bad).unwrap_err().code, OAuthErrorCode::InvalidRequest, "{bad}");
        }
    }
}
