//! The files link as the transfers use it: made by the customer while a file
//! permission stands (again when the technician comes back), answered by the
//! technician on the customer's offer, dropped otherwise; and a transfer's closed
//! channel, which stops it and, unless the log says why in time, reports it lost.

use connectit_protocol::wire::SignalBody;
use connectit_protocol::{Action, FileFailure, Link, Role};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use web_sys::RtcDataChannel;
use yew::Callback;

use super::ctl::Ctl;
use crate::files::link::FilesLink;
use crate::rtc::PeerEvent;

/// How long a closed channel may wait for the log to say why, before this side says
/// the connection was lost.
pub const LOST_GRACE_MS: u32 = 2_000;

impl Ctl {
    /// The customer's side: a new link (after telling the other side to drop theirs).
    pub(super) fn make_link(&self) {
        if self.link.borrow().is_some() {
            self.drop_link();
        }
        let _ = self.signals.send_files(&SignalBody::Hangup);
        let ice = self.live.borrow().ice.clone();
        if let Ok(link) = FilesLink::offer(&ice, self.peer_events()) {
            *self.link.borrow_mut() = Some(link);
        }
    }

    fn peer_events(&self) -> Callback<PeerEvent> {
        let ctl = self.clone();
        Callback::from(move |event| ctl.peer_event(event))
    }

    /// Drops the link, if there is one; transfers on it stop (and are reported lost,
    /// unless the log says why first).
    pub(super) fn drop_link(&self) {
        let old = self.link.borrow_mut().take();
        drop(old);
        self.code.set(None);
        let on_link: Vec<u32> = self
            .locals
            .borrow()
            .iter()
            .filter(|(_, l)| l.channel.is_some() && !l.done)
            .map(|(f, _)| *f)
            .collect();
        for file in on_link {
            self.channel_closed(file);
        }
    }

    fn peer_event(&self, event: PeerEvent) {
        match event {
            PeerEvent::Signal(body) => {
                if self.link_allowed() {
                    let _ = self.signals.send_files(&body);
                }
            }
            PeerEvent::Channel(channel) => self.incoming_channel(channel),
            // The technician's side makes a new link on the customer's next offer.
            PeerEvent::Failed(_) if self.role == Role::Technician => self.drop_link(),
            // No path: the customer's side says so in the log, which both pages show.
            PeerEvent::GaveUp(reason) => {
                if self.role == Role::Customer && self.link_allowed() {
                    let _ = self.act.emit(Action::PathFailed {
                        link: Link::Files,
                        reason,
                    });
                }
            }
            PeerEvent::Connected { local, remote } => {
                self.code
                    .set(crate::rtc::verify::code(&self.session, &local, &remote));
            }
            PeerEvent::Failed(_) | PeerEvent::Restarted | PeerEvent::Remote(_) => {}
        }
    }

    /// A signal for the files link from the other member.
    pub(super) fn signal(&self, body: SignalBody) {
        match body {
            SignalBody::Hangup => {
                if self.link.borrow().is_some() {
                    self.drop_link();
                }
            }
            SignalBody::Offer { .. } if self.role == Role::Technician => {
                if !self.link_allowed() {
                    return;
                }
                if self.link.borrow().is_none() {
                    let ice = self.live.borrow().ice.clone();
                    match FilesLink::answer(&ice, self.peer_events()) {
                        Ok(link) => *self.link.borrow_mut() = Some(link),
                        Err(_) => return,
                    }
                }
                if let Some(link) = self.link.borrow().as_ref() {
                    link.receive(body);
                }
                // Transfers accepted before the link came can start now.
                self.start_ready();
            }
            SignalBody::Offer { .. } => {}
            SignalBody::Answer { .. } | SignalBody::Candidate { .. } => {
                if let Some(link) = self.link.borrow().as_ref() {
                    link.receive(body);
                }
            }
        }
    }

    // ---- A transfer's channel -------------------------------------------------------

    pub(super) fn close_listener(&self, file: u32, channel: &RtcDataChannel) -> EventListener {
        let ctl = self.clone();
        EventListener::new(channel, "close", move |_| ctl.channel_closed(file))
    }

    /// A transfer's channel closed: stop here, and say the connection was lost unless
    /// the log explains it within [`LOST_GRACE_MS`].
    pub(super) fn channel_closed(&self, file: u32) {
        let ctl = self.clone();
        let size = self.transfer(file).map(|t| t.size);
        self.with_local(file, |l| {
            if l.done {
                return;
            }
            l.stop.set(true);
            l.listeners.clear();
            l.channel.take();
            // Every byte is here: the sender closed after its last chunk, and the log's
            // `FileSent` (however late) decides; nothing was lost.
            let complete = l
                .receiver
                .as_ref()
                .zip(size)
                .is_some_and(|(r, size)| r.received() == size);
            if complete {
                return;
            }
            l.lost = Some(Timeout::new(LOST_GRACE_MS, move || {
                ctl.with_local(file, |l| l.lost = None);
                let in_flight = ctl.transfer(file).is_some_and(|t| t.status.in_flight());
                let delivered_here = ctl
                    .locals
                    .borrow()
                    .get(&file)
                    .is_some_and(|l| l.url.is_some());
                if in_flight && !delivered_here {
                    ctl.report(file, FileFailure::ConnectionLost);
                }
                ctl.halt(file);
            }));
        });
    }
}
