//! Where live sessions keep their logs: [`SessionStore`], what a session's actor asks of
//! storage, and its SQLite implementation on [`Db`]. Another store (one a cluster of
//! brokers shares) implements the same trait.
//!
//! The methods block; the hub runs them on a blocking thread ([`call`]).

use std::sync::Arc;

use connectit_protocol::api::SessionDetails;
use connectit_protocol::{LogEntry, Phase, Seq, SessionId};

use crate::db::{self, Db, DbError, SessionRow, Staffing};

/// A session as stored: its row, its log, and what the log's caps count.
#[derive(Debug)]
pub struct StoredSession {
    pub row: SessionRow,
    pub entries: Vec<LogEntry>,
    /// Entries stored, and the bytes of their JSON.
    pub stored_entries: u64,
    pub stored_bytes: u64,
    /// How many are joining or waiting with its PIN or link, when more than one person
    /// used them (`None`: one at most).
    pub shared: Option<u32>,
}

/// What live sessions need of storage.
pub trait SessionStore: Send + Sync + 'static {
    /// A session and its log, or `None` if there is no such session.
    fn load(&self, id: &SessionId) -> Result<Option<StoredSession>, DbError>;

    /// Stores `entry` as the next of `id`'s log, with the phase it moves the session
    /// to and what it changes about who works on it (a pick-up, a hand-over, a
    /// colleague invited, joining or leaving), in one transaction: when this returns
    /// `Ok`, the entry is durable.
    fn append(
        &self,
        id: &SessionId,
        entry: &LogEntry,
        new_phase: Option<Phase>,
        staffing: Staffing,
    ) -> Result<(), DbError>;

    /// The entries of `id` after `after`, in order.
    fn entries_after(&self, id: &SessionId, after: Seq) -> Result<Vec<LogEntry>, DbError>;

    /// Every session that is not over (their timers must run).
    fn open_sessions(&self) -> Result<Vec<SessionId>, DbError>;

    /// How many are joining or waiting with `invitation`'s PIN or link.
    fn open_candidates(&self, invitation: &SessionId) -> Result<u32, DbError>;

    /// Replaces what is known of the customer, the problem and the ticket.
    fn set_details(&self, id: &SessionId, details: &SessionDetails) -> Result<(), DbError>;
}

/// Runs `f` against `store` on a blocking thread.
pub async fn call<T, F>(store: &Arc<dyn SessionStore>, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&dyn SessionStore) -> Result<T, DbError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .map_err(|e| DbError::TaskFailed(e.to_string()))?
}

impl SessionStore for Db {
    fn load(&self, id: &SessionId) -> Result<Option<StoredSession>, DbError> {
        self.blocking(|conn| {
            let Some(row) = db::session_row(conn, id)? else {
                return Ok(None);
            };
            let entries = db::entries_after(conn, id, 0)?;
            let (stored_entries, stored_bytes) = db::log_size(conn, id)?;
            let shared = match db::invitation_size(conn, &row.invitation)? {
                n if n > 1 => Some(db::open_candidates(conn, &row.invitation)?),
                _ => None,
            };
            Ok(Some(StoredSession {
                row,
                entries,
                stored_entries,
                stored_bytes,
                shared,
            }))
        })
    }

    fn append(
        &self,
        id: &SessionId,
        entry: &LogEntry,
        new_phase: Option<Phase>,
        staffing: Staffing,
    ) -> Result<(), DbError> {
        self.blocking(|conn| db::append_entry(conn, id, entry, new_phase, staffing))
    }

    fn entries_after(&self, id: &SessionId, after: Seq) -> Result<Vec<LogEntry>, DbError> {
        self.blocking(|conn| db::entries_after(conn, id, after))
    }

    fn open_sessions(&self) -> Result<Vec<SessionId>, DbError> {
        self.blocking(|conn| db::open_sessions(conn))
    }

    fn open_candidates(&self, invitation: &SessionId) -> Result<u32, DbError> {
        self.blocking(|conn| db::open_candidates(conn, invitation))
    }

    fn set_details(&self, id: &SessionId, details: &SessionDetails) -> Result<(), DbError> {
        self.blocking(|conn| db::set_details(conn, id, details))
    }
}
