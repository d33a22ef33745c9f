//! A bare page and its signaling relay on 127.0.0.1, for the floors of the timing
//! examples (a two-page WebRTC set-up without ConnectIT): [`serve`] answers `GET /`
//! with the page, `GET /events?room=R&peer=P` with a Server-Sent Events stream of the
//! messages for (R, P), and `POST /send?room=R&peer=P` by passing its body on to that
//! stream (kept until it opens), in order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Mailboxes of the floor's relay: for each (room, peer), the open event stream, or the
/// messages waiting for it.
#[derive(Default)]
struct Relay {
    boxes: HashMap<(String, String), Mailbox>,
}

#[derive(Default)]
struct Mailbox {
    stream: Option<mpsc::UnboundedSender<String>>,
    waiting: Vec<String>,
}

/// Serves `page` at `/` and the relay on 127.0.0.1 (a secure context); its base URL.
pub async fn serve(page: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the floor server");
    let addr = listener.local_addr().expect("the floor server's address");
    let relay = Arc::new(Mutex::new(Relay::default()));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let relay = relay.clone();
            tokio::spawn(async move {
                if let Err(e) = serve_one(socket, relay, page).await {
                    eprintln!("page server: {e}");
                }
            });
        }
    });
    format!("http://{addr}")
}

/// One HTTP/1.1 request (the connection closes after it, except an event stream).
async fn serve_one(
    socket: TcpStream,
    relay: Arc<Mutex<Relay>>,
    page: &'static str,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(socket);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    let mut content_length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |key: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default()
    };
    let key = (param("room"), param("peer"));
    let mut socket = reader;
    match (method, path) {
        ("GET", "/") => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                page.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(page.as_bytes()).await?;
        }
        ("GET", "/events") => {
            let (tx, mut rx) = mpsc::unbounded_channel::<String>();
            {
                let mut relay = relay.lock().expect("relay lock");
                let mailbox = relay.boxes.entry(key).or_default();
                for message in mailbox.waiting.drain(..) {
                    let _ = tx.send(message);
                }
                mailbox.stream = Some(tx);
            }
            socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                      Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\n: open\n\n",
                )
                .await?;
            socket.flush().await?;
            while let Some(message) = rx.recv().await {
                socket
                    .write_all(format!("data: {message}\n\n").as_bytes())
                    .await?;
                socket.flush().await?;
            }
        }
        ("POST", "/send") => {
            let mut body = vec![0; content_length];
            socket.read_exact(&mut body).await?;
            let message = String::from_utf8_lossy(&body).replace('\n', " ");
            {
                let mut relay = relay.lock().expect("relay lock");
                let mailbox = relay.boxes.entry(key).or_default();
                let undelivered = match &mailbox.stream {
                    Some(stream) => stream.send(message).err().map(|e| e.0),
                    None => Some(message),
                };
                if let Some(message) = undelivered {
                    mailbox.stream = None;
                    mailbox.waiting.push(message);
                }
            }
            socket
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                )
                .await?;
        }
        _ => {
            socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                )
                .await?;
        }
    }
    socket.flush().await?;
    Ok(())
}
