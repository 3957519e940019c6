//! The `warrant` binary: telemetry, configuration, then the subcommand:
//! `serve` runs the identity provider, `audit verify` checks the local
//! store, `openapi` prints the API's OpenAPI document, and the operator
//! commands (see [`cli`]) talk to the admin API.

mod cli;

use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use warrant_policy::SystemClock;
use warrant_server::{error_chain, Application, Config};

use crate::cli::{Command, USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Serve) => serve().await,
        Ok(Command::AuditVerify) => audit_verify().await,
        Ok(Command::OpenApi) => openapi(),
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Admin(invocation)) => cli::run(&invocation).await,
        Err(error) => {
            if let Some(message) = error.message() {
                eprintln!("{message}\n");
            }
            eprintln!("{USAGE}");
            error.exit_code()
        }
    }
}

async fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("warrant: bad configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let app = match Application::build(config, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("warrant: cannot start: {}", error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    println!("Warrant listening on http://{} (issuer {})", app.local_addr(), app.issuer());
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warrant: server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `warrant audit verify`: opens the configured store and checks the chain.
async fn audit_verify() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("warrant: bad configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let url = config.database_url.as_ref().map(|u| u.expose().to_owned());
    let store = match warrant_store::open(url.as_deref(), &config.data_dir).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("warrant: cannot open the store: {}", error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    match warrant_store::audit::verify_store(&*store).await {
        Ok(Ok((seq, hash))) => {
            println!("audit chain intact: {seq} events, head {hash}");
            ExitCode::SUCCESS
        }
        Ok(Err(broken)) => {
            println!("audit chain BROKEN at seq {}: {}", broken.seq, broken.reason);
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("warrant: cannot read the audit trail: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// `warrant openapi`: the document as committed in `openapi.json`.
fn openapi() -> ExitCode {
    match warrant_server::openapi::to_pretty_json() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("warrant: cannot write the OpenAPI document: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
