//! Frames a `<video>` decodes and presents: never its size, always its motion.

use std::time::Duration;

use serde_json::{json, Value};

use super::Browser;

impl Browser {
    /// Counts the frames the video element `selector` decodes and presents during
    /// `window`, in the page: `requestVideoFrameCallback` calls and the growth of
    /// `getVideoPlaybackQuality().totalVideoFrames`, and reads `videoWidth`/`videoHeight`
    /// at the end.
    pub async fn count_frames(&self, selector: &str, window: Duration) -> FrameCount {
        let value = self
            .eval(
                COUNT_FRAMES,
                vec![json!(selector), json!(window.as_millis() as u64)],
            )
            .await;
        let n = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
        let b = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        FrameCount {
            present: b("present"),
            has_source: b("hasSource"),
            presented: n("rvfc"),
            decoded: n("decoded"),
            width: n("width"),
            height: n("height"),
        }
    }

    /// Waits until `selector` shows at least `min` new frames within one `window`, with
    /// a size above zero; the count that did it.
    pub async fn wait_frames(&self, selector: &str, min: u64, window: Duration) -> FrameCount {
        self.wait_for(
            &format!("{selector} to show ≥ {min} frames within {window:?}"),
            || async {
                let count = self.count_frames(selector, window).await;
                if count.frames() >= min && count.has_size() {
                    Ok(count)
                } else {
                    Err(format!("{count:?}"))
                }
            },
        )
        .await
    }
}

/// The colour of a part of a video's current frame (see [`Browser::region`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// Mean red, green and blue, 0 to 255.
    pub mean: [f64; 3],
    /// The brightest channel of any pixel.
    pub max: u8,
    /// The darkest channel of any pixel.
    pub min: u8,
    /// The frame's size.
    pub width: u32,
    pub height: u32,
}

impl Region {
    /// The largest difference of a mean channel from `other`'s.
    pub fn distance(&self, other: &Region) -> f64 {
        (0..3)
            .map(|i| (self.mean[i] - other.mean[i]).abs())
            .fold(0.0, f64::max)
    }
}

/// Draws the video's current frame on a canvas and reads the pixels of a rectangle
/// given in fractions of the picture.
const REGION: &str = r#"
const [selector, x0, y0, x1, y1] = arguments;
const video = document.querySelector(selector);
if (!video || !video.videoWidth || !video.videoHeight) return null;
const canvas = document.createElement('canvas');
canvas.width = video.videoWidth;
canvas.height = video.videoHeight;
const g = canvas.getContext('2d', { willReadFrequently: true });
g.drawImage(video, 0, 0);
const ax = Math.floor(x0 * canvas.width), ay = Math.floor(y0 * canvas.height);
const w = Math.max(1, Math.floor(x1 * canvas.width) - ax);
const h = Math.max(1, Math.floor(y1 * canvas.height) - ay);
const data = g.getImageData(ax, ay, w, h).data;
const sum = [0, 0, 0];
let max = 0, min = 255, n = 0;
for (let i = 0; i < data.length; i += 4) {
  for (let k = 0; k < 3; k++) {
    sum[k] += data[i + k];
    if (data[i + k] > max) max = data[i + k];
    if (data[i + k] < min) min = data[i + k];
  }
  n++;
}
return { mean: sum.map((s) => s / n), max, min, width: canvas.width, height: canvas.height };
"#;

impl Browser {
    /// The colour of the rectangle `(x0, y0)`–`(x1, y1)` (fractions of the picture) of
    /// the frame `selector` shows now; `None` while it shows none.
    pub async fn region(&self, selector: &str, rect: (f64, f64, f64, f64)) -> Option<Region> {
        let (x0, y0, x1, y1) = rect;
        let v = self
            .eval(
                REGION,
                vec![json!(selector), json!(x0), json!(y0), json!(x1), json!(y1)],
            )
            .await;
        let mean = v.get("mean")?.as_array()?;
        let channel = |i: usize| mean.get(i).and_then(Value::as_f64).unwrap_or(0.0);
        let n = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
        Some(Region {
            mean: [channel(0), channel(1), channel(2)],
            max: n("max") as u8,
            min: n("min") as u8,
            width: n("width") as u32,
            height: n("height") as u32,
        })
    }
}

/// Frames a video element showed during a window of time (see [`Browser::count_frames`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCount {
    /// Whether the element was on the page.
    pub present: bool,
    /// Whether it had a `srcObject` at the end.
    pub has_source: bool,
    /// `requestVideoFrameCallback` calls (frames presented).
    pub presented: u64,
    /// Growth of `totalVideoFrames` (frames decoded).
    pub decoded: u64,
    pub width: u64,
    pub height: u64,
}

impl FrameCount {
    /// New frames seen by either measure.
    pub fn frames(&self) -> u64 {
        self.presented.max(self.decoded)
    }

    /// `videoWidth` and `videoHeight` above zero (no exact size: the fake capture's size
    /// varies and the received resolution ramps up).
    pub fn has_size(&self) -> bool {
        self.width > 0 && self.height > 0
    }
}

/// `arguments`: the video's selector and the window in ms. Resolves to the counts.
const COUNT_FRAMES: &str = r#"
const [selector, ms] = arguments;
const v = document.querySelector(selector);
if (!v) return { present: false, hasSource: false, rvfc: 0, decoded: 0, width: 0, height: 0 };
const total = () => v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
const q0 = total();
let rvfc = 0;
let live = true;
let handle = null;
if (typeof v.requestVideoFrameCallback === 'function') {
  const onFrame = () => {
    if (!live) return;
    rvfc += 1;
    handle = v.requestVideoFrameCallback(onFrame);
  };
  handle = v.requestVideoFrameCallback(onFrame);
}
return new Promise((resolve) => setTimeout(() => {
  live = false;
  if (handle !== null && typeof v.cancelVideoFrameCallback === 'function') {
    v.cancelVideoFrameCallback(handle);
  }
  resolve({
    present: true,
    hasSource: !!v.srcObject,
    rvfc,
    decoded: Math.max(0, total() - q0),
    width: v.videoWidth || 0,
    height: v.videoHeight || 0,
  });
}, ms));
"#;
