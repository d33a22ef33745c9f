//! The technician's sessions, live: `/api/console/ws` sends the whole list, then each
//! change. [`SessionsState`] folds those messages; `use_console_sessions` owns the
//! socket (reconnecting on drops) for as long as the component lives.

use std::rc::Rc;

use connectit_protocol::api::SessionSummary;
use connectit_protocol::wire::ConsoleMessage;
use yew::prelude::*;

use crate::browser;
use crate::session::link::LinkStatus;
use crate::socket::{Socket, SocketEvent};

pub const CONSOLE_WS_PATH: &str = "/api/console/ws";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionsState {
    /// Newest first.
    pub items: Vec<SessionSummary>,
    pub status: LinkStatus,
    /// Whether the list arrived at least once.
    pub loaded: bool,
    /// The broker closed the socket because the sign-in ended.
    pub signed_out: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionsAction {
    Message(ConsoleMessage),
    Status(LinkStatus),
    SignedOut,
}

impl Reducible for SessionsState {
    type Action = SessionsAction;

    fn reduce(self: Rc<Self>, action: SessionsAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SessionsAction::Status(status) => next.status = status,
            SessionsAction::SignedOut => {
                next.signed_out = true;
                next.status = LinkStatus::Closed;
            }
            SessionsAction::Message(ConsoleMessage::Sessions(list)) => {
                next.items = list;
                next.loaded = true;
                next.status = LinkStatus::Online;
            }
            SessionsAction::Message(ConsoleMessage::Session(summary)) => {
                match next.items.iter_mut().find(|s| s.id == summary.id) {
                    Some(existing) => *existing = *summary,
                    None => next.items.push(*summary),
                }
            }
        }
        next.items
            .sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Rc::new(next)
    }
}

#[hook]
pub fn use_console_sessions() -> UseReducerHandle<SessionsState> {
    let state = use_reducer(SessionsState::default);
    {
        let dispatcher = state.dispatcher();
        use_effect_with((), move |_| {
            let listener = Rc::new(move |socket: &Socket, event: SocketEvent| match event {
                SocketEvent::Opened => {}
                SocketEvent::Text(text) => {
                    if let Ok(message) = serde_json::from_str::<ConsoleMessage>(&text) {
                        socket.healthy();
                        dispatcher.dispatch(SessionsAction::Message(message));
                    }
                }
                SocketEvent::Dropped { retrying } => {
                    dispatcher.dispatch(SessionsAction::Status(if retrying {
                        LinkStatus::Reconnecting
                    } else {
                        LinkStatus::Closed
                    }))
                }
                // Only a sign-in's end closes the console socket for good.
                SocketEvent::Ended(_) => dispatcher.dispatch(SessionsAction::SignedOut),
            });
            let socket = browser::ws_url(CONSOLE_WS_PATH).map(|url| Socket::open(url, listener));
            move || drop(socket)
        });
    }
    state
}
