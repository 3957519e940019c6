//! The `warrant` server as a library: configuration, start-up (store, keys,
//! bootstrap operator), the axum router, the admin API and the OpenAPI
//! document of them all, the metrics and the log and request tracing
//! setup. `main.rs` only sets up telemetry, reads the configuration and
//! runs an [`Application`]; tests build one on port 0.

pub mod config;
mod error;
mod keys;
mod lifecycle;
mod metrics;
pub mod openapi;
mod routes;
mod serve;
mod startup;
mod state;
pub mod telemetry;
mod timeout;
mod tls;

pub use config::{Config, ConfigError};
pub use error::error_chain;
pub use keys::KeyReloader;
pub use startup::{Application, StartError};
pub use tls::TlsError;
