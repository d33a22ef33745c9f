//! Browsers that cannot run everything (issue 5): with scripts off, or without
//! WebAssembly, the page shows the `#no-wasm` notice with the applet link, never a blank
//! page; without `getDisplayMedia` the prompt for "view screen" explains why it cannot
//! share, offers the camera (when asked) and the applet, and granting starts no screen
//! share (the log shows the screen refused).
//!
//! Run with `cargo test -p connectit-e2e --test fallbacks` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_protocol::EntryType;
use std::time::Duration;

use connectit_e2e::broker::{APPLET_URL, SUPPORT_CONTACT};
use connectit_e2e::{Broker, BrokerOptions, Browser, StartOptions, World};
use serde_json::{json, Value};

/// The notice's text and link, once the page has had time to start (it never does).
async fn assert_notice(browser: &Browser, why: &str) {
    browser.wait_visible("#no-wasm").await;
    // Give a (failed) start time to run: the notice must still be there afterwards.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(browser.is_visible("#no-wasm").await, "{why}: #no-wasm gone");
    let text = browser.text("#no-wasm").await;
    assert!(
        text.contains("support applet"),
        "{why}: the notice explains: {text:?}"
    );
    let links = browser
        .eval(
            "return Array.from(document.querySelectorAll('#no-wasm a'))\
             .filter((a) => a.getClientRects().length > 0).map((a) => a.getAttribute('href'));",
            vec![],
        )
        .await;
    assert!(
        links
            .as_array()
            .is_some_and(|l| l.iter().any(|h| h.as_str() == Some(APPLET_URL))),
        "{why}: a visible link to {APPLET_URL} in the notice: {links}"
    );
    assert!(
        text.contains(SUPPORT_CONTACT),
        "{why}: the notice gives the other way to reach support: {text:?}"
    );
    assert!(
        !browser.is_visible("#pin-input").await,
        "{why}: the app did not start"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_off_shows_the_notice_and_the_applet_link() {
    let broker = Broker::start(BrokerOptions::default()).await;
    let mut prefs = serde_json::Map::new();
    prefs.insert(
        "profile.managed_default_content_settings.javascript".into(),
        json!(2),
    );
    let browser = Browser::start_with_options(StartOptions {
        prefs,
        ..StartOptions::default()
    })
    .await;
    browser.goto(&broker.customer_url()).await;
    assert_notice(&browser, "scripts off").await;
    let noscript = browser.text("#no-wasm").await;
    assert!(
        noscript.contains("JavaScript is turned off"),
        "the <noscript> part says why: {noscript:?}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_webassembly_shows_the_notice_and_the_applet_link() {
    let broker = Broker::start(BrokerOptions::default()).await;
    let browser = Browser::start().await;
    browser
        .before_page_scripts("delete window.WebAssembly;")
        .await;
    browser.goto(&broker.customer_url()).await;
    assert_eq!(
        browser
            .eval("return typeof window.WebAssembly;", vec![])
            .await,
        json!("undefined"),
        "the injected script ran before the page"
    );
    assert_notice(&browser, "no WebAssembly").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_get_display_media_offers_the_camera_and_the_applet() {
    let w = World::start(BrokerOptions::default()).await;
    w.cust
        .before_page_scripts("delete MediaDevices.prototype.getDisplayMedia;")
        .await;
    let (console, customer, _session) = w.active_session().await;
    assert_eq!(
        w.cust
            .eval(
                "return typeof navigator.mediaDevices.getDisplayMedia;",
                vec![]
            )
            .await,
        json!("undefined")
    );

    // Screen and camera asked: the camera is offered, the screen explained.
    let request = console
        .request_permissions(&["view_screen", "camera"], "To see the printer")
        .await;
    customer.wait_prompt_for(request).await;
    let explained = w.cust.text("#screen-unsupported").await;
    assert!(
        explained.contains("cannot share your screen") && explained.contains("camera"),
        "{explained:?}"
    );
    assert_eq!(
        w.cust
            .attr("#screen-unsupported-applet", "href")
            .await
            .as_deref(),
        Some(APPLET_URL)
    );
    assert_eq!(customer.prompt_permissions().await, ["camera"]);
    customer.deny().await;
    w.cust.wait_entry_kind(EntryType::PermissionDenied).await;

    // The screen alone: nothing to grant but the refusal, and no share starts.
    let request = console
        .request_permissions(&["view_screen"], "To look at the settings")
        .await;
    customer.wait_prompt_for(request).await;
    w.cust.wait_visible("#screen-unsupported").await;
    assert!(customer.prompt_permissions().await.is_empty());
    assert!(!w.cust.is_visible("#grant-all").await, "nothing to allow");
    customer.deny().await;
    w.cust
        .wait_entry_kind_count(EntryType::PermissionDenied, 2)
        .await;

    // No capture started, and no error shown for what the browser simply lacks.
    assert!(!customer.shows("#sharing-indicator").await);
    console.wait_screen_state("off").await;
    let shown = w
        .cust
        .eval(
            "return document.querySelectorAll('#capture-problem').length;",
            vec![],
        )
        .await;
    assert_eq!(shown, Value::from(0), "a missing feature is no error");

    w.close().await;
}
