//! The customer page's first seconds on a slow link, beside the transfer floor. Not a
//! test: it asserts nothing about speed.
//!
//! Each run starts a fresh headless Chromium (cold cache), sets Chromium's network
//! emulation to a slow link (default 1.6 Mbit/s down, 750 kbit/s up, 150 ms added to
//! each round trip) and opens `/`. A script that runs before the page's own records,
//! with the page's clock (`performance.now()`, whose zero is the navigation's start),
//! and the bytes the page moved until then (Resource Timing `transferSize`, headers
//! included), two moments:
//! - **PIN field usable**: a `#pin-input` is on screen and enabled. That is the page's
//!   own form (`#boot-pin`), which takes the PIN and a press of Connect while the app
//!   loads;
//! - **app ready**: the app's `#pin-input` is on screen (it has taken the form over, and
//!   a Connect pressed goes at once).
//!
//! **The transfer floor** of each: the same browser, the same emulated link, a fresh
//! cache, one navigation to a plain file of exactly the bytes moved until then (random,
//! so nothing compresses it), served by a bare HTTP server on 127.0.0.1; its time is
//! the navigation's `responseEnd`. No page that moves those bytes over that link can get
//! there sooner.
//!
//! **A reload**: on the machine's own network, the page loaded once, then
//! `location.reload()` (the documented way to resume a session): the bytes moved until
//! the PIN field shows again.
//!
//! Each run also prints where its time went: the page's request → last byte, then each
//! file's (without its hash), on the page's clock.
//!
//! **A slow phone** (`--cpu 4`): the page's runs also with Chromium's CPU throttling,
//! the main thread four times slower than the machine's (DevTools' "slow phone"; its
//! "Slow 4G" is this default link). The floor is the same transfer: a slow processor
//! moves no fewer bytes.
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example load_timing -- 5` (N runs, default 5);
//! `--rows FILE` appends the figures as rows of `scripts/bench`'s table; `--link
//! DOWN_KBIT,UP_KBIT,RTT_MS` another link; `--cpu RATE` the pages' main thread RATE
//! times slower.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::stats::summary;
use connectit_e2e::{Broker, BrokerOptions, Browser};

/// Before the page's own scripts: `window.__usable` gets `[performance.now(), bytes]`
/// the first moment a `#pin-input` is on screen and enabled, `window.__app` the first
/// moment the app's is.
const WATCH: &str = r#"
window.__usable = null;
window.__app = null;
const bytes = () => performance.getEntriesByType('navigation')
  .concat(performance.getEntriesByType('resource'))
  .reduce((sum, e) => sum + (e.transferSize || 0), 0);
const shows = (selector) => {
  const e = document.querySelector(selector);
  return !!e && !e.disabled && e.getClientRects().length > 0;
};
const mark = (name) => {
  window[name] = [performance.now(), 0];
  // Resource Timing lists a response once it has ended: read the bytes a moment later.
  setTimeout(() => { window[name][1] = bytes(); }, 0);
};
const look = () => {
  if (!window.__usable && (shows('#boot-pin #pin-input') || shows('#app #pin-input'))) mark('__usable');
  if (!window.__app && shows('#app #pin-input')) mark('__app');
};
new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
"#;

struct Args {
    runs: usize,
    rows: Option<PathBuf>,
    down_kbit: f64,
    up_kbit: f64,
    rtt_ms: f64,
    /// Chromium's CPU throttling rate (1: the machine's own speed).
    cpu: f64,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let rows = connectit_e2e::bench::rows_argument(&all);
    let runs = bench::runs_argument(&all, &["--link", "--cpu"])
        .map(|v| v.parse().expect("the number of runs"))
        .unwrap_or(5);
    let (mut down_kbit, mut up_kbit, mut rtt_ms) = (1600.0, 750.0, 150.0);
    if let Some(i) = all.iter().position(|a| a == "--link") {
        let link: Vec<f64> = all
            .get(i + 1)
            .map(|v| v.split(',').filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default();
        if let [d, u, r] = link[..] {
            (down_kbit, up_kbit, rtt_ms) = (d, u, r);
        } else {
            panic!("--link DOWN_KBIT,UP_KBIT,RTT_MS");
        }
    }
    let cpu = match all.iter().position(|a| a == "--cpu") {
        Some(i) => all
            .get(i + 1)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|rate| *rate >= 1.0)
            .expect("--cpu RATE (1 or more)"),
        None => 1.0,
    };
    Args {
        runs,
        rows,
        down_kbit,
        up_kbit,
        rtt_ms,
        cpu,
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    bench::print_broker_note();
    let broker = Broker::start(BrokerOptions::default()).await;
    let url = broker.customer_url();
    println!(
        "link: {} kbit/s down, {} kbit/s up, {} ms round trip; cold cache; CPU {}; {} runs",
        a.down_kbit,
        a.up_kbit,
        a.rtt_ms,
        cpu_words(a.cpu),
        a.runs
    );
    let (mut usable_ms, mut floor_ms, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut app_ms, mut app_floor_ms, mut app_bytes) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=a.runs {
        let browser = Browser::start().await;
        browser.before_page_scripts(WATCH).await;
        browser
            .emulate_network(a.rtt_ms, a.down_kbit * 1000.0, a.up_kbit * 1000.0)
            .await;
        browser.emulate_cpu(a.cpu).await;
        browser.goto(&url).await;
        let (ms, moved) = reached(&browser, "__usable").await;
        let (ready_ms, ready_moved) = reached(&browser, "__app").await;
        // The floors are transfers alone.
        browser.emulate_cpu(1.0).await;
        // Where the time went: the page's own response, then each file it fetched
        // (requested → last byte, on the page's clock).
        let steps = browser
            .eval(
                "const nav = performance.getEntriesByType('navigation')[0];
                 return [['page', nav.requestStart, nav.responseEnd]].concat(
                   performance.getEntriesByType('resource').map(e =>
                     [e.name.split('/').pop().replace(/-[0-9a-f]{16}/, ''), e.startTime, e.responseEnd]));",
                vec![],
            )
            .await;
        let steps: Vec<String> = steps
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let name = s[0].as_str().unwrap_or("?");
                let (from, to) = (s[1].as_f64().unwrap_or(0.0), s[2].as_f64().unwrap_or(0.0));
                format!("{name} {from:.0}–{to:.0}")
            })
            .collect();
        let floor_time = floor_of(&browser, &a, moved).await;
        let ready_floor = floor_of(&browser, &a, ready_moved).await;
        println!(
            "run {run}: navigation → PIN field usable {ms:7.0} ms, {:.1} KB moved; \
             the same bytes as one file {floor_time:7.0} ms\n       \
             navigation → app ready {ready_ms:7.0} ms, {:.1} KB moved; \
             the same bytes as one file {ready_floor:7.0} ms\n       (ms: {})",
            moved / 1000.0,
            ready_moved / 1000.0,
            steps.join(", ")
        );
        usable_ms.push(ms);
        floor_ms.push(floor_time);
        bytes.push(moved);
        app_ms.push(ready_ms);
        app_floor_ms.push(ready_floor);
        app_bytes.push(ready_moved);
        browser.close().await;
    }

    // A reload on the machine's own network: what moves again.
    let browser = Browser::start().await;
    browser.before_page_scripts(WATCH).await;
    browser.goto(&url).await;
    let (_, first) = reached(&browser, "__app").await;
    browser
        .eval("location.reload(); return true;", vec![])
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, reload) = reached(&browser, "__app").await;
    browser.close().await;
    println!(
        "reload: {:.1} KB moved (the first load {:.1} KB)",
        reload / 1000.0,
        first / 1000.0
    );

    println!();
    if a.cpu > 1.0 {
        println!("CPU {}", cpu_words(a.cpu));
    }
    let usable = summary("navigation → PIN field usable, slow link", &mut usable_ms);
    let floor = summary("floor: the same bytes as one plain file", &mut floor_ms);
    let ready = summary("navigation → app ready, slow link", &mut app_ms);
    let ready_floor = summary("floor: the same bytes as one plain file", &mut app_floor_ms);
    let moved = connectit_e2e::stats::median(&mut bytes);
    let ready_moved = connectit_e2e::stats::median(&mut app_bytes);
    println!(
        "bytes until the PIN field is usable: median {:.1} KB; until the app is ready {:.1} KB",
        moved / 1000.0,
        ready_moved / 1000.0
    );
    if let Some(path) = &a.rows {
        // Bytes do not depend on the processor: their rows come once, from the run at
        // full speed.
        let full_speed = a.cpu <= 1.0;
        let mut link = format!(
            "{} Mbit/s down, {} kbit/s up, {} ms RTT, cold cache",
            a.down_kbit / 1000.0,
            a.up_kbit,
            a.rtt_ms
        );
        if !full_speed {
            link = format!("{link}, CPU {}", cpu_words(a.cpu));
        }
        let floor_is = "the same bytes as one plain file, same link, cold";
        let mut rows = vec![
            Row::new(
                &format!("navigation → PIN field usable ({link}), median"),
                "ms",
                usable.0,
                floor.0,
                floor_is,
            ),
            Row::new(
                &format!("navigation → PIN field usable ({link}), p95"),
                "ms",
                usable.1,
                floor.1,
                floor_is,
            ),
        ];
        if full_speed {
            rows.push(Row::new(
                "customer page: bytes on the wire until the PIN field is usable (slow link, cold cache)",
                "KB",
                moved / 1000.0,
                ready_moved / 1000.0,
                "the bytes until the app is ready",
            ));
        }
        rows.extend([
            Row::new(
                &format!("navigation → app ready, Connect sends at once ({link}), median"),
                "ms",
                ready.0,
                ready_floor.0,
                floor_is,
            ),
            Row::new(
                &format!("navigation → app ready, Connect sends at once ({link}), p95"),
                "ms",
                ready.1,
                ready_floor.1,
                floor_is,
            ),
        ]);
        if full_speed {
            rows.push(Row::new(
                "customer page: bytes on a reload (hashed files cached)",
                "KB",
                reload / 1000.0,
                first / 1000.0,
                "the first load's bytes",
            ));
        }
        append_rows(path, &rows).unwrap_or_else(|e| panic!("write the rows: {e}"));
    }
}

/// "the machine's own speed", or "4× slower (emulated)".
fn cpu_words(rate: f64) -> String {
    if rate > 1.0 {
        format!("{rate}× slower (emulated)")
    } else {
        "the machine's own speed".to_owned()
    }
}

/// The time of one plain file of `bytes` over the same link, cold: the transfer floor.
async fn floor_of(browser: &Browser, a: &Args, bytes: f64) -> f64 {
    let floor = FloorServer::start(bytes as usize).await;
    browser
        .emulate_network(a.rtt_ms, a.down_kbit * 1000.0, a.up_kbit * 1000.0)
        .await;
    browser.goto(&floor.url).await;
    browser
        .eval(
            "return performance.getEntriesByType('navigation')[0].responseEnd;",
            vec![],
        )
        .await
        .as_f64()
        .expect("the floor's navigation timing")
}

/// Waits for the watch script's record `name` (`__usable`, `__app`): (milliseconds since
/// navigation, bytes moved).
async fn reached(browser: &Browser, name: &str) -> (f64, f64) {
    browser
        .wait_for_within(name, Duration::from_secs(60), || async {
            let v = browser
                .eval(&format!("return window.{name};"), vec![])
                .await;
            match (v[0].as_f64(), v[1].as_f64()) {
                (Some(ms), Some(bytes)) if bytes > 0.0 => Ok((ms, bytes)),
                _ => Err(format!("not yet: {v}")),
            }
        })
        .await
}

/// About the size of the floor server's status and header lines.
const FLOOR_HEADER_BYTES: usize = 130;

/// A bare HTTP server on 127.0.0.1 that answers every request with the same `size`
/// random bytes as `text/plain` (nothing in them compresses, and nothing compresses
/// them), then closes.
struct FloorServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl FloorServer {
    async fn start(size: usize) -> FloorServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/floor", listener.local_addr().expect("address"));
        // Printable but random (xorshift): a browser shows it as text, gzip could not
        // shrink it much, and it is not sent compressed anyway.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        // The response's header lines count in the page's bytes too.
        let body: Vec<u8> = (0..size.saturating_sub(FLOOR_HEADER_BYTES))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b'!' + (state % 90) as u8
            })
            .collect();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=us-ascii\r\n\
                         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FloorServer { url, task }
    }
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
