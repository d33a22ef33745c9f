//! Painting areas over a track in headless Chromium, through both pipelines (the
//! frames one Chromium runs, and the canvas one Firefox runs): inside an area every
//! pixel of what comes out is black, outside it is the source's.
#![cfg(target_arch = "wasm32")]

use connectit::rtc::areas::Area;
use connectit::rtc::redact::{has_frame_processing, Redactor};
use gloo_timers::callback::Interval;
use gloo_timers::future::TimeoutFuture;
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

/// A white 320×180 canvas, painted again every frame, and its captured track.
fn white_source() -> (MediaStreamTrack, Interval) {
    let make = Function::new_no_args(
        "const c = document.createElement('canvas'); c.width = 320; c.height = 180; \
         const g = c.getContext('2d'); \
         const paint = () => { g.fillStyle = '#fff'; g.fillRect(0, 0, 320, 180); }; \
         paint(); return [c.captureStream().getVideoTracks()[0], paint];",
    );
    let parts: js_sys::Array = make.call0(&JsValue::NULL).unwrap().unchecked_into();
    let track: MediaStreamTrack = parts.get(0).unchecked_into();
    let paint: Function = parts.get(1).unchecked_into();
    let keep = Interval::new(33, move || {
        let _ = paint.call0(&JsValue::NULL);
    });
    (track, keep)
}

/// A white 320×180 track of `format` (`I420` or `NV12`) frames written by hand, as a
/// camera or a screen capture gives them, and what keeps writing them.
fn white_planar_source(format: &str) -> (MediaStreamTrack, Interval) {
    let make = Function::new_with_args(
        "format",
        "const gen = new MediaStreamTrackGenerator({ kind: 'video' }); \
         const writer = gen.writable.getWriter(); \
         const w = 320, h = 180, y = new Uint8Array(w * h).fill(235); \
         const c = new Uint8Array(w * h / 2).fill(128); \
         const data = new Uint8Array(w * h * 3 / 2); data.set(y, 0); data.set(c, w * h); \
         let t = 0; \
         const write = () => { \
           const f = new VideoFrame(data, { format, codedWidth: w, codedHeight: h, timestamp: (t += 33333) }); \
           writer.write(f).catch(() => f.close()); \
         }; \
         write(); return [gen, write];",
    );
    let parts: js_sys::Array = make
        .call1(&JsValue::NULL, &JsValue::from_str(format))
        .unwrap()
        .unchecked_into();
    let track: MediaStreamTrack = parts.get(0).unchecked_into();
    let write: Function = parts.get(1).unchecked_into();
    let keep = Interval::new(33, move || {
        let _ = write.call0(&JsValue::NULL);
    });
    (track, keep)
}

/// The red channel of each point (`x`, `y`) of what `stream` shows, once it shows frames.
async fn pixels(stream: &MediaStream, points: &[(u32, u32)]) -> Vec<u8> {
    let document = web_sys::window().unwrap().document().unwrap();
    let video: HtmlVideoElement = document.create_element("video").unwrap().unchecked_into();
    video.set_muted(true);
    video.set_src_object(Some(stream));
    let _ = video.play();
    for _ in 0..100 {
        if video.video_width() > 0 {
            break;
        }
        TimeoutFuture::new(50).await;
    }
    assert!(video.video_width() > 0, "the painted track shows frames");
    // A few frames later: the areas set before are in every frame by then.
    TimeoutFuture::new(300).await;
    let read = Function::new_with_args(
        "v, points",
        "const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight; \
         const g = c.getContext('2d'); g.drawImage(v, 0, 0); \
         return points.map(([x, y]) => g.getImageData(x, y, 1, 1).data[0]);",
    );
    let points: js_sys::Array = points
        .iter()
        .map(|(x, y)| js_sys::Array::of2(&(*x).into(), &(*y).into()))
        .collect();
    let out: js_sys::Array = read
        .call2(&JsValue::NULL, &video, &points)
        .unwrap()
        .unchecked_into();
    video.set_src_object(None);
    out.iter()
        .map(|v| v.as_f64().unwrap_or(-1.0) as u8)
        .collect()
}

/// The middle quarter of the picture hidden; a point inside, two outside.
async fn check(redactor: Redactor) {
    redactor.set_areas(&[Area {
        x: 0.25,
        y: 0.25,
        w: 0.5,
        h: 0.5,
    }]);
    let seen = pixels(
        redactor.stream(),
        &[(160, 90), (85, 50), (10, 10), (310, 170)],
    )
    .await;
    assert!(
        seen[0] < 16 && seen[1] < 16,
        "black inside the area: {seen:?}"
    );
    assert!(seen[2] > 240 && seen[3] > 240, "white outside: {seen:?}");
    // No area: the picture passes whole.
    redactor.set_areas(&[]);
    let seen = pixels(redactor.stream(), &[(160, 90)]).await;
    assert!(seen[0] > 240, "the whole picture again: {seen:?}");
}

#[wasm_bindgen_test]
async fn the_frames_pipeline_paints_the_areas_black() {
    assert!(
        has_frame_processing(),
        "Chromium has the frame-processing APIs"
    );
    let (track, _paint) = white_source();
    let redactor = Redactor::new(&track).expect("a redactor");
    assert_eq!(redactor.kind(), "frames");
    check(redactor).await;
}

#[wasm_bindgen_test]
async fn planar_frames_are_painted_in_their_own_planes() {
    for format in ["I420", "NV12"] {
        let (track, _write) = white_planar_source(format);
        let redactor = Redactor::new(&track).expect("a redactor");
        assert_eq!(redactor.kind(), "frames");
        check(redactor).await;
        track.stop();
    }
}

#[wasm_bindgen_test]
async fn the_canvas_pipeline_paints_the_same() {
    let (track, _paint) = white_source();
    let redactor = Redactor::on_canvas(&track).expect("a redactor");
    assert_eq!(redactor.kind(), "canvas");
    check(redactor).await;
}

#[wasm_bindgen_test]
async fn dropping_the_redactor_ends_its_track() {
    let (track, _paint) = white_source();
    let redactor = Redactor::new(&track).expect("a redactor");
    let out = Clone::clone(redactor.track());
    drop(redactor);
    assert_eq!(out.ready_state(), web_sys::MediaStreamTrackState::Ended);
    assert_eq!(
        track.ready_state(),
        web_sys::MediaStreamTrackState::Live,
        "the capture is not the redactor's to stop"
    );
}
