//! How far one transfer got: the bytes moved, less what still waits in the sender's
//! channel, with the [`Meter`] that turns samples into speed and time left. Shared by
//! the task that moves the bytes and the row that shows them.

use std::cell::{Cell, RefCell};

use web_sys::{RtcDataChannel, RtcDataChannelState};

use crate::files::meter::Meter;

/// How far a transfer got, shared with the task that moves its bytes and read by the
/// row that shows it.
#[derive(Default)]
pub struct Progress {
    /// Bytes handed to the channel (sender) or received (receiver).
    pub(super) moved: Cell<u64>,
    /// The sender's channel: what still waits in it is not sent yet.
    pub(super) channel: RefCell<Option<RtcDataChannel>>,
    meter: RefCell<Meter>,
}

impl Progress {
    /// Bytes done: received, or handed to the channel and gone from its buffer.
    pub fn done(&self) -> u64 {
        let moved = self.moved.get();
        match self.channel.borrow().as_ref() {
            Some(c) if c.ready_state() == RtcDataChannelState::Open => {
                moved.saturating_sub(u64::from(c.buffered_amount()))
            }
            _ => moved,
        }
    }

    /// Notes the progress at `now_ms`: (bytes done, bytes per second, seconds left).
    pub fn sample(&self, now_ms: f64, size: u64) -> (u64, Option<f64>, Option<f64>) {
        let done = self.done().min(size);
        let mut meter = self.meter.borrow_mut();
        meter.record(now_ms, done);
        (done, meter.speed(), meter.seconds_left(size))
    }

    /// A progress at `moved` bytes (for tests and previews).
    pub fn at(moved: u64) -> Progress {
        let progress = Progress::default();
        progress.moved.set(moved);
        progress
    }
}
