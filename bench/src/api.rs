//! The few calls to a running Warrant that every benchmark shares: waiting
//! for `/readyz`, a client-credentials token, and an admin API `POST`.
//! Each benchmark builds its own inventory with these.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::Value;

/// Waits until `base` answers `/readyz` with a success, for up to 10 s.
pub async fn wait_ready(http: &reqwest::Client, base: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        ensure!(start.elapsed() < Duration::from_secs(10), "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client-credentials access token for `id` (`client_secret_basic`),
/// with the extra form parameters `extra` (such as `resource`).
pub async fn token(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> Result<String> {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let answer =
        http.post(format!("{base}/oauth2/token")).basic_auth(id, Some(secret)).form(&form).send().await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    ensure!(status.is_success(), "token answered {status}: {body}");
    Ok(text(&body, "access_token")?.to_owned())
}

/// `POST /admin/v1{path}` with a JSON body; the answer's JSON, or an error
/// naming the status and the body.
pub async fn admin_post(
    http: &reqwest::Client,
    base: &str,
    bearer: &str,
    path: &str,
    body: Value,
) -> Result<Value> {
    let answer = http.post(format!("{base}/admin/v1{path}")).bearer_auth(bearer).json(&body).send().await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    ensure!(status.is_success(), "POST {path} answered {status}: {body}");
    Ok(body)
}

/// The string field `field` of a JSON object.
pub fn text<'a>(value: &'a Value, field: &str) -> Result<&'a str> {
    value[field].as_str().with_context(|| format!("no {field} in {value}"))
}
