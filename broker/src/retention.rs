//! How long sessions are kept: sessions that ended more than `retention_days` ago are
//! deleted, or anonymised (`retention_action`), by a daily job and by
//! `connectit-broker apply-retention`; a session under legal hold
//! (`connectit-broker legal-hold --session ID`) is kept whole until the hold is lifted.
//! Each run, and each hold, is a line of the security log.
//!
//! Anonymising keeps the log's shape (who did what, when, what was granted, files'
//! sizes, ratings) and removes what a person wrote or named: chat text, files' names,
//! system information, request reasons, survey comments, the customer's name, problem
//! and ticket, and private notes. The stored chain hashes are those of the original
//! log: an anonymised session is marked so, and its record says it can no longer be
//! proven against them.

use crate::sql::{params, Connection, OptionalExtension};
use connectit_protocol::api::AuditKind;
use connectit_protocol::{EntryKind, InfoItem, Millis, SessionId};
use serde::Deserialize;

use crate::db::{self, DbError};

/// What happens to sessions past their retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionAction {
    #[default]
    Delete,
    Anonymise,
}

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Sessions deleted or anonymised.
    pub done: u64,
    /// Sessions past their retention kept for a legal hold.
    pub held: u64,
}

/// Sessions handled per transaction (the broker goes on writing between batches).
const BATCH: usize = 200;

/// The text put in place of what a person wrote.
pub const REMOVED: &str = "[removed]";

/// Applies the retention to sessions that ended before `cutoff`.
pub fn apply(
    conn: &mut Connection,
    cutoff: Millis,
    action: RetentionAction,
) -> Result<Applied, DbError> {
    let held: i64 = conn.query_row(
        "SELECT count(*) FROM sessions WHERE phase = 'ended' AND phase_since < ?1 AND legal_hold = 1
         AND (?2 = 'delete' OR anonymised_at IS NULL)",
        params![cutoff as i64, action_name(action)],
        |r| r.get(0),
    )?;
    let mut done = 0;
    loop {
        let ids: Vec<String> = conn
            .prepare(
                "SELECT id FROM sessions WHERE phase = 'ended' AND phase_since < ?1 AND legal_hold = 0
                 AND (?3 = 'delete' OR anonymised_at IS NULL) ORDER BY phase_since LIMIT ?2",
            )?
            .query_map(
                params![cutoff as i64, BATCH as i64, action_name(action)],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            break;
        }
        let tx = conn.transaction()?;
        for id in &ids {
            let id = SessionId(id.clone());
            match action {
                RetentionAction::Delete => delete(&tx, &id)?,
                RetentionAction::Anonymise => anonymise(&tx, &id, cutoff)?,
            }
        }
        tx.commit()?;
        done += ids.len() as u64;
    }
    Ok(Applied {
        done,
        held: held as u64,
    })
}

fn action_name(action: RetentionAction) -> &'static str {
    match action {
        RetentionAction::Delete => "delete",
        RetentionAction::Anonymise => "anonymise",
    }
}

fn delete(conn: &Connection, id: &SessionId) -> Result<(), DbError> {
    for table in ["entries", "notes", "surveys", "session_guests"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE session_id = ?1"),
            [&id.0],
        )?;
    }
    conn.execute("DELETE FROM sessions WHERE id = ?1", [&id.0])?;
    Ok(())
}

/// The entry without what a person wrote or named.
pub fn scrub(kind: EntryKind) -> EntryKind {
    let removed = || REMOVED.to_string();
    match kind {
        EntryKind::Chat { by, .. } => EntryKind::Chat {
            text: removed(),
            by,
        },
        EntryKind::FileOffered { file, size, .. } => EntryKind::FileOffered {
            file,
            name: removed(),
            size,
        },
        EntryKind::SystemInfoShared { items } => EntryKind::SystemInfoShared {
            items: items
                .into_iter()
                .map(|_| InfoItem {
                    label: removed(),
                    value: removed(),
                })
                .collect(),
        },
        EntryKind::PermissionRequested {
            request,
            permissions,
            deadline,
            ..
        } => EntryKind::PermissionRequested {
            request,
            permissions,
            reason: String::new(),
            deadline,
        },
        EntryKind::SurveySubmitted {
            rating, resolved, ..
        } => EntryKind::SurveySubmitted {
            rating,
            resolved,
            comment: String::new(),
        },
        other => other,
    }
}

fn anonymise(conn: &Connection, id: &SessionId, at: Millis) -> Result<(), DbError> {
    for entry in db::entries_after(conn, id, 0)? {
        let scrubbed = scrub(entry.kind.clone());
        if scrubbed != entry.kind {
            let text = serde_json::to_string(&scrubbed).map_err(DbError::Encode)?;
            conn.execute(
                "UPDATE entries SET kind = ?3 WHERE session_id = ?1 AND seq = ?2",
                params![id.0, entry.seq as i64, text],
            )?;
        }
    }
    conn.execute("DELETE FROM notes WHERE session_id = ?1", [&id.0])?;
    conn.execute(
        "UPDATE surveys SET comment = '' WHERE session_id = ?1",
        [&id.0],
    )?;
    conn.execute(
        "UPDATE sessions SET customer_name = '', problem = '', ticket = '', anonymised_at = ?2
         WHERE id = ?1",
        params![id.0, at as i64],
    )?;
    Ok(())
}

/// Puts a session under legal hold, or lifts it. `None` if there is no such session.
pub fn set_hold(conn: &Connection, id: &SessionId, hold: bool) -> Result<Option<()>, DbError> {
    let found = conn
        .query_row("SELECT 1 FROM sessions WHERE id = ?1", [&id.0], |_| Ok(()))
        .optional()?;
    if found.is_some() {
        conn.execute(
            "UPDATE sessions SET legal_hold = ?2 WHERE id = ?1",
            params![id.0, hold],
        )?;
    }
    Ok(found)
}

/// The security-log line of a run.
pub fn describe(applied: Applied, action: RetentionAction, days: u64) -> (AuditKind, String) {
    let verb = match action {
        RetentionAction::Delete => "deleted",
        RetentionAction::Anonymise => "anonymised",
    };
    (
        AuditKind::RetentionApplied,
        format!(
            "{verb} {} sessions that ended more than {days} days ago; {} kept on legal hold",
            applied.done, applied.held
        ),
    )
}
