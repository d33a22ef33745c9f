//! The live sessions: each one's state (the fold of its log), who is connected, and the
//! fan-out of new entries.
//!
//! Appending is the one path by which a log grows: under the session's lock the
//! reducer checks the entry, the log's caps are checked, the database commits it, the
//! state applies it, and only then do subscribers see it. Subscribing takes the same
//! lock, so a subscriber gets every entry exactly once: the stored ones first, then the
//! live ones.
//!
//! Each session has one socket per role: a newer one replaces the older
//! ([`LiveSession::take_seat`]), and the message rate is counted per session and role,
//! not per socket, so opening more sockets buys nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use connectit_protocol::api::SessionSummary;
use connectit_protocol::{
    Author, EntryKind, Link, LogEntry, Millis, Phase, Role, RuleViolation, Seq, SessionId,
    SessionState,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::db::{self, Db, DbError};

/// Entries a slow subscriber may fall behind by before it re-reads from the database.
const FANOUT_CAPACITY: usize = 256;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Why an append did not happen.
#[derive(Debug)]
pub enum AppendError {
    /// The rules refuse it.
    Rule(RuleViolation),
    /// It could not be stored; nothing was acknowledged or sent.
    Storage(DbError),
    /// The session's log is at its cap.
    Full { max_entries: u64, max_bytes: u64 },
}

/// How much one session's log may hold. Past either, the members' actions are
/// refused; what the broker itself must record (connections, expiries, the end) still
/// goes in, up to [`SYSTEM_HEADROOM`] more entries, and the end of the session always.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_entries: u64,
    pub max_bytes: u64,
}

/// Entries the broker may still add itself past the cap.
pub const SYSTEM_HEADROOM: u64 = 1000;

/// Messages per second a member may send on average, and in a burst, counted per
/// session and role whatever the number of sockets.
const RATE_PER_SEC: f64 = 20.0;
const RATE_BURST: f64 = 60.0;

/// A permission request's deadline, for the task that expires unanswered requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub session: SessionId,
    pub request: u32,
    pub at: Millis,
}

/// A WebRTC signal on its way from one member to the other.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub from: Role,
    pub link: Link,
    pub payload: Arc<str>,
}

/// A summary change, for the consoles of the session's technician.
#[derive(Debug, Clone)]
pub struct SummaryUpdate {
    pub technician_id: i64,
    pub summary: SessionSummary,
}

/// All sessions that are live in memory.
pub struct Hub {
    db: Db,
    caps: Caps,
    /// How many are joining or waiting with each PIN or link that more than one
    /// person used (the others have one candidate at most).
    shared: Mutex<HashMap<SessionId, u32>>,
    /// Invitations whose sessions' summaries are to be sent again.
    refresh: mpsc::UnboundedSender<SessionId>,
    /// Loaded sessions, by id. Loaded on first use, dropped when over and unwatched.
    sessions: Mutex<HashMap<SessionId, Arc<LiveSession>>>,
    /// Summary changes, for consoles.
    summaries: broadcast::Sender<SummaryUpdate>,
    /// Deadlines of pending permission requests, for the expiry task.
    deadlines: mpsc::UnboundedSender<Deadline>,
}

/// One session in memory.
pub struct LiveSession {
    pub id: SessionId,
    /// The technician who created it (the only one who may work on it).
    pub technician_id: i64,
    /// The session whose PIN or link this one was joined by (itself, mostly).
    pub invitation: SessionId,
    created_at: Millis,
    pin_expires_at: Millis,
    /// The socket that speaks for each role now.
    seats: Mutex<Seats>,
    /// Message-rate buckets, per role.
    rates: Mutex<[Rate; 2]>,
    /// The folded state and presence; held across the database write of an append.
    inner: tokio::sync::Mutex<Inner>,
    /// New entries, in order.
    entries: broadcast::Sender<LogEntry>,
    /// WebRTC signals between the two members (never stored).
    signals: broadcast::Sender<Relayed>,
}

struct Inner {
    state: SessionState,
    /// Time of the last entry (entries' times never go backwards).
    last_at: Millis,
    /// The code the customer reads out (once someone joined).
    check_code: Option<String>,
    /// Entries stored, and the bytes of their JSON (for the caps).
    stored_entries: u64,
    stored_bytes: u64,
    /// Open sockets per role.
    customers_online: usize,
    technicians_online: usize,
}

/// The hub's work for background tasks: request deadlines to keep, invitations whose
/// summaries to send again.
pub struct HubTasks {
    pub deadlines: mpsc::UnboundedReceiver<Deadline>,
    pub refresh: mpsc::UnboundedReceiver<SessionId>,
}

/// The socket holding a role's seat, and how to tell it that it was replaced.
#[derive(Default)]
struct Seats {
    next: u64,
    held: [Option<(u64, oneshot::Sender<()>)>; 2],
}

/// A socket's seat in a session: `replaced` completes when a newer socket takes it.
pub struct Seat {
    pub id: u64,
    pub role: Role,
    pub replaced: oneshot::Receiver<()>,
}

#[derive(Debug, Clone, Copy)]
struct Rate {
    tokens: f64,
    refilled: Instant,
}

fn seat_index(role: Role) -> usize {
    match role {
        Role::Customer => 0,
        Role::Technician => 1,
    }
}

impl LiveSession {
    /// Gives `role`'s seat to a new socket; the socket that held it hears that it was
    /// replaced.
    pub fn take_seat(&self, role: Role) -> Seat {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        seats.next += 1;
        let id = seats.next;
        let (tx, replaced) = oneshot::channel();
        if let Some((_, old)) = seats.held[seat_index(role)].replace((id, tx)) {
            let _ = old.send(());
        }
        Seat { id, role, replaced }
    }

    /// The socket with `seat` closed: its seat is free unless a newer one took it.
    pub fn leave_seat(&self, seat: &Seat) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let held = &mut seats.held[seat_index(seat.role)];
        if held.as_ref().is_some_and(|(id, _)| *id == seat.id) {
            *held = None;
        }
    }

    /// Whether `role` may send one more message now (the rate is the session's and
    /// the role's, not a socket's).
    pub fn allow_message(&self, role: Role) -> bool {
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        let rate = &mut rates[seat_index(role)];
        let now = Instant::now();
        rate.tokens = (rate.tokens
            + now.duration_since(rate.refilled).as_secs_f64() * RATE_PER_SEC)
            .min(RATE_BURST);
        rate.refilled = now;
        if rate.tokens < 1.0 {
            return false;
        }
        rate.tokens -= 1.0;
        true
    }
}

impl Hub {
    /// The hub, and the work it hands to background tasks.
    pub fn new(db: Db, caps: Caps) -> (Self, HubTasks) {
        let (summaries, _) = broadcast::channel(1024);
        let (deadlines, deadline_rx) = mpsc::unbounded_channel();
        let (refresh, refresh_rx) = mpsc::unbounded_channel();
        let hub = Hub {
            db,
            caps,
            shared: Mutex::new(HashMap::new()),
            refresh,
            sessions: Mutex::new(HashMap::new()),
            summaries,
            deadlines,
        };
        let tasks = HubTasks {
            deadlines: deadline_rx,
            refresh: refresh_rx,
        };
        (hub, tasks)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Summary changes from now on.
    pub fn watch_summaries(&self) -> broadcast::Receiver<SummaryUpdate> {
        self.summaries.subscribe()
    }

    /// The session, loaded from the database if need be; `None` if there is none.
    pub async fn get(&self, id: &SessionId) -> Result<Option<Arc<LiveSession>>, DbError> {
        if let Some(live) = self.lookup(id) {
            return Ok(Some(live));
        }
        let key = id.clone();
        let loaded = self
            .db
            .call(move |conn| {
                let Some(row) = db::session_row(conn, &key)? else {
                    return Ok(None);
                };
                let entries = db::entries_after(conn, &key, 0)?;
                let size = db::log_size(conn, &key)?;
                let shared = match db::invitation_size(conn, &row.invitation)? {
                    n if n > 1 => Some(db::open_candidates(conn, &row.invitation)?),
                    _ => None,
                };
                Ok(Some((row, entries, size, shared)))
            })
            .await?;
        let Some((row, entries, (stored_entries, stored_bytes), shared)) = loaded else {
            return Ok(None);
        };
        if let Some(open) = shared {
            self.shared_now()
                .entry(row.invitation.clone())
                .or_insert(open);
        }
        let state = SessionState::fold(&entries).map_err(|(seq, v)| {
            DbError(format!(
                "session {id}: stored entry {seq} breaks the rules: {v:?}"
            ))
        })?;
        let last_at = entries.last().map(|e| e.at).unwrap_or(row.created_at);
        // A request still pending when the broker stopped expires as it should.
        if let Some(p) = &state.pending() {
            let _ = self.deadlines.send(Deadline {
                session: id.clone(),
                request: p.request,
                at: p.deadline,
            });
        }
        let (tx, _) = broadcast::channel(FANOUT_CAPACITY);
        let (signals, _) = broadcast::channel(FANOUT_CAPACITY);
        let fresh = Rate {
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        let live = Arc::new(LiveSession {
            id: id.clone(),
            technician_id: row.technician_id,
            invitation: row.invitation,
            created_at: row.created_at,
            pin_expires_at: row.pin_expires_at,
            seats: Mutex::new(Seats::default()),
            rates: Mutex::new([fresh, fresh]),
            inner: tokio::sync::Mutex::new(Inner {
                state,
                last_at,
                check_code: row.check_code,
                stored_entries,
                stored_bytes,
                customers_online: 0,
                technicians_online: 0,
            }),
            entries: tx,
            signals,
        });
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Another task may have loaded it meanwhile: keep the first.
        Ok(Some(map.entry(id.clone()).or_insert(live).clone()))
    }

    fn shared_now(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, u32>> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops a session from memory (it loads again from the database on demand).
    pub fn forget(&self, id: &SessionId) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Someone else joined with `invitation`'s PIN or link, or one of them started or
    /// stopped waiting: counts who is joining or waiting with it again (the database
    /// is the count) and sends its sessions' summaries again.
    pub async fn refresh_invitation(&self, invitation: &SessionId) {
        let key = invitation.clone();
        match self
            .db
            .call(move |conn| db::open_candidates(conn, &key))
            .await
        {
            Ok(open) => {
                self.shared_now().insert(invitation.clone(), open);
            }
            Err(e) => tracing::warn!(error = %e, "could not count a PIN's candidates"),
        }
        self.announce_invitation(invitation).await;
    }

    /// Sends the summaries of the loaded sessions of `invitation` again.
    async fn announce_invitation(&self, invitation: &SessionId) {
        let members: Vec<Arc<LiveSession>> = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|l| &l.invitation == invitation)
            .cloned()
            .collect();
        for live in members {
            self.announce(&live).await;
        }
    }

    fn lookup(&self, id: &SessionId) -> Option<Arc<LiveSession>> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Appends an entry by `author`, if the rules allow it now.
    pub async fn append(
        &self,
        live: &LiveSession,
        author: Author,
        kind: EntryKind,
    ) -> Result<LogEntry, AppendError> {
        let mut inner = live.inner.lock().await;
        let at = now_ms().max(inner.last_at);
        self.append_locked(live, &mut inner, author, kind, at).await
    }

    /// Appends what the rules decide from the state and the entries' time
    /// ([`connectit_protocol::decide`]): the first entry, or the refusal; then each
    /// entry that follows from it, under the same hold of the session, so nothing comes
    /// between them. Answers the entries appended.
    pub async fn append_decided(
        &self,
        live: &LiveSession,
        decide: impl FnOnce(&SessionState, Millis) -> Result<Vec<(Author, EntryKind)>, RuleViolation>,
    ) -> Result<Vec<LogEntry>, AppendError> {
        let mut inner = live.inner.lock().await;
        let at = now_ms().max(inner.last_at);
        let decided = decide(&inner.state, at).map_err(AppendError::Rule)?;
        let mut appended = Vec::with_capacity(decided.len());
        for (i, (author, kind)) in decided.into_iter().enumerate() {
            match self.append_locked(live, &mut inner, author, kind, at).await {
                Ok(entry) => appended.push(entry),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    // The action stands; what follows from it could not be stored.
                    tracing::warn!(session = %live.id, error = ?e, "could not log a consequence");
                    break;
                }
            }
        }
        Ok(appended)
    }

    async fn append_locked(
        &self,
        live: &LiveSession,
        inner: &mut Inner,
        author: Author,
        kind: EntryKind,
        at: Millis,
    ) -> Result<LogEntry, AppendError> {
        inner
            .state
            .check(author, &kind, at)
            .map_err(AppendError::Rule)?;
        let bytes = serde_json::to_string(&kind).map(|k| k.len()).unwrap_or(0) as u64;
        self.check_caps(inner, author, &kind, bytes)?;
        let entry = LogEntry {
            seq: inner.state.last_seq() + 1,
            at,
            author,
            kind,
        };
        let mut next = inner.state.clone();
        next.apply(&entry).map_err(AppendError::Rule)?;
        let new_phase = (next.phase() != inner.state.phase()).then_some(next.phase());
        let (id, stored) = (live.id.clone(), entry.clone());
        self.db
            .call(move |conn| db::append_entry(conn, &id, &stored, new_phase))
            .await
            .map_err(AppendError::Storage)?;
        if let Some(phase) = new_phase {
            self.count_candidate(live, inner.state.phase(), phase);
        }
        inner.state = next;
        inner.last_at = entry.at;
        inner.stored_entries += 1;
        inner.stored_bytes += bytes;
        if let EntryKind::PermissionRequested {
            request, deadline, ..
        }
        | EntryKind::PermissionExtended { request, deadline } = &entry.kind
        {
            let _ = self.deadlines.send(Deadline {
                session: live.id.clone(),
                request: *request,
                at: *deadline,
            });
        }
        // No receivers is fine: nobody is watching right now.
        let _ = live.entries.send(entry.clone());
        self.publish(live, inner);
        Ok(entry)
    }

    /// Refuses an entry past the log's caps: members' actions at the cap, the broker's
    /// own a little later, the end of the session never.
    fn check_caps(
        &self,
        inner: &Inner,
        author: Author,
        kind: &EntryKind,
        bytes: u64,
    ) -> Result<(), AppendError> {
        if matches!(kind, EntryKind::SessionEnded { .. }) {
            return Ok(());
        }
        let caps = self.caps;
        let (entries, size) = (inner.stored_entries + 1, inner.stored_bytes + bytes);
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

    /// A session of a PIN or link that several people used started or stopped joining
    /// or waiting: its invitation's count is read again and its sessions' summaries
    /// sent again (by the task that keeps invitations, outside this session's lock).
    fn count_candidate(&self, live: &LiveSession, from: Phase, to: Phase) {
        let open = |p: Phase| matches!(p, Phase::Connecting | Phase::Waiting);
        if open(from) != open(to) && self.shared_now().contains_key(&live.invitation) {
            let _ = self.refresh.send(live.invitation.clone());
        }
    }

    /// How many people are joining or waiting with the session's PIN or link.
    fn candidates(&self, live: &LiveSession, phase: Phase) -> u32 {
        match self.shared_now().get(&live.invitation) {
            Some(n) => *n,
            None => u32::from(matches!(phase, Phase::Connecting | Phase::Waiting)),
        }
    }

    /// Relays a WebRTC signal to the other member, if the rules let the link be open.
    pub async fn relay(
        &self,
        live: &LiveSession,
        from: Role,
        link: Link,
        payload: &str,
    ) -> Result<(), RuleViolation> {
        let inner = live.inner.lock().await;
        inner.state.link_allows(link)?;
        let _ = live.signals.send(Relayed {
            from,
            link,
            payload: payload.into(),
        });
        Ok(())
    }

    /// Signals relayed in this session from now on.
    pub fn watch_signals(&self, live: &LiveSession) -> broadcast::Receiver<Relayed> {
        live.signals.subscribe()
    }

    /// Entries after `after` and a receiver for the ones to come, with no gap and no
    /// overlap between the two.
    pub async fn subscribe(
        &self,
        live: &LiveSession,
        after: Seq,
    ) -> Result<(Vec<LogEntry>, broadcast::Receiver<LogEntry>), DbError> {
        let inner = live.inner.lock().await;
        let rx = live.entries.subscribe();
        let backlog = if after < inner.state.last_seq() {
            self.entries_after(&live.id, after).await?
        } else {
            Vec::new()
        };
        drop(inner);
        Ok((backlog, rx))
    }

    /// Stored entries after `after` (for a subscriber that fell behind).
    pub async fn entries_after(
        &self,
        id: &SessionId,
        after: Seq,
    ) -> Result<Vec<LogEntry>, DbError> {
        let id = id.clone();
        self.db
            .call(move |conn| db::entries_after(conn, &id, after))
            .await
    }

    /// The session's state now.
    pub async fn state(&self, live: &LiveSession) -> SessionState {
        live.inner.lock().await.state.clone()
    }

    /// The code the customer reads out, once someone joined.
    pub async fn check_code(&self, live: &LiveSession) -> Option<String> {
        live.inner.lock().await.check_code.clone()
    }

    /// Someone joined with this check code (stored already).
    pub async fn set_check_code(&self, live: &LiveSession, code: Option<String>) {
        live.inner.lock().await.check_code = code;
    }

    /// A socket of `role` opened. A member coming back after a drop is logged.
    pub async fn connected(&self, live: &LiveSession, role: Role) -> Result<(), AppendError> {
        let mut inner = live.inner.lock().await;
        let away = match role {
            Role::Customer => {
                inner.customers_online += 1;
                inner.customers_online == 1 && inner.state.away(Role::Customer)
            }
            Role::Technician => {
                inner.technicians_online += 1;
                inner.technicians_online == 1 && inner.state.away(Role::Technician)
            }
        };
        if away && inner.state.phase() != Phase::Ended {
            let at = now_ms().max(inner.last_at);
            self.append_locked(
                live,
                &mut inner,
                Author::System,
                EntryKind::Reconnected { role },
                at,
            )
            .await?;
        } else {
            self.publish(live, &inner);
        }
        Ok(())
    }

    /// A socket of `role` closed. The last one of a present member is logged as a drop.
    pub async fn disconnected(&self, live: &LiveSession, role: Role) -> Result<(), AppendError> {
        let mut inner = live.inner.lock().await;
        let count = match role {
            Role::Customer => &mut inner.customers_online,
            Role::Technician => &mut inner.technicians_online,
        };
        *count = count.saturating_sub(1);
        let last = *count == 0;
        let kind = EntryKind::Disconnected { role };
        let at = now_ms().max(inner.last_at);
        if last && inner.state.check(Author::System, &kind, at).is_ok() {
            self.append_locked(live, &mut inner, Author::System, kind, at)
                .await?;
        } else {
            self.publish(live, &inner);
        }
        Ok(())
    }

    /// The console's view of a session.
    pub async fn summary(&self, live: &LiveSession) -> SessionSummary {
        let inner = live.inner.lock().await;
        self.summary_of(live, &inner)
    }

    fn summary_of(&self, live: &LiveSession, inner: &Inner) -> SessionSummary {
        SessionSummary {
            id: live.id.clone(),
            phase: inner.state.phase(),
            created_at: live.created_at,
            pin_expires_at: live.pin_expires_at,
            last_activity: inner.last_at,
            messages: inner.state.chat_count(),
            customer_online: inner.customers_online > 0,
            check_code: inner.check_code.clone(),
            candidates: self.candidates(live, inner.state.phase()),
        }
    }

    /// Tells consoles the session is new or changed.
    pub async fn announce(&self, live: &LiveSession) {
        let inner = live.inner.lock().await;
        self.publish(live, &inner);
    }

    fn publish(&self, live: &LiveSession, inner: &Inner) {
        let _ = self.summaries.send(SummaryUpdate {
            technician_id: live.technician_id,
            summary: self.summary_of(live, inner),
        });
    }

    /// Forgets sessions that are over and that no socket watches (they load again on
    /// demand).
    pub fn evict_idle(&self) {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, live| {
            let watched = live.entries.receiver_count() > 0;
            let ended = live
                .inner
                .try_lock()
                .map(|i| i.state.phase() == Phase::Ended)
                .unwrap_or(false);
            watched || !ended
        });
    }

    /// Number of sessions in memory.
    pub fn loaded(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}
