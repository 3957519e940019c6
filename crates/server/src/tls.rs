//! HTTPS for deployments without a terminating proxy: the certificate
//! chain and private key named by `WARRANT_TLS_CERT` and `WARRANT_TLS_KEY`
//! (PEM), served with rustls (TLS 1.2 and 1.3, the ring provider, ALPN
//! `http/1.1`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read a certificate chain from {path} (WARRANT_TLS_CERT)")]
    Certificate {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{path} (WARRANT_TLS_CERT) holds no certificate")]
    NoCertificate { path: PathBuf },
    #[error("cannot read a private key from {path} (WARRANT_TLS_KEY)")]
    Key {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the certificate and key cannot be used together")]
    Config(#[source] rustls::Error),
}

/// The acceptor for the configured certificate and key.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let chain = read_chain(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|source| TlsError::Key { path: files.key.clone(), source })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificate = |source| TlsError::Certificate { path: path.to_path_buf(), source };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(certificate)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(certificate)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_path_buf() });
    }
    Ok(chain)
}
