//! The server's life: `/readyz` says "starting" until the denylist has
//! answered, "draining" from the stop signal on while requests are still
//! served for the shutdown grace; then the listener closes, in-flight
//! requests finish, and every queued audit event is committed before the
//! server returns.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warrant_policy::SystemClock;
use warrant_server::{Application, Config};

use crate::helpers::{
    basic_header, form, random_secret, resource_body, spawn_app_with, unique_audience, FORM,
};

/// A server started by hand, so that the test holds its stop signal.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    data_dir: PathBuf,
    admin_secret: String,
    _dir: tempfile::TempDir,
}

async fn start(extra: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let admin_secret = random_secret();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("WARRANT_LISTEN".into(), "127.0.0.1:0".into()),
        ("WARRANT_DATA_DIR".into(), data_dir.display().to_string()),
        ("WARRANT_KEYS_DIR".into(), dir.path().join("keys").display().to_string()),
        ("WARRANT_BOOTSTRAP_ADMIN_ID".into(), "admin".into()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET".into(), admin_secret.clone()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Config::from_lookup(move |name| vars.get(name).cloned()).unwrap();
    let app = Application::build(config, Arc::new(SystemClock)).await.unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, server, data_dir, admin_secret, _dir: dir }
}

async fn readyz(client: &reqwest::Client, addr: SocketAddr) -> (StatusCode, Value) {
    let response = client.get(format!("http://{addr}/readyz")).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn readyz_answers_draining_at_once_on_the_stop_signal_and_requests_are_served_through_the_grace() {
    let running = start(&[("WARRANT_SHUTDOWN_GRACE", "2")]).await;
    let client = reqwest::Client::new();
    assert_eq!(readyz(&client, running.addr).await.0, StatusCode::OK);

    let signalled = Instant::now();
    running.stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        readyz(&client, running.addr).await,
        (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "draining"}))
    );
    let jwks = client.get(format!("http://{}/.well-known/jwks.json", running.addr)).send().await.unwrap();
    assert_eq!(jwks.status(), StatusCode::OK, "still serving during the grace");

    tokio::time::timeout(Duration::from_secs(10), running.server).await.unwrap().unwrap().unwrap();
    assert!(signalled.elapsed() >= Duration::from_secs(2), "the listener stayed open for the grace");
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(format!("http://{}/healthz", running.addr)).send().await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn a_request_in_flight_when_the_listener_closes_is_answered() {
    let running = start(&[]).await;
    let addr = running.addr;
    // The request's head is sent, its body is not yet complete when the stop comes.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = form(&[("grant_type", "client_credentials")]);
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "the in-flight request got its answer: {answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), running.server).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_audit_event_queued_before_the_stop_is_committed_when_the_server_returns() {
    let running = start(&[]).await;
    let client = reqwest::Client::new();
    // A resource server, registered by the bootstrap admin.
    let admin = client
        .post(format!("http://{}/oauth2/token", running.addr))
        .header("authorization", basic_header("admin", &running.admin_secret))
        .header("content-type", FORM)
        .body(form(&[("grant_type", "client_credentials"), ("resource", "urn:warrant:admin")]))
        .send()
        .await
        .unwrap();
    let admin: Value = admin.json().await.unwrap();
    let admin = admin["access_token"].as_str().unwrap().to_owned();
    let resource: Value = client
        .post(format!("http://{}/admin/v1/resources", running.addr))
        .bearer_auth(&admin)
        .json(&resource_body(&unique_audience(), &["read"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let authorization =
        basic_header(resource["client_id"].as_str().unwrap(), resource["client_secret"].as_str().unwrap());

    // Each inactive answer queues its audit event without waiting for its commit.
    const CALLS: usize = 300;
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..CALLS {
        let (client, authorization) = (client.clone(), authorization.clone());
        let url = format!("http://{}/oauth2/introspect", running.addr);
        calls.spawn(async move {
            let response = client
                .post(url)
                .header("authorization", authorization)
                .header("content-type", FORM)
                .body(form(&[("token", &format!("not-a-token-{n}"))]))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        });
    }
    while let Some(call) = calls.join_next().await {
        call.unwrap();
    }
    running.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running.server).await.unwrap().unwrap().unwrap();

    // Read the database directly, before anything else could write it.
    let url = format!("sqlite://{}", running.data_dir.join("warrant.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_events WHERE action = 'introspection.inactive'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(count, CALLS as i64);
}

#[tokio::test]
async fn readyz_says_starting_until_the_denylist_has_answered_once() {
    // A Redis nobody listens on: the server is built but not yet following the denylist.
    let app = spawn_app_with(&[("WARRANT_REDIS_URL", "redis://127.0.0.1:1")]).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["status"].as_str(), body["denylist"].as_str()), (Some("starting"), Some("unreachable")));
}
