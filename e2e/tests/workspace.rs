//! The console as a workspace, through the real broker, the real build and headless
//! Chromium: a technician with two customers open in tabs switches between them while
//! one shares the screen, and nobody is told the technician left (no disconnect entry
//! in either log); a message in the tab not shown counts in the tab's badge and the
//! window title; each session has its own address, which a reload returns to; at
//! 1280×800 the customer's screen and the chat input are both in view without scrolling.

use connectit_e2e::browser::Browser;
use connectit_e2e::customer::Customer;
use connectit_e2e::{start_session, BrokerOptions, World};
use connectit_protocol::{Author, EntryType};
use serde_json::Value;

/// The window title.
async fn title(b: &Browser) -> String {
    b.eval("return document.title;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The unread count on a session's tab (0 when it shows none).
async fn tab_unread(b: &Browser, id: &str) -> u64 {
    b.attr(
        &format!(".session-tab[data-session-id=\"{id}\"] .unread"),
        "data-count",
    )
    .await
    .and_then(|n| n.parse().ok())
    .unwrap_or(0)
}

/// Shows a session by its tab and waits for its view.
async fn switch_to(b: &Browser, id: &str) {
    b.click(&format!(".session-tab[data-session-id=\"{id}\"]"))
        .await;
    b.wait_visible("#session-view").await;
    let path = b.eval("return location.pathname;", vec![]).await;
    assert_eq!(path, Value::from(format!("/console/session/{id}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_customers_in_tabs_nobody_is_dropped_and_the_unseen_is_counted() {
    let w = World::start(BrokerOptions::default()).await;
    // A viewport of 1280×800 (the window is that plus the browser's own bars).
    w.tech.set_window_size(1280, 800).await;
    let bars = w
        .tech
        .eval(
            "return [outerWidth - innerWidth, outerHeight - innerHeight];",
            vec![],
        )
        .await;
    let (dw, dh) = (bars[0].as_u64().unwrap_or(0), bars[1].as_u64().unwrap_or(0));
    w.tech
        .set_window_size(1280 + dw as u32, 800 + dh as u32)
        .await;
    let console = w.console();
    let first = w.customer();
    let a = start_session(&w.broker, &console, &first).await;

    // The first customer shares their screen.
    let request = console
        .request_permissions(&["view_screen"], "To see the error message")
        .await;
    first.wait_prompt_for(request).await;
    first.grant_all().await;
    first.wait_sharing("live").await;
    console.wait_screen_frames(5).await;
    // A conversation long enough to fill the chat column.
    for i in 1..=8 {
        first
            .send_chat(&format!("Line {i} of what the error says"))
            .await;
    }
    w.tech
        .wait_chat_message(Author::Customer, "Line 8 of what the error says")
        .await;

    // At 1280×800 the shared screen and the chat input are both in view, unscrolled.
    let layout = w
        .tech
        .eval(
            "window.scrollTo(0, 0);
             const rect = (sel) => document.querySelector(sel).getBoundingClientRect();
             const inView = (sel) => { const r = rect(sel);
               return r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight
                 && r.left >= 0 && r.right <= innerWidth; };
             const box = (sel) => { const r = rect(sel); return [r.left, r.top, r.right, r.bottom].map(Math.round); };
             return { screen: inView('#screen-video'), input: inView('#chat-input'),
                      boxes: { screen: box('#screen-video'), input: box('#chat-input'),
                               layout: box('.session-layout'), page: document.body.scrollHeight },
                      heading: !!document.querySelector('#console-chat-heading'),
                      size: [innerWidth, innerHeight] };",
            vec![],
        )
        .await;
    assert_eq!(
        layout["heading"],
        Value::Bool(true),
        "the chat has a heading"
    );
    assert_eq!(layout["size"], serde_json::json!([1280, 800]));
    assert_eq!(
        (&layout["screen"], &layout["input"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "both in view at 1280×800: {layout}"
    );

    // A second customer, in a second tab, while the first one's screen goes on.
    w.tech.click("#tab-list").await;
    let b = console.create_session().await;
    let cust2 = Browser::start().await;
    let second = Customer::new(&cust2, w.broker.url());
    second.join(&b.pin).await;
    second.accept_terms().await;
    console.wait_row_phase(&b.id, "waiting").await;
    console.open_session(&b.id).await;
    console.pick_up().await;
    second
        .wait_technician(&w.broker.technician().display_name)
        .await;
    assert_eq!(
        w.tech.attr_all(".session-tab", "data-session-id").await,
        [a.id.clone(), b.id.clone()]
    );

    // The first customer writes while the technician is with the second.
    first.send_chat("Are you still there?").await;
    w.tech
        .wait_for("an unread message on the first tab", || async {
            match tab_unread(&w.tech, &a.id).await {
                1 => Ok(()),
                n => Err(format!("{n} unread")),
            }
        })
        .await;
    let t = title(&w.tech).await;
    assert!(t.starts_with("(1) "), "the title counts it: {t:?}");
    console
        .send_chat("Hello, I am looking at your e-mail settings.")
        .await;
    second
        .browser
        .wait_chat_message(
            Author::Technician,
            "Hello, I am looking at your e-mail settings.",
        )
        .await;

    // Back to the first: the message is seen, the screen still live.
    switch_to(&w.tech, &a.id).await;
    w.tech
        .wait_chat_message(Author::Customer, "Are you still there?")
        .await;
    assert_eq!(tab_unread(&w.tech, &a.id).await, 0);
    let t = title(&w.tech).await;
    assert!(!t.starts_with('('), "nothing unseen: {t:?}");
    console.wait_screen_frames(5).await;
    switch_to(&w.tech, &b.id).await;
    switch_to(&w.tech, &a.id).await;
    console.wait_screen_frames(5).await;

    // Nobody was told the technician left: no disconnect entry on either side.
    for (who, page) in [("first", &w.cust), ("second", &cust2), ("console", &w.tech)] {
        if page.count_entry_kind(EntryType::Disconnected).await != 0 {
            eprintln!("{who}: {:#?}", page.chat_entries("#chat-log").await);
        }
        assert_eq!(
            page.count_entry_kind(EntryType::Disconnected).await,
            0,
            "{who}: no drop in the log"
        );
    }
    switch_to(&w.tech, &b.id).await;
    assert_eq!(w.tech.count_entry_kind(EntryType::Disconnected).await, 0);

    // Closing a tab is leaving that session: the customer is told.
    let close = format!(".close-tab[data-session-id=\"{}\"]", b.id);
    w.tech.click(&close).await;
    cust2.wait_entry_kind(EntryType::Disconnected).await;
    assert_eq!(
        w.tech.attr_all(".session-tab", "data-session-id").await,
        std::slice::from_ref(&a.id)
    );
    assert_eq!(
        w.tech.eval("return location.pathname;", vec![]).await,
        Value::from("/console"),
        "the list is shown after closing the shown tab"
    );

    // The session's own address: opened again by it after a reload, it comes back.
    switch_to(&w.tech, &a.id).await;
    w.tech.eval("location.reload(); return true;", vec![]).await;
    w.tech.wait_visible("#session-view").await;
    w.tech
        .wait_chat_message(Author::Customer, "Are you still there?")
        .await;
    console.wait_screen_frames(5).await;
    cust2.close().await;
    w.close().await;
}
