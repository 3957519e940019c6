//! The errors of the resource-server layer: building it, and fetching the
//! keys it verifies tokens with. What a refused request is answered lives in
//! `rejection.rs`.

use std::sync::Arc;

use warrant_policy::ParseError;

/// Why the layer could not be built or could not obtain Warrant's keys.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// A required scope is not a valid RFC 6749 §3.3 scope token.
    #[error("a required scope is invalid")]
    Scope(#[from] ParseError),
    /// The HTTP client for JWKS fetches could not be built.
    #[error("the HTTP client for the JWKS could not be built")]
    HttpClient(#[source] reqwest::Error),
    /// The JWKS could not be fetched (connection, timeout, body).
    #[error("the JWKS could not be fetched from {uri}")]
    Fetch {
        uri: String,
        #[source]
        source: reqwest::Error,
    },
    /// The JWKS endpoint answered something other than 200.
    #[error("the JWKS endpoint {uri} answered {status}")]
    Status { uri: String, status: http::StatusCode },
    /// The JWKS document is not a key set, or one of its keys is unusable.
    #[error("the JWKS document is unusable")]
    Keys(#[source] josekit::JoseError),
    /// The JWKS document holds no EC P-256 signing key with a `kid`.
    #[error("the JWKS document holds no ES256 signing key with a key id")]
    NoUsableKey,
    /// The keys could not be obtained: the last fetch, made within the
    /// refresh bound, failed for the reason given as the source. The next
    /// fetch waits for the bound to pass.
    #[error("Warrant's keys are unavailable")]
    Unavailable(#[source] Arc<LayerError>),
}
