//! The broker's calls out: to the OpenID provider and to webhook receivers. HTTPS with
//! the public roots (and the organisation's own CA, `outbound_ca_file`); plain HTTP only
//! to a loopback address. Every call has a time limit and a cap on what it reads back.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

/// The most a response may carry (a provider's metadata and keys are a few KiB).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why a call out failed.
#[derive(Debug)]
pub enum OutboundError {
    /// Not `https://`, and not `http://` to a loopback address.
    Insecure(String),
    /// Could not connect, or the exchange broke off.
    Transport(String),
    /// No answer within the time limit.
    Timeout,
    /// The answer was larger than [`MAX_RESPONSE_BYTES`].
    TooLarge,
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundError::Insecure(url) => {
                write!(f, "{url}: only https:// (or http:// to loopback) is called")
            }
            OutboundError::Transport(e) => write!(f, "connection failed: {e}"),
            OutboundError::Timeout => f.write_str("no answer in time"),
            OutboundError::TooLarge => write!(f, "answer larger than {MAX_RESPONSE_BYTES} bytes"),
        }
    }
}

impl std::error::Error for OutboundError {}

/// Whether `url` may be called: `https://`, or `http://` to `localhost` or a loopback
/// address.
pub fn allowed_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<Uri>() else {
        return false;
    };
    match uri.scheme_str() {
        Some("https") => uri.host().is_some(),
        Some("http") => uri.host().is_some_and(is_loopback_host),
        _ => false,
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The roots outbound TLS trusts: the public ones, and the certificates in `ca_file`
/// (PEM) if given.
pub fn root_store(ca_file: &str) -> Result<rustls::RootCertStore, String> {
    let mut roots = public_roots();
    if !ca_file.is_empty() {
        for cert in crate::tls::read_certificates(std::path::Path::new(ca_file))? {
            roots
                .add(cert)
                .map_err(|e| format!("{ca_file}: a certificate that cannot be trusted: {e}"))?;
        }
    }
    Ok(roots)
}

/// The public roots alone.
pub fn public_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// A pooled HTTP/1 client for calls out.
#[derive(Clone)]
pub struct Outbound {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Outbound {
    pub fn new(roots: rustls::RootCertStore, timeout: Duration) -> Outbound {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Outbound {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// Sends `request` and reads the whole answer, within the time limit.
    pub async fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, OutboundError> {
        let url = request.uri().to_string();
        if !allowed_url(&url) {
            return Err(OutboundError::Insecure(url));
        }
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| OutboundError::Transport(error_chain(&e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        OutboundError::TooLarge
                    } else {
                        OutboundError::Transport(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| OutboundError::Timeout)?
    }
}

/// An error and its causes, on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_called() {
        assert!(allowed_url(
            "https://id.example.org/.well-known/openid-configuration"
        ));
        assert!(allowed_url("http://127.0.0.1:4000/token"));
        assert!(allowed_url("http://localhost:4000/token"));
        assert!(allowed_url("http://[::1]:4000/token"));
        assert!(!allowed_url("http://id.example.org/token"));
        assert!(!allowed_url("http://10.0.0.1/token"));
        assert!(!allowed_url("ftp://id.example.org/"));
        assert!(!allowed_url("not a url"));
    }
}
