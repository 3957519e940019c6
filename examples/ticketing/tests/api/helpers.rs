//! The test harness: `spawn()` starts a real Warrant (SQLite in a fresh
//! temporary directory, the shared Redis under a fresh prefix) on port 0,
//! registers the ticketing resource and a second operator who approves
//! grants, then starts the ticketing service on port 0 following the same
//! Redis prefix. Both share one manual clock. `TestEnv` has one method per
//! call the tests make.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use warrant_example_ticketing::{Application as Ticketing, TicketingConfig};
use warrant_policy::{Clock as _, ManualClock, Timestamp};
use warrant_server::{Application as Warrant, Config};

use crate::redis::{assert_reachable, redis_url, unique_prefix, PrefixCleanup};

pub const AUDIENCE: &str = "https://tickets.example.com";
pub const CRM_AUDIENCE: &str = "https://crm.example.com";
pub const READ: &str = "tickets:read";
pub const WRITE: &str = "tickets:write";
const ADMIN_AUDIENCE: &str = "urn:warrant:admin";
const BOOTSTRAP_ADMIN_ID: &str = "bootstrap-admin";
/// How long a kill may take to reach the ticketing service's copy of the
/// denylist (it travels by Redis pub/sub; in practice well under 10 ms).
pub const PROPAGATION_BOUND: Duration = Duration::from_secs(2);

/// A Warrant and a ticketing service sharing a Redis prefix and a clock.
pub struct TestEnv {
    pub client: reqwest::Client,
    pub warrant: String,
    pub tickets: String,
    pub issuer: String,
    pub clock: Arc<ManualClock>,
    /// A token of the bootstrap operator (admin): registers, requests, kills.
    pub admin_token: String,
    /// A token of a second operator (approver): approves and revokes grants.
    pub approver_token: String,
    pub redis_url: String,
    pub prefix: String,
    _stop: Vec<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    _redis_keys: PrefixCleanup,
}

/// An agent registered in Warrant, with one approved grant on the ticketing resource.
pub struct Agent {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub grant_id: String,
}

/// Starts Warrant and the ticketing service; panics if Redis is unreachable.
pub async fn spawn() -> TestEnv {
    let redis_url = redis_url();
    assert_reachable(&redis_url);
    let prefix = unique_prefix();
    let redis_keys = PrefixCleanup { url: redis_url.clone(), prefix: prefix.clone() };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    std::fs::create_dir_all(&data).expect("the data directory");
    std::fs::create_dir_all(&keys).expect("the keys directory");
    let admin_secret = format!("s{}", uuid::Uuid::new_v4().simple());
    let vars: HashMap<&str, String> = HashMap::from([
        ("WARRANT_LISTEN", "127.0.0.1:0".to_owned()),
        ("WARRANT_DATA_DIR", data.display().to_string()),
        ("WARRANT_KEYS_DIR", keys.display().to_string()),
        ("WARRANT_REDIS_URL", redis_url.clone()),
        ("WARRANT_REDIS_PREFIX", prefix.clone()),
        ("WARRANT_BOOTSTRAP_ADMIN_ID", BOOTSTRAP_ADMIN_ID.to_owned()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET", admin_secret.clone()),
    ]);
    let config =
        Config::from_lookup(|name| vars.get(name).cloned()).expect("the Warrant configuration is valid");
    let clock = Arc::new(ManualClock::new(Timestamp(unix_now())));
    let warrant = Warrant::build(config, clock.clone()).await.expect("Warrant builds");
    let warrant_url = format!("http://{}", warrant.local_addr());
    let issuer = warrant.issuer().to_owned();
    let (stop_warrant, stopped) = oneshot::channel::<()>();
    tokio::spawn(warrant.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    wait_until_ready(&client, &warrant_url, "Warrant").await;

    let mut env = TestEnv {
        client,
        warrant: warrant_url,
        tickets: String::new(),
        issuer,
        clock,
        admin_token: String::new(),
        approver_token: String::new(),
        redis_url,
        prefix,
        _stop: vec![stop_warrant],
        _dir: dir,
        _redis_keys: redis_keys,
    };
    env.admin_token = env.operator_token(BOOTSTRAP_ADMIN_ID, &admin_secret).await;
    let approver = env
        .admin_post(
            "/admin/v1/operators",
            json!({"name": "Ada Approver", "email": "ada@example.com", "roles": ["approver"]}),
            StatusCode::CREATED,
        )
        .await;
    env.approver_token =
        env.operator_token(str_field(&approver, "client_id"), str_field(&approver, "client_secret")).await;
    env.register_resource("Ticketing", "ticketing", AUDIENCE, &[READ, WRITE]).await;
    env.tickets = env.spawn_ticketing(|_| {}).await;
    wait_until_ready(&env.client, &env.tickets, "the ticketing service").await;
    env
}

/// Polls `<base>/readyz` until 200, panicking after 15 s.
async fn wait_until_ready(client: &reqwest::Client, base: &str, what: &str) {
    let started = Instant::now();
    loop {
        let response = client.get(format!("{base}/readyz")).send().await.expect("/readyz answers");
        let status = response.status();
        if status == StatusCode::OK {
            return;
        }
        let body = response.text().await.unwrap_or_default();
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what}: /readyz still {status} after 15 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn unix_now() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
    i64::try_from(elapsed.as_secs()).expect("seconds fit in i64")
}

/// A string member of a JSON answer.
pub fn str_field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name].as_str().unwrap_or_else(|| panic!("no string {name:?} in {value}"))
}

impl TestEnv {
    /// Starts another ticketing service following this Warrant (same issuer,
    /// audience, Redis prefix and clock), with `adjust` applied to its
    /// configuration; returns its base URL without waiting for it.
    pub async fn spawn_ticketing(&mut self, adjust: impl FnOnce(&mut TicketingConfig)) -> String {
        let vars: HashMap<&str, String> = HashMap::from([
            ("TICKETING_LISTEN", "127.0.0.1:0".to_owned()),
            ("WARRANT_ISSUER", self.issuer.clone()),
            ("TICKETING_AUDIENCE", AUDIENCE.to_owned()),
            ("WARRANT_REDIS_URL", self.redis_url.clone()),
            ("WARRANT_REDIS_PREFIX", self.prefix.clone()),
        ]);
        let mut config = TicketingConfig::from_lookup(|name| vars.get(name).cloned())
            .expect("the ticketing configuration is valid");
        adjust(&mut config);
        let service =
            Ticketing::build(&config, self.clock.clone()).await.expect("the ticketing service builds");
        let url = format!("http://{}", service.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(service.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        self._stop.push(stop);
        url
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/oauth2/token", self.warrant))
            .form(form)
            .send()
            .await
            .expect("the token endpoint answers")
    }

    async fn operator_token(&self, client_id: &str, secret: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", ADMIN_AUDIENCE),
        ];
        let answer = json_with_status(self.token_request(&form).await, StatusCode::OK).await;
        str_field(&answer, "access_token").to_owned()
    }

    /// Asks Warrant for the agent's token for `resource`, with `scope` if given.
    pub async fn agent_token_response(&self, agent: &Agent, resource: &str, scope: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", agent.client_id.as_str()),
            ("client_secret", agent.client_secret.as_str()),
            ("resource", resource),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token_request(&form).await
    }

    /// The agent's token for the ticketing service, with `scope` if given.
    pub async fn token(&self, agent: &Agent, scope: Option<&str>) -> String {
        self.token_for(agent, AUDIENCE, scope).await
    }

    /// The agent's token for `resource`, with `scope` if given.
    pub async fn token_for(&self, agent: &Agent, resource: &str, scope: Option<&str>) -> String {
        let answer =
            json_with_status(self.agent_token_response(agent, resource, scope).await, StatusCode::OK).await;
        str_field(&answer, "access_token").to_owned()
    }

    async fn admin_call(&self, token: &str, path: &str, body: Value, expected: StatusCode) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.warrant))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} answers: {e}"));
        json_with_status(response, expected).await
    }

    /// POST to the admin API as the bootstrap operator.
    pub async fn admin_post(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        self.admin_call(&self.admin_token, path, body, expected).await
    }

    /// Registers a protected system with its scopes.
    pub async fn register_resource(&self, name: &str, kind: &str, audience: &str, scopes: &[&str]) -> Value {
        let scopes: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"name": s, "description": format!("{s} on {name}"), "data_class": "internal"}))
            .collect();
        let body = json!({"name": name, "kind": kind, "audience": audience, "scopes": scopes});
        self.admin_post("/admin/v1/resources", body, StatusCode::CREATED).await
    }

    /// Registers an agent and gives it an approved grant of `scopes` on the
    /// ticketing resource (requested by the admin, approved by the approver).
    pub async fn agent_with_grant(&self, scopes: &[&str]) -> Agent {
        let body = json!({
            "name": "Support triage bot", "platform": "ccaas", "vendor": "Acme", "owner": "ops@example.com",
            "purpose": "triage support tickets", "environment": "production",
            "acts_on_behalf_of": "customer", "tags": ["support"],
        });
        let agent = self.admin_post("/admin/v1/agents", body, StatusCode::CREATED).await;
        let id = str_field(&agent, "id").to_owned();
        let mut agent = Agent {
            client_id: str_field(&agent, "client_id").to_owned(),
            client_secret: str_field(&agent, "client_secret").to_owned(),
            grant_id: String::new(),
            id,
        };
        agent.grant_id = self.approved_grant(&agent, AUDIENCE, scopes).await;
        agent
    }

    /// Requests a grant for the agent and has the approver approve it.
    pub async fn approved_grant(&self, agent: &Agent, audience: &str, scopes: &[&str]) -> String {
        let expires_at = self.clock.now().plus(30 * 24 * 3600).to_rfc3339();
        let body = json!({
            "resource": audience, "scopes": scopes,
            "justification": "the bot files and triages tickets", "expires_at": expires_at,
        });
        let path = format!("/admin/v1/agents/{}/grants", agent.id);
        let grant = self.admin_post(&path, body, StatusCode::CREATED).await;
        let grant_id = str_field(&grant, "id").to_owned();
        let path = format!("/admin/v1/grants/{grant_id}/approve");
        let approved = self.admin_call(&self.approver_token, &path, json!({}), StatusCode::OK).await;
        assert_eq!(str_field(&approved, "status"), "approved");
        grant_id
    }

    /// Kills the agent in Warrant; returns the answer.
    pub async fn kill(&self, agent: &Agent, reason: &str) -> Value {
        let path = format!("/admin/v1/agents/{}/kill", agent.id);
        self.admin_post(&path, json!({ "reason": reason }), StatusCode::OK).await
    }

    /// Restores a killed agent in Warrant.
    pub async fn restore(&self, agent: &Agent, reason: &str) -> Value {
        let path = format!("/admin/v1/agents/{}/restore", agent.id);
        self.admin_post(&path, json!({ "reason": reason }), StatusCode::OK).await
    }

    /// Revokes the agent's grant on the ticketing resource (as the approver).
    pub async fn revoke_grant(&self, agent: &Agent) -> Value {
        let path = format!("/admin/v1/grants/{}/revoke", agent.grant_id);
        self.admin_call(&self.approver_token, &path, json!({}), StatusCode::OK).await
    }

    /// `GET /tickets` at `base`, with `Authorization` set to `authorization` if given.
    pub async fn list_tickets_at(&self, base: &str, authorization: Option<&str>) -> Response {
        let mut request = self.client.get(format!("{base}/tickets"));
        if let Some(value) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        request.send().await.expect("GET /tickets answers")
    }

    /// `GET /tickets` at the ticketing service with a bearer token.
    pub async fn list_tickets(&self, token: &str) -> Response {
        self.list_tickets_at(&self.tickets, Some(&format!("Bearer {token}"))).await
    }

    /// `POST /tickets` at the ticketing service with a bearer token.
    pub async fn open_ticket(&self, token: &str, title: &str) -> Response {
        self.client
            .post(format!("{}/tickets", self.tickets))
            .bearer_auth(token)
            .json(&json!({ "title": title, "description": "the customer cannot log in" }))
            .send()
            .await
            .expect("POST /tickets answers")
    }

    /// Polls `GET /tickets` with `token` until it answers `expected`,
    /// panicking after [`PROPAGATION_BOUND`]; returns the last answer.
    pub async fn until_tickets_answer(&self, token: &str, expected: StatusCode) -> Response {
        self.until_tickets_answer_at(&self.tickets, token, expected).await
    }

    /// Like `until_tickets_answer`, at the ticketing service at `base`.
    pub async fn until_tickets_answer_at(&self, base: &str, token: &str, expected: StatusCode) -> Response {
        let authorization = format!("Bearer {token}");
        let started = Instant::now();
        loop {
            let response = self.list_tickets_at(base, Some(&authorization)).await;
            let status = response.status();
            if status == expected {
                return response;
            }
            assert!(
                started.elapsed() < PROPAGATION_BOUND,
                "GET {base}/tickets still answers {status} {PROPAGATION_BOUND:?} later, not {expected}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// The JSON body of `response`, after checking its status.
pub async fn json_with_status(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let url = response.url().path().to_owned();
    let text = response.text().await.expect("a readable body");
    assert_eq!(status, expected, "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered non-JSON ({e}): {text}"))
}

/// The `WWW-Authenticate` header of `response`.
pub fn challenge(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
