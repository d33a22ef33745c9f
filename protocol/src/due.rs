//! What time makes happen by itself: a PIN nobody used expires, a customer who waits
//! too long is let go, an unanswered prompt runs out, a session whose customer has been
//! gone too long ends. [`SessionState::next_due`] says
//! when the next such thing falls due, [`SessionState::due`] what the broker then
//! appends; both read only the state and the clock the caller passes in.

use crate::log::{Author, EndReason, EntryKind};
use crate::state::{Phase, SessionState};
use crate::Millis;

/// The broker's time limits for one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// When the session's PIN and join link stop working if nobody has used them
    /// (broker time).
    pub pin_expires_at: Millis,
    /// How long a customer may stay at the terms or waiting for a technician, in ms,
    /// counted from the start of each of those phases.
    pub waiting_ms: u64,
    /// How long a session goes on after its customer's connection dropped, in ms: if
    /// they are not back by then, it ends (`customer_gone`).
    pub abandon_ms: u64,
}

impl SessionState {
    /// What falls due next, and when: the PIN's expiry before anyone joined; the end of
    /// the wait while joining or waiting; the pending prompt's deadline while active;
    /// and, from joining to the end, the customer's absence running out.
    fn upcoming(&self, limits: &Timeouts) -> Option<(Millis, EntryKind)> {
        let ended = |reason| EntryKind::SessionEnded { reason };
        let phase_due = match self.phase {
            Phase::Created => Some((limits.pin_expires_at, ended(EndReason::PinExpired))),
            Phase::Connecting | Phase::Waiting => Some((
                self.phase_since.saturating_add(limits.waiting_ms),
                ended(EndReason::WaitingTimeout),
            )),
            Phase::Active => {
                let prompt = self.pending.as_ref().map(|p| {
                    (
                        p.deadline,
                        EntryKind::PermissionExpired { request: p.request },
                    )
                });
                // The grants that run out first, together.
                let grants = self
                    .granted_until
                    .iter()
                    .map(|(_, at)| *at)
                    .min()
                    .map(|at| {
                        let permissions = self
                            .granted_until
                            .iter()
                            .filter(|(_, until)| *until == at)
                            .map(|(p, _)| *p)
                            .collect();
                        (at, EntryKind::GrantExpired { permissions })
                    });
                match (prompt, grants) {
                    (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
                    (a, b) => a.or(b),
                }
            }
            Phase::Ended => return None,
        };
        let gone = (self.phase != Phase::Created && self.customer_away).then(|| {
            (
                self.customer_away_since.saturating_add(limits.abandon_ms),
                ended(EndReason::CustomerGone),
            )
        });
        match (phase_due, gone) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// The broker time at which something next falls due, if anything can.
    pub fn next_due(&self, limits: &Timeouts) -> Option<Millis> {
        self.upcoming(limits).map(|(at, _)| at)
    }

    /// The entry the broker appends by itself at broker time `now`, if something is
    /// due by then. The rules accept it at any time from `now` on, until another entry
    /// changes the state.
    pub fn due(&self, now: Millis, limits: &Timeouts) -> Option<(Author, EntryKind)> {
        let (at, kind) = self.upcoming(limits)?;
        (now >= at).then_some((Author::System, kind))
    }
}
