//! A real broker on a loopback port with a real SQLite file, and small HTTP and
//! WebSocket clients to talk to it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use connectit_e2e::postgres::Postgres;

use connectit_broker::config::Config;
use connectit_broker::{auth, run, AppState};
use connectit_protocol::api::{CreatedSession, VerifyPinResponse};
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::{Action, LogEntry, Seq};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as Client_;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct horse battery";

/// With `CONNECTIT_TEST_DATABASE=postgres`, every broker of these tests stores in a
/// database of its own on one real PostgreSQL server per test process (started with the
/// first broker, stopped with the last): the same tests, on the scale-out mode's
/// storage. Otherwise (the default) each has its SQLite file.
fn postgres_database() -> Option<(Arc<Postgres>, String)> {
    if std::env::var("CONNECTIT_TEST_DATABASE").as_deref() != Ok("postgres") {
        return None;
    }
    Some(new_postgres_database())
}

/// A new empty database on this test process's PostgreSQL server (started if none
/// runs; stopped when the last holder drops it), and its address.
pub fn new_postgres_database() -> (Arc<Postgres>, String) {
    // What the broker logs (a query PostgreSQL refused among it) shows with the test.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .try_init();
    static SHARED: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let server = {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        shared.upgrade().unwrap_or_else(|| {
            let server = Arc::new(Postgres::start());
            *shared = Arc::downgrade(&server);
            server
        })
    };
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let url = server.create_database(&format!("broker_{n}"));
    (server, url)
}

pub struct Broker {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub state: AppState,
    /// With `CONNECTIT_TEST_DATABASE=postgres`: the PostgreSQL server (shared by the
    /// brokers of this test process) and this broker's own database on it.
    postgres: Option<(Arc<Postgres>, String)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Broker {
    /// A broker with two technicians, `alice` and `bob`, changed by `tweak`.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Broker {
        Self::start_with(tweak, true).await
    }

    /// A broker with `alice` and `bob` storing in the PostgreSQL database `database`
    /// (from [`new_postgres_database`]), whatever `CONNECTIT_TEST_DATABASE` says.
    pub async fn start_on_postgres(
        database: (Arc<Postgres>, String),
        dir: tempfile::TempDir,
        accounts: bool,
    ) -> Broker {
        Self::start_in(dir, Some(database), |_| {}, accounts).await
    }

    /// A broker with no technician account yet.
    pub async fn start_empty() -> Broker {
        Self::start_with(|_| {}, false).await
    }

    /// A broker with no technician account yet, changed by `tweak`.
    pub async fn start_empty_with(tweak: impl FnOnce(&mut Config)) -> Broker {
        Self::start_with(tweak, false).await
    }

    async fn start_with(tweak: impl FnOnce(&mut Config), accounts: bool) -> Broker {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, postgres_database(), tweak, accounts).await
    }

    /// Stops this broker, waits `down`, and starts another on the same data folder (its
    /// accounts, sessions and keys), changed by `tweak`.
    pub async fn restart(mut self, down: Duration, tweak: impl FnOnce(&mut Config)) -> Broker {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        tokio::time::sleep(down).await;
        let dir = self.dir;
        Self::start_in(dir, self.postgres.take(), tweak, false).await
    }

    /// [`Broker::restart`], with `edit` run on the database file while no broker has it
    /// open (to leave it as a crash would).
    pub async fn restart_editing(
        mut self,
        edit: impl FnOnce(&std::path::Path),
        tweak: impl FnOnce(&mut Config),
    ) -> Broker {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        edit(&self.db_path());
        let dir = self.dir;
        Self::start_in(dir, self.postgres.take(), tweak, false).await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        postgres: Option<(Arc<Postgres>, String)>,
        tweak: impl FnOnce(&mut Config),
        accounts: bool,
    ) -> Broker {
        let mut config = Config::load(None, vec![], &[]).expect("default config");
        config.data_dir = dir.path().join("data");
        if let Some((_, url)) = &postgres {
            config.database_url = url.clone();
            config.database_connections = 4;
        }
        config.dist_dir = dir.path().join("dist");
        std::fs::create_dir_all(&config.dist_dir).unwrap();
        std::fs::write(
            config.dist_dir.join("index.html"),
            "<html><body><p id=no-wasm>{{organisation}} <a href=\"{{applet_url}}\">applet</a></p></body></html>",
        )
        .unwrap();
        std::fs::write(
            config.dist_dir.join("app-0123456789abcdef0123.js"),
            "console.log(1)",
        )
        .unwrap();
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        config.settle(addr);
        let state = AppState::open(config).expect("broker opens");
        if accounts {
            state
                .db
                .call(|conn| {
                    auth::create_account(conn, "alice", "Alice Smith", PASSWORD).expect("alice");
                    auth::create_account(conn, "bob", "Bob Jones", PASSWORD).expect("bob");
                    Ok(())
                })
                .await
                .unwrap();
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Broker {
            addr,
            dir,
            state,
            postgres,
            stop: Some(tx),
            task,
        }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("data").join("connectit.sqlite3")
    }

    /// A fresh read-only look at the database file.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.db_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// Stops this broker and hands back its folder (config, keys, SQLite file).
    pub async fn stop_keeping_folder(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        self.dir
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }

    /// Sends one HTTP request; answers status, headers and body.
    pub async fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        cookie: Option<&str>,
    ) -> Reply {
        self.http_raw(
            method,
            path,
            body.map(|b| b.to_string().into_bytes()),
            cookie,
        )
        .await
    }

    pub async fn http_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        cookie: Option<&str>,
    ) -> Reply {
        http_request(self.addr, method, path, body, cookie).await
    }

    /// Signs in and returns the cookie to send back.
    pub async fn sign_in(&self, username: &str) -> String {
        let r = self
            .http(
                "POST",
                "/api/auth/sign-in",
                Some(serde_json::json!({"username": username, "password": PASSWORD})),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "sign-in: {}", r.text());
        let set = r
            .headers
            .get("set-cookie")
            .expect("a cookie")
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        set.split(';').next().unwrap().to_string()
    }

    pub async fn create_session(&self, cookie: &str) -> CreatedSession {
        let r = self.http("POST", "/api/sessions", None, Some(cookie)).await;
        assert_eq!(r.status, 200, "create: {}", r.text());
        r.json()
    }

    pub async fn verify_pin(&self, pin: &str) -> Reply {
        self.http(
            "POST",
            "/api/pin",
            Some(serde_json::json!({ "pin": pin })),
            None,
        )
        .await
    }

    /// Creates a session as alice and joins it as the customer.
    pub async fn joined_session(&self) -> (String, CreatedSession, VerifyPinResponse) {
        let cookie = self.sign_in("alice").await;
        let created = self.create_session(&cookie).await;
        let r = self.verify_pin(&created.pin).await;
        assert_eq!(r.status, 200, "{}", r.text());
        (cookie, created, r.json())
    }

    /// An active session (terms accepted, picked up): the customer's and the
    /// technician's sockets, both caught up with the log.
    pub async fn active_session(&self) -> (Ws, Ws) {
        let active = self.active_session_with_ids().await;
        (active.cust, active.tech)
    }

    /// [`Broker::active_session`], with the technician's cookie and the session's ids.
    pub async fn active_session_with_ids(&self) -> Active {
        let (cookie, created, joined) = self.joined_session().await;
        let mut cust = self
            .join(
                Join::Customer {
                    token: joined.token.clone(),
                },
                0,
                None,
            )
            .await;
        let mut seen = Vec::new();
        cust.act_ok(Action::AcceptTerms, &mut seen).await;
        let mut tech = self
            .join(
                Join::Technician {
                    session: created.id.clone(),
                },
                0,
                Some(&cookie),
            )
            .await;
        let picked = tech.act_ok(Action::PickUp, &mut seen).await;
        cust.entries_until(picked).await;
        tech.entries_until(picked).await;
        Active {
            cookie,
            created,
            joined,
            cust,
            tech,
        }
    }

    /// Opens a WebSocket with the given Origin and cookie.
    pub async fn socket(&self, path: &str, origin: &str, cookie: Option<&str>) -> Result<Ws, u16> {
        let mut request = format!("ws://{}{}", self.addr, path)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        if let Some(c) = cookie {
            request.headers_mut().insert("cookie", c.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Ws { stream, next_id: 1 }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("websocket: {e}"),
        }
    }

    /// A session socket that said hello and got its welcome.
    pub async fn join(&self, join: Join, after: Seq, cookie: Option<&str>) -> Ws {
        let mut ws = self
            .socket("/api/ws", &self.origin(), cookie)
            .await
            .expect("handshake");
        ws.send(&ClientMessage::Hello { join, after }).await;
        match ws.recv().await {
            ServerMessage::Welcome { .. } => ws,
            other => panic!("expected welcome, got {other:?}"),
        }
    }
}

/// HTTP and WebSocket access to a broker running elsewhere (another process).
pub struct Client {
    addr: SocketAddr,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr }
    }

    pub async fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        cookie: Option<&str>,
    ) -> Reply {
        http_request(
            self.addr,
            method,
            path,
            body.map(|b| b.to_string().into_bytes()),
            cookie,
        )
        .await
    }

    /// A session socket with this Origin.
    pub async fn socket(&self, origin: &str) -> Ws {
        self.socket_with(origin, None).await
    }

    /// [`Client::socket_with`], or `None` if the handshake failed.
    pub async fn try_socket_with(&self, origin: &str, cookie: Option<&str>) -> Option<Ws> {
        let mut request = format!("ws://{}/api/ws", self.addr)
            .into_client_request()
            .ok()?;
        request.headers_mut().insert("origin", origin.parse().ok()?);
        if let Some(c) = cookie {
            request.headers_mut().insert("cookie", c.parse().ok()?);
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await.ok()?;
        Some(Ws { stream, next_id: 1 })
    }

    /// A session socket with this Origin and cookie.
    pub async fn socket_with(&self, origin: &str, cookie: Option<&str>) -> Ws {
        let mut request = format!("ws://{}/api/ws", self.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        if let Some(c) = cookie {
            request.headers_mut().insert("cookie", c.parse().unwrap());
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("handshake");
        Ws { stream, next_id: 1 }
    }
}

/// One HTTP request to `addr`.
async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    cookie: Option<&str>,
) -> Reply {
    http_with_headers(addr, method, path, body, cookie, &[]).await
}

/// One HTTP request to `addr`, with extra headers.
pub async fn http_with_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let client: Client_<_, Full<Bytes>> = Client_::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let response = client.request(request).await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: bytes.to_vec(),
    }
}

/// One HTTP request to `addr` with exactly these headers (no content type is added).
pub async fn http_raw_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let client: Client_<_, Full<Bytes>> = Client_::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let response = client.request(request).await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: bytes.to_vec(),
    }
}

/// An active session and how it was made.
pub struct Active {
    pub cookie: String,
    pub created: CreatedSession,
    pub joined: VerifyPinResponse,
    pub cust: Ws,
    pub tech: Ws,
}

pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u32,
}

impl Ws {
    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_text(serde_json::to_string(message).unwrap())
            .await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends an action; returns its id.
    pub async fn act(&mut self, action: Action) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&ClientMessage::Act { id, action }).await;
        id
    }

    /// The next server message (skipping control frames), within 5 s.
    pub async fn recv(&mut self) -> ServerMessage {
        match self.next_frame().await {
            Frame::Message(m) => m,
            Frame::Closed(code) => panic!("socket closed ({code:?}) while a message was expected"),
        }
    }

    pub async fn next_frame(&mut self) -> Frame {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("a message within 5 s");
            match frame {
                Some(Ok(Message::Text(t))) => {
                    return Frame::Message(
                        serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("{e}: {t}")),
                    )
                }
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    /// The next text message as it came (for the console socket's messages), or `None`
    /// if the socket closed; within 5 s.
    pub async fn stream_next_text(&mut self) -> Option<String> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("a message within 5 s");
            match frame {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Reads until the broker's close frame (skipping messages), within `limit`: its code
    /// and reason, or `None` if the connection ended without one.
    pub async fn close_frame(&mut self, limit: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("the socket closed in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Some((u16::from(frame.code), frame.reason.to_string()))
                }
                Some(Ok(Message::Close(None))) => return Some((1005, String::new())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Sends an action and waits for its ack, returning the entry's seq. Entries that
    /// arrive meanwhile are kept in `seen`.
    pub async fn act_ok(&mut self, action: Action, seen: &mut Vec<LogEntry>) -> Seq {
        let id = self.act(action).await;
        loop {
            match self.recv().await {
                ServerMessage::Ack { id: got, seq } if got == id => return seq,
                ServerMessage::Entry(e) => seen.push(e),
                ServerMessage::Error {
                    id: Some(got),
                    error,
                } if got == id => panic!("action refused: {error:?}"),
                _ => {}
            }
        }
    }

    /// Waits for the answer to action `id`: its entry's seq, or the error (entries
    /// meanwhile are skipped).
    pub async fn answer(&mut self, id: u32) -> Result<Seq, connectit_protocol::ErrorCode> {
        loop {
            match self.recv().await {
                ServerMessage::Ack { id: got, seq } if got == id => return Ok(seq),
                ServerMessage::Error {
                    id: Some(got),
                    error,
                } if got == id => return Err(error),
                _ => {}
            }
        }
    }

    /// Waits for the error answering action `id` (entries meanwhile are skipped).
    pub async fn error_for(&mut self, id: u32) -> connectit_protocol::ErrorCode {
        loop {
            match self.recv().await {
                ServerMessage::Error {
                    id: Some(got),
                    error,
                } if got == id => return error,
                ServerMessage::Ack { id: got, .. } if got == id => {
                    panic!("action {id} was accepted")
                }
                _ => {}
            }
        }
    }

    /// Collects entries until one with `seq` has arrived.
    pub async fn entries_until(&mut self, seq: Seq) -> Vec<LogEntry> {
        let mut out = Vec::new();
        loop {
            if let ServerMessage::Entry(e) = self.recv().await {
                let done = e.seq >= seq;
                out.push(e);
                if done {
                    return out;
                }
            }
        }
    }
}

pub enum Frame {
    Message(ServerMessage),
    Closed(Option<u16>),
}

/// A keep-alive HTTP/1.1 connection from a chosen loopback address (Linux lets a
/// socket bind any 127.0.0.0/8 address): many clients, one machine.
pub struct Source {
    pub source: std::net::IpAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Source {
    pub async fn new(source: std::net::Ipv4Addr, broker: SocketAddr) -> Source {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::new(std::net::IpAddr::V4(source), 0))
            .unwrap_or_else(|e| panic!("bind {source}: {e}"));
        let tcp = socket.connect(broker).await.expect("connect");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        Source {
            source: std::net::IpAddr::V4(source),
            sender,
        }
    }

    /// Sends a JSON `body` to `path` (POST) with these extra headers.
    pub async fn post(&mut self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = hyper::Request::post(path).header("host", "localhost");
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        self.sender.ready().await.expect("connection open");
        let response = self.sender.send_request(request).await.expect("answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: bytes.to_vec(),
        }
    }
}

impl Broker {
    /// Writes the security log's counted lines now (instead of at the minute).
    pub async fn flush_audit(&self) {
        self.state.audit.flush().await;
    }

    /// The security log's lines of one kind: (address, account, count, detail).
    pub fn audit(&self, kind: &str) -> Vec<(Option<String>, Option<String>, u64, String)> {
        let db = self.sqlite();
        let mut stmt = db
            .prepare(
                "SELECT address, account, count, detail FROM audit WHERE kind = ?1 ORDER BY id",
            )
            .unwrap();
        stmt.query_map([kind], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64, r.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}

/// Milliseconds since the Unix epoch (the broker's clock is this machine's).
pub fn now_ms() -> u64 {
    connectit_broker::hub::now_ms()
}
