//! In the scale-out mode, a session socket that reached a broker other than the one
//! running its session goes on to that one: this broker opens a WebSocket to the
//! owner's `cluster_address` with the page's `Origin` and cookie (the owner checks
//! them as for any socket) and the client's address in `X-Forwarded-For` (the owner
//! believes it from the brokers listed in its `trusted_proxies`), sends the page's
//! `hello`, then passes every message both ways as it is. The session's rules, log and
//! timers stay with the owner; this broker only carries bytes.
//!
//! When the owner cannot be reached (it was killed: its port refuses) this broker takes
//! the session over ([`crate::cluster::Cluster::take_over`]) and serves the socket
//! itself. When the owner closes the socket, its close goes to the page as it was (a
//! broker stopping or handing the session on closes with 1012: the page reconnects at
//! once). When the owner's connection breaks, the page is told the same.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use connectit_protocol::wire::CloseReason;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::pump::{close, Ending, Heard, Pump};

/// How long opening the socket to the owner may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the page's handshake said that the owner must hear again.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub origin: Option<String>,
    pub cookie: Option<String>,
    /// The client's address, as this broker found it.
    pub client: IpAddr,
}

impl Handshake {
    pub fn from_headers(headers: &HeaderMap, client: IpAddr) -> Handshake {
        let header = |name: axum::http::header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Handshake {
            origin: header(axum::http::header::ORIGIN),
            cookie: header(axum::http::header::COOKIE),
            client,
        }
    }
}

/// Why the owner could not be reached.
#[derive(Debug)]
pub struct Unreachable(pub String);

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the socket to the broker at `address` (`http://host:port`) and sends `hello`.
pub async fn connect(
    address: &str,
    handshake: &Handshake,
    hello: &str,
) -> Result<Upstream, Unreachable> {
    let url = format!(
        "{}/api/ws",
        address
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Unreachable(e.to_string()))?;
    let headers = request.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    if let Some(origin) = &handshake.origin {
        set("origin", origin);
    }
    if let Some(cookie) = &handshake.cookie {
        set("cookie", cookie);
    }
    set("x-forwarded-for", &handshake.client.to_string());
    let (mut upstream, _) =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| Unreachable(format!("{address} did not answer")))?
            .map_err(|e| Unreachable(format!("{address}: {e}")))?;
    upstream
        .send(Message::Text(hello.into()))
        .await
        .map_err(|e| Unreachable(format!("{address}: {e}")))?;
    Ok(upstream)
}

/// Passes messages between the page and the owner until either ends; answers how the
/// page's socket ends.
pub async fn relay<S>(
    page: &mut Pump<S>,
    mut upstream: Upstream,
    stopping: impl std::future::Future<Output = ()>,
) -> Ending
where
    S: futures_util::Stream<Item = Result<axum::extract::ws::Message, axum::Error>>
        + futures_util::Sink<axum::extract::ws::Message, Error = axum::Error>
        + Unpin,
{
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            heard = page.next() => match heard {
                Heard::Text(text) => {
                    if upstream.send(Message::Text(text.as_str().into())).await.is_err() {
                        return Ending::Close(close::RESTART, "reconnect");
                    }
                }
                // The owner answers a binary message with its typed error.
                Heard::Binary => {
                    if upstream.send(Message::Binary(Vec::new().into())).await.is_err() {
                        return Ending::Close(close::RESTART, "reconnect");
                    }
                }
                Heard::End(ending) => {
                    let _ = upstream.close(None).await;
                    return ending;
                }
            },
            said = upstream.next() => match said {
                Some(Ok(Message::Text(text))) => {
                    if !page.send_text(text.as_str().into()).await {
                        let _ = upstream.close(None).await;
                        return Ending::Gone;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ending::Close(
                        match frame.as_ref().map(|f| f.code) {
                            Some(code) => passed_on(code.into()).0,
                            None => close::NORMAL,
                        },
                        frame.map_or("", |f| passed_on(f.code.into()).1),
                    );
                }
                Some(Ok(_)) => {}
                // The owner is gone: the page reconnects at once, and reaches a broker
                // that takes the session over.
                Some(Err(_)) | None => return Ending::Close(close::RESTART, "reconnect"),
            },
            () = &mut stopping => {
                let _ = upstream.close(None).await;
                return Ending::Close(close::RESTART, "broker restarting");
            }
        }
    }
}

/// The close code and reason the page gets for the owner's `code`: ours as they are,
/// the WebSocket's own by their number, anything else as "reconnect".
fn passed_on(code: u16) -> (u16, &'static str) {
    if let Some(reason) = CloseReason::from_code(code) {
        return (code, reason.text());
    }
    match CloseCode::from(code) {
        CloseCode::Normal => (code, ""),
        CloseCode::Policy => (code, "not allowed"),
        CloseCode::Size => (code, "message too large"),
        CloseCode::Invalid => (code, "text is not UTF-8"),
        CloseCode::Protocol => (code, "protocol error"),
        CloseCode::Error => (code, "storage"),
        _ => (close::RESTART, "reconnect"),
    }
}
