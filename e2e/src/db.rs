//! Read-only views of the broker's SQLite file, for assertions about what it stored.
//! The broker keeps writing while the test reads; a read-only connection never gets in
//! its way.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// One row of the `surveys` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub session_id: String,
    pub rating: i64,
    /// `None`: not answered.
    pub resolved: Option<bool>,
    pub comment: String,
    /// Broker time (ms since the Unix epoch).
    pub submitted_at: i64,
}

/// Opens the database read-only.
pub fn open(path: &Path) -> Connection {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()));
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("set the SQLite busy time-out");
    conn
}

/// The survey stored for `session_id`, if any.
pub fn survey(path: &Path, session_id: &str) -> Option<SurveyRow> {
    open(path)
        .query_row(
            "SELECT session_id, rating, resolved, comment, submitted_at \
             FROM surveys WHERE session_id = ?1",
            [session_id],
            |row| {
                Ok(SurveyRow {
                    session_id: row.get(0)?,
                    rating: row.get(1)?,
                    resolved: row.get::<_, Option<i64>>(2)?.map(|v| v != 0),
                    comment: row.get(3)?,
                    submitted_at: row.get(4)?,
                })
            },
        )
        .optional()
        .unwrap_or_else(|e| panic!("read the survey of session {session_id}: {e}"))
}

/// Every survey stored.
pub fn surveys(path: &Path) -> Vec<SurveyRow> {
    let conn = open(path);
    let mut stmt = conn
        .prepare(
            "SELECT session_id, rating, resolved, comment, submitted_at \
             FROM surveys ORDER BY submitted_at",
        )
        .unwrap_or_else(|e| panic!("query the surveys table: {e}"));
    let rows = stmt
        .query_map([], |row| {
            Ok(SurveyRow {
                session_id: row.get(0)?,
                rating: row.get(1)?,
                resolved: row.get::<_, Option<i64>>(2)?.map(|v| v != 0),
                comment: row.get(3)?,
                submitted_at: row.get(4)?,
            })
        })
        .unwrap_or_else(|e| panic!("read the surveys table: {e}"));
    rows.collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("read a surveys row: {e}"))
}

/// The stored phase of `session_id` (`sessions.phase`), if the session exists.
pub fn session_phase(path: &Path, session_id: &str) -> Option<String> {
    open(path)
        .query_row(
            "SELECT phase FROM sessions WHERE id = ?1",
            [session_id],
            |row| row.get(0),
        )
        .optional()
        .unwrap_or_else(|e| panic!("read the phase of session {session_id}: {e}"))
}

/// The `(author, kind)` of each stored entry of `session_id`, in order. `kind` is the
/// stored JSON text.
pub fn entries(path: &Path, session_id: &str) -> Vec<(u64, String, String)> {
    let conn = open(path);
    let mut stmt = conn
        .prepare("SELECT seq, author, kind FROM entries WHERE session_id = ?1 ORDER BY seq")
        .unwrap_or_else(|e| panic!("query the entries table: {e}"));
    let rows = stmt
        .query_map([session_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap_or_else(|e| panic!("read the entries of session {session_id}: {e}"));
    rows.collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("read an entries row: {e}"))
}
