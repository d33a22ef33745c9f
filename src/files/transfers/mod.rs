//! The transfers of one session, on one side: `use_transfers` drives them from the
//! log. Picked files are offered (after the size check); once the log says a file of
//! ours is accepted, its channel opens and [`send_blob`] runs, then `FileSent`. Bytes of
//! a file for us are hashed as they arrive; with every byte and the sender's
//! `FileSent`, the hashes are compared: `FileDelivered` and a download link, or
//! `FileFailed{HashMismatch}` and nothing kept. Cancel, a failure in the log (revoked,
//! ended, the other side's cancel) or a closed channel stop the transfer here: the
//! channel closes, reads stop, and the bytes are dropped.
//!
//! Every channel, listener, timer and object URL is owned by a `Local` and released
//! with it; the files link is dropped when no file permission stands, and on unmount.
//!
//! # Layout
//!
//! - this file: what a component gets ([`Transfers`], [`TransferView`]) and the hook;
//! - `progress`: how far one transfer got, shared with the row that shows it;
//! - `ctl`: the controller all the others extend, what it holds for each transfer,
//!   and how a transfer ends;
//! - `offers`: picked files offered and tied to their transfer ids;
//! - `connection`: the files link made, answered and dropped, and a closed channel;
//! - `outgoing`: our accepted file sent on its channel;
//! - `incoming`: the other side's channels, their bytes, and the check of the hash;
//! - `follow`: what each change of the log asks of this side ([`Effect`]s), and what
//!   the broker's answers allow after every render.
//!
//! [`Effect`]: crate::session::Effect
//!
//! [`send_blob`]: super::send::send_blob

mod connection;
mod ctl;
mod follow;
mod incoming;
mod offers;
mod outgoing;
mod progress;

use std::collections::BTreeMap;
use std::rc::Rc;

use connectit_protocol::{Action, ErrorCode, FileTransfer, Role};
use web_sys::{File, RtcPeerConnection};
use yew::prelude::*;

use super::link::FilesLink;
use crate::i18n::{I18n, Msg};
use crate::session::{use_log_effects, SessionHandle};
use ctl::Ctl;

pub use connection::LOST_GRACE_MS;
pub use offers::{offer_name, OFFER_ANSWER_MS};
pub use progress::Progress;

/// One transfer as the panel shows it.
#[derive(Clone)]
pub struct TransferView {
    pub transfer: FileTransfer,
    /// Whether this side sends it.
    pub outgoing: bool,
    pub progress: Rc<Progress>,
    /// The verified file's `blob:` URL (incoming, delivered).
    pub url: Option<AttrValue>,
    /// Whether the page already saved it by itself (the customer's received files).
    pub saved: bool,
}

impl PartialEq for TransferView {
    fn eq(&self, other: &Self) -> bool {
        self.transfer == other.transfer
            && self.outgoing == other.outgoing
            && Rc::ptr_eq(&self.progress, &other.progress)
            && self.url == other.url
            && self.saved == other.saved
    }
}

/// Why a picked file was not offered: kept as facts, put in words when shown, in the
/// reader's language of the moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Larger than the installation's limit: never offered.
    TooLarge { name: String, size: u64, max: u64 },
    /// The socket was down: nothing was sent.
    NotConnected,
    /// The broker refused the offer.
    Refused { name: String, code: ErrorCode },
}

impl FileProblem {
    /// The problem in the reader's words.
    pub fn describe(&self, i18n: &I18n) -> String {
        match self {
            FileProblem::TooLarge { name, size, max } => i18n.t(Msg::FileTooLarge {
                name: name.clone(),
                size: i18n.size(*size),
                max: i18n.size(*max),
            }),
            FileProblem::NotConnected => i18n.t(Msg::NotConnected),
            FileProblem::Refused { name, code } => i18n.t(Msg::FileNotOffered {
                name: name.clone(),
                why: i18n.error(*code),
            }),
        }
    }
}

/// The files as a component uses them.
pub struct Transfers {
    pub transfers: Vec<TransferView>,
    /// A file refused before it was offered (too large), or a refused offer.
    pub error: Option<FileProblem>,
    /// Offers these files (checks the size first).
    pub on_pick: Callback<Vec<File>>,
    pub on_accept: Callback<u32>,
    pub on_refuse: Callback<u32>,
    pub on_cancel: Callback<u32>,
    /// The files link's connection, if there is one (for its round-trip time).
    pub connection: Option<RtcPeerConnection>,
    /// The files link's verification code, while it is connected.
    pub code: Option<String>,
}

/// The transfers of session `session` in `handle`, for a member in `role`; `max_bytes` is the
/// installation's size limit. `enabled`: whether this page is one end of the session's
/// transfers (not a colleague who joined).
#[hook]
pub fn use_transfers(
    handle: &SessionHandle,
    session: &str,
    role: Role,
    max_bytes: u64,
    enabled: bool,
) -> Transfers {
    let error = use_state(|| None::<FileProblem>);
    let code = use_state(|| None::<String>);
    let live = handle.live.clone();
    let ctl = Ctl {
        role,
        max_bytes,
        locals: use_mut_ref(BTreeMap::new),
        queue: use_mut_ref(Vec::new),
        link: use_mut_ref(|| None),
        live: use_mut_ref(move || live),
        unbound: use_mut_ref(Default::default),
        act: handle.act.clone(),
        signals: handle.signals.clone(),
        error: error.clone(),
        code: code.clone(),
        session: session.into(),
    };
    *ctl.live.borrow_mut() = handle.live.clone();
    {
        let ctl = ctl.clone();
        use_effect_with((), move |_| {
            let listener = {
                let ctl = ctl.clone();
                Callback::from(move |body| ctl.signal(body))
            };
            ctl.signals.listen_files(Some(listener));
            move || {
                ctl.signals.listen_files(None);
                ctl.clear();
            }
        });
    }
    let apply = {
        let ctl = ctl.clone();
        Callback::from(move |effects| ctl.apply(effects))
    };
    use_log_effects(&handle.live, role, enabled, apply);
    {
        // The broker's answers come without a change of the log: tie them each time.
        let ctl = ctl.clone();
        use_effect(move || ctl.settle());
    }
    let on_pick = {
        let ctl = ctl.clone();
        Callback::from(move |files| ctl.pick(files))
    };
    let on_accept = {
        let ctl = ctl.clone();
        Callback::from(move |file| {
            let _ = ctl.act(Action::AcceptFile { file });
        })
    };
    let on_refuse = {
        let ctl = ctl.clone();
        Callback::from(move |file| {
            let _ = ctl.act(Action::RefuseFile { file });
        })
    };
    let on_cancel = {
        let ctl = ctl.clone();
        Callback::from(move |file| ctl.cancel(file))
    };
    let connection = ctl.link.borrow().as_ref().map(FilesLink::connection);
    Transfers {
        transfers: ctl.view(),
        error: (*error).clone(),
        on_pick,
        on_accept,
        on_refuse,
        on_cancel,
        connection,
        code: (*code).clone(),
    }
}
