//! Errors of loading or creating the signing key and the pepper.

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
    #[error("the key could not be generated")]
    Generate(#[source] josekit::JoseError),
    #[error("{path} must hold 32 bytes")]
    PepperLength { path: PathBuf },
    #[error("the system random number generator failed")]
    Random,
}
