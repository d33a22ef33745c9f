//! Loopback connections from several source addresses (one address has only some 28,000
//! ephemeral ports towards one server port), a small HTTP/1.1 client for the broker's
//! JSON API, and WebSocket handshakes.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use connectit_protocol::ErrorCode;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::BenchError;

/// How long one HTTP exchange or handshake may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Source addresses 127.0.0.2, 127.0.0.3, …, handed out in turn.
pub struct Sources {
    count: u8,
    next: AtomicUsize,
}

impl Sources {
    pub fn new(count: u8) -> Self {
        Sources {
            count: count.clamp(1, 250),
            next: AtomicUsize::new(0),
        }
    }

    pub fn next(&self) -> Ipv4Addr {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % usize::from(self.count);
        Ipv4Addr::new(127, 0, 0, 2 + i as u8)
    }
}

/// A TCP connection to `to` from `from` (any free port), without Nagle's delay.
pub async fn connect(from: Ipv4Addr, to: SocketAddr) -> Result<TcpStream, BenchError> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.into(), 0))?;
    let stream = socket.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body of a success; an error code's body becomes [`BenchError::Refused`].
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, BenchError> {
        if (200..300).contains(&self.status) {
            return Ok(serde_json::from_slice(&self.body)?);
        }
        match serde_json::from_slice::<ErrorCode>(&self.body) {
            Ok(code) => Err(BenchError::Refused(code)),
            Err(_) => Err(BenchError::Http {
                status: self.status,
                body: String::from_utf8_lossy(&self.body).into_owned(),
            }),
        }
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub async fn http(
    from: Ipv4Addr,
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response, BenchError> {
    let exchange = async {
        let mut stream = connect(from, to).await?;
        let body = body.unwrap_or("");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse_response(&raw)
    };
    tokio::time::timeout(STEP_TIMEOUT, exchange)
        .await
        .map_err(|_| BenchError::Timeout("HTTP request"))?
}

/// Parses a whole HTTP/1.1 response (fixed length, chunked, or up to the close).
pub fn parse_response(raw: &[u8]) -> Result<Response, BenchError> {
    let bad = |what: &str| BenchError::Unexpected(format!("HTTP response: {what}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    response.body = if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest).ok_or_else(|| bad("broken chunked body"))?
    } else if let Some(len) = response.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        rest.get(..len).ok_or_else(|| bad("short body"))?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

pub type Ws = WebSocketStream<TcpStream>;

/// The client side's WebSocket settings: small read buffers (many idle sockets).
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096)
}

/// A WebSocket to `ws://to/path` from `from`, with these extra handshake headers.
pub async fn websocket(
    from: Ipv4Addr,
    to: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Ws, BenchError> {
    let handshake = async {
        let mut request = format!("ws://{to}{path}").into_client_request()?;
        for (name, value) in headers {
            let value = HeaderValue::from_str(value)
                .map_err(|_| BenchError::Setup(format!("header value {value:?}")))?;
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name
                .parse()
                .map_err(|_| BenchError::Setup(format!("header name {name:?}")))?;
            request.headers_mut().insert(name, value);
        }
        let stream = connect(from, to).await?;
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(client_config()))
                .await?;
        Ok::<_, BenchError>(ws)
    };
    tokio::time::timeout(STEP_TIMEOUT, handshake)
        .await
        .map_err(|_| BenchError::Timeout("WebSocket handshake"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse_in_every_framing() {
        let fixed = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n{}junk")
            .unwrap();
        assert_eq!((fixed.status, fixed.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!(fixed.header("x-a"), Some("b"));
        let chunked = parse_response(
            b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (chunked.status, chunked.body.as_slice()),
            (403, &b"abcde"[..])
        );
        let closed = parse_response(b"HTTP/1.1 204 No Content\r\n\r\nrest").unwrap();
        assert_eq!(closed.body, b"rest");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
    }

    #[test]
    fn error_codes_become_refusals() {
        let r = Response {
            status: 429,
            headers: vec![],
            body: br#"{"code":"too_many_attempts","details":{"retry_after_secs":3}}"#.to_vec(),
        };
        assert!(matches!(
            r.json::<serde_json::Value>(),
            Err(BenchError::Refused(ErrorCode::TooManyAttempts {
                retry_after_secs: 3
            }))
        ));
        let r = Response {
            status: 500,
            headers: vec![],
            body: b"oops".to_vec(),
        };
        assert!(matches!(
            r.json::<serde_json::Value>(),
            Err(BenchError::Http { status: 500, .. })
        ));
    }

    #[test]
    fn sources_take_turns() {
        let s = Sources::new(3);
        let got: Vec<_> = (0..4).map(|_| s.next()).collect();
        assert_eq!(
            got,
            [
                Ipv4Addr::new(127, 0, 0, 2),
                Ipv4Addr::new(127, 0, 0, 3),
                Ipv4Addr::new(127, 0, 0, 4),
                Ipv4Addr::new(127, 0, 0, 2)
            ]
        );
    }
}
