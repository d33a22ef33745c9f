//! The floor of the latency figures: a bare WebSocket echo server (tokio-tungstenite,
//! `TCP_NODELAY`, nothing else) on 127.0.0.1, and a bare page that measures it from
//! inside a browser, so the floor includes the browser just as ConnectIT's figures do.
//!
//! [`EchoServer::start`] binds port 0 and echoes every text or binary message back on the
//! same socket. [`measure`] loads [`ECHO_PAGE`] (served by [`crate::pageserver`]) in a
//! browser and times, with the page's own clock (`performance.now()`):
//!
//! - **open + first echo**: `new WebSocket(url)` → `open` → send one message → its echo
//!   arrives (a fresh socket each time: what joining a session costs at the least);
//! - **round trip**: on one open socket, send a message → its echo arrives.
//!
//! Messages are `payload_bytes` long (about a chat message's frame), and a pause of
//! `gap_ms` separates them, as the ConnectIT runs are separated by their driver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

use crate::browser::Browser;

/// A running echo server; dropping it stops accepting (open sockets end with the runtime).
pub struct EchoServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl EchoServer {
    /// Binds 127.0.0.1:0 and starts echoing (and relaying, under `/relay/`).
    pub async fn start() -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the echo server on 127.0.0.1");
        let addr = listener.local_addr().expect("the echo server's address");
        let rooms: Rooms = Arc::default();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let rooms = rooms.clone();
                tokio::spawn(async move {
                    if let Err(e) = socket.set_nodelay(true) {
                        eprintln!("echo server: TCP_NODELAY: {e}");
                    }
                    let mut path = String::new();
                    // tungstenite's callback type: its error is an HTTP response.
                    #[allow(clippy::result_large_err)]
                    let callback = |request: &Request, response: Response| {
                        path = request.uri().path().to_owned();
                        Ok(response)
                    };
                    let Ok(ws) = tokio_tungstenite::accept_hdr_async(socket, callback).await else {
                        return;
                    };
                    match path.strip_prefix("/relay/") {
                        Some(room) => relay(ws, room.to_owned(), rooms).await,
                        None => echo(ws).await,
                    }
                });
            }
        });
        EchoServer { addr, task }
    }

    /// `ws://127.0.0.1:PORT/relay/ROOM`: every text message a socket sends there goes to
    /// the room's other sockets.
    pub fn relay_url(&self, room: &str) -> String {
        format!("ws://{}/relay/{room}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The relay's rooms: each member's outbox.
type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::UnboundedSender<Message>)>>>>;

/// Echoes every text or binary message back on the same socket.
async fn echo(mut ws: Ws) {
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(_) | Message::Binary(_) => {
                if ws.send(message).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => return,
            // Pings are answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// Passes each text message on to the room's other members, as it comes.
async fn relay(ws: Ws, room: String, rooms: Rooms) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let me = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel();
    rooms
        .lock()
        .expect("relay rooms")
        .entry(room.clone())
        .or_default()
        .push((me, tx));
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Text(_) => {
                let others: Vec<_> = rooms.lock().expect("relay rooms")[&room]
                    .iter()
                    .filter(|(id, _)| *id != me)
                    .map(|(_, tx)| tx.clone())
                    .collect();
                for tx in others {
                    let _ = tx.send(message.clone());
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    if let Some(members) = rooms.lock().expect("relay rooms").get_mut(&room) {
        members.retain(|(id, _)| *id != me);
    }
    writer.abort();
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What [`measure`] does.
#[derive(Debug, Clone, Copy)]
pub struct EchoPlan {
    /// Fresh sockets opened (open + first echo each).
    pub opens: usize,
    /// Round trips on one socket.
    pub round_trips: usize,
    /// Bytes in each message.
    pub payload_bytes: usize,
    /// Pause between two measurements.
    pub gap_ms: u64,
}

/// The samples [`measure`] took, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct EchoSamples {
    pub open_first_echo_ms: Vec<f64>,
    pub round_trip_ms: Vec<f64>,
}

/// The bare page: `window.__echoRun(url, opens, roundTrips, bytes, gapMs)` fills
/// `window.__echo` (`done`, `error`, `open`, `rtt`).
pub const ECHO_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WebSocket echo floor</title></head>
<body><p id="status">idle</p>
<script>
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const opened = (ws) => new Promise((resolve, reject) => {
  ws.onopen = () => resolve();
  ws.onerror = () => reject(new Error('socket error'));
});
const next = (ws) => new Promise((resolve, reject) => {
  ws.onmessage = (m) => resolve(m.data);
  ws.onerror = () => reject(new Error('socket error'));
  ws.onclose = () => reject(new Error('socket closed'));
});
window.__echoRun = (url, opens, roundTrips, bytes, gapMs) => {
  const out = { done: false, error: null, open: [], rtt: [] };
  window.__echo = out;
  const payload = (i) => (String(i) + ':' + 'x'.repeat(bytes)).slice(0, bytes);
  (async () => {
    for (let i = 0; i < opens; i++) {
      const t0 = performance.now();
      const ws = new WebSocket(url);
      await opened(ws);
      const echoed = next(ws);
      ws.send(payload(i));
      const got = await echoed;
      out.open.push(performance.now() - t0);
      if (got !== payload(i)) throw new Error('wrong echo');
      ws.close();
      await sleep(gapMs);
    }
    const ws = new WebSocket(url);
    await opened(ws);
    for (let i = 0; i < roundTrips; i++) {
      const echoed = next(ws);
      const t0 = performance.now();
      ws.send(payload(i));
      const got = await echoed;
      out.rtt.push(performance.now() - t0);
      if (got !== payload(i)) throw new Error('wrong echo');
      await sleep(gapMs);
    }
    ws.close();
    out.done = true;
    document.getElementById('status').textContent = 'done';
  })().catch((e) => { out.error = String(e); });
  return true;
};
</script></body></html>
"#;

/// The two-page relay floor's bare page: `#chat-input`, `#chat-send` and `#chat-log`,
/// as the ConnectIT pages name them. `window.__relayJoin(url)` opens the socket; a click
/// on `#chat-send` sends the field's text; each message that arrives is appended to the
/// log as `li.entry[data-author="customer"] > p.entry-text`, one DOM node, nothing else.
pub const RELAY_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WebSocket relay floor</title></head>
<body><textarea id="chat-input"></textarea><button id="chat-send" type="button">Send</button>
<div id="chat-log"><ol></ol></div>
<script>
window.__relayJoin = (url) => {
  window.__relay = { open: false, error: null };
  const ws = new WebSocket(url);
  ws.onopen = () => { window.__relay.open = true; };
  ws.onerror = () => { window.__relay.error = 'socket error'; };
  ws.onmessage = (m) => {
    const li = document.createElement('li');
    li.className = 'entry';
    li.dataset.author = 'customer';
    const p = document.createElement('p');
    p.className = 'entry-text';
    p.textContent = m.data;
    li.appendChild(p);
    document.querySelector('#chat-log ol').appendChild(li);
  };
  document.getElementById('chat-send').onclick = () => {
    const field = document.getElementById('chat-input');
    ws.send(field.value);
    field.value = '';
  };
  return true;
};
</script></body></html>
"#;

/// Opens the relay floor's page in both browsers, joined to one room of `server`;
/// returns once both sockets are open. Then a click on `#chat-send` in `from` shows the
/// text in `to`'s `#chat-log`, the way a chat message crosses ConnectIT.
pub async fn open_relay(from: &Browser, to: &Browser, server: &EchoServer) {
    let page = crate::pageserver::serve(RELAY_PAGE).await;
    let url = server.relay_url("floor");
    for browser in [from, to] {
        browser.goto(&format!("{page}/")).await;
        browser
            .eval("return window.__relayJoin(arguments[0]);", vec![json!(url)])
            .await;
        browser
            .wait_for("the relay socket open", || async {
                let v = browser.eval("return window.__relay;", vec![]).await;
                if let Some(error) = v["error"].as_str() {
                    panic!("the relay floor failed in the page: {error}");
                }
                if v["open"] == json!(true) {
                    Ok(())
                } else {
                    Err("not open yet".to_owned())
                }
            })
            .await;
    }
}

/// Loads the bare page in `browser` (a page of its own, on its own port) and times the
/// echo server `server` following `plan`.
pub async fn measure(browser: &Browser, server: &EchoServer, plan: EchoPlan) -> EchoSamples {
    let page = crate::pageserver::serve(ECHO_PAGE).await;
    browser.goto(&format!("{page}/")).await;
    browser
        .eval(
            "return window.__echoRun(...arguments);",
            vec![
                json!(server.url()),
                json!(plan.opens),
                json!(plan.round_trips),
                json!(plan.payload_bytes),
                json!(plan.gap_ms),
            ],
        )
        .await;
    let per_sample = Duration::from_millis(plan.gap_ms + 500);
    let budget = Duration::from_secs(15) + per_sample * (plan.opens + plan.round_trips) as u32;
    let result = browser
        .wait_for_within("the echo floor to finish", budget, || async {
            let v = browser.eval("return window.__echo;", vec![]).await;
            if let Some(error) = v["error"].as_str() {
                panic!("the echo floor failed in the page: {error}");
            }
            if v["done"] == json!(true) {
                Ok(v)
            } else {
                Err(format!(
                    "{} opens, {} round trips so far",
                    v["open"].as_array().map_or(0, Vec::len),
                    v["rtt"].as_array().map_or(0, Vec::len)
                ))
            }
        })
        .await;
    let list = |key: &str| -> Vec<f64> {
        result[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    EchoSamples {
        open_first_echo_ms: list("open"),
        round_trip_ms: list("rtt"),
    }
}
