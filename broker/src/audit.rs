//! The security log: sign-ins good and bad, sign-outs, refusals and floods, each as a
//! structured line on standard error (target `audit`) and a row in the `audit` table
//! that the console lists (`GET /api/audit`).
//!
//! Single events ([`Audit::event`]) are written at once. Repeated ones ([`Audit::count`]:
//! wrong PINs, throttled attempts, refused handshakes, floods) are counted in memory and
//! written as one line per kind, address and account per window (a minute by default),
//! so an attack of a million requests makes a few lines a minute, not a million, and
//! never waits on the database.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sql::{params, Connection};
use connectit_protocol::api::{AuditEntry, AuditKind};
use connectit_protocol::Millis;

use crate::db::{Db, DbError};
use crate::hub::now_ms;
use crate::metrics::Metrics;

/// Distinct (kind, address, account) counters one window may hold; more are counted
/// on one line without an address.
const MAX_COUNTERS: usize = 1_000;
/// The longest account text kept (a user name as typed by anyone).
const MAX_ACCOUNT_CHARS: usize = 64;
/// The longest detail kept.
const MAX_DETAIL_CHARS: usize = 200;

type Key = (AuditKind, Option<IpAddr>, Option<String>);

struct Counter {
    first_at: Millis,
    count: u64,
    detail: String,
}

/// The security log's writer.
pub struct Audit {
    db: Db,
    /// How long repeated events are counted before their line is written.
    window: Duration,
    /// How long rows are kept.
    retention: Duration,
    counters: Mutex<HashMap<Key, Counter>>,
    /// Every occurrence counted, for `/metrics`.
    metrics: Arc<Metrics>,
}

/// A kind's name as stored and printed.
pub fn kind_name(kind: AuditKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

impl Audit {
    pub fn new(db: Db, window: Duration, retention: Duration, metrics: Arc<Metrics>) -> Self {
        Audit {
            db,
            window,
            retention,
            counters: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Records one event now: a line and a row. A row that cannot be stored is said
    /// in the line's place; the caller goes on.
    pub async fn event(
        &self,
        kind: AuditKind,
        address: Option<IpAddr>,
        account: Option<&str>,
        detail: &str,
    ) {
        self.metrics.event(kind);
        let row = Row {
            at: now_ms(),
            kind,
            address,
            account: account.map(|a| clip(a, MAX_ACCOUNT_CHARS)),
            count: 1,
            detail: clip(detail, MAX_DETAIL_CHARS),
        };
        row.print();
        if let Err(e) = self.db.call(move |conn| row.insert(conn)).await {
            tracing::error!(target: "audit", error = %e, "could not store a security log line");
        }
    }

    /// Counts one occurrence of a repeated event; its line is written when the window
    /// closes ([`Audit::flush`]).
    pub fn count(
        &self,
        kind: AuditKind,
        address: Option<IpAddr>,
        account: Option<&str>,
        detail: &str,
    ) {
        self.metrics.event(kind);
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = (kind, address, account.map(|a| clip(a, MAX_ACCOUNT_CHARS)));
        if counters.len() >= MAX_COUNTERS && !counters.contains_key(&key) {
            key = (kind, None, None);
        }
        let counter = counters.entry(key).or_insert_with(|| Counter {
            first_at: now_ms(),
            count: 0,
            detail: clip(detail, MAX_DETAIL_CHARS),
        });
        counter.count += 1;
    }

    /// Writes every counted line (one per kind, address and account) and forgets rows
    /// past their retention.
    pub async fn flush(&self) {
        let rows: Vec<Row> = {
            let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            counters
                .drain()
                .map(|((kind, address, account), c)| Row {
                    at: c.first_at,
                    kind,
                    address,
                    account,
                    count: c.count,
                    detail: c.detail,
                })
                .collect()
        };
        for row in &rows {
            row.print();
        }
        let before = now_ms().saturating_sub(self.retention.as_millis() as Millis);
        let stored = self
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                for row in &rows {
                    row.insert(&tx)?;
                }
                tx.execute("DELETE FROM audit WHERE at < ?1", [before as i64])?;
                tx.commit()?;
                Ok(())
            })
            .await;
        if let Err(e) = stored {
            tracing::error!(target: "audit", error = %e, "could not store security log lines");
        }
    }

    /// Flushes every window until the broker stops (then once more).
    pub async fn keep(&self, shutdown: crate::Shutdown) {
        let mut tick = tokio::time::interval(self.window);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => self.flush().await,
                _ = shutdown.cancelled() => {
                    self.flush().await;
                    return;
                }
            }
        }
    }
}

struct Row {
    at: Millis,
    kind: AuditKind,
    address: Option<IpAddr>,
    account: Option<String>,
    count: u64,
    detail: String,
}

/// Records one event now from a process that serves nothing (a command of the
/// broker's command line): a line and a row.
pub fn record_now(
    conn: &Connection,
    kind: AuditKind,
    account: Option<&str>,
    detail: &str,
) -> Result<(), DbError> {
    let row = Row {
        at: now_ms(),
        kind,
        address: None,
        account: account.map(|a| clip(a, MAX_ACCOUNT_CHARS)),
        count: 1,
        detail: clip(detail, MAX_DETAIL_CHARS),
    };
    row.print();
    row.insert(conn)
}

impl Row {
    fn print(&self) {
        let kind = kind_name(self.kind);
        let address = self.address.map(|a| a.to_string()).unwrap_or_default();
        let account = self.account.as_deref().unwrap_or_default();
        match self.kind {
            AuditKind::SignInSucceeded
            | AuditKind::SignedOut
            | AuditKind::SetupSucceeded
            | AuditKind::RetentionApplied
            | AuditKind::LegalHold
            | AuditKind::AccountCreated
            | AuditKind::AccountChanged
            | AuditKind::PasswordReset
            | AuditKind::PasswordSet
            | AuditKind::SignedOutEverywhere
            | AuditKind::TeamChanged => {
                tracing::info!(target: "audit", kind, address, account, count = self.count, detail = %self.detail, "security event")
            }
            _ => {
                tracing::warn!(target: "audit", kind, address, account, count = self.count, detail = %self.detail, "security event")
            }
        }
    }

    fn insert(&self, conn: &Connection) -> Result<(), DbError> {
        conn.execute(
            "INSERT INTO audit(at, kind, address, account, count, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                self.at as i64,
                kind_name(self.kind),
                self.address.map(|a| a.to_string()),
                self.account,
                self.count as i64,
                self.detail,
            ],
        )?;
        Ok(())
    }
}

/// The newest lines, before `before` (an id) if given, at most `limit`.
pub fn list(
    conn: &Connection,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, kind, address, account, count, detail FROM audit
         WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), i64::from(limit)], |r| {
        Ok((
            r.get::<i64>(0)?,
            r.get::<i64>(1)?,
            r.get::<String>(2)?,
            r.get::<Option<String>>(3)?,
            r.get::<Option<String>>(4)?,
            r.get::<i64>(5)?,
            r.get::<String>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, kind, address, account, count, detail) = row?;
        let Ok(kind) = serde_json::from_value::<AuditKind>(serde_json::Value::String(kind)) else {
            // A kind from a newer broker: skip it rather than fail the list.
            continue;
        };
        out.push(AuditEntry {
            id,
            at: at as Millis,
            kind,
            address,
            account,
            count: count as u64,
            detail,
        });
    }
    Ok(out)
}
