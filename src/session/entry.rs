//! One log entry as a line of the conversation: who wrote it, as whom the viewer sees
//! them, and its words. Chat text stays text: it is never parsed as HTML.

use connectit_protocol::{Author, EntryKind, FileFailure, LogEntry, Media, Permission, Role};

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
        EntryKind::FileOffered { .. } => "file_offered",
        EntryKind::FileAccepted { .. } => "file_accepted",
        EntryKind::FileRefused { .. } => "file_refused",
        EntryKind::FileSent { .. } => "file_sent",
        EntryKind::FileDelivered { .. } => "file_delivered",
        EntryKind::FileFailed { .. } => "file_failed",
        EntryKind::SystemInfoShared { .. } => "system_info_shared",
    }
}

/// A failure's name as serde writes it (`cancelled`, `hash_mismatch`…), for
/// `data-reason`.
pub fn failure_attr(reason: FileFailure) -> &'static str {
    match reason {
        FileFailure::Cancelled { .. } => "cancelled",
        FileFailure::HashMismatch => "hash_mismatch",
        FileFailure::ConnectionLost => "connection_lost",
        FileFailure::Revoked => "revoked",
        FileFailure::Ended => "ended",
        FileFailure::Unreadable => "unreadable",
    }
}

/// The name and size of every file offered in `entries`, by id (the id is the position
/// plus one), for the log lines that name a file by its id.
pub fn file_names(entries: &[LogEntry]) -> Vec<(&str, u64)> {
    entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::FileOffered { name, size, .. } => Some((name.as_str(), *size)),
            _ => None,
        })
        .collect()
}

/// Describes `entry` for a viewer in `viewer`'s role. Chat messages carry their
/// author; every other entry is shown as a system line. `files` names the files offered
/// so far ([`file_names`]).
/// What a screen reader is told, besides the chat log itself: the newest entry about
/// the technician picking up, a file finishing (delivered or failed) or the end, in the
/// words the log uses (`None` when there is none yet).
pub fn announcement(entries: &[LogEntry], viewer: Role) -> Option<String> {
    let technician = technician_name(entries);
    let files = file_names(entries);
    entries
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.kind,
                EntryKind::TechnicianPickedUp { .. }
                    | EntryKind::FileDelivered { .. }
                    | EntryKind::FileFailed { .. }
                    | EntryKind::SessionEnded { .. }
            )
        })
        .map(|e| line(e, viewer, technician, &files).text)
}

pub fn line(
    entry: &LogEntry,
    viewer: Role,
    technician: Option<&str>,
    files: &[(&str, u64)],
) -> Line {
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
        EntryKind::FileOffered { name, size, .. } => event(text::line_file_offered(
            name,
            *size,
            entry.author,
            viewer,
            technician,
        )),
        EntryKind::FileAccepted { file } => {
            event(text::line_file_accepted(name_of(files, *file), is_customer))
        }
        EntryKind::FileRefused { file } => {
            event(text::line_file_refused(name_of(files, *file), is_customer))
        }
        EntryKind::FileSent { file, sha256 } => event(text::line_file_sent(
            name_of(files, *file),
            sha256,
            mine,
            entry.author,
            technician,
        )),
        EntryKind::FileDelivered { file, sha256 } => event(text::line_file_delivered(
            name_of(files, *file),
            size_of(files, *file),
            sha256,
        )),
        EntryKind::FileFailed { file, reason } => event(text::line_file_failed(
            name_of(files, *file),
            *reason,
            viewer,
            technician,
        )),
        EntryKind::SystemInfoShared { items } => {
            event(text::line_system_info(items.len(), is_customer))
        }
    }
}

fn name_of<'a>(files: &[(&'a str, u64)], file: u32) -> &'a str {
    (file as usize)
        .checked_sub(1)
        .and_then(|i| files.get(i))
        .map(|(name, _)| *name)
        .unwrap_or(text::A_FILE)
}

fn size_of(files: &[(&str, u64)], file: u32) -> Option<u64> {
    (file as usize)
        .checked_sub(1)
        .and_then(|i| files.get(i))
        .map(|(_, size)| *size)
}

/// The customer's words or the technician's.
fn pick(is_customer: bool, customer: &str, technician: &str) -> String {
    if is_customer { customer } else { technician }.to_owned()
}
