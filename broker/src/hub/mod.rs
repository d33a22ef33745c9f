//! The live sessions. Each is owned by one task ([`actor`]) that holds its state, its
//! presence, its timers and its fan-out; a [`LiveSession`] is the handle the sockets
//! and handlers hold, and the [`Hub`] finds (or loads) the handle of a session.
//!
//! Each session has one socket per member (the customer, and each technician in it): a
//! newer one replaces the older ([`LiveSession::take_seat`]), and the message rate is
//! counted per session and role, not per socket, so opening more sockets buys nothing.

pub mod actor;
pub mod queue;
pub mod remote;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use connectit_protocol::api::{SessionDetails, SessionSummary, TechnicianRef};
use connectit_protocol::wire::CloseReason;
use connectit_protocol::{
    Action, Author, EntryKind, Limits, Link, LogEntry, Millis, Phase, Role, RuleViolation, Seq,
    SessionId, SessionState, Timeouts,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::db::DbError;
use crate::store::{self, SessionStore};
use actor::{Command, SessionActor};

/// Entries a slow subscriber may fall behind by before it re-reads from storage (one
/// read: ws.rs's `Lagged` arm). Every slot is allocated with the session, so this is
/// most of a session's memory: 32 slots of about 112 bytes.
const FANOUT_CAPACITY: usize = 32;

/// Signals a socket may fall behind by before some are lost (ICE recovers, or a
/// restart): more than a member's whole burst ([`RATE_BURST`]).
const SIGNAL_CAPACITY: usize = 64;

/// Commands a session's task may have queued before senders wait.
const COMMAND_CAPACITY: usize = 64;

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
    /// Another technician has the session (picked it up first).
    Taken,
    /// The session's task is gone (the broker is stopping).
    Stopped,
}

/// The state of session `id` from its stored log; a log the rules refuse is corrupt.
fn fold_stored(id: &SessionId, entries: &[LogEntry]) -> Result<SessionState, DbError> {
    SessionState::fold(entries).map_err(|(seq, v)| {
        DbError::Corrupt(format!(
            "session {id}: stored entry {seq} breaks the rules: {v:?}"
        ))
    })
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

/// What the configuration tells every session.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub caps: Caps,
    /// The rules' limits: a prompt's time, a file's size.
    pub limits: Limits,
    /// How long a customer may stay joining or waiting, in ms.
    pub waiting_ms: u64,
    /// How long a session goes on after its customer dropped, in ms.
    pub abandon_ms: u64,
}

/// Messages per second a member may send on average, and in a burst, counted per
/// session and role whatever the number of sockets.
const RATE_PER_SEC: f64 = 20.0;
const RATE_BURST: f64 = 60.0;

/// A WebRTC signal on its way from one member to the other.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub from: Role,
    pub link: Link,
    pub payload: Arc<str>,
}

/// A summary change, for the consoles of the session's technician, of its team's
/// members, and of colleagues invited into it (on every broker of a cluster).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SummaryUpdate {
    /// Who has the session (`None`: nobody yet, it waits in its team's queue).
    pub technician_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Colleagues invited or joined, and those who just left it (by hand-over or by
    /// leaving), who hear of it once more.
    pub watchers: Vec<i64>,
    pub summary: SessionSummary,
}

impl SummaryUpdate {
    /// Whether the console of `technician_id`, a member of `teams`, is told of it.
    pub fn concerns(&self, technician_id: i64, teams: &[i64]) -> bool {
        self.technician_id == Some(technician_id)
            || self.watchers.contains(&technician_id)
            || self.team_id.is_some_and(|t| teams.contains(&t))
    }
}

/// Whose socket: the customer's, or a technician's (by account: the one who has the
/// session, or a colleague who joined it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatKey {
    Customer,
    Technician(i64),
}

/// What every session's task shares.
pub struct Context {
    store: Arc<dyn SessionStore>,
    caps: Caps,
    limits: Limits,
    /// How many are joining or waiting with each PIN or link that more than one
    /// person used (the others have one candidate at most).
    shared: Mutex<HashMap<SessionId, u32>>,
    /// Invitations whose sessions' summaries are to be sent again.
    refresh: mpsc::UnboundedSender<SessionId>,
    /// Summary changes, for consoles.
    summaries: broadcast::Sender<SummaryUpdate>,
    /// The teams' queues.
    queues: queue::Queues,
    /// Append latencies, for `/metrics`.
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// The other brokers, in the scale-out mode.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The key calls between brokers are signed with.
    key: crate::secrets::PinKey,
}

impl Context {
    fn shared_now(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, u32>> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session of a PIN or link that several people used started or stopped joining
    /// or waiting: its invitation's count is read again and its sessions' summaries
    /// sent again (by the task that keeps invitations, outside this session's task).
    fn count_candidate(&self, invitation: &SessionId, from: Phase, to: Phase) {
        let open = |p: Phase| matches!(p, Phase::Connecting | Phase::Waiting);
        if open(from) != open(to) && self.shared_now().contains_key(invitation) {
            let _ = self.refresh.send(invitation.clone());
        }
    }

    /// How many people are joining or waiting with the session's PIN or link.
    fn candidates(&self, invitation: &SessionId, phase: Phase) -> u32 {
        match self.shared_now().get(invitation) {
            Some(n) => *n,
            None => u32::from(matches!(phase, Phase::Connecting | Phase::Waiting)),
        }
    }
}

/// All sessions that are live in memory.
pub struct Hub {
    ctx: Arc<Context>,
    waiting_ms: u64,
    abandon_ms: u64,
    /// Loaded sessions, by id: every open one, and ended ones someone still watches.
    sessions: Mutex<HashMap<SessionId, Arc<LiveSession>>>,
}

/// The handle of one live session.
pub struct LiveSession {
    pub id: SessionId,
    /// The technician who has it (who made it, or picked it up from a queue), the only
    /// one who may work on it; 0 while nobody has it.
    owner: Arc<AtomicI64>,
    /// The team whose queue it came through.
    pub team_id: Option<i64>,
    /// The session whose PIN or link this one was joined by (itself, mostly).
    pub invitation: SessionId,
    /// Boxed: a channel allocates its slots in blocks of 32 up front, so each live
    /// session holds 32 pointers instead of 32 commands.
    commands: mpsc::Sender<Box<Command>>,
    /// The socket that speaks for each member now.
    seats: Mutex<Seats>,
    /// Message-rate buckets, per role.
    rates: Mutex<[Rate; 2]>,
    /// The task's fan-outs (kept here to count watchers and to listen to signals).
    entries: broadcast::Sender<LogEntry>,
    signals: broadcast::Sender<Relayed>,
    ended: Arc<AtomicBool>,
    /// Set when another broker of the cluster runs the session: what is asked of
    /// this handle is asked of that broker ([`remote`]).
    pub(crate) remote: Option<remote::Remote>,
}

/// Where a session runs.
pub enum Located {
    Here(Arc<LiveSession>),
    /// On another broker: its id, and the address it is reached at (`http://host:port`).
    Elsewhere {
        broker: String,
        address: String,
    },
    /// There is no such session.
    Missing,
}

/// The hub's work for background tasks: invitations whose summaries to send again.
pub struct HubTasks {
    pub refresh: mpsc::UnboundedReceiver<SessionId>,
}

/// The socket holding each member's seat, and how to tell it to close.
#[derive(Default)]
struct Seats {
    next: u64,
    held: Vec<(SeatKey, u64, oneshot::Sender<SeatEnd>)>,
}

/// Why a socket must close from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatEnd {
    /// For good, with this reason (a newer socket took the seat, the technician's
    /// place in the session changed).
    Reason(CloseReason),
    /// To connect again at once: the session moves to another broker (this one is
    /// stopping, or lost its lease).
    Reconnect,
}

/// A socket's seat in a session: `closed` completes with the reason it must close (a
/// newer socket took the seat, the technician's place in the session changed).
pub struct Seat {
    pub id: u64,
    pub key: SeatKey,
    pub closed: oneshot::Receiver<SeatEnd>,
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
    /// The technician who has the session (`None`: it waits in its team's queue).
    pub fn owner(&self) -> Option<i64> {
        match self.owner.load(Ordering::Acquire) {
            0 => None,
            id => Some(id),
        }
    }

    /// Gives `key`'s seat to a new socket; the socket that held it hears that it was
    /// replaced.
    pub fn take_seat(&self, key: SeatKey) -> Seat {
        self.close_seat(key, CloseReason::Replaced);
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        seats.next += 1;
        let id = seats.next;
        let (tx, closed) = oneshot::channel();
        seats.held.push((key, id, tx));
        Seat { id, key, closed }
    }

    /// The socket with `seat` closed: its seat is free unless a newer one took it.
    pub fn leave_seat(&self, seat: &Seat) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        seats.held.retain(|(_, id, _)| *id != seat.id);
    }

    /// Closes the socket on `key`'s seat, if any, for `reason`.
    pub fn close_seat(&self, key: SeatKey, reason: CloseReason) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = seats.held.iter().position(|(k, _, _)| *k == key) {
            let (_, _, tx) = seats.held.swap_remove(i);
            let _ = tx.send(SeatEnd::Reason(reason));
        }
    }

    /// Closes every socket of the session, to connect again at once.
    pub fn reconnect_all(&self) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        for (_, _, tx) in std::mem::take(&mut seats.held) {
            let _ = tx.send(SeatEnd::Reconnect);
        }
    }

    /// Closes every technician's socket, for `reason`.
    pub fn close_technicians(&self, reason: CloseReason) {
        let mut seats = self.seats.lock().unwrap_or_else(|p| p.into_inner());
        let held = std::mem::take(&mut seats.held);
        for (key, id, tx) in held {
            match key {
                SeatKey::Technician(_) => {
                    let _ = tx.send(SeatEnd::Reason(reason));
                }
                _ => seats.held.push((key, id, tx)),
            }
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

    /// Signals relayed in this session from now on.
    pub fn watch_signals(&self) -> broadcast::Receiver<Relayed> {
        self.signals.subscribe()
    }

    /// Asks the session's task; `None` if it is gone.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Box::new(command(tx))).await.ok()?;
        rx.await.ok()
    }

    /// Appends an entry by the broker (or a member, through the HTTP API), if the
    /// rules allow it now.
    pub async fn append(&self, author: Author, kind: EntryKind) -> Result<LogEntry, AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::Append { author, kind }).await {
                Some(remote::Answer::Entry(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        self.ask(|reply| Command::Append {
            author,
            kind,
            reply,
        })
        .await
        .unwrap_or(Err(AppendError::Stopped))
    }

    /// Appends what the rules decide of `role`'s action (`technician`: the account of
    /// a technician's socket; `name`: theirs, for a pick-up and a colleague's chat):
    /// its entry, then what follows from it. Answers the entries appended.
    pub async fn act(
        &self,
        role: Role,
        technician: Option<i64>,
        name: &str,
        action: Action,
    ) -> Result<Vec<LogEntry>, AppendError> {
        if self.remote.is_some() {
            // A socket's actions go to the broker that runs the session, whole.
            return Err(AppendError::Stopped);
        }
        let name = name.to_string();
        self.ask(|reply| Command::Act {
            role,
            technician,
            name,
            action,
            reply,
        })
        .await
        .unwrap_or(Err(AppendError::Stopped))
    }

    /// Whether `technician_id` joined the session on an invitation.
    pub async fn is_guest(&self, technician_id: i64) -> bool {
        if let Some(r) = &self.remote {
            return matches!(
                r.call(remote::Call::IsGuest { technician_id }).await,
                Some(remote::Answer::Bool(true))
            );
        }
        self.ask(|reply| Command::IsGuest {
            technician_id,
            reply,
        })
        .await
        .unwrap_or(false)
    }

    /// `by`, who has the session, hands it to `to` (or back to its team's queue): the
    /// entry and the new owner in one step; the sockets of those no longer in it close.
    pub async fn hand_over(
        &self,
        by: i64,
        to: Option<(i64, TechnicianRef)>,
    ) -> Result<LogEntry, AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::HandOver { by, to }).await {
                Some(remote::Answer::Entry(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        let queued = to.is_none();
        let entry = self
            .ask(|reply| Command::HandOver { by, to, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))?;
        // A colleague who had joined and now has it keeps their socket: what a
        // socket may do is asked of the session's owner at each step.
        if queued {
            self.close_technicians(CloseReason::HandedOver);
        } else {
            self.close_seat(SeatKey::Technician(by), CloseReason::HandedOver);
        }
        Ok(entry)
    }

    /// `by`, who has the session, invites the colleague `guest`.
    pub async fn invite(
        &self,
        by: i64,
        guest: (i64, TechnicianRef),
    ) -> Result<LogEntry, AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::Invite { by, guest }).await {
                Some(remote::Answer::Entry(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        self.ask(|reply| Command::Invite { by, guest, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))
    }

    /// The invited colleague `technician_id` joins.
    pub async fn join(&self, technician_id: i64) -> Result<LogEntry, AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::Join { technician_id }).await {
                Some(remote::Answer::Entry(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        self.ask(|reply| Command::Join {
            technician_id,
            reply,
        })
        .await
        .unwrap_or(Err(AppendError::Stopped))
    }

    /// The colleague `guest` leaves (asked by themself, or by `by` who has the
    /// session); their socket closes.
    pub async fn leave(&self, by: i64, guest: i64) -> Result<LogEntry, AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::Leave { by, guest }).await {
                Some(remote::Answer::Entry(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        let entry = self
            .ask(|reply| Command::Leave { by, guest, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))?;
        self.close_seat(SeatKey::Technician(guest), CloseReason::HandedOver);
        Ok(entry)
    }

    /// `technician` picks the customer up: the pick-up entry, and the session is theirs
    /// from now on, in one step. Refused with [`AppendError::Taken`] if someone else
    /// has it, and by the rules if the customer does not wait.
    pub async fn pick_up(
        &self,
        technician_id: i64,
        technician: TechnicianRef,
    ) -> Result<Vec<LogEntry>, AppendError> {
        if let Some(r) = &self.remote {
            let call = remote::Call::PickUp {
                technician_id,
                technician,
            };
            return match r.call(call).await {
                Some(remote::Answer::Entries(e)) => e.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        self.ask(|reply| Command::PickUp {
            technician_id,
            technician,
            reply,
        })
        .await
        .unwrap_or(Err(AppendError::Stopped))
    }

    /// Replaces what is known of the customer, the problem and the ticket.
    pub async fn set_details(&self, details: SessionDetails) -> Result<(), AppendError> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::SetDetails { details }).await {
                Some(remote::Answer::Done(d)) => d.map_err(AppendError::from),
                _ => Err(AppendError::Stopped),
            };
        }
        self.ask(|reply| Command::SetDetails { details, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))
    }

    /// Relays a WebRTC signal to the other member, if the rules let the link be open.
    pub async fn relay(&self, from: Role, link: Link, payload: &str) -> Result<(), RuleViolation> {
        let signal = Relayed {
            from,
            link,
            payload: payload.into(),
        };
        self.ask(|reply| Command::Relay { signal, reply })
            .await
            // Gone: the broker is stopping, and the session with it.
            .unwrap_or(Err(RuleViolation::WrongPhase {
                phase: Phase::Ended,
            }))
    }

    /// A socket on `seat` opened. A member coming back after a drop is logged.
    pub async fn connected(&self, seat: SeatKey) -> Result<(), AppendError> {
        self.ask(|reply| Command::Connected { seat, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))
    }

    /// A socket on `seat` closed. The last one of a present member is logged as a drop.
    pub async fn disconnected(&self, seat: SeatKey) -> Result<(), AppendError> {
        self.ask(|reply| Command::Disconnected { seat, reply })
            .await
            .unwrap_or(Err(AppendError::Stopped))
    }

    /// The session's state now.
    pub async fn state(&self) -> Option<SessionState> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::State).await {
                Some(remote::Answer::State(state)) => state,
                _ => None,
            };
        }
        self.ask(|reply| Command::State { reply }).await
    }

    /// The console's view of the session.
    pub async fn summary(&self) -> Option<SessionSummary> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::Summary).await {
                Some(remote::Answer::Summary(summary)) => summary,
                _ => None,
            };
        }
        self.ask(|reply| Command::Summary { reply }).await
    }

    /// Tells consoles the session is new or changed.
    pub async fn announce(&self) {
        if let Some(r) = &self.remote {
            r.call(remote::Call::Announce).await;
            return;
        }
        let _ = self.commands.send(Box::new(Command::Announce)).await;
    }

    /// The code the customer reads out, once someone joined.
    pub async fn check_code(&self) -> Option<String> {
        if let Some(r) = &self.remote {
            return match r.call(remote::Call::CheckCode).await {
                Some(remote::Answer::Code(code)) => code,
                _ => None,
            };
        }
        self.ask(|reply| Command::CheckCode { reply })
            .await
            .flatten()
    }

    /// Someone joined with this check code (stored already).
    pub async fn set_check_code(&self, code: Option<String>) {
        if let Some(r) = &self.remote {
            r.call(remote::Call::SetCheckCode { code }).await;
            return;
        }
        self.ask(|reply| Command::SetCheckCode { code, reply })
            .await;
    }
}

impl Hub {
    /// The hub, and the work it hands to background tasks.
    pub fn new(
        store: Arc<dyn SessionStore>,
        rules: Rules,
        metrics: Arc<crate::metrics::Metrics>,
        cluster: Option<Arc<crate::cluster::Cluster>>,
        key: crate::secrets::PinKey,
    ) -> (Self, HubTasks) {
        let (summaries, _) = broadcast::channel(1024);
        let (refresh, refresh_rx) = mpsc::unbounded_channel();
        let ctx = Arc::new(Context {
            store,
            caps: rules.caps,
            limits: rules.limits,
            shared: Mutex::new(HashMap::new()),
            refresh,
            summaries,
            queues: queue::Queues::default(),
            metrics,
            cluster,
            key,
        });
        let hub = Hub {
            ctx,
            waiting_ms: rules.waiting_ms,
            abandon_ms: rules.abandon_ms,
            sessions: Mutex::new(HashMap::new()),
        };
        (
            hub,
            HubTasks {
                refresh: refresh_rx,
            },
        )
    }

    /// Summary changes from now on.
    pub fn watch_summaries(&self) -> broadcast::Receiver<SummaryUpdate> {
        self.ctx.summaries.subscribe()
    }

    /// A summary change another broker sent, for this broker's consoles.
    pub fn relay_summary(&self, update: SummaryUpdate) {
        let _ = self.ctx.summaries.send(update);
    }

    /// The other brokers, in the scale-out mode.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.ctx.cluster.as_ref()
    }

    /// Where session `id` runs: here (loaded, or loaded now, taking its lease in the
    /// scale-out mode), on another broker, or nowhere (no such session).
    pub async fn locate(&self, id: &SessionId) -> Result<Located, DbError> {
        if let Some(live) = self.lookup(id) {
            return Ok(Located::Here(live));
        }
        if let Some(cluster) = &self.ctx.cluster {
            // Boxed: a socket's future, which may come here, stays small without Redis.
            match Box::pin(cluster.claim(id)).await {
                Ok(crate::cluster::Owner::Here) => {}
                Ok(crate::cluster::Owner::Elsewhere { broker, address }) => {
                    return Ok(Located::Elsewhere { broker, address })
                }
                Err(e) => return Err(DbError::Unavailable(e.to_string())),
            }
        }
        Ok(match self.load(id).await? {
            Some(live) => Located::Here(live),
            None => {
                if let Some(cluster) = &self.ctx.cluster {
                    let _ = cluster.release(Some(std::slice::from_ref(id))).await;
                }
                Located::Missing
            }
        })
    }

    /// Sessions whose leases this broker lost: forgotten here, and their sockets closed
    /// so that they reconnect to the broker that has them now.
    pub fn lost(&self, ids: &[SessionId]) {
        for id in ids {
            let live = self
                .sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
            if let Some(live) = live {
                tracing::warn!(session = %id, "another broker took the session over");
                live.reconnect_all();
            }
        }
    }

    /// Every session loaded here, their sockets closed so that they reconnect (to
    /// another broker, this one stopping).
    pub fn reconnect_all(&self) {
        let all: Vec<Arc<LiveSession>> = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for live in all {
            live.reconnect_all();
        }
    }

    /// The teams' queues.
    pub fn queues(&self) -> &queue::Queues {
        &self.ctx.queues
    }

    /// Loads every session that is not over, so that what falls due in them (a PIN
    /// expiring, a wait running out, a prompt unanswered) happens, also after a restart.
    /// In the scale-out mode, those no other broker runs.
    pub async fn load_open(&self) -> Result<usize, DbError> {
        let ids = store::call(&self.ctx.store, |s| s.open_sessions()).await?;
        let mut loaded = 0;
        for id in ids {
            if self.lookup(&id).is_some() {
                continue;
            }
            match self.locate(&id).await {
                Ok(Located::Here(_)) => loaded += 1,
                Ok(Located::Elsewhere { .. } | Located::Missing) => {}
                Err(e) => tracing::error!(session = %id, error = %e, "could not load a session"),
            }
        }
        Ok(loaded)
    }

    /// The sessions loaded here.
    pub fn loaded_ids(&self) -> Vec<SessionId> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The session, loaded from storage if need be; `None` if there is none. In the
    /// scale-out mode, refused while another broker runs it (see [`Hub::locate`]).
    pub async fn get(&self, id: &SessionId) -> Result<Option<Arc<LiveSession>>, DbError> {
        match self.locate(id).await? {
            Located::Here(live) => Ok(Some(live)),
            Located::Missing => Ok(None),
            Located::Elsewhere { address, .. } => {
                Box::pin(self.remote_handle(id, address)).await.map(Some)
            }
        }
    }

    /// A handle on session `id`, which the broker at `address` runs.
    async fn remote_handle(
        &self,
        id: &SessionId,
        address: String,
    ) -> Result<Arc<LiveSession>, DbError> {
        let r = remote::Remote::new(address.clone(), id.clone(), self.ctx.key.clone());
        let (owner, team_id, invitation) = match r.call(remote::Call::Owner).await {
            Some(remote::Answer::Owner {
                owner,
                team_id,
                invitation,
            }) => (owner, team_id, invitation),
            _ => {
                return Err(DbError::Unavailable(format!(
                    "session {id}: the broker at {address} does not answer"
                )))
            }
        };
        let (commands, _) = mpsc::channel(1);
        let fresh = Rate {
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        Ok(Arc::new(LiveSession {
            id: id.clone(),
            owner: Arc::new(AtomicI64::new(owner.unwrap_or(0))),
            team_id,
            invitation,
            commands,
            seats: Mutex::new(Seats::default()),
            rates: Mutex::new([fresh, fresh]),
            entries: broadcast::channel(1).0,
            signals: broadcast::channel(1).0,
            ended: Arc::new(AtomicBool::new(false)),
            remote: Some(r),
        }))
    }

    /// Loads the session from storage (its lease is this broker's, or there is none).
    async fn load(&self, id: &SessionId) -> Result<Option<Arc<LiveSession>>, DbError> {
        let key = id.clone();
        let Some(stored) = store::call(&self.ctx.store, move |s| s.load(&key)).await? else {
            return Ok(None);
        };
        if let Some(open) = stored.shared {
            self.ctx
                .shared_now()
                .entry(stored.row.invitation.clone())
                .or_insert(open);
        }
        let state = fold_stored(id, &stored.entries)?;
        let row = stored.row;
        let last_at = stored.entries.last().map_or(row.created_at, |e| e.at);
        let (entries, _) = broadcast::channel(FANOUT_CAPACITY);
        let (signals, _) = broadcast::channel(SIGNAL_CAPACITY);
        let (commands, rx) = mpsc::channel(COMMAND_CAPACITY);
        let ended = Arc::new(AtomicBool::new(state.phase() == Phase::Ended));
        let fresh = Rate {
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        let owner = Arc::new(AtomicI64::new(row.technician_id.unwrap_or(0)));
        let live = Arc::new(LiveSession {
            id: id.clone(),
            owner: owner.clone(),
            team_id: row.team.as_ref().map(|t| t.id),
            invitation: row.invitation.clone(),
            commands,
            seats: Mutex::new(Seats::default()),
            rates: Mutex::new([fresh, fresh]),
            entries: entries.clone(),
            signals: signals.clone(),
            ended: ended.clone(),
            remote: None,
        });
        let actor = SessionActor {
            id: id.clone(),
            owner: row.technician_id,
            owner_cell: owner,
            technician: row.technician,
            team: row.team,
            guests: row.guests,
            details: row.details,
            queued: None,
            invitation: row.invitation,
            created_at: row.created_at,
            timeouts: Timeouts {
                pin_expires_at: row.pin_expires_at,
                waiting_ms: self.waiting_ms,
                abandon_ms: self.abandon_ms,
            },
            // A member has this long to come back (no longer than their absence may last).
            absence_check: Some(
                tokio::time::Instant::now()
                    + actor::RETURN_GRACE.min(std::time::Duration::from_millis(self.abandon_ms)),
            ),
            summary_due: None,
            state,
            last_at,
            check_code: row.check_code,
            stored_entries: stored.stored_entries,
            stored_bytes: stored.stored_bytes,
            customer_online: 0,
            staff_online: Vec::new(),
            entries,
            signals,
            ended,
            due_retry: None,
            ctx: self.ctx.clone(),
        };
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Another task may have loaded it meanwhile: keep the first (this one's task
        // never starts).
        if let Some(first) = map.get(id) {
            return Ok(Some(first.clone()));
        }
        map.insert(id.clone(), live.clone());
        tokio::spawn(actor.run(rx));
        Ok(Some(live))
    }

    /// Drops a session from memory (it loads again from storage on demand).
    pub fn forget(&self, id: &SessionId) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Someone else joined with `invitation`'s PIN or link, or one of them started or
    /// stopped waiting: counts who is joining or waiting with it again (storage is the
    /// count) and sends its sessions' summaries again.
    pub async fn refresh_invitation(&self, invitation: &SessionId) {
        let key = invitation.clone();
        match store::call(&self.ctx.store, move |s| s.open_candidates(&key)).await {
            Ok(open) => {
                self.ctx.shared_now().insert(invitation.clone(), open);
            }
            Err(e) => tracing::warn!(error = %e, "could not count a PIN's candidates"),
        }
        let members: Vec<Arc<LiveSession>> = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|l| &l.invitation == invitation)
            .cloned()
            .collect();
        for live in members {
            live.announce().await;
        }
    }

    fn lookup(&self, id: &SessionId) -> Option<Arc<LiveSession>> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Entries after `after` and a receiver for the ones to come, with no gap and no
    /// overlap between the two, and the last entry's number then.
    pub async fn subscribe(
        &self,
        live: &LiveSession,
        after: Seq,
    ) -> Result<(Vec<LogEntry>, broadcast::Receiver<LogEntry>, Seq), DbError> {
        let (last, rx) = live
            .ask(|reply| Command::Subscribe { reply })
            .await
            .ok_or_else(|| DbError::TaskFailed("the session's task is gone".into()))?;
        let backlog = if after < last {
            let mut stored = self.entries_after(&live.id, after).await?;
            // Entries stored after the subscription arrive on the receiver.
            stored.retain(|e| e.seq <= last);
            stored
        } else {
            Vec::new()
        };
        Ok((backlog, rx, last))
    }

    /// Stored entries after `after` (for a subscriber that fell behind).
    pub async fn entries_after(
        &self,
        id: &SessionId,
        after: Seq,
    ) -> Result<Vec<LogEntry>, DbError> {
        let id = id.clone();
        store::call(&self.ctx.store, move |s| s.entries_after(&id, after)).await
    }

    /// Forgets sessions that are over and that no socket watches (they load again on
    /// demand); their tasks end with their last handle.
    pub fn evict_idle(&self) {
        let mut evicted = Vec::new();
        {
            let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|id, live| {
                let watched = live.entries.receiver_count() > 0;
                let keep = watched || !live.ended.load(Ordering::Relaxed);
                if !keep {
                    evicted.push(id.clone());
                }
                keep
            });
        }
        // Their leases go back too: another broker may load them on demand.
        if let (Some(cluster), false) = (&self.ctx.cluster, evicted.is_empty()) {
            let cluster = cluster.clone();
            tokio::spawn(async move {
                if let Err(e) = cluster.release(Some(&evicted)).await {
                    tracing::warn!(error = %e, "could not give back the leases of ended sessions");
                }
            });
        }
    }

    /// Number of sessions in memory.
    pub fn loaded(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}
