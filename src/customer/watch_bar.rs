//! Who receives what, always in sight (`#watch-bar`, kept at the top of the window
//! while the page scrolls): while anything is granted or shared, one line per
//! technician present (`li.watcher[data-name]`) with what they receive right now (the
//! screen live or paused, the camera, a file on its way to them, system information),
//! and one button that stops everything (`#stop-everything`: every grant taken back at
//! once, which stops the captures before the log even answers).

use connectit_protocol::{Action, MediaState, Permission, Role, SessionState};
use yew::prelude::*;

use crate::i18n::{use_i18n, I18n, Msg};

#[derive(Properties, PartialEq)]
pub struct WatchBarProps {
    pub state: SessionState,
    /// A revocation is on its way.
    #[prop_or_default]
    pub busy: bool,
    pub on_revoke: Callback<Action>,
}

/// What the technician who has the session receives now, each as (`data-what`, words).
fn receiving(i18n: &I18n, state: &SessionState) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match state.media(connectit_protocol::Media::Screen) {
        MediaState::Live => out.push(("screen-live", i18n.t(Msg::WatchScreenLive))),
        MediaState::Paused => out.push(("screen-paused", i18n.t(Msg::WatchScreenPaused))),
        MediaState::Off => {}
    }
    match state.media(connectit_protocol::Media::Camera) {
        MediaState::Live => out.push(("camera-live", i18n.t(Msg::WatchCameraLive))),
        MediaState::Paused => out.push(("camera-paused", i18n.t(Msg::WatchCameraPaused))),
        MediaState::Off => {}
    }
    for file in state
        .files()
        .iter()
        .filter(|f| f.from == Role::Customer && f.status.in_flight())
    {
        out.push((
            "file",
            i18n.t(Msg::WatchFile {
                name: file.name.clone(),
            }),
        ));
    }
    if state.has(Permission::SystemInfo) {
        out.push(("system-info", i18n.t(Msg::WatchSystemInfo)));
    }
    out
}

/// Whether the bar shows: something is granted, or still on its way.
pub fn shown(state: &SessionState) -> bool {
    !state.granted().is_empty()
        || state.media(connectit_protocol::Media::Screen) != MediaState::Off
        || state.media(connectit_protocol::Media::Camera) != MediaState::Off
}

#[component]
pub fn WatchBar(props: &WatchBarProps) -> Html {
    let i18n = use_i18n();
    let state = &props.state;
    if !shown(state) {
        return html! {};
    }
    let in_charge = state.technician();
    let stop = {
        let permissions = state.granted().to_vec();
        props.on_revoke.reform(move |_: MouseEvent| Action::Revoke {
            permissions: permissions.clone(),
        })
    };
    let lines = state.technicians_present().into_iter().map(|name| {
        let items = if Some(name) == in_charge {
            receiving(&i18n, state)
        } else {
            vec![("chat", i18n.t(Msg::WatchChatOnly))]
        };
        let what = if items.is_empty() {
            i18n.t(Msg::WatchNothingNow)
        } else {
            i18n.and_list(&items.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>())
        };
        let kinds = items.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(" ");
        html! {
            <li key={name.to_owned()} class="watcher" data-name={name.to_owned()} data-what={kinds}>
                { i18n.t(Msg::WatchReceives { name: name.to_owned(), what }) }
            </li>
        }
    });
    html! {
        <section id="watch-bar" class="watch-bar" aria-label={i18n.t(Msg::WatchBarLabel)}>
            <ul class="watchers">{ for lines }</ul>
            <button id="stop-everything" type="button" class="danger"
                disabled={props.busy || state.granted().is_empty()} onclick={stop}>
                { i18n.t(Msg::StopEverything) }
            </button>
        </section>
    }
}
