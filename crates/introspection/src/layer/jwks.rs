//! The cache of Warrant's public keys (RFC 7517 key set) behind the layer.
//!
//! The keys are fetched on first use and kept. A token whose `kid` is not
//! among them makes the cache fetch again, since Warrant may have rotated
//! its key; the fetch happens at most once per `min_refresh_interval`, so a
//! flood of tokens with made-up key ids costs Warrant one request per
//! interval, and callers that miss at the same moment share that one fetch.
//! A failed fetch is remembered for the same interval: meanwhile the keys
//! count as unavailable and the layer fails closed (503).
//!
//! What a key set proves is the verifier's business (`AccessTokenVerifier`);
//! where it comes from is a [`JwksSource`]'s.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jwt;
use serde_json::Value;
use warrant_policy::Timestamp;

use super::config::ResourceServerConfig;
use super::error::LayerError;
use crate::{AccessClaims, AccessTokenVerifier, VerifyError};

/// Where the public keys come from.
#[async_trait]
pub trait JwksSource: Send + Sync + 'static {
    /// Fetches the current key set.
    async fn fetch(&self) -> Result<JwkSet, LayerError>;
}

/// Fetches the key set over HTTP(S) from a `jwks_uri`.
#[derive(Debug, Clone)]
pub struct HttpJwksSource {
    client: reqwest::Client,
    uri: String,
}

impl HttpJwksSource {
    /// A source reading `uri`, each fetch limited to `timeout`.
    pub fn new(uri: impl Into<String>, timeout: Duration) -> Result<HttpJwksSource, LayerError> {
        let client = reqwest::Client::builder().timeout(timeout).build().map_err(LayerError::HttpClient)?;
        Ok(HttpJwksSource { client, uri: uri.into() })
    }
}

#[async_trait]
impl JwksSource for HttpJwksSource {
    async fn fetch(&self) -> Result<JwkSet, LayerError> {
        let fetch = |source| LayerError::Fetch { uri: self.uri.clone(), source };
        let response = self
            .client
            .get(&self.uri)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(fetch)?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Err(LayerError::Status { uri: self.uri.clone(), status });
        }
        let body = response.bytes().await.map_err(fetch)?;
        JwkSet::from_bytes(&body).map_err(LayerError::Keys)
    }
}

/// The current key set and how many times it was replaced.
#[derive(Clone)]
struct Loaded {
    verifier: Arc<AccessTokenVerifier>,
    generation: u64,
}

/// The last fetch: when it started and, if it failed, why.
#[derive(Default)]
struct Attempt {
    started: Option<Instant>,
    failure: Option<Arc<LayerError>>,
}

/// Warrant's public keys, cached, refetched on an unknown `kid` within a bound.
pub struct JwksCache {
    issuer: String,
    source: Arc<dyn JwksSource>,
    min_refresh_interval: Duration,
    loaded: RwLock<Option<Loaded>>,
    /// Held for the whole of a fetch: concurrent misses wait for it and
    /// then find the new key set instead of fetching again.
    attempt: tokio::sync::Mutex<Attempt>,
}

impl JwksCache {
    /// A cache fetching over HTTP from the configured `jwks_uri`.
    pub fn from_config(config: &ResourceServerConfig) -> Result<JwksCache, LayerError> {
        let source = HttpJwksSource::new(config.jwks_uri(), config.fetch_timeout)?;
        Ok(JwksCache::new(config.issuer.clone(), Arc::new(source), config.min_refresh_interval))
    }

    /// A cache of `source`'s keys for tokens of `issuer`, fetching at most
    /// once per `min_refresh_interval`. Nothing is fetched until needed.
    pub fn new(
        issuer: impl Into<String>,
        source: Arc<dyn JwksSource>,
        min_refresh_interval: Duration,
    ) -> JwksCache {
        JwksCache {
            issuer: issuer.into(),
            source,
            min_refresh_interval,
            loaded: RwLock::new(None),
            attempt: tokio::sync::Mutex::new(Attempt::default()),
        }
    }

    /// Fetches the keys now unless they were fetched within the bound; for
    /// a service that wants them before its first request.
    pub async fn preload(&self) -> Result<(), LayerError> {
        let seen = self.current().map_or(0, |l| l.generation);
        self.refresh(seen).await.map(|_| ())
    }

    /// Verifies `token` for `audience` at `now` (see
    /// [`AccessTokenVerifier::verify`]). The outer `Err` means the keys could
    /// not be obtained, so the token could not be checked: fail closed. A
    /// token with an unknown `kid` triggers one refetch (within the bound)
    /// and is refused with `UnknownKey` if its key is still not there.
    pub async fn verify(
        &self,
        token: &str,
        audience: &str,
        now: Timestamp,
    ) -> Result<Result<AccessClaims, VerifyError>, LayerError> {
        let loaded = match self.current() {
            Some(loaded) => loaded,
            None => match self.refresh(0).await? {
                Some(loaded) => loaded,
                None => return Ok(Err(VerifyError::UnknownKey)),
            },
        };
        match loaded.verifier.verify(token, audience, now) {
            Err(VerifyError::UnknownKey) if has_key_id(token) => match self.refresh(loaded.generation).await?
            {
                Some(newer) => Ok(newer.verifier.verify(token, audience, now)),
                None => Ok(Err(VerifyError::UnknownKey)),
            },
            verdict => Ok(verdict),
        }
    }

    fn current(&self) -> Option<Loaded> {
        self.loaded.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// A key set newer than generation `seen`: one another caller fetched
    /// meanwhile, or one fetched now if the bound allows. `None` when the
    /// bound forbids a fetch and the last one succeeded (the keys are as
    /// fresh as they may be); `Err` when the fetch failed, now or within the
    /// bound.
    async fn refresh(&self, seen: u64) -> Result<Option<Loaded>, LayerError> {
        let mut attempt = self.attempt.lock().await;
        if let Some(current) = self.current() {
            if current.generation != seen {
                return Ok(Some(current));
            }
        }
        if let Some(started) = attempt.started {
            if started.elapsed() < self.min_refresh_interval {
                return match &attempt.failure {
                    Some(failure) => Err(LayerError::Unavailable(failure.clone())),
                    None => Ok(None),
                };
            }
        }
        attempt.started = Some(Instant::now());
        match self.fetch_verifier().await {
            Ok(verifier) => {
                attempt.failure = None;
                let loaded = Loaded { verifier: Arc::new(verifier), generation: seen.saturating_add(1) };
                *self.loaded.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(loaded.clone());
                tracing::info!(generation = loaded.generation, "loaded Warrant's public keys");
                Ok(Some(loaded))
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot fetch Warrant's public keys");
                let failure = Arc::new(error);
                attempt.failure = Some(failure.clone());
                Err(LayerError::Unavailable(failure))
            }
        }
    }

    async fn fetch_verifier(&self) -> Result<AccessTokenVerifier, LayerError> {
        let set = self.source.fetch().await?;
        let keys: Vec<Jwk> =
            set.keys().into_iter().filter(|jwk| is_es256_signing_key(jwk)).cloned().collect();
        if keys.is_empty() {
            return Err(LayerError::NoUsableKey);
        }
        AccessTokenVerifier::new(self.issuer.clone(), &keys).map_err(LayerError::Keys)
    }
}

/// An EC P-256 key with a `kid`, meant for signatures with ES256 (RFC 7517
/// §4.2, §4.4: `use` and `alg` are optional, and when present must fit).
fn is_es256_signing_key(jwk: &Jwk) -> bool {
    jwk.key_type() == "EC"
        && jwk.curve() == Some("P-256")
        && jwk.key_id().is_some_and(|kid| !kid.is_empty())
        && matches!(jwk.key_use(), None | Some("sig"))
        && matches!(jwk.algorithm(), None | Some("ES256"))
}

/// Whether the token's header names a key; only then is an unknown key
/// worth a refetch.
fn has_key_id(token: &str) -> bool {
    jwt::decode_header(token)
        .ok()
        .is_some_and(|header| header.claim("kid").and_then(Value::as_str).is_some_and(|kid| !kid.is_empty()))
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
