//! A countdown to a broker deadline: seconds left are computed at each refresh from the
//! deadline and the measured clock offset (never by counting ticks, so a throttled
//! background tab is right when it wakes), and a separate live region tells screen
//! readers the time left only at the [`MARKS`].

use connectit_protocol::Millis;
use yew::prelude::*;

use crate::clock;
use crate::i18n::{use_i18n, Msg};
use crate::widgets::use_now;

/// Seconds left at which screen readers are told.
pub const MARKS: [u64; 3] = [30, 10, 5];
/// How often the countdown refreshes, in milliseconds.
pub const REFRESH_MS: u32 = 250;

/// Slack for the clock offset's error (a few milliseconds on a good link): without it a
/// deadline 3 s away, seen a millisecond early, would show "4".
pub const SLACK_MS: f64 = 100.0;

/// Whole seconds from `server_now` until `deadline`, rounded up (0 once past, and in the
/// last [`SLACK_MS`]).
pub fn seconds_left(deadline: Millis, server_now: f64) -> u64 {
    let left = deadline as f64 - server_now - SLACK_MS;
    if left <= 0.0 {
        0
    } else {
        (left / 1000.0).ceil() as u64
    }
}

/// The last mark reached with `secs` left (what the live region says), if any.
pub fn mark(secs: u64) -> Option<u64> {
    MARKS.iter().rev().copied().find(|m| secs <= *m)
}

#[derive(Properties, PartialEq)]
pub struct CountdownProps {
    /// The element's id (`prompt-remaining`, `pending-remaining`).
    pub id: AttrValue,
    pub deadline: Millis,
    /// Whether to announce the marks (the customer, who must answer).
    #[prop_or_default]
    pub announce: bool,
}

/// `<span id=… role="timer" data-seconds=N>N</span>`, and the marks for screen readers.
#[component]
pub fn Countdown(props: &CountdownProps) -> Html {
    let i18n = use_i18n();
    let now = use_now(REFRESH_MS);
    let secs = seconds_left(props.deadline, now + clock::offset());
    let said = mark(secs)
        .map(|secs| {
            i18n.t(match secs {
                1 => Msg::SecondsLeftOne,
                secs => Msg::SecondsLeft { secs },
            })
        })
        .unwrap_or_default();
    html! {
        <>
            <span id={props.id.clone()} class={classes!("countdown", (secs <= 10).then_some("urgent"))}
                role="timer" aria-live="off" data-seconds={secs.to_string()}>
                { secs }
            </span>
            if props.announce {
                <span class="visually-hidden" aria-live="assertive" aria-atomic="true">{ said }</span>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_rounded_up_and_stop_at_zero() {
        assert_eq!(seconds_left(60_000, 0.0), 60);
        assert_eq!(seconds_left(60_000, 100.0), 60);
        assert_eq!(seconds_left(60_000, -50.0), 60, "a clock a little behind");
        assert_eq!(seconds_left(60_000, 58_950.0), 1);
        assert_eq!(seconds_left(60_000, 59_950.0), 0, "the slack");
        assert_eq!(seconds_left(60_000, 60_000.0), 0);
        assert_eq!(seconds_left(60_000, 90_000.0), 0);
    }

    #[test]
    fn marks_are_announced_once_reached() {
        assert_eq!(mark(45), None);
        assert_eq!(mark(30), Some(30));
        assert_eq!(mark(12), Some(30));
        assert_eq!(mark(10), Some(10));
        assert_eq!(mark(6), Some(10));
        assert_eq!(mark(3), Some(5));
        assert_eq!(mark(0), Some(5));
    }
}
