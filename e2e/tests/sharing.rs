//! Permission prompts and screen sharing (issue 3), through the real broker, the real
//! build and two headless Chromium browsers started with Chromium's fake capture flags
//! (`--use-fake-ui-for-media-stream --use-fake-device-for-media-stream`: the picker
//! accepts at once and the "screen" is a synthetic, steadily changing picture).
//!
//! Each test has its own broker and browsers and starts from an active session (sign
//! in, create, join, accept, pick up). Video is checked by counting the frames
//! `#screen-video` decodes and presents over a window of time, never by exact sizes.
//!
//! Run with `cargo test -p connectit-e2e --test sharing -- --test-threads=2` after
//! `cargo build -p connectit-broker` and `scripts/build-app`.

use connectit_protocol::EntryType;
use std::time::Duration;

use connectit_e2e::broker::APPLET_URL;
use connectit_e2e::customer::SHARING_TEXT;
use connectit_e2e::proof::{shown_code, CUSTOMER_CODE, TECHNICIAN_CODE};
use connectit_e2e::{countdown_secs, BrokerOptions, Browser, Console, Customer, FrameCount, World};

/// Frames `#screen-video` must show within two seconds to count as live.
const LIVE_MIN_FRAMES: u64 = 5;

/// Asks for the screen, grants everything, and waits until the technician's video shows
/// live frames (and the customer's page says the screen is shared).
async fn start_sharing(console: &Console<'_>, customer: &Customer<'_>) -> FrameCount {
    console
        .see_screen_of(
            customer,
            "To look at your printer settings",
            LIVE_MIN_FRAMES,
        )
        .await
}

/// After letting frames already on their way land, `#screen-video` shows no new ones.
async fn assert_no_new_frames(browser: &Browser, why: &str) {
    // Absence is the subject: give in-flight frames half a second, then watch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let count = browser
        .count_frames("#screen-video", Duration::from_millis(1500))
        .await;
    assert!(
        count.frames() <= 1,
        "{why}: #screen-video still shows new frames: {count:?}"
    );
}

/// Waits until both pages' logs hold an entry of `kind`.
async fn both_log(w: &World, kind: EntryType) {
    tokio::join!(w.tech.wait_entry_kind(kind), w.cust.wait_entry_kind(kind));
}

/// Request → prompt (reason, countdown, one box) → grant all → the technician's video
/// decodes frames; both sides see the log lines and what is granted.
#[tokio::test(flavor = "multi_thread")]
async fn granted_screen_reaches_the_technician() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    console.wait_screen_state("off").await;

    let reason = "To look at your printer settings";
    let request = console.request_permissions(&["view_screen"], reason).await;
    w.tech.wait_visible("#pending-remaining").await;
    assert!(
        !w.tech.is_enabled("#request-submit").await,
        "#request-submit is disabled while a request is pending"
    );

    customer.wait_prompt_for(request).await;
    assert_eq!(
        w.cust.attr("#permission-prompt", "role").await.as_deref(),
        Some("alertdialog")
    );
    w.cust.wait_text_contains("#prompt-reason", reason).await;
    assert_eq!(customer.prompt_permissions().await, ["view_screen"]);
    assert_eq!(
        w.cust
            .eval(
                "const e = document.querySelector('#prompt-perm-view_screen'); \
                 return !!e && e.checked;",
                vec![]
            )
            .await,
        serde_json::json!(true),
        "requested permissions are ticked by default"
    );
    let remaining = customer.prompt_remaining().await;
    assert!(
        (1..=60).contains(&remaining),
        "#prompt-remaining counts down from the 60 s default: {remaining}"
    );
    both_log(&w, EntryType::PermissionRequested).await;

    customer.grant_all().await;
    customer.wait_sharing("live").await;
    w.cust
        .wait_text_contains("#sharing-indicator", SHARING_TEXT)
        .await;
    assert!(
        customer.capture_tracks().await > 0,
        "#self-preview shows the captured stream"
    );

    console.wait_screen_state("live").await;
    let frames = console.wait_screen_frames(LIVE_MIN_FRAMES).await;
    assert!(frames.has_size(), "{frames:?}");
    let stats = w.tech.text("#screen-stats").await;
    assert!(
        stats.chars().any(|c| c.is_ascii_digit()),
        "#screen-stats shows the resolution and frame rate: {stats:?}"
    );
    w.tech.wait_hidden("#pending-request").await;

    console.wait_granted(&["view_screen"]).await;
    customer.wait_granted(&["view_screen"]).await;
    both_log(&w, EntryType::PermissionGranted).await;
    both_log(&w, EntryType::Media).await;

    w.close().await;
}

/// Deny: the log says so on both sides, nothing is granted, no video.
#[tokio::test(flavor = "multi_thread")]
async fn denied_request_shows_no_video() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;

    let request = console.request_permissions(&["view_screen"], "").await;
    customer.wait_prompt_for(request).await;
    customer.deny().await;

    both_log(&w, EntryType::PermissionDenied).await;
    w.tech.wait_hidden("#pending-request").await;
    console.wait_screen_state("off").await;
    assert!(
        !w.cust.is_visible("#sharing-indicator").await,
        "no sharing after a denial"
    );
    assert_eq!(console.granted().await, Vec::<String>::new());
    assert_eq!(customer.granted().await, Vec::<String>::new());
    assert_no_new_frames(&w.tech, "after a denial").await;
    assert!(
        w.tech.is_enabled("#request-submit").await,
        "the technician can ask again"
    );

    w.close().await;
}

/// No answer by the (short) deadline: the broker expires the request, the prompt goes,
/// both sides see it; asking again and granting then shows the screen.
#[tokio::test(flavor = "multi_thread")]
async fn unanswered_request_expires_then_a_new_one_is_granted() {
    let w = World::start(BrokerOptions {
        prompt_deadline_secs: Some(3),
        ..Default::default()
    })
    .await;
    let (console, customer, _session) = w.active_session().await;

    let first = console.request_permissions(&["view_screen"], "").await;
    customer.wait_prompt_for(first).await;
    let remaining = customer.prompt_remaining().await;
    assert!(
        remaining <= 3,
        "#prompt-remaining follows the configured 3 s: {remaining}"
    );
    // Nobody answers.
    w.cust.wait_hidden("#permission-prompt").await;
    both_log(&w, EntryType::PermissionExpired).await;
    w.tech.wait_hidden("#pending-request").await;
    console.wait_screen_state("off").await;
    assert_eq!(customer.granted().await, Vec::<String>::new());

    let second = console.request_permissions(&["view_screen"], "").await;
    assert!(second > first, "a new request id: {second} after {first}");
    customer.wait_prompt_for(second).await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(LIVE_MIN_FRAMES).await;
    both_log(&w, EntryType::PermissionGranted).await;

    w.close().await;
}

/// Three asked, one granted: both sides list just view_screen, the screen flows.
#[tokio::test(flavor = "multi_thread")]
async fn grant_a_subset() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;

    let request = console
        .request_permissions(&["view_screen", "system_info", "camera"], "")
        .await;
    customer.wait_prompt_for(request).await;
    let mut offered = customer.prompt_permissions().await;
    offered.sort();
    assert_eq!(offered, ["camera", "system_info", "view_screen"]);
    customer.grant_only(&["view_screen"]).await;

    console.wait_granted(&["view_screen"]).await;
    customer.wait_granted(&["view_screen"]).await;
    both_log(&w, EntryType::PermissionGranted).await;
    customer.wait_sharing("live").await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(LIVE_MIN_FRAMES).await;
    assert!(
        !w.cust.is_visible("#camera-indicator").await,
        "the camera was not granted"
    );

    w.close().await;
}

/// Revoking view-screen while sharing ends the customer's tracks and stops the video.
#[tokio::test(flavor = "multi_thread")]
async fn revoke_view_screen_mid_share() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    start_sharing(&console, &customer).await;
    customer.capture_tracks().await;

    customer.revoke("view_screen").await;
    customer.wait_tracks_ended().await;
    customer.wait_not_sharing().await;
    console.wait_screen_state("off").await;
    console.wait_granted(&[]).await;
    both_log(&w, EntryType::PermissionsRevoked).await;
    assert_no_new_frames(&w.tech, "after the revocation").await;

    w.close().await;
}

/// The browser's own "Stop sharing" (the track's `ended` event) is noticed, logged and
/// shown to both.
#[tokio::test(flavor = "multi_thread")]
async fn stop_from_the_browsers_bar() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    start_sharing(&console, &customer).await;
    customer.capture_tracks().await;
    let media_before = w.cust.count_entry_kind(EntryType::Media).await;

    customer.stop_from_browser_bar().await;
    customer.wait_not_sharing().await;
    console.wait_screen_state("off").await;
    tokio::join!(
        w.tech
            .wait_entry_kind_count(EntryType::Media, media_before + 1),
        w.cust
            .wait_entry_kind_count(EntryType::Media, media_before + 1)
    );
    assert!(
        customer
            .captured_track_states()
            .await
            .iter()
            .all(|s| s == "ended"),
        "every captured track is ended"
    );
    assert_no_new_frames(&w.tech, "after the browser stopped the capture").await;

    w.close().await;
}

/// Pause: the technician sees a paused state and no frames; resume: frames again.
#[tokio::test(flavor = "multi_thread")]
async fn pause_and_resume() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    start_sharing(&console, &customer).await;
    let media_before = w.cust.count_entry_kind(EntryType::Media).await;

    customer.pause_sharing().await;
    console.wait_screen_state("paused").await;
    assert_no_new_frames(&w.tech, "while paused").await;

    customer.resume_sharing().await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(LIVE_MIN_FRAMES).await;
    tokio::join!(
        w.tech
            .wait_entry_kind_count(EntryType::Media, media_before + 2),
        w.cust
            .wait_entry_kind_count(EntryType::Media, media_before + 2)
    );

    w.close().await;
}

/// Ending the session while sharing ends every track on the customer's side and the
/// video at the technician's.
#[tokio::test(flavor = "multi_thread")]
async fn ending_the_session_stops_sharing() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    start_sharing(&console, &customer).await;
    customer.capture_tracks().await;

    console.end_session().await;
    w.cust.wait_visible("#session-ended").await;
    customer.wait_tracks_ended().await;
    customer.wait_not_sharing().await;
    console.wait_screen_off().await;
    assert_no_new_frames(&w.tech, "after the end").await;

    w.close().await;
}

/// Remote control cannot be granted in a browser: the prompt offers the configured
/// applet, and the log says it was offered.
#[tokio::test(flavor = "multi_thread")]
async fn remote_control_offers_the_applet() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;

    let request = console
        .request_permissions(&["remote_control"], "To change a setting for you")
        .await;
    customer.wait_prompt_for(request).await;
    w.cust.wait_visible("#applet-offer").await;
    let href = w
        .cust
        .eval(
            "const e = document.querySelector('#applet-offer'); \
             const a = e && (e.matches('a') ? e : e.querySelector('a[href]')); \
             return a ? a.getAttribute('href') : null;",
            vec![],
        )
        .await;
    assert_eq!(
        href.as_str(),
        Some(APPLET_URL),
        "#applet-offer links the configured applet"
    );
    assert!(
        !customer
            .prompt_permissions()
            .await
            .iter()
            .any(|p| p == "remote_control"),
        "remote control has no box to tick: a browser cannot grant it"
    );
    both_log(&w, EntryType::PermissionRequested).await;
    both_log(&w, EntryType::AppletOffered).await;

    customer.deny().await;
    both_log(&w, EntryType::PermissionDenied).await;

    w.close().await;
}

/// "More time" extends the running countdown once (on both sides), then is used up.
#[tokio::test(flavor = "multi_thread")]
async fn more_time_extends_the_countdown_once() {
    let deadline = 20;
    let w = World::start(BrokerOptions {
        prompt_deadline_secs: Some(deadline),
        ..Default::default()
    })
    .await;
    let (console, customer, _session) = w.active_session().await;

    let request = console.request_permissions(&["view_screen"], "").await;
    customer.wait_prompt_for(request).await;
    let before = customer.prompt_remaining().await;
    assert!(
        before <= deadline,
        "#prompt-remaining {before} > {deadline}"
    );
    assert!(customer.can_ask_more_time().await, "#more-time is offered");

    customer.more_time().await;
    both_log(&w, EntryType::PermissionExtended).await;
    let extended = w
        .cust
        .wait_for("#prompt-remaining to grow by the extension", || async {
            let now = customer.prompt_remaining().await;
            if now > deadline + 5 && now <= 2 * deadline {
                Ok(now)
            } else {
                Err(format!("#prompt-remaining = {now}"))
            }
        })
        .await;
    assert!(extended > before, "{extended} after {before}");
    let tech_remaining = w
        .tech
        .wait_for("#pending-remaining to grow by the extension", || async {
            let text = w.tech.text("#pending-remaining").await;
            match countdown_secs(&text) {
                Some(n) if n > deadline + 5 && n <= 2 * deadline => Ok(n),
                _ => Err(format!("#pending-remaining shows {text:?}")),
            }
        })
        .await;
    assert!(tech_remaining > deadline);
    w.cust
        .wait_for("#more-time to be used up", || async {
            if customer.can_ask_more_time().await {
                Err("#more-time still visible and enabled".to_owned())
            } else {
                Ok(())
            }
        })
        .await;
    assert!(
        w.cust.is_visible("#permission-prompt").await,
        "the prompt is still open"
    );

    customer.deny().await;
    both_log(&w, EntryType::PermissionDenied).await;
    assert_eq!(
        w.cust.count_entry_kind(EntryType::PermissionExtended).await,
        1
    );

    w.close().await;
}

/// Reloading the customer's page while sharing ends the share for both sides (the page's
/// `pagehide` says so, or, if that never arrives, the reloaded page reports the stream
/// it no longer sends), and the session itself goes on.
#[tokio::test(flavor = "multi_thread")]
async fn reloading_while_sharing_stops_the_share_and_keeps_the_session() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    start_sharing(&console, &customer).await;
    let media_before = w.tech.count_entry_kind(EntryType::Media).await;

    w.cust.eval("location.reload(); return true;", vec![]).await;
    w.tech
        .wait_entry_kind_count(EntryType::Media, media_before + 1)
        .await;
    console.wait_screen_state("off").await;
    w.cust.wait_visible("#chat-input").await;
    customer.wait_not_sharing().await;
    assert_no_new_frames(&w.tech, "after the customer's page reloaded").await;
    // Still one session: the customer can be asked again, and share again.
    start_sharing(&console, &customer).await;
    w.close().await;
}

/// The camera takes the same path: request, grant, frames at the technician, and a
/// stop from the page ends the customer's camera track.
#[tokio::test(flavor = "multi_thread")]
async fn the_camera_is_shared_the_same_way() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    let request = console
        .request_permissions(&["camera"], "To see the cable on the back of the printer")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    w.cust.wait_visible("#camera-indicator").await;
    w.tech
        .wait_frames("#camera-video", LIVE_MIN_FRAMES, Duration::from_secs(2))
        .await;
    let tracks = w
        .cust
        .eval(
            "const v = document.querySelector('#camera-preview'); \
             window.__cameraTracks = v && v.srcObject ? v.srcObject.getTracks() : []; \
             return window.__cameraTracks.length;",
            vec![],
        )
        .await;
    assert_eq!(
        tracks.as_u64(),
        Some(1),
        "the preview holds the camera track"
    );

    w.cust.click("#stop-camera").await;
    w.cust.wait_hidden("#camera-indicator").await;
    both_log(&w, EntryType::Media).await;
    let states = w
        .cust
        .eval(
            "return window.__cameraTracks.map(t => t.readyState);",
            vec![],
        )
        .await;
    assert_eq!(states, serde_json::json!(["ended"]));
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_given_for_a_minute_counts_down_on_both_sides_and_renews() {
    let w = World::start(BrokerOptions {
        extra_config: vec![("grant_default_mins".into(), "1".into())],
        ..Default::default()
    })
    .await;
    let (console, customer, _) = w.active_session().await;
    start_sharing(&console, &customer).await;
    connectit_e2e::grants::a_minute_counts_down_and_renews(&w, &console).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn both_ends_of_the_screen_share_show_the_same_verification_code() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _) = w.active_session().await;
    start_sharing(&console, &customer).await;
    let mine = shown_code(&w.tech, TECHNICIAN_CODE).await;
    let theirs = shown_code(&w.cust, CUSTOMER_CODE).await;
    assert_eq!(theirs, mine, "the same two certificates on both ends");
    assert!(
        theirs.chars().all(|c| c.is_ascii_digit() || c == ' '),
        "{theirs}"
    );
    w.tech
        .wait_text_contains("#screen-verification", &mine)
        .await;
    w.cust
        .wait_text_contains("#sharing-indicator", "Read this code to the technician")
        .await;

    // The customer read it out and it is the same: the technician says so, in the log.
    w.tech.click("#screen-confirm-code").await;
    both_log(&w, EntryType::CodeConfirmed).await;
    w.tech
        .wait_attr("#screen-verification", "data-confirmed", "true")
        .await;
    let digits: String = mine.chars().filter(char::is_ascii_digit).collect();
    w.cust
        .wait_text_contains(
            "#chat-log",
            &format!(
                "The technician confirmed that you read out the same verification code: {digits}"
            ),
        )
        .await;
    w.close().await;
}

/// "Hide an area" paints the middle of the screen black before it is sent: the
/// technician's decoded frames are black there and as the customer's preview elsewhere;
/// the arrow keys move the area (and what is black follows), a drag on the preview
/// draws another, Delete and ✕ remove them, and the log tells the technician how many
/// parts are hidden, never where.
#[tokio::test(flavor = "multi_thread")]
async fn areas_the_customer_hides_arrive_black() {
    use connectit_e2e::proof::{self, inside, moved, wait_black, wait_not_black, ADDED};
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _) = w.active_session().await;
    start_sharing(&console, &customer).await;

    let pipeline = proof::hide_the_middle(&w).await;
    assert_eq!(pipeline, "frames", "Chromium paints each VideoFrame");
    w.tech
        .wait_text_contains("#screen-hidden", "hides part of the screen")
        .await;
    w.cust
        .wait_text_contains("#chat-log", "You hid part of your screen")
        .await;
    // "Hide an area" gave the new area the focus, for the arrow keys.
    let focused = w
        .cust
        .eval(
            "return document.activeElement.matches('.hidden-area[data-index=\"0\"]');",
            vec![],
        )
        .await;
    assert_eq!(
        focused,
        serde_json::json!(true),
        "the new area has the focus"
    );

    // Ten presses of → move it a tenth of the picture.
    for _ in 0..10 {
        w.cust.press("\u{e014}").await;
    }
    proof::wait_drawn_at(&w.cust, 0, moved(ADDED, 0.1)).await;
    wait_black(&w.tech, inside(moved(ADDED, 0.1))).await;
    wait_not_black(&w.tech, (0.36, 0.43, 0.43, 0.57)).await;
    // Shift with → five times: five hundredths wider; then back to its width.
    for _ in 0..5 {
        w.cust.press("\u{e008}\u{e014}").await;
    }
    proof::wait_drawn_at(&w.cust, 0, (0.45, 0.4, 0.8, 0.6)).await;
    wait_black(&w.tech, inside((0.45, 0.4, 0.8, 0.6))).await;
    for _ in 0..5 {
        w.cust.press("\u{e008}\u{e012}").await;
    }
    proof::wait_drawn_at(&w.cust, 0, moved(ADDED, 0.1)).await;

    // A drag on the preview draws a second area.
    let drawn = (0.05, 0.62, 0.25, 0.9);
    w.cust
        .drag(".redact-layer", (drawn.0, drawn.1), (drawn.2, drawn.3))
        .await;
    w.tech.wait_attr("#screen-hidden", "data-areas", "2").await;
    proof::wait_drawn_at(&w.cust, 1, drawn).await;
    wait_black(&w.tech, inside(drawn)).await;
    // A finger draws a third.
    let touched = (0.75, 0.05, 0.95, 0.3);
    w.cust
        .swipe(
            ".redact-layer",
            (touched.0, touched.1),
            (touched.2, touched.3),
        )
        .await;
    w.tech.wait_attr("#screen-hidden", "data-areas", "3").await;
    proof::wait_drawn_at(&w.cust, 2, touched).await;
    wait_black(&w.tech, inside(touched)).await;
    w.cust
        .click(".hidden-area[data-index='2'] .remove-area")
        .await;
    w.tech.wait_attr("#screen-hidden", "data-areas", "2").await;

    // Its ✕ removes it; Delete removes the first; the whole picture is sent again.
    w.cust
        .click(".hidden-area[data-index='1'] .remove-area")
        .await;
    w.tech.wait_attr("#screen-hidden", "data-areas", "1").await;
    wait_not_black(&w.tech, inside(drawn)).await;
    w.cust.focus_first(".hidden-area").await;
    w.cust.press("\u{e017}").await;
    w.cust
        .wait_text_contains("#chat-log", "You show your whole screen again")
        .await;
    w.tech.wait_hidden("#screen-hidden").await;
    wait_not_black(&w.tech, inside(moved(ADDED, 0.1))).await;
    w.close().await;
}

/// While anything is granted, a bar stays at the top of the window however far the page
/// scrolls: who is there and what they receive now (the screen live, then paused),
/// and "Stop everything", which takes every grant back at once.
#[tokio::test(flavor = "multi_thread")]
async fn the_bar_says_who_receives_what_and_stops_everything() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _) = w.active_session().await;
    start_sharing(&console, &customer).await;
    w.cust
        .wait_attr("#watch-bar li.watcher", "data-what", "screen-live")
        .await;
    let name = w
        .cust
        .attr("#watch-bar li.watcher", "data-name")
        .await
        .unwrap_or_default();
    assert!(!name.is_empty(), "the technician is named");
    w.cust
        .wait_text_contains("#watch-bar", &format!("{name} receives your screen (live)"))
        .await;

    customer.pause_sharing().await;
    w.cust
        .wait_attr("#watch-bar li.watcher", "data-what", "screen-paused")
        .await;
    customer.resume_sharing().await;
    w.cust
        .wait_attr("#watch-bar li.watcher", "data-what", "screen-live")
        .await;

    // Scrolled to the end of a long page, the X and the bar are still at the top of the
    // window, whole.
    w.cust.set_window_size(800, 600).await;
    let seen = w
        .cust
        .eval(
            "window.scrollTo(0, document.body.scrollHeight); \
             const box = (s) => document.querySelector(s).getBoundingClientRect(); \
             return new Promise((r) => requestAnimationFrame(() => r({ \
               scrolled: window.scrollY, height: window.innerHeight, \
               x: box('#end-button').top, bar: box('#watch-bar').top, \
               bar_bottom: box('#watch-bar').bottom })));",
            vec![],
        )
        .await;
    let n = |key: &str| seen[key].as_f64().unwrap_or(-1.0);
    assert!(n("scrolled") > 0.0, "the page scrolled: {seen}");
    assert!(
        (0.0..=16.0).contains(&n("x")),
        "the X stays at the top of the window: {seen}"
    );
    assert!(
        n("bar") > n("x") && n("bar_bottom") <= n("height") / 2.0,
        "the bar stays below it, in the top half of the window: {seen}"
    );
    w.cust.click("#end-button").await;
    w.cust.wait_visible("#end-confirm").await;
    w.cust.press("\u{e00c}").await;
    w.cust.wait_hidden("#end-confirm").await;

    w.cust.click("#stop-everything").await;
    customer.wait_not_sharing().await;
    console.wait_screen_state("off").await;
    console.wait_granted(&[]).await;
    both_log(&w, EntryType::PermissionsRevoked).await;
    w.cust.wait_hidden("#watch-bar").await;
    w.close().await;
}

/// A man in the middle of the screen share (a third page that answers the customer's
/// offer with its own connection and relays the frames to the technician over
/// another): the technician sees the screen, and the codes on the two ends differ, as
/// the customer and the technician find when they read them out on the phone.
#[tokio::test(flavor = "multi_thread")]
async fn a_man_in_the_middle_makes_the_two_codes_differ() {
    let w = World::start(BrokerOptions::default()).await;
    connectit_e2e::mitm::codes_differ_through_a_middle(&w).await;
    w.close().await;
}
