//! The OAuth 2.0 wire error (RFC 6749 §5.2, RFC 8707 §2) and the parse error
//! of the domain newtypes. Mapping to HTTP status codes happens once, in the
//! server.

use std::fmt;

/// The `error` codes of RFC 6749 §5.2, plus `invalid_target` (RFC 8707 §2),
/// `server_error`, and `temporarily_unavailable` (RFC 6749 §4.1.2.1), which
/// the token endpoint answers to a client over its rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    /// The code as it appears in the `error` member.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::InvalidTarget => "invalid_target",
            OAuthErrorCode::ServerError => "server_error",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An error answered by an OAuth endpoint: a code and a human-readable
/// description that never contains a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// Seconds after which the client may try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError { code, description: description.into(), retry_after: None }
    }
    /// The client is over its rate limit; it may try again after `retry_after` seconds.
    pub fn rate_limited(retry_after: u64) -> OAuthError {
        OAuthError {
            code: OAuthErrorCode::TemporarilyUnavailable,
            description: format!("too many token requests from this client; retry after {retry_after} s"),
            retry_after: Some(retry_after),
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidRequest, description)
    }
    pub fn invalid_client(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidClient, description)
    }
    pub fn invalid_scope(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidScope, description)
    }
    pub fn invalid_target(description: impl Into<String>) -> OAuthError {
        OAuthError::new(OAuthErrorCode::InvalidTarget, description)
    }
    pub fn server_error() -> OAuthError {
        OAuthError::new(OAuthErrorCode::ServerError, "the server could not complete the request")
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// A value that does not parse into a domain type: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> ParseError {
        ParseError { field, reason: reason.into() }
    }
}
