//! One `RTCPeerConnection` for one media, or for the files link's data channels. The
//! customer's side ([`PeerRole::Offerer`]) sends the track (or opens the first data
//! channel) and always makes the offers, also to restart ICE when the connection fails
//! (or stays disconnected for [`DISCONNECTED_GRACE_MS`]); the technician's side
//! ([`PeerRole::Answerer`]) answers and receives the stream.
//!
//! Signalling steps run one at a time, in arrival order, on a queue; candidates that
//! come before the remote description wait for it. [`Peer`] owns the connection and
//! every listener; dropping it closes the connection and detaches them.
//!
//! A connection that is not `connected` within [`CONNECT_LIMIT_MS`] of its first
//! signalling step (or of a restart), or that fails again after [`MAX_RESTARTS`]
//! restarts, is given up: both sides hear [`PeerEvent::GaveUp`] with why, instead of
//! "Connecting…" for ever. A connection made ahead of its first step (so that making it
//! is not on the way to the first frame) waits without a deadline.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use connectit_protocol::wire::SignalBody;
use connectit_protocol::{IceConfig, PathFailure};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcDataChannel, RtcDataChannelEvent, RtcDataChannelInit,
    RtcIceCandidateInit, RtcIceConnectionState, RtcOfferOptions, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcRtpSender, RtcSdpType, RtcTrackEvent,
};
use yew::Callback;

use super::signal::{candidate_body, candidate_init, configuration, description, sdp_of};
use super::RtcError;

/// How long a connection may stay `disconnected` before the offerer restarts ICE.
pub const DISCONNECTED_GRACE_MS: u32 = 5_000;
/// ICE restarts in a row without reaching `connected`, after which the offerer stops
/// trying (the other side is gone; a reconnection will make a new connection).
pub const MAX_RESTARTS: u32 = 3;
/// How long a connection may take to reach `connected` (from its start, or from a
/// restart) before it is given up: gathering through a relay takes a few seconds at
/// most; longer means no path exists.
pub const CONNECT_LIMIT_MS: u32 = 15_000;

/// Which side of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    /// Sends the media and makes every offer (the customer).
    Offerer,
    /// Receives the media and answers (the technician).
    Answerer,
}

/// What a peer connection tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// Send this signal to the other member.
    Signal(SignalBody),
    /// The other member's media arrived.
    Remote(MediaStream),
    /// The other member opened a data channel.
    Channel(RtcDataChannel),
    /// The connection failed and ICE was restarted (the owner logs it).
    Restarted,
    /// ICE connected: the local and remote descriptions' SDP, for the verification
    /// code ([`crate::rtc::verify`]). Said again after each restart.
    Connected { local: String, remote: String },
    /// No path could be found: this connection will not carry anything (the owner says
    /// so, and logs it on the customer's side).
    GaveUp(PathFailure),
    /// A signalling step failed.
    Failed(RtcError),
}

/// A step of the signalling, run in order.
enum Step {
    Offer { ice_restart: bool },
    Remote(SignalBody),
}

struct Inner {
    pc: RtcPeerConnection,
    role: PeerRole,
    on_event: Callback<PeerEvent>,
    /// The sender of our track (offerer), for pause and resume.
    sender: RefCell<Option<RtcRtpSender>>,
    /// Steps waiting to run.
    steps: RefCell<VecDeque<Step>>,
    /// Whether a task is running the steps.
    busy: Cell<bool>,
    /// Remote candidates that came before the remote description.
    early: RefCell<Vec<RtcIceCandidateInit>>,
    /// The pending restart while `disconnected`.
    grace: RefCell<Option<Timeout>>,
    /// Restarts since the connection last was `connected`.
    restarts: Cell<u32>,
    /// Gives the connection up if it is not `connected` in time.
    deadline: RefCell<Option<Timeout>>,
    /// Whether [`PeerEvent::GaveUp`] was said (once).
    gave_up: Cell<bool>,
    closed: Cell<bool>,
    /// Whether a signalling step was queued yet (the deadline runs from the first).
    started: Cell<bool>,
    /// The other side's stream, arrived while signalling steps run: handed over once
    /// they are done, so that showing it (a redraw of the page) does not hold back the
    /// answer on its way.
    remote: RefCell<Option<MediaStream>>,
    /// The connection's event listeners (dropped with it).
    listeners: RefCell<Vec<EventListener>>,
}

/// A peer connection and everything attached to it.
pub struct Peer {
    inner: Rc<Inner>,
}

impl Peer {
    /// A new connection with these ICE servers and policy; `on_event` hears what needs
    /// doing.
    pub fn new(
        role: PeerRole,
        ice: &IceConfig,
        on_event: Callback<PeerEvent>,
    ) -> Result<Peer, RtcError> {
        let pc = RtcPeerConnection::new_with_configuration(&configuration(ice))?;
        let inner = Rc::new(Inner {
            pc,
            role,
            on_event,
            sender: RefCell::new(None),
            steps: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            early: RefCell::new(Vec::new()),
            grace: RefCell::new(None),
            restarts: Cell::new(0),
            deadline: RefCell::new(None),
            gave_up: Cell::new(false),
            closed: Cell::new(false),
            started: Cell::new(false),
            remote: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });
        let listeners = listen(&inner);
        *inner.listeners.borrow_mut() = listeners;
        Ok(Peer { inner })
    }

    /// Sends `track` (of `stream`) to the other side.
    pub fn send_track(&self, track: &MediaStreamTrack, stream: &MediaStream) {
        let sender = self.inner.pc.add_track_0(track, stream);
        *self.inner.sender.borrow_mut() = Some(sender);
    }

    /// Tunes the track being sent for reading text: the encoder is told the content is
    /// detail (`contentHint`), and under a tight bitrate keeps the resolution and drops
    /// frames instead (`degradationPreference: maintain-resolution`), within `max_kbps`
    /// when the organisation caps it. Browsers that lack a part ignore it.
    pub fn tune_for_text(&self, track: &MediaStreamTrack, max_kbps: Option<u32>) {
        use wasm_bindgen::JsValue;
        let _ = js_sys::Reflect::set(track, &"contentHint".into(), &"detail".into());
        let Some(sender) = self.inner.sender.borrow().clone() else {
            return;
        };
        let params: JsValue = sender.get_parameters().into();
        let _ = js_sys::Reflect::set(
            &params,
            &"degradationPreference".into(),
            &"maintain-resolution".into(),
        );
        if let Some(kbps) = max_kbps {
            let encodings = js_sys::Reflect::get(&params, &"encodings".into())
                .ok()
                .map(|e| js_sys::Array::from(&e))
                .unwrap_or_default();
            if encodings.length() == 0 {
                encodings.push(&js_sys::Object::new());
                let _ = js_sys::Reflect::set(&params, &"encodings".into(), &encodings);
            }
            for encoding in encodings.iter() {
                let bps = JsValue::from_f64(f64::from(kbps) * 1000.0);
                let _ = js_sys::Reflect::set(&encoding, &"maxBitrate".into(), &bps);
            }
        }
        let promise = sender.set_parameters_with_parameters(params.unchecked_ref());
        let on_event = self.inner.on_event.clone();
        spawn_local(async move {
            if let Err(e) = JsFuture::from(promise).await {
                on_event.emit(PeerEvent::Failed(e.into()));
            }
        });
    }

    /// Makes an offer (queued after any step in progress).
    pub fn offer(&self, ice_restart: bool) {
        enqueue(&self.inner, Step::Offer { ice_restart });
    }

    /// Handles a signal from the other member (an offer, answer or candidate).
    pub fn receive(&self, body: SignalBody) {
        if !matches!(body, SignalBody::Hangup) {
            enqueue(&self.inner, Step::Remote(body));
        }
    }

    /// Stops sending frames without renegotiating (`replaceTrack(null)`), or sends
    /// `track` again.
    pub fn set_track(&self, track: Option<&MediaStreamTrack>) {
        let Some(sender) = self.inner.sender.borrow().clone() else {
            return;
        };
        let promise = sender.replace_track(track);
        let on_event = self.inner.on_event.clone();
        spawn_local(async move {
            if let Err(e) = JsFuture::from(promise).await {
                on_event.emit(PeerEvent::Failed(e.into()));
            }
        });
    }

    /// The ICE connection state, as the browser names it (`connected`, `failed`…).
    pub fn ice_state(&self) -> RtcIceConnectionState {
        self.inner.pc.ice_connection_state()
    }

    /// Opens an ordered, reliable data channel labelled `label` (binary messages arrive
    /// as `ArrayBuffer`s). The caller owns it and closes it.
    pub fn data_channel(&self, label: &str) -> Result<RtcDataChannel, RtcError> {
        if self.inner.closed.get() {
            return Err(RtcError::InvalidState);
        }
        let init = RtcDataChannelInit::new();
        init.set_ordered(true);
        let channel = self
            .inner
            .pc
            .create_data_channel_with_data_channel_dict(label, &init);
        channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
        Ok(channel)
    }

    /// The browser's connection, for its statistics and its SCTP transport.
    pub fn connection(&self) -> RtcPeerConnection {
        self.inner.pc.clone()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let inner = &self.inner;
        inner.closed.set(true);
        inner.grace.borrow_mut().take();
        inner.deadline.borrow_mut().take();
        inner.steps.borrow_mut().clear();
        inner.listeners.borrow_mut().clear();
        inner.pc.close();
    }
}

fn listen(inner: &Rc<Inner>) -> Vec<EventListener> {
    let pc = &inner.pc;
    let weak = Rc::downgrade(inner);
    let on_candidate = {
        let weak = weak.clone();
        EventListener::new(pc, "icecandidate", move |event| {
            let Some(inner) = weak.upgrade() else { return };
            let candidate = event
                .dyn_ref::<RtcPeerConnectionIceEvent>()
                .and_then(|e| e.candidate());
            // `None` marks the end of gathering: nothing to send.
            if let Some(candidate) = candidate {
                if !candidate.candidate().is_empty() {
                    inner
                        .on_event
                        .emit(PeerEvent::Signal(candidate_body(&candidate)));
                }
            }
        })
    };
    let on_track = {
        let weak = weak.clone();
        EventListener::new(pc, "track", move |event| {
            let Some(inner) = weak.upgrade() else { return };
            let Some(event) = event.dyn_ref::<RtcTrackEvent>() else {
                return;
            };
            let stream = event
                .streams()
                .get(0)
                .dyn_into::<MediaStream>()
                .ok()
                .or_else(|| {
                    let tracks = js_sys::Array::of1(&event.track());
                    MediaStream::new_with_tracks(&tracks).ok()
                });
            if let Some(stream) = stream {
                if inner.busy.get() {
                    *inner.remote.borrow_mut() = Some(stream);
                } else {
                    inner.on_event.emit(PeerEvent::Remote(stream));
                }
            }
        })
    };
    let on_channel = {
        let weak = weak.clone();
        EventListener::new(pc, "datachannel", move |event| {
            let Some(inner) = weak.upgrade() else { return };
            if let Some(event) = event.dyn_ref::<RtcDataChannelEvent>() {
                let channel = event.channel();
                channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
                inner.on_event.emit(PeerEvent::Channel(channel));
            }
        })
    };
    let on_ice = EventListener::new(pc, "iceconnectionstatechange", move |_| {
        if let Some(inner) = weak.upgrade() {
            ice_changed(&inner);
        }
    });
    vec![on_candidate, on_track, on_channel, on_ice]
}

/// (Re)starts the time the connection has to reach `connected`.
fn arm_deadline(inner: &Rc<Inner>) {
    let weak = Rc::downgrade(inner);
    let timer = Timeout::new(CONNECT_LIMIT_MS, move || {
        if let Some(inner) = weak.upgrade() {
            inner.deadline.borrow_mut().take();
            if !matches!(
                inner.pc.ice_connection_state(),
                RtcIceConnectionState::Connected | RtcIceConnectionState::Completed
            ) {
                give_up(&inner, PathFailure::TimedOut);
            }
        }
    });
    *inner.deadline.borrow_mut() = Some(timer);
}

/// Says once that no path could be found.
fn give_up(inner: &Rc<Inner>, why: PathFailure) {
    if inner.closed.get() || inner.gave_up.replace(true) {
        return;
    }
    inner.deadline.borrow_mut().take();
    inner.grace.borrow_mut().take();
    inner.on_event.emit(PeerEvent::GaveUp(why));
}

/// Says [`PeerEvent::Connected`] if ICE is connected and both descriptions are set.
/// Called when ICE connects and again when a description is set: ICE can connect before
/// `setRemoteDescription` resolves (the transport has the answer's credentials first),
/// and then `remoteDescription` is still empty at the ICE event.
fn announce_connected(inner: &Inner) {
    if !matches!(
        inner.pc.ice_connection_state(),
        RtcIceConnectionState::Connected | RtcIceConnectionState::Completed
    ) {
        return;
    }
    if let (Some(local), Some(remote)) =
        (inner.pc.local_description(), inner.pc.remote_description())
    {
        inner.on_event.emit(PeerEvent::Connected {
            local: local.sdp(),
            remote: remote.sdp(),
        });
    }
}

fn ice_changed(inner: &Rc<Inner>) {
    if inner.closed.get() {
        return;
    }
    let state = inner.pc.ice_connection_state();
    if matches!(
        state,
        RtcIceConnectionState::Connected | RtcIceConnectionState::Completed
    ) {
        inner.deadline.borrow_mut().take();
        announce_connected(inner);
    }
    if inner.role != PeerRole::Offerer {
        // The answerer does not restart: it gives up when the offerer would have stopped
        // trying, or at the deadline.
        if state == RtcIceConnectionState::Failed && inner.deadline.borrow().is_none() {
            arm_deadline(inner);
        }
        return;
    }
    match state {
        RtcIceConnectionState::Connected | RtcIceConnectionState::Completed => {
            inner.grace.borrow_mut().take();
            inner.restarts.set(0);
        }
        RtcIceConnectionState::Failed => {
            inner.grace.borrow_mut().take();
            if inner.restarts.get() >= MAX_RESTARTS {
                give_up(inner, PathFailure::IceFailed);
            } else {
                restart(inner);
            }
        }
        RtcIceConnectionState::Disconnected => {
            let weak = Rc::downgrade(inner);
            let timer = Timeout::new(DISCONNECTED_GRACE_MS, move || {
                if let Some(inner) = weak.upgrade() {
                    inner.grace.borrow_mut().take();
                    if inner.pc.ice_connection_state() == RtcIceConnectionState::Disconnected {
                        restart(&inner);
                    }
                }
            });
            *inner.grace.borrow_mut() = Some(timer);
        }
        _ => {}
    }
}

/// Restarts ICE with a new offer, unless it has failed too often in a row.
fn restart(inner: &Rc<Inner>) {
    let done = inner.restarts.get();
    if done >= MAX_RESTARTS {
        return;
    }
    inner.restarts.set(done + 1);
    arm_deadline(inner);
    enqueue(inner, Step::Offer { ice_restart: true });
    inner.on_event.emit(PeerEvent::Restarted);
}

fn enqueue(inner: &Rc<Inner>, step: Step) {
    if inner.closed.get() {
        return;
    }
    if !inner.started.replace(true) {
        arm_deadline(inner);
    }
    inner.steps.borrow_mut().push_back(step);
    if inner.busy.replace(true) {
        return;
    }
    let weak = Rc::downgrade(inner);
    spawn_local(run_steps(weak));
}

async fn run_steps(weak: Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let step = inner.steps.borrow_mut().pop_front();
        let Some(step) = step else {
            inner.busy.set(false);
            let remote = inner.remote.borrow_mut().take();
            if let (Some(stream), false) = (remote, inner.closed.get()) {
                inner.on_event.emit(PeerEvent::Remote(stream));
            }
            return;
        };
        if inner.closed.get() {
            inner.busy.set(false);
            return;
        }
        if let Err(error) = run(&inner, step).await {
            if !inner.closed.get() {
                inner.on_event.emit(PeerEvent::Failed(error));
            }
        }
    }
}

async fn run(inner: &Inner, step: Step) -> Result<(), RtcError> {
    let pc = &inner.pc;
    match step {
        Step::Offer { ice_restart } => {
            let options = RtcOfferOptions::new();
            options.set_ice_restart(ice_restart);
            let offer = JsFuture::from(pc.create_offer_with_rtc_offer_options(&options)).await?;
            let sdp = sdp_of(&offer).ok_or(RtcError::InvalidState)?;
            JsFuture::from(pc.set_local_description(&description(RtcSdpType::Offer, &sdp))).await?;
            inner
                .on_event
                .emit(PeerEvent::Signal(SignalBody::Offer { sdp }));
        }
        Step::Remote(SignalBody::Offer { sdp }) => {
            JsFuture::from(pc.set_remote_description(&description(RtcSdpType::Offer, &sdp)))
                .await?;
            add_early(inner).await;
            let answer = JsFuture::from(pc.create_answer()).await?;
            let sdp = sdp_of(&answer).ok_or(RtcError::InvalidState)?;
            JsFuture::from(pc.set_local_description(&description(RtcSdpType::Answer, &sdp)))
                .await?;
            inner
                .on_event
                .emit(PeerEvent::Signal(SignalBody::Answer { sdp }));
            announce_connected(inner);
        }
        Step::Remote(SignalBody::Answer { sdp }) => {
            JsFuture::from(pc.set_remote_description(&description(RtcSdpType::Answer, &sdp)))
                .await?;
            add_early(inner).await;
            announce_connected(inner);
        }
        Step::Remote(SignalBody::Candidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
        }) => {
            let init = candidate_init(&candidate, sdp_mid.as_deref(), sdp_m_line_index);
            if pc.remote_description().is_none() {
                inner.early.borrow_mut().push(init);
            } else {
                add_candidate(pc, &init).await;
            }
        }
        Step::Remote(SignalBody::Hangup) => {}
    }
    Ok(())
}

async fn add_early(inner: &Inner) {
    let early = std::mem::take(&mut *inner.early.borrow_mut());
    for init in early {
        add_candidate(&inner.pc, &init).await;
    }
}

/// Adds a remote candidate; one that does not fit (from an older negotiation) is
/// skipped: the others still connect.
async fn add_candidate(pc: &RtcPeerConnection, init: &RtcIceCandidateInit) {
    let promise = pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(init));
    let _ = JsFuture::from(promise).await;
}
