//! How fast a 100 MB file goes over ConnectIT's files link, and over a bare
//! `RTCDataChannel` between the same two headless Chromium browsers in the same run (the
//! floor), and how much memory the receiving tab uses meanwhile. Not a test: it asserts
//! nothing about speed (only that the bytes arrive).
//!
//! **ConnectIT**, technician → customer: in one active session with "send files"
//! granted, the technician picks the file in `input#file-picker`, the customer presses
//! `button.accept-file`; the time runs from that click (`timeOrigin + event.timeStamp`
//! of a capture-phase listener on the customer's page) to the moment the customer's
//! `li.transfer` says `data-status=delivered` (a `MutationObserver`; the receiver has
//! every byte, its SHA-256 matched, and the broker logged the delivery). The time of
//! the last byte (the progress bar full) is shown too. The saved download is checked
//! against the source's SHA-256.
//!
//! Then customer → technician ("receive files" granted; `--one-way` skips it): from the
//! `change` event of the customer's `input#file-picker` to the console's transfer
//! `delivered`.
//!
//! **Floor**: a page this example serves on 127.0.0.1 (sender in the same browser as
//! ConnectIT's sender, receiver in the other), signaling relayed by the example: an
//! `RTCPeerConnection` with no ICE servers and a `control` channel, made when the pages
//! load (as ConnectIT's files link exists before the accept); picking the file (the
//! `change` event starts the clock) opens an ordered channel `file-1-<size>`, and the
//! sender reads `file.slice(a, b).arrayBuffer()` one chunk at a time, chunks of
//! `FILE_CHUNK_BYTES` (64 KiB, at most `sctp.maxMessageSize`), sending while
//! `bufferedAmount` < 4 MiB and otherwise waiting for `bufferedamountlow` (threshold
//! 1 MiB): ConnectIT's rule. The receiver keeps the bytes as Blob parts merged into one
//! Blob every 8 MiB, and stops the clock when it has them all. No SHA-256 on either
//! side (that is ConnectIT's own cost, and part of what the ratio shows).
//!
//! **Memory** of the receiving tab: its peak `performance.memory.usedJSHeapSize`
//! (Chromium started with `--enable-precise-memory-info`, sampled every 50 ms in the
//! page from just before the start), and from outside, every 100 ms, the largest
//! renderer process's PSS and the whole receiving browser's PSS (every process of its
//! chromedriver's process group, summed; PSS shares each shared page among the
//! processes that map it, so the sum is not inflated; Blob bytes live in the browser
//! process, `ArrayBuffer`s outside the JS heap).
//!
//! Each side gets one untimed warm-up run with a 10 MB file first.
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example file_timing` (3 timed runs per path and
//! direction by default, `-- 5` for five; `-- --one-way` for technician → customer only,
//! `-- --to-technician` for customer → technician only; `--rows FILE` appends the rates
//! as rows of `scripts/bench`'s table;
//! `-- --floor-only` for the floor alone, which needs no broker or app build;
//! `FILE_TIMING_MB=200` for another size; about 1.5 minutes on 2 cores). It prints every
//! run on stderr, then a table on stdout: median time and MB/s (10^6 bytes per second)
//! for both paths, their ratio, and the memory peaks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::stats::median;
use connectit_e2e::transfers::TRANSFER_TIMEOUT;
use connectit_e2e::{sha256_file, BrokerOptions, Browser, Console, Customer, TestFile, World};

/// Which way a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// Technician (console) → customer.
    ToCustomer,
    /// Customer → technician.
    ToTechnician,
}

impl Way {
    fn label(self) -> &'static str {
        match self {
            Way::ToCustomer => "technician → customer",
            Way::ToTechnician => "customer → technician",
        }
    }
}

/// One timed transfer.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// Start → delivered (ConnectIT) or → last byte (floor), in ms.
    total_ms: f64,
    /// Start → progress bar full (ConnectIT only).
    last_byte_ms: Option<f64>,
    memory: Memory,
}

#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    /// `usedJSHeapSize` just before the start and its peak, bytes.
    heap_base: Option<f64>,
    heap_peak: Option<f64>,
    /// Largest renderer PSS and whole-browser PSS (peaks), bytes.
    renderer_rss: u64,
    browser_rss: u64,
}

/// Receiving page: samples `usedJSHeapSize` every 50 ms into `window.__heap`.
const ARM_HEAP: &str = r#"
const old = window.__heap;
if (old && old.timer) clearInterval(old.timer);
const m = performance.memory;
const s = { supported: !!m, base: m ? m.usedJSHeapSize : null, peak: m ? m.usedJSHeapSize : null, samples: 0 };
s.timer = setInterval(() => {
  if (!performance.memory) return;
  const used = performance.memory.usedJSHeapSize;
  s.samples += 1;
  if (used > s.peak) s.peak = used;
}, 50);
window.__heap = s;
return s.supported;
"#;

/// Reads and stops the heap sampler.
const READ_HEAP: &str = r#"
const s = window.__heap;
if (!s) return null;
clearInterval(s.timer);
if (performance.memory && performance.memory.usedJSHeapSize > s.peak) s.peak = performance.memory.usedJSHeapSize;
return { base: s.base, peak: s.peak, samples: s.samples };
"#;

/// Where the clock starts: the first `arguments[0]` event (click / change) whose target
/// is inside `arguments[1]` stores `timeOrigin + timeStamp` in `window.__start`.
const ARM_START: &str = r#"
const [type, selector] = arguments;
window.__start = null;
const on = (event) => {
  if (!event.target || !event.target.closest || !event.target.closest(selector)) return;
  window.removeEventListener(type, on, true);
  window.__start = performance.timeOrigin + event.timeStamp;
};
window.addEventListener(type, on, true);
return true;
"#;

/// Where it stops (ConnectIT): watches the `li.transfer` whose name contains
/// `arguments[0]` and whose direction is `in`: the progress bar full, then
/// `data-status=delivered` (or `failed`), into `window.__end`.
const ARM_END: &str = r#"
const [name] = arguments;
const st = { lastByte: null, delivered: null, failed: null, status: null };
window.__end = st;
const check = () => {
  const li = Array.from(document.querySelectorAll('#transfers li.transfer[data-direction="in"]'))
    .find((l) => { const n = l.querySelector('.transfer-name'); return n && n.textContent.includes(name); });
  if (!li) return;
  const now = performance.timeOrigin + performance.now();
  const p = li.querySelector('progress.transfer-progress');
  if (st.lastByte === null && p && p.max > 1 && p.value >= p.max) st.lastByte = now;
  st.status = li.getAttribute('data-status');
  if (st.delivered === null && st.status === 'delivered') {
    st.delivered = now;
    if (st.lastByte === null) st.lastByte = now;
  }
  if (st.failed === null && st.status === 'failed') st.failed = now;
};
if (window.__endObserver) window.__endObserver.disconnect();
window.__endObserver = new MutationObserver(check);
window.__endObserver.observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
check();
return true;
"#;

/// The floor page: `?role=sender|receiver&room=R`.
const FLOOR_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data channel floor</title></head>
<body>
<input type="file" id="file">
<p id="status">starting</p>
<script>
const params = new URLSearchParams(location.search);
const role = params.get('role');
const room = params.get('room');
const other = role === 'sender' ? 'receiver' : 'sender';
const CHUNK = 64 * 1024, HIGH = 4 * 1024 * 1024, LOW = 1024 * 1024, MERGE = 8 * 1024 * 1024;
window.__ready = false;
window.__connected = false;
window.__errors = [];
window.__floor = { start: null, done: null, bytes: 0, blobSize: 0, sent: null };
const fail = (e) => { window.__errors.push(String((e && e.stack) || e)); };
let posting = Promise.resolve();
const send = (msg) => {
  const body = JSON.stringify(msg);
  posting = posting.then(() => fetch(`/send?room=${room}&peer=${other}`, { method: 'POST', body }))
    .catch(fail);
};
const pc = new RTCPeerConnection({ iceServers: [] });
pc.onicecandidate = (e) => { if (e.candidate) send({ candidate: e.candidate.toJSON() }); };
const connected = () => { window.__connected = true; document.getElementById('status').textContent = 'connected'; };
const receive = (ch) => {
  const size = Number(ch.label.split('-')[2]);
  ch.binaryType = 'arraybuffer';
  let blob = new Blob([]);
  let pending = [];
  let pendingBytes = 0;
  let got = 0;
  ch.onmessage = (m) => {
    const data = m.data;
    got += data.byteLength;
    pending.push(data);
    pendingBytes += data.byteLength;
    if (pendingBytes >= MERGE || got >= size) {
      blob = new Blob([blob, ...pending]);
      pending = [];
      pendingBytes = 0;
    }
    if (got >= size && window.__floor.done === null) {
      window.__floor.done = performance.timeOrigin + performance.now();
      window.__floor.bytes = got;
      window.__floor.blobSize = blob.size;
      window.__keep = blob;
      document.getElementById('status').textContent = 'received';
    }
  };
};
if (role === 'sender') {
  const control = pc.createDataChannel('control');
  control.onopen = connected;
  (async () => {
    await pc.setLocalDescription(await pc.createOffer());
    send({ offer: pc.localDescription.toJSON() });
  })().catch(fail);
  document.getElementById('file').addEventListener('change', (event) => {
    window.__floor.start = performance.timeOrigin + event.timeStamp;
    const file = event.target.files[0];
    (async () => {
      const ch = pc.createDataChannel(`file-1-${file.size}`, { ordered: true });
      ch.binaryType = 'arraybuffer';
      ch.bufferedAmountLowThreshold = LOW;
      if (ch.readyState !== 'open') await new Promise((r) => ch.addEventListener('open', r, { once: true }));
      const max = (pc.sctp && pc.sctp.maxMessageSize) || CHUNK;
      const chunk = Math.min(CHUNK, max);
      let offset = 0;
      while (offset < file.size) {
        if (ch.bufferedAmount >= HIGH) {
          await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }));
        }
        const buf = await file.slice(offset, offset + chunk).arrayBuffer();
        ch.send(buf);
        offset += buf.byteLength;
      }
      window.__floor.sent = performance.timeOrigin + performance.now();
    })().catch(fail);
  });
} else {
  pc.ondatachannel = (e) => {
    const ch = e.channel;
    if (ch.label === 'control') {
      if (ch.readyState === 'open') connected(); else ch.onopen = connected;
    } else {
      receive(ch);
    }
  };
}
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
    let one_way = args.iter().any(|a| a == "--one-way");
    let to_technician = args.iter().any(|a| a == "--to-technician");
    let rows_file = bench::rows_argument(&args);
    let runs: usize = bench::runs_argument(&args, &[])
        .map(|n| n.parse().expect("the number of runs is a positive integer"))
        .unwrap_or(3);
    assert!(runs > 0, "at least one run");
    let mb: u64 = std::env::var("FILE_TIMING_MB")
        .ok()
        .map(|n| n.parse().expect("FILE_TIMING_MB is a number of MB"))
        .unwrap_or(100);
    let size = mb * 1_000_000;
    let ways: Vec<Way> = match (one_way, to_technician) {
        (true, true) => panic!("--one-way and --to-technician exclude each other"),
        (true, false) => vec![Way::ToCustomer],
        (false, true) => vec![Way::ToTechnician],
        (false, false) => vec![Way::ToCustomer, Way::ToTechnician],
    };

    eprintln!("writing a {mb} MB file of random bytes…");
    let file = TestFile::random("payload.bin", size);
    let warm = TestFile::random("warm-up.bin", 10_000_000);

    let flags = ["--enable-precise-memory-info"];
    let (broker, (tech, cust)) = if floor_only {
        (
            None,
            tokio::join!(Browser::start_with(&flags), Browser::start_with(&flags)),
        )
    } else {
        bench::print_broker_note();
        let broker = connectit_e2e::Broker::start(BrokerOptions::default()).await;
        (
            Some(broker),
            tokio::join!(Browser::start_with(&flags), Browser::start_with(&flags)),
        )
    };

    let mut rows: Vec<(Way, &'static str, Vec<Sample>)> = Vec::new();
    match broker {
        Some(broker) => {
            let w = World { broker, tech, cust };
            let connectit = connectit_runs(&w, &ways, &file, &warm, runs).await;
            for (way, samples) in connectit {
                rows.push((way, "ConnectIT", samples));
                let floor = floor_runs(&w.tech, &w.cust, way, &file, &warm, runs).await;
                rows.push((way, "floor", floor));
            }
            let rates = print_table(&rows, size);
            if let Some(path) = &rows_file {
                write_rows(path, &rates, mb);
            }
            w.close().await;
        }
        None => {
            for &way in &ways {
                let floor = floor_runs(&tech, &cust, way, &file, &warm, runs).await;
                rows.push((way, "floor", floor));
            }
            let _ = print_table(&rows, size);
            tokio::join!(tech.close(), cust.close());
        }
    }
}

/// A hard link to `file` under another name in its folder (each run offers a new name,
/// so downloads and offers never mix runs).
fn alias(file: &TestFile, name: &str) -> PathBuf {
    let path = file.path.with_file_name(name);
    let _ = std::fs::remove_file(&path);
    std::fs::hard_link(&file.path, &path)
        .unwrap_or_else(|e| panic!("link {} as {name}: {e}", file.path.display()));
    path
}

/// ConnectIT: one active session, the grants, then for each way a warm-up and `runs`
/// timed transfers.
async fn connectit_runs(
    w: &World,
    ways: &[Way],
    file: &TestFile,
    warm: &TestFile,
    runs: usize,
) -> Vec<(Way, Vec<Sample>)> {
    let (console, customer, _session) = w.active_session().await;
    let permissions: Vec<&str> = ways
        .iter()
        .map(|way| match way {
            Way::ToCustomer => "send_files",
            Way::ToTechnician => "receive_files",
        })
        .collect();
    let request = console
        .request_permissions(&permissions, "File timing")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    console.wait_granted(&permissions).await;

    let mut out = Vec::new();
    let mut n = 0;
    for &way in ways {
        let mut samples = Vec::new();
        for run in 0..=runs {
            n += 1;
            let (source, size, sha) = if run == 0 {
                (warm, warm.size, &warm.sha256)
            } else {
                (file, file.size, &file.sha256)
            };
            let name = format!("run{n}-{}", source.name);
            let path = alias(source, &name);
            let sample = connectit_once(w, &console, &customer, way, &path, &name, size, sha).await;
            report("ConnectIT", way, run, size, &sample);
            if run > 0 {
                samples.push(sample);
            }
        }
        out.push((way, samples));
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn connectit_once(
    w: &World,
    console: &Console<'_>,
    customer: &Customer<'_>,
    way: Way,
    path: &Path,
    name: &str,
    size: u64,
    sha256: &str,
) -> Sample {
    let (sender, receiver) = match way {
        Way::ToCustomer => (&w.tech, &w.cust),
        Way::ToTechnician => (&w.cust, &w.tech),
    };
    receiver.eval(ARM_END, vec![json!(name)]).await;
    let sampler = RssSampler::start(receiver);
    let start_browser = &w.cust;
    match way {
        Way::ToCustomer => {
            w.tech.wait_visible("#files").await;
            sender.pick_files("input#file-picker", &[path]).await;
            let offer = customer.wait_offer(name).await;
            receiver.eval(ARM_HEAP, vec![]).await;
            start_browser
                .eval(ARM_START, vec![json!("click"), json!("button.accept-file")])
                .await;
            customer.accept_file(offer.file).await;
        }
        Way::ToTechnician => {
            receiver.eval(ARM_HEAP, vec![]).await;
            start_browser
                .eval(ARM_START, vec![json!("change"), json!("#file-picker")])
                .await;
            customer.send_file_paths(&[path]).await;
        }
    }
    let start = wait_number(start_browser, "window.__start", "the start event").await;
    let end = receiver
        .wait_for_within(
            &format!("{name} delivered ({})", way.label()),
            TRANSFER_TIMEOUT * 3,
            || async {
                let st = receiver.eval("return window.__end;", vec![]).await;
                if st["delivered"].as_f64().is_some() {
                    return Ok(st);
                }
                if st["failed"].as_f64().is_some() {
                    panic!("{name} failed: {st}");
                }
                Err(format!("{st}"))
            },
        )
        .await;
    let heap = receiver.eval(READ_HEAP, vec![]).await;
    let (renderer_rss, browser_rss) = sampler.stop().await;

    // The bytes arrived intact where the user saves them.
    let saved = match way {
        Way::ToCustomer => w.cust.wait_download_named(name, Some(size)).await,
        Way::ToTechnician => {
            let t = w.tech.wait_transfer_status(name, "delivered").await;
            console.save_file(t.file).await
        }
    };
    assert_eq!(sha256_file(&saved), sha256, "{name} arrived intact");
    let _ = std::fs::remove_file(&saved);

    let delivered = end["delivered"].as_f64().unwrap_or(start);
    Sample {
        total_ms: delivered - start,
        last_byte_ms: end["lastByte"].as_f64().map(|at| at - start),
        memory: Memory {
            heap_base: heap["base"].as_f64(),
            heap_peak: heap["peak"].as_f64(),
            renderer_rss,
            browser_rss,
        },
    }
}

/// The floor: both pages loaded afresh for each run, a warm-up, then `runs` runs.
async fn floor_runs(
    tech: &Browser,
    cust: &Browser,
    way: Way,
    file: &TestFile,
    warm: &TestFile,
    runs: usize,
) -> Vec<Sample> {
    let base = connectit_e2e::pageserver::serve(FLOOR_HTML).await;
    let (sender, receiver) = match way {
        Way::ToCustomer => (tech, cust),
        Way::ToTechnician => (cust, tech),
    };
    let mut samples = Vec::new();
    for run in 0..=runs {
        let source = if run == 0 { warm } else { file };
        let room = format!("{}{run}", if way == Way::ToCustomer { "c" } else { "t" });
        let (receiver_url, sender_url) = (
            format!("{base}/?role=receiver&room={room}"),
            format!("{base}/?role=sender&room={room}"),
        );
        tokio::join!(receiver.goto(&receiver_url), sender.goto(&sender_url));
        for browser in [sender, receiver] {
            browser
                .wait_for("the floor's data channel to be open", || async {
                    let v = browser
                        .eval(
                            "return [window.__connected === true, window.__errors.join('; ')];",
                            vec![],
                        )
                        .await;
                    if v[0] == json!(true) {
                        Ok(())
                    } else {
                        Err(format!("not connected; errors: {}", v[1]))
                    }
                })
                .await;
        }
        receiver.eval(ARM_HEAP, vec![]).await;
        let sampler = RssSampler::start(receiver);
        sender.pick_files("#file", &[&source.path]).await;
        let start = wait_number(sender, "window.__floor.start", "the floor's start").await;
        let done = receiver
            .wait_for_within(
                "the floor's receiver to have every byte",
                TRANSFER_TIMEOUT * 3,
                || async {
                    let v = receiver.eval("return window.__floor;", vec![]).await;
                    let errors = sender
                        .eval("return window.__errors.join('; ');", vec![])
                        .await;
                    match v["done"].as_f64() {
                        Some(_) => Ok(v),
                        None => Err(format!("{v}; sender errors: {errors}")),
                    }
                },
            )
            .await;
        let heap = receiver.eval(READ_HEAP, vec![]).await;
        let (renderer_rss, browser_rss) = sampler.stop().await;
        assert_eq!(
            done["bytes"].as_u64(),
            Some(source.size),
            "the floor received every byte: {done}"
        );
        let sample = Sample {
            total_ms: done["done"].as_f64().unwrap_or(start) - start,
            last_byte_ms: None,
            memory: Memory {
                heap_base: heap["base"].as_f64(),
                heap_peak: heap["peak"].as_f64(),
                renderer_rss,
                browser_rss,
            },
        };
        report("floor", way, run, source.size, &sample);
        if run > 0 {
            samples.push(sample);
        }
    }
    // Leave the floor page (its blob and connection) behind.
    for browser in [tech, cust] {
        browser.goto("about:blank").await;
    }
    samples
}

/// Waits until the page expression `expr` is a number; that number.
async fn wait_number(browser: &Browser, expr: &str, what: &str) -> f64 {
    let script = format!("return {expr};");
    browser
        .wait_for(what, || async {
            let v = browser.eval(&script, vec![]).await;
            v.as_f64().ok_or_else(|| format!("{expr} = {v}"))
        })
        .await
}

fn mb_per_s(bytes: u64, ms: f64) -> f64 {
    bytes as f64 / 1e6 / (ms / 1000.0)
}

fn mib(bytes: f64) -> String {
    format!("{:.0} MiB", bytes / (1024.0 * 1024.0))
}

fn report(what: &str, way: Way, run: usize, size: u64, s: &Sample) {
    let label = if run == 0 {
        "warm-up".to_owned()
    } else {
        format!("run {run}")
    };
    let last = s
        .last_byte_ms
        .map(|ms| format!(", last byte at {:.2} s", ms / 1000.0))
        .unwrap_or_default();
    eprintln!(
        "{what:>9} {} {label}: {:.2} s, {:.1} MB/s{last}; heap {} → peak {}; renderer PSS ≤ {}, browser PSS ≤ {}",
        way.label(),
        s.total_ms / 1000.0,
        mb_per_s(size, s.total_ms),
        s.memory.heap_base.map(mib).unwrap_or_else(|| "n/a".into()),
        s.memory.heap_peak.map(mib).unwrap_or_else(|| "n/a".into()),
        mib(s.memory.renderer_rss as f64),
        mib(s.memory.browser_rss as f64),
    );
}

/// Appends one row per direction measured both ways: ConnectIT's rate beside the floor's.
fn write_rows(path: &Path, rates: &[(Way, &str, f64)], mb: u64) {
    let rows: Vec<Row> = [Way::ToCustomer, Way::ToTechnician]
        .into_iter()
        .filter_map(|way| {
            let rate = |path: &str| {
                rates
                    .iter()
                    .find(|(w, p, _)| *w == way && *p == path)
                    .map(|r| r.2)
            };
            Some(Row::new(
                &format!("file {} ({mb} MB), median rate", way.label()),
                "MB/s",
                rate("ConnectIT")?,
                rate("floor")?,
                "bare RTCDataChannel between two pages, the same bytes",
            ))
        })
        .collect();
    append_rows(path, &rows).unwrap_or_else(|e| panic!("write the rows: {e}"));
}

/// Prints the table; the median rate of each (direction, path), MB/s.
fn print_table(
    rows: &[(Way, &'static str, Vec<Sample>)],
    size: u64,
) -> Vec<(Way, &'static str, f64)> {
    println!();
    println!(
        "{} MB file, median of {} run(s) each; memory of the receiving browser (peaks)",
        size / 1_000_000,
        rows.first().map(|r| r.2.len()).unwrap_or(0)
    );
    println!(
        "| direction | path | time (s) | MB/s | last byte (s) | JS heap peak | renderer PSS peak | browser PSS peak |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut rates: Vec<(Way, &'static str, f64)> = Vec::new();
    for (way, path, samples) in rows {
        let mut total: Vec<f64> = samples.iter().map(|s| s.total_ms).collect();
        let ms = median(&mut total);
        let mut last: Vec<f64> = samples.iter().filter_map(|s| s.last_byte_ms).collect();
        let last = if last.is_empty() {
            "–".to_owned()
        } else {
            format!("{:.2}", median(&mut last) / 1000.0)
        };
        let peak = |f: fn(&Memory) -> f64| samples.iter().map(|s| f(&s.memory)).fold(0.0, f64::max);
        let heap = peak(|m| m.heap_peak.unwrap_or(0.0));
        let heap_text = if heap > 0.0 { mib(heap) } else { "n/a".into() };
        let rate = mb_per_s(size, ms);
        rates.push((*way, path, rate));
        println!(
            "| {} | {path} | {:.2} | {rate:.1} | {last} | {heap_text} | {} | {} |",
            way.label(),
            ms / 1000.0,
            mib(peak(|m| m.renderer_rss as f64)),
            mib(peak(|m| m.browser_rss as f64)),
        );
    }
    for way in [Way::ToCustomer, Way::ToTechnician] {
        let rate = |path: &str| {
            rates
                .iter()
                .find(|(w, p, _)| *w == way && *p == path)
                .map(|r| r.2)
        };
        if let (Some(c), Some(f)) = (rate("ConnectIT"), rate("floor")) {
            println!(
                "{}: ConnectIT {c:.1} MB/s, floor {f:.1} MB/s, ConnectIT / floor = {:.2}",
                way.label(),
                c / f
            );
        }
    }
    rates
}

/// Samples, every 100 ms, the PSS of one browser's processes (its chromedriver's
/// process group): the largest renderer and the sum of all.
struct RssSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(u64, u64)>,
}

impl RssSampler {
    fn start(browser: &Browser) -> RssSampler {
        let group = browser.process_group();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut renderer, mut total) = (0u64, 0u64);
            let Some(group) = group else {
                return (0, 0);
            };
            loop {
                let (r, t) = tokio::task::spawn_blocking(move || rss_of_group(group))
                    .await
                    .unwrap_or((0, 0));
                renderer = renderer.max(r);
                total = total.max(t);
                if flag.load(Ordering::Relaxed) {
                    return (renderer, total);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        RssSampler { stop, task }
    }

    /// The peaks: largest renderer PSS, whole-browser PSS (bytes).
    async fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or((0, 0))
    }
}

/// (largest renderer PSS, sum of PSS) over the processes of process group `group`.
fn rss_of_group(group: u32) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return (0, 0);
    };
    let (mut renderer, mut total) = (0u64, 0u64);
    for entry in entries.filter_map(|e| e.ok()) {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command (which may hold spaces): state, ppid, pgrp…
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let pgrp = rest
            .split_whitespace()
            .nth(2)
            .and_then(|f| f.parse::<u32>().ok());
        if pgrp != Some(group) {
            continue;
        }
        // PSS: shared pages divided among their sharers, so the sum is not inflated by
        // the libraries every Chromium process maps.
        let rss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|rollup| {
                rollup
                    .lines()
                    .find(|l| l.starts_with("Pss:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0)
            * 1024;
        total += rss;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("--type=renderer") {
            renderer = renderer.max(rss);
        }
    }
    (renderer, total)
}
