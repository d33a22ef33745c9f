//! Actions become entries here, and only here: [`decide`] turns what a member asks
//! for (at the broker's time, within the broker's limits) into the entries to append,
//! its own first and then those that follow from it by themselves, or a typed refusal.
//! The broker appends what it is given; the pages ask the same rules what they may do
//! ([`SessionState::may_open`]).

use crate::files::FileFailure;
use crate::log::{Author, EndReason, EntryKind, Role};
use crate::permission::{Link, Permission};
use crate::state::{file_permission, Phase, SessionState};
use crate::wire::Action;
use crate::{Millis, RuleViolation};

/// What the broker's configuration adds to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a permission prompt runs, and how much "More time" adds, in ms.
    pub prompt_ms: u64,
    /// The largest file either side may offer, in bytes.
    pub max_file_bytes: u64,
}

/// Who acts: a member, and the name the log gives them (the technician's display name
/// when they pick up). `guest`: a technician who joined on a colleague's invitation,
/// who may chat and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a> {
    pub role: Role,
    pub name: &'a str,
    pub guest: bool,
}

impl<'a> Actor<'a> {
    /// The customer, or the technician who has the session.
    pub fn member(role: Role, name: &'a str) -> Self {
        Actor {
            role,
            name,
            guest: false,
        }
    }
}

/// The entries `action` appends at broker time `at`, in order: the action's own, then
/// what follows from it by itself (the native applet offered when remote control is
/// asked for; every transfer a revocation leaves without its permission, failed).
/// Nothing is appended if the action's own entry is refused.
pub fn decide(
    state: &SessionState,
    actor: Actor<'_>,
    action: Action,
    at: Millis,
    limits: Limits,
) -> Result<Vec<(Author, EntryKind)>, RuleViolation> {
    let kind = entry_for(state, actor, action, at, limits)?;
    let author = Author::from(actor.role);
    state.check(author, &kind, at)?;
    let follows = consequences(state, &kind);
    let mut out = Vec::with_capacity(1 + follows.len());
    out.push((author, kind));
    out.extend(follows.into_iter().map(|k| (Author::System, k)));
    Ok(out)
}

/// What the broker appends when `due` (from [`SessionState::due`]) falls due: it, then
/// what follows from it by itself (a grant that ran out fails the transfers it
/// carried).
pub fn decide_due(state: &SessionState, due: (Author, EntryKind)) -> Vec<(Author, EntryKind)> {
    let follows = consequences(state, &due.1);
    let mut out = Vec::with_capacity(1 + follows.len());
    out.push(due);
    out.extend(follows.into_iter().map(|k| (Author::System, k)));
    out
}

/// The log entry an action asks for, given the session's state and the entry's time
/// (a request gets the next id and a deadline; more time extends the pending one; a
/// file gets the next id if it is within the size limit).
fn entry_for(
    state: &SessionState,
    actor: Actor<'_>,
    action: Action,
    at: Millis,
    limits: Limits,
) -> Result<EntryKind, RuleViolation> {
    if actor.guest {
        return match action {
            Action::Chat { text } => Ok(EntryKind::Chat {
                text,
                by: Some(actor.name.to_string()),
            }),
            _ => Err(RuleViolation::NotInCharge),
        };
    }
    Ok(match action {
        Action::AcceptTerms => EntryKind::TermsAccepted,
        Action::DeclineTerms => EntryKind::TermsDeclined,
        Action::PickUp => EntryKind::TechnicianPickedUp {
            name: actor.name.to_string(),
        },
        Action::Chat { text } => EntryKind::Chat { text, by: None },
        Action::End => EntryKind::SessionEnded {
            reason: match actor.role {
                Role::Customer => EndReason::CustomerEnded,
                Role::Technician => EndReason::TechnicianEnded,
            },
        },
        Action::RequestPermissions {
            permissions,
            reason,
        } => EntryKind::PermissionRequested {
            request: state.requests + 1,
            permissions,
            reason,
            deadline: at + limits.prompt_ms,
        },
        Action::Grant {
            request,
            permissions,
            for_secs,
        } => EntryKind::PermissionGranted {
            request,
            granted: permissions,
            until: for_secs.map(|secs| at.saturating_add(secs.saturating_mul(1000))),
        },
        Action::Renew {
            permissions,
            for_secs,
        } => EntryKind::GrantRenewed {
            permissions,
            until: for_secs.map(|secs| at.saturating_add(secs.saturating_mul(1000))),
        },
        Action::Deny { request } => EntryKind::PermissionDenied { request },
        Action::MoreTime { request } => {
            let pending = state
                .pending
                .as_ref()
                .filter(|p| p.request == request)
                .ok_or(RuleViolation::NoSuchRequest)?;
            EntryKind::PermissionExtended {
                request,
                deadline: pending.deadline + limits.prompt_ms,
            }
        }
        Action::Revoke { permissions } => EntryKind::PermissionsRevoked { permissions },
        Action::Media { media, change } => EntryKind::Media { media, change },
        Action::PeerRestarted { media } => EntryKind::PeerRestarted { media },
        Action::PathFailed { link, reason } => EntryKind::PathFailed { link, reason },
        Action::OfferFile { name, size } => {
            if size > limits.max_file_bytes {
                return Err(RuleViolation::FileTooLarge {
                    max_bytes: limits.max_file_bytes,
                });
            }
            EntryKind::FileOffered {
                file: state.files.len() as u32 + 1,
                name,
                size,
            }
        }
        Action::AcceptFile { file } => EntryKind::FileAccepted { file },
        Action::RefuseFile { file } => EntryKind::FileRefused { file },
        Action::FileSent { file, sha256 } => EntryKind::FileSent { file, sha256 },
        Action::FileDelivered { file, sha256 } => EntryKind::FileDelivered { file, sha256 },
        Action::FileFailed { file, reason } => EntryKind::FileFailed { file, reason },
        Action::ShareSystemInfo { items } => EntryKind::SystemInfoShared { items },
        Action::ConfirmCode { media, code } => EntryKind::CodeConfirmed { media, code },
        Action::HideAreas { media, areas } => EntryKind::AreasHidden { media, areas },
    })
}

/// What the broker logs by itself after `kind` (checked against `before`, the state it
/// applies to): the applet offer when remote control is asked for, and the end of
/// every transfer in flight whose permission a revocation takes away.
fn consequences(before: &SessionState, kind: &EntryKind) -> Vec<EntryKind> {
    match kind {
        EntryKind::PermissionRequested {
            request,
            permissions,
            ..
        } if permissions.contains(&Permission::RemoteControl) => {
            // The prompt shows the native applet's link: the log says so.
            vec![EntryKind::AppletOffered { request: *request }]
        }
        EntryKind::PermissionsRevoked { permissions } => {
            fail_transfers(before, permissions, FileFailure::Revoked)
        }
        EntryKind::GrantExpired { permissions } => {
            fail_transfers(before, permissions, FileFailure::GrantExpired)
        }
        _ => Vec::new(),
    }
}

/// The end of every transfer in flight whose permission is taken away.
fn fail_transfers(
    before: &SessionState,
    permissions: &[Permission],
    reason: FileFailure,
) -> Vec<EntryKind> {
    before
        .files
        .iter()
        .filter(|t| {
            let needs = file_permission(t.from);
            t.status.in_flight() && (permissions.contains(&needs) || !before.has(needs))
        })
        .map(|t| EntryKind::FileFailed {
            file: t.file,
            reason,
        })
        .collect()
}

impl SessionState {
    /// Whether `link` may carry anything now (be open, relay signals): the session is
    /// active and the link's permission stands; else why not.
    pub fn link_allows(&self, link: Link) -> Result<(), RuleViolation> {
        if self.phase != Phase::Active {
            return Err(RuleViolation::WrongPhase { phase: self.phase });
        }
        if !link.allowed(&self.granted) {
            return Err(RuleViolation::NotGranted);
        }
        Ok(())
    }

    /// Whether `link` may be open now (see [`SessionState::link_allows`]).
    pub fn may_open(&self, link: Link) -> bool {
        self.link_allows(link).is_ok()
    }

    /// Whether `from` may offer a file now: the session is active and the other side
    /// granted it (the customer's files need "receive files", the technician's "send
    /// files").
    pub fn may_offer_file(&self, from: Role) -> bool {
        self.phase == Phase::Active && self.has(file_permission(from))
    }
}
