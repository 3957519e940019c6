//! The `warrant` binary's logs. A whole walkthrough runs against `warrant
//! serve` as a child process (so its real subscriber writes the logs) in
//! production mode (PostgreSQL and Redis), with JSON logs at `RUST_LOG=trace`:
//! the bootstrap admin, operators, a resource, an agent with a client secret
//! and one with `private_key_jwt`, grants requested and approved, tokens by
//! `client_secret_basic`, `client_secret_post` and `private_key_jwt`,
//! introspection, revocation, failed authentications (wrong secrets, a
//! replayed and a forged assertion, a bogus bearer token), a kill and a
//! restore, a credential rotation. Every secret and token the walkthrough
//! saw, the bootstrap secret, the pepper and the private signing keys are
//! then looked for, in several encodings, in everything the process wrote;
//! none may be there. The log lines must be JSON, and those written while
//! serving a request must carry its request id.
//!
//! Here rather than in `tests/e2e`: only the package that defines the
//! binary gets `CARGO_BIN_EXE_warrant`, with the binary built before its
//! tests run.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jwk::KeyPair as _;
use josekit::jws::{JwsHeader, ES256};
use josekit::jwt::JwtPayload;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection as _, Executor as _};
use uuid::Uuid;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FORM: &str = "application/x-www-form-urlencoded";
const ADMIN_ID: &str = "bootstrap-admin";
const CUSTOM_REQUEST_ID: &str = "walkthrough-7f3a:wrong-secret";

/// Lines logged only while serving a request: each must carry a request id.
const REQUEST_SCOPED: [&str; 7] = [
    "token issued",
    "client authentication failed",
    "client assertion refused",
    "introspection answered inactive",
    "access token revoked",
    "agent killed",
    "answered",
];

#[tokio::test]
async fn no_secret_or_token_of_a_whole_walkthrough_reaches_the_logs() {
    let database = TempDatabase::create().await;
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("warrant-logs-{}:", Uuid::new_v4().simple());
    let admin_secret = format!("bootstrap-{}", Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("WARRANT_DATABASE_URL", database.url.as_str()),
            ("WARRANT_REDIS_URL", redis_url.as_str()),
            ("WARRANT_REDIS_PREFIX", prefix.as_str()),
            ("WARRANT_BOOTSTRAP_ADMIN_ID", ADMIN_ID),
            ("WARRANT_BOOTSTRAP_ADMIN_SECRET", admin_secret.as_str()),
            ("WARRANT_LOG_FORMAT", "json"),
            ("RUST_LOG", "trace"),
        ],
    );
    let mut walk = Walk::new(server.base.clone());
    walk.secret("the bootstrap secret", &admin_secret);
    walk.ready().await;
    walkthrough(&mut walk, &admin_secret).await;

    let (stdout, stderr) = server.stop();
    clean_redis(&redis_url, &prefix);
    drop(database);
    keys_dir_secrets(&mut walk, &dir.path().join("keys"));

    // No secret, in any encoding, anywhere the process wrote.
    let mut leaks = Vec::new();
    for (what, needle) in &walk.secrets {
        for (stream, text) in [("stderr", &stderr), ("stdout", &stdout)] {
            if let Some(line) = text.lines().find(|line| line.contains(needle.as_str())) {
                leaks.push(format!("{what} in {stream}: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets in the logs:\n{}", leaks.join("\n"));
    assert!(walk.secrets.len() > 40, "the walkthrough collected {} secrets", walk.secrets.len());

    // Every line is a JSON object with a level, a target and fields.
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    for line in &lines {
        assert!(
            line["level"].is_string() && line["target"].is_string() && line["fields"].is_object(),
            "{line}"
        );
    }
    assert!(lines.len() > 100, "RUST_LOG=trace logged only {} lines", lines.len());

    // Lines written while serving a request carry its id; every request was logged.
    for message in REQUEST_SCOPED {
        let logged: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == message).collect();
        assert!(!logged.is_empty(), "no {message:?} line");
        for line in logged {
            assert!(request_id(line).is_some(), "{message:?} without a request id: {line}");
        }
    }
    let ids: std::collections::HashSet<&str> = lines.iter().filter_map(request_id).collect();
    let unlogged: Vec<&String> = walk.request_ids.iter().filter(|id| !ids.contains(id.as_str())).collect();
    assert!(unlogged.is_empty(), "requests with no log line: {unlogged:?}");
    assert!(
        lines.iter().any(|l| request_id(l) == Some(CUSTOM_REQUEST_ID)
            && l["fields"]["message"] == "client authentication failed"),
        "the caller's X-Request-Id names the lines of its request"
    );
}

#[test]
fn a_bad_log_format_or_filter_stops_the_binary_naming_the_variable() {
    for (variable, value) in [("WARRANT_LOG_FORMAT", "xml"), ("RUST_LOG", "warrant_server=loud")] {
        let output = Command::new(env!("CARGO_BIN_EXE_warrant"))
            .arg("serve")
            .env_clear()
            .env(variable, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}={value}: {stderr}");
        assert!(stderr.contains(&format!("bad configuration: {variable}")), "{variable}={value}: {stderr}");
    }
}

#[test]
fn text_is_the_default_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("migrate")
        .env_clear()
        .env("WARRANT_DATA_DIR", dir.path().join("data"))
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = stderr.lines().next().unwrap_or_else(|| panic!("nothing logged at debug"));
    assert!(!first.starts_with('{') && first.contains("DEBUG"), "{first}");
}

/// The steps, as an operator, the agents and a resource server take them.
async fn walkthrough(walk: &mut Walk, admin_secret: &str) {
    let admin = walk.token_basic(ADMIN_ID, admin_secret, &[("resource", "urn:warrant:admin")]).await;
    let admin = walk.access_token(admin);

    // Operators: Rita requests, Abe approves, Rhea responds.
    let rita = walk
        .admin_post(
            &admin,
            "/operators",
            json!({"name": "Rita", "email": "rita@example.com", "roles": ["requester"]}),
        )
        .await;
    let abe = walk
        .admin_post(
            &admin,
            "/operators",
            json!({"name": "Abe", "email": "abe@example.com", "roles": ["approver"]}),
        )
        .await;
    let rhea = walk
        .admin_post(
            &admin,
            "/operators",
            json!({"name": "Rhea", "email": "rhea@example.com", "roles": ["responder"]}),
        )
        .await;
    let (rita, abe, rhea) = (credentials(&rita), credentials(&abe), credentials(&rhea));
    let answer = walk.token_basic(&rita.0, &rita.1, &[("resource", "urn:warrant:admin")]).await;
    let rita_token = walk.access_token(answer);
    let answer = walk.token_post(&abe.0, &abe.1, &[("resource", "urn:warrant:admin")]).await;
    let abe_token = walk.access_token(answer);
    let answer = walk.token_basic(&rhea.0, &rhea.1, &[("resource", "urn:warrant:admin")]).await;
    let rhea_token = walk.access_token(answer);

    // The CRM, and its introspection credentials.
    let crm = walk
        .admin_post(
            &admin,
            "/resources",
            json!({
                "name": "CRM", "kind": "crm", "audience": "https://crm.example.com",
                "scopes": [{"name": "contacts:read", "description": "Read contacts", "data_class": "pii"}],
            }),
        )
        .await;
    let crm = credentials(&crm);

    // Two agents: one with a secret, one with a key (private_key_jwt).
    let agent = walk.admin_post(&rita_token, "/agents", agent_body(None)).await;
    let (agent_id, agent_secret) = credentials(&agent);
    let key = AgentKey::generate();
    walk.secret("the jwt agent's private key (d)", &key.private_d());
    let jwt_agent = walk.admin_post(&rita_token, "/agents", agent_body(Some(key.jwks()))).await;
    let jwt_agent_id = jwt_agent["client_id"].as_str().unwrap().to_owned();

    // Grants: Rita requests, Abe approves.
    for id in [&agent_id, &jwt_agent_id] {
        let grant = walk
            .admin_post(
                &rita_token,
                &format!("/agents/{id}/grants"),
                json!({
                    "resource": "https://crm.example.com", "scopes": ["contacts:read"],
                    "justification": "look up the caller", "expires_at": rfc3339_in(30 * 86_400),
                }),
            )
            .await;
        let approve = format!("/grants/{}/approve", grant["id"].as_str().unwrap());
        walk.admin_post(&abe_token, &approve, json!({})).await;
    }

    // Tokens: client_secret_basic, client_secret_post, private_key_jwt.
    let answer = walk.token_basic(&agent_id, &agent_secret, &[]).await;
    let basic_token = walk.access_token(answer);
    let answer = walk.token_post(&agent_id, &agent_secret, &[("scope", "contacts:read")]).await;
    let post_token = walk.access_token(answer);
    let assertion = key.assertion(&jwt_agent_id, &walk.token_endpoint());
    walk.secret("a client assertion", &assertion);
    let answer = walk.token_assertion(&assertion).await;
    let jwt_token = walk.access_token(answer);

    // Introspection by the CRM: active.
    for token in [&basic_token, &post_token, &jwt_token] {
        assert_eq!(walk.introspect(&crm.0, &crm.1, token).await["active"], true);
    }

    // Failed authentications: wrong secrets, a replayed and a forged
    // assertion, an unknown client, a bogus bearer token.
    let wrong = format!("wrong-{}", Uuid::new_v4().simple());
    walk.secret("a wrong secret", &wrong);
    let request =
        walk.oauth("/oauth2/token", &[("grant_type", "client_credentials")], Some((&agent_id, &wrong)));
    let (status, _) = walk.send(request.header("x-request-id", CUSTOM_REQUEST_ID)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    walk.refused(walk.oauth(
        "/oauth2/token",
        &[("grant_type", "client_credentials"), ("client_id", &agent_id), ("client_secret", &wrong)],
        None,
    ))
    .await;
    walk.refused(walk.assertion_request(&assertion)).await;
    let other = AgentKey::generate();
    walk.secret("a foreign private key (d)", &other.private_d());
    let forged = AgentKey { kid: key.kid.clone(), ..other }.assertion(&jwt_agent_id, &walk.token_endpoint());
    walk.secret("a forged client assertion", &forged);
    walk.refused(walk.assertion_request(&forged)).await;
    let stranger = format!("stranger-{}", Uuid::new_v4().simple());
    walk.secret("an unknown client's secret", &stranger);
    walk.refused(walk.oauth(
        "/oauth2/token",
        &[("grant_type", "client_credentials")],
        Some(("agt_nobody", &stranger)),
    ))
    .await;
    walk.refused(walk.oauth("/oauth2/introspect", &[("token", &basic_token)], Some((&crm.0, &wrong)))).await;
    let bogus = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode("{\"alg\":\"ES256\"}"),
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    );
    walk.secret("a bogus bearer token", &bogus);
    let (status, _) = walk.send(walk.http.get(walk.url("/admin/v1/agents")).bearer_auth(&bogus)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revocation by the agent: its basic token is inactive.
    let request = walk.oauth("/oauth2/revoke", &[("token", &basic_token)], Some((&agent_id, &agent_secret)));
    assert_eq!(walk.send(request).await.0, StatusCode::OK);
    assert_eq!(walk.introspect(&crm.0, &crm.1, &basic_token).await["active"], false);

    // A kill by Rhea: the post token dies, no new token; a restore.
    walk.admin_post(&rhea_token, &format!("/agents/{agent_id}/kill"), json!({"reason": "prompt injection"}))
        .await;
    assert_eq!(walk.introspect(&crm.0, &crm.1, &post_token).await["active"], false);
    walk.refused(walk.oauth(
        "/oauth2/token",
        &[("grant_type", "client_credentials")],
        Some((&agent_id, &agent_secret)),
    ))
    .await;
    walk.admin_post(&rhea_token, &format!("/agents/{agent_id}/restore"), json!({"reason": "false alarm"}))
        .await;
    // A token asked for in the very second of the kill would still be refused.
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // Rotation: a second secret works, then the first is retired.
    let listed = walk.admin_get(&rita_token, &format!("/agents/{agent_id}/credentials")).await;
    let first_credential = listed["credentials"][0]["id"].as_str().unwrap().to_owned();
    let rotated = walk.admin_post(&rita_token, &format!("/agents/{agent_id}/credentials"), json!({})).await;
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    let answer = walk.token_basic(&agent_id, &new_secret, &[]).await;
    let rotated_token = walk.access_token(answer);
    let (status, _) = walk
        .send(
            walk.http
                .delete(walk.url(&format!("/admin/v1/agents/{agent_id}/credentials/{first_credential}")))
                .bearer_auth(&rita_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    walk.refused(walk.oauth(
        "/oauth2/token",
        &[("grant_type", "client_credentials")],
        Some((&agent_id, &agent_secret)),
    ))
    .await;
    assert_eq!(walk.introspect(&crm.0, &crm.1, &rotated_token).await["active"], true);

    // What operators read: the access report, the audit trail, the metrics.
    walk.admin_get(&admin, &format!("/agents/{agent_id}")).await;
    walk.admin_get(&admin, &format!("/audit?agent_id={agent_id}")).await;
    let (status, _) = walk.send(walk.http.get(walk.url("/metrics"))).await;
    assert_eq!(status, StatusCode::OK);
}

/// The running child process and what it writes.
struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    fn start(dir: &Path, vars: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
            .arg("serve")
            .env_clear()
            .env("WARRANT_LISTEN", "127.0.0.1:0")
            .env("WARRANT_DATA_DIR", dir.join("data"))
            .env("WARRANT_KEYS_DIR", dir.join("keys"))
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        let started = Instant::now();
        let base = loop {
            let text = String::from_utf8_lossy(&stdout.lock().unwrap()).into_owned();
            if let Some(rest) = text.split("Warrant listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "warrant serve exited ({status}): {}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                );
            }
            assert!(started.elapsed() < Duration::from_secs(60), "warrant serve did not start: {text}");
            std::thread::sleep(Duration::from_millis(50));
        };
        Server { child, base, stdout, stderr, readers }
    }

    /// Stops the server with SIGTERM and returns what it wrote.
    fn stop(mut self) -> (String, String) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let text = |buffer: &Mutex<Vec<u8>>| String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        (text(&self.stdout), text(&self.stderr))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut stream: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    })
}

/// The client side of the walkthrough, remembering every secret it sees
/// and every request id it is answered with.
struct Walk {
    base: String,
    http: reqwest::Client,
    secrets: Vec<(String, String)>,
    request_ids: Vec<String>,
}

impl Walk {
    fn new(base: String) -> Walk {
        Walk { base, http: reqwest::Client::new(), secrets: Vec::new(), request_ids: Vec::new() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn token_endpoint(&self) -> String {
        self.url("/oauth2/token")
    }

    /// Remembers a secret, and for a JWT its signature too.
    fn secret(&mut self, what: &str, value: &str) {
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() == 3 && parts[2].len() > 20 {
            self.secret(&format!("{what} (its signature)"), parts[2]);
        }
        if !self.secrets.iter().any(|(_, seen)| seen == value) {
            self.secrets.push((what.to_owned(), value.to_owned()));
        }
    }

    /// Remembers a client's secret and the Basic header carrying it.
    fn client_secret(&mut self, what: &str, id: &str, secret: &str) {
        self.secret(what, secret);
        self.secret(&format!("{what} (Basic header)"), basic(id, secret).trim_start_matches("Basic "));
    }

    /// Waits until `/readyz` answers 200 (Redis followed).
    async fn ready(&mut self) {
        let started = Instant::now();
        loop {
            let (status, _) = self.send(self.http.get(self.url("/readyz"))).await;
            if status == StatusCode::OK {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "/readyz still {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a request; remembers its request id and any secret or token
    /// in the answer. Returns the status and the JSON body (or null).
    async fn send(&mut self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let id = response.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
        self.request_ids.push(id.unwrap_or_else(|| panic!("an answer without X-Request-Id ({status})")));
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        if let Some(token) = body["access_token"].as_str() {
            self.secret("an access token", token);
        }
        if let (Some(id), Some(secret)) = (body["client_id"].as_str(), body["client_secret"].as_str()) {
            self.client_secret("a client secret", id, secret);
        }
        (status, body)
    }

    fn oauth(&self, path: &str, pairs: &[(&str, &str)], basic_auth: Option<(&str, &str)>) -> RequestBuilder {
        let mut request = self.http.post(self.url(path)).header(CONTENT_TYPE, FORM).body(form(pairs));
        if let Some((id, secret)) = basic_auth {
            request = request.header(AUTHORIZATION, basic(id, secret));
        }
        request
    }

    fn assertion_request(&self, assertion: &str) -> RequestBuilder {
        let pairs = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ];
        self.oauth("/oauth2/token", &pairs, None)
    }

    async fn token_basic(&mut self, id: &str, secret: &str, params: &[(&str, &str)]) -> Value {
        self.client_secret("a client secret", id, secret);
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend_from_slice(params);
        self.ok(self.oauth("/oauth2/token", &pairs, Some((id, secret)))).await
    }

    async fn token_post(&mut self, id: &str, secret: &str, params: &[(&str, &str)]) -> Value {
        self.client_secret("a client secret", id, secret);
        let mut pairs =
            vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
        pairs.extend_from_slice(params);
        self.ok(self.oauth("/oauth2/token", &pairs, None)).await
    }

    async fn token_assertion(&mut self, assertion: &str) -> Value {
        self.ok(self.assertion_request(assertion)).await
    }

    fn access_token(&mut self, answer: Value) -> String {
        answer["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {answer}")).to_owned()
    }

    async fn introspect(&mut self, id: &str, secret: &str, token: &str) -> Value {
        self.ok(self.oauth("/oauth2/introspect", &[("token", token)], Some((id, secret)))).await
    }

    /// Sends a request that must be refused with 401 `invalid_client`.
    async fn refused(&mut self, request: RequestBuilder) {
        let (status, body) = self.send(request).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{body}"
        );
    }

    async fn ok(&mut self, request: RequestBuilder) -> Value {
        let (status, body) = self.send(request).await;
        assert!(status.is_success(), "{status}: {body}");
        body
    }

    async fn admin_post(&mut self, token: &str, path: &str, body: Value) -> Value {
        self.ok(self.http.post(self.url(&format!("/admin/v1{path}"))).bearer_auth(token).json(&body)).await
    }

    async fn admin_get(&mut self, token: &str, path: &str) -> Value {
        self.ok(self.http.get(self.url(&format!("/admin/v1{path}"))).bearer_auth(token)).await
    }
}

/// The `(client_id, client_secret)` of a created client.
fn credentials(created: &Value) -> (String, String) {
    let field =
        |name: &str| created[name].as_str().unwrap_or_else(|| panic!("no {name}: {created}")).to_owned();
    (field("client_id"), field("client_secret"))
}

fn agent_body(jwks: Option<Value>) -> Value {
    let mut body = json!({
        "name": format!("agent {}", Uuid::new_v4().simple()), "platform": "agentforce",
        "vendor": "Salesforce", "owner": "jane.doe@example.com", "purpose": "billing questions",
        "environment": "production", "acts_on_behalf_of": "customer", "tags": ["billing"],
    });
    if let Some(jwks) = jwks {
        body["jwks"] = jwks;
    }
    body
}

/// An agent's EC P-256 key pair and its `kid`.
struct AgentKey {
    kid: String,
    pair: EcKeyPair,
}

impl AgentKey {
    fn generate() -> AgentKey {
        AgentKey { kid: format!("key-{}", Uuid::new_v4().simple()), pair: ES256.generate_key_pair().unwrap() }
    }

    fn jwks(&self) -> Value {
        let mut jwk = self.pair.to_jwk_public_key();
        jwk.set_key_id(self.kid.clone());
        json!({"keys": [Value::Object(jwk.into())]})
    }

    fn private_d(&self) -> String {
        self.pair.to_jwk_private_key().parameter("d").unwrap().as_str().unwrap().to_owned()
    }

    /// A client assertion (RFC 7523 §3) for `client_id` at `audience`.
    fn assertion(&self, client_id: &str, audience: &str) -> String {
        let now = unix_now();
        let claims = json!({"iss": client_id, "sub": client_id, "aud": audience,
            "jti": Uuid::new_v4().to_string(), "iat": now, "exp": now + 60});
        let Value::Object(claims) = claims else { unreachable!() };
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        let signer = ES256.signer_from_jwk(&self.pair.to_jwk_key_pair()).unwrap();
        josekit::jwt::encode_with_signer(&JwtPayload::from_map(claims).unwrap(), &header, &signer).unwrap()
    }
}

/// The pepper and the private signing keys, in the encodings a careless
/// log line would use.
fn keys_dir_secrets(walk: &mut Walk, keys: &Path) {
    let pepper = std::fs::read(keys.join("pepper")).unwrap();
    assert_eq!(pepper.len(), 32);
    let hex: String = pepper.iter().map(|b| format!("{b:02x}")).collect();
    walk.secret("the pepper (hex)", &hex);
    walk.secret("the pepper (HEX)", &hex.to_uppercase());
    for (encoding, engine) in [
        ("base64", STANDARD),
        ("base64, no padding", STANDARD_NO_PAD),
        ("base64url", URL_SAFE),
        ("base64url, no padding", URL_SAFE_NO_PAD),
    ] {
        walk.secret(&format!("the pepper ({encoding})"), &engine.encode(&pepper));
    }
    walk.secret("the pepper (Debug)", &format!("{pepper:?}"));
    walk.secret("the pepper (JSON)", &serde_json::to_string(&pepper).unwrap());
    let mut private_keys = 0;
    for entry in std::fs::read_dir(keys).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pem") {
            let pem = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            walk.secret(&format!("{name} (PEM body)"), &body.concat());
            for line in body.iter().filter(|l| l.len() >= 40) {
                walk.secret(&format!("{name} (a PEM line)"), line);
            }
            let pair = ES256.key_pair_from_pem(pem.as_bytes()).unwrap();
            let d = pair.to_jwk_private_key().parameter("d").unwrap().as_str().unwrap().to_owned();
            walk.secret(&format!("{name} (d)"), &d);
            private_keys += 1;
        }
    }
    assert!(private_keys >= 1, "no private key in {}", keys.display());
}

fn basic(id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))))
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The request id of a JSON log line: its current span's, or any of its spans'.
fn request_id(line: &Value) -> Option<&str> {
    line["span"]["request_id"]
        .as_str()
        .or_else(|| line["spans"].as_array()?.iter().find_map(|span| span["request_id"].as_str()))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rfc3339_in(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_now() + seconds)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Deletes every Redis key under `prefix` (best effort).
fn clean_redis(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else { return };
    let Ok(mut conn) = client.get_connection() else { return };
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut conn).unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
    }
}

/// A PostgreSQL database of its own, dropped with the test.
struct TempDatabase {
    server: String,
    name: String,
    url: String,
}

impl TempDatabase {
    async fn create() -> TempDatabase {
        let server = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("warrant_logs_{}", Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} cannot be reached: {e}"));
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.unwrap();
        conn.close().await.unwrap();
        let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        TempDatabase { server, name, url }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime: clean up from a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                    let _ = conn
                        .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
