//! A session's state: the fold of its log. [`SessionState::apply`] takes the next
//! entry if the rules ([`crate::rules`]) allow it; the broker and the browser fold the
//! same log with it. The fields are the crate's own: outside it, the state is read
//! through its accessors and changed only by applying entries.

use serde::{Deserialize, Serialize};

use crate::error::RuleViolation;
use crate::files::{FileFailure, FileStatus, FileTransfer};
use crate::log::{Author, EndReason, EntryKind, LogEntry, Role, Seq};
use crate::permission::{Media, MediaChange, MediaState, Permission};
use crate::Millis;
/// Where a session is in its life.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// A session's state: what the log so far implies.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionState {
    pub(crate) phase: Phase,
    /// Broker time of the entry that brought the session into its phase (0 while it is
    /// `Created`: nothing is logged before someone joins).
    pub(crate) phase_since: Millis,
    /// Sequence number of the last entry applied (0 before any).
    pub(crate) last_seq: Seq,
    /// Whether a customer ever joined (the survey is theirs only).
    pub(crate) customer_joined: bool,
    /// The technician's display name, once picked up.
    pub(crate) technician: Option<String>,
    /// Why it ended, once ended.
    pub(crate) end_reason: Option<EndReason>,
    /// Whether the customer's connection is currently dropped.
    pub(crate) customer_away: bool,
    /// Broker time of the customer's drop, while they are away.
    #[serde(default)]
    pub(crate) customer_away_since: Millis,
    /// Whether the technician's connection is currently dropped.
    pub(crate) technician_away: bool,
    /// How many times each member came back after a drop (customer, technician).
    pub(crate) returns: [u32; 2],
    /// Whether the survey was answered (it can be, once).
    pub(crate) survey_submitted: bool,
    /// Number of chat messages so far.
    pub(crate) chat_count: u64,
    /// Number of permission requests made (the next one's id is this plus one).
    pub(crate) requests: u32,
    /// The request waiting for the customer's answer, if any.
    pub(crate) pending: Option<PendingRequest>,
    /// What the customer has granted and not revoked, sorted.
    pub(crate) granted: Vec<Permission>,
    /// When grants given for a time run out (broker time), by permission; those not
    /// here last until the session ends.
    #[serde(default)]
    pub(crate) granted_until: Vec<(Permission, Millis)>,
    /// The screen stream.
    pub(crate) screen: MediaState,
    /// The camera stream.
    pub(crate) camera: MediaState,
    /// How many areas of the shared screen the customer paints over.
    #[serde(default)]
    pub(crate) hidden_areas: u8,
    /// A request that named remote control, until the applet offer is logged.
    pub(crate) applet_due: Option<u32>,
    /// Every file transfer, in order (the id is the position plus one).
    pub(crate) files: Vec<FileTransfer>,
    /// System information reports sent.
    pub(crate) info_shared: u32,
    /// Colleagues invited by the technician who has the session, not yet joined.
    #[serde(default)]
    pub(crate) invited: Vec<String>,
    /// Colleagues who joined and have not left.
    #[serde(default)]
    pub(crate) guests: Vec<String>,
}

/// The permission a file sent by `from` needs: the technician sends with "send files",
/// the customer with "receive files" (the technician receives).
pub fn file_permission(from: Role) -> Permission {
    match from {
        Role::Technician => Permission::SendFiles,
        Role::Customer => Permission::ReceiveFiles,
    }
}

fn member_index(role: Role) -> usize {
    match role {
        Role::Customer => 0,
        Role::Technician => 1,
    }
}

/// A permission request waiting for an answer.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

    /// Where the session is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Broker time of the entry that brought the session into its phase (0 while it is
    /// `Created`).
    pub fn phase_since(&self) -> Millis {
        self.phase_since
    }

    /// Sequence number of the last entry applied (0 before any).
    pub fn last_seq(&self) -> Seq {
        self.last_seq
    }

    /// Whether a customer ever joined.
    pub fn customer_joined(&self) -> bool {
        self.customer_joined
    }

    /// The technician's display name, once picked up.
    pub fn technician(&self) -> Option<&str> {
        self.technician.as_deref()
    }

    /// Why it ended, once ended.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.end_reason
    }

    /// Whether `role`'s connection is dropped now.
    pub fn away(&self, role: Role) -> bool {
        match role {
            Role::Customer => self.customer_away,
            Role::Technician => self.technician_away,
        }
    }

    /// How many times `role` came back after a drop (a page that offers connects again
    /// when the other side's count grows).
    pub fn returns(&self, role: Role) -> u32 {
        self.returns[member_index(role)]
    }

    /// Whether the survey was answered.
    pub fn survey_submitted(&self) -> bool {
        self.survey_submitted
    }

    /// Number of chat messages so far.
    pub fn chat_count(&self) -> u64 {
        self.chat_count
    }

    /// Number of permission requests made (the next one's id is this plus one).
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The request waiting for the customer's answer, if any.
    pub fn pending(&self) -> Option<&PendingRequest> {
        self.pending.as_ref()
    }

    /// What the customer has granted and not revoked, sorted.
    pub fn granted(&self) -> &[Permission] {
        &self.granted
    }

    /// The request whose applet offer is still to be logged (it named remote control).
    pub fn applet_due(&self) -> Option<u32> {
        self.applet_due
    }

    /// Every file transfer, in order (the id is the position plus one).
    pub fn files(&self) -> &[FileTransfer] {
        &self.files
    }

    /// System information reports sent.
    pub fn info_shared(&self) -> u32 {
        self.info_shared
    }

    /// Colleagues invited and not yet joined.
    pub fn invited(&self) -> &[String] {
        &self.invited
    }

    /// Colleagues who joined and have not left (besides the technician who has the
    /// session).
    pub fn guests(&self) -> &[String] {
        &self.guests
    }

    /// Every technician in the session now: the one who has it first, then those who
    /// joined.
    pub fn technicians_present(&self) -> Vec<&str> {
        self.technician
            .iter()
            .chain(self.guests.iter())
            .map(String::as_str)
            .collect()
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

    /// How many areas of `media`'s picture the customer paints over (0 while it is not
    /// shared).
    pub fn hidden_areas(&self, media: Media) -> u8 {
        match media {
            Media::Screen if self.screen != MediaState::Off => self.hidden_areas,
            _ => 0,
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

    fn set_file(&mut self, file: u32, status: FileStatus) {
        if let Some(t) = self.transfer_mut(file) {
            t.status = status;
        }
    }

    /// Grants taken back (revoked, or run out): their streams stop.
    fn take_back(&mut self, permissions: &[Permission]) {
        self.granted.retain(|p| !permissions.contains(p));
        self.granted_until.retain(|(p, _)| !permissions.contains(p));
        for media in permissions.iter().filter_map(|p| p.media()) {
            *self.media_mut(media) = MediaState::Off;
        }
    }

    /// `permissions` now last until `until` (or the session's end).
    fn set_until(&mut self, permissions: &[Permission], until: Option<Millis>) {
        self.granted_until.retain(|(p, _)| !permissions.contains(p));
        if let Some(until) = until {
            self.granted_until
                .extend(permissions.iter().map(|p| (*p, until)));
            self.granted_until.sort();
        }
    }

    /// When each grant given for a time runs out (broker time).
    pub fn granted_until(&self) -> &[(Permission, Millis)] {
        &self.granted_until
    }

    /// When `permission`'s grant runs out, if it was given for a time.
    pub fn grant_ends(&self, permission: Permission) -> Option<Millis> {
        self.granted_until
            .iter()
            .find(|(p, _)| *p == permission)
            .map(|(_, until)| *until)
    }

    /// The end (or a hand-over, for `reason`) takes every grant back and stops every
    /// stream and transfer.
    fn stop_everything(&mut self, reason: FileFailure) {
        for t in self.files.iter_mut().filter(|t| t.status.in_flight()) {
            t.status = FileStatus::Failed { reason };
        }
        self.pending = None;
        self.granted.clear();
        self.granted_until.clear();
        self.screen = MediaState::Off;
        self.camera = MediaState::Off;
        self.applet_due = None;
    }

    /// Applies the next entry of the log: its sequence number must follow the last one,
    /// and the rules must allow it. A refusal changes nothing.
    pub fn apply(&mut self, entry: &LogEntry) -> Result<(), RuleViolation> {
        if !self.is_next(entry.seq) {
            return Err(RuleViolation::SequenceGap {
                expected: self.last_seq + 1,
                got: entry.seq,
            });
        }
        self.check(entry.author, &entry.kind, entry.at)?;
        let phase = self.phase;
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
                    Role::Customer => {
                        self.customer_away = away;
                        self.customer_away_since = if away { entry.at } else { 0 };
                    }
                    Role::Technician => self.technician_away = away,
                }
                if !away {
                    self.returns[member_index(*role)] += 1;
                }
            }
            EntryKind::SessionEnded { reason } => {
                self.phase = Phase::Ended;
                self.end_reason = Some(*reason);
                self.stop_everything(FileFailure::Ended);
                self.invited.clear();
                self.guests.clear();
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
            EntryKind::PermissionGranted { granted, until, .. } => {
                self.pending = None;
                for p in granted {
                    if !self.granted.contains(p) {
                        self.granted.push(*p);
                    }
                }
                self.granted.sort();
                self.set_until(granted, *until);
            }
            EntryKind::GrantRenewed { permissions, until } => self.set_until(permissions, *until),
            EntryKind::GrantExpired { permissions } => self.take_back(permissions),
            EntryKind::PermissionDenied { .. } | EntryKind::PermissionExpired { .. } => {
                self.pending = None
            }
            EntryKind::PermissionExtended { deadline, .. } => {
                if let Some(p) = self.pending.as_mut() {
                    p.deadline = *deadline;
                    p.extended = true;
                }
            }
            EntryKind::PermissionsRevoked { permissions } => self.take_back(permissions),
            EntryKind::AppletOffered { .. } => self.applet_due = None,
            EntryKind::Media { media, change } => {
                if *change == MediaChange::Started && *media == Media::Screen {
                    // A new share starts whole.
                    self.hidden_areas = 0;
                }
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
            EntryKind::CodeConfirmed { .. } => {}
            EntryKind::AreasHidden { areas, .. } => self.hidden_areas = *areas,
            EntryKind::HandedOver { to, .. } => {
                self.stop_everything(FileFailure::HandedOver);
                self.technician_away = false;
                match to {
                    Some(to) => {
                        self.technician = Some(to.clone());
                        self.guests.retain(|g| g != to);
                        self.invited.retain(|g| g != to);
                    }
                    None => {
                        // Back in the queue: nobody has it, nobody is in it.
                        self.phase = Phase::Waiting;
                        self.technician = None;
                        self.guests.clear();
                        self.invited.clear();
                    }
                }
            }
            EntryKind::TechnicianInvited { name, .. } => self.invited.push(name.clone()),
            EntryKind::TechnicianJoined { name } => {
                self.invited.retain(|g| g != name);
                self.guests.push(name.clone());
            }
            EntryKind::TechnicianLeft { name } => self.guests.retain(|g| g != name),
        }
        if self.phase != phase {
            self.phase_since = entry.at;
        }
        Ok(())
    }
}
