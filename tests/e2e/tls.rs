//! HTTPS without a terminating proxy: with `WARRANT_TLS_CERT` and
//! `WARRANT_TLS_KEY` the server speaks TLS (rustls), its issuer defaults to
//! `https://`, and a client trusting the certificate gets tokens as usual.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use warrant_policy::SystemClock;
use warrant_server::{Application, Config};

use crate::helpers::{basic_header, form, random_secret, FORM};

#[tokio::test]
async fn with_a_certificate_and_key_the_server_speaks_https_only() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();

    let secret = random_secret();
    let vars = std::collections::HashMap::from([
        ("WARRANT_LISTEN", "127.0.0.1:0".to_owned()),
        ("WARRANT_DATA_DIR", dir.path().join("data").display().to_string()),
        ("WARRANT_KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("WARRANT_BOOTSTRAP_ADMIN_ID", "admin".to_owned()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET", secret.clone()),
        ("WARRANT_TLS_CERT", cert.display().to_string()),
        ("WARRANT_TLS_KEY", key.display().to_string()),
    ]);
    let config = Config::from_lookup(move |name| vars.get(name).cloned()).unwrap();
    let app = Application::build(config, Arc::new(SystemClock)).await.unwrap();
    let addr = app.local_addr();
    assert_eq!(app.issuer(), format!("https://{addr}"), "the issuer defaults to https");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let metadata: Value = trusting
        .get(format!("https://{addr}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["token_endpoint"], format!("https://{addr}/oauth2/token"));
    let token = trusting
        .post(format!("https://{addr}/oauth2/token"))
        .header("authorization", basic_header("admin", &secret))
        .header("content-type", FORM)
        .body(form(&[("grant_type", "client_credentials"), ("resource", "urn:warrant:admin")]))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);

    let plain = reqwest::Client::new().get(format!("http://{addr}/healthz")).send().await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != StatusCode::OK), "no plain HTTP");
    let untrusting = reqwest::Client::new().get(format!("https://{addr}/healthz")).send().await;
    assert!(untrusting.is_err(), "a client that does not trust the certificate cannot connect");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_missing_or_unreadable_certificate_stops_the_start_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let vars = std::collections::HashMap::from([
        ("WARRANT_LISTEN", "127.0.0.1:0".to_owned()),
        ("WARRANT_DATA_DIR", dir.path().join("data").display().to_string()),
        ("WARRANT_KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("WARRANT_TLS_CERT", dir.path().join("missing.pem").display().to_string()),
        ("WARRANT_TLS_KEY", dir.path().join("missing-key.pem").display().to_string()),
    ]);
    let config = Config::from_lookup(move |name| vars.get(name).cloned()).unwrap();
    let error = match Application::build(config, Arc::new(SystemClock)).await {
        Ok(_) => panic!("a missing certificate must stop the start"),
        Err(error) => warrant_server::error_chain(&error),
    };
    assert!(error.contains("WARRANT_TLS_CERT"), "{error}");
}
