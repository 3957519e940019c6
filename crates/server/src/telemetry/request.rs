//! The layer every request passes through: it gives the request an id,
//! runs it inside a `request` span that carries the id (so every log line
//! of the request names it), returns the id in the answer's
//! `X-Request-Id`, and records the request's duration by route template,
//! method and status class.
//!
//! A well-formed incoming `X-Request-Id` (1 to 128 characters among
//! letters, digits and `-_.:/+=`) is kept, so that a caller's or a proxy's
//! id follows the request; anything else is replaced, never logged. A made
//! id is 32 hex digits: 64 random bits chosen at start-up, then a counter,
//! unique across instances without a random draw per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::{Metrics, UNMATCHED};

/// The request id header, read and answered.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming request id kept.
const MAX_ID_LEN: usize = 128;

/// What the layer needs: the metrics and the request id source.
pub struct Observer {
    metrics: Arc<Metrics>,
    ids: RequestIds,
}

impl Observer {
    pub fn new(metrics: Arc<Metrics>) -> Observer {
        Observer { metrics, ids: RequestIds::new() }
    }
}

/// Makes request ids: a random prefix per process and a counter.
#[derive(Debug)]
struct RequestIds {
    prefix: u64,
    next: AtomicU64,
}

impl RequestIds {
    /// A source with a fresh random prefix.
    fn new() -> RequestIds {
        RequestIds { prefix: uuid::Uuid::new_v4().as_u64_pair().0, next: AtomicU64::new(0) }
    }

    /// The next id: 32 lowercase hex digits.
    fn next(&self) -> HeaderValue {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 32];
        for (i, digit) in id.iter_mut().enumerate() {
            let word = if i < 16 { self.prefix } else { n };
            let shift = 60 - 4 * (i % 16);
            *digit = HEX[((word >> shift) & 0xf) as usize];
        }
        HeaderValue::from_bytes(&id).unwrap_or_else(|_| HeaderValue::from_static("0"))
    }
}

/// The incoming `X-Request-Id`, if there is exactly one and it is well formed.
fn incoming_id(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    let value = values.next()?;
    let well_formed = values.next().is_none()
        && (1..=MAX_ID_LEN).contains(&value.len())
        && value.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b));
    well_formed.then(|| value.clone())
}

/// The middleware; see the module documentation.
pub async fn observe(State(observer): State<Arc<Observer>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = incoming_id(request.headers()).unwrap_or_else(|| observer.ids.next());
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let series = observer.metrics.http().series(route, request.method());
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or_default(),
        method = %request.method(),
        route = route.unwrap_or(UNMATCHED),
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    series.observe(response.status(), elapsed);
    tracing::debug!(
        parent: &span,
        status = response.status().as_u16(),
        elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "answered"
    );
    response.headers_mut().insert(X_REQUEST_ID.clone(), id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_ids_are_32_hex_digits_and_differ() {
        let ids = RequestIds::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        for id in [&a, &b] {
            let text = id.to_str().unwrap();
            assert_eq!(text.len(), 32, "{text}");
            assert!(text.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{text}");
        }
        assert_eq!(a.as_bytes()[..16], b.as_bytes()[..16], "one prefix per source");
        assert!(a.to_str().unwrap().ends_with("0000000000000000"));
        assert!(b.to_str().unwrap().ends_with("0000000000000001"));
    }

    #[test]
    fn a_well_formed_incoming_id_is_kept_and_anything_else_is_not() {
        let with = |values: &[&[u8]]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(&X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
            }
            incoming_id(&headers).map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(with(&[b"req-42_a.b:c/d+e="]).as_deref(), Some("req-42_a.b:c/d+e="));
        assert_eq!(
            with(&[b"0f8fad5b-d9cb-469f-a165-70867728950e"]).as_deref(),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e")
        );
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[b""]), None);
        assert_eq!(with(&[b"has space"]), None);
        assert_eq!(with(&[b"quote\"d"]), None);
        assert_eq!(with(&[&[b'a'; 129]]), None);
        assert_eq!(with(&[b"one", b"two"]), None, "two ids are none");
    }
}
