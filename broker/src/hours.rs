//! A team's opening hours, as an organisation writes them: `mon-fri 08:00-17:30;
//! sat 09:00-12:00` in the team's time zone (an IANA name such as `Europe/Paris`;
//! daylight saving is the zone's). Days are `mon` … `sun`, ranges (`mon-fri`, also
//! across the week's end: `fri-mon`), lists (`mon,wed`) or `daily`; times are `HH:MM`,
//! with `24:00` for the end of the day, and a span that ends before it starts runs past
//! midnight (`fri 22:00-02:00` is open until Saturday 02:00). Nothing written: always
//! open.

use jiff::tz::TimeZone;

use connectit_protocol::Millis;

/// Minutes in a day.
const DAY: u16 = 24 * 60;

/// One span: the days it opens on, and from when to when (minutes since midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    /// Monday first.
    days: [bool; 7],
    open: u16,
    close: u16,
}

/// When a queue takes customers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hours {
    /// None: always open.
    spans: Vec<Span>,
}

/// Why hours could not be read, naming the part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoursError {
    /// A span is not `DAYS HH:MM-HH:MM`.
    Span(String),
    /// Not a day (`mon` … `sun`, a range, a list, or `daily`).
    Days(String),
    /// Not a time of day (`HH:MM`, up to `24:00`).
    Time(String),
    /// A span that opens and closes at the same minute.
    Empty(String),
    /// Not a time zone this broker knows.
    TimeZone(String),
}

impl std::fmt::Display for HoursError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HoursError::Span(s) => write!(f, "{s:?} is not DAYS HH:MM-HH:MM"),
            HoursError::Days(s) => write!(f, "{s:?} is not mon … sun, a range, a list or daily"),
            HoursError::Time(s) => write!(f, "{s:?} is not a time HH:MM (00:00 to 24:00)"),
            HoursError::Empty(s) => write!(f, "{s:?} opens and closes at the same time"),
            HoursError::TimeZone(s) => write!(f, "{s:?} is not a time zone (e.g. Europe/Paris)"),
        }
    }
}

impl std::error::Error for HoursError {}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(name: &str) -> Option<usize> {
    DAYS.iter().position(|d| name.eq_ignore_ascii_case(d))
}

fn days(text: &str) -> Result<[bool; 7], HoursError> {
    let bad = || HoursError::Days(text.to_string());
    let mut out = [false; 7];
    if text.eq_ignore_ascii_case("daily") {
        return Ok([true; 7]);
    }
    for part in text.split(',').map(str::trim) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (
                    day(from.trim()).ok_or_else(bad)?,
                    day(to.trim()).ok_or_else(bad)?,
                );
                let mut d = from;
                loop {
                    out[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out[day(part).ok_or_else(bad)?] = true,
        }
    }
    Ok(out)
}

fn minutes(text: &str) -> Result<u16, HoursError> {
    let bad = || HoursError::Time(text.to_string());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Hours {
    /// Always open.
    pub fn always() -> Hours {
        Hours::default()
    }

    /// Reads hours as written (see the module's text); empty: always open.
    pub fn parse(text: &str) -> Result<Hours, HoursError> {
        let mut spans = Vec::new();
        for span in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (days_text, times) = span
                .rsplit_once(char::is_whitespace)
                .ok_or_else(|| HoursError::Span(span.to_string()))?;
            let (open, close) = times
                .split_once('-')
                .ok_or_else(|| HoursError::Span(span.to_string()))?;
            let (open, close) = (minutes(open.trim())?, minutes(close.trim())?);
            if open == close || (open == DAY) {
                return Err(HoursError::Empty(span.to_string()));
            }
            spans.push(Span {
                days: days(days_text.trim())?,
                open,
                close,
            });
        }
        Ok(Hours { spans })
    }

    /// Whether open on `weekday` (0: Monday) at `minute` past midnight.
    pub fn is_open(&self, weekday: usize, minute: u16) -> bool {
        if self.spans.is_empty() {
            return true;
        }
        let yesterday = (weekday + 6) % 7;
        self.spans.iter().any(|s| {
            if s.open < s.close {
                s.days[weekday] && s.open <= minute && minute < s.close
            } else {
                // Past midnight: from `open` on its days, until `close` the day after.
                (s.days[weekday] && minute >= s.open) || (s.days[yesterday] && minute < s.close)
            }
        })
    }

    /// Whether open at broker time `at`, in `zone`.
    pub fn is_open_at(&self, zone: &TimeZone, at: Millis) -> bool {
        if self.spans.is_empty() {
            return true;
        }
        let Ok(ts) = jiff::Timestamp::from_millisecond(at as i64) else {
            return true;
        };
        let local = ts.to_zoned_datetime(zone.clone());
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.is_open(weekday, minute)
    }
}

/// Whether `team`'s queue takes customers at broker time `now`: not closed by hand, and
/// within its hours in its time zone (else `default_zone`, the broker's). Hours that no
/// longer read (stored by hand) count as always open, with a warning.
pub fn team_is_open(team: &crate::db::TeamRow, default_zone: &str, now: Millis) -> bool {
    if team.closed {
        return false;
    }
    let zone_name = match team.time_zone.as_str() {
        "" => default_zone,
        own => own,
    };
    match (Hours::parse(&team.hours), time_zone(zone_name)) {
        (Ok(hours), Ok(zone)) => hours.is_open_at(&zone, now),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(team = %team.slug, error = %e, "the team's hours do not read: open");
            true
        }
    }
}

/// The time zone named `name` (IANA), or UTC for an empty name.
pub fn time_zone(name: &str) -> Result<TimeZone, HoursError> {
    match name.trim() {
        "" | "UTC" | "utc" => Ok(TimeZone::UTC),
        name => TimeZone::get(name).map_err(|_| HoursError::TimeZone(name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MON: usize = 0;
    const FRI: usize = 4;
    const SAT: usize = 5;
    const SUN: usize = 6;

    fn at(h: u16, m: u16) -> u16 {
        h * 60 + m
    }

    #[test]
    fn week_days_and_hours() {
        let h = Hours::parse("mon-fri 08:00-17:30; sat 09:00-12:00").unwrap();
        assert!(h.is_open(MON, at(8, 0)));
        assert!(!h.is_open(MON, at(7, 59)));
        assert!(h.is_open(FRI, at(17, 29)));
        assert!(!h.is_open(FRI, at(17, 30)), "closing time is closed");
        assert!(h.is_open(SAT, at(11, 0)));
        assert!(!h.is_open(SUN, at(11, 0)));
    }

    #[test]
    fn past_midnight_lists_ranges_across_the_week_end_and_daily() {
        let h = Hours::parse("fri 22:00-02:00").unwrap();
        assert!(h.is_open(FRI, at(23, 0)));
        assert!(h.is_open(SAT, at(1, 59)));
        assert!(!h.is_open(SAT, at(2, 0)));
        assert!(!h.is_open(FRI, at(1, 0)), "Thursday night was not open");
        let h = Hours::parse("MON,Wed 10:00-24:00").unwrap();
        assert!(h.is_open(2, at(23, 59)));
        assert!(!h.is_open(1, at(12, 0)));
        let h = Hours::parse("sat-mon 00:00-24:00").unwrap();
        assert!(h.is_open(SUN, 0) && h.is_open(MON, at(12, 0)) && !h.is_open(1, at(12, 0)));
        assert!(Hours::parse("daily 09:00-10:00")
            .unwrap()
            .is_open(3, at(9, 30)));
        assert!(
            Hours::parse("").unwrap().is_open(SUN, 0),
            "nothing written: always"
        );
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        assert!(matches!(
            Hours::parse("weekdays 08:00-17:00"),
            Err(HoursError::Days(_))
        ));
        assert!(matches!(
            Hours::parse("mon 8:00-17:00"),
            Err(HoursError::Time(_))
        ));
        assert!(matches!(
            Hours::parse("mon 08:00-24:30"),
            Err(HoursError::Time(_))
        ));
        assert!(matches!(
            Hours::parse("mon 08:00"),
            Err(HoursError::Span(_))
        ));
        assert!(matches!(
            Hours::parse("mon 08:00-08:00"),
            Err(HoursError::Empty(_))
        ));
        assert!(matches!(
            Hours::parse("08:00-17:00"),
            Err(HoursError::Span(_))
        ));
        assert!(matches!(
            time_zone("Mars/Olympus"),
            Err(HoursError::TimeZone(_))
        ));
    }

    #[test]
    fn the_zone_says_the_local_time_with_its_daylight_saving() {
        let paris = time_zone("Europe/Paris").unwrap();
        let h = Hours::parse("mon-fri 08:00-17:00").unwrap();
        // Monday 2026-01-05 07:30 UTC is 08:30 in Paris (winter, UTC+1): open.
        let winter = jiff::Timestamp::from_second(1_767_598_200).unwrap();
        assert!(h.is_open_at(&paris, winter.as_millisecond() as Millis));
        assert!(!h.is_open_at(&TimeZone::UTC, winter.as_millisecond() as Millis));
        // Monday 2026-07-06 06:30 UTC is 08:30 in Paris (summer, UTC+2): open.
        let summer = jiff::Timestamp::from_second(1_783_319_400).unwrap();
        assert!(h.is_open_at(&paris, summer.as_millisecond() as Millis));
    }
}
