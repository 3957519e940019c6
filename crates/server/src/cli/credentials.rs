//! Where the operator commands find the admin API and the operator's
//! client credentials: the environment (`WARRANT_URL`,
//! `WARRANT_ADMIN_CLIENT_ID`, `WARRANT_ADMIN_CLIENT_SECRET`) first, then the
//! TOML file named by `WARRANT_CLI_CONFIG` (default
//! `~/.config/warrant/cli.toml`; keys `url`, `client_id`, `client_secret`).
//! Never the command line: arguments show up in `ps` and shell history.
//! Obtaining a token with these credentials is `client`'s job.

use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warrant_issuer::SecretString;

use super::error::CliError;

/// The admin API used when neither `WARRANT_URL` nor the file names one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The file read when `WARRANT_CLI_CONFIG` is not set, under `$HOME`.
pub const DEFAULT_FILE: &str = ".config/warrant/cli.toml";

/// An operator's way in: the server and its client credentials. `Debug`
/// shows no secret.
#[derive(Debug)]
pub struct Credentials {
    /// Base URL of the server, without a trailing slash.
    pub url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// The configuration file the secret came from, if it came from one.
    pub secret_file: Option<PathBuf>,
}

/// The CLI configuration file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Finds the credentials: each value from the environment (through
/// `lookup`) when set and non-empty, else from the configuration file
/// (through `read`). A missing default file is no error; a missing file
/// named by `WARRANT_CLI_CONFIG`, an unreadable or malformed file, or a
/// client id or secret found nowhere is.
pub fn load(
    lookup: &dyn Fn(&str) -> Option<String>,
    read: &dyn Fn(&Path) -> io::Result<String>,
) -> Result<Credentials, CliError> {
    let env = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let (path, named) = match env("WARRANT_CLI_CONFIG") {
        Some(path) => (Some(PathBuf::from(path)), true),
        None => (env("HOME").map(|home| Path::new(&home).join(DEFAULT_FILE)), false),
    };
    let file = match &path {
        Some(path) => match read(path) {
            Ok(text) => toml::from_str::<FileConfig>(&text)
                .map_err(|e| CliError::Config(format!("{}: {}", path.display(), e.message())))?,
            Err(error) if error.kind() == io::ErrorKind::NotFound && !named => FileConfig::default(),
            Err(error) => return Err(CliError::Config(format!("cannot read {}: {error}", path.display()))),
        },
        None => FileConfig::default(),
    };
    let nonempty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let missing = |var: &str, key: &str| {
        CliError::Config(match &path {
            Some(path) => format!("{var} is not set (nor {key} in {})", path.display()),
            None => format!("{var} is not set"),
        })
    };
    let url = env("WARRANT_URL").or(nonempty(file.url)).unwrap_or_else(|| DEFAULT_URL.to_owned());
    let client_id = env("WARRANT_ADMIN_CLIENT_ID")
        .or(nonempty(file.client_id))
        .ok_or_else(|| missing("WARRANT_ADMIN_CLIENT_ID", "client_id"))?;
    let (client_secret, secret_file) = match env("WARRANT_ADMIN_CLIENT_SECRET") {
        Some(secret) => (secret, None),
        None => match nonempty(file.client_secret) {
            Some(secret) => (secret, path.clone()),
            None => return Err(missing("WARRANT_ADMIN_CLIENT_SECRET", "client_secret")),
        },
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CliError::Config(format!("the server URL {url:?} must start with http:// or https://")));
    }
    Ok(Credentials { url, client_id, client_secret: SecretString::new(client_secret), secret_file })
}

/// A warning when the admin credentials would travel in clear text:
/// `http://` to a host other than the loopback.
pub fn plaintext_warning(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| format!("warning: {url} is plain HTTP; the admin credentials travel unencrypted"))
}

/// A warning when the file holding the client secret can be read by other
/// users (`mode` is the Unix permission bits).
pub fn permission_warning(path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!("warning: {} holds a client secret and is readable by others; chmod 600 it", path.display())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const FILE: &str =
        "url = \"https://warrant.example.com/\"\nclient_id = \"file-id\"\nclient_secret = \"file-secret\"\n";

    fn load_with(env: &[(&str, &str)], files: &[(&str, &str)]) -> Result<Credentials, CliError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let files: HashMap<PathBuf, String> =
            files.iter().map(|(k, v)| (PathBuf::from(k), (*v).into())).collect();
        load(&|name| env.get(name).cloned(), &|path| {
            files.get(path).cloned().ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        })
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let creds = load_with(
            &[
                ("HOME", "/home/op"),
                ("WARRANT_URL", "http://127.0.0.1:18181"),
                ("WARRANT_ADMIN_CLIENT_ID", "env-id"),
                ("WARRANT_ADMIN_CLIENT_SECRET", "env-secret"),
            ],
            &[("/home/op/.config/warrant/cli.toml", FILE)],
        )
        .unwrap();
        assert_eq!(creds.url, "http://127.0.0.1:18181");
        assert_eq!(creds.client_id, "env-id");
        assert_eq!(creds.client_secret.expose(), "env-secret");
        assert_eq!(creds.secret_file, None);
    }

    #[test]
    fn the_file_fills_what_the_environment_leaves_out() {
        let creds = load_with(
            &[("HOME", "/home/op"), ("WARRANT_ADMIN_CLIENT_ID", "env-id"), ("WARRANT_URL", "")],
            &[("/home/op/.config/warrant/cli.toml", FILE)],
        )
        .unwrap();
        assert_eq!(creds.url, "https://warrant.example.com");
        assert_eq!(creds.client_id, "env-id");
        assert_eq!(creds.client_secret.expose(), "file-secret");
        assert_eq!(creds.secret_file, Some(PathBuf::from("/home/op/.config/warrant/cli.toml")));
    }

    #[test]
    fn warrant_cli_config_names_the_file() {
        let creds = load_with(
            &[("HOME", "/home/op"), ("WARRANT_CLI_CONFIG", "/etc/warrant/ops.toml")],
            &[("/etc/warrant/ops.toml", FILE)],
        )
        .unwrap();
        assert_eq!(creds.client_id, "file-id");
    }

    #[test]
    fn a_missing_named_file_is_an_error_but_a_missing_default_file_is_not() {
        let err = load_with(&[("WARRANT_CLI_CONFIG", "/nope.toml")], &[]).unwrap_err();
        assert!(err.to_string().contains("/nope.toml"), "{err}");
        let creds = load_with(
            &[("HOME", "/home/op"), ("WARRANT_ADMIN_CLIENT_ID", "a"), ("WARRANT_ADMIN_CLIENT_SECRET", "b")],
            &[],
        )
        .unwrap();
        assert_eq!(creds.url, DEFAULT_URL);
    }

    #[test]
    fn a_missing_secret_names_the_variable_and_the_file_key() {
        let err = load_with(&[("HOME", "/h"), ("WARRANT_ADMIN_CLIENT_ID", "a")], &[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("WARRANT_ADMIN_CLIENT_SECRET") && text.contains("client_secret"), "{text}");
        assert!(matches!(err, CliError::Config(_)));
    }

    #[test]
    fn a_malformed_file_or_an_unknown_key_is_refused_without_echoing_the_secret() {
        let err = load_with(
            &[("WARRANT_CLI_CONFIG", "/c.toml")],
            &[("/c.toml", "client_id = \"a\"\nclient_secert = \"hunter2-hunter2\"\n")],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/c.toml") && !text.contains("hunter2"), "{text}");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let creds = load_with(
            &[("WARRANT_ADMIN_CLIENT_ID", "a"), ("WARRANT_ADMIN_CLIENT_SECRET", "s3cr3t-value")],
            &[],
        )
        .unwrap();
        assert!(!format!("{creds:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn a_url_without_http_scheme_is_refused() {
        let err = load_with(
            &[
                ("WARRANT_URL", "warrant.example.com"),
                ("WARRANT_ADMIN_CLIENT_ID", "a"),
                ("WARRANT_ADMIN_CLIENT_SECRET", "b"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, CliError::Config(_)));
    }

    #[test]
    fn plain_http_is_flagged_except_on_the_loopback() {
        assert_eq!(plaintext_warning("http://127.0.0.1:18181"), None);
        assert_eq!(plaintext_warning("http://localhost:8080/x"), None);
        assert_eq!(plaintext_warning("http://[::1]:8080"), None);
        assert_eq!(plaintext_warning("https://warrant.example.com"), None);
        assert!(plaintext_warning("http://warrant.example.com").is_some());
        assert!(plaintext_warning("http://10.0.0.5:8080").is_some());
    }

    #[test]
    fn a_secret_file_readable_by_others_is_flagged() {
        assert_eq!(permission_warning(Path::new("/c.toml"), 0o600), None);
        assert!(permission_warning(Path::new("/c.toml"), 0o644).is_some());
    }
}
