//! Why the layer refused a request, and the one place where each reason
//! becomes an HTTP answer (RFC 6750 §3 and §3.1):
//!
//! - no bearer token: 401 with `WWW-Authenticate: Bearer` and no error code;
//! - a malformed request (several `Authorization` headers): 400 `invalid_request`;
//! - a token that does not verify, or that the denylist holds inactive:
//!   401 `invalid_token`;
//! - a valid token without the required scopes: 403 `insufficient_scope`,
//!   naming the scopes needed;
//! - the keys or the denylist cannot be reached: 503. The layer never passes
//!   a request it could not check (DESIGN.md "Kill switch", rule 2).
//!
//! Bodies are JSON `{"error", "error_description"}`; descriptions never hold
//! the token, and an inactive token is not told why it is inactive.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde_json::json;
use warrant_policy::ScopeSet;
use warrant_store::denylist::{DenylistError, Inactive};

use super::bearer::BearerError;
use super::error::LayerError;
use crate::VerifyError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// The request carries no bearer token.
    #[error("the request carries no bearer token")]
    Missing,
    /// The `Authorization` header cannot be read.
    #[error(transparent)]
    Header(#[from] BearerError),
    /// The token does not verify (signature, key, issuer, audience, time).
    #[error(transparent)]
    Invalid(#[from] VerifyError),
    /// The denylist holds the token inactive (revoked, agent killed, grant revoked).
    #[error("the token is {}", .0.as_str())]
    Inactive(Inactive),
    /// The token lacks some of the scopes the route requires.
    #[error("the token lacks the scopes {required}")]
    InsufficientScope {
        /// Every scope the route requires (RFC 6750 §3: the `scope` attribute).
        required: ScopeSet,
    },
    /// Warrant's keys could not be obtained.
    #[error("Warrant's public keys are unavailable")]
    KeysUnavailable(#[source] LayerError),
    /// The denylist could not be read.
    #[error("the denylist is unavailable")]
    DenylistUnavailable(#[source] DenylistError),
}

/// The parts of an answer.
struct Answer {
    status: StatusCode,
    /// The `error` code; `None` only for a request without a token.
    error: Option<&'static str>,
    description: String,
    /// The `scope` attribute of the challenge.
    scope: Option<String>,
    /// A `WWW-Authenticate` challenge (refusals), or `Retry-After` (503).
    then: Then,
}

/// What the answer says about what the client may do next.
#[derive(Clone, Copy)]
enum Then {
    Challenge,
    RetryLater,
}

impl Rejection {
    /// The HTTP status this rejection is answered with.
    pub fn status(&self) -> StatusCode {
        self.answer().status
    }

    fn answer(&self) -> Answer {
        let refuse = |status, error, description: String| Answer {
            status,
            error,
            description,
            scope: None,
            then: Then::Challenge,
        };
        match self {
            Rejection::Missing => refuse(StatusCode::UNAUTHORIZED, None, self.to_string()),
            Rejection::Header(BearerError::Repeated | BearerError::NotText) => {
                refuse(StatusCode::BAD_REQUEST, Some("invalid_request"), self.to_string())
            }
            Rejection::Header(BearerError::MalformedToken) | Rejection::Invalid(_) => {
                refuse(StatusCode::UNAUTHORIZED, Some("invalid_token"), self.to_string())
            }
            Rejection::Inactive(_) => {
                refuse(StatusCode::UNAUTHORIZED, Some("invalid_token"), "the token is not active".to_owned())
            }
            Rejection::InsufficientScope { required } => Answer {
                scope: Some(required.to_string()),
                ..refuse(
                    StatusCode::FORBIDDEN,
                    Some("insufficient_scope"),
                    format!("this request needs the scopes {required}"),
                )
            },
            Rejection::KeysUnavailable(_) | Rejection::DenylistUnavailable(_) => Answer {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: Some("temporarily_unavailable"),
                description: format!("{self}; the token could not be checked, try again"),
                scope: None,
                then: Then::RetryLater,
            },
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let answer = self.answer();
        let mut response = match answer.error {
            Some(error) => {
                let body = json!({ "error": error, "error_description": answer.description });
                let mut response = Response::new(Body::from(body.to_string()));
                response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() = answer.status;
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match answer.then {
            Then::Challenge => headers.insert(WWW_AUTHENTICATE, challenge(&answer)),
            Then::RetryLater => headers.insert(RETRY_AFTER, HeaderValue::from_static("1")),
        };
        response
    }
}

/// The `WWW-Authenticate` challenge (RFC 6750 §3). Descriptions and scope
/// tokens hold no `"` or `\` (RFC 6749 §3.3, §5.2), so quoting is plain.
fn challenge(answer: &Answer) -> HeaderValue {
    let Some(error) = answer.error else { return HeaderValue::from_static("Bearer") };
    let mut value = format!(r#"Bearer error="{error}", error_description="{}""#, answer.description);
    if let Some(scope) = &answer.scope {
        value.push_str(&format!(r#", scope="{scope}""#));
    }
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static(r#"Bearer error="invalid_token""#))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(response: &Response, name: http::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn each_rejection_gets_its_status_and_challenge() {
        let scopes = ScopeSet::parse("tickets:read tickets:write").unwrap();
        let cases = [
            (Rejection::Missing, StatusCode::UNAUTHORIZED, Some("Bearer".to_owned())),
            (
                Rejection::Header(BearerError::Repeated),
                StatusCode::BAD_REQUEST,
                Some(r#"Bearer error="invalid_request", error_description="the request has more than one Authorization header""#.to_owned()),
            ),
            (
                Rejection::Header(BearerError::MalformedToken),
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token", error_description="the bearer token is malformed""#.to_owned()),
            ),
            (
                Rejection::Invalid(VerifyError::Expired),
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token", error_description="the token has expired""#.to_owned()),
            ),
            (
                Rejection::Inactive(Inactive::Killed),
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token", error_description="the token is not active""#.to_owned()),
            ),
            (
                Rejection::InsufficientScope { required: scopes },
                StatusCode::FORBIDDEN,
                Some(r#"Bearer error="insufficient_scope", error_description="this request needs the scopes tickets:read tickets:write", scope="tickets:read tickets:write""#.to_owned()),
            ),
            (Rejection::KeysUnavailable(LayerError::NoUsableKey), StatusCode::SERVICE_UNAVAILABLE, None),
            (Rejection::DenylistUnavailable(DenylistError::Timeout), StatusCode::SERVICE_UNAVAILABLE, None),
        ];
        for (rejection, status, challenge) in cases {
            let name = format!("{rejection:?}");
            let response = rejection.into_response();
            assert_eq!(response.status(), status, "{name}");
            assert_eq!(header(&response, WWW_AUTHENTICATE), challenge.as_deref(), "{name}");
            assert_eq!(header(&response, CACHE_CONTROL), Some("no-store"), "{name}");
        }
    }

    #[test]
    fn an_unavailable_answer_says_try_again_later() {
        let response = Rejection::DenylistUnavailable(DenylistError::NotLoaded).into_response();
        assert_eq!(header(&response, RETRY_AFTER), Some("1"));
        assert_eq!(header(&response, CONTENT_TYPE), Some("application/json"));
    }
}
