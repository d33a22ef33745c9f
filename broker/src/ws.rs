//! The session socket (`/api/ws`): one per participant. It starts with `hello`, then
//! carries the log both ways: entries out (stored ones first, then live ones, each
//! once), actions in (each acknowledged after its entry is stored, or refused with a
//! typed error).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::reducer::file_permission;
use connectit_protocol::wire::{Action, ClientMessage, Join, ServerMessage};
use connectit_protocol::{
    limits, Author, EndReason, EntryKind, ErrorCode, FileFailure, LogEntry, Millis, Permission,
    Role, RuleViolation, Seq, SessionState,
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth;
use crate::db::{self, TechnicianRow};
use crate::error::AppError;
use crate::hub::{now_ms, AppendError, LiveSession, Relayed};
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
/// Messages per second a socket may send on average, and in a burst.
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
pub fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
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
            tracing::warn!(origin = ?origin, "WebSocket handshake from a foreign origin refused");
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
    if let Err(e) = check_origin(&state, &headers) {
        return e.into_response();
    }
    // The cookie is read at the handshake: a technician's socket needs it.
    let technician = match auth::technician_from_headers(&state, &headers).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    limited(upgrade).on_upgrade(move |socket| async move {
        let _open = state.shutdown.socket_opened();
        let mut conn = Conn {
            socket,
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
    /// When the peer last sent anything (messages and pongs).
    pub last_heard: Instant,
    /// Rate-limit bucket.
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

    /// Interprets one frame: size, rate and JSON are checked here.
    pub fn decode(&mut self, frame: Message) -> Incoming {
        self.last_heard = Instant::now();
        let text = match frame {
            Message::Text(t) => t,
            Message::Binary(_) => return Incoming::Refused(ErrorCode::MalformedMessage),
            Message::Close(_) => return Incoming::Close(close::NORMAL, None),
            Message::Ping(_) | Message::Pong(_) => return Incoming::Nothing,
        };
        if text.len() > limits::MAX_MESSAGE_BYTES {
            let error = ErrorCode::MessageTooLarge {
                max_bytes: limits::MAX_MESSAGE_BYTES as u32,
            };
            return Incoming::Close(close::TOO_BIG, Some(error));
        }
        let now = Instant::now();
        self.tokens = (self.tokens
            + now.duration_since(self.refilled).as_secs_f64() * RATE_PER_SEC)
            .min(RATE_BURST);
        self.refilled = now;
        if self.tokens < 1.0 {
            return Incoming::Refused(ErrorCode::RateLimited {
                retry_after_secs: 1,
            });
        }
        self.tokens -= 1.0;
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(m) => Incoming::Message(m),
            Err(_) => Incoming::Refused(ErrorCode::MalformedMessage),
        }
    }
}

async fn run(state: &AppState, conn: &mut Conn, technician: Option<TechnicianRow>) {
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
        match conn.decode(frame) {
            Incoming::Message(ClientMessage::Hello { join, after }) => break (join, after),
            Incoming::Message(ClientMessage::Ping { t }) => {
                conn.send(&ServerMessage::Pong { t, now: now_ms() }).await;
            }
            Incoming::Message(ClientMessage::Act { id, .. }) => {
                conn.send(&ServerMessage::Error {
                    id: Some(id),
                    error: ErrorCode::OutOfOrder,
                })
                .await;
            }
            Incoming::Message(ClientMessage::Signal { .. }) => {
                conn.send(&ServerMessage::Error {
                    id: None,
                    error: ErrorCode::OutOfOrder,
                })
                .await;
            }
            Incoming::Refused(error) => {
                conn.send(&ServerMessage::Error { id: None, error }).await;
            }
            Incoming::Close(code, error) => {
                if let Some(error) = error {
                    conn.send(&ServerMessage::Error { id: None, error }).await;
                }
                return conn.close(code, "").await;
            }
            Incoming::Nothing => {}
        }
    };

    // 2. who is this?
    let (live, role, name) = match resolve(state, join, technician).await {
        Ok(found) => found,
        Err(error) => {
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

    let mut feeds = Feeds {
        entries: rx,
        signals,
    };
    let outcome = serve(state, conn, &live, role, &name, &mut feeds, &mut sent).await;
    if let Err(e) = state.hub.disconnected(&live, role).await {
        tracing::warn!(error = ?e, "could not log a disconnection");
    }
    if let Some((code, reason)) = outcome {
        conn.close(code, reason).await;
    }
}

/// What a socket forwards: the session's new entries, and the other member's signals.
struct Feeds {
    entries: broadcast::Receiver<LogEntry>,
    signals: broadcast::Receiver<Relayed>,
}

/// The socket's main loop. Returns the close to send, if any.
async fn serve(
    state: &AppState,
    conn: &mut Conn,
    live: &LiveSession,
    role: Role,
    name: &str,
    feeds: &mut Feeds,
    sent: &mut Seq,
) -> Option<(u16, &'static str)> {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            frame = conn.socket.recv() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(e)) => return close_for(e),
                    None => return None,
                };
                match conn.decode(frame) {
                    Incoming::Message(message) => {
                        if !handle(state, conn, live, role, name, message).await {
                            return None;
                        }
                    }
                    Incoming::Refused(error) => {
                        conn.send(&ServerMessage::Error { id: None, error }).await;
                    }
                    Incoming::Close(code, error) => {
                        if let Some(error) = error {
                            conn.send(&ServerMessage::Error { id: None, error }).await;
                        }
                        return Some((code, "message too large"));
                    }
                    Incoming::Nothing => {}
                }
            }
            signal = feeds.signals.recv() => match signal {
                Ok(signal) if signal.from != role => {
                    let message = ServerMessage::Signal { link: signal.link, payload: signal.payload.to_string() };
                    if !conn.send(&message).await {
                        return None;
                    }
                }
                Ok(_) => {}
                // A lost signal is recovered by ICE (or a restart); nothing to replay.
                Err(RecvError::Lagged(n)) => tracing::warn!(lost = n, "a socket fell behind on signals"),
                Err(RecvError::Closed) => return Some((close::GOING_AWAY, "shutting down")),
            },
            entry = feeds.entries.recv() => match entry {
                Ok(entry) => {
                    if entry.seq > *sent {
                        *sent = entry.seq;
                        if !conn.send(&ServerMessage::Entry(entry)).await {
                            return None;
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
                                    return None;
                                }
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not catch a socket up");
                            return Some((close::INTERNAL, "storage"));
                        }
                    }
                }
                Err(RecvError::Closed) => return Some((close::GOING_AWAY, "shutting down")),
            },
            _ = ping.tick() => {
                if conn.last_heard.elapsed() > IDLE_LIMIT {
                    return Some((close::POLICY, "idle"));
                }
                if conn.socket.send(Message::Ping(Default::default())).await.is_err() {
                    return None;
                }
            }
            _ = state.shutdown.cancelled() => return Some((close::GOING_AWAY, "broker restarting")),
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
            let limits = Limits::of(&state.config);
            let build = |s: &SessionState, at: Millis| entry_for(action, role, name, s, at, limits);
            match state.hub.append_with(live, Author::from(role), build).await {
                Ok(entry) => {
                    follow_up(state, live, &entry).await;
                    ServerMessage::Ack { id, seq: entry.seq }
                }
                Err(AppendError::Rule(v)) => ServerMessage::Error {
                    id: Some(id),
                    error: v.into(),
                },
                Err(AppendError::Storage(e)) => {
                    tracing::error!(error = %e, "could not store an entry");
                    ServerMessage::Error {
                        id: Some(id),
                        error: ErrorCode::StorageUnavailable,
                    }
                }
            }
        }
    };
    conn.send(&reply).await
}

/// What the broker's configuration adds to the rules.
#[derive(Clone, Copy)]
struct Limits {
    /// How long a permission prompt runs, and how much more time adds.
    prompt_ms: u64,
    /// The largest file either side may offer.
    max_file_bytes: u64,
}

impl Limits {
    fn of(config: &crate::config::Config) -> Self {
        Limits {
            prompt_ms: config.prompt_deadline_secs * 1000,
            max_file_bytes: config.max_file_bytes,
        }
    }
}

/// What the broker logs as a consequence of an entry: the applet offer when remote
/// control is asked for, and the end of every transfer a revocation stops.
async fn follow_up(state: &AppState, live: &LiveSession, entry: &LogEntry) {
    let consequences: Vec<EntryKind> = match &entry.kind {
        EntryKind::PermissionRequested {
            request,
            permissions,
            ..
        } if permissions.contains(&Permission::RemoteControl) => {
            // The prompt shows the native applet's link: the log says so.
            vec![EntryKind::AppletOffered { request: *request }]
        }
        EntryKind::PermissionsRevoked { .. } => {
            let now = state.hub.state(live).await;
            now.files
                .iter()
                .filter(|t| t.status.in_flight() && !now.has(file_permission(t.from)))
                .map(|t| EntryKind::FileFailed {
                    file: t.file,
                    reason: FileFailure::Revoked,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    for kind in consequences {
        if let Err(e) = state.hub.append(live, Author::System, kind).await {
            tracing::warn!(error = ?e, "could not log a consequence");
        }
    }
}

/// The log entry an action asks for, given the session's state and the entry's time
/// (a request gets the next id and a deadline; more time extends the pending one; a
/// file gets the next id if it is within the size limit).
fn entry_for(
    action: Action,
    role: Role,
    name: &str,
    state: &SessionState,
    at: Millis,
    limits: Limits,
) -> Result<EntryKind, RuleViolation> {
    let prompt_ms = limits.prompt_ms;
    Ok(match action {
        Action::AcceptTerms => EntryKind::TermsAccepted,
        Action::DeclineTerms => EntryKind::TermsDeclined,
        Action::PickUp => EntryKind::TechnicianPickedUp {
            name: name.to_string(),
        },
        Action::Chat { text } => EntryKind::Chat { text },
        Action::End => EntryKind::SessionEnded {
            reason: match role {
                Role::Customer => EndReason::CustomerEnded,
                Role::Technician => EndReason::TechnicianEnded,
            },
        },
        Action::RequestPermissions {
            permissions,
            reason,
        } => EntryKind::PermissionRequested {
            request: state.requests + 1,
            permissions,
            reason,
            deadline: at + prompt_ms,
        },
        Action::Grant {
            request,
            permissions,
        } => EntryKind::PermissionGranted {
            request,
            granted: permissions,
        },
        Action::Deny { request } => EntryKind::PermissionDenied { request },
        Action::MoreTime { request } => {
            let pending = state
                .pending
                .as_ref()
                .filter(|p| p.request == request)
                .ok_or(RuleViolation::NoSuchRequest)?;
            EntryKind::PermissionExtended {
                request,
                deadline: pending.deadline + prompt_ms,
            }
        }
        Action::Revoke { permissions } => EntryKind::PermissionsRevoked { permissions },
        Action::Media { media, change } => EntryKind::Media { media, change },
        Action::PeerRestarted { media } => EntryKind::PeerRestarted { media },
        Action::OfferFile { name, size } => {
            if size > limits.max_file_bytes {
                return Err(RuleViolation::FileTooLarge {
                    max_bytes: limits.max_file_bytes,
                });
            }
            EntryKind::FileOffered {
                file: state.files.len() as u32 + 1,
                name,
                size,
            }
        }
        Action::AcceptFile { file } => EntryKind::FileAccepted { file },
        Action::RefuseFile { file } => EntryKind::FileRefused { file },
        Action::FileSent { file, sha256 } => EntryKind::FileSent { file, sha256 },
        Action::FileDelivered { file, sha256 } => EntryKind::FileDelivered { file, sha256 },
        Action::FileFailed { file, reason } => EntryKind::FileFailed { file, reason },
        Action::ShareSystemInfo { items } => EntryKind::SystemInfoShared { items },
    })
}

/// Finds the session a `hello` names, and checks the caller may join it.
async fn resolve(
    state: &AppState,
    join: Join,
    technician: Option<TechnicianRow>,
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
            Ok((live, Role::Technician, tech.display_name))
        }
    }
}
