//! How a connection travels, as the console shows it (`#screen-path`, `#camera-path`,
//! `#files-path`): direct, through NAT, or relayed (over UDP, TCP or TLS), with its
//! round-trip time, rate, frame rate and loss, read from `getStats()` every
//! [`PATH_EVERY_MS`]. `data-route` carries the route for tests and tools.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use web_sys::RtcPeerConnection;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::clock;
use crate::i18n::{use_i18n, Msg};
use crate::rtc::path::{info, sample, PathInfo, Sample};

/// How often the statistics are read, in milliseconds.
pub const PATH_EVERY_MS: u32 = 1_500;

#[derive(Properties, PartialEq)]
pub struct PathLineProps {
    pub id: AttrValue,
    pub connection: Option<RtcPeerConnection>,
}

#[component]
pub fn PathLine(props: &PathLineProps) -> Html {
    let i18n = use_i18n();
    let shown = use_state(|| None::<PathInfo>);
    {
        let shown = shown.clone();
        use_effect_with(props.connection.clone(), move |connection| {
            shown.set(None);
            let last: Rc<RefCell<Option<Sample>>> = Rc::default();
            let read = connection.clone().map(|pc| {
                move || {
                    let (pc, last, shown) = (pc.clone(), last.clone(), shown.clone());
                    spawn_local(async move {
                        let Some(now) = sample(&pc, clock::local_now()).await else {
                            return;
                        };
                        let before = last.replace(Some(now.clone()));
                        if let Some(path) = info(before.as_ref(), &now) {
                            shown.set(Some(path));
                        }
                    });
                }
            });
            let interval = read.map(|read| {
                read();
                Interval::new(PATH_EVERY_MS, read)
            });
            move || drop(interval)
        });
    }
    match &*shown {
        Some(path) => html! {
            <p id={props.id.clone()} class="path" data-route={path.route.attr()}
                aria-label={i18n.t(Msg::PathLabel)}>
                { i18n.path_line(path) }
            </p>
        },
        None => html! {},
    }
}
