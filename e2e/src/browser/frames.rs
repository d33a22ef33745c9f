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
