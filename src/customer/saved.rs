//! The customer's session in `sessionStorage`, so that a reload resumes it: the
//! session id, its token and, once over, why it ended. Cleared after the thank-you.

use connectit_protocol::{EndReason, SessionId};
use serde::{Deserialize, Serialize};

use super::flow::{Joined, Step};
use crate::browser;

const KEY: &str = "connectit.customer";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Saved {
    session: SessionId,
    token: String,
    ended: Option<EndReason>,
    /// Whether a technician had picked the session up (older pages did not say).
    #[serde(default = "helped_by_default")]
    helped: bool,
}

fn helped_by_default() -> bool {
    true
}

/// The step a reload resumes at (the PIN when nothing was saved).
pub fn restore() -> Step {
    let saved = browser::storage_get(KEY).and_then(|s| serde_json::from_str::<Saved>(&s).ok());
    match saved {
        Some(Saved {
            session,
            token,
            ended,
            helped,
        }) => {
            let joined = Joined { session, token };
            match ended {
                Some(reason) => Step::Survey {
                    joined,
                    reason,
                    helped,
                },
                None => Step::Session(joined),
            }
        }
        None => Step::Pin { error: None },
    }
}

/// Remembers what a reload needs for `step`.
pub fn store(step: &Step) {
    let saved = match step {
        Step::Session(joined) => Saved {
            session: joined.session.clone(),
            token: joined.token.clone(),
            ended: None,
            helped: false,
        },
        Step::Survey {
            joined,
            reason,
            helped,
        } => Saved {
            session: joined.session.clone(),
            token: joined.token.clone(),
            ended: Some(*reason),
            helped: *helped,
        },
        Step::ThankYou { .. } | Step::Pin { .. } => {
            browser::storage_remove(KEY);
            return;
        }
        Step::Joining => return,
    };
    if let Ok(json) = serde_json::to_string(&saved) {
        // Without storage (private mode), a reload starts over: nothing else breaks.
        let _ = browser::storage_set(KEY, &json);
    }
}
