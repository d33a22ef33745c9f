//! How long joining takes, measured in the customer's browser (not a test: it asserts
//! nothing about speed). For each of N runs (default 7) the technician creates a
//! session, the customer opens `/`, types the PIN, and the page's own clock
//! (`performance.now()`) measures:
//!
//! - **connect → terms**: from the click on Connect to `#terms` being on screen (PIN
//!   verified, socket up, log folded: the session is ready for the customer);
//! - **accept → waiting**: from the click on "accept" to `#waiting` being on screen;
//! - **connect → chat ready**: from the click on Connect to `#chat-input` being on
//!   screen, with the two human steps in between (accepting the terms, the technician
//!   picking up) done by the drivers as soon as each is possible: so it includes two
//!   WebDriver round trips that a person would replace with their reaction time.
//!
//! Run: `cargo build -p connectit-broker && trunk build --release --offline &&
//! cargo run -p connectit-e2e --example connect_timing -- 7`
//! (or `CONNECT_TIMING_RUNS=7`).

use serde_json::{json, Value};

use connectit_e2e::stats::summary;
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

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("CONNECT_TIMING_RUNS").ok())
        .map(|n| n.parse().expect("the number of runs is a positive integer"))
        .unwrap_or(7);
    assert!(runs > 0, "at least one run");

    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let mut connect_ms = Vec::with_capacity(runs);
    let mut accept_ms = Vec::with_capacity(runs);
    let mut chat_ms = Vec::with_capacity(runs);

    for run in 1..=runs {
        let session = console.create_session().await;
        if run > 1 {
            customer.forget_session().await;
        }
        customer.open().await;
        customer.type_pin(&session.pin).await;
        // The technician watches the session, ready to pick up.
        console.open_session(&session.id).await;

        arm(&w.cust, "#connect-button", "#chat-input", "chat").await;
        let connect = measure(&w.cust, "#connect-button", "#terms", "connect").await;
        let accept = measure(&w.cust, "#accept-terms", "#waiting", "accept").await;
        console.pick_up().await;
        let chat = result(&w.cust, "#chat-input", "chat").await;
        println!(
            "run {run:>2}: connect → terms {connect:7.1} ms   accept → waiting {accept:7.1} ms   \
             connect → chat ready {chat:7.1} ms"
        );
        connect_ms.push(connect);
        accept_ms.push(accept);
        chat_ms.push(chat);
        // Leave the waiting room so the next run starts clean.
        customer.end().await;
        console.back_to_list().await;
    }

    println!();
    summary("connect → terms (session ready)", &mut connect_ms);
    summary("accept → waiting", &mut accept_ms);
    summary(
        "connect → chat ready (automated accept and pick-up)",
        &mut chat_ms,
    );
    w.close().await;
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
