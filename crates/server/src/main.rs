//! The `warrant` binary: telemetry, configuration, then the subcommand:
//! `serve` runs the identity provider, `migrate` runs the migrations,
//! `audit verify` checks the local store, `keys list|rotate` manage the
//! signing keys, `openapi` prints the API's OpenAPI document, and the
//! operator commands (see [`cli`]) talk to the admin API.

mod cli;

use std::process::ExitCode;
use std::sync::Arc;

use warrant_introspection::CLOCK_SKEW;
use warrant_issuer::KeyStatus;
use warrant_policy::{Clock as _, SystemClock};
use warrant_server::{error_chain, Application, Config, KeyReloader};

use crate::cli::{Command, USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(error) = warrant_server::telemetry::init_from_env() {
        eprintln!("warrant: bad configuration: {}", error_chain(&error));
        return ExitCode::from(2);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Serve) => serve().await,
        Ok(Command::AuditVerify) => audit_verify().await,
        Ok(Command::OpenApi) => openapi(),
        Ok(Command::Migrate) => migrate().await,
        Ok(Command::KeysList) => keys_list(),
        Ok(Command::KeysRotate) => keys_rotate(),
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
    let scheme = if app.issuer().starts_with("https://") { "https" } else { "http" };
    println!("Warrant listening on {scheme}://{} (issuer {})", app.local_addr(), app.issuer());
    tokio::spawn(reload_keys_on_sighup(app.key_reloader()));
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("warrant: server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration, or the exit status for a bad one.
fn config_or_exit() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|error| {
        eprintln!("warrant: bad configuration: {error}");
        ExitCode::from(2)
    })
}

/// `warrant migrate`: opens the configured store, which runs the
/// migrations it has not run yet, and exits (a Kubernetes Job before a rollout).
async fn migrate() -> ExitCode {
    let config = match config_or_exit() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let url = config.database_url.as_ref().map(|u| u.expose().to_owned());
    match warrant_store::open(url.as_deref(), &config.data_dir).await {
        Ok(_) => {
            let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
            println!("migrations applied ({backend})");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("warrant: migrations failed: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// `warrant keys list`: each key of `WARRANT_KEYS_DIR` and its state.
fn keys_list() -> ExitCode {
    let config = match config_or_exit() {
        Ok(config) => config,
        Err(code) => return code,
    };
    match warrant_issuer::list_keys(&config.keys_dir, SystemClock.now()) {
        Ok(keys) => {
            println!("{:<45} state", "kid");
            for (kid, status) in keys {
                let state = match status {
                    KeyStatus::Active => "active (signs)".to_owned(),
                    KeyStatus::Next => "next (published, signs after the next rotation)".to_owned(),
                    KeyStatus::Retiring(until) => format!("retired, published until {until}"),
                    KeyStatus::Expired(since) => format!("retired, unpublished since {since}"),
                };
                println!("{kid:<45} {state}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("warrant: cannot read the keys: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// `warrant keys rotate`: the retired key stays published for the longest
/// token lifetime, plus the replicas' reload interval (they may sign with
/// it until they reload), plus the allowed clock skew.
fn keys_rotate() -> ExitCode {
    let config = match config_or_exit() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let reload = i64::try_from(config.keys_reload_interval.as_secs()).unwrap_or(i64::MAX);
    let keep_for = config.token_ttl.saturating_add(reload).saturating_add(CLOCK_SKEW);
    match warrant_issuer::rotate(&config.keys_dir, SystemClock.now(), keep_for) {
        Ok(rotation) => {
            println!("active (signs now):  {}", rotation.active);
            println!(
                "retired:             {} (published until {})",
                rotation.retired, rotation.retired_until
            );
            println!("next (published):    {}", rotation.next);
            for kid in &rotation.pruned {
                println!("deleted (expired):   {kid}");
            }
            if !rotation.was_published {
                println!(
                    "note: the new active key had not been published in advance; resource servers \
                     verifying locally learn it when they next fetch the JWKS"
                );
            }
            println!(
                "replicas pick the change up within {} s (WARRANT_KEYS_RELOAD_INTERVAL), or at once on SIGHUP",
                reload
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("warrant: cannot rotate the keys: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// Reloads the signing keys on each SIGHUP.
async fn reload_keys_on_sighup(reloader: KeyReloader) {
    let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::error!(%error, "cannot listen for SIGHUP");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        let reloader = reloader.clone();
        let changed = tokio::task::spawn_blocking(move || reloader.reload()).await.unwrap_or(false);
        tracing::info!(changed, "SIGHUP: signing keys read again");
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
