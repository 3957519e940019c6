//! What can go wrong in an operator command, and how each failure is told to
//! the operator: the exit status and the line on stderr. Secrets never reach
//! a message: the client secret and the admin token live in
//! [`SecretString`](warrant_issuer::SecretString)s and no URL carries them.

use std::process::ExitCode;

use warrant_server::error_chain;

use super::table::clean;

/// A failed operator command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong (exit 2, usage printed).
    #[error("{0}")]
    Usage(String),
    /// The credentials or the CLI configuration file are missing or wrong (exit 2).
    #[error("bad configuration: {0}")]
    Config(String),
    /// A file named on the command line cannot be used (exit 2).
    #[error("{0}")]
    Input(String),
    /// The server answered with an error (exit 1): the OAuth or admin API
    /// `error` code and its `error_description`.
    #[error("{code}: {description}")]
    Api { code: String, description: String },
    /// The server could not be reached or its answer could not be read (exit 1).
    #[error("cannot reach {url}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered 2xx with something that is not the JSON the contract describes (exit 1).
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// Writing the output failed (exit 1; a closed pipe is not an error).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The exit status the contract gives this failure: 2 for bad usage or
    /// configuration, 1 for everything the server or the network caused, 0
    /// when the reader of stdout went away (`warrant audit export | head`).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) | CliError::Config(_) | CliError::Input(_) => ExitCode::from(2),
            CliError::Output(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            CliError::Api { .. }
            | CliError::Transport { .. }
            | CliError::Protocol { .. }
            | CliError::Output(_) => ExitCode::FAILURE,
        }
    }

    /// The line printed on stderr (`None` for a closed pipe). API errors read
    /// `error: <code>: <description>`; text from the server is made safe for
    /// a terminal.
    pub fn message(&self) -> Option<String> {
        match self {
            CliError::Usage(reason) => Some(format!("warrant: {reason}")),
            CliError::Config(_) | CliError::Input(_) => Some(format!("warrant: {self}")),
            CliError::Api { code, description } => {
                Some(format!("error: {}: {}", clean(code), clean(description)))
            }
            CliError::Transport { .. } => Some(format!("error: unreachable: {}", error_chain(self))),
            CliError::Protocol { .. } => Some(format!("error: bad_response: {}", clean(&self.to_string()))),
            CliError::Output(error) if error.kind() == std::io::ErrorKind::BrokenPipe => None,
            CliError::Output(_) => Some(format!("error: output: {self}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_error_reads_error_code_description_and_exits_1() {
        let error = CliError::Api { code: "not_found".into(), description: "no agent agt_1".into() };
        assert_eq!(error.message().as_deref(), Some("error: not_found: no agent agt_1"));
        assert_eq!(error.exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn bad_usage_and_bad_configuration_exit_2() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), ExitCode::from(2));
        assert_eq!(CliError::Config("x".into()).exit_code(), ExitCode::from(2));
        assert_eq!(CliError::Input("x".into()).exit_code(), ExitCode::from(2));
    }

    #[test]
    fn a_closed_pipe_is_silent_and_successful() {
        let error = CliError::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(error.message(), None);
        assert_eq!(error.exit_code(), ExitCode::SUCCESS);
    }

    #[test]
    fn terminal_escapes_from_the_server_are_neutralised() {
        let error = CliError::Api { code: "x".into(), description: "a\u{1b}[2Jb\nc".into() };
        let message = error.message().unwrap_or_default();
        assert!(!message.contains('\u{1b}') && !message.contains('\n'), "{message}");
    }
}
