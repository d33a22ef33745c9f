//! One log entry as a line of the conversation: who wrote it, as whom the viewer sees
//! them, and its words. Chat text stays text: it is never parsed as HTML.

use connectit_protocol::{Author, EntryKind, LogEntry, Media, Permission, Role};

use crate::text;

/// How an entry is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `customer` or `technician` for a chat message, `system` for an event line
    /// (joined, picked up, ended…), for `data-author`.
    pub author: &'static str,
    /// The entry's type (`chat`, `technician_picked_up`…), for `data-kind`.
    pub kind: &'static str,
    /// The name shown with a chat message (`None` for event lines).
    pub name: Option<String>,
    /// Whether this is a chat message (rather than an event).
    pub chat: bool,
    /// Whether the viewer wrote it.
    pub mine: bool,
    pub text: String,
}

/// A permission's name as serde writes it (`view_screen`), for ids and `data-permission`.
pub fn permission_attr(p: Permission) -> &'static str {
    match p {
        Permission::ViewScreen => "view_screen",
        Permission::Camera => "camera",
        Permission::SendFiles => "send_files",
        Permission::ReceiveFiles => "receive_files",
        Permission::SystemInfo => "system_info",
        Permission::RemoteControl => "remote_control",
    }
}

/// A media's name as serde writes it (`screen`, `camera`).
pub fn media_attr(m: Media) -> &'static str {
    match m {
        Media::Screen => "screen",
        Media::Camera => "camera",
    }
}

pub fn author_attr(author: Author) -> &'static str {
    match author {
        Author::Customer => "customer",
        Author::Technician => "technician",
        Author::System => "system",
    }
}

/// The technician's name, once an entry says who picked up.
pub fn technician_name(entries: &[LogEntry]) -> Option<&str> {
    entries.iter().find_map(|e| match &e.kind {
        EntryKind::TechnicianPickedUp { name } => Some(name.as_str()),
        _ => None,
    })
}

/// The protocol's name for an entry's type.
pub fn kind_attr(kind: &EntryKind) -> &'static str {
    match kind {
        EntryKind::CustomerJoined => "customer_joined",
        EntryKind::TermsAccepted => "terms_accepted",
        EntryKind::TermsDeclined => "terms_declined",
        EntryKind::TechnicianPickedUp { .. } => "technician_picked_up",
        EntryKind::Chat { .. } => "chat",
        EntryKind::Disconnected { .. } => "disconnected",
        EntryKind::Reconnected { .. } => "reconnected",
        EntryKind::SessionEnded { .. } => "session_ended",
        EntryKind::SurveySubmitted { .. } => "survey_submitted",
        EntryKind::PermissionRequested { .. } => "permission_requested",
        EntryKind::PermissionGranted { .. } => "permission_granted",
        EntryKind::PermissionDenied { .. } => "permission_denied",
        EntryKind::PermissionExpired { .. } => "permission_expired",
        EntryKind::PermissionExtended { .. } => "permission_extended",
        EntryKind::PermissionsRevoked { .. } => "permissions_revoked",
        EntryKind::AppletOffered { .. } => "applet_offered",
        EntryKind::Media { .. } => "media",
        EntryKind::PeerRestarted { .. } => "peer_restarted",
    }
}

/// Describes `entry` for a viewer in `viewer`'s role. Chat messages carry their
/// author; every other entry is shown as a system line.
pub fn line(entry: &LogEntry, viewer: Role, technician: Option<&str>) -> Line {
    let kind = kind_attr(&entry.kind);
    let mine = entry.author == Author::from(viewer);
    let is_customer = viewer == Role::Customer;
    let event = |text: String| Line {
        author: "system",
        kind,
        name: None,
        chat: false,
        mine,
        text,
    };
    match &entry.kind {
        EntryKind::Chat { text: words } => {
            let name = if mine {
                text::YOU.to_owned()
            } else {
                match entry.author {
                    Author::Customer => text::CUSTOMER.to_owned(),
                    Author::Technician => technician.unwrap_or(text::TECHNICIAN).to_owned(),
                    Author::System => text::SYSTEM.to_owned(),
                }
            };
            Line {
                author: author_attr(entry.author),
                kind,
                name: Some(name),
                chat: true,
                mine,
                text: words.clone(),
            }
        }
        EntryKind::CustomerJoined => event(
            if is_customer {
                text::LINE_CUSTOMER_JOINED_SELF
            } else {
                text::LINE_CUSTOMER_JOINED
            }
            .to_owned(),
        ),
        EntryKind::TermsAccepted => event(
            if is_customer {
                text::LINE_TERMS_ACCEPTED_SELF
            } else {
                text::LINE_TERMS_ACCEPTED
            }
            .to_owned(),
        ),
        EntryKind::TermsDeclined => event(
            if is_customer {
                text::LINE_TERMS_DECLINED_SELF
            } else {
                text::LINE_TERMS_DECLINED
            }
            .to_owned(),
        ),
        EntryKind::TechnicianPickedUp { name } => event(if is_customer {
            text::line_picked_up(name)
        } else {
            text::LINE_PICKED_UP_SELF.to_owned()
        }),
        EntryKind::Disconnected { role } => event(text::line_disconnected(
            &text::member(*role, technician),
            *role == viewer,
        )),
        EntryKind::Reconnected { role } => event(text::line_reconnected(
            &text::member(*role, technician),
            *role == viewer,
        )),
        EntryKind::SessionEnded { reason } => event(
            if is_customer {
                text::end_reason(*reason)
            } else {
                text::end_reason_technician(*reason)
            }
            .to_owned(),
        ),
        EntryKind::SurveySubmitted {
            rating,
            resolved,
            comment,
        } => event(if is_customer {
            text::LINE_SURVEY_SELF.to_owned()
        } else {
            text::line_survey(*rating, *resolved, comment)
        }),
        EntryKind::PermissionRequested {
            permissions,
            reason,
            ..
        } => event(text::line_requested(
            technician.unwrap_or(text::TECHNICIAN),
            permissions,
            reason,
            is_customer,
        )),
        EntryKind::PermissionGranted { granted, .. } => {
            event(text::line_granted(granted, is_customer))
        }
        EntryKind::PermissionDenied { .. } => {
            event(pick(is_customer, text::LINE_DENIED_SELF, text::LINE_DENIED))
        }
        EntryKind::PermissionExpired { .. } => event(pick(
            is_customer,
            text::LINE_EXPIRED_SELF,
            text::LINE_EXPIRED,
        )),
        EntryKind::PermissionExtended { .. } => event(pick(
            is_customer,
            text::LINE_EXTENDED_SELF,
            text::LINE_EXTENDED,
        )),
        EntryKind::PermissionsRevoked { permissions } => {
            event(text::line_revoked(permissions, is_customer))
        }
        EntryKind::AppletOffered { .. } => event(pick(
            is_customer,
            text::LINE_APPLET_OFFERED_SELF,
            text::LINE_APPLET_OFFERED,
        )),
        EntryKind::Media { media, change } => event(text::line_media(*media, *change, is_customer)),
        EntryKind::PeerRestarted { media } => event(text::line_peer_restarted(*media)),
    }
}

/// The customer's words or the technician's.
fn pick(is_customer: bool, customer: &str, technician: &str) -> String {
    if is_customer { customer } else { technician }.to_owned()
}
