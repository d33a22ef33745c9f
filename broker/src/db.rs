//! Persistence: technicians, sign-ins, sessions and their logs, surveys.
//!
//! In SQLite (the embedded default): one connection behind a mutex, used from blocking
//! threads ([`Db::call`]), every log entry committed (WAL, `synchronous=FULL`) before
//! anyone hears of it. In PostgreSQL (the scale-out mode, [`Db::postgres`]): a pool of
//! connections several brokers share, the schema kept by the migrations in
//! `broker/migrations`. The queries are the same ([`crate::sql`]).

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::sql::{params, Connection, Dialect, OptionalExtension, Postgres};
use connectit_protocol::api::{
    Account, AccountRole, CannedReply, SessionDetails, SessionNote, TeamRef, TechnicianRef,
    WebhookEvent,
};
use connectit_protocol::{Author, EndReason, EntryKind, LogEntry, Millis, Phase, Seq, SessionId};

use crate::chain;

/// The database handle, cheap to clone.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(Arc<Mutex<Connection>>),
    Postgres(Arc<Postgres>),
}

pub use crate::sql::DbError;

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
    technician_id       INTEGER REFERENCES technicians(id),
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
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    address TEXT,
    account TEXT,
    count   INTEGER NOT NULL DEFAULT 1,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit(at);
CREATE TABLE IF NOT EXISTS teams (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    closed         INTEGER NOT NULL DEFAULT 0,
    closed_message TEXT NOT NULL DEFAULT '',
    hours          TEXT NOT NULL DEFAULT '',
    time_zone      TEXT NOT NULL DEFAULT '',
    max_queue      INTEGER NOT NULL DEFAULT 50,
    created_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (
    team_id       INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    technician_id INTEGER NOT NULL REFERENCES technicians(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, technician_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notes (
    id            INTEGER PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES sessions(id),
    technician_id INTEGER NOT NULL REFERENCES technicians(id),
    at            INTEGER NOT NULL,
    text          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_session ON notes(session_id, id);
CREATE TABLE IF NOT EXISTS canned_replies (
    id         INTEGER PRIMARY KEY,
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_by_team ON canned_replies(team_id, title);
CREATE TABLE IF NOT EXISTS session_guests (
    session_id    TEXT NOT NULL REFERENCES sessions(id),
    technician_id INTEGER NOT NULL REFERENCES technicians(id),
    joined        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, technician_id)
);
CREATE INDEX IF NOT EXISTS guests_by_technician ON session_guests(technician_id);
CREATE TABLE IF NOT EXISTS api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    technician_id INTEGER NOT NULL REFERENCES technicians(id) ON DELETE CASCADE,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE TABLE IF NOT EXISTS webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    session_id      TEXT NOT NULL,
    at              INTEGER NOT NULL,
    payload         TEXT,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER,
    delivered_at    INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
CREATE TABLE IF NOT EXISTS invitations (
    token_hash    BLOB PRIMARY KEY,
    technician_id INTEGER NOT NULL REFERENCES technicians(id) ON DELETE CASCADE,
    expires_at    INTEGER NOT NULL
);
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

/// A signed-in technician: the account and the sign-in that says so.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub technician: TechnicianRow,
    /// The hash of the sign-in token (what sockets are closed by on sign-out).
    pub token_hash: Vec<u8>,
    pub expires_at: Millis,
}

/// What the database knows of a session besides its log.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Who has the session (`None`: it waits in its team's queue).
    pub technician_id: Option<i64>,
    /// Their names.
    pub technician: Option<TechnicianRef>,
    /// The team whose queue it came through.
    pub team: Option<TeamRow>,
    pub details: SessionDetails,
    pub created_at: Millis,
    pub pin_expires_at: Millis,
    /// The session the technician made, whose PIN and link this one was joined by
    /// (itself, for that session).
    pub invitation: SessionId,
    /// The code the customer reads out, once someone joined.
    pub check_code: Option<String>,
    /// Colleagues invited into the session, or who joined it.
    pub guests: Vec<GuestRow>,
}

/// A colleague invited into a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRow {
    pub technician_id: i64,
    pub who: TechnicianRef,
    /// Whether they joined (else they are invited).
    pub joined: bool,
}

/// What an entry changes about who works on the session, stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staffing {
    /// Nothing.
    Same,
    /// The technician picked the customer up: the session is theirs, if it was nobody's.
    PickedUp(i64),
    /// Handed to this colleague (who is no longer a guest).
    HandedTo(i64),
    /// Back in its team's queue: nobody has it, nobody is invited.
    Queued,
    /// This colleague was invited.
    Invited(i64),
    /// This colleague joined.
    Joined(i64),
    /// This colleague left.
    Left(i64),
}

/// How a customer came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// The keyed hash of a six-digit PIN.
    Pin(&'a [u8]),
    /// The hash of a link's join token.
    Link(&'a [u8]),
}

/// A customer let in by a PIN or link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub session: SessionId,
    pub invitation: SessionId,
    /// Whether the session is a new one beside the invitation's own (someone else had
    /// come in with the same PIN or link before).
    pub second: bool,
    /// The customer's check code.
    pub check_code: String,
}

/// What a PIN or link led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    In(Claimed),
    /// Nothing live has it.
    Unknown,
    /// As many people as may are already joining or waiting with it.
    Full,
}

impl Db {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let conn = rusqlite::Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Db, DbError> {
        Self::init(rusqlite::Connection::open_in_memory()?)
    }

    fn init(conn: rusqlite::Connection) -> Result<Db, DbError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        let conn = Connection::sqlite(conn);
        migrate(&conn)?;
        Ok(Db {
            backend: Backend::Sqlite(Arc::new(Mutex::new(conn))),
        })
    }

    /// Connects to the PostgreSQL database at `url` with a pool of at most
    /// `connections`, and brings its schema up to date (the migrations run under an
    /// advisory lock, so brokers starting together apply each once).
    pub fn postgres(url: &str, connections: usize) -> Result<Db, DbError> {
        let pg = Postgres::connect(url, connections)?;
        pg.migrate()?;
        Ok(Db {
            backend: Backend::Postgres(pg),
        })
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Caps the database file at about `max_bytes` (0: no cap): past it, writes fail
    /// with `SQLITE_FULL` and nothing is acknowledged. Never below what is stored.
    /// PostgreSQL's size is its operator's to limit: nothing happens there.
    pub fn limit_size(&self, max_bytes: u64) -> Result<(), DbError> {
        self.blocking(|conn| {
            let Some(conn) = conn.as_sqlite() else {
                return Ok(());
            };
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

    /// Runs `f` with a connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.blocking(f))
            .await
            .map_err(|e| DbError::TaskFailed(e.to_string()))?
    }

    /// Runs `f` with a connection on the current thread (start-up and CLI only).
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut guard = conn.lock().map_err(|_| DbError::Poisoned)?;
                f(&mut guard)
            }
            Backend::Postgres(pg) => pg.with(f),
        }
    }
}

/// Adds a column to a table made by an earlier version, if it lacks it.
fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<(), DbError> {
    let has = conn
        .prepare(&format!(
            "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
        ))?
        .exists([column])?;
    if !has {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

/// Brings a database made by an earlier version up to date.
fn migrate(conn: &Connection) -> Result<(), DbError> {
    add_column(
        conn,
        "technicians",
        "disabled",
        "INTEGER NOT NULL DEFAULT 0",
    )?;
    let had_roles = conn
        .prepare("SELECT 1 FROM pragma_table_info('technicians') WHERE name = 'role'")?
        .exists(params![])?;
    if !had_roles {
        add_column(
            conn,
            "technicians",
            "role",
            "TEXT NOT NULL DEFAULT 'technician'",
        )?;
        // Accounts from before roles: the first one still enabled administers.
        conn.execute(
            "UPDATE technicians SET role = 'admin'
             WHERE id = (SELECT min(id) FROM technicians WHERE disabled = 0)",
            params![],
        )?;
    }
    add_column(conn, "sessions", "invitation", "TEXT")?;
    add_column(conn, "sessions", "check_code", "TEXT")?;
    add_column(conn, "sessions", "join_token_hash", "BLOB")?;
    add_column(conn, "sessions", "team_id", "INTEGER REFERENCES teams(id)")?;
    add_column(
        conn,
        "sessions",
        "customer_name",
        "TEXT NOT NULL DEFAULT ''",
    )?;
    add_column(conn, "sessions", "problem", "TEXT NOT NULL DEFAULT ''")?;
    // The identity at the OpenID provider an account is bound to (`issuer sub`).
    add_column(conn, "technicians", "sso_subject", "TEXT")?;
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS technicians_sso_subject
         ON technicians(sso_subject) WHERE sso_subject IS NOT NULL",
    )?;
    add_column(conn, "sessions", "ticket", "TEXT NOT NULL DEFAULT ''")?;
    add_column(conn, "sessions", "picked_up_at", "INTEGER")?;
    add_column(conn, "sessions", "legal_hold", "INTEGER NOT NULL DEFAULT 0")?;
    add_column(conn, "sessions", "anonymised_at", "INTEGER")?;
    let owner_required = conn
        .prepare("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'technician_id' AND \"notnull\"")?
        .exists(params![])?;
    if owner_required {
        // Sessions in a team's queue have nobody yet: the column may be empty now.
        unrequire_owner(conn)?;
    }
    conn.execute_batch(
        "UPDATE sessions SET invitation = id WHERE invitation IS NULL;
         CREATE UNIQUE INDEX IF NOT EXISTS sessions_by_join_token ON sessions(join_token_hash);
         CREATE INDEX IF NOT EXISTS sessions_by_invitation ON sessions(invitation);
         CREATE INDEX IF NOT EXISTS sessions_by_team ON sessions(team_id, phase);",
    )?;
    let chained = conn
        .prepare("SELECT 1 FROM pragma_table_info('entries') WHERE name = 'hash'")?
        .exists(params![])?;
    if !chained {
        // Logs written before the hash chain: add it, computed over what is stored.
        conn.execute_batch("ALTER TABLE entries ADD COLUMN hash BLOB NOT NULL DEFAULT x''")?;
        let sessions: Vec<String> = conn
            .prepare("SELECT DISTINCT session_id FROM entries")?
            .query_map(params![], |r| r.get(0))?
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

/// Rebuilds the sessions table of an earlier version without `NOT NULL` on
/// `technician_id` (SQLite cannot drop a constraint in place): the same definition
/// otherwise, every row and index kept, in one transaction.
fn unrequire_owner(conn: &Connection) -> Result<(), DbError> {
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sessions'",
        params![],
        |r| r.get(0),
    )?;
    let start = sql
        .find("technician_id")
        .ok_or_else(|| DbError::Corrupt("sessions has no technician_id".into()))?;
    let end = start + sql[start..].find([',', ')']).unwrap_or(sql.len() - start);
    let column = sql[start..end].replace("NOT NULL", "");
    let rebuilt = format!("{}{}{}", &sql[..start], column, &sql[end..]).replacen(
        "CREATE TABLE sessions",
        "CREATE TABLE sessions_rebuilt",
        1,
    );
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('sessions')")?
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let columns = columns.join(", ");
    let sqlite = conn
        .as_sqlite()
        .ok_or_else(|| DbError::Corrupt("a SQLite migration on another database".into()))?;
    sqlite.pragma_update(None, "foreign_keys", "OFF")?;
    let done = conn.execute_batch(&format!(
        "BEGIN;
         {rebuilt};
         INSERT INTO sessions_rebuilt ({columns}) SELECT {columns} FROM sessions;
         DROP TABLE sessions;
         ALTER TABLE sessions_rebuilt RENAME TO sessions;
         CREATE INDEX IF NOT EXISTS sessions_by_technician ON sessions(technician_id, created_at);
         CREATE INDEX IF NOT EXISTS sessions_by_phase ON sessions(phase, phase_since);
         COMMIT;"
    ));
    if done.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    sqlite.pragma_update(None, "foreign_keys", "ON")?;
    done?;
    Ok(())
}

// ---- meta -------------------------------------------------------------------------------

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, DbError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
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
    conn.query_row("SELECT count(*) FROM technicians", params![], |r| r.get(0))
}

/// Creates an account; `Ok(None)` when the user name is taken.
pub fn create_technician(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    now: Millis,
) -> Result<Option<i64>, DbError> {
    let result = conn.query_row(
        "INSERT INTO technicians(username, display_name, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![username, display_name, password_hash, now as i64],
        |r| r.get(0),
    );
    match result {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.is_conflict() => Ok(None),
        Err(e) => Err(e),
    }
}

fn technician_from_row(r: &crate::sql::Row) -> Result<TechnicianRow, DbError> {
    Ok(TechnicianRow {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        password_hash: r.get(3)?,
    })
}

fn role_name(role: AccountRole) -> &'static str {
    match role {
        AccountRole::Technician => "technician",
        AccountRole::TeamLead => "team_lead",
        AccountRole::Admin => "admin",
    }
}

fn role_from(name: &str) -> AccountRole {
    match name {
        "admin" => AccountRole::Admin,
        "team_lead" => AccountRole::TeamLead,
        _ => AccountRole::Technician,
    }
}

/// An account's role.
pub fn role_of(conn: &Connection, id: i64) -> Result<AccountRole, DbError> {
    let name: Option<String> = conn
        .query_row("SELECT role FROM technicians WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(name.as_deref().map_or(AccountRole::Technician, role_from))
}

/// Sets an account's role. `Ok(false)`: no such account.
pub fn set_role(conn: &Connection, username: &str, role: AccountRole) -> Result<bool, DbError> {
    Ok(conn.execute(
        "UPDATE technicians SET role = ?2 WHERE username = ?1",
        params![username, role_name(role)],
    )? > 0)
}

/// Admins who may sign in, other than `except` (a user name).
pub fn other_active_admins(conn: &Connection, except: &str) -> Result<i64, DbError> {
    conn.query_row(
        "SELECT count(*) FROM technicians WHERE role = 'admin' AND disabled = 0 AND username != ?1",
        [except],
        |r| r.get(0),
    )
}

/// Every account, by user name, with its teams.
pub fn accounts(conn: &Connection) -> Result<Vec<Account>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id, username, display_name, role, disabled, created_at, password_hash = ''
         FROM technicians ORDER BY username",
    )?;
    let rows = stmt
        .query_map(params![], |r| {
            Ok((
                r.get::<i64>(0)?,
                Account {
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                    role: role_from(&r.get::<String>(3)?),
                    disabled: r.get(4)?,
                    teams: Vec::new(),
                    created_at: r.get::<i64>(5)? as Millis,
                    invited: r.get(6)?,
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, mut account)| {
            account.teams = team_refs_of(conn, id)?;
            Ok(account)
        })
        .collect()
}

/// One account as the admin page lists it.
pub fn account(conn: &Connection, username: &str) -> Result<Option<Account>, DbError> {
    Ok(accounts(conn)?.into_iter().find(|a| a.username == username))
}

/// An account's id by user name, disabled or not.
pub fn technician_id(conn: &Connection, username: &str) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "SELECT id FROM technicians WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .optional()
}

/// A new invitation for `technician_id` (any earlier one no longer works).
pub fn create_invitation(
    conn: &Connection,
    technician_id: i64,
    token_hash: &[u8],
    expires_at: Millis,
) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM invitations WHERE technician_id = ?1",
        [technician_id],
    )?;
    conn.execute(
        "INSERT INTO invitations(token_hash, technician_id, expires_at) VALUES (?1, ?2, ?3)",
        params![token_hash, technician_id, expires_at as i64],
    )?;
    Ok(())
}

/// The account of a live invitation, which is used up by this; `None` if there is no
/// such invitation, it expired, or its account is disabled.
pub fn take_invitation(
    conn: &Connection,
    token_hash: &[u8],
    now: Millis,
) -> Result<Option<TechnicianRow>, DbError> {
    let found: Option<(i64, i64)> = conn
        .query_row(
            "SELECT technician_id, expires_at FROM invitations WHERE token_hash = ?1",
            [token_hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, expires_at)) = found else {
        return Ok(None);
    };
    conn.execute(
        "DELETE FROM invitations WHERE token_hash = ?1",
        [token_hash],
    )?;
    if expires_at as Millis <= now {
        return Ok(None);
    }
    conn.query_row(
        "SELECT id, username, display_name, password_hash FROM technicians
             WHERE id = ?1 AND disabled = 0",
        [id],
        technician_from_row,
    )
    .optional()
}

/// Sets an account's password hash (empty: no password until an invitation is used).
pub fn set_password(conn: &Connection, id: i64, password_hash: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE technicians SET password_hash = ?2 WHERE id = ?1",
        params![id, password_hash],
    )?;
    Ok(())
}

/// Ends an account's sign-ins, but `keep`'s: answers the token hashes ended (whose
/// sockets are to close).
pub fn end_sign_ins(
    conn: &Connection,
    technician_id: i64,
    keep: Option<&[u8]>,
) -> Result<Vec<Vec<u8>>, DbError> {
    let hashes: Vec<Vec<u8>> = conn
        .prepare("SELECT token_hash FROM sign_ins WHERE technician_id = ?1")?
        .query_map([technician_id], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let ended: Vec<Vec<u8>> = hashes
        .into_iter()
        .filter(|h| Some(h.as_slice()) != keep)
        .collect();
    for hash in &ended {
        conn.execute("DELETE FROM sign_ins WHERE token_hash = ?1", [hash])?;
    }
    Ok(ended)
}

/// An account that may sign in (not disabled), by user name.
pub fn technician_by_username(
    conn: &Connection,
    username: &str,
) -> Result<Option<TechnicianRow>, DbError> {
    conn.query_row(
        "SELECT id, username, display_name, password_hash FROM technicians
             WHERE username = ?1 AND disabled = 0",
        [username],
        technician_from_row,
    )
    .optional()
}

/// Queues a delivery of `event` for each webhook that wants it.
pub fn enqueue_webhooks(
    conn: &Connection,
    event: WebhookEvent,
    session: &SessionId,
    at: Millis,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO webhook_deliveries(webhook_id, event, session_id, at, created_at, next_attempt_at)
         SELECT id, ?1, ?2, ?3, ?3, ?3 FROM webhooks
         WHERE disabled = 0
           AND replace(',' || events || ',', ',' || ?1 || ',', '') != ',' || events || ','",
        params![event.name(), session.0, at as i64],
    )?;
    Ok(())
}

/// Whether `session`'s PIN and link are these, unused and unexpired.
pub fn invitation_unused(
    conn: &Connection,
    session: &SessionId,
    pin_hash: &[u8],
    join_token_hash: &[u8],
    now: Millis,
) -> Result<bool, DbError> {
    conn.prepare(
        "SELECT 1 FROM sessions WHERE id = ?1 AND pin_hash = ?2 AND join_token_hash = ?3
             AND pin_expires_at > ?4",
    )?
    .exists(params![session.0, pin_hash, join_token_hash, now as i64])
}

/// An account as single sign-on finds it: the row, whether it is disabled, its role,
/// and the provider identity it is bound to, if any.
pub struct SsoAccount {
    pub technician: TechnicianRow,
    pub disabled: bool,
    pub role: AccountRole,
    pub subject: Option<String>,
}

/// The account with this user name, or else the one bound to `subject`.
pub fn sso_account(
    conn: &Connection,
    username: &str,
    subject: &str,
) -> Result<Option<SsoAccount>, DbError> {
    conn.query_row(
        "SELECT id, username, display_name, password_hash, disabled, role, sso_subject
             FROM technicians WHERE username = ?1 OR sso_subject = ?2
             ORDER BY username = ?1 DESC LIMIT 1",
        params![username, subject],
        |r| {
            Ok(SsoAccount {
                technician: technician_from_row(r)?,
                disabled: r.get(4)?,
                role: role_from(&r.get::<String>(5)?),
                subject: r.get(6)?,
            })
        },
    )
    .optional()
}

/// Binds an account to a provider identity.
pub fn bind_sso_subject(conn: &Connection, id: i64, subject: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE technicians SET sso_subject = ?2 WHERE id = ?1",
        params![id, subject],
    )?;
    Ok(())
}

/// Changes the name an account shows.
pub fn set_display_name(conn: &Connection, id: i64, name: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE technicians SET display_name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    Ok(())
}

/// Disables (or enables again) an account; a disabled account's sign-ins are deleted,
/// and its open sockets close within a second. `Ok(false)`: no such account.
pub fn set_disabled(conn: &Connection, username: &str, disabled: bool) -> Result<bool, DbError> {
    let changed = conn.execute(
        "UPDATE technicians SET disabled = ?2 WHERE username = ?1",
        params![username, disabled],
    )?;
    if disabled {
        conn.execute(
            "DELETE FROM sign_ins WHERE technician_id = (SELECT id FROM technicians WHERE username = ?1)",
            [username],
        )?;
    }
    Ok(changed > 0)
}

pub fn technician_by_id(conn: &Connection, id: i64) -> Result<Option<TechnicianRow>, DbError> {
    conn.query_row(
        "SELECT id, username, display_name, password_hash FROM technicians WHERE id = ?1",
        [id],
        technician_from_row,
    )
    .optional()
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

/// The live sign-in with this token hash, of an account that is not disabled.
pub fn technician_by_sign_in(
    conn: &Connection,
    token_hash: &[u8],
    now: Millis,
) -> Result<Option<SignedIn>, DbError> {
    conn.query_row(
        "SELECT t.id, t.username, t.display_name, t.password_hash, s.expires_at
             FROM sign_ins s JOIN technicians t ON t.id = s.technician_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND t.disabled = 0",
        params![token_hash, now as i64],
        |r| {
            Ok(SignedIn {
                technician: technician_from_row(r)?,
                token_hash: token_hash.to_vec(),
                expires_at: r.get::<i64>(4)? as Millis,
            })
        },
    )
    .optional()
}

/// Which of these sign-ins are no longer good (signed out, expired, account disabled).
pub fn dead_sign_ins(
    conn: &Connection,
    token_hashes: &[Vec<u8>],
    now: Millis,
) -> Result<Vec<Vec<u8>>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM sign_ins s JOIN technicians t ON t.id = s.technician_id
         WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND t.disabled = 0",
    )?;
    let mut dead = Vec::new();
    for hash in token_hashes {
        if !stmt.exists(params![hash, now as i64])? {
            dead.push(hash.clone());
        }
    }
    Ok(dead)
}

pub fn delete_sign_in(conn: &Connection, token_hash: &[u8]) -> Result<(), DbError> {
    conn.execute("DELETE FROM sign_ins WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Forgets sign-ins that expired (they count for nothing already).
pub fn delete_expired_sign_ins(conn: &Connection, now: Millis) -> Result<(), DbError> {
    conn.execute("DELETE FROM sign_ins WHERE expires_at <= ?1", [now as i64])?;
    Ok(())
}

// ---- sessions ---------------------------------------------------------------------------

/// Creates a session with its PIN hash and its link's join token hash. `Ok(false)`
/// when a live session already has that PIN (the caller draws another); an expired
/// holder of the same PIN gives it up.
pub fn insert_session(
    conn: &mut Connection,
    id: &SessionId,
    technician_id: i64,
    pin_hash: &[u8],
    join_token_hash: &[u8],
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
        "INSERT INTO sessions(id, technician_id, pin_hash, join_token_hash, pin_expires_at, created_at,
                              phase_since, last_activity, invitation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?1)",
        params![id.0, technician_id, pin_hash, join_token_hash, pin_expires_at as i64, now as i64],
    )?;
    enqueue_webhooks(&tx, WebhookEvent::SessionCreated, id, now)?;
    tx.commit()?;
    Ok(true)
}

/// Lets a customer in by a PIN or link that is live (not expired, nobody picked up
/// yet). The first person gets the session the technician made; anyone after them,
/// while fewer than `max_open` are joining or waiting, gets a new session beside it,
/// so nobody who used the PIN takes it from the others: the technician picks one up
/// (telling them apart by their check codes) and the rest are told. The customer's
/// token hash and a check code distinct among the invitation's are stored.
pub fn claim(
    conn: &mut Connection,
    by: Credential<'_>,
    token_hash: &[u8],
    new_id: &SessionId,
    max_open: u32,
    now: Millis,
) -> Result<Claim, DbError> {
    let tx = conn.transaction()?;
    let (column, hash) = match by {
        Credential::Pin(h) => ("pin_hash", h),
        Credential::Link(h) => ("join_token_hash", h),
    };
    let found = tx
        .query_row(
            &format!(
                "SELECT id, technician_id, pin_expires_at, phase, customer_token_hash IS NOT NULL
                 FROM sessions WHERE {column} = ?1 AND pin_expires_at > ?2"
            ),
            params![hash, now as i64],
            |r| {
                Ok((
                    SessionId(r.get::<String>(0)?),
                    r.get::<i64>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<String>(3)?,
                    r.get::<bool>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((invitation, technician_id, pin_expires_at, phase, bound)) = found else {
        return Ok(Claim::Unknown);
    };
    let (open, ever): (i64, i64) = tx.query_row(
        "SELECT count(*) FILTER (WHERE phase IN ('connecting', 'waiting')
                                 OR (phase = 'created' AND customer_token_hash IS NOT NULL)),
                count(*) FILTER (WHERE customer_token_hash IS NOT NULL)
         FROM sessions WHERE invitation = ?1",
        [&invitation.0],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    // Bounded both at once and in all: whoever holds a PIN cannot make sessions without end.
    if open >= i64::from(max_open) || ever >= 8 * i64::from(max_open) {
        return Ok(Claim::Full);
    }
    let taken: Vec<String> = tx
        .prepare(
            "SELECT check_code FROM sessions WHERE invitation = ?1 AND check_code IS NOT NULL",
        )?
        .query_map([&invitation.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let code = crate::secrets::new_check_code(&taken);
    let claimed = if phase == "created" && !bound {
        tx.execute(
            "UPDATE sessions SET customer_token_hash = ?2, check_code = ?3 WHERE id = ?1",
            params![invitation.0, token_hash, code],
        )?;
        Claimed {
            session: invitation.clone(),
            invitation,
            second: false,
            check_code: code,
        }
    } else {
        tx.execute(
            "INSERT INTO sessions(id, technician_id, pin_expires_at, customer_token_hash, check_code,
                                  created_at, phase_since, last_activity, invitation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7)",
            params![new_id.0, technician_id, pin_expires_at, token_hash, code, now as i64, invitation.0],
        )?;
        enqueue_webhooks(&tx, WebhookEvent::SessionCreated, new_id, now)?;
        Claimed {
            session: new_id.clone(),
            invitation,
            second: true,
            check_code: code,
        }
    };
    tx.commit()?;
    Ok(Claim::In(claimed))
}

/// Undoes a claim whose join could not be stored: the invitation's own session waits
/// for its customer again, a session made beside it goes, and the token is worth
/// nothing.
pub fn release(conn: &Connection, claimed: &Claimed) -> Result<(), DbError> {
    if claimed.second {
        conn.execute(
            "DELETE FROM sessions WHERE id = ?1 AND phase = 'created'
             AND NOT EXISTS (SELECT 1 FROM entries WHERE session_id = ?1)",
            [&claimed.session.0],
        )?;
    } else {
        conn.execute(
            "UPDATE sessions SET customer_token_hash = NULL, check_code = NULL
             WHERE id = ?1 AND phase = 'created'",
            [&claimed.session.0],
        )?;
    }
    Ok(())
}

/// The technician picked someone up: the invitation's PIN and link stop working, and
/// the other sessions still joining or waiting with them are answered (returned, to be
/// ended).
pub fn close_invitation(
    conn: &Connection,
    invitation: &SessionId,
    picked: &SessionId,
) -> Result<Vec<SessionId>, DbError> {
    conn.execute(
        "UPDATE sessions SET pin_hash = NULL, join_token_hash = NULL WHERE id = ?1",
        [&invitation.0],
    )?;
    let others: Vec<String> = conn
        .prepare(
            "SELECT id FROM sessions WHERE invitation = ?1 AND id != ?2
             AND phase IN ('connecting', 'waiting') ORDER BY created_at",
        )?
        .query_map(params![invitation.0, picked.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(others.into_iter().map(SessionId).collect())
}

/// How many sessions were joined by the invitation's PIN or link.
pub fn invitation_size(conn: &Connection, invitation: &SessionId) -> Result<u32, DbError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sessions WHERE invitation = ?1",
        [&invitation.0],
        |r| r.get(0),
    )?;
    Ok(n as u32)
}

/// How many people are joining or waiting with the invitation's PIN or link.
pub fn open_candidates(conn: &Connection, invitation: &SessionId) -> Result<u32, DbError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sessions WHERE invitation = ?1 AND phase IN ('connecting', 'waiting')",
        [&invitation.0],
        |r| r.get(0),
    )?;
    Ok(n as u32)
}

pub fn session_by_token(
    conn: &Connection,
    token_hash: &[u8],
) -> Result<Option<SessionId>, DbError> {
    Ok(conn
        .query_row(
            "SELECT id FROM sessions WHERE customer_token_hash = ?1",
            [token_hash],
            |r| r.get::<String>(0),
        )
        .optional()?
        .map(SessionId))
}

pub fn session_row(conn: &Connection, id: &SessionId) -> Result<Option<SessionRow>, DbError> {
    let found = conn
        .query_row(
            "SELECT technician_id, created_at, pin_expires_at, coalesce(invitation, id), check_code,
                    team_id, customer_name, problem, ticket
             FROM sessions WHERE id = ?1",
            [&id.0],
            |r| {
                Ok((
                    r.get::<Option<i64>>(5)?,
                    SessionRow {
                        technician_id: r.get(0)?,
                        technician: None,
                        team: None,
                        details: SessionDetails {
                            customer_name: r.get(6)?,
                            problem: r.get(7)?,
                            ticket: r.get(8)?,
                        },
                        created_at: r.get::<i64>(1)? as Millis,
                        pin_expires_at: r.get::<i64>(2)? as Millis,
                        invitation: SessionId(r.get(3)?),
                        check_code: r.get(4)?,
                        guests: Vec::new(),
                    },
                ))
            },
        )
        .optional()?;
    let Some((team_id, mut row)) = found else {
        return Ok(None);
    };
    if let Some(team_id) = team_id {
        row.team = team_by_id(conn, team_id)?;
    }
    if let Some(technician_id) = row.technician_id {
        row.technician = technician_by_id(conn, technician_id)?.map(|t| TechnicianRef {
            username: t.username,
            display_name: t.display_name,
        });
    }
    let mut stmt = conn.prepare(
        "SELECT g.technician_id, t.username, t.display_name, g.joined
         FROM session_guests g JOIN technicians t ON t.id = g.technician_id
         WHERE g.session_id = ?1 ORDER BY g.rowid",
    )?;
    row.guests = stmt
        .query_map([&id.0], |r| {
            Ok(GuestRow {
                technician_id: r.get(0)?,
                who: TechnicianRef {
                    username: r.get(1)?,
                    display_name: r.get(2)?,
                },
                joined: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(row))
}

/// How many sessions are stored in each phase.
pub fn sessions_by_phase(conn: &Connection) -> Result<Vec<(String, u64)>, DbError> {
    let mut stmt = conn.prepare("SELECT phase, count(*) FROM sessions GROUP BY phase")?;
    let rows = stmt
        .query_map(params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether the database takes a write now: a row of `meta` is rewritten, and a
/// database at its size cap with no free page left counts as full.
pub fn ready_check(conn: &Connection, now: Millis) -> Result<bool, DbError> {
    if conn.dialect() == Dialect::Sqlite {
        let (pages, max, free): (i64, i64, i64) = conn.query_row(
            "SELECT (SELECT page_count FROM pragma_page_count), (SELECT max_page_count FROM pragma_max_page_count), (SELECT freelist_count FROM pragma_freelist_count)",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if pages >= max && free == 0 {
            return Ok(false);
        }
    }
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('ready_check', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(now as i64).to_be_bytes().to_vec()],
    )?;
    Ok(true)
}

/// The sessions `technician_id` is invited into or joined, that are not over.
pub fn guest_sessions(conn: &Connection, technician_id: i64) -> Result<Vec<SessionId>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT s.id FROM session_guests g JOIN sessions s ON s.id = g.session_id
         WHERE g.technician_id = ?1 AND s.phase != 'ended' ORDER BY s.created_at DESC LIMIT 100",
    )?;
    let ids = stmt
        .query_map([technician_id], |r| r.get::<String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(SessionId).collect())
}

/// The active technicians who share a team with `technician_id`, themself excepted,
/// by display name.
pub fn colleagues(conn: &Connection, technician_id: i64) -> Result<Vec<TechnicianRow>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT t.id, t.username, t.display_name, t.password_hash
         FROM team_members mine
         JOIN team_members theirs ON theirs.team_id = mine.team_id
         JOIN technicians t ON t.id = theirs.technician_id
         WHERE mine.technician_id = ?1 AND t.id != ?1 AND t.disabled = 0
         ORDER BY t.display_name, t.username",
    )?;
    let rows = stmt
        .query_map([technician_id], technician_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replaces what is known of a session's customer, problem and ticket.
pub fn set_details(
    conn: &Connection,
    id: &SessionId,
    details: &SessionDetails,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET customer_name = ?2, problem = ?3, ticket = ?4 WHERE id = ?1",
        params![id.0, details.customer_name, details.problem, details.ticket],
    )?;
    Ok(())
}

// ---- private notes -----------------------------------------------------------------------

/// A session's notes, oldest first.
pub fn notes(conn: &Connection, session: &SessionId) -> Result<Vec<SessionNote>, DbError> {
    conn.prepare(
        "SELECT n.id, n.at, t.username, t.display_name, n.text
             FROM notes n JOIN technicians t ON t.id = n.technician_id
             WHERE n.session_id = ?1 ORDER BY n.id",
    )?
    .query_map([&session.0], |r| {
        Ok(SessionNote {
            id: r.get(0)?,
            at: r.get::<i64>(1)? as Millis,
            author: TechnicianRef {
                username: r.get(2)?,
                display_name: r.get(3)?,
            },
            text: r.get(4)?,
        })
    })?
    .collect::<Result<_, _>>()
}

/// Adds a note, unless the session holds `max` already (`Ok(None)`).
pub fn add_note(
    conn: &mut Connection,
    session: &SessionId,
    technician_id: i64,
    text: &str,
    at: Millis,
    max: usize,
) -> Result<Option<i64>, DbError> {
    let tx = conn.transaction()?;
    let held: i64 = tx.query_row(
        "SELECT count(*) FROM notes WHERE session_id = ?1",
        [&session.0],
        |r| r.get(0),
    )?;
    if held as usize >= max {
        return Ok(None);
    }
    let id: i64 = tx.query_row(
        "INSERT INTO notes(session_id, technician_id, at, text) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![session.0, technician_id, at as i64, text],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok(Some(id))
}

// ---- canned replies ----------------------------------------------------------------------

/// The canned replies of `teams`, by team then title.
pub fn replies(conn: &Connection, teams: &[i64]) -> Result<Vec<CannedReply>, DbError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT r.id, t.slug, t.name, r.title, r.text FROM canned_replies r
         JOIN teams t ON t.id = r.team_id WHERE r.team_id = ?1 ORDER BY r.title, r.id",
    )?;
    for team in teams {
        let rows = stmt
            .query_map([team], |r| {
                Ok(CannedReply {
                    id: r.get(0)?,
                    team: TeamRef {
                        slug: r.get(1)?,
                        name: r.get(2)?,
                    },
                    title: r.get(3)?,
                    text: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        out.extend(rows);
    }
    Ok(out)
}

/// The team a canned reply belongs to.
pub fn reply_team(conn: &Connection, id: i64) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "SELECT team_id FROM canned_replies WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()
}

/// Adds a canned reply, unless the team keeps `max` already (`Ok(None)`).
pub fn add_reply(
    conn: &mut Connection,
    team_id: i64,
    title: &str,
    text: &str,
    now: Millis,
    max: usize,
) -> Result<Option<i64>, DbError> {
    let tx = conn.transaction()?;
    let held: i64 = tx.query_row(
        "SELECT count(*) FROM canned_replies WHERE team_id = ?1",
        [team_id],
        |r| r.get(0),
    )?;
    if held as usize >= max {
        return Ok(None);
    }
    let id: i64 = tx.query_row(
        "INSERT INTO canned_replies(team_id, title, text, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![team_id, title, text, now as i64],
        |r| r.get(0),
    )?;
    tx.commit()?;
    Ok(Some(id))
}

/// Changes a canned reply's title and text.
pub fn update_reply(conn: &Connection, id: i64, title: &str, text: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE canned_replies SET title = ?2, text = ?3 WHERE id = ?1",
        params![id, title, text],
    )?;
    Ok(())
}

pub fn delete_reply(conn: &Connection, id: i64) -> Result<(), DbError> {
    conn.execute("DELETE FROM canned_replies WHERE id = ?1", [id])?;
    Ok(())
}

// ---- teams -------------------------------------------------------------------------------

/// A team as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// Whether the queue is closed to new customers.
    pub closed: bool,
    pub closed_message: String,
    /// Most customers joining or waiting in the queue at once.
    pub max_queue: u32,
    /// Opening hours as written (see [`crate::hours`]; empty: always open).
    pub hours: String,
    /// Their time zone (IANA; empty: the broker's `time_zone`).
    pub time_zone: String,
}

const TEAM_COLUMNS: &str = "id, slug, name, closed, closed_message, max_queue, hours, time_zone";

fn team_from(r: &crate::sql::Row) -> Result<TeamRow, DbError> {
    Ok(TeamRow {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        closed: r.get(3)?,
        closed_message: r.get(4)?,
        max_queue: r.get::<i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
        hours: r.get(6)?,
        time_zone: r.get(7)?,
    })
}

/// Creates a team; `Ok(None)` when the slug is taken.
pub fn create_team(
    conn: &Connection,
    slug: &str,
    name: &str,
    now: Millis,
) -> Result<Option<i64>, DbError> {
    conn.query_row(
        "INSERT INTO teams(slug, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(slug) DO NOTHING RETURNING id",
        params![slug, name, now as i64],
        |r| r.get(0),
    )
    .optional()
}

pub fn team_by_slug(conn: &Connection, slug: &str) -> Result<Option<TeamRow>, DbError> {
    conn.query_row(
        &format!("SELECT {TEAM_COLUMNS} FROM teams WHERE slug = ?1"),
        [slug],
        team_from,
    )
    .optional()
}

pub fn team_by_id(conn: &Connection, id: i64) -> Result<Option<TeamRow>, DbError> {
    conn.query_row(
        &format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = ?1"),
        [id],
        team_from,
    )
    .optional()
}

/// Every team with its members' user names, by slug.
pub fn teams(conn: &Connection) -> Result<Vec<(TeamRow, Vec<String>)>, DbError> {
    let teams: Vec<TeamRow> = conn
        .prepare(&format!("SELECT {TEAM_COLUMNS} FROM teams ORDER BY slug"))?
        .query_map(params![], team_from)?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(teams.len());
    for team in teams {
        let members: Vec<String> = conn
            .prepare(
                "SELECT t.username FROM team_members m JOIN technicians t ON t.id = m.technician_id
                 WHERE m.team_id = ?1 ORDER BY t.username",
            )?
            .query_map([team.id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push((team, members));
    }
    Ok(out)
}

/// Makes a technician a member of a team, or not; whether anything changed.
pub fn set_member(
    conn: &Connection,
    team_id: i64,
    technician_id: i64,
    member: bool,
) -> Result<bool, DbError> {
    let changed = if member {
        conn.execute(
            "INSERT INTO team_members(team_id, technician_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![team_id, technician_id],
        )?
    } else {
        conn.execute(
            "DELETE FROM team_members WHERE team_id = ?1 AND technician_id = ?2",
            params![team_id, technician_id],
        )?
    };
    Ok(changed == 1)
}

/// Opens or closes a team's queue to new customers, with the message for when closed.
pub fn set_team_open(
    conn: &Connection,
    team_id: i64,
    open: bool,
    closed_message: &str,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE teams SET closed = ?2, closed_message = ?3 WHERE id = ?1",
        params![team_id, !open, closed_message],
    )?;
    Ok(())
}

/// Sets a team's opening hours and their time zone (checked by the caller).
pub fn set_team_hours(
    conn: &Connection,
    team_id: i64,
    hours: &str,
    time_zone: &str,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE teams SET hours = ?2, time_zone = ?3 WHERE id = ?1",
        params![team_id, hours, time_zone],
    )?;
    Ok(())
}

/// The teams a technician belongs to.
pub fn teams_of(conn: &Connection, technician_id: i64) -> Result<Vec<i64>, DbError> {
    conn.prepare("SELECT team_id FROM team_members WHERE technician_id = ?1 ORDER BY team_id")?
        .query_map([technician_id], |r| r.get(0))?
        .collect::<Result<_, _>>()
}

/// The teams a technician belongs to, by name.
pub fn team_refs_of(conn: &Connection, technician_id: i64) -> Result<Vec<TeamRef>, DbError> {
    conn.prepare(
        "SELECT t.slug, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE m.technician_id = ?1 ORDER BY t.name",
    )?
    .query_map([technician_id], |r| {
        Ok(TeamRef {
            slug: r.get(0)?,
            name: r.get(1)?,
        })
    })?
    .collect::<Result<_, _>>()
}

/// Customers joining or waiting in a team's queue (nobody has picked them up).
pub fn queue_size(conn: &Connection, team_id: i64) -> Result<u32, DbError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sessions WHERE team_id = ?1 AND technician_id IS NULL
         AND phase IN ('created', 'connecting', 'waiting')",
        [team_id],
        |r| r.get(0),
    )?;
    Ok(n as u32)
}

/// A session in `team`'s queue for a customer who came by its link, with their token
/// and details, unless the queue holds `team.max_queue` already (`Ok(false)`).
pub fn insert_queued(
    conn: &mut Connection,
    id: &SessionId,
    team: &TeamRow,
    token_hash: &[u8],
    details: &SessionDetails,
    expires_at: Millis,
    now: Millis,
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    if queue_size(&tx, team.id)? >= team.max_queue {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO sessions(id, technician_id, team_id, pin_expires_at, customer_token_hash,
                              created_at, phase_since, last_activity, invitation,
                              customer_name, problem)
         VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?5, ?5, ?1, ?6, ?7)",
        params![
            id.0,
            team.id,
            expires_at as i64,
            token_hash,
            now as i64,
            details.customer_name,
            details.problem
        ],
    )?;
    enqueue_webhooks(&tx, WebhookEvent::SessionCreated, id, now)?;
    tx.commit()?;
    Ok(true)
}

/// The sessions waiting in the queues of `teams` (nobody has them yet), oldest first.
pub fn queued_sessions(conn: &Connection, teams: &[i64]) -> Result<Vec<SessionId>, DbError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT id FROM sessions WHERE team_id = ?1 AND technician_id IS NULL AND phase != 'ended'
         ORDER BY created_at LIMIT 500",
    )?;
    for team in teams {
        let ids = stmt
            .query_map([team], |r| r.get::<String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        out.extend(ids.into_iter().map(SessionId));
    }
    Ok(out)
}

/// Every session waiting in a team's queue (the customer waits, nobody has it): its
/// team, since when it waits, and its id.
pub fn waiting_in_queues(conn: &Connection) -> Result<Vec<(i64, Millis, SessionId)>, DbError> {
    conn.prepare(
        "SELECT team_id, phase_since, id FROM sessions
         WHERE team_id IS NOT NULL AND technician_id IS NULL AND phase = 'waiting'",
    )?
    .query_map(params![], |r| {
        Ok((
            r.get::<i64>(0)?,
            r.get::<i64>(1)? as Millis,
            SessionId(r.get(2)?),
        ))
    })?
    .collect()
}

/// How many entries a session has stored, and the bytes of their JSON.
pub fn log_size(conn: &Connection, id: &SessionId) -> Result<(u64, u64), DbError> {
    conn.query_row(
        "SELECT count(*), coalesce(sum(length(kind)), 0) FROM entries WHERE session_id = ?1",
        [&id.0],
        |r| Ok((r.get::<i64>(0)? as u64, r.get::<i64>(1)? as u64)),
    )
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
            r.get::<String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(SessionId).collect())
}

/// Every session that is not over.
pub fn open_sessions(conn: &Connection) -> Result<Vec<SessionId>, DbError> {
    let mut stmt = conn.prepare("SELECT id FROM sessions WHERE phase != 'ended'")?;
    let ids = stmt
        .query_map(params![], |r| r.get::<String>(0))?
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
    staffing: Staffing,
) -> Result<(), DbError> {
    let kind = serde_json::to_string(&entry.kind).map_err(DbError::Encode)?;
    let tx = conn.transaction()?;
    if tx.dialect() == Dialect::Postgres {
        // Appends to one session from several brokers (an owner and one taking over)
        // queue on the session's row: each then sees the entry before it, so the
        // sequence has no gap, and a second entry with the same number is refused
        // (`DbError::is_conflict`), never stored.
        tx.query_row(
            "SELECT 1 FROM sessions WHERE id = ?1 FOR UPDATE",
            [&session.0],
            |_| Ok(()),
        )?;
    }
    let prev = match entry.seq {
        1 => chain::genesis(session),
        _ => tx
            .query_row(
                "SELECT hash FROM entries WHERE session_id = ?1 AND seq = ?2",
                params![session.0, entry.seq as i64 - 1],
                |r| r.get::<Vec<u8>>(0),
            )
            .ok()
            .and_then(|h| chain::to_array(&h))
            .ok_or_else(|| {
                DbError::Corrupt(format!(
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
    // Webhooks hear of it in the same transaction: stored together, or not at all.
    let event = match entry.kind {
        EntryKind::TechnicianPickedUp { .. } => Some(WebhookEvent::SessionPickedUp),
        EntryKind::SessionEnded { .. } => Some(WebhookEvent::SessionEnded),
        _ => None,
    };
    if let Some(event) = event {
        enqueue_webhooks(&tx, event, session, entry.at)?;
    }
    match new_phase {
        Some(phase) => {
            // The technician ending the session they made (or its PIN expiring) cancels
            // the invitation; a customer leaving does not take it from the others.
            let cancels = matches!(
                entry.kind,
                EntryKind::SessionEnded {
                    reason: EndReason::TechnicianEnded | EndReason::PinExpired
                }
            );
            tx.execute(
                "UPDATE sessions SET phase = ?2, phase_since = ?3, last_activity = ?3,
                     pin_hash = CASE WHEN ?4 AND invitation = id THEN NULL ELSE pin_hash END,
                     join_token_hash = CASE WHEN ?4 AND invitation = id THEN NULL ELSE join_token_hash END
                 WHERE id = ?1",
                params![session.0, phase_name(phase), entry.at as i64, cancels],
            )?
        }
        None => tx.execute(
            "UPDATE sessions SET last_activity = ?2 WHERE id = ?1",
            params![session.0, entry.at as i64],
        )?,
    };
    match staffing {
        Staffing::Same => {}
        Staffing::PickedUp(technician) => {
            // The session is theirs from now on (from a team's queue it was nobody's).
            let taken = tx.execute(
                "UPDATE sessions SET technician_id = ?2, picked_up_at = ?3
                 WHERE id = ?1 AND (technician_id IS NULL OR technician_id = ?2)",
                params![session.0, technician, entry.at as i64],
            )?;
            if taken != 1 {
                return Err(DbError::Corrupt(format!(
                    "session {session} was picked up by someone else"
                )));
            }
        }
        Staffing::HandedTo(technician) => {
            tx.execute(
                "UPDATE sessions SET technician_id = ?2 WHERE id = ?1",
                params![session.0, technician],
            )?;
            tx.execute(
                "DELETE FROM session_guests WHERE session_id = ?1 AND technician_id = ?2",
                params![session.0, technician],
            )?;
        }
        Staffing::Queued => {
            tx.execute(
                "UPDATE sessions SET technician_id = NULL, picked_up_at = NULL WHERE id = ?1",
                [&session.0],
            )?;
            tx.execute(
                "DELETE FROM session_guests WHERE session_id = ?1",
                [&session.0],
            )?;
        }
        Staffing::Invited(technician) => {
            tx.execute(
                "INSERT INTO session_guests(session_id, technician_id, joined) VALUES (?1, ?2, 0)",
                params![session.0, technician],
            )?;
        }
        Staffing::Joined(technician) => {
            tx.execute(
                "UPDATE session_guests SET joined = 1 WHERE session_id = ?1 AND technician_id = ?2",
                params![session.0, technician],
            )?;
        }
        Staffing::Left(technician) => {
            tx.execute(
                "DELETE FROM session_guests WHERE session_id = ?1 AND technician_id = ?2",
                params![session.0, technician],
            )?;
        }
    }
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
            Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let entries = entries_after(conn, session, 0)?;
    entries
        .into_iter()
        .zip(hashes)
        .map(|(entry, (seq, hash))| {
            let hash = chain::to_array(&hash).filter(|_| seq as u64 == entry.seq);
            hash.map(|h| (entry, h))
                .ok_or_else(|| DbError::Corrupt(format!("session {session}: bad stored hash")))
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
            r.get::<i64>(0)?,
            r.get::<i64>(1)?,
            r.get::<String>(2)?,
            r.get::<String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, author, kind) = row?;
        let author = author_from(&author)
            .ok_or_else(|| DbError::Corrupt(format!("unknown author {author:?}")))?;
        let kind: EntryKind = serde_json::from_str(&kind)
            .map_err(|e| DbError::Corrupt(format!("entry {seq} does not decode: {e}")))?;
        out.push(LogEntry {
            seq: seq as Seq,
            at: at as Millis,
            author,
            kind,
        });
    }
    Ok(out)
}
