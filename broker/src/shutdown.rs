//! Stopping: a signal every task can wait for, and a count of the sockets still open
//! (the broker waits for them to say goodbye before it exits).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The stop signal and the open sockets' count.
#[derive(Clone)]
pub struct Shutdown {
    stop: Arc<watch::Sender<bool>>,
    open: Arc<watch::Sender<usize>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            stop: Arc::new(watch::channel(false).0),
            open: Arc::new(watch::channel(0).0),
        }
    }
}

/// Held by each open socket; dropping it counts the socket closed.
pub struct OpenSocket(Arc<watch::Sender<usize>>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.stop.send_replace(true);
    }

    pub async fn cancelled(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    /// Whether the broker is stopping.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sockets open now.
    pub fn open_sockets(&self) -> usize {
        *self.open.borrow()
    }

    /// Counts a socket open until the returned guard is dropped.
    pub fn socket_opened(&self) -> OpenSocket {
        self.open.send_modify(|n| *n += 1);
        OpenSocket(self.open.clone())
    }

    /// Waits until every socket has closed, or `limit` has passed.
    pub async fn sockets_closed(&self, limit: Duration) {
        let mut rx = self.open.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
    }
}
