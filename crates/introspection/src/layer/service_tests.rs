//! The layer's decisions without a network: keys from a fake source, the
//! in-memory denylist (or one that cannot be reached), a manual clock.

use std::convert::Infallible;
use std::future::{poll_fn, Ready};
use std::time::Duration;

use async_trait::async_trait;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde_json::Value;
use warrant_policy::ManualClock;
use warrant_store::denylist::{DenylistError, Inactive, MemoryDenylist};

use super::*;
use crate::layer::test_support::{FakeSource, Key, AUD, ISS, NOW};
use crate::VerifyError;

struct Fixture {
    key: Key,
    source: Arc<FakeSource>,
    denylist: Arc<MemoryDenylist>,
    clock: Arc<ManualClock>,
    layer: WarrantLayer,
}

fn fixture() -> Fixture {
    let key = Key::generate("k1");
    let source = Arc::new(FakeSource::serving(&[&key]));
    let denylist = Arc::new(MemoryDenylist::default());
    let clock = Arc::new(ManualClock::new(NOW));
    let keys = JwksCache::new(ISS, source.clone(), Duration::from_secs(10));
    let layer = WarrantLayer::with_keys(AUD, keys, denylist.clone()).with_clock(clock.clone());
    Fixture { key, source, denylist, clock, layer }
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    headers
}

/// A denylist that cannot be reached.
struct Unreachable;

#[async_trait]
impl Denylist for Unreachable {
    async fn check(&self, _: &TokenFacts<'_>) -> Result<Option<Inactive>, DenylistError> {
        Err(DenylistError::Timeout)
    }
    async fn kill(&self, _: &[String], _: Timestamp) -> Result<(), DenylistError> {
        Err(DenylistError::Timeout)
    }
    async fn revoke_token(&self, _: &str, _: Timestamp, _: Timestamp) -> Result<(), DenylistError> {
        Err(DenylistError::Timeout)
    }
    async fn revoke_grant(&self, _: &str, _: &str, _: Timestamp) -> Result<(), DenylistError> {
        Err(DenylistError::Timeout)
    }
    async fn ping(&self) -> Result<(), DenylistError> {
        Err(DenylistError::Timeout)
    }
    async fn announce_changes(&self, _: &[String]) -> Result<(), DenylistError> {
        Err(DenylistError::Timeout)
    }
    fn watch_changes(&self, _: warrant_store::denylist::ChangeListener) {}
    fn change_epoch(&self) -> Option<u64> {
        None
    }
}

/// The route behind the layer: answers 200 with the `sub` it was given.
#[derive(Clone)]
struct EchoSubject;

impl Service<Request<Body>> for EchoSubject {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let sub = request.extensions().get::<AccessClaims>().map(|c| c.sub.clone()).unwrap_or_default();
        std::future::ready(Ok(Response::new(Body::from(sub))))
    }
}

async fn send(layer: &WarrantLayer, headers: HeaderMap) -> Response<Body> {
    let mut service = layer.layer(EchoSubject);
    let mut request = Request::new(Body::empty());
    *request.headers_mut() = headers;
    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
    service.call(request).await.unwrap()
}

async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn challenge(response: &Response<Body>) -> &str {
    response.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn a_valid_token_with_the_required_scopes_reaches_the_route_with_its_claims() {
    let f = fixture();
    let layer = f.layer.require_scopes(["tickets:read"]).unwrap();
    let response = send(&layer, bearer(&f.key.token("tickets:read tickets:write"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "agt_1");
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_with_a_bare_bearer_challenge() {
    let f = fixture();
    let response = send(&f.layer, HeaderMap::new()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), "Bearer");
}

#[tokio::test]
async fn a_garbage_token_gets_401_invalid_token() {
    let f = fixture();
    let response = send(&f.layer, bearer("garbage")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&response).starts_with(r#"Bearer error="invalid_token""#), "{}", challenge(&response));
    let body: Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn a_token_lacking_a_required_scope_gets_403_naming_the_scopes_needed() {
    let f = fixture();
    let layer = f.layer.require_scopes(["tickets:write"]).unwrap();
    let response = send(&layer, bearer(&f.key.token("tickets:read"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = challenge(&response);
    assert!(challenge.starts_with(r#"Bearer error="insufficient_scope""#), "{challenge}");
    assert!(challenge.ends_with(r#"scope="tickets:write""#), "{challenge}");
}

#[tokio::test]
async fn scopes_required_by_successive_copies_add_up() {
    let f = fixture();
    let layer = f.layer.require_scopes(["tickets:read"]).unwrap().require_scopes(["tickets:write"]).unwrap();
    assert_eq!(layer.required_scopes().to_string(), "tickets:read tickets:write");
    let only_read = layer.authorize(&bearer(&f.key.token("tickets:read"))).await;
    assert!(matches!(only_read, Err(Rejection::InsufficientScope { .. })), "{only_read:?}");
    assert!(layer.authorize(&bearer(&f.key.token("tickets:read tickets:write"))).await.is_ok());
}

#[test]
fn an_invalid_scope_token_cannot_be_required() {
    let f = fixture();
    assert!(matches!(f.layer.require_scopes(["two words"]), Err(LayerError::Scope(_))));
    assert!(matches!(f.layer.require_scopes([""]), Err(LayerError::Scope(_))));
}

#[tokio::test]
async fn a_killed_agents_token_gets_401_even_where_it_lacks_the_scope() {
    let f = fixture();
    let token = f.key.token("tickets:read");
    f.denylist.kill(&["agt_1".to_owned()], NOW).await.unwrap();
    for layer in [f.layer.clone(), f.layer.require_scopes(["tickets:write"]).unwrap()] {
        let outcome = layer.authorize(&bearer(&token)).await;
        assert!(matches!(outcome, Err(Rejection::Inactive(Inactive::Killed))), "{outcome:?}");
    }
    assert_eq!(send(&f.layer, bearer(&token)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_grant_on_this_audience_makes_the_token_inactive() {
    let f = fixture();
    let token = f.key.token("tickets:read");
    f.denylist.revoke_grant("agt_1", "https://other.example", NOW).await.unwrap();
    assert!(f.layer.authorize(&bearer(&token)).await.is_ok());
    f.denylist.revoke_grant("agt_1", AUD, NOW).await.unwrap();
    let outcome = f.layer.authorize(&bearer(&token)).await;
    assert!(matches!(outcome, Err(Rejection::Inactive(Inactive::GrantRevoked))), "{outcome:?}");
}

#[tokio::test]
async fn tokens_for_another_audience_or_issuer_are_refused() {
    let f = fixture();
    let cases = [
        (
            f.key.token_with_kid(Some("k1"), "tickets:read", &[("aud", "https://crm.example".into())]),
            VerifyError::Audience,
        ),
        (
            f.key.token_with_kid(Some("k1"), "tickets:read", &[("iss", "https://evil.example".into())]),
            VerifyError::Issuer,
        ),
    ];
    for (token, expected) in cases {
        let outcome = f.layer.authorize(&bearer(&token)).await;
        assert!(matches!(outcome, Err(Rejection::Invalid(e)) if e == expected), "{outcome:?}");
    }
}

#[tokio::test]
async fn the_layer_reads_time_from_its_clock() {
    let f = fixture();
    let token = f.key.token("tickets:read");
    assert!(f.layer.authorize(&bearer(&token)).await.is_ok());
    f.clock.advance(300);
    let outcome = f.layer.authorize(&bearer(&token)).await;
    assert!(matches!(outcome, Err(Rejection::Invalid(VerifyError::Expired))), "{outcome:?}");
}

#[tokio::test]
async fn an_unreachable_denylist_fails_closed_with_503() {
    let f = fixture();
    let keys = JwksCache::new(ISS, f.source.clone(), Duration::from_secs(10));
    let layer = WarrantLayer::with_keys(AUD, keys, Arc::new(Unreachable)).with_clock(f.clock.clone());
    let response = send(&layer, bearer(&f.key.token("tickets:read"))).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn unreachable_keys_fail_closed_with_503() {
    let f = fixture();
    let keys = JwksCache::new(ISS, Arc::new(FakeSource::failing()), Duration::from_secs(10));
    let layer = WarrantLayer::with_keys(AUD, keys, f.denylist.clone()).with_clock(f.clock.clone());
    let response = send(&layer, bearer(&f.key.token("tickets:read"))).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn copies_of_a_layer_share_one_key_cache() {
    let f = fixture();
    let read = f.layer.require_scopes(["tickets:read"]).unwrap();
    let write = f.layer.require_scopes(["tickets:write"]).unwrap();
    let token = f.key.token("tickets:read tickets:write");
    for layer in [&f.layer, &read, &write] {
        assert!(layer.authorize(&bearer(&token)).await.is_ok());
    }
    assert_eq!(f.source.fetches(), 1);
}
