//! The session's rules, as a pure fold of its log. The broker calls [`SessionState::check`]
//! before it stores an entry and [`SessionState::apply`] after; the browser applies the
//! entries it receives to decide what to show. One set of rules, two places.

use serde::{Deserialize, Serialize};

use crate::error::RuleViolation;
use crate::log::{Author, EndReason, EntryKind, LogEntry, Role, Seq};
use crate::{check_text, limits};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// PIN issued, nobody has used it yet.
    #[default]
    Created,
    /// PIN verified; the customer is reading the terms.
    Connecting,
    /// Terms accepted; the customer waits for a technician.
    Waiting,
    /// A technician picked up: chat (and, later, permissions) happen here.
    Active,
    /// Over, for good.
    Ended,
}

/// Longest technician display name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// A session's state: what the log so far implies.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionState {
    pub phase: Phase,
    /// Sequence number of the last entry applied (0 before any).
    pub last_seq: Seq,
    /// Whether a customer ever joined (the survey is theirs only).
    pub customer_joined: bool,
    /// The technician's display name, once picked up.
    pub technician: Option<String>,
    /// Why it ended, once ended.
    pub end_reason: Option<EndReason>,
    /// Whether the customer's connection is currently dropped.
    pub customer_away: bool,
    /// Whether the technician's connection is currently dropped.
    pub technician_away: bool,
    /// Whether the survey was answered (it can be, once).
    pub survey_submitted: bool,
    /// Number of chat messages so far.
    pub chat_count: u64,
}

impl SessionState {
    /// The state after folding `entries`, or the first violation (with its entry's seq).
    pub fn fold<'a>(
        entries: impl IntoIterator<Item = &'a LogEntry>,
    ) -> Result<Self, (Seq, RuleViolation)> {
        let mut state = Self::default();
        for entry in entries {
            state.apply(entry).map_err(|v| (entry.seq, v))?;
        }
        Ok(state)
    }

    /// Whether an entry with this sequence number is the next one (not a duplicate).
    pub fn is_next(&self, seq: Seq) -> bool {
        seq == self.last_seq + 1
    }

    /// Checks that `author` may append `kind` now. Changes nothing.
    pub fn check(&self, author: Author, kind: &EntryKind) -> Result<(), RuleViolation> {
        use Phase::*;
        let phase = self.phase;
        let need_author = |want: Author| {
            if author == want {
                Ok(())
            } else {
                Err(RuleViolation::WrongAuthor)
            }
        };
        let need_phase = |allowed: &[Phase]| {
            if allowed.contains(&phase) {
                Ok(())
            } else {
                Err(RuleViolation::WrongPhase { phase })
            }
        };
        match kind {
            EntryKind::CustomerJoined => {
                need_author(Author::System)?;
                need_phase(&[Created])
            }
            EntryKind::TermsAccepted | EntryKind::TermsDeclined => {
                need_author(Author::Customer)?;
                need_phase(&[Connecting])
            }
            EntryKind::TechnicianPickedUp { name } => {
                need_author(Author::Technician)?;
                need_phase(&[Waiting])?;
                check_text(name, NAME_MAX_CHARS)
            }
            EntryKind::Chat { text } => {
                if author == Author::System {
                    return Err(RuleViolation::WrongAuthor);
                }
                need_phase(&[Active])?;
                check_text(text, limits::CHAT_MAX_CHARS)
            }
            EntryKind::Disconnected { role } | EntryKind::Reconnected { role } => {
                need_author(Author::System)?;
                need_phase(&[Connecting, Waiting, Active])?;
                let (present, away) = match role {
                    Role::Customer => (self.customer_joined, self.customer_away),
                    Role::Technician => (self.technician.is_some(), self.technician_away),
                };
                let going_away = matches!(kind, EntryKind::Disconnected { .. });
                if !present || away == going_away {
                    return Err(RuleViolation::PresenceMismatch);
                }
                Ok(())
            }
            EntryKind::SessionEnded { reason } => match reason {
                EndReason::CustomerEnded => {
                    need_author(Author::Customer)?;
                    need_phase(&[Connecting, Waiting, Active])
                }
                EndReason::TechnicianEnded => {
                    need_author(Author::Technician)?;
                    need_phase(&[Created, Connecting, Waiting, Active])
                }
                EndReason::PinExpired => {
                    need_author(Author::System)?;
                    need_phase(&[Created])
                }
                EndReason::WaitingTimeout => {
                    need_author(Author::System)?;
                    need_phase(&[Connecting, Waiting])
                }
                // Declining is its own entry, which ends the session by itself.
                EndReason::TermsDeclined => Err(RuleViolation::WrongAuthor),
            },
            EntryKind::SurveySubmitted {
                rating, comment, ..
            } => {
                need_author(Author::Customer)?;
                need_phase(&[Ended])?;
                if !self.customer_joined {
                    return Err(RuleViolation::WrongAuthor);
                }
                if self.survey_submitted {
                    return Err(RuleViolation::SurveyAlreadySubmitted);
                }
                if !(1..=5).contains(rating) {
                    return Err(RuleViolation::InvalidRating);
                }
                if comment.is_empty() {
                    Ok(())
                } else {
                    check_text(comment, limits::COMMENT_MAX_CHARS)
                }
            }
        }
    }

    /// Applies the next entry of the log: its sequence number must follow the last one,
    /// and the rules must allow it.
    pub fn apply(&mut self, entry: &LogEntry) -> Result<(), RuleViolation> {
        if !self.is_next(entry.seq) {
            return Err(RuleViolation::SequenceGap {
                expected: self.last_seq + 1,
                got: entry.seq,
            });
        }
        self.check(entry.author, &entry.kind)?;
        self.last_seq = entry.seq;
        match &entry.kind {
            EntryKind::CustomerJoined => {
                self.phase = Phase::Connecting;
                self.customer_joined = true;
            }
            EntryKind::TermsAccepted => self.phase = Phase::Waiting,
            EntryKind::TermsDeclined => {
                self.phase = Phase::Ended;
                self.end_reason = Some(EndReason::TermsDeclined);
            }
            EntryKind::TechnicianPickedUp { name } => {
                self.phase = Phase::Active;
                self.technician = Some(name.clone());
            }
            EntryKind::Chat { .. } => self.chat_count += 1,
            EntryKind::Disconnected { role } | EntryKind::Reconnected { role } => {
                let away = matches!(entry.kind, EntryKind::Disconnected { .. });
                match role {
                    Role::Customer => self.customer_away = away,
                    Role::Technician => self.technician_away = away,
                }
            }
            EntryKind::SessionEnded { reason } => {
                self.phase = Phase::Ended;
                self.end_reason = Some(*reason);
            }
            EntryKind::SurveySubmitted { .. } => self.survey_submitted = true,
        }
        Ok(())
    }
}
