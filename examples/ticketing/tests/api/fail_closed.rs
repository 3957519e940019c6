//! The ticketing service never lets a request through that it could not
//! check: with its denylist or Warrant's keys out of reach it answers 503.
//! (The shared Redis is never stopped: these instances point elsewhere.)

use reqwest::StatusCode;

use crate::helpers::{json_with_status, spawn, READ};

/// A local address where nothing listens.
const NOWHERE: &str = "127.0.0.1:1";

#[tokio::test]
async fn the_ticketing_service_answers_503_when_its_redis_is_unreachable() {
    let mut env = spawn().await;
    let agent = env.agent_with_grant(&[READ]).await;
    let authorization = format!("Bearer {}", env.token(&agent, None).await);
    let cut_off = env.spawn_ticketing(|config| config.redis_url = format!("redis://{NOWHERE}")).await;

    let response = env.list_tickets_at(&cut_off, Some(&authorization)).await;
    let body = json_with_status(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"], "temporarily_unavailable");
    let ready = env.client.get(format!("{cut_off}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_ticketing_service_answers_503_when_warrants_keys_are_unreachable() {
    let mut env = spawn().await;
    let agent = env.agent_with_grant(&[READ]).await;
    let authorization = format!("Bearer {}", env.token(&agent, None).await);
    let keyless = env
        .spawn_ticketing(|config| config.jwks_uri = Some(format!("http://{NOWHERE}/.well-known/jwks.json")))
        .await;

    for _ in 0..2 {
        let response = env.list_tickets_at(&keyless, Some(&authorization)).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
