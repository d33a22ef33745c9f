//! The session socket (`/api/ws`): one per participant. It starts with `hello`, then
//! carries the log both ways: entries out (stored ones first, then live ones, each
//! once), actions in (each acknowledged after its entry is stored, or refused with a
//! typed error).
//!
//! What an action appends is the session's task's and the rules' to say
//! ([`LiveSession::act`]); this module reads and writes the socket ([`Pump`]), counts
//! its messages, and forwards the session's entries and signals.
//!
//! One socket per member per session (the customer; each technician in it, by account):
//! a newer one takes the seat and the older closes with [`CloseReason::Replaced`]. A
//! technician's socket closes with [`CloseReason::SignedOut`] within a second of the
//! sign-in ending, and with [`CloseReason::HandedOver`] when their place in the session
//! changes (they handed it over, it was handed to them, they left). Signals go between
//! the customer and the technician who has the session only: a colleague who joined
//! reads the log and chats.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::AuditKind;
use connectit_protocol::wire::{ClientMessage, CloseReason, Join, ServerMessage, SignalBody};
use connectit_protocol::{limits, EntryKind, ErrorCode, LogEntry, Role, RuleViolation, Seq};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth;
use crate::db::SignedIn;
use crate::error::{append_error_code, AppError};
use crate::hub::{now_ms, LiveSession, Located, Relayed, Seat, SeatEnd, SeatKey};
use crate::pump::{close, Ending, Heard, Pump};
use crate::AppState;

/// How long a socket may stay silent before `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
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
const READ_BUFFER: usize = 4 * 1024;

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
    // What a socket that goes on to another broker must say there (kept only in the
    // scale-out mode: each socket holds it for its whole life).
    let handshake = state.hub.cluster().map(|_| {
        let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = crate::config::client_ip(&state.config.trusted_proxies, peer.ip(), forwarded);
        Box::new(crate::forward::Handshake::from_headers(&headers, client))
    });
    limited(upgrade).on_upgrade(move |socket| async move {
        let _open = state.shutdown.socket_opened();
        let mut conn = Conn {
            pump: Pump::new(socket),
            peer,
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        let ending = run(&state, &mut conn, technician, handshake.as_deref()).await;
        conn.pump.end(ending).await;
        tracing::debug!(%peer, "session socket closed");
    })
}

/// One socket and its limits before `hello`.
struct Conn {
    pump: Pump<WebSocket>,
    /// Who is at the other end (for the security log).
    peer: SocketAddr,
    /// Rate-limit bucket before `hello`.
    tokens: f64,
    refilled: Instant,
}

/// What one message from the peer turned out to be.
enum Incoming {
    Message(ClientMessage),
    /// A refused message: answered with this error, the socket stays open.
    Refused(ErrorCode),
    /// The socket must end (after the error, if any, is sent).
    End(Ending, Option<ErrorCode>),
}

impl Conn {
    /// The next message, its size and JSON checked.
    async fn next(&mut self) -> Incoming {
        let text = match self.pump.next().await {
            Heard::Text(text) => text,
            Heard::Binary => return Incoming::Refused(ErrorCode::MalformedMessage),
            Heard::End(ending) => return Incoming::End(ending, None),
        };
        if text.len() > limits::MAX_MESSAGE_BYTES {
            let error = ErrorCode::MessageTooLarge {
                max_bytes: limits::MAX_MESSAGE_BYTES as u32,
            };
            let ending = Ending::Close(close::TOO_BIG, "message too large");
            return Incoming::End(ending, Some(error));
        }
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(m) => Incoming::Message(m),
            Err(_) => Incoming::Refused(ErrorCode::MalformedMessage),
        }
    }

    async fn send(&mut self, message: &ServerMessage) -> bool {
        self.pump.send(message).await
    }

    async fn refuse(&mut self, id: Option<u32>, error: ErrorCode) -> bool {
        self.send(&ServerMessage::Error { id, error }).await
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
        ClientMessage::Signal { id, .. } => *id,
        _ => None,
    };
    ServerMessage::Error {
        id,
        error: ErrorCode::RateLimited {
            retry_after_secs: 1,
        },
    }
}

/// Where a socket's session runs, in the scale-out mode.
async fn route(
    state: &AppState,
    join: &Join,
) -> Option<Result<(connectit_protocol::SessionId, Located), crate::db::DbError>> {
    let id = route_id(state, join).await?;
    Some(state.hub.locate(&id).await.map(|located| (id, located)))
}

/// In the scale-out mode, a socket whose session another broker runs goes on to it
/// ([`crate::forward`]); `None` when it is served here.
async fn forward_if_elsewhere(
    state: &AppState,
    conn: &mut Conn,
    handshake: &crate::forward::Handshake,
    join: &Join,
    after: Seq,
) -> Option<Ending> {
    let cluster = state.hub.cluster()?;
    let (id, broker, address) = match route(state, join).await? {
        Ok((id, Located::Elsewhere { broker, address })) => (id, broker, address),
        Ok(_) => return None,
        Err(e) => {
            // Nobody can say where the session runs (Redis does not answer): refused,
            // typed, rather than guessed.
            tracing::warn!(error = %e, "cannot place a session socket");
            conn.refuse(None, ErrorCode::StorageUnavailable).await;
            return Some(Ending::Close(close::INTERNAL, "storage"));
        }
    };
    let hello = serde_json::to_string(&ClientMessage::Hello {
        join: join.clone(),
        after,
    })
    .ok()?;
    match crate::forward::connect(&address, handshake, &hello).await {
        Ok(upstream) => {
            Some(crate::forward::relay(&mut conn.pump, upstream, state.shutdown.cancelled()).await)
        }
        Err(e) => {
            tracing::warn!(%broker, error = %e.0, "the broker running a session does not answer");
            match cluster.take_over(&id, &broker).await {
                // Served here from now on.
                Ok(crate::cluster::Owner::Here) => None,
                _ => Some(Ending::Close(close::RESTART, "reconnect")),
            }
        }
    }
}

/// The session a `hello` names.
async fn route_id(state: &AppState, join: &Join) -> Option<connectit_protocol::SessionId> {
    match join {
        Join::Customer { token } => {
            let hash = crate::secrets::token_hash(token);
            state
                .db
                .call(move |conn| crate::db::session_by_token(conn, &hash))
                .await
                .ok()?
        }
        Join::Technician { session } => Some(session.clone()),
    }
}

/// Serves one socket; answers how it ends.
async fn run(
    state: &AppState,
    conn: &mut Conn,
    signed_in: Option<SignedIn>,
    handshake: Option<&crate::forward::Handshake>,
) -> Ending {
    // 1. hello
    let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
    let (join, after) = loop {
        let incoming = tokio::select! {
            incoming = tokio::time::timeout_at(deadline, conn.next()) => match incoming {
                Ok(incoming) => incoming,
                Err(_) => return Ending::Close(close::POLICY, "hello expected"),
            },
            _ = state.shutdown.cancelled() => return Ending::Close(close::RESTART, "broker restarting"),
        };
        let message = match incoming {
            Incoming::Message(message) if !conn.allow_before_hello() => {
                conn.send(&rate_limited(&message)).await;
                continue;
            }
            Incoming::Message(message) => message,
            Incoming::Refused(error) => {
                conn.refuse(None, error).await;
                continue;
            }
            Incoming::End(ending, error) => {
                if let Some(error) = error {
                    conn.refuse(None, error).await;
                }
                return ending;
            }
        };
        match message {
            ClientMessage::Hello { join, after } => break (join, after),
            ClientMessage::Ping { t } => {
                conn.send(&ServerMessage::Pong { t, now: now_ms() }).await;
            }
            ClientMessage::Act { id, .. } => {
                conn.refuse(Some(id), ErrorCode::OutOfOrder).await;
            }
            ClientMessage::Signal { id, .. } => {
                conn.refuse(id, ErrorCode::OutOfOrder).await;
            }
        }
    };

    // 2. where does its session run?
    // Boxed: only a forwarded socket carries the forwarding's state.
    if let Some(handshake) = handshake {
        let forwarding = forward_if_elsewhere(state, conn, handshake, &join, after);
        if let Some(ending) = Box::pin(forwarding).await {
            return ending;
        }
    }

    // 3. who is this?
    let technician = signed_in.as_ref().map(|s| &s.technician);
    let (live, role, name, technician_id) = match auth::admit(state, join, technician).await {
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
            conn.refuse(None, error).await;
            return Ending::Close(close::POLICY, "not allowed");
        }
    };

    // 4. the log so far, then live.
    let signals = live.watch_signals();
    let (backlog, rx, last) = match state.hub.subscribe(&live, after).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not read a session log");
            conn.refuse(None, ErrorCode::StorageUnavailable).await;
            return Ending::Close(close::INTERNAL, "storage");
        }
    };
    if !conn
        .send(&ServerMessage::Welcome {
            session: live.id.clone(),
            role,
            now: now_ms(),
            ice_servers: crate::ice::servers_for(&state.config, &live.id, now_ms() / 1000),
            ice_transport_policy: state.config.ice_transport_policy,
            check_code: live.check_code().await,
            last_seq: last.max(after),
        })
        .await
    {
        return Ending::Gone;
    }
    let mut sent: Seq = after;
    for entry in backlog {
        sent = entry.seq;
        if !conn.send(&ServerMessage::Entry(entry)).await {
            return Ending::Gone;
        }
    }
    let key = match technician_id {
        Some(id) => SeatKey::Technician(id),
        None => SeatKey::Customer,
    };
    if let Err(e) = live.connected(key).await {
        tracing::warn!(error = ?e, "could not log a reconnection");
    }
    // Counted present before the socket it replaces goes, so the handover logs no drop.
    let mut seat = live.take_seat(key);
    let mut held = signed_in
        .as_ref()
        .map(|s| state.sign_ins.hold(&s.token_hash));

    // A customer in a team's queue hears their place in it as it moves.
    let queue = match (role, live.team_id) {
        (Role::Customer, Some(team)) => Some(QueueWatch {
            team,
            changes: state.hub.queues().watch(),
            told: None,
        }),
        _ => None,
    };
    let mut member = Member {
        live: &live,
        role,
        technician_id,
        name: &name,
        entries: rx,
        signals,
        sent,
        queue,
    };
    if !tell_place(state, conn, &mut member).await {
        return Ending::Gone;
    }
    let mut ends = Ends {
        seat: &mut seat,
        seat_open: true,
        held: held.as_mut(),
    };
    let ending = serve(state, conn, &mut member, &mut ends).await;
    live.leave_seat(&seat);
    if let Err(e) = live.disconnected(key).await {
        tracing::warn!(error = ?e, "could not log a disconnection");
    }
    ending
}

/// What ends a socket from outside: a newer socket for its member, a change of its
/// technician's place in the session, the end of their sign-in.
struct Ends<'a, 'b> {
    seat: &'a mut Seat,
    /// False once the seat's channel closed without a replacement (nothing to wait for).
    seat_open: bool,
    held: Option<&'a mut auth::HeldSignIn<'b>>,
}

impl Ends<'_, '_> {
    /// Completes with the reason the socket must close.
    async fn next(&mut self) -> SeatEnd {
        let closed = async {
            if self.seat_open {
                match (&mut self.seat.closed).await {
                    Ok(reason) => return reason,
                    Err(_) => self.seat_open = false,
                }
            }
            std::future::pending::<SeatEnd>().await
        };
        let signed_out = async {
            match self.held.as_mut() {
                Some(held) => held.ended().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            reason = closed => reason,
            _ = signed_out => SeatEnd::Reason(CloseReason::SignedOut),
        }
    }
}

/// A member in a session: who, and what the socket forwards to them (the session's
/// new entries, and the other member's signals).
struct Member<'a> {
    live: &'a LiveSession,
    role: Role,
    /// A technician's account.
    technician_id: Option<i64>,
    name: &'a str,
    entries: broadcast::Receiver<LogEntry>,
    signals: broadcast::Receiver<Relayed>,
    /// The last entry sent.
    sent: Seq,
    /// For a customer in a team's queue: the queue's news.
    queue: Option<QueueWatch>,
}

impl Member<'_> {
    /// Whether this member is one end of the session's media: the customer, or the
    /// technician who has the session (not a colleague who joined).
    fn in_charge(&self) -> bool {
        match self.technician_id {
            Some(id) => self.live.owner() == Some(id),
            None => true,
        }
    }
}

/// A waiting customer's view of their team's queue.
struct QueueWatch {
    team: i64,
    changes: broadcast::Receiver<i64>,
    /// The place last told (position, waiting, estimate).
    told: Option<(u32, u32, Option<u64>)>,
}

/// The next change of the member's team's queue (never, for anyone else).
async fn queue_moved(queue: &mut Option<QueueWatch>) {
    let Some(watch) = queue else {
        return std::future::pending().await;
    };
    loop {
        match watch.changes.recv().await {
            Ok(team) if team == watch.team => return,
            Ok(_) => {}
            // Missed some: read the place again anyway.
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => return std::future::pending().await,
        }
    }
}

/// Tells a waiting customer their place, if it changed. False when the socket is gone.
async fn tell_place(state: &AppState, conn: &mut Conn, member: &mut Member<'_>) -> bool {
    let Some(watch) = member.queue.as_mut() else {
        return true;
    };
    let queues = state.hub.queues();
    let Some((position, waiting)) = queues.position(watch.team, &member.live.id) else {
        return true;
    };
    let estimate = queues.estimate_secs(watch.team, position, now_ms());
    let place = (position, waiting, estimate);
    if watch.told == Some(place) {
        return true;
    }
    watch.told = Some(place);
    conn.send(&ServerMessage::Queue {
        position,
        waiting,
        estimated_wait_secs: estimate,
    })
    .await
}

fn closing(end: SeatEnd) -> Ending {
    match end {
        SeatEnd::Reason(reason) => Ending::Close(reason.code(), reason.text()),
        SeatEnd::Reconnect => Ending::Close(close::RESTART, "reconnect"),
    }
}

/// The socket's main loop. Returns how to end.
async fn serve(
    state: &AppState,
    conn: &mut Conn,
    member: &mut Member<'_>,
    ends: &mut Ends<'_, '_>,
) -> Ending {
    loop {
        tokio::select! {
            incoming = conn.next() => match incoming {
                Incoming::Message(message) if !member.live.allow_message(member.role) => {
                    let detail = format!("{:?} of session {}", member.role, member.live.id);
                    state.audit.count(AuditKind::Flood, Some(conn.peer.ip()), None, &detail);
                    if !conn.send(&rate_limited(&message)).await {
                        return Ending::Gone;
                    }
                }
                Incoming::Message(message) => {
                    // Boxed, so each socket's task is not as large as handling its
                    // largest message.
                    if !Box::pin(handle(state, conn, member, message)).await {
                        return Ending::Gone;
                    }
                }
                Incoming::Refused(error) => {
                    conn.refuse(None, error).await;
                }
                Incoming::End(ending, error) => {
                    if let Some(error) = error {
                        conn.refuse(None, error).await;
                    }
                    return ending;
                }
            },
            signal = member.signals.recv() => match signal {
                Ok(signal) if signal.from != member.role && member.in_charge() => {
                    let message = ServerMessage::Signal { link: signal.link, payload: signal.payload.to_string() };
                    if !conn.send(&message).await {
                        return Ending::Gone;
                    }
                }
                Ok(_) => {}
                // A lost signal is recovered by ICE (or a restart); nothing to replay.
                Err(RecvError::Lagged(n)) => tracing::warn!(lost = n, "a socket fell behind on signals"),
                Err(RecvError::Closed) => return Ending::Close(close::GOING_AWAY, "shutting down"),
            },
            entry = member.entries.recv() => match entry {
                Ok(entry) => {
                    if entry.seq > member.sent {
                        member.sent = entry.seq;
                        if !conn.send(&ServerMessage::Entry(entry)).await {
                            return Ending::Gone;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Fell behind the fan-out: read what was missed from storage.
                    match state.hub.entries_after(&member.live.id, member.sent).await {
                        Ok(missed) => {
                            for entry in missed {
                                member.sent = entry.seq;
                                if !conn.send(&ServerMessage::Entry(entry)).await {
                                    return Ending::Gone;
                                }
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not catch a socket up");
                            return Ending::Close(close::INTERNAL, "storage");
                        }
                    }
                }
                Err(RecvError::Closed) => return Ending::Close(close::GOING_AWAY, "shutting down"),
            },
            () = queue_moved(&mut member.queue) => {
                if !tell_place(state, conn, member).await {
                    return Ending::Gone;
                }
            }
            reason = ends.next() => return closing(reason),
            _ = state.shutdown.cancelled() => return Ending::Close(close::RESTART, "broker restarting"),
        }
    }
}

/// Handles one message after `hello`. Returns false when the socket is gone.
async fn handle(
    state: &AppState,
    conn: &mut Conn,
    member: &Member<'_>,
    message: ClientMessage,
) -> bool {
    let live = member.live;
    let reply = match message {
        ClientMessage::Hello { .. } => ServerMessage::Error {
            id: None,
            error: ErrorCode::OutOfOrder,
        },
        ClientMessage::Ping { t } => ServerMessage::Pong { t, now: now_ms() },
        ClientMessage::Signal { link, payload, id } => {
            if payload.len() > limits::MAX_SIGNAL_BYTES {
                let max_bytes = limits::MAX_SIGNAL_BYTES as u32;
                ServerMessage::Error {
                    id,
                    error: ErrorCode::MessageTooLarge { max_bytes },
                }
            } else if serde_json::from_str::<SignalBody>(&payload).is_err() {
                // The other member could not read it: refused here, not lost there.
                ServerMessage::Error {
                    id,
                    error: ErrorCode::MalformedMessage,
                }
            } else if !member.in_charge() {
                ServerMessage::Error {
                    id,
                    error: RuleViolation::NotInCharge.into(),
                }
            } else {
                match live.relay(member.role, link, &payload).await {
                    Ok(()) => {
                        state.metrics.relayed(payload.len());
                        return true;
                    }
                    Err(v) => ServerMessage::Error {
                        id,
                        error: v.into(),
                    },
                }
            }
        }
        ClientMessage::Act { id, action } => match live
            .act(member.role, member.technician_id, member.name, action)
            .await
        {
            Ok(entries) => {
                if let Some(EntryKind::TechnicianPickedUp { .. }) = entries.first().map(|e| &e.kind)
                {
                    crate::api::close_invitation(state, live).await;
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
        },
    };
    conn.send(&reply).await
}
