//! The transfers of one session, on one side: `use_transfers` drives them from the
//! log. Picked files are offered (after the size check); once the log says a file of
//! ours is accepted, its channel opens and [`send_blob`] runs, then `FileSent`. Bytes of
//! a file for us are hashed as they arrive; with every byte and the sender's
//! `FileSent`, the hashes are compared: `FileDelivered` and a download link, or
//! `FileFailed{HashMismatch}` and nothing kept. Cancel, a failure in the log (revoked,
//! ended, the other side's cancel) or a closed channel stop the transfer here: the
//! channel closes, reads stop, and the bytes are dropped.
//!
//! Every channel, listener, timer and object URL is owned by a [`Local`] and released
//! with it; the files link is dropped when no file permission stands, and on unmount.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use connectit_protocol::files::safe_file_name;
use connectit_protocol::wire::SignalBody;
use connectit_protocol::{
    check_text, files, Action, EntryKind, FileFailure, FileStatus, FileTransfer, Link, LogEntry,
    Phase, Role,
};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use js_sys::ArrayBuffer;
use wasm_bindgen::JsCast;
use web_sys::{Blob, File, MessageEvent, RtcDataChannel, RtcDataChannelState, RtcPeerConnection};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::link::{file_of, FilesLink, CONTROL_LABEL};
use super::meter::Meter;
use super::receive::Receiver;
use super::save::{save, ObjectUrl};
use super::send::{send_blob, SendError};
use crate::rtc::PeerEvent;
use crate::session::live::{Answer, Live};
use crate::session::SessionHandle;
use crate::socket::NotConnected;
use crate::{clock, text};

/// How long a closed channel may wait for the log to say why, before this side says
/// the connection was lost.
pub const LOST_GRACE_MS: u32 = 2_000;

/// How far a transfer got, shared with the task that moves its bytes and read by the
/// row that shows it.
#[derive(Default)]
pub struct Progress {
    /// Bytes handed to the channel (sender) or received (receiver).
    moved: Cell<u64>,
    /// The sender's channel: what still waits in it is not sent yet.
    channel: RefCell<Option<RtcDataChannel>>,
    meter: RefCell<Meter>,
}

impl Progress {
    /// Bytes done: received, or handed to the channel and gone from its buffer.
    pub fn done(&self) -> u64 {
        let moved = self.moved.get();
        match self.channel.borrow().as_ref() {
            Some(c) if c.ready_state() == RtcDataChannelState::Open => {
                moved.saturating_sub(u64::from(c.buffered_amount()))
            }
            _ => moved,
        }
    }

    /// Notes the progress at `now_ms`: (bytes done, bytes per second, seconds left).
    pub fn sample(&self, now_ms: f64, size: u64) -> (u64, Option<f64>, Option<f64>) {
        let done = self.done().min(size);
        let mut meter = self.meter.borrow_mut();
        meter.record(now_ms, done);
        (done, meter.speed(), meter.seconds_left(size))
    }

    /// A progress at `moved` bytes (for tests and previews).
    pub fn at(moved: u64) -> Progress {
        let progress = Progress::default();
        progress.moved.set(moved);
        progress
    }
}

/// What this page holds for one transfer.
#[derive(Default)]
struct Local {
    /// Our file to send (the sender's page that picked it).
    source: Option<Blob>,
    channel: Option<RtcDataChannel>,
    listeners: Vec<EventListener>,
    /// Tells the sending task to stop.
    stop: Rc<Cell<bool>>,
    progress: Rc<Progress>,
    receiver: Option<Receiver>,
    /// The verified file, for the download link.
    url: Option<ObjectUrl>,
    started: bool,
    saved: bool,
    /// Nothing more happens here (finished, failed or stopped).
    done: bool,
    /// This side sent the transfer's last word (sent/delivered/failed).
    reported: bool,
    /// The wait after a closed channel.
    lost: Option<Timeout>,
}

impl Local {
    fn halt(&mut self) {
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

/// A picked file whose offer is on its way.
struct Queued {
    /// The `OfferFile` action's id.
    id: u32,
    name: String,
    blob: Blob,
    /// When it was offered (local clock), to give up on an answer lost with the socket.
    at: f64,
}

/// How long an offer may wait for its answer before it counts as lost (when the
/// session no longer lists it as pending).
pub const OFFER_ANSWER_MS: f64 = 10_000.0;

/// One transfer as the panel shows it.
#[derive(Clone)]
pub struct TransferView {
    pub transfer: FileTransfer,
    /// Whether this side sends it.
    pub outgoing: bool,
    pub progress: Rc<Progress>,
    /// The verified file's `blob:` URL (incoming, delivered).
    pub url: Option<AttrValue>,
}

impl PartialEq for TransferView {
    fn eq(&self, other: &Self) -> bool {
        self.transfer == other.transfer
            && self.outgoing == other.outgoing
            && Rc::ptr_eq(&self.progress, &other.progress)
            && self.url == other.url
    }
}

/// The files as a component uses them.
pub struct Transfers {
    pub transfers: Vec<TransferView>,
    /// A file refused before it was offered (too large), or a refused offer.
    pub error: Option<String>,
    /// Offers these files (checks the size first).
    pub on_pick: Callback<Vec<File>>,
    pub on_accept: Callback<u32>,
    pub on_refuse: Callback<u32>,
    pub on_cancel: Callback<u32>,
    /// The files link's connection, if there is one (for its round-trip time).
    pub connection: Option<RtcPeerConnection>,
}

#[derive(Clone)]
struct Ctl {
    role: Role,
    max_bytes: u64,
    locals: Rc<RefCell<BTreeMap<u32, Local>>>,
    queue: Rc<RefCell<Vec<Queued>>>,
    link: Rc<RefCell<Option<FilesLink>>>,
    /// The session as of the last render.
    live: Rc<RefCell<Rc<Live>>>,
    /// The last entry looked at for the technician's return.
    seen: Rc<RefCell<u64>>,
    act: Callback<Action, Result<u32, NotConnected>>,
    signals: crate::session::Signals,
    error: UseStateHandle<Option<String>>,
}

impl Ctl {
    fn act(&self, action: Action) -> Result<u32, NotConnected> {
        self.act.emit(action)
    }

    fn transfer(&self, file: u32) -> Option<FileTransfer> {
        self.live.borrow().state.transfer(file).ok().cloned()
    }

    fn link_allowed(&self) -> bool {
        let live = self.live.borrow();
        live.state.phase == Phase::Active && Link::Files.allowed(&live.state.granted)
    }

    fn with_local<R>(&self, file: u32, f: impl FnOnce(&mut Local) -> R) -> R {
        let mut locals = self.locals.borrow_mut();
        f(locals.entry(file).or_default())
    }

    // ---- Offers ---------------------------------------------------------------------

    fn pick(&self, picked: Vec<File>) {
        self.error.set(None);
        for file in picked {
            let name = file.name();
            let size = file.size() as u64;
            if size > self.max_bytes {
                self.error
                    .set(Some(text::file_too_large(&name, size, self.max_bytes)));
                continue;
            }
            let name = offer_name(&name);
            match self.act(Action::OfferFile {
                name: name.clone(),
                size,
            }) {
                Ok(id) => self.queue.borrow_mut().push(Queued {
                    id,
                    name,
                    blob: file.into(),
                    at: clock::local_now(),
                }),
                Err(NotConnected) => {
                    self.error.set(Some(text::NOT_CONNECTED.to_owned()));
                    return;
                }
            }
        }
    }

    /// Ties answered offers to their transfer ids, or explains a refusal.
    fn bind_offers(&self) {
        let live = self.live.borrow().clone();
        let now = clock::local_now();
        let mut bound = Vec::new();
        self.queue.borrow_mut().retain(|q| match live.answer(q.id) {
            Some(Answer::Refused(code)) => {
                self.error
                    .set(Some(text::file_not_offered(&q.name, &text::error(code))));
                false
            }
            Some(Answer::Stored(seq)) => match offered_in(&live.entries, seq) {
                Some(file) => {
                    bound.push((file, q.blob.clone()));
                    false
                }
                None => true,
            },
            // Lost with the connection: no answer will come.
            None => live.pending.iter().any(|(id, _)| *id == q.id) || now - q.at < OFFER_ANSWER_MS,
        });
        for (file, blob) in bound {
            self.with_local(file, |l| l.source = Some(blob));
        }
    }

    // ---- The link -------------------------------------------------------------------

    fn sync_link(&self) {
        if !self.link_allowed() {
            if self.link.borrow().is_some() {
                self.drop_link();
            }
            return;
        }
        if self.role != Role::Customer {
            return;
        }
        let back = {
            let live = self.live.borrow();
            let seen = *self.seen.borrow();
            let back = live.entries.iter().filter(|e| e.seq > seen).any(|e| {
                e.kind
                    == EntryKind::Reconnected {
                        role: Role::Technician,
                    }
            });
            if let Some(last) = live.entries.last() {
                *self.seen.borrow_mut() = last.seq;
            }
            back
        };
        if self.link.borrow().is_none() || back {
            self.make_link();
        }
    }

    /// The customer's side: a new link (after telling the other side to drop theirs).
    fn make_link(&self) {
        if self.link.borrow().is_some() {
            self.drop_link();
        }
        let _ = self.signals.send_files(&SignalBody::Hangup);
        let ice = self.live.borrow().ice_servers.clone();
        if let Ok(link) = FilesLink::offer(&ice, self.peer_events()) {
            *self.link.borrow_mut() = Some(link);
        }
    }

    fn peer_events(&self) -> Callback<PeerEvent> {
        let ctl = self.clone();
        Callback::from(move |event| ctl.peer_event(event))
    }

    /// Drops the link; transfers on it stop (and are reported lost, unless the log
    /// says why first).
    fn drop_link(&self) {
        let old = self.link.borrow_mut().take();
        drop(old);
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
            PeerEvent::Failed(_) | PeerEvent::Restarted | PeerEvent::Remote(_) => {}
        }
    }

    /// A signal for the files link from the other member.
    fn signal(&self, body: SignalBody) {
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
                    let ice = self.live.borrow().ice_servers.clone();
                    match FilesLink::answer(&ice, self.peer_events()) {
                        Ok(link) => *self.link.borrow_mut() = Some(link),
                        Err(_) => return,
                    }
                }
                if let Some(link) = self.link.borrow().as_ref() {
                    link.receive(body);
                }
                // Transfers accepted before the link came can start now.
                self.sync();
            }
            SignalBody::Offer { .. } => {}
            SignalBody::Answer { .. } | SignalBody::Candidate { .. } => {
                if let Some(link) = self.link.borrow().as_ref() {
                    link.receive(body);
                }
            }
        }
    }

    // ---- Channels -------------------------------------------------------------------

    fn incoming_channel(&self, channel: RtcDataChannel) {
        let label = channel.label();
        if label == CONTROL_LABEL {
            if let Some(link) = self.link.borrow_mut().as_mut() {
                link.keep_control(channel);
            }
            return;
        }
        let Some(file) = file_of(&label) else {
            channel.close();
            return;
        };
        let wanted = match self.transfer(file) {
            Some(t) => t.from != self.role && t.status.in_flight(),
            // The log has not told us yet: the sender saw it first.
            None => true,
        };
        let done = self.locals.borrow().get(&file).is_some_and(|l| l.done);
        if !wanted || done {
            channel.close();
            return;
        }
        let on_message = {
            let ctl = self.clone();
            EventListener::new(&channel, "message", move |event| {
                if let Some(event) = event.dyn_ref::<MessageEvent>() {
                    if let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() {
                        ctl.bytes(file, &buffer);
                    }
                }
            })
        };
        let on_close = self.close_listener(file, &channel);
        self.with_local(file, |l| {
            if let Some(old) = l.channel.replace(channel) {
                old.close();
            }
            l.listeners = vec![on_message, on_close];
        });
    }

    fn close_listener(&self, file: u32, channel: &RtcDataChannel) -> EventListener {
        let ctl = self.clone();
        EventListener::new(channel, "close", move |_| ctl.channel_closed(file))
    }

    /// A transfer's channel closed: stop here, and say the connection was lost unless
    /// the log explains it within [`LOST_GRACE_MS`].
    fn channel_closed(&self, file: u32) {
        let ctl = self.clone();
        self.with_local(file, |l| {
            if l.done {
                return;
            }
            l.stop.set(true);
            l.listeners.clear();
            l.channel.take();
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

    // ---- Sending --------------------------------------------------------------------

    fn start_sending(&self, file: u32) {
        let link = self.link.borrow();
        let Some(link) = link.as_ref() else {
            // Wait for the link (the technician's comes with the customer's offer).
            return;
        };
        let Some(blob) = self
            .locals
            .borrow()
            .get(&file)
            .and_then(|l| l.source.clone())
        else {
            return;
        };
        let channel = match link.open(file) {
            Ok(channel) => channel,
            Err(_) => {
                self.report(file, FileFailure::ConnectionLost);
                return self.halt(file);
            }
        };
        let chunk = link.chunk_bytes();
        let on_close = self.close_listener(file, &channel);
        let (stop, progress) = self.with_local(file, |l| {
            l.started = true;
            l.channel = Some(channel.clone());
            l.listeners = vec![on_close];
            *l.progress.channel.borrow_mut() = Some(channel.clone());
            (l.stop.clone(), l.progress.clone())
        });
        let ctl = self.clone();
        spawn_local(async move {
            let result = send_blob(&blob, &channel, chunk, &stop, &progress.moved).await;
            ctl.sent(file, result);
        });
    }

    fn sent(&self, file: u32, result: Result<String, SendError>) {
        match result {
            Ok(sha256) => {
                let accepted = self
                    .transfer(file)
                    .is_some_and(|t| t.status == FileStatus::Accepted);
                if accepted {
                    let _ = self.act(Action::FileSent { file, sha256 });
                }
            }
            Err(SendError::Stopped) => {}
            Err(SendError::Closed) => self.channel_closed(file),
            Err(SendError::Unreadable) => {
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
        }
    }

    // ---- Receiving ------------------------------------------------------------------

    fn bytes(&self, file: u32, buffer: &ArrayBuffer) {
        let size = self.transfer(file).map(|t| t.size);
        let outcome = self.with_local(file, |l| {
            if l.done {
                return None;
            }
            let receiver = l.receiver.get_or_insert_with(Receiver::new);
            if receiver.push(buffer).is_err() {
                return Some(Err(FileFailure::Unreadable));
            }
            let received = receiver.received();
            l.progress.moved.set(received);
            Some(Ok(received))
        });
        match (outcome, size) {
            (Some(Err(reason)), _) => {
                self.report(file, reason);
                self.halt(file);
            }
            (Some(Ok(received)), Some(size)) if received > size => {
                // More than was offered: not the file that was offered.
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
            (Some(Ok(received)), Some(size)) if received == size => self.check(file),
            _ => {}
        }
    }

    /// With every byte here and the sender's hash in the log: deliver or refuse.
    fn check(&self, file: u32) {
        let Some(t) = self.transfer(file) else { return };
        let Some(expected) = t.sha256.clone() else {
            return;
        };
        if t.status != FileStatus::Sent || t.from == self.role {
            return;
        }
        let receiver = self.with_local(file, |l| {
            if l.done || l.reported || l.url.is_some() {
                return None;
            }
            match l.receiver.as_ref() {
                Some(r) if r.received() == t.size => l.receiver.take(),
                None if t.size == 0 => Some(Receiver::new()),
                _ => None,
            }
        });
        let Some(receiver) = receiver else { return };
        let verdict = receiver
            .finish()
            .ok()
            .and_then(|(sha256, blob)| Some((sha256, ObjectUrl::new(&blob).ok()?)));
        match verdict {
            Some((sha256, url)) if sha256 == expected => {
                self.with_local(file, |l| {
                    l.url = Some(url);
                    l.reported = true;
                });
                let _ = self.act(Action::FileDelivered { file, sha256 });
            }
            Some(_) => {
                self.report(file, FileFailure::HashMismatch);
                self.halt(file);
            }
            None => {
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
        }
    }

    // ---- Ending ---------------------------------------------------------------------

    /// Logs why `file` stopped, once, if the log does not say so already.
    fn report(&self, file: u32, reason: FileFailure) {
        let first = self.with_local(file, |l| !std::mem::replace(&mut l.reported, true));
        let in_flight = self.transfer(file).is_some_and(|t| t.status.in_flight());
        if first && in_flight {
            let _ = self.act(Action::FileFailed { file, reason });
        }
    }

    fn halt(&self, file: u32) {
        self.with_local(file, Local::halt);
    }

    fn cancel(&self, file: u32) {
        self.report(file, FileFailure::Cancelled { by: self.role });
        self.halt(file);
    }

    // ---- Following the log ----------------------------------------------------------

    fn sync(&self) {
        self.sync_link();
        self.bind_offers();
        let settled = self.queue.borrow().is_empty();
        let files = self.live.borrow().state.files.clone();
        for t in &files {
            self.sync_one(t, settled);
        }
    }

    fn sync_one(&self, t: &FileTransfer, settled: bool) {
        let file = t.file;
        let mine = t.from == self.role;
        match t.status {
            FileStatus::Offered | FileStatus::Accepted | FileStatus::Sent if mine => {
                let (has_source, started, done) =
                    self.with_local(file, |l| (l.source.is_some(), l.started, l.done));
                if done {
                    return;
                }
                if !has_source {
                    // Offered by a page of ours that is gone (a reload): nobody can
                    // send it any more.
                    if settled {
                        self.report(file, FileFailure::ConnectionLost);
                        self.halt(file);
                    }
                } else if t.status == FileStatus::Accepted && !started {
                    self.start_sending(file);
                }
            }
            FileStatus::Sent => self.check(file),
            FileStatus::Offered | FileStatus::Accepted => {}
            FileStatus::Delivered => {
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
            FileStatus::Refused | FileStatus::Failed { .. } => {
                let url = self.with_local(file, |l| {
                    l.halt();
                    l.url.take()
                });
                drop(url);
            }
        }
    }

    fn view(&self) -> Vec<TransferView> {
        let live = self.live.borrow();
        let mut locals = self.locals.borrow_mut();
        live.state
            .files
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
                }
            })
            .collect()
    }

    fn clear(&self) {
        let link = self.link.borrow_mut().take();
        drop(link);
        let locals = std::mem::take(&mut *self.locals.borrow_mut());
        drop(locals);
        self.queue.borrow_mut().clear();
    }
}

/// The name a file is offered under: its own, unless the log would refuse it (control
/// characters, too long), then the cleaned one.
pub fn offer_name(name: &str) -> String {
    if check_text(name, files::FILE_NAME_MAX_CHARS).is_ok() {
        name.to_owned()
    } else {
        let clean: String = safe_file_name(name)
            .chars()
            .take(files::FILE_NAME_MAX_CHARS)
            .collect();
        clean
    }
}

/// The transfer id of the `FileOffered` entry stored as `seq`.
fn offered_in(entries: &[LogEntry], seq: u64) -> Option<u32> {
    entries
        .iter()
        .rev()
        .find(|e| e.seq == seq)
        .and_then(|e| match e.kind {
            EntryKind::FileOffered { file, .. } => Some(file),
            _ => None,
        })
}

/// The transfers of the session in `handle`, for a member in `role`; `max_bytes` is the
/// installation's size limit.
#[hook]
pub fn use_transfers(handle: &SessionHandle, role: Role, max_bytes: u64) -> Transfers {
    let error = use_state(|| None::<String>);
    let ctl = Ctl {
        role,
        max_bytes,
        locals: use_mut_ref(BTreeMap::new),
        queue: use_mut_ref(Vec::new),
        link: use_mut_ref(|| None),
        live: use_mut_ref(|| Rc::new(Live::default())),
        seen: use_mut_ref(|| 0),
        act: handle.act.clone(),
        signals: handle.signals.clone(),
        error: error.clone(),
    };
    *ctl.live.borrow_mut() = Rc::new((*handle.live).clone());
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
    {
        let ctl = ctl.clone();
        use_effect(move || ctl.sync());
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
    }
}
