//! A TCP forwarder on `127.0.0.1:0` in front of the broker. [`TcpProxy::cut`] drops
//! every live connection and closes new ones at once, as a lost network would;
//! [`TcpProxy::restore`] lets connections through again. A browser that loads the page
//! through the proxy then loses its WebSocket for real.
//!
//! [`TcpProxy::arm`] cuts at a chosen moment instead: when a WebSocket client sends a
//! frame of at least some size (a message, not a keep-alive), either before that frame
//! reaches the broker (the message is lost) or as soon as the broker answers it (the
//! message is stored, the answer is lost).
//!
//! The page's Origin is then the proxy's: start the broker with
//! `extra_origins = [proxy.origin()]`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Where an armed cut falls, relative to the client's next large WebSocket frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    /// The frame never reaches the broker: the connection is cut instead.
    DropRequest,
    /// The frame reaches the broker; the connection is cut when the broker answers,
    /// and the answer never reaches the client.
    DropAnswer,
}

/// An armed trap and how it is getting on.
#[derive(Debug, Default)]
struct Armed {
    trap: Option<(Trap, usize)>,
    /// A connection forwarded the frame and waits for the answer (`DropAnswer`).
    awaiting_answer: bool,
}

/// What connection tasks share with the proxy.
struct Shared {
    cut: watch::Sender<bool>,
    armed: Mutex<Armed>,
    /// Told when an armed trap has cut.
    sprung: Notify,
}

impl Shared {
    fn armed(&self) -> std::sync::MutexGuard<'_, Armed> {
        self.armed.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spring(&self) {
        *self.armed() = Armed::default();
        self.cut.send_replace(true);
        self.sprung.notify_one();
    }
}

/// A forwarder to one target; stops (and drops its connections) on drop.
pub struct TcpProxy {
    addr: SocketAddr,
    /// The cut switch (`true` while cut: connection tasks watch it and end when it
    /// turns `true`) and the armed trap.
    shared: Arc<Shared>,
    /// Bound at once so the port is known before the broker starts.
    listener: Option<TcpListener>,
    accept_task: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Binds `127.0.0.1:0`; nothing is forwarded until [`TcpProxy::forward_to`].
    pub async fn bind() -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test proxy on 127.0.0.1:0");
        let addr = listener.local_addr().expect("the test proxy's address");
        let (cut, _) = watch::channel(false);
        TcpProxy {
            addr,
            shared: Arc::new(Shared {
                cut,
                armed: Mutex::new(Armed::default()),
                sprung: Notify::new(),
            }),
            listener: Some(listener),
            accept_task: None,
        }
    }

    /// Starts forwarding every accepted connection to `target`.
    pub fn forward_to(&mut self, target: SocketAddr) {
        let listener = self
            .listener
            .take()
            .expect("forward_to is called once per proxy");
        let shared = self.shared.clone();
        self.accept_task = Some(tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                if *shared.cut.borrow() {
                    drop(inbound); // refused: closed at once
                    continue;
                }
                tokio::spawn(forward(inbound, target, shared.clone()));
            }
        }));
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the URL to open pages through, and
    /// the Origin those pages send.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Same as [`TcpProxy::url`]: the Origin to add to the broker's `extra_origins`.
    pub fn origin(&self) -> String {
        self.url()
    }

    /// Drops every live connection and closes new ones as soon as they are accepted.
    pub fn cut(&self) {
        *self.shared.armed() = Armed::default();
        self.shared.cut.send_replace(true);
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.shared.cut.send_replace(false);
    }

    /// Cuts (as [`TcpProxy::cut`]) at the next WebSocket frame of at least `min_bytes`
    /// that a client sends, where `trap` says. [`TcpProxy::sprung`] waits for it.
    pub fn arm(&self, trap: Trap, min_bytes: usize) {
        *self.shared.armed() = Armed {
            trap: Some((trap, min_bytes)),
            awaiting_answer: false,
        };
    }

    /// Waits until the armed trap has cut.
    pub async fn sprung(&self) {
        self.shared.sprung.notified().await;
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.cut.send_replace(true);
        if let Some(task) = self.accept_task.take() {
            task.abort();
        }
    }
}

/// Copies both ways until either side closes or the proxy is cut; springs an armed
/// trap on a WebSocket connection.
async fn forward(inbound: TcpStream, target: SocketAddr, shared: Arc<Shared>) {
    let Ok(outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let mut cut = shared.cut.subscribe();
    let (mut client_read, mut client_write) = inbound.into_split();
    let (mut broker_read, mut broker_write) = outbound.into_split();
    // Whether this connection carries a WebSocket (its request asked for an upgrade),
    // and whether it is the one that sent the trapped frame.
    let mut websocket = false;
    let trapped = AtomicBool::new(false);
    let upstream = async {
        let mut buf = vec![0u8; 64 * 1024];
        let mut first = true;
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if first {
                first = false;
                let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                websocket = head.contains("upgrade: websocket");
            } else if websocket {
                let trap = shared.armed().trap;
                if let Some((trap, min)) = trap {
                    if n >= min {
                        match trap {
                            Trap::DropRequest => {
                                shared.spring();
                                return;
                            }
                            Trap::DropAnswer => {
                                let mut armed = shared.armed();
                                if !armed.awaiting_answer {
                                    armed.awaiting_answer = true;
                                    trapped.store(true, Ordering::SeqCst);
                                }
                            }
                        }
                    }
                }
            }
            if broker_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let downstream = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match broker_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // The broker acknowledges an action before it sends anything else on that
            // socket: the first acknowledgement after the trapped frame is its own.
            if trapped.load(Ordering::SeqCst) && contains(&buf[..n], br#""ack""#) {
                // The broker stored the trapped frame's action: its answer is lost.
                shared.spring();
                return;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
        _ = cut.wait_for(|cut| *cut) => {}
    }
    // Both sockets drop here: the browser and the broker each see the connection close.
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
