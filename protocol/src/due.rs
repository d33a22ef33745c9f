//! What time makes happen by itself: a PIN nobody used expires, a customer who waits
//! too long is let go, an unanswered prompt runs out. [`SessionState::next_due`] says
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
}

impl SessionState {
    /// The broker time at which something next falls due, if anything can: the PIN's
    /// expiry before anyone joined, the end of the wait while joining or waiting, the
    /// pending prompt's deadline while active.
    pub fn next_due(&self, limits: &Timeouts) -> Option<Millis> {
        match self.phase {
            Phase::Created => Some(limits.pin_expires_at),
            Phase::Connecting | Phase::Waiting => {
                Some(self.phase_since.saturating_add(limits.waiting_ms))
            }
            Phase::Active => self.pending.as_ref().map(|p| p.deadline),
            Phase::Ended => None,
        }
    }

    /// The entry the broker appends by itself at broker time `now`, if something is
    /// due by then. The rules accept it at any time from `now` on, until another entry
    /// changes the state.
    pub fn due(&self, now: Millis, limits: &Timeouts) -> Option<(Author, EntryKind)> {
        if now < self.next_due(limits)? {
            return None;
        }
        let kind = match self.phase {
            Phase::Created => EntryKind::SessionEnded {
                reason: EndReason::PinExpired,
            },
            Phase::Connecting | Phase::Waiting => EntryKind::SessionEnded {
                reason: EndReason::WaitingTimeout,
            },
            Phase::Active => EntryKind::PermissionExpired {
                request: self.pending.as_ref()?.request,
            },
            Phase::Ended => return None,
        };
        Some((Author::System, kind))
    }
}
