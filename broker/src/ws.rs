//! The session socket (`/api/ws`): one per participant. It starts with `hello`, then
//! carries the log both ways: entries out (stored ones first, then live ones, each
//! once), actions in (each acknowledged after its entry is stored, or refused with a
//! typed error).
//!
//! One socket per role per session: a newer one takes the seat and the older closes
//! with [`CloseReason::Replaced`]. A technician's socket closes with
//! [`CloseReason::SignedOut`] within a second of the sign-in ending.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::AuditKind;
use connectit_protocol::wire::{ClientMessage, CloseReason, Join, ServerMessage};
use connectit_protocol::{
    decide, limits, Actor, Author, EndReason, EntryKind, ErrorCode, Limits, LogEntry, Millis, Role,
    Seq, SessionState,
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth;
use crate::db::{self, SignedIn};
use crate::error::{append_error_code, AppError};
use crate::hub::{now_ms, LiveSession, Relayed, Seat};
use crate::AppState;

/// Close codes (RFC 6455).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const UNSUPPORTED: u16 = 1003;
    pub const PROTOCOL: u16 = 1002;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
}

/// How long a socket may stay silent before `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the broker pings.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A socket silent this long (no message, no pong) is closed.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// The frame limit given to the WebSocket layer: above the message limit, so that an
/// oversize message gets a typed error and close code 1009 from us.
pub const FRAME_LIMIT: usize = 4 * limits::MAX_MESSAGE_BYTES;
/// Messages per second a socket may send before its `hello`, on average and in a
/// burst (after it, the session's rate for the role applies).
const RATE_PER_SEC: f64 = 20.0;
const RATE_BURST: f64 = 60.0;

/// Outgoing bytes a socket may buffer for a slow reader before writes fail (and the
/// socket closes): a client that stops reading cannot make the broker hold more.
const WRITE_BUFFER_LIMIT: usize = 1024 * 1024;
/// What each socket reserves for reading: a chat message or a signal fits, a bigger
/// frame grows it (up to [`FRAME_LIMIT`]). The library's 128 KiB default was most of a
/// connection's memory.
const READ_BUFFER: usize = 8 * 1024;

/// Every limit of the WebSocket layer, set here rather than left to defaults.
pub fn limited(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(FRAME_LIMIT)
        .max_frame_size(FRAME_LIMIT)
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(WRITE_BUFFER_LIMIT)
        .accept_unmasked_frames(false)
}

/// The close a read error calls for, when the peer can still hear one: a frame beyond
/// the layer's limit is 1009 like any oversize message, a text frame that is not
/// UTF-8 is 1007, a broken frame is 1002. A lost connection gets none.
pub fn close_for(error: axum::Error) -> Option<(u16, &'static str)> {
    let error = error.into_inner().downcast::<tungstenite::Error>().ok()?;
    match *error {
        tungstenite::Error::Capacity(_) => Some((close::TOO_BIG, "message too large")),
        tungstenite::Error::Utf8(_) => Some((close::INVALID_DATA, "text is not UTF-8")),
        tungstenite::Error::Protocol(_) => Some((close::PROTOCOL, "protocol error")),
        _ => None,
    }
}

/// Refuses a handshake whose Origin is not this site's.
pub fn check_origin(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(o)
            if state
                .allowed_origins
                .iter()
                .any(|a| a.eq_ignore_ascii_case(o)) =>
        {
            Ok(())
        }
        _ => {
            let detail = format!("foreign origin {origin:?}");
            state
                .audit
                .count(AuditKind::SocketRefused, Some(peer.ip()), None, &detail);
            Err(AppError(ErrorCode::Forbidden))
        }
    }
}

pub async fn session_socket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(e) = check_origin(&state, peer, &headers) {
        return e.into_response();
    }
    // The cookie is read at the handshake: a technician's socket needs it.
    let technician = match auth::signed_in(&state, &headers).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    limited(upgrade).on_upgrade(move |socket| async move {
        let _open = state.shutdown.socket_opened();
        let mut conn = Conn {
            socket,
            peer,
            last_heard: Instant::now(),
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        run(&state, &mut conn, technician).await;
        tracing::debug!(%peer, "session socket closed");
    })
}

/// One socket and its per-connection limits.
pub struct Conn {
    pub socket: WebSocket,
    /// Who is at the other end (for the security log).
    pub peer: SocketAddr,
    /// When the peer last sent anything (messages and pongs).
    pub last_heard: Instant,
    /// Rate-limit bucket before `hello`.
    tokens: f64,
    refilled: Instant,
}

/// What one incoming frame turned out to be.
pub enum Incoming {
    Message(ClientMessage),
    /// A refused message: answered with this error, the socket stays open.
    Refused(ErrorCode),
    /// The socket must close with this code (after the error, if any, is sent).
    Close(u16, Option<ErrorCode>),
    /// The peer closed: our close frame answers theirs.
    PeerClosed,
    /// Control frames and the like: nothing to do.
    Nothing,
}

impl Conn {
    pub async fn send(&mut self, message: &ServerMessage) -> bool {
        match serde_json::to_string(message) {
            Ok(text) => self.socket.send(Message::Text(text.into())).await.is_ok(),
            Err(_) => false,
        }
    }

    pub async fn close(&mut self, code: u16, reason: &'static str) {
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }

    /// Sends the close frame that answers the peer's (the WebSocket layer queued it
    /// when the peer's arrived): the peer sees a clean close, not a dropped connection.
    pub async fn answer_close(&mut self) {
        use futures_util::SinkExt;
        let _ = self.socket.flush().await;
    }

    /// Interprets one frame: size and JSON are checked here.
    pub fn decode(&mut self, frame: Message) -> Incoming {
        self.last_heard = Instant::now();
        let text = match frame {
            Message::Text(t) => t,
            Message::Binary(_) => return Incoming::Refused(ErrorCode::MalformedMessage),
            Message::Close(_) => return Incoming::PeerClosed,
            Message::Ping(_) | Message::Pong(_) => return Incoming::Nothing,
        };
        if text.len() > limits::MAX_MESSAGE_BYTES {
            let error = ErrorCode::MessageTooLarge {
                max_bytes: limits::MAX_MESSAGE_BYTES as u32,
            };
            return Incoming::Close(close::TOO_BIG, Some(error));
        }
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(m) => Incoming::Message(m),
            Err(_) => Incoming::Refused(ErrorCode::MalformedMessage),
        }
    }

    /// Whether one more message may pass before `hello`.
    fn allow_before_hello(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens
            + now.duration_since(self.refilled).as_secs_f64() * RATE_PER_SEC)
            .min(RATE_BURST);
        self.refilled = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// The answer to a message over the rate limit.
fn rate_limited(message: &ClientMessage) -> ServerMessage {
    let id = match message {
        ClientMessage::Act { id, .. } => Some(*id),
        _ => None,
    };
    ServerMessage::Error {
        id,
        error: ErrorCode::RateLimited {
            retry_after_secs: 1,
        },
    }
}

async fn run(state: &AppState, conn: &mut Conn, signed_in: Option<SignedIn>) {
    // 1. hello
    let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
    let (join, after) = loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout_at(deadline, conn.socket.recv()) => match frame {
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(e))) => {
                    if let Some((code, reason)) = close_for(e) {
                        conn.close(code, reason).await;
                    }
                    return;
                }
                Ok(None) => return,
                Err(_) => return conn.close(close::POLICY, "hello expected").await,
            },
            _ = state.shutdown.cancelled() => return conn.close(close::GOING_AWAY, "broker restarting").await,
        };
        let message = match conn.decode(frame) {
            Incoming::Message(message) if !conn.allow_before_hello() => {
                conn.send(&rate_limited(&message)).await;
                continue;
            }
            Incoming::Message(message) => message,
            Incoming::Refused(error) => {
                conn.send(&ServerMessage::Error { id: None, error }).await;
                continue;
            }
            Incoming::Close(code, error) => {
                if let Some(error) = error {
                    conn.send(&ServerMessage::Error { id: None, error }).await;
                }
                return conn.close(code, "").await;
            }
            Incoming::PeerClosed => return conn.answer_close().await,
            Incoming::Nothing => continue,
        };
        match message {
            ClientMessage::Hello { join, after } => break (join, after),
            ClientMessage::Ping { t } => {
                conn.send(&ServerMessage::Pong { t, now: now_ms() }).await;
            }
            ClientMessage::Act { id, .. } => {
                conn.send(&ServerMessage::Error {
                    id: Some(id),
                    error: ErrorCode::OutOfOrder,
                })
                .await;
            }
            ClientMessage::Signal { .. } => {
                conn.send(&ServerMessage::Error {
                    id: None,
                    error: ErrorCode::OutOfOrder,
                })
                .await;
            }
        }
    };

    // 2. who is this?
    let technician = signed_in.as_ref().map(|s| &s.technician);
    let (live, role, name) = match resolve(state, join, technician).await {
        Ok(found) => found,
        Err(error) => {
            if matches!(error, ErrorCode::Unauthorized | ErrorCode::Forbidden) {
                let detail = format!("hello refused: {error}");
                state.audit.count(
                    AuditKind::SocketRefused,
                    Some(conn.peer.ip()),
                    None,
                    &detail,
                );
            }
            conn.send(&ServerMessage::Error { id: None, error }).await;
            return conn.close(close::POLICY, "not allowed").await;
        }
    };

    // 3. the log so far, then live.
    let signals = state.hub.watch_signals(&live);
    let (backlog, rx) = match state.hub.subscribe(&live, after).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not read a session log");
            conn.send(&ServerMessage::Error {
                id: None,
                error: ErrorCode::StorageUnavailable,
            })
            .await;
            return conn.close(close::INTERNAL, "storage").await;
        }
    };
    if !conn
        .send(&ServerMessage::Welcome {
            session: live.id.clone(),
            role,
            now: now_ms(),
            ice_servers: crate::ice::servers_for(&state.config, &live.id, now_ms() / 1000),
            ice_transport_policy: state.config.ice_transport_policy,
            check_code: state.hub.check_code(&live).await,
            last_seq: backlog.last().map_or(after, |e| e.seq),
        })
        .await
    {
        return;
    }
    let mut sent: Seq = after;
    for entry in backlog {
        sent = entry.seq;
        if !conn.send(&ServerMessage::Entry(entry)).await {
            return;
        }
    }
    if let Err(e) = state.hub.connected(&live, role).await {
        tracing::warn!(error = ?e, "could not log a reconnection");
    }
    // Counted present before the socket it replaces goes, so the handover logs no drop.
    let mut seat = live.take_seat(role);
    let mut held = signed_in
        .as_ref()
        .map(|s| state.sign_ins.hold(&s.token_hash));

    let mut feeds = Feeds {
        entries: rx,
        signals,
    };
    let mut ends = Ends {
        seat: &mut seat,
        seat_open: true,
        held: held.as_mut(),
    };
    let outcome = serve(
        state, conn, &live, role, &name, &mut feeds, &mut ends, &mut sent,
    )
    .await;
    live.leave_seat(&seat);
    if let Err(e) = state.hub.disconnected(&live, role).await {
        tracing::warn!(error = ?e, "could not log a disconnection");
    }
    match outcome {
        Outcome::Close(code, reason) => conn.close(code, reason).await,
        Outcome::AnswerClose => conn.answer_close().await,
        Outcome::Gone => {}
    }
}

/// How a socket's main loop ended.
enum Outcome {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The peer closed: answer its close frame.
    AnswerClose,
    /// The connection is gone.
    Gone,
}

impl From<CloseReason> for Outcome {
    fn from(reason: CloseReason) -> Self {
        Outcome::Close(reason.code(), reason.text())
    }
}

/// What ends a socket from outside: a newer socket for its role, the end of its
/// technician's sign-in.
struct Ends<'a, 'b> {
    seat: &'a mut Seat,
    /// False once the seat's channel closed without a replacement (nothing to wait for).
    seat_open: bool,
    held: Option<&'a mut auth::HeldSignIn<'b>>,
}

impl Ends<'_, '_> {
    /// Completes with the reason the socket must close.
    async fn next(&mut self) -> CloseReason {
        let replaced = async {
            if self.seat_open {
                match (&mut self.seat.replaced).await {
                    Ok(()) => return,
                    Err(_) => self.seat_open = false,
                }
            }
            std::future::pending::<()>().await
        };
        let signed_out = async {
            match self.held.as_mut() {
                Some(held) => held.ended().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = replaced => CloseReason::Replaced,
            _ = signed_out => CloseReason::SignedOut,
        }
    }
}

/// What a socket forwards: the session's new entries, and the other member's signals.
struct Feeds {
    entries: broadcast::Receiver<LogEntry>,
    signals: broadcast::Receiver<Relayed>,
}

/// The socket's main loop. Returns how to close.
#[allow(clippy::too_many_arguments)]
async fn serve(
    state: &AppState,
    conn: &mut Conn,
    live: &LiveSession,
    role: Role,
    name: &str,
    feeds: &mut Feeds,
    ends: &mut Ends<'_, '_>,
    sent: &mut Seq,
) -> Outcome {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            frame = conn.socket.recv() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(e)) => return match close_for(e) {
                        Some((code, reason)) => Outcome::Close(code, reason),
                        None => Outcome::Gone,
                    },
                    None => return Outcome::Gone,
                };
                match conn.decode(frame) {
                    Incoming::Message(message) if !live.allow_message(role) => {
                        let detail = format!("{role:?} of session {}", live.id);
                        state.audit.count(AuditKind::Flood, Some(conn.peer.ip()), None, &detail);
                        if !conn.send(&rate_limited(&message)).await {
                            return Outcome::Gone;
                        }
                    }
                    Incoming::Message(message) => {
                        if !handle(state, conn, live, role, name, message).await {
                            return Outcome::Gone;
                        }
                    }
                    Incoming::Refused(error) => {
                        conn.send(&ServerMessage::Error { id: None, error }).await;
                    }
                    Incoming::Close(code, error) => {
                        if let Some(error) = error {
                            conn.send(&ServerMessage::Error { id: None, error }).await;
                        }
                        return Outcome::Close(code, "message too large");
                    }
                    Incoming::PeerClosed => return Outcome::AnswerClose,
                    Incoming::Nothing => {}
                }
            }
            signal = feeds.signals.recv() => match signal {
                Ok(signal) if signal.from != role => {
                    let message = ServerMessage::Signal { link: signal.link, payload: signal.payload.to_string() };
                    if !conn.send(&message).await {
                        return Outcome::Gone;
                    }
                }
                Ok(_) => {}
                // A lost signal is recovered by ICE (or a restart); nothing to replay.
                Err(RecvError::Lagged(n)) => tracing::warn!(lost = n, "a socket fell behind on signals"),
                Err(RecvError::Closed) => return Outcome::Close(close::GOING_AWAY, "shutting down"),
            },
            entry = feeds.entries.recv() => match entry {
                Ok(entry) => {
                    if entry.seq > *sent {
                        *sent = entry.seq;
                        if !conn.send(&ServerMessage::Entry(entry)).await {
                            return Outcome::Gone;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Fell behind the fan-out: read what was missed from the database.
                    match state.hub.entries_after(&live.id, *sent).await {
                        Ok(missed) => {
                            for entry in missed {
                                *sent = entry.seq;
                                if !conn.send(&ServerMessage::Entry(entry)).await {
                                    return Outcome::Gone;
                                }
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not catch a socket up");
                            return Outcome::Close(close::INTERNAL, "storage");
                        }
                    }
                }
                Err(RecvError::Closed) => return Outcome::Close(close::GOING_AWAY, "shutting down"),
            },
            reason = ends.next() => return reason.into(),
            _ = ping.tick() => {
                if conn.last_heard.elapsed() > IDLE_LIMIT {
                    return Outcome::Close(close::POLICY, "idle");
                }
                if conn.socket.send(Message::Ping(Default::default())).await.is_err() {
                    return Outcome::Gone;
                }
            }
            _ = state.shutdown.cancelled() => return Outcome::Close(close::GOING_AWAY, "broker restarting"),
        }
    }
}

/// Handles one message after `hello`. Returns false when the socket is gone.
async fn handle(
    state: &AppState,
    conn: &mut Conn,
    live: &LiveSession,
    role: Role,
    name: &str,
    message: ClientMessage,
) -> bool {
    let reply = match message {
        ClientMessage::Hello { .. } => ServerMessage::Error {
            id: None,
            error: ErrorCode::OutOfOrder,
        },
        ClientMessage::Ping { t } => ServerMessage::Pong { t, now: now_ms() },
        ClientMessage::Signal { link, payload } => {
            if payload.len() > limits::MAX_SIGNAL_BYTES {
                let max_bytes = limits::MAX_SIGNAL_BYTES as u32;
                ServerMessage::Error {
                    id: None,
                    error: ErrorCode::MessageTooLarge { max_bytes },
                }
            } else {
                match state.hub.relay(live, role, link, &payload).await {
                    Ok(()) => return true,
                    Err(v) => ServerMessage::Error {
                        id: None,
                        error: v.into(),
                    },
                }
            }
        }
        ClientMessage::Act { id, action } => {
            let limits = Limits {
                prompt_ms: state.config.prompt_deadline_secs * 1000,
                max_file_bytes: state.config.max_file_bytes,
            };
            let actor = Actor { role, name };
            let decided = |s: &SessionState, at: Millis| decide(s, actor, action, at, limits);
            match state.hub.append_decided(live, decided).await {
                Ok(entries) => {
                    if let Some(EntryKind::TechnicianPickedUp { .. }) =
                        entries.first().map(|e| &e.kind)
                    {
                        close_invitation(state, live).await;
                    }
                    let seq = entries.first().map_or(0, |e| e.seq);
                    ServerMessage::Ack { id, seq }
                }
                Err(e) => {
                    let error = append_error_code(e);
                    if let ErrorCode::LogFull { .. } = error {
                        let detail = format!("session {}", live.id);
                        state
                            .audit
                            .count(AuditKind::LogFull, Some(conn.peer.ip()), None, &detail);
                    }
                    ServerMessage::Error {
                        id: Some(id),
                        error,
                    }
                }
            }
        }
    };
    conn.send(&reply).await
}

/// The technician picked up `live`: nobody else gets in with its PIN or link, and the
/// others who did are told that someone else is being helped.
async fn close_invitation(state: &AppState, live: &LiveSession) {
    let (invitation, picked) = (live.invitation.clone(), live.id.clone());
    let others = match state
        .hub
        .db()
        .call(move |conn| db::close_invitation(conn, &invitation, &picked))
        .await
    {
        Ok(others) => others,
        Err(e) => {
            tracing::error!(error = %e, session = %live.id, "could not close a PIN after the pick-up");
            return;
        }
    };
    for id in others {
        let ended = match state.hub.get(&id).await {
            Ok(Some(other)) => {
                let reason = EndReason::OtherCustomerChosen;
                state
                    .hub
                    .append(&other, Author::System, EntryKind::SessionEnded { reason })
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:?}"))
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = ended {
            tracing::warn!(session = %id, error = %e, "could not end a session whose PIN someone else used");
        }
    }
}

/// Finds the session a `hello` names, and checks the caller may join it.
async fn resolve(
    state: &AppState,
    join: Join,
    technician: Option<&crate::db::TechnicianRow>,
) -> Result<(Arc<LiveSession>, Role, String), ErrorCode> {
    match join {
        Join::Customer { token } => {
            let hash = crate::secrets::token_hash(&token);
            let id = state
                .hub
                .db()
                .call(move |conn| db::session_by_token(conn, &hash))
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::Unauthorized)?;
            let live = state
                .hub
                .get(&id)
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::Unauthorized)?;
            Ok((live, Role::Customer, String::new()))
        }
        Join::Technician { session } => {
            let tech = technician.ok_or(ErrorCode::Unauthorized)?;
            let live = state
                .hub
                .get(&session)
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::NotFound)?;
            if live.technician_id != tech.id {
                return Err(ErrorCode::Forbidden);
            }
            Ok((live, Role::Technician, tech.display_name.clone()))
        }
    }
}
