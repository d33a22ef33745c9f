//! The broker's accept loop: HTTP/1.1 (and WSS/HTTPS with `tls_cert`) on hyper, with
//! the limits a server facing the internet needs and `axum::serve` does not give:
//!
//! - a cap on open connections per client address and in all ([`Connections`]): a
//!   connection over either is closed at once, before anything is read, so one address
//!   holding thousands of idle sockets costs the broker a few file descriptors and
//!   everyone else is still served;
//! - a time limit on the TLS handshake and on reading each request's headers (also
//!   the first one, and the wait between requests on a kept-alive connection), so
//!   idle and slowly trickled connections are cut;
//! - a time limit on each whole request (body included) but upgraded sockets, which
//!   keep their own idle limit.
//!
//! A connection keeps its place in the caps until its socket closes, WebSockets
//! included (the place travels with the stream into the upgrade). On stop, no new
//! connection is taken, open ones finish their request and close, and [`serve`]
//! returns once they have.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use connectit_protocol::api::AuditKind;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::audit::Audit;
use crate::throttle::address_key;

/// TLS handshakes in progress at once; more connections wait their turn.
const MAX_HANDSHAKES: usize = 256;
/// File descriptors kept free for the database, the app's files and the like when the
/// total cap comes from the open-file limit.
const RESERVED_FILES: u64 = 64;

/// The connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections one client address (IPv6: its /64) may hold.
    pub per_address: usize,
    /// Reverse proxies (`trusted_proxies`): every client behind one arrives from its
    /// address, so it is held to the total only.
    pub proxies: Vec<IpAddr>,
    /// Open connections in all.
    pub total: usize,
    /// Time to send a request's headers (from the connection's start, or from the end
    /// of the previous response).
    pub header_read: Duration,
    /// Time for a TLS handshake.
    pub tls_handshake: Duration,
}

/// Who holds how many connections.
pub struct Connections {
    limits: Limits,
    open: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Address,
    Total,
}

impl Connections {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Connections {
            limits,
            open: Mutex::new(Counts::default()),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A place for a connection from `ip`, if both caps allow one.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Place, Full> {
        let key = address_key(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= self.limits.total {
            return Err(Full::Total);
        }
        let mine = open.by_address.entry(key).or_insert(0);
        if *mine >= self.limits.per_address && !self.limits.proxies.contains(&ip) {
            return Err(Full::Address);
        }
        *mine += 1;
        open.total += 1;
        Ok(Place {
            connections: self.clone(),
            key,
        })
    }

    /// Open connections now, in all.
    pub fn total(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Open connections now: in all, and from `ip`.
    pub fn count(&self, ip: IpAddr) -> (usize, usize) {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open.by_address.get(&address_key(ip)).copied().unwrap_or(0);
        (open.total, mine)
    }
}

/// A connection's place in the caps, given back when dropped.
pub struct Place {
    connections: Arc<Connections>,
    key: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.key);
            }
        }
    }
}

/// A stream that holds its connection's place for as long as it lives.
pub struct Placed<S> {
    io: S,
    _place: Place,
}

impl<S: AsyncRead + Unpin> AsyncRead for Placed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Placed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Raises this process's soft limit on open files to its hard limit, where the system
/// allows; answers the soft limit in force afterwards.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The total cap for `configured` (0: what the open-file limit leaves room for).
pub fn total_cap(configured: usize, open_files: Option<u64>) -> usize {
    let room = open_files
        .map(|n| n.saturating_sub(RESERVED_FILES).max(16) as usize)
        .unwrap_or(usize::MAX);
    match configured {
        0 => room.min(1_000_000),
        n => n.min(room),
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests
/// finish (upgraded sockets are the caller's to close).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    connections: Arc<Connections>,
    audit: Arc<Audit>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = connections.limits().clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    // Closed when the broker stops: each connection then finishes gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    // Each connection task holds a receiver; all dropped means all are done.
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let place = match connections.admit(peer.ip()) {
            Ok(place) => place,
            Err(full) => {
                let detail = match full {
                    Full::Address => format!("over {} from one address", limits.per_address),
                    Full::Total => format!("over {} in all", limits.total),
                };
                audit.count(
                    AuditKind::ConnectionsRefused,
                    Some(peer.ip()),
                    None,
                    &detail,
                );
                // Closed before anything is read; the kernel sends the FIN now.
                drop(tcp);
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set: {e}");
        }
        let task = Connection {
            router: router.clone(),
            http: http.clone(),
            acceptor: acceptor.clone(),
            handshakes: handshakes.clone(),
            audit: audit.clone(),
            tls_handshake: limits.tls_handshake,
            peer,
            stop: stop_rx.clone(),
            _done: done_rx.clone(),
        };
        tokio::spawn(task.run(tcp, place));
    }
    drop(listener);
    drop(stop_rx);
    drop(done_rx);
    // Tell every connection, then wait for them (a stuck one for at most 10 s).
    drop(stop_tx);
    let _ = tokio::time::timeout(Duration::from_secs(10), done_tx.closed()).await;
    Ok(())
}

/// One accepted connection and what it needs.
struct Connection {
    router: Router,
    http: hyper::server::conn::http1::Builder,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handshakes: Arc<Semaphore>,
    audit: Arc<Audit>,
    tls_handshake: Duration,
    peer: SocketAddr,
    stop: watch::Receiver<()>,
    _done: watch::Receiver<()>,
}

impl Connection {
    async fn run(self, tcp: TcpStream, place: Place) {
        match self.acceptor.clone() {
            None => {
                let io = Placed {
                    io: tcp,
                    _place: place,
                };
                self.serve_http(io).await
            }
            Some(acceptor) => {
                let Ok(_slot) = self.handshakes.clone().acquire_owned().await else {
                    return;
                };
                let handshake = acceptor.accept(tcp);
                match tokio::time::timeout(self.tls_handshake, handshake).await {
                    Ok(Ok(tls)) => {
                        drop(_slot);
                        let io = Placed {
                            io: tls,
                            _place: place,
                        };
                        self.serve_http(io).await
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed")
                    }
                    Err(_) => {
                        self.audit.count(
                            AuditKind::SlowConnections,
                            Some(self.peer.ip()),
                            None,
                            "TLS handshake not finished in time",
                        );
                    }
                }
            }
        }
    }

    async fn serve_http<S>(mut self, io: Placed<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = self.peer;
        let service =
            self.router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.map(Body::new)
                });
        let conn = self
            .http
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let mut conn = pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        if e.is_timeout() {
                            self.audit.count(
                                AuditKind::SlowConnections,
                                Some(peer.ip()),
                                None,
                                "request headers not sent in time",
                            );
                        } else {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    }
                    return;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize, total: usize) -> Limits {
        Limits {
            per_address,
            proxies: vec!["10.9.9.9".parse().unwrap()],
            total,
            header_read: Duration::from_secs(1),
            tls_handshake: Duration::from_secs(1),
        }
    }

    #[test]
    fn places_are_capped_per_address_and_in_all_and_given_back() {
        let c = Connections::new(limits(2, 3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let p1 = c.admit(a).unwrap();
        let _p2 = c.admit(a).unwrap();
        assert_eq!(c.admit(a).err(), Some(Full::Address));
        let _p3 = c.admit(b).unwrap();
        assert_eq!(c.admit(b).err(), Some(Full::Total));
        drop(p1);
        assert_eq!(c.count(a), (2, 1));
        assert!(c.admit(b).is_ok());
        // One IPv6 host is one address, whatever its interface id.
        let c = Connections::new(limits(1, 10));
        let _v6 = c.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert_eq!(
            c.admit("2001:db8::2".parse().unwrap()).err(),
            Some(Full::Address)
        );
        // A trusted proxy speaks for many clients: only the total holds it.
        let proxy: IpAddr = "10.9.9.9".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| c.admit(proxy).unwrap()).collect();
        assert_eq!(held.len(), 5);
    }

    #[test]
    fn the_total_follows_the_open_file_limit() {
        assert_eq!(total_cap(0, Some(1024)), 960);
        assert_eq!(total_cap(5000, Some(1024)), 960);
        assert_eq!(total_cap(500, Some(1024)), 500);
        assert_eq!(total_cap(500, None), 500);
    }
}
