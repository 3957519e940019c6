//! The connection loop, in place of `axum::serve`, for what it does not
//! offer: HTTPS (rustls), a deadline on reading a request's headers (slow
//! clients holding connections open), limits on the request head, and a
//! shutdown that stops accepting, lets every in-flight request finish and
//! then returns. HTTP/1.1 only, as before.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How each connection is served.
#[derive(Clone)]
pub struct Edge {
    /// HTTPS when set.
    pub tls: Option<TlsAcceptor>,
    /// Deadline for a request's head (and for the TLS handshake).
    pub header_read_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish once the listener
    /// closes; connections still busy after it are dropped.
    pub drain_timeout: Duration,
}

/// Accepts connections on `listener` and serves `router` on each until
/// `stop` completes; then stops accepting, asks every connection to close
/// after its current request, and waits (at most `edge.drain_timeout`)
/// for them. With `keep_alive` false each connection serves one request.
pub async fn serve(
    listener: Arc<TcpListener>,
    router: Router,
    edge: Edge,
    keep_alive: bool,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    if !is_connection_error(&error) {
                        // Out of file descriptors, most likely: wait rather than spin.
                        tracing::error!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let (router, edge) = (router.clone(), edge.clone());
        tokio::spawn(async move {
            let service = router.map_request(|request: Request<Incoming>| request.map(Body::new));
            let service = TowerToHyperService::new(service);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(edge.header_read_timeout)
                // At most 100 header fields (hyper's default, parsed on the
                // stack; setting another count moves them to the heap).
                .max_header_size(edge.max_header_bytes)
                .keep_alive(keep_alive);
            let served = match &edge.tls {
                None => watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await,
                Some(acceptor) => match handshake(acceptor, stream, edge.header_read_timeout).await {
                    Some(tls) => watcher.watch(http.serve_connection(TokioIo::new(tls), service)).await,
                    None => return,
                },
            };
            if let Err(error) = served {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(edge.drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(timeout = ?edge.drain_timeout, "connections still busy after the drain timeout were dropped");
    }
}

/// The TLS handshake, within `timeout`; `None` (logged) when it fails.
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

/// Errors about one connection, after which accepting goes on at once.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
