//! The technician's incoming media: one answering peer connection per media, made when
//! the grant comes in the log (so that making it, which takes the browser milliseconds,
//! is done before the customer's offer arrives) or else when the offer does, answering
//! the offer while the grant stands, and closed when the log's effects say the media
//! stopped or its link closed (revoked, the end), or the customer hung up. The streams
//! it receives are what the screen and camera views play.

use std::cell::RefCell;
use std::rc::Rc;

use connectit_protocol::wire::SignalBody;
use connectit_protocol::{Link, Media, PathFailure, Role};
use web_sys::{MediaStream, RtcPeerConnection};
use yew::prelude::*;

use crate::rtc::{Peer, PeerEvent, PeerRole};
use crate::session::live::Live;
use crate::session::{use_log_effects, Effect, SessionHandle, Signals};

/// What the views show of one incoming media.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncomingMedia {
    pub stream: Option<MediaStream>,
    /// The connection, for its statistics (how it travels).
    pub connection: Option<RtcPeerConnection>,
    /// This side gave the connection up: no path was found.
    pub failed: Option<PathFailure>,
    /// The connection's verification code, once it is connected.
    pub code: Option<String>,
}

/// The streams received, for the views.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Incoming {
    pub screen: IncomingMedia,
    pub camera: IncomingMedia,
}

impl Incoming {
    pub fn get(&self, media: Media) -> Option<MediaStream> {
        self.media(media).stream.clone()
    }

    pub fn media(&self, media: Media) -> &IncomingMedia {
        match media {
            Media::Screen => &self.screen,
            Media::Camera => &self.camera,
        }
    }

    fn slot(&mut self, media: Media) -> &mut IncomingMedia {
        match media {
            Media::Screen => &mut self.screen,
            Media::Camera => &mut self.camera,
        }
    }
}

#[derive(Default)]
struct Peers {
    screen: Option<Peer>,
    camera: Option<Peer>,
}

impl Peers {
    fn slot(&mut self, media: Media) -> &mut Option<Peer> {
        match media {
            Media::Screen => &mut self.screen,
            Media::Camera => &mut self.camera,
        }
    }
}

#[derive(Clone)]
struct Ctl {
    peers: Rc<RefCell<Peers>>,
    /// Connections made when the grant came, for the first offer.
    ready: Rc<RefCell<Peers>>,
    /// The session as of the last render.
    live: Rc<RefCell<UseReducerHandle<Live>>>,
    signals: Signals,
    streams: UseStateHandle<Incoming>,
    /// The streams as last set (the state handle's value may be older).
    current: Rc<RefCell<Incoming>>,
    /// The session's id (in the verification code).
    session: Rc<str>,
}

impl Ctl {
    fn allowed(&self, media: Media) -> bool {
        self.live.borrow().state.may_open(Link::from(media))
    }

    /// Changes what the views show of `media`.
    fn update(&self, media: Media, change: impl FnOnce(&mut IncomingMedia)) {
        let mut current = self.current.borrow_mut();
        change(current.slot(media));
        self.streams.set(current.clone());
    }

    fn set_stream(&self, media: Media, stream: Option<MediaStream>) {
        self.update(media, |m| m.stream = stream);
    }

    fn signal(&self, media: Media, body: SignalBody) {
        match body {
            SignalBody::Hangup => self.close(media),
            SignalBody::Offer { .. } => {
                if !self.allowed(media) {
                    return;
                }
                let exists = self.peers.borrow_mut().slot(media).is_some();
                let mut made = None;
                if !exists {
                    let ready = self.ready.borrow_mut().slot(media).take();
                    match ready.map_or_else(|| self.new_peer(media), Ok) {
                        Ok(peer) => {
                            made = Some(peer.connection());
                            *self.peers.borrow_mut().slot(media) = Some(peer);
                        }
                        Err(_) => return,
                    }
                }
                if let Some(peer) = self.peers.borrow_mut().slot(media).as_ref() {
                    peer.receive(body);
                }
                // Shown after the answer is under way (a redraw queued first would run
                // first).
                if let Some(connection) = made {
                    self.update(media, |m| {
                        m.connection = Some(connection);
                        m.failed = None;
                    });
                }
            }
            SignalBody::Candidate { .. } | SignalBody::Answer { .. } => {
                if let Some(peer) = self.peers.borrow_mut().slot(media).as_ref() {
                    peer.receive(body);
                }
            }
        }
    }

    /// A new answering connection for `media`.
    fn new_peer(&self, media: Media) -> Result<Peer, crate::rtc::RtcError> {
        let on_event = {
            let ctl = self.clone();
            Callback::from(move |event| ctl.peer_event(media, event))
        };
        let ice = self.live.borrow().ice.clone();
        Peer::new(PeerRole::Answerer, &ice, on_event)
    }

    /// Makes `media`'s connection before the customer's offer (a failure here is met
    /// again when the offer comes).
    fn prepare(&self, media: Media) {
        let idle = self.peers.borrow_mut().slot(media).is_none()
            && self.ready.borrow_mut().slot(media).is_none();
        if idle {
            if let Ok(peer) = self.new_peer(media) {
                *self.ready.borrow_mut().slot(media) = Some(peer);
            }
        }
    }

    fn peer_event(&self, media: Media, event: PeerEvent) {
        match event {
            PeerEvent::Signal(body) => {
                if self.allowed(media) {
                    let _ = self.signals.send(media, &body);
                }
            }
            PeerEvent::Remote(stream) => self.set_stream(media, Some(stream)),
            // A connection that cannot take the customer's offer is made anew on the
            // next one.
            PeerEvent::Failed(_) => self.close(media),
            // No path: the view says so (and the customer's side logs it).
            PeerEvent::GaveUp(reason) => {
                self.close(media);
                self.update(media, |m| m.failed = Some(reason));
            }
            PeerEvent::Connected { local, remote } => {
                let code = crate::rtc::verify::code(&self.session, &local, &remote);
                self.update(media, |m| m.code = code);
            }
            PeerEvent::Restarted | PeerEvent::Channel(_) => {}
        }
    }

    fn close(&self, media: Media) {
        let peer = self.peers.borrow_mut().slot(media).take();
        drop(peer);
        let ready = self.ready.borrow_mut().slot(media).take();
        drop(ready);
        let shown = self.current.borrow_mut().slot(media).clone();
        if shown.stream.is_some() || shown.connection.is_some() {
            self.update(media, |m| {
                m.stream = None;
                m.connection = None;
            });
        }
    }

    /// Closes what the log no longer allows, or what it says stopped.
    fn apply(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                // Granted: ready for the offer that follows.
                Effect::Open(link) => {
                    if let Some(media) = link.media() {
                        self.prepare(media);
                    }
                }
                Effect::Close(link) => {
                    if let Some(media) = link.media() {
                        self.close(media);
                    }
                }
                Effect::Stopped(media) => self.close(media),
                _ => {}
            }
        }
    }
}

#[hook]
pub fn use_technician_media(handle: &SessionHandle, in_charge: bool, session: &str) -> Incoming {
    let streams = use_state(Incoming::default);
    let live = handle.live.clone();
    let ctl = Ctl {
        peers: use_mut_ref(Peers::default),
        ready: use_mut_ref(Peers::default),
        live: use_mut_ref(move || live),
        signals: handle.signals.clone(),
        streams: streams.clone(),
        current: use_mut_ref(Incoming::default),
        session: session.into(),
    };
    *ctl.live.borrow_mut() = handle.live.clone();
    {
        let ctl = ctl.clone();
        use_effect_with((), move |_| {
            let listener = {
                let ctl = ctl.clone();
                Callback::from(move |(media, body)| ctl.signal(media, body))
            };
            ctl.signals.listen(Some(listener));
            move || {
                ctl.signals.listen(None);
                let peers = std::mem::take(&mut *ctl.peers.borrow_mut());
                drop(peers);
                let ready = std::mem::take(&mut *ctl.ready.borrow_mut());
                drop(ready);
            }
        });
    }
    let apply = {
        let ctl = ctl.clone();
        Callback::from(move |effects| ctl.apply(effects))
    };
    use_log_effects(&handle.live, Role::Technician, in_charge, apply);
    (*streams).clone()
}
