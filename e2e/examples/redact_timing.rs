//! What painting areas over costs a screen share: the latency each frame gains from
//! the customer's capture to the technician's screen, and the CPU the customer's
//! browser spends, at 1280×720 and 1920×1080 and 30 frames a second, with one area
//! painted and without (the unprocessed share, the floor), in the same session of the
//! same two headless Chromium browsers. Not a test: it asserts nothing about speed.
//!
//! The picture: before the app loads, the customer page's `getDisplayMedia` is replaced
//! by a canvas of the chosen size drawn 30 times a second (a moving pattern, so the
//! encoder works as on a real screen), whose top strip carries the time it was drawn as
//! 32 black or white blocks. The technician's page reads the strip of every frame its
//! video presents (`requestVideoFrameCallback`) and subtracts that time from its own
//! clock: both browsers run on this machine and read the same clock, so the difference
//! is the frame's whole way (paint, encode, send, decode, present). The CPU is the
//! customer browser's processes' user and system time over the same window, from
//! `/proc`, as a share of one core.
//!
//! For each size: share, measure the unprocessed share, "Hide an area" (the middle,
//! away from the strip), wait until the technician's picture is black there, measure
//! again, stop.
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example redact_timing -- 10` (seconds measured per
//! figure; 10 by default). `--rows FILE` appends rows to `scripts/bench`'s table.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::stats::percentile;
use connectit_e2e::{proof, BrokerOptions, World};

/// The sizes measured.
const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

/// Frames drawn per second.
const FPS: u32 = 30;

/// Replaces `getDisplayMedia` (before the page's scripts) with a canvas of
/// `__redactBench.width × height` at 30 fps that carries its drawing time in its top
/// strip. Its `%W%` and `%H%` are the size.
const FAKE_SCREEN: &str = r#"
(() => {
  const W = %W%, H = %H%, FPS = 30, BITS = 32, STRIP = 48;
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = W; canvas.height = H;
    const g = canvas.getContext('2d');
    const stream = canvas.captureStream(FPS);
    let n = 0;
    const draw = () => {
      n++;
      // A moving picture below the strip: stripes and text, as a screen has.
      g.fillStyle = '#2b5797'; g.fillRect(0, STRIP, W, H - STRIP);
      g.fillStyle = '#f0f0f0';
      for (let x = (n * 7) % 80; x < W; x += 80) g.fillRect(x, STRIP, 20, H - STRIP);
      g.fillStyle = '#ffd800'; g.font = '48px sans-serif';
      g.fillText('frame ' + n, 40 + (n % 200), H / 2);
      // The time, in ms modulo 2^32, as blocks: white is 1.
      const t = Math.floor(performance.timeOrigin + performance.now()) % 4294967296;
      const bw = Math.floor(W / BITS);
      for (let i = 0; i < BITS; i++) {
        g.fillStyle = ((t / 2 ** (BITS - 1 - i)) & 1) ? '#fff' : '#000';
        g.fillRect(i * bw, 0, bw, STRIP);
      }
    };
    draw();
    setInterval(draw, 1000 / FPS);
    return stream;
  };
})();
"#;

/// Technician side: from now on, every frame the video presents is read for its time;
/// `window.__lat` collects `now − time` in ms.
const WATCH_LATENCY: &str = r#"
const [selector] = arguments;
const BITS = 32, STRIP = 48;
const st = { samples: [], on: true };
window.__lat = st;
const canvas = document.createElement('canvas');
const g = canvas.getContext('2d', { willReadFrequently: true });
const v = document.querySelector(selector);
const onFrame = (now) => {
  if (!st.on) return;
  const W = v.videoWidth, H = v.videoHeight;
  if (W && H) {
    canvas.width = W; canvas.height = STRIP;
    g.drawImage(v, 0, 0, W, STRIP, 0, 0, W, STRIP);
    const bw = Math.floor(W / BITS);
    const row = g.getImageData(0, Math.floor(STRIP / 2), W, 1).data;
    let t = 0;
    for (let i = 0; i < BITS; i++) {
      const x = Math.floor(i * bw + bw / 2);
      t = t * 2 + (row[x * 4] > 127 ? 1 : 0);
    }
    const mine = Math.floor(performance.timeOrigin + now) % 4294967296;
    const d = mine - t;
    // A misread strip (a frame half decoded) gives nonsense: kept out.
    if (d >= 0 && d < 5000) st.samples.push(d);
  }
  v.requestVideoFrameCallback(onFrame);
};
v.requestVideoFrameCallback(onFrame);
return true;
"#;

/// CPU time (user + system) of every process in `group`, in seconds.
fn group_cpu_secs(group: u32) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state is field 3, pgrp 5, utime 14,
        // stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
        if field(5) == Some(f64::from(group)) {
            total += field(14).unwrap_or(0.0) + field(15).unwrap_or(0.0);
        }
    }
    total / ticks
}

/// One window: latency samples (ms) and the customer's CPU (share of one core).
struct Window {
    latency: Vec<f64>,
    cpu: f64,
    fps: f64,
}

async fn measure(w: &World, secs: u64) -> Window {
    let group = w
        .cust
        .process_group()
        .expect("the customer's browser runs in its own process group");
    w.tech
        .eval(WATCH_LATENCY, vec![json!(proof::TECH_VIDEO)])
        .await;
    let (cpu0, t0) = (group_cpu_secs(group), Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (cpu1, elapsed) = (group_cpu_secs(group), t0.elapsed().as_secs_f64());
    let taken = w
        .tech
        .eval(
            "window.__lat.on = false; return window.__lat.samples;",
            vec![],
        )
        .await;
    let latency: Vec<f64> = match taken {
        Value::Array(items) => items.iter().filter_map(Value::as_f64).collect(),
        _ => Vec::new(),
    };
    Window {
        fps: latency.len() as f64 / elapsed,
        latency,
        cpu: (cpu1 - cpu0) / elapsed,
    }
}

fn median_p95(samples: &mut [f64]) -> (f64, f64) {
    assert!(
        !samples.is_empty(),
        "the technician's page read no frame's time"
    );
    samples.sort_by(f64::total_cmp);
    (percentile(samples, 50.0), percentile(samples, 95.0))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows_path = bench::rows_argument(&args);
    let secs: u64 = bench::runs_argument(&args, &[])
        .map(|n| n.parse().expect("the seconds are a positive integer"))
        .unwrap_or(10);
    bench::print_broker_note();
    let mut rows = Vec::new();
    for (width, height) in SIZES {
        let w = World::start(BrokerOptions::default()).await;
        let script = FAKE_SCREEN
            .replace("%W%", &width.to_string())
            .replace("%H%", &height.to_string());
        w.cust.before_page_scripts(&script).await;
        let (console, customer, _) = w.active_session().await;
        console.see_screen_of(&customer, "Measuring", 10).await;
        // Settle: the encoder ramps its rate up over the first seconds.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut plain = measure(&w, secs).await;
        w.cust.click("#hide-area").await;
        proof::wait_black(&w.tech, proof::inside(proof::ADDED)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut painted = measure(&w, secs).await;

        let size = format!("{width}×{height}");
        let (p_med, p_p95) = median_p95(&mut plain.latency);
        let (r_med, r_p95) = median_p95(&mut painted.latency);
        println!(
            "{size}: unprocessed {p_med:.1} / {p_p95:.1} ms (median / p95), {:.1} fps, customer CPU {:.0} % of a core",
            plain.fps,
            plain.cpu * 100.0
        );
        println!(
            "{size}: one area painted {r_med:.1} / {r_p95:.1} ms, {:.1} fps, customer CPU {:.0} % of a core (pipeline: {})",
            painted.fps,
            painted.cpu * 100.0,
            w.cust
                .attr("#sharing-indicator .redact-stage", "data-pipeline")
                .await
                .unwrap_or_default()
        );
        let floor_is = "the same share, unprocessed, same session";
        rows.push(Row::new(
            &format!("screen {size} {FPS} fps with an area painted: capture → technician's screen, median"),
            "ms",
            r_med,
            p_med,
            floor_is,
        ));
        rows.push(Row::new(
            &format!(
                "screen {size} {FPS} fps with an area painted: capture → technician's screen, p95"
            ),
            "ms",
            r_p95,
            p_p95,
            floor_is,
        ));
        rows.push(Row::new(
            &format!("screen {size} {FPS} fps with an area painted: customer browser CPU"),
            "% of a core",
            painted.cpu * 100.0,
            plain.cpu * 100.0,
            floor_is,
        ));
        w.close().await;
    }
    if let Some(path) = rows_path {
        append_rows(&path, &rows).unwrap_or_else(|e| panic!("write the rows: {e}"));
    }
}
