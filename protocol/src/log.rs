//! The session log: an append-only, ordered list of entries. The broker gives each one
//! its sequence number and time; the session's state is the fold of its entries.

use serde::{Deserialize, Serialize};

use crate::files::{FileFailure, InfoItem};
use crate::permission::{Link, Media, MediaChange, PathFailure, Permission};
use crate::Millis;

/// Position of an entry in its session's log, from 1. `0` means "nothing yet".
pub type Seq = u64;

/// A member of a session.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Technician,
}

impl Role {
    /// The other member.
    pub fn other(self) -> Role {
        match self {
            Role::Customer => Role::Technician,
            Role::Technician => Role::Customer,
        }
    }
}

/// Who wrote an entry.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Technician,
    /// The broker itself: time-outs, connections.
    System,
}

impl From<Role> for Author {
    fn from(role: Role) -> Self {
        match role {
            Role::Customer => Author::Customer,
            Role::Technician => Author::Technician,
        }
    }
}

/// Why a session ended.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The customer pressed X and confirmed.
    CustomerEnded,
    /// The technician ended it from the console.
    TechnicianEnded,
    /// The customer declined the terms and conditions.
    TermsDeclined,
    /// Nobody used the PIN before it expired.
    PinExpired,
    /// No technician picked up in time.
    WaitingTimeout,
    /// Someone else entered the same PIN (or opened the same link), and the technician
    /// picked them up: this customer was not the one being helped.
    OtherCustomerChosen,
    /// The customer's connection dropped and they did not come back in time.
    CustomerGone,
    /// The team's queue closed (its hours ended, or it was closed) while the customer
    /// still waited.
    QueueClosed,
}

crate::tagged! {
    tag = "type", content = "data";
    /// What happened. Adjacently tagged: `{"type": "chat", "data": {"text": "…"}}`.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub enum EntryKind {
        /// The customer's PIN was verified; the terms are shown to them.
        CustomerJoined,
        /// The customer accepted the terms and waits for a technician.
        TermsAccepted,
        /// The customer declined the terms; this ends the session.
        TermsDeclined,
        /// A technician picked the session up.
        TechnicianPickedUp { name: String },
        /// A chat message. `by` names a technician who was invited in (a guest); a
        /// technician's message without it is from the one who has the session.
        Chat {
            text: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            by: Option<String>,
        },
        /// A member's connection dropped (the session goes on).
        Disconnected { role: Role },
        /// A member came back after a drop.
        Reconnected { role: Role },
        /// The session is over.
        SessionEnded { reason: EndReason },
        /// The technician asks for permissions; no answer by `deadline` (broker time) is a
        /// refusal.
        PermissionRequested {
            request: u32,
            permissions: Vec<Permission>,
            reason: String,
            deadline: Millis,
        },
        /// The customer granted these (a non-empty subset of the request), until `until`
        /// (broker time; absent: until the session ends).
        PermissionGranted {
            request: u32,
            granted: Vec<Permission>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            until: Option<Millis>,
        },
        /// The customer let grants that run out go on, until `until` (absent: until the
        /// session ends).
        GrantRenewed {
            permissions: Vec<Permission>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            until: Option<Millis>,
        },
        /// The time the customer gave these grants ran out (the broker logs it on its own
        /// clock): their effects stop as if revoked.
        GrantExpired { permissions: Vec<Permission> },
        /// The customer refused the request.
        PermissionDenied { request: u32 },
        /// The deadline passed with no answer: a refusal.
        PermissionExpired { request: u32 },
        /// The customer asked for more time (once per request): a new deadline.
        PermissionExtended { request: u32, deadline: Millis },
        /// The customer took these grants back; their effects stop at once.
        PermissionsRevoked { permissions: Vec<Permission> },
        /// The request named remote control: the prompt offered the native applet.
        AppletOffered { request: u32 },
        /// A media stream from the customer changed (started, paused, resumed, stopped).
        Media { media: Media, change: MediaChange },
        /// A peer connection failed and was restarted (ICE restart) under the same grant.
        PeerRestarted { media: Media },
        /// A peer connection could not be made at all (the member who saw it says why).
        PathFailed { link: Link, reason: PathFailure },
        /// A member offers a file (the author sends it).
        FileOffered { file: u32, name: String, size: u64 },
        /// The customer takes the technician's file.
        FileAccepted { file: u32 },
        /// The customer does not want the technician's file.
        FileRefused { file: u32 },
        /// The sender sent every byte; `sha256` is what it read.
        FileSent { file: u32, sha256: String },
        /// The receiver has every byte, with this SHA-256 (the sender's).
        FileDelivered { file: u32, sha256: String },
        /// The transfer stopped before delivery.
        FileFailed { file: u32, reason: FileFailure },
        /// The customer sent this system information (exactly what the technician sees).
        SystemInfoShared { items: Vec<InfoItem> },
        /// The technician confirmed that the customer read out the same verification code
        /// for `media`'s connection as the console shows.
        CodeConfirmed { media: Media, code: String },
        /// The customer paints `areas` parts of the shared `media` over before its frames
        /// leave the browser (0: the whole picture is sent again).
        AreasHidden { media: Media, areas: u8 },
        /// The technician who has the session (`from`) handed it to a colleague (`to`), or
        /// back to its team's queue (`to` empty). What the customer granted was granted to
        /// `from`: it stops here, and a file in flight fails. (A note for whoever takes it
        /// is a private note, not part of the log the customer sees.)
        HandedOver { from: String, to: Option<String> },
        /// The technician who has the session invited a colleague to join it.
        TechnicianInvited { by: String, name: String },
        /// An invited colleague joined: they read the log and chat; the screen, the
        /// camera, files and requests stay with the technician who has the session.
        TechnicianJoined { name: String },
        /// A colleague who joined left (or was asked to leave by whoever has the session).
        TechnicianLeft { name: String },
        /// The customer answered the survey after the end.
        SurveySubmitted {
            rating: u8,
            resolved: Option<bool>,
            comment: String,
        },
    }
}

/// One entry of a session's log.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: Seq,
    /// Broker time when the entry was stored.
    pub at: Millis,
    pub author: Author,
    pub kind: EntryKind,
}

/// An entry's type without its data: what pages name in `data-kind`, and what tests
/// look for. Its names are the `type` tags of [`EntryKind`]'s JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryType {
    CustomerJoined,
    TermsAccepted,
    TermsDeclined,
    TechnicianPickedUp,
    Chat,
    Disconnected,
    Reconnected,
    SessionEnded,
    SurveySubmitted,
    PermissionRequested,
    PermissionGranted,
    GrantRenewed,
    GrantExpired,
    PermissionDenied,
    PermissionExpired,
    PermissionExtended,
    PermissionsRevoked,
    AppletOffered,
    Media,
    PeerRestarted,
    PathFailed,
    FileOffered,
    FileAccepted,
    FileRefused,
    FileSent,
    FileDelivered,
    FileFailed,
    SystemInfoShared,
    CodeConfirmed,
    AreasHidden,
    HandedOver,
    TechnicianInvited,
    TechnicianJoined,
    TechnicianLeft,
}

impl EntryType {
    /// Every type, in the order [`EntryKind`] declares them.
    pub const ALL: [EntryType; 34] = [
        EntryType::CustomerJoined,
        EntryType::TermsAccepted,
        EntryType::TermsDeclined,
        EntryType::TechnicianPickedUp,
        EntryType::Chat,
        EntryType::Disconnected,
        EntryType::Reconnected,
        EntryType::SessionEnded,
        EntryType::SurveySubmitted,
        EntryType::PermissionRequested,
        EntryType::PermissionGranted,
        EntryType::GrantRenewed,
        EntryType::GrantExpired,
        EntryType::PermissionDenied,
        EntryType::PermissionExpired,
        EntryType::PermissionExtended,
        EntryType::PermissionsRevoked,
        EntryType::AppletOffered,
        EntryType::Media,
        EntryType::PeerRestarted,
        EntryType::PathFailed,
        EntryType::FileOffered,
        EntryType::FileAccepted,
        EntryType::FileRefused,
        EntryType::FileSent,
        EntryType::FileDelivered,
        EntryType::FileFailed,
        EntryType::SystemInfoShared,
        EntryType::CodeConfirmed,
        EntryType::AreasHidden,
        EntryType::HandedOver,
        EntryType::TechnicianInvited,
        EntryType::TechnicianJoined,
        EntryType::TechnicianLeft,
    ];

    /// The type's name (`chat`, `technician_picked_up`…).
    pub fn name(self) -> &'static str {
        match self {
            EntryType::CustomerJoined => "customer_joined",
            EntryType::TermsAccepted => "terms_accepted",
            EntryType::TermsDeclined => "terms_declined",
            EntryType::TechnicianPickedUp => "technician_picked_up",
            EntryType::Chat => "chat",
            EntryType::Disconnected => "disconnected",
            EntryType::Reconnected => "reconnected",
            EntryType::SessionEnded => "session_ended",
            EntryType::SurveySubmitted => "survey_submitted",
            EntryType::PermissionRequested => "permission_requested",
            EntryType::PermissionGranted => "permission_granted",
            EntryType::GrantRenewed => "grant_renewed",
            EntryType::GrantExpired => "grant_expired",
            EntryType::PermissionDenied => "permission_denied",
            EntryType::PermissionExpired => "permission_expired",
            EntryType::PermissionExtended => "permission_extended",
            EntryType::PermissionsRevoked => "permissions_revoked",
            EntryType::AppletOffered => "applet_offered",
            EntryType::Media => "media",
            EntryType::PeerRestarted => "peer_restarted",
            EntryType::PathFailed => "path_failed",
            EntryType::FileOffered => "file_offered",
            EntryType::FileAccepted => "file_accepted",
            EntryType::FileRefused => "file_refused",
            EntryType::FileSent => "file_sent",
            EntryType::FileDelivered => "file_delivered",
            EntryType::FileFailed => "file_failed",
            EntryType::SystemInfoShared => "system_info_shared",
            EntryType::CodeConfirmed => "code_confirmed",
            EntryType::AreasHidden => "areas_hidden",
            EntryType::HandedOver => "handed_over",
            EntryType::TechnicianInvited => "technician_invited",
            EntryType::TechnicianJoined => "technician_joined",
            EntryType::TechnicianLeft => "technician_left",
        }
    }

    /// The type named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<EntryType> {
        EntryType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl EntryKind {
    /// The entry's type.
    pub fn entry_type(&self) -> EntryType {
        match self {
            EntryKind::CustomerJoined => EntryType::CustomerJoined,
            EntryKind::TermsAccepted => EntryType::TermsAccepted,
            EntryKind::TermsDeclined => EntryType::TermsDeclined,
            EntryKind::TechnicianPickedUp { .. } => EntryType::TechnicianPickedUp,
            EntryKind::Chat { .. } => EntryType::Chat,
            EntryKind::Disconnected { .. } => EntryType::Disconnected,
            EntryKind::Reconnected { .. } => EntryType::Reconnected,
            EntryKind::SessionEnded { .. } => EntryType::SessionEnded,
            EntryKind::SurveySubmitted { .. } => EntryType::SurveySubmitted,
            EntryKind::PermissionRequested { .. } => EntryType::PermissionRequested,
            EntryKind::PermissionGranted { .. } => EntryType::PermissionGranted,
            EntryKind::GrantRenewed { .. } => EntryType::GrantRenewed,
            EntryKind::GrantExpired { .. } => EntryType::GrantExpired,
            EntryKind::PermissionDenied { .. } => EntryType::PermissionDenied,
            EntryKind::PermissionExpired { .. } => EntryType::PermissionExpired,
            EntryKind::PermissionExtended { .. } => EntryType::PermissionExtended,
            EntryKind::PermissionsRevoked { .. } => EntryType::PermissionsRevoked,
            EntryKind::AppletOffered { .. } => EntryType::AppletOffered,
            EntryKind::Media { .. } => EntryType::Media,
            EntryKind::PeerRestarted { .. } => EntryType::PeerRestarted,
            EntryKind::PathFailed { .. } => EntryType::PathFailed,
            EntryKind::FileOffered { .. } => EntryType::FileOffered,
            EntryKind::FileAccepted { .. } => EntryType::FileAccepted,
            EntryKind::FileRefused { .. } => EntryType::FileRefused,
            EntryKind::FileSent { .. } => EntryType::FileSent,
            EntryKind::FileDelivered { .. } => EntryType::FileDelivered,
            EntryKind::FileFailed { .. } => EntryType::FileFailed,
            EntryKind::SystemInfoShared { .. } => EntryType::SystemInfoShared,
            EntryKind::CodeConfirmed { .. } => EntryType::CodeConfirmed,
            EntryKind::AreasHidden { .. } => EntryType::AreasHidden,
            EntryKind::HandedOver { .. } => EntryType::HandedOver,
            EntryKind::TechnicianInvited { .. } => EntryType::TechnicianInvited,
            EntryKind::TechnicianJoined { .. } => EntryType::TechnicianJoined,
            EntryKind::TechnicianLeft { .. } => EntryType::TechnicianLeft,
        }
    }
}
