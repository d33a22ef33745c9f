//! The broker's clock as seen from this browser. Deadlines and expiry times come from
//! the broker; the offset measured with `ping`/`pong` (and, roughly, from
//! `/api/config`) turns them into countdowns that stay right even when this computer's
//! clock is wrong.

use std::cell::Cell;

use connectit_protocol::Millis;

thread_local! {
    /// Broker clock minus local clock, in milliseconds, and the round trip it was
    /// measured with (`f64::INFINITY` for a rough estimate without one).
    static OFFSET: Cell<(f64, f64)> = const { Cell::new((0.0, f64::INFINITY)) };
}

/// The local clock (`Date.now()`), in milliseconds.
pub fn local_now() -> f64 {
    js_sys::Date::now()
}

/// The broker's clock, estimated.
pub fn server_now() -> f64 {
    local_now() + OFFSET.with(|o| o.get().0)
}

/// Current offset (broker − local) in milliseconds.
pub fn offset() -> f64 {
    OFFSET.with(|o| o.get().0)
}

/// A rough sample: the broker said `now` in an HTTP answer that just arrived. Used only
/// until a `pong` gives a measured one.
pub fn rough_sample(now: Millis) {
    OFFSET.with(|o| {
        if o.get().1.is_infinite() {
            o.set((now as f64 - local_now(), f64::INFINITY));
        }
    });
}

/// A measured sample: a `pong`, or any answer carrying the broker's `now`. The request
/// left at local `sent`, the broker answered `now`, and it arrived at local `received`. The broker read its clock about half-way through the round
/// trip. A sample with a much longer round trip than the one in use is less precise;
/// it still wins after a while, so a clock that jumps is followed.
pub fn pong_sample(sent: f64, now: Millis, received: f64) {
    let rtt = (received - sent).max(0.0);
    let offset = now as f64 - (sent + rtt / 2.0);
    OFFSET.with(|o| {
        let (_, best_rtt) = o.get();
        if rtt <= best_rtt * 2.0 + 50.0 || best_rtt.is_infinite() {
            o.set((offset, rtt));
        } else {
            // Let the bar rise slowly, so later samples can replace this one.
            o.set((o.get().0, best_rtt * 1.5));
        }
    });
}

/// Whole seconds from the broker's now until `deadline` (0 once past).
pub fn secs_until(deadline: Millis) -> u64 {
    let left = deadline as f64 - server_now();
    if left <= 0.0 {
        0
    } else {
        (left / 1000.0).ceil() as u64
    }
}
