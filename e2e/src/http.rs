//! A few blocking HTTP/1.1 requests to chromedriver on loopback: its `/status` while it
//! starts, deleting the WebDriver session from `Drop`, where nothing can be awaited, and
//! its Chrome DevTools endpoint (`goog/cdp/execute`), which fantoccini does not offer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `method path` to `127.0.0.1:port` and returns the status code and body, or
/// `None` when nothing answers in time.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    timeout: Duration,
) -> Option<(u16, String)> {
    request_with_body(port, method, path, "", timeout)
}

/// [`request`] with a JSON `body` (e.g. chromedriver's CDP endpoint).
pub(crate) fn request_with_body(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    // chromedriver may keep the connection open: stop once Content-Length is read.
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(_) if !raw.is_empty() => break,
            Err(_) => return None,
        }
        if complete(&raw) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// Whether `raw` holds the whole head and a body as long as its `Content-Length`.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    match length {
        Some(length) => body.len() >= length,
        None => false,
    }
}
