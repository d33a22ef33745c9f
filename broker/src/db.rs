//! Persistence in SQLite: technicians, sign-ins, sessions and their logs, surveys.
//!
//! One connection behind a mutex, used from blocking threads ([`Db::call`]). Every log
//! entry is committed (WAL, `synchronous=FULL`) before anyone hears of it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use connectit_protocol::{Author, EntryKind, LogEntry, Millis, Phase, Seq, SessionId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::chain;

/// The database handle, cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// A storage failure. The detail is for the broker's log only.
#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS technicians (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_ins (
    token_hash    BLOB PRIMARY KEY,
    technician_id INTEGER NOT NULL REFERENCES technicians(id) ON DELETE CASCADE,
    expires_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id                  TEXT PRIMARY KEY,
    technician_id       INTEGER NOT NULL REFERENCES technicians(id),
    pin_hash            BLOB UNIQUE,
    pin_expires_at      INTEGER NOT NULL,
    customer_token_hash BLOB UNIQUE,
    created_at          INTEGER NOT NULL,
    phase               TEXT NOT NULL DEFAULT 'created',
    phase_since         INTEGER NOT NULL,
    last_activity       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_technician ON sessions(technician_id, created_at);
CREATE INDEX IF NOT EXISTS sessions_by_phase ON sessions(phase, phase_since);
CREATE TABLE IF NOT EXISTS entries (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    author     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    hash       BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS surveys (
    session_id   TEXT PRIMARY KEY REFERENCES sessions(id),
    rating       INTEGER NOT NULL,
    resolved     INTEGER,
    comment      TEXT NOT NULL,
    submitted_at INTEGER NOT NULL
);
";

/// A technician account as stored.
#[derive(Debug, Clone)]
pub struct TechnicianRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
}

/// What the database knows of a session besides its log.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub technician_id: i64,
    pub created_at: Millis,
    pub pin_expires_at: Millis,
}

impl Db {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Db, DbError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Db, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Caps the database file at about `max_bytes` (0: no cap): past it, writes fail
    /// with `SQLITE_FULL` and nothing is acknowledged. Never below what is stored.
    pub fn limit_size(&self, max_bytes: u64) -> Result<(), DbError> {
        self.blocking(|conn| {
            let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = if max_bytes == 0 {
                // SQLite's own ceiling.
                i64::from(u32::MAX - 1)
            } else {
                (max_bytes / page_size.max(1) as u64).min(i64::MAX as u64) as i64
            };
            conn.pragma_update(None, "max_page_count", pages)?;
            Ok(())
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| DbError("database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError(format!("database task failed: {e}")))?
    }

    /// Runs `f` with the connection on the current thread (start-up and CLI only).
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| DbError("database lock poisoned".into()))?;
        f(&mut guard)
    }
}

/// Brings a database made by an earlier version up to date.
fn migrate(conn: &Connection) -> Result<(), DbError> {
    let chained = conn
        .prepare("SELECT 1 FROM pragma_table_info('entries') WHERE name = 'hash'")?
        .exists([])?;
    if !chained {
        // Logs written before the hash chain: add it, computed over what is stored.
        conn.execute_batch("ALTER TABLE entries ADD COLUMN hash BLOB NOT NULL DEFAULT x''")?;
        let sessions: Vec<String> = conn
            .prepare("SELECT DISTINCT session_id FROM entries")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in sessions.into_iter().map(SessionId) {
            let mut prev = chain::genesis(&id);
            for entry in entries_after(conn, &id, 0)? {
                prev = chain::entry_hash(&prev, &entry);
                conn.execute(
                    "UPDATE entries SET hash = ?3 WHERE session_id = ?1 AND seq = ?2",
                    params![id.0, entry.seq as i64, &prev[..]],
                )?;
            }
        }
    }
    Ok(())
}

// ---- meta -------------------------------------------------------------------------------

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, DbError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &[u8]) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn meta_delete(conn: &Connection, key: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

// ---- technicians and sign-ins -----------------------------------------------------------

pub fn technician_count(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("SELECT count(*) FROM technicians", [], |r| r.get(0))?)
}

/// Creates an account; `Ok(None)` when the user name is taken.
pub fn create_technician(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    now: Millis,
) -> Result<Option<i64>, DbError> {
    let result = conn.execute(
        "INSERT INTO technicians(username, display_name, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![username, display_name, password_hash, now as i64],
    );
    match result {
        Ok(_) => Ok(Some(conn.last_insert_rowid())),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn technician_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TechnicianRow> {
    Ok(TechnicianRow {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        password_hash: r.get(3)?,
    })
}

pub fn technician_by_username(
    conn: &Connection,
    username: &str,
) -> Result<Option<TechnicianRow>, DbError> {
    Ok(conn
        .query_row(
            "SELECT id, username, display_name, password_hash FROM technicians WHERE username = ?1",
            [username],
            technician_from_row,
        )
        .optional()?)
}

pub fn technician_by_id(conn: &Connection, id: i64) -> Result<Option<TechnicianRow>, DbError> {
    Ok(conn
        .query_row(
            "SELECT id, username, display_name, password_hash FROM technicians WHERE id = ?1",
            [id],
            technician_from_row,
        )
        .optional()?)
}

pub fn insert_sign_in(
    conn: &Connection,
    token_hash: &[u8],
    technician_id: i64,
    expires_at: Millis,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sign_ins(token_hash, technician_id, expires_at) VALUES (?1, ?2, ?3)",
        params![token_hash, technician_id, expires_at as i64],
    )?;
    Ok(())
}

pub fn technician_by_sign_in(
    conn: &Connection,
    token_hash: &[u8],
    now: Millis,
) -> Result<Option<TechnicianRow>, DbError> {
    Ok(conn
        .query_row(
            "SELECT t.id, t.username, t.display_name, t.password_hash
             FROM sign_ins s JOIN technicians t ON t.id = s.technician_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            params![token_hash, now as i64],
            technician_from_row,
        )
        .optional()?)
}

pub fn delete_sign_in(conn: &Connection, token_hash: &[u8]) -> Result<(), DbError> {
    conn.execute("DELETE FROM sign_ins WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

// ---- sessions ---------------------------------------------------------------------------

/// Creates a session with its PIN hash. `Ok(false)` when a live session already has
/// that PIN (the caller draws another); an expired holder of the same PIN gives it up.
pub fn insert_session(
    conn: &mut Connection,
    id: &SessionId,
    technician_id: i64,
    pin_hash: &[u8],
    pin_expires_at: Millis,
    now: Millis,
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    let holder: Option<i64> = tx
        .query_row(
            "SELECT pin_expires_at FROM sessions WHERE pin_hash = ?1",
            [pin_hash],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(expires) = holder {
        if expires as Millis > now {
            return Ok(false);
        }
        tx.execute(
            "UPDATE sessions SET pin_hash = NULL WHERE pin_hash = ?1",
            [pin_hash],
        )?;
    }
    tx.execute(
        "INSERT INTO sessions(id, technician_id, pin_hash, pin_expires_at, created_at, phase_since, last_activity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
        params![id.0, technician_id, pin_hash, pin_expires_at as i64, now as i64],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Uses a PIN: if a session in `created` has it and it has not expired, the PIN is
/// spent (forgotten) and the customer's token hash recorded, in one statement.
pub fn claim_pin(
    conn: &Connection,
    pin_hash: &[u8],
    token_hash: &[u8],
    now: Millis,
) -> Result<Option<SessionId>, DbError> {
    Ok(conn
        .query_row(
            "UPDATE sessions SET pin_hash = NULL, customer_token_hash = ?2
             WHERE pin_hash = ?1 AND pin_expires_at > ?3 AND phase = 'created'
             RETURNING id",
            params![pin_hash, token_hash, now as i64],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(SessionId))
}

/// Gives a claimed PIN back (the join could not be stored): the session waits for its
/// customer again, with the same PIN, and the token is worth nothing.
pub fn release_pin(conn: &Connection, pin_hash: &[u8], token_hash: &[u8]) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET pin_hash = ?1, customer_token_hash = NULL
         WHERE customer_token_hash = ?2 AND phase = 'created'",
        params![pin_hash, token_hash],
    )?;
    Ok(())
}

pub fn session_by_token(
    conn: &Connection,
    token_hash: &[u8],
) -> Result<Option<SessionId>, DbError> {
    Ok(conn
        .query_row(
            "SELECT id FROM sessions WHERE customer_token_hash = ?1",
            [token_hash],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(SessionId))
}

pub fn session_row(conn: &Connection, id: &SessionId) -> Result<Option<SessionRow>, DbError> {
    Ok(conn
        .query_row(
            "SELECT technician_id, created_at, pin_expires_at FROM sessions WHERE id = ?1",
            [&id.0],
            |r| {
                Ok(SessionRow {
                    technician_id: r.get(0)?,
                    created_at: r.get::<_, i64>(1)? as Millis,
                    pin_expires_at: r.get::<_, i64>(2)? as Millis,
                })
            },
        )
        .optional()?)
}

/// A technician's sessions that are not over, or ended after `ended_since`, newest first.
pub fn technician_sessions(
    conn: &Connection,
    technician_id: i64,
    ended_since: Millis,
) -> Result<Vec<SessionId>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM sessions WHERE technician_id = ?1 AND (phase != 'ended' OR phase_since >= ?2)
         ORDER BY created_at DESC LIMIT 200",
    )?;
    let ids = stmt
        .query_map(params![technician_id, ended_since as i64], |r| {
            r.get::<_, String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(SessionId).collect())
}

/// Sessions whose PIN expired unused.
pub fn expired_pins(conn: &Connection, now: Millis) -> Result<Vec<SessionId>, DbError> {
    let mut stmt =
        conn.prepare("SELECT id FROM sessions WHERE phase = 'created' AND pin_expires_at <= ?1")?;
    let ids = stmt
        .query_map([now as i64], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(SessionId).collect())
}

/// Sessions whose customer has been joining or waiting since before `since`.
pub fn waited_too_long(conn: &Connection, since: Millis) -> Result<Vec<SessionId>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM sessions WHERE phase IN ('connecting', 'waiting') AND phase_since <= ?1",
    )?;
    let ids = stmt
        .query_map([since as i64], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(SessionId).collect())
}

// ---- the log ----------------------------------------------------------------------------

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Created => "created",
        Phase::Connecting => "connecting",
        Phase::Waiting => "waiting",
        Phase::Active => "active",
        Phase::Ended => "ended",
    }
}

fn author_name(author: Author) -> &'static str {
    match author {
        Author::Customer => "customer",
        Author::Technician => "technician",
        Author::System => "system",
    }
}

fn author_from(name: &str) -> Option<Author> {
    match name {
        "customer" => Some(Author::Customer),
        "technician" => Some(Author::Technician),
        "system" => Some(Author::System),
        _ => None,
    }
}

/// Stores one entry, and what it changes about the session, in one transaction.
pub fn append_entry(
    conn: &mut Connection,
    session: &SessionId,
    entry: &LogEntry,
    new_phase: Option<Phase>,
) -> Result<(), DbError> {
    let kind = serde_json::to_string(&entry.kind).map_err(|e| DbError(e.to_string()))?;
    let tx = conn.transaction()?;
    let prev = match entry.seq {
        1 => chain::genesis(session),
        _ => tx
            .query_row(
                "SELECT hash FROM entries WHERE session_id = ?1 AND seq = ?2",
                params![session.0, entry.seq as i64 - 1],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .ok()
            .and_then(|h| chain::to_array(&h))
            .ok_or_else(|| {
                DbError(format!(
                    "session {session}: entry {} has no stored predecessor",
                    entry.seq
                ))
            })?,
    };
    let hash = chain::entry_hash(&prev, entry);
    tx.execute(
        "INSERT INTO entries(session_id, seq, at, author, kind, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![session.0, entry.seq as i64, entry.at as i64, author_name(entry.author), kind, &hash[..]],
    )?;
    match new_phase {
        Some(phase) => tx.execute(
            "UPDATE sessions SET phase = ?2, phase_since = ?3, last_activity = ?3,
                 pin_hash = CASE WHEN ?2 = 'ended' THEN NULL ELSE pin_hash END
             WHERE id = ?1",
            params![session.0, phase_name(phase), entry.at as i64],
        )?,
        None => tx.execute(
            "UPDATE sessions SET last_activity = ?2 WHERE id = ?1",
            params![session.0, entry.at as i64],
        )?,
    };
    if let EntryKind::SurveySubmitted {
        rating,
        resolved,
        comment,
    } = &entry.kind
    {
        tx.execute(
            "INSERT INTO surveys(session_id, rating, resolved, comment, submitted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![session.0, *rating as i64, resolved, comment, entry.at as i64],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Every entry of a session with its stored chain hash, in order.
pub fn entries_with_hashes(
    conn: &Connection,
    session: &SessionId,
) -> Result<Vec<(LogEntry, [u8; 32])>, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, hash FROM entries WHERE session_id = ?1 ORDER BY seq")?;
    let hashes = stmt
        .query_map([&session.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let entries = entries_after(conn, session, 0)?;
    entries
        .into_iter()
        .zip(hashes)
        .map(|(entry, (seq, hash))| {
            let hash = chain::to_array(&hash).filter(|_| seq as u64 == entry.seq);
            hash.map(|h| (entry, h))
                .ok_or_else(|| DbError(format!("session {session}: bad stored hash")))
        })
        .collect()
}

/// The entries of a session after `after`, in order.
pub fn entries_after(
    conn: &Connection,
    session: &SessionId,
    after: Seq,
) -> Result<Vec<LogEntry>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, author, kind FROM entries WHERE session_id = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![session.0, after as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, author, kind) = row?;
        let author =
            author_from(&author).ok_or_else(|| DbError(format!("unknown author {author:?}")))?;
        let kind: EntryKind = serde_json::from_str(&kind)
            .map_err(|e| DbError(format!("entry {seq} does not decode: {e}")))?;
        out.push(LogEntry {
            seq: seq as Seq,
            at: at as Millis,
            author,
            kind,
        });
    }
    Ok(out)
}
