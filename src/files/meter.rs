//! Speed and time left of a transfer, from samples of (time, bytes done) over the last
//! few seconds: steady enough to read, quick to follow a change. Pure: times come in.

use std::collections::VecDeque;

/// How far back the speed looks, in milliseconds.
pub const WINDOW_MS: f64 = 3_000.0;

/// Samples of one transfer's progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meter {
    samples: VecDeque<(f64, u64)>,
}

impl Meter {
    pub fn new() -> Meter {
        Meter::default()
    }

    /// Notes that `done` bytes were done at `now_ms`.
    pub fn record(&mut self, now_ms: f64, done: u64) {
        if let Some(&(t, d)) = self.samples.back() {
            if now_ms < t || done < d {
                // A clock step or a restart: begin again.
                self.samples.clear();
            }
        }
        self.samples.push_back((now_ms, done));
        while self.samples.len() > 2 {
            let (t, _) = self.samples[1];
            if now_ms - t >= WINDOW_MS {
                self.samples.pop_front();
            } else {
                break;
            }
        }
    }

    /// Bytes per second over the window, once there is something to measure.
    pub fn speed(&self) -> Option<f64> {
        let (t0, d0) = *self.samples.front()?;
        let (t1, d1) = *self.samples.back()?;
        let span = t1 - t0;
        if span < 200.0 {
            return None;
        }
        Some((d1 - d0) as f64 * 1000.0 / span)
    }

    /// Seconds until `total` at the current speed.
    pub fn seconds_left(&self, total: u64) -> Option<f64> {
        let (_, done) = *self.samples.back()?;
        let left = total.saturating_sub(done);
        if left == 0 {
            return Some(0.0);
        }
        match self.speed() {
            Some(speed) if speed > 0.0 => Some(left as f64 / speed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    #[test]
    fn speed_and_time_left_follow_the_samples() {
        let mut meter = Meter::new();
        assert_eq!(meter.speed(), None);
        meter.record(0.0, 0);
        assert_eq!(meter.speed(), None, "one sample says nothing");
        meter.record(1_000.0, 2_000_000);
        assert_eq!(meter.speed(), Some(2_000_000.0));
        assert_eq!(meter.seconds_left(10_000_000), Some(4.0));
        // Old samples leave the window: the speed follows the new rate.
        for i in 2..=10 {
            meter.record(i as f64 * 1_000.0, 2_000_000 + (i - 1) * 500_000);
        }
        assert_eq!(meter.speed(), Some(500_000.0));
        assert_eq!(meter.seconds_left(6_500_000), Some(0.0));
    }

    #[test]
    fn a_stall_has_no_time_left() {
        let mut meter = Meter::new();
        meter.record(0.0, 100);
        meter.record(5_000.0, 100);
        assert_eq!(meter.speed(), Some(0.0));
        assert_eq!(meter.seconds_left(1_000), None);
    }

    #[test]
    fn words_for_sizes_speeds_and_times() {
        let en = I18n::default();
        assert_eq!(en.size(0), "0 bytes");
        assert_eq!(en.size(1), "1 byte");
        assert_eq!(en.size(999), "999 bytes");
        assert_eq!(en.size(2_100_000), "2.1 MB");
        assert_eq!(en.size(20_000_000), "20 MB");
        assert_eq!(en.size(209_715_200), "210 MB");
        assert_eq!(en.size(999_999), "1.0 MB");
        assert_eq!(en.size(1_500_000_000), "1.5 GB");
        assert_eq!(en.speed(3_400_000.0), "3.4 MB/s");
        assert_eq!(en.speed(0.0), "–");
        assert_eq!(en.time_left(0.2), "1 s left");
        assert_eq!(en.time_left(0.0), "almost done");
        assert_eq!(en.time_left(59.0), "59 s left");
        assert_eq!(en.time_left(125.0), "2 min 5 s left");
        assert_eq!(en.time_left(120.0), "2 min left");
        assert_eq!(en.time_left(3_725.0), "1 h 2 min left");
        assert_eq!(en.time_left(f64::INFINITY), "–");
    }

    #[test]
    fn french_sizes_have_a_decimal_comma_and_french_units() {
        let fr = I18n::new("fr", Default::default());
        assert_eq!(fr.size(1), "1 octet");
        assert_eq!(fr.size(999), "999 octets");
        assert_eq!(fr.size(2_100_000), "2,1 Mo");
        assert_eq!(fr.size(209_715_200), "210 Mo");
        assert_eq!(fr.size(1_500_000_000), "1,5 Go");
        assert_eq!(fr.speed(3_400_000.0), "3,4 Mo/s");
        assert_eq!(fr.time_left(125.0), "encore 2 min 5 s");
        assert_eq!(fr.progress_text(2_100_000, 20_000_000), "2,1 Mo sur 20 Mo");
        assert_eq!(
            fr.device_memory(0.5),
            "0,5 Go ou plus (arrondi par le navigateur)"
        );
        assert_eq!(
            fr.device_memory(8.0),
            "8 Go ou plus (arrondi par le navigateur)"
        );
    }
}
