//! While the screen (or the camera) is shared: a clear indicator with Pause, Resume and
//! Stop, and a small preview of exactly what is sent (`#sharing-indicator` with
//! `video#self-preview`; `#camera-indicator` with `video#camera-preview`).

use connectit_protocol::Media;
use web_sys::MediaStream;
use yew::prelude::*;

use crate::session::video::Video;
use crate::text;

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
    pub on_control: Callback<(Media, Control)>,
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
    let [indicator, pause, resume, stop, preview] = ids(props.media);
    let media = props.media;
    let control = |c: Control| props.on_control.reform(move |_: MouseEvent| (media, c));
    let words = match props.media {
        Media::Screen => text::SHARING_SCREEN,
        Media::Camera => text::SHARING_CAMERA,
    };
    let stop_words = match props.media {
        Media::Screen => text::STOP_SHARING,
        Media::Camera => text::STOP_CAMERA,
    };
    let state = if props.paused { "paused" } else { "live" };
    html! {
        <section id={indicator} class={classes!("sharing", props.paused.then_some("paused"))}
            data-state={state} role="status" aria-label={words}>
            <div class="sharing-main">
                <p class="sharing-text"><span class="rec-dot" aria-hidden="true"></span>{ words }</p>
                if props.paused {
                    <p class="sharing-paused">{ text::SHARING_PAUSED }</p>
                }
                <div class="actions">
                    if props.paused {
                        <button id={resume} type="button" class="secondary" onclick={control(Control::Resume)}>
                            { text::RESUME }
                        </button>
                    } else {
                        <button id={pause} type="button" class="secondary" onclick={control(Control::Pause)}>
                            { text::PAUSE }
                        </button>
                    }
                    <button id={stop} type="button" class="danger" onclick={control(Control::Stop)}>
                        { stop_words }
                    </button>
                </div>
            </div>
            <Video id={preview} class={classes!("self-preview")} stream={Some(Clone::clone(&props.stream))}
                label={AttrValue::from(text::SELF_PREVIEW)} />
        </section>
    }
}
