//! A TCP forwarder on `127.0.0.1:0` in front of the broker. [`TcpProxy::cut`] drops
//! every live connection and closes new ones at once, as a lost network would;
//! [`TcpProxy::restore`] lets connections through again. A browser that loads the page
//! through the proxy then loses its WebSocket for real.
//!
//! The page's Origin is then the proxy's: start the broker with
//! `extra_origins = [proxy.origin()]`.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A forwarder to one target; stops (and drops its connections) on drop.
pub struct TcpProxy {
    addr: SocketAddr,
    /// `true` while cut. Connection tasks watch it and end when it turns `true`.
    cut: watch::Sender<bool>,
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
            cut,
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
        let cut = self.cut.clone();
        self.accept_task = Some(tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                if *cut.borrow() {
                    drop(inbound); // refused: closed at once
                    continue;
                }
                tokio::spawn(forward(inbound, target, cut.subscribe()));
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
        self.cut.send_replace(true);
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut.send_replace(true);
        if let Some(task) = self.accept_task.take() {
            task.abort();
        }
    }
}

/// Copies both ways until either side closes or the proxy is cut.
async fn forward(mut inbound: TcpStream, target: SocketAddr, mut cut: watch::Receiver<bool>) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = cut.wait_for(|cut| *cut) => {}
    }
    // Both sockets drop here: the browser and the broker each see the connection close.
}
