//! Formatting times: `HH:MM` in the browser's local time zone for log entries, and
//! `m:ss` for countdowns.

use connectit_protocol::Millis;
use wasm_bindgen::JsValue;

/// `HH:MM` of a broker timestamp, in the browser's local time.
pub fn hh_mm(at: Millis) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// `YYYY-MM-DD HH:MM` of a broker timestamp, in the browser's local time.
pub fn date_time(at: Millis) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// The ISO 8601 form for `<time datetime=…>`.
pub fn iso(at: Millis) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(at as f64));
    date.to_iso_string().into()
}

/// A number of seconds as `m:ss` (or `h:mm:ss` past an hour).
pub fn clock_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(clock_duration(0), "0:00");
        assert_eq!(clock_duration(65), "1:05");
        assert_eq!(clock_duration(1200), "20:00");
        assert_eq!(clock_duration(3725), "1:02:05");
    }
}
