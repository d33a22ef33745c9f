//! HTTPS and WSS served by the broker itself, from a PEM certificate chain and key
//! (`tls_cert`, `tls_key`). The handshakes run in [`crate::serve`]'s accept loop, each
//! in its connection's task with a time limit and a bound on how many run at once, so
//! a client that stalls its handshake holds up nobody else.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate or key that cannot be used, said plainly at start-up.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// Every certificate in a PEM file (at least one).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in the file (PEM expected)",
            path.display()
        ));
    }
    Ok(certs)
}

/// The server's TLS configuration from PEM files: TLS 1.2 and 1.3 (rustls' safe
/// defaults, *ring* provider), HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_certificates(cert).map_err(|e| TlsError(format!("tls_cert {e}")))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("tls_key {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError(format!("tls_cert and tls_key do not make a pair: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
