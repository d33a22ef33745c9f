//! One log entry as a line of the conversation: who wrote it, as whom the viewer sees
//! them, and its words. Chat text stays text: it is never parsed as HTML.

use connectit_protocol::{
    shown_text, Author, EntryKind, FileFailure, LogEntry, Media, MediaChange, Permission, Role,
    StopCause,
};

use crate::words::short_hash;
use crate::{Catalog as I18n, Msg};

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

/// The name of the technician who had the session when each entry was written (for a
/// pick-up or a hand-over: the one it names as having it from then on), in order.
pub fn in_charge_at(entries: &[LogEntry]) -> Vec<Option<&str>> {
    let mut now: Option<&str> = None;
    entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::TechnicianPickedUp { name } => {
                now = Some(name.as_str());
                now
            }
            EntryKind::HandedOver { from, to } => {
                now = to.as_deref();
                Some(from.as_str())
            }
            _ => now,
        })
        .collect()
}

/// The protocol's name for an entry's type.
pub fn kind_attr(kind: &EntryKind) -> &'static str {
    kind.entry_type().name()
}

/// Whole minutes from `from` to `to`, rounded to the nearest (at least 1).
pub fn minutes_between(from: connectit_protocol::Millis, to: connectit_protocol::Millis) -> u64 {
    (to.saturating_sub(from) + 30_000) / 60_000
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
        FileFailure::HandedOver => "handed_over",
        FileFailure::GrantExpired => "grant_expired",
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
pub fn announcement(i18n: &I18n, entries: &[LogEntry], viewer: Role) -> Option<String> {
    let names = in_charge_at(entries);
    let files = file_names(entries);
    entries
        .iter()
        .zip(names)
        .rev()
        .find(|(e, _)| {
            matches!(
                e.kind,
                EntryKind::TechnicianPickedUp { .. }
                    | EntryKind::HandedOver { .. }
                    | EntryKind::TechnicianJoined { .. }
                    | EntryKind::FileDelivered { .. }
                    | EntryKind::FileFailed { .. }
                    | EntryKind::SessionEnded { .. }
            )
        })
        .map(|(e, technician)| line(i18n, e, viewer, None, technician, &files).text)
}

/// Describes `entry` for a viewer in `viewer`'s role (`me`: a technician viewer's
/// name, which tells their own lines from a colleague's); `technician` had the session
/// then ([`in_charge_at`]).
pub fn line(
    i18n: &I18n,
    entry: &LogEntry,
    viewer: Role,
    me: Option<&str>,
    technician: Option<&str>,
    files: &[(&str, u64)],
) -> Line {
    let kind = kind_attr(&entry.kind);
    let mine = match (viewer, me, &entry.kind) {
        (Role::Technician, Some(me), EntryKind::Chat { by: Some(by), .. }) => by == me,
        (Role::Technician, Some(me), _) if entry.author == Author::Technician => {
            technician == Some(me)
        }
        _ => entry.author == Author::from(viewer),
    };
    let is_customer = viewer == Role::Customer;
    let t = |msg: Msg| i18n.t(msg);
    // The customer's words or the technician's.
    let pick = |customer: Msg, technician: Msg| t(if is_customer { customer } else { technician });
    let technician_or_default = || technician.map_or_else(|| t(Msg::Technician), str::to_owned);
    let file_name = |file: u32| name_of(files, file).map_or_else(|| t(Msg::AFile), str::to_owned);
    // Every line without the characters that reorder text (names, reasons, comments
    // and chat are people's words).
    let event = |text: String| Line {
        author: "system",
        kind,
        name: None,
        chat: false,
        mine,
        text: shown_text(&text).into_owned(),
    };
    let text = match &entry.kind {
        EntryKind::Chat { text: words, by } => {
            let name = if mine {
                t(Msg::You)
            } else {
                match (entry.author, by) {
                    (Author::Technician, Some(by)) => by.clone(),
                    (Author::Customer, _) => t(Msg::Customer),
                    (Author::Technician, None) => technician_or_default(),
                    (Author::System, _) => t(Msg::System),
                }
            };
            return Line {
                author: author_attr(entry.author),
                kind,
                name: Some(name),
                chat: true,
                mine,
                text: shown_text(words).into_owned(),
            };
        }
        EntryKind::CustomerJoined => pick(Msg::LineCustomerJoinedSelf, Msg::LineCustomerJoined),
        EntryKind::TermsAccepted => pick(Msg::LineTermsAcceptedSelf, Msg::LineTermsAccepted),
        EntryKind::TermsDeclined => pick(Msg::LineTermsDeclinedSelf, Msg::LineTermsDeclined),
        EntryKind::TechnicianPickedUp { name } => pick(
            Msg::LinePickedUp { name: name.clone() },
            Msg::LinePickedUpSelf,
        ),
        EntryKind::Disconnected { role } => t(match role {
            role if *role == viewer => Msg::LineDisconnectedSelf,
            Role::Customer => Msg::LineDisconnectedCustomer,
            Role::Technician => Msg::LineDisconnectedTechnician {
                name: technician_or_default(),
            },
        }),
        EntryKind::Reconnected { role } => t(match role {
            role if *role == viewer => Msg::LineReconnectedSelf,
            Role::Customer => Msg::LineReconnectedCustomer,
            Role::Technician => Msg::LineReconnectedTechnician {
                name: technician_or_default(),
            },
        }),
        EntryKind::SessionEnded { reason } => {
            if is_customer {
                i18n.end_reason(*reason)
            } else {
                i18n.end_reason_technician(*reason)
            }
        }
        EntryKind::SurveySubmitted {
            rating,
            resolved,
            comment,
        } => {
            let resolved = t(match resolved {
                Some(true) => Msg::SurveyLineResolved,
                Some(false) => Msg::SurveyLineNotResolved,
                None => Msg::SurveyLineUnanswered,
            });
            t(match (is_customer, comment.is_empty()) {
                (true, _) => Msg::LineSurveySelf,
                (false, true) => Msg::LineSurvey {
                    rating: *rating,
                    resolved,
                },
                (false, false) => Msg::LineSurveyComment {
                    rating: *rating,
                    resolved,
                    comment: comment.clone(),
                },
            })
        }
        EntryKind::PermissionRequested {
            permissions,
            reason,
            ..
        } => {
            let what = i18n.permission_list(permissions, is_customer);
            let line = if is_customer {
                t(Msg::LineRequestedCustomer {
                    technician: technician_or_default(),
                    what,
                })
            } else {
                t(Msg::LineRequested { what })
            };
            i18n.with_reason(line, reason)
        }
        EntryKind::PermissionGranted { granted, until, .. } => {
            let what = i18n.permission_list(granted, is_customer);
            match until {
                Some(until) => {
                    let minutes = minutes_between(entry.at, *until);
                    pick(
                        Msg::LineGrantedForSelf {
                            what: what.clone(),
                            minutes,
                        },
                        Msg::LineGrantedFor { what, minutes },
                    )
                }
                None => pick(
                    Msg::LineGrantedSelf { what: what.clone() },
                    Msg::LineGranted { what },
                ),
            }
        }
        EntryKind::GrantRenewed { permissions, until } => {
            let what = i18n.permission_list(permissions, is_customer);
            match until {
                Some(until) => {
                    let minutes = minutes_between(entry.at, *until);
                    pick(
                        Msg::LineRenewedForSelf {
                            what: what.clone(),
                            minutes,
                        },
                        Msg::LineRenewedFor { what, minutes },
                    )
                }
                None => pick(
                    Msg::LineRenewedToEndSelf { what: what.clone() },
                    Msg::LineRenewedToEnd { what },
                ),
            }
        }
        EntryKind::GrantExpired { permissions } => {
            let what = i18n.permission_list(permissions, is_customer);
            pick(
                Msg::LineGrantExpiredSelf { what: what.clone() },
                Msg::LineGrantExpired { what },
            )
        }
        // The technician confirms: "Self" is their line.
        EntryKind::CodeConfirmed { code, .. } => pick(
            Msg::LineCodeConfirmed { code: code.clone() },
            Msg::LineCodeConfirmedSelf { code: code.clone() },
        ),
        EntryKind::AreasHidden { areas: 0, .. } => {
            pick(Msg::LineAreasShownSelf, Msg::LineAreasShown)
        }
        EntryKind::AreasHidden { areas, .. } => pick(
            Msg::LineAreasHiddenSelf {
                areas: u32::from(*areas),
            },
            Msg::LineAreasHidden {
                areas: u32::from(*areas),
            },
        ),
        EntryKind::PermissionDenied { .. } => pick(Msg::LineDeniedSelf, Msg::LineDenied),
        EntryKind::PermissionExpired { .. } => pick(Msg::LineExpiredSelf, Msg::LineExpired),
        EntryKind::PermissionExtended { .. } => pick(Msg::LineExtendedSelf, Msg::LineExtended),
        EntryKind::PermissionsRevoked { permissions } => {
            let what = i18n.permission_list(permissions, is_customer);
            pick(
                Msg::LineRevokedSelf { what: what.clone() },
                Msg::LineRevoked { what },
            )
        }
        EntryKind::AppletOffered { .. } => pick(Msg::LineAppletOfferedSelf, Msg::LineAppletOffered),
        EntryKind::Media { media, change } => {
            let what = i18n.media_words(*media, is_customer);
            let by_who = |self_msg: fn(String) -> Msg, other: fn(String) -> Msg| {
                t(if is_customer {
                    self_msg(what.clone())
                } else {
                    other(what.clone())
                })
            };
            match change {
                MediaChange::Started => by_who(
                    |what| Msg::LineMediaStartedSelf { what },
                    |what| Msg::LineMediaStarted { what },
                ),
                MediaChange::Paused => by_who(
                    |what| Msg::LineMediaPausedSelf { what },
                    |what| Msg::LineMediaPaused { what },
                ),
                MediaChange::Resumed => by_who(
                    |what| Msg::LineMediaResumedSelf { what },
                    |what| Msg::LineMediaResumed { what },
                ),
                MediaChange::Stopped {
                    cause: StopCause::Customer,
                } => by_who(
                    |what| Msg::LineMediaStoppedSelf { what },
                    |what| Msg::LineMediaStopped { what },
                ),
                MediaChange::Stopped {
                    cause: StopCause::Browser,
                } => t(match media {
                    Media::Screen => Msg::LineScreenStoppedByBrowser,
                    Media::Camera => Msg::LineCameraStoppedByBrowser,
                }),
                MediaChange::Stopped {
                    cause: StopCause::Failed,
                } => t(Msg::LineMediaFailed { what }),
            }
        }
        EntryKind::PeerRestarted { media } => t(match media {
            Media::Screen => Msg::LinePeerRestartedScreen,
            Media::Camera => Msg::LinePeerRestartedCamera,
        }),
        EntryKind::PathFailed { link, reason } => t(Msg::LinePathFailed {
            what: i18n.path_what(*link),
            why: i18n.path_why(*reason),
        }),
        EntryKind::FileOffered { name, size, .. } => {
            let (name, size) = (name.clone(), i18n.size(*size));
            t(match (entry.author, viewer) {
                (Author::Technician, Role::Customer) => Msg::LineFileOfferedToCustomer {
                    technician: technician_or_default(),
                    name,
                    size,
                },
                (Author::Customer, Role::Technician) => {
                    Msg::LineFileOfferedByCustomer { name, size }
                }
                (Author::Customer, Role::Customer) => {
                    Msg::LineFileOfferedSelfCustomer { name, size }
                }
                _ => Msg::LineFileOfferedSelfTechnician { name, size },
            })
        }
        EntryKind::FileAccepted { file } => {
            let name = file_name(*file);
            pick(
                Msg::LineFileAcceptedSelf { name: name.clone() },
                Msg::LineFileAccepted { name },
            )
        }
        EntryKind::FileRefused { file } => {
            let name = file_name(*file);
            pick(
                Msg::LineFileRefusedSelf { name: name.clone() },
                Msg::LineFileRefused { name },
            )
        }
        EntryKind::FileSent { file, sha256 } => {
            let (name, hash) = (file_name(*file), short_hash(sha256));
            t(if mine {
                Msg::LineFileSentSelf { name, hash }
            } else if entry.author == Author::Customer {
                Msg::LineFileSentCustomer { name, hash }
            } else {
                Msg::LineFileSentTechnician {
                    who: technician_or_default(),
                    name,
                    hash,
                }
            })
        }
        EntryKind::FileDelivered { file, sha256 } => {
            let (name, hash) = (file_name(*file), short_hash(sha256));
            t(match size_of(files, *file) {
                Some(bytes) => Msg::LineFileDeliveredSized {
                    name,
                    size: i18n.size(bytes),
                    hash,
                },
                None => Msg::LineFileDelivered { name, hash },
            })
        }
        EntryKind::FileFailed { file, reason } => {
            let name = file_name(*file);
            t(match reason {
                FileFailure::Cancelled { by } if *by == viewer => {
                    Msg::LineFileCancelledBySelf { name }
                }
                FileFailure::Cancelled { by: Role::Customer } => {
                    Msg::LineFileCancelledByCustomer { name }
                }
                FileFailure::Cancelled { .. } => Msg::LineFileCancelledByTechnician {
                    name,
                    who: technician.map_or_else(|| t(Msg::TechnicianLower), str::to_owned),
                },
                FileFailure::HashMismatch => Msg::LineFileHashMismatch { name },
                FileFailure::ConnectionLost => Msg::LineFileConnectionLost { name },
                FileFailure::Revoked => Msg::LineFileRevoked { name },
                FileFailure::GrantExpired => Msg::LineFileGrantExpired { name },
                FileFailure::Ended => Msg::LineFileEnded { name },
                FileFailure::Unreadable => Msg::LineFileUnreadable { name },
                FileFailure::HandedOver => Msg::LineFileHandedOver { name },
            })
        }
        EntryKind::HandedOver { from, to } => {
            let from = from.clone();
            t(match (to, is_customer) {
                (Some(to), true) => Msg::LineHandedOverCustomer {
                    from,
                    to: to.clone(),
                },
                (Some(to), false) => Msg::LineHandedOver {
                    from,
                    to: to.clone(),
                },
                (None, true) => Msg::LineBackToQueueCustomer { from },
                (None, false) => Msg::LineBackToQueue { from },
            })
        }
        EntryKind::TechnicianInvited { by, name } => t(Msg::LineInvited {
            by: by.clone(),
            name: name.clone(),
        }),
        EntryKind::TechnicianJoined { name } => t(Msg::LineColleagueJoined { name: name.clone() }),
        EntryKind::TechnicianLeft { name } => t(Msg::LineColleagueLeft { name: name.clone() }),
        EntryKind::SystemInfoShared { items } => {
            let items = t(match items.len() {
                1 => Msg::ItemsOne,
                n => Msg::ItemsMany { n },
            });
            pick(
                Msg::LineSystemInfoSelf {
                    items: items.clone(),
                },
                Msg::LineSystemInfo { items },
            )
        }
    };
    event(text)
}

fn name_of<'a>(files: &[(&'a str, u64)], file: u32) -> Option<&'a str> {
    (file as usize)
        .checked_sub(1)
        .and_then(|i| files.get(i))
        .map(|(name, _)| *name)
}

fn size_of(files: &[(&str, u64)], file: u32) -> Option<u64> {
    (file as usize)
        .checked_sub(1)
        .and_then(|i| files.get(i))
        .map(|(_, size)| *size)
}
