//! What a participant knows about a live session: the log as received, its fold with
//! the protocol's [`SessionState`] reducer, the connection's status, the actions
//! waiting for an answer and the last problem to explain. Pure: no browser calls.

use std::rc::Rc;

use connectit_protocol::{Action, ErrorCode, IceServer, LogEntry, SessionState};
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
            Action::Media { .. } | Action::PeerRestarted { .. } => Pending::Media,
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
    /// The ICE servers for this session's peer connections (from the last welcome).
    pub ice_servers: Rc<Vec<IceServer>>,
    /// Actions sent and not answered, by id.
    pub pending: Vec<(u32, Pending)>,
    pub notice: Option<Notice>,
    /// The broker will not let us in: the page cannot go on.
    pub fatal: Option<ErrorCode>,
}

impl Live {
    pub fn is_pending(&self, what: Pending) -> bool {
        self.pending.iter().any(|(_, p)| *p == what)
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
                LinkEvent::Welcome { ice_servers, .. } => {
                    next.welcomed = true;
                    next.ice_servers = Rc::new(ice_servers);
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
                LinkEvent::Ack { id, .. } => next.pending.retain(|(x, _)| *x != id),
                // A refused WebRTC signal (no id) races a revocation or the end: the
                // log tells the user what happened, the refusal adds nothing.
                LinkEvent::Refused {
                    id: None,
                    error: ErrorCode::NotAllowed { .. },
                } => {}
                LinkEvent::Refused { id, error } => {
                    if let Some(id) = id {
                        next.pending.retain(|(x, _)| *x != id);
                    }
                    next.notice = Some(Notice::Refused(error));
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
            },
        }
        Rc::new(next)
    }
}
