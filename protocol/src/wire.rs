//! WebSocket messages, one enum per direction, adjacently tagged
//! (`{"type": "act", "data": {…}}`).
//!
//! A participant's socket starts with [`ClientMessage::Hello`], naming who it is and the
//! last sequence number it holds; the broker answers [`ServerMessage::Welcome`], then
//! every entry after that number, then each new entry as it is stored. Actions are
//! acknowledged with the sequence number of the entry they produced, only after that
//! entry is durable.

use serde::{Deserialize, Serialize};

use crate::api::SessionSummary;
use crate::error::ErrorCode;
use crate::log::{LogEntry, Role, Seq};
use crate::{Millis, SessionId};

/// Who a session socket speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum Join {
    /// A customer, with the token the PIN gave them.
    Customer { token: String },
    /// The signed-in technician (the cookie says who) joining one of their sessions.
    Technician { session: SessionId },
}

/// What a participant asks for. The broker turns it into a log entry, if the rules allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Action {
    AcceptTerms,
    DeclineTerms,
    PickUp,
    Chat { text: String },
    End,
}

/// Browser → broker, on a session socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First message: who I am and the last sequence number I hold (0 for none).
    Hello { join: Join, after: Seq },
    /// Do something; `id` comes back in the `ack` or `error`.
    Act { id: u32, action: Action },
    /// Clock probe: `t` is the sender's clock, echoed back with the broker's.
    Ping { t: u64 },
}

/// Broker → browser, on a session socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `hello`: the session and the broker's clock.
    Welcome {
        session: SessionId,
        role: Role,
        now: Millis,
    },
    /// One log entry, in order, never twice on one socket.
    Entry(LogEntry),
    /// The action `id` was stored as entry `seq`.
    Ack { id: u32, seq: Seq },
    /// The action `id` (or the message, when `id` is absent) was refused.
    Error { id: Option<u32>, error: ErrorCode },
    /// Answer to `ping`.
    Pong { t: u64, now: Millis },
}

/// Broker → console, on the technician's console socket: their sessions, live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ConsoleMessage {
    /// Every session of this technician that is not long over, newest first.
    Sessions(Vec<SessionSummary>),
    /// One session changed (or is new).
    Session(SessionSummary),
}
