//! The two error shapes Warrant answers with, each mapped to HTTP once:
//! OAuth endpoint errors (RFC 6749 §5.2) and admin API errors
//! (`{"error", "error_description"}`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use warrant_policy::{OAuthError, OAuthErrorCode, ParseError, TransitionError};
use warrant_store::StoreError;

/// An error and its causes, on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The status RFC 6749 §5.2 (and RFC 8707 §2) names for each error code.
pub fn oauth_status(code: OAuthErrorCode) -> StatusCode {
    match code {
        OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::TOO_MANY_REQUESTS,
        OAuthErrorCode::InvalidRequest
        | OAuthErrorCode::InvalidGrant
        | OAuthErrorCode::UnauthorizedClient
        | OAuthErrorCode::UnsupportedGrantType
        | OAuthErrorCode::InvalidScope
        | OAuthErrorCode::InvalidTarget => StatusCode::BAD_REQUEST,
    }
}

/// An OAuth error as an HTTP response, with `Cache-Control: no-store` and,
/// for `invalid_client`, `WWW-Authenticate` (RFC 6749 §5.2).
pub struct OAuthErrorResponse {
    pub error: OAuthError,
    /// Overrides the code's status (413 for an oversized body).
    pub status: Option<StatusCode>,
}

impl From<OAuthError> for OAuthErrorResponse {
    fn from(error: OAuthError) -> Self {
        OAuthErrorResponse { error, status: None }
    }
}

impl IntoResponse for OAuthErrorResponse {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| oauth_status(self.error.code));
        let body = json!({"error": self.error.code.as_str(), "error_description": self.error.description});
        let mut response = (status, no_store(), Json(body)).into_response();
        if self.error.code == OAuthErrorCode::InvalidClient {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"warrant\""));
        }
        if let Some(seconds) = self.error.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// 503 for an OAuth endpoint whose denylist cannot answer: it fails closed.
pub fn denylist_unavailable(error: &warrant_store::denylist::DenylistError) -> Response {
    tracing::error!(%error, "failing closed: the denylist cannot answer");
    let body = json!({
        "error": "temporarily_unavailable",
        "error_description": "the denylist cannot be reached; try again",
    });
    (StatusCode::SERVICE_UNAVAILABLE, no_store(), Json(body)).into_response()
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// An admin API error.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the denylist cannot be reached: nothing was changed")]
    Unavailable(#[source] warrant_store::denylist::DenylistError),
    #[error("the change could not be announced to every instance; retry")]
    NotAnnounced(#[source] StoreError),
    #[error("the store failed")]
    Store(#[source] StoreError),
    #[error("an internal step failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AdminError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AdminError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            AdminError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AdminError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AdminError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            AdminError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            AdminError::Unavailable(_) | AdminError::NotAnnounced(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
            }
            AdminError::Store(_) | AdminError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => AdminError::Conflict(format!("{what} already exists")),
            StoreError::Propagation(_) => AdminError::NotAnnounced(error),
            other => AdminError::Store(other),
        }
    }
}

impl From<ParseError> for AdminError {
    fn from(error: ParseError) -> Self {
        AdminError::InvalidRequest(error.to_string())
    }
}

impl From<TransitionError> for AdminError {
    fn from(error: TransitionError) -> Self {
        match error {
            TransitionError::OwnRequest => AdminError::Forbidden(error.to_string()),
            TransitionError::WrongState { .. } | TransitionError::AlreadyApproved => {
                AdminError::Conflict(error.to_string())
            }
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let description = match &self {
            AdminError::Unavailable(cause) => {
                tracing::error!(error = %cause, "admin request refused: the denylist is unreachable");
                self.to_string()
            }
            AdminError::Store(_) | AdminError::Internal(_) => {
                tracing::error!(error = %error_chain(&self), "admin request failed");
                "the server could not complete the request".to_owned()
            }
            other => other.to_string(),
        };
        let mut response =
            (status, Json(json!({"error": code, "error_description": description}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"warrant\", error=\"invalid_token\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_oauth_error_code_has_the_status_rfc_6749_names() {
        let table = [
            (OAuthErrorCode::InvalidRequest, 400),
            (OAuthErrorCode::InvalidClient, 401),
            (OAuthErrorCode::InvalidGrant, 400),
            (OAuthErrorCode::UnauthorizedClient, 400),
            (OAuthErrorCode::UnsupportedGrantType, 400),
            (OAuthErrorCode::InvalidScope, 400),
            (OAuthErrorCode::InvalidTarget, 400),
            (OAuthErrorCode::ServerError, 500),
            (OAuthErrorCode::TemporarilyUnavailable, 429),
        ];
        for (code, status) in table {
            let response = OAuthErrorResponse::from(OAuthError::new(code, "x")).into_response();
            assert_eq!(response.status().as_u16(), status, "{code:?}");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            assert_eq!(response.headers().contains_key(header::WWW_AUTHENTICATE), status == 401, "{code:?}");
        }
    }

    #[test]
    fn a_rate_limited_request_is_429_with_retry_after() {
        let response = OAuthErrorResponse::from(OAuthError::rate_limited(3)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    }

    #[test]
    fn each_admin_error_has_its_status_and_code() {
        let table: [(AdminError, u16, &str); 7] = [
            (AdminError::InvalidRequest("x".into()), 400, "invalid_request"),
            (AdminError::Unauthorized("x".into()), 401, "unauthorized"),
            (AdminError::Forbidden("x".into()), 403, "forbidden"),
            (AdminError::NotFound("x".into()), 404, "not_found"),
            (AdminError::Conflict("x".into()), 409, "conflict"),
            (AdminError::PayloadTooLarge("x".into()), 413, "payload_too_large"),
            (AdminError::UnsupportedMediaType("x".into()), 415, "unsupported_media_type"),
        ];
        for (error, status, code) in table {
            let (s, c) = error.status_and_code();
            assert_eq!((s.as_u16(), c), (status, code));
        }
        assert_eq!(AdminError::from(StoreError::Conflict("x")).status_and_code().0, StatusCode::CONFLICT);
        let unavailable = AdminError::Unavailable(warrant_store::denylist::DenylistError::Timeout);
        assert_eq!(unavailable.status_and_code(), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"));
    }
}
