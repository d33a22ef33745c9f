//! Painting areas of the shared screen over before its frames leave the browser: a
//! [`Redactor`] takes the captured track and gives a new track whose frames are the
//! captured ones with every [`Area`] filled solid black, so nothing inside an area is
//! ever encoded. What the peer connection sends (and the customer's preview shows) is
//! the new track.
//!
//! Two pipelines give the same frames:
//! - where the browser has the frame-processing APIs (Chromium), each `VideoFrame`
//!   from a `MediaStreamTrackProcessor` has its planes copied out and the areas filled
//!   black in them (I420, NV12, RGBA and kin: no colour conversion), or, for a frame of
//!   another kind, is drawn on an `OffscreenCanvas` with the areas filled; a new frame
//!   with the same timestamp goes to a `MediaStreamTrackGenerator`. With no area the
//!   frame passes untouched;
//! - elsewhere (Firefox), a muted `<video>` plays the capture, each new frame
//!   (`requestVideoFrameCallback`, or a timer at the track's frame rate where that is
//!   missing) is drawn on a canvas with the areas filled, and the canvas's
//!   `captureStream()` is the new track.
//!
//! A frame that cannot be painted is dropped, never sent as it was: the pipelines fail
//! closed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamTrack};

use super::areas::Area;
use super::RtcError;

/// The areas' colour.
const FILL: &str = "#000";

/// The canvas pipeline's frame rate when the browser cannot say when a frame arrives.
const FALLBACK_FPS: f64 = 30.0;

#[wasm_bindgen]
extern "C" {
    /// `MediaStreamTrackProcessor` (Chromium): a track's frames as a stream.
    #[wasm_bindgen(js_name = MediaStreamTrackProcessor)]
    type TrackProcessor;
    #[wasm_bindgen(constructor, js_class = "MediaStreamTrackProcessor", catch)]
    fn new(init: &Object) -> Result<TrackProcessor, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn readable(this: &TrackProcessor) -> ReadableStream;

    /// `MediaStreamTrackGenerator` (Chromium): a track made of the frames written to it.
    #[wasm_bindgen(js_name = MediaStreamTrackGenerator, extends = MediaStreamTrack)]
    type TrackGenerator;
    #[wasm_bindgen(constructor, js_class = "MediaStreamTrackGenerator", catch)]
    fn new(init: &Object) -> Result<TrackGenerator, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn writable(this: &TrackGenerator) -> JsValue;

    type ReadableStream;
    #[wasm_bindgen(method, js_name = pipeThrough)]
    fn pipe_through(this: &ReadableStream, transform: &TransformStream) -> ReadableStream;
    #[wasm_bindgen(method, js_name = pipeTo)]
    fn pipe_to(this: &ReadableStream, writable: &JsValue, options: &Object) -> Promise;

    type TransformStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(transformer: &Object) -> Result<TransformStream, JsValue>;

    type StreamController;
    #[wasm_bindgen(method, catch)]
    fn enqueue(this: &StreamController, chunk: &JsValue) -> Result<(), JsValue>;

    /// A WebCodecs `VideoFrame`.
    type VideoFrame;
    #[wasm_bindgen(constructor, catch)]
    fn new(image: &JsValue, init: &Object) -> Result<VideoFrame, JsValue>;
    #[wasm_bindgen(method, getter, js_name = displayWidth)]
    fn display_width(this: &VideoFrame) -> u32;
    #[wasm_bindgen(method, getter, js_name = displayHeight)]
    fn display_height(this: &VideoFrame) -> u32;
    #[wasm_bindgen(method, getter)]
    fn timestamp(this: &VideoFrame) -> f64;
    #[wasm_bindgen(method, getter)]
    fn duration(this: &VideoFrame) -> JsValue;
    #[wasm_bindgen(method)]
    fn close(this: &VideoFrame);
    /// `I420`, `NV12`, `RGBA`…, or null for a frame whose pixels are not readable.
    #[wasm_bindgen(method, getter)]
    fn format(this: &VideoFrame) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = visibleRect)]
    fn visible_rect(this: &VideoFrame) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = colorSpace)]
    fn color_space(this: &VideoFrame) -> JsValue;
    #[wasm_bindgen(method, js_name = allocationSize, catch)]
    fn allocation_size(this: &VideoFrame) -> Result<u32, JsValue>;
    #[wasm_bindgen(method, js_name = copyTo, catch)]
    fn copy_to(this: &VideoFrame, destination: &Uint8Array) -> Result<Promise, JsValue>;

    /// An `OffscreenCanvas` or a `<canvas>`: both have these.
    type Canvas;
    #[wasm_bindgen(constructor, js_class = "OffscreenCanvas", catch)]
    fn new_offscreen(width: u32, height: u32) -> Result<Canvas, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn width(this: &Canvas) -> u32;
    #[wasm_bindgen(method, setter)]
    fn set_width(this: &Canvas, width: u32);
    #[wasm_bindgen(method, getter)]
    fn height(this: &Canvas) -> u32;
    #[wasm_bindgen(method, setter)]
    fn set_height(this: &Canvas, height: u32);
    #[wasm_bindgen(method, js_name = getContext, catch)]
    fn get_context(this: &Canvas, kind: &str, options: &Object) -> Result<Context2d, JsValue>;
    #[wasm_bindgen(method, js_name = captureStream, catch)]
    fn capture_stream(this: &Canvas) -> Result<MediaStream, JsValue>;

    /// A canvas's 2D context (of either kind of canvas).
    type Context2d;
    #[wasm_bindgen(method, js_name = drawImage, catch)]
    fn draw_image(this: &Context2d, image: &JsValue, x: f64, y: f64) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter, js_name = fillStyle)]
    fn set_fill_style(this: &Context2d, style: &str);
    #[wasm_bindgen(method, js_name = fillRect)]
    fn fill_rect(this: &Context2d, x: f64, y: f64, w: f64, h: f64);
}

/// Whether this browser has the frame-processing APIs (else the canvas pipeline runs).
pub fn has_frame_processing() -> bool {
    let global = js_sys::global();
    [
        "MediaStreamTrackProcessor",
        "MediaStreamTrackGenerator",
        "VideoFrame",
        "OffscreenCanvas",
    ]
    .iter()
    .all(|name| Reflect::get(&global, &JsValue::from_str(name)).is_ok_and(|v| v.is_function()))
}

fn object(pairs: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// Fills `areas` on a `width` × `height` picture.
fn paint(ctx: &Context2d, areas: &[Area], width: u32, height: u32) {
    ctx.set_fill_style(FILL);
    for area in areas {
        let (x, y, w, h) = area.pixels(width, height);
        ctx.fill_rect(f64::from(x), f64::from(y), f64::from(w), f64::from(h));
    }
}

/// A 2D context on `canvas` that keeps no transparency and is read back often.
fn context(canvas: &Canvas) -> Result<Context2d, RtcError> {
    let options = object(&[
        ("alpha", &JsValue::FALSE),
        ("desynchronized", &JsValue::TRUE),
    ]);
    canvas
        .get_context("2d", &options)
        .map_err(RtcError::from)
        .and_then(|c| {
            if c.is_null() || c.is_undefined() {
                Err(RtcError::Unsupported)
            } else {
                Ok(c)
            }
        })
}

/// The canvas pipeline's drawing callback, which schedules itself.
type Tick = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;

/// The parts of the running pipeline, released when it stops.
enum Pipeline {
    Frames {
        generator: TrackGenerator,
        transform: Option<Closure<dyn FnMut(JsValue, JsValue) -> JsValue>>,
    },
    Canvas {
        video: HtmlVideoElement,
        stream: MediaStream,
        /// Whether the drawing loop goes on.
        running: Rc<Cell<bool>>,
        tick: Tick,
    },
}

/// The captured track with areas painted over.
pub struct Redactor {
    areas: Rc<RefCell<Vec<Area>>>,
    stream: MediaStream,
    track: MediaStreamTrack,
    pipeline: Pipeline,
}

impl Redactor {
    /// Starts painting over `track`'s frames (with no area yet, they pass as they are).
    pub fn new(track: &MediaStreamTrack) -> Result<Redactor, RtcError> {
        let areas = Rc::new(RefCell::new(Vec::new()));
        let (track_out, pipeline) = if has_frame_processing() {
            frames_pipeline(track, areas.clone())?
        } else {
            canvas_pipeline(track, areas.clone())?
        };
        Redactor::from_parts(track, areas, track_out, pipeline)
    }

    /// The canvas pipeline, whatever the browser has: what Firefox runs, for the tests
    /// to compare with the frames pipeline in the same browser.
    pub fn on_canvas(track: &MediaStreamTrack) -> Result<Redactor, RtcError> {
        let areas = Rc::new(RefCell::new(Vec::new()));
        let (track_out, pipeline) = canvas_pipeline(track, areas.clone())?;
        Redactor::from_parts(track, areas, track_out, pipeline)
    }

    fn from_parts(
        track: &MediaStreamTrack,
        areas: Rc<RefCell<Vec<Area>>>,
        track_out: MediaStreamTrack,
        pipeline: Pipeline,
    ) -> Result<Redactor, RtcError> {
        // The encoder treats the painted picture as it did the capture.
        if let Ok(hint) = Reflect::get(track, &"contentHint".into()) {
            let _ = Reflect::set(&track_out, &"contentHint".into(), &hint);
        }
        let stream = MediaStream::new().map_err(RtcError::from)?;
        stream.add_track(&track_out);
        Ok(Redactor {
            areas,
            stream,
            track: track_out,
            pipeline,
        })
    }

    /// The painted track, to send and to preview.
    pub fn track(&self) -> &MediaStreamTrack {
        &self.track
    }

    /// A stream holding [`Redactor::track`].
    pub fn stream(&self) -> &MediaStream {
        &self.stream
    }

    /// From the next frame on, these areas are painted.
    pub fn set_areas(&self, areas: &[Area]) {
        *self.areas.borrow_mut() = areas.to_vec();
    }

    /// Which pipeline runs (`frames` or `canvas`), for the page's `data-pipeline`.
    pub fn kind(&self) -> &'static str {
        match self.pipeline {
            Pipeline::Frames { .. } => "frames",
            Pipeline::Canvas { .. } => "canvas",
        }
    }
}

/// How long after a pipeline stops its callbacks are released: a frame already on its
/// way may still call them, and a released callback would throw.
const RELEASE_AFTER_MS: u32 = 1_000;

/// Drops `value` after [`RELEASE_AFTER_MS`], from a one-time callback that frees itself.
fn release_later<T: 'static>(value: T) {
    let release = Closure::once_into_js(move || drop(value));
    if let Some(window) = crate::browser::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            release.unchecked_ref(),
            RELEASE_AFTER_MS as i32,
        );
    }
}

impl Drop for Redactor {
    fn drop(&mut self) {
        self.track.stop();
        match &mut self.pipeline {
            Pipeline::Frames {
                generator,
                transform,
            } => {
                generator.stop();
                release_later(transform.take());
            }
            Pipeline::Canvas {
                video,
                stream,
                running,
                tick,
            } => {
                running.set(false);
                super::capture::stop_all(stream);
                let _ = video.pause();
                video.set_src_object(None);
                // The drawing callback holds itself (to schedule the next frame): let go.
                release_later(tick.borrow_mut().take());
            }
        }
    }
}

/// Chromium: processor → transform (paint) → generator.
fn frames_pipeline(
    track: &MediaStreamTrack,
    areas: Rc<RefCell<Vec<Area>>>,
) -> Result<(MediaStreamTrack, Pipeline), RtcError> {
    let processor = TrackProcessor::new(&object(&[("track", track.as_ref())]))?;
    let generator = TrackGenerator::new(&object(&[("kind", &JsValue::from_str("video"))]))?;
    let canvas: Rc<RefCell<Option<(Canvas, Context2d)>>> = Rc::new(RefCell::new(None));
    // Returns a promise: the stream hands over the next frame once it settles.
    let transform = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(
        move |chunk: JsValue, controller: JsValue| -> JsValue {
            let frame: VideoFrame = chunk.unchecked_into();
            let controller: StreamController = controller.unchecked_into();
            let areas = areas.borrow().clone();
            if areas.is_empty() {
                let _ = controller.enqueue(&frame);
                return JsValue::UNDEFINED;
            }
            let canvas = canvas.clone();
            future_to_promise(async move {
                // The planes as they are (no colour conversion), else through a canvas.
                let painted = match paint_planes(&frame, &areas).await {
                    Some(painted) => Some(painted),
                    None => paint_frame(&frame, &areas, &canvas),
                };
                frame.close();
                if let Some(painted) = painted {
                    if controller.enqueue(&painted).is_err() {
                        painted.close();
                    }
                }
                Ok(JsValue::UNDEFINED)
            })
            .into()
        },
    );
    let transformer = object(&[("transform", transform.as_ref())]);
    let stream = TransformStream::new(&transformer)?;
    // Ends by itself when the capture or the generator stops.
    let piped = processor
        .readable()
        .pipe_through(&stream)
        .pipe_to(&generator.writable(), &Object::new());
    spawn_local(async move {
        let _ = JsFuture::from(piped).await;
    });
    let out: MediaStreamTrack = generator.clone().unchecked_into();
    Ok((
        out,
        Pipeline::Frames {
            generator,
            transform: Some(transform),
        },
    ))
}

/// How a frame's pixels are laid out, for painting them in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planes {
    /// Y, then U and V at half the width and height (and alpha, left as it is).
    I420,
    /// Y, then U and V interleaved at half the width and height.
    Nv12,
    /// Four bytes a pixel; `alpha` when the fourth byte is opacity.
    Packed { alpha: bool },
}

impl Planes {
    fn of(format: &str) -> Option<Planes> {
        Some(match format {
            "I420" | "I420A" => Planes::I420,
            "NV12" => Planes::Nv12,
            "RGBA" | "BGRA" => Planes::Packed { alpha: true },
            "RGBX" | "BGRX" => Planes::Packed { alpha: false },
            _ => return None,
        })
    }
}

fn number(value: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(value, &JsValue::from_str(key)).ok()?.as_f64()
}

/// `frame` with `areas` filled black in its own planes (one copy out, one in, no
/// colour conversion), as a new frame with its timestamp; `None` for a format this
/// does not know or a frame whose pixels cannot be read (then the canvas paints it).
async fn paint_planes(frame: &VideoFrame, areas: &[Area]) -> Option<VideoFrame> {
    let format = frame.format().as_string()?;
    let planes = Planes::of(&format)?;
    let rect = frame.visible_rect();
    let (width, height) = (
        number(&rect, "width")? as u32,
        number(&rect, "height")? as u32,
    );
    if width == 0 || height == 0 {
        return None;
    }
    let buffer = Uint8Array::new_with_length(frame.allocation_size().ok()?);
    let layout: Array = JsFuture::from(frame.copy_to(&buffer).ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let plane = |i: u32| -> Option<(u32, u32)> {
        let p = layout.get(i);
        Some((number(&p, "offset")? as u32, number(&p, "stride")? as u32))
    };
    let full_range = Reflect::get(&frame.color_space(), &"fullRange".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    // Black: Y at the bottom of its range, colour in the middle.
    let (y_black, chroma) = (if full_range { 0 } else { 16 }, 128);
    let fill = |offset: u32, stride: u32, rows: (u32, u32), bytes: (u32, u32), value: u8| {
        for row in rows.0..rows.1 {
            let start = offset + row * stride;
            buffer.fill(value, start + bytes.0, start + bytes.1);
        }
    };
    for area in areas {
        let (x, y, w, h) = area.pixels(width, height);
        let (x1, y1) = (x + w, y + h);
        match planes {
            Planes::I420 | Planes::Nv12 => {
                let (y_offset, y_stride) = plane(0)?;
                fill(y_offset, y_stride, (y, y1), (x, x1), y_black);
                // Every chroma sample the area touches.
                let rows = (y / 2, y1.div_ceil(2));
                let cols = (x / 2, x1.div_ceil(2));
                if planes == Planes::I420 {
                    for i in [1, 2] {
                        let (offset, stride) = plane(i)?;
                        fill(offset, stride, rows, cols, chroma);
                    }
                } else {
                    let (offset, stride) = plane(1)?;
                    fill(offset, stride, rows, (cols.0 * 2, cols.1 * 2), chroma);
                }
            }
            Planes::Packed { alpha } => {
                let (offset, stride) = plane(0)?;
                if !alpha {
                    fill(offset, stride, (y, y1), (x * 4, x1 * 4), 0);
                } else {
                    // Opaque black, not transparent: one row of it, set on each row.
                    let black: Vec<u8> = [0u8, 0, 0, 255].repeat(w as usize);
                    let black = Uint8Array::from(&black[..]);
                    for row in y..y1 {
                        buffer.set(&black, offset + row * stride + x * 4);
                    }
                }
            }
        }
    }
    let init = object(&[
        ("format", &JsValue::from_str(&format)),
        ("codedWidth", &JsValue::from(width)),
        ("codedHeight", &JsValue::from(height)),
        ("timestamp", &JsValue::from_f64(frame.timestamp())),
        ("layout", &layout),
        ("colorSpace", &frame.color_space()),
        ("displayWidth", &JsValue::from(frame.display_width())),
        ("displayHeight", &JsValue::from(frame.display_height())),
    ]);
    let duration = frame.duration();
    if duration.as_f64().is_some() {
        let _ = Reflect::set(&init, &"duration".into(), &duration);
    }
    VideoFrame::new(&buffer, &init).ok()
}

/// `frame` drawn with `areas` filled, as a new frame with its timestamp; `None` if it
/// could not be (the frame is then not sent).
fn paint_frame(
    frame: &VideoFrame,
    areas: &[Area],
    canvas: &RefCell<Option<(Canvas, Context2d)>>,
) -> Option<VideoFrame> {
    let (width, height) = (frame.display_width(), frame.display_height());
    if width == 0 || height == 0 {
        return None;
    }
    let mut slot = canvas.borrow_mut();
    if slot.is_none() {
        let c = Canvas::new_offscreen(width, height).ok()?;
        let ctx = context(&c).ok()?;
        *slot = Some((c, ctx));
    }
    let (c, ctx) = slot.as_ref()?;
    if c.width() != width || c.height() != height {
        c.set_width(width);
        c.set_height(height);
    }
    ctx.draw_image(frame, 0.0, 0.0).ok()?;
    paint(ctx, areas, width, height);
    let init = object(&[("timestamp", &JsValue::from_f64(frame.timestamp()))]);
    let duration = frame.duration();
    if duration.as_f64().is_some() {
        let _ = Reflect::set(&init, &"duration".into(), &duration);
    }
    VideoFrame::new(c, &init).ok()
}

/// Elsewhere: `<video>` → canvas (paint) → `captureStream()`.
fn canvas_pipeline(
    track: &MediaStreamTrack,
    areas: Rc<RefCell<Vec<Area>>>,
) -> Result<(MediaStreamTrack, Pipeline), RtcError> {
    let document = crate::browser::window()
        .and_then(|w| w.document())
        .ok_or(RtcError::Unsupported)?;
    let video: HtmlVideoElement = document
        .create_element("video")
        .map_err(RtcError::from)?
        .unchecked_into();
    video.set_muted(true);
    let _ = video.set_attribute("playsinline", "");
    let input = MediaStream::new().map_err(RtcError::from)?;
    input.add_track(track);
    video.set_src_object(Some(&input));
    let canvas: Canvas = document
        .create_element("canvas")
        .map_err(RtcError::from)?
        .unchecked_into();
    canvas.set_width(2);
    canvas.set_height(2);
    let ctx = context(&canvas)?;
    let stream = canvas.capture_stream().map_err(RtcError::from)?;
    let out: MediaStreamTrack = stream
        .get_video_tracks()
        .get(0)
        .dyn_into()
        .map_err(|_| RtcError::Unsupported)?;
    let running = Rc::new(Cell::new(true));
    let tick: Tick = Rc::new(RefCell::new(None));
    let rvfc = Reflect::get(&video, &"requestVideoFrameCallback".into())
        .ok()
        .filter(|f| f.is_function())
        .map(|f| f.unchecked_into::<Function>());
    let first_rvfc = rvfc.clone();
    let fps = Reflect::get(&track.get_settings(), &"frameRate".into())
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|f| *f > 0.0)
        .unwrap_or(FALLBACK_FPS);
    {
        let (video, running, tick_again) = (video.clone(), running.clone(), tick.clone());
        *tick.borrow_mut() = Some(Closure::<dyn FnMut()>::new(move || {
            if !running.get() {
                return;
            }
            let (width, height) = (video.video_width(), video.video_height());
            if width > 0 && height > 0 {
                if canvas.width() != width || canvas.height() != height {
                    canvas.set_width(width);
                    canvas.set_height(height);
                }
                // A frame that cannot be drawn leaves the canvas as it was.
                if ctx.draw_image(&video, 0.0, 0.0).is_ok() {
                    paint(&ctx, &areas.borrow(), width, height);
                }
            }
            let again = tick_again.borrow();
            let Some(again) = again.as_ref() else { return };
            schedule(&video, rvfc.as_ref(), again, fps);
        }));
    }
    let _ = video.play();
    if let Some(first) = tick.borrow().as_ref() {
        schedule(&video, first_rvfc.as_ref(), first, fps);
    }
    Ok((
        out,
        Pipeline::Canvas {
            video,
            stream,
            running,
            tick,
        },
    ))
}

/// Calls `tick` at the video's next frame, or after one frame's time.
fn schedule(
    video: &HtmlVideoElement,
    rvfc: Option<&Function>,
    tick: &Closure<dyn FnMut()>,
    fps: f64,
) {
    if let Some(rvfc) = rvfc {
        if rvfc.call1(video, tick.as_ref()).is_ok() {
            return;
        }
    }
    if let Some(window) = crate::browser::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            (1000.0 / fps).round() as i32,
        );
    }
}
