//! The customer's outgoing media: the captures and their peer connections, driven by
//! the session's log. A grant of "view screen" or "camera" asks the browser for the
//! capture inside the click, then sends the grant without what the customer cancelled
//! (a cancel is a denial, not an error). Once the log shows the grant (the
//! [`Effect::Open`] of its link), the peer connection is made and the customer's side
//! offers, and again when the technician comes back; pause, resume and stop are sent
//! as media changes. A revocation or the end (the link's [`Effect::Close`]), the
//! track's `ended` event (the browser's own "Stop sharing") and `pagehide` stop every
//! track and close the connection.

use std::cell::RefCell;
use std::rc::Rc;

use connectit_protocol::limits::HIDDEN_AREAS_MAX;
use connectit_protocol::wire::SignalBody;
use connectit_protocol::{
    Action, Link, Media, MediaChange, MediaState, Permission, Phase, Role, StopCause,
};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use web_sys::{MediaStream, MediaStreamTrack};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::prompt::Answer;
use super::sharing::Control;
use crate::rtc::areas::Area;
use crate::rtc::redact::Redactor;
use crate::rtc::{capture, Capture, CaptureRequest, Peer, PeerEvent, PeerRole, RtcError};
use crate::session::live::Live;
use crate::session::{use_log_effects, Effect, SessionHandle, Signals};
use crate::socket::NotConnected;

const MEDIA: [Media; 2] = [Media::Screen, Media::Camera];

/// What the page shows of one shared media.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub stream: MediaStream,
    pub paused: bool,
    /// The connection's verification code, once it is connected.
    pub code: Option<String>,
    /// The areas painted over before frames leave the browser.
    pub areas: Vec<Area>,
    /// Which pipeline paints them (`frames` or `canvas`), once one runs.
    pub pipeline: Option<&'static str>,
    /// This browser could not paint areas over.
    pub redact_failed: bool,
}

/// What the page shows of the customer's media.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shares {
    pub screen: Option<Shown>,
    pub camera: Option<Shown>,
}

impl Shares {
    pub fn get(&self, media: Media) -> Option<&Shown> {
        match media {
            Media::Screen => self.screen.as_ref(),
            Media::Camera => self.camera.as_ref(),
        }
    }
}

/// The customer's media as the session component uses it.
pub struct CustomerMedia {
    pub shares: Shares,
    /// A capture that failed for another reason than a refusal.
    pub problem: Option<RtcError>,
    /// Answers the prompt of request `u32` (synchronously: the capture needs the click).
    pub on_answer: Callback<(u32, Answer)>,
    pub on_control: Callback<(Media, Control)>,
    /// Sends a revocation, stopping what it names at once.
    pub on_revoke: Callback<Action>,
    /// The areas of a shared picture to paint over, from now on.
    pub on_areas: Callback<(Media, Vec<Area>)>,
    /// The live media connections (for the round-trip time in system information).
    pub connections: Vec<web_sys::RtcPeerConnection>,
}

/// One media being sent: the capture and, once granted, its connection.
struct Outgoing {
    capture: Capture,
    peer: Option<Peer>,
    /// A connection made while the grant travels to the broker and back, with the id
    /// of the track it carries: [`Ctl::connect`] offers on it (if it still carries what
    /// is sent), so making it is off the way to the first frame.
    ready: Option<(Peer, String)>,
    /// What the connection made ahead said before the grant was in the log (its offer,
    /// its candidates): sent, in order, once it is.
    held: Vec<SignalBody>,
    paused: bool,
    /// Whether `Started` was sent (or the log already shows it live).
    announced: bool,
    /// The connection's verification code, once it is connected.
    code: Option<String>,
    /// Paints areas over, once the customer drew the first (declared after the capture:
    /// dropped after it).
    redactor: Option<Redactor>,
    areas: Vec<Area>,
    redact_failed: bool,
}

impl Outgoing {
    fn new(capture: Capture) -> Outgoing {
        Outgoing {
            capture,
            peer: None,
            ready: None,
            held: Vec::new(),
            paused: false,
            announced: false,
            code: None,
            redactor: None,
            areas: Vec::new(),
            redact_failed: false,
        }
    }

    /// The track that is sent: the capture's, or the painted one.
    fn sent_track(&self) -> &MediaStreamTrack {
        self.redactor
            .as_ref()
            .map_or_else(|| self.capture.track(), Redactor::track)
    }

    fn sent_stream(&self) -> &MediaStream {
        self.redactor
            .as_ref()
            .map_or_else(|| self.capture.stream(), Redactor::stream)
    }
}

#[derive(Default)]
struct Slots {
    screen: Option<Outgoing>,
    camera: Option<Outgoing>,
}

impl Slots {
    fn slot(&mut self, media: Media) -> &mut Option<Outgoing> {
        match media {
            Media::Screen => &mut self.screen,
            Media::Camera => &mut self.camera,
        }
    }
}

/// The controller: cheap to clone, every part shared.
#[derive(Clone)]
struct Ctl {
    slots: Rc<RefCell<Slots>>,
    /// The session as of the last render.
    live: Rc<RefCell<UseReducerHandle<Live>>>,
    act: Callback<Action, Result<u32, NotConnected>>,
    signals: Signals,
    view: UseStateHandle<Shares>,
    problem: UseStateHandle<Option<RtcError>>,
    /// A pending check for streams the log calls live that this page does not send
    /// (left over from before a reload).
    orphan_check: Rc<RefCell<Option<Timeout>>>,
    /// The organisation's cap on a screen share's rate.
    screen_max_kbps: Option<u32>,
    /// The session's id (in the verification code).
    session: Rc<str>,
}

/// How long the log may show a stream this page does not own before the page reports
/// it stopped (long enough for the log to catch up after a reload).
const ORPHAN_GRACE_MS: u32 = 2_000;

impl Ctl {
    fn act(&self, action: Action) {
        // A failure is shown by the session's notice line.
        let _ = self.act.emit(action);
    }

    fn granted(&self, media: Media) -> bool {
        self.live.borrow().state.may_open(Link::from(media))
    }

    fn refresh(&self) {
        let slots = self.slots.borrow();
        let shown = |o: &Option<Outgoing>| {
            o.as_ref().map(|o| Shown {
                stream: Clone::clone(o.sent_stream()),
                paused: o.paused,
                areas: o.areas.clone(),
                pipeline: o.redactor.as_ref().map(Redactor::kind),
                redact_failed: o.redact_failed,
                // Also read from the connection itself, should its event have come
                // before the page could hear it.
                code: o.code.clone().or_else(|| {
                    o.peer
                        .as_ref()
                        .and_then(|p| crate::rtc::verify::code_of(&self.session, &p.connection()))
                }),
            })
        };
        self.view.set(Shares {
            screen: shown(&slots.screen),
            camera: shown(&slots.camera),
        });
    }

    fn answer(&self, request: u32, answer: Answer) {
        let (permissions, for_secs) = match answer {
            Answer::Deny => return self.act(Action::Deny { request }),
            Answer::MoreTime => return self.act(Action::MoreTime { request }),
            Answer::Grant(permissions, for_secs) => (permissions, for_secs),
        };
        // What this browser cannot capture is not granted (the prompt does not offer it):
        // the log shows it refused, as after a cancelled picker.
        let permissions: Vec<Permission> = permissions
            .into_iter()
            .filter(|p| p.media().is_none_or(capture::supported))
            .collect();
        if permissions.is_empty() {
            return self.act(Action::Deny { request });
        }
        // Still inside the click: ask for the captures before anything is awaited.
        let asks: Vec<(Media, Result<CaptureRequest, RtcError>)> = MEDIA
            .into_iter()
            .filter(|m| permissions.contains(&m.permission()))
            .map(|m| (m, CaptureRequest::start(m)))
            .collect();
        if asks.is_empty() {
            return self.act(Action::Grant {
                request,
                permissions,
                for_secs,
            });
        }
        let ctl = self.clone();
        spawn_local(async move {
            let mut granted = permissions;
            for (media, ask) in asks {
                let ended = {
                    let ctl = ctl.clone();
                    move || ctl.stop(media, Some(StopCause::Browser))
                };
                let result = match ask {
                    Ok(ask) => ask.finish(ended).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(capture) => ctl.keep(capture),
                    Err(error) => {
                        granted.retain(|p| *p != media.permission());
                        if !error.is_denial() {
                            ctl.problem.set(Some(error));
                        }
                    }
                }
            }
            let open = ctl
                .live
                .borrow()
                .state
                .pending()
                .is_some_and(|p| p.request == request);
            if !open {
                // Answered or expired while the picker was open: share nothing.
                for media in MEDIA {
                    let waiting = ctl
                        .slots
                        .borrow_mut()
                        .slot(media)
                        .as_ref()
                        .is_some_and(|o| o.peer.is_none());
                    if waiting && !ctl.granted(media) {
                        ctl.stop(media, None);
                    }
                }
            } else if granted.is_empty() {
                ctl.act(Action::Deny { request });
            } else {
                ctl.act(Action::Grant {
                    request,
                    permissions: granted,
                    for_secs,
                });
                // While the grant goes to the broker and comes back in the log.
                for media in MEDIA {
                    ctl.prepare(media);
                }
            }
            ctl.refresh();
        });
    }

    /// Holds a new capture until the log shows its grant.
    fn keep(&self, capture: Capture) {
        let media = capture.media();
        let old = self
            .slots
            .borrow_mut()
            .slot(media)
            .replace(Outgoing::new(capture));
        if let Some(old) = old {
            if old.peer.is_some() && self.granted(media) {
                let _ = self.signals.send(media, &SignalBody::Hangup);
            }
        }
    }

    /// Carries out what the log's change asks of the captures and their connections.
    fn apply(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                // Granted: connect what is captured. The technician is back: connect
                // again (a new connection replaces the old).
                Effect::Open(link) | Effect::Reconnect(link) => {
                    let Some(media) = link.media() else { continue };
                    let connected = self
                        .slots
                        .borrow_mut()
                        .slot(media)
                        .as_ref()
                        .map(|o| o.peer.is_some());
                    let connect = matches!(
                        (effect, connected),
                        (Effect::Reconnect(_), Some(_)) | (_, Some(false))
                    );
                    if connect {
                        self.connect(media);
                    }
                }
                Effect::Close(link) => {
                    if let Some(media) = link.media() {
                        self.stop(media, None);
                    }
                }
                // A capture made for the prompt that closed: connected if the grant
                // stands (also one that stood already), else let go.
                Effect::PromptClosed(_) => {
                    for media in MEDIA {
                        let unclaimed = self
                            .slots
                            .borrow_mut()
                            .slot(media)
                            .as_ref()
                            .is_some_and(|o| o.peer.is_none());
                        match (unclaimed, self.granted(media)) {
                            (true, true) => self.connect(media),
                            (true, false) => self.stop(media, None),
                            _ => {}
                        }
                    }
                }
                Effect::Started(_) => self.check_orphans(),
                _ => {}
            }
        }
    }

    /// Streams the log shows running that no capture of this page sends (the page
    /// was reloaded): after a grace for the log to catch up, they are reported stopped.
    fn check_orphans(&self) {
        if self.orphans().is_empty() || self.orphan_check.borrow().is_some() {
            return;
        }
        let ctl = self.clone();
        let timer = Timeout::new(ORPHAN_GRACE_MS, move || {
            ctl.orphan_check.borrow_mut().take();
            for media in ctl.orphans() {
                // The capture died with the page that made it: say so in the log.
                ctl.act(Action::Media {
                    media,
                    change: MediaChange::Stopped {
                        cause: StopCause::Browser,
                    },
                });
            }
        });
        *self.orphan_check.borrow_mut() = Some(timer);
    }

    /// Streams the log shows live or paused that this page is not sending.
    fn orphans(&self) -> Vec<Media> {
        let live = self.live.borrow();
        let state = &live.state;
        let mut slots = self.slots.borrow_mut();
        MEDIA
            .into_iter()
            .filter(|m| state.phase() == Phase::Active && state.media(*m) != MediaState::Off)
            .filter(|m| slots.slot(*m).is_none())
            .collect()
    }

    /// A new connection for `media` (it offers once told to).
    fn new_peer(&self, media: Media) -> Result<Peer, RtcError> {
        let ice = self.live.borrow().ice.clone();
        let on_event = {
            let ctl = self.clone();
            Callback::from(move |event| ctl.peer_event(media, event))
        };
        Peer::new(PeerRole::Offerer, &ice, on_event)
    }

    /// Gives `peer` what `out` sends.
    fn attach(&self, peer: &Peer, out: &Outgoing, media: Media) {
        peer.send_track(out.sent_track(), out.sent_stream());
        if media == Media::Screen {
            // Text stays legible: resolution kept, frames dropped under the cap.
            peer.tune_for_text(out.sent_track(), self.screen_max_kbps);
        }
    }

    /// Makes `media`'s connection ahead of the grant coming back in the log, and its
    /// offer (making them takes the browser milliseconds, more while the page redraws);
    /// what it says is held until [`Ctl::connect`] sees the grant and sends it. A
    /// failure here is met again, and shown, by `connect`.
    fn prepare(&self, media: Media) {
        let waiting = self
            .slots
            .borrow_mut()
            .slot(media)
            .as_ref()
            .is_some_and(|o| o.peer.is_none() && o.ready.is_none());
        if !waiting {
            return;
        }
        let Ok(peer) = self.new_peer(media) else {
            return;
        };
        let mut slots = self.slots.borrow_mut();
        if let Some(out) = slots.slot(media).as_mut() {
            self.attach(&peer, out, media);
            peer.offer(false);
            out.ready = Some((peer, out.sent_track().id()));
        }
    }

    /// Makes (or remakes, after the technician came back) the connection for `media`
    /// and offers; or takes the one made ahead, if it still carries what is sent, and
    /// sends what it held.
    fn connect(&self, media: Media) {
        let (ready, held) = self
            .slots
            .borrow_mut()
            .slot(media)
            .as_mut()
            .map(|out| {
                let held = std::mem::take(&mut out.held);
                match out.ready.take() {
                    Some((peer, track)) if track == out.sent_track().id() => (Some(peer), held),
                    _ => (None, Vec::new()),
                }
            })
            .unwrap_or_default();
        for body in &held {
            let _ = self.signals.send(media, body);
        }
        let fresh = ready.is_none();
        let peer = match ready.map_or_else(|| self.new_peer(media), Ok) {
            Ok(peer) => peer,
            Err(error) => {
                self.problem.set(Some(error));
                return self.stop(media, Some(StopCause::Failed));
            }
        };
        let live_in_log = self.live.borrow().state.media(media) != MediaState::Off;
        let (replaced, announce) = {
            let mut slots = self.slots.borrow_mut();
            let Some(out) = slots.slot(media).as_mut() else {
                return;
            };
            if fresh {
                self.attach(&peer, out, media);
            }
            if out.paused {
                peer.set_track(None);
            }
            if fresh {
                peer.offer(false);
            }
            let replaced = out.peer.replace(peer);
            let announce = !out.announced && !live_in_log;
            out.announced = true;
            (replaced, announce.then_some(out.areas.len()))
        };
        if let Some(old) = replaced {
            let _ = self.signals.send(media, &SignalBody::Hangup);
            drop(old);
            self.act(Action::PeerRestarted { media });
        }
        if let Some(areas) = announce {
            self.act(Action::Media {
                media,
                change: MediaChange::Started,
            });
            // Drawn before the share was logged: the technician is told now.
            if areas > 0 {
                self.act(Action::HideAreas {
                    media,
                    areas: areas as u8,
                });
            }
        }
    }

    fn peer_event(&self, media: Media, event: PeerEvent) {
        match event {
            PeerEvent::Signal(body) => {
                // The connection made ahead (no other is there while it waits): held
                // until `connect` sees the grant in the log and sends it all, in order.
                if let Some(out) = self
                    .slots
                    .borrow_mut()
                    .slot(media)
                    .as_mut()
                    .filter(|o| o.ready.is_some())
                {
                    out.held.push(body);
                    return;
                }
                if self.granted(media) {
                    let _ = self.signals.send(media, &body);
                }
            }
            PeerEvent::Restarted => {
                if self.live.borrow().state.media(media) != MediaState::Off {
                    self.act(Action::PeerRestarted { media });
                }
            }
            // No path: say so in the log (both pages explain it from there) and stop
            // capturing what cannot reach anyone.
            PeerEvent::GaveUp(reason) => {
                if self.granted(media) {
                    self.act(Action::PathFailed {
                        link: Link::from(media),
                        reason,
                    });
                }
                self.stop(media, Some(StopCause::Failed));
            }
            // The customer's side receives nothing; a failed step shows in the
            // connection's state, and the next restart tries again.
            PeerEvent::Connected { local, remote } => {
                let code = crate::rtc::verify::code(&self.session, &local, &remote);
                if let Some(o) = self.slots.borrow_mut().slot(media).as_mut() {
                    o.code = code;
                }
                self.refresh();
            }
            PeerEvent::Remote(_) | PeerEvent::Channel(_) | PeerEvent::Failed(_) => {}
        }
    }

    /// A signal from the technician: their answer or candidates.
    fn signal(&self, media: Media, body: SignalBody) {
        if matches!(
            body,
            SignalBody::Answer { .. } | SignalBody::Candidate { .. }
        ) {
            let mut slots = self.slots.borrow_mut();
            if let Some(peer) = slots.slot(media).as_ref().and_then(|o| o.peer.as_ref()) {
                peer.receive(body);
            }
        }
    }

    fn control(&self, media: Media, control: Control) {
        if control == Control::Stop {
            return self.stop(media, Some(StopCause::Customer));
        }
        let pause = control == Control::Pause;
        let changed = {
            let mut slots = self.slots.borrow_mut();
            match slots.slot(media).as_mut() {
                Some(out) if out.paused != pause => {
                    out.paused = pause;
                    if let Some(peer) = &out.peer {
                        peer.set_track((!pause).then(|| out.sent_track()));
                    }
                    true
                }
                _ => false,
            }
        };
        if changed {
            let change = if pause {
                MediaChange::Paused
            } else {
                MediaChange::Resumed
            };
            self.act(Action::Media { media, change });
            self.refresh();
        }
    }

    /// Stops `media`: every track ends, the connection closes; with a cause, the change
    /// is logged.
    fn stop(&self, media: Media, cause: Option<StopCause>) {
        let Some(out) = self.slots.borrow_mut().slot(media).take() else {
            return;
        };
        let granted = self.granted(media);
        if out.peer.is_some() && granted {
            let _ = self.signals.send(media, &SignalBody::Hangup);
        }
        let announced = out.announced || self.live.borrow().state.media(media) != MediaState::Off;
        drop(out);
        if let (Some(cause), true, true) = (cause, granted, announced) {
            self.act(Action::Media {
                media,
                change: MediaChange::Stopped { cause },
            });
        }
        self.refresh();
    }

    /// From the next frame on, `areas` of `media` are painted over (the first area
    /// starts the painting, and the connection sends the painted track from then on).
    fn set_areas(&self, media: Media, mut areas: Vec<Area>) {
        areas.truncate(usize::from(HIDDEN_AREAS_MAX));
        let counts = {
            let mut slots = self.slots.borrow_mut();
            let Some(out) = slots.slot(media).as_mut() else {
                return;
            };
            if out.redactor.is_none() && !areas.is_empty() {
                match Redactor::new(out.capture.track()) {
                    Ok(redactor) => {
                        // Painted from its first frame: then sent.
                        redactor.set_areas(&areas);
                        if let (Some(peer), false) = (&out.peer, out.paused) {
                            peer.set_track(Some(redactor.track()));
                        }
                        out.redactor = Some(redactor);
                    }
                    Err(_) => out.redact_failed = true,
                }
            }
            match &out.redactor {
                Some(redactor) => {
                    redactor.set_areas(&areas);
                    let before = out.areas.len();
                    out.areas = areas;
                    Some((before, out.areas.len()))
                }
                None => None,
            }
        };
        let logged = self.live.borrow().state.media(media) != MediaState::Off;
        if let (Some((before, after)), true) = (counts, logged) {
            if before != after {
                self.act(Action::HideAreas {
                    media,
                    areas: after as u8,
                });
            }
        }
        self.refresh();
    }

    fn revoke(&self, action: Action) {
        if let Action::Revoke { permissions } = &action {
            // Stop at once (the hang-up still passes: the grant stands until logged).
            for media in permissions.iter().filter_map(|p| p.media()) {
                self.stop(media, None);
            }
        }
        self.act(action);
    }

    /// Stops everything without logging (the page is going away).
    fn clear(&self) {
        let slots = std::mem::take(&mut *self.slots.borrow_mut());
        drop(slots);
        self.orphan_check.borrow_mut().take();
    }
}

#[hook]
pub fn use_customer_media(
    handle: &SessionHandle,
    screen_max_kbps: u32,
    session: &str,
) -> CustomerMedia {
    let view = use_state(Shares::default);
    let problem = use_state(|| None::<RtcError>);
    let live = handle.live.clone();
    let ctl = Ctl {
        slots: use_mut_ref(Slots::default),
        live: use_mut_ref(move || live),
        act: handle.act.clone(),
        signals: handle.signals.clone(),
        view: view.clone(),
        problem: problem.clone(),
        orphan_check: use_mut_ref(|| None),
        screen_max_kbps: (screen_max_kbps > 0).then_some(screen_max_kbps),
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
            let pagehide = crate::browser::window().map(|window| {
                let ctl = ctl.clone();
                EventListener::new(&window, "pagehide", move |_| {
                    for media in MEDIA {
                        ctl.stop(media, Some(StopCause::Customer));
                    }
                })
            });
            move || {
                drop(pagehide);
                ctl.signals.listen(None);
                ctl.clear();
            }
        });
    }
    let apply = {
        let ctl = ctl.clone();
        Callback::from(move |effects| ctl.apply(effects))
    };
    use_log_effects(&handle.live, Role::Customer, true, apply);

    // The page's callbacks stay the same for the component's life (what they act on is
    // shared between renders), so the children given them are not redrawn for their sake.
    let on_answer = {
        let ctl = ctl.clone();
        use_callback((), move |(request, answer), _| ctl.answer(request, answer))
    };
    let on_control = {
        let ctl = ctl.clone();
        use_callback((), move |(media, control), _| ctl.control(media, control))
    };
    let connections = {
        let slots = ctl.slots.borrow();
        [&slots.screen, &slots.camera]
            .into_iter()
            .filter_map(|o| o.as_ref().and_then(|o| o.peer.as_ref()))
            .map(Peer::connection)
            .collect()
    };
    let on_areas = {
        let ctl = ctl.clone();
        use_callback((), move |(media, areas), _| ctl.set_areas(media, areas))
    };
    let on_revoke = use_callback((), move |action, _| ctl.revoke(action));
    CustomerMedia {
        connections,
        shares: (*view).clone(),
        problem: (*problem).clone(),
        on_answer,
        on_control,
        on_revoke,
        on_areas,
    }
}
