//! The figures of one run: a markdown table and JSON.

use serde_json::{json, Value};

use crate::load::{percentile, Held};

/// One server at one number of sessions.
#[derive(Debug)]
pub struct Row {
    /// `broker` or `relay`.
    pub server: &'static str,
    /// Sessions asked for.
    pub sessions: usize,
    /// Sessions opened and held with every message delivered and no error.
    pub held: usize,
    /// Sessions that could not be opened.
    pub setup_failed: usize,
    /// Seconds to open them all.
    pub setup_secs: f64,
    /// Messages per second offered while holding.
    pub offered_per_sec: f64,
    pub hold: Held,
    /// The server's resident memory before any session, in KiB.
    pub baseline_rss_kib: Option<u64>,
    /// Sockets open on the server side while held (two per opened session).
    pub connections: usize,
}

impl Row {
    pub fn errors(&self) -> usize {
        self.setup_failed + self.hold.broken
    }

    fn rss_mib(&self) -> Option<f64> {
        self.hold.rss_kib.map(|k| k as f64 / 1024.0)
    }

    /// Resident memory added per open connection, in KiB.
    pub fn kib_per_connection(&self) -> Option<f64> {
        let (rss, base) = (self.hold.rss_kib?, self.baseline_rss_kib?);
        (self.connections > 0).then(|| rss.saturating_sub(base) as f64 / self.connections as f64)
    }

    fn latency_ms(&self, q: f64) -> Option<f64> {
        percentile(&self.hold.latencies_us, q).map(|us| us as f64 / 1000.0)
    }

    pub fn json(&self) -> Value {
        json!({
            "server": self.server,
            "sessions": self.sessions,
            "held": self.held,
            "errors": self.errors(),
            "setup_failed": self.setup_failed,
            "broken_while_held": self.hold.broken,
            "setup_secs": round(self.setup_secs, 2),
            "offered_msgs_per_sec": round(self.offered_per_sec, 1),
            "sent": self.hold.sent,
            "received": self.hold.received,
            "connections": self.connections,
            "fds": self.hold.fds,
            "baseline_rss_mib": self.baseline_rss_kib.map(|k| round(k as f64 / 1024.0, 1)),
            "rss_mib": self.rss_mib().map(|m| round(m, 1)),
            "kib_per_connection": self.kib_per_connection().map(|k| round(k, 1)),
            "latency_ms": {
                "p50": self.latency_ms(0.50).map(|m| round(m, 2)),
                "p95": self.latency_ms(0.95).map(|m| round(m, 2)),
                "p99": self.latency_ms(0.99).map(|m| round(m, 2)),
                "max": self.latency_ms(1.0).map(|m| round(m, 2)),
            },
            "error_samples": self.hold.error_samples,
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| server | sessions | held | errors | setup s | msg/s | RSS MiB | KiB/conn | p50 ms | p95 ms | p99 ms |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} | {} | {} | {} | {} |\n",
            r.server,
            r.sessions,
            r.held,
            r.errors(),
            r.setup_secs,
            r.offered_per_sec,
            cell(r.rss_mib(), 1),
            cell(r.kib_per_connection(), 1),
            cell(r.latency_ms(0.50), 2),
            cell(r.latency_ms(0.95), 2),
            cell(r.latency_ms(0.99), 2),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            server: "broker",
            sessions: 10,
            held: 9,
            setup_failed: 1,
            setup_secs: 1.234,
            offered_per_sec: 5.0,
            hold: Held {
                sent: 20,
                received: 20,
                intact: 9,
                broken: 0,
                latencies_us: (1..=100).map(|i| i * 100).collect(),
                error_samples: vec!["x".into()],
                rss_kib: Some(30 * 1024),
                fds: Some(30),
            },
            baseline_rss_kib: Some(12 * 1024),
            connections: 18,
        }
    }

    #[test]
    fn figures_are_derived_from_the_samples() {
        let r = row();
        assert_eq!(r.errors(), 1);
        assert_eq!(r.kib_per_connection(), Some(1024.0));
        let j = r.json();
        assert_eq!(j["latency_ms"]["p50"], 5.0);
        assert_eq!(j["latency_ms"]["p99"], 9.9);
        assert_eq!(j["rss_mib"], 30.0);
        assert_eq!(j["setup_secs"], 1.23);
        let table = markdown(&[r]);
        assert!(
            table
                .contains("| broker | 10 | 9 | 1 | 1.2 | 5 | 30.0 | 1024.0 | 5.00 | 9.50 | 9.90 |"),
            "{table}"
        );
    }

    #[test]
    fn missing_figures_show_as_dashes() {
        let mut r = row();
        r.hold.latencies_us.clear();
        r.hold.rss_kib = None;
        assert_eq!(r.kib_per_connection(), None);
        assert!(markdown(&[r]).contains("| – | – | – | – | – |"));
    }
}
