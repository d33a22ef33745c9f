//! The rules: [`SessionState::check`] says whether an author may append an entry in
//! the session's state at a given broker time, and why not. Nothing else in either the
//! broker or the browser decides what the log may hold.

use crate::error::RuleViolation;
use crate::files::{self, FileFailure, FileStatus};
use crate::log::{Author, EndReason, EntryKind, Role};
use crate::permission::{Media, MediaChange, MediaState, Permission};
use crate::state::{file_permission, PendingRequest, Phase, SessionState};
use crate::{check_name, check_text, limits, Millis};

/// The member an author is, or `WrongAuthor` for the system.
fn member(author: Author) -> Result<Role, RuleViolation> {
    match author {
        Author::Customer => Ok(Role::Customer),
        Author::Technician => Ok(Role::Technician),
        Author::System => Err(RuleViolation::WrongAuthor),
    }
}

/// Whether `list` names at least one permission and none twice.
fn distinct_and_some(list: &[Permission]) -> bool {
    !list.is_empty() && list.iter().enumerate().all(|(i, p)| !list[..i].contains(p))
}

/// A grant's end must come after it is given, and within [`limits::GRANT_MAX_SECS`].
fn check_until(until: Option<Millis>, at: Millis) -> Result<(), RuleViolation> {
    match until {
        Some(until) if until <= at || until - at > limits::GRANT_MAX_SECS.saturating_mul(1000) => {
            Err(RuleViolation::Deadline)
        }
        _ => Ok(()),
    }
}

impl SessionState {
    /// The pending request if it is `request` and `at` is not past its deadline.
    fn answerable(&self, request: u32, at: Millis) -> Result<&PendingRequest, RuleViolation> {
        let pending = self
            .pending
            .as_ref()
            .filter(|p| p.request == request)
            .ok_or(RuleViolation::NoSuchRequest)?;
        if at > pending.deadline {
            return Err(RuleViolation::Deadline);
        }
        Ok(pending)
    }

    /// Whether `name` is the technician who has the session.
    fn in_charge(&self, name: &str) -> Result<(), RuleViolation> {
        if self.technician.as_deref() == Some(name) {
            Ok(())
        } else {
            Err(RuleViolation::NotInCharge)
        }
    }

    /// Checks that `author` may append `kind` at broker time `at`. Changes nothing.
    pub fn check(&self, author: Author, kind: &EntryKind, at: Millis) -> Result<(), RuleViolation> {
        use Phase::*;
        let phase = self.phase;
        let need_author = |want: Author| {
            if author == want {
                Ok(())
            } else {
                Err(RuleViolation::WrongAuthor)
            }
        };
        let need_phase = |allowed: &[Phase]| {
            if allowed.contains(&phase) {
                Ok(())
            } else {
                Err(RuleViolation::WrongPhase { phase })
            }
        };
        match kind {
            EntryKind::CustomerJoined => {
                need_author(Author::System)?;
                need_phase(&[Created])
            }
            EntryKind::TermsAccepted | EntryKind::TermsDeclined => {
                need_author(Author::Customer)?;
                need_phase(&[Connecting])
            }
            EntryKind::TechnicianPickedUp { name } => {
                need_author(Author::Technician)?;
                need_phase(&[Waiting])?;
                check_name(name, limits::NAME_MAX_CHARS)
            }
            EntryKind::Chat { text, by } => {
                if author == Author::System {
                    return Err(RuleViolation::WrongAuthor);
                }
                need_phase(&[Active])?;
                if let Some(by) = by {
                    need_author(Author::Technician)?;
                    if !self.guests.contains(by) {
                        return Err(RuleViolation::NotInvited);
                    }
                }
                check_text(text, limits::CHAT_MAX_CHARS)
            }
            EntryKind::Disconnected { role } | EntryKind::Reconnected { role } => {
                need_author(Author::System)?;
                need_phase(&[Connecting, Waiting, Active])?;
                let (present, away) = match role {
                    Role::Customer => (self.customer_joined, self.customer_away),
                    Role::Technician => (self.technician.is_some(), self.technician_away),
                };
                let going_away = matches!(kind, EntryKind::Disconnected { .. });
                if !present || away == going_away {
                    return Err(RuleViolation::PresenceMismatch);
                }
                Ok(())
            }
            EntryKind::SessionEnded { reason } => match reason {
                EndReason::CustomerEnded => {
                    need_author(Author::Customer)?;
                    need_phase(&[Connecting, Waiting, Active])
                }
                EndReason::TechnicianEnded => {
                    need_author(Author::Technician)?;
                    need_phase(&[Created, Connecting, Waiting, Active])
                }
                EndReason::PinExpired => {
                    need_author(Author::System)?;
                    need_phase(&[Created])
                }
                EndReason::WaitingTimeout
                | EndReason::OtherCustomerChosen
                | EndReason::QueueClosed => {
                    need_author(Author::System)?;
                    need_phase(&[Connecting, Waiting])
                }
                EndReason::CustomerGone => {
                    need_author(Author::System)?;
                    need_phase(&[Connecting, Waiting, Active])?;
                    if !self.customer_away {
                        return Err(RuleViolation::PresenceMismatch);
                    }
                    Ok(())
                }
                // Declining is its own entry, which ends the session by itself.
                EndReason::TermsDeclined => Err(RuleViolation::WrongAuthor),
            },
            EntryKind::PermissionRequested {
                request,
                permissions,
                reason,
                deadline,
            } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                if self.pending.is_some() {
                    return Err(RuleViolation::RequestPending);
                }
                if *request != self.requests + 1 {
                    return Err(RuleViolation::NoSuchRequest);
                }
                if !distinct_and_some(permissions) {
                    return Err(RuleViolation::InvalidPermissions);
                }
                if !reason.is_empty() {
                    check_text(reason, limits::REASON_MAX_CHARS)?;
                }
                if *deadline <= at {
                    return Err(RuleViolation::Deadline);
                }
                Ok(())
            }
            EntryKind::PermissionGranted {
                request,
                granted,
                until,
            } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                check_until(*until, at)?;
                let pending = self.answerable(*request, at)?;
                if !distinct_and_some(granted) {
                    return Err(RuleViolation::InvalidPermissions);
                }
                if granted
                    .iter()
                    .any(|p| !p.grantable() || !pending.permissions.contains(p))
                {
                    return Err(RuleViolation::NotRequested);
                }
                Ok(())
            }
            EntryKind::PermissionDenied { request } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                self.answerable(*request, at).map(|_| ())
            }
            EntryKind::PermissionExtended { request, deadline } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                let pending = self.answerable(*request, at)?;
                if pending.extended {
                    return Err(RuleViolation::AlreadyExtended);
                }
                if *deadline <= pending.deadline {
                    return Err(RuleViolation::Deadline);
                }
                Ok(())
            }
            EntryKind::PermissionExpired { request } => {
                need_author(Author::System)?;
                need_phase(&[Active])?;
                let pending = self
                    .pending
                    .as_ref()
                    .filter(|p| p.request == *request)
                    .ok_or(RuleViolation::NoSuchRequest)?;
                if at < pending.deadline {
                    return Err(RuleViolation::Deadline);
                }
                Ok(())
            }
            EntryKind::GrantRenewed { permissions, until } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                check_until(*until, at)?;
                if !distinct_and_some(permissions) {
                    return Err(RuleViolation::InvalidPermissions);
                }
                // Only grants that would run out, and have not yet.
                if permissions
                    .iter()
                    .any(|p| self.grant_ends(*p).is_none_or(|ends| ends <= at))
                {
                    return Err(RuleViolation::NotGranted);
                }
                Ok(())
            }
            EntryKind::GrantExpired { permissions } => {
                need_author(Author::System)?;
                need_phase(&[Active])?;
                if !distinct_and_some(permissions) {
                    return Err(RuleViolation::InvalidPermissions);
                }
                // Each has run out by now.
                if permissions
                    .iter()
                    .any(|p| self.grant_ends(*p).is_none_or(|ends| at < ends))
                {
                    return Err(RuleViolation::Deadline);
                }
                Ok(())
            }
            EntryKind::PermissionsRevoked { permissions } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                if !distinct_and_some(permissions) {
                    return Err(RuleViolation::InvalidPermissions);
                }
                if permissions.iter().any(|p| !self.has(*p)) {
                    return Err(RuleViolation::NotGranted);
                }
                Ok(())
            }
            EntryKind::AppletOffered { request } => {
                need_author(Author::System)?;
                need_phase(&[Active])?;
                if self.applet_due != Some(*request) {
                    return Err(RuleViolation::NoSuchRequest);
                }
                Ok(())
            }
            EntryKind::Media { media, change } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                if !self.has(media.permission()) {
                    return Err(RuleViolation::NotGranted);
                }
                let ok = matches!(
                    (self.media(*media), change),
                    (MediaState::Off, MediaChange::Started)
                        | (MediaState::Live, MediaChange::Paused)
                        | (MediaState::Paused, MediaChange::Resumed)
                        | (
                            MediaState::Live | MediaState::Paused,
                            MediaChange::Stopped { .. }
                        )
                );
                if ok {
                    Ok(())
                } else {
                    Err(RuleViolation::MediaState)
                }
            }
            EntryKind::PeerRestarted { media } => {
                if author == Author::System {
                    return Err(RuleViolation::WrongAuthor);
                }
                need_phase(&[Active])?;
                if self.media(*media) == MediaState::Off {
                    return Err(RuleViolation::MediaState);
                }
                Ok(())
            }
            // Only while the link may carry something: a failure under a grant.
            EntryKind::PathFailed { link, .. } => {
                member(author)?;
                need_phase(&[Active])?;
                if !link.allowed(&self.granted) {
                    return Err(RuleViolation::NotGranted);
                }
                Ok(())
            }
            EntryKind::FileOffered { file, name, .. } => {
                let from = member(author)?;
                need_phase(&[Active])?;
                if !self.has(file_permission(from)) {
                    return Err(RuleViolation::NotGranted);
                }
                if *file as usize != self.files.len() + 1 {
                    return Err(RuleViolation::FileState);
                }
                check_name(name, files::FILE_NAME_MAX_CHARS)
            }
            EntryKind::FileAccepted { file } | EntryKind::FileRefused { file } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                let t = self.transfer(*file)?;
                if t.from != Role::Technician || t.status != FileStatus::Offered {
                    return Err(RuleViolation::FileState);
                }
                if !self.has(Permission::SendFiles) {
                    return Err(RuleViolation::NotGranted);
                }
                Ok(())
            }
            EntryKind::FileSent { file, sha256 } => {
                need_phase(&[Active])?;
                let t = self.transfer(*file)?;
                if Author::from(t.from) != author || t.status != FileStatus::Accepted {
                    return Err(RuleViolation::FileState);
                }
                if !self.has(file_permission(t.from)) {
                    return Err(RuleViolation::NotGranted);
                }
                if !files::is_sha256_hex(sha256) {
                    return Err(RuleViolation::HashMismatch);
                }
                Ok(())
            }
            EntryKind::FileDelivered { file, sha256 } => {
                need_phase(&[Active])?;
                let t = self.transfer(*file)?;
                if Author::from(t.from) == author
                    || author == Author::System
                    || t.status != FileStatus::Sent
                {
                    return Err(RuleViolation::FileState);
                }
                if !self.has(file_permission(t.from)) {
                    return Err(RuleViolation::NotGranted);
                }
                if t.sha256.as_deref() != Some(sha256.as_str()) {
                    return Err(RuleViolation::HashMismatch);
                }
                Ok(())
            }
            EntryKind::FileFailed { file, reason } => {
                need_phase(&[Active])?;
                let t = self.transfer(*file)?;
                if !t.status.in_flight() {
                    return Err(RuleViolation::FileState);
                }
                let receiver = match t.from {
                    Role::Customer => Author::Technician,
                    Role::Technician => Author::Customer,
                };
                let author_ok = match reason {
                    FileFailure::Cancelled { by } => author == Author::from(*by),
                    FileFailure::HashMismatch => author == receiver,
                    FileFailure::ConnectionLost | FileFailure::Unreadable => {
                        author != Author::System
                    }
                    FileFailure::Revoked | FileFailure::GrantExpired => {
                        author == Author::System && !self.has(file_permission(t.from))
                    }
                    FileFailure::Ended | FileFailure::HandedOver => false,
                };
                if author_ok {
                    Ok(())
                } else {
                    Err(RuleViolation::WrongAuthor)
                }
            }
            EntryKind::SystemInfoShared { items } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                if !self.has(Permission::SystemInfo) {
                    return Err(RuleViolation::NotGranted);
                }
                let ok = (1..=files::INFO_MAX_ITEMS).contains(&items.len())
                    && items.iter().all(|i| {
                        check_text(&i.label, files::INFO_LABEL_MAX_CHARS).is_ok()
                            && check_text(&i.value, files::INFO_VALUE_MAX_CHARS).is_ok()
                    });
                if ok {
                    Ok(())
                } else {
                    Err(RuleViolation::InvalidInfo)
                }
            }
            EntryKind::CodeConfirmed { media, code } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                if self.media(*media) == MediaState::Off {
                    return Err(RuleViolation::MediaState);
                }
                if code.len() != limits::CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(RuleViolation::InvalidCode);
                }
                Ok(())
            }
            EntryKind::AreasHidden { media, areas } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
                // The screen only: a camera's picture is not painted over.
                if *media != Media::Screen || self.media(*media) == MediaState::Off {
                    return Err(RuleViolation::MediaState);
                }
                if *areas > limits::HIDDEN_AREAS_MAX {
                    return Err(RuleViolation::TooManyAreas {
                        max: limits::HIDDEN_AREAS_MAX,
                    });
                }
                Ok(())
            }
            EntryKind::HandedOver { from, to } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                self.in_charge(from)?;
                if let Some(to) = to {
                    check_name(to, limits::NAME_MAX_CHARS)?;
                    if to == from {
                        return Err(RuleViolation::NotInvited);
                    }
                }
                Ok(())
            }
            EntryKind::TechnicianInvited { by, name } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                self.in_charge(by)?;
                check_name(name, limits::NAME_MAX_CHARS)?;
                if name == by || self.invited.contains(name) || self.guests.contains(name) {
                    return Err(RuleViolation::NotInvited);
                }
                if self.invited.len() + self.guests.len() >= limits::MAX_GUESTS {
                    return Err(RuleViolation::NotInvited);
                }
                Ok(())
            }
            EntryKind::TechnicianJoined { name } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                if !self.invited.contains(name) {
                    return Err(RuleViolation::NotInvited);
                }
                Ok(())
            }
            EntryKind::TechnicianLeft { name } => {
                need_author(Author::Technician)?;
                need_phase(&[Active])?;
                if !self.guests.contains(name) {
                    return Err(RuleViolation::NotInvited);
                }
                Ok(())
            }
            EntryKind::SurveySubmitted {
                rating, comment, ..
            } => {
                need_author(Author::Customer)?;
                need_phase(&[Ended])?;
                if !self.customer_joined {
                    return Err(RuleViolation::WrongAuthor);
                }
                if self.survey_submitted {
                    return Err(RuleViolation::SurveyAlreadySubmitted);
                }
                if !(1..=5).contains(rating) {
                    return Err(RuleViolation::InvalidRating);
                }
                if comment.is_empty() {
                    Ok(())
                } else {
                    check_text(comment, limits::COMMENT_MAX_CHARS)
                }
            }
        }
    }
}
