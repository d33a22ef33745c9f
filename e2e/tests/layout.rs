//! Layout for small screens, zoom and motion (issue 5): the customer's screens reflow
//! at 320 CSS pixels (WCAG 1.4.10: a phone, or a 1280-pixel window at 400 %), at 200 %
//! zoom of a 1280×720 window, and with the largest text size; nothing scrolls sideways
//! and no control is cut off. With `prefers-reduced-motion: reduce` nothing animates.
//!
//! The viewport and media features are emulated through the DevTools protocol of the
//! real headless Chromium. Run with `cargo test -p connectit-e2e --test layout` after
//! `cargo build -p connectit-broker` and `scripts/build-app`.

use connectit_e2e::{BrokerOptions, Browser, Survey, World};
use connectit_protocol::Author;
use serde_json::{json, Value};

/// A viewport to check: CSS pixels and device pixel ratio.
struct Viewport {
    name: &'static str,
    width: u32,
    height: u32,
    scale: f64,
    mobile: bool,
}

const PHONE: Viewport = Viewport {
    name: "a 320-pixel phone",
    width: 320,
    height: 640,
    scale: 2.0,
    mobile: true,
};

const ZOOM_200: Viewport = Viewport {
    name: "a 1280×720 window at 200 %",
    width: 640,
    height: 360,
    scale: 2.0,
    mobile: false,
};

async fn emulate(b: &Browser, v: &Viewport) {
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": v.width, "height": v.height, "deviceScaleFactor": v.scale,
                "mobile": v.mobile }),
    )
    .await;
}

/// What overflows sideways on the current screen: the page itself, or a visible
/// control (button, field, link, select) that sticks out of the viewport or whose text
/// does not fit in its box. Empty when the screen reflows.
const OVERFLOWS: &str = r#"
const out = [];
const vw = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > vw + 1) {
  out.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport`);
  // The innermost elements sticking out name the culprit.
  const wide = Array.from(document.querySelectorAll('body *')).filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 1;
  });
  for (const e of wide.filter((e) => !wide.some((o) => o !== e && e.contains(o))).slice(0, 5)) {
    const r = e.getBoundingClientRect();
    out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} spans ${Math.round(r.left)}..${Math.round(r.right)}px`);
  }
}
const name = (e) => (e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + e.className) +
  ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '"';
for (const e of document.querySelectorAll('button, input, textarea, select, a, label, h1, h2, p')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  const s = getComputedStyle(e);
  if (s.visibility === 'hidden' || (e.type === 'radio' || e.type === 'checkbox' || e.type === 'file')) continue;
  if (e.closest('.visually-hidden, .sr-only')) continue;
  if (r.left < -1 || r.right > vw + 1) out.push(`${name(e)} spans ${Math.round(r.left)}..${Math.round(r.right)}px`);
  if (e.scrollWidth > e.clientWidth + 1 && s.overflowX !== 'auto' && s.overflowX !== 'scroll'
      && e.tagName !== 'TEXTAREA' && e.tagName !== 'INPUT' && e.tagName !== 'SELECT') {
    out.push(`${name(e)}: text ${e.scrollWidth}px in a ${e.clientWidth}px box`);
  }
}
return out;
"#;

/// Checks that `screen` reflows in `b`'s current viewport.
async fn assert_reflows(found: &mut Vec<String>, b: &Browser, viewport: &Viewport, screen: &str) {
    match b.eval(OVERFLOWS, vec![]).await {
        Value::Array(items) if items.is_empty() => {}
        Value::Array(items) => {
            for item in items {
                found.push(format!(
                    "{screen} on {}: {}",
                    viewport.name,
                    item.as_str().unwrap_or_default()
                ));
            }
        }
        other => panic!("unexpected overflow report {other}"),
    }
}

/// The customer's screens, from the PIN form to thank-you, on `viewport`; with the
/// largest text size when `largest_text`.
async fn customer_screens_reflow(viewport: &Viewport, largest_text: bool) {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let b = &w.cust;
    let mut found = Vec::new();
    emulate(b, viewport).await;
    customer.open().await;
    if largest_text {
        while b.attr("#text-larger", "aria-disabled").await.is_none() {
            b.click("#text-larger").await;
        }
        assert_eq!(
            b.attr("html", "data-text-size").await.as_deref(),
            Some("200")
        );
    }
    assert_reflows(&mut found, b, viewport, "the PIN form").await;

    let session = console.create_session().await;
    customer.join(&session.pin).await;
    assert_reflows(&mut found, b, viewport, "the terms").await;
    customer.accept_terms().await;
    assert_reflows(&mut found, b, viewport, "the waiting room").await;

    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;
    let long = "A long link: https://support.example.org/knowledge-base/articles/printer-drivers-for-windows-and-macos";
    console.send_chat(long).await;
    b.wait_chat_message(Author::Technician, long).await;
    assert_reflows(&mut found, b, viewport, "the chat").await;

    let request = console
        .request_permissions(
            &["view_screen", "send_files", "system_info"],
            "To look at the printer settings",
        )
        .await;
    customer.wait_prompt_for(request).await;
    assert_reflows(&mut found, b, viewport, "a permission prompt").await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    assert_reflows(&mut found, b, viewport, "sharing, with the granted list").await;

    customer.end().await;
    b.wait_visible("#survey").await;
    assert_reflows(&mut found, b, viewport, "the survey").await;
    customer
        .submit_survey(&Survey {
            rating: 5,
            resolved: Some(true),
            comment: "Fine".into(),
        })
        .await;
    b.wait_visible("#thank-you").await;
    assert_reflows(&mut found, b, viewport, "thank-you").await;

    w.close().await;
    assert!(found.is_empty(), "does not reflow:\n{}", found.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_customer_screens_fit_a_phone_with_the_largest_text() {
    customer_screens_reflow(&PHONE, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_customer_screens_fit_at_200_percent_zoom() {
    customer_screens_reflow(&ZOOM_200, false).await;
}

/// Whether anything on the page animates or transitions longer than `limit_s` seconds;
/// the longest such element.
const LONGEST_MOTION: &str = r#"
const secs = (v) => Math.max(0, ...v.split(',').map((t) => {
  t = t.trim(); return t.endsWith('ms') ? parseFloat(t) / 1000 : parseFloat(t); }));
let longest = { secs: 0, what: '' };
for (const e of document.querySelectorAll('*')) {
  const s = getComputedStyle(e);
  if (s.animationName === 'none' && s.transitionProperty === 'none') continue;
  const d = Math.max(s.animationName === 'none' ? 0 : secs(s.animationDuration),
                     secs(s.transitionDuration));
  if (d > longest.secs) longest = { secs: d, what: e.id || e.className || e.tagName };
}
return longest;
"#;

#[tokio::test(flavor = "multi_thread")]
async fn nothing_moves_when_reduced_motion_is_asked() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let b = &w.cust;
    let session = console.create_session().await;
    customer.join(&session.pin).await;
    customer.accept_terms().await;

    // The waiting room animates by default: the check below can see motion.
    let normal = b.eval(LONGEST_MOTION, vec![]).await;
    assert!(
        normal["secs"].as_f64().unwrap_or_default() > 0.1,
        "the waiting room should animate by default: {normal}"
    );

    b.cdp(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-reduced-motion", "value": "reduce" }] }),
    )
    .await;
    let reduced = b.eval(LONGEST_MOTION, vec![]).await;
    assert!(
        reduced["secs"].as_f64().unwrap_or(1.0) <= 0.001,
        "with reduced motion, {} still moves for {} s",
        reduced["what"],
        reduced["secs"]
    );

    // Sharing shows the pulsing indicator: still, too.
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    let request = console
        .request_permissions(&["view_screen"], "To see the screen")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    customer.wait_sharing("live").await;
    let sharing = b.eval(LONGEST_MOTION, vec![]).await;
    assert!(
        sharing["secs"].as_f64().unwrap_or(1.0) <= 0.001,
        "while sharing, {} still moves for {} s",
        sharing["what"],
        sharing["secs"]
    );

    w.close().await;
}
