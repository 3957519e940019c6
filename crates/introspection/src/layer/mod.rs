//! The resource-server side of Warrant: a tower layer that a Rust service
//! (a CRM, a ticketing system) puts in front of its routes so that only
//! requests bearing a live Warrant access token with the right scopes reach
//! them.
//!
//! Tokens are verified locally (RFC 9068 §4) against Warrant's public keys,
//! cached and refetched on an unknown `kid` within a bound ([`JwksCache`]);
//! kills and revocations come from the denylist that Warrant writes
//! (`warrant_store::denylist`), followed through its Redis subscription.
//! Whatever cannot be checked is refused with 503: the layer fails closed.
//! Issuing tokens and writing the denylist are Warrant's business, not this
//! module's.

mod bearer;
mod config;
mod error;
mod jwks;
mod rejection;
mod service;
#[cfg(test)]
mod test_support;

pub use self::bearer::{bearer_token, BearerError};
pub use self::config::{ResourceServerConfig, DEFAULT_FETCH_TIMEOUT, DEFAULT_MIN_REFRESH_INTERVAL};
pub use self::error::LayerError;
pub use self::jwks::{HttpJwksSource, JwksCache, JwksSource};
pub use self::rejection::Rejection;
pub use self::service::{WarrantLayer, WarrantService};
