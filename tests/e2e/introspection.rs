//! Introspection (RFC 7662) on the embedded instance (in-process denylist):
//! what an active token looks like to its resource, one test per reason a
//! token is inactive, and who may ask.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::denylist::introspection_answer;
use crate::forge::{claims_of, kid_of, public_key_encodings, SigningKey};
use crate::helpers::{
    assert_oauth_error, created, resource_body, spawn_app, spawn_app_with, str_field, Granted, Resource,
    Setup, TestApp, BOOTSTRAP_ADMIN_ID,
};
use crate::jwt::{hs256, scopes, unsigned, verify_access_token};

/// An agent granted `read` on a resource, and one of its tokens.
async fn issued(app: &TestApp) -> (Granted, String) {
    let granted = app.setup_agent_with_grant(Setup::default()).await;
    let token = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &token).await;
    (granted, token)
}

#[tokio::test]
async fn an_active_token_is_described_to_its_resource() {
    let app = spawn_app().await;
    let setup =
        Setup { scopes: &["read", "write", "delete"], granted: &["read", "write"], ..Default::default() };
    let granted = app.setup_agent_with_grant(setup).await;
    let token = app.granted_token(&granted).await;
    let claims = verify_access_token(&app, &token, &granted.resource.audience).await;

    let response = app.introspect(&granted.resource.client_id, &granted.resource.secret, &token).await;
    let answer = introspection_answer(response).await;
    assert_eq!(answer["active"], true, "{answer}");
    for name in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti"] {
        assert_eq!(answer[name], claims[name], "{name}: answer {answer}, token {claims}");
    }
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["sub"], granted.agent.id.as_str());
    assert_eq!(answer["client_id"], granted.agent.client_id.as_str());
    assert_eq!(answer["aud"], granted.resource.audience.as_str());
    assert_eq!(answer["iss"], app.issuer.as_str());
    assert_eq!(scopes(&answer), ["read", "write"]);
    assert_eq!(answer["exp"].as_i64(), Some(app.now() + 300));
}

#[tokio::test]
async fn a_resource_may_introspect_with_client_secret_post_and_any_type_hint() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let resource = &granted.resource;
    let pairs = [
        ("token", token.as_str()),
        ("token_type_hint", "refresh_token"),
        ("client_id", resource.client_id.as_str()),
        ("client_secret", resource.secret.as_str()),
    ];
    let answer = introspection_answer(app.introspect_form(&pairs, None).await).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["jti"], claims_of(&token)["jti"]);
}

#[tokio::test]
async fn an_unsigned_token_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let (kid, claims) = (kid_of(&token), claims_of(&token));
    let none = unsigned(&kid, &claims);
    app.assert_inactive(&granted.resource, &none).await;
    // alg none in front of the genuine signature.
    let signature = token.rsplit('.').next().expect("a signature");
    app.assert_inactive(&granted.resource, &format!("{none}{signature}")).await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_our_public_key_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let (kid, claims) = (kid_of(&token), claims_of(&token));
    for (encoding, key) in public_key_encodings(&app, &kid).await {
        let forged = hs256(&kid, &key, claims.clone());
        let answer = app.introspection(&granted.resource, &forged).await;
        assert_eq!(answer, json!({"active": false}), "HS256 keyed with {encoding}");
    }
}

#[tokio::test]
async fn a_token_naming_an_unknown_kid_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let (kid, claims) = (kid_of(&token), claims_of(&token));
    let ours = SigningKey::of(&app);
    // The control: our key under our kid makes an active token.
    app.assert_active(&granted.resource, &ours.sign(&kid, &claims)).await;
    app.assert_inactive(&granted.resource, &ours.sign("no-such-kid", &claims)).await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let forged = SigningKey::stranger().sign(&kid_of(&token), &claims_of(&token));
    app.assert_inactive(&granted.resource, &forged).await;
}

#[tokio::test]
async fn an_expired_token_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    app.clock.advance(299);
    app.assert_active(&granted.resource, &token).await;
    app.clock.advance(2);
    app.assert_inactive(&granted.resource, &token).await;
}

#[tokio::test]
async fn a_token_from_an_instance_with_another_issuer_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let keys = app.var("WARRANT_KEYS_DIR").expect("a keys directory").to_owned();
    let other =
        spawn_app_with(&[("WARRANT_KEYS_DIR", &keys), ("WARRANT_ISSUER", "https://other-idp.example.com")])
            .await;
    assert_eq!(other.jwks().await, app.jwks().await, "both instances sign with the same key");

    // The other deployment knows a resource with the same audience.
    let audience = granted.resource.audience.as_str();
    let body = resource_body(audience, &["read", "write"]);
    let mirrored = created(other.admin_post("/resources", &other.admin_token, &body).await).await;
    let mirrored = Resource {
        id: str_field(&mirrored, "id"),
        audience: str_field(&mirrored, "audience"),
        client_id: str_field(&mirrored, "client_id"),
        secret: str_field(&mirrored, "client_secret"),
    };
    let approver = other.create_operator(&["approver"]).await;
    let agent = other.agent_with(&[], &mirrored, &["read"], &approver).await;
    let foreign =
        other.token_for(&agent.client_id, agent.secret.as_deref().expect("a secret"), audience).await;
    assert_eq!(claims_of(&foreign)["iss"], "https://other-idp.example.com");
    other.assert_active(&mirrored, &foreign).await;

    app.assert_inactive(&granted.resource, &foreign).await;
    // And the other way round.
    other.assert_inactive(&mirrored, &token).await;
}

#[tokio::test]
async fn a_token_signed_with_our_key_naming_another_issuer_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let (kid, mut claims) = (kid_of(&token), claims_of(&token));
    claims.insert("iss".to_owned(), json!("https://other-idp.example.com"));
    app.assert_inactive(&granted.resource, &SigningKey::of(&app).sign(&kid, &claims)).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_inactive() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let bystander = app.create_resource(&["read"]).await;
    app.assert_inactive(&bystander, &token).await;
    // The control: its own resource still sees it active.
    app.assert_active(&granted.resource, &token).await;
    // An operator's admin token is for no resource at all.
    app.assert_inactive(&granted.resource, &app.admin_token).await;
}

#[tokio::test]
async fn every_token_of_a_killed_agent_is_inactive() {
    let app = spawn_app().await;
    let (granted, first) = issued(&app).await;
    let second = app.granted_token(&granted).await;
    let bystander = app.setup_agent_with_grant(Setup::default()).await;
    let untouched = app.granted_token(&bystander).await;

    app.kill_ok(&granted.agent.id, "leaked credentials").await;
    app.assert_inactive(&granted.resource, &first).await;
    app.assert_inactive(&granted.resource, &second).await;
    app.assert_active(&bystander.resource, &untouched).await;
}

#[tokio::test]
async fn a_token_issued_before_the_agents_last_kill_stays_inactive_after_a_restore() {
    let app = spawn_app().await;
    let (granted, old) = issued(&app).await;
    app.kill_ok(&granted.agent.id, "suspicious traffic").await;
    app.clock.advance(1);
    let restored = app.restore(&app.admin_token, &granted.agent.id, "false alarm").await;
    assert_eq!(restored.status(), StatusCode::OK);

    app.assert_inactive(&granted.resource, &old).await;
    let new = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &new).await;
    app.clock.advance(10);
    app.assert_inactive(&granted.resource, &old).await;
}

#[tokio::test]
async fn a_token_is_inactive_once_its_grant_is_revoked() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let other = app.create_resource(&["read"]).await;
    let body = app.grant_body(&other.audience, &["read"], 86_400, None);
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    let elsewhere = app.token_for(&granted.agent.client_id, granted.secret(), &other.audience).await;

    let revoked = app.revoke(&granted.approver.token, &granted.grant_id).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    app.assert_inactive(&granted.resource, &token).await;
    app.assert_active(&other, &elsewhere).await;

    // A new grant approved later gives new tokens; the old one stays inactive.
    app.clock.advance(1);
    let body = app.grant_body(&granted.resource.audience, &["read"], 86_400, None);
    app.grant_and_approve(&granted.requester, &granted.approver, &granted.agent.id, &body).await;
    let fresh = app.granted_token(&granted).await;
    app.assert_active(&granted.resource, &fresh).await;
    app.assert_inactive(&granted.resource, &token).await;
}

#[tokio::test]
async fn an_agent_cannot_introspect() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let response = app.introspect(&granted.agent.client_id, granted.secret(), &token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn an_operator_cannot_introspect() {
    let app = spawn_app().await;
    let (_, token) = issued(&app).await;
    let response = app.introspect(BOOTSTRAP_ADMIN_ID, &app.admin_secret, &token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let response = app.introspect(BOOTSTRAP_ADMIN_ID, &app.admin_secret, &app.admin_token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn introspection_without_client_authentication_is_invalid_client() {
    let app = spawn_app().await;
    let (_, token) = issued(&app).await;
    let response = app.introspect_form(&[("token", &token)], None).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn introspection_with_a_wrong_secret_or_an_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let (granted, token) = issued(&app).await;
    let resource = &granted.resource;
    let response = app.introspect(&resource.client_id, "not-the-secret-at-all", &token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let pairs =
        [("token", token.as_str()), ("client_id", &resource.client_id), ("client_secret", "wrong-secret")];
    assert_oauth_error(app.introspect_form(&pairs, None).await, StatusCode::UNAUTHORIZED, "invalid_client")
        .await;
    let response = app.introspect("no-such-client", "some-secret-value", &token).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn introspection_without_a_token_is_invalid_request() {
    let app = spawn_app().await;
    let (granted, _) = issued(&app).await;
    let basic = (granted.resource.client_id.as_str(), granted.resource.secret.as_str());
    let response = app.introspect_form(&[("token_type_hint", "access_token")], Some(basic)).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_garbage_token_is_inactive() {
    let app = spawn_app().await;
    let resource = app.create_resource(&["read"]).await;
    let long = "x".repeat(4096);
    let garbage = ["garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "...", long.as_str(), "ünïcödé"];
    for token in garbage {
        let answer: Value = app.introspection(&resource, token).await;
        assert_eq!(answer, json!({"active": false}), "token {token:.40}");
    }
}
