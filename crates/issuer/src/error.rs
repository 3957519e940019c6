//! Errors of loading, creating or rotating the signing keys and the pepper.

use std::path::PathBuf;

/// Why the key material could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid key")]
    Invalid {
        path: PathBuf,
        #[source]
        source: josekit::JoseError,
    },
    #[error("{path} is not a P-256 private key")]
    NotP256 { path: PathBuf },
    #[error("the signing key failed to sign")]
    Sign,
    #[error("the key could not be generated")]
    Generate(#[source] josekit::JoseError),
    #[error("{path} must hold 32 bytes")]
    PepperLength { path: PathBuf },
    #[error("the system random number generator failed")]
    Random,
    #[error("{path} is not a retired-key record")]
    Record {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} must hold a public key (no private part) with the record's kid")]
    NotPublic { path: PathBuf },
}
