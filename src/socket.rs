//! A WebSocket that reconnects by itself, with backoff (0.5 s doubling to 5 s, each
//! wait shortened by a random part of up to a half, so that many pages cut off
//! together do not all come back at the same instant). It gives up only when the
//! broker closes it with one of the application's [`CloseReason`]s (signed out, or
//! replaced by a newer socket): coming back would undo what the broker meant. A close
//! with 1012 (Service Restart: the broker stops, or the session moved to another
//! broker) reconnects at once, within [`RESTART_SPREAD_MS`].
//!
//! [`Socket`] owns the browser `WebSocket` and the closures it calls; dropping the last
//! `Socket` unregisters them, closes the connection and cancels a pending retry. The
//! listener is told [`SocketEvent`]s with no borrow held, so it may send or even drop
//! the socket from inside.
//!
//! [`open_ahead`] opens a connection before the `Socket` that will use it exists (the
//! customer's, while the PIN is being checked), so that its handshake overlaps that
//! request instead of following it: a round trip less to join. The next `Socket` to
//! the same address takes it, if nothing but its opening happened to it; otherwise it
//! is closed ([`close_ahead`], or the next `open_ahead`) or the broker closes it for
//! not saying hello in time.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use connectit_protocol::wire::CloseReason;
use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// First wait before reconnecting, in milliseconds.
pub const FIRST_RETRY_MS: u32 = 500;
/// Longest wait before reconnecting, in milliseconds.
pub const MAX_RETRY_MS: u32 = 5_000;
/// The close code of a broker that stops or hands the session on (Service Restart).
pub const RESTART_CODE: u16 = 1012;
/// After such a close, the page comes back within this many milliseconds (spread, so
/// that the sockets of a whole broker do not all arrive at one instant).
pub const RESTART_SPREAD_MS: u32 = 250;

/// What happened on the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// The connection is open: say hello.
    Opened,
    /// A text message arrived.
    Text(String),
    /// The connection was lost (or refused); `retrying` says whether a new attempt is
    /// scheduled.
    Dropped { retrying: bool },
    /// The broker closed the connection for good, for this reason: no new attempt.
    Ended(CloseReason),
}

/// The socket could not send: it is not connected right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotConnected;

/// Called with every [`SocketEvent`].
pub type Listener = Rc<dyn Fn(&Socket, SocketEvent)>;

/// A connection opened ahead of its [`Socket`] ([`open_ahead`]), until one takes it.
struct Ahead {
    url: String,
    /// `None` once taken (then dropping this leaves it open).
    ws: Option<WebSocket>,
    /// Set when a message or a close comes first: a socket must not take it then (what
    /// came would be lost, or the connection is gone).
    spoiled: Rc<Cell<bool>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        if let Some(ws) = self.ws.take() {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }
}

thread_local! {
    static AHEAD: RefCell<Option<Ahead>> = const { RefCell::new(None) };
}

/// Opens a connection to `url` for the next [`Socket::open`] to the same address to
/// take; replaces (closes) one opened ahead before. Nothing is sent on it meanwhile.
pub fn open_ahead(url: &str) {
    // If the browser refuses, the socket tries again itself.
    let Ok(ws) = WebSocket::new(url) else {
        close_ahead();
        return;
    };
    let spoiled = Rc::new(Cell::new(false));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let spoiled = spoiled.clone();
        move |_: MessageEvent| spoiled.set(true)
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
        let spoiled = spoiled.clone();
        move |_: CloseEvent| spoiled.set(true)
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let ahead = Ahead {
        url: url.to_owned(),
        ws: Some(ws),
        spoiled,
        _on_message: on_message,
        _on_close: on_close,
    };
    // The one it replaces is dropped (closed) outside the borrow.
    let before = AHEAD.with(|slot| slot.borrow_mut().replace(ahead));
    drop(before);
}

/// Closes the connection opened ahead, if no socket took it (the PIN was refused).
pub fn close_ahead() {
    let before = AHEAD.with(|slot| slot.borrow_mut().take());
    drop(before);
}

/// The connection opened ahead to `url`, if it is still connecting or open and nothing
/// else happened to it; whatever else was opened ahead is closed.
fn take_ahead(url: &str) -> Option<WebSocket> {
    let mut ahead = AHEAD.with(|slot| slot.borrow_mut().take())?;
    let usable = ahead.url == url
        && !ahead.spoiled.get()
        && ahead
            .ws
            .as_ref()
            .is_some_and(|ws| matches!(ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN));
    if !usable {
        return None;
    }
    let ws = ahead.ws.take()?;
    // The socket sets its own handlers next; these go with `ahead`.
    ws.set_onmessage(None);
    ws.set_onclose(None);
    Some(ws)
}

/// A self-reconnecting WebSocket (a cheap handle; the connection closes when the last
/// handle is dropped).
#[derive(Clone)]
pub struct Socket {
    inner: Rc<RefCell<Inner>>,
}

/// A handle that does not keep the socket alive (for timers and closures).
#[derive(Clone)]
pub struct WeakSocket(Weak<RefCell<Inner>>);

impl WeakSocket {
    pub fn upgrade(&self) -> Option<Socket> {
        self.0.upgrade().map(|inner| Socket { inner })
    }
}

struct Inner {
    /// Where to connect (`ws://host/api/ws`).
    url: String,
    /// Who hears about events.
    listener: Listener,
    /// The live connection, if any.
    conn: Option<Connection>,
    /// The previous connection, kept until the next attempt so that its handler is
    /// not freed while it runs.
    retired: Option<Connection>,
    /// The scheduled reconnection, if one is waiting.
    retry: Option<Timeout>,
    /// The next wait before reconnecting.
    backoff_ms: u32,
    /// Counts connections, so a late event of an old one is ignored.
    generation: u32,
    /// Whether to reconnect after a drop (false once the owner says it is over).
    reconnect: bool,
    /// When the last reconnection at once (after a 1012) was made, in ms since the
    /// epoch: a second one soon after waits like any drop, so that a broker that keeps
    /// closing cannot make the page spin.
    restarted_at: f64,
    /// Closed while the page is put away (navigated from, kept in the browser's page
    /// cache): no reconnecting until it is shown again.
    suspended: bool,
}

/// One browser `WebSocket` and the handlers it calls; dropping it detaches them.
struct Connection {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

impl Socket {
    /// Opens a socket to `url` and keeps it open until dropped.
    pub fn open(url: String, listener: Listener) -> Socket {
        let inner = Rc::new(RefCell::new(Inner {
            url,
            listener,
            conn: None,
            retired: None,
            retry: None,
            backoff_ms: FIRST_RETRY_MS,
            restarted_at: f64::NEG_INFINITY,
            generation: 0,
            reconnect: true,
            suspended: false,
        }));
        connect(&inner);
        Socket { inner }
    }

    pub fn downgrade(&self) -> WeakSocket {
        WeakSocket(Rc::downgrade(&self.inner))
    }

    /// Sends a text message now, or says that it cannot.
    pub fn send(&self, text: &str) -> Result<(), NotConnected> {
        let inner = self.inner.borrow();
        let conn = inner.conn.as_ref().ok_or(NotConnected)?;
        if conn.ws.ready_state() != WebSocket::OPEN {
            return Err(NotConnected);
        }
        conn.ws.send_with_str(text).map_err(|_| NotConnected)
    }

    /// The other side accepted us: the next drop retries quickly again.
    pub fn healthy(&self) {
        self.inner.borrow_mut().backoff_ms = FIRST_RETRY_MS;
    }

    /// Drops the connection and connects again at once (after a gap in what arrived).
    pub fn restart(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.retired = inner.conn.take();
            inner.retry = None;
        }
        notify(&self.inner, SocketEvent::Dropped { retrying: true });
        connect(&self.inner);
    }

    /// The page is put away: the connection closes now (the other side hears it go)
    /// and stays closed until [`Socket::resume`].
    pub fn suspend(&self) {
        let closed = {
            let mut inner = self.inner.borrow_mut();
            inner.suspended = true;
            inner.retry = None;
            inner.generation = inner.generation.wrapping_add(1);
            inner.conn.take()
        };
        drop(closed);
    }

    /// The page is shown again after [`Socket::suspend`]: connects at once.
    pub fn resume(&self) {
        let go = {
            let mut inner = self.inner.borrow_mut();
            std::mem::replace(&mut inner.suspended, false) && inner.reconnect
        };
        if go {
            notify(&self.inner, SocketEvent::Dropped { retrying: true });
            connect(&self.inner);
        }
    }

    /// No more reconnecting: once the connection drops, it stays down.
    pub fn stop_reconnecting(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.reconnect = false;
        inner.retry = None;
    }
}

fn notify(inner: &Rc<RefCell<Inner>>, event: SocketEvent) {
    let listener = inner.borrow().listener.clone();
    let socket = Socket {
        inner: inner.clone(),
    };
    listener(&socket, event);
}

/// Runs `f` with the socket if it still exists and `generation` is its current one.
fn with_current(weak: &Weak<RefCell<Inner>>, generation: u32, f: impl FnOnce(&Rc<RefCell<Inner>>)) {
    if let Some(inner) = weak.upgrade() {
        if inner.borrow().generation == generation {
            f(&inner);
        }
    }
}

fn connect(inner: &Rc<RefCell<Inner>>) {
    let (url, generation) = {
        let mut state = inner.borrow_mut();
        state.generation = state.generation.wrapping_add(1);
        state.retry = None;
        (state.url.clone(), state.generation)
    };
    let ahead = take_ahead(&url);
    // Opened already: its `open` event has passed (the browser sets the state and fires
    // the event in one task), so the listener hears of it from here instead.
    let opened = ahead
        .as_ref()
        .is_some_and(|ws| ws.ready_state() == WebSocket::OPEN);
    let ws = match ahead.map_or_else(|| WebSocket::new(&url), Ok) {
        Ok(ws) => ws,
        Err(_) => {
            dropped(inner, false);
            return;
        }
    };
    let weak = Rc::downgrade(inner);
    if opened {
        // After this call returns, as the event would have come: the owner holds its
        // `Socket` by then.
        let weak = weak.clone();
        wasm_bindgen_futures::spawn_local(async move {
            with_current(&weak, generation, |inner| {
                notify(inner, SocketEvent::Opened)
            });
        });
    }

    let on_open = {
        let weak = weak.clone();
        Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            with_current(&weak, generation, |inner| {
                notify(inner, SocketEvent::Opened)
            });
        })
    };
    let on_message = {
        let weak = weak.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                with_current(&weak, generation, |inner| {
                    notify(inner, SocketEvent::Text(text))
                });
            }
        })
    };
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
        with_current(&weak, generation, |inner| {
            {
                let mut state = inner.borrow_mut();
                state.retired = state.conn.take();
            }
            match CloseReason::from_code(event.code()) {
                Some(reason) => {
                    {
                        let mut state = inner.borrow_mut();
                        state.reconnect = false;
                        state.retry = None;
                    }
                    notify(inner, SocketEvent::Ended(reason));
                }
                None => dropped(inner, event.code() == RESTART_CODE),
            }
        });
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    inner.borrow_mut().conn = Some(Connection {
        ws,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
}

/// The connection is gone: schedule the next attempt (if wanted) and tell the listener.
fn dropped(inner: &Rc<RefCell<Inner>>, at_once: bool) {
    let retrying = {
        let mut state = inner.borrow_mut();
        if state.reconnect {
            let now = js_sys::Date::now();
            let delay = if at_once && now - state.restarted_at > f64::from(MAX_RETRY_MS) {
                state.restarted_at = now;
                state.backoff_ms = FIRST_RETRY_MS;
                (f64::from(RESTART_SPREAD_MS) * js_sys::Math::random()) as u32
            } else {
                let delay = jittered(state.backoff_ms);
                state.backoff_ms = (state.backoff_ms * 2).min(MAX_RETRY_MS);
                delay
            };
            let weak = Rc::downgrade(inner);
            state.retry = Some(Timeout::new(delay, move || {
                if let Some(inner) = weak.upgrade() {
                    connect(&inner);
                }
            }));
        }
        state.reconnect
    };
    notify(inner, SocketEvent::Dropped { retrying });
}

/// `backoff_ms` less a random part of up to a half of it.
fn jittered(backoff_ms: u32) -> u32 {
    let cut = (f64::from(backoff_ms) * 0.5 * js_sys::Math::random()) as u32;
    backoff_ms - cut.min(backoff_ms / 2)
}
