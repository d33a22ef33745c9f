//! The controller of one side's transfers: what it shares with its callbacks and
//! tasks (`Ctl`, cloned into each), what this page holds for each transfer (`Local`,
//! whose drop releases its channel, listeners and timer), and how a transfer ends here.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use connectit_protocol::{Action, FileFailure, FileStatus, FileTransfer, Link, Role};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use web_sys::{Blob, RtcDataChannel};
use yew::prelude::*;

use super::offers::Queued;
use super::{Progress, TransferView};
use crate::files::link::FilesLink;
use crate::files::receive::Receiver;
use crate::files::save::ObjectUrl;
use crate::session::live::Live;
use crate::socket::NotConnected;

/// What this page holds for one transfer.
#[derive(Default)]
pub(super) struct Local {
    /// Our file to send (the sender's page that picked it).
    pub(super) source: Option<Blob>,
    pub(super) channel: Option<RtcDataChannel>,
    pub(super) listeners: Vec<EventListener>,
    /// Tells the sending task to stop.
    pub(super) stop: Rc<Cell<bool>>,
    pub(super) progress: Rc<Progress>,
    pub(super) receiver: Option<Receiver>,
    /// The verified file, for the download link.
    pub(super) url: Option<ObjectUrl>,
    pub(super) started: bool,
    /// The log says the other side accepted our file: send it when we can.
    pub(super) wanted: bool,
    pub(super) saved: bool,
    /// Nothing more happens here (finished, failed or stopped).
    pub(super) done: bool,
    /// This side sent the transfer's last word (sent/delivered/failed).
    pub(super) reported: bool,
    /// The wait after a closed channel.
    pub(super) lost: Option<Timeout>,
}

impl Local {
    pub(super) fn halt(&mut self) {
        self.done = true;
        self.stop.set(true);
        self.lost.take();
        self.listeners.clear();
        if let Some(channel) = self.channel.take() {
            channel.close();
        }
        self.progress.channel.borrow_mut().take();
        self.receiver.take();
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.halt();
    }
}

#[derive(Clone)]
pub(super) struct Ctl {
    pub(super) role: Role,
    pub(super) max_bytes: u64,
    pub(super) locals: Rc<RefCell<BTreeMap<u32, Local>>>,
    pub(super) queue: Rc<RefCell<Vec<Queued>>>,
    pub(super) link: Rc<RefCell<Option<FilesLink>>>,
    /// The session as of the last render.
    pub(super) live: Rc<RefCell<UseReducerHandle<Live>>>,
    /// Files of ours in the log that this page held no bytes of when they appeared:
    /// checked once every offer is answered.
    pub(super) unbound: Rc<RefCell<BTreeSet<u32>>>,
    pub(super) act: Callback<Action, Result<u32, NotConnected>>,
    pub(super) signals: crate::session::Signals,
    pub(super) error: UseStateHandle<Option<super::FileProblem>>,
    /// The files link's verification code, while it is connected.
    pub(super) code: UseStateHandle<Option<String>>,
    /// The session's id (in the verification code).
    pub(super) session: std::rc::Rc<str>,
}

impl Ctl {
    pub(super) fn act(&self, action: Action) -> Result<u32, NotConnected> {
        self.act.emit(action)
    }

    pub(super) fn transfer(&self, file: u32) -> Option<FileTransfer> {
        self.live.borrow().state.transfer(file).ok().cloned()
    }

    pub(super) fn link_allowed(&self) -> bool {
        self.live.borrow().state.may_open(Link::Files)
    }

    pub(super) fn with_local<R>(&self, file: u32, f: impl FnOnce(&mut Local) -> R) -> R {
        let mut locals = self.locals.borrow_mut();
        f(locals.entry(file).or_default())
    }

    // ---- Ending ---------------------------------------------------------------------

    /// Logs why `file` stopped, once, if the log does not say so already.
    pub(super) fn report(&self, file: u32, reason: FileFailure) {
        let first = self.with_local(file, |l| !std::mem::replace(&mut l.reported, true));
        let in_flight = self.transfer(file).is_some_and(|t| t.status.in_flight());
        if first && in_flight {
            let _ = self.act(Action::FileFailed { file, reason });
        }
    }

    pub(super) fn halt(&self, file: u32) {
        self.with_local(file, Local::halt);
    }

    pub(super) fn cancel(&self, file: u32) {
        self.report(file, FileFailure::Cancelled { by: self.role });
        self.halt(file);
    }

    // ---- What the view reads, and unmount -------------------------------------------

    pub(super) fn view(&self) -> Vec<TransferView> {
        let live = self.live.borrow();
        let mut locals = self.locals.borrow_mut();
        live.state
            .files()
            .iter()
            .map(|t| {
                let local = locals.entry(t.file).or_default();
                TransferView {
                    transfer: t.clone(),
                    outgoing: t.from == self.role,
                    progress: local.progress.clone(),
                    url: (t.status == FileStatus::Delivered)
                        .then(|| {
                            local
                                .url
                                .as_ref()
                                .map(|u| AttrValue::from(u.as_str().to_owned()))
                        })
                        .flatten(),
                    saved: local.saved,
                }
            })
            .collect()
    }

    pub(super) fn clear(&self) {
        let link = self.link.borrow_mut().take();
        drop(link);
        let locals = std::mem::take(&mut *self.locals.borrow_mut());
        drop(locals);
        self.queue.borrow_mut().clear();
    }
}
