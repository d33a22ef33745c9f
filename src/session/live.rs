//! What a participant knows about a live session: the log as received, its fold with
//! the protocol's [`SessionState`] reducer, the connection's status, the actions
//! waiting for an answer and the last problem to explain. Pure: no browser calls.

use std::rc::Rc;

use connectit_protocol::wire::CloseReason;
use connectit_protocol::{
    Action, ErrorCode, IceConfig, LogEntry, RuleViolation, Seq, SessionState,
};
use yew::Reducible;

use super::link::{LinkEvent, LinkStatus};

/// An action sent and not answered yet (buttons show it as busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    AcceptTerms,
    DeclineTerms,
    PickUp,
    Chat,
    End,
    /// A permission request (technician).
    Request,
    /// A grant or a refusal (customer).
    Answer,
    MoreTime,
    Revoke,
    /// A media change or a peer restart.
    Media,
    /// A file offer.
    Offer,
    /// The customer's answer to a file offer.
    FileAnswer,
    /// A step of a transfer (sent, delivered, failed).
    File,
    /// A system information report.
    SystemInfo,
}

impl From<&Action> for Pending {
    fn from(action: &Action) -> Self {
        match action {
            Action::AcceptTerms => Pending::AcceptTerms,
            Action::DeclineTerms => Pending::DeclineTerms,
            Action::PickUp => Pending::PickUp,
            Action::Chat { .. } => Pending::Chat,
            Action::End => Pending::End,
            Action::RequestPermissions { .. } => Pending::Request,
            Action::Grant { .. } | Action::Deny { .. } => Pending::Answer,
            Action::MoreTime { .. } => Pending::MoreTime,
            Action::Revoke { .. } => Pending::Revoke,
            Action::Media { .. } | Action::PeerRestarted { .. } | Action::PathFailed { .. } => {
                Pending::Media
            }
            Action::OfferFile { .. } => Pending::Offer,
            Action::AcceptFile { .. } | Action::RefuseFile { .. } => Pending::FileAnswer,
            Action::FileSent { .. } | Action::FileDelivered { .. } | Action::FileFailed { .. } => {
                Pending::File
            }
            Action::ShareSystemInfo { .. } => Pending::SystemInfo,
        }
    }
}

/// Something to tell the user about the last thing they tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The broker refused an action.
    Refused(ErrorCode),
    /// The connection dropped before the broker answered.
    Unconfirmed,
    /// Nothing was sent: not connected.
    NotConnected,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Live {
    /// The fold of `entries`.
    pub state: SessionState,
    /// Every entry received, in order.
    pub entries: Rc<Vec<LogEntry>>,
    pub status: LinkStatus,
    /// Whether the broker welcomed us at least once.
    pub welcomed: bool,
    /// The ICE servers and policy for this session's peer connections (from the last
    /// welcome).
    pub ice: Rc<IceConfig>,
    /// Actions sent and not answered, by id.
    pub pending: Vec<(u32, Pending)>,
    pub notice: Option<Notice>,
    /// The broker will not let us in: the page cannot go on.
    pub fatal: Option<ErrorCode>,
    /// The broker closed the socket for good (signed out, opened elsewhere), until the
    /// page connects again.
    pub ended_by: Option<CloseReason>,
    /// The code the customer reads out to the technician (from the last welcome).
    pub check_code: Option<String>,
    /// The latest answers to actions (at most [`ANSWERS_KEPT`]), for the parts that
    /// must know which entry an action made (a file offer's id) or why it was refused.
    pub answers: Rc<Vec<(u32, Answer)>>,
}

/// How many answers [`Live::answers`] keeps.
pub const ANSWERS_KEPT: usize = 64;

/// The broker's answer to one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Stored as this entry.
    Stored(Seq),
    Refused(ErrorCode),
}

impl Live {
    pub fn is_pending(&self, what: Pending) -> bool {
        self.pending.iter().any(|(_, p)| *p == what)
    }

    /// The broker's answer to action `id`, if it came (and is still kept).
    pub fn answer(&self, id: u32) -> Option<Answer> {
        self.answers
            .iter()
            .rev()
            .find(|(x, _)| *x == id)
            .map(|(_, a)| *a)
    }

    fn remember(&mut self, id: u32, answer: Answer) {
        let answers = Rc::make_mut(&mut self.answers);
        answers.push((id, answer));
        if answers.len() > ANSWERS_KEPT {
            answers.remove(0);
        }
    }
}

/// Whether a refusal of `what` only says that the log moved on first (a transfer the
/// other side already stopped): the log explains it, a notice would not.
fn raced(what: Option<Pending>, error: ErrorCode) -> bool {
    match (what, error) {
        // The files panel explains a refused offer itself.
        (Some(Pending::Offer), _) => true,
        (Some(Pending::File | Pending::FileAnswer), ErrorCode::NotAllowed { violation }) => {
            matches!(
                violation,
                RuleViolation::FileState
                    | RuleViolation::WrongAuthor
                    | RuleViolation::NotGranted
                    | RuleViolation::WrongPhase { .. }
            )
        }
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiveAction {
    Link(LinkEvent),
    /// An action left with this id.
    Sent {
        id: u32,
        what: Pending,
    },
    /// An action could not leave.
    NotSent,
    DismissNotice,
}

impl Reducible for Live {
    type Action = LiveAction;

    fn reduce(self: Rc<Self>, action: LiveAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            LiveAction::Sent { id, what } => {
                next.pending.push((id, what));
                next.notice = None;
            }
            LiveAction::NotSent => next.notice = Some(Notice::NotConnected),
            LiveAction::DismissNotice => next.notice = None,
            LiveAction::Link(event) => match event {
                LinkEvent::Status(status) => next.status = status,
                LinkEvent::Welcome {
                    ice, check_code, ..
                } => {
                    next.welcomed = true;
                    next.ended_by = None;
                    next.check_code = check_code;
                    next.ice = Rc::new(ice);
                    if next.notice == Some(Notice::NotConnected) {
                        next.notice = None;
                    }
                }
                LinkEvent::Entry(entry) => {
                    if next.state.apply(&entry).is_err() {
                        // The broker's log is the record: follow it even where this
                        // version's rules disagree, rather than stall.
                        next.state.last_seq = entry.seq;
                    }
                    Rc::make_mut(&mut next.entries).push(entry);
                }
                LinkEvent::Ack { id, seq } => {
                    next.pending.retain(|(x, _)| *x != id);
                    next.remember(id, Answer::Stored(seq));
                }
                // A refused WebRTC signal (no id) races a revocation or the end: the
                // log tells the user what happened, the refusal adds nothing.
                LinkEvent::Refused {
                    id: None,
                    error: ErrorCode::NotAllowed { .. },
                } => {}
                LinkEvent::Refused { id, error } => {
                    let mut what = None;
                    if let Some(id) = id {
                        what = next.pending.iter().find(|(x, _)| *x == id).map(|(_, p)| *p);
                        next.pending.retain(|(x, _)| *x != id);
                        next.remember(id, Answer::Refused(error));
                    }
                    if !raced(what, error) {
                        next.notice = Some(Notice::Refused(error));
                    }
                }
                // Signals go straight to the peer connections, not through the state.
                LinkEvent::Signal { .. } => return self,
                LinkEvent::Lost { ids } => {
                    next.pending.retain(|(x, _)| !ids.contains(x));
                    next.notice = Some(Notice::Unconfirmed);
                }
                LinkEvent::Fatal(error) => {
                    next.fatal = Some(error);
                    next.pending.clear();
                }
                LinkEvent::Ended(reason) => {
                    next.ended_by = Some(reason);
                    next.pending.clear();
                }
            },
        }
        Rc::new(next)
    }
}
