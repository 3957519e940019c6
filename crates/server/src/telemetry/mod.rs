//! Logs and request tracing: the `tracing` subscriber of the binary (text
//! or JSON lines on standard error, levels from `RUST_LOG`), and the layer
//! that gives every request an id, a span carrying it, and a duration in
//! the metrics.
//!
//! No secret or token is ever a field or part of a message: a test runs a
//! whole walkthrough against the binary at `RUST_LOG=trace` and looks for
//! every one it saw in the logs (`crates/server/tests/logs.rs`).

mod logs;
mod request;

pub use logs::{init_from_env, LogFormat, LogSetupError, LOG_FORMAT_VAR};
pub use request::X_REQUEST_ID;
pub(crate) use request::{observe, Observer};
