//! Building and running the application: bind, open the store (running
//! migrations), load or create the signing keys and pepper, create the
//! bootstrap operator on an empty store, then serve until told to stop.
//! While it is being built the listener already answers: `/healthz` 200,
//! `/readyz` 503 "starting", anything else 503. On the stop signal
//! `/readyz` answers "draining" for `WARRANT_SHUTDOWN_GRACE`, then the
//! listener closes, in-flight requests finish, and the audit writer
//! commits every queued event before `run_until_stopped` returns.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warrant_introspection::AccessTokenVerifier;
use warrant_issuer::{
    load_or_create_pepper, KeyError, RateLimit, SecretHasher, SecretString, SigningKeys, TokenService,
};
use warrant_policy::{ClientId, ClientKind, Clock, Credential, CredentialMethod, Operator, Role, Roles};
use warrant_store::audit::{AuditWriter, BatchObserver};
use warrant_store::denylist::{Denylist, DenylistError, MemoryDenylist, RedisDenylist, Refill};
use warrant_store::{CachedStore, Store, StoreError};

use crate::config::Config;
use crate::keys::{refresh_on_unknown_kid, KeyReloader};
use crate::metrics::Metrics;
use crate::routes;
use crate::serve::{serve, Edge};
use crate::state::{AppState, Governance};
use crate::telemetry::Observer;
use crate::tls::TlsError;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error("cannot set up the denylist")]
    Denylist(#[from] DenylistError),
    #[error("cannot load or create the keys")]
    Keys(#[from] KeyError),
    #[error("the bootstrap operator is not valid")]
    Bootstrap(#[from] warrant_policy::ParseError),
    #[error("the signing key cannot verify tokens")]
    Verifier(#[source] josekit::JoseError),
    #[error("cannot set up TLS")]
    Tls(#[from] TlsError),
}

/// A built application, bound and ready to run.
pub struct Application {
    listener: Arc<TcpListener>,
    addr: SocketAddr,
    state: AppState,
    edge: Edge,
    request_timeout: Duration,
    shutdown_grace: Duration,
    keys_reload_interval: Duration,
}

/// Time in-flight requests get to finish after the listener closes, beyond
/// the request timeout that already bounds them.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);

/// The listener's answers while the application is built; stopped (or,
/// when the build fails, aborted) before the application serves.
struct Starting {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Starting {
    fn spawn(listener: Arc<TcpListener>, edge: Edge) -> Starting {
        let (stop, stopped) = oneshot::channel::<()>();
        let router = routes::health::starting_router();
        let task = tokio::spawn(serve(listener, router, edge, false, async move {
            let _ = stopped.await;
        }));
        Starting { stop: Some(stop), task }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port), opens the store,
    /// loads the keys and bootstraps the first operator.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Application, StartError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let listener = Arc::new(listener);
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let edge = Edge {
            tls,
            header_read_timeout: config.header_read_timeout,
            max_header_bytes: config.max_header_bytes,
            drain_timeout: config.request_timeout + DRAIN_MARGIN,
        };
        let starting = Starting::spawn(listener.clone(), edge.clone());
        let issuer = config.issuer.clone().unwrap_or_else(|| format!("{scheme}://{addr}"));

        let store =
            warrant_store::open(config.database_url.as_ref().map(SecretString::expose), &config.data_dir)
                .await?;
        let key = Arc::new(SigningKeys::open(&config.keys_dir)?);
        let hasher = Arc::new(SecretHasher::new(&load_or_create_pepper(&config.keys_dir)?));
        bootstrap_operator(&*store, &hasher, &*clock, &config).await?;

        let denylist: Arc<dyn Denylist> = match &config.redis_url {
            Some(url) => {
                let refill = Refill { store: store.clone(), clock: clock.clone() };
                Arc::new(RedisDenylist::connect(url.expose(), &config.redis_prefix, Some(refill))?)
            }
            None => Arc::new(MemoryDenylist::load(&*store, clock.now()).await?),
        };
        let verifier = AccessTokenVerifier::new(issuer.clone(), &key.published(clock.now()))
            .map_err(StartError::Verifier)?
            .with_refresh(refresh_on_unknown_kid(key.clone(), clock.clone()));
        let metrics = Arc::new(Metrics::new(denylist.clone(), routes::templates()));
        let batches: BatchObserver = {
            let metrics = metrics.clone();
            Arc::new(move |batch| metrics.audit_batch(batch))
        };
        let audit = AuditWriter::spawn_observed(store.clone(), batches);
        let tokens = TokenService {
            store: Arc::new(CachedStore::new(store, denylist.clone())),
            key,
            hasher,
            clock,
            issuer,
            default_ttl: config.token_ttl,
            audit,
            denylist: denylist.clone(),
            rate_limit: RateLimit::new(config.token_rate_limit, config.token_rate_burst),
            observer: metrics.clone(),
        };
        let governance = Governance {
            grant_max_lifetime: config.grant_max_lifetime,
            max_credentials: config.max_credentials,
        };
        let state = AppState {
            tokens: Arc::new(tokens),
            verifier: Arc::new(verifier),
            denylist,
            governance,
            lifecycle: Arc::default(),
            metrics,
        };
        starting.stop().await;
        tracing::info!(%addr, issuer = %state.tokens.issuer, backend = if config.database_url.is_some() { "postgres" } else { "sqlite" }, denylist = if config.redis_url.is_some() { "redis" } else { "in-process" }, "warrant is ready");
        Ok(Application {
            listener,
            addr,
            state,
            edge,
            request_timeout: config.request_timeout,
            shutdown_grace: config.shutdown_grace,
            keys_reload_interval: config.keys_reload_interval,
        })
    }

    /// Reloads the signing keys of this application while it runs (SIGHUP).
    pub fn key_reloader(&self) -> KeyReloader {
        KeyReloader::new(self.state.clone())
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL tokens carry.
    pub fn issuer(&self) -> &str {
        &self.state.tokens.issuer
    }

    /// Serves until `shutdown` completes; then answers `/readyz` with 503
    /// "draining" for the shutdown grace, closes the listener, lets
    /// in-flight requests finish, and commits every queued audit event.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener, state, edge, request_timeout, shutdown_grace, keys_reload_interval, ..
        } = self;
        let (lifecycle, audit) = (state.lifecycle.clone(), state.tokens.audit.clone());
        let reloads = tokio::spawn(KeyReloader::new(state.clone()).every(keys_reload_interval));
        let observer = Arc::new(Observer::new(state.metrics.clone()));
        let router = routes::router(state)
            .layer(axum::middleware::from_fn_with_state(request_timeout, crate::timeout::deadline))
            .layer(DefaultBodyLimit::max(routes::admin::ADMIN_BODY_LIMIT))
            // Outermost, so that the request id, the span and the duration
            // cover the deadline's answers too.
            .layer(axum::middleware::from_fn_with_state(observer, crate::telemetry::observe));
        let stop = async move {
            shutdown.await;
            lifecycle.drain();
            tracing::info!(grace = ?shutdown_grace, "shutting down: /readyz answers 503 draining");
            tokio::time::sleep(shutdown_grace).await;
            tracing::info!("listener closed; finishing the requests in flight");
        };
        serve(listener, router, edge, true, stop).await;
        reloads.abort();
        match audit.flush().await {
            Ok(()) => tracing::info!("audit events committed; stopped"),
            Err(error) => {
                tracing::error!(%error, "the audit events queued at shutdown could not all be committed")
            }
        }
        Ok(())
    }
}

/// Creates the bootstrap operator (role `admin`) when the store has none:
/// with the configured id and secret, or generated ones printed once.
async fn bootstrap_operator(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    config: &Config,
) -> Result<(), StartError> {
    if store.count_operators().await? > 0 {
        return Ok(());
    }
    let (client_id, secret, generated) = match &config.bootstrap_admin {
        Some(admin) => (admin.id.clone(), admin.secret.clone(), false),
        None => {
            let id = ClientId::parse(&warrant_issuer::new_id("op"))?;
            let (secret, _) = hasher.generate()?;
            (id, secret, true)
        }
    };
    let now = clock.now();
    let roles = Roles::new([Role::Admin])?;
    let operator = Operator {
        id: client_id.as_str().to_owned(),
        client_id: client_id.clone(),
        name: "Bootstrap administrator".into(),
        email: "admin@localhost".into(),
        roles,
        created_by: "bootstrap".into(),
        created_at: now,
    };
    let credential = Credential {
        id: warrant_issuer::new_id("cred"),
        client_id: client_id.clone(),
        client_kind: ClientKind::Operator,
        method: CredentialMethod::ClientSecret,
        secret_hash: Some(hasher.hash(&secret)),
        jwks: None,
        created_at: now,
        last_used_at: None,
        retired_at: None,
    };
    store.insert_operator(&operator, &credential).await?;
    if generated {
        // Shown once, on standard output, never through the log.
        println!(
            "\nWarrant created the bootstrap operator (role admin). Its secret is shown once: store it now.\n  \
             client_id:     {client_id}\n  client_secret: {}\n",
            secret.expose()
        );
    } else {
        tracing::info!(client_id = %client_id, "bootstrap operator created from WARRANT_BOOTSTRAP_ADMIN_ID");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn while_the_application_is_built_the_listener_answers_starting() {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let edge = Edge {
            tls: None,
            header_read_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            drain_timeout: Duration::from_secs(5),
        };
        let starting = Starting::spawn(listener.clone(), edge);
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();
        let readyz = get("/readyz").await.unwrap();
        assert_eq!(readyz.status(), 503);
        assert_eq!(readyz.text().await.unwrap(), r#"{"status":"starting"}"#);
        assert_eq!(get("/healthz").await.unwrap().status(), 200);
        let token = client.post(format!("http://{addr}/oauth2/token")).send().await.unwrap();
        assert_eq!(token.status().as_u16(), 503);
        assert_eq!(token.headers()["retry-after"], "1");
        starting.stop().await;
        assert_eq!(Arc::strong_count(&listener), 1, "the listener is handed back");
    }
}
