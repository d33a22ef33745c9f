//! `connectit-broker migrate-to-postgres`: copies an embedded SQLite database into an
//! empty PostgreSQL one, for moving an installation to the scale-out mode.
//!
//! Every table is copied row for row, ids included (the identities then continue after
//! the largest), in one PostgreSQL transaction: it lands whole or not at all. Before it
//! commits, the copy is checked: the same number of rows in every table, and every
//! session's log read back from PostgreSQL verifies against its hash chain (the stored
//! hashes are copied, not recomputed, so a chain that holds there is the original).

use std::path::Path;

use connectit_protocol::SessionId;

use crate::chain;
use crate::db::{self, Db, DbError};
use crate::sql::{params, Connection, Value};

/// The tables, parents before the tables that refer to them.
const TABLES: &[&str] = &[
    "meta",
    "technicians",
    "sign_ins",
    "teams",
    "sessions",
    "entries",
    "audit",
    "team_members",
    "notes",
    "canned_replies",
    "session_guests",
    "api_tokens",
    "webhooks",
    "webhook_deliveries",
    "invitations",
    "surveys",
];

/// The tables whose `id` is an identity, which must continue after the copied ids.
const IDENTITIES: &[(&str, &str)] = &[
    ("technicians", "id"),
    ("teams", "id"),
    ("audit", "id"),
    ("notes", "id"),
    ("canned_replies", "id"),
    ("api_tokens", "id"),
    ("webhooks", "id"),
    ("webhook_deliveries", "id"),
    ("session_guests", "rowid"),
];

/// Rows per `INSERT` (PostgreSQL takes at most 65,535 parameters in one statement).
const BATCH_ROWS: usize = 400;

/// What was copied.
#[derive(Debug, Default)]
pub struct Copied {
    /// Rows per table, in [`TABLES`]' order.
    pub rows: Vec<(&'static str, u64)>,
    /// Sessions whose hash chain was verified on PostgreSQL.
    pub chains: u64,
}

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: u64 = self.rows.iter().map(|(_, n)| n).sum();
        let of = |table| {
            self.rows
                .iter()
                .find(|(t, _)| *t == table)
                .map_or(0, |(_, n)| *n)
        };
        write!(
            f,
            "{rows} rows ({} accounts, {} sessions, {} log entries); {} hash chains verified",
            of("technicians"),
            of("sessions"),
            of("entries"),
            self.chains
        )
    }
}

/// Why a migration did not happen (nothing was written to PostgreSQL).
#[derive(Debug)]
pub enum MigrateError {
    /// There is no SQLite database at that path.
    NoSource(String),
    /// The PostgreSQL database holds accounts or sessions already.
    NotEmpty(&'static str),
    /// The copy does not read back as the original.
    Mismatch(String),
    Db(DbError),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::NoSource(path) => write!(f, "no database at {path}"),
            MigrateError::NotEmpty(table) => write!(
                f,
                "the PostgreSQL database is not empty (its {table} table has rows): \
                 migrate into a new database"
            ),
            MigrateError::Mismatch(what) => {
                write!(
                    f,
                    "the copy does not match the original ({what}): nothing was kept"
                )
            }
            MigrateError::Db(e) => write!(f, "{e}"),
        }
    }
}

impl From<DbError> for MigrateError {
    fn from(e: DbError) -> Self {
        MigrateError::Db(e)
    }
}

/// Copies the SQLite database at `sqlite` into the empty PostgreSQL database at `url`
/// (whose schema is brought up to date first). The SQLite file is brought up to this
/// version's schema as the broker would on start, and not changed otherwise.
pub fn to_postgres(sqlite: &Path, url: &str) -> Result<Copied, MigrateError> {
    if !sqlite.exists() {
        return Err(MigrateError::NoSource(sqlite.display().to_string()));
    }
    let source = Db::open(sqlite)?;
    let target = Db::postgres(url, 1)?;
    let outcome = source.blocking(|src| {
        Ok(target.blocking(|dst| {
            for table in ["technicians", "sessions", "entries", "teams"] {
                let rows: i64 =
                    dst.query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                        r.get(0)
                    })?;
                if rows > 0 {
                    return Ok(Err(MigrateError::NotEmpty(table)));
                }
            }
            let tx = dst.transaction()?;
            let mut copied = Copied::default();
            for table in TABLES {
                let n = copy_table(src, &tx, table)?;
                let stored: i64 =
                    tx.query_row(&format!("SELECT count(*) FROM {table}"), params![], |r| {
                        r.get(0)
                    })?;
                if stored as u64 != n {
                    return Ok(Err(MigrateError::Mismatch(format!(
                        "{table}: {n} rows read, {stored} stored"
                    ))));
                }
                copied.rows.push((table, n));
            }
            for (table, column) in IDENTITIES {
                tx.query_row(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                                       coalesce(max({column}), 0) + 1, false)
                         FROM {table}"
                    ),
                    params![],
                    |_| Ok(()),
                )?;
            }
            match verify_chains(&tx)? {
                Ok(chains) => copied.chains = chains,
                Err(e) => return Ok(Err(e)),
            }
            tx.commit()?;
            Ok(Ok(copied))
        }))
    })??;
    outcome
}

/// Copies every row of `table`; how many.
fn copy_table(src: &Connection, dst: &Connection, table: &str) -> Result<u64, DbError> {
    let mut columns: Vec<String> = src
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    // SQLite's own rowid gives the guests' order; PostgreSQL keeps it in a column.
    let select = if table == "session_guests" {
        columns.push("rowid".into());
        format!(
            "SELECT {}, rowid FROM {table}",
            columns[..columns.len() - 1].join(", ")
        )
    } else {
        format!("SELECT {} FROM {table}", columns.join(", "))
    };
    let rows = src.query(&select, params![])?;
    let width = columns.len();
    let mut copied = 0;
    for chunk in rows.chunks(BATCH_ROWS) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut values = Vec::with_capacity(chunk.len() * width);
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("?{}", i * width + c + 1));
                values.push(row.get::<Value>(c)?);
            }
            sql.push(')');
        }
        copied += dst.execute(&sql, values)? as u64;
    }
    Ok(copied)
}

/// Every session's log as PostgreSQL now holds it, checked against its hash chain (an
/// anonymised session's text no longer matches it, by design, and is not checked).
fn verify_chains(conn: &Connection) -> Result<Result<u64, MigrateError>, DbError> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM sessions WHERE anonymised_at IS NULL ORDER BY id")?
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut chains = 0;
    for id in ids.into_iter().map(SessionId) {
        let chained = db::entries_with_hashes(conn, &id)?;
        if let Some(seq) = chain::first_break(&id, &chained) {
            return Ok(Err(MigrateError::Mismatch(format!(
                "session {id}: entry {seq} does not match its hash chain"
            ))));
        }
        chains += 1;
    }
    Ok(Ok(chains))
}
