//! What a resource server tells the layer about itself and about Warrant:
//! the issuer it trusts, the audience it answers to, where the public keys
//! live and how often it may go and fetch them again.

use std::time::Duration;

/// The default bound on JWKS fetches: at most one per this interval.
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// The default time limit of one JWKS fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The configuration of a [`WarrantLayer`](super::WarrantLayer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceServerConfig {
    /// The `iss` every accepted token carries, e.g. `https://warrant.example.com`.
    pub issuer: String,
    /// This service's audience URI as registered in Warrant; tokens for any
    /// other audience are refused (RFC 9068 §4).
    pub audience: String,
    /// Where the public keys are published; `None` means
    /// `<issuer>/.well-known/jwks.json`.
    pub jwks_uri: Option<String>,
    /// At most one JWKS fetch per this interval, so that tokens with made-up
    /// key ids cannot make the service hammer Warrant.
    pub min_refresh_interval: Duration,
    /// The time limit of one JWKS fetch.
    pub fetch_timeout: Duration,
}

impl ResourceServerConfig {
    /// A configuration with the default JWKS location, refresh bound and
    /// fetch timeout.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> ResourceServerConfig {
        ResourceServerConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_uri: None,
            min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// Fetches the keys from `uri` instead of `<issuer>/.well-known/jwks.json`.
    pub fn with_jwks_uri(mut self, uri: impl Into<String>) -> ResourceServerConfig {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Sets the bound on JWKS fetches.
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> ResourceServerConfig {
        self.min_refresh_interval = interval;
        self
    }

    /// Sets the time limit of one JWKS fetch.
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> ResourceServerConfig {
        self.fetch_timeout = timeout;
        self
    }

    /// The JWKS location in use.
    pub fn jwks_uri(&self) -> String {
        match &self.jwks_uri {
            Some(uri) => uri.clone(),
            None => format!("{}/.well-known/jwks.json", self.issuer.trim_end_matches('/')),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwks_uri_defaults_to_the_well_known_path_of_the_issuer() {
        let config = ResourceServerConfig::new("https://warrant.example/", "https://tickets.example");
        assert_eq!(config.jwks_uri(), "https://warrant.example/.well-known/jwks.json");
        let config = config.with_jwks_uri("https://keys.example/jwks");
        assert_eq!(config.jwks_uri(), "https://keys.example/jwks");
    }
}
