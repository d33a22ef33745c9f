//! While the screen (or the camera) is shared: a clear indicator with Pause, Resume and
//! Stop, and a small preview of exactly what is sent (`#sharing-indicator` with
//! `video#self-preview`; `#camera-indicator` with `video#camera-preview`).

use connectit_protocol::Media;
use web_sys::MediaStream;
use yew::prelude::*;

use super::area_editor::AreaEditor;
use crate::i18n::{use_i18n, Msg};
use crate::rtc::areas::{self, Area};
use crate::session::video::Video;

/// What the customer can do with a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Stop,
}

#[derive(Properties, PartialEq)]
pub struct SharingProps {
    pub media: Media,
    pub stream: MediaStream,
    pub paused: bool,
    /// The connection's verification code, once connected.
    #[prop_or_default]
    pub code: Option<AttrValue>,
    pub on_control: Callback<(Media, Control)>,
    /// The areas painted over (the screen only).
    #[prop_or_default]
    pub areas: Vec<Area>,
    /// Changes them (absent: this media's picture is not painted over).
    #[prop_or_default]
    pub on_areas: Option<Callback<Vec<Area>>>,
    /// Which pipeline paints them, once one runs (`frames` or `canvas`).
    #[prop_or_default]
    pub pipeline: Option<AttrValue>,
    /// This browser could not paint the areas over.
    #[prop_or_default]
    pub redact_failed: bool,
}

/// The ids of one media's indicator: (indicator, pause, resume, stop, preview).
fn ids(media: Media) -> [&'static str; 5] {
    match media {
        Media::Screen => [
            "sharing-indicator",
            "pause-sharing",
            "resume-sharing",
            "stop-sharing",
            "self-preview",
        ],
        Media::Camera => [
            "camera-indicator",
            "pause-camera",
            "resume-camera",
            "stop-camera",
            "camera-preview",
        ],
    }
}

#[component]
pub fn SharingIndicator(props: &SharingProps) -> Html {
    let i18n = use_i18n();
    let [indicator, pause, resume, stop, preview] = ids(props.media);
    let media = props.media;
    let control = |c: Control| props.on_control.reform(move |_: MouseEvent| (media, c));
    let words = i18n.t(match props.media {
        Media::Screen => Msg::SharingScreen,
        Media::Camera => Msg::SharingCamera,
    });
    let stop_words = i18n.t(match props.media {
        Media::Screen => Msg::StopSharing,
        Media::Camera => Msg::StopCamera,
    });
    let state = if props.paused { "paused" } else { "live" };
    let editing = use_state(|| false);
    // The area to focus, and how many were added (the same index twice is focused twice).
    let focus = use_state(|| None::<(usize, u32)>);
    let editor = props.on_areas.as_ref().map(|on_areas| {
        let add = {
            let (areas, on_areas, editing, focus) = (
                props.areas.clone(),
                on_areas.clone(),
                editing.clone(),
                focus.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                editing.set(true);
                if areas::room_for_more(&areas) {
                    let mut next = areas.clone();
                    next.push(Area::centred());
                    let added = focus.map_or(1, |(_, n)| n + 1);
                    focus.set(Some((next.len() - 1, added)));
                    on_areas.emit(next);
                }
            })
        };
        let done = {
            let editing = editing.clone();
            Callback::from(move |_: MouseEvent| editing.set(false))
        };
        (add, done, on_areas.clone())
    });
    html! {
        <section id={indicator} class={classes!("sharing", props.paused.then_some("paused"))}
            data-state={state} role="status" aria-label={words.clone()}>
            <div class="sharing-main">
                <p class="sharing-text"><span class="rec-dot" aria-hidden="true"></span>{ words }</p>
                if props.paused {
                    <p class="sharing-paused">{ i18n.t(Msg::SharingPaused) }</p>
                }
                if let Some(code) = &props.code {
                    <p class="verification-code" data-code={code.clone()}>
                        { i18n.t(Msg::VerificationCustomer { code: code.to_string() }) }
                    </p>
                }
                <div class="actions">
                    if props.paused {
                        <button id={resume} type="button" class="secondary" onclick={control(Control::Resume)}>
                            { i18n.t(Msg::Resume) }
                        </button>
                    } else {
                        <button id={pause} type="button" class="secondary" onclick={control(Control::Pause)}>
                            { i18n.t(Msg::Pause) }
                        </button>
                    }
                    <button id={stop} type="button" class="danger" onclick={control(Control::Stop)}>
                        { stop_words }
                    </button>
                    if let Some((add, done, _)) = &editor {
                        <button id="hide-area" type="button" class="secondary" onclick={add.clone()}
                            disabled={!areas::room_for_more(&props.areas)}>
                            { i18n.t(Msg::HideArea) }
                        </button>
                        if *editing {
                            <button id="areas-done" type="button" class="secondary" onclick={done.clone()}>
                                { i18n.t(Msg::AreasDone) }
                            </button>
                        }
                    }
                </div>
                if *editing {
                    <p class="hint redact-hint">{ i18n.t(Msg::HideAreaHint) }</p>
                }
                if props.redact_failed {
                    <p class="notice warning" role="alert">{ i18n.t(Msg::HideAreaFailed) }</p>
                }
            </div>
            <div class={classes!("redact-stage", editing.then_some("editing"))}
                data-pipeline={props.pipeline.clone()}>
                <Video id={preview} class={classes!("self-preview")} stream={Some(Clone::clone(&props.stream))}
                    label={AttrValue::from(i18n.t(Msg::SelfPreview))} />
                if let Some((_, _, on_areas)) = &editor {
                    <AreaEditor areas={props.areas.clone()} on_change={on_areas.clone()} focus={*focus} />
                }
            </div>
        </section>
    }
}
