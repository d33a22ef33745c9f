//! The customer's screen (or camera) as the technician sees it (`#screen-view`,
//! `#camera-view`): the live video, scaled to fit by default, 1:1, or full screen, with
//! the stream's resolution and frame rate (decoded frames counted over each second),
//! and the paused or off state from the log.

use connectit_protocol::{Media, MediaState, PathFailure};
use gloo_timers::callback::Interval;
use web_sys::{Element, HtmlVideoElement, MediaStream, RtcPeerConnection};
use yew::prelude::*;

use super::path::PathLine;
use crate::clock;
use crate::i18n::{use_i18n, Msg};
use crate::session::video::Video;

/// How often the resolution and frame rate are measured, in milliseconds.
pub const STATS_EVERY_MS: u32 = 1_000;

/// How the video is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Scaled down to the width of the view.
    Fit,
    /// One video pixel per screen pixel, scrolled.
    Actual,
}

/// What the last measurement saw.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
}

/// Frames per second from two readings of the decoded frame count.
pub fn frame_rate(frames_before: u32, at_before: f64, frames_now: u32, at_now: f64) -> Option<f64> {
    let elapsed = (at_now - at_before) / 1000.0;
    (elapsed > 0.0 && frames_now >= frames_before)
        .then(|| f64::from(frames_now - frames_before) / elapsed)
}

#[derive(Properties, PartialEq)]
pub struct MediaViewProps {
    pub media: Media,
    /// The media's state in the log.
    pub state: MediaState,
    pub stream: Option<MediaStream>,
    /// The connection, for how it travels.
    #[prop_or_default]
    pub connection: Option<RtcPeerConnection>,
    /// No path could be found (this side gave up, or the customer's side said so).
    #[prop_or_default]
    pub failed: Option<PathFailure>,
    /// The connection's verification code, once connected.
    #[prop_or_default]
    pub code: Option<AttrValue>,
    /// Whether the log says the technician confirmed this code with the customer.
    #[prop_or_default]
    pub confirmed: bool,
    /// Confirms the code (absent for a colleague who joined: it is not theirs to say).
    #[prop_or_default]
    pub on_confirm: Option<Callback<(Media, String)>>,
    /// How many areas the customer paints over.
    #[prop_or_default]
    pub hidden_areas: u8,
}

fn state_attr(state: MediaState) -> &'static str {
    match state {
        MediaState::Off => "off",
        MediaState::Live => "live",
        MediaState::Paused => "paused",
    }
}

#[component]
pub fn MediaView(props: &MediaViewProps) -> Html {
    let i18n = use_i18n();
    let fit = use_state(|| Fit::Fit);
    let stats = use_state(|| None::<Stats>);
    let video = use_node_ref();
    let frame = use_node_ref();
    let (prefix, heading) = match props.media {
        Media::Screen => ("screen", i18n.t(Msg::ScreenHeading)),
        Media::Camera => ("camera", i18n.t(Msg::CameraHeading)),
    };
    let (fit_id, actual_id, full_id) = match props.media {
        Media::Screen => ("view-fit", "view-actual", "view-fullscreen"),
        Media::Camera => ("camera-fit", "camera-actual", "camera-fullscreen"),
    };
    let playing = props.stream.is_some() && props.state != MediaState::Off;
    {
        let (video, stats) = (video.clone(), stats.clone());
        use_effect_with(playing, move |playing| {
            stats.set(None);
            let mut last: Option<(u32, f64)> = None;
            let interval = playing.then(|| {
                Interval::new(STATS_EVERY_MS, move || {
                    let Some(video) = video.cast::<HtmlVideoElement>() else {
                        return;
                    };
                    let frames = video.get_video_playback_quality().total_video_frames();
                    let now = clock::local_now();
                    let fps = last.and_then(|(f, t)| frame_rate(f, t, frames, now));
                    last = Some((frames, now));
                    if video.video_width() > 0 {
                        stats.set(Some(Stats {
                            width: video.video_width(),
                            height: video.video_height(),
                            fps,
                        }));
                    }
                })
            });
            move || drop(interval)
        });
    }
    let set_fit = |f: Fit| {
        let fit = fit.clone();
        Callback::from(move |_: MouseEvent| fit.set(f))
    };
    let fullscreen = {
        let frame = frame.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(element) = frame.cast::<Element>() {
                // Refused (no user gesture, or not allowed): the view stays as it is.
                let _ = element.request_fullscreen();
            }
        })
    };
    let status = match (props.failed, props.state) {
        // Said below, with what to try: not "Connecting…" for ever.
        (Some(_), _) if props.stream.is_none() => None,
        (_, MediaState::Off) => Some(Msg::MediaOff),
        (_, MediaState::Paused) => Some(Msg::MediaPaused),
        (_, MediaState::Live) if props.stream.is_none() => Some(Msg::Connecting),
        (_, MediaState::Live) => None,
    }
    .map(|msg| i18n.t(msg));
    let failed = props.failed.filter(|_| props.stream.is_none()).map(|why| {
        i18n.t(Msg::PathFailedTechnician {
            why: i18n.path_why(why),
        })
    });
    let stats_text = stats
        .map(|s| i18n.stream_stats(s.width, s.height, s.fps))
        .unwrap_or_default();
    let fit_class = match *fit {
        Fit::Fit => "fit",
        Fit::Actual => "actual",
    };
    html! {
        <section id={format!("{prefix}-view")} class={classes!("media-view", props.state.eq(&MediaState::Off).then_some("off"))}
            data-state={state_attr(props.state)} aria-labelledby={format!("{prefix}-heading")}>
            <div class="card-head">
                <h2 id={format!("{prefix}-heading")}>{ heading.clone() }</h2>
                <p id={format!("{prefix}-stats")} class="stats" aria-live="off">{ stats_text }</p>
            </div>
            if let Some(status) = status {
                <p class="status-line" role="status">{ status }</p>
            }
            if let Some(failed) = failed {
                <p id={format!("{prefix}-path-failed")} class="notice warning" role="alert">{ failed }</p>
            }
            if playing {
                <PathLine id={AttrValue::from(format!("{prefix}-path"))} connection={props.connection.clone()} />
            }
            <div class={classes!("video-frame", fit_class, (!playing).then_some("empty"))} ref={frame}>
                <Video id={format!("{prefix}-video")} node_ref={video.clone()}
                    stream={if playing { props.stream.clone() } else { None }}
                    label={AttrValue::from(heading)} />
            </div>
            if playing && props.hidden_areas > 0 {
                <p id={format!("{prefix}-hidden")} class="notice hidden-areas" data-areas={props.hidden_areas.to_string()}>
                    { i18n.t(Msg::AreasHiddenTechnician { areas: props.hidden_areas.into() }) }
                </p>
            }
            // Under the picture: the video keeps its place beside the chat.
            if let Some(code) = props.code.as_ref().filter(|_| playing) {
                <div id={format!("{prefix}-verification")} class="verification-code" data-code={code.clone()}
                    data-confirmed={props.confirmed.to_string()}>
                    <p>{ i18n.t(Msg::VerificationTechnician { code: code.to_string() }) }</p>
                    if props.confirmed {
                        <p class="code-confirmed">{ i18n.t(Msg::CodeConfirmedNote) }</p>
                    } else if let Some(on_confirm) = &props.on_confirm {
                        <button id={format!("{prefix}-confirm-code")} type="button" class="secondary"
                            onclick={let (media, code) = (props.media, crate::rtc::verify::digits(code));
                                on_confirm.reform(move |_: MouseEvent| (media, code.clone()))}>
                            { i18n.t(Msg::ConfirmCode) }
                        </button>
                    }
                </div>
            }
            <div class="actions view-actions">
                <button id={fit_id} type="button" class="secondary" disabled={!playing}
                    aria-pressed={(*fit == Fit::Fit).to_string()} onclick={set_fit(Fit::Fit)}>
                    { i18n.t(Msg::ViewFit) }
                </button>
                <button id={actual_id} type="button" class="secondary" disabled={!playing}
                    aria-pressed={(*fit == Fit::Actual).to_string()} onclick={set_fit(Fit::Actual)}>
                    { i18n.t(Msg::ViewActual) }
                </button>
                <button id={full_id} type="button" class="secondary" disabled={!playing} onclick={fullscreen}>
                    { i18n.t(Msg::ViewFullscreen) }
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rate_from_two_readings() {
        assert_eq!(frame_rate(0, 0.0, 30, 1000.0), Some(30.0));
        assert_eq!(frame_rate(30, 1000.0, 45, 1500.0), Some(30.0));
        assert_eq!(frame_rate(30, 1000.0, 30, 1000.0), None);
        assert_eq!(frame_rate(30, 1000.0, 10, 2000.0), None, "a reset counter");
    }
}
