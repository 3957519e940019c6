//! The ticketing service's configuration, read once from the environment
//! (or, in tests, from a map): where to listen, which Warrant to trust, the
//! audience it is registered under, and the Redis denylist to follow.

use std::net::SocketAddr;
use std::time::Duration;

use warrant_introspection::layer::{ResourceServerConfig, DEFAULT_MIN_REFRESH_INTERVAL};

/// The audience the example registers under unless told otherwise.
pub const DEFAULT_AUDIENCE: &str = "https://tickets.example.com";
/// Where the example listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";
/// Warrant's default Redis prefix; the service must use the deployment's.
pub const DEFAULT_REDIS_PREFIX: &str = "warrant:";

/// A variable with a bad or missing value.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct TicketingConfig {
    /// `TICKETING_LISTEN` (default `127.0.0.1:8090`; port 0 allowed).
    pub listen: SocketAddr,
    /// `WARRANT_ISSUER` (required): the `iss` of the tokens to accept.
    pub issuer: String,
    /// `TICKETING_AUDIENCE` (default `https://tickets.example.com`): this
    /// service's audience as registered in Warrant.
    pub audience: String,
    /// `WARRANT_JWKS_URI` (default `<issuer>/.well-known/jwks.json`).
    pub jwks_uri: Option<String>,
    /// `WARRANT_REDIS_URL` (required): the denylist Warrant writes kills and
    /// revocations to. Without it the service could not see a kill, so it
    /// refuses to start.
    pub redis_url: String,
    /// `WARRANT_REDIS_PREFIX` (default `warrant:`): the same as Warrant's.
    pub redis_prefix: String,
    /// `TICKETING_JWKS_MIN_REFRESH` in seconds (default 10): at most one
    /// fetch of Warrant's keys per this interval.
    pub jwks_min_refresh: Duration,
}

impl TicketingConfig {
    /// Reads the variables from the process environment.
    pub fn from_env() -> Result<TicketingConfig, ConfigError> {
        TicketingConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<TicketingConfig, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |variable: &'static str| {
            get(variable).ok_or_else(|| ConfigError { variable, reason: "is required".to_owned() })
        };
        let listen_text = get("TICKETING_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|e| ConfigError {
            variable: "TICKETING_LISTEN",
            reason: format!("invalid socket address {listen_text:?}: {e}"),
        })?;
        let issuer = required("WARRANT_ISSUER")?.trim_end_matches('/').to_owned();
        let redis_url = required("WARRANT_REDIS_URL")?;
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
            return Err(ConfigError {
                variable: "WARRANT_REDIS_URL",
                reason: "must be a redis:// or rediss:// URL".to_owned(),
            });
        }
        let jwks_min_refresh = match get("TICKETING_JWKS_MIN_REFRESH") {
            None => DEFAULT_MIN_REFRESH_INTERVAL,
            Some(text) => Duration::from_secs(text.parse().map_err(|e| ConfigError {
                variable: "TICKETING_JWKS_MIN_REFRESH",
                reason: format!("not a whole number of seconds: {e}"),
            })?),
        };
        Ok(TicketingConfig {
            listen,
            issuer,
            audience: get("TICKETING_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            jwks_uri: get("WARRANT_JWKS_URI"),
            redis_url,
            redis_prefix: get("WARRANT_REDIS_PREFIX").unwrap_or_else(|| DEFAULT_REDIS_PREFIX.to_owned()),
            jwks_min_refresh,
        })
    }

    /// What the Warrant layer needs of this configuration.
    pub fn resource_server(&self) -> ResourceServerConfig {
        let config = ResourceServerConfig::new(self.issuer.clone(), self.audience.clone())
            .with_min_refresh_interval(self.jwks_min_refresh);
        match &self.jwks_uri {
            Some(uri) => config.with_jwks_uri(uri.clone()),
            None => config,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<TicketingConfig, ConfigError> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        TicketingConfig::from_lookup(|name| vars.get(name).cloned())
    }

    const MINIMAL: [(&str, &str); 2] =
        [("WARRANT_ISSUER", "https://warrant.example/"), ("WARRANT_REDIS_URL", "redis://127.0.0.1:6379")];

    #[test]
    fn the_issuer_and_redis_are_enough_and_the_rest_has_defaults() {
        let config = config(&MINIMAL).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.issuer, "https://warrant.example");
        assert_eq!(config.audience, DEFAULT_AUDIENCE);
        assert_eq!(config.redis_prefix, DEFAULT_REDIS_PREFIX);
        assert_eq!(config.resource_server().jwks_uri(), "https://warrant.example/.well-known/jwks.json");
    }

    #[test]
    fn each_bad_or_missing_value_is_refused_naming_its_variable() {
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&[("WARRANT_REDIS_URL", "redis://127.0.0.1:6379")], "WARRANT_ISSUER"),
            (&[("WARRANT_ISSUER", "https://warrant.example")], "WARRANT_REDIS_URL"),
            (&[("WARRANT_REDIS_URL", "http://x"), ("WARRANT_ISSUER", "https://w")], "WARRANT_REDIS_URL"),
            (&[MINIMAL[0], MINIMAL[1], ("TICKETING_LISTEN", "nowhere")], "TICKETING_LISTEN"),
        ];
        for (vars, variable) in cases {
            let error = config(vars).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().starts_with(variable), "{error}");
        }
    }
}
