//! Assertions on answers: a success with its JSON body, or an error in the
//! OAuth (RFC 6749 §5.2) or admin API format.

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Asserts 201 and returns the JSON body.
pub async fn created(response: Response) -> Value {
    let status = response.status();
    let body = response.text().await.expect("a body");
    assert_eq!(status, StatusCode::CREATED, "expected 201, body: {body}");
    serde_json::from_str(&body).expect("a JSON body")
}

/// Asserts `status` and returns the JSON body.
pub async fn json_with_status(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let body = response.text().await.expect("a body");
    assert_eq!(got, status, "body: {body}");
    serde_json::from_str(&body).expect("a JSON body")
}

/// Asserts a successful token response and returns the access token.
pub async fn access_token(response: Response) -> String {
    let body = json_with_status(response, StatusCode::OK).await;
    str_field(&body, "access_token")
}

pub fn str_field(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_else(|| panic!("{name} is a string in {value}")).to_owned()
}

/// Asserts an OAuth error answer (RFC 6749 §5.2) and returns its body.
pub async fn assert_oauth_error(response: Response, status: StatusCode, error: &str) -> Value {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "body: {text}");
    let cache = headers.get("cache-control").and_then(|v| v.to_str().ok());
    assert!(cache.is_some_and(|v| v.contains("no-store")), "Cache-Control: no-store, got {cache:?}");
    if status == StatusCode::UNAUTHORIZED {
        let challenge = headers.get("www-authenticate").and_then(|v| v.to_str().ok());
        assert!(
            challenge.is_some_and(|v| v.starts_with(r#"Basic realm="warrant""#)),
            r#"WWW-Authenticate: Basic realm="warrant", got {challenge:?}"#
        );
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["error"], error, "body: {body}");
    assert!(body["error_description"].is_string(), "error_description in {body}");
    body
}

/// Asserts an admin API error answer and returns its body.
pub async fn assert_admin_error(response: Response, status: StatusCode, error: &str) -> Value {
    let got = response.status();
    let challenge =
        response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "body: {text}");
    if status == StatusCode::UNAUTHORIZED {
        assert!(
            challenge.as_deref().is_some_and(|v| v.starts_with("Bearer")),
            "WWW-Authenticate: Bearer ..., got {challenge:?}"
        );
    }
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["error"], error, "body: {body}");
    assert!(body["error_description"].is_string(), "error_description in {body}");
    body
}
