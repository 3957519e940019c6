//! An operator command in a real process: credentials from the environment
//! and the CLI configuration file, output to stdout, failures to stderr with
//! the exit status the contract gives them. Everything testable lives in
//! `args`, `credentials`, `commands` and `render`; this is the thin edge.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use warrant_policy::{Clock, SystemClock};

use super::args::Invocation;
use super::client::AdminClient;
use super::commands::execute;
use super::credentials::{self, permission_warning, plaintext_warning};
use super::error::CliError;

/// Runs an operator command and returns the process exit status.
pub async fn run(invocation: &Invocation) -> ExitCode {
    match run_to_stdout(invocation).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(message) = error.message() {
                eprintln!("{message}");
            }
            error.exit_code()
        }
    }
}

async fn run_to_stdout(invocation: &Invocation) -> Result<(), CliError> {
    let credentials =
        credentials::load(&|name| std::env::var(name).ok(), &|path| std::fs::read_to_string(path))?;
    if let Some(warning) = plaintext_warning(&credentials.url) {
        eprintln!("{warning}");
    }
    if let Some(path) = &credentials.secret_file {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path) {
            if let Some(warning) = permission_warning(path, metadata.permissions().mode()) {
                eprintln!("{warning}");
            }
        }
    }
    let mut client = AdminClient::new(credentials)?;
    let mut out = BufWriter::new(std::io::stdout());
    execute(invocation, &mut client, &mut out, SystemClock.now()).await?;
    out.flush()?;
    Ok(())
}
