//! Putting the service together: the router with the Warrant layer in front
//! of each route and the scope that route needs, and an [`Application`]
//! that binds its socket (port 0 allowed) and runs until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use warrant_introspection::layer::{LayerError, WarrantLayer};
use warrant_policy::Clock;
use warrant_store::denylist::{Denylist, DenylistError, RedisDenylist};

use crate::config::TicketingConfig;
use crate::tickets::{self, TicketStore};

/// The scope that lets an agent read tickets.
pub const READ: &str = "tickets:read";
/// The scope that lets an agent open tickets.
pub const WRITE: &str = "tickets:write";

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot follow the denylist")]
    Denylist(#[from] DenylistError),
    #[error("cannot set up the Warrant layer")]
    Layer(#[from] LayerError),
}

/// The routes: `GET /tickets` and `GET /tickets/{id}` need `tickets:read`,
/// `POST /tickets` needs `tickets:write`; `/healthz` and `/readyz` are
/// open. `layer` is the service's one Warrant layer (one key cache);
/// `denylist` is the one it follows, asked by `/readyz`.
pub fn build_router(
    layer: &WarrantLayer,
    tickets: TicketStore,
    denylist: Arc<dyn Denylist>,
) -> Result<Router, LayerError> {
    let read = layer.require_scopes([READ])?;
    let write = layer.require_scopes([WRITE])?;
    let api = Router::new()
        .route(
            "/tickets",
            get(tickets::list).route_layer(read.clone()).merge(post(tickets::open).route_layer(write)),
        )
        .route("/tickets/{id}", get(tickets::show).route_layer(read))
        .with_state(tickets);
    let health = Router::new()
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(readyz))
        .with_state(denylist);
    Ok(api.merge(health))
}

/// Ready when the denylist can answer: until then every request would be
/// refused with 503 anyway.
async fn readyz(State(denylist): State<Arc<dyn Denylist>>) -> (StatusCode, Json<Value>) {
    match denylist.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "denylist": "ok" }))),
        Err(error) => {
            tracing::warn!(error = %error, "not ready: the denylist is unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "denylist": "unreachable" })),
            )
        }
    }
}

/// The ticketing service, bound and ready to run.
pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    router: Router,
}

impl Application {
    /// Binds `config.listen`, follows the Redis denylist (without a refill:
    /// this service has no database and waits for Warrant to fill Redis),
    /// and tries to load Warrant's keys (a failure is only logged: they are
    /// fetched again on demand). `clock` is the time tokens are judged by.
    pub async fn build(config: &TicketingConfig, clock: Arc<dyn Clock>) -> Result<Application, StartError> {
        let denylist: Arc<dyn Denylist> =
            Arc::new(RedisDenylist::connect(&config.redis_url, &config.redis_prefix, None)?);
        let layer = WarrantLayer::new(config.resource_server(), denylist.clone())?.with_clock(clock);
        if let Err(error) = layer.keys().preload().await {
            tracing::warn!(error = %error, "Warrant's keys are not loaded yet; requests get 503 until they are");
        }
        let router = build_router(&layer, TicketStore::default(), denylist)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        Ok(Application { listener, addr, router })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.addr, "ticketing service listening");
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await
    }
}
