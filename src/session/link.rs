//! The session socket's protocol: `hello` with the last sequence number held, entries
//! delivered exactly once and in order (duplicates dropped, a gap answered by
//! reconnecting from the last one held), actions with ids, and a `ping` every 20 s to
//! measure the broker's clock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use connectit_protocol::wire::{CloseReason, Join, SignalBody};
use connectit_protocol::{
    Action, ClientMessage, ErrorCode, IceConfig, Link, LogEntry, Role, Seq, ServerMessage,
};
use gloo_timers::callback::Interval;
use yew::Callback;

use crate::clock;
use crate::socket::{NotConnected, Socket, SocketEvent};

/// How often to ping, in milliseconds.
pub const PING_EVERY_MS: u32 = 20_000;

/// The state of the connection, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkStatus {
    /// First connection, not welcomed yet.
    #[default]
    Connecting,
    /// Welcomed: entries and actions flow.
    Online,
    /// Lost; a new attempt is coming.
    Reconnecting,
    /// Down for good (the session is over, or the broker refused us).
    Closed,
}

/// What the link reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    Status(LinkStatus),
    /// The broker accepted us in this role.
    Welcome {
        role: Role,
        ice: IceConfig,
        /// The code the customer reads out to the technician, once someone joined.
        check_code: Option<String>,
        /// The broker's last entry then (0 from a broker that does not say).
        last_seq: Seq,
    },
    /// A WebRTC signal from the other member (a payload that does not parse is dropped).
    Signal {
        link: Link,
        body: SignalBody,
    },
    /// The next entry of the log (never a duplicate, never out of order).
    Entry(LogEntry),
    /// Action `id` was stored as entry `seq`.
    Ack {
        id: u32,
        seq: Seq,
    },
    /// Action `id` (or, without an id, the last message) was refused.
    Refused {
        id: Option<u32>,
        error: ErrorCode,
    },
    /// The connection dropped before these actions were answered.
    Lost {
        ids: Vec<u32>,
    },
    /// The broker will not let us in (token no longer valid, not our session).
    Fatal(ErrorCode),
    /// The broker closed the socket for good: signed out, or opened elsewhere.
    Ended(CloseReason),
    /// The customer's place in their team's queue.
    Queue(QueuePlace),
}

/// A waiting customer's place in their team's queue, as the broker last told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePlace {
    /// 1: next.
    pub position: u32,
    pub waiting: u32,
    pub estimated_wait_secs: Option<u64>,
}

/// State shared by the socket's listener and the owner.
struct Shared {
    join: Join,
    /// The last entry delivered (the `after` of the next `hello`).
    last_seq: Cell<Seq>,
    next_id: Cell<u32>,
    /// Actions sent and not yet answered.
    outstanding: RefCell<Vec<u32>>,
    on_event: Callback<LinkEvent>,
}

/// One participant's live connection to one session. Dropping it closes the socket and
/// stops the pings.
pub struct SessionLink {
    socket: Socket,
    shared: Rc<Shared>,
    _ping: Interval,
}

impl SessionLink {
    /// Connects to `url` as `join`, asking for the entries after `after`.
    pub fn open(url: String, join: Join, after: Seq, on_event: Callback<LinkEvent>) -> Self {
        let shared = Rc::new(Shared {
            join,
            last_seq: Cell::new(after),
            next_id: Cell::new(1),
            outstanding: RefCell::new(Vec::new()),
            on_event,
        });
        let listener = {
            let shared = shared.clone();
            Rc::new(move |socket: &Socket, event: SocketEvent| handle(&shared, socket, event))
        };
        let socket = Socket::open(url, listener);
        let weak = socket.downgrade();
        let ping = Interval::new(PING_EVERY_MS, move || {
            if let Some(socket) = weak.upgrade() {
                send_ping(&socket);
            }
        });
        SessionLink {
            socket,
            shared,
            _ping: ping,
        }
    }

    /// Sends an action; its id comes back in an `Ack` or `Refused` event.
    pub fn act(&self, action: Action) -> Result<u32, NotConnected> {
        let id = self.shared.next_id.get();
        let text =
            serde_json::to_string(&ClientMessage::Act { id, action }).map_err(|_| NotConnected)?;
        self.socket.send(&text)?;
        self.shared.next_id.set(id.wrapping_add(1));
        self.shared.outstanding.borrow_mut().push(id);
        Ok(id)
    }

    /// Sends a WebRTC signal for the other member's peer connection of `link`, with an
    /// id of its own (a refusal names it).
    pub fn signal(&self, link: Link, body: &SignalBody) -> Result<(), NotConnected> {
        let payload = serde_json::to_string(body).map_err(|_| NotConnected)?;
        let id = self.shared.next_id.get();
        send(
            &self.socket,
            &ClientMessage::Signal {
                link,
                payload,
                id: Some(id),
            },
        )?;
        self.shared.next_id.set(id.wrapping_add(1));
        Ok(())
    }

    /// Loads the whole log again: reconnects at once and asks for every entry (the
    /// page's fold disagreed with one).
    pub fn reload(&self) {
        self.shared.last_seq.set(0);
        self.socket.restart();
    }

    /// The page is put away (navigated from): the socket closes, so the broker logs the
    /// member gone, until [`SessionLink::resume`].
    pub fn suspend(&self) {
        self.socket.suspend();
    }

    /// The page is shown again from the browser's page cache: back, and caught up.
    pub fn resume(&self) {
        self.socket.resume();
    }

    /// The session is over: do not reconnect once the broker closes the socket.
    pub fn finish(&self) {
        self.socket.stop_reconnecting();
    }
}

fn send(socket: &Socket, message: &ClientMessage) -> Result<(), NotConnected> {
    let text = serde_json::to_string(message).map_err(|_| NotConnected)?;
    socket.send(&text)
}

fn send_ping(socket: &Socket) {
    let t = clock::local_now() as u64;
    let _ = send(socket, &ClientMessage::Ping { t });
}

fn handle(shared: &Shared, socket: &Socket, event: SocketEvent) {
    let emit = |event: LinkEvent| shared.on_event.emit(event);
    match event {
        SocketEvent::Opened => {
            let hello = ClientMessage::Hello {
                join: shared.join.clone(),
                after: shared.last_seq.get(),
            };
            // If this fails the socket is closing already; the retry says hello again.
            let _ = send(socket, &hello);
        }
        SocketEvent::Ended(reason) => {
            let ids = std::mem::take(&mut *shared.outstanding.borrow_mut());
            if !ids.is_empty() {
                emit(LinkEvent::Lost { ids });
            }
            emit(LinkEvent::Status(LinkStatus::Closed));
            emit(LinkEvent::Ended(reason));
        }
        SocketEvent::Dropped { retrying } => {
            let ids = std::mem::take(&mut *shared.outstanding.borrow_mut());
            if !ids.is_empty() {
                emit(LinkEvent::Lost { ids });
            }
            emit(LinkEvent::Status(if retrying {
                LinkStatus::Reconnecting
            } else {
                LinkStatus::Closed
            }));
        }
        SocketEvent::Text(text) => {
            // A message this version does not understand is skipped, not fatal.
            let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                return;
            };
            match message {
                ServerMessage::Welcome {
                    role,
                    now,
                    ice_servers,
                    ice_transport_policy,
                    check_code,
                    last_seq,
                    ..
                } => {
                    clock::rough_sample(now);
                    socket.healthy();
                    send_ping(socket);
                    emit(LinkEvent::Status(LinkStatus::Online));
                    emit(LinkEvent::Welcome {
                        role,
                        ice: IceConfig {
                            servers: ice_servers,
                            policy: ice_transport_policy,
                        },
                        check_code,
                        last_seq,
                    });
                }
                ServerMessage::Queue {
                    position,
                    waiting,
                    estimated_wait_secs,
                } => emit(LinkEvent::Queue(QueuePlace {
                    position,
                    waiting,
                    estimated_wait_secs,
                })),
                ServerMessage::Signal { link, payload } => {
                    if let Ok(body) = serde_json::from_str::<SignalBody>(&payload) {
                        emit(LinkEvent::Signal { link, body });
                    }
                }
                ServerMessage::Entry(entry) => {
                    let last = shared.last_seq.get();
                    if entry.seq <= last {
                        // A duplicate: already shown.
                    } else if entry.seq == last + 1 {
                        shared.last_seq.set(entry.seq);
                        emit(LinkEvent::Entry(entry));
                    } else {
                        // A gap: ask again from what we hold.
                        socket.restart();
                    }
                }
                ServerMessage::Ack { id, seq } => {
                    shared.outstanding.borrow_mut().retain(|&x| x != id);
                    emit(LinkEvent::Ack { id, seq });
                }
                ServerMessage::Error {
                    id: Some(id),
                    error,
                } => {
                    // An action's refusal; a signal's (not awaited) is said like one
                    // without an id.
                    let was_action = shared.outstanding.borrow().contains(&id);
                    shared.outstanding.borrow_mut().retain(|&x| x != id);
                    emit(LinkEvent::Refused {
                        id: was_action.then_some(id),
                        error,
                    });
                }
                ServerMessage::Error { id: None, error } => match error {
                    ErrorCode::Unauthorized | ErrorCode::Forbidden | ErrorCode::NotFound => {
                        socket.stop_reconnecting();
                        emit(LinkEvent::Fatal(error));
                    }
                    _ => emit(LinkEvent::Refused { id: None, error }),
                },
                ServerMessage::Pong { t, now } => {
                    clock::pong_sample(t as f64, now, clock::local_now());
                }
            }
        }
    }
}
