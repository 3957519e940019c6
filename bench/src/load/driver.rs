//! The load driver: C concurrent tasks, each with its own one-connection
//! HTTP client, sending one request after another for a fixed time,
//! checking each answer's status and body, and recording each latency.
//! What to send is a [`Plan`], prepared beforehand by `scenario`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

/// One request's inputs: an `Authorization` header value, if any, and the
/// form body (empty for a `GET`).
#[derive(Clone, Debug)]
pub struct Call {
    pub authorization: Option<String>,
    pub body: String,
}

/// Calls that may each be sent only once (fresh tokens, client assertions
/// with a unique `jti`), handed out in order to every task.
#[derive(Debug)]
pub struct Pool {
    calls: Vec<Call>,
    next: AtomicUsize,
}

impl Pool {
    pub fn new(calls: Vec<Call>) -> Pool {
        Pool { calls, next: AtomicUsize::new(0) }
    }

    fn take(&self) -> Option<&Call> {
        self.calls.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// Where each request's inputs come from.
#[derive(Debug)]
pub enum Source {
    /// The same request every time.
    Fixed(Call),
    /// A working set, cycled through (task `t` starts at `t`, steps by C).
    Rotate(Vec<Call>),
    /// Each call once; the run stops for every task when the pool is empty.
    Consume(Pool),
}

/// What a correct answer is: status 200 and a JSON body with…
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// …`"ok": true` (the constant reference route).
    Constant,
    /// …a non-empty `access_token` (a token response).
    AccessToken,
    /// …`"active": true` (an introspection answer).
    Active,
    /// …a non-empty `keys` array (a JWK Set).
    Keys,
}

/// A scenario ready to run: the URL, `GET` or form `POST`, the inputs and
/// the check.
#[derive(Debug)]
pub struct Plan {
    pub url: String,
    pub post: bool,
    pub source: Source,
    pub expect: Expect,
}

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Answers that passed the checks.
    pub ok: u64,
    /// Failed requests: transport errors, wrong status, wrong body.
    pub errors: u64,
    /// From the first request to the last answer.
    pub window: Duration,
    /// Latencies of the answers that passed, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Whether a [`Source::Consume`] pool ran out before the time was up.
    pub exhausted: bool,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

impl Outcome {
    /// Correct answers per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile of the latencies (nearest rank), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let n = self.latencies_us.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        self.latencies_us.get(rank).map(|us| f64::from(*us) / 1_000.0)
    }
}

/// `connections` HTTP clients limited to one connection each, kept across
/// the warm-up and the measured run of a scenario.
pub fn clients(connections: usize) -> Result<Vec<reqwest::Client>> {
    (0..connections)
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .build()
                .context("an HTTP client")
        })
        .collect()
}

/// What one task saw.
#[derive(Default)]
struct TaskResult {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

/// Runs `plan` with one task per client for `duration`.
pub async fn run(clients: &[reqwest::Client], plan: &Arc<Plan>, duration: Duration) -> Result<Outcome> {
    let stop = Arc::new(AtomicBool::new(false));
    let exhausted = Arc::new(AtomicBool::new(false));
    let connections = clients.len();
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(task, client)| {
            let (client, plan, stop, exhausted) =
                (client.clone(), Arc::clone(plan), Arc::clone(&stop), Arc::clone(&exhausted));
            tokio::spawn(async move {
                let mut result = TaskResult::default();
                let mut turn = 0usize;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let call = match &plan.source {
                        Source::Fixed(call) => call,
                        Source::Rotate(calls) => {
                            match (task + turn * connections)
                                .checked_rem(calls.len())
                                .and_then(|i| calls.get(i))
                            {
                                Some(call) => call,
                                None => break,
                            }
                        }
                        Source::Consume(pool) => match pool.take() {
                            Some(call) => call,
                            None => {
                                exhausted.store(true, Ordering::Relaxed);
                                stop.store(true, Ordering::Relaxed);
                                break;
                            }
                        },
                    };
                    turn += 1;
                    match send(&client, &plan, call).await {
                        Ok(latency) => {
                            result.ok += 1;
                            result.latencies_us.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                        }
                        Err(error) => {
                            result.errors += 1;
                            result.first_error.get_or_insert_with(|| format!("{error:#}"));
                        }
                    }
                }
                result
            })
        })
        .collect();
    let mut outcome = Outcome {
        ok: 0,
        errors: 0,
        window: Duration::ZERO,
        latencies_us: Vec::new(),
        exhausted: false,
        first_error: None,
    };
    for task in tasks {
        let result = task.await.context("a load task failed")?;
        outcome.ok += result.ok;
        outcome.errors += result.errors;
        outcome.latencies_us.extend(result.latencies_us);
        if outcome.first_error.is_none() {
            outcome.first_error = result.first_error;
        }
    }
    outcome.window = start.elapsed();
    outcome.exhausted = exhausted.load(Ordering::Relaxed);
    outcome.latencies_us.sort_unstable();
    Ok(outcome)
}

/// Sends one request and checks its answer; the latency runs from the
/// send to the last byte of the body (the check is not counted).
async fn send(client: &reqwest::Client, plan: &Plan, call: &Call) -> Result<Duration> {
    let sent = Instant::now();
    let mut request = if plan.post {
        client
            .post(&plan.url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(call.body.clone())
    } else {
        client.get(&plan.url)
    };
    if let Some(authorization) = &call.authorization {
        request = request.header(AUTHORIZATION, authorization);
    }
    let answer = request.send().await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    let latency = sent.elapsed();
    ensure!(status.is_success(), "{} answered {status}: {}", plan.url, String::from_utf8_lossy(&body));
    let json: Value =
        serde_json::from_slice(&body).with_context(|| format!("{} answered no JSON", plan.url))?;
    let correct = match plan.expect {
        Expect::Constant => json["ok"] == Value::Bool(true),
        Expect::AccessToken => json["access_token"].as_str().is_some_and(|t| !t.is_empty()),
        Expect::Active => json["active"] == Value::Bool(true),
        Expect::Keys => json["keys"].as_array().is_some_and(|keys| !keys.is_empty()),
    };
    if !correct {
        bail!("{} answered an unexpected body: {json}", plan.url);
    }
    Ok(latency)
}
