//! The kill switch under live traffic on the production shape (PostgreSQL and
//! Redis): resource servers introspect an agent's tokens in a tight loop, at
//! one instance or at two, while an operator kills it at the first. Every
//! introspection that starts after the kill's answer must see the tokens
//! inactive, at every instance; none before it may.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{basic_header, form, Setup, TestApp, FORM};
use crate::redis::{
    shared_redis, spawn_app_on_redis, spawn_app_on_redis_at, unique_prefix, wait_until_ready,
};

const TASKS: usize = 8;
const PER_TASK: usize = 5_000;
const BEFORE_KILL: usize = 200;
const AFTER_KILL: usize = 600;
const BOUND: Duration = Duration::from_secs(60);

/// One introspection as a resource server saw it.
struct Sample {
    started: Instant,
    ended: Instant,
    /// Which instance answered (an index into `Traffic::urls`).
    instance: usize,
    victim: bool,
    status: StatusCode,
    body: String,
}

/// What the traffic tasks share with the test.
struct Traffic {
    /// The introspection endpoint of every instance; task i starts at url i.
    urls: Vec<String>,
    authorization: String,
    /// `(token, is the victim's)`.
    tokens: Vec<(String, bool)>,
    kill_answered: OnceLock<Instant>,
    done: AtomicUsize,
    victim_after_kill: AtomicUsize,
    stop: AtomicBool,
    deadline: Instant,
}

async fn introspect_in_a_loop(client: reqwest::Client, traffic: Arc<Traffic>, task: usize) -> Vec<Sample> {
    let mut samples = Vec::new();
    for i in 0..PER_TASK {
        if traffic.stop.load(Ordering::SeqCst) || Instant::now() > traffic.deadline {
            break;
        }
        let (token, victim) = &traffic.tokens[(task + i) % traffic.tokens.len()];
        let instance = (task + i) % traffic.urls.len();
        let started = Instant::now();
        let response = client
            .post(&traffic.urls[instance])
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .header(reqwest::header::AUTHORIZATION, &traffic.authorization)
            .body(form(&[("token", token)]))
            .send()
            .await;
        let (status, body) = match response {
            Ok(response) => {
                (response.status(), response.text().await.unwrap_or_else(|e| format!("no body: {e}")))
            }
            Err(e) => (StatusCode::IM_A_TEAPOT, format!("the request failed: {e}")),
        };
        let ended = Instant::now();
        if *victim && traffic.kill_answered.get().is_some_and(|answered| started > *answered) {
            traffic.victim_after_kill.fetch_add(1, Ordering::SeqCst);
        }
        traffic.done.fetch_add(1, Ordering::SeqCst);
        samples.push(Sample { started, ended, instance, victim: *victim, status, body });
    }
    samples
}

fn active(sample: &Sample) -> Option<bool> {
    let answer: Value = serde_json::from_str(&sample.body).ok()?;
    if sample.status == StatusCode::OK && (answer == json!({"active": false}) || answer["active"] == true) {
        answer["active"].as_bool()
    } else {
        None
    }
}

async fn wait_for(what: &str, counter: &AtomicUsize, target: usize, deadline: Instant) {
    while counter.load(Ordering::SeqCst) < target {
        assert!(
            Instant::now() < deadline,
            "{what}: {} of {target} before the bound",
            counter.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Kills an agent at `apps[0]` while its tokens (and a bystander's) are
/// introspected in a loop at every instance of `apps`; checks every answer.
async fn kill_under_traffic(apps: &[&TestApp]) {
    let app = apps[0];
    let victim = app.setup_agent_with_grant(Setup::default()).await;
    let bystander = app.agent_with(&[], &victim.resource, &["read"], &victim.approver).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push((app.granted_token(&victim).await, true));
    }
    let bystander_secret = bystander.secret.as_deref().expect("a secret");
    tokens.push((
        app.token_for(&bystander.client_id, bystander_secret, &victim.resource.audience).await,
        false,
    ));

    let traffic = Arc::new(Traffic {
        urls: apps.iter().map(|app| app.url("/oauth2/introspect")).collect(),
        authorization: basic_header(&victim.resource.client_id, &victim.resource.secret),
        tokens,
        kill_answered: OnceLock::new(),
        done: AtomicUsize::new(0),
        victim_after_kill: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        deadline: Instant::now() + BOUND,
    });
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(introspect_in_a_loop(app.client.clone(), traffic.clone(), task)))
        .collect();

    wait_for("introspections before the kill", &traffic.done, BEFORE_KILL, traffic.deadline).await;
    let kill_sent = Instant::now();
    let response = app.kill(&app.admin_token, &victim.agent.id, "kill under live traffic").await;
    let status = response.status();
    let body = response.text().await.expect("the kill's answer");
    let kill_answered = Instant::now();
    traffic.kill_answered.set(kill_answered).expect("set once");
    assert_eq!(status, StatusCode::OK, "the kill answered {body}");
    let wanted = AFTER_KILL * apps.len();
    wait_for("victim introspections after the kill", &traffic.victim_after_kill, wanted, traffic.deadline)
        .await;
    traffic.stop.store(true, Ordering::SeqCst);

    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.expect("a traffic task did not panic"));
    }
    let describe = |sample: &Sample| {
        let offset = sample.started.saturating_duration_since(kill_answered);
        let instance = sample.instance + 1;
        format!(
            "instance {instance}, started {offset:?} after the kill's answer: {} {}",
            sample.status, sample.body
        )
    };
    let before: Vec<&Sample> = samples.iter().filter(|s| s.ended < kill_sent).collect();
    let after: Vec<&Sample> = samples.iter().filter(|s| s.started > kill_answered).collect();
    let broken: Vec<String> = samples.iter().filter(|s| active(s).is_none()).take(5).map(describe).collect();
    assert!(broken.is_empty(), "answers that are not 200 active true/false: {broken:#?}");
    assert!(before.len() >= BEFORE_KILL, "{} introspections ended before the kill", before.len());
    assert!(before.iter().all(|s| active(s) == Some(true)), "every token was active before the kill");

    for instance in 0..apps.len() {
        let victims_after = after.iter().filter(|s| s.victim && s.instance == instance).count();
        assert!(
            victims_after >= 500,
            "only {victims_after} victim introspections after the kill at instance {}",
            instance + 1
        );
    }
    let leaking = |s: &&&Sample| s.victim && active(s) != Some(false);
    let leaked: Vec<String> = after.iter().filter(leaking).take(5).map(|s| describe(s)).collect();
    let (leaks, victims_after) =
        (after.iter().filter(leaking).count(), after.iter().filter(|s| s.victim).count());
    assert!(
        leaked.is_empty(),
        "{leaks} of {victims_after} introspections after the kill saw the victim active: {leaked:#?}"
    );
    let spared: Vec<&&Sample> = after.iter().filter(|s| !s.victim).collect();
    assert!(!spared.is_empty(), "the bystander was introspected after the kill");
    assert!(spared.iter().all(|s| active(s) == Some(true)), "the bystander's token stayed active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_introspection_started_after_the_kill_answer_sees_the_agent_killed() {
    let app = spawn_app_on_redis().await;
    kill_under_traffic(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_introspection_started_after_the_kill_answer_sees_the_agent_killed_at_every_instance() {
    let url = shared_redis();
    let issuer = [("WARRANT_ISSUER", "https://warrant.traffic.example.com")];
    let first = spawn_app_on_redis_at(&url, &unique_prefix(), &issuer).await;
    let second = first.spawn_sibling(&[]).await;
    wait_until_ready(&second, Duration::from_secs(15)).await;
    kill_under_traffic(&[&first, &second]).await;
}
