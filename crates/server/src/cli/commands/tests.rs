//! Operator commands run against a real `Application` on port 0 (SQLite in
//! a fresh directory), their output read from a buffer.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::oneshot;
use warrant_issuer::SecretString;
use warrant_policy::{Clock, SystemClock};
use warrant_server::{Application, Config};

use super::*;
use crate::cli::args::{parse, Command};
use crate::cli::credentials::Credentials;

/// A bootstrap secret with every character RFC 6749 §2.3.1 makes the client
/// form-urlencode before Basic authentication.
const SECRET: &str = "p@ss:w+rd %&=/?#-0123456789";
const ADMIN: &str = "cli-admin";

struct Server {
    url: String,
    dir: std::path::PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn_server() -> Server {
    let dir = std::env::temp_dir().join(format!("warrant-cli-{}", uuid::Uuid::new_v4().simple()));
    let vars: HashMap<&str, String> = HashMap::from([
        ("WARRANT_LISTEN", "127.0.0.1:0".to_owned()),
        ("WARRANT_DATA_DIR", dir.join("data").display().to_string()),
        ("WARRANT_KEYS_DIR", dir.join("keys").display().to_string()),
        ("WARRANT_BOOTSTRAP_ADMIN_ID", ADMIN.to_owned()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET", SECRET.to_owned()),
    ]);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let app = Application::build(config, Arc::new(SystemClock)).await.unwrap();
    let url = format!("http://{}", app.local_addr());
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Server { url, dir, shutdown: Some(shutdown) }
}

fn client(server: &Server, secret: &str) -> AdminClient {
    AdminClient::new(Credentials {
        url: server.url.clone(),
        client_id: ADMIN.to_owned(),
        client_secret: SecretString::new(secret.to_owned()),
        secret_file: None,
    })
    .unwrap()
}

/// Runs one command line and returns what it printed.
async fn run(client: &mut AdminClient, line: &[&str]) -> Result<String, CliError> {
    let args: Vec<String> = line.iter().map(|s| (*s).to_owned()).collect();
    let Ok(Command::Admin(invocation)) = parse(&args) else { panic!("{line:?} does not parse") };
    let mut out = Vec::new();
    execute(&invocation, client, &mut out, SystemClock.now()).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// The first value after `key` on a `key  value` line.
fn field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(key).filter(|rest| rest.starts_with(' ')).map(|rest| rest.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {key} in\n{text}"))
}

#[tokio::test]
async fn a_secret_with_reserved_characters_authenticates_and_a_wrong_one_is_invalid_client() {
    let server = spawn_server().await;
    let listed = run(&mut client(&server, SECRET), &["resources", "list"]).await.unwrap();
    assert_eq!(listed, "no resources\n");
    let error = run(&mut client(&server, "not-the-secret-at-all"), &["resources", "list"]).await.unwrap_err();
    assert!(matches!(&error, CliError::Api { code, .. } if code == "invalid_client"), "{error:?}");
}

#[tokio::test]
async fn register_request_show_and_audit_against_the_server() {
    let server = spawn_server().await;
    let mut admin = client(&server, SECRET);
    let resource = run(
        &mut admin,
        &[
            "resources",
            "register",
            "--name",
            "CRM",
            "--kind",
            "crm",
            "--audience",
            "https://crm.example.com",
            "--scope",
            "contacts.read:pii:Read contacts",
        ],
    )
    .await
    .unwrap();
    assert!(resource.contains("shown only this once"), "{resource}");
    let agent = run(&mut admin, &["agents", "register", "--name", "Triage bot", "--platform", "agentforce"])
        .await
        .unwrap();
    let agent_id = field(&agent, "agent");
    assert!(!field(&agent, "client_secret").is_empty());

    let expires_at = SystemClock.now().plus(30 * 86_400).to_rfc3339();
    let grant = run(
        &mut admin,
        &[
            "grants",
            "request",
            &agent_id,
            "--resource",
            "https://crm.example.com",
            "--scope",
            "contacts.read",
            "--justification",
            "reads contacts",
            "--expires-at",
            &expires_at,
        ],
    )
    .await
    .unwrap();
    assert_eq!(field(&grant, "status"), "requested");
    // The requester cannot approve its own request: the API's error comes back as is.
    let own = run(&mut admin, &["grants", "approve", &field(&grant, "grant")]).await.unwrap_err();
    assert!(matches!(&own, CliError::Api { code, .. } if code == "forbidden"), "{own:?}");

    let shown = run(&mut admin, &["agents", "show", &agent_id]).await.unwrap();
    assert!(shown.contains("Triage bot") && shown.contains("requested"), "{shown}");
    let json: Value =
        serde_json::from_str(&run(&mut admin, &["agents", "show", &agent_id, "--json"]).await.unwrap())
            .unwrap();
    assert_eq!(json["id"], agent_id.as_str());
    let missing = run(&mut admin, &["agents", "show", "agt_missing"]).await.unwrap_err();
    assert!(matches!(&missing, CliError::Api { code, .. } if code == "not_found"), "{missing:?}");

    let export = run(&mut admin, &["audit", "export"]).await.unwrap();
    let events: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["resource.registered", "agent.registered", "grant.requested"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let tail = run(&mut admin, &["audit", "tail", "--limit", "2"]).await.unwrap();
    assert_eq!(tail.lines().count(), 3, "{tail}");
    assert!(tail.lines().nth(2).is_some_and(|l| l.contains("grant.requested")), "{tail}");
}

#[tokio::test]
async fn an_unreachable_server_is_reported_once_per_cause_with_exit_1() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server {
        url: format!("http://{closed}"),
        dir: std::env::temp_dir().join(format!("warrant-cli-{}", uuid::Uuid::new_v4().simple())),
        shutdown: None,
    };
    let error = run(&mut client(&server, SECRET), &["report"]).await.unwrap_err();
    assert!(matches!(error, CliError::Transport { .. }), "{error:?}");
    let message = error.message().unwrap();
    assert!(message.starts_with(&format!("error: unreachable: cannot reach http://{closed}: ")), "{message}");
    assert_eq!(message.matches("error sending request").count(), 1, "{message}");
    assert_eq!(error.exit_code(), std::process::ExitCode::FAILURE);
}
