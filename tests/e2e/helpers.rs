//! The test harness: `spawn_app()` starts the real server on port 0 over a
//! fresh SQLite file (or a fresh PostgreSQL database) and a fresh keys
//! directory; `TestApp` has one method per endpoint and a few fixtures that
//! build the usual resource -> agent -> grant chain through the admin API.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection as _, Executor as _};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;
use warrant_policy::{Clock as _, ManualClock, Timestamp};
use warrant_server::{Application, Config};

pub use crate::answers::{
    access_token, assert_admin_error, assert_oauth_error, created, json_with_status, str_field,
};
use crate::jwt::AgentKey;

pub const ADMIN_AUDIENCE: &str = "urn:warrant:admin";
pub const BOOTSTRAP_ADMIN_ID: &str = "bootstrap-admin";
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const FORM: &str = "application/x-www-form-urlencoded";
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub issuer: String,
    pub client: reqwest::Client,
    /// The server's clock; `advance` it to expire grants and tokens.
    pub clock: Arc<ManualClock>,
    /// An access token of the bootstrap operator (roles: admin).
    pub admin_token: String,
    pub admin_secret: String,
    vars: HashMap<String, String>,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
    /// Shared with the siblings of this instance; dropped with the last one.
    _database: Option<Arc<TempDatabase>>,
    /// Removes this deployment's Redis keys once the last instance is gone.
    pub(crate) _redis_keys: Option<Arc<crate::redis::PrefixCleanup>>,
}

/// A PostgreSQL database created for one test, dropped with it.
struct TempDatabase {
    server_url: String,
    name: String,
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: clean up from a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&server_url).await {
                        let drop = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                        let _ = conn.execute(drop.as_str()).await;
                        let _ = conn.close().await;
                    }
                });
            }
        });
        let _ = cleanup.join();
    }
}

/// Starts a server over SQLite in a fresh temporary directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like `spawn_app`, with extra `WARRANT_*` variables.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&data).expect("the data directory");
    std::fs::create_dir_all(&keys).expect("the keys directory");
    let mut vars = HashMap::from([
        ("WARRANT_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("WARRANT_DATA_DIR".to_owned(), path_string(&data)),
        ("WARRANT_KEYS_DIR".to_owned(), path_string(&keys)),
        ("WARRANT_BOOTSTRAP_ADMIN_ID".to_owned(), BOOTSTRAP_ADMIN_ID.to_owned()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET".to_owned(), random_secret()),
    ]);
    for (name, value) in extra {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let clock = Arc::new(ManualClock::new(Timestamp(unix_now())));
    start(vars, clock, dir).await
}

/// Starts a server over a fresh PostgreSQL database created on the server named
/// by `DATABASE_URL`. Panics when PostgreSQL cannot be reached: never skips.
pub async fn spawn_app_on_postgres() -> TestApp {
    spawn_app_on_postgres_with(&[]).await
}

/// Like `spawn_app_on_postgres`, with extra `WARRANT_*` variables.
pub async fn spawn_app_on_postgres_with(extra: &[(&str, &str)]) -> TestApp {
    let server_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let name = format!("warrant_e2e_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&server_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {server_url} cannot be reached: {e}"));
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    conn.close().await.expect("closing the admin connection");
    let url = with_database(&server_url, &name);
    let database = Arc::new(TempDatabase { server_url, name });
    let mut vars = vec![("WARRANT_DATABASE_URL", url.as_str())];
    vars.extend_from_slice(extra);
    let mut app = spawn_app_with(&vars).await;
    app._database = Some(database);
    app
}

async fn start(vars: HashMap<String, String>, clock: Arc<ManualClock>, dir: tempfile::TempDir) -> TestApp {
    let lookup = vars.clone();
    let config =
        Config::from_lookup(move |name| lookup.get(name).cloned()).expect("the test configuration is valid");
    let application = Application::build(config, clock.clone()).await.expect("the application builds");
    let addr = application.local_addr();
    let issuer = application.issuer().to_owned();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let admin_secret = vars["WARRANT_BOOTSTRAP_ADMIN_SECRET"].clone();
    let mut app = TestApp {
        addr,
        issuer,
        client: reqwest::Client::new(),
        clock,
        admin_token: String::new(),
        admin_secret,
        vars,
        shutdown,
        server,
        _dir: dir,
        _database: None,
        _redis_keys: None,
    };
    let secret = app.admin_secret.clone();
    app.admin_token = app.operator_token(BOOTSTRAP_ADMIN_ID, &secret, &[("resource", ADMIN_AUDIENCE)]).await;
    app
}

impl TestApp {
    /// Stops this server and builds a second `Application` on the same data
    /// and keys directories (and the same clock).
    pub async fn restart(self) -> TestApp {
        let TestApp { vars, clock, shutdown, server, client, _dir, _database, _redis_keys, .. } = self;
        drop(client);
        let _ = shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the server stops within 10 s of its shutdown signal")
            .expect("the server task did not panic")
            .expect("the server stopped cleanly");
        let mut app = start(vars, clock, _dir).await;
        app._database = _database;
        app._redis_keys = _redis_keys;
        app
    }

    /// Another instance of the same deployment: the same variables (database,
    /// keys directory, Redis, issuer, bootstrap secret) but `overrides`, its
    /// own listening port, and the same clock.
    pub async fn spawn_sibling(&self, overrides: &[(&str, &str)]) -> TestApp {
        let mut vars = self.vars.clone();
        for (name, value) in overrides {
            vars.insert((*name).to_owned(), (*value).to_owned());
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut app = start(vars, self.clock.clone(), dir).await;
        app._database = self._database.clone();
        app._redis_keys = self._redis_keys.clone();
        app
    }

    /// The `WARRANT_*` variable this server was started with, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Drops this server's PostgreSQL database under it (the store goes away).
    pub async fn drop_database(&self) {
        let database = self._database.as_ref().expect("a server on PostgreSQL");
        let mut conn =
            sqlx::PgConnection::connect(&database.server_url).await.expect("the PostgreSQL server answers");
        conn.execute(format!(r#"DROP DATABASE "{}" WITH (FORCE)"#, database.name).as_str())
            .await
            .expect("dropping the test database");
        conn.close().await.expect("closing the admin connection");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.issuer)
    }

    /// The server's current time, unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now().0
    }

    pub fn rfc3339_in(&self, seconds: i64) -> String {
        rfc3339(self.now() + seconds)
    }

    // ---- OAuth endpoints ----

    /// POST /oauth2/token with any body, content type and Authorization header.
    pub async fn post_token_raw(
        &self,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
        authorization: Option<&str>,
    ) -> Response {
        let mut request = self.client.post(self.url("/oauth2/token")).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        request.send().await.expect("the token endpoint answers")
    }

    /// POST /oauth2/token with exactly these form pairs (repeats allowed).
    pub async fn token_form(&self, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        let authorization = basic.map(|(id, secret)| basic_header(id, secret));
        self.post_token_raw(form(pairs), Some(FORM), authorization.as_deref()).await
    }

    /// client_credentials with `client_secret_basic`, plus `params`.
    pub async fn token_with_basic(&self, id: &str, secret: &str, params: &[(&str, &str)]) -> Response {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend_from_slice(params);
        self.token_form(&pairs, Some((id, secret))).await
    }

    /// client_credentials with `client_secret_post`, plus `params`.
    pub async fn token_with_post(&self, id: &str, secret: &str, params: &[(&str, &str)]) -> Response {
        let mut pairs =
            vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
        pairs.extend_from_slice(params);
        self.token_form(&pairs, None).await
    }

    /// client_credentials with `private_key_jwt`, plus `params`.
    pub async fn token_with_assertion(&self, assertion: &str, params: &[(&str, &str)]) -> Response {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ];
        pairs.extend_from_slice(params);
        self.token_form(&pairs, None).await
    }

    /// An operator's admin access token (client_secret_basic), asserting success.
    pub async fn operator_token(&self, id: &str, secret: &str, params: &[(&str, &str)]) -> String {
        let response = self.token_with_basic(id, secret, params).await;
        access_token(response).await
    }

    pub async fn jwks(&self) -> Value {
        let response = self.get("/.well-known/jwks.json").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("the JWKS is JSON")
    }

    pub async fn metadata(&self) -> Response {
        self.get("/.well-known/oauth-authorization-server").await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("the server answers")
    }

    // ---- Admin API ----

    /// GET /admin/v1{path} with a bearer token.
    pub async fn admin_get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(&format!("/admin/v1{path}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("the admin API answers")
    }

    /// POST /admin/v1{path} with a JSON body and a bearer token.
    pub async fn admin_post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.admin_post_raw(path, Some(token), body.to_string(), Some("application/json")).await
    }

    /// POST /admin/v1{path} with any body, content type and bearer token.
    pub async fn admin_post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: String,
        content_type: Option<&str>,
    ) -> Response {
        let mut request = self.client.post(self.url(&format!("/admin/v1{path}"))).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        request.send().await.expect("the admin API answers")
    }

    /// Registers an operator (by the bootstrap admin) and gets its admin token.
    pub async fn create_operator(&self, roles: &[&str]) -> Operator {
        let body = json!({
            "name": format!("operator {}", Uuid::new_v4().simple()),
            "email": format!("{}@example.com", Uuid::new_v4().simple()),
            "roles": roles,
        });
        let created = created(self.admin_post("/operators", &self.admin_token, &body).await).await;
        let id = str_field(&created, "id");
        let client_id = str_field(&created, "client_id");
        let secret = str_field(&created, "client_secret");
        let token = self.operator_token(&client_id, &secret, &[("resource", ADMIN_AUDIENCE)]).await;
        Operator { id, client_id, secret, token }
    }

    /// Registers a resource with these scopes (by the bootstrap admin).
    pub async fn create_resource(&self, scopes: &[&str]) -> Resource {
        let body = resource_body(&unique_audience(), scopes);
        let created = created(self.admin_post("/resources", &self.admin_token, &body).await).await;
        Resource {
            id: str_field(&created, "id"),
            audience: str_field(&created, "audience"),
            client_id: str_field(&created, "client_id"),
            secret: str_field(&created, "client_secret"),
        }
    }

    /// Registers an agent with `token`; with a key it uses private_key_jwt.
    pub async fn create_agent(&self, token: &str, key: Option<&AgentKey>) -> Agent {
        let body = agent_body(key.map(AgentKey::jwks));
        let created = created(self.admin_post("/agents", token, &body).await).await;
        Agent {
            id: str_field(&created, "id"),
            client_id: str_field(&created, "client_id"),
            secret: created["client_secret"].as_str().map(str::to_owned),
        }
    }

    pub async fn request_grant(&self, token: &str, agent_id: &str, body: &Value) -> Response {
        self.admin_post(&format!("/agents/{agent_id}/grants"), token, body).await
    }

    /// A grant request body expiring `expires_in` seconds from the server's now.
    pub fn grant_body(
        &self,
        audience: &str,
        scopes: &[&str],
        expires_in: i64,
        max_ttl: Option<i64>,
    ) -> Value {
        let mut body = json!({
            "resource": audience,
            "scopes": scopes,
            "justification": "end-to-end test",
            "expires_at": self.rfc3339_in(expires_in),
        });
        if let Some(ttl) = max_ttl {
            body["max_token_ttl"] = json!(ttl);
        }
        body
    }

    pub async fn approve(&self, token: &str, grant_id: &str) -> Response {
        self.admin_post(&format!("/grants/{grant_id}/approve"), token, &json!({})).await
    }

    pub async fn deny(&self, token: &str, grant_id: &str) -> Response {
        self.admin_post(&format!("/grants/{grant_id}/deny"), token, &json!({})).await
    }

    pub async fn revoke(&self, token: &str, grant_id: &str) -> Response {
        self.admin_post(&format!("/grants/{grant_id}/revoke"), token, &json!({})).await
    }

    /// Requests a grant as `requester` and approves it as `approver`; returns its id.
    pub async fn grant_and_approve(
        &self,
        requester: &Operator,
        approver: &Operator,
        agent_id: &str,
        body: &Value,
    ) -> String {
        let grant = created(self.request_grant(&requester.token, agent_id, body).await).await;
        let grant_id = str_field(&grant, "id");
        let approved = self.approve(&approver.token, &grant_id).await;
        assert_eq!(approved.status(), StatusCode::OK, "approving {grant_id}");
        grant_id
    }

    /// resource -> agent -> grant requested by a requester -> approved by an approver.
    pub async fn setup_agent_with_grant(&self, setup: Setup<'_>) -> Granted {
        let resource = self.create_resource(setup.scopes).await;
        let requester = self.create_operator(&["requester"]).await;
        let approver = self.create_operator(&["approver"]).await;
        let agent = self.create_agent(&requester.token, setup.key).await;
        let body = self.grant_body(&resource.audience, setup.granted, setup.expires_in, setup.max_token_ttl);
        let grant_id = self.grant_and_approve(&requester, &approver, &agent.id, &body).await;
        Granted { agent, resource, grant_id, requester, approver }
    }
}

/// What `setup_agent_with_grant` builds.
pub struct Setup<'a> {
    /// The resource's scope catalogue.
    pub scopes: &'a [&'a str],
    /// The scopes requested and approved.
    pub granted: &'a [&'a str],
    /// Register the agent with this key (private_key_jwt) instead of a secret.
    pub key: Option<&'a AgentKey>,
    pub expires_in: i64,
    pub max_token_ttl: Option<i64>,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Setup {
            scopes: &["read", "write"],
            granted: &["read"],
            key: None,
            expires_in: 86_400,
            max_token_ttl: None,
        }
    }
}

pub struct Granted {
    pub agent: Agent,
    pub resource: Resource,
    pub grant_id: String,
    pub requester: Operator,
    pub approver: Operator,
}

impl Granted {
    /// The agent's secret (it was registered without a key).
    pub fn secret(&self) -> &str {
        self.agent.secret.as_deref().expect("an agent registered without jwks has a secret")
    }
}

pub struct Operator {
    pub id: String,
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

pub struct Resource {
    pub id: String,
    pub audience: String,
    pub client_id: String,
    pub secret: String,
}

pub struct Agent {
    pub id: String,
    pub client_id: String,
    pub secret: Option<String>,
}

pub fn resource_body(audience: &str, scopes: &[&str]) -> Value {
    let scopes: Vec<Value> = scopes
        .iter()
        .map(|name| json!({"name": name, "description": format!("{name} things"), "data_class": "internal"}))
        .collect();
    json!({"name": "CRM", "kind": "crm", "audience": audience, "scopes": scopes})
}

pub fn agent_body(jwks: Option<Value>) -> Value {
    let mut body = json!({
        "name": format!("agent {}", Uuid::new_v4().simple()),
        "platform": "agentforce",
        "vendor": "Salesforce",
        "owner": "jane.doe@example.com",
        "purpose": "answers billing questions",
        "environment": "production",
        "acts_on_behalf_of": "customer",
        "tags": ["billing"],
    });
    if let Some(jwks) = jwks {
        body["jwks"] = jwks;
    }
    body
}

pub fn unique_audience() -> String {
    format!("https://crm-{}.example.com", Uuid::new_v4().simple())
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// RFC 6749 §2.3.1: Basic over the form-urlencoded id and secret.
pub fn basic_header(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(id), encode(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .expect("a valid timestamp")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats as RFC 3339")
}

pub fn random_secret() -> String {
    let long = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    long[..43].to_owned()
}

fn unix_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
    i64::try_from(now.as_secs()).expect("fits in i64")
}

fn path_string(path: &std::path::Path) -> String {
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}

/// The same server URL with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("DATABASE_URL has a scheme");
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}
