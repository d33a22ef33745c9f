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

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::browser::Browser;

/// A running echo server; dropping it stops accepting (open sockets end with the runtime).
pub struct EchoServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl EchoServer {
    /// Binds 127.0.0.1:0 and starts echoing.
    pub async fn start() -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the echo server on 127.0.0.1");
        let addr = listener.local_addr().expect("the echo server's address");
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Err(e) = socket.set_nodelay(true) {
                        eprintln!("echo server: TCP_NODELAY: {e}");
                    }
                    let Ok(mut ws) = tokio_tungstenite::accept_async(socket).await else {
                        return;
                    };
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
                });
            }
        });
        EchoServer { addr, task }
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
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
