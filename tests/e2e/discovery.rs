//! Discovery and health: the JWKS (public keys only), RFC 8414 metadata,
//! liveness and readiness.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_with_status, spawn_app};

#[tokio::test]
async fn the_jwks_holds_public_es256_keys_only() {
    let app = spawn_app().await;
    let jwks = app.jwks().await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert!(!keys.is_empty(), "at least one signing key: {jwks}");
    for key in keys {
        assert_eq!(key["kty"], "EC", "{key}");
        assert_eq!(key["crv"], "P-256", "{key}");
        assert_eq!(key["alg"], "ES256", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        for public in ["x", "y", "kid"] {
            assert!(key[public].as_str().is_some_and(|v| !v.is_empty()), "{public} in {key}");
        }
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "no {private} in {key}");
        }
    }
}

#[tokio::test]
async fn the_metadata_describes_the_token_endpoint() {
    let app = spawn_app().await;
    let response = app.metadata().await;
    let metadata = json_with_status(response, StatusCode::OK).await;
    assert_eq!(metadata["issuer"], app.issuer.as_str());
    assert_eq!(metadata["token_endpoint"], app.token_endpoint());
    assert_eq!(metadata["jwks_uri"], format!("{}/.well-known/jwks.json", app.issuer));
    assert_eq!(metadata["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(metadata["response_types_supported"], json!([]));
    let methods = strings(&metadata["token_endpoint_auth_methods_supported"]);
    for method in ["client_secret_basic", "client_secret_post", "private_key_jwt"] {
        assert!(methods.contains(&method.to_owned()), "{method} in {metadata}");
    }
    let algs = strings(&metadata["token_endpoint_auth_signing_alg_values_supported"]);
    assert!(algs.contains(&"ES256".to_owned()), "ES256 in {metadata}");
    for refused in ["none", "HS256", "HS384", "HS512"] {
        assert!(!algs.contains(&refused.to_owned()), "{refused} advertised: {metadata}");
    }
}

#[tokio::test]
async fn the_issuer_follows_the_bound_address() {
    let app = spawn_app().await;
    assert_eq!(app.issuer, format!("http://{}", app.addr));
}

#[tokio::test]
async fn the_metadata_and_tokens_use_a_configured_issuer() {
    let app = crate::helpers::spawn_app_with(&[("WARRANT_ISSUER", "https://idp.example.com")]).await;
    assert_eq!(app.issuer, "https://idp.example.com");
    let metadata = json_with_status(app.metadata().await, StatusCode::OK).await;
    assert_eq!(metadata["issuer"], "https://idp.example.com");
    assert_eq!(metadata["token_endpoint"], "https://idp.example.com/oauth2/token");
    let claims = crate::jwt::verify_access_token(&app, &app.admin_token, "urn:warrant:admin").await;
    assert_eq!(claims["iss"], "https://idp.example.com");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let body = json_with_status(app.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_answers_ready_when_the_store_answers() {
    let app = spawn_app().await;
    let body = json_with_status(app.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ready", "store": "ok", "denylist": "ok"}));
}

#[tokio::test]
async fn the_metadata_describes_introspection_and_revocation() {
    let app = spawn_app().await;
    let metadata = json_with_status(app.metadata().await, StatusCode::OK).await;
    assert_eq!(metadata["introspection_endpoint"], format!("{}/oauth2/introspect", app.issuer));
    assert_eq!(metadata["revocation_endpoint"], format!("{}/oauth2/revoke", app.issuer));
    for field in
        ["introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"]
    {
        let methods = strings(&metadata[field]);
        for method in ["client_secret_basic", "client_secret_post", "private_key_jwt"] {
            assert!(methods.contains(&method.to_owned()), "{method} in {field}: {metadata}");
        }
        assert!(!methods.contains(&"none".to_owned()), "no unauthenticated {field}: {metadata}");
    }
}

#[tokio::test]
async fn readyz_reports_the_redis_denylist() {
    let app = crate::redis::spawn_app_on_redis().await;
    let body = json_with_status(app.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ready", "store": "ok", "denylist": "ok"}));
}

#[tokio::test]
async fn the_bootstrap_admin_token_is_an_admin_token() {
    let app = spawn_app().await;
    let claims = crate::jwt::verify_access_token(&app, &app.admin_token, "urn:warrant:admin").await;
    assert_eq!(claims["sub"], "bootstrap-admin");
    assert_eq!(claims["client_id"], "bootstrap-admin");
    assert_eq!(claims["scope"], "admin");
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}
