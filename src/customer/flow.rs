//! The customer's flow as one state machine: PIN → joining → the live session → survey
//! → thank-you. Pure: the page runs the side effects and dispatches the outcomes.

use std::rc::Rc;

use connectit_protocol::{EndReason, SessionId};
use yew::Reducible;

use crate::api::ApiError;
use connectit_protocol::error::Field;
use connectit_protocol::ErrorCode;

/// The customer's ticket into one session (kept in session storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub session: SessionId,
    pub token: String,
}

/// Why a PIN did not open a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PinError {
    InvalidOrExpired,
    /// The link's join token is used or expired.
    LinkInvalid,
    /// Wait until this local time (milliseconds) before trying again.
    TooManyAttempts {
        until: f64,
    },
    /// This field is not acceptable.
    InvalidInput(Field),
    Unreachable,
    /// Another refusal, explained by its code.
    Other(ErrorCode),
}

impl PinError {
    /// Maps an API failure; `now` is the local clock, to place the wait.
    pub fn from_api(error: ApiError, now: f64) -> PinError {
        match error {
            ApiError::Unreachable | ApiError::BadAnswer { .. } => PinError::Unreachable,
            ApiError::Refused { code, .. } => match code {
                ErrorCode::InvalidOrExpiredPin => PinError::InvalidOrExpired,
                ErrorCode::InvalidOrExpiredLink => PinError::LinkInvalid,
                ErrorCode::TooManyAttempts { retry_after_secs }
                | ErrorCode::RateLimited { retry_after_secs } => PinError::TooManyAttempts {
                    until: now + f64::from(retry_after_secs) * 1000.0,
                },
                ErrorCode::InvalidInput { field } => PinError::InvalidInput(field),
                other => PinError::Other(other),
            },
        }
    }

    /// Whole seconds still to wait at local time `now` before trying again (0 for any
    /// other error).
    pub fn wait_left(&self, now: f64) -> u64 {
        match self {
            PinError::TooManyAttempts { until } => ((until - now) / 1000.0).ceil().max(0.0) as u64,
            _ => 0,
        }
    }

    /// The `data-error` value the page and its tests use.
    pub fn code(&self) -> &'static str {
        match self {
            PinError::InvalidOrExpired => "invalid_or_expired",
            PinError::LinkInvalid => "link_invalid",
            PinError::TooManyAttempts { .. } => "too_many_attempts",
            PinError::InvalidInput(_) => "invalid_input",
            PinError::Unreachable | PinError::Other(_) => "unreachable",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Entering the PIN (with the last attempt's error).
    Pin { error: Option<PinError> },
    /// The PIN is being checked.
    Joining,
    /// In the session: terms, waiting, chat (the live log decides which).
    Session(Joined),
    /// Over: why, and the optional survey (offered only when a technician helped:
    /// `helped`).
    Survey {
        joined: Joined,
        reason: EndReason,
        helped: bool,
    },
    /// Done: thanks (the ticket stays in memory for the record, not in storage).
    ThankYou { joined: Option<Joined> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum FlowAction {
    Verify,
    Verified(Joined),
    Failed(PinError),
    /// The customer edited the PIN: an old answer no longer applies (a wait still does).
    Edited,
    Ended {
        reason: EndReason,
        survey_done: bool,
        /// Whether a technician picked the session up (else there is nothing to rate).
        helped: bool,
    },
    SurveyDone,
    /// Back to the PIN (the session is gone, or another one).
    Restart,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub step: Step,
}

impl Reducible for Flow {
    type Action = FlowAction;

    fn reduce(self: Rc<Self>, action: FlowAction) -> Rc<Self> {
        let step = match (&self.step, action) {
            (Step::Pin { .. }, FlowAction::Verify) => Step::Joining,
            (Step::Joining, FlowAction::Verified(joined)) => Step::Session(joined),
            (Step::Joining, FlowAction::Failed(error)) => Step::Pin { error: Some(error) },
            (Step::Pin { error: Some(e) }, FlowAction::Edited)
                if !matches!(e, PinError::TooManyAttempts { .. }) =>
            {
                Step::Pin { error: None }
            }
            (
                Step::Session(joined),
                FlowAction::Ended {
                    survey_done: true, ..
                },
            ) => Step::ThankYou {
                joined: Some(joined.clone()),
            },
            (Step::Session(joined), FlowAction::Ended { reason, helped, .. }) => Step::Survey {
                joined: joined.clone(),
                reason,
                helped,
            },
            (Step::Survey { joined, .. }, FlowAction::SurveyDone) => Step::ThankYou {
                joined: Some(joined.clone()),
            },
            (_, FlowAction::Restart) => Step::Pin { error: None },
            _ => return self,
        };
        Rc::new(Flow { step })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined() -> Joined {
        Joined {
            session: SessionId("s".into()),
            token: "t".into(),
        }
    }

    fn run(actions: Vec<FlowAction>) -> Step {
        let mut flow = Rc::new(Flow {
            step: Step::Pin { error: None },
        });
        for action in actions {
            flow = flow.reduce(action);
        }
        flow.step.clone()
    }

    #[test]
    fn happy_path() {
        let step = run(vec![
            FlowAction::Verify,
            FlowAction::Verified(joined()),
            FlowAction::Ended {
                reason: EndReason::CustomerEnded,
                survey_done: false,
                helped: true,
            },
            FlowAction::SurveyDone,
        ]);
        assert_eq!(
            step,
            Step::ThankYou {
                joined: Some(joined())
            }
        );
    }

    #[test]
    fn a_wait_survives_editing() {
        let wait = PinError::TooManyAttempts { until: 5.0 };
        let step = run(vec![
            FlowAction::Verify,
            FlowAction::Failed(wait),
            FlowAction::Edited,
        ]);
        assert_eq!(step, Step::Pin { error: Some(wait) });
        let step = run(vec![
            FlowAction::Verify,
            FlowAction::Failed(PinError::InvalidOrExpired),
            FlowAction::Edited,
        ]);
        assert_eq!(step, Step::Pin { error: None });
    }

    #[test]
    fn a_wait_counts_down_in_whole_seconds() {
        let wait = PinError::TooManyAttempts { until: 10_000.0 };
        assert_eq!(wait.wait_left(0.0), 10);
        assert_eq!(wait.wait_left(9_001.0), 1);
        assert_eq!(wait.wait_left(12_000.0), 0);
        assert_eq!(PinError::InvalidOrExpired.wait_left(0.0), 0);
    }

    #[test]
    fn out_of_order_actions_change_nothing() {
        assert_eq!(
            run(vec![FlowAction::Verified(joined())]),
            Step::Pin { error: None }
        );
        assert_eq!(run(vec![FlowAction::SurveyDone]), Step::Pin { error: None });
    }
}
