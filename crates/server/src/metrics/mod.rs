//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text
//! format: what the token endpoint issued and refused, introspection
//! answers, kills and restores, the denylist's state and size, the audit
//! writer's batches, and HTTP request durations by route.
//!
//! The crates that do the work do not know about Prometheus: the token
//! service reports through `warrant_issuer::TokenObserver`, the audit
//! writer through a `warrant_store::audit::BatchObserver` set when it is
//! spawned, and the denylist is read at each scrape (`Denylist::stats`).

mod histogram;
mod http;
mod registry;

pub use http::UNMATCHED;
pub use registry::{Metrics, CONTENT_TYPE};
