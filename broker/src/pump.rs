//! One WebSocket's life, whichever socket it is: reading frames, keeping it alive (a
//! ping every [`PING_EVERY`]; closed after [`IDLE_LIMIT`] of silence), sending
//! messages, and closing it the way each ending calls for. The session socket
//! ([`crate::ws`]) and the console socket ([`crate::console_ws`]) are each a [`Pump`]
//! and a loop over what else they wait for.
//!
//! Generic over the socket (any `Stream` of frames that is also a `Sink` of them), so
//! that it does not care what carries the frames.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;

/// How often the broker pings.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A socket silent this long (no message, no pong) is closed.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Close codes (RFC 6455).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    /// Service Restart: the broker stops, or the session moved to another broker;
    /// the page connects again at once (to another broker, through the load balancer).
    pub const RESTART: u16 = 1012;
}

/// What the peer did.
#[derive(Debug)]
pub enum Heard {
    /// A text message (what it says is the caller's to read).
    Text(Utf8Bytes),
    /// A binary message.
    Binary,
    /// The socket must end this way (a broken or oversize frame, silence).
    End(Ending),
}

/// How a socket ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The peer closed: answer its close frame.
    AnswerClose,
    /// The connection is gone: nothing to send.
    Gone,
}

/// A socket with its keep-alive.
pub struct Pump<S> {
    socket: S,
    last_heard: Instant,
    ping: tokio::time::Interval,
}

impl<S> Pump<S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    pub fn new(socket: S) -> Self {
        let first = tokio::time::Instant::now() + PING_EVERY;
        Pump {
            socket,
            last_heard: Instant::now(),
            ping: tokio::time::interval_at(first, PING_EVERY),
        }
    }

    /// The next thing the peer did; pings it meanwhile, and ends a silent socket.
    /// Cancel-safe: a frame is never half read.
    pub async fn next(&mut self) -> Heard {
        loop {
            tokio::select! {
                frame = self.socket.next() => {
                    let frame = match frame {
                        Some(Ok(frame)) => frame,
                        Some(Err(e)) => return Heard::End(match close_for(e) {
                            Some((code, reason)) => Ending::Close(code, reason),
                            None => Ending::Gone,
                        }),
                        None => return Heard::End(Ending::Gone),
                    };
                    self.last_heard = Instant::now();
                    match frame {
                        Message::Text(text) => return Heard::Text(text),
                        Message::Binary(_) => return Heard::Binary,
                        Message::Close(_) => return Heard::End(Ending::AnswerClose),
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                _ = self.ping.tick() => {
                    if self.last_heard.elapsed() > IDLE_LIMIT {
                        return Heard::End(Ending::Close(close::POLICY, "idle"));
                    }
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        return Heard::End(Ending::Gone);
                    }
                }
            }
        }
    }

    /// Sends `message` as JSON text; false when the socket is gone.
    pub async fn send<T: Serialize>(&mut self, message: &T) -> bool {
        match serde_json::to_string(message) {
            Ok(text) => self.socket.send(Message::Text(text.into())).await.is_ok(),
            Err(_) => false,
        }
    }

    /// Sends `text` as it is; false when the socket is gone.
    pub async fn send_text(&mut self, text: Utf8Bytes) -> bool {
        self.socket.send(Message::Text(text)).await.is_ok()
    }

    /// Ends the socket as `ending` says.
    pub async fn end(&mut self, ending: Ending) {
        match ending {
            Ending::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = self.socket.send(Message::Close(Some(frame))).await;
            }
            // The WebSocket layer queued the answer to the peer's close frame when it
            // arrived: sending it gives the peer a clean close, not a dropped connection.
            Ending::AnswerClose => {
                let _ = self.socket.flush().await;
            }
            Ending::Gone => {}
        }
    }
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
