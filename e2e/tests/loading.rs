//! The first seconds of the customer page: while the app loads, a neutral loading state
//! (never the "needs WebAssembly" notice, which only a failed start shows); the
//! configuration preloaded beside the app and used, not fetched twice; a reload
//! costs the page's revalidation and nothing else (the hashed files come from the
//! cache); the favicon is there; a French browser's catalog comes from the broker.
//!
//! Run with `cargo test -p connectit-e2e --test loading` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use std::time::Duration;

use connectit_e2e::{Broker, BrokerOptions, Browser, World};
use serde_json::{json, Value};

/// Records, from the first moment of every page, what showed each time the DOM changed:
/// `L` the loading state, `N` the no-WebAssembly notice, `B` the page's own PIN form
/// (before the app), `P` the app's PIN field.
const WATCH: &str = r#"
window.__seen = [];
const look = () => {
  const vis = (s) => { const e = document.querySelector(s);
    return !!e && e.getClientRects().length > 0; };
  const state = (vis('#loading') ? 'L' : '') + (vis('#no-wasm') ? 'N' : '')
    + (vis('#boot-pin') ? 'B' : '') + (vis('#app #pin-input') ? 'P' : '');
  if (window.__seen[window.__seen.length - 1] !== state) window.__seen.push(state);
  if (state === 'B' && !window.__bootAt) {
    const r = document.querySelector('#boot-pin #pin-input').getBoundingClientRect();
    window.__bootAt = [r.x, r.y, r.width, r.height];
  }
};
new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
document.addEventListener('DOMContentLoaded', look);
window.__refused = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__refused.push(e.violatedDirective + ' ' + e.blockedURI));
"#;

/// What the page fetched: `[path, transferSize]` for the document and every resource.
const TRANSFERS: &str = r#"
return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map((e) => [new URL(e.name).pathname, e.transferSize]);
"#;

#[tokio::test(flavor = "multi_thread")]
async fn loading_is_neutral_and_a_failed_start_shows_the_notice() {
    let broker = Broker::start(BrokerOptions::default()).await;
    let browser = Browser::start().await;
    browser.before_page_scripts(WATCH).await;
    // A phone's width: the header's tools wrap onto rows of their own.
    browser.set_window_size(375, 800).await;
    // A slow link, so the loading state lasts long enough to be seen.
    browser.emulate_network(100.0, 2_000_000.0, 750_000.0).await;
    browser.goto(&broker.customer_url()).await;
    browser.wait_visible("#app #pin-input").await;
    let states = seen(&browser).await;
    // The page's own PIN form while the app loads (the loading state at most until
    // the page's script has run), then the app's: never both, never beside the loading
    // state, never the notice.
    let shown: Vec<&str> = states
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .skip_while(|s| *s == "L")
        .collect();
    assert_eq!(
        shown,
        ["B", "P"],
        "the page's PIN form, then the app's: {states:?}"
    );
    // The app's field stands exactly where the page's stood: nothing moved under the
    // person's finger when the app took the form over.
    let app_at = browser
        .eval(
            "const r = document.querySelector('#app #pin-input').getBoundingClientRect(); \
             return [r.x, r.y, r.width, r.height];",
            vec![],
        )
        .await;
    assert_eq!(
        browser.eval("return window.__bootAt;", vec![]).await,
        app_at,
        "the field did not move"
    );
    // The page's own style and script ran under its policy (the form shows, styled as
    // the app's: a card), and nothing was refused.
    assert_eq!(
        browser.eval("return window.__refused;", vec![]).await,
        json!([]),
        "nothing refused by the Content-Security-Policy"
    );
    let card = browser
        .eval(
            "return getComputedStyle(document.querySelector('#app .card')).borderTopStyle;",
            vec![],
        )
        .await;
    assert_eq!(card, json!("solid"), "the page's style applies");
    assert!(
        !browser.is_visible("#loading").await,
        "the loading state went"
    );
    assert!(!browser.is_visible("#no-wasm").await);

    // The app's code cannot load: the loading state gives way to the notice.
    browser.unthrottle_network().await;
    browser
        .cdp("Network.setBlockedURLs", json!({ "urls": ["*.wasm"] }))
        .await;
    browser.cdp("Network.clearBrowserCache", json!({})).await;
    browser.goto(&broker.customer_url()).await;
    browser.wait_visible("#no-wasm").await;
    assert!(!browser.is_visible("#loading").await);
    assert!(
        !browser.is_visible("#pin-input").await,
        "no form that cannot work"
    );
    let text = browser.text("#no-wasm").await;
    assert!(text.contains("support applet"), "{text:?}");
    // The PIN form's title went with the form: the page's own is back.
    assert_eq!(
        browser.eval("return document.title;", vec![]).await,
        json!(format!(
            "Remote support — {}",
            connectit_e2e::broker::ORGANISATION
        ))
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_takes_the_app_from_the_cache() {
    let broker = Broker::start(BrokerOptions::default()).await;
    let browser = Browser::start().await;
    browser.goto(&broker.customer_url()).await;
    // The app's field: the page's own form shows before the app has come.
    browser.wait_visible("#app #pin-input").await;
    let first = transfers(&browser).await;
    let wasm_first: f64 = first
        .iter()
        .filter(|(p, _)| p.ends_with(".wasm"))
        .map(|(_, b)| b)
        .sum();
    assert!(
        wasm_first > 10_000.0,
        "the first load fetched the app: {first:?}"
    );
    // The configuration was fetched once, by the page's preload, while the app loaded:
    // the app used that answer rather than ask again.
    let configs = first.iter().filter(|(p, _)| p == "/api/config").count();
    assert_eq!(configs, 1, "one request for the configuration: {first:?}");

    // A person reloads a page that has settled: a reload in the moment the browser is
    // still finishing its cache entries has been seen to confirm a file with the
    // broker (a bodyless 304) instead of taking it as it is.
    tokio::time::sleep(Duration::from_millis(500)).await;
    browser
        .eval("location.reload(); return true;", vec![])
        .await;
    // The reloaded page's own entries (the old page's are gone with it).
    browser
        .wait_for("the reloaded page with its PIN field", || async {
            let ready = browser
                .eval(
                    "return !!document.querySelector('#app #pin-input') && performance.getEntriesByType('resource').length > 0;",
                    vec![],
                )
                .await;
            if ready == json!(true) {
                Ok(())
            } else {
                Err("not yet".to_owned())
            }
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reload = transfers(&browser).await;
    let total: f64 = reload.iter().map(|(_, b)| b).sum();
    for (path, bytes) in &reload {
        // From the cache: nothing, or at most a confirmation's headers, never the body.
        // (That the hashed files are sent as immutable for a year is in the broker's
        // header tests.)
        if path.ends_with(".wasm") || path.ends_with(".js") || path.ends_with(".css") {
            assert!(*bytes < 1_000.0, "{path} came from the cache: {reload:?}");
        }
    }
    assert!(
        total <= 5_000.0,
        "a reload moves at most 5 KB ({total} bytes): {reload:?}"
    );

    // The favicon is a file, not a miss.
    let icon = browser
        .eval_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/favicon.ico').then((r) => done([r.status, r.headers.get('content-type')]));",
            vec![],
        )
        .await;
    assert_eq!(icon, json!([200, "image/x-icon"]));
    browser.close().await;
}

async fn transfers(browser: &Browser) -> Vec<(String, f64)> {
    let v = browser.eval(TRANSFERS, vec![]).await;
    v.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_f64().unwrap_or(0.0),
            )
        })
        .collect()
}

/// What the watch script saw, state by state.
async fn seen(browser: &Browser) -> Vec<String> {
    let seen = browser.eval("return window.__seen;", vec![]).await;
    seen.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// On a slow link the PIN can be typed, and Connect pressed, before the app has loaded:
/// the page's own form tidies the field and enables Connect as the app does, holds the
/// press, and the app takes the form over and sends the PIN once. A reload that resumes
/// the session never shows that form.
#[tokio::test(flavor = "multi_thread")]
async fn a_pin_typed_before_the_app_has_loaded_is_kept_and_sent() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let session = console.create_session().await;
    let b = &w.cust;
    b.before_page_scripts(WATCH).await;
    // About 25 KB a second: the app's code takes over ten seconds, the page's form
    // (about 8 KB) a fraction of one.
    b.emulate_network(100.0, 200_000.0, 200_000.0).await;
    b.goto(&w.broker.customer_url()).await;
    b.wait_visible("#boot-pin #pin-input").await;
    // The window's title is the PIN step's already, as the app will set it.
    let pin_title = format!("Enter your PIN — {}", connectit_e2e::broker::ORGANISATION);
    assert_eq!(
        b.eval("return document.title;", vec![]).await,
        Value::from(pin_title.as_str())
    );
    let form = |s: &str| format!("#boot-pin {s}");
    assert!(
        b.attr(&form("#connect-button"), "disabled").await.is_some(),
        "Connect waits for six digits"
    );
    let (first, rest) = session.pin.split_at(3);
    b.type_into(&form("#pin-input"), &format!("{first} {rest}"))
        .await;
    assert_eq!(b.value(&form("#pin-input")).await, session.pin, "tidied");
    b.click(&form("#connect-button")).await;
    assert_eq!(b.text(&form("#connect-button")).await, "Connecting…");
    assert!(
        !b.is_visible("#app #pin-input").await && seen(b).await.iter().all(|s| !s.contains('P')),
        "the app had not loaded when Connect was pressed: {:?}",
        seen(b).await
    );
    // The rest of the app arrives; it takes the press over and lets the customer in.
    b.unthrottle_network().await;
    b.wait_visible("#terms-text").await;
    assert_eq!(
        b.eval("return document.getElementById('boot-pin');", vec![])
            .await,
        Value::Null,
        "the page's form is gone"
    );
    assert!(
        seen(b).await.iter().all(|s| s != "BP"),
        "never two forms at once"
    );

    // A reload resumes the session: the page's PIN form does not show on the way.
    b.eval("location.reload(); return true;", vec![]).await;
    b.wait_visible("#terms-text").await;
    let states = seen(b).await;
    assert!(
        states.iter().all(|s| !s.contains('B')),
        "no PIN form for a session being resumed: {states:?}"
    );
    w.close().await;
}

/// A proxy that rewrites the page makes the hash of its inline stylesheet wrong, and the
/// browser refuses it: the page (here without the inline copy, which the browser sees
/// the same way) loads the same stylesheet from its file, and the app works, styled.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_inline_style_is_refused_takes_the_stylesheet_file() {
    let built = connectit_e2e::broker::dist_dir();
    let copy = tempfile::tempdir().expect("a folder for the altered build");
    for entry in std::fs::read_dir(&built).expect("dist/") {
        let entry = entry.expect("a file of dist/");
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy");
    }
    let page = std::fs::read_to_string(built.join("index.html")).expect("index.html");
    let (before, rest) = page.split_once("<style>").expect("an inline stylesheet");
    let (_, after) = rest.split_once("</style>").expect("its end");
    std::fs::write(copy.path().join("index.html"), format!("{before}{after}")).unwrap();
    let broker = Broker::start(BrokerOptions {
        dist_dir: Some(copy.path().to_path_buf()),
        ..BrokerOptions::default()
    })
    .await;
    let browser = Browser::start().await;
    browser.goto(&broker.customer_url()).await;
    browser.wait_visible("#app #pin-input").await;
    let styled = browser
        .eval(
            "return [getComputedStyle(document.body).display, \
             getComputedStyle(document.querySelector('#app .card')).borderTopStyle, \
             performance.getEntriesByType('resource').some((e) => e.name.endsWith('.css'))];",
            vec![],
        )
        .await;
    assert_eq!(
        styled,
        json!(["flex", "solid", true]),
        "styled from the file"
    );
    browser.close().await;
}
