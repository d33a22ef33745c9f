//! How long joining takes and how long a chat message takes, measured in the browsers,
//! each beside its floor: a bare WebSocket echo server timed from a bare page in the
//! same headless Chromium (see `connectit_e2e::echo`). Not a test: it asserts nothing
//! about speed.
//!
//! **Joining** (N runs, default 7): the technician creates a session and opens it, the
//! customer opens `/`, types the PIN, and the customer page's own clock
//! (`performance.now()`) measures:
//!
//! - **connect → terms**: from the click on Connect to `#terms` being on screen (PIN
//!   verified, socket up, log folded: the session is ready for the customer);
//! - **accept → waiting**: from the click on "accept" to `#waiting` being on screen;
//! - **connect → chat ready**: from the click on Connect to `#chat-input` being on
//!   screen. The two human steps in between are done at once by scripts in the pages:
//!   the customer page clicks `#accept-terms` the moment it shows, the console clicks
//!   `#pick-up` the moment it shows. So this is the system's own time: PIN check, socket,
//!   terms accepted, the technician's console told, the pick-up sent back and shown.
//!
//! Their floor: **open + first echo**, a fresh `WebSocket` to the echo server, opened,
//! one message echoed (the least any join over a WebSocket costs).
//!
//! **Chat** (M messages in the last run's session, default 20): the customer types a
//! message and clicks `#chat-send`; the time runs from that click
//! (`timeOrigin + event.timeStamp`, a capture-phase listener on the customer page) to the
//! moment the message is in the console's `#chat-log` (a `MutationObserver` on the
//! technician's page, `timeOrigin + now`). One clock for both ends: both browsers run on
//! this machine and read the same system clock (as `share_timing` does). The path is
//! browser → broker (stored in SQLite, folded, fanned out) → other browser. Its floor is
//! a **bare two-page relay**: the same two browsers each open a bare page
//! ([`connectit_e2e::echo::RELAY_PAGE`]), a click on one sends the text over a WebSocket
//! to a bare relay server, which passes it to the other page, which appends one DOM
//! node; timed the same way. Beside it, the **echo round trip** (send on an open socket →
//! the echo arrives, messages of 200 bytes) in one page.
//!
//! **Page transfer**: on the first run (a fresh profile: cold cache) the bytes the
//! customer page fetched until the PIN field showed (Resource Timing `transferSize`,
//! headers included) beside the same files' bodies as the broker's brotli copies (or
//! `gzip -9` for a file without one): the difference is the headers.
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example connect_timing -- 7`
//! (or `CONNECT_TIMING_RUNS=7`); `--chat M` for M chat messages, `--echo K` for K echo
//! round trips (default 50), `--rows FILE` to append the figures as rows of
//! `scripts/bench`'s table, `--timeline` to print each join's steps in both pages (API
//! requests, sockets opened, messages sent and received) from the Connect click,
//! `--profile` to sample the customer page during the joins, and both pages during the
//! chat keeping only each message's own time in each (the customer's from the click to
//! the socket's send, the technician's from the socket's message to the line in the
//! log), with Chromium's profiler every 50 µs, and print the functions that took the
//! time (names need a build that keeps them: `data-wasm-opt="0" data-keep-debug`).
//! `--metrics` prints, for each join, how long each page's main thread worked from just
//! before the Connect click to the console showing the session picked up: in all, on
//! scripts, on style and on layout (`connectit_e2e::timeline::main_thread`, no
//! profiler, so nothing is inflated). The window also holds the benchmark's own short
//! scripts (arming the timers, reading the results). `--cold` empties the customer's
//! browser cache before each run's page load, so every join is a first visit's (by
//! default only the first run's is; the later ones load the page from the cache).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::echo::{self, EchoPlan, EchoServer};
use connectit_e2e::stats::summary;
use connectit_e2e::timeline::{self, MainThread};
use connectit_e2e::{BrokerOptions, Browser, World};

/// Arms a one-shot timer in the page: the next click on `button` starts it, the first
/// moment `target` is visible stops it; the milliseconds land in `window.__ct[key]`.
const ARM: &str = r#"
const [button, target, key] = arguments;
window.__ct = window.__ct || {};
delete window.__ct[key];
const vis = (e) => !!e && e.isConnected && e.getClientRects().length > 0
  && getComputedStyle(e).visibility !== 'hidden';
const onClick = (event) => {
  if (!event.target.closest || !event.target.closest(button)) return;
  window.removeEventListener('click', onClick, true);
  const t0 = performance.now();
  window.__ct0 = window.__ct0 || {};
  window.__ct0[key] = performance.timeOrigin + t0;
  let observer = null;
  const check = () => {
    if (window.__ct[key] !== undefined) return true;
    if (!vis(document.querySelector(target))) return false;
    window.__ct[key] = performance.now() - t0;
    if (observer) observer.disconnect();
    return true;
  };
  observer = new MutationObserver(check);
  observer.observe(document.documentElement,
    { subtree: true, childList: true, attributes: true, characterData: true });
  const frame = () => { if (!check()) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
};
window.addEventListener('click', onClick, true);
return true;
"#;

/// Clicks `arguments[0]` once, from inside the page, as soon as it is visible and
/// enabled (a person who does not hesitate): in a task queued right then, so that the
/// timers' observers see the element first.
const AUTO_CLICK: &str = r#"
const [selector] = arguments;
const vis = (e) => !!e && e.isConnected && e.getClientRects().length > 0
  && getComputedStyle(e).visibility !== 'hidden';
let done = false;
const observer = new MutationObserver(() => check());
const check = () => {
  if (done) return;
  const e = document.querySelector(selector);
  if (!vis(e) || e.disabled) return;
  done = true;
  observer.disconnect();
  setTimeout(() => e.click(), 0);
};
observer.observe(document.documentElement,
  { subtree: true, childList: true, attributes: true, characterData: true });
check();
return true;
"#;

/// The arrival time of the last WebSocket message in the page that contains `text`.
const ARRIVAL_OF: &str = r#"
const [text] = arguments;
const hit = (window.__wsArrivals || []).filter((a) => a[1].includes(text)).pop();
return hit ? hit[0] : null;
"#;

/// When the page sent the WebSocket message that contains `text` (its last such).
const SENDING_OF: &str = r#"
const [text] = arguments;
const hit = (window.__wsEvents || []).filter((e) => e[1].startsWith('sent ') && e[1].includes(text)).pop();
return hit ? hit[0] : null;
"#;

/// Customer: the next click on `#chat-send` stores `timeOrigin + timeStamp` in
/// `window.__sent`.
const ARM_SEND: &str = r#"
window.__sent = null;
const onClick = (event) => {
  if (!event.target.closest || !event.target.closest('#chat-send')) return;
  window.removeEventListener('click', onClick, true);
  window.__sent = performance.timeOrigin + event.timeStamp;
};
window.addEventListener('click', onClick, true);
return true;
"#;

/// Technician: the moment a customer entry with text `arguments[0]` is in `#chat-log`,
/// `window.__arrived` gets `timeOrigin + now`.
const ARM_ARRIVE: &str = r#"
const [text] = arguments;
window.__arrived = null;
const check = () => {
  if (window.__arrived !== null) return;
  const hit = Array.from(document.querySelectorAll('#chat-log li.entry[data-author="customer"] .entry-text'))
    .some((e) => e.textContent.trim() === text);
  if (!hit) return;
  window.__arrived = performance.timeOrigin + performance.now();
  if (window.__arriveObserver) window.__arriveObserver.disconnect();
};
if (window.__arriveObserver) window.__arriveObserver.disconnect();
window.__arriveObserver = new MutationObserver(check);
window.__arriveObserver.observe(document.documentElement,
  { subtree: true, childList: true, characterData: true });
check();
return true;
"#;

/// What the page fetched so far: `[path, transferSize, encodedBodySize]` for the
/// document and every resource.
const TRANSFERS: &str = r#"
const entries = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));
return entries.map((e) => [new URL(e.name).pathname, e.transferSize, e.encodedBodySize]);
"#;

/// What the command line asks for.
struct Args {
    runs: usize,
    chat: usize,
    echo: usize,
    rows: Option<PathBuf>,
    timeline: bool,
    profile: bool,
    metrics: bool,
    cold: bool,
}

fn args() -> Args {
    let mut args = Args {
        runs: std::env::var("CONNECT_TIMING_RUNS")
            .ok()
            .map(|n| count(&n, "CONNECT_TIMING_RUNS"))
            .unwrap_or(7),
        chat: 20,
        echo: 50,
        rows: None,
        timeline: false,
        profile: false,
        metrics: false,
        cold: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--chat" => args.chat = count(&value("--chat"), "--chat"),
            "--echo" => args.echo = count(&value("--echo"), "--echo"),
            "--rows" => args.rows = Some(PathBuf::from(value("--rows"))),
            "--timeline" => args.timeline = true,
            "--profile" => args.profile = true,
            "--metrics" => args.metrics = true,
            "--cold" => args.cold = true,
            n if !n.starts_with("--") => args.runs = count(n, "the number of runs"),
            other => panic!(
                "unknown option {other} (--chat M, --echo K, --rows FILE, --timeline, --profile, --metrics, --cold)"
            ),
        }
    }
    args
}

/// A positive count.
fn count(text: &str, what: &str) -> usize {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => panic!("{what} is a positive integer, not {text:?}"),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let runs = args.runs;

    bench::print_broker_note();
    let w = World::start(BrokerOptions::default()).await;
    for browser in [&w.cust, &w.tech] {
        browser.before_page_scripts(timeline::STAMPS).await;
    }
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let mut connect_ms = Vec::with_capacity(runs);
    let mut accept_ms = Vec::with_capacity(runs);
    let mut chat_ready_ms = Vec::with_capacity(runs);
    let mut page: Option<(f64, f64)> = None;
    let mut join_profile = timeline::Profile::default();
    let mut worked: Vec<(MainThread, MainThread)> = Vec::new();

    for run in 1..=runs {
        let session = console.create_session().await;
        if run > 1 {
            customer.forget_session().await;
        }
        if args.cold && run > 1 {
            // Every join a first visit: nothing of the page, nor its compiled code, kept
            // from the run before (the first run's profile is a fresh one already).
            w.cust.clear_cache().await;
        }
        customer.open().await;
        if run == 1 {
            page = Some(page_transfer(&w.cust).await);
        }
        customer.type_pin(&session.pin).await;
        // The technician watches the session, ready to pick up the moment it waits.
        console.open_session(&session.id).await;
        w.tech.eval(AUTO_CLICK, vec![json!("#pick-up")]).await;

        if args.profile {
            timeline::start_profile(&w.cust).await;
        }
        let before = if args.metrics {
            Some((
                timeline::main_thread(&w.cust).await,
                timeline::main_thread(&w.tech).await,
            ))
        } else {
            None
        };
        arm(&w.cust, "#connect-button", "#chat-input", "chat").await;
        arm(&w.cust, "#accept-terms", "#waiting", "accept").await;
        w.cust.eval(AUTO_CLICK, vec![json!("#accept-terms")]).await;
        let connect = measure(&w.cust, "#connect-button", "#terms", "connect").await;
        let accept = result(&w.cust, "#waiting", "accept").await;
        let chat = result(&w.cust, "#chat-input", "chat").await;
        console
            .browser
            .wait_attr("#session-view", "data-phase", "active")
            .await;
        println!(
            "run {run:>2}: connect → terms {connect:7.1} ms   accept → waiting {accept:7.1} ms   \
             connect → chat ready {chat:7.1} ms"
        );
        if let Some((cust, tech)) = before {
            let cust = timeline::main_thread(&w.cust).await.since(&cust);
            let tech = timeline::main_thread(&w.tech).await.since(&tech);
            println!("        the customer's page: {cust}");
            println!("        the technician's page: {tech}");
            worked.push((cust, tech));
        }
        if args.profile {
            join_profile.add(&timeline::stop_profile(&w.cust).await);
        }
        if args.timeline {
            print_join_timeline(&w.cust, &w.tech).await;
        }
        connect_ms.push(connect);
        accept_ms.push(accept);
        chat_ready_ms.push(chat);
        if run < runs {
            // Leave the session so the next run starts clean (the last one is kept
            // for the chat messages).
            customer.end().await;
            console.back_to_list().await;
        }
    }

    let mut marks = (0.0, 0.0);
    if args.profile {
        join_profile.print("the customer page, Connect click → chat ready (all runs)");
        timeline::start_profile(&w.tech).await;
        timeline::start_profile(&w.cust).await;
        marks = (
            timeline::mark_profile(&w.cust).await,
            timeline::mark_profile(&w.tech).await,
        );
    }
    let (mut message_ms, steps) = chat(
        &w.cust,
        &w.tech,
        args.chat,
        "customer click → technician's log",
    )
    .await;
    if args.profile {
        // Each page's samples while the message was its to handle: the customer's from
        // the click to the socket's send, the technician's from the socket's message to
        // the line in the log.
        let sending: Vec<_> = steps
            .iter()
            .filter_map(|s| Some((s.click, s.out?)))
            .collect();
        let receiving: Vec<_> = steps
            .iter()
            .filter_map(|s| Some((s.at?, s.shown)))
            .collect();
        for (browser, mark, windows, what) in [
            (
                &w.cust,
                marks.0,
                sending,
                "the customer's page, click → sent",
            ),
            (
                &w.tech,
                marks.1,
                receiving,
                "the technician's page, received → in the log",
            ),
        ] {
            let mut p = timeline::Profile::default();
            let kept = p.add_within(&timeline::stop_profile(browser).await, mark, &windows);
            p.print(&format!(
                "{what} ({kept:.1} ms sampled over {} messages)",
                windows.len()
            ));
        }
    }
    customer.end().await;

    let server = EchoServer::start().await;
    let plan = EchoPlan {
        opens: runs.max(5),
        round_trips: args.echo,
        payload_bytes: 200,
        gap_ms: 100,
    };
    let mut floor = echo::measure(&w.cust, &server, plan).await;
    // The chat's floor: the same two browsers, a bare page each, a bare relay between.
    echo::open_relay(&w.cust, &w.tech, &server).await;
    let (mut relay_ms, _) = chat(
        &w.cust,
        &w.tech,
        args.chat,
        "bare relay, click → other page",
    )
    .await;

    println!();
    let connect = summary("connect → terms (session ready)", &mut connect_ms);
    summary("accept → waiting", &mut accept_ms);
    let ready = summary(
        "connect → chat ready (accept and pick-up clicked at once in the pages)",
        &mut chat_ready_ms,
    );
    let open = summary(
        "floor: bare WebSocket open + first echo",
        &mut floor.open_first_echo_ms,
    );
    let chat = summary("chat message customer → technician", &mut message_ms);
    let relay = summary(
        "floor: bare two-page relay, click → appended in the other page",
        &mut relay_ms,
    );
    let rtt = summary(
        "floor: bare WebSocket echo round trip",
        &mut floor.round_trip_ms,
    );
    if !worked.is_empty() {
        print_main_thread(&worked);
    }
    if let Some((fetched, gzipped)) = page {
        println!(
            "customer page until the PIN field shows: {:.1} KB fetched, {:.1} KB as the files compressed",
            fetched / 1000.0,
            gzipped / 1000.0
        );
    }

    if let Some(path) = &args.rows {
        let open_is = "bare WebSocket: new socket, open, first echo (same browser)";
        let rtt_is = "bare WebSocket echo round trip (same browser)";
        let mut rows = Vec::new();
        if let Some((fetched, gzipped)) = page {
            rows.push(Row::new(
                "customer page: bytes fetched until the PIN field shows (cold cache)",
                "KB",
                fetched / 1000.0,
                gzipped / 1000.0,
                "the same files' bodies, brotli (gzip -9 where no copy)",
            ));
        }
        let joins = [
            ("PIN submitted → terms shown", connect),
            ("PIN submitted → chat ready (human steps instant)", ready),
        ];
        for (figure, (median, p95)) in joins {
            rows.push(Row::new(
                &format!("{figure}, median"),
                "ms",
                median,
                open.0,
                open_is,
            ));
            rows.push(Row::new(
                &format!("{figure}, p95"),
                "ms",
                p95,
                open.1,
                open_is,
            ));
        }
        let relay_is = "bare two-page relay: click, WebSocket, relay, one DOM node (same browsers)";
        rows.push(Row::new(
            "chat message customer → technician, median",
            "ms",
            chat.0,
            relay.0,
            relay_is,
        ));
        rows.push(Row::new(
            "chat message customer → technician, p95",
            "ms",
            chat.1,
            relay.1,
            relay_is,
        ));
        rows.push(Row::new(
            "bare two-page relay, median",
            "ms",
            relay.0,
            rtt.0,
            rtt_is,
        ));
        append_rows(path, &rows).unwrap_or_else(|e| panic!("write the rows: {e}"));
    }
    drop(server);
    w.close().await;
}

/// One message's moments (`timeOrigin + now`, ms, one clock for both pages): the
/// click, the socket's send in the sending page and its message in the receiving page
/// (pages that stamp their sockets), the line shown.
struct Steps {
    click: f64,
    out: Option<f64>,
    at: Option<f64>,
    shown: f64,
}

/// Sends `count` messages from `from`'s `#chat-input`/`#chat-send` and times each from
/// the click (`timeOrigin + timeStamp`) to its text in `to`'s `#chat-log`.
async fn chat(from: &Browser, to: &Browser, count: usize, what: &str) -> (Vec<f64>, Vec<Steps>) {
    let mut samples = Vec::with_capacity(count);
    let mut steps = Vec::with_capacity(count);
    for i in 1..=count {
        let text = format!("timing message {i} {}", "·".repeat(40));
        to.eval(ARM_ARRIVE, vec![json!(text)]).await;
        from.type_into("#chat-input", &text).await;
        from.eval(ARM_SEND, vec![]).await;
        from.click("#chat-send").await;
        let sent = number(from, "window.__sent", "the send click").await;
        let arrived = number(to, "window.__arrived", "the message in the other page").await;
        let ms = arrived - sent;
        // Where the page stamped the message's arrival (ConnectIT's pages, where the
        // stamp was installed before they loaded).
        let at = to.eval(ARRIVAL_OF, vec![json!(text)]).await.as_f64();
        let out = from.eval(SENDING_OF, vec![json!(text)]).await.as_f64();
        match (at, out) {
            (Some(at), Some(out)) => println!(
                "chat {i:>2}: {what} {ms:7.2} ms (in the sending page {:6.2} ms, on the way {:6.2} ms, \
                 in the receiving page {:6.2} ms)",
                out - sent,
                at - out,
                arrived - at
            ),
            (Some(at), None) => println!(
                "chat {i:>2}: {what} {ms:7.2} ms (in the receiving page {:6.2} ms)",
                arrived - at
            ),
            _ => println!("chat {i:>2}: {what} {ms:7.2} ms"),
        }
        samples.push(ms);
        steps.push(Steps {
            click: sent,
            out,
            at,
            shown: arrived,
        });
    }
    (samples, steps)
}

/// Prints both pages' timelines of the join just timed, from the click on Connect: the
/// customer's API requests, socket events and messages, and the technician's messages.
async fn print_join_timeline(customer: &Browser, technician: &Browser) {
    let start = number(customer, "window.__ct0.chat", "the Connect click's time").await;
    let ready = number(customer, "window.__ct.chat", "chat ready").await;
    timeline::print(
        &[("customer", customer), ("technician", technician)],
        start,
        start + ready,
    )
    .await;
    println!("    {ready:7.1} ms  customer   chat ready");
}

/// Waits until the page expression `expr` is a number; that number.
async fn number(browser: &Browser, expr: &str, what: &str) -> f64 {
    let script = format!("return {expr};");
    browser
        .wait_for(what, || async {
            let v = browser.eval(&script, vec![]).await;
            v.as_f64().ok_or_else(|| format!("{expr} = {v}"))
        })
        .await
}

/// What the customer page fetched so far (bytes on the wire), and what the same files
/// weigh compressed (the brotli copies, else `gzip -9`) (files of the build found by their path; anything
/// else, such as an API answer, counts with its body as it came).
async fn page_transfer(browser: &Browser) -> (f64, f64) {
    let entries = browser.eval(TRANSFERS, vec![]).await;
    let dist = dist_dir();
    let (mut fetched, mut gzipped) = (0.0, 0.0);
    for entry in entries.as_array().into_iter().flatten() {
        let path = entry[0].as_str().unwrap_or_default();
        let transfer = entry[1].as_f64().unwrap_or(0.0);
        let body = entry[2].as_f64().unwrap_or(0.0);
        fetched += transfer;
        let file = match path {
            "/" | "" => dist.join("index.html"),
            other => dist.join(other.trim_start_matches('/')),
        };
        // The broker's brotli copy where there is one, else the file as gzip -9.
        let brotli = file.with_file_name(format!(
            "{}.br",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        ));
        gzipped += if brotli.is_file() {
            std::fs::metadata(&brotli).map_or(0, |m| m.len()) as f64
        } else if file.is_file() {
            gzip_size(&file) as f64
        } else {
            body
        };
        println!("fetched {path}: {transfer} bytes on the wire, body {body}");
    }
    (fetched, gzipped)
}

/// The app build the broker serves (`CONNECTIT_DIST_DIR`, or `dist/`).
fn dist_dir() -> PathBuf {
    std::env::var_os("CONNECTIT_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| connectit_e2e::broker::workspace_root().join("dist"))
}

/// The size of `file` compressed with `gzip -9`.
fn gzip_size(file: &Path) -> usize {
    let output = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run gzip on {}: {e}", file.display()));
    assert!(output.status.success(), "gzip -9 {} failed", file.display());
    output.stdout.len()
}

/// Arms the page timer, clicks `button` through WebDriver, and waits for the result.
async fn measure(browser: &Browser, button: &str, target: &str, key: &str) -> f64 {
    arm(browser, button, target, key).await;
    browser.click(button).await;
    result(browser, target, key).await
}

/// Arms the page timer `key`: the next click on `button` starts it, `target` stops it.
async fn arm(browser: &Browser, button: &str, target: &str, key: &str) {
    browser
        .eval(ARM, vec![json!(button), json!(target), json!(key)])
        .await;
}

/// Waits for timer `key` to have stopped; its milliseconds.
async fn result(browser: &Browser, target: &str, key: &str) -> f64 {
    let read = "return (window.__ct && window.__ct[arguments[0]] !== undefined) \
                ? window.__ct[arguments[0]] : null;";
    browser
        .wait_for(&format!("{target} (timer {key})"), || async {
            match browser.eval(read, vec![json!(key)]).await {
                Value::Number(ms) => ms.as_f64().ok_or_else(|| "not a number".to_owned()),
                other => Err(format!("no timing yet ({other})")),
            }
        })
        .await
}

/// The medians of each page's main-thread work per join (`--metrics`).
fn print_main_thread(worked: &[(MainThread, MainThread)]) {
    let customer: Vec<MainThread> = worked.iter().map(|w| w.0).collect();
    let technician: Vec<MainThread> = worked.iter().map(|w| w.1).collect();
    for (page, joins) in [
        ("the customer's page", customer),
        ("the technician's page", technician),
    ] {
        let median_of = |pick: fn(&MainThread) -> f64| {
            let mut values: Vec<f64> = joins.iter().map(pick).collect();
            connectit_e2e::stats::median(&mut values)
        };
        println!(
            "main thread per join, {page} (medians of {} joins): tasks {:.1} ms, scripts {:.1} ms, \
             style {:.1} ms, layout {:.1} ms",
            joins.len(),
            median_of(|m| m.task_ms),
            median_of(|m| m.script_ms),
            median_of(|m| m.style_ms),
            median_of(|m| m.layout_ms),
        );
    }
}
