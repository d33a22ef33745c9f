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
use crate::files::{FileFailure, InfoItem};
use crate::log::{LogEntry, Role, Seq};
use crate::permission::{IcePolicy, IceServer, Link, Media, MediaChange, PathFailure, Permission};
use crate::{Millis, SessionId};

crate::tagged! {
    tag = "as";
    /// Who a session socket speaks for.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum Join {
        /// A customer, with the token the PIN gave them.
        Customer { token: String },
        /// The signed-in technician (the cookie says who) joining one of their sessions.
        Technician { session: SessionId },
    }
}

crate::tagged! {
    tag = "type", content = "data";
    /// What a participant asks for. The broker turns it into a log entry, if the rules allow.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum Action {
        AcceptTerms,
        DeclineTerms,
        PickUp,
        Chat {
            text: String,
        },
        End,
        /// Technician: ask for permissions (the broker sets the id and the deadline).
        RequestPermissions {
            permissions: Vec<Permission>,
            reason: String,
        },
        /// Customer: grant a non-empty subset of the pending request, for `for_secs`
        /// seconds (absent: until the session ends).
        Grant {
            request: u32,
            permissions: Vec<Permission>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            for_secs: Option<u64>,
        },
        /// Customer: let these grants (which run out) go on for `for_secs` more seconds
        /// from now (absent: until the session ends).
        Renew {
            permissions: Vec<Permission>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            for_secs: Option<u64>,
        },
        /// Customer: refuse the pending request.
        Deny {
            request: u32,
        },
        /// Customer: more time for the pending request (once).
        MoreTime {
            request: u32,
        },
        /// Customer: take grants back.
        Revoke {
            permissions: Vec<Permission>,
        },
        /// Customer: a media stream changed.
        Media {
            media: Media,
            change: MediaChange,
        },
        /// Either member: a peer connection was restarted.
        PeerRestarted {
            media: Media,
        },
        /// Either member: a peer connection could not be made.
        PathFailed {
            link: Link,
            reason: PathFailure,
        },
        /// Either member: offer a file to the other (the broker sets its id).
        OfferFile {
            name: String,
            size: u64,
        },
        /// Customer: take the technician's file.
        AcceptFile {
            file: u32,
        },
        /// Customer: refuse the technician's file.
        RefuseFile {
            file: u32,
        },
        /// Sender: every byte of `file` was sent; its SHA-256.
        FileSent {
            file: u32,
            sha256: String,
        },
        /// Receiver: every byte of `file` arrived with this SHA-256.
        FileDelivered {
            file: u32,
            sha256: String,
        },
        /// Either member: the transfer stopped.
        FileFailed {
            file: u32,
            reason: FileFailure,
        },
        /// Customer: send this system information.
        ShareSystemInfo {
            items: Vec<InfoItem>,
        },
        /// Technician: the customer read out the same verification code for `media`'s
        /// connection as the console shows (`code`: six digits).
        ConfirmCode {
            media: Media,
            code: String,
        },
        /// Customer: `areas` parts of the shared `media` are painted over before its frames
        /// leave the browser (0: none any more). Where they are is not said.
        HideAreas {
            media: Media,
            areas: u8,
        },
    }
}

crate::tagged! {
    tag = "type", content = "data";
    /// Browser → broker, on a session socket.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum ClientMessage {
        /// First message: who I am and the last sequence number I hold (0 for none).
        Hello { join: Join, after: Seq },
        /// Do something; `id` comes back in the `ack` or `error`.
        Act { id: u32, action: Action },
        /// Clock probe: `t` is the sender's clock, echoed back with the broker's.
        Ping { t: u64 },
        /// A WebRTC signal for the other member's peer connection of `link`: `payload` is
        /// the JSON text of a [`SignalBody`] (the broker checks that it is one, and reads
        /// nothing else of it). Relayed only while the link's permission stands. `id`, if
        /// given, names it in a refusal (`Error{id}`); it is not acknowledged otherwise.
        Signal {
            link: Link,
            payload: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            id: Option<u32>,
        },
    }
}

crate::tagged! {
    tag = "type", content = "data";
    /// Broker → browser, on a session socket.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum ServerMessage {
        /// Answer to `hello`: the session, the broker's clock, and the ICE servers for this
        /// session's peer connections (TURN credentials minted for it, short-lived) with the
        /// organisation's transport policy.
        Welcome {
            session: SessionId,
            role: Role,
            now: Millis,
            ice_servers: Vec<IceServer>,
            /// `relay`: the peer connections may only use the TURN relay.
            #[serde(default)]
            ice_transport_policy: IcePolicy,
            /// The code the customer's page shows once they are in (four digits), which the
            /// technician asks them to read out before picking up: several people who
            /// entered one PIN are told apart by it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            check_code: Option<String>,
            /// The session's last entry now: the entries after the hello's `after` up to
            /// this one follow at once (a page loading the whole log knows when it has it).
            #[serde(default)]
            last_seq: Seq,
        },
        /// One log entry, in order, never twice on one socket.
        Entry(LogEntry),
        /// The action `id` was stored as entry `seq`.
        Ack { id: u32, seq: Seq },
        /// The action `id` (or the message, when `id` is absent) was refused.
        Error { id: Option<u32>, error: ErrorCode },
        /// Answer to `ping`.
        Pong { t: u64, now: Millis },
        /// A WebRTC signal from the other member.
        Signal { link: Link, payload: String },
        /// To a customer waiting in a team's queue: their place in it (1: next), how many
        /// wait in all, and the wait to expect (`None`: too few recent pick-ups to say).
        /// Sent after `welcome` and whenever the queue moves.
        Queue {
            position: u32,
            waiting: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            estimated_wait_secs: Option<u64>,
        },
    }
}

crate::tagged! {
    tag = "type";
    /// The body of a WebRTC signal, as the two browsers exchange it inside the opaque
    /// `payload` of [`ClientMessage::Signal`] (JSON text). The customer's browser, which
    /// sends the media, always makes the offers (also for ICE restarts).
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum SignalBody {
        Offer {
            sdp: String,
        },
        Answer {
            sdp: String,
        },
        Candidate {
            candidate: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            sdp_mid: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            sdp_m_line_index: Option<u16>,
        },
        /// The sender closed its peer connection for this media.
        Hangup,
    }
}

/// Why the broker closed a socket for good: the close frame's code (4000–4999 are the
/// application's) and its reason text. A page that gets one does not reconnect by
/// itself; it says why and lets the person act.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The technician signed out (here or elsewhere), the sign-in expired, or the
    /// account was disabled: sign in again.
    SignedOut,
    /// A newer socket for the same role in the same session took over (the session
    /// was opened in another tab or window).
    Replaced,
    /// The technician's place in the session changed: they handed it over, it was
    /// handed to them (connect again, now as the one who has it), or they left it.
    HandedOver,
}

impl CloseReason {
    /// Every reason, for tests and tables.
    pub const ALL: [CloseReason; 3] = [
        CloseReason::SignedOut,
        CloseReason::Replaced,
        CloseReason::HandedOver,
    ];

    /// The close frame's code.
    pub const fn code(self) -> u16 {
        match self {
            CloseReason::SignedOut => 4001,
            CloseReason::Replaced => 4002,
            CloseReason::HandedOver => 4003,
        }
    }

    /// The close frame's reason text (the snake_case name).
    pub const fn text(self) -> &'static str {
        match self {
            CloseReason::SignedOut => "signed_out",
            CloseReason::Replaced => "replaced",
            CloseReason::HandedOver => "handed_over",
        }
    }

    /// The reason a close code stands for, if it is one of ours.
    pub fn from_code(code: u16) -> Option<CloseReason> {
        CloseReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

crate::tagged! {
    tag = "type", content = "data";
    /// Broker → console, on the technician's console socket: their sessions, live.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum ConsoleMessage {
        /// Every session of this technician that is not long over, newest first.
        Sessions(Vec<SessionSummary>),
        /// One session changed (or is new).
        Session(Box<SessionSummary>),
    }
}
