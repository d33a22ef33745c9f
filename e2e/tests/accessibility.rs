//! Accessibility (issue 5): axe-core scans every customer screen and the console's main
//! screens against WCAG 2.0/2.1/2.2 A and AA, and finds nothing. The screens are reached
//! the way people reach them, through the real broker and two headless Chromium
//! browsers; the console's setup form is not scanned (the test broker already has its
//! technician, so setup cannot be reached).
//!
//! Needs axe-core from `scripts/setup --test`. Run with
//! `cargo test -p connectit-e2e --test accessibility` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_e2e::{other_pin, BrokerOptions, Browser, Survey, TestFile, World};
use connectit_protocol::Author;

/// Scans what `browser` shows and keeps the report (every screen is scanned before the
/// test fails, so one run lists everything).
async fn scan(found: &mut Vec<String>, browser: &Browser, screen: &str) {
    if let Some(report) = browser.accessibility_report(screen).await {
        found.push(report);
    }
}

/// The customer's screens from the PIN form (the page's own, then the app's) to thank-you, and the console's from sign-in
/// to the screen video, each scanned once it shows.
#[tokio::test(flavor = "multi_thread")]
async fn every_screen_passes_axe() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.console();
    let customer = w.customer();
    let mut found = Vec::new();

    // Console: sign-in.
    w.tech.goto(&w.broker.console_url()).await;
    w.tech.wait_visible("#signin-form").await;
    scan(&mut found, &w.tech, "the console's sign-in form").await;
    console.sign_in(w.broker.technician()).await;

    // Customer: the page's own PIN form, before the app has loaded (a slow link keeps
    // the app away while axe runs), then the app's and a PIN error.
    w.cust.emulate_network(100.0, 200_000.0, 200_000.0).await;
    w.cust.goto(&w.broker.customer_url()).await;
    w.cust.wait_visible("#boot-pin #pin-input").await;
    scan(
        &mut found,
        &w.cust,
        "the page's own PIN form, before the app",
    )
    .await;
    assert!(
        !w.cust.is_visible("#app #pin-input").await,
        "scanned before the app took the form over"
    );
    w.cust.unthrottle_network().await;
    customer.open().await;
    scan(&mut found, &w.cust, "the PIN form").await;
    let session = console.create_session().await;
    scan(
        &mut found,
        &w.tech,
        "the console's list with the new-session panel",
    )
    .await;
    customer.type_pin(&other_pin(&session.pin)).await;
    customer.connect().await;
    customer.wait_pin_error("invalid_or_expired").await;
    scan(&mut found, &w.cust, "the PIN error").await;

    // Terms, waiting.
    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_terms().await;
    scan(&mut found, &w.cust, "the terms").await;
    customer.accept_terms().await;
    scan(&mut found, &w.cust, "the waiting room").await;

    // Picked up: chat on both sides.
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    scan(&mut found, &w.tech, "the console's session view (waiting)").await;
    console.pick_up().await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;
    console.send_chat("Hello, how can I help?").await;
    customer.send_chat("My printer does not print").await;
    w.tech
        .wait_chat_message(Author::Customer, "My printer does not print")
        .await;
    scan(&mut found, &w.cust, "the chat").await;
    scan(&mut found, &w.tech, "the console's session view with chat").await;

    // A permission prompt, and the console's pending request.
    let request = console
        .request_permissions(&["view_screen", "send_files"], "To look at the printer")
        .await;
    customer.wait_prompt_for(request).await;
    scan(&mut found, &w.cust, "a permission prompt").await;
    scan(&mut found, &w.tech, "the console with a pending request").await;

    // Sharing: the customer's indicator, the technician's video.
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(5).await;
    scan(&mut found, &w.cust, "the sharing indicator").await;
    scan(&mut found, &w.tech, "the console's screen video").await;

    // An incoming file offer.
    let file = TestFile::random("notes.txt", 2048);
    console.send_files(&[&file]).await;
    customer.wait_offer("notes.txt").await;
    scan(&mut found, &w.cust, "an incoming file offer").await;

    // The end confirmation, the ended screen with the survey, thank-you.
    w.cust.click("#end-button").await;
    w.cust.wait_visible("#end-confirm").await;
    scan(&mut found, &w.cust, "the end confirmation").await;
    w.cust.click("#end-yes").await;
    w.cust.wait_visible("#session-ended").await;
    w.cust.wait_visible("#survey").await;
    scan(&mut found, &w.cust, "the ended screen and survey").await;
    customer
        .submit_survey(&Survey {
            rating: 4,
            resolved: Some(true),
            comment: "Thanks".into(),
        })
        .await;
    scan(&mut found, &w.cust, "thank-you").await;
    // The security log, with the sign-in that opened this console in it.
    w.tech.click("#back-to-list").await;
    w.tech.click("#show-audit").await;
    w.tech.wait_visible("#audit-log tbody tr").await;
    scan(&mut found, &w.tech, "the security log").await;

    w.close().await;
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The PNG's width and height, from its header.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let header = png.get(..24)?;
    if &header[..8] != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let n = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    Some((n(16), n(20)))
}

/// Panics when the page scrolls sideways (content wider than the window), naming the
/// elements that stick out.
async fn assert_fits(b: &Browser, what: &str) {
    let script = "const w = window.innerWidth; \
        if (document.documentElement.scrollWidth <= w + 1) return null; \
        return Array.from(document.querySelectorAll('body *')) \
          .filter((e) => e.getBoundingClientRect().right > w + 1) \
          .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} \
            right=${Math.round(e.getBoundingClientRect().right)}`).join(', ') \
          || `scrollWidth ${document.documentElement.scrollWidth}, window ${w}, \
              body ${document.body.scrollWidth}, html ${document.documentElement.clientWidth}`;";
    match b.eval(script, vec![]).await {
        serde_json::Value::Null => {}
        other => panic!("{what}: the page scrolls sideways; sticking out: {other}"),
    }
}

/// The text size control (steps, remembered across a reload), the page at 320 px wide
/// with the text at 200 % (no sideways scrolling, a screenshot taken), and what screen
/// readers are told: the technician picking up, a new message, the prompt and its
/// remaining time, a transfer finishing, the end.
#[tokio::test(flavor = "multi_thread")]
async fn text_size_narrow_screen_and_announcements() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let b = &w.cust;

    // 320 px wide, then the text at 200 %: still no sideways scrolling.
    b.set_window_size(320, 640).await;
    customer.open().await;
    assert_fits(b, "the PIN form fits 320 px").await;
    for _ in 0..5 {
        b.click("#text-larger").await;
    }
    b.wait_attr("html", "data-text-size", "200").await;
    b.wait_text_contains("#text-size-value", "200").await;
    assert_eq!(
        b.attr("#text-larger", "aria-disabled").await.as_deref(),
        Some("true"),
        "the largest step"
    );
    assert_fits(b, "the PIN form fits 320 px at 200 %").await;
    let png = b.screenshot().await;
    let (width, _) = png_size(&png).expect("the screenshot is a PNG");
    assert!(
        width <= 400,
        "the screenshot is of the narrow window: {width} px"
    );
    let shot = std::env::temp_dir().join("connectit-customer-320px-200pc.png");
    let _ = std::fs::write(&shot, &png);
    eprintln!("screenshot at 320 px, text at 200 %: {}", shot.display());

    // Remembered: a reload starts at 200 %; smaller steps back down.
    customer.open().await;
    b.wait_attr("html", "data-text-size", "200").await;
    b.click("#text-smaller").await;
    b.wait_attr("html", "data-text-size", "175").await;
    assert_eq!(
        b.eval(
            "return localStorage.getItem('connectit.text-size');",
            vec![]
        )
        .await,
        serde_json::json!("175")
    );

    // The whole session at 320 px and 175 %.
    let session = console.create_session().await;
    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_terms().await;
    assert_fits(b, "the terms fit").await;
    customer.accept_terms().await;
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    let name = &w.broker.technician().display_name;
    b.wait_text_contains("#announcer", name).await;
    assert_eq!(
        b.attr("#announcer", "aria-live").await.as_deref(),
        Some("polite")
    );
    assert_fits(b, "the chat fits").await;

    // New messages: the log is a polite live region.
    console.send_chat("Hello from the technician").await;
    b.wait_chat_message(Author::Technician, "Hello from the technician")
        .await;
    assert_eq!(b.attr("#chat-log", "role").await.as_deref(), Some("log"));
    assert_eq!(
        b.attr("#chat-log", "aria-live").await.as_deref(),
        Some("polite")
    );

    // The prompt: an alertdialog with the focus, and an assertive region for the time
    // left (said at 30, 10 and 5 s).
    let request = console
        .request_permissions(&["send_files"], "To send you the driver")
        .await;
    customer.wait_prompt_for(request).await;
    assert_eq!(
        b.attr("#permission-prompt", "role").await.as_deref(),
        Some("alertdialog")
    );
    let regions = b
        .eval(
            "return document.querySelectorAll('#permission-prompt [aria-live=assertive]').length;",
            vec![],
        )
        .await;
    assert_eq!(regions, serde_json::json!(1), "the time-left region");
    assert_fits(b, "the prompt fits").await;
    customer.grant_all().await;

    // A transfer finishing is announced.
    let file = TestFile::random("driver.zip", 4096);
    console.send_files(&[&file]).await;
    let offer = customer.wait_offer("driver.zip").await;
    customer.accept_file(offer.file).await;
    b.wait_text_contains("#announcer", "driver.zip").await;
    assert_fits(b, "the files fit").await;

    // The end: the ended screen is a status region and takes the focus.
    customer.end().await;
    b.wait_text_contains("#session-ended", "ended").await;
    assert_eq!(
        b.attr("#session-ended", "role").await.as_deref(),
        Some("status")
    );
    assert_eq!(b.focused_id().await, "ended-heading");
    assert_fits(b, "the survey fits").await;

    w.close().await;
}
