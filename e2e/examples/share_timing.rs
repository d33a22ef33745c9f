//! How long it takes from the customer's click on "grant" to the first decoded frame of
//! their screen at the technician's console, and the same for a bare two-page
//! `RTCPeerConnection` (the floor), in the same two headless Chromium browsers, in the
//! same run. Not a test: it asserts nothing about speed.
//!
//! One clock for both ends: both browsers run on this machine, so both pages read the
//! same system clock through `performance.timeOrigin + performance.now()`:
//!
//! - the click: a capture-phase `click` listener on the customer page's `window` keeps
//!   `timeOrigin + event.timeStamp` of the click on the grant button (it runs before the
//!   page's own handler);
//! - the first frame: `requestVideoFrameCallback` on the technician's video element
//!   (re-registered whenever the page swaps the element), `timeOrigin + now` of the
//!   first frame presented while the element has a `srcObject`.
//!
//! **ConnectIT** (N runs in one session): the technician requests "view screen", the
//! customer presses `#grant-all` (the page calls `getDisplayMedia` in the click, acks the
//! grant, offers, the broker relays SDP and ICE over the session's WebSocket), the
//! technician's `#screen-video` shows the first frame; then the customer revokes
//! everything and the next run starts.
//!
//! **Floor** (N runs): a page this example serves itself on 127.0.0.1 (one HTML file,
//! `?role=sender` in the customer's browser, `?role=receiver` in the technician's), with
//! signaling relayed by the example (Server-Sent Events down, `fetch` POSTs up, in
//! order): a click on `#start` calls `getDisplayMedia`, makes an `RTCPeerConnection` with
//! no ICE servers, offers, trickles ICE; the receiver answers and shows the video. Each
//! run loads both pages afresh.
//!
//! Each side gets one untimed warm-up run first (codec and JIT warm-up would otherwise
//! all land on ConnectIT, which runs first).
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example share_timing -- 9`
//! (or `SHARE_TIMING_RUNS=9`; 9 runs by default). It prints every run, then median and
//! p95 for both and their ratio; `--timeline` prints, for each run, both pages' steps
//! from the click to the first frame (`connectit_e2e::timeline`); `--profile` samples
//! both pages over the ConnectIT runs and prints the functions that took the time
//! within each timed run, from the click to the first frame.
//!
//! Beside the first frame, each run's **connection up**: from the click to the
//! receiving page's `RTCPeerConnection` reaching `connected` (read from the page stamps
//! of `connectit_e2e::timeline`). The first frame follows the first frame the capture
//! gives after that, and a screen capture gives one only every 40–50 ms here, so the
//! first-frame figure moves in such steps; the connection's time does not.
//! `-- 9 --floor-only` measures the floor alone (no broker,
//! no app build needed). `--rows FILE` appends median and p95 as rows of
//! `scripts/bench`'s table.

use serde_json::{json, Value};

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::stats::summary;
use connectit_e2e::timeline;
use connectit_e2e::{BrokerOptions, Browser, World};

/// Customer side: the next click on `arguments[0]` stores its time in
/// `window.__st.click` (ms since the epoch, sub-millisecond).
const ARM_CLICK: &str = r#"
const [selector] = arguments;
const st = { click: null };
window.__st = st;
const onClick = (event) => {
  if (!event.target || !event.target.closest || !event.target.closest(selector)) return;
  window.removeEventListener('click', onClick, true);
  st.click = performance.timeOrigin + event.timeStamp;
};
window.addEventListener('click', onClick, true);
return true;
"#;

/// Technician side: the first frame presented by the video element `arguments[0]`
/// (whichever element the page shows under that selector, as long as it has a
/// `srcObject`) stores its time in `window.__st.frame`.
const ARM_FIRST_FRAME: &str = r#"
const [selector] = arguments;
const st = { frame: null, width: 0, height: 0 };
window.__st = st;
const watched = new WeakSet();
const watch = () => {
  if (st.frame !== null || window.__st !== st) { clearInterval(timer); return; }
  const v = document.querySelector(selector);
  if (!v || watched.has(v) || typeof v.requestVideoFrameCallback !== 'function') return;
  watched.add(v);
  const onFrame = (now, meta) => {
    if (st.frame !== null || window.__st !== st) return;
    if (!v.srcObject || !v.isConnected) { v.requestVideoFrameCallback(onFrame); return; }
    st.frame = performance.timeOrigin + now;
    st.width = meta.width;
    st.height = meta.height;
  };
  v.requestVideoFrameCallback(onFrame);
};
const timer = setInterval(watch, 4);
watch();
return true;
"#;

/// The floor page: one file, `?role=sender|receiver&room=R`.
const FLOOR_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WebRTC floor</title></head>
<body>
<button id="start">Share my screen</button>
<video id="remote" autoplay muted playsinline style="width:640px;height:360px;background:#000"></video>
<video id="preview" autoplay muted playsinline style="width:160px"></video>
<script>
const params = new URLSearchParams(location.search);
const role = params.get('role');
const room = params.get('room');
const other = role === 'sender' ? 'receiver' : 'sender';
window.__ready = false;
window.__errors = [];
const fail = (e) => { window.__errors.push(String(e)); };
// Posts go one after the other, so the offer always precedes its candidates.
let posting = Promise.resolve();
const send = (msg) => {
  const body = JSON.stringify(msg);
  posting = posting.then(() => fetch(`/send?room=${room}&peer=${other}`, { method: 'POST', body }))
    .catch(fail);
};
let pc = null;
const newPc = () => {
  const p = new RTCPeerConnection({ iceServers: [] });
  p.onicecandidate = (e) => { if (e.candidate) send({ candidate: e.candidate.toJSON() }); };
  return p;
};
if (role === 'receiver') {
  pc = newPc();
  pc.ontrack = (e) => {
    const v = document.getElementById('remote');
    v.srcObject = e.streams[0] || new MediaStream([e.track]);
  };
} else {
  document.getElementById('start').addEventListener('click', () => {
    // In the click itself: the user's gesture.
    navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }).then(async (stream) => {
      pc = newPc();
      stream.getTracks().forEach((t) => pc.addTrack(t, stream));
      document.getElementById('preview').srcObject = stream;
      await pc.setLocalDescription(await pc.createOffer());
      send({ offer: pc.localDescription.toJSON() });
    }).catch(fail);
  });
}
// Messages are handled one after the other too.
let handling = Promise.resolve();
const handle = async (m) => {
  if (m.offer) {
    await pc.setRemoteDescription(m.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    send({ answer: pc.localDescription.toJSON() });
  } else if (m.answer) {
    await pc.setRemoteDescription(m.answer);
  } else if (m.candidate) {
    await pc.addIceCandidate(m.candidate);
  }
};
const events = new EventSource(`/events?room=${room}&peer=${role}`);
events.onopen = () => { window.__ready = true; };
events.onmessage = (e) => {
  const m = JSON.parse(e.data);
  handling = handling.then(() => handle(m)).catch(fail);
};
</script>
</body></html>
"#;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let floor_only = args.iter().any(|a| a == "--floor-only");
    let show_timeline = args.iter().any(|a| a == "--timeline");
    let profile = args.iter().any(|a| a == "--profile");
    let rows = bench::rows_argument(&args);
    let runs: usize = bench::runs_argument(&args, &[])
        .map(str::to_owned)
        .or_else(|| std::env::var("SHARE_TIMING_RUNS").ok())
        .map(|n| n.parse().expect("the number of runs is a positive integer"))
        .unwrap_or(9);
    assert!(runs > 0, "at least one run");

    if floor_only {
        let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
        let (mut floor, _) = floor_runs(&tech, &cust, runs, false).await;
        println!();
        summary(
            "floor: bare RTCPeerConnection click → first frame",
            &mut floor,
        );
        tokio::join!(tech.close(), cust.close());
        return;
    }

    bench::print_broker_note();
    let w = World::start(BrokerOptions::default()).await;
    // The stamps give the connection's time (and, with --timeline, every step).
    for browser in [&w.cust, &w.tech] {
        browser.before_page_scripts(timeline::STAMPS).await;
    }
    let (mut connectit, mut connectit_up) = connectit_runs(&w, runs, show_timeline, profile).await;
    let (mut floor, mut floor_up) = floor_runs(&w.tech, &w.cust, runs, show_timeline).await;

    println!();
    let (c_median, c_p95) = summary("ConnectIT grant click → first frame", &mut connectit);
    let (f_median, f_p95) = summary(
        "floor: bare RTCPeerConnection click → first frame",
        &mut floor,
    );
    println!(
        "ratio ConnectIT / floor: median {:.2}×, p95 {:.2}×",
        c_median / f_median,
        c_p95 / f_p95
    );
    let (cu_median, cu_p95) = summary(
        "ConnectIT grant click → connection up at the technician",
        &mut connectit_up,
    );
    let (fu_median, fu_p95) = summary(
        "floor: bare RTCPeerConnection click → connection up at the receiver",
        &mut floor_up,
    );
    println!(
        "ratio ConnectIT / floor, connection up: median {:.2}×, p95 {:.2}×",
        cu_median / fu_median,
        cu_p95 / fu_p95
    );
    if let Some(path) = rows {
        let floor_is = "bare two-page RTCPeerConnection, click → first frame";
        let figure = "grant click → first decoded frame at the technician";
        let rows = [
            Row::new(
                &format!("{figure}, median"),
                "ms",
                c_median,
                f_median,
                floor_is,
            ),
            Row::new(&format!("{figure}, p95"), "ms", c_p95, f_p95, floor_is),
            Row::new(
                "grant click → connection up at the technician, median",
                "ms",
                cu_median,
                fu_median,
                "bare two-page RTCPeerConnection, click → connected",
            ),
            Row::new(
                "grant click → connection up at the technician, p95",
                "ms",
                cu_p95,
                fu_p95,
                "bare two-page RTCPeerConnection, click → connected",
            ),
        ];
        append_rows(&path, &rows).unwrap_or_else(|e| panic!("write the rows: {e}"));
    }
    w.close().await;
}

/// ConnectIT: in one active session, `runs` times (after a warm-up): request the screen,
/// time grant click → first frame at the console, revoke everything.
async fn connectit_runs(
    w: &World,
    runs: usize,
    show_timeline: bool,
    profile: bool,
) -> (Vec<f64>, Vec<f64>) {
    let (console, customer, _session) = w.active_session().await;
    // Both pages sampled over the runs; only each timed run's own time, from the click
    // to the first frame, is kept.
    let mut marks = (0.0, 0.0);
    if profile {
        timeline::start_profile(&w.cust).await;
        timeline::start_profile(&w.tech).await;
        marks = (
            timeline::mark_profile(&w.cust).await,
            timeline::mark_profile(&w.tech).await,
        );
    }
    let mut windows = Vec::with_capacity(runs);
    let mut samples = Vec::with_capacity(runs);
    let mut up = Vec::with_capacity(runs);
    for run in 0..=runs {
        let request = console.request_permissions(&["view_screen"], "").await;
        customer.wait_prompt_for(request).await;
        w.tech
            .eval(ARM_FIRST_FRAME, vec![json!("#screen-video")])
            .await;
        w.cust.eval(ARM_CLICK, vec![json!("#grant-all")]).await;
        w.cust.click("#grant-all").await;
        let (ms, size) = elapsed(&w.cust, &w.tech).await;
        report("ConnectIT", run, ms, size);
        let connected = connected_after_click(&w.cust, &w.tech).await;
        let click = click_time(&w.cust).await;
        if show_timeline {
            timeline::print(
                &[("customer", &w.cust), ("technician", &w.tech)],
                click,
                click + ms,
            )
            .await;
        }
        if run > 0 {
            samples.push(ms);
            up.push(connected);
            windows.push((click, click + ms));
        }
        // Back to nothing shared, nothing granted.
        console.wait_screen_state("live").await;
        customer.revoke_all().await;
        customer.wait_not_sharing().await;
        console.wait_screen_state("off").await;
    }
    if profile {
        for (who, browser, mark) in [
            ("customer", &w.cust, marks.0),
            ("technician", &w.tech, marks.1),
        ] {
            let mut p = timeline::Profile::default();
            let kept = p.add_within(&timeline::stop_profile(browser).await, mark, &windows);
            p.print(&format!(
                "the {who}'s page, grant click → first frame ({kept:.1} ms sampled over {} runs)",
                windows.len()
            ));
        }
    }
    (samples, up)
}

/// The floor: the bare two-page RTCPeerConnection, `runs` times (after a warm-up), the
/// receiver in `tech`, the sender in `cust`, both pages loaded afresh each run.
async fn floor_runs(
    tech: &Browser,
    cust: &Browser,
    runs: usize,
    show_timeline: bool,
) -> (Vec<f64>, Vec<f64>) {
    let floor_base = connectit_e2e::pageserver::serve(FLOOR_HTML).await;
    let mut samples = Vec::with_capacity(runs);
    let mut up = Vec::with_capacity(runs);
    for run in 0..=runs {
        let room = format!("r{run}");
        let receiver_url = format!("{floor_base}/?role=receiver&room={room}");
        let sender_url = format!("{floor_base}/?role=sender&room={room}");
        tokio::join!(tech.goto(&receiver_url), cust.goto(&sender_url));
        for browser in [tech, cust] {
            browser
                .wait_for("the floor page's signaling to be open", || async {
                    match browser
                        .eval("return window.__ready === true;", vec![])
                        .await
                    {
                        Value::Bool(true) => Ok(()),
                        other => Err(format!("__ready = {other}")),
                    }
                })
                .await;
        }
        tech.eval(ARM_FIRST_FRAME, vec![json!("#remote")]).await;
        cust.eval(ARM_CLICK, vec![json!("#start")]).await;
        cust.click("#start").await;
        let (ms, size) = elapsed(cust, tech).await;
        report("floor", run, ms, size);
        let connected = connected_after_click(cust, tech).await;
        if show_timeline {
            let click = click_time(cust).await;
            timeline::print(&[("sender", cust), ("receiver", tech)], click, click + ms).await;
        }
        if run > 0 {
            samples.push(ms);
            up.push(connected);
        }
    }
    (samples, up)
}

/// From the click in `sender`'s page to the receiver's connection reaching `connected`
/// (its first after the click, from the page stamps), in milliseconds; `NaN` if none.
async fn connected_after_click(sender: &Browser, receiver: &Browser) -> f64 {
    let click = click_time(sender).await;
    let at = receiver
        .wait_for("the receiver's connection up (its stamp)", || async {
            let v = receiver
                .eval(
                    "const [t] = arguments; const e = (window.__wsEvents || []).find((e) => \
                     e[0] >= t && e[1] === 'peer connection connected'); return e ? e[0] : null;",
                    vec![json!(click)],
                )
                .await;
            v.as_f64().ok_or_else(|| "not connected yet".to_owned())
        })
        .await;
    at - click
}

/// The click's time in `sender`'s page, once [`elapsed`] has seen it.
async fn click_time(sender: &Browser) -> f64 {
    let click = sender.eval("return window.__st.click;", vec![]).await;
    click.as_f64().unwrap_or_default()
}

/// Waits for the click time in `sender`'s page and the first frame in `receiver`'s;
/// the milliseconds between them and the first frame's size.
async fn elapsed(sender: &Browser, receiver: &Browser) -> (f64, (u64, u64)) {
    let click = sender
        .wait_for("the click time (window.__st.click)", || async {
            let v = sender
                .eval("return window.__st ? window.__st.click : null;", vec![])
                .await;
            v.as_f64().ok_or_else(|| format!("click = {v}"))
        })
        .await;
    let (frame, width, height) = receiver
        .wait_for("the first frame (window.__st.frame)", || async {
            let v = receiver.eval("return window.__st || null;", vec![]).await;
            let errors = sender
                .eval("return (window.__errors || []).join('; ');", vec![])
                .await;
            match v.get("frame").and_then(Value::as_f64) {
                Some(at) => Ok((
                    at,
                    v["width"].as_u64().unwrap_or(0),
                    v["height"].as_u64().unwrap_or(0),
                )),
                None => Err(format!("no frame yet ({v}); sender errors: {errors}")),
            }
        })
        .await;
    (frame - click, (width, height))
}

fn report(what: &str, run: usize, ms: f64, (width, height): (u64, u64)) {
    let label = if run == 0 {
        "warm-up".to_owned()
    } else {
        format!("run {run:>2}")
    };
    println!("{what:>9} {label}: {ms:7.1} ms (first frame {width}×{height})");
}
