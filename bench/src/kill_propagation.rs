//! `warrant-bench kill-propagation`: starts N instances sharing one fresh
//! PostgreSQL database (`DATABASE_URL`), one Redis (`REDIS_URL`, under a
//! fresh key prefix) and one key directory, registers one agent per kill
//! with an approved grant and a token, then for each agent: kills it on
//! instance 1 and measures, from the moment the kill call's answer is
//! received, the time until every instance's introspection answers
//! `active: false`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use futures_util::future::join_all;
use serde_json::{json, Value};
use sqlx::Connection;
use warrant_policy::{Clock, SystemClock};
use warrant_server::{Application, Config};

use crate::api::{admin_post, text, token, wait_ready};

/// One running Warrant instance.
struct Instance {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn run(kills: usize, instances: usize) -> Result<()> {
    ensure!(kills > 0 && instances > 0, "--kills and --instances must be positive");
    let database_url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    let db_name = format!("warrant_bench_{id}");
    let mut admin_db =
        sqlx::PgConnection::connect(&database_url).await.context("PostgreSQL (DATABASE_URL)")?;
    sqlx::query(&format!("CREATE DATABASE {db_name}")).execute(&mut admin_db).await?;
    let db_url = format!(
        "{}/{db_name}",
        database_url.rsplit_once('/').map_or(database_url.as_str(), |(base, _)| base)
    );

    let dir = tempfile::tempdir()?;
    let secret = format!("bench-{id}");
    let vars: Vec<(String, String)> = vec![
        ("WARRANT_LISTEN".into(), "127.0.0.1:0".into()),
        ("WARRANT_ISSUER".into(), "http://warrant.bench".into()),
        ("WARRANT_DATA_DIR".into(), dir.path().join("data").display().to_string()),
        ("WARRANT_KEYS_DIR".into(), dir.path().join("keys").display().to_string()),
        ("WARRANT_DATABASE_URL".into(), db_url),
        ("WARRANT_REDIS_URL".into(), redis_url),
        ("WARRANT_REDIS_PREFIX".into(), format!("bench:{id}:")),
        ("WARRANT_BOOTSTRAP_ADMIN_ID".into(), "bench-admin".into()),
        ("WARRANT_BOOTSTRAP_ADMIN_SECRET".into(), secret.clone()),
    ];
    let mut running = Vec::new();
    for _ in 0..instances {
        let config =
            Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))?;
        let app = Application::build(config, Arc::new(SystemClock)).await?;
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        running.push(Instance { base, stop, task });
    }
    let http = reqwest::Client::new();
    for instance in &running {
        wait_ready(&http, &instance.base).await?;
    }
    let bases: Vec<String> = running.iter().map(|i| i.base.clone()).collect();
    let setup = Setup::new(&http, &bases[0], &secret).await?;
    println!("warrant-bench kill-propagation: {instances} instances, {kills} kills (PostgreSQL + Redis)");
    println!("setting up {kills} agents with approved grants and tokens ...");
    let mut agents = Vec::with_capacity(kills);
    for n in 0..kills {
        agents.push(setup.agent_with_token(&http, n).await?);
    }

    let mut latencies = Vec::with_capacity(kills);
    let mut first_poll_inactive = 0usize;
    let mut polls_total = 0usize;
    for (agent_id, token) in &agents {
        for base in &bases {
            ensure!(setup.introspect(&http, base, token).await?, "a fresh token is not active on {base}");
        }
        let killed = http
            .post(format!("{}/admin/v1/agents/{agent_id}/kill", bases[0]))
            .bearer_auth(&setup.admin_token)
            .json(&json!({"reason": "benchmark"}))
            .send()
            .await?;
        ensure!(killed.status().is_success(), "kill answered {}", killed.status());
        let answered = Instant::now();
        let (setup, http) = (&setup, &http);
        let results = join_all(bases.iter().map(|base| async move {
            let mut polls = 0usize;
            loop {
                polls += 1;
                if !setup.introspect(http, base, token).await? {
                    return Ok::<_, anyhow::Error>((answered.elapsed(), polls));
                }
                ensure!(answered.elapsed() < Duration::from_secs(10), "{base} never answered inactive");
            }
        }))
        .await;
        let mut slowest = Duration::ZERO;
        for result in results {
            let (elapsed, polls) = result?;
            slowest = slowest.max(elapsed);
            polls_total += polls;
            first_poll_inactive += usize::from(polls == 1);
        }
        latencies.push(slowest);
    }

    latencies.sort();
    let pct =
        |q: f64| latencies[((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!("\nfrom the kill call's answer to every instance answering active:false ({kills} kills):");
    println!("  p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms", ms(pct(0.50)), ms(pct(0.99)), ms(pct(1.0)));
    println!(
        "  introspections after the answer: {polls_total} ({first_poll_inactive} of {} instance checks inactive at the first poll)",
        kills * instances
    );
    println!("  machine: {} cores, {}", crate::machine::cores(), crate::machine::cpu_model());

    for instance in running {
        let _ = instance.stop.send(());
        let _ = instance.task.await;
    }
    sqlx::query(&format!("DROP DATABASE {db_name} WITH (FORCE)")).execute(&mut admin_db).await?;
    Ok(())
}

/// The operators and resource the benchmark works with.
struct Setup {
    base: String,
    admin_token: String,
    approver_token: String,
    resource_auth: (String, String),
}

const AUDIENCE: &str = "https://crm.bench.example";

impl Setup {
    async fn new(http: &reqwest::Client, base: &str, admin_secret: &str) -> Result<Setup> {
        let admin_token =
            token(http, base, "bench-admin", admin_secret, &[("resource", "urn:warrant:admin")]).await?;
        let approver = admin_post(
            http,
            base,
            &admin_token,
            "/operators",
            json!({
                "name": "Approver", "email": "approver@bench.example", "roles": ["approver"]
            }),
        )
        .await?;
        let approver_token = token(
            http,
            base,
            text(&approver, "client_id")?,
            text(&approver, "client_secret")?,
            &[("resource", "urn:warrant:admin")],
        )
        .await?;
        let resource = admin_post(
            http,
            base,
            &admin_token,
            "/resources",
            json!({
                "name": "CRM", "kind": "crm", "audience": AUDIENCE,
                "scopes": [{"name": "contacts:read", "description": "read", "data_class": "pii"}]
            }),
        )
        .await?;
        let resource_auth =
            (text(&resource, "client_id")?.to_owned(), text(&resource, "client_secret")?.to_owned());
        Ok(Setup { base: base.to_owned(), admin_token, approver_token, resource_auth })
    }

    /// A new agent with an approved grant, and a token for it.
    async fn agent_with_token(&self, http: &reqwest::Client, n: usize) -> Result<(String, String)> {
        let agent = admin_post(
            http,
            &self.base,
            &self.admin_token,
            "/agents",
            json!({
                "name": format!("bench agent {n}"), "platform": "internal", "owner": "bench@example.com"
            }),
        )
        .await?;
        let agent_id = text(&agent, "id")?.to_owned();
        let grant = admin_post(
            http,
            &self.base,
            &self.admin_token,
            &format!("/agents/{agent_id}/grants"),
            json!({
                "resource": AUDIENCE, "scopes": ["contacts:read"], "justification": "benchmark",
                "expires_at": SystemClock.now().plus(30 * 86_400).to_rfc3339()
            }),
        )
        .await?;
        let approve = format!("/grants/{}/approve", text(&grant, "id")?);
        admin_post(http, &self.base, &self.approver_token, &approve, json!({})).await?;
        let access = token(http, &self.base, &agent_id, text(&agent, "client_secret")?, &[]).await?;
        Ok((agent_id, access))
    }

    /// Whether `base` answers the token active.
    async fn introspect(&self, http: &reqwest::Client, base: &str, token: &str) -> Result<bool> {
        let answer = http
            .post(format!("{base}/oauth2/introspect"))
            .basic_auth(&self.resource_auth.0, Some(&self.resource_auth.1))
            .form(&[("token", token)])
            .send()
            .await?;
        ensure!(answer.status().is_success(), "introspection answered {}", answer.status());
        let body: Value = answer.json().await?;
        body["active"].as_bool().context("introspection without active")
    }
}
