//! Configuration: one typed tree, read once at start from `WARRANT_*`
//! environment variables and, when `WARRANT_CONFIG` names one, a TOML file
//! with the same keys in lower case without the prefix (`listen = "…"`).
//! The environment wins over the file. A bad value stops the start with an
//! error naming the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

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
            ("WARRANT_CONFIG", "/nonexistent/warrant.toml"),
        ];
        for (variable, value) in cases {
            let err = config(&[(variable, value)]).unwrap_err();
            assert_eq!(err.variable, variable, "{value}");
            assert!(err.to_string().starts_with(variable));
        }
        let err = config(&[("WARRANT_BOOTSTRAP_ADMIN_ID", "admin")]).unwrap_err();
        assert_eq!(err.variable, "WARRANT_BOOTSTRAP_ADMIN_SECRET");
        let err =
            config(&[("WARRANT_BOOTSTRAP_ADMIN_ID", "admin"), ("WARRANT_BOOTSTRAP_ADMIN_SECRET", "short")]);
        assert_eq!(err.unwrap_err().variable, "WARRANT_BOOTSTRAP_ADMIN_SECRET");
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
