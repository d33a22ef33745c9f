//! `use_session`: opens the session socket for a component, folds what arrives into a
//! [`Live`] state, and gives a callback to act. The link lives as long as the
//! component (or until `join` changes) and is dropped on cleanup.

use std::cell::RefCell;
use std::rc::Rc;

use connectit_protocol::wire::{Join, SignalBody};
use connectit_protocol::{Action, Link, Media, Phase, Role, SessionState};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::effects::{effects, Effect};
use super::link::{LinkEvent, SessionLink};
use super::live::{Live, LiveAction, Pending};
use crate::browser;
use crate::socket::NotConnected;

/// The session socket's path on the broker.
pub const SESSION_WS_PATH: &str = "/api/ws";

/// A live session as a component sees it.
#[derive(Clone, PartialEq)]
pub struct SessionHandle {
    pub live: UseReducerHandle<Live>,
    /// Sends an action: its id (for [`Live::answer`]), or `Err` when not connected
    /// (nothing was sent).
    pub act: Callback<Action, Result<u32, NotConnected>>,
    /// WebRTC signals to and from the other member.
    pub signals: Signals,
}

/// Who hears the signals that arrive: the media connections' listener and the files
/// link's.
#[derive(Default)]
struct Sinks {
    media: Option<Callback<(Media, SignalBody)>>,
    files: Option<Callback<SignalBody>>,
}

type SignalSink = Rc<RefCell<Sinks>>;

/// The session socket's WebRTC signalling: send a signal to the other member, and name
/// the listeners that hear theirs (the page's media connections, and its files link).
#[derive(Clone)]
pub struct Signals {
    link: Rc<RefCell<Option<SessionLink>>>,
    sink: SignalSink,
}

impl PartialEq for Signals {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.link, &other.link) && Rc::ptr_eq(&self.sink, &other.sink)
    }
}

impl Signals {
    /// Sends `body` for the other member's peer connection of `media`.
    pub fn send(&self, media: Media, body: &SignalBody) -> Result<(), NotConnected> {
        self.send_on(Link::from(media), body)
    }

    /// Sends `body` for the other member's files link.
    pub fn send_files(&self, body: &SignalBody) -> Result<(), NotConnected> {
        self.send_on(Link::Files, body)
    }

    fn send_on(&self, to: Link, body: &SignalBody) -> Result<(), NotConnected> {
        match self.link.borrow().as_ref() {
            Some(link) => link.signal(to, body),
            None => Err(NotConnected),
        }
    }

    /// Sets (or, with `None`, removes) the listener of incoming media signals.
    pub fn listen(&self, listener: Option<Callback<(Media, SignalBody)>>) {
        self.sink.borrow_mut().media = listener;
    }

    /// Sets (or, with `None`, removes) the listener of the files link's signals.
    pub fn listen_files(&self, listener: Option<Callback<SignalBody>>) {
        self.sink.borrow_mut().files = listener;
    }

    /// A handle that sends nothing and hears nothing (for components shown without a
    /// session, in tests).
    pub fn detached() -> Signals {
        Signals {
            link: Rc::default(),
            sink: Rc::default(),
        }
    }
}

#[hook]
pub fn use_session(join: Join) -> SessionHandle {
    let live = use_reducer(Live::default);
    let sink: SignalSink = use_mut_ref(Sinks::default);
    // The socket opens in the first render, not in an effect after the whole page has
    // rendered: the browser's handshake then overlaps the rendering (joining is a few
    // milliseconds quicker). Later changes of `join` reopen it in the effect, whose
    // first run finds it open.
    let holder: Rc<RefCell<Option<SessionLink>>> =
        use_mut_ref(|| open_link(&join, &live.dispatcher(), &sink));
    let first_effect = use_mut_ref(|| true);
    {
        let holder = holder.clone();
        let dispatcher = live.dispatcher();
        let sink = sink.clone();
        use_effect_with(join, move |join| {
            if !std::mem::replace(&mut *first_effect.borrow_mut(), false) {
                *holder.borrow_mut() = open_link(join, &dispatcher, &sink);
            }
            move || {
                let link = holder.borrow_mut().take();
                drop(link);
            }
        });
    }

    {
        // Leaving the page closes the socket even when the browser keeps the page in its
        // cache (which may keep sockets open): the other side is told at once, and
        // the page connects again if it is brought back.
        let holder = holder.clone();
        use_effect_with((), move |_| {
            let listeners = browser::window().map(|window| {
                let hide = {
                    let holder = holder.clone();
                    gloo_events::EventListener::new(&window, "pagehide", move |_| {
                        if let Some(link) = holder.borrow().as_ref() {
                            link.suspend();
                        }
                    })
                };
                let show = gloo_events::EventListener::new(&window, "pageshow", move |event| {
                    let restored = event
                        .dyn_ref::<web_sys::PageTransitionEvent>()
                        .is_some_and(|e| e.persisted());
                    if restored {
                        if let Some(link) = holder.borrow().as_ref() {
                            link.resume();
                        }
                    }
                });
                (hide, show)
            });
            move || drop(listeners)
        });
    }

    {
        // The page's fold disagreed with an entry: load the whole log again, and say
        // so where a developer looks.
        let holder = holder.clone();
        let out_of_step = live.out_of_step;
        use_effect_with(live.reloads, move |reloads| {
            if let (true, Some(o)) = (*reloads > 0, out_of_step) {
                web_sys::console::warn_1(
                    &format!(
                        "ConnectIT: entry {} does not follow from this page's state ({:?}); \
                         loading the session's log again (reload {reloads})",
                        o.seq, o.violation
                    )
                    .into(),
                );
                if let Some(link) = holder.borrow().as_ref() {
                    link.reload();
                }
            }
        });
    }

    {
        // Gave up: the page's rules and the broker's log disagree even after reloading.
        let holder = holder.clone();
        let gave_up = live.fatal == Some(connectit_protocol::ErrorCode::Internal);
        use_effect_with(gave_up, move |gave_up| {
            if *gave_up {
                web_sys::console::error_1(
                    &"ConnectIT: the session's log still disagrees with this page's rules \
                      after reloading it; stopped"
                        .into(),
                );
                if let Some(link) = holder.borrow_mut().take() {
                    link.finish();
                }
            }
        });
    }

    {
        // Once the session is over, a closed socket stays closed.
        let holder = holder.clone();
        use_effect_with(live.state.phase(), move |phase| {
            if *phase == Phase::Ended {
                if let Some(link) = holder.borrow().as_ref() {
                    link.finish();
                }
            }
        });
    }

    let signals = Signals {
        link: holder.clone(),
        sink,
    };
    // One callback for the component's life (it reads the link when called), so the
    // children given it are not redrawn for its sake on every change of the session.
    let act = {
        let dispatcher = live.dispatcher();
        use_callback((), move |action: Action, _| {
            let what = Pending::from(&action);
            let sent = match holder.borrow().as_ref() {
                Some(link) => link.act(action),
                None => Err(NotConnected),
            };
            match sent {
                Ok(id) => {
                    dispatcher.dispatch(LiveAction::Sent { id, what });
                    Ok(id)
                }
                Err(e) => {
                    dispatcher.dispatch(LiveAction::NotSent);
                    Err(e)
                }
            }
        })
    };

    SessionHandle { live, act, signals }
}

/// Opens the session's link as `join`: signals go to the page's listeners in `sink`,
/// everything else to the session's state.
fn open_link(
    join: &Join,
    dispatcher: &UseReducerDispatcher<Live>,
    sink: &SignalSink,
) -> Option<SessionLink> {
    let (dispatcher, sink) = (dispatcher.clone(), sink.clone());
    let on_event = Callback::from(move |event| match event {
        LinkEvent::Signal { link, body } => {
            let media = match link {
                Link::Screen => Some(Media::Screen),
                Link::Camera => Some(Media::Camera),
                Link::Files => None,
            };
            match media {
                Some(media) => {
                    let listener = sink.borrow().media.clone();
                    if let Some(listener) = listener {
                        listener.emit((media, body));
                    }
                }
                None => {
                    let listener = sink.borrow().files.clone();
                    if let Some(listener) = listener {
                        listener.emit(body);
                    }
                }
            }
        }
        event => dispatcher.dispatch(LiveAction::Link(event)),
    });
    browser::ws_url(SESSION_WS_PATH).map(|url| SessionLink::open(url, join.clone(), 0, on_event))
}

/// Calls `apply`, after the render, with what each change of the session's shown state
/// asks of `role`'s page ([`effects`]), once per change; the first call compares with
/// an empty session (a page loaded into a running session hears of what runs). While
/// `enabled` is false (a colleague who joined, not one end of the media), changes are
/// followed but nothing is asked of the page.
#[hook]
pub fn use_log_effects(
    live: &UseReducerHandle<Live>,
    role: Role,
    enabled: bool,
    apply: Callback<Vec<Effect>>,
) {
    // The state last acted on (a handle reads the newest state, never an older one).
    let last: Rc<RefCell<SessionState>> = use_mut_ref(SessionState::default);
    let live = live.clone();
    // The shown log changes exactly when the state does (an entry, or a reload).
    use_effect_with(live.entries.clone(), move |_| {
        let now = live.state.clone();
        let before = std::mem::replace(&mut *last.borrow_mut(), now);
        let list = effects(&before, &last.borrow(), role);
        if enabled && !list.is_empty() {
            apply.emit(list);
        }
    });
}
