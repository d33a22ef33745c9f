//! The broker's log on standard error: which lines, from `RUST_LOG` (`info` when unset;
//! the usual `target=level,level` syntax), and how, from `log_format`: text for people,
//! or one JSON object per line for a log collector:
//!
//! `{"timestamp":"2026-12-01T09:00:00.123Z","level":"INFO","target":"connectit_broker::server","message":"open sessions loaded","fields":{"sessions":3}}`

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::LogFormat;

/// The filter `RUST_LOG` describes (`info` for everything when it is unset or empty).
pub fn filter(rust_log: Option<&str>) -> Result<Targets, String> {
    match rust_log.map(str::trim) {
        Some(spec) if !spec.is_empty() => spec
            .parse()
            .map_err(|e| format!("RUST_LOG {spec:?} is not a filter: {e}")),
        _ => Ok(Targets::new().with_default(Level::INFO)),
    }
}

/// Installs the process's logger.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref())?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let registry = tracing_subscriber::registry();
    match format {
        LogFormat::Text => registry.with(layer.with_filter(filter)).try_init(),
        LogFormat::Json => registry
            .with(layer.event_format(JsonLines).with_filter(filter))
            .try_init(),
    }
    .map_err(|e| e.to_string())
}

/// One JSON object per event.
pub struct JsonLines;

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
}

/// The JSON line for an event with these metadata and fields, at `timestamp`.
pub fn line(timestamp: &str, level: &Level, target: &str, mut fields: Map<String, Value>) -> Value {
    let message = fields
        .remove("message")
        .unwrap_or(Value::String(String::new()));
    let mut line = Map::new();
    line.insert("timestamp".into(), Value::from(timestamp));
    line.insert("level".into(), Value::from(level.as_str()));
    line.insert("target".into(), Value::from(target));
    line.insert("message".into(), message);
    line.insert("fields".into(), Value::Object(fields));
    Value::Object(line)
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        let now = jiff::Timestamp::now().round(jiff::Unit::Millisecond);
        let now = now.map(|t| t.to_string()).unwrap_or_default();
        writeln!(
            writer,
            "{}",
            line(&now, meta.level(), meta.target(), fields)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_sets_levels_per_target() {
        let f = filter(Some("warn,connectit_broker=debug")).unwrap();
        assert!(f.would_enable("connectit_broker::ws", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::INFO));
        let f = filter(None).unwrap();
        assert!(f.would_enable("anything", &Level::INFO));
        assert!(!f.would_enable("anything", &Level::DEBUG));
        assert!(filter(Some("=nonsense=")).is_err());
    }

    #[test]
    fn a_line_is_one_object_with_its_message_and_fields() {
        let mut fields = Map::new();
        fields.insert("message".into(), Value::from("open sessions loaded"));
        fields.insert("sessions".into(), Value::from(3));
        let l = line(
            "2026-12-01T09:00:00Z",
            &Level::INFO,
            "connectit_broker",
            fields,
        );
        assert_eq!(l["message"], "open sessions loaded");
        assert_eq!(l["level"], "INFO");
        assert_eq!(l["fields"]["sessions"], 3);
        assert!(!l.to_string().contains('\n'));
    }
}
