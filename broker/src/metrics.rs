//! What an operator watches: counters kept as the broker works ([`Metrics`]), and the
//! Prometheus text exposition of them and of what is counted when scraped (sessions by
//! phase, sockets, connections, queue lengths). Served on `metrics_listen` only, a
//! listener of its own that is off by default, never on the public one.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use connectit_protocol::api::AuditKind;

use crate::db;
use crate::AppState;

/// Upper bounds of the append-latency buckets, in seconds.
const APPEND_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Every security event kind, in the order of [`kind_index`].
const KINDS: [AuditKind; 33] = [
    AuditKind::SignInSucceeded,
    AuditKind::SignInFailed,
    AuditKind::SignInThrottled,
    AuditKind::SignedOut,
    AuditKind::SocketsClosed,
    AuditKind::SetupSucceeded,
    AuditKind::SetupFailed,
    AuditKind::SetupThrottled,
    AuditKind::PinFailed,
    AuditKind::PinThrottled,
    AuditKind::LinkFailed,
    AuditKind::SecondCandidate,
    AuditKind::CrossOriginRefused,
    AuditKind::SocketRefused,
    AuditKind::Flood,
    AuditKind::LogFull,
    AuditKind::ConnectionsRefused,
    AuditKind::SlowConnections,
    AuditKind::QueueThrottled,
    AuditKind::QueueFull,
    AuditKind::RetentionApplied,
    AuditKind::LegalHold,
    AuditKind::AccountCreated,
    AuditKind::AccountChanged,
    AuditKind::PasswordReset,
    AuditKind::PasswordSet,
    AuditKind::SignedOutEverywhere,
    AuditKind::TeamChanged,
    AuditKind::InvitationFailed,
    AuditKind::EmailSent,
    AuditKind::ApiToken,
    AuditKind::WebhookChanged,
    AuditKind::WebhookFailed,
];

fn kind_index(kind: AuditKind) -> usize {
    match kind {
        AuditKind::SignInSucceeded => 0,
        AuditKind::SignInFailed => 1,
        AuditKind::SignInThrottled => 2,
        AuditKind::SignedOut => 3,
        AuditKind::SocketsClosed => 4,
        AuditKind::SetupSucceeded => 5,
        AuditKind::SetupFailed => 6,
        AuditKind::SetupThrottled => 7,
        AuditKind::PinFailed => 8,
        AuditKind::PinThrottled => 9,
        AuditKind::LinkFailed => 10,
        AuditKind::SecondCandidate => 11,
        AuditKind::CrossOriginRefused => 12,
        AuditKind::SocketRefused => 13,
        AuditKind::Flood => 14,
        AuditKind::LogFull => 15,
        AuditKind::ConnectionsRefused => 16,
        AuditKind::SlowConnections => 17,
        AuditKind::QueueThrottled => 18,
        AuditKind::QueueFull => 19,
        AuditKind::RetentionApplied => 20,
        AuditKind::LegalHold => 21,
        AuditKind::AccountCreated => 22,
        AuditKind::AccountChanged => 23,
        AuditKind::PasswordReset => 24,
        AuditKind::PasswordSet => 25,
        AuditKind::SignedOutEverywhere => 26,
        AuditKind::TeamChanged => 27,
        AuditKind::InvitationFailed => 28,
        AuditKind::EmailSent => 29,
        AuditKind::ApiToken => 30,
        AuditKind::WebhookChanged => 31,
        AuditKind::WebhookFailed => 32,
    }
}

/// The throttle a refusal kind belongs to, for `connectit_throttle_refusals_total`.
fn throttle_of(kind: AuditKind) -> Option<&'static str> {
    match kind {
        AuditKind::PinThrottled => Some("pin"),
        AuditKind::QueueThrottled => Some("queue_join"),
        AuditKind::SignInThrottled => Some("sign_in"),
        AuditKind::SetupThrottled => Some("setup"),
        AuditKind::ConnectionsRefused => Some("connections"),
        AuditKind::Flood => Some("messages"),
        _ => None,
    }
}

/// Counters the broker keeps as it works. Cheap to bump from any task.
pub struct Metrics {
    /// Security events, by kind (each occurrence, also those counted into one line).
    events: [AtomicU64; KINDS.len()],
    /// Appends stored, by latency bucket (the last is +Inf).
    append_buckets: [AtomicU64; APPEND_BUCKETS.len() + 1],
    append_micros: AtomicU64,
    append_count: AtomicU64,
    /// Signals relayed, and their payloads' bytes.
    signals: AtomicU64,
    signal_bytes: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            events: std::array::from_fn(|_| AtomicU64::new(0)),
            append_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            append_micros: AtomicU64::new(0),
            append_count: AtomicU64::new(0),
            signals: AtomicU64::new(0),
            signal_bytes: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// One security event of `kind`.
    pub fn event(&self, kind: AuditKind) {
        self.events[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// One entry stored, in `took`.
    pub fn appended(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let bucket = APPEND_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(APPEND_BUCKETS.len());
        self.append_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.append_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        self.append_count.fetch_add(1, Ordering::Relaxed);
    }

    /// One signal of `bytes` relayed.
    pub fn relayed(&self, bytes: usize) {
        self.signals.fetch_add(1, Ordering::Relaxed);
        self.signal_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Entries stored so far.
    pub fn appends(&self) -> u64 {
        self.append_count.load(Ordering::Relaxed)
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format wants it (backslash, quote and newline escaped).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition, in Prometheus text format 0.0.4.
pub async fn render(state: &AppState) -> Result<String, db::DbError> {
    let (phases, teams) = state
        .db
        .call(|conn| {
            Ok((
                db::sessions_by_phase(conn)?,
                db::teams(conn)?
                    .into_iter()
                    .map(|(t, _)| t)
                    .collect::<Vec<_>>(),
            ))
        })
        .await?;
    let m = &state.metrics;
    let mut out = String::with_capacity(4096);

    header(
        &mut out,
        "connectit_sessions",
        "gauge",
        "Sessions stored, by phase.",
    );
    for phase in ["created", "connecting", "waiting", "active", "ended"] {
        let n = phases
            .iter()
            .find(|(p, _)| p == phase)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "connectit_sessions{{phase=\"{phase}\"}} {n}");
    }
    header(
        &mut out,
        "connectit_sessions_loaded",
        "gauge",
        "Sessions live in memory (open ones, and ended ones someone still watches).",
    );
    let _ = writeln!(out, "connectit_sessions_loaded {}", state.hub.loaded());
    header(
        &mut out,
        "connectit_sockets_open",
        "gauge",
        "Open WebSockets (sessions' and consoles').",
    );
    let _ = writeln!(
        out,
        "connectit_sockets_open {}",
        state.shutdown.open_sockets()
    );
    header(
        &mut out,
        "connectit_connections_open",
        "gauge",
        "Open TCP connections held in the connection caps.",
    );
    let _ = writeln!(
        out,
        "connectit_connections_open {}",
        state.connections.total()
    );
    header(
        &mut out,
        "connectit_queue_waiting",
        "gauge",
        "Customers waiting in each team's queue.",
    );
    for team in &teams {
        let _ = writeln!(
            out,
            "connectit_queue_waiting{{team=\"{}\"}} {}",
            label(&team.slug),
            state.hub.queues().waiting(team.id)
        );
    }
    header(
        &mut out,
        "connectit_security_events_total",
        "counter",
        "Security events, by kind (each occurrence).",
    );
    for kind in KINDS {
        let n = m.events[kind_index(kind)].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "connectit_security_events_total{{kind=\"{}\"}} {n}",
            crate::audit::kind_name(kind)
        );
    }
    header(
        &mut out,
        "connectit_throttle_refusals_total",
        "counter",
        "Requests, connections and messages refused by a throttle or cap, by throttle.",
    );
    for kind in KINDS {
        if let Some(throttle) = throttle_of(kind) {
            let n = m.events[kind_index(kind)].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "connectit_throttle_refusals_total{{throttle=\"{throttle}\"}} {n}"
            );
        }
    }
    header(
        &mut out,
        "connectit_append_seconds",
        "histogram",
        "Time to store one log entry durably.",
    );
    let mut cumulative = 0;
    for (i, bound) in APPEND_BUCKETS.iter().enumerate() {
        cumulative += m.append_buckets[i].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "connectit_append_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
        );
    }
    cumulative += m.append_buckets[APPEND_BUCKETS.len()].load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "connectit_append_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(
        out,
        "connectit_append_seconds_sum {}",
        m.append_micros.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "connectit_append_seconds_count {cumulative}");
    header(
        &mut out,
        "connectit_signals_relayed_total",
        "counter",
        "WebRTC signals relayed between members.",
    );
    let _ = writeln!(
        out,
        "connectit_signals_relayed_total {}",
        m.signals.load(Ordering::Relaxed)
    );
    header(
        &mut out,
        "connectit_signal_bytes_total",
        "counter",
        "Bytes of WebRTC signal payloads relayed.",
    );
    let _ = writeln!(
        out,
        "connectit_signal_bytes_total {}",
        m.signal_bytes.load(Ordering::Relaxed)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_counter() {
        for (i, kind) in KINDS.into_iter().enumerate() {
            assert_eq!(kind_index(kind), i, "{kind:?}");
        }
    }

    #[test]
    fn latencies_fall_in_their_bucket() {
        let m = Metrics::default();
        m.appended(Duration::from_micros(300));
        m.appended(Duration::from_millis(3));
        m.appended(Duration::from_secs(9));
        let got: Vec<u64> = m
            .append_buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(got[0], 1);
        assert_eq!(got[3], 1);
        assert_eq!(got[APPEND_BUCKETS.len()], 1);
        assert_eq!(m.appends(), 3);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
