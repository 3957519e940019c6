//! `GET /metrics` after real traffic: each counter moved by exactly what
//! was done (tokens issued and refused, introspections active and
//! inactive, a kill and a restore, a revocation), the audit and denylist
//! series, the HTTP durations by route template; and the request id every
//! answer carries.

use std::collections::HashMap;

use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;

use crate::helpers::{access_token, assert_oauth_error, spawn_app, Setup, TestApp};

/// The samples of an OpenMetrics exposition, by series (name and labels as
/// written), after checking its framing.
fn parse(text: &str) -> HashMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "the exposition ends with # EOF:\n{text}");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample: {line}"));
            (series.to_owned(), value.parse().unwrap_or_else(|e| panic!("{line}: {e}")))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
    parse(&response.text().await.unwrap())
}

/// The value of one series (0 when absent), e.g. `warrant_kills_total`.
fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// How much each of `series` moved between two scrapes.
fn moved(before: &HashMap<String, f64>, after: &HashMap<String, f64>, series: &str) -> f64 {
    value(after, series) - value(before, series)
}

#[tokio::test]
async fn metrics_count_what_the_traffic_did() {
    let app = spawn_app().await;
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let (id, secret) = (granted.agent.client_id.as_str(), granted.secret());
    let crm = &granted.resource;
    let before = scrape(&app).await;

    // Two tokens issued (basic, post), three refused (two invalid_client, one invalid_scope).
    let first = access_token(app.token_with_basic(id, secret, &[]).await).await;
    let second = access_token(app.token_with_post(id, secret, &[]).await).await;
    assert_oauth_error(
        app.token_with_basic(id, "wrong", &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.token_with_post(id, "wrong", &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.token_with_basic(id, secret, &[("scope", "write")]).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    // Not a form: refused at the edge, counted too.
    let response = app
        .client
        .post(app.token_endpoint())
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await;
    assert_oauth_error(response.unwrap(), StatusCode::BAD_REQUEST, "invalid_request").await;

    // Introspections: two active, one inactive for its signature.
    for token in [&first, &second] {
        assert_eq!(app.introspection(crm, token).await["active"], true);
    }
    let mut forged = first.clone().into_bytes();
    let at = first.rfind('.').unwrap() + 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(app.introspection(crm, &forged).await["active"], false);

    // A revocation: the first token is inactive, revoked.
    assert_eq!(app.revoke_token(id, secret, &first).await.status(), StatusCode::OK);
    assert_eq!(app.introspection(crm, &first).await["active"], false);

    // A kill: the second token is inactive, killed, and no new one; then a restore.
    app.kill_ok(&granted.agent.id, "metrics test").await;
    assert_eq!(app.introspection(crm, &second).await["active"], false);
    assert_oauth_error(
        app.token_with_basic(id, secret, &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_eq!(
        app.restore(&app.admin_token, &granted.agent.id, "false alarm").await.status(),
        StatusCode::OK
    );

    let after = scrape(&app).await;
    let expected = [
        (r#"warrant_tokens_issued_total{kind="agent",method="client_secret_basic"}"#, 1.0),
        (r#"warrant_tokens_issued_total{kind="agent",method="client_secret_post"}"#, 1.0),
        (r#"warrant_tokens_issued_total{kind="agent",method="private_key_jwt"}"#, 0.0),
        (r#"warrant_tokens_refused_total{error="invalid_client"}"#, 3.0),
        (r#"warrant_tokens_refused_total{error="invalid_scope"}"#, 1.0),
        (r#"warrant_tokens_refused_total{error="invalid_request"}"#, 1.0),
        (r#"warrant_introspections_total{result="active"}"#, 2.0),
        (r#"warrant_introspections_total{result="inactive",reason="signature"}"#, 1.0),
        (r#"warrant_introspections_total{result="inactive",reason="revoked"}"#, 1.0),
        (r#"warrant_introspections_total{result="inactive",reason="killed"}"#, 1.0),
        (r#"warrant_introspections_total{result="unavailable"}"#, 0.0),
        ("warrant_kills_total", 1.0),
        ("warrant_restores_total", 1.0),
        ("warrant_revocations_total", 1.0),
        (
            r#"warrant_http_request_duration_seconds_count{route="/oauth2/token",method="POST",status="2xx"}"#,
            2.0,
        ),
        (
            r#"warrant_http_request_duration_seconds_count{route="/oauth2/token",method="POST",status="4xx"}"#,
            5.0,
        ),
        (
            r#"warrant_http_request_duration_seconds_count{route="/oauth2/introspect",method="POST",status="2xx"}"#,
            5.0,
        ),
        (
            r#"warrant_http_request_duration_seconds_count{route="/admin/v1/agents/{id}/kill",method="POST",status="2xx"}"#,
            1.0,
        ),
        (r#"warrant_http_request_duration_seconds_count{route="/metrics",method="GET",status="2xx"}"#, 1.0),
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(series, n)| moved(&before, &after, series) != *n)
        .map(|(series, n)| format!("{series} moved by {} instead of {n}", moved(&before, &after, series)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The in-process denylist: followed, holding the kill and the revoked token.
    assert_eq!(value(&after, "warrant_denylist_following"), 1.0);
    assert_eq!(value(&after, r#"warrant_denylist_entries{kind="kills"}"#), 1.0);
    assert_eq!(value(&after, r#"warrant_denylist_entries{kind="tokens"}"#), 1.0);
    // Every token answer waited for an audit commit: batches were written and timed.
    let batches = moved(&before, &after, "warrant_audit_batch_events_count");
    assert!(batches >= 1.0, "{batches}");
    assert!(moved(&before, &after, "warrant_audit_batch_events_sum") >= 6.0, "5 token answers, a kill, …");
    assert_eq!(moved(&before, &after, "warrant_audit_commit_seconds_count"), batches);
    assert_eq!(value(&after, "warrant_audit_batch_failures_total"), 0.0);
    // A histogram's +Inf bucket is its count (prometheus-client writes `le` first).
    let token_2xx = r#"route="/oauth2/token",method="POST",status="2xx""#;
    assert_eq!(
        value(&after, &format!(r#"warrant_http_request_duration_seconds_bucket{{le="+Inf",{token_2xx}}}"#)),
        value(&after, &format!("warrant_http_request_duration_seconds_count{{{token_2xx}}}")),
    );
}

#[tokio::test]
async fn a_request_that_matches_no_route_is_counted_as_unmatched_never_by_its_path() {
    let app = spawn_app().await;
    for path in ["/no/such/thing", "/agt_secret_looking_path"] {
        assert_eq!(app.get(path).await.status(), StatusCode::NOT_FOUND);
    }
    let samples = scrape(&app).await;
    let series =
        r#"warrant_http_request_duration_seconds_count{route="unmatched",method="GET",status="4xx"}"#;
    assert_eq!(value(&samples, series), 2.0);
    assert!(!samples.keys().any(|s| s.contains("no/such") || s.contains("secret_looking")), "{samples:?}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_well_formed_incoming_one_is_kept() {
    let app = spawn_app().await;
    let id_of = |response: &reqwest::Response| {
        response.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned())
    };
    let first = id_of(&app.get("/healthz").await).unwrap();
    let second = id_of(&app.get("/no/such/route").await).unwrap();
    assert_ne!(first, second);
    for id in [&first, &second] {
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    let kept = app.client.get(app.url("/healthz")).header("x-request-id", "lb-7f3a:42").send().await.unwrap();
    assert_eq!(id_of(&kept).as_deref(), Some("lb-7f3a:42"));
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let replaced = id_of(&replaced).unwrap();
    assert_eq!(replaced.len(), 32, "{replaced}");
}
