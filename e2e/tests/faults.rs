//! Faults survived, seen from both browsers:
//!
//! - a long chat, written through each page's own message field, while a TCP proxy in
//!   front of each participant cuts their connection at random moments (some cuts land
//!   exactly while a message is on its way or its answer is): at the end both pages and
//!   the database hold every message exactly once, in order;
//! - the broker killed with SIGKILL in the middle of a session (screen shared, a
//!   permission prompt pending, messages on their way) and started again on the same
//!   address and data: both pages come back by themselves, every message a page saw
//!   stored is in the log, the prompt runs out on time on both pages (and one pending
//!   through another kill can still be answered), and the session goes on;
//! - the broker stopped with SIGTERM: both pages say they are reconnecting, every
//!   message a page saw stored is in the log, and the process exits with status 0.
//!
//! Run with `cargo test -p connectit-e2e --test faults -- --test-threads=1` after
//! `cargo build -p connectit-broker` and `scripts/build-app`. The chat test prints its
//! seed; `CONNECTIT_FAULTS_SEED=<seed>` replays the same cuts.

use connectit_protocol::{Author, EntryType};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connectit_e2e::{
    db, start_session, wait_until, Broker, BrokerOptions, Browser, Console, Customer, TcpProxy,
    Trap,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// The `window` marker that shows a page was never reloaded.
const SAME_PAGE: &str = "__connectit_e2e_same_page";

/// Messages each side writes in the chat test.
const PER_SIDE: usize = 500;
/// Messages one page writes per script call.
const BATCH: usize = 25;
/// The shortest time between two messages of one page: the broker allows 20 messages a
/// second on a socket, and a page also pings.
const GAP_MS: u64 = 55;
/// How long a page waits for its own message to come back before it asks the test to
/// look into it.
const STALL_MS: u64 = 4_000;
/// Cuts of each side's connection in the chat test.
const CUTS_PER_SIDE: usize = 5;
/// A chat frame is larger than this; a keep-alive is smaller (what a trap waits for).
const MESSAGE_FRAME_BYTES: usize = 200;
/// The permission prompt deadline in the SIGKILL test.
const PROMPT_SECS: u64 = 20;

/// Writes `arguments[0]` (texts) one after the other through the page's message field,
/// each once the previous one came back from the broker as `arguments[1]`'s entry.
/// Answers `{sent, outcome}`: `sent` texts are shown as stored; `outcome` says why it
/// stopped: `done`, `offline` (reconnecting before the next text), `unsent` (the page
/// kept the text: not connected), `uncertain` (the text left, and the connection
/// dropped or no answer came in time).
const SEND_BATCH: &str = r#"
const [texts, me, gapMs, stallMs] = arguments;
const done = arguments[arguments.length - 1];
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const reconnecting = () => !!document.querySelector('#connection-status');
const shown = (text) => {
  const list = document.querySelector('#chat-log ol');
  let li = list ? list.lastElementChild : null;
  for (let k = 0; li && k < 200; k++, li = li.previousElementSibling) {
    if (li.getAttribute('data-author') !== me) continue;
    const t = li.querySelector('.entry-text');
    if (t && t.textContent.trim() === text) return true;
  }
  return false;
};
let i = 0;
(async () => {
  let last = 0;
  for (; i < texts.length; i++) {
    if (reconnecting()) return done({ sent: i, outcome: 'offline' });
    const since = performance.now() - last;
    if (since < gapMs) await wait(gapMs - since);
    const field = document.querySelector('#chat-input');
    const send = document.querySelector('#chat-send');
    if (!field || !send) return done({ sent: i, outcome: 'offline' });
    field.value = texts[i];
    field.dispatchEvent(new Event('input', { bubbles: true }));
    send.click();
    last = performance.now();
    if (field.value !== '') return done({ sent: i, outcome: 'unsent' });
    const start = performance.now();
    while (!shown(texts[i])) {
      if (reconnecting() || performance.now() - start > stallMs) {
        return done({ sent: i, outcome: 'uncertain' });
      }
      await wait(4);
    }
  }
  done({ sent: i, outcome: 'done' });
})().catch((e) => done({ sent: i, outcome: 'error: ' + e }));
"#;

/// Starts writing `arguments[0]` through the message field, one every `arguments[1]`
/// ms, without waiting for anything; sets `window.__burstDone` when all were tried.
const START_BURST: &str = r#"
const [texts, gapMs] = arguments;
window.__burstDone = false;
let i = 0;
const tick = () => {
  if (i >= texts.length) { window.__burstDone = true; return; }
  const field = document.querySelector('#chat-input');
  const send = document.querySelector('#chat-send');
  if (field && send) {
    field.value = texts[i];
    field.dispatchEvent(new Event('input', { bubbles: true }));
    send.click();
  }
  i++;
  setTimeout(tick, gapMs);
};
tick();
return true;
"#;

/// `[seq, author, text]` of every chat entry of `#chat-log`, in page order.
const READ_CHATS: &str = r#"
return Array.from(document.querySelectorAll('#chat-log li.entry[data-kind="chat"]')).map((e) => {
  const t = e.querySelector('.entry-text');
  return [Number(e.getAttribute('data-seq')), e.getAttribute('data-author'),
          t ? t.textContent.trim() : null];
});
"#;

/// One chat message as a page or the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chat {
    seq: u64,
    author: String,
    text: String,
}

/// The chat entries `page` shows, in order.
async fn page_chats(page: &Browser) -> Vec<Chat> {
    let rows = match page.eval(READ_CHATS, vec![]).await {
        Value::Array(rows) => rows,
        other => panic!("unexpected #chat-log contents: {other}"),
    };
    rows.into_iter()
        .map(|row| Chat {
            seq: row[0]
                .as_u64()
                .unwrap_or_else(|| panic!("no data-seq: {row}")),
            author: row[1].as_str().unwrap_or_default().to_owned(),
            text: row[2].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The chat entries stored for `session`, in order.
fn db_chats(db_path: &Path, session: &str) -> Vec<Chat> {
    db::entries(db_path, session)
        .into_iter()
        .filter_map(|(seq, author, kind)| {
            let kind: Value = serde_json::from_str(&kind)
                .unwrap_or_else(|e| panic!("entry {seq}: kind is not JSON ({e}): {kind}"));
            (kind["type"] == "chat").then(|| Chat {
                seq,
                author,
                text: kind["data"]["text"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// The stored entries of `session` whose kind has type `kind`: `(seq, at, data)`.
fn db_kind(db_path: &Path, session: &str, kind: &str) -> Vec<(u64, i64, Value)> {
    let conn = db::open(db_path);
    let mut stmt = conn
        .prepare("SELECT seq, at, kind FROM entries WHERE session_id = ?1 ORDER BY seq")
        .expect("query the entries table");
    let rows = stmt
        .query_map([session], |row| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .expect("read the entries table");
    rows.map(|r| r.expect("read an entries row"))
        .filter_map(|(seq, at, text)| {
            let value: Value = serde_json::from_str(&text).expect("kind is JSON");
            (value["type"] == kind).then(|| (seq, at, value["data"].clone()))
        })
        .collect()
}

/// The highest sequence number stored for `session`.
fn db_last_seq(db_path: &Path, session: &str) -> u64 {
    db::entries(db_path, session)
        .last()
        .map(|(seq, _, _)| *seq)
        .unwrap_or(0)
}

/// The highest `data-seq` `page` shows.
async fn page_last_seq(page: &Browser) -> u64 {
    let script = "const li = document.querySelector('#chat-log ol'); \
                  const last = li && li.lastElementChild; \
                  return last ? Number(last.getAttribute('data-seq')) : 0;";
    page.eval(script, vec![]).await.as_u64().unwrap_or(0)
}

/// Waits until `page` is connected and shows every entry the broker had stored when it
/// came back.
async fn wait_caught_up(page: &Browser, db_path: &Path, session: &str) {
    page.wait_hidden("#connection-status").await;
    let stored = db_last_seq(db_path, session);
    page.wait_for(
        &format!("the page to catch up to entry {stored}"),
        || async {
            let shown = page_last_seq(page).await;
            if shown >= stored {
                Ok(())
            } else {
                Err(format!("it shows up to {shown}"))
            }
        },
    )
    .await;
}

/// The texts one side writes: numbered, with random hex after the number so that a
/// chat frame is always larger than [`MESSAGE_FRAME_BYTES`].
fn texts(tag: char, rng: &mut StdRng) -> Vec<String> {
    (1..=PER_SIDE)
        .map(|n| {
            let noise: String = (0..160)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect();
            format!("{tag}{n:04} {noise}")
        })
        .collect()
}

/// What one side's writer went through.
#[derive(Debug, Default)]
struct Writer {
    /// Script calls.
    batches: usize,
    /// Texts that had left when the connection dropped (or no answer came), and were
    /// then found stored.
    stored_unanswered: usize,
    /// Texts that had left and were then found missing: written again.
    rewritten: usize,
    /// Texts the page kept because it was not connected.
    kept: usize,
    /// Milliseconds per message of each batch that ran to its end.
    ms_per_message: Vec<u64>,
}

/// Writes every text of `texts` as `author` through `page`, as a person would: one
/// after the other; when the connection drops with a text on its way, waits until the
/// page is back and has caught up, and writes the text again only if the page does not
/// show it.
async fn write_all(
    page: &Browser,
    author: &str,
    texts: &[String],
    progress: &AtomicUsize,
    db_path: &Path,
    session: &str,
) -> Writer {
    let mut report = Writer::default();
    let mut next = 0;
    while next < texts.len() {
        let end = (next + BATCH).min(texts.len());
        let batch_started = Instant::now();
        let answer = page
            .eval_async(
                SEND_BATCH,
                vec![
                    json!(texts[next..end]),
                    json!(author),
                    json!(GAP_MS),
                    json!(STALL_MS),
                ],
            )
            .await;
        report.batches += 1;
        let sent = answer["sent"]
            .as_u64()
            .unwrap_or_else(|| panic!("unexpected answer from the writer: {answer}"))
            as usize;
        next += sent;
        progress.store(next, Ordering::SeqCst);
        match answer["outcome"].as_str().unwrap_or_default() {
            "done" => report
                .ms_per_message
                .push(batch_started.elapsed().as_millis() as u64 / sent.max(1) as u64),
            "offline" => page.wait_hidden("#connection-status").await,
            "unsent" => {
                report.kept += 1;
                // The status line follows the socket's close a moment later.
                tokio::time::sleep(Duration::from_millis(50)).await;
                page.wait_hidden("#connection-status").await;
            }
            "uncertain" => {
                wait_caught_up(page, db_path, session).await;
                let text = &texts[next];
                let shown = page_chats(page)
                    .await
                    .iter()
                    .any(|c| c.author == author && &c.text == text);
                if shown {
                    report.stored_unanswered += 1;
                    next += 1;
                    progress.store(next, Ordering::SeqCst);
                } else {
                    report.rewritten += 1;
                }
            }
            other => panic!("the {author}'s writer stopped: {other} (answer {answer})"),
        }
    }
    report
}

/// One planned cut of one side's connection.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// Cut once the side has this many messages stored (and some more since the last
    /// cut).
    after: usize,
    /// `None`: cut after `delay_ms`, wherever the writer is; `Some`: at the next
    /// message, before it reaches the broker or once it is answered.
    trap: Option<Trap>,
    delay_ms: u64,
    /// How long the network stays away.
    outage_ms: u64,
}

fn plan_cuts(rng: &mut StdRng) -> Vec<Cut> {
    let mut traps = vec![
        None,
        None,
        Some(Trap::DropRequest),
        Some(Trap::DropAnswer),
        Some(Trap::DropRequest),
    ];
    traps.shuffle(rng);
    let slot = (PER_SIDE - 60) / CUTS_PER_SIDE;
    traps
        .into_iter()
        .enumerate()
        .map(|(i, trap)| Cut {
            after: 20 + i * slot + rng.random_range(0..slot / 2),
            trap,
            delay_ms: rng.random_range(0..700),
            outage_ms: rng.random_range(50..1200),
        })
        .collect()
}

/// Carries out `plan` on `proxy`, following `progress`; the cuts made.
async fn cut_as_planned(proxy: &TcpProxy, plan: &[Cut], progress: &AtomicUsize, side: &str) {
    let mut floor = 0;
    for cut in plan {
        let at = cut.after.max(floor);
        wait_until(
            &format!("the {side} to have {at} messages stored"),
            Duration::from_secs(60),
            || async {
                let now = progress.load(Ordering::SeqCst);
                if now >= at {
                    Ok(())
                } else {
                    Err(format!("{now} stored"))
                }
            },
        )
        .await;
        match cut.trap {
            None => {
                tokio::time::sleep(Duration::from_millis(cut.delay_ms)).await;
                proxy.cut();
            }
            Some(trap) => {
                proxy.arm(trap, MESSAGE_FRAME_BYTES);
                tokio::time::timeout(Duration::from_secs(20), proxy.sprung())
                    .await
                    .unwrap_or_else(|_| {
                        panic!("the {side}'s trap {trap:?} never saw a message go by")
                    });
            }
        }
        tokio::time::sleep(Duration::from_millis(cut.outage_ms)).await;
        proxy.restore();
        // The next cut waits until the page has come back and written more.
        floor = progress.load(Ordering::SeqCst) + 10;
    }
}

/// The messages of `chats` written by the chat test, checked: each side's numbered
/// texts exactly once, in their order, with strictly increasing `seq`.
fn check_chat(whose: &str, chats: &[Chat], customer: &[String], technician: &[String]) {
    let seqs: Vec<u64> = chats.iter().map(|c| c.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "{whose}: seq must increase strictly (no duplicates, no reordering)"
    );
    for (author, want) in [("customer", customer), ("technician", technician)] {
        let got: Vec<&str> = chats
            .iter()
            .filter(|c| c.author == author)
            .map(|c| c.text.as_str())
            .collect();
        if got.len() != want.len() || got.iter().zip(want).any(|(g, w)| g != w) {
            let first_bad = got
                .iter()
                .zip(want)
                .position(|(g, w)| g != w)
                .unwrap_or(got.len().min(want.len()));
            panic!(
                "{whose}: the {author}'s messages are not each there once in order: \
                 {} shown, {} written; first difference at #{}: shown {:?}, written {:?}",
                got.len(),
                want.len(),
                first_bad + 1,
                got.get(first_bad).map(|t| &t[..5]),
                want.get(first_bad).map(|t| &t[..5]),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_survives_random_cuts_on_both_sides() {
    let seed: u64 = std::env::var("CONNECTIT_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("faults seed: {seed} (replay with CONNECTIT_FAULTS_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let customer_texts = texts('C', &mut rng);
    let technician_texts = texts('T', &mut rng);
    let customer_cuts = plan_cuts(&mut rng);
    let technician_cuts = plan_cuts(&mut rng);
    println!("customer cuts: {customer_cuts:?}");
    println!("technician cuts: {technician_cuts:?}");

    let mut customer_proxy = TcpProxy::bind().await;
    let mut technician_proxy = TcpProxy::bind().await;
    let broker = Broker::start(BrokerOptions {
        extra_origins: vec![customer_proxy.origin(), technician_proxy.origin()],
        ..Default::default()
    })
    .await;
    customer_proxy.forward_to(broker.addr());
    technician_proxy.forward_to(broker.addr());
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::new(&tech, &technician_proxy.url());
    let customer = Customer::new(&cust, &customer_proxy.url());
    let session = start_session(&broker, &console, &customer).await;
    for page in [&cust, &tech] {
        page.mark_page(SAME_PAGE).await;
    }
    let db_path = broker.db_path();

    let started = Instant::now();
    let (customer_progress, technician_progress) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (customer_writer, technician_writer, (), ()) = tokio::join!(
        write_all(
            &cust,
            "customer",
            &customer_texts,
            &customer_progress,
            &db_path,
            &session.id
        ),
        write_all(
            &tech,
            "technician",
            &technician_texts,
            &technician_progress,
            &db_path,
            &session.id
        ),
        cut_as_planned(
            &customer_proxy,
            &customer_cuts,
            &customer_progress,
            "customer"
        ),
        cut_as_planned(
            &technician_proxy,
            &technician_cuts,
            &technician_progress,
            "technician"
        ),
    );
    let written = started.elapsed();
    println!(
        "{} messages written in {:.1} s; customer {customer_writer:?}; technician {technician_writer:?}",
        2 * PER_SIDE,
        written.as_secs_f64()
    );

    // Every cut that fell on a message on its way was noticed by that side's writer:
    // a dropped request is written again, a dropped answer is found stored.
    for (side, plan, writer) in [
        ("customer", &customer_cuts, &customer_writer),
        ("technician", &technician_cuts, &technician_writer),
    ] {
        let dropped_requests = plan
            .iter()
            .filter(|c| c.trap == Some(Trap::DropRequest))
            .count();
        let dropped_answers = plan
            .iter()
            .filter(|c| c.trap == Some(Trap::DropAnswer))
            .count();
        assert!(
            writer.rewritten >= dropped_requests,
            "{side}: {dropped_requests} messages were cut off on their way, \
             but only {} were written again ({writer:?})",
            writer.rewritten
        );
        assert!(
            writer.stored_unanswered >= dropped_answers,
            "{side}: {dropped_answers} answers were cut off, but only {} messages were \
             found stored without an answer ({writer:?})",
            writer.stored_unanswered
        );
    }

    // Both pages end up with every message exactly once, in order, as stored.
    for (whose, page) in [("the customer's page", &cust), ("the console", &tech)] {
        page.wait_hidden("#connection-status").await;
        wait_until(
            &format!("{whose} to show all {} messages", 2 * PER_SIDE),
            Duration::from_secs(30),
            || async {
                let n = page_chats(page).await.len();
                if n >= 2 * PER_SIDE {
                    Ok(())
                } else {
                    Err(format!("{n} shown"))
                }
            },
        )
        .await;
    }
    let stored = db_chats(&db_path, &session.id);
    check_chat("the database", &stored, &customer_texts, &technician_texts);
    for (whose, page) in [("the customer's page", &cust), ("the console", &tech)] {
        let shown = page_chats(page).await;
        check_chat(whose, &shown, &customer_texts, &technician_texts);
        assert!(
            shown == stored,
            "{whose} shows the messages otherwise than the database stored them"
        );
        assert!(
            page.has_mark(SAME_PAGE).await,
            "{whose} came back without a reload"
        );
    }

    // Each cut was felt: the log says each side came back at least as often.
    let reconnected = db_kind(&db_path, &session.id, "reconnected");
    for (role, plan) in [
        ("customer", &customer_cuts),
        ("technician", &technician_cuts),
    ] {
        let back = reconnected
            .iter()
            .filter(|(_, _, data)| data["role"] == role)
            .count();
        assert!(
            back >= plan.len(),
            "the log says the {role} came back {back} times after {} cuts",
            plan.len()
        );
    }

    tokio::join!(tech.close(), cust.close());
    drop((customer_proxy, technician_proxy));
    drop(broker);
}

/// Texts for a burst: `tag` and a number.
fn burst(tag: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{tag} burst {i:02}")).collect()
}

/// Starts a burst on both pages, lets some of it reach the broker, then runs `stop`.
async fn burst_then<F: std::future::Future<Output = ()>>(cust: &Browser, tech: &Browser, stop: F) {
    let (c, t) = (burst("customer", 12), burst("technician", 12));
    tokio::join!(
        cust.eval(START_BURST, vec![json!(c), json!(25)]),
        tech.eval(START_BURST, vec![json!(t), json!(25)]),
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    stop.await;
}

/// After the broker went away: waits until both pages say they are reconnecting and
/// have tried their whole burst; the chat messages each shows as its own (each was
/// stored and sent back by the broker).
async fn shown_while_away(cust: &Browser, tech: &Browser) -> Vec<Chat> {
    let mut own = Vec::new();
    for (page, me) in [(cust, "customer"), (tech, "technician")] {
        page.wait_visible("#connection-status").await;
        page.wait_text_contains("#connection-status", "Reconnecting")
            .await;
        page.wait_for("the burst to be tried", || async {
            match page
                .eval("return window.__burstDone === true;", vec![])
                .await
            {
                Value::Bool(true) => Ok(()),
                other => Err(format!("__burstDone = {other}")),
            }
        })
        .await;
        own.extend(
            page_chats(page)
                .await
                .into_iter()
                .filter(|c| c.author == me),
        );
    }
    own
}

/// What a page could not send while the broker was away stays in its message field:
/// sent now, as a person would press Send again; it arrives once.
async fn send_kept(page: &Browser, me: Author) {
    let kept = page.value("#chat-input").await;
    if kept.trim().is_empty() {
        return;
    }
    page.click("#chat-send").await;
    let entries = page.wait_chat_message(me, kept.trim()).await;
    let copies = entries
        .iter()
        .filter(|e| e.author == Some(me) && e.text.as_deref() == Some(kept.trim()))
        .count();
    assert_eq!(copies, 1, "{kept:?} is shown {copies} times");
}

/// Every message in `acked` is stored exactly once.
fn assert_stored_once(db_path: &Path, session: &str, acked: &[Chat]) {
    let stored = db_chats(db_path, session);
    for chat in acked {
        let n = stored
            .iter()
            .filter(|s| s.author == chat.author && s.text == chat.text)
            .count();
        assert_eq!(
            n, 1,
            "{:?} by the {} was shown as stored (entry {}) but the database holds it {n} times",
            chat.text, chat.author, chat.seq
        );
    }
}

/// Both pages are back, on the same page (no reload), and show exactly the stored chat.
async fn assert_back_and_caught_up(cust: &Browser, tech: &Browser, db_path: &Path, session: &str) {
    for page in [cust, tech] {
        wait_caught_up(page, db_path, session).await;
        assert!(
            page.has_mark(SAME_PAGE).await,
            "the page came back without a reload"
        );
        let stored = db_chats(db_path, session);
        let shown = page_chats(page).await;
        assert_eq!(
            shown, stored,
            "the page shows the chat otherwise than stored"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_killed_mid_session_restarts_and_the_session_goes_on() {
    let mut broker = Broker::start(BrokerOptions {
        prompt_deadline_secs: Some(PROMPT_SECS),
        ..Default::default()
    })
    .await;
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::new(&tech, broker.url());
    let customer = Customer::new(&cust, broker.url());
    let session = start_session(&broker, &console, &customer).await;
    let db_path = broker.db_path();
    for page in [&cust, &tech] {
        page.mark_page(SAME_PAGE).await;
    }

    // The screen is shared.
    let screen = console.request_permissions(&["view_screen"], "").await;
    customer.wait_prompt_for(screen).await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(3).await;

    // A chat, and a prompt waiting for an answer.
    customer
        .send_chat("Before the outage, from the customer.")
        .await;
    console
        .send_chat("Before the outage, from the technician.")
        .await;
    let request = console.request_permissions(&["system_info"], "").await;
    customer.wait_prompt_for(request).await;
    let deadline = db_kind(&db_path, &session.id, "permission_requested")
        .into_iter()
        .find(|(_, _, data)| data["request"] == request)
        .and_then(|(_, _, data)| data["deadline"].as_i64())
        .expect("the pending request is stored with its deadline");

    // Messages on their way from both sides, and the broker dies.
    burst_then(&cust, &tech, broker.kill()).await;
    let acked = shown_while_away(&cust, &tech).await;
    println!(
        "{} messages were shown as stored when the broker was killed",
        acked.len()
    );

    broker.restart().await;
    assert_back_and_caught_up(&cust, &tech, &db_path, &session.id).await;
    assert_stored_once(&db_path, &session.id, &acked);

    // The prompt is still the same one on both pages, and runs out at its deadline.
    let expired = db_kind(&db_path, &session.id, "permission_expired");
    if expired.is_empty() {
        customer.wait_prompt_for(request).await;
        tech.wait_attr("#pending-request", "data-request", &request.to_string())
            .await;
    }
    let within = Duration::from_secs(PROMPT_SECS + 10);
    for page in [&cust, &tech] {
        page.wait_for_within("the prompt's expiry in the log", within, || async {
            let kinds = page.entry_kinds().await;
            if kinds.contains(&Some(EntryType::PermissionExpired)) {
                Ok(())
            } else {
                Err("no permission_expired entry".into())
            }
        })
        .await;
    }
    cust.wait_hidden("#permission-prompt").await;
    tech.wait_hidden("#pending-request").await;
    let expired = db_kind(&db_path, &session.id, "permission_expired");
    assert_eq!(expired.len(), 1, "one expiry is stored: {expired:?}");
    let (_, at, data) = &expired[0];
    assert_eq!(data["request"], json!(request));
    assert!(
        *at >= deadline,
        "the prompt expired at {at}, before its deadline {deadline}"
    );

    // The screen share either carries on or is logged as stopped and can be asked for
    // again.
    let media = db_kind(&db_path, &session.id, "media");
    let last_screen = media
        .iter()
        .rev()
        .find(|(_, _, d)| d["media"] == "screen")
        .map(|(_, _, d)| d["change"].clone())
        .expect("the screen share is in the log");
    println!("after the restart, the last screen entry: {last_screen}");
    if last_screen["change"] == "stopped" {
        assert!(
            last_screen["cause"].is_string(),
            "a stopped share says why: {last_screen}"
        );
        console.wait_screen_off().await;
        let again = console.request_permissions(&["view_screen"], "").await;
        customer.wait_prompt_for(again).await;
        customer.grant_all().await;
        customer.wait_sharing("live").await;
    }
    console.wait_screen_state("live").await;
    console.wait_screen_frames(3).await;

    // A prompt pending through a second kill can still be answered before its deadline.
    let second = console.request_permissions(&["system_info"], "").await;
    customer.wait_prompt_for(second).await;
    broker.kill().await;
    for page in [&cust, &tech] {
        page.wait_visible("#connection-status").await;
    }
    broker.restart().await;
    for page in [&cust, &tech] {
        page.wait_hidden("#connection-status").await;
    }
    customer.wait_prompt_for(second).await;
    tech.wait_attr("#pending-request", "data-request", &second.to_string())
        .await;
    customer.grant_all().await;
    tech.wait_hidden("#pending-request").await;
    console.wait_granted(&["view_screen", "system_info"]).await;
    let granted = db_kind(&db_path, &session.id, "permission_granted");
    assert!(
        granted
            .iter()
            .any(|(_, _, d)| d["request"] == json!(second)),
        "the answer after the restart is stored: {granted:?}"
    );
    assert!(
        db_kind(&db_path, &session.id, "permission_expired")
            .iter()
            .all(|(_, _, d)| d["request"] != json!(second)),
        "the answered request did not also expire"
    );

    // The chat goes on both ways.
    send_kept(&cust, Author::Customer).await;
    send_kept(&tech, Author::Technician).await;
    customer
        .send_chat("After the restart, from the customer.")
        .await;
    tech.wait_chat_message(Author::Customer, "After the restart, from the customer.")
        .await;
    console
        .send_chat("After the restart, from the technician.")
        .await;
    cust.wait_chat_message(
        Author::Technician,
        "After the restart, from the technician.",
    )
    .await;
    assert_back_and_caught_up(&cust, &tech, &db_path, &session.id).await;

    tokio::join!(tech.close(), cust.close());
    drop(broker);
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_stopped_with_sigterm_tells_the_pages_and_keeps_the_log() {
    let mut broker = Broker::start(BrokerOptions::default()).await;
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::new(&tech, broker.url());
    let customer = Customer::new(&cust, broker.url());
    let session = start_session(&broker, &console, &customer).await;
    let db_path = broker.db_path();
    for page in [&cust, &tech] {
        page.mark_page(SAME_PAGE).await;
    }
    customer
        .send_chat("Before the stop, from the customer.")
        .await;
    console
        .send_chat("Before the stop, from the technician.")
        .await;

    let mut stopped = None;
    burst_then(&cust, &tech, async {
        let sent = Instant::now();
        let status = broker.terminate(Duration::from_secs(10)).await;
        stopped = Some((status, sent.elapsed()));
    })
    .await;
    let (status, took) = stopped.expect("the stop ran");
    let status = status.expect("the broker exits within 10 s of SIGTERM");
    println!(
        "the broker exited ({status}) {:.2} s after SIGTERM",
        took.as_secs_f64()
    );
    assert!(status.success(), "the broker exits with status 0: {status}");

    // Both pages say they are reconnecting, and are otherwise intact.
    let acked = shown_while_away(&cust, &tech).await;
    for page in [&cust, &tech] {
        page.wait_visible("#chat-log").await;
        page.wait_visible("#chat-input").await;
    }
    customer
        .wait_technician(&broker.technician().display_name)
        .await;
    assert_stored_once(&db_path, &session.id, &acked);
    let stored = db_chats(&db_path, &session.id);
    for (page, me) in [(&cust, "customer"), (&tech, "technician")] {
        let shown = page_chats(page).await;
        assert!(
            shown.iter().all(|c| stored.contains(c)),
            "the {me}'s page shows messages the database does not hold"
        );
    }

    // Started again, both pages come back to the same session.
    broker.restart().await;
    assert_back_and_caught_up(&cust, &tech, &db_path, &session.id).await;
    send_kept(&cust, Author::Customer).await;
    send_kept(&tech, Author::Technician).await;
    customer
        .send_chat("After the stop, from the customer.")
        .await;
    tech.wait_chat_message(Author::Customer, "After the stop, from the customer.")
        .await;

    tokio::join!(tech.close(), cust.close());
    drop(broker);
}
