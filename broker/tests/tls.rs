//! The broker serving HTTPS and WSS itself, with a certificate made for the test: pages
//! and the API over TLS with HSTS and the other security headers, the session socket
//! over wss, and a graceful stop that closes TLS sockets properly.

mod support;

use std::sync::Arc;
use std::time::Duration;

use connectit_broker::StartError;
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::Action;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use support::Broker;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files, and a
/// client configuration that trusts exactly it.
struct TestCert {
    _dir: tempfile::TempDir,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    client: Arc<rustls::ClientConfig>,
}

fn test_cert() -> TestCert {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".into()])
            .expect("certificate");
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TestCert {
        _dir: dir,
        cert,
        key,
        client: Arc::new(client),
    }
}

async fn tls_connect(broker: &Broker, client: &Arc<rustls::ClientConfig>) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(broker.addr).await.unwrap();
    TlsConnector::from(client.clone())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake with the broker")
}

/// One HTTPS GET: status, headers, body.
async fn get(
    broker: &Broker,
    client: &Arc<rustls::ClientConfig>,
    path: &str,
) -> (u16, hyper::HeaderMap, String) {
    request(broker, client, "GET", path, None, None).await
}

/// One HTTPS request, with an optional JSON body and cookie.
async fn request(
    broker: &Broker,
    client: &Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    cookie: Option<&str>,
) -> (u16, hyper::HeaderMap, String) {
    let tls = tls_connect(broker, client).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("localhost:{}", broker.addr.port()))
        .header("content-type", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    let response = sender.send_request(request).await.expect("response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn header(headers: &hyper::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_broker_serves_https_and_wss_with_hsts() {
    let cert = test_cert();
    let (cert_path, key_path) = (cert.cert.clone(), cert.key.clone());
    let broker = Broker::start(move |c| {
        c.tls_cert = cert_path.display().to_string();
        c.tls_key = key_path.display().to_string();
    })
    .await;
    assert!(broker.state.config.public_url.starts_with("https://"));

    for path in ["/", "/api/config"] {
        let (status, headers, body) = get(&broker, &cert.client, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            header(&headers, "strict-transport-security"),
            "max-age=31536000"
        );
        assert!(header(&headers, "content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
        if path == "/api/config" {
            let config: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(config["organisation"], "ConnectIT Support");
        }
    }

    // Plain HTTP on the TLS port gets no page.
    let plain = TcpStream::connect(broker.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(plain))
        .await
        .unwrap();
    tokio::spawn(conn);
    let refused = sender
        .send_request(
            hyper::Request::get("/")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await;
    assert!(refused.is_err(), "plain HTTP answered: {refused:?}");

    // The session socket over wss: a customer joins and accepts the terms.
    let (status, headers, body) = request(
        &broker,
        &cert.client,
        "POST",
        "/api/auth/sign-in",
        Some(serde_json::json!({"username": "alice", "password": support::PASSWORD})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let set_cookie = header(&headers, "set-cookie");
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let (status, _, body) = request(
        &broker,
        &cert.client,
        "POST",
        "/api/sessions",
        None,
        Some(&cookie),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let created: connectit_protocol::api::CreatedSession = serde_json::from_str(&body).unwrap();
    assert!(created.link.starts_with("https://"), "{}", created.link);
    let (status, _, body) = request(
        &broker,
        &cert.client,
        "POST",
        "/api/pin",
        Some(serde_json::json!({ "pin": created.pin })),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let joined: connectit_protocol::api::VerifyPinResponse = serde_json::from_str(&body).unwrap();
    let tls = tls_connect(&broker, &cert.client).await;
    let mut request = format!("wss://localhost:{}/api/ws", broker.addr.port())
        .into_client_request()
        .unwrap();
    let origin = format!("https://{}", broker.addr);
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(request, tls)
        .await
        .expect("wss handshake");
    let send = |m: &ClientMessage| Message::Text(serde_json::to_string(m).unwrap().into());
    ws.send(send(&ClientMessage::Hello {
        join: Join::Customer {
            token: joined.token.clone(),
        },
        after: 0,
    }))
    .await
    .unwrap();
    ws.send(send(&ClientMessage::Act {
        id: 1,
        action: Action::AcceptTerms,
    }))
    .await
    .unwrap();
    let mut welcomed = false;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("open")
            .unwrap();
        let Message::Text(text) = frame else { continue };
        match serde_json::from_str::<ServerMessage>(text.as_str()).unwrap() {
            ServerMessage::Welcome { .. } => welcomed = true,
            ServerMessage::Ack { id: 1, .. } => break,
            ServerMessage::Error { error, .. } => panic!("refused: {error:?}"),
            _ => {}
        }
    }
    assert!(welcomed);

    // A graceful stop closes the TLS socket with "going away", and the port closes.
    let addr = broker.addr;
    let closing = async {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return frame.map(|f| u16::from(f.code));
                }
                Ok(Some(Ok(_))) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    };
    let (_, code) = tokio::join!(broker.stop(), closing);
    assert_eq!(code, Some(1012), "Service Restart: come back at once");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the broker stopped listening"
    );
}

#[tokio::test]
async fn hsts_only_over_tls_or_when_told_a_proxy_terminates_it() {
    let plain = Broker::start(|_| {}).await;
    let page = plain.http("GET", "/", None, None).await;
    assert_eq!(page.header("strict-transport-security"), None);
    plain.stop().await;

    let proxied = Broker::start(|c| c.hsts = true).await;
    let page = proxied.http("GET", "/", None, None).await;
    assert_eq!(
        page.header("strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
    proxied.stop().await;
}

#[test]
fn unusable_certificates_are_start_errors() {
    use connectit_broker::config::Config;
    use connectit_broker::AppState;
    let cert = test_cert();
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        let mut c = Config::load(None, vec![], &[]).unwrap();
        c.data_dir = dir.path().join("data");
        c
    };
    // One without the other is a configuration error.
    let err = Config::load(
        None,
        vec![("CONNECTIT_TLS_CERT".into(), cert.cert.display().to_string())],
        &[],
    )
    .unwrap_err();
    assert!(err.0.contains("tls_key"), "{err}");
    // A key that is not PEM, and a certificate file that holds none.
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let mut c = base();
    c.tls_cert = cert.cert.display().to_string();
    c.tls_key = garbage.display().to_string();
    let err = AppState::open(c).err().expect("refused");
    assert!(
        matches!(&err, StartError::Tls(e) if e.0.contains("tls_key")),
        "{err}"
    );
    let mut c = base();
    c.tls_cert = garbage.display().to_string();
    c.tls_key = cert.key.display().to_string();
    let err = AppState::open(c).err().expect("refused");
    assert!(
        matches!(&err, StartError::Tls(e) if e.0.contains("no certificate")),
        "{err}"
    );
    // Another certificate's key does not pair.
    let other = test_cert();
    let mut c = base();
    c.tls_cert = cert.cert.display().to_string();
    c.tls_key = other.key.display().to_string();
    let err = AppState::open(c).err().expect("refused");
    assert!(
        matches!(&err, StartError::Tls(e) if e.0.contains("pair")),
        "{err}"
    );
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_cut_and_holds_up_nobody() {
    let cert = test_cert();
    let (cert_path, key_path) = (cert.cert.clone(), cert.key.clone());
    let broker = Broker::start(move |c| {
        c.tls_cert = cert_path.display().to_string();
        c.tls_key = key_path.display().to_string();
        c.tls_handshake_timeout_secs = 1;
        c.audit_window_secs = 3600;
    })
    .await;
    // Connections that start a handshake and never finish it.
    let mut stalled = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(broker.addr).await.unwrap();
        use tokio::io::AsyncWriteExt;
        // The first bytes of a ClientHello record, then nothing.
        tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
            .await
            .unwrap();
        stalled.push(tcp);
    }
    // Meanwhile a real client is served at once.
    let started = std::time::Instant::now();
    let (status, _, _) = get(&broker, &cert.client, "/api/config").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_millis(900));
    // The stalled ones are cut at the limit.
    for tcp in stalled.iter_mut() {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(3), tcp.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "a stalled handshake still open after 3 s: {read:?}"
        );
    }
    broker.flush_audit().await;
    let slow: u64 = broker.audit("slow_connections").iter().map(|l| l.2).sum();
    assert_eq!(slow, 20);
    broker.stop().await;
}
