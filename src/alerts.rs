//! Getting a person's attention when the page is not in front of them: whether the
//! page is hidden ([`use_page_hidden`]), notifications (shown only where the person
//! already allowed them; asked for only on a click, [`ask_notifications`]) and a short
//! tone ([`tone`]).

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};
use yew::prelude::*;

use crate::browser;

/// Whether the page is hidden (another tab, a minimised window).
pub fn page_hidden() -> bool {
    browser::document()
        .map(|d| d.visibility_state() == VisibilityState::Hidden)
        .unwrap_or(false)
}

/// [`page_hidden`], kept up to date.
#[hook]
pub fn use_page_hidden() -> bool {
    let hidden = use_state(page_hidden);
    {
        let hidden = hidden.clone();
        use_effect_with((), move |_| {
            let listener = browser::document().map(|document| {
                EventListener::new(&document, "visibilitychange", move |_| {
                    hidden.set(page_hidden())
                })
            });
            move || drop(listener)
        });
    }
    *hidden
}

/// Whether this browser has notifications at all.
pub fn notifications_supported() -> bool {
    browser::window()
        .and_then(|w| js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).ok())
        .unwrap_or(false)
}

/// The page's notification permission (`None`: no notifications in this browser).
pub fn notification_permission() -> Option<NotificationPermission> {
    notifications_supported().then(Notification::permission)
}

/// Asks the person to allow notifications (call on a click); whether they did.
pub async fn ask_notifications() -> bool {
    if !notifications_supported() {
        return false;
    }
    let Ok(promise) = Notification::request_permission() else {
        return false;
    };
    match JsFuture::from(promise).await {
        Ok(answer) => answer.as_string().as_deref() == Some("granted"),
        Err(_) => false,
    }
}

/// A notification, only where the page may already show them. One `tag` replaces the
/// last notification with the same tag instead of piling up.
pub fn notify(title: &str, body: &str, tag: &str) -> Option<Notification> {
    if notification_permission() != Some(NotificationPermission::Granted) {
        return None;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    Notification::new_with_options(title, &options).ok()
}

/// A short, soft two-note tone (nothing if the browser cannot play one).
pub fn tone() {
    let _ = play_tone();
}

fn play_tone() -> Result<(), JsValue> {
    let ctx = web_sys::AudioContext::new()?;
    let gain = ctx.create_gain()?;
    gain.gain().set_value(0.08);
    gain.connect_with_audio_node(&ctx.destination())?;
    let start = ctx.current_time();
    for (i, frequency) in [660.0_f32, 880.0].into_iter().enumerate() {
        let note = ctx.create_oscillator()?;
        note.frequency().set_value(frequency);
        note.connect_with_audio_node(&gain)?;
        let at = start + i as f64 * 0.15;
        note.start_with_when(at)?;
        note.stop_with_when(at + 0.12)?;
    }
    // The context goes once the notes are played.
    yew::platform::spawn_local(async move {
        yew::platform::time::sleep(std::time::Duration::from_millis(600)).await;
        let _ = ctx.close();
    });
    Ok(())
}
