//! Backups while the broker runs, and restoring one while it does not.
//!
//! [`backup`] copies the live database with SQLite's online backup API in one step: one
//! read transaction, so the copy is the database as it was at one instant, while the
//! broker goes on writing (in WAL mode readers and the writer do not wait for each
//! other). The copy is a single self-contained file, checked before it is called done:
//! SQLite's integrity check, and every session's hash chain.
//!
//! [`restore`] refuses while a broker serves the data folder (its `broker.pid` names a
//! live process), checks the backup the same way, keeps the current database aside
//! (`connectit.sqlite3.before-restore-<time>`, with its WAL), and puts the backup in its
//! place.

use std::path::{Path, PathBuf};
use std::time::Duration;

use connectit_protocol::SessionId;
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use crate::{chain, db};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub sessions: u64,
    pub entries: u64,
    pub bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} sessions, {} log entries, {} bytes; integrity and every hash chain checked",
            self.sessions, self.entries, self.bytes
        )
    }
}

/// The file that names the process serving a data folder.
pub fn pid_file(data_dir: &Path) -> PathBuf {
    data_dir.join("broker.pid")
}

/// Says, while it lives, that this process serves `data_dir`.
pub struct PidFile(PathBuf);

impl PidFile {
    pub fn create(data_dir: &Path) -> std::io::Result<PidFile> {
        let path = pid_file(data_dir);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The process serving `data_dir`, if its pid file names one that is alive (a pid
/// file left by a killed broker names a dead process, or someone else's).
pub fn serving(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(pid_file(data_dir)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    comm.trim().starts_with("connectit-broke").then_some(pid)
}

fn sqlite(e: rusqlite::Error) -> String {
    e.to_string()
}

/// Copies the database at `source` into the new file `target`, then checks the copy.
pub fn backup(source: &Path, target: &Path) -> Result<Summary, String> {
    if !source.exists() {
        return Err(format!("no database at {}", source.display()));
    }
    if target.exists() {
        return Err(format!(
            "{} exists already: choose a new file",
            target.display()
        ));
    }
    let partial = target.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let src =
        Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sqlite)?;
    src.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
    let copied = (|| {
        let mut dst = Connection::open(&partial)?;
        {
            let backup = Backup::new(&src, &mut dst)?;
            // All pages in one step: one read transaction, one instant.
            backup.step(-1)?;
        }
        // One file that stands alone (no WAL beside it).
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        Ok::<_, rusqlite::Error>(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("the backup failed: {e}"));
    }
    let summary = check(&partial).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    std::fs::rename(&partial, target).map_err(|e| e.to_string())?;
    Ok(summary)
}

/// Checks a database file: SQLite's integrity check, and every session's hash chain.
pub fn check(file: &Path) -> Result<Summary, String> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("{} cannot be opened: {e}", file.display()))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("{} is not a database: {e}", file.display()))?;
    if integrity != "ok" {
        return Err(format!("{} is damaged: {integrity}", file.display()));
    }
    // An anonymised session's text no longer matches the hashes of the original log.
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM sessions WHERE anonymised_at IS NULL ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("{} is not a ConnectIT database: {e}", file.display()))?;
    let conn = crate::sql::Connection::sqlite(conn);
    let mut entries = 0;
    for id in ids.iter().map(|i| SessionId(i.clone())) {
        let chained = db::entries_with_hashes(&conn, &id).map_err(|e| e.to_string())?;
        if let Some(seq) = chain::first_break(&id, &chained) {
            return Err(format!(
                "session {id}: entry {seq} does not match its hash chain"
            ));
        }
        entries += chained.len() as u64;
    }
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(Summary {
        sessions: ids.len() as u64,
        entries,
        bytes,
    })
}

/// Puts the backup `file` in place of the database at `database` (in `data_dir`), once
/// checked; the database there is kept aside. Answers the summary and where the old
/// database went.
pub fn restore(
    data_dir: &Path,
    database: &Path,
    file: &Path,
) -> Result<(Summary, Option<PathBuf>), String> {
    if let Some(pid) = serving(data_dir) {
        return Err(format!(
            "a broker (process {pid}) is serving {}: stop it first",
            data_dir.display()
        ));
    }
    let summary = check(file)?;
    std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
    let kept = if database.exists() {
        let stamp = jiff::Timestamp::now().as_second();
        let aside = PathBuf::from(format!("{}.before-restore-{stamp}", database.display()));
        std::fs::rename(database, &aside).map_err(|e| e.to_string())?;
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", database.display()));
            if side.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&side, &to).map_err(|e| e.to_string())?;
            }
        }
        Some(aside)
    } else {
        None
    };
    let partial = database.with_extension("restoring");
    std::fs::copy(file, &partial).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, database).map_err(|e| e.to_string())?;
    Ok((summary, kept))
}
