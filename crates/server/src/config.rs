//! Configuration: one typed tree, read once at start from `WARRANT_*`
//! environment variables and, when `WARRANT_CONFIG` names one, a TOML file
//! with the same keys in lower case without the prefix (`listen = "…"`).
//! The environment wins over the file. A bad value stops the start with an
//! error naming the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use warrant_issuer::SecretString;
use warrant_policy::ClientId;

/// Why the configuration is refused: the variable, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

fn bad(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}

/// The bootstrap operator's credentials, when set by the environment.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub id: ClientId,
    pub secret: SecretString,
}

/// `WARRANT_TLS_CERT` and `WARRANT_TLS_KEY`: serve HTTPS with these PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Everything Warrant reads at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WARRANT_LISTEN`: where to listen (port 0 picks a free port).
    pub listen: SocketAddr,
    /// `WARRANT_ISSUER`: the `iss` of tokens; `None` means `http://` + the bound address.
    pub issuer: Option<String>,
    /// `WARRANT_DATA_DIR`: where the SQLite database lives.
    pub data_dir: PathBuf,
    /// `WARRANT_KEYS_DIR`: the signing key and the secret pepper.
    pub keys_dir: PathBuf,
    /// `WARRANT_DATABASE_URL`: PostgreSQL; `None` means embedded SQLite.
    pub database_url: Option<SecretString>,
    /// `WARRANT_REDIS_URL`: the shared denylist; `None` means in-process.
    pub redis_url: Option<SecretString>,
    /// `WARRANT_REDIS_PREFIX`: prefix of every Redis key and channel.
    pub redis_prefix: String,
    /// `WARRANT_TOKEN_TTL`: default access-token lifetime in seconds.
    pub token_ttl: i64,
    /// `WARRANT_GRANT_MAX_LIFETIME`: longest grant, in seconds (90 days).
    pub grant_max_lifetime: i64,
    /// `WARRANT_MAX_CREDENTIALS`: most live credentials per agent.
    pub max_credentials: i64,
    /// `WARRANT_BOOTSTRAP_ADMIN_ID` and `WARRANT_BOOTSTRAP_ADMIN_SECRET`.
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// `WARRANT_TLS_CERT` and `WARRANT_TLS_KEY`; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// `WARRANT_TOKEN_RATE_LIMIT`: token requests per second per client
    /// (per replica); 0 turns the limit off.
    pub token_rate_limit: u32,
    /// `WARRANT_TOKEN_RATE_BURST`: how many a client may send at once.
    pub token_rate_burst: u32,
    /// `WARRANT_REQUEST_TIMEOUT`: longest a request may take (503 after).
    pub request_timeout: Duration,
    /// `WARRANT_HEADER_READ_TIMEOUT`: longest a client may take to send a
    /// request's headers (also how long an idle keep-alive connection is kept).
    pub header_read_timeout: Duration,
    /// `WARRANT_MAX_HEADER_BYTES`: largest request head (431 beyond).
    pub max_header_bytes: usize,
    /// `WARRANT_SHUTDOWN_GRACE`: on SIGTERM, how long `/readyz` answers
    /// "draining" while requests are still served, before the listener closes.
    pub shutdown_grace: Duration,
    /// `WARRANT_KEYS_RELOAD_INTERVAL`: how often the keys directory is read
    /// again for a rotation (also on SIGHUP and on an unknown `kid`).
    pub keys_reload_interval: Duration,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads `WARRANT_*` values through `lookup` (the environment in `main`,
    /// a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match lookup("WARRANT_CONFIG") {
            Some(path) => read_file(&path)?,
            None => HashMap::new(),
        };
        let get = |name: &'static str| -> Option<String> {
            let key = name.trim_start_matches("WARRANT_").to_ascii_lowercase();
            lookup(name).or_else(|| file.get(&key).cloned()).filter(|v| !v.is_empty())
        };

        let listen = match get("WARRANT_LISTEN") {
            Some(v) => {
                v.parse().map_err(|e| bad("WARRANT_LISTEN", format!("{v:?} is not host:port ({e})")))?
            }
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let issuer = get("WARRANT_ISSUER").map(|v| parse_issuer(&v)).transpose()?;
        let data_dir = PathBuf::from(get("WARRANT_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let keys_dir = PathBuf::from(get("WARRANT_KEYS_DIR").unwrap_or_else(|| "./keys".into()));
        let database_url = get("WARRANT_DATABASE_URL")
            .map(|v| {
                if v.starts_with("postgres://") || v.starts_with("postgresql://") {
                    Ok(SecretString::new(v))
                } else {
                    Err(bad(
                        "WARRANT_DATABASE_URL",
                        "must be a postgres:// URL (leave unset for embedded SQLite)",
                    ))
                }
            })
            .transpose()?;
        let redis_url = get("WARRANT_REDIS_URL")
            .map(|v| {
                if v.starts_with("redis://") {
                    Ok(SecretString::new(v))
                } else {
                    Err(bad(
                        "WARRANT_REDIS_URL",
                        "must be a redis:// URL (TLS to Redis, rediss://, is not supported yet)",
                    ))
                }
            })
            .transpose()?;
        let redis_prefix = get("WARRANT_REDIS_PREFIX").unwrap_or_else(|| "warrant:".into());
        if redis_prefix.len() > 128 || !redis_prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("WARRANT_REDIS_PREFIX", "must be at most 128 visible ASCII characters"));
        }
        let token_ttl = match get("WARRANT_TOKEN_TTL") {
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=3_600).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "WARRANT_TOKEN_TTL",
                        format!("{v:?} is not a number of seconds from 1 to 3600"),
                    ))
                }
            },
            None => 300,
        };
        let number = |variable: &'static str, default: i64, range: std::ops::RangeInclusive<i64>| match get(
            variable,
        ) {
            Some(v) => match v.parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(bad(
                    variable,
                    format!("{v:?} is not a number from {} to {}", range.start(), range.end()),
                )),
            },
            None => Ok(default),
        };
        let grant_max_lifetime = number("WARRANT_GRANT_MAX_LIFETIME", 90 * 86_400, 60..=10 * 365 * 86_400)?;
        let max_credentials = number("WARRANT_MAX_CREDENTIALS", 3, 1..=100)?;
        let bootstrap_admin = match (get("WARRANT_BOOTSTRAP_ADMIN_ID"), get("WARRANT_BOOTSTRAP_ADMIN_SECRET"))
        {
            (None, None) => None,
            (Some(id), Some(secret)) => {
                let id = ClientId::parse(&id).map_err(|e| bad("WARRANT_BOOTSTRAP_ADMIN_ID", e.reason))?;
                if secret.len() < 16 {
                    return Err(bad("WARRANT_BOOTSTRAP_ADMIN_SECRET", "must be at least 16 characters"));
                }
                Some(BootstrapAdmin { id, secret: SecretString::new(secret) })
            }
            (Some(_), None) => {
                return Err(bad("WARRANT_BOOTSTRAP_ADMIN_SECRET", "must be set with the admin id"))
            }
            (None, Some(_)) => {
                return Err(bad("WARRANT_BOOTSTRAP_ADMIN_ID", "must be set with the admin secret"))
            }
        };
        let tls = match (get("WARRANT_TLS_CERT"), get("WARRANT_TLS_KEY")) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert: PathBuf::from(cert), key: PathBuf::from(key) }),
            (Some(_), None) => return Err(bad("WARRANT_TLS_KEY", "must be set with WARRANT_TLS_CERT")),
            (None, Some(_)) => return Err(bad("WARRANT_TLS_CERT", "must be set with WARRANT_TLS_KEY")),
        };
        let token_rate_limit = number("WARRANT_TOKEN_RATE_LIMIT", 100, 0..=1_000_000)?;
        let token_rate_burst =
            number("WARRANT_TOKEN_RATE_BURST", (2 * token_rate_limit).max(1), 1..=1_000_000)?;
        let seconds = |variable: &'static str, default: i64, range: std::ops::RangeInclusive<i64>| {
            number(variable, default, range).map(|n| Duration::from_secs(n.unsigned_abs()))
        };
        let request_timeout = seconds("WARRANT_REQUEST_TIMEOUT", 30, 1..=3_600)?;
        let header_read_timeout = seconds("WARRANT_HEADER_READ_TIMEOUT", 30, 1..=3_600)?;
        let max_header_bytes = number("WARRANT_MAX_HEADER_BYTES", 16 * 1024, 1_024..=1024 * 1024)?;
        let shutdown_grace = seconds("WARRANT_SHUTDOWN_GRACE", 0, 0..=600)?;
        let keys_reload_interval = seconds("WARRANT_KEYS_RELOAD_INTERVAL", 10, 1..=3_600)?;
        let small = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Config {
            listen,
            issuer,
            data_dir,
            keys_dir,
            database_url,
            redis_url,
            redis_prefix,
            token_ttl,
            grant_max_lifetime,
            max_credentials,
            bootstrap_admin,
            tls,
            token_rate_limit: small(token_rate_limit),
            token_rate_burst: small(token_rate_burst),
            request_timeout,
            header_read_timeout,
            max_header_bytes: usize::try_from(max_header_bytes).unwrap_or(usize::MAX),
            shutdown_grace,
            keys_reload_interval,
        })
    }
}

/// An issuer is an `http(s)` URL without query or fragment; a trailing
/// slash is dropped so endpoint URLs join cleanly.
fn parse_issuer(value: &str) -> Result<String, ConfigError> {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !value.contains(['?', '#', ' ']) => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(bad("WARRANT_ISSUER", format!("{value:?} is not an http(s) URL without query or fragment"))),
    }
}

/// Reads the TOML file named by `WARRANT_CONFIG` into lower-case keys.
fn read_file(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("WARRANT_CONFIG", format!("cannot read {path}: {e}")))?;
    let table: toml::Table =
        text.parse().map_err(|e| bad("WARRANT_CONFIG", format!("{path} is not valid TOML: {e}")))?;
    table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(s) => Ok((key, s)),
            toml::Value::Integer(n) => Ok((key, n.to_string())),
            other => Err(bad(
                "WARRANT_CONFIG",
                format!("{key} must be a string or an integer, not {}", other.type_str()),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn no_configuration_at_all_gives_the_embedded_defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!((c.issuer, c.token_ttl), (None, 300));
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(c.database_url.is_none() && c.bootstrap_admin.is_none());
    }

    #[test]
    fn each_bad_value_is_refused_naming_its_variable() {
        let cases = [
            ("WARRANT_LISTEN", "localhost"),
            ("WARRANT_ISSUER", "ftp://x"),
            ("WARRANT_ISSUER", "https://x/?q"),
            ("WARRANT_DATABASE_URL", "mysql://x"),
            ("WARRANT_REDIS_URL", "http://x"),
            ("WARRANT_REDIS_URL", "rediss://x"),
            ("WARRANT_REDIS_PREFIX", "has space"),
            ("WARRANT_TOKEN_TTL", "0"),
            ("WARRANT_TOKEN_TTL", "five"),
            ("WARRANT_GRANT_MAX_LIFETIME", "0"),
            ("WARRANT_MAX_CREDENTIALS", "many"),
            ("WARRANT_TOKEN_RATE_LIMIT", "-1"),
            ("WARRANT_TOKEN_RATE_LIMIT", "fast"),
            ("WARRANT_TOKEN_RATE_BURST", "0"),
            ("WARRANT_REQUEST_TIMEOUT", "0"),
            ("WARRANT_HEADER_READ_TIMEOUT", "1m"),
            ("WARRANT_MAX_HEADER_BYTES", "100"),
            ("WARRANT_SHUTDOWN_GRACE", "-5"),
            ("WARRANT_KEYS_RELOAD_INTERVAL", "0"),
            ("WARRANT_CONFIG", "/nonexistent/warrant.toml"),
        ];
        for (variable, value) in cases {
            let err = config(&[(variable, value)]).unwrap_err();
            assert_eq!(err.variable, variable, "{value}");
            assert!(err.to_string().starts_with(variable));
        }
        let err = config(&[("WARRANT_TLS_CERT", "/etc/cert.pem")]).unwrap_err();
        assert_eq!(err.variable, "WARRANT_TLS_KEY", "the missing half is named");
        let err = config(&[("WARRANT_TLS_KEY", "/etc/key.pem")]).unwrap_err();
        assert_eq!(err.variable, "WARRANT_TLS_CERT");
        let err = config(&[("WARRANT_BOOTSTRAP_ADMIN_ID", "admin")]).unwrap_err();
        assert_eq!(err.variable, "WARRANT_BOOTSTRAP_ADMIN_SECRET");
        let err =
            config(&[("WARRANT_BOOTSTRAP_ADMIN_ID", "admin"), ("WARRANT_BOOTSTRAP_ADMIN_SECRET", "short")]);
        assert_eq!(err.unwrap_err().variable, "WARRANT_BOOTSTRAP_ADMIN_SECRET");
    }

    #[test]
    fn the_edge_settings_have_defaults_and_take_values() {
        let c = config(&[]).unwrap();
        assert_eq!((c.token_rate_limit, c.token_rate_burst), (100, 200));
        assert_eq!(
            (c.request_timeout, c.header_read_timeout),
            (Duration::from_secs(30), Duration::from_secs(30))
        );
        assert_eq!((c.max_header_bytes, c.shutdown_grace), (16_384, Duration::ZERO));
        assert_eq!((c.keys_reload_interval, c.tls), (Duration::from_secs(10), None));

        let c = config(&[
            ("WARRANT_TOKEN_RATE_LIMIT", "0"),
            ("WARRANT_REQUEST_TIMEOUT", "5"),
            ("WARRANT_SHUTDOWN_GRACE", "3"),
            ("WARRANT_TLS_CERT", "/etc/warrant/cert.pem"),
            ("WARRANT_TLS_KEY", "/etc/warrant/key.pem"),
        ])
        .unwrap();
        assert_eq!((c.token_rate_limit, c.token_rate_burst), (0, 1), "0 turns the limit off");
        assert_eq!((c.request_timeout, c.shutdown_grace), (Duration::from_secs(5), Duration::from_secs(3)));
        let tls = c.tls.unwrap();
        assert_eq!(
            (tls.cert.to_str(), tls.key.to_str()),
            (Some("/etc/warrant/cert.pem"), Some("/etc/warrant/key.pem"))
        );
        let c = config(&[("WARRANT_TOKEN_RATE_LIMIT", "10"), ("WARRANT_TOKEN_RATE_BURST", "3")]).unwrap();
        assert_eq!((c.token_rate_limit, c.token_rate_burst), (10, 3));
    }

    #[test]
    fn the_file_fills_in_and_the_environment_wins() {
        let path = std::env::temp_dir().join(format!("warrant-config-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\ntoken_ttl = 60\nissuer = \"https://id.example/\"\n",
        )
        .unwrap();
        let path_text = path.display().to_string();
        let c = config(&[("WARRANT_CONFIG", &path_text), ("WARRANT_TOKEN_TTL", "120")]).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(c.token_ttl, 120);
        assert_eq!(c.issuer.as_deref(), Some("https://id.example"));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = config(&[
            ("WARRANT_BOOTSTRAP_ADMIN_ID", "admin"),
            ("WARRANT_BOOTSTRAP_ADMIN_SECRET", "correct-horse-battery-staple"),
            ("WARRANT_DATABASE_URL", "postgres://u:hunter2@db/warrant"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("correct-horse") && !shown.contains("hunter2"), "{shown}");
    }
}
