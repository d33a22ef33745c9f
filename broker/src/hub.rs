//! The live sessions: each one's state (the fold of its log), who is connected, and the
//! fan-out of new entries.
//!
//! Appending is the one path by which a log grows: under the session's lock the
//! reducer checks the entry, the database commits it, the state applies it, and only
//! then do subscribers see it. Subscribing takes the same lock, so a subscriber gets
//! every entry exactly once: the stored ones first, then the live ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use connectit_protocol::api::SessionSummary;
use connectit_protocol::{
    Author, EntryKind, Link, LogEntry, Millis, Phase, Role, RuleViolation, Seq, SessionId,
    SessionState,
};
use tokio::sync::{broadcast, mpsc};

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
}

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
    created_at: Millis,
    pin_expires_at: Millis,
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
    /// Open sockets per role.
    customers_online: usize,
    technicians_online: usize,
}

impl Hub {
    /// The hub, and the receiving end of the request deadlines it announces.
    pub fn new(db: Db) -> (Self, mpsc::UnboundedReceiver<Deadline>) {
        let (summaries, _) = broadcast::channel(1024);
        let (deadlines, deadline_rx) = mpsc::unbounded_channel();
        let hub = Hub {
            db,
            sessions: Mutex::new(HashMap::new()),
            summaries,
            deadlines,
        };
        (hub, deadline_rx)
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
                Ok(Some((row, entries)))
            })
            .await?;
        let Some((row, entries)) = loaded else {
            return Ok(None);
        };
        let state = SessionState::fold(&entries).map_err(|(seq, v)| {
            DbError(format!(
                "session {id}: stored entry {seq} breaks the rules: {v:?}"
            ))
        })?;
        let last_at = entries.last().map(|e| e.at).unwrap_or(row.created_at);
        // A request still pending when the broker stopped expires as it should.
        if let Some(p) = &state.pending {
            let _ = self.deadlines.send(Deadline {
                session: id.clone(),
                request: p.request,
                at: p.deadline,
            });
        }
        let (tx, _) = broadcast::channel(FANOUT_CAPACITY);
        let (signals, _) = broadcast::channel(FANOUT_CAPACITY);
        let live = Arc::new(LiveSession {
            id: id.clone(),
            technician_id: row.technician_id,
            created_at: row.created_at,
            pin_expires_at: row.pin_expires_at,
            inner: tokio::sync::Mutex::new(Inner {
                state,
                last_at,
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
        self.append_with(live, author, |_, _| Ok(kind)).await
    }

    /// Appends the entry `build` makes from the state and the entry's time (for entries
    /// that depend on them: a request's id and deadline, say).
    pub async fn append_with(
        &self,
        live: &LiveSession,
        author: Author,
        build: impl FnOnce(&SessionState, Millis) -> Result<EntryKind, RuleViolation>,
    ) -> Result<LogEntry, AppendError> {
        let mut inner = live.inner.lock().await;
        let at = now_ms().max(inner.last_at);
        let kind = build(&inner.state, at).map_err(AppendError::Rule)?;
        self.append_locked(live, &mut inner, author, kind, at).await
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
        let entry = LogEntry {
            seq: inner.state.last_seq + 1,
            at,
            author,
            kind,
        };
        let mut next = inner.state.clone();
        next.apply(&entry).map_err(AppendError::Rule)?;
        let new_phase = (next.phase != inner.state.phase).then_some(next.phase);
        let (id, stored) = (live.id.clone(), entry.clone());
        self.db
            .call(move |conn| db::append_entry(conn, &id, &stored, new_phase))
            .await
            .map_err(AppendError::Storage)?;
        inner.state = next;
        inner.last_at = entry.at;
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

    /// Relays a WebRTC signal to the other member, if the session is active and the
    /// link's permission is granted right now.
    pub async fn relay(
        &self,
        live: &LiveSession,
        from: Role,
        link: Link,
        payload: &str,
    ) -> Result<(), RuleViolation> {
        let inner = live.inner.lock().await;
        if inner.state.phase != Phase::Active {
            return Err(RuleViolation::WrongPhase {
                phase: inner.state.phase,
            });
        }
        if !link.allowed(&inner.state.granted) {
            return Err(RuleViolation::NotGranted);
        }
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
        let backlog = if after < inner.state.last_seq {
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

    /// A socket of `role` opened. A member coming back after a drop is logged.
    pub async fn connected(&self, live: &LiveSession, role: Role) -> Result<(), AppendError> {
        let mut inner = live.inner.lock().await;
        let away = match role {
            Role::Customer => {
                inner.customers_online += 1;
                inner.customers_online == 1 && inner.state.customer_away
            }
            Role::Technician => {
                inner.technicians_online += 1;
                inner.technicians_online == 1 && inner.state.technician_away
            }
        };
        if away && inner.state.phase != Phase::Ended {
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
        summary_of(live, &inner)
    }

    /// Tells consoles the session is new or changed.
    pub async fn announce(&self, live: &LiveSession) {
        let inner = live.inner.lock().await;
        self.publish(live, &inner);
    }

    fn publish(&self, live: &LiveSession, inner: &Inner) {
        let _ = self.summaries.send(SummaryUpdate {
            technician_id: live.technician_id,
            summary: summary_of(live, inner),
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
                .map(|i| i.state.phase == Phase::Ended)
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

fn summary_of(live: &LiveSession, inner: &Inner) -> SessionSummary {
    SessionSummary {
        id: live.id.clone(),
        phase: inner.state.phase,
        created_at: live.created_at,
        pin_expires_at: live.pin_expires_at,
        last_activity: inner.last_at,
        messages: inner.state.chat_count,
        customer_online: inner.customers_online > 0,
    }
}
