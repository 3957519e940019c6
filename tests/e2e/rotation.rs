//! Signing-key rotation under traffic: two instances of one deployment
//! (one database, one keys directory, one clock) serve token requests and
//! introspections from several tasks while the keys are rotated, exactly
//! as `warrant keys rotate` does. No request may fail; a token signed by the
//! old key stays active until it expires; the old key leaves the JWKS (and
//! the keys directory) once every token it signed has expired.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use warrant_policy::Timestamp;

use crate::helpers::{basic_header, form, spawn_app_on_postgres_with, Setup, FORM};

const TOKEN_TTL: i64 = 60;
const RELOAD_INTERVAL: i64 = 1;
/// What `warrant keys rotate` keeps a retired key for: the token lifetime,
/// the reload interval and the clock skew allowed by the verifier.
const KEEP_FOR: i64 = TOKEN_TTL + RELOAD_INTERVAL + warrant_introspection::CLOCK_SKEW;
const TASKS: usize = 4;
/// One deployment, one issuer.
const ISSUER: &str = "https://warrant.rotation.example.com";
const BOUND: Duration = Duration::from_secs(60);

/// What the traffic tasks share with the test.
struct Traffic {
    token_urls: [String; 2],
    introspect_urls: [String; 2],
    agent: String,
    resource: String,
    audience: String,
    /// A token signed before the rotation, introspected all along.
    old_token: String,
    stop: AtomicBool,
    rounds: AtomicUsize,
    failures: Mutex<Vec<String>>,
    /// Tokens issued, by instance and `kid`.
    issued: Mutex<BTreeMap<(usize, String), usize>>,
}

impl Traffic {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    fn issued_by(&self, instance: usize, kid: &str) -> usize {
        self.issued.lock().unwrap().get(&(instance, kid.to_owned())).copied().unwrap_or(0)
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid).unwrap_or_default()
}

/// Gets a token at one instance and introspects it (and the old token) at
/// the other, until told to stop; every answer other than the expected one
/// is a failure.
async fn traffic(client: reqwest::Client, t: Arc<Traffic>, task: usize) {
    let mut round = task;
    while !t.stop.load(Ordering::SeqCst) {
        let (at, other) = (round % 2, (round + 1) % 2);
        round += 1;
        let response = client
            .post(&t.token_urls[at])
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .header(reqwest::header::AUTHORIZATION, &t.agent)
            .body(form(&[("grant_type", "client_credentials"), ("resource", &t.audience)]))
            .send()
            .await;
        let token = match response {
            Ok(r) if r.status() == StatusCode::OK => match r.json::<Value>().await {
                Ok(body) => body["access_token"].as_str().unwrap_or_default().to_owned(),
                Err(e) => {
                    t.fail(format!("token body at {at}: {e}"));
                    continue;
                }
            },
            Ok(r) => {
                t.fail(format!("token at {at}: {} {}", r.status(), r.text().await.unwrap_or_default()));
                continue;
            }
            Err(e) => {
                t.fail(format!("token at {at}: {e}"));
                continue;
            }
        };
        *t.issued.lock().unwrap().entry((at, kid_of(&token))).or_default() += 1;
        for (which, token) in [("new", token.as_str()), ("old", t.old_token.as_str())] {
            let answer = client
                .post(&t.introspect_urls[other])
                .header(reqwest::header::CONTENT_TYPE, FORM)
                .header(reqwest::header::AUTHORIZATION, &t.resource)
                .body(form(&[("token", token)]))
                .send()
                .await;
            match answer {
                Ok(r) if r.status() == StatusCode::OK => {
                    let body: Value = r.json().await.unwrap_or_default();
                    if body["active"] != true {
                        t.fail(format!("{which} token ({}) inactive at {other}: {body}", kid_of(token)));
                    }
                }
                Ok(r) => t.fail(format!("introspection at {other}: {}", r.status())),
                Err(e) => t.fail(format!("introspection at {other}: {e}")),
            }
        }
        t.rounds.fetch_add(1, Ordering::SeqCst);
    }
}

async fn wait_for(what: &str, started: Instant, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(started.elapsed() < BOUND, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn jwks_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_rotate_under_traffic_with_no_failed_request_and_the_old_key_leaves_once_its_tokens_expire() {
    let ttl = TOKEN_TTL.to_string();
    let reload = RELOAD_INTERVAL.to_string();
    let first = spawn_app_on_postgres_with(&[
        ("WARRANT_TOKEN_TTL", &ttl),
        ("WARRANT_KEYS_RELOAD_INTERVAL", &reload),
        ("WARRANT_TOKEN_RATE_LIMIT", "0"),
        ("WARRANT_ISSUER", ISSUER),
    ])
    .await;
    let second = first.spawn_sibling(&[]).await;
    let apps = [&first, &second];
    let keys_dir = PathBuf::from(first.var("WARRANT_KEYS_DIR").unwrap());

    let granted = first.setup_agent_with_grant(Setup::default()).await;
    let old_token = first.granted_token(&granted).await;
    let old_kid = kid_of(&old_token);
    let before = first.jwks().await;
    let before = jwks_kids(&before);
    assert_eq!(before.len(), 2, "the active and the next key are published: {before:?}");
    assert_eq!(before[0], old_kid);
    let next_kid = before[1].clone();
    assert_eq!(jwks_kids(&second.jwks().await), before);

    let t = Arc::new(Traffic {
        token_urls: apps.map(|a| a.url("/oauth2/token")),
        introspect_urls: apps.map(|a| a.url("/oauth2/introspect")),
        agent: basic_header(&granted.agent.client_id, granted.secret()),
        resource: basic_header(&granted.resource.client_id, &granted.resource.secret),
        audience: granted.resource.audience.clone(),
        old_token: old_token.clone(),
        stop: AtomicBool::new(false),
        rounds: AtomicUsize::new(0),
        failures: Mutex::new(Vec::new()),
        issued: Mutex::new(BTreeMap::new()),
    });
    let tasks: Vec<_> =
        (0..TASKS).map(|task| tokio::spawn(traffic(reqwest::Client::new(), t.clone(), task))).collect();
    let started = Instant::now();
    wait_for("traffic before the rotation", started, || t.rounds.load(Ordering::SeqCst) >= 40).await;

    // `warrant keys rotate`, with the deployment's clock.
    let rotation = warrant_issuer::rotate(&keys_dir, Timestamp(first.now()), KEEP_FOR).unwrap();
    assert_eq!((rotation.retired.as_str(), rotation.active.as_str()), (old_kid.as_str(), next_kid.as_str()));
    assert!(rotation.was_published, "the new key was published before it signed");

    // Both instances pick the rotation up by themselves and sign with the new key.
    wait_for("both instances signing with the new key", started, || {
        t.issued_by(0, &next_kid) >= 20 && t.issued_by(1, &next_kid) >= 20
    })
    .await;
    let rounds = t.rounds.load(Ordering::SeqCst);
    wait_for("more traffic after the rotation", started, || t.rounds.load(Ordering::SeqCst) >= rounds + 40)
        .await;
    t.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let failures = t.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failed requests, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let issued = t.issued.lock().unwrap().clone();
    assert!(
        issued.keys().any(|(_, kid)| *kid == old_kid),
        "tokens were signed by the old key too: {issued:?}"
    );
    assert!(
        issued.keys().all(|(_, kid)| *kid == old_kid || *kid == next_kid),
        "only the old and the new key signed: {issued:?}"
    );

    // Every instance publishes the new key, the new next key and the old key.
    for app in apps {
        let kids = jwks_kids(&app.jwks().await);
        assert_eq!(kids, [next_kid.clone(), rotation.next.clone(), old_kid.clone()], "at {}", app.addr);
        app.assert_active(&granted.resource, &old_token).await;
    }

    // Just before the retirement ends the old key is still published; at
    // its end every token it signed has expired and it is gone everywhere.
    first.clock.advance(KEEP_FOR - 1);
    for app in apps {
        assert!(jwks_kids(&app.jwks().await).contains(&old_kid));
    }
    first.clock.advance(1);
    for app in apps {
        assert_eq!(
            jwks_kids(&app.jwks().await),
            [next_kid.clone(), rotation.next.clone()],
            "at {}",
            app.addr
        );
        app.assert_inactive(&granted.resource, &old_token).await;
    }
    let retired_file = keys_dir.join(format!("previous-es256-{old_kid}.json"));
    wait_for("the old key's file to be deleted", Instant::now(), || !retired_file.exists()).await;

    // Tokens from the new key still work at both instances.
    for app in apps {
        let token = app.granted_token(&granted).await;
        assert_eq!(kid_of(&token), next_kid);
        first.assert_active(&granted.resource, &token).await;
        second.assert_active(&granted.resource, &token).await;
    }
}

#[tokio::test]
async fn an_instance_that_has_not_reloaded_yet_verifies_a_token_of_a_key_it_does_not_know() {
    // A slow periodic reload: only the unknown kid makes the first instance read the directory.
    let first =
        spawn_app_on_postgres_with(&[("WARRANT_KEYS_RELOAD_INTERVAL", "3600"), ("WARRANT_ISSUER", ISSUER)])
            .await;
    let keys_dir = PathBuf::from(first.var("WARRANT_KEYS_DIR").unwrap());
    let granted = first.setup_agent_with_grant(Setup::default()).await;

    // Two rotations in a row: the key that signs now was not published
    // when the first instance last read the directory.
    warrant_issuer::rotate(&keys_dir, Timestamp(first.now()), KEEP_FOR).unwrap();
    let rotation = warrant_issuer::rotate(&keys_dir, Timestamp(first.now()), KEEP_FOR).unwrap();
    let late = first.spawn_sibling(&[]).await;
    let token = late.granted_token(&granted).await;
    assert_eq!(kid_of(&token), rotation.active);
    assert!(
        !jwks_kids(&first.jwks().await).contains(&rotation.active),
        "the first instance has not reloaded"
    );

    first.assert_active(&granted.resource, &token).await;
    assert!(jwks_kids(&first.jwks().await).contains(&rotation.active), "it has now");
}
