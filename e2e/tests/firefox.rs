//! Firefox ESR on either side of a session, against Chromium on the other, through the
//! real broker and the real build: the customer page in Firefox with the console in
//! Chromium, then the console in Firefox with the customer page in Chromium.
//!
//! Firefox runs headless through its own geckodriver, on a virtual X display (Xvfb)
//! whose empty screen is what `getDisplayMedia` captures; it asks for no permission
//! (`media.navigator.permission.disabled`) but, unlike Chromium's fake picker, only
//! from a real user gesture: the grant is a WebDriver click. Video is checked by
//! counting the frames the technician's `#screen-video` decodes, never by sizes; files
//! by the SHA-256 of what each browser saved in its download folder.
//!
//! Run with `cargo test -p connectit-e2e --test firefox -- --test-threads=1` after
//! `scripts/setup --test` (firefox-esr, Xvfb, geckodriver), `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_protocol::{Author, EntryType};
use std::path::Path;
use std::time::Duration;

use connectit_e2e::display::Xvfb;
use connectit_e2e::proof::{self, shown_code, CUSTOMER_CODE, TECHNICIAN_CODE};
use connectit_e2e::{
    sha256_file, BrokerOptions, Browser, BrowserKind, Console, Customer, TestFile, World,
};

/// Frames `#screen-video` must show within two seconds to count as live.
const LIVE_MIN_FRAMES: u64 = 5;

/// Big enough to fill the data channel's buffer past its high-water mark (4 MiB) a few
/// times, so that both browsers' `bufferedamountlow` pacing is used.
const FILE_BYTES: u64 = 12 * 1024 * 1024;

/// The browser's own name for itself, from its user agent.
async fn user_agent(browser: &Browser) -> String {
    browser
        .eval("return navigator.userAgent;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The technician confirms the code; both logs say so.
async fn confirm_code(w: &World) {
    w.tech.click("#screen-confirm-code").await;
    tokio::join!(
        w.tech.wait_entry_kind(EntryType::CodeConfirmed),
        w.cust.wait_entry_kind(EntryType::CodeConfirmed)
    );
    w.tech
        .wait_attr(TECHNICIAN_CODE, "data-confirmed", "true")
        .await;
}

/// Checks that the two browsers are the ones the test says (a Firefox that quietly
/// fell back to Chromium would prove nothing).
async fn assert_browsers(w: &World, tech: &str, cust: &str) {
    let (tech_ua, cust_ua) = tokio::join!(user_agent(&w.tech), user_agent(&w.cust));
    assert!(
        tech_ua.contains(tech),
        "the console runs in {tech}: {tech_ua}"
    );
    assert!(
        cust_ua.contains(cust),
        "the customer runs in {cust}: {cust_ua}"
    );
}

/// Chat both ways; each message is seen on the other side.
async fn chat_both_ways(w: &World, console: &Console<'_>, customer: &Customer<'_>) {
    let from_customer = "My printer prints blank pages";
    customer.send_chat(from_customer).await;
    w.tech
        .wait_chat_message(Author::Customer, from_customer)
        .await;
    let from_technician = "Let me have a look at your screen";
    console.send_chat(from_technician).await;
    w.cust
        .wait_chat_message(Author::Technician, from_technician)
        .await;
    // Enough lines to overflow the log: each page keeps the newest in view.
    for i in 1..=6 {
        let text = format!("Step {i}: open the printer's tray and check the roller.");
        console.send_chat(&text).await;
        w.cust.wait_chat_message(Author::Technician, &text).await;
    }
    w.cust.wait_newest_line_in_view().await;
    w.tech.wait_newest_line_in_view().await;
}

/// The technician asks for the screen, the customer grants it with a click, and the
/// technician's video decodes live frames with the stream's figures shown.
async fn share_screen(w: &World, console: &Console<'_>, customer: &Customer<'_>) {
    let request = console
        .request_permissions(&["view_screen"], "To look at your printer settings")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    assert!(
        customer.capture_tracks().await > 0,
        "#self-preview shows the captured stream"
    );
    console.wait_granted(&["view_screen"]).await;
    console.wait_screen_state("live").await;
    let frames = console.wait_screen_frames(LIVE_MIN_FRAMES).await;
    assert!(frames.has_size(), "the video has a size: {frames:?}");
    let stats = w
        .tech
        .wait_for("#screen-stats to show the stream's figures", || async {
            let text = w.tech.text("#screen-stats").await;
            if text.chars().any(|c| c.is_ascii_digit()) {
                Ok(text)
            } else {
                Err(format!("#screen-stats shows {text:?}"))
            }
        })
        .await;
    assert!(
        stats.contains("fps"),
        "#screen-stats shows the frame rate as well as the size: {stats:?}"
    );
}

/// Grants `permissions` through the prompt (a click on `#grant-all`); both sides then
/// list them beside what `before` was granted already.
async fn grant(
    console: &Console<'_>,
    customer: &Customer<'_>,
    before: &[&str],
    permissions: &[&str],
) {
    let request = console
        .request_permissions(permissions, "To move a few files")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    let all: Vec<&str> = before.iter().chain(permissions).copied().collect();
    console.wait_granted(&all).await;
    customer.wait_granted(&all).await;
}

/// The customer sends a file; both pages show it delivered; the technician saves it
/// with `a.save-file` and the saved bytes hash like the source.
async fn customer_sends_a_file(w: &World, console: &Console<'_>, customer: &Customer<'_>) {
    let file = TestFile::random("customer-to-technician.bin", FILE_BYTES);
    customer.send_files(&[&file]).await;
    let out = w.cust.wait_transfer_status(&file.name, "delivered").await;
    let inn = w.tech.wait_file_status(out.file, "delivered").await;
    assert_eq!(
        (out.direction.as_str(), inn.direction.as_str()),
        ("out", "in")
    );
    let saved = console.save_file(inn.file).await;
    assert_eq!(
        saved.file_name().map(|n| n.to_string_lossy().into_owned()),
        Some(file.name.clone()),
        "saved under its name"
    );
    assert_eq!(
        sha256_file(&saved),
        file.sha256,
        "the technician's saved file has the source's SHA-256"
    );
}

/// The technician sends a file; the customer accepts it; it lands in the customer's
/// download folder with the source's SHA-256.
async fn technician_sends_a_file(w: &World, console: &Console<'_>, customer: &Customer<'_>) {
    let file = TestFile::random("technician-to-customer.bin", FILE_BYTES);
    console.send_files(&[&file]).await;
    let offer = customer.wait_offer(&file.name).await;
    customer.accept_file(offer.file).await;
    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(offer.file, "delivered"),
        w.cust.wait_file_status(offer.file, "delivered")
    );
    assert_eq!(
        (out.direction.as_str(), inn.direction.as_str()),
        ("out", "in")
    );
    let saved = w
        .cust
        .wait_download_named(&file.name, Some(file.size))
        .await;
    assert_eq!(
        sha256_file(&saved),
        file.sha256,
        "the customer's saved file has the source's SHA-256"
    );
}

/// The customer in Firefox, the technician in Chromium: PIN, terms, chat both ways, the
/// screen (granted with a click) decoded at the technician, system information as
/// Firefox tells it, a file each way, the customer's X then Yes, and the record saved
/// from Firefox.
#[tokio::test(flavor = "multi_thread")]
async fn customer_in_firefox_with_the_console_in_chromium() {
    let w = World::start_with_browsers(
        BrokerOptions::default(),
        BrowserKind::Chromium,
        BrowserKind::Firefox,
    )
    .await;
    assert_browsers(&w, "Chrome/", "Firefox/").await;
    let (console, customer, session) = w.active_session().await;
    // The customer's page's own inline style (allowed by its hash) applies in Firefox.
    assert_eq!(
        w.cust
            .eval(
                "return getComputedStyle(document.querySelector('.card')).borderTopStyle;",
                vec![]
            )
            .await,
        serde_json::json!("solid")
    );
    chat_both_ways(&w, &console, &customer).await;

    share_screen(&w, &console, &customer).await;
    // Firefox has no frame-processing API: the canvas pipeline paints the area, with the
    // same result in Chromium's decoded frames (the Xvfb screen is white: the picture
    // outside is known).
    let pipeline = proof::hide_the_middle(&w).await;
    assert_eq!(pipeline, "canvas");
    let code = shown_code(&w.cust, CUSTOMER_CODE).await;
    assert_eq!(code, shown_code(&w.tech, TECHNICIAN_CODE).await);
    confirm_code(&w).await;
    w.cust
        .wait_attr("#watch-bar li.watcher", "data-what", "screen-live")
        .await;

    grant(
        &console,
        &customer,
        &["view_screen"],
        &["send_files", "receive_files", "system_info"],
    )
    .await;
    let preview = customer.system_info_preview().await;
    let browser = preview
        .iter()
        .find(|r| r.label.to_lowercase().contains("browser"))
        .unwrap_or_else(|| panic!("the preview names the browser: {preview:#?}"));
    assert!(
        browser.value.starts_with("Firefox "),
        "the browser is named as Firefox with its version: {browser:?}"
    );
    // The screen's connection is live: its round-trip time is read from this
    // browser's own statistics fields.
    let rtt = preview
        .iter()
        .find(|r| r.label.to_lowercase().contains("round-trip"))
        .unwrap_or_else(|| panic!("the preview has the round-trip time: {preview:#?}"));
    assert!(
        rtt.value.chars().any(|c| c.is_ascii_digit()),
        "the round-trip time is a number: {rtt:?}"
    );
    customer.send_system_info().await;
    let shown = console.system_info().await;
    assert!(
        shown.iter().any(|r| r.value == browser.value),
        "the console shows what the customer saw: {shown:#?}"
    );

    technician_sends_a_file(&w, &console, &customer).await;
    customer_sends_a_file(&w, &console, &customer).await;

    customer.end().await;
    w.tech
        .wait_attr("#session-view", "data-phase", "ended")
        .await;
    console.wait_row_phase_if_listed(&session.id, "ended").await;

    // Firefox saves the record too, and the broker finds it intact.
    w.cust.wait_visible("#download-record-json").await;
    let record = customer.download_record("json").await;
    let (code, out) = w.broker.verify_record(&record).await;
    assert_eq!(
        code, 0,
        "the customer's record from Firefox verifies: {out}"
    );
    w.close().await;
}

/// The console in Firefox, the customer in Chromium: sign in, create, pick up, chat
/// both ways, the customer's screen decoded in Firefox, a file received and saved, and
/// the technician ends the session and saves its record.
#[tokio::test(flavor = "multi_thread")]
async fn console_in_firefox_with_the_customer_in_chromium() {
    let w = World::start_with_browsers(
        BrokerOptions::default(),
        BrowserKind::Firefox,
        BrowserKind::Chromium,
    )
    .await;
    assert_browsers(&w, "Firefox/", "Chrome/").await;
    let (console, customer, _session) = w.active_session().await;
    chat_both_ways(&w, &console, &customer).await;

    share_screen(&w, &console, &customer).await;
    // Chromium paints the frames; Firefox decodes them black in the middle.
    let pipeline = proof::hide_the_middle(&w).await;
    assert_eq!(pipeline, "frames");
    let code = shown_code(&w.cust, CUSTOMER_CODE).await;
    assert_eq!(code, shown_code(&w.tech, TECHNICIAN_CODE).await);
    confirm_code(&w).await;

    grant(&console, &customer, &["view_screen"], &["receive_files"]).await;
    customer_sends_a_file(&w, &console, &customer).await;

    console.end_session().await;
    w.cust.wait_visible("#session-ended").await;

    let record = console.download_record("json").await;
    let (code, out) = w.broker.verify_record(&record).await;
    assert_eq!(
        code, 0,
        "the technician's record from Firefox verifies: {out}"
    );
    w.close().await;
}

/// A screen share from Firefox given for a minute: both sides count it down and say its
/// last minute, and one click in Firefox gives ten minutes more.
#[tokio::test(flavor = "multi_thread")]
async fn a_grant_from_firefox_counts_down_and_renews() {
    let w = World::start_with_browsers(
        BrokerOptions {
            extra_config: vec![("grant_default_mins".into(), "1".into())],
            ..Default::default()
        },
        BrowserKind::Chromium,
        BrowserKind::Firefox,
    )
    .await;
    let (console, customer, _) = w.active_session().await;
    share_screen(&w, &console, &customer).await;
    connectit_e2e::grants::a_minute_counts_down_and_renews(&w, &console).await;
    w.close().await;
}

/// A man in the middle of a Firefox customer's screen share (a third page, in
/// Chromium, that answers Firefox's offer and relays the frames to the console in
/// Chromium over its own connection): the technician sees the screen, and the codes on
/// the two ends differ.
#[tokio::test(flavor = "multi_thread")]
async fn a_man_in_the_middle_of_firefox_makes_the_two_codes_differ() {
    let w = World::start_with_browsers(
        BrokerOptions::default(),
        BrowserKind::Chromium,
        BrowserKind::Firefox,
    )
    .await;
    connectit_e2e::mitm::codes_differ_through_a_middle(&w).await;
    w.close().await;
}

/// A Firefox without `getDisplayMedia` (as on a phone; removed before the page's own
/// scripts through WebDriver BiDi): the prompt explains the screen and offers the
/// camera, and Firefox's camera reaches the technician in Chromium.
#[tokio::test(flavor = "multi_thread")]
async fn firefox_without_screen_capture_offers_its_camera() {
    let w = World::start_with_browsers(
        BrokerOptions::default(),
        BrowserKind::Chromium,
        BrowserKind::Firefox,
    )
    .await;
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
        serde_json::json!("undefined"),
        "the script ran before the page's"
    );

    let request = console
        .request_permissions(&["view_screen", "camera"], "To see the printer")
        .await;
    customer.wait_prompt_for(request).await;
    w.cust.wait_visible("#screen-unsupported").await;
    assert_eq!(customer.prompt_permissions().await, ["camera"]);
    customer.grant_all().await;
    console.wait_granted(&["camera"]).await;
    w.cust.wait_visible("#camera-indicator").await;
    let frames = w
        .tech
        .wait_frames("#camera-video", LIVE_MIN_FRAMES, Duration::from_secs(2))
        .await;
    assert!(
        frames.has_size(),
        "the camera's video has a size: {frames:?}"
    );
    w.close().await;
}

/// The virtual display: one shared by everyone who holds it; another server started
/// beside it takes a display number of its own, and stopping it removes its socket. (Whether the shared one stops with its last holder depends on the other
/// tests of this process, which may hold it too.)
#[test]
fn virtual_displays_are_shared_separate_and_cleaned_up() {
    let number = |display: &str| display.trim_start_matches(':').to_owned();
    let socket = |display: &str| format!("/tmp/.X11-unix/X{}", number(display));
    let first = Xvfb::shared().expect("start Xvfb");
    let second = Xvfb::shared().expect("share Xvfb");
    assert_eq!(
        second.display(),
        first.display(),
        "one display per test process"
    );
    assert!(
        Path::new(&socket(&first.display())).exists(),
        "Xvfb listens on {}",
        first.display()
    );

    let own = Xvfb::start().expect("start a second, separate Xvfb");
    let display = own.display();
    assert_ne!(display, first.display(), "a free display number is picked");
    assert!(
        Path::new(&socket(&display)).exists(),
        "Xvfb listens on {display}"
    );
    drop(own);
    assert!(
        !Path::new(&socket(&display)).exists(),
        "a stopped Xvfb leaves no socket behind"
    );
    assert!(
        Path::new(&socket(&first.display())).exists(),
        "the shared one still runs"
    );
}
