//! What a participant knows about a live session: the log as received, its fold with
//! the protocol's [`SessionState`] reducer, the connection's status, the actions
//! waiting for an answer and the last problem to explain. Pure: no browser calls.
//!
//! The broker's log is the record. If an entry does not follow from the page's fold
//! (the page runs other rules than the broker, or missed something), the page does not
//! skip it: it loads the whole log again from the broker ([`Live::reloads`] tells the
//! hook to), folding it beside what it shows until it has caught up, and gives up
//! (with [`ErrorCode::Internal`]) if the reloaded log disagrees too.

use std::rc::Rc;

use connectit_protocol::wire::CloseReason;
use connectit_protocol::{
    Action, ErrorCode, IceConfig, LogEntry, RuleViolation, Seq, SessionState,
};
use yew::Reducible;

use super::entries::Entries;
use super::link::{LinkEvent, LinkStatus, QueuePlace};

/// How many times a page loads the session again before it gives up.
pub const MAX_RELOADS: u32 = 3;

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
    /// A media change, a peer restart, a confirmed code or areas hidden.
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
            Action::Revoke { .. } | Action::Renew { .. } => Pending::Revoke,
            Action::Media { .. }
            | Action::PeerRestarted { .. }
            | Action::PathFailed { .. }
            | Action::ConfirmCode { .. }
            | Action::HideAreas { .. } => Pending::Media,
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
    pub entries: Entries,
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
    /// The customer's place in their team's queue, while they wait in one.
    pub queue: Option<QueuePlace>,
    /// The latest answers to actions (at most [`ANSWERS_KEPT`]), for the parts that
    /// must know which entry an action made (a file offer's id) or why it was refused.
    pub answers: Rc<Vec<(u32, Answer)>>,
    /// The last entry that did not follow from the page's fold, and why.
    pub out_of_step: Option<OutOfStep>,
    /// How many times the page asked for the whole log again; the hook reconnects
    /// from the start each time this grows.
    pub reloads: u32,
    /// The reloaded log, folded beside what the page shows until it catches up.
    rebuild: Option<Rebuild>,
}

/// An entry the page's fold refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfStep {
    pub seq: Seq,
    pub violation: RuleViolation,
}

/// The log being loaded again.
#[derive(Debug, Clone, PartialEq, Default)]
struct Rebuild {
    state: SessionState,
    entries: Entries,
    /// The broker's last entry when it welcomed the new connection; `None` until then
    /// (entries before that are the old connection's, and are ignored).
    upto: Option<Seq>,
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

    /// An entry did not follow from the fold: load the log again (what is shown stays
    /// until the reloaded log has caught up), or give up after [`MAX_RELOADS`].
    fn out_of_step(&mut self, seq: Seq, violation: RuleViolation) {
        self.out_of_step = Some(OutOfStep { seq, violation });
        if self.reloads >= MAX_RELOADS {
            self.rebuild = None;
            self.fatal = Some(ErrorCode::Internal);
            self.pending.clear();
            return;
        }
        self.reloads += 1;
        self.rebuild = Some(Rebuild::default());
    }

    /// The next entry of the log.
    fn receive(&mut self, entry: LogEntry) {
        if self.fatal.is_some() {
            return;
        }
        let Some(rebuild) = self.rebuild.as_mut() else {
            match self.state.apply(&entry) {
                Ok(()) => self.entries.push(entry),
                Err(violation) => self.out_of_step(entry.seq, violation),
            }
            return;
        };
        let Some(upto) = rebuild.upto else {
            return;
        };
        if let Err(violation) = rebuild.state.apply(&entry) {
            return self.out_of_step(entry.seq, violation);
        }
        rebuild.entries.push(entry);
        if rebuild.state.last_seq() >= upto {
            self.caught_up();
        }
    }

    /// The reloaded log has caught up: it is what the page shows from now on.
    fn caught_up(&mut self) {
        if let Some(rebuild) = self.rebuild.take() {
            self.state = rebuild.state;
            self.entries = rebuild.entries;
        }
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
                    ice,
                    check_code,
                    last_seq,
                    ..
                } => {
                    if let Some(rebuild) = next.rebuild.as_mut() {
                        rebuild.upto = Some(last_seq);
                        if last_seq == 0 {
                            next.caught_up();
                        }
                    }
                    next.welcomed = true;
                    next.ended_by = None;
                    next.check_code = check_code;
                    next.ice = Rc::new(ice);
                    if next.notice == Some(Notice::NotConnected) {
                        next.notice = None;
                    }
                }
                LinkEvent::Queue(place) => next.queue = Some(place),
                LinkEvent::Entry(entry) => next.receive(entry),
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

#[cfg(test)]
mod tests {
    use connectit_protocol::{Author, EntryKind, Phase, Role};

    use super::*;

    fn entry(seq: Seq, author: Author, kind: EntryKind) -> LogEntry {
        LogEntry {
            seq,
            at: 1_000 + seq,
            author,
            kind,
        }
    }

    /// The log of a session picked up by Alice.
    fn picked_up() -> Vec<LogEntry> {
        vec![
            entry(1, Author::System, EntryKind::CustomerJoined),
            entry(2, Author::Customer, EntryKind::TermsAccepted),
            entry(
                3,
                Author::Technician,
                EntryKind::TechnicianPickedUp {
                    name: "Alice".into(),
                },
            ),
        ]
    }

    fn welcome(last_seq: Seq) -> LiveAction {
        LiveAction::Link(LinkEvent::Welcome {
            role: Role::Customer,
            ice: IceConfig::default(),
            check_code: None,
            last_seq,
        })
    }

    fn feed(live: Rc<Live>, actions: impl IntoIterator<Item = LiveAction>) -> Rc<Live> {
        actions.into_iter().fold(live, |live, a| live.reduce(a))
    }

    fn entries(log: &[LogEntry]) -> Vec<LiveAction> {
        log.iter()
            .map(|e| LiveAction::Link(LinkEvent::Entry(e.clone())))
            .collect()
    }

    #[test]
    fn entries_fold_into_the_state_and_are_kept() {
        let live = feed(Rc::new(Live::default()), [welcome(3)]);
        let live = feed(live, entries(&picked_up()));
        assert_eq!(live.state.phase(), Phase::Active);
        assert_eq!(live.state.technician(), Some("Alice"));
        assert_eq!(live.entries.len(), 3);
        assert_eq!(live.reloads, 0);
    }

    #[test]
    fn an_entry_the_fold_refuses_reloads_the_log_and_nothing_is_skipped() {
        let live = feed(Rc::new(Live::default()), [welcome(3)]);
        let live = feed(live, entries(&picked_up()[..2]));
        // The broker says the customer picked up: these rules refuse that.
        let odd = entry(
            3,
            Author::Customer,
            EntryKind::TechnicianPickedUp {
                name: "Mallory".into(),
            },
        );
        let live = feed(live, entries(&[odd]));
        assert_eq!(live.reloads, 1, "the hook is told to load the log again");
        assert_eq!(
            live.out_of_step,
            Some(OutOfStep {
                seq: 3,
                violation: RuleViolation::WrongAuthor
            })
        );
        // What is shown stays as it was, without the refused entry.
        assert_eq!(live.state.phase(), Phase::Waiting);
        assert_eq!(live.entries.len(), 2);
        // The old connection's entries are not taken.
        let live = feed(live, entries(&picked_up()[2..]));
        assert_eq!(live.state.phase(), Phase::Waiting);
        // The new connection: the whole log, then the page shows it.
        let live = feed(live, [welcome(3)]);
        let live = feed(live, entries(&picked_up()[..2]));
        assert_eq!(live.entries.len(), 2);
        assert_eq!(live.state.phase(), Phase::Waiting, "not caught up yet");
        let live = feed(live, entries(&picked_up()[2..]));
        assert_eq!(live.state.phase(), Phase::Active);
        assert_eq!(live.state.technician(), Some("Alice"));
        assert_eq!(live.entries.len(), 3);
        // And then on as usual.
        let chat = entry(
            4,
            Author::Customer,
            EntryKind::Chat {
                text: "hello".into(),
                by: None,
            },
        );
        let live = feed(live, entries(&[chat]));
        assert_eq!(live.state.chat_count(), 1);
        assert_eq!(live.fatal, None);
    }

    #[test]
    fn a_log_that_still_disagrees_after_reloading_stops_the_page() {
        let bad = entry(1, Author::Customer, EntryKind::TermsAccepted);
        let mut live = Rc::new(Live::default());
        for reload in 1..=MAX_RELOADS {
            live = feed(live, [welcome(1)]);
            live = feed(live, entries(std::slice::from_ref(&bad)));
            assert_eq!(live.reloads, reload);
            assert_eq!(live.fatal, None);
        }
        live = feed(live, [welcome(1)]);
        live = feed(live, entries(std::slice::from_ref(&bad)));
        assert_eq!(live.reloads, MAX_RELOADS);
        assert_eq!(live.fatal, Some(ErrorCode::Internal));
        // Nothing more is folded.
        live = feed(live, entries(&picked_up()));
        assert_eq!(live.state.phase(), Phase::Created);
    }

    #[test]
    fn a_reload_of_an_empty_log_catches_up_at_the_welcome() {
        let bad = entry(1, Author::Customer, EntryKind::TermsAccepted);
        let live = feed(Rc::new(Live::default()), [welcome(0)]);
        let live = feed(live, entries(&[bad]));
        assert_eq!(live.reloads, 1);
        let live = feed(live, [welcome(0)]);
        let live = feed(live, entries(&picked_up()[..1]));
        assert_eq!(live.state.phase(), Phase::Connecting);
    }
}
