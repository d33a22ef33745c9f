//! One live session, owned by one task: its state (the fold of its log), who is
//! connected, what falls due and when, and the fan-out of its entries. Sockets and
//! handlers reach it only through a bounded channel of [`Command`]s, which it answers
//! one at a time, in order; nothing else holds its state, so nothing else can let two
//! changes race.
//!
//! Appending is the one path by which a log grows: the rules ([`decide()`], or
//! [`SessionState::check`] for the broker's own entries) and the log's caps first, then
//! storage, then the state, and only then the fan-out. Time's entries come from
//! [`SessionState::due`]: the task sleeps until [`SessionState::next_due`] and appends
//! what is due then, at the time it wakes.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use connectit_protocol::api::{SessionDetails, SessionSummary, TeamRef, TechnicianRef};
use connectit_protocol::{
    decide, Action, Actor, Author, EntryKind, LogEntry, Millis, Phase, Role, RuleViolation, Seq,
    SessionId, SessionState, Timeouts,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::{now_ms, AppendError, Context, Relayed, SeatKey, SummaryUpdate, SYSTEM_HEADROOM};
use crate::db::{DbError, GuestRow, Staffing, TeamRow};
use crate::store;

/// What a session's task is asked to do. Each carries where its answer goes.
pub enum Command {
    /// A member's action, decided by the rules (`technician`: the account of a
    /// technician's socket, which may be a colleague's who joined).
    Act {
        role: Role,
        technician: Option<i64>,
        name: String,
        action: Action,
        reply: oneshot::Sender<Result<Vec<LogEntry>, AppendError>>,
    },
    /// An entry the broker itself appends (a join, an end, a survey from the HTTP API).
    Append {
        author: Author,
        kind: EntryKind,
        reply: oneshot::Sender<Result<LogEntry, AppendError>>,
    },
    /// New entries from now on, and the last entry stored before them.
    Subscribe {
        reply: oneshot::Sender<(Seq, broadcast::Receiver<LogEntry>)>,
    },
    /// A WebRTC signal for the other member, if the link may carry it.
    Relay {
        signal: Relayed,
        reply: oneshot::Sender<Result<(), RuleViolation>>,
    },
    /// A socket opened (a member back after a drop is logged).
    Connected {
        seat: SeatKey,
        reply: oneshot::Sender<Result<(), AppendError>>,
    },
    /// A socket closed (the last of a present member is logged as a drop).
    Disconnected {
        seat: SeatKey,
        reply: oneshot::Sender<Result<(), AppendError>>,
    },
    /// Whether this technician joined the session on an invitation.
    IsGuest {
        technician_id: i64,
        reply: oneshot::Sender<bool>,
    },
    /// The technician who has the session hands it to a colleague, or back to its
    /// team's queue (`to` empty).
    HandOver {
        by: i64,
        to: Option<(i64, TechnicianRef)>,
        reply: oneshot::Sender<Result<LogEntry, AppendError>>,
    },
    /// The technician who has the session invites a colleague.
    Invite {
        by: i64,
        guest: (i64, TechnicianRef),
        reply: oneshot::Sender<Result<LogEntry, AppendError>>,
    },
    /// An invited colleague joins.
    Join {
        technician_id: i64,
        reply: oneshot::Sender<Result<LogEntry, AppendError>>,
    },
    /// A colleague who joined leaves (`by`: themself, or whoever has the session).
    Leave {
        by: i64,
        guest: i64,
        reply: oneshot::Sender<Result<LogEntry, AppendError>>,
    },
    /// The state now.
    State {
        reply: oneshot::Sender<SessionState>,
    },
    /// The console's view now.
    Summary {
        reply: oneshot::Sender<SessionSummary>,
    },
    /// Send the summary to the consoles again.
    Announce,
    /// The code the customer reads out.
    CheckCode {
        reply: oneshot::Sender<Option<String>>,
    },
    SetCheckCode {
        code: Option<String>,
        reply: oneshot::Sender<()>,
    },
    /// A technician picks the customer up (from a queue, or their own session).
    PickUp {
        technician_id: i64,
        technician: TechnicianRef,
        reply: oneshot::Sender<Result<Vec<LogEntry>, AppendError>>,
    },
    /// New details of the customer, the problem and the ticket.
    SetDetails {
        details: SessionDetails,
        reply: oneshot::Sender<Result<(), AppendError>>,
    },
}

/// How long the task waits before it tries a due entry again after storage failed.
const DUE_RETRY: Duration = Duration::from_secs(1);

/// How long a session loaded at start gives its members to come back before those who
/// did not are logged as gone (the broker stopped without logging their drop: killed,
/// or the machine went down), so that their absence can run out.
pub const RETURN_GRACE: Duration = Duration::from_secs(60);

/// A live session's owner.
pub struct SessionActor {
    pub(super) id: SessionId,
    /// Who has the session (`None`: nobody yet, it waits in its team's queue), shared
    /// with the handle.
    pub(super) owner: Option<i64>,
    pub(super) owner_cell: Arc<AtomicI64>,
    pub(super) technician: Option<TechnicianRef>,
    pub(super) team: Option<TeamRow>,
    /// Colleagues invited into the session, or who joined it.
    pub(super) guests: Vec<GuestRow>,
    pub(super) details: SessionDetails,
    /// Since when the session waits in its team's queue, while it does.
    pub(super) queued: Option<Millis>,
    pub(super) invitation: SessionId,
    pub(super) created_at: Millis,
    pub(super) timeouts: Timeouts,
    pub(super) state: SessionState,
    /// Time of the last entry (entries' times never go backwards).
    pub(super) last_at: Millis,
    pub(super) check_code: Option<String>,
    /// Entries stored, and the bytes of their JSON (for the caps).
    pub(super) stored_entries: u64,
    pub(super) stored_bytes: u64,
    /// The customer's open sockets.
    pub(super) customer_online: usize,
    /// Technicians' open sockets, by account (the one who has the session, and
    /// colleagues who joined).
    pub(super) staff_online: Vec<(i64, usize)>,
    pub(super) entries: broadcast::Sender<LogEntry>,
    pub(super) signals: broadcast::Sender<Relayed>,
    /// Set once the session is over (the hub forgets ended sessions nobody watches).
    pub(super) ended: Arc<AtomicBool>,
    /// Not before then: the last due entry could not be stored.
    pub(super) due_retry: Option<Instant>,
    /// When to log the members the log says are present but who have no socket (after
    /// [`RETURN_GRACE`] from the task's start).
    pub(super) absence_check: Option<Instant>,
    /// When to tell the consoles the summary a customer's chat message changed (only its
    /// counts and last activity): messages in quick succession make one summary, and a
    /// message reaches the technician's session before any console has work to do for it.
    pub(super) summary_due: Option<Instant>,
    pub(super) ctx: Arc<Context>,
}

/// How long after a chat message its summary goes to the consoles (see
/// [`SessionActor::summary_due`]).
pub(super) const SUMMARY_AFTER_CHAT: std::time::Duration = std::time::Duration::from_millis(150);

impl SessionActor {
    /// Serves commands, and what falls due, until every handle is gone.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Box<Command>>) {
        self.sync_queue(None);
        loop {
            let wake = self.wake_at();
            tokio::select! {
                biased;
                // Boxed: the session's task then holds only the loop between commands,
                // not the largest command's state for as long as it lives.
                command = commands.recv() => match command {
                    Some(command) => Box::pin(self.handle(*command)).await,
                    None => break,
                },
                () = sleep_until(wake) => Box::pin(self.fall_due()).await,
                () = sleep_until(self.absence_check) => Box::pin(self.log_absent()).await,
                () = sleep_until(self.summary_due) => {
                    self.summary_due = None;
                    self.publish();
                }
            }
        }
    }

    /// When the task must wake for what falls due, if anything can.
    fn wake_at(&self) -> Option<Instant> {
        let at = self.state.next_due(&self.timeouts)?;
        let wait = Duration::from_millis(at.saturating_sub(now_ms()));
        let wake = Instant::now() + wait;
        Some(match self.due_retry {
            Some(retry) => wake.max(retry),
            None => wake,
        })
    }

    /// Open sockets of `role`'s member (for the technician: of the one who has the
    /// session).
    fn online(&self, role: Role) -> usize {
        match role {
            Role::Customer => self.customer_online,
            Role::Technician => self.owner.map_or(0, |id| self.staff_count(id)),
        }
    }

    fn staff_count(&self, technician_id: i64) -> usize {
        self.staff_online
            .iter()
            .find(|(id, _)| *id == technician_id)
            .map_or(0, |(_, n)| *n)
    }

    /// Logs as gone each member the log says is present who has no socket now.
    async fn log_absent(&mut self) {
        self.absence_check = None;
        for role in [Role::Customer, Role::Technician] {
            let kind = EntryKind::Disconnected { role };
            let at = self.now();
            if self.online(role) == 0 && self.state.check(Author::System, &kind, at).is_ok() {
                if let Err(e) = self.append(Author::System, kind, at).await {
                    tracing::warn!(session = %self.id, error = ?e, "could not log an absence");
                }
            }
        }
    }

    /// Appends what is due now. The timer's clock and the broker's may disagree by a
    /// little: if nothing is due yet, the next turn sleeps the rest.
    async fn fall_due(&mut self) {
        let at = now_ms().max(self.last_at);
        let Some(due) = self.state.due(at, &self.timeouts) else {
            return;
        };
        // What fell due, then what follows from it (transfers a grant that ran out
        // carried fail).
        for (author, kind) in connectit_protocol::decide_due(&self.state, due) {
            match self.append(author, kind, at).await {
                Ok(entry) => {
                    self.due_retry = None;
                    tracing::info!(session = %self.id, kind = ?entry.kind, "fell due");
                }
                Err(e) => {
                    self.due_retry = Some(Instant::now() + DUE_RETRY);
                    tracing::warn!(session = %self.id, error = ?e, "could not append what fell due");
                    return;
                }
            }
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Act {
                role,
                technician,
                name,
                action,
                reply,
            } => {
                let guest = role == Role::Technician && technician != self.owner;
                let result = self.act(role, &name, guest, action).await;
                let _ = reply.send(result);
            }
            Command::Append {
                author,
                kind,
                reply,
            } => {
                let at = self.now();
                let result = self.append(author, kind, at).await;
                let _ = reply.send(result);
            }
            Command::Subscribe { reply } => {
                let _ = reply.send((self.state.last_seq(), self.entries.subscribe()));
            }
            Command::Relay { signal, reply } => {
                let allowed = self.state.link_allows(signal.link);
                if allowed.is_ok() {
                    // No receivers is fine: the other member is not connected.
                    let _ = self.signals.send(signal);
                }
                let _ = reply.send(allowed);
            }
            Command::Connected { seat, reply } => {
                let _ = reply.send(self.connected(seat).await);
            }
            Command::Disconnected { seat, reply } => {
                let _ = reply.send(self.disconnected(seat).await);
            }
            Command::IsGuest {
                technician_id,
                reply,
            } => {
                let joined = self.guest(technician_id).is_some_and(|g| g.joined);
                let _ = reply.send(joined);
            }
            Command::HandOver { by, to, reply } => {
                let _ = reply.send(self.hand_over(by, to).await);
            }
            Command::Invite { by, guest, reply } => {
                let _ = reply.send(self.invite(by, guest).await);
            }
            Command::Join {
                technician_id,
                reply,
            } => {
                let _ = reply.send(self.join(technician_id).await);
            }
            Command::Leave { by, guest, reply } => {
                let _ = reply.send(self.leave(by, guest).await);
            }
            Command::State { reply } => {
                let _ = reply.send(self.state.clone());
            }
            Command::Summary { reply } => {
                let _ = reply.send(self.summary());
            }
            Command::Announce => self.publish(),
            Command::CheckCode { reply } => {
                let _ = reply.send(self.check_code.clone());
            }
            Command::SetCheckCode { code, reply } => {
                self.check_code = code;
                let _ = reply.send(());
            }
            Command::PickUp {
                technician_id,
                technician,
                reply,
            } => {
                let result = self.pick_up(technician_id, technician).await;
                let _ = reply.send(result);
            }
            Command::SetDetails { details, reply } => {
                let (id, stored) = (self.id.clone(), details.clone());
                let result = store::call(&self.ctx.store, move |s| s.set_details(&id, &stored))
                    .await
                    .map_err(AppendError::Storage);
                if result.is_ok() {
                    self.details = details;
                    self.publish();
                }
                let _ = reply.send(result);
            }
        }
    }

    /// Puts the session in its team's queue, or takes it out, as its state says: in
    /// while the customer waits and nobody has it. `picked_at`: the time of the
    /// pick-up that takes it out.
    fn sync_queue(&mut self, picked_at: Option<Millis>) {
        let Some(team) = &self.team else {
            return;
        };
        let waits = self.owner.is_none() && self.state.phase() == Phase::Waiting;
        match (self.queued, waits) {
            (None, true) => {
                let since = self.state.phase_since();
                self.ctx.queues.join(team.id, since, &self.id);
                self.queued = Some(since);
                self.tell_cluster(crate::cluster::EventBody::QueueJoined {
                    team: team.id,
                    since,
                    session: self.id.clone(),
                });
            }
            (Some(since), false) => {
                self.ctx.queues.leave(team.id, since, &self.id, picked_at);
                self.queued = None;
                self.tell_cluster(crate::cluster::EventBody::QueueLeft {
                    team: team.id,
                    since,
                    session: self.id.clone(),
                    picked_at,
                });
            }
            _ => {}
        }
    }

    /// The pick-up by `technician_id`: refused if someone else has the session; else
    /// what the rules decide of it, stored with the session's new owner.
    async fn pick_up(
        &mut self,
        technician_id: i64,
        technician: TechnicianRef,
    ) -> Result<Vec<LogEntry>, AppendError> {
        if self.owner.is_some_and(|o| o != technician_id) {
            return Err(AppendError::Taken);
        }
        let at = self.now();
        let actor = Actor::member(Role::Technician, &technician.display_name);
        let decided = decide(&self.state, actor, Action::PickUp, at, self.ctx.limits)
            .map_err(AppendError::Rule)?;
        let mut appended = Vec::with_capacity(decided.len());
        for (i, (author, kind)) in decided.into_iter().enumerate() {
            let staffing = if i == 0 {
                Staffing::PickedUp(technician_id)
            } else {
                Staffing::Same
            };
            let before = (self.owner, self.technician.clone());
            if i == 0 {
                // Set before the append publishes the summary, undone if it fails.
                self.owner = Some(technician_id);
                self.technician = Some(technician.clone());
            }
            match self.append_staffed(author, kind, at, staffing).await {
                Ok(entry) => appended.push(entry),
                Err(e) if i == 0 => {
                    (self.owner, self.technician) = before;
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(session = %self.id, error = ?e, "could not log a consequence");
                    break;
                }
            }
            if i == 0 {
                self.owner_cell.store(technician_id, Ordering::Release);
                self.sync_queue(Some(at));
            }
        }
        Ok(appended)
    }

    /// The time of an entry appended now.
    fn now(&self) -> Millis {
        now_ms().max(self.last_at)
    }

    fn guest(&self, technician_id: i64) -> Option<&GuestRow> {
        self.guests
            .iter()
            .find(|g| g.technician_id == technician_id)
    }

    /// The display name of the technician who has the session, if `by` is them.
    fn in_charge(&self, by: i64) -> Result<String, AppendError> {
        match (&self.owner, self.state.technician()) {
            (Some(owner), Some(name)) if *owner == by => Ok(name.to_string()),
            _ => Err(AppendError::Rule(RuleViolation::NotInCharge)),
        }
    }

    /// The hand-over by `by` to `to` (a colleague, or the queue): one entry, stored
    /// with the session's new owner; what was granted stops, and colleagues who joined
    /// stay unless the session goes back to the queue.
    async fn hand_over(
        &mut self,
        by: i64,
        to: Option<(i64, TechnicianRef)>,
    ) -> Result<LogEntry, AppendError> {
        let from = self.in_charge(by)?;
        let at = self.now();
        let kind = EntryKind::HandedOver {
            from,
            to: to.as_ref().map(|(_, t)| t.display_name.clone()),
        };
        let staffing = match &to {
            Some((id, _)) => Staffing::HandedTo(*id),
            None => Staffing::Queued,
        };
        let before = (self.owner, self.technician.clone(), self.guests.clone());
        // Set before the append publishes the summary, undone if it fails.
        match &to {
            Some((id, who)) => {
                self.owner = Some(*id);
                self.technician = Some(who.clone());
                self.guests.retain(|g| g.technician_id != *id);
            }
            None => {
                self.owner = None;
                self.technician = None;
                self.guests.clear();
            }
        }
        let former = std::iter::once(by)
            .chain(before.2.iter().map(|g| g.technician_id))
            .collect();
        match self
            .append_staffed(Author::Technician, kind, at, staffing)
            .await
        {
            Ok(entry) => {
                self.owner_cell
                    .store(self.owner.unwrap_or(0), Ordering::Release);
                // Those who are no longer in it hear of it once more.
                self.publish_to(former);
                Ok(entry)
            }
            Err(e) => {
                (self.owner, self.technician, self.guests) = before;
                Err(e)
            }
        }
    }

    /// `by` (who has the session) invites the colleague `guest`.
    async fn invite(
        &mut self,
        by: i64,
        (id, who): (i64, TechnicianRef),
    ) -> Result<LogEntry, AppendError> {
        let inviter = self.in_charge(by)?;
        if id == by || self.guest(id).is_some() {
            return Err(AppendError::Rule(RuleViolation::NotInvited));
        }
        let kind = EntryKind::TechnicianInvited {
            by: inviter,
            name: who.display_name.clone(),
        };
        let at = self.now();
        self.guests.push(GuestRow {
            technician_id: id,
            who,
            joined: false,
        });
        let result = self
            .append_staffed(Author::Technician, kind, at, Staffing::Invited(id))
            .await;
        if result.is_err() {
            self.guests.pop();
        }
        result
    }

    /// The invited colleague `technician_id` joins.
    async fn join(&mut self, technician_id: i64) -> Result<LogEntry, AppendError> {
        let Some(guest) = self.guest(technician_id).filter(|g| !g.joined) else {
            return Err(AppendError::Rule(RuleViolation::NotInvited));
        };
        let kind = EntryKind::TechnicianJoined {
            name: guest.who.display_name.clone(),
        };
        let at = self.now();
        self.set_joined(technician_id, true);
        let result = self
            .append_staffed(
                Author::Technician,
                kind,
                at,
                Staffing::Joined(technician_id),
            )
            .await;
        if result.is_err() {
            self.set_joined(technician_id, false);
        }
        result
    }

    fn set_joined(&mut self, technician_id: i64, joined: bool) {
        if let Some(g) = self
            .guests
            .iter_mut()
            .find(|g| g.technician_id == technician_id)
        {
            g.joined = joined;
        }
    }

    /// The colleague `guest` leaves, by their own choice or that of whoever has the
    /// session (`by`).
    async fn leave(&mut self, by: i64, guest: i64) -> Result<LogEntry, AppendError> {
        if by != guest && self.owner != Some(by) {
            return Err(AppendError::Rule(RuleViolation::NotInCharge));
        }
        let Some(row) = self.guest(guest).filter(|g| g.joined).cloned() else {
            return Err(AppendError::Rule(RuleViolation::NotInvited));
        };
        let kind = EntryKind::TechnicianLeft {
            name: row.who.display_name.clone(),
        };
        let at = self.now();
        let before = self.guests.clone();
        self.guests.retain(|g| g.technician_id != guest);
        match self
            .append_staffed(Author::Technician, kind, at, Staffing::Left(guest))
            .await
        {
            Ok(entry) => {
                self.publish_to(vec![guest]);
                Ok(entry)
            }
            Err(e) => {
                self.guests = before;
                Err(e)
            }
        }
    }

    /// Appends what the rules decide of a member's action: its own entry, or the
    /// refusal; then each entry that follows from it (nothing comes between them).
    /// `guest`: a colleague who joined, who may only chat.
    async fn act(
        &mut self,
        role: Role,
        name: &str,
        guest: bool,
        action: Action,
    ) -> Result<Vec<LogEntry>, AppendError> {
        if let (Action::PickUp, Role::Technician, Some(owner), false) =
            (&action, role, self.owner, guest)
        {
            let technician = self.technician.clone().unwrap_or(TechnicianRef {
                username: String::new(),
                display_name: name.to_string(),
            });
            return self.pick_up(owner, technician).await;
        }
        let at = self.now();
        let actor = Actor { role, name, guest };
        let decided =
            decide(&self.state, actor, action, at, self.ctx.limits).map_err(AppendError::Rule)?;
        let mut appended = Vec::with_capacity(decided.len());
        for (i, (author, kind)) in decided.into_iter().enumerate() {
            match self.append(author, kind, at).await {
                Ok(entry) => appended.push(entry),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    // The action stands; what follows from it could not be stored.
                    tracing::warn!(session = %self.id, error = ?e, "could not log a consequence");
                    break;
                }
            }
        }
        Ok(appended)
    }

    /// Appends one entry at `at`, if the rules and the caps allow it.
    async fn append(
        &mut self,
        author: Author,
        kind: EntryKind,
        at: Millis,
    ) -> Result<LogEntry, AppendError> {
        self.append_staffed(author, kind, at, Staffing::Same).await
    }

    /// [`Self::append`], storing what the entry changes about who works on the
    /// session with it.
    async fn append_staffed(
        &mut self,
        author: Author,
        kind: EntryKind,
        at: Millis,
        staffing: Staffing,
    ) -> Result<LogEntry, AppendError> {
        let bytes = serde_json::to_string(&kind).map(|k| k.len()).unwrap_or(0) as u64;
        let mut entry = LogEntry {
            seq: 0,
            at,
            author,
            kind,
        };
        let mut caught_up = false;
        let (next, new_phase) = loop {
            // The next number and a time no earlier than the last entry's, as the log
            // stands now (again after reading it back).
            entry.seq = self.state.last_seq() + 1;
            entry.at = entry.at.max(self.last_at);
            self.state
                .check(author, &entry.kind, entry.at)
                .map_err(AppendError::Rule)?;
            self.check_caps(author, &entry.kind, bytes)?;
            let mut next = self.state.clone();
            next.apply(&entry).map_err(AppendError::Rule)?;
            let new_phase = (next.phase() != self.state.phase()).then_some(next.phase());
            let (id, stored) = (self.id.clone(), entry.clone());
            let started = std::time::Instant::now();
            match store::call(&self.ctx.store, move |s| {
                s.append(&id, &stored, new_phase, staffing)
            })
            .await
            {
                Ok(()) => {
                    self.ctx.metrics.appended(started.elapsed());
                    break (next, new_phase);
                }
                // Another broker stored an entry with this number: the one that ran the
                // session before this one took it over, logging something on its way
                // out. The log as stored is the truth: read it again, and decide again.
                Err(e) if e.is_conflict() && !caught_up => {
                    tracing::warn!(session = %self.id, seq = entry.seq, "another broker wrote to the session; reading it again");
                    caught_up = true;
                    self.catch_up().await?;
                }
                Err(e) => return Err(AppendError::Storage(e)),
            }
        };
        if let Some(phase) = new_phase {
            self.ctx
                .count_candidate(&self.invitation, self.state.phase(), phase);
            if phase == Phase::Ended {
                self.ended.store(true, Ordering::Relaxed);
            }
        }
        self.state = next;
        if !matches!(staffing, Staffing::PickedUp(_)) {
            self.sync_queue(None);
        }
        self.last_at = entry.at;
        self.stored_entries += 1;
        self.stored_bytes += bytes;
        // No receivers is fine: nobody is watching right now.
        let _ = self.entries.send(entry.clone());
        // A technician's own message goes out at once: the console counts what it has
        // not seen from the summaries, and must not count its own words.
        if matches!(entry.kind, EntryKind::Chat { .. })
            && entry.author == Author::Customer
            && new_phase.is_none()
        {
            self.summary_due
                .get_or_insert_with(|| Instant::now() + SUMMARY_AFTER_CHAT);
        } else {
            self.summary_due = None;
            self.publish();
        }
        Ok(entry)
    }

    /// Reads the session again from storage after another broker wrote to it: the state
    /// and who works on the session follow the log as stored, and the entries this task
    /// had not seen go to its watchers, in order, before anything it appends next.
    async fn catch_up(&mut self) -> Result<(), AppendError> {
        let id = self.id.clone();
        let stored = store::call(&self.ctx.store, move |s| s.load(&id))
            .await
            .map_err(AppendError::Storage)?
            .ok_or_else(|| {
                AppendError::Storage(DbError::Corrupt(format!("session {} is gone", self.id)))
            })?;
        let state = super::fold_stored(&self.id, &stored.entries).map_err(AppendError::Storage)?;
        let seen = self.state.last_seq();
        let (from, to) = (self.state.phase(), state.phase());
        let row = stored.row;
        self.owner = row.technician_id;
        self.owner_cell
            .store(row.technician_id.unwrap_or(0), Ordering::Relaxed);
        self.technician = row.technician;
        self.team = row.team;
        self.guests = row.guests;
        self.details = row.details;
        self.check_code = row.check_code;
        self.stored_entries = stored.stored_entries;
        self.stored_bytes = stored.stored_bytes;
        self.state = state;
        if let Some(last) = stored.entries.last() {
            self.last_at = self.last_at.max(last.at);
        }
        if from != to {
            self.ctx.count_candidate(&self.invitation, from, to);
        }
        if to == Phase::Ended {
            self.ended.store(true, Ordering::Relaxed);
        }
        for entry in stored.entries.into_iter().filter(|e| e.seq > seen) {
            let _ = self.entries.send(entry);
        }
        self.sync_queue(None);
        self.publish();
        Ok(())
    }

    /// Refuses an entry past the log's caps: members' actions at the cap, the broker's
    /// own a little later, the end of the session never.
    fn check_caps(&self, author: Author, kind: &EntryKind, bytes: u64) -> Result<(), AppendError> {
        if matches!(kind, EntryKind::SessionEnded { .. }) {
            return Ok(());
        }
        let caps = self.ctx.caps;
        let (entries, size) = (self.stored_entries + 1, self.stored_bytes + bytes);
        let over = match author {
            Author::System => {
                entries > caps.max_entries + SYSTEM_HEADROOM
                    || size > caps.max_bytes + SYSTEM_HEADROOM * 1024
            }
            _ => entries > caps.max_entries || size > caps.max_bytes,
        };
        if over {
            return Err(AppendError::Full {
                max_entries: caps.max_entries,
                max_bytes: caps.max_bytes,
            });
        }
        Ok(())
    }

    /// Counts one more socket on `seat`, or one fewer; answers the member's count now.
    fn count(&mut self, seat: SeatKey, more: bool) -> usize {
        let n = match seat {
            SeatKey::Customer => &mut self.customer_online,
            SeatKey::Technician(id) => {
                let i = match self.staff_online.iter().position(|(t, _)| *t == id) {
                    Some(i) => i,
                    None => {
                        self.staff_online.push((id, 0));
                        self.staff_online.len() - 1
                    }
                };
                &mut self.staff_online[i].1
            }
        };
        *n = if more { *n + 1 } else { n.saturating_sub(1) };
        let now = *n;
        self.staff_online.retain(|(_, n)| *n > 0);
        now
    }

    /// The member a seat speaks for, if it is one the log follows: the customer, or
    /// the technician who has the session (colleagues who joined come and go by their
    /// own entries).
    fn member(&self, seat: SeatKey) -> Option<Role> {
        match seat {
            SeatKey::Customer => Some(Role::Customer),
            SeatKey::Technician(id) if Some(id) == self.owner => Some(Role::Technician),
            SeatKey::Technician(_) => None,
        }
    }

    async fn connected(&mut self, seat: SeatKey) -> Result<(), AppendError> {
        let online = self.count(seat, true);
        let Some(role) = self.member(seat) else {
            self.publish();
            return Ok(());
        };
        let back = online == 1 && self.state.away(role) && self.state.phase() != Phase::Ended;
        if back {
            let at = self.now();
            self.append(Author::System, EntryKind::Reconnected { role }, at)
                .await?;
        } else {
            self.publish();
        }
        Ok(())
    }

    async fn disconnected(&mut self, seat: SeatKey) -> Result<(), AppendError> {
        let last = self.count(seat, false) == 0;
        let Some(role) = self.member(seat) else {
            self.publish();
            return Ok(());
        };
        let kind = EntryKind::Disconnected { role };
        let at = self.now();
        if last && self.state.check(Author::System, &kind, at).is_ok() {
            self.append(Author::System, kind, at).await?;
        } else {
            self.publish();
        }
        Ok(())
    }

    fn summary(&self) -> SessionSummary {
        SessionSummary {
            id: self.id.clone(),
            phase: self.state.phase(),
            created_at: self.created_at,
            pin_expires_at: self.timeouts.pin_expires_at,
            last_activity: self.last_at,
            messages: self.state.chat_count(),
            customer_online: self.customer_online > 0,
            check_code: self.check_code.clone(),
            candidates: self.ctx.candidates(&self.invitation, self.state.phase()),
            phase_since: self.state.phase_since(),
            team: self.team.as_ref().map(|t| TeamRef {
                slug: t.slug.clone(),
                name: t.name.clone(),
            }),
            technician: self.technician.clone(),
            details: self.details.clone(),
            guests: self.guest_refs(true),
            invited: self.guest_refs(false),
        }
    }

    fn guest_refs(&self, joined: bool) -> Vec<TechnicianRef> {
        self.guests
            .iter()
            .filter(|g| g.joined == joined)
            .map(|g| g.who.clone())
            .collect()
    }

    /// Tells consoles the session is new or changed.
    fn publish(&self) {
        self.publish_to(Vec::new());
    }

    /// [`Self::publish`], also to the consoles of `former` members (who just left it).
    fn publish_to(&self, former: Vec<i64>) {
        let mut watchers: Vec<i64> = self.guests.iter().map(|g| g.technician_id).collect();
        watchers.extend(former);
        let update = SummaryUpdate {
            technician_id: self.owner,
            team_id: self.team.as_ref().map(|t| t.id),
            watchers,
            summary: self.summary(),
        };
        // The consoles on the other brokers hear it too.
        self.tell_cluster(crate::cluster::EventBody::Summary(Box::new(update.clone())));
        let _ = self.ctx.summaries.send(update);
    }

    /// Tells the other brokers of a cluster, if there are any.
    fn tell_cluster(&self, body: crate::cluster::EventBody) {
        if let Some(cluster) = &self.ctx.cluster {
            let cluster = cluster.clone();
            tokio::spawn(async move {
                if let Err(e) = cluster.publish(body).await {
                    tracing::warn!(error = %e, "could not tell the other brokers");
                }
            });
        }
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
