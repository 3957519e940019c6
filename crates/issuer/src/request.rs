//! Parsing of the token request form (RFC 6749 §4.4.2, §3.2, §2.3; RFC 8707
//! §2; RFC 7523 §2.2) into a request tagged on `grant_type`. Past this
//! module no handler looks at a raw parameter.

use std::collections::BTreeMap;

use warrant_policy::{Audience, ClientId, OAuthError, OAuthErrorCode, ScopeSet};

/// `client_assertion_type` for a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A parsed token request: the client's credentials found in the body, and
/// the grant it asks for.
#[derive(Debug)]
pub struct TokenRequest {
    pub credentials: BodyCredentials,
    pub grant: GrantRequest,
}

/// The grant types the token endpoint serves.
#[derive(Debug)]
pub enum GrantRequest {
    ClientCredentials(ClientCredentialsParams),
}

/// The parameters of the client-credentials grant (RFC 6749 §4.4.2, RFC 8707).
#[derive(Debug)]
pub struct ClientCredentialsParams {
    pub scope: Option<ScopeSet>,
    pub resource: Option<Audience>,
}

/// Client credentials carried in the body (as opposed to the header).
#[derive(Default)]
pub struct BodyCredentials {
    pub client_id: Option<ClientId>,
    pub client_secret: Option<String>,
    /// The compact JWT of a `jwt-bearer` client assertion.
    pub client_assertion: Option<String>,
}

impl std::fmt::Debug for BodyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("client_assertion", &self.client_assertion.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A form posted by a client to an OAuth endpoint: its credentials, taken
/// out, and the other parameters, each present once (RFC 6749 §3.2).
#[derive(Debug)]
pub struct ClientForm {
    pub credentials: BodyCredentials,
    pub params: BTreeMap<String, String>,
}

impl ClientForm {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(form: &[u8]) -> Result<ClientForm, OAuthError> {
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(form) {
            if params.contains_key(name.as_ref()) {
                // RFC 8707 §2 allows several resources; Warrant issues one per token.
                return Err(if name == "resource" {
                    OAuthError::invalid_target("one resource per token: the resource parameter is repeated")
                } else {
                    OAuthError::invalid_request(format!("the {name} parameter is repeated"))
                });
            }
            params.insert(name.into_owned(), value.into_owned());
        }
        let credentials = body_credentials(&mut params)?;
        Ok(ClientForm { credentials, params })
    }

    /// Takes a required parameter out of the form.
    pub fn take_required(&mut self, name: &str) -> Result<String, OAuthError> {
        match self.params.remove(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(OAuthError::invalid_request(format!("the {name} parameter is missing"))),
        }
    }
}

impl TokenRequest {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(form: &[u8]) -> Result<TokenRequest, OAuthError> {
        let ClientForm { credentials, mut params } = ClientForm::parse(form)?;
        let grant = match params.remove("grant_type").as_deref() {
            None | Some("") => {
                return Err(OAuthError::invalid_request("the grant_type parameter is missing"))
            }
            Some("client_credentials") => GrantRequest::ClientCredentials(ClientCredentialsParams {
                scope: params
                    .remove("scope")
                    .map(|s| ScopeSet::parse(&s))
                    .transpose()
                    .map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
                resource: params
                    .remove("resource")
                    .map(|r| Audience::parse(&r))
                    .transpose()
                    .map_err(|e| OAuthError::invalid_target(e.to_string()))?,
            }),
            Some(other) => {
                return Err(OAuthError::new(
                    OAuthErrorCode::UnsupportedGrantType,
                    format!("grant_type {other:?} is not supported; use client_credentials"),
                ))
            }
        };
        Ok(TokenRequest { credentials, grant })
    }
}

fn body_credentials(params: &mut BTreeMap<String, String>) -> Result<BodyCredentials, OAuthError> {
    let client_id = params
        .remove("client_id")
        .map(|id| ClientId::parse(&id))
        .transpose()
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let client_secret = params.remove("client_secret");
    let client_assertion = match (params.remove("client_assertion_type"), params.remove("client_assertion")) {
        (None, None) => None,
        (Some(kind), Some(assertion)) if kind == JWT_BEARER_ASSERTION => Some(assertion),
        (Some(kind), Some(_)) => {
            return Err(OAuthError::invalid_request(format!(
                "client_assertion_type {kind:?} is not supported"
            )))
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type must be sent together",
            ))
        }
    };
    Ok(BodyCredentials { client_id, client_secret, client_assertion })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(form: &str) -> OAuthErrorCode {
        TokenRequest::parse(form.as_bytes()).unwrap_err().code
    }

    #[test]
    fn a_client_credentials_request_parses() {
        let r = TokenRequest::parse(b"grant_type=client_credentials&scope=a%20b&resource=https%3A%2F%2Fcrm")
            .unwrap();
        let GrantRequest::ClientCredentials(p) = r.grant;
        assert_eq!(p.scope.unwrap().to_string(), "a b");
        assert_eq!(p.resource.unwrap().as_str(), "https://crm");
    }

    #[test]
    fn each_malformed_request_gets_its_error() {
        assert_eq!(code(""), OAuthErrorCode::InvalidRequest);
        assert_eq!(code("grant_type="), OAuthErrorCode::InvalidRequest);
        assert_eq!(code("grant_type=password"), OAuthErrorCode::UnsupportedGrantType);
        assert_eq!(
            code("grant_type=client_credentials&grant_type=client_credentials"),
            OAuthErrorCode::InvalidRequest
        );
        assert_eq!(
            code("grant_type=client_credentials&resource=https://a&resource=https://b"),
            OAuthErrorCode::InvalidTarget
        );
        assert_eq!(code("grant_type=client_credentials&resource=relative"), OAuthErrorCode::InvalidTarget);
        assert_eq!(code("grant_type=client_credentials&scope="), OAuthErrorCode::InvalidScope);
        assert_eq!(code("grant_type=client_credentials&client_assertion=x"), OAuthErrorCode::InvalidRequest);
        assert_eq!(
            code("grant_type=client_credentials&client_assertion=x&client_assertion_type=saml"),
            OAuthErrorCode::InvalidRequest
        );
    }
}
