//! The binary's log subscriber: `tracing` events on standard error, as
//! human-readable text (the default) or as one JSON object per line
//! (`WARRANT_LOG_FORMAT=json`, for a log pipeline), filtered by `RUST_LOG`
//! (`tracing` filter syntax, default `info`). JSON lines carry the current
//! span and the list of spans, so every line of a request names its
//! `request_id`.

use std::io::IsTerminal;

use tracing_subscriber::filter::ParseError;
use tracing_subscriber::EnvFilter;

/// The variable that chooses the log format.
pub const LOG_FORMAT_VAR: &str = "WARRANT_LOG_FORMAT";
/// The filter used when `RUST_LOG` is unset or empty.
const DEFAULT_FILTER: &str = "info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    /// Parses the value of [`LOG_FORMAT_VAR`]: `text` (also when unset or
    /// empty) or `json`, in any case.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, LogSetupError> {
        match value.map(str::trim) {
            None | Some("") => Ok(LogFormat::Text),
            Some(text) if text.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Some(text) if text.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Some(other) => Err(LogSetupError::Format(other.to_owned())),
        }
    }
}

/// Why logging could not be set up; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum LogSetupError {
    #[error("{LOG_FORMAT_VAR}: {0:?} is not one of text, json")]
    Format(String),
    #[error("{LOG_FORMAT_VAR}: the value is not valid UTF-8")]
    FormatNotUnicode,
    #[error("RUST_LOG is not a valid tracing filter")]
    Filter(#[source] ParseError),
    #[error("RUST_LOG: the value is not valid UTF-8")]
    FilterNotUnicode,
    #[error("a log subscriber is already installed")]
    AlreadySet(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Installs the global subscriber from `WARRANT_LOG_FORMAT` and `RUST_LOG`.
pub fn init_from_env() -> Result<(), LogSetupError> {
    let text = |name: &str, not_unicode: LogSetupError| match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value.into_string().map(Some).map_err(|_| not_unicode),
    };
    let format = LogFormat::parse(text(LOG_FORMAT_VAR, LogSetupError::FormatNotUnicode)?.as_deref())?;
    let filter = filter(text("RUST_LOG", LogSetupError::FilterNotUnicode)?.as_deref())?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => {
            builder.json().with_ansi(false).with_current_span(true).with_span_list(true).try_init()
        }
    };
    installed.map_err(LogSetupError::AlreadySet)
}

/// The filter of a `RUST_LOG` value; `info` when it is unset or empty.
fn filter(value: Option<&str>) -> Result<EnvFilter, LogSetupError> {
    let directives = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(DEFAULT_FILTER);
    EnvFilter::builder().parse(directives).map_err(LogSetupError::Filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_format_is_text_or_json_and_anything_else_names_the_variable() {
        assert_eq!(LogFormat::parse(None).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("")).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("Text")).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some(" JSON ")).unwrap(), LogFormat::Json);
        let message = LogFormat::parse(Some("xml")).unwrap_err().to_string();
        assert!(message.contains("WARRANT_LOG_FORMAT") && message.contains("xml"), "{message}");
    }

    #[test]
    fn rust_log_defaults_to_info_and_a_bad_filter_names_the_variable() {
        assert_eq!(filter(None).unwrap().to_string(), "info");
        assert_eq!(filter(Some(" ")).unwrap().to_string(), "info");
        assert!(filter(Some("warrant_server=debug,warn")).is_ok());
        let message = filter(Some("warrant_server=loud")).unwrap_err().to_string();
        assert!(message.contains("RUST_LOG"), "{message}");
    }
}
