//! The session's rules, as a pure fold of its log. The broker calls [`SessionState::check`]
//! before it stores an entry and [`SessionState::apply`] after; the browser applies the
//! entries it receives to decide what to show. One set of rules, two places.

use serde::{Deserialize, Serialize};

use crate::error::RuleViolation;
use crate::files::{self, FileFailure, FileStatus, FileTransfer};
use crate::log::{Author, EndReason, EntryKind, LogEntry, Role, Seq};
use crate::permission::{Media, MediaChange, MediaState, Permission};
use crate::{check_name, check_text, limits, Millis};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// PIN issued, nobody has used it yet.
    #[default]
    Created,
    /// PIN verified; the customer is reading the terms.
    Connecting,
    /// Terms accepted; the customer waits for a technician.
    Waiting,
    /// A technician picked up: chat (and, later, permissions) happen here.
    Active,
    /// Over, for good.
    Ended,
}

/// Longest technician display name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// A session's state: what the log so far implies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionState {
    pub phase: Phase,
    /// Sequence number of the last entry applied (0 before any).
    pub last_seq: Seq,
    /// Whether a customer ever joined (the survey is theirs only).
    pub customer_joined: bool,
    /// The technician's display name, once picked up.
    pub technician: Option<String>,
    /// Why it ended, once ended.
    pub end_reason: Option<EndReason>,
    /// Whether the customer's connection is currently dropped.
    pub customer_away: bool,
    /// Whether the technician's connection is currently dropped.
    pub technician_away: bool,
    /// Whether the survey was answered (it can be, once).
    pub survey_submitted: bool,
    /// Number of chat messages so far.
    pub chat_count: u64,
    /// Number of permission requests made (the next one's id is this plus one).
    pub requests: u32,
    /// The request waiting for the customer's answer, if any.
    pub pending: Option<PendingRequest>,
    /// What the customer has granted and not revoked, sorted.
    pub granted: Vec<Permission>,
    /// The screen stream.
    pub screen: MediaState,
    /// The camera stream.
    pub camera: MediaState,
    /// A request that named remote control, until the applet offer is logged.
    pub applet_due: Option<u32>,
    /// Every file transfer, in order (the id is the position plus one).
    pub files: Vec<FileTransfer>,
    /// System information reports sent.
    pub info_shared: u32,
}

/// The permission a file sent by `from` needs: the technician sends with "send files",
/// the customer with "receive files" (the technician receives).
pub fn file_permission(from: Role) -> Permission {
    match from {
        Role::Technician => Permission::SendFiles,
        Role::Customer => Permission::ReceiveFiles,
    }
}

/// The member an author is, or `WrongAuthor` for the system.
fn member(author: Author) -> Result<Role, RuleViolation> {
    match author {
        Author::Customer => Ok(Role::Customer),
        Author::Technician => Ok(Role::Technician),
        Author::System => Err(RuleViolation::WrongAuthor),
    }
}

/// A permission request waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub request: u32,
    pub permissions: Vec<Permission>,
    pub reason: String,
    /// Broker time after which no answer counts.
    pub deadline: Millis,
    /// Whether "More time" was used.
    pub extended: bool,
}

/// Whether `list` names at least one permission and none twice.
fn distinct_and_some(list: &[Permission]) -> bool {
    !list.is_empty() && list.iter().enumerate().all(|(i, p)| !list[..i].contains(p))
}

impl SessionState {
    /// The state after folding `entries`, or the first violation (with its entry's seq).
    pub fn fold<'a>(
        entries: impl IntoIterator<Item = &'a LogEntry>,
    ) -> Result<Self, (Seq, RuleViolation)> {
        let mut state = Self::default();
        for entry in entries {
            state.apply(entry).map_err(|v| (entry.seq, v))?;
        }
        Ok(state)
    }

    /// Whether an entry with this sequence number is the next one (not a duplicate).
    pub fn is_next(&self, seq: Seq) -> bool {
        seq == self.last_seq + 1
    }

    /// Whether `permission` is granted now.
    pub fn has(&self, permission: Permission) -> bool {
        self.granted.contains(&permission)
    }

    /// The state of a media stream.
    pub fn media(&self, media: Media) -> MediaState {
        match media {
            Media::Screen => self.screen,
            Media::Camera => self.camera,
        }
    }

    fn media_mut(&mut self, media: Media) -> &mut MediaState {
        match media {
            Media::Screen => &mut self.screen,
            Media::Camera => &mut self.camera,
        }
    }

    /// The transfer `file`.
    pub fn transfer(&self, file: u32) -> Result<&FileTransfer, RuleViolation> {
        (file as usize)
            .checked_sub(1)
            .and_then(|i| self.files.get(i))
            .ok_or(RuleViolation::FileState)
    }

    fn transfer_mut(&mut self, file: u32) -> Option<&mut FileTransfer> {
        (file as usize)
            .checked_sub(1)
            .and_then(|i| self.files.get_mut(i))
    }

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
                check_name(name, NAME_MAX_CHARS)
            }
            EntryKind::Chat { text } => {
                if author == Author::System {
                    return Err(RuleViolation::WrongAuthor);
                }
                need_phase(&[Active])?;
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
                EndReason::WaitingTimeout | EndReason::OtherCustomerChosen => {
                    need_author(Author::System)?;
                    need_phase(&[Connecting, Waiting])
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
            EntryKind::PermissionGranted { request, granted } => {
                need_author(Author::Customer)?;
                need_phase(&[Active])?;
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
                    FileFailure::Revoked => {
                        author == Author::System && !self.has(file_permission(t.from))
                    }
                    FileFailure::Ended => false,
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

    /// Applies the next entry of the log: its sequence number must follow the last one,
    /// and the rules must allow it.
    fn set_file(&mut self, file: u32, status: FileStatus) {
        if let Some(t) = self.transfer_mut(file) {
            t.status = status;
        }
    }

    /// The end takes every grant back and stops every stream and transfer.
    fn stop_everything(&mut self) {
        for t in self.files.iter_mut().filter(|t| t.status.in_flight()) {
            t.status = FileStatus::Failed {
                reason: FileFailure::Ended,
            };
        }
        self.pending = None;
        self.granted.clear();
        self.screen = MediaState::Off;
        self.camera = MediaState::Off;
        self.applet_due = None;
    }

    pub fn apply(&mut self, entry: &LogEntry) -> Result<(), RuleViolation> {
        if !self.is_next(entry.seq) {
            return Err(RuleViolation::SequenceGap {
                expected: self.last_seq + 1,
                got: entry.seq,
            });
        }
        self.check(entry.author, &entry.kind, entry.at)?;
        self.last_seq = entry.seq;
        match &entry.kind {
            EntryKind::CustomerJoined => {
                self.phase = Phase::Connecting;
                self.customer_joined = true;
            }
            EntryKind::TermsAccepted => self.phase = Phase::Waiting,
            EntryKind::TermsDeclined => {
                self.phase = Phase::Ended;
                self.end_reason = Some(EndReason::TermsDeclined);
            }
            EntryKind::TechnicianPickedUp { name } => {
                self.phase = Phase::Active;
                self.technician = Some(name.clone());
            }
            EntryKind::Chat { .. } => self.chat_count += 1,
            EntryKind::Disconnected { role } | EntryKind::Reconnected { role } => {
                let away = matches!(entry.kind, EntryKind::Disconnected { .. });
                match role {
                    Role::Customer => self.customer_away = away,
                    Role::Technician => self.technician_away = away,
                }
            }
            EntryKind::SessionEnded { reason } => {
                self.phase = Phase::Ended;
                self.end_reason = Some(*reason);
                self.stop_everything();
            }
            EntryKind::SurveySubmitted { .. } => self.survey_submitted = true,
            EntryKind::PermissionRequested {
                request,
                permissions,
                reason,
                deadline,
            } => {
                self.requests = *request;
                self.pending = Some(PendingRequest {
                    request: *request,
                    permissions: permissions.clone(),
                    reason: reason.clone(),
                    deadline: *deadline,
                    extended: false,
                });
                if permissions.contains(&Permission::RemoteControl) {
                    self.applet_due = Some(*request);
                }
            }
            EntryKind::PermissionGranted { granted, .. } => {
                self.pending = None;
                for p in granted {
                    if !self.granted.contains(p) {
                        self.granted.push(*p);
                    }
                }
                self.granted.sort();
            }
            EntryKind::PermissionDenied { .. } | EntryKind::PermissionExpired { .. } => {
                self.pending = None
            }
            EntryKind::PermissionExtended { deadline, .. } => {
                if let Some(p) = self.pending.as_mut() {
                    p.deadline = *deadline;
                    p.extended = true;
                }
            }
            EntryKind::PermissionsRevoked { permissions } => {
                self.granted.retain(|p| !permissions.contains(p));
                for media in permissions.iter().filter_map(|p| p.media()) {
                    *self.media_mut(media) = MediaState::Off;
                }
            }
            EntryKind::AppletOffered { .. } => self.applet_due = None,
            EntryKind::Media { media, change } => {
                *self.media_mut(*media) = match change {
                    MediaChange::Started | MediaChange::Resumed => MediaState::Live,
                    MediaChange::Paused => MediaState::Paused,
                    MediaChange::Stopped { .. } => MediaState::Off,
                };
            }
            EntryKind::PeerRestarted { .. } | EntryKind::PathFailed { .. } => {}
            EntryKind::FileOffered { file, name, size } => {
                let from = if entry.author == Author::Customer {
                    Role::Customer
                } else {
                    Role::Technician
                };
                self.files.push(FileTransfer {
                    file: *file,
                    from,
                    name: name.clone(),
                    size: *size,
                    // The technician has nothing to decide about a customer's file.
                    status: if from == Role::Customer {
                        FileStatus::Accepted
                    } else {
                        FileStatus::Offered
                    },
                    sha256: None,
                });
            }
            EntryKind::FileAccepted { file } => self.set_file(*file, FileStatus::Accepted),
            EntryKind::FileRefused { file } => self.set_file(*file, FileStatus::Refused),
            EntryKind::FileSent { file, sha256 } => {
                if let Some(t) = self.transfer_mut(*file) {
                    t.status = FileStatus::Sent;
                    t.sha256 = Some(sha256.clone());
                }
            }
            EntryKind::FileDelivered { file, .. } => self.set_file(*file, FileStatus::Delivered),
            EntryKind::FileFailed { file, reason } => {
                self.set_file(*file, FileStatus::Failed { reason: *reason })
            }
            EntryKind::SystemInfoShared { .. } => self.info_shared += 1,
        }
        Ok(())
    }
}
