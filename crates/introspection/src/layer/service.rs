//! The tower layer a resource server puts in front of its routes, and the
//! decision it takes for each request: bearer token, local verification
//! against the cached keys (issuer, audience, time), the denylist, then the
//! route's scopes. A request passes only when every check answered yes; it
//! then carries the verified [`AccessClaims`] in its extensions.
//!
//! The denylist is checked before the scopes, so that a dead token is told
//! it is dead (401) rather than that it lacks a scope (403).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::IntoResponse;
use http::{HeaderMap, Request, Response};
use tower::{Layer, Service};
use warrant_policy::{Clock, Scope, ScopeSet, SystemClock, Timestamp};
use warrant_store::denylist::{Denylist, TokenFacts};

use super::bearer::bearer_token;
use super::config::ResourceServerConfig;
use super::error::LayerError;
use super::jwks::JwksCache;
use super::rejection::Rejection;
use crate::AccessClaims;

/// What every copy of a layer shares: one key cache, one denylist.
struct Shared {
    audience: String,
    keys: JwksCache,
    denylist: Arc<dyn Denylist>,
}

/// Protects the routes it wraps with Warrant's access tokens.
///
/// Copies made by [`require_scopes`](WarrantLayer::require_scopes) share the
/// key cache and the denylist, so one service fetches Warrant's keys once
/// whatever the number of routes.
#[derive(Clone)]
pub struct WarrantLayer {
    shared: Arc<Shared>,
    clock: Arc<dyn Clock>,
    required: Arc<ScopeSet>,
}

impl WarrantLayer {
    /// A layer accepting tokens of `config.issuer` for `config.audience`,
    /// with keys fetched over HTTP from the configured JWKS location, and
    /// `denylist` followed for kills and revocations (for a resource server,
    /// a `RedisDenylist` connected without a refill: it has no database).
    /// It requires no scope until told to, and reads the system clock.
    pub fn new(
        config: ResourceServerConfig,
        denylist: Arc<dyn Denylist>,
    ) -> Result<WarrantLayer, LayerError> {
        let keys = JwksCache::from_config(&config)?;
        Ok(WarrantLayer::with_keys(config.audience, keys, denylist))
    }

    /// A layer for `audience` over a key cache of the caller's making.
    pub fn with_keys(
        audience: impl Into<String>,
        keys: JwksCache,
        denylist: Arc<dyn Denylist>,
    ) -> WarrantLayer {
        WarrantLayer {
            shared: Arc::new(Shared { audience: audience.into(), keys, denylist }),
            clock: Arc::new(SystemClock),
            required: Arc::new(ScopeSet::default()),
        }
    }

    /// The same layer reading time (token expiry, `iat`) from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> WarrantLayer {
        self.clock = clock;
        self
    }

    /// A copy of this layer that also requires every scope of `scopes`
    /// (scope tokens as in RFC 6749 §3.3, e.g. `tickets:write`).
    pub fn require_scopes<I>(&self, scopes: I) -> Result<WarrantLayer, LayerError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let scopes = scopes.into_iter().map(|s| Scope::parse(s.as_ref())).collect::<Result<ScopeSet, _>>()?;
        Ok(self.require(&scopes))
    }

    /// A copy of this layer that also requires every scope of `scopes`.
    pub fn require(&self, scopes: &ScopeSet) -> WarrantLayer {
        let mut required = (*self.required).clone();
        required.extend(scopes);
        WarrantLayer { shared: self.shared.clone(), clock: self.clock.clone(), required: Arc::new(required) }
    }

    /// The scopes this layer requires.
    pub fn required_scopes(&self) -> &ScopeSet {
        &self.required
    }

    /// The cache of Warrant's keys (to [`preload`](JwksCache::preload) them).
    pub fn keys(&self) -> &JwksCache {
        &self.shared.keys
    }

    /// Decides on a request from its headers: the verified claims, or why
    /// it is refused.
    pub async fn authorize(&self, headers: &HeaderMap) -> Result<AccessClaims, Rejection> {
        let token = bearer_token(headers)?.ok_or(Rejection::Missing)?;
        let now = self.clock.now();
        let claims = self
            .shared
            .keys
            .verify(token, &self.shared.audience, now)
            .await
            .map_err(Rejection::KeysUnavailable)??;
        let facts = TokenFacts {
            jti: &claims.jti,
            agent_id: &claims.sub,
            audience: &claims.aud,
            issued_at: Timestamp(claims.iat),
        };
        match self.shared.denylist.check(&facts).await {
            Ok(None) => {}
            Ok(Some(inactive)) => return Err(Rejection::Inactive(inactive)),
            Err(error) => return Err(Rejection::DenylistUnavailable(error)),
        }
        if !self.required.is_subset(&claims.scope) {
            return Err(Rejection::InsufficientScope { required: (*self.required).clone() });
        }
        Ok(claims)
    }
}

impl<S> Layer<S> for WarrantLayer {
    type Service = WarrantService<S>;

    fn layer(&self, inner: S) -> WarrantService<S> {
        WarrantService { inner, layer: self.clone() }
    }
}

/// The service made by [`WarrantLayer`]: answers a refused request itself
/// and passes the others, with their [`AccessClaims`], to `inner`.
#[derive(Clone)]
pub struct WarrantService<S> {
    inner: S,
    layer: WarrantLayer,
}

impl<S, B> Service<Request<B>> for WarrantService<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready is the one to call; leave a fresh
        // copy in its place (tower's documented pattern for cloned services).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let layer = self.layer.clone();
        Box::pin(async move {
            match layer.authorize(request.headers()).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(rejection) => {
                    log(&rejection);
                    Ok(rejection.into_response())
                }
            }
        })
    }
}

/// Records a refusal: a warning when Warrant's keys or the denylist are out
/// of reach, a debug line otherwise. Never the token.
fn log(rejection: &Rejection) {
    let status = rejection.status().as_u16();
    match rejection {
        Rejection::KeysUnavailable(error) => {
            tracing::warn!(status, error = %error, "refused a request: Warrant's keys are unavailable");
        }
        Rejection::DenylistUnavailable(error) => {
            tracing::warn!(status, error = %error, "refused a request: the denylist is unavailable");
        }
        Rejection::Missing
        | Rejection::Header(_)
        | Rejection::Invalid(_)
        | Rejection::Inactive(_)
        | Rejection::InsufficientScope { .. } => {
            tracing::debug!(status, reason = %rejection, "refused a request");
        }
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
