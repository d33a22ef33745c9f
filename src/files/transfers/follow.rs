//! Following the log: what each change asks of this side's transfers ([`Effect`]s:
//! the files link opened, closed or to connect again; our file accepted, the other's
//! sent, one delivered or ended), and after every render what the broker's answers
//! allow (an offer's id known: our file can go once accepted and the link is there; an
//! offer of ours in the log that no page of ours holds any more: nobody can send it).

use std::collections::BTreeSet;

use connectit_protocol::files::safe_file_name;
use connectit_protocol::{FileFailure, Link, Role};

use super::ctl::Ctl;
use crate::files::save::save;
use crate::session::Effect;

impl Ctl {
    /// Carries out what the log's change asks of this side.
    pub(super) fn apply(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                // The customer's side makes the link; the technician's answers it.
                Effect::Open(Link::Files) | Effect::Reconnect(Link::Files)
                    if self.role == Role::Customer =>
                {
                    self.make_link();
                }
                Effect::Close(Link::Files) => self.drop_link(),
                Effect::Outgoing(file) => {
                    let held = self.with_local(file, |l| l.source.is_some());
                    if !held {
                        self.unbound.borrow_mut().insert(file);
                    }
                }
                Effect::Send(file) => {
                    self.with_local(file, |l| l.wanted = true);
                    self.start_ready();
                }
                Effect::Check(file) => self.check(file),
                Effect::Delivered(file) => self.delivered(file),
                Effect::Release(file) => {
                    let url = self.with_local(file, |l| {
                        l.halt();
                        l.url.take()
                    });
                    drop(url);
                }
                _ => {}
            }
        }
        self.settle();
    }

    /// After every render: offers tied to their ids, what can be sent now sent, and
    /// offers of ours no page holds reported lost once every offer is answered.
    pub(super) fn settle(&self) {
        self.bind_offers();
        self.start_ready();
        if !self.queue.borrow().is_empty() {
            return;
        }
        let unbound = std::mem::take(&mut *self.unbound.borrow_mut());
        for file in unbound {
            let orphan = self.with_local(file, |l| l.source.is_none() && !l.done);
            let in_flight = self.transfer(file).is_some_and(|t| t.status.in_flight());
            if orphan && in_flight {
                // Offered by a page of ours that is gone (a reload): nobody can send it.
                self.report(file, FileFailure::ConnectionLost);
                self.halt(file);
            }
        }
    }

    /// Starts every accepted file of ours whose bytes this page holds (once the link
    /// is there: the technician's comes with the customer's offer).
    pub(super) fn start_ready(&self) {
        if self.link.borrow().is_none() {
            return;
        }
        let ready: BTreeSet<u32> = self
            .locals
            .borrow()
            .iter()
            .filter(|(_, l)| l.wanted && !l.started && !l.done && l.source.is_some())
            .map(|(file, _)| *file)
            .collect();
        for file in ready {
            self.start_sending(file);
        }
    }

    /// A file arrived whole: what this side held of the transfer stops; the customer's
    /// page saves a file it received, once.
    fn delivered(&self, file: u32) {
        let Some(t) = self.transfer(file) else { return };
        let mine = t.from == self.role;
        let save_now = self.with_local(file, |l| {
            let first = !l.done;
            l.halt();
            let auto = self.role == Role::Customer && !mine && !l.saved && first;
            if auto {
                l.saved = true;
            }
            auto.then(|| l.url.as_ref().map(|u| u.as_str().to_owned()))
                .flatten()
        });
        if let Some(url) = save_now {
            let _ = save(&url, &safe_file_name(&t.name));
        }
    }
}
