//! Hardening at the edge: the per-client rate limit of the token endpoint
//! (429 with `Retry-After`, keyed by the authenticated client), limits on
//! the request head, and the deadline for sending it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{assert_oauth_error, spawn_app_with, Granted, Setup, TestApp};

async fn ask(app: &TestApp, granted: &Granted) -> reqwest::Response {
    app.token_with_basic(
        &granted.agent.client_id,
        granted.secret(),
        &[("resource", &granted.resource.audience)],
    )
    .await
}

#[tokio::test]
async fn a_client_over_its_rate_limit_gets_429_with_retry_after_and_other_clients_do_not() {
    let app = spawn_app_with(&[("WARRANT_TOKEN_RATE_LIMIT", "1"), ("WARRANT_TOKEN_RATE_BURST", "2")]).await;
    let hasty = app.setup_agent_with_grant(Setup::default()).await;
    let calm = app.setup_agent_with_grant(Setup::default()).await;
    for _ in 0..2 {
        assert_eq!(ask(&app, &hasty).await.status(), StatusCode::OK, "the burst is allowed");
    }
    let refused = ask(&app, &hasty).await;
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body = assert_oauth_error(refused, StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable").await;
    assert!(body["error_description"].as_str().unwrap().contains("retry after"), "{body}");
    for _ in 0..3 {
        assert_eq!(ask(&app, &hasty).await.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(ask(&app, &calm).await.status(), StatusCode::OK, "another client has its own bucket");

    // Refusals are audited, at most once per client per second.
    let audit = app
        .admin_get(&format!("/audit?agent_id={}&action=token.refused", hasty.agent.id), &app.admin_token)
        .await;
    let audit: serde_json::Value = audit.json().await.unwrap();
    let refusals = audit["events"].as_array().unwrap();
    assert!((1..=2).contains(&refusals.len()), "{audit}");
    assert!(refusals[0]["detail"].to_string().contains("retry after"), "{audit}");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(ask(&app, &hasty).await.status(), StatusCode::OK, "the bucket refills");
}

#[tokio::test]
async fn failed_authentications_in_a_clients_name_do_not_use_up_its_limit() {
    let app = spawn_app_with(&[("WARRANT_TOKEN_RATE_LIMIT", "1"), ("WARRANT_TOKEN_RATE_BURST", "1")]).await;
    let victim = app.setup_agent_with_grant(Setup::default()).await;
    for _ in 0..10 {
        let forged = app.token_with_basic(&victim.agent.client_id, "a-wrong-secret", &[]).await;
        assert_eq!(
            forged.status(),
            StatusCode::UNAUTHORIZED,
            "never 429: the limit is per authenticated client"
        );
    }
    let response = app
        .token_with_basic(
            &victim.agent.client_id,
            victim.secret(),
            &[("resource", &victim.resource.audience)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_head_over_the_size_or_field_limit_gets_431() {
    let app = spawn_app_with(&[("WARRANT_MAX_HEADER_BYTES", "4096")]).await;
    let big =
        app.client.get(app.url("/healthz")).header("x-padding", "a".repeat(5_000)).send().await.unwrap();
    assert_eq!(big.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let mut many = app.client.get(app.url("/healthz"));
    for n in 0..120 {
        many = many.header(format!("x-field-{n}"), "1");
    }
    assert_eq!(many.send().await.unwrap().status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    let fine =
        app.client.get(app.url("/healthz")).header("x-padding", "a".repeat(3_000)).send().await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_disconnected() {
    let app = spawn_app_with(&[("WARRANT_HEADER_READ_TIMEOUT", "1")]).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: warrant\r\n").await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the connection");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    let text = String::from_utf8_lossy(&rest);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
}
