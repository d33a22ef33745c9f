//! The console's parts in headless Chromium: the new session panel's PIN, countdown and
//! e-mail, and how it says the PIN is spent once the customer joined.
#![cfg(target_arch = "wasm32")]

mod common;

use std::rc::Rc;

use common::*;
use connectit::console::new_session::{NewSessionPanel, NewSessionProps};
use connectit_protocol::api::CreatedSession;
use connectit_protocol::{Phase, SessionId};
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew::scheduler::flush;

wasm_bindgen_test_configure!(run_in_browser);

fn created(expires_in_ms: f64) -> Rc<CreatedSession> {
    Rc::new(CreatedSession {
        id: SessionId("s1".into()),
        pin: "042917".into(),
        expires_at: (js_sys::Date::now() + expires_in_ms) as u64,
        link: "http://127.0.0.1:8080/#pin=042917".into(),
        email_subject: "Your remote support session".into(),
        email_body: "Open http://127.0.0.1:8080/#pin=042917 and enter 042917.".into(),
    })
}

async fn render(created: Rc<CreatedSession>, phase: Option<Phase>) -> web_sys::Element {
    let root = fresh_root();
    yew::Renderer::<NewSessionPanel>::with_root_and_props(
        root.clone(),
        NewSessionProps {
            created,
            phase,
            on_close: Callback::noop(),
        },
    )
    .render();
    flush().await;
    root
}

fn text(root: &web_sys::Element, selector: &str) -> String {
    get(root, selector).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_new_pin_shows_its_digits_countdown_link_and_email() {
    let root = render(created(20.0 * 60_000.0), Some(Phase::Created)).await;
    let pin = get(&root, "#new-pin");
    assert_eq!(pin.get_attribute("data-pin").as_deref(), Some("042917"));
    assert_eq!(
        text(&root, "#new-pin").replace(' ', ""),
        "042917",
        "leading zero kept"
    );
    let remaining = text(&root, "#new-pin-remaining");
    assert!(
        remaining.contains("20:00") || remaining.contains("19:5"),
        "{remaining}"
    );
    assert_eq!(
        get(&root, "#new-link").get_attribute("href").as_deref(),
        Some("http://127.0.0.1:8080/#pin=042917")
    );
    let email = value_of(&get(&root, "#new-email"));
    assert!(
        email.starts_with("Subject: Your remote support session"),
        "{email}"
    );
    assert!(email.contains("042917"));
}

#[wasm_bindgen_test]
async fn the_panel_says_when_the_pin_is_spent_or_expired() {
    let expired = render(created(-1000.0), Some(Phase::Created)).await;
    assert!(text(&expired, "#new-pin-remaining").contains("expired"));
    let used = render(created(20.0 * 60_000.0), Some(Phase::Waiting)).await;
    assert!(
        text(&used, "#new-pin-remaining").contains("used this PIN"),
        "{}",
        text(&used, "#new-pin-remaining")
    );
    let ended = render(created(20.0 * 60_000.0), Some(Phase::Ended)).await;
    assert!(text(&ended, "#new-pin-remaining").contains("ended"));
}
