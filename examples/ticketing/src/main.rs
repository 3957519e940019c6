//! The `ticketing` binary: telemetry, configuration from the environment
//! (`TICKETING_LISTEN`, `WARRANT_ISSUER`, `TICKETING_AUDIENCE`,
//! `WARRANT_REDIS_URL`, `WARRANT_REDIS_PREFIX`, `WARRANT_JWKS_URI`), then
//! the service until Ctrl-C.

use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use warrant_example_ticketing::{Application, TicketingConfig};
use warrant_policy::SystemClock;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = match TicketingConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("ticketing: {error}");
            return ExitCode::FAILURE;
        }
    };
    let application = match Application::build(&config, Arc::new(SystemClock)).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for Ctrl-C; stopping");
        }
    };
    match application.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "the server failed");
            ExitCode::FAILURE
        }
    }
}
