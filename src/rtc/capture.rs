//! Capturing what the customer shares: `getDisplayMedia` for the screen (the browser's
//! own picker), `getUserMedia` for the camera. [`CaptureRequest::start`] must run inside
//! the click handler (the user gesture), before any `await`; [`CaptureRequest::finish`]
//! then waits for the picker. A [`Capture`] owns the stream and its `ended` listener, and
//! stops every track when stopped or dropped.
//!
//! Beware: `MediaStream` and `MediaStreamTrack` have a JavaScript `clone()` that web-sys
//! binds as an inherent method, so `stream.clone()` makes a *new* stream with new live
//! tracks. Copy a handle with `Clone::clone(&stream)`.

use connectit_protocol::Media;
use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DisplayMediaStreamConstraints, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    MediaStreamTrackState,
};

use super::RtcError;

/// Whether this browser can capture `media` at all: feature detection, not a version
/// check (a phone browser has no `getDisplayMedia`, a page outside a secure context no
/// `navigator.mediaDevices`). What cannot be captured is not offered.
pub fn supported(media: Media) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let devices =
        match js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("mediaDevices")) {
            Ok(devices) if devices.is_object() => devices,
            _ => return false,
        };
    let method = match media {
        Media::Screen => "getDisplayMedia",
        Media::Camera => "getUserMedia",
    };
    js_sys::Reflect::get(&devices, &JsValue::from_str(method))
        .map(|f| f.is_function())
        .unwrap_or(false)
}

/// A capture asked for and not answered yet (the picker is open).
pub struct CaptureRequest {
    media: Media,
    answer: JsFuture,
}

impl CaptureRequest {
    /// Asks the browser for `media` now. Call it synchronously from a click handler:
    /// the browser allows the picker only within the user's gesture.
    pub fn start(media: Media) -> Result<CaptureRequest, RtcError> {
        if !supported(media) {
            return Err(RtcError::Unsupported);
        }
        let devices = web_sys::window()
            .ok_or(RtcError::Unsupported)?
            .navigator()
            .media_devices()
            .map_err(|_| RtcError::Unsupported)?;
        let promise = match media {
            Media::Screen => {
                let constraints = DisplayMediaStreamConstraints::new();
                constraints.set_video(&JsValue::TRUE);
                constraints.set_audio(&JsValue::FALSE);
                devices.get_display_media_with_constraints(&constraints)?
            }
            Media::Camera => {
                let constraints = MediaStreamConstraints::new();
                constraints.set_video(&JsValue::TRUE);
                constraints.set_audio(&JsValue::FALSE);
                devices.get_user_media_with_constraints(&constraints)?
            }
        };
        Ok(CaptureRequest {
            media,
            answer: JsFuture::from(promise),
        })
    }

    pub fn media(&self) -> Media {
        self.media
    }

    /// Waits for the person's choice. `on_ended` is called if the browser later ends the
    /// capture by itself (its own "Stop sharing" bar, a closed window, an unplugged
    /// camera); stopping it from the page does not call it.
    pub async fn finish(self, on_ended: impl FnMut() + 'static) -> Result<Capture, RtcError> {
        let stream: MediaStream = self
            .answer
            .await?
            .dyn_into()
            .map_err(|_| RtcError::Unsupported)?;
        Capture::new(self.media, stream, on_ended)
    }
}

/// A live capture: the stream, its video track and the listener of the track's end.
pub struct Capture {
    media: Media,
    stream: MediaStream,
    track: MediaStreamTrack,
    _ended: EventListener,
}

impl Capture {
    fn new(
        media: Media,
        stream: MediaStream,
        mut on_ended: impl FnMut() + 'static,
    ) -> Result<Capture, RtcError> {
        let track: MediaStreamTrack = stream
            .get_video_tracks()
            .get(0)
            .dyn_into()
            .map_err(|_| RtcError::NoDevice)?;
        let ended = EventListener::once(&track, "ended", move |_| on_ended());
        Ok(Capture {
            media,
            stream,
            track,
            _ended: ended,
        })
    }

    pub fn media(&self) -> Media {
        self.media
    }

    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }

    pub fn track(&self) -> &MediaStreamTrack {
        &self.track
    }

    /// Whether the track still delivers frames.
    pub fn is_live(&self) -> bool {
        self.track.ready_state() == MediaStreamTrackState::Live
    }

    /// Stops every track of the stream (`readyState` becomes `ended`).
    pub fn stop(&self) {
        self.track.stop();
        stop_all(&self.stream);
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops every track of `stream`.
pub fn stop_all(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        // `getTracks` returns only tracks (of subclasses, for some captures).
        track.unchecked_into::<MediaStreamTrack>().stop();
    }
}
